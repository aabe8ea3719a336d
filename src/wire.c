/* wire.c: the relay's batch format (see wire.h for the layout). */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "crc32c.h"
#include "wire.h"
#include "xmalloc.h"

/* Header field offsets. */
#define WIRE_OFF_VERSION 4
#define WIRE_OFF_FLAGS 5
#define WIRE_OFF_HEADER_LEN 6
#define WIRE_OFF_SESSION 8
#define WIRE_OFF_STREAM 16
#define WIRE_OFF_COUNT 20
#define WIRE_OFF_SEQ 24
#define WIRE_OFF_BASE 32
#define WIRE_OFF_PAYLOAD_LEN 40
#define WIRE_OFF_CRC 44

/* Record sizes by kind. */
#define WIRE_RECORD_SYNAPTIC 16

/* Store little-endian integers and floats. */
static inline void
wire_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void
wire_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void
wire_put64(uint8_t *p, uint64_t v)
{
	wire_put32(p, (uint32_t)v);
	wire_put32(p + 4, (uint32_t)(v >> 32));
}

static inline void
wire_putf(uint8_t *p, float f)
{
	uint32_t v;

	memcpy(&v, &f, sizeof v);
	wire_put32(p, v);
}

/* Load little-endian integers and floats. */
static inline uint16_t
wire_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t
wire_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static inline uint64_t
wire_get64(const uint8_t *p)
{
	return (uint64_t)wire_get32(p) | (uint64_t)wire_get32(p + 4) << 32;
}

static inline float
wire_getf(const uint8_t *p)
{
	uint32_t v = wire_get32(p);
	float f;

	memcpy(&f, &v, sizeof f);
	return f;
}

/* Record size of an event kind, or 0 if the kind is unknown. */
static inline size_t
wire_record_size(unsigned kind)
{
	switch (kind) {
	case SB_EV_SPIKE:
	case SB_EV_MARK:
		return WIRE_RECORD_MIN;
	case SB_EV_SYNAPTIC:
		return WIRE_RECORD_SYNAPTIC;
	case SB_EV_CONDUCTANCE:
	case SB_EV_STIM:
		return WIRE_RECORD_MAX;
	}
	return 0;
}

/* Name of an event kind for messages. */
static const char *
wire_kind_name(unsigned kind)
{
	switch (kind) {
	case SB_EV_SPIKE:
		return "spike";
	case SB_EV_SYNAPTIC:
		return "synaptic";
	case SB_EV_CONDUCTANCE:
		return "conductance";
	case SB_EV_STIM:
		return "stimulation";
	case SB_EV_MARK:
		return "mark";
	}
	return "unknown";
}

