#!/bin/sh
# make fuzz: run each libFuzzer target in turn (one process at a time) for
# a set time on a working copy of its seed corpus, then report executions
# per second, corpus size and coverage.  Fails if any target crashed, hung
# (-timeout), ran out of memory or had a sanitizer report.
#
#   run-fuzz.sh SRCDIR SECONDS "EXTRA-LIBFUZZER-FLAGS" TARGET...
#
# Run from the top build directory, after building tests/fuzz/fuzz_TARGET.
set -u
srcdir=$1
secs=$2
flags=$3
shift 3
fdir=$srcdir/tests/fuzz
status=0
summary=

mkdir -p tests/fuzz/work tests/fuzz/logs tests/fuzz/artifacts
for t in "$@"; do
	bin=./tests/fuzz/fuzz_$t
	work=tests/fuzz/work/$t
	log=tests/fuzz/logs/$t.log
	arts=tests/fuzz/artifacts/$t
	if [ ! -x "$bin" ]; then
		echo "make fuzz: $bin not built" >&2
		status=1
		continue
	fi
	mkdir -p "$work" "$arts"
	# A copy of the seeds (new seeds join an existing working corpus).
	cp "$fdir/corpus/$t"/* "$work"/ 2>/dev/null
	dict=
	[ -f "$fdir/dict/$t.dict" ] && dict="-dict=$fdir/dict/$t.dict"
	# The regression inputs are read too; libFuzzer adds new inputs
	# to the first directory only, $work.
	set -- "$work"
	[ -d "$fdir/regressions/$t" ] && set -- "$@" "$fdir/regressions/$t"
	echo "=== fuzz_$t: ${secs}s (log: $log)"
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix="$arts/" $dict $flags \
	    "$@" >"$log" 2>&1
	rc=$?
	if [ $rc -ne 0 ] || grep -q -e '^==[0-9]*==ERROR' -e 'runtime error:' \
	    -e 'invariant failed' "$log"; then
		echo "FAIL: fuzz_$t (exit $rc); the end of its log:"
		tail -n 40 "$log"
		ls "$arts"/* 2>/dev/null | sed 's/^/  crash input: /'
		status=1
		res="FAILED"
	else
		res="ok"
	fi
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -n 1)
	files=$(find "$work" -type f | wc -l)
	bytes=$(find "$work" -type f -exec cat {} + | wc -c)
	line=$(printf '%-12s %-6s runs %-10s exec/s %-7s corpus %5s files %8s bytes  %s' \
	    "fuzz_$t" "$res" "${runs:-?}" "${eps:-?}" "$files" "$bytes" "${cov:-}")
	echo "$line"
	summary="$summary$line
"
done
echo "=== make fuzz: ${secs}s per target"
printf '%s' "$summary"
exit $status
