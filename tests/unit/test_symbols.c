/*
 * test_symbols — the symbol index (symbols.c), the load-bias logic
 * (addrspace.c) and watch-expression resolution (watchexpr.c), on real
 * binaries:
 *
 *   $O/samples/symtest/symtest-O1 and -O2   built by the Makefile (O=build)
 *   a stripped copy, a truncated copy, random bytes, and variants compiled
 *   here (-O0, DWARF 4, -no-pie) into a temporary directory
 *   this test's own process (/proc/self) and a symtest child stopped right
 *   after exec under PTRACE_TRACEME
 *
 * Expected values never come from the code under test: sizes and offsets
 * from sizeof/offsetof on samples/symtest/symtest.h, addresses from the ELF
 * symbol table read here with libelf, lines from the "symtest:" marker
 * comments in symtest.c, memory contents from /proc/PID/mem.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "addrspace.h"
#include "symbols.h"
#include "watchexpr.h"
#include "../../samples/symtest/symtest.h"

#define SRC "samples/symtest/symtest.c"

static char o1[512], o2[512], tmpdir[256];

/* ---- helpers --------------------------------------------------------- */

/* The value and size of ELF symbol name (exact, or "name.N" for a
 * compiler-renamed static local when prefix is set). */
static int elf_sym(const char *path, const char *name, int prefix,
		   uint64_t *value, uint64_t *size)
{
	int fd = open(path, O_RDONLY), found = 0;
	Elf_Scn *scn = NULL;
	Elf *elf;

	if (fd < 0)
		return -1;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	while (elf && !found && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB ||
		    !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym s;
			const char *n;

			if (!gelf_getsym(d, (int)i, &s) ||
			    !(n = elf_strptr(elf, sh.sh_link, s.st_name)))
				continue;
			if (prefix ? (strncmp(n, name, strlen(name)) == 0 &&
				      n[strlen(name)] == '.') : strcmp(n, name) == 0) {
				*value = s.st_value;
				*size = s.st_size;
				found = 1;
				break;
			}
		}
	}
	if (elf)
		elf_end(elf);
	close(fd);
	return found ? 0 : -1;
}

static uint64_t sym_value(const char *path, const char *name)
{
	uint64_t v = 0, z;

	if (elf_sym(path, name, 0, &v, &z) < 0)
		fail_msg("%s: no ELF symbol %s", path, name);
	return v;
}

/* The line of the "symtest:MARK" comment in symtest.c. */
static int marker(const char *mark)
{
	char want[64], buf[512];
	FILE *f = fopen(SRC, "r");
	int line = 0, found = 0;

	if (!f)
		fail_msg("cannot read %s (run from the top of the tree)", SRC);
	snprintf(want, sizeof(want), "symtest:%s */", mark);
	while (fgets(buf, sizeof(buf), f)) {
		line++;
		if (strstr(buf, want)) {
			found = line;
			break;
		}
	}
	fclose(f);
	if (!found)
		fail_msg("marker %s not in %s", mark, SRC);
	return found;
}

static int file_is(const char *path, const char *base)
{
	size_t n = path ? strlen(path) : 0, b = strlen(base);

	return n >= b && strcmp(path + n - b, base) == 0 &&
	       (n == b || path[n - b - 1] == '/');
}

static struct symtab *open_or_fail(const char *path)
{
	char err[256];
	struct symtab *st = sym_open(path, err, sizeof(err));

	if (!st)
		fail_msg("sym_open(%s): %s", path, err);
	return st;
}

static int run(const char *cmd)
{
	int r = system(cmd);

	return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

/* ---- fixture --------------------------------------------------------- */

static int setup(void **state)
{
	const char *o = getenv("O");
	char *d;

	(void)state;
	if (!o || !*o)
		o = "build";
	snprintf(o1, sizeof(o1), "%s/samples/symtest/symtest-O1", o);
	snprintf(o2, sizeof(o2), "%s/samples/symtest/symtest-O2", o);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_symbols.XXXXXX");
	d = mkdtemp(tmpdir);
	if (!d)
		return -1;
	if (access(o1, R_OK) || access(o2, R_OK)) {
		fprintf(stderr, "test_symbols: %s or %s missing (make samples)\n", o1, o2);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	char cmd[600];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return run(cmd) == 0 ? 0 : -1;
}

/* ---- open errors ----------------------------------------------------- */

static void expect_open_error(const char *path, const char *what)
{
	char err[256] = "";
	struct symtab *st = sym_open(path, err, sizeof(err));

	if (st)
		fail_msg("sym_open(%s) succeeded", path);
	if (!strstr(err, what))
		fail_msg("sym_open(%s): '%s' does not say '%s'", path, err, what);
}

static void write_file(const char *path, const void *buf, size_t n)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, n, f), n);
	fclose(f);
}

