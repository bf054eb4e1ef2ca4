/*
 * --suppressions: TSan's template syntax (implicit substring, '*', '^', '$'),
 * the line parser (types, comments, bad lines) and which frames each type
 * looks at (race: every frame and the variable, race_top: frame #0 only,
 * var: the variable, file: source files).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "suppress.h"

static void test_template(void **state)
{
	static const struct {
		const char *pat, *str;
		int match;
	} cases[] = {
		{ "foo", "foo", 1 },
		{ "foo", "update_foo", 1 },		/* substring: '*' on both sides */
		{ "foo", "food", 1 },
		{ "foo", "bar", 0 },
		{ "^foo", "foo_bar", 1 },
		{ "^foo", "update_foo", 0 },
		{ "foo$", "update_foo", 1 },
		{ "foo$", "food", 0 },
		{ "^foo$", "foo", 1 },
		{ "^foo$", "foox", 0 },
		{ "^foo$", "xfoo", 0 },
		{ "foo$", "foofoo", 1 },		/* backtracks past the first "foo" */
		{ "up*foo", "update_foo", 1 },
		{ "^up*foo$", "update_foo", 1 },
		{ "^up*bar$", "update_foo", 0 },
		{ "lib*.so", "/usr/lib/x86_64-linux-gnu/libc.so.6", 1 },
		{ "^/usr/lib/*libc.so", "/usr/lib/x86_64-linux-gnu/libc.so.6", 1 },
		{ "race_rw.c", "/work/main/samples/basic/race_rw.c", 1 },
		{ "samples/*/race_rw.c$", "/work/main/samples/basic/race_rw.c", 1 },
		{ "*", "anything", 1 },
		{ "a*b*c", "aXbYc", 1 },
		{ "a*b*c", "aXcYb", 0 },
		{ "std::vector<*>::push_back", "std::vector<int>::push_back", 1 },
		{ "foo", "", 0 },			/* unknown names never match */
		{ "foo", NULL, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = supp_template_match(cases[i].pat, cases[i].str);

		if (got != cases[i].match)
			fail_msg("'%s' vs '%s': got %d, want %d", cases[i].pat,
				 cases[i].str ? cases[i].str : "(null)", got, cases[i].match);
	}
}

