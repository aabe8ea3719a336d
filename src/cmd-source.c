/* cmd-source.c: source (run a script of commands) and wait. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

static enum cmd_retval cmd_source_exec(struct session *, struct args *,
    struct cmdq_item *);
static enum cmd_retval cmd_wait_exec(struct session *, struct args *,
    struct cmdq_item *);

const struct cmd_entry cmd_source_entry = {
	.name = "source",
	.template = "",
	.lower = 1,
	.upper = 1,
	.usage = "FILE",
	.help = "run the commands in FILE (stops at its first error)",
	.exec = cmd_source_exec,
};

const struct cmd_entry cmd_wait_entry = {
	.name = "wait",
	.template = "",
	.lower = 1,
	.upper = 1,
	.usage = "SECONDS",
	.help = "let SECONDS of session time pass before the next command",
	.exec = cmd_wait_exec,
};

/* Queue a file's commands right after this one. */
static enum cmd_retval
cmd_source_exec(struct session *s, struct args *a, struct cmdq_item *item)
{
	struct cmdq *q = cmdq_of(item);
	char *cause = NULL;
	const struct cmd_client *client = cmdq_item_client(item);

	if (cmdq_item_depth(item) >= CMDQ_MAX_DEPTH) {
		cmdq_item_error(item, "source: %s: files sourced %d deep (does "
		    "a file source itself?)", a->argv[0], CMDQ_MAX_DEPTH);
		return CMD_ERROR;
	}
	/* a strict script stops as a whole when its sourced file fails */
	if (cmdq_insert_file(q, item, a->argv[0], client,
	    cmdq_item_strict(item) ? cmdq_item_group(item) : cmdq_new_group(q),
	    1, &cause) != 0) {
		cmdq_item_error(item, "source: %s", cause);
		free(cause);
		return CMD_ERROR;
	}
	return CMD_NORMAL;
}

/* Hold the queue for some session time. */
static enum cmd_retval
cmd_wait_exec(struct session *s, struct args *a, struct cmdq_item *item)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(a->argv[0], &end);
	if (*end != '\0' || errno != 0 || !isfinite(v) || v < 0 ||
	    v > 86400 * 7) {
		cmdq_item_error(item, "wait: %s: expected seconds (0 to a "
		    "week)", a->argv[0]);
		return CMD_ERROR;
	}
	cmdq_item_wait_until(item, clock_now(&s->clock) + llround(v * 1e6));
	return CMD_WAIT;
}
