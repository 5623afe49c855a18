#!/bin/sh
# ADE's Linux data-disk layouts over several disks, made with the real
# tools and read back through vhdunlock: LVM striped across three ADE data
# disks (inline LUKS2, one key file), md RAID 0, 1 (one disk missing) and
# 5 over LUKS, LUKS on md (crypt-on-RAID) and an LVM PV on md.  md arrays
# are written by tests/tools/mkmd.py (the md driver is not needed; the
# writer is proven against mdadm --examine in md-writer.sh); LUKS by
# cryptsetup reencrypt on image files, LVM by lvm2 on loop devices.  Every
# file read back equals the tree it was made from; every md level, layout
# and superblock version the reader knows is compared byte for byte with
# the array the writer laid out; damaged, stale, missing and unsupported
# members get clear messages.
. "$top_srcdir/tests/integration/lib.sh"
need python3 cryptsetup pvcreate vgcreate lvcreate lvs vgs pvs losetup sfdisk partx \
	qemu-img mkfs.ext4 mkfs.xfs xfs_repair e2fsck cmp sha256sum fusermount3 jq
[ "$(id -u)" -eq 0 ] || skip "needs root for loop devices"
. "$top_srcdir/tests/integration/lvm-lib.sh"
python_path
MKMD="$PY $top_srcdir/tests/tools/mkmd.py"
[ -f "$top_srcdir/tests/tools/mkmd.py" ] || { fail "tests/tools/mkmd.py is missing"; finish; }
cd "$work" || exit 1
PB="--pbkdf pbkdf2 --pbkdf-force-iterations 1000"
head -c 127 /dev/urandom | base64 -w0 > ade.key
KEY="--key-file ade.key"
XFS() { TEST_DIR=1 TEST_DEV=1 QA_CHECK_FS=1 mkfs.xfs -q -f "$@"; }

# encrypt_vhd OUT PLAIN: OUT is an ADE data disk (fixed VHD, one GPT
# partition) whose partition is PLAIN encrypted in place with an inline
# LUKS2 header (16 MiB more), keyed by ade.key
encrypt_vhd() {
	cp "$2" "$1.enc" && truncate -s +16M "$1.enc"
	cryptsetup reencrypt --encrypt --type luks2 --reduce-device-size 16M --batch-mode \
		$KEY $PB "$1.enc" >"$1.log" 2>&1 || { fail "cryptsetup $1: $(cat "$1.log")"; return 1; }
	gpt_vhd "$1" "1:8300:$(( $(stat -c %s "$1.enc") >> 20 )):$1.enc"
	rm -f "$1.enc"
}
# plain_vhd OUT FILE: a fixed VHD, one GPT partition holding FILE
plain_vhd() { gpt_vhd "$1" "1:FD00:$(( $(stat -c %s "$2") >> 20 )):$2"; }
# md_size LEVEL N MEMBER-BYTES [mkmd options]: the array size the writer makes
md_size() { l=$1 n=$2 b=$3; shift 3; $MKMD size --level "$l" --raid-devices "$n" --member-size "$b" "$@"; }

