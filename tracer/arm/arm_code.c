/*
 * The code backend: a breakpoint on every instruction that touches a
 * watched variable, no debug register needed (DESIGN.md section 3b).
 *
 * The sites come from sites_find(), which decodes the executable's file,
 * never target memory.  Each site gets an int3 over its first byte and a
 * slot in a scratch page mapped into the target (inject.c), 32 bytes:
 *
 *     [the instruction, its rel32 fixed for the new place] [int3] [jmp pc+len]
 *
 * A hit costs two stops.  The first, at the site, computes the operand's
 * address from the registers as the instruction will use them, and moves
 * the thread to the slot.  The second, at the slot's int3, comes right
 * after the access: the thread is put back at pc+len, exactly where a
 * debug-register trap would have left it, and the access goes through the
 * same pipeline (trap_fill, windows, rules).  The original instruction is
 * never lifted while threads run, so no thread can slip past a site.
 *
 * Sites are switched off (original byte back) by a per-process token
 * bucket under --overhead and on again by code_tick(); a window forces
 * its variable's sites on.  Detach puts every byte back.  A SIGKILLed
 * tracer cannot: the int3 bytes stay and the program dies of SIGTRAP at
 * its next hit (README says so).
 */
#include "arm.h"
#include "addrspace.h"
#include "counters.h"
#include "coverage.h"
#include "inject.h"
#include "marks.h"
#include "options.h"
#include "sites.h"
#include "symbols.h"
#include "trap.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>

#define SLOT_SIZE 32
#define HIT_COST_S 40e-6	/* two stops, measured by probe (int3 ~15-40 us each) */
#define BUCKET_MAX 256.0	/* sampling: the process's bucket */
#define SITE_BURST 64.0		/* named watches: each site's bucket, so one hot
				 * site cannot spend what the others need */

struct code_site {
	uint64_t pc;		/* run-time address */
	uint64_t slot;		/* run-time address of its out-of-line copy */
	struct site s;		/* as sites_find gave it (link-time pc) */
	int watch;		/* index into proc->watches */
	int planted;		/* the int3 is in memory now */
	int off;		/* switched off by the budget */
	double tokens;		/* its own bucket: hits (and windows) it may still cost */
};

/* One scratch mapping and the sites whose copies it holds, v[first..first+n). */
struct chunk {
	uint64_t page;
	size_t len, first, n;
};

struct codeset {
	struct code_site *v;	/* in the order they were added */
	size_t n, cap;
	size_t *byp;		/* indices into v, sorted by pc */
	struct chunk *chunks;	/* one per code_add / sampling set-up */
	int nchunks;
	double tokens;		/* the budget's bucket */
	uint64_t refill_ns;
	int noff;		/* sites switched off */
	/* Sampling unnamed accesses (no -w): v is the whole population, of
	 * which `want` sites are planted at a time, drawn uniformly. */
	int sampling;
	int want, nplanted;
	uint64_t *planted_ns;	/* per site: when it was planted (0: not) */
};

int (*code_sample_watch)(struct proc *p, uint64_t ea, unsigned size, uint64_t pc,
			 const uint8_t *insn, unsigned len);

static const struct options *copts;

void code_set_options(const struct options *o)
{
	copts = o;
}

static int poke_byte(struct proc *p, uint64_t addr, uint8_t b)
{
	return proc_write(p, addr, &b, 1);
}

static void plant(struct proc *p, struct code_site *c)
{
	if (!c->planted && poke_byte(p, c->pc, 0xcc) == 0)
		c->planted = 1;
}

static void unplant(struct proc *p, struct code_site *c)
{
	if (c->planted && poke_byte(p, c->pc, c->s.bytes[0]) == 0)
		c->planted = 0;
}

