#!/bin/sh
# Benchmark: vhdunlock export of md arrays (three 400 MiB members, 512 KiB
# chunks, metadata 1.2, as mdadm makes by default) against export of a
# plain image of the same size and against `cat` of that image, in one
# hyperfine run, warm cache: RAID0, RAID5 (left-symmetric) and RAID5 with
# one member missing (every third chunk rebuilt by XOR from the other two).
# The arrays are written by tests/tools/mkmd.py.
#   sh bench/md-raid.sh [BUILD_DIR]
# Needs hyperfine, python3, openssl; about 3.2 GiB under $TMPDIR (default
# /var/tmp).
set -eu
build=$(cd "${1:-.}" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
vu=$build/vhdunlock
mkmd="python3 $src/tests/tools/mkmd.py"
[ -x "$vu" ] || { echo "md-raid.sh: $vu missing (make it first)" >&2; exit 1; }
dir=$(mktemp -d "${TMPDIR:-/var/tmp}/vu-md-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
m=$((400 << 20))
r0=$($mkmd size --level 0 --raid-devices 3 --member-size $m --metadata 1.2)
r5=$($mkmd size --level 5 --raid-devices 3 --member-size $m --metadata 1.2)
# random content, so that every byte read is a real one
openssl enc -aes-128-ctr -pass pass:md -nosalt -pbkdf2 </dev/zero 2>/dev/null |
	head -c "$r0" > "$dir/data"
head -c "$r5" "$dir/data" > "$dir/plain5"
for l in 0 5; do
	for i in 1 2 3; do rm -f "$dir/r$l-$i"; truncate -s $m "$dir/r$l-$i"; done
	d="$dir/data"; [ $l = 0 ] || d="$dir/plain5"
	$mkmd create --level $l --metadata 1.2 --name r$l \
		--uuid "$(cat /proc/sys/kernel/random/uuid)" --data "$d" \
		"$dir/r$l-1" "$dir/r$l-2" "$dir/r$l-3"
done
echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r), arrays of" \
	"$((r0 >> 20)) MiB (raid0) and $((r5 >> 20)) MiB (raid5)"
hyperfine --style basic --warmup 2 --runs 10 --export-markdown "$dir/r.md" \
	-n "cat, plain image ($((r5 >> 20)) MiB)" "cat $dir/plain5 > /dev/null" \
	-n "export, plain image ($((r5 >> 20)) MiB)" "$vu export $dir/plain5 disk - > /dev/null" \
	-n "export, raid0 ($((r0 >> 20)) MiB)" "$vu export $dir/r0-1 md-r0 - --add-disk $dir/r0-2 --add-disk $dir/r0-3 > /dev/null" \
	-n "export, raid5 ($((r5 >> 20)) MiB)" "$vu export $dir/r5-1 md-r5 - --add-disk $dir/r5-2 --add-disk $dir/r5-3 > /dev/null" \
	-n "export, raid5 missing one ($((r5 >> 20)) MiB)" "$vu export $dir/r5-1 md-r5 - --add-disk $dir/r5-3 2>/dev/null > /dev/null" >&2
cat "$dir/r.md"
