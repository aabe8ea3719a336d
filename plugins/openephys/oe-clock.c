/*
 * oe-clock.c: sample numbers to session time, per stream (the method is
 * described in openephys.h). Pure: times come in as arguments.
 *
 * Each stream's sample time x = sample / rate is mapped to
 *
 *   t = x + offset + drift (x - x0)
 *
 * where x0 is the sample time of the stream's first event. Each event
 * gives an observation d = arrival - x, which is the offset plus this
 * event's delay (the GUI's block, the broadcaster, the network), never
 * less than the offset. The least d of each 1 s window is kept (the last
 * 32 windows); drift is the least-squares slope of the minima of the
 * closed windows, and the offset is placed under all of them (the lower envelope with that
 * slope), so the least delayed events map to their arrival and the others
 * to before it. A time is never later than its own arrival.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "openephys.h"

/* A window whose minimum lies this far above the fit: the clock jumped. */
#define OE_CLOCK_JUMP_US 1000000.0
/* The fit needs this many windows spanning this long. */
#define OE_CLOCK_FIT_MIN 3
#define OE_CLOCK_FIT_SPAN_US 2000000.0

/* Forget every stream (a new acquisition). */
void
oe_clock_reset(struct oe_clock *c)
{
	uint64_t resets = c->resets;

	memset(c, 0, sizeof *c);
	c->resets = resets + 1;
}

/* The stream named name: found, or a free slot, or the least used one. */
static struct oe_clock_stream *
oe_clock_stream(struct oe_clock *c, const char *name)
{
	struct oe_clock_stream *s, *pick = NULL;
	unsigned i;

	for (i = 0; i < OE_CLOCK_STREAMS; i++) {
		s = &c->s[i];
		if (s->used && strcmp(s->name, name) == 0)
			return s;
	}
	for (i = 0; i < OE_CLOCK_STREAMS; i++) {
		s = &c->s[i];
		if (!s->used) {
			pick = s;
			break;
		}
		if (pick == NULL || s->last_use < pick->last_use)
			pick = s;
	}
	memset(pick, 0, sizeof *pick);
	snprintf(pick->name, sizeof pick->name, "%s", name);
	return pick;
}

/* Start a stream over at this event. */
static void
oe_clock_start(struct oe_clock_stream *s, double rate, int64_t sample,
    double x, double d)
{
	char name[OE_STREAM_LEN];

	memcpy(name, s->name, sizeof name);
	memset(s, 0, sizeof *s);
	memcpy(s->name, name, sizeof name);
	s->used = 1;
	s->rate = rate;
	s->base_x_us = x;
	s->last_sample = sample;
	s->offset_us = d;
	s->drift = 0;
}

/*
 * Fit the windows' minima: the slope by least squares over the closed
 * windows (the open one has seen too few events to say), the offset under
 * every window, the open one included (a lower minimum is always news).
 */
static void
oe_clock_fit(struct oe_clock_stream *s)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0, xmin = INFINITY;
	double xmax = -INFINITY, x, y, n = 0, b = 0, a = INFINITY, den;
	unsigned i, open = (s->next + OE_CLOCK_BUCKETS - 1) % OE_CLOCK_BUCKETS;

	for (i = 0; i < s->nb; i++) {
		if (i == open)
			continue;
		x = s->b[i].x_us - s->base_x_us;
		y = s->b[i].d_us;
		n++;
		sx += x;
		sy += y;
		sxx += x * x;
		sxy += x * y;
		if (x < xmin)
			xmin = x;
		if (x > xmax)
			xmax = x;
	}
	if (n >= OE_CLOCK_FIT_MIN && xmax - xmin >= OE_CLOCK_FIT_SPAN_US) {
		den = n * sxx - sx * sx;
		if (den > 0)
			b = (n * sxy - sx * sy) / den;
		if (b > OE_CLOCK_MAX_PPM * 1e-6)
			b = OE_CLOCK_MAX_PPM * 1e-6;
		if (b < -OE_CLOCK_MAX_PPM * 1e-6)
			b = -OE_CLOCK_MAX_PPM * 1e-6;
	}
	for (i = 0; i < s->nb; i++) {
		y = s->b[i].d_us - b * (s->b[i].x_us - s->base_x_us);
		if (y < a)
			a = y;
	}
	s->drift = b;
	s->offset_us = a;
}

/* The fit's d at sample time x. */
static double
oe_clock_line(const struct oe_clock_stream *s, double x)
{
	return s->offset_us + s->drift * (x - s->base_x_us);
}

/* Keep the observation (x, d) in its window. 1 if the clock jumped. */
static int
oe_clock_observe(struct oe_clock_stream *s, double x, double d)
{
	int64_t idx = (int64_t)floor((x - s->base_x_us) / OE_CLOCK_BUCKET_US);
	struct oe_clock_bucket *last;
	unsigned i;

	if (s->nb > 0) {
		last = &s->b[(s->next + OE_CLOCK_BUCKETS - 1) % OE_CLOCK_BUCKETS];
		if (last->index == idx) {
			if (d < last->d_us) {
				last->x_us = x;
				last->d_us = d;
			}
			return 0;
		}
		if (idx < last->index) {
			/* out of order: its own window, if still kept */
			for (i = 0; i < s->nb; i++)
				if (s->b[i].index == idx && d < s->b[i].d_us) {
					s->b[i].x_us = x;
					s->b[i].d_us = d;
				}
			return 0;
		}
		/* a window closed: was its least delay far above the fit? */
		if (last->d_us - oe_clock_line(s, last->x_us) >
		    OE_CLOCK_JUMP_US)
			return 1;
	}
	s->b[s->next].index = idx;
	s->b[s->next].x_us = x;
	s->b[s->next].d_us = d;
	s->next = (s->next + 1) % OE_CLOCK_BUCKETS;
	if (s->nb < OE_CLOCK_BUCKETS)
		s->nb++;
	return 0;
}

/*
 * Session time of sample of stream (rate Hz) that arrived at arrival_us
 * (session time). *reset is set when the stream started over here.
 */
int64_t
oe_clock_map(struct oe_clock *c, const char *stream, double rate,
    int64_t sample, int64_t arrival_us, int *reset)
{
	struct oe_clock_stream *s = oe_clock_stream(c, stream);
	double x = (double)sample * 1e6 / rate, d = (double)arrival_us - x, t;

	*reset = 0;
	if (s->used && (rate != s->rate || (double)sample <
	    (double)s->last_sample - rate)) {
		*reset = 1;	/* a new acquisition, or another clock */
		s->used = 0;
	}
	if (!s->used)
		oe_clock_start(s, rate, sample, x, d);
	if (oe_clock_observe(s, x, d)) {
		*reset = 1;	/* the offset jumped up by more than 1 s */
		oe_clock_start(s, rate, sample, x, d);
		oe_clock_observe(s, x, d);
	}
	if (sample > s->last_sample)
		s->last_sample = sample;
	s->last_use = ++c->uses;
	oe_clock_fit(s);
	t = x + oe_clock_line(s, x);
	if (t > (double)arrival_us)
		t = (double)arrival_us;
	if (*reset)
		c->resets++;
	return (int64_t)llround(t);
}

/* The drift of the stream used last, in ppm (NaN before any event). */
double
oe_clock_drift_ppm(const struct oe_clock *c)
{
	const struct oe_clock_stream *best = NULL;
	unsigned i;

	for (i = 0; i < OE_CLOCK_STREAMS; i++)
		if (c->s[i].used && (best == NULL || c->s[i].last_use >
		    best->last_use))
			best = &c->s[i];
	return best == NULL ? NAN : best->drift * 1e6;
}
