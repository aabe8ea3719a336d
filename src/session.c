/* session.c: sites, populations and unit addresses of one process. */
#include "sched-hint.h"
#include "config.h"

#include <sys/eventfd.h>

#include <errno.h>
#include <math.h>
#include <pwd.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "history.h"
#include "session.h"
#include "xmalloc.h"

/* Name of a conductance event code, as written in synapses.csv. */
const char *
cond_event_name(unsigned event)
{
	switch (event) {
	case COND_POTENTIATE:
		return "potentiate";
	case COND_DEPRESS:
		return "depress";
	case COND_READ:
		return "read";
	case COND_RULE_LTP:
		return "rule-ltp";
	case COND_RULE_LTD:
		return "rule-ltd";
	case COND_FAILED:
		return "failed";
	case COND_STATE:
		return "state";
	}
	return "unknown";
}

/* Create an empty session. */
struct session *
session_create(int fast, uint64_t seed)
{
	struct session *s = xcalloc(1, sizeof *s);

	clock_init(&s->clock, fast);
	cursor_init(&s->cursors);
	s->fast = fast;
	s->seed = seed;
	s->remote_lifetime_us = 5000000;	/* at -t changes it per command */
	s->step_us = 1000;
	/* without it (EMFILE), transports are polled at the loop's tick */
	s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	s->user = getenv("USER");
	if (s->user == NULL || *s->user == '\0') {
		struct passwd *pw = getpwuid(getuid());

		s->user = pw != NULL ? pw->pw_name : "unknown";
	}
	return s;
}

/* Add a directory to the plugin search path (in order of preference). */
void
session_add_plugin_dir(struct session *s, const char *dir)
{
	s->plugin_dirs = xreallocarray(s->plugin_dirs, s->nplugin_dirs + 1,
	    sizeof *s->plugin_dirs);
	s->plugin_dirs[s->nplugin_dirs++] = xstrdup(dir);
}

/* Log a message through the session's sink (stderr by default). */
void
session_log(struct session *s, enum sb_log_level level, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	if (s->log_fn != NULL)
		s->log_fn(s->log_ctx, level, msg);
	else if (level <= SB_LOG_WARNING || s->verbose)
		fprintf(stderr, "%s\n", msg);
	free(msg);
}

/* Find a site by name. */
struct site *
site_find(struct session *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->nsites; i++)
		if (strcmp(s->sites[i]->name, name) == 0)
			return s->sites[i];
	return NULL;
}

/* Check a name: letters, digits, '_', '-', '.'; not empty. */
static int
session_valid_name(const char *name)
{
	const char *p;

	if (*name == '\0' || strlen(name) > 63)
		return 0;
	for (p = name; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
		    *p == '.'))
			return 0;
	}
	return 1;
}

/* Create a new site. */
struct site *
site_create(struct session *s, const char *name, char **cause)
{
	struct site *site;

	if (!session_valid_name(name)) {
		xasprintf(cause, "bad site name '%s' (use letters, digits, "
		    "'_', '-' or '.', at most 63)", name);
		return NULL;
	}
	if (site_find(s, name) != NULL) {
		xasprintf(cause, "site '%s' exists", name);
		return NULL;
	}
	if (s->nsites >= 0xfff0) {
		xasprintf(cause, "too many sites");
		return NULL;
	}
	site = xcalloc(1, sizeof *site);
	site->name = xstrdup(name);
	site->id = (uint16_t)s->nsites;
	site->session = s;
	s->sites = xreallocarray(s->sites, s->nsites + 1, sizeof *s->sites);
	s->sites[s->nsites++] = site;
	return site;
}

/* Find a population at a site. */
struct population *
site_find_population(struct site *site, const char *name)
{
	size_t i;

	for (i = 0; i < site->npops; i++)
		if (site->pops[i] != NULL &&
		    strcmp(site->pops[i]->name, name) == 0)
			return site->pops[i];
	return NULL;
}

/* Find a device set at a site. */
struct device_set *
site_find_devset(struct site *site, const char *name)
{
	size_t i;

	for (i = 0; i < site->ndevsets; i++)
		if (strcmp(site->devsets[i]->name, name) == 0)
			return site->devsets[i];
	return NULL;
}

/* Population by ids, or NULL. */
struct population *
session_population(struct session *s, uint16_t site, uint16_t pop)
{
	if (site >= s->nsites || pop >= s->sites[site]->npops)
		return NULL;
	return s->sites[site]->pops[pop];
}

