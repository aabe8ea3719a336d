/* test-clock.c: the session clock. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <time.h>

#include "clock.h"

/* Real-time session time starts near zero and never goes back. */
static void
test_realtime_monotonic(void **state)
{
	struct sb_clock c;
	int64_t prev, now;
	struct timespec ts = { 0, 2000000 };

	clock_init(&c, 0);
	prev = clock_now(&c);
	assert_true(prev >= 0 && prev < 1000000);
	nanosleep(&ts, NULL);
	now = clock_now(&c);
	assert_true(now >= prev + 2000);
}

/* The relay offset shifts session time by exactly its value. */
static void
test_offset_applies(void **state)
{
	struct sb_clock c;
	int64_t mono = clock_mono_us();

	clock_init(&c, 0);
	int64_t before = clock_from_mono(&c, mono);
	clock_set_offset(&c, 1234567);
	assert_int_equal(clock_from_mono(&c, mono) - before, 1234567);
}

/* Fast mode: time is what the engine says and never moves backwards. */
static void
test_fast_virtual(void **state)
{
	struct sb_clock c;

	clock_init(&c, 1);
	assert_int_equal(clock_now(&c), 0);
	clock_advance(&c, 5000);
	assert_int_equal(clock_now(&c), 5000);
	clock_advance(&c, 100);
	assert_int_equal(clock_now(&c), 5000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_realtime_monotonic),
		cmocka_unit_test(test_offset_applies),
		cmocka_unit_test(test_fast_virtual),
	};
	return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}
