/* test-relay-outq.c: relay transport arguments, batcher and ack bookkeeping. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "relay.h"

/* n spikes of unit i at t = base + i. */
static struct sb_event *
make_events(size_t n, int64_t base)
{
	struct sb_event	*ev = calloc(n, sizeof *ev);
	size_t		 i;

	for (i = 0; i < n; i++) {
		ev[i].t_us = base + (int64_t)i;
		ev[i].kind = SB_EV_SPIKE;
		ev[i].index = (uint32_t)i;
		ev[i].aux = SB_SPIKE_SPONTANEOUS;
	}
	return (ev);
}

/* A registered stream with id 7. */
static struct relay_ostream *
setup_stream(struct relay_outq *q, const char *name)
{
	struct relay_ostream	*s;
	struct sb_event		 ev;

	memset(&ev, 0, sizeof ev);
	relay_outq_append(q, name, &ev, 0, 0);
	s = q->streams[q->nstreams - 1];
	s->id = 7;
	s->registered = 1;
	return (s);
}

/* relay_outq_fill into a copied body: buf, len and cap as the caller's. */
static size_t
fill(struct relay_outq *q, struct relay_ostream *s, uint8_t **body,
    size_t *len, size_t *cap, size_t body_max, uint64_t *resent)
{
	struct relay_body	b;
	size_t			n;

	memset(&b, 0, sizeof b);
	b.buf = *body;
	b.len = *len;
	b.cap = *cap;
	n = relay_outq_fill(q, s, &b, body_max, resent);
	*body = b.buf;
	*len = b.len;
	*cap = b.cap;
	return (n);
}

/*
 * Decode every batch of a body (stream 7) into ev (room for max): returns
 * the events decoded; per batch its seq, first event index and base go to
 * seqs, first and bases (those not NULL, room for maxb), the batches to *nb.
 */
static size_t
decode_all(const uint8_t *body, size_t len, struct sb_event *ev, size_t max,
    uint64_t *seqs, uint32_t *first, int64_t *bases, size_t maxb, size_t *nb)
{
	struct wire_header	 h;
	size_t			 off = 0, used, n = 0;

	*nb = 0;
	while (off < len) {
		assert_int_equal(wire_decode(body + off, len - off, &h, ev + n,
		    max - n, &used, NULL), 0);
		assert_int_equal(h.stream_id, 7);
		assert_true(*nb < maxb);
		if (seqs != NULL)
			seqs[*nb] = h.seq;
		if (first != NULL)
			first[*nb] = ev[n].index;
		if (bases != NULL)
			bases[*nb] = h.base_us;
		(*nb)++;
		n += h.event_count;
		off += used;
	}
	return (n);
}

/* Decode a body: the batches, with their seqs and first event indexes. */
static size_t
decode_body(const uint8_t *body, size_t len, uint64_t *seqs, size_t maxb,
    uint32_t *first_index)
{
	struct sb_event	*ev = calloc(20000, sizeof *ev);
	size_t		 nb;

	decode_all(body, len, ev, 20000, seqs, first_index, NULL, maxb, &nb);
	free(ev);
	return (nb);
}

/*
 * The engine declares its streams with no events (ev NULL, n 0): the
 * stream is added, empty; events then come in runs of the lock's size
 * (2500 here: three runs) and stay in one stream, in order.
 */
static void
test_declare_then_runs(void **state)
{
	struct relay_outq	q;
	struct sb_event		ev[2500];
	size_t			i;

	relay_outq_init(&q, 10000, 1000000, 1000000);
	assert_int_equal(relay_outq_append(&q, "out", NULL, 0, 0), 0);
	assert_int_equal(q.nstreams, 1);
	assert_int_equal(relay_outq_depth(&q), 0);
	memset(ev, 0, sizeof ev);
	for (i = 0; i < 2500; i++) {
		ev[i].t_us = 1000 + (int64_t)i;
		ev[i].kind = SB_EV_SPIKE;
		ev[i].index = (uint32_t)i;
	}
	assert_int_equal(relay_outq_append(&q, "out", ev, 2500, 0), 0);
	assert_int_equal(q.nstreams, 1);
	assert_int_equal(relay_outq_depth(&q), 2500);
	assert_int_equal(q.streams[0]->open.events, 2500);
	relay_outq_free(&q);
}

/* 2500 events with batch_events=1000 go out as batches 1, 2, 3 in order. */
static void
test_batches_in_order(void **state)
{
	struct relay_outq	 q;
	struct relay_ostream	*s;
	struct sb_event		*ev = make_events(2500, 1000);
	uint8_t			*body = NULL;
	size_t			 len = 0, cap = 0, nb;
	uint64_t		 resent = 0, seqs[8];
	uint32_t		 first[8];

	relay_outq_init(&q, 1000, 1000, 1000000);
	s = setup_stream(&q, "mea");
	relay_outq_append(&q, "mea", ev, 2500, 0);
	assert_int_equal(relay_outq_depth(&q), 2500);
	assert_int_equal(fill(&q, s, &body, &len, &cap,
	    RELAY_BODY_MAX, &resent), 3);
	assert_true(s->busy);
	nb = decode_body(body, len, seqs, 8, first);
	assert_int_equal(nb, 3);
	assert_int_equal(seqs[0], 1);
	assert_int_equal(seqs[2], 3);
	assert_int_equal(first[1], 1000);
	assert_int_equal(first[2], 2000);
	assert_int_equal(resent, 0);
	/* Still kept until the relay says so. */
	assert_int_equal(relay_outq_depth(&q), 2500);
	relay_outq_ack(&q, s, 3, relay_outq_last_inflight(s));
	assert_int_equal(relay_outq_depth(&q), 0);
	assert_false(s->busy);
	free(body);
	free(ev);
	relay_outq_free(&q);
}

