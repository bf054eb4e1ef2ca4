/*
 * -o FILE.jsonl: one JSON object per line, flushed as written, so a tracer
 * killed at any point leaves every race it had found on file.  The records
 * and their fields are documented in doc/schema.md; this
 * is schema 1.  Fields are only ever added within a schema version.
 *
 *   header   first line: who wrote the file, for which program, when
 *   race     a new race, with both stacks (count 1)
 *   update   a known race was seen again: its new count and last_seen.
 *            Written when the count changed, at most once per second per
 *            race while running, and once more at exit for every race
 *            whose count on file is behind.  Counts are totals, not deltas:
 *            the last update of an id wins.
 *   end      last line of a clean exit: totals and the counters
 */
#include "report.h"
#include "counters.h"
#include "jsonwrite.h"
#include "outfile.h"
#include "options.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define JSON_SCHEMA 1

static struct outfile jo;	/* opened at report_json_open, truncated at begin */
static FILE *jf;		/* jo.f from report_json_begin until a write fails or close */
static char *const *hdr_argv;	/* the traced command line, for the header */
static pid_t hdr_attached;	/* attach: its pid, else 0 */

/* Seconds since report_init, as report times are given. */
static struct json_object *json_time(uint64_t ns)
{
	return jw_secs(ns > report_start_ns ? (double)(ns - report_start_ns) / 1e9 : 0.0);
}

int report_json_open(const char *path, char *const *argv, pid_t attached,
		     char *err, size_t errlen)
{
	hdr_argv = argv;
	hdr_attached = attached;
	/* "-": JSON lines on stdout (shared with the program's own stdout
	 * under run: each record is one write of a whole line). */
	if (!strcmp(path, "-")) {
		memset(&jo, 0, sizeof(jo));
		jo.opt = "-o";
		jo.f = stdout;
		return 0;
	}
	return outfile_open(&jo, "-o", path, err, errlen);
}

int report_json_id(dev_t *dev, ino_t *ino)
{
	if (!jo.path)
		return -1;
	*dev = jo.dev;
	*ino = jo.ino;
	return 0;
}

/* Record rec is complete: write it as one line and flush, or stop writing
 * after the first failure.  Releases rec. */
static void json_done(struct json_object *rec)
{
	jw_line(jf, rec);
	if (outfile_flush(&jo) < 0)
		jf = NULL;
}

/* A record of type type, with its schema. */
static struct json_object *record(const char *type)
{
	struct json_object *o = jw_obj();

	jw_set(o, "type", jw_str(type));
	jw_set(o, "schema", jw_int(JSON_SCHEMA));
	return o;
}

int report_json_begin(void)
{
	char cwd[4096], when[64];
	time_t t = (time_t)report_start_wall;
	struct json_object *h;
	struct tm tm;

	if (!jo.f || jo.begun)
		return jo.failed ? -1 : 0;
	if (outfile_begin(&jo) < 0)
		return -1;
	jf = jo.f;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	h = record("header");
	jw_set(h, "tool", jw_str("racewatch"));
	jw_set(h, "version", jw_str(RACEWATCH_VERSION));
	jw_set(h, "pid", jw_int(getpid()));
	jw_set(h, "argv", jw_argv(hdr_argv));
	if (hdr_attached > 0) {
		/* attach: which process, and its command line as it was. */
		struct json_object *at = jw_obj();

		jw_set(at, "pid", jw_int(hdr_attached));
		jw_set(at, "cmdline", jw_argv(hdr_argv));
		jw_set(h, "attach", at);
	}
	jw_set(h, "cwd", jw_str(getcwd(cwd, sizeof(cwd)) ? cwd : NULL));
	jw_set(h, "start_time", jw_str(when));
	jw_set(h, "start_unix", jw_secs(report_start_wall));
	json_done(h);
	return jo.failed ? -1 : 0;
}

/* A source line, or null when unknown (0). */
static struct json_object *json_line(int line)
{
	return line ? jw_int(line) : NULL;
}

static struct json_object *json_frame(const struct report_frame *fr)
{
	struct json_object *o = jw_obj();

	jw_set(o, "pc", jw_hex(fr->pc));
	jw_set(o, "function", jw_str(fr->func));
	jw_set(o, "file", jw_str(fr->file));
	jw_set(o, "line", json_line(fr->line));
	jw_set(o, "inlined", jw_bool(fr->inlined));
	jw_set(o, "module", jw_str(fr->module));
	jw_set(o, "offset", jw_hex(fr->modoff));
	return o;
}

static struct json_object *json_access(const struct access *a, const struct report_frame *fr, int n)
{
	static const char *const types[] = {
		[ACCESS_READ] = "read", [ACCESS_WRITE] = "write", [ACCESS_RMW] = "read-write",
	};
	const struct report_frame *top = n > 0 ? &fr[0] : NULL;
	struct json_object *o = jw_obj(), *stack = jw_arr();

