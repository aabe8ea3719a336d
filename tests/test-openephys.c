/*
 * test-openephys.c: the openephys plugin.
 *
 * First its parts alone: Event Broadcaster messages checked field by field
 * (every missing field, wrong types, bad frames), electrodes and sorted
 * units to units, sample numbers to session time (delay, drift, a new
 * acquisition), the GUI's replies, the load line.
 *
 * Then the plugin through the fake host against tests/oe-emu, an emulator
 * of the GUI written from the same notes by someone else and used here
 * through its usage only: acquisition started and stopped with the
 * population, spikes with sensible units and session times (an evoked
 * spike lands where the emulator's sample numbers say), bad JSON and bad
 * frames counted and survived, stimulation through Network Events and
 * through ACQBOARD TRIGGER reaching the emulated hardware and evoking
 * spikes, synaptic input, RHS set-up, the GUI restarted or its HTTP
 * server stalled mid-session and recovered. Every wait is a condition
 * with a deadline.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake-host.h"
#include "oe-driver.h"
#include "openephys.h"

int synbridge_plugin_init(struct sb_plugin *, const struct sb_host_api *);
void synbridge_plugin_end(struct sb_plugin *);

#define DEADLINE_MS OE_EMU_DEADLINE_MS
#define RATE 30000.0

static const uint8_t type_spike[2] = { 1, 0 };
static const uint8_t type_ttl[2] = { 0, 0 };

/* A spike as the notes describe it, electrode as given (JSON text). */
static void
spike_json(char *buf, size_t len, const char *electrode, long long sample,
    int sorted)
{
	snprintf(buf, len, "{\"event_type\":\"spike\",\"stream\":\"MEA\","
	    "\"source_node\":102,\"electrode\":%s,\"num_channels\":1,"
	    "\"sample_rate\":30000.0,\"sample_number\":%lld,\"sorted_id\":%d,"
	    "\"amp1\":55.5}", electrode, sample, sorted);
}

/* parse a spike and map it with c; the cause (0: ok). */
static int
parse_spike(const struct oe_config *c, const char *json, uint32_t *unit)
{
	struct oe_event ev;
	char why[160];
	int rc;

	rc = oe_event_parse(type_spike, 2, json, strlen(json), &ev, why,
	    sizeof why);
	if (rc != 0)
		return rc;
	return oe_event_unit(c, &ev, unit, why, sizeof why);
}

/* A configuration for mapping tests. */
static void
map_config(struct oe_config *c, uint32_t electrodes, uint32_t sorted,
    int base)
{
	memset(c, 0, sizeof *c);
	c->electrodes = electrodes;
	c->sorted = sorted;
	c->units = electrodes * sorted;
	c->electrode_base = base;
}

/* A spike and a TTL of the documented form are taken, whatever the types. */
static void
test_event_good(void **state)
{
	struct oe_event ev;
	char json[512], why[160];
	const char *ttl;

	(void)state;
	spike_json(json, sizeof json, "\"SE3\"", 123456, 0);
	assert_int_equal(oe_event_parse(type_spike, 2, json, strlen(json), &ev,
	    why, sizeof why), 0);
	assert_int_equal(ev.kind, OE_EV_SPIKE);
	assert_string_equal(ev.stream, "MEA");
	assert_int_equal(ev.source_node, 102);
	assert_int_equal(ev.electrode, 3);
	assert_true(ev.electrode_named);
	assert_int_equal(ev.sample_number, 123456);
	assert_true(fabs(ev.sample_rate - RATE) < 1e-9);
	spike_json(json, sizeof json, "7", 5, 2);
	assert_int_equal(oe_event_parse(type_spike, 2, json, strlen(json), &ev,
	    why, sizeof why), 0);
	assert_int_equal(ev.electrode, 7);
	assert_false(ev.electrode_named);
	assert_int_equal(ev.sorted_id, 2);
	ttl = "{\"event_type\":\"ttl\",\"stream\":\"MEA\",\"source_node\":103,"
	    "\"sample_rate\":30000,\"channel_name\":\"Network Events TTL\","
	    "\"sample_number\":900,\"line\":0,\"state\":true}";
	assert_int_equal(oe_event_parse(type_ttl, 2, ttl, strlen(ttl), &ev, why,
	    sizeof why), 0);
	assert_int_equal(ev.kind, OE_EV_TTL);
	assert_int_equal(ev.line, 0);
	assert_int_equal(ev.state, 1);
}

