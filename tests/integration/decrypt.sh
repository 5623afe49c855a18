#!/bin/sh
# decrypt: a whole copy of a Windows-like GPT disk (p1 FAT, p2 a BitLocker
# NTFS made by tests/tools/mkbitlk from an NTFS image with files put in by
# ntfscp, p3 an ext4 encrypted in place by cryptsetup reencrypt, inline
# LUKS2 header) with both volumes decrypted in place, as a fixed VHD, a
# dynamic VHDX and a raw image, from a raw, a fixed VHD and a dynamic VHD
# input (qemu-img).  Checked by tools other than the code under test:
# qemu-img info/check/convert, cmp against the disk built here by dd (the
# plain NTFS in p2's place; p3's header area zeros, the plain ext4 after
# it, p3's GPT entry moved to it by tests/tools/gpt-edit), sgdisk -v,
# ntfsfix -n, e2fsck -fn, and the VHD footer read by python3 here (cookie,
# type, sizes, geometry, checksum); then our own info and audit without
# keys.  Also: no key (a warning, the disk copied as it is; --require-all:
# exit 3), LUKS on a whole disk (not handled: exit 1 with --require-all),
# OUT existing (--force), OUT == IMAGE, a read fault half-way (no OUT, no
# temporary file), a GPT disk whose size is no whole MiB (its backup GPT
# moved to the padded end), an MBR disk with the LUKS volume in p1.
. "$top_srcdir/tests/integration/lib.sh"
need mkntfs ntfscp ntfsfix sgdisk sfdisk partx qemu-img mkfs.fat mkfs.ext4 e2fsck blkid cryptsetup jq \
	python3 cmp
mk=$top_builddir/tests/tools/mkbitlk
fv=$top_builddir/tests/tools/vhdunlock-faults
ge=$top_builddir/tests/tools/gpt-edit
for t in "$mk" "$fv" "$ge"; do
	[ -x "$t" ] || { fail "$t not built"; finish; }
done
cd "$work" || exit 1
V() { "$VHDUNLOCK" "$@"; }
MiB=1048576

# ---- the disk ----
truncate -s 32M plain.ntfs
mkntfs -q -F -Q -L Windows plain.ntfs >/dev/null 2>&1 || fail "mkntfs"
head -c 3000000 /dev/urandom > big.bin
printf 'report\n' > small.txt
ntfscp -q plain.ntfs big.bin big.bin && ntfscp -q plain.ntfs small.txt small.txt ||
	fail "ntfscp"
mkdir keys
"$mk" --method xts-128 --bek-dir keys --recovery-password-file rp.txt \
	plain.ntfs bl.img >/dev/null || { fail "mkbitlk"; finish; }
cmp -s plain.ntfs bl.img && fail "mkbitlk left the NTFS plain"
# p3: an 8 MiB ext4 encrypted in place, its LUKS2 header before it (at
# half the 16 MiB the device is reduced by, cryptsetup luksDump says where);
# the image then ends with the file system, so the payload is exactly it
head -c 64 /dev/urandom > luks.key
mkdir t3 && head -c 200000 /dev/urandom > t3/data.bin && echo notes > t3/notes.txt
mkfs.ext4 -q -F -L linuxdata -d t3 luks.fs 8M || fail "mkfs.ext4"
cp luks.fs luks.img && truncate -s 24M luks.img
cryptsetup reencrypt --encrypt --type luks2 --reduce-device-size 16M --batch-mode \
	--key-file luks.key --pbkdf pbkdf2 --pbkdf-force-iterations 1000 luks.img >mk.log 2>&1 ||
	fail "cryptsetup reencrypt: $(cat mk.log)"
