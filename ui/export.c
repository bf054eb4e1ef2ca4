/*
 * export — the selected race to files in the working directory:
 *
 *   e  race-N.txt   the KCSAN-style text report (report_print_text)
 *   g  race-N.gdb   the gdb command file --gdb-script writes
 *                   (report_gdb_write), in --gdb-script's DIR when there is
 *                   one, else in the working directory
 */
#include "tui_int.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int export_text(const struct race *r)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "race-%u.txt", r->id);
	f = fopen(path, "w");
	if (!f) {
		tui_message(1, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	report_print_text(f, r);
	if (fclose(f) != 0) {
		tui_message(1, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	tui_message(0, "wrote %s (KCSAN text of race %u)", path, r->id);
	return 0;
}

int export_gdb(const struct race *r)
{
	const char *dir = T.live && tui_gdb_dir ? tui_gdb_dir : ".";
	char path[4200];

	snprintf(path, sizeof(path), "%s/race-%u.gdb", dir, r->id);
	if (report_gdb_write(path, r, T.live ? tui_argv : T.argv) < 0) {
		tui_message(1, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	tui_message(0, "wrote %s (gdb -x %s --args PROG ARGS)", path, path);
	return 0;
}
