/*
 * plugin.c: sim_memristor, a simulated TiOx ReRAM crossbar on a memristor
 * instrument, registered as a synapses capability.
 *
 * load sim_memristor [name=xbar] [rows=32] [cols=32] [rmin=4000]
 *     [rmax=9000] [latency_us=10000] [max_v=6] [max_width_us=1000]
 *     [max_count=100] [read_v=0.2] [init=spread|low|high|mid]
 *     [ltp_polarity=+|-] [weight=r|g] [seed=N]
 *
 * ltp_polarity: which pulses potentiate (+: +4 V, as the published
 * experiment). weight: r, 255 (R - rmin) / (rmax - rmin), growing with R as
 * the experiment computed it, or g, growing with G. Positive pulses raise R,
 * so the defaults (+, r) and the pair (-, g) make potentiation raise the
 * weight; the other two pairs make it lower the weight, and are logged.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "synbridge-plugin.h"
#include "memristor.h"
#include "sb-args.h"

SB_PLUGIN(MEMRISTOR_NAME);

int synbridge_plugin_init(struct sb_plugin *, const struct sb_host_api *)
    __attribute__((visibility("default")));
void synbridge_plugin_end(struct sb_plugin *)
    __attribute__((visibility("default")));

/* One loaded crossbar: what the host holds as the capability's data. */
struct memristor_plugin {
	struct sb_synapses syn;
	char name[32];
	struct memristor_xbar *x;
	const struct sb_host_api *host;
	struct sb_plugin *p;
};

/* Session time for a new request. */
static int64_t
memristor_plugin_now(struct memristor_plugin *mp)
{
	if (mp->host->now_us == NULL)
		return mp->x->last_poll_us;
	return mp->host->now_us(mp->p);
}

/* sb_synapses.address */
static int
memristor_plugin_address(void *data, const char *spec, uint32_t *device,
    char **cause)
{
	struct memristor_plugin *mp = data;

	return sb_crossbar_parse(MEMRISTOR_NAME, mp->x->cfg.rows,
	    mp->x->cfg.cols, spec, device, cause);
}

/* sb_synapses.limits */
static void
memristor_plugin_limits(void *data, uint32_t device,
    struct sb_device_limits *l)
{
	struct memristor_plugin *mp = data;

	memristor_xbar_limits(mp->x, l);
}

/* sb_synapses.pulse */
static int
memristor_plugin_pulse(void *data, uint32_t device, double amplitude_v,
    uint32_t width_us, uint32_t count, uint64_t tag, char **cause)
{
	struct memristor_plugin *mp = data;

	return memristor_xbar_pulse(mp->x, device, amplitude_v, width_us,
	    count, tag, memristor_plugin_now(mp), cause);
}

/* sb_synapses.read */
static int
memristor_plugin_read(void *data, uint32_t device, uint64_t tag,
    char **cause)
{
	struct memristor_plugin *mp = data;

	return memristor_xbar_read(mp->x, device, tag,
	    memristor_plugin_now(mp), cause);
}

/* sb_synapses.conductance */
static double
memristor_plugin_conductance(void *data, uint32_t device)
{
	struct memristor_plugin *mp = data;

	return memristor_xbar_conductance(mp->x, device);
}

/* sb_synapses.poll */
static void
memristor_plugin_poll(void *data, int64_t now_us, sb_complete_fn fn,
    void *ctx)
{
	struct memristor_plugin *mp = data;

	memristor_xbar_poll(mp->x, now_us, fn, ctx);
}

/* sb_synapses.cancel: the stop button. */
static size_t
memristor_plugin_cancel(void *data)
{
	struct memristor_plugin *mp = data;

	return memristor_xbar_cancel(mp->x);
}

/* free_func for the registered data. */
static void
memristor_plugin_free(void *data)
{
	struct memristor_plugin *mp = data;

	if (mp == NULL)
		return;
	memristor_xbar_free(mp->x);
	free(mp);
}

