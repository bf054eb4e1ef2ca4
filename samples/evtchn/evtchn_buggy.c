/*
 * evtchn_buggy — Xen's FIFO event channels as they stood when David Vrabel
 * wrote the seed mail: evtchn_fifo_set_pending() relies on being serialized
 * per event channel, but it is called both from evtchn_send() (interdomain
 * events, under the *sending* domain's event_lock) and from the
 * EVTCHNOP_unmask hypercall (under the *receiving* domain's event_lock).
 * Two different locks: both can run set_pending on the same event at once.
 *
 * Seed: /work/shared/seeds/xen-evtchn-fifo-old-tail-race.txt.  The code
 * below is evtchn_fifo_set_pending() before the mail's patch (the "-" lines
 * of its diff); the rest of the port is in evtchn.h.
 *
 * The mail's two races, both reachable here:
 *
 *   1. CPU A (send) moves the event to another queue and writes
 *      evtchn->last_vcpu_id / last_priority under the *old* queue's lock,
 *      while CPU B (unmask) reads them with no lock to find that old queue:
 *      B locks the wrong queue, does not invalidate the old tail, and can
 *      link the port to itself.
 *   2. A: set PENDING, test LINKED (clear), link to q->tail, q->tail = port.
 *      B (unmask, same event): clear MASKED, test PENDING, test LINKED
 *      (still clear when it looked), then under the queue lock finds
 *      q->tail == port, sets q->tail = 0 and q->head = port.  The events
 *      before port in the queue are LINKED but unreachable: lost, and their
 *      ports dead for good (set_pending never links a LINKED event again).
 *
 * Race 2 is an atomicity violation on the event word: the split
 * test_bit(LINKED) ... set_bit(LINKED).  Every access to the word is
 * marked or atomic, so it is no *data* race and racewatch does not report
 * it (neither would KCSAN).  Race 1 is a data race: the plain, unlocked
 * reads of evtchn->last_priority against the plain write made under a lock
 * the reader does not hold.  That is what racewatch reports; the lost
 * events (counted by the program: raised vs delivered) are what it costs.
 *
 * What racewatch watches (all 4 hardware slots): domU.evtchn[P].last_priority
 * for the four ports P = 1..4, one byte each — the bookkeeping the mail
 * says needs serializing.  Every linking reads it without a lock, so the
 * stall after that read is a window in which the other caller, linking
 * the same event onto a new queue, writes it: the data race is reported
 * the first time the two callers overlap on any port.  (The same stalls
 * make both callers pass the LINKED test together, so under the tracer the
 * events are lost within a few dozen.)  Not watched: last_vcpu_id (with one
 * receiving vCPU it never changes) and the event words (every access to
 * them is marked or atomic; watching them only slows the run down).
 *
 * Expected outcome (evtchn_buggy.expect):
 *   racewatch run -w 'domU.evtchn[1].last_priority' ... (ports 1 to 4) \
 *       -- evtchn_buggy-O2 3000
 *   BUG: racewatch: data-race in evtchn_fifo_set_pending / evtchn_fifo_set_pending
 * (a read at the `old_q = ...[evtchn->last_priority]` line against the write
 * `evtchn->last_priority = evtchn->priority`), exit status 66 in most runs
 * (detection is sampled; a run can lose all its events unreported).
 * Natively, `evtchn_buggy` (20000 events) prints
 * "lost: N" with N > 0 and exits 3.
 */
#define VARIANT "evtchn_buggy"
#include "evtchn.h"

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
		struct vcpu *old_v;
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

		old_v = d->vcpu[evtchn->last_vcpu_id];
		old_q = &old_v->evtchn_fifo->queue[evtchn->last_priority];

		pthread_spin_lock(&old_q->lock);

		/*
		 * If this event was a tail, the old queue is now empty and
		 * its tail must be invalidated to prevent adding an event to
		 * the old queue from corrupting the new queue.
		 */
		if (old_q->tail == port)
			old_q->tail = 0;

		set_bit(EVTCHN_FIFO_LINKED, word);

		/* Moved to a different queue? */
		if (old_q != q) {
			evtchn->last_vcpu_id = evtchn->notify_vcpu_id;
			evtchn->last_priority = evtchn->priority;

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

	(void)was_pending;	/* evtchn_check_pollers(): no pollers here */
}
