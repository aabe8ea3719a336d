/*
 * ramp-neurons.c: the neuron-site role. synbridge takes Padova's ('D') or
 * Zurich's ('A') place: each spike of a local population goes to the node
 * as a datagram, and the node's 'S' datagrams come back as synaptic input
 * to the population's units.
 *
 * Time fields (24 bits, 50 us ticks, wrapping around): an 'A' datagram
 * carries the interval since this sender's previous datagram, as the facts
 * say; a 'D' datagram the interval since that unit's own previous spike
 * (inferred: RAMP_D_INTERVAL_PER_UNIT). The first interval counts from the
 * moment the link was loaded (inferred). An interval runs from the last
 * datagram the kernel took, so that the node's sum of intervals stays in
 * step when one is dropped here.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ramp.h"

/* The previous send time that the interval of a spike of unit counts from. */
static int64_t *
ramp_neurons_last(struct ramp *r, uint32_t unit)
{
	int64_t *grown;
	size_t n, i;

	if (r->sender == RAMP_SENDER_A || !RAMP_D_INTERVAL_PER_UNIT)
		return &r->last_us;
	if (unit >= r->nunit_last) {
		n = r->nunit_last == 0 ? 64 : r->nunit_last;
		while (n <= unit)
			n *= 2;
		if ((grown = realloc(r->unit_last_us, n * sizeof *grown)) ==
		    NULL)
			return NULL;
		for (i = r->nunit_last; i < n; i++)
			grown[i] = r->start_us;
		r->unit_last_us = grown;
		r->nunit_last = n;
	}
	return &r->unit_last_us[unit];
}

/*
 * The spike tap (engine thread, never blocks): each spike of the local
 * population becomes one datagram to the node.
 */
void
ramp_neurons_tap(void *data, const struct sb_event *ev, size_t n)
{
	struct ramp *r = data;
	struct ramp_packet pkt;
	int64_t *last;
	uint64_t id;
	size_t i;

	for (i = 0; i < n; i++) {
		if (ev[i].kind != SB_EV_SPIKE)
			continue;
		id = (uint64_t)ev[i].index + r->id_offset;
		if (id > RAMP_FIELD_MASK) {
			sb_devlink_count_out_of_range(&r->link, 1);
			ramp_cause_once(r, RAMP_RANGE_TAP, SB_LOG_WARNING, "ramp: "
			    "unit %u + id_offset %u does not fit the 24-bit "
			    "id field (not sent; counted as out of range)",
			    ev[i].index, r->id_offset);
			continue;
		}
		if ((last = ramp_neurons_last(r, ev[i].index)) == NULL) {
			sb_devlink_count_dropped(&r->link, 1);
			continue;
		}
		pkt.sender = r->sender;
		pkt.id = (uint32_t)id;
		pkt.time = ramp_ticks_between(*last, ev[i].t_us);
		if (r->sender == RAMP_SENDER_A)
			pkt.aux = 0;	/* ignored by the node */
		else
			pkt.aux = ev[i].aux == SB_SPIKE_STIMULATED ?
			    RAMP_AUX_STIMULATED : RAMP_AUX_SPONTANEOUS;
		if (ramp_send(r, &r->node, &pkt, RAMP_FIELD_MASK) == 0 &&
		    ev[i].t_us > *last)
			*last = ev[i].t_us;
	}
}

/* One datagram at a neuron site (link thread): 'S' is queued for poll(). */
void
ramp_neurons_datagram(struct ramp *r, const struct ramp_packet *pkt,
    int64_t t_us, const struct sockaddr_in *from)
{
	struct sb_event *ev;
	char addr[64], who[16];
	int full = 0;

	if (pkt->sender != RAMP_SENDER_S) {
		sb_devlink_count_malformed(&r->link, 1);
		ramp_cause_once(r, RAMP_BAD_AT_NEURONS, SB_LOG_WARNING, "ramp: "
		    "datagram from %s with sender %s ignored: a neuron site "
		    "takes only the node's 'S' (counted as malformed)",
		    ramp_addr_text(from, addr, sizeof addr),
		    ramp_sender_text(pkt->sender, who, sizeof who));
		return;
	}
	if (pkt->id < r->id_offset || (r->units != 0 &&
	    pkt->id - r->id_offset >= r->units)) {
		sb_devlink_count_out_of_range(&r->link, 1);
		ramp_cause_once(r, RAMP_RANGE_S, SB_LOG_WARNING, "ramp: 'S' id "
		    "%u from %s is not a unit of %s (id_offset %u%s; ignored "
		    "and counted as out of range)", pkt->id,
		    ramp_addr_text(from, addr, sizeof addr), r->population,
		    r->id_offset, r->units != 0 ? ", units= given" : "");
		return;
	}
	pthread_mutex_lock(&r->syn_lock);
	if (r->nsyn == RAMP_SYN_QUEUE)
		full = 1;
	else {
		ev = &r->syn[r->nsyn++];
		memset(ev, 0, sizeof *ev);
		ev->t_us = t_us;	/* arrival; the node's time is ignored */
		ev->kind = SB_EV_SYNAPTIC;
		ev->index = pkt->id - r->id_offset;
		ev->aux = pkt->aux;	/* the weight, 0-255 */
		ev->g_before = NAN;	/* the node sends no conductance */
	}
	pthread_mutex_unlock(&r->syn_lock);
	if (full) {
		sb_devlink_count_dropped(&r->link, 1);
		ramp_cause_once(r, RAMP_QUEUE_FULL, SB_LOG_WARNING, "ramp: %u "
		    "'S' datagrams wait for the engine: more are dropped "
		    "(counted in the link pane)", RAMP_SYN_QUEUE);
	}
}

/* Engine thread: hand the queued 'S' events to the local population. */
void
ramp_neurons_poll(struct ramp *r)
{
	struct sb_event *evs;
	size_t n;

	pthread_mutex_lock(&r->syn_lock);
	n = r->nsyn;
	evs = r->syn;
	r->syn = r->syn_out;
	r->syn_out = evs;
	r->nsyn = 0;
	pthread_mutex_unlock(&r->syn_lock);
	if (n > 0)
		r->host->deliver(r->plugin, r->name, r->stream, evs, n);
}
