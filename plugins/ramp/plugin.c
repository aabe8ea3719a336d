/*
 * plugin.c: ramp, the RAMP UDP link of the 2020 experiment (see ramp.h),
 * in one of two roles.
 *
 * role=node: synbridge is the memristor node.
 *   listen=HOST:PORT (0.0.0.0:5005), a_partner=HOST:PORT, d_partner=
 *   HOST:PORT (required), a_population=NAME (zurich), a_units=N (256),
 *   d_population=NAME (padova), d_units=N (60), connectivity=FILE with
 *   device=DEVSET, rule=RULE (rate), connectivity_direction=both|d_to_a|
 *   a_to_d (both; for lines without a fifth field d or a).
 * role=neurons: synbridge is a neuron site.
 *   population=NAME, sender=D|A, node=HOST:PORT (required),
 *   listen=HOST:PORT (0.0.0.0:25003 for D, 0.0.0.0:10000 for A),
 *   id_offset=N (0), units=N (default: 'S' ids are not checked here).
 * Both: name=NAME (ramp), the link's name.
 */
#include "config.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "synbridge-plugin.h"
#include "sb-args.h"
#include "ramp.h"

SB_PLUGIN("ramp");

/* Parsed arguments that do not live in struct ramp. */
struct ramp_args {
	const char *connectivity, *device, *rule;
	enum ramp_direction dir;
	struct ramp_synapse *syn;	/* the file's lines */
	size_t nsyn;
};

/* Free an instance (after its last registration is gone). */
static void
ramp_free(struct ramp *r)
{
	int i;

	if (r->link_ready) {
		sb_devlink_stop(&r->link);
		sb_devlink_free(&r->link);
	}
	if (r->fd >= 0)
		close(r->fd);
	for (i = 0; i < 2; i++)
		pthread_mutex_destroy(&r->pops[i].em_lock);
	pthread_mutex_destroy(&r->fd_lock);
	pthread_mutex_destroy(&r->tabs_lock);
	pthread_mutex_destroy(&r->syn_lock);
	free(r->unit_last_us);
	free(r->syn);
	free(r->syn_out);
	free(r);
}

/* Drop one reference (a registration's free_func; engine thread). */
void
ramp_unref(void *data)
{
	struct ramp *r = data;

	if (r != NULL && --r->refs == 0)
		ramp_free(r);
}

/* A population's free_func. */
static void
ramp_pop_unref(void *data)
{
	struct ramp_pop *pop = data;

	ramp_unref(pop->r);
}

/* Link poll (engine thread): clock, queued log lines, 'S' for the site. */
static void
ramp_link_poll(void *data)
{
	struct ramp *r = data;

	__atomic_store_n(&r->clock_offset_us, r->host->now_us(r->plugin) -
	    sb_devlink_mono_us(), __ATOMIC_RELAXED);
	sb_devlink_poll(&r->link, r->host, r->plugin);
	if (r->role == RAMP_ROLE_NEURONS)
		ramp_neurons_poll(r);
}

/* Link health (engine thread): one row; loss is unknown (NaN). */
static size_t
ramp_link_health(void *data, struct sb_link_health *out, size_t max)
{
	struct ramp *r = data;
	uint64_t from = __atomic_load_n(&r->last_from, __ATOMIC_RELAXED);
	uint64_t psps = __atomic_load_n(&r->psps, __ATOMIC_RELAXED);
	char last[64], extra[32] = "";
	struct sockaddr_in sa;

	if (max == 0)
		return 0;
	if (from == 0)
		snprintf(last, sizeof last, "nothing received yet");
	else {
		memset(&sa, 0, sizeof sa);
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl((uint32_t)(from >> 16));
		sa.sin_port = htons((uint16_t)from);
		memcpy(last, "last from ", 10);
		ramp_addr_text(&sa, last + 10, sizeof last - 10);
	}
	if (psps > 0)
		snprintf(extra, sizeof extra, ", %llu PSPs",
		    (unsigned long long)psps);
	if (r->role == RAMP_ROLE_NODE)
		sb_devlink_detail(&r->link, "node role on %s, 2 partners, %s%s",
		    r->listen_text, last, extra);
	else
		sb_devlink_detail(&r->link, "neurons role ('%c' %s) to %s, %s",
		    r->sender, r->population, r->node_text, last);
	sb_devlink_health(&r->link, out);
	out->loss_pct = NAN;	/* no sequence numbers: loss is unknown */
	return 1;
}

