/* relay-store.c: sessions, streams, stored batches, bounded memory. */
#include "config.h"

#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relay.h"
#include "xmalloc.h"

#define RELAY_STORE_RUN 256		/* batches per spool write */

/* Per-stream state while checking a publish body. */
struct relay_touched {
	struct relay_stream *stream;
	uint64_t highest;
	size_t accepted;
};

/* FNV-1a 64 of a string: the session id written in relay batches. */
static uint64_t
relay_store_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

/* Find a session by name. */
struct relay_session *
relay_store_session(const char *name)
{
	size_t i;

	for (i = 0; i < relay.nsessions; i++) {
		if (strcmp(relay.sessions[i]->name, name) == 0)
			return relay.sessions[i];
	}
	return NULL;
}

/* Find a stream by id, or NULL (also while its registration syncs). */
struct relay_stream *
relay_store_stream(struct relay_session *s, uint32_t id)
{
	if (id == 0 || id > s->nstreams || s->streams[id - 1]->registering)
		return NULL;
	return s->streams[id - 1];
}

/* Find a site of a session by name, or NULL. */
struct relay_site *
relay_store_site(struct relay_session *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nsites; i++) {
		if (strcmp(s->sites[i].name, name) == 0)
			return &s->sites[i];
	}
	return NULL;
}

/* Add a site to a session if it is new. */
static void
relay_store_add_site(struct relay_session *s, const char *name)
{
	if (relay_store_site(s, name) != NULL)
		return;
	s->sites = xreallocarray(s->sites, s->nsites + 1, sizeof *s->sites);
	s->sites[s->nsites++] = (struct relay_site){ .name = xstrdup(name) };
}

/* Make the sessions named in the tokens file and load their spools. */
int
relay_store_init(char **cause)
{
	struct relay_session *s;
	size_t i;

	for (i = 0; i < relay.ntokens; i++) {
		s = relay_store_session(relay.tokens[i].session);
		if (s == NULL) {
			s = xcalloc(1, sizeof *s);
			s->name = xstrdup(relay.tokens[i].session);
			s->session_id = relay_store_hash(s->name);
			s->epoch_us = relay.start_us;
			s->streams_version = (uint64_t)relay.start_us;
			s->streams_fd = s->control_fd = s->clock_fd = -1;
			s->next_msg = 1;
			TAILQ_INIT(&s->fifo);
			TAILQ_INIT(&s->msgs);
			TAILQ_INIT(&s->readers);
			TAILQ_INIT(&s->polls);
			TAILQ_INIT(&s->held);
			relay.sessions = xreallocarray(relay.sessions,
			    relay.nsessions + 1, sizeof *relay.sessions);
			relay.sessions[relay.nsessions++] = s;
		}
		relay_store_add_site(s, relay.tokens[i].site);
		/* found by index from here on: sites are only added here */
		relay.tokens[i].site_idx = (size_t)(relay_store_site(s,
		    relay.tokens[i].site) - s->sites);
	}
	if (relay.opt.spool == NULL)
		return 0;
	if (relay_spool_lock(cause) != 0)
		return -1;
	for (i = 0; i < relay.nsessions; i++) {
		s = relay.sessions[i];
		if (relay_spool_session(s, cause) != 0)
			return -1;
		if (s->nstreams > relay.opt.max_streams) {
			relay_log("session %s: the spool holds %" PRIu32
			    " streams, over --max-streams %u: they are all "
			    "kept and can be read and published, but no new "
			    "stream is taken until there is room",
			    s->name, s->nstreams, relay.opt.max_streams);
		}
	}
	if (relay.nstreams > relay.opt.max_streams_total) {
		relay_log("the spool holds %" PRIu64 " streams in all, over "
		    "--max-streams-total %u: they are all kept, but no new "
		    "stream is taken until there is room", relay.nstreams,
		    relay.opt.max_streams_total);
	}
	return 0;
}

/* Free a stream (its log is closed). */
static void
relay_store_free_stream(struct relay_stream *st)
{
	free(st->ring);
	free(st->idx);
	free(st->site);
	free(st->name);
	free(st);
}

/* What a stored batch costs in memory: its block and malloc's. */
static size_t
relay_store_cost(struct relay_batch *b)
{
	return malloc_usable_size(b) + RELAY_MALLOC_OVERHEAD;
}

