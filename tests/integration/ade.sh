#!/bin/sh
# The disks Azure Disk Encryption (ADE) leaves behind on Linux VMs, built
# with the real tools (cryptsetup reencrypt --encrypt offline on image files,
# lvm2 on loop devices with --driverloaded n, mkfs.*, sfdisk, partx,
# qemu-img) as FIXED VHDs, the format Azure exports managed disks in:
#
# ubuntu.vhd   an Ubuntu OS disk after ADE: GPT with the cloud image's
#              p14 (BIOS boot, empty) and p15 (EFI System, FAT), p1 the root
#              file system (ext4) encrypted in place with a DETACHED LUKS2
#              header (argon2id, 1 GiB), p2 the plain ext2 /boot that ADE
#              adds, holding the header as the file /luks/osluksheader
#              (/boot/luks/osluksheader on the VM). The root file system
#              holds the detached header of data2.vhd at
#              /var/lib/azure_disk_encryption_config/azureluksheaderdatadisk1.
#              Its 1 GiB keyslot is derived twice: info on a terminal (the
#              ticker) and a wrong key.
# ubuntu-a2.vhd  the same disk whose osluksheader has the keyslot as
#              argon2id at 32 MiB, one thread: the other checks of the
#              Ubuntu disk (export, --add-disk, mount, decrypt) use it.
# rhel7.vhd    a RHEL 7 LVM image after ADE: p1 EFI (FAT), p2 /boot (XFS)
#              holding /luks/osluksheader, p3 BIOS boot, p4 the LVM PV
#              encrypted in place with a DETACHED LUKS1 header; the PV holds
#              rootvg with rootlv (XFS) and homelv (ext4).
# data1.vhd    a data disk encrypted by the current extension: one GPT
#              partition, LUKS2 with its header inline, ext4 inside.
# data2.vhd    a data disk encrypted in place by the older (dual-pass)
#              extension: one GPT partition, data only; its LUKS2 header is
#              the file on ubuntu.vhd's root named above.
# span1.vhd, span2.vhd  two plain disks whose PVs form one VG (spanvg) with
#              a linear LV spanning both.
# partial.vhd  a data disk snapshotted while encryption was running: one GPT
#              partition, inline LUKS2, half of the data encrypted.
#
# ADE's Linux key file is base64 of 127 random bytes: 172 bytes, no newline,
# used byte for byte (--key-file); one key opens every volume of the VM.
#
# Checked: the OS volumes unlock with the header found on their boot
# partition (no --luks-header); the LVs of the RHEL PV appear; data2 unlocks
# only with the OS disk beside it (--add-disk, ids d1p1 ... d2p1); spanvg-lv
# appears only with both disks; the partly encrypted volume reads as the
# original; every export equals the file-system image that was encrypted;
# through the mount, every file of every volume equals the tree it was made
# from (content, type, size, mode, owner, link target, mtime, hard links);
# wrong, truncated and damaged keys and headers fail precisely; the images
# are never written.
. "$top_srcdir/tests/integration/lib.sh"
need script cryptsetup pvcreate vgcreate lvcreate lvs pvs vgs vgremove losetup sfdisk sgdisk partx \
	qemu-img mkfs.ext4 mkfs.ext2 mkfs.xfs xfs_repair mkfs.vfat mmd mcopy jq \
	strace sha256sum base64 cmp dd truncate head blkid e2fsck fusermount3 find xargs
[ -c /dev/fuse ] || skip "no /dev/fuse"
cd "$work" || exit 1

t_start=$(date +%s)

# --- lvm2 without udev or the device-mapper
. "$top_srcdir/tests/integration/lvm-lib.sh"

# make_vg VG EXTENT PVFILE:SIZE... -- LV:EXTENTS:IMAGE...: PV files (loops
# detached afterwards, the LVM metadata stays in the files)
make_vg() {
	vg=$1 ext=$2 devs=""
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		f=${1%%:*} sz=${1#*:}
		rm -f "$f"; truncate -s "$sz" "$f"
		dev=$(losetup -f --show "$f") || { fail "losetup $f"; finish; }
		loops="$loops $dev" devs="$devs $dev"
		L pvcreate -qy "$dev" || { fail "pvcreate $f: $(cat lvm.log)"; finish; }
		shift
	done
	shift
	L vgcreate -q -s "$ext" "$vg" $devs || { fail "vgcreate $vg: $(cat lvm.log)"; finish; }
	vgs_made="$vgs_made $vg"
	for spec; do
		lv=${spec%%:*} rest=${spec#*:}; n=${rest%%:*} img=${rest#*:}
		L lvcreate -q -an -Zn -l "$n" -n "$lv" "$vg" || fail "lvcreate $vg/$lv: $(cat lvm.log)"
		write_lv "$vg" "$lv" "$img"
	done
	for dev in $devs; do
		losetup -d "$dev"
		loops=$(printf '%s' "$loops" | sed "s|$dev||")
	done
	vgs_made=$(printf '%s' "$vgs_made" | sed "s| $vg||")
}
# fsck_ok NAME IMAGE: the test's own file system images must be sound
fsck_ok() {
	case $(blkid -p -o value -s TYPE "$2") in
	xfs) xfs_repair -n -f "$2" >"$2.fsck" 2>&1 ;;
	*) e2fsck -fn "$2" >"$2.fsck" 2>&1 ;;
	esac || fail "$1: the test's image $2 is damaged: $(tail -n 5 "$2.fsck")"
}
XFS() { TEST_DIR=1 TEST_DEV=1 QA_CHECK_FS=1 mkfs.xfs -q -f "$@"; }
PB="--pbkdf pbkdf2 --pbkdf-force-iterations 1000"

