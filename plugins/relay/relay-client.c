/*
 * relay-client.c: the transport callbacks (engine thread). send() queues,
 * poll() hands what the network thread received to the host, health()
 * and clock_offset() read the network thread's measurements.
 */
#include "config.h"

#include <math.h>

#include <curl/curl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relay.h"
#include "tls-pin.h"
#include "xmalloc.h"

#define RELAY_ERRORS_MAX 16

/*
 * libcurl's global state: set up with the first link, cleaned up with the
 * last, so that unloading the plugin leaves nothing of libcurl (or of the
 * TLS library under it) behind.
 */
static pthread_mutex_t relay_curl_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned relay_curl_users;

/* Take a reference on libcurl's global state. */
static void
relay_client_curl_ref(struct relay_client *c)
{
	pthread_mutex_lock(&relay_curl_lock);
	if (relay_curl_users++ == 0)
		curl_global_init(CURL_GLOBAL_DEFAULT);
	pthread_mutex_unlock(&relay_curl_lock);
	c->curl_ref = 1;
}

/* Drop it; the last link cleans libcurl up (no transfer runs by then). */
static void
relay_client_curl_unref(struct relay_client *c)
{
	if (!c->curl_ref)
		return;
	c->curl_ref = 0;
	pthread_mutex_lock(&relay_curl_lock);
	if (--relay_curl_users == 0)
		curl_global_cleanup();
	pthread_mutex_unlock(&relay_curl_lock);
}

/* Lookup through the host's arg(). */
static const char *
relay_client_arg(void *ctx, const char *key)
{
	struct relay_client	*c = ctx;

	return (c->host->arg(c->plugin, key));
}

/* Parse arguments and start the network thread. */
struct relay_client *
relay_client_create(const struct sb_host_api *host, struct sb_plugin *p,
    char **cause)
{
	struct relay_client	*c;
	const char		*hostport;
	size_t			 i;

	c = xcalloc(1, sizeof *c);
	c->epfd = c->wakefd = -1;	/* (relay_net_start makes them) */
	c->host = host;
	c->plugin = p;
	pthread_mutex_init(&c->msg_lock, NULL);
	pthread_mutex_init(&c->in_lock, NULL);
	pthread_mutex_init(&c->stat_lock, NULL);
	pthread_cond_init(&c->clock_cond, NULL);
	c->items_tail = &c->items;
	c->msgs_tail = &c->msgs;
	relay_pool_init(&c->pool);
	for (i = 0; i < RELAY_READ_SLOTS; i++) {
		relay_parser_init(&c->parsers[i]);
		c->parsers[i].pool = &c->pool;
	}
	relay_clock_init(&c->clock);
	relay_health_init(&c->health);
	if (relay_config_parse(&c->cfg, relay_client_arg, c, cause) != 0) {
		relay_outq_init(&c->out, 1, 0, 1);
		relay_client_free(c);
		return (NULL);
	}
	c->body_max = RELAY_BODY_MAX;
	relay_outq_init(&c->out, c->cfg.batch_events, c->cfg.window_us,
	    c->cfg.max_queue);
	/*
	 * Until the first clock probe measures the round trip, bodies follow
	 * as over a long link: otherwise, over 300 ms, the events of the
	 * link's first 300 ms waited a round trip for the first answer; on
	 * a LAN the first probe's answer ends it within milliseconds.
	 */
	c->out.follow = 1;
	hostport = c->cfg.url + 8;
	snprintf(c->link_name, sizeof c->link_name, "relay %s", hostport);

	relay_client_curl_ref(c);
	if (relay_net_start(c, cause) != 0) {
		relay_client_free(c);
		return (NULL);
	}
	return (c);
}

