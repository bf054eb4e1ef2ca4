/*
 * rcu_search_buggy — buggy twin of rcu_search.c: rcu-shared-variable-marking.txt, "Use Cases for Aggressive
 * KCSAN Settings": "Code using search structures, for example, those in
 * which data in the structure remains constant. Data races again indicate a
 * bug, for example, cleaning up a data element before having removed it
 * from the search structure."  And access-marking.txt, "Use of Plain
 * C-Language Accesses", 2: plain accesses for "structures not yet published
 * to reference-counted or RCU-protected data structures, and the cleanup
 * side".
 *
 * The "search structure" is one RCU-protected pointer, gp, to one of two
 * elements.  The updater fills the unpublished element with plain writes
 * (init_elem), publishes it with rcu_assign_pointer(), waits for a grace
 * period with synchronize_rcu(), and only then recycles the old element,
 * again with plain writes.  Readers look it up under rcu_read_lock() and
 * read its fields with plain reads (the data is constant while reachable).
 *
 * The RCU here is hand-rolled and models only the one guarantee the sample
 * needs: synchronize_rcu() returns after every read-side critical section
 * that began before it has ended.  Each reader thread owns a counter it sets
 * to the current grace-period phase on rcu_read_lock() and to 0 on
 * rcu_read_unlock(); synchronize_rcu() flips the phase and waits (yielding,
 * not sleeping) until each reader is idle or in the new phase.  Full
 * fences order both sides.  No callbacks, no nesting, no preemption
 * tricks, a fixed set of readers -- nothing like the kernel's scalability.
 *
 * The bug: replace_elem() recycles the old element right after unpublishing
 * it, without waiting for a grace period -- "cleaning up a data element
 * before" every reader is done with it.
 *
 * Watched: the two elements and gp.
 * Expected, default rules and --strict alike:
 *   BUG: racewatch: data-race in init_elem / lookup
 * (a plain recycling write against a reader's plain read), exit 66.  gp is
 * never reported.  (Whether a reader also sees a torn element varies: the
 * program does not print it.)
 *
 * Usage: rcu_search_buggy [UPDATES]
 */
#include <sched.h>

#include "marking.h"

#define NREADERS 2

struct elem {
	int key;
	int val;		/* always key * 2 while reachable */
} __attribute__((aligned(8)));

struct elem elem_a, elem_b;
struct elem *gp = &elem_a;	/* the RCU-protected search structure */
RACEWATCH_WATCH(elem_a);
RACEWATCH_WATCH(elem_b);
RACEWATCH_WATCH(gp);

/* ---- the hand-rolled RCU ---------------------------------------------------- */

static unsigned long gp_phase = 1;		/* never 0 */
static unsigned long reader_phase[NREADERS];	/* 0: outside a critical section */

static void rcu_read_lock(int me)
{
	WRITE_ONCE(reader_phase[me], READ_ONCE(gp_phase));
	smp_mb();	/* phase store before the loads of the critical section */
}

static void rcu_read_unlock(int me)
{
	smp_mb();	/* the critical section's loads before the phase store */
	WRITE_ONCE(reader_phase[me], 0);
}

static __attribute__((unused)) void synchronize_rcu(void)
{
	unsigned long phase;

	smp_mb();	/* the unpublishing store before the phase flip */
	phase = gp_phase + 1;
	WRITE_ONCE(gp_phase, phase);
	smp_mb();	/* the flip before the reads of reader_phase */
	for (int r = 0; r < NREADERS; r++) {
		unsigned long p;

		while ((p = READ_ONCE(reader_phase[r])) != 0 && p != phase)
			sched_yield();
	}
	smp_mb();	/* the waiting before the updater's next stores */
}

#define rcu_dereference(p)		READ_ONCE(p)
#define rcu_assign_pointer(p, v)	smp_store_release(&(p), (v))

/* ---- the search structure ------------------------------------------------- */

static long bad_lookups;	/* elements seen inconsistent: must stay 0 */
static long lookups[NREADERS];

/* The element is not reachable: plain writes. */
__named void init_elem(struct elem *e, int key)
{
	e->key = key;
	e->val = key * 2;
}

__named int lookup(int me)
{
	struct elem *p;
	int key, val;

	rcu_read_lock(me);
	p = rcu_dereference(gp);
	key = p->key;		/* plain: constant while reachable */
	val = p->val;
	rcu_read_unlock(me);
	return val == key * 2;
}

__named void replace_elem(int key)
{
	struct elem *old = gp;	/* only the updater writes gp */
	struct elem *new = old == &elem_a ? &elem_b : &elem_a;

	init_elem(new, key);
	rcu_assign_pointer(gp, new);
	init_elem(old, -1);	/* BUG: no synchronize_rcu() first */
}

static void *reader(int me)
{
	wait_start();
	while (!__atomic_load_n(&bad_lookups, __ATOMIC_RELAXED) &&
	       lookups[me] < 2 * iterations) {
		if (!lookup(me))
			__atomic_fetch_add(&bad_lookups, 1, __ATOMIC_RELAXED);
		lookups[me]++;
	}
	return NULL;
}

static void *reader0(void *arg) { (void)arg; return reader(0); }
static void *reader1(void *arg) { (void)arg; return reader(1); }

static void *updater(void *arg)
{
	wait_start();
	for (long i = 1; i <= iterations; i++)
		replace_elem((int)i);
	return arg;
}

int main(int argc, char **argv)
{
	void *(*const threads[])(void *) = { reader0, reader1, updater };

	parse_iterations(argc, argv, 200);
	init_elem(&elem_a, 0);
	run_threads(3, threads);
	printf("rcu_search_buggy: done\n");
	return 0;
}
