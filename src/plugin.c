/*
 * plugin.c: the plugin host. Loads shared objects, checks their API version
 * before calling anything, hands them the host API and takes ownership of
 * what they register ({data, free_func}).
 */
#include "sched-hint.h"
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "engine.h"
#include "plugin.h"
#include "remote.h"
#include "ring.h"
#include "synapse.h"
#include "xmalloc.h"

#define PLUGIN_RING_EVENTS 65536

/* host->log: prefix with the plugin's name. */
static void __attribute__((format(printf, 3, 4)))
plugin_host_log(struct sb_plugin *p, enum sb_log_level level,
    const char *fmt, ...)
{
	va_list ap;
	char *msg;
	size_t len = strlen(p->name);

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	/* plugins start their messages with their name: do not double it */
	if (strncmp(msg, p->name, len) == 0 && msg[len] == ':')
		session_log(p->site->session, level, "%s", msg);
	else
		session_log(p->site->session, level, "%s: %s", p->name, msg);
	free(msg);
}

/* host->arg: a key=value argument given to load. */
static const char *
plugin_host_arg(struct sb_plugin *p, const char *key)
{
	size_t i;

	for (i = 0; i < p->nargs; i++) {
		if (strcmp(p->args[i].key, key) == 0) {
			p->args[i].used = 1;
			return p->args[i].value;
		}
	}
	return NULL;
}

/* host->site: the site's name. */
static const char *
plugin_host_site(struct sb_plugin *p)
{
	return p->site->name;
}

/* host->seed: seed= argument, else derived from the session seed. */
static uint64_t
plugin_host_seed(struct sb_plugin *p)
{
	return p->seed;
}

/* host->fast. */
static int
plugin_host_fast(struct sb_plugin *p)
{
	return p->site->session->fast;
}

/* host->now_us: session clock. */
static int64_t
plugin_host_now(struct sb_plugin *p)
{
	/* backends' own time (session time minus the steps taken while
	 * they ran); emit() maps their stamps back to session time */
	return engine_backend_now(p->site->session);
}

/*
 * Keep a registration: the host owns data (freed with free_func) from now
 * on, and the record joins its site's array.
 */
#define PLUGIN_KEEP(array, count, item, p, d, ff) do {			\
	(item)->site = (p)->site;					\
	(item)->owner = (p);						\
	(item)->data = (d);						\
	(item)->free_func = (ff);					\
	(array) = xreallocarray((array), (count) + 1, sizeof *(array));	\
	(array)[(count)++] = (item);					\
} while (0)

/* Refuse a registration: say why, and free what the plugin handed over. */
static int __attribute__((format(printf, 4, 5)))
plugin_refuse(struct sb_plugin *p, void *data, void (*free_func)(void *),
    const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	session_log(p->site->session, SB_LOG_ERROR, "%s: %s", p->name, msg);
	free(msg);
	if (free_func != NULL)
		free_func(data);
	return -1;
}

/* Is this capability name free at the site? */
static int
plugin_name_taken(struct site *site, const char *name)
{
	return site_find_population(site, name) != NULL ||
	    site_find_devset(site, name) != NULL;
}

/* host->register_neurons. */
static int
plugin_host_register_neurons(struct sb_plugin *p, const struct sb_neurons *n,
    void *data, void (*free_func)(void *))
{
	struct site *site = p->site;
	struct population *pop;
	struct sb_ring *ring;

	if (n == NULL || n->name == NULL || n->units == 0 ||
	    (n->advance == NULL && n->start == NULL))
		return plugin_refuse(p, data, free_func, "neurons need a name, "
		    "units > 0 and advance() or start()");
	if (plugin_name_taken(site, n->name))
		return plugin_refuse(p, data, free_func, "population '%s' "
		    "exists at site '%s' (give the plugin another name=)",
		    n->name, site->name);
	if (site->npops >= 0xfff0)
		return plugin_refuse(p, data, free_func, "too many populations");
	ring = ring_create(PLUGIN_RING_EVENTS);
	if (ring == NULL)
		return plugin_refuse(p, data, free_func, "cannot make an event "
		    "ring for %s: %s", n->name, strerror(errno));
	pop = xcalloc(1, sizeof *pop);
	pop->name = xstrdup(n->name);
	pop->id = (uint16_t)site->npops;
	pop->ops = *n;
	pop->ops.name = pop->name;
	pop->emitter.session = site->session;
	pop->emitter.site = site->id;
	pop->emitter.pop = pop->id;
	pop->emitter.ring = ring;
	sb_mutex_init_pi(&pop->lock);
	PLUGIN_KEEP(site->pops, site->npops, pop, p, data, free_func);
	return 0;
}

