/* cmd-quit.c: quit the console (recordings are flushed and closed). */
#include "config.h"

#include "cmd.h"

static enum cmd_retval cmd_quit_exec(struct session *, struct args *,
    struct cmdq_item *);

const struct cmd_entry cmd_quit_entry = {
	.name = "quit",
	.alias = "exit",
	.template = "",
	.lower = 0,
	.upper = 0,
	.usage = "",
	.help = "stop the session (recordings are flushed and closed)",
	.exec = cmd_quit_exec,
};

/* Ask the main loop to stop. */
static enum cmd_retval
cmd_quit_exec(struct session *s, struct args *a, struct cmdq_item *item)
{
	s->quit = 1;
	return CMD_NORMAL;
}
