/*
 * libFuzzer harness: a -w watch expression, parsed (wexpr_parse) and, when
 * it parses, resolved through the ELF/DWARF index of this very program
 * (as_open on /proc/self/exe), as racewatch resolves -w against a traced
 * program: variables, members, array indexes, func::static, address
 * ranges, and the "did you mean" suggestions for an unknown name.  The
 * globals below give the resolver nested structs, arrays and statics to
 * walk.  The input is NUL-terminated at its first NUL or its end.
 */
#include "addrspace.h"
#include "watchexpr.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fz_inner { int a[4]; char c; unsigned long long big; };
struct fz_outer { struct fz_inner in[3]; struct fz_inner *p; volatile int v; _Atomic long at; };
struct fz_outer fz_outer[2];
int fz_matrix[3][5];
struct fz_inner fz_single;
__thread int fz_tls;

static struct addrspace *as;

int fz_static_holder(void);
int fz_static_holder(void)
{
	static int fz_counter;

	return ++fz_counter + fz_tls + fz_single.a[0] + fz_matrix[1][2] + fz_outer[1].v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), err[512];
	struct watch_target wt;
	struct wexpr e;

	if (!as) {
		as = as_open(getpid(), "/proc/self/exe", err, sizeof(err));
		if (!as)
			abort();
		fz_static_holder();
	}
	memcpy(text, data, size);
	text[size] = '\0';
	if (wexpr_parse(text, &e, err, sizeof(err)) == 0)
		wexpr_resolve(&e, as, &wt, err, sizeof(err));
	free(text);
	return 0;
}