/* host->register_synapses. */
static int
plugin_host_register_synapses(struct sb_plugin *p,
    const struct sb_synapses *sy, void *data, void (*free_func)(void *))
{
	struct site *site = p->site;
	struct device_set *ds;

	if (sy == NULL || sy->name == NULL || sy->devices == 0 ||
	    sy->address == NULL || sy->limits == NULL || sy->pulse == NULL ||
	    sy->read == NULL || sy->conductance == NULL || sy->poll == NULL)
		return plugin_refuse(p, data, free_func, "synapses need a name, "
		    "devices > 0 and every callback");
	if (plugin_name_taken(site, sy->name))
		return plugin_refuse(p, data, free_func, "device set '%s' "
		    "exists at site '%s' (give the plugin another name=)",
		    sy->name, site->name);
	ds = xcalloc(1, sizeof *ds);
	ds->name = xstrdup(sy->name);
	ds->ops = *sy;
	ds->ops.name = ds->name;
	PLUGIN_KEEP(site->devsets, site->ndevsets, ds, p, data, free_func);
	return 0;
}

/* host->register_transport. */
static int
plugin_host_register_transport(struct sb_plugin *p,
    const struct sb_transport *t, void *data, void (*free_func)(void *))
{
	struct site *site = p->site;
	struct transport *tr;

	if (t == NULL || t->name == NULL || t->send == NULL ||
	    t->poll == NULL)
		return plugin_refuse(p, data, free_func, "a transport needs a "
		    "name, send() and poll()");
	if (site->session->fast || site->remote)
		return plugin_refuse(p, data, free_func, "%s", site->remote ?
		    "this site is hosted elsewhere" : "--fast runs on virtual "
		    "time; a transport needs real time");
	tr = xcalloc(1, sizeof *tr);
	tr->ops = *t;
	PLUGIN_KEEP(site->transports, site->ntransports, tr, p, data,
	    free_func);
	return 0;
}

/* host->register_command. */
static int
plugin_host_register_command(struct sb_plugin *p, const struct sb_command *c,
    void *data, void (*free_func)(void *))
{
	struct site *site = p->site;
	struct plugin_command *pc;
	size_t i;

	if (c == NULL || c->name == NULL || c->exec == NULL)
		return plugin_refuse(p, data, free_func, "a command needs a name "
		    "and exec()");
	for (i = 0; i < site->ncommands; i++)
		if (strcmp(site->commands[i]->ops.name, c->name) == 0)
			return plugin_refuse(p, data, free_func, "command '%s' "
			    "exists", c->name);
	pc = xcalloc(1, sizeof *pc);
	pc->ops = *c;
	PLUGIN_KEEP(site->commands, site->ncommands, pc, p, data, free_func);
	return 0;
}

/* host->register_link: a device link shown beside the relay's. */
static int
plugin_host_register_link(struct sb_plugin *p, const struct sb_link *l,
    void *data, void (*free_func)(void *))
{
	struct site *site = p->site;
	struct device_link *dl;

	if (l == NULL || l->name == NULL || l->health == NULL)
		return plugin_refuse(p, data, free_func, "a link needs a name "
		    "and health()");
	dl = xcalloc(1, sizeof *dl);
	dl->name = xstrdup(l->name);
	dl->ops = *l;
	dl->ops.name = dl->name;
	PLUGIN_KEEP(site->links, site->nlinks, dl, p, data, free_func);
	return 0;
}

