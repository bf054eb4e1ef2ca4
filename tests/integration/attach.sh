#!/usr/bin/env bash
# attach.sh — `racewatch attach PID` is a guest in a process it did not
# start: whatever happens to the tracer, the target goes on as before.
# Target: samples/lifecycle/worker.c (threads hammering the racy `hot`,
# a result it checks itself) and samples/lifecycle/churn.c (threads born
# and dying all the time).  For each backend that delivers here (perf,
# ptrace, code; one SKIP line for a backend that does not):
#
#   race          the race on hot is reported while attached
#   sigint        Ctrl-C (SIGINT) detaches: racewatch exits 66 (a race was
#                 reported), and afterwards no thread of the target is
#                 traced (TracerPid 0) or stopped, it keeps running, and it
#                 ends with its own correct result and status, having seen
#                 no SIGTRAP and no SIGURG (worker -H counts them)
#   sigterm, sighup, sigquit   the same detach
#   target-exit   racewatch exits by itself when the target exits
#   churn         attach while threads are being created: every thread born
#                 after the attach is armed before it touches `touched`
#                 (traps >= threads_seen - the threads alive at attach),
#                 arm_failures 0, the program's output is correct, none left
#                 stopped; and a detach in the middle of the churn
# perf only:
#   sigkill       racewatch killed by SIGKILL while the target hammers the
#                 watched variable: the target lives on, untraced and
#                 running, and ends correctly (repeated KILL_RUNS times)
# ptrace only:
#   warning       attach warns that a SIGKILLed racewatch leaves the debug
#                 registers armed (the death itself is documented, not tested)
# Bad input, under the default backend (one stderr line "racewatch: ...",
# non-zero status, the target
# untouched: running, untraced, correct result): no such pid, a zombie,
# permission denied (setpriv to nobody) with the CAP_SYS_PTRACE/yama hint,
# a kernel thread, racewatch's own pid, a process already traced, unknown /
# thread-local / too big / malformed watch expressions, and too many for
# the debug registers (explicit perf or ptrace, where they deliver).
# Plus a stripped binary (no DWARF): -w hot still works through the symbol
# table.  Last, tests/stress.sh with a small count (STRESS_COUNT, default 20).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
. tests/attach_lib.sh

KILL_RUNS=${KILL_RUNS:-3}
W=$LC_SAMPLES/worker-O2
CH=$LC_SAMPLES/churn-O2

if [ ! -x "$RW" ]; then
	fail attach/tracer "$RW is missing: build it with make"
	exit 0
fi
probe_machine
tracing_ok attach || exit 0
if [ ! -x "$W" ] || [ ! -x "$CH" ]; then
	fail attach/samples "samples/lifecycle not built ($W)"
	exit 0
fi

# after_detach NAME: the target of the last detach is untraced, not stopped,
# and runs.
after_detach() {
	if poll_until 2 untouched "$TPID" && runs_on "$TPID"; then
		pass "$1"
	else
		fail "$1" "$(describe "$TPID")"
	fi
}

# ---- attach, report, detach by signal ------------------------------------

