#!/bin/sh
# vhdunlock mount: the file trees MNT/<id>/.  A fixed VHD (qemu-img) holds a
# GPT disk (sgdisk) with p1 ext4 made by mkfs.ext4 -d from a source tree,
# p2 XFS made by mkfs.xfs -p from a proto file of the same tree, and p3 an
# ext4 whose inode tables are gone.  Through the mount: the whole tree
# equals the source (diff -r, the SHA-256 of every file, sizes, modes,
# owners, symlink targets; mtimes and hard links on ext4, where mkfs
# keeps them), a directory of 20,000 files, Unicode names, deep paths, a
# sparse file; large and O_DIRECT reads; 8 parallel readers; the kernel
# forgetting inodes; every change fails with EROFS; p3 gets no tree but a
# warning naming it; with allow_other other users meet the files' own
# permissions; an ordinary user's mount reads root's 0600 files; umount and
# SIGTERM end the mount cleanly; the image is never changed.
. "$top_srcdir/tests/integration/lib.sh"
need sgdisk partx mkfs.ext4 e2fsck dumpe2fs mkfs.xfs xfs_repair qemu-img fusermount3 \
	awk sha256sum setpriv diff find stat readlink xargs
# (.ci/run counts a skip as a failure: CI, as root with FUSE, runs it all)
[ -e /dev/fuse ] || skip "/dev/fuse missing (no FUSE in this environment)"
[ "$(id -u)" = 0 ] || skip "needs root: files owned by others, another user's mount, drop_caches"
id nobody >/dev/null 2>&1 || useradd -r -M -s /usr/sbin/nologin nobody ||
	fail "no user nobody and useradd failed"
[ "$failures" = 0 ] || finish

cd "$work"
# Sanitizer reports of the daemon (whose standard error is /dev/null) go to
# files here; harmless when the program is not instrumented.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$work/asan"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$work/ubsan:print_stacktrace=1"

mnt="$work/mnt"
mkdir -p "$mnt"
fuse_mode=$(stat -c %a /dev/fuse)
cleanup() {
	for m in "$mnt" "${amnt:-}" "${umnt:-}"; do
		[ -n "$m" ] && mounted "$m" && fusermount3 -u -z "$m"
	done
	chmod "$fuse_mode" /dev/fuse
	[ -n "${udir:-}" ] && rm -rf "$udir"
}
trap 'cleanup 2>/dev/null' EXIT
trap 'cleanup 2>/dev/null; exit 1' INT TERM

# pids of mount daemons serving $1 (read from /proc, nothing is killed)
daemons() {
	for p in /proc/[0-9]*; do
		cat "$p/cmdline" 2>/dev/null | tr '\0' ' ' | grep -q " mount .* $1" &&
			echo "${p#/proc/}"
	done
}
wait_gone() { # wait until nothing is mounted at $1 and its daemon ended
	for _ in $(seq 100); do
		mounted "$1" || [ -n "$(daemons "$1")" ] || return 0
		sleep 0.1
	done
	return 1
}
wait_mounted() {
	for _ in $(seq 100); do mounted "$1" && return 0; sleep 0.1; done
	return 1
}
# erofs WHAT CMD...: CMD must fail with "Read-only file system"
erofs() {
	what=$1; shift
	if "$@" 2>err; then
		fail "$what succeeded"
	elif grep -q "Read-only file system" err; then
		ok "$what: Read-only file system"
	else
		fail "$what: $(cat err)"
	fi
}

