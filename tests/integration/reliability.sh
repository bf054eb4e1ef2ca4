#!/usr/bin/env bash
# reliability.sh — a hostile binary, a hostile report file, a careless path
# (issue 16).  None of these checks needs a watchpoint trap.
#
#   report files (items 1, 2): --sarif through a symbolic link, never over
#     it; a planted PATH.tmp link is not followed; a device node and a FIFO
#     are written in place, not replaced; -o/--sarif untouched when -w or
#     the program is wrong, nothing created; the program, or the other
#     output, refused as an output; -o /dev/full is an error, non-zero.
#   view (item 3): extreme numbers and a long path in the status line; a
#     FIFO refused; no terminal means the file is not even opened; a
#     300 MB line under a 250 MB address-space limit.
#   escaping (item 5): ESC, C1 and BEL bytes in a DWARF type name (-w
#     error), a variable name (did you mean), a RACEWATCH_WATCH
#     registration (also under --tui), argv in JSON, argv in a gdb script
#     exported by view.
#   input checks and leaks (item 8): --suppressions DIR, -w twice, options
#     view ignores; a second header and two g exports leak nothing (ASan
#     build, when there is one).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

RACY=$SAMPLES/basic/race_rw-O1
RWABS=$(cd "$(dirname "$RW")" && pwd)/$(basename "$RW")
SOCK=rwrel$$
TM() { tmux -f /dev/null -L "$SOCK" "$@"; }
trap 'TM kill-server >/dev/null 2>&1; rm -rf "$TMP"' EXIT

# one_line_err FILE: FILE holds exactly one line, a racewatch error.
one_line_err() { [ "$(wc -l <"$1")" -eq 1 ] && grep -q '^racewatch: ' "$1"; }

# raw_ctl FILE: FILE holds a byte a terminal would obey (C0 but \n, \t;
# ESC; DEL; a C1 control, bare or UTF-8).
raw_ctl() { LC_ALL=C grep -qP '[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]|\xc2[\x80-\x9f]' "$1"; }

# ---- report files -----------------------------------------------------------

S=$TMP/sarif && mkdir -p "$S"
echo old >"$S/real.sarif"
ln -s real.sarif "$S/link.sarif"
trace "$S/a" run --sarif "$S/link.sarif" -- /bin/true
if [ -L "$S/link.sarif" ] && grep -q '"2.1.0"' "$S/real.sarif"; then pass "sarif: written through a symbolic link"
else fail "sarif: written through a symbolic link" "link replaced or target not written: $(ls -l "$S" | tr '\n' '|')"; fi

echo victim >"$S/victim"
ln -s victim "$S/out.sarif.tmp"
trace "$S/b" run --sarif "$S/out.sarif" -- /bin/true
if [ "$(cat "$S/victim")" = victim ] && grep -q '"2.1.0"' "$S/out.sarif"; then pass "sarif: a planted PATH.tmp link is not followed"
else fail "sarif: a planted PATH.tmp link is not followed" "victim now: $(head -c 80 "$S/victim")"; fi

if [ "$(id -u)" = 0 ] && mknod "$S/full" c 1 7 2>/dev/null; then
	trace "$S/c" run -q --sarif "$S/full" -- /bin/true
	if [ -c "$S/full" ] && [ "$RC" != 0 ] && one_line_err "$S/c.err"; then pass "sarif: a device node is written in place, its error is the exit status"
	else fail "sarif: a device node is written in place, its error is the exit status" "$(why_rc "$RC"), $(ls -l "$S/full"), $(tail_of "$S/c.err")"; fi
else
	skip "sarif: a device node is written in place, its error is the exit status" "needs root for mknod"
fi

mkfifo "$S/fifo"
timeout 20 cat "$S/fifo" >"$S/fifo.out" &
reader=$!
trace "$S/d" run --sarif "$S/fifo" -- /bin/true
wait $reader
if [ -p "$S/fifo" ] && [ "$RC" = 0 ] && grep -q '"executionSuccessful":true' "$S/fifo.out"; then pass "sarif: a FIFO is written in place"
else fail "sarif: a FIFO is written in place" "$(why_rc "$RC"), $(ls -l "$S/fifo"), read $(wc -c <"$S/fifo.out") bytes"; fi

