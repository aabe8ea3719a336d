/* cmd-synapse.c: synapse (define) and synapses (list with current G). */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "rule.h"
#include "synapse.h"

static enum cmd_retval cmd_synapse_exec(struct session *, struct args *,
    struct cmdq_item *);
static enum cmd_retval cmd_synapses_exec(struct session *, struct args *,
    struct cmdq_item *);

const struct cmd_entry cmd_synapse_entry = {
	.name = "synapse",
	.template = "r:",
	.lower = 4,
	.upper = -1,
	.usage = "NAME PRE POST DEVICESET:ADDRESS [-r RULE] [KEY=VALUE ...]",
	.help = "define a synapse: a device at this site linking PRE to POST",
	.exec = cmd_synapse_exec,
};

const struct cmd_entry cmd_synapses_entry = {
	.name = "synapses",
	.template = "m",
	.lower = 0,
	.upper = -1,
	.usage = "[-m] [SYNAPSE ...]",
	.help = "list synapses with their conductance, weight and rule (-m: "
	    "for programs: ID NAME PRE POST GMIN GMAX G WEIGHT_FROM, this "
	    "site's own)",
	.exec = cmd_synapses_exec,
};

/* Define a synapse. */
static enum cmd_retval
cmd_synapse_exec(struct session *s, struct args *a, struct cmdq_item *item)
{
	struct synapse *syn;
	struct rule r;
	const char *rule = args_get(a, 'r');
	struct sb_device_limits none = { 0 };
	char *cause = NULL, *desc;

	/* check the rule first: a refused command must define nothing */
	if ((rule != NULL || a->argc > 4) && (rule_defaults(&r, rule ? rule :
	    "off", &none, &cause) != 0 || rule_parse_params(&r, a->argc - 4,
	    a->argv + 4, &cause) != 0)) {
		cmdq_item_error(item, "synapse: %s", cause);
		free(cause);
		return CMD_ERROR;
	}
	syn = synapse_define(s, a->argv[0], a->argv[1], a->argv[2],
	    a->argv[3], &cause);
	if (syn == NULL) {
		cmdq_item_error(item, "synapse: %s", cause);
		free(cause);
		return CMD_ERROR;
	}
	if (rule != NULL || a->argc > 4) {
		if (rule_defaults(&r, rule ? rule : "off", &syn->limits,
		    &cause) != 0 || rule_parse_params(&r, a->argc - 4,
		    a->argv + 4, &cause) != 0 ||
		    rule_check_limits(&r, &syn->limits, &cause) != 0) {
			cmdq_item_error(item, "synapse: %s defined with no rule: "
			    "%s", syn->name, cause);
			free(cause);
			return CMD_ERROR;
		}
		syn->rule = r;
	}
	desc = rule_describe(&syn->rule);
	cmdq_item_reply(item, "%s: %s -> %s on %s, G %.3f uS, rule %s",
	    syn->name, syn->pre_name, syn->post_name, syn->device_spec,
	    syn->g_us, desc);
	free(desc);
	return CMD_NORMAL;
}

/*
 * " spike p50 X p99 Y ms, command p50 X p99 Y ms (+Z beyond the device)":
 * the loop's latency measured here over the last 10-20 s, or nothing.
 */
static void
cmd_synapses_latency(const struct synapse *syn, char *buf, size_t len)
{
	struct latency_stat sp, cm, ov;
	int64_t now = clock_mono_us();
	size_t used = 0;

	buf[0] = '\0';
	if (latency_recent(syn->lat_spike, now, &sp) == 0)
		used += (size_t)snprintf(buf, len, " spike p50 %.2f p99 %.2f "
		    "ms", sp.p50_ms, sp.p99_ms);
	if (used < len && latency_recent(syn->lat_command, now, &cm) == 0 &&
	    latency_recent(syn->lat_overhead, now, &ov) == 0)
		snprintf(buf + used, len - used, "%s command p50 %.2f p99 %.2f "
		    "ms (p99 %.2f beyond the device)", used > 0 ? "," : "",
		    cm.p50_ms, cm.p99_ms, ov.p99_ms);
}

/* List synapses. */
static enum cmd_retval
cmd_synapses_exec(struct session *s, struct args *a, struct cmdq_item *item)
{
	uint32_t *ids = NULL;
	char *cause = NULL, *desc, state[160], gw[80], lat[160];
	int i, n, off;

	if (s->nsynapses == 0) {
		cmdq_item_reply(item, "no synapses defined");
		return CMD_NORMAL;
	}
	if (a->argc > 0) {
		n = synapse_select(s, a->argc, a->argv, &ids, &cause);
		if (n < 0) {
			cmdq_item_error(item, "synapses: %s", cause);
			free(cause);
			return CMD_ERROR;
		}
	} else
		n = (int)s->nsynapses;
	for (i = 0; i < n; i++) {
		struct synapse *syn = s->synapses[ids ? ids[i] : (uint32_t)i];

		if (args_has(a, 'm')) {
			/* what other sites' consoles read to mirror ours */
			if (!syn->mirror)
				cmdq_item_reply(item, "%u %s %s %s %.4f %.4f "
				    "%.4f %s", syn->id, syn->name,
				    syn->pre_name, syn->post_name,
				    syn->limits.g_min_us, syn->limits.g_max_us,
				    syn->g_us, syn->limits.weight_from ==
				    SB_WEIGHT_FROM_R ? "r" : "g");
			continue;
		}
		cmd_synapses_latency(syn, lat, sizeof lat);
		if (syn->mirror) {
			cmdq_item_reply(item, "%s %s -> %s at %s G %.3f uS "
			    "weight %u (a synapse of %s)%s", syn->name,
			    syn->pre_name, syn->post_name, syn->site->name,
			    syn->g_us, synapse_weight(syn, syn->g_us),
			    syn->site->name, lat);
			continue;
		}
		desc = rule_describe(&syn->rule);
		off = synapse_offline(syn, state, sizeof state) != 0;
		if (isfinite(syn->g_us))
			snprintf(gw, sizeof gw, "G %.3f uS weight %u",
			    syn->g_us, synapse_weight(syn, syn->g_us));
		else
			snprintf(gw, sizeof gw, "G unknown (not read yet%s)",
			    syn->unknown_g > 0 ? ", pre spikes held back" :
			    "");
		cmdq_item_reply(item, "%s %s -> %s %s %s rule %s last %s%s%s%s"
		    "%s%s", syn->name, syn->pre_name, syn->post_name,
		    syn->device_spec, gw, desc, syn->last_decision,
		    syn->in_flight ? " (pulse in flight)" : "",
		    off ? " [" : "", off ? state : "", off ? "]" : "", lat);
		free(desc);
	}
	free(ids);
	return CMD_NORMAL;
}
