/*
 * nowriters_write — re-creates, in user space:
 * rcu-shared-variable-marking.txt, KCSAN Marking Comparison, "Concurrent
 * Reads, Excluded Writes" (readers may run together, writers must not run
 * with anyone).
 *
 * Row "Writes", rest-of-kernel column: a = 1; ASSERT_EXCLUSIVE_WRITER(a);
 * The writers hold a_lock, the reader reads locklessly with READ_ONCE().
 * The seed: "In the rest-of-kernel case, the fact that normal C-language
 * writes are treated (by KCSAN) the same as is WRITE_ONCE() means that a
 * normal C-language write suffices."  Not under the RCU rules, which want
 * WRITE_ONCE() here (the RCU column is lockless_read.c).
 *
 * Expected:
 *   default   no report, exit 0.
 *   --strict  BUG: racewatch: data-race in read_a / write_a  (plain write vs
 *             marked read is no longer assumed atomic); exit 66.
 *
 * Usage: nowriters_write [ITERATIONS]
 */
#include "marking.h"

int a;
RACEWATCH_WATCH(a);
DEFINE_SPINLOCK(a_lock);

static long done;		/* loop iterations, all threads */

__named void write_a(int v)
{
	spin_lock(&a_lock);
	a = v;
	ASSERT_EXCLUSIVE_WRITER(a);
	spin_unlock(&a_lock);
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
	printf("nowriters_write: done %ld\n", done);
	return 0;
}
