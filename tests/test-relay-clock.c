/* test-relay-clock.c: relay clock filter, drift fit and link health. */
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "relay.h"

/* Exponential delay with the given mean (us), from a seeded stream. */
static int64_t
exp_delay(double mean)
{
	double	u = ((double)random() + 1.0) / ((double)RAND_MAX + 2.0);

	return ((int64_t)(-mean * log(u)));
}

/*
 * Feed probes like the network thread does (a burst of 8 every 5 s and
 * one a second) against a relay whose session time is mono * (1 + drift)
 * + offset; one-way delays of 50 us plus queueing, 5% outliers of 20 ms.
 * Returns the local time of the last probe.
 */
static int64_t
simulate(struct relay_clock *c, int64_t offset, double drift, int64_t span)
{
	int64_t	t, t0, t1, t2, t3, up, down;
	int	k;

	for (t = 1000000000; t < 1000000000 + span; t += 1000000) {
		if ((t / 1000000) % 5 == 0)
			relay_clock_burst(c);
		for (k = 0; k < ((t / 1000000) % 5 == 0 ? 8 : 1); k++) {
			t0 = t + k * 300;
			up = 50 + exp_delay(150);
			down = 50 + exp_delay(150);
			if (random() % 20 == 0)
				up += 20000;
			t1 = (int64_t)llround((double)(t0 + up) *
			    (1 + drift)) + offset;
			t2 = t1 + 20;
			t3 = t0 + up + 20 + down;
			relay_clock_add(c, t0, t1, t2, t3);
		}
	}
	return (t);
}

/* Offset and drift come out right despite queueing and outliers. */
static void
test_clock_drift_fit(void **state)
{
	static struct relay_clock	 c;
	int64_t				 now, truth, est;
	double				 drift = 20e-6;

	srandom(42);
	relay_clock_init(&c);
	now = simulate(&c, 123456789, drift, 60000000);
	assert_int_equal(relay_clock_estimate(&c, now), 0);
	truth = (int64_t)llround((double)now * (1 + drift)) + 123456789 - now;
	est = relay_clock_offset_at(&c, now);
	if (llabs(est - truth) > 60)
		fail_msg("offset %lld, truth %lld", (long long)est,
		    (long long)truth);
	if (fabs(c.drift - drift) > 2e-6)
		fail_msg("drift %.2f ppm, truth 20 ppm", c.drift * 1e6);
	/* The reported uncertainty covers the actual error. */
	assert_true(c.uncertainty_us >= (double)llabs(est - truth));
	assert_true(c.uncertainty_us < 200);
	assert_true(c.minima >= 10);
}

/* Without the filter the outliers would pull the offset off by ms. */
static void
test_clock_outliers_ignored(void **state)
{
	static struct relay_clock	 c;
	int64_t				 t;
	int				 i;

	relay_clock_init(&c);
	/* Clean samples: offset 5000, delay 100 us. */
	for (i = 0; i < 20; i++) {
		t = 1000000 + (int64_t)i * 1000000;
		relay_clock_add(&c, t, t + 50 + 5000, t + 50 + 5000, t + 100);
		/* A slow one, asymmetric: 10 ms on the way out. */
		relay_clock_add(&c, t + 500, t + 500 + 10000 + 5000,
		    t + 500 + 10000 + 5000, t + 500 + 10050);
	}
	assert_int_equal(relay_clock_estimate(&c, t), 0);
	assert_true(llabs(relay_clock_offset_at(&c, t) - 5000) <= 2);
	assert_true(c.uncertainty_us <= 60);
}

/* One sample: its offset, error bound delta / 2; none: no estimate. */
static void
test_clock_single(void **state)
{
	static struct relay_clock	 c;

	relay_clock_init(&c);
	assert_int_equal(relay_clock_estimate(&c, 0), -1);
	/* t0=1000, relay at 3000..3100 session, t3=1500: theta 1800. */
	relay_clock_add(&c, 1000, 3000, 3100, 1500);
	assert_int_equal(relay_clock_estimate(&c, 1500), 0);
	assert_int_equal(relay_clock_offset_at(&c, 1500), 1800);
	assert_true(fabs(c.uncertainty_us - 200) < 1e-9);
	/* Samples older than the window are forgotten. */
	assert_int_equal(relay_clock_estimate(&c, 1000 +
	    RELAY_CLOCK_WINDOW_US + 1000), -1);
}