# --- keys
head -c 127 /dev/urandom | base64 -w0 > ade.key
[ "$(wc -c < ade.key)" -eq 172 ] || fail "ade.key is $(wc -c < ade.key) bytes, not 172"
head -c 127 /dev/urandom | base64 -w0 > wrong.key
head -c 171 ade.key > short.key
KEY="--key-file ade.key"

# --- data2: ext4 encrypted in place, header kept apart (ADE's dual-pass
# extension writes a 32 MiB header file; cryptsetup makes 16 MiB, the rest
# is zeros)
mkdir -p t2/projects && echo "data disk two" > t2/projects/readme.txt
head -c 1000000 /dev/urandom > t2/projects/blob.bin
mkfs.ext4 -q -F -L data2 -d t2 data2.fs 24M && fsck_ok data2 data2.fs
cp data2.fs data2.enc
cryptsetup reencrypt --encrypt --type luks2 --header data2.hdr --batch-mode $KEY $PB \
	data2.enc >mk.log 2>&1 || fail "cryptsetup data2: $(cat mk.log)"
truncate -s 32M data2.hdr
cmp -s data2.fs data2.enc && fail "data2 was not encrypted"
gpt_vhd data2.vhd 1:8300:24:data2.enc

# --- ubuntu: root ext4 (with data2's header), detached LUKS2 header with
# argon2id at cryptsetup's default memory cost (1 GiB, 4 threads asked for;
# cryptsetup uses at most one per CPU), 4 iterations. The keyslot is made
# with pbkdf2 (encryption opens it more than once) and converted to argon2id
# by cryptsetup luksConvertKey: one Argon2 run instead of three.
# Each derivation at that cost takes seconds of both CPUs, so ubuntu.vhd is
# opened once (info on a terminal); the checks that are not about the key
# derivation use ubuntu-a2.vhd, the same disk (same volume key, UUID and
# root.enc) whose header's keyslot is argon2id at 32 MiB, one thread.
mkdir -p tu/etc tu/home/azureuser tu/var/lib/azure_disk_encryption_config
echo ubuntu-vm > tu/etc/hostname
printf 'osencrypt /dev/sda1 none luks,discard,header=/boot/luks/osluksheader\n' > tu/etc/crypttab
echo "notes of azureuser" > tu/home/azureuser/notes.txt
head -c 2000000 /dev/urandom > tu/home/azureuser/blob.bin
ln tu/home/azureuser/notes.txt tu/home/azureuser/notes.hardlink
ln -s ../usr/share/zoneinfo/Etc/UTC tu/etc/localtime
truncate -s 6M tu/home/azureuser/sparse.img
printf 'the end' | dd of=tu/home/azureuser/sparse.img bs=1 seek=5000000 conv=notrunc status=none
cp data2.hdr tu/var/lib/azure_disk_encryption_config/azureluksheaderdatadisk1
mkfs.ext4 -q -F -L cloudimg-rootfs -d tu root.fs 48M && fsck_ok ubuntu root.fs
cp root.fs root.enc
cryptsetup reencrypt --encrypt --type luks2 --header os.hdr --batch-mode $KEY $PB \
	root.enc >mk.log 2>&1 || fail "cryptsetup ubuntu root: $(cat mk.log)"
cp os.hdr os-a2.hdr
cryptsetup luksConvertKey --batch-mode --header os.hdr $KEY --pbkdf argon2id \
	--pbkdf-memory 1048576 --pbkdf-parallel 4 --pbkdf-force-iterations 4 \
	root.enc >mk.log 2>&1 || fail "luksConvertKey: $(cat mk.log)"
cryptsetup luksDump os.hdr > os.dump 2>&1
grep -q 'PBKDF:.*argon2id' os.dump && grep -q 'Memory:[[:space:]]*1048576$' os.dump ||
	fail "os.hdr: no argon2id keyslot of 1 GiB: $(cat os.dump)"
cryptsetup luksConvertKey --batch-mode --header os-a2.hdr $KEY --pbkdf argon2id \
	--pbkdf-memory 32768 --pbkdf-parallel 1 --pbkdf-force-iterations 4 \
	root.enc >mk.log 2>&1 || fail "luksConvertKey (32 MiB): $(cat mk.log)"
cryptsetup luksDump os-a2.hdr | grep -q 'PBKDF:.*argon2id' || fail "os-a2.hdr: no argon2id keyslot"
truncate -s 32M os.hdr os-a2.hdr
mkdir -p tb/luks tb/grub && echo "set default=0" > tb/grub/grub.cfg
cp os.hdr tb/luks/osluksheader
mkfs.ext2 -q -F -L boot -d tb boot.fs 40M && fsck_ok "ubuntu boot" boot.fs
mkfs.vfat -C -n UEFI esp.fs 8192 >/dev/null && mmd -i esp.fs ::/EFI ::/EFI/ubuntu &&
	mcopy -i esp.fs tb/grub/grub.cfg ::/EFI/ubuntu/grub.cfg || fail "EFI FAT"
