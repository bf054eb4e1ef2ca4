/*
 * jsonwrite — JSON the reports write, built as json-c objects.  Strings keep
 * racewatch's one escaping rule (json_string in report.h: C0, DEL and C1
 * controls as \u escapes, bytes that are not UTF-8 as U+FFFD, '/' as is),
 * which json-c's own writer does not follow: every string made here
 * carries a serializer that applies it.
 *
 * Every jw_ constructor returns a new reference (json_object_put frees it)
 * and never NULL for a non-NULL input: out of memory is xnonnull's exit.
 * jw_set and jw_push take over the reference they are given.
 */
#ifndef RACEWATCH_JSONWRITE_H
#define RACEWATCH_JSONWRITE_H

#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>

struct json_object *jw_obj(void);
struct json_object *jw_arr(void);
/* s as a JSON string with the escaping rule above; NULL (JSON null) for NULL. */
struct json_object *jw_str(const char *s);
/* v as the string "0x..." (lower-case hex, no padding). */
struct json_object *jw_hex(uint64_t v);
struct json_object *jw_int(int64_t v);
struct json_object *jw_uint(uint64_t v);
struct json_object *jw_bool(int v);
/* A time in seconds, written with six decimals ("1.500000"). */
struct json_object *jw_secs(double s);
/* argv (NULL-terminated; NULL is empty) as an array of jw_str. */
struct json_object *jw_argv(char *const *argv);

/* Member key of object o: v (NULL is null).  key is a constant that
 * outlives o and is not yet in it (records are built once, in order). */
void jw_set(struct json_object *o, const char *key, struct json_object *v);
/* Append v (NULL is null) to array a. */
void jw_push(struct json_object *a, struct json_object *v);

/* o on one line (no spaces) and a newline to f; then o is released.
 * Returns what fputs returns (EOF on a write error). */
int jw_line(FILE *f, struct json_object *o);

#endif
