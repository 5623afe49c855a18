#!/bin/sh
# BitLocker through the command line: every Windows-made image of
# testdata/ with every key it lists, given in every way CLI.md
# allows (--bek FILE, --bek DIR, --recovery-password-file, --password-file,
# "-" on standard input, VHDUNLOCK_RECOVERY_PASSWORD), decrypts to the
# SHA256SUM of images.conf (or, where that is empty, to a boot sector with
# the UUID given), bare and as a GPT partition inside a VHDX.  Keys that
# open nothing give exit status 3 naming the volume and its protectors; no
# secret ever reaches standard output or standard error.
. "$top_srcdir/tests/integration/lib.sh"
need jq sgdisk qemu-img sha256sum
cd "$work" || exit 1
unpack_fixture bitlocker-windows.tar.xz
dir=$(dirname "$(find . -name images.conf | head -n 1)")
conf="$dir/images.conf"
secrets=""

# check_output NAME IMAGE VOLUME SECTION KEYARGS...: export, compare
check_output() {
	name=$1 img=$2 vol=$3 sec=$4
	shift 4
	want=$(conf_get "$sec" SHA256SUM)
	rm -f out.img
	if ! "$VHDUNLOCK" export "$img" "$vol" out.img "$@" </dev/null >stdout 2>stderr; then
		fail "$name: export failed: $(cat stderr)"
		return
	fi
	if [ -n "$want" ]; then
		got=$(sha256sum out.img | cut -d' ' -f1)
		[ "$got" = "$want" ] && ok "$name: SHA-256 as images.conf" ||
			fail "$name: SHA-256 $got, expected $want"
	else
		uuid=$(conf_get "$sec" UUID)
		got=$("$VHDUNLOCK" info --json out.img | jq -r '.volumes[0].uuid')
		[ "$got" = "$uuid" ] && ok "$name: boot sector UUID $got as images.conf" ||
			fail "$name: UUID $got, expected $uuid"
	fi
	cat stdout stderr >> all-output
}

for sec in $(sed -n 's/^\[\(.*\)\]$/\1/p' "$conf"); do
	img="$dir/$sec.img"
	[ -f "$img" ] || { fail "$img listed in images.conf is missing"; continue; }
	pw=$(conf_get "$sec" PW) rp=$(conf_get "$sec" RP) sk=$(conf_get "$sec" SK_VMK_GUID)
	ck=$(conf_get "$sec" CLEARKEY_VMK_GUID)
	secrets="$secrets $pw $rp"
	if [ -n "$pw" ]; then
		printf '%s\n' "$pw" > pw.txt
		check_output "$sec password file" "$img" disk "$sec" --password-file pw.txt
		printf '%s\n' "$pw" | "$VHDUNLOCK" export "$img" disk - --password-file - 2>>all-output |
			sha256sum | grep -q "^$(conf_get "$sec" SHA256SUM)" &&
			ok "$sec: password on standard input" || {
			[ -z "$(conf_get "$sec" SHA256SUM)" ] || fail "$sec: password on standard input"; }
	fi
	if [ -n "$rp" ]; then
		printf '%s\n' "$rp" > rp.txt
		check_output "$sec recovery password" "$img" disk "$sec" --recovery-password-file rp.txt
		printf '%s' "$rp" | tr -d - > rp-nodash.txt
		check_output "$sec recovery password without dashes" "$img" disk "$sec" \
			--recovery-password-file rp-nodash.txt
		VHDUNLOCK_RECOVERY_PASSWORD=$rp check_output "$sec VHDUNLOCK_RECOVERY_PASSWORD" \
			"$img" disk "$sec"
	fi
	if [ -n "$sk" ]; then
		bek="$dir/$(printf '%s' "$sk" | tr a-f A-F).BEK"
		check_output "$sec .BEK file" "$img" disk "$sec" --bek "$bek"
		check_output "$sec .BEK directory" "$img" disk "$sec" --bek "$dir"
		# info names the startup key (the ADE secret) and what is inside
		"$VHDUNLOCK" info --json "$img" --bek "$dir" > info.json
		jq -e --arg g "$sk" '.volumes[0].bitlocker | (.protectors | map(select(.type == "startup key" and .guid == $g)) | length == 1) and .unlocked and .content.kind == "ntfs"' info.json >/dev/null &&
			ok "$sec: info lists startup key {$sk} and the NTFS inside" ||
			fail "$sec: info: $(jq -c '.volumes[0].bitlocker' info.json)"
	fi
	if [ -n "$ck" ]; then
		check_output "$sec clear key (no key needed)" "$img" disk "$sec"
	fi
	# info without keys: protectors and method, no key needed
	"$VHDUNLOCK" info --json "$img" > info.json 2>stderr &&
		jq -e --arg g "$(conf_get "$sec" GUID)" '.volumes[0].bitlocker.volume_guid == $g and (.volumes[0].bitlocker.protectors | length) > 0' info.json >/dev/null &&
		ok "$sec: info without keys shows volume GUID and protectors" ||
		fail "$sec: info without keys: $(cat stderr)"
