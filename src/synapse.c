/* synapse.c: synapses, selectors, routing lists and device operations. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "engine.h"
#include "rule.h"
#include "synapse.h"
#include "xmalloc.h"

/* Append id to a list. */
static void
syn_list_add(struct syn_list *l, uint32_t id)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 2;
		l->ids = xreallocarray(l->ids, l->cap, sizeof *l->ids);
	}
	l->ids[l->n++] = id;
}

/* Free a population's routing lists. */
void
synapse_lists_free(struct population *pop)
{
	uint32_t i;

	if (pop->pre_of != NULL)
		for (i = 0; i < pop->ops.units; i++)
			free(pop->pre_of[i].ids);
	if (pop->post_of != NULL)
		for (i = 0; i < pop->ops.units; i++)
			free(pop->post_of[i].ids);
	free(pop->pre_of);
	free(pop->post_of);
	pop->pre_of = pop->post_of = NULL;
}

/* Find a synapse by name. */
struct synapse *
synapse_find(struct session *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nsynapses; i++)
		if (strcmp(s->synapses[i]->name, name) == 0)
			return s->synapses[i];
	return NULL;
}

/* Split "s12" into prefix "s" and number 12; 0 if no trailing number. */
static int
synapse_split_name(const char *name, size_t *prefix_len, unsigned long *num)
{
	size_t len = strlen(name), i = len;

	while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9')
		i--;
	if (i == len || len - i > 9)
		return 0;
	*prefix_len = i;
	*num = strtoul(name + i, NULL, 10);
	return 1;
}

/* Summary of defined names: "s0-s7, in1" style. */
char *
synapse_names_summary(struct session *s)
{
	char *out = xstrdup(""), *next;
	size_t i = 0, j, pl, pl2;
	unsigned long n, n2;

	if (s->nsynapses == 0) {
		free(out);
		return xstrdup("none defined");
	}
	while (i < s->nsynapses) {
		const char *a = s->synapses[i]->name;

		j = i + 1;
		if (synapse_split_name(a, &pl, &n)) {
			while (j < s->nsynapses) {
				const char *b = s->synapses[j]->name;

				if (!synapse_split_name(b, &pl2, &n2) ||
				    pl2 != pl || strncmp(a, b, pl) != 0 ||
				    n2 != n + (j - i))
					break;
				j++;
			}
		}
		if (j - i > 1)
			xasprintf(&next, "%s%s%s-%s", out, *out ? ", " : "", a,
			    s->synapses[j - 1]->name);
		else
			xasprintf(&next, "%s%s%s", out, *out ? ", " : "", a);
		free(out);
		out = next;
		i = j;
	}
	return out;
}

