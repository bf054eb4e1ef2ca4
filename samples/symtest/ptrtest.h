/*
 * ptrtest.h — the types of ptrtest.c, included by
 * tests/unit/test_symbols_ptr.c too (it checks names against offsetof).
 */
#ifndef PTRTEST_H
#define PTRTEST_H

struct half {
	short a;
	short b;
};

struct pos {
	int id;
	long xy[2];
	struct half in;
	union {
		int i;
		float f;
	} u;
};

typedef struct {
	int left;
	int right;
} pair_t;

#endif
