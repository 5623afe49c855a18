#!/bin/sh
# Broken inputs end with exit status 1 and a message naming the file, the
# structure and what was wrong: never a crash, a hang or a write to the image.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/disks.sh"
need sgdisk partx qemu-img mkfs.ext4 sha256sum
gptedit="$top_builddir/tests/tools/gpt-edit"
need jq
cd "$work"
make_gpt_disk good.raw

# expect_fail NAME IMAGE PATTERN...: info and export both fail with exit 1,
# a message that contains the image's name and every pattern, no crash,
# and the image is unchanged.
expect_fail() {
	name=$1 img=$2
	shift 2
	before=$(sha256sum "$img" 2>/dev/null || echo none)
	for cmd in info export; do
		case $cmd in
		info) timeout 60 "$VHDUNLOCK" info "$img" >/dev/null 2>err ;;
		export) timeout 60 "$VHDUNLOCK" export "$img" p3 out.img >/dev/null 2>err ;;
		esac
		rc=$?
		if [ $rc -ne 1 ]; then
			fail "$name ($cmd): exit status $rc, expected 1: $(cat err)"
			continue
		fi
		for pat; do
			grep -qi -- "$pat" err || { fail "$name ($cmd): message lacks '$pat': $(cat err)"; continue 2; }
		done
		[ -e out.img ] && fail "$name ($cmd): left a partial output file"
		ok "$name ($cmd): $(head -n 3 err | tr '\n' ' ')"
	done
	after=$(sha256sum "$img" 2>/dev/null || echo none)
	[ "$before" = "$after" ] || fail "$name: the image was modified"
	rm -f out.img
}

# Truncated images.
to_container good.raw vhd-fixed fixed.vhd
head -c 40M fixed.vhd > trunc-fixed.vhd
expect_fail "truncated fixed VHD" trunc-fixed.vhd trunc-fixed.vhd "past the end"
to_container good.raw vhd-dynamic dyn.vhd
head -c $(( $(stat -c %s dyn.vhd) - 4096 )) dyn.vhd > trunc-dyn.vhd
expect_fail "truncated dynamic VHD" trunc-dyn.vhd trunc-dyn.vhd "footer" "truncated"
to_container good.raw vhdx good.vhdx
head -c 100000 good.vhdx > trunc-head.vhdx
expect_fail "VHDX cut inside its headers" trunc-head.vhdx trunc-head.vhdx "vhdx" "truncated"
head -c $(( $(stat -c %s good.vhdx) / 2 )) good.vhdx > trunc-data.vhdx
expect_fail "VHDX cut in its data" trunc-data.vhdx trunc-data.vhdx "vhdx"

# Bad VHD footer checksum: change the creator application field.
cp fixed.vhd badsum.vhd
size=$(stat -c %s badsum.vhd)
printf 'xxxx' | dd of=badsum.vhd bs=1 seek=$((size - 512 + 28)) conv=notrunc status=none
expect_fail "bad VHD footer checksum" badsum.vhd badsum.vhd "footer" "checksum" "expected"

# VHDX: both headers corrupt; one header corrupt still opens (warning).
cp good.vhdx badhead.vhdx
printf 'XXXX' | dd of=badhead.vhdx bs=1 seek=$((64 * 1024 + 100)) conv=notrunc status=none
if "$VHDUNLOCK" export badhead.vhdx p3 out.img 2>err && grep -q "header" err; then
	ok "VHDX with one damaged header opens with a warning: $(head -n1 err)"
else
	fail "VHDX with one damaged header: $(cat err)"
fi
rm -f out.img
printf 'XXXX' | dd of=badhead.vhdx bs=1 seek=$((128 * 1024 + 100)) conv=notrunc status=none
expect_fail "VHDX with both headers corrupt" badhead.vhdx badhead.vhdx "headers" "CRC-32C" "expected"
cp good.vhdx badregion.vhdx
printf 'XXXX' | dd of=badregion.vhdx bs=1 seek=$((192 * 1024 + 40)) conv=notrunc status=none
printf 'XXXX' | dd of=badregion.vhdx bs=1 seek=$((256 * 1024 + 40)) conv=notrunc status=none
expect_fail "VHDX with corrupt region tables" badregion.vhdx badregion.vhdx "region table" "expected"

# A VHDX whose log is not empty is read, with a warning.
cp good.vhdx dirtylog.vhdx
"$top_builddir/tests/tools/vhdx-setlog" dirtylog.vhdx
set -- $(part_range good.raw 3)
dd if=good.raw of=want bs=512 skip="$1" count="$2" status=none
if "$VHDUNLOCK" export dirtylog.vhdx p3 out.img 2>err && cmp -s want out.img &&
	grep -q "log is not empty" err && grep -q "may be missing" err; then
	ok "VHDX with a non-empty log: $(head -n1 err)"
else
	fail "VHDX with a non-empty log: $(cat err)"
fi
"$VHDUNLOCK" info --json dirtylog.vhdx 2>/dev/null | jq -e '.container.chain[0].log_not_empty' >/dev/null &&
	ok "info --json reports log_not_empty" || fail "info --json lacks log_not_empty"
rm -f out.img want

# GPT: primary header damaged -> backup used, said on stderr.
cp good.raw gptprimary.raw
printf 'XXXX' | dd of=gptprimary.raw bs=1 seek=$((512 + 24)) conv=notrunc status=none
if "$VHDUNLOCK" info gptprimary.raw >out.txt 2>err && grep -qi backup err; then
	ok "damaged primary GPT: backup used: $(head -n1 err)"
else
	fail "damaged primary GPT: $(cat err)"
fi
rm -f out.txt
# Both headers damaged.
cp gptprimary.raw gptboth.raw
size=$(stat -c %s gptboth.raw)
printf 'XXXX' | dd of=gptboth.raw bs=1 seek=$((size - 512 + 24)) conv=notrunc status=none
expect_fail "both GPT headers damaged" gptboth.raw gptboth.raw "gpt" "crc"
# Entry array CRC wrong in both copies.
cp good.raw gptarray.raw
printf 'X' | dd of=gptarray.raw bs=1 seek=$((1024 + 56)) conv=notrunc status=none
set -- $(partx -g -o NR,START good.raw | tail -n 1)
lastlba=$(( $(stat -c %s good.raw) / 512 - 1 ))
printf 'X' | dd of=gptarray.raw bs=1 seek=$(( (lastlba - 32) * 512 + 56 )) conv=notrunc status=none
expect_fail "GPT entry arrays with bad CRCs" gptarray.raw gptarray.raw "gpt" "crc"
# Entries past the end of the disk: a partition table with valid CRCs.
cp good.raw pastend.raw
"$gptedit" pastend.raw 6 120000 200000
expect_fail "GPT entry past the end of the disk" pastend.raw pastend.raw "gpt" "200000"
# Overlapping partitions with valid CRCs.
cp good.raw overlap.raw
set -- $(part_range good.raw 2)
"$gptedit" overlap.raw 3 $(($1 + 100)) $(($1 + 5000))
expect_fail "overlapping GPT partitions" overlap.raw overlap.raw "gpt" "overlap"

# Not images at all.
: > empty.vhd
expect_fail "zero-length file" empty.vhd empty.vhd "empty"
mkdir adir
expect_fail "a directory" adir adir "directory"
expect_fail "a missing file" missing.vhd missing.vhd "No such file"

finish
