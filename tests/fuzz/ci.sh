#!/bin/sh
# CI: build the libFuzzer targets and run each for 60 seconds (FUZZ_TIME).
# Needs clang and libclang-rt-14-dev.  Usage from the top of the source
# tree:  tests/fuzz/ci.sh [seconds]
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-60}
if [ ! -x "$top/configure" ]; then
	(cd "$top" && autoreconf -fi)
fi
mkdir -p "$top/build/fuzz"
cd "$top/build/fuzz"
[ -f Makefile ] || CC=clang "$top/configure" -q --enable-fuzzing
make -s -j"$(nproc)"
# The regressions and seeds, then the fuzzing itself.
make -j"$(nproc)" check TESTS=tests/fuzz/run-replay.sh
make fuzz FUZZ_TIME="$secs"