gpt_vhd ubuntu.vhd 14:EF02:4 15:EF00:8:esp.fs 1:8300:48:root.enc 2:8300:40:boot.fs
# ubuntu-a2.vhd: the same /boot (same file list, timestamps aside) with
# the cheap header as its osluksheader
rm -rf tba && cp -a tb tba && cp os-a2.hdr tba/luks/osluksheader
mkfs.ext2 -q -F -L boot -d tba a2boot.fs 40M && fsck_ok "ubuntu-a2 boot" a2boot.fs
gpt_vhd ubuntu-a2.vhd 14:EF02:4 15:EF00:8:esp.fs 1:8300:48:root.enc 2:8300:40:a2boot.fs
# the same disk with a damaged osluksheader: both LUKS2 header copies (at 0
# and 16 KiB) lose their magic
cp os.hdr bad.hdr
printf 'XXXXXX' | dd of=bad.hdr conv=notrunc status=none
printf 'YYYYYY' | dd of=bad.hdr bs=1 seek=16384 conv=notrunc status=none
rm -rf tbb && cp -a tb tbb && cp bad.hdr tbb/luks/osluksheader
mkfs.ext2 -q -F -L boot -d tbb badboot.fs 40M
gpt_vhd ubuntu-badhdr.vhd 14:EF02:4 15:EF00:8:esp.fs 1:8300:48:root.enc 2:8300:40:badboot.fs

# --- rhel7: rootvg (rootlv XFS, homelv ext4) in a PV encrypted in place
# with a detached LUKS1 header. cryptsetup encrypts offline only to LUKS2
# (its LUKS1 reencryption needs dm-crypt), so the LUKS2 header made that
# way is converted with cryptsetup convert --type luks1 (pbkdf2, as LUKS1
# requires); the header file stays 16 MiB.
mkdir -p xr/etc xr/root
echo "Red Hat Enterprise Linux Server release 7.9 (Maipo)" > xr/etc/redhat-release
head -c 1500000 /dev/urandom > xr/root/blob.bin
cat > rootlv.proto <<PROTO
rootlv
0 0
d--755 0 0
etc d--755 0 0
redhat-release ---644 0 0 $work/xr/etc/redhat-release
\$
root d--550 0 0
blob.bin ---600 0 0 $work/xr/root/blob.bin
\$
\$
PROTO
XFS -p rootlv.proto -d file,name=rootlv.fs,size=32m && fsck_ok rootlv rootlv.fs
mkdir -p th/azureuser && echo "home of azureuser" > th/azureuser/notes.txt
mkfs.ext4 -q -F -L home -d th homelv.fs 12M && fsck_ok homelv homelv.fs
make_vg rootvg 4M rhel.pv:48M -- rootlv:8:rootlv.fs homelv:3:homelv.fs
cp rhel.pv rhel.enc
cryptsetup reencrypt --encrypt --type luks2 --header rhel.hdr --batch-mode $KEY $PB \
	rhel.enc >mk.log 2>&1 || fail "cryptsetup rhel7: $(cat mk.log)"
cryptsetup convert --type luks1 --batch-mode --header rhel.hdr rhel.enc >mk.log 2>&1 ||
	fail "cryptsetup convert rhel7: $(cat mk.log)"
cryptsetup luksDump rhel.hdr | grep -q '^Version:[[:space:]]*1$' || fail "rhel.hdr is not LUKS1"
# mkfs.xfs 6.1 corrupts the next allocation group's headers when a proto
# file's data reaches beyond its allocation group: 2 AGs of 24 MiB hold it
cat > boot.proto <<PROTO
boot
0 0
d--555 0 0
luks d--700 0 0
osluksheader ---600 0 0 $work/rhel.hdr
\$
grub2 d--700 0 0
grub.cfg ---600 0 0 $work/tb/grub/grub.cfg
\$
\$
PROTO
XFS -p boot.proto -d file,name=rboot.fs,size=48m,agcount=2 && fsck_ok "rhel7 boot" rboot.fs
gpt_vhd rhel7.vhd 1:EF00:8:esp.fs 2:8300:48:rboot.fs 3:EF02:1 4:8E00:48:rhel.enc

# --- data1: inline LUKS2 header, ext4 inside
mkdir -p t1 && echo "data disk one" > t1/readme.txt && head -c 800000 /dev/urandom > t1/blob.bin
mkfs.ext4 -q -F -L data1 -d t1 data1.fs 24M && fsck_ok data1 data1.fs
cp data1.fs data1.enc && truncate -s 40M data1.enc
cryptsetup reencrypt --encrypt --type luks2 --reduce-device-size 16M --batch-mode $KEY $PB \
	data1.enc >mk.log 2>&1 || fail "cryptsetup data1: $(cat mk.log)"
gpt_vhd data1.vhd 1:8300:40:data1.enc

# --- spanvg: one linear LV over two plain PVs on two disks (1 MiB extents:
# 11 on the first PV, 5 on the second)
mkfs.ext4 -q -F -L span -d t1 span.fs 16M && fsck_ok span span.fs
make_vg spanvg 1M span1.pv:12M span2.pv:12M -- lv:16:span.fs
gpt_vhd span1.vhd 1:8E00:12:span1.pv
gpt_vhd span2.vhd 1:8E00:12:span2.pv

