#!/usr/bin/env bash
# probe.sh — `racewatch probe` tells the truth about this machine:
#
#   format        one line per mechanism (ptrace, perf-breakpoint,
#                 debug-registers, int3, code-sites) that starts "NAME: yes"
#                 or "NAME: no (reason)", plus the context-switch cost line;
#                 nothing else but "note: ..." lines
#   exit-status   0 when some mechanism (perf, debug registers or code
#                 sites) works, non-zero when none does
#   stable        a second probe (the cached self-test) gives the same
#                 yes / no answers
#   hw-silent     RACEWATCH_DEBUG=hw-silent arms the hardware breakpoints
#                 where nothing touches them: perf-breakpoint and
#                 debug-registers say "no (armed, but 0 of ...", int3 and
#                 code-sites keep the answer they have without the switch,
#                 and the probe says the switch is on
# None of this needs a trap to be delivered.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

if [ ! -x "$RW" ]; then
	fail probe/tracer "$RW is missing: build it with make"
	exit 0
fi

# The real probe, here (not run.sh's copy): its output and status.
( env -u RACEWATCH_DEBUG "$RW" probe >"$TMP/p.out" 2>"$TMP/p.err"; echo $? >"$TMP/p.rc" ) 2>/dev/null
rc=$(cat "$TMP/p.rc")
PROBE_OUT=$(cat "$TMP/p.out")
probe_machine

# answers FILE: "NAME yes|no" per mechanism line of a probe's output.
answers() { sed -nE 's/^(ptrace|perf-breakpoint|debug-registers|int3|uprobe|code-sites): (yes|no)( .*)?$/\1 \2/p' "$1"; }

# ---- format -------------------------------------------------------------------
why=""
for m in ptrace perf-breakpoint debug-registers int3 uprobe code-sites; do
	n=$(grep -cE "^$m: (yes|no \(.+\))" "$TMP/p.out")
	[ "$n" = 1 ] || why="${why}$m: $n lines like '$m: yes' / '$m: no (reason)'; "
done
other=$(grep -vE '^(ptrace|perf-breakpoint|debug-registers|int3|uprobe|code-sites): (yes|no \(.+\))|^context-switch: [0-9.]+ us |^note: ' "$TMP/p.out" | head -n 2)
[ -z "$other" ] || why="${why}unexpected lines: $(printf '%s' "$other" | tr '\n' '|')"
grep -qE '^context-switch: [0-9.]+ us ' "$TMP/p.out" || why="${why}no 'context-switch: N us ...' line"
if [ -z "$why" ]; then pass probe/format; else fail probe/format "$why"; fi

# A "no" says why; a "yes" of a hardware mechanism is only said after traps
# arrived, so it never carries the "0 of" of a blind one.
if grep -E '^(perf-breakpoint|debug-registers): yes' "$TMP/p.out" | grep -q ' 0 of '; then
	fail probe/yes-means-delivered "$(grep -E '^(perf-breakpoint|debug-registers): yes' "$TMP/p.out" | tr '\n' '|')"
else
	pass probe/yes-means-delivered
fi

# ---- exit status --------------------------------------------------------------
works=0
[ "$HAVE_PERF" = 1 ] || [ "$HAVE_DR" = 1 ] || [ "$HAVE_CODE" = 1 ] && works=1
if [ "$works" = 1 ] && [ "$rc" = 0 ]; then
	pass probe/exit-status
elif [ "$works" = 0 ] && [ "$rc" != 0 ] && [ "$rc" -lt 124 ]; then
	pass probe/exit-status
else
	fail probe/exit-status "$(why_rc "$rc") with perf=$HAVE_PERF debug-registers=$HAVE_DR code-sites=$HAVE_CODE"
fi
if [ -s "$TMP/p.err" ]; then
	fail probe/no-stderr "$(oneline "$TMP/p.err" 2>/dev/null || head -n 2 "$TMP/p.err" | tr '\n' '|')"
else
	pass probe/no-stderr
fi

# ---- stable -------------------------------------------------------------------
env -u RACEWATCH_DEBUG "$RW" probe >"$TMP/p2.out" 2>/dev/null
if [ "$(answers "$TMP/p.out")" = "$(answers "$TMP/p2.out")" ] && [ -n "$(answers "$TMP/p.out")" ]; then
	pass probe/stable
else
	fail probe/stable "first: $(answers "$TMP/p.out" | tr '\n' ' '); second: $(answers "$TMP/p2.out" | tr '\n' ' ')"
fi

# ---- RACEWATCH_DEBUG=hw-silent ------------------------------------------------------
( RACEWATCH_DEBUG=hw-silent "$RW" probe >"$TMP/s.out" 2>"$TMP/s.err"; echo $? >"$TMP/s.rc" ) 2>/dev/null
src=$(cat "$TMP/s.rc")
why=""
for m in perf-breakpoint debug-registers; do
	line=$(grep -m1 "^$m: " "$TMP/s.out")
	case "$line" in
	"$m: no (armed, but 0 of "*) ;;
	"$m: no ("*) [ "$(grep -m1 "^$m: " "$TMP/p.out" | cut -d' ' -f2)" = no ] ||
		why="${why}'$line' (want 'no (armed, but 0 of ...'); " ;;
	*) why="${why}'$line' (want 'no (armed, but 0 of ...'); " ;;
	esac
done
if [ -z "$why" ]; then pass probe/hw-silent/hardware-no; else fail probe/hw-silent/hardware-no "$why"; fi
want=$(answers "$TMP/p.out" | grep -E '^(ptrace|int3|code-sites) ')
got=$(answers "$TMP/s.out" | grep -E '^(ptrace|int3|code-sites) ')
if [ -n "$want" ] && [ "$want" = "$got" ]; then
	pass probe/hw-silent/others-unchanged
else
	fail probe/hw-silent/others-unchanged "without: $(printf '%s' "$want" | tr '\n' ' '); with: $(printf '%s' "$got" | tr '\n' ' ')"
fi
if [ "$HAVE_INT3" = 1 ] && ! grep -q '^int3: yes' "$TMP/s.out"; then
	fail probe/hw-silent/int3-yes "$(grep '^int3: ' "$TMP/s.out")"
elif [ "$HAVE_INT3" = 1 ]; then
	pass probe/hw-silent/int3-yes
else
	skip probe/hw-silent/int3-yes "$(probe_line int3 | cut -c1-120)"
fi
if grep -q 'hw-silent' "$TMP/s.out" "$TMP/s.err"; then
	pass probe/hw-silent/says-so
else
	fail probe/hw-silent/says-so "nothing in the probe's output names RACEWATCH_DEBUG=hw-silent"
fi
# Status: 0 exactly when code sites still work.
if { [ "$HAVE_CODE" = 1 ] && [ "$src" = 0 ]; } || { [ "$HAVE_CODE" = 0 ] && [ "$src" != 0 ] && [ "$src" -lt 124 ]; }; then
	pass probe/hw-silent/exit-status
else
	fail probe/hw-silent/exit-status "$(why_rc "$src") with code-sites=$HAVE_CODE"
fi
exit 0
