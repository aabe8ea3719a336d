/* silicon.c: AdEx neuron cores (model described in silicon.h). */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sb-args.h"
#include "sb-rng.h"
#include "silicon.h"

#define SILICON_NOISE_TAU_MS 5.0
#define SILICON_EXP_CAP 20.0f		/* exp argument limit (e^20) */
#define SILICON_I_FLUSH 1e-9f		/* pA: smaller synaptic currents are 0 */
#define SILICON_VT_MISMATCH_MV 10.0	/* VT offset sd per unit sigma */

/* One core's settings, turned into per-step constants. */
struct silicon_core {
	struct silicon_core_params p;
	float el, vr, vpeak, inv_delta, delta, a;
	float w_rate;		/* dt / tau_w */
	float d_noise, noise_kick;
	int32_t ref_steps;
};

struct silicon {
	int chips, cores;
	uint32_t ncores, n;	/* cores in total, neurons in total */
	float mismatch;
	struct silicon_core *core;

	/* State, one float per neuron (dense slots). */
	float *v, *w, *ampa, *nmda, *gaba, *stim, *noise;
	int32_t *ref;

	/* Mismatch factors drawn once. */
	float *m_gl, *m_gain, *m_tau, *m_b, *m_bias, *m_vt;

	/* Per-neuron constants derived from core settings and mismatch. */
	float *k, *gl, *vt, *b, *bias, *d_ampa, *d_nmda, *d_gaba;
	float *gain_ampa, *gain_nmda, *gain_gaba;

	uint32_t *fired;	/* slots that spiked this step */

	int64_t t_us;		/* simulated time (grid) */
	struct sb_rng rng;	/* noise */

	struct silicon_queue queue;
	uint64_t overflows;
};

/* Uniform in (0, 1). */
static inline double
silicon_uniform(struct sb_rng *r)
{
	return sb_rng_unit_open(sb_rng_next(r));
}

/* Standard normal (Box-Muller, both values used). */
static double
silicon_gauss(struct sb_rng *r, int *have_spare, double *spare)
{
	double u1;

	if (*have_spare) {
		*have_spare = 0;
		return *spare;
	}
	u1 = silicon_uniform(r);
	*have_spare = 1;
	return sb_rng_box_muller(u1, silicon_uniform(r), spare);
}

/*
 * Approximately standard normal, cheaply: the sum of four 16-bit uniforms
 * (Irwin-Hall), centred and scaled to unit variance. Good enough for a
 * noise current; tails stop at +-3.46.
 */
static inline float
silicon_gauss_fast(struct sb_rng *rng)
{
	uint64_t r = sb_rng_next(rng);
	uint32_t sum = (uint32_t)(r & 0xffff) + (uint32_t)((r >> 16) & 0xffff) +
	    (uint32_t)((r >> 32) & 0xffff) + (uint32_t)(r >> 48);

	return ((float)sum * (1.0f / 65536.0f) - 2.0f) * 1.7320508f;
}

/* Default core settings (Brette & Gerstner 2005, see silicon.h). */
void
silicon_params_default(struct silicon_core_params *p)
{
	memset(p, 0, sizeof *p);
	p->c_pf = 281.0f;
	p->gl_ns = 30.0f;
	p->el_mv = -70.6f;
	p->vt_mv = -50.4f;
	p->delta_t_mv = 2.0f;
	p->vr_mv = -70.6f;
	p->vpeak_mv = -40.4f;
	p->a_ns = 4.0f;
	p->b_pa = 80.5f;
	p->tau_w_ms = 144.0f;
	p->refractory_ms = 2.0f;
	p->bias_pa = 0.0f;
	p->tau_ampa_ms = 5.0f;
	p->tau_nmda_ms = 100.0f;
	p->tau_gaba_ms = 10.0f;
	silicon_params_weights(p);
	p->noise_pa = 0.0f;
}

