/*
 * relay-outq.c: the outgoing queue. The engine encodes each stream's
 * events into wire records as it queues them, in batches of up to
 * batch_events; the network thread numbers and seals the closed batches
 * (relay_outq_cut) and keeps every batch until the relay acknowledges its
 * sequence number, and resends it otherwise.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "relay.h"
#include "xmalloc.h"

#define RELAY_CUT_AHEAD 4
#define RELAY_OPEN_MIN 4096	/* bytes an open batch starts with, at least */

/* Set up an empty queue. */
void
relay_outq_init(struct relay_outq *q, uint32_t batch_events,
    uint64_t window_us, uint64_t max_queue)
{
	memset(q, 0, sizeof *q);
	pthread_mutex_init(&q->lock, NULL);
	q->batch_events = batch_events;
	q->batch_bytes = RELAY_BODY_MAX;	/* one fits any body */
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
		for (j = s->whead; j < s->nwait; j++)
			free(s->wait[j].buf);
		free(s->unacked);
		free(s->wait);
		free(s->open.buf);
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
	__atomic_add_fetch(&q->streams_added, 1, __ATOMIC_RELEASE);
	return (s);
}

/* Close the open batch of s: it waits to be taken (lock held). */
static void
relay_outq_close(struct relay_ostream *s)
{
	if (s->open.buf == NULL)
		return;
	if (s->nwait == s->capwait && s->whead > 0) {
		memmove(s->wait, s->wait + s->whead,
		    (s->nwait - s->whead) * sizeof *s->wait);
		s->nwait -= s->whead;
		s->whead = 0;
	}
	if (s->nwait == s->capwait) {
		s->capwait = s->capwait == 0 ? 16 : s->capwait * 2;
		s->wait = xreallocarray(s->wait, s->capwait, sizeof *s->wait);
	}
	/* the next one starts as large as this one came to be */
	s->open_size = s->open.len;
	/* it keeps what its records take, not what was reserved for them */
	if (s->open.cap - s->open.len > s->open.len / 4) {
		s->open.buf = xrealloc(s->open.buf, s->open.len);
		s->open.cap = s->open.len;
	}
	s->wait[s->nwait++] = s->open;
	memset(&s->open, 0, sizeof s->open);
}

/* Can e (a record of rec bytes) go in the open batch of s? */
static int
relay_outq_fits(const struct relay_outq *q, const struct relay_ostream *s,
    const struct sb_event *e, size_t rec)
{
	const struct relay_batch *b = &s->open;

	if (b->events >= q->batch_events || b->len + rec > q->batch_bytes)
		return (0);
	/* every time within 2^32-1 us of the batch's earliest */
	if (e->t_us >= b->base_us)
		return ((uint64_t)e->t_us - (uint64_t)b->base_us <= UINT32_MAX);
	return ((uint64_t)s->open_max - (uint64_t)e->t_us <= UINT32_MAX);
}

/* Encode e (a record of rec bytes) into the open batch of s. */
static void
relay_outq_put(struct relay_outq *q, struct relay_ostream *s,
    const struct sb_event *e, size_t rec)
{
	struct relay_batch	*b = &s->open;

	if (b->buf != NULL && !relay_outq_fits(q, s, e, rec))
		relay_outq_close(s);
	if (b->buf == NULL) {
		b->cap = s->open_size > RELAY_OPEN_MIN ? s->open_size :
		    RELAY_OPEN_MIN;
		if (b->cap > WIRE_HEADER_SIZE +
		    (size_t)q->batch_events * WIRE_RECORD_MAX)
			b->cap = WIRE_HEADER_SIZE +
			    (size_t)q->batch_events * WIRE_RECORD_MAX;
		b->buf = xmalloc(b->cap);
		b->len = WIRE_HEADER_SIZE;
		b->base_us = s->open_max = e->t_us;
	} else if (e->t_us < b->base_us) {
		/* an earlier event: the batch counts from it now */
		wire_shift_records(b->buf + WIRE_HEADER_SIZE + b->skip,
		    b->events,
		    (uint32_t)((uint64_t)b->base_us - (uint64_t)e->t_us));
		b->base_us = e->t_us;
	}
	if (b->len + rec > b->cap) {
		while (b->len + rec > b->cap)
			b->cap *= 2;
		b->buf = xrealloc(b->buf, b->cap);
	}
	b->len += wire_put_record(b->buf + b->len, e, b->base_us);
	b->events++;
	if (e->t_us > s->open_max)
		s->open_max = e->t_us;
}

