/*
 * intan-clock.c: RHX frame timestamps to this machine's CLOCK_MONOTONIC
 * (the plugin adds the session clock's offset when it emits).
 *
 * A record detected at frame f arrives at a = T0 + f/fs (1 + drift) + L,
 * where T0 is when the run's frame 0 happened on our clock and L >= Lmin
 * is the latency: up to N x 128 frames of batching in RHX, then TCP and
 * our own wake-up. So d = a - f/fs, seen over many records, is a cloud
 * whose LOWER edge is the line T0 + Lmin + drift x f/fs: the records that
 * were written right after their detection, with no queueing anywhere.
 * Averages (a least-squares fit of all of d) would put every spike half a
 * batch late and move with the load; the lower edge does not.
 *
 * So: d is tracked per window of INTAN_CLOCK_WINDOW_US of frame time, and
 * each window keeps its minimum. The drift is the least-squares slope
 * through the last INTAN_CLOCK_WINDOWS minima (crystal against crystal:
 * tens of ppm, clamped to +-500 ppm), and the offset is the lowest line of
 * that slope under every minimum kept, the current window's included, so
 * a new lowest record takes effect at once. Mapped times are never later
 * than arrivals (while the slope is still off, the line can pass above a
 * record late in its window: the arrival is taken then); early in a run
 * (one window) the slope is 0 and the offset is the minimum so far.
 * Working on CLOCK_MONOTONIC rather than session time keeps a step of the
 * session clock (the relay's offset estimate moving) out of the fit: it
 * applies to every spike at once when emitted.
 *
 * Timestamps are uint32 and wrap after 2^32 frames (39.7 h at 30 kHz):
 * each is taken as the previous one plus the signed 32-bit difference, so
 * the count goes on past the wrap and small disorder between channels is
 * harmless. The fit restarts (a new run) when the count goes back by more
 * than a second, when a record would have been detected more than a
 * second after it arrived, or when a whole window sits more than a second
 * above the line (RHX paused without resetting its count, [U] whether it
 * does: the plugin also restarts the fit whenever it starts a run).
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "intan.h"

#define INTAN_CLOCK_MAX_SLOPE 500e-6	/* beyond this it is not drift */
#define INTAN_CLOCK_JUMP_US 1e6		/* a jump this big: a new run */

/* Forget everything; frames are fs per second. */
void
intan_clock_reset(struct intan_clock *c, double fs)
{
	uint64_t restarts = c->restarts;

	memset(c, 0, sizeof *c);
	c->fs = fs > 0 ? fs : 30000;
	c->restarts = restarts;
}

/* Start the fit again from this record (a new run). */
static void
intan_clock_restart(struct intan_clock *c)
{
	double fs = c->fs;
	uint64_t restarts = c->restarts + 1;

	memset(c, 0, sizeof *c);
	c->fs = fs;
	c->restarts = restarts;
}

/* Slope and the base of the intercept from the stored window minima. */
static void
intan_clock_fit(struct intan_clock *c)
{
	double st = 0, sd = 0, stt = 0, std = 0, n = c->nminima, var, b;
	double lowest = INFINITY, v;
	unsigned k;

	for (k = 0; k < c->nminima; k++) {
		st += c->minima[k].t_us;
		sd += c->minima[k].d_us;
	}
	if (c->nminima >= 3) {
		for (k = 0; k < c->nminima; k++) {
			double dt = c->minima[k].t_us - st / n;

			stt += dt * dt;
			std += dt * (c->minima[k].d_us - sd / n);
		}
		var = stt;
		b = var > 0 ? std / var : 0;
		if (b > INTAN_CLOCK_MAX_SLOPE)
			b = INTAN_CLOCK_MAX_SLOPE;
		if (b < -INTAN_CLOCK_MAX_SLOPE)
			b = -INTAN_CLOCK_MAX_SLOPE;
		c->slope = b;
	} else
		c->slope = 0;
	for (k = 0; k < c->nminima; k++) {
		v = c->minima[k].d_us - c->slope * c->minima[k].t_us;
		if (v < lowest)
			lowest = v;
	}
	c->intercept = lowest;
}

/* Close the current window: keep its minimum, refit. */
static void
intan_clock_close(struct intan_clock *c)
{
	double pred = c->intercept + c->slope * c->win_min_t;

	if (c->nminima > 0 && c->win_min_d - pred > INTAN_CLOCK_JUMP_US) {
		/* the whole window late: the count went on across a pause */
		c->nminima = 0;
		c->head = 0;
		c->restarts++;
	}
	c->minima[c->head].t_us = c->win_min_t;
	c->minima[c->head].d_us = c->win_min_d;
	c->head = (c->head + 1) % INTAN_CLOCK_WINDOWS;
	if (c->nminima < INTAN_CLOCK_WINDOWS)
		c->nminima++;
	intan_clock_fit(c);
}

/*
 * CLOCK_MONOTONIC (us) at which the record with this timestamp was
 * detected, given that it arrived at arrival_us.
 */
int64_t
intan_clock_map(struct intan_clock *c, uint32_t timestamp, int64_t arrival_us)
{
	int64_t ext, mapped;
	double t, d, pred, line;

	if (!c->have)
		ext = timestamp;
	else {
		ext = c->last_ext + (int32_t)(timestamp - c->last_ts);
		if (ext < c->last_ext - (int64_t)c->fs) {
			intan_clock_restart(c);
			ext = timestamp;
		}
	}
	t = (double)ext * 1e6 / c->fs;
	d = (double)arrival_us - t;
	if (c->have) {
		pred = c->intercept + c->slope * t;
		if (d < pred - INTAN_CLOCK_JUMP_US) {
			/* detected a second after it arrived: a new count */
			intan_clock_restart(c);
			ext = timestamp;
			t = (double)ext * 1e6 / c->fs;
			d = (double)arrival_us - t;
		}
	}
	if (!c->have) {
		c->have = 1;
		c->win_start_us = (int64_t)t;
		c->win_min_d = d;
		c->win_min_t = t;
		c->intercept = d;
		c->slope = 0;
	} else if (t - (double)c->win_start_us >= INTAN_CLOCK_WINDOW_US) {
		intan_clock_close(c);
		c->win_start_us = (int64_t)t;
		c->win_min_d = d;
		c->win_min_t = t;
	} else if (d < c->win_min_d) {
		c->win_min_d = d;
		c->win_min_t = t;
	}
	c->last_ts = timestamp;
	c->last_ext = ext;
	line = c->win_min_d - c->slope * c->win_min_t;
	if (c->nminima == 0 || line < c->intercept)
		c->intercept = line;
	/*
	 * A slope still a little off puts a record late in a window above
	 * the line through its window's minimum: it was detected no later
	 * than it arrived, whatever the fit says.
	 */
	mapped = llround(t + c->intercept + c->slope * t);
	return mapped < arrival_us ? mapped : arrival_us;
}
