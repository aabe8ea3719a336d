/*
 * bench-csv.c: CSV export and read throughput.
 *
 * Fills a history with spike and conductance events, exports spikes.csv
 * and synapses.csv from it, and reads both back, printing rows per second.
 */
#include "config.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "history.h"
#include "xmalloc.h"

#define SPIKES 4000000
#define CONDUCTANCES 1000000
#define REPEAT 3

static const char *site_names[] = { "padova", "southampton", "zurich" };

/* Site name. */
static const char *
bench_site(void *ctx, uint16_t site)
{
	return site_names[site % 3];
}

/* Population name. */
static const char *
bench_population(void *ctx, uint16_t site, uint16_t pop)
{
	return site == 0 ? "mea" : "silicon";
}

/* Synapse names. */
static int
bench_synapse(void *ctx, uint16_t site, uint32_t index, const char **name,
    const char **pre, const char **post)
{
	static const char *names[] = { "s0", "s1", "s2", "s3", "s4", "s5",
	    "s6", "s7" };

	*name = names[index % 8];
	*pre = "padova/mea:3";
	*post = "zurich/silicon:7";
	return 0;
}

/* Conductance event name. */
static const char *
bench_event(void *ctx, const struct sb_event *ev)
{
	return ev->amplitude > 0 ? "potentiate" : "depress";
}

/* Count rows read. */
static int
bench_count(void *ctx, const struct csv_row *row)
{
	(*(uint64_t *)ctx)++;
	return 0;
}

/* Size of a file in bytes. */
static double
bench_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (double)st.st_size : 0;
}

/* Export one kind REPEAT times and read it back REPEAT times. */
static void
bench_kind(struct history *h, enum csv_kind kind, const char *path,
    const struct history_names *names)
{
	double best_export = 1e9, best_read = 1e9, s, mb;
	int64_t t0, rows = 0;
	uint64_t read_rows = 0;
	char *cause = NULL;
	int i;

	for (i = 0; i < REPEAT; i++) {
		t0 = clock_mono_us();
		rows = history_export(h, kind, path, INT64_MIN, INT64_MAX,
		    names, &cause);
		s = (clock_mono_us() - t0) / 1e6;
		if (rows < 0) {
			fprintf(stderr, "bench-csv: %s\n", cause);
			exit(1);
		}
		if (s < best_export)
			best_export = s;
	}
	mb = bench_size(path) / 1e6;
	printf("export %-8s %9lld rows %7.1f MB  %6.3f s  %6.2f M rows/s  "
	    "%6.0f MB/s\n", csv_kind_names[kind], (long long)rows, mb,
	    best_export, rows / best_export / 1e6, mb / best_export);

	for (i = 0; i < REPEAT; i++) {
		read_rows = 0;
		t0 = clock_mono_us();
		if (csv_read_file(path, kind, bench_count, &read_rows,
		    &cause) != 0) {
			fprintf(stderr, "bench-csv: %s\n", cause);
			exit(1);
		}
		s = (clock_mono_us() - t0) / 1e6;
		if (s < best_read)
			best_read = s;
	}
	printf("read   %-8s %9llu rows %7.1f MB  %6.3f s  %6.2f M rows/s  "
	    "%6.0f MB/s\n", csv_kind_names[kind],
	    (unsigned long long)read_rows, mb, best_read,
	    read_rows / best_read / 1e6, mb / best_read);
}

int
main(void)
{
	const struct history_names names = { .site = bench_site,
	    .population = bench_population, .synapse = bench_synapse,
	    .event = bench_event };
	char dir[] = "/tmp/sb-bench-csv-XXXXXX", *path;
	struct history *h;
	struct sb_event ev;
	uint64_t seed = 1;
	int64_t t = 0;
	int i;

	if (mkdtemp(dir) == NULL) {
		perror("bench-csv: mkdtemp");
		return 1;
	}
	h = history_create(SPIKES + CONDUCTANCES, 0);
	memset(&ev, 0, sizeof ev);
	for (i = 0; i < SPIKES + CONDUCTANCES; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		t += 1 + (seed >> 33) % 500;
		ev.t_us = t;
		if (i % 5 == 4) {
			ev.kind = SB_EV_CONDUCTANCE;
			ev.site = 1;
			ev.pop = SB_POP_SYNAPSE;
			ev.index = (seed >> 40) % 8;
			ev.amplitude = (seed >> 20) & 1 ? 4.0f : -4.0f;
			ev.width_us = 100;
			ev.count = 1;
			ev.g_before = 50 + (seed >> 45) % 1000 * 0.0137f;
			ev.g_after = ev.g_before + 0.25f;
		} else {
			ev.kind = SB_EV_SPIKE;
			ev.site = (seed >> 40) % 2 ? 0 : 2;
			ev.pop = 0;
			ev.index = (seed >> 50) % 60;
		}
		history_add_event(h, &ev);
	}
	printf("history: %zu events (%d spikes, %d conductance), best of %d\n",
	    history_events(h), SPIKES, CONDUCTANCES, REPEAT);

	xasprintf(&path, "%s/spikes.csv", dir);
	bench_kind(h, CSV_SPIKES, path, &names);
	unlink(path);
	free(path);
	xasprintf(&path, "%s/synapses.csv", dir);
	bench_kind(h, CSV_SYNAPSES, path, &names);
	unlink(path);
	free(path);

	history_free(h);
	rmdir(dir);
	return 0;
}
