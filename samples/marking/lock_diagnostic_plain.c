/*
 * lock_diagnostic_plain — buggy twin of lock_diagnostic.c: access-marking.txt,
 * "Lock Protection With Lockless Diagnostic Access", with the diagnostic read
 * left plain.  The seed: "it is important to use data_race() for the
 * diagnostic reads because otherwise KCSAN would give false-positive warnings
 * about these diagnostic reads."
 *
 * Expected, default rules and --strict alike:
 *   BUG: racewatch: data-race in read_foo_diagnostic / update_foo
 * (plain lockless read against the plain write under the write lock), exit 66.
 * read_foo (read-locked) is never reported.
 *
 * Usage: lock_diagnostic_plain [ITERATIONS]
 */
#include "marking.h"

int foo;
RACEWATCH_WATCH(foo);
DEFINE_RWLOCK(foo_rwlock);

static long done_updates, done_reads, done_diag;
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

__named void read_foo_diagnostic(void)
{
	diag_last = foo;	/* BUG: should be data_race(foo) */
	barrier();
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

static void *diagnostics(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++, done_diag++)
		read_foo_diagnostic();
	return arg;
}

int main(int argc, char **argv)
{
	void *(*const threads[])(void *) = { updater, reader, diagnostics };

	parse_iterations(argc, argv, 300);
	run_threads(3, threads);
	printf("lock_diagnostic_plain: done foo=%d updates=%ld reads=%ld diagnostics=%ld\n",
	       foo, done_updates, done_reads, done_diag);
	return 0;
}
