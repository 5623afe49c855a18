#!/bin/sh
# md-writer: prove the test-only md RAID writer (tests/tools/mkmd.py) with
# the real mdadm before any test relies on it.  For each metadata version
# (0.90, 1.0, 1.1, 1.2) and each level (RAID0, also over members of
# different sizes in both multi-zone layouts, RAID1, RAID5 in every layout,
# RAID10 n2 n3 f2 o2, a degraded RAID1 and RAID5), members are written,
# attached to loop devices and read back by `mdadm --examine` (every field
# against what was asked, the array size against `mkmd.py size`) and
# `mdadm --examine --scan` (one ARRAY line per array).  The data layout is
# checked without the writer's formulas: RAID1 (and RAID10 n3 on 3 disks)
# members hold the image, RAID0 (here, with dd, and cmp at byte offsets for
# the zones and both layouts, from raid0.c's formula written out below;
# 0.90, 1.0 and 1.2) and RAID10 n2 chunks lie
# where md(4) puts them, RAID5 members XOR to zero stripe by stripe and
# their chunks follow a table written by hand for 3 disks (a degraded
# RAID5's missing member rebuilt by XOR).  A corrupted superblock byte must
# make mdadm report a wrong checksum, and the writer must refuse what does
# not fit.  tests/integration/md-writer-check.py does the Python part.
. "$top_srcdir/tests/integration/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root: losetup"
need mdadm losetup python3 cmp dd truncate awk grep sed
mk="$top_srcdir/tests/tools/mkmd.py"
check="$top_srcdir/tests/integration/md-writer-check.py"
for f in "$mk" "$check"; do
	[ -f "$f" ] || { fail "$f is missing"; finish; }
done
# the interpreter itself, once: a version manager's python3 shim can cost a
# second a call
py=$(python3 -c 'import sys; print(sys.executable)') ||
	{ fail "python3"; finish; }

