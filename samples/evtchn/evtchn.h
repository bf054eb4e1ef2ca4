/*
 * evtchn.h — what the two samples/evtchn programs share: a user-space port
 * of Xen's FIFO event channels (xen/common/event_fifo.c as of the Xen 4.4
 * development tree, Nov 2013, after "evtchn/fifo: don't corrupt queues if an
 * old tail is linked"), the guest side that consumes the queues (Linux's
 * drivers/xen/events/events_fifo.c of the same time), three threads that
 * raise, mask/unmask and consume events, and main().  Each program supplies
 *
 *   static void evtchn_fifo_set_pending(struct vcpu *v, struct evtchn *evtchn);
 *   #define VARIANT "name"        (before the #include)
 *
 * Seed: /work/shared/seeds/xen-evtchn-fifo-old-tail-race.txt (David Vrabel,
 * "Re: [PATCH 2/2] evtchn/fifo: don't corrupt queues if an old tail is
 * linked", xen-devel, 20 Nov 2013).
 *
 * Kernel/hypervisor construct -> this port:
 *
 *   event word (PENDING, MASKED,     -> uint32_t event_array[] shared by the
 *     LINKED, BUSY, 17-bit LINK)        "hypervisor" and "guest" threads
 *   test_bit                         -> READ_ONCE of the word (Xen's test_bit
 *                                       reads through a volatile pointer)
 *   set_bit, clear_bit,              -> LOCK-prefixed __atomic builtins,
 *     test_and_set_bit, cmpxchg         as on x86
 *   read_atomic / write_atomic       -> READ_ONCE / WRITE_ONCE
 *   spin_lock_irqsave(&q->lock)      -> pthread spinlock (no interrupts here)
 *   d->event_lock                    -> pthread spinlock per domain
 *   struct evtchn, queues, vcpus     -> the same fields, static arrays
 *   the guest's control block page   -> struct evtchn_fifo_control_block
 *   upcall + vcpu_mark_events_pending -> a flag the guest vCPU thread polls
 *
 * The three threads:
 *   backend   dom0 notifying the guest over interdomain channels:
 *             evtchn_send() holds *dom0's* event_lock (the "remote domain's
 *             event lock" of the mail) and calls set_pending on domU's port.
 *             It raises a port again only once the guest has handled the
 *             previous event on it (like a ring's notify-on-catch-up), so
 *             every raise must give exactly one delivery.
 *   driver    a guest vCPU running a driver that disables and re-enables
 *             its interrupt (mask, unmask) and re-prioritises it each time
 *             (EVTCHNOP_set_priority): a guest unmask that finds PENDING
 *             makes the EVTCHNOP_unmask hypercall, which holds *domU's*
 *             event_lock and calls set_pending too.  The priority change
 *             moves the event to another queue on its next linking, which
 *             is what last_priority / the old-tail logic is for.
 *   guest     vCPU 0's upcall handler: takes the ready bits, walks the
 *             queues (consume_one_event), acks and counts each event.
 * Only priorities move queues here (one receiving vCPU): last_vcpu_id stays
 * 0, last_priority carries the old queue.
 *
 * Stress jitter: stress_window() spins a random few microseconds now and
 * then where the mail's interleavings need one CPU to be slow (in
 * set_pending after setting PENDING and again between the MASKED/LINKED
 * test and the locking, and in the guest's unmask between clearing MASKED
 * and testing PENDING).  It orders
 * nothing; under racewatch the stall after a watched access opens the same
 * windows, wider.
 *
 * Usage: PROG [EVENTS [PORTS]]   (defaults 20000 and 4; ports 1..PORTS)
 * Output: "VARIANT: EVENTS events over PORTS ports", then
 *   "raised R, delivered D, spurious S" and "lost: L" (L = R - D: raised
 *   events the guest never saw; they sit LINKED but unreachable, so their
 *   ports are dead; S: events with no new work, which Xen may deliver).
 * Exit 0 if nothing was lost, 3 if events were lost.  A run ends when every
 * raised event is delivered or when nothing is delivered for STALL_MS.
 */
