/*
 * lockless_read_buggy — buggy twin of lockless_read.c (access-marking.txt,
 * "Lock-Protected Writes With Lockless Reads"): one update path forgets
 * foo_lock.  Every access is still marked, so no data race is reported; it
 * is the ASSERT_EXCLUSIVE_WRITER() in update_foo() that catches the writer,
 * as the seed intends: "The purpose of the ASSERT_EXCLUSIVE_WRITER() is to
 * allow KCSAN to check for a buggy concurrent lockless write."
 *
 * Expected, default rules and --strict alike:
 *   BUG: racewatch: assert: race in update_foo / update_foo_unlocked
 * and never a plain "data-race" report; exit 66.
 *
 * Usage: lockless_read_buggy [ITERATIONS]
 */
#include "marking.h"

int foo;
RACEWATCH_WATCH(foo);
DEFINE_SPINLOCK(foo_lock);

static long done_updates, done_unlocked, done_reads;
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

__named void update_foo_unlocked(int newval)
{
	WRITE_ONCE(foo, newval);	/* BUG: foo_lock not held */
	do_something(newval);
}

__named int read_foo(void)
{
	do_something_else();
	return READ_ONCE(foo);
}

static void *updater(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++, done_updates++)
		update_foo((int)i + 1);
	return arg;
}

static void *sloppy_updater(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++, done_unlocked++)
		update_foo_unlocked(-(int)i);
	return arg;
}

static void *reader(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++, done_reads++)
		read_sum += read_foo();
	return arg;
}

int main(int argc, char **argv)
{
	void *(*const threads[])(void *) = { updater, sloppy_updater, reader };

	parse_iterations(argc, argv, 300);
	run_threads(3, threads);
	printf("lockless_read_buggy: done updates=%ld unlocked=%ld reads=%ld\n",
	       done_updates, done_unlocked, done_reads);
	return 0;
}
