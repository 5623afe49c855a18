#!/bin/sh
# export returns each partition's exact bytes, from raw, fixed VHD, dynamic
# VHD and VHDX containers (made by qemu-img) and from differencing VHD/VHDX
# chains (made by the test-only writer), for GPT and MBR disks (made by
# sgdisk/sfdisk and mkfs); info's kinds agree with blkid.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/disks.sh"
need sgdisk sfdisk partx qemu-img mkfs.fat mkntfs mkfs.ext4 mkfs.xfs mkswap jq blkid

cd "$work"
make_gpt_disk gpt.raw
make_mbr_disk mbr.raw

# check_exports IMAGE RAW: every partition of RAW, exported from IMAGE
check_exports() {
	img=$1 raw=$2
	for n in $(partx -g -o NR "$raw"); do
		set -- $(part_range "$raw" "$n")
		# an extended partition container is not a volume
		[ "$(partx -g -o TYPE -n "$n" "$raw" | tr -d " ")" = 0x5 ] && continue
		dd if="$raw" of=want bs=512 skip="$1" count="$2" status=none
		rm -f got
		if ! timeout 120 "$VHDUNLOCK" export "$img" "p$n" got 2>err; then
			fail "$img p$n: export failed: $(cat err)"
		elif cmp -s want got; then
			ok "$img p$n: $2 sectors identical"
		else
			fail "$img p$n: exported bytes differ from the partition"
		fi
	done
	rm -f got
	"$VHDUNLOCK" export "$img" disk got 2>err && cmp -s "$raw" got &&
		ok "$img: whole disk identical" ||
		fail "$img: whole-disk export differs: $(cat err)"
	rm -f want got
}

for raw in gpt.raw mbr.raw; do
	for fmt in raw vhd-fixed vhd-dynamic vhdx; do
		img="${raw%.raw}.$fmt"
		to_container "$raw" "$fmt" "$img"
		check_exports "$img" "$raw"
	done
done

# --threads: 1 (the plain loop), 2 and 7 readers give the same bytes as the
# partition cut out of the raw disk with dd, to a file and to stdout; from
# a dynamic VHDX (p4: 5 chunks of 4 MiB; disk: 16) and from a bare image
# whose size is no multiple of the chunk, with a zero stretch that must
# become a hole in a file.
head -c $((29 * 1048576 + 1536)) /dev/urandom > odd.raw
dd if=/dev/zero of=odd.raw bs=1M seek=4 count=12 conv=notrunc status=none
# check_threads IMAGE VOLUME WANT
check_threads() {
	for t in 1 2 7; do
		rm -f got
		if ! "$VHDUNLOCK" export "$1" "$2" got --threads "$t" 2>err; then
			fail "$1 $2 --threads $t: export failed: $(cat err)"
		elif cmp -s "$3" got; then
			ok "$1 $2 --threads $t: file identical"
		else
			fail "$1 $2 --threads $t: file differs from the reference"
		fi
		if "$VHDUNLOCK" export "$1" "$2" - --threads "$t" 2>err | cmp -s "$3" -; then
			ok "$1 $2 --threads $t: stdout identical"
		else
			fail "$1 $2 --threads $t: stdout differs: $(cat err)"
		fi
	done
}
set -- $(part_range gpt.raw 4)
dd if=gpt.raw of=want bs=512 skip="$1" count="$2" status=none
check_threads gpt.vhdx p4 want
check_threads gpt.vhdx disk gpt.raw
check_threads odd.raw disk odd.raw
# the 12 MiB of zeros of the last copy (7 threads) were not written
[ $(($(stat -c %b got) * $(stat -c %B got))) -lt $((20 * 1048576)) ] &&
	ok "--threads 7: zero chunks left as holes" ||
	fail "--threads 7: $(stat -c %b got) blocks for $(stat -c %s got) bytes: no holes"
rm -f want got

for t in 0 -1 x 65 2x ''; do
	"$VHDUNLOCK" export odd.raw disk got --threads "$t" 2>err
	rc=$?
	if [ $rc -eq 2 ] && [ ! -e got ] &&
		grep -qF -- "--threads: expected a number from 1 to 64, got '$t'" err; then
		ok "--threads '$t' refused: $(head -n 1 err)"
	else
		fail "--threads '$t': exit $rc, $(cat err)"
	fi
done

