/*
 * fuzz-wire.c: fuzz target for the batch decoder.
 *
 * LLVMFuzzerTestOneInput decodes the input as a body of batches, then
 * again with the first batch's CRC recomputed so mutations reach the record
 * parser. Every batch that decodes must re-encode and decode to the same
 * events. Build with libFuzzer:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *       -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -I. -Isrc \
 *       tests/fuzz-wire.c src/wire.c src/crc32c.c src/xmalloc.c
 *
 * Built normally (make check) it is a cmocka test whose main() feeds the
 * target a deterministic corpus of mutated valid batches
 * (SB_FUZZ_ITERATIONS, default 300000).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "wire.h"

#define FUZZ_MAX_EVENTS 4096
#define FUZZ_MAX_BATCHES 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the target saw, for the normal build to check its reach. */
static struct {
	unsigned long decoded, rejected, record_errors;
} fuzz_stats;

/* Re-encode a decoded batch and check it decodes to the same thing. */
static void
fuzz_round_trip(const struct wire_header *h, const struct sb_event *ev)
{
	static struct sb_event again[FUZZ_MAX_EVENTS];
	static uint8_t buf[WIRE_HEADER_SIZE +
	    FUZZ_MAX_EVENTS * WIRE_RECORD_MAX];
	struct wire_header h2;
	size_t size, consumed, i;

	size = wire_encode(buf, sizeof buf, h, ev, h->event_count);
	if (size == 0 && h->event_count > 0)
		abort();	/* a decodable batch must be encodable */
	if (wire_decode(buf, size, &h2, again, FUZZ_MAX_EVENTS, &consumed,
	    NULL) != 0 || consumed != size)
		abort();
	if (h2.session_id != h->session_id || h2.stream_id != h->stream_id ||
	    h2.seq != h->seq || h2.event_count != h->event_count)
		abort();
	for (i = 0; i < h->event_count; i++) {
		if (!wire_event_same(&ev[i], &again[i]))
			abort();
	}
}

/* Decode every batch of a body until the first error. */
static void
fuzz_decode_body(const uint8_t *data, size_t size)
{
	static struct sb_event out[FUZZ_MAX_EVENTS];
	struct wire_header h;
	size_t off = 0, consumed;
	char *cause;
	int n;

	for (n = 0; n < FUZZ_MAX_BATCHES && off < size; n++) {
		cause = NULL;
		if (wire_decode(data + off, size - off, &h, out,
		    FUZZ_MAX_EVENTS, &consumed, &cause) != 0) {
			if (cause == NULL || *cause == '\0')
				abort();	/* every error says why */
			if (strstr(cause, "batch record") != NULL ||
			    strstr(cause, "trailing") != NULL)
				fuzz_stats.record_errors++;
			fuzz_stats.rejected++;
			free(cause);
			return;
		}
		if (consumed < WIRE_HEADER_SIZE || consumed > size - off)
			abort();
		fuzz_stats.decoded++;
		if (h.flags == 0)
			fuzz_round_trip(&h, out);
		off += consumed;
	}
}

