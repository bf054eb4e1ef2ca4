#!/usr/bin/env bash
# samples_check.sh [GLOB] — run every samples/DIR/NAME.c that has a
# samples/DIR/NAME.expect under racewatch and check the outcome it promises.
# Prints exactly one line per sample, "PASS DIR/NAME", "FAIL DIR/NAME: why"
# or "SKIP DIR/NAME: why", then "samples-check: N passed, N failed,
# N skipped".  Exits 1 if any sample failed.  GLOB (bash pattern on
# DIR/NAME, e.g. 'marking/*' or '*_buggy') selects samples.
#
# Needs build/racewatch and build/samples/DIR/NAME-O1/-O2 (`make`).  Runs one
# tracer at a time on purpose: detection depends on timing.
#
# ---- The expectation file, samples/DIR/NAME.expect ------------------------
# Line oriented; blank lines and lines starting with # are ignored.
#
#   [run NAME]     starts a run (e.g. default, strict); every key below belongs
#                  to the last [run].  Keys above the first [run] apply to every
#                  run; a file without [run] is one run named "default".
#   options: ...   racewatch options (split on blanks), e.g. --strict -w foo
#   args: ...      program arguments (split on blanks)
#   builds: O1 O2  which builds (default both)
#   expect: TEXT   some stderr line of racewatch contains TEXT (retried, one
#                  tracer run after another, until the deadline); repeatable
#   never: TEXT    no stderr line of any run ever contains TEXT; repeatable
#   status: N      racewatch's exit status in every run (66 = race reported;
#                  with 66, a run that reported nothing and exited 0 counts as
#                  a sampling miss, tolerated while the expects are seen in time,
#                  0 = none)
#   stdout: TEXT   the program's stdout contains TEXT in every run
#   deadline: SECS how long the expects may take (default 30)
#   runs: N        minimum number of runs, so nevers get enough chances
#                  (default 5)
#   code: missed WHY   (also perf:, ptrace:) when the run's backend (the
#                  summary line's "backend X") is this one, the race is known
#                  not to be seen by it, for the reason WHY (e.g. code sites do
#                  not see accesses through pointers): the expects are not
#                  required, status 66 may also be 0, and traps may be 0; the
#                  nevers, stdout and other statuses still hold.  Use it only
#                  for a real limitation of the mechanism, never for a miss
#                  that could be fixed in the tracer.
#
# For every [run] and every build: run `racewatch run --stats OPTIONS --
# build/samples/DIR/NAME-BUILD ARGS` (each run bounded by `timeout`) until
# every expect has been seen and at least `runs` runs were made, or the
# deadline passed.  The sample passes when, for every run and build, every
# expect was seen, no never was seen, status and stdout held in every run,
# and something was watched (--stats traps > 0: silence from a tracer that
# watched nothing proves nothing).
#
# Environment: O (build dir, default build), RW (tracer, default $O/racewatch),
# BACKEND (passed as --backend; default: none, i.e. auto),
# RUN_TIMEOUT (seconds per tracer run, default 20), VERBOSE=1 (progress on
# stderr).
set -u
cd "$(dirname "$0")/.." || exit 1
O=${O:-build}
RW=${RW:-$O/racewatch}
RUN_TIMEOUT=${RUN_TIMEOUT:-20}
FILTER=${1:-*}
TMP=$(mktemp -d /tmp/rwsamples.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

npass=0 nfail=0 nskip=0

say() { [ -n "${VERBOSE:-}" ] && echo "  $*" >&2; return 0; }

# ---- parsing ----------------------------------------------------------------
# parse FILE: fills RUNS_N (count) and per run i: R_NAME[i], R_OPTS[i],
# R_ARGS[i], R_BUILDS[i], R_DEADLINE[i], R_MIN[i], R_STATUS[i], and the
# newline-separated lists R_EXPECT[i], R_NEVER[i], R_STDOUT[i].  Index 0
# holds the keys above the first [run].  On a bad line sets PARSE_ERR.
parse() {
	local file=$1 line key val n=0 lineno=0
	R_NAME=(all) R_OPTS=("") R_ARGS=("") R_BUILDS=("O1 O2") R_DEADLINE=(30) R_MIN=(5)
	R_STATUS=("") R_EXPECT=("") R_NEVER=("") R_STDOUT=("") R_MISSED=("")
	PARSE_ERR=""
	while IFS= read -r line || [ -n "$line" ]; do
		lineno=$((lineno + 1))
		line=${line%$'\r'}
		case "$line" in ''|'#'*) continue ;; esac
		if [[ $line =~ ^\[run\ +([A-Za-z0-9_.-]+)\]\ *$ ]]; then
			n=$((n + 1))
			R_NAME[n]=${BASH_REMATCH[1]}
			R_OPTS[n]=${R_OPTS[0]} R_ARGS[n]=${R_ARGS[0]} R_BUILDS[n]=${R_BUILDS[0]}
			R_DEADLINE[n]=${R_DEADLINE[0]} R_MIN[n]=${R_MIN[0]} R_STATUS[n]=${R_STATUS[0]}
			R_EXPECT[n]=${R_EXPECT[0]} R_NEVER[n]=${R_NEVER[0]} R_STDOUT[n]=${R_STDOUT[0]}
			R_MISSED[n]=${R_MISSED[0]}
			continue
		fi
		if ! [[ $line =~ ^([a-z]+):\ *(.*[^\ ])?\ *$ ]]; then
			PARSE_ERR="line $lineno: not 'key: value' nor '[run NAME]'"
			return
		fi
		key=${BASH_REMATCH[1]} val=${BASH_REMATCH[2]}
		case $key in
		options) R_OPTS[n]=$val ;;
		args) R_ARGS[n]=$val ;;
		builds) R_BUILDS[n]=$val ;;
		deadline|runs|status)
			if ! [[ $val =~ ^[0-9]+$ ]]; then
				PARSE_ERR="line $lineno: $key wants a number"
				return
			fi
			case $key in
			deadline) R_DEADLINE[n]=$val ;;
			runs) R_MIN[n]=$val ;;
			status) R_STATUS[n]=$val ;;
			esac ;;
		expect|never|stdout)
			if [ -z "$val" ]; then
				PARSE_ERR="line $lineno: empty $key"
				return
			fi
			case $key in
			expect) R_EXPECT[n]+=$val$'\n' ;;
			never) R_NEVER[n]+=$val$'\n' ;;
			stdout) R_STDOUT[n]+=$val$'\n' ;;
			esac ;;
		perf|ptrace|code)
			if ! [[ $val =~ ^missed\ +[^\ ] ]]; then
				PARSE_ERR="line $lineno: $key: wants 'missed WHY'"
				return
			fi
			R_MISSED[n]+="$key ${val#missed }"$'\n' ;;
		*)
			PARSE_ERR="line $lineno: unknown key '$key'"
			return ;;
		esac
	done <"$file"
	RUNS_N=$n
	if [ "$n" -eq 0 ]; then	# no [run]: the keys above are the one run
		RUNS_N=1 R_NAME[1]=default
		R_OPTS[1]=${R_OPTS[0]} R_ARGS[1]=${R_ARGS[0]} R_BUILDS[1]=${R_BUILDS[0]}
		R_DEADLINE[1]=${R_DEADLINE[0]} R_MIN[1]=${R_MIN[0]} R_STATUS[1]=${R_STATUS[0]}
		R_EXPECT[1]=${R_EXPECT[0]} R_NEVER[1]=${R_NEVER[0]} R_STDOUT[1]=${R_STDOUT[0]}
		R_MISSED[1]=${R_MISSED[0]}
	fi
	for ((i = 1; i <= RUNS_N; i++)); do
		for b in ${R_BUILDS[i]}; do
			case $b in O1|O2) ;; *) PARSE_ERR="run ${R_NAME[i]}: unknown build '$b'"; return ;; esac
		done
	done
}

