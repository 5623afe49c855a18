# Shared helpers for integration tests (sourced).
# Each test gets a scratch directory in the build tree; images are made
# there by real tools and removed when the test passes.
set -u  # no -e: tests count failures themselves and expect commands to fail
: "${top_srcdir:?run through make check}" "${top_builddir:?}" "${VHDUNLOCK:?}"
name=$(basename "$0" .sh)
work="$top_builddir/tests/work/$name"
rm -rf "$work"
mkdir -p "$work"
failures=0

say() { printf '%s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*"; failures=$((failures + 1)); }
ok() { printf 'ok: %s\n' "$*"; }
# skip REASON: exit 77, which automake counts as SKIP (never as a pass)
skip() { printf 'SKIP: %s\n' "$*"; exit 77; }
need() { for t; do command -v "$t" >/dev/null 2>&1 || skip "$t not installed"; done; }
# finish: exit status from the failures counted so far
finish() {
	if [ "$failures" -eq 0 ]; then rm -rf "$work"; exit 0; fi
	printf '%d failure(s); scratch files kept in %s\n' "$failures" "$work"
	exit 1
}
# unpack_fixture NAME [TAR-OPTIONS...]: unpack testdata/NAME (a tar.xz of
# the repository) into the current directory.  A fixture that is missing or
# does not unpack is a failure that ends the test: never a skip, never a
# pass over zero images.
unpack_fixture() {
	uf=$top_srcdir/testdata/$1
	shift
	[ -f "$uf" ] || { fail "fixture $uf is missing"; finish; }
	tar -xJf "$uf" "$@" || { fail "fixture $uf does not unpack"; finish; }
}
# The xfsprogs in Debian 12 refuses file systems under 300 MB outside its
# own test suite; these variables are how that suite gets small ones.
mkfs_xfs_small() { TEST_DIR=1 TEST_DEV=1 QA_CHECK_FS=1 mkfs.xfs -q -f "$@"; }

# mounted DIR: DIR is in the mount table (root may not stat another user's
# FUSE mount, so mountpoint(1) could say no)
mounted() { awk -v m="$1" '$2 == m { f = 1 } END { exit !f }' /proc/mounts; }
# tree_meta DIR [MTIME]: one sorted line per entry below DIR: type, size of
# files, mode, owner, link target; the mtime too when MTIME is " %Ts"
tree_meta() {
	(cd "$1" && find . -mindepth 1 \( -type d -printf "%p d %m %U:%G${2:-}\n" \) -o \
		\( -type l -printf "%p l %l\n" \) -o \
		-printf "%p f %s %m %U:%G${2:-}\n") | LC_ALL=C sort
}
# tree_hashes DIR: sha256sum lines of every file below DIR, sorted by path
tree_hashes() { (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum); }
# same_tree NAME SRC DIR [MTIME]: the files below DIR have the content
# (SHA-256) and the metadata (tree_meta, with mtimes when MTIME is " %Ts")
# of those below SRC; ext's lost+found is left out
same_tree() {
	tree_hashes "$2" > "$work/h.want"
	tree_hashes "$3" | grep -v '^[0-9a-f]*  \./lost+found/' > "$work/h.got"
	if [ -s "$work/h.want" ] && cmp -s "$work/h.want" "$work/h.got"; then
		ok "$1: SHA-256 of all $(wc -l < "$work/h.want") files"
	else
		fail "$1: contents differ: $(diff "$work/h.want" "$work/h.got" | head -n 10)"
	fi
	tree_meta "$2" "${4:-}" > "$work/m.want"
	tree_meta "$3" "${4:-}" | grep -v '^\./lost+found' > "$work/m.got"
	if diff "$work/m.want" "$work/m.got" > "$work/m.diff"; then
		ok "$1: types, sizes, modes, owners, link targets${4:+, mtimes}"
	else
		fail "$1: metadata differ: $(head -n 20 "$work/m.diff")"
	fi
}

# gpt_vhd OUT SPEC...: a GPT disk as a fixed VHD (sfdisk, partx,
# qemu-img); SPEC is NUM:TYPE:MiB or NUM:TYPE:MiB:FILE, in the order the
# partitions lie on the disk, TYPE an sgdisk code (EF00 EF02 8E00 0C01 0700
# 2700; anything else is 8300), FILE written at the partition's start.
# sfdisk writes the table: sgdisk sleeps a second after each change.
gpt_vhd() {
	out=$1 total=2
	shift
	printf 'label: gpt\n' > "$out.sfdisk"
	for s; do
		n=${s%%:*} r=${s#*:}; t=${r%%:*} r=${r#*:}; mb=${r%%:*}
		case $t in
		EF00) g=C12A7328-F81F-11D2-BA4B-00A0C93EC93B ;;
		EF02) g=21686148-6449-6E6F-744E-656564454649 ;;
		8E00) g=E6D6D379-F507-44C2-A23C-238F2A3DF928 ;;
		0C01) g=E3C9E316-0B5C-4DB8-817D-F92DF00215AE ;;
		0700) g=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7 ;;
		2700) g=DE94BBA4-06D1-4D40-A16A-BFD50179D6AC ;;
		*) g=0FC63DAF-8483-4772-8E79-3D69D8477DE4 ;;
		esac
		total=$((total + mb))
		printf '%s%s : size=%sMiB, type=%s\n' "$out.raw" "$n" "$mb" "$g" >> "$out.sfdisk"
	done
	rm -f "$out.raw"; truncate -s "${total}M" "$out.raw"
	sfdisk -q "$out.raw" < "$out.sfdisk" >/dev/null || { fail "sfdisk $out"; return 1; }
	for s; do
		n=${s%%:*} r=${s#*:}; r=${r#*:}
		case $r in *:*) f=${r#*:} ;; *) continue ;; esac
		dd if="$f" of="$out.raw" bs=1M oflag=seek_bytes conv=notrunc,sparse status=none \
			seek=$(( $(partx -g -o START -n "$n" "$out.raw" | tr -d ' ') * 512 ))
	done
	qemu-img convert -f raw -O vpc -o subformat=fixed,force_size=on "$out.raw" "$out" ||
		fail "qemu-img $out"
	rm -f "$out.raw"
}

