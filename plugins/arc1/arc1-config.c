/*
 * arc1-config.c: the load line of the ArC ONE plugin.
 *
 * load arc1 [name=arc1] port=/dev/ttyACM0 [words=32] [bits=32]
 *     [read_mode=2] [vread=0.5] [cycles=50] [sneak=1] [session_mode=0]
 *     [rmin=4000] [rmax=9000] [max_v=4] [max_width_us=1000]
 *     [min_width_us=1] [max_count=100] [ltp_polarity=+|-] [weight=r|g]
 *     [timeout_ms=1000] [init_timeout_ms=7000] [version_timeout_ms=2000]
 *     [reset_ms=1000] [settle_ms=1000] [pace_us=1000] [backoff_max_ms=5000]
 *
 * Defaults are the maker's (32x32, 50 read cycles, TIA4P read mode 2, V/2
 * sneak-path scheme, 0.5 V reads) and the published experiment's (+-4 V,
 * 100 us pulses, weights over 4-9 kohm growing with R). Safety: the
 * instrument can apply +-12 V for up to 10 s; synbridge refuses more than
 * max_v (default 4 V, the paper's) and max_width_us (default 1 ms), and
 * never accepts limits beyond the instrument's own.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc1.h"
#include "sb-args.h"

/* An unsigned argument within [lo, hi], or its default. */
static int
arc1_config_uint(const struct sb_host_api *host, struct sb_plugin *p,
    const char *key, uint32_t lo, uint32_t hi, uint32_t *out, char **cause)
{
	return sb_args_get_uint32(host, p, ARC1_NAME, key, lo, hi, out, cause);
}

/* A number argument within [lo, hi], or its default. */
static int
arc1_config_double(const struct sb_host_api *host, struct sb_plugin *p,
    const char *key, double lo, double hi, double *out, char **cause)
{
	return sb_args_get_number(host, p, ARC1_NAME, key, lo, hi, out, cause);
}

/* Defaults (see the top of this file). */
static void
arc1_config_default(struct arc1_config *c)
{
	memset(c, 0, sizeof *c);
	c->words = c->bits = 32;
	c->cycles = 50;
	c->read_mode = 2;
	c->session_mode = 0;
	c->sneak = 1;
	c->vread = 0.5;
	c->rmin = 4000;
	c->rmax = 9000;
	c->max_v = 4.0;
	c->max_width_us = 1000;
	c->min_width_us = 1;
	c->max_count = 100;
	c->ltp_v = 4.0;
	c->ltd_v = -4.0;
	c->width_us = 100;
	c->weight_from = SB_WEIGHT_FROM_R;
	c->timeout_ms = 1000;
	c->init_timeout_ms = 7000;
	c->version_timeout_ms = 2000;
	c->reset_ms = 1000;
	c->settle_ms = 1000;
	c->pace_us = 1000;
	c->backoff_max_ms = 5000;
}

/* Parse the load line into cfg. */
int
arc1_config_parse(struct arc1_config *c, const struct sb_host_api *host,
    struct sb_plugin *p, char **cause)
{
	const char *port = host->arg(p, "port"), *s;
	uint32_t mode, smode, sneak;

