/* test-relay-parse.c: read-stream parser and the relay's text answers. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "crc32c.h"
#include "relay.h"

struct seen {
	struct relay_item *items[64];
	size_t		 n;
};

/* Parser callback: keep every item. */
static void
keep(void *ctx, struct relay_item *item)
{
	struct seen	*s = ctx;

	assert_true(s->n < 64);
	s->items[s->n++] = item;
}

/* Free what was seen. */
static void
seen_free(struct seen *s)
{
	size_t	i;

	for (i = 0; i < s->n; i++)
		relay_item_free(s->items[i]);
	s->n = 0;
}

/* A body: events seq 1 (3 spikes), keep-alive, gap 2..4, events seq 5. */
static size_t
make_body(uint8_t *buf, size_t cap)
{
	struct wire_header	h;
	struct sb_event		ev[3];
	size_t			len = 0, i;

	memset(&h, 0, sizeof h);
	memset(ev, 0, sizeof ev);
	for (i = 0; i < 3; i++) {
		ev[i].t_us = 1000000 + 10 * (int64_t)i;
		ev[i].kind = SB_EV_SPIKE;
		ev[i].index = 40 + (uint32_t)i;
	}
	ev[2].kind = SB_EV_SYNAPTIC;
	ev[2].g_before = 1.5f;
	h.stream_id = 3;
	h.seq = 1;
	len += wire_encode(buf + len, cap - len, &h, ev, 3);
	h.stream_id = 0;
	len += wire_encode_flagged(buf + len, cap - len, &h, 0, 0);
	h.stream_id = 3;
	len += wire_encode_flagged(buf + len, cap - len, &h, 2, 4);
	h.seq = 5;
	len += wire_encode(buf + len, cap - len, &h, ev, 1);
	return (len);
}

/* What make_body holds, as parsed items. */
static void
check_items(struct seen *s)
{
	struct sb_event ev[3];

	assert_int_equal(s->n, 4);
	assert_int_equal(s->items[0]->type, RELAY_ITEM_EVENTS);
	assert_int_equal(s->items[0]->stream_id, 3);
	assert_int_equal(s->items[0]->seq, 1);
	assert_int_equal(s->items[0]->n, 3);
	relay_item_events(s->items[0], ev);	/* where it is delivered */
	assert_int_equal(ev[1].index, 41);
	assert_int_equal(ev[1].t_us, 1000010);
	assert_true(ev[2].g_before == 1.5f);
	assert_int_equal(s->items[1]->type, RELAY_ITEM_KEEPALIVE);
	assert_int_equal(s->items[2]->type, RELAY_ITEM_GAP);
	assert_int_equal(s->items[2]->seq, 2);
	assert_int_equal(s->items[2]->last_seq, 4);
	assert_int_equal(s->items[3]->type, RELAY_ITEM_EVENTS);
	assert_int_equal(s->items[3]->seq, 5);
	assert_int_equal(s->items[3]->n, 1);
}

/* Whole body at once. */
static void
test_parse_whole(void **state)
{
	struct relay_parser	p;
	struct seen		s = { .n = 0 };
	uint8_t			buf[4096];
	size_t			len = make_body(buf, sizeof buf);

	relay_parser_init(&p);
	assert_int_equal(relay_parser_feed(&p, buf, len, keep, &s, NULL), 0);
	check_items(&s);
	assert_int_equal(p.len, 0);
	seen_free(&s);
	relay_parser_free(&p);
}

/*
 * With a pool (as the relay client parses): the same items; their record
 * buffers go back to the pool when the items are freed and are taken
 * again by the next batches.
 */
static void
test_parse_pooled(void **state)
{
	struct relay_parser	p;
	struct relay_pool	pool;
	struct seen		s = { .n = 0 };
	uint8_t			buf[4096], *kept[2];
	size_t			len = make_body(buf, sizeof buf);

	relay_pool_init(&pool);
	relay_parser_init(&p);
	p.pool = &pool;
	assert_int_equal(relay_parser_feed(&p, buf, len, keep, &s, NULL), 0);
	check_items(&s);
	kept[0] = s.items[0]->raw;
	kept[1] = s.items[3]->raw;
	assert_ptr_equal(s.items[0]->pool, &pool);
	seen_free(&s);
	assert_int_equal(pool.n, 2);
	assert_int_equal(pool.bytes, 3 * 12 + 4 + 12);
	/* again: the two buffers, each where it fits */
	assert_int_equal(relay_parser_feed(&p, buf, len, keep, &s, NULL), 0);
	check_items(&s);
	assert_ptr_equal(s.items[0]->raw, kept[0]);
	assert_ptr_equal(s.items[3]->raw, kept[1]);
	assert_int_equal(pool.n, 0);
	assert_int_equal(pool.bytes, 0);
	seen_free(&s);
	relay_parser_free(&p);
	relay_pool_free(&pool);
}

