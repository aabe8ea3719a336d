/*
 * engine.c: the engine. Events travel source -> ring -> engine ->
 * {history, recorder, synapse routing, views}, never doubling back.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "engine.h"
#include "history.h"
#include "plugin.h"
#include "recorder.h"
#include "remote.h"
#include "ring.h"
#include "rule.h"
#include "sched-hint.h"
#include "synapse.h"
#include "xmalloc.h"

static void engine_record_reap(struct session *, int);

volatile sig_atomic_t engine_give_up_armed, engine_gave_up;

#define ENGINE_BATCH 1024
#define ENGINE_FLUSH_US 500000
/* record start DIR: a recording of DIR still closing is waited this long */
#define ENGINE_REOPEN_WAIT_US 500000
/* Real-time pacing: advance at most this much session time per call. */
#define ENGINE_SLICE_US 10000
/*
 * Simulated populations are advanced at each multiple of ENGINE_PACE_US
 * of their own time. The shipped simulators step on a grid anchored at a
 * multiple of their step (sim_culture 500 us, sim_silicon 100 us), so a
 * step that ends on this grid is run, and its spikes emitted, as soon as
 * it has ended instead of up to a pace later: a 1 ms pace that ignored
 * the grid held spikes back by 0.5 ms on average, about half of a demo
 * spike's way from its source to its synapse on loopback. The pace costs
 * a wakeup per population per pace; the timer slack lets the kernel add
 * at most ENGINE_PACE_SLACK_NS to each.
 */
#define ENGINE_PACE_US 500
#define ENGINE_PACE_SLACK_NS 10000
#define ENGINE_BEHIND_US 1000000
/*
 * Devices complete operations when polled: while one is pending the loop
 * polls them this often (a typed command's result comes back within it).
 */
#define ENGINE_DEVICE_WAIT_US 500
/* Local synapses' state goes to other sites this often. */
#define ENGINE_STATE_US 5000000

/* Backends' time now: session time minus the steps taken while they ran. */
int64_t
engine_backend_now(struct session *s)
{
	return clock_now(&s->clock) -
	    __atomic_load_n(&s->backend_shift_us, __ATOMIC_RELAXED);
}

/* A backend's time as session time (what rows and other sites see). */
int64_t
engine_backend_to_session(struct session *s, int64_t t_us)
{
	return t_us + __atomic_load_n(&s->backend_shift_us, __ATOMIC_RELAXED);
}