/* Default weights: equal charge per event on every synapse (see .h). */
void
silicon_params_weights(struct silicon_core_params *p)
{
	p->w_ampa_pa = SILICON_EVENT_CHARGE / p->tau_ampa_ms;
	p->w_nmda_pa = SILICON_EVENT_CHARGE / p->tau_nmda_ms;
	p->w_gaba_pa = SILICON_EVENT_CHARGE / p->tau_gaba_ms;
}

/* Default configuration: one chip of four cores, 10 % mismatch. */
void
silicon_config_default(struct silicon_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->chips = 1;
	cfg->cores = SILICON_CHIP_CORES;
	cfg->seed = 1;
	cfg->mismatch = 0.1f;
	silicon_params_default(&cfg->core);
}

/* Check one value lies in [lo, hi]. */
static int
silicon_check_range(const char *name, float v, float lo, float hi,
    char **cause)
{
	if (isfinite(v) && v >= lo && v <= hi)
		return 0;
	sb_cause(cause, "sim_silicon: %s %g out of range (use %g to %g)",
	    name, v, lo, hi);
	return -1;
}

/* Check core settings; -1 with *cause naming the bad one. */
int
silicon_params_check(const struct silicon_core_params *p, char **cause)
{
	if (silicon_check_range("c_pf", p->c_pf, 1, 1e5, cause) ||
	    silicon_check_range("gl_ns", p->gl_ns, 0.1f, 1e4, cause) ||
	    silicon_check_range("el_mv", p->el_mv, -120, 0, cause) ||
	    silicon_check_range("vt_mv", p->vt_mv, -120, 0, cause) ||
	    silicon_check_range("delta_t_mv", p->delta_t_mv, 0.1f, 20, cause) ||
	    silicon_check_range("vr_mv", p->vr_mv, -120, 0, cause) ||
	    silicon_check_range("a_ns", p->a_ns, -100, 1000, cause) ||
	    silicon_check_range("b_pa", p->b_pa, 0, 1e5, cause) ||
	    silicon_check_range("tau_w_ms", p->tau_w_ms, 1, 1e5, cause) ||
	    silicon_check_range("refractory_ms", p->refractory_ms, 0.1f, 1000,
	    cause) ||
	    silicon_check_range("bias_pa", p->bias_pa, -1e5, 1e5, cause) ||
	    silicon_check_range("tau_ampa_ms", p->tau_ampa_ms, 0.5f, 1e4,
	    cause) ||
	    silicon_check_range("tau_nmda_ms", p->tau_nmda_ms, 0.5f, 1e4,
	    cause) ||
	    silicon_check_range("tau_gaba_ms", p->tau_gaba_ms, 0.5f, 1e4,
	    cause) ||
	    silicon_check_range("w_ampa_pa", p->w_ampa_pa, 0, 1e6, cause) ||
	    silicon_check_range("w_nmda_pa", p->w_nmda_pa, 0, 1e6, cause) ||
	    silicon_check_range("w_gaba_pa", p->w_gaba_pa, 0, 1e6, cause) ||
	    silicon_check_range("noise_pa", p->noise_pa, 0, 1e5, cause))
		return -1;
	if (p->vpeak_mv <= p->vt_mv || p->vpeak_mv > 50) {
		sb_cause(cause, "sim_silicon: vpeak_mv %g must lie above "
		    "vt_mv %g and at most 50", p->vpeak_mv, p->vt_mv);
		return -1;
	}
	if (p->vr_mv >= p->vpeak_mv) {
		sb_cause(cause, "sim_silicon: vr_mv %g must lie below "
		    "vpeak_mv %g", p->vr_mv, p->vpeak_mv);
		return -1;
	}
	return 0;
}

/* A standard normal value clipped to +-3. */
static double
silicon_clipped_gauss(struct sb_rng *rng, int *have, double *spare)
{
	double z = silicon_gauss(rng, have, spare);

	if (z > 3)
		z = 3;
	if (z < -3)
		z = -3;
	return z;
}

/* A mean-one lognormal factor with sigma, z clipped to +-3. */
static float
silicon_lognormal(struct sb_rng *rng, float sigma, int *have, double *spare)
{
	double z = silicon_clipped_gauss(rng, have, spare);

	return (float)exp(sigma * z - sigma * sigma / 2);
}