/* Resize a stream's ring to cap slots, charging the session. */
static void
relay_store_ring_resize(struct relay_session *s, struct relay_stream *st,
    size_t cap)
{
	struct relay_batch **ring = NULL;
	size_t i;

	if (cap > 0) {
		ring = xreallocarray(NULL, cap, sizeof *ring);
		for (i = 0; i < st->ring_len; i++)
			ring[i] = st->ring[(st->ring_head + i) % st->ring_cap];
	}
	free(st->ring);
	s->mem_bytes -= st->ring_cap * sizeof *ring;
	s->mem_bytes += cap * sizeof *ring;
	st->ring = ring;
	st->ring_cap = cap;
	st->ring_head = 0;
}

/* Append a batch to a stream's in-memory ring and charge it. */
static void
relay_store_ring_push(struct relay_session *s, struct relay_stream *st,
    struct relay_batch *b)
{
	if (st->ring_len == st->ring_cap)
		relay_store_ring_resize(s, st, st->ring_cap ?
		    st->ring_cap * 2 : 64);
	if (st->ring_len == 0)
		st->mem_first = b->seq;
	st->ring[(st->ring_head + st->ring_len) % st->ring_cap] = b;
	st->ring_len++;
	TAILQ_INSERT_TAIL(&s->fifo, b, entry);
	s->mem_bytes += b->cost;
}

/* Evict the oldest batches of a session until it fits its bound. */
static void
relay_store_evict(struct relay_session *s)
{
	struct relay_batch *b;
	struct relay_stream *st;

	while (s->mem_bytes > relay.opt.max_memory &&
	    (b = TAILQ_FIRST(&s->fifo)) != NULL) {
		st = b->stream;
		if (st->ring_len == 0 || st->ring[st->ring_head] != b)
			fatal("relay: eviction order broken in stream %u",
			    st->id);
		st->ring_head = (st->ring_head + 1) % st->ring_cap;
		st->ring_len--;
		st->mem_first++;
		TAILQ_REMOVE(&s->fifo, b, entry);
		s->mem_bytes -= b->cost;
		free(b);
		/* An emptied ring gives its slots back too. */
		if (st->ring_len == 0)
			relay_store_ring_resize(s, st, 0);
		else if (st->ring_cap > 64 && st->ring_len <= st->ring_cap / 4)
			relay_store_ring_resize(s, st, st->ring_cap / 2);
	}
}

/* The stored batch seq of a stream if it is still in memory, or NULL. */
struct relay_batch *
relay_store_batch(struct relay_stream *st, uint64_t seq)
{
	if (st->ring_len == 0 || seq < st->mem_first || seq > st->highest)
		return NULL;
	return st->ring[(st->ring_head + (seq - st->mem_first)) %
	    st->ring_cap];
}

/* Find a stream of site by name, or NULL. */
struct relay_stream *
relay_store_find(struct relay_session *s, const char *site,
    const char *name)
{
	struct relay_stream *st;
	uint32_t i;

	for (i = 0; i < s->nstreams; i++) {
		st = s->streams[i];
		if (strcmp(st->site, site) == 0 && strcmp(st->name, name) == 0)
			return st;
	}
	return NULL;
}

/*
 * Register (or find) a stream of site; NULL with *cause on spool error.
 * The caller has checked --max-streams and --max-streams-total. With a
 * spool a new stream is registering (hidden) until relay-sync.c or the
 * caller has synced its line (relay_spool_streams_sync).
 */
struct relay_stream *
relay_store_register(struct relay_session *s, const char *site,
    const char *name, uint32_t units, char **cause)
{
	struct relay_stream *st;

	if ((st = relay_store_find(s, site, name)) != NULL)
		return st;
	st = xcalloc(1, sizeof *st);
	st->id = s->nstreams + 1;
	st->site = xstrdup(site);
	st->name = xstrdup(name);
	st->units = units;
	st->mem_first = 1;
	st->fd = -1;
	/* The log first: a line in the streams file always has its log. */
	if (s->dir != NULL && (relay_spool_stream_create(s, st, cause) != 0 ||
	    relay_spool_add_stream(s, st, cause) != 0)) {
		relay_spool_forget(st);
		relay_store_free_stream(st);
		return NULL;
	}
	relay_spool_release(st);
	st->registering = s->dir != NULL;
	s->streams = xreallocarray(s->streams, s->nstreams + 1,
	    sizeof *s->streams);
	s->streams[s->nstreams++] = st;
	relay.nstreams++;
	if (!st->registering)
		relay_store_streams_listed(s);
	return st;
}

/* A stream of s is listed now: wake the held lists. Lock held. */
void
relay_store_streams_listed(struct relay_session *s)
{
	s->streams_version++;
	relay_control_wake_lists(s);
}

/*
 * The spool lines of the first n streams of s are synced: they are
 * registered now (listed, found by id). Lock held.
 */
