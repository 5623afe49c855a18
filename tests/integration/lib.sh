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
# The xfsprogs in Debian 12 refuses file systems under 300 MB outside its
# own test suite; these variables are how that suite gets small ones.
mkfs_xfs_small() { TEST_DIR=1 TEST_DEV=1 QA_CHECK_FS=1 mkfs.xfs -q -f "$@"; }
