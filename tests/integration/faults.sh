#!/bin/sh
# faults: read faults injected through the real mount and through extract.
#
# tests/tools/vhdunlock-faults is the vhdunlock program built for tests
# only, with VHDUNLOCK_TEST_FAIL_READ=N (the N-th block read of the process
# fails with EIO) and N+ (that one and every later one: a disk that went
# away).  A clean run counts the reads of a whole mount-and-read
# (VHDUNLOCK_TEST_READ_COUNT); then N walks that range, once and sticky,
# over two disks:
#   win.vhd  Windows-like: GPT with p1 EFI (FAT), p2 MSR, p3 BitLocker
#            (test-only writer, XTS-AES-128) over an NTFS filled through
#            ntfs-3g (directories, a compressed directory, a 3 MiB file)
#   ubu.vhd  Ubuntu-like after ADE: p14 BIOS boot, p15 EFI (FAT), p1 ext4
#            root in LUKS2 with a detached header, p2 ext2 /boot holding it
#            as /luks/osluksheader
# Each run mounts in the foreground (its PID is ours to wait for) and hashes
# every file of the mount: each volume's <id>.img and every file of its
# tree.  Every outcome must be one of: the right bytes; EIO for that file;
# the mount refused with a message and an exit status below 128.  Never a
# crash, a sanitizer report, a hang (each read has 30 s), another error
# (ENOENT for a file that exists, ENOTCONN of a dead daemon), or wrong bytes.
# Then extract under faults: the exit status says it failed, the failed file
# is named, the manifest lists only files copied whole, and those are right.
. "$top_srcdir/tests/integration/lib.sh"
need mkntfs ntfs-3g mkfs.vfat mcopy mkfs.ext4 mkfs.ext2 cryptsetup sfdisk \
	partx qemu-img fusermount3 setfattr getfattr sha256sum openssl python3
[ -e /dev/fuse ] || skip "/dev/fuse missing (no FUSE in this environment)"
[ "$(id -u)" = 0 ] || skip "needs root: ntfs-3g mounts the NTFS image file to fill it"
FV=${VHDUNLOCK_FAULTS:-$top_builddir/tests/tools/vhdunlock-faults}
mk=${MKBITLK:-$top_builddir/tests/tools/mkbitlk}
[ -x "$FV" ] || { fail "$FV not built"; finish; }
[ -x "$mk" ] || { fail "$mk not built"; finish; }
python_path
# how many fault points each disk gets between the first 8 reads and the
# end of a clean run (each mode)
POINTS=${FAULT_POINTS:-16}

cd "$work" || exit 1
work=$(pwd -P)
export LC_ALL=C TZ=UTC
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$work/asan"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$work/ubsan:print_stacktrace=1"
mnt="$work/mnt" nmnt="$work/nmnt"
mkdir -p "$mnt" "$nmnt"
pid= ntfs_pid=
cleanup() {
	mounted "$nmnt" && umount "$nmnt"
	[ -n "$ntfs_pid" ] && wait "$ntfs_pid"
	mounted "$mnt" && fusermount3 -u -z "$mnt"
	[ -n "$pid" ] && wait "$pid"
}
trap 'cleanup 2>/dev/null' EXIT
trap 'cleanup 2>/dev/null; exit 1' INT TERM
random() {
	openssl enc -aes-128-ctr -pass "pass:$2" -nosalt </dev/zero 2>/dev/null | head -c "$1"
}
sum() { set -- $(sha256sum < "$1"); echo "$1"; }
# tree_sums DIR PREFIX: "SHA256 PREFIX/PATH" of every file below DIR, in
# find's order, from one sha256sum
tree_sums() {
	(cd "$1" && find . -type f -print0 | xargs -0 -r sha256sum) |
		sed "s|^\([0-9a-f]*\)  \./|\1 $2/|"
}
# readall.py MNT WANT SECONDS: reads each file of WANT ("SHA256 PATH"
# lines) below MNT as sha256sum does (fadvise sequential, 32 KiB reads),
# each in a thread given SECONDS, and prints a tab-separated line per file:
# good, wrong (other bytes), eio, or error and the message.  A read that
# outlives SECONDS prints hung and ends the process with status 3 (the exit
# kills the reading thread, as timeout(1) killed sha256sum).
tab=$(printf '\t')
cat > readall.py <<'EOF'
import errno, hashlib, os, sys, threading
mnt, want, limit = os.fsencode(sys.argv[1]), sys.argv[2], float(sys.argv[3])
out = sys.stdout.buffer
def digest(path, box):
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
            h = hashlib.sha256()
            while True:
                b = os.read(fd, 32768)
                if not b:
                    break
                h.update(b)
        finally:
            os.close(fd)
        box.append(h.hexdigest().encode())
    except OSError as e:
        box.append(e)
