/*
 * remote.c: the host side of transports. Events of other sites arrive in
 * session time and are routed to this site's synapses (and recorded when
 * their site is not hosted here); synaptic events for a local population
 * become its input; remote commands run here and their results go back.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "engine.h"
#include "remote.h"
#include "sched-hint.h"
#include "synapse.h"
#include "xmalloc.h"

#define REMOTE_TIMEOUT_US 30000000
/* Beyond a command's lifetime, for its answer to come back. */
#define REMOTE_ANSWER_US 10000000
/* Most units a population seen only in a stream may grow to. */
#define REMOTE_UNITS_MAX 1048576
/* A command carries the session time after which it must not run. */
#define REMOTE_EXPIRES "+expires="
/* Larger corrections than this after start are refused as clock jumps. */
#define REMOTE_MAX_STEP_US 50000
/* Ask a site to describe its synapses at most this often. */
#define REMOTE_DESCRIBE_US 10000000

/* Is a counter at 1, 2, 4, 8, ...? (said then, never a flood) */
static int
remote_worth_saying(uint64_t n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

/* An event whose fields this site does not believe: counted, a gap. */
static void
remote_out_of_range(struct session *s, struct sb_plugin *p,
    struct population *pop, const struct sb_event *ev, const char *why)
{
	char *msg;

	if (!remote_worth_saying(++pop->dropped_fields))
		return;
	xasprintf(&msg, "%s/%s: %llu event%s dropped: unit %u, kind %u: %s "
	    "(%s)", pop->site->name, pop->name,
	    (unsigned long long)pop->dropped_fields,
	    pop->dropped_fields == 1 ? "" : "s so far", ev->index, ev->kind,
	    why, pop->declared_units > 0 ? "check the remote line's unit "
	    "count" : "the sending site sends bad fields");
	session_log(s, SB_LOG_WARNING, "gap: %s", msg);
	engine_audit(s, p->site->name, p->name, "gap", "gap", msg);
	free(msg);
}

/*
 * The synapse a synaptic event from site `from` came through (its id
 * there is in pop), as this console knows it: the synapse itself when
 * that site is hosted here, else its mirror; NULL if not known (yet).
 */
static struct synapse *
remote_synapse_of(struct session *s, const char *from,
    const struct sb_event *ev)
{
	struct site *site;
	struct synapse *syn;

	if (ev->pop == SB_POP_SYNAPSE || (site = site_find(s, from)) == NULL)
		return NULL;
	if (site->remote)
		return synapse_find_mirror(s, site, ev->pop);
	if (ev->pop >= s->nsynapses)
		return NULL;
	syn = s->synapses[ev->pop];
	return syn->site == site && !syn->mirror ? syn : NULL;
}

/* Synaptic events for one of our populations ("syn:SITE/POP"). */
static void
remote_deliver_synaptic(struct sb_plugin *p, const char *from,
    const char *target, const struct sb_event *ev, size_t n)
{
	struct session *s = p->site->session;
	const char *slash = strchr(target, '/');
	struct population *pop;
	struct synapse *syn;
	int64_t now, mono;
	size_t i;

	if (slash == NULL || (size_t)(slash - target) !=
	    strlen(p->site->name) || strncmp(target, p->site->name,
	    (size_t)(slash - target)) != 0)
		return;	/* for another site */
	pop = site_find_population(p->site, slash + 1);
	if (pop == NULL || pop->ops.synaptic_input == NULL) {
		session_log(s, SB_LOG_WARNING, "%s: %zu synaptic events from "
		    "%s for %s, which takes no synaptic input here", p->name,
		    n, from, target);
		return;
	}
	if (s->stopped) {
		/* the stop button holds back what would stimulate here */
		s->held_back += n;
		return;
	}
	for (i = 0; i < n; i++)
		if (ev[i].kind != SB_EV_SYNAPTIC || ev[i].index >= pop->ops.units)
			remote_out_of_range(s, p, pop, &ev[i], ev[i].kind !=
			    SB_EV_SYNAPTIC ? "not a synaptic event" : "beyond "
			    "the population's units");
	/* the loop: each pre spike from its source to this input */
	now = clock_now(&s->clock);
	mono = clock_mono_us();
	for (i = 0; i < n && !s->fast; i++) {
		if (ev[i].kind == SB_EV_SYNAPTIC && ev[i].index <
		    pop->ops.units && (syn = remote_synapse_of(s, from,
		    &ev[i])) != NULL)
			latency_add(&syn->lat_spike, now - ev[i].t_us, mono);
	}
	pthread_mutex_lock(&pop->lock);
	for (i = 0; i < n; i++) {
		if (ev[i].kind != SB_EV_SYNAPTIC || ev[i].index >= pop->ops.units)
			continue;
		pop->ops.synaptic_input(pop->data, ev[i].index, ev[i].aux,
		    ev[i].g_before, ev[i].t_us - __atomic_load_n(
		    &s->backend_shift_us, __ATOMIC_RELAXED));
	}
	pthread_mutex_unlock(&pop->lock);
}

static int remote_send_via(struct session *, struct transport *,
    const char *, const char *, struct cmdq_item *,
    void (*)(struct session *, struct site *, int, const char *), char **);

/* The owner's description of its synapses: mirror each here. */
static void
remote_described(struct session *s, struct site *from, int status,
    const char *text)
{
	char name[64], pre[160], post[160], from_what[2], one[640];
	double gmin, gmax, g;
	const char *line, *nl;
	unsigned id, n = 0;
	size_t len;
	enum sb_weight_from weight_from;

	if (from == NULL)
		return;
	if (status != 0) {
		session_log(s, SB_LOG_WARNING, "%s does not show us its synapses "
		    "(%s); its token list must let this site command it",
		    from->name, text);
		return;
	}
	for (line = text; *line != '\0'; line = nl + 1) {
		/*
		 * ID NAME PRE POST GMIN GMAX G [r|g]: the weight's source came
		 * later; a site that does not say computes it from G.
		 */
		nl = strchr(line, '\n');
		len = nl != NULL ? (size_t)(nl - line) : strlen(line);
		if (len < sizeof one) {
			memcpy(one, line, len);
			one[len] = '\0';
			weight_from = SB_WEIGHT_FROM_G;
			switch (sscanf(one, "%u %63s %159s %159s %lf %lf %lf "
			    "%1s", &id, name, pre, post, &gmin, &gmax, &g,
			    from_what)) {
			case 8:
				if (strcmp(from_what, "r") == 0)
					weight_from = SB_WEIGHT_FROM_R;
				/* FALLTHROUGH */
			case 7:
				synapse_mirror(s, from, id, name, pre, post,
				    gmin, gmax, weight_from, g);
				n++;
				break;
			}
		}
		if (nl == NULL)
			break;
	}
	session_log(s, SB_LOG_INFO, "%u synapses of %s shown here", n,
	    from->name);
}

/* Conductance events of another site's synapses arrived. */
static void
remote_deliver_synapses(struct sb_plugin *p, struct site *site,
    const struct sb_event *ev, size_t n)
{
	struct session *s = p->site->session;
	struct transport *tr = NULL;
	struct synapse *syn;
	struct sb_event e;
	char *cause = NULL;
	size_t i, t;

	for (i = 0; i < n; i++) {
		if (ev[i].kind != SB_EV_CONDUCTANCE)
			continue;
		syn = synapse_find_mirror(s, site, ev[i].index);
		if (syn == NULL) {
			/* ask the owner what its synapses are, now and then */
			if (site->described_us != 0 && clock_mono_us() -
			    site->described_us < REMOTE_DESCRIBE_US)
				continue;
			site->described_us = clock_mono_us();
			for (t = 0; t < p->site->ntransports; t++)
				if (p->site->transports[t]->owner == p)
					tr = p->site->transports[t];
			if (remote_send_via(s, tr, site->name, "synapses -m",
			    NULL, remote_described, &cause) != 0) {
				session_log(s, SB_LOG_WARNING, "cannot ask %s "
				    "for its synapses: %s", site->name, cause);
				free(cause);
				cause = NULL;
			}
			continue;
		}
		if (ev[i].aux != COND_FAILED)
			syn->g_us = ev[i].g_after;
		if (ev[i].aux == COND_STATE)
			continue;	/* a reminder, not an event */
		e = ev[i];
		e.index = syn->id;
		e.site = site->id;
		engine_record_event(s, &e);
	}
	s->dirty = 1;
}

/* Spikes of another site reached this one: from their source to here. */
static void
remote_arrival(struct sb_plugin *p, const struct sb_event *ev, size_t n)
{
	struct session *s = p->site->session;
	struct transport *tr = NULL;
	int64_t now, mono;
	size_t i;

	if (s->fast)
		return;
	for (i = 0; i < p->site->ntransports; i++)
		if (p->site->transports[i]->owner == p)
			tr = p->site->transports[i];
	if (tr == NULL)
		return;
	now = clock_now(&s->clock);
	mono = clock_mono_us();
	for (i = 0; i < n; i++)
		if (ev[i].kind == SB_EV_SPIKE)
			latency_add(&tr->lat_arrival, now - ev[i].t_us, mono);
}

/* Events of another site's stream arrived. */
void
remote_deliver(struct sb_plugin *p, const char *site_name,
    const char *stream, const struct sb_event *ev, size_t n)
{
	struct session *s = p->site->session;
	struct population *pop;
	struct site *site;
	struct sb_event e;
	uint32_t max = 0, limit;
	char *cause = NULL;
	size_t i;

	if (n == 0)
		return;
	if (strncmp(stream, "syn:", 4) == 0) {
		remote_deliver_synaptic(p, site_name, stream + 4, ev, n);
		return;
	}
	site = site_find(s, site_name);
	if (site == NULL) {
		site = site_create(s, site_name, &cause);
		if (site == NULL) {
			session_log(s, SB_LOG_WARNING, "%s: events from site "
			    "'%s' ignored: %s", p->name, site_name, cause);
			free(cause);
			return;
		}
		site->remote = 1;
	}
	if (site == p->site)
		return;	/* our own stream echoed back */
	if (strcmp(stream, "synapses") == 0) {
		/* a site hosted here shows its own synapses already */
		if (site->remote)
			remote_deliver_synapses(p, site, ev, n);
		return;
	}
	/*
	 * A unit beyond what this site declared (remote SITE/POP UNITS), or
	 * beyond REMOTE_UNITS_MAX for a population seen only in the stream,
	 * is not believed: one bad field must not grow a population to 1e8
	 * units. Such events are dropped as a gap, said once per population.
	 */
	pop = site_find_population(site, stream);
	limit = pop != NULL && pop->declared_units > 0 ? pop->declared_units :
	    REMOTE_UNITS_MAX;
	for (i = 0; i < n; i++)
		if (ev[i].kind == SB_EV_SPIKE && ev[i].index < limit &&
		    ev[i].index >= max)
			max = ev[i].index + 1;
	pop = session_remote_population(s, site, stream, max);
	if (pop == NULL) {
		session_log(s, SB_LOG_WARNING, "%s: events of %s/%s ignored "
		    "(bad stream name)", p->name, site_name, stream);
		return;
	}
	remote_arrival(p, ev, n);
	for (i = 0; i < n; i++) {
		if (ev[i].kind != SB_EV_SPIKE) {
			remote_out_of_range(s, p, pop, &ev[i], "not a spike");
			continue;
		}
		if (ev[i].index >= limit) {
			remote_out_of_range(s, p, pop, &ev[i], pop->declared_units
			    > 0 ? "beyond the units declared with remote" :
			    "beyond the units a population may have");
			continue;
		}
		e = ev[i];
		e.site = site->id;
		e.pop = pop->id;
		/* a site hosted here was recorded when it happened */
		if (site->remote)
			engine_record_event(s, &e);
		engine_route_spike(s, pop, &e, p->site);
	}
	s->dirty = 1;
}

/* A stream lost events: say so in the log and the audit trail. */
void
remote_gap(struct sb_plugin *p, const char *site, const char *stream,
    uint64_t first_seq, uint64_t last_seq, const char *why)
{
	struct session *s = p->site->session;
	char *msg;

	if (first_seq == 0 && last_seq == 0)	/* not counted in batches */
		xasprintf(&msg, "%s/%s: %s", site, stream,
		    why != NULL ? why : "events lost");
	else
		xasprintf(&msg, "%s/%s: batches %llu-%llu lost (%s)", site,
		    stream, (unsigned long long)first_seq,
		    (unsigned long long)last_seq, why != NULL ? why : "gap");
	session_log(s, SB_LOG_WARNING, "gap: %s", msg);
	engine_audit(s, p->site->name, p->name, "gap", "gap", msg);
	free(msg);
}

/* Carries a remote command's result back. */
struct remote_reply {
	struct session *session;
	struct site *site;
	struct sb_plugin *plugin;
	char *from;
	uint64_t id;
};

/* Remote command output: kept in the item's message. */
static void
remote_reply_line(void *ctx, const char *line)
{
	(void)ctx;
	(void)line;
}

/* The remote command finished: send its result back. */
static void
remote_reply_done(void *ctx, int failed, const char *message)
{
	struct remote_reply *rr = ctx;
	struct transport *tr = NULL;
	size_t i;

	for (i = 0; i < rr->site->ntransports; i++)
		if (rr->site->transports[i]->owner == rr->plugin)
			tr = rr->site->transports[i];
	if (tr != NULL && tr->ops.command_result != NULL &&
	    tr->ops.command_result(tr->data, rr->from, rr->id,
	    failed ? -1 : 0, message != NULL ? message : "") != 0)
		session_log(rr->session, SB_LOG_WARNING, "could not send the "
		    "result of command %llu back to %s",
		    (unsigned long long)rr->id, rr->from);
	free(rr->from);
	free(rr);
}

/*
 * Where this site remembers the remote commands it ran, so that none runs
 * twice, across console restarts and plugin reloads:
 * $XDG_STATE_HOME/synbridge/commands-SITE (or ~/.local/state/...).
 */
static char *
remote_done_path(struct site *site)
{
	const char *state = getenv("XDG_STATE_HOME"), *home;
	char *path;

	if (state != NULL && *state == '/')
		xasprintf(&path, "%s/synbridge/commands-%s", state, site->name);
	else {
		home = getenv("HOME");
		if (home == NULL || *home == '\0')
			return NULL;
		xasprintf(&path, "%s/.local/state/synbridge/commands-%s", home,
		    site->name);
	}
	return path;
}

/* mkdir -p of the directory holding path. */
static void
remote_mkdirs(const char *path)
{
	char *copy = xstrdup(path), *p;

	for (p = copy + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		(void)mkdir(copy, 0700);
		*p = '/';
	}
	free(copy);
}

static void remote_refuse(struct sb_plugin *, const char *, uint64_t,
    const char *, const char *, const char *);

/*
 * A remote command waiting for the line that says it ran to be on disk
 * (remote_records), before it runs: fsync(2) can take seconds while
 * another program writes heavily, and the engine must not wait for it.
 */
struct remote_record {
	struct remote_record *next;
	struct site *site;
	struct sb_plugin *plugin;	/* checked to be loaded when it runs */
	char *from, *line, *path, *entry;
	uint64_t id;
	int has_expires;
	long long expires;
	int duplicate;		/* the file says it ran before */
	int record_errno;	/* the note could not be written: why */
	int unnoted;		/* not noted: its lifetime ended first */
};

/* The thread that writes them, and what it has written. */
struct remote_records {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct remote_record *todo, **todo_tail;
	struct remote_record *done, **done_tail;
	int stop;
	int wake_fd;
	const struct sb_clock *clock;	/* the session's */
};

static void
remote_record_free(struct remote_record *r)
{
	free(r->from);
	free(r->line);
	free(r->path);
	free(r->entry);
	free(r);
}

/* Is the plugin a record came through still loaded at its site? */
static int
remote_plugin_loaded(const struct remote_record *r)
{
	size_t i;

	for (i = 0; i < r->site->nplugins; i++)
		if (r->site->plugins[i] == r->plugin)
			return 1;
	return 0;
}

/* errno after a failed stdio call (which need not set it), or EIO. */
static int
remote_errno(void)
{
	return errno != 0 ? errno : EIO;
}

/* fsync the directory holding path (a file just created in it). */
static void
remote_sync_dir(const char *path)
{
	char *dir = xstrdup(path), *slash;
	int fd;

	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
			(void)fsync(fd);
			close(fd);
		}
	}
	free(dir);
}