/* Free a model. */
void
silicon_free(struct silicon *s)
{
	if (s == NULL)
		return;
	silicon_queue_free(&s->queue);
	free(s->core);
	free(s->v);
	free(s->w);
	free(s->ampa);
	free(s->nmda);
	free(s->gaba);
	free(s->stim);
	free(s->noise);
	free(s->ref);
	free(s->m_gl);
	free(s->m_gain);
	free(s->m_tau);
	free(s->m_b);
	free(s->m_bias);
	free(s->m_vt);
	free(s->k);
	free(s->gl);
	free(s->vt);
	free(s->b);
	free(s->bias);
	free(s->d_ampa);
	free(s->d_nmda);
	free(s->d_gaba);
	free(s->gain_ampa);
	free(s->gain_nmda);
	free(s->gain_gaba);
	free(s->fired);
	free(s);
}

/* Build a model from cfg; NULL with *cause when cfg is invalid. */
struct silicon *
silicon_create(const struct silicon_config *cfg, char **cause)
{
	struct silicon *s;
	float **arrays[25];
	struct sb_rng mrng;
	size_t i, narrays = 0;
	uint32_t c, j;
	int have = 0;
	double spare = 0;

	if (cfg->chips < 1 || cfg->chips > SILICON_MAX_CHIPS) {
		sb_cause(cause, "sim_silicon: chips=%d out of range "
		    "(use 1 to %d)", cfg->chips, SILICON_MAX_CHIPS);
		return NULL;
	}
	if (cfg->cores < 1 || cfg->cores > SILICON_CHIP_CORES) {
		sb_cause(cause, "sim_silicon: cores=%d out of range "
		    "(use 1 to %d per chip)", cfg->cores, SILICON_CHIP_CORES);
		return NULL;
	}
	if (silicon_check_range("mismatch", cfg->mismatch, 0, 0.5f, cause) ||
	    silicon_params_check(&cfg->core, cause))
		return NULL;

	if ((s = calloc(1, sizeof *s)) == NULL)
		goto nomem;
	s->chips = cfg->chips;
	s->cores = cfg->cores;
	s->ncores = (uint32_t)(cfg->chips * cfg->cores);
	s->n = s->ncores * SILICON_CORE_NEURONS;
	s->mismatch = cfg->mismatch;
	silicon_queue_init(&s->queue, SILICON_QUEUE_MAX);

	arrays[narrays++] = &s->v;
	arrays[narrays++] = &s->w;
	arrays[narrays++] = &s->ampa;
	arrays[narrays++] = &s->nmda;
	arrays[narrays++] = &s->gaba;
	arrays[narrays++] = &s->stim;
	arrays[narrays++] = &s->noise;
	arrays[narrays++] = &s->m_gl;
	arrays[narrays++] = &s->m_gain;
	arrays[narrays++] = &s->m_tau;
	arrays[narrays++] = &s->m_b;
	arrays[narrays++] = &s->m_bias;
	arrays[narrays++] = &s->m_vt;
	arrays[narrays++] = &s->k;
	arrays[narrays++] = &s->gl;
	arrays[narrays++] = &s->vt;
	arrays[narrays++] = &s->b;
	arrays[narrays++] = &s->bias;
	arrays[narrays++] = &s->d_ampa;
	arrays[narrays++] = &s->d_nmda;
	arrays[narrays++] = &s->d_gaba;
	arrays[narrays++] = &s->gain_ampa;
	arrays[narrays++] = &s->gain_nmda;
	arrays[narrays++] = &s->gain_gaba;
	for (i = 0; i < narrays; i++) {
		if ((*arrays[i] = calloc(s->n, sizeof(float))) == NULL)
			goto nomem;
	}
	s->ref = calloc(s->n, sizeof *s->ref);
	s->fired = calloc(s->n, sizeof *s->fired);
	s->core = calloc(s->ncores, sizeof *s->core);
	if (s->ref == NULL || s->fired == NULL || s->core == NULL)
		goto nomem;

	/* Mismatch from its own stream, so noise never changes it. */
	sb_rng_seed(&mrng, cfg->seed, 1);
	for (j = 0; j < s->n; j++) {
		s->m_gl[j] = silicon_lognormal(&mrng, s->mismatch, &have,
		    &spare);
		s->m_gain[j] = silicon_lognormal(&mrng, s->mismatch, &have,
		    &spare);
		s->m_tau[j] = silicon_lognormal(&mrng, s->mismatch, &have,
		    &spare);
		s->m_b[j] = silicon_lognormal(&mrng, s->mismatch, &have,
		    &spare);
		s->m_bias[j] = silicon_lognormal(&mrng, s->mismatch, &have,
		    &spare);
		s->m_vt[j] = (float)(s->mismatch * SILICON_VT_MISMATCH_MV *
		    silicon_clipped_gauss(&mrng, &have, &spare));
	}
	sb_rng_seed(&s->rng, cfg->seed, 2);

	for (c = 0; c < s->ncores; c++)
		silicon_core_set(s, c, &cfg->core, NULL);
	for (j = 0; j < s->n; j++)
		s->v[j] = s->core[j / SILICON_CORE_NEURONS].el;
	return s;

nomem:
	sb_cause(cause, "sim_silicon: out of memory for %d chips of %d "
	    "cores", cfg->chips, cfg->cores);
	silicon_free(s);
	return NULL;
}

