/*
 * test-relay-e2e.c: the relay transport against the real synbridge-relay
 * on loopback over TLS: two sites, events exactly once and in order, the
 * clock offset, remote commands, and the same through a proxy that resets
 * and stalls connections.
 */
#include "config.h"

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "relay-test-host.h"
#include "relay.h"

#define TOKENS \
	"tok-padova padova s1 * */* *\n" \
	"tok-zurich zurich s1 * */* *\n"
/* and of other consoles behind zurich's address (a relay of a test's own) */
#define TOKENS_OTHERS TOKENS "tok-others others s1 * */* *\n"

static struct test_proc relay;

/*
 * Start one relay for every test. make check builds it first, so a relay
 * that does not start fails every test (it is not a skip).
 */
static int
group_setup(void **state)
{
	(void)state;
	if (test_relay_start(&relay, TOKENS, "spool") != 0) {
		fprintf(stderr, "# synbridge-relay (src/relay) did not start: "
		    "every test fails\n");
		return (-1);
	}
	return (0);
}

static int
group_teardown(void **state)
{
	test_proc_stop(&relay);
	return (0);
}

/* Load site with the relay at port; stream filter for readers. */
/* publish= for the sites loaded: stream (the default) or bodies. */
static const char *publish_mode = "stream";
/* batch_events= for the sites loaded (NULL: the default), and their relay */
static const char *batch_arg;
static const char *max_queue_arg;	/* max_queue= (NULL: the default) */
static const char *sites_arg;		/* sites= (NULL: the default) */
static struct test_proc *site_relay = &relay;

static void
load_site(struct sb_plugin *p, const char *site, const char *token, int port,
    const char *streams)
{
	static char	 url[2][64];
	static int	 k;
	const char	*kv[20];
	int		 i = 0;

	k = (k + 1) % 2;
	snprintf(url[k], sizeof url[k], "https://127.0.0.1:%d", port);
	kv[i++] = "url";
	kv[i++] = url[k];
	kv[i++] = "token";
	kv[i++] = token;
	kv[i++] = "pin";
	kv[i++] = site_relay->pin;
	if (batch_arg != NULL) {
		kv[i++] = "batch_events";
		kv[i++] = batch_arg;
	}
	if (max_queue_arg != NULL) {
		kv[i++] = "max_queue";
		kv[i++] = max_queue_arg;
	}
	if (sites_arg != NULL) {
		kv[i++] = "sites";
		kv[i++] = sites_arg;
	}
	kv[i++] = "from";
	kv[i++] = "start";
	if (streams != NULL) {
		kv[i++] = "streams";
		kv[i++] = streams;
	}
	kv[i++] = "publish";
	kv[i++] = publish_mode;
	kv[i] = NULL;
	assert_int_equal(test_relay_load(p, site, kv), 0);
	assert_non_null(p->t.send);
}

/* Poll both sites for up to 200 us. */
static void
pump(struct sb_plugin *a, struct sb_plugin *b)
{
	struct timespec	ts = { 0, 200000 };

	a->t.poll(a->data);
	b->t.poll(b->data);
	nanosleep(&ts, NULL);
}

/* Publish n events (index 0..n-1) in chunks of k, pacing by pace_us. */
static void
publish(struct sb_plugin *a, struct sb_plugin *b, const char *stream,
    uint32_t n, uint32_t k, int64_t pace_us)
{
	struct sb_event	*ev = calloc(k, sizeof *ev);
	uint32_t	 i, j;
	int64_t		 next = test_mono_us();

	for (i = 0; i < n; i += k) {
		for (j = 0; j < k && i + j < n; j++) {
			ev[j].t_us = 1000 + i + j;
			ev[j].kind = SB_EV_SPIKE;
			ev[j].index = i + j;
		}
		assert_int_equal(a->t.send(a->data, stream, ev, j), 0);
		next += pace_us;
		while (test_mono_us() < next)
			pump(a, b);
		a->t.poll(a->data);
		b->t.poll(b->data);
	}
	free(ev);
}

/* Wait until b has n events (deadline ms); returns whether it has. */
static int
wait_received(struct sb_plugin *a, struct sb_plugin *b, uint64_t n, int ms)
{
	int64_t	deadline = test_mono_us() + (int64_t)ms * 1000;

	while (b->received < n && test_mono_us() < deadline)
		pump(a, b);
	return (b->received == n);
}

/* 200k events from padova reach zurich exactly once, in order. */
static void
test_publish_read(void **state)
{
	struct sb_plugin	a, b;
	struct sb_link_health	h;
	int64_t			deadline;
	char			name[32], filter[48];

	/* a stream of its own for each publish= mode */
	snprintf(name, sizeof name, "mea-%s", publish_mode);
	snprintf(filter, sizeof filter, "padova/%s", name);
	load_site(&b, "zurich", "tok-zurich", relay.port, filter);
	load_site(&a, "padova", "tok-padova", relay.port, "-/-");
	publish(&a, &b, name, 200000, 1000, 500);
	if (!wait_received(&a, &b, 200000, 10000))
		fail_msg("zurich got %" PRIu64 " of 200000", b.received);
	assert_int_equal(b.disorder, 0);
	assert_int_equal(b.gaps, 0);
	/* Nothing more arrives (no doubles). */
	deadline = test_mono_us() + 200000;
	while (test_mono_us() < deadline)
		pump(&a, &b);
	assert_int_equal(b.received, 200000);
	/* The publisher's queue empties and its link is not down. */
	deadline = test_mono_us() + 5000000;
	do {
		pump(&a, &b);
		assert_int_equal(a.t.health(a.data, &h, 1), 1);
	} while ((h.queue != 0 || h.state != SB_LINK_UP) &&
	    test_mono_us() < deadline);
	assert_int_equal(h.queue, 0);
	assert_int_not_equal(h.state, SB_LINK_DOWN);
	assert_true(h.rtt_ms > 0);
	assert_true(h.last_batch_age_s >= 0 && h.last_batch_age_s < 10);
	fprintf(stderr, "# padova link: rtt %.3f ms p99 %.3f ms jitter %.3f "
	    "ms, offset %.3f +- %.3f ms\n", h.rtt_ms, h.rtt_p99_ms,
	    h.jitter_ms, h.offset_ms, h.uncertainty_ms);
	test_relay_unload(&a);
	test_relay_unload(&b);
}

/* libcurl: append to a growing string. */
static size_t
metric_body(char *data, size_t size, size_t n, void *arg)
{
	char	**buf = arg;
	size_t	  old = *buf != NULL ? strlen(*buf) : 0;

	*buf = realloc(*buf, old + size * n + 1);
	memcpy(*buf + old, data, size * n);
	(*buf)[old + size * n] = '\0';
	return (size * n);
}

/* libcurl: drop what comes. */
static size_t
discard(char *data, size_t size, size_t n, void *arg)
{
	(void)data;
	(void)arg;
	return (size * n);
}

/*
 * One figure of site_relay's /metrics, as it is printed with its labels
 * (0 if it is not there).
 */
static uint64_t
relay_metric(const char *name)
{
	CURL		*c = curl_easy_init();
	char		 url[64], want[96], *body = NULL, *at;
	uint64_t	 v = 0;

	snprintf(url, sizeof url, "https://127.0.0.1:%d/metrics",
	    site_relay->port);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, site_relay->pin);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, metric_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_cleanup(c);
	snprintf(want, sizeof want, "\n%s ", name);
	if (body != NULL && (at = strstr(body, want)) != NULL)
		v = strtoull(at + strlen(want), NULL, 10);
	free(body);
	return (v);
}

/*
 * A console keeps a stream list waiting at the relay (GET /v1/streams
 * ?known=V&hold=2): the relay answers it when a stream is listed, and
 * the stream another site registers later is read from its first batch.
 */
