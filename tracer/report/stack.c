#include "stack.h"
#include "util.h"

#include <libunwind-ptrace.h>

/* One address space for every unwind; its cache is flushed per call. */
static unw_addr_space_t uas;

int stack_unwind(pid_t tid, struct stack_pc *out, int max)
{
	unw_cursor_t c;
	unw_word_t ip;
	void *upt;
	int n = 0, rc, exact;

	if (max <= 0)
		return 0;
	if (!uas) {
		uas = unw_create_addr_space(&_UPT_accessors, 0);
		if (!uas) {
			rw_debug("stack: unw_create_addr_space failed");
			return -1;
		}
	}
	/*
	 * The cache is keyed by address; after an exec or a dlopen the same
	 * addresses may be other code, and races are rare enough that
	 * re-reading the unwind tables costs nothing that matters.
	 */
	unw_flush_cache(uas, 0, 0);
	upt = _UPT_create(tid);
	if (!upt) {
		rw_debug("stack: _UPT_create(%d) failed", tid);
		return -1;
	}
	rc = unw_init_remote(&c, uas, upt);
	if (rc < 0) {
		rw_debug("stack: unw_init_remote(%d): %d", tid, rc);
		_UPT_destroy(upt);
		return -1;
	}
	while (n < max) {
		/* A signal frame's caller was interrupted, not calling. */
		exact = unw_is_signal_frame(&c) > 0;
		rc = unw_step(&c);
		if (rc <= 0) {
			if (rc < 0)
				rw_debug("stack: unw_step(%d) at frame %d: %d", tid, n + 1, rc);
			break;
		}
		if (unw_get_reg(&c, UNW_REG_IP, &ip) < 0 || ip == 0)
			break;
		out[n].pc = ip;
		out[n].exact = exact;
		n++;
	}
	_UPT_destroy(upt);
	return n;
}
