/*
 * test_symbols_lazy — a module's DWARF indexed one unit at a time
 * (tracer/dwarf/symbols_lazy.c) answers every query as the whole index
 * does (RACEWATCH_TEST_DWARF=eager), on a three-unit program built here:
 *
 *   lazy_a.c  a global, a file static `twin`, a function with a static
 *   lazy_b.c  another file static `twin`, a function static `cnt`
 *   lazy_c.c  main, a thread-local, a global only its unit defines
 *
 * Names found through the ELF symbols (a global by the unit holding its
 * DW_OP_addr, a static by its STT_FILE, a function by its pc range), a
 * name the symbols do not know (the thread-local: the units' names are
 * read then), a function static, frames at a pc, the variable at an
 * address (and sym_static_at()'s ELF answer before the unit is read),
 * listings and suggestions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "symbols.h"

static char tmpdir[256], prog[512];

static const char *const src[] = {
	"lazy_a.c",
	"int lz_global = 1;\n"
	"static int twin = 2;\n"
	"int *ta(void)\n{\n\treturn &twin;\n}\n"
	"int fa(int k)\n{\n\tstatic int calls;\n\treturn twin + k + ++calls;\n}\n",
	"lazy_b.c",
	"static long twin[4];\n"
	"__attribute__((noinline)) int fb(void)\n{\n\tstatic int cnt;\n\ttwin[1]++;\n"
	"\treturn ++cnt;\n}\n",
	"lazy_c.c",
	"__thread int lz_tls;\nstruct pair { int x, y; } lz_pair;\n"
	"int fa(int);\nint fb(void);\n"
	"int main(int argc, char **argv)\n{\n\t(void)argv;\n\tlz_tls = argc;\n"
	"\tlz_pair.y = fa(argc) + fb();\n\treturn lz_pair.y == 12345 ? lz_tls : 0;\n}\n",
};

static int setup(void **state)
{
	char path[600], cmd[2000];
	FILE *f;

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_symbols_lazy.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	for (size_t i = 0; i < sizeof(src) / sizeof(src[0]); i += 2) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, src[i]);
		if (!(f = fopen(path, "w")))
			return -1;
		fputs(src[i + 1], f);
		fclose(f);
	}
	snprintf(prog, sizeof(prog), "%s/lazy", tmpdir);
	snprintf(cmd, sizeof(cmd), "cd '%s' && cc -g -O1 -o lazy lazy_a.c lazy_b.c lazy_c.c", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct symtab *open_mode(int eager)
{
	char err[256];
	struct symtab *st;

	if (eager)
		setenv("RACEWATCH_TEST_DWARF", "eager", 1);
	else
		unsetenv("RACEWATCH_TEST_DWARF");
	st = sym_open(prog, err, sizeof(err));
	unsetenv("RACEWATCH_TEST_DWARF");
	if (!st)
		fail_msg("sym_open(%s): %s", prog, err);
	return st;
}

static void same_var(const struct sym_var *a, const struct sym_var *b)
{
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->addr, b->addr);
	assert_int_equal(a->size, b->size);
	assert_int_equal(a->external, b->external);
	assert_true((a->type == NULL) == (b->type == NULL));
	if (a->type)
		assert_string_equal(sym_type_name(a->type), sym_type_name(b->type));
	assert_true((a->decl_file == NULL) == (b->decl_file == NULL));
	if (a->decl_file)
		assert_string_equal(a->decl_file, b->decl_file);
	assert_int_equal(a->decl_line, b->decl_line);
}

/* One fresh symtab per query, so each query starts from nothing indexed. */
static void test_by_name(void **state)
{
	static const char *const names[] = { "lz_global", "twin", "lz_pair", "lz_tls", "main", "nope" };

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct symtab *lz = open_mode(0), *eg = open_mode(1);
		struct sym_var a[4], b[4];
		int na = sym_find_vars(lz, names[i], a, 4), nb = sym_find_vars(eg, names[i], b, 4);

		assert_int_equal(na, nb);
		for (int k = 0; k < na && k < 4; k++)
			same_var(&a[k], &b[k]);
		sym_close(lz);
		lz = open_mode(0);
		na = sym_find_var(lz, NULL, names[i], &a[0]);
		assert_int_equal(na, sym_find_var(eg, NULL, names[i], &b[0]));
		if (na == 0)
			same_var(&a[0], &b[0]);
		sym_close(lz);
		sym_close(eg);
	}
	/* twin is two statics, the thread-local only DWARF's top level tells. */
	struct symtab *lz = open_mode(0);
	struct sym_var v[4];

	assert_int_equal(sym_find_vars(lz, "twin", v, 4), 2);
	sym_close(lz);
	lz = open_mode(0);
	assert_int_equal(sym_find_var(lz, NULL, "lz_tls", v), 0);
	assert_int_equal(v[0].kind, SYM_TLS);
	sym_close(lz);
}

