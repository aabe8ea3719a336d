/* cmd-plugin.c: load, unload and plugins. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "engine.h"
#include "plugin.h"

static enum cmd_retval cmd_load_exec(struct session *, struct args *,
    struct cmdq_item *);
static enum cmd_retval cmd_unload_exec(struct session *, struct args *,
    struct cmdq_item *);
static enum cmd_retval cmd_plugins_exec(struct session *, struct args *,
    struct cmdq_item *);

const struct cmd_entry cmd_load_entry = {
	.name = "load",
	.template = "",
	.lower = 1,
	.upper = -1,
	.usage = "PLUGIN [KEY=VALUE ...]",
	.help = "load a plugin at the current site with its arguments",
	.exec = cmd_load_exec,
};

const struct cmd_entry cmd_unload_entry = {
	.name = "unload",
	.template = "",
	.lower = 1,
	.upper = 1,
	.usage = "PLUGIN",
	.help = "unload a plugin from the current site",
	.exec = cmd_unload_exec,
};

const struct cmd_entry cmd_plugins_entry = {
	.name = "plugins",
	.template = "",
	.lower = 0,
	.upper = 0,
	.usage = "",
	.help = "list loaded plugins and what they provide",
	.exec = cmd_plugins_exec,
};

/* Load a plugin. */
static enum cmd_retval
cmd_load_exec(struct session *s, struct args *a, struct cmdq_item *item)
{
	struct sb_plugin *p;
	char *cause = NULL;

	if (s->current == NULL) {
		cmdq_item_error(item, "load: no site (create one with 'site "
		    "NAME' first)");
		return CMD_ERROR;
	}
	/* what the plugin queues while loading runs right after this load */
	s->load_item = s->load_after = item;
	p = plugin_load(s->current, a->argv[0], a->argc - 1, a->argv + 1,
	    &cause);
	if (p == NULL)	/* what its init queued goes with it */
		cmdq_remove_after(cmdq_of(item), item, s->load_after);
	s->load_item = s->load_after = NULL;
	if (p == NULL) {
		cmdq_item_error(item, "load: %s", cause);
		free(cause);
		return CMD_ERROR;
	}
	cmdq_item_reply(item, "loaded %s at %s (%s)", p->name,
	    s->current->name, p->path);
	s->dirty = 1;
	if (s->clock_wait == NULL && engine_clock_pending(s)) {
		/*
		 * A relay link whose clock is not known yet: what comes next
		 * (backends above all) waits for it, so that nothing runs,
		 * is stamped or takes its origin on a clock known to be
		 * wrong. The engine releases the hold.
		 */
		session_log(s, SB_LOG_WARNING, "%s: no clock from the relay "
		    "yet: the session is held until it answers (nothing "
		    "runs on a clock known to be wrong)", p->name);
		cmdq_item_hold(item);
		s->clock_wait = item;
		return CMD_WAIT;
	}
	return CMD_NORMAL;
}

/* Unload a plugin. */
static enum cmd_retval
cmd_unload_exec(struct session *s, struct args *a, struct cmdq_item *item)
{
	struct sb_plugin *p;
	char *cause = NULL;
	int lost;

	if (s->current == NULL ||
	    (p = plugin_find(s->current, a->argv[0])) == NULL) {
		cmdq_item_error(item, "unload: no plugin '%s' at %s",
		    a->argv[0], s->current ? s->current->name : "any site");
		return CMD_ERROR;
	}
	/* a relay's queue goes out first (bounded), or is a gap */
	lost = engine_flush_links(s, p, ENGINE_QUIT_FLUSH_US, "unload") != 0;
	s->quit = 0;	/* a Ctrl-C gave up the wait, not the console */
	if (plugin_unload(p, &cause) != 0) {
		cmdq_item_error(item, "unload: %s", cause);
		free(cause);
		return CMD_ERROR;
	}
	if (lost) {
		cmdq_item_error(item, "unloaded %s; events it had queued were "
		    "not delivered (a gap, see the log)", a->argv[0]);
		s->dirty = 1;
		return CMD_ERROR;
	}
	cmdq_item_reply(item, "unloaded %s", a->argv[0]);
	s->dirty = 1;
	return CMD_NORMAL;
}

/* List plugins. */
static enum cmd_retval
cmd_plugins_exec(struct session *s, struct args *a, struct cmdq_item *item)
{
	size_t i, j, k, n = 0;

	for (i = 0; i < s->nsites; i++) {
		struct site *site = s->sites[i];

		for (j = 0; j < site->nplugins; j++) {
			struct sb_plugin *p = site->plugins[j];
			char caps[256] = "";

			for (k = 0; k < site->npops; k++)
				if (site->pops[k] && site->pops[k]->owner == p)
					snprintf(caps + strlen(caps),
					    sizeof caps - strlen(caps),
					    " neurons:%s", site->pops[k]->name);
			for (k = 0; k < site->ndevsets; k++)
				if (site->devsets[k]->owner == p)
					snprintf(caps + strlen(caps),
					    sizeof caps - strlen(caps),
					    " synapses:%s",
					    site->devsets[k]->name);
			for (k = 0; k < site->ntransports; k++)
				if (site->transports[k]->owner == p)
					snprintf(caps + strlen(caps),
					    sizeof caps - strlen(caps),
					    " transport:%s",
					    site->transports[k]->ops.name);
			for (k = 0; k < site->ncommands; k++)
				if (site->commands[k]->owner == p)
					snprintf(caps + strlen(caps),
					    sizeof caps - strlen(caps),
					    " command:%s",
					    site->commands[k]->ops.name);
			cmdq_item_reply(item, "%s/%s:%s (%s)", site->name,
			    p->name, caps, p->path);
			n++;
		}
	}
	if (n == 0)
		cmdq_item_reply(item, "no plugins loaded");
	return CMD_NORMAL;
}
