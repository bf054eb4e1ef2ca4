# shellcheck shell=bash disable=SC2034
# Sourced after tests/lib.sh by tests/integration/attach.sh, lifecycle.sh and
# tests/stress.sh: start a target in the background, attach racewatch to it,
# look at the target through /proc, wait for either to end.
#
# Every wait below polls a condition until a deadline, with a short pause
# between looks so that the poller does not take a CPU from the target on a
# 2-vCPU machine; none of them is a fixed sleep standing in for an event.

LC_SAMPLES=$SAMPLES/lifecycle

# Everything started in the background, killed at exit if still there.
BG_PIDS=()
cleanup_bg() {
	local p
	{
		for p in "${BG_PIDS[@]}"; do
			kill -9 "$p"
		done
		wait
	} 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup_bg EXIT

# poll_until SECS CMD...: run CMD every POLL_PAUSE (20 ms) until it succeeds
# or SECS pass.
POLL_PAUSE=${POLL_PAUSE:-0.02}
poll_until() {
	local secs=$1; shift
	local end=$((SECONDS + secs))
	while :; do
		"$@" && return 0
		[ $SECONDS -ge $end ] && return 1
		sleep "$POLL_PAUSE"
	done
}

# oneline FILE: the first lines of FILE on one line, for FAIL messages.
oneline() { head -n "${2:-3}" "$1" 2>/dev/null | tr '\n' '|' | cut -c1-300; }

# ---- the target -------------------------------------------------------------

ready_pid() {
	TPID=$(sed -n 's/.*: ready pid=\([0-9][0-9]*\).*/\1/p' "$1" 2>/dev/null | head -n 1)
	[ -n "$TPID" ]
}

# start_target P CMD...: CMD in the background, its stdout in P.out, stderr
# in P.err and, once it ends, its wait status (bash style: 128+N for signal
# N) in P.rc.  Waits for the sample's "ready pid=N" line and sets TPID.
# Returns 1 if that line does not come within 10 s.
start_target() {
	local p=$1; shift
	rm -f "$p.out" "$p.err" "$p.rc"
	( "$@" </dev/null >"$p.out" 2>"$p.err"; echo $? >"$p.rc" ) 2>/dev/null &
	BG_PIDS+=($!)
	TPID=
	poll_until 10 ready_pid "$p.out" || return 1
	BG_PIDS+=("$TPID")
}

have_rc() { [ -s "$1.rc" ]; }

# wait_rc P SECS: wait for P.rc; sets RC (empty if it did not come).
wait_rc() {
	RC=
	poll_until "$2" have_rc "$1" && RC=$(cat "$1.rc")
	[ -n "$RC" ]
}

# Thread states and tracers of process $1, one "STATE TRACERPID" per thread.
thread_states() {
	local f
	for f in /proc/"$1"/task/*/status; do
		awk '/^State:/ { s = $2 } /^TracerPid:/ { t = $2 } END { if (s != "") print s, t }' "$f" 2>/dev/null
	done
}

# untouched PID: alive, no thread traced, no thread stopped (T or t).
untouched() {
	local st
	[ -d "/proc/$1/task" ] || return 1
	st=$(thread_states "$1")
	[ -n "$st" ] && ! printf '%s\n' "$st" | awk '$2 != 0 || $1 == "T" || $1 == "t" { bad = 1 } END { exit !bad }'
}

# describe PID: what is wrong with it, for FAIL messages.
describe() {
	if [ ! -d "/proc/$1/task" ]; then echo "process $1 is gone"; return; fi
	echo "threads (state tracer): $(thread_states "$1" | sort | uniq -c | tr -s ' \n' ' ')"
}

# all_traced_by PID TRACER: every thread of PID has TracerPid TRACER.
all_traced_by() {
	[ -d "/proc/$1/task" ] || return 1
	thread_states "$1" | awk -v t="$2" '$2 != t { bad = 1 } END { exit bad }'
}

# all_stopped PID: every thread is in state T or t (group stop).
all_stopped() {
	[ -d "/proc/$1/task" ] || return 1
	thread_states "$1" | awk '$1 != "T" && $1 != "t" { bad = 1 } END { exit bad }'
}

# cpu_ticks PID: user+system time so far; progressing PID T0 is true once it
# has grown, i.e. the program runs.
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null; }
progressing() { local now; now=$(cpu_ticks "$1"); [ -n "$now" ] && [ "$now" -gt "$2" ]; }

# runs_on PID: the program keeps getting CPU time (within 5 s).
runs_on() { local t0; t0=$(cpu_ticks "$1"); [ -n "$t0" ] && poll_until 5 progressing "$1" "$t0"; }

# finish_worker NAME P: ask worker $TPID (started with -s 0, its files P.*)
# to end and check its result: exit 0, "worker: ok", and with -H no
# SIGTRAP/SIGURG seen.
finish_worker() {
	local t=$1 p=$2
	kill -USR1 "$TPID" 2>/dev/null
	if ! wait_rc "$p" 15; then
		fail "$t" "the target did not end after SIGUSR1: $(describe "$TPID")"
	elif [ "$RC" != 0 ]; then
		fail "$t" "the target exited with $(why_rc "$RC"); stdout: $(oneline "$p.out" 5)"
	elif ! grep -q '^worker: ok' "$p.out"; then
		fail "$t" "wrong result: $(oneline "$p.out" 5)"
	elif grep -q '^worker: SIGTRAP seen' "$p.out" && ! grep -q '^worker: SIGTRAP seen 0, SIGURG seen 0$' "$p.out"; then
		fail "$t" "signals of ours reached the program: $(grep SIGTRAP "$p.out")"
	else
		pass "$t"
	fi
}

# ---- the tracer -------------------------------------------------------------

# The racewatch under the `timeout` that rw starts in subshell $1.
find_rw() {
	local c g
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		for g in $(cat /proc/"$c"/task/*/children 2>/dev/null); do
			if [ "$(cat /proc/"$g"/comm 2>/dev/null)" = racewatch ]; then
				RWPID=$g
				return 0
			fi
		done
	done
	return 1
}

