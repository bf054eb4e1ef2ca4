# Sourced by tests/integration/*.sh.  Each check prints exactly one line:
#   PASS: name            FAIL: name: why            SKIP: name: why
# Detection is sampled, so checks that expect a report retry until a
# deadline (retry_until) and never rely on a fixed sleep.
O=${O:-build}
RW=${RW:-$O/racewatch}
SAMPLES=$O/samples
TMP=$(mktemp -d /tmp/rwtest.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; }
skip() { echo "SKIP: $1: $2"; }

# check NAME CMD...: PASS if CMD succeeds, else FAIL with CMD's last output line.
check() {
	local name=$1; shift
	local out
	if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$(printf '%s' "$out" | tail -n 3 | tr '\n' ' ')"; fi
}

# Can this machine do what the tracer needs?  Sets HAVE_PTRACE / HAVE_PERF /
# HAVE_DR from `racewatch probe` (which tries each for real on a child).
probe_machine() {
	local p
	p=$("$RW" probe 2>/dev/null)
	HAVE_PTRACE=0 HAVE_PERF=0 HAVE_DR=0
	case "$p" in *"ptrace: yes"*) HAVE_PTRACE=1 ;; esac
	case "$p" in *"perf-breakpoint: yes"*) HAVE_PERF=1 ;; esac
	case "$p" in *"debug-registers: yes"*) HAVE_DR=1 ;; esac
	PROBE_OUT=$p
}

# backend_ok NAME BACKEND: 0 if BACKEND can run here, else prints SKIP for NAME.
backend_ok() {
	case "$2" in
	perf) [ "$HAVE_PERF" = 1 ] && return 0 ;;
	ptrace) [ "$HAVE_DR" = 1 ] && return 0 ;;
	esac
	skip "$1" "backend $2 not available here: $(printf '%s' "$PROBE_OUT" | tr '\n' ' ')"
	return 1
}

# retry_until SECS CMD...: run CMD until it succeeds or SECS have passed.
retry_until() {
	local secs=$1; shift
	local end=$((SECONDS + secs))
	while :; do
		"$@" && return 0
		[ $SECONDS -ge $end ] && return 1
	done
}

# rw ARGS...: the tracer with a hard time limit so no test can hang.
rw() { timeout -k 5 "${RW_TIMEOUT:-60}" "$RW" "$@"; }

# ---- shared by the integration scripts ---------------------------------------

# trace PREFIX ARGS...: racewatch ARGS with stdin from /dev/null; stdout and
# stderr land in PREFIX.out / PREFIX.err, the exit status in RC.  The subshell
# keeps bash's "Segmentation fault" notices out of the log.
trace() {
	local p=$1; shift
	( rw "$@" </dev/null >"$p.out" 2>"$p.err"; echo $? >"$p.rc" ) 2>/dev/null
	RC=$(cat "$p.rc")
}

# native PREFIX CMD...: the same without the tracer.
native() {
	local p=$1; shift
	( "$@" </dev/null >"$p.out" 2>"$p.err"; echo $? >"$p.rc" ) 2>/dev/null
	RC=$(cat "$p.rc")
}

# why_rc RC: words for an exit status in a FAIL message.
why_rc() {
	case $1 in
	124|137) echo "timed out (status $1)" ;;
	'') echo "no status" ;;
	*) echo "status $1" ;;
	esac
}

# tail_of FILE: the last lines of FILE on one line, for FAIL messages.
tail_of() { tail -n 4 "$1" 2>/dev/null | tr '\n' '|' | cut -c1-300; }

# stat_of FILE NAME: the value of counter NAME in racewatch --stats output.
stat_of() { sed -n "s/^racewatch: stats: $2  *\([0-9][0-9]*\)\$/\1/p" "$1" | tail -n 1; }
