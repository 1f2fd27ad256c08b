#!/bin/sh
# make check: run every seed and every regression input through each fuzz
# target, with the plain driver (replay.c) built in every configuration.
# A failed invariant aborts; with --enable-sanitizers (or --enable-fuzzing)
# so does any ASan or UBSan report.
set -u
srcdir=${srcdir:-$(dirname "$0")/../..}
dir=$srcdir/tests/fuzz
status=0
for t in http ws utf8 chat broker; do
	bin=./tests/fuzz/replay_$t
	if [ ! -x "$bin" ]; then
		echo "FAIL: $bin not built"
		status=1
		continue
	fi
	set --
	for d in "$dir/corpus/$t" "$dir/regressions/$t"; do
		[ -d "$d" ] && set -- "$@" "$d"
	done
	if [ $# -eq 0 ]; then
		echo "FAIL: no inputs for $t in $dir"
		status=1
		continue
	fi
	if "$bin" "$@"; then
		echo "PASS: $t"
	else
		echo "FAIL: $t (a failing input is named above)"
		status=1
	fi
done
exit $status