# ---- the source tree ----
mkdir src && cd src
printf 'hello\n' > hello.txt
: > empty
printf x > one
for n in 4095 4096 4097 131071 131073; do head -c "$n" /dev/urandom > "b$n"; done
head -c 6000000 /dev/urandom > big.bin   # reads of 128 KiB and more
head -c 1500000 /dev/urandom > mid.bin
printf '#!/bin/sh\necho hi\n' > run.sh && chmod 755 run.sh
printf 'read only\n' > ro.txt && chmod 444 ro.txt
printf 'owned by others\n' > others.txt && chown 1234:5678 others.txt
printf 'root only\n' > secret.txt && chmod 600 secret.txt
mkdir private && printf 'in a 0700 directory\n' > private/inner.txt && chmod 700 private
printf 'a colon in the name\n' > 'colon:name.txt'
# Unicode names (no spaces: mkfs.xfs proto files split on blanks)
mkdir 'Grüße' '日本語'
printf 'ü\n' > 'Grüße/naïve_café.txt'
printf 'にほんご\n' > '日本語/ファイル.txt'
printf 'smile\n' > '🙂.txt'
printf 'Ωμέγα\n' > 'Ωμέγα'
long=$(printf 'n%.0s' $(seq 255))
printf 'a 255-byte name\n' > "$long"
# a deep path: 40 levels, over 400 bytes
d=deep
for i in $(seq 40); do d="$d/level$i"; done
mkdir -p "$d" && printf 'at the bottom\n' > "$d/bottom.txt"
# symlinks: relative, absolute, dangling, to a directory, a slow one (a
# target too long for the inode)
ln -s hello.txt link-rel
ln -s /etc/passwd link-abs
ln -s does-not-exist link-dangling
ln -s 'Grüße' link-dir
ln -s "$(printf 't%.0s' $(seq 200))" link-long
# hard links (ext4 keeps them; the XFS proto file makes copies)
ln hello.txt hard-a && ln hello.txt hard-b
# a sparse file: 8 MiB with three islands of data
truncate -s 8M sparse.bin
printf start | dd of=sparse.bin conv=notrunc status=none
printf middle | dd of=sparse.bin bs=1 seek=4194304 conv=notrunc status=none
printf end | dd of=sparse.bin bs=1 seek=$((8 * 1048576 - 3)) conv=notrunc status=none
# 20,000 files in one directory, most empty
mkdir many && (cd many && seq -f 'f%05g' 20000 | xargs touch &&
	for i in 00001 07777 20000; do echo "file $i" > "f$i"; done)
touch -d '2001-02-03 04:05:06.789' hello.txt mid.bin 'Grüße'
touch -h -d '1999-12-31 23:59:59' link-rel
cd "$work"

# ---- the disk: p1 ext4, p2 XFS, p3 a damaged ext4 ----
mkfs.ext4 -q -F -b 4096 -N 30000 -L tree-ext4 -d src p1.fs 160M >/dev/null ||
	fail "mkfs.ext4 -d"
e2fsck -fn p1.fs >fsck.log 2>&1 || fail "e2fsck p1.fs: $(cat fsck.log)"
# The proto file, from find's pre-order walk: a directory's entries
# follow it and a "$" ends it.
find src -mindepth 1 -printf '%d\t%y\t%m\t%U\t%G\t%f\t%p\t%l\n' | awk -F'\t' -v top="$work" '
BEGIN { print "tree"; print "0 0"; print "d--755 0 0"; depth = 1 }
{
	while (depth > $1) { print "$"; depth-- }
	mode = substr(sprintf("%03d", $3), length(sprintf("%03d", $3)) - 2)
	if ($2 == "d") { print $6, "d--" mode, $4, $5; depth = $1 + 1 }
	else if ($2 == "l") print $6, "l--" mode, $4, $5, $8
	else print $6, "---" mode, $4, $5, top "/" $7
}
END { while (depth > 1) { print "$"; depth-- } print "$" }' > p2.proto
# mkfs.xfs 6.1 damages the next allocation group when proto data crosses
# into it: 2 large AGs keep everything in the first
truncate -s 0 p2.fs
mkfs_xfs_small -L tree-xfs -p p2.proto -d file,name=p2.fs,size=400m,agcount=2 \
	>mkfs.log 2>&1 || fail "mkfs.xfs -p: $(cat mkfs.log)"
