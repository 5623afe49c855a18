#!/bin/sh
# Profile: where vhdunlock spends its time reading a BitLocker volume.
# Builds, on /dev/shm (or $TMPDIR), a 1200 MiB NTFS image holding one 1 GiB
# random file and a BitLocker XTS-AES-128 volume of it (512-byte sectors,
# startup key, tests/tools/mkbitlk), then records two profiles with
# `perf record -g`:
#   mount   the vhdunlock mount daemon (run with -f under perf) while cat
#           reads the 1 GiB file through it once (the daemon's work only:
#           cat itself is not recorded);
#   export  vhdunlock export IMAGE disk - --bek DIR > /dev/null.
# For each it prints the time taken, then the top 25 lines of
# `perf report --stdio --no-children --sort symbol` (flat: -g none) and the
# share of each object (--sort dso).  Both outputs are checked with cmp
# against what was written.  The image is in the page cache (tmpfs): the
# profiles show decryption and the data path, not disk waits.
#   sh bench/profile.sh [BUILD_DIR]
# Needs perf, mkntfs and ntfscp (ntfs-3g), fusermount3 and /dev/fuse.  When
# perf may not record (kernel.perf_event_paranoid) and this runs as root,
# the setting is lowered to -1 for the run and restored after it.
# PERF_KEEP=DIR copies the two perf.data files there for `perf report -i`.
set -eu
build=${1:-.}
vu=$(cd "$build" && pwd)/vhdunlock
mk=$(cd "$build" && pwd)/tests/tools/mkbitlk
for f in "$vu" "$mk"; do
	[ -x "$f" ] || { echo "profile.sh: $f missing (make it first)" >&2; exit 1; }
done
for t in perf mkntfs ntfscp fusermount3; do
	command -v "$t" >/dev/null || { echo "profile.sh: $t not found" >&2; exit 1; }
done
[ -c /dev/fuse ] || { echo "profile.sh: /dev/fuse missing" >&2; exit 1; }
base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/var/tmp}
dir=$(mktemp -d "$base/vu-profile.XXXXXX")
mnt="$dir/mnt"
perfpid=
paranoid=
mounted() { awk -v m="$1" '$2 == m { f = 1 } END { exit !f }' /proc/mounts; }
cleanup() {
	if mounted "$mnt"; then
		fusermount3 -u "$mnt" 2>/dev/null || umount "$mnt" 2>/dev/null || :
	fi
	# perf ends when the daemon does; stop it by its id if it has not
	if [ -n "$perfpid" ] && kill -0 "$perfpid" 2>/dev/null; then
		kill "$perfpid" 2>/dev/null || :
		wait "$perfpid" 2>/dev/null || :
	fi
	if [ -n "$paranoid" ]; then
		echo "$paranoid" >/proc/sys/kernel/perf_event_paranoid ||
			echo "profile.sh: could not restore perf_event_paranoid to $paranoid" >&2
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# can perf record here?  (as root, lower perf_event_paranoid if not)
if ! perf record -q -o "$dir/probe.data" -- true >"$dir/probe.log" 2>&1; then
	if [ "$(id -u)" = 0 ]; then
		paranoid=$(cat /proc/sys/kernel/perf_event_paranoid)
		echo -1 >/proc/sys/kernel/perf_event_paranoid
		echo "note: perf_event_paranoid lowered from $paranoid to -1 for the run" >&2
	fi
	if ! perf record -q -o "$dir/probe.data" -- true >"$dir/probe.log" 2>&1; then
		echo "profile.sh: perf cannot record: $(tail -n 2 "$dir/probe.log")" >&2
		exit 1
	fi
fi
rm -f "$dir/probe.data"

# the plain volume: NTFS holding one 1 GiB incompressible file
head -c 1G /dev/urandom >"$dir/big.bin"
truncate -s 1200M "$dir/plain.ntfs"
mkntfs -F -Q -q "$dir/plain.ntfs" >/dev/null 2>&1
ntfscp "$dir/plain.ntfs" "$dir/big.bin" big.bin >/dev/null
# the BitLocker volume and its startup key
mkdir "$dir/bek" "$mnt"
"$mk" --method xts-128 --bek-dir "$dir/bek" \
	--recovery-password-file "$dir/rp.txt" "$dir/plain.ntfs" "$dir/bde.img" \
	>"$dir/mkbitlk.out"
fsize=$(stat -c %s "$dir/big.bin")
vsize=$(stat -c %s "$dir/bde.img")

now() { date +%s.%N; }
# rate WHAT BYTES START END: the time and MB/s of one step
rate() {
	awk -v w="$1" -v b="$2" -v s="$3" -v e="$4" \
		'BEGIN { printf "%s: %.3f s, %.0f MB/s\n", w, e - s, b / (e - s) / 1e6 }'
}
# report DATA: the top symbols, then the share of each object
report() {
	echo "-- top 25 symbols (perf report --stdio --no-children --sort symbol;" \
		"bare addresses are in stripped libraries, see --sort dso)"
	perf report -i "$1" --stdio --no-children --sort symbol -g none \
		2>/dev/null | grep -v '^#' | grep -v '^ *$' | head -n 25
	echo "-- by object (--sort dso)"
	perf report -i "$1" --stdio --no-children --sort dso -g none \
		2>/dev/null | grep -v '^#' | grep -v '^ *$' | head -n 10
	echo
}

echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r), perf $(perf --version | awk '{ print $3 }');" \
	"volume $vsize bytes (XTS-AES-128, 512-byte sectors), file $fsize bytes, image in page cache"
