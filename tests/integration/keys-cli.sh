#!/bin/sh
# vhdunlock keys: which key opens which volume, and --save.  Over the
# volumes of testdata/ (made by Windows and cryptsetup, not by us):
# every BitLocker image with a startup key names that protector (as
# images.conf lists it) and --save writes <GUID>.BEK equal, byte for byte,
# to the .BEK file Windows wrote, mode 0600; a recovery password or a clear
# key opens the volume but leaves nothing to save; every LUKS1 image names
# the key slot cryptsetup reports active, and --save writes <UUID>.key equal
# to the key file.  An existing file with other content is never
# overwritten; no key gives exit status 3; no key reaches standard output.
. "$top_srcdir/tests/integration/lib.sh"
need jq cryptsetup cmp stat
cd "$work" || exit 1
unpack_fixture bitlocker-windows.tar.xz
unpack_fixture luks1-images.tar.xz
dir=$(dirname "$(find . -name images.conf | head -n 1)")
conf="$dir/images.conf"
nsk=0
for sec in $(sed -n 's/^\[\(.*\)\]$/\1/p' "$conf"); do
	img="$dir/$sec.img"
	sk=$(conf_get "$sec" SK_VMK_GUID) rp=$(conf_get "$sec" RP) ck=$(conf_get "$sec" CLEARKEY_VMK_GUID)
	# images.conf does not list every clear key (the partly encrypted
	# volume has one): the protectors as info reads them decide
	"$VHDUNLOCK" info --json "$img" > info.json 2>err || fail "$sec: info: $(cat err)"
	[ -s info.json ] && jq -e '.volumes[0].bitlocker.protectors | map(.type) | index("clear key")' info.json >/dev/null &&
		ck=yes
	if [ -n "$sk" ]; then
		nsk=$((nsk + 1))
		name=$(printf '%s' "$sk" | tr a-f A-F).BEK
		rm -rf saved
		if vu 0 "$sec: keys --bek DIR --save" keys "$img" --bek "$dir" --save saved --json; then
			[ -s out ] && jq -e --arg g "$sk" --arg f "saved/$name" '.volumes | length == 1 and
				(.[0] | .unlocked and .key.type == "startup key" and .key.protector == $g and .saved == $f)' \
				out >/dev/null && ok "$sec: the startup key opens protector {$sk}" ||
				fail "$sec: keys --json: $(cat out)"
			cmp -s "saved/$name" "$dir/$name" && [ "$(stat -c %a "saved/$name")" = 600 ] &&
				[ "$(stat -c %a saved)" = 700 ] &&
				ok "$sec: --save wrote $name as Windows wrote it, mode 0600 (directory 0700)" ||
				fail "$sec: saved $name differs or mode $(stat -c %a "saved/$name" 2>&1)"
		fi
		# saving again: the same bytes are there, nothing to do
		vu 0 "$sec: --save again" keys "$img" --bek "$dir/$name" --save saved &&
			grep -q "saved as saved/$name" out && ok "$sec: --save again keeps the same file"
		# another key in its place is not overwritten
		printf 'not a key' > "saved/$name"
		vu 1 "$sec: --save over another file" keys "$img" --bek "$dir/$name" --save saved &&
			grep -q "saved/$name exists and holds something else; not overwritten" err &&
			[ "$(cat "saved/$name")" = "not a key" ] && ok "$sec: a different file is not overwritten: $(cat err)"
	fi
	if [ -n "$rp" ]; then
		printf '%s\n' "$rp" > rp.txt
		rm -rf saved
		vu 0 "$sec: keys --recovery-password-file" keys "$img" --recovery-password-file rp.txt --save saved &&
			grep -q "^disk *bitlocker *recovery password {" out && grep -q "not saved: opened with a recovery password" out &&
			[ -z "$(ls saved)" ] && ok "$sec: a recovery password opens it, nothing to save"
	fi
	if [ -n "$ck" ]; then
		vu 0 "$sec: keys without a key" keys "$img" --json &&
			jq -e '.volumes[0] | .unlocked and .key.type == "clear key" and .saved == null' out >/dev/null &&
			ok "$sec: clear key: open without a key, nothing to save"
	fi
	if [ -z "$ck" ]; then
		vu 3 "$sec: keys without a key" keys "$img" &&
			grep -q "^disk *bitlocker *locked" out && grep -q "no key given unlocks this BitLocker volume" err &&
			ok "$sec: no key: exit 3: $(cat err)"
	fi
done
[ "$nsk" -gt 0 ] || fail "no image with a startup key in images.conf"

kf=$(find . -name keyfile1 | head -n 1)
for img in $(find . -name 'luks1_*.img' | sort); do
	n=$(basename "$img")
	uuid=$(cryptsetup luksUUID "$img")
	slot=$(cryptsetup luksDump "$img" | sed -n 's/^Key Slot \([0-7]\): ENABLED$/\1/p')
	rm -rf saved
	vu 0 "$n: keys --key-file --save" keys "$img" --key-file "$kf" --save saved --json || continue
	jq -e --arg s "$slot" --arg f "saved/$uuid.key" '.volumes[0] | .unlocked and .kind == "luks1" and
		.key.type == "key file" and (.key.keyslot | tostring) == $s and .saved == $f' out >/dev/null &&
		ok "$n: the key file opens key slot $slot (as cryptsetup reports it)" || fail "$n: keys --json: $(cat out)"
	cmp -s "saved/$uuid.key" "$kf" && [ "$(stat -c %a "saved/$uuid.key")" = 600 ] &&
		ok "$n: --save wrote $uuid.key, the key file byte for byte, mode 0600" ||
		fail "$n: saved key differs"
done

# no key material in anything printed (compared as hex: the keys are binary)
hex() { od -An -v -tx1 | tr -d ' \n'; }
hex < all-output > all-output.hex
for f in $(find . -name '*.BEK') "$kf"; do
	grep -qF "$(tail -c 32 "$f" | head -c 16 | hex)" all-output.hex && fail "$f appeared in the output"
done
for s in $(sed -n 's/^\(RP\|PW\)=//p' "$conf"); do
	grep -qF -- "$s" all-output && fail "a password from images.conf appeared in the output"
done
finish