void
relay_store_streams_durable(struct relay_session *s, uint32_t n)
{
	uint32_t i;
	int listed = 0;

	for (i = 0; i < n && i < s->nstreams; i++) {
		listed |= s->streams[i]->registering;
		s->streams[i]->registering = 0;
	}
	if (listed)
		relay_store_streams_listed(s);
}

/* Find (or add) a stream in the touched list. */
static struct relay_touched *
relay_store_touch(struct relay_touched **t, size_t *n,
    struct relay_stream *st)
{
	size_t i;

	for (i = 0; i < *n; i++) {
		if ((*t)[i].stream == st)
			return &(*t)[i];
	}
	*t = xreallocarray(*t, *n + 1, sizeof **t);
	(*t)[*n] = (struct relay_touched){ st, st->highest, 0 };
	return &(*t)[(*n)++];
}

/* Check every batch's header, CRC and records; the count, or -1. */
static ssize_t
relay_store_scan(const uint8_t *body, size_t len, char **answer)
{
	struct wire_header h;
	size_t off = 0, n = 0, consumed;
	char *why = NULL;

	if (body == NULL || len == 0) {
		xasprintf(answer, "empty publish body: send one or more "
		    "batches (application/octet-stream)\n");
		return -1;
	}
	while (off < len) {
		/*
		 * Header, CRC and every record (an unknown event kind, a bad
		 * field): a batch that passes its CRC but that no reader can
		 * decode would stall every reader of the session.
		 */
		if (wire_decode(body + off, len - off, &h, NULL, 0, &consumed,
		    &why) != 0) {
			xasprintf(answer, "batch %zu at byte %zu: %s\n", n + 1,
			    off, why);
			free(why);
			return -1;
		}
		if (h.flags != 0) {
			xasprintf(answer, "batch %zu at byte %zu has flags "
			    "0x%02x: only the relay writes gap and keep-alive "
			    "batches\n", n + 1, off, h.flags);
			return -1;
		}
		n++;
		off += consumed;
	}
	return (ssize_t)n;
}

/* Copy one accepted batch of a body out, store it and count it. */
static void
relay_store_keep(struct relay_session *s, struct relay_stream *st,
    const uint8_t *data, const struct wire_header *h, uint32_t size)
{
	struct relay_batch *b = xmalloc(sizeof *b + size);

	memcpy(b->data, data, size);
	b->size = size;
	b->events = h->event_count;
	b->seq = h->seq;
	b->stream = st;
	b->cost = relay_store_cost(b);
	relay_store_ring_push(s, st, b);
	st->highest = b->seq;
	st->batches++;
	st->events += b->events;
	st->bytes += b->size;
	relay.m.batches++;
	relay.m.events += b->events;
	relay.m.bytes += b->size;
}

/*
 * Store the accepted batches (at offsets acc[0..n) of body), in runs of
 * one stream: spool first, then a copy each in memory, evicting the
 * oldest as the session's bound asks. 0, or -1 with *cause.
 */
static int
relay_store_commit(struct relay_session *s, const uint8_t *body,
    size_t len, const uint32_t *acc, size_t n, char **cause)
{
	const uint8_t *data[RELAY_STORE_RUN];
	uint32_t size[RELAY_STORE_RUN];
	uint64_t seq[RELAY_STORE_RUN];
	struct wire_header h[RELAY_STORE_RUN];
	struct relay_stream *st;
	size_t i = 0, k, j;

	while (i < n) {
		st = NULL;
		for (k = 0; i + k < n && k < RELAY_STORE_RUN; k++) {
			data[k] = body + acc[i + k];
			if (wire_peek(data[k], len - acc[i + k], &h[k],
			    NULL) != 0)
				fatal("relay: a checked batch changed");
			if (st != NULL && h[k].stream_id != st->id)
				break;
			st = relay_store_stream(s, h[k].stream_id);
			size[k] = (uint32_t)h[k].header_len + h[k].payload_len;
			seq[k] = h[k].seq;
		}
		if (s->dir != NULL && relay_spool_append(s, st, data, size,
		    seq, k, cause) != 0)
			return -1;
		for (j = 0; j < k; j++)
			relay_store_keep(s, st, data[j], &h[j], size[j]);
		relay_store_evict(s);
		i += k;
	}
	return 0;
}

/*
 * A request of a site's token came (its console is there): for
 * /v1/health. Lock held.
 */
void
relay_store_heard(struct relay_session *s, const struct relay_token *t)
{
	if (t->site_idx < s->nsites)
		s->sites[t->site_idx].last_heard = relay_now_mono();
}

