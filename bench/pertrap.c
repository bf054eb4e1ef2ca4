/*
 * pertrap — measures, from inside the traced program, what one watchpoint
 * hit costs it: the main thread stores to the watched global `hit` HITS
 * times and reads the clock (vDSO, no system call) after each store.  With
 * `racewatch run --sample 1000000000 -w hit` no stall window opens, so each
 * interval is one trap served by the tracer: the same quantity rawcost
 * measures from the tracer's side with a bare waitpid / PTRACE_CONT loop.
 *
 * Usage: pertrap [HITS]   (default 20000; 200 more are run first, unmeasured)
 * Prints "pertrap: hits N median U us p10 U p90 U mean U" (not deterministic:
 * it is a measurement, not a workload).
 */
#include "bench.h"

#include <stdint.h>
#include <time.h>

#define WARMUP 200

long hit;			/* the watched variable */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	long hits = bench_arg(argc, argv, 1, 20000);
	uint64_t *lat = calloc((size_t)hits + WARMUP, sizeof(*lat)), prev, sum = 0;

	if (!lat || hits < 10) {
		fprintf(stderr, "pertrap: need at least 10 hits and memory for them\n");
		return 2;
	}
	bench_pin();
	prev = now_ns();
	for (long i = 0; i < hits + WARMUP; i++) {
		uint64_t t;

		hit = i;
		compiler_barrier();
		t = now_ns();
		lat[i] = t - prev;
		prev = t;
	}
	for (long i = WARMUP; i < hits + WARMUP; i++)
		sum += lat[i];
	qsort(lat + WARMUP, (size_t)hits, sizeof(*lat), cmp_u64);
	printf("pertrap: hits %ld median %.2f us p10 %.2f p90 %.2f mean %.2f\n", hits,
	       lat[WARMUP + hits / 2] / 1e3, lat[WARMUP + hits / 10] / 1e3,
	       lat[WARMUP + hits * 9 / 10] / 1e3, sum / 1e3 / (double)hits);
	return 0;
}