xfs_repair -n -f p2.fs >fsck.log 2>&1 || fail "xfs_repair p2.fs: $(cat fsck.log)"
# p3: an ext4 whose inode table is zeros: it probes as ext4, its root
# directory is gone
mkdir small && echo x > small/x
mkfs.ext4 -q -F -b 4096 -d small p3.fs 16M >/dev/null
itable=$(dumpe2fs p3.fs 2>/dev/null | sed -n 's/.*Inode table at \([0-9]*\)-.*/\1/p' | head -n1)
[ -n "$itable" ] || fail "dumpe2fs: no inode table in p3.fs"
dd if=/dev/zero of=p3.fs bs=4096 seek="${itable:-1}" count=8 conv=notrunc status=none

truncate -s 600M disk.raw
sgdisk -n 1:2048:+160M -t 1:8300 -n 2:0:+400M -t 2:8300 -n 3:0:+16M -t 3:8300 \
	disk.raw >/dev/null || fail "sgdisk"
for n in 1 2 3; do
	set -- $(partx -g -o START -n "$n" disk.raw)
	dd if="p$n.fs" of=disk.raw bs=512 seek="$1" conv=notrunc,sparse status=none
done
qemu-img convert -q -f raw -O vpc -o subformat=fixed disk.raw disk.vhd ||
	fail "qemu-img convert"
rm -f disk.raw p3.fs
chmod 644 disk.vhd
[ "$failures" = 0 ] || finish
img_sum=$(sha256sum < disk.vhd)

# ---- mounted by root in the background; p3 warns ----
if "$VHDUNLOCK" mount disk.vhd "$mnt" 2>err && mounted "$mnt"; then
	ok "mounted in the background"
else
	fail "mount: $(cat err)"
	finish
fi
grep -q "p3" err && grep -q "ext4" err && ok "warning for p3: $(head -n1 err)" ||
	fail "no warning for p3: $(cat err)"
# readahead_kb DIR: the kernel's read-ahead window of the mount at DIR
readahead_kb() {
	cat "/sys/class/bdi/$(awk -v m="$(realpath "$1")" '$5 == m { d = $3 } END { print d }' /proc/self/mountinfo)/read_ahead_kb"
}
[ "$(readahead_kb "$mnt")" = 2048 ] && ok "root's mount reads ahead 2 MiB" ||
	fail "root's mount reads ahead $(readahead_kb "$mnt") KiB, not 2048"
[ "$(ls "$mnt" | tr '\n' ' ')" = "p1 p1.img p2 p2.img p3.img " ] &&
	ok "ls: p1 p1.img p2 p2.img p3.img" || fail "ls: $(ls "$mnt" | tr '\n' ' ')"

# 8 parallel readers on a cold cache: the same file and different files,
# in both trees
sums() { (cd "$1" && sha256sum big.bin mid.bin b131073 sparse.bin) }
sums src > par.want
readers=
for i in 0 1 2 3 4 5 6 7; do
	v=p$((i % 2 + 1))
	case $i in
	0|1|2|3) f=big.bin ;; 4) f=mid.bin ;; 5) f=b131073 ;; 6) f=sparse.bin ;; 7) f=mid.bin ;;
	esac
	(cd "$mnt/$v" && sha256sum "$f") > "par.$i" &
	readers="$readers $!"
done
wait $readers
par_ok=1
for i in 0 1 2 3 4 5 6 7; do
	grep -qxF "$(cat "par.$i")" par.want || { par_ok=0; fail "parallel reader $i: $(cat "par.$i")"; }
done
[ "$par_ok" = 1 ] && ok "8 parallel readers got the right content"

