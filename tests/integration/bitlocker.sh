#!/bin/sh
# BitLocker volumes made by Windows (testdata/bitlocker-windows.tar.xz): every image, every
# key its images.conf section lists (password, recovery password, startup
# key .BEK, clear key) decrypts, through our parser and decryption layer
# (tests/tools/bde-decrypt), to the SHA-256 in images.conf, or where that is
# empty to a boot sector whose serial is the UUID blkid would print.
# Wrong keys, malformed recovery passwords and damaged metadata copies give
# the documented errors.  Independent oracles: cryptsetup bitlkDump (GUIDs,
# protectors, cipher), cryptsetup --test-passphrase (the same keys open),
# dislocker-file and bdemount (libbde) decrypt to the same bytes.
. "$top_srcdir/tests/integration/lib.sh"

dec="$top_builddir/tests/tools/bde-decrypt"
need tar xz sha256sum blkid od dd cmp
[ -x "$dec" ] || skip "$dec not built"

cd "$work" || exit 1
unpack_fixture bitlocker-windows.tar.xz
d="$work/bitlocker-windows"
conf="$d/images.conf"

# conf NAME KEY: the value of KEY in section [NAME]
conf() {
	awk -F= -v s="[$1]" -v k="$2" '
		/^\[/ { in_s = ($0 == s) }
		in_s && $1 == k { sub(/^[^=]*=/, ""); print; exit }' "$conf"
}
sections=$(sed -n 's/^\[\(.*\)\]$/\1/p' "$conf")
upper() { printf '%s' "$1" | tr a-f A-F; }

# serial_of FILE: the serial in the decrypted boot sector, as blkid prints
# it: NTFS 8 bytes at 0x48 (16 hex digits), FAT32 4 bytes at 0x43, FAT12/16
# 4 bytes at 0x27 (XXXX-XXXX)
hexle() { od -A n -t x1 -j "$2" -N "$3" "$1" | awk '{ for (i = NF; i > 0; i--) printf "%s", toupper($i); print "" }'; }
serial_of() {
	oem=$(dd if="$1" bs=1 skip=3 count=8 2>/dev/null)
	fat32=$(dd if="$1" bs=1 skip=82 count=5 2>/dev/null)
	if [ "$oem" = "NTFS    " ]; then
		hexle "$1" 72 8
	elif [ "$fat32" = FAT32 ]; then
		hexle "$1" 67 4 | sed 's/^..../&-/'
	else
		hexle "$1" 39 4 | sed 's/^..../&-/'
	fi
}

# check_volume NAME KEYDESC OUT: compare a decrypted volume with images.conf
check_volume() {
	want_sha=$(conf "$1" SHA256SUM)
	want_uuid=$(conf "$1" UUID)
	if [ -n "$want_sha" ]; then
		got=$(sha256sum < "$3" | cut -c1-64)
		if [ "$got" = "$want_sha" ]; then
			ok "$1 with $2: SHA-256 matches"
		else
			fail "$1 with $2: SHA-256 $got, expected $want_sha"
		fi
	fi
	got_uuid=$(serial_of "$3")
	if [ "$got_uuid" = "$want_uuid" ]; then
		ok "$1 with $2: boot sector serial $got_uuid"
	else
		fail "$1 with $2: boot sector serial '$got_uuid', expected $want_uuid"
	fi
	# blkid too, where it recognises the (wiped) file system
	b=$(blkid -p -o value -s UUID "$3" 2>/dev/null)
	[ -z "$b" ] || [ "$b" = "$want_uuid" ] || fail "$1 with $2: blkid says UUID $b"
}

# keys NAME: one "kind argument" line per key the section lists
keys() {
	v=$(conf "$1" PW); [ -n "$v" ] && echo "password $v"
	v=$(conf "$1" RP); [ -n "$v" ] && echo "recovery-password $v"
	v=$(conf "$1" SK_VMK_GUID); [ -n "$v" ] && echo "bek $d/$(upper "$v").BEK"
	v=$(conf "$1" CLEARKEY_VMK_GUID); [ -n "$v" ] && echo "clearkey -"
	# the partly encrypted volume also carries a clear key protector
	[ "$1" = bitlk-partially-encrypted-aes-cbc-128 ] && echo "clearkey -"
	return 0
}
# secret VALUE: write a password to a file and print its name (secrets
# never go on a command line)
secret() { printf '%s' "$1" > secret.txt; echo secret.txt; }
keyargs() {
	case $1 in
	clearkey) echo --clearkey ;;
	bek) echo "--bek $2" ;;
	*) echo "--$1-file $(secret "$2")" ;;
	esac
}

