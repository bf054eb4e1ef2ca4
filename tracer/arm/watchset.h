/*
 * watchset — what one process watches, laid out over the debug-register
 * slots every thread of it gets.  Watches come from -w (resolved at exec),
 * from RACEWATCH_WATCH names in the program, and from racewatch_watch()
 * calls at run time.  An index into proc->watches stays valid for the life
 * of the image (removed watches are only marked inactive), so windows and
 * reports can keep referring to it.
 */
#ifndef RACEWATCH_WATCHSET_H
#define RACEWATCH_WATCHSET_H

#include <stddef.h>

#include "tracee.h"

/*
 * Parse every expression (before anything runs), so a typo fails fast.
 * Returns 0, or -1 after printing the one-line error.
 */
int watchset_check_syntax(char **exprs, int n);

/* Forget every watch of p (a new image). */
void watchset_clear(struct proc *p);

/*
 * Resolve exprs in p (whose addrspace is loaded) and add them.  All or
 * nothing: returns 0, or -1 with a one-line reason in err and p unchanged.
 */
int watchset_resolve(struct proc *p, char **exprs, int n, char *err, size_t errlen);

/*
 * Add one resolved target.  Returns its index, or -1 with the reason in err
 * when it does not fit the slots that are left.  Bumps p->gen.
 */
int watchset_add(struct proc *p, const struct watch_target *t, const char *expr,
		 char *err, size_t errlen);

/* Stop watching what starts at addr.  Returns how many watches ended. */
int watchset_remove(struct proc *p, uint64_t addr);

/* The active watch whose bytes contain addr, or -1. */
int watchset_find(const struct proc *p, uint64_t addr);

/* Set by the engine for the code backend: watches take no debug-register
 * slot, so any number of any size fit. */
extern int watchset_slotless;

#endif
