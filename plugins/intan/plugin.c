/*
 * plugin.c: intan, Intan RHX over TCP as a neurons plugin (arguments in
 * intan-config.c, protocol in intan.h, the conversation in intan-rhx.c).
 *
 * One population, one unit per channel of channels=, and one device link
 * of the same name. start() asks RHX to run and stop() to stop (if
 * synbridge started it); stimulate() and synaptic_input() queue pulses
 * for the link's thread. Nothing here waits on the network, except stop(),
 * which gives RHX up to timeout_ms to confirm it stopped.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "synbridge-plugin.h"
#include "intan.h"
#include "sb-args.h"

SB_PLUGIN(INTAN_NAME);

int synbridge_plugin_init(struct sb_plugin *, const struct sb_host_api *)
    __attribute__((visibility("default")));
void synbridge_plugin_end(struct sb_plugin *)
    __attribute__((visibility("default")));

/* sb-devlink: the command port. */
static int
intan_link_connect(void *ctx, char **cause)
{
	return intan_rhx_connect(ctx, cause);
}

/* sb-devlink: what RHX is, and its outputs. */
static int
intan_link_handshake(void *ctx, char **cause)
{
	return intan_rhx_handshake(ctx, cause);
}

/* sb-devlink: one pass of work. */
static int
intan_link_work(void *ctx, char **cause)
{
	return intan_rhx_work(ctx, cause);
}

/* sb-devlink: close both sockets. */
static void
intan_link_disconnect(void *ctx)
{
	intan_rhx_disconnect(ctx);
}

/* sb-devlink: down means stimulation waiting now fails. */
static void
intan_link_state(void *ctx, enum sb_devlink_state state, const char *why)
{
	struct intan *i = ctx;
	unsigned n;

	if (state != SB_DEVLINK_DOWN)
		return;
	pthread_mutex_lock(&i->lock);
	n = i->qlen;
	i->qlen = 0;
	i->stims_failed += n;
	i->running = 0;
	pthread_mutex_unlock(&i->lock);
	if (n > 0)
		intan_cause(i, INTAN_CAUSE_STIM_FAILED, SB_LOG_ERROR, "%u "
		    "stimulations not delivered: RHX went away (%s)", n, why);
}

static const struct sb_devlink_ops intan_link_ops = {
	.connect = intan_link_connect,
	.handshake = intan_link_handshake,
	.work = intan_link_work,
	.disconnect = intan_link_disconnect,
	.state_changed = intan_link_state,
};

/* Session time from CLOCK_MONOTONIC: kept by the engine thread. */
static void
intan_clock_sync(struct intan *i)
{
	__atomic_store_n(&i->clock_offset_us, i->host->now_us(i->p) -
	    sb_devlink_mono_us(), __ATOMIC_RELAXED);
}

/* neurons.start: spikes may be emitted from now on; RHX should run. */
static int
intan_start(void *data, struct sb_emitter *em, char **cause)
{
	struct intan *i = data;
	int64_t deadline = sb_devlink_mono_us() +
	    ((int64_t)i->cfg.timeout_ms + 200) * 1000;
	struct timespec ts = { 0, 2000000L };
	int running;

	(void)cause;
	intan_clock_sync(i);
	pthread_mutex_lock(&i->em_lock);
	i->em = em;
	pthread_mutex_unlock(&i->em_lock);
	pthread_mutex_lock(&i->lock);
	i->want_run = 1;
	pthread_mutex_unlock(&i->lock);
	sb_devlink_wake(&i->dl);
	/*
	 * Give RHX up to timeout_ms to confirm it runs, so that a session
	 * file's next line (a stim) finds it acquiring; if it is away, the
	 * link starts it when it comes back.
	 */
	for (;;) {
		pthread_mutex_lock(&i->lock);
		running = i->running;
		pthread_mutex_unlock(&i->lock);
		if (running || !sb_devlink_is_up(&i->dl) ||
		    !__atomic_load_n(&i->configured_flag, __ATOMIC_RELAXED) ||
		    sb_devlink_mono_us() > deadline)
			break;
		nanosleep(&ts, NULL);
	}
	return 0;
}

/* neurons.stop: RHX stops if synbridge started it; no emit after this. */
static void
intan_stop(void *data)
{
	struct intan *i = data;
	int64_t deadline = sb_devlink_mono_us() +
	    ((int64_t)i->cfg.timeout_ms + 200) * 1000;
	struct timespec ts = { 0, 2000000L };
	int busy;

	pthread_mutex_lock(&i->lock);
	i->want_run = 0;
	pthread_mutex_unlock(&i->lock);
	sb_devlink_wake(&i->dl);
	for (;;) {
		pthread_mutex_lock(&i->lock);
		busy = i->running && i->ran_by_us;
		pthread_mutex_unlock(&i->lock);
		if (!busy || !sb_devlink_is_up(&i->dl) ||
		    sb_devlink_mono_us() > deadline)
			break;
		nanosleep(&ts, NULL);
	}
	pthread_mutex_lock(&i->em_lock);
	i->em = NULL;
	pthread_mutex_unlock(&i->em_lock);
}