total=0
for n in $sections; do
	img="$d/$n.img"
	[ -f "$img" ] || { fail "$n: image missing"; continue; }

	# parser: GUID and every protector images.conf names
	"$dec" -q -i "$img" > info.txt 2> err.txt || { fail "$n: parse: $(cat err.txt)"; continue; }
	grep -qx "guid: $(conf "$n" GUID)" info.txt || fail "$n: volume GUID differs: $(grep '^guid' info.txt)"
	for k in PW_VMK_GUID:password RP_VMK_GUID:recovery\ password SK_VMK_GUID:startup\ key CLEARKEY_VMK_GUID:clear\ key; do
		g=$(conf "$n" "${k%%:*}")
		[ -n "$g" ] || continue
		grep -qx "protector: $g ${k#*:}" info.txt || fail "$n: no ${k#*:} protector $g"
	done

	keys "$n" > keys.txt
	[ -s keys.txt ] || fail "$n: no key listed"
	while read -r kind arg; do
		total=$((total + 1))
		# shellcheck disable=SC2046
		if "$dec" -q $(keyargs "$kind" "$arg") "$img" > out.img 2> err.txt; then
			check_volume "$n" "$kind" out.img
			# which protector opened it
			"$dec" -q -i $(keyargs "$kind" "$arg") "$img" | grep '^unlocked-by' > by.txt
			case $kind in
			password) want=$(conf "$n" PW_VMK_GUID); t="password" ;;
			recovery-password) want=$(conf "$n" RP_VMK_GUID); t="recovery password" ;;
			bek) want=$(conf "$n" SK_VMK_GUID); t="startup key" ;;
			*) want=$(conf "$n" CLEARKEY_VMK_GUID); t="clear key" ;;
			esac
			[ -z "$want" ] || grep -qx "unlocked-by: $t $want" by.txt ||
				fail "$n with $kind: opened by '$(cat by.txt)', expected $t $want"
		else
			fail "$n with $kind: $(cat err.txt)"
		fi
	done < keys.txt
done
[ "$total" -ge 15 ] || fail "only $total image/key pairs tried"

# ---- wrong keys and malformed passwords ----
xts="$d/bitlk-aes-xts-128.img"
bek="$d/$(upper "$(conf bitlk-aes-xts-128-startup-key SK_VMK_GUID)").BEK"
"$dec" -q --bek "$bek" "$xts" > /dev/null 2> err.txt; rc=$?
if [ $rc -eq 1 ] && grep -q "startup key {4381f759-c4f8-4de0-bb61-fc33a831bda5} matches no protector" err.txt &&
   grep -q "its protectors are: password {3e55195c-8811-4d9b-97b4-2b9e5f8f5384}, recovery password {64311dea-4587-4029-924a-ba299647998e}" err.txt; then
	ok "BEK of another volume: EPERM naming the protectors"
else
	fail "BEK of another volume: status $rc, $(cat err.txt)"
fi
rp=$(conf bitlk-aes-xts-128 RP)
# a well-formed recovery password of another volume
"$dec" -q --recovery-password-file "$(secret "$(conf bitlk-aes-cbc-128 RP)")" "$xts" > /dev/null 2> err.txt; rc=$?
[ $rc -eq 1 ] && grep -q "recovery password given matches no protector" err.txt &&
	ok "wrong recovery password: EPERM" || fail "wrong recovery password: status $rc, $(cat err.txt)"
# one digit changed: the check digit of group 2 fails before any stretch
bad=$(printf '%s' "$rp" | sed 's/^\(.......\)\(.\)/\1X/' | sed "s/X/$(( ($(printf '%s' "$rp" | cut -c8) + 1) % 10 ))/")
"$dec" -q --recovery-password-file "$(secret "$bad")" "$xts" > /dev/null 2> err.txt; rc=$?
[ $rc -eq 22 ] && grep -q "group 2 fails its check digit" err.txt &&
	ok "bad check digit: EINVAL naming group 2" || fail "bad check digit: status $rc, $(cat err.txt)"
"$dec" -q --recovery-password-file "$(secret "${rp%-*}")" "$xts" > /dev/null 2> err.txt; rc=$?
[ $rc -eq 22 ] && ok "short recovery password: EINVAL" || fail "short recovery password: status $rc, $(cat err.txt)"
"$dec" -q --recovery-password-file "$(secret "$(printf '%s' "$rp" | tr -d -)")" "$xts" | sha256sum | grep -q "^$(conf bitlk-aes-xts-128 SHA256SUM) " &&
	ok "recovery password without dashes" || fail "recovery password without dashes"
