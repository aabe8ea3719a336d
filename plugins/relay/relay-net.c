/*
 * relay-net.c: the network thread. One libcurl multi loop runs every
 * exchange with the relay, each role on its own reused easy handle (and so
 * its own keep-alive connection): publish (two in flight; by default each
 * a streaming body that takes batches as they are cut), the streaming
 * read, the control long-poll, clock probes, the stream list, stream
 * registration and outgoing commands/results. Nothing here blocks the
 * engine: it only appends to queues and wakes this loop.
 *
 * The loop drives libcurl through its socket API over epoll
 * (curl_multi_socket_action): only the transfers whose sockets are ready
 * run. curl_multi_perform looked at every active transfer's socket on
 * each call, one poll(2) each: a streaming publish made about four polls
 * per 16 KB TLS record it sent.
 */
#include "config.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relay.h"
#include "sched-hint.h"
#include "tls-pin.h"
#include "xmalloc.h"

enum relay_role {
	RELAY_PUBLISH,
	RELAY_READ,
	RELAY_CONTROL,
	RELAY_TIME,
	RELAY_LIST,
	RELAY_REGISTER,
	RELAY_MSG,
	RELAY_PRESENCE,
};

#define RELAY_NXFERS (RELAY_PUBLISH_SLOTS + RELAY_READ_SLOTS + 6)
/*
 * The session's sites (GET /v1/health: is each one's console there?) are
 * asked for this often. Short and quick, it mostly goes on a connection
 * a clock probe left idle.
 */
#define RELAY_PRESENCE_EVERY_US 2000000
#define RELAY_LIST_EVERY_US 2000000
/*
 * In the first seconds of a link, while the sites of a session declare
 * their streams, the stream list is asked for this often: a stream
 * declared then is read from its first event instead of up to 2 s late.
 */
#define RELAY_LIST_EARLY_US 250000
#define RELAY_LIST_EARLY_FOR_US 10000000
/*
 * A relay that holds lists (RELAY_STREAMS_HEADER) is asked again once one
 * answers, but not sooner than this after the last was asked: a relay
 * that answered at once every time would otherwise be asked in a loop.
 */
#define RELAY_LIST_MIN_US 20000
#define RELAY_PROBE_EVERY_US 1000000
#define RELAY_BURST_EVERY_US 5000000
#define RELAY_BURST_PROBES 8
#define RELAY_ANSWER_MAX 65536		/* text answer bytes kept */
/*
 * A streaming publish body ends (and its answer acknowledges what it
 * carried) once it has been open this long, or has had nothing to carry
 * for this long, or holds c->body_max bytes.
 */
#define RELAY_STREAM_MAX_US 250000
#define RELAY_STREAM_IDLE_US 20000
#define RELAY_DRAIN_US 500000		/* at stop, for open bodies to end */

/* One readable stream of another site. */
struct relay_istream {
	uint32_t	 id;
	char		*site;
	char		*name;
	uint32_t	 units;
	uint64_t	 last_seq;	/* delivered up to here */
	uint64_t	 highest;	/* HIGHEST_SEQ at the last listing */
	int		 read;		/* in the read request */
};

/* One command or result waiting to be posted. */
struct relay_msg {
	struct relay_msg *next;
	char		*path;		/* with query */
	char		*body;
	uint64_t	 id;
	int		 is_command;
	char		*to;
};

/* One role's easy handle and its exchange state. */
struct relay_xfer {
	struct relay_client *c;
	enum relay_role	 role;
	CURL		*easy;
	struct curl_slist *hdrs;
	int		 active;
	int		 paused;
	int64_t		 not_before;	/* backoff */
	unsigned	 failures;
	int64_t		 started;
	char		*resp;
	size_t		 rlen, rcap;
	struct relay_body b;		/* the request body */
	/*
	 * A streaming publish body (spans of the kept batches): bytes
	 * boff.. (span si, offset soff) are not yet sent.
	 */
	int		 streaming, ending, rpaused;
	size_t		 boff, si, soff;
	int64_t		 last_append;
	struct relay_ostream **pub;	/* publish / register: streams */
	uint64_t	*pub_last;	/* publish: the last seq of each in it */
	size_t		 npub, cappub;
	int64_t		 t0, t3;	/* clock probe */
	struct relay_msg *msg;
	int		 bad;		/* read: stream malformed */
	struct relay_parser *parser;	/* read: its own */
	int		 successor;	/* read: to take over from the other */
	int		 taking_over;	/* read: the relay answered it */
	unsigned	 pin_epoch;	/* the pin its handle checks */
};

/* Network-thread state that does not need to be in the client. */
struct relay_net {
	int		 need_register;
	int		 register_singly;
	int64_t		 list_at;
	uint64_t	 list_version;	/* RELAY_STREAMS_HEADER, 0: none */
	int64_t		 probe_at;
	int64_t		 presence_at;	/* next GET /v1/health */
	int64_t		 burst_at;
	int		 burst_left;
	int64_t		 born;		/* when the thread started (mono us) */
	struct relay_ostream **os;	/* snapshot of the outgoing streams */
	size_t		 nos, capos;
	unsigned	 os_added;	/* q->streams_added at the copy */
	int		 os_valid;	/* a copy was made */
	size_t		 first_os;	/* where a new body's scan starts */
	uint64_t	 session_id;
	int64_t		 read_cut_at;	/* when a read of ours was last cut */
};

static struct relay_net *relay_net_state(struct relay_client *);
static void relay_net_kick(struct relay_client *);
static void relay_net_end_body(struct relay_xfer *);

/* Backoff after failures: 50 ms doubling to 2 s, with some spread. */
static int64_t
relay_net_backoff(unsigned failures)
{
	int64_t	d = RELAY_BACKOFF_MIN_US;

	while (failures-- > 1 && d < RELAY_BACKOFF_MAX_US)
		d *= 2;
	if (d > RELAY_BACKOFF_MAX_US)
		d = RELAY_BACKOFF_MAX_US;
	return (d - d / 8 + (int64_t)(random() % (d / 4 + 1)));
}

/* The link's backoff after n failures in a row: capped, with jitter. */
static int64_t
relay_net_link_backoff(unsigned n)
{
	int64_t	d = RELAY_LINK_BACKOFF_MIN_US;

	while (n-- > 1 && d < RELAY_LINK_BACKOFF_MAX_US)
		d *= 2;
	if (d > RELAY_LINK_BACKOFF_MAX_US)
		d = RELAY_LINK_BACKOFF_MAX_US;
	return (d - d / 4 + (int64_t)(random() % (d / 2 + 1)));
}

/* The pin of the certificate the relay presented to x, or NULL. */
static char *
relay_net_presented_pin(struct relay_xfer *x)
{
	struct curl_certinfo	*ci = NULL;
	struct curl_slist	*s;
	char			*cause = NULL, *pin;

	if (curl_easy_getinfo(x->easy, CURLINFO_CERTINFO, &ci) != CURLE_OK ||
	    ci == NULL || ci->num_of_certs < 1)
		return (NULL);
	for (s = ci->certinfo[0]; s != NULL; s = s->next) {
		if (strncmp(s->data, "Cert:", 5) != 0)
			continue;
		pin = tls_pin_of_pem(s->data + 5, strlen(s->data + 5),
		    &cause);
		free(cause);
		return (pin);
	}
	return (NULL);
}

/* Append answer bytes (text answers, bounded). */
static size_t
relay_net_write_text(char *data, size_t size, size_t n, void *ctx)
{
	struct relay_xfer	*x = ctx;
	size_t			 len = size * n, keep = len;

	if (x->rlen + keep > RELAY_ANSWER_MAX)
		keep = RELAY_ANSWER_MAX - x->rlen;
	if (x->rlen + keep + 1 > x->rcap) {
		x->rcap = x->rlen + keep + 1024;
		x->resp = xrealloc(x->resp, x->rcap);
	}
	memcpy(x->resp + x->rlen, data, keep);
	x->rlen += keep;
	x->resp[x->rlen] = '\0';
	if (x->role == RELAY_TIME && x->t3 == 0 &&
	    memchr(x->resp, '\n', x->rlen) != NULL)
		x->t3 = relay_mono_us();
	return (len);
}

/* Just before a clock probe goes out on its connection: t0. */
static int
relay_net_prereq(void *ctx, char *conn_primary_ip, char *conn_local_ip,
    int conn_primary_port, int conn_local_port)
{
	struct relay_xfer	*x = ctx;

	x->t0 = relay_mono_us();
	return (CURL_PREREQFUNC_OK);
}

/* Find a readable stream by id. */
static struct relay_istream *
relay_net_istream(struct relay_client *c, uint32_t id)
{
	size_t	i;

	for (i = 0; i < c->nin; i++) {
		if (c->in[i]->id == id)
			return (c->in[i]);
	}
	return (NULL);
}