/* Comma-separated list of site names. */
char *
session_site_names(struct session *s)
{
	size_t i, len = 1;
	char *out;

	for (i = 0; i < s->nsites; i++)
		len += strlen(s->sites[i]->name) + 2;
	out = xmalloc(len);
	*out = '\0';
	for (i = 0; i < s->nsites; i++) {
		if (i > 0)
			strcat(out, ", ");
		strcat(out, s->sites[i]->name);
	}
	return out;
}

/* Comma-separated list of a site's populations with their sizes. */
char *
site_population_list(struct site *site)
{
	char *out = xstrdup(""), *next;
	size_t i;

	for (i = 0; i < site->npops; i++) {
		if (site->pops[i] == NULL)
			continue;
		xasprintf(&next, "%s%s%s (%u units)", out, *out ? ", " : "",
		    site->pops[i]->name, site->pops[i]->ops.units);
		free(out);
		out = next;
	}
	return out;
}

/* Parse "site/pop:index" or "pop:index" into ids. */
int
session_parse_unit(struct session *s, const char *text, struct unit_ref *u,
    char **cause)
{
	const char *slash, *colon, *popname;
	char *sitename = NULL, *pname = NULL, *end, *names;
	struct site *site;
	struct population *pop;
	unsigned long idx;
	int rc = -1;

	slash = strchr(text, '/');
	colon = strrchr(text, ':');
	if (colon == NULL || colon[1] == '\0' || (slash != NULL &&
	    slash > colon)) {
		xasprintf(cause, "bad unit '%s' (write site/population:index, "
		    "e.g. padova/mea:12)", text);
		return -1;
	}
	if (slash != NULL) {
		sitename = xstrndup(text, (size_t)(slash - text));
		site = site_find(s, sitename);
		if (site == NULL) {
			names = session_site_names(s);
			xasprintf(cause, "unknown site '%s' in '%s' (have: %s)",
			    sitename, text, *names ? names : "none");
			free(names);
			goto out;
		}
		popname = slash + 1;
	} else {
		site = s->current;
		if (site == NULL) {
			xasprintf(cause, "no site for unit '%s' (create one "
			    "with 'site NAME' or write site/population:index)",
			    text);
			goto out;
		}
		popname = text;
	}
	pname = xstrndup(popname, (size_t)(colon - popname));
	pop = site_find_population(site, pname);
	if (pop == NULL) {
		names = site_population_list(site);
		xasprintf(cause, "unknown population '%s' at site '%s' (have: "
		    "%s)", pname, site->name, *names ? names : "none");
		free(names);
		goto out;
	}
	errno = 0;
	idx = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || errno != 0 || colon[1] == '-') {
		xasprintf(cause, "bad unit index '%s' in '%s'", colon + 1, text);
		goto out;
	}
	if (idx >= pop->ops.units) {
		xasprintf(cause, "unit %lu out of range in '%s' (%s/%s has "
		    "units 0-%u)", idx, text, site->name, pop->name,
		    pop->ops.units - 1);
		goto out;
	}
	u->site = site->id;
	u->pop = pop->id;
	u->index = (uint32_t)idx;
	rc = 0;
out:
	free(sitename);
	free(pname);
	return rc;
}

/* Canonical unit name. */
char *
session_unit_name(struct session *s, const struct unit_ref *u)
{
	struct population *pop = session_population(s, u->site, u->pop);
	char *out;

	if (pop == NULL)
		xasprintf(&out, "%u/%u:%u", u->site, u->pop, u->index);
	else
		xasprintf(&out, "%s/%s:%u", pop->site->name, pop->name,
		    u->index);
	return out;
}

/* Grow a remote population's unit count (and its routing lists). */
static void
session_grow_population(struct population *pop, uint32_t units)
{
	uint32_t old = pop->ops.units;

	if (units <= old)
		return;
	if (pop->pre_of != NULL) {
		pop->pre_of = xreallocarray(pop->pre_of, units,
		    sizeof *pop->pre_of);
		memset(pop->pre_of + old, 0, (units - old) *
		    sizeof *pop->pre_of);
	}
	if (pop->post_of != NULL) {
		pop->post_of = xreallocarray(pop->post_of, units,
		    sizeof *pop->post_of);
		memset(pop->post_of + old, 0, (units - old) *
		    sizeof *pop->post_of);
	}
	pop->ops.units = units;
}

