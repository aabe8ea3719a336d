/*
 * wire.h: the relay's batch format (version 1).
 *
 * A batch is a run of events from one stream (one site's output) with a
 * sequence number. A body (an HTTP request or response, a spool file) may
 * hold several batches back to back; each one is self-delimiting and
 * protected by its own CRC. All integers are little-endian and unaligned;
 * floats are IEEE 754 binary32 bit patterns, little-endian.
 *
 * Header (48 bytes in version 1):
 *
 *   offset size type  field
 *        0    4 char  magic        "SBB1" (0x53 0x42 0x42 0x31)
 *        4    1 u8    version      1
 *        5    1 u8    flags        0 for an event batch, or one of
 *                                  WIRE_FLAG_GAP, WIRE_FLAG_KEEPALIVE (a
 *                                  reader rejects any other bit and both
 *                                  at once)
 *        6    2 u16   header_len   48 written; a reader accepts 48-256 and
 *                                  skips bytes 48..header_len-1 (room for
 *                                  additive extensions, covered by the CRC)
 *        8    8 u64   session_id   the session this batch belongs to
 *       16    4 u32   stream_id    the publishing site's stream
 *       20    4 u32   event_count  number of records in the payload
 *       24    8 u64   seq          batch sequence number within the stream
 *       32    8 i64   base_us      session time (us) the deltas count from;
 *                                  the writer puts the earliest event time
 *       40    4 u32   payload_len  bytes of payload after the header,
 *                                  at most WIRE_PAYLOAD_MAX
 *       44    4 u32   crc          CRC-32C (Castagnoli) of the header_len
 *                                  header bytes, with these four bytes taken
 *                                  as zero, followed by the payload
 *
 * Payload: event_count records, back to back, no padding, nothing after
 * the last one. Every record starts with 12 bytes:
 *
 *   offset size type  field
 *        0    4 u32   delta_us     t_us - base_us (0 to 2^32-1 us, ~71 min)
 *        4    1 u8    kind         enum sb_event_kind (1-5)
 *        5    1 u8    aux          spike: SB_SPIKE_*; synaptic: weight
 *        6    2 u16   pop          population id (SB_POP_SYNAPSE: synapse)
 *        8    4 u32   index        unit index or synapse id
 *
 * and kind-dependent fields follow:
 *
 *   SB_EV_SPIKE, SB_EV_MARK       nothing: 12-byte record
 *   SB_EV_SYNAPTIC               12 f32  g_before   device G (uS):
 *                                                   16-byte record
 *   SB_EV_CONDUCTANCE, SB_EV_STIM
 *                                12 u16  count      pulse count
 *                                14 u32  width_us   pulse width
 *                                18 f32  amplitude  volts
 *                                22 f32  g_before   uS
 *                                26 f32  g_after    uS: 30-byte record
 *
 * Fields a kind does not carry decode as zero. The site of an event is not
 * on the wire: the writer ignores sb_event.site and the reader sets it to
 * 0; the caller maps stream_id to a site (the relay's access list says
 * which site publishes which stream) and fills it in.
 *
 * Flagged batches (written only by the relay, on its read streams; the relay
 * refuses them in a publish body) carry no events and no payload:
 *
 *   WIRE_FLAG_GAP (bit 0)   the relay cannot deliver batches first..last of
 *                           stream_id (dropped by its memory bound, not
 *                           spooled). seq = first missing seq (>= 1),
 *                           event_count = number of missing batches
 *                           (>= 1), so last = seq + event_count - 1 (see
 *                           wire_gap_last); payload_len = 0; base_us = the
 *                           session time the relay wrote it. A range longer
 *                           than 2^32-1 batches is sent as several gaps.
 *                           The next batch of that stream on the same read
 *                           has seq = last + 1.
 *   WIRE_FLAG_KEEPALIVE     "still here" after --keepalive seconds (2 by
 *                           default) of silence on a read
 *   (bit 1)                 stream: stream_id = 0, seq = 0, event_count =
 *                           0, payload_len = 0, base_us = session time.
 *
 * wire_decode of a flagged batch writes no events (whatever event_count
 * says): check h->flags before walking out[0..event_count).
 *
 * A reader rejects: a wrong magic, an unknown version or flag, a gap batch with a
 * payload, seq 0, event_count 0 or a last seq of 2^64-1 or past it (the
 * next seq would wrap), a keep-alive with a payload, events, a
 * stream or a seq, a header
 * length outside 48-256, a payload longer than WIRE_PAYLOAD_MAX, a buffer
 * shorter than header_len + payload_len, a CRC mismatch, an event count the
 * payload cannot hold, an unknown kind, a record cut by the end of the
 * payload, bytes left after the last record, and a time that overflows
 * base_us + delta_us.
 */
#ifndef SB_WIRE_H
#define SB_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "synbridge-plugin.h"

#define WIRE_MAGIC "SBB1"
#define WIRE_VERSION 1
#define WIRE_HEADER_SIZE 48		/* written by this version */
#define WIRE_HEADER_MAX 256		/* longest header a reader accepts */
#define WIRE_PAYLOAD_MAX (16U << 20)	/* longest payload either side allows */
#define WIRE_RECORD_MIN 12		/* spike and mark records */
#define WIRE_RECORD_MAX 30		/* conductance and stimulation */

#define WIRE_FLAG_GAP 0x01		/* seq..seq+event_count-1 are lost */
#define WIRE_FLAG_KEEPALIVE 0x02	/* empty "still here" batch */
#define WIRE_FLAGS_KNOWN (WIRE_FLAG_GAP | WIRE_FLAG_KEEPALIVE)

