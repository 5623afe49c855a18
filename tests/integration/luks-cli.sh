#!/bin/sh
# LUKS and LVM through the command line, on an ADE-like Linux disk made by
# the real tools (cryptsetup reencrypt --encrypt offline, lvm2 on loop
# devices, mkfs, sgdisk, qemu-img), as a fixed VHD with GPT:
#   p1 ext2 boot partition (plain)
#   p2 ext4 encrypted with a detached LUKS2 header (ADE's OS-volume layout)
#   p3 LUKS2 with an inline header holding an LVM PV: datavg (lv1 ext4, lv2)
#   p4 a plain LVM PV: plainvg (x)
# Each decrypted volume and logical volume exports exactly the content that
# was written into it; keys that open nothing exit 3 naming the key slots;
# the LUKS1 images of testdata/ open with their key file.
. "$top_srcdir/tests/integration/lib.sh"
need cryptsetup pvcreate vgcreate lvcreate lvs losetup sgdisk partx qemu-img mkfs.ext4 mkfs.ext2 jq blkid
cd "$work"

. "$top_srcdir/tests/integration/lvm-lib.sh"
printf 'correct horse battery staple' > pass
mkdir -p tree && echo "hello from root" > tree/hello.txt
mkfs.ext2 -q -F -L boot boot.img 8M
mkfs.ext4 -q -F -L root -d tree root.img 24M
cp root.img root.orig
cryptsetup reencrypt --encrypt --type luks2 --header root.hdr --batch-mode \
	--key-file pass --pbkdf pbkdf2 --pbkdf-force-iterations 1000 root.img >mk.log 2>&1 ||
	fail "cryptsetup (detached): $(cat mk.log)"
