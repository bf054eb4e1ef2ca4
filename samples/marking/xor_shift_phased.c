/*
 * xor_shift_phased — access-marking.txt, "Checking Stress-Test Race
 * Coverage", the other half of the point: the same three functions and the
 * same ASSERT_EXCLUSIVE_ACCESS(foo) sites as xor_shift_assert.c, driven by a
 * stress test that never runs two of them at once (one phase per function,
 * each joined before the next starts).  Nothing is reported -- and that says
 * nothing about the code, because the test never let the sites meet.
 * `racewatch run --coverage` says so: every pair of sites "never" seen
 * concurrent.  xor_shift_assert.c is the stress test that covers its pairs.
 *
 * Expected, default rules and --strict alike: no report, exit 0; with
 * --coverage: "coverage of foo: 3 assertion sites, 0 of 3 pairs seen
 * concurrent".
 *
 * Usage: xor_shift_phased [ITERATIONS]
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
	void *(*const phases[])(void *) = { updater, xor_shifter, reader };

	parse_iterations(argc, argv, 300);
	/* The flaw in the test: each function runs alone. */
	for (int i = 0; i < 3; i++)
		run_threads(1, &phases[i]);
	printf("xor_shift_phased: done %ld %ld %ld\n", done[0], done[1], done[2]);
	return 0;
}
