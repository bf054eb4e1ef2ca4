#!/usr/bin/env bash
# samples.sh — every sample with an expectation file (samples/DIR/NAME.expect)
# under racewatch, through tests/samples_check.sh; its "PASS name" /
# "FAIL name: why" / "SKIP name: why" lines become this suite's
# "PASS: samples/name" / "FAIL: samples/name: why" / "SKIP: ..." lines.
set -u
cd "$(dirname "$0")/../.." || exit 1
O=${O:-build} bash tests/samples_check.sh "$@" | sed -n \
	-e 's|^PASS \([^ ]*\)$|PASS: samples/\1|p' \
	-e 's|^FAIL \([^:]*\): |FAIL: samples/\1: |p' \
	-e 's|^SKIP \([^:]*\): |SKIP: samples/\1: |p' \
	-e 's|^samples-check: |  note: samples-check: |p'
exit 0
