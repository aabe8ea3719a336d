/*
 * relay-clock.c: the clock filter. Each /v1/time probe gives an NTP
 * sample: offset theta = ((t1 - t0) + (t2 - t3)) / 2 and delay delta =
 * (t3 - t0) - (t2 - t1), |error| <= delta / 2. Queueing only ever adds
 * delay, so the sample with the least delay in each few-second bucket is
 * kept; minima much slower than the rest are dropped; a least-squares line
 * through the remaining minima gives the offset now and the drift.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "relay.h"

#define RELAY_CLOCK_BUCKET_US 4000000	/* one minimum per 4 s */
#define RELAY_CLOCK_MAX_DRIFT 0.001	/* 1000 ppm: beyond is nonsense */
/*
 * A sample further from the estimate than its own delay, the estimate's
 * uncertainty and this margin allow cannot be explained by queueing: one
 * of the clocks stepped (the console's host was suspended, the relay's
 * session started a new life). Two such samples in a row start the
 * filter afresh from them.
 */
#define RELAY_CLOCK_STEP_MARGIN_US 10000

/* Start with no samples. */
void
relay_clock_init(struct relay_clock *c)
{
	memset(c, 0, sizeof *c);
}

/* A burst of probes begins (kept for diagnostics). */
void
relay_clock_burst(struct relay_clock *c)
{
	c->burst++;
}

/* Does sample s contradict the current estimate (a clock stepped)? */
static int
relay_clock_contradicts(const struct relay_clock *c,
    const struct relay_clock_sample *s)
{
	double	predicted;

	if (!c->valid)
		return (0);
	predicted = c->offset_us + c->drift * (double)(s->t_us - c->ref_us);
	return (fabs((double)s->theta_us - predicted) > (double)s->delta_us /
	    2 + c->uncertainty_us + RELAY_CLOCK_STEP_MARGIN_US);
}

/* Keep one sample. */
static void
relay_clock_keep(struct relay_clock *c, const struct relay_clock_sample *s)
{
	c->s[c->head] = *s;
	c->head = (c->head + 1) % RELAY_CLOCK_SAMPLES;
	if (c->n < RELAY_CLOCK_SAMPLES)
		c->n++;
}

/* Add one exchange: t0/t3 local mono us, t1/t2 session us. */
void
relay_clock_add(struct relay_clock *c, int64_t t0, int64_t t1, int64_t t2,
    int64_t t3)
{
	struct relay_clock_sample	 s;
	int64_t				 delta;

	delta = (t3 - t0) - (t2 - t1);
	if (delta < 0)
		delta = 0;
	s.t_us = t0 + (t3 - t0) / 2;
	s.theta_us = ((t1 - t0) + (t2 - t3)) / 2;
	s.delta_us = delta;
	s.burst = c->burst;
	if (!relay_clock_contradicts(c, &s)) {
		c->stepping = 0;
		relay_clock_keep(c, &s);
		return;
	}
	if (!c->stepping) {
		/* one may be a fluke: wait for a second */
		c->stepping = 1;
		c->step_sample = s;
		return;
	}
	/* a step: what came before it no longer describes the clocks */
	c->stepping = 0;
	c->n = 0;
	c->head = 0;
	c->valid = 0;
	c->steps++;
	relay_clock_keep(c, &c->step_sample);
	relay_clock_keep(c, &s);
}

/* Sort int64 values. */
static int
relay_clock_cmp(const void *a, const void *b)
{
	int64_t	x = *(const int64_t *)a, y = *(const int64_t *)b;

	return ((x > y) - (x < y));
}