/*
 * Why a pulse cannot go now (under lock), or NULL: the link is down, RHX
 * is not an RHS, not acquiring.
 */
static int
intan_stim_refused(struct intan *i, char *why, size_t len)
{
	char text[SB_DEVLINK_TEXT];

	if (!sb_devlink_is_up(&i->dl)) {
		sb_devlink_why(&i->dl, text, sizeof text);
		snprintf(why, len, "%s is offline: %s", i->name, text);
		return -1;
	}
	if (!i->known) {
		snprintf(why, len, "%s: RHX has not said what it is yet (try "
		    "again in a moment)", i->name);
		return -1;
	}
	if (!i->rhs) {
		snprintf(why, len, "%s: RHX runs a recording controller (%s): "
		    "it cannot stimulate; stimulation needs an Intan RHS "
		    "stimulation/recording controller", i->name, i->type);
		return -1;
	}
	if (!i->running) {
		snprintf(why, len, "%s: RHX is not acquiring (RunMode %s): a "
		    "pulse now would not be delivered; RHX runs while the "
		    "population is started (or click Run in RHX)", i->name,
		    i->runmode[0] != '\0' ? i->runmode : "unknown");
		return -1;
	}
	return 0;
}

/* Queue a request (under lock); -1 when the queue is full. */
static int
intan_queue(struct intan *i, const struct intan_stim_request *q)
{
	unsigned k;

	if (q->synaptic)
		for (k = 0; k < i->qlen; k++) {
			struct intan_stim_request *w;

			w = &i->queue[(i->qhead + k) % INTAN_STIM_QUEUE];

			/* one pulse per channel and trigger: the stronger */
			if (w->synaptic && w->unit == q->unit) {
				if (q->p.steps > w->p.steps)
					w->p = q->p;
				return 0;
			}
		}
	if (i->qlen == INTAN_STIM_QUEUE)
		return -1;
	i->queue[(i->qhead + i->qlen) % INTAN_STIM_QUEUE] = *q;
	i->qlen++;
	return 0;
}

/* neurons.stimulate: microamps (checked by the console too), queued. */
static int
intan_stimulate(void *data, uint32_t unit, double amplitude,
    uint32_t width_us, int64_t t_us, char **cause)
{
	struct intan *i = data;
	struct intan_stim_request q;
	char why[SB_DEVLINK_TEXT + 64];

	(void)t_us;
	if (unit >= i->ch.n) {
		sb_cause(cause, "%s: no unit %u (channels= lists %u)", i->name,
		    unit, i->ch.n);
		return -1;
	}
	if (width_us < 1 || width_us > INTAN_MAX_PHASE_US) {
		sb_cause(cause, "%s: %u us per phase is beyond RHS's 1-%u us",
		    i->name, width_us, INTAN_MAX_PHASE_US);
		return -1;
	}
	memset(&q, 0, sizeof q);
	q.unit = unit;
	q.p.width_us = width_us;
	q.queued_us = sb_devlink_mono_us();
	pthread_mutex_lock(&i->lock);
	if (intan_stim_refused(i, why, sizeof why) != 0 ||
	    intan_stim_amplitude(amplitude, i->step_ua, i->cfg.negative_first,
	    &q.p, why, sizeof why) != 0) {
		pthread_mutex_unlock(&i->lock);
		sb_cause(cause, "%s", why);
		return -1;
	}
	if (intan_queue(i, &q) != 0) {
		pthread_mutex_unlock(&i->lock);
		sb_cause(cause, "%s is busy: %d stimulations wait for RHX (try "
		    "again when they are done)", i->name, INTAN_STIM_QUEUE);
		return -1;
	}
	pthread_mutex_unlock(&i->lock);
	sb_devlink_wake(&i->dl);
	return 0;
}

/*
 * neurons.synaptic_input: a pulse of weight/255 x syn_stim_ua on the
 * unit's channel, rounded to the step (0 steps: no pulse), as the
 * published experiment stimulated the culture on weighted events.
 */
