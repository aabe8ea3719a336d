/* relay-store.c: sessions, streams, stored batches, bounded memory. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relay.h"
#include "xmalloc.h"

/* One batch of a publish body, checked but not yet stored. */
struct relay_incoming {
	size_t off;
	uint32_t size, events, stream_id;
	uint64_t seq;
	struct relay_stream *stream;
	int accept;
};

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

/* Find a stream by id, or NULL. */
struct relay_stream *
relay_store_stream(struct relay_session *s, uint32_t id)
{
	if (id == 0 || id > s->nstreams)
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
			s->streams_fd = s->control_fd = s->clock_fd = -1;
			s->next_msg = 1;
			TAILQ_INIT(&s->fifo);
			TAILQ_INIT(&s->msgs);
			TAILQ_INIT(&s->readers);
			TAILQ_INIT(&s->polls);
			relay.sessions = xreallocarray(relay.sessions,
			    relay.nsessions + 1, sizeof *relay.sessions);
			relay.sessions[relay.nsessions++] = s;
		}
		relay_store_add_site(s, relay.tokens[i].site);
	}
	if (relay.opt.spool == NULL)
		return 0;
	if (relay_spool_lock(cause) != 0)
		return -1;
	for (i = 0; i < relay.nsessions; i++) {
		if (relay_spool_session(relay.sessions[i], cause) != 0)
			return -1;
	}
	return 0;
}

/* Drop a reference to a chunk. */
void
relay_chunk_unref(struct relay_chunk *c)
{
	if (c != NULL && --c->refs == 0) {
		free(c->data);
		free(c);
	}
}

/* Drop a reference to a batch. */
void
relay_store_unref(struct relay_batch *b)
{
	if (b != NULL && --b->refs == 0) {
		relay_chunk_unref(b->chunk);
		free(b);
	}
}

/* Append a batch to a stream's in-memory ring. */
static void
relay_store_ring_push(struct relay_stream *st, struct relay_batch *b)
{
	struct relay_batch **ring;
	size_t i, cap;

	if (st->ring_len == st->ring_cap) {
		cap = st->ring_cap ? st->ring_cap * 2 : 64;
		ring = xreallocarray(NULL, cap, sizeof *ring);
		for (i = 0; i < st->ring_len; i++)
			ring[i] = st->ring[(st->ring_head + i) % st->ring_cap];
		free(st->ring);
		st->ring = ring;
		st->ring_cap = cap;
		st->ring_head = 0;
	}
	if (st->ring_len == 0)
		st->mem_first = b->seq;
	st->ring[(st->ring_head + st->ring_len) % st->ring_cap] = b;
	st->ring_len++;
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
		s->mem_bytes -= b->size;
		relay_store_unref(b);
	}
}