/* RTT percentiles and jitter. */
/*
 * The clocks step apart (the console's host was suspended 60 s, the
 * relay's session started a new life): one contradicting sample is not
 * believed, two in a row start the filter afresh on the new offset,
 * whatever the old window of minima says.
 */
static void
test_clock_step(void **state)
{
	static struct relay_clock	 c;
	int64_t				 now, t0;
	const int64_t			 step = 60000000;

	(void)state;
	srandom(7);
	relay_clock_init(&c);
	now = simulate(&c, 5000000, 0, 30000000);
	assert_int_equal(relay_clock_estimate(&c, now), 0);
	assert_true(llabs(relay_clock_offset_at(&c, now) - 5000000) < 200);
	/* one probe on the new clock: a fluke as far as anyone knows */
	t0 = now + 1000000;
	relay_clock_add(&c, t0, t0 + 100 + 5000000 + step,
	    t0 + 120 + 5000000 + step, t0 + 220);
	assert_int_equal(relay_clock_estimate(&c, t0 + 220), 0);
	assert_true(llabs(relay_clock_offset_at(&c, t0 + 220) - 5000000) <
	    200);
	assert_int_equal(c.steps, 0);
	/* a second one: the clocks stepped */
	t0 += 1000000;
	relay_clock_add(&c, t0, t0 + 100 + 5000000 + step,
	    t0 + 120 + 5000000 + step, t0 + 220);
	assert_int_equal(c.steps, 1);
	assert_int_equal(relay_clock_estimate(&c, t0 + 220), 0);
	assert_true(llabs(relay_clock_offset_at(&c, t0 + 220) - 5000000 -
	    step) < 200);
	/* and samples that agree with the new offset keep it */
	t0 += 1000000;
	relay_clock_add(&c, t0, t0 + 100 + 5000000 + step,
	    t0 + 120 + 5000000 + step, t0 + 220);
	assert_int_equal(c.steps, 1);
	assert_int_equal(relay_clock_estimate(&c, t0 + 220), 0);
	assert_true(llabs(relay_clock_offset_at(&c, t0 + 220) - 5000000 -
	    step) < 200);
}

/* A sample delayed 20 ms in one direction is queueing, not a step. */
static void
test_clock_delay_not_step(void **state)
{
	static struct relay_clock	 c;
	int64_t				 now, t0;

	(void)state;
	srandom(8);
	relay_clock_init(&c);
	now = simulate(&c, 0, 0, 20000000);
	assert_int_equal(relay_clock_estimate(&c, now), 0);
	t0 = now + 1000000;
	relay_clock_add(&c, t0, t0 + 20000, t0 + 20020, t0 + 20100);
	t0 += 1000000;
	relay_clock_add(&c, t0, t0 + 20000, t0 + 20020, t0 + 20100);
	assert_int_equal(c.steps, 0);
}

static void
test_health_rtt(void **state)
{
	struct relay_health	h;
	struct relay_rtt_stats	st;
	int			i;

	relay_health_init(&h);
	for (i = 1; i <= 100; i++)
		relay_health_rtt(&h, (double)i / 10);
	relay_health_rtt_stats(&h, &st);
	assert_true(fabs(st.p50 - 5.0) < 1e-9);
	assert_true(fabs(st.p99 - 9.9) < 1e-9);
	assert_true(fabs(st.jitter - 0.1) < 1e-9);
}

/* Loss counts failures of the last 10 s only. */
static void
test_health_loss(void **state)
{
	struct relay_health	h;

	relay_health_init(&h);
	relay_health_ok(&h, 1000);
	relay_health_fail(&h, 2000000);
	assert_false(h.connected);
	assert_true(relay_health_loss(&h, 3000000, 10) == 10.0);
	assert_true(relay_health_loss(&h, 2000000 + RELAY_RECENT_US + 1, 10)
	    == 0.0);
}