/* Define a synapse owned by the current site. */
struct synapse *
synapse_define(struct session *s, const char *name, const char *pre,
    const char *post, const char *device, char **cause)
{
	struct site *site = s->current;
	struct synapse *syn;
	struct device_set *ds;
	struct population *pp;
	struct unit_ref upre, upost;
	const char *colon;
	char *dsname, *why = NULL;
	uint32_t dev;
	size_t i;

	if (site == NULL) {
		xasprintf(cause, "no site (create one with 'site NAME')");
		return NULL;
	}
	if (*name == '\0' || strlen(name) > 31 || strchr(name, '/') ||
	    strchr(name, ',') || strcmp(name, "all") == 0 ||
	    strchr("-0123456789", name[0]) != NULL) {
		xasprintf(cause, "bad synapse name '%s' (start with a letter, "
		    "at most 31 characters, not 'all')", name);
		return NULL;
	}
	if (synapse_find(s, name) != NULL) {
		xasprintf(cause, "synapse '%s' exists", name);
		return NULL;
	}
	if (session_parse_unit(s, pre, &upre, &why) != 0) {
		xasprintf(cause, "pre: %s", why);
		free(why);
		return NULL;
	}
	if (session_parse_unit(s, post, &upost, &why) != 0) {
		xasprintf(cause, "post: %s", why);
		free(why);
		return NULL;
	}
	colon = strchr(device, ':');
	if (colon == NULL || colon == device || colon[1] == '\0') {
		xasprintf(cause, "bad device '%s' (write DEVICESET:ADDRESS, "
		    "e.g. xbar:w1b1)", device);
		return NULL;
	}
	dsname = xstrndup(device, (size_t)(colon - device));
	ds = site_find_devset(site, dsname);
	if (ds == NULL) {
		xasprintf(cause, "no device set '%s' at site '%s' (load a "
		    "synapses plugin there first)", dsname, site->name);
		free(dsname);
		return NULL;
	}
	free(dsname);
	if (ds->ops.address(ds->data, colon + 1, &dev, &why) != 0) {
		xasprintf(cause, "%s", why ? why : "bad device address");
		free(why);
		return NULL;
	}
	for (i = 0; i < s->nsynapses; i++) {
		if (s->synapses[i]->dev == ds && s->synapses[i]->device == dev) {
			xasprintf(cause, "device %s is already synapse '%s'",
			    device, s->synapses[i]->name);
			return NULL;
		}
	}
	syn = xcalloc(1, sizeof *syn);
	syn->name = xstrdup(name);
	syn->id = (uint32_t)s->nsynapses;
	syn->site = site;
	syn->pre = upre;
	syn->post = upost;
	syn->pre_name = session_unit_name(s, &upre);
	syn->post_name = session_unit_name(s, &upost);
	syn->dev = ds;
	syn->device_spec = xstrdup(device);
	syn->device = dev;
	ds->ops.limits(ds->data, dev, &syn->limits);
	syn->g_us = ds->ops.conductance(ds->data, dev);
	syn->last_post_us = INT64_MIN;
	syn->last_rule_us = INT64_MIN;
	rule_defaults(&syn->rule, "off", &syn->limits, NULL);
	strcpy(syn->last_decision, "-");
	s->synapses = xreallocarray(s->synapses, s->nsynapses + 1,
	    sizeof *s->synapses);
	s->synapses[s->nsynapses++] = syn;

	pp = session_population(s, upre.site, upre.pop);
	if (pp->pre_of == NULL)
		pp->pre_of = xcalloc(pp->ops.units, sizeof *pp->pre_of);
	syn_list_add(&pp->pre_of[upre.index], syn->id);
	pp = session_population(s, upost.site, upost.pop);
	if (pp->post_of == NULL)
		pp->post_of = xcalloc(pp->ops.units, sizeof *pp->post_of);
	syn_list_add(&pp->post_of[upost.index], syn->id);
	/* readers at the post's site learn of its stream now */
	engine_declare_streams(site);
	s->dirty = 1;
	return syn;
}

/* Add id to the selection unless present. */
static void
synapse_select_add(uint32_t **ids, int *n, uint32_t id)
{
	int i;

	for (i = 0; i < *n; i++)
		if ((*ids)[i] == id)
			return;
	*ids = xreallocarray(*ids, (size_t)*n + 1, sizeof **ids);
	(*ids)[(*n)++] = id;
}

