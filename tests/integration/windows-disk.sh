#!/bin/sh
# windows-disk: the files of a Windows-like disk, as an Azure Windows VM's
# OS disk is laid out, through vhdunlock mount, ls, cat and extract.
# A fixed VHD (qemu-img) with a GPT (sfdisk) holding
#   p1 the EFI system partition, FAT (mkfs.vfat, files put in with mtools);
#   p2 the Microsoft reserved partition, 16 MiB of zeros;
#   p3 a BitLocker XTS-AES-128 volume made by the test-only writer
#      (tests/tools/mkbitlk, proven by bitlocker-writer.sh first) from an
#      NTFS image made by mkntfs and filled through a real ntfs-3g mount:
#      deep paths, Unicode names (é, 日本語, emoji), a 200 MB random file, a
#      sparse file, files compressed by ntfs-3g (a directory marked for
#      compression), alternate data streams (Zone.Identifier, a large one),
#      a directory of 20,000 files, a hard link, old mtimes, an empty file;
#   p4 a plain NTFS recovery partition (Windows RE type) with a few files.
# The source trees stay on disk as the expected content.  Checked, with the
# startup key (.BEK) and the recovery password: through the mount, every
# file's SHA-256, sizes, mtimes, the 20,000 names, the streams (by
# FILE:STREAM and the attribute user.vhdunlock.streams), hard links, p3.img
# and p4.img equal to the NTFS images, p1.img to the FAT image, p2.img
# zeros; 8 parallel readers; every change fails with EROFS; ls -l --json
# (names, sizes, btime, streams, flags), cat of a stream, extract of
# /Users (diff -r, streams beside their files, mtimes, the manifest with
# sha256sum -c); the image unchanged.
. "$top_srcdir/tests/integration/lib.sh"
need mkntfs ntfs-3g sfdisk partx mkfs.vfat mmd mcopy qemu-img fusermount3 \
	getfattr setfattr jq openssl sha256sum cmp diff find stat xargs awk \
	truncate dd head sort umount
[ -e /dev/fuse ] || skip "/dev/fuse missing (no FUSE in this environment)"
[ "$(id -u)" = 0 ] || skip "needs root: ntfs-3g mounts the NTFS image file to fill it"
mk=${MKBITLK:-$top_builddir/tests/tools/mkbitlk}
[ -x "$mk" ] || { fail "$mk not built"; finish; }

cd "$work" || exit 1
work=$(pwd -P)
export LC_ALL=C TZ=UTC
# Sanitizer reports of the daemon (whose standard error is /dev/null) go to
# files here; harmless when the program is not instrumented.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$work/asan"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$work/ubsan:print_stacktrace=1"
V() { "$VHDUNLOCK" "$@"; }

mnt="$work/mnt"    # vhdunlock mount
nmnt="$work/nmnt"  # ntfs-3g, while the images are filled
mkdir -p "$mnt" "$nmnt"
ntfs_pid=
mounted() { awk -v m="$1" '$2 == m { f = 1 } END { exit !f }' /proc/mounts; }
cleanup() {
	mounted "$nmnt" && umount "$nmnt"
	[ -n "$ntfs_pid" ] && wait "$ntfs_pid"
	mounted "$mnt" && fusermount3 -u -z "$mnt"
}
trap 'cleanup 2>/dev/null' EXIT
trap 'cleanup 2>/dev/null; exit 1' INT TERM

