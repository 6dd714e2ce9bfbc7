#!/usr/bin/env bash
# tests/fuzz/run.sh BUILD_DIR SECONDS [TARGET...]: run each libFuzzer target (default: every
# fuzz_* in BUILD_DIR/tests/fuzz) for SECONDS, under the AddressSanitizer and UBSan it was
# built with (meson -Dfuzz=true -Db_sanitize=address,undefined: make fuzz). Starts from the
# seed corpus tests/fuzz/corpus/<target>/ plus what earlier runs found
# (BUILD_DIR/fuzz-corpus/<target>/), with the dictionary tests/fuzz/<target>.dict if there
# is one. A crash, a leak, undefined behaviour, a timeout or a
# target's own check fails the run; its input is kept in BUILD_DIR/fuzz-artifacts/ and
# the end of its log printed. Prints one line per target: runs, seconds, coverage.
# FUZZ_TIMEOUT: seconds one input may take (default 60: inputs take well under a
# millisecond, but a loaded shared machine stalled a process for 14 s).
set -uo pipefail
BUILD=${1:?usage: run.sh BUILD_DIR SECONDS [TARGET...]}
SECS=${2:?usage: run.sh BUILD_DIR SECONDS [TARGET...]}
shift 2
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "$BUILD" && pwd)
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for f in "$BUILD"/tests/fuzz/fuzz_*; do
		[ -x "$f" ] && [ -f "$f" ] && targets+=("$(basename "$f" | sed 's/^fuzz_//')")
	done
fi
[ ${#targets[@]} -gt 0 ] || { echo "run.sh: no fuzz targets in $BUILD/tests/fuzz (meson -Dfuzz=true?)" >&2; exit 2; }

ART=$BUILD/fuzz-artifacts
mkdir -p "$ART"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
failed=0
for t in "${targets[@]}"; do
	exe=$BUILD/tests/fuzz/fuzz_$t
	[ -x "$exe" ] || { echo "fuzz_$t: no such target" >&2; failed=1; continue; }
	corpus=$BUILD/fuzz-corpus/$t
	mkdir -p "$corpus"
	tmp=$(mktemp -d "/tmp/psw-fuzz-$t.XXXXXX")
	log=$BUILD/fuzz-$t.log
	seeds=()
	[ -d "$SRC/tests/fuzz/corpus/$t" ] && seeds=("$SRC/tests/fuzz/corpus/$t")
	dict=()
	[ -f "$SRC/tests/fuzz/$t.dict" ] && dict=(-dict="$SRC/tests/fuzz/$t.dict")
	start=$SECONDS
	# Own temp dir, own DPDK prefix (psw_fuzz_<t>_<pid>); both removed below.
	TMPDIR=$tmp "$exe" -max_total_time="$SECS" -timeout="${FUZZ_TIMEOUT:-60}" -rss_limit_mb=2048 \
		-max_len=8192 -print_final_stats=1 "${dict[@]}" -artifact_prefix="$ART/$t-" \
		"$corpus" "${seeds[@]}" >"$log" 2>&1 &
	pid=$!
	wait $pid
	rc=$?
	rm -rf "$tmp" "/var/run/dpdk/psw_fuzz_${t}_$pid"
	runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
	if [ $rc -ne 0 ]; then
		echo "fuzz_$t: FAILED after $((SECONDS - start)) s (exit $rc); input in $ART/, log $log:"
		grep -v '^"\|^#' "$log" | grep -v '^ *$' | tail -40
		failed=1
	else
		echo "fuzz_$t: clean for $((SECONDS - start)) s, ${runs:-?} runs, coverage ${cov:-?} edges"
	fi
done
exit $failed
