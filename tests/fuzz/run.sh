#!/usr/bin/env bash
# tests/fuzz/run.sh TARGET... SECONDS: runs each libFuzzer target for SECONDS under
# AddressSanitizer (with leak detection) and UBSan, starting from its seed corpus
# tests/fuzz/corpus/TARGET/ (read only: new inputs go to a temporary directory) and its
# dictionary tests/fuzz/TARGET.dict if there is one. Fails
# when any target crashes, leaks, trips UBSan or hangs on an input; the input that did
# it is kept in $FUZZ_OUT (default build-fuzz/fuzz-out/TARGET/) to reproduce with
#   build-fuzz/tests/fuzz/fuzz_TARGET INPUT
# Prints one line per target: how many runs, how long, clean or not.
# FUZZ_BUILD: the build directory made with -Dfuzz=true (default build-fuzz).
# FUZZ_TIMEOUT: seconds one input may take (default 60: inputs take well under a
# millisecond, but a loaded shared machine stalled a process for 14 s).
set -uo pipefail

SRC=$(cd "$(dirname "$0")/../.." && pwd)
FUZZ_BUILD=${FUZZ_BUILD:-$SRC/build-fuzz}
[ $# -ge 2 ] || { echo "usage: $0 TARGET... SECONDS" >&2; exit 2; }
SECONDS_EACH=${*: -1}
FUZZ_TIMEOUT=${FUZZ_TIMEOUT:-60}
TARGETS=("${@:1:$#-1}")
[[ $SECONDS_EACH =~ ^[0-9]+$ ]] && [ "$SECONDS_EACH" -gt 0 ] || { echo "SECONDS must be a positive number, not '$SECONDS_EACH'" >&2; exit 2; }

# Sanitizers: a leak or any UBSan report ends the run with an error.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}

rc=0
for t in "${TARGETS[@]}"; do
	bin=$FUZZ_BUILD/tests/fuzz/fuzz_$t
	seeds=$SRC/tests/fuzz/corpus/$t
	out=${FUZZ_OUT:-$FUZZ_BUILD/fuzz-out}/$t
	if [ ! -x "$bin" ]; then
		echo "fuzz $t: no $bin (make fuzz builds it)" >&2
		rc=1
		continue
	fi
	[ -d "$seeds" ] || { echo "fuzz $t: no seed corpus $seeds" >&2; rc=1; continue; }
	mkdir -p "$out"
	work=$(mktemp -d "/tmp/psw-fuzz-$t.XXXXXX")
	log=$out/fuzz.log
	dict=()
	[ -f "$SRC/tests/fuzz/$t.dict" ] && dict=(-dict="$SRC/tests/fuzz/$t.dict")
	"$bin" -max_total_time="$SECONDS_EACH" -timeout="$FUZZ_TIMEOUT" -rss_limit_mb=2048 -print_final_stats=1 \
		"${dict[@]}" -artifact_prefix="$out/" "$work" "$seeds" >"$log" 2>&1
	r=$?
	runs=$(grep -o 'Done [0-9]* runs in [0-9]* second' "$log" | tail -1 | grep -o '[0-9]*' | head -1)
	new=$(find "$work" -type f | wc -l)
	rm -rf "$work"
	if [ $r -eq 0 ]; then
		echo "fuzz $t: clean, ${runs:-?} runs in ${SECONDS_EACH}s, $(find "$seeds" -type f | wc -l) seeds, $new new inputs"
	else
		rc=1
		echo "fuzz $t: FAILED (exit $r) after ${runs:-?} runs; artifact: $(ls -t "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-* 2>/dev/null | head -1)"
		grep -E 'ERROR: |runtime error|SUMMARY' "$log" | head -5
		echo "  log: $log"
	fi
done
exit $rc