/* A name argument: 1-63 characters without blanks, '/', ':' or ','. */
static int
ramp_name_arg(struct ramp *r, const char *key, const char *value,
    const char *def, char *out)
{
	const char *s;

	if (value == NULL)
		value = def;
	for (s = value; *s != '\0'; s++)
		if (*s <= ' ' || strchr("/:,#'\"", *s) != NULL)
			break;
	if (*value == '\0' || *s != '\0' || strlen(value) >= RAMP_NAME_LEN) {
		r->host->log(r->plugin, SB_LOG_ERROR, "ramp: %s='%s' is not a "
		    "name (1-%d characters, no blanks, quotes or / : , #)",
		    key, value, RAMP_NAME_LEN - 1);
		return -1;
	}
	snprintf(out, RAMP_NAME_LEN, "%s", value);
	return 0;
}

/* A whole-number argument from lo to hi (def if absent). */
static int
ramp_uint_arg(struct ramp *r, const char *key, const char *value,
    uint32_t lo, uint32_t hi, uint32_t def, uint32_t *out)
{
	if (value == NULL) {
		*out = def;
		return 0;
	}
	if (sb_args_uint32(value, out) != 0 || *out < lo || *out > hi) {
		r->host->log(r->plugin, SB_LOG_ERROR, "ramp: %s='%s' is not a "
		    "whole number from %u to %u", key, value, lo, hi);
		return -1;
	}
	return 0;
}

/* An address argument, required or with a default. */
static int
ramp_addr_arg(struct ramp *r, const char *key, const char *value,
    const char *def, int zero_ok, struct sockaddr_in *sa, char *text,
    size_t len)
{
	char *cause = NULL;

	if (value == NULL && def == NULL) {
		r->host->log(r->plugin, SB_LOG_ERROR, "ramp: %s=HOST:PORT is "
		    "required in role=%s", key, r->role == RAMP_ROLE_NODE ?
		    "node" : "neurons");
		return -1;
	}
	if (ramp_addr_parse(key, value != NULL ? value : def, zero_ok, sa,
	    text, len, &cause) != 0) {
		r->host->log(r->plugin, SB_LOG_ERROR, "%s", cause != NULL ?
		    cause : "ramp: bad address");
		free(cause);
		return -1;
	}
	return 0;
}