/* Does the file at path hold the line entry? */
static int
remote_seen_file(const char *path, const char *entry)
{
	char line[256];
	FILE *f;
	int seen = 0;

	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (!seen && fgets(line, sizeof line, f) != NULL)
		seen = strcmp(line, entry) == 0;
	fclose(f);
	return seen;
}

/* Is the same entry still on its way to disk or to running? Lock held. */
static int
remote_seen_pending(struct remote_records *rs, const char *path,
    const char *entry)
{
	struct remote_record *r;
	int pass;

	for (pass = 0; pass < 2; pass++)
		for (r = pass == 0 ? rs->todo : rs->done; r != NULL;
		    r = r->next)
			if (strcmp(r->entry, entry) == 0 &&
			    strcmp(r->path, path) == 0)
				return 1;
	return 0;
}

/* The writer: append each entry and fsync, then hand it back. */
static void *
remote_records_thread(void *arg)
{
	struct remote_records *rs = arg;
	struct remote_record *r;
	uint64_t one = 1;
	int created;
	FILE *f;

	(void)sb_sched_normal();	/* it waits on the disk */
	pthread_mutex_lock(&rs->lock);
	for (;;) {
		while (rs->todo == NULL && !rs->stop)
			pthread_cond_wait(&rs->cond, &rs->lock);
		if (rs->stop || (r = rs->todo) == NULL)
			break;	/* at quit, what is left is answered unnoted */
		pthread_mutex_unlock(&rs->lock);
		/*
		 * On disk before it runs (at most once: a crash between the
		 * two loses the run, never doubles it). A note that cannot be
		 * written leaves the command to run, as without a home, and
		 * the engine says so.
		 */
		if (remote_seen_file(r->path, r->entry))
			r->duplicate = 1;
		else if (r->has_expires && clock_now(rs->clock) > r->expires)
			r->unnoted = 1;	/* never runs: no note says it did */
		else {
			remote_mkdirs(r->path);
			created = access(r->path, F_OK) != 0;
			errno = 0;
			if ((f = fopen(r->path, "a")) == NULL)
				r->record_errno = remote_errno();
			else {
				if (fputs(r->entry, f) == EOF ||
				    fflush(f) != 0 || fsync(fileno(f)) != 0)
					r->record_errno = remote_errno();
				if (fclose(f) != 0 && r->record_errno == 0)
					r->record_errno = remote_errno();
				/* a new file's name is on disk too */
				if (created && r->record_errno == 0)
					remote_sync_dir(r->path);
			}
		}
		pthread_mutex_lock(&rs->lock);
		if ((rs->todo = r->next) == NULL)
			rs->todo_tail = &rs->todo;
		r->next = NULL;
		*rs->done_tail = r;
		rs->done_tail = &r->next;
		if (rs->wake_fd != -1 &&
		    write(rs->wake_fd, &one, sizeof one) < 0) {
			/* a full counter still wakes the engine */
		}
	}
	pthread_mutex_unlock(&rs->lock);
	return NULL;
}