poff=$(cryptsetup luksDump --dump-json-metadata luks.img | jq -r '.segments."0".offset')
[ "$poff" -gt 0 ] 2>/dev/null || { fail "luksDump: payload offset '$poff'"; finish; }
psec=$((poff / 512))
truncate -s $((poff + 8 * MiB)) luks.img
truncate -s 72M disk.raw
sgdisk -n 1:2048:+8M -t 1:ef00 -n 2:0:+32M -t 2:0700 -c 2:"Basic data partition" \
	-n 3:0:+$(((poff + 8 * MiB) / 512)) -t 3:8300 disk.raw >/dev/null || fail "sgdisk"
# range N [DISK]: START SECTORS of partition N of DISK (disk.raw)
range() { partx -g -o START,SECTORS -n "$1" "${2:-disk.raw}"; }
set -- $(range 1)
truncate -s 8M efi.img && mkfs.fat -F 16 -s 1 -n SYSTEM efi.img >/dev/null || fail "mkfs.fat"
dd if=efi.img of=disk.raw bs=512 seek="$1" conv=notrunc status=none
set -- $(range 3)
p3start=$1 p3sectors=$2
dd if=luks.img of=disk.raw bs=512 seek="$1" conv=notrunc status=none
set -- $(range 2)
p2start=$1 p2sectors=$2
[ $((p2sectors * 512)) -eq $(stat -c %s bl.img) ] || fail "p2 is not bl.img's size"
# want.raw: the disk as decrypt should write it: p2 the plain NTFS; p3's
# first 16 MiB zeros, the plain ext4 after them, its entry moved there
cp disk.raw want.raw
dd if=plain.ntfs of=want.raw bs=512 seek="$p2start" conv=notrunc status=none
dd if=/dev/zero of=want.raw bs=512 seek="$p3start" count="$psec" conv=notrunc status=none
dd if=luks.fs of=want.raw bs=512 seek=$((p3start + psec)) conv=notrunc status=none
"$ge" want.raw 3 $((p3start + psec)) $((p3start + p3sectors - 1)) || fail "gpt-edit"
dd if=bl.img of=disk.raw bs=512 seek="$p2start" conv=notrunc status=none
size=$(stat -c %s disk.raw)
qemu-img convert -f raw -O vpc -o subformat=fixed,force_size=on disk.raw disk-fixed.vhd
qemu-img convert -f raw -O vpc -o subformat=dynamic,force_size=on disk.raw disk-dynamic.vhd
cp disk.raw disk-raw.img

# footer_check FILE SIZE: the fixed-VHD footer as the VHD specification
# and Azure's upload rules ask, read here and not by the code under test
footer_check() {
	python3 - "$1" "$2" <<'PY'
import struct, sys
path, size = sys.argv[1], int(sys.argv[2])
data = open(path, 'rb').read()
f = data[-512:]
errs = []
def need(cond, what):
    if not cond: errs.append(what)
need(len(data) == size + 512, "file is %d bytes, expected %d" % (len(data), size + 512))
need(f[0:8] == b'conectix', "cookie %r" % f[0:8])
feat, ver, doff, ts = struct.unpack('>IIQI', f[8:28])
need(feat == 2, "features %#x" % feat)
need(ver == 0x10000, "version %#x" % ver)
need(doff == 0xFFFFFFFFFFFFFFFF, "data offset %#x" % doff)
orig, cur = struct.unpack('>QQ', f[40:56])
need(orig == size and cur == size, "sizes %d %d, expected %d" % (orig, cur, size))
need(cur % 1048576 == 0, "size %d is no multiple of 1 MiB" % cur)
cyl, heads, spt = struct.unpack('>HBB', f[56:60])
need(cyl * heads * spt > 0 and cyl * heads * spt * 512 <= size,
     "geometry %d/%d/%d" % (cyl, heads, spt))
need(struct.unpack('>I', f[60:64])[0] == 2, "disk type not 2 (fixed)")
ck = struct.unpack('>I', f[64:68])[0]
z = f[:64] + b'\0\0\0\0' + f[68:]
need(ck == (~sum(z)) & 0xFFFFFFFF, "checksum %#x, expected %#x" % (ck, (~sum(z)) & 0xFFFFFFFF))
need(f[68:84] != b'\0' * 16, "unique id is zero")
need(f[84] == 0, "saved state %d" % f[84])
import time
need(abs(struct.unpack('>I', f[24:28])[0] + 946684800 - time.time()) < 600, "timestamp")
if errs:
    print("; ".join(errs)); sys.exit(1)
PY
}