#ifndef SAMPLES_EVTCHN_EVTCHN_H
#define SAMPLES_EVTCHN_EVTCHN_H

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "racewatch.h"

#define EXIT_LOST	3
#define STALL_MS	1000
#define MAX_PORTS	64

#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
#ifndef __always_inline
#define __always_inline	inline __attribute__((always_inline))
#endif

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef bool bool_t;
typedef pthread_spinlock_t spinlock_t;

/* ---- xen/include/public/event_channel.h ---------------------------------- */

typedef uint32_t event_word_t;

#define EVTCHN_FIFO_PENDING	31
#define EVTCHN_FIFO_MASKED	30
#define EVTCHN_FIFO_LINKED	29
#define EVTCHN_FIFO_BUSY	28

#define EVTCHN_FIFO_LINK_BITS	17
#define EVTCHN_FIFO_LINK_MASK	((1 << EVTCHN_FIFO_LINK_BITS) - 1)

#define EVTCHN_FIFO_PRIORITY_MAX	0
#define EVTCHN_FIFO_PRIORITY_DEFAULT	7
#define EVTCHN_FIFO_PRIORITY_MIN	15
#define EVTCHN_FIFO_MAX_QUEUES	(EVTCHN_FIFO_PRIORITY_MIN + 1)

struct evtchn_fifo_control_block {
	u32 ready;
	u32 _rsvd;
	u32 head[EVTCHN_FIFO_MAX_QUEUES];
};

/* ---- Xen's bit operations on event words --------------------------------- */

/* As in Xen's asm-x86/bitops.h: one LOCK-prefixed instruction each.  (With
 * __atomic_fetch_or, gcc may instead emit a plain load followed by a
 * `lock cmpxchg` loop, and that load is a plain access.) */
static __always_inline int test_bit(int nr, event_word_t *word)
{
	return (READ_ONCE(*word) >> nr) & 1;
}

static __always_inline void set_bit(int nr, event_word_t *word)
{
	__asm__ __volatile__("lock; btsl %1,%0" : "+m" (*word) : "Ir" (nr) : "memory");
}

static __always_inline void clear_bit(int nr, event_word_t *word)
{
	__asm__ __volatile__("lock; btrl %1,%0" : "+m" (*word) : "Ir" (nr) : "memory");
}

static __always_inline int test_and_set_bit(int nr, event_word_t *word)
{
	unsigned char old;

	__asm__ __volatile__("lock; btsl %2,%1\n\tsetc %0"
			     : "=qm" (old), "+m" (*word) : "Ir" (nr) : "memory");
	return old;
}

static __always_inline event_word_t cmpxchg(event_word_t *word, event_word_t old,
					    event_word_t new)
{
	__atomic_compare_exchange_n(word, &old, new, false, __ATOMIC_SEQ_CST,
				    __ATOMIC_SEQ_CST);
	return old;	/* the value found: == old on success */
}

/* ---- xen/include/xen/sched.h, event_fifo.h -------------------------------- */

struct evtchn {
	u8  state;		/* ECS_INTERDOMAIN for every port used here */
	u16 notify_vcpu_id;	/* VCPU for local delivery notification */
	u32 port;
	u8  priority;		/* set by EVTCHNOP_set_priority */
	u8  last_priority;	/* queue it was last linked on: priority ... */
	u16 last_vcpu_id;	/* ... and vcpu */
};

struct evtchn_fifo_queue {
	u32 *head;		/* points into control block */
	u32 tail;
	u8 priority;
	spinlock_t lock;
};

struct evtchn_fifo_vcpu {
	struct evtchn_fifo_control_block *control_block;
	struct evtchn_fifo_queue queue[EVTCHN_FIFO_MAX_QUEUES];
};

struct domain;

struct vcpu {
	int vcpu_id;
	struct domain *domain;
	struct evtchn_fifo_vcpu *evtchn_fifo;
	int upcall_pending;	/* vcpu_info->evtchn_upcall_pending */
};