for B in perf ptrace code; do
	backend_ok "attach/$B" "$B" || continue

	for SIG in INT TERM HUP QUIT; do
		t=attach/$B/sig$(echo $SIG | tr A-Z a-z)
		if ! start_target "$TMP/w" "$W" -s 0 -H; then
			fail "$t/target" "worker did not start: $(oneline "$TMP/w.err")"
			continue
		fi
		attach_bg "$TMP/a" --backend "$B" -w hot "$TPID"
		if [ "$SIG" = INT ]; then
			if poll_until 30 reported "$TMP/a"; then
				pass "attach/$B/race"
			else
				fail "attach/$B/race" "no report in 30 s; stderr: $(oneline "$TMP/a.err")"
			fi
			if [ "$B" = ptrace ]; then
				if grep -Eq '^racewatch: .*(SIGKILL|killed).*SIGTRAP' "$TMP/a.err"; then
					pass attach/ptrace/warning
				else
					fail attach/ptrace/warning "no warning about SIGKILL and SIGTRAP; stderr: $(oneline "$TMP/a.err")"
				fi
			elif [ "$B" = code ]; then
				:
			elif grep -q 'debug registers outlive' "$TMP/a.err"; then
				fail attach/perf/no-warning "the ptrace backend's warning printed for perf"
			else
				pass attach/perf/no-warning
			fi
		else
			poll_until 30 reported "$TMP/a"
		fi
		if ! all_traced_by "$TPID" "$RWPID"; then
			fail "$t/all-threads-seized" "$(describe "$TPID"), racewatch is $RWPID"
		fi
		kill -$SIG "$RWPID"
		if ! wait_rc "$TMP/a" 15; then
			fail "$t" "racewatch did not exit within 15 s of SIG$SIG"
		elif [ "$RC" != 66 ]; then
			fail "$t" "racewatch exited with $(why_rc "$RC"), want 66; stderr: $(tail -n 3 "$TMP/a.err" | tr '\n' '|')"
		else
			pass "$t"
		fi
		after_detach "$t/untraced-running"
		finish_worker "$t/target-result" "$TMP/w"
	done

	# The target exits while attached: racewatch follows it out.
	t=attach/$B/target-exit
	if start_target "$TMP/w" "$W" -s 3; then
		attach_bg "$TMP/a" --backend "$B" -w hot "$TPID"
		if ! wait_rc "$TMP/w" 30; then
			fail "$t" "the target did not end: $(describe "$TPID")"
		elif [ "$RC" != 0 ] || ! grep -q '^worker: ok' "$TMP/w.out"; then
			fail "$t" "target $(why_rc "$RC"): $(oneline "$TMP/w.out" 4)"
		elif ! wait_rc "$TMP/a" 10; then
			fail "$t" "racewatch still running 10 s after its target exited"
			kill -9 "$RWPID" 2>/dev/null
		elif [ "$RC" != 66 ] && [ "$RC" != 0 ]; then
			fail "$t" "racewatch $(why_rc "$RC"); stderr: $(tail -n 3 "$TMP/a.err" | tr '\n' '|')"
		else
			pass "$t"
		fi
	else
		fail "$t" "worker did not start"
	fi

	# Attach in the middle of thread churn, stay until the program ends.
	t=attach/$B/churn
	if start_target "$TMP/c" "$CH" 10000 8; then
		attach_bg "$TMP/a" --backend "$B" --overhead 0 --stats -w touched "$TPID"
		if ! wait_rc "$TMP/c" 90; then
			fail "$t" "churn did not end in 90 s: $(describe "$TPID")"
		elif [ "$RC" != 0 ] || ! grep -qx 'churn: threads=10000 touched=10000' "$TMP/c.out"; then
			fail "$t" "churn $(why_rc "$RC"): $(oneline "$TMP/c.out" 4) $(oneline "$TMP/c.err")"
		elif ! wait_rc "$TMP/a" 10; then
			fail "$t" "racewatch still running 10 s after churn exited: threads_live=$(kill -INT "$RWPID"; wait_rc "$TMP/a" 10; stat_of "$TMP/a.err" threads_live) after SIGINT; $(grep -c 'did not stop' "$TMP/a.err") 'did not stop' warnings"
			kill -9 "$RWPID" 2>/dev/null
		else
			seen=$(stat_of "$TMP/a.err" threads_seen) af=$(stat_of "$TMP/a.err" arm_failures)
			traps=$(stat_of "$TMP/a.err" traps)
			if [ "$RC" != 0 ]; then
				fail "$t" "racewatch $(why_rc "$RC") (no race here); stderr: $(oneline "$TMP/a.err")"
			elif [ "${af:-x}" != 0 ] || [ "${seen:-0}" -lt 100 ] || [ "${traps:-0}" -lt $((seen - 9)) ]; then
				fail "$t" "threads_seen=${seen:-none} traps=${traps:-none} (want >= threads_seen - 9) arm_failures=${af:-none}"
			else
				pass "$t"
			fi
		fi
	else
		fail "$t" "churn did not start"
	fi

	# Detach in the middle of the churn: no thread left traced or stopped.
	t=attach/$B/churn-detach
	if start_target "$TMP/c" "$CH" 20000 8; then
		attach_bg "$TMP/a" --backend "$B" -w touched "$TPID"
		poll_until 10 all_traced_by "$TPID" "$RWPID"
		kill -INT "$RWPID"
		if ! wait_rc "$TMP/a" 15; then
			fail "$t" "racewatch did not exit within 15 s of SIGINT"
		elif [ "$RC" != 0 ]; then
			fail "$t" "racewatch $(why_rc "$RC"); stderr: $(oneline "$TMP/a.err")"
		elif [ -s "$TMP/c.rc" ]; then
			fail "$t" "churn ended while attached: $(why_rc "$(cat "$TMP/c.rc")"); make it longer"
		else
			st_after=$(thread_states "$TPID" | awk '$2 != 0 || $1 == "t" || $1 == "T"' | sort | uniq -c | tr -s ' \n' ' ')
			if ! wait_rc "$TMP/c" 90; then
				fail "$t" "churn did not end after the detach: $(describe "$TPID")"
			elif [ "$RC" != 0 ] || ! grep -qx 'churn: threads=20000 touched=20000' "$TMP/c.out"; then
				fail "$t" "churn $(why_rc "$RC"): $(oneline "$TMP/c.out" 4)"
			elif [ -n "$st_after" ]; then
				fail "$t" "right after the detach, threads traced or stopped: $st_after"
			else
				pass "$t"
			fi
		fi
	else
		fail "$t" "churn did not start"
	fi