/* Apply settings to core (dense index: chip * cores + core). */
int
silicon_core_set(struct silicon *s, uint32_t core,
    const struct silicon_core_params *p, char **cause)
{
	struct silicon_core *c;
	const double dt_ms = SILICON_DT_US / 1000.0;
	double tau, d;
	uint32_t j, first;

	if (core >= s->ncores) {
		sb_cause(cause, "sim_silicon: no core %u (have 0-%u)",
		    core, s->ncores - 1);
		return -1;
	}
	if (silicon_params_check(p, cause) != 0)
		return -1;
	c = &s->core[core];
	c->p = *p;
	c->el = p->el_mv;
	c->vr = p->vr_mv;
	c->vpeak = p->vpeak_mv;
	c->delta = p->delta_t_mv;
	c->inv_delta = 1.0f / p->delta_t_mv;
	c->a = p->a_ns;
	c->w_rate = (float)(dt_ms / p->tau_w_ms);
	c->ref_steps = (int32_t)ceil(p->refractory_ms * 1000.0 /
	    SILICON_DT_US - 1e-9);
	d = exp(-dt_ms / SILICON_NOISE_TAU_MS);
	c->d_noise = (float)d;
	c->noise_kick = (float)(p->noise_pa * sqrt(1 - d * d));

	first = core * SILICON_CORE_NEURONS;
	for (j = first; j < first + SILICON_CORE_NEURONS; j++) {
		/* dV [mV] = dt [ms] / C [pF] * I [pA]. */
		s->k[j] = (float)(dt_ms / p->c_pf);
		s->gl[j] = p->gl_ns * s->m_gl[j];
		s->vt[j] = p->vt_mv + s->m_vt[j];
		s->b[j] = p->b_pa * s->m_b[j];
		s->bias[j] = p->bias_pa * s->m_bias[j];
		tau = p->tau_ampa_ms * s->m_tau[j];
		s->d_ampa[j] = (float)exp(-dt_ms / tau);
		tau = p->tau_nmda_ms * s->m_tau[j];
		s->d_nmda[j] = (float)exp(-dt_ms / tau);
		tau = p->tau_gaba_ms * s->m_tau[j];
		s->d_gaba[j] = (float)exp(-dt_ms / tau);
		s->gain_ampa[j] = p->w_ampa_pa * s->m_gain[j] / 255.0f;
		s->gain_nmda[j] = p->w_nmda_pa * s->m_gain[j] / 255.0f;
		s->gain_gaba[j] = p->w_gaba_pa * s->m_gain[j] / 255.0f;
		if (c->noise_kick == 0)
			s->noise[j] = 0;
	}
	return 0;
}