struct domain {
	int domain_id;
	spinlock_t event_lock;
	struct vcpu *vcpu[1];
	unsigned int num_evtchns;
	struct evtchn evtchn[MAX_PORTS + 1];
};

/* What racewatch watches (see each program's header for why these). */
event_word_t event_array[MAX_PORTS + 1];	/* domU's event array page */
struct domain dom0, domU;

static struct vcpu domU_vcpu0;
static struct evtchn_fifo_vcpu domU_vcpu0_fifo;
static struct evtchn_fifo_control_block domU_vcpu0_control_block;

static __always_inline event_word_t *evtchn_fifo_word_from_port(struct domain *d,
								unsigned int port)
{
	if (unlikely(port >= d->num_evtchns))
		return NULL;
	return &event_array[port];
}

/* ---- stress jitter (see the top of this file) ---------------------------- */

static __thread uint64_t jitter_state;

static __attribute__((noinline)) void stress_window(void)
{
	uint64_t x = jitter_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	jitter_state = x;
	if ((x & 3) == 0)
		for (unsigned n = (x >> 8) & 1023; n; n--)
			__asm__ __volatile__("pause" ::: "memory");
}

/* ---- xen/common/event_fifo.c: the parts both variants share -------------- */

static void evtchn_fifo_set_pending(struct vcpu *v, struct evtchn *evtchn);

static int try_set_link(event_word_t *word, event_word_t *w, uint32_t link)
{
	event_word_t new, old;

	if (!(*w & (1 << EVTCHN_FIFO_LINKED)))
		return 0;

	old = *w;
	new = (old & ~((1 << EVTCHN_FIFO_BUSY) | EVTCHN_FIFO_LINK_MASK)) | link;
	*w = cmpxchg(word, old, new);
	if (*w == old)
		return 1;

	return -1;	/* -EAGAIN */
}

/*
 * Atomically set the LINK field iff it is still LINKED.
 *
 * The guest is only permitted to make the following changes to a
 * LINKED event.
 *
 * - set MASKED
 * - clear MASKED
 * - clear PENDING
 * - clear LINKED (and LINK)
 *
 * We block unmasking by the guest by marking the tail word as BUSY,
 * therefore, the cmpxchg() may fail at most 4 times.
 */
static bool_t evtchn_fifo_set_link(struct domain *d, event_word_t *word,
				   uint32_t link)
{
	event_word_t w;
	unsigned int try;
	int ret;

	(void)d;
	w = READ_ONCE(*word);	/* read_atomic */

	ret = try_set_link(word, &w, link);
	if (ret >= 0)
		return ret;

	/* Lock the word to prevent guest unmasking. */
	set_bit(EVTCHN_FIFO_BUSY, word);

	w = READ_ONCE(*word);

	for (try = 0; try < 4; try++) {
		ret = try_set_link(word, &w, link);
		if (ret >= 0) {
			if (ret == 0)
				clear_bit(EVTCHN_FIFO_BUSY, word);
			return ret;
		}
	}
	fprintf(stderr, "port %u not linked\n", link);
	clear_bit(EVTCHN_FIFO_BUSY, word);
	return 1;
}

static void vcpu_mark_events_pending(struct vcpu *v)
{
	__atomic_store_n(&v->upcall_pending, 1, __ATOMIC_SEQ_CST);
}

/* The event port ops' .unmask (EVTCHNOP_unmask, with d->event_lock held). */
static void evtchn_fifo_unmask(struct domain *d, struct evtchn *evtchn)
{
	struct vcpu *v = d->vcpu[evtchn->notify_vcpu_id];
	event_word_t *word;

	word = evtchn_fifo_word_from_port(d, evtchn->port);
	if (unlikely(!word))
		return;

	clear_bit(EVTCHN_FIFO_MASKED, word);

	/* Relink if pending. */
	if (test_bit(EVTCHN_FIFO_PENDING, word))
		evtchn_fifo_set_pending(v, evtchn);
}

/* xen/common/event_channel.c: the hypercalls and evtchn_send(). */

