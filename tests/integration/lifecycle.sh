#!/usr/bin/env bash
# lifecycle.sh — the whole life of a traced process, under `racewatch run`
# and `racewatch attach`, with the samples of samples/lifecycle/:
#
#   fork, vfork   forker.c races on child_hot only in the child (vfork: after
#                 the child's exec).  With --follow-fork the race is reported
#                 and the child says it is traced; without, never reported and
#                 the child runs untraced (TracerPid 0).  run and attach.
#   exec          attach, then the program execs itself into the racy mode:
#                 re-resolved and re-armed, the race is reported (execs >= 1).
#   churn         churn.c, thousands of threads that touch `touched` once and
#                 exit: threads_seen >= N + 1, traps >= N (each armed before
#                 its access), arm_failures 0, threads_live 0, output right;
#                 with long stall windows (--delay) too.
#   exit-in-window  threads hammering `touched` while main calls exit(7): the
#                 threads die in their stall windows; racewatch run exits 7,
#                 attach exits by itself, no hang.
#   job-control   SIGSTOP the traced program: every thread stops; SIGCONT:
#                 it resumes and completes correctly.  Under attach, a detach
#                 while it is stopped leaves it stopped (state T, untraced)
#                 and SIGCONT still resumes it.
#   signals       worker -B ignores SIGINT and SIGHUP and blocks SIGUSR2; sent
#                 while traced they change nothing: it lives, and SIGUSR2 is
#                 still pending at the end.
#   crash         a program dying of SIGSEGV or SIGABRT: run exits 128+N with
#                 the program's output, no core file in the cwd; under attach
#                 the program dies of the same signal and racewatch exits
#                 cleanly.
# Backends: fork/vfork under run, churn, exit-in-window and job control run
# for each backend that delivers here (perf, ptrace, code; one SKIP line for
# one that does not); the rest is not about a backend and uses the default.
# Detection is sampled: expected reports are waited for until a deadline;
# "never" checks run the racy child NEVER_RUNS times.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
. tests/attach_lib.sh

NEVER_RUNS=${NEVER_RUNS:-2}
CHURN_N=${CHURN_N:-5000}

if [ ! -x "$RW" ]; then
	fail lifecycle/tracer "$RW is missing: build it with make"
	exit 0
fi
probe_machine
tracing_ok lifecycle || exit 0
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
W=$(abs "$LC_SAMPLES/worker-O2")
CH=$(abs "$LC_SAMPLES/churn-O2")
FK=$(abs "$LC_SAMPLES/forker-O2")
RW=$(abs "$RW")
for s in "$W" "$CH" "$FK"; do
	if [ ! -x "$s" ]; then
		fail lifecycle/samples "samples/lifecycle not built ($s)"
		exit 0
	fi
done
# A scratch cwd: a core file, if one were written, is seen here.
mkdir -p "$TMP/cwd" && cd "$TMP/cwd" || exit 1

FORK_HEADER='BUG: racewatch: data-race in child_read / child_write'
has_fork_race() { grep -qx "$FORK_HEADER" "$1.err"; }

# ---- fork and vfork under run -----------------------------------------------

for B in perf ptrace code; do
	backend_ok "lifecycle/$B" "$B" || continue
	for M in fork vfork; do
		t=lifecycle/$B/run-$M-follow
		ok=0
		for try in 1 2 3; do
			trace "$TMP/t" run --backend "$B" --follow-fork -w child_hot -- "$FK" "$M"
			if [ "$RC" = 66 ] && has_fork_race "$TMP/t"; then ok=1; break; fi
		done
		if [ $ok = 0 ]; then
			fail "$t" "no child race report in 3 runs: $(why_rc "$RC"); stderr: $(oneline "$TMP/t.err")"
		elif ! grep -qx 'race: traced' "$TMP/t.out" || ! grep -qx 'parent: child exited 0' "$TMP/t.out"; then
			fail "$t" "stdout: $(oneline "$TMP/t.out" 4)"
		else
			pass "$t"
		fi

		t=lifecycle/$B/run-$M-no-follow
		why=""
		for try in $(seq 1 "$NEVER_RUNS"); do
			trace "$TMP/t" run --backend "$B" -w child_hot -- "$FK" "$M"
			if [ "$RC" != 0 ] || grep -q '^BUG: racewatch' "$TMP/t.err"; then
				why="run $try: $(why_rc "$RC"); stderr: $(oneline "$TMP/t.err")"
				break
			fi
			if ! grep -qx 'race: untraced' "$TMP/t.out" || ! grep -qx 'parent: child exited 0' "$TMP/t.out"; then
				why="run $try: stdout: $(oneline "$TMP/t.out" 4)"
				break
			fi
		done
		if [ -n "$why" ]; then fail "$t" "$why"; else pass "$t"; fi
	done
