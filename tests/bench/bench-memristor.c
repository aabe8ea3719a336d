/* bench-memristor.c: how fast the crossbar model integrates pulses. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "memristor.h"

/* CLOCK_MONOTONIC in seconds. */
static double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Count completions. */
static void
bench_count(void *ctx, const struct sb_completion *c)
{
	(*(uint64_t *)ctx)++;
}

int
main(void)
{
	struct memristor_config cfg;
	struct memristor_xbar *x;
	uint64_t pulses = 0, done = 0, ops = 0;
	double t0, dt, sink = 0;
	int64_t now = 0;
	uint32_t i, dev;
	char *cause = NULL;

	memristor_config_default(&cfg);
	x = memristor_xbar_create(&cfg, &cause);
	if (x == NULL) {
		fprintf(stderr, "%s\n", cause);
		return 1;
	}

	/* Single pulses straight through the device model (with noise). */
	t0 = bench_now();
	for (i = 0; i < 4000000; i++) {
		dev = i & 1023;
		sink += memristor_device_pulse(&x->dev[dev], &x->model,
		    &x->cfg, (i >> 10) & 1 ? -4.0 : 4.0, 100, 1);
		pulses++;
	}
	dt = bench_now() - t0;
	printf("device model: %.2f M pulse integrations/s (%.0f ns each, "
	    "1 pulse per call)\n", pulses / dt / 1e6, dt / pulses * 1e9);

	/* Trains of 100 pulses (one s(v) per train). */
	pulses = 0;
	t0 = bench_now();
	for (i = 0; i < 100000; i++) {
		dev = i & 1023;
		sink += memristor_device_pulse(&x->dev[dev], &x->model,
		    &x->cfg, (i >> 10) & 1 ? -4.0 : 4.0, 100, 100);
		pulses += 100;
	}
	dt = bench_now() - t0;
	printf("device model: %.2f M pulse integrations/s (trains of 100)\n",
	    pulses / dt / 1e6);

	/* The instrument path: queue, poll, complete (with a read each). */
	t0 = bench_now();
	for (i = 0; i < 200; i++) {
		for (dev = 0; dev < x->devices; dev++) {
			if (memristor_xbar_pulse(x, dev, i & 1 ? -4.0 : 4.0,
			    100, 1, dev, now, NULL) == 0)
				ops++;
		}
		now += cfg.latency_us;
		memristor_xbar_poll(x, now, bench_count, &done);
	}
	dt = bench_now() - t0;
	printf("crossbar: %.2f M operations/s queued, integrated, read and "
	    "completed (%llu of %llu)\n", done / dt / 1e6,
	    (unsigned long long)done, (unsigned long long)ops);
	if (sink == 12345.0)
		printf("\n");
	memristor_xbar_free(x);
	return 0;
}