"$dec" -q --password-file "$(secret wrong)" "$xts" > /dev/null 2> err.txt; rc=$?
[ $rc -eq 1 ] && ok "wrong password: EPERM" || fail "wrong password: status $rc, $(cat err.txt)"
"$dec" -q --clearkey "$xts" > /dev/null 2> err.txt; rc=$?
[ $rc -eq 126 ] && grep -q "no clear key" err.txt && ok "no clear key: ENOKEY" || fail "no clear key: status $rc, $(cat err.txt)"
head -c 100 "$bek" > short.BEK
"$dec" -q --bek short.BEK "$d/bitlk-aes-xts-128-startup-key.img" > /dev/null 2> err.txt; rc=$?
[ $rc -eq 117 ] && grep -q "short.BEK: not a usable BitLocker startup key file: truncated" err.txt &&
	ok "truncated BEK: EUCLEAN naming the file" || fail "truncated BEK: status $rc, $(cat err.txt)"

# The Windows 11 layout (180 bytes: a volume GUID property after the key),
# made from the Windows 10 file of the corpus.
sk="$d/bitlk-aes-xts-128-startup-key.img"
m1=$("$dec" -q -i "$sk" | sed -n 's/^metadata-offset: //p' | head -1)
{
	printf '\264\000\000\000'; dd if="$bek" bs=1 skip=4 count=8 2>/dev/null
	printf '\264\000\000\000'; dd if="$bek" bs=1 skip=16 count=32 2>/dev/null
	printf '\204\000'; dd if="$bek" bs=1 skip=50 count=106 2>/dev/null
	printf '\030\000\031\000\027\000\001\000'
	dd if="$sk" bs=1 skip=$((m1 + 80)) count=16 2>/dev/null
} > win11.BEK
if [ "$(wc -c < win11.BEK)" -eq 180 ] && "$dec" -q --bek win11.BEK "$sk" | sha256sum | grep -q "^$(conf bitlk-aes-xts-128-startup-key SHA256SUM) "; then
	ok "Windows 11 BEK layout (180 bytes)"
else
	fail "Windows 11 BEK layout"
fi

# ---- damaged metadata copies ----
cbc="$d/bitlk-aes-cbc-128.img"
cbc_rp=$(conf bitlk-aes-cbc-128 RP)
cbc_sha=$(conf bitlk-aes-cbc-128 SHA256SUM)
offs=$("$dec" -q -i "$cbc" | sed -n 's/^metadata-offset: //p')
i=0
for off in $offs; do
	i=$((i + 1))
	cp --sparse=always "$cbc" damaged.img
	printf 'XXXXXXXX' | dd of=damaged.img bs=1 seek="$off" conv=notrunc 2>/dev/null
	got=$("$dec" --recovery-password-file "$(secret "$cbc_rp")" damaged.img 2> err.txt | sha256sum | cut -c1-64)
	if [ "$got" = "$cbc_sha" ]; then
		ok "metadata copy $i damaged: still decrypts"
	else
		fail "metadata copy $i damaged: $got $(cat err.txt)"
	fi
	grep -q "metadata copy $i at offset $off is damaged (no \"-FVE-FS-\" signature)" err.txt ||
		fail "metadata copy $i damaged: no warning naming it ($(cat err.txt))"
	rm -f damaged.img
done
cp --sparse=always "$cbc" damaged.img
for off in $offs; do
	printf 'XXXXXXXX' | dd of=damaged.img bs=1 seek="$off" conv=notrunc 2>/dev/null
done
"$dec" -q -i damaged.img > /dev/null 2> err.txt; rc=$?
[ $rc -eq 117 ] && grep -q "every metadata copy is damaged" err.txt &&
	ok "all metadata copies damaged: EUCLEAN" || fail "all copies damaged: status $rc, $(cat err.txt)"
# a flipped bit inside copy 1's entries is caught by its CRC-32
cp --sparse=always "$cbc" damaged.img
first=$(echo "$offs" | head -1)
printf 'Z' | dd of=damaged.img bs=1 seek=$((first + 300)) conv=notrunc 2>/dev/null
"$dec" -i damaged.img 2> err.txt | grep -q '^metadata-copy: 2$' && grep -q "CRC-32" err.txt &&
	ok "CRC-32 catches a changed entry" || fail "CRC-32 check: $(cat err.txt)"
rm -f damaged.img

