/* cmd-latency.c: latency (how long the loop takes, per path). */
#include "config.h"

#include <stdio.h>

#include "cmd.h"

static enum cmd_retval cmd_latency_exec(struct session *, struct args *,
    struct cmdq_item *);

const struct cmd_entry cmd_latency_entry = {
	.name = "latency",
	.template = "r",
	.lower = 0,
	.upper = 0,
	.usage = "[-r]",
	.help = "show the loop's wall-clock latency per path: spike source to "
	    "synaptic input (per synapse), to this site (per link), typed "
	    "command to the device and back and beyond the device's time, "
	    "'at' commands (per site); -r: then start every path afresh",
	.exec = cmd_latency_exec,
};

/* One path's line, if it has samples; 1 if it had. */
static int
cmd_latency_line(struct cmdq_item *item, const struct latency *l,
    enum latency_kind kind, const char *path, int64_t now)
{
	struct latency_stat r, t;

	if (latency_total(l, &t) != 0)
		return 0;
	if (latency_recent(l, now, &r) != 0)
		cmdq_item_reply(item, "%s %s: none in the last 10 s; session p50 "
		    "%.3f p99 %.3f max %.3f ms n %llu", latency_kind_name(kind),
		    path, t.p50_ms, t.p99_ms, t.max_ms,
		    (unsigned long long)t.n);
	else
		cmdq_item_reply(item, "%s %s: last %.0f s p50 %.3f p99 %.3f max "
		    "%.3f ms n %llu; session p50 %.3f p99 %.3f max %.3f ms n "
		    "%llu", latency_kind_name(kind), path, r.window_s < 1 ? 1 :
		    r.window_s, r.p50_ms, r.p99_ms,
		    r.max_ms, (unsigned long long)r.n, t.p50_ms, t.p99_ms,
		    t.max_ms, (unsigned long long)t.n);
	return 1;
}

/* Forget every path's samples (latency.csv rows go on from now). */
static void
cmd_latency_reset(struct session *s)
{
	size_t i, j;

	for (i = 0; i < s->nsynapses; i++) {
		struct synapse *syn = s->synapses[i];

		latency_free(syn->lat_spike);
		latency_free(syn->lat_command);
		latency_free(syn->lat_overhead);
		syn->lat_spike = syn->lat_command = syn->lat_overhead = NULL;
	}
	for (i = 0; i < s->nsites; i++) {
		struct site *site = s->sites[i];

		for (j = 0; j < site->ntransports; j++) {
			latency_free(site->transports[j]->lat_arrival);
			site->transports[j]->lat_arrival = NULL;
		}
		latency_free(site->lat_remote);
		site->lat_remote = NULL;
	}
}

/* Every path with samples: synapses, relay links, remote sites. */
static enum cmd_retval
cmd_latency_exec(struct session *s, struct args *a, struct cmdq_item *item)
{
	struct session_link_row rows[64];
	int64_t now = clock_mono_us();
	char name[sizeof rows->h.name + 80];
	size_t i, n;
	int shown = 0;

	for (i = 0; i < s->nsynapses; i++) {
		struct synapse *syn = s->synapses[i];

		shown += cmd_latency_line(item, syn->lat_spike, LATENCY_SPIKE,
		    syn->name, now);
		shown += cmd_latency_line(item, syn->lat_command,
		    LATENCY_COMMAND, syn->name, now);
		shown += cmd_latency_line(item, syn->lat_overhead,
		    LATENCY_OVERHEAD, syn->name, now);
	}
	n = session_links(s, rows, 64);
	for (i = 0; i < n; i++) {
		if (rows[i].tr == NULL || rows[i].site_row)
			continue;
		snprintf(name, sizeof name, "%s/%s", rows[i].site->name,
		    rows[i].h.name);
		shown += cmd_latency_line(item, rows[i].tr->lat_arrival,
		    LATENCY_ARRIVAL, name, now);
	}
	for (i = 0; i < s->nsites; i++)
		shown += cmd_latency_line(item, s->sites[i]->lat_remote,
		    LATENCY_REMOTE, s->sites[i]->name, now);
	if (!shown)
		cmdq_item_reply(item, "no latency measured yet: it is measured "
		    "in real time where a synaptic input, a spike of another "
		    "site or a command's result arrives");
	if (args_has(a, 'r'))
		cmd_latency_reset(s);
	return CMD_NORMAL;
}
