#!/bin/sh
# Builds the NTFS images test_fs_ntfs reads, with the real tools, in the
# current directory: mkntfs, then the content written through ntfs-3g
# mounted on the image file (FUSE; needs root and /dev/fuse).  Any failure
# fails the test.
#   ntree/      the source of what is copied in: nested dirs, UTF-8 names
#               (surrogate pairs), random data, an empty and tiny (resident)
#               files, hard links (and 150 of one file: an attribute list),
#               an old mtime, 3000 entries, names differing in case only
#   n.img       that tree, plus, made through ntfs-3g:
#               comp/       compressed directory (LZNT1 files, one sparse)
#               sparse.bin  holes (sparse runs), valid length < size
#               alt.bin     300 clusters alternating with holes: its $DATA
#                           runs fill two MFT records (attribute list)
#               ads.txt     alternate data streams (resident, 2 MB, empty,
#                           a Unicode name); a/ has one too
#               rp/         reparse points written as raw reparse buffers
#                           (symlinks relative/absolute/other drive/UNC,
#                           junction, directory symlink, WOF, dedup,
#                           OneDrive-like, WOF with an empty buffer)
#               lone/       one file, its name made invalid UTF-16 by the
#                           test
#               "Long File Name.txt" given the DOS name LONGFI~1.TXT
#               $Recycle.Bin, System Volume Information: empty
#               vdl.bin     preallocated by ntfsfallocate: valid data
#                           length 100000, size 3 MiB, over stale data
#   nsrc/       the expected content of what is not in ntree
#   ntimes      getfattr's system.ntfs_times_be (creation, modification,
#               access, change) of the entries but many/ and links/
#   t.img       the smallest volume mkntfs makes (2 MiB, 512-byte
#               clusters) with a few files, a stream, a compressed file and
#               a symlink: the damage tests' and fuzz seeds' source
set -eu
PATH="$PATH:/sbin:/usr/sbin"
export LC_ALL=C.UTF-8
export TZ=UTC

for t in mkntfs ntfs-3g fusermount setfattr getfattr iconv od ntfsfallocate \
	ntfsinfo; do
	command -v "$t" >/dev/null || { echo "$t is not installed" >&2; exit 1; }
done

# ---- the source tree ----
mkdir -p ntree/a/b/c/d/e/f/g/h ntree/日本 ntree/many ntree/empty-dir \
	ntree/links nsrc
echo deep > ntree/a/b/c/d/e/f/g/h/deep.txt
printf caf > ntree/café.txt
echo jp > ntree/日本/ファイル
echo emoji > ntree/😀.txt
echo 'two surrogate pairs' > ntree/𝄞𝄢.txt
head -c 5000000 /dev/urandom > ntree/big.bin
: > ntree/empty
printf 'tiny resident\n' > ntree/tiny.txt
head -c 600 /dev/urandom > ntree/small600.bin
echo hard > ntree/hard1
ln ntree/hard1 ntree/hard2
echo many > ntree/links/src
for i in $(seq -w 1 150); do ln ntree/links/src ntree/links/l$i; done
(cd ntree/many && seq -f 'entry-%05g-with-a-longer-name-for-more-blocks' 3000 | xargs touch)
echo case > ntree/Case.TXT
echo lower > ntree/dup
echo upper > ntree/DUP
echo long > 'ntree/Long File Name.txt'
echo m > ntree/mtime.txt
touch -d '2001-02-03 04:05:06.1234567' ntree/mtime.txt

# made the same way here and in the image: holes where nothing was written
sparse() {
	dd if=nsrc/rand of="$1" bs=1M count=1 status=none conv=notrunc
	dd if=nsrc/rand of="$1" bs=1M count=1 seek=20 status=none conv=notrunc
	truncate -s 30M "$1"
}
head -c 4000000 /dev/urandom > nsrc/rand
sparse ntree/sparse.bin
alt() {
	for i in $(seq 0 299); do
		dd if=nsrc/rand of="$1" bs=4096 skip="$i" seek=$((2 * i)) \
			count=1 conv=notrunc status=none
	done
}
alt ntree/alt.bin
mkdir -p ntree/comp/sub
seq 1 60000 > ntree/comp/text.txt
head -c 300000 nsrc/rand > ntree/comp/rand.bin
for i in 1 2 3 4 5; do
	seq 1 9000 | head -c 65536
	dd if=nsrc/rand bs=65536 skip="$i" count=1 status=none