static __attribute__((noinline)) void do_evtchnop_unmask(struct domain *d, unsigned int port)
{
	pthread_spin_lock(&d->event_lock);
	evtchn_fifo_unmask(d, &d->evtchn[port]);
	pthread_spin_unlock(&d->event_lock);
}

static __attribute__((noinline)) void do_evtchnop_set_priority(struct domain *d,
							       unsigned int port,
							       unsigned int priority)
{
	pthread_spin_lock(&d->event_lock);
	/*
	 * Only need to switch to the new queue for future events. If the
	 * event is already pending or in the process of being linked it
	 * will be on the old queue -- this is fine.
	 */
	d->evtchn[port].priority = priority;
	pthread_spin_unlock(&d->event_lock);
}

/* dom0 (ld) notifies domU (rd) over the interdomain channel lport -> rport. */
static __attribute__((noinline)) void evtchn_send(struct domain *ld, struct domain *rd,
						  unsigned int rport)
{
	struct evtchn *rchn;
	struct vcpu *rvcpu;

	pthread_spin_lock(&ld->event_lock);
	rchn = &rd->evtchn[rport];
	rvcpu = rd->vcpu[rchn->notify_vcpu_id];
	/* evtchn_set_pending -> evtchn_port_set_pending */
	evtchn_fifo_set_pending(rvcpu, rchn);
	pthread_spin_unlock(&ld->event_lock);
}

/* ---- the guest: Linux drivers/xen/events/events_fifo.c ------------------- */

static u32 guest_local_head[EVTCHN_FIFO_MAX_QUEUES];	/* per_cpu(cpu_queue) */
static unsigned long raised[MAX_PORTS + 1];	/* by the backend only */
static unsigned long handled[MAX_PORTS + 1];	/* by the guest only */

static __always_inline void sync_set_bit(int nr, event_word_t *word) { set_bit(nr, word); }
static __always_inline void sync_clear_bit(int nr, event_word_t *word) { clear_bit(nr, word); }
static __always_inline int sync_test_bit(int nr, event_word_t *word) { return test_bit(nr, word); }

static uint32_t clear_linked(event_word_t *word)
{
	event_word_t new, old, w;

	w = READ_ONCE(*word);

	do {
		old = w;
		new = (w & ~((1 << EVTCHN_FIFO_LINKED) | EVTCHN_FIFO_LINK_MASK));
	} while ((w = cmpxchg(word, old, new)) != old);

	return w & EVTCHN_FIFO_LINK_MASK;
}

static unsigned long spurious;			/* by the guest only */

/*
 * handle_irq_for_port(): the edge handler acks (clears PENDING), then the
 * driver looks for work the backend announced (raised[], like a shared
 * ring's producer index).  An event with no new work is spurious: Xen may
 * deliver one (EVTCHNOP_unmask re-sets PENDING if the guest cleared it
 * between the hypercall's test and set_pending), and drivers shrug it off.
 */
static void handle_irq_for_port(unsigned int port)
{
	unsigned long work;

	sync_clear_bit(EVTCHN_FIFO_PENDING, &event_array[port]);
	work = __atomic_load_n(&raised[port], __ATOMIC_ACQUIRE);
	if (work > handled[port])
		__atomic_store_n(&handled[port], work, __ATOMIC_RELEASE);
	else
		spurious++;
}

static void consume_one_event(struct evtchn_fifo_control_block *control_block,
			      unsigned priority, u32 *ready)
{
	uint32_t head;
	unsigned port;
	event_word_t *word;

	head = guest_local_head[priority];

	/*
	 * Reached the tail last time?  Read the new HEAD from the
	 * control block.
	 */
	if (head == 0) {
		smp_rmb(); /* Ensure word is up-to-date before reading head. */
		head = READ_ONCE(control_block->head[priority]);
	}

	port = head;
	word = &event_array[port];
	head = clear_linked(word);

	/*
	 * If the link is non-zero, there are more events in the
	 * queue, otherwise the queue is empty.
	 *
	 * If the queue is empty, clear this priority from our local
	 * copy of the ready word.
	 */
	if (head == 0)
		*ready &= ~(1u << priority);

	if (sync_test_bit(EVTCHN_FIFO_PENDING, word) &&
	    !sync_test_bit(EVTCHN_FIFO_MASKED, word))
		handle_irq_for_port(port);

	guest_local_head[priority] = head;
}

