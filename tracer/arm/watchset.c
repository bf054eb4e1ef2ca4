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

void watchset_clear(struct proc *p)
{
	free(p->watches);
	p->watches = NULL;
	p->nwatches = 0;
	p->slot_mask = 0;
	memset(p->slots, 0, sizeof(p->slots));
	for (int i = 0; i < HWBP_SLOTS; i++)
		p->slot_watch[i] = -1;
	p->gen++;
	counters[CTR_WATCHES] = 0;
	counters[CTR_SLOTS_ARMED] = 0;
}

static int slots_used(const struct proc *p)
{
	int n = 0;

	for (int i = 0; i < HWBP_SLOTS; i++)
		n += !!(p->slot_mask & (1u << i));
	return n;
}

static void count(const struct proc *p)
{
	int active = 0;

	for (int i = 0; i < p->nwatches; i++)
		active += p->watches[i].active;
	counters[CTR_WATCHES] = (uint64_t)active;
	counters[CTR_SLOTS_ARMED] = (uint64_t)slots_used(p);
}

int watchset_slotless;

int watchset_add(struct proc *p, const struct watch_target *t, const char *expr,
		 char *err, size_t errlen)
{
	struct hwbp_slot parts[HWBP_SLOTS];
	int free_slots = HWBP_SLOTS - slots_used(p);
	/* Reads matter as much as writes: two threads race if either writes. */
	int k = watchset_slotless ? 0 : hwbp_split(t->addr, t->len, HWBP_RW, parts, free_slots);
	struct watch *w;
	int idx, s = 0;

	if (watchset_slotless && t->len == 0) {
		snprintf(err, errlen, "an empty range cannot be watched");
		return -1;
	}
	if (k < 0) {
		int need = hwbp_split(t->addr, t->len, HWBP_RW, parts, HWBP_SLOTS);

		if (need < 0)
			snprintf(err, errlen,
				 "%llu bytes at 0x%llx do not fit the %d hardware watchpoints "
				 "(1, 2, 4 or 8 aligned bytes each); watch a member or an element, "
				 "or use --backend code, which watches any size",
				 (unsigned long long)t->len, (unsigned long long)t->addr, HWBP_SLOTS);
		else
			snprintf(err, errlen,
				 "needs %d hardware watchpoint(s) but only %d of %d are free "
				 "(--backend code watches any number of variables)",
				 need, free_slots, HWBP_SLOTS);
		return -1;
	}
	p->watches = xrealloc(p->watches, sizeof(*p->watches) * (size_t)(p->nwatches + 1));
	idx = p->nwatches++;
	w = &p->watches[idx];
	memset(w, 0, sizeof(*w));
	snprintf(w->expr, sizeof(w->expr), "%s", expr ? expr : "");
	w->t = *t;
	w->active = 1;
	w->nslots = k;
	w->slot_first = -1;
	/* The value now is what the first trapped write will be compared with. */
	w->shadow_valid = t->len <= sizeof(w->shadow) && proc_read(p, t->addr, w->shadow, t->len) == 0;
	for (int j = 0; j < k; j++) {
		while (p->slot_mask & (1u << s))
			s++;
		if (w->slot_first < 0)
			w->slot_first = s;
		p->slots[s] = parts[j];
		p->slot_watch[s] = idx;
		p->slot_mask |= 1u << s;
	}
	p->gen++;
	count(p);
	return idx;
}

int watchset_remove(struct proc *p, uint64_t addr)
{
	int removed = 0;

	for (int i = 0; i < p->nwatches; i++) {
		struct watch *w = &p->watches[i];

		if (!w->active || w->t.addr != addr)
			continue;
		w->active = 0;
		for (int s = 0; s < HWBP_SLOTS; s++) {
			if (p->slot_watch[s] == i) {
				p->slot_mask &= ~(1u << s);
				p->slot_watch[s] = -1;
			}
		}
		removed++;
	}
	if (removed) {
		p->gen++;
		count(p);
	}
	return removed;
}

int watchset_find(const struct proc *p, uint64_t addr)
{
	for (int i = 0; i < p->nwatches; i++)
		if (p->watches[i].active && range_overlap(p->watches[i].t.addr, p->watches[i].t.len, addr, 1))
			return i;
	return -1;
}

int watchset_resolve(struct proc *p, char **exprs, int n, char *err, size_t errlen)
{
	char why[512];

	watchset_clear(p);
	for (int i = 0; i < n; i++) {
		struct watch_target t;
		struct wexpr e;

		if (wexpr_parse(exprs[i], &e, why, sizeof(why)) < 0 ||
		    wexpr_resolve(&e, p->as, &t, why, sizeof(why)) < 0 ||
		    watchset_add(p, &t, exprs[i], why, sizeof(why)) < 0) {
			snprintf(err, errlen, "-w %s: %s", exprs[i], why);
			watchset_clear(p);
			return -1;
		}
	}
	return 0;
}
