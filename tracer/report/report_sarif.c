/*
 * --sarif FILE: a SARIF 2.1.0 log for code-scanning tools.  One run; one
 * rule per race kind (data-race, unknown-origin, assert); one result per
 * reported race, located at its first access (the stalled thread's), the
 * other access as relatedLocations[0], both stacks under result.stacks.
 * Source paths under the working directory are relative to the uriBaseId
 * SRCROOT (the working directory), others are absolute file: URIs.
 *
 * Written whole (outfile_replace: a temporary file renamed over a regular
 * target, in place for anything else): once when the run starts, with no
 * results and executionSuccessful false (so a killed tracer leaves a valid
 * log that says it did not finish; a regular file only), then again at
 * exit.  Before the run
 * starts nothing is written: a bad command line leaves the old log.
 */
#include "report.h"
#include "outfile.h"
#include "options.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char *sarif_path;
static struct race *const *fin_v;	/* the races of the final log (sarif_finish) */
static int fin_n;
static int sarif_failed;	/* a write failed and was reported: no more tries */
static char *const *sarif_self;		/* racewatch's argv: invocation arguments */
static char *const *sarif_prog;		/* the traced command: a property */

/*
 * One rule per race kind.  help is what code-scanning UIs show under a
 * result (GitHub requires it, sarif-multitool's GH rules check it): what
 * the report means and what to do about it, as plain text and Markdown.
 */
static const struct {
	const char *name, *level, *brief, *full, *help, *help_md;
} rules[RACE_KIND_COUNT] = {
	[RACE_DATA] = { "DataRace", "error", "Data race.",
		"Two threads accessed the same bytes concurrently (one of them was stopped right "
		"after its access while the other reached the same bytes), at least one of them "
		"writing, and the access-marking rules say the pair races.",
		"Two threads accessed the same variable at the same time, at least one writing, "
		"without synchronization ordering them. Protect both accesses with the same lock, "
		"make them atomic, or mark them (READ_ONCE/WRITE_ONCE from racewatch.h) if the race "
		"is intended. Both stacks are in the result; racewatch --gdb-script reproduces it "
		"in gdb.",
		"Two threads accessed the same variable **at the same time**, at least one "
		"writing, with nothing ordering them.\n\n"
		"* Protect both accesses with the same lock, or\n"
		"* make them atomic (`__atomic_*`, `_Atomic`), or\n"
		"* if the race is intended, mark it: `READ_ONCE()`/`WRITE_ONCE()` or "
		"`data_race()` from `racewatch.h`.\n\n"
		"Both stacks are in the result; `racewatch --gdb-script DIR` writes a gdb "
		"command file that stops at both accesses (see `man racewatch`)." },
	[RACE_UNKNOWN_ORIGIN] = { "RaceOfUnknownOrigin", "warning", "Race of unknown origin.",
		"The watched value changed while a thread was stopped right after accessing it, "
		"and no traced access explains the change: a write by the kernel, another process "
		"or a thread that is not traced.",
		"The watched value changed while a thread was stopped right after accessing it, "
		"and no traced thread wrote it: the writer is the kernel (a syscall filling the "
		"buffer), another process sharing the memory, or a thread racewatch does not "
		"trace. Check who else can write this memory.",
		"The watched value **changed under a stalled thread** and no traced thread "
		"wrote it.\n\nLikely writers: the kernel (a syscall filling the buffer), "
		"another process sharing the memory, or an untraced thread (run with "
		"`--follow-fork` for children). Check who else can write this memory." },
	[RACE_ASSERT] = { "ExclusiveAccessAssertion", "error", "Exclusive-access assertion violated.",
		"ASSERT_EXCLUSIVE_ACCESS or ASSERT_EXCLUSIVE_WRITER declared that no other thread "
		"may access (or write) the variable here, and another thread did concurrently.",
		"The program asserted with ASSERT_EXCLUSIVE_ACCESS or ASSERT_EXCLUSIVE_WRITER that "
		"no other thread accesses (or writes) the variable here, and another thread did "
		"at the same time. Either the locking the assertion relies on is missing, or the "
		"assertion is wrong.",
		"The program asserted (`ASSERT_EXCLUSIVE_ACCESS` / `ASSERT_EXCLUSIVE_WRITER`) "
		"that it has the variable to itself here, and **another thread accessed it "
		"concurrently**.\n\nEither the locking the assertion relies on is missing, "
		"or the assertion is wrong." },
};

