#!/bin/sh
# bitlocker-writer: prove the test-only BitLocker writer (tests/tools/mkbitlk)
# with three independent implementations before any test relies on it:
# dislocker (dislocker-file), libbde (bdemount, bdeinfo) and cryptsetup
# (bitlkDump).  A small NTFS made by mkntfs, with files put in by ntfscp, is
# encrypted with each method; every volume must decrypt to exactly that NTFS
# image with the startup key (.BEK) and with the recovery password, the
# clear-key variant without any key, and the partly encrypted variant to the
# original content.  Where an installed tool cannot handle a case (Debian 12:
# libbde 20190102 has no XTS-AES-256, cryptsetup 2.6.1 does not unlock a clear
# key, dislocker shows a partly encrypted volume only up to its encrypted
# size), the script says so in a note and the other tools carry the case.
. "$top_srcdir/tests/integration/lib.sh"

[ -c /dev/fuse ] || skip "/dev/fuse is missing (bdemount needs FUSE)"
need mkntfs ntfscp dislocker-file bdemount bdeinfo fusermount3 cryptsetup \
	cmp od perl stat grep sed tr
# MKBITLK may name another build of the tool (say, one with sanitizers)
mk=${MKBITLK:-$top_builddir/tests/tools/mkbitlk}
[ -x "$mk" ] || { fail "$mk not built"; finish; }

cd "$work"
dir=$(pwd -P)
mnt="$dir/mnt"
mkdir "$mnt"
mounted=no
cleanup() { [ "$mounted" = no ] || fusermount3 -u "$mnt" 2>/dev/null || :; }
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

note() { printf 'note: %s\n' "$*"; }
hexof() { od -An -tx1 -v "$1" | tr -d ' \n'; }
size_of() { stat -c %s "$1"; }
# field NAME FILE: a key=value line of mkbitlk's report
field() { sed -n "s/^$1=//p" "$2"; }

# --- the plain NTFS: 48 MiB, a few files (one 3 MiB, non-resident data)
truncate -s 48M plain.ntfs
if ! mkntfs -F -Q -q -L WRITERTEST plain.ntfs >mkntfs.log 2>&1; then
	fail "mkntfs: $(cat mkntfs.log)"
	finish
fi
head -c 3145728 /dev/urandom >random.bin
seq 1 60000 >numbers.txt
yes 'MKBITLK PLAINTEXT MARKER' | head -n 3000 >marker.txt
printf 'small resident file\n' >small.txt
for f in random.bin numbers.txt marker.txt small.txt; do
	ntfscp plain.ntfs "$f" "$f" >ntfscp.log 2>&1 ||
		fail "ntfscp $f: $(cat ntfscp.log)"
done
plain=plain.ntfs
full=$(size_of plain.ntfs)
grep -q 'MKBITLK PLAINTEXT MARKER' plain.ntfs ||
	fail "plain.ntfs: the marker file is not in the image"

# compare LABEL FILE MIN: FILE (a decrypted view) must read exactly as
# $plain ($full bytes); a view shorter than the volume (not below MIN bytes) must match
# its length of it
compare() {
	label=$1 file=$2 min=$3
	if [ ! -f "$file" ]; then
		fail "$label: no decrypted view"
		return 1
	fi
	got=$(size_of "$file")
	if [ "$got" -lt "$min" ] || [ "$got" -gt "$full" ]; then
		fail "$label: decrypted view has $got bytes, expected $min..$full"
		return 1
	fi
	if cmp -n "$got" "$file" "$plain" >/dev/null 2>&1; then
		if [ "$got" -eq "$full" ]; then
			ok "$label: decrypts to the original NTFS image"
		else
			ok "$label: its $got-byte view matches the original"
		fi
		return 0
	fi
	fail "$label: decrypted view differs from the original NTFS image"
	return 1
}

# dislocker NAME LABEL MIN DECRYPT-OPTION...: dislocker-file's view of NAME.img
dislocker() {
	name=$1 label=$2 min=$3
	shift 3
	rm -f "$name.dis"
	if dislocker-file -V "$name.img" "$@" -- "$name.dis" \
		>"$name.dis.log" 2>&1; then
		compare "dislocker $name ($label)" "$name.dis" "$min"
	else
		fail "dislocker $name ($label): $(tail -n 3 "$name.dis.log")"
	fi
	rm -f "$name.dis"
}