# the whole tree, in both file systems
for v in p1 p2; do
	# lost+found is ext4's own
	if diff -r --no-dereference -x lost+found src "$mnt/$v" >diff.out 2>&1; then
		ok "$v: diff -r: the tree equals the source"
	else
		fail "$v: diff -r: $(head -n 20 diff.out)"
	fi
	t=
	[ "$v" = p1 ] && t=' %Ts'  # mkfs.xfs -p stamps everything with now
	same_tree "$v" src "$mnt/$v" "$t"
	[ "$(ls "$mnt/$v/many" | wc -l)" = 20000 ] && ok "$v: ls many: 20000 names" ||
		fail "$v: ls many: $(ls "$mnt/$v/many" | wc -l) names"
	start=$(date +%s%N)
	n=$(ls -l "$mnt/$v/many" | grep -c '^-r')
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	[ "$n" = 20000 ] && ok "$v: ls -l many: 20000 files in $ms ms" ||
		fail "$v: ls -l many: $n files"
	[ "$(cat "$mnt/$v/$d/bottom.txt")" = "at the bottom" ] &&
		ok "$v: a path of $(printf %s "$d" | wc -c) bytes" || fail "$v: deep path"
	[ "$(stat -c %s "$mnt/$v/sparse.bin")" = 8388608 ] &&
		cmp -s src/sparse.bin "$mnt/$v/sparse.bin" && ok "$v: sparse file reads its holes as zeros" ||
		fail "$v: sparse file differs"
	# large reads: 4 MiB buffered, 1 MiB O_DIRECT (1 MiB FUSE requests)
	for flags in "bs=4M" "bs=1M iflag=direct"; do
		[ "$(dd if="$mnt/$v/big.bin" $flags status=none | sha256sum)" = \
		  "$(sha256sum < src/big.bin)" ] && ok "$v: dd $flags" || fail "$v: dd $flags differs"
	done
	# a name with a colon is a name; "file:stream" on ext4/XFS is nothing
	[ "$(cat "$mnt/$v/colon:name.txt")" = "a colon in the name" ] &&
		ok "$v: colon:name.txt is a file" || fail "$v: colon:name.txt"
	cat "$mnt/$v/hello.txt:stream" >/dev/null 2>err && fail "$v: hello.txt:stream exists"
	grep -q "No such file" err && ok "$v: hello.txt:stream: no such file" ||
		fail "$v: hello.txt:stream: $(cat err)"
	[ "$(stat -f -c %b "$mnt/$v")" = $(( $(stat -c %s "$mnt/$v.img") / 4096 )) ] &&
		ok "$v: statfs: the volume's size" ||
		fail "$v: statfs: $(stat -f -c '%b blocks of %S' "$mnt/$v")"
done
# ext4 keeps hard links and holes
[ "$(stat -c %i "$mnt/p1/hello.txt")" = "$(stat -c %i "$mnt/p1/hard-a")" ] &&
	[ "$(stat -c %i "$mnt/p1/hard-b")" = "$(stat -c %i "$mnt/p1/hello.txt")" ] &&
	[ "$(stat -c %h "$mnt/p1/hello.txt")" = 3 ] &&
	ok "p1: hard links share an inode, nlink 3" ||
	fail "p1: hard links: $(stat -c '%n %i %h' "$mnt/p1/hello.txt" "$mnt/p1/hard-a" "$mnt/p1/hard-b")"
[ "$(stat -c %b "$mnt/p1/sparse.bin")" -lt 100 ] && ok "p1: sparse file allocates $(stat -c %b "$mnt/p1/sparse.bin") blocks" ||
	fail "p1: sparse file: $(stat -c %b "$mnt/p1/sparse.bin") blocks"
[ "$(stat -c %Y "$mnt/p1/hello.txt")" = "$(stat -c %Y src/hello.txt)" ] &&
	[ "$(stat -c %Y "$mnt/p1/Grüße")" = "$(stat -c %Y src/Grüße)" ] &&
	ok "p1: mtimes (stat -c %Y)" || fail "p1: mtime $(stat -c %Y "$mnt/p1/hello.txt")"
# the kernel forgets inodes it drops: the node table shrinks with it
# (statfs reports the nodes known as its inode count).  How many of the
# 40,000 walked the kernel still holds depends on its memory pressure (a
# loaded CI machine reclaims some before we ask), so: a walk's worth before,
# almost none after.
find "$mnt/p1/many" -type f > /dev/null
before=$(stat -f -c %c "$mnt")
sync; echo 2 > /proc/sys/vm/drop_caches
# the FORGET messages arrive and are answered after drop_caches returns
# (slower under the sanitizers): give the daemon up to 10 s to catch up
for _ in $(seq 100); do
	after=$(stat -f -c %c "$mnt")
	[ "$after" -lt 1000 ] && break
	sleep 0.1