/*
 * A body may follow an ending one of the same stream before its answer:
 * each answer forgets only what no request in flight still sends from,
 * and a failure sends everything again once neither is in flight.
 */
static void
test_overlapping_requests(void **state)
{
	struct relay_outq	 q;
	struct relay_ostream	*s;
	struct sb_event		*ev = make_events(2000, 0);
	uint8_t			*body = NULL;
	size_t			 len = 0, cap = 0, nb;
	uint64_t		 resent = 0, seqs[8], last_a;
	uint32_t		 first[8];
	int64_t			 due = INT64_MAX;
	int			 a, b;	/* two publish slots */

	relay_outq_init(&q, 1000, 1000, 1000000);
	q.follow = 1;		/* a long link */
	s = setup_stream(&q, "mea");
	relay_outq_append(&q, "mea", ev, 2000, 0);
	assert_int_equal(fill(&q, s, &body, &len, &cap, RELAY_BODY_MAX,
	    &resent), 2);
	s->carrier = &a;
	last_a = relay_outq_last_inflight(s);
	assert_int_equal(last_a, 2);
	/* While a takes more, no other request takes the stream. */
	relay_outq_append(&q, "mea", ev, 1000, 0);
	assert_false(relay_outq_ready(&q, s, 0, 0, &due));
	/* a ends: b may follow at once, with only what a does not carry */
	s->carrier = NULL;
	assert_true(relay_outq_overlap(s));
	q.follow = 0;		/* not on a short link */
	assert_false(relay_outq_ready(&q, s, 0, 0, &due));
	q.follow = 1;
	assert_true(relay_outq_ready(&q, s, 0, 0, &due));
	len = 0;
	assert_int_equal(fill(&q, s, &body, &len, &cap, RELAY_BODY_MAX,
	    &resent), 1);
	s->carrier = &b;
	assert_int_equal(s->busy, 2);
	assert_int_equal(resent, 0);
	nb = decode_body(body, len, seqs, 8, first);
	assert_int_equal(nb, 1);
	assert_int_equal(seqs[0], 3);
	assert_int_equal(first[0], 0);
	/* no third request while both are in flight */
	s->carrier = NULL;
	relay_outq_append(&q, "mea", ev, 1000, 0);
	assert_false(relay_outq_ready(&q, s, 0, 0, &due));
	/* a's answer may already cover b's batch: only a's are forgotten */
	relay_outq_ack(&q, s, 3, last_a);
	assert_int_equal(s->busy, 1);
	assert_int_equal(s->inflight, 1);
	assert_int_equal(relay_outq_depth(&q), 2000);	/* 3 kept, 4 waits */
	relay_outq_ack(&q, s, 3, 3);
	assert_int_equal(s->busy, 0);
	assert_int_equal(relay_outq_depth(&q), 1000);

	/* The later answers first: nothing goes while the earlier sends. */
	len = 0;
	assert_int_equal(fill(&q, s, &body, &len, &cap, RELAY_BODY_MAX,
	    &resent), 1);			/* a: 4 */
	last_a = relay_outq_last_inflight(s);
	relay_outq_append(&q, "mea", ev, 1000, 0);
	len = 0;
	assert_int_equal(fill(&q, s, &body, &len, &cap, RELAY_BODY_MAX,
	    &resent), 1);			/* b: 5 */
	assert_int_equal(s->busy, 2);
	relay_outq_ack(&q, s, 5, 5);
	assert_int_equal(s->busy, 1);
	assert_int_equal(relay_outq_depth(&q), 2000);
	assert_int_equal(s->unacked[0].seq, 4);	/* a still sends from it */
	relay_outq_ack(&q, s, 4, last_a);
	assert_int_equal(s->busy, 0);
	assert_int_equal(relay_outq_depth(&q), 0);

	/* The earlier fails: no request takes the stream until the later
	 * is answered; then both go again, in order, numbered as before. */
	relay_outq_append(&q, "mea", ev, 1000, 0);
	len = 0;
	fill(&q, s, &body, &len, &cap, RELAY_BODY_MAX, &resent);	/* 6 */
	relay_outq_append(&q, "mea", ev, 1000, 0);
	len = 0;
	fill(&q, s, &body, &len, &cap, RELAY_BODY_MAX, &resent);	/* 7 */
	relay_outq_failed(&q, s);
	assert_int_equal(s->busy, 1);
	assert_true(s->broken);
	relay_outq_append(&q, "mea", ev, 1000, 0);
	assert_false(relay_outq_ready(&q, s, 0, 0, &due));
	relay_outq_failed(&q, s);		/* the relay had a hole: 409 */
	assert_int_equal(s->busy, 0);
	assert_false(s->broken);
	assert_true(relay_outq_ready(&q, s, 0, 0, &due));
	len = 0;
	resent = 0;
	assert_int_equal(fill(&q, s, &body, &len, &cap, RELAY_BODY_MAX,
	    &resent), 3);
	assert_int_equal(resent, 2);
	nb = decode_body(body, len, seqs, 8, first);
	assert_int_equal(nb, 3);
	assert_int_equal(seqs[0], 6);
	assert_int_equal(seqs[2], 8);

	/* An answer that stored less than its request carried: the rest
	 * goes again once the later request is over. */
	relay_outq_append(&q, "mea", ev, 1000, 0);
	last_a = relay_outq_last_inflight(s);	/* 8 */
	s->carrier = NULL;
	len = 0;
	assert_int_equal(fill(&q, s, &body, &len, &cap, RELAY_BODY_MAX,
	    &resent), 1);			/* b: 9 */
	relay_outq_ack(&q, s, 6, last_a);
	assert_int_equal(s->busy, 1);
	assert_true(s->broken);
	assert_int_equal(s->unacked[0].seq, 7);
	relay_outq_ack(&q, s, 6, 9);	/* b: the relay holds a hole at 7 */
	assert_int_equal(s->busy, 0);
	resent = 0;
	len = 0;
	assert_int_equal(fill(&q, s, &body, &len, &cap, RELAY_BODY_MAX,
	    &resent), 3);
	assert_int_equal(resent, 3);
	nb = decode_body(body, len, seqs, 8, first);
	assert_int_equal(seqs[0], 7);
	assert_int_equal(seqs[2], 9);
	free(body);
	free(ev);
	relay_outq_free(&q);
}

