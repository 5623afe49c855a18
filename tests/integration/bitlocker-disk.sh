#!/bin/sh
# Whole Windows-like disks with BitLocker, made by the test-only writer
# (proven against dislocker, libbde and cryptsetup by bitlocker-writer.sh,
# which make check runs first): a fixed VHD with GPT holding an EFI FAT
# partition, a Microsoft reserved partition, the BitLocker NTFS volume and a
# plain recovery NTFS.  export of the BitLocker partition with each key must
# give back the NTFS image it was made from, byte for byte, for every
# method, 4096-byte sectors, a suspended (clear-key) volume and a volume
# whose encryption stopped half way (the plain tail passed through).
. "$top_srcdir/tests/integration/lib.sh"
need mkntfs ntfscp sgdisk partx qemu-img mkfs.fat jq
mkbitlk="$top_builddir/tests/tools/mkbitlk"
cd "$work"

# ntfs_image OUT SIZE_MB [SECTOR]: NTFS with a few files in it
ntfs_image() {
	truncate -s "$2M" "$1"
	mkntfs -q -F -Q -L Windows ${3:+-s "$3"} "$1" >/dev/null 2>&1 || fail "mkntfs $1"
	head -c 3000000 /dev/urandom > big.bin
	printf 'report\n' > small.txt
	ntfscp -q "$1" big.bin big.bin && ntfscp -q "$1" small.txt small.txt ||
		fail "ntfscp into $1"
}

# make_disk BITLOCKER_IMAGE OUT.vhd: the Windows-like GPT disk
make_disk() {
	size=$(stat -c %s "$1")
	rm -f disk.raw
	truncate -s $((size + 48 * 1024 * 1024)) disk.raw
	sgdisk -n 1:2048:+8M -t 1:ef00 -c 1:"EFI system partition" \
		-n 2:0:+16M -t 2:0c01 -c 2:"Microsoft reserved partition" \
		-n 3:0:+$((size / 1024))K -t 3:0700 -c 3:"Basic data partition" \
		-n 4:0:0 -t 4:2700 -c 4:"Recovery" disk.raw >/dev/null
	set -- "$1" "$2" $(partx -g -o START -n 1 disk.raw) $(partx -g -o START -n 3 disk.raw) \
		$(partx -g -o START,SECTORS -n 4 disk.raw)
	truncate -s 8M efi.img && mkfs.fat -F 16 -s 1 -n SYSTEM efi.img >/dev/null
	dd if=efi.img of=disk.raw bs=512 seek="$3" conv=notrunc status=none
	dd if="$1" of=disk.raw bs=512 seek="$4" conv=notrunc status=none
	truncate -s $(($6 * 512)) winre.img && mkntfs -q -F -Q -L Recovery winre.img >/dev/null 2>&1
	dd if=winre.img of=disk.raw bs=512 seek="$5" conv=notrunc status=none
	qemu-img convert -f raw -O vpc -o subformat=fixed,force_size=on disk.raw "$2"
	rm -f disk.raw efi.img winre.img
}

# check NAME ORIGINAL DISK KEYARGS...: export p3 equals the original NTFS
check() {
	name=$1 orig=$2 disk=$3
	shift 3
	rm -f p3.img
	if "$VHDUNLOCK" export "$disk" p3 p3.img "$@" 2>err && cmp -s "$orig" p3.img; then
		ok "$name"
	else
		fail "$name: $(cat err)"
	fi
	rm -f p3.img
}

ntfs_image plain.ntfs 48
for method in xts-128 xts-256 cbc-128; do
	rm -rf keys-$method && mkdir keys-$method
	"$mkbitlk" --method $method --bek-dir keys-$method --recovery-password-file rp-$method.txt \
		--description "TESTVM C: 23/11/2026" plain.ntfs bl-$method.img >/dev/null ||
		{ fail "mkbitlk $method"; continue; }
	make_disk bl-$method.img disk-$method.vhd
	check "$method: .BEK directory" plain.ntfs disk-$method.vhd --bek keys-$method
	check "$method: recovery password" plain.ntfs disk-$method.vhd --recovery-password-file rp-$method.txt
	"$VHDUNLOCK" info --json disk-$method.vhd --bek keys-$method > info.json
	jq -e --arg m "aes-$method" '
		(.volumes | map(.id) == ["p1","p2","p3","p4"]) and
		(.volumes | map(.kind) == ["fat","unknown","bitlocker","ntfs"]) and
		.volumes[2].bitlocker.method == $m and
		.volumes[2].bitlocker.description == "TESTVM C: 23/11/2026" and
		.volumes[2].bitlocker.content.kind == "ntfs" and
		.volumes[2].bitlocker.content.label == "Windows" and
		.volumes[1].gpt_type_name == "Microsoft reserved"' info.json >/dev/null &&
		ok "$method: info shows the disk and the NTFS inside" ||
		fail "$method: info: $(jq -c '.volumes | map({id, kind, gpt_type_name, bitlocker})' info.json)"
done

# 4096-byte sectors
ntfs_image plain4k.ntfs 48 4096
mkdir keys-4k
"$mkbitlk" --method xts-128 --bek-dir keys-4k --recovery-password-file rp-4k.txt \
	plain4k.ntfs bl-4k.img >/dev/null || fail "mkbitlk 4k"
make_disk bl-4k.img disk-4k.vhd
check "xts-128, 4096-byte sectors" plain4k.ntfs disk-4k.vhd --bek keys-4k
[ "$("$VHDUNLOCK" info --json disk-4k.vhd | jq '.volumes[2].bitlocker.sector_size')" = 4096 ] ||
	fail "4096-byte sector size not reported"

# Protection suspended: a clear key, no key needed.
mkdir keys-clear
"$mkbitlk" --method xts-128 --clear-key --bek-dir keys-clear --recovery-password-file rp-clear.txt \
	plain.ntfs bl-clear.img >/dev/null || fail "mkbitlk clear key"
make_disk bl-clear.img disk-clear.vhd
check "clear key: opens with no key" plain.ntfs disk-clear.vhd

# Encryption stopped half way: the tail is still plain and passes through.
mkdir keys-partial
"$mkbitlk" --method cbc-128 --partial $((24 * 1024 * 1024)) --bek-dir keys-partial \
	--recovery-password-file rp-partial.txt plain.ntfs bl-partial.img >/dev/null ||
	fail "mkbitlk partial"
make_disk bl-partial.img disk-partial.vhd
check "partly encrypted (24 of 48 MiB): .BEK" plain.ntfs disk-partial.vhd --bek keys-partial
"$VHDUNLOCK" info --json disk-partial.vhd > info.json
jq -e '.volumes[2].bitlocker.partly_encrypted and .volumes[2].bitlocker.encrypted_size == 25165824' info.json >/dev/null &&
	ok "partly encrypted: info reports 24 MiB encrypted" ||
	fail "partly encrypted info: $(jq -c '.volumes[2].bitlocker' info.json)"
finish