/* Write site c's out-of-line copy.  -1 if it cannot run there. */
static int write_slot(struct proc *p, struct code_site *c)
{
	uint8_t b[SLOT_SIZE];
	unsigned len = c->s.len;
	int64_t back = (int64_t)(c->pc + len) - (int64_t)(c->slot + len + 6);

	memcpy(b, c->s.bytes, len);
	if (c->s.riprel) {
		int32_t disp;
		int64_t nd;

		if (c->s.disp_off < 0)
			return -1;
		memcpy(&disp, b + c->s.disp_off, 4);
		nd = (int64_t)disp + (int64_t)c->pc - (int64_t)c->slot;
		if (nd < INT32_MIN || nd > INT32_MAX)
			return -1;
		disp = (int32_t)nd;
		memcpy(b + c->s.disp_off, &disp, 4);
	}
	if (back < INT32_MIN || back > INT32_MAX)
		return -1;
	b[len] = 0xcc;
	b[len + 1] = 0xe9;
	{
		int32_t rel = (int32_t)back;

		memcpy(b + len + 2, &rel, 4);
	}
	memset(b + len + 6, 0xcc, SLOT_SIZE - len - 6);
	return proc_write(p, c->slot, b, SLOT_SIZE);
}

/* Where in the executable and its DWARF a link-time pc is, for messages. */
static void where(struct proc *p, uint64_t pc, char *out, size_t len)
{
	struct sym_frame fr[4];
	int n = as_frames_at(p->as, pc, fr, 4);

	if (n > 0 && fr[n - 1].file)
		snprintf(out, len, "%s:%d", fr[n - 1].file, fr[n - 1].line);
	else if (n > 0 && fr[n - 1].func)
		snprintf(out, len, "%s", fr[n - 1].func);
	else
		snprintf(out, len, "0x%llx", (unsigned long long)pc);
}

/* One line per watched variable whose address the program takes. */
static void warn_address_taken(struct proc *p, const struct site *s, size_t n, const int *map,
			       uint64_t bias)
{
	char *said = xcalloc((size_t)p->nwatches + 1, 1), at[300], name[200], line[700];

	for (size_t i = 0; i < n; i++) {
		int w = map[s[i].range];

		if (!s[i].addr_taken || said[w])
			continue;
		said[w] = 1;
		where(p, s[i].pc + bias, at, sizeof(at));
		rw_escape(name, sizeof(name), p->watches[w].t.name);
		snprintf(line, sizeof(line), "%s: address taken at %s; accesses through pointers are "
			 "not seen by --backend code", name, at);
		rw_warn("%s", line);
		coverage_blind_spot(line);
	}
	free(said);
}

void code_free(struct proc *p)
{
	if (!p->code)
		return;
	free(p->code->v);
	free(p->code->byp);
	free(p->code->chunks);
	free(p->code->planted_ns);
	free(p->code);
	p->code = NULL;
}

static int by_pc_idx(const void *a, const void *b, void *arg)
{
	const struct code_site *v = arg;
	uint64_t x = v[*(const size_t *)a].pc, y = v[*(const size_t *)b].pc;

	return x < y ? -1 : x > y;
}

static void reindex(struct codeset *cs)
{
	cs->byp = xrealloc(cs->byp, (cs->n + 1) * sizeof(*cs->byp));
	for (size_t i = 0; i < cs->n; i++)
		cs->byp[i] = i;
	qsort_r(cs->byp, cs->n, sizeof(*cs->byp), by_pc_idx, cs->v);
}

static struct codeset *codeset_get(struct proc *p)
{
	if (!p->code) {
		p->code = xcalloc(1, sizeof(*p->code));
		p->code->tokens = BUCKET_MAX;
		p->code->refill_ns = now_ns();
	}
	return p->code;
}

static struct code_site *site_new(struct codeset *cs)
{
	if (cs->n == cs->cap) {
		cs->cap = cs->cap ? cs->cap * 2 : 64;
		cs->v = xrealloc(cs->v, cs->cap * sizeof(*cs->v));
	}
	memset(&cs->v[cs->n], 0, sizeof(cs->v[0]));
	cs->v[cs->n].tokens = SITE_BURST;
	return &cs->v[cs->n++];
}

/*
 * Map one scratch chunk for v[first..n) near them and write their copies.
 * Sites whose copy cannot run there keep slot 0 and are never planted.
 */
