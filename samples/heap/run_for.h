/*
 * run_for — how long a heap sample runs: its argument is a count of loop
 * rounds ("20000") or a time ("10s": every thread loops until that many
 * seconds have passed since start).  The program bounds its own time, so a
 * test can ask for 10 s runs without sleeping or killing anything.
 */
#ifndef SAMPLES_RUN_FOR_H
#define SAMPLES_RUN_FOR_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long run_secs;		/* 0: run a count of rounds instead */
static struct timespec run_end;

/* Parse arg into *count or run_secs; 0, or -1 after a one-line error. */
static int run_parse(const char *prog, const char *arg, long *count)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (end == arg || v <= 0 || (*end && strcmp(end, "s"))) {
		fprintf(stderr, "%s: bad length '%s' (a count of rounds, or seconds as 10s)\n", prog, arg);
		return -1;
	}
	if (*end == 's') {
		run_secs = v;
		clock_gettime(CLOCK_MONOTONIC, &run_end);
		run_end.tv_sec += v;
	} else {
		*count = v;
	}
	return 0;
}

/* Go on with round i (of count)?  The clock is read every 64 rounds. */
static int run_more(long i, long count)
{
	struct timespec now;

	if (!run_secs)
		return i < count;
	if (i % 64)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec < run_end.tv_sec ||
	       (now.tv_sec == run_end.tv_sec && now.tv_nsec < run_end.tv_nsec);
}

#endif