done

# The default backend from here on (the names say "default").
B=default

# ---- fork, vfork and exec under attach --------------------------------------

# attach_forker NAME MODE WANT(race|none) [racewatch options]: forker -a MODE
# waits for the attach, then forks / vforks / execs.
# One attach; sets why (empty when it passed) and no_race (1 when the only
# fault was a missing report, which sampling may cause).
forker_once() {
	local mode=$1 want=$2
	shift 2
	why='' no_race=0
	if ! start_target "$TMP/f" "$FK" -a "$mode"; then
		why="forker did not start: $(oneline "$TMP/f.err")"
		return
	fi
	attach_bg "$TMP/a" --stats "$@" -w child_hot "$TPID"
	if ! wait_rc "$TMP/f" 60; then
		why="forker did not end: $(describe "$TPID")"
	elif [ "$RC" != 0 ] || ! grep -qx 'race: done' "$TMP/f.out"; then
		why="forker $(why_rc "$RC"): $(oneline "$TMP/f.out" 4) $(oneline "$TMP/f.err")"
	elif ! wait_rc "$TMP/a" 10; then
		why="racewatch still running 10 s after its target exited"
		kill -9 "$RWPID" 2>/dev/null
	elif [ "$want" = race ] && { [ "$RC" != 66 ] || ! has_fork_race "$TMP/a"; }; then
		why="no child_hot race: racewatch $(why_rc "$RC"); stderr: $(oneline "$TMP/a.err")" no_race=1
	elif [ "$want" = none ] && { [ "$RC" != 0 ] || grep -q '^BUG: racewatch' "$TMP/a.err"; }; then
		why="racewatch $(why_rc "$RC"), want 0 and no report; stderr: $(oneline "$TMP/a.err")"
	elif [ "$mode" != exec ] && [ "$want" = race ] && ! grep -qx 'race: traced' "$TMP/f.out"; then
		why="the child was not traced: $(oneline "$TMP/f.out" 4)"
	elif [ "$want" = none ] && ! grep -qx 'race: untraced' "$TMP/f.out"; then
		why="the child was traced: $(oneline "$TMP/f.out" 4)"
	elif [ "$mode" = exec ] && [ "$(stat_of "$TMP/a.err" execs)" -lt 1 ] 2>/dev/null; then
		why="--stats execs=$(stat_of "$TMP/a.err" execs)"
	fi
}

# A race is sampled: up to FORK_TRIES attaches, retried only when the sole
# fault was a missing report; every other fault fails at once.
attach_forker() {
	local t=lifecycle/$B/attach-$1 mode=$2 want=$3 try
	shift 3
	for try in $(seq 1 "${FORK_TRIES:-3}"); do
		forker_once "$mode" "$want" "$@"
		[ "$no_race" = 1 ] || break
	done
	if [ -z "$why" ]; then pass "$t"; else fail "$t" "$why"; fi
}

attach_forker fork-follow fork race --follow-fork
attach_forker vfork-follow vfork race --follow-fork
for try in $(seq 1 "$NEVER_RUNS"); do
	attach_forker fork-no-follow-$try fork none
	attach_forker vfork-no-follow-$try vfork none
done
attach_forker exec exec race

# ---- thread churn, threads exiting in their windows --------------------------

