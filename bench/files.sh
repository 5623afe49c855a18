#!/bin/sh
# Benchmark: reading files through `vhdunlock mount` against the kernel's
# and ntfs-3g's drivers and the anchor of reading the image file with cat.
#   ntfs  a 1 GiB random file in NTFS: vhdunlock mount of the BitLocker
#         (XTS-AES-128, .BEK) volume; ntfs-3g -o ro on the plain NTFS
#         image; dislocker-fuse -f BEK + ntfs-3g -o ro on its
#         dislocker-file; cat of the BitLocker image (anchor).
#   ext   the same file in ext4 (mkfs.ext4 -d) and XFS (mkfs.xfs -p):
#         vhdunlock mount of the image; vhdunlock mount of the ext4 as
#         LUKS2 (cryptsetup reencrypt, detached header); the kernel's
#         driver on a loop device (mount -o ro,loop); cat of each image.
#   ls    ls -l of a directory of 20,000 files: NTFS through vhdunlock
#         (BitLocker) and ntfs-3g, ext4 through vhdunlock and the kernel.
# Each set runs twice: "cold" (hyperfine --prepare 'sync; echo 3 >
# /proc/sys/vm/drop_caches' before every run: page cache, dentries and
# inodes dropped, FUSE's cached pages and entries with them; the host may
# still cache the virtual disk, hence cold-ish) and "warm" (--warmup 1).
# Mounts are made before the timed runs: only cat or ls is timed.  Every
# reader's file is compared with the source first.  The images go under
# $TMPDIR (default /var/tmp), on a disk, not tmpfs, so that dropping caches
# means something; about 7 GB.
#   sh bench/files.sh [BUILD_DIR [ntfs] [ext] [ls]]     (default: all three)
# Needs root (drop_caches, ntfs-3g and loop mounts), /dev/fuse, hyperfine,
# mkntfs + ntfs-3g, mkfs.ext4, mkfs.xfs, openssl; dislocker-fuse and
# cryptsetup where present (their rows are left out with a note otherwise).
# BUILD_DIR holds vhdunlock and tests/tools/mkbitlk (make tests/tools/mkbitlk).
set -eu
build=${1:-.}
[ $# -gt 0 ] && shift
parts=${*:-ntfs ext ls}
vu=$(cd "$build" && pwd)/vhdunlock
mk=$(cd "$build" && pwd)/tests/tools/mkbitlk
for f in "$vu" "$mk"; do
	[ -x "$f" ] || { echo "files.sh: $f missing (make it first)" >&2; exit 1; }
done
for t in hyperfine jq mkntfs ntfs-3g mkfs.ext4 mkfs.xfs openssl fusermount3; do
	command -v "$t" >/dev/null || { echo "files.sh: $t not found" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "files.sh: run as root (drop_caches, mounts)" >&2; exit 1; }
[ -c /dev/fuse ] || { echo "files.sh: /dev/fuse missing" >&2; exit 1; }
COLD_RUNS=${COLD_RUNS:-3} WARM_RUNS=${WARM_RUNS:-5}
dir=$(mktemp -d "${TMPDIR:-/var/tmp}/vu-files-bench.XXXXXX")
mounts=
note() { echo "note: $*" >&2; }
mounted() { awk -v m="$1" '$2 == m { f = 1 } END { exit !f }' /proc/mounts; }
# mounts in the order made; undone in reverse (ntfs-3g over dislocker-file)
push_mount() { mounts="$1 $mounts"; }
cleanup() {
	for m in $mounts; do
		mounted "$m" || continue
		fusermount3 -u "$m" 2>/dev/null || umount "$m" 2>/dev/null || umount -l "$m" || :
	done
	sleep 1
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
wait_mounted() {
	for _ in $(seq 100); do mounted "$1" && return 0; sleep 0.1; done
	return 1
}
size_of() { stat -c %s "$1"; }
random() { openssl enc -aes-128-ctr -pass "pass:$2" -nosalt </dev/zero 2>/dev/null | head -c "$1"; }
same() { # same FILE WHAT: FILE must be the source file
	if cmp -s "$1" "$dir/src/big.bin"; then return 0; fi
	echo "files.sh: $2 does not read the file as written" >&2
	exit 1
}

# ---- the source: a 1 GiB random file and 20,000 small files ----
mkdir -p "$dir/src/many" "$dir/m"
random 1G big > "$dir/src/big.bin"
(cd "$dir/src/many" && seq -f 'f%05g' 20000 | xargs touch &&
	for i in 00001 10000 20000; do echo "file $i" > "f$i"; done)
fsize=$(size_of "$dir/src/big.bin")

# The table: one line per command, "name<TAB>bytes<TAB>command"
: > "$dir/cmds"
row() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$dir/cmds"; }
# hf TITLE cold|warm: hyperfine over the rows, then MB/s and the ratio of
# each command's MB/s to the first row's (the anchor)
hf() {
	title=$1 how=$2
	set --
	while IFS="$(printf '\t')" read -r name bytes cmd; do
		set -- "$@" -n "$name" "$cmd"
	done < "$dir/cmds"
	if [ "$how" = cold ]; then
		set -- --runs "$COLD_RUNS" --prepare 'sync; echo 3 > /proc/sys/vm/drop_caches' "$@"
	else
		set -- --warmup 1 --runs "$WARM_RUNS" "$@"
	fi
	echo "== $title, $how"
	hyperfine --style basic --export-json "$dir/r.json" "$@" >&2
	echo "| Command | Mean [ms] | MB/s | vs anchor |"
	echo "|:--|--:|--:|--:|"
	jq -r '.results[] | [.command, .mean, .stddev] | @tsv' "$dir/r.json" |
		paste - "$dir/cmds" | awk -F'\t' '
		{
			mbs = $5 / $2 / 1e6
			if (NR == 1) anchor = mbs
			printf "| %s | %.0f ± %.0f | %s | %.2f |\n", $1, $2 * 1000, $3 * 1000,
				$5 == 1 ? "-" : sprintf("%.0f", mbs), mbs / anchor
		}'
	echo
}
both() { hf "$1" cold; hf "$1" warm; : > "$dir/cmds"; }
echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r), images in $dir ($(df --output=fstype "$dir" | tail -n 1))"
echo

# ---- NTFS: BitLocker through vhdunlock; plain through ntfs-3g ----
ntfs_ready=
if case " $parts " in *" ntfs "*|*" ls "*) true ;; *) false ;; esac; then
	truncate -s 1200M "$dir/plain.ntfs"
	mkntfs -F -Q -q -L Windows "$dir/plain.ntfs" >/dev/null 2>&1
	mkdir "$dir/m/fill"
	ntfs-3g -o big_writes,no_detach "$dir/plain.ntfs" "$dir/m/fill" >/dev/null 2>&1 &
	pid=$!
	wait_mounted "$dir/m/fill"
	cp -r "$dir/src/." "$dir/m/fill/"
	umount "$dir/m/fill"
	wait "$pid"
	mkdir "$dir/bek"
	"$mk" --method xts-128 --bek-dir "$dir/bek" --recovery-password-file "$dir/rp.txt" \
		"$dir/plain.ntfs" "$dir/bl.img" > "$dir/mkbitlk.out"
	bek=$(ls "$dir"/bek/*.BEK)
	mkdir "$dir/m/vu" "$dir/m/n3g"
	"$vu" mount "$dir/bl.img" "$dir/m/vu" --bek "$dir/bek" 2>"$dir/vu.err" || {
		cat "$dir/vu.err" >&2; exit 1; }
	push_mount "$dir/m/vu"
	ntfs-3g -o ro "$dir/plain.ntfs" "$dir/m/n3g"
	push_mount "$dir/m/n3g"
	if [ -d "$dir/m/vu/disk" ]; then
		ntfs_ready=yes
	else
		note "vhdunlock does not show the NTFS files (no NTFS reader in this build?): $(cat "$dir/vu.err"); its NTFS rows are left out"
	fi
	dis=
	if command -v dislocker-fuse >/dev/null; then
		mkdir "$dir/m/dis" "$dir/m/disntfs"
		if dislocker-fuse -r -V "$dir/bl.img" -f "$bek" -- "$dir/m/dis" >"$dir/dislocker.log" 2>&1; then
			push_mount "$dir/m/dis"
			if ntfs-3g -o ro "$dir/m/dis/dislocker-file" "$dir/m/disntfs" 2>"$dir/n3g.log"; then
				push_mount "$dir/m/disntfs"
				dis=yes
			else
				note "ntfs-3g on dislocker-file did not mount: $(cat "$dir/n3g.log")"
			fi
		else
			note "dislocker-fuse did not mount: $(tail -n 2 "$dir/dislocker.log")"
		fi
	else
		note "dislocker-fuse not installed: left out"
	fi
fi
if case " $parts " in *" ntfs "*) true ;; *) false ;; esac; then
	same "$dir/m/n3g/big.bin" "ntfs-3g"
	row "cat BitLocker image (anchor)" "$(size_of "$dir/bl.img")" "cat $dir/bl.img"
	if [ -n "$ntfs_ready" ]; then
		same "$dir/m/vu/disk/big.bin" "vhdunlock mount"
		row "vhdunlock mount, BitLocker NTFS" "$fsize" "cat $dir/m/vu/disk/big.bin"
	fi
	row "ntfs-3g -o ro, plain NTFS image" "$fsize" "cat $dir/m/n3g/big.bin"
	if [ -n "$dis" ]; then
		same "$dir/m/disntfs/big.bin" "dislocker-fuse + ntfs-3g"
		row "dislocker-fuse + ntfs-3g -o ro" "$fsize" "cat $dir/m/disntfs/big.bin"
	fi
	both "NTFS: cat of a 1 GiB file"
fi

# ---- ext4 and XFS: vhdunlock against the kernel on a loop device ----
ext_ready=
if case " $parts " in *" ext "*|*" ls "*) true ;; *) false ;; esac; then
	mkfs.ext4 -q -F -L bench -N 30000 -d "$dir/src" "$dir/ext4.img" 1200M >/dev/null
	mkdir "$dir/m/vuext" "$dir/m/kext"
	"$vu" mount "$dir/ext4.img" "$dir/m/vuext"
	push_mount "$dir/m/vuext"
	loop=
	if mount -o ro,loop "$dir/ext4.img" "$dir/m/kext" 2>"$dir/loop.err"; then
		push_mount "$dir/m/kext"
		loop=yes
	else
		note "the kernel will not loop-mount here ($(cat "$dir/loop.err")): kernel rows left out"
	fi
	ext_ready=yes
fi
if case " $parts " in *" ext "*) true ;; *) false ;; esac; then
	mkdir "$dir/m/vuxfs" "$dir/m/kxfs"
	# XFS: filled by the kernel where it loop-mounts; otherwise from a
	# proto file, in an image twice as large so that the file stays in
	# the first of two allocation groups (mkfs.xfs 6.1 damages the next
	# group when proto data crosses into it), and the anchor reads holes
	if [ -n "$loop" ]; then
		truncate -s 1200M "$dir/xfs.img"
		mkfs.xfs -q -f -L bench "$dir/xfs.img"
		mount -o loop "$dir/xfs.img" "$dir/m/kxfs" && push_mount "$dir/m/kxfs"
		cp "$dir/src/big.bin" "$dir/m/kxfs/"
		umount "$dir/m/kxfs"
	else
		printf 'bench\n0 0\nd--755 0 0\nbig.bin ---644 0 0 %s\n$\n' "$dir/src/big.bin" > "$dir/xfs.proto"
		truncate -s 2400M "$dir/xfs.img"
		mkfs.xfs -q -f -L bench -p "$dir/xfs.proto" -d agcount=2 "$dir/xfs.img"
	fi
	"$vu" mount "$dir/xfs.img" "$dir/m/vuxfs"
	push_mount "$dir/m/vuxfs"
	[ -n "$loop" ] && mount -o ro,loop "$dir/xfs.img" "$dir/m/kxfs" && push_mount "$dir/m/kxfs"
	# ext4 in LUKS2 (detached header, offline encryption in user space)
	luks=
	if command -v cryptsetup >/dev/null; then
		head -c 64 /dev/urandom > "$dir/luks.key"
		cp "$dir/ext4.img" "$dir/luks.img"
		if cryptsetup reencrypt --encrypt --type luks2 --header "$dir/luks.hdr" --batch-mode \
			--key-file "$dir/luks.key" --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
			"$dir/luks.img" >"$dir/luks.log" 2>&1; then
			mkdir "$dir/m/vuluks"
			"$vu" mount "$dir/luks.img" "$dir/m/vuluks" --luks-header "$dir/luks.hdr" --key-file "$dir/luks.key"
			push_mount "$dir/m/vuluks"
			luks=yes
		else
			note "cryptsetup reencrypt failed: $(tail -n 2 "$dir/luks.log"); LUKS row left out"
		fi
	fi
	same "$dir/m/vuext/disk/big.bin" "vhdunlock mount (ext4)"
	same "$dir/m/vuxfs/disk/big.bin" "vhdunlock mount (XFS)"
	row "cat ext4 image (anchor)" "$(size_of "$dir/ext4.img")" "cat $dir/ext4.img"
	row "vhdunlock mount, ext4" "$fsize" "cat $dir/m/vuext/disk/big.bin"
	if [ -n "$luks" ]; then
		same "$dir/m/vuluks/disk/big.bin" "vhdunlock mount (LUKS2 ext4)"
		row "vhdunlock mount, LUKS2 ext4" "$fsize" "cat $dir/m/vuluks/disk/big.bin"
	fi
	if [ -n "$loop" ]; then
		same "$dir/m/kext/big.bin" "kernel ext4"
		row "kernel ext4, mount -o ro,loop" "$fsize" "cat $dir/m/kext/big.bin"
	fi
	both "ext4: cat of a 1 GiB file"
	row "cat XFS image (anchor)" "$(size_of "$dir/xfs.img")" "cat $dir/xfs.img"
	row "vhdunlock mount, XFS" "$fsize" "cat $dir/m/vuxfs/disk/big.bin"
	if [ -n "$loop" ]; then
		same "$dir/m/kxfs/big.bin" "kernel XFS"
		row "kernel XFS, mount -o ro,loop" "$fsize" "cat $dir/m/kxfs/big.bin"
	fi
	both "XFS: cat of a 1 GiB file"
fi

# ---- ls -l of 20,000 entries ----
if case " $parts " in *" ls "*) true ;; *) false ;; esac; then
	# (bytes 1: no MB/s; the ratio is the anchor's time over the row's)
	count() { [ "$(ls -l "$1" | grep -c '^-')" = 20000 ] || { echo "files.sh: $1: not 20000 files" >&2; exit 1; }; }
	count "$dir/m/n3g/many"
	row "ntfs-3g -o ro, plain NTFS (anchor)" 1 "ls -l $dir/m/n3g/many"
	if [ -n "$ntfs_ready" ]; then
		count "$dir/m/vu/disk/many"
		row "vhdunlock mount, BitLocker NTFS" 1 "ls -l $dir/m/vu/disk/many"
	fi
	if [ -n "$ext_ready" ]; then
		count "$dir/m/vuext/disk/many"
		row "vhdunlock mount, ext4" 1 "ls -l $dir/m/vuext/disk/many"
		if [ -n "$loop" ]; then
			count "$dir/m/kext/many"
			row "kernel ext4, mount -o ro,loop" 1 "ls -l $dir/m/kext/many"
		fi
	fi
	both "ls -l of 20,000 files"
fi
