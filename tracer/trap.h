/*
 * trap — turn "thread T stopped on a watchpoint in slot S" into a struct
 * access: which instruction (the one that ended at the trap pc, decoded by
 * the arch layer), what it did, which bytes, how it was marked.
 */
#ifndef RACEWATCH_TRAP_H
#define RACEWATCH_TRAP_H

#include "access.h"
#include "tracee.h"

/*
 * Precondition: t is in the signal-delivery stop of its watchpoint trap for
 * slot.  Returns 0 and fills *acc, or -1 if no accessing instruction can be
 * found at the trap pc (the trap is then dropped as stale).
 */
int trap_decode(struct thread *t, int slot, struct access *acc);

/* Forget cached decodings (after exec: the code changed). */
void trap_cache_flush(void);

#endif
