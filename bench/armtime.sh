#!/usr/bin/env bash
# bench/armtime.sh — what armed but silent perf watchpoints cost a context
# switch heavy program, and what the armed-time duty cycle saves (issue 15).
# run.sh calls it and puts its Markdown section in RESULTS.md; it also runs
# on its own (O=build bench/armtime.sh).  Measurement only.
#
# Workload: samples/lifecycle/pingpong (THREADS threads handing a token
# round a ring of pipes ROUNDS times; `rarely`, the watched variable, is
# written twice by main and never by the threads).  Three tools, alternated
# within each repetition:
#   native        the program alone
#   perf armed    racewatch run --backend perf -w rarely with the slot armed
#                 all the time (RACEWATCH_DEBUG=armed-always)
#   perf duty     the same with the armed-time duty cycle (the default)
# Both racewatch runs use RACEWATCH_DEBUG=hw-trust, so they run (and arm
# real debug registers) even where traps are not delivered: the per-switch
# cost is real there, detection is not measured here.
#
# Environment: O=build REPS=3 TIMEOUT=25 QUICK=1 ARM_ROUNDS=N ARM_THREADS=4
#              RW=$O/racewatch B=$O/bench (runone is built there by run.sh)
set -u
cd "$(dirname "$0")/.." || exit 1
O=${O:-build}
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then REPS=${REPS:-1}; ARM_ROUNDS=${ARM_ROUNDS:-20000}; else REPS=${REPS:-3}; ARM_ROUNDS=${ARM_ROUNDS:-100000}; fi
TIMEOUT=${TIMEOUT:-25}
ARM_THREADS=${ARM_THREADS:-4}
RW=${RW:-$O/racewatch}
B=${B:-$O/bench}
PP=$O/samples/lifecycle/pingpong-O2
CC=${CC:-cc}
say() { printf '%s\n' "$*" >&2; }

[ -x "$PP" ] || { say "armtime: $PP is missing: run make"; exit 1; }
mkdir -p "$B" || exit 1
if [ ! -x "$B/runone" ] || [ bench/runone.c -nt "$B/runone" ]; then
	"$CC" -O2 -g -Wall -Wextra -o "$B/runone" bench/runone.c || exit 1
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/racewatch-armtime.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
D=$T/runs.tsv	# tool rep wall user sys status share
: >"$D"
f() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }

for rep in $(seq 1 "$REPS"); do
	for tool in native armed duty; do
		case $tool in
		native) env=() cmd=("$PP" "$ARM_ROUNDS" "$ARM_THREADS") ;;
		armed)  env=(env RACEWATCH_DEBUG=hw-trust,armed-always) ;;
		duty)   env=(env RACEWATCH_DEBUG=hw-trust) ;;
		esac
		[ "$tool" = native ] ||
			cmd=("${env[@]}" "$RW" run --backend perf --stats -w rarely -- "$PP" "$ARM_ROUNDS" "$ARM_THREADS")
		res=$("$B/runone" -t "$TIMEOUT" -o "$T/out" -e "$T/err" -- "${cmd[@]}")
		a=$(sed -n 's/^racewatch: stats: armed_ms  *\([0-9]*\)$/\1/p' "$T/err")
		t=$(sed -n 's/^racewatch: stats: traced_ms  *\([0-9]*\)$/\1/p' "$T/err")
		share=$(awk -v a="${a:-}" -v t="${t:-}" 'BEGIN { if (a == "" || t == "" || t == 0) print "-"; else printf "%.3f", a / t }')
		st=$(f status "$res")
		[ "$tool" = native ] && cp "$T/out" "$T/native.out"
		[ "$st" = exit:0 ] && ! cmp -s "$T/out" "$T/native.out" && st="$st,output-differs"
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$tool" "$rep" "$(f wall "$res")" "$(f user "$res")" "$(f sys "$res")" "$st" "$share" >>"$D"
		say "  rep $rep  pingpong $(printf '%-7s' "$tool") wall $(f wall "$res")s  user $(f user "$res")s  sys $(f sys "$res")s  $st  armed share $share"
	done
done

med() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
col() { awk -F'\t' -v t="$1" -v c="$2" '$1 == t { print $c }' "$D" | med; }
cpu() { awk -F'\t' -v t="$1" '$1 == t { print $4 + $5 }' "$D" | med; }
# per repetition: tool / native of the same repetition, median
ratio() { awk -F'\t' -v t="$1" -v c="$2" 'NR == FNR { if ($1 == "native") n[$2] = (c == "cpu") ? $4 + $5 : $3; next }
	$1 == t && n[$2] > 0 { print ((c == "cpu") ? $4 + $5 : $3) / n[$2] }' "$D" "$D" | med; }
us=$("$RW" probe 2>/dev/null | sed -n 's/^context-switch: \([0-9.]*\) us.*/\1/p')

echo "## Armed but silent watchpoints: the armed-time duty cycle (issue 15)"
echo
echo "pingpong: $ARM_THREADS threads hand a token round a ring of pipes $ARM_ROUNDS times (two context switches per hand-over); \`-w rarely\` watches a variable only main writes, twice. racewatch runs \`--backend perf --stats -w rarely\` with \`RACEWATCH_DEBUG=hw-trust\` (real debug registers armed even where traps are not delivered); *armed all the time* adds \`armed-always\` (as before issue 15), *armed-time duty cycle* is the default (armed for a share of each 20 ms period so that switches × cost × slots stays within --overhead 5% of each thread's time). Per-switch cost of an armed slot (racewatch probe): ${us:-not measured} us. Median of $REPS run(s), alternated; CPU = user + sys of the program and the tracer (median of the sums; in parentheses the medians of each); ratios are per repetition against native."
echo
echo "| tool | wall | wall × native | CPU (user + sys) | CPU × native | armed share | status |"
echo "|---|---|---|---|---|---|---|"
for tool in native armed duty; do
	case $tool in native) l="native" ;; armed) l="racewatch perf, armed all the time" ;; duty) l="racewatch perf, armed-time duty cycle" ;; esac
	sts=$(awk -F'\t' -v t="$tool" '$1 == t { print $6 }' "$D" | sort | uniq -c | awk '{ printf "%s%s× %s", (NR > 1 ? ", " : ""), $1, $2 }')
	printf '| %s | %.3f s | %s | %.3f s (%.3f + %.3f) | %s | %s | %s |\n' "$l" "$(col "$tool" 3)" \
		"$(awk -v r="$(ratio "$tool" wall)" 'BEGIN { printf "%.2f×", r }')" "$(cpu "$tool")" "$(col "$tool" 4)" "$(col "$tool" 5)" \
		"$(awk -v r="$(ratio "$tool" cpu)" 'BEGIN { printf "%.2f×", r }')" "$(awk -F'\t' -v t="$tool" '$1 == t && $7 != "-" { print $7 }' "$D" | med)" "$sts"
done
echo
