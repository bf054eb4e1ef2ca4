#!/usr/bin/env bash
# userside.sh — what a new user meets first (issue 14), one check a line:
#
#   output     --log-file takes racewatch's output off the program's stderr;
#              -o - is JSON lines on stdout (no file named "-");
#              RACEWATCH_OPTIONS gives defaults, the command line wins, an
#              error in it names it; --color always/never/auto (a pipe)
#   docs       --version, help; --help, README and the man page list the
#              same options; EXIT STATUS covers every command; make install
#              puts doc/schema.md in share/doc, make uninstall removes all
#   view       view --text prints a saved report (golden file: a library
#              frame with file:line, "declared at", a pointer-read address)
#   tui        run --tui stays after the program exits ("program exited with
#              status 3 - q to quit"), q then ends with the program's status,
#              its output is in the file it names; the g key in view writes
#              the full --gdb-script file
#   exprs      refusals at run: a function, an unmapped range, a name in
#              no file; a stack local
#   sarif      rules with help, informationUri, racewatch's own argv, the
#              program's in a property; sarif-multitool with the GitHub
#              rules (SKIP without npm)
#   attach     the JSON header names the process (pid, cmdline)
#   live       (needs delivered traps: SKIP unless probe says
#              perf-breakpoint: yes) a real race's text names the variable's
#              declaration
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

BIN=$SAMPLES/basic/race_rw-O2
GOLDEN=tests/golden
RWABS=$(cd "$(dirname "$RW")" && pwd)/$(basename "$RW")

if [ ! -x "$RW" ] || [ ! -x "$BIN" ]; then
	fail userside/build "$RW or the samples are missing: build with make"
	exit 0
fi
probe_machine

# ---- 1: where output goes --------------------------------------------------

trace "$TMP/log" run --log-file "$TMP/rw.log" --stats -- sh -c 'echo to-stderr >&2'
if [ "$RC" = 0 ] && grep -q '^to-stderr$' "$TMP/log.err" && ! grep -q 'racewatch' "$TMP/log.err" &&
   grep -q '^racewatch: stats: traps ' "$TMP/rw.log"; then
	pass "output: --log-file takes the summary, the program keeps its stderr"
else
	fail "output: --log-file takes the summary, the program keeps its stderr" \
		"status $RC, stderr $(tail_of "$TMP/log.err"), log $(tail_of "$TMP/rw.log")"
fi

( cd "$TMP" && RW=$RWABS rw run -o - -- sh -c 'echo program-line' </dev/null >stdout.txt 2>/dev/null )
if [ -e "$TMP/-" ]; then
	fail "output: -o - writes JSON lines to stdout" "a file named '-' was created"
elif head -n 1 "$TMP/stdout.txt" | grep -q '^{"type":"header"' && grep -q '^program-line$' "$TMP/stdout.txt" &&
     tail -n 1 "$TMP/stdout.txt" | grep -q '^{"type":"end"'; then
	pass "output: -o - writes JSON lines to stdout"
else
	fail "output: -o - writes JSON lines to stdout" "$(tail_of "$TMP/stdout.txt")"
fi

RACEWATCH_OPTIONS='--dealy 100' trace "$TMP/env1" run -- true
if [ "$RC" = 2 ] && [ "$(cat "$TMP/env1.err")" = "racewatch: RACEWATCH_OPTIONS: unknown option '--dealy' (see racewatch --help)" ]; then
	pass "output: an error in RACEWATCH_OPTIONS names it"
else
	fail "output: an error in RACEWATCH_OPTIONS names it" "status $RC: $(tail_of "$TMP/env1.err")"
fi

RACEWATCH_OPTIONS="--stats --log-file '$TMP/env a.log'" trace "$TMP/env2" run --log-file "$TMP/env-b.log" -- true
if [ "$RC" = 0 ] && grep -q 'stats: traps' "$TMP/env-b.log" && [ ! -e "$TMP/env a.log" ]; then
	pass "output: RACEWATCH_OPTIONS gives defaults, the command line wins"