/* Every way a message can be wrong has its own cause. */
static void
test_event_malformed(void **state)
{
	static const char *fields[] = { "stream", "source_node", "electrode",
	    "num_channels", "sample_rate", "sample_number", "sorted_id" };
	static const enum oe_field which[] = { OE_F_STREAM, OE_F_SOURCE_NODE,
	    OE_F_ELECTRODE, OE_F_NUM_CHANNELS, OE_F_SAMPLE_RATE,
	    OE_F_SAMPLE_NUMBER, OE_F_SORTED_ID };
	struct oe_event ev;
	char json[512], cut[512], why[160], *at, *end;
	const uint8_t three[3] = { 1, 0, 0 }, bad_type[2] = { 7, 0 };
	size_t i;

	(void)state;
	spike_json(json, sizeof json, "\"SE3\"", 10, 0);
	assert_int_equal(oe_event_parse(three, 3, json, strlen(json), &ev, why,
	    sizeof why), OE_BAD_TYPE_FRAME);
	assert_int_equal(oe_event_parse(bad_type, 2, json, strlen(json), &ev,
	    why, sizeof why), OE_BAD_TYPE);
	assert_int_equal(oe_event_parse(type_spike, 2, json, strlen(json) / 2,
	    &ev, why, sizeof why), OE_BAD_JSON);
	assert_non_null(strstr(why, "does not parse"));
	assert_int_equal(oe_event_parse(type_spike, 2, "[1,2]", 5, &ev, why,
	    sizeof why), OE_BAD_OBJECT);
	assert_int_equal(oe_event_parse(type_ttl, 2, json, strlen(json), &ev,
	    why, sizeof why), OE_BAD_EVENT_TYPE);
	assert_int_equal(oe_event_parse(type_spike, 2, "\xff\xfe{}", 4, &ev,
	    why, sizeof why), OE_BAD_JSON);
	/* each field taken out in turn */
	for (i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		char key[32];

		snprintf(key, sizeof key, "\"%s\":", fields[i]);
		snprintf(cut, sizeof cut, "%s", json);
		at = strstr(cut, key);
		assert_non_null(at);
		end = strchr(at, ',');
		assert_non_null(end);
		memmove(at, end + 1, strlen(end + 1) + 1);
		assert_int_equal(oe_event_parse(type_spike, 2, cut, strlen(cut),
		    &ev, why, sizeof why), OE_BAD_FIELD + (int)which[i]);
		assert_non_null(strstr(why, "missing"));
	}
	/* wrong types and values */
	spike_json(json, sizeof json, "\"no digits\"", 10, 0);
	assert_int_equal(oe_event_parse(type_spike, 2, json, strlen(json), &ev,
	    why, sizeof why), OE_BAD_FIELD + OE_F_ELECTRODE);
	spike_json(json, sizeof json, "1", -5, 0);
	assert_int_equal(oe_event_parse(type_spike, 2, json, strlen(json), &ev,
	    why, sizeof why), OE_BAD_FIELD + OE_F_SAMPLE_NUMBER);
	spike_json(json, sizeof json, "1", 10, -1);
	assert_int_equal(oe_event_parse(type_spike, 2, json, strlen(json), &ev,
	    why, sizeof why), OE_BAD_FIELD + OE_F_SORTED_ID);
	snprintf(json, sizeof json, "{\"event_type\":\"spike\",\"stream\":"
	    "\"MEA\",\"source_node\":1,\"electrode\":1,\"num_channels\":1,"
	    "\"sample_rate\":0,\"sample_number\":1,\"sorted_id\":0}");
	assert_int_equal(oe_event_parse(type_spike, 2, json, strlen(json), &ev,
	    why, sizeof why), OE_BAD_FIELD + OE_F_SAMPLE_RATE);
	/* a rate so small that a sample number is no time the clock holds */
	snprintf(json, sizeof json, "{\"event_type\":\"spike\",\"stream\":"
	    "\"MEA\",\"source_node\":1,\"electrode\":1,\"num_channels\":1,"
	    "\"sample_rate\":1e-300,\"sample_number\":1,\"sorted_id\":0}");
	assert_int_equal(oe_event_parse(type_spike, 2, json, strlen(json), &ev,
	    why, sizeof why), OE_BAD_FIELD + OE_F_SAMPLE_RATE);
	assert_non_null(strstr(why, "1 Hz to 1 GHz"));
	snprintf(json, sizeof json, "{\"event_type\":\"spike\",\"stream\":"
	    "\"MEA\",\"source_node\":1,\"electrode\":1,\"num_channels\":1,"
	    "\"sample_rate\":1,\"sample_number\":1,\"sorted_id\":0,\"amp2\":1}");
	assert_int_equal(oe_event_parse(type_spike, 2, json, strlen(json), &ev,
	    why, sizeof why), OE_BAD_FIELD + OE_F_AMP);
	snprintf(json, sizeof json, "{\"event_type\":\"ttl\",\"stream\":\"M\","
	    "\"source_node\":1,\"sample_rate\":1,\"sample_number\":1,"
	    "\"channel_name\":\"x\",\"line\":0,\"state\":2}");
	assert_int_equal(oe_event_parse(type_ttl, 2, json, strlen(json), &ev,
	    why, sizeof why), OE_BAD_FIELD + OE_F_STATE);
	/* a duplicated key is no object we can trust */
	snprintf(json, sizeof json, "{\"event_type\":\"ttl\","
	    "\"event_type\":\"spike\"}");
	assert_int_equal(oe_event_parse(type_spike, 2, json, strlen(json), &ev,
	    why, sizeof why), OE_BAD_JSON);
	/* every byte value in a JSON frame is survived */
	for (i = 0; i < 256; i++) {
		char junk[64];
		size_t k;

		for (k = 0; k < sizeof junk; k++)
			junk[k] = (char)((i * 31 + k * 7) & 0xff);
		oe_event_parse(type_spike, 2, junk, sizeof junk, &ev, why,
		    sizeof why);
	}
}

/* Electrodes and sorted ids to units, from either base. */
static void
test_event_units(void **state)
{
	struct oe_config c;
	char json[512];
	uint32_t unit;

	(void)state;
	map_config(&c, 16, 1, -1);
	spike_json(json, sizeof json, "\"SE1\"", 1, 3);
	assert_int_equal(parse_spike(&c, json, &unit), 0);
	assert_int_equal(unit, 0);	/* names count from 1 */
	spike_json(json, sizeof json, "0", 1, 0);
	assert_int_equal(parse_spike(&c, json, &unit), 0);
	assert_int_equal(unit, 0);	/* numbers from 0 */
	spike_json(json, sizeof json, "\"SE16\"", 1, 0);
	assert_int_equal(parse_spike(&c, json, &unit), 0);
	assert_int_equal(unit, 15);
	spike_json(json, sizeof json, "\"SE17\"", 1, 0);
	assert_int_equal(parse_spike(&c, json, &unit), OE_RANGE_ELECTRODE);
	spike_json(json, sizeof json, "\"SE0\"", 1, 0);
	assert_int_equal(parse_spike(&c, json, &unit), OE_RANGE_ELECTRODE);
	spike_json(json, sizeof json, "16", 1, 0);
	assert_int_equal(parse_spike(&c, json, &unit), OE_RANGE_ELECTRODE);
	c.electrode_base = 0;
	spike_json(json, sizeof json, "\"Electrode 0\"", 1, 0);
	assert_int_equal(parse_spike(&c, json, &unit), 0);
	assert_int_equal(unit, 0);
	map_config(&c, 16, 4, -1);
	spike_json(json, sizeof json, "\"SE2\"", 1, 3);
	assert_int_equal(parse_spike(&c, json, &unit), 0);
	assert_int_equal(unit, 7);	/* (2 - 1) x 4 + 3 */
	spike_json(json, sizeof json, "\"SE2\"", 1, 4);
	assert_int_equal(parse_spike(&c, json, &unit), OE_RANGE_SORTED);
	snprintf(c.stream, sizeof c.stream, "Other");
	spike_json(json, sizeof json, "\"SE2\"", 1, 0);
	assert_int_equal(parse_spike(&c, json, &unit), OE_OTHER_STREAM);
}

