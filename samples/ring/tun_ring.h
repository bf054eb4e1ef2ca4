/*
 * tun_ring.h — what the three samples/ring programs share: a user-space
 * port of include/linux/ptr_ring.h and of the netdev queue state bits, the
 * qdisc / reader / watchdog threads, and main().  Each program supplies the
 * part the seed is about:
 *
 *   static int tun_ring_produce(struct ptr_ring *, struct netdev_queue *, void *);
 *   static void *__tun_ring_consume(struct tun_file *);
 *   static netdev_tx_t tun_net_xmit(struct sk_buff *);
 *   #define VARIANT "name"                  (before the #include) printed first
 *
 * Seed: /work/shared/seeds/tun-tap-ring-produce-consume.patch.txt
 * ("[PATCH net-next v6 3/8] tun/tap: add synchronized ring produce/consume
 * with queue management", Simon Schippers, Tim Gebauer, Jon Kohler), with
 * the two ptr_ring helpers of patches 1/8 and 2/8 of the same series
 * (__ptr_ring_full_next, __ptr_ring_consume_created_space) as posted in v6.
 *
 * Kernel construct -> this port:
 *
 *   struct ptr_ring, its spinlocks  -> the same struct, pthread spinlocks;
 *                                      queue[] is a static array (ring_slots)
 *                                      instead of kcalloc()ed, so that
 *                                      `-w ring_slots[0]` can name a slot
 *   struct netdev_queue.state       -> one global `txq` whose only field is
 *                                      `state`; __QUEUE_STATE_DRV_XOFF is bit 0
 *   set_bit / test_and_clear_bit    -> __atomic_fetch_or / __atomic_fetch_and
 *                                      (LOCK-prefixed, as on x86)
 *   test_bit                        -> READ_ONCE of the word
 *   smp_wmb / smp_rmb, READ_ONCE,   -> include/racewatch.h (x86 is TSO: the
 *   WRITE_ONCE                         barriers are compiler barriers there
 *                                      too)
 *   the qdisc + NET_TX softirq      -> thread "qdisc": dequeues skbs in
 *     (qdisc_run -> tun_net_xmit)      order; while the queue is stopped it
 *                                      sleeps until __netif_schedule(), which
 *                                      netif_tx_wake_queue() calls (a POSIX
 *                                      semaphore, net_tx_sched); NETDEV_TX_BUSY
 *                                      requeues the skb (dev_requeue_skb)
 *   a process reading /dev/net/tun  -> thread "reader": tun_ring_consume()
 *     (tun_do_read, non-blocking)      in a loop, sched_yield() when empty
 *   struct sk_buff                  -> a pool of { seq } records; the reader
 *                                      checks that they arrive in order
 *   rcu_read_lock / rcu_dereference -> dropped: the device never goes away
 *     of tfile->tun                    here, there is one queue (index 0)
 *
 * PLAIN_PORT (defined by ring_plain.c before including this file) turns every
 * marked access into a plain one, every atomic bit operation into its
 * non-atomic __ form, and smp_rmb()/smp_wmb() into nothing: the accesses and
 * ordering the patch relies on, taken away.  Spinlocks and cpu_relax() (a
 * compiler barrier in the kernel too) stay.
 *
 * Marking of the slot accesses.  ptr_ring's own lockless accesses are marked
 * where the kernel marks them (the slot store in __ptr_ring_produce, the slot
 * load in __ptr_ring_peek, consumer_head).  The other slot accesses the other
 * side can see concurrently — the producer's "is this slot free" loads in
 * __ptr_ring_full, __ptr_ring_full_next and __ptr_ring_produce, the reader's
 * load in __ptr_ring_empty and its NULL stores when it invalidates consumed
 * entries — are marked here as well (SLOT_READ / SLOT_WRITE), so that
 * racewatch's silence on ring_patched is about the patch's scheme and not
 * about ptr_ring's internals.
 *
 * Stress jitter.  stress_window() stands at the two places where the
 * authors' interleavings need one CPU to be slow: in the producer between
 * deciding to stop the queue and stopping it, and in the consumer between
 * reading the queue state and discarding the entry.  It spins (never
 * sleeps) for a random few microseconds now and then, in every variant
 * alike; it orders nothing.  Under racewatch the stall after a watched
 * access opens the same windows, much wider.
 *
 * Usage: PROG [PACKETS [RING_SIZE]]  (defaults 200000 and 8).
 * Output: "VARIANT: N packets through a ring of S" then either
 *   "delivered N in order, dropped D, stops T, wakes W"   exit 0
 * or
 *   "starvation: K"  (K packets stuck behind a stopped queue whose ring is
 *   empty: nobody will ever wake it) and a line saying so, exit 3.
 * A run that makes no progress for STALL_MS while the queue is *not* in that
 * state prints "stall: ..." and exits 4 (never seen; it would be a bug here).
 */
