#include "report.h"
#include "addrspace.h"
#include "counters.h"
#include "options.h"
#include "outfile.h"
#include "stack.h"
#include "suppress.h"
#include "util.h"
#include "watchexpr.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const char *const race_kind_names[RACE_KIND_COUNT] = {
	[RACE_DATA]		= "data-race",
	[RACE_UNKNOWN_ORIGIN]	= "unknown-origin",
	[RACE_ASSERT]		= "assert",
};

_Static_assert(ARRAY_SIZE(race_kind_names) == RACE_KIND_COUNT, "one name per race kind");

uint64_t report_start_ns;
double report_start_wall;

static struct {
	int depth;		/* --stack-depth */
	int color;		/* colour the text sink (--color) */
	int begun;		/* report_begin ran: the outputs were truncated */
	int finished;		/* report_finish ran */
	int failed;		/* a report file could not be written */
	struct supp_set supp;	/* --suppressions */
} R = { .depth = REPORT_DEFAULT_DEPTH };

/* Reported races in order (race->id = index + 1), then the suppressed ones. */
static struct race **races, **supp_races;
static int nraces, capraces, nsupp, capsupp;

static void at_exit(void)
{
	report_finish(-1);
}

/*
 * Which file an output must never be: the program (run: as PATH finds it;
 * attach: /proc/PID/exe), the suppressions file, another output.  0, or -1
 * after a one-line error.
 */
struct file_id {
	const char *what, *name;	/* "-o", "the program"...; as given */
	dev_t dev;
	ino_t ino;
};

/* The program's file, looked at before any output is created. */
static int program_id(const struct options *o, struct file_id *p)
{
	static char exe[64];
	struct stat st;

	p->what = "the program";
	if (o->cmd == CMD_RUN && o->argv)
		return outfile_program_id(p->name = o->argv[0], &p->dev, &p->ino);
	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)o->pid);
	if (o->cmd != CMD_ATTACH || stat(p->name = exe, &st) < 0)
		return -1;
	p->dev = st.st_dev;
	p->ino = st.st_ino;
	return 0;
}

static int check_distinct(const struct options *o, const struct file_id *prog, dev_t sdev,
			  ino_t sino)
{
	struct file_id f[4];
	struct stat st;
	int n = 0, nout;

	if (report_json_id(&f[n].dev, &f[n].ino) == 0) {
		f[n].what = "-o";
		f[n++].name = o->json_path;
	}
	if (sino) {
		f[n].what = "--sarif";
		f[n].name = o->sarif_path;
		f[n].dev = sdev;
		f[n++].ino = sino;
	}
	nout = n;
	if (o->suppressions && stat(o->suppressions, &st) == 0) {
		f[n].what = "the suppressions file";
		f[n].name = o->suppressions;
		f[n].dev = st.st_dev;
		f[n++].ino = st.st_ino;
	}
	if (prog)
		f[n++] = *prog;
	for (int i = 0; i < nout; i++)
		for (int j = i + 1; j < n; j++)
			if (f[i].dev == f[j].dev && f[i].ino == f[j].ino) {
				rw_error("%s %s is the same file as %s %s: refusing to overwrite it",
					 f[i].what, f[i].name, f[j].what, f[j].name);
				return -1;
			}
	return 0;
}

/* A bad file or a clash: nothing written, nothing left behind. */
static int init_failed(void)
{
	R.finished = 1;
	report_json_close(NULL, 0, -1);
	return -1;
}

/*
 * --log-file: from here on racewatch's own output -- text reports, the
 * summary, --stats, warnings -- goes to path, as valgrind's --log-file
 * does.  The stream stderr itself is pointed at the file, so every writer
 * follows; file descriptor 2 is left alone, and the program inherits it
 * (the log is close-on-exec).
 */