# ntfs_mount IMG: ntfs-3g in the foreground of a background job, so that
# ntfs_umount can wait for it to have written everything back
ntfs_mount() {
	ntfs-3g -o streams_interface=windows,compression,big_writes,no_detach \
		"$1" "$nmnt" >ntfs-3g.log 2>&1 &
	ntfs_pid=$!
	for _ in $(seq 100); do mounted "$nmnt" && return 0; sleep 0.1; done
	fail "ntfs-3g $1: not mounted: $(tail -n 5 ntfs-3g.log)"
	return 1
}
ntfs_umount() {
	umount "$nmnt" || fail "umount of ntfs-3g: $nmnt"
	wait "$ntfs_pid" || fail "ntfs-3g exited with $?: $(tail -n 5 ntfs-3g.log)"
	ntfs_pid=
}
# attrib FILE: the NTFS file attributes ntfs-3g reports, as a number
attrib() {
	printf '%d' "$(getfattr --absolute-names -h -e hex -n system.ntfs_attrib_be "$1" 2>/dev/null |
		sed -n 's/^system.ntfs_attrib_be=//p')"
}
# meta DIR: one sorted line per entry below DIR: type, size of files,
# modification time in seconds; NTFS system files ($MFT ...) left out
meta() {
	(cd "$1" && find . -mindepth 1 \( -type d -printf '%p d %Ts\n' \) -o \
		-printf '%p %y %s %Ts\n') | grep -v '^\./\$' | sort
}
hashes() { (cd "$1" && find . -type f ! -name '$*' -print0 | sort -z | xargs -0 sha256sum) }
# random N: N bytes that do not compress (AES-CTR of zeros, fast)
random() {
	openssl enc -aes-128-ctr -pass "pass:$2" -nosalt </dev/zero 2>/dev/null | head -c "$1"
}
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
t0=$(date +%s)

# ---- p3's tree ----
A=src/Users/alice
# a deep path: Users/alice/Documents/Projects/2026/Q4/reports/final/...,
# 40 levels deep
DEEP="$A/Documents/Projects/2026/Q4/reports/final/archive"
for i in $(seq 32); do DEEP="$DEEP/v$i"; done
MANY="$A/AppData/Local/Temp/many"
mkdir -p "$DEEP" "$A/Downloads" "$A/Desktop" "$A/日本語" "$A/Videos" "$A/Pictures" \
	"$A/Compressed/logs" "$MANY" src/Users/Public src/Windows/System32/config \
	src/Windows/System32/drivers/etc src/ProgramData
printf '127.0.0.1 localhost\r\n' > src/Windows/System32/drivers/etc/hosts
random 1048576 software > src/Windows/System32/config/SOFTWARE
printf 'final report\r\n' > "$A/Documents/Projects/2026/Q4/reports/final/report-final.txt"
printf 'at the bottom\r\n' > "$DEEP/summary.txt"
printf 'meeting notes\r\n' > "$A/Documents/notes.txt"
random 51200 setup > "$A/Downloads/setup.exe"
printf 'café\n' > "$A/Desktop/café é.txt"
printf 'にほんご\n' > "$A/日本語/ファイル.txt"
printf 'smile\n' > "$A/Desktop/🙂 smile.txt"
printf 'Ωμέγα\n' > "$A/Desktop/Ωμέγα-😀-日本.txt"
random 200M big > "$A/Videos/big.bin"
# a sparse file: 16 MiB with three islands of data
truncate -s 16M "$A/Pictures/sparse.bin"
random 65536 s1 | dd of="$A/Pictures/sparse.bin" conv=notrunc status=none
printf middle | dd of="$A/Pictures/sparse.bin" bs=1 seek=8388608 conv=notrunc status=none
printf end | dd of="$A/Pictures/sparse.bin" bs=1 seek=$((16 * 1048576 - 3)) conv=notrunc status=none
# for the directory marked for compression: text, zeros, a mix with data
# that does not compress (stored raw in its compression units)
seq 1 300000 > "$A/Compressed/numbers.txt"
head -c 1048576 /dev/zero > "$A/Compressed/zeros.bin"
{ random 100000 mix; head -c 200000 /dev/zero; seq 1 50000; random 70000 mix2; } > "$A/Compressed/mixed.bin"
seq 1 20000 | sed 's/^/log line /' > "$A/Compressed/logs/app.log"
# 20,000 files in one directory, most empty
(cd "$MANY" && seq -f 'f%05g' 20000 | xargs touch &&
	for i in 00001 07777 20000; do echo "file $i" > "f$i"; done)
