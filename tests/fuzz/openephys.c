/*
 * openephys.c: fuzz target for the Open Ephys GUI's Event Broadcaster
 * messages (plugins/openephys: oe-event.c, oe-clock.c), as the plugin's
 * SUB socket takes them from the network: a type frame, a JSON frame,
 * each checked field by field, a spike mapped to a unit and its sample
 * number mapped to session time.
 *
 * The configuration is the real load-line parser's (electrodes=8
 * sorted=2). Input: messages, each a type frame and a JSON frame (each a
 * length byte and its bytes; a frame may be longer than 255 bytes when
 * its length byte is 255 and the next ones add to it). A refused message
 * must say why; a spike taken must map to one of the units, and its time
 * must never be later than its arrival.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake-host.h"
#include "fuzz.h"
#include "openephys.h"

static struct oe_config fuzz_oe_cfg;

/* The configuration, from a load line. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sb_plugin *p = fake_plugin_new("padova", 1);
	char *cause = NULL;

	if (p == NULL)
		abort();
	fake_plugin_arg(p, "electrodes", "8");
	fake_plugin_arg(p, "sorted", "2");
	if (oe_config_parse(&fuzz_oe_cfg, &fake_host, p, &cause) != 0) {
		fprintf(stderr, "fuzz: openephys: %s\n", cause);
		abort();
	}
	free(p);	/* the configuration keeps nothing of it */
	return 0;
}

/* One frame: a length byte (255: more follow) and its bytes. */
static size_t
fuzz_oe_frame(const uint8_t **data, size_t *size, uint8_t *out, size_t cap)
{
	const uint8_t *piece;
	size_t len = 0, n;
	int more;

	do {
		more = *size > 0 && (*data)[0] == 255;
		n = fuzz_take(data, size, &piece);
		if (n > cap - len)
			n = cap - len;
		memcpy(out + len, piece, n);
		len += n;
	} while (more && *size > 0);
	return len;
}

/* Every message through the checks, the unit map and the clock. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct oe_clock clock;
	static uint8_t type[OE_JSON_MAX], json[OE_JSON_MAX];
	struct oe_event ev;
	char why[256];
	int64_t arrival = 1000000, t;
	size_t tlen, jlen;
	uint32_t unit;
	int rc, reset;

	oe_clock_reset(&clock);
	while (size > 0) {
		tlen = fuzz_oe_frame(&data, &size, type, sizeof type);
		jlen = fuzz_oe_frame(&data, &size, json, sizeof json);
		why[0] = '\0';
		rc = oe_event_parse(type, tlen, (const char *)json, jlen, &ev,
		    why, sizeof why);
		arrival += 1000;
		if (rc != 0) {
			FUZZ_CHECK(rc > 0 && rc < OE_NCAUSES);
			FUZZ_CHECK(why[0] != '\0');
			continue;
		}
		FUZZ_CHECK(ev.kind == OE_EV_SPIKE || ev.kind == OE_EV_TTL);
		FUZZ_CHECK(strlen(ev.stream) < sizeof ev.stream);
		FUZZ_CHECK(isfinite(ev.sample_rate) && ev.sample_rate > 0);
		FUZZ_CHECK(ev.sample_number >= 0);
		if (ev.kind == OE_EV_TTL) {
			FUZZ_CHECK(ev.state == 0 || ev.state == 1);
			continue;
		}
		why[0] = '\0';
		rc = oe_event_unit(&fuzz_oe_cfg, &ev, &unit, why, sizeof why);
		if (rc != 0) {
			FUZZ_CHECK(why[0] != '\0');
			continue;
		}
		FUZZ_CHECK(unit < fuzz_oe_cfg.units);
		t = oe_clock_map(&clock, ev.stream, ev.sample_rate,
		    ev.sample_number, arrival, &reset);
		FUZZ_CHECK(t <= arrival);
		FUZZ_CHECK(reset == 0 || reset == 1);
	}
	(void)oe_clock_drift_ppm(&clock);
	return 0;
}
