/*
 * test_exprs — what issue 14 asked of expressions and debug info, on real
 * binaries:
 *
 *   this test's own process: *p, p->m, p[i] read the pointer (and say so),
 *   a NULL pointer, a function named as a variable, an unmapped range,
 *   the declaration of a variable at an address
 *   a two-file program compiled here and stopped at exec: a name that is a
 *   global in one file and a static in the other is ambiguous and the
 *   error lists both; file.c::NAME picks one; a clone name (f.part.0,
 *   f.constprop.0, main._omp_fn.0) finds f's static; a stack local says
 *   whose; a static folded away is "optimised out"
 *   a split debug file made here (objcopy --only-keep-debug +
 *   --add-gnu-debuglink), and the same found by build id under
 *   RACEWATCH_DEBUG_DIR
 *   libc with libc6-dbg: start_thread at pthread_create.c (skipped when
 *   the package is not installed)
 *
 * Expected addresses come from C (&var), lines from __LINE__.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "addrspace.h"
#include "symbols.h"
#include "watchexpr.h"

static char tmpdir[256];

struct tnode {
	int v;
	int arr[4];
	struct tnode *next;
};

enum { NODES_LINE = __LINE__ + 1 };
struct tnode test_nodes[2] = { { 1, { 0 }, &test_nodes[1] }, { 2, { 0 }, NULL } };
struct tnode *test_ptr = &test_nodes[0];
struct tnode *test_null;

__attribute__((noinline)) int test_func(void)
{
	return test_nodes[0].v;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static int resolve(struct addrspace *as, const char *text, struct watch_target *t,
		   char *err, size_t errlen)
{
	struct wexpr e;

	if (wexpr_parse(text, &e, err, errlen) < 0)
		fail_msg("parse %s: %s", text, err);
	return wexpr_resolve(&e, as, t, err, errlen);
}

static void want_ok(struct addrspace *as, const char *text, const void *addr, uint64_t len,
		    const char *name)
{
	struct watch_target t;
	char err[512];

	if (resolve(as, text, &t, err, sizeof(err)) < 0)
		fail_msg("resolve %s: %s", text, err);
	if (t.addr != (uint64_t)(uintptr_t)addr || t.len != len)
		fail_msg("%s: 0x%llx:%llu, want %p:%llu", text, (unsigned long long)t.addr,
			 (unsigned long long)t.len, addr, (unsigned long long)len);
	assert_string_equal(t.name, name);
}

static void want_err(struct addrspace *as, const char *text, const char *want)
{
	struct watch_target t;
	char err[512];

	if (resolve(as, text, &t, err, sizeof(err)) == 0)
		fail_msg("%s resolved", text);
	if (!strstr(err, want))
		fail_msg("%s: '%s' does not say '%s'", text, err, want);
}

/* ---- this process ---------------------------------------------------------- */

static void test_pointers_self(void **state)
{
	struct addrspace *as;
	struct watch_target t;
	struct sym_var v;
	char err[512], via[256], text[64];

	(void)state;
	as = as_open(getpid(), "/proc/self/exe", err, sizeof(err));
	if (!as)
		fail_msg("as_open: %s", err);
	want_ok(as, "*test_ptr", &test_nodes[0], sizeof(struct tnode), "*test_ptr");
	want_ok(as, "test_ptr->arr[2]", &test_nodes[0].arr[2], sizeof(int), "test_ptr->arr[2]");
	want_ok(as, "test_ptr[1].v", &test_nodes[1].v, sizeof(int), "test_ptr[1].v");
	want_ok(as, "test_ptr->next->v", &test_nodes[1].v, sizeof(int), "test_ptr->next->v");

	/* The report learns the address came through a pointer read. */
	assert_int_equal(resolve(as, "test_ptr->v", &t, err, sizeof(err)), 0);
	assert_non_null(strstr(t.via, "address read from pointer test_ptr (0x"));
	assert_int_equal(wexpr_via((uintptr_t)&test_nodes[0].v, via, sizeof(via)), 1);
	assert_string_equal(via, t.via);
	assert_int_equal(wexpr_via((uintptr_t)&test_null, via, sizeof(via)), 0);

	want_err(as, "test_null->v", "'test_null' is NULL now");
	want_err(as, "*test_nodes", "'test_nodes' is struct tnode [2], not a pointer");
	want_err(as, "test_ptr.v", "struct tnode * is a pointer: write '->v' to follow it");
	want_err(as, "test_func", "'test_func' is a function, not a variable");
	want_err(as, "0x10:8", "0x10:8 is not mapped in process");
	snprintf(text, sizeof(text), "%p:4", (void *)&test_nodes[0]);
	want_ok(as, text, &test_nodes[0], 4, text);

	/* Declared at: from the address, as reports ask. */
	assert_int_equal(as_var_at(as, (uintptr_t)&test_nodes[1].arr[1], &v), 0);
	assert_string_equal(v.name, "test_nodes");
	assert_non_null(v.decl_file);
	assert_non_null(strstr(v.decl_file, "test_exprs.c"));
	assert_int_equal(v.decl_line, NODES_LINE);
	as_close(as);
}

