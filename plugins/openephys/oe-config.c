/*
 * oe-config.c: the load line of the Open Ephys plugin.
 *
 * load openephys [name=mea] [host=127.0.0.1] [http_port=37497]
 *     [events_port=N] [network_events_port=N] [electrodes=60]
 *     [sorted=merge|N] [electrode_base=auto|0|1] [stream=NAME]
 *     [stim=auto|network_events|broadcast|none] [ttl_line=1]
 *     [ttl_lines=UNIT:LINE,...|each] [stim_amplitude=1]
 *     [min_width_us=10000] [max_width_us=5000000] [syn_width_us=50000]
 *     [syn_min_weight=1] [evoked_ms=20] [acquisition=control|follow]
 *     [rhs=STREAM] [rhs_pulses=1] [rhs_shape=BIPHASIC]
 *     [timeout_ms=2000] [heartbeat_ms=1000] [start_timeout_ms=10000]
 *     [backoff_max_ms=5000]
 *
 * events_port= and network_events_port= default to what the GUI's
 * processor list says, else 5557 and 5556 (so does "auto" or an empty
 * value); a port given wins.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "openephys.h"
#include "sb-args.h"

/* A whole-number argument within [lo, hi], or its default; given says so. */
static int
oe_config_uint(const struct sb_host_api *host, struct sb_plugin *p,
    const char *key, uint32_t lo, uint32_t hi, uint32_t *out, int *given,
    char **cause)
{
	if (given != NULL && host->arg(p, key) != NULL)
		*given = 1;
	return sb_args_get_uint32(host, p, OE_NAME, key, lo, hi, out, cause);
}

/*
 * A port of the GUI's plugins: a number (given: it wins over the processor
 * list), or auto or nothing (what the list says, else the default), so a
 * session file can write events_port=${OPENEPHYS_EVENTS_PORT:-auto}.
 */
static int
oe_config_port(const struct sb_host_api *host, struct sb_plugin *p,
    const char *key, uint32_t *out, int *given, char **cause)
{
	const char *s = host->arg(p, key);

	if (s != NULL && (*s == '\0' || strcmp(s, "auto") == 0))
		return 0;
	if (oe_config_uint(host, p, key, 1, 65535, out, given, cause) != 0) {
		free(*cause);
		sb_cause(cause, "openephys: bad %s=%s: give a port from 1 to "
		    "65535, or auto (the one the GUI's processor list shows)",
		    key, s);
		return -1;
	}
	return 0;
}

/* The name of a stimulation path, as stim= spells it. */
const char *
oe_stim_path_name(enum oe_stim_path path)
{
	switch (path) {
	case OE_STIM_AUTO:
		return "auto";
	case OE_STIM_NETWORK_EVENTS:
		return "network_events";
	case OE_STIM_BROADCAST:
		return "broadcast";
	case OE_STIM_NONE:
		break;
	}
	return "none";
}

/* A name: 1-63 characters without blanks, quotes or / : , # */
static int
oe_config_name(const char *key, const char *value, char *out, size_t len,
    char **cause)
{
	const char *s;

	for (s = value; *s != '\0'; s++)
		if (*s <= ' ' || strchr("/:,#'\"", *s) != NULL)
			break;
	if (*value == '\0' || *s != '\0' || strlen(value) >= len) {
		sb_cause(cause, "openephys: %s='%s' is not a name (1-%zu "
		    "characters, no blanks, quotes or / : , #)", key, value,
		    len - 1);
		return -1;
	}
	snprintf(out, len, "%s", value);
	return 0;
}

/* host=: a name or an IPv4 address, as it goes into a URL. */
static int
oe_config_host(struct oe_config *c, const char *value, char **cause)
{
	const char *s;

	for (s = value; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '-' &&
		    *s != '_')
			break;
	if (*value == '\0' || *s != '\0' || strlen(value) >= sizeof c->host) {
		sb_cause(cause, "openephys: host='%s' is not a host name or "
		    "IPv4 address (e.g. host=127.0.0.1, or the GUI machine's "
		    "name)", value);
		return -1;
	}
	snprintf(c->host, sizeof c->host, "%s", value);
	return 0;
}

