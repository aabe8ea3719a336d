/*
 * bench-openephys.c: the openephys plugin against the Open Ephys GUI
 * emulator (tests/oe-emu) on loopback. Prints, from one run:
 *
 * - spike latency, p50 and p99: from the moment the emulator publishes a
 *   spike (the real-time instant the last sample of its block is due: the
 *   emulator publishes block by block at that pace, and says when sample
 *   0 was) to the plugin's emit, beside a bare ZMQ SUB on the same stream
 *   in the same run, and the ratio; also the plugin's time after the bare
 *   SUB for the same spikes;
 * - stimulation latency, p50 and p99: from stimulate() to the instant the
 *   emulator received the command ("triggered ... T_US"), through Network
 *   Events (TTL on) and through ACQBOARD TRIGGER (PUT /api/message),
 *   beside a bare REQ socket and a bare libcurl PUT doing the same, and
 *   the ratios.
 *
 * Usage: bench-openephys [SECONDS] [STIMS]  (default 10 s of spikes, 50
 * stimulations per path; top_builddir from the environment, else .)
 */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <zmq.h>

#include "fake-host.h"
#include "oe-driver.h"

int synbridge_plugin_init(struct sb_plugin *, const struct sb_host_api *);
void synbridge_plugin_end(struct sb_plugin *);

#define BENCH_RATE 30000.0
#define BENCH_BLOCK 300		/* samples: 10 ms blocks */
#define BENCH_ELECTRODES 32
#define BENCH_MAX 200000	/* spikes kept by the bare SUB */

/* One spike as the bare SUB saw it. */
struct bare_spike {
	uint32_t electrode;	/* 0-based */
	long long sample;
	int64_t mono_us;
};

/* The bare SUB's thread. */
struct bare_sub {
	void *ctx;
	char endpoint[64];
	volatile int stop;
	struct bare_spike *spikes;
	size_t n;
	pthread_t thread;
};

/* Receive and decode spikes, the least a client can do. */
static void *
bare_sub_run(void *arg)
{
	struct bare_sub *b = arg;
	void *s = zmq_socket(b->ctx, ZMQ_SUB);
	char type[8], json[65536];
	int n, len, timeout = 100, zero = 0;
	json_t *obj;
	const char *name;
	int64_t now;

	zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
	zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
	zmq_setsockopt(s, ZMQ_SUBSCRIBE, "\x01\x00", 2);
	zmq_connect(s, b->endpoint);
	while (!b->stop) {
		if ((n = zmq_recv(s, type, sizeof type, 0)) < 0)
			continue;
		now = oe_emu_now_us();
		if ((len = zmq_recv(s, json, sizeof json - 1, 0)) < 0)
			continue;
		if (len > (int)sizeof json - 1)
			continue;
		json[len] = '\0';
		if ((obj = json_loads(json, 0, NULL)) == NULL)
			continue;
		name = json_string_value(json_object_get(obj, "electrode"));
		if (name != NULL && b->n < BENCH_MAX) {
			const char *d = name + strlen(name);

			while (d > name && d[-1] >= '0' && d[-1] <= '9')
				d--;
			b->spikes[b->n].electrode = (uint32_t)atoi(d) - 1;
			b->spikes[b->n].sample = (long long)json_integer_value(
			    json_object_get(obj, "sample_number"));
			b->spikes[b->n].mono_us = now;
			b->n++;
		}
		json_decref(obj);
	}
	zmq_close(s);
	return NULL;
}

/* Ascending doubles. */
static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile of v[n] (sorted here). */
static double
quantile(double *v, size_t n, double q)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof *v, cmp_double);
	return v[(size_t)(q * (double)(n - 1) + 0.5)];
}

/* The engine's pass for the plugin. */
static void
pump(struct sb_plugin *p, int64_t base)
{
	p->now = oe_emu_now_us() - base;
	p->link.poll(p->link_data);
}

/* Pump for ms. */
static void
pump_for(struct sb_plugin *p, int64_t base, int ms)
{
	int64_t end = oe_emu_now_ms() + ms;
	struct timespec ts = { 0, 2000000L };

	while (oe_emu_now_ms() < end) {
		pump(p, base);
		nanosleep(&ts, NULL);
	}
}

