/*
 * The armed-time duty cycle's share (duty.c): rate x cost per switch x
 * slots x share stays within the budget, with a floor (never blind) and no
 * toggling when it would hardly save anything.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "duty.h"

static void test_within_budget(void **state)
{
	/* 30000 switches/s, 13 us, 1 slot: 39% armed all along; 5% allowed. */
	double f = duty_armed_share(30000, 13e-6, 1, 0.05);

	(void)state;
	assert_true(f > 0.12 && f < 0.13);
	assert_true(30000 * 13e-6 * 1 * f <= 0.05 + 1e-9);
	/* Four slots cost four times as much: a quarter of the share. */
	assert_true(duty_armed_share(30000, 13e-6, 4, 0.05) * 4 > f - 1e-9);
	assert_true(duty_armed_share(30000, 13e-6, 4, 0.05) * 4 < f + 1e-9);
	/* A larger budget allows proportionally more. */
	assert_true(duty_armed_share(30000, 13e-6, 1, 0.10) > 2 * f - 1e-9);
}

static void test_quiet_stays_armed(void **state)
{
	(void)state;
	assert_true(duty_armed_share(0, 13e-6, 4, 0.05) == 1.0);
	/* 100 switches/s x 13 us x 1 = 0.13%: far within 5%. */
	assert_true(duty_armed_share(100, 13e-6, 1, 0.05) == 1.0);
	/* Just over the budget (f = 0.96): not worth toggling. */
	assert_true(duty_armed_share(4000, 13e-6, 1, 0.05) == 1.0);
	/* Bare metal (0.3 us a slot) at 20000 switches/s, 4 slots: 2.4%. */
	assert_true(duty_armed_share(20000, 0.3e-6, 4, 0.05) == 1.0);
}

static void test_floor(void **state)
{
	(void)state;
	/* A million switches a second would want 0.1%: the floor holds 2%. */
	assert_true(duty_armed_share(1e6, 13e-6, 4, 0.05) == 0.02);
	assert_true(duty_armed_share(1e6, 13e-6, 4, 0.0) == 0.02);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_within_budget),
		cmocka_unit_test(test_quiet_stays_armed),
		cmocka_unit_test(test_floor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
