/*
 * test_symbols_ptr — naming bytes reached through a pointer in a register
 * (sym_name_through_ptr(), symbols_ptr*.c), the member path of an offset
 * (sym_type_path(), symbols_path.c) and the operand's base register
 * (arch_mem_base(), arch/x86/sites_x86.c), on binaries the Makefile
 * builds (O=build unless the environment says otherwise):
 *
 *   $O/samples/heap/heap_struct-O1, -O2   deposit(a) / withdraw(a)
 *   $O/samples/heap/heap_list-O1, -O2     visit(n)
 *   $O/samples/symtest/ptrtest-O1, -O2    nested structs, arrays, unions,
 *                                         typedefs, inlining, a loop cursor
 *   $O/samples/symtest/symtest-O2         statics for sym_type_path()
 *   DWARF 4 builds of heap_struct and ptrtest, compiled here
 *
 * The instructions are found the way the sampler finds them: every
 * sampleable site (sites_find(SITES_ALL_MEM)) of the function, whose base
 * register arch_mem_base() gives.  Each check says what must be named and
 * what must never be: a site of the function that gets another name, or
 * any site of the whole executable named outside the expected set.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "arch.h"
#include "sites.h"
#include "symbols.h"
#include "../../samples/symtest/symtest.h"

static const char *outdir = "build";
static char tmpdir[256];

/* ---- helpers --------------------------------------------------------- */

static struct symtab *open_or_fail(const char *path)
{
	char err[256];
	struct symtab *st = sym_open(path, err, sizeof(err));

	if (!st)
		fail_msg("sym_open(%s): %s", path, err);
	return st;
}

/* fn is "deposit", or gcc's clone of it ("deposit.constprop.0"). */
static int is_fn(const char *name, const char *fn)
{
	size_t n = strlen(fn);

	return name && strncmp(name, fn, n) == 0 && (name[n] == 0 || name[n] == '.');
}

static int in_set(const char *name, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(name, *set) == 0)
			return 1;
	return 0;
}

/*
 * Check the sampleable sites of function fn (NULL: all of them) in path:
 * with must_name, every site whose operand has a base register is named;
 * every name given is in want; each name of want is given at least once
 * unless optional says how many trailing ones may be missing.  Returns how
 * many sites were named.
 */
static int check(const char *path, const char *fn, const char *const *want,
		 int must_name, int optional)
{
	struct symtab *st = open_or_fail(path);
	struct site *s;
	size_t n, nwant = 0;
	char err[256], name[128];
	int seen[16] = { 0 }, named = 0;

	if (sites_find(path, NULL, 0, SITES_ALL_MEM, &s, &n, err, sizeof(err)) < 0)
		fail_msg("sites_find(%s): %s", path, err);
	for (size_t i = 0; i < n; i++) {
		const char *f = sym_func_at(st, s[i].pc, NULL, NULL);
		int64_t disp;
		int reg;

		if ((fn && !is_fn(f, fn)) ||
		    arch_mem_base(s[i].bytes, s[i].len, &reg, &disp) < 0)
			continue;
		if (sym_name_through_ptr(st, s[i].pc, reg, disp, s[i].size, name,
					 sizeof(name)) < 0) {
			if (must_name)
				fail_msg("%s: %s+%#llx (dwarf reg %d%+lld) not named", path,
					 f, (unsigned long long)s[i].pc, reg, (long long)disp);
			continue;
		}
		if (!in_set(name, want))
			fail_msg("%s: %s at %#llx named \"%s\"", path, f ? f : "?",
				 (unsigned long long)s[i].pc, name);
		for (size_t k = 0; want[k]; k++)
			seen[k] |= strcmp(name, want[k]) == 0;
		named++;
	}
	while (want[nwant])
		nwant++;
	for (size_t k = 0; k + (size_t)optional < nwant; k++)
		if (!seen[k])
			fail_msg("%s: no access in %s named \"%s\"", path,
				 fn ? fn : "the executable", want[k]);
	free(s);
	sym_close(st);
	return named;
}

static void sample(char *buf, size_t len, const char *name, const char *opt)
{
	snprintf(buf, len, "%s/samples/%s-%s", outdir, name, opt);
}

static const char *const account[] = { "struct account.balance", "struct account.ops", NULL };
static const char *const node[] = { "struct node.hits", "struct node.next", "struct node.key", NULL };
static const char *const hits[] = { "struct node.hits", NULL };

/* ---- the heap samples ------------------------------------------------ */

/*
 * deposit / withdraw: a->balance and a->ops.  gcc -O2 adds both with one
 * 16-byte load and store at offsetof(balance): named by the first member,
 * so "ops" is optional there.  main reads a->ops for its last line.
 */
static void heap_struct(const char *path, int vectorized)
{
	int opt = vectorized ? 1 : 0;

	assert_true(check(path, "deposit", account, 1, opt) >= 2);
	assert_true(check(path, "withdraw", account, 1, opt) >= 2);
	check(path, NULL, account, 0, 0);
}