/* Number of cores (chips x cores per chip). */
uint32_t
silicon_core_count(const struct silicon *s)
{
	return s->ncores;
}

/* One past the highest unit index. */
uint32_t
silicon_units(const struct silicon *s)
{
	return (uint32_t)((s->chips - 1) * SILICON_CHIP_UNITS +
	    s->cores * SILICON_CORE_NEURONS);
}

/* Dense slot of a unit index, or -1 if there is no such neuron. */
static int64_t
silicon_slot(const struct silicon *s, uint32_t unit)
{
	uint32_t chip = unit / SILICON_CHIP_UNITS;
	uint32_t core = (unit % SILICON_CHIP_UNITS) / SILICON_CORE_NEURONS;

	if (chip >= (uint32_t)s->chips || core >= (uint32_t)s->cores)
		return -1;
	return (int64_t)(chip * s->cores + core) * SILICON_CORE_NEURONS +
	    unit % SILICON_CORE_NEURONS;
}

/* Unit index of a dense slot. */
static uint32_t
silicon_unit(const struct silicon *s, uint32_t slot)
{
	uint32_t core = slot / SILICON_CORE_NEURONS;

	return (core / s->cores) * SILICON_CHIP_UNITS +
	    (core % s->cores) * SILICON_CORE_NEURONS +
	    slot % SILICON_CORE_NEURONS;
}

/* Does the unit index name a neuron? */
int
silicon_unit_valid(const struct silicon *s, uint32_t unit)
{
	return silicon_slot(s, unit) >= 0;
}

/* Anchor the time grid at t_us (before the first advance). */
void
silicon_start(struct silicon *s, int64_t t_us)
{
	s->t_us = t_us;
}

/* Simulated time reached so far. */
int64_t
silicon_time(const struct silicon *s)
{
	return s->t_us;
}

/* Apply one event to the state now. */
static void
silicon_apply(struct silicon *s, const struct silicon_item *it)
{
	switch (it->what) {
	case SILICON_ITEM_AMPA:
		s->ampa[it->slot] += it->value * s->gain_ampa[it->slot];
		break;
	case SILICON_ITEM_NMDA:
		s->nmda[it->slot] += it->value * s->gain_nmda[it->slot];
		break;
	case SILICON_ITEM_GABA:
		s->gaba[it->slot] += it->value * s->gain_gaba[it->slot];
		break;
	case SILICON_ITEM_STIM:
		s->stim[it->slot] += it->value;
		break;
	}
}

/* Apply it now if due, else queue it (at once if the queue is full). */
static void
silicon_schedule(struct silicon *s, const struct silicon_item *it)
{
	if (it->t_us <= s->t_us) {
		silicon_apply(s, it);
		return;
	}
	if (silicon_queue_push(&s->queue, it) != 0) {
		s->overflows++;
		silicon_apply(s, it);
	}
}

/*
 * A weighted event (0-255) into one synapse of unit at t_us. Returns -1
 * if the unit does not exist.
 */
int
silicon_input(struct silicon *s, uint32_t unit, enum silicon_synapse syn,
    unsigned weight, int64_t t_us)
{
	struct silicon_item it;
	int64_t slot = silicon_slot(s, unit);

	if (slot < 0)
		return -1;
	if (weight == 0)
		return 0;
	if (weight > 255)
		weight = 255;
	memset(&it, 0, sizeof it);
	it.t_us = t_us;
	it.slot = (uint32_t)slot;
	switch (syn) {
	case SILICON_SYN_NMDA:
		it.what = SILICON_ITEM_NMDA;
		break;
	case SILICON_SYN_GABA:
		it.what = SILICON_ITEM_GABA;
		break;
	default:
		it.what = SILICON_ITEM_AMPA;
		break;
	}
	it.value = (float)weight;
	silicon_schedule(s, &it);
	return 0;
}

/*
 * Inject a current step of amplitude_pa into unit from t_us for width_us
 * (a step stamped in the past starts now).
 */
