/*
 * relay-body.c: write a synbridge-relay publish body (batches back to back)
 * on standard output, for the relay bounds tests.
 *
 * Usage: relay-body STREAM FIRST COUNT EVENTS [DUPSEQ DUPEVENTS DUPCOUNT]
 *
 * COUNT batches of STREAM with seq FIRST, FIRST+1, ..., EVENTS spikes each
 * (0: empty batches), then DUPCOUNT copies of batch DUPSEQ with DUPEVENTS
 * spikes (duplicates the relay must drop when DUPSEQ is already stored).
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

/* Parse a whole number argument; exits 2 if bad. */
static unsigned long long
relay_body_number(const char *s, const char *what)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0) {
		fprintf(stderr, "relay-body: %s '%s': want a whole number\n",
		    what, s);
		exit(2);
	}
	return v;
}

/* Encode batch seq of stream with n spikes into buf; its size. */
static size_t
relay_body_batch(uint8_t *buf, size_t cap, uint32_t stream, uint64_t seq,
    size_t n, struct sb_event *ev)
{
	struct wire_header h = { .session_id = 1, .stream_id = stream,
	    .seq = seq };
	size_t i, size;

	for (i = 0; i < n; i++) {
		memset(&ev[i], 0, sizeof ev[i]);
		ev[i].t_us = (int64_t)(seq * 1000 + i);
		ev[i].kind = SB_EV_SPIKE;
		ev[i].index = (uint32_t)i;
	}
	size = wire_encode(buf, cap, &h, ev, n);
	if (size == 0) {
		fprintf(stderr, "relay-body: %zu events do not make one "
		    "batch\n", n);
		exit(2);
	}
	return size;
}

/* Write the body. */
int
main(int argc, char **argv)
{
	unsigned long long stream, first, count, events, dupseq = 0;
	unsigned long long dupevents = 0, dupcount = 0, i;
	struct sb_event *ev;
	uint8_t *buf;
	size_t cap, len, most;

	if (argc != 5 && argc != 8) {
		fprintf(stderr, "usage: relay-body STREAM FIRST COUNT EVENTS "
		    "[DUPSEQ DUPEVENTS DUPCOUNT]\n");
		return 2;
	}
	stream = relay_body_number(argv[1], "STREAM");
	first = relay_body_number(argv[2], "FIRST");
	count = relay_body_number(argv[3], "COUNT");
	events = relay_body_number(argv[4], "EVENTS");
	if (argc == 8) {
		dupseq = relay_body_number(argv[5], "DUPSEQ");
		dupevents = relay_body_number(argv[6], "DUPEVENTS");
		dupcount = relay_body_number(argv[7], "DUPCOUNT");
	}
	most = events > dupevents ? events : dupevents;
	if (most > WIRE_PAYLOAD_MAX / WIRE_RECORD_MIN) {
		fprintf(stderr, "relay-body: at most %u events per batch\n",
		    WIRE_PAYLOAD_MAX / WIRE_RECORD_MIN);
		return 2;
	}
	cap = WIRE_HEADER_SIZE + most * WIRE_RECORD_MIN;
	buf = malloc(cap);
	ev = calloc(most + 1, sizeof *ev);
	if (buf == NULL || ev == NULL)
		return 1;
	for (i = 0; i < count; i++) {
		len = relay_body_batch(buf, cap, (uint32_t)stream, first + i,
		    (size_t)events, ev);
		if (fwrite(buf, 1, len, stdout) != len)
			return 1;
	}
	if (dupcount > 0) {
		len = relay_body_batch(buf, cap, (uint32_t)stream, dupseq,
		    (size_t)dupevents, ev);
		for (i = 0; i < dupcount; i++) {
			if (fwrite(buf, 1, len, stdout) != len)
				return 1;
		}
	}
	free(buf);
	free(ev);
	return fflush(stdout) == 0 ? 0 : 1;
}
