/*
 * synbridge-plugin.h: the plugin ABI.
 *
 * A plugin is a shared object that exports four symbols:
 *
 *   const char synbridge_plugin_name[];         its name, e.g. "sim_culture"
 *   const char synbridge_plugin_api_version[];  SB_PLUGIN_API_VERSION
 *   int  synbridge_plugin_init(struct sb_plugin *, const struct sb_host_api *);
 *   void synbridge_plugin_end(struct sb_plugin *);
 *
 * The host compares the API version string before it calls anything.
 * A plugin reaches the host only through the struct sb_host_api passed to
 * init (it never links against host symbols) and registers capabilities
 * with {data, free_func}: from the call on the host owns data and frees it
 * with free_func on failure, on unload and on exit.
 *
 * Strings returned through char **cause are malloc'd; the host frees them.
 * An argument the plugin never asked for with arg() is reported to the user
 * as unknown after init.
 *
 * Threading: the host calls every callback of one capability from one
 * thread at a time. Simulated backends implement advance() and the host
 * paces them (real time in a thread of their own, or faster than real time
 * in lock-step with the engine). Hardware backends implement start/stop
 * and emit from their own threads through sb_host_api.emit (one producer
 * per emitter).
 */
#ifndef SYNBRIDGE_PLUGIN_H
#define SYNBRIDGE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

#define SB_PLUGIN_API_VERSION "synbridge-plugin-3"

/* Event kinds (DESIGN.md: spike, synaptic, conductance, stimulation, mark). */
enum sb_event_kind {
	SB_EV_SPIKE = 1,	/* unit fired */
	SB_EV_SYNAPTIC = 2,	/* weighted event from a synapse to its post unit */
	SB_EV_CONDUCTANCE = 3,	/* a pulse changed (or a read reported) a device's G */
	SB_EV_STIM = 4,		/* stimulation delivered to a unit */
	SB_EV_MARK = 5,		/* a user mark (text kept by the host) */
};

/* Spike aux values (as in the published link format). */
#define SB_SPIKE_SPONTANEOUS 2
#define SB_SPIKE_STIMULATED 1

/*
 * One event: 40 bytes, times in session-clock microseconds.
 * Units are addressed by (site, pop, index); synapses by (site, index) with
 * pop = SB_POP_SYNAPSE.
 */
struct sb_event {
	int64_t t_us;		/* session time, microseconds */
	uint32_t index;		/* unit index, or synapse id */
	uint16_t site;		/* site id within the session */
	uint16_t pop;		/* population id within the site */
	uint8_t kind;		/* enum sb_event_kind */
	uint8_t aux;		/* spike: SB_SPIKE_*; synaptic: weight 0-255 */
	uint16_t count;		/* conductance/stim: pulse count */
	uint32_t width_us;	/* conductance/stim: pulse width */
	float amplitude;	/* conductance/stim: volts */
	float g_before;		/* synaptic: G (uS); conductance: G before */
	float g_after;		/* conductance: G after */
};

#define SB_POP_SYNAPSE 0xffff

struct sb_plugin;	/* one loaded instance, owned by the host */
struct sb_emitter;	/* where a backend sends events */
struct sb_reply;	/* where a command writes its result */

enum sb_log_level { SB_LOG_ERROR, SB_LOG_WARNING, SB_LOG_INFO, SB_LOG_DEBUG };

/* What a population's stimulate() amplitude is in. */
enum sb_stim_unit {
	SB_STIM_VOLTS = 0,	/* voltage-controlled stimulation (default) */
	SB_STIM_MICROAMPS = 1,	/* current-controlled (e.g. Intan RHS) */
};

/* Neurons: a population of spiking units. */
struct sb_neurons {
	const char *name;	/* population name, unique at its site */
	uint32_t units;		/* number of units */
	/* Simulators: run the model up to t_us (session time), emitting spikes. */
	int (*advance)(void *data, int64_t t_us, struct sb_emitter *em);
	/* Hardware: start streaming from own threads; stop joins them. */
	int (*start)(void *data, struct sb_emitter *em, char **cause);
	void (*stop)(void *data);
	/*
	 * Stimulate one unit (an electrode) at t_us; amplitude in stim_unit
	 * (volts unless the population says microamps). Must not emit:
	 * spikes it evokes are emitted by the next advance() (or the
	 * backend's thread).
	 */
	int (*stimulate)(void *data, uint32_t unit, double amplitude,
	    uint32_t width_us, int64_t t_us, char **cause);
	/* A synaptic event for unit: weight 0-255 and conductance in uS. */
	void (*synaptic_input)(void *data, uint32_t unit, unsigned weight,
	    double g_us, int64_t t_us);
	/*
	 * synbridge-plugin-3: what stimulate()'s amplitude is in. The host
	 * refuses `stim -a VOLTS` on a current-controlled population and
	 * `stim -i MICROAMPS` on a voltage-controlled one, naming the other
	 * option; stim_max (> 0: the largest |amplitude| accepted) and
	 * stim_step (> 0: the resolution) are quoted in its messages and
	 * checked by the host. 0 = not stated.
	 */
	enum sb_stim_unit stim_unit;
	double stim_max, stim_step;
	/* the largest stimulation width accepted, us (0: not stated) */
	uint32_t stim_max_width_us;
};