static void
test_held_stream_list(void **state)
{
	struct sb_plugin	a, b;
	int64_t			deadline;

	(void)state;
	load_site(&b, "zurich", "tok-zurich", relay.port, "padova/held");
	deadline = test_mono_us() + 10000000;
	while (relay_metric("synbridge_relay_held_lists") < 1) {
		b.t.poll(b.data);
		assert_true(test_mono_us() < deadline);
		usleep(20000);
	}
	load_site(&a, "padova", "tok-padova", relay.port, "-/-");
	publish(&a, &b, "held", 1000, 100, 1000);
	if (!wait_received(&a, &b, 1000, 10000))
		fail_msg("zurich got %" PRIu64 " of 1000", b.received);
	assert_int_equal(b.gaps, 0);
	assert_int_equal(b.disorder, 0);
	/* and asks again: a list is held once more */
	deadline = test_mono_us() + 10000000;
	while (relay_metric("synbridge_relay_held_lists") < 1) {
		pump(&a, &b);
		assert_true(test_mono_us() < deadline);
	}
	test_relay_unload(&a);
	test_relay_unload(&b);
}

/* Has the reader's network thread paused its read (the engine behind)? */
static int
read_paused(struct sb_plugin *b)
{
	struct relay_client	*c = b->data;
	int			 paused;

	pthread_mutex_lock(&c->in_lock);
	paused = c->in_paused;
	pthread_mutex_unlock(&c->in_lock);
	return (paused);
}

/*
 * A reader whose engine stops polling: its network thread pauses the read
 * once more than RELAY_IN_PAUSE events wait for poll, and the read goes
 * on, with nothing lost or doubled, once poll takes them. (How soon it
 * goes on is not checked: the network thread also wakes for its own
 * timers, at least every second.)
 */
static void
test_paused_read_goes_on(void **state)
{
	struct sb_plugin	 a, b;
	struct sb_event		*ev;
	struct timespec		 nap = { 0, 200000 };
	const uint32_t		 n = RELAY_IN_PAUSE + 1000000, k = 8192;
	uint32_t		 i, j;
	int64_t			 deadline;
	int			 sent = 1, first = 0, paused = 0, all = 0;
	uint64_t		 at_pause = 0;

	batch_arg = "8192";
	max_queue_arg = "10000000";
	load_site(&b, "zurich", "tok-zurich", relay.port, "padova/paused");
	load_site(&a, "padova", "tok-padova", relay.port, "-/-");
	batch_arg = max_queue_arg = NULL;
	/* zurich reads the stream (its first event) before the rest is sent */
	ev = calloc(k, sizeof *ev);
	ev[0].t_us = 1000;
	ev[0].kind = SB_EV_SPIKE;
	if (a.t.send(a.data, "paused", ev, 1) != 0 ||
	    !(first = wait_received(&a, &b, 1, 10000)))
		goto out;
	for (i = 1; i < n && sent; i += j) {
		for (j = 0; j < k && i + j < n; j++) {
			ev[j].t_us = 1000 + i + j;
			ev[j].kind = SB_EV_SPIKE;
			ev[j].index = i + j;
		}
		sent = a.t.send(a.data, "paused", ev, j) == 0;
		a.t.poll(a.data);	/* zurich's engine does not poll */
	}
	if (!sent)
		goto out;
	/* zurich's read pauses with more than RELAY_IN_PAUSE events waiting */
	deadline = test_mono_us() + 20000000;
	while (!(paused = read_paused(&b)) && test_mono_us() < deadline) {
		a.t.poll(a.data);
		nanosleep(&nap, NULL);
	}
	at_pause = b.received;
	/* once it polls, every event arrives, in order, once */
	all = wait_received(&a, &b, n, 30000);
	/* and nothing more */
	deadline = test_mono_us() + 300000;
	while (test_mono_us() < deadline)
		pump(&a, &b);
out:
	/* (unloaded before any check fails: their threads use a and b) */
	free(ev);
	test_relay_unload(&a);
	test_relay_unload(&b);
	if (!first || !sent)
		fail_msg("padova/paused did not start (sent %d, read %d)", sent,
		    first);
	assert_true(paused);
	assert_int_equal(at_pause, 1);
	if (!all)
		fail_msg("zurich got %" PRIu64 " of %u", b.received, n);
	assert_int_equal(b.received, n);
	assert_int_equal(b.disorder, 0);
	assert_int_equal(b.gaps, 0);
}

/* The offset maps CLOCK_MONOTONIC to the relay's session time. */
static void
test_clock_offset(void **state)
{
	struct sb_plugin	a, b;
	char			path[160];
	FILE			*f;
	long long		epoch = 0;
	int64_t			off, unc, expected, deadline, rt, mono;

	load_site(&a, "padova", "tok-padova", relay.port, "-/-");
	load_site(&b, "zurich", "tok-zurich", relay.port, "-/-");
	/* A first burst of probes gives a sub-millisecond bound. */
	deadline = test_mono_us() + 5000000;
	while ((b.clock_updates == 0 || b.uncertainty_us >= 500 ||
	    a.clock_updates == 0 || a.uncertainty_us >= 500) &&
	    test_mono_us() < deadline)
		pump(&a, &b);
	assert_true(b.clock_updates > 0);
	assert_int_equal(b.t.clock_offset(b.data, &off, &unc), 0);
	snprintf(path, sizeof path, "%s/spool/s1/epoch", relay.dir);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%lld", &epoch), 1);
	fclose(f);
	mono = test_mono_us();
	rt = test_real_us();
	expected = rt - epoch - mono;
	fprintf(stderr, "# offset error %+lld us, uncertainty %lld us, "
	    "sites differ by %lld us\n", (long long)(off - expected),
	    (long long)unc, (long long)(b.offset_us - a.offset_us));
	assert_true(unc < 500);
	assert_true(llabs(off - expected) < 1000);
	/* Each estimate is within its uncertainty of the truth. */
	assert_true(llabs(b.offset_us - a.offset_us) <=
	    a.uncertainty_us + b.uncertainty_us + 50);
	test_relay_unload(&a);
	test_relay_unload(&b);
}

/* A command goes to zurich, its result comes back to padova. */
static void
test_remote_command(void **state)
{
	struct sb_plugin	a, b;
	char			*cause = NULL;
	int64_t			deadline;

	load_site(&a, "padova", "tok-padova", relay.port, "-/-");
	load_site(&b, "zurich", "tok-zurich", relay.port, "-/-");
	assert_int_equal(a.t.command(a.data, "zurich", 77, "stim 3 1.0 200",
	    &cause), 0);
	deadline = test_mono_us() + 5000000;
	while (b.commands == 0 && test_mono_us() < deadline)
		pump(&a, &b);
	assert_int_equal(b.commands, 1);
	assert_string_equal(b.command_from, "padova");
	assert_int_equal(b.command_id, 77);
	assert_string_equal(b.command_line, "stim 3 1.0 200");
	assert_int_equal(b.t.command_result(b.data, "padova", 77, 0,
	    "stimulated 3\nat 1.0 V"), 0);
	while (a.results == 0 && test_mono_us() < deadline)
		pump(&a, &b);
	assert_int_equal(a.results, 1);
	assert_int_equal(a.result_id, 77);
	assert_int_equal(a.result_status, 0);
	assert_string_equal(a.result_text, "stimulated 3\nat 1.0 V");
	/* A bad target is refused at once. */
	assert_int_equal(a.t.command(a.data, "zu rich", 78, "x", &cause), -1);
	assert_non_null(cause);
	free(cause);
	test_relay_unload(&a);
	test_relay_unload(&b);
}

/*
 * Through resets and stalls: the publisher and the reader each behind a
 * proxy that resets and stalls their first connections; still everything
 * arrives, once, in order.
 */
