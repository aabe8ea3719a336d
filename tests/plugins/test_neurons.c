/*
 * test_neurons.c: a deterministic neurons plugin for tests.
 *
 * load test_neurons [name=neurons] [units=4] [period_ms=10] [fire=all|K]
 *
 * advance() fires unit K (or every unit) every period_ms from its load
 * (period_ms=0: silent); stimulate() records the call and emits an
 * SB_SPIKE_STIMULATED spike on the next advance(); synaptic_input() counts
 * calls. Commands: test-hello (a greeting), test-neurons (the counters).
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-plugins.h"

SB_PLUGIN("test_neurons");

int synbridge_plugin_init(struct sb_plugin *, const struct sb_host_api *)
    __attribute__((visibility("default")));
void synbridge_plugin_end(struct sb_plugin *)
    __attribute__((visibility("default")));

/* Emit one spike. */
static void
test_neurons_spike(struct test_neurons *tn, struct sb_emitter *em,
    uint32_t unit, int64_t t_us, unsigned aux)
{
	struct sb_event ev;

	memset(&ev, 0, sizeof ev);
	ev.t_us = t_us;
	ev.kind = SB_EV_SPIKE;
	ev.index = unit;
	ev.aux = (uint8_t)aux;
	if (tn->host->emit(em, &ev) == 0)
		tn->emitted++;
}

/* sb_neurons.advance: stimulated spikes first, then periodic firing. */
static int
test_neurons_advance(void *data, int64_t t_us, struct sb_emitter *em)
{
	struct test_neurons *tn = data;
	unsigned i;
	uint32_t u;

	tn->advances++;
	for (i = 0; i < tn->npending; i++)
		test_neurons_spike(tn, em, tn->pending[i].unit,
		    tn->pending[i].t_us, SB_SPIKE_STIMULATED);
	tn->npending = 0;
	if (tn->period_us == 0)
		return 0;
	while (tn->next_us <= t_us) {
		if (tn->fire >= 0)
			test_neurons_spike(tn, em, (uint32_t)tn->fire,
			    tn->next_us, SB_SPIKE_SPONTANEOUS);
		else
			for (u = 0; u < tn->units; u++)
				test_neurons_spike(tn, em, u, tn->next_us,
				    SB_SPIKE_SPONTANEOUS);
		tn->next_us += tn->period_us;
	}
	return 0;
}

/* Set *cause (malloc'd) to a message starting with the plugin's name. */
static void
test_neurons_cause(char **cause, const char *msg)
{
	size_t len = strlen("test_neurons: ") + strlen(msg) + 1;

	*cause = malloc(len);
	if (*cause != NULL)
		snprintf(*cause, len, "test_neurons: %s", msg);
}

/* sb_neurons.stimulate: record it; the spike goes out on advance(). */
static int
test_neurons_stimulate(void *data, uint32_t unit, double amplitude_v,
    uint32_t width_us, int64_t t_us, char **cause)
{
	struct test_neurons *tn = data;

	if (fabs(amplitude_v) > 10) {
		test_neurons_cause(cause, "refusing more than 10 V");
		return -1;
	}
	if (tn->npending == TEST_NEURONS_MAX_PENDING) {
		test_neurons_cause(cause, "too many stimulations pending");
		return -1;
	}
	tn->stimulations++;
	tn->last_stim_unit = unit;
	tn->last_stim_v = amplitude_v;
	tn->last_stim_width_us = width_us;
	tn->pending[tn->npending].unit = unit;
	tn->pending[tn->npending].t_us = t_us;
	tn->npending++;
	return 0;
}

/* sb_neurons.synaptic_input: count. */
static void
test_neurons_synaptic_input(void *data, uint32_t unit, unsigned weight,
    double g_us, int64_t t_us)
{
	struct test_neurons *tn = data;

	tn->synaptic_inputs++;
	tn->last_input_unit = unit;
	tn->last_input_weight = weight;
	tn->last_input_g_us = g_us;
}

/* What the commands need. */
struct test_neurons_cmd {
	const struct sb_host_api *host;
	struct sb_plugin *p;
	struct test_neurons *tn;
};

