/*
 * bench-engine.c: events per second through the engine (ring -> engine ->
 * history, CSV recorder, synapse routing and rules), with the deterministic
 * test_neurons backend firing every unit every millisecond.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "engine.h"
#include "history.h"

static unsigned bench_errors, bench_warnings;

/* Count the session's messages (rule refusals at this rate) quietly. */
static void
bench_log(void *ctx, enum sb_log_level level, const char *msg)
{
	(void)ctx;
	(void)msg;
	if (level <= SB_LOG_WARNING)
		bench_warnings++;
}

static void
bench_out(void *ctx, const char *line)
{
	(void)ctx;
	(void)line;
}

static void
bench_err(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "bench-engine: %s\n", line);
	bench_errors++;
}

static const struct cmd_client bench_client = {
	.out = bench_out,
	.err = bench_err,
};

/* One run: units firing every ms, nsyn synapses, recording or not. */
static void
bench_run(unsigned units, unsigned nsyn, int record, double seconds)
{
	struct session *s = session_create(1, 1);
	struct cmdq *q = cmdq_create(s);
	char line[256], dir[] = "/tmp/sb-bench-XXXXXX";
	unsigned i;
	int64_t t0, t1;
	uint64_t spikes = 0;
	size_t k;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	session_add_plugin_dir(s, TEST_PLUGIN_DIR);
	s->log_fn = bench_log;
	bench_warnings = 0;
	s->history = history_create(1000000, 1000);
	cmdq_append(q, "site lab", "bench", &bench_client, 1, 1);
	snprintf(line, sizeof line, "load test_neurons name=n units=%u "
	    "period_ms=1", units);
	cmdq_append(q, line, "bench", &bench_client, 1, 1);
	cmdq_append(q, "load test_synapses name=d devices=4096 "
	    "latency_us=0", "bench", &bench_client, 1,
	    1);
	for (i = 0; i < nsyn; i++) {
		snprintf(line, sizeof line, "synapse s%u n:%u n:%u d:%u -r rate",
		    i, i % units, (i * 7 + 1) % units, i);
		cmdq_append(q, line, "bench", &bench_client, 1, 1);
	}
	if (record) {
		snprintf(line, sizeof line, "record start %s", dir);
		cmdq_append(q, line, "bench", &bench_client, 1, 1);
	}
	cmdq_run(q);
	if (bench_errors > 0)
		exit(1);
	t0 = clock_mono_us();
	engine_run_fast(s, (int64_t)(seconds * 1e6));
	t1 = clock_mono_us();
	for (k = 0; k < s->sites[0]->npops; k++)
		spikes += s->sites[0]->pops[k]->spikes;
	printf("engine: %5u units x 1 kHz, %4u synapses, %-9s: %7.2f M "
	    "events/s (%llu spikes in %.3f s wall, %.1f x real time, %u "
	    "warnings)\n", units, nsyn, record ? "recording" : "memory",
	    spikes / ((t1 - t0) / 1e6) / 1e6, (unsigned long long)spikes,
	    (t1 - t0) / 1e6, seconds / ((t1 - t0) / 1e6), bench_warnings);
	cmdq_free(q);
	engine_shutdown(s);
	snprintf(line, sizeof line, "rm -rf '%s'", dir);
	if (system(line) != 0)
		fprintf(stderr, "bench-engine: could not remove %s\n", dir);
}

int
main(void)
{
	bench_run(1024, 0, 0, 2.0);
	bench_run(1024, 0, 1, 2.0);
	bench_run(4096, 1000, 0, 1.0);
	bench_run(4096, 1000, 1, 1.0);
	return 0;
}