for line in open(want, "rb"):
    h, f = line.rstrip(b"\n").split(b" ", 1)
    box = []
    t = threading.Thread(target=digest, args=(mnt + b"/" + f, box), daemon=True)
    t.start()
    t.join(limit)
    if not box:
        out.write(b"hung\t" + f + b"\n")
        out.flush()
        os._exit(3)
    r = box[0]
    if isinstance(r, bytes):
        out.write((b"good\t" if r == h else b"wrong\t") + f + b"\n")
    elif r.errno == errno.EIO:
        out.write(b"eio\t" + f + b"\n")
    else:
        out.write(b"error\t" + f + b"\t" + os.fsencode(str(r)) + b"\n")
    out.flush()
EOF

# ---- win.vhd ----
mkdir -p w/Users/alice/Documents w/Users/alice/Compressed w/Windows/System32/config \
	w/Users/alice/AppData/many
printf 'meeting notes\r\n' > w/Users/alice/Documents/notes.txt
printf 'café\r\n' > "w/Users/alice/Documents/café é.txt"
random 3145728 big > w/Users/alice/Documents/big.bin
random 1048576 software > w/Windows/System32/config/SOFTWARE
seq 1 100000 > w/Users/alice/Compressed/numbers.txt
{ random 100000 mix; head -c 200000 /dev/zero; seq 1 20000; } > w/Users/alice/Compressed/mixed.bin
for i in $(seq 40); do echo "file $i" > "w/Users/alice/AppData/many/f$i.txt"; done
: > w/Users/alice/empty.txt
truncate -s 24M plain.ntfs
mkntfs -F -Q -q -L Windows plain.ntfs >mkntfs.log 2>&1 || fail "mkntfs: $(cat mkntfs.log)"
ntfs-3g -o compression,big_writes,no_detach plain.ntfs "$nmnt" >ntfs-3g.log 2>&1 &
ntfs_pid=$!
for _ in $(seq 100); do mounted "$nmnt" && break; sleep 0.1; done
mkdir -p "$nmnt/Users/alice/Compressed"
setfattr -n system.ntfs_attrib_be -v 0x00000800 "$nmnt/Users/alice/Compressed" ||
	fail "cannot mark Compressed for compression"
cp -r w/. "$nmnt/" || fail "cp into the NTFS"
umount "$nmnt" && wait "$ntfs_pid" || fail "ntfs-3g: $(tail -n 5 ntfs-3g.log)"
ntfs_pid=
mkdir keys
"$mk" --method xts-128 --bek-dir keys --recovery-password-file rp.txt plain.ntfs bl.img >mkbitlk.log 2>&1 ||
	fail "mkbitlk: $(cat mkbitlk.log)"
mkfs.vfat -C -n SYSTEM esp-w.fs 8192 >/dev/null && random 65536 boot > bootmgfw.efi &&
	MTOOLS_SKIP_CHECK=1 mcopy -i esp-w.fs bootmgfw.efi ::/ || fail "EFI FAT"