static void
test_faulty_network(void **state)
{
	static const char	*pub_rules[] = { "1-8:reset=20000",
		"9:stall=600@2000", "10-11:reset=60000", NULL };
	static const char	*read_rules[] = { "1-6:reset=40000",
		"7:stall=500@10000", "8:reset=100000", NULL };
	struct test_proc	 pa, pb;
	struct sb_plugin	 a, b;
	struct sb_link_health	 h;
	char			 name[32], filter[48];

	if (test_proxy_start(&pa, relay.port, pub_rules) != 0 ||
	    test_proxy_start(&pb, relay.port, read_rules) != 0)
		fail_msg("tests/tcp-proxy did not start");
	snprintf(name, sizeof name, "faulty-%s", publish_mode);
	snprintf(filter, sizeof filter, "padova/%s", name);
	load_site(&b, "zurich", "tok-zurich", pb.port, filter);
	load_site(&a, "padova", "tok-padova", pa.port, "-/-");
	publish(&a, &b, name, 60000, 200, 1000);
	if (!wait_received(&a, &b, 60000, 15000))
		fail_msg("zurich got %" PRIu64 " of 60000", b.received);
	assert_int_equal(b.disorder, 0);
	assert_int_equal(b.gaps, 0);
	a.t.health(a.data, &h, 1);
	fprintf(stderr, "# through the proxies: %" PRIu64 " retransmits, "
	    "loss %.1f%%\n", h.retransmits, h.loss_pct);
	test_relay_unload(&a);
	test_relay_unload(&b);
	test_proc_stop(&pa);
	test_proc_stop(&pb);
}

/* Bodies of a's that began before the answer to the one they follow. */
static uint64_t
followed(struct sb_plugin *a)
{
	struct relay_client	*rc = a->data;
	uint64_t		 n;

	pthread_mutex_lock(&rc->stat_lock);
	n = rc->health.followed;
	pthread_mutex_unlock(&rc->stat_lock);
	return (n);
}

/*
 * 20000 events from padova over a long link (through a proxy with rules)
 * reach zurich once, in order, without a gap. With cut, the link
 * breaks (the proxy stops, and starts again on its port) just as a
 * publish body has begun before the answer to the one it follows, both
 * in flight. Returns those bodies.
 */
static uint64_t
long_link(const char *name, const char **rules, int cut)
{
	struct test_proc	 pa;
	struct sb_plugin	 a, b;
	struct sb_link_health	 h;
	struct sb_event		 ev[50];
	char			 filter[48];
	uint32_t		 i, j;
	uint64_t		 n;
	int64_t			 next;
	int			 port, was_cut = 0;

	if (test_proxy_start(&pa, relay.port, rules) != 0)
		fail_msg("tests/tcp-proxy did not start");
	port = pa.port;
	snprintf(filter, sizeof filter, "padova/%s", name);
	load_site(&b, "zurich", "tok-zurich", relay.port, filter);
	load_site(&a, "padova", "tok-padova", port, "-/-");
	next = test_mono_us();
	for (i = 0; i < 20000; i += 50) {
		for (j = 0; j < 50; j++) {
			ev[j].t_us = 1000 + i + j;
			ev[j].kind = SB_EV_SPIKE;
			ev[j].index = i + j;
		}
		assert_int_equal(a.t.send(a.data, name, ev, 50), 0);
		next += 5000;
		while (test_mono_us() < next) {
			pump(&a, &b);
			if (cut && !was_cut && followed(&a) > 0) {
				was_cut = 1;
				test_proc_stop(&pa);
				if (test_proxy_start_on(&pa, port, relay.port,
				    rules) != 0)
					fail_msg("tests/tcp-proxy did not "
					    "start again on port %d", port);
			}
		}
	}
	if (!wait_received(&a, &b, 20000, 60000))
		fail_msg("zurich got %" PRIu64 " of 20000", b.received);
	assert_int_equal(b.disorder, 0);
	assert_int_equal(b.gaps, 0);
	a.t.health(a.data, &h, 1);
	n = followed(&a);
	fprintf(stderr, "# %s: %" PRIu64 " bodies began before the answer "
	    "to the one they follow; %" PRIu64 " retransmits\n", name, n,
	    h.retransmits);
	if (cut)
		assert_true(was_cut);
	test_relay_unload(&a);
	test_relay_unload(&b);
	test_proc_stop(&pa);
	return (n);
}

/* Each event's delivery latency (now - its t_us, mono), microseconds. */
struct latencies {
	int64_t		 v[4096];
	size_t		 n;
	uint32_t	 next;		/* the index expected next */
	unsigned	 disorder;
};

static void
on_deliver_latency(struct sb_plugin *p, const char *site, const char *stream,
    const struct sb_event *ev, size_t n)
{
	struct latencies	*l = p->ctx;
	int64_t			 now = test_mono_us();
	size_t			 i;

	(void)site;
	(void)stream;
	for (i = 0; i < n; i++) {
		if (l->n < sizeof l->v / sizeof l->v[0])
			l->v[l->n++] = now - ev[i].t_us;
		if (ev[i].index != l->next)
			l->disorder++;
		l->next = ev[i].index + 1;
	}
	p->received += n;
}

static int
cmp_i64(const void *x, const void *y)
{
	int64_t	a = *(const int64_t *)x, b = *(const int64_t *)y;

	return ((a > b) - (a < b));
}

/*
 * Sparse spikes over a long link (padova's link 300 ms there and back):
 * 10 events every 25 ms, so every publish body ends for having nothing to
 * carry. The next events must not wait for the answers: before, with both
 * publish slots waiting for theirs, events arrived up to a round trip
 * after the link's own 150 ms; now they take the link's time.
 */
static void
test_long_link_sparse(void **state)
{
	static const char	*rules[] = { "*:latency=150", NULL };
	struct test_proc	 pa;
	struct sb_plugin	 a, b;
	struct sb_event		 ev[10];
	struct latencies	*l;
	uint32_t		 i, j, k = 0;
	int64_t			 next, p50 = 0, p90 = 0;
	int			 got = 0;
	unsigned		 disorder;

	if (test_proxy_start(&pa, relay.port, rules) != 0)
		fail_msg("tests/tcp-proxy did not start");
	l = calloc(1, sizeof *l);
	load_site(&b, "zurich", "tok-zurich", relay.port, "padova/sparse");
	load_site(&a, "padova", "tok-padova", pa.port, "-/-");
	b.on_deliver = on_deliver_latency;
	b.ctx = l;
	/* the link is up and read: the first event arrived */
	memset(ev, 0, sizeof ev);
	ev[0].t_us = test_mono_us();
	ev[0].kind = SB_EV_SPIKE;
	if (a.t.send(a.data, "sparse", ev, 1) != 0 ||
	    !wait_received(&a, &b, 1, 20000))
		goto out;
	/*
	 * 1.5 s unmeasured first: the second publish slot's connection is
	 * made (its TLS handshake takes 1.5 round trips) when it is first
	 * needed.
	 */
	next = test_mono_us();
	for (i = 0; i < 180; i++) {
		if (i == 60) {
			if (!wait_received(&a, &b, 1 + 600, 20000))
				goto out;
			l->n = 0;
			next = test_mono_us();
		}
		while (test_mono_us() < next)
			pump(&a, &b);
		for (j = 0; j < 10; j++) {
			ev[j].t_us = test_mono_us();
			ev[j].kind = SB_EV_SPIKE;
			ev[j].index = ++k;
		}
		if (a.t.send(a.data, "sparse", ev, 10) != 0)
			goto out;
		next += 25000;
	}
	if (!wait_received(&a, &b, 1 + 1800, 20000))
		goto out;
	got = 1;
	qsort(l->v, l->n, sizeof l->v[0], cmp_i64);
	p50 = l->v[l->n / 2];
	p90 = l->v[l->n * 9 / 10];
	fprintf(stderr, "# sparse over 150 ms each way: p50 %.1f ms, p90 %.1f "
	    "ms, max %.1f ms\n", (double)p50 / 1000, (double)p90 / 1000,
	    (double)l->v[l->n - 1] / 1000);
out:
	/* (unloaded before any check fails: their threads use a and b) */
	test_relay_unload(&a);
	test_relay_unload(&b);
	test_proc_stop(&pa);
	disorder = l->disorder;
	free(l);
	if (!got)
		fail_msg("zurich got %" PRIu64 " of 1801 events", b.received);
	assert_int_equal(b.gaps, 0);
	assert_int_equal(disorder, 0);
	/*
	 * The link's 150 ms and 40 ms for a loaded machine (the old rule:
	 * p50 222 ms, p90 273 ms, here).
	 */
	assert_true(p50 < 190000);
	assert_true(p90 < 230000);
}