static void test_open_errors(void **state)
{
	char path[512], *buf = malloc(1 << 16);
	FILE *f;
	size_t n;

	(void)state;
	expect_open_error("/nonexistent/racewatch", "cannot open");
	expect_open_error("/tmp", "not a regular file");

	snprintf(path, sizeof(path), "%s/empty", tmpdir);
	write_file(path, "", 0);
	expect_open_error(path, "not an ELF file");

	srand(42);
	for (int i = 0; i < 1 << 16; i++)
		buf[i] = (char)rand();
	snprintf(path, sizeof(path), "%s/random", tmpdir);
	write_file(path, buf, 1 << 16);
	expect_open_error(path, "not an ELF file");

	/* Valid ELF headers whose tables lie past the end of the file. */
	f = fopen(o1, "r");
	assert_non_null(f);
	n = fread(buf, 1, 1 << 16, f);
	fclose(f);
	assert_true(n > 8192);
	for (size_t cut = 64; cut <= 8192; cut *= 4) {
		snprintf(path, sizeof(path), "%s/trunc%zu", tmpdir, cut);
		write_file(path, buf, cut);
		expect_open_error(path, "truncated ELF file");
	}
	free(buf);
}

/* ---- variables ------------------------------------------------------- */

struct var_case {
	const char *name;
	uint64_t size;
	const char *type;
	int marked;
};

static const struct var_case var_cases[] = {
	{ "g_int", sizeof(int), "int", 0 },
	{ "g_long", sizeof(long), "long int", 0 },
	{ "g_buf", sizeof(char[16]), "char [16]", 0 },
	{ "g_outer", sizeof(struct outer), "struct outer", 0 },
	{ "g_points", sizeof(struct point[4]), "struct point [4]", 0 },
	{ "g_matrix", sizeof(int[3][4]), "int [3][4]", 0 },
	{ "g_volatile", sizeof(int), "volatile int", 1 },
	{ "g_atomic", sizeof(_Atomic int), "_Atomic int", 1 },
	{ "g_ptr", sizeof(int *), "int *", 0 },
	{ "g_color", sizeof(enum color), "enum color", 0 },
	{ "g_vpoint", sizeof(vpoint_t), "vpoint_t", 1 },
	{ "g_name", sizeof(const char *), "const char *", 0 },
	{ "foo", sizeof(int), "int", 0 },
	{ "file_static", sizeof(int), "int", 0 },
};

static void check_globals(const char *path)
{
	struct symtab *st = open_or_fail(path);

	assert_true(sym_has_dwarf(st));
	for (size_t i = 0; i < sizeof(var_cases) / sizeof(var_cases[0]); i++) {
		const struct var_case *c = &var_cases[i];
		struct sym_var v;

		if (sym_find_var(st, NULL, c->name, &v) < 0)
			fail_msg("%s: %s not found", path, c->name);
		assert_string_equal(v.name, c->name);
		assert_null(v.func);
		assert_int_equal(v.kind, SYM_STATIC);
		if (v.addr != sym_value(path, c->name))
			fail_msg("%s: %s at 0x%llx, ELF says 0x%llx", path, c->name,
				 (unsigned long long)v.addr,
				 (unsigned long long)sym_value(path, c->name));
		assert_int_equal(v.size, c->size);
		assert_non_null(v.type);
		assert_string_equal(sym_type_name(v.type), c->type);
		assert_int_equal(sym_type_size(v.type), c->size);
		if (sym_type_is_marked(v.type) != c->marked)
			fail_msg("%s: marked %d", c->name, !c->marked);
	}
	sym_close(st);
}

