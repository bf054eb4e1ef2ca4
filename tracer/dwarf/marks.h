/*
 * marks — what include/racewatch.h compiled into a module: the marked sites
 * (.racewatch_marks), the __no_racewatch code (.racewatch_exempt) and the
 * statically registered variable names (.racewatch_watch).  The binary
 * format is documented at the top of include/racewatch.h.
 */
#ifndef RACEWATCH_MARKS_H
#define RACEWATCH_MARKS_H

#include <stddef.h>
#include <stdint.h>

#include "access.h"

/* Kinds as the header numbers them. */
enum {
	RWMARK_ONCE = 1,
	RWMARK_DATA_RACE = 2,
	RWMARK_ASSERT_ACCESS = 3,
	RWMARK_ASSERT_WRITER = 4,
	RWMARK_SCOPE_ACCESS = 5,
	RWMARK_SCOPE_WRITER = 6,
	RWMARK_SCOPE_END = 7,
};

struct mark_range {
	uint64_t begin, end;	/* link-time, [begin, end) */
	unsigned kind;		/* RWMARK_* */
};

struct marks {
	struct mark_range *r;	/* sorted by begin */
	size_t n;
	uint64_t exempt_begin, exempt_end;	/* .racewatch_exempt, link-time; empty if equal */
	char **names;		/* .racewatch_watch entries */
	int nnames;
};

/*
 * Read the sections of the ELF file at path.  A module without them gives an
 * empty table (not an error).  Returns NULL only when path is unreadable or
 * not ELF.  Malformed records are skipped.
 */
struct marks *marks_load(const char *path);
void marks_free(struct marks *m);

/*
 * The marking of the instruction at link-time address pc: the RWMARK_* kind
 * of the site containing it (data_race wins over assertions, assertions over
 * ONCE when sites nest), RWMARK_DATA_RACE inside __no_racewatch code, or 0.
 */
unsigned marks_kind_at(const struct marks *m, uint64_t pc);

/* Pure: parse a .racewatch_marks section image that lives at link-time
 * address base.  Returns the number of ranges stored in out (at most max). */
size_t marks_parse(const uint8_t *data, size_t size, uint64_t base,
		   struct mark_range *out, size_t max);

#endif
