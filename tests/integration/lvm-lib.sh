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
# behind the PVs' loop devices, from lvm2's own segment map (lvs --segments:
# start extent, stripe count and size, pv:first-last of each stripe; pvs:
# pe_start), segment by segment.  A striped segment's bytes go chunk by
# chunk to its stripes in turn (chunk i to stripe i % n, i / n chunks into
# it), as dm-stripe lays them out; one stripe is one chunk.
write_lv() {
	es=$(L vgs --noheadings --nosuffix --units b -o vg_extent_size "$1" | tr -d ' ')
	L lvs --segments --noheadings --nosuffix --units b \
		-o seg_start_pe,stripes,stripe_size,seg_pe_ranges "$1/$2" |
	while read -r start n ss ranges; do
		areas="" per=0
		for rg in $ranges; do
			pvdev=${rg%%:*}; r=${rg#*:}; first=${r%-*}; last=${r#*-}
			pvfile=$(losetup -n -O BACK-FILE "$pvdev" | sed 's/ *$//')
			pe0=$(L pvs --noheadings --nosuffix --units b -o pe_start "$pvdev" | tr -d ' ')
			areas="$areas $pvfile:$((pe0 + first * es))"
			per=$(( (last - first + 1) * es ))
		done
		len=$((per * n))
		[ "$n" -gt 1 ] || ss=$len
		python3 - "$3" $((start * es)) "$len" "$ss" $areas <<'PY'
import sys
img, off, length, chunk = sys.argv[1], *map(int, sys.argv[2:5])
areas = [(a.rsplit(":", 1)[0], int(a.rsplit(":", 1)[1])) for a in sys.argv[5:]]
outs = [open(p, "r+b") for p, _ in areas]
with open(img, "rb") as src:
    src.seek(off)
    i = 0
    while i * chunk < length:
        data = src.read(min(chunk, length - i * chunk))
        k = i % len(areas)
        outs[k].seek(areas[k][1] + (i // len(areas)) * chunk)
        outs[k].write(data)
        i += 1
for f in outs:
    f.close()
PY
	done
}