/* s percent-encoded for a URI path: unreserved characters and '/' stay. */
static void uri_path(FILE *f, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~' || c == '/')
			fputc(c, f);
		else
			fprintf(f, "%%%c%c", hex[c >> 4], hex[c & 15]);
	}
}

static void artifact(FILE *f, const char *file)
{
	const char *rel = report_short_path(file);

	fputs("\"artifactLocation\":{\"uri\":\"", f);
	if (rel[0] == '/') {
		fputs("file://", f);
		uri_path(f, rel);
		fputs("\"}", f);
	} else {
		uri_path(f, rel);
		fputs("\",\"uriBaseId\":\"SRCROOT\"}", f);
	}
}

/* A location object for frame fr (the top frame of an access, or any frame). */
static void location(FILE *f, const struct report_frame *fr, int id, const char *msg)
{
	fputc('{', f);
	if (id >= 0)
		fprintf(f, "\"id\":%d,", id);
	fputs("\"physicalLocation\":{", f);
	if (fr->file) {
		artifact(f, fr->file);
		if (fr->line > 0)
			fprintf(f, ",\"region\":{\"startLine\":%d}", fr->line);
	} else {
		fprintf(f, "\"address\":{\"absoluteAddress\":%" PRIu64 "}", fr->pc);
	}
	fputc('}', f);
	if (fr->func) {
		fputs(",\"logicalLocations\":[{\"name\":", f);
		json_string(f, fr->func);
		fputs(",\"kind\":\"function\"}]", f);
	}
	if (msg) {
		fputs(",\"message\":{\"text\":", f);
		json_string(f, msg);
		fputc('}', f);
	}
	fputc('}', f);
}

static void stack(FILE *f, const struct access *a, const struct report_frame *fr, int n,
		  const char *msg)
{
	fputs("{\"message\":{\"text\":", f);
	json_string(f, msg);
	fputs("},\"frames\":[", f);
	for (int i = 0; i < n; i++) {
		fputs(i ? ",{\"location\":" : "{\"location\":", f);
		location(f, &fr[i], -1, NULL);
		if (fr[i].module) {
			fputs(",\"module\":", f);
			json_string(f, fr[i].module);
		}
		fprintf(f, ",\"threadId\":%d}", (int)a->tid);
	}
	fputs("]}", f);
}

/* "write by thread 12 in update_foo at samples/basic/race_rw.c:58" */
static void describe(char *buf, size_t len, const struct access *a,
		     const struct report_frame *fr, int n)
{
	const struct report_frame *top = n > 0 ? &fr[0] : NULL;
	int k = snprintf(buf, len, "%s by thread %d", report_access_verb(a), (int)a->tid);

	if (k < 0 || (size_t)k >= len)
		return;
	if (top && top->func)
		k += snprintf(buf + k, len - (size_t)k, " in %s", top->func);
	if (k >= 0 && (size_t)k < len && top && top->file)
		snprintf(buf + k, len - (size_t)k, " at %s:%d", report_short_path(top->file), top->line);
}

/* FNV-1a over what identifies a race across runs: no addresses. */
static uint64_t fnv(uint64_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return (h ^ 0xff) * 0x100000001b3ull;
}

static uint64_t fingerprint(const struct race *r)
{
	char la[600] = "", lb[600] = "";
	uint64_t h = 0xcbf29ce484222325ull;

	if (r->nfa)
		snprintf(la, sizeof(la), "%s@%s:%d", r->fa[0].func ? r->fa[0].func : "",
			 report_short_path(r->fa[0].file), r->fa[0].line);
	if (r->nfb)
		snprintf(lb, sizeof(lb), "%s@%s:%d", r->fb[0].func ? r->fb[0].func : "",
			 report_short_path(r->fb[0].file), r->fb[0].line);
	h = fnv(h, race_kind_names[r->kind]);
	h = fnv(h, r->var);
	/* Unordered pair: whichever thread was stalled, same fingerprint. */
	h = fnv(h, strcmp(la, lb) <= 0 ? la : lb);
	h = fnv(h, strcmp(la, lb) <= 0 ? lb : la);
	return h;
}