/*
 * Encode the leading events of ev that go straight into the open batch of
 * s (its room, its count, times from its base on); returns how many.
 */
static size_t
relay_outq_run(struct relay_outq *q, struct relay_ostream *s,
    const struct sb_event *ev, size_t n)
{
	struct relay_batch	*b = &s->open;
	size_t			 k, bytes, room;

	if (b->buf == NULL)
		return (0);
	if (n > q->batch_events - b->events)
		n = q->batch_events - b->events;
	room = q->batch_bytes > b->len ? q->batch_bytes - b->len : 0;
	if (room > b->cap - b->len)
		room = b->cap - b->len;
	k = wire_put_records(b->buf + b->len, room, ev, n, b->base_us,
	    &s->open_max, &bytes);
	b->len += bytes;
	b->events += (uint32_t)k;
	return (k);
}

/* Drop the k oldest waiting events of s (it has as many; lock held). */
static void
relay_outq_drop_oldest(struct relay_ostream *s, uint64_t k)
{
	struct relay_batch	*b;

	s->waiting -= k;
	while (k > 0) {
		b = s->whead < s->nwait ? &s->wait[s->whead] : &s->open;
		if (b->events > k) {
			/* skipped now, moved out when taken (relay_outq_cut) */
			b->skip += wire_records_len(b->buf + WIRE_HEADER_SIZE +
			    b->skip, k);
			b->events -= (uint32_t)k;
			break;
		}
		k -= b->events;
		free(b->buf);
		if (b == &s->open)
			memset(&s->open, 0, sizeof s->open);
		else
			s->whead++;
	}
}

#define RELAY_APPEND_RUN 1024	/* events encoded per hold of the lock */

static int relay_outq_append_run(struct relay_outq *,
    struct relay_ostream **, const char *, const struct sb_event *, size_t,
    int64_t);

/*
 * Queue n events of a stream (engine thread): each is encoded into the
 * stream's open batch; an event of a kind no record carries is counted
 * (bad_unreported) and left out. Beyond max_queue the oldest waiting
 * events of the stream are dropped and counted; returns how many.
 */
int
relay_outq_append(struct relay_outq *q, const char *name,
    const struct sb_event *ev, size_t n, int64_t now_us)
{
	struct relay_ostream	*s = NULL;
	size_t			 i, m;
	int			 drop = 0;

	/*
	 * A run at a time, the lock let go between runs: encoding 8192
	 * events holds it about 20 us, and the network thread, which takes
	 * it to cut and send batches, slept on it and was woken again for
	 * a large share of its context switches.
	 */
	if (n == 0)	/* (ev may be NULL: it adds the stream) */
		return (relay_outq_append_run(q, &s, name, ev, 0, now_us));
	for (i = 0; i < n; i += m) {
		m = n - i < RELAY_APPEND_RUN ? n - i : RELAY_APPEND_RUN;
		drop += relay_outq_append_run(q, &s, name, ev + i, m, now_us);
	}
	return (drop);
}

/*
 * relay_outq_append of at most RELAY_APPEND_RUN events, under the lock;
 * *sp is the stream (looked up by name the first time; streams stay).
 */
