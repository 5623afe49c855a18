#!/bin/sh
# How testdata/demo.vhd was made (kept for the record; make check does not
# run it).  A 16 MiB GPT disk as a dynamic VHD: p1 an EFI FAT partition,
# p2 ext4 with a few files.
set -eu
out=${1:-demo.vhd}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
truncate -s 16M "$tmp/disk.raw"
sgdisk -n 1:2048:+4M -t 1:ef00 -c 1:"EFI system partition" \
	-n 2:0:0 -t 2:8300 -c 2:data "$tmp/disk.raw" >/dev/null
mkdir -p "$tmp/files/reports" "$tmp/files/EFI/BOOT"
printf 'Quarterly figures: see attached.\n' > "$tmp/files/reports/q3.txt"
printf 'vhdunlock demo disk\n' > "$tmp/files/README"
truncate -s 4M "$tmp/p1"
mkfs.fat -F 16 -s 1 -n DEMO-EFI -i 5eedfa70 "$tmp/p1" >/dev/null
printf 'boot loader placeholder\n' > "$tmp/files/EFI/BOOT/BOOTX64.TXT"
MTOOLS_SKIP_CHECK=1 mcopy -s -i "$tmp/p1" "$tmp/files/EFI" ::/
rm -rf "$tmp/files/EFI"
truncate -s 11M "$tmp/p2"
mkfs.ext4 -q -F -L demo-data -U 3d1c6f0e-5b7a-4c8e-9a2f-0d6e7f8a9b10 \
	-E root_owner=0:0 -N 64 -d "$tmp/files" "$tmp/p2"
dd if="$tmp/p1" of="$tmp/disk.raw" bs=512 seek=2048 conv=notrunc status=none
dd if="$tmp/p2" of="$tmp/disk.raw" bs=512 seek=10240 conv=notrunc status=none
qemu-img convert -f raw -O vpc -o subformat=dynamic,force_size=on \
	"$tmp/disk.raw" "$out"