/* The session's writer, started on first use; NULL if it cannot start. */
static struct remote_records *
remote_records_get(struct session *s)
{
	struct remote_records *rs;
	int error;

	if (s->remote_records != NULL)
		return s->remote_records;
	rs = xcalloc(1, sizeof *rs);
	/* the engine may run under SCHED_FIFO: this thread must not hold it */
	sb_mutex_init_pi(&rs->lock);
	pthread_cond_init(&rs->cond, NULL);
	rs->todo_tail = &rs->todo;
	rs->done_tail = &rs->done;
	rs->wake_fd = s->wake_fd;
	rs->clock = &s->clock;
	if ((error = sb_thread_create_normal(&rs->thread,
	    remote_records_thread, rs)) != 0) {
		pthread_cond_destroy(&rs->cond);
		pthread_mutex_destroy(&rs->lock);
		free(rs);
		if (!s->remote_records_failed)
			session_log(s, SB_LOG_WARNING, "cannot start the thread "
			    "that notes remote commands as run (%s): they run "
			    "without the note, and a restart may run one "
			    "again", strerror(error));
		s->remote_records_failed = 1;
		return NULL;
	}
	(void)pthread_setname_np(rs->thread, "remote record");
	s->remote_records = rs;
	return rs;
}

/*
 * At quit, before the links' last flush (so that the answers still go out
 * and are recorded): stop the note thread after the note it is writing;
 * every command not run yet, noted or not, is answered "quit". One not
 * noted may run after a restart, if the relay hands it over again within
 * its lifetime.
 */
