#!/bin/sh
# LVM2 PVs made by the real lvm2 tools on loop devices (no device-mapper:
# LVs are created inactive with --driverloaded n), file systems written at
# each LV's extent offsets, then read back through tests/tools/lvm-dump and
# compared with what was written and with vgs/lvs.
. "$top_srcdir/tests/integration/lib.sh"
need pvcreate vgcreate lvcreate lvextend lvs vgs pvs vgremove losetup mkfs.ext4 mkfs.xfs debugfs cmp
[ "$(id -u)" -eq 0 ] || skip "needs root for loop devices"
tool="$top_builddir/tests/tools/lvm-dump"

. "$top_srcdir/tests/integration/lvm-lib.sh"

attach() { # FILE SIZE -> loop device in $dev
	rm -f "$1"; truncate -s "$2" "$1"
	dev=$(losetup -f --show "$1") || { fail "losetup $1"; finish; }
	loops="$loops $dev"
}
detach_all() {
	for l in $loops; do losetup -d "$l"; done
	loops=""; vgs_made=""
}

mkext4() { # IMAGE SIZE_MB: ext4 with a few known files
	mkdir -p "$work/tree"; echo "hello from $1" > "$work/tree/hello.txt"
	head -c 300000 /dev/urandom > "$work/tree/random.bin"
	rm -f "$1"; mkfs.ext4 -q -F -d "$work/tree" "$1" "${2}M"
}
mkxfs() { rm -f "$1"; truncate -s "${2}M" "$1"; mkfs_xfs_small "$1"; }

# oracle: "LV name size" from lvs, compared with the tool's listing
check_list() { # VG PVFILE...
	vg=$1; shift
	L lvs --noheadings --nosuffix --units b -o lv_name,lv_size "$vg" |
		awk '{print $1, $2}' | sort > "$work/oracle.txt"
	if "$tool" "$@" > "$work/dump.txt" 2> "$work/dump.err"; then
		awk '$1=="LV" && $0 !~ / hidden/ {print $2, $3}' "$work/dump.txt" |
			sort > "$work/got.txt"
		if cmp -s "$work/oracle.txt" "$work/got.txt"; then
			ok "$vg: LV names and sizes match lvs"
		else
			fail "$vg: LVs differ from lvs"; diff "$work/oracle.txt" "$work/got.txt"
		fi
		L vgs --noheadings -o vg_name,vg_uuid "$vg" | awk '{print "VG", $1, $2}' > "$work/vgo.txt"
		if grep -q "^$(cat "$work/vgo.txt")" "$work/dump.txt"; then
			ok "$vg: VG name and UUID match vgs"
		else
			fail "$vg: VG line differs: $(head -1 "$work/dump.txt") vs $(cat "$work/vgo.txt")"
		fi
	else
		fail "$vg: lvm-dump failed: $(cat "$work/dump.err")"
	fi
}

check_lv() { # VG-LV IMAGE PVFILE...
	name=$1 img=$2; shift 2
	if "$tool" -x "$name" "$@" > "$work/out.img" 2> "$work/x.err" &&
	   cmp -s "$work/out.img" "$img"; then
		ok "$name reads back what was written"
	else
		fail "$name differs: $(cat "$work/x.err")"
	fi
}

expect_err() { # WHAT PATTERN ARGS...
	what=$1 pat=$2; shift 2
	if "$tool" "$@" > /dev/null 2> "$work/e.err"; then
		fail "$what: no error"
	elif grep -q "$pat" "$work/e.err"; then
		ok "$what: $(cat "$work/e.err")"
	else
		fail "$what: unexpected message: $(cat "$work/e.err")"
	fi
}

# VG names carry this run's suffix: lvm scans every loop device, so a VG
# of the same name on the machine, or another test under make -j, must not
# collide with ours.
rvg="rootvg$$" dvg="datavg$$" tvg="thinvg$$"

# ---- 1: a RHEL-7-like rootvg on one PV, with a non-contiguous LV ----
a="$work/rootvg.img"
attach "$a" 160M
L pvcreate -qy "$dev" && L vgcreate -q ${rvg} "$dev" && vgs_made="$vgs_made ${rvg}" ||
	{ fail "vgcreate ${rvg}"; cat "$work/lvm.log"; finish; }