/* Resolve one selector word. */
static int
synapse_select_one(struct session *s, const char *sel, uint32_t **ids,
    int *n, char **cause)
{
	struct synapse *syn;
	const char *dash;
	char *end, *prefix, *name, *have;
	unsigned long lo, hi, k;
	size_t i, pl;

	if (strcmp(sel, "all") == 0) {
		for (i = 0; i < s->nsynapses; i++)
			synapse_select_add(ids, n, (uint32_t)i);
		return 0;
	}
	syn = synapse_find(s, sel);
	if (syn != NULL) {
		synapse_select_add(ids, n, syn->id);
		return 0;
	}
	/* a range: PREFIXlo-hi or PREFIXlo-PREFIXhi */
	dash = strchr(sel, '-');
	if (dash != NULL && dash > sel) {
		pl = 0;
		while (sel + pl < dash && !(sel[pl] >= '0' && sel[pl] <= '9'))
			pl++;
		if (pl > 0 && sel + pl < dash) {
			prefix = xstrndup(sel, pl);
			errno = 0;
			lo = strtoul(sel + pl, &end, 10);
			if (end == dash) {
				const char *h = dash + 1;

				if (strncmp(h, prefix, pl) == 0)
					h += pl;
				hi = strtoul(h, &end, 10);
				if (*h >= '0' && *h <= '9' && *end == '\0' &&
				    errno == 0 && hi >= lo && hi - lo < 65536) {
					for (k = lo; k <= hi; k++) {
						xasprintf(&name, "%s%lu", prefix,
						    k);
						syn = synapse_find(s, name);
						if (syn == NULL) {
							have =
							    synapse_names_summary(s);
							xasprintf(cause,
							    "unknown synapse "
							    "'%s' in '%s' (have "
							    "%s)", name, sel,
							    have);
							free(have);
							free(name);
							free(prefix);
							return -1;
						}
						free(name);
						synapse_select_add(ids, n,
						    syn->id);
					}
					free(prefix);
					return 0;
				}
			}
			free(prefix);
		}
	}
	have = synapse_names_summary(s);
	xasprintf(cause, "unknown synapse '%s' (have %s)", sel, have);
	free(have);
	return -1;
}

/* Resolve selectors into synapse ids. */
int
synapse_select(struct session *s, int argc, char **argv, uint32_t **ids,
    char **cause)
{
	int i, n = 0;
	char *copy, *tok, *save;

	*ids = NULL;
	for (i = 0; i < argc; i++) {
		copy = xstrdup(argv[i]);
		for (tok = strtok_r(copy, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save)) {
			if (synapse_select_one(s, tok, ids, &n, cause) != 0) {
				free(copy);
				free(*ids);
				*ids = NULL;
				return -1;
			}
		}
		free(copy);
	}
	if (n == 0) {
		xasprintf(cause, "no synapse selected");
		return -1;
	}
	return n;
}

/* Names of synapses that use p's populations or devices. */
char *
synapse_users_of_plugin(struct session *s, struct sb_plugin *p)
{
	char *out = NULL, *next;
	struct population *pre, *post;
	size_t i;

	for (i = 0; i < s->nsynapses; i++) {
		struct synapse *syn = s->synapses[i];

		pre = session_population(s, syn->pre.site, syn->pre.pop);
		post = session_population(s, syn->post.site, syn->post.pop);
		if (syn->mirror)
			continue;
		if (syn->dev->owner != p && (pre == NULL || pre->owner != p) &&
		    (post == NULL || post->owner != p))
			continue;
		xasprintf(&next, "%s%s%s", out ? out : "", out ? ", " : "",
		    syn->name);
		free(out);
		out = next;
	}
	return out;
}

/* The mirror of synapse remote_id of a remote site, or NULL. */
struct synapse *
synapse_find_mirror(struct session *s, struct site *site, uint32_t remote_id)
{
	size_t i;

	for (i = 0; i < s->nsynapses; i++)
		if (s->synapses[i]->mirror && s->synapses[i]->site == site &&
		    s->synapses[i]->remote_id == remote_id)
			return s->synapses[i];
	return NULL;
}

/*
 * Show another site's synapse here: its name, units, window, how its
 * weight is computed and G, as its owner describes it. Pulses on it go to
 * the owner.
 */