/* host->register_spike_tap: see a local population's spikes. */
static int
plugin_host_register_spike_tap(struct sb_plugin *p, const char *population,
    void (*fn)(void *, const struct sb_event *, size_t), void *data,
    void (*free_func)(void *))
{
	struct site *site = p->site;
	struct spike_tap *tap;
	char *names;

	if (population == NULL || fn == NULL)
		return plugin_refuse(p, data, free_func, "a spike tap needs a "
		    "population and a function");
	if (site_find_population(site, population) == NULL) {
		names = site_population_list(site);
		plugin_refuse(p, data, free_func, "no population '%s' at site "
		    "'%s' (have: %s; load its backend first)", population,
		    site->name, *names != '\0' ? names : "none");
		free(names);
		return -1;
	}
	tap = xcalloc(1, sizeof *tap);
	tap->population = xstrdup(population);
	tap->fn = fn;
	PLUGIN_KEEP(site->taps, site->ntaps, tap, p, data, free_func);
	return 0;
}

/* host->queue_command: a command to run right after this plugin's load. */
static int
plugin_host_queue_command(struct sb_plugin *p, const char *source,
    const char *line)
{
	struct session *s = p->site->session;

	if (s->load_item == NULL || p->initialised || line == NULL)
		return -1;
	s->load_after = cmdq_insert_line(cmdq_of(s->load_item),
	    s->load_after, line);
	if (source != NULL)
		cmdq_item_set_source(s->load_after, source);
	return 0;
}

/* host->emit: into the population's ring; a full ring is a counted gap. */
static int
plugin_host_emit(struct sb_emitter *em, const struct sb_event *ev)
{
	struct sb_event e = *ev;

	e.site = em->site;
	e.pop = em->pop;
	e.t_us = engine_backend_to_session(em->session, e.t_us);
	if (ring_push(em->ring, &e, 1) != 1) {
		__atomic_add_fetch(&em->dropped, 1, __ATOMIC_RELAXED);
		return -1;
	}
	return 0;
}

/* host->reply: one line of a plugin command's result. */
static void __attribute__((format(printf, 2, 3)))
plugin_host_reply(struct sb_reply *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	engine_vreply(r, fmt, ap);
	va_end(ap);
}

/* "SITE PLUGIN KEY" for a transport's cursor key, or NULL if bad. */
static char *
plugin_host_cursor_key(struct sb_plugin *p, const char *key)
{
	char *full;

	if (key == NULL || *key == '\0' || strlen(key) > 400 ||
	    strchr(key, '\n') != NULL) {
		session_log(p->site->session, SB_LOG_ERROR, "%s: bad cursor "
		    "key (empty, over 400 bytes or with a newline)", p->name);
		return NULL;
	}
	xasprintf(&full, "%s %s %s", p->site->name, p->name, key);
	return full;
}

/* A transport's stored cursor for key, or 0. */
static uint64_t
plugin_host_cursor_get(struct sb_plugin *p, const char *key)
{
	char *full = plugin_host_cursor_key(p, key);
	uint64_t v;

	if (full == NULL)
		return 0;
	v = cursor_get(&p->site->session->cursors, full);
	free(full);
	return v;
}

/* A transport's cursor for key covers what it delivered so far. */
static void
plugin_host_cursor_set(struct sb_plugin *p, const char *key, uint64_t value)
{
	char *full = plugin_host_cursor_key(p, key);

	if (full == NULL)
		return;
	cursor_set(&p->site->session->cursors, full, value);
	free(full);
}

/* Something waits for the plugin's poll(): the loop runs a tick now. */
static void
plugin_host_wake(struct sb_plugin *p)
{
	uint64_t one = 1;
	int fd = p->site->session->wake_fd;

	/* EAGAIN: the counter is full, so the loop is woken already */
	if (fd != -1 && write(fd, &one, sizeof one) < 0)
		return;
}

const struct sb_host_api plugin_host_api = {
	.size = sizeof(struct sb_host_api),
	.log = plugin_host_log,
	.arg = plugin_host_arg,
	.site = plugin_host_site,
	.seed = plugin_host_seed,
	.fast = plugin_host_fast,
	.now_us = plugin_host_now,
	.register_neurons = plugin_host_register_neurons,
	.register_synapses = plugin_host_register_synapses,
	.register_transport = plugin_host_register_transport,
	.register_command = plugin_host_register_command,
	.emit = plugin_host_emit,
	.reply = plugin_host_reply,
	.deliver = remote_deliver,
	.gap = remote_gap,
	.remote_command = remote_command,
	.remote_result = remote_result,
	.clock_update = remote_clock_update,
	.register_link = plugin_host_register_link,
	.register_spike_tap = plugin_host_register_spike_tap,
	.queue_command = plugin_host_queue_command,
	.cursor_get = plugin_host_cursor_get,
	.cursor_set = plugin_host_cursor_set,
	.wake = plugin_host_wake,
};

