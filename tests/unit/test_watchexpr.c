/*
 * test_watchexpr — wexpr_parse() on every valid form and every error, with
 * the exact message (and so the column) each error must give.  Pure: no
 * process, no file.  Resolution is tested in test_symbols.c and
 * test_exprs.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "watchexpr.h"

/* ---- valid expressions ----------------------------------------------- */

static void print_steps(const struct wexpr *e, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (int i = 0; i < e->nsteps; i++) {
		if (e->steps[i].kind == WSTEP_MEMBER)
			n += (size_t)snprintf(buf + n, len - n, ".%s", e->steps[i].member);
		else if (e->steps[i].kind == WSTEP_ARROW)
			n += (size_t)snprintf(buf + n, len - n, "->%s", e->steps[i].member);
		else
			n += (size_t)snprintf(buf + n, len - n, "[%llu]",
					      (unsigned long long)e->steps[i].index);
	}
}

/* Names, members, indices, scopes (function, compiler-made function,
 * file) and pointer forms. */
struct scope_case {
	const char *text;
	const char *func, *file;
	int deref;
	const char *name, *steps;
};

static const struct scope_case scope_cases[] = {
	{ "foo", "", "", 0, "foo", "" },
	{ "  foo\t", "", "", 0, "foo", "" },
	{ "_x9", "", "", 0, "_x9", "" },
	{ "s.a.b", "", "", 0, "s", ".a.b" },
	{ "arr[3]", "", "", 0, "arr", "[3]" },
	{ "arr[0x10]", "", "", 0, "arr", "[16]" },
	{ "arr[ 2 ]", "", "", 0, "arr", "[2]" },
	{ "m[1][2]", "", "", 0, "m", "[1][2]" },
	{ "arr[2].x", "", "", 0, "arr", "[2].x" },
	{ "s.buf[3]", "", "", 0, "s", ".buf[3]" },
	{ "main::count", "main", "", 0, "count", "" },
	{ "f::s.a[1]", "f", "", 0, "s", ".a[1]" },
	{ "a[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]", "", "", 0, "a",
	  "[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]" },

	{ "util.c::hits", "", "util.c", 0, "hits", "" },
	{ "src/util.c::hits", "", "src/util.c", 0, "hits", "" },
	{ "./util.c::hits", "", "./util.c", 0, "hits", "" },
	{ "list.cpp::head.next", "", "list.cpp", 0, "head", ".next" },
	{ "scale.part.0::calls", "scale.part.0", "", 0, "calls", "" },
	{ "main._omp_fn.0::x", "main._omp_fn.0", "", 0, "x", "" },
	{ "f.constprop.0::n", "f.constprop.0", "", 0, "n", "" },
	{ "f.isra.0::n", "f.isra.0", "", 0, "n", "" },
	{ "*ptr", "", "", 1, "ptr", "" },
	{ "* ptr", "", "", 1, "ptr", "" },
	{ "ptr->field", "", "", 0, "ptr", "->field" },
	{ "ptr->a.b[2]->c", "", "", 0, "ptr", "->a.b[2]->c" },
	{ "ptr[3]", "", "", 0, "ptr", "[3]" },
	{ "*f::p", "f", "", 1, "p", "" },
	{ "*util.c::p->q", "", "util.c", 1, "p", "->q" },
};

static void test_valid_symbols(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(scope_cases) / sizeof(scope_cases[0]); i++) {
		const struct scope_case *c = &scope_cases[i];
		struct wexpr e;
		char err[256] = "", steps[512];

		if (wexpr_parse(c->text, &e, err, sizeof(err)) != 0)
			fail_msg("'%s' rejected: %s", c->text, err);
		assert_int_equal(e.kind, WEXPR_SYMBOL);
		assert_string_equal(e.func, c->func);
		assert_string_equal(e.file, c->file);
		assert_int_equal(e.deref, c->deref);
		assert_string_equal(e.name, c->name);
		print_steps(&e, steps, sizeof(steps));
		assert_string_equal(steps, c->steps);
	}
}

struct range_case {
	const char *text;
	uint64_t addr, len;
};

static const struct range_case range_cases[] = {
	{ "0x1234:4", 0x1234, 4 },
	{ "4096:4096", 4096, 4096 },
	{ "0x10:0x10", 0x10, 16 },
	{ "0X7fffabcd0000:1", 0x7fffabcd0000ULL, 1 },
	{ " 0xffffffffffffff00:256 ", 0xffffffffffffff00ULL, 256 },
};

static void test_valid_ranges(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(range_cases) / sizeof(range_cases[0]); i++) {
		const struct range_case *c = &range_cases[i];
		struct wexpr e;
		char err[256] = "";

		if (wexpr_parse(c->text, &e, err, sizeof(err)) != 0)
			fail_msg("'%s' rejected: %s", c->text, err);
		assert_int_equal(e.kind, WEXPR_RANGE);
		assert_true(e.addr == c->addr);
		assert_true(e.len == c->len);
	}
}

