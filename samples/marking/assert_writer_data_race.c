/*
 * assert_writer_data_race — access-marking.txt, ACCESS-DOCUMENTATION
 * OPTIONS: "ASSERT_EXCLUSIVE_WRITER(foo) tells KCSAN that although it is OK
 * for there to be concurrent reads from foo from other CPUs, it is an error
 * for some other CPU to be concurrently writing to foo, even if that
 * concurrent write is marked with data_race() or WRITE_ONCE()", and: "KCSAN
 * will call out data races involving either ASSERT_EXCLUSIVE_ACCESS() or
 * ASSERT_EXCLUSIVE_WRITER() on the one hand and data_race() writes on the
 * other", though it "will not report the location of these data_race()
 * writes".
 *
 * update_foo() is lockless_read.c's locked writer (WRITE_ONCE +
 * ASSERT_EXCLUSIVE_WRITER); reset_foo() is a buggy lockless writer that
 * hides behind data_race(), as if foo only fed an error-tolerant heuristic.
 * data_race() silences the data race, not the assertion.  The reader's
 * READ_ONCE() is never reported.
 *
 * Expected, default rules and --strict alike: an assertion report naming
 * update_foo ("BUG: racewatch: assert: race in ... update_foo"; the other
 * side may be reset_foo or, as in KCSAN, an unnamed origin); never a report
 * naming read_foo; exit 66.
 *
 * Usage: assert_writer_data_race [ITERATIONS]
 */
#include "marking.h"

int foo;
RACEWATCH_WATCH(foo);
DEFINE_SPINLOCK(foo_lock);

static long done;

static void do_something(int v) { (void)v; barrier(); }

__named void update_foo(int newval)
{
	spin_lock(&foo_lock);
	WRITE_ONCE(foo, newval);
	ASSERT_EXCLUSIVE_WRITER(foo);
	do_something(newval);
	spin_unlock(&foo_lock);
}

__named void reset_foo(void)
{
	data_race(foo = 0);	/* BUG: a lockless write, hidden by data_race() */
	barrier();
}

__named int read_foo(void)
{
	return READ_ONCE(foo);
}

static void *updater(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++, __atomic_fetch_add(&done, 1, __ATOMIC_RELAXED))
		update_foo((int)i + 1);
	return arg;
}

static void *resetter(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++, __atomic_fetch_add(&done, 1, __ATOMIC_RELAXED))
		reset_foo();
	return arg;
}

static void *reader(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++, __atomic_fetch_add(&done, 1, __ATOMIC_RELAXED))
		keep(read_foo());
	return arg;
}

int main(int argc, char **argv)
{
	void *(*const threads[])(void *) = { updater, resetter, reader };

	parse_iterations(argc, argv, 300);
	run_threads(3, threads);
	printf("assert_writer_data_race: done %ld\n", done);
	return 0;
}
