#!/bin/sh
# Images read over HTTP from Azurite (the Azure Storage emulator): a
# Windows-like disk (GPT, EFI FAT, BitLocker NTFS with its .BEK), an
# Ubuntu-like OS disk (root LUKS2 whose header is only in the boot
# partition's luks/osluksheader) and a Linux data disk (GPT, inline LUKS2
# with ext4, ADE-style key file), each
# uploaded as a page blob with only its non-zero pages written, give the
# same info, ls, cat, export bytes and mount contents through a SAS URL and
# through @FILE as from the local file.  The page map saves requests
# (written bytes as Get Page Ranges reports them); --cache-dir serves a
# second command; a server that throttles and drops connections is
# retried to the right bytes; a blob overwritten under a mount gives
# ESTALE, logged naming the blob, never other bytes; an expired SAS and
# plain http:// off loopback are refused; no SAS signature appears in any
# output (the mount's log included), --debug included, nor in the mount
# daemon's command line.
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/blob-lib.sh"
need qemu-img cryptsetup sfdisk partx mkfs.ext4 jq curl fusermount3 sha256sum cmp python3 ps
[ -c /dev/fuse ] || skip "no /dev/fuse"
cd "$work" || exit 1
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$work/asan"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$work/ubsan:print_stacktrace=1"
mnt="$work/mnt"
mkdir -p "$mnt"
proxy_pid="" pid2=""
cleanup() {
	mounted "$mnt" && fusermount3 -u -z "$mnt"
	[ -n "$pid2" ] && wait "$pid2"
	[ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null
	azurite_stop
}

# --- the disks
qemu-img convert -O vpc -o subformat=fixed,force_size=on \
	"$top_srcdir/testdata/demo.vhd" win.vhd || { fail "qemu-img"; finish; }
WK="--bek $top_srcdir/testdata/demo-keys"
mkdir -p tree/dir/sub
printf 'hello from the blob\n' > tree/hello.txt
head -c 3000000 /dev/urandom > tree/dir/random.bin
head -c 12000000 /dev/urandom > tree/big.bin
for i in $(seq 200); do printf 'file %s\n' "$i" > "tree/dir/sub/f$i.txt"; done
ln -s hello.txt tree/link
ade_key key
luks_data_vhd lin.vhd tree key 24 || finish
LK="--key-file key"
# an Ubuntu-like OS disk after ADE: root LUKS2 whose header lives only in
# the plain boot partition's luks/osluksheader (see ade.sh)
mkdir -p ursrc/etc ub/luks && echo ubuntu-vm > ursrc/etc/hostname
head -c 1000000 /dev/urandom > ursrc/etc/blob.bin
mkfs.ext4 -q -F -d ursrc uroot.fs 24M && cp uroot.fs uroot.enc
cryptsetup reencrypt --encrypt --type luks2 --header os.hdr --batch-mode --key-file key \
	--pbkdf pbkdf2 --pbkdf-force-iterations 1000 uroot.enc >mk.log 2>&1 ||
	{ fail "cryptsetup root: $(cat mk.log)"; finish; }
truncate -s 32M os.hdr && cp os.hdr ub/luks/osluksheader
mkfs.ext2 -q -F -d ub uboot.fs 40M || fail "mkfs.ext2 boot"
gpt_vhd ubu.vhd 1:8300:24:uroot.enc 2:8300:40:uboot.fs

azurite_start
trap 'cleanup' EXIT
for d in win lin ubu; do
	blob_upload "$d.vhd" disks "$d.vhd" || { fail "upload $d.vhd"; finish; }
done
wsas=$(blob_sas disks win.vhd) && lsas=$(blob_sas disks lin.vhd) &&
	usas=$(blob_sas disks ubu.vhd) || { fail "blob_sas"; finish; }
printf '%s\n' "$wsas" > win.sas
printf '%s\n' "$lsas" > lin.sas
printf '%s\n' "$usas" > ubu.sas
: > all-output
# sigs: every SAS signature used, raw and URL-decoded, for the leak checks
sig_of() { printf '%s' "$1" | sed -n 's/.*[?&]sig=\([^&]*\).*/\1/p'; }
for s in "$wsas" "$lsas" "$usas"; do
	v=$(sig_of "$s")
	printf '%s\n' "$v" "$(printf '%s' "$v" | "$PY" -c 'import sys, urllib.parse; print(urllib.parse.unquote(sys.stdin.read()))')"
done | sort -u > sigs
[ "$(wc -l < sigs)" -ge 2 ] || fail "no SAS signature found in the SAS URLs"

# run NAME ARGS...: vhdunlock ARGS, out/err kept, both added to all-output
run() {
	r_name=$1
	shift
	"$VHDUNLOCK" "$@" >out 2>err </dev/null
	r_st=$?
	cat out err >> all-output
	return $r_st
}

# --- the same answers from the file, the URL and @FILE
strip='del(.image, .source) | .disks |= map(del(.image, .source)) | del(.. | .path?)'
for d in win lin ubu; do
	case $d in
	win) K=$WK vol=p2 f=README.txt ;;
	lin) K=$LK vol=p1 f=dir/random.bin ;;
	ubu) K=$LK vol=p1 f=etc/blob.bin ;;
	esac
	sas=$(cat $d.sas)
	run local info --json $d.vhd $K && jq "$strip" out > info.local ||
		fail "$d: local info: $(cat err)"
	for form in "$sas" "@$d.sas"; do
		what=$([ "$form" = "$sas" ] && echo "SAS URL" || echo "@FILE")
		run "$d $what info" info --json "$form" $K && jq "$strip" out > info.url &&
			cmp -s info.local info.url && ok "$d ($what): info --json as from the file" ||
			fail "$d ($what): info differs: $(diff info.local info.url | head -5) $(cat err)"
		run x ls -l $d.vhd "$vol:/" $K && mv out ls.local
		run x ls -l "$form" "$vol:/" $K && cmp -s ls.local out &&
			ok "$d ($what): ls -l $vol:/ as from the file" || fail "$d ($what): ls: $(cat err)"
		run x cat "$form" "$vol:/$f" $K && mv out cat.url &&
			run x cat $d.vhd "$vol:/$f" $K && cmp -s out cat.url &&
			ok "$d ($what): cat $vol:/$f as from the file" || fail "$d ($what): cat: $(cat err)"
		rm -f e.local e.url
		run x export $d.vhd "$vol" e.local $K && run x export "$form" "$vol" e.url $K --stats &&
			cmp -s e.local e.url && grep -q 'stats: http://127.0.0.1:[0-9]*/devstoreaccount1/disks/'"$d"'.vhd: [1-9][0-9]* requests' err &&
			ok "$d ($what): export $vol equals the file's, $(sed -n 's/.*stats: [^:]*:[^:]*:[^:]*: //p' err | cut -d, -f1-2)" ||
			fail "$d ($what): export: $(cat err)"
	done
	# the page map: written bytes as Get Page Ranges says
	want=$(blob_pagelist disks $d.vhd | awk '{ n += $2 - $1 + 1 } END { print n }')
	run x info --json "$sas" $K
	got=$(jq '.source.written_bytes' out)
	[ "$got" = "$want" ] && [ "$(jq '.source.page_blob' out)" = true ] &&
		ok "$d: page map of $got written bytes, as the page list says" ||
		fail "$d: page map: written_bytes $got, page list $want"
