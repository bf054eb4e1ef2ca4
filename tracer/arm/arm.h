/*
 * arm — how watchpoints get into the hardware, behind one small interface
 * with two implementations:
 *
 *   perf   perf_event_open(PERF_TYPE_BREAKPOINT) per thread and slot, with
 *          remove_on_exec=1; hits arrive as the event's fasync signal,
 *          SIGURG (si_code POLL_IN, si_fd = the event), owned by the thread
 *          (arm_perf.c says why not sigtrap=1).  The events die with the
 *          tracer's file descriptors, and a hit in flight when the tracer
 *          dies is an ignored SIGURG: the target is unharmed.  The default.
 *   ptrace PTRACE_POKEUSER into u_debugreg: DR0-DR3, then DR7; DR6 says
 *          which slot fired (si_code TRAP_HWBKPT).  The registers outlive
 *          the tracer, so every exit path must clear DR7.
 */
#ifndef RACEWATCH_ARM_H
#define RACEWATCH_ARM_H

#include <signal.h>
#include <stddef.h>

#include "tracee.h"

/* The signal perf breakpoint hits arrive as (default action: ignore). */
#define ARM_PERF_SIGNAL SIGURG

struct arm_backend {
	const char *name;
	int trap_signal;	/* the signal a hit stops the thread with */
	/*
	 * Make t carry exactly t->proc's slot layout.  Precondition: t is in a
	 * ptrace stop (the perf backend does not need it, ptrace does).
	 * Returns 0, -1 with a one-line reason in err, or -2 if the thread
	 * has already exited (not an error: its exit event follows).
	 */
	int (*arm)(struct thread *t, char *err, size_t errlen);
	/* Remove every watchpoint of ours from t.  Precondition: as for arm. */
	void (*disarm)(struct thread *t);
	/* t no longer exists: drop what we hold for it without touching it. */
	void (*forget)(struct thread *t);
	/*
	 * Is this trap_signal (t is in its signal-delivery stop) one of ours?
	 * Returns the slot that fired, TRAP_FOREIGN when it belongs to the
	 * program, or TRAP_STALE when it is ours but cannot be trusted (it
	 * comes from a layout since replaced).
	 */
	int (*trap_slot)(struct thread *t, const siginfo_t *si);
	/*
	 * t is in a signal-delivery stop for sig: what was it?  ARM_ACCESS:
	 * one of ours, and *acc is the access that just happened (t stands
	 * right after it; *unit is the slot or site, for the duty cycle);
	 * ARM_CONSUMED: ours, but nothing to report (a stale hit, or a code
	 * site's stop before its access): just resume t; ARM_FOREIGN: the
	 * program's own signal.  This is the whole interface the engine needs
	 * from a mechanism at a stop: accesses, not debug-register slots.
	 */
	int (*on_stop)(struct thread *t, int sig, struct access *acc, int *unit);
	/*
	 * The budget (--overhead), per mechanism.  after_hit: t just hit
	 * unit (the slot or site) on watch; listening says a window waits on
	 * that watch (then nothing of it may be switched off).  may_open: may
	 * this hit open a window now?  opening: a window opens on watch after
	 * t's hit at unit: whatever was switched off on watch goes back on
	 * (no access may slip past the window) and the stall is charged.
	 */
	void (*after_hit)(struct thread *t, int unit, int watch, int listening);
	int (*may_open)(struct thread *t, int unit);
	void (*opening)(struct thread *t, int unit, int watch);
};

/* The slot backends' budget (duty.c): a token bucket per thread and slot. */
void arm_duty_after_hit(struct thread *t, int unit, int watch, int listening);
int arm_duty_may_open(struct thread *t, int unit);
void arm_duty_opening(struct thread *t, int unit, int watch);

enum { ARM_FOREIGN, ARM_CONSUMED, ARM_ACCESS };

/* on_stop of the slot backends (perf, ptrace): b's trap_slot, then trap_decode. */
int arm_slot_on_stop(const struct arm_backend *b, struct thread *t, int sig,
		     struct access *acc, int *unit);

#define TRAP_FOREIGN	(-1)
#define TRAP_STALE	(-2)

extern const struct arm_backend arm_perf;

/* perf: open a breakpoint event on slot s's bytes in thread tid, its hits
 * signalled to that thread as ARM_PERF_SIGNAL.  The fd; -1 when the event
 * could not be opened, -2 when its signal could not be routed (errno set). */
