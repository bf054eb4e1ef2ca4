/*
 * xor_shift_writer — access-marking.txt, "Checking Stress-Test Race
 * Coverage", with ASSERT_EXCLUSIVE_WRITER(foo) instead: only the two
 * writers assert.  The seed: "ASSERT_EXCLUSIVE_WRITER(foo) tells KCSAN that
 * although it is OK for there to be concurrent reads from foo from other
 * CPUs, it is an error for some other CPU to be concurrently writing to
 * foo".  So update_foo and xor_shift_foo collide; read_foo never does.
 *
 * Expected, default rules and --strict alike, exit 66:
 *   BUG: racewatch: assert: race in update_foo / xor_shift_foo
 * and no report naming read_foo, no plain "data-race" report.
 *
 * Usage: xor_shift_writer [ITERATIONS]
 */
#include "marking.h"

int foo;
RACEWATCH_WATCH(foo);

static long done[3];

__named int update_foo(int newval)
{
	ASSERT_EXCLUSIVE_WRITER(foo);
	return xchg(&foo, newval);
}

__named int xor_shift_foo(int shift, int mask)
{
	int old, new, newold;

	newold = data_race(foo); /* Checked by cmpxchg(). */
	do {
		old = newold;
		new = (old << shift) ^ mask;
		ASSERT_EXCLUSIVE_WRITER(foo);
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
	printf("xor_shift_writer: done %ld %ld %ld\n", done[0], done[1], done[2]);
	return 0;
}