done

# @- reads the URL from standard input
"$VHDUNLOCK" ls @- p2:/ $WK < win.sas > out 2>err && grep -q README.txt out &&
	ok "@-: the URL from standard input" || fail "@-: $(cat err)"
cat out err >> all-output

# keys, extract and audit take a URL as well
run x keys "@lin.sas" $LK --json && jq -e '.volumes[0].id == "p1" and .volumes[0].unlocked and .volumes[0].key.keyslot == 0' out >/dev/null &&
	ok "keys over the SAS: p1 opens with key slot 0" || fail "keys: $(cat out err)"
rm -rf ex.url
run x extract "@lin.sas" p1:/dir ex.url $LK && rb=$(find ex.url -name random.bin) && cmp -s "$rb" tree/dir/random.bin &&
	(cd ex.url && sha256sum -c --quiet vhdunlock-manifest.sha256) &&
	ok "extract over the SAS: dir/ with its manifest" || fail "extract: $(cat err)"
run x audit "@lin.sas" --json
jq -e '.volumes[] | select(.id == "p1") | .verdict == "sealed"' out >/dev/null &&
	ok "audit over the SAS: p1 sealed" || fail "audit: $(cat out err)"

# decrypt over the SAS writes what it writes from the local file
rm -f dec.url dec.local
run x decrypt "@lin.sas" dec.url $LK --format raw && run y decrypt lin.vhd dec.local $LK --format raw &&
	cmp -s dec.url dec.local && grep -q 'decrypted in place' out &&
	ok "decrypt over the SAS: the same copy as from the local file" ||
	fail "decrypt over the SAS: $(cat out err) $(cmp dec.url dec.local)"
rm -f dec.url dec.local