/* A parsed batch from the read stream: order, dedupe, queue for poll(). */
static void
relay_net_item(void *ctx, struct relay_item *item)
{
	struct relay_xfer	*x = ctx;
	struct relay_client	*c = x->c;
	struct relay_istream	*is;
	struct relay_item	*gap;
	int64_t			 now = relay_mono_us();

	pthread_mutex_lock(&c->stat_lock);
	relay_health_ok(&c->health, now);
	pthread_mutex_unlock(&c->stat_lock);
	if (item->type == RELAY_ITEM_KEEPALIVE) {
		relay_item_free(item);
		return;
	}
	if (item->type == RELAY_ITEM_REJECTED) {
		/* a gap the relay could not state is still a gap */
		is = relay_net_istream(c, item->stream_id);
		if (is != NULL && is->read) {
			pthread_mutex_lock(&c->stat_lock);
			c->health.gaps++;
			c->health.last_gap_us = now;
			pthread_mutex_unlock(&c->stat_lock);
		}
		relay_client_error(c, "relay: rejected a malformed batch on "
		    "the read stream (%s); reading goes on", item->text);
		relay_item_free(item);
		return;
	}
	is = relay_net_istream(c, item->stream_id);
	if (is == NULL || !is->read) {
		relay_item_free(item);
		return;
	}
	item->site = is->site;
	item->stream = is->name;
	item->epoch = c->epoch;
	if (item->type == RELAY_ITEM_GAP) {
		if (item->last_seq <= is->last_seq) {
			relay_item_free(item);
			return;
		}
		if (item->seq <= is->last_seq)
			item->seq = is->last_seq + 1;
		is->last_seq = item->last_seq;
		if (item->text == NULL)
			item->text = xstrdup("the relay no longer holds them");
		pthread_mutex_lock(&c->stat_lock);
		c->health.gaps++;
		c->health.last_gap_us = now;
		pthread_mutex_unlock(&c->stat_lock);
		relay_client_push(c, item);
		return;
	}
	if (item->seq <= is->last_seq) {
		relay_item_free(item);	/* a duplicate */
		return;
	}
	if (item->seq > is->last_seq + 1) {
		gap = xcalloc(1, sizeof *gap);
		gap->type = RELAY_ITEM_GAP;
		gap->site = is->site;
		gap->stream = is->name;
		gap->seq = is->last_seq + 1;
		gap->last_seq = item->seq - 1;
		gap->epoch = c->epoch;
		gap->text = xstrdup("batches missing from the read stream");
		pthread_mutex_lock(&c->stat_lock);
		c->health.gaps++;
		c->health.last_gap_us = now;
		pthread_mutex_unlock(&c->stat_lock);
		relay_client_push(c, gap);
	}
	is->last_seq = item->seq;
	pthread_mutex_lock(&c->stat_lock);
	c->health.in_events += item->n;
	c->health.last_batch_us = now;
	pthread_mutex_unlock(&c->stat_lock);
	relay_client_push(c, item);
}

/* Read stream bytes: batches go through the incremental parser. */
static size_t
relay_net_write_read(char *data, size_t size, size_t n, void *ctx)
{
	struct relay_xfer	*x = ctx;
	struct relay_client	*c = x->c;
	long			 code = 0;
	char			*cause = NULL;
	int			 pause;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200)
		return (relay_net_write_text(data, size, n, ctx));
	/* (in_paused tells poll to wake this thread once it has caught up) */
	pthread_mutex_lock(&c->in_lock);
	if ((pause = c->in_events_queued > RELAY_IN_PAUSE))
		c->in_paused = 1;
	pthread_mutex_unlock(&c->in_lock);
	if (pause) {
		x->paused = 1;
		return (CURL_WRITEFUNC_PAUSE);
	}
	if (relay_parser_feed(x->parser, data, size * n, relay_net_item, x,
	    &cause) != 0) {
		relay_client_error(c, "relay: bad data on the read stream "
		    "(%s); reconnecting", cause);
		free(cause);
		x->bad = 1;
		return (0);
	}
	/* the relay took the new read: the loop's next turn ends the one it
	 * replaces (relay_net_reads) */
	if (x->successor)
		x->taking_over = 1;
	return (size * n);
}

/* Set the options every exchange shares. */
static void
relay_net_setup(struct relay_client *c, struct relay_xfer *x)
{
	CURL	*e = x->easy;

	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 5L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 2L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)RELAY_CONNECT_MS);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
	/* a proxy only when asked for, never for a relay on loopback */
	if (c->cfg.proxy != NULL && strcmp(c->cfg.proxy, "none") != 0)
		curl_easy_setopt(e, CURLOPT_PROXY, c->cfg.proxy);
	else if (c->cfg.proxy != NULL || c->cfg.loopback)
		curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
	if (c->cfg.ca != NULL) {
		curl_easy_setopt(e, CURLOPT_CAINFO, c->cfg.ca);
		/* Else GnuTLS libcurl scans /etc/ssl/certs per connect. */
		curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	} else {
		/* The pin alone authenticates the relay's key. */
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
		curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
		curl_easy_setopt(e, CURLOPT_CAINFO, NULL);
	}
	if (c->cfg.pin != NULL)
		curl_easy_setopt(e, CURLOPT_PINNEDPUBLICKEY, c->cfg.pin);
	/* the certificate presented, to name its pin when it does not match */
	curl_easy_setopt(e, CURLOPT_CERTINFO, 1L);
	x->hdrs = curl_slist_append(NULL, c->auth_header);
	x->hdrs = curl_slist_append(x->hdrs, "Expect:");
	if (x->role == RELAY_PUBLISH) {
		x->hdrs = curl_slist_append(x->hdrs,
		    "Content-Type: application/octet-stream");
	} else {
		x->hdrs = curl_slist_append(x->hdrs,
		    "Content-Type: text/plain; charset=utf-8");
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	if (x->role == RELAY_READ) {
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION,
		    relay_net_write_read);
		/*
		 * Keep-alive batches arrive after 2 s of silence (the relay's
		 * --keepalive): nothing at all for RELAY_STALL_S is a stalled
		 * connection (a frozen middlebox), not a quiet session.
		 */
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)RELAY_STALL_S);
	} else
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION,
		    relay_net_write_text);
	if (x->role == RELAY_TIME) {
		curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, relay_net_prereq);
		curl_easy_setopt(e, CURLOPT_PREREQDATA, x);
		/* (set again at each start: relay_net_timeouts) */
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
		    (long)RELAY_PROBE_FIRST_MS);
	} else if (x->role == RELAY_CONTROL)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 40000L);
	else if (x->role != RELAY_READ)
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 15000L);
}

/*
 * Is a publish slot other than x waiting for its answer (its body ended)?
 * If x ended too, the next events of the streams it carries could go in
 * no body until that answer came: over a 300 ms round trip, sparse spikes
 * waited up to 300 ms more. So x ends for its age or for having nothing
 * to carry only when no other body is ending (by 4 times the age it ends
 * anyway).
 */
static int
relay_net_other_ending(const struct relay_client *c,
    const struct relay_xfer *x)
{
	const struct relay_xfer	*o;
	size_t			 i;

	for (i = 0; i < c->nxfers; i++) {
		o = &c->xfers[i];
		if (o != x && o->role == RELAY_PUBLISH && o->active &&
		    o->ending)
			return (1);
	}
	return (0);
}

/* libcurl read callback of a streaming publish body. */
static size_t
relay_net_read_body(char *buf, size_t size, size_t n, void *ctx)
{
	struct relay_xfer	*x = ctx;
	const struct relay_span	*sp;
	size_t			 want = size * n, got = 0, k;

	if (x->b.len == x->boff) {
		if (x->ending || (relay_mono_us() - x->started >=
		    RELAY_STREAM_MAX_US && !relay_net_other_ending(x->c, x))) {
			relay_net_end_body(x);
			return (0);	/* the body ends: the answer acks it */
		}
		x->rpaused = 1;
		return (CURL_READFUNC_PAUSE);
	}
	while (got < want && x->si < x->b.nspan) {
		sp = &x->b.span[x->si];
		k = sp->len - x->soff;
		if (k > want - got)
			k = want - got;
		memcpy(buf + got, sp->p + x->soff, k);
		got += k;
		if ((x->soff += k) == sp->len) {
			x->si++;
			x->soff = 0;
		}
	}
	x->boff += got;
	return (got);
}

/*
 * libcurl seek callback of a streaming publish body: a request sent
 * again on a new connection (the reused one was found dead) starts the
 * body over; the relay drops what it already stored.
 */
static int
relay_net_seek_body(void *ctx, curl_off_t offset, int origin)
{
	struct relay_xfer	*x = ctx;

	if (origin != SEEK_SET || offset < 0 || (size_t)offset > x->b.len)
		return (CURL_SEEKFUNC_CANTSEEK);
	x->boff = x->soff = (size_t)offset;
	for (x->si = 0; x->si < x->b.nspan &&
	    x->soff >= x->b.span[x->si].len; x->si++)
		x->soff -= x->b.span[x->si].len;
	return (CURL_SEEKFUNC_OK);
}

/* x's timeouts for the link's round trip as now known (relay.h). */
static void
relay_net_timeouts(struct relay_client *c, struct relay_xfer *x)
{
	/*
	 * The probes' round trip when there is one: a handshake whose SYN
	 * was lost (1 s and more) must not stretch every timeout for as
	 * long as its connection lasts.
	 */
	double rtt = c->probe_rtt_ms > 0 ? c->probe_rtt_ms :
	    c->connect_rtt_ms;

	curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT_MS,
	    relay_timeout_ms(RELAY_CONNECT_MS, 3, rtt));
	if (x->role == RELAY_TIME)
		curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, rtt > 0 ?
		    relay_timeout_ms(RELAY_PROBE_MS, 4, rtt) :
		    (long)RELAY_PROBE_FIRST_MS);
}

/* Start an exchange on x: GET when body is NULL, else POST body. */
static void
relay_net_begin(struct relay_client *c, struct relay_xfer *x,
    const char *path, const void *body, size_t len)
{
	char	*url;

	if (x->pin_epoch != c->pin_epoch) {
		/* repin: new connections check the new key */
		curl_easy_setopt(x->easy, CURLOPT_PINNEDPUBLICKEY, c->cfg.pin);
		x->pin_epoch = c->pin_epoch;
	}
	xasprintf(&url, "%s%s", c->cfg.url, path);
	curl_easy_setopt(x->easy, CURLOPT_URL, url);
	free(url);
	if (x->streaming) {
		/* chunked, from relay_net_read_body */
		curl_easy_setopt(x->easy, CURLOPT_POST, 1L);
		curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, NULL);
		curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)-1);
		curl_easy_setopt(x->easy, CURLOPT_READFUNCTION,
		    relay_net_read_body);
		curl_easy_setopt(x->easy, CURLOPT_READDATA, x);
		curl_easy_setopt(x->easy, CURLOPT_SEEKFUNCTION,
		    relay_net_seek_body);
		curl_easy_setopt(x->easy, CURLOPT_SEEKDATA, x);
	} else if (body != NULL) {
		curl_easy_setopt(x->easy, CURLOPT_POST, 1L);
		curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)len);
		curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, body);
	} else
		curl_easy_setopt(x->easy, CURLOPT_HTTPGET, 1L);
	x->rlen = 0;
	if (x->resp != NULL)
		x->resp[0] = '\0';
	x->t0 = x->t3 = 0;
	x->bad = 0;
	x->paused = 0;
	x->started = relay_mono_us();
	x->active = 1;
	relay_net_timeouts(c, x);
	curl_multi_add_handle(c->multi, x->easy);
}