int
silicon_stimulate(struct silicon *s, uint32_t unit, float amplitude_pa,
    uint32_t width_us, int64_t t_us, char **cause)
{
	struct silicon_item it;
	int64_t slot = silicon_slot(s, unit);
	char name[SILICON_ADDRESS_LEN];

	if (slot < 0) {
		silicon_address_format(unit, name, sizeof name);
		sb_cause(cause, "sim_silicon: no unit %u (%s): have %d "
		    "chips of %d cores", unit, name, s->chips, s->cores);
		return -1;
	}
	if (!isfinite(amplitude_pa) || fabsf(amplitude_pa) > 1e6f) {
		sb_cause(cause, "sim_silicon: stimulus amplitude %g nA "
		    "out of range (use -1000 to 1000)", amplitude_pa / 1000);
		return -1;
	}
	if (width_us == 0) {
		sb_cause(cause, "sim_silicon: stimulus width must be at "
		    "least 1 us");
		return -1;
	}
	if (t_us < s->t_us)
		t_us = s->t_us;
	memset(&it, 0, sizeof it);
	it.what = SILICON_ITEM_STIM;
	it.slot = (uint32_t)slot;
	it.t_us = t_us;
	it.value = amplitude_pa;
	silicon_schedule(s, &it);
	it.t_us = t_us + width_us;
	it.value = -amplitude_pa;
	silicon_schedule(s, &it);
	return 0;
}

/*
 * e^x for |x| <= 20 without a library call, so the step loop vectorises:
 * 2^n by the exponent bits times 2^f (|f| <= 0.5) by its Taylor series to
 * the 6th power (relative error ~1e-7, float precision).
 */
static inline float
silicon_exp(float x)
{
	const float magic = 12582912.0f;	/* 1.5 * 2^23: rounds */
	float y = x * 1.44269504f, n, f, p;
	int32_t bits;
	float scale;

	n = (y + magic) - magic;
	f = (y - n) * 0.693147181f;
	p = 1.0f + f * (1.0f + f * (0.5f + f * (1.0f / 6 + f * (1.0f / 24 +
	    f * (1.0f / 120 + f * (1.0f / 720))))));
	bits = ((int32_t)n + 127) << 23;
	memcpy(&scale, &bits, sizeof scale);
	return p * scale;
}

/* Draw the noise current of one core for one step. */
static void
silicon_step_noise(struct silicon *s, const struct silicon_core *c,
    uint32_t first)
{
	float *noise = s->noise + first;
	uint32_t j;

	for (j = 0; j < SILICON_CORE_NEURONS; j++) {
		noise[j] = noise[j] * c->d_noise + c->noise_kick *
		    silicon_gauss_fast(&s->rng);
	}
}

/*
 * Integrate one core for one step, recording spikes in s->fired. The
 * first loop is branch-free arithmetic (vectorised by the compiler); the
 * second handles the few neurons that crossed Vpeak.
 */
