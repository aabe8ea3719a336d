/* cmd-help.c: help and help CMD, generated from the command table. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static enum cmd_retval cmd_help_exec(struct session *, struct args *,
    struct cmdq_item *);

const struct cmd_entry cmd_help_entry = {
	.name = "help",
	.alias = "?",
	.template = "",
	.lower = 0,
	.upper = 1,
	.usage = "[COMMAND]",
	.help = "list commands, or show how to use one",
	.exec = cmd_help_exec,
};

/* List every command, or one in detail. */
static enum cmd_retval
cmd_help_exec(struct session *s, struct args *a, struct cmdq_item *item)
{
	const struct cmd_entry *const *e, *one;
	char *cause = NULL;
	size_t i, j;

	if (a->argc == 1) {
		one = cmd_find(a->argv[0], &cause);
		if (one == NULL) {
			cmdq_item_error(item, "%s", cause);
			free(cause);
			return CMD_ERROR;
		}
		cmdq_item_reply(item, "usage: %s %s", one->name, one->usage);
		cmdq_item_reply(item, "  %s", one->help);
		if (one->alias != NULL)
			cmdq_item_reply(item, "  alias: %s", one->alias);
		return CMD_NORMAL;
	}
	for (e = cmd_table; *e != NULL; e++)
		cmdq_item_reply(item, "%-11s %s", (*e)->name, (*e)->help);
	for (i = 0; i < s->nsites; i++)
		for (j = 0; j < s->sites[i]->ncommands; j++) {
			const struct sb_command *c = &s->sites[i]->commands[j]->ops;

			cmdq_item_reply(item, "%-11s %s (%s)", c->name,
			    c->help ? c->help : "",
			    s->sites[i]->commands[j]->owner->name);
		}
	return CMD_NORMAL;
}
