/*
 * race_rw — the simplest data race: one thread writes a global int while
 * another reads it, with no lock, no atomics and no marking.
 *
 * The writer stores to `foo` in update_foo() (line marked RACE-WRITE), the
 * reader loads it in read_foo() (line marked RACE-READ).  Both loops start
 * together through a barrier so that, slowed down by the tracer, they
 * overlap for most of their run.  Both functions are noinline so that the
 * accesses keep their own function name and line at -O1 and -O2.
 *
 * Expected outcome under `racewatch run -w foo -- race_rw-O1|-O2 [N]`:
 *
 *   BUG: racewatch: data-race in read_foo / update_foo
 *   write to 0x... (foo) of 4 bytes by thread T1:
 *    #0 update_foo .../race_rw.c:<RACE-WRITE line>
 *   read to 0x... (foo) of 4 bytes by thread T2:
 *    #0 read_foo .../race_rw.c:<RACE-READ line>
 *
 * printed once however often the pair is hit, and exit status 66.
 *
 * Also here for other tests:
 *   counts   a struct whose members are each touched by one thread only:
 *            `-w counts` must never report (different bytes are no race).
 *   tls_var  a thread-local variable: `-w tls_var` must be refused.
 *
 * Usage: race_rw [ITERATIONS]   (default 2000 per thread: a few seconds
 * even when the tracer traps and stalls every access).  Prints one
 * deterministic line (no racy values) and exits 0.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

int foo;			/* the raced variable */

struct counts {
	long writes;		/* only the writer thread touches this */
	long reads;		/* only the reader thread touches this */
} counts;

__thread int tls_var;		/* thread-local: cannot be watched */

long reader_sum;		/* keeps the reads alive at -O2 */

static long iterations = 2000;
static pthread_barrier_t start;

#define compiler_barrier() __asm__ volatile("" ::: "memory")

/*
 * Each racy access is pinned by a compiler barrier and followed by a
 * statement with code of its own, so that the access instruction's address
 * carries its own line and no other (a bare `return foo;` shares its address
 * with the closing brace's row, and addr2line and gdb disagree on which line
 * such a pc is; without the barrier the load sinks into `return v`).
 */
__attribute__((noinline)) void update_foo(int v)
{
	foo = v;	/* RACE-WRITE */
	compiler_barrier();
	counts.writes++;
}

__attribute__((noinline)) int read_foo(void)
{
	int v = foo;	/* RACE-READ */

	compiler_barrier();
	counts.reads++;
	return v;
}

static void *writer(void *arg)
{
	(void)arg;
	tls_var = 1;
	pthread_barrier_wait(&start);
	for (long i = 0; i < iterations; i++) {
		update_foo((int)i + 1);
		compiler_barrier();
	}
	return NULL;
}

static void *reader(void *arg)
{
	long sum = 0;

	(void)arg;
	tls_var = 2;
	pthread_barrier_wait(&start);
	for (long i = 0; i < iterations; i++) {
		sum += read_foo();
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
		fprintf(stderr, "usage: race_rw [ITERATIONS>0]\n");
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
	/* Both threads are joined: these reads are ordered after every access. */
	printf("race_rw: done foo=%d writes=%ld reads=%ld\n",
	       foo, counts.writes, counts.reads);
	return 0;
}
