#!/usr/bin/env bash
# run_passthrough.sh — under `racewatch run` a program behaves exactly as
# without it: stdout, stderr, stdin, arguments, environment, exit status,
# death by signal, and samples/basic/lifecycle.c's threads, fork, vfork +
# exec, exec of itself, blocked signals and SIGTRAPs of its own (raise() and
# int3), for each backend that delivers here (perf, ptrace, code; one SKIP
# line for a backend that does not).  The reference is always a native run
# of the same command, compared byte for byte; racewatch runs with -q so
# that its summary line does not land in the program's stderr.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

# first_diff A B: the first differing line of two files, for FAIL messages.
first_diff() {
	diff "$1" "$2" | grep -m2 '^[<>]' | tr '\n' '|' | cut -c1-300
}


# same NAME WANT_RC: compare the traced run ($TMP/t.*) with the native one
# ($TMP/n.*): exit status (which must also be WANT_RC), stdout, stderr.
same() {
	local t=$1 want=$2
	if [ "$NRC" != "$want" ]; then
		fail "$t/native" "the sample itself exits $NRC, expected $want"
		return
	fi
	if [ "$RC" = "$want" ]; then pass "$t/exit-$want"; else fail "$t/exit-$want" "traced: $(why_rc "$RC")"; fi
	if cmp -s "$TMP/t.out" "$TMP/n.out"; then
		pass "$t/stdout"
	else
		fail "$t/stdout" "traced vs native: $(first_diff "$TMP/t.out" "$TMP/n.out")"
	fi
	if cmp -s "$TMP/t.err" "$TMP/n.err"; then
		pass "$t/stderr"
	else
		fail "$t/stderr" "traced vs native: $(first_diff "$TMP/t.err" "$TMP/n.err")"
	fi
}

# ---- preconditions ------------------------------------------------------

if [ ! -x "$RW" ]; then
	fail passthrough/tracer "$RW is missing: build it with make"
	exit 0
fi
probe_machine
case "$PROBE_OUT" in
*"ptrace: "*) ;;
*) fail passthrough/probe "racewatch probe printed no 'ptrace:' line: $(printf '%s' "$PROBE_OUT" | tr '\n' ' ')"; exit 0 ;;
esac
tracing_ok passthrough || exit 0
# Run from a scratch directory so that a core file, if one were written
# despite RLIMIT_CORE 0, is seen and never left in the repository.
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
LC_O1=$(abs "$SAMPLES/basic/lifecycle-O1")
LC_O2=$(abs "$SAMPLES/basic/lifecycle-O2")
RW=$(abs "$RW")
mkdir -p "$TMP/cwd" && cd "$TMP/cwd" || exit 1
if [ ! -x "$LC_O1" ] || [ ! -x "$LC_O2" ]; then
	fail passthrough/samples "lifecycle samples not built ($LC_O1)"
	exit 0
fi

# Does this racewatch have --follow-fork?  Then check it too.
FOLLOW=()
if "$RW" --help 2>&1 | grep -q -- '--follow-fork'; then FOLLOW=(--follow-fork); fi

