/*
 * view — `racewatch view FILE.jsonl`: read a JSON-lines report (README,
 * "JSON lines report", schema 1) back into struct race records, so the
 * screens, the titles and the exports are the very ones of a live run.
 *
 * Lenient where the schema allows it: unknown fields and record types are
 * ignored (fields are only ever added), a line that is not a JSON object
 * with a "type" is skipped and counted (a tracer killed mid-write leaves a
 * torn last line).  A file with no record at all is not a report: one-line
 * error, exit status 2.
 *
 * Bounded whatever the file holds: the terminal is checked before the file
 * is read; only a regular file of at most VIEW_MAX_FILE bytes is read (a
 * FIFO or a device could block or never end); a line longer than
 * LINE_MAX_BYTES is skipped without being stored; every number is range-
 * checked before it becomes an int, a pid, a count or a time.
 */
#include "tui.h"
#include "tui_int.h"
#include "jsonread.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LINE_MAX_BYTES	(4u << 20)	/* longer lines are skipped as malformed */
#define VIEW_MAX_FILE	(1ll << 30)	/* a report larger than this is refused */
#define PID_LIMIT	0x3fffffff	/* above any pid_t the kernel hands out */
#define SECS_LIMIT	1e10		/* seconds: a report time beyond ~300 years is nonsense */

static struct race **races;
static int nraces;

static char *dup_str(const struct jr *v)
{
	const char *s = jr_str(v);

	return s ? xstrdup(s) : NULL;
}

/* Range-checked numbers: out of range is the default, never a bad cast. */
static int int_of(const struct jr *v, int lo, int hi, int dflt)
{
	return (int)jr_int(v, lo, hi, dflt);
}

static unsigned uint_of(const struct jr *v, unsigned dflt)
{
	uint64_t x = jr_u64(v, dflt);

	return x <= UINT_MAX ? (unsigned)x : dflt;
}

/* Seconds since the start, as a report time in ns (0 if absent or absurd). */
static uint64_t ns_of(const struct jr *v)
{
	double s = jr_num(v, 0);

	return s >= 0 && s <= SECS_LIMIT ? (uint64_t)(s * 1e9) : 0;
}

static int name_index(const char *s, const char *const *names, int n, int dflt)
{
	for (int i = 0; s && i < n; i++)
		if (names[i] && !strcmp(s, names[i]))
			return i;
	return dflt;
}

static struct report_frame *frames(const struct jr *acc, int *n)
{
	const struct jr *st = jr_get(acc, "stack");
	struct report_frame *fr;
	int k = jr_len(st);

	if (!k) {
		/* No stack on file: frame 0 from the access's own fields. */
		if (!jr_str(jr_get(acc, "function")) && !jr_str(jr_get(acc, "file"))) {
			*n = 0;
			return NULL;
		}
		fr = xcalloc(1, sizeof(*fr));
		fr->pc = jr_u64(jr_get(acc, "pc"), 0);
		fr->func = dup_str(jr_get(acc, "function"));
		fr->file = dup_str(jr_get(acc, "file"));
		fr->line = int_of(jr_get(acc, "line"), 0, INT_MAX, 0);
		*n = 1;
		return fr;
	}
	fr = xcalloc((size_t)k, sizeof(*fr));
	for (int i = 0; i < k; i++) {
		const struct jr *f = jr_at(st, i), *inl = jr_get(f, "inlined");

		fr[i].pc = jr_u64(jr_get(f, "pc"), 0);
		fr[i].func = dup_str(jr_get(f, "function"));
		fr[i].file = dup_str(jr_get(f, "file"));
		fr[i].module = dup_str(jr_get(f, "module"));
		fr[i].modoff = jr_u64(jr_get(f, "offset"), 0);
		fr[i].line = int_of(jr_get(f, "line"), 0, INT_MAX, 0);
		fr[i].inlined = jr_bool(inl, 0);
	}
	*n = k;
	return fr;
}

static void access_of(const struct jr *acc, struct access *a)
{
	static const char *const types[] = { NULL, "read", "write", "read-write" };
	const char *insn = jr_str(jr_get(acc, "instruction"));

	a->type = (enum access_type)name_index(jr_str(jr_get(acc, "type")), types, 4, ACCESS_READ);
	a->mark = (enum marking)name_index(jr_str(jr_get(acc, "marking")), marking_names, MARK_COUNT,
					   MARK_PLAIN);
	a->tid = (pid_t)int_of(jr_get(acc, "thread"), 0, PID_LIMIT, 0);
	a->pc = jr_u64(jr_get(acc, "pc"), 0);
	a->addr = jr_u64(jr_get(acc, "address"), 0);
	a->size = uint_of(jr_get(acc, "size"), 0);
	snprintf(a->insn, sizeof(a->insn), "%s", insn ? insn : "");
}