/* A small deterministic generator for the clock tests. */
static double
uniform(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(*s >> 11) / 9007199254740992.0;
}

/*
 * Delays of 0.2-30 ms on top of an offset: after a few seconds the
 * mapping is within a millisecond of the truth, never after the arrival;
 * with the GUI's clock 150 ppm fast the drift is found.
 */
static void
test_clock(void **state)
{
	struct oe_clock c;
	uint64_t rng = 42;
	double truth, err, worst = 0;
	int64_t arrival, t, sample;
	int reset, i, k;
	double ppm[2] = { 0, 150 };

	(void)state;
	for (k = 0; k < 2; k++) {
		memset(&c, 0, sizeof c);
		worst = 0;
		for (i = 0; i < 20000; i++) {
			sample = (int64_t)i * 60;	/* 2 ms apart, 40 s */
			/* the GUI's clock runs fast: its seconds are short */
			truth = 5e6 + sample / RATE * 1e6 / (1 + ppm[k] * 1e-6);
			arrival = (int64_t)(truth + 200 + uniform(&rng) * 30000);
			t = oe_clock_map(&c, "MEA", RATE, sample, arrival,
			    &reset);
			assert_true(t <= arrival);
			assert_int_equal(reset, 0);
			err = fabs((double)t - truth);
			if (i > 2000 && err > worst)
				worst = err;
		}
		if (worst >= 1000.0)
			fail_msg("%g ppm: off by up to %.0f us (drift %.1f ppm)",
			    ppm[k], worst, oe_clock_drift_ppm(&c));
		assert_true(fabs(oe_clock_drift_ppm(&c) + ppm[k]) < 20.0);
	}
	/* a new acquisition: sample numbers start over */
	t = oe_clock_map(&c, "MEA", RATE, 30, 100000000, &reset);
	assert_int_equal(reset, 1);
	assert_int_equal(t, 100000000);
	/* a jump of the offset by seconds (the GUI paused) starts over too */
	memset(&c, 0, sizeof c);
	for (i = 0; i < 3000; i++)
		oe_clock_map(&c, "MEA", RATE, (int64_t)i * 30, 1000000 +
		    (int64_t)i * 1000, &reset);
	reset = 0;
	for (; i < 6000 && !reset; i++)
		oe_clock_map(&c, "MEA", RATE, (int64_t)i * 30, 11000000 +
		    (int64_t)i * 1000, &reset);
	assert_int_equal(reset, 1);
	/* streams are kept apart */
	memset(&c, 0, sizeof c);
	t = oe_clock_map(&c, "A", RATE, 0, 1000, &reset);
	t = oe_clock_map(&c, "B", 2500.0, 0, 5000, &reset);
	assert_int_equal(reset, 0);
	t = oe_clock_map(&c, "A", RATE, 300, 1000 + 10000, &reset);
	assert_int_equal(t, 11000);
}

/* The GUI's replies: mode, processors, Network Events. */
static void
test_api(void **state)
{
	struct oe_processors pr;
	enum oe_mode mode;
	char why[200];
	const char *chain;

	(void)state;
	assert_int_equal(oe_api_mode("{\"mode\":\"ACQUIRE\"}", &mode, why,
	    sizeof why), 0);
	assert_int_equal(mode, OE_MODE_ACQUIRE);
	assert_int_equal(oe_api_mode("{\"mode\":\"PLAY\"}", &mode, why,
	    sizeof why), -1);
	assert_non_null(strstr(why, "PLAY"));
	assert_int_equal(oe_api_mode("<html>", &mode, why, sizeof why), -1);
	assert_int_equal(oe_api_mode("{}", &mode, why, sizeof why), -1);
	chain = "{\"processors\":[{\"id\":100,\"name\":\"Acquisition Board\","
	    "\"parameters\":[]},{\"id\":103,\"name\":\"Network Events\","
	    "\"parameters\":[{\"name\":\"port\",\"value\":5599}]},{\"id\":105,"
	    "\"name\":\"Event Broadcaster\",\"parameters\":[{\"name\":"
	    "\"data_port\",\"type\":\"int\",\"value\":\"5601\"}]}]}";
	assert_int_equal(oe_api_processors(chain, &pr, why, sizeof why), 0);
	assert_true(pr.broadcaster && pr.network_events && pr.acq_board);
	assert_int_equal(pr.broadcaster_port, 5601);
	assert_int_equal(pr.broadcaster_id, 105);
	assert_int_equal(pr.network_events_port, 5599);
	assert_int_equal(pr.count, 3);
	assert_int_equal(oe_api_processors("{\"processors\":[]}", &pr, why,
	    sizeof why), 0);
	assert_false(pr.broadcaster || pr.network_events || pr.acq_board);
	assert_int_equal(oe_api_processors("nope", &pr, why, sizeof why), -1);
	assert_int_equal(oe_api_ne_reply("TTLHandled: Line=3 State=1", 3, 1,
	    why, sizeof why), 0);
	assert_int_equal(oe_api_ne_reply("TTLHandled: Line=3 State=1\n", 3, 1,
	    why, sizeof why), 0);
	assert_int_equal(oe_api_ne_reply("TTLHandled: Line=4 State=1", 3, 1,
	    why, sizeof why), OE_NE_REPLY);
	assert_int_equal(oe_api_ne_reply("InvalidChannel", 300, 1, why,
	    sizeof why), OE_NE_INVALID);
	assert_int_equal(oe_api_ne_reply("NotHandled", 3, 1, why, sizeof why),
	    OE_NE_NOT_HANDLED);
	assert_int_equal(oe_api_ne_reply("\x01\x02garbage", 3, 1, why,
	    sizeof why), OE_NE_REPLY);
	/* whatever the GUI's side sends, nothing crashes */
	{
		uint64_t rng = 7;
		char junk[257];
		size_t i, k, n;

		for (i = 0; i < 2000; i++) {
			n = (size_t)(uniform(&rng) * 256);
			for (k = 0; k < n; k++)
				junk[k] = "{}[]\":,0123456789.eE-+ntrufalse\\x"
				    [(size_t)(uniform(&rng) * 33)];
			junk[n] = '\0';
			oe_api_mode(junk, &mode, why, sizeof why);
			oe_api_processors(junk, &pr, why, sizeof why);
			oe_api_ne_reply(junk, 1, 1, why, sizeof why);
		}
	}
}