struct synapse *
synapse_mirror(struct session *s, struct site *site, uint32_t remote_id,
    const char *name, const char *pre, const char *post, double g_min_us,
    double g_max_us, enum sb_weight_from weight_from, double g_us)
{
	struct synapse *syn = synapse_find_mirror(s, site, remote_id);

	if (syn == NULL) {
		syn = xcalloc(1, sizeof *syn);
		/* a local synapse keeps its name; the mirror says its site */
		if (synapse_find(s, name) != NULL)
			xasprintf(&syn->name, "%s:%s", site->name, name);
		else
			syn->name = xstrdup(name);
		syn->id = (uint32_t)s->nsynapses;
		syn->site = site;
		syn->mirror = 1;
		syn->remote_id = remote_id;
		syn->pre_name = xstrdup(pre);
		syn->post_name = xstrdup(post);
		xasprintf(&syn->device_spec, "at %s", site->name);
		syn->pre.site = syn->post.site = 0xffff;
		syn->last_post_us = syn->last_rule_us = INT64_MIN;
		strcpy(syn->last_decision, "-");
		s->synapses = xreallocarray(s->synapses, s->nsynapses + 1,
		    sizeof *s->synapses);
		s->synapses[s->nsynapses++] = syn;
	}
	syn->limits.g_min_us = g_min_us;
	syn->limits.g_max_us = g_max_us;
	syn->limits.weight_from = weight_from;
	syn->g_us = g_us;
	s->dirty = 1;
	return syn;
}

/* Free every synapse (routing lists go with their populations). */
void
synapse_free_all(struct session *s)
{
	size_t i;

	for (i = 0; i < s->nsynapses; i++) {
		free(s->synapses[i]->name);
		free(s->synapses[i]->pre_name);
		free(s->synapses[i]->post_name);
		free(s->synapses[i]->device_spec);
		latency_free(s->synapses[i]->lat_spike);
		latency_free(s->synapses[i]->lat_command);
		latency_free(s->synapses[i]->lat_overhead);
		free(s->synapses[i]);
	}
	free(s->synapses);
	s->synapses = NULL;
	s->nsynapses = 0;
}

/*
 * Weight 0-255 of a conductance under a device's limits, or -1 when it has
 * none (G not a number, no window). From R (the published experiment's
 * way): 255 (R - Rmin) / (Rmax - Rmin) over [Rmin, Rmax] = [1/Gmax, 1/Gmin];
 * from G: 255 (G - Gmin) / (Gmax - Gmin). Clipped, rounded half to even
 * (the experiment's numpy.round).
 */
int
synapse_weight_of(const struct sb_device_limits *l, double g_us)
{
	double lo = l->g_min_us, hi = l->g_max_us, w;

	if (!(hi > lo) || isnan(g_us))
		return -1;
	if (l->weight_from == SB_WEIGHT_FROM_R) {
		if (!(lo > 0))
			return -1;	/* no Rmax */
		/* G = 0 is an open device: R beyond Rmax, weight 255 */
		w = 255.0 * (1e6 / g_us - 1e6 / hi) / (1e6 / lo - 1e6 / hi);
	} else
		w = 255.0 * (g_us - lo) / (hi - lo);
	if (!(w > 0))
		w = 0;
	if (w > 255)
		w = 255;
	return (int)rint(w);
}

/* Weight 0-255 of a conductance of a synapse (0 if it has no window). */
unsigned
synapse_weight(const struct synapse *syn, double g_us)
{
	int w = synapse_weight_of(&syn->limits, g_us);

	return w < 0 ? 0 : (unsigned)w;
}

/* Can syn's device take operations now? 0, or -1 with why[len] filled. */
int
synapse_offline(const struct synapse *syn, char *why, size_t len)
{
	struct device_set *ds = syn->dev;

	if (ds == NULL || ds->ops.offline == NULL)
		return 0;
	if (ds->ops.offline(ds->data, syn->device, why, len) == 0)
		return 0;
	if (len > 0 && *why == '\0')
		snprintf(why, len, "offline");
	why[len - 1] = '\0';
	return -1;
}

/* Queue an operation at a synapse's device after checking its limits. */
int
synapse_operate(struct session *s, struct synapse *syn, enum cond_event event,
    double amplitude_v, uint32_t width_us, uint32_t count,
    struct cmdq_item *item, char **cause)
{
	const struct sb_device_limits *l = &syn->limits;
	struct device_set *ds = syn->dev;
	struct pending_op *op;
	uint64_t tag = ++s->next_tag;
	uint32_t min_width;
	char *why = NULL, state[160];
	int rc;