void
remote_quit(struct session *s)
{
	struct remote_records *rs = s->remote_records;
	struct remote_record *r;

	s->remote_closed = 1;	/* commands from now on are answered "quit" */
	if (rs == NULL)
		return;
	pthread_mutex_lock(&rs->lock);
	rs->stop = 1;
	pthread_cond_signal(&rs->cond);
	pthread_mutex_unlock(&rs->lock);
	pthread_join(rs->thread, NULL);
	*rs->done_tail = rs->todo;	/* after the noted ones */
	while ((r = rs->done) != NULL) {
		rs->done = r->next;
		if (remote_plugin_loaded(r))
			remote_refuse(r->plugin, r->from, r->id, r->line,
			    "quit", "the console quit first");
		else
			session_log(s, SB_LOG_WARNING, "command from %s not "
			    "run: the console quit first: %s", r->from,
			    r->line);
		remote_record_free(r);
	}
	pthread_cond_destroy(&rs->cond);
	pthread_mutex_destroy(&rs->lock);
	free(rs);
	s->remote_records = NULL;
}

/* Answer a command without running it (expired, already run). */
static void
remote_refuse(struct sb_plugin *p, const char *from, uint64_t id,
    const char *line, const char *status, const char *why)
{
	struct session *s = p->site->session;
	struct remote_reply *rr = xcalloc(1, sizeof *rr);
	char *user, *msg;

	rr->session = s;
	rr->site = p->site;
	rr->plugin = p;
	rr->from = xstrdup(from);
	rr->id = id;
	xasprintf(&user, "@%s", from);
	xasprintf(&msg, "%s: not run: %s", status, why);
	session_log(s, SB_LOG_WARNING, "%s asks %s: %s: %s", from,
	    p->site->name, line, msg);
	engine_audit(s, p->site->name, user, line, status, msg);
	remote_reply_done(rr, 1, msg);
	free(user);
	free(msg);
}