for BB in perf ptrace code; do
	backend_ok "lifecycle/$BB/churn" "$BB" || continue
	for D in "" 2000; do
		t=lifecycle/$BB/run-churn-$CHURN_N${D:+-delay-$D}
		# --overhead 0: every access traps (no duty cycle), so traps >= N
		# says every thread was armed before its one access.
		trace "$TMP/t" run --backend "$BB" --overhead 0 --stats ${D:+--delay $D} -w touched -- "$CH" "$CHURN_N" 8
		seen=$(stat_of "$TMP/t.err" threads_seen) live=$(stat_of "$TMP/t.err" threads_live)
		traps=$(stat_of "$TMP/t.err" traps) af=$(stat_of "$TMP/t.err" arm_failures)
		if [ "$RC" != 0 ] || ! grep -qx "churn: threads=$CHURN_N touched=$CHURN_N" "$TMP/t.out"; then
			fail "$t" "$(why_rc "$RC"); stdout: $(oneline "$TMP/t.out" 3) stderr: $(oneline "$TMP/t.err")"
		elif [ "${seen:-0}" -le "$CHURN_N" ] || [ "${traps:-0}" -lt "$CHURN_N" ] || [ "${af:-x}" != 0 ] || [ "${live:-x}" != 0 ]; then
			fail "$t" "threads_seen=${seen:-none} (want > $CHURN_N) traps=${traps:-none} (want >= $CHURN_N) arm_failures=${af:-none} threads_live=${live:-none}"
		else
			pass "$t"
		fi
	done

	t=lifecycle/$BB/run-exit-in-window
	trace "$TMP/t" run --backend "$BB" --stats --delay 2000 -w touched -- "$CH" exit 1 7
	win=$(stat_of "$TMP/t.err" windows_opened)
	if [ "$RC" = 7 ] && grep -qx 'churn: exiting 7' "$TMP/t.out" && [ "${win:-0}" -gt 0 ]; then
		pass "$t"
	else
		fail "$t" "$(why_rc "$RC") (want 7), windows_opened=${win:-none}; stderr: $(oneline "$TMP/t.err")"
	fi

	t=lifecycle/$BB/attach-exit-in-window
	if start_target "$TMP/c" "$CH" exit 2 7; then
		attach_bg "$TMP/a" --backend "$BB" --stats --delay 2000 -w touched "$TPID"
		if ! wait_rc "$TMP/c" 30; then
			fail "$t" "the target did not exit: $(describe "$TPID")"
		elif [ "$RC" != 7 ]; then
			fail "$t" "the target exited $(why_rc "$RC"), want 7"
		elif ! wait_rc "$TMP/a" 10; then
			fail "$t" "racewatch still running 10 s after its target exited"
			kill -9 "$RWPID" 2>/dev/null
		elif [ "$RC" != 0 ]; then
			fail "$t" "racewatch $(why_rc "$RC"); stderr: $(oneline "$TMP/a.err")"
		else
			pass "$t"
		fi
	else
		fail "$t" "churn did not start"
	fi
done

# ---- job control ----------------------------------------------------------

# stop_cont NAME: SIGSTOP the worker $TPID (traced by $RWPID): every thread
# stops and stays stopped; SIGCONT: it runs again.
stop_cont() {
	local t=$1 t0
	kill -STOP "$TPID"
	if ! poll_until 10 all_stopped "$TPID"; then
		fail "$t/stops" "after SIGSTOP: $(describe "$TPID")"
		kill -CONT "$TPID"
		return 1
	fi
	t0=$(cpu_ticks "$TPID")
	if poll_until 1 progressing "$TPID" "$t0"; then
		fail "$t/stops" "it kept running: $(describe "$TPID")"
	else
		pass "$t/stops"
	fi
}

resumes() {
	local t=$1
	kill -CONT "$TPID"
	if runs_on "$TPID"; then
		pass "$t/resumes"
	else
		fail "$t/resumes" "after SIGCONT: $(describe "$TPID")"
	fi
}

# worker_done NAME P WANT_RC: the worker's output is right and it exited WANT_RC.
worker_done() {
	local t=$1 p=$2 want=$3
	if ! wait_rc "$p" 30; then
		fail "$t" "did not end: $(describe "$TPID")"
	elif [ "$RC" != "$want" ] || ! grep -q '^worker: ok' "$p.out"; then
		fail "$t" "$(why_rc "$RC") (want $want); stdout: $(oneline "$p.out" 4) stderr: $(oneline "$p.err")"
	else
		pass "$t"
	fi
}

for BB in perf ptrace code; do
	backend_ok "lifecycle/$BB/job-control" "$BB" || continue
	t=lifecycle/$BB/run-job-control
	if run_bg "$TMP/r" --backend "$BB" -w hot -- "$W" -s 0 && poll_until 10 ready_pid "$TMP/r.out"; then
		BG_PIDS+=("$TPID")
		stop_cont "$t" && resumes "$t"
		kill -USR1 "$TPID"
		worker_done "$t/completes" "$TMP/r" 66
	else
		fail "$t" "racewatch run did not start the worker: $(oneline "$TMP/r.err")"
	fi

	t=lifecycle/$BB/attach-job-control
	if start_target "$TMP/w" "$W" -s 0 -H; then
		attach_bg "$TMP/a" --backend "$BB" -w hot "$TPID"
		poll_until 30 reported "$TMP/a"
		stop_cont "$t" && resumes "$t"
		# Stopped again, then detached: it stays stopped, untraced.
		if stop_cont "$t/detach-while-stopped"; then
			kill -INT "$RWPID"
			wait_rc "$TMP/a" 15
			if [ "$RC" != 66 ]; then
				fail "$t/detach-while-stopped" "racewatch $(why_rc "$RC"); stderr: $(oneline "$TMP/a.err")"
			elif ! thread_states "$TPID" | awk '$1 != "T" || $2 != 0 { bad = 1 } END { exit bad }'; then
				fail "$t/detach-while-stopped" "want every thread T and untraced: $(describe "$TPID")"
			else
				pass "$t/detach-while-stopped"
			fi
			resumes "$t/detach-while-stopped"
		fi
		kill -USR1 "$TPID"
		worker_done "$t/completes" "$TMP/w" 0
		if ! grep -q '^worker: SIGTRAP seen 0, SIGURG seen 0$' "$TMP/w.out"; then
			fail "$t/no-signals-of-ours" "$(grep SIGTRAP "$TMP/w.out")"
		else
			pass "$t/no-signals-of-ours"
		fi
	else
		fail "$t" "worker did not start"
	fi
