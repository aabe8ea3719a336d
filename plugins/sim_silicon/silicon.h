/*
 * silicon.h: simulated neuromorphic silicon neurons (DYNAP-SE-like).
 *
 * Neurons are adaptive exponential integrate-and-fire units (AdEx, Brette &
 * Gerstner, J Neurophysiol 94:3637, 2005):
 *
 *   C dV/dt  = -gL (V - EL) + gL DT exp((V - VT) / DT) - w + I
 *   tw dw/dt = a (V - EL) - w
 *   V >= Vpeak:  V <- Vr, w <- w + b, V held at Vr for the refractory period
 *
 * Default values are the paper's regular-spiking fit of a pyramidal cell:
 * C 281 pF, gL 30 nS, EL -70.6 mV, VT -50.4 mV, DT 2 mV, tw 144 ms, a 4 nS,
 * b 80.5 pA, Vr = EL. Vpeak is VT + 5 DT (-40.4 mV): beyond it the
 * exponential term makes V diverge within one step, so the spike time moves
 * by well under one step. Rheobase with these values is about 0.6 nA.
 *
 * Organisation follows DYNAP-SE1 (Moradi et al., IEEE TBioCAS 12:106, 2018):
 * chips of 4 cores of 256 neurons; the neurons of one core share their bias
 * settings (struct silicon_core_params). Unit index = chip * 1024 +
 * core * 256 + neuron, as the chip's 2+2+8 bit address. With fewer than 4
 * cores per chip and more than one chip the indices have holes; a unit in
 * a hole does not exist (silicon_unit_valid).
 *
 * Device mismatch: every neuron draws fixed lognormal factors
 * exp(sigma z - sigma^2 / 2), z ~ N(0,1) clipped to +-3 (mean 1, sigma 0.1
 * by default: ~10 % spread as measured on subthreshold analog circuits,
 * e.g. Neftci et al. 2011, Qiao et al. 2015) on leak gL, synaptic gain,
 * synaptic time constants, adaptation b and the core's DC bias, plus an
 * additive threshold offset of sigma * 10 mV on VT (1 mV sd at sigma 0.1).
 *
 * Synapses are current-based exponential (the DPI synapse of these chips is
 * a first-order low-pass filter of input pulses): a fast excitatory AMPA-
 * like one (tau 5 ms), a slow excitatory NMDA-like one (tau 100 ms, no
 * voltage gating) and an inhibitory GABA-like one (tau 10 ms). An event of
 * weight W (0-255) adds W / 255 * w_max to the synaptic current; the
 * current then decays exactly (multiplied by exp(-dt / tau) each step).
 * The default AMPA w_max (450 pA) is set so that 6 coincident weight-255
 * events fire a neuron at rest and 5 do not (without mismatch; 5-8 with
 * it); the NMDA and GABA defaults carry the same charge per event.
 *
 * Optional noise: an Ornstein-Uhlenbeck current with a 5 ms time constant
 * and standard deviation noise_pa, added to every neuron of the core (its
 * kicks are near-Gaussian: a scaled sum of four uniforms).
 *
 * Time: fixed step of SILICON_DT_US (100 us), forward Euler for V and w,
 * exact decay for synapses and noise (currents below 1e-9 pA become 0, so
 * floats never go denormal; the exponential uses a float-precision
 * polynomial so the step loop has no library call). The model never reads the clock: it
 * runs on a grid anchored at the time given to silicon_start and advances
 * up to the time silicon_advance is given. Events (synaptic input,
 * stimulation) stamped in the future are queued and applied at the first
 * grid time at or after their stamp; events in the past apply at once.
 * Given the same seed and the same calls, results are identical, however
 * advance calls are chunked.
 *
 * Addresses: "c0k1n17" is chip 0, core 1, neuron 17 (unit 273); a plain
 * decimal unit index ("273") is accepted too.
 */
#ifndef SILICON_H
#define SILICON_H

#include <stddef.h>
#include <stdint.h>

#define SILICON_DT_US 100		/* integration step */
#define SILICON_CORE_NEURONS 256
#define SILICON_CHIP_CORES 4
#define SILICON_MAX_CHIPS 4
#define SILICON_CHIP_UNITS (SILICON_CORE_NEURONS * SILICON_CHIP_CORES)
#define SILICON_QUEUE_MAX (1U << 20)	/* queued future events */
#define SILICON_ADDRESS_LEN 16		/* "c3k3n255" plus room */
/* Charge of a weight-255 event, pA x ms: 450 pA at tau 5 ms. */
#define SILICON_EVENT_CHARGE 2250.0f