/* Find a loaded instance at a site. */
struct sb_plugin *
plugin_find(struct site *site, const char *name)
{
	size_t i;

	for (i = 0; i < site->nplugins; i++)
		if (strcmp(site->plugins[i]->name, name) == 0)
			return site->plugins[i];
	return NULL;
}

/* The search path, for messages. */
char *
plugin_search_path(struct session *s)
{
	char *out = xstrdup(""), *next;
	size_t i;

	for (i = 0; i < s->nplugin_dirs; i++) {
		xasprintf(&next, "%s%s%s", out, i ? ":" : "",
		    s->plugin_dirs[i]);
		free(out);
		out = next;
	}
	return out;
}

/* Find the file of plugin name on the search path; NULL if none. */
static char *
plugin_find_file(struct session *s, const char *name)
{
	char *path;
	size_t i;

	if (strchr(name, '/') != NULL)
		return access(name, R_OK) == 0 ? xstrdup(name) : NULL;
	for (i = 0; i < s->nplugin_dirs; i++) {
		xasprintf(&path, "%s/%s.so", s->plugin_dirs[i], name);
		if (access(path, R_OK) == 0)
			return path;
		free(path);
		/* an uninstalled build tree keeps modules in NAME/.libs */
		xasprintf(&path, "%s/%s/.libs/%s.so", s->plugin_dirs[i], name,
		    name);
		if (access(path, R_OK) == 0)
			return path;
		free(path);
	}
	return NULL;
}

/* Free an instance record (not what it registered). */
static void
plugin_free_record(struct sb_plugin *p)
{
	size_t i;

	for (i = 0; i < p->nargs; i++) {
		free(p->args[i].key);
		free(p->args[i].value);
	}
	free(p->args);
	if (p->handle != NULL)
		dlclose(p->handle);
	free(p->name);
	free(p->path);
	free(p);
}

/* Stop p's populations (threads, streams) before its end() runs. */
static void
plugin_stop_populations(struct sb_plugin *p)
{
	struct site *site = p->site;
	size_t i;

	for (i = 0; i < site->npops; i++)
		if (site->pops[i] != NULL && site->pops[i]->owner == p)
			engine_stop_population(site->pops[i]);
}

/*
 * Keep the entries of a registration array that p does not own; free p's
 * (its data through its free_func, then the entry with release).
 */
#define PLUGIN_DROP_OWNED(array, count, p, release) do {		\
	size_t i_, j_;							\
									\
	for (i_ = j_ = 0; i_ < (count); i_++) {				\
		if ((array)[i_]->owner != (p)) {			\
			(array)[j_++] = (array)[i_];			\
			continue;					\
		}							\
		if ((array)[i_]->free_func != NULL)			\
			(array)[i_]->free_func((array)[i_]->data);	\
		release((array)[i_]);					\
	}								\
	(count) = j_;							\
} while (0)

/* Free a device link record. */
static void
plugin_free_link(struct device_link *dl)
{
	free(dl->name);
	free(dl);
}

/* Free a spike tap record. */
static void
plugin_free_tap(struct spike_tap *tap)
{
	free(tap->population);
	free(tap);
}

/* Free a device set record. */
static void
plugin_free_devset(struct device_set *ds)
{
	free(ds->name);
	free(ds);
}

/* Free a transport record. */
static void
plugin_free_transport(struct transport *tr)
{
	latency_free(tr->lat_arrival);
	free(tr);
}