# With readers at work, a failed read (once, or every read from then on: a
# disk gone away) or a failed write ends the export: exit 1, the failure's
# own message, no thread left to hang the exit, and no OUT left behind.
fv=$top_builddir/tests/tools/vhdunlock-faults
VHDUNLOCK_TEST_READ_COUNT="$work/count" "$fv" export odd.raw disk - --threads 7 >/dev/null
reads=$(cut -d' ' -f2 count)
# a read near the end: after the opening reads and the first chunks
n=$((reads - 3))
for mode in "$n" "$n+"; do
	rm -f got
	VHDUNLOCK_TEST_FAIL_READ=$mode timeout 60 "$fv" export odd.raw disk got --threads 7 2>err
	rc=$?
	[ $rc -eq 1 ] && grep -q "injected read fault at offset" err && [ ! -e got ] &&
		ok "--threads 7, read $mode of $reads fails: $(cat err)" ||
		fail "--threads 7, read $mode of $reads fails: exit $rc, out $(ls got 2>&1), $(cat err)"
done
timeout 60 "$VHDUNLOCK" export odd.raw disk - --threads 7 >/dev/full 2>err
rc=$?
[ $rc -eq 1 ] && grep -q -- "-: write failed" err &&
	ok "--threads 7, write fails: $(cat err)" || fail "--threads 7 to /dev/full: exit $rc, $(cat err)"
rm -f odd.raw count

# info --json: container format/type, table, and kinds that match blkid
# run on the partitions of the raw disk.
"$VHDUNLOCK" info --json gpt.vhd-fixed > info.json || fail "info --json failed"
[ "$(jq -r .container.format info.json)/$(jq -r .container.type info.json)" = vhd/fixed ] &&
	ok "fixed VHD detected by content" || fail "container: $(jq -c .container info.json)"
[ "$(jq -r .partition_table.type info.json)" = gpt ] || fail "table type"
[ "$(jq -r .partition_table.disk_guid info.json)" = "$(sgdisk -p gpt.raw | sed -n 's/^Disk identifier (GUID): //p' | tr A-Z a-z)" ] &&
	ok "disk GUID matches sgdisk" || fail "disk GUID differs from sgdisk's"
for n in 1 2 3 4; do
	set -- $(part_range gpt.raw "$n")
	dd if=gpt.raw of=part bs=512 skip="$1" count="$2" status=none
	want=$(blkid -p -o value -s TYPE part)
	case $want in vfat) want=fat ;; esac
	got=$(jq -r ".volumes[] | select(.id == \"p$n\") | .kind" info.json)
	[ "$got" = "$want" ] && ok "p$n kind $got as blkid" ||
		fail "p$n kind $got, blkid says $want"
	wl=$(blkid -p -o value -s LABEL part || true)
	gl=$(jq -r ".volumes[] | select(.id == \"p$n\") | .label" info.json)
	[ "$gl" = "$wl" ] || fail "p$n label '$gl', blkid says '$wl'"
	wu=$(blkid -p -o value -s UUID part || true)
	gu=$(jq -r ".volumes[] | select(.id == \"p$n\") | .uuid" info.json)
	[ "$gu" = "$wu" ] || fail "p$n uuid '$gu', blkid says '$wu'"
	gs=$(jq -r ".volumes[] | select(.id == \"p$n\") | .start" info.json)
	[ "$gs" = $(($1 * 512)) ] || fail "p$n start $gs, expected $(($1 * 512))"
	gname=$(jq -r ".volumes[] | select(.id == \"p$n\") | .gpt_name" info.json)
	wname=$(sgdisk -i "$n" gpt.raw | sed -n "s/^Partition name: '\(.*\)'$/\1/p")
	[ "$gname" = "$wname" ] || fail "p$n GPT name '$gname', sgdisk says '$wname'"
done
[ "$(jq -r '.volumes[] | select(.id == "p6") | .kind' info.json)" = unknown ] ||
	fail "random partition is not unknown"
jq -e '.volumes | map(.id) == ["p1","p2","p3","p4","p6"]' info.json >/dev/null &&
	ok "GPT ids keep slot numbers (no p5)" || fail "ids: $(jq -c '.volumes | map(.id)' info.json)"

"$VHDUNLOCK" info --json mbr.vhdx > info.json || fail "info --json (mbr vhdx) failed"
[ "$(jq -r .container.format info.json)/$(jq -r .container.type info.json)" = vhdx/dynamic ] ||
	fail "vhdx container: $(jq -c .container info.json)"
jq -e '.volumes | map(.id) == ["p1","p3","p5","p6","p7"]' info.json >/dev/null &&
	ok "MBR ids: primaries, logicals from p5" || fail "MBR ids: $(jq -c '.volumes | map(.id)' info.json)"
