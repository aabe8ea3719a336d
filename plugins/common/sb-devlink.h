/*
 * sb-devlink.h: the life-cycle of a plugin's connection to a device (an
 * instrument on a serial port, an acquisition system over TCP, a partner
 * lab over UDP), shared by every plugin that talks to one.
 *
 * One thread per link runs the cycle:
 *
 *   down --connect()--> connecting --handshake()--> up --work()...
 *     ^                      |                       |
 *     +-- backoff <----------+ (failure)             +-- -1: resync:
 *     |                                              |   handshake() again
 *     +----------------------------------------------+-- -2: disconnect()
 *
 * Backoff between attempts grows exponentially from backoff_min_ms to
 * backoff_max_ms with +-25 % jitter (so sites that lost the same device
 * or relay do not retry in step) and resets after a successful handshake.
 * Every wait is interruptible: sb_devlink_stop() and sb_devlink_wake()
 * write to wake_fd, which work() polls beside its own descriptor.
 *
 * Plugin threads must not call the host (its log is not thread-safe):
 * messages are queued here and handed to host->log by sb_devlink_poll(),
 * which the plugin calls from an engine-thread callback (its struct
 * sb_link poll). A failure is logged once per cause, not once per retry;
 * recovery is logged with how long the link was down.
 *
 * Health: counters the plugin bumps (records in and out, malformed, out of
 * range, dropped) become a struct sb_link_health with rates over the last
 * interval, the age of the last record, the state and a detail text. Loss
 * is NaN (unknown) unless the plugin sets it.
 */
#ifndef SB_DEVLINK_H
#define SB_DEVLINK_H

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>

#include "synbridge-plugin.h"

#define SB_DEVLINK_MESSAGES 16		/* queued log lines (more: counted) */
#define SB_DEVLINK_TEXT 320	/* a reason with what to do fits */

enum sb_devlink_state {
	SB_DEVLINK_DOWN,	/* not connected; waiting to retry */
	SB_DEVLINK_CONNECTING,	/* connect() or handshake() running */
	SB_DEVLINK_UP,		/* in step, work() running */
};

/* What one device does at each step; ctx is the plugin's. */
struct sb_devlink_ops {
	/* Open the connection; 0, or -1 with *cause (malloc'd). */
	int (*connect)(void *ctx, char **cause);
	/* Bring the device into step (after connect and after a resync);
	 * 0, or -1 with *cause. NULL: nothing to do. */
	int (*handshake)(void *ctx, char **cause);
	/*
	 * One pass of work while up: wait (at most a few hundred ms, polling
	 * wake_fd too) for something to do and do it. 0: fine; -1: out of
	 * step (a timeout, a reply that does not parse): resync; -2: the
	 * connection is gone: disconnect and reconnect. *cause says why.
	 */
	int (*work)(void *ctx, char **cause);
	/* Close the connection (also called before a reconnect). */
	void (*disconnect)(void *ctx);
	/* Optional: the link went down or came up (for marking synapses
	 * offline, failing queued operations). Runs in the link thread. */
	void (*state_changed)(void *ctx, enum sb_devlink_state state,
	    const char *why);
};

struct sb_devlink {
	pthread_mutex_t lock;
	pthread_t thread;
	int started;
	volatile int stopping;
	int wake_fd[2];		/* pipe: [0] to poll, [1] to wake */
	const struct sb_devlink_ops *ops;
	void *ctx;
	char name[64];		/* the link's name: the plugin's name= */

	/* life-cycle (under lock) */
	enum sb_devlink_state state;
	char why[SB_DEVLINK_TEXT];	/* why it is down, or "" */
	char last_logged[SB_DEVLINK_TEXT];
	uint32_t backoff_min_ms, backoff_max_ms, backoff_ms;
	int64_t down_since_us;	/* CLOCK_MONOTONIC; 0 while up */
	int64_t up_since_us;	/* CLOCK_MONOTONIC of the last came-up */
	int64_t quiet_us;	/* up but nothing heard this long: degraded */
	uint64_t connects, resyncs, reconnects;
	uint64_t rng;

	/* counters (atomic, bumped from any thread) */
	uint64_t rx, tx, malformed, out_of_range, dropped;
	int64_t last_rx_us;	/* CLOCK_MONOTONIC of the last record in */
	char detail[160];	/* the far end's own state (under lock) */
	double loss_pct;	/* NaN: unknown */

	/* rates, computed by sb_devlink_health() (engine thread) */
	uint64_t rate_rx, rate_tx;
	int64_t rate_us;
	double rx_per_s, tx_per_s;

	/* queued log lines (under lock) */
	struct {
		enum sb_log_level level;
		char text[SB_DEVLINK_TEXT];
	} msg[SB_DEVLINK_MESSAGES];
	unsigned nmsg;
	uint64_t msg_lost;
};

/* CLOCK_MONOTONIC in microseconds. */
int64_t sb_devlink_mono_us(void);

/* Set up a link (not started); 0, or -1 with *cause. */
int sb_devlink_init(struct sb_devlink *l, const char *name,
    const struct sb_devlink_ops *ops, void *ctx, uint64_t seed,
    char **cause);
/*
 * A link that is up but has heard nothing for ms milliseconds (or nothing
 * at all since it came up) is shown degraded, with how long it has been
 * quiet: for protocols where silence is the only sign that the far end is
 * gone (UDP partners, a stream that stalls). 0 (default) turns it off.
 */
void sb_devlink_quiet(struct sb_devlink *l, uint32_t ms);
/* Backoff between attempts (defaults 250 ms .. 10 s). */
void sb_devlink_backoff(struct sb_devlink *l, uint32_t min_ms,
    uint32_t max_ms);
/* Start the link's thread; 0, or -1 with *cause. */
int sb_devlink_start(struct sb_devlink *l, char **cause);
/* Stop and join the thread (disconnects); safe if never started. */
void sb_devlink_stop(struct sb_devlink *l);
/* Free what init made (after stop). */
void sb_devlink_free(struct sb_devlink *l);
/* Interrupt a wait in work() (new work queued). */
void sb_devlink_wake(struct sb_devlink *l);
/* Drain the wake pipe (work() calls it when wake_fd[0] is readable). */
void sb_devlink_drain_wake(struct sb_devlink *l);
/* Is the link up? Any thread. */
int sb_devlink_is_up(struct sb_devlink *l);
/* Copy why the link is not up (or "") into buf. Any thread. */
void sb_devlink_why(struct sb_devlink *l, char *buf, size_t len);

/* Queue a log line (any thread); sb_devlink_poll() hands it over. */
void sb_devlink_log(struct sb_devlink *l, enum sb_log_level level,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Log only when the text differs from the last line logged this way. */
void sb_devlink_log_once(struct sb_devlink *l, enum sb_log_level level,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Engine thread: hand queued log lines to the host. */
void sb_devlink_poll(struct sb_devlink *l, const struct sb_host_api *host,
    struct sb_plugin *p);

/* Counters (any thread). */
void sb_devlink_count_rx(struct sb_devlink *l, uint64_t n);
void sb_devlink_count_tx(struct sb_devlink *l, uint64_t n);
void sb_devlink_count_malformed(struct sb_devlink *l, uint64_t n);
void sb_devlink_count_out_of_range(struct sb_devlink *l, uint64_t n);
void sb_devlink_count_dropped(struct sb_devlink *l, uint64_t n);
/* The far end's own state, shown after the figures. */
void sb_devlink_detail(struct sb_devlink *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Engine thread: one health row for the link pane and links.csv. */
void sb_devlink_health(struct sb_devlink *l, struct sb_link_health *h);

#endif