/* Stop the network thread and free everything (the host's free_func). */
void
relay_client_free(void *data)
{
	struct relay_client	*c = data;
	struct relay_item	*item;
	size_t			 i;

	relay_net_stop(c);
	relay_client_curl_unref(c);
	while ((item = c->items) != NULL) {
		c->items = item->next;
		relay_item_free(item);
	}
	relay_outq_free(&c->out);
	for (i = 0; i < RELAY_READ_SLOTS; i++)
		relay_parser_free(&c->parsers[i]);
	relay_pool_free(&c->pool);
	free(c->dec);
	relay_config_free(&c->cfg);
	free(c->repin);
	free(c->last_error);
	pthread_mutex_destroy(&c->msg_lock);
	pthread_mutex_destroy(&c->in_lock);
	pthread_mutex_destroy(&c->stat_lock);
	pthread_cond_destroy(&c->clock_cond);
	free(c);
}

/*
 * Tell the host that poll() has something for it (any thread), where the
 * host can be told: it then polls at once instead of at its next tick.
 */
void
relay_client_wake_host(struct relay_client *c)
{
	const struct sb_host_api *h = c->host;

	if (h->size >= offsetof(struct sb_host_api, wake) + sizeof h->wake &&
	    h->wake != NULL)
		h->wake(c->plugin);
}

/* Queue an item for poll() (network thread); the first wakes the host. */
void
relay_client_push(struct relay_client *c, struct relay_item *item)
{
	int	was_empty;

	item->next = NULL;
	pthread_mutex_lock(&c->in_lock);
	was_empty = c->items == NULL;
	*c->items_tail = item;
	c->items_tail = &item->next;
	c->in_events_queued += item->n;
	pthread_mutex_unlock(&c->in_lock);
	if (was_empty)
		relay_client_wake_host(c);
}

/* Keep an error for poll() to log (any thread); repeats are dropped. */
void
relay_client_error(struct relay_client *c, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&c->stat_lock);
	if (c->last_error != NULL && strcmp(c->last_error, msg) == 0) {
		free(msg);
		msg = NULL;
	} else {
		free(c->last_error);
		c->last_error = msg;
		c->error_changed = 1;
	}
	pthread_mutex_unlock(&c->stat_lock);
	if (msg != NULL)
		relay_client_wake_host(c);
}

/* transport send(): queue events of a local stream. */
int
relay_client_send(void *data, const char *stream, const struct sb_event *ev,
    size_t n)
{
	struct relay_client	*c = data;

	/* no events: the stream is declared, registered at once */
	relay_outq_append(&c->out, stream, ev, n, relay_mono_us());
	relay_net_wake(c);
	return (0);
}

/* Report a gap on the outgoing side: in the log and in commands.csv. */
static void
relay_client_gap_out(struct relay_client *c, const char *why)
{
	pthread_mutex_lock(&c->stat_lock);
	c->health.gaps++;
	c->health.last_gap_us = relay_mono_us();
	pthread_mutex_unlock(&c->stat_lock);
	if (c->host->gap != NULL)
		c->host->gap(c->plugin, c->host->site(c->plugin), "outgoing",
		    0, 0, why);
	else
		c->host->log(c->plugin, SB_LOG_WARNING, "relay: gap: %s", why);
}

/*
 * Report events dropped by max_queue, and events of a kind no batch can
 * carry (engine thread).
 */
static void
relay_client_report_drops(struct relay_client *c)
{
	uint64_t	drops, bad;
	char		why[200];

	pthread_mutex_lock(&c->out.lock);
	drops = c->out.dropped_unreported;
	bad = c->out.bad_unreported;
	c->out.dropped_unreported = c->out.bad_unreported = 0;
	pthread_mutex_unlock(&c->out.lock);
	if (drops != 0) {
		snprintf(why, sizeof why, "%" PRIu64 " events dropped unsent, "
		    "the oldest first: more than max_queue=%" PRIu64 " were "
		    "waiting for the relay", drops, c->cfg.max_queue);
		relay_client_gap_out(c, why);
	}
	if (bad != 0) {
		snprintf(why, sizeof why, "%" PRIu64 " events dropped unsent: "
		    "their kind has no record in the relay's wire format "
		    "(a plugin sent an unknown event kind)", bad);
		relay_client_gap_out(c, why);
	}
}

/*
 * What was just handed to the host is covered up to seq of its stream:
 * the host keeps that beside the recording, so that a restarted console
 * resumes after it (see relay_net_first_list).
 */
