/*
 * engine_int — what the engine's files share (engine.c: the loop and the
 * events; tracee.c: threads and processes; attach.c: attach and detach;
 * registry.c: the program's run-time registrations; engine_watch.c: what
 * gets watched).  Not for the rest of the tracer: they see engine.h,
 * tracee.h and frontend.h.
 */
#ifndef RACEWATCH_ENGINE_INT_H
#define RACEWATCH_ENGINE_INT_H

#include "engine.h"
#include "tracee.h"

#include <signal.h>
#include <stdint.h>

#define HASH_SIZE 1024
#define REGISTRY_DOORBELL	SIGURG	/* racewatch_watch() rings it (include/racewatch.h) */
#define SAMPLE_SITES 8		/* sampled sites armed at a time without -w */
#define SAMPLE_WATCHES_MAX 4096	/* sampled byte ranges named at most */

struct arm_backend;
struct frontend;

struct engine {
	const struct options *o;
	const struct arm_backend *arm;
	struct proc *procs;
	struct thread *hash[HASH_SIZE];
	int nthreads;		/* every traced thread of every process */
	pid_t main_pid;		/* the program we launched */
	int main_status;	/* its wait status, once it is gone */
	int main_done;
	int fatal;		/* set by a fatal error inside the loop */
	int attached;		/* attach, not run: detach at the end, never kill */
	int stop_requested;	/* attach: a signal told us to detach */
	const struct frontend *fe;	/* the TUI, or NULL */
	struct addrspace *cov_as;	/* kept to name coverage sites at exit */
	int paused;		/* engine_pause(1): every slot disarmed */
	int quit_asked;		/* engine_quit() calls so far */
	unsigned saved_mask;	/* the slots in use when pausing */
	uint64_t tick_ns;	/* when the front end was last ticked */
	uint64_t rate_ns, rate_traps, rate_windows;	/* for traps/s and the estimate */
	double traps_per_s, overhead_pct;
	int sigfd;
	int duty_fd;		/* the duty cycle's timer, -1 when off */
	int auto_backend;	/* --backend auto: may still move to code at the first exec */
	int sampling;		/* no -w: sampling the program's own accesses */
	uint64_t start_ns;	/* for the summary's duration */
	struct seen_watch { char name[160]; uint64_t hits; } *seen;	/* every watch the main */
	int nseen;		/* program had, with its accesses, for the exit's warnings */
	sigset_t orig_mask;
	/* -w expressions across execs and dlopens (engine_watch.c): */
	unsigned char *wstate;	/* per -w: W_PENDING, W_RESOLVED (this image), W_FAILED */
	unsigned char *wever;	/* per -w: resolved in some image at some time */
	char searched[2048];	/* objects searched for pending names, for the exit error */
	int dl_used;		/* a rendezvous breakpoint was planted: children must be cleaned */
	char sampled_mods[1024];	/* --modules: objects whose sites joined the sample */
	uint64_t tstp_since;
	int any_exec;		/* run: the program got past its exec */	/* Ctrl-Z: waiting since then for the program to stop */
};

#define W_PENDING	0
#define W_RESOLVED	1
#define W_FAILED	2

/* The one engine of this process. */
extern struct engine E;

/* engine.c */
int engine_init(const struct options *o);
void engine_loop(void);
int engine_finish(void);
long engine_trace_options(void);
/* tid exited or was killed (its wait status): forget it, and its process
 * with its last thread. */
void on_exit_status(pid_t tid, int status);

/* tracee.c: the thread table and the processes. */
struct thread *thread_new(struct proc *p, pid_t tid);
/* t is gone (exited, killed, or replaced by exec): forget it. */
void thread_gone(struct thread *t);
/* A thread we do not know stopped: a new thread whose first stop won the
 * race with its creator's clone event, or (--follow-fork) a new process.
 * NULL if it is not ours (it is then detached). */
struct thread *thread_adopt(pid_t tid);
void thread_arm(struct thread *t);
int thread_sig_pending(pid_t tid, int sig);
struct proc *proc_new(pid_t pid);
struct proc *proc_find(pid_t pid);
void proc_unload(struct proc *p);
void proc_free(struct proc *p);
int proc_load(struct proc *p, char *err, size_t errlen);
void proc_remember_watches(struct proc *p);
long long proc_status_field(pid_t tid, const char *name, int base);

/* registry.c */
void registry_watch_registered(struct proc *p);
void registry_open(struct proc *p);
void registry_close(struct proc *p);
void registry_release_held(struct proc *p);
int registry_doorbell(struct thread *t);
void proc_rearm_all(struct proc *p);

/* engine_watch.c */
void engine_warn_no_dwarf(struct proc *p);
int engine_watch_all(struct proc *p);
void engine_start_sampling(struct proc *p);
/* --modules: add the sites of every mapped object it names and we have not
 * added yet.  t is stopped in user mode (a chunk is mapped through it). */
void engine_sample_modules(struct proc *p, struct thread *t);
int engine_sample_watch(struct proc *p, uint64_t ea, unsigned size, uint64_t pc,
			const uint8_t *insn, unsigned len);
/*
 * Resolve the -w expressions still pending in p's image (all of them after
 * an exec).  A name no loaded object defines stays pending (a later dlopen
 * or exec may define it); other errors are fatal at p's first exec (-1,
 * printed), warnings later.  New watches are added to p; the caller arms
 * them.  t is the stopped thread (to move to code sites if need be).
 */
int engine_resolve(struct proc *p, struct thread *t, int first);
/* How many -w expressions are still pending. */
int engine_pending(void);
/* The exit's errors for names no object ever defined. */
void engine_report_never_defined(void);
/* A child we do not follow: our int3 bytes out of its memory. */
void engine_clean_child(struct proc *parent, pid_t child);

/* attach.c */
void engine_detach_all(void);

#endif
