#!/usr/bin/env bash
# blind.sh — never silently blind.  Every racewatch here runs with
# RACEWATCH_DEBUG=hw-silent, which arms perf and ptrace breakpoints where
# nothing touches them, so these checks behave the same on a machine whose
# debug registers deliver and on one whose do not:
#
#   explicit      run --backend perf|ptrace: exit 2, exactly one stderr line
#                 "racewatch: --backend B: MECHANISM: armed, but 0 of ...;
#                 use --backend code (or auto)", nothing on stdout, and the
#                 program never started (it would have created a marker
#                 file); attach --backend perf|ptrace: the same line and
#                 status, the target left untouched (never traced, running,
#                 its own correct result, no SIGTRAP / SIGURG seen)
#   auto          the default picks code: the race on foo is reported and
#                 the summary says "backend code"
#   summary       every run ends with one summary line of the documented
#                 form; -q drops it (and the notes), nothing else
#   nothing       run without -w on a program that registers nothing says
#                 "racewatch: nothing to watch: ..." before it runs it
#   never-seen    a watched variable that no access reached gets a warning
#                 line at exit, a reached one does not; the -o end
#                 record has "watched", "backend" and, when no access at all
#                 was seen, "notice"; SARIF then has a toolExecutionNotification
#   attach notes  attach prints "attached to PID (N threads), watching ...;
#                 backend X" and "detached from PID"
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
. tests/attach_lib.sh
export RACEWATCH_DEBUG=hw-silent

RACE_SECS=${RACE_SECS:-30}
BIN=$SAMPLES/basic/race_rw-O2
W=$LC_SAMPLES/worker-O2
SUMMARY_RE='^racewatch: summary: [0-9]+ races? \([0-9]+ suppressed\), [0-9]+ watched, [0-9]+ traps, [0-9]+ windows, [0-9]+ threads?, [0-9.]+ s; backend (perf|ptrace|code|code \(sampling\)|code \(uprobe\))$'

if [ ! -x "$RW" ] || [ ! -x "$BIN" ] || [ ! -x "$W" ]; then
	fail blind/build "$RW or the samples are missing: build with make"
	exit 0
fi
# The probe as this script's racewatch sees it (with the switch on).
PROBE_OUT=$("$RW" probe 2>/dev/null)
probe_machine
if [ "$HAVE_PTRACE" != 1 ]; then
	skip blind "ptrace is not allowed here ($(probe_line ptrace | cut -c1-120))"
	exit 0
fi

# ---- an explicit backend that does not deliver ----------------------------------

# A program that leaves a marker if it ever starts.
printf '#!/bin/sh\n: >"%s"\necho started\n' "$TMP/started" >"$TMP/mark.sh"
chmod 755 "$TMP/mark.sh"

# one_line_refusal FILE B: FILE is exactly the one refusal line for --backend B.
one_line_refusal() {
	local m
	case $2 in perf) m=perf-breakpoint ;; ptrace) m=debug-registers ;; esac
	[ "$(grep -c '' "$1")" = 1 ] &&
		grep -Eq "^racewatch: --backend $2: $m: armed, but 0 of [0-9]+ .*; use --backend code \(or auto\)\$" "$1"
}

