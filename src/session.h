/*
 * session.h: what one synbridge process hosts. A session holds sites; a
 * site holds plugin instances and what they registered (populations,
 * device sets, transports, commands) and the synapses whose devices it owns.
 */
#ifndef SB_SESSION_H
#define SB_SESSION_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "synbridge-plugin.h"
#include "clock.h"
#include "cursor.h"
#include "latency.h"

struct session;
struct site;
struct cmdq;
struct recorder;
struct history;
struct sb_ring;

/* A unit address: site/population:index, resolved to ids. */
struct unit_ref {
	uint16_t site;
	uint16_t pop;
	uint32_t index;
};

/* Where a backend's events go: a ring drained by the engine. */
struct sb_emitter {
	struct session *session;
	uint16_t site, pop;
	struct sb_ring *ring;
	uint64_t dropped;	/* events refused because the ring was full */
	uint64_t dropped_reported;
};

/* One key=value argument given to load. */
struct plugin_arg {
	char *key, *value;
	int used;
};

/* One loaded plugin instance at a site. */
struct sb_plugin {
	char *name;		/* exported name */
	char *path;		/* file it came from */
	struct site *site;
	void *handle;		/* dlopen handle */
	sb_plugin_end_fn end;
	struct plugin_arg *args;
	size_t nargs;
	uint64_t seed;
	int initialised;
};

/* A population registered by a neurons plugin. */
struct population {
	char *name;
	uint16_t id;
	struct site *site;
	struct sb_plugin *owner;
	struct sb_neurons ops;
	void *data;
	void (*free_func)(void *);
	struct sb_emitter emitter;
	pthread_mutex_t lock;	/* serialises calls into the backend */
	pthread_t thread;	/* real-time pacing thread */
	int running, stopping;
	/* synapses by unit: pre_of[i] and post_of[i] lists of synapse ids */
	struct syn_list *pre_of, *post_of;
	uint64_t spikes;
	uint32_t declared_units;	/* remote SITE/POP UNITS (0: none) */
	uint64_t dropped_fields;	/* events with fields not believed */
	int64_t behind_us;	/* how far a slow model lags real time */
	int64_t behind_reported;
};

/* A set of synaptic devices registered by a synapses plugin. */
struct device_set {
	char *name;
	struct site *site;
	struct sb_plugin *owner;
	struct sb_synapses ops;
	void *data;
	void (*free_func)(void *);
};

/* A transport registered by a plugin. */
struct transport {
	struct site *site;
	struct sb_plugin *owner;
	struct sb_transport ops;
	void *data;
	void (*free_func)(void *);
	int sealed;	/* being flushed at quit or unload: takes nothing new */
	/* other sites' spikes: their source time -> delivered here */
	struct latency *lat_arrival;
};

/* A device link registered by a plugin (an instrument, a partner lab). */
struct device_link {
	struct site *site;
	struct sb_plugin *owner;
	struct sb_link ops;
	char *name;
	void *data;
	void (*free_func)(void *);
};

/* A plugin's view of a local population's spikes (e.g. to forward them). */
struct spike_tap {
	struct site *site;
	struct sb_plugin *owner;
	char *population;
	void (*fn)(void *data, const struct sb_event *ev, size_t n);
	void *data;
	void (*free_func)(void *);
};

/* A command registered by a plugin. */
struct plugin_command {
	struct site *site;
	struct sb_plugin *owner;
	struct sb_command ops;
	void *data;
	void (*free_func)(void *);
};

struct syn_list {
	uint32_t *ids;
	uint32_t n, cap;
};

enum rule_kind { RULE_OFF, RULE_RATE, RULE_STDP };

/* Plasticity rule parameters of one synapse. */
struct rule {
	enum rule_kind kind;
	/* rate: on a post spike count pre spikes in the last window_us */
	int64_t window_us;
	unsigned ltp_above, ltd_below;
	/* stdp: pair-based, windows in microseconds */
	int64_t ltp_window_us, ltd_window_us;
	/* pulses */
	double ltp_v, ltd_v;
	uint32_t width_us;
	/* at most one rule pulse per refractory_us */
	int64_t refractory_us;
};

#define SYNAPSE_PRE_HISTORY 100

