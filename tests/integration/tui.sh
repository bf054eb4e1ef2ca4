#!/usr/bin/env bash
# tui.sh — the TUI driven in tmux (a private server, 120x40, no user config):
# keys go in with send-keys, screens come out with capture-pane, and every
# wait polls the screen until a deadline (no fixed sleeps).
#
#   view (no tracing needed):
#     golden screens of a hand-written report, tests/golden/tui_view.jsonl:
#     the race list, the details of race 1 (both stacks, both source lines
#     of tests/golden/tui_fixture.c, an ESC byte in it escaped), race 2 (a
#     variable and function full of control characters, escaped; a missing
#     source file), the help screen; q exits 0 and restores the terminal.
#     Not a report / no such file: one line, exit 2.  No terminal: exit 2.
#   run --tui on samples/basic/race_rw, long enough to be ended by q (the
#   default backend):
#     the race shows in the list; Enter shows both racing source lines;
#     adding counts.writes to the watch list live arms a second slot; a
#     resize redraws at the new width; q ends the run with status 66 and the
#     terminal restored; the -o report of that run shows in `view`.
#     SIGTERM to the tracer: terminal restored, status 66.
#
# UPDATE_GOLDEN=1 rewrites the golden screens from what is shown.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

GOLDEN=tests/golden
SOCK=rwtui$$
TM() { tmux -f /dev/null -L "$SOCK" "$@"; }
trap 'TM kill-server >/dev/null 2>&1; rm -rf "$TMP"' EXIT
SLOW=${TUI_SECS:-30}	# deadline for anything the tracer has to find
RWABS=$(cd "$(dirname "$RW")" && pwd)/$(basename "$RW")

if ! command -v tmux >/dev/null; then
	skip tui "tmux is not installed (scripts/deps.sh installs it)"
	exit 0
fi

# ---- helpers --------------------------------------------------------------

# start NAME CMD: a 120x40 session running CMD (sh -c) in the repository;
# when CMD ends, its status goes to $TMP/NAME.rc and the terminal's modes to
# $TMP/NAME.stty, and the shell stays so the screen can be read.
start() {
	local name=$1 cmd=$2
	rm -f "$TMP/$name.rc" "$TMP/$name.stty"
	TM new-session -d -s "$name" -x 120 -y 40 \
		"cd '$PWD' && $cmd; echo \$? >'$TMP/$name.rc.tmp'; stty -a >'$TMP/$name.stty' 2>&1; mv '$TMP/$name.rc.tmp' '$TMP/$name.rc'; exec sleep 600"
}

# screen NAME: the visible screen, trailing blanks removed.
screen() { TM capture-pane -p -t "$1" | sed 's/[[:space:]]*$//'; }

# shows NAME SECS STRING...: the screen shows every STRING before SECS have
# passed.  The last screen is in $TMP/NAME.screen.
shows() {
	local name=$1 secs=$2; shift 2
	local end=$((SECONDS + secs)) s ok
	while :; do
		screen "$name" >"$TMP/$name.screen" 2>/dev/null
		ok=1
		for s in "$@"; do grep -qF -- "$s" "$TMP/$name.screen" || { ok=0; break; }; done
		[ $ok = 1 ] && return 0
		[ $SECONDS -ge $end ] && return 1
		sleep 0.1
	done
}

# ended NAME SECS: CMD of session NAME ended within SECS; its status in RC.
ended() {
	local end=$((SECONDS + $2))
	until [ -f "$TMP/$1.rc" ]; do
		[ $SECONDS -ge $end ] && { RC=none; return 1; }
		sleep 0.1
	done
	RC=$(cat "$TMP/$1.rc")
}

# restored NAME: the terminal left cooked (echo, icanon) and the normal screen.
restored() {
	grep -qE '(^|[ ;])icanon' "$TMP/$1.stty" && grep -qE '(^|[ ;])echo( |;|$)' "$TMP/$1.stty" &&
		[ "$(TM display -p -t "$1" '#{alternate_on}')" = 0 ]
}