/*
 * Clock probes over a very long link (a satellite hop: 500 ms each way).
 * One on a new connection takes its TCP handshake, its TLS handshake and
 * its request: some 3 s, where a probe had 2 s and failed, counted against
 * the link. Their time now follows the round trip: none fails.
 */
static void
test_probes_very_long_link(void **state)
{
	static const char	*rules[] = { "*:latency=500", NULL };
	struct test_proc	 pb;
	struct sb_plugin	 a;
	struct relay_client	*c;
	struct relay_rtt_stats	 st;
	int64_t			 deadline;
	size_t			 nrtt = 0, nfail = 0;

	(void)state;
	memset(&st, 0, sizeof st);
	if (test_proxy_start(&pb, relay.port, rules) != 0)
		fail_msg("tests/tcp-proxy did not start");
	load_site(&a, "padova", "tok-padova", pb.port, "-/-");
	c = a.data;
	/* six probes answered, or a failure of any exchange */
	deadline = test_mono_us() + 90000000;
	while (test_mono_us() < deadline) {
		pthread_mutex_lock(&c->stat_lock);
		nrtt = c->health.nrtt;
		nfail = c->health.nfail;
		relay_health_rtt_stats(&c->health, &st);
		pthread_mutex_unlock(&c->stat_lock);
		if (nrtt >= 6 || nfail > 0)
			break;
		usleep(50000);
	}
	test_relay_unload(&a);
	test_proc_stop(&pb);
	fprintf(stderr, "# over 500 ms each way: %zu probes, %zu failures, "
	    "RTT p50 %.0f ms\n", nrtt, nfail, st.p50);
	assert_int_equal(nfail, 0);
	assert_true(nrtt >= 6);
	assert_true(st.p50 >= 900);	/* the link's round trip was measured */
}

/* What zurich gets of padova's steady stream and of the one declared late. */
struct switching {
	int64_t		 last;		/* the last steady batch's arrival */
	int64_t		 measure_from;	/* gaps counted from here, 0: not yet */
	int64_t		 worst;		/* the longest wait between them */
	uint64_t	 steady, late;
};

static void
on_deliver_switch(struct sb_plugin *p, const char *site, const char *stream,
    const struct sb_event *ev, size_t n)
{
	struct switching	*w = p->ctx;
	int64_t			 now = test_mono_us();

	(void)site;
	(void)ev;
	if (strcmp(stream, "late") == 0)
		w->late += n;
	else {
		if (w->measure_from != 0 && w->last != 0 &&
		    now - (w->last > w->measure_from ? w->last :
		    w->measure_from) > w->worst)
			w->worst = now - (w->last > w->measure_from ? w->last :
			    w->measure_from);
		w->last = now;
		w->steady += n;
	}
	p->received += n;
}

/*
 * Publish padova's steady stream, one event every 10 ms, until *got is
 * not 0 and 1 s more; 0, or -1 at the deadline or a refused send.
 */
static int
steady_until(struct sb_plugin *a, struct sb_plugin *b, const uint64_t *got,
    uint64_t *sent, int64_t deadline)
{
	struct sb_event	ev;
	int64_t		next = test_mono_us(), until = 0;

	memset(&ev, 0, sizeof ev);
	ev.kind = SB_EV_SPIKE;
	while (test_mono_us() < deadline) {
		if (test_mono_us() >= next) {
			ev.t_us = test_mono_us();
			if (a->t.send(a->data, "steady", &ev, 1) != 0)
				return (-1);
			(*sent)++;
			next += 10000;
			if (*got > 0 && until == 0)
				until = test_mono_us() + 1000000;
			if (until != 0 && test_mono_us() >= until)
				return (0);
		}
		pump(a, b);
	}
	return (-1);
}

/* The relay's streaming reads open. */
#define READ_CLIENTS "synbridge_relay_read_clients"
/* New connections it refused at --max-per-ip. */
#define REFUSED_IP "synbridge_relay_refused_total{limit=\"max-per-ip\"}"

/*
 * Pump a and b until the relay's figure name is n (deadline ms, asking
 * every 50 ms); the last figure.
 */
static uint64_t
wait_metric(struct sb_plugin *a, struct sb_plugin *b, const char *name,
    uint64_t n, int ms)
{
	int64_t		deadline = test_mono_us() + (int64_t)ms * 1000, next;
	uint64_t	v;

	while ((v = relay_metric(name)) != n && test_mono_us() < deadline) {
		next = test_mono_us() + 50000;
		while (test_mono_us() < next)
			pump(a, b);
	}
	return (v);
}

/*
 * A stream declared while another is read, over a long link (zurich's,
 * 500 ms each way): the read that asks for both takes over from the one
 * that reads, which reads on while the new one is asked, so the stream
 * already read never stops, and then ends. When the read was cut and
 * asked again, the steady stream stopped for at least the request's round
 * trip (1 s here; 404 ms at 200 ms each way; with a new connection and
 * its TLS handshake, two round trips more).
 */
static void
test_read_switch_keeps_streams(void **state)
{
	static const char	*rules[] = { "*:latency=500", NULL };
	struct test_proc	 pb;
	struct sb_plugin	 a, b;
	struct sb_event		 ev;
	struct switching	 w;
	int64_t			 deadline;
	uint64_t		 sent = 0, reads_before = 0, reads_after = 0;
	int			 switched = 0, ok = 0;

	(void)state;
	memset(&w, 0, sizeof w);
	memset(&ev, 0, sizeof ev);
	ev.kind = SB_EV_SPIKE;
	if (test_proxy_start(&pb, relay.port, rules) != 0)
		fail_msg("tests/tcp-proxy did not start");
	load_site(&a, "padova", "tok-padova", relay.port, "-/-");
	load_site(&b, "zurich", "tok-zurich", pb.port,
	    "padova/steady,padova/late");
	b.on_deliver = on_deliver_switch;
	b.ctx = &w;
	/* the steady stream is read: one every 10 ms, for 1 s after it came */
	deadline = test_mono_us() + 30000000;
	if (steady_until(&a, &b, &w.steady, &sent, deadline) != 0)
		goto out;
	/* zurich's read is the relay's only one (earlier tests' are gone) */
	if ((reads_before = wait_metric(&a, &b, READ_CLIENTS, 1, 10000)) != 1)
		goto out;
	/* the late stream: its first event, then 1 s more of the steady */
	w.measure_from = test_mono_us();
	ev.t_us = w.measure_from;
	if (a.t.send(a.data, "late", &ev, 1) != 0 || steady_until(&a, &b,
	    &w.late, &sent, test_mono_us() + 30000000) != 0)
		goto out;
	switched = 1;
	/* and every steady event came once: what was sent, then no more */
	deadline = test_mono_us() + 20000000;
	while (w.steady < sent && test_mono_us() < deadline)
		pump(&a, &b);
	deadline = test_mono_us() + 300000;
	while (test_mono_us() < deadline)
		pump(&a, &b);
	/* and the read it replaced ended: one read open again */
	reads_after = wait_metric(&a, &b, READ_CLIENTS, 1, 10000);
	ok = w.late == 1 && switched && w.steady == sent;
	fprintf(stderr, "# the steady stream's longest wait while the read "
	    "switched: %.1f ms\n", (double)w.worst / 1000);
out:
	test_relay_unload(&a);
	test_relay_unload(&b);
	test_proc_stop(&pb);
	if (!ok)
		fail_msg("zurich got %" PRIu64 " steady events of %" PRIu64
		    " sent and %" PRIu64 " late of 1", w.steady, sent, w.late);
	assert_int_equal(b.gaps, 0);
	assert_int_equal(reads_before, 1);
	assert_int_equal(reads_after, 1);
	/*
	 * 10 ms apart, and up to 600 ms on a loaded machine (a make -j2
	 * check beside two busy loops once held it 350 ms); cut: 1 s and more
	 */
	assert_true(w.worst < 600000);
}

