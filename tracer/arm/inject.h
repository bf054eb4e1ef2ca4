/*
 * inject — run a system call inside a traced thread (see inject.c).
 */
#ifndef RACEWATCH_INJECT_H
#define RACEWATCH_INJECT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Make tid (in a ptrace stop, in user mode: not at an exec event stop, which
 * the caller first steps out of) run syscall nr with args; *ret gets its raw
 * return value (-errno on failure).  The thread's registers are restored
 * afterwards.  A signal of the program's that arrived meanwhile is stored in
 * *pending_sig (if non-NULL and not already set) for the caller to deliver.
 * Returns 0, or -1 with errno set when the injection itself failed.
 */
int inject_syscall(pid_t tid, int memfd, long nr, const uint64_t args[6], uint64_t *ret,
		   int *pending_sig);

/*
 * Map len bytes (rounded up to pages) of read+exec anonymous memory in the
 * process, within 1 GiB of [near_lo, near_hi) so rel32 displacements reach
 * both ways.  Returns its address, or 0.
 */
uint64_t inject_scratch(pid_t tid, pid_t pid, int memfd, uint64_t near_lo, uint64_t near_hi,
			size_t len, int *pending_sig);

#endif
