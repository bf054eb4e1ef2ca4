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

/* Length of the valid UTF-8 sequence at s, or 0 if s starts an invalid one. */
static int utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	int n;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	/* No overlong forms, no UTF-16 surrogates, nothing above U+10FFFF. */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (int i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

void json_string(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	while (*s) {
		unsigned char c = *s;
		int n;

		switch (c) {
		case '"':  fputs("\\\"", f); s++; continue;
		case '\\': fputs("\\\\", f); s++; continue;
		case '\b': fputs("\\b", f); s++; continue;
		case '\f': fputs("\\f", f); s++; continue;
		case '\n': fputs("\\n", f); s++; continue;
		case '\r': fputs("\\r", f); s++; continue;
		case '\t': fputs("\\t", f); s++; continue;
		}
		if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			s++;
		} else if (c < 0x80) {
			fputc(c, f);
			s++;
		} else if ((n = utf8_len(s)) == 2 && c == 0xc2 && s[1] < 0xa0) {
			/* C1 controls (U+0080-U+009F) steer terminals too: escaped. */
			fprintf(f, "\\u%04x", s[1]);
			s += 2;
		} else if (n > 0) {
			fwrite(s, 1, (size_t)n, f);
			s += n;
		} else {
			fputs("\\ufffd", f);	/* not UTF-8: the replacement character */
			s++;
		}
	}
	fputc('"', f);
}

static void json_hex(FILE *f, uint64_t v)
{
	fprintf(f, "\"0x%" PRIx64 "\"", v);
}

/* Seconds since report_init, as report times are given. */
static void json_time(FILE *f, uint64_t ns)
{
	fprintf(f, "%.6f", ns > report_start_ns ? (double)(ns - report_start_ns) / 1e9 : 0.0);
}