#ifndef SAMPLES_RING_TUN_RING_H
#define SAMPLES_RING_TUN_RING_H

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "racewatch.h"

#define EXIT_STARVATION	3
#define EXIT_STALL	4
#define STALL_MS	1000	/* no progress for this long: look at the queue */
#define MAX_RING	1024
#define SMP_CACHE_BYTES	64

#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
#ifndef __always_inline
#define __always_inline	inline __attribute__((always_inline))
#endif
#define ____cacheline_aligned_in_smp __attribute__((aligned(SMP_CACHE_BYTES)))

static __always_inline void cpu_relax(void)
{
	__asm__ __volatile__("pause" ::: "memory");
}

#ifdef PLAIN_PORT
#define RING_READ_ONCE(x)	(x)
#define RING_WRITE_ONCE(x, v)	((x) = (v))
#define ring_smp_rmb()		do { } while (0)
#define ring_smp_wmb()		do { } while (0)
#else
#define RING_READ_ONCE(x)	READ_ONCE(x)
#define RING_WRITE_ONCE(x, v)	WRITE_ONCE(x, v)
#define ring_smp_rmb()		smp_rmb()
#define ring_smp_wmb()		smp_wmb()
#endif
#define SLOT_READ(x)		RING_READ_ONCE(x)
#define SLOT_WRITE(x, v)	RING_WRITE_ONCE(x, v)

/* ---- include/linux/ptr_ring.h ------------------------------------------- */

struct ptr_ring {
	int producer ____cacheline_aligned_in_smp;
	pthread_spinlock_t producer_lock;
	int consumer_head ____cacheline_aligned_in_smp; /* next valid entry */
	int consumer_tail;	/* next entry to invalidate */
	pthread_spinlock_t consumer_lock;
	/* Shared consumer/producer data */
	/* Read-only by both the producer and the consumer */
	int size ____cacheline_aligned_in_smp; /* max entries in queue */
	int batch;		/* number of entries to consume in a batch */
	void **queue;
};

/* Callers must hold producer_lock. */
static __always_inline bool __ptr_ring_full(struct ptr_ring *r)
{
	return SLOT_READ(r->queue[r->producer]);
}

/*
 * Checks if the ptr_ring will become full after the next insertion
 * (patch 1/8).  Callers must ensure that the ring is not full before calling
 * this: __ptr_ring_discard_one invalidates entries in reverse order, so the
 * next entry may be NULL while the current one is not.
 */
static __always_inline bool __ptr_ring_full_next(struct ptr_ring *r)
{
	int p;

	if (unlikely(r->size <= 1))
		return true;

	p = r->producer + 1;

	if (unlikely(p >= r->size))
		p = 0;

	return SLOT_READ(r->queue[p]);
}

/* Callers must hold producer_lock. */
static __always_inline int __ptr_ring_produce(struct ptr_ring *r, void *ptr)
{
	if (unlikely(!r->size) || SLOT_READ(r->queue[r->producer]))
		return -ENOSPC;

	/* Make sure the pointer we are storing points to a valid data. */
	/* Pairs with the dependency ordering in __ptr_ring_consume. */
	ring_smp_wmb();

	RING_WRITE_ONCE(r->queue[r->producer++], ptr);
	if (unlikely(r->producer >= r->size))
		r->producer = 0;
	return 0;
}

