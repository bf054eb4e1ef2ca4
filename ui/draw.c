/*
 * draw — the frame every view sits in (title bar, status line, message
 * line) and the text helpers.  Everything drawn is plain ASCII: strings
 * from the target go through rw_escape first, so one byte is one column
 * and nothing can reach the terminal as a control sequence.
 */
#include "tui_int.h"
#include "util.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

void draw_cat(char *buf, size_t len, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (*n + 1 >= len)
		return;
	va_start(ap, fmt);
	k = vsnprintf(buf + *n, len - *n, fmt, ap);
	va_end(ap);
	if (k > 0)
		*n = *n + (size_t)k < len ? *n + (size_t)k : len - 1;
}

void put_raw(int y, int x, int w, const char *s)
{
	if (w <= 0 || y < 0 || y >= LINES || x >= COLS)
		return;
	if (x + w > COLS)
		w = COLS - x;
	mvaddnstr(y, x, s, w);
}

void put_esc(int y, int x, int w, const char *s)
{
	char buf[1024];

	rw_escape(buf, sizeof(buf), s ? s : "?");
	put_raw(y, x, w, buf);
}

void frame_func(char *buf, size_t len, const struct report_frame *fr, int n)
{
	if (n > 0 && fr[0].func)
		rw_escape(buf, len, fr[0].func);
	else if (n > 0)
		snprintf(buf, len, "0x%" PRIx64, fr[0].pc);
	else
		snprintf(buf, len, "?");
}

/* A whole row in reverse video. */
static void bar(int y, const char *left, const char *right)
{
	int rl = (int)strlen(right);

	attron(A_REVERSE);
	mvhline(y, 0, ' ', COLS);
	put_raw(y, 0, COLS - rl - 1, left);
	if (rl < COLS)
		put_raw(y, COLS - rl, rl, right);
	attroff(A_REVERSE);
}

static void title_bar(void)
{
	char left[512];
	size_t n = 0;

	left[0] = '\0';
	draw_cat(left, sizeof(left), &n, " racewatch: %s", T.view->name);
	if (T.view == &list_view || T.view == &detail_view) {
		draw_cat(left, sizeof(left), &n, " | %d race%s, by %s", model_total(),
		    model_total() == 1 ? "" : "s", model_sort_name());
		if (*model_filter()) {
			char f[300];

			rw_escape(f, sizeof(f), model_filter());
			draw_cat(left, sizeof(left), &n, " | filter \"%s\": %d shown", f, model_rows());
		}
	}
	bar(0, left, "? help  q quit ");
}

/* "1.2k" for the traps rate. */
static void rate(char *buf, size_t len, double v)
{
	if (v >= 10000)
		snprintf(buf, len, "%.0fk", v / 1000);
	else if (v >= 1000)
		snprintf(buf, len, "%.1fk", v / 1000);
	else
		snprintf(buf, len, "%.0f", v);
}

static void status_line(int y)
{
	char s[600], r[32], path[300];
	const struct engine_status *st = &T.st;
	size_t n = 0;

	s[0] = '\0';
	if (T.live) {
		rate(r, sizeof(r), st->traps_per_s);
		draw_cat(s, sizeof(s), &n,
		    " threads %d | traps/s %s | windows %d | slots %d | races %llu | overhead ~%.1f%%",
		    st->threads, r, st->windows, st->slots, (unsigned long long)st->races,
		    st->overhead_pct);
		draw_cat(s, sizeof(s), &n, " | %s%s", T.quitting ? "quitting" : st->paused ? "PAUSED" : "running",
		    st->attached ? " (attached)" : "");
	} else {
		rw_escape(path, sizeof(path), T.path);
		draw_cat(s, sizeof(s), &n, " saved report %s | races %d", path, model_total());
		if (T.ended && T.exit_status >= 0)
			draw_cat(s, sizeof(s), &n, " | exit status %d", T.exit_status);
		if (T.ended)
			draw_cat(s, sizeof(s), &n, " | %.1fs, %llu traps", T.duration, (unsigned long long)T.traps);
		else
			draw_cat(s, sizeof(s), &n, " | no end record (tracer killed or running)");
		if (T.malformed)
			draw_cat(s, sizeof(s), &n, " | %d malformed line%s skipped", T.malformed,
			    T.malformed == 1 ? "" : "s");
	}
	bar(y, s, "");
}

void draw_screen(int clear_all)
{
	if (!T.curses)
		return;
	if (clear_all)
		clear();
	else
		erase();
	curs_set(0);
	if (LINES < 6 || COLS < 30) {
		put_raw(0, 0, COLS, "terminal too small");
		refresh();
		return;
	}
	title_bar();
	T.view->draw(1, LINES - 3);
	status_line(LINES - 2);
	if (prompt_active()) {
		prompt_draw(LINES - 1);
	} else if (T.msg[0]) {
		if (T.msg_err && has_colors())
			attron(COLOR_PAIR(1) | A_BOLD);
		put_raw(LINES - 1, 0, COLS - 1, T.msg);
		attroff(COLOR_PAIR(1) | A_BOLD);
	}
	refresh();
}
