/*
 * cmd-ifenv.c: ifenv, run a command only when an environment variable is
 * set, so one session file serves a site with and without a relay (or an
 * instrument): "ifenv SYNBRIDGE_RELAY load relay url=${SYNBRIDGE_RELAY}".
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "xmalloc.h"

static enum cmd_retval cmd_ifenv_exec(struct session *, struct args *,
    struct cmdq_item *);

const struct cmd_entry cmd_ifenv_entry = {
	.name = "ifenv",
	.template = "+",
	.lower = 2,
	.upper = -1,
	.usage = "NAME COMMAND [ARGUMENT ...]",
	.help = "run COMMAND only if the environment variable NAME is set and "
	    "not empty",
	.exec = cmd_ifenv_exec,
};

/* Queue the command right after this one, or say why it is skipped. */
static enum cmd_retval
cmd_ifenv_exec(struct session *s, struct args *a, struct cmdq_item *item)
{
	const char *value = getenv(a->argv[0]);
	char *line = xstrdup(""), *next, *q;
	int i;

	(void)s;
	if (value == NULL || *value == '\0') {
		cmdq_item_reply(item, "ifenv: %s is not set: skipped %s",
		    a->argv[0], a->argv[1]);
		free(line);
		return CMD_NORMAL;
	}
	for (i = 1; i < a->argc; i++) {
		q = cmd_quote_word(a->argv[i]);
		xasprintf(&next, "%s%s%s", line, i > 1 ? " " : "", q);
		free(q);
		free(line);
		line = next;
	}
	cmdq_insert_line(cmdq_of(item), item, line);
	free(line);
	return CMD_NORMAL;
}