done
[ "$before" -gt 10000 ] && [ "$after" -lt 1000 ] &&
	ok "forget: $before nodes before the kernel dropped its inodes, $after after" ||
	fail "forget: $before nodes before dropping caches, $after after"
# hard links still share an inode number through a forget
[ "$(stat -c %i "$mnt/p1/hard-a")" = "$(stat -c %i "$mnt/p1/hello.txt")" ] ||
	fail "p1: hard links after forget"

# every change fails with EROFS, inside the trees too
for v in p1 p2; do
	erofs "$v: write" sh -c "echo x > '$mnt/$v/hello.txt'"
	erofs "$v: append" sh -c "echo x >> '$mnt/$v/hello.txt'"
	erofs "$v: create" touch "$mnt/$v/new"
	erofs "$v: touch (utimens)" touch "$mnt/$v/hello.txt"
	erofs "$v: chmod" chmod 777 "$mnt/$v/hello.txt"
	erofs "$v: chown" chown 1:1 "$mnt/$v/hello.txt"
	erofs "$v: truncate" truncate -s 0 "$mnt/$v/hello.txt"
	erofs "$v: rm" rm -f "$mnt/$v/hello.txt"
	erofs "$v: rmdir" rmdir "$mnt/$v/private"
	erofs "$v: mkdir" mkdir "$mnt/$v/newdir"
	erofs "$v: rename" mv "$mnt/$v/hello.txt" "$mnt/$v/moved.txt"
	erofs "$v: hard link" ln "$mnt/$v/hello.txt" "$mnt/$v/hl"
	erofs "$v: symlink" ln -s x "$mnt/$v/sl"
done
[ "$(cat "$mnt/p1/hello.txt")" = hello ] && [ ! -e "$mnt/p1/new" ] ||
	fail "the tree changed"

if "$VHDUNLOCK" umount "$mnt" 2>err && wait_gone "$mnt"; then
	ok "umount: unmounted, daemon ended"
else
	fail "umount: $(cat err); still mounted or daemon alive"
fi

# ---- allow_other: other users meet the files' own permissions ----
runas() { setpriv --reuid nobody --regid "$(id -g nobody)" --clear-groups "$@"; }
# The build tree may be where nobody cannot go (a checkout in /root, under
# a 0700 mktemp directory): mount points for nobody go in /tmp.
udir=$(mktemp -d /tmp/vhdunlock-mount-tree.XXXXXX)
chmod 755 "$udir" && chown nobody "$udir"
amnt="$udir/amnt"
mkdir "$amnt"
"$VHDUNLOCK" mount -o allow_other disk.vhd "$amnt" 2>err || fail "mount -o allow_other: $(cat err)"
[ "$(runas cat "$amnt/p1/hello.txt" 2>&1)" = hello ] &&
	ok "allow_other: nobody reads a 0644 file" ||
	fail "allow_other: nobody cannot read hello.txt: $(runas cat "$amnt/p1/hello.txt" 2>&1)"
runas cat "$amnt/p1/secret.txt" >/dev/null 2>err && fail "allow_other: nobody read root's 0600 file"
grep -q "Permission denied" err && ok "allow_other: nobody is denied root's 0600 file (default_permissions)" ||
	fail "allow_other: secret.txt: $(cat err)"
grep " $amnt " /proc/mounts | grep -q default_permissions ||
	fail "allow_other without default_permissions: $(grep " $amnt " /proc/mounts)"
"$VHDUNLOCK" umount "$amnt" 2>err && wait_gone "$amnt" || fail "umount: $(cat err)"

