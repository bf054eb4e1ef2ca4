#!/bin/sh
# startup.sh [DIR]: start-up cost of resolving one -w name in a 5.6 MB
# program with full debug info (bench/genbig.sh builds it into DIR,
# default build/bench-big; nothing is committed).  Prints one row per
# way of asking, the median of REPS (default 5) runs of elapsed seconds
# and peak RSS, from /usr/bin/time -f '%e %M':
#   vars           racewatch vars BIG big_g5: the ELF symbols, the unit
#                  directory, then big_g5's unit indexed (in the guard's
#                  child) and the line of the code that takes its address
#   vars-inproc    the same, the unit indexed in racewatch's own process
#                  (RACEWATCH_TEST_DWARF=noguard)
#   run-w          racewatch run -q -w big_g5 -- BIG (start, trace, end)
#   run-sample     racewatch run -q -- BIG: no -w, sampling (this row
#                  includes BIG's run under sampling, not only start-up)
#   *-eager        the row before with every unit indexed at open, as
#                  before issue 15 (RACEWATCH_TEST_DWARF=eager)
#   native         BIG alone
#   gdb            gdb -batch -ex 'print &big_g5' BIG: one address
# Columns: elapsed s, user + system CPU s, peak RSS (of racewatch or of
# any child it waited for: the guard's, the program's).
# Then build/bench/symopen's steps (bench/symopen.c): CPU and RSS of
# opening BIG, finding big_g5, naming a pc in big_f5; and of libc's
# separate debug file (libc6-dbg) when a report first needs a libc frame.
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
		/usr/bin/time -a -o "$dir/times" -f '%e %U %S %M' "$@" >/dev/null 2>&1 || true
		i=$((i + 1))
	done
	sort -n "$dir/times" | awk -v n="$name" '{ e[NR] = $1; c[NR] = $2 + $3; m[NR] = $4 }
		END { k = int((NR + 1) / 2); printf "%-17s %6.3f s %6.3f s cpu %8d KB\n", n, e[k], c[k], m[k] }'
}

info=$(readelf -S -W "$big" | sed -n 's/.*\.debug_info *PROGBITS *[0-9a-f]* [0-9a-f]* \([0-9a-f]*\).*/\1/p')
echo "startup: $(stat -c %s "$big") bytes, .debug_info $(printf '%d' "0x$info") bytes, median of $reps"
E=RACEWATCH_TEST_DWARF=eager
row vars "$RW" vars "$big" big_g5
row vars-eager env $E "$RW" vars "$big" big_g5
row vars-inproc env RACEWATCH_TEST_DWARF=noguard "$RW" vars "$big" big_g5
row run-w "$RW" run -q -w big_g5 -- "$big"
row run-w-eager env $E "$RW" run -q -w big_g5 -- "$big"
row run-sample "$RW" run -q -- "$big"
row run-sample-eager env $E "$RW" run -q -- "$big"
row native "$big"
if command -v gdb >/dev/null; then
	row gdb gdb -nx -batch -ex 'print &big_g5' "$big"
fi

# The steps, one run each (CPU, so less at the mercy of a loaded machine).
make -s "${O:-build}/bench/symopen" >/dev/null
so=${O:-build}/bench/symopen
pc=$(nm "$big" | awk '$3 == "big_f5" { print "0x" $1 }')
echo "symopen big big_g5 $pc:        $("$so" "$big" big_g5 "$pc")"
echo "symopen big, eager:              $(env $E "$so" "$big" big_g5 "$pc")"
libc=$(ldd "$big" | awk '/libc\.so/ { print $3 }')
lpc=$(nm -D "$libc" 2>/dev/null | awk '$3 == "malloc" || $3 ~ /^malloc@/ { print "0x" $1; exit }')
if [ -n "$libc" ] && [ -n "$lpc" ]; then
	echo "symopen libc - $lpc (malloc):  $("$so" "$libc" - "$lpc")"
	echo "symopen libc, eager:             $(env $E "$so" "$libc" - "$lpc")"
fi