# check_out NAME OUT FORMAT: OUT is want.raw (with a footer for vhd)
check_out() {
	name=$1 out=$2 fmt=$3
	# qemu-img finds a fixed VHD by its footer only when told the format
	# (it probes the first sector, where only a dynamic VHD has a copy)
	qf=$fmt; [ "$fmt" = vhd ] && qf=vpc
	qemu-img info -f "$qf" --output=json "$out" > qi.json 2>&1 || { fail "$name: qemu-img info: $(cat qi.json)"; return; }
	got="$(jq -r '.format' qi.json) $(jq -r '."virtual-size"' qi.json)"
	want="$fmt $size"; [ "$fmt" = vhd ] && want="vpc $size"
	[ "$got" = "$want" ] && ok "$name: qemu-img info: $got" || fail "$name: qemu-img info: $got, expected $want"
	rm -f back.raw
	if [ "$fmt" = vhd ]; then
		qemu-img check -f vpc "$out" >qc.out 2>&1
		rc=$?
		# 0: clean; 63: qemu has no checks for vpc (then info and the
		# conversion below are its verdict)
		[ $rc -eq 0 ] || [ $rc -eq 63 ] && ok "$name: qemu-img check ($rc)" ||
			fail "$name: qemu-img check: exit $rc: $(cat qc.out)"
		footer_check "$out" "$size" >fc.out && ok "$name: footer as the VHD spec and Azure ask" ||
			fail "$name: footer: $(cat fc.out)"
		qemu-img convert -f vpc -O raw "$out" back.raw || fail "$name: qemu-img convert"
	elif [ "$fmt" = vhdx ]; then
		qemu-img check -f vhdx "$out" >qc.out 2>&1 && grep -q "No errors were found" qc.out &&
			ok "$name: qemu-img check" || fail "$name: qemu-img check: $(cat qc.out)"
		qemu-img convert -f vhdx -O raw "$out" back.raw || fail "$name: qemu-img convert"
	else
		cp "$out" back.raw
	fi
	cmp -s back.raw want.raw && ok "$name: every byte as the input with p2 and p3 plain" ||
		fail "$name: content differs: $(cmp back.raw want.raw | head -n 1)"
	dd if=back.raw of=p2.img bs=512 skip="$p2start" count="$p2sectors" status=none
	cmp -s p2.img plain.ntfs && ok "$name: p2 equals the plain NTFS" || fail "$name: p2 differs"
	ntfsfix -n p2.img >nf.out 2>&1 && ok "$name: ntfsfix -n on p2" || fail "$name: ntfsfix: $(cat nf.out)"
	set -- $(range 3 back.raw)
	[ "$1 $2" = "$((p3start + psec)) $((p3sectors - psec))" ] &&
		ok "$name: p3 starts at the payload (partx)" || fail "$name: p3 at $1 ($2 sectors)"
	dd if=back.raw of=p3.img bs=512 skip="$1" count="$2" status=none
	cmp -s p3.img luks.fs && ok "$name: p3 equals the plain ext4" ||
		fail "$name: p3 differs from the ext4"
	e2fsck -fn p3.img >ef.out 2>&1 && ok "$name: e2fsck -fn on p3" || fail "$name: e2fsck: $(cat ef.out)"
	[ "$(blkid -p -o value -s TYPE p2.img) $(blkid -p -o value -s TYPE p3.img)" = "ntfs ext4" ] &&
		ok "$name: blkid: p2 ntfs, p3 ext4" || fail "$name: blkid: $(blkid -p p2.img p3.img)"
	sgdisk -v back.raw > sg.out 2>&1 && grep -q "No problems found" sg.out &&
		ok "$name: sgdisk -v clean" || fail "$name: sgdisk -v: $(cat sg.out)"
	V info --json "$out" > info.json 2>err &&
		jq -e '(.volumes | map(.kind)) == ["fat","ntfs","ext4"]' info.json >/dev/null &&
		ok "$name: info without keys: p2 ntfs, p3 ext4" || fail "$name: info: $(jq -c '.volumes | map(.kind)' info.json) $(cat err)"
	V audit "$out" > audit.out 2>err
	rc=$?
	[ $rc -eq 1 ] && grep -q "p2" audit.out && grep -q "p3" audit.out &&
		ok "$name: audit reports p2 and p3 exposed (exit 1)" ||
		fail "$name: audit exit $rc: $(cat audit.out err)"
	rm -f back.raw p2.img p3.img
}