enum silicon_synapse {
	SILICON_SYN_AMPA,		/* fast excitatory */
	SILICON_SYN_NMDA,		/* slow excitatory */
	SILICON_SYN_GABA,		/* inhibitory */
};

/* Bias settings shared by the 256 neurons of one core. */
struct silicon_core_params {
	/* AdEx membrane (Brette & Gerstner 2005). */
	float c_pf;		/* membrane capacitance */
	float gl_ns;		/* leak conductance */
	float el_mv;		/* leak reversal */
	float vt_mv;		/* threshold of the exponential term */
	float delta_t_mv;	/* slope factor */
	float vr_mv;		/* reset */
	float vpeak_mv;		/* spike detection */
	float a_ns;		/* subthreshold adaptation */
	float b_pa;		/* spike-triggered adaptation */
	float tau_w_ms;		/* adaptation time constant */
	float refractory_ms;	/* V held at reset after a spike */
	/* Input. */
	float bias_pa;		/* constant DC current (spontaneous rate) */
	float tau_ampa_ms;
	float tau_nmda_ms;
	float tau_gaba_ms;
	float w_ampa_pa;	/* current step of a weight-255 event */
	float w_nmda_pa;
	float w_gaba_pa;
	float noise_pa;		/* sd of the noise current, 0 for none */
};

/* What silicon_create builds. */
struct silicon_config {
	int chips;		/* 1-4 */
	int cores;		/* per chip, 1-4 */
	uint64_t seed;
	float mismatch;		/* sigma of the lognormal factors, 0-0.5 */
	struct silicon_core_params core;	/* for every core */
};

/* One neuron's state and fixed (mismatched) parameters. */
struct silicon_probe {
	float v_mv, w_pa;
	float i_ampa_pa, i_nmda_pa, i_gaba_pa, i_stim_pa, i_bias_pa;
	float gl_ns, vt_mv, b_pa, tau_ampa_ms, w_gain;
};

struct silicon;

typedef void (*silicon_spike_fn)(void *ctx, uint32_t unit, int64_t t_us);

/* silicon.c */
void silicon_params_default(struct silicon_core_params *p);
void silicon_params_weights(struct silicon_core_params *p);
void silicon_config_default(struct silicon_config *cfg);
int silicon_params_check(const struct silicon_core_params *p, char **cause);
struct silicon *silicon_create(const struct silicon_config *cfg,
    char **cause);
void silicon_free(struct silicon *s);
int silicon_core_set(struct silicon *s, uint32_t core,
    const struct silicon_core_params *p, char **cause);
uint32_t silicon_core_count(const struct silicon *s);
uint32_t silicon_units(const struct silicon *s);
int silicon_unit_valid(const struct silicon *s, uint32_t unit);
void silicon_start(struct silicon *s, int64_t t_us);
int64_t silicon_time(const struct silicon *s);
int silicon_input(struct silicon *s, uint32_t unit,
    enum silicon_synapse syn, unsigned weight, int64_t t_us);
int silicon_stimulate(struct silicon *s, uint32_t unit, float amplitude_pa,
    uint32_t width_us, int64_t t_us, char **cause);
uint64_t silicon_advance(struct silicon *s, int64_t t_us,
    silicon_spike_fn fn, void *ctx);
int silicon_probe(const struct silicon *s, uint32_t unit,
    struct silicon_probe *out);
uint64_t silicon_queue_overflows(const struct silicon *s);
size_t silicon_queue_length(const struct silicon *s);

/* silicon-address.c */
int silicon_address_parse(int chips, int cores, const char *spec,
    uint32_t *unit, char **cause);
void silicon_address_format(uint32_t unit, char *buf, size_t len);

/* silicon-queue.c */
struct silicon_item {
	int64_t t_us;
	uint64_t seq;		/* arrival order breaks ties */
	uint32_t slot;		/* dense neuron slot */
	uint8_t what;		/* SILICON_ITEM_* */
	float value;		/* pA */
};
#define SILICON_ITEM_AMPA 0
#define SILICON_ITEM_NMDA 1
#define SILICON_ITEM_GABA 2
#define SILICON_ITEM_STIM 3	/* add value to the stimulus current */

struct silicon_queue {
	struct silicon_item *items;
	size_t n, alloc, max;
	uint64_t seq;
};
void silicon_queue_init(struct silicon_queue *q, size_t max);
void silicon_queue_free(struct silicon_queue *q);
int silicon_queue_push(struct silicon_queue *q, const struct silicon_item *it);
const struct silicon_item *silicon_queue_peek(const struct silicon_queue *q);
void silicon_queue_pop(struct silicon_queue *q);

#endif