/* One batch header, as decoded or as given to the writer. */
struct wire_header {
	uint8_t version;
	uint8_t flags;
	uint16_t header_len;
	uint64_t session_id;
	uint32_t stream_id;
	uint32_t event_count;
	uint64_t seq;
	int64_t base_us;
	uint32_t payload_len;
	uint32_t crc;
};

/*
 * Bytes one batch of these n events takes, or 0 if they cannot form one
 * batch (an unknown kind, times more than 2^32-1 us apart, or a payload
 * over WIRE_PAYLOAD_MAX).
 */
size_t wire_encoded_size(const struct sb_event *ev, size_t n);

/* How many leading events of ev fit together in one batch of cap bytes. */
size_t wire_encode_fit(const struct sb_event *ev, size_t n, size_t cap);
/* The same, and the bytes a batch of those events takes (*bytes). */
size_t wire_encode_span(const struct sb_event *ev, size_t n, size_t cap,
    size_t *bytes);

/*
 * Write one batch of n events into buf. Takes session_id, stream_id and seq
 * from h and works out the rest (base_us is the earliest event time).
 * Returns the bytes written, or 0 if the batch does not fit in cap or
 * cannot be encoded (see wire_encoded_size).
 */
size_t wire_encode(uint8_t *buf, size_t cap, const struct wire_header *h,
    const struct sb_event *ev, size_t n);

/*
 * Building a batch record by record (the relay transport encodes events
 * as they are queued): wire_record_bytes gives a kind's record size (0 for
 * an unknown kind); wire_put_record writes e's record at p with its time
 * as t_us - base_us (the caller keeps that within 0..2^32-1) and returns
 * its size; wire_shift_records adds d us (mod 2^32) to the times of the n
 * records at p (a new, earlier base); wire_put_records writes the
 * leading events of ev that fit (known kind, time within base_us..
 * base_us+2^32-1, room bytes) and stops at the first that does not,
 * returning how many with the bytes (*bytes) and the latest time (raises
 * *max_us); wire_records_len gives the bytes of the first k records at
 * p; wire_rebase_records lowers the times of the n records at p by the
 * smallest and returns it (the batch's base moves up by as much);
 * wire_finish writes the header of the
 * batch whose h->payload_len bytes of h->event_count records follow it at
 * buf + WIRE_HEADER_SIZE, from h's session_id, stream_id, seq and base_us,
 * and its CRC.
 */
size_t wire_record_bytes(unsigned kind);
size_t wire_put_record(uint8_t *p, const struct sb_event *e, int64_t base_us);
void wire_shift_records(uint8_t *p, size_t n, uint32_t d);
size_t wire_put_records(uint8_t *p, size_t room, const struct sb_event *ev,
    size_t n, int64_t base_us, int64_t *max_us, size_t *bytes);
size_t wire_records_len(const uint8_t *p, size_t k);
uint32_t wire_rebase_records(uint8_t *p, size_t n);
void wire_finish(uint8_t *buf, const struct wire_header *h);

/*
 * Check the fixed header at buf without needing the payload: fills h so a
 * reader knows how many bytes (header_len + payload_len) and events
 * (event_count) the batch has. 0, or -1 with *cause (if cause is not NULL).
 */
int wire_peek(const uint8_t *buf, size_t len, struct wire_header *h,
    char **cause);

/*
 * Decode the first batch in buf[0..len) into h and out (room for max
 * events). On success returns 0 and sets *consumed to the batch's length;
 * decode the next one from buf + *consumed. On any malformed input returns
 * -1 with *cause (if cause is not NULL; the caller frees it); out and h are
 * then undefined. Never reads outside buf[0..len). With out NULL (max is
 * then ignored) every record is checked the same way but none is kept:
 * how a relay checks a batch it forwards without memory per event.
 */
int wire_decode(const uint8_t *buf, size_t len, struct wire_header *h,
    struct sb_event *out, size_t max, size_t *consumed, char **cause);

/*
 * Decode the h->event_count records of a batch that wire_decode accepted
 * (h as it filled it in; payload: the batch's h->payload_len bytes after
 * its header, which may have been copied elsewhere) into out, with no
 * check made again: for a reader that checks a batch where it arrives and
 * decodes it where its events are used. Nothing for a flagged batch.
 */
void wire_decode_checked(const uint8_t *payload, const struct wire_header *h,
    struct sb_event *out);

/*
 * Check one batch at buf (header, length and CRC) without decoding its
 * records: what a relay needs to store and forward it. Sets *consumed to
 * its length. 0, or -1 with *cause (if cause is not NULL).
 */
int wire_verify(const uint8_t *buf, size_t len, struct wire_header *h,
    size_t *consumed, char **cause);

/*
 * Write a gap batch (first..last missing, first >= 1, last - first <
 * 2^32-1) or, with first = 0, a keep-alive batch. Takes session_id,
 * stream_id and base_us from h. Returns WIRE_HEADER_SIZE, or 0 if cap is
 * too small or the range is bad.
 */
size_t wire_encode_flagged(uint8_t *buf, size_t cap,
    const struct wire_header *h, uint64_t first, uint64_t last);

/* Last missing seq of a gap batch. */
static inline uint64_t
wire_gap_last(const struct wire_header *h)
{
	return h->seq + h->event_count - 1;
}

/*
 * Write the CRC of the batch at buf (header and payload as its header
 * gives them, CRC field zeroed) into its header. Returns the batch's
 * size, or 0 (nothing written) if its header length is below
 * WIRE_HEADER_SIZE or it is longer than len. For writers that change a
 * batch after encoding it (tests, fuzz targets).
 */
size_t wire_seal(uint8_t *buf, size_t len);

/* Are two events the same in every field the wire carries (floats
 * bitwise)? 1 or 0. */
int wire_event_same(const struct sb_event *a, const struct sb_event *b);

#endif