static void test_globals(void **state)
{
	(void)state;
	check_globals(o1);
	check_globals(o2);
}

static void test_members(void **state)
{
	struct symtab *st = open_or_fail(o1);
	const struct sym_type *t, *m;
	struct sym_var v;
	char err[256];
	uint64_t off, total;

	(void)state;
	assert_int_equal(sym_find_var(st, NULL, "g_outer", &v), 0);
	/* g_outer.in.vals[2] */
	assert_int_equal(sym_type_member(v.type, "in", &off, &t, err, sizeof(err)), 0);
	assert_int_equal(off, offsetof(struct outer, in));
	assert_string_equal(sym_type_name(t), "struct inner");
	total = off;
	assert_int_equal(sym_type_member(t, "vals", &off, &t, err, sizeof(err)), 0);
	assert_int_equal(off, offsetof(struct inner, vals));
	assert_string_equal(sym_type_name(t), "int [3]");
	total += off;
	assert_int_equal(sym_type_index(t, 2, &off, &t, err, sizeof(err)), 0);
	total += off;
	assert_int_equal(total, offsetof(struct outer, in.vals[2]));
	assert_int_equal(sym_type_size(t), sizeof(int));

	assert_int_equal(sym_type_member(v.type, "tail", &off, &m, err, sizeof(err)), 0);
	assert_int_equal(off, offsetof(struct outer, tail));
	assert_int_equal(sym_type_size(m), sizeof(long));

	/* Bit-fields: the bytes that hold them. */
	assert_int_equal(sym_type_member(v.type, "flag", &off, &m, err, sizeof(err)), 0);
	assert_int_equal(off, SYMTEST_FLAG_BYTE);
	assert_int_equal(sym_type_size(m), 1);
	assert_int_equal(sym_type_member(v.type, "mode", &off, &m, err, sizeof(err)), 0);
	assert_int_equal(off, SYMTEST_MODE_BYTE);
	assert_int_equal(sym_type_size(m), 1);
	assert_int_equal(sym_type_member(v.type, "wide", &off, &m, err, sizeof(err)), 0);
	assert_int_equal(off, SYMTEST_WIDE_BYTE);
	assert_int_equal(sym_type_size(m), SYMTEST_WIDE_LEN);

	assert_int_equal(sym_type_member(v.type, "nope", &off, &m, err, sizeof(err)), -1);
	assert_string_equal(err, "struct outer has no member nope");

	/* Arrays: out of bounds, multi-dimensional, of structs. */
	assert_int_equal(sym_find_var(st, NULL, "g_buf", &v), 0);
	assert_int_equal(sym_type_index(v.type, 15, &off, &t, err, sizeof(err)), 0);
	assert_int_equal(off, 15);
	assert_int_equal(sym_type_index(v.type, 16, &off, &t, err, sizeof(err)), -1);
	assert_string_equal(err, "index 16 out of bounds for char [16]");
	assert_int_equal(sym_type_member(v.type, "x", &off, &t, err, sizeof(err)), -1);
	assert_string_equal(err, "char [16] is not a struct or union");

	assert_int_equal(sym_find_var(st, NULL, "g_matrix", &v), 0);
	assert_int_equal(sym_type_index(v.type, 2, &off, &t, err, sizeof(err)), 0);
	assert_int_equal(off, offsetof(struct { int m[3][4]; }, m[2]));
	assert_string_equal(sym_type_name(t), "int [4]");
	assert_int_equal(sym_type_size(t), sizeof(int[4]));
	assert_int_equal(sym_type_index(t, 3, &off, &t, err, sizeof(err)), 0);
	assert_int_equal(off, 3 * sizeof(int));
	assert_int_equal(sym_type_index(v.type, 3, &off, &t, err, sizeof(err)), -1);

	assert_int_equal(sym_find_var(st, NULL, "g_points", &v), 0);
	assert_int_equal(sym_type_index(v.type, 3, &off, &t, err, sizeof(err)), 0);
	assert_int_equal(off, 3 * sizeof(struct point));
	assert_int_equal(sym_type_member(t, "y", &off, &m, err, sizeof(err)), 0);
	assert_int_equal(off, offsetof(struct point, y));

	/* The type walk never follows pointers (resolution reads them). */
	assert_int_equal(sym_find_var(st, NULL, "g_ptr", &v), 0);
	assert_int_equal(sym_type_index(v.type, 0, &off, &t, err, sizeof(err)), -1);
	assert_string_equal(err, "int * is a pointer, not an array");
	assert_int_equal(sym_find_var(st, NULL, "g_int", &v), 0);
	assert_int_equal(sym_type_member(v.type, "x", &off, &t, err, sizeof(err)), -1);
	assert_string_equal(err, "int is not a struct or union");

	/* A typedef'd volatile struct: looked through, still marked. */
	assert_int_equal(sym_find_var(st, NULL, "g_vpoint", &v), 0);
	assert_int_equal(sym_type_member(v.type, "y", &off, &m, err, sizeof(err)), 0);
	assert_int_equal(off, offsetof(struct point, y));
	assert_true(sym_type_is_marked(v.type));
	sym_close(st);
}

