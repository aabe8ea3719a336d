/*
 * latency.h: how long the loop takes, in wall-clock (session) time, per
 * path: a spike from its source to the synaptic input at the post unit
 * (per synapse), a spike from its source to this site (per relay link), a
 * typed command to the device and back, and what of that is beyond the
 * device's own time (per synapse), and a command run at another site
 * (per site). Samples go into histograms with bins 3 % wide from 10 us to
 * 100 s: p50 and p99 of the last 10 to 20 s for the views, of the whole
 * session for `latency`, and of each second for latency.csv.
 */
#ifndef SB_LATENCY_H
#define SB_LATENCY_H

#include <stdint.h>

#define LATENCY_BINS 546	/* 10 us x 1.03^i, i < 546: up to ~100 s */
#define LATENCY_HALF_US 10000000	/* the views' window, in halves */

/* What a path measures (latency.csv's kind column). */
enum latency_kind {
	LATENCY_SPIKE,		/* source spike -> synaptic input at post */
	LATENCY_ARRIVAL,	/* source spike -> delivered at this site */
	LATENCY_COMMAND,	/* typed -> device -> result shown */
	LATENCY_OVERHEAD,	/* the same less the device's own time */
	LATENCY_REMOTE,		/* typed 'at SITE ...' -> result shown */
	LATENCY_KINDS
};

/* One histogram. */
struct latency_hist {
	uint32_t	 bin[LATENCY_BINS];
	uint64_t	 n;
	int64_t		 max_us;
};

/* One path's samples. */
struct latency {
	struct latency_hist recent[2];	/* the view's window, two halves */
	int		 cur;
	int64_t		 half_start_us;	/* monotonic */
	int64_t		 older_start_us;	/* where the older half began */
	struct latency_hist period;	/* since the last latency.csv row */
	struct latency_hist all;	/* since the path's first sample */
};

/* Figures of a histogram (milliseconds); n 0 if it has no samples. */
struct latency_stat {
	uint64_t	 n;
	double		 p50_ms, p99_ms, max_ms;
	double		 window_s;	/* latency_recent: the span it covers */
};

/* "spike", "arrival", "command", "overhead", "remote". */
const char *latency_kind_name(enum latency_kind);
/* Add one sample of us (negative: 0) at monotonic time now; allocates. */
void	latency_add(struct latency **, int64_t, int64_t);
/*
 * The view's window (the last 10-20 s; st->window_s says how long); -1 if
 * it holds no sample.
 */
int	latency_recent(const struct latency *, int64_t, struct latency_stat *);
/* The whole session; -1 if there is no sample. */
int	latency_total(const struct latency *, struct latency_stat *);
/* The samples since the last call (and forget them); -1 if none. */
int	latency_take_period(struct latency *, struct latency_stat *);
/* "p50 1.23 p99 4.56 ms (n 789)" of the window, or "-" without one. */
void	latency_format(const struct latency *, int64_t, char *, size_t);
void	latency_free(struct latency *);

#endif