head -c 16M /dev/zero > msr.img
gpt_vhd win.vhd 1:EF00:8:esp-w.fs 2:0C01:16:msr.img 3:0700:24:bl.img
# expected: "SHA256 PATH" per line, PATH relative to the mount
{
	echo "$(sum esp-w.fs) p1.img"
	echo "$(sum msr.img) p2.img"
	echo "$(sum plain.ntfs) p3.img"
	echo "$(sum bootmgfw.efi) p1/bootmgfw.efi"
	tree_sums w p3
} > win.want
rm -f bl.img

# ---- ubu.vhd ----
ade_key ade.key
mkdir -p u/etc u/home/azureuser/many u/var/log
echo ubuntu-vm > u/etc/hostname
printf 'osencrypt /dev/sda1 none luks,header=/boot/luks/osluksheader\n' > u/etc/crypttab
seq 1 50000 | sed 's/^/syslog line /' > u/var/log/syslog
random 3145728 blob > u/home/azureuser/blob.bin
for i in $(seq 40); do echo "note $i" > "u/home/azureuser/many/n$i.txt"; done
ln -s ../usr/share/zoneinfo/Etc/UTC u/etc/localtime
mkfs.ext4 -q -F -L cloudimg-rootfs -d u root.fs 24M || fail "mkfs.ext4"
cp root.fs root.enc
cryptsetup reencrypt --encrypt --type luks2 --header os.hdr --batch-mode \
	--key-file ade.key --pbkdf pbkdf2 --pbkdf-force-iterations 1000 root.enc \
	>mk.log 2>&1 || fail "cryptsetup: $(cat mk.log)"
truncate -s 16M os.hdr
mkdir -p b/luks b/grub && cp os.hdr b/luks/osluksheader && echo "set default=0" > b/grub/grub.cfg
mkfs.ext2 -q -F -L boot -d b boot.fs 24M || fail "mkfs.ext2"
mkfs.vfat -C -n UEFI esp-u.fs 8192 >/dev/null &&
	MTOOLS_SKIP_CHECK=1 mcopy -i esp-u.fs b/grub/grub.cfg ::/ || fail "EFI FAT"
head -c 4M /dev/zero > bios.img
gpt_vhd ubu.vhd 14:EF02:4:bios.img 15:EF00:8:esp-u.fs 1:8300:24:root.enc 2:8300:24:boot.fs
{
	echo "$(sum bios.img) p14.img"
	echo "$(sum esp-u.fs) p15.img"
	echo "$(sum root.fs) p1.img"
	echo "$(sum boot.fs) p2.img"
	echo "$(sum b/grub/grub.cfg) p15/grub.cfg"
	tree_sums u p1
	tree_sums b p2
} > ubu.want
rm -f root.enc
[ "$failures" -eq 0 ] || finish

