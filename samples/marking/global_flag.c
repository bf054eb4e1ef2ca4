/*
 * global_flag — access-marking.txt, EXAMPLES, "Lock-Protected Writes With
 * Heuristic Lockless Reads" (after nf_conntrack_lock(),
 * nf_conntrack_all_lock() and nf_conntrack_all_unlock()).
 *
 * Workers normally take only a foo's own f_lock; begin_global()/end_global()
 * switch everyone to global_lock so that the global phase can update every
 * foo without taking its f_lock.  global_flag is read heuristically with
 * data_race() and rechecked with smp_load_acquire() under ->f_lock.
 *
 * Watched: global_flag (static) and foo_array[0].f_data (registered at run
 * time with racewatch_watch(): foo_array is on the heap, as in the seed).
 *
 * Expected: no report, exit 0, default rules and --strict: the accesses to
 * global_flag are data_race() or marked, and the algorithm keeps every
 * plain access to f_data exclusive.  The program checks its own sum.
 * Buggy twin: global_flag_buggy.c.
 *
 * Usage: global_flag [ITERATIONS]
 */
#include <stdbool.h>

#include "marking.h"

bool global_flag;
RACEWATCH_WATCH(global_flag);
DEFINE_SPINLOCK(global_lock);

struct foo {
	spinlock_t f_lock;
	int f_data;
};

/* All foo structures are in the following array. */
int nfoo = 2;
struct foo *foo_array;

#define NWORKERS 2

__named void do_something(struct foo *fp)
{
	fp->f_data += 1;
	barrier();
}

__named void do_something_locked(struct foo *fp)
{
	/* This works even if data_race() returns nonsense. */
	if (!data_race(global_flag)) {
		spin_lock(&fp->f_lock);
		if (!smp_load_acquire(&global_flag)) {
			do_something(fp);
			spin_unlock(&fp->f_lock);
			return;
		}
		spin_unlock(&fp->f_lock);
	}
	spin_lock(&global_lock);
	/* global_lock held, thus global flag cannot be set. */
	spin_lock(&fp->f_lock);
	spin_unlock(&global_lock);
	/*
	 * global_flag might be set here, but begin_global()
	 * will wait for ->f_lock to be released.
	 */
	do_something(fp);
	spin_unlock(&fp->f_lock);
}

__named void begin_global(void)
{
	int i;

	spin_lock(&global_lock);
	WRITE_ONCE(global_flag, true);
	for (i = 0; i < nfoo; i++) {
		/* Wait for pre-existing local locks. */
		spin_lock(&foo_array[i].f_lock);
		spin_unlock(&foo_array[i].f_lock);
	}
}

__named void end_global(void)
{
	smp_store_release(&global_flag, false);
	spin_unlock(&global_lock);
}

/* The global phase: every foo changes without its ->f_lock. */
__named void global_update(struct foo *fp)
{
	fp->f_data += 1000;
	barrier();
}

static void *worker(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++)
		for (int j = 0; j < nfoo; j++)
			do_something_locked(&foo_array[j]);
	return arg;
}

static void *global_phase(void *arg)
{
	wait_start();
	for (long i = 0; i < iterations; i++) {
		begin_global();
		for (int j = 0; j < nfoo; j++)
			global_update(&foo_array[j]);
		end_global();
	}
	return arg;
}

int main(int argc, char **argv)
{
	void *(*const threads[])(void *) = { worker, worker, global_phase };
	long sum = 0, want;

	parse_iterations(argc, argv, 200);
	foo_array = calloc((size_t)nfoo, sizeof(*foo_array));
	if (!foo_array)
		return 1;
	for (int j = 0; j < nfoo; j++)
		spin_lock_init(&foo_array[j].f_lock);
	racewatch_watch(&foo_array[0].f_data, sizeof(foo_array[0].f_data),
			"foo_array[0].f_data");
	run_threads(NWORKERS + 1, threads);
	racewatch_unwatch(&foo_array[0].f_data);
	for (int j = 0; j < nfoo; j++)
		sum += foo_array[j].f_data;
	want = (long)nfoo * (NWORKERS * iterations + 1000 * iterations);
	printf("global_flag: done sum %s\n", sum == want ? "correct" : "WRONG");
	free(foo_array);
	return 0;
}