/* A partial ack keeps the rest; a failure resends the same seqs. */
static void
test_ack_and_retransmit(void **state)
{
	struct relay_outq	 q;
	struct relay_ostream	*s;
	struct relay_body	 rb;
	struct sb_event		*ev = make_events(3000, 0);
	uint8_t			*body = NULL;
	size_t			 len = 0, cap = 0, nb, i, off;
	uint64_t		 resent = 0, seqs[8];
	uint32_t		 first[8];

	relay_outq_init(&q, 1000, 1000, 1000000);
	s = setup_stream(&q, "mea");
	relay_outq_append(&q, "mea", ev, 3000, 0);
	fill(&q, s, &body, &len, &cap, RELAY_BODY_MAX, &resent);
	relay_outq_ack(&q, s, 1, relay_outq_last_inflight(s));
	assert_int_equal(relay_outq_depth(&q), 2000);
	/* The rest goes again, numbered as before. */
	len = 0;
	assert_int_equal(fill(&q, s, &body, &len, &cap,
	    RELAY_BODY_MAX, &resent), 2);
	assert_int_equal(resent, 2);
	relay_outq_failed(&q, s);
	assert_false(s->busy);
	len = 0;
	fill(&q, s, &body, &len, &cap, RELAY_BODY_MAX, &resent);
	/* by reference: spans of the same bytes, in the same order */
	relay_outq_failed(&q, s);
	memset(&rb, 0, sizeof rb);
	rb.by_ref = 1;
	assert_int_equal(relay_outq_fill(&q, s, &rb, RELAY_BODY_MAX, &resent),
	    2);
	assert_int_equal(rb.nspan, 2);
	assert_int_equal(rb.len, len);
	assert_null(rb.buf);
	for (i = 0, off = 0; i < rb.nspan; off += rb.span[i++].len)
		assert_memory_equal(rb.span[i].p, body + off, rb.span[i].len);
	free(rb.span);
	nb = decode_body(body, len, seqs, 8, first);
	assert_int_equal(nb, 2);
	assert_int_equal(seqs[0], 2);
	assert_int_equal(seqs[1], 3);
	assert_int_equal(first[0], 1000);
	assert_int_equal(resent, 6);
	/* New events after an ack continue the numbering. */
	relay_outq_ack(&q, s, 3, relay_outq_last_inflight(s));
	relay_outq_append(&q, "mea", ev, 10, 0);
	len = 0;
	fill(&q, s, &body, &len, &cap, RELAY_BODY_MAX, &resent);
	nb = decode_body(body, len, seqs, 8, first);
	assert_int_equal(nb, 1);
	assert_int_equal(seqs[0], 4);
	free(body);
	free(ev);
	relay_outq_free(&q);
}

/* A small body limit splits the kept batches over requests. */
static void
test_body_limit(void **state)
{
	struct relay_outq	 q;
	struct relay_ostream	*s;
	struct sb_event		*ev = make_events(5000, 0);
	uint8_t			*body = NULL;
	size_t			 len = 0, cap = 0, one;
	uint64_t		 resent = 0;

	relay_outq_init(&q, 1000, 1000, 1000000);
	s = setup_stream(&q, "mea");
	relay_outq_append(&q, "mea", ev, 5000, 0);
	one = wire_encoded_size(ev, 1000);
	assert_int_equal(fill(&q, s, &body, &len, &cap,
	    2 * one + 10, &resent), 2);
	assert_int_equal(len, 2 * one);
	relay_outq_ack(&q, s, 2, relay_outq_last_inflight(s));
	len = 0;
	assert_int_equal(fill(&q, s, &body, &len, &cap,
	    2 * one + 10, &resent), 2);
	free(body);
	free(ev);
	relay_outq_free(&q);
}

