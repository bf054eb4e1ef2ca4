/*
 * ring_prepatch — the starvation the tun/tap seed's patch exists to prevent:
 * the producer stops the netdev queue when it finds the ring *already full*,
 * and hands the packet back to the qdisc (NETDEV_TX_BUSY).  Between the
 * producer seeing "full" and setting the stopped bit, the consumer can empty
 * the whole ring; each consume read the queue state before the stop, so
 * none of them wakes the queue.  Now the queue is stopped and the ring is
 * empty: the consumer has nothing to consume, so nothing will ever wake the
 * queue, and the qdisc holds its packets forever.  The patch's comment:
 *
 *	Do not stop the netdev queue if the ptr_ring is full already.
 *	The consumer could empty out the ptr_ring in the meantime
 *	without noticing the stopped netdev queue, resulting in a
 *	stopped netdev queue and an empty ptr_ring. In this case the
 *	netdev queue would stay stopped forever.
 *
 * Seed: /work/shared/seeds/tun-tap-ring-produce-consume.patch.txt.  The
 * consumer, the barriers and the marking are the patch's (as in
 * ring_patched.c); only the stop condition in tun_ring_produce() differs.
 * Kernel-to-user-space mapping and harness: tun_ring.h.
 *
 *	qdisc (producer)                reader (consumer)
 *	__ptr_ring_full(ring): true
 *	                                consume, stopped = false, discard
 *	                                ... the whole ring, never stopped ...
 *	netif_tx_stop_queue()
 *	return NETDEV_TX_BUSY
 *	queue stopped: wait for a wake  ring empty: nothing to consume
 *
 * This is a race condition, not a data race: every access involved is
 * marked, so racewatch has nothing to report.  What racewatch adds is its
 * stall: with ring_slots[0] watched, a producer whose "full?" load hits slot
 * 0 is held for up to --delay microseconds right after the load — exactly
 * the window above — and a small ring empties in it.  The program notices
 * the starvation itself: a watchdog sees no progress for a second while the
 * queue is stopped and the ring empty, prints "starvation: N" (N packets
 * stuck in the qdisc) and the program exits 3.
 *
 * What racewatch watches: ring_slots[0] only (the producer's full check on
 * it is the load whose stall opens the window; watching txq.state as well
 * would stall the consumer on every packet and keep it from emptying the
 * ring in time).
 *
 * Expected outcome (ring_prepatch.expect):
 *   racewatch run -w 'ring_slots[0]' -- ring_prepatch-O2 20000 4
 *   -> stdout "starvation: N", exit 3, no race reported.
 * Natively, `ring_prepatch` (200000 packets, ring of 8) starves in every run.
 */
#define VARIANT "ring_prepatch"
#include "tun_ring.h"

/* Produce a packet into the transmit ring.  Pre-patch: if the ring is full,
 * stop the netdev queue and give the packet back to the qdisc.
 */
static __attribute__((noinline)) int tun_ring_produce(struct ptr_ring *ring,
						      struct netdev_queue *queue,
						      struct sk_buff *skb)
{
	int ret;

	pthread_spin_lock(&ring->producer_lock);

	/* Pairs with smp_wmb() in __tun_ring_consume. */
	smp_rmb();

	if (unlikely(__ptr_ring_full(ring))) {
		/* BUG: the consumer may empty the ring before the stop
		 * below is visible to it, and then nobody wakes the queue. */
		stress_window();
		netif_tx_stop_queue(queue);
		ret = -ENOSPC;
	} else {
		ret = __ptr_ring_produce(ring, skb);
	}

	pthread_spin_unlock(&ring->producer_lock);

	return ret;
}

/* The patch's consumer, unchanged (see ring_patched.c for its comments). */
static __attribute__((noinline)) void *__tun_ring_consume(struct tun_file *tf)
{
	struct ptr_ring *ring = &tf->tx_ring;
	struct netdev_queue *q = &txq;
	bool stopped;
	void *ptr;

	ptr = __ptr_ring_peek(ring);
	if (!ptr)
		return ptr;

	smp_rmb();
	stopped = netif_tx_queue_stopped(q);
	stress_window();
	smp_rmb();
	__ptr_ring_discard_one(ring);

	if (unlikely(stopped &&
		     (__ptr_ring_consume_created_space(ring) ||
		      __ptr_ring_empty(ring)))) {
		smp_wmb();
		netif_tx_wake_queue(q);
	}

	return ptr;
}

/* Net device start xmit: a full ring requeues the packet. */
static __attribute__((noinline)) netdev_tx_t tun_net_xmit(struct sk_buff *skb)
{
	if (tun_ring_produce(&tfile.tx_ring, &txq, skb))
		return NETDEV_TX_BUSY;
	return NETDEV_TX_OK;
}