/* The documented thresholds. */
static void
test_link_state(void **state)
{
	const uint64_t	m = 1000000;	/* max_queue */

	/* Connected, fresh, quiet, small queue: up. */
	assert_int_equal(relay_link_state(1, 100000, 0.3, 0.3, 0, 0, 10, m),
	    SB_LINK_UP);
	/* Not connected, or 3 s without an exchange: down. */
	assert_int_equal(relay_link_state(0, 0, 0.3, 0.3, 0, 0, 0, m),
	    SB_LINK_DOWN);
	assert_int_equal(relay_link_state(1, 3000001, 0.3, 0.3, 0, 0, 0, m),
	    SB_LINK_DOWN);
	assert_int_equal(relay_link_state(1, 2999999, 0.3, 0.3, 0, 0, 0, m),
	    SB_LINK_UP);
	/*
	 * RTT p99 over 50 ms and twice the p50, loss, a gap, queue over
	 * 10%: degraded.
	 */
	assert_int_equal(relay_link_state(1, 0, 0.3, 50.1, 0, 0, 0, m),
	    SB_LINK_DEGRADED);
	assert_int_equal(relay_link_state(1, 0, 0.3, 49.9, 0, 0, 0, m),
	    SB_LINK_UP);
	assert_int_equal(relay_link_state(1, 0, 0.3, 1, 0.5, 0, 0, m),
	    SB_LINK_DEGRADED);
	assert_int_equal(relay_link_state(1, 0, 0.3, 1, 0, 1, 0, m),
	    SB_LINK_DEGRADED);
	assert_int_equal(relay_link_state(1, 0, 0.3, 1, 0, 0, 100001, m),
	    SB_LINK_DEGRADED);
	assert_int_equal(relay_link_state(1, 0, 0.3, 1, 0, 0, 100000, m),
	    SB_LINK_UP);
	/* A long link is up while steady, degraded once its p99 doubles. */
	assert_int_equal(relay_link_state(1, 0, 150, 170, 0, 0, 0, m),
	    SB_LINK_UP);
	assert_int_equal(relay_link_state(1, 0, 150, 301, 0, 0, 0, m),
	    SB_LINK_DEGRADED);
	assert_int_equal(relay_link_state(1, 0, 30, 59, 0, 0, 0, m),
	    SB_LINK_UP);
	assert_int_equal(relay_link_state(1, 0, 30, 61, 0, 0, 0, m),
	    SB_LINK_DEGRADED);
}

/* The link's detail says which rule made it down or degraded. */
static void
test_link_reason(void **state)
{
	const uint64_t	m = 1000000;
	char		b[160];

	(void)state;
	relay_link_reason(b, sizeof b, 1, 100000, 0.3, 0.3, 0, 0, 10, m, "x");
	assert_string_equal(b, "");
	relay_link_reason(b, sizeof b, 0, 0, 0.3, 0.3, 0, 0, 0, m,
	    "relay: https://h: Timeout was reached");
	assert_string_equal(b, "no connection; last error: relay: "
	    "https://h: Timeout was reached");
	relay_link_reason(b, sizeof b, 1, 4200000, 0.3, 0.3, 0, 0, 0, m,
	    NULL);
	assert_string_equal(b, "no exchange for 4 s");
	relay_link_reason(b, sizeof b, 1, 0, 0.3, 61, 25, 1, 200000, m, NULL);
	assert_string_equal(b, "round trip p99 61 ms (p50 0.3 ms); 25 % of "
	    "exchanges failed in the last 10 s; a gap in the last 10 s; "
	    "200000 events queued (max_queue 1000000)");
	/* cut to its buffer, terminated */
	relay_link_reason(b, 12, 0, 0, 0.3, 0.3, 0, 0, 0, m, "a long error");
	assert_string_equal(b, "no connecti");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clock_drift_fit),
		cmocka_unit_test(test_clock_outliers_ignored),
		cmocka_unit_test(test_clock_single),
		cmocka_unit_test(test_clock_step),
		cmocka_unit_test(test_clock_delay_not_step),
		cmocka_unit_test(test_health_rtt),
		cmocka_unit_test(test_health_loss),
		cmocka_unit_test(test_link_state),
		cmocka_unit_test(test_link_reason),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
