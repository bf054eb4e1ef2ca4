#include "policy.h"
#include "util.h"

const char *const marking_names[MARK_COUNT] = {
	[MARK_PLAIN] = "plain",
	[MARK_ONCE] = "marked",
	[MARK_ATOMIC] = "atomic",
	[MARK_DATA_RACE] = "data_race",
	[MARK_ASSERT_ACCESS] = "assert_exclusive_access",
	[MARK_ASSERT_WRITER] = "assert_exclusive_writer",
};

static int is_marked(const struct access *a)
{
	return a->mark == MARK_ONCE || a->mark == MARK_ATOMIC;
}

static int is_plain(const struct access *a)
{
	return a->mark == MARK_PLAIN;
}

/* A read-modify-write is never assumed atomic (it is a read and a write). */
int policy_plain_word_write(const struct access *a)
{
	return is_plain(a) && a->type == ACCESS_WRITE && a->aligned && a->size <= sizeof(long);
}

/* Each predicate is symmetric: the table does not care which came first. */

/* KCSAN never sees a data_race() read at all, so not even an assertion can. */
static int data_race_read(const struct access *a, const struct access *b, enum value_change vc)
{
	return (a->mark == MARK_DATA_RACE && !access_is_write(a)) ||
	       (b->mark == MARK_DATA_RACE && !access_is_write(b));
}

static int either_data_race(const struct access *a, const struct access *b, enum value_change vc)
{
	return a->mark == MARK_DATA_RACE || b->mark == MARK_DATA_RACE;
}

static int assert_access(const struct access *a, const struct access *b, enum value_change vc)
{
	return a->mark == MARK_ASSERT_ACCESS || b->mark == MARK_ASSERT_ACCESS;
}

static int assert_writer_vs_write(const struct access *a, const struct access *b, enum value_change vc)
{
	return (a->mark == MARK_ASSERT_WRITER && access_is_write(b)) ||
	       (b->mark == MARK_ASSERT_WRITER && access_is_write(a));
}

static int assert_writer_vs_read(const struct access *a, const struct access *b, enum value_change vc)
{
	return a->mark == MARK_ASSERT_WRITER || b->mark == MARK_ASSERT_WRITER;
}

static int two_reads(const struct access *a, const struct access *b, enum value_change vc)
{
	return !access_is_write(a) && !access_is_write(b);
}

static int both_marked(const struct access *a, const struct access *b, enum value_change vc)
{
	return is_marked(a) && is_marked(b);
}

/* A plain write that stored the value already there (KCSAN's value-change-only). */
static int plain_write_unchanged(const struct access *a, const struct access *b, enum value_change vc)
{
	return vc == VALUE_SAME &&
	       ((is_plain(a) && access_is_write(a)) || (is_plain(b) && access_is_write(b)));
}

static int plain_word_write_vs_marked(const struct access *a, const struct access *b, enum value_change vc)
{
	return (policy_plain_word_write(a) && is_marked(b)) ||
	       (policy_plain_word_write(b) && is_marked(a));
}

static int two_plain_word_writes(const struct access *a, const struct access *b, enum value_change vc)
{
	return policy_plain_word_write(a) && policy_plain_word_write(b);
}

static int write_and_plain(const struct access *a, const struct access *b, enum value_change vc)
{
	return (access_is_write(a) || access_is_write(b)) && (is_plain(a) || is_plain(b));
}

static int any(const struct access *a, const struct access *b, enum value_change vc)
{
	return 1;
}

/*
 * First match wins.  The order encodes precedence:
 *  1.   a data_race() read is invisible (the rcu seed: data_race() "causes
 *       KCSAN to ignore any data races involving" its argument);
 *  2-4. then the assertions: access-marking.txt says ASSERT_EXCLUSIVE_WRITER
 *       flags a concurrent write "even if that concurrent write is marked
 *       with data_race() or WRITE_ONCE()", ASSERT_EXCLUSIVE_ACCESS any
 *       concurrent access "even if ... marked with READ_ONCE()", and that
 *       both call out "data_race() writes" -- writes, not reads;
 *  5.   then the rest of the data_race() / __no_racewatch exemption;
 *  6-10. then KCSAN's defaults: plain aligned word-sized writes are assumed
 *       atomic "no matter what" (so against marked accesses and against each
 *       other), and a plain write that stored the value already there is not
 *       flagged; --strict (the RCU rules) turns both off.
 */
const struct rule policy_rules[] = {
	{ "a data_race() or __no_racewatch read", data_race_read, VERDICT_NONE, VERDICT_NONE },
	{ "ASSERT_EXCLUSIVE_ACCESS vs any access", assert_access, VERDICT_ASSERT, VERDICT_ASSERT },
	{ "ASSERT_EXCLUSIVE_WRITER vs a write", assert_writer_vs_write, VERDICT_ASSERT, VERDICT_ASSERT },
	{ "ASSERT_EXCLUSIVE_WRITER vs a read", assert_writer_vs_read, VERDICT_NONE, VERDICT_NONE },
	{ "data_race() or __no_racewatch write on either side", either_data_race, VERDICT_NONE, VERDICT_NONE },
	{ "two reads", two_reads, VERDICT_NONE, VERDICT_NONE },
	{ "both marked", both_marked, VERDICT_NONE, VERDICT_NONE },
	{ "plain write that left the value unchanged", plain_write_unchanged, VERDICT_NONE, VERDICT_RACE },
	{ "plain aligned write <= word size vs marked access", plain_word_write_vs_marked, VERDICT_NONE, VERDICT_RACE },
	{ "two plain aligned writes <= word size", two_plain_word_writes, VERDICT_NONE, VERDICT_RACE },
	{ "at least one write, at least one plain", write_and_plain, VERDICT_RACE, VERDICT_RACE },
	{ "marked write vs marked-or-exempt rest", any, VERDICT_NONE, VERDICT_NONE },
};
const int policy_nrules = (int)ARRAY_SIZE(policy_rules);

enum verdict policy_judge(const struct access *a, const struct access *b,
			  enum value_change vc, int strict, const struct rule **row)
{
	for (int i = 0; i < policy_nrules; i++) {
		const struct rule *r = &policy_rules[i];

		if (r->match(a, b, vc)) {
			if (row)
				*row = r;
			return strict ? r->strict : r->normal;
		}
	}
	if (row)
		*row = NULL;
	return VERDICT_NONE;	/* unreachable: the last row matches everything */
}
