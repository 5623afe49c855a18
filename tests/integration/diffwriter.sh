#!/bin/sh
# diffwriter: prove the test-only differencing writer (tests/tools/mkdiffdisk)
# against an independent reader, libvhdi's vhdiinfo and vhdimount, before any
# test relies on its children.  Parents come from qemu-img (dynamic and fixed
# VHD, VHDX); children and grandchildren from mkdiffdisk.
. "$top_srcdir/tests/integration/lib.sh"

[ -c /dev/fuse ] || skip "/dev/fuse is missing (vhdimount needs FUSE)"
need qemu-img sgdisk vhdiinfo vhdimount fusermount3 cmp dd tr grep sed
# MKDIFFDISK may name another build of the tool (say, one with sanitizers)
mk=${MKDIFFDISK:-$top_builddir/tests/tools/mkdiffdisk}
[ -x "$mk" ] || { fail "$mk not built"; finish; }

cd "$work"
dir=$(pwd -P)
mnt="$dir/mnt"
mkdir "$mnt"
mounted=no
cleanup() { [ "$mounted" = no ] || fusermount3 -u "$mnt" 2>/dev/null || :; }
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

MIB=1048576
# put COUNT random BLOCK-byte units into FILE at unit SEEK
scribble() { dd if=/dev/urandom of="$1" bs="$2" seek="$3" count="$4" \
	conv=notrunc status=none; }
# copy COUNT BLOCK-byte units at unit SEEK from FILE to FILE2
copy_units() { dd if="$1" of="$2" bs="$3" skip="$4" seek="$4" count="$5" \
	conv=notrunc status=none; }

# --- parents: a 64 MiB GPT disk with data, as dynamic VHD, fixed VHD, VHDX
truncate -s 64M base.raw
sgdisk -q -n1:2048:+20M -t1:0700 -n2:0:+20M -t2:8300 -n3:0:0 base.raw
scribble base.raw $MIB 2 10
scribble base.raw $MIB 40 6
qemu-img convert -f raw -O vpc -o subformat=dynamic,force_size=on \
	base.raw parent.vhd
qemu-img convert -f raw -O vpc -o subformat=fixed,force_size=on \
	base.raw fixed.vhd
qemu-img convert -f raw -O vhdx base.raw parent.vhdx

# --- new content: scattered changes (2 MiB blocks: 32 in all).  libvhdi
# misreads a VHD sector bitmap byte in which a marked sector is followed by an
# unmarked one (see the end), so every run here ends on a bitmap byte's last
# sector; odd runs have their own case below.
cp base.raw new.raw
scribble new.raw 512 $((4096 + 5)) 11		# sectors 5-15 of block 1
scribble new.raw $MIB 10 2			# all of block 5
printf 'x' | dd of=new.raw bs=1 seek=$((20 * 2 * MIB + 7 * 512 + 100)) \
	conv=notrunc status=none		# one byte in block 20
scribble new.raw 65536 $((64 * 16 - 1)) 1	# the end of the last block
# a grandchild's content: more changes, one region back to the base's
cp new.raw new2.raw
scribble new2.raw 512 $((4096 + 100)) 28	# block 1 again, sectors 100-127
scribble new2.raw $MIB 14 2			# all of block 7
copy_units base.raw new2.raw 512 $((10 * 2048 + 64)) 16	# block 5, partly
scribble new2.raw 512 $((131072 - 1)) 1	# the very last sector
# odd runs: sectors 5-11 of block 1 (bitmap bytes 07 f0)
cp base.raw odd.raw
scribble odd.raw 512 $((4096 + 5)) 7

# identifier "x-y-..." that vhdiinfo reports for FILE
ident() { vhdiinfo "$1" | sed -n 's/^[[:space:]]*Identifier[[:space:]]*: //p'; }
# vhdiinfo's parent filename for FILE
parent_name() {
	vhdiinfo "$1" | sed -n 's/^[[:space:]]*Parent filename[[:space:]]*: //p'
}
# the UTF-16LE strings in FILE as ASCII, for locator checks
ascii() { tr -d '\000' <"$1"; }
winpath() { printf 'C:%s\\%s' "$(printf '%s' "$dir" | tr / '\\')" "$1"; }

# make FORMAT PARENT PARENT_RAW NEW CHILD [STYLE]
make_child() {
	if "$mk" --format "$1" --parent "$2" --parent-raw "$3" --new "$4" \
		${6:+--parent-path-style "$6"} "$5" >"$5.log" 2>&1; then
		ok "mkdiffdisk $1 $5 ($(cat "$5.log"))"
	else
		fail "mkdiffdisk $1 $5: $(cat "$5.log")"
	fi
}

