#!/usr/bin/env bash
# dwarfcrash.sh — a corrupt debug section must not crash racewatch nor harm
# the program (issue 16 item 4).  libdwarf 20210528 frees memory twice on
# some malformed .debug_rnglists; racewatch indexes DWARF in a forked child
# (tracer/symbols_guard.c), so a crash there is one warning:
#   racewatch: warning: debug info of FILE unreadable: libdwarf crashed on
#   it (SIGABRT); using the symbol table
# and the run goes on with the ELF symbol table.
#
# The corrupt programs are made here, from the samples, never committed:
# bytes of one debug section flipped, seed after seed, keeping the first
# copy that (a) still runs natively and (b) crashes the old code path,
# i.e. racewatch indexing in its own process (RACEWATCH_TEST_DWARF=noguard)
# without the raw-section precheck that turns the known rnglists crashes
# away (nocheck).  The checks then run with nocheck only, so libdwarf
# really crashes, in the guard's child:
#   find/*       such a copy exists (else SKIP: this libdwarf does not crash)
#   old-crashes  the old path dies of a signal on it (the reason for all this)
#   run/*        `run -w foo -- CORRUPT`: the one warning, status 66 or the
#                program's (never 134/139), the program's output as native
#   attach/*     `attach -w hot PID` on a corrupt worker: the one warning,
#                the worker keeps running, ends natively after the detach
#   default/*    the same copy with every check on: no crash either
#   hostile/*    flips in .debug_info, .debug_abbrev, .debug_line: whatever
#                libdwarf makes of them, run never crashes and the output is
#                native
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
. tests/attach_lib.sh

RR=$SAMPLES/basic/race_rw-O2
W=$SAMPLES/lifecycle/worker-O2
WARN='^racewatch: warning: debug info of .* unreadable: libdwarf crashed on it \(SIG[A-Z]+\); using the symbol table$'

if [ ! -x "$RW" ] || [ ! -x "$RR" ] || [ ! -x "$W" ]; then
	fail dwarfcrash/build "racewatch or the samples are not built"
	exit 0
fi
if ! command -v python3 >/dev/null; then
	skip dwarfcrash "python3 is needed to corrupt the ELF files"
	exit 0
fi
probe_machine
if [ "$HAVE_PTRACE" != 1 ]; then
	skip dwarfcrash "ptrace is not allowed here"
	exit 0
fi

# mutate SRC OUT SECTION SEED NBYTES: OUT is SRC with NBYTES random bytes of
# SECTION replaced (a reproducible choice for SEED); 1 if SRC has no SECTION.
mutate() {
	python3 - "$@" <<'EOF'
import random, struct, sys
src, out, sec, seed, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
d = bytearray(open(src, 'rb').read())
shoff, = struct.unpack_from('<Q', d, 0x28)
shentsize, shnum, shstrndx = struct.unpack_from('<HHH', d, 0x3a)
hdr = lambda i: struct.unpack_from('<IIQQQQIIQQ', d, shoff + i * shentsize)
names = hdr(shstrndx)[4]
for i in range(shnum):
    h = hdr(i)
    if d[names + h[0]:d.index(b'\0', names + h[0])].decode() == sec:
        break
else:
    sys.exit(1)
r = random.Random(seed)
for _ in range(n):
    d[h[4] + r.randrange(h[5])] = r.randrange(256)
open(out, 'wb').write(d)
EOF
	chmod +x "$2"
}

# old_crashes FILE: the old code path (index in racewatch's own process, no
# precheck) dies of a signal on FILE.
old_crashes() {
	local rc
	# The subshell keeps bash's "Aborted" notice out of the log.
	rc=$( (RACEWATCH_TEST_DWARF=noguard,nocheck timeout 20 "$RW" vars "$1" >/dev/null 2>&1; echo $?) 2>/dev/null)
	[ $rc -gt 128 ] && [ $rc -ne 137 ]
}

# find_crasher SRC OUT ARGS...: the first seed whose copy of SRC crashes
# the old path and still runs natively (OUT ARGS exits 0).  0, or 1.
find_crasher() {
	local src=$1 out=$2 seed
	shift 2
	for seed in $(seq 1 60); do
		mutate "$src" "$out" .debug_rnglists "$seed" $((seed % 4 + 1)) || return 1
		old_crashes "$out" || continue
		timeout 20 "$out" "$@" >/dev/null 2>&1 </dev/null && return 0
	done
	return 1
}

# one_warning FILE: FILE has exactly one line, the crash warning, from us.
one_warning() {
	[ "$(grep -c '^racewatch: warning: debug info' "$1")" = 1 ] && grep -Eq "$WARN" "$1" &&
		! grep -q 'double free\|has no DWARF' "$1"
}

# ---- run ------------------------------------------------------------------

C=$TMP/race_rw-corrupt
if ! find_crasher "$RR" "$C"; then
	skip dwarfcrash/find "no flip of .debug_rnglists in 60 seeds crashes this libdwarf"