static void
relay_client_cursor(struct relay_client *c, const struct relay_item *item,
    uint64_t seq)
{
	const struct sb_host_api *h = c->host;
	char	 key[512];

	if (item->epoch == 0 || seq == 0 || h->size <
	    offsetof(struct sb_host_api, cursor_set) + sizeof h->cursor_set ||
	    h->cursor_set == NULL)
		return;
	if (item->epoch != c->epoch_said) {
		h->cursor_set(c->plugin, "epoch", item->epoch);
		c->epoch_said = item->epoch;
	}
	if (item->type == RELAY_ITEM_COMMAND ||
	    item->type == RELAY_ITEM_RESULT)
		snprintf(key, sizeof key, "%" PRIu64 " control", item->epoch);
	else
		snprintf(key, sizeof key, "%" PRIu64 " %s/%s", item->epoch,
		    item->site, item->stream);
	h->cursor_set(c->plugin, key, seq);
}

/*
 * repin sha256//BASE64: the relay's key changed on purpose (its operator
 * says so): check that key from now on. The link reconnects; what is
 * queued to send, and where each read stands, are kept.
 */
int
relay_client_repin(void *data, int argc, char **argv, struct sb_reply *r)
{
	struct relay_client	*c = data;
	const struct sb_host_api *h = c->host;

	if (argc != 2 || !tls_pin_valid(argv[1])) {
		h->reply(r, "usage: repin sha256//BASE64 (the 44 characters "
		    "the relay prints at start, or that the link's error "
		    "names)");
		return (-1);
	}
	if (c->cfg.ca != NULL && c->cfg.pin == NULL) {
		h->reply(r, "repin: this link checks ca= alone; give pin= "
		    "at load to check a key");
		return (-1);
	}
	pthread_mutex_lock(&c->msg_lock);
	free(c->repin);
	c->repin = xstrdup(argv[1]);
	pthread_mutex_unlock(&c->msg_lock);
	relay_net_wake(c);
	h->reply(r, "relay: %s is checked against %s from now on; %llu "
	    "events queued are kept", c->cfg.url, argv[1],
	    (unsigned long long)relay_outq_depth(&c->out));
	return (0);
}

/*
 * Room for n decoded events in c->dec (engine thread). One array for every
 * batch: it stays in this core's cache (decoding on the network thread
 * into arrays the engine then read took about 1.6 times as long, and
 * moved 40 bytes an event across cores instead of 12).
 */
static void
relay_client_decode_room(struct relay_client *c, size_t n)
{
	if (n <= c->deccap)
		return;
	free(c->dec);
	c->dec = xreallocarray(NULL, n, sizeof *c->dec);
	c->deccap = n;
}

/* transport poll(): hand arrivals to the host. */
void
relay_client_poll(void *data)
{
	struct relay_client	*c = data;
	const struct sb_host_api *h = c->host;
	struct relay_item	*items, *item;
	char			*error = NULL;
	int			 changed, paused;
	int64_t			 off, unc;

	pthread_mutex_lock(&c->stat_lock);
	if (c->error_changed) {
		c->error_changed = 0;
		error = xstrdup(c->last_error);
	}
	changed = c->clock_changed;
	c->clock_changed = 0;
	off = c->clock_offset_us;
	unc = c->clock_unc_us;
	pthread_mutex_unlock(&c->stat_lock);
	if (error != NULL) {
		h->log(c->plugin, SB_LOG_WARNING, "%s", error);
		free(error);
	}
	if (changed && h->clock_update != NULL)
		h->clock_update(c->plugin, off, unc);
	relay_client_report_drops(c);

	pthread_mutex_lock(&c->in_lock);
	items = c->items;
	c->items = NULL;
	c->items_tail = &c->items;
	c->in_events_queued = 0;
	paused = c->in_paused;
	c->in_paused = 0;
	pthread_mutex_unlock(&c->in_lock);
	/*
	 * A paused read may go on. Only then: waking the network thread
	 * after every delivery cost a context switch per batch read (at 30
	 * sites on one 2-core machine, 6000 a second).
	 */
	if (paused)
		relay_net_wake(c);
	if (items == NULL)
		return;
	while ((item = items) != NULL) {
		items = item->next;
		switch (item->type) {
		case RELAY_ITEM_EVENTS:
			if (item->n > 0) {
				relay_client_decode_room(c, item->n);
				relay_item_events(item, c->dec);
				h->deliver(c->plugin, item->site, item->stream,
				    c->dec, item->n);
			}
			relay_client_cursor(c, item, item->seq);
			break;
		case RELAY_ITEM_GAP:
			h->gap(c->plugin, item->site, item->stream, item->seq,
			    item->last_seq, item->text);
			relay_client_cursor(c, item, item->last_seq);
			break;
		case RELAY_ITEM_COMMAND:
			h->remote_command(c->plugin, item->from, item->id,
			    item->text);
			relay_client_cursor(c, item, item->seq);
			break;
		case RELAY_ITEM_RESULT:
			h->remote_result(c->plugin, item->id, item->status,
			    item->text);
			relay_client_cursor(c, item, item->seq);
			break;
		case RELAY_ITEM_KEEPALIVE:
		case RELAY_ITEM_REJECTED:
			break;
		}
		relay_item_free(item);
	}
}

