#!/bin/sh
# The README's quick start works: the demo disk's BitLocker volume opens
# with the .BEK kept beside it and with its recovery password, and the
# files inside are there (read by ntfs-3g's tools from the exported volume).
. "$top_srcdir/tests/integration/lib.sh"
need ntfsls ntfscat jq
demo="$top_srcdir/testdata/demo.vhd"
keys="$top_srcdir/testdata/demo-keys"
cd "$work"
sum=$(sha256sum "$demo")
"$VHDUNLOCK" info --json "$demo" --bek "$keys" > info.json || fail "info failed"
jq -e '.partition_table.type == "gpt" and (.volumes | map(.kind) == ["fat", "bitlocker"]) and .volumes[1].bitlocker.unlocked and .volumes[1].bitlocker.content.kind == "ntfs"' info.json >/dev/null &&
	ok "demo: GPT, EFI FAT and an unlocked BitLocker NTFS" || fail "demo info: $(jq -c . info.json)"
"$VHDUNLOCK" export "$demo" p2 p2.img --bek "$keys" || fail "export with the .BEK"
ntfsls p2.img > files.txt 2>err && grep -qx README.txt files.txt && grep -qx q3-report.txt files.txt &&
	ok "demo: files inside: $(tr '\n' ' ' < files.txt)" || fail "ntfsls: $(cat files.txt err)"
ntfscat p2.img README.txt | grep -q "lives inside BitLocker" && ok "demo: README.txt reads" ||
	fail "README.txt content"
"$VHDUNLOCK" export "$demo" p2 p2-rp.img --recovery-password-file "$top_srcdir/testdata/demo-recovery-password.txt" &&
	cmp -s p2.img p2-rp.img && ok "demo: the recovery password gives the same volume" ||
	fail "demo: recovery password"
[ "$(sha256sum "$demo")" = "$sum" ] || fail "the demo disk was modified"
finish