/* Load through the fake host; the error logged, or "" on success. */
static int
load_args(struct sb_plugin **pp, ...)
{
	struct sb_plugin *p = fake_plugin_new("padova", 1);
	const char *k, *v;
	va_list ap;
	int rc;

	assert_non_null(p);
	p->fast = 0;
	p->echo = getenv("VERBOSE") != NULL;
	va_start(ap, pp);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		fake_plugin_arg(p, k, v);
	}
	va_end(ap);
	rc = synbridge_plugin_init(p, &oe_test_host);
	*pp = p;
	return rc;
}

/* Bad load lines are refused with what to give instead. */
static void
test_config(void **state)
{
	static const struct {
		const char *key, *value, *says;
	} bad[] = {
		{ "stim", "laser", "network_events" },
		{ "ttl_lines", "3-1", "UNIT:LINE" },
		{ "ttl_lines", "99:1", "beyond the population's units" },
		{ "ttl_line", "0", "from 1 to 256" },
		{ "sorted", "x", "merge" },
		{ "host", "http://x", "host name" },
		{ "electrode_base", "2", "auto" },
		{ "acquisition", "maybe", "follow" },
		{ "rhs_shape", "SQUARE", "BIPHASIC" },
		{ "stim_amplitude", "-1", "positive" },
		{ "min_width_us", "9000000", "5000000" },
	};
	struct sb_plugin *p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(load_args(&p, "electrodes", "32", bad[i].key,
		    bad[i].value, "rhs", strcmp(bad[i].key, "rhs_shape") == 0 ?
		    "0" : NULL, NULL), -1);
		if (strstr(p->error, bad[i].says) == NULL)
			fail_msg("%s=%s: '%s' does not say '%s'", bad[i].key,
			    bad[i].value, p->error, bad[i].says);
		fake_plugin_free(p, synbridge_plugin_end);
	}
	assert_int_equal(load_args(&p, "stim", "broadcast", "ttl_line", "9",
	    NULL), -1);
	assert_non_null(strstr(p->error, "1-8"));
	fake_plugin_free(p, synbridge_plugin_end);
	assert_int_equal(load_args(&p, "rhs", "0", NULL), -1);	/* 60 units */
	assert_non_null(strstr(p->error, "RHS channel 0-15"));
	fake_plugin_free(p, synbridge_plugin_end);
	p = fake_plugin_new("padova", 1);
	p->fast = 1;
	assert_int_equal(synbridge_plugin_init(p, &oe_test_host), -1);
	assert_non_null(strstr(p->error, "--fast"));
	fake_plugin_free(p, synbridge_plugin_end);
}

/* Synaptic weights to widths within the limits, per path. */
static void
test_synaptic_width(void **state)
{
	struct oe_config c;

	(void)state;
	memset(&c, 0, sizeof c);
	c.syn_width_us = 50000;
	c.min_width_us = 10000;
	c.max_width_us = 5000000;
	assert_int_equal(oe_stim_synaptic_width(&c, OE_STIM_NETWORK_EVENTS,
	    255), 50000);
	assert_int_equal(oe_stim_synaptic_width(&c, OE_STIM_NETWORK_EVENTS,
	    102), 20000);
	assert_int_equal(oe_stim_synaptic_width(&c, OE_STIM_NETWORK_EVENTS,
	    1), 10000);
	assert_int_equal(oe_stim_synaptic_width(&c, OE_STIM_BROADCAST, 100),
	    20000);	/* 19608 us rounded to whole ms */
	assert_int_equal(oe_stim_synaptic_width(&c, OE_STIM_BROADCAST, 300),
	    50000);
}

/* ---- against the emulator ---- */

/* A test's world: the emulator and a loaded, started plugin. */
struct world {
	struct oe_emu emu;
	struct sb_plugin *p;
	struct sb_emitter em;
	int64_t base_us;	/* CLOCK_MONOTONIC at session time 0 */
	char http[16], events[16], ne[16];
	size_t cursor;		/* emulator lines looked at */
	int started;
};

/* The engine's pass: the session clock, the link's poll. */
static void
pump(struct world *w)
{
	w->p->now = oe_emu_now_us() - w->base_us;
	w->p->link.poll(w->p->link_data);
}

/* Sleep a few ms while pumping. */
static void
settle(struct world *w, int ms)
{
	int64_t end = oe_emu_now_ms() + ms;
	struct timespec ts = { 0, 5000000L };

	while (oe_emu_now_ms() < end) {
		pump(w);
		nanosleep(&ts, NULL);
	}
}