O2=$TMP/out && mkdir -p "$O2"
echo yesterday >"$O2/r.jsonl"
echo yesterday >"$O2/r.sarif"
# A -w that cannot be watched (a name nothing defines only waits, issue 17).
trace "$O2/a" run -o "$O2/r.jsonl" --sarif "$O2/r.sarif" -w foo.no_such_member -- "$RACY"
if [ "$RC" = 2 ] && [ "$(cat "$O2/r.jsonl" "$O2/r.sarif")" = "$(printf 'yesterday\nyesterday')" ]; then pass "-o/--sarif: a bad -w leaves the old reports"
else fail "-o/--sarif: a bad -w leaves the old reports" "$(why_rc "$RC"), -o now $(head -c 60 "$O2/r.jsonl")"; fi

trace "$O2/b" run -o "$O2/new.jsonl" --sarif "$O2/new.sarif" -- "$O2/no-such-program"
if [ "$RC" = 127 ] && [ ! -e "$O2/new.jsonl" ] && [ ! -e "$O2/new.sarif" ]; then pass "-o/--sarif: no program, no file created"
else fail "-o/--sarif: no program, no file created" "$(why_rc "$RC"); $(ls "$O2" | tr '\n' ' ')"; fi

cp /bin/true "$O2/prog"
trace "$O2/c" run -o "$O2/prog" -- "$O2/prog"
if [ "$RC" = 2 ] && cmp -s /bin/true "$O2/prog" && one_line_err "$O2/c.err"; then pass "-o: the program itself is refused"
else fail "-o: the program itself is refused" "$(why_rc "$RC"), $(tail_of "$O2/c.err")"; fi

trace "$O2/d" run -o "$O2/same" --sarif "$O2/same" -- /bin/true
if [ "$RC" = 2 ] && [ ! -e "$O2/same" ] && one_line_err "$O2/d.err"; then pass "-o/--sarif: the same file twice is refused"
else fail "-o/--sarif: the same file twice is refused" "$(why_rc "$RC"), $(tail_of "$O2/d.err")"; fi

trace "$O2/e" run -o /dev/full -- /bin/true
if [ "$RC" = 2 ] && grep -q 'cannot write /dev/full' "$O2/e.err"; then pass "-o /dev/full: an error and a non-zero exit"
else fail "-o /dev/full: an error and a non-zero exit" "$(why_rc "$RC"), $(tail_of "$O2/e.err")"; fi

# ---- view -------------------------------------------------------------------

have_tmux=1
command -v tmux >/dev/null || have_tmux=0

# tm NAME CMD: CMD (sh -c) in a 120x40 tmux pane; its status lands in
# $TMP/NAME.rc when it ends.
tm() {
	rm -f "$TMP/$1.rc"
	TM new-session -d -s "$1" -x 120 -y 40 "cd '$PWD' && $2; echo \$? >'$TMP/$1.tmp'; mv '$TMP/$1.tmp' '$TMP/$1.rc'; exec sleep 300"
}
# tm_shows NAME STRING: the pane shows STRING now (screen in $TMP/NAME.screen);
# else waits a tenth of a second and fails, for retry_until.
tm_shows() {
	TM capture-pane -p -t "$1" >"$TMP/$1.screen" 2>/dev/null && grep -qF -- "$2" "$TMP/$1.screen" && return 0
	sleep 0.1
	return 1
}
tm_until() { retry_until "$2" tm_shows "$1" "$3"; }
# tm_rc NAME SECS: CMD ended within SECS; its status in RC ("none" if not).
tm_ended() { [ -f "$TMP/$1.rc" ] && return 0; sleep 0.1; return 1; }
tm_rc() {
	RC=none
	retry_until "$2" tm_ended "$1" && RC=$(cat "$TMP/$1.rc")
}

