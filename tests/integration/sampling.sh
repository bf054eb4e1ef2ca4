#!/usr/bin/env bash
# sampling.sh — racewatch with no -w samples the program's own accesses
# (DataCollider, issue 13).  For each heap sample, at -O1 and -O2:
#
#   heap_struct / heap_list     a data-race is reported without naming
#                               anything, within a deadline (retried runs),
#                               its bytes named from DWARF (heap struct
#                               account.balance, heap struct node.hits);
#                               the program's stdout is as without the tracer.
#   *_locked twins              never reported in TWIN_RUNS (10) runs of
#                               TWIN_SECS (10) s each, the program bounding
#                               its own time ("10s"), the runs alternating
#                               -O1 and -O2, the two twins side by side.
#   -w given                    no sampling: the note is absent.
#   attach without -w           samples too, and the target runs on to its
#                               native end after the detach.
# Windows' hardware watchpoints in the other threads (window_hw.c):
#   hw-trust/*                  RACEWATCH_DEBUG=hw-trust arms them even where
#                               the probe says they do not deliver: the race
#                               is still reported, the twin stays silent,
#                               window_hw_armed > 0, the program's output and
#                               status are unchanged; attached, the target
#                               is left untraced, running, and ends with its
#                               own result having seen no SIGURG.
#   hw/both-sides               where perf breakpoints deliver (the real
#                               probe): a both-sides report (data-race in
#                               X / Y) caught by a window's watchpoint
#                               (window_hw_hits > 0); skipped elsewhere.
#   slow-exit                   samples/lifecycle/slow_exit: a process whose
#                               memory is gone while its exit is not yet
#                               reported; racewatch ends with it, exit 0, in
#                               every one of EXIT_RUNS runs (it used to spin
#                               re-drawing sites it could not plant).
#
# Needs code breakpoints (int3): skipped, one line, where probe says no.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
. tests/attach_lib.sh
probe_machine

RACE_SECS=${RACE_SECS:-30}
TWIN_RUNS=${TWIN_RUNS:-10}
TWIN_SECS=${TWIN_SECS:-10}
EXIT_RUNS=${EXIT_RUNS:-20}

if ! printf '%s' "$PROBE_OUT" | grep -q '^int3: yes'; then
	skip "sampling" "code breakpoints do not work here (racewatch probe: $(printf '%s' "$PROBE_OUT" | grep '^int3:'))"
	exit 0
fi

# reported SAMPLE HEADER_RE: one run reports a race whose header matches.
reported() {
	local s=$1 re=$2
	trace "$TMP/r" run -- "$SAMPLES/heap/$s"
	[ "$RC" = 66 ] && grep -Eq "$re" "$TMP/r.err"
}

