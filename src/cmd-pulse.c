/* cmd-pulse.c: potentiate, depress and read synapses. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "remote.h"
#include "synapse.h"
#include "xmalloc.h"

static enum cmd_retval cmd_pulse_exec(struct session *, struct args *,
    struct cmdq_item *);

const struct cmd_entry cmd_potentiate_entry = {
	.name = "potentiate",
	.alias = "ltp",
	.template = "n:a:w:",
	.lower = 1,
	.upper = -1,
	.usage = "SYNAPSE... [-n COUNT] [-a VOLTS] [-w MICROSECONDS]",
	.help = "apply potentiation pulses (defaults from the device)",
	.exec = cmd_pulse_exec,
};

const struct cmd_entry cmd_depress_entry = {
	.name = "depress",
	.alias = "ltd",
	.template = "n:a:w:",
	.lower = 1,
	.upper = -1,
	.usage = "SYNAPSE... [-n COUNT] [-a VOLTS] [-w MICROSECONDS]",
	.help = "apply depression pulses (defaults from the device)",
	.exec = cmd_pulse_exec,
};

const struct cmd_entry cmd_read_entry = {
	.name = "read",
	.template = "",
	.lower = 1,
	.upper = -1,
	.usage = "SYNAPSE...",
	.help = "read the conductance of synapses from their devices",
	.exec = cmd_pulse_exec,
};

/*
 * Synapses of another site: the command goes to the site that owns the
 * devices (as 'at SITE ...' would send it) and its result comes back.
 */
static enum cmd_retval
cmd_pulse_forward(struct session *s, struct args *a, struct cmdq_item *item,
    const char *name, const uint32_t *ids, int n)
{
	static const char flags[] = "naw";
	struct site *owner = s->synapses[ids[0]]->site;
	char *line, *next, *cause = NULL;
	const char *v, *remote;
	size_t plen = strlen(owner->name);
	int i;

	line = xstrdup(name);
	for (i = 0; i < n; i++) {
		struct synapse *syn = s->synapses[ids[i]];

		if (!syn->mirror || syn->site != owner) {
			cmdq_item_error(item, "%s: %s and %s are at different "
			    "sites (one command per site)", name,
			    s->synapses[ids[0]]->name, syn->name);
			free(line);
			return CMD_ERROR;
		}
		remote = syn->name;
		if (strncmp(remote, owner->name, plen) == 0 &&
		    remote[plen] == ':')
			remote += plen + 1;
		xasprintf(&next, "%s %s", line, remote);
		free(line);
		line = next;
	}
	for (i = 0; flags[i] != '\0'; i++) {
		if ((v = args_get(a, flags[i])) == NULL)
			continue;
		xasprintf(&next, "%s -%c %s", line, flags[i], v);
		free(line);
		line = next;
	}
	if (remote_send(s, owner->name, line, item, &cause) != 0) {
		cmdq_item_error(item, "%s: %s", name, cause);
		free(cause);
		free(line);
		return CMD_ERROR;
	}
	free(line);
	return CMD_WAIT;
}

/* Queue pulses (or reads) on every selected synapse; wait for them. */
static enum cmd_retval
cmd_pulse_exec(struct session *s, struct args *a, struct cmdq_item *item)
{
	const char *name = cmdq_item_name(item);
	int potentiate = strcmp(name, "potentiate") == 0;
	int reading = strcmp(name, "read") == 0;
	enum cond_event ev = reading ? COND_READ :
	    potentiate ? COND_POTENTIATE : COND_DEPRESS;
	unsigned long count = 1, width;
	uint32_t *ids = NULL;
	char *cause = NULL;
	double amp, sign;
	int i, n, rc = 0, got;

	n = synapse_select(s, a->argc, a->argv, &ids, &cause);
	if (n < 0) {
		cmdq_item_error(item, "%s: %s", name, cause);
		free(cause);
		return CMD_ERROR;
	}
	if (args_uint(a, 'n', 1, 1000000, &count, item) < 0)
		goto fail;
	if (s->synapses[ids[0]]->mirror) {
		enum cmd_retval rv = cmd_pulse_forward(s, a, item, name, ids, n);

		free(ids);
		return rv;
	}
	for (i = 0; i < n; i++) {
		struct synapse *syn = s->synapses[ids[i]];
		const struct sb_device_limits *l = &syn->limits;

		/* the device's defaults: their signs say what potentiates */
		amp = potentiate ? l->ltp_v : l->ltd_v;
		width = l->width_us;
		got = args_double(a, 'a', -1000, 1000, &amp, item);
		if (got < 0 ||
		    args_uint(a, 'w', 1, 100000000, &width, item) < 0)
			goto fail;
		/* -a is a magnitude: the polarity stays the device's */
		if (got > 0 && !reading) {
			sign = potentiate ? l->ltp_v : l->ltd_v;
			if (sign == 0)
				sign = potentiate ? 1 : -1;
			amp = copysign(fabs(amp), sign);
		}
		if (synapse_operate(s, syn, ev, amp, (uint32_t)width,
		    (uint32_t)count, item, &cause) != 0) {
			cmdq_item_error(item, "%s: %s", name, cause);
			free(cause);
			cause = NULL;
			rc = -1;
			break;
		}
	}
	free(ids);
	return rc == 0 ? CMD_WAIT : CMD_ERROR;
fail:
	free(ids);
	return CMD_ERROR;
}
