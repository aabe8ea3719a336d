/*
 * cmd-stop.c: stop and resume, the stop button. stop halts at once every
 * rule pulse, programming pulse and stimulation this process would give
 * (its sites), drops the pulses waiting at its devices, and holds back
 * synaptic input to its populations (which a culture's backend turns into
 * stimulation); reads go on. stop -a asks every other site to do the same
 * (its token needs the right to command them). resume undoes it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "engine.h"
#include "xmalloc.h"

static enum cmd_retval cmd_stop_exec(struct session *, struct args *,
    struct cmdq_item *);

const struct cmd_entry cmd_stop_entry = {
	.name = "stop",
	.template = "a",
	.lower = 0,
	.upper = 0,
	.usage = "[-a]",
	.help = "halt every rule, pulse and stimulation here at once (-a: at "
	    "every site); resume undoes it",
	.exec = cmd_stop_exec,
};

const struct cmd_entry cmd_resume_entry = {
	.name = "resume",
	.template = "a",
	.lower = 0,
	.upper = 0,
	.usage = "[-a]",
	.help = "undo stop (-a: at every site)",
	.exec = cmd_stop_exec,
};

/* Drop the pulses waiting at every local device; how many. */
static size_t
cmd_stop_cancel(struct session *s)
{
	size_t i, j, n = 0;

	for (i = 0; i < s->nsites; i++)
		for (j = 0; j < s->sites[i]->ndevsets; j++) {
			struct device_set *ds = s->sites[i]->devsets[j];

			if (ds->ops.cancel != NULL)
				n += ds->ops.cancel(ds->data);
		}
	return n;
}

/* stop or resume, here and with -a at every other site. */
static enum cmd_retval
cmd_stop_exec(struct session *s, struct args *a, struct cmdq_item *item)
{
	int stop = strcmp(cmdq_item_name(item), "stop") == 0;
	char *line;
	size_t i, dropped = 0;

	if (args_has(a, 'a'))
		for (i = s->nsites; i > 0; i--) {
			if (!s->sites[i - 1]->remote)
				continue;
			/* each answers for itself, after this one */
			xasprintf(&line, "at %s %s", s->sites[i - 1]->name,
			    stop ? "stop" : "resume");
			cmdq_insert_line(cmdq_of(item), item, line);
			free(line);
		}
	if (stop) {
		s->stopped = 1;
		dropped = cmd_stop_cancel(s);
		cmdq_item_reply(item, "STOPPED: rules, pulses and stimulation "
		    "halted here (%zu waiting pulses dropped); reads go on; "
		    "resume to go on", dropped);
	} else {
		s->stopped = 0;
		cmdq_item_reply(item, "resumed: rules, pulses and stimulation "
		    "go on (%llu synaptic inputs were held back while stopped)",
		    (unsigned long long)s->held_back);
		s->held_back = 0;
	}
	s->dirty = 1;
	return CMD_NORMAL;
}
