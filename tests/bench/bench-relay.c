/*
 * bench-relay.c: publisher -> synbridge-relay -> subscriber over TLS on
 * loopback, with the real relay binary: event throughput for 100, 1000
 * and 8192 events per batch, end-to-end latency at 100 k events/s sent in
 * 1 ms chunks, and the raw TLS byte rate of one large read from the same
 * relay. Prints figures; never fails on a slow machine.
 */
#include "config.h"

#include <curl/curl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "relay-test-host.h"

#define TOKENS \
	"token-pub padova bench * */* *\n" \
	"token-sub zurich bench * */* *\n"

static struct test_proc relay;

struct lat {
	double	*v;
	size_t	 n, cap;
};

/* Latency per event: now - t_us (t_us was the send time, mono). */
static void
on_deliver_latency(struct sb_plugin *p, const char *site, const char *stream,
    const struct sb_event *ev, size_t n)
{
	struct lat	*l = p->ctx;
	int64_t		 now = test_mono_us();
	size_t		 i;

	for (i = 0; i < n; i++) {
		if (l->n < l->cap)
			l->v[l->n++] = (double)(now - ev[i].t_us);
	}
	p->received += n;
}

/* Load one site; extra key=value pairs after the common ones. */
static void
load(struct sb_plugin *p, const char *site, const char *token,
    const char *streams, const char *batch)
{
	static char	 url[64];
	const char	*kv[20];
	int		 i = 0;

	snprintf(url, sizeof url, "https://127.0.0.1:%d", relay.port);
	kv[i++] = "url";
	kv[i++] = url;
	kv[i++] = "token";
	kv[i++] = token;
	kv[i++] = "pin";
	kv[i++] = relay.pin;
	kv[i++] = "from";
	kv[i++] = "start";
	kv[i++] = "streams";
	kv[i++] = streams;
	kv[i++] = "max_queue";
	kv[i++] = "50000000";
	kv[i++] = "batch_events";
	kv[i++] = batch;
	kv[i] = NULL;
	if (test_relay_load(p, site, kv) != 0) {
		fprintf(stderr, "bench-relay: cannot load the transport\n");
		exit(1);
	}
	p->quiet = 1;
}

/* Poll both sites. */
static void
pump(struct sb_plugin *a, struct sb_plugin *b)
{
	a->t.poll(a->data);
	b->t.poll(b->data);
}

/*
 * Warm up: one event on the stream, until b reads it (b learns of a new
 * stream from its next stream list, up to 2 s later); then reset b.
 */
static void
settle(struct sb_plugin *a, struct sb_plugin *b, const char *stream)
{
	struct sb_event	ev;
	int64_t		deadline = test_mono_us() + 5000000;
	void		(*fn)(struct sb_plugin *, const char *, const char *,
			    const struct sb_event *, size_t) = b->on_deliver;

	memset(&ev, 0, sizeof ev);
	ev.kind = SB_EV_SPIKE;
	ev.t_us = test_mono_us();
	b->on_deliver = NULL;
	a->t.send(a->data, stream, &ev, 1);
	while (b->received == 0 && test_mono_us() < deadline)
		pump(a, b);
	b->on_deliver = fn;
	b->received = b->next_index = b->disorder = 0;
}

/* Throughput: n events in chunks of batch, as fast as they go. */
static void
bench_throughput(uint32_t batch, uint32_t n)
{
	struct sb_plugin	 a, b;
	struct sb_link_health	 h;
	struct sb_event		*ev;
	char			 stream[32], filter[48], bs[16];
	uint32_t		 i, j;
	int64_t			 t0, t1, deadline;
	struct timespec		 ts = { 0, 50000 };

	snprintf(stream, sizeof stream, "tp%u", batch);
	snprintf(filter, sizeof filter, "padova/%s", stream);
	snprintf(bs, sizeof bs, "%u", batch);
	load(&b, "zurich", "token-sub", filter, bs);
	load(&a, "padova", "token-pub", "-/-", bs);
	settle(&a, &b, stream);
	ev = calloc(batch, sizeof *ev);
	t0 = test_mono_us();
	for (i = 0; i < n; i += batch) {
		for (j = 0; j < batch; j++) {
			ev[j].t_us = 1000 + i + j;
			ev[j].kind = SB_EV_SPIKE;
			ev[j].index = i + j;
		}
		a.t.send(a.data, stream, ev, batch);
		if ((i / batch) % 64 == 0) {
			pump(&a, &b);
			/* Back-pressure: keep a few million in flight. */
			for (;;) {
				a.t.health(a.data, &h, 1);
				if (h.queue < 4000000)
					break;
				pump(&a, &b);
				nanosleep(&ts, NULL);
			}
		}
	}
	deadline = test_mono_us() + 60000000;
	while (b.received < n && test_mono_us() < deadline) {
		pump(&a, &b);
		nanosleep(&ts, NULL);
	}
	t1 = test_mono_us();
	printf("throughput, %5u events/batch: %10.0f events/s  (%u events "
	    "in %.3f s, %s, in order: %s)\n", batch,
	    (double)b.received / ((double)(t1 - t0) / 1e6), n,
	    (double)(t1 - t0) / 1e6, b.received == n ? "all arrived" :
	    "INCOMPLETE", b.disorder == 0 ? "yes" : "NO");
	free(ev);
	test_relay_unload(&a);
	test_relay_unload(&b);
}