else
	pass dwarfcrash/find
	pass dwarfcrash/old-crashes
	native "$TMP/n" "$C"
	NRC=$RC
	RACEWATCH_TEST_DWARF=nocheck trace "$TMP/r" run -w foo -- "$C"
	if [ "$RC" -ge 128 ] || { [ "$RC" != 66 ] && [ "$RC" != "$NRC" ]; }; then
		fail dwarfcrash/run/status "$(why_rc "$RC"), program's $NRC; stderr: $(oneline "$TMP/r.err")"
	else
		pass dwarfcrash/run/status
	fi
	if one_warning "$TMP/r.err"; then pass dwarfcrash/run/one-warning
	else fail dwarfcrash/run/one-warning "stderr: $(grep -v '^ #' "$TMP/r.err" | head -n 4 | tr '\n' '|')"; fi
	if cmp -s "$TMP/n.out" "$TMP/r.out"; then pass dwarfcrash/run/native-output
	else fail dwarfcrash/run/native-output "$(oneline "$TMP/r.out") vs native $(oneline "$TMP/n.out")"; fi

	trace "$TMP/d" run -w foo -- "$C"
	if [ "$RC" -ge 128 ] || { [ "$RC" != 66 ] && [ "$RC" != "$NRC" ]; } ||
	   ! cmp -s "$TMP/n.out" "$TMP/d.out"; then
		fail dwarfcrash/default/run "$(why_rc "$RC"); stderr: $(oneline "$TMP/d.err")"
	else
		pass dwarfcrash/default/run
	fi
fi

# ---- attach ---------------------------------------------------------------

CW=$TMP/worker-corrupt
if ! find_crasher "$W" "$CW" -s 1; then
	skip dwarfcrash/attach "no flip of the worker's .debug_rnglists crashes this libdwarf"
elif ! start_target "$TMP/w" "$CW" -s 0 -H; then
	fail dwarfcrash/attach/target "the corrupt worker did not start: $(oneline "$TMP/w.err")"
else
	export RACEWATCH_TEST_DWARF=nocheck
	attach_bg "$TMP/a" -w hot "$TPID"
	unset RACEWATCH_TEST_DWARF
	# Attached once every thread is traced by racewatch (or it gave up).
	if poll_until 20 all_traced_by "$TPID" "$RWPID" && runs_on "$TPID"; then
		pass dwarfcrash/attach/target-runs
	else
		fail dwarfcrash/attach/target-runs "$(describe "$TPID"); stderr: $(oneline "$TMP/a.err")"
	fi
	kill -INT "$RWPID" 2>/dev/null
	if ! wait_rc "$TMP/a" 15; then
		fail dwarfcrash/attach/status "racewatch did not end within 15 s of SIGINT"
	elif [ "$RC" -ge 128 ] || { [ "$RC" != 0 ] && [ "$RC" != 66 ]; }; then
		fail dwarfcrash/attach/status "$(why_rc "$RC"); stderr: $(oneline "$TMP/a.err")"
	else
		pass dwarfcrash/attach/status
	fi
	if one_warning "$TMP/a.err"; then pass dwarfcrash/attach/one-warning
	else fail dwarfcrash/attach/one-warning "stderr: $(grep -v '^ #' "$TMP/a.err" | head -n 4 | tr '\n' '|')"; fi
	kill -USR1 "$TPID" 2>/dev/null
	if wait_rc "$TMP/w" 15 && [ "$RC" = 0 ] && grep -q '^worker: ok' "$TMP/w.out" &&
	   grep -q '^worker: SIGTRAP seen 0, SIGURG seen 0$' "$TMP/w.out"; then
		pass dwarfcrash/attach/target-native-end
	else
		fail dwarfcrash/attach/target-native-end "$(why_rc "$RC"); stdout: $(oneline "$TMP/w.out" 5)"
	fi
fi

# ---- other sections -------------------------------------------------------

for sec in .debug_info .debug_abbrev .debug_line; do
	bad=
	for seed in 1 2; do
		mutate "$RR" "$TMP/h" "$sec" "$seed" 16 || continue
		native "$TMP/hn" "$TMP/h"
		[ "$RC" = 0 ] || continue
		trace "$TMP/hr" run -w foo -- "$TMP/h"
		# 2: -w foo refused (the program did not run); else the
		# program's status or a race's, and its native output.
		case $RC in
		2) continue ;;
		0|66) cmp -s "$TMP/hn.out" "$TMP/hr.out" && continue ;;
		esac
		bad="seed $seed: $(why_rc "$RC"); stderr: $(oneline "$TMP/hr.err")"
		break
	done
	if [ -z "$bad" ]; then pass "dwarfcrash/hostile$sec"
	else fail "dwarfcrash/hostile$sec" "$bad"; fi
done
