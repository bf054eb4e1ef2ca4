/*
 * The rule table of DESIGN.md section 5, row by row, under the default and
 * the strict rules.  Each case names the row it must land on, so a reordered
 * or missing row fails here and not silently in a sample.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "policy.h"

static struct access mk(enum access_type type, enum marking mark, unsigned size, int aligned)
{
	struct access a;

	memset(&a, 0, sizeof(a));
	a.type = type;
	a.mark = mark;
	a.size = size;
	a.aligned = aligned;
	return a;
}

#define R(t) mk(ACCESS_READ, t, 4, 1)
#define W(t) mk(ACCESS_WRITE, t, 4, 1)
#define RMW(t) mk(ACCESS_RMW, t, 4, 1)

struct pcase {
	const char *name;
	struct access a, b;
	enum value_change vc;
	enum verdict normal, strict;
	const char *row;	/* substring of the rule's `what` */
};

static void test_rule_table(void **state)
{
	const struct pcase cases[] = {
		{ "plain write vs plain read", W(MARK_PLAIN), R(MARK_PLAIN), VALUE_CHANGED,
		  VERDICT_RACE, VERDICT_RACE, "at least one write" },
		{ "plain word write vs plain word write", W(MARK_PLAIN), W(MARK_PLAIN), VALUE_UNKNOWN,
		  VERDICT_NONE, VERDICT_RACE, "two plain aligned writes" },
		{ "plain word write vs plain wide write", W(MARK_PLAIN), mk(ACCESS_WRITE, MARK_PLAIN, 16, 1),
		  VALUE_UNKNOWN, VERDICT_RACE, VERDICT_RACE, "at least one write" },
		{ "plain rmw vs atomic rmw (rmw never assumed atomic)", RMW(MARK_PLAIN), RMW(MARK_ATOMIC),
		  VALUE_UNKNOWN, VERDICT_RACE, VERDICT_RACE, "at least one write" },
		{ "plain rmw vs plain read", RMW(MARK_PLAIN), R(MARK_PLAIN), VALUE_UNKNOWN,
		  VERDICT_RACE, VERDICT_RACE, "at least one write" },
		{ "marked read vs plain write (wide)", R(MARK_ONCE), mk(ACCESS_WRITE, MARK_PLAIN, 16, 1),
		  VALUE_CHANGED, VERDICT_RACE, VERDICT_RACE, "at least one write" },
		{ "marked read vs plain unaligned write", R(MARK_ONCE), mk(ACCESS_WRITE, MARK_PLAIN, 4, 0),
		  VALUE_CHANGED, VERDICT_RACE, VERDICT_RACE, "at least one write" },
		{ "plain word write vs marked read", W(MARK_PLAIN), R(MARK_ONCE), VALUE_CHANGED,
		  VERDICT_NONE, VERDICT_RACE, "plain aligned write" },
		{ "marked read vs plain word write", R(MARK_ONCE), W(MARK_PLAIN), VALUE_CHANGED,
		  VERDICT_NONE, VERDICT_RACE, "plain aligned write" },
		{ "plain word write vs atomic rmw", W(MARK_PLAIN), RMW(MARK_ATOMIC), VALUE_UNKNOWN,
		  VERDICT_NONE, VERDICT_RACE, "plain aligned write" },
		{ "plain write, value unchanged, vs plain read", R(MARK_PLAIN), W(MARK_PLAIN), VALUE_SAME,
		  VERDICT_NONE, VERDICT_RACE, "unchanged" },
		{ "both marked: READ_ONCE vs WRITE_ONCE", R(MARK_ONCE), W(MARK_ONCE), VALUE_CHANGED,
		  VERDICT_NONE, VERDICT_NONE, "both marked" },
		{ "both marked: atomic vs atomic", RMW(MARK_ATOMIC), RMW(MARK_ATOMIC), VALUE_CHANGED,
		  VERDICT_NONE, VERDICT_NONE, "both marked" },
		{ "data_race() read vs plain write", R(MARK_DATA_RACE), W(MARK_PLAIN), VALUE_CHANGED,
		  VERDICT_NONE, VERDICT_NONE, "data_race() or __no_racewatch read" },
		{ "ASSERT_EXCLUSIVE_WRITER vs data_race() write", R(MARK_ASSERT_WRITER), W(MARK_DATA_RACE),
		  VALUE_CHANGED, VERDICT_ASSERT, VERDICT_ASSERT, "ASSERT_EXCLUSIVE_WRITER vs a write" },
		{ "ASSERT_EXCLUSIVE_ACCESS vs data_race() read", R(MARK_ASSERT_ACCESS), R(MARK_DATA_RACE),
		  VALUE_UNKNOWN, VERDICT_NONE, VERDICT_NONE, "data_race() or __no_racewatch read" },
		{ "ASSERT_EXCLUSIVE_ACCESS vs data_race() write", R(MARK_ASSERT_ACCESS), W(MARK_DATA_RACE),
		  VALUE_CHANGED, VERDICT_ASSERT, VERDICT_ASSERT, "ASSERT_EXCLUSIVE_ACCESS" },
		{ "plain write vs data_race() write", W(MARK_PLAIN), W(MARK_DATA_RACE), VALUE_CHANGED,
		  VERDICT_NONE, VERDICT_NONE, "data_race() or __no_racewatch write" },
		{ "ASSERT_EXCLUSIVE_ACCESS vs marked read", R(MARK_ASSERT_ACCESS), R(MARK_ONCE), VALUE_UNKNOWN,
		  VERDICT_ASSERT, VERDICT_ASSERT, "ASSERT_EXCLUSIVE_ACCESS" },
		{ "plain write vs ASSERT_EXCLUSIVE_ACCESS", W(MARK_PLAIN), R(MARK_ASSERT_ACCESS), VALUE_SAME,
		  VERDICT_ASSERT, VERDICT_ASSERT, "ASSERT_EXCLUSIVE_ACCESS" },
		{ "ASSERT_EXCLUSIVE_WRITER vs marked write", R(MARK_ASSERT_WRITER), W(MARK_ONCE), VALUE_CHANGED,
		  VERDICT_ASSERT, VERDICT_ASSERT, "ASSERT_EXCLUSIVE_WRITER vs a write" },
		{ "ASSERT_EXCLUSIVE_WRITER vs plain read", R(MARK_ASSERT_WRITER), R(MARK_PLAIN), VALUE_UNKNOWN,
		  VERDICT_NONE, VERDICT_NONE, "ASSERT_EXCLUSIVE_WRITER vs a read" },
		{ "two plain reads", R(MARK_PLAIN), R(MARK_PLAIN), VALUE_UNKNOWN,
		  VERDICT_NONE, VERDICT_NONE, "two reads" },
		{ "marked write vs data_race? no: marked write vs plain read", W(MARK_ONCE), R(MARK_PLAIN),
		  VALUE_CHANGED, VERDICT_RACE, VERDICT_RACE, "at least one write" },
	};
	int rows_hit[64] = { 0 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pcase *c = &cases[i];
		const struct rule *row = NULL, *row2 = NULL;
		enum verdict n = policy_judge(&c->a, &c->b, c->vc, 0, &row);
		enum verdict s = policy_judge(&c->a, &c->b, c->vc, 1, NULL);
		/* The rules are symmetric: the order of the two accesses never matters. */
		enum verdict swapped = policy_judge(&c->b, &c->a, c->vc, 0, &row2);

		print_message("case: %s\n", c->name);
		assert_non_null(row);
		assert_non_null(strstr(row->what, c->row));
		assert_int_equal(n, c->normal);
		assert_int_equal(s, c->strict);
		assert_int_equal(swapped, n);
		assert_ptr_equal(row, row2);
		rows_hit[row - policy_rules] = 1;
	}
	/* Every row but the catch-all is exercised by a case above. */
	for (int r = 0; r < policy_nrules - 1; r++) {
		print_message("row: %s\n", policy_rules[r].what);
		assert_true(rows_hit[r]);
	}
}

static void test_plain_word_write(void **state)
{
	assert_true(policy_plain_word_write(&(struct access){ .type = ACCESS_WRITE, .size = 8, .aligned = 1 }));
	assert_false(policy_plain_word_write(&(struct access){ .type = ACCESS_WRITE, .size = 16, .aligned = 1 }));
	assert_false(policy_plain_word_write(&(struct access){ .type = ACCESS_WRITE, .size = 4, .aligned = 0 }));
	assert_false(policy_plain_word_write(&(struct access){ .type = ACCESS_READ, .size = 4, .aligned = 1 }));
	assert_false(policy_plain_word_write(&(struct access){ .type = ACCESS_RMW, .size = 4, .aligned = 1 }));
	assert_false(policy_plain_word_write(&(struct access){ .type = ACCESS_WRITE, .size = 4, .aligned = 1,
							      .mark = MARK_ONCE }));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_table),
		cmocka_unit_test(test_plain_word_write),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