int arm_perf_open(pid_t tid, const struct hwbp_slot *s);

/* perf only: switch t's event for slot on or off, the thread running on. */
void arm_perf_toggle(struct thread *t, int slot, int on);
extern const struct arm_backend arm_ptrace;

/*
 * code (arm_code.c): int3 on every instruction that touches a watched
 * variable, executed out of line in a scratch page.  Sites are per process.
 */
extern const struct arm_backend arm_code;
struct options;
void code_set_options(const struct options *o);
/* Find, map and plant p's sites.  Precondition: t (of p) is stopped in user
 * mode; p's watches are resolved.  0, or -1 with a one-line reason. */
int code_setup(struct thread *t, char *err, size_t errlen);
/* The same for watches from index `from` on (a library loaded since), in
 * whichever module each lives.  0, or -1 with a reason. */
int code_add(struct thread *t, int from, char *err, size_t errlen);
/* watch's module was unloaded: forget its sites without touching memory. */
void code_drop_watch(struct proc *p, int watch);
/* A SIGTRAP stop of t: CODE_FOREIGN (not ours), CODE_STEPPED (the stop
 * before an access: t was moved to the site's copy, resume it), CODE_STALE
 * (ours, nothing to report: resume it), or the site's index (>= 0) with
 * *acc filled: the access just happened and t sits right after it. */
#define CODE_FOREIGN	(-1)
#define CODE_STEPPED	(-2)
#define CODE_STALE	(-3)
int code_on_sigtrap(struct thread *t, struct access *acc);
void code_after_hit(struct proc *p, int site, int window_open);
void code_force_on(struct proc *p, int watch);
/* A window opened: charge its stall to the budget. */
void code_charge_window(struct proc *p, int site);
/* May another window be opened within --overhead? */
int code_budget_left(const struct proc *p, int site);
/* Budget refill; returns how many sites are still off. */
int code_tick(struct proc *p);
/* A vfork child we do not follow had the original bytes put back in the
 * memory it shares with p (code_clean_child): plant them again. */
void code_replant_all(struct proc *p);
/* Detach: t (stopped) is moved out of the scratch page; code_leave puts
 * every byte back for good. */
void code_detach_thread(struct thread *t);
void code_leave(struct proc *p);
void code_free(struct proc *p);
/*
 * Sampling unnamed accesses (DataCollider): every memory-accessing
 * instruction of the executable but stack, TLS, string, data_race() and
 * __no_racewatch ones is a candidate; `want` of them are planted at a time,
 * drawn uniformly, and re-drawn as they fire (and every 20 ms).  A sampled
 * hit asks code_sample_watch for the watch that names its bytes (the
 * engine makes one on demand); -1 drops the hit.
 */
int code_setup_sampling(struct thread *t, int want, char *err, size_t errlen);
/* --modules: a shared object's instructions join the sampled population
 * (exe: the executable itself, whose marks apply). */
int code_sample_module(struct thread *t, const char *path, uint64_t bias, int exe,
		       char *err, size_t errlen);
extern int (*code_sample_watch)(struct proc *p, uint64_t ea, unsigned size, uint64_t pc,
				const uint8_t *insn, unsigned len);
/*
 * code sites through perf uprobe events (arm_uprobe.c, --code-via uprobe):
 * per-thread events, hits as SIGURG after the access.  uprobe_add finds the
 * sites of watches from index `from` on (per thread, events are opened at
 * the next arm); uprobe_on_signal answers like code_on_sigtrap.
 */
extern const struct arm_backend arm_uprobe;
int uprobe_add(struct proc *p, int from, char *err, size_t errlen);
int uprobe_on_signal(struct thread *t, const siginfo_t *si, struct access *acc);
void uprobe_free(struct proc *p);
void uprobe_set_options(const struct options *o);

/* A followed fork child: its own copy of the parent's sites. */
struct codeset *code_clone(const struct codeset *cs);
/* A child we do not follow: put the original bytes back in its memory. */
void code_clean_child(struct proc *parent, pid_t child);
/* Detach or exit: is t's pending SIGTRAP stop one of ours?  If so t is
 * moved to where the program should go on (the site, or after it). */
int code_swallow(struct thread *t);

#endif
