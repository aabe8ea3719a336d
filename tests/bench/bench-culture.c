/* bench-culture.c: simulated seconds per wall-clock second of the culture. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "culture.h"

/* Wall-clock seconds (monotonic). */
static double
bench_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec * 1e-9);
}

/* Count recorded spikes. */
static void
bench_count(void *ctx, int64_t t_us, uint32_t electrode, int stimulated)
{
	(*(uint64_t *)ctx)++;
}

/* Simulate one array for a while and print how fast it ran. */
static void
bench_run(uint32_t electrodes, uint32_t npe, double sim_s)
{
	struct culture_params	 p;
	struct culture		*c;
	char			*cause = NULL;
	uint64_t		 spikes = 0;
	double			 t0, t1, built, wall;
	int64_t			 t;

	culture_params_default(&p);
	p.electrodes = electrodes;
	p.npe = npe;
	p.seed = 1;
	t0 = bench_now();
	c = culture_create(&p, &cause);
	if (c == NULL) {
		fprintf(stderr, "%s\n", cause);
		return;
	}
	built = bench_now() - t0;
	/* Advance in 10 ms chunks, as a real-time host thread would. */
	t1 = bench_now();
	for (t = 10000; t <= (int64_t)(sim_s * 1e6); t += 10000)
		culture_advance(c, t, bench_count, &spikes);
	wall = bench_now() - t1;
	printf("culture %4u electrodes x %u neurons: %6.1f s simulated in "
	    "%6.3f s = %7.1f x real time (%.0f spikes/s recorded, "
	    "built in %.3f s)\n", electrodes, npe, sim_s, wall, sim_s / wall,
	    spikes / sim_s, built);
	culture_free(c);
}

int
main(void)
{
	bench_run(60, 2, 120);
	bench_run(1024, 2, 60);
	bench_run(4096, 2, 30);
	bench_run(4096, 4, 30);
	return (0);
}
