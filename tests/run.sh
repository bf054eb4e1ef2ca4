#!/usr/bin/env bash
# Test runner: the cmocka unit binaries given as arguments, then every
# tests/integration/*.sh.  Integration scripts print one line per check,
# "PASS: name", "FAIL: name: why" or "SKIP: name: why" (see tests/lib.sh);
# each line is shown here as soon as the check finishes.  A group the
# machine cannot run is one SKIP line with the reason, counted as skipped.
#
# The machine is asked once, here: `racewatch probe` (which tries every
# mechanism for real) is run before the scripts and its output exported as
# PROBE_OUT, which tests/lib.sh's probe_machine reads instead of probing
# again.  RACEWATCH_DEBUG=hw-silent in the environment (make test-blind)
# reaches the probe and every racewatch the scripts start.
#
# Ends with one line "tests: N passed, N failed, N skipped"; exits 1 on any
# failure.
set -u
O=${O:-build}
RW=${RW:-$O/racewatch}
export O RW
passed=0 failed=0 skipped=0
failures=()
t_start=$SECONDS

for bin in "$@"; do
	[ -x "$bin" ] || continue
	out=$("$bin" 2>&1)
	rc=$?
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -n1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -n1)
	s=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' | tail -n1)
	p=${p:-0} f=${f:-0} s=${s:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	echo "unit $(basename "$bin"): $p passed, $f failed"
	if [ "$f" -ne 0 ]; then
		printf '%s\n' "$out" | grep -E 'FAILED|ERROR|Failure|error:' | sed 's/^/    /'
		failures+=("unit $(basename "$bin")")
	fi
done

# The one probe of this run.
if [ -x "$RW" ]; then
	PROBE_OUT=$("$RW" probe 2>&1)
	echo "probe (${RACEWATCH_DEBUG:+RACEWATCH_DEBUG=$RACEWATCH_DEBUG, }exit $?):"
	printf '%s\n' "$PROBE_OUT" | sed 's/^/    /'
	export PROBE_OUT
fi

for t in tests/integration/*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	log=$(mktemp)
	t0=$SECONDS
	echo "integration $name:"
	# Each line as it comes; the whole output is kept in $log for counting.
	bash "$t" 2>&1 | tee "$log" | grep --line-buffered -E '^(PASS|FAIL|SKIP): |^  note: ' | sed -u 's/^/  /'
	rc=${PIPESTATUS[0]}
	p=$(grep -c '^PASS: ' "$log")
	f=$(grep -c '^FAIL: ' "$log")
	s=$(grep -c '^SKIP: ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "  FAIL: $name: script exited $rc without naming a failed check"
		f=1
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	echo "integration $name: $p passed, $f failed, $s skipped ($((SECONDS - t0)) s)"
	if [ "$f" -ne 0 ]; then
		failures+=("integration $name")
		if [ -n "${VERBOSE:-}" ]; then sed 's/^/    | /' "$log"; fi
	fi
	rm -f "$log"
done

echo
[ ${#failures[@]} -eq 0 ] || printf 'failed: %s\n' "${failures[@]}"
echo "wall time: $((SECONDS - t_start)) s"
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