for in in disk-raw.img disk-fixed.vhd disk-dynamic.vhd; do
	for fmt in vhd vhdx raw; do
		out=out-$fmt
		rm -f "$out"
		if ! V decrypt "$in" "$out" --format "$fmt" --bek keys --key-file luks.key >stdout 2>err; then
			fail "$in -> $fmt: exit $?: $(cat err)"
			continue
		fi
		grep -Eq '^p2 +bitlocker -> ntfs +decrypted in place$' stdout &&
			grep -Eq '^p1 +fat +copied$' stdout &&
			grep -Eq '^p3 +luks2 -> ext4 +decrypted in place; partition entry moved to the payload \(\+'$((poff / MiB))'\.0 MiB\)$' stdout &&
			grep -q "^$out: $(case $fmt in vhd) echo fixed VHD ;; vhdx) echo dynamic VHDX ;; *) echo raw ;; esac), .* ($size bytes); partition table rewritten; reopened without keys, each volume decrypted reads as above$" stdout &&
			ok "$in -> $fmt: summary" || fail "$in -> $fmt: summary: $(cat stdout)"
		[ ! -s err ] && ok "$in -> $fmt: no warning" || fail "$in -> $fmt: stderr: $(cat err)"
		check_out "$in -> $fmt" "$out" "$fmt"
	done
done
# the raw output is sparse: the zeros of the disk are holes
for f in out-raw out-vhdx; do
	[ $(($(stat -c %b $f) * $(stat -c %B $f))) -lt $((size - 8 * MiB)) ] &&
		ok "$f sparse" || fail "$f: $(stat -c %b $f) blocks, not sparse"
done

# a BitLocker volume whose encryption was paused half-way comes out whole
# and plain
"$mk" --method xts-128 --bek-dir keys --recovery-password-file rp.txt --partial $((16 * MiB)) \
	plain.ntfs blp.img >/dev/null || fail "mkbitlk --partial"
cp disk.raw partial.raw
dd if=blp.img of=partial.raw bs=512 seek="$p2start" conv=notrunc status=none
rm -f out-partial
V decrypt partial.raw out-partial --format raw --bek keys --key-file luks.key >stdout 2>err &&
	cmp -s out-partial want.raw && ok "half-encrypted BitLocker: whole and plain" ||
	fail "half-encrypted BitLocker: $(cat err), $(cmp out-partial want.raw)"
rm -f blp.img partial.raw out-partial

# ---- no key ----
rm -f out-nokey
V decrypt disk-fixed.vhd out-nokey --format raw >stdout 2>err
rc=$?
[ $rc -eq 0 ] && grep -q "warning: p2: bitlocker: no key unlocked it; copied encrypted" err &&
	cmp -s out-nokey disk.raw && grep -Eq '^p2 +bitlocker +copied encrypted \(no key\)$' stdout &&
	ok "no key: warning, the disk copied as it is" ||
	fail "no key: exit $rc, $(cat err stdout), $(cmp out-nokey disk.raw)"
