#!/bin/sh
# load: 32 readers in parallel over one mount, and a 2 TiB disk.
#
# One GPT disk (fixed VHD) holds three volumes, each with three 12 MiB
# files of random bytes:
#   p1 BitLocker (the test-only writer, XTS-AES-128) over NTFS (ntfs-3g)
#   p2 LUKS2 (cryptsetup reencrypt, header inline) over ext4 (mkfs.ext4 -d)
#   p3 an LVM PV (lvm2 on a loop device) whose LV holds XFS (mkfs.xfs -p)
# It is mounted in the foreground, and tests/tools/random-reads.py runs 32
# reader processes for LOAD_SECONDS (default 30) at random offsets and
# sizes (1 byte to 1 MiB) over all nine files, comparing every byte with
# the source files.  The daemon's peak resident memory (VmHWM) must stay
# under 256 MiB.
# Then a 2 TiB dynamic VHDX (qemu-img convert of a sparse raw disk with a
# GPT and an ext4 partition at its start and another at its end): info,
# audit and mount work on it, a file at each end reads right, and each
# command's peak memory stays within 16 MiB of the same on a 1 GiB VHDX of
# the same content.
. "$top_srcdir/tests/integration/lib.sh"
need mkntfs ntfs-3g mkfs.ext4 mkfs.xfs cryptsetup pvcreate vgcreate lvcreate \
	losetup sfdisk partx qemu-img fusermount3 python3 openssl
[ -e /dev/fuse ] || skip "/dev/fuse missing (no FUSE in this environment)"
[ "$(id -u)" = 0 ] || skip "needs root: ntfs-3g and losetup"
mk=${MKBITLK:-$top_builddir/tests/tools/mkbitlk}
[ -x "$mk" ] || { fail "$mk not built"; finish; }
reads="$top_srcdir/tests/tools/random-reads.py"
SECONDS_=${LOAD_SECONDS:-30}
READERS=32
RSS_MAX_KIB=$((256 * 1024))

cd "$work" || exit 1
work=$(pwd -P)
. "$top_srcdir/tests/integration/lvm-lib.sh"
export LC_ALL=C
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$work/asan"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$work/ubsan:print_stacktrace=1"
mnt="$work/mnt" nmnt="$work/nmnt"
mkdir -p "$mnt" "$nmnt"
pid=
cleanup() {
	mounted "$nmnt" && umount "$nmnt"
	mounted "$mnt" && fusermount3 -u -z "$mnt"
	[ -n "$pid" ] && wait "$pid"
	lvm_cleanup
}
trap 'cleanup 2>/dev/null' EXIT
trap 'cleanup 2>/dev/null; exit 1' INT TERM
random() {
	openssl enc -aes-128-ctr -pass "pass:$2" -nosalt </dev/zero 2>/dev/null | head -c "$1"
}
vg=loadvg$$

# ---- the three volumes
mkdir src
for v in ntfs ext xfs; do
	mkdir "src/$v"
	for i in 1 2 3; do random 12582912 "$v$i" > "src/$v/f$i.bin"; done
done
truncate -s 48M plain.ntfs
mkntfs -F -Q -q plain.ntfs >/dev/null 2>&1 || fail "mkntfs"
ntfs-3g -o big_writes plain.ntfs "$nmnt" && cp src/ntfs/* "$nmnt/" && umount "$nmnt" ||
	fail "ntfs-3g: fill plain.ntfs"
mkdir keys
"$mk" --method xts-128 --bek-dir keys --recovery-password-file rp.txt plain.ntfs bl.img \
	>/dev/null 2>mk.err || fail "mkbitlk: $(cat mk.err)"
ade_key ade.key
mkfs.ext4 -q -F -d src/ext ext.fs 48M || fail "mkfs.ext4"
cp ext.fs ext.luks && truncate -s 64M ext.luks
cryptsetup reencrypt --encrypt --type luks2 --reduce-device-size 16M --batch-mode \
	--key-file ade.key --pbkdf pbkdf2 --pbkdf-force-iterations 1000 ext.luks \
	>mk.log 2>&1 || fail "cryptsetup: $(cat mk.log)"
{
	printf 'xfs\n0 0\nd--755 0 0\n'
	for i in 1 2 3; do printf 'f%s.bin ---644 0 0 %s\n' "$i" "$work/src/xfs/f$i.bin"; done
	printf '$\n'
} > xfs.proto
mkfs_xfs_small -p xfs.proto -d file,name=xfs.fs,size=64m,agcount=4 || fail "mkfs.xfs"
truncate -s 80M pv.img
dev=$(losetup -f --show pv.img) || { fail "losetup"; finish; }
loops="$dev"
L pvcreate -qy "$dev" && L vgcreate -q "$vg" "$dev" && vgs_made="$vg" ||
	{ fail "vgcreate: $(cat lvm.log)"; finish; }
L lvcreate -q -an -Zn -L 64M -n xfslv "$vg" || fail "lvcreate: $(cat lvm.log)"
write_lv "$vg" xfslv xfs.fs
# the VG lives on in pv.img only: nothing of it is left on the host
losetup -d "$dev" && loops=
vgs_made=
gpt_vhd load.vhd 1:0700:48:bl.img 2:8300:64:ext.luks 3:8E00:80:pv.img
rm -f bl.img ext.luks
[ "$failures" -eq 0 ] || finish
"$VHDUNLOCK" info load.vhd --bek keys --key-file ade.key > info.out 2>&1 ||
	fail "info: $(cat info.out)"

# ---- 32 readers over one mount
"$VHDUNLOCK" mount load.vhd "$mnt" -f --bek keys --key-file ade.key </dev/null >daemon.out 2>daemon.err &
pid=$!
for _ in $(seq 300); do mounted "$mnt" && break; sleep 0.1; done
if ! mounted "$mnt"; then
	fail "not mounted: $(cat daemon.err)"
	finish
fi
lv=$(ls "$mnt" | grep -v '\.img$' | grep -v '^p[12]$' | head -n 1)
: > pairs
for i in 1 2 3; do
	printf '%s\t%s\n' "$mnt/p1/f$i.bin" "$work/src/ntfs/f$i.bin" >> pairs
	printf '%s\t%s\n' "$mnt/p2/f$i.bin" "$work/src/ext/f$i.bin" >> pairs
	printf '%s\t%s\n' "$mnt/$lv/f$i.bin" "$work/src/xfs/f$i.bin" >> pairs
done
[ -n "$lv" ] && [ -f "$mnt/$lv/f1.bin" ] || fail "the XFS logical volume is not in the mount: $(ls "$mnt")"
rss0=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status")
if python3 "$reads" pairs "$SECONDS_" "$READERS" 1 > reads.out 2>&1; then
	ok "BitLocker NTFS, LUKS2 ext4, LVM XFS ($lv): $(tail -n 1 reads.out)"
else
	fail "random reads: $(cat reads.out)"
fi
hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status")
threads=$(sed -n 's/^Threads:[[:space:]]*//p' "/proc/$pid/status")
fusermount3 -u "$mnt" || fail "fusermount3 -u"
wait "$pid" || fail "the daemon ended with $?: $(tail -n 5 daemon.err)"
pid=
if [ -n "$hwm" ] && [ "$hwm" -lt "$RSS_MAX_KIB" ]; then
	ok "the daemon's peak memory: $((hwm / 1024)) MiB (VmHWM; $((rss0 / 1024)) MiB when mounted; $threads threads), under 256 MiB"
