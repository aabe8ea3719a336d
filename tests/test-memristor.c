/* test-memristor.c: the simulated TiOx ReRAM crossbar (sim_memristor). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake-host.h"
#include "memristor.h"

int synbridge_plugin_init(struct sb_plugin *, const struct sb_host_api *);
extern const char synbridge_plugin_name[];
extern const char synbridge_plugin_api_version[];

#define MAX_DONE 256

/* Completions collected by poll(). */
struct done {
	struct sb_completion c[MAX_DONE];
	size_t n;
};

/* sb_complete_fn that records every completion. */
static void
collect(void *ctx, const struct sb_completion *c)
{
	struct done *d = ctx;

	assert_true(d->n < MAX_DONE);
	d->c[d->n++] = *c;
}

/* A crossbar with the defaults, a seed and an initial state. */
static struct memristor_xbar *
make_xbar(uint64_t seed, enum memristor_init init, double c2c, double d2d)
{
	struct memristor_config cfg;
	struct memristor_xbar *x;
	char *cause = NULL;

	memristor_config_default(&cfg);
	cfg.seed = seed;
	cfg.init = init;
	cfg.c2c_sigma = c2c;
	cfg.d2d_sigma_a = d2d;
	cfg.d2d_sigma_t = d2d * 0.4;
	x = memristor_xbar_create(&cfg, &cause);
	assert_non_null(x);
	assert_null(cause);
	return x;
}

/* True resistance of a device in window ohms. */
static double
ohms(struct memristor_xbar *x, uint32_t dev)
{
	return memristor_device_ohms(&x->dev[dev], &x->model, &x->cfg);
}

/* Queue one pulse, complete it, return its completion. */
static struct sb_completion
pulse_now(struct memristor_xbar *x, uint32_t dev, double v, uint32_t w,
    uint32_t count, int64_t *now)
{
	struct done d = { .n = 0 };
	char *cause = NULL;

	assert_int_equal(memristor_xbar_pulse(x, dev, v, w, count, 7, *now,
	    &cause), 0);
	*now += x->cfg.latency_us + (int64_t)count * w;
	memristor_xbar_poll(x, *now, collect, &d);
	assert_int_equal(d.n, 1);
	return d.c[0];
}

/* Positive pulses raise R (lower G), negative pulses lower R. */
static void
test_direction(void **state)
{
	struct memristor_xbar *x = make_xbar(1, MEMRISTOR_INIT_MID, 0.15,
	    0.05);
	struct sb_completion c;
	int64_t now = 0;
	double r0 = ohms(x, 5);

	c = pulse_now(x, 5, 4.0, 100, 1, &now);
	assert_true(ohms(x, 5) > r0);
	assert_true(c.g_after_us < c.g_before_us - 1.0);
	r0 = ohms(x, 5);
	c = pulse_now(x, 5, -4.0, 100, 1, &now);
	assert_true(ohms(x, 5) < r0);
	assert_true(c.g_after_us > c.g_before_us + 1.0);
	/* The same both ways: ten pulses each, well beyond the read noise. */
	c = pulse_now(x, 5, 4.0, 100, 10, &now);
	assert_true(c.g_after_us < c.g_before_us - 3.0);
	c = pulse_now(x, 5, -4.0, 100, 10, &now);
	assert_true(c.g_after_us > c.g_before_us + 3.0);
	memristor_xbar_free(x);
}

/* Any number of the strongest pulses stays inside [rmin, rmax]. */
static void
test_saturates_in_window(void **state)
{
	struct memristor_xbar *x = make_xbar(2, MEMRISTOR_INIT_SPREAD, 0.3,
	    0.05);
	double gmin = 1e6 / x->cfg.rmax, gmax = 1e6 / x->cfg.rmin, r;
	struct sb_completion c;
	int64_t now = 0;
	uint32_t dev, i;

	for (dev = 0; dev < 8; dev++) {
		for (i = 0; i < 40; i++) {
			c = pulse_now(x, dev, i < 20 ? 6.0 : -6.0, 1000, 100,
			    &now);
			r = ohms(x, dev);
			assert_true(r >= x->cfg.rmin && r <= x->cfg.rmax);
			assert_true(c.g_after_us > gmin * 0.95 &&
			    c.g_after_us < gmax * 1.05);
			if (i == 19)
				assert_true(r > x->cfg.rmax - 1.0);
		}
		/* 20 trains of -6 V: at the bottom of the window. */
		assert_true(ohms(x, dev) < x->cfg.rmin + 1.0);
	}
	/* Nominal +4 V trains reach rmax but never pass it. */
	for (i = 0; i < 50; i++) {
		pulse_now(x, 9, 4.0, 100, 100, &now);
		assert_true(ohms(x, 9) <= x->cfg.rmax);
	}
	assert_true(ohms(x, 9) > x->cfg.rmax - 0.02 *
	    (x->cfg.rmax - x->cfg.rmin));
	memristor_xbar_free(x);
}

