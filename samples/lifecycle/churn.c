/*
 * churn — thousands of short-lived threads, each touching the watched
 * variable `touched` once and exiting at once: the thread-churn target of
 * tests/integration/lifecycle.sh and attach.sh.
 *
 * Mode `churn N [BATCH]`: N threads in total, at most BATCH (default 8)
 * alive at a time.  Each does one atomic `touched += 1` (LOCK XADD: a marked
 * access, never a race) and returns, so threads keep exiting while other
 * threads' stall windows are open.  Prints "churn: ready pid=P" first and
 * "churn: threads=N touched=N" at the end, exit 0.
 *
 * Mode `churn exit SECS STATUS`: 4 threads add to `touched` in a loop; after
 * SECS seconds main calls exit(STATUS) without stopping them, so threads die
 * in the middle of their windows.  Prints "churn: exiting STATUS".
 *
 * Expected outcome under `racewatch run -w touched --stats -- churn N`:
 * no report, stdout as native, exit 0, threads_seen >= N + 1, traps >= N
 * (every thread was armed before its one access), arm_failures 0.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

long touched;			/* the watched variable */

static void *touch_once(void *arg)
{
	(void)arg;
	__atomic_fetch_add(&touched, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void *touch_forever(void *arg)
{
	(void)arg;
	for (;;)
		__atomic_fetch_add(&touched, 1, __ATOMIC_RELAXED);
	return NULL;
}

static int mode_exit(double secs, int status)
{
	pthread_t t;
	struct timespec ts = { (time_t)secs, (long)((secs - (time_t)secs) * 1e9) };

	for (int i = 0; i < 4; i++)
		if (pthread_create(&t, NULL, touch_forever, NULL)) {
			fprintf(stderr, "churn: pthread_create failed\n");
			return 1;
		}
	printf("churn: ready pid=%d\n", (int)getpid());
	fflush(stdout);
	while (nanosleep(&ts, &ts))
		;
	printf("churn: exiting %d\n", status);
	fflush(stdout);
	exit(status);
}

int main(int argc, char **argv)
{
	pthread_t ring[64];
	long n, batch = 8;

	if (argc > 3 && !strcmp(argv[1], "exit"))
		return mode_exit(atof(argv[2]), atoi(argv[3]));
	if (argc < 2 || (n = atol(argv[1])) < 1) {
		fprintf(stderr, "usage: churn N [BATCH] | churn exit SECS STATUS\n");
		return 2;
	}
	if (argc > 2)
		batch = atol(argv[2]);
	if (batch < 1 || batch > 64)
		batch = 8;
	printf("churn: ready pid=%d\n", (int)getpid());
	fflush(stdout);
	for (long i = 0; i < n; i++) {
		if (i >= batch)
			pthread_join(ring[i % batch], NULL);
		if (pthread_create(&ring[i % batch], NULL, touch_once, NULL)) {
			fprintf(stderr, "churn: pthread_create failed after %ld threads\n", i);
			return 1;
		}
	}
	for (long i = n > batch ? n - batch : 0; i < n; i++)
		pthread_join(ring[i % batch], NULL);
	printf("churn: threads=%ld touched=%ld\n", n, touched);
	return 0;
}
