/* cmd-link.c: show the health of every relay link. */
#include "config.h"

#include "cmd.h"

static enum cmd_retval cmd_link_exec(struct session *, struct args *,
    struct cmdq_item *);

const struct cmd_entry cmd_link_entry = {
	.name = "link",
	.alias = "links",
	.template = "",
	.lower = 0,
	.upper = 0,
	.usage = "",
	.help = "show every link: state, RTT, jitter, offset, loss, queue",
	.exec = cmd_link_exec,
};

/* One line per link. */
static enum cmd_retval
cmd_link_exec(struct session *s, struct args *a, struct cmdq_item *item)
{
	static const char *const states[] = { "down", "degraded", "up" };
	struct sb_link_health h[8];
	size_t i, t, k, n, rows = 0;

	for (i = 0; i < s->nsites; i++)
		for (t = 0; t < s->sites[i]->ntransports; t++) {
			struct transport *tr = s->sites[i]->transports[t];

			if (tr->ops.health == NULL)
				continue;
			n = tr->ops.health(tr->data, h, 8);
			for (k = 0; k < n && k < 8; k++, rows++)
				cmdq_item_reply(item, "%s/%s %s rtt %.3f ms "
				    "(p99 %.3f) jitter %.3f ms offset %+.3f "
				    "+- %.3f ms drift %+.2f ppm loss %.2f%% "
				    "gaps %llu retransmits %llu queue %llu "
				    "%.0f ev/s last batch %.1f s ago",
				    s->sites[i]->name, h[k].name,
				    states[h[k].state <= SB_LINK_UP ?
				    h[k].state : 0], h[k].rtt_ms,
				    h[k].rtt_p99_ms, h[k].jitter_ms,
				    h[k].offset_ms, h[k].uncertainty_ms,
				    h[k].drift_ppm, h[k].loss_pct,
				    (unsigned long long)h[k].gaps,
				    (unsigned long long)h[k].retransmits,
				    (unsigned long long)h[k].queue,
				    h[k].events_per_s, h[k].last_batch_age_s);
		}
	if (rows == 0)
		cmdq_item_reply(item, "no links (load the relay plugin)");
	return CMD_NORMAL;
}