/* An idle link sends at once; a busy one waits for the window or N. */
static void
test_ready_window(void **state)
{
	struct relay_outq	 q;
	struct relay_ostream	*s;
	struct sb_event		*ev = make_events(1000, 0);
	int64_t			 due = INT64_MAX;

	relay_outq_init(&q, 1000, 1000, 1000000);
	s = setup_stream(&q, "mea");
	assert_false(relay_outq_ready(&q, s, 0, 0, &due));
	relay_outq_append(&q, "mea", ev, 10, 5000);
	assert_true(relay_outq_ready(&q, s, 0, 5000, &due));
	assert_false(relay_outq_ready(&q, s, 1, 5200, &due));
	assert_int_equal(due, 6000);
	assert_true(relay_outq_ready(&q, s, 1, 6000, &due));
	/* batch_events waiting: no need to wait for the window. */
	relay_outq_append(&q, "mea", ev, 990, 5300);
	assert_true(relay_outq_ready(&q, s, 1, 5300, &due));
	/* Unregistered streams never go. */
	s->registered = 0;
	assert_false(relay_outq_ready(&q, s, 0, 9000, &due));
	free(ev);
	relay_outq_free(&q);
}

/* Beyond max_queue the oldest waiting events go, counted as dropped. */
static void
test_max_queue_drops_oldest(void **state)
{
	struct relay_outq	 q;
	struct relay_ostream	*s;
	struct sb_event		*ev = make_events(1500, 0);
	uint8_t			*body = NULL;
	size_t			 len = 0, cap = 0;
	uint64_t		 resent = 0, seqs[4];
	uint32_t		 first[4];

	relay_outq_init(&q, 2000, 1000, 1000);
	s = setup_stream(&q, "mea");
	assert_int_equal(relay_outq_append(&q, "mea", ev, 1500, 0), 500);
	assert_int_equal(relay_outq_depth(&q), 1000);
	assert_int_equal(q.dropped_unreported, 500);
	fill(&q, s, &body, &len, &cap, RELAY_BODY_MAX, &resent);
	decode_body(body, len, seqs, 4, first);
	assert_int_equal(first[0], 500);
	free(body);
	free(ev);
	relay_outq_free(&q);
}

/* Decode a body into ev (room for max): events decoded, bases per batch. */
static size_t
decode_events(const uint8_t *body, size_t len, struct sb_event *ev,
    size_t max, int64_t *bases, size_t *nb)
{
	return (decode_all(body, len, ev, max, NULL, NULL, bases, 64, nb));
}

/*
 * Events are encoded as they are queued: an earlier event rebases the
 * open batch (its base is the earliest time), times more than 2^32-1 us
 * apart start a new batch, an event of unknown kind is left out and
 * counted, records of every size survive a drop of the oldest.
 */
