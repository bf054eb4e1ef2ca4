/*
 * --gdb-script DIR: per reported race, DIR/race-ID.gdb, a gdb command file
 * that needs nothing of racewatch to reproduce the race by hand on the same
 * binary:
 *
 *   gdb -x DIR/race-1.gdb --args PROG ARGS
 *
 * It starts the program (starti: the executable is mapped, so PIE
 * addresses are known), puts a breakpoint on each access site (by
 * file:line; by function + offset, i.e. module-relative and so valid for a
 * PIE at any load address, when no line is known), and a hardware access
 * watchpoint on the variable, disabled.  Each site stops once, printing
 * `info threads` and `thread apply all bt`, then disables itself; when both
 * sites were reached the watchpoint is enabled and gdb stays stopped: from
 * there every access to the variable stops with its thread's backtrace.
 * Under gdb -batch the script ends there and gdb exits.
 */
#include "report.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *gdb_dir;
static char *const *gdb_argv;

int report_gdb_open(const char *dir, char *const *argv, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "--gdb-script: cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "--gdb-script: %s is not a directory", dir);
		return -1;
	}
	if (access(dir, W_OK) < 0) {
		snprintf(err, errlen, "--gdb-script: cannot write in %s: %s", dir, strerror(errno));
		return -1;
	}
	free(gdb_dir);
	gdb_dir = xstrdup(dir);
	gdb_argv = argv;
	return 0;
}

/* Text safe inside a gdb comment or printf string: printable ASCII, no quote,
 * backslash or percent sign. */
static void plain(char *dst, size_t len, const char *src)
{
	size_t o = 0;

	for (; src && *src && o + 1 < len; src++) {
		unsigned char c = (unsigned char)*src;

		dst[o++] = c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '%' ? '?' : (char)c;
	}
	dst[o] = '\0';
}

/* A path gdb's linespec takes as is: no blanks, quotes, colons or controls. */
static int linespec_safe(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f || strchr("\"'\\:,", *s))
			return 0;
	return 1;
}

/* An identifier: [A-Za-z_][A-Za-z0-9_]*; returns its end or NULL. */
static const char *ident(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
		return NULL;
	while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_')
		s++;
	return s;
}

/* NAME, NAME.member, NAME[i], func::NAME: an lvalue gdb evaluates as is. */
static int gdb_lvalue(const char *v)
{
	if (!(v = ident(v)))
		return 0;
	while (*v) {
		if (*v == '.' || (v[0] == ':' && v[1] == ':')) {
			v += *v == '.' ? 1 : 2;
			if (!(v = ident(v)))
				return 0;
		} else if (*v == '[') {
			if (!(v[1] >= '0' && v[1] <= '9'))
				return 0;
			for (v++; *v >= '0' && *v <= '9'; v++)
				;
			if (*v++ != ']')
				return 0;
		} else {
			return 0;
		}
	}
	return 1;
}

/*
 * PROG ARGS quoted for a shell, into a comment: single quotes, and every
 * byte that is not printable ASCII (controls, DEL, anything >= 0x80: the
 * arguments may come from a report file) as bash's $'\xNN', so that
 * neither the comment nor a terminal showing the file sees it raw.
 */
static void shell_args(FILE *f, char *const *argv)
{
	for (int i = 0; argv && argv[i]; i++) {
		fputc(' ', f);
		fputc('\'', f);
		for (const unsigned char *s = (const unsigned char *)argv[i]; *s; s++) {
			if (*s == '\'')
				fputs("'\\''", f);
			else if (*s < 0x20 || *s >= 0x7f)
				fprintf(f, "'$'\\x%02x''", *s);
			else
				fputc(*s, f);
		}
		fputc('\'', f);
	}
}

static const char *base(const char *p)
{
	const char *s = p ? strrchr(p, '/') : NULL;

	return s ? s + 1 : p ? p : "?";
}