/* Set *cause (if wanted) and fail. */
static int __attribute__((format(printf, 2, 3)))
wire_error(char **cause, const char *fmt, ...)
{
	va_list ap;

	if (cause != NULL) {
		va_start(ap, fmt);
		xvasprintf(cause, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/*
 * One pass over ev: how many leading events fit together in one batch of
 * cap bytes, the bytes that batch takes (*bytes) and its earliest time
 * (*base); either pointer may be NULL.
 */
static size_t
wire_scan(const struct sb_event *ev, size_t n, size_t cap, size_t *bytes,
    int64_t *base)
{
	size_t i, size = WIRE_HEADER_SIZE, rec;
	int64_t lo, hi;

	if (n == 0 || cap < WIRE_HEADER_SIZE) {
		if (bytes != NULL)
			*bytes = WIRE_HEADER_SIZE;
		if (base != NULL)
			*base = 0;
		return 0;
	}
	lo = hi = ev[0].t_us;
	for (i = 0; i < n; i++) {
		rec = wire_record_size(ev[i].kind);
		if (rec == 0 || size + rec > cap ||
		    size + rec - WIRE_HEADER_SIZE > WIRE_PAYLOAD_MAX)
			break;
		if (ev[i].t_us < lo) {
			if ((uint64_t)hi - (uint64_t)ev[i].t_us > UINT32_MAX)
				break;
			lo = ev[i].t_us;
		} else if (ev[i].t_us > hi) {
			if ((uint64_t)ev[i].t_us - (uint64_t)lo > UINT32_MAX)
				break;
			hi = ev[i].t_us;
		}
		size += rec;
	}
	if (bytes != NULL)
		*bytes = size;
	if (base != NULL)
		*base = lo;
	return i;
}

/* How many leading events of ev fit together in one batch of cap bytes. */
size_t
wire_encode_fit(const struct sb_event *ev, size_t n, size_t cap)
{
	return wire_scan(ev, n, cap, NULL, NULL);
}

/* The same, and the bytes a batch of those events takes. */
size_t
wire_encode_span(const struct sb_event *ev, size_t n, size_t cap,
    size_t *bytes)
{
	return wire_scan(ev, n, cap, bytes, NULL);
}

/* Bytes one batch of these n events takes, or 0 if they cannot form one. */
size_t
wire_encoded_size(const struct sb_event *ev, size_t n)
{
	size_t size;

	if (wire_scan(ev, n, SIZE_MAX, &size, NULL) != n)
		return 0;
	return size;
}

/* Bytes of one record of an event kind (12, 16 or 30), or 0 if unknown. */
size_t
wire_record_bytes(unsigned kind)
{
	return wire_record_size(kind);
}

/* Write the record of e at p with its time as t_us - base_us. */
static inline size_t
wire_record_put(uint8_t *p, const struct sb_event *e, int64_t base_us)
{
	wire_put32(p, (uint32_t)((uint64_t)e->t_us - (uint64_t)base_us));
	p[4] = e->kind;
	p[5] = e->aux;
	wire_put16(p + 6, e->pop);
	wire_put32(p + 8, e->index);
	switch (e->kind) {
	case SB_EV_SYNAPTIC:
		wire_putf(p + 12, e->g_before);
		break;
	case SB_EV_CONDUCTANCE:
	case SB_EV_STIM:
		wire_put16(p + 12, e->count);
		wire_put32(p + 14, e->width_us);
		wire_putf(p + 18, e->amplitude);
		wire_putf(p + 22, e->g_before);
		wire_putf(p + 26, e->g_after);
		break;
	}
	return wire_record_size(e->kind);
}

/* The same, for callers outside. */
size_t
wire_put_record(uint8_t *p, const struct sb_event *e, int64_t base_us)
{
	return wire_record_put(p, e, base_us);
}

/*
 * Write the records of the leading events of ev that have a known kind, a
 * time from base_us to base_us + 2^32-1 and room in the room bytes at p;
 * stop at the first that has not. Returns how many, with the bytes
 * written (*bytes) and the latest time written (raises *max_us).
 */
size_t
wire_put_records(uint8_t *p, size_t room, const struct sb_event *ev,
    size_t n, int64_t base_us, int64_t *max_us, size_t *bytes)
{
	size_t i, rec, used = 0;
	uint64_t d;

	for (i = 0; i < n; i++) {
		rec = wire_record_size(ev[i].kind);
		d = (uint64_t)ev[i].t_us - (uint64_t)base_us;
		if (rec == 0 || rec > room - used || ev[i].t_us < base_us ||
		    d > UINT32_MAX)
			break;
		used += wire_record_put(p + used, &ev[i], base_us);
		if (ev[i].t_us > *max_us)
			*max_us = ev[i].t_us;
	}
	*bytes = used;
	return i;
}

/* Add d (mod 2^32) to the time of each of the n records at p. */
void
wire_shift_records(uint8_t *p, size_t n, uint32_t d)
{
	size_t i;

	for (i = 0; i < n; i++) {
		wire_put32(p, wire_get32(p) + d);
		p += wire_record_size(p[4]);
	}
}

/* Bytes the first k records at p take. */
size_t
wire_records_len(const uint8_t *p, size_t k)
{
	const uint8_t *r = p;
	size_t i;

	for (i = 0; i < k; i++)
		r += wire_record_size(r[4]);
	return (size_t)(r - p);
}

/*
 * Count the n records at p from the earliest of them: lowers every time
 * by the smallest and returns it (to be added to the batch's base).
 */
uint32_t
wire_rebase_records(uint8_t *p, size_t n)
{
	const uint8_t *r = p;
	uint32_t lo = UINT32_MAX, t;
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		if ((t = wire_get32(r)) < lo)
			lo = t;
		r += wire_record_size(r[4]);
	}
	wire_shift_records(p, n, (uint32_t)0 - lo);
	return lo;
}

/* Write the header and CRC of the batch whose records follow it. */
void
wire_finish(uint8_t *buf, const struct wire_header *h)
{
	memcpy(buf, WIRE_MAGIC, 4);
	buf[WIRE_OFF_VERSION] = WIRE_VERSION;
	buf[WIRE_OFF_FLAGS] = 0;
	wire_put16(buf + WIRE_OFF_HEADER_LEN, WIRE_HEADER_SIZE);
	wire_put64(buf + WIRE_OFF_SESSION, h->session_id);
	wire_put32(buf + WIRE_OFF_STREAM, h->stream_id);
	wire_put32(buf + WIRE_OFF_COUNT, h->event_count);
	wire_put64(buf + WIRE_OFF_SEQ, h->seq);
	wire_put64(buf + WIRE_OFF_BASE, (uint64_t)h->base_us);
	wire_put32(buf + WIRE_OFF_PAYLOAD_LEN, h->payload_len);
	wire_seal(buf, SIZE_MAX);
}

/* Write one batch of n events into buf; bytes written or 0. */
size_t
wire_encode(uint8_t *buf, size_t cap, const struct wire_header *h,
    const struct sb_event *ev, size_t n)
{
	struct wire_header out = *h;
	size_t size, i;
	int64_t base;
	uint8_t *p;

	/* (no events: an empty batch, as before) */
	if (wire_scan(ev, n, cap, &size, &base) != n || size > cap)
		return 0;
	p = buf + WIRE_HEADER_SIZE;
	for (i = 0; i < n; i++)
		p += wire_record_put(p, &ev[i], base);
	out.event_count = (uint32_t)n;
	out.base_us = base;
	out.payload_len = (uint32_t)(size - WIRE_HEADER_SIZE);
	wire_finish(buf, &out);
	return size;
}

/* Check the fields of a gap or keep-alive header. */
static int
wire_peek_flagged(const struct wire_header *h, char **cause)
{
	if (h->payload_len != 0) {
		return wire_error(cause, "%s batch has a payload of %" PRIu32
		    " bytes (must be empty)", (h->flags & WIRE_FLAG_GAP) ?
		    "gap" : "keep-alive", h->payload_len);
	}
	if ((h->flags & WIRE_FLAG_GAP) &&
	    (h->seq == 0 || h->event_count == 0 ||
	    h->seq > UINT64_MAX - h->event_count)) {
		return wire_error(cause, "gap batch of stream %" PRIu32 " has "
		    "a bad range: seq %" PRIu64 ", %" PRIu32 " batches",
		    h->stream_id, h->seq, h->event_count);
	}
	if ((h->flags & WIRE_FLAG_KEEPALIVE) &&
	    (h->stream_id != 0 || h->seq != 0 || h->event_count != 0)) {
		return wire_error(cause, "keep-alive batch must have stream 0, "
		    "seq 0 and no events (has %" PRIu32 ", %" PRIu64 ", %"
		    PRIu32 ")", h->stream_id, h->seq, h->event_count);
	}
	return 0;
}

/* Check the fixed header at buf and fill h. */
int
wire_peek(const uint8_t *buf, size_t len, struct wire_header *h,
    char **cause)
{
	if (len < WIRE_HEADER_SIZE) {
		return wire_error(cause, "truncated batch header: %zu bytes, "
		    "need at least %d", len, WIRE_HEADER_SIZE);
	}
	if (memcmp(buf, WIRE_MAGIC, 4) != 0) {
		return wire_error(cause, "bad batch magic %02x %02x %02x %02x "
		    "(expected \"%s\"): the peer does not speak the synbridge "
		    "batch format", buf[0], buf[1], buf[2], buf[3],
		    WIRE_MAGIC);
	}
	h->version = buf[WIRE_OFF_VERSION];
	h->flags = buf[WIRE_OFF_FLAGS];
	h->header_len = wire_get16(buf + WIRE_OFF_HEADER_LEN);
	h->session_id = wire_get64(buf + WIRE_OFF_SESSION);
	h->stream_id = wire_get32(buf + WIRE_OFF_STREAM);
	h->event_count = wire_get32(buf + WIRE_OFF_COUNT);
	h->seq = wire_get64(buf + WIRE_OFF_SEQ);
	h->base_us = (int64_t)wire_get64(buf + WIRE_OFF_BASE);
	h->payload_len = wire_get32(buf + WIRE_OFF_PAYLOAD_LEN);
	h->crc = wire_get32(buf + WIRE_OFF_CRC);

	if (h->version != WIRE_VERSION) {
		return wire_error(cause, "unsupported batch version %u (this "
		    "build reads version %d): run the same synbridge version "
		    "at every site and the relay", h->version, WIRE_VERSION);
	}
	if ((h->flags & ~WIRE_FLAGS_KNOWN) != 0 ||
	    h->flags == WIRE_FLAGS_KNOWN) {
		return wire_error(cause, "unknown batch flags 0x%02x (version "
		    "%d knows 0x%02x gap and 0x%02x keep-alive, one at a time): "
		    "run the same synbridge version at every site and the "
		    "relay", h->flags, WIRE_VERSION, WIRE_FLAG_GAP,
		    WIRE_FLAG_KEEPALIVE);
	}
	if (h->header_len < WIRE_HEADER_SIZE ||
	    h->header_len > WIRE_HEADER_MAX) {
		return wire_error(cause, "bad batch header length %u (must be "
		    "%d to %d)", h->header_len, WIRE_HEADER_SIZE,
		    WIRE_HEADER_MAX);
	}
	if (h->payload_len > WIRE_PAYLOAD_MAX) {
		return wire_error(cause, "batch payload of %" PRIu32 " bytes "
		    "is over the limit of %u", h->payload_len,
		    WIRE_PAYLOAD_MAX);
	}
	if (h->flags != 0)
		return wire_peek_flagged(h, cause);
	if (h->event_count > h->payload_len / WIRE_RECORD_MIN) {
		return wire_error(cause, "batch claims %" PRIu32 " events but "
		    "its payload of %" PRIu32 " bytes holds at most %" PRIu32,
		    h->event_count, h->payload_len,
		    h->payload_len / WIRE_RECORD_MIN);
	}
	return 0;
}

/* Check the CRC of a whole batch of size bytes. */
static int
wire_check_crc(const uint8_t *buf, size_t size, const struct wire_header *h,
    char **cause)
{
	static const uint8_t zero[4];
	uint32_t crc;

	crc = crc32c(0, buf, WIRE_OFF_CRC);
	crc = crc32c(crc, zero, sizeof zero);
	crc = crc32c(crc, buf + WIRE_OFF_CRC + 4, size - WIRE_OFF_CRC - 4);
	if (crc != h->crc) {
		return wire_error(cause, "batch %" PRIu64 " of stream %" PRIu32
		    " failed its CRC (header says 0x%08" PRIx32 ", data gives "
		    "0x%08" PRIx32 "): it was corrupted in transit", h->seq,
		    h->stream_id, h->crc, crc);
	}
	return 0;
}

/* Decode the record at p (its kind known, its length checked). */
static void
wire_record_get(const uint8_t *p, int64_t base_us, struct sb_event *e)
{
	*e = (struct sb_event){ 0 };
	e->t_us = base_us + wire_get32(p);
	e->kind = p[4];
	e->aux = p[5];
	e->pop = wire_get16(p + 6);
	e->index = wire_get32(p + 8);
	switch (e->kind) {
	case SB_EV_SYNAPTIC:
		e->g_before = wire_getf(p + 12);
		break;
	case SB_EV_CONDUCTANCE:
	case SB_EV_STIM:
		e->count = wire_get16(p + 12);
		e->width_us = wire_get32(p + 14);
		e->amplitude = wire_getf(p + 18);
		e->g_before = wire_getf(p + 22);
		e->g_after = wire_getf(p + 26);
		break;
	}
}

/*
 * The common batch, all 12-byte records (spikes and marks) and a base
 * time no delta can overflow, checked and decoded in one tight pass: 1
 * if done, 0 if the batch is not of that form (or a record in it is bad)
 * and the general loop must walk it and name what is wrong. Records are
 * at least 12 bytes, so a payload of exactly 12 per event holds nothing
 * else once every kind at a 12-byte stride is a 12-byte kind.
 */
static int
wire_decode_short(const uint8_t *payload, const struct wire_header *h,
    struct sb_event *out)
{
	const uint8_t *p;
	struct sb_event *e;
	uint32_t i, n = h->event_count;

	if ((uint64_t)n * WIRE_RECORD_MIN != h->payload_len ||
	    h->base_us > INT64_MAX - (int64_t)UINT32_MAX)
		return 0;
	for (i = 0, p = payload + 4; i < n; i++, p += WIRE_RECORD_MIN) {
		if (*p != SB_EV_SPIKE && *p != SB_EV_MARK)
			return 0;
	}
	if (out == NULL)
		return 1;
	for (i = 0, p = payload; i < n; i++, p += WIRE_RECORD_MIN) {
		e = &out[i];
		*e = (struct sb_event){ 0 };
		e->t_us = h->base_us + wire_get32(p);
		e->kind = p[4];
		e->aux = p[5];
		e->pop = wire_get16(p + 6);
		e->index = wire_get32(p + 8);
	}
	return 1;
}

/* Decode the first batch in buf[0..len) into h and out. */
int
wire_decode(const uint8_t *buf, size_t len, struct wire_header *h,
    struct sb_event *out, size_t max, size_t *consumed, char **cause)
{
	const uint8_t *payload, *p;
	size_t size, off, rec, left;
	uint32_t i, delta;
	unsigned kind;

	if (wire_peek(buf, len, h, cause) != 0)
		return -1;
	size = (size_t)h->header_len + h->payload_len;
	if (len < size) {
		return wire_error(cause, "truncated batch: %zu bytes of %zu "
		    "(header %u + payload %" PRIu32 ")", len, size,
		    h->header_len, h->payload_len);
	}
	if (wire_check_crc(buf, size, h, cause) != 0)
		return -1;
	if (h->flags != 0) {
		*consumed = size;
		return 0;
	}
	if (out != NULL && h->event_count > max) {
		return wire_error(cause, "batch holds %" PRIu32 " events but "
		    "there is room for %zu: decode into a larger buffer",
		    h->event_count, max);
	}

	payload = buf + h->header_len;
	if (wire_decode_short(payload, h, out))
		goto done;
	off = 0;
	for (i = 0; i < h->event_count; i++) {
		left = h->payload_len - off;
		p = payload + off;
		if (left < WIRE_RECORD_MIN) {
			return wire_error(cause, "batch record %" PRIu32 " of %"
			    PRIu32 " at payload byte %zu is cut short: %zu "
			    "bytes left, a record needs at least %d", i,
			    h->event_count, off, left, WIRE_RECORD_MIN);
		}
		kind = p[4];
		rec = wire_record_size(kind);
		if (rec == 0) {
			return wire_error(cause, "batch record %" PRIu32 " at "
			    "payload byte %zu has unknown event kind %u "
			    "(known: %d-%d)", i, off, kind, SB_EV_SPIKE,
			    SB_EV_MARK);
		}
		if (left < rec) {
			return wire_error(cause, "batch record %" PRIu32 " of %"
			    PRIu32 " at payload byte %zu is cut short: %zu "
			    "bytes left, a %s record needs %zu", i,
			    h->event_count, off, left, wire_kind_name(kind),
			    rec);
		}
		delta = wire_get32(p);
		if (h->base_us > INT64_MAX - (int64_t)delta) {
			return wire_error(cause, "batch record %" PRIu32
			    " time overflows: base %" PRId64 " us + delta %"
			    PRIu32 " us", i, h->base_us, delta);
		}
		off += rec;
		if (out != NULL)	/* else checked, not kept */
			wire_record_get(p, h->base_us, &out[i]);
	}
	if (off != h->payload_len) {
		return wire_error(cause, "batch has %zu bytes of trailing "
		    "garbage after its %" PRIu32 " records (payload %" PRIu32
		    " bytes)", h->payload_len - off, h->event_count,
		    h->payload_len);
	}
done:
	*consumed = size;
	return 0;
}

/* Decode the records of a batch wire_decode already accepted. */
void
wire_decode_checked(const uint8_t *payload, const struct wire_header *h,
    struct sb_event *out)
{
	const uint8_t *p = payload;
	uint32_t i;

	if (h->flags != 0 || wire_decode_short(payload, h, out))
		return;
	for (i = 0; i < h->event_count; i++) {
		wire_record_get(p, h->base_us, &out[i]);
		p += wire_record_size(p[4]);
	}
}

/* Check one batch's header, length and CRC without decoding records. */
int
wire_verify(const uint8_t *buf, size_t len, struct wire_header *h,
    size_t *consumed, char **cause)
{
	size_t size;

	if (wire_peek(buf, len, h, cause) != 0)
		return -1;
	size = (size_t)h->header_len + h->payload_len;
	if (len < size) {
		return wire_error(cause, "truncated batch: %zu bytes of %zu "
		    "(header %u + payload %" PRIu32 ")", len, size,
		    h->header_len, h->payload_len);
	}
	if (wire_check_crc(buf, size, h, cause) != 0)
		return -1;
	*consumed = size;
	return 0;
}

/* Write a gap batch (first..last) or, with first 0, a keep-alive. */
size_t
wire_encode_flagged(uint8_t *buf, size_t cap, const struct wire_header *h,
    uint64_t first, uint64_t last)
{
	uint32_t count = 0;
	uint8_t flags = WIRE_FLAG_KEEPALIVE;

	if (cap < WIRE_HEADER_SIZE)
		return 0;
	if (first != 0) {
		if (last < first || last - first >= UINT32_MAX)
			return 0;
		count = (uint32_t)(last - first + 1);
		flags = WIRE_FLAG_GAP;
	}
	memcpy(buf, WIRE_MAGIC, 4);
	buf[WIRE_OFF_VERSION] = WIRE_VERSION;
	buf[WIRE_OFF_FLAGS] = flags;
	wire_put16(buf + WIRE_OFF_HEADER_LEN, WIRE_HEADER_SIZE);
	wire_put64(buf + WIRE_OFF_SESSION, h->session_id);
	wire_put32(buf + WIRE_OFF_STREAM, first != 0 ? h->stream_id : 0);
	wire_put32(buf + WIRE_OFF_COUNT, count);
	wire_put64(buf + WIRE_OFF_SEQ, first);
	wire_put64(buf + WIRE_OFF_BASE, (uint64_t)h->base_us);
	wire_put32(buf + WIRE_OFF_PAYLOAD_LEN, 0);
	return wire_seal(buf, WIRE_HEADER_SIZE);
}

/*
 * Are two events the same in every field the wire carries (floats
 * bitwise, so a NaN equals itself)? 1 or 0.
 */
int
wire_event_same(const struct sb_event *a, const struct sb_event *b)
{
	return a->t_us == b->t_us && a->index == b->index &&
	    a->site == b->site && a->pop == b->pop && a->kind == b->kind &&
	    a->aux == b->aux && a->count == b->count &&
	    a->width_us == b->width_us &&
	    memcmp(&a->amplitude, &b->amplitude, sizeof a->amplitude) == 0 &&
	    memcmp(&a->g_before, &b->g_before, sizeof a->g_before) == 0 &&
	    memcmp(&a->g_after, &b->g_after, sizeof a->g_after) == 0;
}

/*
 * Write the CRC of the batch at buf into its header: CRC-32C over its
 * header and payload (the lengths its header gives) with the CRC field
 * zeroed. Returns the batch's size, or 0 (nothing written) if its header
 * length is below WIRE_HEADER_SIZE or the batch is longer than len.
 */
size_t
wire_seal(uint8_t *buf, size_t len)
{
	size_t hlen, plen;

	if (len < WIRE_HEADER_SIZE)
		return 0;
	hlen = wire_get16(buf + WIRE_OFF_HEADER_LEN);
	plen = wire_get32(buf + WIRE_OFF_PAYLOAD_LEN);
	if (hlen < WIRE_HEADER_SIZE || hlen > len || plen > len - hlen)
		return 0;
	wire_put32(buf + WIRE_OFF_CRC, 0);
	wire_put32(buf + WIRE_OFF_CRC, crc32c(0, buf, hlen + plen));
	return hlen + plen;
}