static void
test_encoded_as_queued(void **state)
{
	struct relay_outq	 q;
	struct relay_ostream	*s;
	struct sb_event		 ev[6], out[16];
	uint8_t			*body = NULL;
	size_t			 len = 0, cap = 0, n, nb;
	uint64_t		 resent = 0;
	int64_t			 bases[8];

	memset(ev, 0, sizeof ev);
	ev[0].kind = SB_EV_SPIKE;
	ev[0].t_us = 5000;
	ev[1].kind = SB_EV_CONDUCTANCE;
	ev[1].t_us = 4000;		/* earlier: the batch rebases */
	ev[1].g_after = 2.5f;
	ev[1].count = 3;
	ev[2].kind = 99;		/* unknown: left out, counted */
	ev[2].t_us = 4500;
	ev[3].kind = SB_EV_SYNAPTIC;
	ev[3].t_us = 4200;
	ev[3].g_before = 1.25f;
	ev[4].kind = SB_EV_MARK;	/* 2^32 us later: a new batch */
	ev[4].t_us = 4000 + ((int64_t)1 << 32);
	ev[5].kind = SB_EV_SPIKE;
	ev[5].t_us = 3000;		/* over 2^32-1 us before ev[4] */

	relay_outq_init(&q, 1000, 1000, 1000000);
	s = setup_stream(&q, "mea");
	assert_int_equal(relay_outq_append(&q, "mea", ev, 6, 0), 0);
	assert_int_equal(q.bad_unreported, 1);
	assert_int_equal(relay_outq_depth(&q), 5);
	assert_int_equal(fill(&q, s, &body, &len, &cap,
	    RELAY_BODY_MAX, &resent), 3);
	n = decode_events(body, len, out, 16, bases, &nb);
	assert_int_equal(n, 5);
	assert_int_equal(nb, 3);
	assert_int_equal(bases[0], 4000);
	assert_int_equal(out[0].t_us, 5000);
	assert_int_equal(out[1].t_us, 4000);
	assert_int_equal(out[1].count, 3);
	assert_true(out[1].g_after == 2.5f);
	assert_int_equal(out[2].t_us, 4200);
	assert_true(out[2].g_before == 1.25f);
	assert_int_equal(out[3].t_us, ev[4].t_us);
	assert_int_equal(out[3].kind, SB_EV_MARK);
	assert_int_equal(out[4].t_us, 3000);
	assert_int_equal(bases[1], ev[4].t_us);
	assert_int_equal(bases[2], 3000);
	relay_outq_free(&q);

	/* max_queue 3: the 2 oldest go, the batch counts from what is left */
	relay_outq_init(&q, 1000, 1000, 3);
	s = setup_stream(&q, "mea");
	ev[2].kind = SB_EV_STIM;
	ev[2].width_us = 200;
	ev[5].t_us = 6000;
	assert_int_equal(relay_outq_append(&q, "mea", ev, 4, 0), 1);
	assert_int_equal(relay_outq_append(&q, "mea", ev + 5, 1, 0), 1);
	assert_int_equal(q.dropped_unreported, 2);
	assert_int_equal(relay_outq_waiting(&q, s), 3);
	len = 0;
	fill(&q, s, &body, &len, &cap, RELAY_BODY_MAX, &resent);
	n = decode_events(body, len, out, 16, bases, &nb);
	assert_int_equal(n, 3);
	assert_int_equal(nb, 1);
	assert_int_equal(bases[0], 4200);
	assert_int_equal(out[0].t_us, 4500);
	assert_int_equal(out[0].kind, SB_EV_STIM);
	assert_int_equal(out[0].width_us, 200);
	assert_int_equal(out[1].t_us, 4200);
	assert_int_equal(out[2].t_us, 6000);
	assert_int_equal(s->unacked_bytes, len);
	relay_outq_ack(&q, s, s->next_seq - 1, relay_outq_last_inflight(s));
	assert_int_equal(s->unacked_bytes, 0);

	/* an earlier event after a drop rebases what is left, not more */
	assert_int_equal(relay_outq_append(&q, "mea", ev, 3, 0), 0);
	assert_int_equal(relay_outq_append(&q, "mea", ev + 3, 1, 0), 1);
	ev[4].kind = SB_EV_SPIKE;
	ev[4].t_us = 3500;
	assert_int_equal(relay_outq_append(&q, "mea", ev + 4, 1, 0), 1);
	len = 0;
	fill(&q, s, &body, &len, &cap, RELAY_BODY_MAX, &resent);
	n = decode_events(body, len, out, 16, bases, &nb);
	assert_int_equal(n, 3);
	assert_int_equal(nb, 1);
	assert_int_equal(bases[0], 3500);
	assert_int_equal(out[0].t_us, 4500);
	assert_int_equal(out[1].t_us, 4200);
	assert_int_equal(out[2].t_us, 3500);
	assert_int_equal(s->unacked_bytes, len);
	free(body);
	relay_outq_free(&q);
}

/* Registration answers: forget what the relay has, renumber if it lost. */
static void
test_resync(void **state)
{
	struct relay_outq	 q;
	struct relay_ostream	*s;
	struct sb_event		*ev = make_events(4000, 0);
	uint8_t			*body = NULL;
	size_t			 len = 0, cap = 0, nb;
	uint64_t		 resent = 0, seqs[8];
	uint32_t		 first[8];

	relay_outq_init(&q, 1000, 1000, 1000000);
	s = setup_stream(&q, "mea");
	/* A stream the relay already has: continue after it. */
	relay_outq_resync(&q, s, 41);
	relay_outq_append(&q, "mea", ev, 3000, 0);
	fill(&q, s, &body, &len, &cap, RELAY_BODY_MAX, &resent);
	nb = decode_body(body, len, seqs, 8, first);
	assert_int_equal(nb, 3);
	assert_int_equal(seqs[0], 41);
	/* The answer was lost but the relay stored 41: keep 42 and 43. */
	relay_outq_failed(&q, s);
	relay_outq_resync(&q, s, 42);
	assert_int_equal(relay_outq_depth(&q), 2000);
	/* The relay restarted without a spool and is at 1: renumber. */
	relay_outq_resync(&q, s, 1);
	len = 0;
	fill(&q, s, &body, &len, &cap, RELAY_BODY_MAX, &resent);
	nb = decode_body(body, len, seqs, 8, first);
	assert_int_equal(nb, 2);
	assert_int_equal(seqs[0], 1);
	assert_int_equal(seqs[1], 2);
	assert_int_equal(first[0], 1000);
	assert_int_equal(s->next_seq, 3);
	free(body);
	free(ev);
	relay_outq_free(&q);
}

struct argtab {
	const char	*kv[16];
};

/* Look an argument up in a NULL-terminated key, value table. */
static const char *
tab_arg(void *ctx, const char *key)
{
	struct argtab	*t = ctx;
	size_t		 i;

	for (i = 0; t->kv[i] != NULL; i += 2) {
		if (strcmp(t->kv[i], key) == 0)
			return (t->kv[i + 1]);
	}
	return (NULL);
}

/*
 * Waiting events are cut (encoded, 4x smaller) while up to 4 bodies are
 * queued ahead, but at most half of max_queue: past that they stay
 * waiting, where the bound drops the oldest.
 */
