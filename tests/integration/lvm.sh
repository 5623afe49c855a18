#!/bin/sh
# LVM2 PVs made by the real lvm2 tools on loop devices (no device-mapper:
# LVs are created inactive with --driverloaded n), file systems written at
# each LV's extent offsets, then read back through tests/tools/lvm-dump and
# compared with what was written and with vgs/lvs.  Striped LVs, a raid1
# LV and a VG missing a PV also through vhdunlock itself, with --add-disk.
. "$top_srcdir/tests/integration/lib.sh"
need pvcreate vgcreate lvcreate lvextend lvs vgs pvs vgremove vgcfgbackup vgcfgrestore losetup \
	mkfs.ext4 mkfs.xfs debugfs cmp python3
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
head -c 8M /dev/urandom > "$work/stripe.bin"
write_lv ${dvg} span "$work/span.bin"
write_lv ${dvg} stripe "$work/stripe.bin"
check_list ${dvg} "$b1" "$b2"
detach_all
check_lv ${dvg}-span "$work/span.bin" "$b1" "$b2"
check_lv ${dvg}-stripe "$work/stripe.bin" "$b2" "$b1"
seed "$b1" datavg-pv0-16k
grep -q "^LV stripe .* striped supported" "$work/dump.txt" &&
	ok "striped LV listed as supported" || fail "striped LV: $(grep stripe "$work/dump.txt")"
# one PV missing: span needs it
expect_err "missing PV" "(UUID .*, last seen on $d2) of VG ${dvg} is missing" -x ${dvg}-span "$b1"
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
	expect_err "open thin pool" "LV ${tvg}/pool: not supported: thin-pool" -x ${tvg}-pool "$c"
	expect_err "open hidden LV" "internal LV" -x ${tvg}-pool_tdata "$c"
else
	say "note: vgcfgrestore refused the thin pool metadata: $(tail -2 "$work/lvm.log")"
	detach_all
fi

# ---- 5: striped LVs across three disks, through vhdunlock ----
# svg over three 40 MiB PVs (9 extents of 4 MiB each):
#   st3  3 stripes of 64 KiB over all three, an ext4 made from a tree
#   st2  2 stripes of 4 KiB on s1 s2
#   lin  linear on s3
#   seg2 2 stripes of 64 KiB on s1 s2, in two segments around "gap"
#   r1   raid1 on s1 s2 (lvm cannot make one offline: edited metadata)
svg="stripevg$$"
s1="$work/s1.img" s2="$work/s2.img" s3="$work/s3.img"
attach "$s1" 40M; e1=$dev
attach "$s2" 40M; e2=$dev
attach "$s3" 40M; e3=$dev
L pvcreate -qy "$e1" "$e2" "$e3" && L vgcreate -q ${svg} "$e1" "$e2" "$e3" &&
	vgs_made="$vgs_made ${svg}" || { fail "vgcreate ${svg}"; finish; }
L lvcreate -q -an -Zn -i3 -I64k -L 24M -n st3 ${svg}
L lvcreate -q -an -Zn -i2 -I4k -L 8M -n st2 ${svg} "$e1" "$e2"
L lvcreate -q -an -Zn -L 8M -n lin ${svg} "$e3"
L lvcreate -q -an -Zn -i2 -I64k -L 8M -n seg2 ${svg} "$e1" "$e2"
L lvcreate -q -an -Zn -l1 -n gap ${svg} "$e1"
L lvextend -q -L 16M ${svg}/seg2 "$e1" "$e2"
for n in rmeta0 rimage0; do L lvcreate -q -an -Zn -l1 -n $n ${svg} "$e1"; done
for n in rmeta1 rimage1; do L lvcreate -q -an -Zn -l1 -n $n ${svg} "$e2"; done
# (one line per segment: seg2's two say the same)
got=$(L lvs --noheadings -o lv_name,seg_count,stripes ${svg}/st3 ${svg}/st2 ${svg}/seg2 |
	tr -s ' ' | sed 's/^ //' | sort -u)
want=$(printf 'seg2 2 2\nst2 1 2\nst3 1 3')
[ "$got" = "$want" ] && ok "${svg}: st3, st2 and seg2 (2 segments) as wanted" ||
	fail "${svg} layout: $got"