done

# ---- signals ignored or blocked by the target ----------------------------------

# poke NAME: send the ignored and blocked signals; the worker lives on.
poke() {
	local s
	for s in INT HUP USR2 INT; do
		kill -$s "$TPID"
	done
	if runs_on "$TPID"; then pass "$1/survives"; else fail "$1/survives" "$(describe "$TPID")"; fi
}

t=lifecycle/$B/run-signals
if run_bg "$TMP/r" -w hot -- "$W" -B -s 0 && poll_until 10 ready_pid "$TMP/r.out"; then
	BG_PIDS+=("$TPID")
	poke "$t"
	kill -USR1 "$TPID"
	worker_done "$t/completes" "$TMP/r" 66
	if grep -qx 'worker: SIGUSR2 pending=yes' "$TMP/r.out"; then pass "$t/still-pending"; else
		fail "$t/still-pending" "$(oneline "$TMP/r.out" 4)"; fi
else
	fail "$t" "racewatch run did not start the worker: $(oneline "$TMP/r.err")"
fi

t=lifecycle/$B/attach-signals
if start_target "$TMP/w" "$W" -B -s 0; then
	attach_bg "$TMP/a" -w hot "$TPID"
	poll_until 30 reported "$TMP/a"
	poke "$t"
	kill -INT "$RWPID"
	if wait_rc "$TMP/a" 15 && [ "$RC" = 66 ]; then pass "$t/detach"; else
		fail "$t/detach" "racewatch $(why_rc "$RC"); stderr: $(oneline "$TMP/a.err")"; fi
	kill -USR1 "$TPID"
	worker_done "$t/completes" "$TMP/w" 0
	if grep -qx 'worker: SIGUSR2 pending=yes' "$TMP/w.out"; then pass "$t/still-pending"; else
		fail "$t/still-pending" "$(oneline "$TMP/w.out" 4)"; fi
else
	fail "$t" "worker did not start"
fi

# ---- a crashing target --------------------------------------------------------

for how in segv:11 abrt:6; do
	sig=${how#*:} how=${how%:*}
	t=lifecycle/$B/run-crash-$how
	trace "$TMP/t" run -w hot -- "$W" -q -s 0.3 -e "$how"
	if [ "$RC" = $((128 + sig)) ] && grep -q '^worker: ok' "$TMP/t.out"; then pass "$t"; else
		fail "$t" "$(why_rc "$RC") (want $((128 + sig))); stdout: $(oneline "$TMP/t.out" 3) stderr: $(oneline "$TMP/t.err")"; fi

	t=lifecycle/$B/attach-crash-$how
	if start_target "$TMP/w" "$W" -s 2 -e "$how"; then
		attach_bg "$TMP/a" -w hot "$TPID"
		if ! wait_rc "$TMP/w" 30; then
			fail "$t" "the target did not end: $(describe "$TPID")"
		elif [ "$RC" != $((128 + sig)) ]; then
			fail "$t" "the target ended with $(why_rc "$RC"), want death by signal $sig; stdout: $(oneline "$TMP/w.out" 3)"
		elif ! wait_rc "$TMP/a" 10; then
			fail "$t" "racewatch still running 10 s after its target died"
			kill -9 "$RWPID" 2>/dev/null
		elif [ "$RC" != 0 ] && [ "$RC" != 66 ]; then
			fail "$t" "racewatch $(why_rc "$RC"); stderr: $(oneline "$TMP/a.err")"
		else
			pass "$t"
		fi
	else
		fail "$t" "worker did not start"
	fi
done
if ls core* >/dev/null 2>&1; then
	fail "lifecycle/$B/no-core-file" "$(ls core* | head -n 3 | tr '\n' ' ')"
else
	pass "lifecycle/$B/no-core-file"
fi
rm -f core*
exit 0