static int chunk_add(struct thread *t, struct codeset *cs, size_t first, char *err, size_t errlen)
{
	struct proc *p = t->proc;
	uint64_t lo = UINT64_MAX, hi = 0;
	struct chunk ch = { 0 };

	if (first == cs->n)
		return 0;
	for (size_t i = first; i < cs->n; i++) {
		lo = cs->v[i].pc < lo ? cs->v[i].pc : lo;
		hi = cs->v[i].pc > hi ? cs->v[i].pc : hi;
	}
	ch.first = first;
	ch.n = cs->n - first;
	ch.len = (ch.n * SLOT_SIZE + 4095) & ~(size_t)4095;
	ch.page = inject_scratch(t->tid, p->pid, p->memfd, lo, hi, ch.len, &t->pending_sig);
	if (!ch.page) {
		snprintf(err, errlen, "code sites: cannot map a scratch page in process %d near 0x%llx",
			 p->pid, (unsigned long long)lo);
		cs->n = first;	/* forget them */
		return -1;
	}
	cs->chunks = xrealloc(cs->chunks, (size_t)(cs->nchunks + 1) * sizeof(*cs->chunks));
	cs->chunks[cs->nchunks++] = ch;
	for (size_t i = first; i < cs->n; i++) {
		cs->v[i].slot = ch.page + (i - first) * SLOT_SIZE;
		if (write_slot(p, &cs->v[i]) < 0)
			cs->v[i].slot = 0;
	}
	reindex(cs);
	return 0;
}

/* The module (by path) holding run-time address a, with its bias. */
static const char *module_of(struct proc *p, uint64_t a, uint64_t *bias)
{
	struct symtab *st = p->as ? as_module_at(p->as, a, bias) : NULL;

	return st ? sym_path(st) : NULL;
}

int code_add(struct thread *t, int from, char *err, size_t errlen)
{
	struct proc *p = t->proc;
	struct codeset *cs = codeset_get(p);
	char *done = xcalloc((size_t)p->nwatches + 1, 1);
	int rc = 0, unplantable = 0;

	/* One module at a time: its watches, its sites, its chunk. */
	for (int w0 = from; w0 < p->nwatches && rc == 0; w0++) {
		struct site_range *r = xcalloc((size_t)p->nwatches + 1, sizeof(*r));
		int *map = xcalloc((size_t)p->nwatches + 1, sizeof(*map));
		uint64_t bias = 0, b2 = 0;
		const char *path;
		char mpath[4096];
		struct site *s = NULL;
		size_t n = 0, first = cs->n;
		int nr = 0;

		if (done[w0] || !p->watches[w0].active || !(path = module_of(p, p->watches[w0].t.addr, &bias))) {
			done[w0] = 1;
			free(r);
			free(map);
			continue;
		}
		snprintf(mpath, sizeof(mpath), "%s", path);
		for (int i = w0; i < p->nwatches; i++) {
			const char *pi;

			if (done[i] || !p->watches[i].active ||
			    !(pi = module_of(p, p->watches[i].t.addr, &b2)) || strcmp(pi, mpath))
				continue;
			done[i] = 1;
			r[nr].addr = p->watches[i].t.addr - bias;
			r[nr].len = p->watches[i].t.len;
			map[nr++] = i;
		}
		if (sites_find(mpath, r, nr, 0, &s, &n, err, errlen) < 0) {
			rc = -1;
		} else {
			warn_address_taken(p, s, n, map, bias);
			for (size_t i = 0; i < n; i++) {
				struct code_site *c;

				if (s[i].addr_taken)
					continue;
				if (s[i].flow) {
					unplantable++;
					continue;
				}
				c = site_new(cs);
				c->s = s[i];
				c->pc = s[i].pc + bias;
				c->watch = map[s[i].range];
			}
			rc = chunk_add(t, cs, first, err, errlen);
			for (size_t i = first; rc == 0 && i < cs->n; i++)
				if (cs->v[i].slot)
					plant(p, &cs->v[i]);
				else
					unplantable++;
		}
		free(s);
		free(r);
		free(map);
	}
	if (unplantable)
		rw_debug("code sites: %d site(s) cannot run out of line and are not watched", unplantable);
	counters[CTR_SITES] = (uint64_t)cs->n;
	free(done);
	return rc;
}

int code_setup(struct thread *t, char *err, size_t errlen)
{
	code_free(t->proc);
	return code_add(t, 0, err, errlen);
}

