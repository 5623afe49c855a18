#!/bin/sh
# Benchmark: an image read straight from blob storage (Azurite, the Azure
# Storage emulator, on loopback) against the same image as a local file,
# with curl's download of the same blob from the same server as the anchor.
#   disk  a 2.5 GiB GPT disk (fixed VHD, Azure's export format): p1 a
#         BitLocker NTFS volume (tests/tools/mkbitlk, XTS-AES-128, .BEK)
#         holding a 1 GiB random file, a directory of 20,000 files and a
#         small file; uploaded as a page blob with only its non-zero pages.
#   one   `vhdunlock cat SAS p1:/small.txt`: bytes and requests transferred
#         (--stats) against the disk's size.
#   full  `vhdunlock export SAS p1 -` to /dev/null, against `curl -o
#         /dev/null SAS` (one stream) and the export of the local file;
#         alternating runs, best of RUNS.
#   ls    a cold `ls -l` of the 20,000-entry directory through `vhdunlock
#         mount` of the SAS (a fresh mount: empty cache) against the mount
#         of the local file (page cache dropped before each run).
#   sh bench/url.sh [BUILD_DIR]
# Needs root (drop_caches), /dev/fuse, azurite-blob (.ci/deps.sh), curl,
# mkntfs + ntfs-3g, sfdisk, qemu-img; about 8 GB under $TMPDIR (/var/tmp).
set -eu
build=${1:-.}
top=$(cd "$(dirname "$0")/.." && pwd)
vu=$(cd "$build" && pwd)/vhdunlock
mk=$(cd "$build" && pwd)/tests/tools/mkbitlk
RUNS=${RUNS:-5}
for f in "$vu" "$mk"; do
	[ -x "$f" ] || { echo "url.sh: $f missing (make it first)" >&2; exit 1; }
done
for t in azurite-blob curl mkntfs ntfs-3g sfdisk partx qemu-img python3 fusermount3; do
	command -v "$t" >/dev/null || { echo "url.sh: $t not found" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "url.sh: run as root (drop_caches)" >&2; exit 1; }
dir=$(mktemp -d "${TMPDIR:-/var/tmp}/vu-url-bench.XXXXXX")
az_pid=""
mounted() { awk -v m="$1" '$2 == m { f = 1 } END { exit !f }' /proc/mounts; }
cleanup() {
	for m in "$dir/m/url" "$dir/m/file" "$dir/m/fill"; do
		mounted "$m" && fusermount3 -u -z "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
	[ -n "$az_pid" ] && kill "$az_pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
now() { date +%s.%N; }
drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }
wait_mounted() { for _ in $(seq 200); do mounted "$1" && return 0; sleep 0.05; done; return 1; }

# ---- the disk ----
mkdir -p "$dir/src/many" "$dir/m/fill" "$dir/m/url" "$dir/m/file" "$dir/bek"
head -c 1G /dev/urandom > "$dir/src/big.bin"
echo "the one file a responder wants" > "$dir/src/small.txt"
(cd "$dir/src/many" && seq -f 'f%05g' 20000 | xargs touch)
truncate -s 2500M "$dir/p1.ntfs"
mkntfs -F -Q -q -L Data "$dir/p1.ntfs" >/dev/null 2>&1
ntfs-3g -o big_writes "$dir/p1.ntfs" "$dir/m/fill"
cp -r "$dir/src/." "$dir/m/fill/"
umount "$dir/m/fill"
"$mk" --method xts-128 --bek-dir "$dir/bek" --recovery-password-file "$dir/rp.txt" \
	"$dir/p1.ntfs" "$dir/p1.bl" > /dev/null
rm -f "$dir/p1.ntfs"
truncate -s 2502M "$dir/disk.raw"
printf 'label: gpt\n,2500MiB,EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\n' | sfdisk -q "$dir/disk.raw" >/dev/null
start=$(partx -g -o START -n 1 "$dir/disk.raw" | tr -d ' ')
dd if="$dir/p1.bl" of="$dir/disk.raw" bs=4M oflag=seek_bytes conv=notrunc,sparse \
	seek=$((start * 512)) status=none
rm -f "$dir/p1.bl"
qemu-img convert -f raw -O vpc -o subformat=fixed,force_size=on "$dir/disk.raw" "$dir/disk.vhd"
rm -f "$dir/disk.raw"
size=$(stat -c %s "$dir/disk.vhd")
K="--bek $dir/bek"

# ---- Azurite ----
mkdir -p "$dir/az"
azurite-blob --blobHost 127.0.0.1 --blobPort 0 --location "$dir/az" --silent \
	--skipApiVersionCheck --loose --disableTelemetry > "$dir/az.out" 2>&1 &
