#!/usr/bin/env bash
# bench/real.sh — a real multithreaded server from Debian's source packages
# under racewatch, against native and ThreadSanitizer (issue 15 item 4).
#
# The server is libmicrohttpd's own benchmark example (src/examples/
# benchmark.c): a thread pool of 2 workers, each running its own epoll loop
# and answering every GET with one shared response; it ends when a byte (or
# EOF) arrives on its stdin.  wrk loads it on 127.0.0.1 for DUR seconds with
# CONNS keep-alive connections; nothing leaves the machine.
#
# Fetch and build on demand, idempotently, into $O/real (never committed):
#   apt-get source libmicrohttpd    (needs a deb-src entry: scripts/deps.sh
#                                    bench adds one for the configured mirror)
#   build-native: CFLAGS="-g -O2", static library, the example linked to it
#   build-tsan:   the same with -fsanitize=thread
# When the source cannot be fetched or built, or wrk is missing, the section
# says "skipped" with a one-line reason (also on stderr) and the exit status
# is 0, so `make bench` goes on.
#
# Tools (REAL_TOOLS, alternated within each repetition):
#   native      the -g -O2 build alone
#   rw-w4       racewatch run -w response -w small_deltas -w mono_clock_id
#               -w mono_clock_start (default backend)
#   rw-sample   racewatch run with no -w: the program's own accesses sampled
#   tsan        the -fsanitize=thread build
#   rw-idle     (not by default) racewatch run -w mhd_panic: traced, its
#               136 sites planted, but only error paths touch it: what
#               tracing costs when nothing traps
# Per run: wrk's requests/s; the CPU (user + sys, /proc/PID/stat) the server
# process and, for racewatch, the tracer used during the load; the races
# reported; the server's exit status once its stdin is closed.
#
# Prints a Markdown section on stdout, progress on stderr.  Environment:
#   O=build REAL_REPS=5 DUR=5 CONNS=16 REAL_TOOLS="native rw-w4 rw-sample tsan"
#   RW=$O/racewatch RW_ARGS="" (extra racewatch options)
set -u
cd "$(dirname "$0")/.." || exit 1

O=${O:-build}
RW=${RW:-$O/racewatch}
REPS=${REAL_REPS:-5}
DUR=${DUR:-5}
CONNS=${CONNS:-16}
REAL_TOOLS=${REAL_TOOLS:-native rw-w4 rw-sample tsan}
RW_ARGS=${RW_ARGS:-}
PKG=libmicrohttpd
D=$O/real
START_TIMEOUT=60	# s for the server to listen (racewatch's start-up included)
EXIT_TIMEOUT=${EXIT_TIMEOUT:-30}		# s for it to end once its stdin is closed
# The four watched variables: globals every worker thread touches per
# request (see the section's text for why these).
WATCH="response small_deltas mono_clock_id mono_clock_start"

