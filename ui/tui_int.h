/*
 * tui_int — what the files of ui/ share: the action list, the views, the
 * race model, the prompt and the drawing helpers.  Only ui/ includes it.
 *
 * Screen layout (rows):
 *   0            title bar: the view's name, sort and filter
 *   1..LINES-3   the view's body
 *   LINES-2      status line (engine_status, or "saved report ...")
 *   LINES-1      message line, or the prompt while one is open
 */
#ifndef RACEWATCH_TUI_INT_H
#define RACEWATCH_TUI_INT_H

#include <curses.h>
#include <stdint.h>

#include "frontend.h"
#include "report.h"

/*
 * Every user action, once: A(NAME, KEY1, KEY2, KEY3, "keys as shown", "what
 * it does").  The enum, the key map (input.c) and the help screen (help.c)
 * are generated from this list.  0 = no key.
 */
#define CTRL_KEY(c) ((c) & 0x1f)
#define TUI_ACTIONS(A)								\
	A(UP,        KEY_UP,    'k',  0,         "Up k",        "previous race (list, details) or watch")	\
	A(DOWN,      KEY_DOWN,  'j',  0,         "Down j",      "next race (list, details) or watch")	\
	A(PGUP,      KEY_PPAGE, 0,    0,         "PgUp",        "one page up")			\
	A(PGDN,      KEY_NPAGE, 0,    0,         "PgDn",        "one page down")			\
	A(HOME,      KEY_HOME,  0,    0,         "Home",        "first row")			\
	A(END,       KEY_END,   0,    0,         "End",         "last row")			\
	A(ENTER,     '\n',      '\r', KEY_ENTER, "Enter",       "details: both stacks and both source lines")	\
	A(BACK,      27,        KEY_LEFT, 'h',   "Esc Left h",  "back to the race list")		\
	A(SORT,      's',       0,    0,         "s",           "sort by count, last seen, variable, id")	\
	A(FILTER,    '/',       0,    0,         "/",           "filter races by substring (empty: all)")	\
	A(WATCHES,   'w',       0,    0,         "w",           "watch list (live: a adds, d removes)")	\
	A(WATCH_ADD, 'a',       0,    0,         "a",           "add a watch expression (-w syntax)")	\
	A(WATCH_DEL, 'd',       KEY_DC, 0,       "d Del",       "remove the selected watch")	\
	A(PAUSE,     'p',       0,    0,         "p",           "pause (disarm every watchpoint) / resume")	\
	A(EXPORT,    'e',       0,    0,         "e",           "export the selected race as KCSAN text: race-N.txt")	\
	A(GDB,       'g',       0,    0,         "g",           "gdb command file for the selected race: race-N.gdb")	\
	A(HELP,      '?',       KEY_F(1), 0,     "? F1",        "this help (any key returns)")	\
	A(REDRAW,    CTRL_KEY('l'), 0, 0,        "^L",          "redraw the screen")		\
	A(QUIT,      'q',       CTRL_KEY('c'), 0, "q ^C",       "quit: end the run (run), detach (attach), leave (view)")

#define TUI_ENUM(name, k1, k2, k3, keys, help) ACT_##name,
enum action { ACT_NONE, TUI_ACTIONS(TUI_ENUM) ACT_COUNT };
#undef TUI_ENUM

/* What handling a key asks for (htop's HANDLED / REDRAW / BREAK_LOOP). */
#define TUI_HANDLED	1
#define TUI_REDRAW	2	/* the screen changed: draw it (rate-limited) */
#define TUI_CLEAR	4	/* repaint everything (resize, ^L) */
#define TUI_QUIT	8	/* leave the loop (view) / engine_quit (live) */

/* A screen: draws rows [top, top + rows) and takes the actions it knows. */
struct view {
	const char *name;
	void (*draw)(int top, int rows);
	/* Flags; 0 if the view does not handle a (the global handler may). */
	int (*request)(enum action a);
};

extern const struct view list_view, detail_view, watch_view, help_view;

