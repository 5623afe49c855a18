#!/bin/sh
# Benchmark: vhdunlock audit of a sealed 1 GiB BitLocker volume (the test
# writer's XTS-AES-128 over an NTFS image holding a 900 MiB random file),
# with the default 2% sample and with --full, against cat of the image
# (the anchor); cold (caches dropped before every run) and warm.
#   sh bench/audit.sh [BUILD_DIR]
# Needs root (drop_caches), hyperfine, mkntfs, ntfs-3g, openssl, jq; the
# image goes under $TMPDIR (default /var/tmp), about 2.2 GB.
set -eu
build=$(cd "${1:-.}" && pwd)
vu=$build/vhdunlock mk=$build/tests/tools/mkbitlk
for f in "$vu" "$mk"; do
	[ -x "$f" ] || { echo "audit.sh: $f missing (make it first)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "audit.sh: run as root (drop_caches, ntfs-3g)" >&2; exit 1; }
dir=$(mktemp -d "${TMPDIR:-/var/tmp}/vu-audit-bench.XXXXXX")
trap 'mountpoint -q "$dir/m" && umount "$dir/m"; rm -rf "$dir"' EXIT
mkdir "$dir/m" "$dir/bek"
truncate -s 1G "$dir/plain.ntfs"
mkntfs -F -Q -q "$dir/plain.ntfs" >/dev/null 2>&1
ntfs-3g "$dir/plain.ntfs" "$dir/m"
openssl enc -aes-128-ctr -pass pass:bench -nosalt </dev/zero 2>/dev/null | head -c 900M > "$dir/m/big.bin"
umount "$dir/m"
"$mk" --method xts-128 --bek-dir "$dir/bek" --recovery-password-file "$dir/rp.txt" \
	"$dir/plain.ntfs" "$dir/bl.img" >/dev/null
rm "$dir/plain.ntfs"
"$vu" audit "$dir/bl.img" --json | jq -e '.verdict == "sealed"' >/dev/null ||
	{ echo "audit.sh: the volume does not audit as sealed" >&2; exit 1; }
echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r), 1 GiB BitLocker volume"
for how in cold warm; do
	if [ $how = cold ]; then
		set -- --runs 5 --prepare 'sync; echo 3 > /proc/sys/vm/drop_caches'
	else
		set -- --warmup 1 --runs 5
	fi
	hyperfine --style basic "$@" --export-markdown "$dir/$how.md" \
		-n "cat of the image (anchor)" "cat $dir/bl.img > /dev/null" \
		-n "audit, default 2% sample" "$vu audit $dir/bl.img > /dev/null" \
		-n "audit --full" "$vu audit --full $dir/bl.img > /dev/null" >&2
	echo "== $how"
	cat "$dir/$how.md"
	echo
done
