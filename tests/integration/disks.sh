# Test disks made by real tools (sourced after lib.sh).
# make_gpt_disk OUT: 64 MiB GPT disk: p1 EFI FAT32, p2 NTFS, p3 ext4, p4 XFS,
#   p6 random bytes (slot 5 left empty).
# make_mbr_disk OUT: 48 MiB MBR disk: p1 ext4 (boot), p2 extended holding
#   p5 FAT16, p6 ext2, p7 swap, then p3 NTFS.
# part_range DISK N: "START_SECTOR SECTORS" of partition N (partx).

part_range() {
	partx -g -o NR,START,SECTORS "$1" | awk -v n="$2" '$1 == n { print $2, $3 }'
}

# fill_part DISK N IMAGE: copy a file system image into partition N
fill_part() {
	set -- "$1" "$2" "$3" $(part_range "$1" "$2")
	dd if="$3" of="$1" bs=512 seek="$4" count="$5" conv=notrunc status=none
}

# fs_image KIND SECTORS OUT: a file system image of that kind and size
fs_image() {
	rm -f "$3"
	truncate -s $(($2 * 512)) "$3"
	case $1 in
	fat32) mkfs.fat -F 32 -s 1 -n EFIBOOT -i 1234abcd "$3" >/dev/null ;;
	fat16) mkfs.fat -F 16 -s 1 -n DATA16 -i 0badcafe "$3" >/dev/null ;;
	ntfs) mkntfs -q -F -Q -L Windows "$3" >/dev/null 2>&1 ;;
	ext4) mkfs.ext4 -q -F -L root -U 11111111-2222-3333-4444-555555555555 "$3" ;;
	ext2) mkfs.ext2 -q -F -L old "$3" ;;
	xfs) mkfs_xfs_small -L xdata "$3" ;;
	swap) chmod 600 "$3"; mkswap -L sw "$3" >/dev/null 2>&1 ;;
	random) head -c $(($2 * 512)) /dev/urandom > "$3" ;;
	esac
}

make_gpt_disk() {
	rm -f "$1"
	truncate -s 64M "$1"
	sgdisk -n 1:2048:+8M -t 1:ef00 -c 1:"EFI system partition" \
		-n 2:0:+12M -t 2:0700 -c 2:"Basic data partition" \
		-n 3:0:+12M -t 3:8300 -c 3:root \
		-n 4:0:+20M -t 4:8300 -c 4:"x data" \
		-n 6:0:+4M -t 6:8300 "$1" >/dev/null
	for spec in 1:fat32 2:ntfs 3:ext4 4:xfs 6:random; do
		n=${spec%%:*} kind=${spec#*:}
		set -- "$1" $(part_range "$1" "$n")
		fs_image "$kind" "$3" "$1.p$n"
		fill_part "$1" "$n" "$1.p$n"
		rm -f "$1.p$n"
	done
}

make_mbr_disk() {
	rm -f "$1"
	truncate -s 48M "$1"
	sfdisk -q "$1" >/dev/null <<'END'
label: dos
label-id: 0x5eed1e55
start=2048, size=16384, type=83, bootable
start=18432, size=40960, type=5
start=59392, size=32768, type=7
start=20480, size=12288, type=6
start=34816, size=10240, type=83
start=47104, size=8192, type=82
END
	for spec in 1:ext4 5:fat16 6:ext2 7:swap 3:ntfs; do
		n=${spec%%:*} kind=${spec#*:}
		set -- "$1" $(part_range "$1" "$n")
		fs_image "$kind" "$3" "$1.p$n"
		fill_part "$1" "$n" "$1.p$n"
		rm -f "$1.p$n"
	done
}

# to_container RAW FORMAT OUT: qemu-img conversion; FORMAT one of
#   vhd-fixed vhd-dynamic vhdx raw
to_container() {
	case $2 in
	raw) [ "$1" = "$3" ] || cp "$1" "$3" ;;
	vhd-fixed) qemu-img convert -f raw -O vpc -o subformat=fixed,force_size=on "$1" "$3" ;;
	vhd-dynamic) qemu-img convert -f raw -O vpc -o subformat=dynamic,force_size=on "$1" "$3" ;;
	vhdx) qemu-img convert -f raw -O vhdx "$1" "$3" ;;
	esac
}
