#!/bin/sh
# Benchmark: vhdunlock export of a 3-way striped LV (64 KiB stripes, as
# `lvcreate -i 3 -I 64k` makes for ADE data disks) against a linear LV of
# the same size in the same VG, in one hyperfine run, warm cache.  The
# striped LV is read through a lookup that hands back up to 16 chunks at a
# time, the linear one through a static extent map: the ratio should be
# about 1.
#   sh bench/lvm-striped.sh [BUILD_DIR]
# Needs root (loop devices for lvm2, which runs with --driverloaded n),
# hyperfine, lvm2, openssl; three 400 MiB PV files go under $TMPDIR
# (default /var/tmp).
set -eu
build=$(cd "${1:-.}" && pwd)
vu=$build/vhdunlock
[ -x "$vu" ] || { echo "lvm-striped.sh: $vu missing (make it first)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "lvm-striped.sh: run as root (loop devices)" >&2; exit 1; }
dir=$(mktemp -d "${TMPDIR:-/var/tmp}/vu-lvm-bench.XXXXXX")
vg="benchvg$$" loops=""
cleanup() {
	vgremove -f --driverloaded n "$vg" >/dev/null 2>&1 || :
	for l in $loops; do losetup -d "$l"; done
	rm -rf "$dir"
}
trap cleanup EXIT
# lvm2 on our loop devices only, no udev, no backups, no device-mapper
mkdir "$dir/etc" "$dir/lock"
cat > "$dir/etc/lvm.conf" <<CONF
devices { filter = [ "a|^/dev/loop|", "r|.*|" ] obtain_device_list_from_udev = 0 use_devicesfile = 0 }
global { locking_dir = "$dir/lock" }
activation { udev_sync = 0 udev_rules = 0 }
backup { backup = 0 archive = 0 }
CONF
LVM_SYSTEM_DIR="$dir/etc" LVM_SUPPRESS_FD_WARNINGS=1
export LVM_SYSTEM_DIR LVM_SUPPRESS_FD_WARNINGS
L() { "$@" --driverloaded n >/dev/null 2>&1; }
for i in 1 2 3; do
	# random content, so that every byte read is a real one
	openssl enc -aes-128-ctr -pass pass:pv$i -nosalt -pbkdf2 </dev/zero \
		2>/dev/null | head -c 400M > "$dir/pv$i.img"
	loops="$loops $(losetup -f --show "$dir/pv$i.img")"
done
set -- $loops
L pvcreate -qy "$@"
L vgcreate -q "$vg" "$@"
L lvcreate -q -an -Zn -i3 -I64k -l 66 -n st3 "$vg"	# 264 MiB
L lvcreate -q -an -Zn -l 66 -n lin "$vg" "$1"
for l in $loops; do losetup -d "$l"; done
loops=""
echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r), 264 MiB LVs"
hyperfine --style basic --warmup 2 --runs 15 --export-markdown "$dir/r.md" \
	-n "export, linear LV" "$vu export $dir/pv1.img $vg-lin - --add-disk $dir/pv2.img --add-disk $dir/pv3.img > /dev/null" \
	-n "export, 3-way striped LV (64 KiB)" "$vu export $dir/pv1.img $vg-st3 - --add-disk $dir/pv2.img --add-disk $dir/pv3.img > /dev/null" >&2
cat "$dir/r.md"