/* Register (or find) a stream of site; NULL with *cause on spool error. */
struct relay_stream *
relay_store_register(struct relay_session *s, const char *site,
    const char *name, uint32_t units, char **cause)
{
	struct relay_stream *st;
	uint32_t i;

	for (i = 0; i < s->nstreams; i++) {
		st = s->streams[i];
		if (strcmp(st->site, site) == 0 && strcmp(st->name, name) == 0)
			return st;
	}
	st = xcalloc(1, sizeof *st);
	st->id = s->nstreams + 1;
	st->site = xstrdup(site);
	st->name = xstrdup(name);
	st->units = units;
	st->mem_first = 1;
	st->fd = -1;
	if (s->dir != NULL && (relay_spool_add_stream(s, st, cause) != 0 ||
	    relay_spool_stream_open(s, st, 1, cause) != 0)) {
		free(st->site);
		free(st->name);
		free(st);
		return NULL;
	}
	s->streams = xreallocarray(s->streams, s->nstreams + 1,
	    sizeof *s->streams);
	s->streams[s->nstreams++] = st;
	return st;
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

/* Decode every record of one verified batch (and throw them away). */
static int
relay_store_decodes(const uint8_t *buf, size_t len,
    const struct wire_header *h, char **why)
{
	struct sb_event ev[256], *out = ev;
	struct wire_header again;
	size_t consumed;
	int rc;

	if (h->event_count > 256) {
		out = calloc(h->event_count, sizeof *out);
		if (out == NULL) {
			xasprintf(why, "out of memory");
			return -1;
		}
	}
	rc = wire_decode(buf, len, &again, out, h->event_count, &consumed, why);
	if (out != ev)
		free(out);
	return rc;
}

/* Check every batch's header and CRC; the count, or -1 with *answer. */
static ssize_t
relay_store_scan(struct relay_chunk *body, struct relay_incoming **out,
    char **answer)
{
	struct relay_incoming *in = NULL;
	struct wire_header h;
	size_t off = 0, n = 0, consumed;
	char *why = NULL;

	if (body == NULL || body->size == 0) {
		xasprintf(answer, "empty publish body: send one or more "
		    "batches (application/octet-stream)\n");
		return -1;
	}
	while (off < body->size) {
		if (wire_verify(body->data + off, body->size - off, &h,
		    &consumed, &why) != 0) {
			xasprintf(answer, "batch %zu at byte %zu: %s\n", n + 1,
			    off, why);
			free(why);
			free(in);
			return -1;
		}
		if (h.flags != 0) {
			xasprintf(answer, "batch %zu at byte %zu has flags "
			    "0x%02x: only the relay writes gap and keep-alive "
			    "batches\n", n + 1, off, h.flags);
			free(in);
			return -1;
		}
		/*
		 * Every record must decode (an unknown event kind, a bad
		 * field): a batch that passes its CRC but that no reader can
		 * decode would stall every reader of the session.
		 */
		if (relay_store_decodes(body->data + off, consumed, &h,
		    &why) != 0) {
			xasprintf(answer, "batch %zu at byte %zu: %s\n", n + 1,
			    off, why);
			free(why);
			free(in);
			return -1;
		}
		in = xreallocarray(in, n + 1, sizeof *in);
		in[n++] = (struct relay_incoming){
			.off = off, .size = (uint32_t)consumed,
			.events = h.event_count, .stream_id = h.stream_id,
			.seq = h.seq,
		};
		off += consumed;
	}
	*out = in;
	return (ssize_t)n;
}

/* Store accepted batches of one stream (spool first); 0 or -1. */
static int
relay_store_commit(struct relay_session *s, struct relay_stream *st,
    struct relay_chunk *body, struct relay_incoming *in, size_t n,
    size_t accepted, char **cause)
{
	struct relay_batch **b = xreallocarray(NULL, accepted, sizeof *b);
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (in[i].stream != st || !in[i].accept)
			continue;
		b[k] = xcalloc(1, sizeof **b);
		b[k]->chunk = body;
		body->refs++;
		b[k]->data = body->data + in[i].off;
		b[k]->size = in[i].size;
		b[k]->events = in[i].events;
		b[k]->seq = in[i].seq;
		b[k]->refs = 1;
		b[k]->stream = st;
		k++;
	}
	if (st->fd != -1 && relay_spool_append(st, b, k, cause) != 0) {
		for (i = 0; i < k; i++)
			relay_store_unref(b[i]);
		free(b);
		return -1;
	}
	for (i = 0; i < k; i++) {
		relay_store_ring_push(st, b[i]);
		TAILQ_INSERT_TAIL(&s->fifo, b[i], entry);
		s->mem_bytes += b[i]->size;
		st->highest = b[i]->seq;
		st->batches++;
		st->events += b[i]->events;
		st->bytes += b[i]->size;
		relay.m.batches++;
		relay.m.events += b[i]->events;
		relay.m.bytes += b[i]->size;
	}
	free(b);
	return 0;
}

