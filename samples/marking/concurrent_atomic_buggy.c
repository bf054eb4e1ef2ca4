/*
 * concurrent_atomic_buggy — re-creates, in user space:
 * rcu-shared-variable-marking.txt, KCSAN Marking Comparison, "Concurrent
 * Accesses" (the access may race with any other access: no lock at all).
 *
 * Buggy twin of concurrent_atomic.c: add_a_plain() increments a with a plain
 * a++ (one unlocked "addl $1, a" on x86) next to the atomic RMW.  A plain
 * read-modify-write is a plain read and a plain write: the read half races
 * with the concurrent atomic write ("KCSAN would flag any concurrent plain
 * C-language reads", access-marking.txt, "Lockless Reads and Writes"), and
 * KCSAN never assumes a compound (read-modify-write) access atomic.
 *
 * Expected, default rules and --strict alike:
 *   BUG: racewatch: data-race in add_a / add_a_plain
 * exit 66.
 *
 * Usage: concurrent_atomic_buggy [ITERATIONS]
 */
#include "marking.h"

int a;
RACEWATCH_WATCH(a);

static long done;		/* loop iterations, all threads */

__named void add_a(void)
{
	RMW(&a);
}

__named void add_a_plain(void)
{
	a++;			/* BUG: should be RMW(&a) */
	barrier();
}

static void *adder(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++) {
		add_a();
		__atomic_fetch_add(&done, 1, __ATOMIC_RELAXED);
	}
	return arg;
}

static void *sloppy_adder(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++) {
		add_a_plain();
		__atomic_fetch_add(&done, 1, __ATOMIC_RELAXED);
	}
	return arg;
}

int main(int argc, char **argv)
{
	void *(*const threads[])(void *) = { adder, sloppy_adder };

	parse_iterations(argc, argv, 300);
	run_threads(2, threads);
	printf("concurrent_atomic_buggy: done %ld\n", done);
	return 0;
}
