/*
 * plugin.c: openephys, the Open Ephys GUI as a neurons plugin (arguments
 * in oe-config.c, protocol facts in openephys.h).
 *
 * One population (name=, default "mea") of electrodes x sorted units and
 * one device link of the same name. Starting the population starts the
 * GUI's acquisition if it is IDLE (acquisition=control); stopping it
 * returns the GUI to IDLE if this plugin started it. Spikes are emitted
 * from the link's thread; stimulate() and synaptic_input() only check and
 * queue.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "synbridge-plugin.h"
#include "openephys.h"
#include "sb-args.h"

SB_PLUGIN(OE_NAME);

_Static_assert(OE_NCAUSES <= 64, "causes are bits of a uint64_t");

/* neurons.start: emit from now on; start acquisition (link thread). */
static int
oe_start(void *data, struct sb_emitter *em, char **cause)
{
	struct openephys *oe = data;

	(void)cause;
	pthread_mutex_lock(&oe->em_lock);
	oe->em = em;
	pthread_mutex_unlock(&oe->em_lock);
	__atomic_store_n(&oe->want_acquire, 1, __ATOMIC_RELEASE);
	__atomic_add_fetch(&oe->start_gen, 1, __ATOMIC_RELEASE);
	sb_devlink_wake(&oe->dl);
	return 0;
}

/*
 * neurons.stop: no emit after this returns; the GUI goes back to IDLE if
 * this plugin started its acquisition (waiting at most timeout_ms).
 */
static void
oe_stop(void *data)
{
	struct openephys *oe = data;
	struct timespec ts;
	int64_t ns;
	int rc = 0;

	pthread_mutex_lock(&oe->em_lock);
	oe->em = NULL;
	pthread_mutex_unlock(&oe->em_lock);
	__atomic_store_n(&oe->want_acquire, 0, __ATOMIC_RELEASE);
	if (!oe->cfg.control || !sb_devlink_is_up(&oe->dl))
		return;
	pthread_mutex_lock(&oe->stop_lock);
	oe->idle_wanted = 1;
	oe->idle_done = 0;
	pthread_mutex_unlock(&oe->stop_lock);
	sb_devlink_wake(&oe->dl);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ns = ts.tv_nsec + (int64_t)oe->cfg.timeout_ms * 1000000;
	ts.tv_sec += ns / 1000000000;
	ts.tv_nsec = ns % 1000000000;
	pthread_mutex_lock(&oe->stop_lock);
	while (!oe->idle_done && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&oe->stop_cond, &oe->stop_lock, &ts);
	oe->idle_wanted = 0;
	pthread_mutex_unlock(&oe->stop_lock);
}

/* neurons.stimulate: check, queue for the link thread; never waits. */
static int
oe_stimulate(void *data, uint32_t unit, double amplitude, uint32_t width_us,
    int64_t t_us, char **cause)
{
	struct openephys *oe = data;
	struct oe_pulse pulse;
	uint32_t line;

	(void)t_us;
	if (oe_stim_check(oe, unit, amplitude, width_us, &line, cause) != 0)
		return -1;
	memset(&pulse, 0, sizeof pulse);
	pulse.unit = unit;
	pulse.line = line;
	pulse.width_us = width_us;
	return oe_stim_queue(oe, &pulse, cause);
}

/*
 * neurons.synaptic_input: a weighted event becomes a pulse of
 * syn_width_us x weight / 255 on the unit's line (weights below
 * syn_min_weight, none); what cannot be sent now is counted as dropped.
 */