/* Load the plugin on the emulator with extra key, value pairs; started. */
static struct sb_plugin *
load(struct oe_emu *e, struct sb_emitter *em, int64_t *base,
    const char *k1, const char *v1, const char *lines)
{
	static char http[16];
	struct sb_plugin *p = fake_plugin_new("padova", 1);

	snprintf(http, sizeof http, "%u", e->http_port);
	p->fast = 0;
	p->quiet = 1;
	p->echo = 1;
	if (k1 != NULL)
		fake_plugin_arg(p, k1, v1);
	fake_plugin_arg(p, "http_port", http);
	fake_plugin_arg(p, "electrodes", "32");
	fake_plugin_arg(p, "ttl_lines", lines);
	*base = oe_emu_now_us();
	oe_seen_clear();
	if (synbridge_plugin_init(p, &oe_test_host) != 0) {
		fake_plugin_free(p, synbridge_plugin_end);
		return NULL;
	}
	em->p = p;
	em->limit = SIZE_MAX;
	p->pops[0].start(p->pops_data[0], em, NULL);
	return p;
}

/* Stop and unload. */
static void
unload(struct sb_plugin *p)
{
	p->pops[0].stop(p->pops_data[0]);
	fake_plugin_free(p, synbridge_plugin_end);
	oe_seen_clear();
}

/* Spike latencies of the plugin and the bare SUB over seconds. */
static void
bench_spikes(struct oe_emu *e, void *zctx, int seconds)
{
	struct bare_sub b;
	struct sb_emitter em;
	struct sb_plugin *p;
	struct oe_seen s;
	char line[OE_EMU_LINE];
	double *lp, *lb, *ld, due;
	long long t0 = 0;
	size_t cursor, i, j, np = 0, nb = 0, nd = 0, lo = 0;
	int64_t base;

	memset(&b, 0, sizeof b);
	b.ctx = zctx;
	b.spikes = calloc(BENCH_MAX, sizeof *b.spikes);
	snprintf(b.endpoint, sizeof b.endpoint, "tcp://127.0.0.1:%u",
	    e->events_port);
	pthread_create(&b.thread, NULL, bare_sub_run, &b);
	oe_emu_read(e);
	cursor = e->nlines;
	if ((p = load(e, &em, &base, NULL, NULL, "each")) == NULL) {
		printf("bench-openephys: the plugin did not load\n");
		exit(1);
	}
	if (oe_emu_wait(e, "mode ACQUIRE", &cursor, line, sizeof line,
	    OE_EMU_DEADLINE_MS) != 0 || sscanf(line, "mode ACQUIRE %lld",
	    &t0) != 1) {
		printf("bench-openephys: the emulator did not start acquiring\n");
		exit(1);
	}
	pump_for(p, base, seconds * 1000);
	b.stop = 1;
	pthread_join(b.thread, NULL);
	lp = calloc(oe_seen_count() + 1, sizeof *lp);
	lb = calloc(b.n + 1, sizeof *lb);
	ld = calloc(oe_seen_count() + 1, sizeof *ld);
	/* the bare SUB: every spike after the first second */
	for (j = 0; j < b.n; j++) {
		due = (double)t0 + ((double)(b.spikes[j].sample / BENCH_BLOCK *
		    BENCH_BLOCK + BENCH_BLOCK - 1)) / BENCH_RATE * 1e6;
		if (b.spikes[j].sample > (long long)BENCH_RATE)
			lb[nb++] = ((double)b.spikes[j].mono_us - due) / 1e3;
	}
	/* the plugin: each emitted spike matched to the bare SUB's copy */
	for (i = 0; oe_seen_get(i, &s) == 0; i++) {
		double t = (double)s.ev.t_us + (double)base;	/* mono */
		long long best = -1;
		double dbest = 5000;

		for (j = lo; j < b.n; j++) {
			double ts = (double)t0 + b.spikes[j].sample / BENCH_RATE *
			    1e6;

			if (ts < t - 50000) {
				lo = j;
				continue;
			}
			if (ts > t + 50000)
				break;
			if (b.spikes[j].electrode == s.ev.index &&
			    fabs(ts - t) < dbest) {
				dbest = fabs(ts - t);
				best = (long long)j;
			}
		}
		if (best < 0 || b.spikes[best].sample < (long long)BENCH_RATE)
			continue;
		due = (double)t0 + ((double)(b.spikes[best].sample /
		    BENCH_BLOCK * BENCH_BLOCK + BENCH_BLOCK - 1)) / BENCH_RATE *
		    1e6;
		lp[np++] = ((double)s.mono_us - due) / 1e3;
		ld[nd++] = ((double)s.mono_us - (double)b.spikes[best].mono_us) /
		    1e3;
	}
	printf("openephys spikes: %zu through the plugin (%zu matched), %zu "
	    "through a bare SUB, %d s, %d electrodes, %d-sample blocks\n",
	    oe_seen_count(), np, b.n, seconds, BENCH_ELECTRODES, BENCH_BLOCK);
	{
		double p50 = quantile(lp, np, 0.5), p99 = quantile(lp, np, 0.99);
		double b50 = quantile(lb, nb, 0.5), b99 = quantile(lb, nb, 0.99);

		printf("openephys spike latency, publish to emit:  p50 %7.3f ms "
		    "p99 %7.3f ms   bare SUB p50 %7.3f ms p99 %7.3f ms   ratio "
		    "p50 %.2f p99 %.2f\n", p50, p99, b50, b99, p50 / b50,
		    p99 / b99);
		printf("openephys spike, plugin emit after the bare SUB's "
		    "receive: p50 %7.3f ms p99 %7.3f ms\n", quantile(ld, nd,
		    0.5), quantile(ld, nd, 0.99));
	}
	unload(p);
	free(lp);
	free(lb);
	free(ld);
	free(b.spikes);
}