/* The pool takes the smallest buffer that fits and keeps within bounds. */
static void
test_pool_bounds(void **state)
{
	struct relay_pool	pool;
	uint8_t			*small, *large, *b;
	size_t			cap, i;

	relay_pool_init(&pool);
	small = relay_pool_get(&pool, 100, &cap);
	assert_int_equal(cap, 100);
	large = relay_pool_get(&pool, 1000, &cap);
	relay_pool_put(&pool, large, 1000);
	relay_pool_put(&pool, small, 100);
	b = relay_pool_get(&pool, 50, &cap);
	assert_ptr_equal(b, small);
	assert_int_equal(cap, 100);
	relay_pool_put(&pool, b, cap);
	b = relay_pool_get(&pool, 101, &cap);
	assert_ptr_equal(b, large);
	relay_pool_put(&pool, b, cap);
	b = relay_pool_get(&pool, 1001, &cap);	/* none fits: a new one */
	assert_true(b != small && b != large);
	assert_int_equal(cap, 1001);
	assert_int_equal(pool.n, 2);
	relay_pool_put(&pool, b, cap);
	relay_pool_free(&pool);

	/* at most RELAY_POOL_BUFFERS kept: the rest are freed */
	{
		uint8_t *held[RELAY_POOL_BUFFERS + 4];

		relay_pool_init(&pool);
		for (i = 0; i < RELAY_POOL_BUFFERS + 4; i++)
			held[i] = relay_pool_get(&pool, 100, &cap);
		for (i = 0; i < RELAY_POOL_BUFFERS + 4; i++)
			relay_pool_put(&pool, held[i], 100);
		assert_int_equal(pool.n, RELAY_POOL_BUFFERS);
		assert_int_equal(pool.bytes, RELAY_POOL_BUFFERS * 100);
		relay_pool_free(&pool);
	}
	/* and at most RELAY_POOL_BYTES: a buffer over it is not kept */
	relay_pool_init(&pool);
	b = relay_pool_get(&pool, RELAY_POOL_BYTES / 2, &cap);
	relay_pool_put(&pool, b, cap);
	b = relay_pool_get(&pool, RELAY_POOL_BYTES / 2 + 1, &cap);
	relay_pool_put(&pool, b, cap);
	assert_int_equal(pool.n, 1);
	assert_int_equal(pool.bytes, RELAY_POOL_BYTES / 2);
	b = relay_pool_get(&pool, RELAY_POOL_BYTES + 1, &cap);
	relay_pool_put(&pool, b, cap);
	assert_int_equal(pool.n, 1);
	relay_pool_free(&pool);
}

/* One byte per callback: the same items, nothing before it is whole. */
static void
test_parse_byte_by_byte(void **state)
{
	struct relay_parser	p;
	struct seen		s = { .n = 0 };
	uint8_t			buf[4096];
	size_t			len = make_body(buf, sizeof buf), i;

	relay_parser_init(&p);
	for (i = 0; i < len; i++) {
		assert_int_equal(relay_parser_feed(&p, buf + i, 1, keep, &s,
		    NULL), 0);
		if (i + 1 < 48 + 3 * 12)
			assert_int_equal(s.n, 0);
	}
	check_items(&s);
	seen_free(&s);
	relay_parser_free(&p);
}

/* Random cuts (seeded), over many bodies back to back. */
static void
test_parse_random_cuts(void **state)
{
	struct relay_parser	p;
	struct seen		s = { .n = 0 };
	uint8_t			buf[4096];
	size_t			len = make_body(buf, sizeof buf), off, k;
	int			round;

	srandom(12345);
	relay_parser_init(&p);
	for (round = 0; round < 200; round++) {
		for (off = 0; off < len; off += k) {
			k = 1 + (size_t)random() % 97;
			if (k > len - off)
				k = len - off;
			assert_int_equal(relay_parser_feed(&p, buf + off, k,
			    keep, &s, NULL), 0);
		}
		check_items(&s);
		seen_free(&s);
	}
	relay_parser_free(&p);
}