V=$TMP/v/$(printf 'long-directory-name-%.0s' 1 2 3 4 5 6 7 8 9 10 11 12)
mkdir -p "$V"
cat >"$V/extreme.jsonl" <<'EOF'
{"type":"header","schema":1,"tool":"racewatch","pid":1e300,"argv":["./prog","\u001b]2;PWNED\u0007","\u009b2J\r"],"cwd":"/"}
{"type":"race","schema":1,"id":1e300,"kind":"data-race","pid":-1e300,"variable":"v\u001b[2J","address":"0x10","size":1e300,"accesses":[{"type":"write","thread":1e300,"pc":"0x1","function":"f\u009b","file":"a.c","line":1e300,"stack":[{"pc":"0x1","function":"f","file":"a.c","line":-1e300}]},{"type":"read","thread":-5,"pc":"0x2","function":"g","file":"b.c","line":2}],"value":{"size":1e300,"old":"0x1","new":"0x2"},"count":1e300,"first_seen":-1e300,"last_seen":1e300}
{"type":"update","schema":1,"id":1,"count":1e300,"last_seen":1e300}
{"type":"end","schema":1,"races":1,"duration":1e300,"exit_status":1e300,"counters":{"traps":1e300}}
not a record: counted as malformed, one more piece for the status line
EOF
if [ $have_tmux = 1 ]; then
	# Under ASan (make asan, or ASAN_RW) an overflow is fatal; the plain
	# build may survive one, so that build shows it only sometimes.
	ext_rw=$RWABS
	[ -x "${ASAN_RW:-build-asan/racewatch}" ] && ext_rw=$(cd "$(dirname "${ASAN_RW:-build-asan/racewatch}")" && pwd)/racewatch
	tm ext "ASAN_OPTIONS=detect_leaks=0 $ext_rw view '$V/extreme.jsonl'"
	if tm_until ext 10 "saved report" && TM send-keys -t ext q && tm_rc ext 10 && [ "$RC" = 0 ]; then
		pass "view: extreme numbers and a long path in the status line"
	else
		fail "view: extreme numbers and a long path in the status line" "$(why_rc "$RC"): $(tr '\n' '|' <"$TMP/ext.screen" | cut -c1-200)"
	fi
	mkfifo "$TMP/report.fifo"
	tm fifo "$RWABS view '$TMP/report.fifo' 2>'$TMP/fifo.err'"
	if tm_rc fifo 10 && [ "$RC" = 2 ] && grep -q 'not a regular file' "$TMP/fifo.err"; then pass "view: a FIFO is refused"
	else fail "view: a FIFO is refused" "$(why_rc "$RC"): $(tail_of "$TMP/fifo.err")"; TM kill-session -t fifo 2>/dev/null; fi
	# A 300 MB line (sparse: no disk used) then a record, in 250 MB of address space.
	truncate -s 300M "$TMP/huge.jsonl"
	{ echo; sed -n 4p "$V/extreme.jsonl"; } >>"$TMP/huge.jsonl"
	tm huge "ulimit -v 256000; $RWABS view '$TMP/huge.jsonl' 2>'$TMP/huge.err'"
	if tm_until huge 30 "1 malformed line skipped" && TM send-keys -t huge q && tm_rc huge 10 && [ "$RC" = 0 ]; then
		pass "view: a 300 MB line is skipped in bounded memory"
	else
		fail "view: a 300 MB line is skipped in bounded memory" "$(why_rc "$RC"): $(tail_of "$TMP/huge.err")"
		TM kill-session -t huge 2>/dev/null
	fi
else
	for c in "view: extreme numbers and a long path in the status line" "view: a FIFO is refused" \
		"view: a 300 MB line is skipped in bounded memory"; do skip "$c" "tmux is not installed"; done
fi
if command -v setsid >/dev/null; then
	mkfifo "$TMP/nowriter.fifo"
	( timeout -k 2 10 setsid -w "$RW" view "$TMP/nowriter.fifo" </dev/null >/dev/null 2>"$TMP/notty.err"; echo $? >"$TMP/notty.rc" ) 2>/dev/null
	RC=$(cat "$TMP/notty.rc")
	if [ "$RC" = 2 ] && grep -q 'needs a terminal' "$TMP/notty.err"; then pass "view: no terminal is found before the file is read"
	else fail "view: no terminal is found before the file is read" "$(why_rc "$RC"): $(tail_of "$TMP/notty.err")"; fi
