/*
 * relay-read.c: GET /v1/read, streaming (a chunked response fed by a
 * content reader that suspends its connection when it has nothing to send
 * and is resumed on publish or for a keep-alive) or at once (wait=0).
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "relay.h"
#include "xmalloc.h"

/* A temporary gap (first..last) or keep-alive (first 0) batch. */
static struct relay_batch *
relay_read_flagged(struct relay_session *s, struct relay_stream *st,
    uint64_t first, uint64_t last)
{
	struct wire_header h = { 0 };
	struct relay_chunk *c = xcalloc(1, sizeof *c);
	struct relay_batch *b = xcalloc(1, sizeof *b);

	h.session_id = s->session_id;
	h.stream_id = st != NULL ? st->id : 0;
	h.base_us = relay_store_time(s);
	c->data = xmalloc(WIRE_HEADER_SIZE);
	c->refs = 1;
	c->size = wire_encode_flagged(c->data, WIRE_HEADER_SIZE, &h, first,
	    last);
	b->chunk = c;
	b->data = c->data;
	b->size = (uint32_t)c->size;
	b->seq = first;
	b->refs = 1;
	b->stream = st;
	return b;
}

/* The next batch this reader should get (a new reference), or NULL. */
static struct relay_batch *
relay_read_next(struct relay_reader *r)
{
	struct relay_cursor *c;
	struct relay_stream *st;
	struct relay_batch *b;
	struct relay_site *site;
	uint64_t last;
	size_t k, i;

	for (k = 0; k < r->ncursors; k++) {
		i = (r->rr + k) % r->ncursors;
		c = &r->cursors[i];
		st = c->stream;
		if (c->next > st->highest)
			continue;
		r->rr = (i + 1) % r->ncursors;
		if (c->next >= st->mem_first) {
			b = st->ring[(st->ring_head + (c->next -
			    st->mem_first)) % st->ring_cap];
			b->refs++;
			c->next++;
			return b;
		}
		if ((b = relay_spool_read(st, c->next)) != NULL) {
			c->next++;
			return b;
		}
		last = st->mem_first - 1;
		if (last - c->next >= UINT32_MAX)
			last = c->next + UINT32_MAX - 1;
		b = relay_read_flagged(r->session, st, c->next, last);
		c->next = last + 1;
		st->gaps++;
		relay.m.gaps++;
		if ((site = relay_store_site(r->session, st->site)) != NULL)
			site->gaps++;
		return b;
	}
	return NULL;
}

/* Copy what is pending into buf[0..max); bytes copied. Lock held. */
static size_t
relay_read_copy(struct relay_reader *r, uint8_t *buf, size_t max)
{
	size_t n = 0, take;

	while (n < max) {
		if (r->cur == NULL) {
			if ((r->cur = relay_read_next(r)) == NULL)
				break;
			r->cur_off = 0;
		}
		take = r->cur->size - r->cur_off;
		if (take > max - n)
			take = max - n;
		memcpy(buf + n, r->cur->data + r->cur_off, take);
		n += take;
		r->cur_off += take;
		if (r->cur_off == r->cur->size) {
			relay_store_unref(r->cur);
			r->cur = NULL;
		}
	}
	return n;
}

