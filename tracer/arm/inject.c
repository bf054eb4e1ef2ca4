/*
 * inject — make a stopped thread run one system call for us, and map the
 * scratch pages the code backend executes displaced instructions in.
 *
 * The syscall instruction comes from the vdso (every process has one, and
 * it holds a `syscall` for its fallbacks), so no byte of the program is
 * changed; the thread is single-stepped over it and its registers are put
 * back exactly.  orig_rax = -1 tells the kernel the thread is not inside a
 * restartable system call while it runs ours; the saved registers, put
 * back afterwards, restore whatever restart the thread had pending.
 */
#include "inject.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

/* The address of a `syscall` (0f 05) in tid's vdso, or 0. */
static uint64_t vdso_syscall(pid_t pid, int memfd)
{
	char path[64], line[512];
	uint64_t lo = 0, hi = 0, found = 0;
	uint8_t buf[8192];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "[vdso]") && sscanf(line, "%" SCNx64 "-%" SCNx64, &lo, &hi) == 2)
			break;
	fclose(f);
	if (!hi || hi - lo > sizeof(buf) || pread(memfd, buf, hi - lo, (off_t)lo) != (ssize_t)(hi - lo))
		return 0;
	for (uint64_t i = 0; i + 1 < hi - lo; i++)
		if (buf[i] == 0x0f && buf[i + 1] == 0x05) {
			found = lo + i;
			break;
		}
	return found;
}

/* Wait for tid's next stop; a signal that is not the step's is noted. */
static int wait_step(pid_t tid, int *other_sig)
{
	int status;

	for (;;) {
		if (waitpid(tid, &status, __WALL) != tid)
			return -1;
		if (!WIFSTOPPED(status))
			return -1;	/* it died under us */
		if (WSTOPSIG(status) == SIGTRAP && !((unsigned)status >> 16))
			return 0;
		/* Not ours: an event stop, or a signal that raced the step. */
		if (!((unsigned)status >> 16) && !*other_sig)
			*other_sig = WSTOPSIG(status);
		return 1;
	}
}

int inject_syscall(pid_t tid, int memfd, long nr, const uint64_t args[6], uint64_t *ret,
		   int *pending_sig)
{
	struct user_regs_struct saved, r;
	uint64_t sc = vdso_syscall(tid, memfd);
	int other = 0, rc;

	if (!sc) {
		errno = ENOEXEC;
		return -1;
	}
	if (ptrace(PTRACE_GETREGS, tid, NULL, &saved) < 0)
		return -1;
	r = saved;
	r.rip = sc;
	r.rax = (uint64_t)nr;
	r.orig_rax = (uint64_t)-1;
	r.rdi = args[0];
	r.rsi = args[1];
	r.rdx = args[2];
	r.r10 = args[3];
	r.r8 = args[4];
	r.r9 = args[5];
	if (ptrace(PTRACE_SETREGS, tid, NULL, &r) < 0)
		return -1;
	/* Up to a few tries: a signal may stop it before the step completes. */
	for (int tries = 0; tries < 4; tries++) {
		if (ptrace(PTRACE_SINGLESTEP, tid, NULL, NULL) < 0)
			return -1;
		rc = wait_step(tid, &other);
		if (rc < 0)
			return -1;
		if (ptrace(PTRACE_GETREGS, tid, NULL, &r) < 0)
			return -1;
		if (rc == 0 && r.rip == sc + 2)
			break;
	}
	*ret = r.rax;
	if (pending_sig && other)
		*pending_sig = other;
	if (r.rip != sc + 2) {
		ptrace(PTRACE_SETREGS, tid, NULL, &saved);
		errno = EAGAIN;
		return -1;
	}
	return ptrace(PTRACE_SETREGS, tid, NULL, &saved) < 0 ? -1 : 0;
}

/* Is [a, a + len) free of every mapping in pid? */
static int range_free(pid_t pid, uint64_t a, uint64_t len)
{
	char path[64], line[512];
	uint64_t lo, hi;
	int ok = 1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (ok && fgets(line, sizeof(line), f))
		if (sscanf(line, "%" SCNx64 "-%" SCNx64, &lo, &hi) == 2 && lo < a + len && a < hi)
			ok = 0;
	fclose(f);
	return ok;
}

uint64_t inject_scratch(pid_t tid, pid_t pid, int memfd, uint64_t near_lo, uint64_t near_hi,
			size_t len, int *pending_sig)
{
	const uint64_t mb = 1ull << 20;

	len = (len + 4095) & ~(size_t)4095;
	/* Below the executable first (PIE and non-PIE both leave room there),
	 * then above it, past where the heap usually starts: all within
	 * +-1 GiB, so a rel32 from any site reaches the page and back. */
	for (int k = 1; k <= 96; k++) {
		uint64_t a = k <= 48 ? ((near_lo & ~(mb - 1)) - (uint64_t)k * 4 * mb)
				     : ((near_hi + mb) & ~(mb - 1)) + 256 * mb + (uint64_t)(k - 48) * 8 * mb;
		uint64_t args[6] = { a, len, PROT_READ | PROT_EXEC,
				     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, (uint64_t)-1, 0 };
		uint64_t got;

		if (a < 0x100000 || a > near_lo + (1ull << 31) || !range_free(pid, a, len))
			continue;
		if (inject_syscall(tid, memfd, SYS_mmap, args, &got, pending_sig) < 0)
			return 0;
		if (got == a)
			return a;
		if ((int64_t)got < 0 && (int64_t)got > -4096 && -(int64_t)got != EEXIST)
			return 0;	/* a real refusal: trying elsewhere will not help */
	}
	return 0;
}
