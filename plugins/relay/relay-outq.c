/*
 * relay-outq.c: the outgoing queue. Events wait per stream until the
 * network thread cuts them into numbered batches; every batch is kept
 * until the relay acknowledges its sequence number, and resent otherwise.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "relay.h"
#include "xmalloc.h"

/* A cut array up to this (events) is always kept for the next one. */
#define RELAY_SPARE_KEEP 65536
#define RELAY_CUT_AHEAD 4

/* Set up an empty queue. */
void
relay_outq_init(struct relay_outq *q, uint32_t batch_events,
    uint64_t window_us, uint64_t max_queue)
{
	memset(q, 0, sizeof *q);
	pthread_mutex_init(&q->lock, NULL);
	q->batch_events = batch_events;
	q->window_us = window_us;
	q->max_queue = max_queue;
}

/* Free every stream and batch. */
void
relay_outq_free(struct relay_outq *q)
{
	struct relay_ostream	*s;
	size_t			 i, j;

	for (i = 0; i < q->nstreams; i++) {
		s = q->streams[i];
		for (j = 0; j < s->nunacked; j++)
			free(s->unacked[j].buf);
		free(s->unacked);
		free(s->pend);
		free(s->spare);
		free(s->name);
		free(s);
	}
	free(q->streams);
	pthread_mutex_destroy(&q->lock);
}

/* Find or add a stream; the lock is held. */
static struct relay_ostream *
relay_outq_stream(struct relay_outq *q, const char *name)
{
	struct relay_ostream	*s;
	size_t			 i;

	for (i = 0; i < q->nstreams; i++) {
		if (strcmp(q->streams[i]->name, name) == 0)
			return (q->streams[i]);
	}
	s = xcalloc(1, sizeof *s);
	s->name = xstrdup(name);
	s->next_seq = 1;
	q->streams = xreallocarray(q->streams, q->nstreams + 1,
	    sizeof *q->streams);
	q->streams[q->nstreams++] = s;
	q->new_streams = 1;
	return (s);
}

/*
 * Queue n events of a stream (engine thread). Beyond max_queue the oldest
 * waiting events of the stream are dropped and counted; returns how many.
 */
int
relay_outq_append(struct relay_outq *q, const char *name,
    const struct sb_event *ev, size_t n, int64_t now_us)
{
	struct relay_ostream	*s;
	size_t			 live, drop = 0;
	uint64_t		 total;

	pthread_mutex_lock(&q->lock);
	s = relay_outq_stream(q, name);
	live = s->plen - s->phead;
	if (s->phead > 0 && (s->phead >= live || s->plen + n > s->pcap)) {
		memmove(s->pend, s->pend + s->phead, live * sizeof *s->pend);
		s->phead = 0;
		s->plen = live;
	}
	if (s->plen + n > s->pcap) {
		s->pcap = s->pcap == 0 ? 1024 : s->pcap;
		while (s->plen + n > s->pcap)
			s->pcap *= 2;
		s->pend = xreallocarray(s->pend, s->pcap, sizeof *s->pend);
	}
	if (live == 0)
		s->pend_since = now_us;
	if (n > 0)	/* pend is still NULL before a stream's first event */
		memcpy(s->pend + s->plen, ev, n * sizeof *ev);
	s->plen += n;
	q->pending += n;

	total = q->pending + q->unacked;
	if (total > q->max_queue) {
		drop = total - q->max_queue;
		if (drop > s->plen - s->phead)
			drop = s->plen - s->phead;
		s->phead += drop;
		q->pending -= drop;
		q->dropped += drop;
		q->dropped_unreported += drop;
	}
	pthread_mutex_unlock(&q->lock);
	return ((int)drop);
}

/* Events kept: waiting plus sent and not yet acknowledged. */
uint64_t
relay_outq_depth(struct relay_outq *q)
{
	uint64_t	depth;

	pthread_mutex_lock(&q->lock);
	depth = q->pending + q->unacked;
	pthread_mutex_unlock(&q->lock);
	return (depth);
}

/*
 * Should stream s go out now? An idle link sends at once; a busy one lets
 * events gather for window_us or until batch_events are waiting. Lowers
 * *due_us to when a waiting stream becomes ready.
 */
