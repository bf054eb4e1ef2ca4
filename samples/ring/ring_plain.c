/*
 * ring_plain — the tun/tap seed's patch ported without what it relies on:
 * the same algorithm as ring_patched.c (stop the queue before the ring can
 * fill, wake it when the consumer creates space or empties the ring), but
 * the queue state is read and written with plain loads and stores (the
 * non-atomic __set_bit / __test_and_clear_bit, a plain test_bit), the ring
 * slots likewise, and the smp_rmb()/smp_wmb() pairs are gone.  This is the
 * code a careless port of the patch to user space would produce.
 *
 * Seed: /work/shared/seeds/tun-tap-ring-produce-consume.patch.txt.
 * Kernel-to-user-space mapping and harness: tun_ring.h (PLAIN_PORT is what
 * turns its marked accesses and atomic bit operations into plain ones).
 *
 * The data races racewatch finds (KCSAN would find the same in a kernel
 * built this way); the report names the innermost frame, which for these
 * always-inline helpers is the helper, with the caller as frame #1:
 *  - txq.state: the producer's plain stop (netif_tx_stop_queue, inlined in
 *    tun_ring_produce) against the consumer's plain test
 *    (netif_tx_queue_stopped, inlined in __tun_ring_consume) — the very
 *    pair the patch orders with smp_wmb()/smp_rmb(); the consumer's plain
 *    wake (netif_tx_wake_queue) against the producer's stop and against the
 *    qdisc's test of the queue (qdisc_thread);
 *  - ring_slots[0]: the producer's plain store of a new entry
 *    (__ptr_ring_produce) against the consumer's plain peek
 *    (__ptr_ring_peek), and the consumer's plain NULL store
 *    (__ptr_ring_discard_one) against the producer's "is it full" loads.
 * On x86 (TSO) the missing hardware barriers rarely bite at run time, but
 * the compiler is now free to reorder and merge these accesses, and a
 * non-atomic read-modify-write of state can lose the other side's update.
 *
 * What racewatch watches: txq.state (the queue-state word: every stop,
 * wake and test) and ring_slots[0] (one ring slot, written by the producer,
 * polled and invalidated by the consumer once per lap).
 *
 * Expected outcome (ring_plain.expect):
 *   racewatch run -w txq.state -w 'ring_slots[0]' -- ring_plain-O2 3000 4
 *   BUG: racewatch: data-race in netif_tx_queue_stopped / netif_tx_stop_queue
 *   BUG: racewatch: data-race in __ptr_ring_peek / __ptr_ring_produce
 * among others, exit status 66.  Natively it delivers every packet in the
 * runs we made; the counts it prints are not what it is here for.
 */
#define PLAIN_PORT
#define VARIANT "ring_plain"
#include "tun_ring.h"

static __attribute__((noinline)) int tun_ring_produce(struct ptr_ring *ring,
						      struct netdev_queue *queue,
						      struct sk_buff *skb)
{
	int ret;

	pthread_spin_lock(&ring->producer_lock);

	/* (the patch's smp_rmb() is missing here) */

	if (unlikely(!__ptr_ring_full(ring) &&
		     __ptr_ring_full_next(ring))) {
		stress_window();
		netif_tx_stop_queue(queue);
	}

	/* __ptr_ring_produce() has lost its smp_wmb() and WRITE_ONCE(). */
	ret = __ptr_ring_produce(ring, skb);

	pthread_spin_unlock(&ring->producer_lock);

	return ret;
}

static __attribute__((noinline)) void *__tun_ring_consume(struct tun_file *tf)
{
	struct ptr_ring *ring = &tf->tx_ring;
	struct netdev_queue *q = &txq;
	bool stopped;
	void *ptr;

	ptr = __ptr_ring_peek(ring);
	if (!ptr)
		return ptr;

	/* (smp_rmb() missing) */
	stopped = netif_tx_queue_stopped(q);
	stress_window();

	/* (smp_rmb() missing) */
	__ptr_ring_discard_one(ring);

	if (unlikely(stopped &&
		     (__ptr_ring_consume_created_space(ring) ||
		      __ptr_ring_empty(ring)))) {
		/* (smp_wmb() missing) */
		netif_tx_wake_queue(q);
	}

	return ptr;
}

static __attribute__((noinline)) netdev_tx_t tun_net_xmit(struct sk_buff *skb)
{
	if (tun_ring_produce(&tfile.tx_ring, &txq, skb))
		__atomic_store_n(&dropped, dropped + 1, __ATOMIC_RELAXED);
	return NETDEV_TX_OK;
}
