/*
 * plugin.c: sim_culture, a simulated neuron culture on a multi-electrode
 * array, as a synbridge "neurons" backend.
 *
 * Arguments: electrodes=60|120|256|1024|4096 (60), neurons_per_electrode=N
 * (2), inactive=LIST (e.g. 3,17,40-45), inactive_fraction=F (0.1; the
 * 60-electrode reference electrode 3 never records), name=NAME ("mea"),
 * seed=N. Units are electrodes.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synbridge-plugin.h"
#include "culture.h"
#include "sb-args.h"

SB_PLUGIN("sim_culture");

/* Exported even though the plugin is built with -fvisibility=hidden. */
__attribute__((visibility("default"))) int
	synbridge_plugin_init(struct sb_plugin *, const struct sb_host_api *);
__attribute__((visibility("default"))) void
	synbridge_plugin_end(struct sb_plugin *);

struct sim_culture {
	const struct sb_host_api *host;
	struct sb_plugin	*plugin;
	struct culture		*culture;
	struct sb_neurons	 neurons;
	char			*name;
	int			 warned;	/* bad input logged */
};

struct sim_culture_emit {
	const struct sb_host_api *host;
	struct sb_emitter	*em;
};

/* Hand one recorded spike to the host. */
static void
sim_culture_spike(void *ctx, int64_t t_us, uint32_t electrode, int stimulated)
{
	struct sim_culture_emit	*e = ctx;
	struct sb_event		 ev;

	memset(&ev, 0, sizeof ev);
	ev.t_us = t_us;
	ev.kind = SB_EV_SPIKE;
	ev.index = electrode;
	ev.aux = stimulated ? SB_SPIKE_STIMULATED : SB_SPIKE_SPONTANEOUS;
	e->host->emit(e->em, &ev);
}

/* Run the culture up to t_us. */
static int
sim_culture_advance(void *data, int64_t t_us, struct sb_emitter *em)
{
	struct sim_culture	*sc = data;
	struct sim_culture_emit	 e = { sc->host, em };

	culture_advance(sc->culture, t_us, sim_culture_spike, &e);
	return (0);
}

/* Stimulate an electrode. */
static int
sim_culture_stimulate(void *data, uint32_t unit, double amplitude_v,
    uint32_t width_us, int64_t t_us, char **cause)
{
	struct sim_culture	*sc = data;

	return (culture_stimulate(sc->culture, unit, amplitude_v, width_us,
	    t_us, cause));
}

/* A weighted event from a synapse: a stimulus scaled by its weight. */
static void
sim_culture_synaptic_input(void *data, uint32_t unit, unsigned weight,
    double g_us, int64_t t_us)
{
	struct sim_culture	*sc = data;

	if (!culture_active(sc->culture, unit) && !sc->warned) {
		sc->warned = 1;
		sc->host->log(sc->plugin, SB_LOG_WARNING, "sim_culture: %s: "
		    "synaptic input for electrode %u ignored (%s; further "
		    "ones are ignored silently)", sc->name, unit,
		    unit < culture_electrodes(sc->culture) ?
		    "it is inactive" : "no such electrode");
	}
	culture_synaptic_input(sc->culture, unit, weight, g_us, t_us);
}

/* Free an instance (the host calls this through free_func). */
static void
sim_culture_free(void *data)
{
	struct sim_culture	*sc = data;

	if (sc == NULL)
		return;
	culture_free(sc->culture);
	free(sc->name);
	free(sc);
}

/* Parse an unsigned integer argument; -1 with *cause if malformed. */
static int
sim_culture_uint(const char *key, const char *value, uint32_t *out,
    char **cause)
{
	if (sb_args_uint32(value, out) != 0) {
		sb_cause(cause, "sim_culture: %s='%s' is not a whole number",
		    key, value);
		return (-1);
	}
	return (0);
}

/* Parse a fraction argument; -1 with *cause if malformed. */
static int
sim_culture_fraction(const char *key, const char *value, double *out,
    char **cause)
{
	if (sb_args_strtod(value, out) != 0) {
		sb_cause(cause, "sim_culture: %s='%s' is not a number (e.g. "
		    "0.1)", key, value);
		return (-1);
	}
	return (0);
}

/* Read the arguments into params and *name; -1 with *cause. */
static int
sim_culture_args(struct sb_plugin *p, const struct sb_host_api *host,
    struct culture_params *params, const char **name, char **cause)
{
	const char	*v;

	culture_params_default(params);
	params->seed = host->seed(p);
	params->start_us = host->now_us(p);

	if ((v = host->arg(p, "electrodes")) != NULL &&
	    sim_culture_uint("electrodes", v, &params->electrodes, cause) != 0)
		return (-1);
	if ((v = host->arg(p, "neurons_per_electrode")) != NULL &&
	    sim_culture_uint("neurons_per_electrode", v, &params->npe,
	    cause) != 0)
		return (-1);
	if ((v = host->arg(p, "inactive_fraction")) != NULL &&
	    sim_culture_fraction("inactive_fraction", v,
	    &params->inactive_fraction, cause) != 0)
		return (-1);
	params->inactive = host->arg(p, "inactive");
	*name = host->arg(p, "name");
	if (*name == NULL)
		*name = "mea";
	if (**name == '\0') {
		sb_cause(cause, "sim_culture: name= is empty (give the "
		    "population a name, e.g. name=mea)");
		return (-1);
	}
	return (0);
}

/* Build the culture from the arguments and register it. */
int
synbridge_plugin_init(struct sb_plugin *p, const struct sb_host_api *host)
{
	struct culture_params	 params;
	struct sim_culture	*sc;
	const char		*name;
	char			*cause = NULL;

	if (host->size < offsetof(struct sb_host_api, emit) +
	    sizeof host->emit)
		return (-1);
	if (sim_culture_args(p, host, &params, &name, &cause) != 0)
		goto fail;

	sc = calloc(1, sizeof *sc);
	if (sc == NULL || (sc->name = strdup(name)) == NULL) {
		free(sc);
		host->log(p, SB_LOG_ERROR, "sim_culture: out of memory");
		return (-1);
	}
	sc->host = host;
	sc->plugin = p;
	sc->culture = culture_create(&params, &cause);
	if (sc->culture == NULL) {
		sim_culture_free(sc);
		goto fail;
	}
	sc->neurons.name = sc->name;
	sc->neurons.units = culture_electrodes(sc->culture);
	sc->neurons.advance = sim_culture_advance;
	sc->neurons.stimulate = sim_culture_stimulate;
	sc->neurons.synaptic_input = sim_culture_synaptic_input;

	host->log(p, SB_LOG_INFO, "sim_culture: %s: %u electrodes (%u "
	    "recording), %u neurons, seed %llu", sc->name,
	    culture_electrodes(sc->culture),
	    culture_active_count(sc->culture), culture_neurons(sc->culture),
	    (unsigned long long)params.seed);
	/* From here on the host owns sc, even if registration fails. */
	return (host->register_neurons(p, &sc->neurons, sc, sim_culture_free));

fail:
	host->log(p, SB_LOG_ERROR, "%s", cause != NULL ? cause :
	    "sim_culture: out of memory");
	free(cause);
	return (-1);
}

/* Nothing to do: the host frees what was registered. */
void
synbridge_plugin_end(struct sb_plugin *p)
{
}
