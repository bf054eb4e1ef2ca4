#!/usr/bin/env bash
# run_race.sh — `racewatch run` on samples/basic/race_rw.c and its race-free
# twin race_rw_locked.c, for each backend that delivers here (perf, ptrace,
# code; one SKIP line for a backend that does not) and for -O1 and -O2:
#
#   race_rw        the plain write/read race on foo is reported, with both
#                  functions in the header, both accesses (type, variable,
#                  size, thread, exact file:line) and exit status 66
#                  (--exitcode N changes it); the program's stdout is the
#                  same as without the tracer; the pair is printed once
#                  however often it is hit.
#   race_rw_locked never reported, exit 0, stdout unchanged.
#   race_rw -w counts
#                  the writer and the reader each touch their own member of
#                  one struct: different bytes, never reported.
#
# Detection is sampled: checks that expect a report retry until a deadline;
# checks that must never see one run for at least as long as the racy sample
# typically needs to be caught many times over (see TWIN_SECS below).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

SRC=samples/basic/race_rw.c
RACE_SECS=${RACE_SECS:-30}	# deadline for the racy sample to be reported
# The twin runs TWIN_RUNS times or for TWIN_SECS seconds, whichever ends
# later, TWIN_ITER iterations per thread each time.  Why that is enough:
# measured on the 2-vCPU VM, race_rw (2000 iterations) is reported in its
# first run 20 times out of 20 with either backend, at -O1 and -O2, with
# ~2000 accesses falling inside another thread's window per run (--stats
# concurrent_accesses); a twin run of 500 iterations opens ~1000 windows
# (every access is stalled), so 10 runs give a tracer that confuses "both
# threads touched foo" with "concurrently" ~10000 chances to say so, where
# the racy sample needs one.  A twin run costs ~0.4 s (its windows are
# serialized by the mutex), so the whole twin check takes ~5 s per backend
# and level.
TWIN_RUNS=${TWIN_RUNS:-10}
TWIN_SECS=${TWIN_SECS:-5}
TWIN_ITER=500
HEADER='BUG: racewatch: data-race in read_foo / update_foo'
RULE='=================================================================='

# ---- helpers --------------------------------------------------------------

# marker_line TAG: the line of SRC carrying /* TAG */ (exactly one).
marker_line() {
	local n
	n=$(grep -n "/\* $1 \*/" "$SRC" | cut -d: -f1)
	[ "$(printf '%s\n' "$n" | grep -c .)" = 1 ] && echo "$n"
}

# first_report FILE: the first read_foo/update_foo report, header to rule.
first_report() {
	awk -v h="$HEADER" -v r="$RULE" '$0 == h { on = 1 } on { print } on && $0 == r { exit }' "$1"
}

# access_check REPORT KIND FUNC LINE: REPORT has an access line
# "KIND to 0xADDR (foo) of 4 bytes by thread TID:" followed by the frame
# " #0 FUNC ...race_rw.c:LINE".  Prints "ADDR TID"; on error a reason, rc 1.
access_check() {
	local rep=$1 kind=$2 func=$3 line=$4 acc frame
	acc=$(printf '%s\n' "$rep" | grep -E -m1 -A1 \
		"^$kind to 0x[0-9a-f]+ \(foo\) of 4 bytes by thread [0-9]+:\$")
	if [ -z "$acc" ]; then
		echo "no '$kind to 0x... (foo) of 4 bytes by thread N:' line"
		return 1
	fi
	frame=$(printf '%s\n' "$acc" | sed -n 2p)
	if ! printf '%s\n' "$frame" | grep -Eq "^ #0 $func (.*/)?race_rw\.c:$line\$"; then
		echo "frame after '$kind' line is '$frame', want ' #0 $func .../race_rw.c:$line'"
		return 1
	fi
	printf '%s\n' "$acc" | head -n1 |
		sed -E 's/^[a-z]+ to 0x([0-9a-f]+) \(foo\) of 4 bytes by thread ([0-9]+):$/\1 \2/'
}

# ---- preconditions ------------------------------------------------------

if [ ! -x "$RW" ]; then
	fail race/tracer "$RW is missing: build it with make"
	exit 0
fi
probe_machine
case "$PROBE_OUT" in
*"ptrace: "*) ;;
*) fail race/probe "racewatch probe printed no 'ptrace:' line: $(printf '%s' "$PROBE_OUT" | tr '\n' ' ')"; exit 0 ;;
esac
tracing_ok race || exit 0
WLINE=$(marker_line RACE-WRITE) RLINE=$(marker_line RACE-READ)
if [ -z "$WLINE" ] || [ -z "$RLINE" ]; then
	fail race/markers "$SRC must carry exactly one /* RACE-WRITE */ and one /* RACE-READ */"
	exit 0