/* ttl_lines=UNIT:LINE,...: which units can be stimulated, each its line. */
static int
oe_config_ttl_lines(struct oe_config *c, const char *value, char **cause)
{
	const char *s = value;
	char *end;
	unsigned long unit, line;
	unsigned n = 0;

	memset(c->unit_line, 0, c->units * sizeof *c->unit_line);
	if (strcmp(value, "each") == 0) {
		/* a line per unit: unit u on line u + 1 */
		for (unit = 0; unit < c->units && unit < OE_NE_LINES; unit++)
			c->unit_line[unit] = (uint32_t)unit + 1;
		c->ttl_line = 0;
		return 0;
	}
	while (*s != '\0') {
		if (!isdigit((unsigned char)*s))
			goto bad;
		unit = strtoul(s, &end, 10);
		if (*end != ':' || !isdigit((unsigned char)end[1]))
			goto bad;
		line = strtoul(end + 1, &end, 10);
		if (*end != ',' && *end != '\0')
			goto bad;
		if (unit >= c->units) {
			sb_cause(cause, "openephys: ttl_lines=%s: unit %lu is "
			    "beyond the population's units 0-%u", value, unit,
			    c->units - 1);
			return -1;
		}
		if (line < 1 || line > OE_NE_LINES) {
			sb_cause(cause, "openephys: ttl_lines=%s: line %lu is "
			    "not 1-%d", value, line, OE_NE_LINES);
			return -1;
		}
		c->unit_line[unit] = (uint32_t)line;
		n++;
		s = *end == ',' ? end + 1 : end;
	}
	if (n == 0)
		goto bad;
	c->ttl_line = 0;
	return 0;
bad:
	sb_cause(cause, "openephys: ttl_lines='%s' is not UNIT:LINE,... "
	    "(e.g. ttl_lines=12:1,30:2: unit 12 is stimulated through TTL "
	    "line 1, unit 30 through line 2) or each (unit u on line u+1)",
	    value);
	return -1;
}

/* Defaults (see the top of this file). */
static void
oe_config_default(struct oe_config *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->name, sizeof c->name, "mea");
	snprintf(c->host, sizeof c->host, "127.0.0.1");
	c->http_port = OE_HTTP_PORT;
	c->events_port = OE_EVENTS_PORT;
	c->network_events_port = OE_NETWORK_EVENTS_PORT;
	c->electrodes = 60;
	c->sorted = 1;
	c->electrode_base = -1;
	c->stim = OE_STIM_AUTO;
	c->ttl_line = 1;
	c->stim_amplitude = 1.0;
	c->min_width_us = 10000;
	c->max_width_us = 5000000;
	c->syn_width_us = 50000;
	c->syn_min_weight = 1;
	c->evoked_ms = 20;
	c->control = 1;
	c->rhs_pulses = 1;
	snprintf(c->rhs_shape, sizeof c->rhs_shape, "BIPHASIC");
	c->timeout_ms = 2000;
	c->heartbeat_ms = 1000;
	c->start_timeout_ms = 10000;
	c->backoff_max_ms = 5000;
}

/* The keyword arguments: stim=, sorted=, electrode_base=, acquisition=. */
static int
oe_config_words(struct oe_config *c, const struct sb_host_api *host,
    struct sb_plugin *p, char **cause)
{
	const char *s;

	if ((s = host->arg(p, "stim")) != NULL) {
		if (strcmp(s, "auto") == 0)
			c->stim = OE_STIM_AUTO;
		else if (strcmp(s, "network_events") == 0)
			c->stim = OE_STIM_NETWORK_EVENTS;
		else if (strcmp(s, "broadcast") == 0)
			c->stim = OE_STIM_BROADCAST;
		else if (strcmp(s, "none") == 0)
			c->stim = OE_STIM_NONE;
		else {
			sb_cause(cause, "openephys: stim=%s: give network_events "
			    "(TTL lines through the Network Events plugin), "
			    "broadcast (ACQBOARD TRIGGER through the HTTP API), "
			    "none, or auto (what the signal chain has)", s);
			return -1;
		}
	}
	if ((s = host->arg(p, "sorted")) != NULL && strcmp(s, "merge") != 0) {
		if (sb_args_uint32(s, &c->sorted) != 0 || c->sorted < 1 ||
		    c->sorted > 64) {
			sb_cause(cause, "openephys: sorted=%s: give merge (one "
			    "unit per electrode, sorted units merged) or the "
			    "units per electrode, 1-64 (unit = electrode x N + "
			    "sorted_id)", s);
			return -1;
		}
	}
	if ((s = host->arg(p, "electrode_base")) != NULL) {
		if (strcmp(s, "auto") == 0)
			c->electrode_base = -1;
		else if (strcmp(s, "0") == 0 || strcmp(s, "1") == 0)
			c->electrode_base = s[0] - '0';
		else {
			sb_cause(cause, "openephys: electrode_base=%s: give 0 "
			    "(the GUI's first electrode is 0), 1 (it is 1) or "
			    "auto (numbers from 0, names like 'Electrode 1' "
			    "from 1)", s);
			return -1;
		}
	}
	if ((s = host->arg(p, "acquisition")) != NULL) {
		if (strcmp(s, "control") == 0)
			c->control = 1;
		else if (strcmp(s, "follow") == 0)
			c->control = 0;
		else {
			sb_cause(cause, "openephys: acquisition=%s: give control "
			    "(start the GUI's acquisition with the population, "
			    "stop it after) or follow (never change its mode)",
			    s);
			return -1;
		}
	}
	return 0;
}