/* A population of a remote site: declared, or first seen in a stream. */
struct population *
session_remote_population(struct session *s, struct site *site,
    const char *name, uint32_t units)
{
	struct population *pop = site_find_population(site, name);

	(void)s;
	if (pop != NULL) {
		if (pop->owner == NULL)
			session_grow_population(pop, units);
		return pop;
	}
	if (site->npops >= 0xfff0 || !session_valid_name(name))
		return NULL;
	pop = xcalloc(1, sizeof *pop);
	pop->name = xstrdup(name);
	pop->id = (uint16_t)site->npops;
	pop->site = site;
	pop->ops.name = pop->name;
	pop->ops.units = units > 0 ? units : 1;
	pop->emitter.session = site->session;
	pop->emitter.site = site->id;
	pop->emitter.pop = pop->id;
	sb_mutex_init_pi(&pop->lock);
	site->pops = xreallocarray(site->pops, site->npops + 1,
	    sizeof *site->pops);
	site->pops[site->npops++] = pop;
	return pop;
}

/*
 * A relay link's offset as an experimenter needs it: this console's
 * session clock minus the relay's, by the link's own estimate (about 0
 * when in step, however long the host has been up), and the link shown
 * degraded when they disagree by more than a few uncertainties (a clock
 * step that was refused, a site that stayed behind).
 */
static void
session_link_offset(struct session *s, struct sb_link_health *h)
{
	double applied_ms, diff;

	if (!s->clock_synced || s->fast || !isfinite(h->offset_ms))
		return;
	applied_ms = (double)(__atomic_load_n(&s->clock.offset_us,
	    __ATOMIC_RELAXED) - s->clock.origin_us) / 1000.0;
	diff = applied_ms - h->offset_ms;
	h->offset_ms = diff;
	if (fabs(diff) > 5.0 + 3 * h->uncertainty_ms &&
	    h->state == SB_LINK_UP)
		h->state = SB_LINK_DEGRADED;
}

/* Every link of every site: relay transports, then device links. */
/*
 * Does a site row's name ("SITE via ...") name a site this console hosts
 * (with a transport of its own, as the demo's three)? A site known here
 * only from its streams (remote) is another console's.
 */
static int
session_link_local(struct session *s, const char *name)
{
	struct site *site;
	char buf[64];
	size_t len = strcspn(name, " ");

	if (len == 0 || len >= sizeof buf)
		return 0;
	memcpy(buf, name, len);
	buf[len] = '\0';
	return (site = site_find(s, buf)) != NULL && site->ntransports > 0;
}

int
link_watch_swap(struct link_watch *w, const char *name, int state,
    int *been_up)
{
	size_t k;
	int old;

	for (k = 0; k < w->n; k++)
		if (strcmp(w->seen[k].name, name) == 0)
			break;
	if (k == w->n) {
		if (w->n == LINK_WATCH_MAX) {
			if (been_up != NULL)
				*been_up = 0;
			return -2;
		}
		w->n++;
		snprintf(w->seen[k].name, sizeof w->seen[k].name, "%s", name);
		w->seen[k].state = -1;
		w->seen[k].been_up = 0;
	}
	if (been_up != NULL)
		*been_up = w->seen[k].been_up;
	old = w->seen[k].state;
	w->seen[k].state = state;
	if (state == SB_LINK_UP)
		w->seen[k].been_up = 1;
	return old;
}

size_t
session_links(struct session *s, struct session_link_row *out, size_t max)
{
	struct sb_link_health h[SESSION_HEALTH_ROWS];
	size_t i, j, k, got, n = 0;

	for (i = 0; i < s->nsites; i++) {
		struct site *site = s->sites[i];

		for (j = 0; j < site->ntransports + site->nlinks; j++) {
			int device = j >= site->ntransports;

			memset(h, 0, sizeof h);
			if (!device) {
				struct transport *tr = site->transports[j];

				if (tr->ops.health == NULL)
					continue;
				got = tr->ops.health(tr->data, h,
				    SESSION_HEALTH_ROWS);
			} else {
				struct device_link *dl =
				    site->links[j - site->ntransports];

				got = dl->ops.health(dl->data, h,
				    SESSION_HEALTH_ROWS);
			}
			for (k = 0; k < got && k < SESSION_HEALTH_ROWS &&
			    n < max; k++) {
				h[k].name[sizeof h[k].name - 1] = '\0';
				h[k].detail[sizeof h[k].detail - 1] = '\0';
				/* a site hosted here has its own link row */
				if (!device && k > 0 &&
				    session_link_local(s, h[k].name))
					continue;
				if (!device)
					session_link_offset(s, &h[k]);
				out[n].site = site;
				out[n].device = device;
				out[n].site_row = !device && k > 0;
				out[n].tr = device ? NULL :
				    site->transports[j];
				out[n++].h = h[k];
			}
		}
	}
	return n;
}