say() { printf '%s\n' "$*" >&2; }
HEADING="## A real server: libmicrohttpd's benchmark example under wrk"
skip() {
	say "real: skipped: $*"
	printf '%s\n\nSkipped: %s\n\n' "$HEADING" "$*"
	exit 0
}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/racewatch-real.XXXXXX") || exit 1
SERVER_PID=
cleanup() {
	exec 3>&- 2>/dev/null
	# A server still running here was interrupted: end it (its own pid,
	# never a name).
	[ -n "$SERVER_PID" ] && kill -KILL "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- fetch and build ----------------------------------------------------------

command -v wrk >/dev/null 2>&1 || skip "wrk is not installed (scripts/deps.sh bench installs it)"
[ -x "$RW" ] || skip "$RW is missing (make first)"
mkdir -p "$D" || exit 1
rm -rf "$D/logs" && mkdir -p "$D/logs" || exit 1	# every run's stderr, kept for a look
# Run a copy: a rebuild of $RW mid-bench must not mix versions (run.sh
# passes its own copy).
cp "$RW" "$TMP/racewatch" || exit 1
RW=$TMP/racewatch

# unpacked_src: the directory apt-get source unpacked, or "".
unpacked_src() {
	local d
	for d in "$D"/src/"$PKG"-*/; do
		[ -x "$d/configure" ] && { echo "$d"; return; }
	done
}
src=$(unpacked_src)
if [ -z "$src" ]; then
	command -v apt-get >/dev/null 2>&1 || skip "no apt-get to fetch $PKG's source with"
	say "real: fetching $PKG's source (apt-get source)"
	rm -rf "$D/src" && mkdir -p "$D/src" || exit 1
	if ! (cd "$D/src" && apt-get source -qq "$PKG") >"$D/fetch.log" 2>&1; then
		why=$(grep -m1 '^E:' "$D/fetch.log" || tail -n1 "$D/fetch.log")
		rm -rf "$D/src"
		skip "cannot fetch $PKG's source: ${why:-apt-get source failed} (scripts/deps.sh bench adds a deb-src entry)"
	fi
	src=$(unpacked_src)
	[ -n "$src" ] || skip "apt-get source $PKG unpacked no configure script (see $D/fetch.log)"
fi
src=$(cd "$src" && pwd)
version=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$src/debian/changelog" 2>/dev/null)

# build NAME CFLAGS LDFLAGS: an out-of-tree build of the static library and
# the example in $D/build-NAME, redone only when the flags change.
build() {
	local b=$D/build-$1 flags="$2|$3"
	if [ -x "$b/src/examples/benchmark" ] && [ "$(cat "$b/flags" 2>/dev/null)" = "$flags" ]; then
		return 0
	fi
	say "real: building $PKG $version ($1: $2) in $b"
	rm -rf "$b" && mkdir -p "$b" || exit 1
	# CPU_COUNT fixes the example's thread pool at 2 whatever the machine.
	if ! (cd "$b" && "$src/configure" -q --disable-shared --enable-static --disable-https \
		--disable-doc --disable-curl --disable-nls CFLAGS="$2" LDFLAGS="$3" &&
	      make -j2 -C src/microhttpd && make -C src/examples CPU_COUNT=2 benchmark) >"$b.log" 2>&1; then
		skip "building $PKG ($1) failed: $(grep -m1 -iE 'error' "$b.log" || tail -n1 "$b.log") (log: $b.log)"
	fi
	printf '%s\n' "$flags" >"$b/flags"
}
build native "-g -O2" ""
NATIVE=$D/build-native/src/examples/benchmark
case " $REAL_TOOLS " in *" tsan "*)
	build tsan "-g -O2 -fsanitize=thread" "-fsanitize=thread"
	TSAN=$D/build-tsan/src/examples/benchmark ;;
esac

# ---- one run ------------------------------------------------------------------

TCK=$(getconf CLK_TCK)
# cpu PID: user + sys ticks of the whole process (all threads), or 0 if gone.
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
hwm() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status" 2>/dev/null || echo 0; }
WFLAGS=()
for v in $WATCH; do WFLAGS+=(-w "$v"); done
DATA=$TMP/runs.tsv	# tool rep rps requests srv_cpu_s rw_cpu_s status races traps errors srv_kb rw_kb
: >"$DATA"
# Ports below the kernel's ephemeral range: a probe connect() to a port in
# that range with nobody listening yet can be given that very port as its
# source (a loopback self-connect), and the server's bind then fails.
ephemeral_lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null)
ephemeral_lo=${ephemeral_lo:-32768}
[ "$ephemeral_lo" -gt 11000 ] || ephemeral_lo=32768
PORT0=$((10000 + $$ % (ephemeral_lo - 10000 - 1000)))
nport=0

# start_server TOOL OUT ERR: start TOOL's server on a fresh port with its
# stdin a FIFO held open on fd 3; wait until it listens.  Sets SERVER_PID,
# PORT, and START ("" when listening, else why not).  A server that exits 1
# at once (its port taken by someone else) is tried on the next port.
start_server() {
	local tool=$1 out=$2 err=$3 fifo deadline
	local -a cmd
	for _ in 1 2 3; do
		PORT=$((PORT0 + nport)) fifo=$TMP/stdin.$nport
		nport=$((nport + 1))
		# shellcheck disable=SC2206  # RW_ARGS is a list of words on purpose
		case $tool in
		native)    cmd=("$NATIVE" "$PORT") ;;
		rw-w4)     cmd=("$RW" run --stats $RW_ARGS "${WFLAGS[@]}" -- "$NATIVE" "$PORT") ;;
		rw-sample) cmd=("$RW" run --stats $RW_ARGS -- "$NATIVE" "$PORT") ;;
		rw-idle)   cmd=("$RW" run --stats $RW_ARGS -w mhd_panic -- "$NATIVE" "$PORT") ;;
		tsan)      cmd=("$TSAN" "$PORT") ;;
		*)         say "real: unknown tool '$tool'"; exit 1 ;;
		esac
		mkfifo "$fifo" || exit 1
		"${cmd[@]}" <"$fifo" >"$out" 2>"$err" &
		SERVER_PID=$!
		exec 3>"$fifo"	# the server's stdin: closing it ends the server
		rm -f "$fifo"
		# Listening yet?  (racewatch's start-up comes first.)
		START="" deadline=$((SECONDS + START_TIMEOUT))
		until (exec 4<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do
			if ! kill -0 "$SERVER_PID" 2>/dev/null; then START=died-at-start; break; fi
			if [ "$SECONDS" -ge "$deadline" ]; then START=no-listen; break; fi
			sleep 0.05
		done
		[ "$START" = died-at-start ] || return 0
		exec 3>&-
		wait "$SERVER_PID"
		local rc=$?
		SERVER_PID=
		START="died-at-start:exit:$rc"
		[ "$rc" = 1 ] || return 0
		say "  port $PORT: the server exited 1 at start (port taken?); next port"
	done
}