/* Note a site's activity for /v1/health. */
static void
relay_store_seen(struct relay_session *s, const struct relay_token *t,
    uint64_t events, uint64_t batches)
{
	struct relay_site *site;
	int64_t now = relay_now_mono();

	if (t->site_idx >= s->nsites)
		return;
	site = &s->sites[t->site_idx];
	site->last_seen = now;
	site->batches += batches;
	if (site->rate_t0 == 0)
		site->rate_t0 = now;
	site->rate_events += events;
	if (now - site->rate_t0 >= 1000000) {
		site->rate = (double)site->rate_events * 1e6 /
		    (double)(now - site->rate_t0);
		site->rate_t0 = now;
		site->rate_events = 0;
	}
}

/*
 * Check every batch of a body against the session: a known stream, the
 * token's own, no hole. Fills acc with the offsets of the new batches
 * (duplicates are dropped here, before anything is kept) and the touched
 * streams. 200, or an HTTP status with *answer. Lock held.
 */
static unsigned
relay_store_check(struct relay_session *s, struct relay_token *t,
    const uint8_t *body, size_t len, uint32_t *acc, size_t *nacc,
    struct relay_touched **touched, size_t *ntouched, uint64_t *events,
    char **answer)
{
	struct wire_header h;
	struct relay_stream *st;
	struct relay_touched *tc;
	size_t off;

	for (off = 0; off < len; off += (size_t)h.header_len + h.payload_len) {
		if (wire_peek(body + off, len - off, &h, NULL) != 0)
			fatal("relay: a checked batch changed");
		if ((st = relay_store_stream(s, h.stream_id)) == NULL) {
			xasprintf(answer, "unknown stream %" PRIu32 " in "
			    "session %s: register it with POST /v1/streams\n",
			    h.stream_id, s->name);
			return 404;
		}
		if (strcmp(st->site, t->site) != 0) {
			xasprintf(answer, "stream %" PRIu32 " belongs to site "
			    "%s, not %s: publish only your own streams\n",
			    h.stream_id, st->site, t->site);
			return 403;
		}
		*events += h.event_count;
		tc = relay_store_touch(touched, ntouched, st);
		if (h.seq <= tc->highest)
			continue;	/* a duplicate: dropped */
		if (h.seq != tc->highest + 1) {
			xasprintf(answer, "stream %" PRIu32 ": expected seq %"
			    PRIu64 ", got %" PRIu64 "\n", h.stream_id,
			    tc->highest + 1, h.seq);
			return 409;
		}
		tc->highest++;
		tc->accepted++;
		acc[(*nacc)++] = (uint32_t)off;
	}
	return 200;
}

/* Note the streams a part touched in the body's list (for its answer). */
static void
relay_store_pub_add(struct relay_pub *pub, const struct relay_touched *t,
    size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < pub->n && pub->streams[j] != t[i].stream; j++)
			;
		if (j < pub->n)
			continue;
		pub->streams = xreallocarray(pub->streams, pub->n + 1,
		    sizeof *pub->streams);
		pub->streams[pub->n++] = t[i].stream;
	}
}

/*
 * Store one part of a publish body for token t (whole batches, as they
 * arrived): check, dedupe, store (spool first, made durable by
 * relay_store_pub_sync before the body's answer), wake readers, and note
 * the streams touched in pub. Returns 200, or the HTTP status with
 * *answer; the parts stored before a refused one stay stored (the
 * publisher sends them again and they are dropped as duplicates).
 */
unsigned
relay_store_publish_part(struct relay_session *s, struct relay_token *t,
    const uint8_t *body, size_t len, struct relay_pub *pub, char **answer,
    unsigned *retry_after)
{
	struct relay_touched *touched = NULL;
	struct relay_stream **wake = NULL;
	uint32_t *acc = NULL;
	ssize_t n;
	size_t i, ntouched = 0, nacc = 0, w = 0;
	uint64_t events = 0;
	unsigned code;
	char *why = NULL;

	*answer = NULL;
	if ((n = relay_store_scan(body, len, answer)) < 0)
		return 400;
	/* Charged with the body (relay_http_body_cost). */
	acc = xreallocarray(NULL, (size_t)n, sizeof *acc);
	pthread_mutex_lock(&relay.lock);
	code = relay_store_check(s, t, body, len, acc, &nacc, &touched,
	    &ntouched, &events, answer);
	if (code != 200)
		goto out;
	if (relay_tokens_rate(t, events, retry_after) != 0) {
		xasprintf(answer, "site %s is over its rate of %.0f events/s: "
		    "retry after %u s\n", t->site, relay.opt.rate,
		    *retry_after);
		code = 429;
		goto out;
	}
	if (relay_store_commit(s, body, len, acc, nacc, &why) != 0) {
		xasprintf(answer, "spool: %s\n", why);
		relay_log("spool: %s", why);
		free(why);
		code = 500;
		goto out;
	}
	s->parts_stored++;
	wake = xreallocarray(NULL, ntouched, sizeof *wake);
	for (i = 0; i < ntouched; i++) {
		if (touched[i].accepted > 0)
			wake[w++] = touched[i].stream;
	}
	relay_store_seen(s, t, events, nacc);
	relay_read_wake(s, wake, w);
	free(wake);
	relay_store_pub_add(pub, touched, ntouched);
out:
	pthread_mutex_unlock(&relay.lock);
	free(acc);
	free(touched);
	return code;
}

