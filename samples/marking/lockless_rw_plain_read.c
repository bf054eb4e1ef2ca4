/*
 * lockless_rw_plain_read — buggy twin of lockless_rw.c (access-marking.txt,
 * "Lockless Reads and Writes"): read_foo() reads foo with a plain load while
 * update_foo() xchg()s it.  The seed: "KCSAN would flag any concurrent plain
 * C-language reads from foo".
 *
 * Expected, default rules and --strict alike:
 *   BUG: racewatch: data-race in read_foo / update_foo
 * exit 66.
 *
 * Usage: lockless_rw_plain_read [ITERATIONS]
 */
#include "marking.h"

int foo;
RACEWATCH_WATCH(foo);

static long done_updates, done_reads;
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
	int v;

	do_something_else();
	v = foo;		/* BUG: should be READ_ONCE(foo) */
	barrier();
	return v;
}

static void *updater(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++, done_updates++)
		(void)update_foo((int)i);
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
	void *(*const threads[])(void *) = { updater, reader };

	parse_iterations(argc, argv, 300);
	run_threads(2, threads);
	printf("lockless_rw_plain_read: done updates=%ld reads=%ld\n",
	       done_updates, done_reads);
	return 0;
}
