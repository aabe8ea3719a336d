/*
 * memristor-xbar.c: the crossbar instrument. Requests queue per device
 * (at most MEMRISTOR_QUEUE_MAX each); a device works through its queue one
 * operation at a time, each taking latency_us of session time (or the pulse
 * train itself, if count x width is longer). Completions are delivered by
 * memristor_xbar_poll() in order of completion time, ties in request order.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memristor.h"

/* Defaults: the published hybrid runs on a 32x32 array. */
void
memristor_config_default(struct memristor_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->rows = 32;
	cfg->cols = 32;
	cfg->rmin = 4000.0;
	cfg->rmax = 9000.0;
	cfg->latency_us = 10000;
	cfg->max_v = 6.0;
	cfg->max_width_us = 1000;
	cfg->max_count = 100;
	cfg->read_v = 0.2;
	cfg->init = MEMRISTOR_INIT_SPREAD;
	cfg->seed = 1;
	cfg->d2d_sigma_a = 0.05;
	cfg->d2d_sigma_t = 0.02;
	cfg->c2c_sigma = 0.15;
	cfg->read_sigma = 0.007;
	cfg->ltp_negative = 0;
	cfg->weight_from = SB_WEIGHT_FROM_R;
	cfg->min_width_us = 1;
}

/* Build a crossbar: every device drawn from the seed. NULL with *cause. */
struct memristor_xbar *
memristor_xbar_create(const struct memristor_config *cfg, char **cause)
{
	struct memristor_xbar *x;
	uint32_t i;

	if (cfg->rows == 0 || cfg->cols == 0 ||
	    cfg->rows > MEMRISTOR_ROWS_MAX || cfg->cols > MEMRISTOR_ROWS_MAX) {
		memristor_cause(cause, "crossbar %ux%u: rows and cols must be "
		    "1-%u", cfg->rows, cfg->cols, MEMRISTOR_ROWS_MAX);
		return NULL;
	}
	if (!(cfg->rmin > 0) || !(cfg->rmax > cfg->rmin)) {
		memristor_cause(cause, "window %g-%g ohms: need 0 < rmin < "
		    "rmax", cfg->rmin, cfg->rmax);
		return NULL;
	}
	x = calloc(1, sizeof *x);
	if (x == NULL)
		goto oom;
	x->cfg = *cfg;
	memristor_model_fitted(&x->model);
	x->alpha = (cfg->rmax - cfg->rmin) /
	    (x->model.win_hi - x->model.win_lo);
	x->devices = cfg->rows * cfg->cols;
	x->dev = calloc(x->devices, sizeof *x->dev);
	if (x->dev == NULL) {
		free(x);
		goto oom;
	}
	for (i = 0; i < x->devices; i++) {
		memristor_device_init(&x->dev[i], &x->model, &x->cfg,
		    memristor_rng_stream(cfg->seed, i));
	}
	return x;

oom:
	memristor_cause(cause, "out of memory for a %ux%u crossbar: use "
	    "fewer rows or cols", cfg->rows, cfg->cols);
	return NULL;
}

/* Free a crossbar and everything still queued. */
void
memristor_xbar_free(struct memristor_xbar *x)
{
	if (x == NULL)
		return;
	free(x->heap);
	free(x->dev);
	free(x);
}

/* Limits and defaults (the same for every device). */
void
memristor_xbar_limits(const struct memristor_xbar *x,
    struct sb_device_limits *l)
{
	const struct memristor_config *cfg = &x->cfg;

	memset(l, 0, sizeof *l);
	l->max_abs_v = cfg->max_v;
	l->max_width_us = cfg->max_width_us;
	l->max_count = cfg->max_count;
	/* The published experiment: +4 V potentiates, -4 V depresses. */
	l->ltp_v = cfg->max_v < 4.0 ? cfg->max_v : 4.0;
	if (cfg->ltp_negative)
		l->ltp_v = -l->ltp_v;
	l->ltd_v = -l->ltp_v;
	l->width_us = cfg->max_width_us < 100 ? cfg->max_width_us : 100;
	l->g_min_us = 1e6 / cfg->rmax;
	l->g_max_us = 1e6 / cfg->rmin;
	l->latency_us = cfg->latency_us;
	l->min_width_us = cfg->min_width_us;
	l->weight_from = cfg->weight_from;
}