/* The link's row. */
static void
health(struct world *w, struct sb_link_health *h)
{
	pump(w);
	assert_int_equal(w->p->link.health(w->p->link_data, h, 1), 1);
}

/* Wait until the link is up (or down). */
static void
wait_link(struct world *w, int up)
{
	int64_t deadline = oe_emu_now_ms() + DEADLINE_MS;
	struct sb_link_health h;

	while (oe_emu_now_ms() < deadline) {
		health(w, &h);
		if ((h.state == SB_LINK_UP) == up)
			return;
		settle(w, 10);
	}
	fail_msg("the link did not go %s within %d ms", up ? "up" : "down",
	    DEADLINE_MS);
}

/* Wait until the plugin has seen the GUI acquire (its link row says so). */
static void
wait_acquiring(struct world *w)
{
	int64_t deadline = oe_emu_now_ms() + DEADLINE_MS;
	struct sb_link_health h;

	while (oe_emu_now_ms() < deadline) {
		health(w, &h);
		if (h.state == SB_LINK_UP && strncmp(h.detail, "ACQUIRE", 7) ==
		    0)
			return;
		settle(w, 10);
	}
	fail_msg("the plugin did not see the GUI acquire within %d ms",
	    DEADLINE_MS);
}

/* Wait for an emulator line after the cursor (pumping meanwhile). */
static void
wait_emu(struct world *w, const char *prefix, char *line, size_t len)
{
	int64_t deadline = oe_emu_now_ms() + DEADLINE_MS;

	while (oe_emu_now_ms() < deadline) {
		pump(w);
		if (oe_emu_wait(&w->emu, prefix, &w->cursor, line, len, 10) ==
		    0)
			return;
	}
	fail_msg("the emulator did not print '%s' within %d ms", prefix,
	    DEADLINE_MS);
}

/* Wait until at least n spikes were emitted in all. */
static void
wait_spikes(struct world *w, size_t n)
{
	int64_t deadline = oe_emu_now_ms() + DEADLINE_MS;

	while (oe_emu_now_ms() < deadline) {
		if (oe_seen_count() >= n)
			return;
		settle(w, 10);
	}
	fail_msg("%zu spikes, not %zu, within %d ms", oe_seen_count(), n,
	    DEADLINE_MS);
}

/* Start the emulator (extra options, NULL-terminated). */
#define emu_start(w, ...) \
	assert_int_equal(oe_emu_start(&(w)->emu, "--electrodes", "16", \
	    "--sample-rate", "30000", "--block-samples", "300", "--seed", "5", \
	    __VA_ARGS__), 0)

/* Load the plugin on the emulator (extra key, value pairs) and start it. */
static void
world_load(struct world *w, ...)
{
	const char *k, *v;
	va_list ap;

	oe_seen_clear();
	w->p = fake_plugin_new("padova", 3);
	assert_non_null(w->p);
	w->p->fast = 0;
	w->p->echo = getenv("VERBOSE") != NULL;
	w->base_us = oe_emu_now_us();
	snprintf(w->http, sizeof w->http, "%u", w->emu.http_port);
	/* the test's own first: the first of a key is the one taken */
	va_start(ap, w);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		fake_plugin_arg(w->p, k, v);
	}
	va_end(ap);
	fake_plugin_arg(w->p, "name", "mea");
	fake_plugin_arg(w->p, "host", "127.0.0.1");
	fake_plugin_arg(w->p, "http_port", w->http);
	fake_plugin_arg(w->p, "electrodes", "16");
	fake_plugin_arg(w->p, "timeout_ms", "500");
	fake_plugin_arg(w->p, "heartbeat_ms", "200");
	fake_plugin_arg(w->p, "backoff_max_ms", "400");
	assert_int_equal(synbridge_plugin_init(w->p, &oe_test_host), 0);
	assert_int_equal(w->p->npops, 1);
	assert_int_equal(w->p->nlinks, 1);
	assert_string_equal(w->p->pops[0].name, "mea");
	w->em.p = w->p;
	w->em.limit = SIZE_MAX;
	assert_int_equal(w->p->pops[0].start(w->p->pops_data[0], &w->em, NULL),
	    0);
	w->started = 1;
}

/* Stop and unload the plugin, stop the emulator. */
static void
world_end(struct world *w)
{
	if (w->started)
		w->p->pops[0].stop(w->p->pops_data[0]);
	fake_plugin_free(w->p, synbridge_plugin_end);
	oe_emu_stop(&w->emu);
	oe_seen_clear();
}

/* Stimulate through the plugin as the engine does; its cause. */
static int
stim(struct world *w, uint32_t unit, double amp, uint32_t width,
    char **cause)
{
	pump(w);
	return w->p->pops[0].stimulate(w->p->pops_data[0], unit, amp, width,
	    w->p->now, cause);
}

/* The session time of a sample, from the emulator's acquisition start. */
static double
sample_time(struct world *w, int64_t t0_mono, long long sample)
{
	return (double)(t0_mono - w->base_us) + sample / RATE * 1e6;
}

/*
 * Acquisition starts with the population; spikes arrive with units of
 * the population and session times where the emulator's samples say;
 * the link row names the GUI's state; stopping returns the GUI to IDLE.
 */