static void result(FILE *f, const struct race *r)
{
	char da[1024], db[1024], msg[2600], title[600];

	describe(da, sizeof(da), &r->a, r->fa, r->nfa);
	describe(db, sizeof(db), &r->b, r->fb, r->nfb);
	report_title(title, sizeof(title), r);
	if (r->kind == RACE_UNKNOWN_ORIGIN)
		snprintf(msg, sizeof(msg), "Race of unknown origin on %s: its value changed after a %s, "
			 "and no traced access explains it.", r->var, da);
	else
		snprintf(msg, sizeof(msg), "%s on %s: %s, concurrently with a %s.",
			 r->kind == RACE_ASSERT ? "Exclusive-access assertion violated" : "Data race",
			 r->var, da, db);
	fprintf(f, "{\"ruleId\":\"%s\",\"ruleIndex\":%d,\"level\":\"%s\",\"message\":{\"text\":",
		race_kind_names[r->kind], (int)r->kind, rules[r->kind].level);
	json_string(f, msg);
	fputs("},\"locations\":[", f);
	if (r->nfa)
		location(f, &r->fa[0], -1, NULL);
	fputc(']', f);
	if (r->kind != RACE_UNKNOWN_ORIGIN && r->nfb) {
		fputs(",\"relatedLocations\":[", f);
		location(f, &r->fb[0], 1, db);
		fputc(']', f);
	}
	fputs(",\"stacks\":[", f);
	stack(f, &r->a, r->fa, r->nfa, da);
	if (r->kind != RACE_UNKNOWN_ORIGIN) {
		fputc(',', f);
		stack(f, &r->b, r->fb, r->nfb, db);
	}
	fprintf(f, "],\"partialFingerprints\":{\"racewatchRace/v1\":\"%016" PRIx64 "\"}", fingerprint(r));
	fprintf(f, ",\"properties\":{\"racewatchId\":%u,\"title\":", r->id);
	json_string(f, title);
	fputs(",\"variable\":", f);
	json_string(f, r->var);
	fprintf(f, ",\"address\":\"0x%" PRIx64 "\",\"size\":%u,\"count\":%u", r->a.addr, r->a.size, r->count);
	if (r->value_known)
		fprintf(f, ",\"oldValue\":\"0x%0*" PRIx64 "\",\"newValue\":\"0x%0*" PRIx64 "\"",
			(int)r->vsize * 2, r->old_val, (int)r->vsize * 2, r->new_val);
	if (r->decl_file) {
		fputs(",\"declaredAt\":", f);
		json_string(f, report_short_path(r->decl_file));
		fprintf(f, ",\"declaredLine\":%d", r->decl_line);
	}
	if (r->via[0]) {
		fputs(",\"addressFrom\":", f);
		json_string(f, r->via);
	}
	fputs("}}", f);
}

static void utc(char *buf, size_t len, double t)
{
	time_t s = (time_t)t;
	struct tm tm;
	int ms = (int)((t - (double)s) * 1000);

	gmtime_r(&s, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + strlen(buf), len - strlen(buf), ".%03dZ", ms < 0 ? 0 : ms > 999 ? 999 : ms);
}