# check_info CHILD PARENT EXPECTED_PARENT_FILENAME (empty: none reported)
check_info() {
	if ! vhdiinfo "$1" >"$1.info" 2>&1; then
		fail "vhdiinfo $1 exits non-zero: $(cat "$1.info")"
		return
	fi
	grep -q 'Disk type[[:space:]]*: Differential' "$1.info" ||
		fail "vhdiinfo $1: not differential: $(cat "$1.info")"
	want=$(ident "$2")
	got=$(sed -n 's/^[[:space:]]*Parent identifier[[:space:]]*: //p' \
		"$1.info")
	[ -n "$want" ] && [ "$got" = "$want" ] ||
		fail "vhdiinfo $1: parent identifier '$got', expected '$want'"
	got=$(parent_name "$1")
	[ "$got" = "$3" ] ||
		fail "vhdiinfo $1: parent filename '$got', expected '$3'"
	size=$(sed -n 's/.*Media size.*(\([0-9]*\) bytes).*/\1/p' "$1.info")
	[ "$size" = 67108864 ] || fail "vhdiinfo $1: media size '$size'"
	ok "vhdiinfo $1: differential, parent $want${3:+ ($3)}"
}

# check_mount CHILD LAYERS RAW...: vhdimount finds the parents itself (it
# joins the last '\'-separated component of the parent filename to the
# child's folder); vhdi1 is the base, vhdiN the child's combined view, and
# each layer must read as the matching RAW file.
check_mount() {
	child=$1 layers=$2
	shift 2
	if ! vhdimount -X allow_root "$dir/$child" "$mnt" >"$child.mount" 2>&1
	then
		fail "vhdimount $child: $(tail -n 3 "$child.mount")"
		return
	fi
	mounted=yes
	n=$(ls "$mnt" | wc -l)
	[ "$n" -eq "$layers" ] ||
		fail "vhdimount $child: $n layers, expected $layers"
	i=1
	for raw; do
		if cmp "$mnt/vhdi$i" "$raw"; then
			ok "vhdimount $child: vhdi$i reads as $raw"
		else
			fail "vhdimount $child: vhdi$i differs from $raw"
		fi
		i=$((i + 1))
	done
	fusermount3 -u "$mnt" && mounted=no
}

# --- VHD children of a dynamic and a fixed parent, and a grandchild
make_child vhd parent.vhd base.raw new.raw child.vhd
check_info child.vhd parent.vhd parent.vhd
check_mount child.vhd 2 base.raw new.raw
ascii child.vhd | grep -aqF 'W2ru' || fail "child.vhd: no W2ru locator"
ascii child.vhd | grep -aqF '.\parent.vhd' ||
	fail "child.vhd: no relative locator .\\parent.vhd"
ascii child.vhd | grep -aqF "$(winpath parent.vhd)" ||
	fail "child.vhd: no absolute locator $(winpath parent.vhd)"

make_child vhd fixed.vhd base.raw new.raw childf.vhd
check_info childf.vhd fixed.vhd fixed.vhd
check_mount childf.vhd 2 base.raw new.raw

make_child vhd child.vhd new.raw new2.raw grandchild.vhd
check_info grandchild.vhd child.vhd child.vhd
check_mount grandchild.vhd 3 base.raw new.raw new2.raw

# --- VHDX child and grandchild; libvhdi prefers absolute_win32_path
make_child vhdx parent.vhdx base.raw new.raw child.vhdx
check_info child.vhdx parent.vhdx "\\\\?\\$(winpath parent.vhdx)"
check_mount child.vhdx 2 base.raw new.raw
ascii child.vhdx | grep -aqF 'relative_path.\parent.vhdx' ||
	fail "child.vhdx: no relative_path .\\parent.vhdx"

make_child vhdx child.vhdx new.raw new2.raw grandchild.vhdx
check_info grandchild.vhdx child.vhdx "\\\\?\\$(winpath child.vhdx)"
check_mount grandchild.vhdx 3 base.raw new.raw new2.raw

# --- one path form only
make_child vhd parent.vhd base.raw new.raw abs.vhd absolute
check_info abs.vhd parent.vhd "$(winpath parent.vhd)"
check_mount abs.vhd 2 base.raw new.raw
! ascii abs.vhd | grep -aqF 'W2ru' || fail "abs.vhd: has a relative locator"