/*
 * Pump a and b until b has logged a line with s (deadline ms); whether
 * it has.
 */
static int
wait_logged(struct sb_plugin *a, struct sb_plugin *b, const char *s, int ms)
{
	int64_t	deadline = test_mono_us() + (int64_t)ms * 1000;

	while (!fake_plugin_logged(b, s) && test_mono_us() < deadline)
		pump(a, b);
	return (fake_plugin_logged(b, s));
}

/*
 * The relay restarts without its spool (a new life of the session) while
 * zurich, 300 ms each way from it, is away, and padova declares the late
 * stream meanwhile. Zurich comes back and reads again with the old life's
 * id and place of the steady stream (1, after its 3rd batch): in the new
 * life id 1 is steady again, from batch 1. Once the listing tells of the
 * new life, that read is cut and asked again in place. A successor
 * instead would leave it reading on, and the new life's 4th batch, sent at
 * once, would come on it before the successor's first: a false gap of
 * batches 1-3, which then come as duplicates and are dropped.
 */
static void
test_new_life_read_in_place(void **state)
{
	static const char	*rules[] = { "*:latency=300", NULL };
	struct test_proc	 own, pb;
	struct sb_plugin	 a, b;
	struct sb_link_health	 h;
	struct sb_event		 ev;
	struct switching	 w;
	const char		*step;
	int64_t			 deadline;
	uint64_t		 sent = 0, reads = 0;
	int			 port;

	(void)state;
	memset(&w, 0, sizeof w);
	memset(&ev, 0, sizeof ev);
	ev.kind = SB_EV_SPIKE;
	if (test_relay_start(&own, TOKENS, NULL) != 0)
		fail_msg("a relay without a spool did not start");
	if (test_proxy_start(&pb, own.port, rules) != 0)
		fail_msg("tests/tcp-proxy did not start");
	port = pb.port;
	site_relay = &own;
	load_site(&a, "padova", "tok-padova", own.port, "-/-");
	load_site(&b, "zurich", "tok-zurich", port,
	    "padova/steady,padova/late");
	b.on_deliver = on_deliver_switch;
	b.ctx = &w;
	step = "zurich read 3 batches of the steady stream, each alone";
	while (sent < 3) {
		ev.t_us = test_mono_us();
		if (a.t.send(a.data, "steady", &ev, 1) != 0)
			goto out;
		sent++;
		deadline = test_mono_us() + 20000000;
		while (w.steady < sent && test_mono_us() < deadline)
			pump(&a, &b);
		if (w.steady < sent)
			goto out;
	}
	step = "the relay started again without its spool, zurich away";
	test_proc_stop(&pb);
	if (test_relay_restart(&own, NULL) != 0)
		goto out;
	step = "padova registered steady and the late stream in the new life";
	ev.t_us = test_mono_us();
	if (a.t.send(a.data, "late", &ev, 1) != 0 || wait_metric(&a, &b,
	    "synbridge_relay_streams", 2, 20000) != 2)
		goto out;
	deadline = test_mono_us() + 20000000;
	do {
		pump(&a, &b);
		a.t.health(a.data, &h, 1);
	} while (h.queue != 0 && test_mono_us() < deadline);
	if (h.queue != 0)
		goto out;
	step = "zurich came back and its listing told of the new life";
	b.nlogs = 0;
	if (test_proxy_start_on(&pb, port, own.port, rules) != 0 ||
	    !wait_logged(&a, &b, "started a new life", 30000))
		goto out;
	step = "the steady stream went on at once, until 1 s after late came";
	if (steady_until(&a, &b, &w.late, &sent, test_mono_us() + 30000000)
	    != 0)
		goto out;
	step = NULL;
	/* every steady event came once, the old life's and the new's */
	deadline = test_mono_us() + 20000000;
	while (w.steady < sent && test_mono_us() < deadline)
		pump(&a, &b);
	deadline = test_mono_us() + 300000;
	while (test_mono_us() < deadline)
		pump(&a, &b);
	/* and one read is open */
	reads = wait_metric(&a, &b, READ_CLIENTS, 1, 10000);
out:
	test_relay_unload(&a);
	test_relay_unload(&b);
	test_proc_stop(&pb);
	test_proc_stop(&own);
	site_relay = &relay;
	if (step != NULL)
		fail_msg("not so: %s", step);
	if (w.steady != sent || w.late != 1)
		fail_msg("zurich got %" PRIu64 " steady events of %" PRIu64
		    " sent and %" PRIu64 " late of 1 (%" PRIu64 " gaps)",
		    w.steady, sent, w.late, b.gaps);
	assert_int_equal(b.gaps, 0);
	assert_int_equal(reads, 1);
}

/*
 * Open connections from the address from to site_relay that show a
 * token (other consoles behind the same NAT), into held[0..max-1], until
 * the relay refuses one at its --max-per-ip: how many it took, or -1 (none
 * kept) if it refused none.
 */
static int
fill_address(CURL **held, int max, const char *from)
{
	CURL			*c;
	struct curl_slist	*hdrs;
	char			 url[64], iface[32];
	int			 n;
	CURLcode		 rc;

	snprintf(url, sizeof url, "https://127.0.0.1:%d/v1/health",
	    site_relay->port);
	snprintf(iface, sizeof iface, "host!%s", from);
	hdrs = curl_slist_append(NULL, "Authorization: Bearer tok-others");
	for (n = 0; n < max; n++) {
		c = curl_easy_init();
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_INTERFACE, iface);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
		curl_easy_setopt(c, CURLOPT_PINNEDPUBLICKEY, site_relay->pin);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
		rc = curl_easy_perform(c);
		if (rc != CURLE_OK) {
			curl_easy_cleanup(c);
			break;
		}
		/* (its connection stays open in c) */
		held[n] = c;
	}
	curl_slist_free_all(hdrs);
	if (n < max)
		return (n);
	while (n > 0)
		curl_easy_cleanup(held[--n]);
	return (-1);
}

/*
 * A stream declared while zurich, 200 ms each way from the relay, reads
 * another, with zurich's address at the relay's --max-per-ip (other
 * consoles behind its NAT hold the rest): the successor read asks on a
 * connection of its own, which the relay refuses at once. That is no
 * failure of the link: zurich's link stays up, says nothing and loses no
 * exchange. The read is asked again in place instead (its connection
 * gives way to the new one; the relay may refuse that one too until it
 * sees the cut one close, and it is asked again), so the steady stream
 * arrives once with no gap, the late stream is read, and one read is
 * open again.
 */
