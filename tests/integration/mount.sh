#!/bin/sh
# vhdunlock mount: a real FUSE mount of the demo disk (GPT, p1 FAT, p2
# BitLocker NTFS unlocked with its .BEK) and of a raw GPT disk made by
# sgdisk/mkfs.ext4.  MNT/<id>.img must read exactly as export writes the
# volume, from parallel readers too; everything that writes fails with
# EROFS; key and image errors are reported before anything is mounted;
# umount, SIGTERM (-f) end the mount cleanly; the image is never changed.
. "$top_srcdir/tests/integration/lib.sh"
need sgdisk partx mkfs.ext4 ntfsls fusermount3 mountpoint sha256sum cmp \
	mdir mtype find sort
[ -e /dev/fuse ] || skip "/dev/fuse missing (no FUSE in this environment)"

cd "$work"
# Sanitizer reports of the daemon (whose standard error is /dev/null) go to
# files here; harmless when the program is not instrumented.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$work/asan"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$work/ubsan:print_stacktrace=1"

demo="$top_srcdir/testdata/demo.vhd"
keys="$top_srcdir/testdata/demo-keys"
mnt="$work/mnt"
mkdir -p "$mnt"
cleanup() { mountpoint -q "$mnt" && fusermount3 -u -z "$mnt"; }
trap 'cleanup 2>/dev/null' EXIT
trap 'cleanup 2>/dev/null; exit 1' INT TERM

# pids of mount daemons serving $mnt (read from /proc, nothing is killed)
daemons() {
	for p in /proc/[0-9]*; do
		cat "$p/cmdline" 2>/dev/null | tr '\0' ' ' | grep -q " mount .* $mnt" &&
			echo "${p#/proc/}"
	done
}
wait_gone() { # wait until nothing is mounted at $mnt and its daemon ended
	for _ in $(seq 100); do
		mountpoint -q "$mnt" || [ -n "$(daemons)" ] || return 0
		sleep 0.1
	done
	return 1
}
wait_mounted() {
	for _ in $(seq 100); do mountpoint -q "$mnt" && return 0; sleep 0.1; done
	return 1
}
empty_unmounted() { ! mountpoint -q "$mnt" && [ -z "$(ls -A "$mnt")" ]; }

demo_sum=$(sha256sum < "$demo")
for v in p1 p2; do
	"$VHDUNLOCK" export "$demo" "$v" "demo-$v.want" --bek "$keys" 2>err ||
		fail "export $v: $(cat err)"
done

# ---- errors come before anything is mounted ----
mkdir nokeys
printf '%s\n' 000011-000011-000011-000011-000011-000011-000011-000011 > wrong-rp
"$VHDUNLOCK" mount "$demo" "$mnt" --bek nokeys 2>err; rc=$?
[ "$rc" = 3 ] && empty_unmounted && ok "no matching .BEK: exit 3, nothing mounted" ||
	fail "no matching .BEK: exit $rc: $(cat err)"
"$VHDUNLOCK" mount "$demo" "$mnt" --recovery-password-file wrong-rp 2>err; rc=$?
[ "$rc" = 3 ] && grep -q p2 err && empty_unmounted &&
	ok "wrong recovery password: exit 3 naming p2, nothing mounted" ||
	fail "wrong recovery password: exit $rc: $(cat err)"
"$VHDUNLOCK" mount missing.vhd "$mnt" 2>err; rc=$?
[ "$rc" = 1 ] && grep -q missing.vhd err && empty_unmounted &&
	ok "missing image: exit 1" || fail "missing image: exit $rc: $(cat err)"
"$VHDUNLOCK" mount "$demo" "$work/nodir" --bek "$keys" 2>err; rc=$?
[ "$rc" = 1 ] && grep -q "mount point" err && ok "missing mount point: exit 1" ||
	fail "missing mount point: exit $rc: $(cat err)"
"$VHDUNLOCK" mount "$demo" wrong-rp --bek "$keys" 2>err; rc=$?
[ "$rc" = 1 ] && grep -q "not a directory" err && ok "mount point a file: exit 1" ||
	fail "mount point a file: exit $rc: $(cat err)"
"$VHDUNLOCK" mount "$demo" 2>err; rc=$?
[ "$rc" = 2 ] && ok "missing MOUNTPOINT: exit 2" || fail "usage: exit $rc"
"$VHDUNLOCK" umount "$mnt" 2>err; rc=$?
[ "$rc" = 1 ] && grep -q "not mounted" err && ok "umount of nothing: exit 1, 'not mounted'" ||
	fail "umount of nothing: exit $rc: $(cat err)"

# ---- background mount of the demo disk ----
if "$VHDUNLOCK" mount "$demo" "$mnt" --bek "$keys" 2>err && mountpoint -q "$mnt"; then
	ok "demo mounted in the background"
else
	fail "mount: $(cat err)"
