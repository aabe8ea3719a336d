/* bench-wire.c: batch encode and decode throughput, and CRC-32C speed. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crc32c.h"
#include "wire.h"

#define BENCH_EVENTS 20000000

/* Monotonic seconds. */
static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Encode and decode batches of size batch; spike_pct% spikes. */
static void
bench_run(size_t batch, unsigned spike_pct)
{
	struct wire_header h = { .session_id = 1, .stream_id = 1 }, got;
	struct sb_event *ev = calloc(batch, sizeof *ev);
	struct sb_event *out = calloc(batch, sizeof *out);
	size_t cap = WIRE_HEADER_SIZE + batch * WIRE_RECORD_MAX, size = 0;
	uint8_t *buf = malloc(cap);
	size_t i, rounds = BENCH_EVENTS / batch, consumed;
	uint64_t r, sink = 0;
	double t0, enc, dec;

	for (i = 0; i < batch; i++) {
		ev[i].t_us = 1000000 + (int64_t)i * 37;
		ev[i].index = (uint32_t)(i % 60);
		ev[i].kind = (i * 100 / batch) < spike_pct ? SB_EV_SPIKE :
		    SB_EV_CONDUCTANCE;
		ev[i].aux = SB_SPIKE_SPONTANEOUS;
		ev[i].g_before = 100.0f;
	}

	t0 = now_s();
	for (r = 0; r < rounds; r++) {
		h.seq = r;
		size = wire_encode(buf, cap, &h, ev, batch);
		sink += buf[size - 1];
	}
	enc = now_s() - t0;

	t0 = now_s();
	for (r = 0; r < rounds; r++) {
		if (wire_decode(buf, size, &got, out, batch, &consumed,
		    NULL) != 0) {
			printf("wire: decode failed\n");
			exit(1);
		}
		sink += out[batch - 1].index;
	}
	dec = now_s() - t0;

	printf("wire: batch %4zu, %3u%% spikes, %5.1f bytes/event: "
	    "encode %6.1f M events/s, decode %6.1f M events/s%s\n", batch,
	    spike_pct, (double)size / batch, rounds * batch / enc / 1e6,
	    rounds * batch / dec / 1e6, sink == UINT64_MAX ? "!" : "");
	free(buf);
	free(out);
	free(ev);
}

/* CRC-32C throughput over a 64 KiB buffer. */
static void
bench_crc(const char *name, uint32_t (*fn)(uint32_t, const void *, size_t))
{
	static uint8_t buf[65536];
	uint32_t crc = 0;
	double t0, secs;
	int i;

	memset(buf, 0x5a, sizeof buf);
	t0 = now_s();
	for (i = 0; i < 20000; i++)
		crc = fn(crc, buf, sizeof buf);
	secs = now_s() - t0;
	printf("crc32c %-13s %6.2f GB/s (%08x)\n", name,
	    20000.0 * sizeof buf / secs / 1e9, crc);
}

int
main(void)
{
	static const size_t batches[] = { 1, 16, 256, 4096 };
	size_t i;

	for (i = 0; i < sizeof batches / sizeof batches[0]; i++)
		bench_run(batches[i], 100);
	bench_run(256, 90);
	bench_crc(crc32c_hw_available() ? "(sse4.2):" : "(software):",
	    crc32c);
	bench_crc("(slicing-8):", crc32c_sw);
	return 0;
}
