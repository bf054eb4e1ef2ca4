#!/usr/bin/env bash
# code.sh — the code-site backend (--backend code: int3 on every instruction
# that accesses a watched variable, run out of line in a scratch page):
#
#   six-globals     samples/basic/six_globals.c, six racy globals (more than
#                   the four debug registers): all six reported in ONE run,
#                   -O1 and -O2, retried until a deadline; and with
#                   --watch-all instead of six -w (where racewatch has it)
#   locked-twin     six_globals_locked never reported (at least TWIN_RUNS
#                   runs and TWIN_SECS seconds), exit 0, stdout as native,
#                   and something was watched (traps > 0)
#   auto-six        without --backend, six variables go to code (the summary
#                   says "6 watched" and "backend code") on any machine
#   bss-tail        samples/basic/bss_tail.c: a racy variable 1 MiB into a
#                   .bss object, in anonymous memory past the executable's
#                   file-backed pages, is reported (-O1, -O2)
#   attach          attach --backend code to a running worker: while attached
#                   the sites hold 0xcc (compared with the ELF file's bytes
#                   through /proc/PID/mem), the race is reported; after
#                   SIGINT every byte of the executable's text is the file's
#                   again, the target runs on and ends with its own result,
#                   no SIGTRAP seen
#   sigkill         racewatch killed by SIGKILL under code: the int3 bytes
#                   stay and the target dies of SIGTRAP at its next hit (what
#                   the README documents)
#   fork, vfork, posix_spawn   programs that fork (not followed), vfork +
#                   exec and posix_spawn behave exactly as natively: stdout,
#                   stderr, exit status
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
. tests/attach_lib.sh

RACE_SECS=${RACE_SECS:-30}
TWIN_RUNS=${TWIN_RUNS:-5}
TWIN_SECS=${TWIN_SECS:-5}
SIX="-w g_count -w g_flags -w g_pos -w g_ratio -w g_state -w g_total"
W=$LC_SAMPLES/worker-O2
FK=$LC_SAMPLES/forker-O2

if [ ! -x "$RW" ]; then
	fail code/tracer "$RW is missing: build it with make"
	exit 0
fi
probe_machine
backend_ok code code || exit 0

# vars_reported FILE: the variables named in FILE's access lines, sorted.
vars_reported() {
	sed -nE 's/^(read|write|read-write) to 0x[0-9a-f]+ \(([A-Za-z_][A-Za-z0-9_]*)[^)]*\) of .*/\2/p' "$1" | sort -u | tr '\n' ' '
}
ALL6="g_count g_flags g_pos g_ratio g_state g_total "

# ---- six racy globals in one run -----------------------------------------------

for OPT in O1 O2; do
	BIN=$SAMPLES/basic/six_globals-$OPT TWIN=$SAMPLES/basic/six_globals_locked-$OPT
	if [ ! -x "$BIN" ] || [ ! -x "$TWIN" ]; then
		fail "code/$OPT/six-globals" "samples not built ($BIN)"
		continue
	fi
	for how in six watch-all; do
		t=code/$OPT/six-globals
		opts=$SIX
		if [ "$how" = watch-all ]; then
			t=$t-watch-all opts=--watch-all
			if ! "$RW" --help 2>&1 | grep -q -- '--watch-all'; then
				skip "$t" "this racewatch has no --watch-all"
				continue
			fi
		fi
		RUNS=0
		six_run() {
			# shellcheck disable=SC2086
			trace "$TMP/six" run --backend code $opts -- "$BIN" 500
			RUNS=$((RUNS + 1))
			[ "$RC" = 66 ] && [ "$(vars_reported "$TMP/six.err")" = "$ALL6" ]
		}
		if retry_until "$RACE_SECS" six_run; then
			pass "$t"
		else
			fail "$t" "no run reported all six in $RUNS runs / ${RACE_SECS}s; last: $(why_rc "$RC"), reported: $(vars_reported "$TMP/six.err")"
		fi
	done

	# The race-free twin: never.
	t=code/$OPT/locked-twin
	native "$TMP/tn" "$TWIN" 500
	runs=0 traps=0 bad="" end=$((SECONDS + TWIN_SECS))
	while [ -z "$bad" ] && { [ $runs -lt "$TWIN_RUNS" ] || [ $SECONDS -lt $end ]; }; do
		# shellcheck disable=SC2086
		trace "$TMP/tw" run --backend code --stats $SIX -- "$TWIN" 500
		runs=$((runs + 1))
		n=$(stat_of "$TMP/tw.err" traps)
		traps=$((traps + ${n:-0}))
		if grep -q '^BUG: racewatch' "$TMP/tw.err"; then
			bad="run $runs reported: $(grep -m1 -A2 '^BUG: racewatch' "$TMP/tw.err" | tr '\n' '|')"
		elif [ "$RC" != 0 ]; then
			bad="run $runs: $(why_rc "$RC"); $(tail_of "$TMP/tw.err")"
		elif ! cmp -s "$TMP/tw.out" "$TMP/tn.out"; then
			bad="run $runs: stdout '$(tail_of "$TMP/tw.out")' vs native '$(tail_of "$TMP/tn.out")'"
		fi
	done
	if [ -n "$bad" ]; then fail "$t/never-reported" "$bad"; else pass "$t/never-reported"; fi
	if [ "$traps" -gt 0 ]; then pass "$t/watched"; else fail "$t/watched" "no traps in $runs runs"; fi