static size_t
silicon_step_core(struct silicon *s, uint32_t core, size_t nfired)
{
	const struct silicon_core *c = &s->core[core];
	const uint32_t first = core * SILICON_CORE_NEURONS;
	const float el = c->el, vr = c->vr, vpeak = c->vpeak;
	const float inv_delta = c->inv_delta, delta = c->delta;
	const float a = c->a, w_rate = c->w_rate;
	float *restrict v = s->v + first, *restrict w = s->w + first;
	float *restrict ampa = s->ampa + first, *restrict nmda = s->nmda + first;
	float *restrict gaba = s->gaba + first;
	int32_t *restrict ref = s->ref + first;
	const float *restrict bias = s->bias + first, *restrict stim =
	    s->stim + first, *restrict noise = s->noise + first;
	const float *restrict d_ampa = s->d_ampa + first, *restrict d_nmda =
	    s->d_nmda + first, *restrict d_gaba = s->d_gaba + first;
	const float *restrict k = s->k + first, *restrict gl = s->gl + first;
	const float *restrict vt = s->vt + first;
	float in, x, vn, vj, wj;
	int32_t r;
	uint32_t j;

	if (c->noise_kick > 0)
		silicon_step_noise(s, c, first);
	for (j = 0; j < SILICON_CORE_NEURONS; j++) {
		in = bias[j] + stim[j] + noise[j] + ampa[j] + nmda[j] -
		    gaba[j];
		/* Flush decayed currents to zero before they turn denormal. */
		ampa[j] = ampa[j] > SILICON_I_FLUSH ? ampa[j] * d_ampa[j] : 0;
		nmda[j] = nmda[j] > SILICON_I_FLUSH ? nmda[j] * d_nmda[j] : 0;
		gaba[j] = gaba[j] > SILICON_I_FLUSH ? gaba[j] * d_gaba[j] : 0;
		vj = v[j];
		wj = w[j];
		x = (vj - vt[j]) * inv_delta;
		x = x > SILICON_EXP_CAP ? SILICON_EXP_CAP : x;
		x = x < -SILICON_EXP_CAP ? -SILICON_EXP_CAP : x;
		vn = vj + k[j] * (gl[j] * (el - vj + delta * silicon_exp(x)) -
		    wj + in);
		r = ref[j];
		v[j] = r > 0 ? vr : vn;
		ref[j] = r > 0 ? r - 1 : 0;
		w[j] = wj + w_rate * (a * (vj - el) - wj);
	}
	for (j = 0; j < SILICON_CORE_NEURONS; j++) {
		if (v[j] >= vpeak) {
			v[j] = vr;
			w[j] += s->b[first + j];
			ref[j] = c->ref_steps;
			s->fired[nfired++] = first + j;
		}
	}
	return nfired;
}

/*
 * Run the model up to t_us (in whole steps), calling fn for every spike.
 * Returns the number of spikes.
 */
uint64_t
silicon_advance(struct silicon *s, int64_t t_us, silicon_spike_fn fn,
    void *ctx)
{
	const struct silicon_item *it;
	uint64_t spikes = 0;
	size_t nfired, i;
	uint32_t c;

	while (s->t_us + SILICON_DT_US <= t_us) {
		while ((it = silicon_queue_peek(&s->queue)) != NULL &&
		    it->t_us <= s->t_us) {
			silicon_apply(s, it);
			silicon_queue_pop(&s->queue);
		}
		nfired = 0;
		for (c = 0; c < s->ncores; c++)
			nfired = silicon_step_core(s, c, nfired);
		s->t_us += SILICON_DT_US;
		for (i = 0; i < nfired; i++) {
			if (fn != NULL)
				fn(ctx, silicon_unit(s, s->fired[i]), s->t_us);
		}
		spikes += nfired;
	}
	return spikes;
}

/* Read one neuron's state and parameters; -1 if there is no such unit. */
int
silicon_probe(const struct silicon *s, uint32_t unit,
    struct silicon_probe *out)
{
	int64_t slot = silicon_slot(s, unit);
	const struct silicon_core *c;
	uint32_t j;

	if (slot < 0)
		return -1;
	j = (uint32_t)slot;
	c = &s->core[j / SILICON_CORE_NEURONS];
	out->v_mv = s->v[j];
	out->w_pa = s->w[j];
	out->i_ampa_pa = s->ampa[j];
	out->i_nmda_pa = s->nmda[j];
	out->i_gaba_pa = s->gaba[j];
	out->i_stim_pa = s->stim[j];
	out->i_bias_pa = s->bias[j];
	out->gl_ns = s->gl[j];
	out->vt_mv = s->vt[j];
	out->b_pa = s->b[j];
	out->tau_ampa_ms = c->p.tau_ampa_ms * s->m_tau[j];
	out->w_gain = s->m_gain[j];
	return 0;
}

/* Events applied early because the queue was full. */
uint64_t
silicon_queue_overflows(const struct silicon *s)
{
	return s->overflows;
}

/* Events waiting for their time. */
size_t
silicon_queue_length(const struct silicon *s)
{
	return s->queue.n;
}
