#!/usr/bin/env bash
# reports.sh — what a race report carries and where it goes, on
# samples/basic/race_rw.c (racy) and race_rw_locked.c (never reported):
#
#   stacks        the text report lists >= 2 frames under each access
#                 (update_foo <- writer, read_foo <- reader), exact lines;
#                 --stack-depth 0 leaves only the access frame
#   -o            every line valid JSON (python3), header / race / update /
#                 end records with the documented fields, final count equal
#                 to 1 + --stats race_repeats; flushed as found: a tracer
#                 killed with SIGKILL leaves the race on file; hostile
#                 program names (quotes, control and non-UTF-8 bytes) stay
#                 valid JSON
#   --sarif       valid SARIF 2.1.0 per Microsoft's SARIF Multitool (npm,
#                 cached under $O/tools/sarif; SKIP if npm cannot get it),
#                 one result at one access, the other as related location
#   --suppressions race_top:, race: on a caller frame, var: suppress (counted
#                 in --stats suppressed, exit status unchanged); race_top: on
#                 a caller frame does not; a bad line is exit 2 naming
#                 FILE:LINE before the program runs
#   --gdb-script  race-1.gdb run by gdb -batch on the sample stops at both
#                 reported sites
#   install       make install DESTDIR=... installs the binary, the man page
#                 (which names every option of --help) and racewatch.h
#   race_rw_locked with every sink on: never a race in any of them
#
# Detection is sampled: checks that need a report retry until a deadline.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

SRC=samples/basic/race_rw.c
RACE_SECS=${RACE_SECS:-30}
HEADER='BUG: racewatch: data-race in read_foo / update_foo'
BIN=$SAMPLES/basic/race_rw-O2
TWIN=$SAMPLES/basic/race_rw_locked-O2

marker_line() { grep -n "/\* $1 \*/" "$SRC" | cut -d: -f1; }
# report_of FILE: the first read_foo/update_foo report.
report_of() {
	awk -v h="$HEADER" '$0 == h { on = 1 } on { print } on && /^=+$/ { exit }' "$1"
}

# ---- preconditions ----------------------------------------------------------

if [ ! -x "$RW" ] || [ ! -x "$BIN" ] || [ ! -x "$TWIN" ]; then
	fail reports/build "$RW or the samples are missing: build with make"
	exit 0
fi
probe_machine
WLINE=$(marker_line RACE-WRITE) RLINE=$(marker_line RACE-READ)

# ---- install (needs no tracing) ----------------------------------------------

check_install() {
	local d=$TMP/inst p=usr/local missing="" opt src
	if ! make -s O="$O" install PREFIX=/usr/local DESTDIR="$d" >"$TMP/install.log" 2>&1; then
		fail reports/install "make install failed: $(tail_of "$TMP/install.log")"
		return
	fi
	for f in $p/bin/racewatch $p/share/man/man1/racewatch.1 $p/include/racewatch.h; do
		[ -f "$d/$f" ] || missing="$missing $f"
	done
	if [ -n "$missing" ]; then
		fail reports/install "not installed under DESTDIR:$missing"
	elif [ ! -x "$d/$p/bin/racewatch" ] || ! "$d/$p/bin/racewatch" --help >/dev/null 2>&1; then
		fail reports/install "installed racewatch does not run --help"
	elif ! cmp -s include/racewatch.h "$d/$p/include/racewatch.h"; then
		fail reports/install "installed racewatch.h differs from include/racewatch.h"
	else
		pass reports/install
	fi
	# The man page documents every option and command --help shows.
	src=$(sed 's/\\-/-/g; s/\\f[BIRP]//g' racewatch.1)
	missing=""
	for opt in $("$RW" --help | grep -oE -- '--[a-z][a-z-]+' | sort -u) run attach probe; do
		printf '%s\n' "$src" | grep -q -- "$opt" || missing="$missing $opt"
	done
	for s in 'EXIT STATUS' 'REPORT FORMAT' 'EXAMPLES' 'SUPPRESSIONS'; do
		grep -q "^\.SH $s" racewatch.1 || missing="$missing [section $s]"
	done
	if [ -n "$missing" ]; then
		fail reports/man-page "racewatch.1 does not document:$missing"
	elif command -v man >/dev/null && ! man -l "$d/$p/share/man/man1/racewatch.1" >/dev/null 2>&1; then
		fail reports/man-page "man -l cannot render the installed page"
	else
		pass reports/man-page
	fi
}
check_install