/* Note a site's activity for /v1/health. */
static void
relay_store_seen(struct relay_session *s, const char *name, uint64_t events,
    uint64_t batches)
{
	struct relay_site *site = relay_store_site(s, name);
	int64_t now = relay_now_mono();

	if (site == NULL)
		return;
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
 * Publish a body of batches for token t: check, dedupe, store (spool
 * first), wake readers. Returns the HTTP status and the answer text.
 */
unsigned
relay_store_publish(struct relay_session *s, struct relay_token *t,
    struct relay_chunk *body, char **answer, unsigned *retry_after)
{
	struct relay_incoming *in = NULL;
	struct relay_touched *touched = NULL, *tc;
	struct relay_stream **wake;
	ssize_t n;
	size_t i, ntouched = 0, len = 0, cap = 0, total = 0;
	uint64_t events = 0;
	unsigned code = 200;
	char *why = NULL, *out = NULL;
	int w;

	if ((n = relay_store_scan(body, &in, answer)) < 0)
		return 400;
	pthread_mutex_lock(&relay.lock);
	for (i = 0; i < (size_t)n; i++) {
		in[i].stream = relay_store_stream(s, in[i].stream_id);
		if (in[i].stream == NULL) {
			xasprintf(answer, "unknown stream %" PRIu32 " in "
			    "session %s: register it with POST /v1/streams\n",
			    in[i].stream_id, s->name);
			code = 404;
			goto out;
		}
		if (strcmp(in[i].stream->site, t->site) != 0) {
			xasprintf(answer, "stream %" PRIu32 " belongs to site "
			    "%s, not %s: publish only your own streams\n",
			    in[i].stream_id, in[i].stream->site, t->site);
			code = 403;
			goto out;
		}
		events += in[i].events;
	}
	for (i = 0; i < (size_t)n; i++) {
		tc = relay_store_touch(&touched, &ntouched, in[i].stream);
		if (in[i].seq <= tc->highest)
			continue;	/* a duplicate: dropped */
		if (in[i].seq != tc->highest + 1) {
			xasprintf(answer, "stream %" PRIu32 ": expected seq %"
			    PRIu64 ", got %" PRIu64 "\n", in[i].stream_id,
			    tc->highest + 1, in[i].seq);
			code = 409;
			goto out;
		}
		in[i].accept = 1;
		tc->highest++;
		tc->accepted++;
		total++;
	}
	if (relay_tokens_rate(t, events, retry_after) != 0) {
		xasprintf(answer, "site %s is over its rate of %.0f events/s: "
		    "retry after %u s\n", t->site, relay.opt.rate,
		    *retry_after);
		code = 429;
		goto out;
	}
	wake = xreallocarray(NULL, ntouched, sizeof *wake);
	for (i = 0, w = 0; i < ntouched; i++) {
		if (touched[i].accepted == 0)
			continue;
		if (relay_store_commit(s, touched[i].stream, body, in,
		    (size_t)n, touched[i].accepted, &why) != 0) {
			xasprintf(answer, "spool: %s\n", why);
			fprintf(stderr, "synbridge-relay: spool: %s\n", why);
			free(why);
			free(wake);
			code = 500;
			goto out;
		}
		wake[w++] = touched[i].stream;
	}
	relay_store_evict(s);
	relay_store_seen(s, t->site, events, total);
	relay_read_wake(s, wake, (size_t)w);
	free(wake);
	for (i = 0; i < ntouched; i++) {
		if (len + 32 > cap) {
			cap = cap * 2 + 64;
			out = xrealloc(out, cap);
		}
		len += (size_t)snprintf(out + len, cap - len, "%" PRIu32 " %"
		    PRIu64 "\n", touched[i].stream->id,
		    touched[i].stream->highest);
	}
	*answer = out;
out:
	pthread_mutex_unlock(&relay.lock);
	/* Durable before the answer; the lock is not held across the sync. */
	for (i = 0; code == 200 && i < ntouched; i++) {
		if (touched[i].accepted == 0)
			continue;
		if (relay_spool_sync(touched[i].stream, &why) != 0) {
			free(*answer);
			xasprintf(answer, "spool: %s\n", why);
			free(why);
			code = 500;
		}
	}
	free(in);
	free(touched);
	return code;
}

/* Free a stream. */
static void
relay_store_free_stream(struct relay_stream *st)
{
	if (st->fd != -1)
		close(st->fd);
	free(st->ring);
	free(st->off);
	free(st->site);
	free(st->name);
	free(st);
}

/* Free every session (after the HTTP daemon stopped). */
void
relay_store_free(void)
{
	struct relay_session *s;
	struct relay_batch *b;
	size_t i, j;

	for (i = 0; i < relay.nsessions; i++) {
		s = relay.sessions[i];
		while ((b = TAILQ_FIRST(&s->fifo)) != NULL) {
			TAILQ_REMOVE(&s->fifo, b, entry);
			relay_store_unref(b);
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