static void test_kinds(void **state)
{
	struct symtab *st = open_or_fail(o1);
	struct sym_var v;
	uint64_t val, size;

	(void)state;
	/* A function static: found only with its function. */
	assert_int_equal(sym_find_var(st, "counter", "count", &v), 0);
	assert_int_equal(v.kind, SYM_STATIC);
	assert_string_equal(v.func, "counter");
	assert_int_equal(v.size, sizeof(int));
	assert_int_equal(elf_sym(o1, "count", 1, &val, &size), 0);
	assert_int_equal(v.addr, val);
	assert_int_equal(sym_find_var(st, NULL, "count", &v), -1);
	assert_int_equal(sym_find_var(st, "main", "count", &v), -1);
	assert_int_equal(sym_find_var(st, "nosuchfunc", "count", &v), -1);

	/* Found, but not watchable: the kind says why. */
	assert_int_equal(sym_find_var(st, NULL, "g_tls", &v), 0);
	assert_int_equal(v.kind, SYM_TLS);
	assert_int_equal(sym_find_var(st, "main", "sum", &v), 0);
	assert_true(v.kind == SYM_REGISTER || v.kind == SYM_STACK ||
		    v.kind == SYM_OPTIMIZED_OUT);
	assert_string_equal(v.func, "main");
	assert_int_equal(sym_find_var(st, "scale", "v", &v), 0);	/* a parameter */
	assert_int_not_equal(v.kind, SYM_STATIC);
	assert_int_equal(sym_find_var(st, NULL, "nosuchvar", &v), -1);
	sym_close(st);
}

static void test_suggest(void **state)
{
	struct symtab *st = open_or_fail(o1);
	const char *s[4];

	(void)state;
	assert_int_equal(sym_suggest(st, "fooo", s, 4), 2);
	assert_string_equal(s[0], "foo");
	assert_string_equal(s[1], "foo2");
	assert_true(sym_suggest(st, "g_outr", s, 4) >= 1);	/* also g_ptr */
	assert_string_equal(s[0], "g_outer");			/* but first */
	assert_int_equal(sym_suggest(st, "g_ipt", s, 1), 1);	/* swap + typo */
	assert_true(strcmp(s[0], "g_int") == 0 || strcmp(s[0], "g_ptr") == 0);
	assert_int_equal(sym_suggest(st, "countr::count", s, 4), 1);
	assert_string_equal(s[0], "counter::count");
	assert_true(sym_suggest(st, "count", s, 4) >= 1);	/* not a global... */
	assert_string_equal(s[0], "counter::count");		/* ...but a static */
	assert_int_equal(sym_suggest(st, "zzzzzzzz", s, 4), 0);
	sym_close(st);
}

/* ---- functions, lines, inline frames --------------------------------- */