: > "$A/empty.txt"
printf 'from the last century\r\n' > "$A/old.txt"
printf 'budget\r\n' > "$A/Documents/budget.xlsx"
ln "$A/Documents/budget.xlsx" src/Users/Public/budget-link.xlsx
printf 'public\r\n' > src/Users/Public/readme.txt
printf 'desktop.ini\r\n' > src/ProgramData/settings.ini
touch -d '1999-12-31 23:59:59' "$A/old.txt"
touch -d '2001-02-03 04:05:06' "$A/Videos/big.bin" "$A/Compressed/numbers.txt"
touch -d '2005-05-05 05:05:05' "$DEEP" "$A/Documents/Projects"
touch -d '2010-06-01 12:00:00' "$A/日本語"
# the streams: NAME:STREAM beside a file here stands for the stream (kept
# outside the tree; written through ntfs-3g's streams_interface=windows)
mkdir streams
zone=$(printf '[ZoneTransfer]\r\nZoneId=3\r\nHostUrl=https://example.com/setup.exe\r\n')
printf '%s' "$zone" > streams/zone
random 300000 stream > streams/big
printf 'summary stream\n' > streams/summary

# ---- p4's tree ----
mkdir -p re/Recovery/WindowsRE
random 2097152 winre > re/Recovery/WindowsRE/Winre.wim
printf '<WindowsRE version="2.0"/>\r\n' > re/Recovery/WindowsRE/ReAgent.xml
touch -d '2020-02-02 02:02:02' re/Recovery/WindowsRE/ReAgent.xml

# ---- p1's tree ----
mkdir -p efi/EFI/Microsoft/Boot efi/EFI/Boot
random 131072 bootmgfw > efi/EFI/Microsoft/Boot/bootmgfw.efi
cp efi/EFI/Microsoft/Boot/bootmgfw.efi efi/EFI/Boot/bootx64.efi
printf 'BCD\n' > efi/EFI/Microsoft/Boot/BCD

