/*
 * list — the race list: one row per race (id, count, last seen, variable,
 * the two functions), the selection highlighted and kept in sight.
 */
#include "tui_int.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

static int list_top;		/* first row shown */

/* Keep the selection inside rows [list_top, list_top + rows). */
static void scroll_to_sel(int rows)
{
	int sel = model_sel();

	if (sel < 0)
		sel = 0;
	if (sel < list_top)
		list_top = sel;
	if (sel >= list_top + rows)
		list_top = sel - rows + 1;
	if (list_top > model_rows() - rows)
		list_top = model_rows() - rows;
	if (list_top < 0)
		list_top = 0;
}

/* "update_foo (write)" */
static void side(char *buf, size_t len, const struct access *a, const struct report_frame *fr,
		 int n)
{
	char f[256];

	frame_func(f, sizeof(f), fr, n);
	snprintf(buf, len, "%s (%s)", f, report_access_verb(a));
}

static void list_draw(int top, int rows)
{
	int fw, vw = 20, nrows = model_rows(), sel = model_sel();
	char line[1024], a[300], b[300];

	/* Columns: id 4, count 9, last seen 10, variable vw, then two function columns. */
	fw = (COLS - (5 + 10 + 11 + vw + 1)) / 2;
	if (fw < 10)
		fw = 10;
	attron(A_BOLD);
	snprintf(line, sizeof(line), "%4s %9s %10s %-*s %-*s %s", "#", "COUNT", "LAST SEEN", vw,
		 "VARIABLE", fw, "FIRST ACCESS", "SECOND ACCESS");
	put_raw(top, 0, COLS, line);
	attroff(A_BOLD);
	top++;
	rows--;
	if (!nrows) {
		if (model_total())
			put_raw(top + 1, 2, COLS - 2, "no race matches the filter (/ to change it)");
		else if (T.live)
			put_raw(top + 1, 2, COLS - 2, "no race yet: the program runs, watched accesses are sampled");
		else
			put_raw(top + 1, 2, COLS - 2, "the report holds no race");
		return;
	}
	scroll_to_sel(rows);
	for (int i = 0; i < rows && list_top + i < nrows; i++) {
		const struct race *r = model_row(list_top + i);

		side(a, sizeof(a), &r->a, r->fa, r->nfa);
		if (r->kind == RACE_UNKNOWN_ORIGIN)
			snprintf(b, sizeof(b), "(unknown origin: value changed)");
		else
			side(b, sizeof(b), &r->b, r->fb, r->nfb);
		/* r->var is escaped already (report.h). */
		snprintf(line, sizeof(line), "%4u %9u %9.1fs %-*.*s %-*.*s %s", r->id, r->count,
			 model_secs(r->last_ns), vw, vw, r->var, fw, fw - 1, a, b);
		if (list_top + i == sel)
			attron(A_REVERSE);
		mvhline(top + i, 0, ' ', COLS);
		put_raw(top + i, 0, COLS, line);
		attroff(A_REVERSE);
	}
}

/* Moves shared by the list and the details. */
int list_move(enum action a, int page)
{
	int sel = model_sel();

	switch (a) {
	case ACT_UP:
		model_select(sel - 1);
		return TUI_REDRAW;
	case ACT_DOWN:
		model_select(sel + 1);
		return TUI_REDRAW;
	case ACT_PGUP:
		model_select(sel - page);
		return TUI_REDRAW;
	case ACT_PGDN:
		model_select(sel + page);
		return TUI_REDRAW;
	case ACT_HOME:
		model_select(0);
		return TUI_REDRAW;
	case ACT_END:
		model_select(model_rows() - 1);
		return TUI_REDRAW;
	default:
		return 0;
	}
}

static int list_request(enum action a)
{
	if (a == ACT_ENTER) {
		if (!model_selected()) {
			tui_message(1, "no race selected");
			return TUI_REDRAW;
		}
		T.view = &detail_view;
		return TUI_REDRAW;
	}
	return list_move(a, LINES - 4 > 1 ? LINES - 4 : 1);
}

const struct view list_view = {
	.name = "races",
	.draw = list_draw,
	.request = list_request,
};