static void
oe_synaptic_input(void *data, uint32_t unit, unsigned weight, double g_us,
    int64_t t_us)
{
	struct openephys *oe = data;
	const struct oe_config *c = &oe->cfg;
	struct oe_pulse pulse;
	enum oe_stim_path path;
	char *cause = NULL;

	(void)g_us;
	(void)t_us;
	if (c->syn_width_us == 0 || weight == 0 || weight < c->syn_min_weight)
		return;
	pthread_mutex_lock(&oe->lock);
	path = oe->path;
	pthread_mutex_unlock(&oe->lock);
	if (unit < c->units && c->unit_line[unit] != 0 &&
	    oe->line_busy_until[c->unit_line[unit]] > sb_devlink_mono_us()) {
		sb_devlink_count_dropped(&oe->dl, 1);
		oe_cause_once(oe, OE_SYN_BUSY, SB_LOG_WARNING, "%s: synaptic "
		    "input for unit %u came while TTL line %u was still high "
		    "from the previous pulse: not delivered (such events are "
		    "counted as dropped)", c->name, unit, c->unit_line[unit]);
		return;
	}
	memset(&pulse, 0, sizeof pulse);
	pulse.unit = unit;
	pulse.width_us = oe_stim_synaptic_width(c, path, weight);
	pulse.synaptic = 1;
	if (oe_stim_check(oe, unit, c->stim_amplitude, pulse.width_us,
	    &pulse.line, &cause) != 0) {
		sb_devlink_count_dropped(&oe->dl, 1);
		oe_cause_once(oe, OE_SYN_REFUSED, SB_LOG_WARNING, "%s: synaptic "
		    "input for unit %u (weight %u) not delivered: %s (further "
		    "ones are counted as dropped)", c->name, unit, weight,
		    cause != NULL ? cause : "refused");
		free(cause);
		return;
	}
	if (oe_stim_queue(oe, &pulse, &cause) != 0) {
		sb_devlink_count_dropped(&oe->dl, 1);
		oe_cause_once(oe, OE_SYN_QUEUE, SB_LOG_WARNING, "%s (synaptic "
		    "input dropped; counted in the link pane)", cause != NULL ?
		    cause : "queue full");
		free(cause);
	}
}

/* sb_link.health: one row with the GUI's own state. */
static size_t
oe_health(void *data, struct sb_link_health *out, size_t max)
{
	struct openephys *oe = data;
	int64_t ppb = __atomic_load_n(&oe->drift_ppb, __ATOMIC_RELAXED);
	char detail[96];

	if (max == 0)
		return 0;
	oe_detail(oe, detail, sizeof detail);
	if (ppb != INT64_MIN)
		sb_devlink_detail(&oe->dl, "%s, drift %+.1f ppm", detail,
		    ppb / 1e3);
	else
		sb_devlink_detail(&oe->dl, "%s", detail);
	sb_devlink_health(&oe->dl, out);
	out->drift_ppm = ppb != INT64_MIN ? ppb / 1e3 : NAN;
	out->loss_pct = NAN;	/* no sequence numbers: unknown */
	return 1;
}

/* sb_link.poll: the session clock for the link thread, its log lines. */
static void
oe_link_poll(void *data)
{
	struct openephys *oe = data;

	__atomic_store_n(&oe->clock_offset_us, oe->host->now_us(oe->p) -
	    sb_devlink_mono_us(), __ATOMIC_RELAXED);
	sb_devlink_poll(&oe->dl, oe->host, oe->p);
}

/* free_func of the registration: stop the thread, close, free. */
static void
oe_free(void *data)
{
	struct openephys *oe = data;

	if (oe == NULL)
		return;
	if (oe->dl_ready) {
		sb_devlink_stop(&oe->dl);
		oe_link_ops.disconnect(oe);
		sb_devlink_free(&oe->dl);
	}
	if (oe->zctx != NULL)
		zmq_ctx_term(oe->zctx);
	oe_http_free(&oe->http);
	oe_config_free(&oe->cfg);
	free(oe->lines);
	free(oe->line_busy_until);
	free(oe->unit_stim_us);
	pthread_mutex_destroy(&oe->lock);
	pthread_mutex_destroy(&oe->em_lock);
	pthread_mutex_destroy(&oe->stop_lock);
	pthread_cond_destroy(&oe->stop_cond);
	free(oe);
}

