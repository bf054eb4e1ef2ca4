/*
 * policy — which concurrent pairs are races.  The rules of DESIGN.md
 * section 5 (from seeds/access-marking.txt and
 * seeds/rcu-shared-variable-marking.txt) are one table of data, policy.c's
 * `rules`; --strict selects its second column.
 */
#ifndef RACEWATCH_POLICY_H
#define RACEWATCH_POLICY_H

#include "access.h"

enum verdict {
	VERDICT_NONE,		/* not a race: say nothing */
	VERDICT_RACE,		/* a data race */
	VERDICT_ASSERT,		/* an ASSERT_EXCLUSIVE_* was violated */
};

/* What is known about the value while the two accesses overlapped. */
enum value_change {
	VALUE_UNKNOWN = -1,
	VALUE_SAME = 0,
	VALUE_CHANGED = 1,
};

struct rule {
	const char *what;	/* the row of DESIGN.md section 5 it implements */
	int (*match)(const struct access *a, const struct access *b, enum value_change vc);
	enum verdict normal;	/* default rules */
	enum verdict strict;	/* --strict (RCU) rules */
};

/*
 * Judge two concurrent accesses to overlapping bytes by different threads.
 * The first matching row of the table decides; returns its verdict and, if
 * row is not NULL, the row (for messages and tests).
 */
enum verdict policy_judge(const struct access *a, const struct access *b,
			  enum value_change vc, int strict, const struct rule **row);

/* The table itself, for the unit test that walks every row. */
extern const struct rule policy_rules[];
extern const int policy_nrules;

/* Is a a plain aligned write of at most a machine word (assumed atomic)? */
int policy_plain_word_write(const struct access *a);

#endif