static int
relay_outq_append_run(struct relay_outq *q, struct relay_ostream **sp,
    const char *name, const struct sb_event *ev, size_t n, int64_t now_us)
{
	struct relay_ostream	*s;
	size_t			 i, k, rec, added = 0;
	uint64_t		 total, drop = 0;

	pthread_mutex_lock(&q->lock);
	if ((s = *sp) == NULL)
		s = *sp = relay_outq_stream(q, name);
	if (s->waiting == 0)
		s->pend_since = now_us;
	for (i = 0; i < n; i += k) {
		/* as many as go straight into the open batch, at once */
		k = relay_outq_run(q, s, ev + i, n - i);
		added += k;
		if (k > 0)
			continue;
		/* the next one: a new batch, an earlier time, or unknown */
		k = 1;
		if ((rec = wire_record_bytes(ev[i].kind)) == 0)
			continue;
		relay_outq_put(q, s, &ev[i], rec);
		added++;
	}
	q->bad_unreported += n - added;
	s->waiting += added;
	q->pending += added;

	total = q->pending + q->unacked;
	if (total > q->max_queue) {
		drop = total - q->max_queue;
		if (drop > s->waiting)
			drop = s->waiting;
		relay_outq_drop_oldest(s, drop);
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

/* Events of s queued and not yet numbered into batches. */
uint64_t
relay_outq_waiting(struct relay_outq *q, struct relay_ostream *s)
{
	uint64_t	waiting;

	pthread_mutex_lock(&q->lock);
	waiting = s->waiting;
	pthread_mutex_unlock(&q->lock);
	return (waiting);
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
	uint64_t	live;
	int64_t		since, due;

	/*
	 * In a request, s goes in another only when that one is ending
	 * (relay_outq_overlap), and only with what is in no request yet.
	 */
	if (!s->registered || s->refused || s->broken ||
	    (s->busy > 0 && (!q->follow || !relay_outq_overlap(s))))
		return (0);
	if (s->nunacked > s->inflight)
		return (1);
	pthread_mutex_lock(&q->lock);
	live = s->waiting;
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

/* Keep batch b at the end of the unacknowledged list, numbered. */
static void
relay_outq_keep(struct relay_ostream *s, const struct relay_batch *b)
{
	struct relay_batch	*k;

	if (s->nunacked == s->capunacked) {
		s->capunacked = s->capunacked == 0 ? 16 : s->capunacked * 2;
		s->unacked = xreallocarray(s->unacked, s->capunacked,
		    sizeof *s->unacked);
	}
	k = &s->unacked[s->nunacked++];
	*k = *b;
	k->seq = s->next_seq++;
	k->sends = 0;
	s->unacked_events += b->events;
	s->unacked_bytes += b->len - b->skip;	/* as it is once taken */
}

/*
 * Take the waiting batches of s (closing the open one), number them and
 * seal them: header and CRC, outside the lock.
 */
static void
relay_outq_cut(struct relay_outq *q, struct relay_ostream *s)
{
	struct wire_header	 h;
	struct relay_batch	*b;
	size_t			 i, first = s->nunacked;
	uint64_t		 n;

	pthread_mutex_lock(&q->lock);
	relay_outq_close(s);
	for (i = s->whead; i < s->nwait; i++)
		relay_outq_keep(s, &s->wait[i]);
	s->whead = s->nwait = 0;
	n = s->waiting;
	s->waiting = 0;
	q->pending -= n;
	q->unacked += n;
	pthread_mutex_unlock(&q->lock);

	memset(&h, 0, sizeof h);
	h.session_id = q->session_id;
	h.stream_id = s->id;
	for (i = first; i < s->nunacked; i++) {
		b = &s->unacked[i];
		if (b->skip > 0) {
			/* records max_queue dropped: out, and count anew */
			memmove(b->buf + WIRE_HEADER_SIZE, b->buf +
			    WIRE_HEADER_SIZE + b->skip, b->len -
			    WIRE_HEADER_SIZE - b->skip);
			b->len -= b->skip;
			b->skip = 0;
			b->base_us += wire_rebase_records(b->buf +
			    WIRE_HEADER_SIZE, b->events);
		}
		h.seq = b->seq;
		h.event_count = b->events;
		h.base_us = b->base_us;
		h.payload_len = (uint32_t)(b->len - WIRE_HEADER_SIZE);
		wire_finish(b->buf, &h);
	}
}

/* Put one kept batch at the end of body b. */
static void
relay_body_put(struct relay_body *b, const struct relay_batch *k)
{
	if (b->by_ref) {
		if (b->nspan == b->capspan) {
			b->capspan = b->capspan == 0 ? 64 : b->capspan * 2;
			b->span = xreallocarray(b->span, b->capspan,
			    sizeof *b->span);
		}
		b->span[b->nspan].p = k->buf;
		b->span[b->nspan++].len = k->len;
	} else {
		if (b->len + k->len > b->cap) {
			while (b->len + k->len > b->cap)
				b->cap = b->cap == 0 ? 65536 : b->cap * 2;
			b->buf = xrealloc(b->buf, b->cap);
		}
		memcpy(b->buf + b->len, k->buf, k->len);
	}
	b->len += k->len;
}

/*
 * Append the batches of s that are due to request body b (at most
 * body_max bytes, but at least one batch) and mark s busy: those not yet
 * in a request, after the s->inflight already in one (a streaming body
 * takes more as they are cut; a body that follows an ending one takes
 * what came after it). Returns how many batches went in; *resent counts
 * batches sent before. The caller then makes its request the carrier.
 */
size_t
relay_outq_fill(struct relay_outq *q, struct relay_ostream *s,
    struct relay_body *body, size_t body_max, uint64_t *resent)
{
	struct relay_batch	*b;
	size_t			 i, start = s->inflight;

	/*
	 * Number what waits while up to RELAY_CUT_AHEAD bodies are queued
	 * ahead, and at most half of max_queue: a numbered batch can no
	 * longer be dropped, so past that the bound drops the oldest
	 * waiting events.
	 */
	if (s->unacked_bytes < RELAY_CUT_AHEAD * body_max &&
	    s->unacked_events < q->max_queue / 2)
		relay_outq_cut(q, s);

	for (i = start; i < s->nunacked; i++) {
		b = &s->unacked[i];
		/* a body has at least one batch, and more only as they fit */
		if (body->len > 0 && body->len + b->len > body_max)
			break;
		relay_body_put(body, b);
		if (b->sends++ > 0)
			(*resent)++;
	}
	s->inflight = i;
	if (i > start && s->busy == 0)
		s->busy = 1;
	else if (i > start && relay_outq_overlap(s)) {
		/* a second request, after the ending one: note where */
		s->busy = 2;
		s->second_from = s->unacked[start].seq;
	}
	return (i - start);
}

/*
 * May a new request take s while one carries it? Only when that one is
 * ending (its carrier gone: it takes no more of s) and none failed: the
 * relay holds the new body's batches until the earlier body's are in.
 */
int
relay_outq_overlap(const struct relay_ostream *s)
{
	return (s->busy == 1 && s->carrier == NULL && !s->broken);
}

/* The seq of the last batch of s in a request now (0: none). */
uint64_t
relay_outq_last_inflight(const struct relay_ostream *s)
{
	return (s->inflight > 0 ? s->unacked[s->inflight - 1].seq : 0);
}

/* Has s anything that is in no request yet (cut, or to be cut)? */
int
relay_outq_unsent(struct relay_outq *q, struct relay_ostream *s)
{
	if (!s->registered || s->refused)
		return (0);
	if (s->nunacked > s->inflight)
		return (1);
	return (relay_outq_waiting(q, s) > 0);
}

/* Forget batches up to seq (the relay stored them). */
static void
relay_outq_forget(struct relay_outq *q, struct relay_ostream *s,
    uint64_t seq)
{
	size_t		i, j, bytes = 0;
	uint64_t	events = 0;

	for (i = 0; i < s->nunacked && s->unacked[i].seq <= seq; i++) {
		events += s->unacked[i].events;
		bytes += s->unacked[i].len;
		free(s->unacked[i].buf);
	}
	if (i == 0)
		return;
	for (j = i; j < s->nunacked; j++)
		s->unacked[j - i] = s->unacked[j];
	s->nunacked -= i;
	s->unacked_events -= events;
	s->unacked_bytes -= bytes;
	pthread_mutex_lock(&q->lock);
	q->unacked -= events;
	pthread_mutex_unlock(&q->lock);
}

static void relay_outq_drop_now(struct relay_outq *, struct relay_ostream *);

/*
 * No request carries s any more: forget what a later request had stored
 * (answered before the earlier one); what is still kept goes again.
 */
static void
relay_outq_idle(struct relay_outq *q, struct relay_ostream *s)
{
	uint64_t	split_seq = s->split_seq;

	if (s->acked_early > 0)
		relay_outq_forget(q, s, s->acked_early);
	s->busy = 0;
	s->inflight = 0;
	s->broken = 0;
	s->carrier = NULL;
	s->second_from = s->acked_early = s->split_seq = 0;
	if (s->drop_pending) {
		s->drop_pending = 0;
		relay_outq_drop_now(q, s);
	}
	/* the refused batch, if still the first kept: none after it is in */
	if (split_seq != 0 && s->nunacked > 0 &&
	    s->unacked[0].seq == split_seq)
		relay_outq_split(q, s, s->split_bytes);
}

/*
 * The relay answered a request that carried s up to seq last: it has
 * everything to highest. Only batches of a request that no request in
 * flight still sends from are forgotten: when the later of two answers
 * first, what it had stored is forgotten with the earlier one's answer.
 */
void
relay_outq_ack(struct relay_outq *q, struct relay_ostream *s,
    uint64_t highest, uint64_t last)
{
	uint64_t	upto = highest < last ? highest : last;
	size_t		before = s->nunacked;

	if (s->busy >= 2 && last >= s->second_from) {
		/* the later one: the earlier still sends from its batches */
		if (upto > s->acked_early)
			s->acked_early = upto;
		s->busy--;
		if (highest < last)
			s->broken = 1;
		return;
	}
	if (s->busy <= 1) {
		relay_outq_forget(q, s, upto);
		relay_outq_idle(q, s);
		return;
	}
	/* the earlier of two: the later carries on from what follows */
	relay_outq_forget(q, s, upto);
	s->busy--;
	s->inflight -= before - s->nunacked;
	s->second_from = 0;
	if (highest < last)
		s->broken = 1;	/* not all there: it goes again, later */
}

/*
 * A request holding s failed: its batches stay to be sent again, once no
 * request carries s (the other one's answer comes first).
 */
void
relay_outq_failed(struct relay_outq *q, struct relay_ostream *s)
{
	if (s->busy <= 1) {
		relay_outq_idle(q, s);
		return;
	}
	s->busy--;
	s->second_from = 0;
	s->broken = 1;
}

/* Give a kept batch another sequence number (patch header and CRC). */
void
relay_batch_reseq(struct relay_batch *b, uint64_t seq)
{
	size_t	i;

	b->seq = seq;
	for (i = 0; i < 8; i++)
		b->buf[24 + i] = (uint8_t)(seq >> (8 * i));
	wire_seal(b->buf, b->len);
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
	s->acked_early = 0;
	relay_outq_idle(q, s);
}

/* Drop everything s holds, counted as dropped. */
static void
relay_outq_drop_now(struct relay_outq *q, struct relay_ostream *s)
{
	uint64_t	waiting, kept = s->unacked_events;

	relay_outq_forget(q, s, UINT64_MAX);
	pthread_mutex_lock(&q->lock);
	waiting = s->waiting;
	relay_outq_drop_oldest(s, waiting);
	q->pending -= waiting;
	q->dropped += waiting + kept;
	q->dropped_unreported += waiting + kept;
	pthread_mutex_unlock(&q->lock);
}

/*
 * The relay refuses stream s for good: drop everything it holds, once no
 * request reads its batches (what a request still in flight gets stored
 * is acknowledged first, not dropped).
 */
void
relay_outq_drop_all(struct relay_outq *q, struct relay_ostream *s)
{
	if (s->busy > 0) {
		s->drop_pending = 1;
		s->broken = 1;
		return;
	}
	relay_outq_drop_now(q, s);
	relay_outq_idle(q, s);
}

/*
 * The relay refused batch seq of s alone as too large: split it into
 * pieces of at most bytes (relay_outq_split) now, or once no request
 * carries s.
 */
size_t
relay_outq_split_later(struct relay_outq *q, struct relay_ostream *s,
    uint64_t seq, size_t bytes)
{
	if (s->busy > 0) {
		s->split_seq = seq;
		s->split_bytes = bytes;
		s->broken = 1;
		return (2);	/* it will be */
	}
	if (s->nunacked == 0 || s->unacked[0].seq != seq)
		return (1);
	return (relay_outq_split(q, s, bytes));
}

/*
 * Cut batches of at most bytes from now on (header and all; a relay or
 * proxy refused a larger body). Clamped to what one record and the
 * format allow.
 */
void
relay_outq_batch_bytes(struct relay_outq *q, size_t bytes)
{
	if (bytes < WIRE_HEADER_SIZE + WIRE_RECORD_MAX)
		bytes = WIRE_HEADER_SIZE + WIRE_RECORD_MAX;
	if (bytes > RELAY_BODY_MAX)
		bytes = RELAY_BODY_MAX;
	pthread_mutex_lock(&q->lock);
	q->batch_bytes = bytes;
	pthread_mutex_unlock(&q->lock);
}

/* Pieces of at most bytes the records of batch b go in; 1 if it fits. */
static size_t
relay_batch_pieces(const struct relay_batch *b, size_t bytes)
{
	const uint8_t	*r = b->buf + WIRE_HEADER_SIZE, *end = b->buf + b->len;
	size_t		 k = 1, len = WIRE_HEADER_SIZE, piece;

	for (; r < end; r += piece, len += piece) {
		piece = wire_records_len(r, 1);
		if (len > WIRE_HEADER_SIZE && len + piece > bytes) {
			k++;
			len = WIRE_HEADER_SIZE;
		}
	}
	return (k);
}

/*
 * Write kept batch b's records as k pieces of at most bytes at out,
 * numbered from seq.
 */
static void
relay_batch_cut(struct relay_outq *q, struct relay_ostream *s,
    const struct relay_batch *b, size_t bytes, struct relay_batch *out,
    size_t k, uint64_t seq)
{
	struct wire_header	 h;
	const uint8_t		*r = b->buf + WIRE_HEADER_SIZE;
	const uint8_t		*end = b->buf + b->len;
	struct relay_batch	*p;
	size_t			 j, len, piece;

	memset(&h, 0, sizeof h);
	h.session_id = q->session_id;
	h.stream_id = s->id;
	for (j = 0; j < k; j++) {
		p = &out[j];
		memset(p, 0, sizeof *p);
		for (len = WIRE_HEADER_SIZE; r + (len - WIRE_HEADER_SIZE) <
		    end; len += piece, p->events++) {
			piece = wire_records_len(r + (len - WIRE_HEADER_SIZE),
			    1);
			if (p->events > 0 && len + piece > bytes)
				break;
		}
		p->buf = xmalloc(len);
		p->len = p->cap = len;
		memcpy(p->buf + WIRE_HEADER_SIZE, r, len - WIRE_HEADER_SIZE);
		r += len - WIRE_HEADER_SIZE;
		p->base_us = b->base_us + wire_rebase_records(p->buf +
		    WIRE_HEADER_SIZE, p->events);
		p->seq = seq + j;
		p->sends = b->sends;
		h.seq = p->seq;
		h.event_count = p->events;
		h.base_us = p->base_us;
		h.payload_len = (uint32_t)(len - WIRE_HEADER_SIZE);
		wire_finish(p->buf, &h);
	}
}

/*
 * The relay refused a body of stream s's first kept batch alone as too
 * large (it stored none of it, nor any batch after it): split every kept
 * batch of s over bytes into batches of at most bytes, numbered on in
 * order. Returns the batches the first became (1: it was not over).
 */
size_t
relay_outq_split(struct relay_outq *q, struct relay_ostream *s,
    size_t bytes)
{
	struct relay_batch	 old;
	size_t			 i, k, first = 1;
	uint64_t		 seq0;
	int			 split = 0;

	if (s->nunacked == 0 || bytes < WIRE_HEADER_SIZE + WIRE_RECORD_MAX)
		return (1);
	seq0 = s->unacked[0].seq;
	for (i = 0; i < s->nunacked; i += k) {
		if ((k = relay_batch_pieces(&s->unacked[i], bytes)) == 1)
			continue;
		if (i == 0)
			first = k;
		split = 1;
		old = s->unacked[i];
		if (s->nunacked + k - 1 > s->capunacked) {
			s->capunacked = s->nunacked + k - 1;
			s->unacked = xreallocarray(s->unacked, s->capunacked,
			    sizeof *s->unacked);
		}
		memmove(s->unacked + i + k, s->unacked + i + 1,
		    (s->nunacked - i - 1) * sizeof *s->unacked);
		/* numbered in place: only the batches after need it again */
		relay_batch_cut(q, s, &old, bytes, s->unacked + i, k, seq0 + i);
		s->nunacked += k - 1;
		s->unacked_bytes += (k - 1) * WIRE_HEADER_SIZE;
		free(old.buf);
	}
	if (!split)
		return (1);
	/* number every kept batch on from the first */
	for (i = 1; i < s->nunacked; i++) {
		if (s->unacked[i].seq != seq0 + i)
			relay_batch_reseq(&s->unacked[i], seq0 + i);
	}
	s->next_seq = seq0 + s->nunacked;
	return (first);
}