static int open_log(const char *path)
{
	FILE *f = fopen(path, "we");

	if (!f) {
		rw_error("--log-file: cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	setvbuf(f, NULL, _IOLBF, 0);
	stderr = f;
	return 0;
}

/* attach: the traced process's command line (NULL-terminated), read from
 * /proc/PID/cmdline; NULL if it is gone or unreadable. */
static char **cmdline_of(pid_t pid)
{
	char path[64], *buf = NULL, **v;
	size_t len = 0, n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if (!(f = fopen(path, "re")))
		return NULL;
	if (getdelim(&buf, &len, EOF, f) < 0) {
		free(buf);
		fclose(f);
		return NULL;
	}
	len = (size_t)ftell(f);
	fclose(f);
	v = xcalloc(len + 1, sizeof(*v));
	for (size_t i = 0; i < len; i += strlen(buf + i) + 1)
		v[n++] = buf + i;	/* buf lives as long as v: until exit */
	return v;
}

int report_init(const struct options *o)
{
	static char **attached_argv;	/* kept: the sinks point into it */
	char *const *prog = o->argv;
	char err[4200];
	struct timespec ts;
	struct file_id progid;
	int have_prog = program_id(o, &progid) == 0;
	dev_t sdev = 0;
	ino_t sino = 0;

	report_start_ns = now_ns();
	clock_gettime(CLOCK_REALTIME, &ts);
	report_start_wall = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	R.depth = o->stack_depth;
	if (o->log_path && open_log(o->log_path) < 0)
		return -1;
	R.color = report_want_color(o->color, stderr);
	if (o->cmd == CMD_ATTACH)
		prog = attached_argv = cmdline_of(o->pid);
	if (o->suppressions && supp_load(&R.supp, o->suppressions, err, sizeof(err)) < 0) {
		rw_error("%s", err);
		return -1;
	}
	if (o->json_path) {
		if (report_json_open(o->json_path, prog, o->cmd == CMD_ATTACH ? o->pid : 0,
				     err, sizeof(err)) < 0) {
			rw_error("%s", err);
			return -1;
		}
		report_add_sink(&report_sink_json);
	}
	if (o->sarif_path) {
		if (report_sarif_open(o->sarif_path, o->self_argv, prog, &sdev, &sino, err, sizeof(err)) < 0) {
			rw_error("%s", err);
			return init_failed();
		}
		report_add_sink(&report_sink_sarif);
	}
	if (check_distinct(o, have_prog ? &progid : NULL, sdev, sino) < 0)
		return init_failed();
	if (o->gdb_dir) {
		if (report_gdb_open(o->gdb_dir, prog, err, sizeof(err)) < 0) {
			rw_error("%s", err);
			return init_failed();
		}
		report_add_sink(&report_sink_gdb);
	}
	if (!o->tui)
		report_add_sink(&report_sink_text);
	atexit(at_exit);
	return 0;
}

struct run_summary report_summary;

#define MAX_SINKS 8
static const struct report_sink *sinks[MAX_SINKS];
static int nsinks;

void report_add_sink(const struct report_sink *s)
{
	for (int i = 0; i < nsinks; i++)
		if (sinks[i] == s)
			return;
	if (nsinks < MAX_SINKS)
		sinks[nsinks++] = s;
}

void report_remove_sink(const struct report_sink *s)
{
	for (int i = 0; i < nsinks; i++)
		if (sinks[i] == s) {
			memmove(sinks + i, sinks + i + 1, sizeof(*sinks) * (size_t)(nsinks - i - 1));
			nsinks--;
			return;
		}
}

void report_begin(void)
{
	if (R.begun || R.finished)
		return;
	R.begun = 1;
	for (int i = 0; i < nsinks; i++)
		if (sinks[i]->begin && sinks[i]->begin() < 0)
			R.failed = 1;
}

int report_finish(int exit_status)
{
	if (R.finished)
		return R.failed ? 2 : exit_status;
	/* Armed or reporting: the program ran with its watch set (without the
	 * engine's own call, this is where a run that found nothing begins). */
	if (counters[CTR_ARM_OPS] || nraces || nsupp)
		report_begin();
	R.finished = 1;
	for (int i = 0; i < nsinks; i++)
		if (sinks[i]->finish &&
		    sinks[i]->finish(races, nraces, R.failed ? 2 : exit_status, R.begun) < 0)
			R.failed = 1;
	for (int i = 0; i < R.supp.n; i++)
		if (R.supp.v[i].hits)
			rw_debug("suppression %s:%d '%s' matched %lu race(s)", R.supp.path,
				 R.supp.v[i].line, R.supp.v[i].pattern, R.supp.v[i].hits);
	return R.failed ? 2 : exit_status;
}

/* The text sink: KCSAN-style reports on stderr (or the --log-file). */
static int text_race(const struct race *r)
{
	report_print_text_color(stderr, r, R.color);
	return 0;
}

const struct report_sink report_sink_text = {
	.name = "text",
	.race = text_race,
};

int report_count(void)
{
	return nraces;
}

const struct race *report_get(int i)
{
	return i >= 0 && i < nraces ? races[i] : NULL;
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

static struct race *find_race(struct race **v, int n, const struct race *r)
{
	for (int i = 0; i < n; i++)
		if (same_race(v[i], r))
			return v[i];
	return NULL;
}

/* DWARF paths are often absolute; show them relative to where we run. */
const char *report_short_path(const char *file)
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

/* ---- stacks --------------------------------------------------------------- */

struct frames {
	struct report_frame *v;
	int n, cap;
};

static char *dup_or_null(const char *s)
{
	return s && *s ? xstrdup(s) : NULL;
}

/* The main module is opened as /proc/PID/exe: name the file it is. */
static char *module_path(const char *p)
{
	char buf[4096];
	ssize_t n;

	if (p && !strncmp(p, "/proc/", 6) && (n = readlink(p, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		return xstrdup(buf);
	}
	return dup_or_null(p);
}

/*
 * Append the source frames at pc (inline levels first).  lookup is where
 * the line table is asked: pc for the access, pc - 1 for a return address
 * (the call instruction, not the one after it).
 */
static void add_frames(struct frames *fs, struct addrspace *as, uint64_t pc, uint64_t lookup)
{
	struct sym_frame sf[16];
	struct symtab *st = NULL;
	uint64_t bias = 0, start = 0, size = 0;
	const char *sym = NULL;
	char *mod;
	int n = as ? as_frames_at(as, lookup, sf, (int)ARRAY_SIZE(sf)) : 0;

	if (as) {
		st = as_module_at(as, pc, &bias);
		sym = as_func_at(as, lookup, &start, &size);
	}
	if (n <= 0) {
		sf[0].func = NULL;
		sf[0].file = NULL;
		sf[0].line = 0;
		sf[0].inlined = 0;
		n = 1;
	}
	mod = st ? module_path(sym_path(st)) : NULL;
	for (int i = 0; i < n; i++) {
		struct report_frame *f;

		if (fs->n == fs->cap) {
			fs->cap = fs->cap ? 2 * fs->cap : 8;
			fs->v = xrealloc(fs->v, sizeof(*fs->v) * (size_t)fs->cap);
		}
		f = &fs->v[fs->n++];
		f->pc = pc;
		f->func = dup_or_null(sf[i].func);
		f->file = dup_or_null(sf[i].file);
		f->module = mod ? xstrdup(mod) : NULL;
		f->modoff = st ? pc - bias : 0;
		f->sym = dup_or_null(sym);
		f->symoff = sym ? pc - start : 0;
		f->line = sf[i].line;
		f->inlined = i < n - 1 ? sf[i].inlined : 0;
	}
	free(mod);
}

/*
 * The stack of access acc: its own frame (with inline levels), then up to
 * R.depth callers unwound from its stopped thread.
 * Precondition: acc->stopped means acc's thread is in a ptrace stop at acc.
 */
static struct report_frame *take_stack(struct addrspace *as, const struct access *acc, int *n)
{
	struct frames fs = { 0 };
	struct stack_pc *pcs;
	int np = 0;

	add_frames(&fs, as, acc->pc, acc->pc);
	if (R.depth > 0 && acc->stopped) {
		pcs = xcalloc((size_t)R.depth, sizeof(*pcs));
		np = stack_unwind(acc->tid, pcs, R.depth);
		for (int i = 0; i < np; i++)
			add_frames(&fs, as, pcs[i].pc, pcs[i].exact ? pcs[i].pc : pcs[i].pc - 1);
		free(pcs);
	}
	*n = fs.n;
	return fs.v;
}

/* The variable's declaration, and how a pointer gave its address. */
static void where_from(struct race *r, struct addrspace *as)
{
	struct sym_var v;

	r->decl_file = NULL;
	r->decl_line = 0;
	if (as && as_var_at(as, r->a.addr, &v) == 0 && v.decl_file) {
		r->decl_file = xstrdup(v.decl_file);
		r->decl_line = v.decl_line;
	}
	if (!wexpr_via(r->a.addr, r->via, sizeof(r->via)))
		r->via[0] = '\0';
}

static void supp_view(const struct report_frame *f, int n, struct supp_frame *out)
{
	for (int i = 0; i < n; i++) {
		out[i].func = f[i].func;
		out[i].file = f[i].file;
		out[i].module = f[i].module;
	}
}

/* The first suppression matching r (stacks taken), or NULL. */
static struct suppression *suppressed_by(const struct race *r)
{
	struct supp_frame *sa, *sb;
	struct suppression *s;

	if (!R.supp.n)
		return NULL;
	sa = xcalloc((size_t)r->nfa + 1, sizeof(*sa));
	sb = xcalloc((size_t)r->nfb + 1, sizeof(*sb));
	supp_view(r->fa, r->nfa, sa);
	supp_view(r->fb, r->nfb, sb);
	{
		const struct supp_frame *const st[2] = { sa, sb };
		const int n[2] = { r->nfa, r->nfb };

		s = supp_match(&R.supp, r->var, st, n, 2);
	}
	free(sa);
	free(sb);
	return s;
}

static struct race *keep(struct race ***v, int *n, int *cap, const struct race *r)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 16;
		*v = xrealloc(*v, sizeof(**v) * (size_t)*cap);
	}
	(*v)[*n] = xcalloc(1, sizeof(*r));
	*(*v)[*n] = *r;
	return (*v)[(*n)++];
}

int report_submit(struct race *r, struct addrspace *as)
{
	uint64_t seen = r->b.time_ns ? r->b.time_ns : r->a.time_ns;
	struct suppression *s;
	struct race *old;

	if (!seen)
		seen = now_ns();
	/* A repeat: count it, nothing else (no stack, no output but a
	 * rate-limited JSON update). */
	if ((old = find_race(races, nraces, r)) != NULL) {
		old->count++;
		old->last_ns = seen;
		ctr_inc(CTR_RACE_REPEATS);
		for (int i = 0; i < nsinks; i++)
			if (sinks[i]->repeat)
				sinks[i]->repeat(old);
		return 0;
	}
	if ((old = find_race(supp_races, nsupp, r)) != NULL) {
		old->count++;
		old->last_ns = seen;
		return 0;
	}

	r->count = 1;
	r->first_ns = r->last_ns = seen;
	r->fa = take_stack(as, &r->a, &r->nfa);
	r->fb = NULL;
	r->nfb = 0;
	if (r->kind != RACE_UNKNOWN_ORIGIN)
		r->fb = take_stack(as, &r->b, &r->nfb);
	where_from(r, as);

	if ((s = suppressed_by(r)) != NULL) {
		s->hits++;
		r->suppressed = 1;
		r->id = 0;
		keep(&supp_races, &nsupp, &capsupp, r);
		ctr_inc(CTR_SUPPRESSED);
		rw_debug("race on %s suppressed by %s:%d (%s)", r->var, R.supp.path, s->line, s->pattern);
		return 0;
	}

	report_begin();
	r->id = (unsigned)nraces + 1;
	r = keep(&races, &nraces, &capraces, r);
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
	case RACE_KIND_COUNT:
		break;
	}
	for (int i = 0; i < nsinks; i++)
		if (sinks[i]->race && sinks[i]->race(r) < 0)
			R.failed = 1;
	return 1;
}