# Nothing below is about a backend: every run uses the default (auto).
tracing_ok reports || exit 0
if [ -z "$WLINE" ] || [ -z "$RLINE" ]; then
	fail reports/markers "$SRC must carry /* RACE-WRITE */ and /* RACE-READ */"
	exit 0
fi

# ---- one run with every sink --------------------------------------------------

OUT=$TMP/all
full_run() {
	rm -rf "$OUT.gdb"
	trace "$OUT" run -w foo --stats -o "$OUT.jsonl" --sarif "$OUT.sarif" \
		--gdb-script "$OUT.gdb" -- "$BIN"
	grep -qx "$HEADER" "$OUT.err"
}
if ! retry_until "$RACE_SECS" full_run; then
	fail reports/reported "no '$HEADER' within ${RACE_SECS}s; last: $(tail_of "$OUT.err")"
	exit 0
fi
pass reports/reported
[ "$RC" = 66 ] && pass reports/exit-66 || fail reports/exit-66 "status $RC"

# (1) both stacks: >= 2 frames under each access, callers by name and line.
check_stacks() {
	local rep w r
	rep=$(report_of "$OUT.err")
	w=$(printf '%s\n' "$rep" | sed -n '/^write to .* (foo) of 4 bytes by thread [0-9]*:$/,/^$/p')
	r=$(printf '%s\n' "$rep" | sed -n '/^read to .* (foo) of 4 bytes by thread [0-9]*:$/,/^$/p')
	if ! printf '%s\n' "$w" | grep -Eq "^ #0 update_foo (.*/)?race_rw\.c:$WLINE\$" ||
	   ! printf '%s\n' "$w" | grep -Eq "^ #1 writer (.*/)?race_rw\.c:[0-9]+\$"; then
		fail reports/stack-write "want #0 update_foo race_rw.c:$WLINE and #1 writer race_rw.c:N, got: $(printf '%s' "$w" | tr '\n' '|')"
	else
		pass reports/stack-write
	fi
	if ! printf '%s\n' "$r" | grep -Eq "^ #0 read_foo (.*/)?race_rw\.c:$RLINE\$" ||
	   ! printf '%s\n' "$r" | grep -Eq "^ #1 reader (.*/)?race_rw\.c:[0-9]+\$"; then
		fail reports/stack-read "want #0 read_foo race_rw.c:$RLINE and #1 reader race_rw.c:N, got: $(printf '%s' "$r" | tr '\n' '|')"
	else
		pass reports/stack-read
	fi
	# The caller's line is the call's: the line of update_foo(...) in writer().
	local cl
	cl=$(printf '%s\n' "$w" | sed -n 's/^ #1 writer .*race_rw\.c:\([0-9]*\)$/\1/p')
	if [ -n "$cl" ] && sed -n "${cl}p" "$SRC" | grep -q 'update_foo('; then
		pass reports/stack-call-line
	else
		fail reports/stack-call-line "#1 writer line '$cl' is not the call of update_foo: '$(sed -n "${cl:-1}p" "$SRC")'"
	fi
}
check_stacks