/* The T_US of the next "triggered SOURCE" line, or -1. */
static long long
triggered(struct oe_emu *e, const char *source, size_t *cursor)
{
	char line[OE_EMU_LINE], want[64];
	const char *sp;

	snprintf(want, sizeof want, "triggered %s", source);
	if (oe_emu_wait(e, want, cursor, line, sizeof line, 3000) != 0)
		return -1;
	sp = strrchr(line, ' ');
	return sp == NULL ? -1 : atoll(sp + 1);
}

/* Stimulation latency through the plugin on one path. */
static void
bench_stim_plugin(struct oe_emu *e, const char *path, const char *source,
    int n, double *out, size_t *nout)
{
	struct sb_emitter em;
	struct sb_plugin *p;
	char line[OE_EMU_LINE], *cause = NULL;
	size_t cursor;
	int64_t base, t;
	long long trig;
	int i;

	*nout = 0;
	oe_emu_read(e);
	cursor = e->nlines;
	if ((p = load(e, &em, &base, "stim", path,
	    "0:1,1:2,2:3,3:4,4:5,5:6,6:7,7:8")) == NULL ||
	    oe_emu_wait(e, "mode ACQUIRE", &cursor, line, sizeof line,
	    OE_EMU_DEADLINE_MS) != 0) {
		printf("bench-openephys: the plugin did not load (%s)\n", path);
		exit(1);
	}
	pump_for(p, base, 500);
	for (i = 0; i < n; i++) {
		pump(p, base);
		t = oe_emu_now_us();
		if (p->pops[0].stimulate(p->pops_data[0], (uint32_t)(i % 8),
		    1.0, 10000, p->now, &cause) != 0) {
			printf("bench-openephys: %s: %s\n", path, cause);
			free(cause);
			cause = NULL;
			pump_for(p, base, 50);
			continue;
		}
		while ((trig = triggered(e, source, &cursor)) < 0 &&
		    oe_emu_now_us() - t < 3000000)
			pump(p, base);
		if (trig > 0)
			out[(*nout)++] = (double)(trig - t) / 1e3;
		pump_for(p, base, 40);	/* the line low again */
	}
	unload(p);
}

/* curl: swallow the reply. */
static size_t
bench_discard(char *d, size_t size, size_t n, void *ctx)
{
	(void)d;
	(void)ctx;
	return size * n;
}

/* PUT /api/status with a bare libcurl (the bare clients need it acquiring). */
static void
bare_mode(struct oe_emu *e, const char *mode)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL,
	    "Content-Type: application/json");
	char url[64], body[64];

	snprintf(url, sizeof url, "http://127.0.0.1:%u/api/status",
	    e->http_port);
	snprintf(body, sizeof body, "{\"mode\":\"%s\"}", mode);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, bench_discard);
	curl_easy_perform(c);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
}