# run_tool TOOL REP: one server, one wrk load, one line in $DATA.
run_tool() {
	local tool=$1 rep=$2
	local out=$TMP/$tool.$rep.out err=$TMP/$tool.$rep.err w=$TMP/$tool.$rep.wrk
	start_server "$tool" "$out" "$err"
	local status=$START srv=$SERVER_PID port=$PORT deadline
	# Under racewatch the server is the tracer's child.
	if [ -z "$status" ] && [ "${tool#rw-}" != "$tool" ]; then
		srv=$(cat /proc/"$SERVER_PID"/task/*/children 2>/dev/null | awk '{ print $1; exit }')
		[ -n "$srv" ] || status=no-child
	fi
	local c0=0 r0=0 c1=0 r1=0 skb=0 rkb=0
	if [ -z "$status" ]; then
		c0=$(cpu "$srv") r0=0
		[ "$srv" != "$SERVER_PID" ] && r0=$(cpu "$SERVER_PID")
		timeout $((DUR + 30)) wrk -t1 -c"$CONNS" -d"${DUR}s" --timeout 10s "http://127.0.0.1:$port/" >"$w" 2>&1
		c1=$(cpu "$srv") skb=$(hwm "$srv")
		[ "$srv" != "$SERVER_PID" ] && r1=$(cpu "$SERVER_PID") rkb=$(hwm "$SERVER_PID")
	fi
	if [ -n "$SERVER_PID" ]; then
		exec 3>&-
		deadline=$((SECONDS + EXIT_TIMEOUT))
		while kill -0 "$SERVER_PID" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.05; done
		if kill -0 "$SERVER_PID" 2>/dev/null; then
			# Hung: SIGTERM, and SIGKILL if that is not enough either
			# (racewatch reads its signals in its event loop).
			status=${status:-hang-at-exit}
			kill -TERM "$SERVER_PID" 2>/dev/null
			deadline=$((SECONDS + 5))
			while kill -0 "$SERVER_PID" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.05; done
			kill -0 "$SERVER_PID" 2>/dev/null && status="$status,sigkill" && kill -KILL "$SERVER_PID" 2>/dev/null
		fi
		wait "$SERVER_PID"
		local rc=$?
		SERVER_PID=
		status=${status:-exit:$rc}
	fi

	local rps reqs errors races traps=-
	rps=$(sed -n 's/^Requests\/sec:[[:space:]]*\([0-9.]*\).*/\1/p' "$w" 2>/dev/null)
	reqs=$(sed -n 's/^[[:space:]]*\([0-9]*\) requests in .*/\1/p' "$w" 2>/dev/null)
	errors=$(awk '/^  Socket errors:/ { gsub(/[^0-9 ]/, " "); for (i = 1; i <= NF; i++) n += $i }
		/^  Non-2xx or 3xx responses:/ { n += $NF } END { print n + 0 }' "$w" 2>/dev/null)
	case $tool in
	rw-*)	races=$(sed -n 's/^racewatch: summary: \([0-9]*\) race.*/\1/p' "$err" | tail -n1)
		traps=$(sed -n 's/^racewatch: stats: traps  *\([0-9]*\)$/\1/p' "$err" | tail -n1) ;;
	tsan)	races=$(grep -c '^WARNING: ThreadSanitizer: data race' "$err") ;;
	*)	races=0 ;;
	esac
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$rep" "${rps:--}" "${reqs:--}" \
		"$(awk -v a="$c0" -v b="$c1" -v t="$TCK" 'BEGIN { printf "%.2f", (b - a) / t }')" \
		"$(awk -v a="$r0" -v b="$r1" -v t="$TCK" 'BEGIN { printf "%.2f", (b - a) / t }')" \
		"$status" "${races:--}" "${traps:--}" "${errors:-0}" "$skb" "$rkb" >>"$DATA"
	say "  rep $rep  $(printf '%-10s' "$tool") ${rps:-no figure} req/s  cpu $(tail -n1 "$DATA" | cut -f5) s + tracer $(tail -n1 "$DATA" | cut -f6) s  $status  races ${races:--}  traps $traps  errors ${errors:-0}"
	# What went wrong stays visible: the server's or racewatch's last words.
	case $status in exit:0|exit:66) ;; *) sed -n '1,5s/^/    | /p' "$err" >&2 ;; esac
	cp "$err" "$D/logs/$tool.$rep.err" 2>/dev/null
}