/* Without a console to run it, a command is dropped (and said): 1. */
static int
remote_no_console(struct sb_plugin *p, const char *from)
{
	if (cmdq_session != NULL)
		return 0;
	session_log(p->site->session, SB_LOG_WARNING, "%s: command from %s "
	    "dropped: no console", p->name, from);
	return 1;
}

/* Queue a command that may run (recorded as run, or no record kept). */
static void
remote_run(struct sb_plugin *p, const char *from, uint64_t id,
    const char *line, int has_expires, long long expires)
{
	struct session *s = p->site->session;
	struct remote_reply *rr;
	struct cmd_client client;
	char *user, *source;

	if (remote_no_console(p, from))
		return;
	rr = xcalloc(1, sizeof *rr);
	rr->session = s;
	rr->site = p->site;
	rr->plugin = p;
	rr->from = xstrdup(from);
	rr->id = id;
	memset(&client, 0, sizeof client);
	client.out = remote_reply_line;
	client.err = remote_reply_line;
	client.done = remote_reply_done;
	client.ctx = rr;
	xasprintf(&user, "@%s", from);
	xasprintf(&source, "%s", from);
	/* it still expires if commands ahead of it hold it too long */
	cmdq_append_at_until(cmdq_session, line, source, &client, p->site,
	    user, has_expires, (int64_t)expires);
	free(user);
	free(source);
	session_log(s, SB_LOG_INFO, "%s asks %s: %s", from, p->site->name,
	    line);
}

