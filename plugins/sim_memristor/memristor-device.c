/*
 * memristor-device.c: one TiOx ReRAM device, after Messaris, Serb, Khiat,
 * Nikolaidis, Prodromakis, "A data-driven Verilog-A ReRAM model", IEEE TCAD
 * 2018 (and the same group's "A compact Verilog-A ReRAM switching model").
 *
 *   dR/dt = s(v) f(R, v)
 *   s(v)  = A_p (exp(|v|/t_p) - 1)                       v > 0
 *           A_n (exp(|v|/t_n) - 1)                       v <= 0
 *   f     = (r_p(v) - R)^2 theta(r_p(v) - R),  r_p = t0 + t1 v,   v > 0
 *           (R - r_n(v))^2 theta(R - r_n(v)),  r_n = b0 + b1 v,   v <= 0
 *
 * Published fit (the paper's eq. 9 and 10, device read at 0.2 V, 100 us
 * pulses at 0.6-0.8 V, operating range about 10-18 kOhm):
 *   t0 = 17.16 kOhm, t1 = 0.15 kOhm/V, b0 = 24.81 kOhm, b1 = 17.91 kOhm/V,
 *   A_p = -4.86e-5 /(Ohm s), t_p = 0.12 V, A_n = 1.09e-3 /(Ohm s),
 *   t_n = 0.18 V.
 *
 * Sign conventions, as checked against the paper's text: r_p(v) is R_max,
 * the upper resistive boundary that positive bias drives the device up to
 * ("for any RS below R_max at a given positive voltage, applying this
 * voltage can push the device to R_max, but no further"), and r_n(v) is
 * R_min, the lower boundary negative bias drives it down to (b1 > 0, so
 * stronger negative bias lowers R_min). So in the paper's own convention
 * positive bias RAISES R and negative bias LOWERS it. With the printed signs
 * of A_p (< 0) and A_n (> 0) the equation would instead move R away from
 * those boundaries with a growing rate (no saturation), contradicting the
 * same paper's figures; MemTorch's port of the later (2021) parameter set
 * flips polarity again (positive lowers R, t_p < 0). We therefore keep the
 * published magnitudes |A_p|, |A_n| and give each branch the sign that makes
 * R approach its own boundary, as the paper describes.
 *
 * synbridge wants the opposite polarity (positive pulse = potentiation =
 * LOWER R, higher G), as in the hybrid experiment. So an applied pulse of
 * amplitude v drives the model with v_cell = -v_scale v: a positive
 * (potentiating) pulse runs the model's negative branch (R falls toward
 * r_n), a negative (depressing) pulse runs its positive branch (R rises
 * toward r_p).
 *
 * Voltage mapping: the fit covers 0.6-0.8 V across the cell; the hybrid
 * experiment drove its TiOx crossbar with +/-4 V through the instrument and
 * array lines. We take v_scale = 0.2, so +/-4 V reaches the cell as
 * +/-0.8 V, the top of the fitted range (6 V, the default max_v, gives
 * 1.2 V: fast switching but still finite boundaries, r_n(-1.2) = 3.3 kOhm).
 *
 * Window mapping: at the nominal +/-0.8 V the model's boundaries are
 * r_n(-0.8) = 10.482 kOhm and r_p(0.8) = 17.28 kOhm. That interval is
 * mapped affinely onto synbridge's window [rmin, rmax] (default 4-9 kOhm):
 *   R_window = rmin + alpha (R_model - 10482),
 *   alpha = (rmax - rmin) / (17280 - 10482).
 * The affine map keeps the model's shape (dR_w/dt = (s/alpha)(r_w - R_w)^2)
 * and makes the nominal LTP/LTD pulse trains saturate exactly at the edges
 * of the window. Stronger pulses whose boundary lies beyond the window stop
 * at the window edge: the state never leaves [rmin, rmax].
 *
 * Integration: with v fixed over a pulse, dR/dt = k (r - R)^2 with
 * k = s(v) > 0 has the exact solution
 *   r - R(t) = (r - R0) / (1 + k |r - R0| t),
 * which is used for each pulse (no sub-steps, no error). Cycle-to-cycle
 * variability multiplies each pulse's dR by a lognormal factor, clipped so
 * that R never overshoots the boundary.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>

#include "memristor.h"

/* The published fit and the mappings described above. */
void
memristor_model_published(struct memristor_model *m)
{
	m->t0 = 17160.0;
	m->t1 = 150.0;
	m->b0 = 24810.0;
	m->b1 = 17910.0;
	m->a_p = 4.86e-5;	/* published as -4.86e-5: see above */
	m->t_p = 0.12;
	m->a_n = 1.09e-3;
	m->t_n = 0.18;
	m->v_scale = 0.2;
	m->win_lo = m->b0 - m->b1 * 0.8;	/* 10482 */
	m->win_hi = m->t0 + m->t1 * 0.8;	/* 17280 */
}