# ntfs_fill IMG MB LABEL SRC: mkntfs on a sparse file, SRC copied in
# through ntfs-3g (hard links and times kept), then its mtimes checked
# as ntfs-3g shows them
ntfs_fill() {
	truncate -s "$2M" "$1"
	mkntfs -F -Q -q -L "$3" "$1" >mkntfs.log 2>&1 || { fail "mkntfs $1: $(cat mkntfs.log)"; return 1; }
	ntfs_mount "$1" || return 1
	if [ "$4" = src ]; then
		# new files in a directory marked for compression are compressed
		mkdir -p "$nmnt/Users/alice/Compressed"
		setfattr -n system.ntfs_attrib_be -v 0x00000800 "$nmnt/Users/alice/Compressed" ||
			fail "cannot mark Compressed for compression"
	fi
	cp -r --preserve=timestamps,links "$4/." "$nmnt/" || fail "cp $4 into $1"
	if [ "$4" = src ]; then
		for f in Users/alice/Documents/notes.txt Users/alice/Downloads/setup.exe; do
			cp streams/zone "$nmnt/$f:Zone.Identifier"
		done
		cp streams/big "$nmnt/Users/alice/Documents/notes.txt:big"
		cp streams/summary "$nmnt/$DEEP_REL/summary.txt:summary"
		# (a stream written is a change of its file)
		for f in Users/alice/Documents/notes.txt Users/alice/Downloads/setup.exe \
			"$DEEP_REL/summary.txt"; do
			touch -r "src/$f" "$nmnt/$f"
		done
		for f in numbers.txt zeros.bin mixed.bin logs/app.log; do
			[ $(($(attrib "$nmnt/Users/alice/Compressed/$f") & 0x800)) -ne 0 ] ||
				fail "ntfs-3g did not compress Compressed/$f"
		done
		[ $(($(attrib "$nmnt/Users/alice/Pictures/sparse.bin") & 0x200)) -ne 0 ] ||
			fail "ntfs-3g did not make Pictures/sparse.bin sparse"
	fi
	meta "$4" > meta.want
	meta "$nmnt" > meta.ntfs3g
	diff meta.want meta.ntfs3g > meta.diff ||
		fail "$1 through ntfs-3g differs from $4: $(head -n 10 meta.diff)"
	ntfs_umount
}
DEEP_REL=${DEEP#src/}
ntfs_fill plain.ntfs 320 Windows src
ntfs_fill recovery.ntfs 32 Recovery re
truncate -s 32M efi.img
mkfs.vfat -F 16 -n SYSTEM efi.img >/dev/null || fail "mkfs.vfat"
MTOOLS_SKIP_CHECK=1 mmd -i efi.img ::/EFI ::/EFI/Microsoft ::/EFI/Microsoft/Boot ::/EFI/Boot &&
	MTOOLS_SKIP_CHECK=1 mcopy -i efi.img efi/EFI/Microsoft/Boot/bootmgfw.efi efi/EFI/Microsoft/Boot/BCD \
		::/EFI/Microsoft/Boot/ &&
	MTOOLS_SKIP_CHECK=1 mcopy -i efi.img efi/EFI/Boot/bootx64.efi ::/EFI/Boot/ || fail "mtools"

# ---- BitLocker over the NTFS image ----
mkdir keys
"$mk" --method xts-128 --bek-dir keys --recovery-password-file rp.txt \
	--description "WINVM C: 23/11/2026" plain.ntfs bl.img > mkbitlk.out 2> mkbitlk.err ||
	fail "mkbitlk: $(cat mkbitlk.err)"

# ---- the disk ----
sect() { echo $(($(stat -c %s "$1") / 512)); }
s1=2048 n1=$(sect efi.img)
s2=$((s1 + n1)) n2=32768
s3=$((s2 + n2)) n3=$(sect bl.img)
s4=$((s3 + n3)) n4=$(sect recovery.ntfs)
rm -f disk.raw
truncate -s $(((s4 + n4 + 2048) * 512)) disk.raw
sfdisk -q --no-reread --no-tell-kernel disk.raw >sfdisk.log 2>&1 <<EOF || fail "sfdisk: $(cat sfdisk.log)"
label: gpt
unit: sectors
start=$s1, size=$n1, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI system partition"
start=$s2, size=$n2, type=E3C9E316-0B5C-4DB8-817D-F92DF00215AE, name="Microsoft reserved partition"
start=$s3, size=$n3, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="Basic data partition"
start=$s4, size=$n4, type=DE94BBA4-06D1-4D40-A16A-BFD50179D6AC, name="Recovery"
EOF
[ "$(partx -g -o START -n 3 disk.raw 2>/dev/null | tr -d ' ')" = "$s3" ] ||
	fail "partx: p3 does not start at $s3: $(partx -g disk.raw 2>&1)"
dd if=efi.img of=disk.raw bs=512 seek="$s1" conv=notrunc,sparse status=none
dd if=bl.img of=disk.raw bs=1M oflag=seek_bytes seek=$((s3 * 512)) conv=notrunc,sparse status=none
dd if=recovery.ntfs of=disk.raw bs=1M oflag=seek_bytes seek=$((s4 * 512)) conv=notrunc,sparse status=none
qemu-img convert -q -f raw -O vpc -o subformat=fixed,force_size=on disk.raw disk.vhd ||
	fail "qemu-img convert"
rm -f disk.raw bl.img
say "note: the disk was made in $(($(date +%s) - t0)) s"
[ "$failures" = 0 ] || finish
img_sum=$(sha256sum < disk.vhd)

# ---- the mount ----
if V mount disk.vhd "$mnt" --bek keys 2>err && mounted "$mnt"; then
	ok "mounted with the .BEK directory"
else
	fail "mount: $(cat err)"
	finish
fi
got=$(ls "$mnt" | tr '\n' ' ')
case $got in
"p1.img p2.img p3 p3.img p4 p4.img "|"p1 p1.img p2.img p3 p3.img p4 p4.img ")
	ok "ls MNT: $got" ;;
*)	fail "ls MNT: $got" ;;
esac
cmp -s "$mnt/p3.img" plain.ntfs && ok "p3.img is the decrypted NTFS image" ||
	fail "p3.img differs from the NTFS image"
cmp -s "$mnt/p4.img" recovery.ntfs && ok "p4.img is the recovery NTFS image" ||
	fail "p4.img differs from the recovery NTFS image"
cmp -s "$mnt/p1.img" efi.img && ok "p1.img is the FAT image" || fail "p1.img differs from efi.img"
[ "$(stat -c %s "$mnt/p2.img")" = $((n2 * 512)) ] && cmp -s -n $((n2 * 512)) "$mnt/p2.img" /dev/zero &&
	ok "p2.img: 16 MiB of zeros" || fail "p2.img: not 16 MiB of zeros"