# ---- one mount-and-read ----
# mount_read DISK WANT SPEC KEYS...: mount DISK in the foreground with the
# fault SPEC ("" for none), hash every file of WANT, unmount; counts the
# outcomes in n_good n_eio n_refused, and fails on anything else
n_good=0 n_eio=0 n_refused=0
mount_read() {
	d=$1 want=$2 spec=$3
	shift 3
	VHDUNLOCK_TEST_FAIL_READ=$spec "$FV" mount "$d" "$mnt" "$@" -f \
		</dev/null >daemon.out 2>daemon.err &
	pid=$!
	i=0
	while ! mounted "$mnt" && kill -0 "$pid" 2>/dev/null && [ $i -lt 600 ]; do
		sleep 0.05; i=$((i + 1))
	done
	if ! mounted "$mnt"; then
		if kill -0 "$pid" 2>/dev/null; then
			fail "$d fault $spec: neither mounted nor exited after 30 s"
			kill "$pid"; wait "$pid"; pid=
			return
		fi
		wait "$pid"; rc=$?; pid=
		if [ $rc -gt 0 ] && [ $rc -lt 128 ] && grep -q . daemon.err; then
			n_refused=$((n_refused + 1))
		else
			fail "$d fault $spec: mount exited $rc without mounting: $(head -c 300 daemon.err)"
		fi
		return
	fi
	# one reader for the whole list (not three processes per file); after
	# a hang it has ended, and a new one goes on after that file
	cp "$want" left
	while [ -s left ]; do
		"$PY" "$work/readall.py" "$mnt" left 30 >read.out 2>read.err
		rc=$?
		while IFS="$tab" read -r r f m; do
			case $r in
			good) n_good=$((n_good + 1)) ;;
			eio) n_eio=$((n_eio + 1)) ;;
			wrong) fail "$d fault $spec: $f: WRONG BYTES returned as good" ;;
			hung) fail "$d fault $spec: $f: read hung (30 s)" ;;
			*) fail "$d fault $spec: $f: not EIO but: $m" ;;
			esac
		done < read.out
		n=$(wc -l < read.out)
		if [ $rc = 3 ] && [ "$n" -gt 0 ]; then
			tail -n +$((n + 1)) left > left.next && mv left.next left
		else
			[ $rc = 0 ] && [ "$n" = "$(wc -l < left)" ] ||
				fail "$d fault $spec: the reader ended with $rc after $n of $(wc -l < left) files: $(head -c 300 read.err)"
			break
		fi
	done
	fusermount3 -u "$mnt" || { fail "$d fault $spec: fusermount3 -u"; fusermount3 -u -z "$mnt"; }
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
	if kill -0 "$pid" 2>/dev/null; then
		fail "$d fault $spec: the daemon did not end after the unmount"
		kill "$pid"
	fi
	wait "$pid"; rc=$?; pid=
	[ $rc -lt 128 ] || fail "$d fault $spec: the daemon ended with status $rc: $(head -c 300 daemon.err)"
}

# walk DISK WANT KEYS...: a clean run (which must read everything right),
# then faults at reads 1-8 and at POINTS places up to the end, each once
# and from then on
walk() {
	d=$1 want=$2
	shift 2
	n_good=0 n_eio=0 n_refused=0
	rm -f count
	VHDUNLOCK_TEST_READ_COUNT=$work/count mount_read "$d" "$want" "" "$@"
	files=$(wc -l < "$want")
	total=$(awk '{ print $2 }' count 2>/dev/null | tail -n 1)
	if [ "$n_good" != "$files" ] || [ -z "$total" ] || [ "$total" -lt 100 ]; then
		fail "$d: the clean run read $n_good of $files files right, $total block reads"
		return
	fi
	ok "$d: clean run: all $files files right in $total block reads"
	n_good=0
	points=$(awk -v t="$total" -v p="$POINTS" 'BEGIN {
		for (i = 1; i <= 8; i++) print i
		for (i = 1; i <= p; i++) print 8 + int((t - 8) * i / (p + 1))
		print t + 10 }' | sort -n -u)
	runs=0
	for n in $points; do
		for spec in "$n" "$n+"; do
			mount_read "$d" "$want" "$spec" "$@"
			runs=$((runs + 1))
		done
	done
	for f in "$work"/asan* "$work"/ubsan*; do
		[ -e "$f" ] && fail "$d: sanitizer report: $(head -n 20 "$f")"
	done
	ok "$d: $runs faulted runs (reads $(echo $points | tr ' ' ',') of $total, once and from then on): $n_good files right, $n_eio EIO, $n_refused mounts refused with a message; no wrong bytes, crash or hang"
	[ "$n_eio" -gt 0 ] || fail "$d: no fault ever reached a file read"
	[ "$n_refused" -gt 0 ] || fail "$d: no fault ever reached the mount's opening"
}

walk win.vhd win.want --bek keys
walk ubu.vhd ubu.want --key-file ade.key

