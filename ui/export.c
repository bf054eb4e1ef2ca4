/*
 * export — the selected race to files in the working directory:
 *
 *   e  race-N.txt   the KCSAN-style text report (report_print_text)
 *   g  race-N.gdb   a gdb command file.  With --gdb-script DIR (and in
 *                   view) it is gdbscript.c's own (report_gdb_race); a live
 *                   run without --gdb-script gets a minimal one written
 *                   here, because report_gdb_open would make the engine
 *                   write a file for every later race too.
 */
#include "tui_int.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
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

/* Printable ASCII without quotes, backslashes, colons or blanks: safe in a
 * gdb linespec and a comment. */
static int gdb_safe(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f || strchr("\"'\\:,%", *s))
			return 0;
	return s != NULL;
}

static void minimal_site(FILE *f, int k, const struct access *a, const struct report_frame *fr,
			 int n)
{
	const char *file = n && fr[0].file ? report_short_path(fr[0].file) : NULL;

	fprintf(f, "\n# access %d: %s by thread %d at pc 0x%" PRIx64 "\n", k, report_access_verb(a),
		(int)a->tid, a->pc);
	if (file && fr[0].line > 0 && gdb_safe(file))
		fprintf(f, "break %s:%d\ncommands\n  info threads\n  thread apply all bt\nend\n", file,
			fr[0].line);
	else
		fputs("# no source line known for it\n", f);
}

static int minimal_gdb(const char *path, const struct race *r)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fprintf(f, "# racewatch race %u on %s (written by the TUI)\n", r->id, gdb_safe(r->var) ? r->var : "?");
	fprintf(f, "# gdb -x %s --args PROG ARGS\n", path);
	fputs("set pagination off\nset confirm off\nset breakpoint pending on\nstarti\n", f);
	minimal_site(f, 1, &r->a, r->fa, r->nfa);
	if (r->kind != RACE_UNKNOWN_ORIGIN)
		minimal_site(f, 2, &r->b, r->fb, r->nfb);
	if (gdb_safe(r->var) && !strchr(r->var, '+'))
		fprintf(f, "\n# every access to the variable\nawatch -l %s\n", r->var);
	fputs("\ncontinue\n", f);
	return fclose(f);
}

int export_gdb(const struct race *r)
{
	char path[4200], err[512];

	if (!T.live || tui_gdb_dir) {
		const char *dir = T.live ? tui_gdb_dir : ".";

		if (report_gdb_open(dir, T.live ? tui_argv : T.argv, err, sizeof(err)) < 0) {
			tui_message(1, "%s", err);
			return -1;
		}
		report_gdb_race(r);
		snprintf(path, sizeof(path), "%s/race-%u.gdb", dir, r->id);
	} else {
		snprintf(path, sizeof(path), "race-%u.gdb", r->id);
		if (minimal_gdb(path, r) < 0) {
			tui_message(1, "cannot write %s: %s", path, strerror(errno));
			return -1;
		}
	}
	tui_message(0, "wrote %s (gdb -x %s --args PROG ARGS)", path, path);
	return 0;
}
