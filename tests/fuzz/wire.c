/*
 * wire.c: fuzz target for the batch decoder (src/wire.c), as the relay
 * and every reader meet bodies of batches.
 *
 * The input is a body: batches back to back. Each is decoded in turn
 * until the first error, which must say why. What decodes must agree with
 * wire_peek and wire_verify (same header, same length) and re-encode to
 * bytes that decode to the same events. The input is decoded a second
 * time with the first batch's CRC made right, so that mutations reach the
 * records behind the CRC.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "fuzz.h"
#include "wire.h"

#define FUZZ_WIRE_MAX_EVENTS 8192
#define FUZZ_WIRE_MAX_BATCHES 64

/* Are two headers the same in every field a reader uses? */
static int
fuzz_wire_same_header(const struct wire_header *a,
    const struct wire_header *b)
{
	return a->version == b->version && a->flags == b->flags &&
	    a->header_len == b->header_len && a->session_id == b->session_id &&
	    a->stream_id == b->stream_id && a->event_count == b->event_count &&
	    a->seq == b->seq && a->base_us == b->base_us &&
	    a->payload_len == b->payload_len && a->crc == b->crc;
}

/* Re-encode a decoded event batch; it must decode to the same events. */
static void
fuzz_wire_round_trip(const struct wire_header *h, const struct sb_event *ev)
{
	static struct sb_event again[FUZZ_WIRE_MAX_EVENTS];
	static uint8_t buf[WIRE_HEADER_SIZE +
	    FUZZ_WIRE_MAX_EVENTS * WIRE_RECORD_MAX];
	struct wire_header h2;
	size_t size, consumed, i;

	size = wire_encode(buf, sizeof buf, h, ev, h->event_count);
	FUZZ_CHECK(size != 0 || h->event_count == 0);
	if (size == 0)
		return;
	FUZZ_CHECK(size == wire_encoded_size(ev, h->event_count));
	FUZZ_CHECK(wire_decode(buf, size, &h2, again, FUZZ_WIRE_MAX_EVENTS,
	    &consumed, NULL) == 0);
	FUZZ_CHECK(consumed == size);
	FUZZ_CHECK(h2.session_id == h->session_id &&
	    h2.stream_id == h->stream_id && h2.seq == h->seq &&
	    h2.event_count == h->event_count);
	for (i = 0; i < h->event_count; i++)
		FUZZ_CHECK(wire_event_same(&ev[i], &again[i]));
}

/*
 * A batch checked alone (wire_decode with out NULL, as the relay client's
 * network thread does) and decoded later from a copy of its payload
 * (wire_decode_checked, as its engine thread does) gives the same events
 * as wire_decode into an array.
 */
static void
fuzz_wire_checked_same(const uint8_t *batch, const struct wire_header *h,
    const struct sb_event *want)
{
	static struct sb_event got[FUZZ_WIRE_MAX_EVENTS];
	struct wire_header hc;
	uint8_t *payload;
	size_t consumed;
	uint32_t i;

	FUZZ_CHECK(wire_decode(batch, (size_t)h->header_len + h->payload_len,
	    &hc, NULL, 0, &consumed, NULL) == 0);
	FUZZ_CHECK(fuzz_wire_same_header(h, &hc));
	if ((payload = malloc(h->payload_len ? h->payload_len : 1)) == NULL)
		abort();
	memcpy(payload, batch + h->header_len, h->payload_len);
	memset(got, 0x5a, h->event_count * sizeof *got);
	wire_decode_checked(payload, &hc, got);
	for (i = 0; i < h->event_count; i++)
		FUZZ_CHECK(wire_event_same(&got[i], &want[i]));
	free(payload);
}

/* Decode every batch of a body until the first error. */
static void
fuzz_wire_body(const uint8_t *data, size_t size)
{
	static struct sb_event out[FUZZ_WIRE_MAX_EVENTS];
	struct wire_header h, hp, hv;
	size_t off = 0, consumed, verified;
	char *cause;
	int n, rc;

	for (n = 0; n < FUZZ_WIRE_MAX_BATCHES && off < size; n++) {
		cause = NULL;
		rc = wire_decode(data + off, size - off, &h, out,
		    FUZZ_WIRE_MAX_EVENTS, &consumed, &cause);
		if (rc != 0) {
			/* every refusal says why */
			FUZZ_CHECK(cause != NULL && *cause != '\0');
			free(cause);
			return;
		}
		FUZZ_CHECK(cause == NULL);
		FUZZ_CHECK(consumed >= WIRE_HEADER_SIZE &&
		    consumed <= size - off);
		FUZZ_CHECK(consumed == (size_t)h.header_len + h.payload_len);
		/* peek and verify see the same batch */
		FUZZ_CHECK(wire_peek(data + off, size - off, &hp, NULL) == 0);
		FUZZ_CHECK(fuzz_wire_same_header(&h, &hp));
		FUZZ_CHECK(wire_verify(data + off, size - off, &hv, &verified,
		    NULL) == 0);
		FUZZ_CHECK(verified == consumed);
		FUZZ_CHECK(fuzz_wire_same_header(&h, &hv));
		if (h.flags == 0) {
			fuzz_wire_checked_same(data + off, &h, out);
			fuzz_wire_round_trip(&h, out);
		}
		off += consumed;
	}
}

/* Decode as given, then with the first batch's CRC repaired. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	fuzz_wire_body(data, size);
	if ((copy = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(copy, data, size);
	if (wire_seal(copy, size) != 0)
		fuzz_wire_body(copy, size);
	free(copy);
	return 0;
}
