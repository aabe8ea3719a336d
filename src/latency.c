/* latency.c: per-path latency histograms (see latency.h). */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "latency.h"
#include "xmalloc.h"

#define LATENCY_FIRST_US 10.0	/* upper edge of bin 0 */
#define LATENCY_RATIO 1.03	/* each bin 3 % wider than the last */

static const char *const latency_names[LATENCY_KINDS] = {
	[LATENCY_SPIKE] = "spike",
	[LATENCY_ARRIVAL] = "arrival",
	[LATENCY_COMMAND] = "command",
	[LATENCY_OVERHEAD] = "overhead",
	[LATENCY_REMOTE] = "remote",
};

/* The name of a kind, as latency.csv writes it. */
const char *
latency_kind_name(enum latency_kind k)
{
	return k < LATENCY_KINDS ? latency_names[k] : "unknown";
}

/* The bin of a sample. */
static int
latency_bin(int64_t us)
{
	double	i;

	if (us < (int64_t)LATENCY_FIRST_US)
		return 0;
	i = floor(log((double)us / LATENCY_FIRST_US) / log(LATENCY_RATIO)) + 1;
	return i >= LATENCY_BINS ? LATENCY_BINS - 1 : (int)i;
}

/* The value a bin stands for (its geometric middle), microseconds. */
static double
latency_bin_us(int b)
{
	if (b == 0)
		return LATENCY_FIRST_US / 2;
	return LATENCY_FIRST_US * pow(LATENCY_RATIO, (double)b - 0.5);
}

/* Count one sample. */
static void
latency_hist_add(struct latency_hist *h, int b, int64_t us)
{
	h->bin[b]++;
	h->n++;
	if (us > h->max_us)
		h->max_us = us;
}

/* Add one sample at monotonic time now. */
void
latency_add(struct latency **lp, int64_t us, int64_t now)
{
	struct latency	*l = *lp;
	int		 b;

	if (l == NULL) {
		l = *lp = xcalloc(1, sizeof *l);
		l->half_start_us = l->older_start_us = now;
	}
	if (now - l->half_start_us >= 2 * LATENCY_HALF_US) {
		/* quiet for 20 s or more: both halves are over */
		memset(l->recent, 0, sizeof l->recent);
		l->half_start_us = l->older_start_us = now;
	} else if (now - l->half_start_us >= LATENCY_HALF_US) {
		/* the older half goes; the window is 10 to 20 s long */
		l->cur ^= 1;
		memset(&l->recent[l->cur], 0, sizeof l->recent[l->cur]);
		l->older_start_us = l->half_start_us;
		l->half_start_us = now;
	}
	if (us < 0)
		us = 0;	/* clocks a few us apart: no time at all */
	b = latency_bin(us);
	latency_hist_add(&l->recent[l->cur], b, us);
	latency_hist_add(&l->period, b, us);
	latency_hist_add(&l->all, b, us);
}

/* p50, p99 and max of the sum of histograms a and b (b may be NULL). */
static int
latency_stat_of(const struct latency_hist *a, const struct latency_hist *b,
    struct latency_stat *st)
{
	uint64_t	n = a->n + (b != NULL ? b->n : 0), want50, want99, sum = 0;
	int64_t		max = a->max_us;
	double		v;
	int		i, got50 = 0;

	memset(st, 0, sizeof *st);
	if (n == 0)
		return -1;
	if (b != NULL && b->max_us > max)
		max = b->max_us;
	want50 = (n + 1) / 2;
	want99 = n - n / 100;	/* the sample at 99 %, rounding up */
	for (i = 0; i < LATENCY_BINS; i++) {
		sum += a->bin[i] + (b != NULL ? b->bin[i] : 0);
		v = latency_bin_us(i);
		if (v > (double)max)
			v = (double)max;
		if (!got50 && sum >= want50) {
			st->p50_ms = v / 1000;
			got50 = 1;
		}
		if (sum >= want99) {
			st->p99_ms = v / 1000;
			break;
		}
	}
	st->n = n;
	st->max_ms = (double)max / 1000;
	return 0;
}

/* The view's window: both halves, unless the older one is over 20 s old. */
int
latency_recent(const struct latency *l, int64_t now, struct latency_stat *st)
{
	const struct latency_hist *old;

	if (l == NULL) {
		memset(st, 0, sizeof *st);
		return -1;
	}
	if (now - l->half_start_us >= 2 * LATENCY_HALF_US) {
		memset(st, 0, sizeof *st);
		return -1;	/* nothing in the last 20 s */
	}
	old = now - l->half_start_us >= LATENCY_HALF_US ? NULL :
	    &l->recent[l->cur ^ 1];
	if (latency_stat_of(&l->recent[l->cur], old, st) != 0)
		return -1;
	st->window_s = (double)(now - (old != NULL ? l->older_start_us :
	    l->half_start_us)) / 1e6;
	return 0;
}

/* The whole session. */
int
latency_total(const struct latency *l, struct latency_stat *st)
{
	if (l == NULL) {
		memset(st, 0, sizeof *st);
		return -1;
	}
	return latency_stat_of(&l->all, NULL, st);
}

/* The samples since the last call, forgotten after. */
int
latency_take_period(struct latency *l, struct latency_stat *st)
{
	int	rc;

	if (l == NULL) {
		memset(st, 0, sizeof *st);
		return -1;
	}
	rc = latency_stat_of(&l->period, NULL, st);
	if (rc == 0)
		memset(&l->period, 0, sizeof l->period);
	return rc;
}

/* "p50 1.23 p99 4.56 ms (n 789)" of the window, or "-". */
void
latency_format(const struct latency *l, int64_t now, char *buf, size_t len)
{
	struct latency_stat	st;

	if (latency_recent(l, now, &st) != 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "p50 %.2f p99 %.2f ms (n %llu)", st.p50_ms,
		    st.p99_ms, (unsigned long long)st.n);
}

/* Free a path's samples (NULL is fine). */
void
latency_free(struct latency *l)
{
	free(l);
}