/*
 * How a device's state maps to a synaptic weight 0-255.
 * SB_WEIGHT_FROM_R: 255 (R - Rmin) / (Rmax - Rmin), R = 1/G, the window
 * [Rmin, Rmax] = [1/g_max, 1/g_min]: weight grows with resistance, as the
 * published experiment computed it (arc1_pyqt UDPmod, Rmin 4 k, Rmax 9 k).
 * SB_WEIGHT_FROM_G: 255 (G - g_min) / (g_max - g_min).
 */
enum sb_weight_from { SB_WEIGHT_FROM_G = 0, SB_WEIGHT_FROM_R = 1 };

/* Pulse limits and defaults of one synaptic device. */
struct sb_device_limits {
	double max_abs_v;	/* refuse |amplitude| above this */
	uint32_t max_width_us;	/* refuse width above this */
	uint32_t max_count;	/* refuse more pulses per request */
	/*
	 * Default potentiation and depression amplitudes (volts). Their
	 * signs say which polarity potentiates on this device: the
	 * published experiment potentiated with +4 V (ltp_v > 0, ltd_v < 0).
	 */
	double ltp_v;
	double ltd_v;
	uint32_t width_us;	/* default pulse width */
	double g_min_us;	/* conductance window, for weights and bars */
	double g_max_us;
	uint32_t latency_us;	/* typical time to complete one operation */
	uint32_t min_width_us;	/* refuse width below this (0: no bound) */
	enum sb_weight_from weight_from;
};

/*
 * A completion with this tag reports a reading nobody asked for (e.g. the
 * whole array read again after a reconnect): the host gives it to the
 * synapses on that device and logs it as a read.
 */
#define SB_TAG_UNASKED 0

/* Completion of an asynchronous device operation. */
struct sb_completion {
	uint64_t tag;		/* as passed to pulse() or read() */
	uint32_t device;
	int status;		/* 0 done, -1 failed (message says why) */
	double g_before_us;
	double g_after_us;
	int64_t t_us;		/* when it completed (session time) */
	char message[256];
};
typedef void (*sb_complete_fn)(void *ctx, const struct sb_completion *c);

/* Synapses: addressable devices that take pulses and report conductance. */
struct sb_synapses {
	const char *name;	/* device-set name, unique at its site */
	uint32_t devices;	/* number of devices */
	/* Parse a device address ("w3b5", "17"); 0 or -1 with *cause. */
	int (*address)(void *data, const char *spec, uint32_t *device,
	    char **cause);
	void (*limits)(void *data, uint32_t device, struct sb_device_limits *l);
	/* Queue count pulses; completes later through poll(). */
	int (*pulse)(void *data, uint32_t device, double amplitude_v,
	    uint32_t width_us, uint32_t count, uint64_t tag, char **cause);
	/* Queue a read; completes later through poll(). */
	int (*read)(void *data, uint32_t device, uint64_t tag, char **cause);
	/* Last known conductance in uS (cheap; used on every pre spike). */
	double (*conductance)(void *data, uint32_t device);
	/* Deliver completions due by now_us (session time). */
	void (*poll)(void *data, int64_t now_us, sb_complete_fn fn, void *ctx);
	/*
	 * Optional (NULL: always online). 0 if the device can take
	 * operations now; -1 if not, with why (e.g. "offline: /dev/ttyACM0
	 * unplugged, reconnecting") written into why[len]. Any thread.
	 */
	int (*offline)(void *data, uint32_t device, char *why, size_t len);
	/*
	 * Optional: the stop button. Drop every operation waiting at the
	 * devices (not the one in flight), completing each as failed
	 * ("cancelled by stop"); how many. Engine thread.
	 */
	size_t (*cancel)(void *data);
};

