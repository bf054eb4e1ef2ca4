/*
 * lockless_read — access-marking.txt, EXAMPLES, "Lock-Protected Writes With
 * Lockless Reads"; also rcu-shared-variable-marking.txt, KCSAN Marking
 * Comparison, "Concurrent Reads, Excluded Writes / Writes", RCU column:
 * WRITE_ONCE(a, 1); ASSERT_EXCLUSIVE_WRITER(a);
 *
 * foo is updated only with foo_lock held, by two updater threads, and read
 * locklessly: every access is marked, and ASSERT_EXCLUSIVE_WRITER(foo) lets
 * racewatch check that no other writer runs concurrently.
 *
 * Expected: no report, exit 0, default rules and --strict (marked vs marked
 * is never a race; the assertion tolerates the concurrent READ_ONCE reads).
 * Buggy twin: lockless_read_buggy.c.
 *
 * Usage: lockless_read [ITERATIONS]
 */
#include "marking.h"

int foo;
RACEWATCH_WATCH(foo);
DEFINE_SPINLOCK(foo_lock);

static long done_updates[2], done_reads;
static long read_sum;

static void do_something(int v) { (void)v; barrier(); }
static void do_something_else(void) { barrier(); }

__named void update_foo(int newval)
{
	spin_lock(&foo_lock);
	WRITE_ONCE(foo, newval);
	ASSERT_EXCLUSIVE_WRITER(foo);
	do_something(newval);
	spin_unlock(&foo_lock);
}

__named int read_foo(void)
{
	do_something_else();
	return READ_ONCE(foo);
}

static void *updater(void *arg)
{
	long me = (long)arg;

	wait_start();
	for (long i = 0; i < iterations; i++, done_updates[me]++)
		update_foo((int)i + 1);
	return NULL;
}

static void *updater0(void *arg) { (void)arg; return updater((void *)0L); }
static void *updater1(void *arg) { (void)arg; return updater((void *)1L); }

static void *reader(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++, done_reads++)
		read_sum += read_foo();
	return arg;
}

int main(int argc, char **argv)
{
	void *(*const threads[])(void *) = { updater0, updater1, reader };

	parse_iterations(argc, argv, 300);
	run_threads(3, threads);
	printf("lockless_read: done foo=%d updates=%ld+%ld reads=%ld\n",
	       foo, done_updates[0], done_updates[1], done_reads);
	return 0;
}