# ---- an ordinary user's mount reads root's 0600 files ----
# FUSE needs /dev/fuse open to every user (0666, as the fuse3 package's
# udev rule sets it); the mode is restored at exit.
chmod 666 /dev/fuse
umnt="$udir/mnt"
runas mkdir "$umnt"
# the image and the program where nobody can reach them
runas test -r "$work/disk.vhd" && uimg="$work/disk.vhd" || { cp disk.vhd "$udir/" && uimg="$udir/disk.vhd"; }
runas test -x "$VHDUNLOCK" && uprog="$VHDUNLOCK" || { cp "$VHDUNLOCK" "$udir/" && uprog="$udir/$(basename "$VHDUNLOCK")"; }
if ASAN_OPTIONS="${ASAN_OPTIONS%log_path=*}log_path=$udir/asan" \
   UBSAN_OPTIONS="${UBSAN_OPTIONS%log_path=*}log_path=$udir/ubsan:print_stacktrace=1" \
   runas "$uprog" mount "$uimg" "$umnt" 2>err && mounted "$umnt"; then
	ok "nobody mounted the image"
	ra=$(readahead_kb "$umnt")
	[ "$ra" -lt 2048 ] && ok "nobody's mount keeps the kernel's read-ahead ($ra KiB)" ||
		fail "nobody's mount reads ahead $ra KiB"
else
	fail "nobody's mount: $(cat err)"
fi
[ "$(runas cat "$umnt/p1/secret.txt" 2>&1)" = "root only" ] &&
	[ "$(runas cat "$umnt/p2/secret.txt" 2>&1)" = "root only" ] &&
	ok "nobody reads root's 0600 file through its own mount" ||
	fail "nobody's mount: secret.txt: $(runas cat "$umnt/p1/secret.txt" 2>&1)"
[ "$(runas cat "$umnt/p1/private/inner.txt" 2>&1)" = "in a 0700 directory" ] &&
	ok "nobody reads inside root's 0700 directory" ||
	fail "nobody's mount: private/inner.txt: $(runas cat "$umnt/p1/private/inner.txt" 2>&1)"
[ "$(runas stat -c %U "$umnt/p1/secret.txt")/$(runas stat -c %U "$umnt/p1.img")" = root/nobody ] &&
	ok "owners: the file system's (root) in the tree, nobody's for the .img" ||
	fail "owners: $(runas stat -c %U "$umnt/p1/secret.txt" "$umnt/p1.img" 2>&1 | tr '\n' ' ')"
# without allow_other nobody else gets in, root included
stat "$umnt/p1" >/dev/null 2>&1 && fail "root reached nobody's mount without allow_other"
if runas "$uprog" umount "$umnt" 2>err && wait_gone "$umnt"; then
	ok "nobody unmounted with vhdunlock umount"
else
	fail "nobody's umount: $(cat err)"
fi
if ls "$udir"/asan* "$udir"/ubsan* >/dev/null 2>&1; then
	fail "sanitizer reports: $(cat "$udir"/asan* "$udir"/ubsan* 2>/dev/null | head -40)"
fi
chmod "$fuse_mode" /dev/fuse
rm -rf "$udir"

# ---- -f in the background of this shell; SIGTERM ends it ----
"$VHDUNLOCK" mount -f disk.vhd "$mnt" 2>ferr &
pid=$!
if wait_mounted "$mnt"; then ok "mounted with -f"; else fail "-f: not mounted: $(cat ferr)"; fi
cmp -s src/mid.bin "$mnt/p2/mid.bin" || fail "-f: p2/mid.bin differs"
# an open file and directory do not keep SIGTERM from unmounting (and
# their handles are freed: the sanitizer build checks for leaks)
exec 3< "$mnt/p1/big.bin" 4< "$mnt/p2/many"
kill -TERM "$pid"
wait "$pid"; rc=$?
exec 3<&- 4<&-
if [ "$rc" = 0 ] && wait_gone "$mnt"; then
	ok "-f: SIGTERM unmounted cleanly, exit 0"
else
	fail "-f: exit $rc after SIGTERM, mounted: $(mounted "$mnt" && echo yes || echo no); $(cat ferr)"
fi
grep -E "Sanitizer|runtime error" ferr && fail "sanitizer report in the foreground run"

[ "$(sha256sum < disk.vhd)" = "$img_sum" ] && ok "disk.vhd unchanged" || fail "disk.vhd changed"
if ls "$work"/asan* "$work"/ubsan* >/dev/null 2>&1; then
	fail "sanitizer reports: $(cat "$work"/asan* "$work"/ubsan* 2>/dev/null | head -40)"
fi
cleanup 2>/dev/null
finish
