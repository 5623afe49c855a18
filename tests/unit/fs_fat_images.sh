#!/bin/sh
# Builds the FAT images test_fs_fat reads, with mkfs.fat and mtools, in the
# current directory, and what mtools reads back from them (the oracle: the
# kernel's vfat needs a loop mount).  Any failure fails the test.
#   IMG.img        FAT12 (f12, 1 KiB clusters), FAT16 (f16, 2 KiB),
#                  FAT32 (f32, 512-byte clusters; f32b, 4 KiB)
#   IMG.list       `mdir -a -/ -b`: every path (hidden ones too),
#                  directories with a '/'
#   IMG.out/       `mcopy -s` of the whole volume
# Each holds tree/ plus, made on the volume: three files of which the
# middle one is deleted before big.bin is copied (so big.bin is
# fragmented), names differing from others only in case, a 0-byte file
# a file with a known mtime (2001-02-03 04:05:06 UTC), and a read-only,
# hidden, system file and a hidden directory.
set -eu
PATH="$PATH:/sbin:/usr/sbin"
export LC_ALL=C.UTF-8 TZ=UTC MTOOLS_SKIP_CHECK=1

mkdir -p tree/a/b/c/d/e/f/g/h tree/Dir1 tree/Dir2 tree/Dir3 tree/empty-dir
echo deep > tree/a/b/c/d/e/f/g/h/deep.txt
printf 'x' > 'tree/Überprüfung ünicode.txt'
echo jp > tree/日本語のファイル名.txt
# no characters outside the BMP: mtools 4.0 drops them ("😀.txt" is
# stored as ".txt"), so it could not be the oracle for them
echo a > tree/a-rather-long-file-name-that-needs-several-entries.text
echo lower > tree/Dir1/readme.txt
echo upper > tree/Dir2/README.TXT
echo mixed > tree/Dir3/ReadMe.Txt
echo ext > tree/Dir3/NAME.txt
echo base > tree/Dir3/name.TXT2
: > tree/empty
head -c 300000 /dev/urandom > tree/many-clusters.bin
for i in $(seq 1 40); do echo "$i" > "tree/Dir1/file number $i.dat"; done
head -c 20000 /dev/urandom > frag1
head -c 20000 /dev/urandom > frag2
head -c 20000 /dev/urandom > frag3
head -c 200000 /dev/urandom > big.bin
echo m > mtime.txt
touch -d '2001-02-03 04:05:06' mtime.txt

mk() {
	img=$1 size=$2
	shift 2
	rm -f "$img.img"
	truncate -s "$size" "$img.img"
	mkfs.fat -n "ESP-$(echo "$img" | tr a-z A-Z)" "$@" "$img.img" >/dev/null
	mcopy -s -i "$img.img" tree/* ::/
	mcopy -i "$img.img" frag1 frag2 frag3 ::/
	mdel -i "$img.img" ::/frag2
	# FAT32 keeps a next-free hint (FSInfo, byte 492 of sector 1) that
	# points past frag3; "unknown" makes mtools search from the start
	case $* in *"-F 32"*)
		printf '\377\377\377\377' | dd of="$img.img" bs=1 \
			seek=$((512 + 492)) conv=notrunc status=none ;;
	esac
	# big.bin takes frag2's clusters first, then the free ones after
	mcopy -i "$img.img" big.bin ::/
	mcopy -m -i "$img.img" mtime.txt ::/
	# read-only, hidden and system: listed and read like the others
	mattrib -i "$img.img" +r +h +s ::/Dir3/NAME.txt
	mattrib -i "$img.img" +h ::/empty-dir
	mdir -a -/ -b -i "$img.img" ::/ > "$img.list"
	mkdir "$img.out"
	mcopy -s -m -i "$img.img" '::/*' "$img.out/"
	# the oracle itself must hold the tree
	diff -r tree "$img.out" | grep -v "^Only in $img.out: " && exit 1
	(cd tree && find . -type f) | while IFS= read -r f; do
		cmp "tree/$f" "$img.out/$f"
	done
	cmp big.bin "$img.out/big.bin"
}
mk f12 4M -F 12 -s 2
mk f16 24M -F 16 -s 4
mk f32 40M -F 32 -s 1
mk f32b 300M -F 32 -s 8
# big.bin must really be in pieces (first cluster, then the FAT decides)
mtype -i f16.img ::/big.bin | cmp - big.bin