# golden NAME FILE: the saved screen of NAME equals $GOLDEN/FILE.
golden() {
	local name=$1 file=$GOLDEN/$2
	if [ -n "${UPDATE_GOLDEN:-}" ]; then
		cp "$TMP/$name.screen" "$file"
		pass "$2 (rewritten)"
	elif diff -u "$file" "$TMP/$name.screen" >"$TMP/diff" 2>&1; then
		pass "$2"
	else
		fail "$2" "screen differs: $(head -n 12 "$TMP/diff" | tr '\n' '|' | cut -c1-400)"
	fi
}

# ---- view: golden screens ---------------------------------------------------

start v "$RWABS view $GOLDEN/tui_view.jsonl"
if shows v 10 "saved report $GOLDEN/tui_view.jsonl" "1 malformed line skipped"; then
	golden v tui_view_list.txt
	TM send-keys -t v Enter
	shows v 5 "race 1: data-race in bump / peek" "FIXTURE-READ" && golden v tui_view_detail1.txt ||
		fail tui_view_detail1.txt "no details: $(tr '\n' '|' <"$TMP/v.screen" | cut -c1-300)"
	TM send-keys -t v j
	shows v 5 "race 2:" && golden v tui_view_detail2.txt ||
		fail tui_view_detail2.txt "no race 2"
	TM send-keys -t v Escape '?'
	shows v 5 "Keys (any key returns)" && golden v tui_view_help.txt || fail tui_view_help.txt "no help"
	TM send-keys -t v x q
	if ended v 10 && [ "$RC" = 0 ]; then pass "view: q exits 0"; else fail "view: q exits 0" "status $RC"; fi
	if restored v; then pass "view: terminal restored"; else fail "view: terminal restored" "$(tr '\n' ' ' <"$TMP/v.stty" | cut -c1-200)"; fi
else
	fail tui_view_list.txt "view did not show the report: $(tr '\n' '|' <"$TMP/v.screen" | cut -c1-300)"
fi

# Not a report, no such file, no terminal: one line on stderr, status 2.
one_error() {
	local name=$1; shift
	"$@" >"$TMP/e.out" 2>"$TMP/e.err" </dev/null
	local rc=$?
	if [ $rc = 2 ] && [ "$(wc -l <"$TMP/e.err")" = 1 ] && grep -q '^racewatch: ' "$TMP/e.err"; then
		pass "$name"
	else
		fail "$name" "status $rc, stderr: $(tr '\n' '|' <"$TMP/e.err" | cut -c1-200)"
	fi
}
one_error "view: not a report" setsid -w "$RW" view README.md
one_error "view: no such file" setsid -w "$RW" view "$TMP/nonexistent.jsonl"
one_error "view: no terminal" setsid -w "$RW" view "$GOLDEN/tui_view.jsonl"
one_error "run --tui: no terminal" setsid -w "$RW" run --tui -w foo -- "$SAMPLES/basic/race_rw-O2" 10

# ---- run --tui ----------------------------------------------------------------

