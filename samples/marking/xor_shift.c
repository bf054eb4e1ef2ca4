/*
 * xor_shift — access-marking.txt, EXAMPLES, "Checking Stress-Test Race
 * Coverage", the first fragment: update_foo() xchg()s foo, xor_shift_foo()
 * reads it with data_race() (checked by cmpxchg()) and cmpxchg()es it,
 * read_foo() READ_ONCE()s it.  One thread per function, all concurrent.
 *
 * Expected: no report, exit 0, default rules and --strict: every access is
 * atomic, marked or data_race().
 * With assertions: xor_shift_assert.c, xor_shift_scoped.c, xor_shift_writer.c.
 *
 * Usage: xor_shift [ITERATIONS]
 */
#include "marking.h"

int foo;
RACEWATCH_WATCH(foo);

static long done[3];

__named int update_foo(int newval)
{
	return xchg(&foo, newval);
}

__named int xor_shift_foo(int shift, int mask)
{
	int old, new, newold;

	newold = data_race(foo); /* Checked by cmpxchg(). */
	do {
		old = newold;
		new = (old << shift) ^ mask;
		newold = cmpxchg(&foo, old, new);
	} while (newold != old);
	return old;
}

__named int read_foo(void)
{
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
	printf("xor_shift: done %ld %ld %ld\n", done[0], done[1], done[2]);
	return 0;
}