/* Take a fresh snapshot of the outgoing streams. */
static void
relay_net_snapshot(struct relay_client *c, struct relay_net *net)
{
	struct relay_outq	*q = &c->out;
	unsigned		 added;

	/*
	 * Streams are only ever added, each at a fixed address: with none
	 * added since the last copy it still holds, and the lock (which
	 * the engine holds while it encodes a run of events) is not needed.
	 */
	added = __atomic_load_n(&q->streams_added, __ATOMIC_ACQUIRE);
	if (net->os_valid && added == net->os_added)
		return;
	pthread_mutex_lock(&q->lock);
	net->os_added = q->streams_added;
	net->os_valid = 1;
	if (q->nstreams > net->capos) {
		net->capos = q->nstreams * 2;
		net->os = xreallocarray(net->os, net->capos, sizeof *net->os);
	}
	if (q->nstreams > 0)	/* no stream yet: both arrays are NULL */
		memcpy(net->os, q->streams, q->nstreams * sizeof *q->streams);
	net->nos = q->nstreams;
	if (q->new_streams) {
		q->new_streams = 0;
		net->need_register = 1;
	}
	pthread_mutex_unlock(&q->lock);
}

/* Any publish request in flight? */
static int
relay_net_publishing(struct relay_client *c)
{
	size_t	i;

	for (i = 0; i < c->nxfers; i++) {
		if (c->xfers[i].role == RELAY_PUBLISH && c->xfers[i].active)
			return (1);
	}
	return (0);
}

/* Note that request x carries s (and, publishing, up to which seq). */
static void
relay_net_pub_add(struct relay_xfer *x, struct relay_ostream *s)
{
	if (x->npub == x->cappub) {
		x->cappub = x->cappub * 2 + 8;
		x->pub = xreallocarray(x->pub, x->cappub, sizeof *x->pub);
		x->pub_last = xreallocarray(x->pub_last, x->cappub,
		    sizeof *x->pub_last);
	}
	x->pub_last[x->npub] = relay_outq_last_inflight(s);
	x->pub[x->npub++] = s;
}

/* Request x takes no more of the streams it carries. */
static void
relay_net_uncarry(struct relay_xfer *x)
{
	size_t	i;

	for (i = 0; i < x->npub; i++) {
		if (x->pub[i]->carrier == x)
			x->pub[i]->carrier = NULL;
	}
}

/*
 * A streaming body takes no more: the streams it carries may go in the
 * other slot's next body at once (relay_outq_overlap), while its answer
 * is still a round trip away.
 */
static void
relay_net_end_body(struct relay_xfer *x)
{
	x->ending = 1;
	relay_net_uncarry(x);
}

/*
 * End x's streaming body from outside its read callback: a callback that
 * paused for want of data is resumed, so that libcurl sends the body's
 * end (and the answer comes).
 */
static void
relay_net_close_body(struct relay_xfer *x)
{
	relay_net_end_body(x);
	if (x->rpaused) {
		x->rpaused = 0;
		curl_easy_pause(x->easy, CURLPAUSE_CONT);
	}
}

/* Register the streams the relay does not know yet (this connection). */
static void
relay_net_register(struct relay_client *c, struct relay_net *net,
    struct relay_xfer *x, int64_t now)
{
	struct relay_ostream	*s;
	size_t			 i, len;
	char			 line[256];

	if (!net->need_register || x->active || now < x->not_before ||
	    relay_net_publishing(c))
		return;
	x->b.len = x->npub = 0;
	for (i = 0; i < net->nos; i++) {
		s = net->os[i];
		if (s->registered || s->refused)
			continue;
		len = (size_t)snprintf(line, sizeof line, "%s 0\n", s->name);
		if (x->b.len + len > x->b.cap) {
			x->b.cap = x->b.len + len + 4096;
			x->b.buf = xrealloc(x->b.buf, x->b.cap);
		}
		memcpy(x->b.buf + x->b.len, line, len);
		x->b.len += len;
		relay_net_pub_add(x, s);
		if (net->register_singly)
			break;
	}
	if (x->npub == 0) {
		net->need_register = 0;
		return;
	}
	relay_net_begin(c, x, "/v1/streams", x->b.buf, x->b.len);
}

/*
 * Append what is due to x's body: more of the streams it carries, and
 * streams that are ready and in no request. Returns batches appended.
 */
static size_t
relay_net_append(struct relay_client *c, struct relay_net *net,
    struct relay_xfer *x, int64_t now, int64_t *due, int busy)
{
	struct relay_ostream	*s;
	size_t			 i, j, added = 0;
	uint64_t		 resent = 0, followed = 0;
	int			 carried, follows;

	/*
	 * A batch that does not fit in a body already begun waits for the
	 * next body; each new body starts its scan one stream on, so that
	 * the first streams cannot keep the others out.
	 */
	for (i = 0; i < net->nos && x->b.len < c->body_max; i++) {
		s = net->os[(net->first_os + i) % net->nos];
		carried = x->streaming && s->busy && s->carrier == x &&
		    !s->broken;
		if (carried ? !relay_outq_unsent(&c->out, s) :
		    !relay_outq_ready(&c->out, s, busy, now, due))
			continue;
		follows = !carried && relay_outq_overlap(s);
		if (relay_outq_fill(&c->out, s, &x->b, c->body_max,
		    &resent) == 0)
			continue;
		added++;
		followed += follows;
		if (carried) {
			for (j = 0; j < x->npub && x->pub[j] != s; j++)
				;
			if (j < x->npub)
				x->pub_last[j] = relay_outq_last_inflight(s);
			continue;
		}
		s->carrier = x;
		relay_net_pub_add(x, s);
	}
	if (resent != 0 || followed != 0) {
		pthread_mutex_lock(&c->stat_lock);
		c->health.retransmits += resent;
		c->health.followed += followed;
		pthread_mutex_unlock(&c->stat_lock);
	}
	return (added);
}

/*
 * A streaming body in flight: give it what was cut since, and end it
 * when it is full, old or idle, or a registration waits for it.
 */
static void
relay_net_stream_more(struct relay_client *c, struct relay_net *net,
    struct relay_xfer *x, int64_t now, int64_t *due)
{
	int64_t	end;
	int	wait;

	if (x->ending)
		return;
	if (!net->need_register &&
	    relay_net_append(c, net, x, now, due, 0) > 0)
		x->last_append = now;
	/*
	 * Past its age a body ends when all it holds is sent (in
	 * relay_net_read_body), which for paced events is right after one
	 * went out, so the next seldom waits for the answer; at 4 times the
	 * age it ends anyway. While the other slot's body waits for its
	 * answer it stays open (relay_net_other_ending): the answer's
	 * arrival wakes this thread to look again.
	 */
	wait = relay_net_other_ending(c, x);
	if (x->b.len >= c->body_max || net->need_register ||
	    now - x->started >= 4 * RELAY_STREAM_MAX_US ||
	    (x->b.len == x->boff && !wait &&
	    (now - x->started >= RELAY_STREAM_MAX_US ||
	    now - x->last_append >= RELAY_STREAM_IDLE_US)))
		relay_net_end_body(x);
	else {
		end = x->started + (now - x->started < RELAY_STREAM_MAX_US &&
		    !wait ? RELAY_STREAM_MAX_US : 4 * RELAY_STREAM_MAX_US);
		if (!wait && x->last_append + RELAY_STREAM_IDLE_US < end)
			end = x->last_append + RELAY_STREAM_IDLE_US;
		/*
		 * With bytes still to send, the socket taking them wakes this
		 * loop, which looks again then: the age and idle ends, often
		 * long past while a slow link holds the bytes, must not be the
		 * wait's due time (they made the loop spin until the link took
		 * them). Only the end at 4 times the age (still ahead, or the
		 * body would have ended above) is kept, so that a stalled body
		 * ends on time and its next batches go in the other slot.
		 * (A stall of about 1 s over a 300 ms link, once taken for a
		 * wake this missed, was the relay refusing a later body that
		 * came before the earlier one's connection was open: see
		 * RELAY_HOLE_GRACE_US in synbridge-relay.)
		 */
		if (x->b.len > x->boff)
			end = x->started + 4 * RELAY_STREAM_MAX_US;
		if (end < *due)
			*due = end;
	}
	if (x->rpaused && (x->b.len > x->boff || x->ending)) {
		x->rpaused = 0;
		curl_easy_pause(x->easy, CURLPAUSE_CONT);
	}
}

/* Publish what is due on a slot: a new body, or more of a stream. */
static void
relay_net_publish(struct relay_client *c, struct relay_net *net,
    struct relay_xfer *x, int64_t now, int64_t *due)
{
	int	busy;

	if (x->active) {
		if (x->streaming)
			relay_net_stream_more(c, net, x, now, due);
		return;
	}
	if (net->need_register || now < x->not_before)
		return;
	/* A stream of bodies lets events gather while one is in flight. */
	busy = c->cfg.publish_bodies ? relay_net_publishing(c) : 0;
	x->b.len = x->b.nspan = x->npub = x->boff = x->si = x->soff = 0;
	/* a streaming body sends the kept batches where they are */
	x->streaming = x->b.by_ref = !c->cfg.publish_bodies;
	if (relay_net_append(c, net, x, now, due, busy) == 0)
		return;
	net->first_os = net->nos > 0 ? (net->first_os + 1) % net->nos : 0;
	x->ending = x->rpaused = 0;
	x->last_append = now;
	relay_net_begin(c, x, "/v1/publish", x->b.buf, x->b.len);
}

/*
 * The read request for what is read now, on x, with the reads' backoff
 * (one for both slots): 0, or -1 if nothing is read. A successor asks on
 * a connection of its own: it is the one connection more while the read
 * changes, which a relay at its bound (--max-per-ip) refuses at once, a
 * quiet failure (relay_net_done). Were it to take a connection the other
 * exchanges keep open, the list asked again or a clock probe would open
 * the one more instead, and its refusal would be a failure of the link.
 */
