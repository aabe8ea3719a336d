/* cmd-remote.c: at (run a command at another site) and remote (declare). */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "engine.h"
#include "remote.h"
#include "xmalloc.h"

static enum cmd_retval cmd_at_exec(struct session *, struct args *,
    struct cmdq_item *);
static enum cmd_retval cmd_remote_exec(struct session *, struct args *,
    struct cmdq_item *);

const struct cmd_entry cmd_at_entry = {
	.name = "at",
	.template = "+t:",
	.lower = 2,
	.upper = -1,
	.usage = "[-t SECONDS] SITE COMMAND [ARGUMENT ...]",
	.help = "run a command at another site (through the relay) and wait; "
	    "not run there if it arrives later than -t (default 5 s)",
	.exec = cmd_at_exec,
};

const struct cmd_entry cmd_remote_entry = {
	.name = "remote",
	.template = "",
	.lower = 2,
	.upper = 2,
	.usage = "SITE/POPULATION UNITS",
	.help = "declare a population another site publishes through the relay",
	.exec = cmd_remote_exec,
};

/* Quote one word so cmd_split() splits it back the same. */
char *
cmd_quote_word(const char *word)
{
	size_t len = strlen(word), i, j = 0;
	char *out = xmalloc(len * 2 + 3);

	if (len > 0 && strcspn(word, " \t\r\n'\"\\#") == len) {
		memcpy(out, word, len + 1);
		return out;
	}
	out[j++] = '"';
	for (i = 0; i < len; i++) {
		if (word[i] == '"' || word[i] == '\\')
			out[j++] = '\\';
		if (word[i] == '\n') {
			out[j++] = '\\';
			out[j++] = 'n';
			continue;
		}
		out[j++] = word[i];
	}
	out[j++] = '"';
	out[j] = '\0';
	return out;
}

/* Forward the command to its site; wait for the result. */
static enum cmd_retval
cmd_at_exec(struct session *s, struct args *a, struct cmdq_item *item)
{
	struct site *site = site_find(s, a->argv[0]);
	char *line = xstrdup(""), *next, *q, *cause = NULL;
	double lifetime = s->remote_lifetime_us / 1e6;
	int64_t saved;
	int i, rc;

	for (i = 1; i < a->argc; i++) {
		q = cmd_quote_word(a->argv[i]);
		xasprintf(&next, "%s%s%s", line, i > 1 ? " " : "", q);
		free(q);
		free(line);
		line = next;
	}
	if (site != NULL && !site->remote &&
	    engine_site_transport(site) == NULL) {
		/* hosted here without a relay: run it here, at that site */
		char *orig = xstrdup(s->current ? s->current->name : "");

		xasprintf(&next, "site %s", orig);
		if (*orig != '\0')
			cmdq_insert_line(cmdq_of(item), item, next);
		free(next);
		cmdq_insert_line(cmdq_of(item), item, line);
		s->current = site;
		free(orig);
		free(line);
		return CMD_NORMAL;
	}
	if (args_double(a, 't', 0.1, 3600, &lifetime, item) < 0) {
		free(line);
		return CMD_ERROR;
	}
	saved = s->remote_lifetime_us;
	s->remote_lifetime_us = llround(lifetime * 1e6);
	rc = remote_send(s, a->argv[0], line, item, &cause);
	s->remote_lifetime_us = saved;
	if (rc != 0) {
		cmdq_item_error(item, "at: %s", cause);
		free(cause);
		free(line);
		return CMD_ERROR;
	}
	free(line);
	return CMD_WAIT;
}

/* Declare a remote population so synapses can name its units. */
static enum cmd_retval
cmd_remote_exec(struct session *s, struct args *a, struct cmdq_item *item)
{
	const char *slash = strchr(a->argv[0], '/');
	struct population *pop;
	struct site *site;
	unsigned long units;
	char *name, *end, *cause = NULL;

	errno = 0;
	units = strtoul(a->argv[1], &end, 10);
	if (*a->argv[1] == '\0' || *end != '\0' || errno != 0 || units == 0 ||
	    units > 16777216) {
		cmdq_item_error(item, "remote: %s: expected a unit count from 1 "
		    "to 16777216", a->argv[1]);
		return CMD_ERROR;
	}
	if (slash == NULL || slash == a->argv[0] || slash[1] == '\0') {
		cmdq_item_error(item, "remote: write SITE/POPULATION (e.g. "
		    "padova/mea)");
		return CMD_ERROR;
	}
	name = xstrndup(a->argv[0], (size_t)(slash - a->argv[0]));
	site = site_find(s, name);
	if (site == NULL) {
		site = site_create(s, name, &cause);
		if (site == NULL) {
			cmdq_item_error(item, "remote: %s", cause);
			free(cause);
			free(name);
			return CMD_ERROR;
		}
		site->remote = 1;
	}
	free(name);
	if (!site->remote) {
		cmdq_item_error(item, "remote: site '%s' is hosted here",
		    site->name);
		return CMD_ERROR;
	}
	pop = session_remote_population(s, site, slash + 1, (uint32_t)units);
	if (pop == NULL) {
		cmdq_item_error(item, "remote: bad population name '%s'",
		    slash + 1);
		return CMD_ERROR;
	}
	/* units beyond this count that arrive are not believed */
	if (pop->owner == NULL && (uint32_t)units > pop->declared_units)
		pop->declared_units = (uint32_t)units;
	cmdq_item_reply(item, "%s/%s: %u units, published by %s", site->name,
	    pop->name, pop->ops.units, site->name);
	return CMD_NORMAL;
}