/* Free everything registered by p at its site. */
static void
plugin_free_registered(struct sb_plugin *p)
{
	struct site *site = p->site;
	size_t i;

	/* links and taps look into the plugin's data: they go first */
	PLUGIN_DROP_OWNED(site->taps, site->ntaps, p, plugin_free_tap);
	PLUGIN_DROP_OWNED(site->links, site->nlinks, p, plugin_free_link);
	for (i = 0; i < site->npops; i++) {
		struct population *pop = site->pops[i];

		if (pop == NULL || pop->owner != p)
			continue;
		engine_stop_population(pop);
		if (pop->free_func != NULL)
			pop->free_func(pop->data);
		ring_free(pop->emitter.ring);
		pthread_mutex_destroy(&pop->lock);
		synapse_lists_free(pop);
		free(pop->name);
		free(pop);
		/* ids stay stable: leave a hole */
		site->pops[i] = NULL;
	}
	PLUGIN_DROP_OWNED(site->devsets, site->ndevsets, p, plugin_free_devset);
	PLUGIN_DROP_OWNED(site->transports, site->ntransports, p,
	    plugin_free_transport);
	PLUGIN_DROP_OWNED(site->commands, site->ncommands, p, free);
	/* trailing holes can go */
	while (site->npops > 0 && site->pops[site->npops - 1] == NULL)
		site->npops--;
}