/* Link health, as reported by a transport or a device link. */
enum sb_link_state { SB_LINK_DOWN, SB_LINK_DEGRADED, SB_LINK_UP };
struct sb_link_health {
	char name[64];
	enum sb_link_state state;
	double rtt_ms, rtt_p99_ms, jitter_ms;
	double offset_ms, uncertainty_ms, drift_ppm;
	double loss_pct;
	uint64_t gaps, retransmits, queue;
	double events_per_s;
	double last_batch_age_s;
	/*
	 * Device links (instruments, acquisition systems, UDP partners):
	 * what the relay columns cannot say. A figure that does not apply
	 * or is not known is NaN: loss_pct NaN means loss is unknown (a
	 * protocol without sequence numbers), never 0. events_in_per_s and
	 * events_out_per_s count records or datagrams each way; malformed and
	 * out_of_range are cumulative; detail is free text (the far end's own
	 * state: "RHX running", "board v1.2"), shown after the figures.
	 */
	double events_in_per_s, events_out_per_s;
	uint64_t malformed, out_of_range;
	char detail[160];
};

/*
 * A device link: a connection to an instrument or a partner lab that is
 * not a relay transport. Its rows are shown in the link pane, `link` and
 * links.csv like the relay's. health runs in the engine thread and must
 * not block.
 */
struct sb_link {
	const char *name;
	size_t (*health)(void *data, struct sb_link_health *out, size_t max);
	/*
	 * Optional: called on every engine pass (engine thread, must not
	 * block), where the plugin may hand over what its own threads
	 * received through host->deliver and host->gap, as a transport does.
	 */
	void (*poll)(void *data);
};

/*
 * Transport: carries events, remote commands and their results between
 * this site and the others of the session (through the relay). Streams are
 * named: a population's spikes travel in the stream named after the
 * population ("mea"); synaptic events for a population of another site in
 * "syn:SITE/POP" (index = the post unit, pop = the synapse's id at the
 * sending site or SB_POP_SYNAPSE). Every callback runs in the
 * engine thread and must not block.
 */
struct sb_transport {
	const char *name;
	/*
	 * Queue events that originated at this site for the relay. With n 0
	 * (ev may be NULL) the host declares a stream it will publish: a
	 * transport may make it known to other sites before its first event.
	 */
	int (*send)(void *data, const char *stream, const struct sb_event *ev,
	    size_t n);
	/* Hand what arrived to the host (deliver, gap, remote_*). */
	void (*poll)(void *data);
	/* Fill up to max link rows; returns how many. */
	size_t (*health)(void *data, struct sb_link_health *out, size_t max);
	/* Local CLOCK_MONOTONIC + offset = session time; 0 if known. */
	int (*clock_offset)(void *data, int64_t *offset_us,
	    int64_t *uncertainty_us);
	/* Ask site target to run a command line; the result comes back
	 * through host->remote_result with the same id. */
	int (*command)(void *data, const char *target, uint64_t id,
	    const char *line, char **cause);
	/* Send back the result of a command that site `to` asked us to run. */
	int (*command_result)(void *data, const char *to, uint64_t id,
	    int status, const char *text);
};

/* A console command added by a plugin. */
struct sb_command {
	const char *name;
	const char *usage;
	const char *help;
	int (*exec)(void *data, int argc, char **argv, struct sb_reply *r);
};

