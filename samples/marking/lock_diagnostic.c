/*
 * lock_diagnostic — access-marking.txt, EXAMPLES, "Lock Protection With
 * Lockless Diagnostic Access".
 *
 * foo is written only with foo_rwlock write-held (update_foo) and read with
 * it read-held (read_foo): plain accesses, so racewatch can catch any access
 * that fails to take the lock.  A diagnostic thread reads foo locklessly in
 * the seed's three ways, none of which may be reported:
 *   read_foo_diagnostic          data_race(foo)
 *   read_foo_diagnostic_once     data_race(READ_ONCE(foo))
 *   read_foo_diagnostic_nokcsan  __no_racewatch function, READ_ONCE(foo)
 *
 * Expected: no report, exit 0, under the default rules and under --strict
 * (the locked accesses are never concurrent with a write; data_race() and
 * __no_racewatch are never reported in either rule set).
 * Buggy twins: lock_diagnostic_plain.c, lock_diagnostic_unlocked.c.
 *
 * Usage: lock_diagnostic [ITERATIONS]
 */
#include "marking.h"

int foo;
RACEWATCH_WATCH(foo);
DEFINE_RWLOCK(foo_rwlock);

static long done_updates, done_reads, done_diag;	/* each one thread's own */
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
	diag_last = data_race(foo);		/* pr_info("...%d", data_race(foo)) */
}

__named void read_foo_diagnostic_once(void)
{
	diag_last = data_race(READ_ONCE(foo));
}

void __no_racewatch read_foo_diagnostic_nokcsan(void)
{
	diag_last = READ_ONCE(foo);
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
	for (long i = 0; i < iterations; i++, done_diag++) {
		switch (i % 3) {
		case 0: read_foo_diagnostic(); break;
		case 1: read_foo_diagnostic_once(); break;
		default: read_foo_diagnostic_nokcsan(); break;
		}
	}
	return arg;
}

int main(int argc, char **argv)
{
	void *(*const threads[])(void *) = { updater, reader, diagnostics };

	parse_iterations(argc, argv, 300);
	run_threads(3, threads);
	printf("lock_diagnostic: done foo=%d updates=%ld reads=%ld diagnostics=%ld\n",
	       foo, done_updates, done_reads, done_diag);
	return 0;
}