rm -f out-nokey
V decrypt disk-fixed.vhd out-nokey --require-all >stdout 2>err
rc=$?
[ $rc -eq 3 ] && [ ! -e out-nokey ] && grep -q "p2" err && [ -z "$(ls out-nokey.vhdunlock-* 2>/dev/null)" ] &&
	ok "no key, --require-all: exit 3, no OUT: $(cat err)" || fail "--require-all: exit $rc, $(cat err)"

# the LUKS key alone: p2 stays BitLocker, p3 is decrypted
rm -f out-luks
V decrypt disk-fixed.vhd out-luks --key-file luks.key --format raw >stdout 2>err
rc=$?
cp disk.raw want-luks.raw
dd if=want.raw of=want-luks.raw bs=512 count="$p2start" conv=notrunc status=none
dd if=want.raw of=want-luks.raw bs=512 skip="$p3start" seek="$p3start" conv=notrunc status=none
[ $rc -eq 0 ] && cmp -s out-luks want-luks.raw && grep -q "warning: p2: bitlocker: no key unlocked it" err &&
	grep -Eq '^p2 +bitlocker +copied encrypted \(no key\)$' stdout &&
	ok "LUKS key only: p3 decrypted, p2 as it was" || fail "LUKS key only: exit $rc, $(cat err), $(cmp out-luks want-luks.raw)"
rm -f out-luks want-luks.raw

# a wrong LUKS key: p3 and the table stay as stored, p2 is decrypted
head -c 64 /dev/urandom > wrong.key
rm -f out-wrong
V decrypt disk-fixed.vhd out-wrong --bek keys --key-file wrong.key --format raw >stdout 2>err
rc=$?
cp disk.raw want-wrong.raw
dd if=plain.ntfs of=want-wrong.raw bs=512 seek="$p2start" conv=notrunc status=none
[ $rc -eq 0 ] && cmp -s out-wrong want-wrong.raw && grep -q "warning: p3: luks2: no key unlocked it; copied encrypted" err &&
	grep -Eq '^p3 +luks2 +copied encrypted \(no key\)$' stdout &&
	ok "wrong LUKS key: p3 and the table as stored, p2 decrypted" ||
	fail "wrong LUKS key: exit $rc, $(cat err), $(cmp out-wrong want-wrong.raw)"
rm -f out-wrong want-wrong.raw

# LUKS on a whole disk: no partition to start at its payload
V decrypt luks.img out-luks --key-file luks.key --format raw >stdout 2>err
rc=$?
[ $rc -eq 0 ] && cmp -s out-luks luks.img &&
	grep -q "warning: disk: luks2: not decrypted: LUKS on the whole disk, with no partition to start at its payload; copied encrypted" err &&
	ok "whole-disk LUKS: copied with a warning" || fail "whole-disk LUKS: exit $rc, $(cat err)"
rm -f out-luks
V decrypt luks.img out-luks --key-file luks.key --require-all >stdout 2>err
rc=$?
[ $rc -eq 1 ] && [ ! -e out-luks ] && grep -q "disk: luks2: not decrypted: LUKS on the whole disk.*(--require-all)" err &&
	ok "whole-disk LUKS, --require-all: exit 1, no OUT" || fail "whole-disk LUKS --require-all: exit $rc, $(cat err)"

# ---- OUT exists, OUT is IMAGE ----
echo keep > exists
V decrypt disk-fixed.vhd exists --bek keys >stdout 2>err
rc=$?
[ $rc -eq 1 ] && grep -q "exists: already exists; use --force to overwrite it" err &&
	[ "$(cat exists)" = keep ] && ok "OUT exists: refused" || fail "OUT exists: exit $rc, $(cat err)"
V decrypt disk-fixed.vhd exists --bek keys --key-file luks.key --force --format raw >stdout 2>err &&
	cmp -s exists want.raw && ok "OUT exists, --force: replaced" || fail "--force: $(cat err)"
cp disk-raw.img same.img
V decrypt same.img same.img --bek keys --force --format raw >stdout 2>err
rc=$?
[ $rc -ne 0 ] && grep -q "is the image" err && cmp -s same.img disk.raw &&
	ok "OUT == IMAGE refused: $(cat err)" || fail "OUT == IMAGE: exit $rc, $(cat err)"
