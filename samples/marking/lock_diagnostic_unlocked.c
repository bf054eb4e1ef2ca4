/*
 * lock_diagnostic_unlocked — buggy twin of lock_diagnostic.c: a lockless
 * update of a lock-protected variable.  access-marking.txt, "Lock Protection
 * With Lockless Diagnostic Access": keeping the locked accesses plain means
 * "KCSAN can detect any erroneous lockless reads from or updates to foo"; and
 * rcu-shared-variable-marking.txt, "data_race() and __no_kcsan": with
 * data_race() diagnostics and plain locked accesses "KCSAN will complain about
 * any buggy lockless accesses, even if they are marked with READ_ONCE() or
 * WRITE_ONCE()".  reset_foo() is such a buggy update: WRITE_ONCE, no lock.
 *
 * Expected:
 *   default   BUG: racewatch: data-race in read_foo / reset_foo   (marked
 *             write vs plain read), exit 66.  reset_foo vs update_foo is
 *             not reported: a plain aligned word write is assumed atomic,
 *             and against a marked write that is no race.
 *   --strict  the same, and also
 *             BUG: racewatch: data-race in reset_foo / update_foo.
 * The data_race() diagnostic read is never reported.
 *
 * Usage: lock_diagnostic_unlocked [ITERATIONS]
 */
#include "marking.h"

int foo;
RACEWATCH_WATCH(foo);
DEFINE_RWLOCK(foo_rwlock);

static long done_updates, done_reads, done_resets;
int diag_last;					/* the "pr_info" output: global, so kept */

static void do_something(int v) { (void)v; barrier(); }
static void do_something_else(void) { barrier(); }

__named void update_foo(int newval)
{
	write_lock(&foo_rwlock);
	foo = newval;
	do_something(newval);
	write_unlock(&foo_rwlock);
}

__named int read_foo(void)
{
	int ret;

	read_lock(&foo_rwlock);
	do_something_else();
	ret = foo;
	read_unlock(&foo_rwlock);
	return ret;
}

__named void reset_foo(void)
{
	WRITE_ONCE(foo, -1);	/* BUG: needs write_lock(&foo_rwlock) */
	diag_last = data_race(foo);	/* diagnostic: never reported */
}

static void *updater(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++, done_updates++)
		update_foo((int)i + 1);
	return arg;
}

static void *reader(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++, done_reads++)
		(void)read_foo();
	return arg;
}

static void *resetter(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++, done_resets++)
		reset_foo();
	return arg;
}

int main(int argc, char **argv)
{
	void *(*const threads[])(void *) = { updater, reader, resetter };

	parse_iterations(argc, argv, 300);
	run_threads(3, threads);
	printf("lock_diagnostic_unlocked: done updates=%ld reads=%ld resets=%ld\n",
	       done_updates, done_reads, done_resets);
	return 0;
}