static void test_function_static(void **state)
{
	struct symtab *lz = open_mode(0), *eg = open_mode(1);
	struct sym_var a, b;

	(void)state;
	assert_int_equal(sym_find_var(lz, "fb", "cnt", &a), 0);
	assert_int_equal(sym_find_var(eg, "fb", "cnt", &b), 0);
	same_var(&a, &b);
	assert_int_equal(a.kind, SYM_STATIC);
	assert_string_equal(a.func, "fb");
	assert_int_equal(sym_find_var(lz, "fa", "cnt", &a), -1);
	sym_close(lz);

	/* By address: sym_static_at() from the ELF symbols first ("cnt.0" is
	 * "cnt"), then sym_var_at() with the unit read. */
	lz = open_mode(0);
	assert_int_equal(sym_static_at(lz, b.addr, &a), 0);
	assert_null(a.type);		/* the ELF's answer: the open was lazy */
	assert_string_equal(a.name, "cnt");
	assert_int_equal(a.addr, b.addr);
	assert_int_equal(a.size, b.size);
	assert_int_equal(sym_var_at(lz, b.addr + b.size - 1, &a), 0);
	same_var(&a, &b);
	assert_int_equal(sym_static_at(lz, b.addr, &a), 0);
	assert_non_null(a.type);	/* the unit is read now: DWARF's answer */
	sym_close(lz);
	sym_close(eg);
}

static void test_frames(void **state)
{
	static const char *const fns[] = { "fa", "fb", "main" };

	(void)state;
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		struct symtab *lz = open_mode(0), *eg = open_mode(1);
		struct sym_frame a[8], b[8];
		uint64_t pc;
		int na, nb;

		assert_int_equal(sym_func_named(eg, fns[i], &pc), 0);
		na = sym_frames_at(lz, pc, a, 8);
		nb = sym_frames_at(eg, pc, b, 8);
		assert_true(na >= 1);
		assert_int_equal(na, nb);
		for (int k = 0; k < na; k++) {
			assert_string_equal(a[k].func, b[k].func);
			assert_string_equal(a[k].file, b[k].file);
			assert_int_equal(a[k].line, b[k].line);
			assert_int_equal(a[k].inlined, b[k].inlined);
		}
		sym_close(lz);
		sym_close(eg);
	}
}

static void test_listing(void **state)
{
	struct symtab *lz = open_mode(0), *eg = open_mode(1);
	const char *sa[3], *sb[3];
	struct sym_var a, b;
	size_t n = sym_var_count(lz);
	int ka, kb;

	(void)state;
	assert_int_equal(n, sym_var_count(eg));
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(sym_var_index(lz, i, &a), 0);
		assert_int_equal(sym_var_index(eg, i, &b), 0);
		same_var(&a, &b);
	}
	sym_close(lz);
	lz = open_mode(0);
	ka = sym_suggest(lz, "lz_globl", sa, 3);
	kb = sym_suggest(eg, "lz_globl", sb, 3);
	assert_int_equal(ka, kb);
	assert_true(ka >= 1);
	for (int i = 0; i < ka; i++)
		assert_string_equal(sa[i], sb[i]);
	sym_close(lz);
	sym_close(eg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_by_name),
		cmocka_unit_test(test_function_static),
		cmocka_unit_test(test_frames),
		cmocka_unit_test(test_listing),
	};

	return cmocka_run_group_tests_name("symbols_lazy", tests, setup, teardown);
}