# bde NAME LABEL MIN OPTION...: bdemount's bde1 of NAME.img; returns 2 if
# libbde cannot open the volume at all
bde() {
	name=$1 label=$2 min=$3
	shift 3
	if ! bdemount "$@" "$name.img" "$mnt" >"$name.bde.log" 2>&1; then
		return 2
	fi
	mounted=yes
	compare "bdemount $name ($label)" "$mnt/bde1" "$min"
	fusermount3 -u "$mnt" && mounted=no
	return 0
}

# cs_key NAME LABEL [KEYFILE]: the volume key cryptsetup dumps (stdin is the
# passphrase when KEYFILE is -) must be the FVEK mkbitlk wrote
cs_key() {
	name=$1 label=$2
	rm -f "$name.vk"
	if cryptsetup bitlkDump --dump-volume-key --volume-key-file "$name.vk" \
		--key-file "$3" --batch-mode "$name.img" >"$name.cs.log" 2>&1 &&
		[ "$(hexof "$name.vk")" = "$(field fvek "$name.out")" ]; then
		ok "cryptsetup $name ($label): volume key is the FVEK written"
		return 0
	fi
	fail "cryptsetup $name ($label): volume key $(hexof "$name.vk" \
		2>/dev/null) != $(field fvek "$name.out"): \
$(tail -n 2 "$name.cs.log")"
	return 1
}

# encrypt NAME METHOD [OPTION...]: NAME.img, NAME.bek/, NAME.rp, NAME.out
encrypt() {
	name=$1 method=$2
	shift 2
	mkdir "$name.bek"
	if ! "$mk" --method "$method" --bek-dir "$name.bek" \
		--recovery-password-file "$name.rp" "$@" "$plain" "$name.img" \
		>"$name.out" 2>"$name.err"; then
		fail "mkbitlk $name: $(cat "$name.err")"
		return 1
	fi
	ok "mkbitlk --method $method${*:+ $*} $plain -> $name.img"
	rp=$(cat "$name.rp")
	[ "$rp" = "$(field recovery_password "$name.out")" ] ||
		fail "$name: recovery password file and report differ"
	# 8 groups of 6 digits, each 11 times a 16-bit value
	if printf '%s\n' "$rp" | grep -Eq '^([0-9]{6}-){7}[0-9]{6}$'; then
		for g in $(printf '%s' "$rp" | sed 's/-/ /g'); do
			g=$(printf '%s' "$g" | sed 's/^0*//')
			g=${g:-0}
			if [ $((g % 11)) -ne 0 ] || [ "$g" -gt 720885 ]; then
				fail "$name: recovery password group $g invalid"
			fi
		done
	else
		fail "$name: recovery password '$rp' is malformed"
	fi
	skguid=$(field startup_key_guid "$name.out")
	bek="$name.bek/$(printf '%s' "$skguid" | tr a-f A-F).BEK"
	if [ -f "$bek" ] && [ "$(size_of "$bek")" -eq 156 ]; then
		ok "$name: startup key file $(basename "$bek") (156 bytes)"
	else
		fail "$name: no 156-byte startup key file $bek: $(ls "$name.bek")"
	fi
	return 0
}

# dump_check NAME MODE KEYBITS [CLEARKEY]: what cryptsetup bitlkDump lists
dump_check() {
	name=$1
	if ! cryptsetup bitlkDump "$name.img" >"$name.dump" 2>&1; then
		fail "cryptsetup bitlkDump $name: $(cat "$name.dump")"
		return
	fi
	d="$name.dump"
	bad=
	grep -Eq "^GUID:[[:space:]]+$(field volume_guid "$name.out")\$" "$d" ||
		bad="$bad volume-GUID"
	grep -Eq "^Cipher mode:[[:space:]]+$2\$" "$d" || bad="$bad mode"
	grep -Eq "^Cipher key:[[:space:]]+$3 bits\$" "$d" || bad="$bad key-size"
	grep -Eq "^Sector size:[[:space:]]+$(field sector_size "$name.out") " \
		"$d" || bad="$bad sector-size"
	grep -Eq "^Volume size:[[:space:]]+$(field encrypted_size "$name.out") " \
		"$d" || bad="$bad encrypted-size"
	for p in "startup_key_guid:startup key" \
		"recovery_key_guid:recovery passphrase" \
		${4:+"clear_key_guid:clear key"}; do
		g=$(field "${p%%:*}" "$name.out")
		grep -A1 -E "GUID:[[:space:]]+$g\$" "$d" |
			grep -q "VMK protected with ${p#*:}\$" ||
			bad="$bad protector(${p#*:})"
	done
	n=$(grep -c 'VMK protected with' "$d")
	want=2
	[ -z "${4:-}" ] || want=3
	[ "$n" -eq "$want" ] || bad="$bad protector-count($n)"
	for o in $(field metadata_offsets "$name.out" | tr , ' ') \
		$(field volume_header_offset "$name.out"); do
		grep -Eq "Offset:[[:space:]]+$o \[bytes\]" "$d" ||
			bad="$bad offset-$o"
	done
	if [ -n "$bad" ]; then
		fail "cryptsetup bitlkDump $name: wrong or missing:$bad"
	else
		ok "cryptsetup bitlkDump $name: GUID, $2 ($3-bit key)," \
			"protectors and metadata offsets as written"
	fi
}