/* Arguments of role=node. */
static int
ramp_node_args(struct ramp *r, struct ramp_args *ra)
{
	static const char *keys[] = { "listen", "a_partner", "a_population",
	    "a_units", "d_partner", "d_population", "d_units", "connectivity",
	    "device", "rule", "connectivity_direction" };
	enum { LISTEN, APART, APOP, AUNITS, DPART, DPOP, DUNITS, CONN, DEVICE,
	    RULE, DIR, NKEYS };
	const char *v[NKEYS], *s;
	char def[32];
	int bad = 0;
	size_t i;

	for (i = 0; i < NKEYS; i++)
		v[i] = r->host->arg(r->plugin, keys[i]);
	snprintf(def, sizeof def, "0.0.0.0:%d", RAMP_NODE_PORT);
	bad |= ramp_addr_arg(r, "listen", v[LISTEN], def, 1, &r->listen,
	    r->listen_text, sizeof r->listen_text);
	bad |= ramp_addr_arg(r, "a_partner", v[APART], NULL, 0,
	    &r->pops[0].partner, r->pops[0].partner_text,
	    sizeof r->pops[0].partner_text);
	bad |= ramp_addr_arg(r, "d_partner", v[DPART], NULL, 0,
	    &r->pops[1].partner, r->pops[1].partner_text,
	    sizeof r->pops[1].partner_text);
	bad |= ramp_name_arg(r, "a_population", v[APOP], "zurich",
	    r->pops[0].name);
	bad |= ramp_name_arg(r, "d_population", v[DPOP], "padova",
	    r->pops[1].name);
	bad |= ramp_uint_arg(r, "a_units", v[AUNITS], 1, RAMP_FIELD_MASK + 1,
	    RAMP_A_UNITS, &r->pops[0].units);
	bad |= ramp_uint_arg(r, "d_units", v[DUNITS], 1, RAMP_FIELD_MASK + 1,
	    RAMP_D_UNITS, &r->pops[1].units);
	r->pops[0].sender = RAMP_SENDER_A;
	r->pops[1].sender = RAMP_SENDER_D;
	if (bad)
		return -1;
	if (strcmp(r->pops[0].name, r->pops[1].name) == 0) {
		r->host->log(r->plugin, SB_LOG_ERROR, "ramp: a_population and "
		    "d_population are both '%s' (give them different names)",
		    r->pops[0].name);
		return -1;
	}
	ra->connectivity = v[CONN];
	ra->device = v[DEVICE];
	ra->rule = v[RULE] != NULL ? v[RULE] : "rate";
	if (v[DIR] != NULL && ramp_direction_parse(v[DIR], &ra->dir) != 0) {
		r->host->log(r->plugin, SB_LOG_ERROR, "ramp: "
		    "connectivity_direction='%s' unknown (use both, d_to_a or "
		    "a_to_d)", v[DIR]);
		return -1;
	}
	if (ra->connectivity == NULL && (v[DEVICE] != NULL || v[RULE] !=
	    NULL || v[DIR] != NULL)) {
		r->host->log(r->plugin, SB_LOG_ERROR, "ramp: device=, rule= "
		    "and connectivity_direction= go with connectivity=FILE");
		return -1;
	}
	if (ra->connectivity != NULL && ra->device == NULL) {
		r->host->log(r->plugin, SB_LOG_ERROR, "ramp: connectivity= needs "
		    "device=DEVSET, the synapse devices to put its synapses on "
		    "(e.g. device=xbar after load sim_memristor name=xbar)");
		return -1;
	}
	for (s = ra->device != NULL ? ra->device : ""; *s != '\0'; s++)
		if (*s <= ' ' || *s == ':' || *s == '/' || *s == '#')
			break;
	if (ra->device != NULL && (*ra->device == '\0' || *s != '\0')) {
		r->host->log(r->plugin, SB_LOG_ERROR, "ramp: device='%s' is not "
		    "a device set name", ra->device);
		return -1;
	}
	for (s = ra->rule; *s != '\0'; s++)
		if (*s <= ' ' || *s == '#' || *s == '\'' || *s == '"')
			break;
	if (*ra->rule == '\0' || *s != '\0') {
		r->host->log(r->plugin, SB_LOG_ERROR, "ramp: rule='%s' is not a "
		    "rule name (rate, stdp or off)", ra->rule);
		return -1;
	}
	if (r->pops[0].units > RAMP_NODE_SEND_MASK + 1 ||
	    r->pops[1].units > RAMP_NODE_SEND_MASK + 1)
		r->host->log(r->plugin, SB_LOG_WARNING, "ramp: ids above %u "
		    "reach the partners masked to 20 bits, as the original "
		    "node sent them", RAMP_NODE_SEND_MASK);
	return 0;
}

/* Arguments of role=neurons. */
static int
ramp_neurons_args(struct ramp *r)
{
	static const char *keys[] = { "population", "sender", "node",
	    "listen", "id_offset", "units" };
	enum { POP, SENDER, NODE, LISTEN, OFFSET, UNITS, NKEYS };
	const char *v[NKEYS];
	char def[32];
	int bad = 0;
	size_t i;

	for (i = 0; i < NKEYS; i++)
		v[i] = r->host->arg(r->plugin, keys[i]);
	if (v[POP] == NULL) {
		r->host->log(r->plugin, SB_LOG_ERROR, "ramp: population=NAME is "
		    "required in role=neurons (the local population to link, "
		    "e.g. population=mea)");
		bad = -1;
	} else
		bad |= ramp_name_arg(r, "population", v[POP], NULL,
		    r->population);
	if (v[SENDER] == NULL || (strcmp(v[SENDER], "D") != 0 &&
	    strcmp(v[SENDER], "A") != 0)) {
		r->host->log(r->plugin, SB_LOG_ERROR, "ramp: sender=%s: give "
		    "sender=D (this site is Padova's culture) or sender=A "
		    "(Zurich's silicon neurons)", v[SENDER] != NULL ?
		    v[SENDER] : "(missing)");
		return -1;
	}
	r->sender = (uint8_t)v[SENDER][0];
	snprintf(def, sizeof def, "0.0.0.0:%d", r->sender == RAMP_SENDER_A ?
	    RAMP_A_PORT : RAMP_D_PORT);
	bad |= ramp_addr_arg(r, "node", v[NODE], NULL, 0, &r->node,
	    r->node_text, sizeof r->node_text);
	bad |= ramp_addr_arg(r, "listen", v[LISTEN], def, 1, &r->listen,
	    r->listen_text, sizeof r->listen_text);
	bad |= ramp_uint_arg(r, "id_offset", v[OFFSET], 0, RAMP_FIELD_MASK, 0,
	    &r->id_offset);
	bad |= ramp_uint_arg(r, "units", v[UNITS], 1, RAMP_FIELD_MASK + 1, 0,
	    &r->units);
	return bad ? -1 : 0;
}