echo

# ---- the mount daemon, in the foreground under perf ----
perf record -q -g -o "$dir/mount.data" -- \
	"$vu" mount -f "$dir/bde.img" "$mnt" --bek "$dir/bek" \
	>"$dir/mount.log" 2>&1 &
perfpid=$!
i=0
until mounted "$mnt"; do
	i=$((i + 1))
	if [ "$i" -gt 300 ] || ! kill -0 "$perfpid" 2>/dev/null; then
		echo "profile.sh: the mount did not come up: $(tail -n 3 "$dir/mount.log")" >&2
		exit 1
	fi
	sleep 0.1
done
[ -f "$mnt/disk/big.bin" ] || {
	echo "profile.sh: $mnt/disk/big.bin missing (no NTFS reader in this build?)" >&2
	exit 1
}
s=$(now)
cat "$mnt/disk/big.bin" >/dev/null
e=$(now)
# (served from the page cache the cat filled: keep_cache)
cmp -s "$mnt/disk/big.bin" "$dir/big.bin" ||
	{ echo "profile.sh: the mount does not read the file as written" >&2; exit 1; }
fusermount3 -u "$mnt"
wait "$perfpid" || { echo "profile.sh: perf or the daemon failed: $(tail -n 3 "$dir/mount.log")" >&2; exit 1; }
perfpid=
echo "== mount: cat of the 1 GiB file through vhdunlock mount (daemon profiled)"
rate "cat" "$fsize" "$s" "$e"
report "$dir/mount.data"

# ---- export ----
"$vu" export "$dir/bde.img" disk - --bek "$dir/bek" | cmp -s - "$dir/plain.ntfs" ||
	{ echo "profile.sh: vhdunlock export does not give the plain volume" >&2; exit 1; }
s=$(now)
perf record -q -g -o "$dir/export.data" -- \
	"$vu" export "$dir/bde.img" disk - --bek "$dir/bek" >/dev/null
e=$(now)
echo "== export: vhdunlock export IMAGE disk - --bek DIR > /dev/null (profiled)"
rate "export (under perf)" "$vsize" "$s" "$e"
report "$dir/export.data"

if [ -n "${PERF_KEEP:-}" ]; then
	mkdir -p "$PERF_KEEP"
	cp "$dir/mount.data" "$dir/export.data" "$PERF_KEEP/"
	echo "perf data kept in $PERF_KEEP (mount.data, export.data)"
fi