cd "$work" || finish
# Loop devices attached, by name; each is detached on the way out, also
# when a check fails half way.  Where the md driver exists, udev may
# assemble an array from them: such an array (ours alone) is stopped first.
loops=""
detach() {
	for l in "$@"; do
		for h in /sys/block/"${l#/dev/}"/holders/md*; do
			[ -e "$h" ] &&
				mdadm --stop "/dev/${h##*/}" >/dev/null 2>&1
		done
		losetup -d "$l" || fail "losetup -d $l"
		rest=""
		for x in $loops; do [ "$x" = "$l" ] || rest="$rest $x"; done
		loops=$rest
	done
}
# A signal can come between losetup attaching a device and its name being
# recorded: the devices backed by files in this test's own directory are
# found by their backing file then, and detached by name as well.
dir=$(pwd -P)
cleanup() {
	# shellcheck disable=SC2086
	[ -z "$loops" ] || detach $loops
	for l in $(losetup -n -l -O NAME,BACK-FILE |
		awk -v w="$dir/" 'index($2, w) == 1 { print $1 }'); do
		detach "$l"
	done
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
# attach FILE: a loop device for FILE in $l, recorded; 1 when none
attach() {
	l=$(losetup -f --show "$1") || { fail "losetup $1"; return 1; }
	loops="$loops $l"
}
# counted FILE: FILE's ok/FAIL lines shown and its failures counted
counted() {
	cat "$1"
	nf=$(grep -c '^FAIL' "$1")
	failures=$((failures + nf))
}

MIB=$((1024 * 1024))
# 4 MiB + 64 KiB: whole 512 KiB chunks, an even number of them, for every
# version (so mdadm's RAID10 size, n * size / copies, is md's too)
MEMBER=$((4160 * 1024))
head -c $((16 * 1024 * 1024)) /dev/urandom > random.bin

# chunks64 BYTES: how many 64 KiB chunks the data area of a member of BYTES
# holds for $meta (md rounds each member down to whole chunks): 1.1 and 1.2
# from the 1 MiB data offset to the end; 0.90 up to its superblock, the
# last 64 KiB-aligned 64 KiB; 1.0 up to the 4 KiB bad block log mdadm puts
# below the superblock, which lies 8 to 12 KiB from the end, 4 KiB-aligned
chunks64() {
	case $meta in
	1.1|1.2) echo $((($1 - MIB) / 65536)) ;;
	0.90) echo $(($1 / 65536 - 1)) ;;
	1.0) echo $(((($1 / 512 - 16) / 8 * 8 - 8) / 128)) ;;
	esac
}
# zones DIR LAYOUT SIZES: RAID0 over members of 4, 2 and 3 MiB (SIZES,
# by role), chunk 64 KiB, read back where raid0.c puts each chunk ($asize:
# the array's bytes, $skip0: its data offset in chunks).
# With u0, u1, u2 the members' chunks (u1 < u2 < u0), create_strip_zones
# makes zone 0 over roles 0 1 2 up to member chunk u1, zone 1 over the
# members larger than that, roles 0 2, from member chunk u1 up to u2, and
# zone 2 over role 0 from u2 up to u0.  Array chunk k in a zone that
# starts at array chunk Z, over n members from member chunk D: the member
# is the (k mod n)th of the zone (original: k counted in the array) or the
# ((k - Z) mod n)th (alternate: counted in the zone), at its chunk
# D + (k - Z) / n.  The array is the sum of the zones.
zones() {
	zd=$1 zl=$2
	[ "$zl" = - ] && zl=original	# mdadm 4.2's default
	# shellcheck disable=SC2046
	set -- $(echo "$3" | tr , ' ')
	u0=$(chunks64 "$1") u1=$(chunks64 "$2") u2=$(chunks64 "$3")
	z1=$((3 * u1)) z2=$((3 * u1 + 2 * (u2 - u1)))
	z3=$((z2 + u0 - u2))
	t="$meta raid0 $zl sizes $(($1 / 1024)),$(($2 / 1024)),$(($3 / 1024))"
	t="$t KiB"
	if [ $((asize / 65536)) = "$z3" ] && [ $((asize % 65536)) = 0 ]; then
		ok "$t: mkmd.py size = the sum of the zones, $z3 chunks"
	else
		fail "$t: mkmd.py size $asize, the zones $z3 chunks of 64 KiB"
	fi
	[ "$u1" -lt "$u2" ] && [ "$u2" -lt "$u0" ] ||
		fail "$t: the members are not 4, 2 and 3 MiB"
	[ $((u1 % 2)) = 1 ] ||
		fail "$t: zone 1 starts on an even chunk, the layouts agree"
	for k in 0 1 2 $((z1 - 1)) $z1 $((z1 + 1)) $((z1 + 2)) $((z2 - 1)) \
		$z2 $((z2 + 1)) $((z3 - 1)); do
		if [ "$k" -lt "$z1" ]; then zz=0 zn=3 zr="0 1 2" zs=0 dst=0
		elif [ "$k" -lt "$z2" ]; then zz=1 zn=2 zr="0 2" zs=$z1 dst=$u1
		else zz=2 zn=1 zr=0 zs=$z2 dst=$u2
		fi
		case $zl in
		original) i=$((k % zn)) ;;
		*) i=$(((k - zs) % zn)) ;;
		esac
		# shellcheck disable=SC2086
		set -- $zr
		shift "$i"
		role=$1 mc=$((dst + (k - zs) / zn))
		# the chunk of the image, or, past its end (the last chunk
		# only: the image stops 70000 bytes short), the zero padding;
		# compared in place by cmp (a process costs here)
		if [ $(((k + 1) * 65536)) -le $((asize - 70000)) ]; then
			src=$zd/image at=$((k * 65536))
		else
			src=/dev/zero at=0
		fi
		w="$t: chunk $k (zone $zz) on role $role at chunk $mc"
		if cmp -s -n 65536 -i "$at:$(((skip0 + mc) * 65536))" \
			"$src" "$zd/m$role"; then
			ok "$w"
		else
			fail "$w"
		fi
	done
}

