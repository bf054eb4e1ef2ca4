/*
 * tracee — the engine's picture of the traced program: one struct proc per
 * traced process (thread group), one struct thread per traced thread, and the
 * watch set of each process laid out over the four debug-register slots.
 */
#ifndef RACEWATCH_TRACEE_H
#define RACEWATCH_TRACEE_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "access.h"
#include "hwbp.h"
#include "watchexpr.h"

struct window;
struct codeset;
struct addrspace;
struct marks;

/* One resolved watch expression of a process. */
struct watch {
	char expr[160];		/* as the user wrote it ("" for run-time registrations) */
	struct watch_target t;	/* address, length, display name, marked */
	int slot_first;		/* first debug-register slot it uses */
	int nslots;		/* how many slots (a split variable) */
	int active;		/* 0 once unwatched; the index stays reserved */
	uint8_t shadow[32];	/* the variable's bytes as of the last trapped access */
	int shadow_valid;	/* shadow is meaningful (variables of <= 32 bytes) */
	uint64_t hits;		/* accesses seen (for the exit's "never accessed" warning) */
};

/* An ASSERT_EXCLUSIVE_*_SCOPED in force: thread tid is inside the scope. */
struct scope {
	pid_t tid;
	struct access acc;	/* the scope's opening pseudo-access */
	struct scope *next;
};

struct proc {
	pid_t pid;		/* thread-group id */
	int memfd;		/* /proc/PID/mem, open for reading; -1 before exec */
	struct addrspace *as;	/* modules and their symbols; NULL before exec */
	struct watch *watches;	/* resolved watch set */
	int nwatches;
	struct hwbp_slot slots[HWBP_SLOTS];	/* the layout every thread gets */
	int slot_watch[HWBP_SLOTS];		/* index into watches, per slot */
	unsigned slot_mask;	/* which slots are in use */
	unsigned gen;		/* bumped when the layout changes */
	int nthreads;		/* live traced threads */
	int running;		/* of those, how many are not stopped by us */
	int exec_seen;		/* symbols loaded and watch set resolved */
	struct marks *marks;	/* the executable's marked sites (include/racewatch.h) */
	uint64_t exe_bias;	/* run-time minus link-time address of the executable */
	uint64_t registry;	/* run-time address of racewatch_registry, 0 if none */
	struct scope *scopes;	/* scoped assertions in force */
	int rearm_pending;	/* threads interrupted to take a new layout */
	struct codeset *code;	/* code backend: sites and scratch page (arm_code.c) */
	uint64_t dl_brk;	/* the dynamic linker's rendezvous int3, 0 if none (dynlink.c) */
	struct usiteset *up;	/* --code-via uprobe: the sites (arm_uprobe.c) */
	int code_setup_due;	/* attach: plant code sites at the next safe stop */
	struct proc *next;
};

struct thread {
	pid_t tid;
	struct proc *proc;
	unsigned flags;
#define TF_ARMED	0x01	/* carries proc->slots (generation armed_gen) */
#define TF_STOPPED	0x02	/* in a ptrace stop we have not resumed yet */
#define TF_GROUP_STOP	0x04	/* in a group-stop, parked with PTRACE_LISTEN */
#define TF_WINDOW	0x08	/* held stopped by its own stall window */
#define TF_REARM	0x10	/* interrupted so it can take a new layout */
#define TF_HELD		0x20	/* rang the doorbell: held until every thread is re-armed */
	unsigned armed_gen;	/* proc->gen when last armed */
	int perf_fd[HWBP_SLOTS];	/* perf backend: one event per armed slot, or -1 */
	struct window *window;	/* the stall window this thread holds open */
	int pending_sig;	/* detaching: the program's own signal to deliver on detach */
	unsigned duty_off;	/* slots the duty cycle switched off (duty.c) */
	uint64_t last_trap_ns[HWBP_SLOTS];	/* per slot, for the duty cycle */
	double duty_tokens[HWBP_SLOTS];		/* per slot: traps the budget allows now */
	/* The armed-time duty cycle (duty.c): */
	int ad_listed;		/* 1 + index in duty.c's thread list, 0 if not listed */
	int ad_off;		/* in the off part of its period: every slot disabled */
	double ad_f;		/* share of each period its slots are armed */
	uint64_t ad_next;	/* when it switches off (0: it stays on) */
	uint64_t ad_mark;	/* armed/traced time counted up to here */
	uint64_t ad_csw, ad_csw_ns;	/* context switches last read, and when */
	int code_site;		/* code backend: site whose copy t is running, -1 if none */
	struct access_insn code_insn;	/* ... and its access, decoded before it ran */
	int *up_fd;		/* --code-via uprobe: one event per site, or -1 */
	int up_n;
	struct thread *hnext;	/* hash chain */
};

/* Thread table (engine.c). */
struct thread *thread_find(pid_t tid);

/*
 * Resume t from the ptrace stop it is in, delivering sig (0 = none).
 * Precondition: TF_STOPPED.  Postcondition: TF_STOPPED cleared.  A thread
 * that vanished meanwhile (ESRCH) is left for its exit event.
 */
void thread_resume(struct thread *t, int sig);

/* Is a signal the program catches waiting to be delivered to t? */
int proc_signal_waiting(const struct thread *t);

/* Does a thread of p other than except have one of our hit signals queued? */
int proc_hits_pending(struct proc *p, const struct thread *except);

/* Read len bytes of the process's memory at addr.  0 on success. */
int proc_read(struct proc *p, uint64_t addr, void *buf, size_t len);
/* Write them (through /proc/PID/mem: read-only code pages too).  0 on success. */
int proc_write(struct proc *p, uint64_t addr, const void *buf, size_t len);

#endif
