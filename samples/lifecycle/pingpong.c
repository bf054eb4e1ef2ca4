/*
 * pingpong — a context-switch heavy program with a watched variable that is
 * almost never touched (issue 15: what armed but silent slots cost).
 *
 *   pingpong [ROUNDS [THREADS]]   THREADS (2..8, default 2, main being
 *                                 one) pass a token round a ring of pipes
 *                                 ROUNDS times (default 20000): every
 *                                 hand-over blocks one thread and wakes the
 *                                 next, two context switches.
 *   pingpong quiet [ITERS]        one thread computes without a system call
 *                                 (no voluntary switch at all).
 *
 * `rarely` is written twice by main (before and after the ring), never in
 * the ring: under racewatch -w rarely its slot is armed in every thread for
 * the whole run and fires twice.  The output is a checksum of the work, the
 * same under any tracer.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXT 8

long rarely;
static int pipes[MAXT][2];
static int nthreads;
static long rounds;

static void *worker(void *arg)
{
	int me = (int)(long)arg, next = (me + 1) % nthreads;
	long sum = 0;
	char c;

	for (long r = 0; r < rounds; r++) {
		if (read(pipes[me][0], &c, 1) != 1)
			break;
		sum += c;
		c = (char)((c + 1) & 0x3f);
		if (write(pipes[next][1], &c, 1) != 1)
			break;
	}
	return (void *)sum;
}

static int quiet(long iters)
{
	volatile unsigned long x = 1;

	rarely = 1;
	for (long i = 0; i < iters; i++)
		x = x * 6364136223846793005ul + 1442695040888963407ul;
	rarely = 2;
	printf("pingpong: quiet %ld iterations, %lu\n", iters, (unsigned long)(x >> 48));
	return 0;
}

int main(int argc, char **argv)
{
	pthread_t th[MAXT];
	long total = 0;
	char c = 1;

	if (argc > 1 && !strcmp(argv[1], "quiet"))
		return quiet(argc > 2 ? atol(argv[2]) : 200000000L);
	rounds = argc > 1 ? atol(argv[1]) : 20000;
	nthreads = argc > 2 ? atoi(argv[2]) : 2;
	if (rounds < 1 || nthreads < 2 || nthreads > MAXT) {
		fprintf(stderr, "usage: pingpong [ROUNDS [THREADS 2..8]] | pingpong quiet [ITERS]\n");
		return 2;
	}
	rarely = 1;
	for (int i = 0; i < nthreads; i++)
		if (pipe(pipes[i]) < 0) {
			perror("pipe");
			return 1;
		}
	/* main is ring member 0 itself: every thread switches as often. */
	for (int i = 1; i < nthreads; i++)
		if (pthread_create(&th[i], NULL, worker, (void *)(long)i) != 0) {
			fprintf(stderr, "pingpong: pthread_create failed\n");
			return 1;
		}
	/* The token starts at member 0; the last member's last write has no
	 * reader left, which the pipe holds. */
	if (write(pipes[0][1], &c, 1) != 1)
		return 1;
	total = (long)worker((void *)0L);
	for (int i = 1; i < nthreads; i++) {
		void *r;

		pthread_join(th[i], &r);
		total += (long)r;
	}
	rarely = 2;
	printf("pingpong: %ld rounds, %d threads, checksum %ld\n", rounds, nthreads, total);
	return 0;
}