fi
# p1/ shows the files of the EFI FAT, p2/ those of the decrypted NTFS
[ "$(ls "$mnt" | tr '\n' ' ')" = "p1 p1.img p2 p2.img " ] && ok "ls: p1 p1.img p2 p2.img" ||
	fail "ls shows: $(ls -a "$mnt" | tr '\n' ' ')"
# p1's tree as mtools reads the exported FAT (the kernel's vfat would need
# a loop mount): every path through the mount and through ls, every file
# through the mount and cat
export MTOOLS_SKIP_CHECK=1
mdir -/ -b -i demo-p1.want ::/ | sed 's|^::/||' | sort > p1.mdir
(cd "$mnt/p1" && find . -mindepth 1 \( -type d -printf '%P/\n' -o -printf '%P\n' \)) |
	sort > p1.mount
ls_tree() { # ls_tree DIR: every path under p1:DIR, directories with a '/'
	"$VHDUNLOCK" ls -l "$demo" "p1:/$1" | while read -r mode _ _ _ _ _ name; do
		case $mode in
		d*) echo "$1$name/"; ls_tree "$1$name/" ;;
		*) echo "$1$name" ;;
		esac
	done
}
ls_tree "" | sort > p1.ls
if [ -s p1.mdir ] && grep -q 'BOOTX64' p1.mdir && cmp -s p1.mdir p1.mount &&
	cmp -s p1.mdir p1.ls; then
	ok "p1 (FAT): mount and ls show the $(wc -l < p1.mdir) paths mdir lists"
else
	fail "p1 (FAT): mdir $(tr '\n' ' ' < p1.mdir), mount $(tr '\n' ' ' < p1.mount), ls $(tr '\n' ' ' < p1.ls)"
fi
grep -v '/$' p1.mdir | while IFS= read -r f; do
	mtype -i demo-p1.want "::/$f" > p1.mtype &&
		cmp -s p1.mtype "$mnt/p1/$f" &&
		"$VHDUNLOCK" cat "$demo" "p1:/$f" | cmp -s p1.mtype - &&
		ok "p1/$f = mtype (mount and cat)" || fail "p1/$f differs from mtype"
done
ntfscat demo-p2.want README.txt > readme.want 2>err &&
	cmp -s readme.want "$mnt/p2/README.txt" &&
	ok "p2/README.txt = ntfscat of the exported volume" ||
	fail "p2/README.txt: $(cat err)"
[ "$(stat -c %a "$mnt")/$(stat -c %a "$mnt/p1.img")/$(stat -c %u:%g "$mnt/p1.img")" = "555/444/$(id -u):$(id -g)" ] &&
	ok "modes 555/444, owner the mounting user" ||
	fail "modes: $(stat -c '%a %u:%g' "$mnt" "$mnt/p1.img" | tr '\n' ' ')"
[ "$(stat -c %Y "$mnt/p2.img")" = "$(stat -c %Y "$demo")" ] && ok "mtime of the image" ||
	fail "mtime $(stat -c %Y "$mnt/p2.img") vs $(stat -c %Y "$demo")"
for v in p1 p2; do
	cmp -s "demo-$v.want" "$mnt/$v.img" && ok "$v.img = export $v" ||
		fail "$v.img differs from export $v"
done
ntfsls "$mnt/p2.img" 2>err | grep -qx README.txt &&
	ok "ntfsls p2.img: README.txt (decrypted NTFS through the mount)" ||
	fail "ntfsls p2.img: $(cat err)"
grep -q "^vhdunlock:.*demo.vhd $mnt fuse.vhdunlock ro," /proc/mounts &&
	ok "/proc/mounts: fsname, type fuse.vhdunlock, ro" ||
	fail "/proc/mounts: $(grep " $mnt " /proc/mounts)"

# writes of every kind fail with EROFS
( echo x > "$mnt/p1.img" ) 2>err && fail "writing p1.img succeeded"
grep -q "Read-only file system" err && ok "write: Read-only file system" || fail "write: $(cat err)"
touch "$mnt/new" 2>err && fail "touch new succeeded"
grep -q "Read-only file system" err && ok "create: Read-only file system" || fail "touch: $(cat err)"
rm -f "$mnt/p1.img" 2>err && fail "rm succeeded"
grep -q "Read-only file system" err && ok "rm: Read-only file system" || fail "rm: $(cat err)"
mkdir "$mnt/d" 2>err && fail "mkdir succeeded"
grep -q "Read-only file system" err && ok "mkdir: Read-only file system" || fail "mkdir: $(cat err)"
mv "$mnt/p1.img" "$mnt/p9.img" 2>err && fail "rename succeeded"
grep -q "Read-only file system" err && ok "rename: Read-only file system" || fail "mv: $(cat err)"
[ ! -e "$mnt/new" ] && [ "$(ls "$mnt" | grep -c '\.img$')" = 2 ] || fail "the tree changed"