for opt in O1 O2; do
	for pair in "heap_struct:struct account.(balance|ops):BUG: racewatch: data-race in (deposit|withdraw)" \
		    "heap_list:struct node.hits:BUG: racewatch: data-race in visit"; do
		s=${pair%%:*} rest=${pair#*:} what=${rest%%:*} re=${rest#*:}
		name="sampling/$s-$opt"
		native "$TMP/n" "$SAMPLES/heap/$s-$opt"
		start=$SECONDS
		if retry_until "$RACE_SECS" reported "$s-$opt" "$re"; then
			if ! cmp -s "$TMP/n.out" "$TMP/r.out"; then
				fail "$name" "stdout differs from the native run"
			elif ! grep -Eq "\(heap $what\)" "$TMP/r.err"; then
				fail "$name" "the report does not name the bytes 'heap $what': $(grep -m1 ' to 0x' "$TMP/r.err")"
			else
				pass "$name (reported after $((SECONDS - start)) s)"
			fi
		else
			fail "$name" "no report in $RACE_SECS s; last: $(why_rc "$RC"); $(tail_of "$TMP/r.err")"
		fi
	done
done

# twin_runs NAME: TWIN_RUNS runs of TWIN_SECS s of NAME_locked, -O1 and -O2
# in turn; the first run that reports, fails or samples nothing is written
# to $TMP/NAME.bad (empty: all silent).
twin_runs() {
	local s=$1 i twin bad="" w windows=0
	for i in $(seq "$TWIN_RUNS"); do
		twin=${s}_locked-O$((2 - i % 2))
		RW_TIMEOUT=$((TWIN_SECS + 60)) trace "$TMP/t-$s" run -- "$SAMPLES/heap/$twin" "${TWIN_SECS}s"
		if [ "$RC" != 0 ] || grep -q 'BUG: racewatch' "$TMP/t-$s.err"; then
			bad="run $i ($twin): $(why_rc "$RC"); $(grep -m1 'BUG' "$TMP/t-$s.err")"
			break
		fi
		if ! grep -q "^$s: done, .*$TWIN_SECS s\$" "$TMP/t-$s.out"; then
			bad="run $i ($twin): not the native output: $(tail_of "$TMP/t-$s.out")"
			break
		fi
		if ! grep -q 'windows' "$TMP/t-$s.err" || grep -q ' 0 traps' "$TMP/t-$s.err"; then
			bad="run $i ($twin) sampled nothing: $(grep summary "$TMP/t-$s.err")"
			break
		fi
		w=$(sed -n 's/.* \([0-9][0-9]*\) windows,.*/\1/p' "$TMP/t-$s.err")
		windows=$((windows + ${w:-0}))
	done
	printf '%s' "$bad" >"$TMP/$s.bad"
	echo "$windows" >"$TMP/$s.windows"
}
twin_runs heap_struct &
tw1=$!
twin_runs heap_list &
tw2=$!
wait "$tw1" "$tw2"
for s in heap_struct heap_list; do
	name="sampling/${s}_locked-silent-${TWIN_RUNS}x${TWIN_SECS}s"
	if [ ! -f "$TMP/$s.bad" ]; then
		fail "$name" "the runs did not finish"
	elif [ -s "$TMP/$s.bad" ]; then
		fail "$name" "$(cat "$TMP/$s.bad")"
	else
		pass "$name ($(cat "$TMP/$s.windows") windows in all)"
	fi
done

# With -w, nothing is sampled.
trace "$TMP/w" run -w foo -- "$SAMPLES/basic/race_rw-O2"
if grep -q 'sampling the program' "$TMP/w.err"; then
	fail "sampling/not-with-w" "sampled although -w was given"
else
	pass "sampling/not-with-w"
fi

# attach without -w: samples, reports, detaches; the target ends natively.
"$SAMPLES/heap/heap_struct-O2" 3000000 >"$TMP/a.out" 2>&1 &
tpid=$!
( rw attach "$tpid" >"$TMP/att.out" 2>"$TMP/att.err" ) &
rpid=$!
end=$((SECONDS + RACE_SECS))
while [ $SECONDS -lt $end ] && ! grep -q 'BUG: racewatch' "$TMP/att.err" 2>/dev/null && kill -0 "$tpid" 2>/dev/null; do
	sleep 0.1
done
# SIGINT to racewatch itself: the background subshell ignores it.
pkill -INT -f "racewatch attach $tpid\$" 2>/dev/null || kill -INT "$rpid" 2>/dev/null
wait "$rpid" 2>/dev/null
wait "$tpid"; trc=$?
if ! grep -q 'sampling the program' "$TMP/att.err"; then
	fail "sampling/attach" "no sampling note: $(tail_of "$TMP/att.err")"
elif [ "$trc" != 0 ] || ! grep -q 'heap_struct: done' "$TMP/a.out"; then
	fail "sampling/attach" "the target did not end natively: status $trc, $(tail_of "$TMP/a.out")"
else
	pass "sampling/attach"
fi

# --modules: a shared object's accesses join the sample; its variable is
# named with its object.
mod_reported() {
	trace "$TMP/m" run --modules libshared.so -- "$SAMPLES/shlib/main_lib-O2"
	[ "$RC" = 66 ] && grep -q '(lib_private_counter (libshared.so))' "$TMP/m.err"
}
if retry_until "$RACE_SECS" mod_reported; then
	pass "sampling/modules"
else
	fail "sampling/modules" "no report on lib_private_counter (libshared.so) in $RACE_SECS s: $(tail_of "$TMP/m.err")"
fi
bad=""
for i in $(seq "$TWIN_RUNS"); do
	trace "$TMP/mt" run --modules libshared.so -- "$SAMPLES/shlib/main_lib_locked-O2"
	if [ "$RC" != 0 ] || grep -q 'BUG: racewatch' "$TMP/mt.err"; then bad="run $i: $(why_rc "$RC"); $(grep -m1 BUG "$TMP/mt.err")"; break; fi
	grep -q 'sampling libshared.so too' "$TMP/mt.err" || { bad="run $i: the library was not sampled"; break; }
done
if [ -z "$bad" ]; then pass "sampling/modules-twin-silent"; else fail "sampling/modules-twin-silent" "$bad"; fi

# ---- windows' hardware watchpoints (window_hw.c) ----------------------------

# RACEWATCH_DEBUG=hw-trust: armed for real even where they never fire.
hw_reported() {
	RACEWATCH_DEBUG=hw-trust trace "$TMP/h" run --stats -- "$SAMPLES/heap/heap_struct-O2" 200000
	[ "$RC" = 66 ] && grep -Eq 'BUG: racewatch: data-race in (deposit|withdraw)' "$TMP/h.err" &&
		[ "$(stat_of "$TMP/h.err" window_hw_armed)" -gt 0 ]
}
native "$TMP/hn" "$SAMPLES/heap/heap_struct-O2" 200000
if retry_until "$RACE_SECS" hw_reported; then
	if cmp -s "$TMP/hn.out" "$TMP/h.out"; then
		pass "sampling/hw-trust/race (window_hw_armed $(stat_of "$TMP/h.err" window_hw_armed), window_hw_hits $(stat_of "$TMP/h.err" window_hw_hits))"
	else
		fail "sampling/hw-trust/race" "stdout differs from the native run: $(tail_of "$TMP/h.out")"
	fi
else
	fail "sampling/hw-trust/race" "no report with window_hw_armed > 0 in $RACE_SECS s; last: $(why_rc "$RC"), window_hw_armed $(stat_of "$TMP/h.err" window_hw_armed); $(tail_of "$TMP/h.err")"
fi

bad="" armed=0
for s in heap_struct heap_list; do
	RACEWATCH_DEBUG=hw-trust trace "$TMP/ht" run --stats -- "$SAMPLES/heap/${s}_locked-O2" 2s
	if [ "$RC" != 0 ] || grep -q 'BUG: racewatch' "$TMP/ht.err"; then
		bad="${s}_locked: $(why_rc "$RC"); $(grep -m1 BUG "$TMP/ht.err")"
		break
	fi
	if ! grep -q "^$s: done, .*2 s\$" "$TMP/ht.out"; then
		bad="${s}_locked: not the native output: $(tail_of "$TMP/ht.out")"
		break
	fi
	armed=$((armed + $(stat_of "$TMP/ht.err" window_hw_armed)))
done
if [ -n "$bad" ]; then
	fail "sampling/hw-trust/twins-silent" "$bad"
elif [ "$armed" -eq 0 ]; then
	fail "sampling/hw-trust/twins-silent" "no window armed a watchpoint (window_hw_armed 0)"
else
	pass "sampling/hw-trust/twins-silent (window_hw_armed $armed)"
fi

# Attached with hw-trust: report, detach on SIGINT, nothing left behind.
t=sampling/hw-trust/attach
if ! start_target "$TMP/w" "$LC_SAMPLES/worker-O2" -s 0 -H; then
	fail "$t" "worker did not start: $(oneline "$TMP/w.err")"
else
	export RACEWATCH_DEBUG=hw-trust
	attach_bg "$TMP/a" --stats "$TPID"
	unset RACEWATCH_DEBUG
	if ! poll_until "$RACE_SECS" grep -q '^BUG: racewatch' "$TMP/a.err"; then
		fail "$t/race" "no report in $RACE_SECS s: $(oneline "$TMP/a.err")"
	else
		pass "$t/race"
	fi
	kill -INT "$RWPID"
	if ! wait_rc "$TMP/a" 15; then
		fail "$t/detach" "racewatch did not exit within 15 s of SIGINT"
	elif [ "$RC" != 66 ]; then
		fail "$t/detach" "racewatch exited with $(why_rc "$RC"), want 66; $(tail_of "$TMP/a.err")"
	elif [ "$(stat_of "$TMP/a.err" window_hw_armed)" -eq 0 ]; then
		fail "$t/detach" "no window armed a watchpoint (window_hw_armed 0)"
	else
		pass "$t/detach (window_hw_armed $(stat_of "$TMP/a.err" window_hw_armed))"
	fi
	if poll_until 2 untouched "$TPID" && runs_on "$TPID"; then
		pass "$t/untraced-running"
	else
		fail "$t/untraced-running" "$(describe "$TPID")"
	fi
	finish_worker "$t/target-result" "$TMP/w"
fi

# Where perf breakpoints really deliver: the other side is seen.
if [ "$HAVE_PERF" != 1 ]; then
	skip "sampling/hw/both-sides" "$(why_not perf)"
else
	both_sides() {
		trace "$TMP/b" run --stats -- "$SAMPLES/heap/heap_struct-O2" 200000
		[ "$RC" = 66 ] && grep -Eq 'BUG: racewatch: data-race in (deposit|withdraw) / (deposit|withdraw)' "$TMP/b.err" &&
			[ "$(stat_of "$TMP/b.err" window_hw_hits)" -gt 0 ]
	}
	if retry_until "$RACE_SECS" both_sides; then
		pass "sampling/hw/both-sides (window_hw_hits $(stat_of "$TMP/b.err" window_hw_hits))"
	else
		fail "sampling/hw/both-sides" "no both-sides report with window_hw_hits > 0 in $RACE_SECS s: window_hw_armed $(stat_of "$TMP/b.err" window_hw_armed), window_hw_hits $(stat_of "$TMP/b.err" window_hw_hits); $(tail_of "$TMP/b.err")"
	fi
fi
# A slow exit: every run ends with the program (RW_TIMEOUT bounds a hang).
bad=""
for i in $(seq "$EXIT_RUNS"); do
	RW_TIMEOUT=20 trace "$TMP/se" run -- "$SAMPLES/lifecycle/slow_exit-O2"
	if [ "$RC" != 0 ] || [ "$(cat "$TMP/se.out")" != "slow_exit: done" ]; then
		bad="run $i: $(why_rc "$RC"); $(tail_of "$TMP/se.err")"
		break
	fi
done
if [ -z "$bad" ]; then pass "sampling/slow-exit ($EXIT_RUNS runs)"; else fail "sampling/slow-exit" "$bad"; fi
