#!/usr/bin/env bash
# bench/run.sh — `make bench`: racewatch against native, ThreadSanitizer,
# Helgrind and DRD on three workloads, racewatch's sampling without -w
# against ThreadSanitizer on the heap samples, plus the raw cost of one
# watchpoint or code-breakpoint hit served by a ptrace tracer on this
# machine.  Measurement only: nothing here passes or fails on a time.
#
# racewatch's backends run only where `racewatch probe` says they deliver;
# the others are recorded as "not delivered here", not run into a timeout.
#
# Every figure is the median of REPS repetitions, alternated (rep 1 of every
# tool, then rep 2, ...) so a slow spell of the machine hits all tools alike.
# Each run is bounded by TIMEOUT seconds and recorded as "timeout >Ns".
#
# Environment (all optional):
#   REPS=3 TIMEOUT=25     repetitions, per-run bound in seconds
#   QUICK=1               one short repetition of smaller work (< 2 min);
#                         writes build/bench/RESULTS-quick.md unless OUT is set
#   OUT=FILE              where the Markdown goes (default bench/RESULTS.md)
#   TOOLS="native rw-perf rw-ptrace rw-code rw-sample tsan helgrind drd"
#                         a subset, same names (rw-code = --backend code -w VAR,
#                         rw-sample = no -w: the program's own accesses sampled)
#   WORKLOADS="racy_counter hotloop prodcons"            a subset
#   ARMTIME=1             the armed-time duty cycle section (bench/armtime.sh); 0 = skip
#   HEAP="heap_struct heap_list heap_struct:200000 heap_list:40000"
#                         heap samples (NAME:ARGS; ARGS a count, or seconds as 10s)
#                         run without -w against ThreadSanitizer; "" = none
#   HEAP_RUNS=10          runs per heap sample and tool (QUICK: 5)
#   RW_ARGS="..."         extra racewatch options for the workload runs
#   REAL=1                bench/real.sh: a real server (libmicrohttpd's, from
#                         Debian's sources) under wrk; 0 = leave it out
#                         (QUICK: 0); REAL_REPS=5 DUR=5 there
#   RAW_HITS=20000        watchpoint hits per raw-cost / per-trap run
#   RW_PERF_RAW=perf-urg  the raw mechanism racewatch's perf backend uses
#                         (rawcost: perf = sigtrap, perf-urg = fasync SIGURG)
#   SIZE_racy_counter=N SIZE_hotloop=N SIZE_prodcons="ITEMS WORK"   work sizes
#   O=build               build directory (racewatch is $O/racewatch)
set -u
cd "$(dirname "$0")/.." || exit 1

O=${O:-build}
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
	REPS=${REPS:-1} TIMEOUT=${TIMEOUT:-5} RAW_HITS=${RAW_HITS:-5000} HEAP_RUNS=${HEAP_RUNS:-5}
	OUT=${OUT:-$O/bench/RESULTS-quick.md} REAL=${REAL:-0}
	SIZE_racy_counter=${SIZE_racy_counter:-40000000} SIZE_hotloop=${SIZE_hotloop:-100000000}
	SIZE_prodcons=${SIZE_prodcons:-"1500 8000"}
else
	REPS=${REPS:-3} TIMEOUT=${TIMEOUT:-25} RAW_HITS=${RAW_HITS:-20000} HEAP_RUNS=${HEAP_RUNS:-10}
	OUT=${OUT:-bench/RESULTS.md}
	# hotloop runs >= 1 s natively (issue 15: the hot-loop target is for such a run)
	SIZE_racy_counter=${SIZE_racy_counter:-100000000} SIZE_hotloop=${SIZE_hotloop:-2400000000}
	SIZE_prodcons=${SIZE_prodcons:-"4000 8000"}
fi
TOOLS=${TOOLS:-native rw-perf rw-ptrace rw-code rw-sample tsan helgrind drd}
WORKLOADS=${WORKLOADS:-racy_counter hotloop prodcons}
HEAP=${HEAP-heap_struct heap_list heap_struct:200000 heap_list:40000}
RW_ARGS=${RW_ARGS:-}
RW_PERF_RAW=${RW_PERF_RAW:-perf-urg}
RW=$O/racewatch
B=$O/bench
CC=${CC:-cc}

# What each workload watches, and whether it has a race to find.
WATCH_racy_counter=counter  RACY_racy_counter=1
WATCH_hotloop=hot           RACY_hotloop=0
WATCH_prodcons=q.count      RACY_prodcons=0

# The first stderr line that counts as "a race reported", per tool.
PAT_rw='BUG: racewatch:'
PAT_tsan='WARNING: ThreadSanitizer: data race'
PAT_vg1='Possible data race'	# Helgrind
PAT_vg2='Conflicting'		# DRD: "Conflicting load/store"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/racewatch-bench.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM
DATA=$TMP/runs.tsv	# workload tool rep wall status first hwm_kb traps
: >"$DATA"

