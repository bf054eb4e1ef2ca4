#!/usr/bin/env bash
# sampling.sh — racewatch with no -w samples the program's own accesses
# (DataCollider, issue 13).  For each heap sample, at -O1 and -O2:
#
#   heap_struct / heap_list     a data-race is reported without naming
#                               anything, within a deadline (retried runs),
#                               its bytes named from DWARF (heap struct
#                               account.balance, heap struct node.hits);
#                               the program's stdout is as without the tracer.
#   *_locked twins              never reported in TWIN_RUNS runs.
#   -w given                    no sampling: the note is absent.
#   attach without -w           samples too, and the target runs on to its
#                               native end after the detach.
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
probe_machine

RACE_SECS=${RACE_SECS:-30}
TWIN_RUNS=${TWIN_RUNS:-3}
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
		twin=${s}_locked-$opt
		bad=""
		for i in $(seq "$TWIN_RUNS"); do
			trace "$TMP/t" run -- "$SAMPLES/heap/$twin"
			if [ "$RC" != 0 ] || grep -q 'BUG: racewatch' "$TMP/t.err"; then
				bad="run $i: $(why_rc "$RC"); $(grep -m1 'BUG' "$TMP/t.err")"
				break
			fi
			if ! grep -q 'windows' "$TMP/t.err" || grep -q ' 0 traps' "$TMP/t.err"; then
				bad="run $i sampled nothing: $(grep summary "$TMP/t.err")"
				break
			fi
		done
		if [ -z "$bad" ]; then pass "sampling/$twin-silent"; else fail "sampling/$twin-silent" "$bad"; fi
	done
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
