#!/bin/sh
# run.sh SECONDS BIN...: run each libFuzzer harness for SECONDS on its
# corpus (build-fuzz/corpus/NAME, seeded by seeds.sh and grown by the run),
# and print one line per harness:
#   fuzz NAME: N executions in S s, no finding
#   fuzz NAME: FINDING after N executions (see DIR/NAME.log, DIR/crash-*)
# Exits 1 if any harness found something.  FUZZ_JOBS=N runs N processes
# per harness (-fork=N), so that a crash in a library does not end the run.
set -u
secs=$1; shift
rc=0
for bin in "$@"; do
	name=$(basename "$bin" | sed 's/^fuzz_//')
	dir=$(dirname "$bin")
	corpus=$dir/corpus/$name
	mkdir -p "$corpus" "$dir/findings"
	log=$dir/$name.log
	fork=""
	[ -n "${FUZZ_JOBS:-}" ] && fork="-fork=$FUZZ_JOBS -ignore_crashes=0"
	# shellcheck disable=SC2086
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		"$bin" $fork -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$dir/findings/$name-" "$corpus" >"$log" 2>&1
	st=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	[ -n "$execs" ] || execs=$(grep -oE '#[0-9]+' "$log" | tail -n 1 | tr -d '#')
	took=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	if [ $st -eq 0 ]; then
		echo "fuzz $name: ${execs:-?} executions in ${secs}s (${took:-?}/s), no finding"
	else
		echo "fuzz $name: FINDING after ${execs:-?} executions (see $log, $dir/findings/)"
		grep -m 3 -E 'ERROR: |SUMMARY: |runtime error' "$log" | sed 's/^/    /'
		rc=1
	fi
done
exit $rc