	jw_set(o, "type", jw_str((unsigned)a->type < ARRAY_SIZE(types) && types[a->type]
				 ? types[a->type] : "?"));
	jw_set(o, "marking", jw_str((unsigned)a->mark < MARK_COUNT ? marking_names[a->mark] : "?"));
	jw_set(o, "verb", jw_str(report_access_verb(a)));
	jw_set(o, "thread", jw_int(a->tid));
	jw_set(o, "pc", jw_hex(a->pc));
	jw_set(o, "address", jw_hex(a->addr));
	jw_set(o, "size", jw_uint(a->size));
	jw_set(o, "instruction", jw_str(a->insn[0] ? a->insn : NULL));
	jw_set(o, "function", jw_str(top ? top->func : NULL));
	jw_set(o, "file", jw_str(top ? top->file : NULL));
	jw_set(o, "line", json_line(top ? top->line : 0));
	for (int i = 0; i < n; i++)
		jw_push(stack, json_frame(&fr[i]));
	jw_set(o, "stack", stack);
	return o;
}

/* The value seen changing, its width fixed by vsize; null when unknown. */
static struct json_object *json_value(const struct race *r)
{
	int w = (int)r->vsize * 2;
	char old[24], new[24];
	struct json_object *o;

	if (!r->value_known)
		return NULL;
	snprintf(old, sizeof(old), "0x%0*" PRIx64, w, r->old_val);
	snprintf(new, sizeof(new), "0x%0*" PRIx64, w, r->new_val);
	o = jw_obj();
	jw_set(o, "size", jw_uint(r->vsize));
	jw_set(o, "old", jw_str(old));
	jw_set(o, "new", jw_str(new));
	return o;
}

void report_json_race(const struct race *r)
{
	char title[600];
	struct json_object *o, *decl = NULL, *accs;

	if (!jf)
		return;
	report_title(title, sizeof(title), r);
	o = record("race");
	jw_set(o, "id", jw_uint(r->id));
	jw_set(o, "kind", jw_str(race_kind_names[r->kind]));
	jw_set(o, "title", jw_str(title));
	jw_set(o, "pid", jw_int(r->pid));
	jw_set(o, "variable", jw_str(r->var));
	jw_set(o, "address", jw_hex(r->a.addr));
	jw_set(o, "size", jw_uint(r->a.size));
	if (r->decl_file) {
		decl = jw_obj();
		jw_set(decl, "file", jw_str(r->decl_file));
		jw_set(decl, "line", jw_int(r->decl_line));
	}
	jw_set(o, "declared", decl);
	jw_set(o, "address_from", jw_str(r->via[0] ? r->via : NULL));
	accs = jw_arr();
	jw_push(accs, json_access(&r->a, r->fa, r->nfa));
	if (r->kind != RACE_UNKNOWN_ORIGIN)
		jw_push(accs, json_access(&r->b, r->fb, r->nfb));
	jw_set(o, "accesses", accs);
	jw_set(o, "value", json_value(r));
	jw_set(o, "count", jw_uint(r->count));
	jw_set(o, "first_seen", json_time(r->first_ns));
	jw_set(o, "last_seen", json_time(r->last_ns));
	json_done(o);
}

static void json_update(struct race *r)
{
	struct json_object *o = record("update");

	jw_set(o, "id", jw_uint(r->id));
	jw_set(o, "count", jw_uint(r->count));
	jw_set(o, "last_seen", json_time(r->last_ns));
	json_done(o);
	r->json_count = r->count;
	r->json_ns = r->last_ns;
}

void report_json_repeat(struct race *r)
{
	if (!jf)
		return;
	if (!r->json_count) {
		/* First repeat: the race record carried count 1 at first_ns. */
		r->json_count = 1;
		r->json_ns = r->first_ns;
	}
	if (r->count != r->json_count && r->last_ns - r->json_ns >= REPORT_JSON_UPDATE_NS)
		json_update(r);
}

/* The last record of a run that began. */
static void json_end(int n, int exit_status)
{
	struct json_object *o = record("end"), *ctr = jw_obj();

	jw_set(o, "races", jw_int(n));
	jw_set(o, "suppressed", jw_uint(counters[CTR_SUPPRESSED]));
	jw_set(o, "duration", json_time(now_ns()));
	jw_set(o, "watched", jw_int(report_summary.watched));
	jw_set(o, "backend", jw_str(report_summary.backend));
	if (report_summary.notice[0])
		jw_set(o, "notice", jw_str(report_summary.notice));
	jw_set(o, "exit_status", exit_status >= 0 ? jw_int(exit_status) : NULL);
	for (int i = 0; i < CTR_COUNT; i++)
		jw_set(ctr, counter_names[i], jw_uint(counters[i]));
	jw_set(o, "counters", ctr);
	json_done(o);
}

int report_json_close(struct race *const *v, int n, int exit_status)
{
	if (!jo.f)
		return jo.failed ? -1 : 0;
	if (!jo.begun) {
		/* The run never started: the file stays as it was. */
		outfile_abandon(&jo);
		return 0;
	}
	for (int i = 0; jf && i < n; i++)
		if (v[i]->count != (v[i]->json_count ? v[i]->json_count : 1))
			json_update(v[i]);
	if (jf)
		json_end(n, exit_status);
	jf = NULL;
	return outfile_close(&jo);
}

static int json_sink_race(const struct race *r)
{
	report_json_race(r);
	return 0;
}

static int json_sink_finish(struct race *const *v, int n, int exit_status, int begun)
{
	(void)begun;	/* the file knows whether the run began */
	return report_json_close(v, n, exit_status);
}

const struct report_sink report_sink_json = {
	.name = "json",
	.begin = report_json_begin,
	.race = json_sink_race,
	.repeat = report_json_repeat,
	.finish = json_sink_finish,
};
