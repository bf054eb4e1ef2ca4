/*
 * The types of samples/symtest/symtest.c, shared with
 * tests/unit/test_symbols.c so that the test computes every expected size
 * and offset with sizeof / offsetof from the very declarations the sample
 * was compiled with.
 */
#ifndef SYMTEST_H
#define SYMTEST_H

struct inner {
	short s;
	int vals[3];
};

struct outer {
	char tag;
	struct inner in;
	long tail;
	unsigned flag : 3;	/* byte 32, bits 0..2 */
	unsigned mode : 5;	/* byte 32, bits 3..7 */
	unsigned wide : 12;	/* bytes 33..34 */
};

/* Where the bit-fields land (offsetof cannot say): x86-64 SysV layout. */
#define SYMTEST_FLAG_BYTE 32
#define SYMTEST_MODE_BYTE 32
#define SYMTEST_WIDE_BYTE 33
#define SYMTEST_WIDE_LEN 2

struct point {
	int x;
	int y;
};

typedef volatile struct point vpoint_t;

enum color { RED, GREEN, BLUE };

#endif