/* ---- a two-file program ----------------------------------------------------- */

static const char file_a[] =
	"int shared = 1;\n"			/* line 1: a global */
	"static int only_a = 2;\n"		/* line 2: optimised out */
	"int use_b(void);\n"
	"static __attribute__((noinline)) int scale(int x, int k)\n"
	"{\n"
	"\tstatic int calls;\n"
	"\treturn x * k + ++calls;\n"
	"}\n"
	"int main(int argc, char **argv)\n"
	"{\n"
	"\tvolatile int local = argc;\n"
	"\t(void)argv;\n"
	"\treturn scale(local, 3) + shared + only_a + use_b();\n"
	"}\n";

static const char file_b[] =
	"static int shared = 10;\n"		/* line 1: a file static */
	"int use_b(void) { return shared++; }\n";

static pid_t spawn_stopped(const char *path)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
			_exit(77);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status))
		return -1;
	return pid;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void test_two_files(void **state)
{
	char a[512], b[512], exe[512], err[512];
	struct watch_target t;
	struct addrspace *as;
	struct sym_var v;
	int status;
	pid_t pid;

	(void)state;
	snprintf(a, sizeof(a), "%s/alpha.c", tmpdir);
	snprintf(b, sizeof(b), "%s/beta.c", tmpdir);
	snprintf(exe, sizeof(exe), "%s/twofiles", tmpdir);
	write_file(a, file_a);
	write_file(b, file_b);
	if (sh("cc -O2 -g -o %s %s %s", exe, a, b) != 0)
		fail_msg("cannot compile the two-file program");
	pid = spawn_stopped(exe);
	if (pid < 0) {
		fprintf(stderr, "cannot trace %s: skipped\n", exe);
		return;
	}
	snprintf(a, sizeof(a), "/proc/%d/exe", (int)pid);
	as = as_open(pid, a, err, sizeof(err));
	if (!as)
		fail_msg("as_open: %s", err);

	want_err(as, "shared", "'shared' is ambiguous: a global in alpha.c (alpha.c:1) and a "
		 "file static in beta.c (beta.c:1); write alpha.c::shared or beta.c::shared");
	assert_int_equal(resolve(as, "beta.c::shared", &t, err, sizeof(err)), 0);
	assert_string_equal(t.name, "beta.c::shared");
	assert_int_equal(as_var_at(as, t.addr, &v), 0);
	assert_string_equal(v.name, "shared");
	assert_false(v.external);
	assert_int_equal(resolve(as, "alpha.c::shared", &t, err, sizeof(err)), 0);
	assert_int_equal(as_var_at(as, t.addr, &v), 0);
	assert_true(v.external);
	/* Never written: -O2 folds it into its uses and keeps no storage. */
	want_err(as, "only_a", "'only_a' is optimised out");
	want_err(as, "gamma.c::shared", "no variable 'shared' is defined in gamma.c");
	want_err(as, "alpha.c::use_b", "'alpha.c::use_b' is a function, not a variable");

	/* Compiler-made names find the function's static. */
	assert_int_equal(resolve(as, "scale::calls", &t, err, sizeof(err)), 0);
	{
		uint64_t calls = t.addr;
		const char *clones[] = { "scale.constprop.0::calls", "scale.part.0::calls",
					 "scale.isra.0::calls" };

		for (size_t i = 0; i < sizeof(clones) / sizeof(clones[0]); i++) {
			if (resolve(as, clones[i], &t, err, sizeof(err)) < 0)
				fail_msg("%s: %s", clones[i], err);
			assert_true(t.addr == calls);
		}
	}
	want_err(as, "main._omp_fn.0::local", "'main._omp_fn.0::local' is a stack local of main()");
	want_err(as, "local", "'local' is a stack local of main()");
	want_err(as, "main", "'main' is a function, not a variable");

	as_close(as);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

/* ---- separate debug files -------------------------------------------------- */

/* The frame at the line "return scale(...)" of main in a stripped copy. */
static void check_split(const char *stripped, const char *want_debug)
{
	struct symtab *st;
	struct sym_var v;
	char err[512];

	st = sym_open(stripped, err, sizeof(err));
	if (!st)
		fail_msg("sym_open(%s): %s", stripped, err);
	if (!want_debug) {
		assert_false(sym_has_dwarf(st));
		assert_null(sym_debug_path(st));
		sym_close(st);
		return;
	}
	assert_true(sym_has_dwarf(st));
	assert_non_null(sym_debug_path(st));
	assert_non_null(strstr(sym_debug_path(st), want_debug));
	/* File statics come back from the debug file's .symtab and DWARF. */
	assert_int_equal(sym_find_var(st, "scale", "calls", &v), 0);
	assert_non_null(v.decl_file);
	assert_non_null(strstr(v.decl_file, "alpha.c"));
	assert_int_equal(v.decl_line, 6);
	sym_close(st);
}

static void test_debuglink(void **state)
{
	char exe[512], dbg[512], dir[512];

	(void)state;
	snprintf(exe, sizeof(exe), "%s/twofiles", tmpdir);
	snprintf(dbg, sizeof(dbg), "%s/twofiles.debug", tmpdir);
	if (access(exe, X_OK) != 0)
		skip();
	/* gdb's recipe: keep the debug part, strip, link them. */
	assert_int_equal(sh("cd %s && objcopy --only-keep-debug twofiles twofiles.debug && "
			    "cp twofiles linked && strip -g linked && "
			    "objcopy --add-gnu-debuglink=twofiles.debug linked && "
			    "cp twofiles bare && strip -g bare", tmpdir), 0);
	snprintf(exe, sizeof(exe), "%s/linked", tmpdir);
	check_split(exe, "/twofiles.debug");
	snprintf(exe, sizeof(exe), "%s/bare", tmpdir);
	setenv("RACEWATCH_DEBUG_DIR", tmpdir, 1);
	check_split(exe, NULL);		/* no link, no build-id copy yet */

	/* The build-id path, under RACEWATCH_DEBUG_DIR. */
	snprintf(dir, sizeof(dir), "%s/.build-id", tmpdir);
	assert_int_equal(sh("id=$(readelf -n %s | sed -n 's/.*Build ID: //p') && "
			    "mkdir -p %s/$(echo $id | cut -c1-2) && "
			    "cp %s %s/$(echo $id | cut -c1-2)/$(echo $id | cut -c3-).debug",
			    exe, dir, dbg, dir), 0);
	check_split(exe, "/.build-id/");

	/* A debug file from another build (wrong CRC) is not used. */
	unsetenv("RACEWATCH_DEBUG_DIR");
	assert_int_equal(sh("cd %s && cp linked stale && echo x >> twofiles.debug", tmpdir), 0);
	snprintf(exe, sizeof(exe), "%s/stale", tmpdir);
	check_split(exe, NULL);
}

/* libc's start_thread, resolved like gdb through libc6-dbg. */
static void test_libc_dbg(void **state)
{
	const char *libc = "/lib/x86_64-linux-gnu/libc.so.6";
	uint64_t start = 0, size = 0;
	struct sym_frame f[8];
	struct symtab *st;
	char err[512];
	int n, found = 0;

	(void)state;
	st = sym_open(libc, err, sizeof(err));
	if (!st)
		fail_msg("sym_open(%s): %s", libc, err);
	if (!sym_debug_path(st)) {
		sym_close(st);
		skip();		/* libc6-dbg is not installed */
	}
	/* Any pc inside start_thread maps to nptl/pthread_create.c. */
	for (uint64_t a = 0; a < 0x400000 && !found; a += 16) {
		const char *fn = sym_func_at(st, a, &start, &size);

		if (fn && !strcmp(fn, "start_thread"))
			found = 1;
	}
	assert_true(found);
	n = sym_frames_at(st, start + size / 2, f, 8);
	assert_true(n >= 1);
	assert_string_equal(f[n - 1].func, "start_thread");
	assert_non_null(f[n - 1].file);
	assert_string_equal(f[n - 1].file, "./nptl/pthread_create.c");
	assert_true(f[n - 1].line > 0);
	fprintf(stderr, "libc6-dbg: %s+0x%llx -> start_thread %s:%d (%s)\n", libc,
		(unsigned long long)(start + size / 2), f[n - 1].file, f[n - 1].line,
		sym_debug_path(st));
	sym_close(st);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/rwexprs.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	sh("rm -rf %s", tmpdir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pointers_self),
		cmocka_unit_test(test_two_files),
		cmocka_unit_test(test_debuglink),
		cmocka_unit_test(test_libc_dbg),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