static void
test_cut_ahead(void **state)
{
	struct relay_outq	 q;
	struct relay_ostream	*s;
	struct sb_event		*ev = make_events(10000, 0);
	uint8_t			*body = NULL;
	size_t			 len = 0, cap = 0, one;
	uint64_t		 resent = 0;

	relay_outq_init(&q, 1000, 1000, 100000);
	s = setup_stream(&q, "mea");
	relay_outq_append(&q, "mea", ev, 10000, 0);
	one = wire_encoded_size(ev, 1000);
	/* bodies of 3 batches: a body goes, all 10 are cut */
	assert_int_equal(fill(&q, s, &body, &len, &cap,
	    3 * one + 10, &resent), 3);
	assert_int_equal(s->nunacked, 10);
	/* 1000 more, with 10 batches queued: still under 4 bodies, cut */
	relay_outq_append(&q, "mea", ev, 1000, 0);
	relay_outq_failed(&q, s);
	len = 0;
	fill(&q, s, &body, &len, &cap, 3 * one + 10, &resent);
	assert_int_equal(s->nunacked, 11);
	assert_int_equal(relay_outq_waiting(&q, s), 0);
	relay_outq_free(&q);

	/* max_queue 4000: 2000 are cut, the rest wait and can be dropped */
	relay_outq_init(&q, 1000, 1000, 4000);
	s = setup_stream(&q, "mea");
	relay_outq_append(&q, "mea", ev, 2000, 0);
	len = 0;
	fill(&q, s, &body, &len, &cap, 2 * one + 10, &resent);
	assert_int_equal(s->unacked_events, 2000);
	relay_outq_append(&q, "mea", ev + 2000, 2000, 0);
	len = 0;
	relay_outq_ack(&q, s, 0, relay_outq_last_inflight(s));
	relay_outq_failed(&q, s);
	fill(&q, s, &body, &len, &cap, 2 * one + 10, &resent);
	assert_int_equal(s->unacked_events, 2000);	/* not cut */
	assert_int_equal(relay_outq_waiting(&q, s), 2000);
	/* over max_queue: the oldest waiting go, the cut ones stay */
	assert_int_equal(relay_outq_append(&q, "mea", ev + 4000, 1000, 0),
	    1000);
	assert_int_equal(s->unacked_events, 2000);
	free(body);
	free(ev);
	relay_outq_free(&q);
}

/* Parse a table and check the cause contains want (or success). */
static void
check_args(struct argtab *t, const char *want)
{
	struct relay_config	 cfg;
	char			*cause = NULL;
	int			 r;

	r = relay_config_parse(&cfg, tab_arg, t, &cause);
	if (want == NULL) {
		assert_int_equal(r, 0);
		relay_config_free(&cfg);
		return;
	}
	assert_int_equal(r, -1);
	assert_non_null(cause);
	if (strstr(cause, want) == NULL || strncmp(cause, "relay: ", 7) != 0)
		fail_msg("cause '%s' lacks '%s'", cause, want);
	free(cause);
}

#define PIN "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

/* Bad arguments are refused at load with a message that says what to do. */
static void
test_config_errors(void **state)
{
	struct argtab	t0 = { { NULL } };
	struct argtab	t1 = { { "url", "http://x:1", NULL } };
	struct argtab	t2 = { { "url", "https://x", "token", "t", "pin", PIN,
	    NULL } };
	struct argtab	t3 = { { "url", "https://x:1", "token", "t", NULL } };
	struct argtab	t4 = { { "url", "https://x:1", "token", "t", "pin",
	    PIN, "window_us", "1ms", NULL } };
	struct argtab	t5 = { { "url", "https://x:1", "pin", PIN, NULL } };
	struct argtab	t6 = { { "url", "https://x:1", "token", "t", "pin",
	    "md5//x", NULL } };
	struct argtab	t7 = { { "url", "https://x:1", "token", "t", "pin",
	    PIN, "streams", "mea", NULL } };
	struct argtab	t8 = { { "url", "https://x:1", "token", "t",
	    "ca", "/nonexistent/ca.pem", NULL } };
	struct argtab	t9 = { { "url", "https://x:1", "token_file",
	    "/nonexistent/token", "pin", PIN, NULL } };
	struct argtab	t10 = { { "url", "https://x:1", "token", "t", "pin",
	    PIN, "publish", "chunked", NULL } };
	struct argtab	t11 = { { "url", "https://x:1", "token", "t", "pin",
	    PIN, "publish", "bodies", NULL } };
	struct argtab	t12 = { { "url", "https://x:1", "token", "t", "pin",
	    PIN "xyz", NULL } };
	struct argtab	t13 = { { "url", "https://x:1", "token", "t", "pin",
	    "sha256//AAAAAAAAAAAAAAAAAAAAAA=AAAAAAAAAAAAAAAAAAAAA=", NULL } };
	struct argtab	ok = { { "url", "https://relay.example:8443/",
	    "token", "abc", "pin", PIN, "batch_events", "8192",
	    "streams", "zurich/*,padova/mea", "from", "start", NULL } };
	struct relay_config	 cfg;

	check_args(&t0, "url= is required");
	check_args(&t1, "HTTPS only");
	check_args(&t2, "port is required");
	check_args(&t3, "ca=FILE or pin=");
	check_args(&t4, "window_us=1ms");
	check_args(&t5, "token= or token_file= is required");
	check_args(&t6, "sha256//BASE64");
	check_args(&t7, "SITE/STREAM");
	check_args(&t8, "/nonexistent/ca.pem");
	check_args(&t9, "/nonexistent/token");
	check_args(&t10, "publish=chunked: expected stream");
	check_args(&t12, "xyz: expected sha256//BASE64");
	check_args(&t13, "expected sha256//BASE64");
	check_args(&ok, NULL);

	assert_int_equal(relay_config_parse(&cfg, tab_arg, &t11, NULL), 0);
	assert_true(cfg.publish_bodies);
	relay_config_free(&cfg);

	assert_int_equal(relay_config_parse(&cfg, tab_arg, &ok, NULL), 0);
	assert_string_equal(cfg.url, "https://relay.example:8443");
	assert_int_equal(cfg.batch_events, 8192);
	assert_int_equal(cfg.window_us, 1000);
	assert_int_equal(cfg.max_queue, 1000000);
	assert_true(cfg.from_start);
	assert_false(cfg.publish_bodies);	/* publish=stream */
	assert_true(relay_config_wants(&cfg, "zurich", "silicon"));
	assert_true(relay_config_wants(&cfg, "padova", "mea"));
	assert_false(relay_config_wants(&cfg, "padova", "mea2"));
	assert_false(relay_config_wants(&cfg, "southampton", "mea"));
	relay_config_free(&cfg);
}

