#!/usr/bin/env bash
# stress.sh [COUNT] — attach to and detach from one running multithreaded
# program COUNT times (default $STRESS_COUNT or 20; `make stress` runs 500),
# then check that the program never noticed: after every detach no thread is
# traced or stopped and the program still runs; at the end its own result is
# correct and it saw no SIGTRAP or SIGURG (samples/lifecycle/worker.c -H).
#
# BACKEND=perf|ptrace|code picks the backend (default: perf if its traps are
# delivered here, else ptrace if they are, else code).  "Armed" is seen from
# outside: with perf, racewatch holds one perf event per target thread; with
# ptrace and code (nothing to see), every thread's TracerPid is racewatch.
#
# Prints "stress: ..." lines: the figures (cycles, target failures, attach
# time = racewatch started -> every thread armed, detach time = SIGINT ->
# racewatch exited, whole cycle; median and max, in ms) and one final
# "stress: PASS" or "stress: FAIL: why".
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh
POLL_PAUSE=${POLL_PAUSE:-0.002}
. tests/attach_lib.sh

COUNT=${1:-${STRESS_COUNT:-20}}
BACKEND=${BACKEND:-}
THREADS=${THREADS:-4}
W=$LC_SAMPLES/worker-O2

die() { echo "stress: FAIL: $*"; exit 1; }
[ -x "$RW" ] || die "$RW is missing: build it with make"
[ -x "$W" ] || die "$W is missing: build it with make"
probe_machine
[ "$HAVE_PTRACE" = 1 ] || { echo "stress: SKIP: ptrace not allowed here"; exit 0; }
if [ -z "$BACKEND" ]; then
	if [ "$HAVE_PERF" = 1 ]; then BACKEND=perf; elif [ "$HAVE_DR" = 1 ]; then BACKEND=ptrace; else BACKEND=code; fi
fi
case $BACKEND in
perf) [ "$HAVE_PERF" = 1 ] || { echo "stress: SKIP: $(why_not perf)"; exit 0; } ;;
ptrace) [ "$HAVE_DR" = 1 ] || { echo "stress: SKIP: $(why_not ptrace)"; exit 0; } ;;
code) [ "$HAVE_CODE" = 1 ] || { echo "stress: SKIP: $(why_not code)"; exit 0; } ;;
*) die "BACKEND must be perf, ptrace or code" ;;
esac

armed() {
	if [ "$BACKEND" = perf ]; then armed_perf "$RWPID" "$TPID"; else all_traced_by "$TPID" "$RWPID"; fi
}
ms() { echo $(( ($2 - $1) / 1000000 )); }
now() { date +%s%N; }

start_target "$TMP/w" "$W" -s 0 -t "$THREADS" -H || die "worker did not start: $(oneline "$TMP/w.err")"

failures=0 warnings=0 races=0 cycles=0 why=""
: >"$TMP/attach.ms"; : >"$TMP/detach.ms"; : >"$TMP/cycle.ms"
t_start=$(now)
for i in $(seq 1 "$COUNT"); do
	[ -d "/proc/$TPID" ] || { why="target gone before cycle $i: $(oneline "$TMP/w.out" 5)"; break; }
	t0=$(now)
	if ! attach_bg "$TMP/a" -q --backend "$BACKEND" -w hot "$TPID"; then
		why="cycle $i: racewatch did not start"; failures=$((failures + 1)); break
	fi
	if ! poll_until 10 armed; then
		failures=$((failures + 1))
		why="cycle $i: not armed in 10 s ($(perf_fds "$RWPID") perf events, $(describe "$TPID")); stderr: $(oneline "$TMP/a.err")"
	fi
	t1=$(now)
	kill -INT "$RWPID"
	if ! wait_rc "$TMP/a" 15; then
		failures=$((failures + 1)); why="cycle $i: racewatch did not exit within 15 s of SIGINT"
		kill -9 "$RWPID" 2>/dev/null
		break
	fi
	t2=$(now)
	cycles=$((cycles + 1))
	case $RC in
	0) ;;
	66) races=$((races + 1)) ;;
	*) failures=$((failures + 1)); why="cycle $i: racewatch $(why_rc "$RC"): $(oneline "$TMP/a.err")" ;;
	esac
	# Anything racewatch said besides race reports is a warning worth seeing
	# (-q keeps the summary and the attach / detach notes out).
	if grep '^racewatch: ' "$TMP/a.err" | grep -vq '^racewatch: stats:'; then
		warnings=$((warnings + 1))
		[ -n "$why" ] || why="cycle $i: racewatch said: $(grep '^racewatch: ' "$TMP/a.err" | head -n 2 | tr '\n' '|')"
	fi
	if ! poll_until 2 untouched "$TPID"; then
		failures=$((failures + 1)); why="cycle $i: after detach: $(describe "$TPID")"
	fi
	ms "$t0" "$t1" >>"$TMP/attach.ms"
	ms "$t1" "$t2" >>"$TMP/detach.ms"
	ms "$t0" "$t2" >>"$TMP/cycle.ms"
done
t_end=$(now)

if ! runs_on "$TPID"; then
	failures=$((failures + 1)); why="${why:-after the last cycle: not running: $(describe "$TPID")}"
fi
kill -USR1 "$TPID" 2>/dev/null
if ! wait_rc "$TMP/w" 15; then
	failures=$((failures + 1)); why="target did not end on SIGUSR1: $(describe "$TPID")"
elif [ "$RC" != 0 ] || ! grep -q '^worker: ok' "$TMP/w.out" ||
     ! grep -q '^worker: SIGTRAP seen 0, SIGURG seen 0$' "$TMP/w.out"; then
	failures=$((failures + 1)); why="target result: $(why_rc "$RC"): $(oneline "$TMP/w.out" 5)"
fi

# figures FILE: "median M max X" of the ms values in FILE.
figures() {
	sort -n "$1" | awk '{ v[NR] = $1 } END { if (NR) printf "median %d ms, max %d ms", v[int((NR + 1) / 2)], v[NR]; else printf "none" }'
}
echo "stress: backend $BACKEND, $THREADS threads, $cycles of $COUNT cycles in $(ms "$t_start" "$t_end") ms; races reported in $races; target failures $failures; tracer warnings $warnings"
echo "stress: attach (racewatch started -> every thread armed): $(figures "$TMP/attach.ms")"
echo "stress: detach (SIGINT -> racewatch exited): $(figures "$TMP/detach.ms")"
echo "stress: cycle (attach + detach): $(figures "$TMP/cycle.ms")"
if [ "$cycles" != "$COUNT" ] || [ "$failures" != 0 ] || [ "$warnings" != 0 ]; then
	echo "stress: FAIL: $why"
	exit 1
fi
echo "stress: PASS"
