/*
 * counters — what the engine counts, as one enum and one name table.  The
 * text --stats, the TUI status line and the tests all read this table.
 */
#ifndef RACEWATCH_COUNTERS_H
#define RACEWATCH_COUNTERS_H

#include <stdint.h>
#include <stdio.h>

enum counter {
	CTR_THREADS_SEEN,	/* threads that were armed at least once */
	CTR_THREADS_LIVE,	/* threads currently traced */
	CTR_EXECS,		/* exec events handled (symbols reloaded, re-armed) */
	CTR_WATCHES,		/* watch expressions resolved and active */
	CTR_SLOTS_ARMED,	/* debug-register slots in use per thread */
	CTR_ARM_OPS,		/* per-thread arm / re-arm operations */
	CTR_ARM_FAILURES,	/* per-thread arm operations that failed */
	CTR_TRAPS,		/* watchpoint traps served */
	CTR_TRAPS_STALE,	/* traps dropped: delivered late (SIGTRAP blocked) or undecodable */
	CTR_FOREIGN_SIGTRAPS,	/* SIGTRAPs that were the program's own, passed through */
	CTR_SIGNALS_PASSED,	/* other signals delivered to the program unchanged */
	CTR_WINDOWS,		/* stall windows opened */
	CTR_WINDOWS_SKIPPED,	/* sampled accesses not stalled: too few running threads */
	CTR_CONCURRENT,		/* accesses seen inside another thread's window */
	CTR_RACES,		/* distinct races reported */
	CTR_RACE_REPEATS,	/* repeats of a reported race (counted, not printed) */
	CTR_UNKNOWN_ORIGIN,	/* distinct races of unknown origin reported */
	CTR_NOT_RACES,		/* concurrent pairs the rule table says are fine */
	CTR_UNCHANGED,		/* writes that left the value unchanged, not reported */
	CTR_ASSERT_FAILURES,	/* ASSERT_EXCLUSIVE_* violations */
	CTR_SUPPRESSED,		/* races matched by a suppression */
	CTR_DUTY_OFF,		/* times the duty cycle switched a hot watchpoint off */
	CTR_SITES,		/* code backend: instructions with a breakpoint */
	CTR_ARMED_MS,		/* slot backends: thread-milliseconds with the slots armed */
	CTR_TRACED_MS,		/* ... out of thread-milliseconds traced with slots */
	CTR_ARM_TOGGLES,	/* perf slots switched on or off by the armed-time duty cycle */
	CTR_WINDOW_HW_ARMED,	/* sampling: windows that watched the other threads' accesses */
	CTR_WINDOW_HW_HITS,	/* sampling: other threads' accesses those watchpoints caught */
	CTR_COUNT
};

extern uint64_t counters[CTR_COUNT];
extern const char *const counter_names[CTR_COUNT];

static inline void ctr_inc(enum counter c) { counters[c]++; }
static inline void ctr_add(enum counter c, int64_t d) { counters[c] += (uint64_t)d; }

/* KCSAN-style "name: value" lines. */
void counters_print(FILE *f);

#endif