done

# Every volume again as GPT partition 2 inside a VHDX, with one of its keys.
for sec in $(sed -n 's/^\[\(.*\)\]$/\1/p' "$conf"); do
	img="$dir/$sec.img"
	size=$(stat -c %s "$img")
	rm -f gpt.raw disk.vhdx
	truncate -s $((size + 4 * 1024 * 1024)) gpt.raw
	sgdisk -n 1:2048:+1M -t 1:ef00 -n 2:0:+$((size / 1024))K -t 2:0700 gpt.raw >/dev/null
	start=$(partx -g -o START -n 2 gpt.raw | tr -d ' ')
	dd if="$img" of=gpt.raw bs=512 seek="$start" conv=notrunc status=none
	qemu-img convert -f raw -O vhdx gpt.raw disk.vhdx
	rp=$(conf_get "$sec" RP)
	if [ -n "$rp" ]; then
		printf '%s\n' "$rp" > rp.txt
		check_output "$sec as GPT p2 inside a VHDX" disk.vhdx p2 "$sec" --recovery-password-file rp.txt
	else
		check_output "$sec as GPT p2 inside a VHDX" disk.vhdx p2 "$sec"
	fi
done
sec=bitlk-aes-xts-128-startup-key
img="$dir/$sec.img"
size=$(stat -c %s "$img")
rm -f gpt.raw disk.vhdx
truncate -s $((size + 4 * 1024 * 1024)) gpt.raw
sgdisk -n 1:2048:+1M -t 1:ef00 -n 2:0:+$((size / 1024))K -t 2:0700 gpt.raw >/dev/null
start=$(partx -g -o START -n 2 gpt.raw | tr -d ' ')
dd if="$img" of=gpt.raw bs=512 seek="$start" conv=notrunc status=none
qemu-img convert -f raw -O vhdx gpt.raw disk.vhdx
check_output "GPT p2 inside a VHDX, .BEK directory" disk.vhdx p2 "$sec" --bek "$dir"
"$VHDUNLOCK" info disk.vhdx --bek "$dir" > info.txt &&
	grep -q "^p2: BitLocker, aes-xts-128" info.txt && grep -q "key file $(conf_get "$sec" SK_VMK_GUID | tr a-f A-F).BEK" info.txt &&
	ok "info text names p2's method and key file" || fail "info text: $(cat info.txt)"