# --- partial: inline LUKS2 encryption stopped half way. With
# --reduce-device-size the data moves by the header size and is encrypted
# in hotzones of that size (8 MiB here), each followed by one fdatasync;
# strace delivers SIGINT on the second fdatasync, so cryptsetup stops
# cleanly after exactly two of the four hotzones: deterministic, no timing.
mkdir -p tp && head -c 3000000 /dev/urandom > tp/blob.bin && echo partial > tp/hello.txt
mkfs.ext4 -q -F -L partial -d tp partial.fs 32M && fsck_ok partial partial.fs
cp partial.fs partial.enc && truncate -s 48M partial.enc
cryptsetup reencrypt --encrypt --type luks2 --init-only --reduce-device-size 16M \
	--batch-mode $KEY $PB partial.enc >mk.log 2>&1 || fail "cryptsetup partial init: $(cat mk.log)"
strace -o /dev/null -e trace=fdatasync -e inject=fdatasync:signal=SIGINT:when=2 \
	cryptsetup reencrypt --batch-mode --force-offline-reencrypt $KEY partial.enc >mk.log 2>&1
cryptsetup luksDump partial.enc > partial.dump 2>&1
if grep -q 'Requirements:.*online-reencrypt' partial.dump && grep -q '^  2: crypt' partial.dump &&
	grep -q 'length: 16777216 \[bytes\]' partial.dump; then
	ok "partial: cryptsetup stopped with 16 of 32 MiB encrypted"
else
	fail "partial: not half encrypted: $(cat mk.log partial.dump)"
fi
gpt_vhd partial.vhd 1:8300:48:partial.enc

