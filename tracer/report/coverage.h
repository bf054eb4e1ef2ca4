/*
 * coverage — stress-test race coverage (access-marking.txt, "Checking
 * Stress-Test Race Coverage"): which ASSERT_EXCLUSIVE_* sites of each
 * watched variable ran, and which pairs of them were ever seen concurrent.
 * A pair never seen concurrent is a pair the stress test did not exercise.
 */
#ifndef RACEWATCH_COVERAGE_H
#define RACEWATCH_COVERAGE_H

#include <stdio.h>

#include "access.h"

struct addrspace;

/* Turn recording on (--coverage). */
void coverage_enable(void);

/* An assertion site of variable var ran (acc is its pseudo-access). */
void coverage_site(const char *var, const struct access *acc);

/* Two accesses to var met concurrently; counted when both are assertion sites. */
void coverage_pair(const char *var, const struct access *a, const struct access *b);

/* A blind spot to repeat with the table (code sites: "foo: address taken
 * at x.c:12; ..."), one line, copied. */
void coverage_blind_spot(const char *line);

/* Print the table (sites named through as) on f. */
void coverage_print(FILE *f, struct addrspace *as);

#endif