/* A waiting batch holds about what its records take (max_queue's bound). */
static void
test_small_batch_memory(void **state)
{
	struct relay_outq	 q;
	struct relay_ostream	*s;
	struct sb_event		*ev = make_events(10000, 0);
	size_t			 i, held = 0, len = 0;

	relay_outq_init(&q, 1, 1000, 1000000);
	s = setup_stream(&q, "mea");
	for (i = 0; i < 10000; i++)
		relay_outq_append(&q, "mea", ev + i, 1, 0);
	for (i = s->whead; i < s->nwait; i++) {
		held += s->wait[i].cap;
		len += s->wait[i].len;
	}
	held += s->open.cap;
	len += s->open.len;
	assert_true(held <= 2 * len);
	free(ev);
	relay_outq_free(&q);
}

/*
 * Kept batches the relay refused as too large are split into batches that
 * fit, numbered in their place, the kept batches after them numbered on;
 * new batches are cut to the new size.
 */
static void
test_split_refused_batch(void **state)
{
	struct relay_outq	 q;
	struct relay_ostream	*s;
	struct sb_event		*ev = make_events(3000, 100), out[3000];
	uint8_t			*body = NULL;
	size_t			 len = 0, cap = 0, nb, n, i;
	uint64_t		 resent = 0, seqs[64];
	uint32_t		 first[64];
	int64_t			 bases[64];

	relay_outq_init(&q, 1000, 1000, 1000000);
	s = setup_stream(&q, "mea");
	relay_outq_resync(&q, s, 41);
	relay_outq_append(&q, "mea", ev, 2000, 0);
	assert_int_equal(fill(&q, s, &body, &len, &cap, 1, &resent), 1);
	relay_outq_failed(&q, s);
	/* 12048 bytes refused; at most 5000 a batch: 412, 412, 176 each */
	assert_int_equal(relay_outq_split(&q, s, 5000), 3);
	assert_int_equal(s->nunacked, 6);
	assert_int_equal(s->unacked_events, 2000);
	len = 0;
	fill(&q, s, &body, &len, &cap, RELAY_BODY_MAX, &resent);
	assert_int_equal(s->unacked_bytes, len);
	nb = decode_body(body, len, seqs, 64, first);
	assert_int_equal(nb, 6);
	for (i = 0; i < nb; i++)
		assert_int_equal(seqs[i], 41 + i);
	assert_int_equal(first[1], 412);
	assert_int_equal(first[3], 1000);
	assert_int_equal(first[4], 1412);
	n = decode_events(body, len, out, 3000, bases, &nb);
	assert_int_equal(n, 2000);
	for (i = 0; i < n; i++)
		assert_int_equal(out[i].t_us, 100 + (int64_t)i);
	assert_int_equal(bases[1], 100 + 412);
	assert_int_equal(s->next_seq, 47);
	/* batches within the size are left alone; new ones are cut to fit */
	relay_outq_failed(&q, s);
	assert_int_equal(relay_outq_split(&q, s, 5000), 1);
	relay_outq_batch_bytes(&q, 5000);
	relay_outq_append(&q, "mea", ev + 2000, 1000, 0);
	len = 0;
	fill(&q, s, &body, &len, &cap, RELAY_BODY_MAX, &resent);
	nb = decode_body(body, len, seqs, 64, first);
	assert_int_equal(nb, 9);
	assert_int_equal(first[6], 2000);
	assert_int_equal(first[7], 2412);
	assert_int_equal(seqs[8], 49);
	free(body);
	free(ev);
	relay_outq_free(&q);
}

/*
 * With a request following, a 400 (drop everything) or a 413 on a batch
 * refused alone (split it) waits until neither request is in flight: the
 * follower still sends from the kept batches, which stay where they are.
 */
