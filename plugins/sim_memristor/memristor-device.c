/*
 * memristor-device.c: one TiOx ReRAM device, in the form of Messaris, Serb,
 * Khiat, Nikolaidis, Prodromakis, "A data-driven Verilog-A ReRAM model",
 * IEEE TCAD 2018:
 *
 *   dR/dt = s(v) f(R, v)
 *   s(v)  = A_p (exp(|v|/t_p) - 1)                       v > 0
 *           A_n (exp(|v|/t_n) - 1)                       v < 0
 *   f     = (r_p(v) - R)^2 theta(r_p(v) - R),  r_p = t0 + t1 v,   v > 0
 *           (R - r_n(v))^2 theta(R - r_n(v)),  r_n = b0 + b1 v,   v < 0
 *
 * Direction: a positive pulse drives R UP toward r_p(v), a negative pulse
 * DOWN toward r_n(v), and neither goes past its boundary ("for any RS below
 * R_max at a given positive voltage, applying this voltage can push the
 * device to R_max, but no further"), as in the paper and in the maker's
 * emulator, VirtualArC (arc1_pyqt), which uses the same form.
 *
 * Why neither published parameter set is used:
 * - The paper's fit (t0 = 17.16 kOhm, t1 = 0.15 kOhm/V, b0 = 24.81 kOhm,
 *   b1 = 17.91 kOhm/V, A_p = -4.86e-5, t_p = 0.12 V, A_n = 1.09e-3,
 *   t_n = 0.18 V) describes a 10-18 kOhm device under 0.6-0.8 V across the
 *   cell. Mapped onto the experiment's 4-9 kOhm window with its boundaries
 *   at the window's edges, the (r - R)^2 term makes the approach to the
 *   edge ever slower: +/-4 V trains stalled at about 64 % of the window.
 * - VirtualArC's parameters (A_p = 11.483, A_n = -11.483, t_p = t_n =
 *   1.731 V, r_p = 9000 + 500 v, r_n = 5000 + 500 v ohms) cross the whole
 *   window in ONE +/-4 V, 100 us pulse (6 kOhm -> 10.9 kOhm or 3.1 kOhm):
 *   the weight jumps between 0 and 255, no plasticity to watch.
 *
 * Fitted here (applied volts, ohms of the 4-9 kOhm window, seconds):
 *   t0 = 6000, t1 = 1500 /V     r_p(+4 V) = 12 kOhm, r_p(+2 V) = 9 kOhm
 *   b0 = 7000, b1 = 1500 /V     r_n(-4 V) =  1 kOhm, r_n(-2 V) = 4 kOhm
 *   A_p = A_n = 4.7e-4 /(Ohm s), t_p = t_n = 0.8 V
 * against these targets, under the experiment's +/-4 V, 100 us pulses:
 * - gradual: from one edge of the window to the other in about 30 pulses
 *   (s(4 V) tau = 6.9e-6 /Ohm; the first pulse moves R by 8-9 % of the
 *   window, the last ones by 0.2-1 %), either way;
 * - complete: the 4 V boundaries lie 3 kOhm beyond the window (60 % of it),
 *   so trains reach its edges instead of creeping toward them; the state is
 *   held inside [rmin, rmax], so repeated potentiation ends at the top of
 *   the weight and repeated depression at the bottom;
 * - symmetric: r_p(v) + r_n(-v) = 13 kOhm, twice the window's middle, and
 *   equal rates: the experiment used the same pulse either way;
 * - voltage-selective: below 2 V the boundaries lie inside the window and
 *   s(v) is small (1 V moves R by about 0.1 ohm per 100 us pulse), 3 V
 *   takes hundreds of pulses, 5 V a few and 6 V (max_v) one, the
 *   exponential sensitivity of real filaments. |v| at or below the read
 *   voltage never switches (the instrument's reads are non-destructive).
 *
 * Window mapping: the fit's window [win_lo, win_hi] = [4000, 9000] is
 * mapped affinely onto the configured [rmin, rmax]:
 *   R_window = rmin + alpha (R_model - win_lo),
 *   alpha = (rmax - rmin) / (win_hi - win_lo),
 * which keeps the model's shape (dR_w/dt = (s/alpha)(r_w - R_w)^2) and so
 * the number of pulses from one edge to the other.
 *
 * Integration: with v fixed over a pulse, dR/dt = k (r - R)^2 with
 * k = s(v) > 0 has the exact solution
 *   r - R(t) = (r - R0) / (1 + k |r - R0| t),
 * which is used for each pulse (no sub-steps, no error). Cycle-to-cycle
 * variability multiplies each pulse's dR by a lognormal factor, clipped so
 * that R never overshoots the boundary or leaves the window.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>

#include "memristor.h"

/* The fitted parameters described above. */
void
memristor_model_fitted(struct memristor_model *m)
{
	m->t0 = 6000.0;
	m->t1 = 1500.0;
	m->b0 = 7000.0;
	m->b1 = 1500.0;
	m->a_p = 4.7e-4;
	m->t_p = 0.8;
	m->a_n = 4.7e-4;
	m->t_n = 0.8;
	m->win_lo = 4000.0;
	m->win_hi = 9000.0;
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
	double v = fabs(amplitude_v), bound, stop, k, tau, r, u, step, alpha;
	int up = amplitude_v > 0;
	uint32_t i;

	if (!(v > cfg->read_v))
		return 0.0;	/* a read (or weaker): non-destructive */
	tau = width_us * 1e-6;
	if (up) {
		/* v > 0: R rises toward r_p(v). */
		bound = m->t0 + m->t1 * v;
		stop = bound < m->win_hi ? bound : m->win_hi;
		k = d->a_p * expm1(v * d->inv_t_p);
	} else {
		/* v < 0: R falls toward r_n(v) = b0 + b1 v = b0 - b1 |v|. */
		bound = m->b0 - m->b1 * v;
		stop = bound > m->win_lo ? bound : m->win_lo;
		k = d->a_n * expm1(v * d->inv_t_n);
	}

	r = d->r;
	for (i = 0; i < count; i++) {
		/* theta(): nothing moves at or beyond the boundary. */
		if (up ? r >= stop : r <= stop)
			break;
		u = bound - r;
		step = u - u / (1.0 + k * fabs(u) * tau);
		if (cfg->c2c_sigma > 0)
			step *= exp(cfg->c2c_sigma *
			    memristor_rng_gauss(&d->rng));
		r += step;
		if (up ? r > stop : r < stop)
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