static void
intan_synaptic_input(void *data, uint32_t unit, unsigned weight, double g_us,
    int64_t t_us)
{
	struct intan *i = data;
	struct intan_stim_request q;
	char why[SB_DEVLINK_TEXT + 64];
	double ua, steps;

	(void)g_us;
	(void)t_us;
	if (i->cfg.syn_stim_ua <= 0 || weight == 0)
		return;
	if (unit >= i->ch.n) {
		sb_devlink_count_out_of_range(&i->dl, 1);
		intan_cause(i, INTAN_CAUSE_SYN_DROPPED, SB_LOG_WARNING,
		    "synaptic input for unit %u, beyond channels= (%u units): "
		    "ignored", unit, i->ch.n);
		return;
	}
	if (weight > 255)
		weight = 255;
	memset(&q, 0, sizeof q);
	q.unit = unit;
	q.synaptic = 1;
	q.p.width_us = i->cfg.stim_phase_us;
	q.queued_us = sb_devlink_mono_us();
	pthread_mutex_lock(&i->lock);
	if (intan_stim_refused(i, why, sizeof why) != 0) {
		i->syn_dropped++;
		pthread_mutex_unlock(&i->lock);
		intan_cause(i, INTAN_CAUSE_SYN_DROPPED, SB_LOG_WARNING,
		    "synaptic stimulation not delivered: %s", why);
		return;
	}
	ua = weight / 255.0 * i->cfg.syn_stim_ua;
	if (ua > INTAN_MAX_STEPS * i->step_ua)
		ua = INTAN_MAX_STEPS * i->step_ua;	/* said at load */
	steps = nearbyint(ua / i->step_ua);
	if (steps < 1) {
		pthread_mutex_unlock(&i->lock);
		return;		/* less than half a step: no pulse */
	}
	if (intan_stim_amplitude(steps * i->step_ua, i->step_ua,
	    i->cfg.negative_first, &q.p, why, sizeof why) != 0 ||
	    intan_queue(i, &q) != 0) {
		i->syn_dropped++;
		pthread_mutex_unlock(&i->lock);
		intan_cause(i, INTAN_CAUSE_SYN_DROPPED, SB_LOG_WARNING,
		    "synaptic stimulation dropped: %d stimulations already "
		    "wait for RHX", INTAN_STIM_QUEUE);
		return;
	}
	pthread_mutex_unlock(&i->lock);
	sb_devlink_wake(&i->dl);
}

/* sb_link.health: degraded while up but not set up, streaming or running. */
static size_t
intan_health(void *data, struct sb_link_health *out, size_t max)
{
	struct intan *i = data;
	int want, running;

	if (max == 0)
		return 0;
	sb_devlink_health(&i->dl, out);
	pthread_mutex_lock(&i->lock);
	want = i->want_run;
	running = i->running;
	pthread_mutex_unlock(&i->lock);
	if (out->state == SB_LINK_UP && (!__atomic_load_n(&i->configured_flag,
	    __ATOMIC_RELAXED) || !__atomic_load_n(&i->spike_up,
	    __ATOMIC_RELAXED) || (want && !running)))
		out->state = SB_LINK_DEGRADED;
	return 1;
}

/* sb_link.poll (engine thread): the clock, and the queued log lines. */
static void
intan_link_poll(void *data)
{
	struct intan *i = data;

	intan_clock_sync(i);
	sb_devlink_poll(&i->dl, i->host, i->p);
}

/* free_func of the registration. */
static void
intan_free(void *data)
{
	struct intan *i = data;

	if (i == NULL)
		return;
	sb_devlink_free(&i->dl);
	intan_rhx_disconnect(i);
	pthread_mutex_destroy(&i->lock);
	pthread_mutex_destroy(&i->em_lock);
	intan_channels_free(&i->ch);
	free(i->stim);
	free(i);
}

/*
 * Wait (at most wait_ms) for RHX to be set up, so the population is
 * registered with the controller's stimulation step and the session
 * file's next lines find RHX there. A first attempt that fails (RHX not
 * listening) ends the wait at once: the console goes on, and the link
 * keeps trying in the background.
 */
static void
intan_wait_up(struct intan *i)
{
	int64_t deadline = sb_devlink_mono_us() + (int64_t)i->cfg.wait_ms *
	    1000;
	struct timespec ts = { 0, 5000000L };
	char why[SB_DEVLINK_TEXT];
	int problem = 0;

	while (sb_devlink_mono_us() < deadline && !__atomic_load_n(
	    &i->configured_flag, __ATOMIC_RELAXED) && !problem) {
		nanosleep(&ts, NULL);
		/* refused settings are said at once, and retried later */
		pthread_mutex_lock(&i->lock);
		problem = i->problem[0] != '\0';
		pthread_mutex_unlock(&i->lock);
		if (!sb_devlink_is_up(&i->dl) &&
		    __atomic_load_n(&i->dl.connects, __ATOMIC_RELAXED) == 0) {
			sb_devlink_why(&i->dl, why, sizeof why);
			if (strcmp(why, "not connected yet") != 0)
				break;	/* a first attempt failed */
		}
	}
	sb_devlink_poll(&i->dl, i->host, i->p);
	if (!sb_devlink_is_up(&i->dl)) {
		sb_devlink_why(&i->dl, why, sizeof why);
		i->host->log(i->p, SB_LOG_WARNING, "%s: not connected to RHX "
		    "yet (%s): no spikes until it is, and stimulation "
		    "amplitudes are checked against RHX's step only by the "
		    "plugin; retrying in the background", i->name, why);
	}
}