fi

# ---- the racy sample --------------------------------------------------------

# race_run OPTIONS...: one traced run of race_rw; 0 if it printed the
# read_foo/update_foo header.
race_run() {
	trace "$TMP/race" run --backend "$B" "$@" -- "$BIN"
	RUNS=$((RUNS + 1))
	grep -qx "$HEADER" "$TMP/race.err"
}

check_race() {
	local t=race/$B/$OPT rep w r waddr wtid raddr rtid symaddr n u

	native "$TMP/native" "$BIN"
	if [ "$RC" != 0 ]; then
		fail "$t/native" "race_rw-$OPT exits $RC without the tracer"
		return
	fi

	# (a) reported, with both accesses exactly.
	RUNS=0
	local t0=$SECONDS
	if ! retry_until "$RACE_SECS" race_run -w foo; then
		fail "$t/reported" "no '$HEADER' in $RUNS runs / ${RACE_SECS}s; last run $(why_rc "$RC"), stderr: $(tail_of "$TMP/race.err")"
		return
	fi
	pass "$t/reported"
	echo "  note: $t reported in run $RUNS after $((SECONDS - t0)) s"

	rep=$(first_report "$TMP/race.err")
	if [ "$(printf '%s\n' "$rep" | tail -n1)" = "$RULE" ] &&
	   grep -B1 -x "$HEADER" "$TMP/race.err" | head -n1 | grep -qx "$RULE"; then
		pass "$t/report-framed"
	else
		fail "$t/report-framed" "the report is not enclosed in lines of 66 '='"
	fi

	if w=$(access_check "$rep" write update_foo "$WLINE"); then
		pass "$t/write-access"
	else
		fail "$t/write-access" "$w"
	fi
	if r=$(access_check "$rep" read read_foo "$RLINE"); then
		pass "$t/read-access"
	else
		fail "$t/read-access" "$r"
	fi

	# Both accesses name the same address, that of foo (same offset in its
	# page as the link-time symbol: PIE moves whole pages), by two threads.
	read -r waddr wtid <<<"$w"
	read -r raddr rtid <<<"$r"
	symaddr=$(nm "$BIN" | awk '$3 == "foo" { print $1 }')
	if [ -z "$waddr" ] || [ -z "$raddr" ]; then
		fail "$t/same-address-two-threads" "accesses missing (see above)"
	elif [ "$waddr" != "$raddr" ]; then
		fail "$t/same-address-two-threads" "write at 0x$waddr, read at 0x$raddr"
	elif [ -n "$symaddr" ] && [ $((0x$waddr & 0xfff)) != $((0x$symaddr & 0xfff)) ]; then
		fail "$t/same-address-two-threads" "0x$waddr is not foo (link-time 0x$symaddr)"
	elif [ "$wtid" = "$rtid" ]; then
		fail "$t/same-address-two-threads" "both accesses by thread $wtid"
	else
		pass "$t/same-address-two-threads"
	fi

	if [ "$RC" = 66 ]; then pass "$t/exit-66"; else fail "$t/exit-66" "$(why_rc "$RC")"; fi
	if cmp -s "$TMP/race.out" "$TMP/native.out"; then
		pass "$t/stdout-unchanged"
	else
		fail "$t/stdout-unchanged" "traced '$(tail_of "$TMP/race.out")' vs native '$(tail_of "$TMP/native.out")'"
	fi

	# (b) --exitcode.
	RUNS=0
	if retry_until "$RACE_SECS" race_run -w foo --exitcode 3; then
		if [ "$RC" = 3 ]; then pass "$t/exitcode-3"; else fail "$t/exitcode-3" "$(why_rc "$RC")"; fi
	else
		fail "$t/exitcode-3" "no report in $RUNS runs / ${RACE_SECS}s"
	fi

	# Once per pair: a run that hits the pair many times (--stats
	# race_repeats; --overhead 0: no budget thins the hits out) still
	# prints exactly one report for it.
	RUNS=0
	once_run() {
		race_run -w foo --stats --overhead 0 || return 1
		n=$(stat_of "$TMP/race.err" race_repeats)
		[ "${n:-0}" -ge 100 ]
	}
	if retry_until "$RACE_SECS" once_run; then
		n=$(grep -cx "$HEADER" "$TMP/race.err")
		if [ "$n" = 1 ] && [ "$(stat_of "$TMP/race.err" races)" = 1 ]; then
			pass "$t/reported-once"
		else
			fail "$t/reported-once" "$n reports (stats races=$(stat_of "$TMP/race.err" races)) after $(stat_of "$TMP/race.err" race_repeats) repeats"
		fi
		# Every write to foo is update_foo's, trapped on an armed thread:
		# a change of foo is always explained, never "of unknown origin".
		n=$(grep -c '^BUG: racewatch' "$TMP/race.err")
		u=$(stat_of "$TMP/race.err" races_unknown_origin)
		if [ "$n" = 1 ] && [ "${u:-0}" = 0 ]; then
			pass "$t/no-unknown-origin"
		else
			fail "$t/no-unknown-origin" "$n reports in all, stats races_unknown_origin=$(stat_of "$TMP/race.err" races_unknown_origin): $(grep '^BUG: racewatch' "$TMP/race.err" | grep -vx "$HEADER" | head -n 2 | tr '\n' '|')$(grep -m1 -A1 'unknown origin' "$TMP/race.err" | tr '\n' '|')"
		fi
	elif grep -qx "$HEADER" "$TMP/race.err"; then
		fail "$t/reported-once" "never saw race_repeats >= 100 in --stats (last: '$(stat_of "$TMP/race.err" race_repeats)')"
	else
		fail "$t/reported-once" "no report in $RUNS runs / ${RACE_SECS}s"
	fi
}

