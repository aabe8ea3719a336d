/* cmd-link.c: show the health of every link (the relay's and devices'). */
#include "config.h"

#include <math.h>
#include <stdio.h>

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
	.help = "show every link: state, RTT, jitter, offset, loss, queue, "
	    "latency of other sites' spikes; device links: rates in and out, "
	    "malformed, age",
	.exec = cmd_link_exec,
};

/* A figure with decimals and a unit, or "unknown" when it is NaN. */
static const char *
cmd_link_figure(char *buf, size_t len, int decimals, const char *unit,
    double v)
{
	if (isnan(v))
		return "unknown";
	snprintf(buf, len, "%.*f%s", decimals, v, unit);
	return buf;
}

/*
 * How long ago a link last heard its far end ("last batch 0.3 s ago"), or
 * never if it did not yet (NaN, or a negative age from an older plugin).
 */
static const char *
cmd_link_age(char *buf, size_t len, const char *last, const char *never,
    double age_s)
{
	if (isnan(age_s) || age_s < 0)
		return never;
	snprintf(buf, len, "%s %.1f s ago", last, age_s);
	return buf;
}

/* One line per link: the relay's with its clock, a device's with its far end. */
static enum cmd_retval
cmd_link_exec(struct session *s, struct args *a, struct cmdq_item *item)
{
	static const char *const states[] = { "down", "degraded", "up" };
	struct session_link_row rows[64];
	struct latency_stat st;
	char b1[32], b2[32], lat[96];
	size_t i, n;

	n = session_links(s, rows, 64);
	for (i = 0; i < n; i++) {
		const struct sb_link_health *h = &rows[i].h;
		const char *state = states[h->state <= SB_LINK_UP ?
		    h->state : 0];

		if (rows[i].device) {
			cmdq_item_reply(item, "%s/%s %s in %.0f/s out %.0f/s "
			    "loss %s malformed %llu out-of-range %llu "
			    "dropped %llu %s%s%s",
			    rows[i].site->name, h->name, state,
			    h->events_in_per_s, h->events_out_per_s,
			    cmd_link_figure(b1, sizeof b1, 2, "%",
			    h->loss_pct), (unsigned long long)h->malformed,
			    (unsigned long long)h->out_of_range,
			    (unsigned long long)h->gaps,
			    cmd_link_age(b2, sizeof b2, "last",
			    "nothing heard yet", h->last_batch_age_s),
			    *h->detail != '\0' ?
			    ": " : "", h->detail);
			continue;
		}
		if (rows[i].site_row) {
			/* another site of the session, as the relay sees it */
			cmdq_item_reply(item, "%s/%s %s: %s; publishes %.0f "
			    "ev/s, gaps %llu, %s", rows[i].site->name, h->name,
			    state, h->detail, h->events_per_s,
			    (unsigned long long)h->gaps, cmd_link_age(b2,
			    sizeof b2, "last batch", "no batch yet",
			    h->last_batch_age_s));
			continue;
		}
		lat[0] = '\0';
		if (latency_recent(rows[i].tr->lat_arrival, clock_mono_us(),
		    &st) == 0)
			snprintf(lat, sizeof lat, " spikes from their source "
			    "p50 %.2f p99 %.2f ms", st.p50_ms, st.p99_ms);
		cmdq_item_reply(item, "%s/%s %s rtt %.3f ms (p99 %.3f) jitter "
		    "%.3f ms offset %+.3f +- %.3f ms drift %+.2f ppm loss "
		    "%.2f%% gaps %llu retransmits %llu queue %llu %.0f ev/s "
		    "%s%s", rows[i].site->name, h->name,
		    state, h->rtt_ms, h->rtt_p99_ms, h->jitter_ms,
		    h->offset_ms, h->uncertainty_ms, h->drift_ppm,
		    h->loss_pct, (unsigned long long)h->gaps,
		    (unsigned long long)h->retransmits,
		    (unsigned long long)h->queue, h->events_per_s,
		    cmd_link_age(b2, sizeof b2, "last batch", "no batch yet",
		    h->last_batch_age_s), lat);
	}
	if (n == 0)
		cmdq_item_reply(item, "no links (load the relay plugin, or a "
		    "device plugin such as arc1 or ramp)");
	return CMD_NORMAL;
}