/* One memristive synapse: a device linking a pre unit to a post unit. */
struct synapse {
	char *name;
	uint32_t id;
	struct site *site;		/* the site that owns the device */
	struct unit_ref pre, post;
	char *pre_name, *post_name;
	struct device_set *dev;
	char *device_spec;
	uint32_t device;
	struct sb_device_limits limits;
	double g_us;			/* last read-back conductance */
	struct rule rule;
	int64_t pre_times[SYNAPSE_PRE_HISTORY];	/* ring of recent pre spikes */
	unsigned pre_head, pre_count;
	int64_t last_post_us, last_rule_us;
	unsigned in_flight;		/* operations queued at the device */
	char last_decision[48];
	uint64_t pre_spikes, post_spikes, ltp, ltd;
	uint64_t rule_refusals;		/* rule pulses the device refused */
	uint64_t unknown_g;		/* pre spikes while G was unknown */
	/* a mirror of another site's synapse (dev == NULL): its id there */
	int mirror;
	uint32_t remote_id;
	/*
	 * Wall-clock latency measured at this console: a pre spike from its
	 * source to the synaptic input at the post unit (where the post unit
	 * is hosted here), and a typed command to the device and back, in
	 * all and beyond the device's own time (where the device is here).
	 */
	struct latency *lat_spike, *lat_command, *lat_overhead;
};

/* One site: a lab's console, with its plugins and streams. */
struct site {
	char *name;
	uint16_t id;
	int remote;		/* another process hosts it (seen via a relay) */
	int64_t described_us;	/* when its synapses were last asked for */
	struct latency *lat_remote;	/* 'at SITE ...' typed here: round trip */
	struct session *session;
	struct sb_plugin **plugins;
	size_t nplugins;
	struct population **pops;
	size_t npops;
	struct device_set **devsets;
	size_t ndevsets;
	struct transport **transports;
	size_t ntransports;
	struct plugin_command **commands;
	size_t ncommands;
	struct device_link **links;
	size_t nlinks;
	struct spike_tap **taps;
	size_t ntaps;
};

typedef void (*session_log_fn)(void *ctx, enum sb_log_level level,
    const char *msg);
/* A view's hook: called by the engine for every event it records. */
typedef void (*session_view_fn)(void *ctx, const struct sb_event *ev);

/* The whole process. */
struct session {
	struct sb_clock clock;
	struct cursor_table cursors;	/* transports' read cursors */
	uint64_t seed;
	int fast;
	int realtime;		/* --realtime priority taken, 0: none */
	struct site **sites;
	size_t nsites;
	struct site *current;
	struct synapse **synapses;
	size_t nsynapses;
	char **plugin_dirs;
	size_t nplugin_dirs;
	struct history *history;
	struct recorder *recorder;
	struct recorder **rec_closing;	/* stopped, still writing their rest */
	size_t nrec_closing;
	int shutting_down;		/* engine_shutdown runs */
	char *log_dir;
	const char *user;
	session_log_fn log_fn;
	void *log_ctx;
	session_view_fn view_fn;	/* the console's view, or NULL */
	void *view_ctx;
	int verbose;
	volatile sig_atomic_t quit;
	uint64_t next_tag;
	/* operations queued at devices, awaiting completion */
	struct pending_op *pending;
	size_t npending, cappending;
	/* marks (text kept here; events carry the index) */
	char **marks;
	size_t nmarks;
	int64_t step_us;	/* fast mode step */
	/* remote commands sent, waiting for their results */
	struct remote_wait *remote_waits;
	size_t nremote_waits;
	uint64_t next_remote_id;
	int64_t remote_lifetime_us;	/* a remote command not run after */
	struct remote_records *remote_records;	/* remote.c, or NULL */
	int remote_records_failed;	/* its thread could not start (said) */
	int remote_closed;		/* quitting: remote_quit ran */
	int64_t clock_uncertainty_us;	/* of the applied relay offset */
	int clock_synced;
	struct cmdq_item *clock_wait;	/* a load waiting for the clock */
	uint64_t clock_steps;		/* steps applied with a mark */
	int64_t clock_kept_us;		/* a step back not taken, said */
	/*
	 * Backends run on their own continuous time: session time minus the
	 * steps applied while they ran (atomic). A step forward is then a
	 * gap in the records, never a stretch of time a model must make up
	 * or a device's clock mapping gone stale.
	 */
	int64_t backend_shift_us;
	int64_t last_links_us;		/* monotonic time of the last links row */
	int64_t last_flush_us;		/* monotonic time of the last log flush */
	int64_t last_state_us;		/* last synapse state published */
	char *flush_error;		/* the recorder's last failure */
	/*
	 * "DIR: why" of the first recording of this run that ended
	 * incomplete (record stop, then another record start): the exit
	 * status says so even when the later recordings are whole.
	 */
	char *record_incomplete;
	int dirty;		/* views need redrawing */
	struct device_set *polling;	/* whose completions are handed over */
	int stopped;		/* the stop button: no pulse or stimulation */
	int closing;		/* quit asked: local events no longer taken */
	uint64_t held_back;	/* synaptic inputs not delivered while stopped */
	/* the load command running a plugin's init, and its last follower */
	struct cmdq_item *load_item, *load_after;
	/* plugins' host->wake: an eventfd the loop polls (-1 if none) */
	int wake_fd;
};

