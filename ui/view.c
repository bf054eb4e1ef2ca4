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
 */
#include "tui.h"
#include "tui_int.h"
#include "jsonread.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_BYTES	(64u << 20)	/* longer lines are skipped as malformed */

static struct race **races;
static int nraces;

static char *dup_str(const struct jr *v)
{
	const char *s = jr_str(v);

	return s ? xstrdup(s) : NULL;
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
	int k = st && st->t == JR_ARR ? st->n : 0;

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
		fr->line = (int)jr_num(jr_get(acc, "line"), 0);
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
		fr[i].line = (int)jr_num(jr_get(f, "line"), 0);
		fr[i].inlined = inl && inl->t == JR_BOOL && inl->b;
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
	a->tid = (pid_t)jr_num(jr_get(acc, "thread"), 0);
	a->pc = jr_u64(jr_get(acc, "pc"), 0);
	a->addr = jr_u64(jr_get(acc, "address"), 0);
	a->size = (unsigned)jr_u64(jr_get(acc, "size"), 0);
	snprintf(a->insn, sizeof(a->insn), "%s", insn ? insn : "");
}

static void add_race(const struct jr *v)
{
	const struct jr *accs = jr_get(v, "accesses"), *val = jr_get(v, "value");
	struct race *r = xcalloc(1, sizeof(*r));

	r->kind = (enum race_kind)name_index(jr_str(jr_get(v, "kind")), race_kind_names,
					     RACE_KIND_COUNT, RACE_DATA);
	r->id = (unsigned)jr_u64(jr_get(v, "id"), (uint64_t)nraces + 1);
	r->pid = (pid_t)jr_num(jr_get(v, "pid"), 0);
	rw_escape(r->var, sizeof(r->var), jr_str(jr_get(v, "variable")) ? jr_str(jr_get(v, "variable")) : "?");
	if (jr_at(accs, 0)) {
		access_of(jr_at(accs, 0), &r->a);
		r->fa = frames(jr_at(accs, 0), &r->nfa);
	}
	if (jr_at(accs, 1) && r->kind != RACE_UNKNOWN_ORIGIN) {
		access_of(jr_at(accs, 1), &r->b);
		r->fb = frames(jr_at(accs, 1), &r->nfb);
	}
	if (val && val->t == JR_OBJ) {
		r->value_known = 1;
		r->vsize = (unsigned)jr_u64(jr_get(val, "size"), 0);
		if (r->vsize > 8)
			r->vsize = 8;
		r->old_val = jr_u64(jr_get(val, "old"), 0);
		r->new_val = jr_u64(jr_get(val, "new"), 0);
	}
	if (jr_str(jr_get(jr_get(v, "declared"), "file"))) {
		r->decl_file = dup_str(jr_get(jr_get(v, "declared"), "file"));
		r->decl_line = (int)jr_num(jr_get(jr_get(v, "declared"), "line"), 0);
	}
	if (jr_str(jr_get(v, "address_from")))
		rw_escape(r->via, sizeof(r->via), jr_str(jr_get(v, "address_from")));
	r->count = (unsigned)jr_u64(jr_get(v, "count"), 1);
	r->first_ns = (uint64_t)(jr_num(jr_get(v, "first_seen"), 0) * 1e9);
	r->last_ns = (uint64_t)(jr_num(jr_get(v, "last_seen"), 0) * 1e9);
	races = xrealloc(races, (size_t)(nraces + 1) * sizeof(*races));
	races[nraces++] = r;
	model_add(r);
}

static void update(const struct jr *v)
{
	unsigned id = (unsigned)jr_u64(jr_get(v, "id"), 0);

	for (int i = 0; i < nraces; i++)
		if (races[i]->id == id) {
			races[i]->count = (unsigned)jr_u64(jr_get(v, "count"), races[i]->count);
			races[i]->last_ns = (uint64_t)(jr_num(jr_get(v, "last_seen"), 0) * 1e9);
		}
	model_changed();
}

static void header(const struct jr *v)
{
	const struct jr *argv = jr_get(v, "argv");
	int n = argv && argv->t == JR_ARR ? argv->n : 0, k = 0;
	char **a = xcalloc((size_t)n + 1, sizeof(*a));

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
	T.exit_status = es && es->t == JR_NUM ? (int)es->num : -1;
	T.duration = jr_num(jr_get(v, "duration"), 0);
	T.traps = jr_u64(jr_get(jr_get(v, "counters"), "traps"), 0);
}

/* One line: 2 for a record racewatch writes, 1 for another JSON record (a
 * later schema's: ignored), 0 if malformed. */
static int record(const char *line, size_t len)
{
	int known = 2;

	struct jr *v = jr_parse(line, len);
	const char *type = jr_str(jr_get(v, "type"));

	if (!v || v->t != JR_OBJ || !type) {
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

int tui_view(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int records = 0, kind;

	if (!f) {
		rw_error("view: cannot open %s: %s", path, strerror(errno));
		return 2;
	}
	T.path = path;
	T.exit_status = -1;
	while ((n = getline(&line, &cap, f)) >= 0) {
		size_t len = (size_t)n;

		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		if (!len)
			continue;
		kind = len > LINE_MAX_BYTES || memchr(line, '\0', len) ? 0 : record(line, len);
		if (!kind)
			T.malformed++;
		records += kind == 2;
	}
	free(line);
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