static void __evtchn_fifo_handle_events(struct evtchn_fifo_control_block *control_block)
{
	u32 ready;
	unsigned q;

	ready = __atomic_exchange_n(&control_block->ready, 0, __ATOMIC_SEQ_CST);

	while (ready) {
		q = __builtin_ctz(ready);	/* find_first_bit */
		consume_one_event(control_block, q, &ready);
		ready |= __atomic_exchange_n(&control_block->ready, 0, __ATOMIC_SEQ_CST);
	}
}

/* Clear MASKED, spinning if BUSY is set. */
static void clear_masked(event_word_t *word)
{
	event_word_t new, old, w;

	w = READ_ONCE(*word);

	do {
		old = w & ~(1 << EVTCHN_FIFO_BUSY);
		new = old & ~(1 << EVTCHN_FIFO_MASKED);
		w = cmpxchg(word, old, new);
	} while (w != old);
}

static void guest_evtchn_mask(unsigned port)
{
	sync_set_bit(EVTCHN_FIFO_MASKED, &event_array[port]);
}

static void guest_evtchn_unmask(unsigned port)
{
	event_word_t *word = &event_array[port];

	clear_masked(word);
	stress_window();
	if (sync_test_bit(EVTCHN_FIFO_PENDING, word))
		do_evtchnop_unmask(&domU, port);	/* HYPERVISOR_event_channel_op */
}

/* ---- the threads and main() ----------------------------------------------- */

static unsigned long nevents = 20000;
static unsigned int nports = 4;
static int stop_all;		/* C11 atomics; nobody watches these */
static unsigned long raised_total;

static void *backend_thread(void *arg)
{
	unsigned int port = 0;

	(void)arg;
	jitter_state = 0x9e3779b97f4a7c15ull;
	while (raised_total < nevents && !__atomic_load_n(&stop_all, __ATOMIC_ACQUIRE)) {
		unsigned int i;

		/* The next port whose last event the guest has handled. */
		for (i = 0; i < nports; i++) {
			port = port % nports + 1;
			if (__atomic_load_n(&handled[port], __ATOMIC_ACQUIRE) == raised[port])
				break;
		}
		if (i == nports) {
			sched_yield();
			continue;
		}
		__atomic_store_n(&raised[port], raised[port] + 1, __ATOMIC_RELAXED);
		__atomic_store_n(&raised_total, raised_total + 1, __ATOMIC_RELAXED);
		evtchn_send(&dom0, &domU, port);
	}
	return NULL;
}

static void *driver_thread(void *arg)
{
	unsigned long n = 0;

	(void)arg;
	jitter_state = 0xbf58476d1ce4e5b9ull;
	while (!__atomic_load_n(&stop_all, __ATOMIC_ACQUIRE)) {
		unsigned int port = (unsigned int)(n % nports) + 1;

		guest_evtchn_mask(port);			/* disable_irq */
		/* xen_set_irq_priority: alternate between two priorities, so
		 * that most linkings move the event to another queue. */
		do_evtchnop_set_priority(&domU, port,
			(n / nports) % 2 ? EVTCHN_FIFO_PRIORITY_DEFAULT
					 : EVTCHN_FIFO_PRIORITY_DEFAULT - 1);
		guest_evtchn_unmask(port);			/* enable_irq */
		n++;
	}
	return NULL;
}

static void *guest_thread(void *arg)
{
	struct vcpu *v = &domU_vcpu0;

	(void)arg;
	while (!__atomic_load_n(&stop_all, __ATOMIC_ACQUIRE)) {
		if (__atomic_exchange_n(&v->upcall_pending, 0, __ATOMIC_SEQ_CST))
			__evtchn_fifo_handle_events(v->evtchn_fifo->control_block);
		else
			sched_yield();
	}
	return NULL;
}