static void test_heap_struct(void **state)
{
	char path[512];

	(void)state;
	sample(path, sizeof(path), "heap/heap_struct", "O1");
	heap_struct(path, 0);
	sample(path, sizeof(path), "heap/heap_struct", "O2");
	heap_struct(path, 1);
}

/* visit: n->hits; the walkers' cursor reads n->next, main sets n->key. */
static void test_heap_list(void **state)
{
	char path[512];

	(void)state;
	for (int o = 1; o <= 2; o++) {
		sample(path, sizeof(path), "heap/heap_list", o == 1 ? "O1" : "O2");
		assert_int_equal(check(path, "visit", hits, 1, 0), 1);
		check(path, NULL, node, 0, 0);
	}
}

/* ---- shapes (ptrtest) ------------------------------------------------ */

static void ptrtest(const char *path)
{
	static const char *const nested[] = { "struct pos.xy[1]", "struct pos.in.b", NULL };
	static const char *const through[] = { "struct pos.xy[0]", NULL };
	static const char *const onion[] = { "struct pos.u.i", NULL };
	static const char *const pairs[] = { "pair_t.left", "pair_t.right", NULL };
	static const char *const clear[] = { "struct pos.id", NULL };
	static const char *const all[] = { "struct pos.xy[1]", "struct pos.in.b",
		"struct pos.xy[0]", "struct pos.u.i", "pair_t.left", "pair_t.right",
		"struct pos.id", NULL };

	check(path, "nested", nested, 1, 0);
	check(path, "through", through, 1, 0);
	check(path, "onion", onion, 1, 0);
	check(path, "pairs", pairs, 1, 0);
	check(path, "clear", clear, 1, 0);
	check(path, NULL, all, 0, 0);
}

static void test_shapes(void **state)
{
	char path[512];

	(void)state;
	sample(path, sizeof(path), "symtest/ptrtest", "O1");
	ptrtest(path);
	sample(path, sizeof(path), "symtest/ptrtest", "O2");
	ptrtest(path);
}

/* DWARF 4: .debug_loc instead of .debug_loclists, .debug_ranges. */
static void test_dwarf4(void **state)
{
	static const char *const opts[] = { "-O1", "-O2" };
	char path[512], cmd[1200];

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/heap_struct%s", tmpdir, opts[i]);
		snprintf(cmd, sizeof(cmd), "cc %s -g -gdwarf-4 -pthread -o '%s' "
			 "samples/heap/heap_struct.c 2>/dev/null", opts[i], path);
		if (system(cmd) != 0) {
			fprintf(stderr, "cannot build heap_struct %s -gdwarf-4: skipped\n", opts[i]);
			continue;
		}
		heap_struct(path, i == 1);
		snprintf(path, sizeof(path), "%s/ptrtest%s", tmpdir, opts[i]);
		snprintf(cmd, sizeof(cmd), "cc %s -g -gdwarf-4 -o '%s' "
			 "samples/symtest/ptrtest.c 2>/dev/null", opts[i], path);
		if (system(cmd) == 0)
			ptrtest(path);
	}
}

/* ---- what DWARF does not tell ---------------------------------------- */

static void test_unknown(void **state)
{
	char path[512], name[128];
	struct symtab *st;
	struct site *s;
	size_t n;
	uint64_t pc = 0, main_pc = 0;
	int reg, argv_reads = 0;
	int64_t disp;

	(void)state;
	sample(path, sizeof(path), "heap/heap_struct", "O2");
	st = open_or_fail(path);
	assert_int_equal(sites_find(path, NULL, 0, SITES_ALL_MEM, &s, &n, name,
				    sizeof(name)), 0);
	for (size_t i = 0; i < n; i++) {
		const char *f = sym_func_at(st, s[i].pc, NULL, NULL);

		if (is_fn(f, "deposit") && !pc)
			pc = s[i].pc;
		if (is_fn(f, "main") && !main_pc)
			sym_func_at(st, s[i].pc, &main_pc, NULL);
		/* main's atol(argv[1]): a char ** points to a scalar. */
		if (is_fn(f, "main") && arch_mem_base(s[i].bytes, s[i].len, &reg, &disp) == 0 &&
		    disp == 8 && s[i].size == 8 &&
		    sym_name_through_ptr(st, s[i].pc, reg, disp, 8, name, sizeof(name)) < 0)
			argv_reads++;
	}
	free(s);
	assert_true(argv_reads >= 1);
	assert_true(pc != 0);
	/* The right pc, but a register no pointer variable is in. */
	assert_int_equal(sym_name_through_ptr(st, pc, 10, 40, 8, name, sizeof(name)), -1);
	/* rdi (a), but outside struct account, or before it. */
	assert_int_equal(sym_name_through_ptr(st, pc, 5, 4096, 8, name, sizeof(name)), -1);
	assert_int_equal(sym_name_through_ptr(st, pc, 5, -8, 8, name, sizeof(name)), -1);
	/* main's a lives in rbx from after calloc() on (a location list
	 * entry), not at main's first instruction. */
	assert_true(main_pc != 0);
	assert_int_equal(sym_name_through_ptr(st, main_pc, 3, 48, 8, name, sizeof(name)), -1);
	/* No function there. */
	assert_int_equal(sym_name_through_ptr(st, 0, 5, 40, 8, name, sizeof(name)), -1);
	/* Too small a buffer. */
	assert_int_equal(sym_name_through_ptr(st, pc, 5, 40, 8, name, 8), -1);
	assert_int_equal(sym_name_through_ptr(st, pc, 5, 40, 8, name, sizeof(name)), 0);
	assert_string_equal(name, "struct account.balance");
	sym_close(st);
}