/*
 * A batch whose CRC is right but whose record has an unknown event kind
 * becomes a gap of its stream; the batches after it are read as usual.
 */
static void
test_parse_undecodable(void **state)
{
	struct relay_parser	p;
	struct seen		s = { .n = 0 };
	struct wire_header	h;
	struct sb_event		ev;
	uint8_t			buf[1024];
	size_t			len, first;
	uint32_t		crc;

	(void)state;
	memset(&h, 0, sizeof h);
	memset(&ev, 0, sizeof ev);
	ev.kind = SB_EV_SPIKE;
	h.stream_id = 7;
	h.seq = 9;
	first = wire_encode(buf, sizeof buf, &h, &ev, 1);
	buf[WIRE_HEADER_SIZE + 4] = 12;		/* no such event kind */
	memset(buf + 44, 0, 4);
	crc = crc32c(0, buf, first);
	buf[44] = (uint8_t)crc;
	buf[45] = (uint8_t)(crc >> 8);
	buf[46] = (uint8_t)(crc >> 16);
	buf[47] = (uint8_t)(crc >> 24);
	h.seq = 10;
	len = first + wire_encode(buf + first, sizeof buf - first, &h, &ev, 1);
	relay_parser_init(&p);
	assert_int_equal(relay_parser_feed(&p, buf, len, keep, &s, NULL), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.items[0]->type, RELAY_ITEM_GAP);
	assert_int_equal(s.items[0]->stream_id, 7);
	assert_int_equal(s.items[0]->seq, 9);
	assert_int_equal(s.items[0]->last_seq, 9);
	assert_non_null(strstr(s.items[0]->text, "undecodable"));
	assert_int_equal(s.items[1]->type, RELAY_ITEM_EVENTS);
	assert_int_equal(s.items[1]->seq, 10);
	seen_free(&s);
	relay_parser_free(&p);
}

/* A damaged byte is refused with a reason; a reset starts clean. */
static void
test_parse_corrupt(void **state)
{
	struct relay_parser	p;
	struct seen		s = { .n = 0 };
	uint8_t			buf[4096];
	size_t			len = make_body(buf, sizeof buf);
	char			*cause = NULL;

	relay_parser_init(&p);
	buf[60] ^= 0x40;
	assert_int_equal(relay_parser_feed(&p, buf, len, keep, &s, &cause),
	    -1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "CRC"));
	free(cause);
	seen_free(&s);
	buf[60] ^= 0x40;
	/* Garbage first, then a reset and a good body. */
	assert_int_equal(relay_parser_feed(&p, "HTTP/1.1 200", 12, keep, &s,
	    NULL), 0);
	relay_parser_reset(&p);
	assert_int_equal(relay_parser_feed(&p, buf, len, keep, &s, NULL), 0);
	check_items(&s);
	seen_free(&s);
	relay_parser_free(&p);
}

/* Little-endian stores for hand-made headers. */
static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/*
 * A flagged batch with any fields, as a faulty relay might write it: plen
 * payload bytes, a right CRC. Returns its length.
 */
static size_t
make_flagged(uint8_t *buf, uint8_t flags, uint32_t stream, uint32_t count,
    uint64_t seq, uint32_t plen)
{
	size_t	len = WIRE_HEADER_SIZE + plen;

	memset(buf, 0, len);
	memcpy(buf, WIRE_MAGIC, 4);
	buf[4] = WIRE_VERSION;
	buf[5] = flags;
	buf[6] = WIRE_HEADER_SIZE;
	put64(buf + 8, 77);
	put32(buf + 16, stream);
	put32(buf + 20, count);
	put64(buf + 24, seq);
	put64(buf + 32, 123456789);
	put32(buf + 40, plen);
	memset(buf + WIRE_HEADER_SIZE, 0xa5, plen);
	put32(buf + 44, crc32c(0, buf, len));
	return (len);
}

