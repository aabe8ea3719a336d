/* cmd-stim.c: stimulate units. */
#include "config.h"

#include <stdlib.h>

#include "cmd.h"
#include "engine.h"

static enum cmd_retval cmd_stim_exec(struct session *, struct args *,
    struct cmdq_item *);

const struct cmd_entry cmd_stim_entry = {
	.name = "stim",
	.template = "a:i:w:",
	.lower = 1,
	.upper = -1,
	.usage = "UNIT... [-a VOLTS | -i MICROAMPS] [-w MICROSECONDS]",
	.help = "stimulate units (site/population:index), default 1 V 200 us; "
	    "-i for backends that stimulate with current",
	.exec = cmd_stim_exec,
};

/* Stimulate each unit through its backend. */
static enum cmd_retval
cmd_stim_exec(struct session *s, struct args *a, struct cmdq_item *item)
{
	struct unit_ref u;
	enum sb_stim_unit unit = SB_STIM_VOLTS;
	double amp = 1.0;
	unsigned long width = 200;
	char *cause = NULL;
	int i;

	if (args_has(a, 'a') && args_has(a, 'i')) {
		cmdq_item_error(item, "stim: give -a VOLTS or -i MICROAMPS, "
		    "not both");
		return CMD_ERROR;
	}
	if (args_has(a, 'i')) {
		unit = SB_STIM_MICROAMPS;
		if (args_double(a, 'i', -100000, 100000, &amp, item) < 0)
			return CMD_ERROR;
	}
	if (args_double(a, 'a', -100, 100, &amp, item) < 0 ||
	    args_uint(a, 'w', 1, 10000000, &width, item) < 0)
		return CMD_ERROR;
	for (i = 0; i < a->argc; i++) {
		if (session_parse_unit(s, a->argv[i], &u, &cause) != 0 ||
		    engine_stimulate(s, &u, amp, unit, (uint32_t)width,
		    &cause) != 0) {
			cmdq_item_error(item, "stim: %s", cause);
			free(cause);
			return CMD_ERROR;
		}
		cmdq_item_reply(item, "stimulated %s: %+.2f %s %lu us",
		    a->argv[i], amp, unit == SB_STIM_MICROAMPS ? "uA" : "V",
		    width);
	}
	return CMD_NORMAL;
}