ln -s same.img link.img
V decrypt link.img same.img --bek keys --force >stdout 2>err
rc=$?
[ $rc -ne 0 ] && grep -q "is the image" err && cmp -s same.img disk.raw &&
	ok "OUT == IMAGE through a link refused" || fail "OUT == IMAGE by link: exit $rc, $(cat err)"
rm -f exists same.img link.img

# ---- a read fault half-way ----
rm -f count
VHDUNLOCK_TEST_READ_COUNT="$work/count" "$fv" decrypt disk-fixed.vhd out-count --bek keys --threads 2 >/dev/null 2>err ||
	fail "counting run: $(cat err)"
reads=$(cut -d' ' -f2 count)
rm -f out-count
for mode in $((reads / 2)) "$((reads * 3 / 4))+"; do
	VHDUNLOCK_TEST_FAIL_READ=$mode timeout 60 "$fv" decrypt disk-fixed.vhd out-fault --bek keys --threads 2 >stdout 2>err
	rc=$?
	[ $rc -eq 1 ] && grep -q "injected read fault" err && [ ! -e out-fault ] &&
		[ -z "$(ls | grep vhdunlock-)" ] && [ ! -s stdout ] &&
		ok "read $mode of $reads fails: exit 1, no OUT, no temporary" ||
		fail "read $mode of $reads: exit $rc, $(ls), $(cat err)"
done

# SIGTERM while writing: a 16 GiB disk of holes read by one thread takes
# seconds; once its temporary file is there the process is stopped, sent
# SIGTERM and let go on
truncate -s 16G big.raw
"$VHDUNLOCK" decrypt big.raw out-big --format raw --threads 1 >/dev/null 2>err &
pid=$!
seen=
for _ in $(seq 200); do
	ls | grep -q '^out-big\.vhdunlock-' && { seen=1; break; }
	sleep 0.05
done
[ -n "$seen" ] && kill -STOP "$pid" && kill -TERM "$pid" && kill -CONT "$pid"
wait "$pid"
rc=$?
[ -n "$seen" ] && [ $rc -eq 143 ] && [ ! -e out-big ] && [ -z "$(ls | grep vhdunlock-)" ] &&
	ok "SIGTERM half-way: no OUT, no temporary" ||
	fail "SIGTERM: seen '$seen', exit $rc, $(ls | grep out-big), $(cat err)"
rm -f big.raw out-big out-big.vhdunlock-*

# ---- formats and sizes ----
V decrypt disk-fixed.vhd out-x --format qcow2 >stdout 2>err
[ $? -eq 2 ] && grep -q "expected vhd, vhdx or raw, got 'qcow2'" err && [ ! -e out-x ] &&
	ok "--format qcow2: exit 2" || fail "--format qcow2: $(cat err)"
# a GPT disk of 72 MiB + 512 bytes: as a VHD, padded to 73 MiB with the
# backup GPT and the protective MBR at the new end
cp disk.raw odd.raw && truncate -s $((size + 512)) odd.raw && sgdisk -e odd.raw >/dev/null 2>&1
V decrypt odd.raw out-odd --bek keys --key-file luks.key >stdout 2>err || fail "odd GPT: $(cat err)"
footer_check out-odd $((size + MiB)) >fc.out && ok "GPT disk of no whole MiB: padded, footer" ||
	fail "odd GPT: $(cat fc.out)"
qemu-img convert -f vpc -O raw out-odd odd-back.raw &&
	sgdisk -v odd-back.raw >sg.out 2>&1 && grep -q "No problems found" sg.out &&
	[ "$(sgdisk -p odd-back.raw | sed -n 's/^Disk odd-back.raw: \([0-9]*\) sectors.*/\1/p')" = $(((size + MiB) / 512)) ] &&
	ok "padded GPT: sgdisk -v clean, backup at the new end" || fail "padded GPT: $(cat sg.out)"
