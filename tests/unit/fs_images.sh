#!/bin/sh
# Builds the source tree and the file-system images test_fs reads, with the
# real tools, in the current directory.  Any failure fails the test.
#   tree/       the source: nested dirs, UTF-8 names, random data, a sparse
#               file, hard link, short and long symlinks, 3000 entries ...
#   e4.img      ext4 (4 KiB blocks, extents, htree via e2fsck -D, flex_bg,
#               64bit, metadata_csum), holey.bin punched, unwritten.bin
#               punched and fallocated (unwritten extents over old data),
#               mtime.txt with nanoseconds
#   e3.img      ext3 (journal, block maps)
#   e2.img      ext2 with 1 KiB blocks (double and triple indirect blocks:
#               far.bin has data at 70 MiB), holey.bin punched
#   e4i.img     ext4 with inline_data (small files and dirs in the inode)
#   x5.img      XFS v5 (bigtime, ftype, btree-format "many" directory),
#               holey.bin split into two extents around a hole, unwritten.bin
#               with its extent flagged unwritten (xfs_db)
#   x4.img      XFS v4 (no CRCs), same tree
#   xdir.img    x5.img with the "many" directory's mode made a regular
#               file, so its B+tree data fork is read as file data
#   many.bmap   xfs_db's block map of that inode, agblocks: its geometry
set -eu
PATH="$PATH:/sbin:/usr/sbin"
export LC_ALL=C.UTF-8

mkdir -p tree/a/b/c/d/e/f/g/h tree/日本 tree/many tree/empty-dir
echo deep > tree/a/b/c/d/e/f/g/h/deep.txt
printf caf > tree/café.txt
echo jp > tree/日本/ファイル
echo emoji > tree/😀.txt
head -c 5000000 /dev/urandom > tree/big.bin
head -c 5000000 /dev/urandom > tree/holey.bin
head -c 3000000 /dev/urandom > tree/unwritten.bin
dd if=/dev/urandom of=tree/sparse.bin bs=1M count=1 status=none
dd if=/dev/urandom of=tree/sparse.bin bs=1M count=1 seek=20 conv=notrunc \
	status=none
: > tree/empty
echo hard > tree/hard1
ln tree/hard1 tree/hard2
chown 1234:5678 tree/hard1
chmod 0751 tree/big.bin
ln -s big.bin tree/short.lnk
x100=$(printf '%0100d' 0 | tr 0 x)
ln -s "$x100/target/that/is/long" tree/long.lnk
ln -s "$x100$x100$x100$x100$x100/remote" tree/verylong.lnk
(cd tree/many && seq -f 'entry-%05g-with-a-longer-name-for-more-blocks' 3000 | xargs touch)
echo m > tree/mtime.txt
touch -d '2001-02-03 04:05:06' tree/mtime.txt

# ext2 gets one more file: data at 70 MiB needs triple indirect blocks
cp -a tree tree-e2
dd if=/dev/urandom of=tree-e2/far.bin bs=10000 count=1 seek=7340 \
	status=none
truncate -s 73450000 tree-e2/far.bin

mkfs.ext4 -q -F -b 4096 -I 256 -O metadata_csum,64bit,flex_bg -d tree \
	e4.img 96M
e2fsck -fyD e4.img >/dev/null 2>&1 || [ $? -le 1 ]
debugfs -w -f - e4.img >/dev/null 2>&1 <<'EOF'
punch /holey.bin 256 767
punch /unwritten.bin 0
fallocate /unwritten.bin 0 732
sif /mtime.txt mtime_extra 0x1d6f3454
EOF
mkfs.ext3 -q -F -d tree e3.img 96M
mkfs.ext2 -q -F -b 1024 -d tree-e2 e2.img 96M
# within one indirect block: debugfs 1.47.0 punches ranges that span
# indirect blocks of a block-mapped file incompletely (it left 2316-2571
# mapped of 1024-3071, 748-779 of 300-779)
debugfs -w -R "punch /holey.bin 300 500" e2.img >/dev/null 2>&1

mkdir -p itree/sd
printf 'tiny inline\n' > itree/small.txt
echo x > itree/sd/x
head -c 100000 /dev/urandom > itree/big.bin
mkfs.ext4 -q -F -O inline_data -d itree e4i.img 16M

# mkfs.xfs builds the tree from a prototype file (mkfs.xfs(8)), written
# here from find's depth-first listing; it cannot make hard links (hard2
# becomes a copy) or keep times
proto() {
	echo proto; echo 0 0
	echo "d--$(stat -c %a "$1") $(stat -c '%u %g' "$1")"
	find "$(cd "$1" && pwd)" -mindepth 1 \
		-printf '%d\t%y\t%m\t%U %G\t%f\t%p\t%l\n' | awk -F '\t' '
	{
		while (open > 0 && dirs[open] >= $1) { print "$"; open-- }
		m = substr($3, length($3) - 2)
		if ($2 == "d") { print $5 " d--" m " " $4; dirs[++open] = $1 }
		else if ($2 == "l") print $5 " l--" m " " $4 " " $7
		else print $5 " ---" m " " $4 " " $6
	}
	END { while (open-- > 0) print "$"; print "$" }'
}
proto tree > tree.proto
# xfsprogs refuses small file systems outside its own test suite unless
# told it runs there (tests/integration/lib.sh: mkfs_xfs_small)
mkxfs() { TEST_DIR=1 TEST_DEV=1 QA_CHECK_FS=1 mkfs.xfs -q -f "$@"; }
truncate -s 96M x5.img x4.img
mkxfs -p tree.proto x5.img
mkxfs -m crc=0 -p tree.proto x4.img 2>/dev/null

# holey.bin: one extent [0, n) becomes [0, 256) and [768, n) over the
# same blocks, so the hole reads as zeros although its blocks hold data
set -- $(xfs_db -r -c 'path /holey.bin' -c bmap x5.img | sed -n \
	's/^data offset 0 startblock \([0-9]*\) .* count \([0-9]*\) flag 0$/\1 \2/p')
[ $# -eq 2 ] && [ "$2" -gt 768 ]
xfs_db -x -c 'path /holey.bin' -c 'write core.nextents 2' \
	-c 'write u3.bmx[0].blockcount 256' \
	-c 'write u3.bmx[1].startoff 768' \
	-c "write u3.bmx[1].startblock $(($1 + 768))" \
	-c "write u3.bmx[1].blockcount $(($2 - 768))" \
	-c 'write u3.bmx[1].extentflag 0' \
	-c "write core.nblocks $(($2 - 512))" x5.img >/dev/null 2>&1
xfs_db -x -c 'path /unwritten.bin' -c 'write u3.bmx[0].extentflag 1' \
	x5.img >/dev/null 2>&1
xfs_db -r -c 'path /holey.bin' -c bmap x5.img | grep -q 'offset 768 '
xfs_db -r -c 'path /unwritten.bin' -c bmap x5.img | grep -q 'flag 1'

cp x5.img xdir.img
xfs_db -r -c 'path /many' -c 'p core.format' xdir.img | grep -q btree
xfs_db -r -c 'path /many' -c bmap xdir.img > many.bmap
xfs_db -r -c 'path /many' -c 'p core.size' xdir.img | sed 's/.*= //' \
	> many.size
xfs_db -r -c 'sb 0' -c 'p agblocks' xdir.img | sed 's/.*= //' > agblocks
xfs_db -x -c 'path /many' -c 'write core.mode 0100644' xdir.img \
	>/dev/null 2>&1
echo images ok
