/*
 * watch — the watch list, edited live: `a` adds an expression (-w syntax,
 * engine_watch_add: the watchpoints follow at once on every thread), `d`
 * removes the selected one.  A failure shows the engine's one-line reason.
 * A saved report has no watch list: the view lists its variables instead.
 */
#include "tui_int.h"
#include "util.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int wsel;		/* selected watch index */

static void add_done(const char *expr)
{
	char err[512];

	if (!*expr)
		return;
	if (engine_watch_add(expr, err, sizeof(err)) < 0) {
		tui_message(1, "cannot watch %s", err);
		return;
	}
	engine_status(&T.st);
	wsel = engine_watch_count() - 1;
	tui_message(0, "watching %s (%d slot%s armed)", expr, T.st.slots, T.st.slots == 1 ? "" : "s");
}

static void saved_draw(int top, int rows)
{
	int shown = 0;

	put_raw(top, 0, COLS, "A saved report has no live watch list; its races are on these variables:");
	for (int i = 0; i < model_total() && shown < rows - 2; i++) {
		const struct race *r = model_row(i);
		int dup = 0;

		if (!r)
			break;
		for (int j = 0; j < i; j++)
			dup |= !strcmp(model_row(j)->var, r->var);
		if (!dup)
			put_raw(top + 2 + shown++, 2, COLS - 2, r->var);
	}
}

static void watch_draw(int top, int rows)
{
	int n, first;
	char line[1200], expr[300], name[300];

	if (!T.live) {
		saved_draw(top, rows);
		return;
	}
	n = engine_watch_count();
	if (wsel >= n)
		wsel = n - 1;
	if (wsel < 0)
		wsel = 0;
	attron(A_BOLD);
	snprintf(line, sizeof(line), "%3s  %-30s %-24s %-18s %5s  %s", "#", "EXPRESSION", "NAME",
		 "ADDRESS", "BYTES", "STATE");
	put_raw(top, 0, COLS, line);
	attroff(A_BOLD);
	if (!n) {
		put_raw(top + 2, 2, COLS - 2, T.st.threads ? "nothing watched: a adds an expression"
				: "the program is not loaded yet");
		return;
	}
	first = wsel >= rows - 2 ? wsel - (rows - 2) + 1 : 0;
	for (int i = first; i < n && i - first < rows - 2; i++) {
		const char *e, *nm;
		uint64_t addr, len;
		int active;

		if (engine_watch_get(i, &e, &nm, &addr, &len, &active) < 0)
			continue;
		rw_escape(expr, sizeof(expr), e ? e : "?");
		rw_escape(name, sizeof(name), nm ? nm : "?");
		snprintf(line, sizeof(line), "%3d  %-30.30s %-24.24s 0x%-16" PRIx64 " %5" PRIu64 "  %s", i,
			 expr, name, addr, len, active == 2 ? "waiting" : !active ? "removed" :
			 T.st.paused ? "paused" : "armed");
		if (i == wsel)
			attron(A_REVERSE);
		mvhline(top + 1 + i - first, 0, ' ', COLS);
		put_raw(top + 1 + i - first, 0, COLS, line);
		attroff(A_REVERSE);
	}
	snprintf(line, sizeof(line), "%d debug-register slot%s in use; a: add, d: remove, Esc: races",
		 T.st.slots, T.st.slots == 1 ? "" : "s");
	put_raw(top + rows - 1, 0, COLS, line);
}

static int watch_request(enum action a)
{
	int n = T.live ? engine_watch_count() : 0;

	switch (a) {
	case ACT_UP:
		wsel = wsel > 0 ? wsel - 1 : 0;
		return TUI_REDRAW;
	case ACT_DOWN:
		wsel = wsel + 1 < n ? wsel + 1 : wsel;
		return TUI_REDRAW;
	case ACT_HOME:
		wsel = 0;
		return TUI_REDRAW;
	case ACT_END:
		wsel = n ? n - 1 : 0;
		return TUI_REDRAW;
	case ACT_WATCHES:
		T.view = &list_view;	/* w toggles */
		return TUI_REDRAW;
	case ACT_WATCH_ADD:
		if (!T.live)
			tui_message(1, "a saved report has no watch list to edit");
		else
			prompt_open("watch (-w syntax): ", "", add_done, NULL);
		return TUI_REDRAW;
	case ACT_WATCH_DEL:
		if (!T.live) {
			tui_message(1, "a saved report has no watch list to edit");
		} else if (engine_watch_remove(wsel) < 0) {
			tui_message(1, "watch %d is not active", wsel);
		} else {
			engine_status(&T.st);
			tui_message(0, "watch %d removed (%d slot%s armed)", wsel, T.st.slots,
				    T.st.slots == 1 ? "" : "s");
		}
		return TUI_REDRAW;
	default:
		return 0;
	}
}

const struct view watch_view = {
	.name = "watch list",
	.draw = watch_draw,
	.request = watch_request,
};
