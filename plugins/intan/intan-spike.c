/*
 * intan-spike.c: the spike socket's stream of 14-byte records, reassembled
 * across reads however TCP splits them.
 *
 * A record that does not start with the magic means the stream is out of
 * step (a lost byte, a reader that started mid-record): the parser scans
 * forward for the next magic that is followed by a channel name, counting
 * one resynchronisation and the bytes it threw away. A magic found in the
 * middle of a record's own bytes (a timestamp that happens to look like
 * it) is refused by the name check, so the scan goes on.
 */
#include "config.h"

#include <string.h>

#include "intan.h"

/* Little-endian uint32 at b. */
static uint32_t
intan_spike_u32(const uint8_t *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	    (uint32_t)b[3] << 24;
}

/* Forget everything (a new connection). */
void
intan_spike_reset(struct intan_spike_parser *sp)
{
	sp->len = 0;
	sp->out_of_step = 0;
}

/* Where the next read goes, and how much fits. */
uint8_t *
intan_spike_space(struct intan_spike_parser *sp, size_t *room)
{
	*room = sizeof sp->buf - sp->len;
	return sp->buf + sp->len;
}

/*
 * Could a record start at b (n bytes available)? 1 yes, 0 no, -1 too few
 * bytes to say.
 */
static int
intan_spike_starts(const uint8_t *b, size_t n)
{
	static const uint8_t magic[4] = { 0x0f, 0x71, 0xe2, 0x3a };
	size_t k = n < 4 ? n : 4;
	char name[6];

	if (memcmp(b, magic, k) != 0)
		return 0;
	if (n < 9)
		return -1;
	memcpy(name, b + 4, 5);
	name[5] = '\0';
	return intan_channels_name_ok(name);
}

/* Parse the bytes in the buffer after added more came; call fn per record. */
void
intan_spike_parse(struct intan_spike_parser *sp, size_t added,
    intan_spike_fn fn, void *ctx)
{
	struct intan_spike_record r;
	size_t pos = 0, end;
	int ok;

	sp->len += added;
	end = sp->len;
	while (pos < end) {
		ok = intan_spike_starts(sp->buf + pos, end - pos);
		if (ok < 0)
			break;	/* wait for the rest */
		if (ok == 0) {
			if (!sp->out_of_step) {
				sp->out_of_step = 1;
				sp->resyncs++;
			}
			sp->skipped++;
			pos++;
			continue;
		}
		if (end - pos < INTAN_SPIKE_RECORD)
			break;
		sp->out_of_step = 0;
		memcpy(r.name, sp->buf + pos + 4, 5);
		r.name[5] = '\0';
		r.timestamp = intan_spike_u32(sp->buf + pos + 9);
		r.id = sp->buf[pos + 13];
		sp->records++;
		pos += INTAN_SPIKE_RECORD;
		fn(ctx, &r);
	}
	memmove(sp->buf, sp->buf + pos, end - pos);
	sp->len = end - pos;
}

/* Feed len bytes from data (tests; the plugin reads into the buffer). */
void
intan_spike_feed(struct intan_spike_parser *sp, const void *data, size_t len,
    intan_spike_fn fn, void *ctx)
{
	const uint8_t *d = data;
	size_t room, n;
	uint8_t *at;

	while (len > 0) {
		at = intan_spike_space(sp, &room);
		n = len < room ? len : room;
		memcpy(at, d, n);
		intan_spike_parse(sp, n, fn, ctx);
		d += n;
		len -= n;
	}
}