/* Callers must hold consumer_lock. */
static __always_inline void *__ptr_ring_peek(struct ptr_ring *r)
{
	if (likely(r->size))
		return RING_READ_ONCE(r->queue[r->consumer_head]);
	return NULL;
}

static __always_inline bool __ptr_ring_empty(struct ptr_ring *r)
{
	if (likely(r->size))
		return !SLOT_READ(r->queue[RING_READ_ONCE(r->consumer_head)]);
	return true;
}

/* Must only be called after __ptr_ring_peek returned !NULL */
static __always_inline void __ptr_ring_discard_one(struct ptr_ring *r)
{
	/* Update consumer_head, and zero out entries in batches so the
	 * producer can reuse them; consumer_head must stay valid at all times
	 * for __ptr_ring_empty to work. */
	int consumer_head = r->consumer_head;
	int head = consumer_head++;

	if (unlikely(consumer_head - r->consumer_tail >= r->batch ||
		     consumer_head >= r->size)) {
		/* Zero out entries in the reverse order: this way we touch the
		 * cache line that producer might currently be reading the last;
		 * producer won't make progress and touch other cache lines
		 * besides the first one until we write out all entries. */
		while (likely(head >= r->consumer_tail))
			SLOT_WRITE(r->queue[head--], NULL);
		r->consumer_tail = consumer_head;
	}
	if (unlikely(consumer_head >= r->size)) {
		consumer_head = 0;
		r->consumer_tail = 0;
	}
	/* matching READ_ONCE in __ptr_ring_empty for lockless tests */
	RING_WRITE_ONCE(r->consumer_head, consumer_head);
}

/*
 * Patch 2/8 (v6): true if the last __ptr_ring_consume()/discard created
 * space, i.e. invalidated a batch (tail caught up with head) or wrapped
 * (both reset to 0).  Only valid right after one consume.
 */
static __always_inline bool __ptr_ring_consume_created_space(struct ptr_ring *r)
{
	return r->consumer_tail >= r->consumer_head;
}

static void ptr_ring_init(struct ptr_ring *r, void **queue, int size)
{
	r->size = size;
	r->queue = queue;
	r->producer = r->consumer_head = r->consumer_tail = 0;
	/* __ptr_ring_set_size() */
	r->batch = SMP_CACHE_BYTES * 2 / sizeof(*(r->queue));
	if (r->batch > r->size / 2 || !r->batch)
		r->batch = 1;
	pthread_spin_init(&r->producer_lock, PTHREAD_PROCESS_PRIVATE);
	pthread_spin_init(&r->consumer_lock, PTHREAD_PROCESS_PRIVATE);
}

/* ---- struct netdev_queue and its stop/wake bits ------------------------- */

enum netdev_queue_state_t {
	__QUEUE_STATE_DRV_XOFF,
};

struct netdev_queue {
	unsigned long state;	/* only the field this seed is about */
};

typedef enum { NETDEV_TX_OK = 0, NETDEV_TX_BUSY = 0x10 } netdev_tx_t;

struct sk_buff {
	unsigned long seq;	/* written by the qdisc before the produce */
};

struct tun_file {
	struct ptr_ring tx_ring;
};

/* What racewatch watches (see each program's header for why these). */
struct netdev_queue txq;
void *ring_slots[MAX_RING];
struct tun_file tfile;

static sem_t net_tx_sched;	/* __netif_schedule(): raise NET_TX again */
static unsigned long stops, wakes;	/* counted by their only writer */

/* Not const: racewatch.h's READ_ONCE() keeps the qualifiers of its operand. */
static __always_inline bool netif_tx_queue_stopped(struct netdev_queue *q)
{
	return RING_READ_ONCE(q->state) & (1ul << __QUEUE_STATE_DRV_XOFF);
}