say() { printf '%s\n' "$*" >&2; }
die() { say "bench: $*"; exit 1; }

# ---- build ------------------------------------------------------------------

[ -x "$RW" ] || die "$RW is missing: run 'make bench' (or make first)"
# Run a copy: a rebuild of $RW by someone else mid-bench must not mix versions.
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- tracer include 2>/dev/null || commit="$commit + uncommitted changes in tracer/ or include/"
cp "$RW" "$TMP/racewatch" || exit 1
RW=$TMP/racewatch
mkdir -p "$B" || exit 1
build() {	# build OUT SRC FLAGS...
	local out=$1 src=$2
	shift 2
	if [ ! -x "$out" ] || [ "$src" -nt "$out" ] || [ bench/bench.h -nt "$out" ]; then
		say "  CC      $src -> $out"
		"$CC" "$@" -o "$out" "$src" || die "cannot build $out"
	fi
}
build "$B/runone" bench/runone.c -O2 -g -Wall -Wextra
build "$B/rawcost" bench/rawcost.c -O2 -g -Wall -Wextra
build "$B/pertrap" bench/pertrap.c -O2 -g -Wall -Wextra
for w in $WORKLOADS; do
	[ -f "bench/$w.c" ] || die "unknown workload '$w'"
	build "$B/$w" "bench/$w.c" -O2 -g -pthread -Wall -Wextra
	case " $TOOLS " in *" tsan "*)
		build "$B/$w-tsan" "bench/$w.c" -O2 -g -pthread -fsanitize=thread ;;
	esac
done
# The heap samples, built here from samples/heap/ with the same flags for
# racewatch and for ThreadSanitizer.
for h in $HEAP; do
	h=${h%%:*}
	[ -f "samples/heap/$h.c" ] || die "unknown heap sample '$h'"
	# They include run_for.h (their length argument): rebuilt when it changes.
	[ samples/heap/run_for.h -nt "$B/$h" ] && rm -f "$B/$h" "$B/$h-tsan"
	build "$B/$h" "samples/heap/$h.c" -O2 -g -pthread
	build "$B/$h-tsan" "samples/heap/$h.c" -O2 -g -pthread -fsanitize=thread
done
have_valgrind=1
command -v valgrind >/dev/null 2>&1 || have_valgrind=0

# What this machine delivers, as racewatch itself sees it.
PROBE_OUT=$("$RW" probe 2>&1)
probe_line() { grep -m1 "^$1:" <<<"$PROBE_OUT"; }	# probe_line MECH
# delivered TOOL|BACKEND: 0 when racewatch's probe says it works here.
delivered() {
	case $1 in
	rw-perf|perf) probe_line perf-breakpoint | grep -q ': yes' ;;
	rw-ptrace|ptrace) probe_line debug-registers | grep -q ': yes' ;;
	rw-code|rw-sample|code) probe_line code-sites | grep -q ': yes' ;;
	*) return 0 ;;
	esac
}
undelivered_why() {	# the probe's line that says no, trimmed
	case $1 in
	rw-perf|perf) probe_line perf-breakpoint ;;
	rw-ptrace|ptrace) probe_line debug-registers ;;
	*) probe_line code-sites ;;
	esac | sed 's/ (armed, but.*/ (never trapped)/'
}

# ---- one run ----------------------------------------------------------------

# res_field NAME "RES": one field of runone's line ("wall=1.2 status=exit:0 ...").
res_field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }

# run_tool WORKLOAD TOOL REP: run it once under runone, append a line to $DATA.
run_tool() {
	local w=$1 tool=$2 rep=$3 size watchvar bin=$B/$1 res traps=- pats=()
	local -a cmd
	eval "size=\$SIZE_$w watchvar=\$WATCH_$w"
	if ! delivered "$tool"; then
		printf '%s\t%s\t%s\t-\tundelivered\t-\t-\t-\n' "$w" "$tool" "$rep" >>"$DATA"
		say "  rep $rep  $(printf '%-13s %-10s' "$w" "$tool") not run: $(undelivered_why "$tool")"
		return 0
	fi
	case $tool in
	native)    cmd=("$bin" $size) ;;
	rw-perf|rw-ptrace|rw-code)
		# shellcheck disable=SC2206  # RW_ARGS is a list of words on purpose
		cmd=("$RW" run --backend "${tool#rw-}" --stats $RW_ARGS -w "$watchvar" -- "$bin" $size)
		pats=(-p "$PAT_rw") ;;
	rw-sample)
		# shellcheck disable=SC2206
		cmd=("$RW" run --stats $RW_ARGS -- "$bin" $size)
		pats=(-p "$PAT_rw") ;;
	tsan)      cmd=("$bin-tsan" $size); pats=(-p "$PAT_tsan") ;;
	helgrind)  cmd=(valgrind --tool=helgrind "$bin" $size); pats=(-p "$PAT_vg1") ;;
	drd)       cmd=(valgrind --tool=drd "$bin" $size); pats=(-p "$PAT_vg2") ;;
	*)         die "unknown tool '$tool'" ;;
	esac
	case $tool in helgrind|drd) [ "$have_valgrind" = 1 ] || return 0 ;; esac

	local out=$TMP/$w.$tool.$rep.out err=$TMP/$w.$tool.$rep.err
	res=$("$B/runone" -t "$TIMEOUT" "${pats[@]}" -o "$out" -e "$err" -- "${cmd[@]}")
	case $tool in rw-*)
		traps=$(sed -n 's/^racewatch: stats: traps  *\([0-9]*\)$/\1/p' "$err" | tail -n1)
		traps=${traps:--} ;;
	esac
	# "wall=1.2 status=exit:0 first=- hwm_kb=N maxrss_kb=N" -> fields
	local wall status first hwm
	wall=$(res_field wall "$res")
	status=$(res_field status "$res")
	first=$(res_field first "$res")
	hwm=$(res_field hwm_kb "$res")
	# The program's own output must not change under a tool (racy_counter
	# prints nothing that depends on the race).  A timed-out run has none.
	if [ "$tool" != native ] && [ "$status" != timeout ] && [ -f "$TMP/$w.native.out" ] &&
	   ! cmp -s "$out" "$TMP/$w.native.out"; then
		say "bench: $w under $tool: program output differs from native (see below)"
		sed 's/^/    | /' "$out" >&2
		status="$status,output-differs"
	fi
	[ "$tool" = native ] && [ ! -f "$TMP/$w.native.out" ] && cp "$out" "$TMP/$w.native.out"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$w" "$tool" "$rep" "$wall" "$status" "$first" "$hwm" "$traps" >>"$DATA"
	say "  rep $rep  $(printf '%-13s %-10s' "$w" "$tool") wall ${wall}s  $status  first report ${first}  rss ${hwm} kB  traps $traps"
}

# ---- the workload table -----------------------------------------------------

say "bench: $REPS repetition(s), timeout ${TIMEOUT}s per run, tools: $TOOLS"
start_load=$(cut -d' ' -f1-3 /proc/loadavg)
start_time=$(date +%s)
for rep in $(seq 1 "$REPS"); do
	for w in $WORKLOADS; do
		for tool in $TOOLS; do
			run_tool "$w" "$tool" "$rep"
		done
	done
done

# ---- sampling without -w on the heap samples -------------------------------

HEAPDATA=$TMP/heap.tsv	# sample tool run wall status first
: >"$HEAPDATA"
HEAP_TOOLS="native rw-sample tsan"

# run_heap SPEC TOOL RUN: SPEC is NAME or NAME:ARGS (a sample of samples/heap).
run_heap() {
	local spec=$1 tool=$2 run=$3 h=${1%%:*} args="" res wall status first
	local -a cmd pats=()
	[ "$spec" = "$h" ] || args=${spec#*:}
	if ! delivered "$tool"; then
		printf '%s\t%s\t%s\t-\tundelivered\t-\n' "$spec" "$tool" "$run" >>"$HEAPDATA"
		return 0
	fi
	# shellcheck disable=SC2206  # ARGS and RW_ARGS are lists of words on purpose
	case $tool in
	native)    cmd=("$B/$h" $args) ;;
	rw-sample) cmd=("$RW" run $RW_ARGS -- "$B/$h" $args); pats=(-p "$PAT_rw") ;;
	tsan)      cmd=("$B/$h-tsan" $args); pats=(-p "$PAT_tsan") ;;
	esac
	res=$("$B/runone" -t "$TIMEOUT" "${pats[@]}" -o "$TMP/heap.out" -e "$TMP/heap.err" -- "${cmd[@]}")
	wall=$(res_field wall "$res")
	status=$(res_field status "$res")
	first=$(res_field first "$res")
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$spec" "$tool" "$run" "$wall" "$status" "$first" >>"$HEAPDATA"
	say "  run $run  $(printf '%-20s %-10s' "$spec" "$tool") wall ${wall}s  $status  first report ${first}"
}

mid_load=$(cut -d' ' -f1-3 /proc/loadavg)
if [ -n "$HEAP" ]; then
	say "bench: heap samples without -w, $HEAP_RUNS run(s) each: $HEAP"
	for run in $(seq 1 "$HEAP_RUNS"); do
		for spec in $HEAP; do
			for tool in $HEAP_TOOLS; do
				run_heap "$spec" "$tool" "$run"
			done
		done
	done
fi

# ---- raw round trip and racewatch's per-trap service -----------------------

RAW=$TMP/raw.tsv	# backend loop place rep median_us mean_us
: >"$RAW"
PERTRAP=$TMP/pertrap.tsv	# backend place rep median_us mean_us wall traps
: >"$PERTRAP"
PLACES="default same split"
[ "$(nproc)" -ge 2 ] || PLACES="default same"

