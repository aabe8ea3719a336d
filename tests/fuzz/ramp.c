/*
 * ramp.c: fuzz target for the RAMP UDP link's receive path
 * (plugins/ramp: ramp_datagram, ramp-packet.c, ramp-node.c,
 * ramp-neurons.c), as datagrams from any host on the network meet it.
 *
 * Two instances of the real plugin are loaded once through the fake host:
 * a node (synbridge in Southampton's place) and a neuron site (Padova's,
 * sender D, id_offset=100, units=60). Input: datagrams, each a length
 * byte and that many bytes (RAMP's 8, the old 3-byte "RDY", anything
 * else). Each goes to both instances. What they hand on
 * must be in range: the node's spikes are units of its populations, at
 * most one per datagram; the neuron site's synaptic events are units of
 * its population with the weight of the datagram.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake-host.h"
#include "fuzz.h"
#include "ramp.h"

#define FUZZ_RAMP_EVENTS 65536

static struct sb_plugin *fuzz_ramp_node, *fuzz_ramp_site;
static struct sb_emitter fuzz_ramp_em[2];
static uint64_t fuzz_ramp_delivered;

/* The neuron site's deliveries: synaptic events of its own units. */
static void
fuzz_ramp_deliver(struct sb_plugin *p, const char *site, const char *stream,
    const struct sb_event *ev, size_t n)
{
	size_t i;

	(void)site;	/* the link's name, who it came from */
	FUZZ_CHECK(strcmp(stream, "syn:padova/mea") == 0);
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(ev[i].kind == SB_EV_SYNAPTIC);
		FUZZ_CHECK(ev[i].index < 60);
	}
	fuzz_ramp_delivered += n;
}

/* Load one instance with NULL-terminated key, value pairs. */
static struct sb_plugin *
fuzz_ramp_load(const char *site, const char *const *args)
{
	struct sb_plugin *p = fake_plugin_new(site, 1);

	if (p == NULL)
		abort();
	p->quiet = 1;
	p->fast = 0;
	for (; args[0] != NULL; args += 2)
		fake_plugin_arg(p, args[0], args[1]);
	if (synbridge_plugin_init(p, &fake_host) != 0) {
		fprintf(stderr, "fuzz: ramp: cannot load (%s)\n", p->error);
		abort();
	}
	return p;
}

/* Load the node and the neuron site; start the node's populations. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const node[] = { "role", "node", "listen",
	    "127.0.0.1:0", "a_partner", "127.0.0.1:9", "d_partner",
	    "127.0.0.1:9", NULL };
	static const char *const site[] = { "role", "neurons", "population",
	    "mea", "sender", "D", "node", "127.0.0.1:9", "listen",
	    "127.0.0.1:0", "id_offset", "100", "units", "60", NULL };
	char *cause = NULL;
	int i;

	fuzz_ramp_node = fuzz_ramp_load("southampton", node);
	fuzz_ramp_site = fuzz_ramp_load("padova", site);
	fuzz_ramp_site->on_deliver = fuzz_ramp_deliver;
	FUZZ_CHECK(fuzz_ramp_node->npops == 2);
	for (i = 0; i < 2; i++) {
		fuzz_ramp_em[i].p = fuzz_ramp_node;
		fuzz_ramp_em[i].limit = FUZZ_RAMP_EVENTS;
		FUZZ_CHECK(fuzz_ramp_node->pops[i].start(
		    fuzz_ramp_node->pops_data[i], &fuzz_ramp_em[i],
		    &cause) == 0);
	}
	return 0;
}

/* Forget what the last input left (clock, causes said, events). */
static void
fuzz_ramp_reset(struct ramp *node, struct ramp *site)
{
	node->t_abs = 0;
	node->ntabs = node->tabs_next = 0;
	node->causes_seen = site->causes_seen = 0;
	fuzz_ramp_node->nevents = 0;
	fuzz_ramp_delivered = 0;
}

/* Every datagram to both instances. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ramp *node = fuzz_ramp_node->link_data;
	struct ramp *site = fuzz_ramp_site->link_data;
	struct sockaddr_in from;
	const uint8_t *piece;
	uint64_t whole = 0, datagrams = 0;
	int64_t t_us = 1000000;
	size_t n, i;

	fuzz_ramp_reset(node, site);
	memset(&from, 0, sizeof from);
	from.sin_family = AF_INET;
	from.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	from.sin_port = htons(10000);
	while (size > 0) {
		n = fuzz_take(&data, &size, &piece);
		ramp_datagram(node, piece, n, t_us, &from);
		ramp_datagram(site, piece, n, t_us, &from);
		datagrams++;
		whole += n == RAMP_DATAGRAM;
		t_us += 50;
	}
	ramp_neurons_poll(site);

	/* the node: at most one spike per whole datagram, each of a unit */
	FUZZ_CHECK(fuzz_ramp_node->nevents <= whole);
	for (i = 0; i < fuzz_ramp_node->nevents; i++) {
		const struct sb_event *ev = &fuzz_ramp_node->events[i];

		FUZZ_CHECK(ev->kind == SB_EV_SPIKE);
		FUZZ_CHECK(ev->index < RAMP_A_UNITS);
		FUZZ_CHECK(ev->aux == SB_SPIKE_SPONTANEOUS ||
		    ev->aux == SB_SPIKE_STIMULATED);
	}
	/* the neuron site: at most one synaptic event per whole datagram */
	FUZZ_CHECK(fuzz_ramp_delivered <= whole);
	FUZZ_CHECK(datagrams >= whole);
	return 0;
}
