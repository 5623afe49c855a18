#!/bin/sh
# Volume probe against blkid: images made by the real tools (mkfs.*, mkntfs,
# mkswap, cryptsetup, pvcreate) and by Windows (the BitLocker and
# LUKS1 images of testdata/); vu-probe's KIND, LABEL and UUID must be what
# `blkid -p` reports for the same file.
. "$top_srcdir/tests/integration/lib.sh"

probe="$top_builddir/tests/tools/vu-probe"
testdata="$top_srcdir/testdata"
need blkid
[ -x "$probe" ] || skip "$probe not built"

# blkid's view of one tag ("" when absent); -o value prints it unescaped
bval() { blkid -p -o value -s "$2" "$1" 2>/dev/null || true; }

# blkid's TYPE (+ VERSION) in vu-probe's kind names
bkind() {
	t=$(bval "$1" TYPE)
	case $t in
	crypto_LUKS) echo "luks$(bval "$1" VERSION)" ;;
	LVM2_member) echo lvm2 ;;
	linux_raid_member) echo md ;;
	vfat) echo fat ;;
	BitLocker) echo bitlocker ;;
	"") echo unknown ;;
	*) echo "$t" ;;
	esac
}

# run vu-probe; sets kind, label, uuid, detail
vprobe() {
	out=$("$probe" "$1") || { fail "vu-probe $1 failed"; out="KIND=error LABEL= UUID= DETAIL="; }
	kind=${out#KIND=}; kind=${kind%% LABEL=*}
	label=${out#* LABEL=}; label=${label%% UUID=*}
	uuid=${out#* UUID=}; uuid=${uuid%% DETAIL=*}
	detail=${out#* DETAIL=}
}

# check NAME FILE [DETAIL]: vu-probe agrees with blkid on FILE
check() {
	vprobe "$2"
	bk=$(bkind "$2") bl=$(bval "$2" LABEL) bu=$(bval "$2" UUID)
	if [ "$kind" = "$bk" ] && [ "$label" = "$bl" ] && [ "$uuid" = "$bu" ] &&
	   { [ $# -lt 3 ] || [ "$detail" = "$3" ]; }; then
		ok "$1: $kind label='$label' uuid=$uuid${3:+ detail=$3}"
	else
		fail "$1: vu-probe kind=$kind label='$label' uuid=$uuid detail='$detail'; blkid kind=$bk label='$bl' uuid=$bu${3:+ detail=$3}"
	fi
}

cd "$work"

# ---- file systems and swap ----
if command -v mkfs.ext4 >/dev/null 2>&1; then
	for v in 2 3 4; do
		truncate -s 8M ext$v.img
		mkfs.ext$v -q -F -L "ext $v lab" \
			-U "6a1d0f1e-0b9c-4c2a-9d4e-00000000000$v" ext$v.img
		check "ext$v" ext$v.img
	done
	truncate -s 8M ext4-nolabel.img
	mkfs.ext4 -q -F -O ^metadata_csum ext4-nolabel.img
	check "ext4 without label or metadata_csum" ext4-nolabel.img
else
	say "SKIP ext: mkfs.ext4 not installed"
fi

if command -v mkfs.xfs >/dev/null 2>&1; then
	truncate -s 32M xfs.img
	mkfs_xfs_small -L xfs-lab xfs.img
	check xfs xfs.img
	truncate -s 32M xfs4.img
	mkfs_xfs_small -m crc=0 -L v4lab xfs4.img >/dev/null 2>&1 &&
		check "xfs v4" xfs4.img
else
	say "SKIP xfs: mkfs.xfs not installed"
fi

if command -v mkntfs >/dev/null 2>&1; then
	truncate -s 8M ntfs.img
	mkntfs -F -Q -q -L "Données Ω 😀" ntfs.img >/dev/null 2>&1
	check "ntfs (non-ASCII label)" ntfs.img
	truncate -s 8M ntfs4k.img
	mkntfs -F -Q -q -c 4096 -s 4096 -L big4k ntfs4k.img >/dev/null 2>&1
	check "ntfs 4K sectors" ntfs4k.img
	truncate -s 8M ntfs-nolabel.img
	mkntfs -F -Q -q ntfs-nolabel.img >/dev/null 2>&1
	check "ntfs without label" ntfs-nolabel.img
else
	say "SKIP ntfs: mkntfs not installed"
fi

if command -v mkfs.fat >/dev/null 2>&1; then
	truncate -s 8M fat12.img; truncate -s 32M fat16.img; truncate -s 40M fat32.img
	mkfs.fat -F 12 -n FAT12LAB -i 12345678 fat12.img >/dev/null
	mkfs.fat -F 16 -n "FAT 16" -i 9abcdef0 fat16.img >/dev/null
	mkfs.fat -F 32 -n F32LAB -i 0badcafe fat32.img >/dev/null
	check fat12 fat12.img FAT12
	check "fat16 (label with a space)" fat16.img FAT16
	check fat32 fat32.img FAT32
	truncate -s 8M fat-nolabel.img
	mkfs.fat -F 12 -i 0000beef fat-nolabel.img >/dev/null
	check "fat without label" fat-nolabel.img FAT12
else
	say "SKIP fat: mkfs.fat not installed"
fi

if command -v mkswap >/dev/null 2>&1; then
	truncate -s 4M swap.img
	mkswap -q -L swaplab -U 0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0 swap.img
	check swap swap.img
else
	say "SKIP swap: mkswap not installed"
fi

# ---- LUKS ----
if command -v cryptsetup >/dev/null 2>&1; then
	printf 'probe-test-passphrase' > pass
	truncate -s 4M luks1.img
	cryptsetup luksFormat -q --type luks1 --pbkdf pbkdf2 \
		--pbkdf-force-iterations 1000 \
		--uuid 3c6f1b2a-1111-4a2b-8c3d-0123456789ab luks1.img pass
	check luks1 luks1.img
	truncate -s 20M luks2.img
	cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 \
		--pbkdf-force-iterations 1000 --label "luks two" \
		--uuid 3c6f1b2a-2222-4a2b-8c3d-0123456789ab luks2.img pass
	check luks2 luks2.img
	# the primary header overwritten: blkid and the probe find the
	# secondary one
	cp luks2.img luks2-secondary.img
	dd if=/dev/zero of=luks2-secondary.img bs=4096 count=1 conv=notrunc 2>/dev/null
	check "luks2 from its secondary header" luks2-secondary.img
else
	say "SKIP luks: cryptsetup not installed"
fi

# ---- LVM2: pvcreate wants a block device ----
lvm_case() {
	command -v pvcreate >/dev/null 2>&1 || { say "SKIP lvm2: pvcreate not installed"; return 0; }
	command -v losetup >/dev/null 2>&1 || { say "SKIP lvm2: losetup not installed"; return 0; }
	truncate -s 16M lvm.img
	if ! dev=$(losetup -f --show lvm.img 2>/dev/null); then
		say "SKIP lvm2: no loop device here (losetup failed; needs root and /dev/loop*)"
		return 0
	fi
	if LVM_SUPPRESS_FD_WARNINGS=1 pvcreate -q -ff -y "$dev" >/dev/null 2>&1; then
		losetup -d "$dev"
		check lvm2 lvm.img
	else
		losetup -d "$dev"
		say "SKIP lvm2: pvcreate failed on $dev"
	fi
}
lvm_case

# ---- md RAID members of every superblock version (tests/tools/mkmd.py):
# a RAID1 member with its superblock at the end shows an ext4 at its start,
# and is still a member to blkid and to us ----
for meta in 0.90 1.0 1.1 1.2; do
	rm -f md-a md-b; truncate -s 8M md-a md-b
	python3 "$top_srcdir/tests/tools/mkmd.py" create --level 1 --metadata $meta \
		--uuid "0d0d0d0d-1111-2222-3333-4444444444$(printf %s "$meta" | tr -d . | cut -c1-2)" \
		--name "probe$meta" md-a md-b || { fail "mkmd $meta"; continue; }
	[ "$meta" = 1.0 ] && mkfs.ext4 -q -F -L inside md-a 4M
	check "md $meta member" md-a "metadata $meta"
done

# ---- Windows-made BitLocker volumes and the LUKS1 corpus ----
# Members are streamed into sparse files (their data areas are zeros): the
# archive holds 850 MB of mostly nothing.
unpack() {
	tar xJf "$1" --to-command='mkdir -p "$(dirname "$TAR_FILENAME")" &&
		cp --sparse=always /dev/stdin "$TAR_FILENAME"' 2>/dev/null ||
		tar xJf "$1"
}
if [ -f "$testdata/bitlocker-windows.tar.xz" ]; then
	unpack "$testdata/bitlocker-windows.tar.xz"
	n=0 togo=0
	for img in bitlocker-windows/*.img; do
		[ -f "$img" ] || continue
		n=$((n + 1))
		want=
		# BitLocker To Go: a FAT-looking boot sector (OEM MSWIN4.1)
		if [ "$(dd if="$img" bs=1 skip=3 count=8 2>/dev/null)" = MSWIN4.1 ]; then
			want="BitLocker To Go" togo=$((togo + 1))
		fi
		check "$(basename "$img")" "$img" "$want"
	done
	[ "$n" -ge 8 ] || fail "bitlocker-windows: expected 8 images, found $n"
	[ "$togo" -ge 1 ] || fail "bitlocker-windows: no BitLocker To Go image found"
else
	fail "missing $testdata/bitlocker-windows.tar.xz"
fi

if [ -f "$testdata/luks1-images.tar.xz" ]; then
	unpack "$testdata/luks1-images.tar.xz"
	n=0
	for img in luks1-dev/*.img; do
		[ -f "$img" ] || continue
		n=$((n + 1))
		check "$(basename "$img")" "$img"
		[ "$kind" = luks1 ] || fail "$img: kind $kind, expected luks1"
	done
	[ "$n" -ge 3 ] || fail "luks1-images: expected 3 images, found $n"
else
	fail "missing $testdata/luks1-images.tar.xz"
fi

# ---- a file that is nothing at all ----
head -c 65536 /dev/zero > zero.img
check "zeros" zero.img

finish