# place_prefix PLACE: the words that put racewatch where PLACE says; the
# program pins itself through BENCH_CPU (taskset alone is inherited by it).
place_prefix() {
	case $1 in
	default) echo "" ;;
	same)    echo "taskset -c 0 env BENCH_CPU=0" ;;
	split)   echo "taskset -c 0 env BENCH_CPU=1" ;;
	esac
}
field() { sed -n "s/.* $1 \([0-9.]*\).*/\1/p" <<<"$2"; }	# field NAME "LINE"

# The backend whose probe line says whether a raw mechanism works here.
mech_backend() {
	case $1 in ptrace) echo ptrace ;; perf|perf-urg) echo perf ;; *) echo code ;; esac
}
RAW_MECHS="ptrace perf perf-urg int3 int3-ool uprobe"
RAWNOTE=$TMP/rawnote.tsv	# mech why: mechanisms not measured here
: >"$RAWNOTE"
UPOPEN=$TMP/upopen.tsv	# rep first_us open_median_us close_median_us
: >"$UPOPEN"
UPROBE_OPENS=${UPROBE_OPENS:-50}

raw_load=$(cut -d' ' -f1-3 /proc/loadavg)
say "bench: raw round trip and per-trap service, $RAW_HITS hits per run"
for rep in $(seq 1 "$REPS"); do
	for mech in $RAW_MECHS; do
		if ! delivered "$(mech_backend "$mech")"; then
			grep -q "^$mech	" "$RAWNOTE" ||
				printf '%s\tnot delivered here (racewatch probe: %s)\n' "$mech" "$(undelivered_why "$(mech_backend "$mech")")" >>"$RAWNOTE"
			continue
		fi
		grep -q "^$mech	" "$RAWNOTE" && continue	# unavailable (rawcost said so)
		for place in $PLACES; do
			for loop in bare regs poll; do
				# The loop variants only at the default placement.
				[ "$loop" != bare ] && [ "$place" != default ] && continue
				line=$("$B/rawcost" "$mech" "$RAW_HITS" "$loop" "$place" 2>&1)
				med=$(field median "$line") mean=$(field mean "$line")
				if [ -z "$med" ]; then
					say "  rawcost $mech $loop $place: $line"
					case $line in *" unavailable: "*)
						printf '%s\t%s\n' "$mech" "${line#* unavailable: }" >>"$RAWNOTE"
						break 2 ;;
					esac
					continue
				fi
				printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$mech" "$loop" "$place" "$rep" "$med" "$mean" >>"$RAW"
				say "  rep $rep  raw $mech $loop $place: median $med us, mean $mean us"
			done
		done
	done
	# The uprobe's open / close latency (what moving a code site costs).
	if ! grep -q "^uprobe	" "$RAWNOTE"; then
		line=$("$B/rawcost" uprobe-open "$UPROBE_OPENS" 2>&1)
		first=$(field first "$line") op=$(field 'open median' "$line") cl=$(field 'close median' "$line")
		if [ -n "$op" ]; then
			printf '%s\t%s\t%s\t%s\n' "$rep" "$first" "$op" "$cl" >>"$UPOPEN"
			say "  rep $rep  uprobe open: first $first us, median $op us; close median $cl us"
		else
			say "  rawcost uprobe-open: $line"
		fi
	fi
	for be in ptrace perf code; do
		delivered "$be" || continue
		for place in $PLACES; do
			# racewatch serving the same kind of hits, timed by the program:
			# no stall window opens at --sample 1000000000, and --overhead 0 keeps the duty cycle from switching the watchpoint off: every store traps.
			# shellcheck disable=SC2046  # the prefix is words on purpose
			res=$("$B/runone" -t "$TIMEOUT" -o "$TMP/pertrap.out" -e "$TMP/pertrap.err" -- $(place_prefix "$place") \
				"$RW" run --backend "$be" --sample 1000000000 --overhead 0 --stats -w hit -- "$B/pertrap" "$RAW_HITS")
			line=$(cat "$TMP/pertrap.out")
			med=$(field median "$line") mean=$(field mean "$line")
			wall=$(res_field wall "$res")
			traps=$(sed -n 's/^racewatch: stats: traps  *\([0-9]*\)$/\1/p' "$TMP/pertrap.err" | tail -n1)
			if [ -z "$med" ]; then
				say "  rep $rep  racewatch --backend $be $place: no figure ($res)"
				continue
			fi
			printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$be" "$place" "$rep" "$med" "$mean" "$wall" "${traps:-0}" >>"$PERTRAP"
			say "  rep $rep  racewatch --backend $be $place: median $med us, mean $mean us per trap"
		done
	done
done
# ---- armed but silent watchpoints (issue 15) ---------------------------------
ARMTIME=${ARMTIME:-1}
: >"$TMP/armtime.md"
if [ "$ARMTIME" = 1 ]; then
	say "bench: armed-time duty cycle on pingpong"
	O=$O QUICK=$QUICK REPS=$REPS TIMEOUT=$TIMEOUT RW=$RW B=$B bash bench/armtime.sh >"$TMP/armtime.md" ||
		say "bench: bench/armtime.sh failed"