# attach_bg P ARGS...: `racewatch attach ARGS` in the background under rw's
# time limit; output in P.out / P.err, exit status in P.rc when it ends.
# Sets RWPID to racewatch's own pid (not timeout's).
attach_bg() {
	local p=$1; shift
	rm -f "$p.out" "$p.err" "$p.rc"
	( rw attach "$@" </dev/null >"$p.out" 2>"$p.err"; echo $? >"$p.rc" ) 2>/dev/null &
	BG_PIDS+=($!)
	RWPID=
	poll_until 10 find_rw $! || return 1
	BG_PIDS+=("$RWPID")
}

# run_bg P ARGS...: `racewatch run ARGS` the same way (RWPID as above).
run_bg() {
	local p=$1; shift
	rm -f "$p.out" "$p.err" "$p.rc"
	( rw run "$@" </dev/null >"$p.out" 2>"$p.err"; echo $? >"$p.rc" ) 2>/dev/null &
	BG_PIDS+=($!)
	RWPID=
	poll_until 10 find_rw $! || return 1
	BG_PIDS+=("$RWPID")
}

# perf_fds PID: how many perf events racewatch PID holds open.
perf_fds() { ls -l /proc/"$1"/fd 2>/dev/null | grep -c 'perf_event'; }
nthreads() { ls /proc/"$1"/task 2>/dev/null | wc -l; }

# armed_perf RWPID PID: racewatch holds at least one perf event per thread.
armed_perf() { [ "$(perf_fds "$1")" -ge "$(nthreads "$2")" ] && [ "$(nthreads "$2")" -gt 0 ]; }

reported() { grep -q '^BUG: racewatch' "$1.err" 2>/dev/null; }
