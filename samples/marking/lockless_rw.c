/*
 * lockless_rw — access-marking.txt, EXAMPLES, "Lockless Reads and Writes":
 * foo is read and updated locklessly, so every access is marked: xchg() in
 * update_foo(), READ_ONCE() in read_foo().  Two updaters, one reader.
 *
 * Expected: no report, exit 0, default rules and --strict (atomic and
 * marked accesses never race with each other).
 * Buggy twins: lockless_rw_plain_read.c ("KCSAN would flag any concurrent
 * plain C-language reads from foo") and lockless_rw_plain_write.c ("and
 * given CONFIG_KCSAN_ASSUME_PLAIN_WRITES_ATOMIC=n, also any concurrent plain
 * C-language writes to foo").
 *
 * Usage: lockless_rw [ITERATIONS]
 */
#include "marking.h"

int foo;
RACEWATCH_WATCH(foo);

static long done_updates[2], done_reads;
static long xchg_sum, read_sum;

static void do_something(int v) { (void)v; barrier(); }
static void do_something_else(void) { barrier(); }

__named int update_foo(int newval)
{
	int ret;

	ret = xchg(&foo, newval);
	do_something(newval);
	return ret;
}

__named int read_foo(void)
{
	do_something_else();
	return READ_ONCE(foo);
}

static void *updater(long me)
{
	wait_start();
	for (long i = 0; i < iterations; i++, done_updates[me]++)
		__atomic_fetch_add(&xchg_sum, update_foo(1), __ATOMIC_RELAXED);
	return NULL;
}

static void *updater0(void *arg) { (void)arg; return updater(0); }
static void *updater1(void *arg) { (void)arg; return updater(1); }

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
	/* Every xchg but the first returned a 1: the sum is exact. */
	printf("lockless_rw: done foo=%d updates=%ld+%ld reads=%ld xchg_sum=%ld\n",
	       foo, done_updates[0], done_updates[1], done_reads, xchg_sum);
	return 0;
}
