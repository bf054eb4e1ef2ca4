/*
 * symbols_path — the C path to some bytes inside a typed object
 * (sym_type_path(), symbols.h): ".balance", ".pos.xy[1]", "[3].key".  The
 * reverse of sym_type_member() / sym_type_index(): those go from a path to
 * an offset, this goes from an offset to a path.  sym_name_through_ptr()
 * uses it after the pointee type; it serves as well for bytes inside a
 * static struct or array.
 *
 * Which member holds an offset:
 *   1. the first member (in declaration order) whose bytes hold both the
 *      first and the last byte of the access: for a union, the first
 *      alternative it fits; for bit-fields sharing a byte, the first one;
 *   2. else the first member holding the first byte: the access spans
 *      several members (gcc -O2 adds two adjacent longs with one 16-byte
 *      vector load and store), and the path stops at that member;
 *   3. else no member (padding): the path stops at the aggregate.
 * Arrays likewise: the element holding the first byte, and the path stops
 * there when the access runs into the next element.
 */
#include <stdio.h>

#include "symbols_int.h"

#define MAX_LEVELS 32		/* nesting guard against corrupt types */

/* Append fmt to out at *used; -1 if it does not fit. */
static int put(char *out, size_t outlen, size_t *used, const char *fmt,
	       const char *s, unsigned long long i)
{
	int w = s ? snprintf(out + *used, outlen - *used, fmt, s) :
		    snprintf(out + *used, outlen - *used, fmt, i);

	if (w < 0 || (size_t)w >= outlen - *used)
		return -1;
	*used += (size_t)w;
	return 0;
}

/* The member of struct/union t holding byte off (rules 1-3 above); *fits
 * says whether [off, off + size) lies inside it. */
static const struct sym_member *holder(const struct sym_type *t, uint64_t off,
				       uint64_t size, int *fits)
{
	const struct sym_member *first = NULL;

	for (size_t i = 0; i < t->nmembers; i++) {
		const struct sym_member *m = &t->members[i];
		uint64_t msz = sym_type_size(m->type);

		if (msz == 0 || off < m->off || off - m->off >= msz)
			continue;
		if (off - m->off + size <= msz) {
			*fits = 1;
			return m;
		}
		if (!first)
			first = m;
	}
	*fits = 0;
	return first;
}

int sym_type_path(const struct sym_type *t, uint64_t off, uint64_t size,
		  char *out, size_t outlen)
{
	size_t used = 0;

	if (outlen == 0)
		return -1;
	out[0] = 0;
	t = symi_strip(t);
	if (!t || off >= sym_type_size(t))
		return -1;
	if (size == 0)
		size = 1;
	for (int level = 0; t && level < MAX_LEVELS; level++, t = symi_strip(t)) {
		if (t->kind == T_STRUCT || t->kind == T_UNION) {
			int fits;
			const struct sym_member *m = holder(t, off, size, &fits);

			if (!m)
				break;
			/* An anonymous struct or union adds no name. */
			if (m->name && put(out, outlen, &used, ".%s", m->name, 0) < 0)
				return -1;
			if (!fits)
				break;
			off -= m->off;
			t = m->type;
		} else if (t->kind == T_ARRAY) {
			uint64_t esz = sym_type_size(t->target), i;

			if (esz == 0)
				break;
			i = off / esz;
			if (t->bounded && i >= t->count)
				break;
			if (put(out, outlen, &used, "[%llu]", NULL, i) < 0)
				return -1;
			off -= i * esz;
			if (off + size > esz)
				break;
			t = t->target;
		} else {
			break;
		}
	}
	return 0;
}