/* Draw one device's parameters and initial state from its stream. */
void
memristor_device_init(struct memristor_device *d,
    const struct memristor_model *m, const struct memristor_config *cfg,
    uint64_t stream)
{
	double lo = m->win_lo, hi = m->win_hi;

	d->rng = stream;
	d->a_p = m->a_p * exp(cfg->d2d_sigma_a * memristor_rng_gauss(&d->rng));
	d->a_n = m->a_n * exp(cfg->d2d_sigma_a * memristor_rng_gauss(&d->rng));
	d->inv_t_p = 1.0 / (m->t_p *
	    exp(cfg->d2d_sigma_t * memristor_rng_gauss(&d->rng)));
	d->inv_t_n = 1.0 / (m->t_n *
	    exp(cfg->d2d_sigma_t * memristor_rng_gauss(&d->rng)));
	switch (cfg->init) {
	case MEMRISTOR_INIT_LOW:
		d->r = hi;
		break;
	case MEMRISTOR_INIT_HIGH:
		d->r = lo;
		break;
	case MEMRISTOR_INIT_MID:
		d->r = (lo + hi) / 2.0;
		break;
	case MEMRISTOR_INIT_SPREAD:
	default:
		d->r = lo + (hi - lo) * memristor_rng_uniform(&d->rng);
		break;
	}
	d->busy_until_us = 0;
	d->queued = 0;
	d->g_read_us = memristor_device_read(d, m, cfg);
}

/*
 * Apply count pulses of amplitude_v for width_us each; returns the change
 * of the true resistance in window ohms.
 */
double
memristor_device_pulse(struct memristor_device *d,
    const struct memristor_model *m, const struct memristor_config *cfg,
    double amplitude_v, uint32_t width_us, uint32_t count)
{
	double vc, bound, stop, k, tau, r, u, step, alpha;
	int down = amplitude_v > 0;
	uint32_t i;

	if (!(fabs(amplitude_v) > cfg->read_v))
		return 0.0;	/* a read (or weaker): non-destructive */
	vc = m->v_scale * fabs(amplitude_v);
	tau = width_us * 1e-6;
	if (down) {
		/* Potentiation: the model's v <= 0 branch, R falls to r_n. */
		bound = m->b0 - m->b1 * vc;
		stop = bound > m->win_lo ? bound : m->win_lo;
		k = d->a_n * expm1(vc * d->inv_t_n);
	} else {
		/* Depression: the model's v > 0 branch, R rises to r_p. */
		bound = m->t0 + m->t1 * vc;
		stop = bound < m->win_hi ? bound : m->win_hi;
		k = d->a_p * expm1(vc * d->inv_t_p);
	}

	r = d->r;
	for (i = 0; i < count; i++) {
		/* theta(): nothing moves at or beyond the boundary. */
		if (down ? r <= stop : r >= stop)
			break;
		u = bound - r;
		step = u - u / (1.0 + k * fabs(u) * tau);
		if (cfg->c2c_sigma > 0)
			step *= exp(cfg->c2c_sigma *
			    memristor_rng_gauss(&d->rng));
		r += step;
		if (down ? r < stop : r > stop)
			r = stop;
	}
	alpha = (cfg->rmax - cfg->rmin) / (m->win_hi - m->win_lo);
	step = (r - d->r) * alpha;
	d->r = r;
	return step;
}

/* The true resistance in window ohms (rmin..rmax). */
double
memristor_device_ohms(const struct memristor_device *d,
    const struct memristor_model *m, const struct memristor_config *cfg)
{
	double alpha = (cfg->rmax - cfg->rmin) / (m->win_hi - m->win_lo);

	return cfg->rmin + alpha * (d->r - m->win_lo);
}

/* Read the device at the read voltage: G in uS with read noise. */
double
memristor_device_read(struct memristor_device *d,
    const struct memristor_model *m, const struct memristor_config *cfg)
{
	double g = 1e6 / memristor_device_ohms(d, m, cfg);

	if (cfg->read_sigma > 0)
		g *= 1.0 + cfg->read_sigma * memristor_rng_gauss(&d->rng);
	if (g < 0)
		g = 0;
	d->g_read_us = g;
	return g;
}