/*
 * The answer to a stored publish body: "ID HIGHEST" per stream its parts
 * touched (the highest seq stored now, which covers the body's).
 */
char *
relay_store_pub_acks(const struct relay_pub *pub)
{
	char *out = NULL;
	size_t len = 0, cap = 0, i;

	pthread_mutex_lock(&relay.lock);
	for (i = 0; i < pub->n; i++) {
		if (len + 32 > cap) {
			cap = cap * 2 + 64;
			out = xrealloc(out, cap);
		}
		len += (size_t)snprintf(out + len, cap - len, "%" PRIu32 " %"
		    PRIu64 "\n", pub->streams[i]->id,
		    pub->streams[i]->highest);
	}
	pthread_mutex_unlock(&relay.lock);
	return out != NULL ? out : xstrdup("");
}

/*
 * Make the batches the parts of a body appended to the spool durable
 * (before its answer); 0, or -1 with *cause. The lock is not held
 * across the syncs of the logs it can hold open. With round (not 0), a
 * log already synced in that round of relay-sync.c's thread is not
 * synced again: that sync began after the body's parts were written.
 */
int
relay_store_pub_sync(struct relay_session *s, struct relay_pub *pub,
    uint64_t round, char **cause)
{
	struct relay_stream *st;
	int *held;
	size_t i;
	int rc = 0;

	if (s->dir == NULL || pub->n == 0)
		return 0;
	held = xcalloc(pub->n, sizeof *held);
	pthread_mutex_lock(&relay.lock);
	for (i = 0; i < pub->n && rc == 0; i++) {
		st = pub->streams[i];
		if (round != 0 && st->synced_round == round)
			continue;
		if (relay.spool_held < RELAY_SPOOL_HELD) {
			if ((rc = relay_spool_hold(s, st, cause)) == 0)
				held[i] = 1;
		} else if ((rc = relay_spool_sync_now(s, st, cause)) == 0)
			st->synced_round = round;
	}
	pthread_mutex_unlock(&relay.lock);
	for (i = 0; i < pub->n; i++) {
		if (held[i] && rc == 0 &&
		    (rc = relay_spool_sync(pub->streams[i], cause)) == 0)
			pub->streams[i]->synced_round = round;
	}
	pthread_mutex_lock(&relay.lock);
	for (i = 0; i < pub->n; i++) {
		if (held[i])
			relay_spool_release(pub->streams[i]);
	}
	pthread_mutex_unlock(&relay.lock);
	free(held);
	if (rc != 0)
		relay_log("spool: %s", *cause);
	return rc;
}

/* Forget a body's list of streams. */
void
relay_store_pub_free(struct relay_pub *pub)
{
	free(pub->streams);
	pub->streams = NULL;
	pub->n = 0;
}

/* Free every session (after the HTTP daemon stopped). */
void
relay_store_free(void)
{
	struct relay_session *s;
	struct relay_batch *b;
	size_t i, j;

	relay_spool_close_all();
	for (i = 0; i < relay.nsessions; i++) {
		s = relay.sessions[i];
		while ((b = TAILQ_FIRST(&s->fifo)) != NULL) {
			TAILQ_REMOVE(&s->fifo, b, entry);
			free(b);
		}
		for (j = 0; j < s->nstreams; j++)
			relay_store_free_stream(s->streams[j]);
		for (j = 0; j < s->nsites; j++)
			free(s->sites[j].name);
		relay_control_free(s);
		relay_clock_close(s);
		if (s->streams_fd != -1)
			close(s->streams_fd);
		if (s->control_fd != -1)
			close(s->control_fd);
		free(s->sites);
		free(s->streams);
		free(s->dir);
		free(s->name);
		free(s);
	}
	free(relay.sessions);
	relay.sessions = NULL;
	relay.nsessions = 0;
}