void code_drop_watch(struct proc *p, int watch)
{
	for (size_t i = 0; p->code && i < p->code->n; i++)
		if (p->code->v[i].watch == watch) {
			p->code->v[i].planted = 0;	/* its memory is gone: nothing to restore */
			p->code->v[i].slot = 0;
			p->code->v[i].watch = -2;
		}
}

/*
 * Draw a site that is not planted yet and plant it: 1 when one was
 * planted, 0 when none was (64 draws hit planted or slot-less sites, or
 * the write failed: the process is exiting and its memory is gone).
 * Callers that draw until enough are planted stop at the first 0, or they
 * would spin forever on a process that is already a zombie.
 */
static int draw_one(struct proc *p, struct codeset *cs)
{
	for (int tries = 0; tries < 64; tries++) {
		size_t i = (size_t)rand_range(0, cs->n - 1);

		if (cs->v[i].planted || !cs->v[i].slot)
			continue;
		plant(p, &cs->v[i]);
		if (!cs->v[i].planted)
			return 0;
		cs->planted_ns[i] = now_ns();
		cs->nplanted++;
		return 1;
	}
	return 0;
}

static void undraw(struct proc *p, struct codeset *cs, size_t i)
{
	if (!cs->v[i].planted)
		return;
	unplant(p, &cs->v[i]);
	cs->planted_ns[i] = 0;
	cs->nplanted--;
}

/*
 * Add the memory-accessing instructions of the module at path (load bias
 * bias; marks are the executable's only) to the sampled population: one
 * chunk of copies for them.  Not planted: draws plant them.
 */