/* Plugin entry point. */
int
synbridge_plugin_init(struct sb_plugin *p, const struct sb_host_api *host)
{
	struct intan *i;
	const char *name;
	char *cause = NULL;
	int known, rhs;

	if (host->size < offsetof(struct sb_host_api, register_link) +
	    sizeof host->register_link || host->register_link == NULL) {
		host->log(p, SB_LOG_ERROR, "intan: this synbridge is too old "
		    "for device links (rebuild it)");
		return -1;
	}
	if (host->fast(p)) {
		host->log(p, SB_LOG_ERROR, "intan: --fast runs on virtual "
		    "time; RHX acquires in real time (drop --fast)");
		return -1;
	}
	i = calloc(1, sizeof *i);
	if (i == NULL)
		return -1;
	i->cmd_fd = i->spike_fd = -1;
	i->host = host;
	i->p = p;
	pthread_mutex_init(&i->lock, NULL);
	pthread_mutex_init(&i->em_lock, NULL);
	name = host->arg(p, "name");
	snprintf(i->name, sizeof i->name, "%s", name != NULL && *name != '\0' ?
	    name : INTAN_NAME);
	if (intan_config_parse(&i->cfg, &i->ch, host, p, &cause) != 0)
		goto fail;
	i->stim = calloc(i->ch.n, sizeof *i->stim);
	if (i->stim == NULL) {
		sb_cause(&cause, "intan: out of memory");
		goto fail;
	}
	intan_clock_reset(&i->clock, 30000);
	intan_clock_sync(i);
	if (sb_devlink_init(&i->dl, i->name, &intan_link_ops, i,
	    host->seed(p), &cause) != 0)
		goto fail;
	sb_devlink_backoff(&i->dl, 250, i->cfg.backoff_max_ms);
	if (sb_devlink_start(&i->dl, &cause) != 0) {
		sb_devlink_free(&i->dl);
		goto fail;
	}
	intan_wait_up(i);

	i->pop.name = i->name;
	i->pop.units = i->ch.n;
	i->pop.start = intan_start;
	i->pop.stop = intan_stop;
	i->pop.stimulate = intan_stimulate;
	i->pop.synaptic_input = intan_synaptic_input;
	i->pop.stim_unit = SB_STIM_MICROAMPS;
	i->pop.stim_max_width_us = INTAN_MAX_PHASE_US;
	pthread_mutex_lock(&i->lock);
	known = i->known;
	rhs = i->rhs;
	if (known && rhs) {
		i->pop.stim_step = i->step_ua;
		i->pop.stim_max = INTAN_MAX_STEPS * i->step_ua;
		i->registered_step = i->step_ua;
	}
	pthread_mutex_unlock(&i->lock);
	if (known && rhs && i->cfg.syn_stim_ua > i->pop.stim_max)
		host->log(p, SB_LOG_WARNING, "%s: syn_stim_ua=%g is more than "
		    "this controller's largest amplitude (255 steps of %g uA): "
		    "weight 255 stimulates with %g uA", i->name,
		    i->cfg.syn_stim_ua, i->step_ua, i->pop.stim_max);
	else if (known && rhs && i->cfg.syn_stim_ua > 0 &&
	    i->cfg.syn_stim_ua < i->step_ua / 2)
		host->log(p, SB_LOG_WARNING, "%s: syn_stim_ua=%g is less than "
		    "half this controller's step (%g uA): synaptic events "
		    "stimulate nothing", i->name, i->cfg.syn_stim_ua,
		    i->step_ua);
	i->link.name = i->name;
	i->link.health = intan_health;
	i->link.poll = intan_link_poll;
	if (host->register_neurons(p, &i->pop, i, intan_free) != 0)
		return -1;	/* the host freed i */
	/* the same data: freed once, with the population */
	if (host->register_link(p, &i->link, i, NULL) != 0)
		return -1;
	return 0;

fail:
	host->log(p, SB_LOG_ERROR, "%s", cause != NULL ? cause :
	    "intan: cannot start");
	free(cause);
	pthread_mutex_destroy(&i->lock);
	pthread_mutex_destroy(&i->em_lock);
	intan_channels_free(&i->ch);
	free(i->stim);
	free(i);
	return -1;
}

/* Plugin exit point: the host frees what was registered. */
void
synbridge_plugin_end(struct sb_plugin *p)
{
	(void)p;
}