for B in perf ptrace code; do
	backend_ok "passthrough/$B" "$B" || continue

	# lifecycle all: threads, fork, vfork+exec, signals, exec of itself.
	for OPT in O1 O2; do
		eval "LC=\$LC_$OPT"
		native "$TMP/n" "$LC" all
		NRC=$RC
		trace "$TMP/t" run -q --backend "$B" -w counter -- "$LC" all
		same "passthrough/$B/$OPT/lifecycle-all" 3

		if [ ${#FOLLOW[@]} -gt 0 ]; then
			trace "$TMP/t" run -q --backend "$B" --follow-fork -w counter -- "$LC" all
			same "passthrough/$B/$OPT/lifecycle-all-follow-fork" 3
		fi

		# Silence above only means something if counter was watched, and
		# the exec of itself was followed (execs: the first exec + that one).
		trace "$TMP/s" run -q --backend "$B" -w counter --stats -- "$LC" all
		traps=$(stat_of "$TMP/s.err" traps) execs=$(stat_of "$TMP/s.err" execs)
		if [ "$RC" = 3 ] && [ "${traps:-0}" -gt 0 ] && [ "${execs:-0}" -ge 2 ]; then
			pass "passthrough/$B/$OPT/lifecycle-watched"
		else
			fail "passthrough/$B/$OPT/lifecycle-watched" "$(why_rc "$RC"), --stats traps=${traps:-none} execs=${execs:-none}"
		fi
	done

	# Death by signal: the tracer exits 128+N, output unchanged, no core file.
	for how in segv:11 abrt:6 trap:5 int3:5; do
		sig=${how#*:} how=${how%:*}
		native "$TMP/n" "$LC_O2" kill "$how"
		NRC=$RC
		trace "$TMP/t" run -q --backend "$B" -w counter -- "$LC_O2" kill "$how"
		same "passthrough/$B/kill-$how" $((128 + sig))
	done
	if ls core* >/dev/null 2>&1; then
		fail "passthrough/$B/no-core-file" "$(ls core* | head -n 3 | tr '\n' ' ')"
	else
		pass "passthrough/$B/no-core-file"
	fi
	rm -f core*

	for n in 0 7 255; do
		native "$TMP/n" "$LC_O2" exit $n
		NRC=$RC
		trace "$TMP/t" run -q --backend "$B" -w counter -- "$LC_O2" exit $n
		same "passthrough/$B/exit-$n" $n
	done

	# stdin reaches the program.
	got=$( (echo hi | rw run -q --backend "$B" -- cat) 2>"$TMP/t.err")
	RC=$?
	if [ "$got" = hi ] && [ "$RC" = 0 ] && [ ! -s "$TMP/t.err" ]; then
		pass "passthrough/$B/stdin"
	else
		fail "passthrough/$B/stdin" "got '$got', $(why_rc "$RC"), stderr: $(tail_of "$TMP/t.err")"
	fi

	# Arguments after PROG are the program's, even ones that look like ours.
	trace "$TMP/t" run -q --backend "$B" -- /bin/echo a 'b  c' -- -w --exitcode
	if [ "$(cat "$TMP/t.out")" = "a b  c -- -w --exitcode" ] && [ "$RC" = 0 ]; then
		pass "passthrough/$B/arguments"
	else
		fail "passthrough/$B/arguments" "got '$(tail_of "$TMP/t.out")', $(why_rc "$RC")"
	fi

	# The environment reaches the program.
	RWTEST_ENV="x y" trace "$TMP/t" run -q --backend "$B" -- /bin/sh -c 'echo "[$RWTEST_ENV]"'
	if [ "$(cat "$TMP/t.out")" = "[x y]" ] && [ "$RC" = 0 ]; then
		pass "passthrough/$B/environment"
	else
		fail "passthrough/$B/environment" "got '$(tail_of "$TMP/t.out")', $(why_rc "$RC")"
	fi

	# Programs without DWARF, and a #! script, run without -w.
	trace "$TMP/t" run -q --backend "$B" -- /bin/true
	if [ "$RC" = 0 ] && [ ! -s "$TMP/t.err" ] && [ ! -s "$TMP/t.out" ]; then pass "passthrough/$B/no-dwarf-true"; else
		fail "passthrough/$B/no-dwarf-true" "$(why_rc "$RC"), stderr: $(tail_of "$TMP/t.err")"; fi
	trace "$TMP/t" run -q --backend "$B" -- sh -c 'echo out; echo err >&2; exit 4'
	if [ "$RC" = 4 ] && [ "$(cat "$TMP/t.out")" = out ] && [ "$(cat "$TMP/t.err")" = err ]; then
		pass "passthrough/$B/no-dwarf-sh-exit-4"
	else
		fail "passthrough/$B/no-dwarf-sh-exit-4" "$(why_rc "$RC"), stdout '$(tail_of "$TMP/t.out")', stderr '$(tail_of "$TMP/t.err")'"
	fi
	printf '#!/bin/sh\necho "script $1"\nexit 6\n' >"$TMP/script.sh"
	chmod +x "$TMP/script.sh"
	trace "$TMP/t" run -q --backend "$B" -- "$TMP/script.sh" arg
	if [ "$RC" = 6 ] && [ "$(cat "$TMP/t.out")" = "script arg" ] && [ ! -s "$TMP/t.err" ]; then
		pass "passthrough/$B/script"
	else
		fail "passthrough/$B/script" "$(why_rc "$RC"), stdout '$(tail_of "$TMP/t.out")', stderr '$(tail_of "$TMP/t.err")'"
	fi
done
exit 0