/* Is heap entry a due before b? */
static int
memristor_xbar_before(const struct memristor_op *a,
    const struct memristor_op *b)
{
	if (a->due_us != b->due_us)
		return a->due_us < b->due_us;
	return a->seq < b->seq;
}

/* Queue op on its device; 0 or -1 with *cause. */
static int
memristor_xbar_queue(struct memristor_xbar *x, struct memristor_op *op,
    int64_t now_us, char **cause)
{
	struct memristor_device *d = &x->dev[op->device];
	struct memristor_op *h, tmp;
	int64_t start, duration;
	size_t i, parent, n;
	char addr[32];

	if (d->queued >= MEMRISTOR_QUEUE_MAX) {
		sb_crossbar_format(x->cfg.cols, op->device, addr, sizeof addr);
		memristor_cause(cause, "device %s is busy: %u operations "
		    "already queued (wait for them to complete)", addr,
		    d->queued);
		return -1;
	}
	if (x->nheap == x->aheap) {
		n = x->aheap != 0 ? x->aheap * 2 : 64;
		h = realloc(x->heap, n * sizeof *h);
		if (h == NULL) {
			memristor_cause(cause, "out of memory queueing an "
			    "operation");
			return -1;
		}
		x->heap = h;
		x->aheap = n;
	}

	if (now_us < x->last_poll_us)
		now_us = x->last_poll_us;
	start = d->busy_until_us > now_us ? d->busy_until_us : now_us;
	duration = x->cfg.latency_us;
	if ((int64_t)op->count * op->width_us > duration)
		duration = (int64_t)op->count * op->width_us;
	op->due_us = start + duration;
	op->seq = x->seq++;
	d->busy_until_us = op->due_us;
	d->queued++;

	i = x->nheap++;
	x->heap[i] = *op;
	while (i > 0) {
		parent = (i - 1) / 2;
		if (!memristor_xbar_before(&x->heap[i], &x->heap[parent]))
			break;
		tmp = x->heap[i];
		x->heap[i] = x->heap[parent];
		x->heap[parent] = tmp;
		i = parent;
	}
	return 0;
}

/* Remove the earliest operation from the heap into *op. */
static void
memristor_xbar_pop(struct memristor_xbar *x, struct memristor_op *op)
{
	struct memristor_op tmp;
	size_t i = 0, l, r, m;

	*op = x->heap[0];
	x->heap[0] = x->heap[--x->nheap];
	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		m = i;
		if (l < x->nheap && memristor_xbar_before(&x->heap[l],
		    &x->heap[m]))
			m = l;
		if (r < x->nheap && memristor_xbar_before(&x->heap[r],
		    &x->heap[m]))
			m = r;
		if (m == i)
			break;
		tmp = x->heap[i];
		x->heap[i] = x->heap[m];
		x->heap[m] = tmp;
		i = m;
	}
}

/* Check device is in range; 0 or -1 with *cause. */
static int
memristor_xbar_check_device(struct memristor_xbar *x, uint32_t device,
    char **cause)
{
	if (device < x->devices)
		return 0;
	memristor_cause(cause, "no device %u (crossbar has %u devices: 0-%u)",
	    device, x->devices, x->devices - 1);
	return -1;
}

