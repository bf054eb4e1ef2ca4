/*
 * report — race records: deduplicated (a pair already reported is counted,
 * not printed again), symbolized while both threads are still stopped, and
 * handed to the sinks (KCSAN-style text on stderr; JSON, SARIF and the TUI
 * plug in here).
 */
#ifndef RACEWATCH_REPORT_H
#define RACEWATCH_REPORT_H

#include <stdio.h>

#include "access.h"

struct addrspace;

enum race_kind {
	RACE_DATA,		/* two threads, concurrent, the rules say race */
	RACE_UNKNOWN_ORIGIN,	/* value changed in a window, no trapped writer */
	RACE_ASSERT,		/* ASSERT_EXCLUSIVE_* violated */
};

#define REPORT_MAX_FRAMES 16

struct report_frame {
	uint64_t pc;
	char func[128];		/* escaped for the terminal */
	char file[256];		/* escaped; "" when unknown */
	int line;
	int inlined;
};

struct race {
	enum race_kind kind;
	pid_t pid;
	char var[192];		/* "foo", "s.b", "foo+4" (escaped) */
	struct access a;	/* the earlier access (the stalled thread) */
	struct access b;	/* the access inside a's window (not for unknown origin) */
	int value_known;	/* old/new below are meaningful */
	unsigned vsize;		/* bytes shown in the value line */
	uint64_t old_val, new_val;
	struct report_frame fa[REPORT_MAX_FRAMES], fb[REPORT_MAX_FRAMES];
	int nfa, nfb;
	unsigned count;		/* times seen */
	uint64_t first_ns, last_ns;
};

/*
 * Submit a race.  Precondition: the threads of r->a and r->b are stopped
 * (so their stacks can be read).  If the same (kind, variable, pc pair) was
 * reported before, bumps its count and returns 0; otherwise symbolizes r,
 * prints it to every sink and returns 1.
 */
int report_submit(struct race *r, struct addrspace *as);

/* How many distinct races were reported (the exit status depends on it). */
int report_count(void);

/* Write r as KCSAN-style text. */
void report_print_text(FILE *f, const struct race *r);

#endif