/* Site `from` asks us to run a command. */
void
remote_command(struct sb_plugin *p, const char *from, uint64_t id,
    const char *line)
{
	struct session *s = p->site->session;
	struct remote_records *rs;
	struct remote_record *r;
	char *end, *path, entry[256], why[160];
	long long expires = 0;
	int has_expires = 0, seen;
	int64_t now;

	if (remote_no_console(p, from))
		return;
	/* "+expires=T LINE": not run after session time T */
	if (strncmp(line, REMOTE_EXPIRES, strlen(REMOTE_EXPIRES)) == 0) {
		expires = strtoll(line + strlen(REMOTE_EXPIRES), &end, 10);
		has_expires = 1;
		line = *end == ' ' ? end + 1 : end;
		now = clock_now(&s->clock);
		if (now > expires) {
			snprintf(why, sizeof why, "it reached %s %.1f s after "
			    "its lifetime ended", p->site->name,
			    (now - expires) / 1e6);
			remote_refuse(p, from, id, line, "expired", why);
			return;
		}
	}
	if (s->remote_closed) {
		remote_refuse(p, from, id, line, "quit", "this console is "
		    "quitting");
		return;
	}
	/*
	 * At most once, across console restarts and plugin reloads: a
	 * command runs only once the line that says so is on disk.
	 */
	if ((path = remote_done_path(p->site)) == NULL ||
	    (rs = remote_records_get(s)) == NULL) {
		free(path);
		remote_run(p, from, id, line, has_expires, expires);
		return;
	}
	snprintf(entry, sizeof entry, "%s %llu\n", from,
	    (unsigned long long)id);
	/* (the file is read by the thread: the disk may be slow) */
	pthread_mutex_lock(&rs->lock);
	seen = remote_seen_pending(rs, path, entry);
	pthread_mutex_unlock(&rs->lock);
	if (seen) {
		free(path);
		snprintf(why, sizeof why, "%s has command %llu from %s "
		    "already, on its way to run (it arrived twice)",
		    p->site->name, (unsigned long long)id, from);
		remote_refuse(p, from, id, line, "duplicate", why);
		return;
	}
	r = xcalloc(1, sizeof *r);
	r->site = p->site;
	r->plugin = p;
	r->from = xstrdup(from);
	r->line = xstrdup(line);
	r->path = path;
	r->entry = xstrdup(entry);
	r->id = id;
	r->has_expires = has_expires;
	r->expires = expires;
	pthread_mutex_lock(&rs->lock);
	*rs->todo_tail = r;
	rs->todo_tail = &r->next;
	pthread_cond_signal(&rs->cond);
	pthread_mutex_unlock(&rs->lock);
}

/*
 * Are remote commands waiting for their note? The stream cursors, which
 * cover the control messages that brought them, wait too: written first,
 * a crash would leave them past a command that neither ran nor was
 * noted, and the relay would never hand it over again.
 */
int
remote_notes_pending(struct session *s)
{
	struct remote_records *rs = s->remote_records;
	int pending;

	if (rs == NULL)
		return 0;
	pthread_mutex_lock(&rs->lock);
	pending = rs->todo != NULL;
	pthread_mutex_unlock(&rs->lock);
	return pending;
}

/* Run the commands whose record is on disk (engine thread). */
void
remote_run_recorded(struct session *s)
{
	struct remote_records *rs = s->remote_records;
	struct remote_record *r, *list;
	char why[200];
	int64_t now;

	if (rs == NULL)
		return;
	pthread_mutex_lock(&rs->lock);
	list = rs->done;
	rs->done = NULL;
	rs->done_tail = &rs->done;
	pthread_mutex_unlock(&rs->lock);
	while ((r = list) != NULL) {
		list = r->next;
		now = clock_now(&s->clock);
		if (!remote_plugin_loaded(r)) {
			session_log(s, SB_LOG_WARNING, "command from %s not "
			    "run: the link it came through was unloaded: %s",
			    r->from, r->line);
		} else if (r->duplicate) {
			snprintf(why, sizeof why, "%s ran command %llu from %s "
			    "already (a console restarted)", r->site->name,
			    (unsigned long long)r->id, r->from);
			remote_refuse(r->plugin, r->from, r->id, r->line,
			    "duplicate", why);
		} else if (r->unnoted || (r->has_expires && now > r->expires)) {
			snprintf(why, sizeof why, "its lifetime ended %.1f s "
			    "before %s could note on disk that it runs it (a "
			    "slow disk, or a busy console: give more time with "
			    "at -t SECONDS)", (now - r->expires) / 1e6,
			    r->site->name);
			remote_refuse(r->plugin, r->from, r->id, r->line,
			    "expired", why);
		} else {
			if (r->record_errno != 0)
				session_log(s, SB_LOG_WARNING, "could not note "
				    "command %llu from %s as run in %s (%s): "
				    "it runs, but a restart may run it again",
				    (unsigned long long)r->id, r->from,
				    r->path, strerror(r->record_errno));
			remote_run(r->plugin, r->from, r->id, r->line,
			    r->has_expires, r->expires);
		}
		remote_record_free(r);
	}
}