static void
test_successor_refused_in_place(void **state)
{
	static const char	*rules[] = { "*:latency=200",
		"*:from=127.0.0.2", NULL };
	struct test_proc	 own, pb;
	struct sb_plugin	 a, b;
	struct sb_link_health	 h;
	struct sb_event		 ev;
	struct switching	 w;
	CURL			*held[64];
	const char		*step;
	int64_t			 deadline;
	uint64_t		 sent = 0, refused = 0, reads = 0;
	int			 i, nheld = 0, logs = -1;

	(void)state;
	memset(&w, 0, sizeof w);
	memset(&ev, 0, sizeof ev);
	memset(&h, 0, sizeof h);
	ev.kind = SB_EV_SPIKE;
	if (test_relay_start(&own, TOKENS_OTHERS, "--max-per-ip 16") != 0)
		fail_msg("a relay with --max-per-ip 16 did not start");
	if (test_proxy_start(&pb, own.port, rules) != 0)
		fail_msg("tests/tcp-proxy did not start");
	site_relay = &own;
	/*
	 * sites=no: the other sites' exchange would be one more that may
	 * need a connection while the address is at its bound (its refusal
	 * is quiet, but it can leave a clock probe or the list to open the
	 * one more instead); this test is about the reads'.
	 */
	sites_arg = "no";
	load_site(&a, "padova", "tok-padova", own.port, "-/-");
	load_site(&b, "zurich", "tok-zurich", pb.port,
	    "padova/steady,padova/late");
	sites_arg = NULL;
	b.on_deliver = on_deliver_switch;
	b.ctx = &w;
	step = "zurich read the steady stream (one read open) for 1 s";
	if (steady_until(&a, &b, &w.steady, &sent, test_mono_us() + 30000000)
	    != 0 || wait_metric(&a, &b, READ_CLIENTS, 1, 10000) != 1)
		goto out;
	step = "the relay refused a connection from 127.0.0.2 (--max-per-ip "
	    "16) once the others held the rest";
	if ((nheld = fill_address(held, 64, "127.0.0.2")) < 0)
		goto out;
	refused = relay_metric(REFUSED_IP);
	step = "the late stream was declared and came, and 1 s more of the "
	    "steady one";
	b.nlogs = 0;
	ev.t_us = test_mono_us();
	if (a.t.send(a.data, "late", &ev, 1) != 0 || steady_until(&a, &b,
	    &w.late, &sent, test_mono_us() + 30000000) != 0)
		goto out;
	step = NULL;
	/* every steady event came once */
	deadline = test_mono_us() + 20000000;
	while (w.steady < sent && test_mono_us() < deadline)
		pump(&a, &b);
	deadline = test_mono_us() + 300000;
	while (test_mono_us() < deadline)
		pump(&a, &b);
	/* one read open, and the relay refused zurich a connection */
	reads = wait_metric(&a, &b, READ_CLIENTS, 1, 10000);
	refused = relay_metric(REFUSED_IP) - refused;
	/* (an exchange that failed in the last 10 s shows in loss_pct) */
	b.t.health(b.data, &h, 1);
	logs = b.nlogs;
out:
	test_relay_unload(&a);
	test_relay_unload(&b);
	for (i = 0; i < nheld; i++)
		curl_easy_cleanup(held[i]);
	test_proc_stop(&pb);
	test_proc_stop(&own);
	site_relay = &relay;
	if (step != NULL)
		fail_msg("not so: %s", step);
	if (w.steady != sent || w.late != 1)
		fail_msg("zurich got %" PRIu64 " steady events of %" PRIu64
		    " sent and %" PRIu64 " late of 1 (%" PRIu64 " gaps)",
		    w.steady, sent, w.late, b.gaps);
	assert_int_equal(b.gaps, 0);
	if (refused == 0)
		fail_msg("the relay refused no connection of zurich's at "
		    "--max-per-ip: the test proves nothing");
	if (h.state != SB_LINK_UP || h.loss_pct != 0 || logs != 0)
		fail_msg("zurich's link: state %d (up: %d), loss %.1f %%, %d "
		    "lines logged (the first: %s)", h.state, SB_LINK_UP,
		    h.loss_pct, logs, logs > 0 ? b.logs[0] : "-");
	assert_int_equal(reads, 1);
}

/*
 * Over a long link a stream's next publish body starts as the last one
 * ends (at 250 ms), not a round trip later when its answer comes.
 */
static const char *long_rules[] = { "*:latency=100", NULL };

static void
test_long_link_overlap(void **state)
{
	uint64_t	n;

	n = long_link("long", long_rules, 0);
	assert_true(n > 0);
}

/*
 * The link breaks with a body in flight and the one that follows it just
 * begun: nothing is lost or repeated.
 */
static void
test_long_link_broken(void **state)
{
	long_link("long-broken", long_rules, 1);
}

/* The same with the first connections reset after 60 kB, in mid-body. */
static void
test_long_link_resets(void **state)
{
	static const char	*rules[] = { "*:latency=100",
		"1-8:reset=60000", NULL };

	long_link("long-resets", rules, 0);
}

/*
 * With the relay unreachable, events beyond max_queue are dropped oldest
 * first, and the loss reaches the host as a gap (log and audit trail),
 * never silently.
 */
static void
test_queue_bound_is_a_gap(void **state)
{
	struct sb_plugin *p = fake_plugin_new("lonely", 1);
	struct sb_event ev[500];
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	char url[64];
	const char *kv[] = { "url", url, "token", "tok-lonely-site", "pin",
	    "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	    "max_queue", "1000", NULL };
	int fd, i;

	(void)state;
	/* a port nothing listens on */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(url, sizeof url, "https://127.0.0.1:%d", ntohs(sa.sin_port));
	close(fd);

	p->quiet = 1;
	assert_int_equal(test_relay_load(p, "lonely", kv), 0);
	memset(ev, 0, sizeof ev);
	for (i = 0; i < 500; i++) {
		ev[i].kind = SB_EV_SPIKE;
		ev[i].index = (uint32_t)i;
	}
	for (i = 0; i < 6; i++)
		p->t.send(p->data, "mea", ev, 500);
	p->t.poll(p->data);
	assert_int_equal(p->gaps, 1);
	assert_non_null(strstr(p->gap_why, "2000 events dropped unsent, the "
	    "oldest first: more than max_queue=1000"));
	/* and it is said once, not at every poll */
	p->t.poll(p->data);
	assert_int_equal(p->gaps, 1);
	test_relay_unload(p);
	free(p);
}

/*
 * An event of a kind the wire format has no record for (a plugin's bug)
 * cannot be sent: the others go, and its loss is a gap that says why,
 * not a max_queue overflow.
 */
static void
test_bad_kind_is_a_gap(void **state)
{
	struct sb_plugin	a, b;
	struct sb_event		ev[10];
	int64_t			deadline;
	int			i;

	(void)state;
	load_site(&b, "zurich", "tok-zurich", relay.port, "padova/odd");
	load_site(&a, "padova", "tok-padova", relay.port, "-/-");
	memset(ev, 0, sizeof ev);
	for (i = 0; i < 10; i++) {
		ev[i].t_us = 1000 + i;
		ev[i].kind = i == 4 ? 200 : SB_EV_SPIKE;
		ev[i].index = (uint32_t)i;
	}
	assert_int_equal(a.t.send(a.data, "odd", ev, 10), 0);
	if (!wait_received(&a, &b, 9, 10000))
		fail_msg("zurich got %" PRIu64 " of 9", b.received);
	deadline = test_mono_us() + 5000000;
	while (a.gaps == 0 && test_mono_us() < deadline)
		pump(&a, &b);
	assert_int_equal(a.gaps, 1);
	assert_non_null(strstr(a.gap_why, "1 events dropped unsent: their "
	    "kind has no record"));
	assert_null(strstr(a.gap_why, "max_queue"));
	assert_int_equal(b.gaps, 0);
	test_relay_unload(&a);
	test_relay_unload(&b);
}

/*
 * The CPU used so far by each of this process's relay network threads
 * (RELAY_NET_THREAD), from /proc/self/task/TID/stat, in clock ticks. The
 * engine's side of a test (the pump, the decoding it asks for) is not
 * theirs, and neither is what a test before left winding down.
 */
#define NET_CPU_MAX 16
struct net_cpu {
	int		 n;
	long		 tid[NET_CPU_MAX];
	unsigned long	 ticks[NET_CPU_MAX];
};

/* Take the figures now; a process with no such thread fails the test. */
static void
net_cpu_take(struct net_cpu *out)
{
	DIR		*d;
	struct dirent	*de;
	char		 path[300], comm[32], buf[1024], *p;
	unsigned long	 ut, st;
	FILE		*f;

	out->n = 0;
	if ((d = opendir("/proc/self/task")) == NULL)
		fail_msg("/proc/self/task: cannot read the threads' CPU");
	while ((de = readdir(d)) != NULL && out->n < NET_CPU_MAX) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/proc/self/task/%s/comm",
		    de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;	/* it ended meanwhile */
		if (fgets(comm, sizeof comm, f) == NULL)
			comm[0] = '\0';
		fclose(f);
		comm[strcspn(comm, "\n")] = '\0';
		if (strcmp(comm, RELAY_NET_THREAD) != 0)
			continue;
		snprintf(path, sizeof path, "/proc/self/task/%s/stat",
		    de->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		p = fgets(buf, sizeof buf, f);
		fclose(f);
		/* fields 14 and 15 (utime, stime) after "(comm) " */
		if (p == NULL || (p = strrchr(buf, ')')) == NULL ||
		    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
		    "%lu %lu", &ut, &st) != 2)
			continue;
		out->tid[out->n] = atol(de->d_name);
		out->ticks[out->n++] = ut + st;
	}
	closedir(d);
	if (out->n == 0)
		fail_msg("no thread named '%s' in this process: the test "
		    "measures nothing", RELAY_NET_THREAD);
}

