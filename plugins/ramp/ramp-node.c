/*
 * ramp-node.c: the node role. synbridge takes the memristor node's place:
 * 'A' datagrams (Zurich) become spikes of one population, 'D' action
 * potentials (Padova) spikes of another, both at this site, so synapses
 * on any synapse device of the site link them; the host calls a
 * population's synaptic_input() when a synapse onto one of its units
 * fires, and that becomes an 'S' datagram to the lab that owns the unit
 * (as the original routed weights: to whoever owns the post neuron).
 *
 * Differences from the original, documented in synbridge(1):
 * - a 'D' PSP (aux 0) is counted, not a spike: synbridge's rules never
 *   see PSPs (the original's rule ran on them);
 * - a stimulus-evoked 'D' action potential (aux 1) is a spike like any
 *   other, so synbridge's rate rule runs on it too (the original's did
 *   not);
 * - spikes are stamped with the session clock at arrival; the time field
 *   only drives the original's clock t_abs (advanced by 'A' datagrams),
 *   which outgoing 'S' datagrams carry.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ramp.h"

/* Emit a spike of pop at t_us (link thread); a refusal is counted. */
static void
ramp_node_emit(struct ramp *r, struct ramp_pop *pop, uint32_t unit,
    uint8_t aux, int64_t t_us)
{
	struct sb_event ev;
	int rc = -2;

	memset(&ev, 0, sizeof ev);
	ev.t_us = t_us;
	ev.kind = SB_EV_SPIKE;
	ev.index = unit;
	ev.aux = aux;
	pthread_mutex_lock(&pop->em_lock);
	if (pop->em != NULL)
		rc = r->host->emit(pop->em, &ev);
	pthread_mutex_unlock(&pop->em_lock);
	if (rc == 0)
		return;
	sb_devlink_count_dropped(&r->link, 1);
	if (rc == -2)
		ramp_cause_once(r, RAMP_NOT_STARTED, SB_LOG_WARNING, "ramp: "
		    "spikes of %s arrived before it started or after it "
		    "stopped (counted as dropped)", pop->name);
	else
		ramp_cause_once(r, RAMP_EMIT_FULL, SB_LOG_WARNING, "ramp: "
		    "%s: the event ring is full, spikes dropped (the engine "
		    "fell behind)", pop->name);
}

/* Remember the clock after an 'A' datagram that arrived at t_us. */
static void
ramp_node_tabs_keep(struct ramp *r, int64_t t_us, uint64_t t_abs)
{
	pthread_mutex_lock(&r->tabs_lock);
	r->tabs[r->tabs_next].t_us = t_us;
	r->tabs[r->tabs_next].t_abs = t_abs;
	r->tabs_next = (r->tabs_next + 1) % RAMP_TABS_HISTORY;
	if (r->ntabs < RAMP_TABS_HISTORY)
		r->ntabs++;
	pthread_mutex_unlock(&r->tabs_lock);
	__atomic_store_n(&r->t_abs, t_abs, __ATOMIC_RELAXED);
}

/*
 * The original's clock as it was at session time t_us (the pre spike
 * that makes a synapse fire arrived then; the engine may run a little
 * later, after more 'A' datagrams moved the clock on): the latest kept
 * value at or before t_us, else the current one.
 */
uint64_t
ramp_node_tabs_at(struct ramp *r, int64_t t_us)
{
	uint64_t t_abs = __atomic_load_n(&r->t_abs, __ATOMIC_RELAXED);
	size_t i, k;

	pthread_mutex_lock(&r->tabs_lock);
	for (i = 0; i < r->ntabs; i++) {
		k = (r->tabs_next + RAMP_TABS_HISTORY - 1 - i) %
		    RAMP_TABS_HISTORY;
		if (r->tabs[k].t_us <= t_us) {
			t_abs = r->tabs[k].t_abs;
			break;
		}
	}
	pthread_mutex_unlock(&r->tabs_lock);
	return t_abs;
}

/* Is id a unit of pop? Counted and said once if not. */
static int
ramp_node_in_range(struct ramp *r, struct ramp_pop *pop,
    const struct ramp_packet *pkt, const struct sockaddr_in *from)
{
	char addr[64];

	if (pkt->id < pop->units)
		return 1;
	sb_devlink_count_out_of_range(&r->link, 1);
	ramp_cause_once(r, pop->sender == RAMP_SENDER_A ? RAMP_RANGE_A :
	    RAMP_RANGE_D, SB_LOG_WARNING, "ramp: '%c' id %u from %s is beyond "
	    "%s's units 0-%u (ignored and counted; raise %s_units=)",
	    pop->sender, pkt->id, ramp_addr_text(from, addr, sizeof addr),
	    pop->name, pop->units - 1, pop->sender == RAMP_SENDER_A ? "a" :
	    "d");
	return 0;
}