/* Change in R from one pulse train on device 0 of a fresh crossbar. */
static double
delta_for(double v, uint32_t count)
{
	/* Positive pulses from the bottom of R, negative from the top. */
	struct memristor_xbar *x = make_xbar(3, v > 0 ? MEMRISTOR_INIT_HIGH :
	    MEMRISTOR_INIT_LOW, 0.0, 0.05);
	int64_t now = 0;
	double r0 = ohms(x, 0), d;

	pulse_now(x, 0, v, 100, count, &now);
	d = ohms(x, 0) - r0;
	memristor_xbar_free(x);
	return d;
}

/* A larger amplitude gives a larger change, in both directions. */
static void
test_amplitude(void **state)
{
	double p3 = delta_for(3.0, 1), p4 = delta_for(4.0, 1);
	double p5 = delta_for(5.0, 1);
	double n3 = delta_for(-3.0, 1), n4 = delta_for(-4.0, 1);
	double n5 = delta_for(-5.0, 1);

	assert_true(p3 > 0 && p4 > p3 && p5 > p4);
	assert_true(n3 < 0 && n4 < n3 && n5 < n4);
	/* Exponential sensitivity: 5 V does several times what 4 V does. */
	assert_true(p5 > 2.0 * p4);
	assert_true(n5 < 2.0 * n4);
}

/* Reads (and anything up to read_v) never change a device. */
static void
test_threshold(void **state)
{
	struct memristor_xbar *x = make_xbar(4, MEMRISTOR_INIT_MID, 0.15,
	    0.05);
	double window = x->cfg.rmax - x->cfg.rmin, r0 = ohms(x, 0);
	int64_t now = 0;
	uint32_t dev;
	int i;

	for (i = 0; i < 20; i++) {
		pulse_now(x, 0, 0.2, 1000, 100, &now);
		pulse_now(x, 0, -0.2, 1000, 100, &now);
		pulse_now(x, 0, 0.1, 1000, 100, &now);
	}
	assert_true(ohms(x, 0) == r0);
	/* From either edge too, where a pulse has furthest to go. */
	memristor_xbar_free(x);
	for (i = 0; i < 2; i++) {
		x = make_xbar(4, i ? MEMRISTOR_INIT_LOW : MEMRISTOR_INIT_HIGH,
		    0.15, 0.05);
		for (dev = 0; dev < 4; dev++) {
			r0 = ohms(x, dev);
			pulse_now(x, dev, i ? -0.2 : 0.2, 1000, 100, &now);
			assert_true(ohms(x, dev) == r0);
		}
		memristor_xbar_free(x);
	}
	/* 1 V: above the read voltage, but a tenth of an ohm per pulse. */
	x = make_xbar(4, MEMRISTOR_INIT_MID, 0.15, 0.05);
	r0 = ohms(x, 0);
	pulse_now(x, 0, 1.0, 100, 10, &now);
	pulse_now(x, 0, -1.0, 100, 10, &now);
	assert_true(fabs(ohms(x, 0) - r0) < 0.001 * window);
	memristor_xbar_free(x);
}

/* Mean and coefficient of variation of v[0..n-1]. */
static double
cv_of(const double *v, size_t n)
{
	double m = 0, s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		m += v[i];
	m /= n;
	for (i = 0; i < n; i++)
		s += (v[i] - m) * (v[i] - m);
	return sqrt(s / (n - 1)) / fabs(m);
}

/* Devices and cycles differ, within the documented spread. */
static void
test_variability(void **state)
{
	struct memristor_xbar *x;
	double dr[256], g[256], r0, cv;
	int64_t now = 0;
	uint32_t i;

	/* Cycle-to-cycle only: identical devices, same state, one pulse. */
	x = make_xbar(5, MEMRISTOR_INIT_MID, 0.15, 0.0);
	for (i = 0; i < 256; i++) {
		r0 = ohms(x, i);
		pulse_now(x, i, 4.0, 100, 1, &now);
		dr[i] = ohms(x, i) - r0;
	}
	cv = cv_of(dr, 256);
	assert_true(cv > 0.08 && cv < 0.25);
	memristor_xbar_free(x);

	/* Device-to-device only: no cycle noise, still different. */
	x = make_xbar(5, MEMRISTOR_INIT_MID, 0.0, 0.05);
	for (i = 0; i < 256; i++) {
		r0 = ohms(x, i);
		pulse_now(x, i, 4.0, 100, 1, &now);
		dr[i] = ohms(x, i) - r0;
	}
	cv = cv_of(dr, 256);
	assert_true(cv > 0.03 && cv < 0.35);

	/* Read noise: repeated reads of one device spread by ~0.7%. */
	for (i = 0; i < 256; i++) {
		struct done d = { .n = 0 };

		assert_int_equal(memristor_xbar_read(x, 3, i, now, NULL), 0);
		now += x->cfg.latency_us;
		memristor_xbar_poll(x, now, collect, &d);
		assert_int_equal(d.n, 1);
		g[i] = d.c[0].g_after_us;
		assert_true(memristor_xbar_conductance(x, 3) == g[i]);
	}
	cv = cv_of(g, 256);
	assert_true(cv > 0.004 && cv < 0.011);
	memristor_xbar_free(x);
}

