/*
 * dynlink — following the dynamic linker, as gdb does: ld.so calls
 * _dl_debug_state() (r_debug's r_brk) before and after it maps or unmaps
 * objects; an int3 on that function's `ret` stops the thread each time.
 * The ret is emulated (pop into rip), never lifted, so no thread can slip
 * past while others run.  The engine then re-reads the maps and resolves
 * the watches that were waiting for a library, before the library's code
 * (its constructors included) can run.
 */
#include "dynlink.h"
#include "addrspace.h"
#include "symbols.h"
#include "util.h"

#include <fcntl.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <unistd.h>

static int is_ldso(const char *path)
{
	const char *b = strrchr(path, '/');

	b = b ? b + 1 : path;
	return !strncmp(b, "ld-linux", 8) || !strncmp(b, "ld.so", 5) || !strncmp(b, "ld64.so", 7);
}

int dynlink_plant(struct proc *p)
{
	uint8_t code[8];
	uint64_t addr, bias = 0;

	if (p->dl_brk || !p->as)
		return p->dl_brk ? 0 : -1;
	for (int i = 0; i < as_module_count(p->as); i++) {
		struct symtab *st = as_module(p->as, i, &bias);

		if (!st || !is_ldso(sym_path(st)) || sym_func_named(st, "_dl_debug_state", &addr) < 0)
			continue;
		addr += bias;
		if (proc_read(p, addr, code, sizeof(code)) < 0)
			return -1;
		/* The ret, after an endbr64 where the library was built with CET. */
		if (!memcmp(code, "\xf3\x0f\x1e\xfa", 4))
			addr += 4, memmove(code, code + 4, 4);
		if (code[0] != 0xc3) {
			rw_debug("_dl_debug_state does not start with ret (0x%02x): not followed", code[0]);
			return -1;
		}
		if (proc_write(p, addr, "\xcc", 1) < 0)
			return -1;
		p->dl_brk = addr;
		rw_debug("following the dynamic linker at 0x%llx", (unsigned long long)addr);
		return 0;
	}
	return -1;
}

int dynlink_hit(struct thread *t)
{
	struct user_regs_struct regs;
	uint64_t ret;

	if (!t->proc->dl_brk || ptrace(PTRACE_GETREGS, t->tid, NULL, &regs) < 0 ||
	    regs.rip != t->proc->dl_brk + 1)
		return 0;
	if (proc_read(t->proc, regs.rsp, &ret, sizeof(ret)) < 0)
		return 0;
	regs.rip = ret;
	regs.rsp += 8;
	ptrace(PTRACE_SETREGS, t->tid, NULL, &regs);
	return 1;
}

void dynlink_unplant(struct proc *p, int memfd)
{
	if (!p->dl_brk)
		return;
	if (memfd >= 0) {
		if (pwrite(memfd, "\xc3", 1, (off_t)p->dl_brk) != 1)
			rw_debug("cannot restore _dl_debug_state");
		return;		/* another process's copy: ours stays */
	}
	proc_write(p, p->dl_brk, "\xc3", 1);
	p->dl_brk = 0;
}
