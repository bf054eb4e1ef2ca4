/*
 * lockless_rw_plain_write — buggy twin of lockless_rw.c (access-marking.txt,
 * "Lockless Reads and Writes"): reset_foo() stores to foo with a plain write
 * while update_foo() xchg()s it and read_foo() READ_ONCE()s it.  The seed:
 * "given CONFIG_KCSAN_ASSUME_PLAIN_WRITES_ATOMIC=n, also any concurrent
 * plain C-language writes to foo" are flagged; --strict is that setting.
 *
 * Expected:
 *   default   no report, exit 0: a plain aligned write of an int is assumed
 *             atomic, and against marked accesses that is no race.
 *   --strict  BUG: racewatch: data-race in read_foo / reset_foo
 *             BUG: racewatch: data-race in reset_foo / update_foo
 *             exit 66.
 *
 * Usage: lockless_rw_plain_write [ITERATIONS]
 */
#include "marking.h"

int foo;
RACEWATCH_WATCH(foo);

static long done_updates, done_reads, done_resets;
static long read_sum;

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

__named void reset_foo(int v)
{
	foo = v;		/* BUG (under strict rules): should be WRITE_ONCE */
	barrier();
}

static void *updater(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++, done_updates++)
		(void)update_foo((int)i + 1);
	return arg;
}

static void *reader(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++, done_reads++)
		read_sum += read_foo();
	return arg;
}

static void *resetter(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++, done_resets++)
		reset_foo(-(int)i - 1);
	return arg;
}

int main(int argc, char **argv)
{
	void *(*const threads[])(void *) = { updater, reader, resetter };

	parse_iterations(argc, argv, 300);
	run_threads(3, threads);
	printf("lockless_rw_plain_write: done updates=%ld reads=%ld resets=%ld\n",
	       done_updates, done_reads, done_resets);
	return 0;
}