# add LEVEL LAYOUT NDEV MISSING CHUNK [SIZES]: an array for this round (a
# line of specs: ID META LEVEL LAYOUT NDEV MISSING CHUNK [SIZES], "-" for the
# defaults and for no missing role; SIZES: RAID0 members' sizes by role)
id=0
add() { id=$((id + 1)); echo "$id $meta $*" >> specs; }
for meta in 0.90 1.0 1.1 1.2; do
	: > specs
	add 0 - 2 - 64
	add 1 - 2 - -
	add 1 - 3 1 -
	for lay in - left-asymmetric right-asymmetric left-symmetric \
		right-symmetric parity-first parity-last ddf-zero-restart \
		ddf-N-restart ddf-N-continue; do
		add 5 "$lay" 3 - -
	done
	add 5 - 3 2 -
	add 10 - 4 - -
	add 10 n3 3 - -
	add 10 f2 4 - -
	add 10 o2 4 - -
	# multi-zone RAID0 (not on 1.1: like 1.2 but for the superblock's
	# place; the time it would take): members of 4, 2 and 3 MiB, by role
	# (the smallest not first, zone 1 over roles 0 and 2); on 1.2 64 KiB
	# more each, so that, after its 1 MiB data offset, the smallest data
	# area holds an odd number of 64 KiB chunks as on 0.90 and 1.0: zone 1
	# then starts on an odd array chunk, where the two layouts differ
	case $meta in 1.2) x=65536 ;; *) x=0 ;; esac
	zsizes=$((4 * MIB + x)),$((2 * MIB + x)),$((3 * MIB + x))
	if [ "$meta" != 1.1 ]; then
		add 0 original 3 - 64 "$zsizes"
		add 0 alternate 3 - 64 "$zsizes"
	fi
	# the default (mdadm 4.2: original); 0.90 must be told
	[ "$meta" = 1.2 ] && add 0 - 3 - 64 "$zsizes"

	"$py" "$check" make "$mk" specs random.bin "$MEMBER" > make.log 2>&1 ||
		grep -q '^FAIL' make.log || fail "$meta: md-writer-check make"
	counted make.log

	# each array's members on loop devices, read by mdadm
	while read -r a _ level lay n missing _ sizes; do
		d=arr$a devs=""
		r=0
		while [ "$r" -lt "$n" ]; do
			if [ "$r" != "$missing" ] && attach "$d/m$r"; then
				mdadm --examine "$l" </dev/null \
					> "$d/examine.$r" 2>&1
				devs="$devs $l"
			fi
			r=$((r + 1))
		done
		# shellcheck disable=SC2086
		mdadm --examine --scan $devs > "$d/scan" 2>&1
		# shellcheck disable=SC2086
		detach $devs
		# RAID0, 2 members, chunk C: array chunk k is chunk k/2 of
		# member k%2 (the data areas start 1 MiB in on 1.1 and 1.2)
		[ "$level" = 0 ] || continue
		case $meta in 1.1|1.2) skip0=16 ;; *) skip0=0 ;; esac
		asize=$(cat "$d/size") || { fail "$d: no size"; continue; }
		if [ -n "$sizes" ]; then
			zones "$d" "$lay" "$sizes"
			continue
		fi
		last=$((asize / 65536 - 1))
		for k in 0 1 2 5 $last; do
			dd if="$d/image" of="$d/want" bs=64K skip="$k" count=1 \
				status=none
			truncate -s 64K "$d/want"	# the zero padding
			dd if="$d/m$((k % 2))" of="$d/got" bs=64K count=1 \
				skip=$((skip0 + k / 2)) status=none
			w="$meta raid0: chunk $k on member $((k % 2))"
			if cmp -s "$d/want" "$d/got"; then ok "$w"
			else fail "$w"; fi
		done
	done < specs

	"$py" "$check" examine specs "$MEMBER" > examine.log 2>&1 ||
		grep -q '^FAIL' examine.log ||
		fail "$meta: md-writer-check examine"
	counted examine.log
	rm -rf arr*
done

