/*
 * watchexpr — the -w EXPR language and its resolution to bytes in memory.
 *
 *   NAME | NAME.member[.member...] | NAME[i] | func::NAME | 0xADDR:LEN
 *
 * and combinations of member and index steps (arr[2].x, s.buf[3]).
 * Parsing is pure (unit tested); resolution asks struct addrspace.
 */
#ifndef RACEWATCH_WATCHEXPR_H
#define RACEWATCH_WATCHEXPR_H

#include <stddef.h>
#include <stdint.h>

struct addrspace;

#define WEXPR_MAX_STEPS 16

struct wexpr_step {
	enum { WSTEP_MEMBER, WSTEP_INDEX } kind;
	char member[64];	/* WSTEP_MEMBER */
	uint64_t index;		/* WSTEP_INDEX */
};

struct wexpr {
	enum { WEXPR_SYMBOL, WEXPR_RANGE } kind;
	char func[128];		/* "" unless func::NAME */
	char name[128];		/* WEXPR_SYMBOL */
	struct wexpr_step steps[WEXPR_MAX_STEPS];
	int nsteps;
	uint64_t addr, len;	/* WEXPR_RANGE (run-time address) */
};

/*
 * Parse text.  Returns 0, or -1 with a one-line reason in err that points at
 * the offending character, columns counted from 1 ("expected ']' at column
 * 4 in 'a[3'").  LEN must be 1..4096; numbers are decimal or 0x-hex.
 * Blanks are allowed around the whole text and inside brackets only.
 */
int wexpr_parse(const char *text, struct wexpr *out, char *err, size_t errlen);

/* What a resolved expression watches. */
struct watch_target {
	uint64_t addr;		/* run-time address */
	uint64_t len;		/* bytes */
	char name[160];		/* "foo", "s.a.b", "arr[3]", "main::count", "0x1234:4" */
	int marked;		/* DWARF type is volatile or _Atomic */
};

/*
 * Resolve e in the process described by as.  Returns 0, or -1 with a one-line
 * reason in err: unknown variable (with "did you mean" suggestions),
 * thread-local / register / stack variable refused with the reason, no such
 * member, index out of bounds.
 */
int wexpr_resolve(const struct wexpr *e, struct addrspace *as,
		  struct watch_target *out, char *err, size_t errlen);

#endif
