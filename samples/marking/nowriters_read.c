/*
 * nowriters_read — re-creates, in user space:
 * rcu-shared-variable-marking.txt, KCSAN Marking Comparison, "Concurrent
 * Reads, Excluded Writes" (readers may run together, writers must not run
 * with anyone).
 *
 * Row "Reads", both columns: r1 = a;  -- readers read-hold a_lock, the writer
 * write-holds it, so a plain read suffices.
 *
 * Expected: no report, exit 0, default rules and --strict.
 * Buggy twin: nowriters_read_buggy.c.
 *
 * Usage: nowriters_read [ITERATIONS]
 */
#include "marking.h"

int a;
RACEWATCH_WATCH(a);
DEFINE_RWLOCK(a_lock);

static long done;		/* loop iterations, all threads */

__named int read_a(void)
{
	int r1;

	read_lock(&a_lock);
	r1 = a;
	read_unlock(&a_lock);
	return r1;
}

__named void write_a(int v)
{
	write_lock(&a_lock);
	a = v;
	write_unlock(&a_lock);
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

static void *writer(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++) {
		write_a((int)i);
		__atomic_fetch_add(&done, 1, __ATOMIC_RELAXED);
	}
	return arg;
}

int main(int argc, char **argv)
{
	void *(*const threads[])(void *) = { reader, reader, writer };

	parse_iterations(argc, argv, 300);
	run_threads(3, threads);
	printf("nowriters_read: done %ld\n", done);
	return 0;
}
