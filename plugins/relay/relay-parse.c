/*
 * relay-parse.c: incremental parser of a read stream. Bytes arrive in
 * pieces cut anywhere; every whole batch (events, gap or keep-alive) is
 * handed to a callback as an item the callback then owns.
 */
#include "config.h"

#include <sys/types.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "relay.h"
#include "xmalloc.h"

/* Little-endian loads. */
static uint32_t
relay_get32(const uint8_t *p)
{
	return ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24);
}

static uint64_t
relay_get64(const uint8_t *p)
{
	return ((uint64_t)relay_get32(p) | (uint64_t)relay_get32(p + 4) << 32);
}

/* Start with an empty buffer. */
void
relay_parser_init(struct relay_parser *p)
{
	memset(p, 0, sizeof *p);
}

/* Free the buffer. */
void
relay_parser_free(struct relay_parser *p)
{
	free(p->buf);
	memset(p, 0, sizeof *p);
}

/* Forget a partial batch (a new response starts). */
void
relay_parser_reset(struct relay_parser *p)
{
	p->len = 0;
}

/* Free an item and what it holds. */
void
relay_item_free(struct relay_item *item)
{
	if (item == NULL)
		return;
	if (item->pool != NULL)
		relay_pool_put(item->pool, item->raw, item->rawcap);
	else
		free(item->raw);
	free(item->from);
	free(item->text);
	free(item);
}

/* Decode an events item's item->n events into out. */
void
relay_item_events(const struct relay_item *item, struct sb_event *out)
{
	if (item->type == RELAY_ITEM_EVENTS && item->n > 0)
		wire_decode_checked(item->raw, &item->hdr, out);
}

/* Set *cause and fail. */
static int __attribute__((format(printf, 2, 3)))
relay_parse_error(char **cause, const char *fmt, ...)
{
	va_list	ap;

	if (cause != NULL) {
		va_start(ap, fmt);
		xvasprintf(cause, fmt, ap);
		va_end(ap);
	}
	return (-1);
}

/*
 * A gap or keep-alive batch of hlen + plen bytes, checked by its CRC. One
 * whose fields break the wire specification (a payload, a gap of seq 0, of
 * no batches or running past 2^64, a keep-alive with a stream, a seq or
 * events) is still whole and in step, so it becomes a rejected item saying
 * why, and reading goes on past it.
 */
static int
relay_parse_flagged(const uint8_t *buf, size_t hlen, size_t plen,
    uint8_t flags, struct relay_item **out, char **cause)
{
	struct relay_item	*item;
	struct wire_header	 h;
	uint8_t			 hdr[WIRE_HEADER_MAX];
	uint32_t		 crc;
	char			*why = NULL;

	if ((flags & ~(WIRE_FLAG_GAP | WIRE_FLAG_KEEPALIVE)) != 0 ||
	    flags == (WIRE_FLAG_GAP | WIRE_FLAG_KEEPALIVE))
		return (relay_parse_error(cause, "unknown batch flags 0x%02x",
		    flags));
	memcpy(hdr, buf, hlen);
	memset(hdr + 44, 0, 4);
	crc = crc32c(crc32c(0, hdr, hlen), buf + hlen, plen);
	if (crc != relay_get32(buf + 44))
		return (relay_parse_error(cause, "batch CRC mismatch"));
	item = xcalloc(1, sizeof *item);
	if (wire_peek(buf, hlen, &h, &why) != 0) {
		item->type = RELAY_ITEM_REJECTED;
		if (flags & WIRE_FLAG_GAP)
			item->stream_id = h.stream_id;
		item->text = why;
	} else if (flags & WIRE_FLAG_KEEPALIVE)
		item->type = RELAY_ITEM_KEEPALIVE;
	else {
		item->type = RELAY_ITEM_GAP;
		item->stream_id = h.stream_id;
		item->seq = h.seq;
		item->last_seq = wire_gap_last(&h);
	}
	*out = item;
	return (0);
}

/*
 * Parse one batch at buf if it is all there: 1 with *used and *out set, 0
 * if more bytes are needed, -1 if the stream is malformed.
 */
