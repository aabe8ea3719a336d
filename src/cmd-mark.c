/* cmd-mark.c: put a mark (free text) in the session's logs. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "xmalloc.h"

static enum cmd_retval cmd_mark_exec(struct session *, struct args *,
    struct cmdq_item *);

const struct cmd_entry cmd_mark_entry = {
	.name = "mark",
	.template = "",
	.lower = 1,
	.upper = -1,
	.usage = "TEXT...",
	.help = "write a mark with TEXT into the logs (commands.csv)",
	.exec = cmd_mark_exec,
};

/* Join the words into the mark's text (the audit row carries it). */
static enum cmd_retval
cmd_mark_exec(struct session *s, struct args *a, struct cmdq_item *item)
{
	size_t len = 1;
	char *text;
	int i;

	for (i = 0; i < a->argc; i++)
		len += strlen(a->argv[i]) + 1;
	text = xmalloc(len);
	*text = '\0';
	for (i = 0; i < a->argc; i++) {
		if (i > 0)
			strcat(text, " ");
		strcat(text, a->argv[i]);
	}
	s->marks = xreallocarray(s->marks, s->nmarks + 1, sizeof *s->marks);
	s->marks[s->nmarks++] = text;
	cmdq_item_reply(item, "%s", text);
	s->dirty = 1;
	return CMD_NORMAL;
}
