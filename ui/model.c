/*
 * model — the races the list shows: every race the engine (or the saved
 * report) gave us, in reporting order, and a sorted, filtered index over
 * them rebuilt lazily.  The selection is kept by identity, so it stays on
 * its race while counts change the order under it.
 *
 * The races themselves belong to report.c (live) or view.c (saved report);
 * they live until the process ends.
 */
#include "tui_int.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

enum sort_key { SORT_COUNT, SORT_LAST, SORT_VAR, SORT_ID, SORT_COUNT_ };
static const char *const sort_names[SORT_COUNT_] = { "count", "last seen", "variable", "id" };

static struct {
	const struct race **all;	/* reporting order */
	int n, cap;
	const struct race **rows;	/* sorted, filtered */
	int nrows;
	int stale;			/* rows must be rebuilt */
	const struct race *sel;		/* the selection, NULL if none */
	enum sort_key sort;
	char filter[256];
} M;

void model_add(const struct race *r)
{
	if (M.n == M.cap) {
		M.cap = M.cap ? 2 * M.cap : 64;
		M.all = xrealloc(M.all, (size_t)M.cap * sizeof(*M.all));
		M.rows = xrealloc(M.rows, (size_t)M.cap * sizeof(*M.rows));
	}
	M.all[M.n++] = r;
	if (!M.sel)
		M.sel = r;
	M.stale = 1;
}

void model_clear(void)
{
	free(M.all);
	free(M.rows);
	memset(&M, 0, sizeof(M));
}

const struct race *model_nth(int i)
{
	return i >= 0 && i < M.n ? M.all[i] : NULL;
}

void model_changed(void)
{
	if (M.sort == SORT_COUNT || M.sort == SORT_LAST)
		M.stale = 1;
}

double model_secs(uint64_t ns)
{
	return ns > report_start_ns ? (double)(ns - report_start_ns) / 1e9 : 0.0;
}

static int cmp_race(const void *x, const void *y)
{
	const struct race *a = *(const struct race *const *)x, *b = *(const struct race *const *)y;
	int c = 0;

	switch (M.sort) {
	case SORT_COUNT:
		c = a->count < b->count ? 1 : a->count > b->count ? -1 : 0;
		break;
	case SORT_LAST:
		c = a->last_ns < b->last_ns ? 1 : a->last_ns > b->last_ns ? -1 : 0;
		break;
	case SORT_VAR:
		c = strcmp(a->var, b->var);
		break;
	default:
		break;
	}
	return c ? c : a->id < b->id ? -1 : a->id > b->id;
}

/* Does the filter appear (any case) in the variable, a function or a file? */
static int matches(const struct race *r)
{
	char title[600];

	if (!M.filter[0] || strcasestr(r->var, M.filter))
		return 1;
	report_title(title, sizeof(title), r);
	if (strcasestr(title, M.filter))
		return 1;
	for (int k = 0; k < 2; k++) {
		const struct report_frame *f = k ? r->fb : r->fa;
		int n = k ? r->nfb : r->nfa;

		for (int i = 0; i < n; i++)
			if ((f[i].func && strcasestr(f[i].func, M.filter)) ||
			    (f[i].file && strcasestr(f[i].file, M.filter)))
				return 1;
	}
	return 0;
}

static void rebuild(void)
{
	int keep = 0;

	if (!M.stale)
		return;
	M.stale = 0;
	M.nrows = 0;
	for (int i = 0; i < M.n; i++)
		if (matches(M.all[i]))
			M.rows[M.nrows++] = M.all[i];
	if (M.nrows > 1)	/* rows is NULL while there is no race */
		qsort(M.rows, (size_t)M.nrows, sizeof(*M.rows), cmp_race);
	for (int i = 0; i < M.nrows; i++)
		if (M.rows[i] == M.sel)
			keep = 1;
	if (!keep)
		M.sel = M.nrows ? M.rows[0] : NULL;
}

int model_total(void)
{
	return M.n;
}

int model_rows(void)
{
	rebuild();
	return M.nrows;
}

const struct race *model_row(int i)
{
	rebuild();
	return i >= 0 && i < M.nrows ? M.rows[i] : NULL;
}

int model_sel(void)
{
	rebuild();
	for (int i = 0; i < M.nrows; i++)
		if (M.rows[i] == M.sel)
			return i;
	return -1;
}

const struct race *model_selected(void)
{
	rebuild();
	return M.sel;
}

void model_select(int i)
{
	rebuild();
	if (!M.nrows)
		return;
	if (i < 0)
		i = 0;
	if (i >= M.nrows)
		i = M.nrows - 1;
	M.sel = M.rows[i];
}

void model_set_filter(const char *s)
{
	snprintf(M.filter, sizeof(M.filter), "%s", s);
	M.stale = 1;
}

const char *model_filter(void)
{
	return M.filter;
}

void model_cycle_sort(void)
{
	M.sort = (M.sort + 1) % SORT_COUNT_;
	M.stale = 1;
}

const char *model_sort_name(void)
{
	return sort_names[M.sort];
}