[ ! -e "$mnt/p2" ] || fail "p2 (Microsoft reserved) has a tree"
if [ -d "$mnt/p1" ]; then
	diff -r efi "$mnt/p1" > diff.out 2>&1 && ok "p1: the FAT tree equals its source" ||
		fail "p1: $(head -n 10 diff.out)"
else
	ok "p1: FAT shows only p1.img (no FAT file reader)"
fi

# 8 parallel readers, different files (streams and p4 too), cold cache
sync; echo 3 > /proc/sys/vm/drop_caches
set -- "$A/Videos/big.bin" src/Windows/System32/config/SOFTWARE \
	"$A/Compressed/numbers.txt" "$A/Compressed/mixed.bin" "$A/Pictures/sparse.bin" \
	"$A/Downloads/setup.exe"
i=0 readers=
for f; do
	(cd "$mnt/p3" && sha256sum < "${f#src/}") > "par.$i" &
	readers="$readers $!"
	i=$((i + 1))
done
(sha256sum < "$mnt/p3/Users/alice/Documents/notes.txt:big") > par.6 &
readers="$readers $!"
(sha256sum < "$mnt/p4/Recovery/WindowsRE/Winre.wim") > par.7 &
readers="$readers $!"
wait $readers
set -- "$@" streams/big re/Recovery/WindowsRE/Winre.wim
i=0 par_ok=1
for f; do
	[ "$(cat "par.$i")" = "$(sha256sum < "$f")" ] || { par_ok=0; fail "parallel reader $i ($f): wrong content"; }
	i=$((i + 1))
done
[ "$par_ok" = 1 ] && ok "8 parallel readers got the right content"