/* Run a fixed request script; fill out with every completion. */
static void
script(uint64_t seed, struct done *out)
{
	struct memristor_xbar *x = make_xbar(seed, MEMRISTOR_INIT_SPREAD,
	    0.15, 0.05);
	int64_t t;
	uint32_t i;

	out->n = 0;
	for (t = 0; t < 400000; t += 5000) {
		i = (uint32_t)(t / 5000) % 7;
		memristor_xbar_pulse(x, i, (t / 5000) % 3 ? 4.0 : -4.0, 100,
		    1 + i, (uint64_t)t, t, NULL);
		memristor_xbar_read(x, 100 + i, (uint64_t)t, t, NULL);
		memristor_xbar_poll(x, t, collect, out);
	}
	memristor_xbar_poll(x, INT64_MAX, collect, out);
	memristor_xbar_free(x);
}

/* The same seed gives the same run; another seed another. */
static void
test_determinism(void **state)
{
	struct done *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
	size_t i;
	int differ = 0;

	script(11, a);
	script(11, b);
	assert_true(a->n == 160 && b->n == 160);
	assert_memory_equal(a->c, b->c, a->n * sizeof a->c[0]);
	script(12, b);
	assert_int_equal(b->n, a->n);
	for (i = 0; i < a->n; i++) {
		if (a->c[i].g_after_us != b->c[i].g_after_us)
			differ++;
	}
	assert_true(differ > 150);
	free(a);
	free(b);
}

/* Completions come in time order, latency_us after the device is free. */
/* The stop button: waiting pulses fail unapplied, reads still happen. */
static void
test_cancel(void **state)
{
	struct memristor_xbar *x = make_xbar(6, MEMRISTOR_INIT_MID, 0.0, 0.0);
	struct done d = { .n = 0 };
	double r0;

	(void)state;
	r0 = x->dev[0].r;
	assert_int_equal(memristor_xbar_pulse(x, 0, 4.0, 100, 5, 1, 0, NULL),
	    0);
	assert_int_equal(memristor_xbar_read(x, 0, 2, 0, NULL), 0);
	assert_int_equal(memristor_xbar_pulse(x, 0, -4.0, 100, 1, 3, 0, NULL),
	    0);
	assert_int_equal(memristor_xbar_cancel(x), 2);
	assert_int_equal(memristor_xbar_cancel(x), 0);	/* once each */
	memristor_xbar_poll(x, 10000000, collect, &d);
	assert_int_equal(d.n, 3);
	assert_int_equal(d.c[0].status, -1);
	assert_non_null(strstr(d.c[0].message, "cancelled by stop"));
	assert_int_equal(d.c[1].status, 0);		/* the read */
	assert_int_equal(d.c[2].status, -1);
	assert_true(x->dev[0].r == r0);			/* nothing applied */
	memristor_xbar_free(x);
}

static void
test_async_order(void **state)
{
	struct memristor_xbar *x = make_xbar(6, MEMRISTOR_INIT_MID, 0.15,
	    0.05);
	struct done d = { .n = 0 };
	double g0 = memristor_xbar_conductance(x, 0);

	assert_int_equal(memristor_xbar_pulse(x, 0, 4.0, 100, 1, 1, 0, NULL),
	    0);
	assert_int_equal(memristor_xbar_read(x, 0, 2, 0, NULL), 0);
	assert_int_equal(memristor_xbar_read(x, 1, 3, 5000, NULL), 0);
	/* Nothing before the first is due; conductance() is unchanged. */
	memristor_xbar_poll(x, 9999, collect, &d);
	assert_int_equal(d.n, 0);
	assert_true(memristor_xbar_conductance(x, 0) == g0);

	memristor_xbar_poll(x, 10000, collect, &d);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.c[0].tag, 1);
	assert_int_equal(d.c[0].t_us, 10000);
	assert_int_equal(d.c[0].status, 0);
	assert_true(d.c[0].g_before_us == g0);
	assert_true(d.c[0].g_after_us < g0);	/* +4 V raised R */
	assert_true(memristor_xbar_conductance(x, 0) == d.c[0].g_after_us);

	/* Device 1 (queued at 5000) finishes before device 0's read. */
	memristor_xbar_poll(x, 1000000, collect, &d);
	assert_int_equal(d.n, 3);
	assert_int_equal(d.c[1].tag, 3);
	assert_int_equal(d.c[1].device, 1);
	assert_int_equal(d.c[1].t_us, 15000);
	assert_int_equal(d.c[2].tag, 2);
	assert_int_equal(d.c[2].t_us, 20000);
	assert_true(d.c[2].g_before_us == d.c[0].g_after_us);
	assert_string_equal(d.c[0].message, "w1b1: 1 x +4.00 V 100 us");

	/* A request after a quiet spell starts from now, not from before. */
	assert_int_equal(memristor_xbar_read(x, 0, 4, 2000000, NULL), 0);
	d.n = 0;
	memristor_xbar_poll(x, 2009999, collect, &d);
	assert_int_equal(d.n, 0);
	memristor_xbar_poll(x, 2010000, collect, &d);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.c[0].t_us, 2010000);
	memristor_xbar_free(x);
}