t_built=$(date +%s)
say "images built in $((t_built - t_start)) s (one Argon2id keyslot made)"
sha256sum ./*.vhd > images.sha256
# what the checks do not compare against is in the images now
rm -f ./*.enc ./*.sfdisk span1.pv span2.pv boot.fs badboot.fs a2boot.fs rboot.fs esp.fs

# --- the checks
# check NAME IMAGE VOLUME WANT_FILE ARGS...: export equals WANT_FILE (its
# length compared when the volume is larger)
check() {
	n=$1 img=$2 vol=$3 want=$4
	shift 4
	rm -f out.img
	if "$VHDUNLOCK" export "$img" "$vol" out.img "$@" 2>err &&
		cmp -s -n "$(wc -c < "$want")" "$want" out.img; then
		ok "$n"
	else
		fail "$n: $(cat err)"
	fi
	rm -f out.img
}
# jqok NAME FILE FILTER: the JSON in FILE satisfies FILTER
# (jq -e exits 0 on empty input: an info that printed nothing fails here)
jqok() {
	if [ -s "$2" ] && jq -e "$3" "$2" >/dev/null 2>&1; then
		ok "$1"
	else
		fail "$1: $(jq -c . "$2" 2>&1 | cut -c1-3000)"
	fi
}
# V ID: jq for the volume ID
V() { printf '(.volumes[] | select(.id == "%s"))' "$1"; }

# ubuntu: the header is found at p2:/luks/osluksheader.  The one success
# of the 1 GiB Argon2id keyslot, on a terminal (script(1) gives one; the
# JSON goes to a file), where the derivation shows a ticker
script -qec "\"$VHDUNLOCK\" info --json ubuntu.vhd $KEY >u.json" /dev/null > tty.out 2>&1 ||
	fail "ubuntu info: $(head -c 600 tty.out)"
grep -q 'deriving the key (argon2id, 1024 MiB, [0-9] threads)' tty.out &&
	ok "ubuntu: a terminal shows the key derivation" ||
	fail "ubuntu: no derivation ticker on a terminal: $(head -c 600 tty.out)"
jqok "ubuntu: volumes p1 p2 p14 p15" u.json '(.volumes | map(.id) | sort) == ["p1","p14","p15","p2"]'
jqok "ubuntu: p2 ext2, p15 FAT" u.json "$(V p2).kind == \"ext2\" and $(V p15).kind == \"fat\""
jqok "ubuntu: p1 unlocked with the header found in the boot partition's luks/osluksheader" u.json \
	"$(V p1).luks | (.version == 2) and (.detached_header | test(\"osluksheader\")) and .unlocked and (.keyslots[0].pbkdf == \"argon2id\") and (.content.kind == \"ext4\") and (.content.label == \"cloudimg-rootfs\")"
# from here on ubuntu-a2.vhd (a cheap argon2id keyslot) where the checks
# are not about the key derivation
check "ubuntu: p1 exports the root ext4" ubuntu-a2.vhd p1 root.fs $KEY

# rhel7: LUKS1 header found on the XFS /boot, LVM inside
"$VHDUNLOCK" info --json rhel7.vhd $KEY > r.json 2>err || fail "rhel7 info: $(cat err)"
jqok "rhel7: volumes p1-p4, rootvg-rootlv, rootvg-homelv" r.json \
	'(.volumes | map(.id) | sort) == ["p1","p2","p3","p4","rootvg-homelv","rootvg-rootlv"]'
jqok "rhel7: p4 (LUKS1) unlocked with p2's luks/osluksheader, LVM inside" r.json \
	"$(V p4).luks | (.version == 1) and (.detached_header | test(\"osluksheader\")) and .unlocked and (.content.kind == \"lvm2\")"
jqok "rhel7: p2 XFS, rootlv XFS, homelv ext4" r.json \
	"$(V p2).kind == \"xfs\" and $(V rootvg-rootlv).kind == \"xfs\" and $(V rootvg-homelv).kind == \"ext4\""
check "rhel7: rootvg-rootlv exports its XFS" rhel7.vhd rootvg-rootlv rootlv.fs $KEY
check "rhel7: rootvg-homelv exports its ext4" rhel7.vhd rootvg-homelv homelv.fs $KEY
check "rhel7: p4 decrypts to the PV" rhel7.vhd p4 rhel.pv $KEY

# data1: inline header
"$VHDUNLOCK" info --json data1.vhd $KEY > d1.json 2>err || fail "data1 info: $(cat err)"
jqok "data1: p1 LUKS2 (inline) unlocked, ext4 inside" d1.json \
	"$(V p1) | (.kind == \"luks2\") and (.luks.detached_header == null) and .luks.unlocked and (.luks.content.kind == \"ext4\")"
check "data1: p1 exports the ext4" data1.vhd p1 data1.fs $KEY

# data2: its header is a file on the OS disk's root file system
"$VHDUNLOCK" info --json ubuntu-a2.vhd --add-disk data2.vhd $KEY > u2.json 2>err ||
	fail "ubuntu + data2 info: $(cat err)"
jqok "ubuntu + data2: two disks, ids d1p1 d1p2 d1p14 d1p15 d2p1" u2.json \
	'(.disks | length) == 2 and ((.volumes | map(.id) | sort) == ["d1p1","d1p14","d1p15","d1p2","d2p1"])'
jqok "ubuntu + data2: d2p1 unlocked with /var/lib/azure_disk_encryption_config/azureluksheaderdatadisk1" u2.json \
	"$(V d2p1).luks | (.detached_header | test(\"azure_disk_encryption_config/azureluksheaderdatadisk1\")) and .unlocked and (.content.kind == \"ext4\") and (.content.label == \"data2\")"
jqok "ubuntu + data2: d1p1 still unlocked with osluksheader" u2.json \
	"$(V d1p1).luks | (.detached_header | test(\"osluksheader\")) and .unlocked"
check "ubuntu + data2: d2p1 exports the data ext4" ubuntu-a2.vhd d2p1 data2.fs --add-disk data2.vhd $KEY
# data2 alone: nothing on it says LUKS; the key cannot open it, and the
# message names the volume and where its header would be
rm -f out.img
"$VHDUNLOCK" export data2.vhd p1 out.img $KEY 2>err
st=$?
if { [ $st -eq 3 ] || [ $st -eq 0 ]; } && grep -q 'p1' err && grep -q -- '--add-disk' err &&
	! cmp -s -n 25165824 data2.fs out.img; then
	ok "data2 alone: exit $st, $(cat err)"
else
	fail "data2 alone: exit $st: $(cat err)"
fi
rm -f out.img

# spanvg: the LV appears only with both disks
"$VHDUNLOCK" info --json span1.vhd > s1.json 2>err || fail "span1 info: $(cat err)"
jqok "span1 alone: no spanvg-lv" s1.json '.volumes | map(.id) | index("spanvg-lv") == null'
jqok "span1 alone: spanvg listed with one PV missing" s1.json '.lvm[] | select(.vg == "spanvg") | .missing_pvs == 1'
"$VHDUNLOCK" info --json span1.vhd --add-disk span2.vhd > s2.json 2>err || fail "span1 + span2 info: $(cat err)"
jqok "span1 + span2: d1p1 d2p1 spanvg-lv (ext4)" s2.json \
	"((.volumes | map(.id) | sort) == [\"d1p1\",\"d2p1\",\"spanvg-lv\"]) and $(V spanvg-lv).kind == \"ext4\""
check "span1 + span2: spanvg-lv exports its ext4" span1.vhd spanvg-lv span.fs --add-disk span2.vhd

# partial: half encrypted, the rest passed through as it is
"$VHDUNLOCK" info --json partial.vhd $KEY > p.json 2>err || fail "partial info: $(cat err)"
jqok "partial: reencryption state shown, unlocked, ext4" p.json \
	"$(V p1).luks | (.reencryption == \"clean\") and .unlocked and (.content.kind == \"ext4\")"
check "partial: p1 exports the original ext4" partial.vhd p1 partial.fs $KEY

# --- errors
# wrong key (the 1 GiB Argon2 once more, failing): exit 3 naming the
# volume and its key slots; standard error is a file, so the derivation's
# seconds show no ticker
rm -f out.img
"$VHDUNLOCK" export ubuntu.vhd p1 out.img --key-file wrong.key 2>err
st=$?
[ $st -eq 3 ] && grep -Eq '(^|[^0-9a-z])p1([^0-9]|$)' err && grep -q 'key slot' err &&
	grep -q 'argon2id' err && [ ! -e out.img ] &&
	ok "ubuntu, wrong key: exit 3: $(cat err)" || fail "ubuntu, wrong key: exit $st: $(cat err)"
grep -q 'deriving the key' err && fail "ubuntu: the ticker appeared in a file"
rm -f out.img
"$VHDUNLOCK" export data1.vhd p1 out.img --key-file wrong.key 2>err
st=$?
[ $st -eq 3 ] && grep -q 'p1: no key given unlocks this LUKS2 volume; its key slots are: 0 (pbkdf2)' err &&
	[ ! -e out.img ] && ok "data1, wrong key: exit 3: $(cat err)" || fail "data1, wrong key: exit $st: $(cat err)"
# the key file one byte short (used byte for byte, so it is another key);
# on data1, whose pbkdf2 keyslot is fast: the key handling is the same
rm -f out.img
"$VHDUNLOCK" export data1.vhd p1 out.img --key-file short.key 2>err
st=$?
[ $st -eq 3 ] && grep -q 'p1' err && [ ! -e out.img ] &&
	ok "data1, key file one byte short: exit 3" || fail "data1, key file one byte short: exit $st: $(cat err)"
grep -qF "$(head -c 40 ade.key)" err u.json r.json u2.json 2>/dev/null && fail "the key appeared in a message"
# a damaged osluksheader: a precise message naming it, no crash, no output
rm -f out.img
"$VHDUNLOCK" export ubuntu-badhdr.vhd p1 out.img $KEY 2>err
st=$?
{ [ $st -eq 1 ] || [ $st -eq 3 ]; } && grep -q 'osluksheader' err && [ ! -e out.img ] &&
	ok "damaged osluksheader: exit $st: $(cat err)" || fail "damaged osluksheader: exit $st: $(cat err)"
"$VHDUNLOCK" info ubuntu-badhdr.vhd $KEY >/dev/null 2>err
st=$?
[ $st -ne 0 ] && [ $st -lt 128 ] && grep -q 'osluksheader' err &&
	ok "damaged osluksheader, info: exit $st" || fail "damaged osluksheader, info: exit $st: $(cat err)"
# --add-disk of a file that does not exist
"$VHDUNLOCK" info ubuntu-a2.vhd --add-disk nosuch.vhd >/dev/null 2>err
st=$?
[ $st -eq 1 ] && grep -q 'nosuch.vhd' err && ok "--add-disk nosuch.vhd: exit 1: $(cat err)" ||
	fail "--add-disk nosuch.vhd: exit $st: $(cat err)"

# --- keys: the detached-header volume names its key slot; --save writes
# <UUID>.key, the ADE key file byte for byte
rm -rf ks
if "$VHDUNLOCK" keys rhel7.vhd $KEY --save ks --json > keys.json 2>err; then
	uuid=$(cryptsetup luksUUID rhel.hdr)
	jqok "rhel7: keys: p4 opened by the key file in key slot 0 with the header found" keys.json \
		".volumes | length == 1 and (.[0] | .id == \"p4\" and .kind == \"luks1\" and .key.keyslot == 0 and (.unlocked_by | test(\"key file\")) and .detached_header == \"p2:/luks/osluksheader\" and .saved == \"ks/$uuid.key\")"
	cmp -s "ks/$uuid.key" ade.key && ok "rhel7: keys --save wrote $uuid.key equal to the key file" ||
		fail "rhel7: keys --save: ks/$uuid.key differs"
else
	fail "rhel7: keys: $(cat err)"
fi

# --- every file through the mount, compared with the tree it was made from
# (content, type, size, mode, owner, link target; mtimes where mkfs kept
# them: mkfs.xfs -p stamps everything with the time it ran)
mnt="$work/mnt"
mkdir -p "$mnt"
trap 'fusermount3 -u -z "$mnt" 2>/dev/null; lvm_cleanup' EXIT
# vmount IMAGE ARGS...: mount IMAGE at $mnt; vumount: unmount it
vmount() {
	_img=$1
	shift
	if "$VHDUNLOCK" mount "$_img" "$mnt" "$@" 2>err; then
		for _ in $(seq 100); do mounted "$mnt" && return 0; sleep 0.1; done
	fi
	fail "mount $_img: $(cat err)"
	return 1
}
vumount() {
	"$VHDUNLOCK" umount "$mnt" 2>err || fail "umount $mnt: $(cat err)"
	for _ in $(seq 100); do mounted "$mnt" || return 0; sleep 0.1; done
	fail "$mnt still mounted"
}
if vmount ubuntu-a2.vhd --add-disk data2.vhd $KEY; then
	ls "$mnt" > ls.out
	printf '%s\n' d1p1 d1p1.img d1p14.img d1p15 d1p15.img d1p2 d1p2.img d2p1 d2p1.img | cmp -s - ls.out &&
		ok "ubuntu + data2: the mount shows d1p1 d1p15 d1p2 d2p1 and every volume's image" ||
		fail "ubuntu + data2: mount root holds $(tr '\n' ' ' < ls.out)"
	same_tree "ubuntu: d1p1 (root ext4, detached LUKS2 argon2id)" tu "$mnt/d1p1" ' %Ts'
	same_tree "ubuntu: d1p2 (boot ext2)" tba "$mnt/d1p2" ' %Ts'
	same_tree "data2: d2p1 (ext4, header on the OS disk)" t2 "$mnt/d2p1" ' %Ts'
	# the EFI FAT made with mmd/mcopy above
	[ "$(cd "$mnt/d1p15" && find . | sort | tr '\n' ' ')" = ". ./EFI ./EFI/ubuntu ./EFI/ubuntu/grub.cfg " ] &&
		cmp -s tb/grub/grub.cfg "$mnt/d1p15/EFI/ubuntu/grub.cfg" &&
		ok "ubuntu: d1p15 (EFI FAT) holds EFI/ubuntu/grub.cfg as copied in" ||
		fail "ubuntu: d1p15: $(cd "$mnt/d1p15" && find . | tr '\n' ' ')"
	[ "$(stat -c %h "$mnt/d1p1/home/azureuser/notes.hardlink")" = 2 ] &&
		[ "$(stat -c %i "$mnt/d1p1/home/azureuser/notes.hardlink")" = \
		  "$(stat -c %i "$mnt/d1p1/home/azureuser/notes.txt")" ] &&
		ok "ubuntu: a hard link is one inode with two links" || fail "ubuntu: hard link"
	vumount
fi
# mkfs.xfs -p took the modes and owners from its proto files
chmod 755 xr/etc && chmod 644 xr/etc/redhat-release && chmod 550 xr/root && chmod 600 xr/root/blob.bin
mkdir -p rb/luks rb/grub2 && cp rhel.hdr rb/luks/osluksheader && cp tb/grub/grub.cfg rb/grub2/
chmod 700 rb/luks rb/grub2 && chmod 600 rb/luks/osluksheader rb/grub2/grub.cfg
if vmount rhel7.vhd $KEY; then
	same_tree "rhel7: rootvg-rootlv (XFS in LVM in detached LUKS1)" xr "$mnt/rootvg-rootlv"
	same_tree "rhel7: rootvg-homelv (ext4)" th "$mnt/rootvg-homelv" ' %Ts'
	same_tree "rhel7: p2 (boot XFS)" rb "$mnt/p2"
	vumount
fi
if vmount data1.vhd $KEY; then
	same_tree "data1: p1 (inline LUKS2)" t1 "$mnt/p1" ' %Ts'
	vumount
fi
if vmount partial.vhd $KEY; then
	same_tree "partial: p1 (half encrypted)" tp "$mnt/p1" ' %Ts'
	vumount
fi
if vmount span1.vhd --add-disk span2.vhd; then
	same_tree "span: spanvg-lv (a VG over two disks)" t1 "$mnt/spanvg-lv" ' %Ts'
	vumount
fi

# --- decrypt: each disk as a plain copy (fixed VHD, dynamic VHDX, raw),
# turned back into raw by qemu-img; the decrypted partitions are found by
# partx, compared with the file systems that were encrypted and checked by
# e2fsck; our info (no keys) sees plain file systems and audit calls them
# exposed; sgdisk -v is clean; every file through a mount of the copy
# equals its tree
# dec NAME IMAGE FMT ARGS...: decrypt IMAGE to dec.FMT and back to dec.raw
dec() {
	_n=$1 _img=$2 _fmt=$3
	shift 3
	rm -f "dec.$_fmt" dec.raw
	if ! "$VHDUNLOCK" decrypt "$_img" "dec.$_fmt" --format "$_fmt" "$@" >dec.out 2>err; then
		fail "$_n: decrypt: $(cat err)"
		return 1
	fi
	case $_fmt in
	vhd) qemu-img convert -f vpc -O raw dec.vhd dec.raw ;;
	vhdx) qemu-img check -f vhdx dec.vhdx >qc.out 2>&1 || fail "$_n: qemu-img check: $(cat qc.out)"
		qemu-img convert -f vhdx -O raw dec.vhdx dec.raw ;;
	raw) : ;;
	esac || { fail "$_n: qemu-img convert"; return 1; }
	sgdisk -v dec.raw >sg.out 2>&1 && grep -q "No problems found" sg.out ||
		fail "$_n: sgdisk -v: $(cat sg.out)"
	return 0
}
# part_is NAME N WANT_FS [fsck]: partition N of dec.raw begins with WANT_FS,
# blkid sees the same kind in both
part_is() {
	set -- "$1" $(partx -g -o START,SECTORS -n "$2" dec.raw) "$3" "${4:-}"
	dd if=dec.raw of=part.img bs=512 skip="$2" count="$3" status=none
	if cmp -s -n "$(wc -c < "$4")" part.img "$4" &&
		[ "$(blkid -p -o value -s TYPE part.img)" = "$(blkid -p -o value -s TYPE "$4")" ] &&
		{ [ -z "$5" ] || e2fsck -fn part.img >ef.out 2>&1; }; then
		ok "$1"
	else
		fail "$1: $(cmp part.img "$4" | head -n 1) $(tail -n 3 ef.out 2>/dev/null)"
	fi
	rm -f part.img ef.out
}
root_uuid=$(blkid -p -o value -s UUID root.fs)
for fmt in vhd vhdx raw; do
	dec "ubuntu -> $fmt" ubuntu-a2.vhd $fmt $KEY || continue
	grep -Eq '^p1 +luks2 -> ext4 +decrypted in place$' dec.out &&
		grep -q 'note: p1 was opened with a detached LUKS header (p2:/luks/osluksheader)' dec.out &&
		grep -q "mount it by UUID=$root_uuid instead of" dec.out &&
		grep -q '/etc/crypttab' dec.out && grep -q 'update-initramfs' dec.out &&
		ok "ubuntu -> $fmt: summary, with what would change inside the guest" ||
		fail "ubuntu -> $fmt: summary: $(cat dec.out)"
	part_is "ubuntu -> $fmt: p1 is the root ext4 where it was, e2fsck clean" 1 root.fs fsck
	"$VHDUNLOCK" info --json dec.raw > dj.json 2>err
	jqok "ubuntu -> $fmt: info without keys: p1 ext4 (cloudimg-rootfs)" dj.json \
		"$(V p1).kind == \"ext4\" and $(V p1).label == \"cloudimg-rootfs\""
done
"$VHDUNLOCK" audit dec.raw >audit.out 2>&1
[ $? -eq 1 ] && grep -q p1 audit.out && ok "ubuntu decrypted: audit reports p1 exposed (exit 1)" ||
	fail "ubuntu decrypted: audit: $(cat audit.out)"
if vmount dec.raw; then
	same_tree "ubuntu decrypted: p1 without keys" tu "$mnt/p1" ' %Ts'
	vumount
fi
for fmt in vhd vhdx raw; do
	dec "rhel7 -> $fmt" rhel7.vhd $fmt $KEY || continue
	grep -Eq '^p4 +luks1 -> lvm2 +decrypted in place$' dec.out &&
		grep -q 'note: p4 was opened with a detached LUKS header (p2:/luks/osluksheader)' dec.out &&
		ok "rhel7 -> $fmt: summary" || fail "rhel7 -> $fmt: summary: $(cat dec.out)"
	part_is "rhel7 -> $fmt: p4 is the LVM PV lvm2 made" 4 rhel.pv
	"$VHDUNLOCK" info --json dec.raw > dj.json 2>err
	jqok "rhel7 -> $fmt: info without keys: p4 lvm2, rootlv XFS, homelv ext4" dj.json \
		"$(V p4).kind == \"lvm2\" and $(V rootvg-rootlv).kind == \"xfs\" and $(V rootvg-homelv).kind == \"ext4\""
done
# the LVs of the plain PV, exported without keys, pass their checkers
"$VHDUNLOCK" export dec.raw rootvg-rootlv lv.img 2>err && xfs_repair -n -f lv.img >xr.out 2>&1 &&
	ok "rhel7 decrypted: rootvg-rootlv passes xfs_repair -n" || fail "rhel7 decrypted: rootlv: $(cat err xr.out)"
rm -f lv.img
"$VHDUNLOCK" export dec.raw rootvg-homelv lv.img 2>err && e2fsck -fn lv.img >ef.out 2>&1 &&
	ok "rhel7 decrypted: rootvg-homelv passes e2fsck -fn" || fail "rhel7 decrypted: homelv: $(cat err ef.out)"
rm -f lv.img
if vmount dec.raw; then
	same_tree "rhel7 decrypted: rootvg-rootlv without keys" xr "$mnt/rootvg-rootlv"
	same_tree "rhel7 decrypted: rootvg-homelv without keys" th "$mnt/rootvg-homelv" ' %Ts'
	vumount
fi
# data2: its header is on the OS disk given beside it; decrypted in place
if dec "data2 (header on ubuntu.vhd) -> raw" data2.vhd raw --add-disk ubuntu-a2.vhd $KEY; then
	grep -Eq '^d1p1 +luks2 -> ext4 +decrypted in place$' dec.out &&
		grep -q 'note: d1p1 was opened with a detached LUKS header (d2p1:/var/lib/azure_disk_encryption_config/azureluksheaderdatadisk1)' dec.out &&
		grep -q 'Linux data disks.  The copy is plain' dec.out &&
		ok "data2 -> raw: summary and the data-disk note" || fail "data2 -> raw: summary: $(cat dec.out)"
	part_is "data2 -> raw: p1 is the data ext4, e2fsck clean" 1 data2.fs fsck
	cmp -s -n 1048576 dec.raw data2.vhd && ok "data2 -> raw: the table as it was" ||
		fail "data2 -> raw: first MiB changed"
fi
# inline headers: the partition moves to the payload
for d in data1 partial; do
	dec "$d -> raw" $d.vhd raw $KEY || continue
	grep -Eq '^p1 +luks2 -> ext4 +decrypted in place; partition entry moved to the payload' dec.out &&
		ok "$d -> raw: summary" || fail "$d -> raw: summary: $(cat dec.out)"
	part_is "$d -> raw: p1 starts at the payload and is the ext4, e2fsck clean" 1 $d.fs fsck
done
if vmount dec.raw; then
	same_tree "partial decrypted (an interrupted reencryption): p1 without keys" tp "$mnt/p1" ' %Ts'
	vumount
fi
rm -f dec.vhd dec.vhdx dec.raw dj.json

# --- the images were only read
sha256sum -c --quiet images.sha256 >sha.log 2>&1 && ok "images unchanged (SHA-256)" ||
	fail "images changed: $(cat sha.log)"
say "whole test: $(( $(date +%s) - t_start )) s"
finish
