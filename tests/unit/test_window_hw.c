/*
 * Unit tests for window_hw's pieces: how a sampling window's bytes are
 * covered by the debug registers of each other thread (window_hw.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "window_hw.h"

static void expect_pieces(uint64_t addr, unsigned size, int write, int want,
			  const uint64_t *addrs, const unsigned *lens)
{
	struct hwbp_slot out[HWBP_SLOTS];
	int n = winhw_pieces(addr, size, write, out);

	assert_int_equal(n, want);
	for (int i = 0; i < n; i++) {
		assert_int_equal(out[i].addr, addrs[i]);
		assert_int_equal(out[i].len, lens[i]);
		assert_int_equal(out[i].kind, write ? HWBP_RW : HWBP_WRITE);
		assert_int_equal(out[i].addr % out[i].len, 0);
	}
}

static void test_aligned(void **state)
{
	(void)state;
	/* A long written: one slot, read or write. */
	expect_pieces(0x5000, 8, 1, 1, (uint64_t[]){ 0x5000 }, (unsigned[]){ 8 });
	/* A long read: one slot, on write only. */
	expect_pieces(0x5008, 8, 0, 1, (uint64_t[]){ 0x5008 }, (unsigned[]){ 8 });
	/* A 16-byte vector read of two fields: two slots. */
	expect_pieces(0x5000, 16, 0, 2, (uint64_t[]){ 0x5000, 0x5008 }, (unsigned[]){ 8, 8 });
	expect_pieces(0x5003, 1, 1, 1, (uint64_t[]){ 0x5003 }, (unsigned[]){ 1 });
}

static void test_unaligned(void **state)
{
	(void)state;
	/* 4 bytes at an odd address: 1 + 2 + 1. */
	expect_pieces(0x5001, 4, 1, 3, (uint64_t[]){ 0x5001, 0x5002, 0x5004 },
		      (unsigned[]){ 1, 2, 1 });
	/* 8 bytes at +4: 4 + 4. */
	expect_pieces(0x5004, 8, 0, 2, (uint64_t[]){ 0x5004, 0x5008 }, (unsigned[]){ 4, 4 });
}

static void test_too_wide(void **state)
{
	(void)state;
	/* 64 bytes (rep movs, AVX-512): the first four 8-byte pieces only. */
	expect_pieces(0x6000, 64, 1, 4, (uint64_t[]){ 0x6000, 0x6008, 0x6010, 0x6018 },
		      (unsigned[]){ 8, 8, 8, 8 });
	/* 8 bytes at an odd address need 1+2+4+1: all four fit. */
	expect_pieces(0x6001, 8, 1, 4, (uint64_t[]){ 0x6001, 0x6002, 0x6004, 0x6008 },
		      (unsigned[]){ 1, 2, 4, 1 });
	/* 16 at an odd address: the first four pieces, the rest left to the
	 * value comparison. */
	expect_pieces(0x6001, 16, 0, 4, (uint64_t[]){ 0x6001, 0x6002, 0x6004, 0x6008 },
		      (unsigned[]){ 1, 2, 4, 8 });
	/* Nothing to watch. */
	expect_pieces(0x6000, 0, 1, 0, NULL, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aligned),
		cmocka_unit_test(test_unaligned),
		cmocka_unit_test(test_too_wide),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