/* Stimulation latency through a bare REQ: TTL on, its reply, TTL off. */
static void
bench_stim_bare_req(struct oe_emu *e, void *zctx, int n, double *out,
    size_t *nout)
{
	void *s = zmq_socket(zctx, ZMQ_REQ);
	char endpoint[64], text[64], reply[128];
	size_t cursor;
	int64_t t;
	long long trig;
	int i, zero = 0;

	*nout = 0;
	zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
	snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%u", e->ne_port);
	zmq_connect(s, endpoint);
	oe_emu_read(e);
	cursor = e->nlines;
	for (i = 0; i < n; i++) {
		snprintf(text, sizeof text, "TTL Line=%d State=1", i % 8 + 1);
		t = oe_emu_now_us();
		zmq_send(s, text, strlen(text), 0);
		zmq_recv(s, reply, sizeof reply, 0);
		if ((trig = triggered(e, "network-events", &cursor)) > 0)
			out[(*nout)++] = (double)(trig - t) / 1e3;
		snprintf(text, sizeof text, "TTL Line=%d State=0", i % 8 + 1);
		zmq_send(s, text, strlen(text), 0);
		zmq_recv(s, reply, sizeof reply, 0);
	}
	zmq_close(s);
}

/* Stimulation latency through a bare libcurl PUT of ACQBOARD TRIGGER. */
static void
bench_stim_bare_put(struct oe_emu *e, int n, double *out, size_t *nout)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL,
	    "Content-Type: application/json");
	char url[64], body[96];
	size_t cursor;
	int64_t t;
	long long trig;
	int i;

	*nout = 0;
	snprintf(url, sizeof url, "http://127.0.0.1:%u/api/message",
	    e->http_port);
	oe_emu_read(e);
	cursor = e->nlines;
	for (i = 0; i < n; i++) {
		snprintf(body, sizeof body, "{\"text\":\"ACQBOARD TRIGGER %d "
		    "10\"}", i % 8 + 1);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, bench_discard);
		t = oe_emu_now_us();
		curl_easy_perform(c);
		if ((trig = triggered(e, "http", &cursor)) > 0)
			out[(*nout)++] = (double)(trig - t) / 1e3;
		{
			struct timespec ts = { 0, 30000000L };

			nanosleep(&ts, NULL);	/* the 10 ms pulse ends */
		}
	}
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
}

/* Print one stimulation row. */
static void
print_stim(const char *what, const char *peer, double *a, size_t na,
    double *b, size_t nb)
{
	double a50 = quantile(a, na, 0.5), a99 = quantile(a, na, 0.99);
	double b50 = quantile(b, nb, 0.5), b99 = quantile(b, nb, 0.99);

	printf("openephys stim %-22s p50 %7.3f ms p99 %7.3f ms (%zu)   %s "
	    "p50 %7.3f ms p99 %7.3f ms (%zu)   ratio p50 %.2f\n", what, a50,
	    a99, na, peer, b50, b99, nb, a50 / b50);
}

int
main(int argc, char **argv)
{
	struct oe_emu e;
	int seconds = argc > 1 ? atoi(argv[1]) : 10;
	int stims = argc > 2 ? atoi(argv[2]) : 50;
	double *a, *b;
	size_t na, nb;
	void *zctx;

	if (seconds < 2)
		seconds = 2;
	if (stims < 1)
		stims = 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	oe_test_host_init();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (oe_emu_start(&e, "--electrodes", "32", "--spike-rate", "10",
	    "--sample-rate", "30000", "--block-samples", "300", "--seed", "3",
	    NULL) != 0) {
		printf("bench-openephys: the emulator did not start (build "
		    "tests/oe-emu first)\n");
		return 1;
	}
	zctx = zmq_ctx_new();
	bench_spikes(&e, zctx, seconds);
	a = calloc((size_t)stims, sizeof *a);
	b = calloc((size_t)stims, sizeof *b);
	bench_stim_plugin(&e, "network_events", "network-events", stims, a,
	    &na);
	bare_mode(&e, "ACQUIRE");
	bench_stim_bare_req(&e, zctx, stims, b, &nb);
	bare_mode(&e, "IDLE");
	print_stim("TTL (Network Events):", "bare REQ", a, na, b, nb);
	bench_stim_plugin(&e, "broadcast", "http", stims, a, &na);
	bare_mode(&e, "ACQUIRE");
	bench_stim_bare_put(&e, stims, b, &nb);
	bare_mode(&e, "IDLE");
	print_stim("ACQBOARD TRIGGER (HTTP):", "bare PUT", a, na, b, nb);
	free(a);
	free(b);
	zmq_ctx_term(zctx);
	oe_emu_stop(&e);
	curl_global_cleanup();
	return 0;
}
