#!/bin/sh
# Runs every fuzz target over its seed corpus (and mutations of it).
# Fails when a target has no corpus: a target that is never run proves nothing.
set -u
srcdir=${srcdir:-.}
fail=0
for t in $FUZZ_TARGETS; do
	corpus="$srcdir/tests/fuzz/corpus/$t"
	if [ ! -d "$corpus" ]; then
		echo "FAIL $t: no seed corpus at $corpus"
		fail=1
		continue
	fi
	if ./"$t" "$corpus" > "$t.replay.log" 2>&1; then
		echo "ok $t: $(tail -n 1 "$t.replay.log")"
	else
		echo "FAIL $t"; tail -n 20 "$t.replay.log"
		fail=1
	fi
done
[ -n "$FUZZ_TARGETS" ] || { echo "no fuzz targets"; exit 1; }
exit $fail