# flip_bit FILE OFFSET: one bit of FILE's byte at OFFSET changes
flip_bit() {
	"$py" -c '
import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(int(sys.argv[2]))
    b = f.read(1)[0] ^ 1
    f.seek(int(sys.argv[2]))
    f.write(bytes([b]))' "$1" "$2"
}
# A corrupted superblock must read as such: mdadm reports the checksum it
# expected (so a wrong checksum in the writer could not pass unseen)
u=0badc0de-0000-4000-8000-000000000001
for meta in 0.90 1.0 1.2; do
	t="$meta corrupted superblock"
	truncate -s "$MEMBER" c0 c1
	"$py" "$mk" create --level 1 --metadata "$meta" --uuid $u --name bad \
		c0 c1 || fail "$t: create"
	case $meta in
	0.90) off=$(( (MEMBER / 65536 - 1) * 65536 + 24 )) ;;	# ctime
	1.0) off=$(( (MEMBER / 512 - 16) / 8 * 8 * 512 + 40 )) ;;	# name
	1.2) off=$((4096 + 40)) ;;
	esac
	flip_bit c1 "$off"
	for r in 0 1; do
		attach "c$r" || continue
		mdadm --examine "$l" > "x$r" 2>&1
		detach "$l"
		c=$(sed -n 's/^ *Checksum : //p' "x$r")
		case $r:$c in
		0:*" - correct"|1:*" - expected "*) ok "$t: role $r: $c" ;;
		*) fail "$t: role $r: checksum '$c'" ;;
		esac
	done
	rm -f c0 c1 x0 x1
done

# Refusals: exit 1, a message, nothing on standard output and the members
# untouched
mkdir refuse
truncate -s "$MEMBER" refuse/m0 refuse/m1 refuse/m2 refuse/m3 refuse/zero
size=$("$py" "$mk" size --level 5 --raid-devices 3 --member-size "$MEMBER") ||
	fail "mkmd.py size"
head -c $((size + 1)) random.bin > refuse/big
head -c 4096 random.bin > refuse/small
refused() {
	"$py" "$mk" "$@" > refuse/out 2> refuse/err
	st=$?
	if [ "$st" = 1 ] && [ -s refuse/err ] && [ ! -s refuse/out ] &&
		cmp -s refuse/zero refuse/m0; then
		ok "refused: $(cat refuse/err)"
	else
		fail "mkmd.py $*: exit $st, out '$(cat refuse/out)'," \
			"err '$(cat refuse/err)'"
	fi
}
u=0badc0de-0000-4000-8000-000000000002
refused create --level 5 --metadata 1.2 --uuid $u --name big \
	--data refuse/big refuse/m0 refuse/m1 refuse/m2
refused create --level 10 --layout f2 --metadata 1.2 --uuid $u --name f2 \
	--data refuse/small refuse/m0 refuse/m1 refuse/m2 refuse/m3
refused create --level 5 --metadata 1.2 --uuid $u --name two \
	refuse/m0 missing missing
refused create --level 0 --metadata 1.2 --uuid $u --name r0 refuse/m0 missing
refused create --level 1 --metadata 0.90 --uuid $u --name r1 \
	--data-offset 8 refuse/m0 refuse/m1
# members of different sizes: RAID0 only, and on 0.90 (which records no
# RAID0 layout) only with --layout
truncate -s $((MEMBER + MIB)) refuse/more
refused create --level 5 --metadata 1.2 --uuid $u --name r5 \
	refuse/m0 refuse/m1 refuse/more
refused create --level 0 --metadata 0.90 --uuid $u --name r0 \
	refuse/m0 refuse/more
refused create --level 0 --layout sideways --metadata 1.2 --uuid $u \
	--name r0 refuse/m0 refuse/more
refused size --level 0 --raid-devices 3 --member-size "$MEMBER,$MEMBER"
# one byte less than the refused image fills the array exactly
head -c "$size" random.bin > refuse/exact
if "$py" "$mk" create --level 5 --metadata 1.2 --uuid $u --name fits \
	--data refuse/exact refuse/m0 refuse/m1 refuse/m2; then
	ok "an image of exactly the array's size is written"
else
	fail "an image of exactly the array's size is refused"
fi
rm -rf refuse random.bin specs make.log examine.log
finish
