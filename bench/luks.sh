#!/bin/sh
# Benchmark: reading a whole LUKS2 volume (aes-xts-plain64, 4096-byte
# sectors, about 1 GiB of random data, unlocked with a key file) against the
# anchor of reading the encrypted image with cat, in one hyperfine run:
#   1. cat IMAGE                                    (anchor: no decryption)
#   2. vhdunlock export IMAGE disk - --key-file KEY  (a thread per CPU)
#   3. vhdunlock export ... --threads 1               (the serial loop)
#   4. cat /dev/mapper/NAME after cryptsetup open --readonly (the kernel's
#      dm-crypt), only where device-mapper works (root, dm_mod loaded);
#      otherwise left out with a note.
# cryptsetup encrypts known random plaintext (offline, in user space), so
# every reader's output is compared with the plaintext that was written,
# without needing device-mapper for the check.  Everything is on /dev/shm (or $TMPDIR) and
# read warm, as in bench/bitlocker.sh: decryption and data-path costs, not
# disk speed.
#   sh bench/luks.sh [BUILD_DIR]
# Needs hyperfine and cryptsetup (2.2 or later, for offline reencryption).
# KEY_BITS (default 512, cryptsetup's default: AES-256-XTS) picks the XTS
# key size; 256 is AES-128-XTS, BitLocker's XTS-128.
set -eu
build=${1:-.}
vu="$build/vhdunlock"
[ -x "$vu" ] || { echo "luks.sh: $vu missing (make it first)" >&2; exit 1; }
for t in hyperfine cryptsetup; do
	command -v "$t" >/dev/null || { echo "luks.sh: $t not found" >&2; exit 1; }
done
KEY_BITS=${KEY_BITS:-512}
base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/var/tmp}
dir=$(mktemp -d "$base/vu-luks-bench.XXXXXX")
# the dm-crypt mapping, once opened: unique per run, closed by its name
dm=
cleanup() {
	if [ -n "$dm" ]; then
		cryptsetup close "$dm" 2>/dev/null ||
			echo "luks.sh: could not close /dev/mapper/$dm" >&2
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The volume: 1 GiB of random data.  cryptsetup encrypts it with a known
# volume key in user space (offline reencryption, detached header: no
# device-mapper); the image is then an inline-header LUKS2 volume formatted
# with that volume key, its data area (from 16 MiB) the ciphertext.
# (Encrypting in place with --reduce-device-size would leave the last
# 16 MiB of the volume undefined, so it could not be checked whole.)
head -c 1G /dev/urandom >"$dir/plain"
cp "$dir/plain" "$dir/cipher"
head -c 64 /dev/urandom >"$dir/key"
head -c $((KEY_BITS / 8)) /dev/urandom >"$dir/vk"
# cryptsetup ARGS...: with the options both steps share
luks() {
	cryptsetup "$@" --batch-mode --type luks2 --volume-key-file "$dir/vk" \
		--cipher aes-xts-plain64 --key-size "$KEY_BITS" --sector-size 4096 \
		--pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-file "$dir/key" \
		>>"$dir/cryptsetup.log" 2>&1 && return 0
	echo "luks.sh: cryptsetup $1 failed: $(tail -n 3 "$dir/cryptsetup.log")" >&2
	exit 1
}
luks reencrypt --encrypt --header "$dir/detached.hdr" "$dir/cipher"
truncate -s $((16 * 1048576 + $(stat -c %s "$dir/plain"))) "$dir/luks.img"
luks luksFormat --offset 32768 "$dir/luks.img"     # 512-byte units: 16 MiB
dd if="$dir/cipher" of="$dir/luks.img" bs=1M seek=16 conv=notrunc status=none
rm -f "$dir/cipher" "$dir/detached.hdr" "$dir/vk"
cryptsetup luksDump "$dir/luks.img" >"$dir/dump.txt"
sector=$(awk '/^Data segments:/ { d = 1 } d && $1 == "sector:" { print $2; exit }' "$dir/dump.txt")
[ "$sector" = 4096 ] || { echo "luks.sh: luksDump says sector $sector, not 4096" >&2; exit 1; }
isize=$(stat -c %s "$dir/luks.img")
vsize=$(stat -c %s "$dir/plain")

# check ONE WHAT: ONE must be the plaintext
check() {
	if ! cmp -s "$1" "$dir/plain"; then
		echo "luks.sh: $2 does not give the plaintext written" >&2
		exit 1
	fi
}

for t in "" "--threads 1"; do
	# shellcheck disable=SC2086 # $t is zero or two words
	"$vu" export "$dir/luks.img" disk - --key-file "$dir/key" $t >"$dir/out.img"
	check "$dir/out.img" "vhdunlock export $t"
	rm -f "$dir/out.img"
done
# name<TAB>bytes, one line per command, in hyperfine's order
printf '%s\t%s\n' "cat encrypted image (anchor)" "$isize" \
	"vhdunlock export --key-file" "$vsize" \
	"vhdunlock export --threads 1" "$vsize" >"$dir/rows"
set -- -n "cat encrypted image (anchor)" "cat $dir/luks.img > /dev/null" \
	-n "vhdunlock export --key-file" \
	"$vu export $dir/luks.img disk - --key-file $dir/key > /dev/null" \
	-n "vhdunlock export --threads 1" \
	"$vu export $dir/luks.img disk - --key-file $dir/key --threads 1 > /dev/null"

# the kernel: dm-crypt on a loop device that cryptsetup attaches itself
# (and detaches on close)
name=vu-bench-luks-$$
if [ "$(id -u)" != 0 ]; then
	echo "note: not root: the kernel's dm-crypt row is left out" >&2
elif cryptsetup open --readonly --type luks2 --key-file "$dir/key" \
	"$dir/luks.img" "$name" >"$dir/open.log" 2>&1; then
	dm=$name
	check "/dev/mapper/$dm" "dm-crypt (cryptsetup open)"
	printf '%s\t%s\n' "kernel dm-crypt + cat" "$vsize" >>"$dir/rows"
	set -- "$@" -n "kernel dm-crypt + cat" "cat /dev/mapper/$dm > /dev/null"
else
	echo "note: cryptsetup open failed ($(head -n 1 "$dir/open.log")):" \
		"the kernel's dm-crypt row is left out" >&2
fi

hyperfine --warmup 1 --runs 5 --export-markdown "$dir/result.md" \
	--export-csv "$dir/result.csv" "$@"
echo
cat "$dir/result.md"
echo
echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(uname -m); image $isize bytes," \
	"volume $vsize bytes (LUKS2 aes-xts-plain64, $KEY_BITS-bit key," \
	"4096-byte sectors), page cache warm for every command"
# MB/s from each command's own bytes (the image for cat, the volume for
# the others) and the ratio of its MB/s to the anchor's (1.00 = as fast
# as reading the encrypted image; below 1 slower)
tail -n +2 "$dir/result.csv" | cut -d, -f2 | paste "$dir/rows" - | awk -F'\t' '
{
	mbs = $2 / $3 / 1e6
	if (NR == 1) anchor = mbs
	printf "| %-30s | %8.0f MB/s | %5.2f x cat |\n", $1, mbs, mbs / anchor
}'