/* Every pc of scale() names scale at a line between its markers. */
static void check_scale(const char *path)
{
	struct symtab *st = open_or_fail(path);
	int lo = marker("scale-begin"), hi = marker("scale-end");
	uint64_t start, size, s2, z2;

	assert_int_equal(elf_sym(path, "scale", 0, &start, &size), 0);
	for (uint64_t pc = start; pc < start + size; pc++) {
		struct sym_frame f[8];
		int n = sym_frames_at(st, pc, f, 8);

		assert_string_equal(sym_func_at(st, pc, &s2, &z2), "scale");
		assert_int_equal(s2, start);
		assert_int_equal(z2, size);
		if (n < 1)
			fail_msg("%s: no frame at 0x%llx", path, (unsigned long long)pc);
		assert_string_equal(f[0].func, "scale");
		assert_int_equal(f[0].inlined, 0);
		if (!file_is(f[0].file, SRC) || f[0].line <= lo || f[0].line >= hi)
			fail_msg("%s: 0x%llx at %s:%d, want %s:%d..%d", path,
				 (unsigned long long)pc, f[0].file, f[0].line, SRC, lo, hi);
	}
	sym_close(st);
}

static void test_function_lines(void **state)
{
	(void)state;
	check_scale(o1);
	check_scale(o2);
}

/*
 * Somewhere in combine() the pc is inside the inlined mix(): the chain is
 * mix (inlined, a line of mix's body) then combine at the call's line.
 */
static int check_inline(const char *path)
{
	struct symtab *st = open_or_fail(path);
	int lo = marker("mix-begin"), hi = marker("mix-end"), call = marker("call-mix");
	uint64_t start, size;
	int seen = 0;

	assert_int_equal(elf_sym(path, "combine", 0, &start, &size), 0);
	for (uint64_t pc = start; pc < start + size; pc++) {
		struct sym_frame f[8];
		int n = sym_frames_at(st, pc, f, 8);

		assert_true(n >= 1);
		assert_string_equal(sym_func_at(st, pc, NULL, NULL), "combine");
		if (n == 1) {
			assert_string_equal(f[0].func, "combine");
			continue;
		}
		assert_int_equal(n, 2);
		assert_string_equal(f[0].func, "mix");
		assert_int_equal(f[0].inlined, 1);
		assert_true(file_is(f[0].file, SRC));
		if (f[0].line <= lo || f[0].line >= hi)
			fail_msg("%s: mix at line %d, want %d..%d", path, f[0].line, lo, hi);
		assert_string_equal(f[1].func, "combine");
		assert_int_equal(f[1].inlined, 0);
		assert_true(file_is(f[1].file, SRC));
		assert_int_equal(f[1].line, call);
		/* max bounds the chain, innermost first. */
		assert_int_equal(sym_frames_at(st, pc, f, 1), 1);
		assert_string_equal(f[0].func, "mix");
		seen++;
	}
	sym_close(st);
	return seen;
}

static void test_inline_frames(void **state)
{
	(void)state;
	if (check_inline(o2) == 0)
		fail_msg("%s: no pc of combine() is in the inlined mix()", o2);
	check_inline(o1);
}

/* ---- no DWARF -------------------------------------------------------- */

static void test_no_dwarf(void **state)
{
	char path[512], cmd[1200], err[256];
	struct symtab *st;
	struct sym_var v;
	struct sym_frame f[4];
	const char *s[4];
	uint64_t start, size;

	(void)state;
	snprintf(path, sizeof(path), "%s/stripped", tmpdir);
	snprintf(cmd, sizeof(cmd), "objcopy --strip-debug '%s' '%s'", o1, path);
	if (run(cmd) != 0)
		skip();
	st = sym_open(path, err, sizeof(err));
	assert_non_null(st);
	assert_int_equal(sym_has_dwarf(st), 0);
	assert_true(sym_is_pie(st));

	/* Variables from the ELF symbol table: address and size, no type. */
	assert_int_equal(sym_find_var(st, NULL, "g_outer", &v), 0);
	assert_int_equal(v.kind, SYM_STATIC);
	assert_int_equal(v.addr, sym_value(o1, "g_outer"));
	assert_int_equal(v.size, sizeof(struct outer));
	assert_null(v.type);
	assert_int_equal(sym_find_var(st, NULL, "file_static", &v), 0);
	assert_int_equal(sym_find_var(st, NULL, "g_tls", &v), 0);
	assert_int_equal(v.kind, SYM_TLS);
	assert_int_equal(sym_find_var(st, "counter", "count", &v), -1);
	assert_int_equal(sym_suggest(st, "fooo", s, 4), 2);

	/* Functions by name, but no lines. */
	assert_int_equal(elf_sym(o1, "scale", 0, &start, &size), 0);
	assert_string_equal(sym_func_at(st, start + 1, NULL, NULL), "scale");
	assert_int_equal(sym_frames_at(st, start + 1, f, 4), 0);
	sym_close(st);
}