# ---- independent oracles ----
if command -v cryptsetup > /dev/null 2>&1; then
	for n in $sections; do
		img="$d/$n.img"
		cryptsetup bitlkDump "$img" > dump.txt 2>&1 || { fail "$n: cryptsetup bitlkDump failed"; continue; }
		"$dec" -q -i "$img" > info.txt
		g=$(sed -n 's/^GUID: *//p' dump.txt | head -1 | tr -d '[:space:]')
		grep -qx "guid: $g" info.txt || fail "$n: cryptsetup says GUID $g"
		sed -n 's/^\tGUID: *//p' dump.txt | tr -d '\t ' | sort > cs.txt
		sed -n 's/^protector: \([^ ]*\) .*/\1/p' info.txt | sort > ours.txt
		cmp -s cs.txt ours.txt || fail "$n: protector GUIDs differ from cryptsetup's: $(tr '\n' ' ' < cs.txt)"
		mode=$(sed -n 's/^Cipher mode: *//p' dump.txt | tr -d '\t ')
		[ "$mode" = "$(conf "$n" CIPHER | sed 's/^aes-//')" ] || fail "$n: cryptsetup says cipher mode $mode"
		ss=$(sed -n 's/^Sector size: *\([0-9]*\).*/\1/p' dump.txt | tr -d '\t ')
		[ -z "$ss" ] || grep -qx "sector-size: $ss" info.txt || fail "$n: cryptsetup says sector size $ss"
	done
	ok "cryptsetup bitlkDump agrees on GUIDs, protectors, cipher and sector size"
	# the same keys open the same volumes
	printf '%s' "$rp" | cryptsetup open --type bitlk --test-passphrase --key-file=- "$xts" 2>/dev/null &&
		ok "cryptsetup accepts the recovery password" || fail "cryptsetup rejects the recovery password"
	cryptsetup open --type bitlk --test-passphrase --key-file "$bek" "$sk" 2>/dev/null &&
		ok "cryptsetup accepts the Windows 10 BEK" || fail "cryptsetup rejects the BEK"
	cryptsetup open --type bitlk --test-passphrase --key-file win11.BEK "$sk" 2>/dev/null &&
		ok "cryptsetup accepts the Windows 11 layout BEK" ||
		say "note: cryptsetup $(cryptsetup --version | cut -d' ' -f2) rejects the synthetic Windows 11 layout BEK"
else
	fail "cryptsetup not installed (an oracle this test needs)"
fi

# dislocker-file decrypts every image but the used-space-only one (its
# EOW information is wiped in the corpus; dislocker 0.7 gives up on it)
if command -v dislocker-file > /dev/null 2>&1; then
	for n in $sections; do
		[ "$n" = bitlk-partially-encrypted-aes-cbc-128 ] && continue
		img="$d/$n.img"
		r=$(conf "$n" RP)
		rm -f dis.img
		if [ -n "$r" ]; then
			dislocker-file -V "$img" -p"$r" dis.img > /dev/null 2>&1
		else
			dislocker-file -V "$img" -c dis.img > /dev/null 2>&1
		fi || { fail "$n: dislocker-file failed"; continue; }
		k=$(keys "$n" | head -1)
		# shellcheck disable=SC2046
		"$dec" -q $(keyargs ${k% *} ${k#* }) "$img" > out.img
		cmp -s dis.img out.img && ok "$n: dislocker-file agrees" || fail "$n: dislocker-file decrypts differently"
		rm -f dis.img out.img
	done
else
	fail "dislocker-file not installed (an oracle this test needs)"
fi

# bdemount (libbde 20190102) with the recovery password, where FUSE works;
# that libbde reads neither the clear-key-only volume (VMK entry version 3)
# nor used-space-only volumes.
if command -v bdemount > /dev/null 2>&1 && [ -w /dev/fuse ] && command -v fusermount > /dev/null 2>&1; then
	mkdir -p mnt
	for n in $sections; do
		case $n in bitlk-aes-xts-128-clearkey-only|bitlk-partially-encrypted-aes-cbc-128) continue ;; esac
		img="$d/$n.img"
		if timeout 60 bdemount -r "$(conf "$n" RP)" "$img" mnt > /dev/null 2>&1; then
			got=$(sha256sum < mnt/bde1 | cut -c1-64)
			fusermount -u mnt
			[ "$got" = "$(conf "$n" SHA256SUM)" ] && ok "$n: bdemount agrees" || fail "$n: bdemount reads $got"
		else
			fail "$n: bdemount failed"
		fi
	done
else
	say "note: bdemount or FUSE not usable here; libbde comparison not run"
fi

finish