/* A full device queue refuses with a reason; others still accept. */
static void
test_queue_full(void **state)
{
	struct memristor_xbar *x = make_xbar(7, MEMRISTOR_INIT_MID, 0.15,
	    0.05);
	struct done d = { .n = 0 };
	char *cause = NULL;
	int i;

	for (i = 0; i < MEMRISTOR_QUEUE_MAX; i++) {
		assert_int_equal(memristor_xbar_pulse(x, 37, 4.0, 100, 1, i, 0,
		    &cause), 0);
	}
	assert_int_equal(memristor_xbar_read(x, 37, 99, 0, &cause), -1);
	assert_string_equal(cause, "sim_memristor: device w2b6 is busy: 16 "
	    "operations already queued (wait for them to complete)");
	free(cause);
	cause = NULL;
	assert_int_equal(memristor_xbar_read(x, 38, 99, 0, &cause), 0);
	memristor_xbar_poll(x, 10000, collect, &d);
	assert_int_equal(d.n, 2);
	assert_int_equal(memristor_xbar_read(x, 37, 99, 10000, &cause), 0);
	assert_null(cause);
	memristor_xbar_poll(x, INT64_MAX, collect, &d);
	assert_int_equal(d.n, 18);
	assert_int_equal(d.c[17].t_us, 170000);
	memristor_xbar_free(x);
}

/* Out-of-limit requests are refused even if the host let them through. */
static void
test_refuse_limits(void **state)
{
	struct memristor_xbar *x = make_xbar(8, MEMRISTOR_INIT_MID, 0.15,
	    0.05);
	char *cause = NULL;

	assert_int_equal(memristor_xbar_pulse(x, 0, 6.5, 100, 1, 0, 0,
	    &cause), -1);
	assert_string_equal(cause, "sim_memristor: pulse of +6.50 V refused: "
	    "the limit is +/-6.00 V (max_v)");
	free(cause);
	assert_int_equal(memristor_xbar_pulse(x, 0, NAN, 100, 1, 0, 0,
	    &cause), -1);
	free(cause);
	assert_int_equal(memristor_xbar_pulse(x, 0, 4.0, 1001, 1, 0, 0,
	    &cause), -1);
	assert_non_null(strstr(cause, "1-1000 us"));
	free(cause);
	assert_int_equal(memristor_xbar_pulse(x, 0, 4.0, 100, 101, 0, 0,
	    &cause), -1);
	assert_non_null(strstr(cause, "count 101 refused"));
	free(cause);
	assert_int_equal(memristor_xbar_pulse(x, 0, 4.0, 100, 0, 0, 0,
	    &cause), -1);
	free(cause);
	assert_int_equal(memristor_xbar_read(x, 1024, 0, 0, &cause), -1);
	assert_string_equal(cause, "sim_memristor: no device 1024 (crossbar "
	    "has 1024 devices: 0-1023)");
	free(cause);
	assert_int_equal(x->nheap, 0);
	memristor_xbar_free(x);
}

/* Expect spec to fail with exactly msg. */
static void
address_fails(const char *spec, const char *msg)
{
	uint32_t dev = 12345;
	char *cause = NULL;

	assert_int_equal(sb_crossbar_parse(MEMRISTOR_NAME, 32, 32, spec, &dev,
	    &cause), -1);
	assert_int_equal(dev, 12345);
	assert_string_equal(cause, msg);
	free(cause);
}

/* Parse spec on a rows x cols crossbar; the device index. */
static uint32_t
address_of(uint32_t rows, uint32_t cols, const char *spec)
{
	uint32_t dev = 12345;
	char *cause = NULL;

	if (sb_crossbar_parse(MEMRISTOR_NAME, rows, cols, spec, &dev,
	    &cause) != 0)
		fail_msg("%s: %s", spec, cause);
	return dev;
}