/* Send line to target through tr; the answer goes to item or fn. */
static int
remote_send_via(struct session *s, struct transport *tr, const char *target,
    const char *line, struct cmdq_item *item,
    void (*fn)(struct session *, struct site *, int, const char *),
    char **cause)
{
	struct remote_wait *w;
	uint64_t id;
	char *stamped;
	int rc;

	if (tr == NULL || tr->ops.command == NULL) {
		xasprintf(cause, "no relay link to reach '%s' (load the relay "
		    "plugin first)", target);
		return -1;
	}
	id = ((uint64_t)clock_mono_us() << 16) ^ ++s->next_remote_id;
	xasprintf(&stamped, "%s%lld %s", REMOTE_EXPIRES,
	    (long long)(clock_now(&s->clock) + s->remote_lifetime_us), line);
	rc = tr->ops.command(tr->data, target, id, stamped, cause);
	free(stamped);
	if (rc != 0)
		return -1;
	s->remote_waits = xreallocarray(s->remote_waits, s->nremote_waits + 1,
	    sizeof *s->remote_waits);
	w = &s->remote_waits[s->nremote_waits++];
	w->id = id;
	w->item = item;
	w->fn = fn;
	/*
	 * The answer is awaited REMOTE_TIMEOUT_US, or for a longer lifetime
	 * (at -t) as long as the command may still run there and
	 * REMOTE_ANSWER_US more: one that could still run is never called
	 * unknown before its lifetime is over.
	 */
	w->deadline_mono_us = clock_mono_us() +
	    (s->remote_lifetime_us + REMOTE_ANSWER_US > REMOTE_TIMEOUT_US ?
	    s->remote_lifetime_us + REMOTE_ANSWER_US : REMOTE_TIMEOUT_US);
	w->sent_mono_us = clock_mono_us();
	w->target = xstrdup(target);
	if (item != NULL)
		cmdq_item_hold(item);
	return 0;
}

/* Send a command to another site; item waits for the result. */
int
remote_send(struct session *s, const char *target, const char *line,
    struct cmdq_item *item, char **cause)
{
	struct transport *tr = NULL;
	size_t i;

	if (s->current != NULL && !s->current->remote)
		tr = engine_site_transport(s->current);
	for (i = 0; tr == NULL && i < s->nsites; i++)
		if (!s->sites[i]->remote)
			tr = engine_site_transport(s->sites[i]);
	return remote_send_via(s, tr, target, line, item, NULL, cause);
}

/* Drop wait i. */
static void
remote_wait_remove(struct session *s, size_t i)
{
	free(s->remote_waits[i].target);
	s->remote_waits[i] = s->remote_waits[--s->nremote_waits];
}

/* The result of a command we sent. */
void
remote_result(struct sb_plugin *p, uint64_t id, int status, const char *text)
{
	struct session *s = p->site->session;
	struct remote_wait *w;
	struct site *site;
	const char *line, *nl;
	size_t i;
	char *one;

	for (i = 0; i < s->nremote_waits; i++)
		if (s->remote_waits[i].id == id)
			break;
	if (i == s->nremote_waits) {
		/* an earlier console's, or one given up on: say it quietly */
		session_log(s, SB_LOG_INFO, "%s: a result for command %llu, "
		    "which this console is not waiting for: %s", p->name,
		    (unsigned long long)id, text != NULL ? text : "");
		return;
	}
	w = &s->remote_waits[i];
	if (w->fn != NULL) {
		w->fn(s, site_find(s, w->target), status, text != NULL ? text :
		    "");
		remote_wait_remove(s, i);
		return;
	}
	/* a typed 'at SITE ...': there and back */
	if ((site = site_find(s, w->target)) != NULL)
		latency_add(&site->lat_remote, clock_mono_us() -
		    w->sent_mono_us, clock_mono_us());
	for (line = text != NULL ? text : ""; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		one = nl ? xstrndup(line, (size_t)(nl - line)) : xstrdup(line);
		if (status == 0)
			cmdq_item_reply(w->item, "%s: %s", w->target, one);
		else
			cmdq_item_error(w->item, "%s: %s", w->target, one);
		free(one);
		if (nl == NULL)
			break;
	}
	if (status != 0 && (text == NULL || *text == '\0'))
		cmdq_item_error(w->item, "%s: the command failed", w->target);
	cmdq_item_release(w->item);
	remote_wait_remove(s, i);
}