fi
# ---- a real server (bench/real.sh) ---------------------------------------------

: >"$TMP/real.md"
if [ "${REAL:-1}" = 1 ]; then
	O=$O RW=$RW RW_ARGS=$RW_ARGS bench/real.sh >"$TMP/real.md"
fi

end_load=$(cut -d' ' -f1-3 /proc/loadavg)
elapsed=$(( $(date +%s) - start_time ))

# ---- the report -------------------------------------------------------------

# median of the numbers on stdin ("1e99" stands for a timeout / never)
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
fmt_s() { awk -v x="$1" -v t="$TIMEOUT" 'BEGIN { if (x == "-") print "-"; else if (x >= 1e98) printf "timeout >%ss", t; else if (x < 10) printf "%.3f s", x; else printf "%.1f s", x }'; }
# a time to first report; 1e99 = no report in that run
fmt_first() { awk -v x="$1" 'BEGIN { if (x == "-" || x >= 1e98) print "none"; else if (x < 10) printf "%.3f s", x; else printf "%.1f s", x }'; }

label() {
	case $1 in
	native) echo "native" ;; rw-perf) echo "racewatch perf" ;; rw-ptrace) echo "racewatch ptrace" ;;
	rw-code) echo "racewatch code" ;; rw-sample) echo "racewatch, no -w (sampling)" ;;
	tsan) echo "ThreadSanitizer" ;; helgrind) echo "Helgrind" ;; drd) echo "DRD" ;; *) echo "$1" ;;
	esac
}

