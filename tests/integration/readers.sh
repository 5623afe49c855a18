#!/bin/sh
# readers: our VHD and VHDX readers return the new content of differencing
# children exactly where libvhdi 20210425 does not:
#   - VHD bitmap bytes with a clear bit after a set one (07 f0: sectors 5-11)
#   - a VHDX child whose locator has only relative_path
#   - a VHDX child over 4 GiB whose second chunk has no sector bitmap block
#   - an unchanged VHDX child (no sector bitmap block at all)
# and 3-level chains.  Parents come from qemu-img, children from the
# test-only writer mkdiffdisk (proven in diffwriter.sh).  Where libvhdi is
# right, vhdimount (its FUSE tool) and vhdunlock must agree byte for byte.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/disks.sh"
need qemu-img sgdisk cmp dd truncate
mk="$top_builddir/tests/tools/mkdiffdisk"
[ -x "$mk" ] || { fail "$mk not built"; finish; }

cd "$work"
dir=$(pwd -P)
mnt="$dir/mnt"
mkdir "$mnt"
mounted=no
big=
cleanup() {
	[ "$mounted" = no ] || fusermount3 -u "$mnt" 2>/dev/null || :
	[ -z "$big" ] || rm -rf "$big"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

MIB=1048576
# scribble FILE BLOCK SEEK COUNT: random BLOCK-byte units at unit SEEK
scribble() { dd if=/dev/urandom of="$1" bs="$2" seek="$3" count="$4" \
	conv=notrunc status=none; }

# child FORMAT PARENT PARENT_RAW NEW CHILD [mkdiffdisk options...]
child() {
	fmt=$1 parent=$2 praw=$3 new=$4 out=$5
	shift 5
	if "$mk" --format "$fmt" --parent "$parent" --parent-raw "$praw" \
		--new "$new" "$@" "$out" >"$out.log" 2>&1; then
		return 0
	fi
	fail "mkdiffdisk $out: $(cat "$out.log")"
	return 1
}

# same IMAGE RAW WHAT: vhdunlock's whole-disk export of IMAGE equals RAW
same() {
	rm -f got
	if ! timeout 120 "$VHDUNLOCK" export "$1" disk got 2>err; then
		fail "$3: export of $1 failed: $(cat err)"
	elif cmp -s "$2" got; then
		ok "$3: $1 reads as $2"
	else
		fail "$3: $1 differs from $2 at $(cmp "$2" got | sed 's/.*byte //')"
	fi
	rm -f got
}

# --- a 64 MiB GPT disk with data; its VHD and VHDX forms
truncate -s 64M base.raw
sgdisk -q -n1:2048:+20M -t1:0700 -n2:0:0 -t2:8300 base.raw
scribble base.raw $MIB 1 20
scribble base.raw $MIB 40 10
qemu-img convert -f raw -O vpc -o subformat=dynamic,force_size=on \
	base.raw base.vhd
qemu-img convert -f raw -O vhdx base.raw base.vhdx
same base.vhd base.raw "dynamic VHD"
same base.vhdx base.raw "dynamic VHDX"

# odd: sectors 5-11 of block 1 (2 MiB blocks; bitmap bytes 07 f0) and
# single scattered sectors, each alone in its bitmap byte
cp base.raw odd.raw
scribble odd.raw 512 $((4096 + 5)) 7
for s in 3 1001 2050 9999 20001 40962 131071; do
	scribble odd.raw 512 "$s" 1
done
# even: runs that end on a bitmap byte's last sector (libvhdi gets these
# right), whole blocks, one byte
cp base.raw even.raw
scribble even.raw 512 $((4096 + 8)) 8
scribble even.raw $MIB 10 2
printf 'x' | dd of=even.raw bs=1 seek=$((20 * 2 * MIB + 7 * 512 + 100)) \
	conv=notrunc status=none
# odd2: more changes on top of odd, one region back to the base's content
cp odd.raw odd2.raw
scribble odd2.raw 512 $((4096 + 9)) 2
scribble odd2.raw 512 $((8192 + 1)) 3
dd if=base.raw of=odd2.raw bs=512 skip=9999 seek=9999 count=1 conv=notrunc \
	status=none

# --- VHD: the bitmap bits libvhdi misreads
child vhd base.vhd base.raw odd.raw odd.vhd &&
	same odd.vhd odd.raw "VHD child, bitmap 07 f0 and single sectors"
bat1=$(od -An -tu1 -j $((1536 + 4)) -N 4 odd.vhd |
	awk '{ print (($1 * 256 + $2) * 256 + $3) * 256 + $4 }')
bits=$(od -An -tx1 -j $((bat1 * 512)) -N 2 odd.vhd | tr -d ' ')
[ "$bits" = 07f0 ] && ok "odd.vhd: block 1 bitmap starts 07 f0" ||
	fail "odd.vhd: block 1 bitmap starts '$bits', expected 07f0"
child vhd base.vhd base.raw odd.raw odd64k.vhd --block-size 64K &&
	same odd64k.vhd odd.raw "VHD child with 64 KiB blocks"
child vhd odd.vhd odd.raw odd2.raw odd2.vhd &&
	same odd2.vhd odd2.raw "VHD chain of 3"

# --- VHDX: the same changes, a relative-only locator, an unchanged child
child vhdx base.vhdx base.raw odd.raw odd.vhdx &&
	same odd.vhdx odd.raw "VHDX child, partially present blocks"
child vhdx base.vhdx base.raw odd.raw rel.vhdx --parent-path-style relative &&
	same rel.vhdx odd.raw "VHDX child with only relative_path"
child vhdx base.vhdx base.raw base.raw same.vhdx &&
	same same.vhdx base.raw "unchanged VHDX child (no sector bitmap block)"
child vhdx odd.vhdx odd.raw odd2.raw odd2.vhdx --block-size 1M &&
	same odd2.vhdx odd2.raw "VHDX chain of 3 (1 MiB blocks in the top)"
child vhdx rel.vhdx odd.raw odd2.raw rel2.vhdx --parent-path-style relative &&
	same rel2.vhdx odd2.raw "VHDX chain of 3, relative paths only"
# a parent found by the last component of an absolute path only
mkdir sub
cp base.vhdx sub/
child vhdx sub/base.vhdx base.raw even.raw sub/abs.vhdx \
	--parent-path-style absolute &&
	same sub/abs.vhdx even.raw "VHDX child with only absolute paths"

# --- over 4 GiB: the change in chunk 1 only (the first 4 GiB), the parent's
# data in chunk 2, which has no sector bitmap block in the child.  Sparse
# files; on tmpfs when there is one, where reading holes is fast (mkdiffdisk
# and cmp read 5 GiB each).
big=$(mktemp -d /dev/shm/vhdunlock-readers.XXXXXX 2>/dev/null) || big=
[ -n "$big" ] || { mkdir big && big="$dir/big"; }
cd "$big"
truncate -s 5G big.raw
scribble big.raw $MIB 3 2
scribble big.raw $MIB $((4096 + 300)) 4
cp --sparse=always big.raw bignew.raw
scribble bignew.raw 512 $((4096 + 5)) 7
qemu-img convert -f raw -O vhdx big.raw big.vhdx
child vhdx big.vhdx big.raw bignew.raw bigchild.vhdx && {
	rm -f got
	if timeout 120 "$VHDUNLOCK" export big.vhdx disk got 2>err &&
		cmp -s big.raw got; then
		ok "5 GiB VHDX parent reads as big.raw"
	else
		fail "5 GiB VHDX parent: $(cat err)"
	fi
	same bigchild.vhdx bignew.raw "5 GiB VHDX child, chunk 2 without a bitmap"
}
cd "$dir"
rm -rf "$big"
big=

# --- vhdimount agrees where libvhdi is right, and shows where it is not
if [ ! -c /dev/fuse ] || ! command -v vhdimount >/dev/null ||
	! command -v fusermount3 >/dev/null; then
	say "note: no FUSE or vhdimount here: the comparison with libvhdi is skipped"
	finish
fi
# vhdimount_top IMAGE: copy the top layer of IMAGE as libvhdi reads it to
# libvhdi.out; 1 if it does not mount
vhdimount_top() {
	rm -f libvhdi.out
	vhdimount -X allow_root "$dir/$1" "$mnt" >mount.log 2>&1 || return 1
	mounted=yes
	top=$(ls "$mnt" | sort -V | tail -n 1)
	cp "$mnt/$top" libvhdi.out
	fusermount3 -u "$mnt" && mounted=no
}
# agree IMAGE RAW: libvhdi and vhdunlock both read IMAGE as RAW
agree() {
	if ! vhdimount_top "$1"; then
		fail "vhdimount $1: $(tail -n 3 mount.log)"
		return
	fi
	"$VHDUNLOCK" export "$1" disk got 2>err || fail "export $1: $(cat err)"
	if cmp -s libvhdi.out got && cmp -s got "$2"; then
		ok "vhdimount and vhdunlock agree on $1"
	else
		fail "$1: vhdimount and vhdunlock disagree"
	fi
	rm -f got libvhdi.out
}
# libvhdi_wrong IMAGE RAW: vhdunlock is right (checked above); say whether
# libvhdi 20210425 still misreads IMAGE
libvhdi_wrong() {
	if vhdimount_top "$1" && cmp -s libvhdi.out "$2"; then
		say "note: libvhdi reads $1 correctly now"
	else
		say "note: libvhdi misreads $1 (known bug); vhdunlock is right"
	fi
	rm -f libvhdi.out
}

child vhd base.vhd base.raw even.raw even.vhd && agree even.vhd even.raw
child vhd even.vhd even.raw even.raw even2.vhd && agree even2.vhd even.raw
child vhdx base.vhdx base.raw even.raw even.vhdx && agree even.vhdx even.raw
child vhdx even.vhdx even.raw odd.raw eo.vhdx && agree eo.vhdx odd.raw
agree base.vhd base.raw
agree base.vhdx base.raw
libvhdi_wrong odd.vhd odd.raw
libvhdi_wrong same.vhdx base.raw

finish