# fvek_via_dislocker NAME METHOD-ID: cryptsetup's volume key (NAME.vk) drives
# a whole-volume decryption through dislocker's FVEK-file option
fvek_via_dislocker() {
	perl -e 'my $k = pack("H*", $ARGV[1]);
		print pack("v", hex($ARGV[0])), $k, "\0" x (64 - length $k)' \
		"$2" "$(hexof "$1.vk")" >"$1.fvekfile"
	dislocker "$1" "cryptsetup's key as FVEK file" "$full" -k "$1.fvekfile"
}

# full_volume NAME METHOD MODE KEYBITS METHOD-ID: every check of a fully
# encrypted volume
full_volume() {
	name=$1
	encrypt "$name" "$2" || return
	if grep -q 'MKBITLK PLAINTEXT MARKER' "$name.img"; then
		fail "$name: plaintext left in the encrypted volume"
	fi
	rp=$(cat "$name.rp")
	dislocker "$name" "startup key" "$full" -f "$bek"
	dislocker "$name" "recovery password" "$full" -p"$rp"
	rm -f "$name.bad"
	if dislocker-file -V "$name.img" \
		-p111111-111111-111111-111111-111111-111111-111111-111111 \
		-- "$name.bad" >/dev/null 2>&1 &&
		cmp -s "$name.bad" "$plain"; then
		fail "dislocker $name: a wrong recovery password decrypts"
	else
		ok "dislocker $name: a wrong recovery password is refused"
	fi
	rm -f "$name.bad"
	bde "$name" "startup key" "$full" -s "$bek"
	if [ $? -eq 2 ]; then
		if [ "$2" = xts-256 ] &&
			grep -q 'tweak key value too small' "$name.bde.log"; then
			note "libbde $(bdemount -V 2>&1 | sed -n 's/^bdemount //p;q') cannot open XTS-AES-256 volumes ('invalid tweak key value too small'); dislocker and cryptsetup carry $name"
		else
			fail "bdemount $name: $(tail -n 3 "$name.bde.log")"
		fi
	else
		bde "$name" "recovery password" "$full" -r "$rp" ||
			fail "bdemount $name (recovery password): $(tail -n 3 \
				"$name.bde.log")"
		if bdeinfo -s "$bek" "$name.img" >"$name.info" 2>&1 &&
			grep -q 'Startup key' "$name.info" &&
			grep -q 'Recovery password' "$name.info"; then
			ok "bdeinfo $name: startup key and recovery password protectors"
		else
			fail "bdeinfo $name: $(tail -n 5 "$name.info")"
		fi
	fi
	dump_check "$name" "$3" "$4"
	cs_key "$name" "startup key" "$bek" &&
		fvek_via_dislocker "$name" "$5"
	# the recovery password on standard input, without a newline
	printf '%s' "$rp" >"$name.rp-stdin"
	cs_key "$name" "recovery password" - <"$name.rp-stdin"
	printf '111111-111111-111111-111111-111111-111111-111111-111111' \
		>"$name.rp-bad"
	if cryptsetup bitlkDump --dump-volume-key --volume-key-file \
		"$name.vk-bad" --key-file - --batch-mode "$name.img" \
		<"$name.rp-bad" >/dev/null 2>&1; then
		fail "cryptsetup $name: a wrong recovery password gives a key"
	else
		ok "cryptsetup $name: a wrong recovery password is refused"
	fi
	rm -rf "$name.img" "$name.vk" "$name.vk-bad" "$name.fvekfile"
}

full_volume xts128 xts-128 xts-plain64 256 0x8004
full_volume xts256 xts-256 xts-plain64 512 0x8005
full_volume cbc128 cbc-128 cbc-eboiv 128 0x8002