static void
test_emu_spikes(void **state)
{
	struct world w = { 0 };
	struct sb_link_health h;
	struct oe_seen s;
	char line[OE_EMU_LINE], want[64];
	long long t0;
	size_t i;
	int64_t now;

	(void)state;
	emu_start(&w, "--spike-rate", "20", NULL);
	world_load(&w, NULL);
	wait_link(&w, 1);
	wait_emu(&w, "mode ACQUIRE", line, sizeof line);
	assert_int_equal(sscanf(line, "mode ACQUIRE %lld", &t0), 1);
	wait_spikes(&w, 100);
	health(&w, &h);
	settle(&w, 600);	/* a rate over at least 0.5 s */
	health(&w, &h);
	assert_int_equal(h.state, SB_LINK_UP);
	snprintf(want, sizeof want, "ACQUIRE, Event Broadcaster :%u, "
	    "Network Events :%u", w.emu.events_port, w.emu.ne_port);
	if (strstr(h.detail, want) == NULL)
		fail_msg("link detail '%s' lacks '%s'", h.detail, want);
	assert_true(h.events_in_per_s > 50);	/* 16 x 20 Hz */
	assert_true(h.last_batch_age_s < 1.0);
	assert_int_equal(h.malformed, 0);
	now = oe_emu_now_us() - w.base_us;
	for (i = 0; oe_seen_get(i, &s) == 0; i++) {
		assert_int_equal(s.ev.kind, SB_EV_SPIKE);
		assert_true(s.ev.index < 16);
		/* after the acquisition started, before it was emitted */
		assert_true(s.ev.t_us >= sample_time(&w, t0, 0) - 2000);
		assert_true(s.ev.t_us <= s.mono_us - w.base_us);
		assert_true(s.ev.t_us <= now);
	}
	assert_true(fake_plugin_logged(w.p, "started the GUI's acquisition"));
	w.p->pops[0].stop(w.p->pops_data[0]);
	w.started = 0;
	wait_emu(&w, "mode IDLE", line, sizeof line);
	world_end(&w);
}

/* Bad JSON and bad frames are counted and survived; spikes go on. */
static void
test_emu_malformed(void **state)
{
	static const char *faults[] = { "badjson", "badframe 1",
	    "badframe 3" };
	struct world w = { 0 };
	struct sb_link_health h;
	int64_t deadline;
	size_t n, i;

	(void)state;
	emu_start(&w, "--spike-rate", "20", NULL);
	world_load(&w, "events_port", (snprintf(w.events, sizeof w.events,
	    "%u", w.emu.events_port), w.events), NULL);
	wait_link(&w, 1);
	wait_spikes(&w, 20);
	for (i = 0; i < 3; i++) {
		assert_int_equal(oe_emu_control(&w.emu, faults[i]), 0);
		deadline = oe_emu_now_ms() + DEADLINE_MS;
		do {
			settle(&w, 20);
			health(&w, &h);
		} while (h.malformed < i + 1 && oe_emu_now_ms() < deadline);
		assert_int_equal(h.malformed, i + 1);
	}
	assert_int_equal(h.state, SB_LINK_UP);
	assert_true(fake_plugin_logged(w.p, "does not parse"));
	assert_true(fake_plugin_logged(w.p, "1 frame"));
	n = oe_seen_count();
	wait_spikes(&w, n + 20);
	/* the emulator counted them as bad too */
	assert_int_equal(oe_emu_stat(&w.emu, "bad"), 3);
	world_end(&w);
}

/* The first spike of unit in [from, to] (session time) marked aux (0:
 * any), or -1. */
static int
find_spike(uint32_t unit, double from, double to, int aux,
    struct oe_seen *out)
{
	struct oe_seen s;
	size_t i;

	for (i = 0; oe_seen_get(i, &s) == 0; i++)
		if (s.ev.index == unit && s.ev.t_us >= from && s.ev.t_us <= to &&
		    (aux == 0 || s.ev.aux == aux)) {
			*out = s;
			return 0;
		}
	return -1;
}

/* Wait for an evoked spike of unit 2-10 ms after sample (+- tolerance). */
static void
wait_evoked(struct world *w, long long t0, long long sample, uint32_t unit,
    int stimulated)
{
	int64_t deadline = oe_emu_now_ms() + DEADLINE_MS;
	/*
	 * +- 3 ms; under a sanitizer (several times slower, the clock fit
	 * from arrival times jitters with it) +- 10 ms
	 */
	double tol = getenv("SB_SANITIZE") != NULL &&
	    strcmp(getenv("SB_SANITIZE"), "yes") == 0 ? 10000 : 3000;
	double from = sample_time(w, t0, sample) + 2000 - tol;
	double to = sample_time(w, t0, sample) + 10000 + tol;
	struct oe_seen s;

	while (oe_emu_now_ms() < deadline) {
		if (find_spike(unit, from, to, stimulated ?
		    SB_SPIKE_STIMULATED : 0, &s) == 0)
			return;
		settle(w, 10);
	}
	/* say what came instead: the unit's spikes nearest the window */
	for (size_t i = 0; oe_seen_get(i, &s) == 0; i++)
		if (s.ev.index == unit && s.ev.t_us > from - 1e6 &&
		    s.ev.t_us < to + 1e6)
			print_message("unit %u spike at %.0f us (aux %u)\n",
			    unit, (double)s.ev.t_us, (unsigned)s.ev.aux);
	fail_msg("no %sspike of unit %u between %.0f and %.0f us",
	    stimulated ? "evoked " : "", unit, from, to);
}

/*
 * An emulator at 2 spikes/s per electrode and the plugin on it with a TTL
 * line per unit, acquiring and with its clock mapping learnt: the start
 * of the stimulation tests. Returns the emulator's ACQUIRE time.
 */
static long long
stim_world_start(struct world *w)
{
	char line[OE_EMU_LINE];
	long long t0;

	emu_start(w, "--spike-rate", "2", NULL);
	world_load(w, "ttl_lines", "each", NULL);
	wait_link(w, 1);
	wait_emu(w, "mode ACQUIRE", line, sizeof line);
	assert_int_equal(sscanf(line, "mode ACQUIRE %lld", &t0), 1);
	wait_acquiring(w);
	settle(w, 1500);	/* the clock mapping learns the offset */
	return t0;
}

/*
 * stim through Network Events: TTL on, off after the width; the emulated
 * stimulator fires the electrode and its spike comes back at the time
 * the samples say, marked evoked. What the path cannot honour is refused.
 */
