#!/usr/bin/env bash
# jobctl.sh — Ctrl-Z under `racewatch run` suspends the whole program (every
# thread) and racewatch with it, as a shell job; `fg` resumes both, and the
# program then ends as it would natively.  Driven in tmux (a real terminal).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

if ! command -v tmux >/dev/null; then
	skip "jobctl" "tmux is not installed"
	exit 0
fi
S=rwjob$$
PROG="$PWD/$SAMPLES/heap/heap_struct-O2"
tmux new-session -d -s "$S" -x 160 -y 40 "bash --norc --noprofile" || { skip "jobctl" "tmux cannot start a session"; exit 0; }
trap 'tmux kill-session -t "$S" 2>/dev/null; rm -rf "$TMP"' EXIT

# wait_for SECS CMD...: poll CMD until it succeeds (no fixed sleeps).
wait_for() { local end=$((SECONDS + $1)); shift; until "$@"; do [ $SECONDS -ge $end ] && return 1; sleep 0.05; done; }
states() { cat /proc/"$1"/task/*/stat 2>/dev/null | sed 's/.*) \(.\).*/\1/' | sort | uniq -c | tr -s ' \n' ' '; }
all_stopped() { local s; s=$(states "$1"); [ -n "$s" ] && ! printf '%s' "$s" | grep -q '[RSD]'; }
none_stopped() { local s; s=$(states "$1"); [ -n "$s" ] && ! printf '%s' "$s" | grep -q '[tT]'; }
pane_has() { tmux capture-pane -p -t "$S" | grep -q "$1"; }

# One job: sh runs racewatch and notes its status when it ends.
tmux send-keys -t "$S" "sh -c '$PWD/$RW run -q -- $PROG 20000000 >$TMP/out 2>$TMP/err; echo \$? >$TMP/rc'" Enter
wait_for 20 pgrep -f "^$PROG 20000000" >/dev/null
pid=$(pgrep -f "^$PROG 20000000" | head -1)
if [ -z "$pid" ]; then fail "jobctl/start" "the program did not start: $(tmux capture-pane -p -t "$S" | tail -3)"; exit 0; fi
wait_for 10 test "$(ls /proc/"$pid"/task | wc -l)" -ge 3
tmux send-keys -t "$S" C-z
if wait_for 10 all_stopped "$pid" && wait_for 10 pane_has Stopped; then
	c1=$(awk '{print $14 + $15}' /proc/"$pid"/stat)
	wait_for 1 false
	c2=$(awk '{print $14 + $15}' /proc/"$pid"/stat)
	if [ "$c1" = "$c2" ]; then pass "jobctl/ctrl-z-stops-every-thread"
	else fail "jobctl/ctrl-z-stops-every-thread" "the program used CPU while stopped ($c1 -> $c2 ticks)"; fi
else
	fail "jobctl/ctrl-z-stops-every-thread" "threads: $(states "$pid"); $(tmux capture-pane -p -t "$S" | grep -v '^$' | tail -2 | tr '\n' '|')"
fi
tmux send-keys -t "$S" "fg" Enter
if wait_for 10 none_stopped "$pid"; then pass "jobctl/fg-resumes"
else fail "jobctl/fg-resumes" "threads: $(states "$pid")"; fi
if wait_for 120 test -s "$TMP/rc"; then
	# Sampling may find the sample's race (66); the output is the native one.
	if grep -q 'heap_struct: done, 40000000 operations' "$TMP/out" && grep -qx '0\|66' "$TMP/rc"; then
		pass "jobctl/ends-natively"
	else
		fail "jobctl/ends-natively" "status $(cat "$TMP/rc"); $(tail_of "$TMP/out")"
	fi
else
	fail "jobctl/ends-natively" "did not end in 120 s"
fi
