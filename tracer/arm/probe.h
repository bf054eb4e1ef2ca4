/*
 * probe — does each way of seeing accesses really work on this machine?
 *
 * Arming succeeding proves nothing: some hypervisors accept debug-register
 * writes and never deliver the #DB they should raise (an AMD EPYC
 * Firecracker guest does exactly that; gdb's `watch` is silent there too).
 * So every mechanism is tested by a round trip on a throw-away child: arm,
 * let the child touch the location a known number of times, count the stops
 * that really arrive.  `racewatch probe` prints the result of each; `run`
 * and `attach` ask probe_works() before they trust a backend.
 */
#ifndef RACEWATCH_PROBE_H
#define RACEWATCH_PROBE_H

#include <stddef.h>

enum probe_mech {
	PROBE_PERF,	/* perf breakpoint events, hits as the event's fasync signal */
	PROBE_DR,	/* debug registers through PTRACE_POKEUSER */
	PROBE_INT3,	/* a code breakpoint written through ptrace */
	PROBE_UPROBE,	/* a perf uprobe event, hits as its fasync signal */
	PROBE_MECH_COUNT
};

extern const char *const probe_mech_names[PROBE_MECH_COUNT];

struct probe_result {
	int ok;			/* every access was seen */
	unsigned tries, hits;
	double us_per_hit;	/* round trip per delivered stop */
	char why[256];		/* when !ok: the reason, one line */
};

/* One real round trip of mechanism m with `tries` accesses. */
void probe_mechanism(enum probe_mech m, unsigned tries, struct probe_result *r);

/*
 * The self-test run and attach use before arming: does m deliver?  The
 * answer is cached per boot, user and debug flags (a file under /run), so
 * the real test costs a few milliseconds once per boot and nothing after.
 * why (may be NULL) gets the reason when the answer is no.
 */
int probe_works(enum probe_mech m, char *why, size_t whylen);

/*
 * Microseconds of kernel time one armed debug-register slot adds to each
 * context switch of its thread, as last measured this boot (cached with
 * the answers above).  When it never was: with measure, a short
 * measurement (a forked child's pinned ping-pong, tens of ms) is made and
 * cached, once per boot like the self-test; without, -1.
 */
double probe_switch_cost_us(int measure);

/* `racewatch probe`: one line per mechanism; exit 1 when none works;
 * the per-switch cost is measured and cached too. */
int probe_main(void);

#endif
