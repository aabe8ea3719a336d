/*
 * plugin.c: the sim_silicon plugin, simulated DYNAP-SE-like silicon neurons
 * (model in silicon.h) behind the neurons capability.
 *
 * Arguments (all optional):
 *   chips=1-4           chips (default 1)
 *   cores=1-4           cores per chip (default 4); unit index =
 *                       chip * 1024 + core * 256 + neuron
 *   name=NAME           population name (default "silicon")
 *   refractory_ms=MS    refractory period (default 2, 0.1-1000)
 *   bias_pa=PA[,PA...]  DC bias current, one value for every core or one
 *                       per core in unit order (default 0: silent;
 *                       rheobase is about 600 pA)
 *   synapse=ampa|nmda|gaba   where weighted events land (default ampa)
 *   w_max_pa=PA         current step of a weight-255 event on that synapse
 *                       (default: AMPA 450 pA, 6 coincident events fire;
 *                       NMDA and GABA carry the same charge per event)
 *   tau_ampa_ms, tau_nmda_ms, tau_gaba_ms   synaptic time constants
 *                       (defaults 5, 100, 10)
 *   a_ns, b_pa, tau_w_ms   adaptation (defaults 4, 80.5, 144)
 *   mismatch=SIGMA      device mismatch spread (default 0.1, 0-0.5)
 *   noise_pa=PA         sd of a 5 ms Ornstein-Uhlenbeck noise current
 *                       (default 0)
 *   seed=N              read through the host (default from the session)
 *
 * stimulate() takes its amplitude in nA (1.0 = a 1 nA current step; the
 * ABI names the argument volts for electrodes). synaptic_input() uses the
 * weight only: the conductance argument is already mapped into the weight
 * by the synapse site. Every spike is emitted as SB_SPIKE_SPONTANEOUS.
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synbridge-plugin.h"
#include "sb-args.h"
#include "silicon.h"

SB_PLUGIN("sim_silicon");

__attribute__((visibility("default")))
int synbridge_plugin_init(struct sb_plugin *, const struct sb_host_api *);
__attribute__((visibility("default")))
void synbridge_plugin_end(struct sb_plugin *);

#define SIM_SILICON_NAME_LEN 64

/* One loaded instance. */
struct sim_silicon {
	struct sb_neurons neurons;
	char name[SIM_SILICON_NAME_LEN];
	const struct sb_host_api *host;
	struct sb_plugin *plugin;
	struct silicon *model;
	enum silicon_synapse synapse;
	struct sb_emitter *em;		/* during advance only */
	uint64_t overflows_logged;
	uint64_t emit_failures;
	uint64_t bad_units;
};

/* Free an instance (the host's free_func). */
static void
sim_silicon_free(void *data)
{
	struct sim_silicon *ss = data;

	if (ss == NULL)
		return;
	silicon_free(ss->model);
	free(ss);
}

/* Emit one spike to the host. */
static void
sim_silicon_spike(void *ctx, uint32_t unit, int64_t t_us)
{
	struct sim_silicon *ss = ctx;
	struct sb_event ev;

	memset(&ev, 0, sizeof ev);
	ev.t_us = t_us;
	ev.kind = SB_EV_SPIKE;
	ev.index = unit;
	ev.aux = SB_SPIKE_SPONTANEOUS;
	if (ss->host->emit(ss->em, &ev) != 0)
		ss->emit_failures++;
}

/* neurons.advance: run the model up to t_us. */
static int
sim_silicon_advance(void *data, int64_t t_us, struct sb_emitter *em)
{
	struct sim_silicon *ss = data;

	ss->em = em;
	silicon_advance(ss->model, t_us, sim_silicon_spike, ss);
	ss->em = NULL;
	return 0;
}

/* neurons.stimulate: a current step of amplitude nA for width_us. */
static int
sim_silicon_stimulate(void *data, uint32_t unit, double amplitude,
    uint32_t width_us, int64_t t_us, char **cause)
{
	struct sim_silicon *ss = data;

	if (!isfinite(amplitude) || fabs(amplitude) > 1000) {
		sb_cause(cause, "sim_silicon: stimulus amplitude %g nA out "
		    "of range (use -1000 to 1000 nA)", amplitude);
		return -1;
	}
	return silicon_stimulate(ss->model, unit, (float)(amplitude * 1000),
	    width_us, t_us, cause);
}

/* neurons.synaptic_input: a weighted event into the chosen synapse. */
static void
sim_silicon_synaptic_input(void *data, uint32_t unit, unsigned weight,
    double g_us, int64_t t_us)
{
	struct sim_silicon *ss = data;
	uint64_t overflows;

	if (silicon_input(ss->model, unit, ss->synapse, weight, t_us) != 0) {
		if (sb_worth_logging(++ss->bad_units)) {
			ss->host->log(ss->plugin, SB_LOG_WARNING, "sim_silicon: "
			    "synaptic input for unit %u ignored: no such unit "
			    "(%" PRIu64 " so far)", unit, ss->bad_units);
		}
		return;
	}
	overflows = silicon_queue_overflows(ss->model);
	if (overflows != ss->overflows_logged) {
		ss->overflows_logged = overflows;
		if (sb_worth_logging(overflows)) {
			ss->host->log(ss->plugin, SB_LOG_WARNING, "sim_silicon: "
			    "event queue full (%u): %" PRIu64 " future events "
			    "applied early", SILICON_QUEUE_MAX, overflows);
		}
	}
}