int
relay_outq_ready(struct relay_outq *q, struct relay_ostream *s,
    int link_busy, int64_t now_us, int64_t *due_us)
{
	size_t	live;
	int64_t	since, due;

	if (!s->registered || s->refused || s->busy)
		return (0);
	if (s->nunacked > 0)
		return (1);
	pthread_mutex_lock(&q->lock);
	live = s->plen - s->phead;
	since = s->pend_since;
	pthread_mutex_unlock(&q->lock);
	if (live == 0)
		return (0);
	if (!link_busy || live >= q->batch_events)
		return (1);
	due = since + (int64_t)q->window_us;
	if (now_us >= due)
		return (1);
	if (due < *due_us)
		*due_us = due;
	return (0);
}

/* Keep one encoded batch at the end of the unacknowledged list. */
static void
relay_outq_keep(struct relay_ostream *s, uint8_t *buf, size_t len,
    uint32_t events)
{
	struct relay_batch	*b;

	if (s->nunacked == s->capunacked) {
		s->capunacked = s->capunacked == 0 ? 16 : s->capunacked * 2;
		s->unacked = xreallocarray(s->unacked, s->capunacked,
		    sizeof *s->unacked);
	}
	b = &s->unacked[s->nunacked++];
	b->seq = s->next_seq++;
	b->events = events;
	b->sends = 0;
	b->len = len;
	b->buf = buf;
	s->unacked_events += events;
}

/* Take the waiting events of s and cut them into numbered batches. */
static void
relay_outq_cut(struct relay_outq *q, struct relay_ostream *s,
    uint64_t session_id)
{
	struct sb_event		*base, *ev;
	struct wire_header	 h;
	size_t			 n, i, k, len, max, skipped = 0, basecap;
	uint8_t			*buf;

	pthread_mutex_lock(&q->lock);
	base = s->pend;
	basecap = s->pcap;
	n = s->plen - s->phead;
	ev = n > 0 ? s->pend + s->phead : NULL;	/* pend may be NULL */
	/* Hand the array over; the engine goes on in the spare one. */
	s->pend = s->spare;
	s->pcap = s->sparecap;
	s->spare = NULL;
	s->sparecap = 0;
	s->phead = s->plen = 0;
	q->pending -= n;
	q->unacked += n;
	pthread_mutex_unlock(&q->lock);

	memset(&h, 0, sizeof h);
	h.session_id = session_id;
	h.stream_id = s->id;
	for (i = 0; i < n; i += k) {
		max = n - i;
		if (max > q->batch_events)
			max = q->batch_events;
		k = wire_encode_span(ev + i, max,
		    WIRE_HEADER_SIZE + WIRE_PAYLOAD_MAX, &len);
		if (k == 0) {
			/* An event no batch can carry (bad kind). */
			k = 1;
			skipped++;
			continue;
		}
		buf = xmalloc(len);
		h.seq = s->next_seq;
		if (wire_encode(buf, len, &h, ev + i, k) != len)
			fatal("relay: batch of %zu events did not encode", k);
		relay_outq_keep(s, buf, len, (uint32_t)k);
	}
	/*
	 * Kept for the engine's next array (growing one again from nothing
	 * costs a page fault every 100 events), unless it is far larger
	 * than what it carried: a burst is over, give the memory back.
	 */
	pthread_mutex_lock(&q->lock);
	if (s->spare == NULL && (basecap <= RELAY_SPARE_KEEP ||
	    n >= basecap / 8)) {
		s->spare = base;
		s->sparecap = basecap;
		base = NULL;
	}
	pthread_mutex_unlock(&q->lock);
	free(base);
	if (skipped != 0) {
		pthread_mutex_lock(&q->lock);
		q->unacked -= skipped;
		q->bad_unreported += skipped;
		pthread_mutex_unlock(&q->lock);
	}
}

/*
 * Append the batches of s that are due to a request body (at most
 * body_max bytes, but at least one batch) and mark s busy: those not yet
 * in a request, after the s->inflight already in this one (a streaming
 * body takes more as they are cut). Returns how many batches went in;
 * *resent counts batches sent before.
 */
size_t
relay_outq_fill(struct relay_outq *q, struct relay_ostream *s,
    uint8_t **body, size_t *len, size_t *cap, size_t body_max,
    uint64_t *resent)
{
	struct relay_batch	*b;
	size_t			 i, start = s->inflight, bytes = 0;

	/*
	 * Cut (encode) what waits while up to RELAY_CUT_AHEAD bodies are
	 * queued ahead: an encoded spike takes 12 bytes against the engine's
	 * 48, and the engine's array is not grown to hold a backlog. At most
	 * half of max_queue is cut, so that the bound still drops the oldest
	 * waiting events.
	 */
	for (i = 0; i < s->nunacked; i++)
		bytes += s->unacked[i].len;
	if (bytes < RELAY_CUT_AHEAD * body_max &&
	    s->unacked_events < q->max_queue / 2)
		relay_outq_cut(q, s, q->session_id);

	for (i = start; i < s->nunacked; i++) {
		b = &s->unacked[i];
		/* a body has at least one batch (of the stream's first) */
		if (i > 0 && *len + b->len > body_max)
			break;
		if (*len + b->len > *cap) {
			while (*len + b->len > *cap)
				*cap = *cap == 0 ? 65536 : *cap * 2;
			*body = xrealloc(*body, *cap);
		}
		memcpy(*body + *len, b->buf, b->len);
		*len += b->len;
		if (b->sends++ > 0)
			(*resent)++;
	}
	s->inflight = i;
	s->busy = i > 0;
	return (i - start);
}

