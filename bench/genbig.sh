#!/bin/sh
# genbig.sh DIR [N]: write DIR/big_*.c, a generated C program of N
# (default 6000) structs, globals and functions in 8 compilation units,
# and build it with -g -O1 into DIR/big: a ~5 MB binary with full debug
# info (about 2.5 MB of .debug_info), for bench/startup.sh.  Nothing it
# writes is committed.  big_hot is the one racy global (two threads add
# to it); the others are touched once by main's thread.
set -eu
dir=$1
n=${2:-6000}
units=8
mkdir -p "$dir"
awk -v n="$n" -v units="$units" -v dir="$dir" 'BEGIN {
	main = dir "/big_main.c"
	print "#include <pthread.h>\n#include <stdio.h>" >main
	for (i = 0; i < n; i++) {
		f = dir "/big_" (i % units) ".c"
		printf "struct big_s%d { int a%d; long b; char name[%d]; struct { short x, y; } pos[%d]; double d; };\n", i, i, 8 + i % 24, 1 + i % 5 >f
		printf "struct big_s%d big_g%d;\nstatic int big_st%d[%d];\n", i, i, i, 1 + i % 7 >f
		printf "__attribute__((noinline)) long big_f%d(struct big_s%d *p, int k)\n{\n", i, i >f
		printf "\tlong acc = k;\n\tfor (int j = 0; j < k; j++) {\n\t\tacc += p->a%d * j + p->pos[j %% %d].x;\n", i, 1 + i % 5 >f
		printf "\t\tbig_st%d[j %% %d] += (int)acc;\n\t\tif (acc > %d) acc -= p->b;\n\t}\n", i, 1 + i % 7, 1000 + i >f
		printf "\tp->d += acc;\n\treturn acc + big_st%d[0];\n}\n", i >f
		printf "struct big_s%d;\nextern struct big_s%d big_g%d;\nlong big_f%d(struct big_s%d *, int);\n", i, i, i, i, i >main
	}
	print "long big_hot;\nstatic void *big_worker(void *a)\n{\n\tfor (int i = 0; i < 100000; i++)\n\t\tbig_hot++;\n\treturn a;\n}" >main
	print "int main(int argc, char **argv)\n{\n\tlong s = 0;\n\tpthread_t t[2];\n\t(void)argv;" >main
	for (i = 0; i < n; i++)
		printf "\ts += big_f%d(&big_g%d, argc);\n", i, i >main
	print "\tfor (int i = 0; i < 2; i++)\n\t\tpthread_create(&t[i], NULL, big_worker, NULL);" >main
	print "\tfor (int i = 0; i < 2; i++)\n\t\tpthread_join(t[i], NULL);" >main
	print "\tprintf(\"big: done %ld\\n\", s + big_hot / 1000000);\n\treturn 0;\n}" >main
}'
ls "$dir"/big_*.c | xargs -P "$(nproc)" -I{} sh -c '${CC:-cc} -g -O1 -c -o "${1%.c}.o" "$1"' _ {}
${CC:-cc} -pthread -o "$dir/big" "$dir"/big_*.o
