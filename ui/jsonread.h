/*
 * jsonread — how `racewatch view` reads one line of a JSON-lines report:
 * json-c builds the tree, this module bounds what it is given and answers
 * typed, range-checked questions about the result.  Pure: no curses, no
 * globals.
 *
 * What a parse guarantees (jr_parse):
 *  - the text is one RFC 8259 value, white space around it allowed.  json-c
 *    0.16 alone, even with JSON_TOKENER_STRICT, also takes `1.`, NaN,
 *    Infinity, 'single quotes' and raw control characters in strings: a
 *    lexical pass refuses those first;
 *  - nesting is at most JR_MAX_DEPTH containers deep, and the text holds at
 *    most JR_MAX_VALUES values (counted, as an upper bound, before json-c
 *    allocates anything);
 *  - no string or key contains a NUL (\u0000 is refused), so every string is
 *    a whole C string; \u escapes come back as UTF-8, a lone surrogate as
 *    U+FFFD.  Bytes that are not UTF-8 come back as they were: a string is
 *    data from a file, to be escaped before it is shown (rw_escape).
 *
 * A parsed value is a json-c object behind the opaque struct jr; every
 * accessor takes NULL (an absent member) and answers as for a wrong type.
 */
#ifndef RACEWATCH_JSONREAD_H
#define RACEWATCH_JSONREAD_H

#include <stddef.h>
#include <stdint.h>

#define JR_MAX_DEPTH 64
#define JR_MAX_VALUES (1 << 20)	/* values per parse: bounds the tree's memory */
#define JR_MAX_BYTES (64u << 20)	/* longer text is refused unread */

enum jr_type { JR_NULL, JR_BOOL, JR_NUM, JR_STR, JR_ARR, JR_OBJ };

struct jr;

/* Parse s[0..len) (no NUL terminator needed) as exactly one JSON value.
 * NULL if it is not valid JSON or breaks a bound above.  Free with jr_free. */
struct jr *jr_parse(const char *s, size_t len);
void jr_free(struct jr *v);

/* The type of v; JR_NULL for NULL (absent, or a JSON null). */
enum jr_type jr_type(const struct jr *v);
/* Elements of array v; 0 if v is not an array. */
int jr_len(const struct jr *v);

/* Member key of object v (the last one if repeated); NULL if there is none
 * or its value is null. */
const struct jr *jr_get(const struct jr *v, const char *key);
/* Element i of array v; NULL if none or null. */
const struct jr *jr_at(const struct jr *v, int i);
/* v as a string (NUL-free, not escaped), NULL if v is not one. */
const char *jr_str(const struct jr *v);
/* v as a boolean; dflt if v is not one. */
int jr_bool(const struct jr *v, int dflt);
/* v as a number, dflt if it is not one.  Valid JSON beyond a double's range
 * (1e400) is +-HUGE_VAL, an integer beyond 64 bits is clamped: callers
 * range-check (or use jr_int / jr_u64, which do). */
double jr_num(const struct jr *v, double dflt);
/* v as a "0x..." hex string or a non-negative number below 1.8e19 (an
 * integer exactly, a fraction cut off); dflt otherwise. */
uint64_t jr_u64(const struct jr *v, uint64_t dflt);
/* v as an integer in [lo, hi] (|lo|, |hi| <= 2^53; a fraction is cut off);
 * dflt if v is not a number or out of range.  Never an unchecked cast. */
int64_t jr_int(const struct jr *v, int64_t lo, int64_t hi, int64_t dflt);

#endif
