#!/bin/sh
# vhdunlock audit, without keys, over disks built by the real tools (fixed
# VHDs: sfdisk, qemu-img; NTFS by mkntfs + ntfs-3g; BitLocker by the test
# writer, which bitlocker-writer.sh proves against dislocker, libbde and
# cryptsetup; LUKS2 by cryptsetup reencrypt):
#   win.vhd          EFI FAT, MSR, BitLocker NTFS, Windows recovery NTFS:
#                    sealed (exit 0), the plain partitions expected
#   win-data.vhd     the same and a plain ext4 data partition: exposed, with
#                    its file count
#   win-partial.vhd  BitLocker encrypted for its first 16 MiB only: exposed
#                    from that byte on
#   win-clear.vhd    BitLocker with a clear key (protection suspended)
#   win-planted.vhd  4 MiB of real NTFS MFT records written into the
#                    encrypted area of the sealed volume: found by the
#                    default sample, within the sectors where they lie
#   win-record.vhd   one 1 KiB record planted: --full finds exactly it
#   linux.vhd        ADE-like Ubuntu disk (detached LUKS2 root, header on
#                    the plain /boot) and an inline-LUKS2 data disk: sealed
#   partial.vhd      LUKS2 encryption interrupted half way: exposed, the
#                    plaintext segment as cryptsetup reports it
# JSON fields, exit statuses, bad input, progress on a terminal, images
# unchanged.
. "$top_srcdir/tests/integration/lib.sh"
need mkntfs ntfs-3g ntfscat mkfs.vfat mkfs.ext4 mkfs.ext2 sfdisk partx qemu-img \
	cryptsetup strace jq script sha256sum
[ -c /dev/fuse ] || skip "no /dev/fuse (ntfs-3g populates the NTFS image)"
mk="$top_builddir/tests/tools/mkbitlk"
[ -x "$mk" ] || { fail "$mk missing"; finish; }
cd "$work" || exit 1
PB="--pbkdf pbkdf2 --pbkdf-force-iterations 1000"
MiB=1048576

# ---- NTFS with files, through ntfs-3g; its MFT as the plaintext to plant
mkdir -p src/Users/alice/Documents nmnt
for i in $(seq 1 300); do
	printf 'quarterly report %s of the finance team\n' "$i" > "src/Users/alice/Documents/r$i.txt"
done
truncate -s 40M plain.ntfs
mkntfs -F -Q -q -L Windows plain.ntfs >/dev/null 2>&1 || fail "mkntfs"
ntfs-3g plain.ntfs nmnt && cp -r src/. nmnt/ && umount nmnt || fail "ntfs-3g populate"
ntfscat plain.ntfs '$MFT' > mft.bin 2>/dev/null
[ "$(wc -c < mft.bin)" -ge 262144 ] || fail "MFT of $(wc -c < mft.bin) bytes"
# 4 MiB of MFT records (the MFT repeated)
: > plant.bin
while [ "$(wc -c < plant.bin)" -lt $((4 * MiB)) ]; do cat mft.bin >> plant.bin; done
truncate -s 4M plant.bin
mkdir keys
"$mk" --method xts-128 --bek-dir keys --recovery-password-file rp.txt plain.ntfs bl.img >/dev/null ||
	fail "mkbitlk"
"$mk" --method xts-128 --bek-dir keys --recovery-password-file rp.txt --partial $((16 * MiB)) \
	plain.ntfs blp.img >/dev/null || fail "mkbitlk --partial"
"$mk" --method xts-128 --bek-dir keys --recovery-password-file rp.txt --clear-key \
	plain.ntfs blc.img >/dev/null || fail "mkbitlk --clear-key"
# planted: 4 MiB of records at 16 MiB into the volume; one record at 30 MiB
cp bl.img blx.img
dd if=plant.bin of=blx.img bs=1M seek=16 conv=notrunc status=none
cp bl.img bl1.img
dd if=mft.bin of=bl1.img bs=1024 count=1 skip=5 seek=$((30 * 1024 + 3)) conv=notrunc status=none
head -c 1024 mft.bin | tail -c +1 | head -c 4 | grep -q FILE || fail "mft.bin does not start with FILE"