/* The front end's state, one per process. */
struct tui {
	int live;			/* 1: a traced process; 0: a saved report */
	int curses;			/* curses is up (cleared by tui_restore) */
	int hungup;			/* the terminal went away: no more drawing */
	int quitting;			/* engine_quit was called */
	const struct view *view;	/* the screen shown */
	const struct view *prev;	/* where help returns to */
	char msg[256];			/* message line, already escaped */
	int msg_err;			/* show msg as an error */
	struct engine_status st;	/* live: as of the last tick */
	/* view: the saved report */
	const char *path;		/* the file */
	char *cwd;			/* header "cwd" (relative source paths), or NULL */
	char **argv;			/* header "argv" (for gdb files), NULL-terminated */
	int malformed;			/* lines skipped */
	int ended;			/* an "end" record was read */
	int exit_status;		/* its exit_status, -1 if null */
	double duration;		/* its duration */
	uint64_t traps;			/* its counters.traps */
};
extern struct tui T;

/* input.c: keys to actions, the prompt. */
enum action tui_key_action(int key);
int tui_handle_key(int key);	/* returns flags */
void tui_message(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Open the prompt on the message line; done(text) on Enter, cancel on Esc.
 * changed(text), if any, after every edit (incremental filter). */
void prompt_open(const char *label, const char *init, void (*done)(const char *),
		 void (*changed)(const char *));
int prompt_active(void);
void prompt_draw(int y);

/* model.c: the races shown, sorted and filtered; selection kept by identity. */
void model_add(const struct race *r);
void model_changed(void);		/* a count or time changed */
void model_clear(void);			/* forget every race (view_reset) */
const struct race *model_nth(int i);	/* i-th race in reporting order, NULL past the end */
int model_total(void);
int model_rows(void);
const struct race *model_row(int i);
int model_sel(void);			/* index of the selection, -1 if none */
const struct race *model_selected(void);
void model_select(int i);		/* clamped */
void model_set_filter(const char *s);
const char *model_filter(void);
void model_cycle_sort(void);
const char *model_sort_name(void);
double model_secs(uint64_t ns);		/* a race time as seconds since start */

/* list.c: Up/Down/PgUp/PgDn/Home/End on the model (list and details). */
int list_move(enum action a, int page);

/* tui.c */
extern const char *tui_gdb_dir;		/* --gdb-script DIR, or NULL */
extern char *const *tui_argv;		/* the traced command (run), or NULL */
/* view.c: the records of buf[0..len) (JSON lines) into the model, as the
 * file would be read; view_reset frees them all again (fuzzing).  Returns
 * how many racewatch records were read. */
int view_parse(const char *buf, size_t len);
void view_reset(void);
int tui_view_terminal(void);		/* view: open the terminal; 0, or -1 after an error */
int tui_run_view(void);			/* view's loop, after view.c loaded the file */

/* draw.c: clipped, escaped text; bars. */
void put_raw(int y, int x, int w, const char *s);	/* s is safe already */
void put_esc(int y, int x, int w, const char *s);	/* s comes from the target */
/*
 * Append to buf (size len, *n bytes used, NUL-terminated): bounded,
 * whatever the pieces (a long report path, extreme numbers from a report
 * file).  The result is cut at len - 1; *n never passes it.
 */
void draw_cat(char *buf, size_t len, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void draw_screen(int clear_all);
/* The function of the top frame of a stack, escaped; "?" if unknown. */
void frame_func(char *buf, size_t len, const struct report_frame *fr, int n);

/* source.c: lines of source files, cached. */
/* Line n (1-based) of file, tabs expanded and escaped into buf; 0, or -1
 * with the reason in buf. */
int source_line(const char *file, int n, char *buf, size_t len);

/* progout.c: run --tui, the program's terminal output into a file. */
void progout_open(void);		/* before the launch; warns on failure */
const char *progout_path(void);		/* the file, NULL if none */
void progout_child(void);		/* in the child before exec (frontend child_setup) */
void progout_close(void);		/* at the end: name the file, or remove it if empty */

/* export.c */
int export_text(const struct race *r);
int export_gdb(const struct race *r);

#endif
