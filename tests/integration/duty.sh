#!/usr/bin/env bash
# duty.sh — the armed-time duty cycle (issue 15): perf slots that never fire
# still cost every context switch, so a thread that switches often has them
# armed only part of the time.  Every run here uses RACEWATCH_DEBUG=hw-trust
# (perf taken as delivering without asking the probe), so the checks run the
# same on a machine whose debug registers never trap: what is measured is
# the armed state, not detection.
#
#   switch-heavy  pingpong (4 threads handing a token through pipes, tens of
#                 thousands of switches a second) under --backend perf
#                 -w rarely --stats: armed_share (armed_ms / traced_ms) well
#                 below 1 (< 0.6; the main thread, which barely switches,
#                 stays armed), the program's output and status unchanged
#   armed-always  the same with RACEWATCH_DEBUG=armed-always: share 1.000
#                 (the switch that bench uses to compare, and proof that
#                 the share is measured, not constant)
#   quiet         one thread computing without system calls: share >= 0.95
#   auto          --backend auto with 4 -w: code sites when the probe's
#                 per-switch cost makes 4 slots cost >= 40 us a switch,
#                 perf otherwise (the note and the summary's backend say it)
# Skipped as a group only when perf breakpoint events cannot even be opened
# here (probe: perf-breakpoint: no, for a reason other than undelivered traps).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

PP=$SAMPLES/lifecycle/pingpong-O2
SIX=$SAMPLES/basic/six_globals-O2
if [ ! -x "$RW" ] || [ ! -x "$PP" ] || [ ! -x "$SIX" ]; then
	fail duty/build "$RW or the samples are missing: build with make"
	exit 0
fi
probe_machine
line=$(probe_line perf-breakpoint)
case "$line" in
*": yes"*|*"armed, but 0 of"*) ;;
*)
	skip duty "perf breakpoint events cannot be armed here ($(printf '%s' "$line" | cut -c1-120))"
	exit 0
	;;
esac

# share FILE: armed_share x 1000 as an integer, or empty.
share() {
	local a t
	a=$(stat_of "$1" armed_ms) t=$(stat_of "$1" traced_ms)
	[ -n "$a" ] && [ -n "$t" ] && [ "$t" -gt 0 ] && echo $((a * 1000 / t))
}

native "$TMP/n" "$PP" 100000 4
if [ "$RC" != 0 ]; then
	fail duty/native "pingpong itself: $(why_rc "$RC"): $(tail_of "$TMP/n.err")"
	exit 0
fi

# ---- switch-heavy -------------------------------------------------------------
RACEWATCH_DEBUG=hw-trust trace "$TMP/h" run --backend perf -w rarely --stats -- "$PP" 100000 4
s=$(share "$TMP/h.err")
if [ "$RC" != 0 ]; then
	fail duty/switch-heavy "$(why_rc "$RC"): $(tail_of "$TMP/h.err")"
elif ! cmp -s "$TMP/n.out" "$TMP/h.out"; then
	fail duty/switch-heavy "output differs from native: $(head -c 200 "$TMP/h.out")"
elif [ -z "$s" ]; then
	fail duty/switch-heavy "no armed_ms / traced_ms in --stats: $(tail_of "$TMP/h.err")"
elif [ "$s" -ge 600 ]; then
	fail duty/switch-heavy "armed share $s/1000, want < 600 ($(grep -m1 'stats: armed_share' "$TMP/h.err"))"
else
	pass duty/switch-heavy
fi

# ---- armed-always ------------------------------------------------------------
native "$TMP/an" "$PP" 20000 4
RACEWATCH_DEBUG=hw-trust,armed-always trace "$TMP/a" run --backend perf -w rarely --stats -- "$PP" 20000 4
s=$(share "$TMP/a.err")
if [ "$RC" != 0 ] || ! cmp -s "$TMP/an.out" "$TMP/a.out"; then
	fail duty/armed-always "$(why_rc "$RC"), output $(head -c 100 "$TMP/a.out"): $(tail_of "$TMP/a.err")"
elif [ "$s" != 1000 ]; then
	fail duty/armed-always "armed share ${s:-missing}/1000, want 1000"
else
	pass duty/armed-always
fi

# ---- quiet -------------------------------------------------------------------
native "$TMP/qn" "$PP" quiet 300000000
RACEWATCH_DEBUG=hw-trust trace "$TMP/q" run --backend perf -w rarely --stats -- "$PP" quiet 300000000
s=$(share "$TMP/q.err")
if [ "$RC" != 0 ] || ! cmp -s "$TMP/qn.out" "$TMP/q.out"; then
	fail duty/quiet "$(why_rc "$RC"), output $(head -c 100 "$TMP/q.out"): $(tail_of "$TMP/q.err")"
elif [ -z "$s" ] || [ "$s" -lt 950 ]; then
	fail duty/quiet "armed share ${s:-missing}/1000, want >= 950"
else
	pass duty/quiet
fi

# ---- auto --------------------------------------------------------------------
# The cost the probe run above measured and cached (the tracer reads it).
us=$(printf '%s\n' "$PROBE_OUT" | sed -n 's/^context-switch: \([0-9.]*\) us .*/\1/p')
if [ -z "$us" ]; then
	skip duty/auto "racewatch probe measured no context-switch cost here"
else
	RACEWATCH_DEBUG=hw-trust trace "$TMP/u" run -w g_count -w g_total -w g_flags -w g_state -- "$SIX"
	dear=$(awk -v u="$us" 'BEGIN { print (u * 4 >= 40) ? 1 : 0 }')
	want=perf
	[ "$dear" = 1 ] && want=code
	got=$(sed -n 's/^racewatch: summary: .*; backend \(.*\)$/\1/p' "$TMP/u.err" | tail -n 1)
	if [ "$got" != "$want" ]; then
		fail duty/auto "per-switch cost $us us x 4 slots: want backend $want, got '${got:-no summary}': $(tail_of "$TMP/u.err")"
	elif [ "$dear" = 1 ] && ! grep -q '^racewatch: backend code: 4 debug-register slot(s) would cost' "$TMP/u.err"; then
		fail duty/auto "no 'backend code: 4 debug-register slot(s) would cost ...' note"
	else
		pass duty/auto
	fi
fi
