/* cmd-stim.c: stimulate units. */
#include "config.h"

#include <stdlib.h>

#include "cmd.h"
#include "engine.h"

static enum cmd_retval cmd_stim_exec(struct session *, struct args *,
    struct cmdq_item *);

const struct cmd_entry cmd_stim_entry = {
	.name = "stim",
	.template = "a:w:",
	.lower = 1,
	.upper = -1,
	.usage = "UNIT... [-a VOLTS] [-w MICROSECONDS]",
	.help = "stimulate units (site/population:index), default 1 V 200 us",
	.exec = cmd_stim_exec,
};

/* Stimulate each unit through its backend. */
static enum cmd_retval
cmd_stim_exec(struct session *s, struct args *a, struct cmdq_item *item)
{
	struct unit_ref u;
	double amp = 1.0;
	unsigned long width = 200;
	char *cause = NULL;
	int i;

	if (args_double(a, 'a', -100, 100, &amp, item) < 0 ||
	    args_uint(a, 'w', 1, 10000000, &width, item) < 0)
		return CMD_ERROR;
	for (i = 0; i < a->argc; i++) {
		if (session_parse_unit(s, a->argv[i], &u, &cause) != 0 ||
		    engine_stimulate(s, &u, amp, (uint32_t)width,
		    &cause) != 0) {
			cmdq_item_error(item, "stim: %s", cause);
			free(cause);
			return CMD_ERROR;
		}
		cmdq_item_reply(item, "stimulated %s: %+.2f V %lu us",
		    a->argv[i], amp, width);
	}
	return CMD_NORMAL;
}