/* A new instance with nothing open (NULL if out of memory). */
static struct openephys *
oe_new(struct sb_plugin *p, const struct sb_host_api *host)
{
	struct openephys *oe = calloc(1, sizeof *oe);
	pthread_condattr_t attr;

	if (oe == NULL)
		return NULL;
	oe->host = host;
	oe->p = p;
	oe->drift_ppb = INT64_MIN;
	pthread_mutex_init(&oe->lock, NULL);
	pthread_mutex_init(&oe->em_lock, NULL);
	pthread_mutex_init(&oe->stop_lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&oe->stop_cond, &attr);
	pthread_condattr_destroy(&attr);
	return oe;
}

/* Everything but the thread: arrays, HTTP, ZMQ, the link; -1 with *cause. */
static int
oe_setup(struct openephys *oe, char **cause)
{
	const struct oe_config *c = &oe->cfg;

	oe->lines = calloc(OE_NE_LINES + 1, sizeof *oe->lines);
	oe->line_busy_until = calloc(OE_NE_LINES + 1,
	    sizeof *oe->line_busy_until);
	oe->unit_stim_us = calloc(c->units, sizeof *oe->unit_stim_us);
	if (oe->lines == NULL || oe->line_busy_until == NULL ||
	    oe->unit_stim_us == NULL) {
		sb_cause(cause, "openephys: out of memory");
		return -1;
	}
	if (oe_http_init(&oe->http, c->host, c->http_port, cause) != 0)
		return -1;
	if ((oe->zctx = zmq_ctx_new()) == NULL) {
		sb_cause(cause, "openephys: cannot start ZMQ: %s",
		    zmq_strerror(zmq_errno()));
		return -1;
	}
	if (sb_devlink_init(&oe->dl, c->name, &oe_link_ops, oe,
	    oe->host->seed(oe->p), cause) != 0)
		return -1;
	oe->dl_ready = 1;
	sb_devlink_backoff(&oe->dl, 250, c->backoff_max_ms);
	oe->eb_port = c->events_port;
	oe->ne_port = c->network_events_port;
	oe->path = c->stim;
	return 0;
}

/* Has a connection failed, and the link said why (it is down again)? */
static int
oe_first_failed(struct openephys *oe)
{
	int down;

	if (__atomic_load_n(&oe->attempts, __ATOMIC_ACQUIRE) == 0)
		return 0;
	pthread_mutex_lock(&oe->dl.lock);
	down = oe->dl.state == SB_DEVLINK_DOWN;
	pthread_mutex_unlock(&oe->dl.lock);
	return down;
}

/*
 * Wait (at most ms) for the first connection to succeed or fail, so that
 * the session file's next lines find the GUI; the console goes on either
 * way.
 */
static void
oe_wait_up(struct openephys *oe, uint32_t ms)
{
	int64_t deadline = sb_devlink_mono_us() + (int64_t)ms * 1000;
	struct timespec ts = { 0, 5000000L };
	char why[SB_DEVLINK_TEXT];

	while (!sb_devlink_is_up(&oe->dl) && !oe_first_failed(oe) &&
	    sb_devlink_mono_us() < deadline)
		nanosleep(&ts, NULL);
	oe_link_poll(oe);
	if (!sb_devlink_is_up(&oe->dl)) {
		sb_devlink_why(&oe->dl, why, sizeof why);
		oe->host->log(oe->p, SB_LOG_WARNING, "%s: not connected yet (%s): "
		    "no spikes until it is; retrying in the background",
		    oe->cfg.name, why);
	}
}

