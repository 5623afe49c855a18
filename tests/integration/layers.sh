#!/bin/sh
# The layers README.md draws are the layers the code has.  README's
# "Architecture" section lists them top to bottom with the third-party
# libraries each may use; this test reads that list and fails when
#   - a file of a layer includes a header of a layer above it (a
#     *_format.h, which holds on-disk layouts and no code, is exempt),
#   - a file includes a third-party library its layer does not list,
#   - a directory of src/ is not in the list, or the list names one that
#     does not exist.
# It then plants a violation of each kind in a copy of the tree and checks
# that they are found, so the checker itself cannot silently pass.
#   sh tests/integration/layers.sh   (from make check; srcdir from the env)
set -eu
src=${srcdir:-.}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vu-layers.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# the list: lines "    name  job...  [libs: a b c]" inside the section
layers() {
	awk '/^## Architecture/ { on = 1; next } /^## / { on = 0 }
	     on && /^    [a-z]+ / { print }' "$1/README.md"
}

# which include prefixes each library token stands for
lib_prefixes() {
	case $1 in
	openssl) echo "openssl/" ;;
	curl) echo "curl/" ;;
	json-c) echo "json-c/" ;;
	cryptsetup) echo "libcryptsetup" ;;
	ext2fs) echo "ext2fs/ et/" ;;
	libfsxfs) echo "libfsxfs" ;;
	libfsntfs) echo "libfsntfs" ;;
	libbfio) echo "libbfio" ;;
	fuse3) echo "fuse" ;;
	*) echo "layers.sh: README names unknown library '$1'" >&2; exit 99 ;;
	esac
}
ALL_LIBS="openssl curl json-c cryptsetup ext2fs libfsxfs libfsntfs libbfio fuse3"
# "library=prefix" for each prefix of each library, in that order
LIB_PREFIXES=$(for t in $ALL_LIBS; do
	for p in $(lib_prefixes "$t"); do printf '%s=%s ' "$t" "$p"; done
done)

dir_of() { [ "$1" = fuse ] && echo fuse || echo "src/$1"; }

# check ROOT: prints one line per violation, returns 1 when any
check() {
	root=$1
	bad=0
	layers "$root" >"$tmp/list"
	[ -s "$tmp/list" ] || { echo "no layer list in $root/README.md"; return 1; }
	# rank: 0 at the bottom
	n=$(wc -l <"$tmp/list")
	i=0
	: >"$tmp/rank"
	while read -r name rest; do
		echo "$name $((n - 1 - i))" >>"$tmp/rank"
		i=$((i + 1))
		[ -d "$root/$(dir_of "$name")" ] || {
			echo "README lists layer $name, but $(dir_of "$name") does not exist"; bad=1; }
	done <"$tmp/list"
	for d in "$root"/src/*/; do
		l=$(basename "$d")
		grep -q "^$l " "$tmp/rank" || { echo "src/$l is not a layer in README's Architecture"; bad=1; }
	done
	while read -r name rest; do
		rank=$(awk -v l="$name" '$1 == l { print $2 }' "$tmp/rank")
		libs=$(printf '%s\n' "$rest" | sed -n 's/.*\[libs: \([^]]*\)\].*/\1/p')
		allowed=
		for t in $libs; do allowed="$allowed $(lib_prefixes "$t")"; done
		# every file of the layer in one awk: a process per file and
		# include took most of a minute
		set --
		for f in "$root/$(dir_of "$name")"/*.[ch]; do
			[ -e "$f" ] && set -- "$@" "$f"
		done
		[ $# -gt 0 ] || continue
		awk -v name="$name" -v rank="$rank" -v root="$root/" \
		    -v allowed=" $allowed " -v libs="$LIB_PREFIXES" '
		# project headers: "layer/file.h"; third-party ones: <prefix...>
		# once per file and prefix, after the file, as grep -q found them
		function flush(   i) {
			for (i = 1; i <= np; i++)
				if (seen[i]) {
					print rel " (layer " name ") includes <" pre[i] \
					    "...> (" lib[i] "), which README does not list for it"
					bad = 1
				}
			for (i = 1; i <= np; i++) seen[i] = 0
		}
		BEGIN {
			np = split(libs, pl, " ")
			for (i = 1; i <= np; i++) {
				lib[i] = substr(pl[i], 1, index(pl[i], "=") - 1)
				pre[i] = substr(pl[i], index(pl[i], "=") + 1)
			}
		}
		FILENAME == rankfile { r[$1] = $2; next }
		FNR == 1 { flush(); rel = substr(FILENAME, length(root) + 1) }
		/^#include "[a-z_]*\/[A-Za-z0-9_.]*"/ {
			inc = $0
			sub(/^#include "/, "", inc)
			sub(/".*/, "", inc)
			il = inc
			sub(/\/.*/, "", il)
			if (inc ~ /_format\.h$/ || il == name) next
			if (!(il in r)) {
				print rel " includes " inc " of no known layer"; bad = 1
			} else if (r[il] + 0 > rank + 0) {
				print rel " (layer " name ") includes " inc \
				    " of layer " il " above it"; bad = 1
			}
		}
		/^#include </ {
			for (i = 1; i <= np; i++)
				if (index($0, "#include <" pre[i]) == 1 &&
				    index(allowed, " " pre[i] " ") == 0)
					seen[i] = 1
		}
		END { flush(); exit bad }' rankfile="$tmp/rank" "$tmp/rank" "$@" || bad=1
	done <"$tmp/list"
	return $bad
}

if ! check "$src" >"$tmp/out"; then
	cat "$tmp/out" >&2
	echo "FAIL: layers (README.md Architecture) do not match the code" >&2
	exit 1
fi
echo "ok: $(wc -l <"$tmp/list") layers, every include goes down"

# the checker must see planted violations
mkdir "$tmp/tree"
cp "$src/README.md" "$tmp/tree/"
cp -R "$src/src" "$src/fuse" "$tmp/tree/"
echo '#include "disk/disk.h"' >>"$tmp/tree/src/core/log.c"
echo '#include <openssl/evp.h>' >>"$tmp/tree/src/fs/fs.c"
mkdir "$tmp/tree/src/stray"
if check "$tmp/tree" >"$tmp/planted"; then
	echo "FAIL: planted violations were not found" >&2
	exit 1
fi
for want in "src/core/log.c (layer core) includes disk/disk.h" \
	"src/fs/fs.c (layer fs) includes <openssl/" \
	"src/stray is not a layer"; do
	grep -qF "$want" "$tmp/planted" || {
		echo "FAIL: planted violation not reported: $want" >&2
		cat "$tmp/planted" >&2
		exit 1
	}
done
echo "ok: planted violations found ($(wc -l <"$tmp/planted"))"
