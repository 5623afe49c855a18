#!/bin/sh
# make fuzz: run every libFuzzer target for FUZZ_SECONDS (default 60) each,
# one after another, starting from the seed corpus in the source tree and
# growing a working corpus in fuzz-corpus/<target>/ (kept between runs).
# A crash, leak or sanitizer report stops that target; its input is left as
# fuzz-out/<target>-crash-* and the run fails.  One line per target:
#   PASS: fuzz_x  3 min, 1234567 runs, 2345 edges, 3456 features, corpus 120
# FUZZ_JOBS=N runs N targets at once.
set -u
srcdir=${srcdir:-.}
secs=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-1}
[ -n "${FUZZ_TARGETS:-}" ] || { echo "make fuzz: no fuzz targets"; exit 1; }
mkdir -p fuzz-out
one() {
	t=$1
	mkdir -p "fuzz-corpus/$t"
	./"$t" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="fuzz-out/$t-" -close_fd_mask=1 \
		"fuzz-corpus/$t" "$srcdir/tests/fuzz/corpus/$t" \
		>"fuzz-out/$t.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "fuzz-out/$t.log")
	last=$(grep -E '^#[0-9]+' "fuzz-out/$t.log" | tail -n 1)
	cov=$(printf '%s\n' "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(printf '%s\n' "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(printf '%s\n' "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
	line="$t  ${secs} s, ${runs:-?} runs, ${cov:-?} edges, ${ft:-?} features, corpus ${corp:-?}"
	if [ $rc -eq 0 ] && [ -n "$runs" ]; then
		echo "PASS: $line"
	else
		echo "FAIL: $line (exit $rc; see fuzz-out/$t.log)"
		grep -E 'ERROR|SUMMARY|^    #[0-9]' "fuzz-out/$t.log" | head -n 20
		ls fuzz-out/"$t"-* 2>/dev/null
		return 1
	fi
}
fail=0
if [ "$jobs" -le 1 ]; then
	for t in $FUZZ_TARGETS; do one "$t" || fail=1; done
else
	# N at a time; each job writes its own result file, printed in order
	for t in $FUZZ_TARGETS; do
		while [ "$(jobs -p | wc -l)" -ge "$jobs" ]; do sleep 1; done
		( one "$t" >"fuzz-out/$t.result" ) &
	done
	wait
	for t in $FUZZ_TARGETS; do
		cat "fuzz-out/$t.result"
		grep -q '^PASS:' "fuzz-out/$t.result" || fail=1
	done
fi
exit $fail
