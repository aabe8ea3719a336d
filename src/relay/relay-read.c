/*
 * relay-read.c: GET /v1/read, a chunked response fed by a content reader.
 * A streaming read suspends its connection when it has nothing to send
 * and is resumed on publish or for a keep-alive; a wait=0 read ends once
 * it has sent what was stored when it was asked (or RELAY_READ_ONCE_MAX
 * bytes of whole batches).
 *
 * Nothing is built whole: each call copies at most one block (MHD's
 * RELAY_READ_BLOCK buffer, charged to --max-buffers) from the batches in
 * memory or straight from the spool, and a reader keeps no batch alive. A
 * batch evicted while a reader is in the middle of it is finished from
 * the spool; without a spool the read ends there (the client reads again
 * after its last whole batch and gets a gap).
 */
#include "config.h"

#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "relay.h"
#include "xmalloc.h"

/* Put a gap (first..last) or keep-alive (first 0) batch in r->flag. */
static void
relay_read_flagged(struct relay_reader *r, struct relay_stream *st,
    uint64_t first, uint64_t last)
{
	struct wire_header h = { 0 };

	h.session_id = r->session->session_id;
	h.stream_id = st != NULL ? st->id : 0;
	h.base_us = relay_store_time(r->session);
	r->src = RELAY_SOURCE_FLAG;
	r->cur_stream = st;
	r->cur_seq = first;
	r->cur_size = (uint32_t)wire_encode_flagged(r->flag, sizeof r->flag,
	    &h, first, last);
	r->cur_off = 0;
}

/* Choose the next batch this reader should get; 0, or -1 if none. */
static int
relay_read_next(struct relay_reader *r)
{
	struct relay_cursor *c;
	struct relay_stream *st;
	struct relay_batch *b;
	struct relay_site *site;
	uint64_t last, off;
	uint32_t size;
	size_t k, i;

	for (k = 0; k < r->ncursors; k++) {
		i = (r->rr + k) % r->ncursors;
		c = &r->cursors[i];
		st = c->stream;
		if (c->next > st->highest || c->next > c->end)
			continue;
		r->rr = (i + 1) % r->ncursors;
		r->cur_off = 0;
		if ((b = relay_store_batch(st, c->next)) != NULL) {
			r->src = RELAY_SOURCE_MEMORY;
			r->cur_stream = st;
			r->cur_seq = c->next++;
			r->cur_size = b->size;
			return 0;
		}
		if (r->session->dir != NULL && relay_spool_find(r->session, c,
		    c->next, &off, &size) == 0) {
			r->src = RELAY_SOURCE_SPOOL;
			r->cur_stream = st;
			r->cur_seq = c->next++;
			r->cur_spool = off;
			r->cur_size = size;
			return 0;
		}
		last = st->mem_first - 1;
		if (last < c->next || last > st->highest)
			last = st->highest;	/* unreadable spool */
		if (last - c->next >= UINT32_MAX)
			last = c->next + UINT32_MAX - 1;
		relay_read_flagged(r, st, c->next, last);
		c->next = last + 1;
		st->gaps++;
		relay.m.gaps++;
		if ((site = relay_store_site(r->session, st->site)) != NULL)
			site->gaps++;
		return 0;
	}
	return -1;
}

/*
 * The current batch's bytes from cur_off on: a pointer into memory, or
 * NULL with *spool set when they are to be read from the spool. Switches
 * a batch evicted under the reader to the spool; -1 if it cannot be had.
 */
static int
relay_read_source(struct relay_reader *r, const uint8_t **mem)
{
	struct relay_batch *b;
	struct relay_cursor c = { .stream = r->cur_stream };
	uint64_t off;
	uint32_t size;

	*mem = NULL;
	switch (r->src) {
	case RELAY_SOURCE_FLAG:
		*mem = r->flag + r->cur_off;
		return 0;
	case RELAY_SOURCE_MEMORY:
		if ((b = relay_store_batch(r->cur_stream, r->cur_seq)) !=
		    NULL) {
			*mem = b->data + r->cur_off;
			return 0;
		}
		if (r->session->dir == NULL || relay_spool_find(r->session,
		    &c, r->cur_seq, &off, &size) != 0 || size != r->cur_size)
			return -1;
		r->src = RELAY_SOURCE_SPOOL;
		r->cur_spool = off;
		return 0;
	case RELAY_SOURCE_SPOOL:
		return 0;
	case RELAY_SOURCE_NONE:
		break;
	}
	return -1;
}