else
	fail "the daemon's peak memory: ${hwm:-?} KiB, over 256 MiB"
fi

# ---- 2 TiB
# peak RSS (KiB) of a command: python's getrusage of its child
peak() {
	python3 -c 'import resource, subprocess, sys
r = subprocess.call(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=open(sys.argv[1], "w"))
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r)' "$@"
}
mkdir -p e1 e2 && echo "at the start" > e1/start.txt && echo "at the end" > e2/end.txt
mkfs.ext4 -q -F -d e1 e1.fs 16M && mkfs.ext4 -q -F -d e2 e2.fs 16M || fail "mkfs.ext4"
for size in 1G 2T; do
	rm -f "big-$size.raw"
	truncate -s "$size" "big-$size.raw"
	last=$(( ($(stat -c %s "big-$size.raw") / 512 - 34 - 32768) / 2048 * 2048 ))
	printf 'label: gpt\nstart=2048, size=32768\nstart=%s, size=32768\n' "$last" |
		sfdisk -q "big-$size.raw" >/dev/null || fail "sfdisk $size"
	for n in 1 2; do
		dd if="e$n.fs" of="big-$size.raw" bs=1M oflag=seek_bytes conv=notrunc,sparse status=none \
			seek=$(( $(partx -g -o START -n "$n" "big-$size.raw" | tr -d ' ') * 512 ))
	done
	qemu-img convert -f raw -O vhdx -o subformat=dynamic "big-$size.raw" "big-$size.vhdx" ||
		fail "qemu-img convert $size"
	rm -f "big-$size.raw"
done
ls -ls big-2T.vhdx | awk '{ print "2 TiB VHDX: " $6 " bytes, " $1 " KiB allocated" }'
for c in info audit; do
	set -- $(peak "$c.err" "$VHDUNLOCK" "$c" big-1G.vhdx); small=$1
	set -- $(peak "$c.err" "$VHDUNLOCK" "$c" big-2T.vhdx); big=$1 st=$2
	want=0; [ $c = audit ] && want=1 # (audit: plain ext4 is readable)
	if [ "$st" = "$want" ] && [ "$big" -le $((small + 16384)) ]; then
		ok "2 TiB: $c exits $st, peak $((big / 1024)) MiB (1 GiB disk: $((small / 1024)) MiB)"
	else
		fail "2 TiB: $c exit $st (want $want), peak $big KiB against $small KiB for 1 GiB: $(tail -n 3 "$c.err")"
	fi
done
"$VHDUNLOCK" info big-2T.vhdx > big.info 2>&1
grep -q '2.0 TiB' big.info && grep -q '^p2 ' big.info ||
	fail "2 TiB: info does not show the disk and p2: $(cat big.info)"
"$VHDUNLOCK" mount big-2T.vhdx "$mnt" -f </dev/null 2>daemon.err &
pid=$!
for _ in $(seq 300); do mounted "$mnt" && break; sleep 0.1; done
if mounted "$mnt"; then
	cmp -s e1/start.txt "$mnt/p1/start.txt" && cmp -s e2/end.txt "$mnt/p2/end.txt" &&
		ok "2 TiB: the files at its start and its end read right through the mount" ||
		fail "2 TiB: files through the mount: $(ls "$mnt")"
	hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status")
	[ "$hwm" -lt "$RSS_MAX_KIB" ] && ok "2 TiB: the daemon's peak memory: $((hwm / 1024)) MiB" ||
		fail "2 TiB: the daemon's peak memory: $hwm KiB"
	fusermount3 -u "$mnt"
	wait "$pid" || fail "2 TiB: the daemon ended with $?"
else
	fail "2 TiB: not mounted: $(cat daemon.err)"
	kill "$pid" 2>/dev/null; wait "$pid"
fi
pid=
for f in "$work"/asan* "$work"/ubsan*; do
	[ -e "$f" ] && fail "sanitizer report: $(head -n 20 "$f")"
done
finish
