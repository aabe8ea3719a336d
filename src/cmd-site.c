/* cmd-site.c: site (create or switch) and sites (list). */
#include "config.h"

#include <stdlib.h>

#include "cmd.h"
#include "ring.h"

static enum cmd_retval cmd_site_exec(struct session *, struct args *,
    struct cmdq_item *);
static enum cmd_retval cmd_sites_exec(struct session *, struct args *,
    struct cmdq_item *);

const struct cmd_entry cmd_site_entry = {
	.name = "site",
	.template = "",
	.lower = 0,
	.upper = 1,
	.usage = "[NAME]",
	.help = "make NAME the current site (created if new), or show it",
	.exec = cmd_site_exec,
};

const struct cmd_entry cmd_sites_entry = {
	.name = "sites",
	.template = "",
	.lower = 0,
	.upper = 0,
	.usage = "",
	.help = "list the sites of this session with their populations",
	.exec = cmd_sites_exec,
};

/* Switch to (or create) a site. */
static enum cmd_retval
cmd_site_exec(struct session *s, struct args *a, struct cmdq_item *item)
{
	struct site *site;
	char *cause = NULL;

	if (a->argc == 0) {
		if (s->current == NULL) {
			cmdq_item_error(item, "site: no site yet (site NAME "
			    "creates one)");
			return CMD_ERROR;
		}
		cmdq_item_reply(item, "%s", s->current->name);
		return CMD_NORMAL;
	}
	site = site_find(s, a->argv[0]);
	if (site == NULL) {
		site = site_create(s, a->argv[0], &cause);
		if (site == NULL) {
			cmdq_item_error(item, "site: %s", cause);
			free(cause);
			return CMD_ERROR;
		}
	}
	s->current = site;
	s->dirty = 1;
	return CMD_NORMAL;
}

/* List sites. */
static enum cmd_retval
cmd_sites_exec(struct session *s, struct args *a, struct cmdq_item *item)
{
	size_t i, j;

	if (s->nsites == 0) {
		cmdq_item_reply(item, "no sites");
		return CMD_NORMAL;
	}
	for (i = 0; i < s->nsites; i++) {
		struct site *site = s->sites[i];

		cmdq_item_reply(item, "%s%s: %zu plugin%s", site->name,
		    site == s->current ? " (current)" : "", site->nplugins,
		    site->nplugins == 1 ? "" : "s");
		for (j = 0; j < site->npops; j++) {
			struct population *pop = site->pops[j];

			if (pop == NULL)
				continue;
			cmdq_item_reply(item, "  population %s/%s: %u units, "
			    "%llu spikes", site->name, pop->name,
			    pop->ops.units, (unsigned long long)pop->spikes);
		}
		for (j = 0; j < site->ndevsets; j++)
			cmdq_item_reply(item, "  devices %s/%s: %u",
			    site->name, site->devsets[j]->name,
			    site->devsets[j]->ops.devices);
	}
	return CMD_NORMAL;
}