static int
relay_net_read_begin(struct relay_client *c, struct relay_xfer *x,
    int successor)
{
	char	*path = NULL, *old;
	size_t	 i;

	for (i = 0; i < c->nin; i++) {
		if (!c->in[i]->read)
			continue;
		old = path;
		xasprintf(&path, "%s%s%" PRIu32 ":%" PRIu64,
		    old == NULL ? "/v1/read?streams=" : old,
		    old == NULL ? "" : ",", c->in[i]->id, c->in[i]->last_seq);
		free(old);
	}
	c->read_changed = c->read_in_place = 0;
	if (path == NULL)
		return (-1);
	/* the life of the session these ids and seqs belong to */
	if (c->epoch != 0) {
		old = path;
		xasprintf(&path, "%s&epoch=%" PRIu64, old, c->epoch);
		free(old);
	}
	x->failures = c->read_failures;
	relay_parser_reset(x->parser);
	curl_easy_setopt(x->easy, CURLOPT_FRESH_CONNECT, (long)successor);
	relay_net_begin(c, x, path, NULL, 0);
	free(path);
	return (0);
}

/*
 * End a read request of ours. The relay sees its connection close when it
 * next writes to it: a batch, or a keep-alive at the latest.
 */
static void
relay_net_read_cut(struct relay_client *c, struct relay_xfer *x)
{
	curl_multi_remove_handle(c->multi, x->easy);
	x->active = x->successor = x->taking_over = 0;
	relay_net_state(c)->read_cut_at = relay_mono_us();
}

/*
 * The read requests. When what is read changes, a second request (the
 * successor) asks for it while the first reads on; once the relay answers
 * the successor, the first ends. Both deliver meanwhile: a batch the
 * other gave already is a duplicate by its sequence number and dropped
 * (relay_net_item), and each starts where the streams were when it was
 * asked, so neither makes a false gap. (One exception, no worse than
 * before: the successor's gap for batches the relay no longer holds can
 * come first while the first read, paused for an engine behind, still
 * holds some of them; those are then counted lost, as a cut read lost
 * them. A batch the relay rejects is counted twice meanwhile.) Before,
 * the read was cut and asked
 * again, and every stream it read stopped each time a site declared one:
 * for the request's round trip at least (202 ms over a 200 ms round trip
 * in test_read_switch_keeps_streams, against 13 ms now), and two round
 * trips more when it needed a new connection and TLS handshake.
 *
 * In place of the first (cut, then asked again on its slot): after a new
 * life of the relay's session, whose stream ids and positions the first
 * read no longer matches (its batches of a reused id would make a false
 * gap), and after a successor failed (a relay at its connection bound).
 */
static void
relay_net_reads(struct relay_client *c, int64_t now)
{
	struct relay_xfer	*x, *cur = NULL, *next = NULL, *idle = NULL;
	size_t			 i;

	for (i = 0; i < c->nxfers; i++) {
		x = &c->xfers[i];
		if (x->role != RELAY_READ)
			continue;
		if (!x->active) {
			x->successor = x->taking_over = 0;
			if (idle == NULL)
				idle = x;
		} else if (x->successor)
			next = x;
		else
			cur = x;
	}
	/* the relay answered the successor, or the read it replaces ended */
	if (next != NULL && (next->taking_over || cur == NULL)) {
		if (cur != NULL) {
			relay_net_read_cut(c, cur);
			idle = cur;
		}
		next->successor = next->taking_over = 0;
		cur = next;
		next = NULL;
	}
	if (!c->read_changed) {
		if (cur == NULL && next == NULL && idle != NULL &&
		    now >= c->read_not_before)
			(void)relay_net_read_begin(c, idle, 0);
		return;
	}
	/* what is read changed: a successor asked for less is asked again */
	if (next != NULL) {
		relay_net_read_cut(c, next);
		idle = next;
	}
	if (cur != NULL && c->read_in_place) {
		relay_net_read_cut(c, cur);
		(void)relay_net_read_begin(c, cur, 0);
		return;
	}
	if (cur == NULL) {
		if (idle != NULL && now >= c->read_not_before)
			(void)relay_net_read_begin(c, idle, 0);
		return;		/* (else read_changed stays: the next look) */
	}
	if (idle != NULL && relay_net_read_begin(c, idle, 1) == 0)
		idle->successor = 1;
	else if (idle != NULL)
		relay_net_read_cut(c, cur);	/* nothing is read any more */
}

/* Post the next waiting command or result. */
static void
relay_net_msg(struct relay_client *c, struct relay_xfer *x, int64_t now)
{
	struct relay_msg	*m;

	if (x->active || now < x->not_before)
		return;
	pthread_mutex_lock(&c->msg_lock);
	if ((m = c->msgs) != NULL) {
		c->msgs = m->next;
		if (c->msgs == NULL)
			c->msgs_tail = &c->msgs;
	}
	pthread_mutex_unlock(&c->msg_lock);
	if (m == NULL)
		return;
	x->msg = m;
	relay_net_begin(c, x, m->path, m->body, strlen(m->body));
}

/* Free one message. */
static void
relay_net_msg_free(struct relay_msg *m)
{
	free(m->path);
	free(m->body);
	free(m->to);
	free(m);
}

/* Start whatever is due; lowers *due to the next time something is. */
static void
relay_net_schedule(struct relay_client *c, struct relay_net *net,
    int64_t now, int64_t *due)
{
	struct relay_xfer	*x;
	size_t			 i;
	char			 path[64];
	int			 reads = 0;
	int64_t			 at;

	relay_net_snapshot(c, net);
	if (c->link_failures > 0) {
		/*
		 * The link failed: one clock probe tries, when it is time. A
		 * streaming body still open (kept open while the failed one
		 * was ending, relay_net_other_ending) ends now, so that its
		 * answer acknowledges what it carried instead of the body
		 * waiting out the backoff.
		 */
		for (i = 0; i < c->nxfers; i++) {
			x = &c->xfers[i];
			if (x->role == RELAY_PUBLISH && x->active &&
			    x->streaming && !x->ending)
				relay_net_close_body(x);
			if (x->role != RELAY_TIME || x->active)
				continue;
			if (now >= c->link_not_before)
				relay_net_begin(c, x, "/v1/time", NULL, 0);
			else if (c->link_not_before < *due)
				*due = c->link_not_before;
		}
		return;
	}
	for (i = 0; i < c->nxfers; i++) {
		x = &c->xfers[i];
		if (!x->active && x->not_before > now && x->not_before < *due)
			*due = x->not_before;
		switch (x->role) {
		case RELAY_REGISTER:
			relay_net_register(c, net, x, now);
			break;
		case RELAY_PUBLISH:
			relay_net_publish(c, net, x, now, due);
			break;
		case RELAY_LIST:
			if (!x->active && now >= net->list_at &&
			    now >= x->not_before) {
				net->list_at = now + (now - net->born <
				    RELAY_LIST_EARLY_FOR_US ? RELAY_LIST_EARLY_US :
				    RELAY_LIST_EVERY_US);
				if (net->list_version != 0)
					snprintf(path, sizeof path,
					    "/v1/streams?known=%" PRIu64
					    "&hold=%d", net->list_version,
					    RELAY_LIST_EVERY_US / 1000000);
				else
					snprintf(path, sizeof path,
					    "/v1/streams");
				relay_net_begin(c, x, path, NULL, 0);
			}
			/* (one in flight: its answer ends the wait) */
			if (!x->active && net->list_at < *due)
				*due = net->list_at;
			break;
		case RELAY_READ:
			if (!reads) {
				relay_net_reads(c, now);
				reads = 1;
			}
			break;
		case RELAY_CONTROL:
			/* after the first listing: it says where to resume */
			if (c->listed && !x->active && now >= x->not_before) {
				snprintf(path, sizeof path,
				    "/v1/control?after=%" PRIu64,
				    c->control_after);
				relay_net_begin(c, x, path, NULL, 0);
			}
			break;
		case RELAY_TIME:
			if (now >= net->burst_at) {
				net->burst_at = now + RELAY_BURST_EVERY_US;
				net->burst_left = RELAY_BURST_PROBES;
				pthread_mutex_lock(&c->stat_lock);
				relay_clock_burst(&c->clock);
				pthread_mutex_unlock(&c->stat_lock);
			}
			if (!x->active && now >= x->not_before &&
			    (net->burst_left > 0 || now >= net->probe_at))
				relay_net_begin(c, x, "/v1/time", NULL, 0);
			/*
			 * A probe in flight ends the wait by itself: its due
			 * time, long passed while the relay is slow to
			 * answer, must not turn the wait into a busy loop.
			 */
			if (!x->active && net->probe_at < *due)
				*due = net->probe_at;
			if (net->burst_at < *due)
				*due = net->burst_at;
			break;
		case RELAY_MSG:
			relay_net_msg(c, x, now);
			break;
		case RELAY_PRESENCE:
			/* once linked (the list came), every 2 s */
			if (!c->listed || x->active || c->cfg.no_sites)
				break;
			at = net->presence_at > x->not_before ?
			    net->presence_at : x->not_before;
			if (now >= at) {
				relay_net_begin(c, x, "/v1/health", NULL, 0);
				net->presence_at = now +
				    RELAY_PRESENCE_EVERY_US;
			} else if (at < *due)
				*due = at;
			break;
		}
	}
}

/*
 * GET /v1/health answered: the session's sites as the relay sees them.
 * A site that was reading keeps that in was_reading, so that one that
 * stops (its console quit or lost its link) shows at once.
 */
static void
relay_net_presence(struct relay_client *c, struct relay_xfer *x, int64_t now)
{
	struct relay_presence	 got[RELAY_PRESENCE_MAX];
	char			*p = x->resp, *line;
	size_t			 n = 0;

	while (n < RELAY_PRESENCE_MAX && (line = relay_text_line(&p)) != NULL)
		if (relay_text_presence(line, &got[n]) == 0)
			n++;	/* (a line it cannot read is left out) */
	pthread_mutex_lock(&c->stat_lock);
	relay_presence_merge(got, n, c->presence, c->npresence);
	memcpy(c->presence, got, n * sizeof *got);
	c->npresence = n;
	c->presence_us = now;
	pthread_mutex_unlock(&c->stat_lock);
}

