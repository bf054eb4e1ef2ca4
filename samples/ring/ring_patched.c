/*
 * ring_patched — the tun/tap seed's scheme, as the patch writes it: a
 * lockless ptr_ring between the qdisc (producer) and a reader (consumer),
 * and the netdev queue stopped *before* the ring can fill and woken by the
 * consumer when it creates space or empties the ring.
 *
 * Seed: /work/shared/seeds/tun-tap-ring-produce-consume.patch.txt
 * ("[PATCH net-next v6 3/8] tun/tap: add synchronized ring produce/consume
 * with queue management").  tun_ring_produce() and __tun_ring_consume()
 * below are the patch's functions line for line; the kernel-to-user-space
 * mapping, the ptr_ring port and the harness are in tun_ring.h.
 *
 * The scheme (the patch's own words, condensed):
 *  - the producer stops the queue when the ring is not full yet but the
 *    next produce would fill it (!__ptr_ring_full && __ptr_ring_full_next),
 *    then produces; __ptr_ring_produce's smp_wmb() makes the stopped state
 *    visible before the entry;
 *  - it never stops a queue whose ring is already full: the consumer could
 *    empty the ring in the meantime without seeing the stop (ring_prepatch
 *    shows the starvation that causes);
 *  - the consumer peeks, smp_rmb(), reads the queue state, smp_rmb(),
 *    discards, and wakes the queue if it was stopped and the discard created
 *    space or left the ring empty; smp_wmb() before the wake pairs with the
 *    smp_rmb() at the top of tun_ring_produce().
 * Every access the other side can run concurrently is marked (READ_ONCE,
 * WRITE_ONCE, atomic bit operations), so there is no data race to report.
 *
 * What racewatch watches (4 hardware slots): txq.state, the word holding
 * the queue's stopped bit — stopped/woken by one side, tested by both on
 * every packet, the heart of the patch; and ring_slots[0], one ring slot
 * (written by the producer, polled and invalidated by the consumer once per
 * lap; any slot would do).  Leaving two slots free keeps the trap rate, and
 * so the run time, low.
 *
 * Expected outcome (ring_patched.expect):
 *   racewatch run -w txq.state -w 'ring_slots[0]' -- ring_patched-O2 3000 4
 * reports nothing; every packet is delivered in order, none dropped, exit 0.
 * Natively, `ring_patched 2000000` never starves (no progress for a second
 * would print "starvation:" and exit 3).
 */
#define VARIANT "ring_patched"
#include "tun_ring.h"

/* Produce a packet into the transmit ring. If the ring becomes full, the
 * netdev queue is stopped until the consumer wakes it again.
 */
static __attribute__((noinline)) int tun_ring_produce(struct ptr_ring *ring,
						      struct netdev_queue *queue,
						      struct sk_buff *skb)
{
	int ret;

	pthread_spin_lock(&ring->producer_lock);

	/* Pairs with smp_wmb() in __tun_ring_consume.
	 * Ensures that freed space by the consumer is visible.
	 */
	smp_rmb();

	/* Do not stop the netdev queue if the ptr_ring is full already.
	 * The consumer could empty out the ptr_ring in the meantime
	 * without noticing the stopped netdev queue, resulting in a
	 * stopped netdev queue and an empty ptr_ring. In this case the
	 * netdev queue would stay stopped forever.
	 */
	if (unlikely(!__ptr_ring_full(ring) &&
		     __ptr_ring_full_next(ring))) {
		stress_window();
		netif_tx_stop_queue(queue);
	}

	/* Note: __ptr_ring_produce has an internal smp_wmb() to synchronize the
	 * state with the consumer. This ensures that after adding an entry to
	 * the ring, any stopped queue state is visible to the consumer after
	 * dequeueing.
	 */
	ret = __ptr_ring_produce(ring, skb);

	pthread_spin_unlock(&ring->producer_lock);

	return ret;
}

/*
 * Consume a packet from the transmit ring. Callers must hold
 * the consumer_lock of the ptr_ring. If the ring was full and the
 * queue was stopped, this may wake up the queue if space is created.
 */
static __attribute__((noinline)) void *__tun_ring_consume(struct tun_file *tf)
{
	struct ptr_ring *ring = &tf->tx_ring;
	struct netdev_queue *q = &txq;	/* netdev_get_tx_queue(dev, 0) */
	bool stopped;
	void *ptr;

	ptr = __ptr_ring_peek(ring);
	if (!ptr)
		return ptr;

	/* Paired with smp_wmb() in the ring producer path. Ensures we
	 * see any updated netdev queue state caused by a full ring.
	 * Needed for proper synchronization between the ring and the
	 * netdev queue.
	 */
	smp_rmb();
	stopped = netif_tx_queue_stopped(q);
	stress_window();

	/* Ensures the read for a stopped queue completes before the
	 * discard, so that we don't miss the window to wake the queue if
	 * needed.
	 */
	smp_rmb();
	__ptr_ring_discard_one(ring);

	/* If the queue was stopped (meaning the producer couldn't have
	 * inserted new entries just now), and we have actually created
	 * space in the ring, or the ring is now empty (due to a race
	 * with the producer), then it is now safe to wake the queue.
	 */
	if (unlikely(stopped &&
		     (__ptr_ring_consume_created_space(ring) ||
		      __ptr_ring_empty(ring)))) {
		/* Paired with smp_rmb() in tun_ring_produce. */
		smp_wmb();
		netif_tx_wake_queue(q);
	}

	return ptr;
}

/* Net device start xmit: a full ring (which the early stop makes
 * impossible) would be a tail drop. */
static __attribute__((noinline)) netdev_tx_t tun_net_xmit(struct sk_buff *skb)
{
	if (tun_ring_produce(&tfile.tx_ring, &txq, skb))
		__atomic_store_n(&dropped, dropped + 1, __ATOMIC_RELAXED);
	return NETDEV_TX_OK;
}