/* The RHS set-up: rhs=STREAM, rhs_pulses=, rhs_shape=. */
static int
oe_config_rhs(struct oe_config *c, const struct sb_host_api *host,
    struct sb_plugin *p, char **cause)
{
	static const char *shapes[] = { "BIPHASIC", "BIPHASIC_WITH_DELAY",
	    "TRIPHASIC", "MONOPHASIC" };
	const char *s;
	uint32_t u;
	size_t i;

	if (oe_config_uint(host, p, "rhs", 0, 1000, &c->rhs_stream, &c->rhs,
	    cause) != 0 || oe_config_uint(host, p, "rhs_pulses", 0,
	    OE_RHS_MAX_PULSES, &c->rhs_pulses, NULL, cause) != 0)
		return -1;
	if ((s = host->arg(p, "rhs_shape")) != NULL) {
		for (i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
			if (strcasecmp(s, shapes[i]) == 0)
				break;
		if (i == sizeof shapes / sizeof shapes[0]) {
			sb_cause(cause, "openephys: rhs_shape=%s: give "
			    "BIPHASIC, BIPHASIC_WITH_DELAY, TRIPHASIC or "
			    "MONOPHASIC", s);
			return -1;
		}
		snprintf(c->rhs_shape, sizeof c->rhs_shape, "%s", shapes[i]);
	}
	if (!c->rhs && (host->arg(p, "rhs_pulses") != NULL ||
	    host->arg(p, "rhs_shape") != NULL)) {
		sb_cause(cause, "openephys: rhs_pulses= and rhs_shape= go with "
		    "rhs=STREAM (the RHS stream whose channels to set up)");
		return -1;
	}
	if (!c->rhs)
		return 0;
	if (c->stim == OE_STIM_NONE) {
		sb_cause(cause, "openephys: rhs= sets up RHS channels to fire on "
		    "a TTL; it needs a stimulation path (not stim=none)");
		return -1;
	}
	for (u = 0; u < c->units; u++) {
		if (c->unit_line[u] == 0)
			continue;
		if (u >= OE_RHS_CHANNELS || c->unit_line[u] > OE_RHS_DINS) {
			sb_cause(cause, "openephys: with rhs= each stimulated "
			    "unit is an RHS channel 0-%d and its line a digital "
			    "input 1-%d (unit %u, line %u): give ttl_lines= "
			    "within those", OE_RHS_CHANNELS - 1, OE_RHS_DINS, u,
			    c->unit_line[u]);
			return -1;
		}
	}
	return 0;
}

/* Parse the load line into c. */
int
oe_config_parse(struct oe_config *c, const struct sb_host_api *host,
    struct sb_plugin *p, char **cause)
{
	const char *s;
	double v;
	uint32_t u;

