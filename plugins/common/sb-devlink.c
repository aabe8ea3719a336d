/*
 * sb-devlink.c: the connection life-cycle shared by device plugins (see
 * sb-devlink.h). Compiled into each plugin that uses it: a plugin links
 * no host symbols.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sched-hint.h"
#include "sb-devlink.h"

/* CLOCK_MONOTONIC in microseconds. */
int64_t
sb_devlink_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A uniform number in [0, 1) from the link's own stream (splitmix64). */
static double
sb_devlink_uniform(struct sb_devlink *l)
{
	uint64_t z = (l->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	return (double)(z >> 11) / 9007199254740992.0;
}

/* Set up a link (not started). */
int
sb_devlink_init(struct sb_devlink *l, const char *name,
    const struct sb_devlink_ops *ops, void *ctx, uint64_t seed, char **cause)
{
	int i;

	memset(l, 0, sizeof *l);
	if (pipe(l->wake_fd) != 0) {
		if (cause != NULL && asprintf(cause, "%s: cannot make a pipe: "
		    "%s", name, strerror(errno)) == -1)
			*cause = NULL;
		return -1;
	}
	for (i = 0; i < 2; i++) {
		fcntl(l->wake_fd[i], F_SETFL, O_NONBLOCK);
		fcntl(l->wake_fd[i], F_SETFD, FD_CLOEXEC);
	}
	pthread_mutex_init(&l->lock, NULL);
	snprintf(l->name, sizeof l->name, "%s", name);
	l->ops = ops;
	l->ctx = ctx;
	l->rng = seed ^ 0x5eed5eed5eedULL;
	l->state = SB_DEVLINK_DOWN;
	snprintf(l->why, sizeof l->why, "not connected yet");
	l->backoff_min_ms = 250;
	l->backoff_max_ms = 10000;
	l->backoff_ms = l->backoff_min_ms;
	l->down_since_us = sb_devlink_mono_us();
	l->loss_pct = NAN;
	l->rate_us = sb_devlink_mono_us();
	return 0;
}

/* Up but silent for ms: degraded. */
void
sb_devlink_quiet(struct sb_devlink *l, uint32_t ms)
{
	pthread_mutex_lock(&l->lock);
	l->quiet_us = (int64_t)ms * 1000;
	pthread_mutex_unlock(&l->lock);
}

/* Backoff between attempts. */
void
sb_devlink_backoff(struct sb_devlink *l, uint32_t min_ms, uint32_t max_ms)
{
	if (min_ms == 0)
		min_ms = 1;
	if (max_ms < min_ms)
		max_ms = min_ms;
	l->backoff_min_ms = min_ms;
	l->backoff_max_ms = max_ms;
	l->backoff_ms = min_ms;
}

/* Interrupt a wait. */
void
sb_devlink_wake(struct sb_devlink *l)
{
	char c = 1;
	ssize_t n;

	n = write(l->wake_fd[1], &c, 1);	/* full pipe: already awake */
	(void)n;
}

/* Empty the wake pipe. */
void
sb_devlink_drain_wake(struct sb_devlink *l)
{
	char buf[64];

	while (read(l->wake_fd[0], buf, sizeof buf) > 0)
		;
}

/* Wait ms milliseconds unless woken or stopped. */
static void
sb_devlink_sleep(struct sb_devlink *l, uint32_t ms)
{
	int64_t deadline = sb_devlink_mono_us() + (int64_t)ms * 1000, left;
	struct pollfd pfd = { .fd = l->wake_fd[0], .events = POLLIN };

	while (!l->stopping) {
		left = (deadline - sb_devlink_mono_us()) / 1000;
		if (left <= 0)
			return;
		if (poll(&pfd, 1, (int)left) > 0)
			sb_devlink_drain_wake(l);
	}
}

/* Queue a log line (under lock). */
static void __attribute__((format(printf, 4, 0)))
sb_devlink_vlog(struct sb_devlink *l, enum sb_log_level level, int once,
    const char *fmt, va_list ap)
{
	char text[SB_DEVLINK_TEXT];

	vsnprintf(text, sizeof text, fmt, ap);
	pthread_mutex_lock(&l->lock);
	if (once && strcmp(text, l->last_logged) == 0) {
		pthread_mutex_unlock(&l->lock);
		return;
	}
	if (once)
		snprintf(l->last_logged, sizeof l->last_logged, "%s", text);
	if (l->nmsg < SB_DEVLINK_MESSAGES) {
		l->msg[l->nmsg].level = level;
		memcpy(l->msg[l->nmsg].text, text, sizeof text);
		l->nmsg++;
	} else
		l->msg_lost++;
	pthread_mutex_unlock(&l->lock);
}

/* Queue a log line. */
void
sb_devlink_log(struct sb_devlink *l, enum sb_log_level level,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sb_devlink_vlog(l, level, 0, fmt, ap);
	va_end(ap);
}

/* Queue a log line unless it repeats the last one logged this way. */
void
sb_devlink_log_once(struct sb_devlink *l, enum sb_log_level level,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sb_devlink_vlog(l, level, 1, fmt, ap);
	va_end(ap);
}

/* Engine thread: hand queued log lines to the host. */
void
sb_devlink_poll(struct sb_devlink *l, const struct sb_host_api *host,
    struct sb_plugin *p)
{
	struct {
		enum sb_log_level level;
		char text[SB_DEVLINK_TEXT];
	} msg[SB_DEVLINK_MESSAGES];
	unsigned i, n;
	uint64_t lost;

	pthread_mutex_lock(&l->lock);
	n = l->nmsg;
	memcpy(msg, l->msg, n * sizeof msg[0]);
	l->nmsg = 0;
	lost = l->msg_lost;
	l->msg_lost = 0;
	pthread_mutex_unlock(&l->lock);
	for (i = 0; i < n; i++)
		host->log(p, msg[i].level, "%s", msg[i].text);
	if (lost > 0)
		host->log(p, SB_LOG_WARNING, "%s: %llu more messages not shown "
		    "(too many at once)", l->name, (unsigned long long)lost);
}

/* Enter a state; tell the plugin. */
static void
sb_devlink_enter(struct sb_devlink *l, enum sb_devlink_state state,
    const char *why)
{
	pthread_mutex_lock(&l->lock);
	l->state = state;
	if (why != NULL)
		snprintf(l->why, sizeof l->why, "%s", why);
	else if (state == SB_DEVLINK_UP)
		l->why[0] = '\0';
	pthread_mutex_unlock(&l->lock);
	if (l->ops->state_changed != NULL)
		l->ops->state_changed(l->ctx, state, why != NULL ? why : "");
}

/* An attempt or the connection failed: down, said once per cause. */
static void
sb_devlink_fail(struct sb_devlink *l, const char *what, char *cause)
{
	char why[SB_DEVLINK_TEXT];
	const char *text = cause != NULL ? cause : what;
	size_t len = strlen(l->name);
	int was_up;

	/* the link's name is said where the reason is shown: not twice */
	if (strncmp(text, l->name, len) == 0 && text[len] == ':' &&
	    text[len + 1] == ' ')
		text += len + 2;
	snprintf(why, sizeof why, "%s", text);
	free(cause);
	pthread_mutex_lock(&l->lock);
	was_up = l->state == SB_DEVLINK_UP;
	if (was_up)
		l->down_since_us = sb_devlink_mono_us();
	pthread_mutex_unlock(&l->lock);
	sb_devlink_log_once(l, was_up ? SB_LOG_ERROR : SB_LOG_WARNING,
	    "%s: %s: %s (retrying with backoff)", l->name, what, why);
	sb_devlink_enter(l, SB_DEVLINK_DOWN, why);
}

/* Connected and in step: reset backoff, say so if it had been down. */
static void
sb_devlink_came_up(struct sb_devlink *l)
{
	int64_t now = sb_devlink_mono_us(), since;
	uint64_t connects;

	pthread_mutex_lock(&l->lock);
	since = l->down_since_us;
	l->down_since_us = 0;
	l->up_since_us = now;
	connects = ++l->connects;
	l->backoff_ms = l->backoff_min_ms;
	l->last_logged[0] = '\0';	/* the next failure is news */
	pthread_mutex_unlock(&l->lock);
	if (connects == 1)
		sb_devlink_log(l, SB_LOG_INFO, "%s: up", l->name);
	else
		sb_devlink_log(l, SB_LOG_WARNING, "%s: up again after %.1f s",
		    l->name, (now - since) / 1e6);
	sb_devlink_enter(l, SB_DEVLINK_UP, NULL);
}

/* The next wait before retrying: backoff with +-25 % jitter, then grow. */
static uint32_t
sb_devlink_next_wait(struct sb_devlink *l)
{
	double ms = l->backoff_ms * (0.75 + 0.5 * sb_devlink_uniform(l));

	l->backoff_ms = l->backoff_ms * 2 > l->backoff_max_ms ?
	    l->backoff_max_ms : l->backoff_ms * 2;
	return ms < 1 ? 1 : (uint32_t)ms;
}

/* Connect and bring into step; 0 when up. */
static int
sb_devlink_connect(struct sb_devlink *l)
{
	char *cause = NULL;

	sb_devlink_enter(l, SB_DEVLINK_CONNECTING, NULL);
	if (l->ops->connect(l->ctx, &cause) != 0) {
		sb_devlink_fail(l, "cannot connect", cause);
		return -1;
	}
	if (l->ops->handshake != NULL && l->ops->handshake(l->ctx,
	    &cause) != 0) {
		l->ops->disconnect(l->ctx);
		sb_devlink_fail(l, "no handshake", cause);
		return -1;
	}
	sb_devlink_came_up(l);
	return 0;
}

/* Work until the connection is lost or the link stops. */
static void
sb_devlink_serve(struct sb_devlink *l)
{
	char *cause;
	int rc;

	while (!l->stopping) {
		cause = NULL;
		rc = l->ops->work(l->ctx, &cause);
		if (rc == 0) {
			free(cause);
			continue;
		}
		if (rc == -1 && l->ops->handshake != NULL && !l->stopping) {
			__atomic_add_fetch(&l->resyncs, 1, __ATOMIC_RELAXED);
			sb_devlink_log_once(l, SB_LOG_WARNING, "%s: out of "
			    "step (%s): resynchronising", l->name, cause !=
			    NULL ? cause : "no reason given");
			free(cause);
			cause = NULL;
			if (l->ops->handshake(l->ctx, &cause) == 0)
				continue;
		}
		l->ops->disconnect(l->ctx);
		__atomic_add_fetch(&l->reconnects, 1, __ATOMIC_RELAXED);
		sb_devlink_fail(l, "connection lost", cause);
		return;
	}
	l->ops->disconnect(l->ctx);
	sb_devlink_enter(l, SB_DEVLINK_DOWN, "stopped");
}

/* The link's thread. */
static void *
sb_devlink_run(void *arg)
{
	struct sb_devlink *l = arg;

	/* it waits on the instrument and must answer at once (sched-hint.h) */
	(void)sb_sched_prefer_latency();
	while (!l->stopping) {
		if (sb_devlink_connect(l) != 0) {
			sb_devlink_sleep(l, sb_devlink_next_wait(l));
			continue;
		}
		sb_devlink_serve(l);
		if (!l->stopping)
			sb_devlink_sleep(l, sb_devlink_next_wait(l));
	}
	return NULL;
}

/* Start the thread. */
int
sb_devlink_start(struct sb_devlink *l, char **cause)
{
	int rc;

	l->stopping = 0;
	rc = pthread_create(&l->thread, NULL, sb_devlink_run, l);
	if (rc != 0) {
		if (cause != NULL && asprintf(cause, "%s: cannot start a "
		    "thread: %s", l->name, strerror(rc)) == -1)
			*cause = NULL;
		return -1;
	}
	l->started = 1;
	return 0;
}

/* Stop and join. */
void
sb_devlink_stop(struct sb_devlink *l)
{
	if (!l->started)
		return;
	l->stopping = 1;
	sb_devlink_wake(l);
	pthread_join(l->thread, NULL);
	l->started = 0;
}

/* Free what init made. */
void
sb_devlink_free(struct sb_devlink *l)
{
	sb_devlink_stop(l);
	close(l->wake_fd[0]);
	close(l->wake_fd[1]);
	pthread_mutex_destroy(&l->lock);
}

/* Is the link up? */
int
sb_devlink_is_up(struct sb_devlink *l)
{
	int up;

	pthread_mutex_lock(&l->lock);
	up = l->state == SB_DEVLINK_UP;
	pthread_mutex_unlock(&l->lock);
	return up;
}

/* Why the link is not up. */
void
sb_devlink_why(struct sb_devlink *l, char *buf, size_t len)
{
	pthread_mutex_lock(&l->lock);
	snprintf(buf, len, "%s", l->why);
	pthread_mutex_unlock(&l->lock);
}

/* Counters. */
void
sb_devlink_count_rx(struct sb_devlink *l, uint64_t n)
{
	__atomic_add_fetch(&l->rx, n, __ATOMIC_RELAXED);
	__atomic_store_n(&l->last_rx_us, sb_devlink_mono_us(),
	    __ATOMIC_RELAXED);
}

void
sb_devlink_count_tx(struct sb_devlink *l, uint64_t n)
{
	__atomic_add_fetch(&l->tx, n, __ATOMIC_RELAXED);
}

void
sb_devlink_count_malformed(struct sb_devlink *l, uint64_t n)
{
	__atomic_add_fetch(&l->malformed, n, __ATOMIC_RELAXED);
}

void
sb_devlink_count_out_of_range(struct sb_devlink *l, uint64_t n)
{
	__atomic_add_fetch(&l->out_of_range, n, __ATOMIC_RELAXED);
}

void
sb_devlink_count_dropped(struct sb_devlink *l, uint64_t n)
{
	__atomic_add_fetch(&l->dropped, n, __ATOMIC_RELAXED);
}

/* The far end's own state. */
void
sb_devlink_detail(struct sb_devlink *l, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&l->lock);
	va_start(ap, fmt);
	vsnprintf(l->detail, sizeof l->detail, fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&l->lock);
}