static void
test_emu_stim_network_events(void **state)
{
	struct world w = { 0 };
	struct sb_link_health h;
	char line[OE_EMU_LINE], *cause = NULL;
	long long t0, sample;

	(void)state;
	t0 = stim_world_start(&w);
	if (stim(&w, 5, 1.0, 20000, &cause) != 0)
		fail_msg("stim refused: %s", cause);
	wait_emu(&w, "triggered network-events", line, sizeof line);
	assert_non_null(strstr(line, "line=6"));
	assert_non_null(strstr(line, "electrodes=5"));
	sample = oe_emu_field(line, "sample");
	assert_true(sample > 0);
	wait_evoked(&w, t0, sample, 5, 1);
	/* refused: an amplitude the TTL does not carry, too short, busy */
	assert_int_equal(stim(&w, 6, 2.0, 20000, &cause), -1);
	assert_non_null(strstr(cause, "carries no amplitude"));
	free(cause);
	cause = NULL;
	assert_int_equal(stim(&w, 6, 1.0, 200, &cause), -1);
	assert_non_null(strstr(cause, "shorter than a pulse"));
	free(cause);
	cause = NULL;
	assert_int_equal(stim(&w, 7, 1.0, 300000, &cause), 0);
	assert_int_equal(stim(&w, 7, 1.0, 20000, &cause), -1);
	assert_non_null(strstr(cause, "still high"));
	free(cause);
	cause = NULL;
	assert_int_equal(stim(&w, 99, 1.0, 20000, &cause), -1);
	free(cause);
	cause = NULL;
	wait_emu(&w, "triggered network-events", line, sizeof line);
	assert_non_null(strstr(line, "line=8"));
	/* the pulses went out and came back as TTL events */
	settle(&w, 400);
	health(&w, &h);
	assert_true(h.events_out_per_s >= 0);
	assert_int_equal(h.gaps, 0);
	world_end(&w);
}

/*
 * A GUI running behind stamps a TTL, and the spikes it evokes, with
 * samples from before the pulse was sent: the spike is still evoked (the
 * plugin takes the TTL's own time as the pulse's).
 */
static void
test_emu_stim_lagging(void **state)
{
	struct world w = { 0 };
	char line[OE_EMU_LINE], *cause = NULL;
	long long t0, sample;

	(void)state;
	t0 = stim_world_start(&w);
	assert_int_equal(oe_emu_control(&w.emu, "lag 300"), 0);
	assert_int_equal(oe_emu_control(&w.emu, "stats"), 0);
	wait_emu(&w, "stats", line, sizeof line);	/* the lag is on */
	/* not a wait for a condition: the pulse goes out 50 ms into the lag */
	settle(&w, 50);
	if (stim(&w, 5, 1.0, 20000, &cause) != 0)
		fail_msg("stim refused: %s", cause);
	wait_emu(&w, "triggered network-events", line, sizeof line);
	sample = oe_emu_field(line, "sample");
	assert_true(sample > 0);
	wait_evoked(&w, t0, sample, 5, 1);
	world_end(&w);
}

/* stim=broadcast: ACQBOARD TRIGGER in whole milliseconds. */
static void
test_emu_stim_broadcast(void **state)
{
	struct world w = { 0 };
	char line[OE_EMU_LINE], *cause = NULL;
	long long t0, sample;

	(void)state;
	emu_start(&w, "--spike-rate", "2", NULL);
	world_load(&w, "stim", "broadcast", "ttl_lines", "2:3", NULL);
	wait_link(&w, 1);
	wait_emu(&w, "mode ACQUIRE", line, sizeof line);
	assert_int_equal(sscanf(line, "mode ACQUIRE %lld", &t0), 1);
	wait_acquiring(&w);
	settle(&w, 1500);
	assert_int_equal(stim(&w, 2, 1.0, 15500, &cause), -1);
	assert_non_null(strstr(cause, "whole milliseconds"));
	free(cause);
	cause = NULL;
	assert_int_equal(stim(&w, 3, 1.0, 15000, &cause), -1);
	assert_non_null(strstr(cause, "no TTL line"));
	free(cause);
	cause = NULL;
	assert_int_equal(stim(&w, 2, 1.0, 15000, &cause), 0);
	wait_emu(&w, "triggered http", line, sizeof line);
	assert_non_null(strstr(line, "acqboard:line=3,ms=15"));
	assert_non_null(strstr(line, "electrodes=2"));
	sample = oe_emu_field(line, "sample");
	wait_evoked(&w, t0, sample, 2, 1);
	world_end(&w);
}

/* A synaptic event becomes a pulse scaled by its weight. */
static void
test_emu_synaptic(void **state)
{
	struct world w = { 0 };
	char line[OE_EMU_LINE];

	(void)state;
	emu_start(&w, "--spike-rate", "2", NULL);
	world_load(&w, "ttl_lines", "each", "syn_width_us", "100000", NULL);
	wait_link(&w, 1);
	wait_emu(&w, "mode ACQUIRE", line, sizeof line);
	wait_acquiring(&w);
	w.p->pops[0].synaptic_input(w.p->pops_data[0], 7, 0, 10.0, w.p->now);
	w.p->pops[0].synaptic_input(w.p->pops_data[0], 7, 255, 10.0,
	    w.p->now);
	w.p->pops[0].synaptic_input(w.p->pops_data[0], 7, 255, 10.0,
	    w.p->now);	/* while its line is high: dropped */
	wait_emu(&w, "triggered network-events", line, sizeof line);
	assert_non_null(strstr(line, "line=8"));
	assert_non_null(strstr(line, "electrodes=7"));
	settle(&w, 300);
	assert_true(fake_plugin_logged(w.p, "still high"));
	assert_int_equal(oe_emu_stat(&w.emu, "triggers"), 1);
	world_end(&w);
}

