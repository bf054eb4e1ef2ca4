#include "report.h"
#include "addrspace.h"
#include "counters.h"
#include "util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct race **races;
static int nraces, capraces;

int report_count(void)
{
	return nraces;
}

/* Same race: same kind and variable and the same two pcs, in either order. */
static int same_race(const struct race *x, const struct race *y)
{
	if (x->kind != y->kind || x->pid != y->pid || strcmp(x->var, y->var))
		return 0;
	if (x->kind == RACE_UNKNOWN_ORIGIN)
		return x->a.pc == y->a.pc;
	return (x->a.pc == y->a.pc && x->b.pc == y->b.pc) ||
	       (x->a.pc == y->b.pc && x->b.pc == y->a.pc);
}

/* DWARF paths are often absolute; show them relative to where we run. */
static const char *shorten_path(const char *file)
{
	static char cwd[4096];
	static size_t n;

	if (!file)
		return "";
	if (!n && getcwd(cwd, sizeof(cwd) - 1)) {
		n = strlen(cwd);
		if (n > 1)
			cwd[n++] = '/';
	}
	if (n > 1 && !strncmp(file, cwd, n) && file[n])
		return file + n;
	return file;
}

static int symbolize(struct addrspace *as, uint64_t pc, struct report_frame *out, int max)
{
	struct sym_frame f[REPORT_MAX_FRAMES];
	int n = as ? as_frames_at(as, pc, f, max < REPORT_MAX_FRAMES ? max : REPORT_MAX_FRAMES) : 0;

	if (n <= 0) {
		out[0].pc = pc;
		snprintf(out[0].func, sizeof(out[0].func), "0x%" PRIx64, pc);
		out[0].file[0] = '\0';
		out[0].line = 0;
		out[0].inlined = 0;
		return 1;
	}
	for (int i = 0; i < n; i++) {
		out[i].pc = pc;
		if (f[i].func)
			rw_escape(out[i].func, sizeof(out[i].func), f[i].func);
		else
			snprintf(out[i].func, sizeof(out[i].func), "0x%" PRIx64, pc);
		rw_escape(out[i].file, sizeof(out[i].file), shorten_path(f[i].file));
		out[i].line = f[i].line;
		out[i].inlined = f[i].inlined;
	}
	return n;
}

int report_submit(struct race *r, struct addrspace *as)
{
	for (int i = 0; i < nraces; i++) {
		if (same_race(races[i], r)) {
			races[i]->count++;
			races[i]->last_ns = r->b.time_ns ? r->b.time_ns : r->a.time_ns;
			ctr_inc(CTR_RACE_REPEATS);
			return 0;
		}
	}
	if (nraces == capraces) {
		capraces = capraces ? 2 * capraces : 16;
		races = xrealloc(races, sizeof(*races) * (size_t)capraces);
	}
	r->count = 1;
	r->first_ns = r->last_ns = r->b.time_ns ? r->b.time_ns : r->a.time_ns;
	r->nfa = symbolize(as, r->a.pc, r->fa, REPORT_MAX_FRAMES);
	r->nfb = r->kind == RACE_UNKNOWN_ORIGIN ? 0 : symbolize(as, r->b.pc, r->fb, REPORT_MAX_FRAMES);
	races[nraces] = xcalloc(1, sizeof(*r));
	*races[nraces++] = *r;

	switch (r->kind) {
	case RACE_DATA:
		ctr_inc(CTR_RACES);
		break;
	case RACE_UNKNOWN_ORIGIN:
		ctr_inc(CTR_UNKNOWN_ORIGIN);
		break;
	case RACE_ASSERT:
		ctr_inc(CTR_ASSERT_FAILURES);
		break;
	}
	report_print_text(stderr, r);
	return 1;
}

static const char *access_verb(const struct access *a)
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

static void print_access(FILE *f, const struct race *r, const struct access *a,
			 const struct report_frame *fr, int nfr, const char *lead)
{
	fprintf(f, "%s%s to 0x%" PRIx64 " (%s) of %u bytes by thread %d:\n",
		lead, access_verb(a), a->addr, r->var, a->size, a->tid);
	for (int i = 0; i < nfr; i++) {
		fprintf(f, " #%d %s", i, fr[i].func);
		if (fr[i].file[0])
			fprintf(f, " %s:%d", fr[i].file, fr[i].line);
		if (fr[i].inlined)
			fputs(" (inlined)", f);
		fputc('\n', f);
	}
}

static const char *top_func(const struct report_frame *fr, int n)
{
	return n > 0 ? fr[0].func : "??";
}

void report_print_text(FILE *f, const struct race *r)
{
	static const char rule[] =
		"==================================================================";
	const char *fa = top_func(r->fa, r->nfa), *fb = top_func(r->fb, r->nfb);

	fprintf(f, "%s\n", rule);
	if (r->kind == RACE_UNKNOWN_ORIGIN) {
		fprintf(f, "BUG: racewatch: data-race in %s\n\n", fa);
		print_access(f, r, &r->a, r->fa, r->nfa, "race at unknown origin, with ");
	} else {
		/* Sorted names make the title stable whoever came first. */
		const char *x = strcmp(fa, fb) <= 0 ? fa : fb;
		const char *y = x == fa ? fb : fa;

		fprintf(f, "BUG: racewatch: %s in %s / %s\n\n",
			r->kind == RACE_ASSERT ? "assert: race" : "data-race", x, y);
		print_access(f, r, &r->a, r->fa, r->nfa, "");
		fputc('\n', f);
		print_access(f, r, &r->b, r->fb, r->nfb, "");
	}
	if (r->value_known) {
		int w = (int)r->vsize * 2;

		fprintf(f, "\nvalue changed: 0x%0*" PRIx64 " -> 0x%0*" PRIx64 "\n",
			w, r->old_val, w, r->new_val);
	}
	fprintf(f, "%s\n", rule);
	fflush(f);
}
