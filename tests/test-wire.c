/* test-wire.c: the relay batch format and CRC-32C. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "wire.h"

static const struct wire_header test_header = {
	.session_id = 0x1122334455667788ULL,
	.stream_id = 7,
	.seq = 42,
};

/* xorshift64*: seeded, so every run makes the same choices. */
static uint64_t
next_random(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* An event of the given kind with every field set to something. */
static struct sb_event
make_event(unsigned kind, int64_t t_us, uint32_t index)
{
	struct sb_event ev = {
		.t_us = t_us,
		.index = index,
		.site = 3,
		.pop = (uint16_t)(index % 5),
		.kind = (uint8_t)kind,
		.aux = (uint8_t)(200 + kind),
		.count = 9,
		.width_us = 100,
		.amplitude = -4.0f,
		.g_before = 112.5f,
		.g_after = 97.25f,
	};

	if (kind == SB_EV_SYNAPTIC)
		ev.pop = SB_POP_SYNAPSE;
	return ev;
}

/* Recompute the CRC of the batch at buf after a test changed it. */
static void
fix_crc(uint8_t *buf)
{
	if (wire_seal(buf, SIZE_MAX) == 0)
		abort();
}

/* Little-endian stores for patching headers and records. */
static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Decode must fail with a message containing want. */
static void
expect_error(const uint8_t *buf, size_t len, size_t max, const char *want)
{
	struct wire_header h;
	struct sb_event out[16];
	size_t consumed = 0;
	char *cause = NULL;

	if (max > 16)
		max = 16;
	assert_int_equal(wire_decode(buf, len, &h, out, max, &consumed,
	    &cause), -1);
	assert_non_null(cause);
	if (strstr(cause, want) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", cause, want);
	free(cause);
}

/* Decode without keeping the events must fail the same way. */
static void
expect_check_error(const uint8_t *buf, size_t len, const char *want)
{
	struct wire_header h;
	size_t consumed = 0;
	char *cause = NULL;

	assert_int_equal(wire_decode(buf, len, &h, NULL, 0, &consumed,
	    &cause), -1);
	assert_non_null(cause);
	if (strstr(cause, want) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", cause, want);
	free(cause);
}

/* The standard check values of CRC-32C (and RFC 3720's test vectors). */
static void
test_crc32c_check_values(void **state)
{
	uint8_t zeros[32], ones[32], up[32];
	int i;

	memset(zeros, 0, sizeof zeros);
	memset(ones, 0xff, sizeof ones);
	for (i = 0; i < 32; i++)
		up[i] = (uint8_t)i;
	assert_int_equal(crc32c(0, "123456789", 9), 0xe3069283);
	assert_int_equal(crc32c_sw(0, "123456789", 9), 0xe3069283);
	assert_int_equal(crc32c(0, "", 0), 0);
	assert_int_equal(crc32c(0, zeros, 32), 0x8a9136aa);
	assert_int_equal(crc32c(0, ones, 32), 0x62a8ab43);
	assert_int_equal(crc32c(0, up, 32), 0x46dd794e);
	assert_int_equal(crc32c_sw(0, up, 32), 0x46dd794e);
	/* Continuing over a split gives the CRC of the whole. */
	assert_int_equal(crc32c(crc32c(0, "1234", 4), "56789", 5), 0xe3069283);
}

/* Hardware and software CRC agree at every length and alignment. */
static void
test_crc32c_hw_matches_sw(void **state)
{
	static const size_t lens[] = { 767, 768, 769, 775, 776, 1535, 1536,
	    1543, 24575, 24576, 24577, 24583, 25344, 25351, 49152, 49919,
	    49920, 73728, 79997 };
	uint8_t buf[1100], *big;
	uint64_t seed = 99;
	size_t off, len, i;

	for (len = 0; len < sizeof buf; len++)
		buf[len] = (uint8_t)next_random(&seed);
	for (off = 0; off < 8; off++) {
		for (len = 0; len + off <= sizeof buf; len += 1 + len / 8) {
			assert_int_equal(crc32c(0x12345678, buf + off, len),
			    crc32c_sw(0x12345678, buf + off, len));
		}
	}
	/* The three-lane blocks (3 x 256 and 3 x 8192 bytes) and their ends. */
	big = malloc(80000);
	assert_non_null(big);
	for (len = 0; len < 80000; len++)
		big[len] = (uint8_t)next_random(&seed);
	for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		for (off = 0; off < 3; off++) {
			assert_int_equal(crc32c(0xdeadbeef, big + off, lens[i]),
			    crc32c_sw(0xdeadbeef, big + off, lens[i]));
		}
	}
	/* Split anywhere, the CRC continues. */
	assert_int_equal(crc32c(crc32c(0, big, 24577), big + 24577, 50000),
	    crc32c_sw(0, big, 74577));
	free(big);
	print_message("# crc32c: %s\n", crc32c_hw_available() ?
	    "SSE4.2 instruction" : "slicing-by-8 (no SSE4.2)");
}

/*
 * What wire_decode with out NULL accepted, wire_decode_checked decodes to
 * the n events of want (the payload copied away from its header, as the
 * relay client keeps it).
 */
static void
expect_checked_same(const uint8_t *buf, size_t len,
    const struct sb_event *want, size_t n)
{
	struct wire_header h;
	struct sb_event *got;
	uint8_t *payload;
	size_t consumed, i;
	char *cause = NULL;

	assert_int_equal(wire_decode(buf, len, &h, NULL, 0, &consumed,
	    &cause), 0);
	assert_int_equal(h.event_count, n);
	got = calloc(n, sizeof *got);
	payload = malloc(h.payload_len);
	assert_non_null(got);
	assert_non_null(payload);
	memset(got, 0xa5, n * sizeof *got);
	memcpy(payload, buf + h.header_len, h.payload_len);
	wire_decode_checked(payload, &h, got);
	for (i = 0; i < n; i++) {
		if (!wire_event_same(&got[i], &want[i]) ||
		    got[i].t_us != want[i].t_us || got[i].site != 0)
			fail_msg("event %zu decoded differently", i);
	}
	free(payload);
	free(got);
}

/* Every kind survives a round trip with the fields it carries. */
static void
test_round_trip_every_kind(void **state)
{
	struct sb_event ev[6], out[6];
	struct wire_header h;
	uint8_t buf[512];
	size_t size, consumed = 0;
	char *cause = NULL;
	int i;

	ev[0] = make_event(SB_EV_SPIKE, 1000500, 17);
	ev[1] = make_event(SB_EV_SYNAPTIC, 1000000, 3);	/* earliest */
	ev[2] = make_event(SB_EV_CONDUCTANCE,
	    1000000 + (int64_t)UINT32_MAX, 4);
	ev[3] = make_event(SB_EV_STIM, 1000001, 59);
	ev[4] = make_event(SB_EV_MARK, 1000002, 0);
	ev[5] = make_event(SB_EV_SPIKE, 1000003, UINT32_MAX);
	ev[5].aux = SB_SPIKE_SPONTANEOUS;

	size = wire_encoded_size(ev, 6);
	assert_int_equal(size, 48 + 12 + 16 + 30 + 30 + 12 + 12);
	assert_int_equal(wire_encode(buf, sizeof buf, &test_header, ev, 6),
	    size);
	assert_memory_equal(buf, "SBB1", 4);

	assert_int_equal(wire_decode(buf, size, &h, out, 6, &consumed,
	    &cause), 0);
	assert_null(cause);
	assert_int_equal(consumed, size);
	assert_int_equal(h.version, 1);
	assert_int_equal(h.header_len, 48);
	assert_int_equal(h.session_id, test_header.session_id);
	assert_int_equal(h.stream_id, 7);
	assert_int_equal(h.seq, 42);
	assert_int_equal(h.base_us, 1000000);
	assert_int_equal(h.event_count, 6);
	assert_int_equal(h.payload_len, size - 48);

	for (i = 0; i < 6; i++) {
		assert_int_equal(out[i].t_us, ev[i].t_us);
		assert_int_equal(out[i].kind, ev[i].kind);
		assert_int_equal(out[i].aux, ev[i].aux);
		assert_int_equal(out[i].pop, ev[i].pop);
		assert_int_equal(out[i].index, ev[i].index);
		assert_int_equal(out[i].site, 0);	/* the caller's job */
	}
	/* Spike and mark carry nothing more. */
	assert_int_equal(out[0].count, 0);
	assert_true(out[0].g_before == 0.0f && out[4].amplitude == 0.0f);
	/* Synaptic carries the device conductance only. */
	assert_true(out[1].g_before == 112.5f);
	assert_true(out[1].g_after == 0.0f && out[1].width_us == 0);
	/* Conductance and stimulation carry the pulse and both G. */
	for (i = 2; i <= 3; i++) {
		assert_int_equal(out[i].count, 9);
		assert_int_equal(out[i].width_us, 100);
		assert_true(out[i].amplitude == -4.0f);
		assert_true(out[i].g_before == 112.5f);
		assert_true(out[i].g_after == 97.25f);
	}
	/* checked in one place, decoded in another: the same */
	expect_checked_same(buf, size, out, 6);
}

/* The writer says no rather than write a batch it cannot represent. */
static void
test_encode_limits(void **state)
{
	struct sb_event ev[3];
	uint8_t buf[256];

	ev[0] = make_event(SB_EV_SPIKE, -5, 1);
	ev[1] = make_event(SB_EV_STIM, 10, 2);
	ev[2] = make_event(SB_EV_SPIKE, -5 + (int64_t)UINT32_MAX + 1, 3);

	/* Exactly enough room, and one byte short. */
	assert_int_equal(wire_encode(buf, 48 + 42, &test_header, ev, 2),
	    48 + 42);
	assert_int_equal(wire_encode(buf, 48 + 41, &test_header, ev, 2), 0);
	assert_int_equal(wire_encode_fit(ev, 2, 48 + 41), 1);
	assert_int_equal(wire_encode_fit(ev, 2, 47), 0);

	/* A span of 2^32 us cannot be expressed in u32 deltas. */
	assert_int_equal(wire_encoded_size(ev, 3), 0);
	assert_int_equal(wire_encode(buf, sizeof buf, &test_header, ev, 3), 0);
	assert_int_equal(wire_encode_fit(ev, 3, sizeof buf), 2);

	/* An unknown kind is refused. */
	ev[1].kind = 9;
	assert_int_equal(wire_encoded_size(ev, 2), 0);
	assert_int_equal(wire_encode_fit(ev, 2, sizeof buf), 1);

	/* An empty batch is legal (a heartbeat) and decodes to nothing. */
	assert_int_equal(wire_encode(buf, sizeof buf, &test_header, ev, 0),
	    48);
	expect_error(buf, 47, 0, "truncated batch header: 47 bytes");
}

/* A body of several batches decodes one at a time. */
static void
test_consecutive_batches(void **state)
{
	struct sb_event ev[40], out[40];
	struct wire_header h = test_header, got;
	uint8_t body[4096];
	size_t len = 0, off = 0, consumed, n;
	uint64_t seq;
	int i;

	for (i = 0; i < 40; i++)
		ev[i] = make_event(1 + i % 5, 1000 * i, (uint32_t)i);
	for (seq = 0; seq < 4; seq++) {
		h.seq = 100 + seq;
		len += wire_encode(body + len, sizeof body - len, &h,
		    ev + 10 * seq, 10);
	}
	for (seq = 0; off < len; seq++) {
		assert_int_equal(wire_decode(body + off, len - off, &got, out,
		    40, &consumed, NULL), 0);
		assert_int_equal(got.seq, 100 + seq);
		assert_int_equal(got.event_count, 10);
		for (n = 0; n < 10; n++) {
			assert_int_equal(out[n].index, 10 * seq + n);
			assert_int_equal(out[n].t_us, 1000 * (10 * seq + n));
		}
		off += consumed;
	}
	assert_int_equal(seq, 4);
	assert_int_equal(off, len);
}

/* Build a two-spike batch in buf; returns its length. */
static size_t
two_spikes(uint8_t *buf, size_t cap)
{
	struct sb_event ev[2];

	ev[0] = make_event(SB_EV_SPIKE, 500, 1);
	ev[1] = make_event(SB_EV_SPIKE, 900, 2);
	return wire_encode(buf, cap, &test_header, ev, 2);
}

/* Broken headers are refused, each with its own message. */
static void
test_malformed_header(void **state)
{
	uint8_t buf[256];
	size_t len;

	len = two_spikes(buf, sizeof buf);
	buf[0] = 'H';
	expect_error(buf, len, 2, "bad batch magic 48 42 42 31");

	len = two_spikes(buf, sizeof buf);
	buf[4] = 2;
	fix_crc(buf);
	expect_error(buf, len, 2, "unsupported batch version 2");

	len = two_spikes(buf, sizeof buf);
	buf[5] = 0x80;
	fix_crc(buf);
	expect_error(buf, len, 2, "unknown batch flags 0x80");
	buf[5] = WIRE_FLAG_GAP | WIRE_FLAG_KEEPALIVE;
	fix_crc(buf);
	expect_error(buf, len, 2, "unknown batch flags 0x03");
	buf[5] = WIRE_FLAG_GAP;	/* a gap never has a payload */
	fix_crc(buf);
	expect_error(buf, len, 2, "gap batch has a payload");

	len = two_spikes(buf, sizeof buf);
	buf[6] = 40;
	expect_error(buf, len, 2, "bad batch header length 40");
	buf[6] = 0x01;
	buf[7] = 0x01;
	expect_error(buf, len, 2, "bad batch header length 257");

	len = two_spikes(buf, sizeof buf);
	put32(buf + 40, WIRE_PAYLOAD_MAX + 1);
	expect_error(buf, len, 2, "is over the limit");

	len = two_spikes(buf, sizeof buf);
	put32(buf + 20, 3);
	fix_crc(buf);
	expect_error(buf, len, 8, "claims 3 events but its payload of 24 "
	    "bytes holds at most 2");
}

/* Truncation, corruption and bad records are refused. */
static void
test_malformed_body(void **state)
{
	struct sb_event ev[2];
	uint8_t buf[256];
	size_t len;

	len = two_spikes(buf, sizeof buf);
	expect_error(buf, len - 1, 2, "truncated batch: 71 bytes of 72");

	len = two_spikes(buf, sizeof buf);
	buf[60] ^= 0x04;
	expect_error(buf, len, 2, "failed its CRC");
	len = two_spikes(buf, sizeof buf);
	buf[8] ^= 0x01;		/* the header is covered too */
	expect_error(buf, len, 2, "failed its CRC");

	len = two_spikes(buf, sizeof buf);
	expect_error(buf, len, 1, "batch holds 2 events but there is room "
	    "for 1");

	len = two_spikes(buf, sizeof buf);
	buf[48 + 12 + 4] = 9;
	fix_crc(buf);
	expect_error(buf, len, 2, "record 1 at payload byte 12 has unknown "
	    "event kind 9");
	buf[48 + 12 + 4] = 0;
	fix_crc(buf);
	expect_error(buf, len, 2, "unknown event kind 0");

	/* One spike then a conductance record cut by the payload's end. */
	ev[0] = make_event(SB_EV_SPIKE, 0, 1);
	ev[1] = make_event(SB_EV_CONDUCTANCE, 0, 2);
	len = wire_encode(buf, sizeof buf, &test_header, ev, 2);
	assert_int_equal(len, 48 + 42);
	put32(buf + 40, 12 + 18);
	fix_crc(buf);
	expect_error(buf, 48 + 30, 2, "record 1 of 2 at payload byte 12 is "
	    "cut short: 18 bytes left, a conductance record needs 30");

	len = two_spikes(buf, sizeof buf);
	put32(buf + 20, 1);
	fix_crc(buf);
	expect_error(buf, len, 2, "12 bytes of trailing garbage after its 1 "
	    "records");

	/* base_us + delta_us past INT64_MAX. */
	ev[0] = make_event(SB_EV_SPIKE, INT64_MAX - 5, 1);
	len = wire_encode(buf, sizeof buf, &test_header, ev, 1);
	put32(buf + 48, 10);
	fix_crc(buf);
	expect_error(buf, len, 1, "time overflows: base 9223372036854775802 "
	    "us + delta 10 us");
}

/*
 * Batches of spikes and marks only (decoded in one tight pass) decode to
 * what was encoded, checked-only too; a batch that only looks like one
 * (12 bytes an event, but a longer record in it) and a base time near the
 * end of the range go through the record-by-record walk.
 */
static void
test_spike_batches(void **state)
{
	static struct sb_event ev[300], out[300];
	struct wire_header h;
	static uint8_t buf[48 + 300 * 30];
	size_t len, consumed, i;
	uint32_t bits;
	char *cause = NULL;

	for (i = 0; i < 300; i++) {
		ev[i] = make_event(i % 7 == 3 ? SB_EV_MARK : SB_EV_SPIKE,
		    5000000 + (int64_t)(i * 37 % 1000), (uint32_t)(i * 7919));
		ev[i].site = 0;	/* not carried */
	}
	len = wire_encode(buf, sizeof buf, &test_header, ev, 300);
	assert_int_equal(len, 48 + 300 * 12);
	memset(out, 0xa5, sizeof out);
	assert_int_equal(wire_decode(buf, len, &h, out, 300, &consumed,
	    &cause), 0);
	assert_int_equal(consumed, len);
	for (i = 0; i < 300; i++) {
		/* a 12-byte record carries these; the rest is zeroed */
		if (out[i].t_us != ev[i].t_us || out[i].index != ev[i].index ||
		    out[i].pop != ev[i].pop || out[i].kind != ev[i].kind ||
		    out[i].aux != ev[i].aux || out[i].site != 0 ||
		    out[i].count != 0 || out[i].width_us != 0 ||
		    out[i].g_before != 0.0f || out[i].g_after != 0.0f ||
		    out[i].amplitude != 0.0f)
			fail_msg("event %zu decoded differently", i);
	}
	assert_int_equal(wire_decode(buf, len, &h, NULL, 0, &consumed,
	    &cause), 0);
	assert_int_equal(consumed, len);
	expect_checked_same(buf, len, out, 300);

	/* A stimulation record among them: 12 bytes an event no longer. */
	ev[150] = make_event(SB_EV_STIM, 5000100, 1);
	ev[150].site = 0;
	len = wire_encode(buf, sizeof buf, &test_header, ev, 299);
	assert_int_equal(len, 48 + 298 * 12 + 30);
	assert_int_equal(wire_decode(buf, len, &h, out, 300, &consumed,
	    &cause), 0);
	assert_true(wire_event_same(&ev[150], &out[150]));
	assert_true(out[298].t_us == ev[298].t_us &&
	    out[298].index == ev[298].index);
	expect_checked_same(buf, len, out, 299);
	/* ... and a count that makes it 12 bytes an event: walked, refused */
	ev[149] = make_event(SB_EV_STIM, 5000100, 2);
	/*
	 * Fields chosen so that every byte at a 12-byte stride where a kind
	 * would be reads as a spike (1) or a stimulation: only the walk
	 * tells them apart.
	 */
	ev[149].width_us = 0x010000;
	bits = 0x00010000;
	memcpy(&ev[149].g_after, &bits, sizeof bits);
	ev[150].index = 0x010000;
	bits = 0x00000001;
	memcpy(&ev[150].g_before, &bits, sizeof bits);
	len = wire_encode(buf, sizeof buf, &test_header, ev, 151);
	assert_int_equal(len, 48 + 149 * 12 + 2 * 30);
	put32(buf + 20, 154);	/* 154 x 12 = the payload */
	fix_crc(buf);
	expect_error(buf, len, 16, "holds 154 events but there is room");
	expect_check_error(buf, len, "record 151 of 154");

	/* A base time too near the end of the range for the tight pass. */
	ev[0] = make_event(SB_EV_SPIKE, INT64_MAX - 5, 1);
	ev[1] = make_event(SB_EV_SPIKE, INT64_MAX - 3, 2);
	len = wire_encode(buf, sizeof buf, &test_header, ev, 2);
	assert_int_equal(wire_decode(buf, len, &h, out, 2, &consumed,
	    &cause), 0);
	assert_true(out[1].t_us == INT64_MAX - 3);
	put32(buf + 48 + 12, 10);
	fix_crc(buf);
	expect_error(buf, len, 2, "record 1 time overflows");
}

/* A longer header (a future extension) is skipped; every prefix fails. */
static void
test_extension_and_prefixes(void **state)
{
	struct sb_event out[2];
	struct wire_header h;
	uint8_t buf[256], *copy;
	size_t len, consumed, cut;
	char *cause;

	len = two_spikes(buf, sizeof buf);
	memmove(buf + 56, buf + 48, len - 48);
	memset(buf + 48, 0xee, 8);
	buf[6] = 56;
	fix_crc(buf);
	assert_int_equal(wire_decode(buf, len + 8, &h, out, 2, &consumed,
	    NULL), 0);
	assert_int_equal(consumed, len + 8);
	assert_int_equal(out[1].index, 2);
	assert_int_equal(out[1].t_us, 900);

	/* Exact-size copies, so a read past the end shows under valgrind. */
	len = two_spikes(buf, sizeof buf);
	for (cut = 0; cut < len; cut++) {
		copy = malloc(cut ? cut : 1);
		memcpy(copy, buf, cut);
		cause = NULL;
		assert_int_equal(wire_decode(copy, cut, &h, out, 2, &consumed,
		    &cause), -1);
		assert_non_null(strstr(cause, "truncated"));
		free(cause);
		free(copy);
	}
}

/* Gap and keep-alive batches round-trip and are checked. */
static void
test_gap_and_keepalive(void **state)
{
	struct wire_header in = test_header, h;
	struct sb_event out[2] = { { .t_us = 77 }, { .t_us = 77 } };
	uint8_t buf[64];
	size_t consumed = 0;
	char *cause = NULL;

	in.base_us = 5000000;
	assert_int_equal(wire_encode_flagged(buf, sizeof buf, &in, 10, 14),
	    WIRE_HEADER_SIZE);
	assert_int_equal(wire_decode(buf, WIRE_HEADER_SIZE, &h, out, 0,
	    &consumed, &cause), 0);
	assert_int_equal(consumed, WIRE_HEADER_SIZE);
	assert_int_equal(h.flags, WIRE_FLAG_GAP);
	assert_int_equal(h.stream_id, 7);
	assert_int_equal(h.seq, 10);
	assert_int_equal(h.event_count, 5);
	assert_int_equal(wire_gap_last(&h), 14);
	assert_int_equal(h.base_us, 5000000);
	assert_int_equal(out[0].t_us, 77);	/* no events written */

	/* A one-batch gap, and ranges that cannot be written. */
	assert_int_equal(wire_encode_flagged(buf, sizeof buf, &in, 3, 3), 48);
	assert_int_equal(wire_decode(buf, 48, &h, out, 0, &consumed, NULL), 0);
	assert_int_equal(wire_gap_last(&h), 3);
	assert_int_equal(wire_encode_flagged(buf, sizeof buf, &in, 4, 3), 0);
	assert_int_equal(wire_encode_flagged(buf, sizeof buf, &in, 1,
	    1 + (uint64_t)UINT32_MAX), 0);
	assert_int_equal(wire_encode_flagged(buf, 47, &in, 1, 2), 0);

	/* Keep-alive: stream 0, seq 0, no events. */
	assert_int_equal(wire_encode_flagged(buf, sizeof buf, &in, 0, 0), 48);
	assert_int_equal(wire_decode(buf, 48, &h, out, 0, &consumed, NULL), 0);
	assert_int_equal(h.flags, WIRE_FLAG_KEEPALIVE);
	assert_int_equal(h.stream_id, 0);
	assert_int_equal(h.seq, 0);
	assert_int_equal(h.event_count, 0);

	/* A keep-alive naming a stream, a gap of nothing or from seq 0. */
	buf[16] = 1;
	fix_crc(buf);
	expect_error(buf, 48, 0, "keep-alive batch must have stream 0");
	assert_int_equal(wire_encode_flagged(buf, sizeof buf, &in, 10, 14),
	    48);
	put32(buf + 20, 0);
	fix_crc(buf);
	expect_error(buf, 48, 0, "gap batch of stream 7 has a bad range");
	assert_int_equal(wire_encode_flagged(buf, sizeof buf, &in, 10, 14),
	    48);
	memset(buf + 24, 0, 8);
	fix_crc(buf);
	expect_error(buf, 48, 0, "gap batch of stream 7 has a bad range");
	/* A gap with a broken CRC is refused like any batch. */
	assert_int_equal(wire_encode_flagged(buf, sizeof buf, &in, 10, 14),
	    48);
	buf[30] ^= 1;
	expect_error(buf, 48, 0, "failed its CRC");
}

/* wire_verify checks header, length and CRC but not the records. */
static void
test_verify_skips_records(void **state)
{
	struct wire_header h;
	uint8_t buf[256];
	size_t len, consumed = 0;
	char *cause = NULL;

	len = two_spikes(buf, sizeof buf);
	assert_int_equal(wire_verify(buf, len + 5, &h, &consumed, &cause), 0);
	assert_int_equal(consumed, len);
	assert_int_equal(h.event_count, 2);
	/* Records checked without keeping them (out NULL, max ignored). */
	assert_int_equal(wire_decode(buf, len, &h, NULL, 0, &consumed, NULL),
	    0);
	assert_int_equal(consumed, len);
	buf[48 + 4] = 99;	/* unknown kind: the decoder's business */
	fix_crc(buf);
	assert_int_equal(wire_verify(buf, len, &h, &consumed, NULL), 0);
	expect_error(buf, len, 2, "unknown event kind 99");
	expect_check_error(buf, len, "unknown event kind 99");
	buf[50] ^= 1;		/* but a CRC mismatch is caught */
	assert_int_equal(wire_verify(buf, len, &h, &consumed, &cause), -1);
	assert_non_null(strstr(cause, "failed its CRC"));
	free(cause);
	cause = NULL;
	assert_int_equal(wire_verify(buf, len - 1, &h, &consumed, &cause), -1);
	assert_non_null(strstr(cause, "truncated batch"));
	free(cause);
}

/*
 * A batch built record by record (wire_put_records, wire_shift_records,
 * wire_finish) is byte for byte the batch wire_encode writes, and
 * wire_put_records stops at an unknown kind, an earlier time, a time
 * 2^32 us on and a full buffer.
 */
static void
test_record_by_record(void **state)
{
	struct sb_event ev[5];
	struct wire_header h = test_header;
	uint8_t want[512], buf[512];
	size_t len, bytes, i;
	int64_t max = 0;

	(void)state;
	for (i = 0; i < 5; i++)
		ev[i] = make_event(1 + (unsigned)i, 1000 + (int64_t)i * 10,
		    (uint32_t)i);
	len = wire_encode(want, sizeof want, &test_header, ev, 5);
	assert_true(len > 0);
	/* the first three from base 1010, then a new base of 1000 */
	assert_int_equal(wire_put_records(buf + WIRE_HEADER_SIZE, 400, ev + 1,
	    2, 1010, &max, &bytes), 2);
	assert_int_equal(max, 1020);
	assert_int_equal(wire_put_records(buf + WIRE_HEADER_SIZE + bytes,
	    400, ev, 1, 1010, &max, &i), 0);	/* earlier than the base */
	memmove(buf + WIRE_HEADER_SIZE + wire_record_bytes(ev[0].kind),
	    buf + WIRE_HEADER_SIZE, bytes);
	wire_shift_records(buf + WIRE_HEADER_SIZE +
	    wire_record_bytes(ev[0].kind), 2, 10);
	bytes += wire_put_record(buf + WIRE_HEADER_SIZE, &ev[0], 1000);
	assert_int_equal(wire_put_records(buf + WIRE_HEADER_SIZE + bytes,
	    400, ev + 3, 2, 1000, &max, &i), 2);
	bytes += i;
	h.event_count = 5;
	h.base_us = 1000;
	h.payload_len = (uint32_t)bytes;
	wire_finish(buf, &h);
	assert_int_equal(WIRE_HEADER_SIZE + bytes, len);
	assert_memory_equal(buf, want, len);

	/* where it stops */
	ev[1].kind = 99;
	assert_int_equal(wire_put_records(buf, 400, ev, 3, 1000, &max,
	    &bytes), 1);
	assert_int_equal(bytes, wire_record_bytes(ev[0].kind));
	ev[1] = make_event(SB_EV_SPIKE, 1000 + ((int64_t)1 << 32), 1);
	assert_int_equal(wire_put_records(buf, 400, ev, 3, 1000, &max,
	    &bytes), 1);
	ev[1].t_us = 1000 + (int64_t)UINT32_MAX;
	assert_int_equal(wire_put_records(buf, 400, ev, 2, 1000, &max,
	    &bytes), 2);
	assert_int_equal(max, 1000 + (int64_t)UINT32_MAX);
	assert_int_equal(wire_put_records(buf, bytes - 1, ev, 2, 1000, &max,
	    &i), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gap_and_keepalive),
		cmocka_unit_test(test_verify_skips_records),
		cmocka_unit_test(test_record_by_record),
		cmocka_unit_test(test_crc32c_check_values),
		cmocka_unit_test(test_crc32c_hw_matches_sw),
		cmocka_unit_test(test_round_trip_every_kind),
		cmocka_unit_test(test_encode_limits),
		cmocka_unit_test(test_consecutive_batches),
		cmocka_unit_test(test_malformed_header),
		cmocka_unit_test(test_malformed_body),
		cmocka_unit_test(test_spike_batches),
		cmocka_unit_test(test_extension_and_prefixes),
	};
	return cmocka_run_group_tests_name("wire", tests, NULL, NULL);
}