done > ntree/comp/mixed.bin
seq 1 30000 > ntree/comp/sparse.bin
seq 1 30000 | dd of=ntree/comp/sparse.bin bs=1M seek=3 conv=notrunc \
	status=none
printf 'tiny compressed\n' > ntree/comp/tiny.txt
seq 1 1000 > ntree/comp/sub/deeper.txt
printf 'main\n' > ntree/ads.txt
printf '[ZoneTransfer]\r\nZoneId=3\r\n' > nsrc/Zone.Identifier
head -c 2000000 /dev/urandom > nsrc/big
printf 'jp stream\n' > nsrc/jp
printf 'dir stream\n' > nsrc/dirstream

# ---- the image ----
truncate -s 96M n.img
mkntfs -F -Q -s 512 -c 4096 -L vu-test n.img >/dev/null 2>&1
mkdir -p mnt
mounted=
cleanup() { [ -z "$mounted" ] || fusermount -u mnt; }
trap cleanup EXIT
ntfs-3g -o streams_interface=windows,compression n.img mnt
mounted=1

# the compressed directory first: files are compressed when created in it
mkdir mnt/comp
setfattr -n system.ntfs_attrib_be -v 0x00000810 mnt/comp
cp -r --preserve=timestamps,links ntree/comp/. mnt/comp/
# one cp for the rest, so that hard links stay links
(cd ntree && find . -mindepth 1 -maxdepth 1 ! -name comp ! -name sparse.bin \
	! -name alt.bin -print0 |
	xargs -0 cp -a --no-preserve=ownership,mode -t ../mnt/)
sparse mnt/sparse.bin
alt mnt/alt.bin
cat nsrc/Zone.Identifier > 'mnt/ads.txt:Zone.Identifier'
cat nsrc/big > 'mnt/ads.txt:big'
: > 'mnt/ads.txt:empty'
cat nsrc/jp > 'mnt/ads.txt:日本'
cat nsrc/dirstream > 'mnt/a:dirstream'
setfattr -n system.ntfs_dos_name -v 'LONGFI~1.TXT' 'mnt/Long File Name.txt'
# Windows' own directories are shown (the metadata files are not)
mkdir 'mnt/$Recycle.Bin' 'mnt/System Volume Information'
# a creation time of its own (FILETIME, big-endian: 1999-12-31 23:59:59)
echo born > mnt/btime.txt
setfattr -n system.ntfs_crtime_be -v 0x01bf53eb24d4a980 mnt/btime.txt

# reparse points, as raw buffers
u16() { printf '%s' "$1" | iconv -f UTF-8 -t UTF-16LE | od -An -v -tx1 | tr -d ' \n'; }
le16() { printf '%02x%02x' $(($1 & 255)) $(($1 >> 8 & 255)); }
le32() { printf '%s%s' "$(le16 $(($1 & 65535)))" "$(le16 $(($1 >> 16 & 65535)))"; }
# reparse FILE TAG DATA(hex)
reparse() {
	setfattr -n system.ntfs_reparse_data \
		-v "0x$(le32 "$2")$(le16 $((${#3} / 2)))0000$3" "$1"
}
# symlink FILE SUBSTITUTE PRINT FLAGS (substitute first, then print name)
symlink() {
	s=$(u16 "$2"); p=$(u16 "$3")
	reparse "$1" 0xA000000C "$(le16 0)$(le16 $((${#s} / 2)))$(le16 $((${#s} / 2)))$(le16 $((${#p} / 2)))$(le32 "$4")$s$p"
}
# junction DIR SUBSTITUTE PRINT (names NUL-terminated)
junction() {
	s=$(u16 "$2"); p=$(u16 "$3")
	reparse "$1" 0xA0000003 "$(le16 0)$(le16 $((${#s} / 2)))$(le16 $((${#s} / 2 + 2)))$(le16 $((${#p} / 2)))${s}0000${p}0000"
}
mkdir mnt/rp mnt/rp/junction mnt/rp/dirsym
for f in sym-rel sym-abs sym-d sym-unc sym-rootrel sym-vol; do
	: > "mnt/rp/$f"