/* Sort doubles. */
static int
cmp(const void *x, const void *y)
{
	double	a = *(const double *)x, b = *(const double *)y;

	return ((a > b) - (a < b));
}

/* Latency: 100 events every 1 ms for seconds s. */
static void
bench_latency(int seconds)
{
	struct sb_plugin	 a, b;
	struct sb_event		 ev[100];
	struct lat		 l;
	uint32_t		 k = 0, j;
	int64_t			 next, end, deadline;
	uint64_t		 sent = 0;
	struct timespec		 nap = { 0, 20000 };

	l.cap = (size_t)seconds * 100000 + 1000;
	l.v = calloc(l.cap, sizeof *l.v);
	l.n = 0;
	load(&b, "zurich", "token-sub", "padova/lat", "1000");
	b.on_deliver = on_deliver_latency;
	b.ctx = &l;
	load(&a, "padova", "token-pub", "-/-", "1000");
	settle(&a, &b, "lat");
	memset(ev, 0, sizeof ev);
	next = test_mono_us();
	end = next + (int64_t)seconds * 1000000;
	while (next < end) {
		while (test_mono_us() < next) {
			pump(&a, &b);
			nanosleep(&nap, NULL);
		}
		for (j = 0; j < 100; j++) {
			ev[j].t_us = test_mono_us();
			ev[j].kind = SB_EV_SPIKE;
			ev[j].index = k++;
		}
		a.t.send(a.data, "lat", ev, 100);
		sent += 100;
		next += 1000;
	}
	deadline = test_mono_us() + 5000000;
	while (b.received < sent && test_mono_us() < deadline)
		pump(&a, &b);
	qsort(l.v, l.n, sizeof *l.v, cmp);
	if (l.n > 0) {
		printf("latency at 100 k events/s (100 per 1 ms): p50 %.3f ms, "
		    "p99 %.3f ms, max %.3f ms over %zu events (targets p50 <= "
		    "0.15 ms, p99 <= 0.35 ms)\n", l.v[l.n / 2] / 1000,
		    l.v[(size_t)(0.99 * (double)l.n)] / 1000,
		    l.v[l.n - 1] / 1000, l.n);
	}
	free(l.v);
	test_relay_unload(&a);
	test_relay_unload(&b);
}

/* Count body bytes. */
static size_t
count_bytes(char *data, size_t size, size_t n, void *ctx)
{
	*(uint64_t *)ctx += size * n;
	return (size * n);
}

/* Raw TLS: one large non-streaming read of the stored tp8192 stream. */
static void
bench_raw_tls(void)
{
	CURL		*e;
	char		 url[128], *list = NULL;
	uint64_t	 bytes = 0, lbytes = 0;
	int64_t		 t0, t1;
	struct curl_slist *hdrs;
	unsigned	 id = 0;
	char		*p;

	e = curl_easy_init();
	hdrs = curl_slist_append(NULL, "Authorization: Bearer token-sub");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(e, CURLOPT_PINNEDPUBLICKEY, relay.pin);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(e, CURLOPT_CAINFO, NULL);
	/* Find the stream id of padova/tp8192. */
	snprintf(url, sizeof url, "https://127.0.0.1:%d/v1/streams",
	    relay.port);
	curl_easy_setopt(e, CURLOPT_URL, url);
	{
		FILE *m = open_memstream(&list, (size_t *)&lbytes);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, m);
		curl_easy_perform(e);
		fclose(m);
	}
	for (p = list; p != NULL && *p != '\0'; p = strchr(p, '\n') + 1) {
		unsigned i;
		char site[64], name[64];
		if (sscanf(p, "%u %63s %63s", &i, site, name) == 3 &&
		    strcmp(name, "tp8192") == 0)
			id = i;
		if (strchr(p, '\n') == NULL)
			break;
	}
	free(list);
	snprintf(url, sizeof url, "https://127.0.0.1:%d/v1/read?streams="
	    "%u:0&wait=0", relay.port, id);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, count_bytes);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &bytes);
	t0 = test_mono_us();
	curl_easy_perform(e);
	t1 = test_mono_us();
	printf("raw TLS through the relay (one %.1f MB read, curl): %.0f "
	    "MB/s = %.0f spike events/s at 12 bytes each\n",
	    (double)bytes / 1e6, (double)bytes / ((double)(t1 - t0)),
	    (double)bytes / 12 / ((double)(t1 - t0) / 1e6));
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(e);
}

int
main(void)
{
	/* Short naps in the polling loops really are short. */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	if (test_relay_start(&relay, TOKENS, NULL) != 0) {
		printf("bench-relay: synbridge-relay is not built; skipped\n");
		return (0);
	}
	printf("relay on 127.0.0.1:%d (TLS, pinned key)\n", relay.port);
	bench_throughput(100, 2000000);
	bench_throughput(1000, 4000000);
	bench_throughput(8192, 8192 * 2000);
	bench_latency(3);
	bench_raw_tls();
	test_proc_stop(&relay);
	return (0);
}