/*
 * CPU seconds the network threads used from one take to a later one (a
 * thread that began meanwhile counts from nothing; one that ended, as a
 * resolver thread of libcurl named after its creator does, is left out).
 */
static double
net_cpu_since(const struct net_cpu *from, const struct net_cpu *to)
{
	unsigned long	 ticks = 0, before;
	int		 i, j;

	for (i = 0; i < to->n; i++) {
		before = 0;
		for (j = 0; j < from->n; j++) {
			if (from->tid[j] == to->tid[i])
				before = from->ticks[j];
		}
		ticks += to->ticks[i] - before;
	}
	return ((double)ticks / (double)sysconf(_SC_CLK_TCK));
}

/*
 * A relay that answers slowly (every chunk held 700 ms, so a clock probe
 * takes seconds): the network thread waits for the answers, it does not
 * spin. It used to poll without sleeping while a probe was in flight past
 * the time the next one was due (a whole core for as long as that lasts,
 * with 300 sites 300 threads doing it).
 */
static void
test_slow_relay_no_spin(void **state)
{
	static const char	*rules[] = { "*:delay=700", NULL };
	struct test_proc	 pa;
	struct sb_plugin	 a;
	struct timespec		 nap = { 0, 100000000 };
	struct net_cpu		 cpu0, cpu1;
	double			 cpu;
	int64_t			 t0, wall;
	int			 i;

	if (test_proxy_start(&pa, relay.port, rules) != 0)
		fail_msg("tests/tcp-proxy did not start");
	load_site(&a, "padova", "tok-padova", pa.port, "-/-");
	a.quiet = 1;
	net_cpu_take(&cpu0);
	t0 = test_mono_us();
	for (i = 0; i < 25; i++) {
		nanosleep(&nap, NULL);
		a.t.poll(a.data);
	}
	net_cpu_take(&cpu1);
	cpu = net_cpu_since(&cpu0, &cpu1);
	wall = test_mono_us() - t0;
	fprintf(stderr, "# %.3f s of CPU in %.3f s with every exchange slow\n",
	    cpu, (double)wall / 1e6);
	test_relay_unload(&a);
	test_proc_stop(&pa);
	/*
	 * spinning takes about 100 % of the wall time; waiting takes well
	 * under 1 % here, a TLS handshake or two more on a slow sanitized
	 * build: 10 % tells the two apart with room on either side
	 */
	if (cpu > 0.10 * (double)wall / 1e6)
		fail_msg("the network thread used %.2f s of CPU in %.2f s waiting "
		    "for a slow relay (it spins)", cpu, (double)wall / 1e6);
}

/*
 * A publish body whose link stops taking bytes (the proxy reads nothing
 * for 4 s once 1 MB has passed) while it still holds 9.6 MB to send: the
 * network thread waits for the socket to take bytes; it does not spin. It
 * used to take the body's idle time (20 ms after the last append, long
 * past) as due, and polled without sleeping until the socket took bytes
 * again: a whole core whenever a publisher outran its link, the CPU the
 * other sites and the relay on the same machine needed. The figure is the
 * quietest 100 ms of the 0.5 s window: a spin takes its thread's CPU in
 * every part of it, while work that ends (what arrived before the stall,
 * still being decoded; on a sanitized build, busy with other tests, that
 * took up to 0.3 s) is over by its end.
 */
static void
test_blocked_body_no_spin(void **state)
{
	static const char	*rules[] = { "*:stall=4000@1000000", NULL };
	struct test_proc	 pa;
	struct sb_plugin	 a, b;
	struct sb_event		*ev;
	struct timespec		 nap = { 0, 50000000 };
	struct net_cpu		 taken[11];
	int64_t			 at[11];
	double			 cpu = 0, use, least = 1e9;
	int64_t			 wall = 1, deadline, quiet_since;
	uint64_t		 last;
	uint32_t		 i, j, n = 800000, k = 10000;
	int			 ok, stalled;

	if (test_proxy_start(&pa, relay.port, rules) != 0)
		fail_msg("tests/tcp-proxy did not start");
	ev = calloc(k, sizeof *ev);
	load_site(&b, "zurich", "tok-zurich", relay.port, "padova/blocked");
	load_site(&a, "padova", "tok-padova", pa.port, "-/-");
	for (i = 0; i < n; i += k) {
		for (j = 0; j < k; j++) {
			ev[j].t_us = 1000 + i + j;
			ev[j].kind = SB_EV_SPIKE;
			ev[j].index = i + j;
		}
		assert_int_equal(a.t.send(a.data, "blocked", ev, k), 0);
	}
	/*
	 * The stall began: zurich got some of the first MB and then nothing
	 * for 50 ms (what was on its way is decoded, what the socket buffers
	 * took is encrypted). The old loop spun from then until the body
	 * ended at 4 times its age (1 s after it began, a few tens of ms
	 * before here): the window of 0.5 s falls in that time.
	 */
	deadline = test_mono_us() + 20000000;
	last = 0;
	quiet_since = test_mono_us();
	while (test_mono_us() < deadline &&
	    (b.received == 0 || test_mono_us() - quiet_since < 50000)) {
		pump(&a, &b);
		if (b.received != last) {
			last = b.received;
			quiet_since = test_mono_us();
		}
	}
	stalled = b.received > 0 && b.received < n;
	ok = 0;
	if (stalled) {
		net_cpu_take(&taken[0]);
		at[0] = test_mono_us();
		for (i = 1; i <= 10 && b.received < n; i++) {
			nanosleep(&nap, NULL);
			a.t.poll(a.data);
			b.t.poll(b.data);
			net_cpu_take(&taken[i]);
			at[i] = test_mono_us();
		}
		/* the window and its quietest 100 ms (two naps) */
		cpu = net_cpu_since(&taken[0], &taken[i - 1]);
		wall = at[i - 1] - at[0];
		for (j = 2; j < i; j++) {
			use = net_cpu_since(&taken[j - 2], &taken[j]) /
			    ((double)(at[j] - at[j - 2]) / 1e6);
			if (use < least)
				least = use;
		}
		fprintf(stderr, "# %.3f s of CPU in %.3f s with the link "
		    "stalled, %.0f %% of a core in its quietest 100 ms (%"
		    PRIu64 " of %u events through)\n", cpu,
		    (double)wall / 1e6, least * 100, b.received, n);
		/* then everything arrives once, in order */
		ok = wait_received(&a, &b, n, 30000);
	}
	test_relay_unload(&a);
	test_relay_unload(&b);
	test_proc_stop(&pa);
	free(ev);
	if (!stalled)
		fail_msg("the link did not stall with events unsent (zurich got "
		    "%" PRIu64 " of %u events): the test proves nothing",
		    b.received, n);
	if (!ok)
		fail_msg("zurich got %" PRIu64 " of %u events", b.received, n);
	assert_int_equal(b.gaps, 0);
	/* spinning took 100 % of the wall time here; waiting 1-3 % */
	if (i < 3)
		fail_msg("the window ended after %u naps: no figure", i - 1);
	if (least > 0.25)
		fail_msg("the network threads used %.0f %% of a core in the "
		    "quietest 100 ms of %.2f s with the link stalled (%.2f s in "
		    "all): they spin", least * 100, (double)wall / 1e6, cpu);
}