# (2) JSON lines.
check_json() {
	local why
	if why=$(python3 - "$OUT.jsonl" "$WLINE" "$RLINE" "$(stat_of "$OUT.err" race_repeats)" 2>&1 <<'EOF'
import json, sys
path, wline, rline, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
recs = []
for n, line in enumerate(open(path, encoding="utf-8"), 1):
    try:
        recs.append(json.loads(line))
    except ValueError as e:
        sys.exit(f"line {n} is not JSON: {e}")
def need(c, why):
    if not c:
        sys.exit(why)
need(recs and recs[0]["type"] == "header" and recs[0]["schema"] == 1, "first record is not a schema 1 header")
need(all(r.get("schema") == 1 for r in recs), "a record without schema 1")
need(recs[-1]["type"] == "end", "last record is not end")
races = [r for r in recs if r["type"] == "race"]
need(len(races) == 1, f"{len(races)} race records, want 1")
r = races[0]
for k in ("id", "kind", "title", "pid", "variable", "address", "size", "accesses", "value", "count", "first_seen", "last_seen"):
    need(k in r, f"race record has no {k}")
need(r["id"] == 1 and r["kind"] == "data-race" and r["variable"] == "foo" and r["size"] == 4, f"race record {r['id']} {r['kind']} {r['variable']} {r['size']}")
need(r["title"] == "data-race in read_foo / update_foo", "title " + r["title"])
acc = {a["function"]: a for a in r["accesses"]}
need(set(acc) == {"update_foo", "read_foo"}, f"access functions {sorted(acc)}")
for f, t, ln, caller in (("update_foo", "write", wline, "writer"), ("read_foo", "read", rline, "reader")):
    a = acc[f]
    for k in ("type", "marking", "thread", "pc", "address", "size", "function", "file", "line", "stack"):
        need(k in a, f"{f} access has no {k}")
    need(a["type"] == t and a["marking"] == "plain", f"{f}: {a['type']} {a['marking']}")
    need(a["line"] == ln and a["file"].endswith("race_rw.c"), f"{f}: {a['file']}:{a['line']}, want race_rw.c:{ln}")
    st = a["stack"]
    need(len(st) >= 2 and st[0]["function"] == f and st[1]["function"] == caller, f"{f} stack {[x['function'] for x in st]}")
    need(all(k in st[0] for k in ("pc", "function", "file", "line", "inlined", "module", "offset")), "frame fields")
    need(st[0]["pc"] == a["pc"], "frame #0 pc is not the access pc")
need(acc["update_foo"]["thread"] != acc["read_foo"]["thread"], "both accesses by one thread")
count = r["count"]
for u in recs:
    if u["type"] == "update" and u["id"] == 1:
        need(u["count"] >= count, "update counts go backwards")
        count = u["count"]
need(repeats != "" and count == 1 + int(repeats), f"final count {count}, --stats race_repeats {repeats}")
end = recs[-1]
need(end["races"] == 1 and end["exit_status"] == 66 and end["counters"]["race_repeats"] == int(repeats), f"end record {end}")
EOF
	); then pass reports/json; else fail reports/json "$(printf '%s' "$why" | tail -n 2 | tr '\n' ' ')"; fi
}
check_json