done
symlink mnt/rp/sym-rel '..\a\b\c\d\e\f\g\h\deep.txt' '..\a\b\c\d\e\f\g\h\deep.txt' 1
symlink mnt/rp/sym-abs '\??\C:\Users\x' 'C:\Users\x' 0
symlink mnt/rp/sym-d '\??\D:\data\y' 'D:\data\y' 0
symlink mnt/rp/sym-unc '\??\UNC\srv\share\f' '\\srv\share\f' 0
symlink mnt/rp/sym-rootrel '\a\b' '\a\b' 1
symlink mnt/rp/sym-vol '\??\Volume{12345678-1234-1234-1234-123456789abc}\p\q' '' 0
symlink mnt/rp/dirsym '..\a' '..\a' 1
junction mnt/rp/junction '\??\C:\a\b' 'C:\a\b'
# content behind other reparse tags: WOF (version 1, provider 2: file,
# version 1, XPRESS4K), dedup, and a OneDrive-like cloud file
printf 'wof\n' > mnt/rp/wof.bin
reparse mnt/rp/wof.bin 0x80000017 "$(le32 1)$(le32 2)$(le32 1)$(le32 0)"
printf 'dedup\n' > mnt/rp/dedup.bin
reparse mnt/rp/dedup.bin 0x80000013 "$(le32 0)$(le32 0)"
printf 'cloud\n' > mnt/rp/cloud.txt
reparse mnt/rp/cloud.txt 0x9000601A "$(le32 1)"

# libfsntfs 20200921 dereferences NULL making the file entry of this
# (WofCompressedData stream, WOF reparse point with no data): listing rp/
# through it crashes
printf 'wof without data\n' > mnt/rp/wofcrash.bin
printf x > 'mnt/rp/wofcrash.bin:WofCompressedData'
reparse mnt/rp/wofcrash.bin 0x80000017 ""
# test_fs_ntfs turns this name into a lone surrogate in a copy
mkdir mnt/lone
printf 'lone\n' > mnt/lone/😀.txt

# data freed here is what vdl.bin's preallocated clusters hold
head -c 3000000 /dev/urandom > mnt/stale.bin
rm mnt/stale.bin
head -c 100000 nsrc/rand > mnt/vdl.bin

# what ntfs-3g reports (getfattr fails on the reparse points it cannot
# stat: they are left out)
(cd mnt && find . -mindepth 1 ! -path './many/*' ! -path './links/l*' \
	-print0 | sort -z | xargs -0 getfattr -h -e hex \
	-n system.ntfs_times_be) > ntimes 2>/dev/null || true
[ "$(grep -c '^system.ntfs_times_be=0x' ntimes)" -gt 40 ]
fusermount -u mnt
mounted=

# preallocated past its valid data length, clusters not zeroed
ntfsfallocate -l 3145728 n.img /vdl.bin >/dev/null 2>&1
# stale data past the valid length (ntfsfallocate took zeroed clusters):
# what a reader that ignores the valid length would show
set -- $(ntfsinfo -v -F /vdl.bin n.img | sed -n 's/^[[:space:]]*0x0[[:space:]]*0x\([0-9a-f]*\)[[:space:]]*0x\([0-9a-f]*\)$/\1 \2/p')
[ $# -eq 2 ] && [ $((0x$2)) -eq 768 ]
dd if=/dev/urandom of=n.img bs=4096 seek=$((0x$1 + 25)) count=743 \
	conv=notrunc status=none
head -c 100000 nsrc/rand > nsrc/vdl
truncate -s 3M nsrc/vdl
# compressed and sparse as the file system itself says ($DATA flags)
ntfsinfo -F /comp/text.txt n.img | grep -q 'Attribute flags:.*0x0001'
ntfsinfo -F /comp/sparse.bin n.img | grep -q 'Attribute flags:.*0x0001'
ntfsinfo -F /sparse.bin n.img | grep -q 'Attribute flags:.*0x8000'
ntfsinfo -F /alt.bin n.img | grep -q 'ATTRIBUTE_LIST'
ntfsinfo -F /links/src n.img | grep -q 'ATTRIBUTE_LIST'
ntfsinfo -F /vdl.bin n.img | grep -q 'Initialized size:.*100000 '

# the smallest volume
truncate -s 2M t.img
mkntfs -F -Q -s 512 -c 512 -L tiny t.img >/dev/null 2>&1
ntfs-3g -o streams_interface=windows,compression t.img mnt
mounted=1
mkdir -p mnt/d/e mnt/c
echo small > mnt/d/e/f.txt
head -c 20000 nsrc/rand > mnt/d/r.bin
printf 'stream\n' > 'mnt/d/e/f.txt:s'
setfattr -n system.ntfs_attrib_be -v 0x00000810 mnt/c
seq 1 1000 > mnt/c/seq.txt
: > mnt/l
symlink mnt/l '..\d\e\f.txt' '..\d\e\f.txt' 1
fusermount -u mnt
mounted=
echo images ok