truncate -s 8M efi.fs && mkfs.vfat -n SYSTEM efi.fs >/dev/null || fail "mkfs.vfat"
truncate -s 8M recovery.ntfs && mkntfs -F -Q -q -L Recovery recovery.ntfs >/dev/null 2>&1 ||
	fail "mkntfs recovery"
mkdir -p dsrc/projects && for i in 1 2 3 4 5 6 7; do echo "data $i" > "dsrc/projects/d$i.txt"; done
mkfs.ext4 -q -F -L data -d dsrc data.fs 16M || fail "mkfs.ext4 data"
W="1:EF00:8:efi.fs 2:0C01:4"
gpt_vhd win.vhd $W 3:0700:40:bl.img 4:2700:8:recovery.ntfs
gpt_vhd win-data.vhd $W 3:0700:40:bl.img 4:2700:8:recovery.ntfs 5:0700:16:data.fs
gpt_vhd win-partial.vhd $W 3:0700:40:blp.img 4:2700:8:recovery.ntfs
gpt_vhd win-clear.vhd $W 3:0700:40:blc.img 4:2700:8:recovery.ntfs
gpt_vhd win-planted.vhd $W 3:0700:40:blx.img 4:2700:8:recovery.ntfs
gpt_vhd win-record.vhd $W 3:0700:40:bl1.img 4:2700:8:recovery.ntfs

# ---- Linux: detached LUKS2 root with its header on /boot; inline data disk
head -c 127 /dev/urandom | base64 -w0 > ade.key
mkdir -p root/etc tb/luks && echo linux-vm > root/etc/hostname
mkfs.ext4 -q -F -d root root.fs 24M && cp root.fs root.enc
cryptsetup reencrypt --encrypt --type luks2 --header os.hdr --batch-mode --key-file ade.key $PB \
	root.enc >mk.log 2>&1 || fail "cryptsetup root: $(cat mk.log)"
truncate -s 32M os.hdr && cp os.hdr tb/luks/osluksheader
mkfs.ext2 -q -F -d tb boot.fs 40M || fail "mkfs.ext2 boot"
mkfs.ext4 -q -F -d dsrc ldata.fs 24M && cp ldata.fs ldata.enc && truncate -s 40M ldata.enc
cryptsetup reencrypt --encrypt --type luks2 --reduce-device-size 16M --batch-mode --key-file ade.key $PB \
	ldata.enc >mk.log 2>&1 || fail "cryptsetup data: $(cat mk.log)"
gpt_vhd linux.vhd 14:EF02:1 15:EF00:8:efi.fs 1:8300:24:root.enc 2:8300:40:boot.fs 3:8300:40:ldata.enc
# interrupted: two of four 8 MiB hotzones encrypted (see ade.sh)
mkfs.ext4 -q -F -d dsrc partial.fs 32M && cp partial.fs partial.enc && truncate -s 48M partial.enc
cryptsetup reencrypt --encrypt --type luks2 --init-only --reduce-device-size 16M --batch-mode \
	--key-file ade.key $PB partial.enc >mk.log 2>&1 || fail "cryptsetup partial init: $(cat mk.log)"
strace -o /dev/null -e trace=fdatasync -e inject=fdatasync:signal=SIGINT:when=2 \
	cryptsetup reencrypt --batch-mode --force-offline-reencrypt --key-file ade.key partial.enc >mk.log 2>&1
