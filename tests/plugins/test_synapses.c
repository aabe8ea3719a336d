/*
 * test_synapses.c: a deterministic linear device set for tests.
 *
 * load test_synapses [name=lin] [devices=8] [k=0.25] [g0=50] [g_min=0]
 *     [g_max=100] [latency_us=1000] [max_v=5] [max_width_us=1000]
 *     [max_count=100]
 *
 * A pulse of V volts applied count times changes G by k * V * count (uS),
 * clipped to [g_min, g_max], with no noise; operations complete latency_us
 * after they were queued. Devices are addressed by index ("3").
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-plugins.h"

SB_PLUGIN("test_synapses");

int synbridge_plugin_init(struct sb_plugin *, const struct sb_host_api *)
    __attribute__((visibility("default")));
void synbridge_plugin_end(struct sb_plugin *)
    __attribute__((visibility("default")));

static void test_synapses_cause(char **, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* Set *cause to "test_synapses: MSG". */
static void
test_synapses_cause(char **cause, const char *fmt, ...)
{
	char msg[256];
	size_t len;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	len = strlen("test_synapses: ") + strlen(msg) + 1;
	*cause = malloc(len);
	if (*cause != NULL)
		snprintf(*cause, len, "test_synapses: %s", msg);
}

/* sb_synapses.address: a decimal index. */
static int
test_synapses_address(void *data, const char *spec, uint32_t *device,
    char **cause)
{
	struct test_synapses *ts = data;
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(spec, &end, 10);
	if (*spec < '0' || *spec > '9' || *end != '\0' || errno != 0 ||
	    v >= ts->devices) {
		test_synapses_cause(cause, "bad device '%s' (write an index "
		    "from 0)", spec);
		return -1;
	}
	*device = (uint32_t)v;
	return 0;
}

/* sb_synapses.limits */
static void
test_synapses_limits(void *data, uint32_t device, struct sb_device_limits *l)
{
	struct test_synapses *ts = data;

	*l = ts->limits;
}

/* Queue an operation. */
static int
test_synapses_queue(struct test_synapses *ts, uint32_t device, double delta,
    uint64_t tag, char **cause)
{
	struct test_synapses_op *op;

	if (device >= ts->devices) {
		test_synapses_cause(cause, "%s", "no such device");
		return -1;
	}
	if (ts->nqueue == TEST_SYNAPSES_MAX_OPS) {
		test_synapses_cause(cause, "%s", "busy (queue full)");
		return -1;
	}
	op = &ts->queue[ts->nqueue++];
	op->tag = tag;
	op->device = device;
	op->delta = delta;
	op->due_us = ts->host->now_us(ts->p) + ts->latency_us;
	return 0;
}

/* sb_synapses.pulse */
static int
test_synapses_pulse(void *data, uint32_t device, double amplitude_v,
    uint32_t width_us, uint32_t count, uint64_t tag, char **cause)
{
	struct test_synapses *ts = data;

	ts->pulses += count;
	return test_synapses_queue(ts, device, ts->k * amplitude_v * count,
	    tag, cause);
}

/* sb_synapses.read */
static int
test_synapses_read(void *data, uint32_t device, uint64_t tag, char **cause)
{
	struct test_synapses *ts = data;

	ts->reads++;
	return test_synapses_queue(ts, device, 0, tag, cause);
}

/* sb_synapses.conductance */
static double
test_synapses_conductance(void *data, uint32_t device)
{
	struct test_synapses *ts = data;

	return device < ts->devices ? ts->g[device] : NAN;
}

/* sb_synapses.poll: complete what is due, in order. */
static void
test_synapses_poll(void *data, int64_t now_us, sb_complete_fn fn, void *ctx)
{
	struct test_synapses *ts = data;
	struct sb_completion c;
	unsigned i, j;
	double g;

	for (i = j = 0; i < ts->nqueue; i++) {
		struct test_synapses_op *op = &ts->queue[i];

		if (op->due_us > now_us) {
			ts->queue[j++] = *op;
			continue;
		}
		memset(&c, 0, sizeof c);
		c.tag = op->tag;
		c.device = op->device;
		c.g_before_us = ts->g[op->device];
		g = c.g_before_us + op->delta;
		if (g < ts->g_min)
			g = ts->g_min;
		if (g > ts->g_max)
			g = ts->g_max;
		ts->g[op->device] = g;
		c.g_after_us = g;
		c.t_us = op->due_us;
		fn(ctx, &c);
	}
	ts->nqueue = j;
}

