/* cmd-record.c: record (continuous CSV logs) and export (from history). */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "engine.h"
#include "history.h"
#include "recorder.h"

static enum cmd_retval cmd_record_exec(struct session *, struct args *,
    struct cmdq_item *);
static enum cmd_retval cmd_export_exec(struct session *, struct args *,
    struct cmdq_item *);

const struct cmd_entry cmd_record_entry = {
	.name = "record",
	.template = "",
	.lower = 0,
	.upper = 2,
	.usage = "[start DIR | stop]",
	.help = "record spikes, synapses, links and commands as CSV in DIR",
	.exec = cmd_record_exec,
};

static const struct cmd_long_option cmd_export_longs[] = {
	{ "since", 's' },
	{ "until", 'u' },
	{ NULL, 0 }
};

const struct cmd_entry cmd_export_entry = {
	.name = "export",
	.template = "s:u:",
	.longs = cmd_export_longs,
	.lower = 2,
	.upper = 2,
	.usage = "spikes|synapses|links|commands FILE [--since S] [--until S]",
	.help = "write a CSV file from the in-memory history",
	.exec = cmd_export_exec,
};

#define CMD_RECORD_CLOSING 16	/* closing recordings shown at most */

/* Start, stop or show recording. */
static enum cmd_retval
cmd_record_exec(struct session *s, struct args *a, struct cmdq_item *item)
{
	const char *closing[CMD_RECORD_CLOSING];
	char *cause = NULL;
	size_t i, n;

	if (a->argc == 0) {
		if (s->recorder == NULL)
			cmdq_item_reply(item, "not recording");
		else
			cmdq_item_reply(item, "recording to %s (%llu rows)",
			    recorder_dir(s->recorder), (unsigned long long)
			    recorder_rows(s->recorder));
		/* stopped, and their disk has not taken the last rows yet */
		n = engine_record_closing(s, closing, CMD_RECORD_CLOSING);
		for (i = 0; i < n && i < CMD_RECORD_CLOSING; i++)
			cmdq_item_reply(item, "closing %s: its last rows are "
			    "being written", closing[i]);
		return CMD_NORMAL;
	}
	if (strcmp(a->argv[0], "start") == 0 && a->argc == 2) {
		if (engine_record_start(s, a->argv[1], &cause) != 0) {
			cmdq_item_error(item, "record: %s", cause);
			free(cause);
			return CMD_ERROR;
		}
		cmdq_item_reply(item, "recording to %s", a->argv[1]);
		s->dirty = 1;
		return CMD_NORMAL;
	}
	if (strcmp(a->argv[0], "stop") == 0 && a->argc == 1) {
		if (s->recorder == NULL) {
			cmdq_item_error(item, "record: not recording");
			return CMD_ERROR;
		}
		engine_record_stop(s);
		cmdq_item_reply(item, "recording stopped");
		s->dirty = 1;
		return CMD_NORMAL;
	}
	cmdq_item_error(item, "record: usage: record [start DIR | stop]");
	return CMD_ERROR;
}

/* Parse seconds of session time. */
static int
cmd_export_time(const char *text, int64_t *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (*text == '\0' || *end != '\0' || errno != 0 || !isfinite(v) ||
	    fabs(v) > 9e12)
		return -1;
	*out = llround(v * 1e6);
	return 0;
}

/* Export one kind from history. */
static enum cmd_retval
cmd_export_exec(struct session *s, struct args *a, struct cmdq_item *item)
{
	struct history_names names;
	int64_t since = INT64_MIN, until = INT64_MAX, rows;
	const char *v;
	char *cause = NULL;
	int kind;

	kind = csv_kind_from_name(a->argv[0]);
	if (kind == CSV_LATENCY) {
		cmdq_item_error(item, "export: latency is not kept in the "
		    "history: it is written to latency.csv while recording "
		    "(record start DIR, or --log-dir); 'latency' shows it now");
		return CMD_ERROR;
	}
	if (kind < 0) {
		cmdq_item_error(item, "export: unknown kind '%s' (have spikes, "
		    "synapses, links, commands)", a->argv[0]);
		return CMD_ERROR;
	}
	if ((v = args_get(a, 's')) != NULL && cmd_export_time(v, &since)) {
		cmdq_item_error(item, "export: --since %s: expected seconds",
		    v);
		return CMD_ERROR;
	}
	if ((v = args_get(a, 'u')) != NULL && cmd_export_time(v, &until)) {
		cmdq_item_error(item, "export: --until %s: expected seconds",
		    v);
		return CMD_ERROR;
	}
	if (until <= since) {
		cmdq_item_error(item, "export: --until must be after --since");
		return CMD_ERROR;
	}
	if (s->history == NULL) {
		cmdq_item_error(item, "export: no history is kept");
		return CMD_ERROR;
	}
	engine_history_names(s, &names);
	rows = history_export(s->history, (enum csv_kind)kind, a->argv[1],
	    since, until, &names, &cause);
	if (rows < 0) {
		cmdq_item_error(item, "export: %s", cause);
		free(cause);
		return CMD_ERROR;
	}
	cmdq_item_reply(item, "exported %lld %s rows to %s%s", (long long)rows,
	    csv_kind_names[kind], a->argv[1], history_dropped(s->history) ?
	    " (history is full: the oldest events are gone)" : "");
	return CMD_NORMAL;
}