/* The first line of an error answer, for messages. */
static const char *
relay_net_answer(struct relay_xfer *x)
{
	char	*nl;

	if (x->resp == NULL || x->rlen == 0)
		return ("no answer text");
	if ((nl = strchr(x->resp, '\n')) != NULL)
		*nl = '\0';
	return (x->resp);
}

/*
 * The relay, or a proxy in front of it (nginx takes 1 MB by default),
 * refused a publish body as too large: send smaller bodies from now on.
 * The limit the relay names ("... over the limit of N for ...") is taken
 * when it is given; otherwise the body is halved until it passes. New
 * batches are cut to fit, and a single batch that is too large alone
 * goes again split into batches that fit (relay_outq_split); one that
 * cannot be split (a queue without the batch) waits, with backoff, for
 * batch_events= to be lowered or the limit raised.
 */
static void
relay_net_too_large(struct relay_client *c, struct relay_xfer *x,
    int64_t now)
{
	const char	*answer = relay_net_answer(x), *p;
	unsigned long long limit = 0;
	size_t		 i, k, batches = 0, was = c->body_max;
	struct relay_ostream *one = NULL, *s;
	uint64_t	 from, one_seq = 0;

	for (i = 0; i < x->npub; i++) {
		/* this request's own batches (a later one follows from) */
		s = x->pub[i];
		from = s->busy >= 2 && x->pub_last[i] >= s->second_from ?
		    s->second_from : 0;
		for (k = 0; k < s->nunacked; k++) {
			if (s->unacked[k].seq < from ||
			    s->unacked[k].seq > x->pub_last[i])
				continue;
			if (batches++ == 0)
				one_seq = s->unacked[k].seq;
			one = s;
		}
		relay_outq_failed(&c->out, s);
	}
	if ((p = strstr(answer, "the limit of ")) != NULL &&
	    sscanf(p, "the limit of %llu ", &limit) != 1)
		limit = 0;
	if (limit == 0 || limit >= x->b.len)
		limit = x->b.len / 2;
	if (limit < RELAY_BODY_MIN)
		limit = RELAY_BODY_MIN;
	/* new batches are cut to fit from now on */
	if (limit < c->body_max)
		relay_outq_batch_bytes(&c->out, limit);
	if (batches <= 1) {
		/*
		 * One batch alone is too large: it goes again in pieces
		 * (the relay stored none of it), numbered in its place.
		 */
		if (limit > c->body_max)
			limit = c->body_max;
		if (one != NULL && relay_outq_split_later(&c->out, one,
		    one_seq, limit) > 1) {
			c->body_max = limit;
			relay_client_error(c, "relay: the relay refused a "
			    "batch of %zu bytes as too large (%s); sending at "
			    "most %zu bytes per batch and per request from now "
			    "on (the batch goes again, split)", x->b.len,
			    answer, c->body_max);
			return;
		}
		x->failures++;
		x->not_before = now + relay_net_backoff(x->failures);
		if (x->failures == 1)
			relay_client_error(c, "relay: the relay refuses one "
			    "batch of %zu bytes as too large (%s): lower "
			    "batch_events= (now %u) or raise the relay's "
			    "--max-body; the batch waits", x->b.len, answer,
			    c->cfg.batch_events);
		return;
	}
	if (limit < c->body_max)
		c->body_max = limit;
	if (c->body_max == was) {
		/* at the floor already: not at once again */
		x->failures++;
		x->not_before = now + relay_net_backoff(x->failures);
	}
	if (c->body_max != was)
		relay_client_error(c, "relay: the relay refused a body of %zu "
		    "bytes as too large (%s); sending at most %zu bytes per "
		    "request from now on", x->b.len, answer, c->body_max);
}

/* The relay answered a publish request. */
static void
relay_net_published(struct relay_client *c, struct relay_net *net,
    struct relay_xfer *x, long code, int64_t now)
{
	struct relay_ostream	*s;
	char			*p = x->resp, *line;
	uint32_t		 id;
	uint64_t		 seq, before, acked = 0;
	size_t			 i;

	relay_net_uncarry(x);	/* it is over */
	if (code == 413) {
		relay_net_too_large(c, x, now);
		return;
	}
	if (code != 200) {
		for (i = 0; i < x->npub; i++)
			relay_outq_failed(&c->out, x->pub[i]);
		if (code == 409 || code == 403) {
			/* The relay is elsewhere: ask it where. */
			for (i = 0; i < net->nos; i++)
				net->os[i]->registered = 0;
			net->need_register = 1;
		}
		if (code == 400) {
			relay_client_error(c, "relay: the relay refused a "
			    "batch (%s); dropping it", relay_net_answer(x));
			for (i = 0; i < x->npub; i++) {
				relay_outq_drop_all(&c->out, x->pub[i]);
				x->pub[i]->registered = 0;
			}
			net->need_register = 1;
		} else if (code != 409 && code != 0)
			relay_client_error(c, "relay: publish: HTTP %ld: %s",
			    code, relay_net_answer(x));
		return;
	}
	/* Answer lines "ID HIGHEST" (a handful: one per stream sent). */
	while ((line = relay_text_line(&p)) != NULL) {
		if (relay_text_acked(line, &id, &seq) != 0)
			continue;
		for (i = 0; i < x->npub; i++) {
			s = x->pub[i];
			if (s->id != id || x->pub_last[i] == 0)
				continue;
			before = s->unacked_events;
			relay_outq_ack(&c->out, s, seq, x->pub_last[i]);
			x->pub_last[i] = 0;	/* answered */
			acked += before - s->unacked_events;
		}
	}
	for (i = 0; i < x->npub; i++) {
		if (x->pub_last[i] != 0)
			relay_outq_failed(&c->out, x->pub[i]);
	}
	pthread_mutex_lock(&c->stat_lock);
	c->health.out_events += acked;
	c->health.last_batch_us = now;
	pthread_mutex_unlock(&c->stat_lock);
}

/* The relay answered a registration. */
static void
relay_net_registered(struct relay_client *c, struct relay_net *net,
    struct relay_xfer *x, long code)
{
	struct relay_listed	 r;
	struct relay_ostream	*s;
	struct relay_istream	*is;
	char			*p = x->resp, *line;
	size_t			 i;

	if (code == 403 && x->npub == 1) {
		s = x->pub[0];
		s->refused = 1;
		relay_outq_drop_all(&c->out, s);
		relay_client_error(c, "relay: the relay refuses stream %s "
		    "(%s): its events are dropped; allow it in the "
		    "relay's tokens "
		    "file", s->name, relay_net_answer(x));
		return;
	}
	if (code == 403) {
		net->register_singly = 1;
		return;
	}
	if (code != 200) {
		relay_client_error(c, "relay: registering streams: HTTP %ld: "
		    "%s", code, relay_net_answer(x));
		return;
	}
	while ((line = relay_text_line(&p)) != NULL) {
		if (relay_text_registered(line, &r) != 0)
			continue;
		for (i = 0; i < x->npub; i++) {
			s = x->pub[i];
			if (strcmp(s->name, r.name) != 0)
				continue;
			s->id = r.id;
			relay_outq_resync(&c->out, s, r.seq);
			s->registered = 1;
			/*
			 * A list answered before this (the registration wakes
			 * held lists) may have taken it for another site's
			 * stream, when this console's site name is not its
			 * token's: it is not read.
			 */
			if ((is = relay_net_istream(c, r.id)) != NULL &&
			    is->read) {
				is->read = 0;
				c->read_changed = 1;
			}
		}
	}
}

/*
 * May the listed stream (id, name) be one of this site's own? Yes if a
 * registration gave it that id (which holds across a reconnection, until
 * a new life of the session: relay_net_new_life), and, while one of this
 * site's streams of that name has no id yet (at first, after a new life),
 * yes by the name alone: a console whose site name is not its
 * token's cannot tell its own stream by the site. Another site's stream
 * of the same name is then read from the next listing, which the
 * registration brings.
 */
static int
relay_net_own(struct relay_net *net, uint32_t id, const char *name)
{
	size_t	i;

	for (i = 0; i < net->nos; i++) {
		if (net->os[i]->id != 0 ? net->os[i]->id == id :
		    strcmp(net->os[i]->name, name) == 0)
			return (1);
	}
	return (0);
}

/* A number header (name) of x's answer, or 0. */
static uint64_t
relay_net_header_u64(struct relay_xfer *x, const char *name)
{
	struct curl_header	*h;

	if (curl_easy_header(x->easy, name, 0, CURLH_HEADER, -1, &h) !=
	    CURLHE_OK)
		return (0);
	return (strtoull(h->value, NULL, 10));
}

/* The session's epoch a GET /v1/streams answer names, or 0. */
static uint64_t
relay_net_epoch(struct relay_xfer *x)
{
	return (relay_net_header_u64(x, RELAY_EPOCH_HEADER));
}

/* Can the host keep cursors (a host whose api covers them)? */
static int
relay_net_cursors(struct relay_client *c)
{
	return (c->host->size >= offsetof(struct sb_host_api, cursor_set) +
	    sizeof c->host->cursor_set && c->host->cursor_get != NULL &&
	    c->host->cursor_set != NULL);
}

/*
 * The relay came back without its spool: a new life of the session whose
 * seqs start again from 1 and whose stream ids may differ. What the old
 * life held that this reader had not read yet is lost: a gap for each
 * stream where that is known. The old streams stay (their names are in
 * items still queued) but match no id any more.
 */
static void
relay_net_new_life(struct relay_client *c)
{
	struct relay_net	*net;
	struct relay_istream	*is;
	struct relay_item	*gap;
	size_t			 i;

	relay_client_error(c, "relay: the relay's session started a new life "
	    "(restarted without its spool): reading every stream of it "
	    "from the start");
	for (i = 0; i < c->nin; i++) {
		is = c->in[i];
		if (is->id == 0)
			continue;
		if (is->read && is->highest > is->last_seq) {
			gap = xcalloc(1, sizeof *gap);
			gap->type = RELAY_ITEM_GAP;
			gap->site = is->site;
			gap->stream = is->name;
			gap->seq = is->last_seq + 1;
			gap->last_seq = is->highest;
			gap->epoch = c->epoch;
			gap->text = xstrdup("at least these: the relay "
			    "restarted without its spool before this site "
			    "read them");
			relay_client_push(c, gap);
		}
		is->id = 0;
		is->read = 0;
	}
	/* this site's streams are registered again, under new ids */
	net = relay_net_state(c);
	for (i = 0; i < net->nos; i++) {
		net->os[i]->id = 0;
		net->os[i]->registered = 0;
	}
	net->need_register = 1;
	/* (cut, not overlapped: the read asked for the old ids and places) */
	c->read_changed = c->read_in_place = 1;
	c->control_after = 0;	/* messages are numbered anew too */
}