mkdir -p tree/db/tables && echo "ADE striped data" > tree/readme.txt
head -c 3000000 /dev/urandom > tree/db/tables/big.ibd
head -c 70000 /dev/urandom > tree/db/tables/small.ibd
echo "ln" > tree/db/log.txt
# modes as xfs.proto gives them
chmod 750 tree/db tree/db/tables && chmod 640 tree/db/log.txt tree/db/tables/*.ibd

# ---- 1: three ADE data disks, LVM-on-crypt, a 3-way striped LV of XFS ----
cat > xfs.proto <<PROTO
xfs
0 0
d--755 0 0
readme.txt ---644 0 0 $work/tree/readme.txt
db d--750 0 0
log.txt ---640 0 0 $work/tree/db/log.txt
tables d--750 0 0
big.ibd ---640 0 0 $work/tree/db/tables/big.ibd
small.ibd ---640 0 0 $work/tree/db/tables/small.ibd
\$
\$
\$
PROTO
XFS -p xfs.proto -d file,name=st.xfs,size=48m,agcount=2 &&
	xfs_repair -n -f st.xfs >/dev/null 2>&1 || fail "the test's XFS image is damaged"
vg="adevg$$"
devs=""
for i in 1 2 3; do
	rm -f "pv$i.img"; truncate -s 24M "pv$i.img"
	dev=$(losetup -f --show "pv$i.img") || { fail "losetup pv$i.img"; finish; }
	loops="$loops $dev" devs="$devs $dev"
done
L pvcreate -qy $devs && L vgcreate -q -s 4M "$vg" $devs && vgs_made="$vgs_made $vg" ||
	{ fail "vgcreate $vg: $(tail -3 lvm.log)"; finish; }
L lvcreate -q -an -Zn -i3 -I64k -L 48M -n dblv "$vg" || fail "lvcreate -i3: $(tail -3 lvm.log)"
[ "$(L lvs --noheadings -o stripes,stripe_size --units k "$vg/dblv" | tr -s ' ')" = " 3 64.00k" ] &&
	ok "lvm2 made dblv with 3 stripes of 64 KiB" || fail "dblv: $(L lvs -o stripes,stripe_size "$vg/dblv")"
write_lv "$vg" dblv st.xfs
# the striped LV exported before the disks are encrypted: the baseline
for l in $loops; do losetup -d "$l"; done
loops="" vgs_made=""
for i in 1 2 3; do encrypt_vhd "data$i.vhd" "pv$i.img"; done
ADD3="--add-disk data2.vhd --add-disk data3.vhd"

vu 0 "info of the three striped disks" info data1.vhd $ADD3 $KEY && cp out info-striped.txt
sed "s/^/    | /" info-striped.txt
grep -q "^$vg-dblv .*48.0 MiB *xfs" info-striped.txt &&
	grep -q "^    dblv .*48.0 MiB  striped *$" info-striped.txt &&
	ok "info: $vg-dblv, 48 MiB, striped, xfs" || fail "info striped: $(cat info-striped.txt err)"
vu 0 "export dblv" export data1.vhd $ADD3 $KEY "$vg-dblv" dblv.out &&
	cmp -s dblv.out st.xfs && ok "export $vg-dblv equals the XFS written at lvm2's stripe offsets" ||
	fail "export dblv differs"
for f in readme.txt db/tables/big.ibd db/tables/small.ibd; do
	"$VHDUNLOCK" cat data1.vhd $ADD3 $KEY "$vg-dblv:/$f" > f.out 2> f.err &&
		cmp -s f.out "tree/$f" && ok "striped XFS: cat /$f equals the tree" ||
		fail "striped XFS: cat /$f: $(cat f.err)"
done
vu 0 "info with data3 missing" info data1.vhd --add-disk data2.vhd $KEY
grep -q "pv2 (UUID .*) is missing" err && ok "data3 left out: the missing PV is named" ||
	fail "missing PV: $(cat out err)"
head -c 127 /dev/urandom | base64 -w0 > wrong.key
vu 3 "wrong key: nothing opens" info data1.vhd $ADD3 --key-file wrong.key
grep -q "$vg" out && fail "the VG shows without the key" || ok "without the key the VG stays hidden"

# ---- md members: each a file; mk_md OUT-PREFIX LEVEL N META DATA [opts]:
# members OUT-PREFIX1.. of 24 MiB
mk_md() {
	p=$1 l=$2 n=$3 meta=$4 data=$5; shift 5
	ms=""
	for i in $(seq 1 "$n"); do rm -f "$p$i"; truncate -s 24M "$p$i"; ms="$ms $p$i"; done
	$MKMD create --level "$l" --metadata "$meta" --uuid "$(cat /proc/sys/kernel/random/uuid)" \
		--name "$p" --data "$data" "$@" $ms || fail "mkmd $p"
}
TREEFS() { # IMAGE BYTES LABEL: an ext4 of the tree, BYTES long
	rm -f "$1"; mkfs.ext4 -q -F -L "$3" -d tree "$1" "$(( $2 / 1024 ))k" || fail "mkfs.ext4 $1"
}

# ---- 2: RAID0 over LUKS on two data disks, ext4 ----
s=$(md_size 0 2 $((24 << 20)) --metadata 1.2)
TREEFS r0.ext4 "$s" r0
mk_md r0m 0 2 1.2 r0.ext4 --chunk 64
encrypt_vhd r0a.vhd r0m1 && encrypt_vhd r0b.vhd r0m2
vu 0 "info raid0 over LUKS" info r0a.vhd --add-disk r0b.vhd $KEY && cp out info-raid0.txt
sed "s/^/    | /" info-raid0.txt
grep -q "^md-r0m .* ext4 *r0 " info-raid0.txt &&
	grep -q "^md-r0m: md raid0, chunk 64.0 KiB, metadata 1.2" info-raid0.txt &&
	ok "info: md-r0m raid0 over two LUKS2 disks holds ext4" || fail "raid0: $(cat out err)"
vu 0 "export raid0" export r0a.vhd --add-disk r0b.vhd $KEY md-r0m r0.out && cmp -s r0.out r0.ext4 &&
	ok "export md-r0m equals the ext4 laid out by mkmd" || fail "export md-r0m differs"
# decrypt each disk on its own: the plain copies form the array without keys
vu 0 "decrypt r0a" decrypt r0a.vhd r0a.dec.vhd $KEY && vu 0 "decrypt r0b" decrypt r0b.vhd r0b.dec.vhd $KEY &&
	vu 0 "export from the decrypted copies" export r0a.dec.vhd --add-disk r0b.dec.vhd md-r0m r0d.out &&
	cmp -s r0d.out r0.ext4 && ok "decrypt of each RAID0 disk: the copies form md-r0m without keys" ||
	fail "decrypted raid0 copies"
vu 1 "raid0 with one disk" info r0a.vhd $KEY
grep -q "md-r0m: cannot read the volume: .*raid0 with 1 of 2 members missing" err &&
	ok "raid0 missing a member: cannot be read, said so" || fail "raid0 one disk: $(cat out err)"

# ---- 3: RAID1 over LUKS, one disk missing ----
s=$(md_size 1 2 $((24 << 20)) --metadata 1.2)
TREEFS r1.ext4 "$s" r1
mk_md r1m 1 2 1.2 r1.ext4
encrypt_vhd r1a.vhd r1m1 && encrypt_vhd r1b.vhd r1m2
vu 0 "info raid1, second disk missing" info r1b.vhd $KEY && cp out info-raid1.txt
sed "s/^/    | /" info-raid1.txt
grep -q "^md-r1m .* ext4 " info-raid1.txt &&
	grep -q "state: *degraded: 1 of 2 members present, readable" info-raid1.txt &&
	grep -q "role 0 missing" info-raid1.txt &&
	ok "raid1 with one disk: degraded, role 0 missing, ext4 readable" || fail "raid1: $(cat out err)"
vu 0 "export degraded raid1" export r1b.vhd $KEY md-r1m r1.out && cmp -s r1.out r1.ext4 &&
	ok "export of the degraded raid1 equals the ext4" || fail "degraded raid1 differs"

# ---- 4: RAID5 of three LUKS disks ----
s=$(md_size 5 3 $((24 << 20)) --metadata 1.2)
TREEFS r5.ext4 "$s" r5
mk_md r5m 5 3 1.2 r5.ext4
for i in 1 2 3; do encrypt_vhd "r5$i.vhd" "r5m$i"; done
vu 0 "info raid5" info r51.vhd --add-disk r52.vhd --add-disk r53.vhd $KEY && cp out info-raid5.txt
sed "s/^/    | /" info-raid5.txt
grep -q "^md-r5m .* ext4 " info-raid5.txt &&
	grep -q "md raid5, left-symmetric, chunk 512.0 KiB" info-raid5.txt &&
	grep -q "state: *all 3 members present" info-raid5.txt &&
	ok "info: md-r5m raid5 left-symmetric over three LUKS2 disks" || fail "raid5: $(cat out err)"
vu 0 "json raid5" info r51.vhd --add-disk r52.vhd --add-disk r53.vhd $KEY --json
jq -e '.md[0] | .level == "raid5" and .raid_disks == 3 and .present == 3 and
	.members == ["d1p1", "d2p1", "d3p1"] and .id == "md-r5m"' out >/dev/null &&
	ok "info --json: md array, roles d1p1 d2p1 d3p1" || fail "json: $(jq .md out)"
vu 0 "raid5 without its middle disk" export r51.vhd --add-disk r53.vhd $KEY md-r5m r5.out &&
	cmp -s r5.out r5.ext4 && ok "raid5 missing d2: rebuilt from parity, equals the ext4" ||
	fail "degraded raid5 differs"
vu 0 "files of the degraded raid5" ls r51.vhd --add-disk r53.vhd $KEY md-r5m:/db/tables
grep -q big.ibd out && ok "ls of the degraded raid5" || fail "ls: $(cat out err)"

# ---- 5: crypt-on-RAID: LUKS on an md RAID1 of two plain partitions ----
s=$(md_size 1 2 $((24 << 20)) --metadata 1.0)
TREEFS cr.ext4 $((s - (16 << 20))) cr
cp cr.ext4 cr.enc && truncate -s "$s" cr.enc
cryptsetup reencrypt --encrypt --type luks2 --reduce-device-size 16M --batch-mode $KEY $PB cr.enc \
	>cr.log 2>&1 || fail "cryptsetup cr.enc: $(cat cr.log)"
mk_md crm 1 2 1.0 cr.enc
plain_vhd cra.vhd crm1 && plain_vhd crb.vhd crm2
vu 0 "info crypt-on-RAID" info cra.vhd --add-disk crb.vhd $KEY && cp out info-cryptraid.txt
sed "s/^/    | /" info-cryptraid.txt
grep -q "^md-crm .* luks2 " info-cryptraid.txt && grep -q "^d1p1 .* md " info-cryptraid.txt &&
	ok "info: md-crm (raid1, metadata 1.0) holds LUKS2, its members are md" ||
	fail "crypt-on-raid: $(cat out err)"
vu 0 "cat through md + LUKS" cat cra.vhd --add-disk crb.vhd $KEY md-crm:/db/tables/big.ibd &&
	cmp -s out tree/db/tables/big.ibd && ok "crypt-on-RAID: cat big.ibd equals the tree" ||
	fail "crypt-on-raid cat"
vu 0 "decrypt crypt-on-RAID" decrypt cra.vhd cra.dec.vhd --add-disk crb.vhd $KEY
grep -q "md-crm: luks2: not decrypted: it lies inside an md array, which decrypt copies as stored" err &&
	"$VHDUNLOCK" export cra.vhd p1 cra.p1 && "$VHDUNLOCK" export cra.dec.vhd p1 cra.dec.p1 &&
	cmp -s cra.p1 cra.dec.p1 && ok "decrypt: LUKS on md is named as not decrypted, the disk copied as stored" ||
	fail "decrypt crypt-on-raid: $(cat err)"
vu 1 "decrypt crypt-on-RAID --require-all" decrypt cra.vhd cra.dec2.vhd --add-disk crb.vhd $KEY --require-all
[ ! -e cra.dec2.vhd ] && ok "--require-all: exit 1, no copy" || fail "--require-all left a copy"
vu 0 "crypt-on-RAID without keys" info cra.vhd --add-disk crb.vhd
grep -q "^md-crm .* luks2 " out && ok "without keys md-crm shows as luks2, locked" ||
	fail "no keys: $(cat out err)"

# ---- 6: an LVM PV on md RAID5 (0.90 metadata) of three plain partitions ----
s=$(md_size 5 3 $((24 << 20)) --metadata 0.90 --chunk 64)
rm -f pvmd.img && truncate -s "$s" pvmd.img
pvg="mdvg$$"
dev=$(losetup -f --show pvmd.img) || { fail "losetup pvmd.img"; finish; }
loops="$dev"
L pvcreate -qy "$dev" && L vgcreate -q -s 4M "$pvg" "$dev" && vgs_made="$pvg" ||
	{ fail "vgcreate $pvg: $(tail -3 lvm.log)"; finish; }
L lvcreate -q -an -Zn -L 20M -n homelv "$pvg" || fail "lvcreate homelv"
L lvcreate -q -an -Zn -L 24M -n cryptlv "$pvg" || fail "lvcreate cryptlv"
TREEFS home.ext4 $((20 << 20)) home
write_lv "$pvg" homelv home.ext4
# and LUKS on an LV: md -> LVM -> LUKS -> ext4
TREEFS cl.ext4 $((8 << 20)) cl
cp cl.ext4 cl.enc && truncate -s 24M cl.enc
cryptsetup reencrypt --encrypt --type luks2 --reduce-device-size 16M --batch-mode $KEY $PB cl.enc \
	>cl.log 2>&1 || fail "cryptsetup cl.enc: $(cat cl.log)"
write_lv "$pvg" cryptlv cl.enc
losetup -d "$dev"; loops="" vgs_made=""
mk_md pvm 5 3 0.90 pvmd.img --chunk 64 --minor 3
for i in 1 2 3; do plain_vhd "pvm$i.vhd" "pvm$i"; done
vu 0 "info PV on md" info pvm1.vhd --add-disk pvm2.vhd --add-disk pvm3.vhd && cp out info-pvmd.txt
sed "s/^/    | /" info-pvmd.txt
grep -q "^md3 .* lvm2 " info-pvmd.txt && grep -q "^$pvg-homelv .* ext4 *home" info-pvmd.txt &&
	grep -q "^md3: md raid5, left-symmetric, chunk 64.0 KiB, metadata 0.90" info-pvmd.txt &&
	ok "info: md3 (0.90) holds a PV, $pvg-homelv ext4 on it" || fail "pv on md: $(cat out err)"
vu 0 "export LV on md" export pvm1.vhd --add-disk pvm2.vhd --add-disk pvm3.vhd "$pvg-homelv" h.out &&
	cmp -s h.out home.ext4 && ok "export $pvg-homelv (PV on md) equals the ext4" || fail "LV on md differs"
vu 0 "LUKS on an LV on md" cat pvm1.vhd --add-disk pvm2.vhd --add-disk pvm3.vhd $KEY \
	"$pvg-cryptlv:/db/tables/big.ibd" && cmp -s out tree/db/tables/big.ibd &&
	ok "md -> LVM -> LUKS -> ext4: cat big.ibd equals the tree" || fail "LUKS on LV: $(cat err)"
vu 0 "LUKS on an LV, info" info pvm1.vhd --add-disk pvm2.vhd --add-disk pvm3.vhd $KEY
grep -q "^$pvg-cryptlv .* luks2 " out && grep -q "holds: *ext4" out &&
	ok "info: $pvg-cryptlv is luks2, unlocked, holds ext4" || fail "LUKS on LV info: $(cat out err)"

# ---- 7: everything through the mount ----
mnt="$work/mnt"
mkdir -p "$mnt"
trap 'fusermount3 -u -z "$mnt" 2>/dev/null; lvm_cleanup' EXIT
# mount_tree NAME VOLUME IMAGE ARGS...: IMAGE mounted, VOLUME's files equal the tree
mount_tree() {
	mt_name=$1 mt_vol=$2 mt_img=$3
	shift 3
	if "$VHDUNLOCK" mount "$mt_img" "$mnt" "$@" 2>err; then
		for _ in $(seq 100); do mounted "$mnt" && break; sleep 0.1; done
		same_tree "mount: $mt_name" tree "$mnt/$mt_vol"
		"$VHDUNLOCK" umount "$mnt" 2>err || fail "umount: $(cat err)"
		for _ in $(seq 100); do mounted "$mnt" || break; sleep 0.1; done
	else
		fail "mount $mt_name: $(cat err)"
	fi
}
mount_tree "degraded raid5 md-r5m" md-r5m r51.vhd --add-disk r53.vhd $KEY
mount_tree "striped XFS $vg-dblv" "$vg-dblv" data1.vhd $ADD3 $KEY

# ---- 8: every level, layout and superblock version, byte for byte ----
head -c 96M /dev/urandom > rnd.bin
# each: LEVEL N META LAYOUT MISSING(role or -)
while read -r l n meta lay miss; do
	o=""; [ "$lay" = - ] || o="--layout $lay"
	[ "$l" = 1 ] || o="$o --chunk 32"
	s=$(md_size "$l" "$n" $((16 << 20)) --metadata "$meta" $o)
	head -c "$s" rnd.bin > arr.bin
	ms="" first="" add=""
	for i in $(seq 0 $((n - 1))); do
		rm -f "x$i"; truncate -s 16M "x$i"
		if [ "$i" = "$miss" ]; then ms="$ms missing"; continue; fi
		ms="$ms x$i"
		[ -z "$first" ] && first=x$i || add="$add --add-disk x$i"
	done
	$MKMD create --level "$l" --metadata "$meta" $o --minor 7 \
		--uuid 5eed0000-0000-4000-8000-00000000000$n --name all --data arr.bin $ms ||
		{ fail "mkmd $l $meta $lay"; continue; }
	id=md-all; [ "$meta" = 0.90 ] && id=md7
	rm -f x.out
	"$VHDUNLOCK" export "$first" $add "$id" x.out 2>x.err && cmp -s x.out arr.bin &&
		ok "raid$l $meta ${lay#-} on $n${miss#-}: export equals the array laid out" ||
		fail "raid$l $meta $lay $n missing $miss: $(cat x.err)"
done <<EOF
0 3 1.2 - -
1 3 1.1 - -
5 3 1.0 - -
5 3 0.90 - 1
10 4 0.90 n2 -
10 4 1.2 n2 3
10 3 1.2 n3 0
10 3 1.1 n2 -
5 4 1.2 left-asymmetric 0
5 4 1.2 right-asymmetric 3
5 4 1.2 left-symmetric -
5 4 1.2 right-symmetric 2
5 4 1.2 parity-first 0
5 4 1.2 parity-last 3
5 4 1.2 ddf-zero-restart -
5 4 1.2 ddf-N-restart 1
5 4 1.2 ddf-N-continue -
5 2 1.2 - -
EOF

# RAID0 over members of different sizes (12, 8 and 16 MiB by role): zones
while read -r meta lay sizes want; do
	ms="" first="" add="" list=""
	i=0
	for mb in $(echo "$sizes" | tr , ' '); do
		rm -f "w$i"; truncate -s "${mb}M" "w$i"
		ms="$ms w$i" list="$list${list:+,}$((mb << 20))"
		[ -z "$first" ] && first=w$i || add="$add --add-disk w$i"
		i=$((i + 1))
	done
	s=$($MKMD size --level 0 --raid-devices $i --member-size "$list" --metadata "$meta" \
		--chunk 64 --layout "$lay")
	head -c "$s" rnd.bin > arr.bin
	$MKMD create --level 0 --metadata "$meta" --chunk 64 --layout "$lay" --minor 2 \
		--uuid 5eed0000-0000-4000-8000-0000000000ee --name zones --data arr.bin $ms ||
		{ fail "mkmd zones $meta $lay"; continue; }
	id=md-zones; [ "$meta" = 0.90 ] && id=md2
	rm -f x.out
	"$VHDUNLOCK" export "$first" $add "$id" x.out 2>x.err
	if [ "$want" = read ] && cmp -s x.out arr.bin; then
		ok "raid0 zones ($sizes MiB), $meta $lay: export equals the array laid out"
	elif [ "$want" = refused ] && [ ! -s x.out ] &&
		grep -q "not supported: raid0 over members of different sizes with no layout recorded" x.err; then
		ok "raid0 zones ($sizes MiB), $meta: no layout recorded, said so"
	else
		fail "raid0 zones ($sizes) $meta $lay (want $want): $(cat x.err)"
	fi
done <<EOF
1.2 original 12,8,16 read
1.2 alternate 12,8,16 read
1.0 alternate 12,8,16 read
0.90 original 12,8,16 refused
0.90 original 8,8,12 read
EOF
"$VHDUNLOCK" info w0 --add-disk w1 --add-disk w2 > z.out 2>&1
grep -q "members of different sizes in 2 zones" z.out && ok "info: raid0 in 2 zones" ||
	fail "zones info: $(cat z.out)"

# ---- 9: damaged, stale, missing, unsupported ----
for i in 0 1 2; do rm -f "y$i"; truncate -s 16M "y$i"; done
$MKMD create --level 5 --metadata 1.2 --uuid 5eed0000-0000-4000-8000-0000000000aa --name bad y0 y1 y2
cp y1 y1.orig
printf '\001' | dd of=y1 bs=1 seek=$((4096 + 100)) conv=notrunc status=none
vu 0 "raid5 with a damaged superblock on y1" info y0 --add-disk y1 --add-disk y2
grep -q "d2: .*md: superblock 1.2 at 4096: checksum 0x[0-9a-f]*, expected 0x" err &&
	grep -q "degraded: 2 of 3" out && ok "damaged superblock: named (checksum, offset), array degraded" ||
	fail "damaged: $(cat out err)"
cp y1.orig y1
cp y2 y2.old
$MKMD create --level 5 --metadata 1.2 --uuid 5eed0000-0000-4000-8000-0000000000aa --name bad \
	--events 9 y0 y1 y2
cp y2.old y2
vu 0 "raid5 with a stale member" info y0 --add-disk y1 --add-disk y2
grep -q "left out: *d3: stale (event count [0-9]*, the array's 9)" out &&
	ok "stale member: left out, said so" || fail "stale: $(cat out err)"
vu 1 "raid5 with two members missing" info y0
grep -q "md-bad: cannot read the volume: .*raid5 with 2 of 3 members missing cannot be read" err &&
	ok "raid5 missing two: cannot be read, said so (exit 1)" || fail "two missing: $(cat out err)"
$MKMD create --level 10 --layout f2 --metadata 1.2 --uuid 5eed0000-0000-4000-8000-0000000000ac --name far y0 y1
vu 1 "raid10 far copies" info y0 --add-disk y1
grep -q "md-far: cannot read the volume: .*not supported: raid10 with far or offset copies" err &&
	grep -q "^md-far: md raid10, far=2" out && ok "raid10 far=2: listed, not supported" ||
	fail "far: $(cat out err)"
head -c 16M y0 > t0 && truncate -s 4M t0
vu 0 "a truncated member" info t0
grep -q "md: superblock 1.2 at 4096: data area (data_offset, data_size) runs past the end" err &&
	ok "truncated member: the data area past the end is named" || fail "truncated: $(cat out err)"
# one field of a 1.2 superblock set, its checksum made right again (this
# test's own sum, md(4)'s: 32-bit words added, the carry folded in once)
sb_set() { # FILE FIELD-OFFSET BYTES VALUE
	"$PY" - "$@" <<'PY'
import struct, sys
f, off, size, val = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
with open(f, "r+b") as h:
    h.seek(4096)
    b = bytearray(h.read(4096))
    b[off:off + size] = val.to_bytes(size, "little")
    n = 256 + 2 * min(struct.unpack_from("<I", b, 220)[0], 1920)
    b[216:220] = bytes(4)
    s = sum(struct.unpack_from("<%dI" % (n // 4), b)) + (struct.unpack_from("<H", b, n - 2)[0] if n % 4 else 0)
    b[216:220] = (((s & 0xffffffff) + (s >> 32)) & 0xffffffff).to_bytes(4, "little")
    h.seek(4096)
    h.write(b)
PY
}
# FIELD-OFFSET BYTES VALUE, what info must say (in err or out)
while read -r off size val want; do
	rm -f z0 z1; truncate -s 8M z0 z1
	$MKMD create --level 0 --chunk 64 --metadata 1.2 --uuid 5eed0000-0000-4000-8000-0000000000ad \
		--name f z0 z1 || { fail "mkmd z"; continue; }
	sb_set z0 "$off" "$size" "$val"
	sb_set z1 "$off" "$size" "$val"
	"$VHDUNLOCK" info z0 --add-disk z1 > z.out 2> z.err
	st=$?
	if [ $st -le 1 ] && grep -q "$want" z.out z.err; then
		ok "superblock field at $off = $val: \"$want\" (exit $st)"
	else
		fail "superblock field at $off = $val: exit $st: $(cat z.out z.err)"
	fi
done <<EOF
220 4 5000 max_dev larger than a 4 KiB superblock holds
160 4 65535 dev_number is outside the role table
128 8 1099511627776 data area (data_offset, data_size) runs past the end
72 4 6 md-f: cannot read the volume: .*not supported: raid6
72 4 4294967295 md-f: cannot read the volume: .*not supported: linear
8 4 4 md-f: cannot read the volume: .*not supported: a reshape is under way
8 4 32768 md-f: cannot read the volume: .*not supported: feature bits 0x8000
92 4 0 md-f: cannot read the volume: .*raid_disks 0 does not fit the role table
88 4 0 md-f: cannot read the volume: .*raid0 without a chunk size
EOF
sha256sum y0 y1 > before.sum
"$VHDUNLOCK" export y0 --add-disk y1 md-far /dev/null 2>/dev/null
sha256sum -c --quiet before.sum && ok "members are not modified" || fail "a member changed"

finish