done

# Six variables do not fit four debug registers: auto takes code anywhere.
t=code/auto-six
# shellcheck disable=SC2086
trace "$TMP/auto" run $SIX -- "$SAMPLES/basic/six_globals-O2" 200
if grep -Eq '^racewatch: summary: .*, 6 watched, .*; backend code$' "$TMP/auto.err"; then
	pass "$t"
else
	fail "$t" "$(why_rc "$RC"); summary: $(grep '^racewatch: summary' "$TMP/auto.err")"
fi

# A variable in the anonymous tail of .bss (no file mapping covers it) is
# the executable's all the same: its sites are planted and the race found.
for OPT in O1 O2; do
	t=code/$OPT/bss-tail BIN=$SAMPLES/basic/bss_tail-$OPT
	if [ ! -x "$BIN" ]; then
		fail "$t" "sample not built ($BIN)"
		continue
	fi
	RUNS=0
	tail_run() {
		trace "$TMP/bt" run --backend code --stats -w tail.count -- "$BIN" 2000
		RUNS=$((RUNS + 1))
		[ "$RC" = 66 ] && [ "$(vars_reported "$TMP/bt.err")" = "tail " ]
	}
	if retry_until "$RACE_SECS" tail_run; then
		pass "$t"
	else
		fail "$t" "no report on tail.count in $RUNS runs / ${RACE_SECS}s; last: $(why_rc "$RC"), code_sites $(stat_of "$TMP/bt.err" code_sites), $(grep -m1 'warning' "$TMP/bt.err")"
	fi
done

# ---- attach, sites planted, every byte restored on detach -------------------------

# text_vs_file PID EXE: "BYTES DIFFS CC" — bytes of EXE's executable mappings
# in PID compared with EXE's file, how many differ, how many of those are
# 0xcc in memory.  Empty when /proc/PID/mem cannot be read.
text_vs_file() {
	python3 - "$1" "$2" 2>/dev/null <<'EOF'
import os, sys
pid, exe = sys.argv[1], os.path.realpath(sys.argv[2])
data = open(exe, "rb").read()
total = diffs = cc = 0
with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
    for line in maps:
        f = line.split()
        if len(f) < 6 or f[5] != exe or "x" not in f[1]:
            continue
        lo, hi = (int(x, 16) for x in f[0].split("-"))
        off = int(f[2], 16)
        mem.seek(lo)
        got = mem.read(hi - lo)
        want = data[off:off + len(got)]
        for a, b in zip(got, want):
            if a != b:
                diffs += 1
                cc += a == 0xCC
        total += min(len(got), len(want))
print(total, diffs, cc)
EOF
}

