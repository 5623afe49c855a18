# Sourced after lib.sh by tests that make LVM2 physical volumes with lvm2's
# own tools: a private configuration (only loop devices, no udev, no
# backups, no devices file, no device-mapper), so the host's LVM state is
# never touched; L runs an lvm command with --driverloaded n.
mkdir -p "$work/etc" "$work/lock"
cat > "$work/etc/lvm.conf" <<CONF
devices { filter = [ "a|^/dev/loop|", "r|.*|" ] obtain_device_list_from_udev = 0 use_devicesfile = 0 }
global { locking_dir = "$work/lock" }
activation { udev_sync = 0 udev_rules = 0 }
backup { backup = 0 archive = 0 }
CONF
LVM_SYSTEM_DIR="$work/etc" LVM_SUPPRESS_FD_WARNINGS=1
export LVM_SYSTEM_DIR LVM_SUPPRESS_FD_WARNINGS
L() { "$@" --driverloaded n 2>>"$work/lvm.log"; }

# Loop devices attached ($loops) and VGs made ($vgs_made) are undone on
# exit, also when a check fails half way.
loops=""
vgs_made=""
lvm_cleanup() {
	for v in $vgs_made; do
		vgremove -f --driverloaded n "$v" >/dev/null 2>&1
	done
	for l in $loops; do losetup -d "$l" 2>/dev/null; done
}
trap lvm_cleanup EXIT
trap 'exit 1' INT TERM HUP

# write_lv VG LV IMAGE: put IMAGE's bytes at the LV's extents on the files
# behind the PVs' loop devices, from lvs' segment map (pv:first-last, in
# extents of the VG), segment by segment
write_lv() {
	es=$(L vgs --noheadings --nosuffix --units b -o vg_extent_size "$1" | tr -d ' ')
	L lvs --noheadings --nosuffix --units b -o seg_start_pe,seg_pe_ranges \
		"$1/$2" | while read -r start ranges; do
		pvdev=${ranges%%:*}; r=${ranges#*:}; first=${r%-*}; last=${r#*-}
		pvfile=$(losetup -n -O BACK-FILE "$pvdev" | sed 's/ *$//')
		pe0=$(L pvs --noheadings --nosuffix --units b -o pe_start "$pvdev" | tr -d ' ')
		n=$(( (last - first + 1) * es ))
		dd if="$3" of="$pvfile" bs=1M iflag=skip_bytes,count_bytes \
			oflag=seek_bytes conv=notrunc skip=$((start * es)) \
			count=$n seek=$((pe0 + first * es)) status=none
	done
}