L lvcreate -q -an -Zn -L 40M -n rootlv ${rvg}
L lvcreate -q -an -Zn -L 16M -n homelv ${rvg}
L lvcreate -q -an -Zn -L 8M -n varlv ${rvg}
L lvextend -q -L 24M ${rvg}/homelv	# homelv: two segments around varlv
L lvcreate -q -an -Zn -L 4M -n tmplv ${rvg}
nseg=$(L lvs --noheadings -o seg_count ${rvg}/homelv | tr -d ' ')
[ "$nseg" = 2 ] && ok "homelv has 2 segments" || fail "homelv has $nseg segments"
mkxfs "$work/root.xfs" 40
mkext4 "$work/home.ext4" 24
head -c 8M /dev/urandom > "$work/var.bin"
write_lv ${rvg} rootlv "$work/root.xfs"
write_lv ${rvg} homelv "$work/home.ext4"
write_lv ${rvg} varlv "$work/var.bin"
check_list ${rvg} "$a"
detach_all
check_lv ${rvg}-rootlv "$work/root.xfs" "$a"
check_lv ${rvg}/homelv "$work/home.ext4" "$a"
check_lv varlv "$work/var.bin" "$a"
if debugfs -R "cat /hello.txt" "$work/out.img" 2>/dev/null | grep -q hello; then :; fi
"$tool" -x ${rvg}-homelv "$a" > "$work/home.out" 2>/dev/null
if [ "$(debugfs -R 'cat /hello.txt' "$work/home.out" 2>/dev/null)" = "hello from $work/home.ext4" ]; then
	ok "debugfs reads hello.txt from homelv"
else
	fail "debugfs cannot read homelv"
fi
if command -v xfs_db >/dev/null; then
	"$tool" -x ${rvg}-rootlv "$a" > "$work/root.out" 2>/dev/null
	xfs_db -r -c sb -c "p magicnum" "$work/root.out" 2>/dev/null | grep -q 0x58465342 &&
		ok "xfs_db sees the XFS superblock on rootlv" || fail "xfs_db on rootlv"
fi
# fuzz seeds: the first 16 KiB hold label, mda header and metadata
seed() { [ -z "${LVM_SEED_DIR:-}" ] || head -c 16384 "$1" > "$LVM_SEED_DIR/$2"; }
seed "$a" rootvg-16k

# ---- 2: a VG across two PVs; a linear LV on both; a striped LV ----
b1="$work/pv1.img" b2="$work/pv2.img"
attach "$b1" 48M; d1=$dev
attach "$b2" 48M; d2=$dev
L pvcreate -qy "$d1" "$d2" && L vgcreate -q ${dvg} "$d1" "$d2" && vgs_made="$vgs_made ${dvg}" ||
	{ fail "vgcreate ${dvg}"; finish; }
L lvcreate -q -an -Zn -i2 -I64k -L 8M -n stripe ${dvg}
L lvcreate -q -an -Zn -L 56M -n span ${dvg} "$d1" "$d2"
nd=$(L lvs --noheadings -o devices ${dvg}/span | tr ',' '\n' | grep -c loop)
[ "$nd" = 2 ] && ok "span lies on both PVs" || fail "span lies on $nd PVs"
head -c 56M /dev/urandom > "$work/span.bin"
write_lv ${dvg} span "$work/span.bin"
check_list ${dvg} "$b1" "$b2"
detach_all
check_lv ${dvg}-span "$work/span.bin" "$b1" "$b2"
seed "$b1" datavg-pv0-16k
grep -q "^LV stripe .* striped unsupported" "$work/dump.txt" &&
	ok "striped LV listed as unsupported" || fail "striped LV: $(grep stripe "$work/dump.txt")"
expect_err "open striped LV" "segment type striped is not supported" -x ${dvg}-stripe "$b1" "$b2"
# one PV missing: span needs it
expect_err "missing PV" "of VG ${dvg} is missing" -x ${dvg}-span "$b1"
"$tool" "$b1" > "$work/miss.txt" 2>&1
grep -q "^PV pv1 .* missing" "$work/miss.txt" && ok "missing PV listed" || fail "missing PV: $(cat "$work/miss.txt")"
# truncated PV
head -c 10M "$b2" > "$work/pv2-short.img"
expect_err "truncated PV" "truncated PV" -x ${dvg}-span "$b1" "$work/pv2-short.img"