/* ---- errors ---------------------------------------------------------- */

struct err_case {
	const char *text;
	const char *err;	/* the exact message */
};

static const struct err_case err_cases[] = {
	{ "", "empty watch expression" },
	{ "   ", "empty watch expression" },
	{ "a[3", "expected ']' at column 4 in 'a[3'" },
	{ "a[x]", "expected an index at column 3 in 'a[x]'" },
	{ "a[]", "expected an index at column 3 in 'a[]'" },
	{ "a[-1]", "expected an index at column 3 in 'a[-1]'" },
	{ "a[3x]", "invalid number at column 3 in 'a[3x]'" },
	{ "a[3 4]", "expected ']' instead of '4' at column 5 in 'a[3 4]'" },
	{ "a[99999999999999999999]", "number too large at column 3 in "
	  "'a[99999999999999999999]'" },
	{ "a.", "expected a member name after '.' at column 3 in 'a.'" },
	{ "a.1", "expected a member name after '.' at column 3 in 'a.1'" },
	{ "a..b", "expected a member name after '.' at column 3 in 'a..b'" },
	{ "a->", "expected a member name after '->' at column 4 in 'a->'" },
	{ "a->1", "expected a member name after '->' at column 4 in 'a->1'" },
	{ "**p", "expected a variable name at column 2 in '**p'" },
	{ "1f::x", "invalid number at column 1 in '1f::x'" },
	{ "a b", "unexpected blank at column 2 in 'a b'" },
	{ "a+1", "unexpected '+' at column 2 in 'a+1'" },
	{ "a\x01", "unexpected byte 0x01 at column 2 in 'a?'" },
	{ "f::", "expected a variable name after '::' at column 4 in 'f::'" },
	{ "f::g::x", "only one 'function::' or 'file::' prefix is allowed at column 5 in "
	  "'f::g::x'" },
	{ "f:x", "unexpected ':' at column 2 in 'f:x'" },
	{ "::x", "expected a variable name or 0xADDR:LEN at column 1 in '::x'" },
	{ "$x", "expected a variable name or 0xADDR:LEN at column 1 in '$x'" },
	{ "  .x", "expected a variable name or 0xADDR:LEN at column 3 in '  .x'" },
	{ "3foo", "invalid number at column 1 in '3foo'" },
	{ "0x1234", "expected ':LEN' after the address at column 7 in '0x1234'" },
	{ "0x1234:", "expected a length after ':' at column 8 in '0x1234:'" },
	{ "0x1234:0", "length 0 out of range 1..4096 at column 8 in '0x1234:0'" },
	{ "0x1234:4097", "length 4097 out of range 1..4096 at column 8 in "
	  "'0x1234:4097'" },
	{ "0x1234:4x", "invalid number at column 8 in '0x1234:4x'" },
	{ "0x12g4:4", "invalid number at column 1 in '0x12g4:4'" },
	{ "0x1234:4 5", "unexpected blank at column 9 in '0x1234:4 5'" },
	{ "0x1234;4", "unexpected ';' at column 7 in '0x1234;4'" },
	{ "99999999999999999999:4", "number too large at column 1 in "
	  "'99999999999999999999:4'" },
	{ "0xffffffffffffffff:2", "range wraps around the address space at "
	  "column 1 in '0xffffffffffffffff:2'" },
	{ "a[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]",
	  "too many member and index steps (at most 16) at column 50 in "
	  "'a[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]'" },
};

static void test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		const struct err_case *c = &err_cases[i];
		struct wexpr e;
		char err[256] = "";

		if (wexpr_parse(c->text, &e, err, sizeof(err)) != -1)
			fail_msg("'%s' accepted", c->text);
		if (strcmp(err, c->err) != 0)
			fail_msg("'%s':\n   got: %s\n  want: %s", c->text, err, c->err);
	}
}

/* Names longer than the struct wexpr fields are refused, not truncated. */
static void test_long_names(void **state)
{
	char text[300], err[256];
	struct wexpr e;

	(void)state;
	memset(text, 'v', 127);
	text[127] = 0;
	assert_int_equal(wexpr_parse(text, &e, err, sizeof(err)), 0);
	assert_int_equal(strlen(e.name), 127);

	memset(text, 'v', 128);
	text[128] = 0;
	assert_int_equal(wexpr_parse(text, &e, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "name too long (at most 127 characters) at column 1 in 'vvv"));
	assert_non_null(strstr(err, "...'"));	/* long text is shortened */

	strcpy(text, "s.");
	memset(text + 2, 'm', 64);
	text[66] = 0;
	assert_int_equal(wexpr_parse(text, &e, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "name too long (at most 63 characters) at column 3"));

	/* A small err buffer is truncated, never overrun. */
	char tiny[8];

	assert_int_equal(wexpr_parse("a[", &e, tiny, sizeof(tiny)), -1);
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_symbols),
		cmocka_unit_test(test_valid_ranges),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_long_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