/* Pre and post populations of a direction (d_to_a or a_to_d). */
static void
ramp_direction_pops(struct ramp *r, enum ramp_direction dir,
    struct ramp_pop **pre, struct ramp_pop **post)
{
	*pre = &r->pops[dir == RAMP_DIR_D_TO_A ? 1 : 0];
	*post = &r->pops[dir == RAMP_DIR_D_TO_A ? 0 : 1];
}

/* A line's direction: its own fifth field, else connectivity_direction=. */
static enum ramp_direction
ramp_line_direction(const struct ramp_args *ra, const struct ramp_synapse *syn)
{
	return syn->dir != RAMP_DIR_BOTH ? syn->dir : ra->dir;
}

/* Can a connectivity line be made into a synapse here? */
static int
ramp_check_synapse(struct ramp *r, const struct ramp_args *ra,
    const struct ramp_synapse *syn)
{
	enum ramp_direction dir = ramp_line_direction(ra, syn);
	struct ramp_pop *pre, *post, *bad;
	uint32_t id;

	if (dir == RAMP_DIR_BOTH) {
		/*
		 * The original applied a line to whichever sender the pre
		 * id came from, on one device; a device here carries one
		 * synapse, so each line must say which direction it means.
		 */
		r->host->log(r->plugin, SB_LOG_ERROR, "ramp: %s:%u: with "
		    "connectivity_direction=both this line is two synapses "
		    "(%s:%u -> %s:%u and %s:%u -> %s:%u) on one device w%ub%u, "
		    "and a device carries one synapse: end the line with ', d' "
		    "or ', a', or load with connectivity_direction=d_to_a or "
		    "a_to_d", ra->connectivity, syn->line, r->pops[1].name,
		    syn->pre, r->pops[0].name, syn->post, r->pops[0].name,
		    syn->pre, r->pops[1].name, syn->post, syn->w, syn->b);
		return -1;
	}
	ramp_direction_pops(r, dir, &pre, &post);
	if (syn->pre < pre->units && syn->post < post->units)
		return 0;
	bad = syn->pre >= pre->units ? pre : post;
	id = syn->pre >= pre->units ? syn->pre : syn->post;
	r->host->log(r->plugin, SB_LOG_ERROR, "ramp: %s:%u: %s %u is beyond "
	    "%s's units 0-%u (fix the line, or raise %c_units=)",
	    ra->connectivity, syn->line, bad == pre ? "pre" : "post", id,
	    bad->name, bad->units - 1, bad->sender == RAMP_SENDER_A ? 'a' :
	    'd');
	return -1;
}

/* Queue the synapse command of a connectivity line. */
static int
ramp_queue_synapse(struct ramp *r, const struct ramp_args *ra,
    const struct ramp_synapse *syn)
{
	enum ramp_direction dir = ramp_line_direction(ra, syn);
	struct ramp_pop *pre, *post;
	char line[512], where[300];

	ramp_direction_pops(r, dir, &pre, &post);
	/* the name says which sender is pre: d12_a0 = padova 12 -> zurich 0 */
	snprintf(line, sizeof line, "synapse %c%u_%c%u %s/%s:%u %s/%s:%u "
	    "%s:w%ub%u -r %s", dir == RAMP_DIR_D_TO_A ? 'd' : 'a', syn->pre,
	    dir == RAMP_DIR_D_TO_A ? 'a' : 'd', syn->post, r->site,
	    pre->name, syn->pre, r->site, post->name, syn->post, ra->device,
	    syn->w, syn->b, ra->rule);
	snprintf(where, sizeof where, "%s:%u", ra->connectivity, syn->line);
	if (r->host->queue_command(r->plugin, where, line) != 0) {
		r->host->log(r->plugin, SB_LOG_ERROR, "ramp: the host refused "
		    "to queue '%s'", line);
		return -1;
	}
	return 0;
}