# ---- 3: a thin pool (lvm cannot make one offline: restore edited metadata) ----
c="$work/thin.img"
attach "$c" 64M
L pvcreate -qy "$dev" && L vgcreate -q ${tvg} "$dev" && vgs_made="$vgs_made ${tvg}"
L lvcreate -q -an -Zn -L 8M -n tdata0 ${tvg}	# lvcreate reserves *_tdata
L lvcreate -q -an -Zn -L 4M -n tmeta0 ${tvg}
L lvcreate -q -an -Zn -L 4M -n plain ${tvg}
L vgcfgbackup -q -f "$work/thin.vg" ${tvg}
id=$(L lvs --noheadings -o lv_uuid ${tvg}/plain | tr -d ' ')
sed 's/tdata0/pool_tdata/; s/tmeta0/pool_tmeta/' "$work/thin.vg" |
awk -v id="$id" '
	/^\t\tpool_tdata \{/ || /^\t\tpool_tmeta \{/ { hide = 1 }
	hide && /status = / { sub(/, "VISIBLE"/, "") }
	/^\t\tplain \{/ { hide = 0; print "\t\tpool {\n\t\t\tid = \"" substr(id,1,5) "X" substr(id,7) "\"\n\t\t\tstatus = [\"READ\", \"WRITE\", \"VISIBLE\"]\n\t\t\tflags = []\n\t\t\tsegment_count = 1\n\t\t\tsegment1 {\n\t\t\t\tstart_extent = 0\n\t\t\t\textent_count = 2\n\t\t\t\ttype = \"thin-pool\"\n\t\t\t\tmetadata = \"pool_tmeta\"\n\t\t\t\tpool = \"pool_tdata\"\n\t\t\t\ttransaction_id = 0\n\t\t\t\tchunk_size = 128\n\t\t\t\tdiscards = \"passdown\"\n\t\t\t\tzero_new_blocks = 0\n\t\t\t}\n\t\t}" }
	{ print }' > "$work/thin2.vg"
if L vgcfgrestore -q --force -f "$work/thin2.vg" ${tvg}; then
	L lvs -a --noheadings -o lv_name,segtype ${tvg} > "$work/thin-lvs.txt"
	detach_all
	"$tool" "$c" > "$work/thin.txt" 2>&1
	seed "$c" thinvg-16k
	grep -q "^LV pool .* thin-pool unsupported" "$work/thin.txt" &&
		ok "thin pool listed as unsupported" || fail "thin pool: $(cat "$work/thin.txt")"
	grep -q "^LV pool_tdata .* unsupported hidden" "$work/thin.txt" &&
		ok "pool_tdata listed as hidden" || fail "pool_tdata: $(cat "$work/thin.txt")"
	expect_err "open thin pool" "segment type thin-pool is not supported" -x ${tvg}-pool "$c"
	expect_err "open hidden LV" "internal LV" -x ${tvg}-pool_tdata "$c"
else
	say "note: vgcfgrestore refused the thin pool metadata: $(tail -2 "$work/lvm.log")"
	detach_all
fi

# ---- 4: damage ----
# a flipped byte in the metadata text (a byte of the VG name in the newest copy)
off=$(grep -abo "$rvg {" "$a" | tail -1 | cut -d: -f1)
cp "$a" "$work/bad-text.img"
printf 'X' | dd of="$work/bad-text.img" bs=1 seek=$((off + 2)) conv=notrunc status=none
expect_err "flipped byte in metadata" "metadata text at .*CRC" "$work/bad-text.img"
# a flipped byte in the label's pv_header (the PV UUID, at 512+32)
cp "$a" "$work/bad-label.img"
printf 'X' | dd of="$work/bad-label.img" bs=1 seek=$((512 + 32 + 3)) conv=notrunc status=none
expect_err "flipped byte in label" "label at 512: CRC" "$work/bad-label.img"
# the mda header
cp "$a" "$work/bad-mda.img"
printf 'X' | dd of="$work/bad-mda.img" bs=1 seek=$((4096 + 40)) conv=notrunc status=none
expect_err "flipped byte in mda header" "metadata area header at 4096: CRC" "$work/bad-mda.img"
# truncated inside the metadata area / a tiny file / not a PV
head -c 5000 "$a" > "$work/cut.img"
expect_err "PV cut inside the metadata" "outside the device\|past the end" "$work/cut.img"
head -c 1000 "$a" > "$work/tiny.img"
expect_err "tiny file" "too small" "$work/tiny.img"
expect_err "not a PV" "no LVM2 label" "$work/root.xfs"

finish