cmp -s -n $((p3start * 512)) -i 1048576:1048576 odd-back.raw want.raw &&
	cmp -s -n $((p3sectors * 512)) -i $((p3start * 512)):$((p3start * 512)) odd-back.raw want.raw &&
	ok "padded GPT: partitions as in the copy without padding" || fail "padded GPT: content differs"
V decrypt odd.raw out-odd-raw --bek keys --format raw >stdout 2>err &&
	[ "$(stat -c %s out-odd-raw)" = $((size + 512)) ] &&
	ok "GPT disk of no whole MiB as raw: same size" || fail "odd GPT raw: $(cat err)"
rm -f out-odd out-odd-raw odd.raw odd-back.raw
# an MBR disk of 24 MiB + 512 bytes: padded with zeros to 25 MiB
truncate -s $((24 * MiB + 512)) mbr.raw
printf 'start=2048, size=40960, type=c\n' | sfdisk -q mbr.raw >/dev/null || fail "sfdisk"
head -c 1M /dev/urandom | dd of=mbr.raw bs=512 seek=2048 conv=notrunc status=none
V decrypt mbr.raw out-mbr.vhd >stdout 2>err || fail "mbr: $(cat err)"
footer_check out-mbr.vhd $((25 * MiB)) >fc.out && ok "MBR disk padded to 25 MiB: footer" ||
	fail "MBR padded: $(cat fc.out)"
cp mbr.raw mbr-want.raw && truncate -s 25M mbr-want.raw
qemu-img convert -f vpc -O raw out-mbr.vhd mbr-back.raw && cmp -s mbr-back.raw mbr-want.raw &&
	ok "MBR disk padded: content then zeros (qemu-img)" || fail "MBR padded: content differs"
rm -f mbr.raw mbr-want.raw mbr-back.raw out-mbr.vhd

# an MBR disk with the LUKS volume in p1 (after an NTFS-typed p2 left as
# it is): p1 moves to the payload in sector 0, CHS start included
truncate -s 40M mbr.raw
printf 'start=2048, size=%d, type=83\nsize=8192, type=7\n' $((poff / 512 + 16384)) | sfdisk -q mbr.raw >/dev/null ||
	fail "sfdisk"
dd if=luks.img of=mbr.raw bs=512 seek=2048 conv=notrunc status=none
V decrypt mbr.raw out-mbr.raw --key-file luks.key --format raw >stdout 2>err || fail "mbr luks: $(cat err)"
set -- $(sfdisk --dump out-mbr.raw | tr -d ' ' | sed -n 's/^out-mbr.raw1:start=\([0-9]*\),size=\([0-9]*\).*/\1 \2/p')
[ "$1 $2" = "$((2048 + psec)) 16384" ] && ok "MBR: p1 moved to the payload (sfdisk)" ||
	fail "MBR: p1 at '$1' ($2 sectors): $(sfdisk --dump out-mbr.raw)"
dd if=out-mbr.raw of=p1.img bs=512 skip=$((2048 + psec)) count=16384 status=none
cmp -s p1.img luks.fs && e2fsck -fn p1.img >ef.out 2>&1 && ok "MBR: p1 is the plain ext4, e2fsck clean" ||
	fail "MBR: p1: $(cat ef.out)"
cmp -s -n 512 -i 0:0 out-mbr.raw mbr.raw && fail "MBR: sector 0 not rewritten"
cmp -s -i $((2048 * 512 + poff + 8 * MiB)):$((2048 * 512 + poff + 8 * MiB)) out-mbr.raw mbr.raw &&
	ok "MBR: the rest as it was" || fail "MBR: bytes after p1 differ"
V info --json out-mbr.raw >info.json 2>err && jq -e '(.volumes | map(.kind))[0] == "ext4"' info.json >/dev/null &&
	ok "MBR: info without keys: p1 ext4" || fail "MBR info: $(cat info.json err)"
rm -f mbr.raw out-mbr.raw p1.img

finish