static void add_race(const struct jr *v)
{
	const struct jr *accs = jr_get(v, "accesses"), *val = jr_get(v, "value");
	struct race *r = xcalloc(1, sizeof(*r));

	r->kind = (enum race_kind)name_index(jr_str(jr_get(v, "kind")), race_kind_names,
					     RACE_KIND_COUNT, RACE_DATA);
	r->id = uint_of(jr_get(v, "id"), (unsigned)nraces + 1);
	r->pid = (pid_t)int_of(jr_get(v, "pid"), 0, PID_LIMIT, 0);
	rw_escape(r->var, sizeof(r->var), jr_str(jr_get(v, "variable")) ? jr_str(jr_get(v, "variable")) : "?");
	if (jr_at(accs, 0)) {
		access_of(jr_at(accs, 0), &r->a);
		r->fa = frames(jr_at(accs, 0), &r->nfa);
	}
	if (jr_at(accs, 1) && r->kind != RACE_UNKNOWN_ORIGIN) {
		access_of(jr_at(accs, 1), &r->b);
		r->fb = frames(jr_at(accs, 1), &r->nfb);
	}
	if (jr_type(val) == JR_OBJ) {
		r->value_known = 1;
		r->vsize = (unsigned)int_of(jr_get(val, "size"), 0, 8, 8);
		r->old_val = jr_u64(jr_get(val, "old"), 0);
		r->new_val = jr_u64(jr_get(val, "new"), 0);
	}
	if (jr_str(jr_get(jr_get(v, "declared"), "file"))) {
		r->decl_file = dup_str(jr_get(jr_get(v, "declared"), "file"));
		r->decl_line = (int)jr_int(jr_get(jr_get(v, "declared"), "line"), 0, 1 << 30, 0);
	}
	if (jr_str(jr_get(v, "address_from")))
		rw_escape(r->via, sizeof(r->via), jr_str(jr_get(v, "address_from")));
	r->count = uint_of(jr_get(v, "count"), 1);
	r->first_ns = ns_of(jr_get(v, "first_seen"));
	r->last_ns = ns_of(jr_get(v, "last_seen"));
	races = xrealloc(races, (size_t)(nraces + 1) * sizeof(*races));
	races[nraces++] = r;
	model_add(r);
}

static void update(const struct jr *v)
{
	unsigned id = uint_of(jr_get(v, "id"), 0);

	for (int i = 0; i < nraces; i++)
		if (races[i]->id == id) {
			races[i]->count = uint_of(jr_get(v, "count"), races[i]->count);
			races[i]->last_ns = ns_of(jr_get(v, "last_seen"));
		}
	model_changed();
}

static void header(const struct jr *v)
{
	const struct jr *argv = jr_get(v, "argv");
	int n = jr_len(argv), k = 0;
	char **a;

	/* The first header describes the file; a later one (two reports
	 * concatenated) is ignored. */
	if (T.argv)
		return;
	a = xcalloc((size_t)n + 1, sizeof(*a));

	for (int i = 0; i < n; i++)
		if (jr_str(jr_at(argv, i)))
			a[k++] = xstrdup(jr_str(jr_at(argv, i)));
	T.argv = a;
	T.cwd = dup_str(jr_get(v, "cwd"));
}

static void end(const struct jr *v)
{
	const struct jr *es = jr_get(v, "exit_status");

	T.ended = 1;
	T.exit_status = int_of(es, 0, 255, -1);
	T.duration = jr_num(jr_get(v, "duration"), 0);
	if (!(T.duration >= 0 && T.duration <= SECS_LIMIT))
		T.duration = 0;
	T.traps = jr_u64(jr_get(jr_get(v, "counters"), "traps"), 0);
}

/* One line: 2 for a record racewatch writes, 1 for another JSON record (a
 * later schema's: ignored), 0 if malformed. */