/*
 * This console was away while the relay's session started a new life:
 * what the old life held after its last record is gone, in a number
 * nobody can tell any more. A gap of the stream says so.
 */
static void
relay_net_lost_life(struct relay_client *c, struct relay_istream *is)
{
	struct relay_item	*gap = xcalloc(1, sizeof *gap);

	gap->type = RELAY_ITEM_GAP;
	gap->site = is->site;
	gap->stream = is->name;
	gap->epoch = c->epoch;
	gap->text = xstrdup("an unknown number of events published after "
	    "this console's last record: the relay restarted without its "
	    "spool while it was away");
	relay_client_push(c, gap);
}

/*
 * The first listing: where to start each stream. A console restarted on
 * the log directory it recorded to resumes after the last batch it
 * recorded (the host's cursors, same epoch); one whose relay session
 * started a new life meanwhile reads the new life from the start.
 * Returns 1 to resume, 2 to read everything, 0 to join as configured.
 */
static int
relay_net_first_list(struct relay_client *c, uint64_t epoch)
{
	uint64_t	 said;
	char		 key[64];

	if (epoch == 0 || !relay_net_cursors(c))
		return (0);
	said = c->host->cursor_get(c->plugin, "epoch");
	if (said == 0)
		return (0);
	if (said == epoch) {
		/* and the control stream after the last message handled */
		snprintf(key, sizeof key, "%" PRIu64 " control", epoch);
		c->control_after = c->host->cursor_get(c->plugin, key);
		relay_client_error(c, "relay: resuming each stream after the "
		    "last batch this console recorded");
		return (1);
	}
	relay_client_error(c, "relay: the relay's session started a new "
	    "life while this console was away (restarted without its "
	    "spool): what it held then is lost; reading the new one from "
	    "the start");
	return (2);
}

/* The stream list: learn names, pick what to read. */
static void
relay_net_listed(struct relay_client *c, struct relay_net *net,
    struct relay_xfer *x)
{
	struct relay_listed	 r;
	struct relay_istream	*is;
	const char		*me = c->host->site(c->plugin);
	char			*p = x->resp, *line, key[512];
	uint64_t		 epoch = relay_net_epoch(x);
	int			 want, start = 0;

	if (!c->listed)
		start = relay_net_first_list(c, epoch);
	else if (epoch != 0 && c->epoch != 0 && epoch != c->epoch)
		relay_net_new_life(c);
	if (epoch != 0)
		c->epoch = epoch;
	while ((line = relay_text_line(&p)) != NULL) {
		if (relay_text_listed(line, &r) != 0)
			continue;
		want = !relay_net_own(net, r.id, r.name) &&
		    (me == NULL || strcmp(me, r.site) != 0) &&
		    relay_config_wants(&c->cfg, r.site, r.name);
		if ((is = relay_net_istream(c, r.id)) == NULL) {
			is = xcalloc(1, sizeof *is);
			is->id = r.id;
			is->site = xstrdup(r.site);
			is->name = xstrdup(r.name);
			is->units = r.units;
			if (start == 1) {
				/* after what this console recorded */
				snprintf(key, sizeof key, "%" PRIu64 " %s/%s",
				    epoch, r.site, r.name);
				is->last_seq = c->host->cursor_get(c->plugin,
				    key);
			} else if (!c->listed && !c->cfg.from_start &&
			    start == 0)
				/* joining: live from now; later streams: all */
				is->last_seq = r.seq;
			c->in = xreallocarray(c->in, c->nin + 1,
			    sizeof *c->in);
			c->in[c->nin++] = is;
		}
		is->highest = r.seq;
		if (want && start == 2 && !is->read)
			relay_net_lost_life(c, is);
		if (want != is->read) {
			is->read = want;
			c->read_changed = 1;
		}
	}
	c->listed = 1;
}

/* The control long-poll answered. */
static void
relay_net_controlled(struct relay_client *c, struct relay_xfer *x)
{
	struct relay_item	*item;
	char			*p = x->resp, *line;
	uint64_t		 n;

	while ((line = relay_text_line(&p)) != NULL) {
		if ((item = relay_text_control(line, &n)) == NULL)
			continue;
		if (n <= c->control_after) {
			relay_item_free(item);
			continue;
		}
		c->control_after = n;
		item->seq = n;		/* for the host's cursor */
		item->epoch = c->epoch;
		relay_client_push(c, item);
	}
}

/* A clock probe answered: one NTP sample. */
static void
relay_net_timed(struct relay_client *c, struct relay_net *net,
    struct relay_xfer *x, int64_t now)
{
	struct relay_rtt_stats rtt;
	long long	 t1, t2;
	int64_t		 t0 = x->t0, t3 = x->t3 != 0 ? x->t3 : now;
	int64_t		 off, unc;
	uint64_t	 steps;
	int		 stepped, changed = 0;

	if (net->burst_left > 0)
		net->burst_left--;
	net->probe_at = now + RELAY_PROBE_EVERY_US;
	if (t0 == 0 || sscanf(x->resp, "%lld %lld", &t1, &t2) != 2)
		return;
	pthread_mutex_lock(&c->stat_lock);
	steps = c->clock.steps;
	relay_clock_add(&c->clock, t0, t1, t2, t3);
	/* a step: follow the new clock quickly, a burst of probes now */
	if ((stepped = c->clock.steps != steps))
		net->burst_at = now;
	relay_health_rtt(&c->health,
	    (double)((t3 - t0) - (t2 - t1)) / 1000.0);
	relay_health_rtt_stats(&c->health, &rtt);
	c->out.follow = rtt.min >= RELAY_FOLLOW_RTT_MS;
	c->probe_rtt_ms = rtt.p99;
	if (relay_clock_estimate(&c->clock, now) == 0) {
		off = relay_clock_offset_at(&c->clock, now);
		unc = (int64_t)(c->clock.uncertainty_us + 0.5);
		if (!c->clock_known || off != c->clock_offset_us ||
		    unc != c->clock_unc_us) {
			c->clock_offset_us = off;
			c->clock_unc_us = unc;
			c->clock_known = 1;
			c->clock_changed = changed = 1;
			pthread_cond_broadcast(&c->clock_cond);
		}
	}
	pthread_mutex_unlock(&c->stat_lock);
	if (changed)
		relay_client_wake_host(c);
	if (stepped)
		relay_client_error(c, "relay: the relay's session clock and "
		    "this host's stepped apart (this host was suspended, or "
		    "the relay restarted without its spool or after a reboot "
		    "with another wall clock): estimating the offset afresh");
}

/* A posted command or result was answered. */
static void
relay_net_msged(struct relay_client *c, struct relay_xfer *x, long code)
{
	struct relay_msg	*m = x->msg;
	struct relay_item	*item;

	x->msg = NULL;
	if (code / 100 == 2 || m == NULL) {
		if (m != NULL)
			relay_net_msg_free(m);
		return;
	}
	if (code / 100 == 4 && code != 429) {
		if (m->is_command) {
			item = xcalloc(1, sizeof *item);
			item->type = RELAY_ITEM_RESULT;
			item->id = m->id;
			item->status = -1;
			xasprintf(&item->text, "relay: the relay refused the "
			    "command for %s: %s", m->to, relay_net_answer(x));
			relay_client_push(c, item);
		} else {
			relay_client_error(c, "relay: the relay refused the "
			    "result for %s: %s", m->to, relay_net_answer(x));
		}
		relay_net_msg_free(m);
		return;
	}
	/* Try again later, first in line. */
	pthread_mutex_lock(&c->msg_lock);
	m->next = c->msgs;
	c->msgs = m;
	if (m->next == NULL)
		c->msgs_tail = &m->next;
	pthread_mutex_unlock(&c->msg_lock);
}

/*
 * An exchange that made a new connection timed its TCP handshake: one
 * round trip, known even when the exchange failed after it (a probe that
 * ran out of time on a long link), so the next one is given enough.
 */
static void
relay_net_connect_rtt(struct relay_client *c, struct relay_xfer *x)
{
	curl_off_t conn = 0, dns = 0;
	long n = 0;

	if (curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &n) !=
	    CURLE_OK || n <= 0 ||
	    curl_easy_getinfo(x->easy, CURLINFO_CONNECT_TIME_T, &conn) !=
	    CURLE_OK || conn <= 0)
		return;
	if (curl_easy_getinfo(x->easy, CURLINFO_NAMELOOKUP_TIME_T, &dns) !=
	    CURLE_OK || dns > conn)
		dns = 0;
	c->connect_rtt_ms = (double)(conn - dns) / 1000.0;
}

/* One exchange ended: account for it and hand on what it brought. */
static void
relay_net_done(struct relay_client *c, struct relay_net *net,
    struct relay_xfer *x, CURLcode result, int64_t now)
{
	long		code = 0, answered = 0;
	curl_off_t	retry = 0;
	char		*presented;
	int		ok;