/* What the qdisc checks before dequeuing (netif_xmit_frozen_or_stopped). */
static __always_inline bool netif_xmit_stopped(struct netdev_queue *q)
{
	return netif_tx_queue_stopped(q);
}

static __always_inline void netif_tx_stop_queue(struct netdev_queue *q)
{
#ifdef PLAIN_PORT
	q->state |= 1ul << __QUEUE_STATE_DRV_XOFF;		/* __set_bit */
#else
	__atomic_fetch_or(&q->state, 1ul << __QUEUE_STATE_DRV_XOFF,
			  __ATOMIC_RELAXED);			/* set_bit */
#endif
	stops++;
}

static __always_inline void netif_tx_wake_queue(struct netdev_queue *q)
{
	unsigned long old;

#ifdef PLAIN_PORT
	old = q->state;						/* __test_and_clear_bit */
	q->state = old & ~(1ul << __QUEUE_STATE_DRV_XOFF);
#else
	old = __atomic_fetch_and(&q->state, ~(1ul << __QUEUE_STATE_DRV_XOFF),
				 __ATOMIC_SEQ_CST);		/* test_and_clear_bit */
#endif
	if (old & (1ul << __QUEUE_STATE_DRV_XOFF)) {
		wakes++;
		sem_post(&net_tx_sched);			/* __netif_schedule */
	}
}

/* ---- stress jitter (see the top of this file) --------------------------- */

static __thread uint64_t jitter_state;

static __always_inline uint64_t jitter_rand(void)
{
	uint64_t x = jitter_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return jitter_state = x;
}

/* About one call in 8 spins for 0..~1000 pause instructions. */
static __attribute__((noinline)) void stress_window(void)
{
	uint64_t r = jitter_rand();

	if ((r & 7) == 0)
		for (unsigned n = (r >> 8) & 1023; n; n--)
			cpu_relax();
}

/* ---- the program-specific part, defined by each ring_*.c ---------------- */

static int tun_ring_produce(struct ptr_ring *ring, struct netdev_queue *queue,
			    struct sk_buff *skb);
static void *__tun_ring_consume(struct tun_file *tfile);
static netdev_tx_t tun_net_xmit(struct sk_buff *skb);

static __attribute__((noinline)) void *tun_ring_consume(struct tun_file *tf)
{
	void *ptr;

	pthread_spin_lock(&tf->tx_ring.consumer_lock);
	ptr = __tun_ring_consume(tf);
	pthread_spin_unlock(&tf->tx_ring.consumer_lock);

	return ptr;
}

/* ---- the harness: qdisc, reader, watchdog ------------------------------- */

static unsigned long npackets = 200000;
static int ring_size = 8;
static struct sk_buff skb_pool[2 * MAX_RING + 2];
static unsigned long dropped;		/* written by the qdisc only */
static bool out_of_order;		/* written by the reader only */

/* Progress and shutdown: C11 atomics on variables nobody watches. */
static unsigned long sent, delivered;
static int stop_all;

