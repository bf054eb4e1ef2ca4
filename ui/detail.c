/*
 * detail — one race: the title and facts on top, then the two accesses side
 * by side (left the stalled thread's, right the one inside its window): how
 * each accessed the variable, its stack, and the source lines around it.
 * Up/Down move to the previous/next race of the list.
 */
#include "tui_int.h"
#include "util.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The frame whose source the column shows: the first with a file and line
 * (frame 0 unless the access is in code without line info). */
static const struct report_frame *src_frame(const struct report_frame *fr, int n)
{
	for (int i = 0; i < n; i++)
		if (fr[i].file && fr[i].line > 0)
			return &fr[i];
	return n ? &fr[0] : NULL;
}

/* " #1 writer samples/basic/race_rw.c:79 (inlined)", escaped. */
static void frame_text(char *buf, size_t len, int i, const struct report_frame *fr)
{
	char func[256], file[600];
	size_t n = 0;

	buf[0] = '\0';
	frame_func(func, sizeof(func), fr, 1);
	draw_cat(buf, len, &n, "#%d %s", i, func);
	if (fr->file) {
		rw_escape(file, sizeof(file), report_short_path(fr->file));
		draw_cat(buf, len, &n, " %s:%d", file, fr->line);
	} else if (fr->module) {
		const char *b = strrchr(fr->module, '/');

		rw_escape(file, sizeof(file), b ? b + 1 : fr->module);
		draw_cat(buf, len, &n, " (%s+0x%" PRIx64 ")", file, fr->modoff);
	}
	if (fr->inlined)
		draw_cat(buf, len, &n, " (inlined)");
}

/*
 * One column at x, w wide, from row y: the access, stack_rows frames, then
 * src_rows lines of source centred on the access's line.
 */
static void column(int y, int x, int w, const struct access *a, const struct report_frame *fr,
		   int n, int stack_rows, int src_rows)
{
	const struct report_frame *sf = src_frame(fr, n);
	char buf[1200], insn[300];
	int first;

	snprintf(buf, sizeof(buf), "%s to 0x%" PRIx64 " of %u bytes by thread %d",
		 report_access_verb(a), a->addr, a->size, (int)a->tid);
	attron(A_BOLD);
	put_raw(y++, x, w, buf);
	attroff(A_BOLD);
	rw_escape(insn, sizeof(insn), a->insn[0] ? a->insn : "?");
	snprintf(buf, sizeof(buf), "pc 0x%" PRIx64 ": %s", a->pc, insn);
	put_raw(y++, x, w, buf);
	for (int i = 0; i < stack_rows; i++) {
		if (i == stack_rows - 1 && n > stack_rows) {
			snprintf(buf, sizeof(buf), "... %d more frames", n - i);
			put_raw(y + i, x, w, buf);
			break;
		}
		if (i < n) {
			frame_text(buf, sizeof(buf), i, &fr[i]);
			put_raw(y + i, x, w, buf);
		}
	}
	y += stack_rows + 1;
	if (!sf || !sf->file) {
		put_raw(y, x, w, "no source line known for this access");
		return;
	}
	rw_escape(buf, sizeof(buf), report_short_path(sf->file));
	snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), ":%d", sf->line);
	attron(A_UNDERLINE);
	put_raw(y++, x, w, buf);
	attroff(A_UNDERLINE);
	src_rows--;
	first = sf->line - (src_rows - 1) / 2;
	if (first < 1)
		first = 1;
	for (int i = 0; i < src_rows; i++) {
		char text[1024];
		int ln = first + i;

		if (source_line(sf->file, ln, text, sizeof(text)) < 0) {
			if (i == 0 || ln == sf->line)
				put_raw(y, x, w, text);	/* the reason, once */
			if (i == 0)
				break;
			continue;
		}
		snprintf(buf, sizeof(buf), "%5d%s %s", ln, ln == sf->line ? ">" : " ", text);
		if (ln == sf->line)
			attron(A_REVERSE);
		put_raw(y + i, x, w, buf);
		attroff(A_REVERSE);
	}
}

static void detail_draw(int top, int rows)
{
	const struct race *r = model_selected();
	char title[600], buf[1024];
	int half = (COLS - 1) / 2, body, stack_rows, src_rows, frames;
	size_t n;

	if (!r) {
		put_raw(top + 1, 2, COLS - 2, "no race selected");
		return;
	}
	report_title(title, sizeof(title), r);	/* escaped */
	snprintf(buf, sizeof(buf), "race %u: %s", r->id, title);
	attron(A_BOLD);
	put_raw(top, 0, COLS, buf);
	attroff(A_BOLD);
	n = 0;
	buf[0] = '\0';
	draw_cat(buf, sizeof(buf), &n, "%s on %s | seen %u time%s | first %.3fs, last %.3fs",
		 race_kind_names[r->kind], r->var, r->count, r->count == 1 ? "" : "s",
		 model_secs(r->first_ns), model_secs(r->last_ns));
	if (r->value_known)
		draw_cat(buf, sizeof(buf), &n, " | value 0x%0*" PRIx64 " -> 0x%0*" PRIx64,
			 (int)r->vsize * 2, r->old_val, (int)r->vsize * 2, r->new_val);
	put_raw(top + 1, 0, COLS, buf);

	/* Rows left after the two lines above, a blank, the access and pc lines,
	 * a blank and the source heading: share them between stack and source. */
	body = rows - 7;
	frames = r->nfa > r->nfb ? r->nfa : r->nfb;
	stack_rows = frames < body / 2 ? frames : body / 2;
	if (stack_rows < 1)
		stack_rows = 1;
	src_rows = body - stack_rows + 1;
	if (src_rows < 2)
		src_rows = 2;
	column(top + 3, 0, half, &r->a, r->fa, r->nfa, stack_rows, src_rows);
	if (r->kind == RACE_UNKNOWN_ORIGIN) {
		put_raw(top + 3, half + 2, COLS - half - 2, "no second access: the value changed");
		put_raw(top + 4, half + 2, COLS - half - 2, "while no traced thread wrote it");
	} else {
		column(top + 3, half + 2, COLS - half - 2, &r->b, r->fb, r->nfb, stack_rows, src_rows);
	}
	mvvline(top + 3, half, '|', rows - 3);
}

static int detail_request(enum action a)
{
	if (a == ACT_ENTER)
		return TUI_REDRAW;	/* already here */
	return list_move(a, 1);
}

const struct view detail_view = {
	.name = "race details",
	.draw = detail_draw,
	.request = detail_request,
};