else
	skip "view: no terminal is found before the file is read" "no setsid"
fi

# ---- escaping -----------------------------------------------------------------

H=$TMP/hostile
mkdir -p "$H"
cat >"$H/hostile.c" <<'EOF'
#include "racewatch.h"
struct EVILTYPE_PAD_PAD_PAD_PAD { int a; };
struct EVILTYPE_PAD_PAD_PAD_PAD evilvar_PAD_PAD_PAD_PAD, plainvar;
int plain_counter;
RACEWATCH_WATCH(plain_counter);
/* A registration no compiler would write: raw bytes in the section. */
static const char hostile_reg[] __attribute__((used, section(".racewatch_watch"), aligned(1))) =
	"reg\033]2;PWNED\007\302\233name";
int main(void)
{
	evilvar_PAD_PAD_PAD_PAD.a = plainvar.a + plain_counter + (hostile_reg[0] == 'r');
	return 0;
}
EOF
if cc -g -O0 -Iinclude -o "$H/hostile" "$H/hostile.c" 2>"$H/cc.err" &&
	perl -0777 -pi -e 'sub same { my ($old, $new) = @_; substr($new . ("_" x length $old), 0, length $old) }
		s/(EVILTYPE_PAD_PAD_PAD_PAD)/same($1, "EVIL\e]2;PWNED\a\xc2\x9b\e[2J")/ge;
		s/(evilvar_PAD_PAD_PAD_PAD)/same($1, "evilvar_PAD_PAD_PAD_\e\x9b\a")/ge' "$H/hostile"; then
	trace "$H/type" run -w plainvar.nosuch -- "$H/hostile"
	if [ "$RC" = 2 ] && grep -q 'EVIL\\x1b' "$H/type.err" && ! raw_ctl "$H/type.err"; then pass "escape: a DWARF type name in a -w error"
	else fail "escape: a DWARF type name in a -w error" "$(why_rc "$RC"): $(tail_of "$H/type.err" | cat -v)"; fi
	trace "$H/mean" run -w evilvar_PAD_PAD_PAD_PAD -- "$H/hostile"
	# The name only waits for a library now (issue 17): the hint is what is escaped.
	if grep -q 'did you mean' "$H/mean.err" && ! raw_ctl "$H/mean.err"; then pass "escape: a DWARF variable name in did you mean"
	else fail "escape: a DWARF variable name in did you mean" "$(why_rc "$RC"): $(tail_of "$H/mean.err" | cat -v)"; fi
	trace "$H/reg" run -- "$H/hostile"
	if grep -q 'RACEWATCH_WATCH(reg\\x1b' "$H/reg.err" && ! raw_ctl "$H/reg.err"; then pass "escape: a registered name"
	else fail "escape: a registered name" "$(why_rc "$RC"): $(tail_of "$H/reg.err" | cat -v)"; fi
	if [ $have_tmux = 1 ]; then
		tm tui "$RWABS run --tui -- '$H/hostile' 2>'$H/tui.err'"
		# The TUI stays once the program is done (issue 14): q ends it.
		retry_until 20 tm_shows tui "q to quit"; TM send-keys -t tui q
		if tm_rc tui 20 && grep -q 'RACEWATCH_WATCH(reg' "$H/tui.err" && ! raw_ctl "$H/tui.err"; then pass "escape: --tui stderr"
		else fail "escape: --tui stderr" "$(why_rc "$RC"): $(tail_of "$H/tui.err" | cat -v)"; TM kill-session -t tui 2>/dev/null; fi
	else
		skip "escape: --tui stderr" "tmux is not installed"
	fi
else
	for c in "escape: a DWARF type name in a -w error" "escape: a DWARF variable name in did you mean" \
		"escape: a registered name" "escape: --tui stderr"; do skip "$c" "cannot build the hostile sample: $(tail_of "$H/cc.err")"; done
