/*
 * symtest — variables of many shapes for tests/unit/test_symbols.c (the
 * symbol index, the type walker and the -w expression resolver).  It races
 * on nothing: one thread, no outcome to report under the tracer.
 *
 * The types live in symtest.h, which the test includes too.  Lines the
 * test needs are tagged with "symtest:" marker comments, never numbers:
 *
 *   symtest:scale-begin / symtest:scale-end   around scale()
 *   symtest:mix-begin / symtest:mix-end       around the always-inline mix()
 *   symtest:call-mix                          the line in combine() calling mix()
 *
 * Initial values the test reads from a stopped process: g_buf "symtest",
 * g_long 2, foo 10, foo2 20.
 *
 * Usage: symtest [N] — prints one deterministic checksum line, exits 0.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "symtest.h"

int g_int = 1;
long g_long = 2;
char g_buf[16] = "symtest";
struct outer g_outer;
struct point g_points[4];
int g_matrix[3][4];
volatile int g_volatile;
_Atomic int g_atomic;
__thread int g_tls;
int *g_ptr = &g_int;
enum color g_color = GREEN;
vpoint_t g_vpoint;
const char *g_name = "symtest";

/* Near-misses for "did you mean": `fooo` must suggest both. */
int foo = 10;
int foo2 = 20;

static int file_static = 3;

/* A static local: watched as counter::count. */
__attribute__((noinline)) static int counter(void)
{
	static int count;

	return ++count;
}

/* symtest:scale-begin */
__attribute__((noinline)) int scale(int v)
{
	int r = v * g_int;

	r += (int)g_long;
	g_outer.tail += r;
	return r;
}
/* symtest:scale-end */

/* Inlined even at -O1, so the binaries have a DW_TAG_inlined_subroutine. */
/* symtest:mix-begin */
static inline __attribute__((always_inline)) int mix(int a, int b)
{
	return a * 31 + b + g_points[a & 3].y;
}
/* symtest:mix-end */

__attribute__((noinline)) int combine(int a, int b)
{
	int m = mix(a, b);	/* symtest:call-mix */

	g_points[b & 3].x = m;
	return m ^ g_atomic;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 3;
	long sum = 0;

	file_static += argc;
	g_tls = n;
	for (int i = 0; i < n; i++) {
		sum += counter();
		sum += scale(i);
		sum += combine(i, n - i);
		g_matrix[i % 3][i % 4] += i;
		g_outer.in.vals[i % 3] += i;
		g_outer.flag = i & 7;
		g_outer.mode = (g_outer.mode + 1) & 31;
		g_outer.wide += i;
		g_volatile += i;
		atomic_fetch_add(&g_atomic, 1);
		g_vpoint.x = i;
	}
	sum += file_static + g_tls + foo + foo2 + *g_ptr + g_color;
	sum += (long)strlen(g_buf) + (long)strlen(g_name);
	printf("symtest: checksum %ld\n", sum);
	return 0;
}