/* Real-time pacing of one simulated population. */
static void *
engine_population_thread(void *arg)
{
	struct population *pop = arg;
	struct session *s = pop->site->session;
	struct timespec ts = { 0, 0 };
	int64_t done, target, next, behind_logged = 0, now;

	(void)prctl(PR_SET_TIMERSLACK, (unsigned long)ENGINE_PACE_SLACK_NS,
	    0, 0, 0);
	/*
	 * A model computes: under --realtime it runs below the loop and the
	 * links, and its lock passes a waiter's priority on (sched-hint.h).
	 */
	(void)sb_sched_below();
	done = engine_backend_now(s);

	while (!__atomic_load_n(&pop->stopping, __ATOMIC_ACQUIRE)) {
		target = engine_backend_now(s);
		/*
		 * Catch up in slices, releasing the lock between them, so the
		 * engine can still hand this population its input while a
		 * slow model catches up.
		 */
		while (done < target && !__atomic_load_n(&pop->stopping,
		    __ATOMIC_ACQUIRE)) {
			next = target - done > ENGINE_SLICE_US ?
			    done + ENGINE_SLICE_US : target;
			pthread_mutex_lock(&pop->lock);
			pop->ops.advance(pop->data, next, &pop->emitter);
			pthread_mutex_unlock(&pop->lock);
			done = next;
		}
		/* say it for each further second the model falls behind */
		if (engine_backend_now(s) - done > behind_logged +
		    ENGINE_BEHIND_US) {
			behind_logged = engine_backend_now(s) - done;
			__atomic_store_n(&pop->behind_us, behind_logged,
			    __ATOMIC_RELAXED);
			/*
			 * Slower than real time it would compute without a
			 * pause: under --realtime that holds a core, so it
			 * goes back to the normal policy.
			 */
			(void)sb_sched_normal();
		}
		/* to the next multiple of the pace: 1 to ENGINE_PACE_US us */
		now = engine_backend_now(s);
		ts.tv_nsec = (long)(ENGINE_PACE_US - (((now % ENGINE_PACE_US) +
		    ENGINE_PACE_US) % ENGINE_PACE_US)) * 1000;
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/* Start p's populations: threads in real time, streams for hardware. */
int
engine_start_site_plugin(struct sb_plugin *p, char **cause)
{
	struct site *site = p->site;
	struct session *s = site->session;
	size_t i;

	for (i = 0; i < site->npops; i++) {
		struct population *pop = site->pops[i];

		if (pop == NULL || pop->owner != p || pop->running)
			continue;
		if (pop->ops.start != NULL) {
			if (pop->ops.start(pop->data, &pop->emitter,
			    cause) != 0)
				return -1;
		} else if (!s->fast) {
			char tname[16];

			if (pthread_create(&pop->thread, NULL,
			    engine_population_thread, pop) != 0) {
				xasprintf(cause, "cannot start a thread for "
				    "%s: %s", pop->name, strerror(errno));
				return -1;
			}
			/* for top -H, ps -L and perf: "pop NAME" */
			snprintf(tname, sizeof tname, "pop %s", pop->name);
			(void)pthread_setname_np(pop->thread, tname);
		}
		pop->running = 1;
	}
	engine_declare_streams(site);
	return 0;
}

/*
 * Tell the site's transports which streams it publishes (a send of no
 * events): its populations', its synapses' to populations of other sites
 * and its synapses' states, so that the consoles reading them learn of
 * them before the first event instead of keeping it waiting.
 */
void
engine_declare_streams(struct site *site)
{
	struct session *s = site->session;
	struct population *post;
	char stream[160];
	size_t t, i;

	if (site->remote)
		return;
	for (t = 0; t < site->ntransports; t++) {
		struct transport *tr = site->transports[t];

		if (tr->sealed)
			continue;
		for (i = 0; i < site->npops; i++)
			if (site->pops[i] != NULL && site->pops[i]->owner != NULL)
				tr->ops.send(tr->data, site->pops[i]->name,
				    NULL, 0);
		for (i = 0; i < s->nsynapses; i++) {
			struct synapse *syn = s->synapses[i];

			if (syn->site != site || syn->mirror)
				continue;
			post = session_population(s, syn->post.site,
			    syn->post.pop);
			if (post == NULL || post->site == site)
				continue;
			snprintf(stream, sizeof stream, "syn:%s/%s",
			    post->site->name, post->name);
			tr->ops.send(tr->data, stream, NULL, 0);
			tr->ops.send(tr->data, "synapses", NULL, 0);
		}
	}
}

/*
 * Real time, with a relay link of a site hosted here whose clock is not
 * known yet: backends would run on a clock known to be wrong, so they are
 * held until it is (or until no such link is left).
 */
int
engine_clock_pending(struct session *s)
{
	size_t i, j;

	if (s->fast || s->clock_synced)
		return 0;
	for (i = 0; i < s->nsites; i++) {
		if (s->sites[i]->remote)
			continue;
		for (j = 0; j < s->sites[i]->ntransports; j++)
			if (s->sites[i]->transports[j]->ops.clock_offset !=
			    NULL)
				return 1;
	}
	return 0;
}

/*
 * A load that waits for the session clock goes on once the clock is known
 * (or once no relay link waits for one any more).
 */
static void
engine_release_held(struct session *s)
{
	if (s->clock_wait == NULL || engine_clock_pending(s))
		return;
	cmdq_item_release(s->clock_wait);
	s->clock_wait = NULL;
	session_log(s, SB_LOG_WARNING, "clock: %s; the session goes on",
	    s->clock_synced ? "the session clock is known" : "no relay "
	    "link waits for a clock any more: this console's clock is the "
	    "session clock");
	s->dirty = 1;
}

/* Stop a population's thread or stream. */
void
engine_stop_population(struct population *pop)
{
	struct session *s = pop->site->session;

	if (!pop->running)
		return;
	if (pop->ops.start != NULL) {
		if (pop->ops.stop != NULL)
			pop->ops.stop(pop->data);
	} else if (!s->fast) {
		__atomic_store_n(&pop->stopping, 1, __ATOMIC_RELEASE);
		pthread_join(pop->thread, NULL);
	}
	pop->running = 0;
}

/* Names for CSV rows. */
static const char *
engine_site_name(void *ctx, uint16_t site)
{
	struct session *s = ctx;

	return site < s->nsites ? s->sites[site]->name : "?";
}

/* Population name for CSV rows. */
static const char *
engine_pop_name(void *ctx, uint16_t site, uint16_t pop)
{
	struct population *p = session_population(ctx, site, pop);

	return p != NULL ? p->name : "?";
}

/* Synapse names for CSV rows. */
static int
engine_synapse_names(void *ctx, uint16_t site, uint32_t index,
    const char **name, const char **pre, const char **post)
{
	struct session *s = ctx;

	(void)site;
	if (index >= s->nsynapses)
		return -1;
	*name = s->synapses[index]->name;
	*pre = s->synapses[index]->pre_name;
	*post = s->synapses[index]->post_name;
	return 0;
}

/* Event column of synapses.csv. */
static const char *
engine_event_name(void *ctx, const struct sb_event *ev)
{
	(void)ctx;
	if (ev->kind == SB_EV_SYNAPTIC)
		return "synaptic";
	return cond_event_name(ev->aux);
}

/* Weight of G at a synapse for CSV rows, with the synapse's limits. */
static int
engine_synapse_weight(void *ctx, uint16_t site, uint32_t index, double g_us)
{
	struct session *s = ctx;

	(void)site;
	if (index >= s->nsynapses)
		return -1;
	return synapse_weight_of(&s->synapses[index]->limits, g_us);
}

/* Fill the name resolver. */
void
engine_history_names(struct session *s, struct history_names *n)
{
	n->ctx = s;
	n->site = engine_site_name;
	n->population = engine_pop_name;
	n->synapse = engine_synapse_names;
	n->event = engine_event_name;
	n->weight = engine_synapse_weight;
}

/* Turn an event into a CSV row for the recorder. */
static int
engine_event_row(struct session *s, const struct sb_event *ev,
    struct csv_row *row)
{
	struct synapse *syn;

	memset(row, 0, sizeof *row);
	switch (ev->kind) {
	case SB_EV_SPIKE:
		row->kind = CSV_SPIKES;
		row->u.spike.t_us = ev->t_us;
		row->u.spike.site = engine_site_name(s, ev->site);
		row->u.spike.population = engine_pop_name(s, ev->site, ev->pop);
		row->u.spike.unit = ev->index;
		return 0;
	case SB_EV_SYNAPTIC:
	case SB_EV_CONDUCTANCE:
		if (ev->index >= s->nsynapses)
			return -1;
		syn = s->synapses[ev->index];
		row->kind = CSV_SYNAPSES;
		row->u.synapse.t_us = ev->t_us;
		row->u.synapse.synapse = syn->name;
		row->u.synapse.pre = syn->pre_name;
		row->u.synapse.post = syn->post_name;
		row->u.synapse.event = engine_event_name(s, ev);
		if (ev->kind == SB_EV_SYNAPTIC) {
			row->u.synapse.amplitude_v = NAN;
			row->u.synapse.g_before_us = ev->g_before;
			row->u.synapse.g_after_us = ev->g_before;
			/* the weight the event carried */
			row->u.synapse.weight_before = ev->aux;
			row->u.synapse.weight_after = ev->aux;
		} else {
			row->u.synapse.amplitude_v = ev->amplitude;
			row->u.synapse.width_us = ev->width_us;
			row->u.synapse.count = ev->count;
			row->u.synapse.g_before_us = ev->g_before;
			row->u.synapse.g_after_us = ev->g_after;
			row->u.synapse.weight_before = synapse_weight_of(
			    &syn->limits, ev->g_before);
			row->u.synapse.weight_after = synapse_weight_of(
			    &syn->limits, ev->g_after);
		}
		return 0;
	}
	return -1;
}

/* History, recorder and view for one event. */
void
engine_record_event(struct session *s, const struct sb_event *ev)
{
	struct csv_row row;

	if (s->history != NULL)
		history_add_event(s->history, ev);
	if (s->recorder != NULL && engine_event_row(s, ev, &row) == 0)
		recorder_row(s->recorder, &row);
	if (s->view_fn != NULL)
		s->view_fn(s->view_ctx, ev);
}

/* One audit row. */
void
engine_audit(struct session *s, const char *site, const char *user,
    const char *command, const char *status, const char *message)
{
	struct csv_row row;

	memset(&row, 0, sizeof row);
	row.kind = CSV_COMMANDS;
	row.u.command.t_us = clock_now(&s->clock);
	row.u.command.site = site != NULL ? site : "";
	row.u.command.user = user != NULL ? user : s->user;
	row.u.command.command = command;
	row.u.command.status = status;
	row.u.command.message = message != NULL ? message : "";
	if (s->history != NULL)
		history_add_row(s->history, &row);
	if (s->recorder != NULL)
		recorder_row(s->recorder, &row);
}

/* The first transport of a site, or NULL. */
struct transport *
engine_site_transport(struct site *site)
{
	return site->ntransports > 0 ? site->transports[0] : NULL;
}

/*
 * Should syn see a spike of origin that came locally (via == NULL) or
 * through via's transport? A site linked to a relay hears other sites
 * only through it, so each event is seen once.
 */
static int
engine_sees(struct synapse *syn, struct site *origin, struct site *via)
{
	if (via != NULL)
		return syn->site == via && origin != via;
	return syn->site == origin || engine_site_transport(syn->site) == NULL;
}

/* Send a synaptic event to its post unit: directly, or through the relay. */
static void
engine_synaptic_output(struct session *s, struct synapse *syn,
    const struct sb_event *se)
{
	struct population *post;
	struct transport *tr;
	struct sb_event out;
	char stream[160];

	post = session_population(s, syn->post.site, syn->post.pop);
	if (post == NULL)
		return;
	tr = engine_site_transport(syn->site);
	if (post->site != syn->site && tr != NULL) {
		if (tr->sealed)
			return;	/* after quit or unload: not sent */
		out = *se;
		out.index = syn->post.index;
		/* which synapse, for the post site's loop latency */
		out.pop = syn->id < SB_POP_SYNAPSE ? (uint16_t)syn->id :
		    SB_POP_SYNAPSE;
		snprintf(stream, sizeof stream, "syn:%s/%s", post->site->name,
		    post->name);
		if (tr->ops.send(tr->data, stream, &out, 1) != 0)
			session_log(s, SB_LOG_WARNING, "%s: the relay refused "
			    "a synaptic event for %s", syn->name,
			    syn->post_name);
		return;
	}
	if (post->ops.synaptic_input != NULL && s->stopped) {
		/* a culture's backend stimulates with it: held back */
		s->held_back++;
		return;
	}
	if (post->ops.synaptic_input != NULL) {
		/* the loop: from the pre spike's source to this input */
		if (!s->fast)
			latency_add(&syn->lat_spike, clock_now(&s->clock) -
			    se->t_us, clock_mono_us());
		pthread_mutex_lock(&post->lock);
		post->ops.synaptic_input(post->data, syn->post.index, se->aux,
		    se->g_before, se->t_us - __atomic_load_n(&s->backend_shift_us,
		    __ATOMIC_RELAXED));
		pthread_mutex_unlock(&post->lock);
	}
}

/* A pre spike met a device with no reading yet: say so once, count. */
static void
engine_unknown_g(struct session *s, struct synapse *syn)
{
	if (syn->unknown_g++ == 0)
		session_log(s, SB_LOG_WARNING, "%s: %s has not been read yet: "
		    "its pre spikes send no synaptic event until it is "
		    "(counted in synapses)", syn->name, syn->device_spec);
}

/* Route a spike through the synapses it is pre or post of. */
void
engine_route_spike(struct session *s, struct population *pop,
    const struct sb_event *ev, struct site *via)
{
	struct syn_list *l;
	struct synapse *syn;
	struct sb_event se;
	uint32_t i;
	double g;

	pop->spikes++;
	if (pop->pre_of != NULL && ev->index < pop->ops.units) {
		l = &pop->pre_of[ev->index];
		for (i = 0; i < l->n; i++) {
			syn = s->synapses[l->ids[i]];
			if (!engine_sees(syn, pop->site, via))
				continue;
			rule_on_pre(s, syn, ev->t_us);
			g = syn->dev->ops.conductance(syn->dev->data,
			    syn->device);
			if (!isfinite(g)) {
				/* no reading yet: no weight to send */
				engine_unknown_g(s, syn);
				continue;
			}
			memset(&se, 0, sizeof se);
			se.t_us = ev->t_us;
			se.kind = SB_EV_SYNAPTIC;
			se.site = syn->site->id;
			se.pop = SB_POP_SYNAPSE;
			se.index = syn->id;
			se.aux = (uint8_t)synapse_weight(syn, g);
			se.g_before = (float)g;
			engine_record_event(s, &se);
			engine_synaptic_output(s, syn, &se);
		}
	}
	if (pop->post_of != NULL && ev->index < pop->ops.units) {
		l = &pop->post_of[ev->index];
		for (i = 0; i < l->n; i++) {
			syn = s->synapses[l->ids[i]];
			if (engine_sees(syn, pop->site, via))
				rule_on_post(s, syn, ev->t_us);
		}
	}
}

/* Report events a full ring refused, as an explicit gap. */
static void
engine_report_gap(struct session *s, struct population *pop)
{
	uint64_t dropped = __atomic_load_n(&pop->emitter.dropped,
	    __ATOMIC_RELAXED);
	char *msg;

	if (dropped == pop->emitter.dropped_reported)
		return;
	xasprintf(&msg, "%s/%s: %llu events lost (ring full; the engine "
	    "fell behind)", pop->site->name, pop->name,
	    (unsigned long long)(dropped - pop->emitter.dropped_reported));
	pop->emitter.dropped_reported = dropped;
	session_log(s, SB_LOG_WARNING, "gap: %s", msg);
	engine_audit(s, pop->site->name, "synbridge", "gap", "gap", msg);
	free(msg);
}

/* Publish a local population's events through its site's transports. */
static void
engine_publish(struct site *site, struct population *pop,
    const struct sb_event *evs, size_t n)
{
	size_t t;

	for (t = 0; t < site->ntransports; t++) {
		struct transport *tr = site->transports[t];

		if (tr->sealed)
			continue;
		if (tr->ops.send(tr->data, pop->name, evs, n) != 0)
			session_log(site->session, SB_LOG_WARNING, "%s: the "
			    "relay queue refused %zu events of %s", site->name,
			    n, pop->name);
	}
}

/* Show a local population's events to the plugins that tap it. */
static void
engine_tap(struct site *site, struct population *pop,
    const struct sb_event *evs, size_t n)
{
	size_t t;

	for (t = 0; t < site->ntaps; t++)
		if (strcmp(site->taps[t]->population, pop->name) == 0)
			site->taps[t]->fn(site->taps[t]->data, evs, n);
}

/* Let every transport and device link hand over what arrived. */
static void
engine_poll_transports(struct session *s)
{
	uint64_t woken;
	size_t i, t;

	/* cleared before polling: a wake from now on is for what follows */
	if (s->wake_fd != -1 && read(s->wake_fd, &woken, sizeof woken) < 0)
		woken = 0;
	for (i = 0; i < s->nsites; i++) {
		struct site *site = s->sites[i];

		for (t = 0; t < site->ntransports; t++)
			site->transports[t]->ops.poll(
			    site->transports[t]->data);
		for (t = 0; t < site->nlinks; t++)
			if (site->links[t]->ops.poll != NULL)
				site->links[t]->ops.poll(site->links[t]->data);
	}
}

/*
 * One links.csv row; the link is named SITE/NAME. A relay row fills age_s
 * only of the device columns (the rest are empty); a device row fills all
 * five, NaN (not applicable or unknown) as an empty field.
 */
void
engine_link_row(struct session *s, struct site *site, int device,
    int site_row, const struct sb_link_health *h)
{
	char name[sizeof h->name + 80];

	static const char *const states[] = { "down", "degraded", "up" };
	struct csv_row row;

	memset(&row, 0, sizeof row);
	row.kind = CSV_LINKS;
	row.u.link.t_us = clock_now(&s->clock);
	snprintf(name, sizeof name, "%s/%s", site->name, h->name);
	row.u.link.link = name;
	row.u.link.state = states[h->state <= SB_LINK_UP ? h->state : 0];
	row.u.link.rtt_ms = h->rtt_ms;
	row.u.link.jitter_ms = h->jitter_ms;
	row.u.link.offset_ms = h->offset_ms;
	row.u.link.uncertainty_ms = h->uncertainty_ms;
	row.u.link.loss_pct = h->loss_pct;
	/* another site's row is no path of ours: nothing to retransmit */
	row.u.link.retransmits = site_row ? CSV_NO_COUNT : h->retransmits;
	row.u.link.queue = site_row ? CSV_NO_COUNT : h->queue;
	row.u.link.events_per_s = h->events_per_s;
	/* the relay says -1 before its first batch: unknown, like NaN */
	row.u.link.age_s = h->last_batch_age_s >= 0 ? h->last_batch_age_s :
	    NAN;
	if (device) {
		row.u.link.in_per_s = h->events_in_per_s;
		row.u.link.out_per_s = h->events_out_per_s;
		row.u.link.malformed = h->malformed;
		row.u.link.out_of_range = h->out_of_range;
	} else {
		row.u.link.in_per_s = row.u.link.out_per_s = NAN;
		row.u.link.malformed = row.u.link.out_of_range = CSV_NO_COUNT;
	}
	if (s->history != NULL)
		history_add_row(s->history, &row);
	if (s->recorder != NULL)
		recorder_row(s->recorder, &row);
}

/*
 * Every few seconds each local synapse's G goes to the relay, so consoles
 * at other sites (and ones that join late) show it.
 */
static void
engine_publish_states(struct session *s, int64_t now)
{
	struct sb_event ev;
	size_t i;

	if (now - s->last_state_us < ENGINE_STATE_US)
		return;
	s->last_state_us = now;
	for (i = 0; i < s->nsynapses; i++) {
		struct synapse *syn = s->synapses[i];

		if (syn->mirror || syn->site->ntransports == 0)
			continue;
		memset(&ev, 0, sizeof ev);
		ev.t_us = clock_now(&s->clock);
		ev.kind = SB_EV_CONDUCTANCE;
		ev.index = syn->id;
		ev.site = syn->site->id;
		ev.pop = SB_POP_SYNAPSE;
		ev.aux = COND_STATE;
		ev.amplitude = NAN;
		ev.g_before = ev.g_after = (float)syn->g_us;
		synapse_publish(s, syn, &ev);
	}
}

/* One latency.csv row: a path's samples of the last second, if any. */
static void
engine_latency_row(struct session *s, struct latency *l,
    enum latency_kind kind, const char *path, int64_t t_us)
{
	struct latency_stat st;
	struct csv_row row;

	if (latency_take_period(l, &st) != 0 || s->recorder == NULL)
		return;
	memset(&row, 0, sizeof row);
	row.kind = CSV_LATENCY;
	row.u.latency.t_us = t_us;
	row.u.latency.kind = latency_kind_name(kind);
	row.u.latency.path = path;
	row.u.latency.n = st.n;
	row.u.latency.p50_ms = st.p50_ms;
	row.u.latency.p99_ms = st.p99_ms;
	row.u.latency.max_ms = st.max_ms;
	recorder_row(s->recorder, &row);
}

/*
 * Once a second: each path's loop latency of that second into
 * latency.csv (synapses, relay links, sites commands went to).
 */
static void
engine_latency_rows(struct session *s, struct session_link_row *rows,
    size_t nrows)
{
	int64_t t = clock_now(&s->clock);
	char name[sizeof rows->h.name + 80];
	size_t i;

	for (i = 0; i < s->nsynapses; i++) {
		struct synapse *syn = s->synapses[i];

		engine_latency_row(s, syn->lat_spike, LATENCY_SPIKE,
		    syn->name, t);
		engine_latency_row(s, syn->lat_command, LATENCY_COMMAND,
		    syn->name, t);
		engine_latency_row(s, syn->lat_overhead, LATENCY_OVERHEAD,
		    syn->name, t);
	}
	for (i = 0; i < nrows; i++) {
		if (rows[i].tr == NULL || rows[i].site_row)
			continue;
		snprintf(name, sizeof name, "%s/%s", rows[i].site->name,
		    rows[i].h.name);
		engine_latency_row(s, rows[i].tr->lat_arrival, LATENCY_ARRIVAL,
		    name, t);
	}
	for (i = 0; i < s->nsites; i++)
		engine_latency_row(s, s->sites[i]->lat_remote, LATENCY_REMOTE,
		    s->sites[i]->name, t);
}

/* Once a second: every link's health into links.csv, latency.csv. */
static void
engine_links_due(struct session *s)
{
	struct session_link_row rows[64];
	int64_t now = clock_mono_us();
	size_t i, n;

	if (now - s->last_links_us < 1000000)
		return;
	s->last_links_us = now;
	n = session_links(s, rows, 64);
	for (i = 0; i < n; i++)
		engine_link_row(s, rows[i].site, rows[i].device,
		    rows[i].site_row, &rows[i].h);
	engine_latency_rows(s, rows, n);
	engine_publish_states(s, now);
}

/* Say when a simulator cannot keep up with real time. */
static void
engine_report_lag(struct session *s, struct population *pop)
{
	int64_t behind = __atomic_load_n(&pop->behind_us, __ATOMIC_RELAXED);

	if (behind == pop->behind_reported)
		return;
	pop->behind_reported = behind;
	session_log(s, SB_LOG_WARNING, "%s/%s: the model runs %.1f s behind "
	    "real time (it is slower than real time on this machine: use "
	    "fewer units, or --fast for an offline run)", pop->site->name,
	    pop->name, behind / 1e6);
}

/*
 * The wake-up fds of every population's event ring and of the plugins'
 * host->wake, for the console's poll(): an event a backend emits, and a
 * batch a transport received, is then handled at once, not at the next
 * tick (the loop drains every ring before it polls again, as the ring's
 * protocol asks). Returns how many were filled, at most max.
 */
size_t
engine_poll_fds(struct session *s, struct pollfd *pfd, size_t max)
{
	size_t i, j, n = 0;

	/* a transport's arrivals (host->wake) */
	if (s->wake_fd != -1 && n < max) {
		pfd[n].fd = s->wake_fd;
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		n++;
	}
	for (i = 0; i < s->nsites; i++) {
		struct site *site = s->sites[i];

		for (j = 0; j < site->npops && n < max; j++) {
			struct population *pop = site->pops[j];

			if (pop == NULL || pop->emitter.ring == NULL)
				continue;
			pfd[n].fd = ring_fd(pop->emitter.ring);
			pfd[n].events = POLLIN;
			pfd[n].revents = 0;
			n++;
		}
	}
	return n;
}

/* How long the loop may sleep: its tick, shorter while a device works. */
int64_t
engine_wait_us(struct session *s, int64_t tick_us)
{
	if (s->npending > 0 && tick_us > ENGINE_DEVICE_WAIT_US)
		return ENGINE_DEVICE_WAIT_US;
	return tick_us;
}

/* Drain every population's ring. */
size_t
engine_drain(struct session *s)
{
	struct sb_event evs[ENGINE_BATCH];
	size_t i, j, k, n, total = 0;

	for (i = 0; i < s->nsites; i++) {
		struct site *site = s->sites[i];

		for (j = 0; j < site->npops; j++) {
			struct population *pop = site->pops[j];

			if (pop == NULL || pop->emitter.ring == NULL ||
			    s->closing)
				continue;
			ring_clear_wakeup(pop->emitter.ring);
			while ((n = ring_pop(pop->emitter.ring, evs,
			    ENGINE_BATCH)) > 0) {
				for (k = 0; k < n; k++) {
					engine_record_event(s, &evs[k]);
					if (evs[k].kind == SB_EV_SPIKE)
						engine_route_spike(s, pop,
						    &evs[k], NULL);
				}
				engine_publish(site, pop, evs, n);
				engine_tap(site, pop, evs, n);
				total += n;
			}
			engine_report_gap(s, pop);
			engine_report_lag(s, pop);
		}
	}
	if (total > 0)
		s->dirty = 1;
	return total;
}

/*
 * Hand the recorder its rows if it is time (or always when force, and then
 * wait until they are written). The engine never waits for the disk
 * otherwise: recorder.c writes from a thread of its own.
 */
static void
engine_flush_due(struct session *s, int force)
{
	int64_t now = clock_mono_us();
	char *cause = NULL;
	uint64_t lost;
	int rc;

	if (!force && now - s->last_flush_us < ENGINE_FLUSH_US)
		return;
	s->last_flush_us = now;
	engine_record_reap(s, 0);
	if (s->recorder == NULL)
		return;
	recorder_hold_cursors(s->recorder, remote_notes_pending(s));
	/* --fast has no loop to keep, and must not outrun the disk */
	rc = force || s->fast ? recorder_sync(s->recorder, &cause) :
	    recorder_flush(s->recorder, &cause);
	if (rc != 0) {
		/* a failing disk is said once per cause, not twice a second */
		if (s->flush_error == NULL || strcmp(s->flush_error,
		    cause) != 0) {
			session_log(s, SB_LOG_ERROR, "record: %s", cause);
			free(s->flush_error);
			s->flush_error = cause;
		} else
			free(cause);
	} else if (s->flush_error != NULL) {
		session_log(s, SB_LOG_WARNING, "record: writing to %s "
		    "again", recorder_dir(s->recorder));
		free(s->flush_error);
		s->flush_error = NULL;
	}
	/* the cursors are written after the rows that they cover */
	if ((cause = recorder_cursor_error(s->recorder)) != NULL) {
		session_log(s, SB_LOG_WARNING, "record: %s", cause);
		free(cause);
	}
	/*
	 * Rows refused while the disk took nothing were said when it came
	 * back; at the end (quit, record stop) the recording stays
	 * incomplete, for the exit status, even though writing recovered.
	 */
	if (force && s->flush_error == NULL &&
	    (lost = recorder_lost(s->recorder)) > 0)
		xasprintf(&s->flush_error, "%s: %llu rows were not recorded "
		    "(see the log)", recorder_dir(s->recorder),
		    (unsigned long long)lost);
}

/* Flush recordings now. */
void
engine_flush(struct session *s)
{
	engine_flush_due(s, 1);
}

/* Fast mode: lock-step simulation up to until_us. */
void
engine_run_fast(struct session *s, int64_t until_us)
{
	int64_t t = clock_now(&s->clock);
	size_t i, j;

	while (t < until_us && !s->quit) {
		t += s->step_us;
		if (t > until_us)
			t = until_us;
		clock_advance(&s->clock, t);
		for (i = 0; i < s->nsites; i++) {
			struct site *site = s->sites[i];

			for (j = 0; j < site->npops; j++) {
				struct population *pop = site->pops[j];

				if (pop == NULL || pop->ops.advance == NULL)
					continue;
				pop->ops.advance(pop->data, t, &pop->emitter);
			}
		}
		engine_drain(s);
		synapse_poll_devices(s, t);
		engine_flush_due(s, 0);
	}
}

/* Events still waiting in relay queues (sent, unacked): every transport
 * of this process, or only owner's. */
static uint64_t
engine_transport_backlog(struct session *s, struct sb_plugin *owner)
{
	struct sb_link_health h[SESSION_HEALTH_ROWS];
	uint64_t left = 0;
	size_t i, t, k, n;

	for (i = 0; i < s->nsites; i++)
		for (t = 0; t < s->sites[i]->ntransports; t++) {
			struct transport *tr = s->sites[i]->transports[t];

			if (tr->ops.health == NULL ||
			    (owner != NULL && tr->owner != owner))
				continue;
			n = tr->ops.health(tr->data, h, SESSION_HEALTH_ROWS);
			for (k = 0; k < n && k < SESSION_HEALTH_ROWS; k++)
				left += h[k].queue;
		}
	return left;
}

/* Seal (or unseal) the transports of owner, or every one. */
static void
engine_seal_transports(struct session *s, struct sb_plugin *owner, int on)
{
	size_t i, t;

	for (i = 0; i < s->nsites; i++)
		for (t = 0; t < s->sites[i]->ntransports; t++) {
			struct transport *tr = s->sites[i]->transports[t];

			if (owner == NULL || tr->owner == owner)
				tr->sealed = on;
		}
}

/*
 * At quit or unload: let the relay transports deliver what is queued,
 * for at most timeout_us (a second quit or signal gives up at once).
 * What could not be delivered is a gap, in the log and commands.csv.
 * The transports take nothing new meanwhile, and at quit (owner NULL)
 * local populations' events are no longer taken either: the session
 * ended when quit was asked, so the local record and what the other
 * sites receive end at the same event. Without this a steady stream
 * (thousands of spikes a second) kept the queue from ever emptying.
 * 0 when all was delivered, -1 otherwise.
 */
int
engine_flush_links(struct session *s, struct sb_plugin *owner,
    int64_t timeout_us, const char *when)
{
	int64_t start = clock_mono_us(), now;
	uint64_t left = engine_transport_backlog(s, owner);
	int announced = 0;
	char *msg;

	if (owner == NULL)
		s->closing = 1;
	if (left == 0 || s->fast)
		return 0;
	s->quit = 0;
	engine_seal_transports(s, owner, 1);
	for (;;) {
		engine_tick(s);
		left = engine_transport_backlog(s, owner);
		now = clock_mono_us();
		if (left == 0) {
			/* as loud as the warning it ends */
			if (announced)
				session_log(s, SB_LOG_WARNING, "%s: every "
				    "event reached the relay", when);
			if (owner != NULL)
				engine_seal_transports(s, owner, 0);
			return 0;
		}
		if (now - start >= timeout_us || s->quit)
			break;
		if (!announced && now - start >= 300000) {
			session_log(s, SB_LOG_WARNING, "%s: waiting up to %.0f "
			    "s for %llu events to reach the relay (quit or "
			    "Ctrl-C again to give up)", when, timeout_us / 1e6,
			    (unsigned long long)left);
			announced = 1;
		}
		poll(NULL, 0, 5);
	}
	xasprintf(&msg, "%llu events of this site were not delivered to the "
	    "relay at %s (it was unreachable or too slow)",
	    (unsigned long long)left, when);
	session_log(s, SB_LOG_ERROR, "gap: %s", msg);
	engine_audit(s, s->current != NULL ? s->current->name : "",
	    "synbridge", when, "gap", msg);
	free(msg);
	if (owner != NULL)
		engine_seal_transports(s, owner, 0);
	return -1;
}

/* Real time: events, devices, flushing. */
void
engine_tick(struct session *s)
{
	engine_poll_transports(s);
	remote_run_recorded(s);
	engine_release_held(s);
	engine_drain(s);
	engine_links_due(s);
	remote_expire(s);
	synapse_poll_devices(s, clock_now(&s->clock));
	engine_flush_due(s, 0);
}

/*
 * Does a stimulation request fit the population: the unit its backend
 * stimulates in, its largest amplitude, its step and its longest width?
 */
static int
engine_stim_check(const struct population *pop, double amplitude,
    enum sb_stim_unit unit, uint32_t width_us, char **cause)
{
	const struct sb_neurons *n = &pop->ops;
	const char *name = unit == SB_STIM_MICROAMPS ? "uA" : "V";
	double steps;

	if (n->stim_unit != unit) {
		if (n->stim_unit == SB_STIM_MICROAMPS)
			xasprintf(cause, "%s stimulates with current: give "
			    "-i MICROAMPS, not -a VOLTS (up to %g uA in steps "
			    "of %g uA)", pop->name, n->stim_max, n->stim_step);
		else
			xasprintf(cause, "%s stimulates with voltage: give -a "
			    "VOLTS, not -i MICROAMPS", pop->name);
		return -1;
	}
	if (n->stim_max > 0 && fabs(amplitude) > n->stim_max * (1 + 1e-9)) {
		xasprintf(cause, "%s: %g %s is beyond the backend's limit "
		    "(|amplitude| <= %g %s)", pop->name, amplitude, name,
		    n->stim_max, name);
		return -1;
	}
	if (n->stim_step > 0) {
		steps = fabs(amplitude) / n->stim_step;
		if (fabs(steps - nearbyint(steps)) > 1e-6) {
			xasprintf(cause, "%s: %g %s is not a multiple of the "
			    "backend's step (%g %s: try %g)", pop->name,
			    amplitude, name, n->stim_step, name,
			    copysign(nearbyint(steps) * n->stim_step,
			    amplitude));
			return -1;
		}
	}
	if (n->stim_max_width_us > 0 && width_us > n->stim_max_width_us) {
		xasprintf(cause, "%s: %u us is longer than the backend takes "
		    "(at most %u us)", pop->name, width_us,
		    n->stim_max_width_us);
		return -1;
	}
	return 0;
}

/* Stimulate a unit through its backend; logged as a stimulation event. */
int
engine_stimulate(struct session *s, const struct unit_ref *u,
    double amplitude_v, enum sb_stim_unit unit, uint32_t width_us,
    char **cause)
{
	struct population *pop = session_population(s, u->site, u->pop);
	int64_t t = clock_now(&s->clock);
	struct sb_event ev;
	char *why = NULL;
	int rc;

	if (pop == NULL || pop->ops.stimulate == NULL) {
		xasprintf(cause, "%s cannot be stimulated (its backend takes "
		    "no stimulation)", pop ? pop->name : "unit");
		return -1;
	}
	if (s->stopped) {
		xasprintf(cause, "STOPPED: no stimulation until resume");
		return -1;
	}
	if (engine_stim_check(pop, amplitude_v, unit, width_us, cause) != 0)
		return -1;
	pthread_mutex_lock(&pop->lock);
	rc = pop->ops.stimulate(pop->data, u->index, amplitude_v, width_us,
	    t - __atomic_load_n(&s->backend_shift_us, __ATOMIC_RELAXED), &why);
	pthread_mutex_unlock(&pop->lock);
	if (rc != 0) {
		xasprintf(cause, "%s", why ? why : "stimulation refused");
		free(why);
		return -1;
	}
	memset(&ev, 0, sizeof ev);
	ev.t_us = t;
	ev.kind = SB_EV_STIM;
	ev.site = u->site;
	ev.pop = u->pop;
	ev.index = u->index;
	ev.amplitude = (float)amplitude_v;
	ev.aux = (uint8_t)unit;
	ev.width_us = width_us;
	ev.count = 1;
	engine_record_event(s, &ev);
	return 0;
}

/* Result line from a plugin command. */
void
engine_vreply(struct sb_reply *r, const char *fmt, va_list ap)
{
	cmdq_item_vreply((struct cmdq_item *)r, fmt, ap);
}

/*
 * Recordings stopped and still writing their last rows: the ones that have
 * ended (all of them if wait) are closed, and what they missed is said
 * and kept for the exit status.
 */
static void
engine_record_reap(struct session *s, int wait)
{
	struct recorder *r;
	char *cause, *dir;
	size_t i = 0;
	int rc;

	while (i < s->nrec_closing) {
		r = s->rec_closing[i];
		if (!wait && !recorder_ended(r)) {
			i++;
			continue;
		}
		dir = xstrdup(recorder_dir(r));
		cause = NULL;
		if ((rc = recorder_finish(r, &cause)) == 1) {
			/* every row is there; a restart may read some again */
			session_log(s, SB_LOG_WARNING, "record: %s", cause);
			free(cause);
		} else if (rc != 0) {
			/* (a wait given up at exit was said at the flush, and
			 * so was a failure it had when it was stopped) */
			if ((rc != -2 || !s->shutting_down) &&
			    (s->record_incomplete == NULL ||
			    strcmp(s->record_incomplete, cause) != 0))
				session_log(s, SB_LOG_ERROR, "record: the "
				    "recording in %s is incomplete: %s", dir,
				    cause);
			if (s->record_incomplete == NULL)
				s->record_incomplete = cause;
			else
				free(cause);
		} else if (!s->fast)
			session_log(s, SB_LOG_INFO, "record: %s is closed, "
			    "every row written", dir);
		free(dir);
		memmove(&s->rec_closing[i], &s->rec_closing[i + 1],
		    (s->nrec_closing - i - 1) * sizeof *s->rec_closing);
		s->nrec_closing--;
	}
	if (s->nrec_closing == 0) {
		free(s->rec_closing);
		s->rec_closing = NULL;
	}
}

void
engine_record_wait(struct session *s)
{
	engine_record_reap(s, 1);
}

size_t
engine_record_closing(struct session *s, const char **dirs, size_t n)
{
	size_t i;

	engine_record_reap(s, 0);
	for (i = 0; i < s->nrec_closing && i < n; i++)
		dirs[i] = recorder_dir(s->rec_closing[i]);
	return s->nrec_closing;
}

void
engine_give_up_on(struct session *s)
{
	size_t i;

	engine_give_up_armed = 1;
	if (s->recorder != NULL)
		recorder_give_up_on(s->recorder, &engine_gave_up);
	for (i = 0; i < s->nrec_closing; i++)
		recorder_give_up_on(s->rec_closing[i], &engine_gave_up);
}

/*
 * Is dir (real: its realpath, or NULL) still being closed? The closing
 * ones' paths were resolved when they were opened: their disk, which may
 * be the one not answering, is not looked up now.
 */
static struct recorder *
engine_record_closing_dir(struct session *s, const char *dir,
    const char *real)
{
	size_t i;

	for (i = 0; i < s->nrec_closing; i++)
		if (strcmp(real != NULL ? real : dir,
		    recorder_real(s->rec_closing[i])) == 0 ||
		    strcmp(dir, recorder_dir(s->rec_closing[i])) == 0)
			return s->rec_closing[i];
	return NULL;
}

/* Start recording to dir. */
int
engine_record_start(struct session *s, const char *dir, char **cause)
{
	struct recorder *r;
	int64_t deadline;
	char *real;

	if (s->recorder != NULL) {
		xasprintf(cause, "already recording to %s (record stop "
		    "first)", recorder_dir(s->recorder));
		return -1;
	}
	/*
	 * A recording of the same directory that is still writing its last
	 * rows must end first (two writers would interleave its rows): a
	 * quick disk ends it in moments; a slow one is not waited for.
	 */
	real = s->nrec_closing > 0 ? realpath(dir, NULL) : NULL;
	deadline = clock_mono_us() + ENGINE_REOPEN_WAIT_US;
	while ((r = engine_record_closing_dir(s, dir, real)) != NULL &&
	    !recorder_ended(r) && clock_mono_us() < deadline)
		(void)poll(NULL, 0, 5);
	engine_record_reap(s, 0);
	r = engine_record_closing_dir(s, dir, real);
	free(real);
	if (r != NULL) {
		xasprintf(cause, "%s is still being closed: its disk has not "
		    "taken the last rows yet ('record' shows it until then); "
		    "record to another directory, or try again later", dir);
		return -1;
	}
	r = recorder_open(dir, &s->cursors, cause);
	if (r == NULL)
		return -1;
	if (cursor_attach(&s->cursors, dir, cause) != 0) {
		recorder_close(r);
		return -1;
	}
	s->recorder = r;
	/* its first rows go now; only --fast waits for the disk */
	if (s->fast)
		engine_flush(s);
	else {
		s->last_flush_us = 0;
		engine_flush_due(s, 0);
	}
	return 0;
}

/* Stop recording. */
void
engine_record_stop(struct session *s)
{
	struct recorder *r = s->recorder;

	if (r == NULL)
		return;
	/* --fast has no loop to keep: the rows are on disk before it goes on */
	if (s->fast)
		engine_flush(s);
	recorder_release(r);
	s->rec_closing = xreallocarray(s->rec_closing, s->nrec_closing + 1,
	    sizeof *s->rec_closing);
	s->rec_closing[s->nrec_closing++] = r;
	cursor_detach(&s->cursors);
	s->recorder = NULL;
	if (s->fast)
		engine_record_reap(s, 1);
	/* the next recording starts afresh; the exit status remembers */
	if (s->flush_error != NULL && s->record_incomplete == NULL)
		s->record_incomplete = s->flush_error;
	else
		free(s->flush_error);
	s->flush_error = NULL;
}

/* Stop everything, flush and free. */
void
engine_shutdown(struct session *s)
{
	size_t i, j;

	for (i = 0; i < s->nsites; i++)
		for (j = 0; j < s->sites[i]->npops; j++)
			if (s->sites[i]->pops[j] != NULL)
				engine_stop_population(s->sites[i]->pops[j]);
	engine_drain(s);
	s->shutting_down = 1;
	engine_record_stop(s);
	engine_record_reap(s, 1);	/* every row written, or given up */
	synapse_free_all(s);
	remote_free_all(s);
	for (i = 0; i < s->nsites; i++) {
		struct site *site = s->sites[i];

		plugin_unload_all(site);
		for (j = 0; j < site->npops; j++) {
			struct population *pop = site->pops[j];

			if (pop == NULL)
				continue;
			/* remote populations belong to no plugin */
			synapse_lists_free(pop);
			pthread_mutex_destroy(&pop->lock);
			free(pop->name);
			free(pop);
		}
		free(site->plugins);
		free(site->pops);
		free(site->devsets);
		free(site->transports);
		free(site->commands);
		free(site->links);
		free(site->taps);
		latency_free(site->lat_remote);
		free(site->name);
		free(site);
	}
	free(s->sites);
	for (i = 0; i < s->nplugin_dirs; i++)
		free(s->plugin_dirs[i]);
	free(s->plugin_dirs);
	for (i = 0; i < s->nmarks; i++)
		free(s->marks[i]);
	free(s->marks);
	free(s->pending);
	free(s->flush_error);
	free(s->record_incomplete);
	if (s->history != NULL)
		history_free(s->history);
	free(s->log_dir);
	cursor_free(&s->cursors);
	if (s->wake_fd != -1)
		close(s->wake_fd);
	free(s);
}