/* The gap and keep-alive batches a reader rejects, and why. */
static const struct bad_flagged {
	uint8_t		 flags;
	uint32_t	 stream, count;
	uint64_t	 seq;
	uint32_t	 plen;
	const char	*why;
} bad_flagged[] = {
	{ WIRE_FLAG_GAP, 3, 2, 0, 0, "bad range: seq 0," },
	{ WIRE_FLAG_GAP, 3, 0, 5, 0, "bad range: seq 5, 0 batches" },
	/* last = seq + count - 1 wraps past 2^64 */
	{ WIRE_FLAG_GAP, 3, 3, UINT64_MAX - 1, 0, "bad range" },
	{ WIRE_FLAG_GAP, 3, UINT32_MAX, UINT64_MAX - 1000, 0, "bad range" },
	/* last is 2^64 - 1: the batch after it would have seq 0 */
	{ WIRE_FLAG_GAP, 3, 1, UINT64_MAX, 0, "bad range" },
	{ WIRE_FLAG_GAP, 3, 2, 4, 12, "gap batch has a payload of 12" },
	{ WIRE_FLAG_KEEPALIVE, 3, 0, 0, 0, "stream 0, seq 0" },
	{ WIRE_FLAG_KEEPALIVE, 0, 0, 7, 0, "(has 0, 7, 0)" },
	{ WIRE_FLAG_KEEPALIVE, 0, 2, 0, 0, "(has 0, 0, 2)" },
	{ WIRE_FLAG_KEEPALIVE, 0, 0, 0, 30, "keep-alive batch has a payload" },
};
#define NBAD (sizeof bad_flagged / sizeof bad_flagged[0])

/*
 * Events seq 1, every rejected batch, the longest gap a reader accepts
 * (it ends at 2^64 - 2) and events seq 2. Returns the length.
 */
static size_t
make_rejected_body(uint8_t *buf, size_t cap)
{
	const struct bad_flagged *b;
	struct wire_header	 h;
	struct sb_event		 ev;
	size_t			 len = 0, i;

	memset(&h, 0, sizeof h);
	memset(&ev, 0, sizeof ev);
	ev.kind = SB_EV_SPIKE;
	h.stream_id = 3;
	h.seq = 1;
	len += wire_encode(buf, cap, &h, &ev, 1);
	for (i = 0; i < NBAD; i++) {
		b = &bad_flagged[i];
		assert_true(len + WIRE_HEADER_SIZE + b->plen <= cap);
		len += make_flagged(buf + len, b->flags, b->stream, b->count,
		    b->seq, b->plen);
	}
	len += make_flagged(buf + len, WIRE_FLAG_GAP, 3, 3, UINT64_MAX - 3,
	    0);
	h.seq = 2;
	len += wire_encode(buf + len, cap - len, &h, &ev, 1);
	return (len);
}

/* What make_rejected_body holds, as parsed items. */
static void
check_rejected(struct seen *s)
{
	size_t	i;

	assert_int_equal(s->n, NBAD + 3);
	assert_int_equal(s->items[0]->type, RELAY_ITEM_EVENTS);
	assert_int_equal(s->items[0]->seq, 1);
	for (i = 0; i < NBAD; i++) {
		const struct relay_item *it = s->items[1 + i];

		if (it->type != RELAY_ITEM_REJECTED || it->text == NULL ||
		    strstr(it->text, bad_flagged[i].why) == NULL)
			fail_msg("batch %zu: type %d, '%s' (want rejected, "
			    "'%s')", i, it->type, it->text ? it->text : "",
			    bad_flagged[i].why);
		/* a rejected gap still names its stream; a keep-alive none */
		assert_int_equal(it->stream_id,
		    bad_flagged[i].flags == WIRE_FLAG_GAP ? 3 : 0);
	}
	assert_int_equal(s->items[NBAD + 1]->type, RELAY_ITEM_GAP);
	assert_true(s->items[NBAD + 1]->seq == UINT64_MAX - 3);
	assert_true(s->items[NBAD + 1]->last_seq == UINT64_MAX - 1);
	assert_int_equal(s->items[NBAD + 2]->type, RELAY_ITEM_EVENTS);
	assert_int_equal(s->items[NBAD + 2]->seq, 2);
}

/*
 * Gap and keep-alive batches that break the wire specification are
 * rejected with the reason, one by one and counted; the stream stays in
 * step and the batches after them are read (whole or a byte at a time).
 */