# Per (workload, tool): the table row.  Also leaves the figures the target
# section needs in T_* variables.
table_row() {
	local w=$1 tool=$2 rows n wall ratio found first firstmax rss tps
	rows=$(awk -F'\t' -v w="$w" -v t="$tool" '$1 == w && $2 == t' "$DATA")
	[ -n "$rows" ] || { printf '| %s | %s | n/a | | | | | |\n' "$w" "$(label "$tool")"; return; }
	if awk -F'\t' '$5 != "undelivered" { x = 1 } END { exit x }' <<<"$rows"; then
		printf '| %s | %s | not run: not delivered here | — | — | — | — | — |\n' "$w" "$(label "$tool")"
		return
	fi
	n=$(wc -l <<<"$rows")
	wall=$(awk -F'\t' '{ print ($5 ~ /^timeout/) ? 1e99 : $4 }' <<<"$rows" | median)
	# slowdown: median over reps of tool wall / native wall of the same rep
	ratio=$(awk -F'\t' -v w="$w" 'NR == FNR { if ($1 == w && $2 == "native") nat[$3] = $4; next }
		{ if (!($3 in nat) || nat[$3] <= 0) next; print ($5 ~ /^timeout/) ? 1e99 : $4 / nat[$3] }' "$DATA" - <<<"$rows" | median)
	found=$(awk -F'\t' '$6 != "-"' <<<"$rows" | wc -l)
	first=$(awk -F'\t' '{ print ($6 == "-") ? 1e99 : $6 }' <<<"$rows" | median)
	firstmax=$(awk -F'\t' '{ print ($6 == "-") ? 1e99 : $6 }' <<<"$rows" | sort -g | tail -n1)
	rss=$(awk -F'\t' '{ print $7 }' <<<"$rows" | median)
	tps=$(awk -F'\t' '$8 != "-" && $4 > 0 { print $8 / $4 }' <<<"$rows" | median)

	local c_ratio c_first c_tps c_found
	c_ratio=$(awk -v r="$ratio" -v t="$TIMEOUT" -v w="$w" -v f="$DATA" 'BEGIN {
		if (r == "-") { print "-"; exit }
		if (r < 1e98) { printf "%.2f×", r; exit }
		while ((getline l < f) > 0) { split(l, a, "\t"); if (a[1] == w && a[2] == "native") { s += a[4]; k++ } }
		if (k) printf ">%.0f×", t / (s / k); else print "timeout" }')
	if [ "$tool" = native ]; then c_found="—"; c_ratio="1×"; else c_found="$found/$n"; fi
	if [ "$first" = "-" ] || [ "$found" -eq 0 ]; then
		c_first="—"
	else
		c_first="$(fmt_first "$first") (max $(fmt_first "$firstmax"))"
	fi
	c_tps=$(awk -v x="$tps" 'BEGIN { if (x == "-") print "—"; else printf "%.0f", x }')
	printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$w" "$(label "$tool")" "$(fmt_s "$wall")" \
		"$c_ratio" "$c_found" "$c_first" "$c_tps" "$(awk -v k="$rss" 'BEGIN { printf "%.1f MB", k / 1024 }')"

	# for the targets
	eval "T_ratio_${w}_${tool//-/_}=\$ratio T_first_${w}_${tool//-/_}=\$first T_firstmax_${w}_${tool//-/_}=\$firstmax"
	eval "T_found_${w}_${tool//-/_}=\$found T_n_${w}_${tool//-/_}=\$n T_rss_${w}_${tool//-/_}=\$rss"
}

# Per (heap sample, tool): the row of the sampling table.
heap_row() {
	local spec=$1 tool=$2 rows n found first firstmax wall natwall slow until
	rows=$(awk -F'\t' -v s="$spec" -v t="$tool" '$1 == s && $2 == t' "$HEAPDATA")
	[ -n "$rows" ] || return 0
	if awk -F'\t' '$5 != "undelivered" { x = 1 } END { exit x }' <<<"$rows"; then
		printf '| %s | %s | not run: not delivered here | | | | |\n' "${spec/:/ }" "$(label "$tool")"
		return
	fi
	n=$(wc -l <<<"$rows")
	found=$(awk -F'\t' '$6 != "-"' <<<"$rows" | wc -l)
	first=$(awk -F'\t' '$6 != "-" { print $6 }' <<<"$rows" | median)
	firstmax=$(awk -F'\t' '$6 != "-" { print $6 }' <<<"$rows" | sort -g | tail -n1)
	wall=$(awk -F'\t' '{ print ($5 ~ /^timeout/) ? 1e99 : $4 }' <<<"$rows" | median)
	natwall=$(awk -F'\t' -v s="$spec" '$1 == s && $2 == "native" { print $4 }' "$HEAPDATA" | median)
	slow=$(awk -v a="$wall" -v b="$natwall" 'BEGIN { if (a == "-" || b == "-" || b <= 0) print "—";
		else if (a >= 1e98) print "timeout"; else printf "%.2f×", a / b }')
	# Restarting the program until a run reports: time spent per report.
	until=$(awk -F'\t' -v t="$TIMEOUT" '{ if ($6 != "-") { s += $6; k++ } else s += ($5 ~ /^timeout/) ? t : $4 }
		END { if (k) printf "%.3f s", s / k; else printf "none in %d runs", NR }' <<<"$rows")
	if [ "$tool" = native ]; then
		printf '| %s | native | — | — | %s | 1× | — |\n' "${spec/:/ }" "$(fmt_s "$wall")"
		return
	fi
	if [ "$found" -eq 0 ]; then first="—"; else first="$(fmt_first "$first") (max $(fmt_first "$firstmax"))"; fi
	printf '| %s | %s | %s/%s | %s | %s | %s | %s |\n' "${spec/:/ }" "$(label "$tool")" "$found" "$n" "$first" \
		"$(fmt_s "$wall")" "$slow" "$until"
}

raw_stat() {	# BACKEND LOOP PLACE COLUMN(5 median, 6 mean): median over runs
	awk -F'\t' -v b="$1" -v l="$2" -v p="$3" -v c="$4" '$1 == b && $2 == l && $3 == p { print $c }' "$RAW" | median
}
rw_stat() {	# BACKEND PLACE COLUMN(4 median, 5 mean, 8 = wall / traps): median over runs
	awk -F'\t' -v b="$1" -v p="$2" -v c="$3" '$1 == b && $2 == p {
		if (c == 8) { if ($7 > 0) print $6 * 1e6 / $7 } else print $c }' "$PERTRAP" | median
}
us() { awk -v x="$1" 'BEGIN { if (x == "-") print "—"; else printf "%.1f µs", x }'; }
us_pair() { if [ "$1" = - ]; then echo "—"; else echo "$(us "$1") ($(us "$2" | sed 's/ µs//'))"; fi; }

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)
if [ -n "${MAKELEVEL:-}" ]; then how="make bench"; else how="bench/run.sh"; fi
[ "$QUICK" = 1 ] && how="QUICK=1 $how"
{
	echo "# racewatch bench results"
	echo
	echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- Machine: $(nproc) CPUs ($cpu), kernel $(uname -r); load average (1, 5, 15 min) $start_load at start, $mid_load after the workloads, $raw_load after the heap samples, $end_load at end"
	echo "- Command: \`$how\` — REPS=$REPS TIMEOUT=$TIMEOUT RAW_HITS=$RAW_HITS RW_ARGS='$RW_ARGS'; took ${elapsed}s"
	echo "- racewatch probe: $(tr '\n' ';' <<<"$PROBE_OUT" | sed 's/;$//; s/;/; /g')"
	echo "- racewatch: $commit; $($CC --version | head -n1); $(valgrind --version 2>/dev/null || echo 'valgrind: not installed')"
	echo "- Work: racy_counter $SIZE_racy_counter increments × 2 threads (\`-w counter\`); hotloop $SIZE_hotloop stores + a second thread of unrelated work (\`-w hot\`); prodcons 2 producers × $SIZE_prodcons (items, hash rounds) through a mutex/condvar queue (\`-w q.count\`). Programs built \`$CC -O2 -g -pthread\` (ThreadSanitizer: \`-fsanitize=thread\`)."
	echo
	echo "## Workloads"
	echo
	echo "Median of $REPS run(s), the tools alternated within each repetition. Slowdown = median of (tool / native of the same repetition). Races found = runs with a report (expected: every run on racy_counter, none on the others). First report = from launch to the first report line on stderr, median (max over runs). traps/s = racewatch \`--stats\` traps / wall time. Peak RSS = VmHWM of the process launched: for racewatch the tracer alone, for the others the program with the tool in it. racewatch perf / ptrace / code = \`--backend B -w VAR\` (a backend \`racewatch probe\` says this machine does not deliver is not run); racewatch, no -w = the program's own accesses sampled at the default rate (--overhead 5), the race found without naming anything."
	echo
	echo "| workload | tool | wall | slowdown | races found | first report | traps/s | peak RSS |"
	echo "|---|---|---|---|---|---|---|---|"
	for w in $WORKLOADS; do
		for tool in $TOOLS; do
			table_row "$w" "$tool"
		done
	done
	echo
	if [ -s "$HEAPDATA" ]; then
		echo "## Sampling without -w: races on heap objects nobody named"
		echo
		echo "samples/heap/*.c built here \`$CC -O2 -g -pthread\` (ThreadSanitizer: + \`-fsanitize=thread\`), each run $HEAP_RUNS times, the tools alternated; racewatch runs \`racewatch run -- PROG\` (no -w: it samples the program's own memory-accessing instructions, 8 armed at a time, rate under the default --overhead 5). Runs reported = runs with a report. First report = from launch to the first report line, over the runs that reported: median (max). Restarting = what one report costs if the program is run again until one does: (wall of the runs without a report + time to report of the others) / runs reported. heap_struct 200000 = the same sample with 200000 iterations per thread (default 20000); heap_list 40000 = 40000 rounds of the list walk per thread (default 400)."
		echo
		echo "| sample | tool | runs reported | first report | wall | slowdown | restarting: time per report |"
		echo "|---|---|---|---|---|---|---|"
		for spec in $HEAP; do
			for tool in $HEAP_TOOLS; do
				heap_row "$spec" "$tool"
			done
		done
		echo
	fi
	cat "$TMP/real.md"
	echo "## One watchpoint hit served by a tracer"
	echo
	echo "Raw: bench/rawcost.c, a child storing to a watched variable $RAW_HITS times, the tracer resuming it after each hit, timed at the tracer (interval between successive waitpid returns). Mechanisms: ptrace = DR0/DR7 by PTRACE_POKEUSER, SIGTRAP stop; perf = perf_event_open breakpoint with sigtrap=1, SIGTRAP stop; perf-urg = the same event without sigtrap, its fasync signal F_SETSIG'd to SIGURG; int3 = an int3 over a one-byte nop the child calls, one SIGTRAP stop, emulated by continuing (racewatch probe's test); int3-ool = an int3 over a store, executed out of line as racewatch's code backend does (two SIGTRAP stops, GETREGS + SETREGS at each: the code backend's floor); uprobe = a perf uprobe event on that store (config1 = path, config2 = file offset), one per thread, its fasync signal as SIGURG; the kernel runs the store out of line. Loops: bare = waitpid + PTRACE_CONT; regs = + GETSIGINFO + GETREGS; poll = + racewatch's loop shape (poll on a signalfd, waitpid WNOHANG until empty). Each cell: median µs per hit (mean in brackets), median over $REPS run(s). Placement: default = the scheduler's choice; same = tracer and program on CPU 0; split = tracer on CPU 0, program on CPU 1."
	echo
	echo "| mechanism | placement | bare | regs | poll |"
	echo "|---|---|---|---|---|"
	for mech in $RAW_MECHS; do
		why=$(awk -F'\t' -v m="$mech" '$1 == m { print $2; exit }' "$RAWNOTE")
		if [ -n "$why" ]; then
			printf '| %s | — | %s | | |\n' "$mech" "$why"
			continue
		fi
		for place in $PLACES; do
			cells=()
			for loop in bare regs poll; do
				m=$(raw_stat "$mech" "$loop" "$place" 5) a=$(raw_stat "$mech" "$loop" "$place" 6)
				cells+=("$(us_pair "$m" "$a")")
			done
			printf '| %s | %s | %s | %s | %s |\n' "$mech" "$place" "${cells[0]}" "${cells[1]}" "${cells[2]}"
		done
	done
	if [ -s "$UPOPEN" ]; then
		echo
		echo "uprobe event open (perf_event_open + fasync set-up on the stopped child) and close, $UPROBE_OPENS times per run, median over $REPS run(s): first open $(us "$(cut -f2 "$UPOPEN" | median)"), open median $(us "$(cut -f3 "$UPOPEN" | median)"), close median $(us "$(cut -f4 "$UPOPEN" | median)")."
	fi
	echo
	echo "racewatch: bench/pertrap.c under \`racewatch run --backend B --sample 1000000000 --overhead 0 -w hit\` (no stall window opens), $RAW_HITS stores timed by the program itself (clock read after each store), against the raw bare round trip of the mechanism the backend uses (perf backend: $RW_PERF_RAW; code backend: int3-ool, its two stops per hit). A backend this machine does not deliver is not run. wall / traps includes racewatch's start-up."
	echo
	echo "| backend | placement | racewatch per trap | raw bare | racewatch / raw | wall / traps |"
	echo "|---|---|---|---|---|---|"
	for be in ptrace perf code; do
		mech=$be
		[ "$be" = perf ] && mech=$RW_PERF_RAW
		[ "$be" = code ] && mech=int3-ool
		if ! delivered "$be"; then
			printf '| %s | — | not delivered here (%s) | | | |\n' "$be" "$(undelivered_why "$be")"
			continue
		fi
		for place in $PLACES; do
			rb=$(raw_stat "$mech" bare "$place" 5) rba=$(raw_stat "$mech" bare "$place" 6)
			pt=$(rw_stat "$be" "$place" 4) pta=$(rw_stat "$be" "$place" 5) tt=$(rw_stat "$be" "$place" 8)
			rat=$(awk -v a="$pt" -v b="$rb" -v x="$pta" -v y="$rba" 'BEGIN {
				if (a == "-" || b == "-" || b <= 0) print "—"; else printf "%.2f× (%.2f×)", a / b, x / y }')
			printf '| %s | %s | %s | %s %s | %s | %s |\n' "$be" "$place" "$(us_pair "$pt" "$pta")" "$mech" "$(us_pair "$rb" "$rba")" \
				"$rat" "$(us "$tt")"
			eval "T_pertrap_${be}_${place}=\$pt T_raw_${be}_${place}=\$rb"
		done
	done
	echo
	cat "$TMP/armtime.md"
	echo "## Issue 8 / 12 targets (backends this machine delivers)"
	echo
	echo "| target | figure | met |"
	echo "|---|---|---|"
	yes_no() { awk -v c="$1" 'BEGIN { print (c ? "yes" : "**no**") }'; }
	for be in perf ptrace code; do
		case " $TOOLS " in *" rw-$be "*) ;; *) continue ;; esac
		delivered "$be" || continue
		case " $WORKLOADS " in *" hotloop "*)
			eval "r=\${T_ratio_hotloop_rw_$be:--}"
			printf '| hot loop ≤ 1.05× native (%s) | %s | %s |\n' "$be" \
				"$(awk -v r="$r" 'BEGIN { if (r == "-") print "-"; else if (r >= 1e98) print "timeout"; else printf "%.2f×", r }')" \
				"$(yes_no "$(awk -v r="$r" 'BEGIN { print (r != "-" && r <= 1.05) }')")" ;;
		esac
		case " $WORKLOADS " in *" racy_counter "*)
			eval "f=\${T_first_racy_counter_rw_$be:--} fm=\${T_firstmax_racy_counter_rw_$be:--}"
			printf '| racy counter reported ≤ 1 s median, every run ≤ 1 s (%s) | median %s, max %s | %s |\n' "$be" \
				"$(fmt_first "$f")" "$(fmt_first "$fm")" \
				"$(yes_no "$(awk -v f="$f" -v m="$fm" 'BEGIN { print (f != "-" && f <= 1 && m <= 1) }')")" ;;
		esac
		for place in $PLACES; do
			eval "pt=\${T_pertrap_${be}_${place}:--} rb=\${T_raw_${be}_${place}:--}"
			printf '| per-trap service ≤ 1.2× raw round trip (%s, %s; medians) | %s vs %s | %s |\n' "$be" "$place" "$(us "$pt")" "$(us "$rb")" \
				"$(yes_no "$(awk -v a="$pt" -v b="$rb" 'BEGIN { print (a != "-" && b != "-" && a <= 1.2 * b) }')")"
		done
		maxrss=0
		for w in $WORKLOADS; do
			eval "k=\${T_rss_${w}_rw_$be:-0}"
			maxrss=$(awk -v a="$maxrss" -v b="$k" 'BEGIN { print (b > a) ? b : a }')
		done
		printf '| tracer RSS < 50 MB (%s, largest over the workloads) | %s | %s |\n' "$be" \
			"$(awk -v k="$maxrss" 'BEGIN { printf "%.1f MB", k / 1024 }')" "$(yes_no "$(awk -v k="$maxrss" 'BEGIN { print (k > 0 && k < 50 * 1024) }')")"
	done
} >"$TMP/results.md"

cat "$TMP/results.md"
# What OUT holds below the hand-kept marker (start-up, notes, another
# machine's run) is carried over: this script does not measure it.
mark='<!-- The sections below are kept by hand'
if [ -f "$OUT" ] && grep -q "^$mark" "$OUT"; then
	{ echo; sed -n "/^$mark/,\$p" "$OUT"; } >>"$TMP/results.md"
fi
mkdir -p "$(dirname "$OUT")" && cp "$TMP/results.md" "$OUT" && say "bench: written to $OUT (${elapsed}s)"