/* Free the device set. */
static void
test_synapses_free(void *data)
{
	struct test_synapses *ts = data;

	free(ts->g);
	free(ts);
}

/* Read a number argument in [lo, hi]. */
static int
test_synapses_number(struct test_synapses *ts, const char *key, double def,
    double lo, double hi, double *out)
{
	const char *s = ts->host->arg(ts->p, key);
	char *end;

	if (s == NULL) {
		*out = def;
		return 0;
	}
	errno = 0;
	*out = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno != 0 || !isfinite(*out) ||
	    *out < lo || *out > hi) {
		ts->host->log(ts->p, SB_LOG_ERROR, "test_synapses: %s=%s: "
		    "expected a number %g-%g", key, s, lo, hi);
		return -1;
	}
	return 0;
}

/* Entry point. */
int
synbridge_plugin_init(struct sb_plugin *p, const struct sb_host_api *host)
{
	struct test_synapses *ts = calloc(1, sizeof *ts);
	const char *name;
	double devices, g0, lat, max_v, max_w, max_n;
	uint32_t i;

	if (ts == NULL)
		return -1;
	ts->host = host;
	ts->p = p;
	name = host->arg(p, "name");
	snprintf(ts->name, sizeof ts->name, "%s", name ? name : "lin");
	if (test_synapses_number(ts, "devices", 8, 1, 65536, &devices) != 0 ||
	    test_synapses_number(ts, "k", 0.25, -1000, 1000, &ts->k) != 0 ||
	    test_synapses_number(ts, "g0", 50, 0, 1e6, &g0) != 0 ||
	    test_synapses_number(ts, "g_min", 0, 0, 1e6, &ts->g_min) != 0 ||
	    test_synapses_number(ts, "g_max", 100, 0, 1e6, &ts->g_max) != 0 ||
	    test_synapses_number(ts, "latency_us", 1000, 0, 1e8, &lat) != 0 ||
	    test_synapses_number(ts, "max_v", 5, 0.1, 100, &max_v) != 0 ||
	    test_synapses_number(ts, "max_width_us", 1000, 1, 1e7,
	    &max_w) != 0 ||
	    test_synapses_number(ts, "max_count", 100, 1, 1e6, &max_n) != 0) {
		free(ts);
		return -1;
	}
	ts->devices = (uint32_t)devices;
	ts->latency_us = (uint32_t)lat;
	ts->g = calloc(ts->devices, sizeof *ts->g);
	if (ts->g == NULL) {
		free(ts);
		return -1;
	}
	for (i = 0; i < ts->devices; i++)
		ts->g[i] = g0;
	ts->limits.max_abs_v = max_v;
	ts->limits.max_width_us = (uint32_t)max_w;
	ts->limits.max_count = (uint32_t)max_n;
	ts->limits.ltp_v = 2.0;
	ts->limits.ltd_v = -2.0;
	ts->limits.width_us = 100;
	ts->limits.g_min_us = ts->g_min;
	ts->limits.g_max_us = ts->g_max;
	ts->limits.latency_us = ts->latency_us;

	ts->ops.name = ts->name;
	ts->ops.devices = ts->devices;
	ts->ops.address = test_synapses_address;
	ts->ops.limits = test_synapses_limits;
	ts->ops.pulse = test_synapses_pulse;
	ts->ops.read = test_synapses_read;
	ts->ops.conductance = test_synapses_conductance;
	ts->ops.poll = test_synapses_poll;
	return host->register_synapses(p, &ts->ops, ts, test_synapses_free);
}

/* The host frees what was registered. */
void
synbridge_plugin_end(struct sb_plugin *p)
{
}