/*
 * Copy what is pending into buf[0..max); bytes copied, or -1 if the read
 * cannot go on (a batch it is in the middle of is gone). Lock held.
 */
static ssize_t
relay_read_copy(struct relay_reader *r, uint8_t *buf, size_t max)
{
	const uint8_t *mem;
	size_t n = 0, take;

	while (n < max) {
		if (r->src == RELAY_SOURCE_NONE) {
			if (r->once && r->sent >= RELAY_READ_ONCE_MAX)
				break;
			if (relay_read_next(r) != 0)
				break;
		}
		take = r->cur_size - r->cur_off;
		if (take > max - n)
			take = max - n;
		if (relay_read_source(r, &mem) != 0)
			return n > 0 ? (ssize_t)n : -1;
		if (mem != NULL)
			memcpy(buf + n, mem, take);
		else if (relay_spool_pread(r->session, r->cur_stream, buf + n,
		    take, r->cur_spool + r->cur_off) != (ssize_t)take)
			return n > 0 ? (ssize_t)n : -1;
		n += take;
		r->sent += take;
		r->cur_off += (uint32_t)take;
		if (r->cur_off == r->cur_size)
			r->src = RELAY_SOURCE_NONE;
	}
	return (ssize_t)n;
}

/* MHD content reader of a read. */
static ssize_t
relay_read_fill(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct relay_reader *r = cls;
	char site[64];
	uint64_t seq;
	uint32_t stream;
	int64_t now;
	ssize_t n;

	pthread_mutex_lock(&relay.lock);
	if (relay.stopping) {
		pthread_mutex_unlock(&relay.lock);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	if (r->gone) {
		/* (relay_read_wake_idle): close it, its site reads no more */
		pthread_mutex_unlock(&relay.lock);
		relay_log("%sseen while its read of /v1/read waited for "
		    "batches", relay_log_reader_gone);
		relay_log_read_ends();
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	now = relay_now_mono();
	if ((n = relay_read_copy(r, (uint8_t *)buf, max)) < 0) {
		/* copied: the sites may move once the lock is let go */
		snprintf(site, sizeof site, "%s", r->site <
		    r->session->nsites ? r->session->sites[r->site].name :
		    "?");
		stream = r->cur_stream != NULL ? r->cur_stream->id : 0;
		seq = r->cur_seq;
		pthread_mutex_unlock(&relay.lock);
		relay_log("a read of /v1/read by site %s ends in the middle of "
		    "batch %" PRIu64 " of stream %" PRIu32 ": the batch left "
		    "memory under --max-memory and there is no --spool; the "
		    "site reads again from its last whole batch and is told "
		    "of the gap (run with --spool to keep every batch)", site,
		    seq, stream);
		relay_log_read_ends();
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	if (n == 0 && r->once) {
		pthread_mutex_unlock(&relay.lock);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	if (n == 0 && max >= WIRE_HEADER_SIZE &&
	    now - r->last_write >= (int64_t)relay.opt.keepalive_s * 1000000) {
		relay_read_flagged(r, NULL, 0, 0);
		memcpy(buf, r->flag, r->cur_size);
		n = r->cur_size;
		r->src = RELAY_SOURCE_NONE;
	}
	if (n > 0) {
		r->last_write = now;
		pthread_mutex_unlock(&relay.lock);
		return n;
	}
	r->suspended = 1;
	MHD_suspend_connection(r->conn);
	pthread_mutex_unlock(&relay.lock);
	return 0;
}

/* Free a reader (MHD's response free callback, or on a failed start). */
static void
relay_read_free(void *cls)
{
	struct relay_reader *r = cls;

	pthread_mutex_lock(&relay.lock);
	if (r->streaming) {
		TAILQ_REMOVE(&r->session->readers, r, entry);
		relay.m.read_clients--;
		if (r->site < r->session->nsites)
			r->session->sites[r->site].reads--;
	}
	pthread_mutex_unlock(&relay.lock);
	relay_buffers_give(r->charged);
	free(r->cursors);
	free(r);
}

/* Start GET /v1/read?streams=...[&wait=0]. */
int
relay_read_start(struct MHD_Connection *conn, struct relay_req *req,
    const char *streams, const char *epoch, int wait)
{
	struct relay_session *s = relay_store_session(req->token->session);
	struct relay_reader *r;
	struct relay_stream *st;
	struct MHD_Response *resp;
	uint32_t *ids;
	uint64_t *after;
	size_t n, i;
	char *why = NULL, *end;
	int rc;

	if (relay_args_cursors(streams, &ids, &after, &n, &why) != 0) {
		rc = relay_http_error(conn, 400, "%s", why);
		free(why);
		return rc;
	}
	/*
	 * A reader names the life of the session its ids and seqs come from
	 * (epoch=, from GET /v1/streams): after a restart without the spool
	 * the same id may be another stream, whose batches must not reach it
	 * under the old one's name.
	 */
	if (epoch != NULL && (strtoll(epoch, &end, 10) != s->epoch_us ||
	    *epoch == '\0' || *end != '\0')) {
		free(ids);
		free(after);
		return relay_http_error(conn, 409, "epoch %s: the session "
		    "started a new life (epoch %" PRId64 "): its stream ids "
		    "and seqs start again; list the streams again (GET "
		    "/v1/streams)", epoch, s->epoch_us);
	}
	r = xcalloc(1, sizeof *r);
	r->session = s;
	r->conn = conn;
	r->cursors = xcalloc(n, sizeof *r->cursors);
	r->ncursors = n;
	r->once = !wait;
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
		r->cursors[i].end = wait ? UINT64_MAX : st->highest;
	}
	free(ids);
	free(after);
	if (relay_buffers_take(RELAY_READ_BLOCK) != 0) {
		pthread_mutex_unlock(&relay.lock);
		free(r->cursors);
		free(r);
		return relay_http_busy(conn);
	}
	r->charged = RELAY_READ_BLOCK;
	if (wait) {
		r->streaming = 1;
		TAILQ_INSERT_TAIL(&s->readers, r, entry);
		relay.m.read_clients++;
		/* its site reads (/v1/health's READS column) */
		r->site = req->token->site_idx;
		if (r->site < s->nsites)
			s->sites[r->site].reads++;
	}
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

/*
 * Has the client of a suspended read closed its end (it quit, or was
 * killed: its kernel sent FIN or RST)? MHD does not look at a suspended
 * connection, so without this it would be seen only when a keep-alive
 * fails, two of them later (4 s and more), and its site would show as
 * reading meanwhile. A client never half-closes a read it still wants.
 */
static int
relay_read_peer_gone(struct relay_reader *r)
{
	const union MHD_ConnectionInfo *ci;
	struct pollfd p;

	ci = MHD_get_connection_info(r->conn,
	    MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci == NULL || ci->connect_fd == MHD_INVALID_SOCKET)
		return 0;
	p.fd = ci->connect_fd;
	p.events = POLLRDHUP;
	p.revents = 0;
	return poll(&p, 1, 0) == 1 &&
	    (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

/*
 * Resume readers that owe a keep-alive, and those whose client has gone
 * (looked at every RELAY_READ_GONE_US), to be closed (timer thread, lock
 * held).
 */
void
relay_read_wake_idle(int64_t now)
{
	static int64_t looked;
	struct relay_reader *r;
	size_t i;
	int look = now - looked >= RELAY_READ_GONE_US;

	if (look)
		looked = now;
	for (i = 0; i < relay.nsessions; i++) {
		TAILQ_FOREACH(r, &relay.sessions[i]->readers, entry) {
			if (!r->suspended)
				continue;
			if (look && relay_read_peer_gone(r))
				r->gone = 1;
			if (r->gone || now - r->last_write >=
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