/* Read a numeric argument into *out; -1 with a logged reason. */
static int
sim_silicon_arg_float(struct sim_silicon *ss, const char *key,
    const char *value, float *out)
{
	double v;

	if (value == NULL)
		return 0;
	if (sb_args_number(value, &v) != 0) {
		ss->host->log(ss->plugin, SB_LOG_ERROR, "sim_silicon: %s='%s' "
		    "is not a number", key, value);
		return -1;
	}
	*out = (float)v;
	return 0;
}

/* Read an integer argument in [lo, hi] into *out. */
static int
sim_silicon_arg_int(struct sim_silicon *ss, const char *key,
    const char *value, int lo, int hi, int *out)
{
	double v;

	if (value == NULL)
		return 0;
	if (sb_args_number(value, &v) != 0 || v != floor(v) || v < lo ||
	    v > hi) {
		ss->host->log(ss->plugin, SB_LOG_ERROR, "sim_silicon: %s='%s' "
		    "invalid (use a whole number from %d to %d)", key, value,
		    lo, hi);
		return -1;
	}
	*out = (int)v;
	return 0;
}

/* Apply bias_pa: one value for all cores or a comma list, one per core. */
static int
sim_silicon_bias(struct sim_silicon *ss, const char *value,
    const struct silicon_core_params *base)
{
	struct silicon_core_params p = *base;
	uint32_t ncores = silicon_core_count(ss->model), n = 0, c;
	char *copy, *next, *tok, *cause = NULL;
	float bias[SILICON_MAX_CHIPS * SILICON_CHIP_CORES];
	double v;

	if (value == NULL)
		return 0;
	if ((copy = strdup(value)) == NULL)
		return -1;
	next = copy;
	while ((tok = strsep(&next, ",")) != NULL) {
		if (n == ncores || sb_args_number(tok, &v) != 0) {
			ss->host->log(ss->plugin, SB_LOG_ERROR, "sim_silicon: "
			    "bias_pa='%s' invalid (give one number in pA, or "
			    "%u comma-separated, one per core)", value, ncores);
			free(copy);
			return -1;
		}
		bias[n++] = (float)v;
	}
	free(copy);
	if (n != 1 && n != ncores) {
		ss->host->log(ss->plugin, SB_LOG_ERROR, "sim_silicon: bias_pa "
		    "has %u values for %u cores (give 1 or %u)", n, ncores,
		    ncores);
		return -1;
	}
	for (c = 0; c < ncores; c++) {
		p.bias_pa = bias[n == 1 ? 0 : c];
		if (silicon_core_set(ss->model, c, &p, &cause) != 0) {
			ss->host->log(ss->plugin, SB_LOG_ERROR, "%s (bias_pa)",
			    cause != NULL ? cause : "sim_silicon: bad bias");
			free(cause);
			return -1;
		}
	}
	return 0;
}

/* Where synapse= sends weighted events; -1 if unknown. */
static int
sim_silicon_synapse(const char *value, enum silicon_synapse *out)
{
	if (value == NULL || strcmp(value, "ampa") == 0)
		*out = SILICON_SYN_AMPA;
	else if (strcmp(value, "nmda") == 0)
		*out = SILICON_SYN_NMDA;
	else if (strcmp(value, "gaba") == 0)
		*out = SILICON_SYN_GABA;
	else
		return -1;
	return 0;
}