else
	fail "output: RACEWATCH_OPTIONS gives defaults, the command line wins" \
		"status $RC, $(ls "$TMP" | tr '\n' ' ')"
fi

esc=$(printf '\033')
"$RW" view --text --color=always "$GOLDEN/userside.jsonl" >"$TMP/c1" 2>/dev/null
"$RW" view --text --color=never "$GOLDEN/userside.jsonl" >"$TMP/c2" 2>/dev/null
RACEWATCH_OPTIONS=--color=always "$RW" view --text "$GOLDEN/userside.jsonl" >"$TMP/c3" 2>/dev/null
"$RW" view --text "$GOLDEN/userside.jsonl" >"$TMP/c4" 2>/dev/null	# auto, a file
if grep -q "^${esc}\[1;31mBUG: racewatch: " "$TMP/c1" && ! grep -q "$esc" "$TMP/c2" &&
   grep -q "$esc" "$TMP/c3" && ! grep -q "$esc" "$TMP/c4" &&
   [ "$(sed "s/${esc}\[[0-9;]*m//g" "$TMP/c1")" = "$(cat "$TMP/c2")" ]; then
	pass "output: --color always / never / auto, colour only adds SGR"
else
	fail "output: --color always / never / auto, colour only adds SGR" "$(head -c 200 "$TMP/c1" | cat -v)"
fi
"$RW" view --text --color=sometimes "$GOLDEN/userside.jsonl" >/dev/null 2>"$TMP/c5"
check "output: --color rejects an unknown WHEN" \
	grep -q "^racewatch: --color: expected auto, always or never, got 'sometimes'$" "$TMP/c5"

# ---- 2: version, help, the three option lists, install -------------------------

v=$("$RW" --version); rc=$?
h=$("$RW" help | head -n 1); rc2=$?
if [ $rc = 0 ] && [ $rc2 = 0 ] && printf '%s' "$v" | grep -qE '^racewatch [0-9]+\.[0-9]+\.[0-9]+$' &&
   [ "$h" = "$("$RW" --help | head -n 1)" ]; then
	pass "docs: --version and help"
else
	fail "docs: --version and help" "'$v' ($rc), '$h' ($rc2)"
fi

# opts: the option names of lines that start (after blanks) with a dash.
opts() { grep -E '^ +-' | grep -oE -- '(^|[ ,])(--[a-z][a-z-]+|-[a-z])\b' | tr -d ' ,' | sort -u; }
"$RW" --help | opts >"$TMP/o.help"
awk '/^Every option/ { on = 1 } /^`RACEWATCH_OPTIONS`/ { on = 0 } on' README.md | opts >"$TMP/o.readme"
sed -n '/^\.SH OPTIONS/,/^\.SH REPORT FORMAT/p' racewatch.1 | sed -n '/^\.TP/{n;p}' |
	sed 's/\\-/-/g; s/\\f[BIRP]//g; s/"//g; s/^\.B[IR]* //; s/^/  /' | opts >"$TMP/o.man"
if [ -s "$TMP/o.help" ] && cmp -s "$TMP/o.help" "$TMP/o.readme" && cmp -s "$TMP/o.help" "$TMP/o.man"; then
	pass "docs: --help, README and the man page list the same $(wc -l <"$TMP/o.help") options"
else
	fail "docs: --help, README and the man page list the same options" \
		"help/README: $(diff "$TMP/o.help" "$TMP/o.readme" | grep '^[<>]' | tr '\n' ' ') help/man: $(diff "$TMP/o.help" "$TMP/o.man" | grep '^[<>]' | tr '\n' ' ')"
fi

exits=$(sed -n '/^\.SH EXIT STATUS/,/^\.SH ENVIRONMENT/p' racewatch.1)
missing=""
for c in run attach view probe help '\\-\\-version'; do
	printf '%s\n' "$exits" | grep -qE "^\.B(R)? $c" || missing="$missing $c"
done
check "docs: the man page's EXIT STATUS covers every command" test -z "$missing"

d=$TMP/inst
if make -s O="$O" install PREFIX=/usr DESTDIR="$d" >"$TMP/inst.log" 2>&1 &&
   cmp -s doc/schema.md "$d/usr/share/doc/racewatch/schema.md" &&
   make -s O="$O" uninstall PREFIX=/usr DESTDIR="$d" >>"$TMP/inst.log" 2>&1 &&
   [ -z "$(find "$d" -type f)" ] && [ ! -d "$d/usr/share/doc/racewatch" ]; then
	pass "docs: make install puts schema.md in share/doc; make uninstall removes everything"
else
	fail "docs: make install puts schema.md in share/doc; make uninstall removes everything" \
		"$(tail_of "$TMP/inst.log") left: $(find "$d" -type f 2>/dev/null | tr '\n' ' ')"
fi

# ---- 3: view --text -----------------------------------------------------------

"$RW" view --text "$GOLDEN/userside.jsonl" >"$TMP/text" 2>"$TMP/text.err"; rc=$?
if [ $rc = 0 ] && diff -u "$GOLDEN/userside_text.txt" "$TMP/text" >"$TMP/text.diff"; then
	pass "view: --text prints the report as the live text sink does"
else
	fail "view: --text prints the report as the live text sink does" \
		"status $rc: $(head -n 12 "$TMP/text.diff" | tr '\n' '|' | cut -c1-300)"
fi

# ---- 3, 7: the TUI (tmux) -----------------------------------------------------------

if command -v tmux >/dev/null; then
	SOCK=rwus$$
	TM() { tmux -f /dev/null -L "$SOCK" "$@"; }
	trap 'TM kill-server >/dev/null 2>&1; rm -rf "$TMP"' EXIT
	# tshows SESSION SECS TEXT: the screen shows TEXT within SECS.
	tshows() {
		local end=$((SECONDS + $2))
		until TM capture-pane -p -t "$1" 2>/dev/null | grep -qF -- "$3"; do
			[ $SECONDS -ge $end ] && return 1
			sleep 0.1
		done
	}
	# tended SESSION SECS: its command wrote $TMP/SESSION.rc within SECS.
	tended() {
		local end=$((SECONDS + $2))
		until [ -f "$TMP/$1.rc" ]; do
			[ $SECONDS -ge $end ] && return 1
			sleep 0.1
		done
	}
	mkdir -p "$TMP/tuiout"
	TM new-session -d -s l -x 120 -y 30 "cd '$TMP' && TMPDIR='$TMP/tuiout' $RWABS run --tui -- sh -c 'echo hello-out; echo hello-err >&2; exit 3'; echo \$? >'$TMP/l.rc.tmp'; mv '$TMP/l.rc.tmp' '$TMP/l.rc'; exec sleep 600"
	if tshows l 20 "program exited with status 3" && tshows l 1 "q to quit" && [ ! -f "$TMP/l.rc" ]; then
		pass "tui: stays after the program exits (program exited with status 3 - q to quit)"
		TM send-keys -t l q
		out=$(ls "$TMP"/tuiout/racewatch-*.out 2>/dev/null | head -n 1)
		if tended l 10 && [ "$(cat "$TMP/l.rc")" = 3 ] && [ -n "$out" ] &&
		   grep -q '^hello-out$' "$out" && grep -q '^hello-err$' "$out" &&
		   TM capture-pane -p -t l | grep -qF "the program's output is in $out"; then
			pass "tui: q then ends with the program's status; its output is in the named file"
		else
			fail "tui: q then ends with the program's status; its output is in the named file" \
				"rc $(cat "$TMP/l.rc" 2>/dev/null), file '$out', screen $(TM capture-pane -p -t l | tr -s '\n' '|' | cut -c1-200)"
		fi
	else
		fail "tui: stays after the program exits (program exited with status 3 - q to quit)" \
			"$(TM capture-pane -p -t l | tr -s '\n' '|' | cut -c1-300)"
		skip "tui: q then ends with the program's status; its output is in the named file" "no linger"
	fi

	mkdir -p "$TMP/gdbv"
	TM new-session -d -s g -x 120 -y 30 "cd '$TMP/gdbv' && $RWABS view '$PWD/$GOLDEN/userside.jsonl'; exec sleep 600"
	if tshows g 10 "saved report" && TM send-keys -t g g && tshows g 10 "wrote ./race-"; then
		f=$(ls "$TMP"/gdbv/race-*.gdb | head -n 1)
		if grep -q '^# Reproduce it by hand on the same binary' "$f" && grep -q '^set \$rw_sites = ' "$f" &&
		   grep -qF -- "--args './server' '--port' '80'" "$f"; then
			pass "tui: g writes the --gdb-script file (one writer)"
		else
			fail "tui: g writes the --gdb-script file (one writer)" "$(tail_of "$f")"
		fi
	else
		fail "tui: g writes the --gdb-script file (one writer)" "$(TM capture-pane -p -t g | tr -s '\n' '|' | cut -c1-300)"
	fi
else
	skip "tui: stays after the program exits" "tmux is not installed"
fi

# ---- 5: expression refusals at run ----------------------------------------------

# refused NAME EXPR TEXT: run -w EXPR fails with status 2 and one line saying TEXT.
refused() {
	trace "$TMP/ref" run -w "$2" -- "$BIN" 1
	if [ "$RC" = 2 ] && [ "$(wc -l <"$TMP/ref.err")" = 1 ] && grep -qF -- "$3" "$TMP/ref.err"; then
		pass "$1"
	else
		fail "$1" "status $RC: $(tail_of "$TMP/ref.err")"
	fi
}
if [ "$HAVE_PTRACE" = 1 ]; then
	refused "exprs: a function is not a variable" update_foo "'update_foo' is a function, not a variable"
	refused "exprs: an unmapped range is refused" 0x10:4 "0x10:4 is not mapped in process"
	refused "exprs: file.c::NAME in the wrong file" nosuch.c::foo "no variable 'foo' is defined in nosuch.c"
	refused "exprs: '*' on a non-pointer is refused" '*foo' "'foo' is int, not a pointer"
else
	skip "exprs: refusals at run" "no ptrace here"
fi

# ---- 6: SARIF -------------------------------------------------------------------------

trace "$TMP/s" run --sarif "$TMP/s.sarif" -- sh -c 'exit 0'
if python3 - "$TMP/s.sarif" "$RW" <<'EOF' >"$TMP/s.py" 2>&1; then
import json, sys
d = json.load(open(sys.argv[1]))
run = d["runs"][0]
drv = run["tool"]["driver"]
assert drv["informationUri"].startswith("https://"), "informationUri"
for r in drv["rules"]:
    assert r["help"]["text"] and r["help"]["markdown"], "help of " + r["id"]
inv = run["invocations"][0]
assert inv["arguments"] == [sys.argv[2], "run", "--sarif", sys.argv[1], "--", "sh", "-c", "exit 0"], inv["arguments"]
assert inv["properties"]["tracedCommandLine"] == ["sh", "-c", "exit 0"], inv["properties"]
EOF
	pass "sarif: rule help, informationUri, racewatch's argv, the program's in a property"
else
	fail "sarif: rule help, informationUri, racewatch's argv, the program's in a property" "$(tail_of "$TMP/s.py")"
fi

tool=$O/tools/sarif
if ! command -v npm >/dev/null; then
	skip "sarif: sarif-multitool --rule-kind Sarif;Gh" "npm is not installed"
else
	if [ ! -e "$tool/node_modules/.bin/sarif-multitool" ]; then
		mkdir -p "$tool"
		timeout 300 npm install --prefix "$tool" --no-audit --no-fund @microsoft/sarif-multitool >"$TMP/npm.log" 2>&1
	fi
	if [ ! -e "$tool/node_modules/.bin/sarif-multitool" ]; then
		skip "sarif: sarif-multitool --rule-kind Sarif;Gh" "npm could not install it: $(tail_of "$TMP/npm.log")"
	else
		# The npm wrapper runs the tool through sh: quote the ';' for it.
		( cd "$tool" && timeout 120 npx --no-install sarif-multitool validate --rule-kind "'Sarif;Gh'" \
			"$TMP/s.sarif" ) >"$TMP/mt.log" 2>&1
		rc=$?
		if [ $rc = 0 ] && grep -q 'Analysis completed successfully' "$TMP/mt.log" &&
		   ! grep -qiE ': (error|warning) ' "$TMP/mt.log"; then
			pass "sarif: sarif-multitool --rule-kind Sarif;Gh"
		else
			fail "sarif: sarif-multitool --rule-kind Sarif;Gh" "exit $rc: $(grep -iE 'error|warning' "$TMP/mt.log" | head -n 3 | tr '\n' '|')"
		fi
	fi
fi

# ---- 8: attach header -------------------------------------------------------------------

if [ "$HAVE_PTRACE" = 1 ]; then
	sleep 600 &
	victim=$!
	rw attach -o "$TMP/a.jsonl" "$victim" </dev/null >/dev/null 2>"$TMP/a.err" &
	tracer=$!
	retry_until 10 grep -q '"type":"header"' "$TMP/a.jsonl" 2>/dev/null
	# SIGINT to racewatch itself (the background job ignores it, and the
	# timeout in between would not pass it on).
	pkill -INT -f "attach -o $TMP/a.jsonl" 2>/dev/null || kill -INT "$tracer" 2>/dev/null
	wait "$tracer"
	kill "$victim" 2>/dev/null
	wait "$victim" 2>/dev/null
	if head -n 1 "$TMP/a.jsonl" | grep -qF "\"attach\":{\"pid\":$victim,\"cmdline\":[\"sleep\",\"600\"]}"; then
		pass "attach: the JSON header names the process (pid, cmdline)"
	else
		fail "attach: the JSON header names the process (pid, cmdline)" "$(head -c 300 "$TMP/a.jsonl") $(tail_of "$TMP/a.err")"
	fi
else
	skip "attach: the JSON header names the process" "no ptrace here"
fi

# ---- 4: a live race names the declaration (default backend: any that delivers) ----------

if [ "$HAVE_PERF" = 1 ] || [ "$HAVE_DR" = 1 ] || [ "$HAVE_CODE" = 1 ]; then
	DLINE=$(grep -n '^[a-z].* foo\b' samples/basic/race_rw.c | head -n 1 | cut -d: -f1)
	got_decl() {
		trace "$TMP/live" run --stats -w foo -o "$TMP/live.jsonl" -- "$BIN" 2000
		grep -q "^foo declared at samples/basic/race_rw.c:$DLINE\$" "$TMP/live.err" &&
			grep -q "\"declared\":{\"file\":\"[^\"]*race_rw.c\",\"line\":$DLINE}" "$TMP/live.jsonl"
	}
	if retry_until "${RACE_SECS:-20}" got_decl; then
		pass "live: a race names where the variable is declared (text and JSON)"
	else
		fail "live: a race names where the variable is declared (text and JSON)" \
			"no such report within ${RACE_SECS:-20}s (last run: traps $(stat_of "$TMP/live.err" traps), races $(stat_of "$TMP/live.err" races))"
	fi
else
	skip "live: a race names where the variable is declared" "no mechanism delivers here: $(why_not perf); $(why_not code)"
fi
exit 0
