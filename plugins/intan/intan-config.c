/*
 * intan-config.c: the load line of the Intan RHX plugin.
 *
 * load intan [name=intan] [host=127.0.0.1] [command_port=5000]
 *     [spike_port=5002] [channels=A-000..A-031] [blocks_per_write=1]
 *     [stim_key=F1] [artifacts=drop|keep] [syn_stim_ua=20]
 *     [stim_phase_us=200] [polarity=negative|positive] [timeout_ms=1000]
 *     [wait_ms=3000] [backoff_max_ms=5000] [evoked_ms=20]
 *     [status_ms=1000] [retry_ms=2000]
 *
 * Ports are RHX's defaults. One block per write is the lowest latency RHX
 * offers (4.3 ms at 30 kHz; its own default of 10 is 42.7 ms). Synaptic
 * stimulation defaults to 20 uA at weight 255 in 200 us phases (the
 * console's `stim` width), rounded to the controller's step.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "intan.h"
#include "sb-args.h"

/* A port argument, or its default. */
static int
intan_config_port(const struct sb_host_api *host, struct sb_plugin *p,
    const char *key, uint16_t *out, char **cause)
{
	uint32_t v = *out;

	if (sb_args_get_uint32(host, p, "intan", key, 1, 65535, &v,
	    cause) != 0)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/* Defaults (see the top of this file). */
static void
intan_config_default(struct intan_config *c)
{
	memset(c, 0, sizeof *c);
	snprintf(c->host, sizeof c->host, "127.0.0.1");
	c->command_port = 5000;
	c->spike_port = 5002;
	c->blocks_per_write = 1;
	c->stim_key = 1;
	c->keep_artifacts = 0;
	c->syn_stim_ua = 20;
	c->stim_phase_us = 200;
	c->negative_first = 1;
	c->timeout_ms = 1000;
	c->wait_ms = 3000;
	c->backoff_max_ms = 5000;
	c->evoked_ms = 20;
	c->status_ms = 1000;
	c->retry_ms = 2000;
}

/* Parse the load line into c and ch (ch freed by the caller). */
int
intan_config_parse(struct intan_config *c, struct intan_channels *ch,
    const struct sb_host_api *host, struct sb_plugin *p, char **cause)
{
	const char *s;
	double v;

	intan_config_default(c);
	memset(ch, 0, sizeof *ch);
	if ((s = host->arg(p, "host")) != NULL) {
		if (*s == '\0' || strlen(s) >= sizeof c->host) {
			sb_cause(cause, "intan: bad host=%s: give the name or "
			    "address of the machine running RHX", s);
			return -1;
		}
		snprintf(c->host, sizeof c->host, "%s", s);
	}
	if (intan_config_port(host, p, "command_port", &c->command_port,
	    cause) != 0 ||
	    intan_config_port(host, p, "spike_port", &c->spike_port,
	    cause) != 0 ||
	    sb_args_get_uint32(host, p, "intan", "blocks_per_write", 1, 100,
	    &c->blocks_per_write, cause) != 0 ||
	    sb_args_get_uint32(host, p, "intan", "stim_phase_us", 1,
	    INTAN_MAX_PHASE_US, &c->stim_phase_us, cause) != 0 ||
	    sb_args_get_uint32(host, p, "intan", "timeout_ms", 50, 60000,
	    &c->timeout_ms, cause) != 0 ||
	    sb_args_get_uint32(host, p, "intan", "wait_ms", 0, 60000,
	    &c->wait_ms, cause) != 0 ||
	    sb_args_get_uint32(host, p, "intan", "backoff_max_ms", 10, 600000,
	    &c->backoff_max_ms, cause) != 0 ||
	    sb_args_get_uint32(host, p, "intan", "evoked_ms", 0, 10000,
	    &c->evoked_ms, cause) != 0 ||
	    sb_args_get_uint32(host, p, "intan", "status_ms", 100, 60000,
	    &c->status_ms, cause) != 0 ||
	    sb_args_get_uint32(host, p, "intan", "retry_ms", 100, 600000,
	    &c->retry_ms, cause) != 0)
		return -1;
	if (c->command_port == c->spike_port) {
		sb_cause(cause, "intan: command_port= and spike_port= are both "
		    "%u: RHX serves them on different ports (5000 and 5002)",
		    c->command_port);
		return -1;
	}
	if ((s = host->arg(p, "stim_key")) != NULL) {
		if ((s[0] != 'F' && s[0] != 'f') || s[1] < '1' || s[1] > '8' ||
		    s[2] != '\0') {
			sb_cause(cause, "intan: bad stim_key=%s: F1 to F8, the "
			    "RHX keys a channel's Source can be "
			    "(KeyPressF1..8)", s);
			return -1;
		}
		c->stim_key = (unsigned)(s[1] - '0');
	}
	if ((s = host->arg(p, "artifacts")) != NULL) {
		if (strcmp(s, "drop") == 0)
			c->keep_artifacts = 0;
		else if (strcmp(s, "keep") == 0)
			c->keep_artifacts = 1;
		else {
			sb_cause(cause, "intan: bad artifacts=%s: drop "
			    "(records RHX flags as likely artifacts are "
			    "counted and left out) or keep", s);
			return -1;
		}
	}
	if ((s = host->arg(p, "polarity")) != NULL) {
		if (strcasecmp(s, "negative") == 0 ||
		    strcasecmp(s, "cathodic") == 0)
			c->negative_first = 1;
		else if (strcasecmp(s, "positive") == 0 ||
		    strcasecmp(s, "anodic") == 0)
			c->negative_first = 0;
		else {
			sb_cause(cause, "intan: bad polarity=%s: negative (the "
			    "negative phase first, for positive amplitudes) "
			    "or positive", s);
			return -1;
		}
	}
	if ((s = host->arg(p, "syn_stim_ua")) != NULL) {
		if (sb_args_number(s, &v) != 0 || v < 0 ||
		    v > INTAN_MAX_STEPS * 10.0) {
			sb_cause(cause, "intan: bad syn_stim_ua=%s: microamps "
			    "at weight 255, 0 (no synaptic stimulation) to %g "
			    "(255 steps of 10 uA, RHS's largest step)", s,
			    INTAN_MAX_STEPS * 10.0);
			return -1;
		}
		c->syn_stim_ua = v;
	}
	s = host->arg(p, "channels");
	return intan_channels_parse(ch, s != NULL ? s : "A-000..A-031", cause);
}