static int record(const char *line, size_t len)
{
	int known = 2;

	struct jr *v = jr_parse(line, len);
	const char *type = jr_str(jr_get(v, "type"));

	if (jr_type(v) != JR_OBJ || !type) {
		jr_free(v);
		return 0;
	}
	if (!strcmp(type, "header"))
		header(v);
	else if (!strcmp(type, "race"))
		add_race(v);
	else if (!strcmp(type, "update"))
		update(v);
	else if (!strcmp(type, "end"))
		end(v);
	else
		known = 1;
	jr_free(v);
	return known;
}

/* A line without its end: 1 if counted as malformed, else 0. */
static int one_line(const char *s, size_t len, int too_long, int *records)
{
	int kind;

	while (len && s[len - 1] == '\r')
		len--;
	if (!len && !too_long)
		return 0;
	kind = too_long || memchr(s, '\0', len) ? 0 : record(s, len);
	*records += kind == 2;
	return !kind;
}

int view_parse(const char *buf, size_t len)
{
	int records = 0;

	while (len) {
		const char *nl = memchr(buf, '\n', len);
		size_t k = nl ? (size_t)(nl - buf) : len;

		T.malformed += one_line(buf, k > LINE_MAX_BYTES ? 0 : k, k > LINE_MAX_BYTES, &records);
		k += nl != NULL;
		buf += k;
		len -= k;
	}
	return records;
}

static void free_frames(struct report_frame *fr, int n)
{
	for (int i = 0; i < n; i++) {
		free(fr[i].func);
		free(fr[i].file);
		free(fr[i].module);
		free(fr[i].sym);
	}
	free(fr);
}

void view_reset(void)
{
	for (int i = 0; i < nraces; i++) {
		free_frames(races[i]->fa, races[i]->nfa);
		free_frames(races[i]->fb, races[i]->nfb);
		free(races[i]->decl_file);
		free(races[i]);
	}
	free(races);
	races = NULL;
	nraces = 0;
	model_clear();
	for (int i = 0; T.argv && T.argv[i]; i++)
		free(T.argv[i]);
	free(T.argv);
	free(T.cwd);
	T.argv = NULL;
	T.cwd = NULL;
	T.malformed = 0;
	T.ended = 0;
}

/*
 * The next line of f into lb (without its line end).  A line longer than
 * LINE_MAX_BYTES is read to its end but not kept: *too_long is set.
 * 1 for a line, 0 at the end of the file or on an error.
 */
struct line_buf {
	char *s;
	size_t len, cap;
	int too_long;
};

static int next_line(FILE *f, struct line_buf *lb)
{
	int c, any = 0;

	lb->len = 0;
	lb->too_long = 0;
	while ((c = getc_unlocked(f)) != EOF) {
		any = 1;
		if (c == '\n')
			break;
		if (lb->len >= LINE_MAX_BYTES) {
			lb->too_long = 1;
			continue;
		}
		if (lb->len + 1 >= lb->cap) {
			lb->cap = lb->cap ? 2 * lb->cap : 4096;
			lb->s = xrealloc(lb->s, lb->cap);
		}
		lb->s[lb->len++] = (char)c;
	}
	return any;
}

/* Open path for reading: a regular file of a sane size.  NULL after an error. */
static FILE *open_report(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	FILE *f;

	if (fd < 0) {
		rw_error("view: cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > VIEW_MAX_FILE) {
		if (S_ISREG(st.st_mode))
			rw_error("view: %s is too large for a report (%lld bytes, at most %lld)", path,
				 (long long)st.st_size, VIEW_MAX_FILE);
		else
			rw_error("view: %s is not a regular file", path);
		close(fd);
		return NULL;
	}
	if (!(f = fdopen(fd, "r"))) {
		rw_error("view: cannot open %s: %s", path, strerror(errno));
		close(fd);
	}
	return f;
}

int tui_view(const char *path)
{
	struct line_buf lb = { 0 };
	int records = 0;
	FILE *f;

	/* The terminal first: without one, the file is not even read. */
	if (tui_view_terminal() < 0)
		return 2;
	if (!(f = open_report(path)))
		return 2;
	T.path = path;
	T.exit_status = -1;
	while (next_line(f, &lb))
		T.malformed += one_line(lb.s, lb.len, lb.too_long, &records);
	free(lb.s);
	if (ferror(f)) {
		rw_error("view: cannot read %s: %s", path, strerror(errno));
		fclose(f);
		return 2;
	}
	fclose(f);
	if (!records) {
		rw_error("view: %s is not a racewatch JSON lines report (%s)", path,
			 T.malformed ? "no line is a racewatch record" : "empty");
		return 2;
	}
	return tui_run_view();
}
