/*
 * help — the key map, generated from the same TUI_ACTIONS list as the enum
 * and the key table (input.c): a key cannot exist without its line here.
 */
#include "tui_int.h"

#include <stdio.h>

#define TUI_HELP(name, k1, k2, k3, keys, help) { keys, help },
static const struct {
	const char *keys;
	const char *help;
} help_rows[] = { TUI_ACTIONS(TUI_HELP) };
#undef TUI_HELP

static void help_draw(int top, int rows)
{
	char line[300];
	int y = top;

	put_raw(y++, 2, COLS - 2, "Keys (any key returns):");
	y++;
	for (size_t i = 0; i < sizeof(help_rows) / sizeof(help_rows[0]) && y < top + rows; i++) {
		snprintf(line, sizeof(line), "  %-12s %s", help_rows[i].keys, help_rows[i].help);
		put_raw(y++, 2, COLS - 2, line);
	}
	if (y + 1 < top + rows) {
		put_raw(++y, 2, COLS - 2, T.live ? "Filter and watch prompts: Enter accepts, Esc cancels, ^U clears."
				: "A saved report: pause and the watch list need a running program.");
	}
}

const struct view help_view = {
	.name = "help",
	.draw = help_draw,
	.request = NULL,
};
