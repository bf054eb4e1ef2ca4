/*
 * exclusive_read_diagnostic — re-creates, in user space:
 * rcu-shared-variable-marking.txt, KCSAN Marking Comparison, "Exclusive
 * Accesses" (the access is meant to be the only access to the object: here
 * a_lock enforces that).
 *
 * exclusive_read.c (r1 = a; ASSERT_EXCLUSIVE_ACCESS(a); under a_lock) plus a
 * lockless diagnostic read, data_race(a), as in access-marking.txt "Lock
 * Protection With Lockless Diagnostic Access".  The assertion catches marked
 * and plain accesses alike, and data_race() *writes* ("KCSAN will call out
 * data races involving either ASSERT_EXCLUSIVE_ACCESS() or
 * ASSERT_EXCLUSIVE_WRITER() on the one hand and data_race() writes on the
 * other"), but a data_race() read is one of the accesses "data_race() causes
 * KCSAN to ignore" (rcu-shared-variable-marking.txt, "data_race() and
 * __no_kcsan"): a diagnostic read does not violate the assertion.
 *
 * Expected: no report, exit 0, default rules and --strict.
 *
 * Usage: exclusive_read_diagnostic [ITERATIONS]
 */
#include "marking.h"

int a;
RACEWATCH_WATCH(a);
DEFINE_SPINLOCK(a_lock);
int diag_a;			/* the "pr_info" output: global, so kept */

static long done;		/* loop iterations, all threads */

__named int check_a(void)
{
	int r1;

	spin_lock(&a_lock);
	r1 = a;
	ASSERT_EXCLUSIVE_ACCESS(a);
	spin_unlock(&a_lock);
	return r1;
}

__named void set_a(int v)
{
	spin_lock(&a_lock);
	a = v;
	ASSERT_EXCLUSIVE_ACCESS(a);
	spin_unlock(&a_lock);
}

__named void show_a(void)
{
	diag_a = data_race(a);	/* pr_info("a=%d", data_race(a)) */
}

static void *checker(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++) {
		keep(check_a());
		__atomic_fetch_add(&done, 1, __ATOMIC_RELAXED);
	}
	return arg;
}

static void *setter(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++) {
		set_a((int)i);
		__atomic_fetch_add(&done, 1, __ATOMIC_RELAXED);
	}
	return arg;
}

static void *diagnostics(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++) {
		show_a();
		__atomic_fetch_add(&done, 1, __ATOMIC_RELAXED);
	}
	return arg;
}

int main(int argc, char **argv)
{
	void *(*const threads[])(void *) = { checker, setter, diagnostics };

	parse_iterations(argc, argv, 300);
	run_threads(3, threads);
	printf("exclusive_read_diagnostic: done %ld\n", done);
	return 0;
}