jq -e '.volumes | map(.kind) == ["ext4","ntfs","fat","ext2","swap"]' info.json >/dev/null &&
	ok "MBR kinds" || fail "MBR kinds: $(jq -c '.volumes | map(.kind)' info.json)"
[ "$(jq -r .partition_table.disk_signature info.json)" = 5eed1e55 ] || fail "MBR signature"

# No table: a bare file system is volume 'disk', not an MBR.
fs_image ntfs 20480 bare.ntfs
"$VHDUNLOCK" info --json bare.ntfs > info.json &&
	[ "$(jq -r .partition_table.type info.json)" = none ] &&
	[ "$(jq -r '.volumes[0].id + " " + .volumes[0].kind' info.json)" = "disk ntfs" ] &&
	ok "bare NTFS: volume disk, no table" || fail "bare NTFS: $(jq -c . info.json)"
fs_image fat16 20480 bare.fat
"$VHDUNLOCK" info --json bare.fat > info.json &&
	[ "$(jq -r '.volumes[0].id + " " + .volumes[0].kind' info.json)" = "disk fat" ] &&
	ok "bare FAT: volume disk" || fail "bare FAT: $(jq -c . info.json)"

# Differencing chains: base <- diff1 <- diff2, for VHD and VHDX.
mkdiff="$top_builddir/tests/tools/mkdiffdisk"
cp gpt.raw new1.raw
dd if=/dev/urandom of=new1.raw bs=512 seek=30000 count=3 conv=notrunc status=none
dd if=/dev/urandom of=new1.raw bs=1M seek=20 count=2 conv=notrunc status=none
cp new1.raw new2.raw
dd if=/dev/urandom of=new2.raw bs=512 seek=2100 count=1 conv=notrunc status=none
dd if=/dev/urandom of=new2.raw bs=1M seek=40 count=1 conv=notrunc status=none
for fmt in vhd vhdx; do
	mkdir -p "chain-$fmt"
	case $fmt in
	vhd) to_container gpt.raw vhd-dynamic "chain-$fmt/base.$fmt" ;;
	vhdx) to_container gpt.raw vhdx "chain-$fmt/base.$fmt" ;;
	esac
	"$mkdiff" --format "$fmt" --parent "chain-$fmt/base.$fmt" --parent-raw gpt.raw \
		--new new1.raw "chain-$fmt/diff1.$fmt" &&
	"$mkdiff" --format "$fmt" --parent "chain-$fmt/diff1.$fmt" --parent-raw new1.raw \
		--new new2.raw "chain-$fmt/diff2.$fmt" || { fail "mkdiffdisk $fmt"; continue; }
	check_exports "chain-$fmt/diff1.$fmt" new1.raw
	check_exports "chain-$fmt/diff2.$fmt" new2.raw
	"$VHDUNLOCK" info --json "chain-$fmt/diff2.$fmt" > info.json
	jq -e '.container.type == "differencing" and (.container.chain | length) == 3' info.json >/dev/null &&
		ok "$fmt chain of 3 reported" || fail "$fmt chain: $(jq -c .container info.json)"
	# The parent is found relative to the child's folder, from anywhere.
	(cd / && "$VHDUNLOCK" export "$work/chain-$fmt/diff2.$fmt" p4 "$work/p4.out") &&
		ok "$fmt: parents found from another working directory" ||
		fail "$fmt: export from another working directory"
	rm -f p4.out
	# A missing parent is an error naming the path looked for.
	mv "chain-$fmt/base.$fmt" "chain-$fmt/moved"
	if "$VHDUNLOCK" info "chain-$fmt/diff2.$fmt" >/dev/null 2>err; then
		fail "$fmt: missing parent not detected"
	elif [ $? -eq 1 ] && grep -q "base.$fmt" err && grep -q "not found" err; then
		ok "$fmt: missing parent: $(cat err)"
	else
		fail "$fmt: missing parent message: $(cat err)"
	fi
	# A parent that is not the one the child was made from is refused.
	case $fmt in
	vhd) to_container mbr.raw vhd-dynamic "chain-$fmt/base.$fmt" ;;
	vhdx) to_container mbr.raw vhdx "chain-$fmt/base.$fmt" ;;
	esac
	if "$VHDUNLOCK" info "chain-$fmt/diff1.$fmt" >/dev/null 2>err; then
		fail "$fmt: replaced parent not detected"
	elif grep -q "identifier" err && grep -q "expects" err; then
		ok "$fmt: replaced parent: $(cat err)"
	else
		fail "$fmt: replaced parent message: $(cat err)"
	fi
	mv "chain-$fmt/moved" "chain-$fmt/base.$fmt"
done

finish