/* One datagram at the node (link thread). */
void
ramp_node_datagram(struct ramp *r, const struct ramp_packet *pkt,
    int64_t t_us, const struct sockaddr_in *from)
{
	struct ramp_pop *pop;
	uint64_t t_abs;
	char addr[64], who[16];

	switch (pkt->sender) {
	case RAMP_SENDER_A:
		pop = &r->pops[0];
		/*
		 * Only 'A' advances the clock: by its interval since
		 * Zurich's previous datagram, also when the id is out of
		 * range (the interval still passed; inferred).
		 */
		t_abs = ramp_tabs_advance(__atomic_load_n(&r->t_abs,
		    __ATOMIC_RELAXED), pkt->time);
		ramp_node_tabs_keep(r, t_us, t_abs);
		if (ramp_node_in_range(r, pop, pkt, from))
			ramp_node_emit(r, pop, pkt->id, SB_SPIKE_SPONTANEOUS,
			    t_us);
		return;
	case RAMP_SENDER_D:
		pop = &r->pops[1];
		if (pkt->aux > RAMP_AUX_SPONTANEOUS) {
			sb_devlink_count_malformed(&r->link, 1);
			ramp_cause_once(r, RAMP_BAD_AUX, SB_LOG_WARNING, "ramp: "
			    "'D' datagram from %s with aux %u ignored (0 PSP, 1 "
			    "stimulated AP, 2 spontaneous AP; counted as "
			    "malformed)", ramp_addr_text(from, addr,
			    sizeof addr), pkt->aux);
			return;
		}
		if (!ramp_node_in_range(r, pop, pkt, from))
			return;
		if (pkt->aux == RAMP_AUX_PSP) {
			/* not a spike: synbridge's rules do not see PSPs */
			__atomic_add_fetch(&r->psps, 1, __ATOMIC_RELAXED);
			return;
		}
		ramp_node_emit(r, pop, pkt->id, pkt->aux ==
		    RAMP_AUX_STIMULATED ? SB_SPIKE_STIMULATED :
		    SB_SPIKE_SPONTANEOUS, t_us);
		return;
	case RAMP_SENDER_S:
		sb_devlink_count_malformed(&r->link, 1);
		ramp_cause_once(r, RAMP_BAD_S_AT_NODE, SB_LOG_WARNING, "ramp: "
		    "'S' datagram from %s ignored: only the node sends 'S', "
		    "and this is the node (is another node sending here?)",
		    ramp_addr_text(from, addr, sizeof addr));
		return;
	default:
		sb_devlink_count_malformed(&r->link, 1);
		ramp_cause_once(r, RAMP_BAD_SENDER, SB_LOG_WARNING, "ramp: "
		    "datagram from %s with unknown sender %s ignored ('A', "
		    "'D' or 'R' are expected here; counted as malformed)",
		    ramp_addr_text(from, addr, sizeof addr),
		    ramp_sender_text(pkt->sender, who, sizeof who));
	}
}

/* neurons.start: spikes may be emitted from now on. */
static int
ramp_node_start(void *data, struct sb_emitter *em, char **cause)
{
	struct ramp_pop *pop = data;

	pthread_mutex_lock(&pop->em_lock);
	pop->em = em;
	pthread_mutex_unlock(&pop->em_lock);
	return 0;
}

/* neurons.stop: no emit after this returns. */
static void
ramp_node_stop(void *data)
{
	struct ramp_pop *pop = data;

	pthread_mutex_lock(&pop->em_lock);
	pop->em = NULL;
	pthread_mutex_unlock(&pop->em_lock);
}

/*
 * neurons.synaptic_input (engine thread): a synapse onto unit fired, so
 * send the weight to the lab that owns the unit, as an 'S' datagram with
 * the original's clock, id and time masked as the original sent them.
 */
static void
ramp_node_synaptic_input(void *data, uint32_t unit, unsigned weight,
    double g_us, int64_t t_us)
{
	struct ramp_pop *pop = data;
	struct ramp_packet pkt;

	pkt.sender = RAMP_SENDER_S;
	pkt.id = unit;
	pkt.aux = (uint8_t)(weight > 255 ? 255 : weight);
	pkt.time = (uint32_t)(ramp_node_tabs_at(pop->r, t_us) &
	    RAMP_FIELD_MASK);
	ramp_send(pop->r, &pop->partner, &pkt, RAMP_NODE_SEND_MASK);
}

/* Fill in the two populations' callbacks (names, units set by init). */
void
ramp_node_setup_pops(struct ramp *r)
{
	int i;

	for (i = 0; i < 2; i++) {
		struct ramp_pop *pop = &r->pops[i];

		pop->r = r;
		pop->neurons.name = pop->name;
		pop->neurons.units = pop->units;
		pop->neurons.start = ramp_node_start;
		pop->neurons.stop = ramp_node_stop;
		pop->neurons.synaptic_input = ramp_node_synaptic_input;
	}
}
