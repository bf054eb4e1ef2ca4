/*
 * hotloop — race-free: one thread stores to the watched global `hot` as
 * fast as it can (about 1e9 plain stores per second), another thread does
 * unrelated arithmetic on its own stack.  `hot` is private in practice:
 * only the writer touches it until pthread_join, which orders main's one
 * read after every store.  A tool that reports anything here is wrong; the
 * figure that matters is the slowdown of a watched variable hit ~1e9/s.
 *
 * Watch with `-w hot`.  Prints a deterministic checksum.
 *
 * Usage: hotloop [WRITES [OTHER]]   stores by the writer (default 300000000),
 *        rounds of the other thread's work (default WRITES / 4)
 */
#include "bench.h"

#include <pthread.h>
#include <stdint.h>

long hot;			/* written by writer() only */

static long writes, other_rounds;

__attribute__((noinline)) static void *writer(void *arg)
{
	(void)arg;
	for (long i = 1; i <= writes; i++) {
		hot = i;
		compiler_barrier();	/* one store per iteration */
	}
	return NULL;
}

/* xorshift64 on registers: no shared memory at all. */
__attribute__((noinline)) static void *other(void *arg)
{
	uint64_t x = 88172645463325252ull;

	for (long i = 0; i < other_rounds; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	*(uint64_t *)arg = x;
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t tw, to;
	uint64_t x = 0;

	writes = bench_arg(argc, argv, 1, 300000000);
	other_rounds = bench_arg(argc, argv, 2, writes / 4);
	bench_pin();
	pthread_create(&tw, NULL, writer, NULL);
	pthread_create(&to, NULL, other, &x);
	pthread_join(tw, NULL);
	pthread_join(to, NULL);
	printf("hotloop: hot=%ld other=%016llx\n", hot, (unsigned long long)x);
	return 0;
}
