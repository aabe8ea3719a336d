/*
 * relay-health.c: link health. Round-trip times of clock probes, failed
 * exchanges and gaps in the last 10 s, event rates, and the state:
 * down (not connected, or no successful exchange for 3 s), degraded (RTT
 * p99 over 50 ms and over twice the p50, a failure or gap in the last
 * 10 s, or the queue over a tenth of max_queue), up otherwise.
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relay.h"

#define RELAY_DEGRADED_P99_MS 50.0

/* CLOCK_MONOTONIC in microseconds (what the host's clock is built on). */
int64_t
relay_mono_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

/* Start with nothing known. */
void
relay_health_init(struct relay_health *h)
{
	memset(h, 0, sizeof *h);
	h->last_gap_us = INT64_MIN / 2;
}

/* One round-trip time, in milliseconds. */
void
relay_health_rtt(struct relay_health *h, double ms)
{
	h->rtt_ms[h->rtt_head] = ms;
	h->rtt_at[h->rtt_head] = relay_mono_us();
	h->rtt_head = (h->rtt_head + 1) % RELAY_RTT_SAMPLES;
	if (h->nrtt < RELAY_RTT_SAMPLES)
		h->nrtt++;
}

/* A successful exchange with the relay. */
void
relay_health_ok(struct relay_health *h, int64_t now_us)
{
	h->last_ok_us = now_us;
	h->connected = 1;
	h->tries_recent++;
}

/* A failed exchange (connection lost, timeout, server error). */
void
relay_health_fail(struct relay_health *h, int64_t now_us)
{
	h->fail_at[h->fail_head] = now_us;
	h->fail_head = (h->fail_head + 1) % 64;
	if (h->nfail < 64)
		h->nfail++;
	h->tries_recent++;
	h->connected = 0;
}

/* Update events/s in and out (once a second or so). */
void
relay_health_rates(struct relay_health *h, int64_t now_us)
{
	double	dt;

	if (h->rate_at_us == 0) {
		h->rate_at_us = now_us;
		h->rate_in = h->in_events;
		h->rate_out = h->out_events;
		return;
	}
	dt = (double)(now_us - h->rate_at_us) / 1e6;
	if (dt < 1.0)
		return;
	h->in_per_s = (double)(h->in_events - h->rate_in) / dt;
	h->out_per_s = (double)(h->out_events - h->rate_out) / dt;
	h->rate_at_us = now_us;
	h->rate_in = h->in_events;
	h->rate_out = h->out_events;
	/* Let the exchange count decay so loss covers recent tries. */
	h->tries_recent = h->tries_recent / 2;
}

/* Sort doubles. */
static int
relay_health_cmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return ((x > y) - (x < y));
}

/* RTT p50, p99 and jitter (mean change between consecutive samples). */
void
relay_health_rtt_stats(const struct relay_health *h,
    struct relay_rtt_stats *st)
{
	double	v[RELAY_RTT_SAMPLES], sum = 0;
	size_t	i, n = 0, first, k, j;
	int64_t	since = relay_mono_us() - RELAY_RTT_WINDOW_US;

	memset(st, 0, sizeof *st);
	first = (h->rtt_head + RELAY_RTT_SAMPLES - h->nrtt) % RELAY_RTT_SAMPLES;
	for (i = 0; i < h->nrtt; i++) {
		j = (first + i) % RELAY_RTT_SAMPLES;
		if (h->rtt_at[j] >= since)
			v[n++] = h->rtt_ms[j];
	}
	if (n == 0)
		return;
	for (i = 1; i < n; i++)
		sum += fabs(v[i] - v[i - 1]);
	st->jitter = n > 1 ? sum / (double)(n - 1) : 0;
	qsort(v, n, sizeof *v, relay_health_cmp);
	st->min = v[0];
	st->p50 = v[(n - 1) / 2];
	k = (size_t)ceil(0.99 * (double)n);
	st->p99 = v[k == 0 ? 0 : k - 1];
}