az_pid=$!
port=""
for _ in $(seq 300); do
	port=$(sed -n 's|.*listens on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$dir/az.out")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { echo "url.sh: azurite did not start" >&2; exit 1; }
ep="http://127.0.0.1:$port/devstoreaccount1"
sleep 1
t0=$(now)
python3 "$top/tests/kv/azblob.py" upload --endpoint "$ep" --container bench --blob disk.vhd "$dir/disk.vhd"
python3 "$top/tests/kv/azblob.py" sas --endpoint "$ep" --container bench --blob disk.vhd --minutes 600 > "$dir/sas"
echo "$(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r); disk $size bytes, uploaded in $(echo "$(now) - $t0" | bc) s"
echo

# ---- one small file ----
"$vu" cat "@$dir/sas" p1:/small.txt $K --stats > "$dir/small.out" 2> "$dir/small.err"
cmp -s "$dir/small.out" "$dir/src/small.txt" || { echo "url.sh: small.txt differs" >&2; exit 1; }
bytes=$(sed -n 's/.* requests, \([0-9]*\) bytes transferred.*/\1/p' "$dir/small.err")
reqs=$(sed -n 's/.*: \([0-9]*\) requests,.*/\1/p' "$dir/small.err")
echo "== one small file (cat p1:/small.txt)"
echo "| requests | bytes transferred | of the disk |"
echo "|--:|--:|--:|"
echo "$reqs $bytes $size" | awk '{ printf "| %d | %d | %.3f%% |\n", $1, $2, 100 * $2 / $3 }'
echo

# ---- full export vs curl ----
best() { sort -n | head -n 1; }
: > "$dir/t.curl"; : > "$dir/t.url"; : > "$dir/t.file"
for _ in $(seq "$RUNS"); do
	t=$(now); curl -s -o /dev/null "$(cat "$dir/sas")"; echo "$(now) - $t" | bc >> "$dir/t.curl"
	t=$(now); "$vu" export "@$dir/sas" p1 - $K > /dev/null; echo "$(now) - $t" | bc >> "$dir/t.url"
	drop
	t=$(now); "$vu" export "$dir/disk.vhd" p1 - $K > /dev/null; echo "$(now) - $t" | bc >> "$dir/t.file"
done
tc=$(best < "$dir/t.curl") tu=$(best < "$dir/t.url") tf=$(best < "$dir/t.file")
vol=$((2500 * 1048576))
echo "== full read (best of $RUNS)"
echo "| what | seconds | MB/s | vs curl |"
echo "|:--|--:|--:|--:|"
printf '%s\t%s\t%s\n' "curl -o /dev/null SAS (anchor, whole blob)" "$tc" "$size" \
	"vhdunlock export SAS p1 - (decrypted volume)" "$tu" "$vol" \
	"vhdunlock export disk.vhd p1 - (local file, cold)" "$tf" "$vol" |
awk -F'\t' -v tc="$tc" -v sz="$size" '{
	printf "| %s | %.2f | %.0f | %.2f |\n", $1, $2, $3 / $2 / 1e6, ($3 / $2) / (sz / tc)
}'
echo

# ---- cold ls -l of 20,000 entries ----
: > "$dir/t.lsu"; : > "$dir/t.lsf"
for _ in $(seq "$RUNS"); do
	drop
	"$vu" mount "@$dir/sas" "$dir/m/url" $K; wait_mounted "$dir/m/url"
	t=$(now); n=$(ls -l "$dir/m/url/p1/many" | grep -c '^-'); echo "$(now) - $t" | bc >> "$dir/t.lsu"
	[ "$n" = 20000 ] || { echo "url.sh: $n entries over the URL" >&2; exit 1; }
	"$vu" umount "$dir/m/url"
	drop
	"$vu" mount "$dir/disk.vhd" "$dir/m/file" $K; wait_mounted "$dir/m/file"
	t=$(now); n=$(ls -l "$dir/m/file/p1/many" | grep -c '^-'); echo "$(now) - $t" | bc >> "$dir/t.lsf"
	"$vu" umount "$dir/m/file"
	for _ in $(seq 50); do mounted "$dir/m/url" || mounted "$dir/m/file" || break; sleep 0.1; done
done
lu=$(best < "$dir/t.lsu") lf=$(best < "$dir/t.lsf")
echo "== cold ls -l of 20,000 entries, fresh mount (best of $RUNS)"
echo "| what | seconds | vs local file |"
echo "|:--|--:|--:|"
echo "$lf $lu" | awk '{ printf "| mount of the local file (anchor) | %.2f | 1.00 |\n| mount of the SAS URL | %.2f | %.2f |\n", $1, $2, $2 / $1 }'