planted() { read -r BYTES DIFFS CC <<<"$(text_vs_file "$TPID" "$W")"; [ "${CC:-0}" -gt 0 ]; }

t=code/attach
if ! start_target "$TMP/w" "$W" -s 0 -H; then
	fail "$t" "worker did not start: $(oneline "$TMP/w.err")"
else
	read -r BYTES DIFFS CC <<<"$(text_vs_file "$TPID" "$W")"
	if [ -z "${BYTES:-}" ] || [ "$BYTES" = 0 ]; then
		skip "$t/bytes" "cannot read /proc/$TPID/mem or its maps here (not root, or yama ptrace_scope)"
		NOMEM=1
	elif [ "$DIFFS" != 0 ]; then
		fail "$t/bytes" "before the attach, $DIFFS bytes of the text differ from the file already"
		NOMEM=1
	else
		NOMEM=0
	fi
	# --overhead 0: hot's site stays armed (no duty cycle) while we look.
	attach_bg "$TMP/a" --backend code --overhead 0 -w hot -w locked_total "$TPID"
	if poll_until "$RACE_SECS" reported "$TMP/a"; then
		pass "$t/race"
	else
		fail "$t/race" "no report in ${RACE_SECS}s: $(oneline "$TMP/a.err")"
	fi
	if [ "$NOMEM" = 0 ]; then
		if ! poll_until 10 planted; then
			fail "$t/sites-planted" "no 0xcc in the text while attached ($BYTES bytes, $DIFFS differ)"
		elif [ "$DIFFS" != "$CC" ]; then
			fail "$t/sites-planted" "$DIFFS bytes differ, only $CC of them are 0xcc"
		else
			pass "$t/sites-planted"
		fi
	fi
	kill -INT "$RWPID"
	if ! wait_rc "$TMP/a" 15; then
		fail "$t/detach" "racewatch did not exit within 15 s of SIGINT"
	elif [ "$RC" != 66 ]; then
		fail "$t/detach" "racewatch $(why_rc "$RC"), want 66; $(tail_of "$TMP/a.err")"
	elif ! poll_until 2 untouched "$TPID" || ! runs_on "$TPID"; then
		fail "$t/detach" "after the detach: $(describe "$TPID")"
	else
		pass "$t/detach"
	fi
	if [ "$NOMEM" = 0 ]; then
		read -r BYTES DIFFS CC <<<"$(text_vs_file "$TPID" "$W")"
		if [ "${BYTES:-0}" -gt 0 ] && [ "$DIFFS" = 0 ]; then
			pass "$t/bytes-restored"
		else
			fail "$t/bytes-restored" "after the detach ${DIFFS:-?} of ${BYTES:-?} text bytes differ from the file (${CC:-?} are 0xcc)"
		fi
	fi
	finish_worker "$t/target-result" "$TMP/w"
fi

# ---- SIGKILL of the tracer: what the README says it leaves ---------------------------

t=code/sigkill
if ! start_target "$TMP/k" "$W" -s 0; then
	fail "$t" "worker did not start"
else
	attach_bg "$TMP/a" --backend code --overhead 0 -w hot "$TPID"
	poll_until "$RACE_SECS" reported "$TMP/a"
	kill -KILL "$RWPID"
	if ! wait_rc "$TMP/k" 15; then
		fail "$t" "the target still runs 15 s after racewatch was killed: $(describe "$TPID")"
		kill -9 "$TPID" 2>/dev/null
	elif [ "$RC" != 133 ]; then
		fail "$t" "the target ended with $(why_rc "$RC"), want 133 (SIGTRAP at its next hit)"
	else
		pass "$t"
	fi
fi

# ---- fork (not followed), vfork + exec, posix_spawn: as natively ----------------------