/* Least-squares line through the used minima; returns the residual RMS. */
static double
relay_clock_fit(struct relay_clock_sample *m, const int *use, size_t n,
    int64_t *ref, double *a, double *b)
{
	double	sx = 0, sy = 0, sxx = 0, sxy = 0, x, y, r, rr = 0;
	size_t	i, k = 0;
	int64_t	t = 0;

	for (i = 0; i < n; i++) {
		if (use[i]) {
			t = m[i].t_us;
			break;
		}
	}
	for (i = 0; i < n; i++) {
		if (!use[i])
			continue;
		x = (double)(m[i].t_us - t);
		y = (double)m[i].theta_us;
		sx += x;
		sy += y;
		k++;
	}
	*ref = t + (int64_t)(sx / (double)k);
	*a = sy / (double)k;
	for (i = 0; i < n; i++) {
		if (!use[i])
			continue;
		x = (double)(m[i].t_us - *ref);
		y = (double)m[i].theta_us - *a;
		sxx += x * x;
		sxy += x * y;
	}
	*b = sxx > 0 ? sxy / sxx : 0;
	if (fabs(*b) > RELAY_CLOCK_MAX_DRIFT)
		*b = 0;
	for (i = 0; i < n; i++) {
		if (!use[i])
			continue;
		r = (double)m[i].theta_us - (*a + *b *
		    (double)(m[i].t_us - *ref));
		rr += r * r;
	}
	return (sqrt(rr / (double)k));
}

/*
 * Work out the estimate from the samples of the last window before now.
 * Returns 0 (and sets valid) if there is one, -1 if no sample yet.
 */
int
relay_clock_estimate(struct relay_clock *c, int64_t now_us)
{
	struct relay_clock_sample	 m[RELAY_CLOCK_SAMPLES], *s;
	int64_t				 d[RELAY_CLOCK_SAMPLES], bucket;
	int64_t				 limit, dmin, ref;
	int				 use[RELAY_CLOCK_SAMPLES];
	size_t				 i, j, n = 0, used, again;
	double				 a, b, rms, r, bound;

	/* The least-delay sample of each bucket in the window. */
	for (i = 0; i < c->n; i++) {
		s = &c->s[i];
		if (s->t_us < now_us - RELAY_CLOCK_WINDOW_US)
			continue;
		bucket = s->t_us / RELAY_CLOCK_BUCKET_US;
		for (j = 0; j < n; j++) {
			if (m[j].t_us / RELAY_CLOCK_BUCKET_US == bucket)
				break;
		}
		if (j == n)
			m[n++] = *s;
		else if (s->delta_us < m[j].delta_us)
			m[j] = *s;
	}
	if (n == 0)
		return (-1);

	/* Drop minima far slower than the typical one (a congested spell). */
	for (i = 0; i < n; i++)
		d[i] = m[i].delta_us;
	qsort(d, n, sizeof *d, relay_clock_cmp);
	dmin = d[0];
	limit = 2 * d[n / 2] + 100;
	used = 0;
	for (i = 0; i < n; i++) {
		use[i] = m[i].delta_us <= limit;
		used += use[i];
	}

	if (used < 3) {
		/* Too few for a line: the best single sample. */
		for (i = j = 0; i < n; i++) {
			if (m[i].delta_us < m[j].delta_us)
				j = i;
		}
		c->ref_us = m[j].t_us;
		c->offset_us = (double)m[j].theta_us;
		c->drift = 0;
		c->uncertainty_us = (double)m[j].delta_us / 2;
		c->minima = 1;
		c->valid = 1;
		return (0);
	}

	rms = relay_clock_fit(m, use, n, &ref, &a, &b);
	/* One pass of residual rejection, then refit. */
	bound = 3 * rms;
	if (bound < (double)dmin / 2)
		bound = (double)dmin / 2;
	again = 0;
	for (i = 0; i < n; i++) {
		if (!use[i])
			continue;
		r = (double)m[i].theta_us - (a + b * (double)(m[i].t_us - ref));
		if (fabs(r) > bound && used - again > 3) {
			use[i] = 0;
			again++;
		}
	}
	if (again > 0) {
		used -= again;
		rms = relay_clock_fit(m, use, n, &ref, &a, &b);
	}
	c->ref_us = ref;
	c->offset_us = a;
	c->drift = b;
	c->uncertainty_us = sqrt(((double)dmin / 2) * ((double)dmin / 2) +
	    rms * rms);
	c->minima = used;
	c->valid = 1;
	return (0);
}

/* The estimated offset (session - mono) at local time t_us. */
int64_t
relay_clock_offset_at(const struct relay_clock *c, int64_t t_us)
{
	return ((int64_t)llround(c->offset_us +
	    c->drift * (double)(t_us - c->ref_us)));
}