mkext4 "$work/st3.ext4" 24
head -c 8M /dev/urandom > "$work/st2.bin"
head -c 8M /dev/urandom > "$work/lin.bin"
head -c 16M /dev/urandom > "$work/seg2.bin"
write_lv ${svg} st3 "$work/st3.ext4"
write_lv ${svg} st2 "$work/st2.bin"
write_lv ${svg} lin "$work/lin.bin"
write_lv ${svg} seg2 "$work/seg2.bin"
s3uuid=$(L pvs --noheadings -o pv_uuid "$e3" | tr -d ' ')
L vgcfgbackup -q -f "$work/r.vg" ${svg}
id=$(L lvs --noheadings -o lv_uuid ${svg}/lin | tr -d ' ')
sed 's/rmeta\([01]\)/r1_rmeta_\1/; s/rimage\([01]\)/r1_rimage_\1/' "$work/r.vg" | awk -v id="$id" '
	/^\t\tr1_r(meta|image)_[01] \{/ { hide = 1 }
	hide && /status = / { sub(/, "VISIBLE"/, "") }
	/^\t\tr1_rmeta_0 \{/ { print "\t\tr1 {\n\t\t\tid = \"" substr(id,1,5) "X" substr(id,7) "\"\n\t\t\tstatus = [\"READ\", \"WRITE\", \"VISIBLE\"]\n\t\t\tflags = []\n\t\t\tsegment_count = 1\n\t\t\tsegment1 {\n\t\t\t\tstart_extent = 0\n\t\t\t\textent_count = 1\n\t\t\t\ttype = \"raid1\"\n\t\t\t\tdevice_count = 2\n\t\t\t\tregion_size = 1024\n\t\t\t\traids = [\"r1_rmeta_0\", \"r1_rimage_0\", \"r1_rmeta_1\", \"r1_rimage_1\"]\n\t\t\t}\n\t\t}" }
	{ print }' > "$work/r2.vg"
if L vgcfgrestore -q --force -f "$work/r2.vg" ${svg}; then
	segt=$(L lvs --noheadings -o segtype ${svg}/r1 | tr -d ' ')
	[ "$segt" = raid1 ] && ok "lvm2 took the raid1 LV" || fail "r1 is $segt"
	raid=1
else
	fail "vgcfgrestore refused the raid1 metadata: $(tail -2 "$work/lvm.log")"
	raid=0
fi
detach_all
seed "$s1" stripevg-pv0-16k

# export's arguments: IMAGE VOLUME OUT, the disks added after
vu_export_all() { # VOLUME WANT NAME: with all three disks
	rm -f "$work/x.out"
	if "$VHDUNLOCK" export "$s1" "$1" "$work/x.out" --add-disk "$s2" \
		--add-disk "$s3" 2> "$work/x.err" && cmp -s "$work/x.out" "$2"; then
		ok "$3"
	else
		fail "$3: $(cat "$work/x.err")"
	fi
}
vu_export_all ${svg}-st3 "$work/st3.ext4" "3-way striped st3 exports the ext4 written at lvm2's stripe offsets"
vu_export_all ${svg}-st2 "$work/st2.bin" "2-way striped st2 (4 KiB stripes) exports what was written"
vu_export_all ${svg}-lin "$work/lin.bin" "linear lin beside them exports what was written"
vu_export_all ${svg}-seg2 "$work/seg2.bin" "striped seg2 in 2 segments exports what was written"
for f in hello.txt random.bin; do
	if "$VHDUNLOCK" cat "$s1" "${svg}-st3:/$f" --add-disk "$s2" --add-disk "$s3" \
		> "$work/f.out" 2> "$work/f.err" && cmp -s "$work/f.out" "$work/tree/$f"; then
		ok "st3: cat /$f equals the tree"
	else
		fail "st3: cat /$f: $(cat "$work/f.err")"
	fi
done
"$VHDUNLOCK" ls "$s1" "${svg}-st3:/" --add-disk "$s2" --add-disk "$s3" > "$work/ls.out" 2>&1
grep -q "random.bin" "$work/ls.out" && grep -q "hello.txt" "$work/ls.out" &&
	ok "st3: ls lists the tree" || fail "st3: ls: $(cat "$work/ls.out")"
if [ "$raid" = 1 ]; then
	"$VHDUNLOCK" info "$s1" --add-disk "$s2" --add-disk "$s3" > "$work/info.out" 2> "$work/info.err"
	st=$?
	if [ $st = 1 ] && grep -q "${svg}-r1: cannot read the volume: .*LV ${svg}/r1: not supported: raid1" "$work/info.err" &&
	   grep -q "^${svg}-lin .* ext4\|^${svg}-st3 .*ext4" "$work/info.out"; then
		ok "info: r1 not supported: raid1 (exit 1), the other LVs listed"
	else
		fail "info with raid1: exit $st: $(cat "$work/info.err")"; cat "$work/info.out"
	fi
	"$VHDUNLOCK" audit "$s1" --add-disk "$s2" --add-disk "$s3" > "$work/audit.out" 2>&1
	grep -q "not supported: raid1" "$work/audit.out" &&
		ok "audit: r1 not supported: raid1" || fail "audit with raid1: $(cat "$work/audit.out")"
	expect_err "lvm-dump: r1" "LV ${svg}/r1: not supported: raid1" -x ${svg}-r1 "$s1" "$s2" "$s3"
fi
# s3 missing: st2 and seg2 (on s1 s2) still open; st3 and lin need s3
"$VHDUNLOCK" info "$s1" --add-disk "$s2" > "$work/miss.out" 2> "$work/miss.err"
grep -q "VG ${svg}: pv2 (UUID ${s3uuid}, last seen on ${e3}) is missing" "$work/miss.err" &&
	ok "s3 missing: named with its UUID and $e3" || fail "s3 missing: $(cat "$work/miss.err")"
rm -f "$work/x.out"
if "$VHDUNLOCK" export "$s1" ${svg}-st2 "$work/x.out" --add-disk "$s2" 2> "$work/x.err" &&
   cmp -s "$work/x.out" "$work/st2.bin"; then
	ok "s3 missing: st2 still exports"
else
	fail "s3 missing: st2: $(cat "$work/x.err")"
fi
if "$VHDUNLOCK" export "$s1" ${svg}-st3 "$work/x.out" --add-disk "$s2" 2> "$work/x.err"; then
	fail "s3 missing: st3 exported"
elif grep -q "no volume '${svg}-st3'" "$work/x.err" && grep -q "${svg}-st2" "$work/x.err"; then
	ok "s3 missing: st3 does not open: $(tail -1 "$work/x.err")"
else
	fail "s3 missing: st3: $(cat "$work/x.err")"
fi
expect_err "lvm-dump: st3 without s3" "pv2 (UUID ${s3uuid}, last seen on ${e3}) of VG ${svg} is missing" \
	-x ${svg}-st3 "$s1" "$s2"
# a PV cut short: the stripe on it is named
head -c 5M "$s2" > "$work/s2-short.img"
expect_err "s2 cut short" "LV ${svg}/st3 segment 1 stripe 1 needs bytes .* (truncated PV)" \
	-x ${svg}-st3 "$s1" "$work/s2-short.img" "$s3"

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
