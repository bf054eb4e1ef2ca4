/*
 * bss_tail — a racy global in the anonymous tail of .bss.
 *
 * A zero-initialised object larger than the pages the executable's file
 * maps is loaded as anonymous memory right after the file's last mapping:
 * /proc/PID/maps shows it with no path.  Here `tail.count` sits 1 MiB into
 * such an object, far past the file-backed pages (libmicrohttpd's
 * benchmark example has its clock globals there, after a 512 KiB array).
 * Two threads increment it with no lock.
 *
 * Expected outcome under `racewatch run -w tail.count -- bss_tail-O1|-O2`:
 *
 *   BUG: racewatch: data-race in bump / bump
 *   read-write to 0x... (tail.count) of 4 bytes by thread T1: ...
 *
 * and exit status 66: the variable belongs to the executable although no
 * file mapping covers it.
 *
 * Usage: bss_tail [ITERATIONS]   (default 2000 per thread).  Prints one
 * deterministic line (not the racy count) and exits 0.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct tail {
	char pad[1 << 20];	/* pushes count past the file-backed pages */
	int count;		/* the raced variable */
} tail;

static long iterations = 2000;
static pthread_barrier_t start;

__attribute__((noinline)) void bump(void)
{
	tail.count++;
	__asm__ volatile("" ::: "memory");
}

static void *worker(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&start);
	for (long i = 0; i < iterations; i++)
		bump();
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[2];

	if (argc > 1)
		iterations = strtol(argv[1], NULL, 10);
	if (iterations <= 0) {
		fprintf(stderr, "bss_tail: ITERATIONS must be a positive number\n");
		return 2;
	}
	pthread_barrier_init(&start, NULL, 2);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	tail.pad[0] = 1;	/* the padding is used, so it stays */
	printf("bss_tail: 2 threads x %ld increments\n", iterations);
	return 0;
}
