#!/bin/sh
# startup.sh [DIR]: start-up cost of resolving one -w name in a 5.6 MB
# program with full debug info (bench/genbig.sh builds it into DIR,
# default build/bench-big; nothing is committed).  Prints one row per
# way of asking, the median of REPS (default 5) runs of elapsed seconds
# and peak RSS, from /usr/bin/time -f '%e %M':
#   vars-guard     racewatch vars BIG big_g5: open + index, in the guard's child
#   vars-inproc    the same indexed in racewatch's own process (the old
#                  way: RACEWATCH_TEST_DWARF=noguard)
#   run            racewatch run -q -w big_g5 -- BIG (start, trace, end)
#   native         BIG alone
#   gdb            gdb -batch -ex 'print &big_g5' BIG: one address
# Issue 15's target for start-up is <= 50 ms and <= 10 MB.
set -eu
cd "$(dirname "$0")/.."
dir=${1:-build/bench-big}
reps=${REPS:-5}
RW=${RW:-build/racewatch}
[ -x "$dir/big" ] || ./bench/genbig.sh "$dir" >/dev/null
big=$dir/big

# row NAME CMD...: the median elapsed seconds and peak RSS of REPS runs.
row() {
	name=$1; shift
	i=0
	: >"$dir/times"
	while [ $i -lt "$reps" ]; do
		/usr/bin/time -a -o "$dir/times" -f '%e %M' "$@" >/dev/null 2>&1 || true
		i=$((i + 1))
	done
	sort -n "$dir/times" | awk -v n="$name" '{ e[NR] = $1; m[NR] = $2 }
		END { k = int((NR + 1) / 2); printf "%-12s %6.3f s %8d KB\n", n, e[k], m[k] }'
}

info=$(readelf -S -W "$big" | sed -n 's/.*\.debug_info *PROGBITS *[0-9a-f]* [0-9a-f]* \([0-9a-f]*\).*/\1/p')
echo "startup: $(stat -c %s "$big") bytes, .debug_info $(printf '%d' "0x$info") bytes, median of $reps"
row vars-guard "$RW" vars "$big" big_g5
row vars-inproc env RACEWATCH_TEST_DWARF=noguard "$RW" vars "$big" big_g5
row run "$RW" run -q -w big_g5 -- "$big"
row native "$big"
if command -v gdb >/dev/null; then
	row gdb gdb -nx -batch -ex 'print &big_g5' "$big"
fi