/* Addresses as the ArC ONE numbers them (from 1), and the errors. */
static void
test_address(void **state)
{
	const char *bad = "use w<wordline>b<bitline> (w3b5) or "
	    "<wordline>,<bitline> (3,5), counting from 1, or a device index "
	    "(0-1023)";
	char msg[256], buf[32];
	const char *specs[] = { "w3", "w3b", "3,", "", "w3b5x", "-1", "abc",
	    "w 3b5", "99999999999", "w-1b2" };
	uint32_t dev;
	size_t i;

	assert_int_equal(address_of(32, 32, "w1b1"), 0);
	assert_int_equal(address_of(32, 32, "w1b2"), 1);
	assert_int_equal(address_of(32, 32, "w2b1"), 32);
	assert_int_equal(address_of(32, 32, "w3b5"), 2 * 32 + 4);
	assert_int_equal(address_of(32, 32, "3,5"), 68);
	assert_int_equal(address_of(32, 32, " 3 , 5 "), 68);
	assert_int_equal(address_of(32, 32, "W32B32"), 1023);
	assert_int_equal(address_of(32, 32, "32,32"), 1023);
	assert_int_equal(address_of(32, 32, "0"), 0);
	assert_int_equal(address_of(32, 32, "29"), 29);
	assert_int_equal(address_of(4, 8, "w4b8"), 31);
	/* The formatter gives back what the parser takes. */
	for (dev = 0; dev < 32; dev++) {
		sb_crossbar_format(8, dev, buf, sizeof buf);
		assert_int_equal(address_of(4, 8, buf), dev);
	}
	sb_crossbar_format(32, 68, buf, sizeof buf);
	assert_string_equal(buf, "w3b5");
	sb_crossbar_format(32, 0, buf, sizeof buf);
	assert_string_equal(buf, "w1b1");
	sb_crossbar_format(32, 1023, buf, sizeof buf);
	assert_string_equal(buf, "w32b32");

	address_fails("w33b1", "sim_memristor: no device w33b1 (crossbar is "
	    "32x32: w1-w32, b1-b32)");
	address_fails("2,33", "sim_memristor: no device w2b33 (crossbar is "
	    "32x32: w1-w32, b1-b32)");
	address_fails("w0b0", "sim_memristor: no device w0b0 (crossbar is "
	    "32x32: w1-w32, b1-b32; lines count from 1)");
	address_fails("3,0", "sim_memristor: no device w3b0 (crossbar is "
	    "32x32: w1-w32, b1-b32; lines count from 1)");
	address_fails("1024", "sim_memristor: no device 1024 (crossbar has "
	    "1024 devices: 0-1023)");
	for (i = 0; i < sizeof specs / sizeof specs[0]; i++) {
		snprintf(msg, sizeof msg, "sim_memristor: bad device address "
		    "'%s': %s", specs[i], bad);
		address_fails(specs[i], msg);
	}
	/* No cause asked for: still refused. */
	assert_int_equal(sb_crossbar_parse(MEMRISTOR_NAME, 32, 32, "w0b1",
	    &dev, NULL), -1);
}

/*
 * The paper's pulses, +/-4 V and 100 us, one per request, over the
 * 4-9 kOhm window: R goes from one edge to the other in tens of pulses,
 * each of them a visible step, never in one.
 */
static void
test_end_to_end(void **state)
{
	struct memristor_xbar *x = make_xbar(9, MEMRISTOR_INIT_HIGH, 0.15,
	    0.05);
	double window = x->cfg.rmax - x->cfg.rmin, r0, r1, first = 0;
	int64_t now = 0;
	uint32_t dev;
	int n, up, fewest[2] = { 1000, 1000 }, most[2] = { 0, 0 };

	for (dev = 0; dev < 16; dev++) {
		for (up = 1; up >= 0; up--) {
			/* to within 2 % of the far edge */
			for (n = 0; n < 1000; n++) {
				r0 = ohms(x, dev);
				if (up ? r0 >= x->cfg.rmax - 0.02 * window :
				    r0 <= x->cfg.rmin + 0.02 * window)
					break;
				pulse_now(x, dev, up ? 4.0 : -4.0, 100, 1,
				    &now);
				r1 = ohms(x, dev);
				if (n == 0)
					first = fabs(r1 - r0);
				/* every pulse moves R its own way */
				assert_true(up ? r1 > r0 : r1 < r0);
			}
			assert_true(n >= 15 && n <= 60);
			assert_true(first > 0.02 * window &&
			    first < 0.2 * window);
			fewest[up] = n < fewest[up] ? n : fewest[up];
			most[up] = n > most[up] ? n : most[up];
		}
	}
	print_message("end to end: rmin -> rmax in %d-%d pulses, rmax -> rmin "
	    "in %d-%d (16 devices)\n", fewest[1], most[1], fewest[0], most[0]);
	memristor_xbar_free(x);
}