/* Failed exchanges in the last 10 s, as a percentage of exchanges. */
double
relay_health_loss(const struct relay_health *h, int64_t now_us,
    uint64_t tries)
{
	size_t		i;
	uint64_t	fails = 0;

	for (i = 0; i < h->nfail; i++) {
		if (h->fail_at[i] >= now_us - RELAY_RECENT_US)
			fails++;
	}
	if (fails == 0)
		return (0);
	if (tries < fails)
		tries = fails;
	return (100.0 * (double)fails / (double)tries);
}

/*
 * The link state from what was measured: connected, time since the last
 * successful exchange, RTT p50 and p99, loss, whether a gap happened in
 * the last 10 s, queue depth and its bound. A long link is not degraded
 * for its length: its p99 counts only past twice its p50 (a 150 ms link
 * to another continent is up while steady).
 */
enum sb_link_state
relay_link_state(int connected, int64_t since_ok_us, double p50_ms,
    double p99_ms, double loss_pct, int recent_gap, uint64_t queue,
    uint64_t max_queue)
{
	if (!connected || since_ok_us > RELAY_DOWN_AFTER_US)
		return (SB_LINK_DOWN);
	if ((p99_ms > RELAY_DEGRADED_P99_MS && p99_ms > 2 * p50_ms) ||
	    loss_pct > 0 || recent_gap || queue * 10 > max_queue)
		return (SB_LINK_DEGRADED);
	return (SB_LINK_UP);
}

/*
 * Why relay_link_state says what it says, for the link's detail (the same
 * arguments, then the last error the transport kept, or NULL): each rule
 * that holds, joined by "; ", into buf of len bytes ("" when up).
 */
void
relay_link_reason(char *buf, size_t len, int connected, int64_t since_ok_us,
    double p50_ms, double p99_ms, double loss_pct, int recent_gap,
    uint64_t queue, uint64_t max_queue, const char *last_error)
{
	size_t	 n = 0;
	int	 w;

#define REASON(...) do {						\
	if (n < len) {							\
		w = snprintf(buf + n, len - n, "%s", n > 0 ? "; " : "");	\
		n += w > 0 ? (size_t)w : 0;				\
	}								\
	if (n < len) {							\
		w = snprintf(buf + n, len - n, __VA_ARGS__);		\
		n += w > 0 ? (size_t)w : 0;				\
	}								\
} while (0)
	if (len == 0)
		return;
	buf[0] = '\0';
	if (!connected)
		REASON("no connection");
	else if (since_ok_us > RELAY_DOWN_AFTER_US)
		REASON("no exchange for %.0f s", (double)since_ok_us / 1e6);
	if (p99_ms > RELAY_DEGRADED_P99_MS && p99_ms > 2 * p50_ms)
		REASON("round trip p99 %.0f ms (p50 %.1f ms)", p99_ms, p50_ms);
	if (loss_pct > 0)
		REASON("%.0f %% of exchanges failed in the last %d s", loss_pct,
		    (int)(RELAY_RECENT_US / 1000000));
	if (recent_gap)
		REASON("a gap in the last %d s",
		    (int)(RELAY_RECENT_US / 1000000));
	if (queue * 10 > max_queue)
		REASON("%" PRIu64 " events queued (max_queue %" PRIu64 ")",
		    queue, max_queue);
	if (n > 0 && last_error != NULL && last_error[0] != '\0')
		REASON("last error: %s", last_error);
#undef REASON
}

/*
 * A timeout of round_trips of rtt_ms and 1 s, or floor_ms if that is
 * longer, and at most RELAY_TIMEOUT_MAX_MS (see relay.h).
 */
long
relay_timeout_ms(long floor_ms, int round_trips, double rtt_ms)
{
	double ms = round_trips * rtt_ms + 1000.0;

	if (!(ms > (double)floor_ms))	/* (NaN too) */
		return floor_ms;
	if (ms > RELAY_TIMEOUT_MAX_MS)
		return RELAY_TIMEOUT_MAX_MS;
	return (long)ms;
}
