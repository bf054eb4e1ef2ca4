/*
 * Unit tests for tracer/arch/x86/hwbp.h: range overlap, slot splitting,
 * DR7 encoding, slot validity, DR6 decoding.
 *
 * DR7 expectations are computed by hand from the Intel SDM vol. 3 layout
 * (17.2.4): L0-L3 at bits 0, 2, 4, 6; R/Wi at bits 16+4i (01 write,
 * 11 read/write); LENi at bits 18+4i (00 = 1, 01 = 2, 10 = 8, 11 = 4 bytes).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hwbp.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- range_overlap ---------------------------------------------------- */

static void test_overlap(void **state)
{
	static const struct {
		uint64_t a, alen, b, blen;
		int want;
	} t[] = {
		{ 0x1000, 4, 0x1000, 4, 1 },		/* identical */
		{ 0x1000, 4, 0x1004, 4, 0 },		/* adjacent above */
		{ 0x1004, 4, 0x1000, 4, 0 },		/* adjacent below */
		{ 0x1000, 4, 0x1003, 1, 1 },		/* last byte */
		{ 0x1003, 1, 0x1000, 4, 1 },		/* symmetric */
		{ 0x1000, 8, 0x1002, 2, 1 },		/* contains */
		{ 0x1002, 2, 0x1000, 8, 1 },		/* contained */
		{ 0x0fff, 2, 0x1000, 1, 1 },		/* straddles */
		{ 0x1000, 0, 0x1000, 4, 0 },		/* empty a */
		{ 0x1000, 4, 0x1000, 0, 0 },		/* empty b */
		{ 0, 1, 0, 1, 1 },			/* address 0 */
		{ 0, 1, UINT64_MAX, 1, 0 },		/* opposite ends */
		/* ranges ending exactly at 2^64: no wrap-around artefacts */
		{ UINT64_MAX - 3, 4, UINT64_MAX - 1, 1, 1 },
		{ UINT64_MAX - 1, 1, UINT64_MAX - 3, 4, 1 },
		{ UINT64_MAX - 3, 4, 0, 1, 0 },
		{ UINT64_MAX, 1, UINT64_MAX, 1, 1 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		int got = range_overlap(t[i].a, t[i].alen, t[i].b, t[i].blen);

		if (got != t[i].want)
			fail_msg("case %zu: overlap(%#llx+%llu, %#llx+%llu) = %d, want %d", i,
				 (unsigned long long)t[i].a, (unsigned long long)t[i].alen,
				 (unsigned long long)t[i].b, (unsigned long long)t[i].blen,
				 got, t[i].want);
	}
}

/* ---- hwbp_split --------------------------------------------------------- */

struct chunk {
	uint64_t addr;
	unsigned len;
};

static void test_split_table(void **state)
{
	static const struct {
		uint64_t addr, len;
		int max;
		int n;			/* expected return */
		struct chunk c[5];
	} t[] = {
		{ 0x1000, 8, 4, 1, { { 0x1000, 8 } } },
		{ 0x1000, 4, 4, 1, { { 0x1000, 4 } } },
		{ 0x1002, 2, 4, 1, { { 0x1002, 2 } } },
		{ 0x1007, 1, 4, 1, { { 0x1007, 1 } } },
		{ 0x1004, 8, 4, 2, { { 0x1004, 4 }, { 0x1008, 4 } } },
		/* 0x1003..0x100b: a 1 at the odd start, then two aligned 4s */
		{ 0x1003, 9, 4, 3, { { 0x1003, 1 }, { 0x1004, 4 }, { 0x1008, 4 } } },
		/* 0x1001..0x1006 needs 4: 1, 2, 2, 1 */
		{ 0x1001, 6, 4, 4, { { 0x1001, 1 }, { 0x1002, 2 }, { 0x1004, 2 }, { 0x1006, 1 } } },
		{ 0x1001, 6, 3, -1, { { 0 } } },
		/* 0x1001..0x100f: 1, 2, 4, 8 */
		{ 0x1001, 15, 4, 4, { { 0x1001, 1 }, { 0x1002, 2 }, { 0x1004, 4 }, { 0x1008, 8 } } },
		{ 0x1001, 16, 4, -1, { { 0 } } },	/* 1, 2, 4, 8, 1 */
		{ 0x1000, 32, 4, 4, { { 0x1000, 8 }, { 0x1008, 8 }, { 0x1010, 8 }, { 0x1018, 8 } } },
		{ 0x1000, 33, 4, -1, { { 0 } } },
		{ 0x0fff, 2, 4, 2, { { 0x0fff, 1 }, { 0x1000, 1 } } },
		{ 0x1006, 4, 4, 2, { { 0x1006, 2 }, { 0x1008, 2 } } },
		{ 0x1000, 0, 4, -1, { { 0 } } },	/* empty */
		{ 0x1000, 1, 0, -1, { { 0 } } },	/* no room at all */
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		struct hwbp_slot out[HWBP_SLOTS + 1];
		int n = hwbp_split(t[i].addr, t[i].len, HWBP_RW, out, t[i].max);

		if (n != t[i].n)
			fail_msg("case %zu: split(%#llx, %llu, max %d) = %d, want %d", i,
				 (unsigned long long)t[i].addr, (unsigned long long)t[i].len,
				 t[i].max, n, t[i].n);
		for (int k = 0; k < n; k++) {
			assert_int_equal(out[k].addr, t[i].c[k].addr);
			assert_int_equal(out[k].len, t[i].c[k].len);
			assert_int_equal(out[k].kind, HWBP_RW);
		}
	}
}

static void test_split_keeps_kind(void **state)
{
	struct hwbp_slot out[HWBP_SLOTS];

	(void)state;
	assert_int_equal(hwbp_split(0x2001, 3, HWBP_WRITE, out, HWBP_SLOTS), 2);
	assert_int_equal(out[0].kind, HWBP_WRITE);
	assert_int_equal(out[1].kind, HWBP_WRITE);
}

/* Fewest aligned 1/2/4/8 chunks covering [addr, addr+len) exactly, by DP. */
static int min_chunks(uint64_t addr, uint64_t len)
{
	int best[64 + 1];

	best[len] = 0;
	for (int p = (int)len - 1; p >= 0; p--) {
		best[p] = 1000;
		for (unsigned sz = 1; sz <= 8; sz <<= 1)
			if ((addr + p) % sz == 0 && p + sz <= len && best[p + sz] + 1 < best[p])
				best[p] = best[p + sz] + 1;
	}
	return best[0];
}

/*
 * Property: for every start offset within 16 bytes and every length up to
 * 40, the split is exact, ordered, made of valid slots, and as short as the
 * DP optimum (or -1 exactly when the optimum exceeds max).
 */
static void test_split_fewest(void **state)
{
	(void)state;
	for (uint64_t addr = 0x4000; addr < 0x4010; addr++) {
		for (uint64_t len = 1; len <= 40; len++) {
			struct hwbp_slot out[8];
			int want = min_chunks(addr, len);
			int n = hwbp_split(addr, len, HWBP_RW, out, 8);
			uint64_t next = addr;

			if (want > 8) {
				assert_int_equal(n, -1);
				continue;
			}
			if (n != want)
				fail_msg("split(%#llx, %llu) = %d chunks, optimum %d",
					 (unsigned long long)addr, (unsigned long long)len, n, want);
			for (int k = 0; k < n; k++) {
				assert_true(hwbp_valid(&out[k]));
				assert_int_equal(out[k].addr, next);
				next += out[k].len;
			}
			assert_int_equal(next, addr + len);
			/* one slot fewer than needed must be refused */
			assert_int_equal(hwbp_split(addr, len, HWBP_RW, out, want - 1), -1);
		}
	}
}

/* ---- hwbp_dr7 ------------------------------------------------------------ */

static void test_dr7(void **state)
{
	static const struct hwbp_slot slots[HWBP_SLOTS] = {
		{ 0x1000, 4, HWBP_WRITE },	/* L0, RW0=01, LEN0=11 */
		{ 0x2000, 8, HWBP_RW },		/* L1, RW1=11, LEN1=10 */
		{ 0x3001, 1, HWBP_WRITE },	/* L2, RW2=01, LEN2=00 */
		{ 0x4002, 2, HWBP_RW },		/* L3, RW3=11, LEN3=01 */
	};
	/* bit 0 | 01 << 16 | 11 << 18 */
	const uint64_t s0 = 0x1ull | (0x1ull << 16) | (0x3ull << 18);		/* 0x000d0001 */
	/* bit 2 | 11 << 20 | 10 << 22 */
	const uint64_t s1 = 0x4ull | (0x3ull << 20) | (0x2ull << 22);		/* 0x00b00004 */
	/* bit 4 | 01 << 24 | 00 << 26 */
	const uint64_t s2 = 0x10ull | (0x1ull << 24);				/* 0x01000010 */
	/* bit 6 | 11 << 28 | 01 << 30 */
	const uint64_t s3 = 0x40ull | (0x3ull << 28) | (0x1ull << 30);		/* 0x70000040 */

	(void)state;
	assert_int_equal(s0, 0x000d0001);
	assert_int_equal(s1, 0x00b00004);
	assert_int_equal(s2, 0x01000010);
	assert_int_equal(s3, 0x70000040);

	assert_int_equal(hwbp_dr7(slots, 0), 0);
	assert_int_equal(hwbp_dr7(slots, 1u << 0), s0);
	assert_int_equal(hwbp_dr7(slots, 1u << 1), s1);
	assert_int_equal(hwbp_dr7(slots, 1u << 2), s2);
	assert_int_equal(hwbp_dr7(slots, 1u << 3), s3);
	assert_int_equal(hwbp_dr7(slots, 0x9), 0x700d0041);
	assert_int_equal(hwbp_dr7(slots, 0xf), 0x71bd0055);
	/* bits above the four slots are ignored */
	assert_int_equal(hwbp_dr7(slots, 0xf0), 0);
}

/* Every length in every slot, both kinds. */
static void test_dr7_len_field(void **state)
{
	static const struct {
		unsigned len, bits;
	} lens[] = { { 1, 0 }, { 2, 1 }, { 8, 2 }, { 4, 3 } };

	(void)state;
	for (int i = 0; i < HWBP_SLOTS; i++) {
		for (size_t l = 0; l < ARRAY_SIZE(lens); l++) {
			struct hwbp_slot slots[HWBP_SLOTS] = { { 0 } };
			uint64_t want;

			slots[i].addr = 0x8000;
			slots[i].len = lens[l].len;
			slots[i].kind = HWBP_WRITE;
			want = (1ull << (2 * i)) | (1ull << (16 + 4 * i)) |
			       ((uint64_t)lens[l].bits << (18 + 4 * i));
			assert_int_equal(hwbp_dr7(slots, 1u << i), want);
			slots[i].kind = HWBP_RW;
			want |= 3ull << (16 + 4 * i);
			assert_int_equal(hwbp_dr7(slots, 1u << i), want);
		}
	}
}

/* ---- hwbp_valid ------------------------------------------------------------ */

static void test_valid(void **state)
{
	static const struct {
		struct hwbp_slot s;
		int want;
	} t[] = {
		{ { 0x1000, 8, HWBP_RW }, 1 },
		{ { 0x1000, 4, HWBP_WRITE }, 1 },
		{ { 0x1001, 1, HWBP_RW }, 1 },
		{ { 0x1002, 2, HWBP_RW }, 1 },
		{ { 0x1004, 8, HWBP_RW }, 0 },		/* misaligned */
		{ { 0x1002, 4, HWBP_RW }, 0 },
		{ { 0x1001, 2, HWBP_RW }, 0 },
		{ { 0x1000, 3, HWBP_RW }, 0 },		/* no such length */
		{ { 0x1000, 16, HWBP_RW }, 0 },
		{ { 0x1000, 0, HWBP_RW }, 0 },
		{ { 0x1000, 4, (enum hwbp_kind)0 }, 0 },	/* execute: not a data slot */
		{ { 0x1000, 4, (enum hwbp_kind)2 }, 0 },	/* I/O */
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		if (hwbp_valid(&t[i].s) != t[i].want)
			fail_msg("case %zu: valid = %d, want %d", i, !t[i].want, t[i].want);
}

/* ---- hwbp_dr6_slot ---------------------------------------------------------- */

static void test_dr6(void **state)
{
	static const struct {
		uint64_t dr6;
		unsigned mask;
		int want;
	} t[] = {
		{ 0x1, 0xf, 0 },
		{ 0x2, 0xf, 1 },
		{ 0x4, 0xf, 2 },
		{ 0x8, 0xf, 3 },
		{ 0xffff0ff0, 0xf, -1 },	/* reset value: no B bit */
		{ 0xffff0ff6, 0xf, 1 },		/* B1 and B2: lowest wins */
		{ 0xffff0ff6, 0xd, 2 },		/* slot 1 not ours */
		{ 0x8, 0x7, -1 },		/* fired slot masked out */
		{ 0x4000, 0xf, -1 },		/* BS (single step) only */
		{ 0x2000, 0xf, -1 },		/* BD only */
		{ 0xf, 0, -1 },			/* empty mask */
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		int got = hwbp_dr6_slot(t[i].dr6, t[i].mask);

		if (got != t[i].want)
			fail_msg("case %zu: dr6_slot(%#llx, %#x) = %d, want %d", i,
				 (unsigned long long)t[i].dr6, t[i].mask, got, t[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_overlap),
		cmocka_unit_test(test_split_table),
		cmocka_unit_test(test_split_keeps_kind),
		cmocka_unit_test(test_split_fewest),
		cmocka_unit_test(test_dr7),
		cmocka_unit_test(test_dr7_len_field),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_dr6),
	};

	return cmocka_run_group_tests_name("hwbp", tests, NULL, NULL);
}
