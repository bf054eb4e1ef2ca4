/*
 * nowriters_same_value — re-creates, in user space:
 * rcu-shared-variable-marking.txt, KCSAN Marking Comparison, "Concurrent
 * Reads, Excluded Writes" (readers may run together, writers must not run
 * with anyone).
 *
 * The section's note: "the rest-of-kernel KCSAN settings will forgive a data
 * race with a write when that write happens to write the same value. For
 * example, if the value of x is already 5, then KCSAN will refrain from
 * complaining when there is a write of that same value of 5. In contrast,
 * the RCU settings cause KCSAN to complain in this same-value-written case."
 * Readers read a (always 5) under read_lock; reset_a() stores 5 again without
 * the lock.
 *
 * Expected:
 *   default   no report (the write never changes the value), exit 0.
 *   --strict  BUG: racewatch: data-race in read_a / reset_a; exit 66.
 *
 * Usage: nowriters_same_value [ITERATIONS]
 */
#include "marking.h"

int a = 5;
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

__named void reset_a(void)
{
	a = 5;			/* BUG: a_lock not write-held (same value) */
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

static void *resetter(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++) {
		reset_a();
		__atomic_fetch_add(&done, 1, __ATOMIC_RELAXED);
	}
	return arg;
}

int main(int argc, char **argv)
{
	void *(*const threads[])(void *) = { reader, reader, resetter };

	parse_iterations(argc, argv, 300);
	run_threads(3, threads);
	printf("nowriters_same_value: done %ld\n", done);
	return 0;
}
