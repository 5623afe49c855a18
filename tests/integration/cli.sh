#!/bin/sh
# The command line: --help, --version, usage errors (exit 2), export's
# refusal to overwrite files and the image, stdout output.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/disks.sh"
need sgdisk partx mkfs.ext4 jq
cd "$work"

"$VHDUNLOCK" --help > out && grep -q "^Usage: vhdunlock" out && grep -q export out &&
	ok "--help" || fail "--help"
"$VHDUNLOCK" --version > out && grep -Eq '^vhdunlock [0-9]+\.[0-9]+' out &&
	grep -q '^License GPLv2+' out &&
	ok "--version: $(head -n 2 out | tr '\n' ' ')" || fail "--version: $(cat out)"
grep -q 'GNU GENERAL PUBLIC LICENSE' "$top_srcdir/LICENSE" && grep -q 'Version 2' "$top_srcdir/LICENSE" &&
	ok "LICENSE: GPL version 2" || fail "LICENSE is not the GPL version 2"
usage() {
	"$VHDUNLOCK" "$@" >/dev/null 2>err
	rc=$?
	[ $rc -eq 2 ] && ok "usage error exits 2: $*: $(head -n1 err)" ||
		fail "'$*' exit $rc, expected 2"
}
usage
usage frobnicate
usage info
usage info a b
usage export a
usage info --no-such-option x

make_gpt_disk d.raw
set -- $(part_range d.raw 3)
dd if=d.raw of=want bs=512 skip="$1" count="$2" status=none
"$VHDUNLOCK" export d.raw p3 - > got && cmp -s want got && ok "export to stdout" ||
	fail "export to stdout"
echo keep > exists
"$VHDUNLOCK" export d.raw p3 exists 2>err
[ $? -eq 1 ] && grep -q "already exists" err && [ "$(cat exists)" = keep ] &&
	ok "export refuses to overwrite: $(cat err)" || fail "export overwrote a file"
"$VHDUNLOCK" export --force d.raw p3 exists && cmp -s want exists &&
	ok "export --force overwrites" || fail "export --force"
sum=$(sha256sum d.raw)
"$VHDUNLOCK" export --force d.raw p3 d.raw 2>err
[ $? -eq 1 ] && grep -q "image" err && [ "$(sha256sum d.raw)" = "$sum" ] &&
	ok "export refuses to write over the image: $(cat err)" || fail "export wrote over the image"
"$VHDUNLOCK" export d.raw p9 x 2>err
[ $? -eq 1 ] && grep -q "p9" err && grep -q "p1" err && [ ! -e x ] &&
	ok "unknown volume: $(cat err)" || fail "unknown volume: $(cat err)"
"$VHDUNLOCK" info d.raw > out && grep -q "^p3 .* ext4 " out && ok "info table" ||
	fail "info text: $(cat out)"
# A BitLocker boot sector ends in 55 AA too: Windows-made BitLocker volumes
# (testdata/bitlocker-windows.tar.xz) are bare volumes, not MBR disks.
mkdir bitlk && unpack_fixture bitlocker-windows.tar.xz -C bitlk
n=0
for img in $(find bitlk -name '*.img' | sort); do
	n=$((n + 1))
	got=$("$VHDUNLOCK" info --json "$img" | jq -r '.partition_table.type + " " + (.volumes | map(.id + ":" + .kind) | join(","))')
	[ "$got" = "none disk:bitlocker" ] && ok "$(basename "$img"): $got" ||
		fail "$(basename "$img"): $got"
done
[ "$n" -ge 8 ] || fail "only $n BitLocker images in testdata/bitlocker-windows.tar.xz"
# every long option a command's --help lists is in the man page
man_txt=$(sed 's/\\-/-/g' "$top_srcdir/man/vhdunlock.1")
missing=""
for c in info export ls cat extract mount keys audit; do
	for o in $("$VHDUNLOCK" $c --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
		printf '%s' "$man_txt" | grep -q -- "$o" || missing="$missing $c:$o"
	done
done
[ -z "$missing" ] && ok "every --help option is in the man page" ||
	fail "options missing from the man page:$missing"
finish
