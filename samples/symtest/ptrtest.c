/*
 * ptrtest — accesses through pointer parameters and locals of several
 * shapes, for tests/unit/test_symbols_ptr.c (sym_name_through_ptr()).  It
 * races on nothing: one thread, no outcome to report under the tracer.
 *
 * Each function below is noinline and touches its object only through the
 * pointer it was given, so at -O1 and -O2 the pointer sits in a register
 * (a parameter in rdi, a loop cursor in whatever gcc picks) and the
 * accesses are [reg + offsetof(...)]:
 *
 *   nested(p)   p->xy[1], p->in.b        "struct pos.xy[1]", "struct pos.in.b"
 *   through(p)  bump(&p->xy[0]) inlined  "struct pos.xy[0]" (the inlined
 *               long * is a scalar: the name comes from p)
 *   onion(p)    p->u.f                   "struct pos.u.i" (a 4-byte store
 *               fits both alternatives of the union: the first one is named)
 *   pairs(q)    q->right                 "pair_t.right" (typedef name kept)
 *   clear(v,n)  for (p = v; ...) p->id   "struct pos.id" (a loop cursor)
 *
 * Usage: ptrtest [N] — prints one checksum line, exits 0.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ptrtest.h"

__attribute__((noinline)) void nested(struct pos *p)
{
	p->xy[1] += 3;
	p->in.b = (short)(p->in.b * 2 + 1);
}

static inline __attribute__((always_inline)) void bump(long *x)
{
	*x += 7;
}

__attribute__((noinline)) void through(struct pos *p)
{
	bump(&p->xy[0]);
}

__attribute__((noinline)) void onion(struct pos *p)
{
	p->u.f = 1.5f;
}

__attribute__((noinline)) void pairs(pair_t *q)
{
	q->right = q->left + 1;
}

__attribute__((noinline)) void clear(struct pos *v, int n)
{
	for (struct pos *p = v; p < v + n; p++)
		p->id = (int)(p - v);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4;
	struct pos *v = calloc((size_t)(n > 0 ? n : 1), sizeof(*v));
	pair_t q = { 1, 2 };
	long sum = 0;

	if (!v)
		return 1;
	clear(v, n);
	for (int i = 0; i < n; i++) {
		nested(&v[i]);
		through(&v[i]);
		onion(&v[i]);
		sum += v[i].id + v[i].xy[0] + v[i].xy[1] + v[i].in.b;
	}
	pairs(&q);
	printf("ptrtest: %ld %d\n", sum, q.right);
	free(v);
	return 0;
}