# the whole trees: every file's SHA-256; types, sizes and mtimes
for v in p3:src p4:re; do
	id=${v%%:*} s=${v#*:}
	if [ ! -d "$mnt/$id" ]; then
		fail "$id: no tree at MNT/$id (NTFS not read?)"
		continue
	fi
	hashes "$s" > h.want
	hashes "$mnt/$id" > h.got
	cmp -s h.want h.got && ok "$id: SHA-256 of all $(wc -l < h.want) files" ||
		fail "$id: SHA-256 differ: $(diff h.want h.got | head -n 10)"
	meta "$s" > m.want
	meta "$mnt/$id" > m.got
	diff m.want m.got > m.diff && ok "$id: names, types, sizes, mtimes of $(wc -l < m.want) entries" ||
		fail "$id: metadata differ: $(head -n 20 m.diff)"
done
if [ -d "$mnt/p3" ]; then
	P="$mnt/p3/Users/alice"
	n=$(ls "$mnt/p3/${MANY#src/}" | wc -l)
	[ "$n" = 20000 ] && ok "p3: ls many: 20000 names" || fail "p3: ls many: $n names"
	start=$(date +%s%N)
	n=$(ls -l "$mnt/p3/${MANY#src/}" | grep -c '^-')
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	[ "$n" = 20000 ] && ok "p3: ls -l many: 20000 files in $ms ms" || fail "p3: ls -l many: $n files"
	[ "$(cat "$mnt/p3/${MANY#src/}/f07777")" = "file 07777" ] || fail "p3: many/f07777"
	all=ok
	for f in "Desktop/café é.txt" "日本語/ファイル.txt" "Desktop/🙂 smile.txt" "Desktop/Ωμέγα-😀-日本.txt"; do
		cmp -s "$A/$f" "$P/$f" || { all=; fail "p3: Unicode name $f"; }
	done
	[ "$all" ] && ok "p3: Unicode names (é, 日本語, emoji)"
	[ "$(cat "$mnt/p3/$DEEP_REL/summary.txt")" = "$(cat "$DEEP/summary.txt")" ] &&
		ok "p3: a deep path ($(printf %s "$DEEP_REL" | wc -c) bytes)" || fail "p3: deep path"
	[ "$(stat -c %Y "$P/old.txt")" = "$(stat -c %Y "$A/old.txt")" ] &&
		[ "$(stat -c %Y "$P/Videos/big.bin")" = "$(stat -c %Y "$A/Videos/big.bin")" ] &&
		ok "p3: old mtimes (stat -c %Y)" || fail "p3: mtime of old.txt $(stat -c %y "$P/old.txt")"
	[ "$(stat -c %s "$P/empty.txt")" = 0 ] && [ ! -s "$P/empty.txt" ] && ok "p3: empty file" ||
		fail "p3: empty.txt"
	all=ok
	for f in numbers.txt zeros.bin mixed.bin logs/app.log; do
		cmp -s "$A/Compressed/$f" "$P/Compressed/$f" || { all=; fail "p3: compressed $f differs"; }
	done
	[ "$all" ] && ok "p3: the compressed files read as written"
	[ "$(stat -c %s "$P/Pictures/sparse.bin")" = 16777216 ] && cmp -s "$A/Pictures/sparse.bin" "$P/Pictures/sparse.bin" &&
		ok "p3: the sparse file reads its holes as zeros" || fail "p3: sparse.bin differs"
	[ "$(stat -c %i "$P/Documents/budget.xlsx")" = "$(stat -c %i "$mnt/p3/Users/Public/budget-link.xlsx")" ] &&
		[ "$(stat -c %h "$P/Documents/budget.xlsx")" = 2 ] &&
		ok "p3: the hard link shares an inode, nlink 2" ||
		fail "p3: hard link: $(stat -c '%n %i %h' "$P/Documents/budget.xlsx" "$mnt/p3/Users/Public/budget-link.xlsx")"
	# streams: by name, and listed in user.vhdunlock.streams
	all=ok
	for f in Documents/notes.txt Downloads/setup.exe; do
		cmp -s streams/zone "$P/$f:Zone.Identifier" || { all=; fail "p3: $f:Zone.Identifier differs"; }
	done
	[ "$all" ] && ok "p3: cat FILE:Zone.Identifier gives what was written"
	cmp -s streams/big "$P/Documents/notes.txt:big" && [ "$(stat -c %s "$P/Documents/notes.txt:big")" = 300000 ] &&
		ok "p3: a 300000-byte stream" || fail "p3: notes.txt:big differs"
	cmp -s streams/summary "$mnt/p3/$DEEP_REL/summary.txt:summary" || fail "p3: summary.txt:summary"
	cmp -s "$A/Documents/notes.txt" "$P/Documents/notes.txt" || fail "p3: notes.txt (main stream) differs"
	getfattr --absolute-names --only-values -n user.vhdunlock.streams "$P/Documents/notes.txt" > xa.out 2>err
	printf '\n' >> xa.out
	[ "$(sort xa.out | tr '\n' ' ')" = "Zone.Identifier big " ] &&
		ok "p3: user.vhdunlock.streams of notes.txt: $(tr '\n' ' ' < xa.out)" ||
		fail "p3: user.vhdunlock.streams of notes.txt: '$(cat xa.out)' $(cat err)"
	x=$(getfattr --absolute-names --only-values -n user.vhdunlock.streams "$P/Downloads/setup.exe" 2>err)
	[ "$x" = Zone.Identifier ] || fail "p3: user.vhdunlock.streams of setup.exe: '$x' $(cat err)"
	getfattr --absolute-names -n user.vhdunlock.streams "$P/old.txt" >/dev/null 2>err &&
		fail "p3: old.txt (no streams) has user.vhdunlock.streams"
	grep -q "No such attribute" err && ok "p3: a file without streams has no streams attribute" ||
		fail "p3: old.txt: $(cat err)"
	[ -e "$P/old.txt:Zone.Identifier" ] && fail "p3: old.txt:Zone.Identifier exists"
	ls "$P/Documents" | grep -q : && fail "p3: readdir lists streams: $(ls "$P/Documents")"

	# every change fails with EROFS
	erofs "p3: write" sh -c "echo x > '$P/old.txt'"
	erofs "p3: append" sh -c "echo x >> '$P/old.txt'"
	erofs "p3: write a stream" sh -c "echo x > '$P/Documents/notes.txt:Zone.Identifier'"
	erofs "p3: create" touch "$P/new.txt"
	erofs "p3: create a stream" sh -c "echo x > '$P/old.txt:new'"
	erofs "p3: touch (utimens)" touch "$P/old.txt"
	erofs "p3: chmod" chmod 600 "$P/old.txt"
	erofs "p3: truncate" truncate -s 0 "$P/old.txt"
	erofs "p3: rm" rm -f "$P/old.txt"
	erofs "p3: rmdir" rmdir "$P/Desktop"
	erofs "p3: mkdir" mkdir "$P/NewFolder"
	erofs "p3: rename" mv "$P/old.txt" "$P/moved.txt"
	erofs "p3: hard link" ln "$P/old.txt" "$P/hl.txt"
	erofs "p3: setfattr" setfattr -n user.x -v 1 "$P/old.txt"
	cmp -s "$A/old.txt" "$P/old.txt" && [ ! -e "$P/new.txt" ] || fail "p3 changed"
fi
fusermount3 -u "$mnt" 2>err && ok "unmounted" || fail "fusermount3 -u: $(cat err)"

# ---- ls, cat, extract ----
run() { # run WANT DESC CMD...: stdout in out.txt, stderr in err.txt
	want=$1 desc=$2
	shift 2
	"$@" >out.txt 2>err.txt
	got=$?
	[ "$got" -eq "$want" ] && ok "$desc" ||
		fail "$desc: exit status $got, expected $want: $(head -c 600 err.txt)"
}
# jqe FILTER [ARGS...]: jq -e over out.txt, false when it is empty
jqe() { _jf=$1; shift; [ -s out.txt ] && jq -e "$@" "$_jf" out.txt >/dev/null; }
run 0 "ls p3:/Users/alice -l --json" V ls disk.vhd p3:/Users/alice -l --json --bek keys
jq -r '.[].name' out.txt | sort > got.txt
ls -A "$A" | sort | diff - got.txt > ls.diff && ok "ls --json: the names of /Users/alice" ||
	fail "ls --json names: $(cat ls.diff)"
jq -r '.[] | select(.type == "file") | "\(.name) \(.size)"' out.txt | sort > got.txt
(cd "$A" && find . -mindepth 1 -maxdepth 1 -type f -printf '%P %s\n') | sort | diff - got.txt > ls.diff &&
	ok "ls --json: sizes" || fail "ls --json sizes: $(cat ls.diff)"
jqe 'all(.[]; (.btime | type) == "string" and (.btime | test("^[0-9]{4}-")))' &&
	ok "ls --json: btime of every entry (NTFS creation time)" || fail "ls --json btime: $(jq -c '[.[] | .btime]' out.txt)"
jqe '.[] | select(.name == "old.txt") |
	(.mtime | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601 | tostring) == $t' --arg t "$(stat -c %Y "$A/old.txt")" &&
	ok "ls --json: the old mtime" || fail "ls --json old.txt: $(jq -c '.[] | select(.name == "old.txt")' out.txt)"
run 0 "ls p3:/Users/alice/Documents --json" V ls disk.vhd p3:/Users/alice/Documents --json --bek keys
jqe '.[] | select(.name == "notes.txt") |
	(.streams | sort_by(.name)) == [{"name": "Zone.Identifier", "size": $z}, {"name": "big", "size": 300000}]' \
	--argjson z "$(stat -c %s streams/zone)" && ok "ls --json: the streams of notes.txt with their sizes" ||
	fail "ls --json streams: $(jq -c '.[] | select(.name == "notes.txt") | .streams' out.txt)"
jqe '.[] | select(.name == "budget.xlsx") | .streams == [] and .nlink == 2' ||
	fail "ls --json budget.xlsx: $(jq -c '.[] | select(.name == "budget.xlsx")' out.txt)"
run 0 "ls p3:/Users/alice/Documents -l" V ls disk.vhd p3:/Users/alice/Documents -l --bek keys
grep -q 'notes.txt:Zone.Identifier' out.txt && ok "ls -l: the stream lines under notes.txt" ||
	fail "ls -l streams: $(cat out.txt)"
run 0 "ls p3:/Users/alice/Compressed --json" V ls disk.vhd p3:/Users/alice/Compressed --json --bek keys
jqe '.[] | select(.name == "numbers.txt") | .flags | index("compressed")' &&
	ok "ls --json: numbers.txt flagged compressed" ||
	fail "ls --json compressed: $(jq -c '.[] | {name, flags}' out.txt)"
run 0 "ls p3:/Users/alice/Pictures --json" V ls disk.vhd p3:/Users/alice/Pictures --json --bek keys
jqe '.[] | select(.name == "sparse.bin") | .flags | index("sparse")' &&
	ok "ls --json: sparse.bin flagged sparse" ||
	fail "ls --json sparse: $(jq -c '.[] | {name, flags}' out.txt)"

run 0 "cat of a stream with the recovery password" \
	V cat disk.vhd 'p3:/Users/alice/Downloads/setup.exe:Zone.Identifier' --recovery-password-file rp.txt
cmp -s out.txt streams/zone && ok "cat FILE:Zone.Identifier: what was written" ||
	fail "cat stream: $(od -c out.txt | head -n 5)"
run 0 "cat of the 200 MB file" V cat disk.vhd p3:/Users/alice/Videos/big.bin --bek keys
cmp -s out.txt "$A/Videos/big.bin" && ok "cat big.bin: the same bytes" || fail "cat big.bin differs"
rm -f out.txt
run 0 "cat of a compressed file" V cat disk.vhd p3:/Users/alice/Compressed/mixed.bin --bek keys
cmp -s out.txt "$A/Compressed/mixed.bin" || fail "cat mixed.bin differs"
run 0 "cat of the recovery partition's file" V cat disk.vhd p4:/Recovery/WindowsRE/ReAgent.xml
cmp -s out.txt re/Recovery/WindowsRE/ReAgent.xml || fail "cat p4 ReAgent.xml differs"
run 3 "cat without the key" V cat disk.vhd p3:/Users/alice/old.txt

run 0 "extract p3:/Users" V extract disk.vhd p3:/Users out --bek keys
diff -r --no-dereference -x vhdunlock-manifest.sha256 -x '*:*' src/Users out > tree.diff 2>&1 &&
	ok "extract: diff -r with the source" || fail "extract: differs: $(head -n 20 tree.diff)"
(cd out && sha256sum -c --quiet vhdunlock-manifest.sha256) > sum.log 2>&1 &&
	ok "extract: sha256sum -c vhdunlock-manifest.sha256" || fail "extract: sha256sum -c: $(head -n 5 sum.log)"
want=$(($(find src/Users -type f | wc -l) + 4))
[ "$(wc -l < out/vhdunlock-manifest.sha256)" = "$want" ] &&
	ok "extract: $want manifest lines (files and streams)" ||
	fail "extract: $(wc -l < out/vhdunlock-manifest.sha256) manifest lines, expected $want"
cmp -s streams/zone out/alice/Documents/notes.txt:Zone.Identifier &&
	cmp -s streams/zone out/alice/Downloads/setup.exe:Zone.Identifier &&
	cmp -s streams/big out/alice/Documents/notes.txt:big &&
	cmp -s streams/summary "out/${DEEP#src/Users/}/summary.txt:summary" &&
	ok "extract: streams as FILE:STREAM beside their files" ||
	fail "extract: streams: $(find out -name '*:*')"
(cd src/Users && find . -mindepth 1 -printf '%p %Ts\n') | sort > mt.want
(cd out && find . -mindepth 1 ! -name '*:*' ! -name vhdunlock-manifest.sha256 -printf '%p %Ts\n') | sort > mt.got
diff mt.want mt.got > mt.diff && ok "extract: $(wc -l < mt.want) modification times kept" ||
	fail "extract: mtimes: $(head -n 10 mt.diff)"
[ "$(stat -c %b out/alice/Pictures/sparse.bin)" -lt 2048 ] ||
	fail "extract: sparse.bin takes $(stat -c %b out/alice/Pictures/sparse.bin) blocks: holes written"
rm -rf out

[ "$(sha256sum < disk.vhd)" = "$img_sum" ] && ok "disk.vhd unchanged" || fail "disk.vhd changed"
if ls "$work"/asan* "$work"/ubsan* >/dev/null 2>&1; then
	fail "sanitizer reports: $(cat "$work"/asan* "$work"/ubsan* 2>/dev/null | head -40)"
fi
say "note: the test took $(($(date +%s) - t0)) s"
cleanup 2>/dev/null
finish