/* The same, with one publish request per body (publish=bodies). */
static void
test_publish_read_bodies(void **state)
{
	publish_mode = "bodies";
	test_publish_read(state);
	publish_mode = "stream";
}

/* Resets and stalls, with one publish request per body. */
static void
test_faulty_network_bodies(void **state)
{
	publish_mode = "bodies";
	test_faulty_network(state);
	publish_mode = "stream";
}

/* Per stream order: each of "big" and "little" from index 0 up. */
struct two_streams {
	uint32_t	next[2];
	uint64_t	disorder;
};

static void
on_deliver_two(struct sb_plugin *p, const char *site, const char *stream,
    const struct sb_event *ev, size_t n)
{
	struct two_streams	*t = p->ctx;
	uint32_t		*next = &t->next[strcmp(stream, "big") == 0];
	size_t			 i;

	(void)site;
	for (i = 0; i < n; i++) {
		if (ev[i].index != *next)
			t->disorder++;
		*next = ev[i].index + 1;
	}
	p->received += n;
}

/*
 * Sites a and b with batches of up to 3000 events on a relay of its own
 * with --max-body 16k (small); a reaches it through port (0: directly),
 * b counts each stream's order in order. ev: 3000 spikes, index 0 up.
 */
static void
small_relay_sites(struct test_proc *small, int port, struct sb_plugin *a,
    struct sb_plugin *b, struct two_streams *order, struct sb_event *ev)
{
	int	i;

	site_relay = small;
	batch_arg = "3000";
	load_site(b, "zurich", "tok-zurich", small->port, "padova/*");
	memset(order, 0, sizeof *order);
	b->on_deliver = on_deliver_two;
	b->ctx = order;
	load_site(a, "padova", "tok-padova", port != 0 ? port : small->port,
	    "-/-");
	site_relay = &relay;
	batch_arg = NULL;
	for (i = 0; i < 3000; i++) {
		ev[i].t_us = 1000 + i;
		ev[i].kind = SB_EV_SPIKE;
		ev[i].index = (uint32_t)i;
	}
}

/*
 * One batch alone over the relay's --max-body (3000 spikes, 36 KB, against
 * 16 KB) goes again split into batches that fit, also when another stream
 * of the site has batches to send beside it, and every spike arrives
 * once, in order.
 */
static void
test_split_batch_too_large(void **state)
{
	struct test_proc	 small;
	struct sb_plugin	 a, b;
	struct sb_event		*ev = calloc(3000, sizeof *ev);
	struct two_streams	 order;

	(void)state;
	if (test_relay_start(&small, TOKENS, "--max-body 16k") != 0) {
		free(ev);
		fail_msg("a relay with --max-body 16k did not start");
	}
	small_relay_sites(&small, 0, &a, &b, &order, ev);
	/* queued at once, before the streams are registered: one batch */
	assert_int_equal(a.t.send(a.data, "little", ev, 10), 0);
	assert_int_equal(a.t.send(a.data, "big", ev, 3000), 0);
	if (!wait_received(&a, &b, 3010, 20000))
		fail_msg("zurich got %" PRIu64 " of 3010", b.received);
	assert_true(fake_plugin_logged(&a, "the batch goes again, split"));
	assert_int_equal(order.disorder, 0);
	assert_int_equal(order.next[0], 10);
	assert_int_equal(order.next[1], 3000);
	assert_int_equal(b.gaps, 0);
	assert_int_equal(a.gaps, 0);
	test_relay_unload(&a);
	test_relay_unload(&b);
	test_proc_stop(&small);
	free(ev);
}

/*
 * The same over a long link (25 ms each way) with events still coming:
 * the refused body's stream is followed by another body at once, and the
 * split waits until neither is in flight, instead of never coming.
 */
static void
test_split_over_long_link(void **state)
{
	static const char	*rules[] = { "*:latency=25", NULL };
	struct test_proc	 small, pa;
	struct sb_plugin	 a, b;
	struct sb_event		*ev = calloc(3000, sizeof *ev);
	struct two_streams	 order;
	uint32_t		 next = 3000, j;
	int64_t			 t_end, t_next;

	(void)state;
	if (test_relay_start(&small, TOKENS, "--max-body 16k") != 0) {
		free(ev);
		fail_msg("a relay with --max-body 16k did not start");
	}
	if (test_proxy_start(&pa, small.port, rules) != 0)
		fail_msg("tests/tcp-proxy did not start");
	small_relay_sites(&small, pa.port, &a, &b, &order, ev);
	assert_int_equal(a.t.send(a.data, "big", ev, 3000), 0);
	/* 10 more every 5 ms for 3 s */
	t_end = test_mono_us() + 3000000;
	t_next = test_mono_us();
	while (t_next < t_end) {
		for (j = 0; j < 10; j++) {
			ev[j].t_us = 1000 + next + j;
			ev[j].kind = SB_EV_SPIKE;
			ev[j].index = next + j;
		}
		assert_int_equal(a.t.send(a.data, "big", ev, 10), 0);
		next += 10;
		t_next += 5000;
		while (test_mono_us() < t_next)
			pump(&a, &b);
	}
	if (!wait_received(&a, &b, next, 30000))
		fail_msg("zurich got %" PRIu64 " of %u", b.received, next);
	assert_true(fake_plugin_logged(&a, "the batch goes again, split"));
	assert_int_equal(order.disorder, 0);
	assert_int_equal(order.next[1], next);
	assert_int_equal(b.gaps, 0);
	assert_int_equal(a.gaps, 0);
	test_relay_unload(&a);
	test_relay_unload(&b);
	test_proc_stop(&pa);
	test_proc_stop(&small);
	free(ev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_publish_read),
		cmocka_unit_test(test_held_stream_list),
		cmocka_unit_test(test_publish_read_bodies),
		cmocka_unit_test(test_paused_read_goes_on),
		cmocka_unit_test(test_clock_offset),
		cmocka_unit_test(test_remote_command),
		cmocka_unit_test(test_faulty_network),
		cmocka_unit_test(test_faulty_network_bodies),
		cmocka_unit_test(test_long_link_overlap),
		cmocka_unit_test(test_long_link_sparse),
		cmocka_unit_test(test_probes_very_long_link),
		cmocka_unit_test(test_read_switch_keeps_streams),
		cmocka_unit_test(test_new_life_read_in_place),
		cmocka_unit_test(test_successor_refused_in_place),
		cmocka_unit_test(test_long_link_broken),
		cmocka_unit_test(test_long_link_resets),
		cmocka_unit_test(test_queue_bound_is_a_gap),
		cmocka_unit_test(test_bad_kind_is_a_gap),
		cmocka_unit_test(test_slow_relay_no_spin),
		cmocka_unit_test(test_blocked_body_no_spin),
		cmocka_unit_test(test_split_batch_too_large),
		cmocka_unit_test(test_split_over_long_link),
	};

	/* RELAY_E2E_ONLY=test_name (a glob) runs only that test */
	if (getenv("RELAY_E2E_ONLY") != NULL)
		cmocka_set_test_filter(getenv("RELAY_E2E_ONLY"));
	return (cmocka_run_group_tests(tests, group_setup, group_teardown));
}