# (2b) flushed as found: SIGKILL the tracer once the race is on file.
check_json_killed() {
	local f=$TMP/killed.jsonl pid end tpid kids
	rm -f "$f"
	"$RW" run -w foo -o "$f" -- "$BIN" 100000000 </dev/null >/dev/null 2>"$TMP/killed.err" &
	pid=$!
	end=$((SECONDS + RACE_SECS))
	while [ $SECONDS -lt $end ] && ! grep -q '"type":"race"' "$f" 2>/dev/null; do
		kill -0 $pid 2>/dev/null || break
		sleep 0.2
	done
	# The program we launched through racewatch may outlive it (perf
	# backend; under code it dies of SIGTRAP at its next site): note its pid
	# (racewatch's child) before killing racewatch, then kill it.
	kids=$(cat /proc/$pid/task/*/children 2>/dev/null)
	kill -KILL $pid 2>/dev/null
	wait $pid 2>/dev/null
	[ -n "$kids" ] && kill -KILL $kids 2>/dev/null
	tpid=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["type"] == "race": print(r["pid"]); break' "$f" 2>/dev/null)
	if [ -n "$tpid" ] && python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$f" 2>/dev/null &&
	   ! grep -q '"type":"end"' "$f"; then
		pass reports/json-killed
	else
		fail reports/json-killed "after SIGKILL: $(head -c 300 "$f" 2>/dev/null | tr '\n' '|') $(tail_of "$TMP/killed.err")"
	fi
}
check_json_killed

# (2c) a hostile program name: quote, backslash, control and non-UTF-8 bytes.
check_json_escaping() {
	local odd=$TMP/$'race "rw"\\\x01\xff\xc3\xa9' why
	cp "$BIN" "$odd"
	odd_run() {
		trace "$TMP/odd" run -w foo -o "$TMP/odd.jsonl" -- "$odd" 500
		grep -q '"type":"race"' "$TMP/odd.jsonl"
	}
	if ! retry_until "$RACE_SECS" odd_run; then
		fail reports/json-escaping "no race record within ${RACE_SECS}s: $(tail_of "$TMP/odd.err")"
		return
	fi
	if why=$(python3 - "$TMP/odd.jsonl" 2>&1 <<'EOF'
import json, sys
raw = open(sys.argv[1], "rb").read()
raw.decode("utf-8")                      # the file itself is UTF-8
recs = [json.loads(l) for l in raw.decode().splitlines()]
want = 'race "rw"\\\x01\ufffd\u00e9'
argv0 = recs[0]["argv"][0]
if not argv0.endswith("/" + want):
    sys.exit(f"argv[0] {argv0!r} does not end in {want!r}")
race = [r for r in recs if r["type"] == "race"][0]
mods = {f["module"] for a in race["accesses"] for f in a["stack"] if f["module"]}
if not any(m.endswith(want) for m in mods):
    sys.exit(f"no frame's module is the program: {mods}")
EOF
	); then pass reports/json-escaping; else fail reports/json-escaping "$(printf '%s' "$why" | tail -n 1)"; fi
}
check_json_escaping

# (3) SARIF.
check_sarif() {
	local why tool=$O/tools/sarif rc
	if why=$(python3 - "$OUT.sarif" "$WLINE" "$RLINE" 2>&1 <<'EOF'
import json, sys
log = json.load(open(sys.argv[1]))
wline, rline = int(sys.argv[2]), int(sys.argv[3])
def need(c, why):
    if not c:
        sys.exit(why)
need(log["version"] == "2.1.0" and len(log["runs"]) == 1, "not one SARIF 2.1.0 run")
run = log["runs"][0]
rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
need(rules == ["data-race", "unknown-origin", "assert"], f"rules {rules}")
need(run["invocations"][0]["executionSuccessful"] and run["invocations"][0]["exitCode"] == 66, "invocation")
res = run["results"]
need(len(res) == 1, f"{len(res)} results, want 1")
r = res[0]
need(r["ruleId"] == "data-race" and r["level"] == "error", f"{r['ruleId']} {r['level']}")
lines = set()
for loc in r["locations"] + r["relatedLocations"]:
    pl = loc["physicalLocation"]
    need(pl["artifactLocation"]["uri"].endswith("race_rw.c"), "uri " + pl["artifactLocation"]["uri"])
    lines.add(pl["region"]["startLine"])
need(len(r["locations"]) == 1 and len(r["relatedLocations"]) == 1, "one location and one related location")
need(lines == {wline, rline}, f"lines {lines}, want {wline} and {rline}")
need(len(r["stacks"]) == 2 and all(len(s["frames"]) >= 2 for s in r["stacks"]), "two stacks of >= 2 frames")
EOF
	); then pass reports/sarif; else fail reports/sarif "$(printf '%s' "$why" | tail -n 1)"; fi

	if ! command -v npm >/dev/null; then
		skip reports/sarif-multitool "npm is not installed"
		return
	fi
	if [ ! -e "$tool/node_modules/.bin/sarif-multitool" ]; then
		mkdir -p "$tool"
		if ! timeout 300 npm install --prefix "$tool" --no-audit --no-fund \
			@microsoft/sarif-multitool >"$TMP/npm.log" 2>&1; then
			skip reports/sarif-multitool "npm could not install @microsoft/sarif-multitool: $(tail_of "$TMP/npm.log")"
			return
		fi
	fi
	( cd "$tool" && timeout 120 npx --no-install sarif-multitool validate --rule-kind "'Sarif;Gh'" "$OUT.sarif" ) >"$TMP/mt.log" 2>&1
	rc=$?
	if [ $rc = 0 ] && ! grep -qiE ': error ' "$TMP/mt.log"; then
		pass reports/sarif-multitool
	elif grep -qiE 'command not found|could not determine executable|ENOENT|No usable version' "$TMP/mt.log"; then
		skip reports/sarif-multitool "the multitool does not run here: $(tail_of "$TMP/mt.log")"
	else
		fail reports/sarif-multitool "validate exit $rc: $(grep -iE 'error' "$TMP/mt.log" | head -n 3 | tr '\n' '|')"
	fi
}
check_sarif

# (6) gdb hand-off.
check_gdb() {
	local g=$OUT.gdb/race-1.gdb
	if [ ! -f "$g" ]; then
		fail reports/gdb-script "no $g"
		return
	fi
	if grep -q "^#   gdb -x race-1.gdb --args PROG ARGS" "$g" && grep -q '^awatch -l foo$' "$g" &&
	   grep -q '^break .*race_rw\.c:'"$WLINE"'$' "$g" && grep -q '^break .*race_rw\.c:'"$RLINE"'$' "$g"; then
		pass reports/gdb-script-content
	else
		fail reports/gdb-script-content "$g lacks the usage header, awatch -l foo or a break at race_rw.c:$WLINE/$RLINE"
	fi
	if ! command -v gdb >/dev/null; then
		skip reports/gdb-script-runs "gdb is not installed"
		return
	fi
	if [ "$HAVE_DR" != 1 ]; then
		skip reports/gdb-script-runs "gdb's awatch needs debug-register traps: $(why_not ptrace)"
		return
	fi
	timeout -k 5 120 gdb -nx -batch -x "$g" --args "$BIN" </dev/null >"$TMP/gdb.out" 2>&1
	if grep -Eq "hit Breakpoint [0-9]+, update_foo .* at .*race_rw\.c:$WLINE\$" "$TMP/gdb.out" &&
	   grep -Eq "hit Breakpoint [0-9]+, read_foo .* at .*race_rw\.c:$RLINE\$" "$TMP/gdb.out" &&
	   grep -q "thread apply all bt\|^Thread [0-9]* (Thread" "$TMP/gdb.out" &&
	   grep -q "both sites reached" "$TMP/gdb.out"; then
		pass reports/gdb-script-runs
	else
		fail reports/gdb-script-runs "gdb did not stop at race_rw.c:$WLINE and :$RLINE: $(grep -E 'hit|rror|racewatch' "$TMP/gdb.out" | head -n 4 | tr '\n' '|')"
	fi
}
check_gdb

# (1b) --stack-depth 0: the access frame only.
depth0_run() {
	trace "$TMP/d0" run -w foo --stack-depth 0 -- "$BIN"
	grep -qx "$HEADER" "$TMP/d0.err"
}
if retry_until "$RACE_SECS" depth0_run; then
	if grep -q '^ #1 ' "$TMP/d0.err" || [ "$(report_of "$TMP/d0.err" | grep -c '^ #0 ')" != 2 ]; then
		fail reports/stack-depth-0 "frames beyond #0: $(report_of "$TMP/d0.err" | grep '^ #' | tr '\n' '|')"
	else
		pass reports/stack-depth-0
	fi
else
	fail reports/stack-depth-0 "no report within ${RACE_SECS}s"
fi

# (4) suppressions.
# supp_case NAME RULE: RULE suppresses the race: a run sees it (--stats
# suppressed >= 1), prints no report, exits as the program does (0), and -o
# has no race record.
supp_case() {
	local name=$1 rule=$2
	printf '# reports.sh\n\n%s\n' "$rule" >"$TMP/$name.supp"
	supp_run() {
		trace "$TMP/$name" run -w foo --stats --suppressions "$TMP/$name.supp" \
			-o "$TMP/$name.jsonl" -- "$BIN"
		[ "$(stat_of "$TMP/$name.err" suppressed)" -ge 1 ] 2>/dev/null
	}
	if ! retry_until "$RACE_SECS" supp_run; then
		fail "reports/suppress-$name" "'$rule': never counted as suppressed; last: $(grep -m1 '^BUG' "$TMP/$name.err") $(tail_of "$TMP/$name.err")"
	elif grep -q '^BUG: racewatch' "$TMP/$name.err"; then
		fail "reports/suppress-$name" "'$rule': still reported: $(grep -m1 '^BUG' "$TMP/$name.err")"
	elif [ "$RC" != 0 ]; then
		fail "reports/suppress-$name" "'$rule': exit status $RC, want the program's 0"
	elif grep -q '"type":"race"' "$TMP/$name.jsonl"; then
		fail "reports/suppress-$name" "'$rule': race record in -o"
	elif [ "$(stat_of "$TMP/$name.err" races)" != 0 ]; then
		fail "reports/suppress-$name" "'$rule': --stats races $(stat_of "$TMP/$name.err" races)"
	else
		pass "reports/suppress-$name"
	fi
}
supp_case race-top 'race_top:^read_foo$'
supp_case race-caller 'race:writer'
supp_case var 'var:^foo$'
supp_case file 'file:race_rw.c'

# race_top: looks at frame #0 only: a caller's name does not suppress.
printf 'race_top:^writer$\nrace_top:^reader$\n' >"$TMP/top.supp"
top_run() {
	trace "$TMP/top" run -w foo --stats --suppressions "$TMP/top.supp" -- "$BIN"
	grep -qx "$HEADER" "$TMP/top.err"
}
if retry_until "$RACE_SECS" top_run && [ "$RC" = 66 ] && [ "$(stat_of "$TMP/top.err" suppressed)" = 0 ]; then
	pass reports/suppress-top-only-top
else
	fail reports/suppress-top-only-top "race_top on the callers: status $RC, suppressed $(stat_of "$TMP/top.err" suppressed), $(tail_of "$TMP/top.err")"
fi

# A bad line: exit 2, FILE:LINE named, the program never ran.
printf '# fine\nrace:foo\nrace_bottom:x\n' >"$TMP/bad.supp"
trace "$TMP/bad" run -w foo --suppressions "$TMP/bad.supp" -- "$BIN"
if [ "$RC" = 2 ] && grep -q "$TMP/bad.supp:3: " "$TMP/bad.err" && [ "$(wc -l <"$TMP/bad.err")" = 1 ] &&
   [ ! -s "$TMP/bad.out" ]; then
	pass reports/suppress-bad-line
else
	fail reports/suppress-bad-line "status $RC, stderr '$(tail_of "$TMP/bad.err")', stdout '$(tail_of "$TMP/bad.out")'"
fi

# ---- the race-free twin: never a race in any sink ---------------------------------

check_twin() {
	local i bad="" why
	for i in 1 2 3; do
		rm -rf "$TMP/twin.gdb"
		trace "$TMP/twin" run -w foo --stats -o "$TMP/twin.jsonl" --sarif "$TMP/twin.sarif" \
			--gdb-script "$TMP/twin.gdb" -- "$TWIN" 500
		if grep -q '^BUG: racewatch' "$TMP/twin.err"; then
			bad="run $i reported: $(grep -m1 '^BUG' "$TMP/twin.err")"
		elif [ "$RC" != 0 ]; then
			bad="run $i: status $RC: $(tail_of "$TMP/twin.err")"
		elif [ "$(stat_of "$TMP/twin.err" traps)" -eq 0 ] 2>/dev/null; then
			bad="run $i: foo was not watched (no traps)"
		elif ! why=$(python3 - "$TMP/twin.jsonl" "$TMP/twin.sarif" 2>&1 <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
types = [r["type"] for r in recs]
if types != ["header", "end"]:
    sys.exit(f"-o records {types}, want header, end")
log = json.load(open(sys.argv[2]))
if log["runs"][0]["results"]:
    sys.exit("SARIF has results")
EOF
		); then
			bad="run $i: $why"
		elif [ -n "$(ls -A "$TMP/twin.gdb" 2>/dev/null)" ]; then
			bad="run $i: gdb scripts written: $(ls "$TMP/twin.gdb")"
		fi
		[ -n "$bad" ] && break
	done
	if [ -n "$bad" ]; then fail reports/locked-never "$bad"; else pass reports/locked-never; fi
}
check_twin
exit 0