# ---- one tracer run -----------------------------------------------------------

# why_rc RC: words for an exit status in a FAIL message.
why_rc() {
	case $1 in
	124|137) echo "timed out after ${RUN_TIMEOUT}s (status $1)" ;;
	*) echo "status $1" ;;
	esac
}

# trace BIN OPTS ARGS: one tracer run; stdout/stderr in $TMP/run.out/.err,
# the status in RC.  Options and arguments are split on blanks on purpose.
trace() {
	local bin=$1 opts=$2 args=$3
	# shellcheck disable=SC2086
	( timeout -k 5 "$RUN_TIMEOUT" "$RW" run --stats ${BACKEND:+--backend "$BACKEND"} $opts -- "$bin" $args \
		</dev/null >"$TMP/run.out" 2>"$TMP/run.err"; echo $? >"$TMP/run.rc" ) 2>/dev/null
	RC=$(cat "$TMP/run.rc")
}

# contains FILE TEXT: some line of FILE contains TEXT (fixed string).
contains() { grep -qF -- "$2" "$1"; }

# first_line FILE TEXT: the first line of FILE containing TEXT, shortened.
first_line() { grep -F -m1 -- "$2" "$1" | cut -c1-160; }

# check_run_build NAME I BUILD: run I of the sample on BUILD; returns 1 with
# WHY set on failure.
check_run_build() {
	local name=$1 i=$2 b=$3
	local bin=$O/samples/$name-$b tag="${R_NAME[i]}/$b"
	local runs=0 t0=$SECONDS traps=0 n seen=() e k all misses=0 backend missed=""
	local -a expects=() nevers=() stdouts=()

	[ -x "$bin" ] || { WHY="$bin not built"; return 1; }
	while IFS= read -r e; do [ -n "$e" ] && expects+=("$e"); done <<<"${R_EXPECT[i]}"
	while IFS= read -r e; do [ -n "$e" ] && nevers+=("$e"); done <<<"${R_NEVER[i]}"
	while IFS= read -r e; do [ -n "$e" ] && stdouts+=("$e"); done <<<"${R_STDOUT[i]}"
	for k in "${!expects[@]}"; do seen[k]=0; done

	while :; do
		trace "$bin" "${R_OPTS[i]}" "${R_ARGS[i]}"
		runs=$((runs + 1))
		case $RC in 124|137) WHY="$tag run $runs: $(why_rc "$RC")"; return 1 ;; esac
		# The backend this run used (auto picks one), and whether the
		# expectation file says it cannot see this race.
		backend=$(sed -n 's/^racewatch: summary: .*; backend \([a-z]*\)$/\1/p' "$TMP/run.err" | tail -n1)
		missed=$(printf '%s' "${R_MISSED[i]}" | sed -n "s/^${backend:-none} //p" | head -n1)
		for e in "${nevers[@]}"; do
			if contains "$TMP/run.err" "$e"; then
				WHY="$tag run $runs: never '$e' seen: $(first_line "$TMP/run.err" "$e")"
				return 1
			fi
		done
		# Detection is sampled: a run of a racy sample that found nothing
		# and exited like the program (0) is a miss, not a wrong status;
		# the expects must still all be seen before the deadline.
		if [ "${R_STATUS[i]}" = 66 ] && [ "$RC" = 0 ] && ! contains "$TMP/run.err" "BUG: racewatch"; then
			misses=$((misses + 1))
		elif [ -n "${R_STATUS[i]}" ] && [ "$RC" != "${R_STATUS[i]}" ]; then
			WHY="$tag run $runs: $(why_rc "$RC"), want ${R_STATUS[i]}; stderr: $(grep -m2 'BUG: racewatch\|racewatch: [a-z]*:' "$TMP/run.err" | grep -v 'stats:' | tr '\n' '|' | cut -c1-200)"
			return 1
		fi
		for e in "${stdouts[@]}"; do
			if ! contains "$TMP/run.out" "$e"; then
				WHY="$tag run $runs: stdout lacks '$e': $(head -c 160 "$TMP/run.out" | tr '\n' '|')"
				return 1
			fi
		done
		n=$(sed -n 's/^racewatch: stats: traps  *\([0-9][0-9]*\)$/\1/p' "$TMP/run.err" | tail -n1)
		traps=$((traps + ${n:-0}))
		all=1
		[ -n "$missed" ] && [ "$runs" -ge "${R_MIN[i]}" ] && break
		for k in "${!expects[@]}"; do
			if [ "${seen[k]}" = 0 ] && contains "$TMP/run.err" "${expects[k]}"; then
				seen[k]=1
				say "$name $tag: '${expects[k]}' in run $runs after $((SECONDS - t0))s"
			fi
			[ "${seen[k]}" = 1 ] || all=0
		done
		[ "$runs" -ge "${R_MIN[i]}" ] && [ "$all" = 1 ] && break
		[ "$runs" -ge "${R_MIN[i]}" ] && [ $((SECONDS - t0)) -ge "${R_DEADLINE[i]}" ] && break
	done
	if [ -n "$missed" ]; then
		say "$name $tag: ok, $runs runs; backend $backend: missed: $missed"
		MISSED_NOTE="$backend: missed: $missed"
		return 0
	fi
	for k in "${!expects[@]}"; do
		if [ "${seen[k]}" = 0 ]; then
			WHY="$tag: no '${expects[k]}' in $runs runs / $((SECONDS - t0))s"
			return 1
		fi
	done
	if [ "$traps" -eq 0 ]; then
		WHY="$tag: nothing was watched in $runs runs (--stats traps 0)"
		return 1
	fi
	say "$name $tag: ok, $runs runs ($misses without a report), $((SECONDS - t0))s"
	return 0
}

