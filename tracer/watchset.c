#include "watchset.h"
#include "counters.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

int watchset_check_syntax(char **exprs, int n)
{
	char err[256];
	struct wexpr e;

	for (int i = 0; i < n; i++) {
		if (wexpr_parse(exprs[i], &e, err, sizeof(err)) < 0) {
			rw_error("-w %s: %s", exprs[i], err);
			return -1;
		}
	}
	return 0;
}

static void clear(struct proc *p)
{
	free(p->watches);
	p->watches = NULL;
	p->nwatches = 0;
	p->slot_mask = 0;
	memset(p->slots, 0, sizeof(p->slots));
	for (int i = 0; i < HWBP_SLOTS; i++)
		p->slot_watch[i] = -1;
	p->gen++;
}

int watchset_resolve(struct proc *p, char **exprs, int n, char *err, size_t errlen)
{
	char why[512];
	int used = 0;

	clear(p);
	p->watches = xcalloc((size_t)(n ? n : 1), sizeof(*p->watches));
	for (int i = 0; i < n; i++) {
		struct watch *w = &p->watches[i];
		struct hwbp_slot parts[HWBP_SLOTS];
		struct wexpr e;
		int k;

		if (wexpr_parse(exprs[i], &e, why, sizeof(why)) < 0 ||
		    wexpr_resolve(&e, p->as, &w->t, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "-w %s: %s", exprs[i], why);
			clear(p);
			return -1;
		}
		w->expr = exprs[i];
		/* Reads matter as much as writes: two threads race if either writes. */
		k = hwbp_split(w->t.addr, w->t.len, HWBP_RW, parts, HWBP_SLOTS - used);
		if (k < 0) {
			int need = hwbp_split(w->t.addr, w->t.len, HWBP_RW, parts, HWBP_SLOTS);

			if (need < 0 || used == 0)
				snprintf(err, errlen,
					 "-w %s: %llu bytes at 0x%llx do not fit the %d hardware watchpoints "
					 "(1, 2, 4 or 8 aligned bytes each); watch a member or an element instead",
					 exprs[i], (unsigned long long)w->t.len,
					 (unsigned long long)w->t.addr, HWBP_SLOTS);
			else
				snprintf(err, errlen,
					 "-w %s: needs %d hardware watchpoint(s) but only %d of %d are left "
					 "after the earlier -w options", exprs[i], need, HWBP_SLOTS - used, HWBP_SLOTS);
			clear(p);
			return -1;
		}
		w->slot_first = used;
		w->nslots = k;
		for (int j = 0; j < k; j++) {
			p->slots[used] = parts[j];
			p->slot_watch[used] = i;
			p->slot_mask |= 1u << used;
			used++;
		}
		p->nwatches++;
	}
	counters[CTR_WATCHES] = (uint64_t)p->nwatches;
	counters[CTR_SLOTS_ARMED] = (uint64_t)used;
	return 0;
}