# python_path: sets PY to the interpreter python3 runs, asked once (to
# python3 when there is none).  A version manager's shim on PATH (pyenv's
# is a bash script and two more processes) costs about half a second a
# start on a loaded CI machine; tests that start python often run "$PY",
# and "$PY" SERVER & makes $! the server's own PID.
python_path() {
	PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) &&
		[ -x "$PY" ] || PY=python3
}

# ade_key FILE: an ADE Linux key file: base64 of 127 random bytes, no newline
ade_key() { head -c 127 /dev/urandom | base64 -w0 > "$1"; }
# luks_data_vhd OUT TREE KEYFILE MB: an ADE data disk as a fixed VHD: one
# GPT partition of MB + 32 MiB holding an ext4 of TREE (MB MiB, label
# data) encrypted in place with its LUKS2 header inline (cryptsetup
# reencrypt, PBKDF2 kept fast); 1 with a failure recorded when a tool fails
luks_data_vhd() {
	mkfs.ext4 -q -F -L data -d "$2" "$1.ext4" "${4}M" >/dev/null ||
		{ fail "mkfs.ext4 $1"; return 1; }
	cp "$1.ext4" "$1.luks" && truncate -s "$(($4 + 32))M" "$1.luks"
	cryptsetup reencrypt --encrypt --type luks2 --reduce-device-size 32M --batch-mode \
		--key-file "$3" --pbkdf pbkdf2 --pbkdf-force-iterations 1000 "$1.luks" \
		>"$1.mk.log" 2>&1 || { fail "cryptsetup $1: $(cat "$1.mk.log")"; return 1; }
	gpt_vhd "$1" "1:8300:$(($4 + 32)):$1.luks"
	rm -f "$1.ext4" "$1.luks"
}

# conf_get SECTION KEY: KEY's value in [SECTION] of the ini-style file
# $conf (testdata/bitlocker-windows.tar.xz's images.conf)
conf_get() {
	awk -v s="[$1]" -v k="$2" '
		$0 == s { in_s = 1; next }
		/^\[/ { in_s = 0 }
		in_s && index($0, k "=") == 1 { print substr($0, length(k) + 2) }' "$conf"
}
# vu WANT NAME ARGS...: vhdunlock ARGS (standard input empty), its output
# in out and err and appended to all-output (for the no-secrets checks);
# 0 when it exited WANT, else a failure naming NAME ($v_st: the status)
vu() {
	v_want=$1 v_name=$2
	shift 2
	"$VHDUNLOCK" "$@" >out 2>err </dev/null
	v_st=$?
	cat out err >> all-output
	[ "$v_st" = "$v_want" ] && return 0
	fail "$v_name: exit $v_st, expected $v_want: $(cat err)"
	return 1
}