/* Queue count pulses of amplitude_v, width_us each, then a read. */
int
memristor_xbar_pulse(struct memristor_xbar *x, uint32_t device,
    double amplitude_v, uint32_t width_us, uint32_t count, uint64_t tag,
    int64_t now_us, char **cause)
{
	const struct memristor_config *cfg = &x->cfg;
	struct memristor_op op;

	if (memristor_xbar_check_device(x, device, cause) != 0)
		return -1;
	if (!isfinite(amplitude_v) || fabs(amplitude_v) > cfg->max_v) {
		memristor_cause(cause, "pulse of %+.2f V refused: the limit is "
		    "+/-%.2f V (max_v)", amplitude_v, cfg->max_v);
		return -1;
	}
	if (width_us == 0 || width_us < cfg->min_width_us ||
	    width_us > cfg->max_width_us) {
		memristor_cause(cause, "pulse width %u us refused: use %u-%u us "
		    "(max_width_us)", width_us, cfg->min_width_us > 0 ?
		    cfg->min_width_us : 1, cfg->max_width_us);
		return -1;
	}
	if (count == 0 || count > cfg->max_count) {
		memristor_cause(cause, "pulse count %u refused: use 1-%u "
		    "(max_count)", count, cfg->max_count);
		return -1;
	}
	memset(&op, 0, sizeof op);
	op.device = device;
	op.amplitude_v = amplitude_v;
	op.width_us = width_us;
	op.count = count;
	op.tag = tag;
	return memristor_xbar_queue(x, &op, now_us, cause);
}

/* Queue a read at the read voltage. */
int
memristor_xbar_read(struct memristor_xbar *x, uint32_t device, uint64_t tag,
    int64_t now_us, char **cause)
{
	struct memristor_op op;

	if (memristor_xbar_check_device(x, device, cause) != 0)
		return -1;
	memset(&op, 0, sizeof op);
	op.device = device;
	op.tag = tag;
	return memristor_xbar_queue(x, &op, now_us, cause);
}

/* Last read-back conductance in uS (0 for a device that does not exist). */
double
memristor_xbar_conductance(const struct memristor_xbar *x, uint32_t device)
{
	if (device >= x->devices)
		return 0.0;
	return x->dev[device].g_read_us;
}

/* Run the operations due by now_us and report each through fn. */
void
memristor_xbar_poll(struct memristor_xbar *x, int64_t now_us,
    sb_complete_fn fn, void *ctx)
{
	struct memristor_op op;
	struct memristor_device *d;
	struct sb_completion c;
	char addr[32];

	if (now_us > x->last_poll_us)
		x->last_poll_us = now_us;
	while (x->nheap > 0 && x->heap[0].due_us <= now_us) {
		memristor_xbar_pop(x, &op);
		d = &x->dev[op.device];
		d->queued--;

		memset(&c, 0, sizeof c);
		c.tag = op.tag;
		c.device = op.device;
		c.status = 0;
		c.t_us = op.due_us;
		c.g_before_us = d->g_read_us;
		if (op.cancelled) {
			sb_crossbar_format(x->cfg.cols, op.device, addr,
			    sizeof addr);
			c.status = -1;
			c.g_after_us = d->g_read_us;
			snprintf(c.message, sizeof c.message, "%s: cancelled "
			    "by stop (not applied)", addr);
			if (fn != NULL)
				fn(ctx, &c);
			continue;
		}
		if (op.count != 0) {
			memristor_device_pulse(d, &x->model, &x->cfg,
			    op.amplitude_v, op.width_us, op.count);
		}
		c.g_after_us = memristor_device_read(d, &x->model, &x->cfg);
		sb_crossbar_format(x->cfg.cols, op.device, addr, sizeof addr);
		if (op.count != 0) {
			snprintf(c.message, sizeof c.message,
			    "%s: %u x %+.2f V %u us", addr, op.count,
			    op.amplitude_v, op.width_us);
		} else
			snprintf(c.message, sizeof c.message, "%s: read", addr);
		if (fn != NULL)
			fn(ctx, &c);
	}
}

/* The stop button: every pulse still waiting fails unapplied; how many. */
size_t
memristor_xbar_cancel(struct memristor_xbar *x)
{
	size_t i, n = 0;

	for (i = 0; i < x->nheap; i++)
		if (x->heap[i].count != 0 && !x->heap[i].cancelled) {
			x->heap[i].cancelled = 1;
			n++;
		}
	return n;
}