/* What the load line set up, said once. */
static void
oe_say_loaded(struct openephys *oe)
{
	const struct oe_config *c = &oe->cfg;
	char stim[160], sorted[48] = "";

	if (c->sorted > 1)
		snprintf(sorted, sizeof sorted, " x %u sorted units", c->sorted);
	pthread_mutex_lock(&oe->lock);
	if (oe->path == OE_STIM_NETWORK_EVENTS || oe->path == OE_STIM_BROADCAST)
		snprintf(stim, sizeof stim, "stimulation through %s (%g %s "
		    "pulses of %u-%u us)", oe->path == OE_STIM_NETWORK_EVENTS ?
		    "Network Events TTLs" : "ACQBOARD TRIGGER",
		    c->stim_amplitude, c->rhs ? "uA" : "V", c->min_width_us,
		    c->max_width_us);
	else if (oe->path == OE_STIM_AUTO)
		snprintf(stim, sizeof stim, "stimulation path chosen when the "
		    "GUI answers (stim=auto)");
	else
		snprintf(stim, sizeof stim, "no stimulation path%s",
		    c->stim == OE_STIM_NONE ? " (stim=none)" : "");
	pthread_mutex_unlock(&oe->lock);
	oe->host->log(oe->p, SB_LOG_INFO, "%s: Open Ephys GUI at %s, %u "
	    "electrodes%s, %s", c->name, oe->http.base, c->electrodes, sorted,
	    stim);
}

/* Plugin entry point. */
int
synbridge_plugin_init(struct sb_plugin *p, const struct sb_host_api *host)
{
	struct openephys *oe;
	char *cause = NULL;

	if (host->size < offsetof(struct sb_host_api, register_link) +
	    sizeof host->register_link || host->register_link == NULL) {
		host->log(p, SB_LOG_ERROR, "openephys: this synbridge is too old "
		    "for device links (rebuild it)");
		return -1;
	}
	if (host->fast(p)) {
		host->log(p, SB_LOG_ERROR, "openephys: --fast runs on virtual "
		    "time; the Open Ephys GUI runs in real time (drop --fast)");
		return -1;
	}
	if ((oe = oe_new(p, host)) == NULL) {
		host->log(p, SB_LOG_ERROR, "openephys: out of memory");
		return -1;
	}
	__atomic_store_n(&oe->clock_offset_us, host->now_us(p) -
	    sb_devlink_mono_us(), __ATOMIC_RELAXED);
	if (oe_config_parse(&oe->cfg, host, p, &cause) != 0 ||
	    oe_setup(oe, &cause) != 0)
		goto fail;
	oe->neurons.name = oe->cfg.name;
	oe->neurons.units = oe->cfg.units;
	oe->neurons.start = oe_start;
	oe->neurons.stop = oe_stop;
	oe->neurons.stimulate = oe_stimulate;
	oe->neurons.synaptic_input = oe_synaptic_input;
	oe->neurons.stim_unit = oe->cfg.rhs ? SB_STIM_MICROAMPS : SB_STIM_VOLTS;
	oe->neurons.stim_max = oe->cfg.stim_amplitude;
	oe->neurons.stim_max_width_us = oe->cfg.max_width_us;
	oe->link.name = oe->cfg.name;
	oe->link.health = oe_health;
	oe->link.poll = oe_link_poll;
	if (sb_devlink_start(&oe->dl, &cause) != 0)
		goto fail;
	if (host->register_neurons(p, &oe->neurons, oe, oe_free) != 0)
		return -1;	/* the host freed oe */
	/* the same data: freed once, with the population */
	if (host->register_link(p, &oe->link, oe, NULL) != 0)
		return -1;
	oe_wait_up(oe, oe->cfg.timeout_ms * 2 + 1500);
	oe_say_loaded(oe);
	return 0;

fail:
	host->log(p, SB_LOG_ERROR, "%s", cause != NULL ? cause :
	    "openephys: cannot start");
	free(cause);
	oe_free(oe);
	return -1;
}

/* Plugin exit point: the host frees what was registered. */
void
synbridge_plugin_end(struct sb_plugin *p)
{
	(void)p;
}