# ---- extract under faults ----
# named PATH: x.err names PATH or a directory above it
named() {
	p=$1
	while :; do
		grep -qF "$p" x.err && return 0
		case $p in */*) p=${p%/*} ;; *) return 1 ;; esac
	done
}
# extract_faults DISK VOL SRC KEYS...: extract VOL:/ with faults spread over
# a clean extract's reads; a run that fails names what failed, and its
# manifest lists only files that are right (by SRC's hashes)
extract_faults() {
	d=$1 vol=$2 src=$3
	shift 3
	rm -rf out count
	VHDUNLOCK_TEST_READ_COUNT=$work/count "$FV" extract "$d" "$vol:/" out "$@" \
		</dev/null >x.out 2>x.err || fail "$d: clean extract: $(cat x.err)"
	total=$(awk '{ print $2 }' count | tail -n 1)
	(cd "$src" && find . -type f | sed 's|^\./||' | sort) > x.files
	(cd out && grep -c . vhdunlock-manifest.sha256) > x.n 2>/dev/null
	[ "$(cat x.n)" = "$(wc -l < x.files)" ] ||
		fail "$d: clean extract lists $(cat x.n) of $(wc -l < x.files) files"
	failed_runs=0 partial=0
	for n in $(awk -v t="$total" 'BEGIN { for (i = 1; i <= 12; i++) print int(t * i / 13) + 1 }' | sort -n -u); do
		for spec in "$n" "$n+"; do
			rm -rf out
			VHDUNLOCK_TEST_FAIL_READ=$spec "$FV" extract "$d" "$vol:/" out "$@" \
				</dev/null >x.out 2>x.err
			rc=$?
			[ $rc -lt 128 ] || { fail "$d extract $spec: status $rc: $(head -c 300 x.err)"; continue; }
			m=out/vhdunlock-manifest.sha256
			listed=0
			if [ -f "$m" ]; then
				# every file listed is right: the manifest's hash is the
				# source's, and the copy on disk has it (one sha256sum -c
				# each, not two processes per file; --strict: a line that
				# is not "HASH  PATH" fails too)
				listed=$(awk 'END { print NR }' "$m")
				if [ "$listed" -gt 0 ]; then
					(cd "$src" && sha256sum -c --strict --quiet "$work/$m") >x.src 2>&1 ||
						fail "$d extract $spec: the manifest lists a file with a wrong hash: $(head -c 300 x.src)"
					(cd out && sha256sum -c --strict --quiet vhdunlock-manifest.sha256) >x.copy 2>&1 ||
						fail "$d extract $spec: a file is listed but its copy is not right: $(head -c 300 x.copy)"
				fi
			fi
			# no file left in DEST that the manifest does not list
			(cd out 2>/dev/null && find . -type f ! -name vhdunlock-manifest.sha256 |
				sed 's|^\./||' | sort) > x.present
			sed 's/^[0-9a-f]* [ *]//' "$m" 2>/dev/null | sort > x.listed
			extra=$(comm -23 x.present x.listed | head -n 3)
			[ -z "$extra" ] || fail "$d extract $spec: unlisted files left in DEST: $extra"
			if [ $rc = 0 ]; then
				[ "$listed" = "$(wc -l < x.files)" ] ||
					fail "$d extract $spec: exit 0 but only $listed files listed"
				continue
			fi
			failed_runs=$((failed_runs + 1))
			[ "$listed" -lt "$(wc -l < x.files)" ] && partial=$((partial + 1))
			grep -q 'vhdunlock: ' x.err ||
				fail "$d extract $spec: exit $rc with no message"
			# each file missing from the manifest was named, or a
			# directory above it was, or nothing was copied at all
			comm -23 x.files x.listed | while IFS= read -r f; do
				[ "$listed" = 0 ] && break
				named "$f" || { echo "$f"; break; }
			done > x.unnamed
			[ -s x.unnamed ] && fail "$d extract $spec: $(cat x.unnamed) is missing and not named: $(head -c 300 x.err)"
		done
	done
	ok "$d: extract with faults at 12 places of $total reads (once and from then on): $failed_runs runs failed with a message, $partial with a partial manifest of right files"
	[ "$failed_runs" -gt 0 ] || fail "$d: no fault made extract fail"
}
extract_faults win.vhd p3 w --bek keys
extract_faults ubu.vhd p1 u --key-file ade.key
finish
