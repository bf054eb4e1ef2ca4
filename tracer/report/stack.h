/*
 * stack — the call stack of a ptrace-stopped thread, by libunwind-ptrace
 * (DWARF CFI from .eh_frame, so it works without frame pointers).  Only
 * addresses here; report.c turns them into function / file:line through
 * the DWARF index.
 */
#ifndef RACEWATCH_STACK_H
#define RACEWATCH_STACK_H

#include <stdint.h>
#include <sys/types.h>

struct stack_pc {
	uint64_t pc;		/* return address into the frame, or its exact pc */
	int exact;		/* 1: pc is exact (the frame was interrupted by a
				 * signal), so look it up at pc, not pc - 1 */
};

/*
 * The callers of tid's current frame, innermost first: out[0] is the
 * frame that called the function tid is stopped in.  At most max.
 * Precondition: tid is in a ptrace stop (its registers and stack can be
 * read).  Returns how many were written (0 when the stack ends at once),
 * or -1 if the unwinder could not even start (reason via rw_debug).
 * Costs a few ptrace reads per frame plus reading the modules' unwind
 * tables: call it for new races only.
 */
int stack_unwind(pid_t tid, struct stack_pc *out, int max);

#endif
