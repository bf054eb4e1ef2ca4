#include "trap.h"
#include "addrspace.h"
#include "arch.h"
#include "marks.h"
#include "util.h"

#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>

/*
 * Decoding forward from a function's start is the reliable way to find the
 * instruction before the trap pc, but it costs time on every trap of a
 * large function.  The instruction before a given trap pc never changes
 * (no self-modifying code assumed), so remember where it started; a hit
 * then re-decodes just that instruction (the registers, and so the
 * effective address, differ each time).
 */
#define CACHE_SIZE 4096
static struct {
	uint64_t trap_pc;
	uint64_t insn_pc;
	uint8_t bytes[32];	/* the instruction and what follows, up to trap_pc + 16 */
	uint8_t n;
} cache[CACHE_SIZE];

void trap_cache_flush(void)
{
	memset(cache, 0, sizeof(cache));
}

static unsigned cache_slot(uint64_t pc)
{
	return (unsigned)((pc ^ (pc >> 12)) * 0x9e3779b1u) % CACHE_SIZE;
}

/* Read as much of [addr, addr+len) as is mapped, from the end backwards. */
static size_t read_code(struct proc *p, uint64_t addr, uint8_t *buf, size_t len, uint64_t *base)
{
	while (len > 32) {
		if (proc_read(p, addr, buf, len) == 0) {
			*base = addr;
			return len;
		}
		/* Part of it is not mapped: keep the tail, which holds the trap pc. */
		addr += len / 2;
		memmove(buf, buf + len / 2, len - len / 2);
		len -= len / 2;
	}
	if (proc_read(p, addr, buf, len) == 0) {
		*base = addr;
		return len;
	}
	return 0;
}

static int find_insn(struct thread *t, const struct user_regs_struct *regs,
		     uint64_t waddr, uint64_t wlen, struct access_insn *insn)
{
	struct proc *p = t->proc;
	uint64_t pc = regs->rip, start = 0, size = 0, base = 0;
	unsigned ci = cache_slot(pc);
	static uint8_t code[16384 + 32];
	size_t n;

	/* A hit needs no read of the target at all: code does not change. */
	if (cache[ci].trap_pc == pc && cache[ci].n &&
	    arch_find_access(cache[ci].bytes, cache[ci].n, cache[ci].insn_pc, pc,
			     cache[ci].insn_pc, waddr, wlen, regs, insn) == 0)
		return 0;

	/* Look up the function around pc - 1: pc may already be past its end. */
	if (p->as && as_func_at(p->as, pc - 1, &start, &size) && start < pc && pc - start <= 16384) {
		n = read_code(p, start, code, (size_t)(pc - start) + 16, &base);
		if (n && base != start)
			start = 0;	/* could not read from the start: guess backward */
	} else {
		start = 0;
		n = read_code(p, pc - 64, code, 64 + 16, &base);
	}
	if (!n)
		return -1;
	if (arch_find_access(code, n, base, pc, start, waddr, wlen, regs, insn) < 0)
		return -1;
	if (!insn->rep && insn->pc >= base && pc + 16 <= base + n && pc + 16 - insn->pc <= sizeof(cache[ci].bytes)) {
		cache[ci].trap_pc = pc;
		cache[ci].insn_pc = insn->pc;
		cache[ci].n = (uint8_t)(pc + 16 - insn->pc);
		memcpy(cache[ci].bytes, code + (insn->pc - base), cache[ci].n);
	}
	return 0;
}

/* The marks table knows the executable's sites; other modules have none. */
static unsigned site_kind(struct proc *p, uint64_t pc)
{
	uint64_t bias;

	if (!p->marks || !p->as || as_module_at(p->as, pc, &bias) != as_exe(p->as, NULL))
		return 0;
	return marks_kind_at(p->marks, pc - bias);
}

/*
 * How the access was marked (DESIGN.md section 5): the marks the header
 * compiled in first, then LOCK-prefixed or XCHG instructions as atomic
 * read-modify-writes, then a volatile or _Atomic DWARF type as marked;
 * everything else is plain.  An assertion speaks for the whole variable,
 * whatever byte its pseudo-access touched.
 */
