#!/usr/bin/env bash
# fuzz.sh — a smoke run of the libFuzzer harnesses (make fuzz) inside
# make test: built with clang, ASan and UBSan, a few seconds each
# (FUZZ_SMOKE_SECONDS, default 3).  One line per harness; SKIP without
# clang's libFuzzer.  The long run is `make fuzz FUZZ_SECONDS=N`.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

if ! command -v "${FUZZ_CC:-clang}" >/dev/null ||
	! echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' |
		"${FUZZ_CC:-clang}" -x c -fsanitize=fuzzer -o "$TMP/probe" - >/dev/null 2>&1; then
	skip fuzz "no clang with libFuzzer here (scripts/deps.sh installs clang and libclang-rt-14-dev)"
	exit 0
fi
timeout -k 10 900 make -s --no-print-directory fuzz FUZZ_SECONDS="${FUZZ_SMOKE_SECONDS:-3}" >"$TMP/fuzz.log" 2>&1
rc=$?
n=0
while IFS= read -r line; do
	name=${line#fuzz }
	name="fuzz ${name%%:*}"
	case "$line" in
	*"no finding") pass "$name"; n=$((n + 1)) ;;
	*FINDING*) fail "$name" "${line#*: }"; n=$((n + 1)) ;;
	esac
done < <(grep '^fuzz ' "$TMP/fuzz.log")
if [ $n -eq 0 ]; then
	fail fuzz "make fuzz ran no harness (status $rc): $(tail_of "$TMP/fuzz.log")"
fi
