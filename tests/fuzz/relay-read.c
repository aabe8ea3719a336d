/*
 * relay-read.c: fuzz target for the relay client's read-stream parser
 * (plugins/relay/relay-parse.c), which takes the bytes of GET /v1/read as
 * they arrive, cut anywhere.
 *
 * Input: one byte that seeds where the stream is cut, then the stream.
 * The stream is parsed whole in one call, then again in pieces; both must
 * hand over the same batches in the same order and meet the same error,
 * which must say why. Every batch handed over must be one the wire format
 * accepts: gaps whose range is a range (first >= 1, last >= first), and a
 * batch of events that does not decode taken as a gap of its own seq.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "fuzz.h"
#include "relay.h"

#define FUZZ_READ_MAX_ITEMS 4096

/* What one parse handed over. */
struct fuzz_read_run {
	struct relay_item *items[FUZZ_READ_MAX_ITEMS];
	size_t n;
	int overflow;
};

/* Parser callback: keep the item. */
static void
fuzz_read_keep(void *ctx, struct relay_item *item)
{
	struct fuzz_read_run *r = ctx;

	FUZZ_CHECK(item != NULL);
	FUZZ_CHECK(item->type == RELAY_ITEM_EVENTS ||
	    item->type == RELAY_ITEM_GAP || item->type == RELAY_ITEM_KEEPALIVE ||
	    item->type == RELAY_ITEM_REJECTED);
	/* a gap or keep-alive that breaks the wire format: why, to log */
	if (item->type == RELAY_ITEM_REJECTED)
		FUZZ_CHECK(item->text != NULL);
	if (item->type == RELAY_ITEM_EVENTS)
		FUZZ_CHECK(item->n == 0 || item->raw != NULL);
	/* a gap the relay wrote is a range from 1; an undecodable batch is
	 * a gap of its own seq (whatever it is: readers drop seq 0) */
	if (item->type == RELAY_ITEM_GAP && item->text == NULL)
		FUZZ_CHECK(item->seq >= 1 && item->last_seq >= item->seq);
	if (item->type == RELAY_ITEM_GAP && item->text != NULL)
		FUZZ_CHECK(item->last_seq == item->seq);
	if (r->n == FUZZ_READ_MAX_ITEMS) {
		r->overflow = 1;
		relay_item_free(item);
		return;
	}
	r->items[r->n++] = item;
}

/* Free what a run kept. */
static void
fuzz_read_free(struct fuzz_read_run *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		relay_item_free(r->items[i]);
	r->n = 0;
}

/* Are two items the same batch? */
static int
fuzz_read_same(const struct relay_item *a, const struct relay_item *b)
{
	struct sb_event *ea, *eb;
	size_t i;
	int same = 1;

	if (a->type != b->type || a->stream_id != b->stream_id ||
	    a->seq != b->seq || a->last_seq != b->last_seq || a->n != b->n)
		return 0;
	if ((a->text == NULL) != (b->text == NULL) ||
	    (a->text != NULL && strcmp(a->text, b->text) != 0))
		return 0;
	if (a->type != RELAY_ITEM_EVENTS || a->n == 0)
		return 1;
	/* decoded where the console would deliver them */
	ea = calloc(a->n, sizeof *ea);
	eb = calloc(b->n, sizeof *eb);
	FUZZ_CHECK(ea != NULL && eb != NULL);
	relay_item_events(a, ea);
	relay_item_events(b, eb);
	for (i = 0; i < a->n && same; i++)
		same = wire_event_same(&ea[i], &eb[i]);
	free(ea);
	free(eb);
	return same;
}

/* A small generator for the cut points. */
static uint32_t
fuzz_read_next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Parse whole and in pieces; compare. */
static void
fuzz_read_check(const uint8_t *data, size_t size, uint32_t seed, int small)
{
	static struct fuzz_read_run whole, cut;
	struct relay_parser p;
	char *why_whole = NULL, *why_cut = NULL;
	size_t off, n, i;
	int rc_whole, rc_cut = 0;

	relay_parser_init(&p);
	rc_whole = relay_parser_feed(&p, data, size, fuzz_read_keep, &whole,
	    &why_whole);
	FUZZ_CHECK(rc_whole == 0 || rc_whole == -1);
	FUZZ_CHECK(rc_whole == 0 || (why_whole != NULL && *why_whole != '\0'));
	FUZZ_CHECK(whole.overflow || p.batches == whole.n);
	relay_parser_free(&p);

	relay_parser_init(&p);
	for (off = 0; off < size && rc_cut == 0; off += n) {
		n = 1 + fuzz_read_next(&seed) % (small ? 7 : 301);
		if (n > size - off)
			n = size - off;
		rc_cut = relay_parser_feed(&p, data + off, n, fuzz_read_keep,
		    &cut, &why_cut);
	}
	relay_parser_free(&p);

	/* the same batches, the same end */
	FUZZ_CHECK(rc_cut == rc_whole);
	if (!whole.overflow && !cut.overflow) {
		FUZZ_CHECK(cut.n == whole.n);
		for (i = 0; i < whole.n; i++)
			FUZZ_CHECK(fuzz_read_same(whole.items[i], cut.items[i]));
	}
	if (rc_whole != 0)
		FUZZ_CHECK(strcmp(why_whole, why_cut) == 0);
	fuzz_read_free(&whole);
	fuzz_read_free(&cut);
	whole.overflow = cut.overflow = 0;
	free(why_whole);
	free(why_cut);
}

/* Make every batch's CRC right, so that mutations reach what it covers. */
static void
fuzz_read_fix_crcs(uint8_t *buf, size_t size)
{
	size_t off = 0, n;

	while (size - off >= WIRE_HEADER_SIZE) {
		if (((size_t)buf[off + 6] | (size_t)buf[off + 7] << 8) >
		    WIRE_HEADER_MAX ||
		    (n = wire_seal(buf + off, size - off)) == 0)
			return;
		off += n;
	}
}

/* The stream as given, then with its CRCs made right. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t seed;
	uint8_t *copy;
	int small;

	if (size < 1)
		return 0;
	seed = 0x9e3779b9u ^ data[0];
	small = data[0] & 1;
	data++;
	size--;
	fuzz_read_check(data, size, seed, small);
	if ((copy = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(copy, data, size);
	fuzz_read_fix_crcs(copy, size);
	if (memcmp(copy, data, size) != 0)
		fuzz_read_check(copy, size, seed, small);
	free(copy);
	return 0;
}