# --- 4096-byte sectors (and clusters)
truncate -s 40M plain4k.ntfs
if mkntfs -F -Q -q -s 4096 -c 4096 -L WRITER4K plain4k.ntfs \
	>mkntfs4k.log 2>&1 && ntfscp plain4k.ntfs random.bin random.bin \
	>ntfscp.log 2>&1 && ntfscp plain4k.ntfs marker.txt marker.txt \
	>ntfscp.log 2>&1; then
	plain=plain4k.ntfs full=$(size_of plain4k.ntfs)
	full_volume xts128-4k xts-128 xts-plain64 256 0x8004
	[ "$(field sector_size xts128-4k.out)" = 4096 ] ||
		fail "xts128-4k: sector size $(field sector_size xts128-4k.out)"
	plain=plain.ntfs full=$(size_of plain.ntfs)
else
	fail "4K NTFS: $(cat mkntfs4k.log ntfscp.log)"
fi

# --- protection suspended: a clear-key protector; no key needed
name=clear
if encrypt clear xts-128 --clear-key --description 'WRITER-TEST F: 1/2/2024'
then
	dislocker clear "clear key, no key given" "$full" -c
	if bde clear "clear key, no key given" "$full"; then :; else
		fail "bdemount clear (no key): $(tail -n 3 clear.bde.log)"
	fi
	dump_check clear xts-plain64 256 clearkey
	grep -Eq '^Description:[[:space:]]+WRITER-TEST F: 1/2/2024$' clear.dump &&
		ok "cryptsetup bitlkDump clear: the description given" ||
		fail "cryptsetup bitlkDump clear: description $(grep \
			'^Description' clear.dump)"
	# cryptsetup 2.6.1 reads the clear-key protector but will not unlock
	# with it; a version that does must give the FVEK
	rm -f clear.vk
	if cryptsetup bitlkDump --dump-volume-key --volume-key-file clear.vk \
		--batch-mode clear.img </dev/null >clear.cs.log 2>&1; then
		[ "$(hexof clear.vk)" = "$(field fvek clear.out)" ] &&
			ok "cryptsetup clear: clear key gives the FVEK written" ||
			fail "cryptsetup clear: clear key gives another key"
	else
		note "cryptsetup $(cryptsetup --version | cut -d' ' -f2) does not unlock a clear key ('$(tail -n 1 clear.cs.log)'); it lists the protector, dislocker and libbde open the volume"
	fi
	cs_key clear "startup key" "$bek"
	rm -f clear.img
fi

# --- conversion in progress: only the first 24 MiB encrypted
part=$((24 * 1024 * 1024))
name=partial
if encrypt partial cbc-128 --partial "$part"; then
	[ "$(field encrypted_size partial.out)" = "$part" ] ||
		fail "partial: encrypted size $(field encrypted_size partial.out)"
	# the tail past the encrypted size is the original, apart from the
	# FVE metadata blocks that lie there
	tail_same=$(cmp -l -i "$part" partial.img plain.ntfs 2>/dev/null |
		wc -l)
	in_meta=0
	for o in $(field metadata_offsets partial.out | tr , ' '); do
		[ "$o" -ge "$part" ] && in_meta=$((in_meta + 65536))
	done
	cmp -s -i "$((full - 512))" partial.img plain.ntfs ||
		fail "partial: the last sector is not the original's"
	if [ "$tail_same" -le "$in_meta" ]; then
		ok "partial: past $part bytes only FVE metadata differs ($tail_same bytes)"
	else
		fail "partial: $tail_same bytes past $part differ from the original"
	fi
	# dislocker shows a partly encrypted volume only up to its encrypted
	# size (it takes that as the volume size)
	dislocker partial "startup key" "$part" -f "$bek"
	dislocker partial "recovery password" "$part" -p"$(cat partial.rp)"
	note "dislocker presents a partly encrypted volume only up to its encrypted size ($part of $full bytes); libbde checks the rest"
	# libbde takes the volume size from the NTFS boot sector, which leaves
	# out the last sector (the backup boot sector) here
	bde partial "startup key" "$((full - 512))" -s "$bek" ||
		fail "bdemount partial: $(tail -n 3 partial.bde.log)"
	note "libbde sizes a partly encrypted volume by its NTFS boot sector, one sector short of the volume (the backup boot sector); the last sector is checked against the original above"
	dump_check partial cbc-eboiv 128
	cs_key partial "startup key" "$bek"
	printf '%s' "$(cat partial.rp)" >partial.rp-stdin
	cs_key partial "recovery password" - <partial.rp-stdin
	rm -f partial.img
fi

finish
