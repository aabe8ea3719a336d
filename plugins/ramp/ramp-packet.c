/*
 * ramp-packet.c: the RAMP datagram (8 bytes, two big-endian 32-bit words:
 * [sender:8 | id:24] [aux:8 | time:24]) and its 50 us time ticks.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ramp.h"

/* Write p into buf; id and time keep only the bits of mask. */
void
ramp_packet_encode(const struct ramp_packet *p, uint32_t mask,
    uint8_t buf[RAMP_DATAGRAM])
{
	uint32_t id = p->id & mask & RAMP_FIELD_MASK;
	uint32_t time = p->time & mask & RAMP_FIELD_MASK;

	buf[0] = p->sender;
	buf[1] = (uint8_t)(id >> 16);
	buf[2] = (uint8_t)(id >> 8);
	buf[3] = (uint8_t)id;
	buf[4] = p->aux;
	buf[5] = (uint8_t)(time >> 16);
	buf[6] = (uint8_t)(time >> 8);
	buf[7] = (uint8_t)time;
}

/* Read a datagram of len bytes: 0, or -1 if it is not 8 bytes long. */
int
ramp_packet_decode(const uint8_t *buf, size_t len, struct ramp_packet *p)
{
	if (len != RAMP_DATAGRAM)
		return -1;
	p->sender = buf[0];
	p->id = (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
	p->aux = buf[4];
	p->time = (uint32_t)buf[5] << 16 | (uint32_t)buf[6] << 8 | buf[7];
	return 0;
}

/* Is this the 3-byte ASCII "RDY" of the 2016 versions? */
int
ramp_packet_is_ready(const uint8_t *buf, size_t len)
{
	return len == sizeof RAMP_READY_TEXT - 1 &&
	    memcmp(buf, RAMP_READY_TEXT, len) == 0;
}

/* Floor of t / RAMP_TICK_US, also for negative t. */
static int64_t
ramp_tick_of(int64_t t_us)
{
	int64_t q = t_us / RAMP_TICK_US;

	if (t_us % RAMP_TICK_US != 0 && t_us < 0)
		q--;
	return q;
}

/*
 * The time field for an event at t_us after one at prev_us: whole ticks
 * between them, counted on the tick grid so that a run of intervals adds
 * up to the elapsed time (no rounding drift); 0 if t_us is not later;
 * 24 bits, wrapping around past 2^24 ticks (838.9 s).
 */
uint32_t
ramp_ticks_between(int64_t prev_us, int64_t t_us)
{
	int64_t ticks = ramp_tick_of(t_us) - ramp_tick_of(prev_us);

	if (ticks <= 0)
		return 0;
	return (uint32_t)((uint64_t)ticks & RAMP_FIELD_MASK);
}

/* The node's clock after an 'A' datagram's interval (wraps as the original). */
uint64_t
ramp_tabs_advance(uint64_t t_abs, uint32_t ticks)
{
	t_abs += ticks;
	if (t_abs > RAMP_TABS_WRAP)
		t_abs -= RAMP_TABS_WRAP;
	return t_abs;
}

/* A sender byte for messages: 'A' if printable, else 0x07. */
const char *
ramp_sender_text(uint8_t sender, char *buf, size_t len)
{
	if (sender >= 0x21 && sender < 0x7f)
		snprintf(buf, len, "'%c'", sender);
	else
		snprintf(buf, len, "0x%02x", sender);
	return buf;
}
