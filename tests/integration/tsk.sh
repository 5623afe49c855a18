#!/bin/sh
# Forensic tools on the mount: the Sleuth Kit's fls -r -m and icat read the
# <id>.img that `vhdunlock mount` shows for a decrypted BitLocker NTFS (the
# demo disk) and a decrypted LUKS2 ext4 (made here), and agree with
# vhdunlock: the same set of regular files as the mount's tree, and for
# each of them icat's bytes equal `vhdunlock cat`'s.  This is how
# responders chain their usual tools onto a disk vhdunlock unlocked.
. "$top_srcdir/tests/integration/lib.sh"
need fls icat cryptsetup sfdisk partx qemu-img mkfs.ext4 fusermount3 sha256sum
[ -c /dev/fuse ] || skip "no /dev/fuse"
cd "$work" || exit 1
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$work/asan"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$work/ubsan:print_stacktrace=1"
mnt="$work/mnt"
mkdir -p "$mnt"
trap 'mounted "$mnt" && fusermount3 -u -z "$mnt"' EXIT

mkdir -p tree/etc/ssh tree/home/alice/docs
echo linuxvm > tree/etc/hostname
printf 'Port 22\n' > tree/etc/ssh/sshd_config
head -c 300000 /dev/urandom > tree/home/alice/docs/report.bin
printf 'notes\n' > tree/home/alice/notes.txt
ade_key key
luks_data_vhd lin.vhd tree key 16 || finish

# check NAME IMAGE VOLUME KEYS...: mount, fls/icat on VOLUME.img
check() {
	name=$1 img=$2 vol=$3
	shift 3
	"$VHDUNLOCK" mount "$img" "$mnt" "$@" 2>err || { fail "$name: mount: $(cat err)"; return; }
	for _ in $(seq 100); do mounted "$mnt" && break; sleep 0.1; done
	# regular, allocated files with their names (no metadata files, no
	# $FILE_NAME duplicates, nothing deleted)
	fls -r -m / "$mnt/$vol.img" > fls.out 2>fls.err || fail "$name: fls: $(cat fls.err)"
	awk -F'|' '$4 ~ /^r\/r/ && $2 !~ /\$/ && $2 !~ /\(deleted\)/ && $2 !~ /^\/lost\+found/ {
		print $3 "\t" $2 }' fls.out | LC_ALL=C sort -t "$(printf '\t')" -k2 > files.tsk
	cut -f2 files.tsk > names.tsk
	(cd "$mnt/$vol" && find . -type f ! -path './lost+found/*' | sed 's|^\.||') |
		LC_ALL=C sort > names.mnt
	if [ -s names.tsk ] && cmp -s names.tsk names.mnt; then
		ok "$name: fls -r -m lists the $(wc -l < names.tsk) files the mount shows"
	else
		fail "$name: fls and the mount differ: $(diff names.tsk names.mnt | head -5)"
	fi
	n=0 bad=0
	while IFS="$(printf '\t')" read -r inode path; do
		n=$((n + 1))
		a=$(icat "$mnt/$vol.img" "$inode" | sha256sum)
		b=$("$VHDUNLOCK" cat "$img" "$vol:$path" "$@" 2>/dev/null | sha256sum)
		[ "$a" = "$b" ] || { bad=$((bad + 1)); say "differs: $path (inode $inode)"; }
	done < files.tsk
	[ "$n" -gt 0 ] && [ "$bad" -eq 0 ] && ok "$name: icat of each of $n files equals vhdunlock cat" ||
		fail "$name: $bad of $n files differ between icat and vhdunlock cat"
	"$VHDUNLOCK" umount "$mnt" 2>err || fail "$name: umount: $(cat err)"
	for _ in $(seq 100); do mounted "$mnt" || break; sleep 0.1; done
}

check "BitLocker NTFS (demo p2)" "$top_srcdir/testdata/demo.vhd" p2 --bek "$top_srcdir/testdata/demo-keys"
check "LUKS2 ext4 (lin p1)" lin.vhd p1 --key-file key
finish
