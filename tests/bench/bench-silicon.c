/* bench-silicon.c: simulated seconds per wall-clock second, and f-I. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "silicon.h"

/* Monotonic seconds. */
static double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Count spikes. */
static void
bench_count(void *ctx, uint32_t unit, int64_t t_us)
{
	uint64_t *n = ctx;

	(*n)++;
}

/* Count spikes per unit. */
static void
bench_count_unit(void *ctx, uint32_t unit, int64_t t_us)
{
	uint32_t *count = ctx;

	count[unit]++;
}

/* Run chips x cores under input and noise for sim_s; print the speed. */
static void
bench_speed(int chips, int cores, int noise, double sim_s)
{
	struct silicon_config cfg;
	struct silicon *s;
	uint32_t x = 1, units, n;
	uint64_t spikes = 0, inputs = 0;
	int64_t t, end = (int64_t)(sim_s * 1e6);
	double t0, wall;

	silicon_config_default(&cfg);
	cfg.chips = chips;
	cfg.cores = cores;
	cfg.core.bias_pa = 400;
	cfg.core.noise_pa = noise ? 100 : 0;
	s = silicon_create(&cfg, NULL);
	units = silicon_units(s);
	n = silicon_core_count(s) * SILICON_CORE_NEURONS;
	t0 = bench_now();
	/* Every 1 ms: one weighted event per 8 neurons (125 Hz each). */
	for (t = 0; t < end; t += 1000) {
		uint32_t i;

		for (i = 0; i < n / 8; i++) {
			x = x * 1664525u + 1013904223u;
			silicon_input(s, (x >> 8) % units, SILICON_SYN_AMPA,
			    (x >> 4) & 255, t + 1000);
			inputs++;
		}
		silicon_advance(s, t + 1000, bench_count, &spikes);
	}
	wall = bench_now() - t0;
	printf("%5u neurons%s: %.1f simulated s per wall s "
	    "(%.0f ns per neuron-step; %.0f spikes/s/neuron, %.0f inputs/s)\n",
	    n, noise ? " + noise" : "        ", sim_s / wall,
	    wall * 1e9 / (n * sim_s * 1e6 / SILICON_DT_US),
	    spikes / sim_s / n, inputs / sim_s);
	silicon_free(s);
}

/* Print the f-I curve of the default neuron (no mismatch). */
static void
bench_fi(void)
{
	static const float amps[] = {
		0, 400, 550, 600, 650, 700, 800, 1000, 1500, 2000, 3000, 5000,
		10000, 20000, 50000, 100000,
	};
	struct silicon_config cfg;
	struct silicon *s;
	uint32_t count[SILICON_CORE_NEURONS] = { 0 };
	size_t i, n = sizeof amps / sizeof amps[0];

	silicon_config_default(&cfg);
	cfg.cores = 1;
	cfg.mismatch = 0;
	s = silicon_create(&cfg, NULL);
	for (i = 0; i < n; i++)
		silicon_stimulate(s, (uint32_t)i, amps[i], 1000000, 0, NULL);
	silicon_advance(s, 1000000, bench_count_unit, count);
	printf("f-I, 1 s current steps, refractory 2 ms, no mismatch:\n");
	for (i = 0; i < n; i++)
		printf("  %8.2f nA  %4u Hz\n", amps[i] / 1000, count[i]);
	silicon_free(s);
}

int
main(void)
{
	bench_fi();
	bench_speed(1, 1, 0, 20);
	bench_speed(1, 4, 0, 10);
	bench_speed(4, 4, 0, 3);
	bench_speed(1, 1, 1, 10);
	bench_speed(1, 4, 1, 5);
	bench_speed(4, 4, 1, 2);
	return 0;
}