static unsigned long delivered_total(void)
{
	unsigned long d = 0;

	for (unsigned int p = 1; p <= nports; p++)
		d += __atomic_load_n(&handled[p], __ATOMIC_ACQUIRE);
	return d;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ll + ts.tv_nsec / 1000000;
}

static void domain_init(struct domain *d, int id)
{
	d->domain_id = id;
	pthread_spin_init(&d->event_lock, PTHREAD_PROCESS_PRIVATE);
	d->num_evtchns = MAX_PORTS + 1;
	for (unsigned int p = 0; p <= MAX_PORTS; p++) {
		d->evtchn[p].port = p;
		d->evtchn[p].state = 2;	/* ECS_INTERDOMAIN */
		d->evtchn[p].priority = EVTCHN_FIFO_PRIORITY_DEFAULT;
		d->evtchn[p].last_priority = EVTCHN_FIFO_PRIORITY_DEFAULT;
	}
}

int main(int argc, char **argv)
{
	pthread_t b, g, dr;
	unsigned long last, lost, raised_n, delivered_n;
	long long since;

	if (argc > 1)
		nevents = strtoul(argv[1], NULL, 0);
	if (argc > 2)
		nports = (unsigned int)atoi(argv[2]);
	if (nevents < 1 || nports < 1 || nports > MAX_PORTS) {
		fprintf(stderr, "usage: %s [EVENTS>0 [PORTS 1..%d]]\n", argv[0], MAX_PORTS);
		return 2;
	}

	/* evtchn_fifo_init_control(): one vCPU, its control block and queues. */
	domain_init(&dom0, 0);
	domain_init(&domU, 1);
	domU.vcpu[0] = &domU_vcpu0;
	domU_vcpu0.domain = &domU;
	domU_vcpu0.evtchn_fifo = &domU_vcpu0_fifo;
	domU_vcpu0_fifo.control_block = &domU_vcpu0_control_block;
	for (unsigned int i = 0; i < EVTCHN_FIFO_MAX_QUEUES; i++) {
		struct evtchn_fifo_queue *q = &domU_vcpu0_fifo.queue[i];

		pthread_spin_init(&q->lock, PTHREAD_PROCESS_PRIVATE);
		q->priority = (u8)i;
		q->head = &domU_vcpu0_control_block.head[i];
	}

	printf("%s: %lu events over %u ports\n", VARIANT, nevents, nports);
	fflush(stdout);

	if (pthread_create(&g, NULL, guest_thread, NULL) ||
	    pthread_create(&dr, NULL, driver_thread, NULL) ||
	    pthread_create(&b, NULL, backend_thread, NULL)) {
		perror("pthread_create");
		return 1;
	}

	/* Wait until every raised event is delivered, or nothing moves for
	 * STALL_MS (lost events: the backend waits on their ports forever). */
	last = ~0ul;
	since = now_ms();
	for (;;) {
		unsigned long progress = delivered_total();
		struct timespec tick = { 0, 5 * 1000000 };

		if (__atomic_load_n(&raised_total, __ATOMIC_RELAXED) >= nevents &&
		    progress >= nevents)
			break;
		if (progress != last) {
			last = progress;
			since = now_ms();
		} else if (now_ms() - since >= STALL_MS) {
			break;
		}
		nanosleep(&tick, NULL);	/* polling interval of this watchdog */
	}
	__atomic_store_n(&stop_all, 1, __ATOMIC_RELEASE);
	pthread_join(b, NULL);
	pthread_join(dr, NULL);
	pthread_join(g, NULL);

	raised_n = raised_total;
	delivered_n = delivered_total();
	lost = raised_n - delivered_n;
	printf("raised %lu, delivered %lu, spurious %lu\n", raised_n, delivered_n,
	       spurious);
	printf("lost: %lu\n", lost);
	return lost ? EXIT_LOST : 0;
}

#endif /* SAMPLES_EVTCHN_EVTCHN_H */