/* ---- sym_type_path on statics ---------------------------------------- */

static void path_is(const struct sym_type *t, uint64_t off, uint64_t size,
		    const char *want)
{
	char buf[64];

	if (sym_type_path(t, off, size, buf, sizeof(buf)) < 0)
		fail_msg("offset %llu: -1, want \"%s\"", (unsigned long long)off, want);
	if (strcmp(buf, want) != 0)
		fail_msg("offset %llu size %llu: \"%s\", want \"%s\"",
			 (unsigned long long)off, (unsigned long long)size, buf, want);
}

static void test_type_path(void **state)
{
	char path[512], buf[8];
	struct symtab *st;
	struct sym_var v;

	(void)state;
	sample(path, sizeof(path), "symtest/symtest", "O2");
	st = open_or_fail(path);
	assert_int_equal(sym_find_var(st, NULL, "g_outer", &v), 0);
	path_is(v.type, offsetof(struct outer, in.vals[2]), 4, ".in.vals[2]");
	path_is(v.type, offsetof(struct outer, in.s), 2, ".in.s");
	path_is(v.type, offsetof(struct outer, in), 0, ".in.s");
	path_is(v.type, offsetof(struct outer, tag) + 1, 1, "");	/* padding */
	path_is(v.type, offsetof(struct outer, tail), 16, ".tail");	/* spans */
	path_is(v.type, SYMTEST_FLAG_BYTE, 1, ".flag");
	path_is(v.type, SYMTEST_WIDE_BYTE, SYMTEST_WIDE_LEN, ".wide");
	assert_int_equal(sym_type_path(v.type, sizeof(struct outer), 1, buf, sizeof(buf)), -1);
	assert_int_equal(sym_type_path(v.type, offsetof(struct outer, in.vals[2]), 4,
				       buf, sizeof(buf)), -1);	/* too long */
	assert_int_equal(sym_find_var(st, NULL, "g_matrix", &v), 0);
	path_is(v.type, (1 * 4 + 2) * sizeof(int), 4, "[1][2]");
	path_is(v.type, 4 * sizeof(int), 16, "[1][0]");
	assert_int_equal(sym_find_var(st, NULL, "g_points", &v), 0);
	path_is(v.type, 2 * sizeof(struct point) + offsetof(struct point, y), 4, "[2].y");
	sym_close(st);
}

/* ---- arch_mem_base --------------------------------------------------- */

static void test_mem_base(void **state)
{
	static const struct {
		const char *text;
		uint8_t b[15];
		int ok, reg;
		int64_t disp;
	} rows[] = {
		{ "add [rdi+0x28], rsi", { 0x48, 0x01, 0x77, 0x28 }, 1, 5, 0x28 },
		{ "push qword [rbx+8]", { 0xff, 0x73, 0x08 }, 1, 3, 8 },
		{ "mov r12, [r13]", { 0x4d, 0x8b, 0x65, 0x00 }, 1, 13, 0 },
		{ "mov eax, [rdx-4]", { 0x8b, 0x42, 0xfc }, 1, 1, -4 },
		{ "movups [rdi+0x28], xmm0", { 0x0f, 0x11, 0x47, 0x28 }, 1, 5, 0x28 },
		{ "mov eax, [rip+0x100]", { 0x8b, 0x05, 0x00, 0x01, 0x00, 0x00 }, 0, 0, 0 },
		{ "mov rax, [rax+rcx*8]", { 0x48, 0x8b, 0x04, 0xc8 }, 0, 0, 0 },
		{ "lea rax, [rdi+8]", { 0x48, 0x8d, 0x47, 0x08 }, 0, 0, 0 },
		{ "mov eax, fs:[rax]", { 0x64, 0x8b, 0x00 }, 0, 0, 0 },
		{ "ret", { 0xc3 }, 0, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int reg = -1;
		int64_t disp = 0;
		int r = arch_mem_base(rows[i].b, sizeof(rows[i].b), &reg, &disp);

		if (rows[i].ok != (r == 0) || (r == 0 && (reg != rows[i].reg ||
							  disp != rows[i].disp)))
			fail_msg("%s: %d, reg %d disp %lld", rows[i].text, r, reg,
				 (long long)disp);
	}
}

/* ---- fixture --------------------------------------------------------- */

static int setup(void **state)
{
	const char *o = getenv("O");

	(void)state;
	if (o && *o)
		outdir = o;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_symbols_ptr.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heap_struct),
		cmocka_unit_test(test_heap_list),
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_dwarf4),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_type_path),
		cmocka_unit_test(test_mem_base),
	};

	return cmocka_run_group_tests_name("symbols_ptr", tests, setup, teardown);
}