for B in perf ptrace; do
	t=blind/run-$B
	rm -f "$TMP/started"
	trace "$TMP/r" run --backend "$B" -- "$TMP/mark.sh"
	if [ "$RC" != 2 ]; then
		fail "$t" "$(why_rc "$RC"), want 2; stderr: $(tail_of "$TMP/r.err")"
	elif ! one_line_refusal "$TMP/r.err" "$B"; then
		fail "$t" "want one line 'racewatch: --backend $B: ...: armed, but 0 of ...; use --backend code (or auto)', got: $(tail_of "$TMP/r.err")"
	elif [ -e "$TMP/started" ] || [ -s "$TMP/r.out" ]; then
		fail "$t" "the program was started (marker file / stdout: $(tail_of "$TMP/r.out"))"
	else
		pass "$t"
	fi
	# With a watch expression too: refused before the program runs.
	t=blind/run-$B-watch
	trace "$TMP/r" run --backend "$B" -w foo -- "$BIN"
	if [ "$RC" = 2 ] && one_line_refusal "$TMP/r.err" "$B" && [ ! -s "$TMP/r.out" ]; then
		pass "$t"
	else
		fail "$t" "$(why_rc "$RC"); stdout: $(tail_of "$TMP/r.out"); stderr: $(tail_of "$TMP/r.err")"
	fi

	t=blind/attach-$B
	if ! start_target "$TMP/w" "$W" -s 0 -H; then
		fail "$t" "worker did not start: $(oneline "$TMP/w.err")"
		continue
	fi
	trace "$TMP/a" attach --backend "$B" -w hot "$TPID"
	if [ "$RC" != 2 ] || ! one_line_refusal "$TMP/a.err" "$B"; then
		fail "$t" "$(why_rc "$RC"), want 2 and the one refusal line; stderr: $(tail_of "$TMP/a.err")"
	elif ! untouched "$TPID" || ! runs_on "$TPID"; then
		fail "$t" "the target was touched: $(describe "$TPID")"
	else
		pass "$t"
	fi
	finish_worker "$t/target-result" "$TMP/w"
done

# ---- auto falls back to code, and says so ---------------------------------------

if [ "$HAVE_CODE" != 1 ]; then
	skip blind/auto "$(why_not code)"
else
	auto_run() {
		trace "$TMP/auto" run -w foo -- "$BIN"
		grep -q '^BUG: racewatch: data-race in read_foo / update_foo$' "$TMP/auto.err"
	}
	if ! retry_until "$RACE_SECS" auto_run; then
		fail blind/auto/race-reported "no report within ${RACE_SECS}s; last: $(why_rc "$RC"), $(tail_of "$TMP/auto.err")"
	else
		pass blind/auto/race-reported
	fi
	if grep -q '; backend code$' "$TMP/auto.err" && grep -Eq "$SUMMARY_RE" "$TMP/auto.err"; then
		pass blind/auto/picks-code
	else
		fail blind/auto/picks-code "summary: $(grep '^racewatch: summary' "$TMP/auto.err")"
	fi

	# ---- the summary line -----------------------------------------------------------
	t=blind/summary
	n=$(grep -c '^racewatch: summary: ' "$TMP/auto.err")
	last=$(grep -v '^$' "$TMP/auto.err" | tail -n 1)
	if [ "$n" = 1 ] && printf '%s\n' "$last" | grep -Eq "$SUMMARY_RE" &&
	   printf '%s\n' "$last" | grep -Eq '^racewatch: summary: [1-9][0-9]* race'; then
		pass "$t/last-line"
	else
		fail "$t/last-line" "$n summary lines; last line: $last"
	fi
	trace "$TMP/q" run -q -w foo -- "$BIN" 200
	if grep -q '^racewatch: summary' "$TMP/q.err"; then
		fail "$t/quiet" "-q still prints: $(grep '^racewatch: summary' "$TMP/q.err")"
	elif ! grep -q '^race_rw: done' "$TMP/q.out"; then
		fail "$t/quiet" "the program did not run: $(why_rc "$RC"), $(tail_of "$TMP/q.err")"
	elif grep -q '^racewatch: ' "$TMP/q.err"; then
		fail "$t/quiet" "-q prints: $(grep '^racewatch: ' "$TMP/q.err" | head -n 2 | tr '\n' '|')"
	elif [ "$RC" = 66 ] && ! grep -q '^BUG: racewatch' "$TMP/q.err"; then
		fail "$t/quiet" "exit 66 but -q dropped the race report itself"
	else
		pass "$t/quiet"
	fi
fi

# ---- nothing to watch --------------------------------------------------------------

# Nothing named, nothing registered: the run says at its start what it does
# instead -- samples the program's own accesses (issue 13) where code
# breakpoints work, else that nothing is watched.
t=blind/nothing-to-watch
trace "$TMP/n" run -- "$BIN" 10
first=$(grep -m1 '' "$TMP/n.err")
if [ "$HAVE_CODE" = 1 ]; then want='^racewatch: no -w: sampling the program'"'"'s own memory accesses'
else want='^racewatch: nothing to watch: '; fi
if { [ "$RC" = 0 ] || [ "$RC" = 66 ]; } && printf '%s\n' "$first" | grep -q "$want" &&
   grep -q '^race_rw: done' "$TMP/n.out" && grep -Eq "$SUMMARY_RE" "$TMP/n.err"; then
	pass "$t"