/* Has s anything that is in no request yet (cut, or to be cut)? */
int
relay_outq_unsent(struct relay_outq *q, struct relay_ostream *s)
{
	size_t	live;

	if (!s->registered || s->refused)
		return (0);
	if (s->nunacked > s->inflight)
		return (1);
	pthread_mutex_lock(&q->lock);
	live = s->plen - s->phead;
	pthread_mutex_unlock(&q->lock);
	return (live > 0);
}

/* Forget batches up to seq (the relay stored them). */
static void
relay_outq_forget(struct relay_outq *q, struct relay_ostream *s,
    uint64_t seq)
{
	size_t		i, j;
	uint64_t	events = 0;

	for (i = 0; i < s->nunacked && s->unacked[i].seq <= seq; i++) {
		events += s->unacked[i].events;
		free(s->unacked[i].buf);
	}
	if (i == 0)
		return;
	for (j = i; j < s->nunacked; j++)
		s->unacked[j - i] = s->unacked[j];
	s->nunacked -= i;
	s->unacked_events -= events;
	pthread_mutex_lock(&q->lock);
	q->unacked -= events;
	pthread_mutex_unlock(&q->lock);
}

/* The relay answered a request holding s: it has everything to highest. */
void
relay_outq_ack(struct relay_outq *q, struct relay_ostream *s,
    uint64_t highest)
{
	relay_outq_forget(q, s, highest);
	s->busy = 0;
	s->inflight = 0;
}

/* A request holding s failed: its batches stay to be sent again. */
void
relay_outq_failed(struct relay_outq *q, struct relay_ostream *s)
{
	s->busy = 0;
	s->inflight = 0;
}

/* Give a kept batch another sequence number (patch header and CRC). */
void
relay_batch_reseq(struct relay_batch *b, uint64_t seq)
{
	size_t		hlen, i;
	uint32_t	crc;

	b->seq = seq;
	for (i = 0; i < 8; i++)
		b->buf[24 + i] = (uint8_t)(seq >> (8 * i));
	memset(b->buf + 44, 0, 4);
	hlen = (size_t)b->buf[6] | (size_t)b->buf[7] << 8;
	crc = crc32c(0, b->buf, hlen);
	crc = crc32c(crc, b->buf + hlen, b->len - hlen);
	for (i = 0; i < 4; i++)
		b->buf[44 + i] = (uint8_t)(crc >> (8 * i));
}

/*
 * The relay says where stream s stands (registration answer NEXT_SEQ):
 * forget what it has; if it lost batches it had acknowledged (a restart
 * without spool), number ours on from where it is.
 */
void
relay_outq_resync(struct relay_outq *q, struct relay_ostream *s,
    uint64_t next_seq)
{
	size_t	i;

	if (next_seq == 0)
		next_seq = 1;
	relay_outq_forget(q, s, next_seq - 1);
	if (s->nunacked > 0 && s->unacked[0].seq != next_seq) {
		for (i = 0; i < s->nunacked; i++)
			relay_batch_reseq(&s->unacked[i], next_seq + i);
	}
	s->next_seq = next_seq + s->nunacked;
	s->busy = 0;
	s->inflight = 0;
}

/* The relay refuses stream s for good: drop everything it holds. */
void
relay_outq_drop_all(struct relay_outq *q, struct relay_ostream *s)
{
	uint64_t	waiting, kept = s->unacked_events;

	relay_outq_forget(q, s, UINT64_MAX);
	pthread_mutex_lock(&q->lock);
	waiting = s->plen - s->phead;
	s->phead = s->plen = 0;
	q->pending -= waiting;
	q->dropped += waiting + kept;
	q->dropped_unreported += waiting + kept;
	pthread_mutex_unlock(&q->lock);
	s->busy = 0;
	s->inflight = 0;
}
