#!/bin/sh
# How testdata/demo.vhd and its key were made (kept for the record; make
# check does not run it).  A 10 MiB GPT disk as a dynamic VHD, laid out as
# an Azure Windows VM's disk: p1 an EFI FAT partition, p2 an NTFS volume
# encrypted with BitLocker (XTS-AES-128) by the test-only writer, whose
# startup key is written as testdata/demo-keys/<GUID>.BEK (ADE's .BEK) and
# whose recovery password goes to testdata/demo-recovery-password.txt.
#   sh testdata/make-demo.sh BUILD_DIR      (BUILD_DIR has tests/tools/mkbitlk)
set -eu
build=${1:?usage: make-demo.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
truncate -s 10M "$tmp/disk.raw"
sgdisk -n 1:2048:+2M -t 1:ef00 -c 1:"EFI system partition" \
	-n 2:0:0 -t 2:0700 -c 2:"Basic data partition" "$tmp/disk.raw" >/dev/null

truncate -s 2M "$tmp/p1"
mkfs.fat -F 12 -n DEMO-EFI -i 5eedfa70 "$tmp/p1" >/dev/null
mkdir -p "$tmp/efi/EFI/BOOT"
printf 'boot loader placeholder\n' > "$tmp/efi/EFI/BOOT/BOOTX64.TXT"
MTOOLS_SKIP_CHECK=1 mcopy -s -i "$tmp/p1" "$tmp/efi/EFI" ::/

set -- $(partx -g -o START,SECTORS -n 2 "$tmp/disk.raw")
truncate -s $(($2 * 512)) "$tmp/p2"
mkntfs -q -F -Q -L Data "$tmp/p2" >/dev/null 2>&1
printf 'Quarterly figures: see attached.\n' > "$tmp/q3.txt"
printf 'vhdunlock demo disk: this file lives inside BitLocker.\n' > "$tmp/README.txt"
ntfscp -q "$tmp/p2" "$tmp/README.txt" README.txt
ntfscp -q "$tmp/p2" "$tmp/q3.txt" q3-report.txt
rm -rf "$here/demo-keys"
mkdir -p "$here/demo-keys"
"$build/tests/tools/mkbitlk" --method xts-128 --bek-dir "$here/demo-keys" \
	--recovery-password-file "$here/demo-recovery-password.txt" \
	--description "DEMO-VM D: 23/11/2026" "$tmp/p2" "$tmp/p2.bitlocker" >/dev/null

dd if="$tmp/p1" of="$tmp/disk.raw" bs=512 seek=2048 conv=notrunc status=none
dd if="$tmp/p2.bitlocker" of="$tmp/disk.raw" bs=512 seek="$1" conv=notrunc status=none
rm -f "$here/demo.vhd"
qemu-img convert -f raw -O vpc -o subformat=dynamic,force_size=on \
	"$tmp/disk.raw" "$here/demo.vhd"