static void
test_refusal_with_follower(void **state)
{
	struct relay_outq	 q;
	struct relay_ostream	*s;
	struct relay_body	 rb;
	struct sb_event		*ev = make_events(2000, 100);
	const uint8_t		*p;
	uint8_t			*body = NULL, copy[64];
	size_t			 len = 0, cap = 0, nb;
	uint64_t		 resent = 0, seqs[16], last_a;
	uint32_t		 first[16];

	relay_outq_init(&q, 1000, 1000, 1000000);
	s = setup_stream(&q, "mea");
	/* a: batch 1; b follows with batch 2 (by reference, as sent) */
	relay_outq_append(&q, "mea", ev, 1000, 0);
	assert_int_equal(fill(&q, s, &body, &len, &cap, RELAY_BODY_MAX,
	    &resent), 1);
	last_a = relay_outq_last_inflight(s);
	relay_outq_append(&q, "mea", ev + 1000, 1000, 0);
	memset(&rb, 0, sizeof rb);
	rb.by_ref = 1;
	assert_int_equal(relay_outq_fill(&q, s, &rb, RELAY_BODY_MAX,
	    &resent), 1);
	assert_int_equal(s->busy, 2);
	p = rb.span[0].p;
	memcpy(copy, p, sizeof copy);
	/* a is refused 400: nothing is dropped while b sends from it */
	relay_outq_failed(&q, s);
	relay_outq_drop_all(&q, s);
	assert_int_equal(relay_outq_depth(&q), 2000);
	assert_int_equal(q.dropped, 0);
	assert_memory_equal(rb.span[0].p, copy, sizeof copy);
	/* b is answered: what it stored is acknowledged, the rest dropped */
	relay_outq_ack(&q, s, 1, 2);	/* the relay had a hole at 2 */
	assert_int_equal(s->busy, 0);
	assert_int_equal(relay_outq_depth(&q), 0);
	assert_int_equal(q.dropped, 1000);
	free(rb.span);

	/* a's batch refused alone as too large while b follows */
	relay_outq_append(&q, "mea", ev, 1000, 0);
	len = 0;
	fill(&q, s, &body, &len, &cap, RELAY_BODY_MAX, &resent);	/* 3 */
	last_a = relay_outq_last_inflight(s);
	relay_outq_append(&q, "mea", ev + 1000, 1000, 0);
	len = 0;
	fill(&q, s, &body, &len, &cap, RELAY_BODY_MAX, &resent);	/* 4 */
	relay_outq_failed(&q, s);
	assert_int_equal(relay_outq_split_later(&q, s, last_a, 5000), 2);
	assert_int_equal(s->nunacked, 2);		/* not yet */
	relay_outq_failed(&q, s);			/* b: 409 */
	assert_int_equal(s->busy, 0);
	assert_int_equal(s->nunacked, 6);	/* 3 and 4 in three pieces */
	len = 0;
	fill(&q, s, &body, &len, &cap, RELAY_BODY_MAX, &resent);
	nb = decode_body(body, len, seqs, 16, first);
	assert_int_equal(nb, 6);
	assert_int_equal(seqs[0], 3);
	assert_int_equal(seqs[5], 8);
	assert_int_equal(first[1], 412);
	assert_int_equal(first[3], 1000);	/* batch 4's, renumbered */
	free(body);
	free(ev);
	relay_outq_free(&q);
}

/*
 * A body holds at least one batch, and more only as they fit: another
 * stream's batch that would take a begun body over its size waits.
 */
static void
test_body_fits_other_streams(void **state)
{
	struct relay_outq	 q;
	struct relay_ostream	*s1, *s2;
	struct sb_event		*ev = make_events(1000, 0);
	uint8_t			*body = NULL;
	size_t			 len = 0, cap = 0, one;
	uint64_t		 resent = 0;

	relay_outq_init(&q, 1000, 1000, 1000000);
	s1 = setup_stream(&q, "mea");
	s2 = setup_stream(&q, "mea2");
	relay_outq_append(&q, "mea", ev, 1000, 0);
	relay_outq_append(&q, "mea2", ev, 1000, 0);
	one = wire_encoded_size(ev, 1000);
	assert_int_equal(fill(&q, s1, &body, &len, &cap, one + 100, &resent),
	    1);
	assert_int_equal(fill(&q, s2, &body, &len, &cap, one + 100, &resent),
	    0);
	assert_false(s2->busy);
	assert_int_equal(len, one);
	/* alone, a batch goes even over the size */
	len = 0;
	assert_int_equal(fill(&q, s2, &body, &len, &cap, 100, &resent), 1);
	free(body);
	free(ev);
	relay_outq_free(&q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_declare_then_runs),
		cmocka_unit_test(test_batches_in_order),
		cmocka_unit_test(test_ack_and_retransmit),
		cmocka_unit_test(test_overlapping_requests),
		cmocka_unit_test(test_refusal_with_follower),
		cmocka_unit_test(test_body_limit),
		cmocka_unit_test(test_ready_window),
		cmocka_unit_test(test_max_queue_drops_oldest),
		cmocka_unit_test(test_cut_ahead),
		cmocka_unit_test(test_encoded_as_queued),
		cmocka_unit_test(test_resync),
		cmocka_unit_test(test_small_batch_memory),
		cmocka_unit_test(test_split_refused_batch),
		cmocka_unit_test(test_body_fits_other_streams),
		cmocka_unit_test(test_config_errors),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
