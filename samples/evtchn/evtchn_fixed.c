/*
 * evtchn_fixed — the fix the seed mail proposes (its option 2): find and
 * lock the old queue with lock_old_queue(), which re-reads last_vcpu_id /
 * last_priority after taking the lock and retries if the event moved
 * meanwhile, and link with test_and_set_bit(LINKED), bailing out if another
 * CPU linked the event first.  Two callers under different locks can still
 * enter evtchn_fifo_set_pending() together, but only one of them links.
 *
 * Seed: /work/shared/seeds/xen-evtchn-fifo-old-tail-race.txt (the patch at
 * its end).  The rest of the port is in evtchn.h; evtchn_buggy.c has the
 * code before the patch and the mail's two interleavings.
 *
 * Two deliberate differences from the mail's patch, both stated where they
 * are made:
 *  - The move records the queue actually used, last_vcpu_id = v->vcpu_id and
 *    last_priority = q->priority (what later Xen code does), instead of
 *    re-reading evtchn->notify_vcpu_id / evtchn->priority, which this
 *    sample's concurrent EVTCHNOP_set_priority can change after q was
 *    chosen; recording a queue the event is not on would corrupt queues
 *    again.
 *  - Marking, as KCSAN would need it (Xen has no KCSAN): the reads of
 *    last_* before the lock and the read of evtchn->priority are racy by
 *    design (the re-check and the mail's "we are allowed to signal the event
 *    once on the old priority" make them safe), so they are READ_ONCE, and
 *    the writes of last_* are WRITE_ONCE.
 *
 * What racewatch watches: the same as evtchn_buggy — domU.evtchn[P].
 * last_priority for ports 1..4, the bookkeeping the buggy version races on.
 *
 * Expected outcome (evtchn_fixed.expect):
 *   racewatch run -w 'domU.evtchn[1].last_priority' ... (ports 1 to 4) \
 *       -- evtchn_fixed-O2 2000
 * reports nothing; every raised event is delivered ("lost: 0"), exit 0.
 */
#define VARIANT "evtchn_fixed"
#include "evtchn.h"

static struct evtchn_fifo_queue *lock_old_queue(const struct domain *d,
						struct evtchn *evtchn)
{
	struct vcpu *v;
	struct evtchn_fifo_queue *q, *old_q;

	for (;;) {
		v = d->vcpu[READ_ONCE(evtchn->last_vcpu_id)];
		old_q = &v->evtchn_fifo->queue[READ_ONCE(evtchn->last_priority)];

		pthread_spin_lock(&old_q->lock);

		v = d->vcpu[READ_ONCE(evtchn->last_vcpu_id)];
		q = &v->evtchn_fifo->queue[READ_ONCE(evtchn->last_priority)];

		if (old_q == q)
			return old_q;

		pthread_spin_unlock(&old_q->lock);
	}
}

static __attribute__((noinline)) void evtchn_fifo_set_pending(struct vcpu *v,
							      struct evtchn *evtchn)
{
	struct domain *d = v->domain;
	unsigned int port;
	event_word_t *word;
	bool_t was_pending;

	port = evtchn->port;
	word = evtchn_fifo_word_from_port(d, port);

	was_pending = test_and_set_bit(EVTCHN_FIFO_PENDING, word);
	stress_window();

	/*
	 * Link the event if it unmasked and not already linked.
	 */
	if (!test_bit(EVTCHN_FIFO_MASKED, word) &&
	    !test_bit(EVTCHN_FIFO_LINKED, word)) {
		struct evtchn_fifo_queue *q, *old_q;
		event_word_t *tail_word;
		bool_t linked = 0;

		stress_window();

		/*
		 * No locking around getting the queue. This may race with
		 * changing the priority but we are allowed to signal the
		 * event once on the old priority.
		 */
		q = &v->evtchn_fifo->queue[READ_ONCE(evtchn->priority)];

		old_q = lock_old_queue(d, evtchn);

		if (test_and_set_bit(EVTCHN_FIFO_LINKED, word)) {
			pthread_spin_unlock(&old_q->lock);
			goto done;
		}

		/*
		 * If this event was a tail, the old queue is now empty and
		 * its tail must be invalidated to prevent adding an event to
		 * the old queue from corrupting the new queue.
		 */
		if (old_q->tail == port)
			old_q->tail = 0;

		/* Moved to a different queue? */
		if (old_q != q) {
			/* The mail: notify_vcpu_id / evtchn->priority (see above). */
			WRITE_ONCE(evtchn->last_vcpu_id, v->vcpu_id);
			WRITE_ONCE(evtchn->last_priority, q->priority);

			pthread_spin_unlock(&old_q->lock);
			pthread_spin_lock(&q->lock);
		}

		/*
		 * Atomically link the tail to port iff the tail is linked.
		 * If the tail is unlinked the queue is empty.
		 *
		 * If port is the same as tail, the queue is empty but q->tail
		 * will appear linked as we just set LINKED above.
		 *
		 * If the queue is empty (i.e., we haven't linked to the new
		 * event), head must be updated.
		 */
		if (q->tail) {
			tail_word = evtchn_fifo_word_from_port(d, q->tail);
			linked = evtchn_fifo_set_link(d, tail_word, port);
		}
		if (!linked)
			WRITE_ONCE(*q->head, port);	/* write_atomic */
		q->tail = port;

		pthread_spin_unlock(&q->lock);

		if (!linked &&
		    !test_and_set_bit(q->priority,
				      &v->evtchn_fifo->control_block->ready))
			vcpu_mark_events_pending(v);
	}
 done:
	(void)was_pending;	/* evtchn_check_pollers(): no pollers here */
}
