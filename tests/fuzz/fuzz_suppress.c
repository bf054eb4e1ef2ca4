/*
 * libFuzzer harness: a --suppressions file.  The first line of the input
 * is a variable name and up to eight function / file names (separated by
 * '|') to match against; the rest is the rules file, fed line by line to
 * supp_add_line as supp_load would.  Every accepted rule set is then
 * matched against that stack, and freed.
 */
#include "suppress.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *line, *next, *names[9] = { 0 };
	struct supp_frame fr[8];
	struct supp_set s = { 0 };
	char err[256];
	int n = 0, lineno = 0;

	memcpy(buf, data, size);
	buf[size] = '\0';
	next = strchr(buf, '\n');
	if (next)
		*next++ = '\0';
	for (char *p = buf, *q; p && n < 9; p = q) {
		q = strchr(p, '|');
		if (q)
			*q++ = '\0';
		names[n++] = p;
	}
	for (int i = 0; i < 8; i++) {
		fr[i].func = names[1 + i];
		fr[i].file = names[8 - i];
		fr[i].module = i & 1 ? names[0] : NULL;
	}
	for (line = next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (supp_add_line(&s, line, ++lineno, err, sizeof(err)) < 0)
			break;
	}
	{
		const struct supp_frame *const st[2] = { fr, fr + 4 };
		const int nf[2] = { n > 1 ? 4 : 0, 4 };

		supp_match(&s, names[0] ? names[0] : "", st, nf, 2);
	}
	supp_free(&s);
	free(buf);
	return 0;
}
