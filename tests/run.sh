#!/usr/bin/env bash
# Test runner: the cmocka unit binaries given as arguments, then every
# tests/integration/*.sh.  Integration scripts print one line per check,
# "PASS: name", "FAIL: name: why" or "SKIP: name: why" (see tests/lib.sh).
# Ends with one line "tests: N passed, N failed, N skipped"; exits 1 on any
# failure.
set -u
O=${O:-build}
export O
passed=0 failed=0 skipped=0
failures=()

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

for t in tests/integration/*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	log=$(mktemp)
	bash "$t" >"$log" 2>&1
	rc=$?
	p=$(grep -c '^PASS: ' "$log")
	f=$(grep -c '^FAIL: ' "$log")
	s=$(grep -c '^SKIP: ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL: $name: script exited $rc without naming a failed check" >>"$log"
		f=1
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	echo "integration $name: $p passed, $f failed, $s skipped"
	grep -E '^(FAIL|SKIP): ' "$log" | sed 's/^/    /'
	if [ "$f" -ne 0 ]; then
		failures+=("integration $name")
		if [ -n "${VERBOSE:-}" ]; then sed 's/^/    | /' "$log"; fi
	fi
	rm -f "$log"
done

echo
[ ${#failures[@]} -eq 0 ] || printf 'failed: %s\n' "${failures[@]}"
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
