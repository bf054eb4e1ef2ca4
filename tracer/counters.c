#include "counters.h"
#include "util.h"

uint64_t counters[CTR_COUNT];

const char *const counter_names[CTR_COUNT] = {
	[CTR_THREADS_SEEN]	= "threads_seen",
	[CTR_THREADS_LIVE]	= "threads_live",
	[CTR_EXECS]		= "execs",
	[CTR_WATCHES]		= "watches",
	[CTR_SLOTS_ARMED]	= "slots_armed",
	[CTR_ARM_OPS]		= "arm_ops",
	[CTR_ARM_FAILURES]	= "arm_failures",
	[CTR_TRAPS]		= "traps",
	[CTR_TRAPS_STALE]	= "traps_stale",
	[CTR_FOREIGN_SIGTRAPS]	= "foreign_sigtraps",
	[CTR_SIGNALS_PASSED]	= "signals_passed",
	[CTR_WINDOWS]		= "windows_opened",
	[CTR_WINDOWS_SKIPPED]	= "windows_skipped",
	[CTR_CONCURRENT]	= "concurrent_accesses",
	[CTR_RACES]		= "races",
	[CTR_RACE_REPEATS]	= "race_repeats",
	[CTR_UNKNOWN_ORIGIN]	= "races_unknown_origin",
	[CTR_NOT_RACES]		= "concurrent_not_races",
	[CTR_UNCHANGED]		= "unchanged_value_writes",
	[CTR_ASSERT_FAILURES]	= "assert_failures",
	[CTR_SUPPRESSED]	= "suppressed",
	[CTR_DUTY_OFF]		= "duty_cycle_off",
	[CTR_SITES]		= "code_sites",
	[CTR_ARMED_MS]		= "armed_ms",
	[CTR_TRACED_MS]		= "traced_ms",
	[CTR_ARM_TOGGLES]	= "armed_toggles",
	[CTR_WINDOW_HW_ARMED]	= "window_hw_armed",
	[CTR_WINDOW_HW_HITS]	= "window_hw_hits",
};

_Static_assert(ARRAY_SIZE(counter_names) == CTR_COUNT, "one name per counter");

void counters_print(FILE *f)
{
	for (int i = 0; i < CTR_COUNT; i++)
		fprintf(f, "racewatch: stats: %-24s %llu\n", counter_names[i],
			(unsigned long long)counters[i]);
	/* The armed-time duty cycle's result (duty.c): 1 = armed all along. */
	if (counters[CTR_TRACED_MS])
		fprintf(f, "racewatch: stats: %-24s %.3f\n", "armed_share",
			(double)counters[CTR_ARMED_MS] / (double)counters[CTR_TRACED_MS]);
}