	curl_multi_remove_handle(c->multi, x->easy);
	x->active = 0;
	relay_net_connect_rtt(c, x);
	if (result == CURLE_OK)
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	ok = result == CURLE_OK && code / 100 == 2;
	/*
	 * A read's successor that failed: the read it was to replace goes
	 * on, and is asked again in place (relay_net_reads); the link is
	 * not taken for failed. A relay at --max-per-ip closes the one
	 * connection more at once.
	 */
	if (x->role == RELAY_READ && x->successor) {
		c->read_changed = c->read_in_place = 1;
		return;
	}
	/*
	 * The session's sites are the relay's word on other consoles, not
	 * this link's: one not answered (a relay at --max-per-ip refusing a
	 * connection more, or going away, which the other exchanges see) is
	 * asked again later, quietly. Its rows go stale meanwhile.
	 */
	if (x->role == RELAY_PRESENCE && !ok) {
		x->failures++;
		x->not_before = code == 404 ? INT64_MAX :
		    now + relay_net_backoff(x->failures);
		return;
	}
	/*
	 * A read refused before any answer soon after one of ours was cut
	 * (the read asked in place): the relay may count the cut one's
	 * connection against its bound until it next writes to it, within
	 * RELAY_STALL_S (its keep-alives). It is asked again after the reads'
	 * backoff; the link is not taken for failed either.
	 */
	if (x->role == RELAY_READ && result != CURLE_OK &&
	    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &answered) ==
	    CURLE_OK && answered == 0 &&
	    now - net->read_cut_at < (int64_t)RELAY_STALL_S * 1000000) {
		x->failures++;
		x->not_before = now + relay_net_backoff(x->failures);
		c->read_failures = x->failures;
		c->read_not_before = x->not_before;
		return;
	}

	if (result != CURLE_OK && !x->bad) {
		if (result == CURLE_SSL_PINNEDPUBKEYNOTMATCH &&
		    (presented = relay_net_presented_pin(x)) != NULL) {
			relay_client_error(c, "relay: %s presented the key "
			    "%s, not pin=%s: if its key was changed on purpose, "
			    "check the new pin with the relay's operator, then "
			    "type 'repin %s' (what is queued is kept)",
			    c->cfg.url, presented, c->cfg.pin, presented);
			free(presented);
		} else if (result == CURLE_SSL_PINNEDPUBKEYNOTMATCH ||
		    result == CURLE_PEER_FAILED_VERIFICATION)
			relay_client_error(c, "relay: %s: the relay's key or "
			    "certificate does not match pin=/ca=: %s",
			    c->cfg.url, curl_easy_strerror(result));
		else if (x->role == RELAY_READ &&
		    result == CURLE_OPERATION_TIMEDOUT)
			relay_client_error(c, "relay: %s: the read stalled: "
			    "nothing for %d s, not even the relay's keep-alives "
			    "(a frozen connection?); reconnecting", c->cfg.url,
			    RELAY_STALL_S);
		else if ((x->role != RELAY_READ || result !=
		    CURLE_PARTIAL_FILE) && relay_config_proxy_used(&c->cfg))
			relay_client_error(c, "relay: %s: %s (through the proxy "
			    "%s: give proxy=none, or add the relay's host to "
			    "no_proxy, to go direct)", c->cfg.url,
			    curl_easy_strerror(result),
			    relay_config_proxy_used(&c->cfg));
		else if (x->role != RELAY_READ || result !=
		    CURLE_PARTIAL_FILE)
			relay_client_error(c, "relay: %s: %s", c->cfg.url,
			    curl_easy_strerror(result));
	}
	if (code == 401) {
		relay_client_error(c, "relay: the relay does not know this "
		    "site's token: check token= against its tokens file");
	}
	pthread_mutex_lock(&c->stat_lock);
	if (ok || (result == CURLE_OK && code / 100 == 4))
		relay_health_ok(&c->health, now);
	else if (x->role != RELAY_READ || result != CURLE_OK)
		relay_health_fail(&c->health, now);
	pthread_mutex_unlock(&c->stat_lock);

	if (result != CURLE_OK || code / 100 == 5 || code == 429 ||
	    code == 401 || (code / 100 == 4 && x->role == RELAY_READ)) {
		x->failures++;
		x->not_before = now + relay_net_backoff(x->failures);
		if (code == 429 && curl_easy_getinfo(x->easy,
		    CURLINFO_RETRY_AFTER, &retry) == CURLE_OK && retry > 0)
			x->not_before = now + (int64_t)retry * 1000000;
		if (result != CURLE_OK && x->role != RELAY_READ) {
			/* A new connection: tell the relay our streams. */
			size_t i;
			for (i = 0; i < net->nos; i++)
				net->os[i]->registered = 0;
			net->need_register = 1;
		}
	} else
		x->failures = 0;
	/*
	 * The link-wide backoff: the exchanges that fail together when the
	 * relay goes away count once (those started before the last
	 * counted failure do not count again); an answer resets it, but
	 * only to an exchange begun after the last counted failure: a held
	 * stream list or control poll begun before it answers every few
	 * seconds while the relay refuses the rest (5xx, 429), and would
	 * otherwise cut the backoff short each time.
	 */
	if ((result != CURLE_OK && !x->bad) || code / 100 == 5 ||
	    code == 429 || code == 401) {
		if (c->link_failures == 0 || x->started > c->link_failed_at) {
			c->link_failures++;
			c->link_failed_at = now;
			c->link_not_before = now +
			    relay_net_link_backoff(c->link_failures);
			if (code == 429 && retry > 0)
				c->link_not_before = now +
				    (int64_t)retry * 1000000;
		}
	} else if (result == CURLE_OK && (c->link_failures == 0 ||
	    x->started > c->link_failed_at))
		c->link_failures = 0;

	switch (x->role) {
	case RELAY_PUBLISH:
		relay_net_published(c, net, x, result == CURLE_OK ? code : 0,
		    now);
		break;
	case RELAY_REGISTER:
		if (result == CURLE_OK)
			relay_net_registered(c, net, x, code);
		break;
	case RELAY_LIST:
		if (ok) {
			relay_net_listed(c, net, x);
			/* a relay that holds lists: ask again at once */
			net->list_version = relay_net_header_u64(x,
			    RELAY_STREAMS_HEADER);
			if (net->list_version != 0)
				net->list_at = x->started + RELAY_LIST_MIN_US;
		} else {
			net->list_at = x->not_before;
			/* an answer (3xx, 4xx) counts no failure: no backoff */
			if (result == CURLE_OK && x->failures == 0 &&
			    net->list_at < now + RELAY_LIST_EVERY_US)
				net->list_at = now + RELAY_LIST_EVERY_US;
			net->list_version = 0;	/* an unknown relay next */
		}
		break;
	case RELAY_READ:
		/*
		 * 409: the session started a new life since the ids were
		 * listed (a relay restarted without its spool, found by the
		 * read before the list): list again now; the new life is
		 * handled there, and the read asked again in place.
		 */
		if (result == CURLE_OK && code == 409) {
			net->list_at = now;
			x->failures = 0;
			x->not_before = now + RELAY_BACKOFF_MIN_US;
			c->read_failures = 0;
			c->read_not_before = x->not_before;
			break;
		}
		if (result == CURLE_OK && code != 200) {
			relay_client_error(c, "relay: read: HTTP %ld: %s",
			    code, relay_net_answer(x));
		}
		if (x->failures == 0)
			x->not_before = now + RELAY_BACKOFF_MIN_US;
		/* one backoff for both read slots (relay_net_reads) */
		c->read_failures = x->failures;
		c->read_not_before = x->not_before;
		break;
	case RELAY_CONTROL:
		if (ok && code == 200)
			relay_net_controlled(c, x);
		else if (result == CURLE_OK && !ok) {
			relay_client_error(c, "relay: control: HTTP %ld: %s",
			    code, relay_net_answer(x));
			x->failures++;
			x->not_before = now + relay_net_backoff(x->failures);
		}
		break;
	case RELAY_TIME:
		if (ok)
			relay_net_timed(c, net, x, now);
		break;
	case RELAY_MSG:
		relay_net_msged(c, x, result == CURLE_OK ? code : 0);
		break;
	case RELAY_PRESENCE:
		if (code == 200)
			relay_net_presence(c, x, now);
		break;
	}
}

/* Resume a read paused because the engine fell behind. */
static void
relay_net_unpause(struct relay_client *c)
{
	struct relay_xfer	*x;
	size_t			 i, queued;

	pthread_mutex_lock(&c->in_lock);
	queued = c->in_events_queued;
	pthread_mutex_unlock(&c->in_lock);
	if (queued > RELAY_IN_PAUSE / 4)
		return;
	for (i = 0; i < c->nxfers; i++) {
		x = &c->xfers[i];
		if (x->paused && x->active) {
			x->paused = 0;
			curl_easy_pause(x->easy, CURLPAUSE_CONT);
		}
	}
}

/* Take a pin given by repin: new connections check it, at once. */
static void
relay_net_repinned(struct relay_client *c)
{
	char	*pin;

	pthread_mutex_lock(&c->msg_lock);
	pin = c->repin;
	c->repin = NULL;
	pthread_mutex_unlock(&c->msg_lock);
	if (pin == NULL)
		return;
	free(c->cfg.pin);
	c->cfg.pin = pin;
	c->pin_epoch++;
	c->link_failures = 0;	/* try now, not after the backoff */
}

/* The network thread: the multi loop until told to stop. */
/*
 * Stopping: end the streaming publish bodies in flight (their answers
 * acknowledge what they carried) rather than cut them. Returns whether
 * any is still in flight.
 */
static int
relay_net_end_streams(struct relay_client *c)
{
	struct relay_xfer	*x;
	size_t			 i;
	int			 any = 0;

	for (i = 0; i < c->nxfers; i++) {
		x = &c->xfers[i];
		if (x->role != RELAY_PUBLISH || !x->active || !x->streaming)
			continue;
		any = 1;
		relay_net_close_body(x);
	}
	return (any);
}

/* libcurl: watch socket s for what (CURLMOPT_SOCKETFUNCTION). */
static int
relay_net_sock_cb(CURL *easy, curl_socket_t s, int what, void *userp,
    void *sockp)
{
	struct relay_client	*c = userp;
	struct epoll_event	 ev;

	(void)easy;
	(void)sockp;
	if (what == CURL_POLL_REMOVE) {
		/* (the socket may be closed already: epoll forgot it then) */
		epoll_ctl(c->epfd, EPOLL_CTL_DEL, s, NULL);
		return (0);
	}
	memset(&ev, 0, sizeof ev);
	ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0) |
	    ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
	ev.data.fd = s;
	if (epoll_ctl(c->epfd, EPOLL_CTL_MOD, s, &ev) != 0 &&
	    errno == ENOENT)
		epoll_ctl(c->epfd, EPOLL_CTL_ADD, s, &ev);
	return (0);
}