make_child vhdx parent.vhdx base.raw new.raw abs.vhdx absolute
check_info abs.vhdx parent.vhdx "\\\\?\\$(winpath parent.vhdx)"
check_mount abs.vhdx 2 base.raw new.raw
! ascii abs.vhdx | grep -aqF 'relative_path' ||
	fail "abs.vhdx: has a relative_path"

make_child vhd parent.vhd base.raw new.raw rel.vhd relative
check_info rel.vhd parent.vhd parent.vhd
check_mount rel.vhd 2 base.raw new.raw
! ascii rel.vhd | grep -aqF 'W2ku' || fail "rel.vhd: has an absolute locator"

# libvhdi 20210425 looks the key "relative_path" up with length 12, so it
# never finds it: a VHDX child with only a relative path has no parent
# filename for libvhdi.  The locator itself is checked byte for byte.
make_child vhdx parent.vhdx base.raw new.raw rel.vhdx relative
got=$(parent_name rel.vhdx)
if [ -z "$got" ]; then
	check_info rel.vhdx parent.vhdx ""
	say "note: libvhdi does not read relative_path (known libvhdi bug)"
else
	check_info rel.vhdx parent.vhdx '.\parent.vhdx'
	check_mount rel.vhdx 2 base.raw new.raw
fi
ascii rel.vhdx | grep -aqF 'relative_path.\parent.vhdx' ||
	fail "rel.vhdx: no relative_path .\\parent.vhdx"
! ascii rel.vhdx | grep -aqF 'absolute_win32_path' ||
	fail "rel.vhdx: has an absolute_win32_path"

# libvhdi 20210425 reads a VHDX child's sector bitmap even where the BAT
# marks the chunk's sector bitmap block not present (it reads from file
# offset 0), so an unchanged child, valid by [MS-VHDX], reads wrongly
# through libvhdi.  Reported, not counted: the writer is right here.
make_child vhdx parent.vhdx base.raw base.raw same.vhdx
check_info same.vhdx parent.vhdx "\\\\?\\$(winpath parent.vhdx)"
if vhdimount -X allow_root "$dir/same.vhdx" "$mnt" >/dev/null 2>&1; then
	mounted=yes
	if cmp -s "$mnt/vhdi2" base.raw; then
		ok "vhdimount same.vhdx: reads as base.raw"
	else
		say "note: libvhdi misreads a VHDX chunk without a sector" \
			"bitmap block (known libvhdi bug)"
	fi
	fusermount3 -u "$mnt" && mounted=no
fi

# A run of sectors 5-11 in block 1.  The VHD's bitmap bytes are checked
# directly; libvhdi 20210425 (and its current source) tests VHD bitmap bits
# with "byte >> (7 - bit)" without masking, so after the first marked sector
# of a byte it takes every later sector of that byte from the child.
make_child vhd parent.vhd base.raw odd.raw odd.vhd
bat1=$(od -An -tu1 -j $((1536 + 4)) -N 4 odd.vhd |
	awk '{ print (($1 * 256 + $2) * 256 + $3) * 256 + $4 }')
bits=$(od -An -tx1 -j $((bat1 * 512)) -N 3 odd.vhd | tr -d ' ')
if [ "$bits" = 07f000 ]; then
	ok "odd.vhd: block 1 sector bitmap starts 07 f0 00"
else
	fail "odd.vhd: block 1 sector bitmap starts '$bits', expected 07f000"
fi
if vhdimount -X allow_root "$dir/odd.vhd" "$mnt" >/dev/null 2>&1; then
	mounted=yes
	if cmp -s "$mnt/vhdi2" odd.raw; then
		ok "vhdimount odd.vhd: vhdi2 reads as odd.raw"
	else
		say "note: libvhdi misreads VHD bitmap byte f0 (known libvhdi bug)"
	fi
	fusermount3 -u "$mnt" && mounted=no
else
	fail "vhdimount odd.vhd does not mount"
fi
make_child vhdx parent.vhdx base.raw odd.raw odd.vhdx
check_mount odd.vhdx 2 base.raw odd.raw

# --- bad input is refused
if "$mk" --format vhd --parent base.raw --parent-raw base.raw \
	--new new.raw bad.vhd 2>/dev/null || [ -e bad.vhd ]; then
	fail "mkdiffdisk accepts a raw parent"
else
	ok "mkdiffdisk refuses a parent that is not VHD or VHDX"
fi

finish
