/*
 * single_init — access-marking.txt, EXAMPLES, "Lockless Reads and Writes, But
 * With Single-Threaded Initialization".
 *
 * initialize_foo() writes foo with a plain store, asserts with
 * ASSERT_EXCLUSIVE_ACCESS(foo) that nothing else can touch it yet, and only
 * then starts the "kthreads" (pthreads) that access foo locklessly with
 * xchg() and READ_ONCE().  main() does this ROUNDS times, joining each
 * batch before initializing again.
 *
 * Expected: no report, exit 0, default rules and --strict: the plain write
 * and the assertion happen while no other thread exists.
 * Buggy twin: single_init_buggy.c.
 *
 * Usage: single_init [ITERATIONS]   (accesses per kthread and round)
 */
#include "marking.h"

#define ROUNDS		8
#define NKTHREADS	2

int foo;
RACEWATCH_WATCH(foo);

static pthread_t kthreads[NKTHREADS];
static long done_accesses[NKTHREADS];
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
	long me = (long)arg;

	for (long i = 0; i < iterations; i++, done_accesses[me]++) {
		if (i & 1)
			(void)update_foo((int)i);
		else
			__atomic_fetch_add(&read_sum, read_foo(), __ATOMIC_RELAXED);
	}
	return NULL;
}

__named void initialize_foo(int initval, int nkthreads)
{
	int i;

	foo = initval;
	ASSERT_EXCLUSIVE_ACCESS(foo);
	for (i = 0; i < nkthreads; i++)		/* kthread_run() */
		if (pthread_create(&kthreads[i], NULL, access_foo_concurrently, (void *)(long)i)) {
			perror("pthread_create");
			exit(1);
		}
}

int main(int argc, char **argv)
{
	parse_iterations(argc, argv, 100);
	for (int round = 0; round < ROUNDS; round++) {
		initialize_foo(round + 1000, NKTHREADS);
		for (int i = 0; i < NKTHREADS; i++)
			pthread_join(kthreads[i], NULL);
	}
	printf("single_init: done rounds=%d accesses=%ld+%ld\n",
	       ROUNDS, done_accesses[0], done_accesses[1]);
	return 0;
}