	if (syn->mirror) {
		xasprintf(cause, "%s lives at %s (use 'at %s ...' there)",
		    syn->name, syn->site->name, syn->site->name);
		return -1;
	}
	if (s->stopped && event != COND_READ) {
		xasprintf(cause, "%s: STOPPED: no pulse until resume", syn->name);
		return -1;
	}
	if (synapse_offline(syn, state, sizeof state) != 0) {
		xasprintf(cause, "%s: device %s is %s", syn->name,
		    syn->device_spec, state);
		return -1;
	}
	if (event != COND_READ) {
		min_width = l->min_width_us > 0 ? l->min_width_us : 1;
		if (!isfinite(amplitude_v) || fabs(amplitude_v) > l->max_abs_v ||
		    width_us < min_width || width_us > l->max_width_us ||
		    count == 0 || count > l->max_count) {
			xasprintf(cause, "%s: %+.2f V, %u us, %u pulse%s is "
			    "beyond the device's safe limits (|V| <= %.2f V, "
			    "width %u-%u us, 1-%u pulses)", syn->name,
			    amplitude_v, width_us, count, count == 1 ? "" : "s",
			    l->max_abs_v, min_width, l->max_width_us,
			    l->max_count);
			return -1;
		}
		rc = ds->ops.pulse(ds->data, syn->device, amplitude_v,
		    width_us, count, tag, &why);
	} else
		rc = ds->ops.read(ds->data, syn->device, tag, &why);
	if (rc != 0) {
		xasprintf(cause, "%s: %s", syn->name,
		    why ? why : "the device refused the operation");
		free(why);
		return -1;
	}
	if (s->npending == s->cappending) {
		s->cappending = s->cappending ? s->cappending * 2 : 16;
		s->pending = xreallocarray(s->pending, s->cappending,
		    sizeof *s->pending);
	}
	op = &s->pending[s->npending++];
	op->tag = tag;
	op->synapse = syn->id;
	op->event = (uint8_t)event;
	op->amplitude_v = amplitude_v;
	op->width_us = width_us;
	op->count = count;
	op->g_before_us = syn->g_us;
	op->item = item;
	op->sent_us = clock_now(&s->clock);
	if (item != NULL)
		cmdq_item_hold(item);
	syn->in_flight++;
	s->dirty = 1;
	return 0;
}

/*
 * A device read itself without being asked (after a reconnect or a
 * reset): each synapse on it takes the new G, and the jump is a `read`
 * row in the logs, so a G trajectory never jumps silently.
 */
static void
synapse_unasked(struct session *s, struct device_set *ds,
    const struct sb_completion *c)
{
	struct synapse *syn;
	struct sb_event ev;
	size_t i;

	if (ds == NULL || c->status != 0 || !isfinite(c->g_after_us))
		return;
	for (i = 0; i < s->nsynapses; i++) {
		syn = s->synapses[i];
		if (syn->dev != ds || syn->device != c->device)
			continue;
		memset(&ev, 0, sizeof ev);
		ev.t_us = c->t_us;
		ev.kind = SB_EV_CONDUCTANCE;
		ev.index = syn->id;
		ev.site = syn->site->id;
		ev.pop = SB_POP_SYNAPSE;
		ev.aux = COND_READ;
		ev.amplitude = NAN;
		ev.g_before = (float)syn->g_us;
		ev.g_after = (float)c->g_after_us;
		syn->g_us = c->g_after_us;
		engine_record_event(s, &ev);
		synapse_publish(s, syn, &ev);
		s->dirty = 1;
	}
}

