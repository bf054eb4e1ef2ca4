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

/*
 * The same for a watchpoint that is no slot of the layout (a stall
 * window's, window_hw.c): it watched [lo, lo + len) inside watch.
 */
int trap_decode_at(struct thread *t, int watch, uint64_t lo, uint64_t len, struct access *acc);

/*
 * The rest of trap_decode, for a mechanism that already knows the
 * instruction (code sites): fill *acc for insn (which touched watch; when
 * its address is unknown, [lo_fb, lo_fb + len_fb) is taken as touched),
 * classify its marking and track the watch's value.  Precondition: the
 * access has happened and t is stopped with regs.  Returns 0.
 */
struct user_regs_struct;
int trap_fill(struct thread *t, const struct user_regs_struct *regs,
	      const struct access_insn *insn, int watch, uint64_t lo_fb, uint64_t len_fb,
	      struct access *acc);

/* Forget cached decodings (after exec: the code changed). */
void trap_cache_flush(void);

#endif