# as_native NAME CMD...: CMD under --backend code $AS_OPTS vs natively:
# status, stdout (in any order: parent and child write it), stderr
# (racewatch with -q).
AS_OPTS=()
as_native() {
	local t=code/$1; shift
	native "$TMP/n" "$@"
	local nrc=$RC
	trace "$TMP/c" run -q --backend code "${AS_OPTS[@]}" -- "$@"
	if [ "$RC" != "$nrc" ]; then
		fail "$t" "traced $(why_rc "$RC"), native $(why_rc "$nrc"); stderr: $(tail_of "$TMP/c.err")"
	elif ! cmp -s <(sort "$TMP/c.out") <(sort "$TMP/n.out"); then
		fail "$t" "stdout traced '$(tail_of "$TMP/c.out")' vs native '$(tail_of "$TMP/n.out")'"
	elif ! cmp -s "$TMP/c.err" "$TMP/n.err"; then
		fail "$t" "stderr traced '$(tail_of "$TMP/c.err")' vs native '$(tail_of "$TMP/n.err")'"
	else
		pass "$t"
	fi
}

# A program with code sites on `shared` in both parent and child: it
# posix_spawns itself (the child touches `shared` before and after its own
# threads run), and vforks + execs /bin/echo.
cat >"$TMP/spawner.c" <<'EOF'
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
extern char **environ;
long shared;
__attribute__((noinline)) void bump(void) { shared++; }
static void *thr(void *a) { for (int i = 0; i < 20000; i++) bump(); return a; }
static int wait_for(pid_t p) { int st; waitpid(p, &st, 0); return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st); }
int main(int argc, char **argv)
{
	pthread_t t;
	if (argc > 1 && !strcmp(argv[1], "child")) {
		bump();
		pthread_create(&t, NULL, thr, NULL);
		pthread_join(t, NULL);
		printf("child: shared=%ld\n", shared);
		return 5;
	}
	pthread_create(&t, NULL, thr, NULL);
	pid_t p;
	char *cargv[] = { argv[0], "child", NULL };
	if (posix_spawn(&p, argv[0], NULL, NULL, cargv, environ)) { perror("posix_spawn"); return 1; }
	int s1 = wait_for(p);
	pid_t v = vfork();
	if (v == 0) { execl("/bin/echo", "echo", "vforked", (char *)NULL); _exit(127); }
	int s2 = wait_for(v);
	pthread_join(t, NULL);
	bump();
	printf("parent: spawn %d, vfork %d, shared=%ld\n", s1, s2, shared);
	return 3;
}
EOF
if ! cc -g -O1 -pthread -o "$TMP/spawner" "$TMP/spawner.c" 2>"$TMP/cc.err"; then
	fail code/posix-spawn "cannot build the test program: $(tail_of "$TMP/cc.err")"
else
	as_native posix-spawn "$TMP/spawner"
	# The same with the child's `shared` watched through --follow-fork.
	t=code/posix-spawn-follow
	trace "$TMP/c" run -q --backend code --follow-fork -w shared -- "$TMP/spawner"
	if [ "$RC" = 3 ] && cmp -s <(sort "$TMP/c.out") <(sort "$TMP/n.out"); then
		pass "$t"
	else
		fail "$t" "$(why_rc "$RC") (want 3); stdout '$(tail_of "$TMP/c.out")' vs native '$(tail_of "$TMP/n.out")'"
	fi
	AS_OPTS=(-w shared)
	as_native posix-spawn-watched "$TMP/spawner"
	AS_OPTS=()
fi
if [ -x "$FK" ]; then
	# forker's child races on child_hot, whose sites are planted in the
	# parent: not followed, the child must run as natively (untraced).
	for M in fork vfork; do
		native "$TMP/n" "$FK" "$M"
		nrc=$RC
		trace "$TMP/c" run -q --backend code -w child_hot -- "$FK" "$M"
		if [ "$RC" = "$nrc" ] && cmp -s "$TMP/c.out" "$TMP/n.out" && cmp -s "$TMP/c.err" "$TMP/n.err"; then
			pass "code/$M-no-follow"
		else
			fail "code/$M-no-follow" "traced $(why_rc "$RC") vs native $nrc; stdout '$(tail_of "$TMP/c.out")' vs '$(tail_of "$TMP/n.out")'; stderr '$(tail_of "$TMP/c.err")'"
		fi
	done
else
	fail code/fork-no-follow "samples/lifecycle not built ($FK)"
fi
exit 0