cryptsetup luksDump partial.enc > partial.dump 2>&1
gpt_vhd partial.vhd 1:8300:48:partial.enc
sha256sum ./*.vhd > images.sha256

# audit WANT NAME IMAGE ARGS...: JSON in NAME.json, exit status WANT
audit() {
	a_want=$1 a_name=$2 a_img=$3
	shift 3
	"$VHDUNLOCK" audit "$a_img" --json "$@" > "$a_name.json" 2> "$a_name.err"
	a_st=$?
	[ "$a_st" = "$a_want" ] && [ -s "$a_name.json" ] && return 0
	fail "$a_name: exit $a_st, expected $a_want: $(cat "$a_name.err")"
	return 1
}
# jqok NAME FILE FILTER
jqok() {
	if [ -s "$2" ] && jq -e "$3" "$2" >/dev/null 2>&1; then ok "$1"; else
		fail "$1: $(jq -c '.volumes[] | {id,verdict,reason,readable_ranges,scan}' "$2" 2>&1 | cut -c1-2000)"; fi
}
V() { printf '(.volumes[] | select(.id == "%s"))' "$1"; }

t0=$(date +%s%N)
audit 0 win win.vhd &&
	jqok "win: sealed, exit 0" win.json '.verdict == "sealed" and .exposed_volumes == []'
say "audit of win.vhd: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
jqok "win: p1 EFI, p2 MSR, p4 recovery expected" win.json \
	"[$(V p1), $(V p2), $(V p4)] | map(.verdict == \"expected\") | all"
jqok "win: p1 and p4 named by role" win.json "$(V p1).role == \"EFI System\" and $(V p4).role == \"Windows recovery environment\""
jqok "win: p3 sealed BitLocker, sampled, only ciphertext" win.json \
	"$(V p3) | .verdict == \"sealed\" and .encryption.type == \"bitlocker\" and .encryption.method == \"aes-xts-128\" and (.encryption.protectors | map(.type) | sort) == [\"recovery password\", \"startup key\"] and .scan.sampled_bytes > 0 and .scan.sampled_bytes < .scan.area_bytes and .scan.units.ciphertext > 0 and .scan.units.plaintext == 0 and .scan.units.low_entropy == 0"

files=$(find dsrc -type f | wc -l)
audit 1 data win-data.vhd &&
	jqok "win-data: exposed, exit 1, p5 named" data.json '.verdict == "exposed" and .exposed_volumes == ["p5"]'
jqok "win-data: p5 plain ext4 with its $files files" data.json \
	"$(V p5) | .filesystem.kind == \"ext4\" and .filesystem.files == $files and (.reason | test(\"$files files\"))"

audit 1 partial-bl win-partial.vhd &&
	jqok "win-partial: p3 exposed from byte 16 MiB on" partial-bl.json \
	"$(V p3) | .verdict == \"exposed\" and .readable_ranges[0].offset == $((16 * MiB)) and .readable_ranges[0].length == $((24 * MiB)) and .readable_ranges[0].first_sector == $((16 * 2048))"

audit 1 clear win-clear.vhd &&
	jqok "win-clear: p3 exposed by its clear key, its NTFS files counted" clear.json \
	"$(V p3) | .verdict == \"exposed\" and (.reason | test(\"clear\")) and .filesystem.kind == \"ntfs\" and .filesystem.files >= 300"

audit 1 planted win-planted.vhd &&
	jqok "win-planted: the default sample finds the NTFS records, within the 4 MiB planted at 16 MiB" planted.json \
	"$(V p3) | .verdict == \"exposed\" and .scan.sampled_bytes < .scan.area_bytes and (.scan.found | length > 0) and (.scan.found | map(.first_sector >= $((16 * 2048)) and .last_sector < $((20 * 2048))) | all) and (.scan.found | map(.what) | index(\"NTFS file record\") != null)"

audit 1 record win-record.vhd --full &&
	jqok "win-record: --full finds the one record at sector $((30 * 2048 + 6))" record.json \
	"$(V p3) | .verdict == \"exposed\" and .scan.sampled_bytes == .scan.area_bytes and .scan.found[0].first_sector == $((30 * 2048 + 6)) and .scan.found[0].what == \"NTFS file record\" and (.scan.found | map(.last_sector) | max) <= $((30 * 2048 + 7))"

audit 0 linux linux.vhd &&
	jqok "linux: sealed, exit 0" linux.json '.verdict == "sealed"'
jqok "linux: p1 (data of the detached header) sealed, p3 inline LUKS2 sealed" linux.json \
	"$(V p1).verdict == \"sealed\" and ($(V p3) | .verdict == \"sealed\" and .encryption.type == \"luks2\" and .scan.units.plaintext == 0)"
jqok "linux: p2 /boot expected, its osluksheader reported" linux.json \
	"$(V p2) | .verdict == \"expected\" and .role == \"boot\" and (.detached_luks_header | test(\"p2:/luks/osluksheader\"))"
jqok "linux: p14 BIOS boot and p15 EFI expected" linux.json "[$(V p14), $(V p15)] | map(.verdict == \"expected\") | all"

# cryptsetup's own account of the plaintext segment
lin_off=$(awk '/^Data segments:/ { s = 1 } s && /linear/ { l = 1 } l && /offset:/ { print $2; exit }' partial.dump)
lin_len=$(awk '/^Data segments:/ { s = 1 } s && /linear/ { l = 1 } l && /length:/ { print $2; exit }' partial.dump)
[ -n "$lin_off" ] && [ -n "$lin_len" ] || fail "no linear segment in luksDump: $(cat partial.dump)"
audit 1 luks-partial partial.vhd &&
	jqok "partial: p1 exposed, the linear segment at $lin_off, $lin_len bytes (as luksDump)" luks-partial.json \
	"$(V p1) | .verdict == \"exposed\" and .encryption.reencryption != \"none\" and .readable_ranges[0].offset == ${lin_off:-0} and .readable_ranges[0].length == ${lin_len:-0}"

# text output: the table and the result line
"$VHDUNLOCK" audit win-data.vhd > text.out 2>&1
st=$?
[ $st = 1 ] && grep -q '^p5 .*exposed' text.out && grep -q '^exposed: p5 can be read without keys' text.out &&
	ok "text: table and result line, exit 1" || fail "text: exit $st: $(cat text.out)"
# bad input: exit 2
"$VHDUNLOCK" audit nosuch.vhd > out 2> err; st=$?
[ $st = 2 ] && grep -q nosuch.vhd err && ok "missing image: exit 2: $(cat err)" || fail "missing image: exit $st: $(cat err)"
head -c 3000000 win.vhd > trunc.vhd
"$VHDUNLOCK" audit trunc.vhd > out 2> err; st=$?
[ $st = 2 ] && [ -s err ] && ok "truncated image: exit 2: $(head -n 1 err)" || fail "truncated image: exit $st: $(cat err)"
"$VHDUNLOCK" audit win.vhd --bek keys > out 2> err; st=$?
[ $st = 2 ] && grep -q "takes no keys" err && ok "keys refused: exit 2" || fail "audit --bek: exit $st: $(cat err)"
"$VHDUNLOCK" audit win.vhd --sample 0 > out 2> err; st=$?
[ $st = 2 ] && grep -q "sample" err && ok "--sample 0 refused: exit 2" || fail "--sample 0: exit $st: $(cat err)"
# a recovery password in the environment is not used
VHDUNLOCK_RECOVERY_PASSWORD=$(cat rp.txt) "$VHDUNLOCK" audit win.vhd --json > env.json 2>err
jqok "VHDUNLOCK_RECOVERY_PASSWORD is ignored: still sealed" env.json '.verdict == "sealed"'
# progress on a terminal (script gives one), none in a pipe
script -qec "\"$VHDUNLOCK\" audit --full win.vhd" /dev/null > tty.out 2>&1
grep -q 'sampling \[' tty.out && ok "a terminal shows progress" || fail "no progress: $(head -c 400 tty.out)"
grep -q 'sampling' text.out && fail "progress in a pipe"

sha256sum -c --quiet images.sha256 >sha.log 2>&1 && ok "images unchanged (SHA-256)" ||
	fail "images changed: $(cat sha.log)"
finish
