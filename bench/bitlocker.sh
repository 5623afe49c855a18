#!/bin/sh
# Benchmark: reading a whole BitLocker XTS-AES-128 volume (1 GiB, 512-byte
# sectors, an NTFS file system holding one ~900 MB random file), unlocked with
# a startup key (.BEK), against the anchor of reading the encrypted image with
# cat, in one hyperfine run:
#   1. cat IMAGE                                  (anchor: no decryption)
#   2. vhdunlock export IMAGE disk - --bek DIR     (a thread per CPU)
#   3. vhdunlock export ... --threads 1             (the serial loop)
#   4. dislocker-fuse -f KEY.BEK, cat dislocker-file
#   5. bdemount -s KEY.BEK, cat bde1
# The FUSE mounts are made once before the run and removed after it: only
# the cat is timed.  Everything is on /dev/shm (or $TMPDIR) and read warm:
# the image is in the page cache for every command (dropping caches is not
# reliable here), so the figures are decryption and data-path costs, not
# disk speed.  Every reader's output is compared with the NTFS image first.
#   sh bench/bitlocker.sh [BUILD_DIR]
# Needs hyperfine, mkntfs and ntfscp (ntfs-3g), dislocker-fuse, bdemount
# (libbde-utils), fusermount3 and /dev/fuse (root or fuse group); a missing
# FUSE reader is left out of the run with a note.  BUILD_DIR holds vhdunlock
# and tests/tools/mkbitlk (make tests/tools/mkbitlk).
set -eu
build=${1:-.}
vu="$build/vhdunlock"
mk="$build/tests/tools/mkbitlk"
for f in "$vu" "$mk"; do
	[ -x "$f" ] || { echo "bitlocker.sh: $f missing (make it first)" >&2; exit 1; }
done
for t in hyperfine mkntfs ntfscp; do
	command -v "$t" >/dev/null || { echo "bitlocker.sh: $t not found" >&2; exit 1; }
done
base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/var/tmp}
dir=$(mktemp -d "$base/vu-bde-bench.XXXXXX")
mounts=
cleanup() {
	for m in $mounts; do fusermount3 -u "$m" 2>/dev/null || umount "$m" 2>/dev/null || :; done
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# the plain volume: 1 GiB of NTFS with one 900 MiB incompressible file
truncate -s 1G "$dir/plain.ntfs"
mkntfs -F -Q -q "$dir/plain.ntfs"
head -c 900M /dev/urandom >"$dir/big.bin"
ntfscp "$dir/plain.ntfs" "$dir/big.bin" big.bin >/dev/null
rm -f "$dir/big.bin"

# the BitLocker volume and its startup key
mkdir "$dir/bek"
"$mk" --method xts-128 --bek-dir "$dir/bek" \
	--recovery-password-file "$dir/rp.txt" "$dir/plain.ntfs" "$dir/bde.img" \
	>"$dir/mkbitlk.out"
bek=$(ls "$dir"/bek/*.BEK)
size=$(stat -c %s "$dir/bde.img")

# check ONE FILE: the reader's view must be the plain volume
check() {
	if ! cmp -s "$1" "$dir/plain.ntfs"; then
		echo "bitlocker.sh: $2 does not give the plain volume" >&2
		exit 1
	fi
}

for t in "" "--threads 1"; do
	"$vu" export "$dir/bde.img" disk - --bek "$dir/bek" $t >"$dir/out.img"
	check "$dir/out.img" "vhdunlock export $t"
	rm -f "$dir/out.img"
done
set -- -n "cat encrypted image (anchor)" "cat $dir/bde.img > /dev/null" \
	-n "vhdunlock export --bek" \
	"$vu export $dir/bde.img disk - --bek $dir/bek > /dev/null" \
	-n "vhdunlock export --threads 1" \
	"$vu export $dir/bde.img disk - --bek $dir/bek --threads 1 > /dev/null"

if command -v dislocker-fuse >/dev/null && [ -c /dev/fuse ]; then
	mkdir "$dir/dis"
	if dislocker-fuse -r -V "$dir/bde.img" -f "$bek" -- "$dir/dis" \
		>"$dir/dislocker.log" 2>&1; then
		mounts="$mounts $dir/dis"
		check "$dir/dis/dislocker-file" "dislocker-fuse"
		set -- "$@" -n "dislocker-fuse -f BEK + cat" \
			"cat $dir/dis/dislocker-file > /dev/null"
	else
		echo "note: dislocker-fuse did not mount: $(tail -n 2 "$dir/dislocker.log")" >&2
	fi
else
	echo "note: dislocker-fuse or /dev/fuse missing: left out" >&2
fi

if command -v bdemount >/dev/null && [ -c /dev/fuse ]; then
	mkdir "$dir/bde"
	if bdemount -s "$bek" "$dir/bde.img" "$dir/bde" >"$dir/bdemount.log" 2>&1; then
		mounts="$mounts $dir/bde"
		check "$dir/bde/bde1" "bdemount"
		set -- "$@" -n "bdemount -s BEK + cat" "cat $dir/bde/bde1 > /dev/null"
	else
		echo "note: bdemount did not mount: $(tail -n 2 "$dir/bdemount.log")" >&2
	fi
else
	echo "note: bdemount or /dev/fuse missing: left out" >&2
fi

hyperfine --warmup 1 --runs 5 --export-markdown "$dir/result.md" \
	--export-csv "$dir/result.csv" "$@"
echo
cat "$dir/result.md"
echo
echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m); volume $size bytes" \
	"(XTS-AES-128, 512-byte sectors), page cache warm for every command"
# MB/s from the mean, and each mean's ratio to the anchor's (1.00 = as
# fast as reading the encrypted image; below 1 slower)
awk -F, -v size="$size" '
NR == 1 { next }
{
	name = $1; gsub(/"/, "", name); mean = $2
	if (NR == 2) anchor = mean
	printf "| %-30s | %8.0f MB/s | %5.2f x cat |\n", name, size / mean / 1e6, anchor / mean
}' "$dir/result.csv"