# the Linux volume's files through a mount over the URL, every one, with
# the URL in a file and on the command line: the daemon's command line and
# the mount table never show the signature (the query is wiped in argv)
for form in "@lin.sas" "$lsas"; do
	if "$VHDUNLOCK" mount "$form" "$mnt" $LK 2>err; then
		for _ in $(seq 100); do mounted "$mnt" && break; sleep 0.1; done
		same_tree "lin over the SAS (${form%%\?*}): p1 through the mount" tree "$mnt/p1"
		# the daemon: the process whose command line (as ps shows
		# /proc/PID/cmdline, arguments joined by spaces) is
		# "$VHDUNLOCK mount ... $mnt ..."; one ps, not two processes
		# for each process on the machine
		pid=$(ps -ww -eo pid=,args= | awk -v p="$VHDUNLOCK mount " -v m=" $mnt " '
			{ a = $0; sub(/^ *[0-9]+ /, "", a); a = a " " }
			index(a, p) == 1 && index(substr(a, length(p) + 1), m) { pid = $1 }
			END { print pid }')
		if [ -n "$pid" ]; then
			tr '\0' ' ' < "/proc/$pid/cmdline" > daemon.cmdline
			cat daemon.cmdline >> all-output
			grep " $mnt " /proc/mounts >> all-output
			ok "mount daemon $pid: command line $(cat daemon.cmdline)"
			grep -Eq '^Max core file size +0 +0 ' "/proc/$pid/limits" &&
				ok "mount daemon $pid: no core dumps (RLIMIT_CORE 0)" ||
				fail "mount daemon $pid: core dumps allowed: $(grep core "/proc/$pid/limits")"
		else
			fail "no mount daemon found for $mnt"
		fi
		"$VHDUNLOCK" umount "$mnt" 2>err || fail "umount: $(cat err)"
		for _ in $(seq 100); do mounted "$mnt" || break; sleep 0.1; done
	else
		fail "mount ${form%%\?*}: $(cat err)"
	fi
done

# the Ubuntu-like disk: root (its header found on the boot partition
# read over the URL) and boot through one mount of the SAS
if "$VHDUNLOCK" mount "@ubu.sas" "$mnt" $LK 2>err; then
	for _ in $(seq 100); do mounted "$mnt" && break; sleep 0.1; done
	same_tree "ubu over the SAS: p1 (root, detached header)" ursrc "$mnt/p1"
	same_tree "ubu over the SAS: p2 (boot)" ub "$mnt/p2"
	"$VHDUNLOCK" umount "$mnt" 2>err || fail "umount: $(cat err)"
	for _ in $(seq 100); do mounted "$mnt" || break; sleep 0.1; done
else
	fail "mount @ubu.sas: $(cat err)"
fi

# --- --cache-dir: a second command is served from disk
run x ls -l "$lsas" p1:/dir $LK --cache-dir cache --stats
r1=$(sed -n 's/.*: \([0-9]*\) requests.*/\1/p' err)
run x ls -l "$lsas" p1:/dir $LK --cache-dir cache --stats
r2=$(sed -n 's/.*: \([0-9]*\) requests.*/\1/p' err)
d2=$(sed -n 's/.*, \([0-9]*\) blocks from the cache directory.*/\1/p' err)
[ -n "$r1" ] && [ -n "$r2" ] && [ "$r2" -lt "$r1" ] && [ "${d2:-0}" -gt 0 ] &&
	ok "--cache-dir: $r1 requests, then $r2 with $d2 blocks from disk" ||
	fail "--cache-dir: $r1 then $r2 requests, $d2 blocks from disk: $(cat err)"
bad=$(find cache -type f ! -perm 0600 | head -n 1)
[ -z "$bad" ] && [ -n "$(ls cache)" ] && ok "cache files are mode 0600" ||
	fail "cache file $bad is not mode 0600"

# --- a server that throttles, drops connections and cuts bodies short
"$PY" "$top_srcdir/tests/kv/flaky_proxy.py" --upstream "${blob_endpoint%/devstoreaccount1}" \
	--state "$work" --every 5 2>proxy.err &
proxy_pid=$!
for _ in $(seq 100); do [ -s proxy.port ] && break; sleep 0.1; done
purl=$(printf '%s' "$lsas" | sed "s|http://127.0.0.1:[0-9]*/|http://127.0.0.1:$(cat proxy.port)/|")
rm -f e.flaky
run x export "$purl" p1 e.flaky $LK --stats --cache-size 8M
retries=$(sed -n 's/.*, \([0-9]*\) retries$/\1/p' err)
if [ $r_st -eq 0 ] && run y export lin.vhd p1 e.local $LK --force &&
	cmp -s e.local e.flaky && [ "${retries:-0}" -gt 0 ]; then
	ok "flaky server ($(cat proxy.count) answers spoiled): export right after $retries retries"
else
	fail "flaky server: exit $r_st, $retries retries: $(cat err)"
fi
kill "$proxy_pid" 2>/dev/null; wait "$proxy_pid" 2>/dev/null; proxy_pid=""

# --- a blob overwritten under a mount: ESTALE, never other bytes.  In the
# foreground (our child: its PID is ours to wait for) so that its log, on
# standard error, can be read.
blob_copy disks lin.vhd lin2.vhd || fail "blob_copy"
l2sas=$(blob_sas disks lin2.vhd)
sig_of "$l2sas" >> sigs
printf '%s\n' "$l2sas" > lin2.sas
"$VHDUNLOCK" mount -f "@lin2.sas" "$mnt" $LK --cache-size 8M 2>daemon2.err &
pid2=$!
for _ in $(seq 100); do
	mounted "$mnt" && break
	kill -0 "$pid2" 2>/dev/null || break
	sleep 0.1
done
if mounted "$mnt"; then
	cmp -s tree/hello.txt "$mnt/p1/hello.txt" && ok "lin2: hello.txt before the change" ||
		fail "lin2: hello.txt"
	blob_overwrite disks lin2.vhd $((40 << 20)) 65536 || fail "blob_overwrite"
	if cat "$mnt/p1/big.bin" > big.out 2>cat.err; then
		fail "big.bin read after the blob changed"
	else
		grep -q 'Stale file handle' cat.err &&
			ok "changed blob: reading big.bin fails with ESTALE" ||
			fail "changed blob: not ESTALE: $(cat cat.err)"
		# what was returned before the error is the file's own prefix
		n=$(stat -c %s big.out)
		head -c "$n" tree/big.bin | cmp -s - big.out &&
			ok "changed blob: the $n bytes returned before ESTALE are the file's" ||
			fail "changed blob: wrong bytes returned"
	fi
	# a changed blob is never read again: the next read fails the same
	if cat "$mnt/p1/dir/random.bin" > /dev/null 2>cat2.err; then
		fail "changed blob: random.bin read after the change"
	else
		grep -q 'Stale file handle' cat2.err &&
			ok "changed blob: a later read fails with ESTALE too" ||
			fail "changed blob: later read: $(cat cat2.err)"
	fi
	"$VHDUNLOCK" umount "$mnt" 2>err || fail "umount: $(cat err)"
	for _ in $(seq 100); do mounted "$mnt" || break; sleep 0.1; done
	wait "$pid2"
	rc=$? pid2=""
	[ $rc -eq 0 ] || fail "mount -f @lin2.sas: exit $rc after umount: $(cat daemon2.err)"
	cat daemon2.err >> all-output
	# the log names the blob (never the SAS) and says what happened
	grep 'lin2\.vhd' daemon2.err | grep -q 'changed since it was opened' &&
		ok "changed blob: the mount's log names the blob: $(grep -m1 'changed since' daemon2.err)" ||
		fail "changed blob: no log line naming lin2.vhd: $(head -c 600 daemon2.err)"
else
	kill "$pid2" 2>/dev/null
	wait "$pid2"
	pid2=""
	fail "mount -f @lin2.sas: $(cat daemon2.err)"
fi
run x export "$l2sas" p1 e2.img $LK
[ $r_st -eq 0 ] && ok "the changed blob, opened anew, exports" ||
	fail "the changed blob opened anew: $(cat err)"

# --- refusals
esas=$(blob_sas disks win.vhd --expired)
sig_of "$esas" >> sigs
run x info "$esas" $WK
[ $r_st -eq 1 ] && grep -q 'grant access again' err &&
	ok "expired SAS: exit 1, $(cat err)" || fail "expired SAS: exit $r_st: $(cat err)"
run x info http://192.0.2.1/disks/x.vhd?sig=notasecret
[ $r_st -ne 0 ] && grep -q 'only https://' err && ok "http:// off loopback: $(cat err)" ||
	fail "http:// off loopback: exit $r_st: $(cat err)"
printf '' > empty.sas
run x info @empty.sas
[ $r_st -ne 0 ] && grep -q 'empty.sas: empty' err && ok "@FILE empty: $(cat err)" ||
	fail "@FILE empty: $(cat err)"
run x info @missing.sas
[ $r_st -eq 1 ] && grep -q 'missing.sas: cannot open' err && ok "@FILE missing: $(cat err)" ||
	fail "@FILE missing: exit $r_st: $(cat err)"

# --- no signature anywhere, --debug included
run x --debug info "$wsas" $WK
run x --debug ls "@lin.sas" p1:/ $LK
[ -s all-output ] || fail "no output collected"
leaked=0
while read -r s; do
	[ -n "$s" ] || continue
	grep -qF -- "$s" all-output && leaked=$((leaked + 1))
done < sigs
[ "$leaked" -eq 0 ] && ok "no SAS signature in $(wc -l < all-output) lines of output, --debug included" ||
	fail "$leaked SAS signature(s) appeared in the output"
finish