say "real: $PKG $version benchmark, wrk -c$CONNS -d${DUR}s, $REPS repetition(s), tools: $REAL_TOOLS"
start_load=$(cut -d' ' -f1-3 /proc/loadavg)
t0=$SECONDS
for rep in $(seq 1 "$REPS"); do
	for tool in $REAL_TOOLS; do
		run_tool "$tool" "$rep"
	done
done
end_load=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the section --------------------------------------------------------------

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
col() {	# col TOOL N: column N of TOOL's runs that produced a figure
	awk -F'\t' -v t="$1" -v c="$2" '$1 == t && $3 != "-" { print $c }' "$DATA"
}
# ratio TOOL EXPR: median over reps of EXPR(tool) / EXPR(native) of the same
# rep; EXPR in awk over the columns ($3 rps, $5 + $6 cpu, ...).
ratio() {
	awk -F'\t' -v t="$1" "
		\$3 == \"-\" { next }
		\$1 == \"native\" { n[\$2] = $2 }
		\$1 == t { x[\$2] = $2 }
		END { for (r in x) if ((r in n) && n[r] > 0) print x[r] / n[r] }" "$DATA" | median
}
label() {
	case $1 in
	native) echo "native" ;; rw-w4) echo "racewatch -w ×4" ;;
	rw-sample) echo "racewatch, no -w (sampling)" ;; tsan) echo "ThreadSanitizer" ;;
	rw-idle) echo "racewatch -w mhd_panic (never hit)" ;; *) echo "$1" ;;
	esac
}
fx() { awk -v x="$1" -v f="$2" 'BEGIN { if (x == "-" || x == "") print "—"; else printf f, x }'; }

