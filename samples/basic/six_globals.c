/*
 * six_globals — six distinct plain global variables, each raced on: more
 * than the four debug-register slots can watch at once, so one run reports
 * all six only with code sites (--backend code) or --watch-all.
 *
 *   g_count  int            RMW by both threads (g_count++)
 *   g_total  long           written by the writer, read by the reader
 *   g_flags  unsigned short written by the writer, read and written by the reader
 *   g_state  char           written by the writer, read by the reader
 *   g_ratio  double         written by the writer, read by the reader
 *   g_pos    struct (24 B)  whole-struct store by the writer, member reads
 *                           and a member store by the reader
 *
 * Every access is in a noinline function, on a line of its own marked
 * RACE-WRITE / RACE-READ, and made directly (RIP-relative: a static code
 * site, never through a pointer).  A short busy-wait after each access
 * widens the windows so that, slowed down by the tracer, the two threads'
 * accesses overlap.
 *
 * Expected outcome under `racewatch run --backend code -w g_count -w g_total
 * -w g_flags -w g_state -w g_ratio -w g_pos -- six_globals-O1|-O2 [N]`, and
 * under --watch-all: a `BUG: racewatch: data-race` report on each of the six,
 * exit status 66.
 *
 * six_globals_locked.c is the race-free twin: the same code with one mutex
 * held around each function's accesses (SIX_GLOBALS_LOCKED); it must never
 * be reported.
 *
 * Usage: six_globals [ITERATIONS]   (default 3000 per thread).  Prints one
 * deterministic line (no racy values) and exits 0.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct position {
	long x, y, z;
};

int g_count;
long g_total;
unsigned short g_flags;
char g_state;
double g_ratio;
struct position g_pos;

static long iterations = 3000;
static pthread_barrier_t start;

#ifdef SIX_GLOBALS_LOCKED
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
#define LOCK()		pthread_mutex_lock(&lock)
#define UNLOCK()	pthread_mutex_unlock(&lock)
#else
#define LOCK()		do { } while (0)
#define UNLOCK()	do { } while (0)
#endif

#define compiler_barrier() __asm__ volatile("" ::: "memory")

/* A few microseconds of work between accesses: windows can overlap. */
static void spin(void)
{
	for (int i = 0; i < 1000; i++)
		compiler_barrier();
}

__attribute__((noinline)) void write_all(long i)
{
	LOCK();
	g_count++;			/* RACE-WRITE g_count */
	spin();
	g_total = i;			/* RACE-WRITE g_total */
	spin();
	g_flags = (unsigned short)i;	/* RACE-WRITE g_flags */
	spin();
	g_state = (char)(i & 0x7f);	/* RACE-WRITE g_state */
	spin();
	g_ratio = (double)i / 3.0;	/* RACE-WRITE g_ratio */
	spin();
	g_pos = (struct position){ i, i + 1, i + 2 };	/* RACE-WRITE g_pos */
	spin();
	UNLOCK();
}

__attribute__((noinline)) long read_all(void)
{
	long sum;

	LOCK();
	g_count++;			/* RACE-WRITE g_count (reader side) */
	spin();
	sum = g_total;			/* RACE-READ g_total */
	spin();
	g_flags |= 1;			/* RACE-WRITE g_flags (reader side) */
	spin();
	sum += g_state;			/* RACE-READ g_state */
	spin();
	sum += (long)g_ratio;		/* RACE-READ g_ratio */
	spin();
	sum += g_pos.x + g_pos.z;	/* RACE-READ g_pos */
	spin();
	g_pos.y = sum;			/* RACE-WRITE g_pos (reader side) */
	UNLOCK();
	return sum;
}

static void *writer(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&start);
	for (long i = 0; i < iterations; i++)
		write_all(i);
	return NULL;
}

static void *reader(void *arg)
{
	long sum = 0;

	(void)arg;
	pthread_barrier_wait(&start);
	for (long i = 0; i < iterations; i++)
		sum += read_all();
	return (void *)sum;
}

int main(int argc, char **argv)
{
	pthread_t w, r;

	if (argc > 1)
		iterations = strtol(argv[1], NULL, 0);
	if (iterations < 1) {
		fprintf(stderr, "usage: six_globals [ITERATIONS>0]\n");
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
	printf("six_globals: done %ld iterations per thread\n", iterations);
	return 0;
}
