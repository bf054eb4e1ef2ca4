/*
 * worker — a long-running multithreaded program with a result it can check
 * itself: the target of tests/integration/attach.sh, lifecycle.sh and
 * tests/stress.sh, which attach to it, detach, kill the tracer, stop and
 * continue it, and then ask whether it noticed.
 *
 * Each of NTHREADS threads runs rounds until told to stop.  A round adds
 * mix(i) of its own counter i to a thread-local sum, bumps `locked_total`
 * under a mutex, and (unless -q) does `hot++` with no lock at all: the data
 * race the tests watch (`-w hot`).  At the end main joins every thread and
 * recomputes, single-threaded, what each sum and `locked_total` must be from
 * the per-thread round counts; any difference (a clobbered register, a lost
 * or doubled store, a broken mutex) prints "worker: WRONG" and exits 1.
 *
 * Expected outcome:
 *   native                   "worker: ok ..." on stdout, exit 0 (or -e's end)
 *   racewatch ... -w hot     BUG: racewatch: data-race in work / work on hot
 *   -w locked_total          never reported (always under the mutex)
 *   after any detach         the same "worker: ok" line and exit status, and
 *                            with -H no SIGTRAP or SIGURG ever reached it
 *
 * Usage: worker [-t NTHREADS] [-s SECS] [-e END] [-q] [-H] [-B]
 *   -t N     threads (default 4)
 *   -s SECS  run this long (default 5; 0 = until SIGUSR1)
 *   -e END   how to end: exit:N (default exit:0), segv, abrt
 *            (RLIMIT_CORE is set to 0 first: no core file either way)
 *   -q       quiet: no racy `hot++` (a race-free worker)
 *   -H       count SIGTRAP and SIGURG in handlers instead of the default
 *            actions, and print the counts: a signal of the tracer's that
 *            leaked into the program shows up as a non-zero count
 *   -B       block SIGUSR2 and ignore SIGINT and SIGHUP; the last line says
 *            whether SIGUSR2 is pending, so a test can send them while the
 *            program is traced and see that nothing changed
 * SIGUSR1 always asks for an orderly end (same output as a timed one).
 *
 * Output: "worker: ready pid=P threads=N" once every thread runs (flushed),
 * then at the end one "worker: ok rounds-checked threads=N" line (rounds
 * vary, so they are not printed), the -H and -B lines, and the exit.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 64

int hot;			/* raced on: plain hot++ by every thread */
long locked_total;		/* under total_lock only */
__thread long tls_scratch;	/* thread-local: -w tls_scratch is refused */
struct { char bytes[64]; } big;	/* too big for the four debug registers */
int slot_a, slot_b, slot_c, slot_d, slot_e;	/* five variables: too many */

static pthread_mutex_t total_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile sig_atomic_t stop, trap_seen, urg_seen;
static int quiet;
volatile int *volatile segv_target;	/* NULL, unknown to the compiler */

struct thr {
	pthread_t id;
	unsigned long rounds;	/* written by the thread, read after join */
	uint64_t sum;
};
static struct thr thr[MAX_THREADS];

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static void on_stop(int sig) { (void)sig; stop = 1; }
static void on_trap(int sig) { (void)sig; trap_seen++; }
static void on_urg(int sig) { (void)sig; urg_seen++; }

__attribute__((noinline)) static void work(struct thr *me)
{
	unsigned long i = me->rounds;

	me->sum += mix(i);
	pthread_mutex_lock(&total_lock);
	locked_total++;
	pthread_mutex_unlock(&total_lock);
	if (!quiet)
		hot++;		/* RACE */
	me->rounds = i + 1;
}

static void *thread_main(void *arg)
{
	struct thr *me = arg;

	while (!stop)
		work(me);
	return NULL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int nthreads = 4, handlers = 0, blocked = 0, opt, status = 0;
	double secs = 5;
	const char *end = "exit:0";
	struct rlimit no_core = { 0, 0 };
	sigset_t set;
	long want_total = 0;

	while ((opt = getopt(argc, argv, "t:s:e:qHB")) != -1) {
		switch (opt) {
		case 't': nthreads = atoi(optarg); break;
		case 's': secs = atof(optarg); break;
		case 'e': end = optarg; break;
		case 'q': quiet = 1; break;
		case 'H': handlers = 1; break;
		case 'B': blocked = 1; break;
		default:
			fprintf(stderr, "usage: worker [-t N] [-s SECS] [-e exit:N|segv|abrt] [-q] [-H] [-B]\n");
			return 2;
		}
	}
	if (nthreads < 1 || nthreads > MAX_THREADS) {
		fprintf(stderr, "worker: 1 to %d threads\n", MAX_THREADS);
		return 2;
	}
	if (strncmp(end, "exit:", 5) && strcmp(end, "segv") && strcmp(end, "abrt")) {
		fprintf(stderr, "worker: -e exit:N, segv or abrt\n");
		return 2;
	}
	signal(SIGUSR1, on_stop);
	if (handlers) {
		signal(SIGTRAP, on_trap);
		signal(SIGURG, on_urg);
	}
	if (blocked) {
		sigemptyset(&set);
		sigaddset(&set, SIGUSR2);
		sigprocmask(SIG_BLOCK, &set, NULL);	/* threads inherit it */
		signal(SIGINT, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
	}
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&thr[i].id, NULL, thread_main, &thr[i])) {
			fprintf(stderr, "worker: pthread_create failed\n");
			return 1;
		}
	printf("worker: ready pid=%d threads=%d\n", (int)getpid(), nthreads);
	fflush(stdout);

	/* Sleeping in short steps: a stopped-and-continued program still ends. */
	for (double t0 = now(); !stop && (secs <= 0 || now() - t0 < secs);)
		usleep(10000);
	stop = 1;
	for (int i = 0; i < nthreads; i++)
		pthread_join(thr[i].id, NULL);

	for (int i = 0; i < nthreads; i++) {
		uint64_t want = 0;

		for (unsigned long r = 0; r < thr[i].rounds; r++)
			want += mix(r);
		if (want != thr[i].sum) {
			printf("worker: WRONG sum in thread %d after %lu rounds\n", i, thr[i].rounds);
			status = 1;
		}
		want_total += (long)thr[i].rounds;
	}
	if (want_total != locked_total) {
		printf("worker: WRONG locked_total %ld, want %ld\n", locked_total, want_total);
		status = 1;
	}
	if (!status)
		printf("worker: ok rounds-checked threads=%d\n", nthreads);
	if (handlers)
		printf("worker: SIGTRAP seen %d, SIGURG seen %d\n", (int)trap_seen, (int)urg_seen);
	if (blocked) {
		sigpending(&set);
		printf("worker: SIGUSR2 pending=%s\n", sigismember(&set, SIGUSR2) ? "yes" : "no");
	}
	fflush(stdout);
	if (status)
		return status;
	setrlimit(RLIMIT_CORE, &no_core);
	if (!strcmp(end, "segv"))
		*segv_target = 1;
	if (!strcmp(end, "abrt"))
		abort();
	return atoi(end + 5);
}