probe_machine
if tracing_ok "run --tui"; then
	# Iterations enough to outlast every check whatever the sampler's duty
	# cycle lets through (q or SIGTERM ends it; natively that is minutes).
	PROG="$SAMPLES/basic/race_rw-O2 100000000000"
	# wrap PIDFILE CMD...: CMD with its pid on file (for the SIGTERM check).
	printf '%s\n' 'echo $$ >"$1"; shift; exec "$@"' >"$TMP/wrap.sh"
	# The program's output must not tear the screen: >/dev/null 2>&1.
	start r "sh '$TMP/wrap.sh' '$TMP/r.pid' $RWABS run --tui -w foo -o '$TMP/r.jsonl' -- $PROG >/dev/null 2>&1"
	if shows r "$SLOW" "update_foo (write)" "read_foo (read)"; then
		pass "run --tui: race in the list"
		TM send-keys -t r Enter
		if shows r 5 "race 1: data-race in read_foo / update_foo" "foo = v;" "/* RACE-WRITE */" \
			"int v = foo;" "/* RACE-READ */"; then
			pass "run --tui: Enter shows both source lines"
		else
			fail "run --tui: Enter shows both source lines" "$(tr '\n' '|' <"$TMP/r.screen" | cut -c1-400)"
		fi
		TM send-keys -t r w a
		TM send-keys -t r -l counts.writes
		TM send-keys -t r Enter
		# Debug registers: a second slot; code sites: the sites of the new
		# variable (no slots).
		if [ "$(auto_backend)" = code ]; then
			want=("watching counts.writes")
		else
			want=("watching counts.writes (2 slots armed)" "slots 2 |")
		fi
		if shows r 5 "${want[@]}" && grep -qE '^ +1 +counts\.writes .* armed$' "$TMP/r.screen"; then
			pass "run --tui: watch added live re-arms"
		else
			fail "run --tui: watch added live re-arms" "$(tr '\n' '|' <"$TMP/r.screen" | cut -c1-400)"
		fi
		TM send-keys -t r a
		TM send-keys -t r -l nosuchvar
		TM send-keys -t r Enter
		shows r 5 "cannot watch nosuchvar: " && pass "run --tui: a bad watch shows its error" ||
			fail "run --tui: a bad watch shows its error" "$(tail -n 1 "$TMP/r.screen")"
		TM resize-window -t r -x 100 -y 30
		# The title bar ends in "q quit" at the new right edge (columns 94-99).
		resized() { screen r | head -n 1 | grep -qE '^.{93}q quit$' || { sleep 0.1; return 1; }; }
		if retry_until 5 resized; then
			pass "run --tui: resize redraws"
		else
			fail "run --tui: resize redraws" "$(screen r | head -n 1)"
		fi
		TM send-keys -t r q
		if ended r "$SLOW" && [ "$RC" = 66 ]; then pass "run --tui: q ends the run, status 66"; else fail "run --tui: q ends the run, status 66" "status $RC"; fi
		if restored r; then pass "run --tui: terminal restored"; else fail "run --tui: terminal restored" "$(tr '\n' ' ' <"$TMP/r.stty" | cut -c1-200)"; fi

		# The report of that run, in view.
		start rv "$RWABS view '$TMP/r.jsonl'"
		if shows rv 10 "saved report" "update_foo (write)" "read_foo (read)" "exit status 66"; then
			pass "view: the -o report of a --tui run"
		else
			fail "view: the -o report of a --tui run" "$(tr '\n' '|' <"$TMP/rv.screen" | cut -c1-300)"
		fi
		TM send-keys -t rv q
	else
		fail "run --tui: race in the list" "$( [ -f "$TMP/r.rc" ] && echo "racewatch ended, status $(cat "$TMP/r.rc"); ")$(tr -s '\n' '|' <"$TMP/r.screen" | cut -c1-300)"
		TM send-keys -t r q
	fi

	# SIGTERM to the tracer: the engine ends through finish, which restores.
	start t "sh '$TMP/wrap.sh' '$TMP/t.pid' $RWABS run --tui -w foo -- $PROG >/dev/null 2>&1"
	if shows t "$SLOW" "read_foo (read)"; then
		kill -TERM "$(cat "$TMP/t.pid")"
		if ended t "$SLOW" && [ "$RC" = 66 ] && restored t; then
			pass "run --tui: SIGTERM restores the terminal"
		else
			fail "run --tui: SIGTERM restores the terminal" "status $RC, $(tr '\n' ' ' <"$TMP/t.stty" | cut -c1-200)"
		fi
	else
		fail "run --tui: SIGTERM restores the terminal" "no race shown: $(tr '\n' '|' <"$TMP/t.screen" | cut -c1-300)"
	fi
fi
exit 0
