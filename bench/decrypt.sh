#!/bin/sh
# Benchmark: `vhdunlock decrypt --format raw` of a 1 GiB BitLocker disk (a
# GPT disk whose one partition is a BitLocker XTS-AES-128 volume, 512-byte
# sectors, of an NTFS holding a 900 MiB random file) against, in one
# hyperfine run:
#   1. cat IMAGE > /dev/null                 (anchor: reading, no decryption)
#   2. cp IMAGE OUT                          (reading and writing a copy)
#   3. vhdunlock export IMAGE p1 - > /dev/null  (decryption, no writing)
#   4. vhdunlock decrypt IMAGE OUT --format raw --force
#   5. the same with --format vhd (the default)
# OUT lies in the same directory as IMAGE (/dev/shm, or $TMPDIR), so
# writing costs what it costs on that file system; it is removed before
# each run (--prepare) so that no run pays for truncating the last one.
# The page cache is warm for every command.  The decrypted copy is checked
# first: its partition must hold the plain NTFS, the rest must be the
# image's.
#   sh bench/decrypt.sh [BUILD_DIR]
# Needs hyperfine, sgdisk, mkntfs and ntfscp (ntfs-3g); BUILD_DIR holds
# vhdunlock and tests/tools/mkbitlk (make tests/tools/mkbitlk).
set -eu
build=${1:-.}
vu="$build/vhdunlock"
mk="$build/tests/tools/mkbitlk"
for f in "$vu" "$mk"; do
	[ -x "$f" ] || { echo "decrypt.sh: $f missing (make it first)" >&2; exit 1; }
done
for t in hyperfine sgdisk mkntfs ntfscp; do
	command -v "$t" >/dev/null || { echo "decrypt.sh: $t not found" >&2; exit 1; }
done
base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/var/tmp}
dir=$(mktemp -d "$base/vu-decrypt-bench.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
trap 'exit 130' INT TERM

# the plain volume: 1 GiB of NTFS with one 900 MiB incompressible file
truncate -s 1G "$dir/plain.ntfs"
mkntfs -F -Q -q "$dir/plain.ntfs" 2>/dev/null
head -c 900M /dev/urandom >"$dir/big.bin"
ntfscp "$dir/plain.ntfs" "$dir/big.bin" big.bin >/dev/null
rm -f "$dir/big.bin"
mkdir "$dir/bek"
"$mk" --method xts-128 --bek-dir "$dir/bek" \
	--recovery-password-file "$dir/rp.txt" "$dir/plain.ntfs" "$dir/bde.img" \
	>"$dir/mkbitlk.out"

# the disk: 1 MiB of GPT, the volume at LBA 2048, 1 MiB at the end
vsize=$(stat -c %s "$dir/bde.img")
truncate -s $((vsize + 2 * 1048576)) "$dir/disk.img"
sgdisk -o -n 1:2048:$((2048 + vsize / 512 - 1)) -t 1:0700 "$dir/disk.img" \
	>/dev/null
dd if="$dir/bde.img" of="$dir/disk.img" bs=1M seek=1 conv=notrunc status=none
rm -f "$dir/bde.img"
size=$(stat -c %s "$dir/disk.img")

# check: the copy's partition is the plain volume, the rest the image's
"$vu" decrypt "$dir/disk.img" "$dir/out.img" --bek "$dir/bek" --format raw \
	>"$dir/decrypt.out"
cmp -s -n "$vsize" -i 1048576:0 "$dir/out.img" "$dir/plain.ntfs" || {
	echo "decrypt.sh: the decrypted partition is not the plain volume" >&2
	exit 1
}
cmp -s -n 1048576 "$dir/out.img" "$dir/disk.img" &&
	cmp -s -i $((1048576 + vsize)) "$dir/out.img" "$dir/disk.img" || {
	echo "decrypt.sh: decrypt changed bytes outside the volume" >&2
	exit 1
}
rm -f "$dir/out.img" "$dir/plain.ntfs"

hyperfine --warmup 1 --runs 5 --export-markdown "$dir/result.md" \
	--export-csv "$dir/result.csv" \
	--prepare "rm -f $dir/out.img" \
	-n "cat image (anchor)" "cat $dir/disk.img > /dev/null" \
	-n "cp image out.img" "cp $dir/disk.img $dir/out.img" \
	-n "vhdunlock export p1 to /dev/null" \
	"$vu export $dir/disk.img p1 - --bek $dir/bek > /dev/null" \
	-n "vhdunlock decrypt --format raw" \
	"$vu decrypt $dir/disk.img $dir/out.img --bek $dir/bek --format raw > /dev/null" \
	-n "vhdunlock decrypt --format vhd" \
	"$vu decrypt $dir/disk.img $dir/out.img --bek $dir/bek --format vhd > /dev/null"
echo
cat "$dir/result.md"
echo
echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m); disk $size bytes" \
	"(BitLocker XTS-AES-128 partition of $vsize), page cache warm"
# MB/s of the disk from each mean, and its ratio to the anchor's
awk -F, -v size="$size" '
NR == 1 { next }
{
	name = $1; gsub(/"/, "", name); mean = $2
	if (NR == 2) anchor = mean
	printf "| %-34s | %8.0f MB/s | %5.2f x cat |\n", name, size / mean / 1e6, anchor / mean
}' "$dir/result.csv"