else
	fail "$t" "$(why_rc "$RC"); first stderr line: $first; stdout: $(tail_of "$TMP/n.out")"
fi

# ---- a watched variable never reached -----------------------------------------------

if [ "$HAVE_CODE" != 1 ]; then
	skip blind/never-seen "$(why_not code)"
else
	# slot_a: declared in worker.c, never accessed.  hot: hammered.
	t=blind/never-seen
	trace "$TMP/v" run -w hot -w slot_a -- "$W" -s 0.3
	if grep -Eq '^racewatch: warning: slot_a was watched but no access to it was seen' "$TMP/v.err" &&
	   ! grep -q '^racewatch: warning: hot ' "$TMP/v.err"; then
		pass "$t/warning"
	else
		fail "$t/warning" "want a warning for slot_a and none for hot: $(grep '^racewatch: ' "$TMP/v.err" | head -n 3 | tr '\n' '|')"
	fi

	trace "$TMP/s" run -w slot_a -o "$TMP/s.jsonl" --sarif "$TMP/s.sarif" -- "$W" -s 0.3 -q
	if why=$(python3 - "$TMP/s.jsonl" "$TMP/s.sarif" 2>&1 <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
end = recs[-1]
def need(c, why):
    if not c:
        sys.exit(why)
need(end["type"] == "end", "last record is not end")
need(end.get("watched") == 1, f"end watched {end.get('watched')!r}, want 1")
need(end.get("backend") == "code", f"end backend {end.get('backend')!r}, want code")
need(end.get("notice"), f"no notice in the end record of a run that saw no access: {end}")
inv = json.load(open(sys.argv[2]))["runs"][0]["invocations"][0]
notes = inv.get("toolExecutionNotifications") or []
need(notes and all(n["message"]["text"] for n in notes), f"no toolExecutionNotifications: {inv}")
EOF
	); then pass "$t/json-sarif-notice"; else fail "$t/json-sarif-notice" "$(printf '%s' "$why" | tail -n 1)"; fi

	# A run that saw accesses has no notice.
	trace "$TMP/h" run -w hot -o "$TMP/h.jsonl" -- "$W" -s 0.3
	if python3 -c 'import json,sys; e=[json.loads(l) for l in open(sys.argv[1])][-1]; sys.exit(e["type"] != "end" or "notice" in e or e.get("watched") != 1)' "$TMP/h.jsonl" 2>/dev/null; then
		pass "$t/no-notice-when-seen"
	else
		fail "$t/no-notice-when-seen" "end record: $(tail -n 1 "$TMP/h.jsonl" | cut -c1-200)"
	fi
fi

# ---- attach notes ----------------------------------------------------------------------

t=blind/attach-notes
if [ "$HAVE_CODE" != 1 ]; then
	skip "$t" "$(why_not code)"
elif start_target "$TMP/w" "$W" -s 0 -q; then
	attach_bg "$TMP/a" -w hot "$TPID"
	attached() { grep -Eq "^racewatch: attached to $TPID \\([0-9]+ threads\\), watching hot; backend code\$" "$TMP/a.err"; }
	if ! poll_until 15 attached; then
		fail "$t" "no 'attached to $TPID (N threads), watching hot; backend code': $(oneline "$TMP/a.err")"
	else
		kill -INT "$RWPID"
		if ! wait_rc "$TMP/a" 15; then
			fail "$t" "racewatch did not exit within 15 s of SIGINT"
		elif ! grep -qx "racewatch: detached from $TPID" "$TMP/a.err" || ! grep -Eq "$SUMMARY_RE" "$TMP/a.err"; then
			fail "$t" "no 'detached from $TPID' or no summary: $(grep '^racewatch: ' "$TMP/a.err" | tr '\n' '|' | cut -c1-300)"
		else
			pass "$t"
		fi
	fi
	kill -USR1 "$TPID"
	wait_rc "$TMP/w" 15
else
	fail "$t" "worker did not start"
fi
exit 0
