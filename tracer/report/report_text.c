/*
 * report_text — the KCSAN-style text of a race, the one formatter behind
 * the live text sink (stderr or --log-file), `racewatch view --text`, the
 * TUI's export and its titles.  Colour is optional (--color) and only ever
 * wraps whole lines in SGR sequences: with colour off the bytes are
 * exactly the uncoloured report.
 */
#include "report.h"
#include "util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "options.h"

const char *report_access_verb(const struct access *a)
{
	static const char *const verbs[][2] = {
		[ACCESS_READ]  = { "read", "read (marked)" },
		[ACCESS_WRITE] = { "write", "write (marked)" },
		[ACCESS_RMW]   = { "read-write", "read-write (marked)" },
	};

	switch (a->mark) {
	case MARK_ASSERT_ACCESS:
		return "assert no accesses";
	case MARK_ASSERT_WRITER:
		return "assert no writes";
	case MARK_ONCE:
	case MARK_ATOMIC:
		return verbs[a->type][1];
	default:
		return verbs[a->type][0];
	}
}

static const char *base_name(const char *path)
{
	const char *s = path ? strrchr(path, '/') : NULL;

	return s ? s + 1 : path ? path : "";
}

/* A shared object ("libc.so.6", "libfoo.so.1.2"), not the executable. */
static int is_library(const char *base)
{
	const char *so = strstr(base, ".so");

	return so && (so[3] == '\0' || so[3] == '.');
}

/*
 * " #3 writer samples/basic/race_rw.c:77", escaped; a frame in a library
 * names it as gdb does (" #2 start_thread ./nptl/pthread_create.c:442
 * (libc.so.6)"), one without lines shows module + offset.
 */
static void print_frame(FILE *f, int i, const struct report_frame *fr)
{
	char func[256], file[512], mod[256];

	if (fr->func)
		rw_escape(func, sizeof(func), fr->func);
	else
		snprintf(func, sizeof(func), "0x%" PRIx64, fr->pc);
	fprintf(f, " #%d %s", i, func);
	mod[0] = '\0';
	if (fr->module)
		rw_escape(mod, sizeof(mod), base_name(fr->module));
	if (fr->file) {
		rw_escape(file, sizeof(file), report_short_path(fr->file));
		fprintf(f, " %s:%d", file, fr->line);
		if (mod[0] && is_library(mod))
			fprintf(f, " (%s)", mod);
	} else if (fr->module) {
		fprintf(f, " (%s+0x%" PRIx64 ")", mod, fr->modoff);
	}
	if (fr->inlined)
		fputs(" (inlined)", f);
	fputc('\n', f);
}

/* SGR sequences of --color, or "" when colour is off. */
struct paint {
	const char *bug, *access, *value, *off;
};

static void print_access(FILE *f, const struct race *r, const struct access *a,
			 const struct report_frame *fr, int nfr, const char *lead,
			 const struct paint *c)
{
	fprintf(f, "%s%s%s to 0x%" PRIx64 " (%s) of %u bytes by thread %d:%s\n",
		c->access, lead, report_access_verb(a), a->addr, r->var, a->size, a->tid, c->off);
	for (int i = 0; i < nfr; i++)
		print_frame(f, i, &fr[i]);
}

/*
 * The function an access is in, escaped, for titles.  include/racewatch.h's
 * own inline helpers (__rw_*, e.g. the scoped assertions' openers) are
 * skipped: the title names the user's function they were inlined into.
 */
static void top_func(char *buf, size_t len, const struct report_frame *fr, int n)
{
	while (n > 1 && fr[0].func && !strncmp(fr[0].func, "__rw_", 5)) {
		fr++;
		n--;
	}
	if (n > 0 && fr[0].func)
		rw_escape(buf, len, fr[0].func);
	else if (n > 0)
		snprintf(buf, len, "0x%" PRIx64, fr[0].pc);
	else
		snprintf(buf, len, "??");
}

void report_title(char *buf, size_t len, const struct race *r)
{
	char fa[256], fb[256];

	top_func(fa, sizeof(fa), r->fa, r->nfa);
	if (r->kind == RACE_UNKNOWN_ORIGIN) {
		snprintf(buf, len, "data-race in %s", fa);
		return;
	}
	top_func(fb, sizeof(fb), r->fb, r->nfb);
	/* Sorted names make the title stable whoever came first. */
	snprintf(buf, len, "%s in %s / %s",
		 r->kind == RACE_ASSERT ? "assert: race" : "data-race",
		 strcmp(fa, fb) <= 0 ? fa : fb, strcmp(fa, fb) <= 0 ? fb : fa);
}

void report_print_text_color(FILE *f, const struct race *r, int color)
{
	static const char rule[] =
		"==================================================================";
	static const struct paint plain = { "", "", "", "" };
	static const struct paint sgr = { "\033[1;31m", "\033[1m", "\033[33m", "\033[0m" };
	const struct paint *c = color ? &sgr : &plain;
	char title[600], file[512];

	report_title(title, sizeof(title), r);
	fprintf(f, "%s\n", rule);
	fprintf(f, "%sBUG: racewatch: %s%s\n\n", c->bug, title, c->off);
	if (r->kind == RACE_UNKNOWN_ORIGIN) {
		print_access(f, r, &r->a, r->fa, r->nfa, "race at unknown origin, with ", c);
	} else {
		print_access(f, r, &r->a, r->fa, r->nfa, "", c);
		fputc('\n', f);
		print_access(f, r, &r->b, r->fb, r->nfb, "", c);
	}
	if (r->decl_file || r->via[0])
		fputc('\n', f);
	if (r->decl_file) {
		rw_escape(file, sizeof(file), report_short_path(r->decl_file));
		fprintf(f, "%s declared at %s:%d\n", r->var, file, r->decl_line);
	}
	if (r->via[0])
		fprintf(f, "%s: %s\n", r->var, r->via);
	if (r->value_known) {
		int w = (int)r->vsize * 2;

		fprintf(f, "\n%svalue changed: 0x%0*" PRIx64 " -> 0x%0*" PRIx64 "%s\n",
			c->value, w, r->old_val, w, r->new_val, c->off);
	}
	fprintf(f, "%s\n", rule);
	fflush(f);
}

void report_print_text(FILE *f, const struct race *r)
{
	report_print_text_color(f, r, 0);
}

int report_want_color(int mode, FILE *f)
{
	const char *term = getenv("TERM");

	if (mode == COLOR_ALWAYS)
		return 1;
	if (mode == COLOR_NEVER)
		return 0;
	return isatty(fileno(f)) && !getenv("NO_COLOR") && term && strcmp(term, "dumb");
}