	oe_config_default(c);
	if ((s = host->arg(p, "name")) != NULL && oe_config_name("name", s,
	    c->name, sizeof c->name, cause) != 0)
		return -1;
	if ((s = host->arg(p, "host")) != NULL && oe_config_host(c, s,
	    cause) != 0)
		return -1;
	if ((s = host->arg(p, "stream")) != NULL) {
		if (*s == '\0' || strlen(s) >= sizeof c->stream) {
			sb_cause(cause, "openephys: stream='%s': give the name of "
			    "the GUI's data stream whose spikes to take", s);
			return -1;
		}
		snprintf(c->stream, sizeof c->stream, "%s", s);
	}
	if (oe_config_uint(host, p, "http_port", 1, 65535, &c->http_port, NULL,
	    cause) != 0 ||
	    oe_config_port(host, p, "events_port", &c->events_port,
	    &c->events_port_given, cause) != 0 ||
	    oe_config_port(host, p, "network_events_port",
	    &c->network_events_port, &c->network_events_port_given,
	    cause) != 0 ||
	    oe_config_uint(host, p, "electrodes", 1, 65536, &c->electrodes,
	    NULL, cause) != 0 ||
	    oe_config_uint(host, p, "ttl_line", 1, OE_NE_LINES, &c->ttl_line,
	    NULL, cause) != 0 ||
	    oe_config_uint(host, p, "min_width_us", 1, 5000000,
	    &c->min_width_us, NULL, cause) != 0 ||
	    oe_config_uint(host, p, "max_width_us", 1, 5000000,
	    &c->max_width_us, NULL, cause) != 0 ||
	    oe_config_uint(host, p, "syn_width_us", 0, 5000000,
	    &c->syn_width_us, NULL, cause) != 0 ||
	    oe_config_uint(host, p, "syn_min_weight", 0, 255,
	    &c->syn_min_weight, NULL, cause) != 0 ||
	    oe_config_uint(host, p, "evoked_ms", 0, 10000, &c->evoked_ms, NULL,
	    cause) != 0 ||
	    oe_config_uint(host, p, "timeout_ms", 50, 600000, &c->timeout_ms,
	    NULL, cause) != 0 ||
	    oe_config_uint(host, p, "heartbeat_ms", 50, 600000,
	    &c->heartbeat_ms, NULL, cause) != 0 ||
	    oe_config_uint(host, p, "start_timeout_ms", 50, 600000,
	    &c->start_timeout_ms, NULL, cause) != 0 ||
	    oe_config_uint(host, p, "backoff_max_ms", 10, 600000,
	    &c->backoff_max_ms, NULL, cause) != 0)
		return -1;
	if (oe_config_words(c, host, p, cause) != 0)
		return -1;
	if ((uint64_t)c->electrodes * c->sorted > 65536) {
		sb_cause(cause, "openephys: electrodes=%u x sorted=%u is more "
		    "than 65536 units", c->electrodes, c->sorted);
		return -1;
	}
	c->units = c->electrodes * c->sorted;
	if (c->min_width_us > c->max_width_us) {
		sb_cause(cause, "openephys: min_width_us=%u is above "
		    "max_width_us=%u", c->min_width_us, c->max_width_us);
		return -1;
	}
	if ((s = host->arg(p, "stim_amplitude")) != NULL) {
		if (sb_args_number(s, &v) != 0 || v <= 0 || v > 100000) {
			sb_cause(cause, "openephys: stim_amplitude=%s: give what "
			    "the stimulator delivers, a positive number (volts; "
			    "microamps with rhs=)", s);
			return -1;
		}
		c->stim_amplitude = v;
	}
	c->unit_line = calloc(c->units, sizeof *c->unit_line);
	if (c->unit_line == NULL) {
		sb_cause(cause, "openephys: out of memory");
		return -1;
	}
	if ((s = host->arg(p, "ttl_lines")) != NULL) {
		if (host->arg(p, "ttl_line") != NULL) {
			sb_cause(cause, "openephys: give ttl_line= (one line for "
			    "every unit) or ttl_lines= (a line for each unit "
			    "listed), not both");
			return -1;
		}
		if (oe_config_ttl_lines(c, s, cause) != 0)
			return -1;
	} else
		for (u = 0; u < c->units; u++)
			c->unit_line[u] = c->ttl_line;
	if (c->stim == OE_STIM_BROADCAST)
		for (u = 0; u < c->units; u++)
			if (c->unit_line[u] > OE_ACQBOARD_LINES) {
				sb_cause(cause, "openephys: stim=broadcast pulses "
				    "the Acquisition Board's digital outputs 1-%d "
				    "(ACQBOARD TRIGGER); line %u is beyond them",
				    OE_ACQBOARD_LINES, c->unit_line[u]);
				return -1;
			}
	return oe_config_rhs(c, host, p, cause);
}

/* Free what parse allocated. */
void
oe_config_free(struct oe_config *c)
{
	free(c->unit_line);
	c->unit_line = NULL;
}