fi

trace "$H/json" run -o "$H/argv.jsonl" -- /bin/true "$(printf 'a\302\233b\033]2;PWNED\007c\r')"
if [ "$RC" = 0 ] && grep -qF '\u009b' "$H/argv.jsonl" && ! raw_ctl "$H/argv.jsonl"; then pass "escape: C0 and C1 controls in JSON"
else fail "escape: C0 and C1 controls in JSON" "$(why_rc "$RC"): $(head -c 200 "$H/argv.jsonl" | cat -v)"; fi

if [ $have_tmux = 1 ]; then
	mkdir -p "$H/gdb"
	tm gdb "cd '$H/gdb' && $RWABS view '$V/extreme.jsonl'"
	if tm_until gdb 10 "saved report" && TM send-keys -t gdb Enter g && tm_until gdb 10 "wrote " && TM send-keys -t gdb q &&
		tm_rc gdb 10 && f=$(ls "$H"/gdb/race-*.gdb 2>/dev/null | head -n 1) && [ -n "$f" ] && ! raw_ctl "$f"; then
		pass "escape: argv in a gdb script exported by view"
	else
		fail "escape: argv in a gdb script exported by view" "$(why_rc "$RC"): $(ls "$H/gdb"; grep -a 'gdb -x' "$H"/gdb/race-*.gdb 2>/dev/null | cat -v | head -n 2)"
	fi
else
	skip "escape: argv in a gdb script exported by view" "tmux is not installed"
fi

# ---- input checks and leaks ---------------------------------------------------

mkdir -p "$TMP/supp.d"
trace "$TMP/sd" run --suppressions "$TMP/supp.d" -- /bin/true
if [ "$RC" = 2 ] && grep -q 'is a directory' "$TMP/sd.err"; then pass "--suppressions DIR is an error"
else fail "--suppressions DIR is an error" "$(why_rc "$RC"): $(tail_of "$TMP/sd.err")"; fi

trace "$TMP/ww" run -w plain_counter -w plain_counter -- /bin/true
if grep -q 'given twice' "$TMP/ww.err"; then pass "-w x -w x is said"
else fail "-w x -w x is said" "$(why_rc "$RC"): $(tail_of "$TMP/ww.err")"; fi

trace "$TMP/vo" view -o "$TMP/x.jsonl" "$V/extreme.jsonl"
if [ "$RC" = 2 ] && grep -q "option '-o' does not apply" "$TMP/vo.err"; then pass "view: an option it would ignore is an error"
else fail "view: an option it would ignore is an error" "$(why_rc "$RC"): $(tail_of "$TMP/vo.err")"; fi

ASAN_RW=${ASAN_RW:-build-asan/racewatch}
if [ $have_tmux = 1 ] && [ -x "$ASAN_RW" ]; then
	mkdir -p "$TMP/leak"
	{ cat "$V/extreme.jsonl"; sed -n 1p "$V/extreme.jsonl"; } >"$TMP/leak/two-headers.jsonl"
	tm leak "cd '$TMP/leak' && ASAN_OPTIONS=detect_leaks=1:log_path='$TMP/leak/asan' $(cd "$(dirname "$ASAN_RW")" && pwd)/racewatch view two-headers.jsonl"
	if tm_until leak 20 "saved report" && TM send-keys -t leak Enter g && tm_until leak 10 "wrote " &&
		TM send-keys -t leak g q && tm_rc leak 20 && [ "$RC" = 0 ] &&
		! ls "$TMP"/leak/asan.* >/dev/null 2>&1; then
		pass "leaks: a second header and two g exports (ASan)"
	else
		fail "leaks: a second header and two g exports (ASan)" "$(why_rc "$RC"): $(grep -h SUMMARY "$TMP"/leak/asan.* 2>/dev/null | head -n 2)"
	fi
else
	skip "leaks: a second header and two g exports (ASan)" "needs tmux and $ASAN_RW (make asan)"
fi
