/*
 * test-latency.c: the per-path latency histograms (latency.h): the view's
 * window and how long it says it is, the session figures, percentiles
 * exact to 3 %, and a p99 of few samples.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "latency.h"

#define S 1000000LL	/* us */

static void
assert_near(double got, double want, double rel)
{
	if (got < want * (1 - rel) || got > want * (1 + rel))
		fail_msg("%g is not within %g %% of %g", got, 100 * rel, want);
}

/* The window covers the older half and the current one, and says so. */
static void
test_window(void **state)
{
	struct latency		*l = NULL;
	struct latency_stat	 st;

	(void)state;
	assert_int_equal(latency_recent(l, 0, &st), -1);
	latency_add(&l, 1000, 100 * S);		/* 1 ms */
	latency_add(&l, 3000, 104 * S);		/* 3 ms */
	assert_int_equal(latency_recent(l, 106 * S, &st), 0);
	assert_int_equal(st.n, 2);
	assert_near(st.window_s, 6, 1e-9);
	assert_near(st.max_ms, 3, 1e-9);
	/* 11 s on: a new half; the window is both, 13 s */
	latency_add(&l, 2000, 111 * S);
	assert_int_equal(latency_recent(l, 113 * S, &st), 0);
	assert_int_equal(st.n, 3);
	assert_near(st.window_s, 13, 1e-9);
	/* 10 s after that half began the first half is gone */
	latency_add(&l, 5000, 122 * S);
	assert_int_equal(latency_recent(l, 123 * S, &st), 0);
	assert_int_equal(st.n, 2);
	assert_near(st.window_s, 12, 1e-9);
	assert_near(st.max_ms, 5, 1e-9);
	/* the session keeps everything */
	assert_int_equal(latency_total(l, &st), 0);
	assert_int_equal(st.n, 4);
	/* nothing for over 20 s: no window, the session stays */
	assert_int_equal(latency_recent(l, 150 * S, &st), -1);
	assert_int_equal(latency_total(l, &st), 0);
	assert_int_equal(st.n, 4);
	/* the next sample after that quiet spell starts the window afresh */
	latency_add(&l, 1000, 400 * S);
	assert_int_equal(latency_recent(l, 401 * S, &st), 0);
	assert_int_equal(st.n, 1);
	assert_near(st.window_s, 1, 1e-9);
	assert_near(st.max_ms, 1, 1e-9);
	/* and so does one 15 s after a half began, keeping that half */
	latency_add(&l, 2000, 416 * S);
	assert_int_equal(latency_recent(l, 416 * S, &st), 0);
	assert_int_equal(st.n, 2);
	assert_near(st.window_s, 16, 1e-9);
	latency_free(l);
}

/* p50 and p99 within 3 %; with under 100 samples the p99 is the largest. */
static void
test_percentiles(void **state)
{
	struct latency		*l = NULL;
	struct latency_stat	 st;
	int			 i;

	(void)state;
	for (i = 1; i <= 1000; i++)
		latency_add(&l, (int64_t)i * 10, 10 * S);	/* 10 us..10 ms */
	assert_int_equal(latency_recent(l, 10 * S, &st), 0);
	assert_int_equal(st.n, 1000);
	assert_near(st.p50_ms, 5.0, 0.03);
	assert_near(st.p99_ms, 9.91, 0.03);
	assert_near(st.max_ms, 10.0, 1e-9);
	latency_free(l);

	l = NULL;
	for (i = 1; i <= 20; i++)
		latency_add(&l, (int64_t)i * 100, 10 * S);	/* 0.1..2 ms */
	assert_int_equal(latency_recent(l, 10 * S, &st), 0);
	assert_near(st.p99_ms, 2.0, 0.03);
	assert_true(st.p99_ms <= st.max_ms);
	latency_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_percentiles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
