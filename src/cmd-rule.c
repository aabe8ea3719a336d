/* cmd-rule.c: set or show the plasticity rule of synapses. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "rule.h"
#include "synapse.h"

static enum cmd_retval cmd_rule_exec(struct session *, struct args *,
    struct cmdq_item *);

const struct cmd_entry cmd_rule_entry = {
	.name = "rule",
	.template = "",
	.lower = 1,
	.upper = -1,
	.usage = "SYNAPSE... [rate|stdp|off [KEY=VALUE ...]]",
	.help = "set (or show) the plasticity rule of synapses",
	.exec = cmd_rule_exec,
};

/* Is word a rule name? */
static int
cmd_rule_is_kind(const char *word)
{
	return strcmp(word, "rate") == 0 || strcmp(word, "stdp") == 0 ||
	    strcmp(word, "off") == 0;
}

/* Set or show rules. */
static enum cmd_retval
cmd_rule_exec(struct session *s, struct args *a, struct cmdq_item *item)
{
	uint32_t *ids = NULL;
	char *cause = NULL, *desc;
	struct rule r;
	int i, k, n;

	for (k = 0; k < a->argc; k++)
		if (cmd_rule_is_kind(a->argv[k]))
			break;
	if (k == 0) {
		cmdq_item_error(item, "rule: name synapses before the rule "
		    "(rule SYNAPSE... rate|stdp|off)");
		return CMD_ERROR;
	}
	n = synapse_select(s, k, a->argv, &ids, &cause);
	if (n < 0) {
		cmdq_item_error(item, "rule: %s", cause);
		free(cause);
		return CMD_ERROR;
	}
	for (i = 0; i < n; i++) {
		struct synapse *syn = s->synapses[ids[i]];

		if (syn->mirror) {
			cmdq_item_error(item, "rule: %s runs its rule at %s "
			    "(use 'at %s rule ...')", syn->name,
			    syn->site->name, syn->site->name);
			free(ids);
			return CMD_ERROR;
		}
		if (k < a->argc) {
			if (rule_defaults(&r, a->argv[k], &syn->limits,
			    &cause) != 0 || rule_parse_params(&r,
			    a->argc - k - 1, a->argv + k + 1, &cause) != 0 ||
			    rule_check_limits(&r, &syn->limits, &cause) != 0) {
				cmdq_item_error(item, "rule: %s: %s", syn->name,
				    cause);
				free(cause);
				free(ids);
				return CMD_ERROR;
			}
			syn->rule = r;
		}
		desc = rule_describe(&syn->rule);
		cmdq_item_reply(item, "%s: %s", syn->name, desc);
		free(desc);
	}
	free(ids);
	s->dirty = 1;
	return CMD_NORMAL;
}
