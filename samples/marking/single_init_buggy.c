/*
 * single_init_buggy — buggy twin of single_init.c (access-marking.txt,
 * "Lockless Reads and Writes, But With Single-Threaded Initialization"):
 * each round starts a second batch of kthreads by calling initialize_foo()
 * again while the first batch is already running, so the "single-threaded"
 * initialization is not.  The seed: "The ASSERT_EXCLUSIVE_ACCESS() allows
 * KCSAN to flag buggy concurrent unmarked reads, and ... further allows
 * KCSAN to flag buggy concurrent writes, even if: (1) Those writes are
 * marked or (2) The kernel was built with
 * CONFIG_KCSAN_ASSUME_PLAIN_WRITES_ATOMIC=y."
 *
 * Expected:
 *   default   BUG: racewatch: assert: race in initialize_foo / read_foo|update_foo
 *             and no "data-race" report (the plain initializing write is
 *             assumed atomic against the marked accesses); exit 66.
 *   --strict  the assertion report, and also
 *             BUG: racewatch: data-race in initialize_foo / ...
 *             (the plain write is no longer assumed atomic); exit 66.
 *
 * Usage: single_init_buggy [ITERATIONS]   (accesses per kthread and round)
 */
#include "marking.h"

#define ROUNDS		8
#define NKTHREADS	2

int foo;
RACEWATCH_WATCH(foo);

static pthread_t kthreads[2 * NKTHREADS];
static int nstarted;
static long done_accesses;
static long read_sum;

static void do_something(int v) { (void)v; barrier(); }
static void do_something_else(void) { barrier(); }

/* Called from access_foo_concurrently(). */
__named int update_foo(int newval)
{
	int ret;

	ret = xchg(&foo, newval);
	do_something(newval);
	return ret;
}

/* Also called from access_foo_concurrently(). */
__named int read_foo(void)
{
	do_something_else();
	return READ_ONCE(foo);
}

static void *access_foo_concurrently(void *arg)
{
	for (long i = 0; i < iterations; i++) {
		if (i & 1)
			(void)update_foo((int)i);
		else
			__atomic_fetch_add(&read_sum, read_foo(), __ATOMIC_RELAXED);
		__atomic_fetch_add(&done_accesses, 1, __ATOMIC_RELAXED);
	}
	return arg;
}

__named void initialize_foo(int initval, int nkthreads)
{
	int i;

	foo = initval;
	ASSERT_EXCLUSIVE_ACCESS(foo);
	for (i = 0; i < nkthreads; i++)		/* kthread_run() */
		if (pthread_create(&kthreads[nstarted++], NULL, access_foo_concurrently, NULL)) {
			perror("pthread_create");
			exit(1);
		}
}

int main(int argc, char **argv)
{
	parse_iterations(argc, argv, 100);
	for (int round = 0; round < ROUNDS; round++) {
		nstarted = 0;
		initialize_foo(round + 1000, NKTHREADS);
		initialize_foo(round + 2000, NKTHREADS);	/* BUG: batch 1 runs */
		for (int i = 0; i < nstarted; i++)
			pthread_join(kthreads[i], NULL);
	}
	printf("single_init_buggy: done rounds=%d accesses=%ld\n", ROUNDS, done_accesses);
	return 0;
}