/* "#   write to foo (4 bytes) by thread 12 at update_foo samples/.../race_rw.c:58" */
static void comment_access(FILE *f, int k, const struct race *r, const struct access *a,
			   const struct report_frame *fr, int n)
{
	char func[256], file[512], mod[256], var[256];

	plain(var, sizeof(var), r->var);
	plain(func, sizeof(func), n && fr[0].func ? fr[0].func : "?");
	plain(file, sizeof(file), n && fr[0].file ? report_short_path(fr[0].file) : "?");
	fprintf(f, "#   access %d: %s to %s (%u bytes at 0x%" PRIx64 ") by thread %d\n", k,
		report_access_verb(a), var, a->size, a->addr, (int)a->tid);
	fprintf(f, "#     in %s at %s:%d\n", func, file, n ? fr[0].line : 0);
	if (n && fr[0].module) {
		plain(mod, sizeof(mod), base(fr[0].module));
		fprintf(f, "#     pc 0x%" PRIx64 " = %s+0x%" PRIx64, a->pc, mod, fr[0].modoff);
		if (fr[0].sym) {
			plain(func, sizeof(func), fr[0].sym);
			fprintf(f, " = %s+0x%" PRIx64, func, fr[0].symoff);
		}
		fputc('\n', f);
	}
}

/* The breakpoint for access k, with its one-shot commands. */
static void site(FILE *f, int k, const struct access *a, const struct report_frame *fr, int n,
		 int have_wp)
{
	char func[256], file[512], sym[256];
	const struct report_frame *top = n ? &fr[0] : NULL;
	int by_line = top && top->file && top->line > 0 && linespec_safe(report_short_path(top->file));
	int by_pc = top && top->sym && ident(top->sym) && !*ident(top->sym);

	plain(func, sizeof(func), top && top->func ? top->func : "?");
	plain(file, sizeof(file), top && top->file ? report_short_path(top->file) : "?");
	fprintf(f, "\n# Access %d: %s in %s at %s:%d\n", k, report_access_verb(a), func, file,
		top ? top->line : 0);
	if (by_pc) {
		plain(sym, sizeof(sym), top->sym);
		fprintf(f, "%sbreak *((char *)&%s + 0x%" PRIx64 ")\n", by_line ? "# same site by pc: " : "",
			sym, top->symoff);
	}
	if (by_line)
		fprintf(f, "break %s:%d\n", report_short_path(top->file), top->line);
	if (!by_line && !by_pc) {
		fprintf(f, "# no source line or symbol is known for this site (pc 0x%" PRIx64 ")\n", a->pc);
		return;
	}
	fprintf(f, "set $rw_bp%d = $bpnum\n", k);
	fputs("commands\n", f);
	fprintf(f, "  printf \"racewatch: access %d (%s in %s) reached\\n\"\n", k, report_access_verb(a), func);
	fputs("  info threads\n  thread apply all bt\n", f);
	fprintf(f, "  disable $rw_bp%d\n", k);
	fputs("  set $rw_seen = $rw_seen + 1\n", f);
	fputs("  if $rw_seen >= $rw_sites\n", f);
	if (have_wp)
		fputs("    enable $rw_wp\n"
		      "    printf \"racewatch: both sites reached; watchpoint on the variable enabled\\n\"\n", f);
	else
		fputs("    printf \"racewatch: both sites reached\\n\"\n", f);
	fputs("  else\n    continue\n  end\nend\n", f);
}

static int site_ok(const struct report_frame *fr, int n)
{
	return n && ((fr[0].file && fr[0].line > 0 && linespec_safe(report_short_path(fr[0].file))) ||
		     (fr[0].sym && ident(fr[0].sym) && !*ident(fr[0].sym)));
}

