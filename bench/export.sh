#!/bin/sh
# Benchmark: export of a 1 GiB partition from a fixed VHD, a dynamic VHD and
# a VHDX, against the anchor of reading the raw image with cat, in one run.
#   sh bench/export.sh [BUILD_DIR]       (needs hyperfine, qemu-img, sgdisk)
set -eu
build=${1:-.}
vu="$build/vhdunlock"
dir=$(mktemp -d "${TMPDIR:-/var/tmp}/vu-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
truncate -s 1100M "$dir/disk.raw"
sgdisk -n 1:2048:+1G "$dir/disk.raw" >/dev/null
# incompressible content so that no layer can skip work
dd if=/dev/urandom of="$dir/disk.raw" bs=1M seek=1 count=1024 conv=notrunc status=none
qemu-img convert -f raw -O vpc -o subformat=fixed,force_size=on "$dir/disk.raw" "$dir/fixed.vhd"
qemu-img convert -f raw -O vpc -o subformat=dynamic,force_size=on "$dir/disk.raw" "$dir/dynamic.vhd"
qemu-img convert -f raw -O vhdx "$dir/disk.raw" "$dir/disk.vhdx"
hyperfine --warmup 1 --runs 5 --export-markdown "$dir/result.md" \
	-n "cat raw image (anchor)" "cat $dir/disk.raw > /dev/null" \
	-n "export p1 from fixed VHD" "$vu export --force $dir/fixed.vhd p1 - > /dev/null" \
	-n "export p1 from dynamic VHD" "$vu export --force $dir/dynamic.vhd p1 - > /dev/null" \
	-n "export p1 from VHDX" "$vu export --force $dir/disk.vhdx p1 - > /dev/null" \
	-n "qemu-img convert VHDX to raw (reference)" "qemu-img convert -f vhdx -O raw $dir/disk.vhdx $dir/out.raw"
cat "$dir/result.md"
