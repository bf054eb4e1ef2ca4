#!/usr/bin/env bash
# demo.sh BUILD_DIR — `make demo`: run racewatch on the racy sample and show
# the report it prints.  Detection is sampled, so the run is repeated (at
# most TRIES times) until a report appears.  The default backend (auto)
# picks what works here: debug registers where their traps are delivered,
# else code sites (int3); if nothing works, one line says exactly why.
set -u
cd "$(dirname "$0")/.." || exit 1
O=${1:-build}
RW=$O/racewatch
BIN=$O/samples/basic/race_rw-O2
SRC=samples/basic/race_rw.c
TRIES=10

for f in "$RW" "$BIN"; do
	if [ ! -x "$f" ]; then
		echo "demo: $f is missing: run make first" >&2
		exit 1
	fi
done

# What works here: without any mechanism there is nothing to show.
probe=$("$RW" probe 2>&1)
if ! printf '%s\n' "$probe" | grep -Eq '^(perf-breakpoint|debug-registers|code-sites): yes'; then
	echo "demo: cannot show a race here: no mechanism delivers ($(printf '%s\n' "$probe" |
		grep -E '^(ptrace|perf-breakpoint|debug-registers|code-sites): ' | tr '\n' ';' | sed 's/;$//; s/;/; /g'))" >&2
	exit 1
fi
how="a hardware watchpoint on foo,"
printf '%s\n' "$probe" | grep -Eq '^(perf-breakpoint|debug-registers): yes' ||
	how="a breakpoint (int3) on every instruction that accesses foo (this machine
does not deliver debug-register traps: racewatch probe),"

cat <<EOF
racewatch demo: $SRC has two threads that share \`int foo\` with no lock:
update_foo() writes it (line $(grep -n '/\* RACE-WRITE \*/' "$SRC" | cut -d: -f1)), read_foo() reads it (line $(grep -n '/\* RACE-READ \*/' "$SRC" | cut -d: -f1)).
racewatch puts $how
stalls each thread that touches foo for a short random delay, and reports the
other thread's access if it lands inside that window: nothing ordered the two
accesses, so they race.

\$ $RW run -w foo -- $BIN
EOF

out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
for try in $(seq 1 $TRIES); do
	timeout -k 5 60 "$RW" run -w foo -- "$BIN" </dev/null >"$out" 2>"$err"
	rc=$?
	if grep -q '^BUG: racewatch' "$err"; then
		cat "$out"
		cat "$err"
		echo "(racewatch exit status $rc: 66 means a race was reported; found in run $try)"
		exit 0
	fi
done
echo "demo: no report in $TRIES runs (last exit status $rc); racewatch said: $(grep '^racewatch: ' "$err" | tail -n 2 | tr '\n' ' ')" >&2
exit 1