static void test_parse(void **state)
{
	enum supp_type t;
	char *p = NULL, err[256];

	assert_int_equal(supp_parse_line("", &t, &p, err, sizeof(err)), 0);
	assert_int_equal(supp_parse_line("   \t", &t, &p, err, sizeof(err)), 0);
	assert_int_equal(supp_parse_line("# race:foo", &t, &p, err, sizeof(err)), 0);
	assert_int_equal(supp_parse_line("  # indented comment", &t, &p, err, sizeof(err)), 0);

	assert_int_equal(supp_parse_line("race:update_foo", &t, &p, err, sizeof(err)), 1);
	assert_int_equal(t, SUPP_RACE);
	assert_string_equal(p, "update_foo");
	free(p);
	assert_int_equal(supp_parse_line("  race_top:^read_foo$  \r", &t, &p, err, sizeof(err)), 1);
	assert_int_equal(t, SUPP_RACE_TOP);
	assert_string_equal(p, "^read_foo$");
	free(p);
	assert_int_equal(supp_parse_line("var:foo", &t, &p, err, sizeof(err)), 1);
	assert_int_equal(t, SUPP_VAR);
	free(p);
	assert_int_equal(supp_parse_line("file:race_rw.c", &t, &p, err, sizeof(err)), 1);
	assert_int_equal(t, SUPP_FILE);
	free(p);
	assert_int_equal(supp_parse_line("deadlock:foo", &t, &p, err, sizeof(err)), 1);
	assert_int_equal(t, SUPP_IGNORED);
	free(p);
	/* A C++ name keeps its colons: only the first one separates the type. */
	assert_int_equal(supp_parse_line("race:ns::f", &t, &p, err, sizeof(err)), 1);
	assert_string_equal(p, "ns::f");
	free(p);

	assert_int_equal(supp_parse_line("update_foo", &t, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "TYPE:PATTERN"));
	assert_int_equal(supp_parse_line("race:", &t, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "empty pattern"));
	assert_int_equal(supp_parse_line("races:foo", &t, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown suppression type 'races'"));
}

static void test_load_errors_name_line(void **state)
{
	char path[] = "/tmp/rwsuppXXXXXX", err[512];
	struct supp_set s = { 0 };
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	fputs("# ok\nrace:foo\n\nvar:bar\nnonsense\n", f);
	fclose(f);
	assert_int_equal(supp_load(&s, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, ":5: "));
	supp_free(&s);

	f = fopen(path, "w");
	fputs("# ok\nrace:foo\n\nvar:bar\n", f);
	fclose(f);
	assert_int_equal(supp_load(&s, path, err, sizeof(err)), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.v[1].line, 4);
	supp_free(&s);

	unlink(path);
	assert_int_equal(supp_load(&s, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot open"));
	supp_free(&s);
}

/* The race_rw pair: writer -> update_foo, reader -> read_foo. */
static const struct supp_frame wr[] = {
	{ "update_foo", "/src/samples/basic/race_rw.c", "/build/race_rw-O2" },
	{ "writer", "/src/samples/basic/race_rw.c", "/build/race_rw-O2" },
	{ NULL, NULL, "/usr/lib/x86_64-linux-gnu/libc.so.6" },
};
static const struct supp_frame rd[] = {
	{ "read_foo", "/src/samples/basic/race_rw.c", "/build/race_rw-O2" },
	{ "reader", "/src/samples/basic/race_util.c", "/build/race_rw-O2" },
};

static int matches(const char *rule, const char *var)
{
	const struct supp_frame *const st[2] = { wr, rd };
	const int n[2] = { 3, 2 };
	struct supp_set s = { 0 };
	char err[256];
	int m;

	assert_int_equal(supp_add_line(&s, rule, 1, err, sizeof(err)), 1);
	m = supp_match(&s, var, st, n, 2) != NULL;
	supp_free(&s);
	return m;
}

static void test_match_scope(void **state)
{
	/* race: any frame of either stack, function, file or module, or the variable. */
	assert_true(matches("race:update_foo", "foo"));
	assert_true(matches("race:reader", "foo"));
	assert_true(matches("race:race_util.c", "foo"));
	assert_true(matches("race:libc.so", "foo"));
	assert_true(matches("race:^foo$", "foo"));
	assert_false(matches("race:^writer_", "foo"));
	/* race_top: only frame #0 of each stack. */
	assert_true(matches("race_top:read_foo", "foo"));
	assert_true(matches("race_top:^update_foo$", "foo"));
	assert_false(matches("race_top:writer", "foo"));
	assert_false(matches("race_top:libc", "foo"));
	assert_false(matches("race_top:race_util.c", "foo"));
	/* var: the variable only. */
	assert_true(matches("var:foo", "foo"));
	assert_true(matches("var:^counts.", "counts.reads"));
	assert_false(matches("var:^oo", "foo"));
	assert_false(matches("var:update_foo", "x"));
	assert_false(matches("var:foo", NULL));
	/* file: source files only. */
	assert_true(matches("file:race_util.c$", "x"));
	assert_false(matches("file:update_foo", "x"));
}

static void test_first_match_counts(void **state)
{
	const struct supp_frame *const st[1] = { rd };
	const int n[1] = { 2 };
	struct supp_set s = { 0 };
	struct suppression *hit;
	char err[256];

	assert_int_equal(supp_add_line(&s, "var:nomatch", 1, err, sizeof(err)), 1);
	assert_int_equal(supp_add_line(&s, "deadlock:x", 2, err, sizeof(err)), 0);	/* ignored */
	assert_int_equal(supp_add_line(&s, "race:reader", 3, err, sizeof(err)), 1);
	assert_int_equal(s.n, 2);
	hit = supp_match(&s, "v", st, n, 1);
	assert_non_null(hit);
	assert_int_equal(hit->line, 3);
	assert_null(supp_match(&s, "v", st, (const int[]){ 0 }, 1));
	supp_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_template),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_load_errors_name_line),
		cmocka_unit_test(test_match_scope),
		cmocka_unit_test(test_first_match_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