/* A device finished an operation. */
static void
synapse_complete(void *ctx, const struct sb_completion *c)
{
	struct session *s = ctx;
	struct pending_op op;
	struct synapse *syn;
	struct sb_event ev;
	size_t i;

	if (c->tag == SB_TAG_UNASKED) {
		synapse_unasked(s, s->polling, c);
		return;
	}
	for (i = 0; i < s->npending; i++)
		if (s->pending[i].tag == c->tag)
			break;
	if (i == s->npending) {
		session_log(s, SB_LOG_WARNING, "a device completed unknown "
		    "operation %llu", (unsigned long long)c->tag);
		return;
	}
	op = s->pending[i];
	s->pending[i] = s->pending[--s->npending];
	syn = s->synapses[op.synapse];
	if (syn->in_flight > 0)
		syn->in_flight--;
	memset(&ev, 0, sizeof ev);
	ev.t_us = c->t_us;
	ev.kind = SB_EV_CONDUCTANCE;
	ev.index = syn->id;
	ev.site = syn->site->id;
	ev.pop = SB_POP_SYNAPSE;
	ev.aux = c->status == 0 ? op.event : COND_FAILED;
	/* a read applies no pulse: no width or count in the logs */
	if (op.event != COND_READ) {
		ev.count = (uint16_t)(op.count > 0xffff ? 0xffff : op.count);
		ev.width_us = op.width_us;
	}
	ev.amplitude = (float)(op.event == COND_READ ? NAN : op.amplitude_v);
	ev.g_before = (float)c->g_before_us;
	ev.g_after = (float)c->g_after_us;
	if (c->status == 0)
		syn->g_us = c->g_after_us;
	engine_record_event(s, &ev);
	synapse_publish(s, syn, &ev);
	s->dirty = 1;
	if (op.item == NULL) {
		if (c->status != 0)
			session_log(s, SB_LOG_WARNING, "%s: %s failed: %s",
			    syn->name, cond_event_name(op.event), c->message);
		return;
	}
	if (c->status == 0 && !s->fast) {
		/* a typed command: to the device and back, and beyond it */
		int64_t now = clock_now(&s->clock), mono = clock_mono_us();
		int64_t rt = now - op.sent_us, dev = c->t_us - op.sent_us;

		/* the device's own time: asked to completed, within rt */
		dev = dev < 0 ? 0 : dev > rt ? rt : dev;
		latency_add(&syn->lat_command, rt, mono);
		latency_add(&syn->lat_overhead, rt - dev, mono);
	}
	if (c->status != 0)
		cmdq_item_error(op.item, "%s: %s failed: %s", syn->name,
		    cond_event_name(op.event), c->message);
	else if (op.event == COND_READ)
		cmdq_item_reply(op.item, "%s: G %.3f uS (weight %u)",
		    syn->name, c->g_after_us, synapse_weight(syn,
		    c->g_after_us));
	else
		cmdq_item_reply(op.item, "%s: %s %u x %+.2f V %u us: G "
		    "%.3f -> %.3f uS, weight %u -> %u", syn->name,
		    cond_event_name(op.event), op.count, op.amplitude_v,
		    op.width_us, c->g_before_us, c->g_after_us,
		    synapse_weight(syn, c->g_before_us),
		    synapse_weight(syn, c->g_after_us));
	cmdq_item_release(op.item);
}

/* Publish a local synapse's conductance event on its site's relay links. */
void
synapse_publish(struct session *s, struct synapse *syn,
    const struct sb_event *ev)
{
	struct site *site = syn->site;
	size_t t;

	(void)s;
	if (syn->mirror)
		return;
	for (t = 0; t < site->ntransports; t++) {
		struct transport *tr = site->transports[t];

		if (!tr->sealed)
			tr->ops.send(tr->data, "synapses", ev, 1);
	}
}

/* Collect completions from every device set. */
void
synapse_poll_devices(struct session *s, int64_t now_us)
{
	size_t i, j;

	for (i = 0; i < s->nsites; i++) {
		struct site *site = s->sites[i];

		for (j = 0; j < site->ndevsets; j++) {
			s->polling = site->devsets[j];
			site->devsets[j]->ops.poll(site->devsets[j]->data,
			    now_us, synapse_complete, s);
		}
	}
	s->polling = NULL;
}