if "$VHDUNLOCK" umount "$mnt" 2>err && wait_gone; then
	ok "umount: unmounted, daemon ended"
else
	fail "umount: $(cat err); still mounted or daemon alive"
fi

# ---- a raw GPT disk: ext4 p1, 24 MiB of random data p2 ----
mkdir tree && printf 'hello\n' > tree/hello.txt
truncate -s 40M disk.raw
sgdisk -n 1:2048:+8M -t 1:8300 -n 2:0:+24M -t 2:8300 disk.raw >/dev/null
set -- $(partx -g -o START,SECTORS -n 1 disk.raw)
truncate -s $(($2 * 512)) p1.want
mkfs.ext4 -q -F -d tree p1.want
dd if=p1.want of=disk.raw bs=512 seek="$1" conv=notrunc status=none
set -- $(partx -g -o START,SECTORS -n 2 disk.raw)
head -c $(($2 * 512)) /dev/urandom > p2.want
dd if=p2.want of=disk.raw bs=512 seek="$1" conv=notrunc status=none
raw_sum=$(sha256sum < disk.raw)

# -f in the background of this shell; SIGTERM ends it
"$VHDUNLOCK" mount -f disk.raw "$mnt" 2>ferr &
pid=$!
if wait_mounted; then ok "raw disk mounted with -f"; else fail "-f: not mounted: $(cat ferr)"; fi
# 8 parallel readers, started together on a fresh mount (cold cache)
want_sum=$(sha256sum < p2.want)
readers=
for i in 0 1 2 3 4 5 6 7; do
	if [ $((i % 2)) = 0 ]; then
		dd if="$mnt/p2.img" bs=64k skip=$((i * 40)) count=60 status=none |
			sha256sum > "par.$i" &
		readers="$readers $!"
		dd if=p2.want bs=64k skip=$((i * 40)) count=60 status=none | sha256sum > "parwant.$i"
	else
		sha256sum < "$mnt/p2.img" > "par.$i" &
		readers="$readers $!"
		echo "$want_sum" > "parwant.$i"
	fi
done
wait $readers
wait_readers_ok=1
for i in 0 1 2 3 4 5 6 7; do
	cmp -s "par.$i" "parwant.$i" || { wait_readers_ok=0; fail "parallel reader $i got wrong content"; }
done
[ "$wait_readers_ok" = 1 ] && ok "8 parallel readers got the right content"
[ "$(ls "$mnt" | tr '\n' ' ')" = "p1 p1.img p2.img " ] && ok "raw: ls: p1 (ext4 tree) p1.img p2.img" ||
	fail "raw: ls: $(ls "$mnt" | tr '\n' ' ')"
[ "$(cat "$mnt/p1/hello.txt")" = hello ] && ok "raw: p1/hello.txt read through the tree" ||
	fail "raw: p1/hello.txt: $(ls -la "$mnt/p1" 2>&1)"
cmp -s p1.want "$mnt/p1.img" && ok "raw p1.img (ext4) = the partition" || fail "raw p1.img differs"
cmp -s p2.want "$mnt/p2.img" && ok "raw p2.img = the partition" || fail "raw p2.img differs"
"$VHDUNLOCK" export disk.raw p1 p1.export 2>/dev/null && cmp -s p1.export "$mnt/p1.img" ||
	fail "raw p1.img differs from export p1"
# reads past the end and unaligned reads
[ "$(dd if="$mnt/p2.img" bs=1 skip=$(($(stat -c %s p2.want) - 3)) count=10 status=none | wc -c)" = 3 ] &&
	ok "read at the end is clipped to the size" || fail "read past the end"
[ "$(dd if="$mnt/p2.img" bs=777 skip=12345 count=3 status=none | sha256sum)" = \
  "$(dd if=p2.want bs=777 skip=12345 count=3 status=none | sha256sum)" ] &&
	ok "unaligned read" || fail "unaligned read differs"
kill -TERM "$pid"
wait "$pid"; rc=$?
if [ "$rc" = 0 ] && wait_gone; then
	ok "-f: SIGTERM unmounted cleanly, exit 0"
else
	fail "-f: exit $rc after SIGTERM, mounted: $(mountpoint -q "$mnt" && echo yes || echo no); $(cat ferr)"
fi
grep -E "Sanitizer|runtime error" ferr && fail "sanitizer report in the foreground run"

# nothing was written to the images
[ "$(sha256sum < "$demo")" = "$demo_sum" ] && ok "demo.vhd unchanged" || fail "demo.vhd changed"
[ "$(sha256sum < disk.raw)" = "$raw_sum" ] && ok "disk.raw unchanged" || fail "disk.raw changed"
if ls "$work"/asan* "$work"/ubsan* >/dev/null 2>&1; then
	fail "sanitizer reports: $(cat "$work"/asan* "$work"/ubsan* 2>/dev/null | head -40)"
fi
cleanup 2>/dev/null
finish