done

# ---- SIGKILL of the tracer (perf) ----------------------------------------

if backend_ok attach/perf/sigkill perf; then
	for i in $(seq 1 "$KILL_RUNS"); do
		t=attach/perf/sigkill-$i
		if ! start_target "$TMP/w" "$W" -s 0; then
			fail "$t" "worker did not start"
			continue
		fi
		attach_bg "$TMP/a" -w hot "$TPID"
		# Hammering for sure: armed on every thread and a race seen.
		if ! poll_until 30 reported "$TMP/a" || ! armed_perf "$RWPID" "$TPID"; then
			fail "$t" "not armed: $(perf_fds "$RWPID") perf events for $(nthreads "$TPID") threads; $(oneline "$TMP/a.err")"
		fi
		kill -KILL "$RWPID"
		wait_rc "$TMP/a" 10
		if ! poll_until 5 untouched "$TPID" || ! runs_on "$TPID"; then
			fail "$t" "after SIGKILL: $(describe "$TPID"); $(oneline "$TMP/w.err")"
			kill -9 "$TPID" 2>/dev/null
			continue
		fi
		finish_worker "$t" "$TMP/w"
	done
fi

# ---- bad input -------------------------------------------------------------

# bad NAME PATTERN ARGS...: `racewatch ARGS` exits non-zero with exactly one
# stderr line "racewatch: ..." matching PATTERN (grep -Ei), nothing on stdout.
bad() {
	local t=attach/errors/$1 pat=$2 rc n
	shift 2
	( rw "$@" </dev/null >"$TMP/e.out" 2>"$TMP/e.err"; echo $? >"$TMP/e.rc" ) 2>/dev/null
	rc=$(cat "$TMP/e.rc") n=$(grep -c '' "$TMP/e.err")
	if [ "$rc" = 0 ] || [ "$rc" = 124 ] || [ "$rc" = 137 ] || [ "$rc" -gt 128 ]; then
		fail "$t" "$(why_rc "$rc"), want an error status; stderr: $(oneline "$TMP/e.err")"
	elif [ "$n" != 1 ] || ! grep -q '^racewatch: ' "$TMP/e.err"; then
		fail "$t" "$n stderr lines, want one 'racewatch: ...': $(oneline "$TMP/e.err")"
	elif [ -n "$pat" ] && ! grep -Eiq -- "$pat" "$TMP/e.err"; then
		fail "$t" "message does not match /$pat/: $(oneline "$TMP/e.err")"
	elif [ -s "$TMP/e.out" ]; then
		fail "$t" "stdout: $(oneline "$TMP/e.out")"
	else
		pass "$t"
	fi
}