/* rhs=: channels bound to digital inputs, stimulation in microamps. */
static void
test_emu_rhs(void **state)
{
	struct world w = { 0 };
	char line[OE_EMU_LINE], *cause = NULL;

	(void)state;
	emu_start(&w, "--spike-rate", "2", NULL);
	world_load(&w, "rhs", "0", "ttl_lines", "3:1,4:2",
	    "stim_amplitude", "20", "rhs_pulses", "2", NULL);
	assert_int_equal(w.p->pops[0].stim_unit, SB_STIM_MICROAMPS);
	wait_link(&w, 1);
	wait_emu(&w, "stimconfig chan=3 din=0 pulses=2 shape=BIPHASIC", line,
	    sizeof line);
	wait_emu(&w, "stimconfig chan=4 din=1", line, sizeof line);
	wait_acquiring(&w);
	assert_int_equal(stim(&w, 3, 20.0, 10000, &cause), 0);
	wait_emu(&w, "triggered network-events", line, sizeof line);
	assert_non_null(strstr(line, "line=1"));
	assert_non_null(strstr(line, "electrodes=3"));
	world_end(&w);
}

/*
 * The GUI restarted mid-session: the link goes down, comes back, starts
 * acquisition again, and spikes flow again with later session times.
 */
static void
test_emu_restart(void **state)
{
	struct world w = { 0 };
	char line[OE_EMU_LINE];
	struct oe_seen s;
	size_t n;
	int64_t up_at;

	(void)state;
	emu_start(&w, "--spike-rate", "20", NULL);
	world_load(&w, NULL);
	wait_link(&w, 1);
	wait_emu(&w, "mode ACQUIRE", line, sizeof line);
	wait_spikes(&w, 20);
	assert_int_equal(oe_emu_control(&w.emu, "restart 1000"), 0);
	wait_link(&w, 0);
	wait_emu(&w, "ready", line, sizeof line);
	wait_link(&w, 1);
	up_at = oe_emu_now_us() - w.base_us;
	wait_emu(&w, "mode ACQUIRE", line, sizeof line);
	n = oe_seen_count();
	wait_spikes(&w, n + 20);
	assert_int_equal(oe_seen_get(oe_seen_count() - 1, &s), 0);
	assert_true(s.ev.t_us > up_at);
	assert_true(fake_plugin_logged(w.p, "up again"));
	world_end(&w);
}

/*
 * The GUI restarted between two status polls: it answers IDLE after its
 * Event Broadcaster dropped the connection; acquisition starts again.
 */
static void
test_emu_quick_restart(void **state)
{
	struct world w = { 0 };
	char line[OE_EMU_LINE];
	size_t n;

	(void)state;
	emu_start(&w, "--spike-rate", "20", NULL);
	world_load(&w, "heartbeat_ms", "1000", NULL);
	wait_link(&w, 1);
	wait_emu(&w, "mode ACQUIRE", line, sizeof line);
	wait_spikes(&w, 20);
	assert_int_equal(oe_emu_control(&w.emu, "restart 0"), 0);
	wait_emu(&w, "ready", line, sizeof line);
	wait_emu(&w, "mode ACQUIRE", line, sizeof line);
	n = oe_seen_count();
	wait_spikes(&w, n + 20);
	world_end(&w);
}

/* The HTTP server stalls: down after the missed polls, up when it answers. */
static void
test_emu_stall(void **state)
{
	struct world w = { 0 };
	struct sb_link_health h;
	char line[OE_EMU_LINE], *cause = NULL;
	size_t n;

	(void)state;
	emu_start(&w, "--spike-rate", "20", NULL);
	world_load(&w, NULL);
	wait_link(&w, 1);
	wait_emu(&w, "mode ACQUIRE", line, sizeof line);
	wait_spikes(&w, 20);
	assert_int_equal(oe_emu_control(&w.emu, "stall 2000"), 0);
	wait_link(&w, 0);
	health(&w, &h);
	assert_non_null(strstr(h.detail, "no answer"));
	assert_int_equal(stim(&w, 1, 1.0, 20000, &cause), -1);
	assert_non_null(strstr(cause, "offline"));
	free(cause);
	wait_link(&w, 1);
	n = oe_seen_count();
	wait_spikes(&w, n + 20);
	world_end(&w);
}

/* Nothing listening: the load succeeds and says why; stim is refused. */
static void
test_no_gui(void **state)
{
	struct sb_plugin *p;
	struct sb_link_health h;
	char *cause = NULL;

	(void)state;
	assert_int_equal(load_args(&p, "http_port", "9", "timeout_ms", "100",
	    NULL), 0);
	assert_true(fake_plugin_logged(p, "not connected yet"));
	assert_true(fake_plugin_logged(p, "HTTP server on (File menu)"));
	p->link.health(p->link_data, &h, 1);
	assert_int_equal(h.state, SB_LINK_DOWN);
	assert_int_equal(p->pops[0].stimulate(p->pops_data[0], 0, 1.0, 20000,
	    0, &cause), -1);
	assert_non_null(strstr(cause, "offline"));
	free(cause);
	fake_plugin_free(p, synbridge_plugin_end);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_good),
		cmocka_unit_test(test_event_malformed),
		cmocka_unit_test(test_event_units),
		cmocka_unit_test(test_clock),
		cmocka_unit_test(test_api),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_synaptic_width),
		cmocka_unit_test(test_no_gui),
		cmocka_unit_test(test_emu_spikes),
		cmocka_unit_test(test_emu_malformed),
		cmocka_unit_test(test_emu_stim_network_events),
		cmocka_unit_test(test_emu_stim_lagging),
		cmocka_unit_test(test_emu_stim_broadcast),
		cmocka_unit_test(test_emu_synaptic),
		cmocka_unit_test(test_emu_rhs),
		cmocka_unit_test(test_emu_restart),
		cmocka_unit_test(test_emu_quick_restart),
		cmocka_unit_test(test_emu_stall),
	};

	oe_test_host_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