/* ---- other builds ---------------------------------------------------- */

/* -O0, DWARF 4 (.debug_ranges instead of .debug_rnglists), non-PIE. */
static void test_variants(void **state)
{
	static const char *const flags[] = { "-O0", "-O2 -gdwarf-4", "-O2 -no-pie" };
	char path[512], cmd[1500];

	(void)state;
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		struct symtab *st;
		struct sym_var v;
		struct sym_frame f[4];
		uint64_t start, size;

		snprintf(path, sizeof(path), "%s/variant%zu", tmpdir, i);
		snprintf(cmd, sizeof(cmd), "cc %s -g -pthread -o '%s' %s 2>/dev/null",
			 flags[i], path, SRC);
		if (run(cmd) != 0) {
			fprintf(stderr, "cannot build symtest %s: skipped\n", flags[i]);
			continue;
		}
		st = open_or_fail(path);
		assert_int_equal(sym_is_pie(st), strstr(flags[i], "no-pie") == NULL);
		assert_int_equal(sym_find_var(st, NULL, "g_outer", &v), 0);
		assert_int_equal(v.addr, sym_value(path, "g_outer"));
		assert_int_equal(v.size, sizeof(struct outer));
		assert_int_equal(sym_find_var(st, "counter", "count", &v), 0);
		assert_int_equal(v.kind, SYM_STATIC);
		assert_int_equal(elf_sym(path, "scale", 0, &start, &size), 0);
		assert_true(sym_frames_at(st, start, f, 4) >= 1);
		assert_string_equal(f[0].func, "scale");
		if (i > 0 && check_inline(path) == 0)
			fail_msg("%s (%s): no inline frame", path, flags[i]);
		sym_close(st);
	}
}

/* ---- a live process: this one ---------------------------------------- */

struct tglobal {
	int a;
	long b;
	char c[8];
	struct point p[2];
};

struct tglobal test_global = { 1, 2, "abc", { { 0, 0 }, { 0, 0 } } };
volatile int test_volatile;
__thread int test_tls;

__attribute__((noinline)) int test_hits(void)
{
	static int hits;

	return ++hits;
}

static void resolve_ok(struct addrspace *as, const char *text, const void *addr,
		       uint64_t len, const char *name, int marked)
{
	struct watch_target t;
	struct wexpr e;
	char err[256];

	if (wexpr_parse(text, &e, err, sizeof(err)) < 0)
		fail_msg("parse %s: %s", text, err);
	if (wexpr_resolve(&e, as, &t, err, sizeof(err)) < 0)
		fail_msg("resolve %s: %s", text, err);
	if (t.addr != (uint64_t)(uintptr_t)addr || t.len != len)
		fail_msg("%s: 0x%llx:%llu, want %p:%llu", text, (unsigned long long)t.addr,
			 (unsigned long long)t.len, addr, (unsigned long long)len);
	assert_string_equal(t.name, name);
	assert_int_equal(t.marked, marked);
}

static void resolve_err(struct addrspace *as, const char *text, const char *want)
{
	struct watch_target t;
	struct wexpr e;
	char err[256];

	assert_int_equal(wexpr_parse(text, &e, err, sizeof(err)), 0);
	assert_int_equal(wexpr_resolve(&e, as, &t, err, sizeof(err)), -1);
	if (!strstr(err, want))
		fail_msg("%s: '%s' does not say '%s'", text, err, want);
}