static void write_log(FILE *f, int nr, int exit_status, int final)
{
	char cwd[4096], start[64], end[64];
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	utc(start, sizeof(start), report_start_wall);
	utc(end, sizeof(end), (double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
	if (!getcwd(cwd, sizeof(cwd)))
		strcpy(cwd, "/");
	fputs("{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\",\"version\":\"2.1.0\","
	      "\"runs\":[{\"tool\":{\"driver\":{\"name\":\"racewatch\",\"version\":\"" RACEWATCH_VERSION "\","
	      "\"semanticVersion\":\"" RACEWATCH_VERSION "\",\"informationUri\":\"" RACEWATCH_URL "\","
	      "\"rules\":[", f);
	for (int k = 0; k < RACE_KIND_COUNT; k++) {
		fprintf(f, "%s{\"id\":\"%s\",\"name\":\"%s\",\"shortDescription\":{\"text\":\"%s\"},"
			"\"fullDescription\":{\"text\":\"%s\"},\"help\":{\"text\":",
			k ? "," : "", race_kind_names[k], rules[k].name, rules[k].brief, rules[k].full);
		json_string(f, rules[k].help);
		fputs(",\"markdown\":", f);
		json_string(f, rules[k].help_md);
		fprintf(f, "},\"helpUri\":\"" RACEWATCH_URL "\",\"defaultConfiguration\":{\"level\":\"%s\"}}",
			rules[k].level);
	}
	fputs("]}},\"invocations\":[{\"executionSuccessful\":", f);
	/* 2 is racewatch's own failure; -1 (atexit) means we do not know. */
	fputs(final && exit_status >= 0 && exit_status != 2 ? "true" : "false", f);
	if (final && exit_status >= 0)
		fprintf(f, ",\"exitCode\":%d", exit_status);
	if (final && report_summary.notice[0]) {
		/* Nothing seen is not success without saying why. */
		fputs(",\"toolExecutionNotifications\":[{\"level\":\"warning\",\"message\":{\"text\":", f);
		json_string(f, report_summary.notice);
		fputs("}}]", f);
	}
	fputs(",\"arguments\":", f);
	json_argv(f, sarif_self);
	fputs(",\"properties\":{\"tracedCommandLine\":", f);
	json_argv(f, sarif_prog);
	fputc('}', f);
	fprintf(f, ",\"startTimeUtc\":\"%s\"", start);
	if (final)
		fprintf(f, ",\"endTimeUtc\":\"%s\"", end);
	fputs(",\"workingDirectory\":{\"uri\":\"file://", f);
	uri_path(f, cwd);
	fputs(strcmp(cwd, "/") ? "/\"}}]" : "\"}}]", f);
	fputs(",\"originalUriBaseIds\":{\"SRCROOT\":{\"uri\":\"file://", f);
	uri_path(f, cwd);
	fputs(strcmp(cwd, "/") ? "/\"}}" : "\"}}", f);
	fputs(",\"columnKind\":\"utf16CodeUnits\",\"results\":[", f);
	for (int i = 0; i < nr; i++) {
		if (i)
			fputc(',', f);
		fputc('\n', f);
		result(f, fin_v[i]);
	}
	fputs("]}]}\n", f);
}

struct log_args {
	int nr, exit_status, final;
};

static void emit_log(FILE *f, void *arg)
{
	const struct log_args *a = arg;

	write_log(f, a->nr, a->exit_status, a->final);
}

/* The whole log, safely (outfile_replace): readers never see half of it. */
static int write_file(int nr, int exit_status, int final)
{
	struct log_args a = { nr, exit_status, final };
	char err[PATH_MAX + 128];

	if (sarif_failed)
		return -1;
	if (outfile_replace("--sarif", sarif_path, emit_log, &a, err, sizeof(err)) < 0) {
		rw_error("%s", err);
		sarif_failed = 1;
		return -1;
	}
	return 0;
}

int report_sarif_open(const char *path, char *const *self, char *const *prog, dev_t *dev, ino_t *ino,
		      char *err, size_t errlen)
{
	if (outfile_check("--sarif", path, dev, ino, err, errlen) < 0)
		return -1;
	free(sarif_path);
	sarif_path = xstrdup(path);
	sarif_self = self;
	sarif_prog = prog;
	return 0;
}

/* The unfinished log only goes to a file: a FIFO or a device takes one
 * document, the final one (its reader may stop at the first end of file). */
int report_sarif_begin(void)
{
	struct stat st;

	if (!sarif_path || (stat(sarif_path, &st) == 0 && !S_ISREG(st.st_mode)))
		return 0;
	return write_file(0, -1, 0);
}

int report_sarif_write(int exit_status)
{
	return sarif_path ? write_file(fin_n, exit_status, 1) : 0;
}

static int sarif_finish(struct race *const *v, int n, int exit_status, int begun)
{
	if (!begun)
		return 0;	/* the run never started: the old log stays */
	fin_v = v;
	fin_n = n;
	return report_sarif_write(exit_status);
}

const struct report_sink report_sink_sarif = {
	.name = "sarif",
	.begin = report_sarif_begin,
	.finish = sarif_finish,
};