/* Fail overdue remote commands. */
void
remote_expire(struct session *s)
{
	int64_t now = clock_mono_us();
	size_t i = 0;

	while (i < s->nremote_waits) {
		struct remote_wait *w = &s->remote_waits[i];

		if (now < w->deadline_mono_us) {
			i++;
			continue;
		}
		if (w->item != NULL) {
			cmdq_item_error(w->item, "no answer from %s within "
			    "%.0f s: outcome unknown (is its console running "
			    "and linked?)", w->target,
			    (w->deadline_mono_us - w->sent_mono_us) / 1e6);
			cmdq_item_release(w->item);
		}
		remote_wait_remove(s, i);
	}
}

/* Free the waits (at exit). */
void
remote_free_all(struct session *s)
{
	remote_quit(s);
	while (s->nremote_waits > 0)
		remote_wait_remove(s, 0);
	free(s->remote_waits);
	s->remote_waits = NULL;
}

/*
 * Session time is about to step while backends run (the relay's clock was
 * known late, the host was suspended, the relay's session started a new
 * life): a mark in the logs says where rows change clocks, and by how much.
 */
static void
remote_clock_mark(struct session *s, struct sb_plugin *p, int64_t step,
    int64_t uncertainty_us)
{
	char *msg, *mark;

	xasprintf(&msg, "session time stepped %s %.6f s (+/- %.3f ms) at "
	    "%.6f s of the old clock: rows before this mark are %s the "
	    "relay's clock by that much", step > 0 ? "forward" : "back",
	    (double)(step > 0 ? step : -step) / 1e6,
	    (double)uncertainty_us / 1000.0,
	    (double)clock_now(&s->clock) / 1e6, step > 0 ? "behind" :
	    "ahead of");
	session_log(s, SB_LOG_WARNING, "clock: %s", msg);
	engine_audit(s, p->site->name, p->name, "clock", "step", msg);
	xasprintf(&mark, "clock step %+.3f s", (double)step / 1e6);
	s->marks = xreallocarray(s->marks, s->nmarks + 1, sizeof *s->marks);
	s->marks[s->nmarks++] = mark;
	s->clock_steps++;
	s->dirty = 1;
	free(msg);
}

/* A step back not taken while backends run: said once per step. */
static void
remote_clock_kept(struct session *s, struct sb_plugin *p, int64_t step)
{
	char *msg;

	if (s->clock_kept_us != 0 && llabs(step - s->clock_kept_us) < 1000000)
		return;
	s->clock_kept_us = step;
	xasprintf(&msg, "the relay's session clock is now %.3f s behind this "
	    "console's (its session started a new life, or it restarted "
	    "after a reboot with its wall clock behind): this console keeps "
	    "its session time so that its backends run on and its rows stay "
	    "in order; its link shows the disagreement; restart the console "
	    "to join the relay's clock", (double)-step / 1e6);
	session_log(s, SB_LOG_WARNING, "clock: %s", msg);
	engine_audit(s, p->site->name, p->name, "clock", "kept", msg);
	s->dirty = 1;
	free(msg);
}

/*
 * The relay's clock: local monotonic + offset = session time. A step while
 * backends run is applied with a mark, never refused: a console that
 * refused it would stamp the rest of its run on a clock known to be wrong.
 */
void
remote_clock_update(struct sb_plugin *p, int64_t offset_us,
    int64_t uncertainty_us)
{
	struct session *s = p->site->session;
	int64_t target = offset_us + s->clock.origin_us, step;
	size_t i, j;
	int running = 0;

	step = target - s->clock.offset_us;
	/* a worse estimate that says nothing new is not taken */
	if (s->clock_synced && uncertainty_us > s->clock_uncertainty_us * 2 &&
	    uncertainty_us > 1000 && llabs(step) <= uncertainty_us +
	    s->clock_uncertainty_us)
		return;
	for (i = 0; i < s->nsites; i++)
		for (j = 0; j < s->sites[i]->npops; j++)
			if (s->sites[i]->pops[j] != NULL &&
			    s->sites[i]->pops[j]->running)
				running = 1;
	if (running && step < -REMOTE_MAX_STEP_US) {
		/*
		 * Back, while backends run: following would stamp rows out
		 * of order and stall every model until the clock passes its
		 * time again. This console keeps its session time; the link
		 * shows the disagreement.
		 */
		remote_clock_kept(s, p, step);
		return;
	}
	s->clock_kept_us = 0;
	if (running && step > REMOTE_MAX_STEP_US) {
		remote_clock_mark(s, p, step, uncertainty_us);
		/* backends go on in their own time: no interval to make up */
		__atomic_add_fetch(&s->backend_shift_us, step,
		    __ATOMIC_RELAXED);
	}
	clock_set_offset(&s->clock, target);
	s->clock_uncertainty_us = uncertainty_us;
	s->clock_synced = 1;
}