/* Lowest and highest R devices reach under +/-4 V trains. */
static void
test_reachable_range(void **state)
{
	struct memristor_xbar *x = make_xbar(10, MEMRISTOR_INIT_SPREAD, 0.15,
	    0.05);
	double window = x->cfg.rmax - x->cfg.rmin, lo, hi, r;
	int64_t now = 0;
	uint32_t dev;
	int i;

	for (dev = 0; dev < 32; dev++) {
		lo = hi = ohms(x, dev);
		for (i = 0; i < 240; i++) {
			/* 60 up, 60 down, twice */
			pulse_now(x, dev, (i / 60) % 2 ? -4.0 : 4.0, 100, 1,
			    &now);
			r = ohms(x, dev);
			lo = r < lo ? r : lo;
			hi = r > hi ? r : hi;
		}
		if (dev == 0)
			print_message("reachable: %.0f-%.0f ohms, %.1f %% of "
			    "the window\n", lo, hi, 100 * (hi - lo) / window);
		assert_true(hi - lo >= 0.9 * window);
	}
	memristor_xbar_free(x);
}

/* The fake host's one instance, which records what the plugin does. */
static struct sb_plugin fake;

/* Load with args (key, value, ..., NULL) through init; init's result. */
static int
fake_load(sb_plugin_init_fn init, const char **args)
{
	size_t i;

	memset(&fake, 0, sizeof fake);
	fake.seed = 42;
	for (i = 0; args != NULL && args[i] != NULL; i += 2)
		fake_plugin_arg(&fake, args[i], args[i + 1]);
	return init(&fake, &fake_host);
}

/* Expect init to fail with message and to register nothing. */
static void
init_fails(const char **args, const char *message)
{
	assert_int_equal(fake_load(synbridge_plugin_init, args), -1);
	assert_int_equal(fake.registered, 0);
	assert_string_equal(fake.error, message);
}

/* Every argument is checked, with a message naming it. */
static void
test_plugin_args(void **state)
{
	const char *a1[] = { "rows", "abc", NULL };
	const char *a2[] = { "cols", "0", NULL };
	const char *a3[] = { "rmin", "9000", "rmax", "4000", NULL };
	const char *a4[] = { "init", "full", NULL };
	const char *a5[] = { "name", "my xbar", NULL };
	const char *a6[] = { "max_v", "1e", NULL };
	const char *a7[] = { "read_v", "1.5", "max_v", "1.2", NULL };
	const char *a8[] = { "latency_us", "-5", NULL };
	const char *a9[] = { "max_count", "10001", NULL };
	const char *a10[] = { "rows", "1025", NULL };
	const char *a11[] = { "ltp_polarity", "positive", NULL };
	const char *a12[] = { "weight", "G", NULL };

	init_fails(a1, "sim_memristor: rows=abc: expected an integer 1-1024");
	init_fails(a2, "sim_memristor: cols=0: expected an integer 1-1024");
	init_fails(a3, "sim_memristor: rmin=9000 rmax=4000: rmin must be "
	    "below rmax");
	init_fails(a4, "sim_memristor: init=full: expected spread, low (low "
	    "conductance), high (high conductance) or mid");
	init_fails(a5, "sim_memristor: name=my xbar: expected 1-31 letters, "
	    "digits, '_' or '-'");
	init_fails(a6, "sim_memristor: max_v=1e: expected volts, a number "
	    "0.1-20");
	init_fails(a7, "sim_memristor: read_v=1.5 max_v=1.2: the read "
	    "voltage must be below max_v");
	init_fails(a8, "sim_memristor: latency_us=-5: expected an integer "
	    "1-60000000");
	init_fails(a9, "sim_memristor: max_count=10001: expected an integer "
	    "1-10000");
	init_fails(a10, "sim_memristor: rows=1025: expected an integer "
	    "1-1024");
	init_fails(a11, "sim_memristor: ltp_polarity=positive: expected + "
	    "(positive pulses potentiate) or - (negative pulses potentiate)");
	init_fails(a12, "sim_memristor: weight=G: expected r (weight grows "
	    "with resistance) or g (weight grows with conductance)");
}

/* The weight 0-255 a host gives G under l (synbridge-plugin.h). */
static double
weight_of(const struct sb_device_limits *l, double g_us)
{
	double rmin = 1e6 / l->g_max_us, rmax = 1e6 / l->g_min_us, w;

	if (l->weight_from == SB_WEIGHT_FROM_R)
		w = 255.0 * (1e6 / g_us - rmin) / (rmax - rmin);
	else
		w = 255.0 * (g_us - l->g_min_us) / (l->g_max_us - l->g_min_us);
	return rint(w < 0 ? 0 : w > 255 ? 255 : w);
}

#define RULE_DEVICES 32
#define RULE_PULSES 60