# ---- main ---------------------------------------------------------------------

mapfile -t files < <(ls samples/*/*.expect 2>/dev/null | sort)
selected=()
for f in "${files[@]}"; do
	name=${f#samples/}
	name=${name%.expect}
	# shellcheck disable=SC2053
	[[ $name == $FILTER ]] && selected+=("$name")
done

# Skip only when no mechanism works here; tests/run.sh's probe (PROBE_OUT)
# is reused when there is one.
skipwhy=""
if [ ! -x "$RW" ]; then
	skipwhy="no tracer at $RW (run make)"
else
	probe=${PROBE_OUT:-$("$RW" probe 2>&1)}
	case "$probe" in
	*"perf-breakpoint: yes"*|*"debug-registers: yes"*|*"code-sites: yes"*) ;;
	*) skipwhy="no mechanism delivers here (racewatch probe: $(printf '%s' "$probe" | grep -E '^(perf-breakpoint|debug-registers|code-sites):' | cut -d'(' -f1 | tr '\n' ' '))" ;;
	esac
fi

for name in "${selected[@]}"; do
	if [ -n "$skipwhy" ]; then
		echo "SKIP $name: $skipwhy"
		nskip=$((nskip + 1))
		continue
	fi
	parse "samples/$name.expect"
	if [ -n "$PARSE_ERR" ]; then
		echo "FAIL $name: $name.expect: $PARSE_ERR"
		nfail=$((nfail + 1))
		continue
	fi
	ok=1 WHY="" MISSED_NOTE=""
	for ((i = 1; i <= RUNS_N && ok; i++)); do
		for b in ${R_BUILDS[i]}; do
			if ! check_run_build "$name" "$i" "$b"; then
				ok=0
				break
			fi
		done
	done
	if [ $ok = 1 ]; then
		[ -z "$MISSED_NOTE" ] || echo "samples-check: $name: expected miss, $MISSED_NOTE"
		echo "PASS $name"
		npass=$((npass + 1))
	else
		echo "FAIL $name: $WHY"
		nfail=$((nfail + 1))
	fi
done

echo "samples-check: $npass passed, $nfail failed, $nskip skipped"
[ "$nfail" -eq 0 ]