int code_sample_module(struct thread *t, const char *path, uint64_t bias, int exe,
		       char *err, size_t errlen)
{
	struct proc *p = t->proc;
	struct codeset *cs = codeset_get(p);
	size_t n = 0, first = cs->n;
	struct site *s = NULL;

	if (sites_find(path, NULL, 0, SITES_ALL_MEM, &s, &n, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned kind = exe && p->marks ? marks_kind_at(p->marks, s[i].pc) : 0;
		struct code_site *c;

		/* data_race() and __no_racewatch code are never sampled; nor is
		 * what cannot run out of line. */
		if (!s[i].sampleable || s[i].flow || kind == RWMARK_DATA_RACE ||
		    (s[i].riprel && s[i].disp_off < 0))
			continue;
		c = site_new(cs);
		c->s = s[i];
		c->pc = s[i].pc + bias;
		c->watch = -1;
	}
	free(s);
	cs->sampling = 1;
	cs->planted_ns = xrealloc(cs->planted_ns, (cs->n + 1) * sizeof(*cs->planted_ns));
	memset(cs->planted_ns + first, 0, (cs->n + 1 - first) * sizeof(*cs->planted_ns));
	counters[CTR_SITES] = (uint64_t)cs->n;
	if (cs->n > first && chunk_add(t, cs, first, err, errlen) < 0)
		return -1;
	while (cs->nplanted < cs->want && cs->nplanted < (int)cs->n && draw_one(p, cs))
		;
	return 0;
}

int code_setup_sampling(struct thread *t, int want, char *err, size_t errlen)
{
	struct proc *p = t->proc;
	struct symtab *exe = p->as ? as_exe(p->as, NULL) : NULL;

	code_free(p);
	if (!exe) {
		snprintf(err, errlen, "sampling: the executable could not be read");
		return -1;
	}
	codeset_get(p)->want = want;
	if (code_sample_module(t, sym_path(exe), p->exe_bias, 1, err, errlen) < 0) {
		code_free(p);
		return -1;
	}
	return 0;
}

static struct code_site *site_at(struct codeset *cs, uint64_t pc)
{
	size_t lo = 0, hi = cs->byp ? cs->n : 0;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (cs->v[cs->byp[mid]].pc == pc)
			return &cs->v[cs->byp[mid]];
		if (cs->v[cs->byp[mid]].pc < pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The site whose copy holds addr (anywhere in its slot), or NULL. */
static struct code_site *slot_holding(struct codeset *cs, uint64_t addr)
{
	for (int k = 0; k < cs->nchunks; k++) {
		struct chunk *ch = &cs->chunks[k];

		if (addr >= ch->page && addr < ch->page + ch->n * SLOT_SIZE) {
			struct code_site *c = &cs->v[ch->first + (addr - ch->page) / SLOT_SIZE];

			return c->slot ? c : NULL;
		}
	}
	return NULL;
}

/* The site whose copy's int3 (the stop after the access) is at addr. */
static struct code_site *slot_at(struct codeset *cs, uint64_t addr)
{
	struct code_site *c = slot_holding(cs, addr);

	return c && addr == c->slot + c->s.len ? c : NULL;
}

int code_on_sigtrap(struct thread *t, struct access *acc)
{
	struct codeset *cs = t->proc->code;
	struct user_regs_struct regs;
	struct code_site *c;

	if (!cs || !cs->n || ptrace(PTRACE_GETREGS, t->tid, NULL, &regs) < 0)
		return CODE_FOREIGN;
	if ((c = site_at(cs, regs.rip - 1))) {
		if (!c->planted) {
			/* Switched off after the thread hit it: run the real one. */
			regs.rip = c->pc;
			ptrace(PTRACE_SETREGS, t->tid, NULL, &regs);
			return CODE_STEPPED;
		}
		/* Before the access: its address from the registers it will use. */
		if (arch_decode_before(c->s.bytes, c->s.len, c->pc, &regs, &t->code_insn) < 0) {
			memset(&t->code_insn, 0, sizeof(t->code_insn));
			t->code_insn.pc = c->pc;
			t->code_insn.len = c->s.len;
			t->code_insn.type = (enum access_type)c->s.type;
			t->code_insn.size = c->s.size;
		}
		t->code_site = (int)(c - cs->v);
		regs.rip = c->slot;
		ptrace(PTRACE_SETREGS, t->tid, NULL, &regs);
		return CODE_STEPPED;
	}
	if ((c = slot_at(cs, regs.rip - 1))) {
		const struct watch *w;
		int wi = c->watch;

		regs.rip = c->pc + c->s.len;
		ptrace(PTRACE_SETREGS, t->tid, NULL, &regs);
		if (t->code_site != (int)(c - cs->v))
			return CODE_STALE;	/* came back into the slot by other means */
		t->code_site = -1;
		if (cs->sampling) {
			/* Fired: give its place to a new draw (rare code as often as hot). */
			undraw(t->proc, cs, (size_t)(c - cs->v));
			if (cs->tokens >= 0)
				draw_one(t->proc, cs);
			if (!t->code_insn.ea || !t->code_insn.size || !code_sample_watch ||
			    (wi = code_sample_watch(t->proc, t->code_insn.ea, t->code_insn.size, c->pc,
						    c->s.bytes, c->s.len)) < 0)
				return CODE_STALE;
		}
		w = &t->proc->watches[wi];
		/* Not the watched bytes after all (an indexed operand went elsewhere). */
		if (!w->active || (t->code_insn.ea && t->code_insn.size &&
				   !range_overlap(t->code_insn.ea, t->code_insn.size, w->t.addr, w->t.len)))
			return CODE_STALE;
		trap_fill(t, &regs, &t->code_insn, wi, w->t.addr, w->t.len, acc);
		return (int)(c - cs->v);
	}
	return CODE_FOREIGN;
}

/* ---- the budget ------------------------------------------------------------ */

void code_after_hit(struct proc *p, int site, int window_open)
{
	struct codeset *cs = p->code;

	if (!cs || !copts || site < 0 || (size_t)site >= cs->n)
		return;
	if (cs->sampling) {
		if (copts->sample_rate || copts->overhead_pct)
			cs->tokens -= 1;
		return;		/* re-drawn already; the tick refills */
	}
	if (copts->overhead_pct == 0)
		return;
	cs->v[site].tokens -= 1;
	if (cs->v[site].tokens < 0 && !window_open) {
		unplant(p, &cs->v[site]);
		if (!cs->v[site].off) {
			cs->v[site].off = 1;
			cs->noff++;
			ctr_inc(CTR_DUTY_OFF);
		}
	}
}

int code_budget_left(const struct proc *p, int site)
{
	const struct codeset *cs = p->code;

	if (!cs || !copts || copts->overhead_pct == 0 || site < 0 || (size_t)site >= cs->n)
		return 1;
	return cs->sampling ? cs->tokens >= 0 : cs->v[site].tokens >= 0;
}

void code_charge_window(struct proc *p, int site)
{
	/* A window stalls a thread ~3/4 of --delay: that many hits' worth. */
	double cost = copts ? 0.75 * copts->delay_us * 1e-6 / HIT_COST_S : 0;

	if (!p->code || !copts || !copts->overhead_pct || site < 0 || (size_t)site >= p->code->n)
		return;
	if (p->code->sampling)
		p->code->tokens -= cost;
	else
		p->code->v[site].tokens -= cost;
}

void code_force_on(struct proc *p, int watch)
{
	struct codeset *cs = p->code;

	for (size_t i = 0; cs && i < cs->n; i++)
		if (cs->v[i].watch == watch && cs->v[i].off) {
			plant(p, &cs->v[i]);
			cs->v[i].off = 0;
			cs->noff--;
		}
}

int code_tick(struct proc *p)
{
	struct codeset *cs = p->code;
	uint64_t now = now_ns(), dt;
	double rate;

	if (!cs || !copts)
		return 0;
	/*
	 * Hits per second the budget allows.  A hit stops one thread for
	 * HIT_COST_S, but in lock-heavy code the threads waiting for what it
	 * holds stop too (bench's prodcons: 2.5x when the budget assumed only
	 * the hitting thread paid), so the budget counts every hit as a stop
	 * of the whole program: rate = overhead / cost.
	 */
	rate = (double)copts->overhead_pct / 100.0 / HIT_COST_S;
	if (cs->sampling) {
		/* A sampled hit is a window too: --sample-rate, or what --overhead allows. */
		rate = copts->sample_rate ? (double)copts->sample_rate :
		       (double)copts->overhead_pct / 100.0 * (p->nthreads > 0 ? p->nthreads : 1) /
		       (HIT_COST_S + 0.75 * copts->delay_us * 1e-6);
	}
	dt = now - cs->refill_ns;
	cs->refill_ns = now;
	if (cs->sampling) {
		cs->tokens += rate * (double)dt / 1e9;
		if (cs->tokens > BUCKET_MAX)
			cs->tokens = BUCKET_MAX;
		/* Sites that did not fire for a while make room for new draws. */
		for (size_t i = 0; i < cs->n; i++)
			if (cs->planted_ns[i] && now - cs->planted_ns[i] > 20000000ull)
				undraw(p, cs, i);
		/* Until a draw plants nothing: a dying process's memory cannot
		 * be written, and this loop must not wait for it. */
		while (cs->tokens > 0 && cs->nplanted < cs->want && cs->nplanted < (int)cs->n &&
		       draw_one(p, cs))
			;
		return 0;
	}
	/* Each site earns its share of the rate; an off site with credit is back on. */
	for (size_t i = 0; i < cs->n; i++) {
		struct code_site *c = &cs->v[i];

		c->tokens += rate / (double)cs->n * (double)dt / 1e9;
		if (c->tokens > SITE_BURST)
			c->tokens = SITE_BURST;
		if (c->off && c->tokens > 0) {
			plant(p, c);
			c->off = 0;
			cs->noff--;
		}
	}
	return cs->noff;
}

/* ---- leaving ----------------------------------------------------------------- */

void code_replant_all(struct proc *p)
{
	for (size_t i = 0; p->code && i < p->code->n; i++)
		if (p->code->v[i].planted) {
			p->code->v[i].planted = 0;
			plant(p, &p->code->v[i]);
		}
}

void code_detach_thread(struct thread *t)
{
	struct codeset *cs = t->proc->code;
	struct user_regs_struct regs;
	uint64_t a;

	if (!cs || ptrace(PTRACE_GETREGS, t->tid, NULL, &regs) < 0)
		return;
	a = regs.rip;
	/* In a slot: before its copy ran, run the original; after, go on. */
	{
		struct code_site *c = slot_holding(cs, a);

		if (!c)
			return;
		regs.rip = a == c->slot ? c->pc : c->pc + c->s.len;
		ptrace(PTRACE_SETREGS, t->tid, NULL, &regs);
	}
}

int code_swallow(struct thread *t)
{
	struct codeset *cs = t->proc->code;
	struct user_regs_struct regs;
	struct code_site *c;

	if (!cs || ptrace(PTRACE_GETREGS, t->tid, NULL, &regs) < 0)
		return 0;
	if ((c = site_at(cs, regs.rip - 1)))
		regs.rip = c->pc;		/* the original runs once the byte is back */
	else if ((c = slot_at(cs, regs.rip - 1)))
		regs.rip = c->pc + c->s.len;	/* its copy ran: go on after it */
	else
		return 0;
	t->code_site = -1;
	ptrace(PTRACE_SETREGS, t->tid, NULL, &regs);
	return 1;
}

void code_leave(struct proc *p)
{
	for (size_t i = 0; p->code && i < p->code->n; i++)
		unplant(p, &p->code->v[i]);
}

struct codeset *code_clone(const struct codeset *cs)
{
	struct codeset *c;

	if (!cs)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	*c = *cs;
	c->v = xcalloc(cs->n + 1, sizeof(*c->v));
	memcpy(c->v, cs->v, cs->n * sizeof(*c->v));
	c->cap = cs->n + 1;
	c->byp = xcalloc(cs->n + 1, sizeof(*c->byp));
	memcpy(c->byp, cs->byp ? cs->byp : c->byp, cs->byp ? cs->n * sizeof(*c->byp) : 0);
	c->chunks = xcalloc((size_t)cs->nchunks + 1, sizeof(*c->chunks));
	memcpy(c->chunks, cs->chunks, (size_t)cs->nchunks * sizeof(*c->chunks));
	if (cs->planted_ns) {
		c->planted_ns = xcalloc(cs->n + 1, sizeof(*c->planted_ns));
		memcpy(c->planted_ns, cs->planted_ns, cs->n * sizeof(*c->planted_ns));
	}
	return c;
}

void code_clean_child(struct proc *parent, pid_t child)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", child);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	for (size_t i = 0; i < parent->code->n; i++)
		if (parent->code->v[i].planted &&
		    pwrite(fd, parent->code->v[i].s.bytes, 1, (off_t)parent->code->v[i].pc) != 1)
			rw_debug("cannot clean site 0x%llx in child %d",
				 (unsigned long long)parent->code->v[i].pc, child);
	close(fd);
}

/* ---- the per-thread interface (sites are per process: little to do) ---------- */

static int code_arm(struct thread *t, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	t->armed_gen = t->proc->gen;
	t->flags |= TF_ARMED;
	return 0;
}

static void code_disarm(struct thread *t)
{
	t->flags &= ~TF_ARMED;
}

static int code_trap_slot(struct thread *t, const siginfo_t *si)
{
	(void)t;
	(void)si;
	return TRAP_FOREIGN;	/* code hits go through code_on_sigtrap */
}

static void code_hook_after_hit(struct thread *t, int unit, int watch, int listening)
{
	(void)watch;
	code_after_hit(t->proc, unit, listening);
}

static int code_hook_may_open(struct thread *t, int unit)
{
	return code_budget_left(t->proc, unit);
}

static void code_hook_opening(struct thread *t, int unit, int watch)
{
	code_force_on(t->proc, watch);
	code_charge_window(t->proc, unit);
}

static int code_on_stop(struct thread *t, int sig, struct access *acc, int *unit)
{
	int r;

	if (sig != SIGTRAP || !t->proc->code)
		return ARM_FOREIGN;
	r = code_on_sigtrap(t, acc);
	switch (r) {
	case CODE_FOREIGN:
		return ARM_FOREIGN;
	case CODE_STEPPED:
		return ARM_CONSUMED;	/* moved into the site's copy: the access is next */
	case CODE_STALE:
		ctr_inc(CTR_TRAPS_STALE);
		return ARM_CONSUMED;
	default:
		*unit = r;
		return ARM_ACCESS;
	}
}

const struct arm_backend arm_code = {
	.name = "code",
	.trap_signal = SIGTRAP,
	.arm = code_arm,
	.disarm = code_disarm,
	.forget = code_disarm,
	.trap_slot = code_trap_slot,
	.on_stop = code_on_stop,
	.after_hit = code_hook_after_hit,
	.may_open = code_hook_may_open,
	.opening = code_hook_opening,
};