static void test_self(void **state)
{
	char err[256];
	struct addrspace *as = as_open(getpid(), "/proc/self/exe", err, sizeof(err));
	struct sym_frame f[4];
	uint64_t bias, start, size;
	int local = 0;

	(void)state;
	if (!as)
		fail_msg("as_open(self): %s", err);
	test_hits();
	assert_non_null(as_exe(as, &bias));
	assert_true(as_module(as, 0, NULL) == as_exe(as, NULL));
	assert_true(as_module_count(as) >= 2);	/* and libc, ld.so... */

	resolve_ok(as, "test_global", &test_global, sizeof(test_global), "test_global", 0);
	resolve_ok(as, "test_global.b", &test_global.b, sizeof(long), "test_global.b", 0);
	resolve_ok(as, "test_global.c[3]", &test_global.c[3], 1, "test_global.c[3]", 0);
	resolve_ok(as, "test_global.p[1].y", &test_global.p[1].y, sizeof(int),
		   "test_global.p[1].y", 0);
	resolve_ok(as, "test_volatile", (const void *)(uintptr_t)&test_volatile, sizeof(int), "test_volatile", 1);
	{
		char text[64], name[64];

		snprintf(text, sizeof(text), "%p:4", (void *)&test_global);
		snprintf(name, sizeof(name), "%p:4", (void *)&test_global);
		resolve_ok(as, text, &test_global, 4, name, 0);
	}

	resolve_err(as, "test_globl", "unknown variable 'test_globl' (did you mean: test_global");
	resolve_err(as, "test_tls", "'test_tls' is thread-local");
	resolve_err(as, "test_global.zz", "'test_global': struct tglobal has no member zz");
	resolve_err(as, "test_global.c[8]", "'test_global.c': index 8 out of bounds for char [8]");
	resolve_err(as, "test_hits::hitz", "unknown variable 'test_hits::hitz' (did you "
		    "mean: test_hits::hits?)");

	/* A function static, through the same path as globals. */
	{
		struct watch_target t;
		struct wexpr e;

		assert_int_equal(wexpr_parse("test_hits::hits", &e, err, sizeof(err)), 0);
		assert_int_equal(wexpr_resolve(&e, as, &t, err, sizeof(err)), 0);
		assert_int_equal(t.len, sizeof(int));
		assert_int_equal(*(int *)(uintptr_t)t.addr, 1);
		assert_string_equal(t.name, "test_hits::hits");
	}

	/* Code in the executable, in libc (ELF names only), and nowhere. */
	assert_true(as_frames_at(as, (uintptr_t)&test_hits, f, 4) >= 1);
	assert_string_equal(f[0].func, "test_hits");
	assert_true(file_is(f[0].file, "test_symbols.c"));
	assert_string_equal(as_func_at(as, (uintptr_t)&test_hits + 1, &start, &size),
			    "test_hits");
	assert_int_equal(start, (uintptr_t)&test_hits);
	assert_int_equal(as_frames_at(as, (uintptr_t)&getpid, f, 4), 1);
	assert_non_null(strstr(f[0].func, "getpid"));
	assert_null(as_module_at(as, (uintptr_t)&local, &bias));	/* [stack] */
	if (getauxval(AT_SYSINFO_EHDR))					/* [vdso] */
		assert_int_equal(as_frames_at(as, getauxval(AT_SYSINFO_EHDR), f, 4), 0);
	as_close(as);
}

/* ---- a live process: symtest stopped right after exec ----------------- */

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
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGTRAP) {
		waitpid(pid, &status, 0);
		return -1;
	}
	return pid;
}

/*
 * Stop a fresh symtest at exec and check resolution against its memory.
 * path is the binary to run, elf the same binary to read symbols from
 * (they differ when unlink_it removes path once the process maps it: the
 * maps then say "(deleted)").
 */