void json_argv(FILE *f, char *const *argv)
{
	fputc('[', f);
	for (int i = 0; argv && argv[i]; i++) {
		if (i)
			fputc(',', f);
		json_string(f, argv[i]);
	}
	fputc(']', f);
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

/* A record is complete: flush it, or stop writing after the first failure. */
static void json_done(void)
{
	if (outfile_flush(&jo) < 0)
		jf = NULL;
}

int report_json_begin(void)
{
	char cwd[4096], when[64];
	time_t t = (time_t)report_start_wall;
	struct tm tm;

	if (!jo.f || jo.begun)
		return jo.failed ? -1 : 0;
	if (outfile_begin(&jo) < 0)
		return -1;
	jf = jo.f;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(jf, "{\"type\":\"header\",\"schema\":%d,\"tool\":\"racewatch\",\"version\":\"%s\","
		"\"pid\":%d,\"argv\":", JSON_SCHEMA, RACEWATCH_VERSION, (int)getpid());
	json_argv(jf, hdr_argv);
	if (hdr_attached > 0) {
		/* attach: which process, and its command line as it was. */
		fprintf(jf, ",\"attach\":{\"pid\":%d,\"cmdline\":", (int)hdr_attached);
		json_argv(jf, hdr_argv);
		fputc('}', jf);
	}
	fputs(",\"cwd\":", jf);
	json_string(jf, getcwd(cwd, sizeof(cwd)) ? cwd : NULL);
	fprintf(jf, ",\"start_time\":\"%s\",\"start_unix\":%.6f}\n", when, report_start_wall);
	json_done();
	return jo.failed ? -1 : 0;
}

static void json_frame(const struct report_frame *fr)
{
	fputs("{\"pc\":", jf);
	json_hex(jf, fr->pc);
	fputs(",\"function\":", jf);
	json_string(jf, fr->func);
	fputs(",\"file\":", jf);
	json_string(jf, fr->file);
	if (fr->line)
		fprintf(jf, ",\"line\":%d", fr->line);
	else
		fputs(",\"line\":null", jf);
	fprintf(jf, ",\"inlined\":%s,\"module\":", fr->inlined ? "true" : "false");
	json_string(jf, fr->module);
	fputs(",\"offset\":", jf);
	json_hex(jf, fr->modoff);
	fputc('}', jf);
}

static void json_access(const struct access *a, const struct report_frame *fr, int n)
{
	static const char *const types[] = {
		[ACCESS_READ] = "read", [ACCESS_WRITE] = "write", [ACCESS_RMW] = "read-write",
	};
	const struct report_frame *top = n > 0 ? &fr[0] : NULL;

	fprintf(jf, "{\"type\":\"%s\",\"marking\":\"%s\",\"verb\":",
		(unsigned)a->type < ARRAY_SIZE(types) && types[a->type] ? types[a->type] : "?",
		(unsigned)a->mark < MARK_COUNT ? marking_names[a->mark] : "?");
	json_string(jf, report_access_verb(a));
	fprintf(jf, ",\"thread\":%d,\"pc\":", (int)a->tid);
	json_hex(jf, a->pc);
	fputs(",\"address\":", jf);
	json_hex(jf, a->addr);
	fprintf(jf, ",\"size\":%u,\"instruction\":", a->size);
	json_string(jf, a->insn[0] ? a->insn : NULL);
	fputs(",\"function\":", jf);
	json_string(jf, top ? top->func : NULL);
	fputs(",\"file\":", jf);
	json_string(jf, top ? top->file : NULL);
	if (top && top->line)
		fprintf(jf, ",\"line\":%d", top->line);
	else
		fputs(",\"line\":null", jf);
	fputs(",\"stack\":[", jf);
	for (int i = 0; i < n; i++) {
		if (i)
			fputc(',', jf);
		json_frame(&fr[i]);
	}
	fputs("]}", jf);
}

void report_json_race(const struct race *r)
{
	char title[600];

	if (!jf)
		return;
	report_title(title, sizeof(title), r);
	fprintf(jf, "{\"type\":\"race\",\"schema\":%d,\"id\":%u,\"kind\":\"%s\",\"title\":",
		JSON_SCHEMA, r->id, race_kind_names[r->kind]);
	json_string(jf, title);
	fprintf(jf, ",\"pid\":%d,\"variable\":", (int)r->pid);
	json_string(jf, r->var);
	fputs(",\"address\":", jf);
	json_hex(jf, r->a.addr);
	fprintf(jf, ",\"size\":%u,\"declared\":", r->a.size);
	if (r->decl_file) {
		fputs("{\"file\":", jf);
		json_string(jf, r->decl_file);
		fprintf(jf, ",\"line\":%d}", r->decl_line);
	} else {
		fputs("null", jf);
	}
	fputs(",\"address_from\":", jf);
	json_string(jf, r->via[0] ? r->via : NULL);
	fputs(",\"accesses\":[", jf);
	json_access(&r->a, r->fa, r->nfa);
	if (r->kind != RACE_UNKNOWN_ORIGIN) {
		fputc(',', jf);
		json_access(&r->b, r->fb, r->nfb);
	}
	fputs("],\"value\":", jf);
	if (r->value_known) {
		int w = (int)r->vsize * 2;

		fprintf(jf, "{\"size\":%u,\"old\":\"0x%0*" PRIx64 "\",\"new\":\"0x%0*" PRIx64 "\"}",
			r->vsize, w, r->old_val, w, r->new_val);
	} else {
		fputs("null", jf);
	}
	fprintf(jf, ",\"count\":%u,\"first_seen\":", r->count);
	json_time(jf, r->first_ns);
	fputs(",\"last_seen\":", jf);
	json_time(jf, r->last_ns);
	fputs("}\n", jf);
	json_done();
}

static void json_update(struct race *r)
{
	fprintf(jf, "{\"type\":\"update\",\"schema\":%d,\"id\":%u,\"count\":%u,\"last_seen\":",
		JSON_SCHEMA, r->id, r->count);
	json_time(jf, r->last_ns);
	fputs("}\n", jf);
	json_done();
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
	if (jf) {
		fprintf(jf, "{\"type\":\"end\",\"schema\":%d,\"races\":%d,\"suppressed\":%llu,"
			"\"duration\":", JSON_SCHEMA, n,
			(unsigned long long)counters[CTR_SUPPRESSED]);
		json_time(jf, now_ns());
		fprintf(jf, ",\"watched\":%d,\"backend\":", report_summary.watched);
		if (report_summary.backend)
			fprintf(jf, "\"%s\"", report_summary.backend);
		else
			fputs("null", jf);
		if (report_summary.notice[0]) {
			fputs(",\"notice\":", jf);
			json_string(jf, report_summary.notice);
		}
		if (exit_status >= 0)
			fprintf(jf, ",\"exit_status\":%d", exit_status);
		else
			fputs(",\"exit_status\":null", jf);
		fputs(",\"counters\":{", jf);
		for (int i = 0; i < CTR_COUNT; i++)
			fprintf(jf, "%s\"%s\":%llu", i ? "," : "", counter_names[i],
				(unsigned long long)counters[i]);
		fputs("}}\n", jf);
	}
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