# Keys that open nothing: exit 3, the volume and its protectors named.
expect_locked() {
	name=$1 img=$2
	shift 2
	rm -f out.img
	"$VHDUNLOCK" export "$img" disk out.img "$@" </dev/null >/dev/null 2>stderr
	rc=$?
	cat stderr >> all-output
	if [ $rc -eq 3 ] && grep -q "disk: no key given unlocks" stderr && grep -q "protectors" stderr &&
		[ ! -e out.img ]; then
		ok "$name: exit 3: $(head -c 300 stderr)"
	else
		fail "$name: exit $rc: $(cat stderr)"
	fi
	rm -f out.img
}
sk=$(conf_get bitlk-aes-xts-128-startup-key SK_VMK_GUID)
expect_locked "BEK of another volume" "$dir/bitlk-aes-xts-128.img" --bek "$dir/$(printf %s "$sk" | tr a-f A-F).BEK"
grep -q "startup key {$sk} matches no protector" stderr || fail "BEK message lacks the startup key GUID"
printf '235818-357951-253979-013365-241120-245575-342914-591921\n' > wrong.txt
expect_locked "wrong recovery password" "$dir/bitlk-aes-xts-128.img" --recovery-password-file wrong.txt
printf '235818-357951-253979-013365-241120-245575-342914-591920\n' > badcheck.txt
expect_locked "recovery password with a bad check digit" "$dir/bitlk-aes-xts-128.img" --recovery-password-file badcheck.txt
grep -q "group 8 fails its check digit" stderr || fail "check digit message: $(cat stderr)"
head -c 60 "$dir/$(printf %s "$sk" | tr a-f A-F).BEK" > truncated.BEK
expect_locked "truncated BEK" "$dir/bitlk-aes-xts-128-startup-key.img" --bek truncated.BEK
printf 'wrong password\n' > wrongpw.txt
expect_locked "wrong password" "$dir/bitlk-aes-cbc-128.img" --password-file wrongpw.txt
secrets="$secrets 235818-357951-253979-013365-241120-245575-342914-591921"

# No key: the encrypted content is exported as it is, with a warning.
"$VHDUNLOCK" export "$dir/bitlk-aes-xts-128.img" disk out.img 2>stderr && cmp -s out.img "$dir/bitlk-aes-xts-128.img" &&
	grep -q "no key was given" stderr && ok "no key: encrypted content exported, with a warning" ||
	fail "no key: $(cat stderr)"
rm -f out.img

# "-" on a terminal: a prompt on it, echo off while the key is typed, the
# volume unlocked; the typed key is never shown (checked below too).
pty=$top_srcdir/tests/tools/pty-prompt.py
sec=bitlk-aes-xts-128
rp=$(conf_get "$sec" RP)
if [ -z "$rp" ]; then
	fail "$sec: no recovery password in images.conf for the prompt"
elif ! command -v python3 >/dev/null 2>&1; then
	fail "python3 missing: the terminal prompt is not tested"
else
	printf '%s\n' "$rp" > rp.txt
	python3 "$pty" "Recovery password: " rp.txt tty.out -- \
		"$VHDUNLOCK" info --json "$dir/$sec.img" --recovery-password-file -
	rc=$?
	cat tty.out >> all-output
	# the JSON document after the prompt line
	sed -n '/^{/,$p' tty.out | tr -d '\r' | jq -e '.volumes[0].bitlocker.unlocked' >/dev/null &&
		[ $rc -eq 0 ] && ok "$sec: recovery password asked on a terminal without echo, unlocked" ||
		fail "$sec: terminal prompt: status $rc: $(head -c 400 tty.out)"
	# a terminal with nothing typed: the prompt is answered by an empty line
	: > empty.txt
	python3 "$pty" "BitLocker password: " empty.txt tty.out -- \
		"$VHDUNLOCK" info "$dir/$sec.img" --password-file -
	rc=$?
	[ $rc -ne 0 ] && [ $rc -lt 100 ] && grep -q "is empty, expected a password" tty.out &&
		ok "empty password on the terminal: refused: $(grep -m1 empty tty.out | tr -d '\r')" ||
		fail "empty password on the terminal: status $rc: $(head -c 400 tty.out)"
fi

# Secrets never reach standard output or standard error.
for s in $secrets; do
	[ -n "$s" ] || continue
	if grep -qF -- "$s" all-output || grep -qF -- "$(printf %s "$s" | tr -d -)" all-output; then
		fail "a secret appeared in the output"
	fi
done
ok "no password or recovery password in any output ($(wc -c < all-output) bytes checked)"
finish
