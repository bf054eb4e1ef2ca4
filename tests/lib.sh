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

# Can this machine do what the tracer needs?  `racewatch probe` tries each
# mechanism for real on a child (arm, touch, count the traps that arrive).
# tests/run.sh asks it once and exports PROBE_OUT; a script run on its own
# asks it here.  Sets HAVE_PTRACE, HAVE_PERF (perf breakpoints deliver),
# HAVE_DR (ptrace debug registers deliver), HAVE_INT3 and HAVE_CODE (code
# sites work), and PROBE_RC (probe's exit status, when it was run here).
probe_machine() {
	local p=${PROBE_OUT:-}
	if [ -z "$p" ]; then
		p=$("$RW" probe 2>/dev/null)
		PROBE_RC=$?
	fi
	PROBE_OUT=$p
	HAVE_PTRACE=0 HAVE_PERF=0 HAVE_DR=0 HAVE_INT3=0 HAVE_CODE=0
	case "$p" in *"ptrace: yes"*) HAVE_PTRACE=1 ;; esac
	case "$p" in *"perf-breakpoint: yes"*) HAVE_PERF=1 ;; esac
	case "$p" in *"debug-registers: yes"*) HAVE_DR=1 ;; esac
	case "$p" in *"int3: yes"*) HAVE_INT3=1 ;; esac
	case "$p" in *"code-sites: yes"*) HAVE_CODE=1 ;; esac
}

# probe_line NAME: probe's line for mechanism NAME (perf-breakpoint, ...).
probe_line() { printf '%s\n' "$PROBE_OUT" | grep -m1 "^$1: "; }

# why_not BACKEND: one short reason why BACKEND cannot run here.
why_not() {
	local m line
	case $1 in
	perf) m=perf-breakpoint ;;
	ptrace) m=debug-registers ;;
	code) m=code-sites ;;
	*) m=$1 ;;
	esac
	line=$(probe_line "$m")
	case "$line" in
	'') echo "racewatch probe printed no '$m:' line" ;;
	*"armed, but 0 of"*) echo "debug-register traps are not delivered here (racewatch probe: $m: no)" ;;
	*) echo "racewatch probe: $(printf '%s' "$line" | cut -c1-120)" ;;
	esac
}

# backend_ok NAME BACKEND: 0 if BACKEND delivers here, else prints one SKIP
# line for the group NAME and returns 1.
backend_ok() {
	case "$2" in
	perf) [ "$HAVE_PERF" = 1 ] && return 0 ;;
	ptrace) [ "$HAVE_DR" = 1 ] && return 0 ;;
	code) [ "$HAVE_CODE" = 1 ] && return 0 ;;
	esac
	skip "$1" "$(why_not "$2")"
	return 1
}

# auto_backend: what --backend auto picks here for a watch set that fits
# the debug registers.
auto_backend() {
	if [ "$HAVE_PERF" = 1 ]; then echo perf; elif [ "$HAVE_DR" = 1 ]; then echo ptrace; else echo code; fi
}

# tracing_ok NAME: 0 if some mechanism works here (the default backend,
# auto, has something to use), else one SKIP line for NAME.
tracing_ok() {
	if [ "$HAVE_PTRACE" != 1 ]; then
		skip "$1" "ptrace is not allowed here ($(probe_line ptrace | cut -c1-120))"
		return 1
	fi
	[ "$HAVE_PERF" = 1 ] || [ "$HAVE_DR" = 1 ] || [ "$HAVE_CODE" = 1 ] && return 0
	skip "$1" "no mechanism delivers here (racewatch probe: perf-breakpoint, debug-registers and code-sites all no)"
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