/* The host, as plugins see it. Grows only at the end; check size. */
struct sb_host_api {
	uint32_t size;		/* sizeof(struct sb_host_api) of the host */
	void (*log)(struct sb_plugin *p, enum sb_log_level level,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
	/* key=value argument given to load; NULL if absent. */
	const char *(*arg)(struct sb_plugin *p, const char *key);
	const char *(*site)(struct sb_plugin *p);
	/* The seed= argument if given, else one derived from the session. */
	uint64_t (*seed)(struct sb_plugin *p);
	int (*fast)(struct sb_plugin *p);	/* faster than real time? */
	int64_t (*now_us)(struct sb_plugin *p);	/* session clock */
	int (*register_neurons)(struct sb_plugin *p, const struct sb_neurons *n,
	    void *data, void (*free_func)(void *));
	int (*register_synapses)(struct sb_plugin *p,
	    const struct sb_synapses *s, void *data, void (*free_func)(void *));
	int (*register_transport)(struct sb_plugin *p,
	    const struct sb_transport *t, void *data, void (*free_func)(void *));
	int (*register_command)(struct sb_plugin *p, const struct sb_command *c,
	    void *data, void (*free_func)(void *));
	/*
	 * Emit one event. The host fills in site and pop from the emitter;
	 * the plugin sets t_us (session time), kind, index and the rest.
	 * Returns -1 when the ring is full (the host counts a gap).
	 */
	int (*emit)(struct sb_emitter *em, const struct sb_event *ev);
	/* Write one line of a command's result. */
	void (*reply)(struct sb_reply *r, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

	/* Transports (engine thread, from poll()): */
	/* Events of stream at site arrived (times in session time). */
	void (*deliver)(struct sb_plugin *p, const char *site,
	    const char *stream, const struct sb_event *ev, size_t n);
	/* Events of a stream were lost (sequence numbers first..last). */
	void (*gap)(struct sb_plugin *p, const char *site, const char *stream,
	    uint64_t first_seq, uint64_t last_seq, const char *why);
	/* Site `from` asks this site to run a command line. */
	void (*remote_command)(struct sb_plugin *p, const char *from,
	    uint64_t id, const char *line);
	/* The result of a command this site sent (status 0 ok, -1 error;
	 * text holds the result lines, newline separated). */
	void (*remote_result)(struct sb_plugin *p, uint64_t id, int status,
	    const char *text);
	/* Session clock offset estimate changed (transport -> host). */
	void (*clock_update)(struct sb_plugin *p, int64_t offset_us,
	    int64_t uncertainty_us);

	/* synbridge-plugin-3: */
	/* A device link shown beside the relay's links (struct sb_link). */
	int (*register_link)(struct sb_plugin *p, const struct sb_link *l,
	    void *data, void (*free_func)(void *));
	/*
	 * Spikes of this site's populations, as the engine records them
	 * (one call per drained run of events, engine thread, must not
	 * block): for plugins that forward a local population elsewhere,
	 * e.g. to a partner over the RAMP UDP link. population is the name.
	 */
	int (*register_spike_tap)(struct sb_plugin *p, const char *population,
	    void (*fn)(void *data, const struct sb_event *ev, size_t n),
	    void *data, void (*free_func)(void *));
	/*
	 * Only from init: queue a console command line to run right after
	 * the load command, in order, as if the session file held it there
	 * (e.g. the synapses of a connectivity file). Its errors are
	 * reported like the session file's own, prefixed with source (e.g.
	 * "connectivity.txt:12") or, when source is NULL, with the load
	 * line's FILE:LINE. A load that fails takes its queued lines back.
	 * 0, or -1 outside init.
	 */
	int (*queue_command)(struct sb_plugin *p, const char *source,
	    const char *line);

	/*
	 * Also synbridge-plugin-3, for hosts whose size covers them:
	 * where a transport is in the streams it reads, kept durably beside
	 * the recording (LOGDIR/cursors) so that a console restarted on
	 * the same log directory resumes after the last event it recorded.
	 * key names a stream in the transport's own words (at most 400
	 * bytes, no newline); the host scopes it by site and plugin name.
	 * cursor_get: the value stored under key, or 0 (any thread).
	 * cursor_set (engine thread, from poll()): every event handed to
	 * deliver() or gap() before this call is covered by value; the host
	 * writes it only once the rows of those events are written. Without
	 * a recording, values last as long as the console (across unload
	 * and load of the plugin).
	 */
	uint64_t (*cursor_get)(struct sb_plugin *p, const char *key);
	void (*cursor_set)(struct sb_plugin *p, const char *key,
	    uint64_t value);

	/*
	 * Also synbridge-plugin-3, for hosts whose size covers it (any
	 * thread, never blocks): something waits for the plugin's poll() (a
	 * transport's network thread received a batch, a device thread
	 * completed an operation). The host calls poll() at once instead of
	 * at its next tick. Calling it once per empty-to-waiting change is
	 * enough; more calls are harmless.
	 */
	void (*wake)(struct sb_plugin *p);
};

/* What a plugin exports (visible even when built -fvisibility=hidden). */
typedef int (*sb_plugin_init_fn)(struct sb_plugin *, const struct sb_host_api *);
typedef void (*sb_plugin_end_fn)(struct sb_plugin *);
#define SB_EXPORT __attribute__((visibility("default")))
SB_EXPORT extern const char synbridge_plugin_name[];
SB_EXPORT extern const char synbridge_plugin_api_version[];
SB_EXPORT int synbridge_plugin_init(struct sb_plugin *p,
    const struct sb_host_api *host);
SB_EXPORT void synbridge_plugin_end(struct sb_plugin *p);

#define SB_PLUGIN(NAME)							\
	__attribute__((visibility("default")))				\
	const char synbridge_plugin_name[] = NAME;			\
	__attribute__((visibility("default")))				\
	const char synbridge_plugin_api_version[] = SB_PLUGIN_API_VERSION

#endif