/* libcurl: call back in timeout_ms, or never if -1 (TIMERFUNCTION). */
static int
relay_net_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct relay_client	*c = userp;

	(void)multi;
	c->curl_due = timeout_ms < 0 ? -1 :
	    relay_mono_us() + (int64_t)timeout_ms * 1000;
	return (0);
}

/*
 * Run libcurl on the n sockets epoll found ready (at once after the wait,
 * before a transfer is added or removed), then on its timer if due. The
 * wake eventfd is emptied here, before the loop clears wake_pending and
 * looks at the queues: emptied after that look, it would swallow a wake
 * the engine gave in between, and what it queued would wait for the
 * next timeout (up to a second).
 */
static void
relay_net_drive(struct relay_client *c, const struct epoll_event *ev,
    int n)
{
	uint64_t	v;
	int		i, flags, running;

	for (i = 0; i < n; i++) {
		if (ev[i].data.fd == c->wakefd) {
			if (read(c->wakefd, &v, sizeof v) < 0)
				(void)0;	/* EAGAIN: already empty */
			continue;
		}
		flags = 0;
		if (ev[i].events & (EPOLLIN | EPOLLHUP))
			flags |= CURL_CSELECT_IN;
		if (ev[i].events & EPOLLOUT)
			flags |= CURL_CSELECT_OUT;
		if (ev[i].events & EPOLLERR)	/* curl reads the errno */
			flags |= CURL_CSELECT_IN | CURL_CSELECT_OUT |
			    CURL_CSELECT_ERR;
		curl_multi_socket_action(c->multi, ev[i].data.fd, flags,
		    &running);
	}
	if (c->curl_due >= 0 && relay_mono_us() >= c->curl_due) {
		c->curl_due = -1;	/* (the call may set it again) */
		curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0,
		    &running);
	}
}

#define RELAY_NET_EVENTS 16	/* epoll events taken per wait */

static void *
relay_net_main(void *arg)
{
	struct relay_client	*c = arg;
	struct relay_net	*net = relay_net_state(c);
	struct relay_xfer	*x;
	struct epoll_event	 ev[RELAY_NET_EVENTS];
	CURLMsg			*msg;
	int64_t			 now, due, drain_until = 0;
	int			 nev, left, timeout, done, stopping = 0;

	/* it wakes for every batch either way (sched-hint.h) */
	(void)sb_sched_prefer_latency();
	for (;;) {
		now = relay_mono_us();
		if (!stopping && __atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
			stopping = 1;
			drain_until = now + RELAY_DRAIN_US;
		}
		if (stopping && (!relay_net_end_streams(c) ||
		    now >= drain_until))
			break;
		due = now + (stopping ? 10000 : 1000000);
		/*
		 * Cleared before the queues are looked at, not just before the
		 * poll: an engine that queues events after this wakes the poll
		 * below again. Cleared later, events queued between the look
		 * and the clear waited for the poll's timeout (up to 20 ms).
		 */
		__atomic_store_n(&c->wake_pending, 0, __ATOMIC_SEQ_CST);
		if (!stopping) {
			relay_net_repinned(c);
			relay_net_unpause(c);
			relay_net_schedule(c, net, now, &due);
		}
		do {
			done = 0;
			relay_net_drive(c, NULL, 0);	/* its timer */
			now = relay_mono_us();
			while ((msg = curl_multi_info_read(c->multi,
			    &left)) != NULL) {
				if (msg->msg != CURLMSG_DONE)
					continue;
				curl_easy_getinfo(msg->easy_handle,
				    CURLINFO_PRIVATE, (char **)&x);
				relay_net_done(c, net, x, msg->data.result,
				    now);
				done = 1;
			}
			if (done && !stopping) {
				due = now + 1000000;
				relay_net_schedule(c, net, now, &due);
			}
		} while (done);

		pthread_mutex_lock(&c->stat_lock);
		relay_health_rates(&c->health, now);
		pthread_mutex_unlock(&c->stat_lock);

		if (c->curl_due >= 0 && c->curl_due < due)
			due = c->curl_due;
		timeout = 0;
		if (due > now)
			timeout = (int)((due - now + 999) / 1000);
		nev = epoll_wait(c->epfd, ev, RELAY_NET_EVENTS, timeout);
		relay_net_drive(c, ev, nev < 0 ? 0 : nev);	/* (EINTR) */
	}
	return (NULL);
}

static struct relay_net *
relay_net_state(struct relay_client *c)
{
	return ((struct relay_net *)(c->xfers + RELAY_NXFERS));
}

/* Create the handles and start the network thread. */
int
relay_net_start(struct relay_client *c, char **cause)
{
	static const enum relay_role roles[RELAY_NXFERS - RELAY_PUBLISH_SLOTS]
	    = { RELAY_READ, RELAY_READ, RELAY_CONTROL, RELAY_TIME, RELAY_LIST,
	    RELAY_REGISTER, RELAY_MSG, RELAY_PRESENCE };
	struct relay_xfer	*x;
	struct relay_net	*net;
	size_t			 i, nread = 0;
	int			 error;

	c->curl_due = -1;
	if ((c->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (c->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		xasprintf(cause, "relay: cannot make the network thread's "
		    "event loop: %s", strerror(errno));
		return (-1);
	}
	{
		struct epoll_event ev = { .events = EPOLLIN };

		ev.data.fd = c->wakefd;
		if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, c->wakefd, &ev) != 0) {
			xasprintf(cause, "relay: cannot make the network "
			    "thread's event loop: %s", strerror(errno));
			return (-1);
		}
	}
	c->multi = curl_multi_init();
	if (c->multi == NULL) {
		xasprintf(cause, "relay: libcurl could not start");
		return (-1);
	}
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, relay_net_sock_cb);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, relay_net_timer_cb);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
	    (long)RELAY_NXFERS);
	c->xfers = xcalloc(1, RELAY_NXFERS * sizeof *c->xfers +
	    sizeof (struct relay_net));
	c->nxfers = RELAY_NXFERS;
	net = relay_net_state(c);
	net->need_register = 1;
	net->born = relay_mono_us();
	xasprintf(&c->auth_header, "Authorization: Bearer %s", c->cfg.token);
	for (i = 0; i < RELAY_NXFERS; i++) {
		x = &c->xfers[i];
		x->c = c;
		x->role = i < RELAY_PUBLISH_SLOTS ? RELAY_PUBLISH :
		    roles[i - RELAY_PUBLISH_SLOTS];
		if (x->role == RELAY_READ && nread < RELAY_READ_SLOTS)
			x->parser = &c->parsers[nread++];
		if ((x->easy = curl_easy_init()) == NULL) {
			xasprintf(cause, "relay: libcurl could not start");
			return (-1);
		}
		relay_net_setup(c, x);
	}
	c->msgs_tail = &c->msgs;
	if ((error = pthread_create(&c->thread, NULL, relay_net_main,
	    c)) != 0) {
		xasprintf(cause, "relay: cannot start the network thread: %s",
		    strerror(error));
		return (-1);
	}
	/* (top -H and the tests tell it from the engine's threads) */
	(void)pthread_setname_np(c->thread, RELAY_NET_THREAD);
	c->started = 1;
	return (0);
}

/* Stop the thread and free the handles (also after a failed start). */
void
relay_net_stop(struct relay_client *c)
{
	struct relay_xfer	*x;
	struct relay_net	*net;
	struct relay_msg	*m;
	size_t			 i;

	if (c->started) {
		__atomic_store_n(&c->stop, 1, __ATOMIC_RELEASE);
		relay_net_kick(c);
		pthread_join(c->thread, NULL);
		c->started = 0;
	}
	for (i = 0; c->xfers != NULL && i < c->nxfers; i++) {
		x = &c->xfers[i];
		if (x->easy != NULL) {
			if (x->active)
				curl_multi_remove_handle(c->multi, x->easy);
			curl_easy_cleanup(x->easy);
		}
		curl_slist_free_all(x->hdrs);
		free(x->resp);
		free(x->b.buf);
		free(x->b.span);
		free(x->pub);
		free(x->pub_last);
		if (x->msg != NULL)
			relay_net_msg_free(x->msg);
	}
	if (c->xfers != NULL) {
		net = relay_net_state(c);
		free(net->os);
	}
	free(c->xfers);
	c->xfers = NULL;
	while ((m = c->msgs) != NULL) {
		c->msgs = m->next;
		relay_net_msg_free(m);
	}
	for (i = 0; i < c->nin; i++) {
		free(c->in[i]->site);
		free(c->in[i]->name);
		free(c->in[i]);
	}
	free(c->in);
	c->in = NULL;
	c->nin = 0;
	if (c->multi != NULL)
		curl_multi_cleanup(c->multi);	/* (tells relay_net_sock_cb) */
	c->multi = NULL;
	if (c->wakefd >= 0)
		close(c->wakefd);
	if (c->epfd >= 0)
		close(c->epfd);
	c->wakefd = c->epfd = -1;
	free(c->auth_header);
	c->auth_header = NULL;
}

/* Make the network thread's epoll_wait return. */
static void
relay_net_kick(struct relay_client *c)
{
	uint64_t one = 1;

	if (write(c->wakefd, &one, sizeof one) < 0)
		(void)0;	/* EAGAIN: the count is full, it wakes anyway */
}

/* Wake the network thread (engine thread; one syscall per idle period). */
void
relay_net_wake(struct relay_client *c)
{
	if (!__atomic_exchange_n(&c->wake_pending, 1, __ATOMIC_ACQ_REL))
		relay_net_kick(c);
}

/* Queue a command (to, id, line) or result for the relay. */
void
relay_net_post_msg(struct relay_client *c, const char *to, const char *path,
    char *body)
{
	struct relay_msg	*m;

	m = xcalloc(1, sizeof *m);
	m->path = xstrdup(path);
	m->body = body;
	m->to = xstrdup(to);
	m->is_command = strncmp(path, "/v1/command", 11) == 0;
	sscanf(strstr(path, "id=") + 3, "%" SCNu64, &m->id);
	pthread_mutex_lock(&c->msg_lock);
	*c->msgs_tail = m;
	c->msgs_tail = &m->next;
	pthread_mutex_unlock(&c->msg_lock);
	relay_net_wake(c);
}
