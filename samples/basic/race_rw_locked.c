/*
 * race_rw_locked — the race-free twin of race_rw.c: same threads, same loop
 * shape, same functions update_foo() / read_foo(), but every access to `foo`
 * happens with one pthread mutex held.
 *
 * The writer is stalled by the tracer right after its store while it still
 * holds the lock, so the reader cannot reach `foo` inside the window: it is
 * blocked in pthread_mutex_lock().  A tracer that reports here confuses
 * "both threads touched foo" with "both touched it concurrently".
 *
 * Expected outcome under `racewatch run -w foo -- race_rw_locked-O1|-O2 [N]`:
 * never a `BUG: racewatch` report; exit status 0; stdout as without tracer.
 *
 * Usage: race_rw_locked [ITERATIONS]   (default 2000 per thread).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

int foo;			/* protected by foo_lock */
static pthread_mutex_t foo_lock = PTHREAD_MUTEX_INITIALIZER;

struct counts {
	long writes;
	long reads;
} counts;			/* protected by foo_lock */

long reader_sum;		/* keeps the reads alive at -O2 */

static long iterations = 2000;
static pthread_barrier_t start;

#define compiler_barrier() __asm__ volatile("" ::: "memory")

/* Precondition: foo_lock held. */
__attribute__((noinline)) void update_foo(int v)
{
	foo = v;
	compiler_barrier();
	counts.writes++;
}

/* Precondition: foo_lock held. */
__attribute__((noinline)) int read_foo(void)
{
	int v = foo;

	compiler_barrier();
	counts.reads++;
	return v;
}

static void *writer(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&start);
	for (long i = 0; i < iterations; i++) {
		pthread_mutex_lock(&foo_lock);
		update_foo((int)i + 1);
		pthread_mutex_unlock(&foo_lock);
		compiler_barrier();
	}
	return NULL;
}

static void *reader(void *arg)
{
	long sum = 0;

	(void)arg;
	pthread_barrier_wait(&start);
	for (long i = 0; i < iterations; i++) {
		pthread_mutex_lock(&foo_lock);
		sum += read_foo();
		pthread_mutex_unlock(&foo_lock);
		compiler_barrier();
	}
	reader_sum = sum;
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t w, r;

	if (argc > 1)
		iterations = strtol(argv[1], NULL, 0);
	if (iterations < 1) {
		fprintf(stderr, "usage: race_rw_locked [ITERATIONS>0]\n");
		return 2;
	}
	pthread_barrier_init(&start, NULL, 2);
	if (pthread_create(&w, NULL, writer, NULL) ||
	    pthread_create(&r, NULL, reader, NULL)) {
		perror("pthread_create");
		return 1;
	}
	pthread_join(w, NULL);
	pthread_join(r, NULL);
	/* Both threads are joined: this read is ordered after every access. */
	printf("race_rw_locked: done foo=%d writes=%ld reads=%ld\n",
	       foo, counts.writes, counts.reads);
	return 0;
}