/*
 * Give each of the loaded crossbar's devices RULE_PULSES of its default
 * potentiation (ltp) or depression pulse, one per request, as a rule
 * would. mean[i]: the devices' mean weight after pulse i; tail[d]: device
 * d's mean weight over its last 10 pulses.
 */
static void
run_rule(const struct sb_device_limits *l, int ltp, double *mean,
    double *tail)
{
	const struct sb_synapses *s = &fake.synapses;
	struct done d;
	uint32_t dev;
	size_t k;
	int i;

	memset(tail, 0, RULE_DEVICES * sizeof *tail);
	for (i = 0; i < RULE_PULSES; i++) {
		for (dev = 0; dev < RULE_DEVICES; dev++) {
			assert_int_equal(s->pulse(fake.data, dev, ltp ?
			    l->ltp_v : l->ltd_v, l->width_us, 1, dev, NULL),
			    0);
		}
		fake.now += l->latency_us;
		d.n = 0;
		s->poll(fake.data, fake.now, collect, &d);
		assert_int_equal(d.n, RULE_DEVICES);
		mean[i] = 0;
		for (k = 0; k < d.n; k++) {
			double w = weight_of(l, d.c[k].g_after_us);

			mean[i] += w / RULE_DEVICES;
			if (i >= RULE_PULSES - 10)
				tail[d.c[k].device] += w / 10;
		}
	}
}

/* Load with args; potentiation then depression move the weight. */
static void
check_rule_moves_weight(const char **args, double ltp_v,
    enum sb_weight_from from)
{
	double mean[RULE_PULSES], tail[RULE_DEVICES], start;
	struct sb_device_limits l;
	uint32_t dev;
	int i;

	assert_int_equal(fake_load(synbridge_plugin_init, args), 0);
	assert_false(fake_plugin_logged(&fake, "LOWERS the weight"));
	fake.synapses.limits(fake.data, 0, &l);
	assert_true(l.ltp_v == ltp_v && l.ltd_v == -ltp_v);
	assert_int_equal(l.weight_from, from);
	start = 0;
	for (dev = 0; dev < RULE_DEVICES; dev++)
		start += weight_of(&l, fake.synapses.conductance(fake.data,
		    dev)) / RULE_DEVICES;

	/* Potentiation: up on average, block by block, to the top. */
	run_rule(&l, 1, mean, tail);
	print_message("ltp_v %+.0f V, weight from %s: mean weight %.1f, after "
	    "10 potentiations %.1f, after 60 %.1f\n", ltp_v,
	    from == SB_WEIGHT_FROM_R ? "R" : "G", start, mean[9],
	    mean[RULE_PULSES - 1]);
	assert_true(mean[0] > start);
	for (i = 10; i < RULE_PULSES; i += 10)
		assert_true(mean[i + 9] >= mean[i - 1] - 1.0);
	assert_true(mean[19] > mean[0] + 40);
	for (dev = 0; dev < RULE_DEVICES; dev++)
		assert_true(tail[dev] >= 0.95 * 255);

	/* Depression: down on average, to the bottom. */
	start = mean[RULE_PULSES - 1];
	run_rule(&l, 0, mean, tail);
	print_message("after 60 depressions %.1f\n", mean[RULE_PULSES - 1]);
	assert_true(mean[0] < start);
	for (i = 10; i < RULE_PULSES; i += 10)
		assert_true(mean[i + 9] <= mean[i - 1] + 1.0);
	assert_true(mean[19] < mean[0] - 40);
	for (dev = 0; dev < RULE_DEVICES; dev++)
		assert_true(tail[dev] <= 0.05 * 255);
	fake_plugin_unload(&fake, NULL);
}

/*
 * What a rule does to the synaptic weight: with the defaults (+4 V
 * potentiates, weight from R, as in the published experiment) and with
 * ltp_polarity=- weight=g, potentiation strengthens and depression
 * weakens. The two other pairs are allowed, but said to be backwards.
 */
static void
test_weight_follows_rule(void **state)
{
	const char *defaults[] = { "rows", "4", "cols", "8", NULL };
	const char *negative[] = { "rows", "4", "cols", "8", "ltp_polarity",
	    "-", "weight", "g", NULL };
	const char *backwards[] = { "ltp_polarity", "+", "weight", "g", NULL };

	check_rule_moves_weight(defaults, 4.0, SB_WEIGHT_FROM_R);
	check_rule_moves_weight(negative, -4.0, SB_WEIGHT_FROM_G);
	assert_int_equal(fake_load(synbridge_plugin_init, backwards), 0);
	assert_true(fake_plugin_logged(&fake, "sim_memristor: xbar: "
	    "ltp_polarity=+ with weight=g: potentiation raises R and so "
	    "LOWERS the weight"));
	fake_plugin_unload(&fake, NULL);
}

