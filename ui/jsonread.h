/*
 * jsonread — a small JSON reader for `racewatch view`: one value per call
 * (a line of the JSON-lines report), parsed into a tree.  Strict (RFC 8259)
 * but bounded: nesting deeper than JR_MAX_DEPTH or more than JR_MAX_VALUES
 * values is an error, \u escapes
 * become UTF-8 (a lone surrogate becomes U+FFFD), NUL bytes in strings are
 * refused.  Pure: no curses, no globals.
 */
#ifndef RACEWATCH_JSONREAD_H
#define RACEWATCH_JSONREAD_H

#include <stddef.h>
#include <stdint.h>

#define JR_MAX_DEPTH 64
#define JR_MAX_VALUES (1 << 20)	/* values per parse: bounds the tree's memory */

enum jr_type { JR_NULL, JR_BOOL, JR_NUM, JR_STR, JR_ARR, JR_OBJ };

struct jr {
	enum jr_type t;
	int b;			/* JR_BOOL */
	double num;		/* JR_NUM */
	char *str;		/* JR_STR */
	struct jr *kids;	/* JR_ARR, JR_OBJ: n values */
	char **keys;		/* JR_OBJ: n keys */
	int n;
};

/* Parse s[0..len) as exactly one JSON value (white space around it is fine).
 * NULL if it is not valid JSON. */
struct jr *jr_parse(const char *s, size_t len);
void jr_free(struct jr *v);

/* Member key of object v (the last one if repeated), NULL if none. */
const struct jr *jr_get(const struct jr *v, const char *key);
/* Element i of array v, NULL if none. */
const struct jr *jr_at(const struct jr *v, int i);
/* v as a string, NULL if v is not one. */
const char *jr_str(const struct jr *v);
/* v as a number (dflt if not a number). */
double jr_num(const struct jr *v, double dflt);
/* v as a "0x..." hex string or a non-negative number; dflt otherwise. */
uint64_t jr_u64(const struct jr *v, uint64_t dflt);
/* v as an integer in [lo, hi] (|lo|, |hi| <= 2^53; a fraction is cut off);
 * dflt if v is not a number or out of range.  Never an unchecked cast. */
int64_t jr_int(const struct jr *v, int64_t lo, int64_t hi, int64_t dflt);

#endif
