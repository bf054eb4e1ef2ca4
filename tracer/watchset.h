/*
 * watchset — the user's watch expressions resolved in one process and laid
 * out over the debug-register slots every thread of it gets.
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

/*
 * Resolve exprs in p (whose addrspace is loaded) and lay them out over the
 * slots.  Replaces p's previous watch set and bumps p->gen.  Returns 0, or
 * -1 with a one-line reason in err (the watch set is then empty).
 */
int watchset_resolve(struct proc *p, char **exprs, int n, char *err, size_t errlen);

#endif