int report_gdb_race(const struct race *r)
{
	char path[4096];

	if (!gdb_dir)
		return 0;
	snprintf(path, sizeof(path), "%s/race-%u.gdb", gdb_dir, r->id);
	if (report_gdb_write(path, r, gdb_argv) < 0) {
		rw_warn("--gdb-script: cannot write %s: %s", path,
			errno == EEXIST ? "not a regular file" : strerror(errno));
		return -1;
	}
	return 0;
}

int report_gdb_write(const char *path, const struct race *r, char *const *argv)
{
	char title[600], var[256];
	int have_wp = gdb_lvalue(r->var), two = r->kind != RACE_UNKNOWN_ORIGIN;
	int sites, fd;
	FILE *f;
	struct stat st;

	/* Both accesses at one instruction (two threads in the same code): one site. */
	if (two && r->nfa && r->nfb && r->fa[0].pc == r->fb[0].pc)
		two = 0;
	sites = site_ok(r->fa, r->nfa) + (two && site_ok(r->fb, r->nfb));

	/* Never through a planted link, never into a FIFO or a device. */
	fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0666);
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		fd = -1;
		errno = EEXIST;
	}
	if (fd < 0 || ftruncate(fd, 0) < 0 || !(f = fdopen(fd, "w"))) {
		int e = errno == ELOOP ? EEXIST : errno;

		if (fd >= 0)
			close(fd);
		errno = e;
		return -1;
	}
	report_title(title, sizeof(title), r);
	plain(title, sizeof(title), title);
	plain(var, sizeof(var), r->var);
	fprintf(f, "# racewatch race %u: %s\n#\n", r->id, title);
	comment_access(f, 1, r, &r->a, r->fa, r->nfa);
	if (two)
		comment_access(f, 2, r, &r->b, r->fb, r->nfb);
	fprintf(f, "#\n# Reproduce it by hand on the same binary (racewatch is not needed):\n#\n"
		"#   gdb -x race-%u.gdb --args PROG ARGS\n#\n# as traced:\n#\n#   gdb -x %s --args", r->id, path);
	shell_args(f, argv);
	fputs("\n#\n"
	      "# The program starts and stops once at each access site, printing every\n"
	      "# thread and its backtrace (the other thread is often near its own\n"
	      "# access).  Once both sites were reached, a hardware watchpoint on the\n"
	      "# variable is enabled: each further access stops with the thread that\n"
	      "# made it (`continue` to go on).  To hold one thread at its access while\n"
	      "# the other runs into it, as racewatch does: `set scheduler-locking on`,\n"
	      "# `thread N`, `next`.  With gdb -batch the script ends at the second site.\n\n", f);
	fputs("set pagination off\nset confirm off\nset breakpoint pending on\n"
	      "set print thread-events off\nset $rw_seen = 0\n", f);
	fprintf(f, "set $rw_sites = %d\n", sites ? sites : 1);
	fputs("starti\n", f);
	if (have_wp) {
		fprintf(f, "\n# Every access to %s, enabled once both sites were reached.\n", var);
		fprintf(f, "awatch -l %s\nset $rw_wp = $bpnum\n", r->var);
		fputs("commands\n  info threads\n  thread apply all bt\nend\ndisable $rw_wp\n", f);
	} else {
		fprintf(f, "\n# %s is no expression gdb knows; in the traced run it was at 0x%" PRIx64
			" (%u bytes):\n# awatch -l *(unsigned char (*)[%u])ADDRESS, with its address in this run.\n",
			var, r->a.addr, r->a.size, r->a.size ? r->a.size : 1);
	}
	site(f, 1, &r->a, r->fa, r->nfa, have_wp);
	if (two)
		site(f, 2, &r->b, r->fb, r->nfb, have_wp);
	fputs("\ncontinue\n", f);
	if (fflush(f) != 0 || ferror(f)) {
		int e = errno ? errno : EIO;

		fclose(f);
		errno = e;
		return -1;
	}
	return fclose(f) != 0 ? -1 : 0;
}

const struct report_sink report_sink_gdb = {
	.name = "gdb",
	.race = report_gdb_race,
};