static void
test_parse_rejected(void **state)
{
	struct relay_parser	p;
	struct seen		s = { .n = 0 };
	uint8_t			buf[4096];
	size_t			len = make_rejected_body(buf, sizeof buf), i;
	char			*cause = NULL;

	(void)state;
	relay_parser_init(&p);
	assert_int_equal(relay_parser_feed(&p, buf, len, keep, &s, &cause),
	    0);
	assert_null(cause);
	check_rejected(&s);
	assert_int_equal(p.rejected, NBAD);
	assert_int_equal(p.len, 0);
	seen_free(&s);
	for (i = 0; i < len; i++)
		assert_int_equal(relay_parser_feed(&p, buf + i, 1, keep, &s,
		    NULL), 0);
	check_rejected(&s);
	assert_int_equal(p.rejected, 2 * NBAD);
	seen_free(&s);
	relay_parser_free(&p);
}

/* A flagged batch's CRC covers its payload too: damage there is refused. */
static void
test_parse_flagged_crc(void **state)
{
	struct relay_parser	p;
	struct seen		s = { .n = 0 };
	uint8_t			buf[256];
	size_t			len;
	char			*cause = NULL;

	(void)state;
	len = make_flagged(buf, WIRE_FLAG_GAP, 3, 2, 4, 12);
	buf[len - 1] ^= 0x01;
	relay_parser_init(&p);
	assert_int_equal(relay_parser_feed(&p, buf, len, keep, &s, &cause),
	    -1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "CRC"));
	assert_int_equal(s.n, 0);
	free(cause);
	relay_parser_free(&p);
}

/* Stream lists, registration and publish answers. */
static void
test_text_answers(void **state)
{
	char			 body[] = "5 mea 1\r\n6 syn:zurich/silicon 17\n"
	    "junk\n", list[] = "9 zurich silicon 256 1200", *p = body;
	char			 ack[] = "5 99";
	struct relay_listed	 r;
	uint32_t		 id;
	uint64_t		 seq;

	assert_int_equal(relay_text_registered(relay_text_line(&p), &r), 0);
	assert_int_equal(r.id, 5);
	assert_string_equal(r.name, "mea");
	assert_int_equal(r.seq, 1);
	assert_int_equal(relay_text_registered(relay_text_line(&p), &r), 0);
	assert_string_equal(r.name, "syn:zurich/silicon");
	assert_int_equal(r.seq, 17);
	assert_int_equal(relay_text_registered(relay_text_line(&p), &r), -1);
	assert_null(relay_text_line(&p));
	assert_int_equal(relay_text_listed(list, &r), 0);
	assert_string_equal(r.site, "zurich");
	assert_string_equal(r.name, "silicon");
	assert_int_equal(r.units, 256);
	assert_int_equal(r.seq, 1200);
	assert_int_equal(relay_text_acked(ack, &id, &seq), 0);
	assert_int_equal(id, 5);
	assert_int_equal(seq, 99);
}

/* Control lines: commands keep spaces, results are unescaped. */
/* GET /v1/health lines: this relay's, an older relay's, and bad ones. */
static void
test_text_presence(void **state)
{
	static const char *const bad[] = {
		"", "padova", "padova 0.4 12 3", "padova x 12 3 0",
		"padova 0.4 - 3 0", "padova -1 12 3 0", "padova 0.4 12 3 0 x 1",
		"padova 0.4 12 3 0 0.1", "padova 0.4 12 3 0 0.1 -1",
		"padova 0.4 12 3 0 0.1 99999999999", "padova nan 12 3 0",
		"padova 0.4 inf 3 0", "padova 0.4 12 3 0 1e999 1",
	};
	struct relay_presence p;
	char line[256];
	size_t i;

	(void)state;
	snprintf(line, sizeof line, "padova 0.4 812 120 2 0.1 1");
	assert_int_equal(relay_text_presence(line, &p), 0);
	assert_string_equal(p.site, "padova");
	assert_true(fabs(p.seen_ago_s - 0.4) < 1e-9);
	assert_true(fabs(p.events_per_s - 812) < 1e-9);
	assert_int_equal(p.batches, 120);
	assert_int_equal(p.gaps, 2);
	assert_true(fabs(p.heard_ago_s - 0.1) < 1e-9);
	assert_int_equal(p.reads, 1);
	/* never published, never heard */
	snprintf(line, sizeof line, "zurich - 0 0 0 - 0");
	assert_int_equal(relay_text_presence(line, &p), 0);
	assert_true(isnan(p.seen_ago_s));
	assert_true(isnan(p.heard_ago_s));
	assert_int_equal(p.reads, 0);
	/* an older relay: five columns, nothing known of its console */
	snprintf(line, sizeof line, "southampton 1.5 3 9 0");
	assert_int_equal(relay_text_presence(line, &p), 0);
	assert_true(isnan(p.heard_ago_s));
	/* a newer one's further columns are left */
	snprintf(line, sizeof line, "padova 0.4 812 120 2 0.1 1 more 7");
	assert_int_equal(relay_text_presence(line, &p), 0);
	assert_int_equal(p.reads, 1);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(line, sizeof line, "%s", bad[i]);
		if (relay_text_presence(line, &p) != -1)
			fail_msg("accepted '%s'", bad[i]);
	}
}