/* Read and check the connectivity file (before anything is opened). */
static int
ramp_connectivity_read(struct ramp *r, struct ramp_args *ra)
{
	char *cause = NULL;
	size_t i;

	if (ra->connectivity == NULL)
		return 0;
	if (ramp_conn_read(ra->connectivity, &ra->syn, &ra->nsyn,
	    &cause) != 0) {
		r->host->log(r->plugin, SB_LOG_ERROR, "ramp: %s", cause != NULL ?
		    cause : "cannot read the connectivity file");
		free(cause);
		return -1;
	}
	for (i = 0; i < ra->nsyn; i++)
		if (ramp_check_synapse(r, ra, &ra->syn[i]) != 0)
			return -1;
	if (ra->nsyn == 0)
		r->host->log(r->plugin, SB_LOG_WARNING, "ramp: %s has no "
		    "synapses (one 'pre, post, w, b' a line)",
		    ra->connectivity);
	return 0;
}

/* Queue the synapses of the connectivity file, in file order. */
static int
ramp_connectivity_queue(struct ramp *r, const struct ramp_args *ra)
{
	size_t i;

	for (i = 0; i < ra->nsyn; i++)
		if (ramp_queue_synapse(r, ra, &ra->syn[i]) != 0)
			return -1;
	if (ra->nsyn > 0)
		r->host->log(r->plugin, SB_LOG_INFO, "ramp: %s: %zu synapses to "
		    "define on %s, rule %s", ra->connectivity, ra->nsyn, ra->device,
		    ra->rule);
	return 0;
}

/* A new instance with nothing open; NULL if out of memory. */
static struct ramp *
ramp_new(struct sb_plugin *p, const struct sb_host_api *host)
{
	struct ramp *r;

	if ((r = calloc(1, sizeof *r)) == NULL)
		return NULL;
	r->refs = 1;
	r->host = host;
	r->plugin = p;
	r->fd = -1;
	pthread_mutex_init(&r->fd_lock, NULL);
	pthread_mutex_init(&r->tabs_lock, NULL);
	pthread_mutex_init(&r->syn_lock, NULL);
	pthread_mutex_init(&r->pops[0].em_lock, NULL);
	pthread_mutex_init(&r->pops[1].em_lock, NULL);
	return r;
}

/* Read the arguments of the instance's role. */
static int
ramp_configure(struct ramp *r, struct ramp_args *ra)
{
	const char *role = r->host->arg(r->plugin, "role");
	const char *site = r->host->site(r->plugin);

	if (ramp_name_arg(r, "name", r->host->arg(r->plugin, "name"), "ramp",
	    r->name) != 0)
		return -1;
	snprintf(r->site, sizeof r->site, "%s", site != NULL ? site : "");
	if (ramp_uint_arg(r, "quiet_ms", r->host->arg(r->plugin, "quiet_ms"),
	    0, 3600000, RAMP_QUIET_MS, &r->quiet_ms) != 0)
		return -1;
	if (role != NULL && strcmp(role, "node") == 0) {
		r->role = RAMP_ROLE_NODE;
		return ramp_node_args(r, ra);
	}
	if (role != NULL && strcmp(role, "neurons") == 0) {
		r->role = RAMP_ROLE_NEURONS;
		if (ramp_neurons_args(r) != 0)
			return -1;
		snprintf(r->stream, sizeof r->stream, "syn:%s/%s", r->site,
		    r->population);
		return 0;
	}
	r->host->log(r->plugin, SB_LOG_ERROR, "ramp: role=%s: give role=node "
	    "(synbridge is the memristor node) or role=neurons (synbridge is "
	    "a neuron site sending to a node)", role != NULL ? role :
	    "(missing)");
	return -1;
}