mkfs.ext4 -q -F -L lv1 -d tree lv1.img 16M
head -c 8388608 /dev/urandom > lv2.img
printf 'x volume\n' > x.img && truncate -s 4M x.img
# LVM metadata must survive: write the VGs, then only detach the loops
dev_pv() { # FILE SIZE VG SPECS...: a PV file (loop detached afterwards)
	file=$1 size=$2 vg=$3
	shift 3
	rm -f "$file"; truncate -s "$size" "$file"
	dev=$(losetup -f --show "$file") || { fail "losetup"; finish; }
	loops="$loops $dev"
	L pvcreate -qy "$dev" && L vgcreate -q "$vg" "$dev" || { fail "vgcreate $vg: $(cat lvm.log)"; finish; }
	for spec; do
		lv=${spec%%:*} rest=${spec#*:}; mb=${rest%%:*} img=${rest#*:}
		L lvcreate -q -an -Zn -L "${mb}M" -n "$lv" "$vg" || fail "lvcreate $lv"
		write_lv "$vg" "$lv" "$img" "$file"
	done
	losetup -d "$dev"
	loops=$(printf '%s' "$loops" | sed "s|$dev||")
}
# VG names carry this run's suffix: lvm scans every loop device, so a VG
# of the same name on the machine, or another test under make -j, must not
# collide with ours.
dvg="datavg$$" pvg="plainvg$$"
dev_pv data.pv 40M "$dvg" lv1:16:lv1.img lv2:8:lv2.img
dev_pv plain.pv 16M "$pvg" x:4:x.img
cp data.pv data.img && truncate -s 72M data.img
cryptsetup reencrypt --encrypt --type luks2 --reduce-device-size 32M --batch-mode \
	--key-file pass --pbkdf pbkdf2 --pbkdf-force-iterations 1000 data.img >mk.log 2>&1 ||
	fail "cryptsetup (inline): $(cat mk.log)"

truncate -s 160M disk.raw
sgdisk -n 1:2048:+8M -t 1:8300 -n 2:0:+24M -t 2:8300 -n 3:0:+72M -t 3:8300 \
	-n 4:0:+16M -t 4:8e00 disk.raw >/dev/null
for spec in 1:boot.img 2:root.img 3:data.img 4:plain.pv; do
	n=${spec%%:*} f=${spec#*:}
	dd if="$f" of=disk.raw bs=512 seek=$(partx -g -o START -n "$n" disk.raw | tr -d ' ') \
		conv=notrunc status=none
done
qemu-img convert -f raw -O vpc -o subformat=fixed,force_size=on disk.raw disk.vhd

KEYS="--luks-header root.hdr --passphrase-file pass"
"$VHDUNLOCK" info --json disk.vhd $KEYS > info.json 2>err || fail "info: $(cat err)"
jq -e --arg d "$dvg" --arg p "$pvg" '(.volumes | map(.id)) == ["p1","p2","p3","p4","\($d)-lv1","\($d)-lv2","\($p)-x"]' info.json >/dev/null &&
	ok "volumes: $(jq -c '.volumes | map(.id)' info.json)" || fail "volumes: $(jq -c '.volumes | map({id, kind})' info.json)"
jq -e '.volumes[1].luks.detached_header == "root.hdr" and .volumes[1].luks.content.kind == "ext4" and .volumes[1].luks.content.label == "root"' info.json >/dev/null &&
	ok "p2: detached LUKS2 header used, ext4 inside" || fail "p2: $(jq -c '.volumes[1]' info.json)"
jq -e '.volumes[2].kind == "luks2" and .volumes[2].luks.content.kind == "lvm2" and .volumes[2].luks.keyslots[0].pbkdf == "pbkdf2"' info.json >/dev/null &&
	ok "p3: LUKS2 holding an LVM PV" || fail "p3: $(jq -c '.volumes[2]' info.json)"
jq -e --arg d "$dvg" --arg p "$pvg" '(.lvm | map(.vg) | sort) == ([$d, $p] | sort) and (.volumes[4].kind == "ext4")' info.json >/dev/null &&
	ok "LVM: datavg and plainvg, lv1 is ext4" || fail "LVM: $(jq -c '.lvm' info.json)"

check() { # NAME VOLUME WANT_FILE [BYTES]
	rm -f out.img
	if "$VHDUNLOCK" export disk.vhd "$2" out.img $KEYS 2>err &&
		cmp -s ${4:+-n "$4"} "$3" out.img; then
		ok "$1"
	else
		fail "$1: $(cat err)"
	fi
}
check "p2 (detached header) exports the original ext4" p2 root.orig
check "p1 (plain ext2) exports as is" p1 boot.img 8388608
check "$dvg-lv1 (LVM in LUKS2) exports its ext4" "$dvg-lv1" lv1.img
check "$dvg-lv2 exports its bytes" "$dvg-lv2" lv2.img
check "$pvg-x (plain PV) exports its bytes" "$pvg-x" x.img
rm -f out.img
"$VHDUNLOCK" export disk.vhd p3 out.img $KEYS && cmp -s -n 41943040 data.pv out.img &&
	ok "p3 decrypts to the PV that was encrypted" || fail "p3 decrypted"
rm -f out.img

# --debug shows each opened volume's map: p3 (inline header) is one crypt
# run from its data offset, and the LV one run over its PV.
"$VHDUNLOCK" info disk.vhd $KEYS --debug >/dev/null 2>dbg ||
	fail "info --debug: $(tail -n 3 dbg)"
grep -E "gpt#3: map \[0, [0-9]+\): .*gpt#3 at [0-9]+ through aes-xts-plain64 from sector 0$" dbg >/dev/null &&
	ok "--debug prints p3's map" || fail "--debug: no map of p3: $(grep -c map dbg) map lines"
grep -E "lvm:$dvg-lv1: map \[0, [0-9]+\): " dbg >/dev/null &&
	ok "--debug prints $dvg-lv1's map" || fail "--debug: no map of $dvg-lv1"

# Keys that open nothing: exit 3, volume and key slots named.
printf 'wrong' > wrong
"$VHDUNLOCK" export disk.vhd p3 out.img --passphrase-file wrong 2>err
[ $? -eq 3 ] && grep -q "p3: no key given unlocks this LUKS2 volume; its key slots are: 0 (pbkdf2)" err &&
	[ ! -e out.img ] && ok "wrong passphrase: $(cat err)" || fail "wrong passphrase: $(cat err)"
"$VHDUNLOCK" info disk.vhd --luks-header root.hdr --passphrase-file wrong >/dev/null 2>err
[ $? -eq 3 ] && grep -q "root.hdr: opens no volume" err && ok "detached header, wrong key: exit 3" ||
	fail "detached header with a wrong key: $(cat err)"
grep -qF 'correct horse' err && fail "the passphrase appeared in a message"

# The LUKS1 images of testdata/, with their key file.
unpack_fixture luks1-images.tar.xz
kf=$(find . -name keyfile1 | head -n 1)
[ -n "$kf" ] || fail "luks1-images.tar.xz holds no keyfile1"
n=0
for img in $(find . -name 'luks1_*.img' | sort); do
	n=$((n + 1))
	rm -f out.img
	"$VHDUNLOCK" export "$img" disk out.img --key-file "$kf" 2>err &&
		[ "$(blkid -p -o value -s UUID out.img)" = DEAD-BABE ] &&
		ok "$(basename "$img"): payload UUID DEAD-BABE" || fail "$(basename "$img"): $(cat err)"
done
[ "$n" -ge 3 ] || fail "luks1-images.tar.xz: expected 3 images, found $n"
finish
