#!/bin/sh
# LUKS1/LUKS2 volumes made by the real cryptsetup, offline, without
# dm-crypt (reencrypt --encrypt on image files), decrypted through our
# header loading (libcryptsetup on a memfd copy) and sector engine
# (tests/tools/luks-decrypt), compared with the ext4 image that was
# encrypted: inline and detached headers, pbkdf2 and argon2id, aes-xts-plain64
# (256/512-bit keys), aes-cbc-essiv:sha256, aes-cbc-plain64, 4096-byte
# sectors, LUKS1 by `cryptsetup convert`, an interrupted reencryption,
# ADE-style key files, wrong keys, damaged and truncated headers, an
# unsupported cipher, and the LUKS1 images of the shared corpus.
. "$top_srcdir/tests/integration/lib.sh"

dec="$top_builddir/tests/tools/luks-decrypt"
need cryptsetup mkfs.ext4 cmp dd truncate base64 blkid head
[ -x "$dec" ] || skip "$dec not built"
cd "$work" || exit 1

PB="--pbkdf pbkdf2 --pbkdf-force-iterations 1000"
printf 'correct horse battery staple' > pass
printf 'wrong horse' > badpass

# the ext4 that gets encrypted: 32 MiB of file system with random content
mkdir -p root
head -c 3000000 /dev/urandom > root/data.bin
printf 'hello luks\n' > root/hello.txt
mkfs.ext4 -q -F -d root -b 4096 orig.img 32M || { fail "mkfs.ext4"; finish; }

# expect NAME STATUS ARGS...: run luks-decrypt to NAME.out, check the exit
# status (0, or an errno number)
expect() {
	n=$1 want=$2
	shift 2
	"$dec" "$@" > "$n.out" 2> "$n.err"
	got=$?
	if [ "$got" -ne "$want" ]; then
		fail "$n: exit $got, expected $want: $(cat "$n.err")"
		return 1
	fi
	return 0
}
# same NAME BYTES: NAME.out starts with the first BYTES of orig.img
same() {
	if cmp -n "$2" "$1.out" orig.img >/dev/null 2>&1; then
		ok "$1: decrypts to the original ext4"
	else
		fail "$1: decrypted data differs from the original"
	fi
}
M32=33554432

# --- inline header, in place (the data is shifted by --reduce-device-size)
# inline NAME EXTRA-ARGS...: a 64 MiB device holding orig.img, encrypted
inline() {
	n=$1; shift
	cp orig.img "$n.img" && truncate -s 64M "$n.img" &&
	cryptsetup reencrypt --encrypt --type luks2 --reduce-device-size 32M \
		--batch-mode --key-file pass "$@" "$n.img" > "$n.mk" 2>&1 ||
		{ fail "$n: cryptsetup reencrypt: $(cat "$n.mk")"; return 1; }
}
if inline xts512 $PB --cipher aes-xts-plain64 --key-size 512; then
	expect xts512 0 --passphrase-file pass xts512.img && same xts512 $M32
	"$dec" -i xts512.img > xts512.info 2>&1
	grep -q '^mode: xts-plain64$' xts512.info &&
	grep -q '^key-bits: 512$' xts512.info &&
	grep -q '^data-offset: 16777216$' xts512.info &&
	grep -q '^keyslot: 0 pbkdf2-sha256 active iterations=1000' xts512.info &&
		ok "xts512: info" || fail "xts512: info: $(cat xts512.info)"
fi
if inline xts4k $PB --cipher aes-xts-plain64 --key-size 256 --sector-size 4096; then
	expect xts4k 0 --passphrase-file pass xts4k.img && same xts4k $M32
	"$dec" -i xts4k.img | grep -q '^sector-size: 4096$' ||
		fail "xts4k: sector size not 4096"
fi

# --- detached header: the data stays where it is
# detached NAME EXTRA-ARGS...
detached() {
	n=$1; shift
	cp orig.img "$n.img" &&
	cryptsetup reencrypt --encrypt --type luks2 --header "$n.hdr" \
		--batch-mode --key-file pass "$@" "$n.img" > "$n.mk" 2>&1 ||
		{ fail "$n: cryptsetup reencrypt: $(cat "$n.mk")"; return 1; }
}
if detached essiv $PB --cipher aes-cbc-essiv:sha256 --key-size 256; then
	expect essiv 0 --header essiv.hdr --passphrase-file pass essiv.img &&
		same essiv $M32
	"$dec" -i --header essiv.hdr essiv.img | grep -q '^detached: 1$' ||
		fail "essiv: not reported detached"
fi
if detached cbcplain $PB --cipher aes-cbc-plain64 --key-size 128; then
	expect cbcplain 0 --header cbcplain.hdr --passphrase-file pass cbcplain.img &&
		same cbcplain $M32
fi
if detached argon --pbkdf argon2id --pbkdf-memory 8192 --pbkdf-parallel 1 \
	--pbkdf-force-iterations 4 --cipher aes-xts-plain64 --key-size 512; then
	"$dec" -i --header argon.hdr argon.img > argon.info 2>&1
	grep -q '^keyslot: 0 argon2id active iterations=4 memory=8192' argon.info ||
		fail "argon: info: $(cat argon.info)"
	expect argon 0 --header argon.hdr --passphrase-file pass argon.img &&
		same argon $M32
fi

# --- LUKS1: a LUKS2 header made that way, converted
if inline luks1 $PB --cipher aes-xts-plain64 --key-size 256 &&
   cryptsetup convert --type luks1 --batch-mode luks1.img > luks1.cv 2>&1; then
	"$dec" -i luks1.img | grep -q '^version: 1$' || fail "luks1: not version 1"
	expect luks1 0 --passphrase-file pass luks1.img && same luks1 $M32