/*
 * A site of the session as a link row: whether its console is there
 * (heard lately, reading), what it publishes. The figures of a network
 * path (RTT, jitter, offset, loss) are not its: NaN.
 */
static void
relay_client_presence_row(const struct relay_presence *p,
    struct sb_link_health *out)
{
	int stopped = p->reads == 0 && p->was_reading &&
	    p->idle_polls >= RELAY_PRESENCE_IDLE_POLLS;

	memset(out, 0, sizeof *out);
	snprintf(out->name, sizeof out->name, "%s via relay", p->site);
	out->rtt_ms = out->rtt_p99_ms = out->jitter_ms = NAN;
	out->offset_ms = out->uncertainty_ms = out->drift_ppm = NAN;
	out->loss_pct = NAN;
	out->events_in_per_s = out->events_out_per_s = NAN;
	out->gaps = p->gaps;
	out->events_per_s = p->events_per_s;
	out->last_batch_age_s = p->seen_ago_s;
	if (isnan(p->heard_ago_s)) {
		out->state = SB_LINK_DOWN;
		snprintf(out->detail, sizeof out->detail, "its console has not "
		    "come to the relay");
		return;
	}
	if (p->heard_ago_s > RELAY_PRESENCE_DOWN_S)
		out->state = SB_LINK_DOWN;
	else if (p->heard_ago_s > RELAY_PRESENCE_DEGRADED_S || stopped)
		out->state = SB_LINK_DEGRADED;
	else
		out->state = SB_LINK_UP;
	if (p->heard_ago_s > RELAY_PRESENCE_DEGRADED_S)
		snprintf(out->detail, sizeof out->detail, "its console not "
		    "heard for %.0f s: stopped, hung or cut off (%u read%s "
		    "open)", p->heard_ago_s, p->reads, p->reads == 1 ? "" :
		    "s");
	else if (stopped)
		snprintf(out->detail, sizeof out->detail, "its console heard "
		    "%.1f s ago, but it stopped reading (it quit, or lost its "
		    "link)", p->heard_ago_s);
	else
		snprintf(out->detail, sizeof out->detail, "its console heard "
		    "%.1f s ago, %u read%s open", p->heard_ago_s, p->reads,
		    p->reads == 1 ? "" : "s");
}

/*
 * transport health(): one row for the link, then one for each other site
 * of the session (relay_client_presence_row).
 */