/* Register the role's populations or spike tap; each takes a reference. */
static int
ramp_register(struct ramp *r)
{
	int i;

	if (r->role == RAMP_ROLE_NODE) {
		ramp_node_setup_pops(r);
		for (i = 0; i < 2; i++) {
			r->refs++;
			if (r->host->register_neurons(r->plugin,
			    &r->pops[i].neurons, &r->pops[i],
			    ramp_pop_unref) != 0)
				return -1;
		}
		return 0;
	}
	r->syn = calloc(RAMP_SYN_QUEUE, sizeof *r->syn);
	r->syn_out = calloc(RAMP_SYN_QUEUE, sizeof *r->syn_out);
	if (r->syn == NULL || r->syn_out == NULL) {
		r->host->log(r->plugin, SB_LOG_ERROR, "ramp: out of memory");
		return -1;
	}
	r->start_us = r->last_us = r->host->now_us(r->plugin);
	r->refs++;
	return r->host->register_spike_tap(r->plugin, r->population,
	    ramp_neurons_tap, r, ramp_unref);
}

/*
 * Entry point: check the arguments and the connectivity file, open the
 * socket (a clear error now if it cannot), register the role's
 * capabilities and the link, start the link's thread, queue the synapses.
 */
int
synbridge_plugin_init(struct sb_plugin *p, const struct sb_host_api *host)
{
	struct ramp_args ra = { NULL, NULL, NULL, RAMP_DIR_BOTH, NULL, 0 };
	struct sb_link link;
	struct ramp *r;
	char *cause = NULL;

	if (host->size < offsetof(struct sb_host_api, queue_command) +
	    sizeof host->queue_command) {
		host->log(p, SB_LOG_ERROR, "ramp: this synbridge is too old "
		    "for the ramp plugin (no device links)");
		return -1;
	}
	if (host->fast(p)) {
		host->log(p, SB_LOG_ERROR, "ramp: --fast runs on virtual time; "
		    "the RAMP link needs real time");
		return -1;
	}
	if ((r = ramp_new(p, host)) == NULL) {
		host->log(p, SB_LOG_ERROR, "ramp: out of memory");
		return -1;
	}
	__atomic_store_n(&r->clock_offset_us, host->now_us(p) -
	    sb_devlink_mono_us(), __ATOMIC_RELAXED);
	if (ramp_configure(r, &ra) != 0 || ramp_connectivity_read(r, &ra) != 0)
		goto fail;
	if (sb_devlink_init(&r->link, r->name, &ramp_link_ops, r,
	    host->seed(p), &cause) != 0) {
		host->log(p, SB_LOG_ERROR, "ramp: %s", cause);
		free(cause);
		goto fail;
	}
	r->link_ready = 1;
	/* UDP says nothing when the far end is gone: silence for 5 s is
	 * shown as degraded (override with quiet_ms=; 0: off) */
	sb_devlink_quiet(&r->link, r->quiet_ms);
	if (ramp_open(r, &cause) != 0) {
		host->log(p, SB_LOG_ERROR, "ramp: %s", cause);
		free(cause);
		goto fail;
	}
	if (ramp_register(r) != 0)
		goto fail;
	memset(&link, 0, sizeof link);
	link.name = r->name;
	link.health = ramp_link_health;
	link.poll = ramp_link_poll;
	r->refs++;
	if (host->register_link(p, &link, r, ramp_unref) != 0)
		goto fail;
	if (sb_devlink_start(&r->link, &cause) != 0) {
		host->log(p, SB_LOG_ERROR, "ramp: %s", cause);
		free(cause);
		goto fail;
	}
	if (ramp_connectivity_queue(r, &ra) != 0)
		goto fail;
	if (r->role == RAMP_ROLE_NODE)
		host->log(p, SB_LOG_INFO, "ramp: node on %s: %s (%u units) "
		    "with %s, %s (%u units) with %s", r->listen_text,
		    r->pops[0].name, r->pops[0].units, r->pops[0].partner_text,
		    r->pops[1].name, r->pops[1].units, r->pops[1].partner_text);
	else
		host->log(p, SB_LOG_INFO, "ramp: %s as '%c' to the node at %s, "
		    "listening on %s", r->population, r->sender, r->node_text,
		    r->listen_text);
	free(ra.syn);
	ramp_unref(r);
	return 0;
fail:
	free(ra.syn);
	ramp_unref(r);
	return -1;
}

/* Nothing to do: the host frees what was registered. */
void
synbridge_plugin_end(struct sb_plugin *p)
{
}