backend=$(cat "$D"/logs/rw-w4.*.err 2>/dev/null | sed -n 's/.*; backend \([a-z]*\).*/\1/p' | tail -n1)
# which races: racewatch's report headers, ThreadSanitizer's SUMMARY lines
# (paths cut to the file name), with the number of runs each came up in.
which_races() {
	local pat
	case $1 in
	rw-*) pat='s/^BUG: racewatch: \(data-race in .*\)/\1/p' ;;
	tsan) pat='s/^SUMMARY: ThreadSanitizer: data race [^ ]*\/\([^/ ]*\) in \(.*\)/\2 (\1)/p' ;;
	*) return 0 ;;
	esac
	for f in "$D"/logs/"$1".*.err; do
		[ -f "$f" ] && sed -n "$pat" "$f" | sort -u
	done | sort | uniq -c | sort -rn | awk '{ n = $1; $1 = ""; printf "%s%s (%d run%s)", s, substr($0, 2), n, (n > 1 ? "s" : ""); s = "; " }'
}
{
	echo "$HEADING"
	echo
	echo "libmicrohttpd $version (Debian source package, \`apt-get source $PKG\`), built static with \`-g -O2\` (ThreadSanitizer: + \`-fsanitize=thread\`), its example server \`src/examples/benchmark.c\`: a pool of 2 worker threads, each with its own epoll loop, answering every GET with one shared 91-byte response. Load: \`wrk -t1 -c$CONNS -d${DUR}s\` (keep-alive GET /) on 127.0.0.1, started once the server listens; CPU = user + sys of the server process (all threads) during the load, from /proc/PID/stat, plus racewatch's own (the tracer process) for its rows. $REPS repetition(s), the tools alternated; every figure a median, ratios = median of (tool / native of the same repetition). Load average $start_load at start, $end_load at end; took $((SECONDS - t0)) s."
	echo
	echo "racewatch -w ×4 = \`racewatch run --stats $RW_ARGS${RW_ARGS:+ }-w response -w small_deltas -w mono_clock_id -w mono_clock_start\` (default backend: ${backend:-?} here); no -w = \`racewatch run --stats\`: the program's own memory accesses sampled at the default --overhead 5."
	echo
	echo "| tool | requests/s | throughput vs native | CPU s (server + tracer) | CPU vs native | CPU µs per request | per request vs native | races reported | traps | peak RSS (server + tracer) | exit |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
	for tool in $REAL_TOOLS; do
		n=$(awk -F'\t' -v t="$tool" '$1 == t' "$DATA" | wc -l)
		if [ "$(col "$tool" 3 | wc -l)" -eq 0 ]; then
			printf '| %s | no figure: %s | | | | | | | | | |\n' "$(label "$tool")" \
				"$(awk -F'\t' -v t="$tool" '$1 == t { print $7 }' "$DATA" | sort -u | tr '\n' ' ')"
			continue
		fi
		rps=$(col "$tool" 3 | median)
		srv=$(col "$tool" 5 | median) trc=$(col "$tool" 6 | median)
		cpu=$(awk -F'\t' -v t="$tool" '$1 == t && $3 != "-" { print $5 + $6 }' "$DATA" | median)
		per=$(awk -F'\t' -v t="$tool" '$1 == t && $3 != "-" && $4 > 0 { print ($5 + $6) * 1e6 / $4 }' "$DATA" | median)
		# shellcheck disable=SC2016  # awk expressions, not shell ones
		rr=$(ratio "$tool" '$3') cr=$(ratio "$tool" '($5 + $6)') pr=$(ratio "$tool" '($5 + $6) / $4')
		races=$(awk -F'\t' -v t="$tool" '$1 == t { print $8 }' "$DATA" | tr '\n' ' ' | sed 's/ $//; s/ /, /g')
		traps=$(col "$tool" 9 | grep -v '^-$' | median)
		skb=$(col "$tool" 11 | median) rkb=$(col "$tool" 12 | median)
		rss=$(awk -v a="$skb" -v b="$rkb" 'BEGIN { if (b > 0) printf "%.1f + %.1f MB", a / 1024, b / 1024; else printf "%.1f MB", a / 1024 }')
		exits=$(awk -F'\t' -v t="$tool" '$1 == t { print $7 }' "$DATA" | sort | uniq -c | awk '{ printf "%s%s×%s", s, $1, $2; s = ", " }')
		errs=$(awk -F'\t' -v t="$tool" '$1 == t { n += $10 } END { print n + 0 }' "$DATA")
		[ "$errs" -gt 0 ] && exits="$exits; $errs wrk errors"
		if [ "$tool" = native ]; then rr=1 cr=1 pr=1; fi
		cpucell=$(fx "$cpu" "%.2f")
		[ "${tool#rw-}" != "$tool" ] && cpucell="$cpucell ($(fx "$srv" "%.2f") + $(fx "$trc" "%.2f"))"
		printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$(label "$tool")" "$(fx "$rps" "%.0f")" \
			"$(fx "$rr" "%.2f×")" "$cpucell" "$(fx "$cr" "%.2f×")" "$(fx "$per" "%.0f")" "$(fx "$pr" "%.2f×")" \
			"$races (of $n)" "$(fx "$traps" "%.0f")" "$rss" "$exits"
		eval "R_rr_${tool//-/_}=\$rr R_pr_${tool//-/_}=\$pr"
	done
	echo
	for tool in $REAL_TOOLS; do
		r=$(which_races "$tool")
		[ -n "$r" ] && echo "- Races $(label "$tool") reported: $r."
	done
	echo "- Every run's stderr: \`$D/logs/TOOL.REP.err\`."
	echo
	case " $REAL_TOOLS " in *" rw-w4 "*" native "*|*" native "*" rw-w4 "*)
		met=$(awk -v a="${R_rr_rw_w4:--}" -v b="${R_pr_rw_w4:--}" 'BEGIN {
			if (a == "-" || b == "-") print "—"; else print (a >= 1 / 1.10 && b <= 1.10) ? "yes" : "**no**" }')
		echo "Issue 15 target, the real program with 4 watched variables ≤ 1.10× throughput and CPU (racewatch -w ×4, per request): throughput $(fx "${R_rr_rw_w4:--}" "%.2f×"), CPU per request $(fx "${R_pr_rw_w4:--}" "%.2f×"): met: $met."
		echo ;;
	esac
}