/* Set up from the arguments: model built, or -1 with errors logged. */
static int
sim_silicon_configure(struct sim_silicon *ss)
{
	static const char *keys[] = {
		"chips", "cores", "name", "refractory_ms", "bias_pa",
		"synapse", "w_max_pa", "tau_ampa_ms", "tau_nmda_ms",
		"tau_gaba_ms", "a_ns", "b_pa", "tau_w_ms", "mismatch",
		"noise_pa",
	};
	enum { CHIPS, CORES, NAME, REFRACTORY, BIAS, SYNAPSE, WMAX, TAU_AMPA,
	    TAU_NMDA, TAU_GABA, A, B, TAU_W, MISMATCH, NOISE, NKEYS };
	const char *v[NKEYS];
	struct silicon_config cfg;
	struct silicon_core_params *p = &cfg.core;
	float w_max = -1;
	char *cause = NULL;
	size_t i;
	int bad = 0;

	/* Ask for every key first so none is reported unknown. */
	for (i = 0; i < NKEYS; i++)
		v[i] = ss->host->arg(ss->plugin, keys[i]);

	silicon_config_default(&cfg);
	cfg.seed = ss->host->seed(ss->plugin);
	bad |= sim_silicon_arg_int(ss, "chips", v[CHIPS], 1,
	    SILICON_MAX_CHIPS, &cfg.chips);
	bad |= sim_silicon_arg_int(ss, "cores", v[CORES], 1,
	    SILICON_CHIP_CORES, &cfg.cores);
	bad |= sim_silicon_arg_float(ss, "refractory_ms", v[REFRACTORY],
	    &p->refractory_ms);
	bad |= sim_silicon_arg_float(ss, "w_max_pa", v[WMAX], &w_max);
	bad |= sim_silicon_arg_float(ss, "tau_ampa_ms", v[TAU_AMPA],
	    &p->tau_ampa_ms);
	bad |= sim_silicon_arg_float(ss, "tau_nmda_ms", v[TAU_NMDA],
	    &p->tau_nmda_ms);
	bad |= sim_silicon_arg_float(ss, "tau_gaba_ms", v[TAU_GABA],
	    &p->tau_gaba_ms);
	bad |= sim_silicon_arg_float(ss, "a_ns", v[A], &p->a_ns);
	bad |= sim_silicon_arg_float(ss, "b_pa", v[B], &p->b_pa);
	bad |= sim_silicon_arg_float(ss, "tau_w_ms", v[TAU_W], &p->tau_w_ms);
	bad |= sim_silicon_arg_float(ss, "mismatch", v[MISMATCH],
	    &cfg.mismatch);
	bad |= sim_silicon_arg_float(ss, "noise_pa", v[NOISE], &p->noise_pa);
	if (sim_silicon_synapse(v[SYNAPSE], &ss->synapse) != 0) {
		ss->host->log(ss->plugin, SB_LOG_ERROR, "sim_silicon: "
		    "synapse='%s' unknown (use ampa, nmda or gaba)",
		    v[SYNAPSE]);
		bad = -1;
	}
	if (v[NAME] != NULL && (*v[NAME] == '\0' ||
	    strlen(v[NAME]) >= sizeof ss->name)) {
		ss->host->log(ss->plugin, SB_LOG_ERROR, "sim_silicon: name "
		    "must be 1 to %zu characters", sizeof ss->name - 1);
		bad = -1;
	}
	if (bad)
		return -1;
	snprintf(ss->name, sizeof ss->name, "%s",
	    v[NAME] != NULL ? v[NAME] : "silicon");

	/* Keep equal charge per event unless w_max_pa says otherwise. */
	silicon_params_weights(p);
	if (w_max >= 0) {
		if (ss->synapse == SILICON_SYN_NMDA)
			p->w_nmda_pa = w_max;
		else if (ss->synapse == SILICON_SYN_GABA)
			p->w_gaba_pa = w_max;
		else
			p->w_ampa_pa = w_max;
	} else if (w_max != -1) {
		ss->host->log(ss->plugin, SB_LOG_ERROR, "sim_silicon: "
		    "w_max_pa=%s must not be negative", v[WMAX]);
		return -1;
	}

	if ((ss->model = silicon_create(&cfg, &cause)) == NULL) {
		ss->host->log(ss->plugin, SB_LOG_ERROR, "%s",
		    cause != NULL ? cause : "sim_silicon: cannot create model");
		free(cause);
		return -1;
	}
	return sim_silicon_bias(ss, v[BIAS], p);
}

/* Entry point: build the model from the arguments and register it. */
int
synbridge_plugin_init(struct sb_plugin *p, const struct sb_host_api *host)
{
	struct sim_silicon *ss;
	int64_t now;

	if (host->size < offsetof(struct sb_host_api, emit) +
	    sizeof host->emit) {
		host->log(p, SB_LOG_ERROR, "sim_silicon: host API too old "
		    "(size %u)", host->size);
		return -1;
	}
	if ((ss = calloc(1, sizeof *ss)) == NULL) {
		host->log(p, SB_LOG_ERROR, "sim_silicon: out of memory");
		return -1;
	}
	ss->host = host;
	ss->plugin = p;
	if (sim_silicon_configure(ss) != 0) {
		sim_silicon_free(ss);
		return -1;
	}
	/*
	 * Steps end at multiples of SILICON_DT_US, as the host's pace of
	 * advance() does (engine.c), so a spike goes out soon after its step.
	 */
	now = host->now_us(p);
	silicon_start(ss->model, now - ((now % SILICON_DT_US) +
	    SILICON_DT_US) % SILICON_DT_US);

	ss->neurons.name = ss->name;
	ss->neurons.units = silicon_units(ss->model);
	ss->neurons.advance = sim_silicon_advance;
	ss->neurons.stimulate = sim_silicon_stimulate;
	ss->neurons.synaptic_input = sim_silicon_synaptic_input;
	host->log(p, SB_LOG_INFO, "sim_silicon: %s: %u cores of %d AdEx "
	    "neurons (units 0-%u), seed %" PRIu64, ss->name,
	    silicon_core_count(ss->model), SILICON_CORE_NEURONS,
	    ss->neurons.units - 1, host->seed(p));
	return host->register_neurons(p, &ss->neurons, ss, sim_silicon_free);
}

/* Nothing to do: the host frees what was registered. */
void
synbridge_plugin_end(struct sb_plugin *p)
{
}