static int
relay_parse_one(struct relay_parser *p, const uint8_t *buf, size_t len,
    size_t *used, struct relay_item **out, char **cause)
{
	struct relay_item	*item;
	struct wire_header	 h;
	size_t			 hlen, plen, count, consumed;
	char			*why = NULL;

	if (len < WIRE_HEADER_SIZE)
		return (0);
	if (memcmp(buf, WIRE_MAGIC, 4) != 0)
		return (relay_parse_error(cause, "not a batch (bad magic)"));
	if (buf[4] != WIRE_VERSION)
		return (relay_parse_error(cause, "batch version %u (this "
		    "client reads %u): update synbridge", buf[4],
		    WIRE_VERSION));
	hlen = (size_t)buf[6] | (size_t)buf[7] << 8;
	plen = relay_get32(buf + 40);
	if (hlen < WIRE_HEADER_SIZE || hlen > WIRE_HEADER_MAX)
		return (relay_parse_error(cause, "batch header length %zu",
		    hlen));
	if (plen > WIRE_PAYLOAD_MAX)
		return (relay_parse_error(cause, "batch payload of %zu bytes",
		    plen));
	if (len < hlen + plen)
		return (0);
	*used = hlen + plen;
	if (buf[5] != 0) {
		if (relay_parse_flagged(buf, hlen, plen, buf[5], out,
		    cause) != 0)
			return (-1);
		return (1);
	}

	count = relay_get32(buf + 20);
	if (count > plen / WIRE_RECORD_MIN)
		return (relay_parse_error(cause, "batch of %zu events in %zu "
		    "bytes", count, plen));
	item = xcalloc(1, sizeof *item);
	item->type = RELAY_ITEM_EVENTS;
	/* checked whole here; decoded where it is delivered */
	if (wire_decode(buf, hlen + plen, &h, NULL, 0, &consumed,
	    &why) != 0) {
		char *bad = NULL;

		/* a bad CRC or header: the stream itself is broken */
		if (wire_verify(buf, hlen + plen, &h, &consumed, &bad) != 0) {
			relay_item_free(item);
			relay_parse_error(cause, "%s", why);
			free(why);
			free(bad);
			return (-1);
		}
		/*
		 * Whole and checked, but its records do not decode (an event
		 * kind this console does not know): the stream is still in
		 * step, so the batch becomes a gap of its stream and reading
		 * goes on, instead of reconnecting to meet it again forever.
		 */
		item->type = RELAY_ITEM_GAP;
		item->stream_id = relay_get32(buf + 16);
		item->seq = item->last_seq = relay_get64(buf + 24);
		xasprintf(&item->text, "an undecodable batch (%s)", why);
		free(why);
		*out = item;
		return (1);
	}
	if (p->pool != NULL) {
		item->pool = p->pool;
		item->raw = relay_pool_get(p->pool, plen, &item->rawcap);
	} else {
		item->raw = xmalloc(plen ? plen : 1);
		item->rawcap = plen;
	}
	memcpy(item->raw, buf + hlen, plen);
	item->hdr = h;
	item->n = h.event_count;
	item->stream_id = h.stream_id;
	item->seq = h.seq;
	*out = item;
	return (1);
}

/* Parse whole batches from buf; returns bytes used or -1. */
static ssize_t
relay_parse_run(struct relay_parser *p, const uint8_t *buf, size_t len,
    relay_parse_cb cb, void *ctx, char **cause)
{
	struct relay_item	*item;
	size_t			 off = 0, used = 0;
	int			 r;

	for (;;) {
		item = NULL;
		r = relay_parse_one(p, buf + off, len - off, &used, &item,
		    cause);
		if (r < 0)
			return (-1);
		if (r == 0)
			return ((ssize_t)off);
		off += used;
		p->batches++;
		if (item->type == RELAY_ITEM_REJECTED)
			p->rejected++;
		cb(ctx, item);
	}
}

/* Feed n more bytes; 0, or -1 with *cause if the stream is malformed. */
int
relay_parser_feed(struct relay_parser *p, const void *data, size_t n,
    relay_parse_cb cb, void *ctx, char **cause)
{
	const uint8_t	*in = data;
	ssize_t		 used;
	size_t		 need;

	p->bytes += n;
	if (p->len == 0) {
		/* Nothing held: parse straight from the caller's bytes. */
		if ((used = relay_parse_run(p, in, n, cb, ctx, cause)) < 0)
			return (-1);
		in += used;
		n -= (size_t)used;
	}
	while (n > 0) {
		if (p->len + n > p->cap) {
			need = p->len + n;
			p->cap = p->cap == 0 ? 65536 : p->cap;
			while (p->cap < need)
				p->cap *= 2;
			p->buf = xrealloc(p->buf, p->cap);
		}
		/* Append only what completes the batch at the front. */
		need = n;
		if (p->len >= WIRE_HEADER_SIZE) {
			size_t total = ((size_t)p->buf[6] |
			    (size_t)p->buf[7] << 8) + relay_get32(p->buf + 40);
			if (total > p->len && total - p->len < need)
				need = total - p->len;
		} else if (WIRE_HEADER_SIZE - p->len < need)
			need = WIRE_HEADER_SIZE - p->len;
		memcpy(p->buf + p->len, in, need);
		p->len += need;
		in += need;
		n -= need;
		if ((used = relay_parse_run(p, p->buf, p->len, cb, ctx,
		    cause)) < 0)
			return (-1);
		if (used > 0) {
			memmove(p->buf, p->buf + used, p->len - (size_t)used);
			p->len -= (size_t)used;
		}
		if (p->len == 0 && n > 0) {
			if ((used = relay_parse_run(p, in, n, cb, ctx,
			    cause)) < 0)
				return (-1);
			in += used;
			n -= (size_t)used;
		}
	}
	return (0);
}