/* MHD content reader of a streaming read. */
static ssize_t
relay_read_fill(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct relay_reader *r = cls;
	struct relay_batch *ka;
	int64_t now;
	size_t n;

	pthread_mutex_lock(&relay.lock);
	if (relay.stopping) {
		pthread_mutex_unlock(&relay.lock);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	now = relay_now_mono();
	n = relay_read_copy(r, (uint8_t *)buf, max);
	if (n == 0 && max >= WIRE_HEADER_SIZE &&
	    now - r->last_write >= (int64_t)relay.opt.keepalive_s * 1000000) {
		ka = relay_read_flagged(r->session, NULL, 0, 0);
		memcpy(buf, ka->data, ka->size);
		n = ka->size;
		relay_store_unref(ka);
	}
	if (n > 0) {
		r->last_write = now;
		pthread_mutex_unlock(&relay.lock);
		return (ssize_t)n;
	}
	r->suspended = 1;
	MHD_suspend_connection(r->conn);
	pthread_mutex_unlock(&relay.lock);
	return 0;
}

/* Free a reader (MHD's response free callback, or after wait=0). */
static void
relay_read_free(void *cls)
{
	struct relay_reader *r = cls;

	pthread_mutex_lock(&relay.lock);
	if (r->streaming) {
		TAILQ_REMOVE(&r->session->readers, r, entry);
		relay.m.read_clients--;
	}
	relay_store_unref(r->cur);
	pthread_mutex_unlock(&relay.lock);
	free(r->cursors);
	free(r);
}

/* Answer a wait=0 read with everything stored. Lock held. */
static int
relay_read_once(struct MHD_Connection *conn, struct relay_reader *r)
{
	size_t len = 0, cap = 0, n;
	uint8_t *out = NULL;

	for (;;) {
		if (cap - len < RELAY_READ_BLOCK) {
			cap = cap * 2 + RELAY_READ_BLOCK;
			out = xrealloc(out, cap);
		}
		n = relay_read_copy(r, out + len, cap - len);
		len += n;
		if (n == 0 || (len >= RELAY_READ_ONCE_MAX && r->cur == NULL))
			break;
	}
	return relay_http_respond(conn, 200, "application/octet-stream",
	    (char *)out, len);
}

/* Start GET /v1/read?streams=...[&wait=0]. */
int
relay_read_start(struct MHD_Connection *conn, struct relay_req *req,
    const char *streams, int wait)
{
	struct relay_session *s = relay_store_session(req->token->session);
	struct relay_reader *r;
	struct relay_stream *st;
	struct MHD_Response *resp;
	uint32_t *ids;
	uint64_t *after;
	size_t n, i;
	char *why = NULL;
	int rc;

	if (relay_args_cursors(streams, &ids, &after, &n, &why) != 0) {
		rc = relay_http_error(conn, 400, "%s", why);
		free(why);
		return rc;
	}
	r = xcalloc(1, sizeof *r);
	r->session = s;
	r->conn = conn;
	r->cursors = xcalloc(n, sizeof *r->cursors);
	r->ncursors = n;
	r->last_write = relay_now_mono();
	pthread_mutex_lock(&relay.lock);
	for (i = 0; i < n; i++) {
		if ((st = relay_store_stream(s, ids[i])) == NULL) {
			pthread_mutex_unlock(&relay.lock);
			rc = relay_http_error(conn, 404, "unknown stream %"
			    PRIu32 " in session %s (see GET /v1/streams)",
			    ids[i], s->name);
			goto fail;
		}
		if (!relay_tokens_may_read(req->token, st->site, st->name)) {
			pthread_mutex_unlock(&relay.lock);
			rc = relay_http_error(conn, 403, "site %s may not read "
			    "%s/%s (see its READ field in the tokens file)",
			    req->token->site, st->site, st->name);
			goto fail;
		}
		r->cursors[i].stream = st;
		r->cursors[i].next = after[i] == UINT64_MAX ? after[i] :
		    after[i] + 1;
	}
	free(ids);
	free(after);
	if (!wait) {
		rc = relay_read_once(conn, r);
		pthread_mutex_unlock(&relay.lock);
		relay_read_free(r);
		return rc;
	}
	r->streaming = 1;
	TAILQ_INSERT_TAIL(&s->readers, r, entry);
	relay.m.read_clients++;
	pthread_mutex_unlock(&relay.lock);

	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN,
	    RELAY_READ_BLOCK, relay_read_fill, r, relay_read_free);
	if (resp == NULL) {
		relay_read_free(r);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/octet-stream");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    "no-store");
	rc = MHD_queue_response(conn, 200, resp);
	MHD_destroy_response(resp);
	__atomic_add_fetch(&relay.m.requests[200], 1, __ATOMIC_RELAXED);
	return rc;

fail:
	free(ids);
	free(after);
	free(r->cursors);
	free(r);
	return rc;
}

/* Resume the suspended readers of a session that read any of st. */
void
relay_read_wake(struct relay_session *s, struct relay_stream **st, size_t n)
{
	struct relay_reader *r;
	size_t i, j;

	TAILQ_FOREACH(r, &s->readers, entry) {
		if (!r->suspended)
			continue;
		for (i = 0; i < r->ncursors; i++) {
			for (j = 0; j < n; j++) {
				if (r->cursors[i].stream == st[j])
					goto wake;
			}
		}
		continue;
wake:
		r->suspended = 0;
		MHD_resume_connection(r->conn);
	}
}

/* Resume readers that owe a keep-alive (timer thread, lock held). */
void
relay_read_wake_idle(int64_t now)
{
	struct relay_reader *r;
	size_t i;

	for (i = 0; i < relay.nsessions; i++) {
		TAILQ_FOREACH(r, &relay.sessions[i]->readers, entry) {
			if (r->suspended && now - r->last_write >=
			    (int64_t)relay.opt.keepalive_s * 1000000) {
				r->suspended = 0;
				MHD_resume_connection(r->conn);
			}
		}
	}
}

/* Resume every suspended reader (shutdown; lock held). */
void
relay_read_wake_all(void)
{
	struct relay_reader *r;
	size_t i;

	for (i = 0; i < relay.nsessions; i++) {
		TAILQ_FOREACH(r, &relay.sessions[i]->readers, entry) {
			if (r->suspended) {
				r->suspended = 0;
				MHD_resume_connection(r->conn);
			}
		}
	}
}
