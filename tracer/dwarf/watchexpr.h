/*
 * watchexpr — the -w EXPR language and its resolution to bytes in memory.
 *
 *   NAME | NAME.member[.member...] | NAME[i] | func::NAME | file.c::NAME
 *   | *PTR | PTR->member | PTR[i] | 0xADDR:LEN
 *
 * and combinations of member, index and arrow steps (arr[2].x, s.buf[3],
 * p->next->v).  func may be a compiler-made name (f.part.0,
 * main._omp_fn.0); a scope with a '/' or a source suffix (.c, .h, .cc,
 * .cpp...) is a file.  A leading '*' applies to the whole rest, as in C.
 * '->', '*' and an index on a pointer read the pointer in the process when
 * the expression is resolved (at arming).  Parsing is pure (unit tested:
 * watchexpr.c); resolution asks struct addrspace (watchexpr_resolve.c).
 */
#ifndef RACEWATCH_WATCHEXPR_H
#define RACEWATCH_WATCHEXPR_H

#include <stddef.h>
#include <stdint.h>

struct addrspace;

#define WEXPR_MAX_STEPS 16

struct wexpr_step {
	enum { WSTEP_MEMBER, WSTEP_INDEX, WSTEP_ARROW } kind;
	char member[64];	/* WSTEP_MEMBER, WSTEP_ARROW */
	uint64_t index;		/* WSTEP_INDEX */
};

struct wexpr {
	enum { WEXPR_SYMBOL, WEXPR_RANGE } kind;
	char func[128];		/* "" unless func::NAME */
	char file[256];		/* "" unless file.c::NAME */
	char module[128];	/* "" unless liby.so::NAME: the object to look in */
	int deref;		/* a leading '*' */
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
	char via[192];		/* "" or how a pointer read gave the address */
};

/*
 * Resolve e in the process described by as.  Returns 0, or -1 with a one-line
 * reason in err: unknown variable (with "did you mean" suggestions), an
 * ambiguous name (a global in one file and a static in another: the
 * choices are listed as file.c::NAME), thread-local / register / stack /
 * optimised-out variables and functions refused with the reason, no such
 * member, index out of bounds, a NULL or unmapped pointer, a 0xADDR:LEN
 * range the process does not map.  A pointer read is remembered (see
 * wexpr_via) and described in out->via.
 */
int wexpr_resolve(const struct wexpr *e, struct addrspace *as,
		  struct watch_target *out, char *err, size_t errlen);

/*
 * How the address addr was found, if a pointer read gave it: copies the
 * resolution's out->via into buf and returns 1, else 0.  Reports call it
 * (the watch they come from is not at hand there).  The last resolution
 * of a range containing addr wins.
 */
int wexpr_via(uint64_t addr, char *buf, size_t len);

#endif