/* Read integer argument key in [min, max] (def if absent). */
static int
memristor_plugin_uint(const struct sb_host_api *host, struct sb_plugin *p,
    const char *key, uint32_t def, uint32_t min, uint32_t max,
    uint32_t *out, char **cause)
{
	const char *s = host->arg(p, key);
	uint32_t v;

	if (s == NULL) {
		*out = def;
		return 0;
	}
	if (sb_args_uint32(s, &v) != 0 || v < min || v > max) {
		memristor_cause(cause, "%s=%s: expected an integer %u-%u", key,
		    s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* Read number argument key in [min, max] (def if absent). */
static int
memristor_plugin_double(const struct sb_host_api *host, struct sb_plugin *p,
    const char *key, double def, double min, double max, const char *unit,
    double *out, char **cause)
{
	const char *s = host->arg(p, key);
	double v;

	if (s == NULL) {
		*out = def;
		return 0;
	}
	if (sb_args_number(s, &v) != 0 || v < min || v > max) {
		memristor_cause(cause, "%s=%s: expected %s, a number %g-%g",
		    key, s, unit, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* Read the name= argument into mp->name. */
static int
memristor_plugin_name(struct memristor_plugin *mp, char **cause)
{
	const char *s = mp->host->arg(mp->p, "name"), *c;

	if (s == NULL)
		s = "xbar";
	for (c = s; *c != '\0'; c++) {
		if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-')
			break;
	}
	if (*s == '\0' || *c != '\0' || strlen(s) >= sizeof mp->name) {
		memristor_cause(cause, "name=%s: expected 1-%zu letters, "
		    "digits, '_' or '-'", s, sizeof mp->name - 1);
		return -1;
	}
	strcpy(mp->name, s);
	return 0;
}

/* Read the init= argument. */
static int
memristor_plugin_init_state(const struct sb_host_api *host,
    struct sb_plugin *p, enum memristor_init *out, char **cause)
{
	const char *s = host->arg(p, "init");

	if (s == NULL || strcmp(s, "spread") == 0)
		*out = MEMRISTOR_INIT_SPREAD;
	else if (strcmp(s, "low") == 0)
		*out = MEMRISTOR_INIT_LOW;
	else if (strcmp(s, "high") == 0)
		*out = MEMRISTOR_INIT_HIGH;
	else if (strcmp(s, "mid") == 0)
		*out = MEMRISTOR_INIT_MID;
	else {
		memristor_cause(cause, "init=%s: expected spread, low (low "
		    "conductance), high (high conductance) or mid", s);
		return -1;
	}
	return 0;
}

/* Read the ltp_polarity= and weight= arguments. */
static int
memristor_plugin_direction(const struct sb_host_api *host,
    struct sb_plugin *p, struct memristor_config *cfg, char **cause)
{
	const char *s = host->arg(p, "ltp_polarity");

	if (s == NULL || strcmp(s, "+") == 0)
		cfg->ltp_negative = 0;
	else if (strcmp(s, "-") == 0)
		cfg->ltp_negative = 1;
	else {
		memristor_cause(cause, "ltp_polarity=%s: expected + (positive "
		    "pulses potentiate) or - (negative pulses potentiate)", s);
		return -1;
	}
	s = host->arg(p, "weight");
	if (s == NULL || strcmp(s, "r") == 0)
		cfg->weight_from = SB_WEIGHT_FROM_R;
	else if (strcmp(s, "g") == 0)
		cfg->weight_from = SB_WEIGHT_FROM_G;
	else {
		memristor_cause(cause, "weight=%s: expected r (weight grows "
		    "with resistance) or g (weight grows with conductance)", s);
		return -1;
	}
	return 0;
}

/* Read and check every argument into cfg. */
static int
memristor_plugin_config(struct memristor_plugin *mp,
    struct memristor_config *cfg, char **cause)
{
	const struct sb_host_api *h = mp->host;
	struct sb_plugin *p = mp->p;

	memristor_config_default(cfg);
	if (memristor_plugin_name(mp, cause) != 0 ||
	    memristor_plugin_uint(h, p, "rows", cfg->rows, 1,
	    MEMRISTOR_ROWS_MAX, &cfg->rows, cause) != 0 ||
	    memristor_plugin_uint(h, p, "cols", cfg->cols, 1,
	    MEMRISTOR_ROWS_MAX, &cfg->cols, cause) != 0 ||
	    memristor_plugin_double(h, p, "rmin", cfg->rmin, 1, 1e9, "ohms",
	    &cfg->rmin, cause) != 0 ||
	    memristor_plugin_double(h, p, "rmax", cfg->rmax, 1, 1e9, "ohms",
	    &cfg->rmax, cause) != 0 ||
	    memristor_plugin_uint(h, p, "latency_us", cfg->latency_us, 1,
	    60000000, &cfg->latency_us, cause) != 0 ||
	    memristor_plugin_double(h, p, "max_v", cfg->max_v, 0.1, 20,
	    "volts", &cfg->max_v, cause) != 0 ||
	    memristor_plugin_uint(h, p, "max_width_us", cfg->max_width_us, 1,
	    1000000, &cfg->max_width_us, cause) != 0 ||
	    memristor_plugin_uint(h, p, "max_count", cfg->max_count, 1, 10000,
	    &cfg->max_count, cause) != 0 ||
	    memristor_plugin_double(h, p, "read_v", cfg->read_v, 0.01, 2,
	    "volts", &cfg->read_v, cause) != 0 ||
	    memristor_plugin_init_state(h, p, &cfg->init, cause) != 0 ||
	    memristor_plugin_direction(h, p, cfg, cause) != 0)
		return -1;
	if (cfg->rmin >= cfg->rmax) {
		memristor_cause(cause, "rmin=%g rmax=%g: rmin must be below "
		    "rmax", cfg->rmin, cfg->rmax);
		return -1;
	}
	if (cfg->read_v >= cfg->max_v) {
		memristor_cause(cause, "read_v=%g max_v=%g: the read voltage "
		    "must be below max_v", cfg->read_v, cfg->max_v);
		return -1;
	}
	cfg->seed = h->seed != NULL ? h->seed(p) : 1;
	return 0;
}

/* Entry point: read the arguments, build the crossbar, register it. */
int
synbridge_plugin_init(struct sb_plugin *p, const struct sb_host_api *host)
{
	struct memristor_plugin *mp;
	struct memristor_config cfg;
	char *cause = NULL;
	size_t need = offsetof(struct sb_host_api, register_synapses) +
	    sizeof host->register_synapses;

	if (host == NULL || host->size < need || host->log == NULL ||
	    host->arg == NULL || host->register_synapses == NULL)
		return -1;
	mp = calloc(1, sizeof *mp);
	if (mp == NULL) {
		host->log(p, SB_LOG_ERROR, "%s: out of memory", MEMRISTOR_NAME);
		return -1;
	}
	mp->host = host;
	mp->p = p;
	if (memristor_plugin_config(mp, &cfg, &cause) != 0)
		goto fail;
	mp->x = memristor_xbar_create(&cfg, &cause);
	if (mp->x == NULL)
		goto fail;

	mp->syn.name = mp->name;
	mp->syn.devices = mp->x->devices;
	mp->syn.address = memristor_plugin_address;
	mp->syn.limits = memristor_plugin_limits;
	mp->syn.pulse = memristor_plugin_pulse;
	mp->syn.read = memristor_plugin_read;
	mp->syn.conductance = memristor_plugin_conductance;
	mp->syn.poll = memristor_plugin_poll;
	mp->syn.cancel = memristor_plugin_cancel;
	host->log(p, SB_LOG_INFO, "%s: %s: %ux%u TiOx crossbar, %g-%g ohms "
	    "(%.1f-%.1f uS), %u us per operation, %s pulses potentiate, "
	    "weight from %s", MEMRISTOR_NAME, mp->name, cfg.rows, cfg.cols,
	    cfg.rmin, cfg.rmax, 1e6 / cfg.rmax, 1e6 / cfg.rmin,
	    cfg.latency_us, cfg.ltp_negative ? "negative" : "positive",
	    cfg.weight_from == SB_WEIGHT_FROM_R ? "R" : "G");
	/* Positive pulses raise R: these pairs make LTP lower the weight. */
	if (cfg.ltp_negative == (cfg.weight_from == SB_WEIGHT_FROM_R)) {
		host->log(p, SB_LOG_WARNING, "%s: %s: ltp_polarity=%c with "
		    "weight=%c: potentiation %s R and so LOWERS the weight (for "
		    "potentiation to strengthen, use ltp_polarity=+ weight=r "
		    "or ltp_polarity=- weight=g)", MEMRISTOR_NAME, mp->name,
		    cfg.ltp_negative ? '-' : '+',
		    cfg.weight_from == SB_WEIGHT_FROM_R ? 'r' : 'g',
		    cfg.ltp_negative ? "lowers" : "raises");
	}
	/* From here on the host owns mp, also when registration fails. */
	if (host->register_synapses(p, &mp->syn, mp,
	    memristor_plugin_free) != 0) {
		host->log(p, SB_LOG_ERROR, "%s: could not register the "
		    "synapses capability", MEMRISTOR_NAME);
		return -1;
	}
	return 0;

fail:
	host->log(p, SB_LOG_ERROR, "%s", cause != NULL ? cause :
	    MEMRISTOR_NAME ": out of memory");
	free(cause);
	memristor_plugin_free(mp);
	return -1;
}

/* Nothing left to do: the host frees the registered data. */
void
synbridge_plugin_end(struct sb_plugin *p)
{
}
