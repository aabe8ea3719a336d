/*
 * intan.c: fuzz target for Intan RHX's spike stream (plugins/intan):
 * 14-byte records reassembled across reads (intan-spike.c), their channel
 * names mapped to units by channels= (intan-channels.c) and their frame
 * timestamps mapped to our clock (intan-clock.c), as the plugin's link
 * thread does with what the spike socket brings.
 *
 * Input: a channels= value (a length byte and its text; if it does not
 * parse, A-000..A-031 is used), one byte that seeds how the stream is cut
 * into reads, then the stream. The stream is parsed whole and in pieces:
 * both must give the same records, and every byte must be a record's, a
 * skipped one or one still waiting. A record's name maps to one of the
 * units or to none, and its time is never mapped after its arrival.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "intan.h"

#define FUZZ_INTAN_RECORDS 8192

/* Records one parse gave. */
struct fuzz_intan_run {
	struct intan_spike_record r[FUZZ_INTAN_RECORDS];
	size_t n;
};

/* Parser callback: keep the record. */
static void
fuzz_intan_keep(void *ctx, const struct intan_spike_record *r)
{
	struct fuzz_intan_run *run = ctx;

	FUZZ_CHECK(strlen(r->name) == 5);
	FUZZ_CHECK(intan_channels_name_ok(r->name));
	if (run->n < FUZZ_INTAN_RECORDS)
		run->r[run->n++] = *r;
}

/* A small generator for the cut points. */
static uint32_t
fuzz_intan_next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* channels=, the stream whole and cut, each record mapped. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct intan_spike_parser whole, cut;
	static struct fuzz_intan_run a, b;
	static struct intan_clock clock;
	struct intan_channels ch;
	const uint8_t *piece;
	char *spec, *cause = NULL, range[64];
	uint32_t seed;
	int64_t arrival = 0, next, mapped;
	size_t n, off, i;
	int unit;

	n = fuzz_take(&data, &size, &piece);
	spec = fuzz_string(piece, n);
	if (intan_channels_parse(&ch, spec, &cause) != 0) {
		/* the value is echoed as given (a quoted \n included) */
		FUZZ_CHECK(cause != NULL && *cause != '\0');
		free(cause);
		cause = NULL;
		FUZZ_CHECK(intan_channels_parse(&ch, "A-000..A-031",
		    &cause) == 0);
	}
	free(spec);
	FUZZ_CHECK(ch.n >= 1 && ch.n <= INTAN_MAX_CHANNELS);
	intan_channels_range(&ch, 0, ch.n - 1, range, sizeof range);
	if (size < 1) {
		intan_channels_free(&ch);
		return 0;
	}
	seed = 0x2545f491u ^ data[0];
	data++;
	size--;

	memset(&whole, 0, sizeof whole);
	memset(&cut, 0, sizeof cut);
	a.n = b.n = 0;
	intan_spike_feed(&whole, data, size, fuzz_intan_keep, &a);
	for (off = 0; off < size; off += n) {
		n = 1 + fuzz_intan_next(&seed) % 64;
		if (n > size - off)
			n = size - off;
		intan_spike_feed(&cut, data + off, n, fuzz_intan_keep, &b);
	}
	/* the same records however the reads cut the stream */
	FUZZ_CHECK(a.n == b.n && whole.records == cut.records);
	FUZZ_CHECK(whole.skipped == cut.skipped && whole.len == cut.len);
	for (i = 0; i < a.n; i++)
		FUZZ_CHECK(memcmp(&a.r[i], &b.r[i], sizeof a.r[i]) == 0);
	/* every byte accounted for */
	FUZZ_CHECK(whole.records * INTAN_SPIKE_RECORD + whole.skipped +
	    whole.len == size);

	intan_clock_reset(&clock, 30000);
	for (i = 0; i < a.n; i++) {
		unit = intan_channels_unit(&ch, a.r[i].name);
		FUZZ_CHECK(unit >= -1 && unit < (int)ch.n);
		if (unit >= 0)
			FUZZ_CHECK(strcmp(ch.names[unit], a.r[i].name) == 0);
		/* arrivals follow frame time, a drift of 300 ppm and a latency
		 * the id byte sets (the fuzzer shapes both), never backwards */
		next = 5000000 + (int64_t)((double)a.r[i].timestamp * 1e6 /
		    30000 * (1 + 300e-6)) + (int64_t)a.r[i].id * 37;
		if (next > arrival)
			arrival = next;
		mapped = intan_clock_map(&clock, a.r[i].timestamp, arrival);
		/* detected at or before it arrived */
		FUZZ_CHECK(mapped <= arrival);
	}
	intan_channels_free(&ch);
	return 0;
}
