/*
 * racy_counter — two threads increment one plain global with `counter++`,
 * no lock, no atomics: the textbook data race every tool must report.
 *
 * Watch with `-w counter`.  Prints only a line that does not depend on the
 * race (the final count does, so it is not printed).
 *
 * Usage: racy_counter [ITERATIONS]   increments per thread (default 20000000)
 */
#include "bench.h"

#include <pthread.h>

long counter;			/* RACE: both threads, plain read-modify-write */

static long iterations;

__attribute__((noinline)) static void *worker(void *arg)
{
	(void)arg;
	for (long i = 0; i < iterations; i++) {
		counter++;
		compiler_barrier();	/* one load and one store per increment */
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[2];

	iterations = bench_arg(argc, argv, 1, 20000000);
	bench_pin();
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("racy_counter: 2 threads x %ld increments done\n", iterations);
	return 0;
}