	arc1_config_default(c);
	if (port == NULL || *port == '\0') {
		sb_cause(cause, "arc1: give the instrument's serial port: "
		    "port=/dev/ttyACM0 (ls /dev/ttyACM* lists them)");
		return -1;
	}
	if (strlen(port) >= sizeof c->port) {
		sb_cause(cause, "arc1: port= is too long");
		return -1;
	}
	strcpy(c->port, port);
	mode = (uint32_t)c->read_mode;
	smode = (uint32_t)c->session_mode;
	sneak = (uint32_t)c->sneak;
	if (arc1_config_uint(host, p, "words", 1, ARC1_MAX_LINES, &c->words,
	    cause) != 0 || arc1_config_uint(host, p, "bits", 1, ARC1_MAX_LINES,
	    &c->bits, cause) != 0 ||
	    arc1_config_uint(host, p, "cycles", 1, 1000, &c->cycles,
	    cause) != 0 ||
	    arc1_config_uint(host, p, "read_mode", 0, 3, &mode, cause) != 0 ||
	    arc1_config_uint(host, p, "session_mode", 0, 2, &smode,
	    cause) != 0 ||
	    arc1_config_uint(host, p, "sneak", 0, 1, &sneak, cause) != 0 ||
	    arc1_config_double(host, p, "vread", -ARC1_HARD_MAX_V,
	    ARC1_HARD_MAX_V, &c->vread, cause) != 0 ||
	    arc1_config_double(host, p, "rmin", 1, 1e9, &c->rmin,
	    cause) != 0 ||
	    arc1_config_double(host, p, "rmax", 1, 1e9, &c->rmax,
	    cause) != 0 ||
	    arc1_config_double(host, p, "max_v", 0.01, ARC1_HARD_MAX_V,
	    &c->max_v, cause) != 0 ||
	    arc1_config_uint(host, p, "max_width_us", 1,
	    ARC1_HARD_MAX_WIDTH_US, &c->max_width_us, cause) != 0 ||
	    arc1_config_uint(host, p, "min_width_us", 1,
	    ARC1_HARD_MAX_WIDTH_US, &c->min_width_us, cause) != 0 ||
	    arc1_config_uint(host, p, "max_count", 1, 10000, &c->max_count,
	    cause) != 0 ||
	    arc1_config_uint(host, p, "timeout_ms", 10, 60000, &c->timeout_ms,
	    cause) != 0 ||
	    arc1_config_uint(host, p, "init_timeout_ms", 10, 60000,
	    &c->init_timeout_ms, cause) != 0 ||
	    arc1_config_uint(host, p, "version_timeout_ms", 10, 60000,
	    &c->version_timeout_ms, cause) != 0 ||
	    arc1_config_uint(host, p, "reset_ms", 0, 10000, &c->reset_ms,
	    cause) != 0 ||
	    arc1_config_uint(host, p, "settle_ms", 0, 10000, &c->settle_ms,
	    cause) != 0 ||
	    arc1_config_uint(host, p, "pace_us", 0, 100000, &c->pace_us,
	    cause) != 0 ||
	    arc1_config_uint(host, p, "backoff_max_ms", 10, 600000,
	    &c->backoff_max_ms, cause) != 0)
		return -1;
	c->read_mode = (int)mode;
	c->session_mode = (int)smode;
	c->sneak = (int)sneak;
	if (!(c->rmax > c->rmin)) {
		sb_cause(cause, "arc1: rmax=%g must be above rmin=%g", c->rmax,
		    c->rmin);
		return -1;
	}
	if (c->min_width_us > c->max_width_us) {
		sb_cause(cause, "arc1: min_width_us=%u is above max_width_us="
		    "%u", c->min_width_us, c->max_width_us);
		return -1;
	}
	if ((s = host->arg(p, "ltp_polarity")) != NULL) {
		if (strcmp(s, "+") == 0 || strcmp(s, "positive") == 0)
			;
		else if (strcmp(s, "-") == 0 || strcmp(s, "negative") == 0) {
			c->ltp_v = -c->ltp_v;
			c->ltd_v = -c->ltd_v;
		} else {
			sb_cause(cause, "arc1: bad ltp_polarity=%s: + (positive "
			    "pulses potentiate, as in the published "
			    "experiment) or -", s);
			return -1;
		}
	}
	if ((s = host->arg(p, "weight")) != NULL) {
		if (strcmp(s, "r") == 0 || strcmp(s, "R") == 0)
			c->weight_from = SB_WEIGHT_FROM_R;
		else if (strcmp(s, "g") == 0 || strcmp(s, "G") == 0)
			c->weight_from = SB_WEIGHT_FROM_G;
		else {
			sb_cause(cause, "arc1: bad weight=%s: r (weight grows "
			    "with resistance, as the published experiment "
			    "computed it) or g", s);
			return -1;
		}
	}
	/* the paper's 4 V pulses must fit, or the defaults are refused */
	if (fabs(c->ltp_v) > c->max_v) {
		c->ltp_v = c->ltp_v > 0 ? c->max_v : -c->max_v;
		c->ltd_v = -c->ltp_v;
	}
	if (c->width_us > c->max_width_us)
		c->width_us = c->max_width_us;
	if (c->width_us < c->min_width_us)
		c->width_us = c->min_width_us;
	return 0;
}