/* One health row: rates since the last call (at least 0.5 s apart). */
void
sb_devlink_health(struct sb_devlink *l, struct sb_link_health *h)
{
	int64_t now = sb_devlink_mono_us(), last;
	uint64_t rx = __atomic_load_n(&l->rx, __ATOMIC_RELAXED);
	uint64_t tx = __atomic_load_n(&l->tx, __ATOMIC_RELAXED);
	double dt = (now - l->rate_us) / 1e6;

	if (dt >= 0.5) {
		l->rx_per_s = (rx - l->rate_rx) / dt;
		l->tx_per_s = (tx - l->rate_tx) / dt;
		l->rate_rx = rx;
		l->rate_tx = tx;
		l->rate_us = now;
	}
	memset(h, 0, sizeof *h);
	snprintf(h->name, sizeof h->name, "%s", l->name);
	h->rtt_ms = h->rtt_p99_ms = h->jitter_ms = NAN;
	h->offset_ms = h->uncertainty_ms = h->drift_ppm = NAN;
	h->events_in_per_s = l->rx_per_s;
	h->events_out_per_s = l->tx_per_s;
	h->events_per_s = l->rx_per_s + l->tx_per_s;
	h->malformed = __atomic_load_n(&l->malformed, __ATOMIC_RELAXED);
	h->out_of_range = __atomic_load_n(&l->out_of_range,
	    __ATOMIC_RELAXED);
	h->gaps = __atomic_load_n(&l->dropped, __ATOMIC_RELAXED);
	h->retransmits = __atomic_load_n(&l->resyncs, __ATOMIC_RELAXED);
	last = __atomic_load_n(&l->last_rx_us, __ATOMIC_RELAXED);
	h->last_batch_age_s = last == 0 ? NAN : (now - last) / 1e6;
	pthread_mutex_lock(&l->lock);
	h->loss_pct = l->loss_pct;
	h->state = l->state == SB_DEVLINK_UP ? SB_LINK_UP : SB_LINK_DOWN;
	if (l->state == SB_DEVLINK_UP)
		snprintf(h->detail, sizeof h->detail, "%s", l->detail);
	else
		snprintf(h->detail, sizeof h->detail, "%.*s",
		    (int)sizeof h->detail - 1, l->why);
	/* silence is the only sign of a far end gone on some protocols */
	if (l->state == SB_DEVLINK_UP && l->quiet_us > 0) {
		int64_t heard = last > l->up_since_us ? last : l->up_since_us;

		if (now - heard > l->quiet_us) {
			h->state = SB_LINK_DEGRADED;
			snprintf(h->detail, sizeof h->detail, "nothing heard "
			    "for %.0f s%s; %.*s", (now - heard) / 1e6, last ==
			    0 ? " (nothing at all yet)" : "", 100, l->detail);
		}
	}
	pthread_mutex_unlock(&l->lock);
}