size_t
relay_client_health(void *data, struct sb_link_health *out, size_t max)
{
	struct relay_client	*c = data;
	struct relay_health	*h = &c->health;
	struct relay_rtt_stats	 st;
	int64_t			 now = relay_mono_us();
	const char		*self = c->host->site(c->plugin);
	uint64_t		 queue;
	double			 loss;
	size_t			 n, i;

	if (max == 0)
		return (0);
	queue = relay_outq_depth(&c->out);
	memset(out, 0, sizeof *out);
	snprintf(out->name, sizeof out->name, "%s", c->link_name);
	pthread_mutex_lock(&c->stat_lock);
	relay_health_rtt_stats(h, &st);
	loss = relay_health_loss(h, now, h->tries_recent);
	out->state = relay_link_state(h->connected, now - h->last_ok_us,
	    st.p50, st.p99, loss, h->last_gap_us >= now - RELAY_RECENT_US,
	    queue, c->cfg.max_queue);
	if (out->state != SB_LINK_UP)
		relay_link_reason(out->detail, sizeof out->detail,
		    h->connected, now - h->last_ok_us, st.p50, st.p99, loss,
		    h->last_gap_us >= now - RELAY_RECENT_US, queue,
		    c->cfg.max_queue, c->last_error);
	out->rtt_ms = st.p50;
	out->rtt_p99_ms = st.p99;
	out->jitter_ms = st.jitter;
	if (c->clock_known) {
		out->offset_ms = (double)relay_clock_offset_at(&c->clock,
		    now) / 1000.0;
		out->uncertainty_ms = c->clock.uncertainty_us / 1000.0;
		out->drift_ppm = c->clock.drift * 1e6;
	}
	out->loss_pct = loss;
	out->gaps = h->gaps;
	out->retransmits = h->retransmits;
	out->queue = queue;
	out->events_per_s = h->in_per_s + h->out_per_s;
	out->last_batch_age_s = h->last_batch_us == 0 ? NAN :
	    (double)(now - h->last_batch_us) / 1e6;
	n = 1;
	/* then the session's other sites, while the relay's word is fresh */
	if (c->presence_us != 0 && now - c->presence_us <= RELAY_PRESENCE_STALE_US)
		for (i = 0; i < c->npresence && n < max; i++)
			if (strcmp(c->presence[i].site, self) != 0)
				relay_client_presence_row(&c->presence[i],
				    &out[n++]);
	pthread_mutex_unlock(&c->stat_lock);
	return (n);
}

/* transport clock_offset(): session = CLOCK_MONOTONIC us + offset. */
int
relay_client_clock_offset(void *data, int64_t *offset_us,
    int64_t *uncertainty_us)
{
	struct relay_client	*c = data;
	int			 known;

	pthread_mutex_lock(&c->stat_lock);
	known = c->clock_known;
	if (known) {
		*offset_us = relay_clock_offset_at(&c->clock, relay_mono_us());
		*uncertainty_us = c->clock_unc_us;
	}
	pthread_mutex_unlock(&c->stat_lock);
	return (known ? 0 : -1);
}

/* Is a site name safe to put in a query string? */
static int
relay_client_site_ok(const char *site)
{
	const char	*p;

	if (site == NULL || *site == '\0' || strlen(site) > 63)
		return (0);
	for (p = site; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		    *p == '.'))
			return (0);
	}
	return (1);
}

/* transport command(): ask site target to run a line. */
int
relay_client_command(void *data, const char *target, uint64_t id,
    const char *line, char **cause)
{
	struct relay_client	*c = data;
	char			 path[160];

	if (!relay_client_site_ok(target)) {
		xasprintf(cause, "relay: bad site name '%s' (letters, digits, "
		    "'-', '_' and '.')", target == NULL ? "" : target);
		return (-1);
	}
	if (strchr(line, '\n') != NULL) {
		xasprintf(cause, "relay: a remote command is one line");
		return (-1);
	}
	snprintf(path, sizeof path, "/v1/command?to=%s&id=%" PRIu64, target,
	    id);
	relay_net_post_msg(c, target, path, xstrdup(line));
	return (0);
}

/* transport command_result(): answer site `to`. */
int
relay_client_command_result(void *data, const char *to, uint64_t id,
    int status, const char *text)
{
	struct relay_client	*c = data;
	char			 path[192];

	if (!relay_client_site_ok(to))
		return (-1);
	snprintf(path, sizeof path, "/v1/result?to=%s&id=%" PRIu64
	    "&status=%s", to, id, status == 0 ? "ok" : "error");
	relay_net_post_msg(c, to, path, xstrdup(text == NULL ? "" : text));
	return (0);
}