# ---- the race-free twin, and disjoint members -------------------------------

check_twin() {
	local t=race/$B/$OPT/locked-twin twin=$SAMPLES/basic/race_rw_locked-$OPT
	local runs=0 end=$((SECONDS + TWIN_SECS)) traps=0 bad="" n

	native "$TMP/tnative" "$twin" $TWIN_ITER
	if [ "$RC" != 0 ]; then
		fail "$t" "race_rw_locked-$OPT exits $RC without the tracer"
		return
	fi
	while [ -z "$bad" ] && { [ $runs -lt $TWIN_RUNS ] || [ $SECONDS -lt $end ]; }; do
		trace "$TMP/twin" run --backend "$B" -w foo --stats -- "$twin" $TWIN_ITER
		runs=$((runs + 1))
		n=$(stat_of "$TMP/twin.err" traps)
		traps=$((traps + ${n:-0}))
		if grep -q '^BUG: racewatch' "$TMP/twin.err"; then
			bad="run $runs reported: $(grep -m1 '^BUG: racewatch' "$TMP/twin.err")"
		elif [ "$RC" != 0 ]; then
			bad="run $runs: $(why_rc "$RC"), stderr: $(tail_of "$TMP/twin.err")"
		elif ! cmp -s "$TMP/twin.out" "$TMP/tnative.out"; then
			bad="run $runs: stdout '$(tail_of "$TMP/twin.out")' vs native '$(tail_of "$TMP/tnative.out")'"
		fi
	done
	if [ -n "$bad" ]; then
		fail "$t/never-reported" "$bad"
	else
		pass "$t/never-reported"
		echo "  note: $t: $runs runs, none reported"
	fi
	# Silence only means something if foo was really watched.
	if [ "$traps" -gt 0 ]; then
		pass "$t/watched"
	else
		fail "$t/watched" "no watchpoint traps in $runs runs (--stats traps)"
	fi
}

check_members() {
	local t=race/$B/$OPT/disjoint-members i bad=""

	for i in 1 2 3; do
		trace "$TMP/mem" run --backend "$B" -w counts --stats -- "$BIN" 500
		if grep -q '^BUG: racewatch' "$TMP/mem.err"; then
			bad="run $i reported: $(grep -m1 -A3 '^BUG: racewatch' "$TMP/mem.err" | tr '\n' '|')"
		elif [ "$RC" != 0 ]; then
			bad="run $i: $(why_rc "$RC"), stderr: $(tail_of "$TMP/mem.err")"
		elif [ "$(stat_of "$TMP/mem.err" traps)" -eq 0 ] 2>/dev/null ||
		     [ -z "$(stat_of "$TMP/mem.err" traps)" ]; then
			bad="run $i: counts was not watched (--stats traps: '$(stat_of "$TMP/mem.err" traps)')"
		fi
		[ -n "$bad" ] && break
	done
	if [ -n "$bad" ]; then fail "$t" "$bad"; else pass "$t"; fi
}

for B in perf ptrace code; do
	backend_ok "race/$B" "$B" || continue
	for OPT in O1 O2; do
		BIN=$SAMPLES/basic/race_rw-$OPT
		if [ ! -x "$BIN" ] || [ ! -x "$SAMPLES/basic/race_rw_locked-$OPT" ]; then
			fail "race/$B/$OPT" "samples not built ($BIN)"
			continue
		fi
		check_race
		check_twin
		check_members
	done
done
exit 0
