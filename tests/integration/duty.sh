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
#                 (retried: a loaded machine preempts it; see below)
#   auto          --backend auto with 4 -w: code sites when the cached
#                 per-switch cost (measured by the run itself if no probe
#                 did this boot) makes 4 slots cost >= 40 us a switch, perf
#                 otherwise (the note and the summary's backend say it)
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

# The per-switch cost the tracer reads: the probe cache's line for this boot
# (another probe on the machine may rewrite it: read before and after).
cached_cost() {
	local f boot
	if [ "$(id -u)" = 0 ]; then f=/run/racewatch/probe-0; else f=/tmp/racewatch-probe-$(id -u); fi
	boot=$(cat /proc/sys/kernel/random/boot_id)
	sed -n "s/^$boot any context-switch-us 1 \([0-9.]*\)\$/\1/p" "$f" 2>/dev/null | tail -n 1
}

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
# A program that does not switch is not switched off -- but a loaded machine
# preempts even a computing thread (nonvoluntary switches, as dear as any):
# tried until a run shows it or QUIET_SECS pass; then the tracer's own trace
# says whether it only reacted to switches that did happen (SKIP: too loaded
# here) or switched off a thread that hardly switched (FAIL).
QUIET_SECS=${QUIET_SECS:-30}
native "$TMP/qn" "$PP" quiet 300000000
quiet_once() {
	RACEWATCH_DEBUG=hw-trust,trace trace "$TMP/q" run --backend perf -w rarely --stats -- "$PP" quiet 300000000
	s=$(share "$TMP/q.err")
	[ "$RC" = 0 ] && cmp -s "$TMP/qn.out" "$TMP/q.out" && [ -n "$s" ] && [ "$s" -ge 950 ]
}
if retry_until "$QUIET_SECS" quiet_once; then
	pass duty/quiet
elif [ "$RC" != 0 ] || ! cmp -s "$TMP/qn.out" "$TMP/q.out"; then
	fail duty/quiet "$(why_rc "$RC"), output $(head -c 100 "$TMP/q.out"): $(tail_of "$TMP/q.err")"
else
	# "thread T: R switches/s, N slot(s): armed P% of the time"
	low=$(sed -n 's/^racewatch: debug: thread [0-9]*: \([0-9]*\) switches\/s, .*armed \([0-9]*\)% .*/\1 \2/p' "$TMP/q.err" |
		awk -v us="$(cached_cost)" 'BEGIN { if (us == "") us = 12 }
			$2 < 95 && $1 * us * 1e-6 < 0.04 { print; exit }')
	rates=$(sed -n 's/^racewatch: debug: thread [0-9]*: \([0-9]*\) switches\/s.*/\1/p' "$TMP/q.err" | tr '\n' ' ')
	if [ -n "$low" ] || [ -z "$rates" ]; then
		fail duty/quiet "armed share ${s:-missing}/1000, want >= 950 (switches/s and armed %: ${low:-no rate line})"
	else
		skip duty/quiet "this machine is too loaded: the computing thread was preempted ${rates}times a second"
	fi
fi

# ---- auto --------------------------------------------------------------------
# (If no probe measured it this boot, the run measures and caches it.)
before=$(cached_cost)
RACEWATCH_DEBUG=hw-trust trace "$TMP/u" run -w g_count -w g_total -w g_flags -w g_state -- "$SIX"
us=$(cached_cost)
if [ -z "$us" ]; then
	fail duty/auto "no per-switch cost in the probe cache after a run with perf trusted: $(tail_of "$TMP/u.err")"
elif [ -n "$before" ] && [ "$before" != "$us" ]; then
	skip duty/auto "racewatch probe's cached per-switch cost changed during the run (another probe on this machine)"
else
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
