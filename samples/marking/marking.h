/*
 * marking.h — what every samples/marking program shares: the kernel names
 * the seeds' examples use, mapped to user space, and a tiny thread harness.
 *
 * Mapping (DESIGN.md section 5 and the seeds' hints):
 *   spinlock_t, spin_lock()       a pthread mutex.  A real spinning waiter
 *                                 would compete with the tracer for the
 *                                 machine's 2 CPUs while the holder is stalled
 *                                 in a window; a sleeping waiter gives the
 *                                 same exclusion without that.
 *   rwlock_t, read_lock() ...     a pthread rwlock.
 *   kthread_run()                 pthread_create().
 *   xchg(), cmpxchg(), RMW()      GCC __atomic builtins: XCHG and LOCK-prefixed
 *                                 instructions, which racewatch classifies as
 *                                 atomic read-modify-writes.
 *   interrupt handler             a signal handler (see irq.c).
 *
 * Every function a report should name is __named: not inlined, not cloned,
 * not folded with an identical twin (gcc's noipa), so the report's frame #0
 * is the function the sample's comment promises, at -O1 and -O2.
 */
#ifndef SAMPLES_MARKING_H
#define SAMPLES_MARKING_H

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "racewatch.h"

#if defined(__clang__)
#define __named __attribute__((noinline))
#else
#define __named __attribute__((noipa))
#endif

#define barrier() __asm__ __volatile__("" ::: "memory")

typedef pthread_mutex_t spinlock_t;
#define DEFINE_SPINLOCK(l)	spinlock_t l = PTHREAD_MUTEX_INITIALIZER
#define spin_lock_init(l)	pthread_mutex_init((l), NULL)
#define spin_lock(l)		pthread_mutex_lock(l)
#define spin_unlock(l)		pthread_mutex_unlock(l)

typedef pthread_rwlock_t rwlock_t;
#define DEFINE_RWLOCK(l)	rwlock_t l = PTHREAD_RWLOCK_INITIALIZER
#define read_lock(l)		pthread_rwlock_rdlock(l)
#define read_unlock(l)		pthread_rwlock_unlock(l)
#define write_lock(l)		pthread_rwlock_wrlock(l)
#define write_unlock(l)		pthread_rwlock_unlock(l)

#define xchg(p, v)	__atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)
#define cmpxchg(p, o, n) __extension__ ({				\
	__typeof__(*(p)) __old = (o);					\
	__atomic_compare_exchange_n((p), &__old, (n), 0,		\
				    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); \
	__old;								\
})
/* The seed's RMW(&a): one LOCK-prefixed read-modify-write. */
#define RMW(p)		__atomic_fetch_add((p), 1, __ATOMIC_SEQ_CST)

/* ---- harness ---------------------------------------------------------------- */

static long iterations;			/* argv[1], per thread */
static pthread_barrier_t start_line;	/* every thread starts its loop together */

/* iterations = argv[1] if given, else dflt; exits 2 on nonsense. */
static __attribute__((unused)) void parse_iterations(int argc, char **argv, long dflt)
{
	iterations = argc > 1 ? strtol(argv[1], NULL, 0) : dflt;
	if (iterations < 1) {
		fprintf(stderr, "usage: %s [ITERATIONS>0]\n", argv[0]);
		exit(2);
	}
}

long sink;	/* read values end here, so no read is optimized away */

/* Keep v alive without a data race on sink (which nobody watches). */
static __inline__ __attribute__((unused)) void keep(long v)
{
	__atomic_fetch_add(&sink, v, __ATOMIC_RELAXED);
}

/* Called first by every thread run_threads() started. */
static __attribute__((unused)) void wait_start(void)
{
	pthread_barrier_wait(&start_line);
}

/*
 * Run fn[0..n-1] each in its own thread, all released together by
 * wait_start(), and join them.  Postcondition: every access they made is
 * ordered before the caller's next statement.
 */
static __attribute__((unused)) void run_threads(int n, void *(*const fn[])(void *))
{
	pthread_t t[16];

	if (n > 16)
		abort();
	pthread_barrier_init(&start_line, NULL, (unsigned)n);
	for (int i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, fn[i], NULL)) {
			perror("pthread_create");
			exit(1);
		}
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&start_line);
}

#endif
