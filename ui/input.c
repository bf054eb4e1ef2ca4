/*
 * input — keys to actions (the key map generated from TUI_ACTIONS), the
 * actions every view shares, and the one-line prompt (filter, add watch).
 */
#include "tui_int.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define TUI_KEYS(name, k1, k2, k3, keys, help) \
	{ k1, ACT_##name }, { k2, ACT_##name }, { k3, ACT_##name },
static const struct {
	int key;
	enum action action;
} keymap[] = { TUI_ACTIONS(TUI_KEYS) };
#undef TUI_KEYS

enum action tui_key_action(int key)
{
	if (!key)
		return ACT_NONE;
	for (size_t i = 0; i < ARRAY_SIZE(keymap); i++)
		if (keymap[i].key == key)
			return keymap[i].action;
	return ACT_NONE;
}

void tui_message(int err, const char *fmt, ...)
{
	char raw[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	rw_escape(T.msg, sizeof(T.msg), raw);
	T.msg_err = err;
}

/* ---- the prompt ------------------------------------------------------------ */

static struct {
	int active;
	const char *label;
	char buf[256];
	char init[256];			/* restored on Esc (changed() sees it again) */
	size_t len;
	void (*done)(const char *text);
	void (*changed)(const char *text);
} P;

void prompt_open(const char *label, const char *init, void (*done)(const char *),
		 void (*changed)(const char *))
{
	P.active = 1;
	P.label = label;
	snprintf(P.buf, sizeof(P.buf), "%s", init ? init : "");
	snprintf(P.init, sizeof(P.init), "%s", P.buf);
	P.len = strlen(P.buf);
	P.done = done;
	P.changed = changed;
	T.msg[0] = '\0';
}

int prompt_active(void)
{
	return P.active;
}

void prompt_draw(int y)
{
	int lw = (int)strlen(P.label);

	attron(A_BOLD);
	put_raw(y, 0, lw, P.label);
	attroff(A_BOLD);
	/* Show the end of what was typed when it is wider than the screen. */
	put_raw(y, lw, COLS - lw - 1, P.buf + (P.len > (size_t)(COLS - lw - 2) ?
					       P.len - (size_t)(COLS - lw - 2) : 0));
	move(y, lw + (int)(P.len < (size_t)(COLS - lw - 2) ? P.len : (size_t)(COLS - lw - 2)));
	curs_set(1);
}

static int prompt_key(int key)
{
	switch (key) {
	case '\n': case '\r': case KEY_ENTER:
		P.active = 0;
		curs_set(0);
		P.done(P.buf);
		return TUI_REDRAW;
	case 27:
	case CTRL_KEY('c'):
		P.active = 0;
		curs_set(0);
		if (P.changed)
			P.changed(P.init);
		return TUI_REDRAW;
	case KEY_BACKSPACE: case 127: case CTRL_KEY('h'):
		if (P.len)
			P.buf[--P.len] = '\0';
		break;
	case CTRL_KEY('u'):
		P.len = 0;
		P.buf[0] = '\0';
		break;
	default:
		/* Printable ASCII only: nothing typed can steer the terminal. */
		if (key < 0x20 || key > 0x7e || P.len + 1 >= sizeof(P.buf))
			return TUI_HANDLED;
		P.buf[P.len++] = (char)key;
		P.buf[P.len] = '\0';
	}
	if (P.changed)
		P.changed(P.buf);
	return TUI_REDRAW;
}

/* ---- actions every view shares ------------------------------------------------ */

static void filter_changed(const char *s)
{
	model_set_filter(s);
}

static void filter_done(const char *s)
{
	model_set_filter(s);
	if (*s)
		tui_message(0, "filter \"%s\": %d of %d races", s, model_rows(), model_total());
}

static int global_action(enum action a)
{
	const struct race *r = model_selected();

	switch (a) {
	case ACT_HELP:
		T.prev = T.view;
		T.view = &help_view;
		return TUI_REDRAW;
	case ACT_QUIT:
		return TUI_QUIT | TUI_REDRAW;
	case ACT_REDRAW:
		return TUI_REDRAW | TUI_CLEAR;
	case ACT_WATCHES:
		T.view = &watch_view;
		return TUI_REDRAW;
	case ACT_WATCH_ADD:
		T.view = &watch_view;
		return watch_view.request(a);
	case ACT_BACK:
		T.view = &list_view;
		return TUI_REDRAW;
	case ACT_SORT:
		model_cycle_sort();
		tui_message(0, "sorted by %s", model_sort_name());
		return TUI_REDRAW;
	case ACT_FILTER:
		prompt_open("filter: ", model_filter(), filter_done, filter_changed);
		return TUI_REDRAW;
	case ACT_PAUSE:
		if (!T.live) {
			tui_message(1, "a saved report cannot be paused");
			return TUI_REDRAW;
		}
		engine_status(&T.st);
		engine_pause(!T.st.paused);
		engine_status(&T.st);
		tui_message(0, "%s", T.st.paused ? "paused: every watchpoint disarmed (p resumes)"
			    : "resumed: watchpoints armed");
		return TUI_REDRAW;
	case ACT_EXPORT:
	case ACT_GDB:
		if (!r)
			tui_message(1, "no race selected");
		else if (a == ACT_EXPORT)
			export_text(r);
		else
			export_gdb(r);
		return TUI_REDRAW;
	default:
		return 0;
	}
}

int tui_handle_key(int key)
{
	enum action a;
	int flags;

	if (key == KEY_RESIZE)
		return TUI_REDRAW | TUI_CLEAR;
	if (prompt_active())
		return prompt_key(key);
	a = tui_key_action(key);
	if (T.view == &help_view && a != ACT_QUIT) {
		T.view = T.prev ? T.prev : &list_view;	/* any key leaves help */
		return TUI_REDRAW;
	}
	if (a == ACT_NONE)
		return 0;
	if (!T.quitting)
		T.msg[0] = '\0';	/* a message lasts until the next action */
	flags = T.view->request ? T.view->request(a) : 0;
	if (!flags)
		flags = global_action(a);
	return flags | TUI_REDRAW;
}
