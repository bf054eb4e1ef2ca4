/*
 * concurrent_write — re-creates, in user space:
 * rcu-shared-variable-marking.txt, KCSAN Marking Comparison, "Concurrent
 * Accesses" (the access may race with any other access: no lock at all).
 *
 * Row "Writes", rest-of-kernel column: a = 1;  Two lockless writers with
 * plain writes, a READ_ONCE() reader.  The seed: "the fact that normal
 * C-language writes are treated the same as WRITE_ONCE() means that a normal
 * C-language write suffices"; access-marking.txt: KCSAN by default refrains
 * "from flagging plain C-language stores: a. No matter what."  Under the RCU
 * rules this is a race ("In the RCU case, WRITE_ONCE() is used"):
 * concurrent_write_rcu.c is that column.
 *
 * Expected:
 *   default   no report, exit 0 (plain aligned int writes are assumed
 *             atomic, against the reader and against each other).
 *   --strict  BUG: racewatch: data-race in read_a / write_a; exit 66.
 *
 * Usage: concurrent_write [ITERATIONS]
 */
#include "marking.h"

int a;
RACEWATCH_WATCH(a);

static long done;		/* loop iterations, all threads */

__named void write_a(int v)
{
	a = v;
	barrier();
}

__named int read_a(void)
{
	return READ_ONCE(a);
}

static void *writer(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++) {
		write_a((int)i);
		__atomic_fetch_add(&done, 1, __ATOMIC_RELAXED);
	}
	return arg;
}

static void *reader(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++) {
		keep(read_a());
		__atomic_fetch_add(&done, 1, __ATOMIC_RELAXED);
	}
	return arg;
}

int main(int argc, char **argv)
{
	void *(*const threads[])(void *) = { writer, writer, reader };

	parse_iterations(argc, argv, 300);
	run_threads(3, threads);
	printf("concurrent_write: done %ld\n", done);
	return 0;
}