/* test-hello: greet through host->reply. */
static int
test_neurons_hello(void *data, int argc, char **argv, struct sb_reply *r)
{
	struct test_neurons_cmd *c = data;

	if (argc > 1 && strcmp(argv[1], "fail") == 0)
		return -1;
	c->host->reply(r, "hello from test_neurons at %s (%d argument%s)",
	    c->host->site(c->p), argc - 1, argc == 2 ? "" : "s");
	return 0;
}

/* test-neurons: the counters. */
static int
test_neurons_stats(void *data, int argc, char **argv, struct sb_reply *r)
{
	struct test_neurons_cmd *c = data;
	struct test_neurons *tn = c->tn;

	c->host->reply(r, "emitted %llu stimulations %llu last_stim %u "
	    "synaptic_inputs %llu last_input %u weight %u",
	    (unsigned long long)tn->emitted,
	    (unsigned long long)tn->stimulations, tn->last_stim_unit,
	    (unsigned long long)tn->synaptic_inputs, tn->last_input_unit,
	    tn->last_input_weight);
	return 0;
}

/* Read an integer argument in [lo, hi]. */
static int
test_neurons_int(struct test_neurons *tn, const char *key, long long def,
    long long lo, long long hi, long long *out)
{
	const char *s = tn->host->arg(tn->p, key);
	char *end;

	if (s == NULL) {
		*out = def;
		return 0;
	}
	errno = 0;
	*out = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || *out < lo ||
	    *out > hi) {
		tn->host->log(tn->p, SB_LOG_ERROR, "test_neurons: %s=%s: "
		    "expected an integer %lld-%lld", key, s, lo, hi);
		return -1;
	}
	return 0;
}

static const struct sb_command test_neurons_hello_cmd = {
	.name = "test-hello",
	.usage = "[fail]",
	.help = "say hello (test plugin)",
	.exec = test_neurons_hello,
};

static const struct sb_command test_neurons_stats_cmd = {
	.name = "test-neurons",
	.usage = "",
	.help = "show test_neurons counters",
	.exec = test_neurons_stats,
};

/* Entry point. */
int
synbridge_plugin_init(struct sb_plugin *p, const struct sb_host_api *host)
{
	struct test_neurons *tn = calloc(1, sizeof *tn);
	struct test_neurons_cmd *c;
	const char *name, *fire;
	long long v;

	if (tn == NULL)
		return -1;
	tn->host = host;
	tn->p = p;
	name = host->arg(p, "name");
	snprintf(tn->name, sizeof tn->name, "%s", name ? name : "neurons");
	if (test_neurons_int(tn, "units", 4, 1, 100000, &v) != 0)
		goto fail;
	tn->units = (uint32_t)v;
	if (test_neurons_int(tn, "period_ms", 10, 0, 3600000, &v) != 0)
		goto fail;
	tn->period_us = v * 1000;
	/* the first period after loading, like the simulators */
	tn->next_us = host->now_us(p) + tn->period_us;
	fire = host->arg(p, "fire");
	if (fire == NULL || strcmp(fire, "all") == 0)
		tn->fire = -1;
	else {
		if (test_neurons_int(tn, "fire", 0, 0, tn->units - 1, &v) != 0)
			goto fail;
		tn->fire = v;
	}
	tn->ops.name = tn->name;
	tn->ops.units = tn->units;
	tn->ops.advance = test_neurons_advance;
	tn->ops.stimulate = test_neurons_stimulate;
	tn->ops.synaptic_input = test_neurons_synaptic_input;
	if (host->register_neurons(p, &tn->ops, tn, free) != 0)
		return -1;

	c = calloc(1, sizeof *c);
	if (c == NULL)
		return -1;
	c->host = host;
	c->p = p;
	c->tn = tn;
	if (host->register_command(p, &test_neurons_hello_cmd, c, free) != 0)
		return -1;
	c = calloc(1, sizeof *c);
	if (c == NULL)
		return -1;
	c->host = host;
	c->p = p;
	c->tn = tn;
	if (host->register_command(p, &test_neurons_stats_cmd, c, free) != 0)
		return -1;
	return 0;
fail:
	free(tn);
	return -1;
}

/* The host frees what was registered. */
void
synbridge_plugin_end(struct sb_plugin *p)
{
}