static void classify(struct proc *p, const struct access_insn *insn,
		     const struct watch *w, struct access *acc)
{
	acc->site = site_kind(p, insn->pc);
	switch (acc->site) {
	case RWMARK_DATA_RACE:
		acc->mark = MARK_DATA_RACE;
		return;
	case RWMARK_ASSERT_ACCESS:
	case RWMARK_SCOPE_ACCESS:
	case RWMARK_SCOPE_END:	/* the engine turns it into the scope's own kind */
		acc->mark = MARK_ASSERT_ACCESS;
		break;
	case RWMARK_ASSERT_WRITER:
	case RWMARK_SCOPE_WRITER:
		acc->mark = MARK_ASSERT_WRITER;
		break;
	case RWMARK_ONCE:
		acc->mark = MARK_ONCE;
		return;
	default:
		if (insn->atomic)
			acc->mark = MARK_ATOMIC;
		else if (w->t.marked)
			acc->mark = MARK_ONCE;
		else
			acc->mark = MARK_PLAIN;
		return;
	}
	acc->addr = w->t.addr;
	acc->size = (unsigned)w->t.len;
}

/*
 * Did a write change the bytes it wrote?  We only see the memory after the
 * write, so "before" comes from the shadow: the variable as the previous
 * trapped access left it.  Every thread is armed, so no trapped-free write
 * can have happened in between, short of the kernel or another process
 * (those are what unknown-origin reports are for).  KCSAN's "write that left
 * the value unchanged" rule needs this for the writer that was stalled.
 */
static void track_value(struct proc *p, struct watch *w, struct access *acc)
{
	uint8_t now[sizeof(w->shadow)];
	uint64_t off = acc->addr - w->t.addr;
	unsigned n = acc->size < 8 ? acc->size : 8;

	acc->change = -1;
	if (w->t.len > sizeof(w->shadow) || proc_read(p, w->t.addr, now, w->t.len) < 0) {
		w->shadow_valid = 0;
		return;
	}
	if (access_is_write(acc) && w->shadow_valid && off + acc->size <= w->t.len) {
		acc->change = memcmp(w->shadow + off, now + off, acc->size) != 0;
		memcpy(&acc->old_val, w->shadow + off, n);
		memcpy(&acc->new_val, now + off, n);
	}
	memcpy(w->shadow, now, w->t.len);
	w->shadow_valid = 1;
}

int trap_fill(struct thread *t, const struct user_regs_struct *regs,
	      const struct access_insn *insn, int watch, uint64_t lo_fb, uint64_t len_fb,
	      struct access *acc)
{
	struct proc *p = t->proc;
	const struct watch *w = &p->watches[watch];
	uint64_t lo, hi;

	memset(acc, 0, sizeof(*acc));
	acc->tid = t->tid;
	acc->trap_pc = regs->rip;
	acc->sp = regs->rsp;
	acc->watch = watch;
	acc->time_ns = now_ns();
	acc->pc = insn->pc;
	acc->type = insn->type;
	snprintf(acc->insn, sizeof(acc->insn), "%s", insn->text);

	/*
	 * The bytes touched inside the watched variable: the operand's range
	 * when its address is known, else the fallback range (the slot that
	 * fired).
	 */
	if (insn->ea && insn->size && range_overlap(insn->ea, insn->size, w->t.addr, w->t.len)) {
		lo = insn->ea > w->t.addr ? insn->ea : w->t.addr;
		hi = insn->ea + insn->size < w->t.addr + w->t.len ? insn->ea + insn->size : w->t.addr + w->t.len;
		acc->aligned = insn->size <= 8 && (insn->ea & (insn->size - 1)) == 0;
	} else {
		lo = lo_fb;
		hi = lo_fb + len_fb;
		acc->aligned = insn->size <= len_fb;
	}
	acc->addr = lo;
	acc->size = (unsigned)(hi - lo);

	classify(p, insn, w, acc);
	acc->stopped = 1;
	track_value(p, &p->watches[acc->watch], acc);
	return 0;
}

int trap_decode_at(struct thread *t, int watch, uint64_t lo, uint64_t len, struct access *acc)
{
	struct user_regs_struct regs;
	const struct watch *w = &t->proc->watches[watch];
	struct access_insn insn;

	if (ptrace(PTRACE_GETREGS, t->tid, NULL, &regs) < 0)
		return -1;
	if (find_insn(t, &regs, w->t.addr, w->t.len, &insn) < 0)
		return -1;
	return trap_fill(t, &regs, &insn, watch, lo, len, acc);
}

int trap_decode(struct thread *t, int slot, struct access *acc)
{
	const struct proc *p = t->proc;

	return trap_decode_at(t, p->slot_watch[slot], p->slots[slot].addr, p->slots[slot].len, acc);
}
