/*
 * xor_shift_assert — access-marking.txt, EXAMPLES, "Checking Stress-Test
 * Race Coverage", the second fragment: the same stress test as xor_shift.c
 * with an ASSERT_EXCLUSIVE_ACCESS(foo) before each access.  The seed: "If a
 * given stress-test run does not result in KCSAN complaints from each
 * possible pair of ASSERT_EXCLUSIVE_ACCESS() invocations, the stress test
 * needs improvement."  This one forces all three pairs.  (The seed would
 * keep such assertions under #ifdef; here they are the point.)
 *
 * Expected, default rules and --strict alike, exit 66:
 *   BUG: racewatch: assert: race in read_foo / update_foo
 *   BUG: racewatch: assert: race in read_foo / xor_shift_foo
 *   BUG: racewatch: assert: race in update_foo / xor_shift_foo
 * and never a plain "data-race" report.
 *
 * Usage: xor_shift_assert [ITERATIONS]
 */
#include "marking.h"

int foo;
RACEWATCH_WATCH(foo);

static long done[3];

__named int update_foo(int newval)
{
	ASSERT_EXCLUSIVE_ACCESS(foo);
	return xchg(&foo, newval);
}

__named int xor_shift_foo(int shift, int mask)
{
	int old, new, newold;

	newold = data_race(foo); /* Checked by cmpxchg(). */
	do {
		old = newold;
		new = (old << shift) ^ mask;
		ASSERT_EXCLUSIVE_ACCESS(foo);
		newold = cmpxchg(&foo, old, new);
	} while (newold != old);
	return old;
}

__named int read_foo(void)
{
	ASSERT_EXCLUSIVE_ACCESS(foo);
	return READ_ONCE(foo);
}

static void *updater(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++, done[0]++)
		(void)update_foo((int)i);
	return arg;
}

static void *xor_shifter(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++, done[1]++)
		(void)xor_shift_foo(1, 0x5a5a);
	return arg;
}

static void *reader(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++, done[2]++)
		keep(read_foo());
	return arg;
}

int main(int argc, char **argv)
{
	void *(*const threads[])(void *) = { updater, xor_shifter, reader };

	parse_iterations(argc, argv, 300);
	run_threads(3, threads);
	printf("xor_shift_assert: done %ld %ld %ld\n", done[0], done[1], done[2]);
	return 0;
}
