/*
 * tui — the ncurses front end (DESIGN.md section 7).  The only place that
 * includes curses; it drives the engine through tracer/frontend.h.
 */
#ifndef RACEWATCH_TUI_H
#define RACEWATCH_TUI_H

struct options;

/*
 * Take over the terminal and install the TUI as the engine's front end
 * (engine_set_frontend); the engine then runs as usual and calls the TUI's
 * finish hook on every way out.  Returns 0, or -1 after a one-line error
 * (no terminal, ncurses failed).
 */
int tui_start(const struct options *o);

/* `racewatch view FILE.jsonl`: the same screens on a saved report.  Returns
 * the exit status (0, or 2 after a one-line error). */
int tui_view(const char *path);

/*
 * `view --text`: set before tui_view(), which then prints every race of the
 * file on stdout as KCSAN text (report_print_text_color, the live text
 * sink's formatter), in reporting order, instead of opening the TUI.
 * color: wrap lines in SGR colour.
 */
void tui_view_as_text(int color);

#endif