/* The fuzz target: decode as given, then with the first CRC repaired. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;

	fuzz_decode_body(data, size);
	if (size < WIRE_HEADER_SIZE)
		return 0;

	copy = malloc(size);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	if (wire_seal(copy, size) != 0)
		fuzz_decode_body(copy, size);
	free(copy);
	return 0;
}

#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define FUZZ_SEEDS 8
#define FUZZ_ITERATIONS 300000

struct fuzz_seed {
	uint8_t *data;
	size_t len;
};

/* xorshift64*: seeded, so every run makes the same choices. */
static uint64_t
fuzz_random(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* A valid body: one to three batches of random events of every kind. */
static void
fuzz_make_seed(struct fuzz_seed *seed, uint64_t *rnd)
{
	struct sb_event ev[64];
	struct wire_header h = { .session_id = 1, .stream_id = 2 };
	size_t batches = 1 + fuzz_random(rnd) % 3, n, i, b, cap;

	cap = batches * WIRE_HEADER_SIZE + batches * 64 *
	    WIRE_RECORD_MAX;
	seed->data = malloc(cap);
	seed->len = 0;
	for (b = 0; b < batches; b++) {
		n = fuzz_random(rnd) % 64;
		for (i = 0; i < n; i++) {
			memset(&ev[i], 0, sizeof ev[i]);
			ev[i].kind = (uint8_t)(1 + fuzz_random(rnd) % 5);
			ev[i].t_us = 1000000 + (int64_t)(fuzz_random(rnd) %
			    100000);
			ev[i].index = (uint32_t)fuzz_random(rnd);
			ev[i].pop = (uint16_t)fuzz_random(rnd);
			ev[i].aux = (uint8_t)fuzz_random(rnd);
			ev[i].count = (uint16_t)fuzz_random(rnd);
			ev[i].width_us = (uint32_t)fuzz_random(rnd);
			ev[i].amplitude = (float)(fuzz_random(rnd) % 800) / 100;
			ev[i].g_before = (float)(fuzz_random(rnd) % 200);
			ev[i].g_after = (float)(fuzz_random(rnd) % 200);
		}
		h.seq = b;
		seed->len += wire_encode(seed->data + seed->len,
		    cap - seed->len, &h, ev, n);
	}
}

/* Apply one to four random mutations to buf (room for cap bytes). */
static size_t
fuzz_mutate(uint8_t *buf, size_t len, size_t cap, uint64_t *rnd)
{
	static const uint32_t interesting[] = {
		0, 1, 2, 11, 12, 13, 29, 30, 31, 47, 48, 49, 255, 256,
		0x7fff, 0xffff, 0x10000, WIRE_PAYLOAD_MAX, 0x7fffffff,
		0xffffffff
	};
	size_t k, steps = 1 + fuzz_random(rnd) % 4, at, n;
	uint32_t v;

	for (k = 0; k < steps; k++) {
		at = len ? fuzz_random(rnd) % len : 0;
		switch (fuzz_random(rnd) % 8) {
		case 0:		/* flip a bit */
			if (len)
				buf[at] ^= (uint8_t)(1 << fuzz_random(rnd) % 8);
			break;
		case 1:		/* a random byte */
			if (len)
				buf[at] = (uint8_t)fuzz_random(rnd);
			break;
		case 2:		/* an interesting value, 1, 2 or 4 bytes */
			v = interesting[fuzz_random(rnd) %
			    (sizeof interesting / sizeof interesting[0])];
			n = (size_t)1 << fuzz_random(rnd) % 3;
			for (; n > 0 && at < len; n--, at++, v >>= 8)
				buf[at] = (uint8_t)v;
			break;
		case 3:		/* an event kind byte in a likely record */
			at = WIRE_HEADER_SIZE + 4 + 12 * (fuzz_random(rnd) % 8);
			if (at < len)
				buf[at] = (uint8_t)(fuzz_random(rnd) % 7);
			break;
		case 4:		/* truncate */
			len = at;
			break;
		case 5:		/* append random bytes */
			n = fuzz_random(rnd) % 64;
			for (; n > 0 && len < cap; n--)
				buf[len++] = (uint8_t)fuzz_random(rnd);
			break;
		case 6:		/* delete a chunk */
			n = fuzz_random(rnd) % 32;
			if (at + n <= len) {
				memmove(buf + at, buf + at + n, len - at - n);
				len -= n;
			}
			break;
		case 7:		/* duplicate a chunk */
			n = fuzz_random(rnd) % 32;
			if (at + n <= len && len + n <= cap) {
				memmove(buf + at + n, buf + at, len - at);
				len += n;
			}
			break;
		}
	}
	return len;
}

/* Mutated valid batches never crash the decoder or break round trips. */
static void
test_fuzz_corpus(void **state)
{
	struct fuzz_seed seeds[FUZZ_SEEDS];
	const char *env = getenv("SB_FUZZ_ITERATIONS");
	unsigned long iterations = FUZZ_ITERATIONS, i;
	uint64_t rnd = 20200225;
	uint8_t *buf, *exact;
	size_t cap = 0, len, s;

	if (env != NULL)
		iterations = strtoul(env, NULL, 10);
	for (s = 0; s < FUZZ_SEEDS; s++) {
		fuzz_make_seed(&seeds[s], &rnd);
		if (seeds[s].len > cap)
			cap = seeds[s].len;
		/* Unmutated seeds decode cleanly. */
		memset(&fuzz_stats, 0, sizeof fuzz_stats);
		LLVMFuzzerTestOneInput(seeds[s].data, seeds[s].len);
		assert_int_equal(fuzz_stats.rejected, 0);
		assert_true(fuzz_stats.decoded >= 1);
	}
	cap += 256;
	buf = malloc(cap);

	memset(&fuzz_stats, 0, sizeof fuzz_stats);
	for (i = 0; i < iterations; i++) {
		s = fuzz_random(&rnd) % FUZZ_SEEDS;
		memcpy(buf, seeds[s].data, seeds[s].len);
		len = fuzz_mutate(buf, seeds[s].len, cap, &rnd);
		/* An exact-size copy, so an over-read shows under valgrind. */
		exact = malloc(len ? len : 1);
		memcpy(exact, buf, len);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
	}
	print_message("# fuzz-wire: %lu inputs, %lu batches decoded, %lu "
	    "rejected (%lu in records)\n", iterations, fuzz_stats.decoded,
	    fuzz_stats.rejected, fuzz_stats.record_errors);
	/* The corpus reaches both outcomes and the record parser. */
	if (iterations >= 1000) {
		assert_true(fuzz_stats.decoded > iterations / 100);
		assert_true(fuzz_stats.rejected > iterations / 10);
		assert_true(fuzz_stats.record_errors > iterations / 100);
	}
	free(buf);
	for (s = 0; s < FUZZ_SEEDS; s++)
		free(seeds[s].data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fuzz_corpus),
	};
	return cmocka_run_group_tests_name("fuzz-wire", tests, NULL, NULL);
}
#endif