static void child_case(const char *path, const char *elf, int pie, int unlink_it)
{
	struct watch_target t;
	struct wexpr e;
	struct addrspace *as;
	struct sym_frame f[4];
	char err[256], fn[64], buf[16];
	uint64_t bias;
	long lv;
	int iv, fd, status;
	pid_t pid = spawn_stopped(path);

	if (pid < 0) {
		fprintf(stderr, "cannot trace %s: skipped\n", path);
		return;
	}
	if (unlink_it)
		assert_int_equal(unlink(path), 0);
	path = elf;
	snprintf(fn, sizeof(fn), "/proc/%d/exe", (int)pid);
	as = as_open(pid, fn, err, sizeof(err));
	if (!as)
		fail_msg("as_open(%s): %s", path, err);
	snprintf(fn, sizeof(fn), "/proc/%d/mem", (int)pid);
	fd = open(fn, O_RDONLY);
	assert_true(fd >= 0);

	assert_non_null(as_exe(as, &bias));
	if (pie)
		assert_true(bias != 0 && bias % 4096 == 0);
	else
		assert_int_equal(bias, 0);

	/* The resolved addresses hold the values the sample starts with. */
	assert_int_equal(wexpr_parse("g_buf", &e, err, sizeof(err)), 0);
	assert_int_equal(wexpr_resolve(&e, as, &t, err, sizeof(err)), 0);
	assert_int_equal(t.addr, bias + sym_value(path, "g_buf"));
	assert_int_equal(pread(fd, buf, sizeof(buf), (off_t)t.addr), sizeof(buf));
	assert_string_equal(buf, "symtest");
	assert_int_equal(wexpr_parse("g_long", &e, err, sizeof(err)), 0);
	assert_int_equal(wexpr_resolve(&e, as, &t, err, sizeof(err)), 0);
	assert_int_equal(pread(fd, &lv, sizeof(lv), (off_t)t.addr), sizeof(lv));
	assert_int_equal(lv, 2);
	assert_int_equal(wexpr_parse("foo2", &e, err, sizeof(err)), 0);
	assert_int_equal(wexpr_resolve(&e, as, &t, err, sizeof(err)), 0);
	assert_int_equal(pread(fd, &iv, sizeof(iv), (off_t)t.addr), sizeof(iv));
	assert_int_equal(iv, 20);
	assert_int_equal(wexpr_parse("g_outer.in.vals[1]", &e, err, sizeof(err)), 0);
	assert_int_equal(wexpr_resolve(&e, as, &t, err, sizeof(err)), 0);
	assert_int_equal(t.addr, bias + sym_value(path, "g_outer") +
			 offsetof(struct outer, in.vals[1]));
	assert_int_equal(t.len, sizeof(int));
	assert_int_equal(wexpr_parse("g_vpoint.y", &e, err, sizeof(err)), 0);
	assert_int_equal(wexpr_resolve(&e, as, &t, err, sizeof(err)), 0);
	assert_int_equal(t.marked, 1);	/* a member of a volatile struct */
	resolve_err(as, "g_tls", "thread-local");
	resolve_err(as, "main::sum", "'main::sum' is ");
	resolve_err(as, "fooo", "unknown variable 'fooo' (did you mean: foo, foo2?)");
	resolve_err(as, "count", "unknown variable 'count' (did you mean: counter::count");

	/* The entry point, run-time: _start, from the ELF symbols. */
	assert_true(as_frames_at(as, bias + sym_value(path, "_start"), f, 4) >= 1);
	assert_string_equal(f[0].func, "_start");
	assert_string_equal(as_func_at(as, bias + sym_value(path, "scale"), NULL, NULL),
			    "scale");

	close(fd);
	as_close(as);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

static void test_child(void **state)
{
	char path[512], cmd[1200];

	(void)state;
	child_case(o1, o1, 1, 0);

	snprintf(path, sizeof(path), "%s/deleted", tmpdir);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", o2, path);
	assert_int_equal(run(cmd), 0);
	child_case(path, o2, 1, 1);

	snprintf(path, sizeof(path), "%s/nopie", tmpdir);
	snprintf(cmd, sizeof(cmd), "cc -O1 -g -no-pie -pthread -o '%s' %s 2>/dev/null",
		 path, SRC);
	if (run(cmd) == 0)
		child_case(path, path, 0, 0);
	else
		fprintf(stderr, "cannot build a non-PIE symtest: skipped\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_globals),
		cmocka_unit_test(test_members),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_suggest),
		cmocka_unit_test(test_function_lines),
		cmocka_unit_test(test_inline_frames),
		cmocka_unit_test(test_no_dwarf),
		cmocka_unit_test(test_variants),
		cmocka_unit_test(test_self),
		cmocka_unit_test(test_child),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