else
	fail "luks1: cryptsetup convert: $(cat luks1.cv 2>/dev/null)"
fi

# --- keys: wrong passphrase; an ADE key file (base64 of 127 bytes, 172
# bytes, no newline) used byte for byte
expect wrongpw 1 --passphrase-file badpass xts512.img &&
	grep -q 'no keyslot opens' wrongpw.err && ok "wrong passphrase: EPERM"
head -c 127 /dev/urandom | base64 -w0 > ade.key
[ "$(wc -c < ade.key)" -eq 172 ] || fail "ade.key is not 172 bytes"
if cryptsetup luksAddKey --batch-mode --key-file pass $PB xts512.img ade.key > addkey.log 2>&1; then
	expect adekey 0 --key-file ade.key xts512.img && same adekey $M32
	{ cat ade.key; echo; } > ade-nl.key
	expect adekey-nl 1 --key-file ade-nl.key xts512.img &&
		ok "key file with an added newline: EPERM (used byte for byte)"
	"$dec" -i --key-file ade.key xts512.img | grep -q '^unlocked-by: 1$' ||
		fail "adekey: not unlocked by keyslot 1"
else
	fail "luksAddKey: $(cat addkey.log)"
fi

# --- damaged headers: primary zeroed still opens (secondary); both: EUCLEAN
cp xts512.img prim.img
dd if=/dev/zero of=prim.img bs=4096 count=1 conv=notrunc 2>/dev/null
if expect prim 0 --passphrase-file pass prim.img; then
	same prim $M32
	grep -q 'primary LUKS2 header is damaged' prim.err &&
		ok "damaged primary: warning" || fail "damaged primary: no warning"
fi
cp prim.img both.img
dd if=/dev/zero of=both.img bs=4096 seek=4 count=1 conv=notrunc 2>/dev/null
expect both 117 --passphrase-file pass both.img &&
	grep -q 'no LUKS header\|both LUKS2 headers' both.err &&
	ok "both headers damaged: EUCLEAN: $(cat both.err)"
# a JSON bit flip in the primary (checksum fails) also falls back
cp xts512.img flip.img
printf 'X' | dd of=flip.img bs=1 seek=4200 conv=notrunc 2>/dev/null
expect flip 0 --passphrase-file pass flip.img && same flip $M32
# a detached header file cut short
head -c 8192 essiv.hdr > trunc.hdr
expect trunc 117 --header trunc.hdr --passphrase-file pass essiv.img &&
	ok "truncated header: EUCLEAN: $(cat trunc.err)"
head -c 100 essiv.hdr > tiny.hdr
expect tiny 117 --header tiny.hdr --passphrase-file pass essiv.img

# --- an unsupported cipher: the header loads and unlocks, the data says
# ENOTSUP naming it (serpent needs the kernel's crypto API, which may be
# missing here; aes-cbc-benbi works in user space)
# unsupported CIPHER: 0 when luksFormat made unsup.img with it
unsupported() {
	rm -f unsup.img && truncate -s 20M unsup.img &&
	cryptsetup luksFormat --batch-mode --type luks2 --cipher "$1" \
		--key-size 256 $PB --key-file pass unsup.img > unsup.mk 2>&1
}
for c in serpent-xts-plain64 aes-cbc-benbi; do
	if ! unsupported $c; then
		say "note: cryptsetup cannot format $c here: $(cat unsup.mk)"
		continue
	fi
	expect "unsup-$c" 95 --passphrase-file pass unsup.img &&
		grep -q "cipher $c is not supported" "unsup-$c.err" &&
		ok "$c: ENOTSUP naming the cipher" ||
		fail "$c: message: $(cat "unsup-$c.err")"
	break
done

# --- an interrupted reencryption (SIGINT stops cryptsetup cleanly between
# hotzones): crypt segments decrypted, linear ones passed through
if inline partial $PB --init-only; then
	cryptsetup luksDump partial.img | grep -q 'Requirements:.*online-reencrypt' ||
		fail "partial: no reencrypt requirement after --init-only"
	expect partial-init 0 --passphrase-file pass partial.img &&
		same partial-init $M32
	cryptsetup reencrypt --batch-mode --key-file pass --force-offline-reencrypt \
		--hotzone-size 1M partial.img > partial.run 2>&1 &
	pid=$!
	sleep 0.2
	kill -INT $pid 2>/dev/null
	wait $pid
	if cryptsetup luksDump partial.img | grep -q 'Requirements:.*online-reencrypt'; then
		"$dec" -i partial.img > partial.info 2>/dev/null
		grep -q '^reencrypt: clean$' partial.info ||
			fail "partial: reencrypt state: $(cat partial.info)"
		say "partial: $(grep segments partial.info) after the interrupted run"
		expect partial 0 --passphrase-file pass partial.img && same partial $M32
	else
		say "note: the reencryption finished before it was interrupted"
		expect partial 0 --passphrase-file pass partial.img && same partial $M32
	fi
fi

# --- LUKS1 images of the shared corpus (made by cryptsetup)
unpack_fixture luks1-images.tar.xz
nimg=0
for img in luks1-dev/*.img; do
	[ -f "$img" ] || continue
	nimg=$((nimg + 1))
	b=$(basename "$img" .img)
	if expect "$b" 0 --key-file luks1-dev/keyfile1 "$img"; then
		u=$(blkid -p -o value -s UUID "$b.out")
		[ "$u" = DEAD-BABE ] && ok "$b: payload UUID DEAD-BABE" ||
			fail "$b: payload UUID '$u'"
	fi
done
[ "$nimg" -ge 3 ] || fail "luks1-images.tar.xz: expected 3 images, found $nimg"

finish