/* A remote command waiting for its result. */
struct remote_wait {
	uint64_t id;
	struct cmdq_item *item;		/* a command waiting, or NULL */
	/* or the console's own question (e.g. describe your synapses) */
	void (*fn)(struct session *s, struct site *from, int status,
	    const char *text);
	int64_t deadline_mono_us;
	int64_t sent_mono_us;
	char *target;
};

/* A device operation waiting for completion. */
struct pending_op {
	uint64_t tag;
	uint32_t synapse;
	uint8_t event;		/* enum cond_event */
	double amplitude_v;
	uint32_t width_us, count;
	double g_before_us;
	struct cmdq_item *item;	/* command waiting on it, or NULL */
	int64_t sent_us;	/* session time the device was asked */
};

/* Conductance event codes (sb_event.aux of SB_EV_CONDUCTANCE). */
enum cond_event {
	COND_POTENTIATE = 1,
	COND_DEPRESS,
	COND_READ,
	COND_RULE_LTP,
	COND_RULE_LTD,
	COND_FAILED,
	COND_STATE,	/* periodic state of a synapse, for other sites */
};
const char *cond_event_name(unsigned event);

struct session *session_create(int fast, uint64_t seed);
void session_free(struct session *s);
void session_log(struct session *s, enum sb_log_level level,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void session_add_plugin_dir(struct session *s, const char *dir);

struct site *site_find(struct session *s, const char *name);
struct site *site_create(struct session *s, const char *name, char **cause);
struct population *site_find_population(struct site *site, const char *name);
struct device_set *site_find_devset(struct site *site, const char *name);
struct population *session_population(struct session *s, uint16_t site,
    uint16_t pop);
/* "site/pop:index" or "pop:index" (at the current site). */
int session_parse_unit(struct session *s, const char *text,
    struct unit_ref *u, char **cause);
/* A population seen through a relay (created if new; units grow). */
struct population *session_remote_population(struct session *s,
    struct site *site, const char *name, uint32_t units);
/* Canonical "site/pop:index". */
char *session_unit_name(struct session *s, const struct unit_ref *u);
/* A site's populations with their sizes, comma separated (malloc'd). */
char *site_population_list(struct site *site);
/* Names of every site, comma separated (for messages). */
char *session_site_names(struct session *s);

/* One link row: its site and its health (name without the site). */
struct session_link_row {
	struct site *site;
	int device;		/* a device link, not the relay's */
	struct transport *tr;	/* the relay's transport, or NULL */
	/*
	 * A transport's rows after its first: another site of the session
	 * as the relay sees it (its console there, what it publishes), not
	 * a network path: its RTT, jitter, offset and loss are NaN.
	 */
	int site_row;
	struct sb_link_health h;
};
/* Every link of every site (relay transports, then device links). */
size_t session_links(struct session *s, struct session_link_row *out,
    size_t max);

/* Rows a console asks of one transport or device link's health(). */
#define SESSION_HEALTH_ROWS 32

/*
 * The last state of each link row a console has shown, to tell its
 * changes in the log (the full-screen console's and the headless one's).
 */
#define LINK_WATCH_MAX 64
struct link_watch {
	struct {
		char name[128];	/* SITE/NAME, as in links.csv */
		int state;	/* enum sb_link_state */
		int been_up;	/* it was up at some time */
	} seen[LINK_WATCH_MAX];
	size_t n;
};

/*
 * Record that the row named name is now in state; returns the state it
 * was in when last given, -1 the first time, or -2 when the table is full
 * (a row past LINK_WATCH_MAX is not followed). *been_up (if not NULL) says
 * whether it had been up before this call.
 */
int link_watch_swap(struct link_watch *w, const char *name, int state,
    int *been_up);

#endif