/* Registration through a given init, then drive the registered callbacks. */
static void
check_registration(sb_plugin_init_fn init)
{
	const char *args[] = { "name", "tiox", "rows", "4", "cols", "8",
	    "rmin", "5000", "rmax", "10000", "latency_us", "2000",
	    "max_v", "5", "init", "high", NULL };
	struct sb_device_limits l;
	struct done d = { .n = 0 };
	const struct sb_synapses *s;
	uint32_t dev;
	char *cause = NULL;

	assert_int_equal(fake_load(init, args), 0);
	assert_int_equal(fake.registered, 1);
	s = &fake.synapses;
	assert_string_equal(s->name, "tiox");
	assert_int_equal(s->devices, 32);
	assert_non_null(fake.free_func);

	assert_int_equal(s->address(fake.data, "w4b8", &dev, &cause), 0);
	assert_int_equal(dev, 31);
	assert_int_equal(s->address(fake.data, "w5b1", &dev, &cause), -1);
	assert_string_equal(cause, "sim_memristor: no device w5b1 (crossbar "
	    "is 4x8: w1-w4, b1-b8)");
	free(cause);
	cause = NULL;

	s->limits(fake.data, 0, &l);
	assert_true(l.max_abs_v == 5.0 && l.ltp_v == 4.0 && l.ltd_v == -4.0);
	assert_int_equal(l.weight_from, SB_WEIGHT_FROM_R);
	assert_int_equal(l.min_width_us, 1);
	assert_int_equal(l.max_width_us, 1000);
	assert_int_equal(l.max_count, 100);
	assert_int_equal(l.width_us, 100);
	assert_int_equal(l.latency_us, 2000);
	assert_true(fabs(l.g_min_us - 100.0) < 1e-9);
	assert_true(fabs(l.g_max_us - 200.0) < 1e-9);
	/* init=high: every device starts at the top of the window. */
	assert_true(fabs(s->conductance(fake.data, 31) - 200.0) < 10.0);

	assert_int_equal(s->pulse(fake.data, 31, 5.5, 100, 1, 1, &cause), -1);
	assert_non_null(strstr(cause, "+/-5.00 V"));
	free(cause);
	fake.now = 500;
	/* +4 V raises R from the bottom of the window: G falls. */
	assert_int_equal(s->pulse(fake.data, 31, 4.0, 100, 2, 8, NULL), 0);
	assert_int_equal(s->read(fake.data, 30, 9, NULL), 0);
	s->poll(fake.data, 2499, collect, &d);
	assert_int_equal(d.n, 0);
	s->poll(fake.data, 2500, collect, &d);
	assert_int_equal(d.n, 2);
	assert_int_equal(d.c[0].tag, 8);
	assert_int_equal(d.c[0].t_us, 2500);
	assert_true(d.c[0].g_after_us < d.c[0].g_before_us);
	assert_true(s->conductance(fake.data, 31) == d.c[0].g_after_us);
	fake_plugin_unload(&fake, NULL);
}

/* The linked plugin glue registers a working synapses capability. */
static void
test_plugin_register(void **state)
{
	check_registration(synbridge_plugin_init);
	assert_string_equal(synbridge_plugin_name, "sim_memristor");
	assert_string_equal(synbridge_plugin_api_version,
	    SB_PLUGIN_API_VERSION);
	/* A host refusing the registration frees data; init reports it. */
	memset(&fake, 0, sizeof fake);
	fake.seed = 42;
	fake.refuse = 1;
	assert_int_equal(synbridge_plugin_init(&fake, &fake_host), -1);
	assert_non_null(strstr(fake.error, "could not register"));
}

/* The built module loads without host symbols and exports the ABI. */
static void
test_plugin_dlopen(void **state)
{
	sb_plugin_init_fn init;
	sb_plugin_end_fn end;
	char *cause = NULL;
	void *h;

	/* Only the ABI is exported: the model is kept private. */
	h = fake_module_open("plugins/sim_memristor/.libs/sim_memristor.so",
	    "sim_memristor", &init, &end, &cause);
	if (h == NULL)
		fail_msg("%s", cause);
	check_registration(init);
	dlclose(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_direction),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_saturates_in_window),
		cmocka_unit_test(test_amplitude),
		cmocka_unit_test(test_threshold),
		cmocka_unit_test(test_variability),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_async_order),
		cmocka_unit_test(test_queue_full),
		cmocka_unit_test(test_refuse_limits),
		cmocka_unit_test(test_address),
		cmocka_unit_test(test_end_to_end),
		cmocka_unit_test(test_reachable_range),
		cmocka_unit_test(test_weight_follows_rule),
		cmocka_unit_test(test_plugin_args),
		cmocka_unit_test(test_plugin_register),
		cmocka_unit_test(test_plugin_dlopen),
	};
	return cmocka_run_group_tests_name("memristor", tests, NULL, NULL);
}