static void *qdisc_thread(void *arg)
{
	unsigned long seq = 0;

	(void)arg;
	jitter_state = 0x9e3779b97f4a7c15ull;
	while (seq < npackets) {
		struct sk_buff *skb;

		if (__atomic_load_n(&stop_all, __ATOMIC_ACQUIRE))
			break;
		/* qdisc_run(): a stopped queue keeps the skb in the qdisc
		 * until netif_tx_wake_queue() reschedules NET_TX. */
		if (netif_xmit_stopped(&txq)) {
			sem_wait(&net_tx_sched);
			continue;
		}
		skb = &skb_pool[seq % (sizeof(skb_pool) / sizeof(skb_pool[0]))];
		skb->seq = seq;
		if (tun_net_xmit(skb) == NETDEV_TX_BUSY)
			continue;	/* dev_requeue_skb(): try it again */
		seq++;
		__atomic_store_n(&sent, seq, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void *reader_thread(void *arg)
{
	unsigned long n = 0;

	(void)arg;
	jitter_state = 0xd1b54a32d192ed03ull;
	while (n + __atomic_load_n(&dropped, __ATOMIC_RELAXED) < npackets) {
		struct sk_buff *skb;

		if (__atomic_load_n(&stop_all, __ATOMIC_ACQUIRE))
			break;
		skb = tun_ring_consume(&tfile);
		if (!skb) {
			sched_yield();	/* -EAGAIN: poll again */
			continue;
		}
		if (skb->seq != n + __atomic_load_n(&dropped, __ATOMIC_RELAXED))
			out_of_order = true;
		n++;
		__atomic_store_n(&delivered, n, __ATOMIC_RELAXED);
		stress_window();	/* copying the packet to user space */
	}
	return NULL;
}

static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static bool done;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ll + ts.tv_nsec / 1000000;
}

/* Returns (void *)1 if it stopped a run that made no progress for STALL_MS. */
static void *watchdog_thread(void *arg)
{
	unsigned long last = ~0ul;
	long long since = now_ms();
	void *stalled = NULL;

	(void)arg;
	pthread_mutex_lock(&done_lock);
	while (!done) {
		struct timespec until;
		unsigned long progress;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 20 * 1000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&done_cond, &done_lock, &until);
		progress = __atomic_load_n(&sent, __ATOMIC_RELAXED) +
			   __atomic_load_n(&delivered, __ATOMIC_RELAXED);
		if (progress != last) {
			last = progress;
			since = now_ms();
		} else if (!done && now_ms() - since >= STALL_MS) {
			__atomic_store_n(&stop_all, 1, __ATOMIC_RELEASE);
			sem_post(&net_tx_sched);	/* unblock the qdisc */
			stalled = (void *)1;
			break;
		}
	}
	pthread_mutex_unlock(&done_lock);
	return stalled;
}

int main(int argc, char **argv)
{
	pthread_t q, r, w;
	void *stalled;

	if (argc > 1)
		npackets = strtoul(argv[1], NULL, 0);
	if (argc > 2)
		ring_size = atoi(argv[2]);
	if (npackets < 1 || ring_size < 2 || ring_size > MAX_RING) {
		fprintf(stderr, "usage: %s [PACKETS>0 [RING_SIZE 2..%d]]\n",
			argv[0], MAX_RING);
		return 2;
	}
	ptr_ring_init(&tfile.tx_ring, ring_slots, ring_size);
	sem_init(&net_tx_sched, 0, 0);
	printf("%s: %lu packets through a ring of %d\n", VARIANT, npackets,
	       ring_size);
	fflush(stdout);

	if (pthread_create(&w, NULL, watchdog_thread, NULL) ||
	    pthread_create(&q, NULL, qdisc_thread, NULL) ||
	    pthread_create(&r, NULL, reader_thread, NULL)) {
		perror("pthread_create");
		return 1;
	}
	pthread_join(q, NULL);
	pthread_join(r, NULL);
	pthread_mutex_lock(&done_lock);
	done = true;
	pthread_cond_signal(&done_cond);
	pthread_mutex_unlock(&done_lock);
	pthread_join(w, &stalled);

	/* Every thread that touched the ring or the queue is joined. */
	if (stalled) {
		unsigned long stuck = npackets - delivered - dropped;

		if (netif_tx_queue_stopped(&txq) && __ptr_ring_empty(&tfile.tx_ring)) {
			printf("starvation: %lu\n", stuck);
			printf("the queue is stopped, the ring is empty: nobody will wake it\n");
			return EXIT_STARVATION;
		}
		printf("stall: %lu packets stuck, queue %s, ring %s\n", stuck,
		       netif_tx_queue_stopped(&txq) ? "stopped" : "running",
		       __ptr_ring_empty(&tfile.tx_ring) ? "empty" : "not empty");
		return EXIT_STALL;
	}
	if (out_of_order) {
		printf("packets delivered out of order\n");
		return 1;
	}
	printf("delivered %lu in order, dropped %lu, stops %lu, wakes %lu\n",
	       delivered, dropped, stops, wakes);
	return 0;
}

#endif /* SAMPLES_RING_TUN_RING_H */