/* FNV-1a, to derive per-instance seeds. */
static uint64_t
plugin_hash(uint64_t h, const char *s)
{
	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* The keys given to load that the plugin never asked for, or NULL. */
static char *
plugin_unused_args(struct sb_plugin *p)
{
	char *unused = NULL, *next;
	size_t i;

	for (i = 0; i < p->nargs; i++) {
		if (p->args[i].used)
			continue;
		xasprintf(&next, "%s%s%s=", unused ? unused : "",
		    unused ? ", " : "", p->args[i].key);
		free(unused);
		unused = next;
	}
	return unused;
}

/* Load a plugin at a site. */
struct sb_plugin *
plugin_load(struct site *site, const char *name, int argc, char **argv,
    char **cause)
{
	struct session *s = site->session;
	struct sb_plugin *p;
	const char *pname, *version, *eq, *seed;
	sb_plugin_init_fn init;
	char *path, *sp, *end, *unused = NULL;
	int j;
	size_t k;

	path = plugin_find_file(s, name);
	if (path == NULL) {
		sp = plugin_search_path(s);
		if (strchr(name, '/') != NULL)
			xasprintf(cause, "cannot read plugin file '%s'", name);
		else
			xasprintf(cause, "plugin '%s' not found (looked for "
			    "%s.so in %s; use --plugin-dir or "
			    "SYNBRIDGE_PLUGIN_PATH)", name, name,
			    *sp ? sp : "no directories");
		free(sp);
		return NULL;
	}
	p = xcalloc(1, sizeof *p);
	p->site = site;
	p->path = path;
	p->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (p->handle == NULL) {
		xasprintf(cause, "cannot load plugin '%s': %s", path,
		    dlerror());
		goto fail;
	}
	pname = dlsym(p->handle, "synbridge_plugin_name");
	version = dlsym(p->handle, "synbridge_plugin_api_version");
	if (pname == NULL || version == NULL) {
		xasprintf(cause, "'%s' is not a synbridge plugin (it exports "
		    "no synbridge_plugin_%s)", path,
		    pname == NULL ? "name" : "api_version");
		goto fail;
	}
	if (strnlen(version, 64) == 64 ||
	    strcmp(version, SB_PLUGIN_API_VERSION) != 0) {
		xasprintf(cause, "plugin '%s' was built for API '%.63s', this "
		    "synbridge speaks '%s' (rebuild the plugin against this "
		    "version)", path, version, SB_PLUGIN_API_VERSION);
		goto fail;
	}
	if (strnlen(pname, 64) == 64 || *pname == '\0') {
		xasprintf(cause, "plugin '%s' has a bad name", path);
		goto fail;
	}
	p->name = xstrdup(pname);
	if (plugin_find(site, p->name) != NULL) {
		xasprintf(cause, "plugin '%s' is already loaded at site '%s' "
		    "(from %s)", p->name, site->name,
		    plugin_find(site, p->name)->path);
		goto fail;
	}
	*(void **)&init = dlsym(p->handle, "synbridge_plugin_init");
	*(void **)&p->end = dlsym(p->handle, "synbridge_plugin_end");
	if (init == NULL || p->end == NULL) {
		xasprintf(cause, "plugin '%s' (%s) lacks "
		    "synbridge_plugin_%s", p->name, path,
		    init == NULL ? "init" : "end");
		goto fail;
	}
	for (j = 0; j < argc; j++) {
		eq = strchr(argv[j], '=');
		if (eq == NULL || eq == argv[j]) {
			xasprintf(cause, "bad plugin argument '%s' (write "
			    "key=value)", argv[j]);
			goto fail;
		}
		for (k = 0; k < p->nargs; k++) {
			if (strlen(p->args[k].key) == (size_t)(eq - argv[j]) &&
			    strncmp(p->args[k].key, argv[j],
			    (size_t)(eq - argv[j])) == 0)
				break;
		}
		if (k < p->nargs) {
			xasprintf(cause, "%s: %s= is given twice (%s=%s, then "
			    "%s): give it once", p->name, p->args[k].key,
			    p->args[k].key, p->args[k].value, argv[j]);
			goto fail;
		}
		p->args = xreallocarray(p->args, p->nargs + 1,
		    sizeof *p->args);
		p->args[p->nargs].key = xstrndup(argv[j],
		    (size_t)(eq - argv[j]));
		p->args[p->nargs].value = xstrdup(eq + 1);
		p->args[p->nargs].used = 0;
		p->nargs++;
	}
	seed = plugin_host_arg(p, "seed");
	if (seed != NULL) {
		errno = 0;
		p->seed = strtoull(seed, &end, 0);
		if (*seed == '\0' || *end != '\0' || errno != 0) {
			xasprintf(cause, "%s: seed=%s: expected an integer",
			    p->name, seed);
			goto fail;
		}
	} else
		p->seed = plugin_hash(plugin_hash(s->seed ^
		    0xcbf29ce484222325ULL, site->name), p->name);

	site->plugins = xreallocarray(site->plugins, site->nplugins + 1,
	    sizeof *site->plugins);
	site->plugins[site->nplugins++] = p;
	if (init(p, &plugin_host_api) != 0) {
		/*
		 * Which keys it never asked for says little here: it may have
		 * stopped before asking for the rest. Only a key it would
		 * never take is worth naming, and the host cannot tell.
		 */
		xasprintf(cause, "plugin '%s' failed to start (see the "
		    "messages above)", p->name);
		goto fail_loaded;
	}
	p->initialised = 1;
	unused = plugin_unused_args(p);
	if (unused != NULL) {
		xasprintf(cause, "%s: unknown argument%s %s (synbridge(1), "
		    "PLUGINS, lists the ones it takes)", p->name,
		    strchr(unused, ',') ? "s" : "", unused);
		free(unused);
		goto fail_loaded;
	}
	if (engine_start_site_plugin(p, cause) != 0)
		goto fail_loaded;
	return p;

fail_loaded:
	plugin_stop_populations(p);
	if (p->initialised)
		p->end(p);
	plugin_free_registered(p);
	site->nplugins--;
	plugin_free_record(p);
	return NULL;
fail:
	plugin_free_record(p);
	return NULL;
}

/* Unload a plugin instance and everything it registered. */
int
plugin_unload(struct sb_plugin *p, char **cause)
{
	struct site *site = p->site;
	size_t i;
	char *users;

	users = synapse_users_of_plugin(site->session, p);
	if (users != NULL) {
		xasprintf(cause, "plugin '%s' is in use by synapse%s %s "
		    "(remove them first)", p->name,
		    strchr(users, ',') ? "s" : "", users);
		free(users);
		return -1;
	}
	plugin_stop_populations(p);
	if (p->initialised)
		p->end(p);
	plugin_free_registered(p);
	for (i = 0; i < site->nplugins; i++) {
		if (site->plugins[i] == p) {
			memmove(&site->plugins[i], &site->plugins[i + 1],
			    (site->nplugins - i - 1) * sizeof *site->plugins);
			site->nplugins--;
			break;
		}
	}
	plugin_free_record(p);
	return 0;
}

/* Unload every plugin of a site (at exit: synapses are gone already). */
void
plugin_unload_all(struct site *site)
{
	struct sb_plugin *p;

	while (site->nplugins > 0) {
		p = site->plugins[site->nplugins - 1];
		plugin_stop_populations(p);
		if (p->initialised)
			p->end(p);
		plugin_free_registered(p);
		site->nplugins--;
		plugin_free_record(p);
	}
}