/*
 * Polls of a site's reads carried from one to the next: a site that reads,
 * then reads nothing at one poll (its console changing what it reads),
 * then again, then nothing at two polls in a row (it quit); one that never
 * read is never taken to have stopped; a site gone from the answer and
 * back starts afresh.
 */
static void
test_presence_merge(void **state)
{
	static const unsigned reads[] = { 0, 1, 0, 1, 0, 0, 0 };
	static const int was[] = { 0, 1, 1, 1, 1, 1, 1 };
	static const unsigned idle[] = { 0, 0, 1, 0, 1, 2, 3 };
	struct relay_presence old[2], got[2];
	size_t i, nold = 0;

	(void)state;
	memset(old, 0, sizeof old);
	for (i = 0; i < sizeof reads / sizeof reads[0]; i++) {
		memset(got, 0, sizeof got);
		snprintf(got[0].site, sizeof got[0].site, "padova");
		got[0].reads = reads[i];
		snprintf(got[1].site, sizeof got[1].site, "zurich");
		relay_presence_merge(got, 2, old, nold);
		assert_int_equal(got[0].was_reading, was[i]);
		assert_int_equal(got[0].idle_polls, idle[i]);
		/* zurich never read: never stopped */
		assert_int_equal(got[1].was_reading, 0);
		assert_int_equal(got[1].idle_polls, 0);
		memcpy(old, got, sizeof got);
		nold = 2;
	}
	/* padova left the answer, then came back reading nothing */
	memset(got, 0, sizeof got);
	snprintf(got[0].site, sizeof got[0].site, "zurich");
	relay_presence_merge(got, 1, old, nold);
	memcpy(old, got, sizeof got);
	nold = 1;
	memset(got, 0, sizeof got);
	snprintf(got[0].site, sizeof got[0].site, "padova");
	relay_presence_merge(got, 1, old, nold);
	assert_int_equal(got[0].was_reading, 0);
	assert_int_equal(got[0].idle_polls, 0);
}

static void
test_text_control(void **state)
{
	char			 cmd[] = "12 command padova 7 potentiate s3 2";
	char			 res[] = "13 result southampton 7 ok "
	    "s3: 1.2 uS\\n s4: 0.8 \\\\ done";
	char			 bad[] = "14 result zurich 8 maybe x";
	struct relay_item	*item;
	uint64_t		 n;

	item = relay_text_control(cmd, &n);
	assert_non_null(item);
	assert_int_equal(n, 12);
	assert_int_equal(item->type, RELAY_ITEM_COMMAND);
	assert_string_equal(item->from, "padova");
	assert_int_equal(item->id, 7);
	assert_string_equal(item->text, "potentiate s3 2");
	relay_item_free(item);
	item = relay_text_control(res, &n);
	assert_non_null(item);
	assert_int_equal(item->type, RELAY_ITEM_RESULT);
	assert_int_equal(item->status, 0);
	assert_string_equal(item->text, "s3: 1.2 uS\n s4: 0.8 \\ done");
	relay_item_free(item);
	assert_null(relay_text_control(bad, &n));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_whole),
		cmocka_unit_test(test_parse_pooled),
		cmocka_unit_test(test_pool_bounds),
		cmocka_unit_test(test_parse_byte_by_byte),
		cmocka_unit_test(test_parse_random_cuts),
		cmocka_unit_test(test_parse_corrupt),
		cmocka_unit_test(test_parse_undecodable),
		cmocka_unit_test(test_parse_rejected),
		cmocka_unit_test(test_parse_flagged_crc),
		cmocka_unit_test(test_text_answers),
		cmocka_unit_test(test_text_presence),
		cmocka_unit_test(test_presence_merge),
		cmocka_unit_test(test_text_control),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
