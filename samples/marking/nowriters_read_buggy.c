/*
 * nowriters_read_buggy — re-creates, in user space:
 * rcu-shared-variable-marking.txt, KCSAN Marking Comparison, "Concurrent
 * Reads, Excluded Writes" (readers may run together, writers must not run
 * with anyone).
 *
 * Buggy twin of nowriters_read.c: write_a_unlocked() writes a without
 * write-holding a_lock.  A plain read documents that no write runs
 * concurrently (rcu-shared-variable-marking.txt, "Plain C-Language Reads and
 * Writes": "This arrangement enables KCSAN to report lockless (and thus
 * buggy) updates to that variable").
 *
 * Expected, default rules and --strict alike:
 *   BUG: racewatch: data-race in read_a / write_a_unlocked
 * exit 66.
 *
 * Usage: nowriters_read_buggy [ITERATIONS]
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

__named void write_a_unlocked(int v)
{
	a = v;			/* BUG: a_lock not write-held */
	barrier();
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

static void *sloppy_writer(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++) {
		write_a_unlocked((int)i);
		__atomic_fetch_add(&done, 1, __ATOMIC_RELAXED);
	}
	return arg;
}

int main(int argc, char **argv)
{
	void *(*const threads[])(void *) = { reader, reader, sloppy_writer };

	parse_iterations(argc, argv, 300);
	run_threads(3, threads);
	printf("nowriters_read_buggy: done %ld\n", done);
	return 0;
}