# A pid that was just reaped (pid reuse within this instant is not a worry).
sh -c 'exit 0' & gone=$!
wait $gone
bad no-such-pid "$gone" attach -w hot "$gone"
bad pid-not-a-number 'abc|pid' attach -w hot abc

# A zombie: a shell forks `true` and execs into a sleep that never reaps.
sh -c 'true & exec sleep 60' & zparent=$!
BG_PIDS+=($zparent)
is_zombie() {
	ZPID=$(cat /proc/$zparent/task/*/children 2>/dev/null | awk '{ print $1 }')
	[ -n "$ZPID" ] && grep -q '^State:.*Z' /proc/"$ZPID"/status 2>/dev/null
}
if poll_until 10 is_zombie; then
	bad zombie 'zombie' attach -w hot "$ZPID"
else
	fail attach/errors/zombie "could not make a zombie"
fi
{ kill -9 $zparent; wait $zparent; } 2>/dev/null

# A kernel thread (kthreadd is pid 2 on Linux).
if grep -q '^Kthread:.*1' /proc/2/status 2>/dev/null || [ "$(cat /proc/2/comm 2>/dev/null)" = kthreadd ]; then
	bad kernel-thread '' attach -w hot 2
else
	skip attach/errors/kernel-thread "pid 2 is not kthreadd here"
fi

# Its own pid: the shell execs racewatch, which keeps the shell's pid.
( timeout -k 5 30 sh -c 'exec "$0" attach -w hot $$' "$RW" </dev/null >"$TMP/e.out" 2>"$TMP/e.err"; echo $? >"$TMP/e.rc" ) 2>/dev/null
rc=$(cat "$TMP/e.rc")
if [ "$rc" != 0 ] && [ "$rc" -lt 124 ] && [ "$(grep -c '' "$TMP/e.err")" = 1 ] && grep -qi 'itself' "$TMP/e.err"; then
	pass attach/errors/itself
else
	fail attach/errors/itself "$(why_rc "$rc"): $(oneline "$TMP/e.err")"
fi

# Every refusal against one running worker, which must not notice any.
if start_target "$TMP/w" "$W" -s 0 -H; then
	bad unknown-variable 'hott' attach -w hott "$TPID"
	bad tls-variable 'tls_scratch' attach -w tls_scratch "$TPID"
	bad malformed-expression 'hot\[' attach -w 'hot[' "$TPID"
	# A variable too big for, and five variables more than, the four debug
	# registers: an explicit hardware backend refuses (too-many naming
	# code); auto picks code instead (code.sh checks that).
	if [ "$HAVE_DR" = 1 ]; then
		bad too-big 'big' attach --backend ptrace -w big "$TPID"
		bad too-many-variables 'code' attach --backend ptrace -w slot_a -w slot_b -w slot_c -w slot_d -w slot_e "$TPID"
	else
		skip attach/errors/too-big,too-many-variables "$(why_not ptrace)"
	fi
	bad no-pid '' attach -w hot
	after_detach attach/errors/target-untouched

	# Already traced by another racewatch: refused, the first one unharmed.
	attach_bg "$TMP/a" -w hot "$TPID"
	poll_until 10 all_traced_by "$TPID" "$RWPID"
	bad already-traced 'trace|permitted' attach -w hot "$TPID"
	if all_traced_by "$TPID" "$RWPID" && [ ! -s "$TMP/a.rc" ]; then
		pass attach/errors/already-traced-first-unharmed
	else
		fail attach/errors/already-traced-first-unharmed "$(describe "$TPID"); first racewatch: $(oneline "$TMP/a.err")"
	fi
	kill -INT "$RWPID"
	wait_rc "$TMP/a" 15
	after_detach attach/errors/already-traced-detach
	finish_worker attach/errors/target-result "$TMP/w"
else
	fail attach/errors/target "worker did not start"
fi

# Permission denied: an unprivileged racewatch against a root-owned process.
if [ "$(id -u)" != 0 ]; then
	skip attach/errors/permission-denied "needs root to run a root-owned target and setpriv to nobody"
elif ! command -v setpriv >/dev/null; then
	skip attach/errors/permission-denied "setpriv is missing"
elif ! setpriv --reuid=65534 --regid=65534 --clear-groups "$RW" --help >/dev/null 2>&1; then
	skip attach/errors/permission-denied "nobody cannot run $RW (directory permissions)"
elif start_target "$TMP/w" "$W" -s 0 -H; then
	( timeout -k 5 30 setpriv --reuid=65534 --regid=65534 --clear-groups "$RW" attach -w hot "$TPID" \
		</dev/null >"$TMP/e.out" 2>"$TMP/e.err"; echo $? >"$TMP/e.rc" ) 2>/dev/null
	rc=$(cat "$TMP/e.rc")
	if [ "$rc" = 0 ] || [ "$rc" -ge 124 ] || [ "$(grep -c '' "$TMP/e.err")" != 1 ]; then
		fail attach/errors/permission-denied "$(why_rc "$rc"): $(oneline "$TMP/e.err")"
	elif ! grep -q 'CAP_SYS_PTRACE' "$TMP/e.err" || ! grep -q 'ptrace_scope' "$TMP/e.err"; then
		fail attach/errors/permission-denied "no CAP_SYS_PTRACE / ptrace_scope hint: $(oneline "$TMP/e.err")"
	else
		pass attach/errors/permission-denied
	fi
	after_detach attach/errors/permission-denied-untouched
	finish_worker attach/errors/permission-denied-result "$TMP/w"
else
	fail attach/errors/permission-denied "worker did not start"
fi

# A binary without DWARF: -w hot resolves through the symbol table, the
# race is still reported (functions without lines), detach still clean.
cp "$W" "$TMP/worker-stripped" && strip -g "$TMP/worker-stripped"
if start_target "$TMP/w" "$TMP/worker-stripped" -s 0 -H; then
	attach_bg "$TMP/a" -w hot "$TPID"
	if poll_until 30 reported "$TMP/a"; then
		pass attach/stripped/race
	else
		fail attach/stripped/race "no report in 30 s; stderr: $(oneline "$TMP/a.err")"
	fi
	if grep -Eqi '^racewatch: .*(dwarf|debug info|lines)' "$TMP/a.err"; then
		pass attach/stripped/warning
	else
		fail attach/stripped/warning "no warning that lines are unavailable; stderr: $(oneline "$TMP/a.err")"
	fi
	kill -INT "$RWPID"
	wait_rc "$TMP/a" 15
	after_detach attach/stripped/untraced-running
	finish_worker attach/stripped/target-result "$TMP/w"
else
	fail attach/stripped "worker did not start"
fi

# ---- a short stress run ------------------------------------------------------

out=$(bash tests/stress.sh "${STRESS_COUNT:-20}" 2>&1)
if printf '%s\n' "$out" | grep -q '^stress: SKIP: '; then
	skip "attach/stress-${STRESS_COUNT:-20}" "$(printf '%s\n' "$out" | sed -n 's/^stress: SKIP: //p' | head -n 1)"
elif printf '%s\n' "$out" | grep -q '^stress: PASS'; then
	pass "attach/stress-${STRESS_COUNT:-20}"
else
	fail "attach/stress-${STRESS_COUNT:-20}" "$(printf '%s\n' "$out" | grep -E '^stress: ' | tail -n 3 | tr '\n' '|')"
fi
printf '%s\n' "$out" | grep '^stress: ' | sed 's/^/# /'
exit 0
