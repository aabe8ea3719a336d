/*
 * intan.h: Intan RHX (RHD recording and RHS stimulation/recording
 * controllers) over its TCP interfaces, as a neurons plugin.
 *
 * Protocol (shared/hardware/acquisition-systems.md section 1, restated from
 * RHX 3.4.0's sources and Intan's examples; no RHX code, which is GPL):
 * - RHX is the server on every port; one client per port: on accept it
 *   stops listening, and when the client leaves the port stays
 *   "Disconnected" (3.4.0: the command port needs a click in RHX again).
 *   So the plugin never closes the command connection on purpose: a
 *   refused setting keeps the link up and degraded with the reason.
 * - Command port (5000): Latin-1 text, case-insensitive, commands ended by
 *   ';' ("set P V", "get P", "execute A [ARG]"). A `get` answers
 *   "Return: P V" with no newline and no length; a `set` answers nothing;
 *   errors are free text. One request is in flight at a time: a write of
 *   commands always ends with a `get` (the probe) whose answer says the
 *   write was read, and any text before it is an error of the commands.
 * - Spike port (5002): a bare stream of 14-byte records: uint32 magic
 *   0x3AE2710F, 5 ASCII bytes of native channel name ("A-010"), uint32
 *   frame timestamp, uint8 id (1 a threshold crossing, 0x80 a likely
 *   artifact), little-endian. RHX starts serving it after `execute
 *   ConnectTCPSpikeDataOutput`.
 * - Both data sockets are written once per TCPNumberDataBlocksPerWrite
 *   blocks of 128 frames: the latency floor is N x 128 / fs.
 * - RHS stimulation: per-channel parameters (`set A-010.StimEnabled true`
 *   ...), `execute UploadStimParameters A-010` (allowed while running),
 *   then `execute ManualStimTriggerPulse F1`, which fires every channel
 *   whose Source is KeyPressF1. Amplitudes are steps of
 *   StimStepSizeMicroAmps, 0..255.
 *
 * What is INFERRED (not confirmed against a real RHX) is marked [U] where
 * the code depends on it, with the constant or function to change.
 *
 * Threads: one link thread (sb-devlink) owns both sockets: it reads spike
 * records whenever it waits (also while a command waits for its answer),
 * emits them, and runs the commands the engine thread queues (run, stop,
 * stimulation). The engine thread never waits on the network.
 */
#ifndef INTAN_H
#define INTAN_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "synbridge-plugin.h"
#include "sb-devlink.h"

#define INTAN_NAME "intan"
#define INTAN_SPIKE_MAGIC 0x3AE2710Fu
#define INTAN_SPIKE_RECORD 14
#define INTAN_SPIKE_ARTIFACT 0x80
#define INTAN_FRAMES_PER_BLOCK 128
#define INTAN_MAX_CHANNELS 1024
#define INTAN_PORTS 8		/* RHX names ports A..H */
#define INTAN_MAX_STEPS 255	/* amplitude = step x 0..255 */
#define INTAN_MAX_PHASE_US 5000	/* First/SecondPhaseDurationMicroseconds */
#define INTAN_STIM_QUEUE 64	/* stimulations waiting for the link */
#define INTAN_REPLY_MAX 4096	/* command-port text kept */
#define INTAN_WRITE_MAX 1024	/* bytes of commands in one write */
#define INTAN_TEXT 256

/*
 * [U] A `get` answer carries no terminator: it is taken as complete when
 * no byte follows it for this long (RHX writes it in one piece; this only
 * guards against a split). Error text without any "Return:" is taken as
 * complete after INTAN_ERROR_QUIET_MS of silence.
 */
#define INTAN_REPLY_QUIET_MS 2
#define INTAN_ERROR_QUIET_MS 50

/* What a load line configures. */
struct intan_config {
	char host[256];
	uint16_t command_port, spike_port;
	uint32_t blocks_per_write;	/* 1..100 */
	unsigned stim_key;		/* F1..F8 as 1..8 */
	int keep_artifacts;
	double syn_stim_ua;		/* weight 255 -> this many uA */
	uint32_t stim_phase_us;		/* width of synaptic stimulation */
	int negative_first;		/* polarity of positive amplitudes */
	uint32_t timeout_ms;		/* an answer later than this: resync */
	uint32_t wait_ms;		/* load waits this for RHX */
	uint32_t backoff_max_ms;
	uint32_t evoked_ms;		/* spikes this soon after: evoked */
	uint32_t status_ms;		/* RunMode asked this often when idle */
	uint32_t retry_ms;		/* a refusal is tried again after */
};

/* channels=: unit index <-> native channel name. */
struct intan_channels {
	uint32_t n;
	char (*names)[6];		/* "A-010" per unit */
	int16_t map[INTAN_PORTS * 1000];	/* port*1000 + number -> unit */
};

/* One spike record as it came. */
struct intan_spike_record {
	char name[6];		/* NUL-terminated copy of the 5 bytes */
	uint32_t timestamp;	/* frame index */
	uint8_t id;
};

/* Reassembles 14-byte records across reads; resynchronises on the magic. */
struct intan_spike_parser {
	uint8_t buf[65536 + INTAN_SPIKE_RECORD];
	size_t len;
	int out_of_step;	/* scanning for the magic */
	uint64_t records;	/* well-formed records */
	uint64_t resyncs;	/* times the stream was found out of step */
	uint64_t skipped;	/* bytes thrown away while out of step */
};

typedef void (*intan_spike_fn)(void *ctx, const struct intan_spike_record *r);

/*
 * Frame timestamps -> CLOCK_MONOTONIC: the minimum-latency line through
 * (frame time, arrival - frame time) with its slope fitted over the last
 * windows (see intan-clock.c).
 */
#define INTAN_CLOCK_WINDOWS 32
#define INTAN_CLOCK_WINDOW_US 4000000LL
struct intan_clock {
	double fs;
	int have;
	uint32_t last_ts;
	int64_t last_ext;	/* frames since the run started, unwrapped */
	int64_t win_start_us;	/* frame time the current window opened */
	double win_min_d, win_min_t;
	struct {
		double t_us, d_us;
	} minima[INTAN_CLOCK_WINDOWS];
	unsigned nminima, head;
	double slope;		/* d drifts by slope us per us of frame time */
	double intercept;	/* d at t = 0 on the lower line */
	uint64_t restarts;	/* the counter went back: a new run */
};

/* Stimulation parameters of one channel, as RHX is told. */
struct intan_stim_params {
	uint16_t steps;		/* amplitude in steps, both phases */
	uint32_t width_us;	/* duration of each phase */
	int negative_first;
};

/* One stimulation waiting for the link thread. */
struct intan_stim_request {
	uint32_t unit;
	struct intan_stim_params p;
	int synaptic;		/* from a weighted synaptic event */
	int64_t queued_us;	/* CLOCK_MONOTONIC */
};

/* What the plugin believes a channel's stimulation settings are in RHX. */
enum intan_stim_known { INTAN_STIM_UNKNOWN, INTAN_STIM_OFF, INTAN_STIM_ON };
struct intan_stim_cache {
	enum intan_stim_known state;
	int set_up;		/* Source, Shape, ... sent since connect */
	struct intan_stim_params p;
};

/* Things that are said once, then at 2, 4, 8, ... times (sb_worth_logging). */
enum intan_cause {
	INTAN_CAUSE_UNASKED,		/* command-port text nobody asked for */
	INTAN_CAUSE_OUT_OF_STEP,	/* spike stream: no magic */
	INTAN_CAUSE_UNKNOWN_CHANNEL,	/* a record for a channel not listed */
	INTAN_CAUSE_BAD_ID,		/* a record with spike id 0 */
	INTAN_CAUSE_ARTIFACT,		/* records flagged 0x80, dropped */
	INTAN_CAUSE_NOT_STARTED,	/* spikes before start() */
	INTAN_CAUSE_RING_FULL,		/* the host refused an event */
	INTAN_CAUSE_SPIKE_LOST,		/* the spike stream closed */
	INTAN_CAUSE_STIM_FAILED,	/* a stimulation not delivered */
	INTAN_CAUSE_SYN_DROPPED,	/* synaptic stimulation not queued */
	INTAN_CAUSE_STEP_CHANGED,	/* RHX's step differs from load time */
	INTAN_CAUSE_BLOCKS,		/* blocks_per_write not taken */
	INTAN_CAUSES
};

/* One loaded RHX. */
struct intan {
	struct sb_neurons pop;
	struct sb_link link;
	char name[32];
	const struct sb_host_api *host;
	struct sb_plugin *p;
	struct intan_config cfg;
	struct intan_channels ch;
	struct sb_devlink dl;

	/* link thread only */
	int cmd_fd, spike_fd;
	char reply[INTAN_REPLY_MAX + 1];
	size_t reply_len;
	int64_t reply_last_us;	/* when the last byte came */
	char peer[64];		/* RHX's address, numeric */
	struct intan_spike_parser parser;
	struct intan_clock clock;
	struct intan_stim_cache *stim;	/* per unit */
	int configured;		/* outputs set and the spike stream armed */
	int64_t next_config_us, next_status_us;
	char problem[INTAN_TEXT];	/* why not configured, or "" */
	int user_stopped;	/* RHX stopped by someone else: leave it */
	int late;		/* an answer timed out: it may still come */
	uint64_t spike_losses, runs_seen;

	/* RHX's state (under lock: read by the engine thread) */
	pthread_mutex_t lock;
	int known;		/* the handshake said what RHX is */
	int rhs;
	char type[48];
	double fs, step_ua;
	char runmode[16];
	int running;		/* RunMode is not Stop */
	int ran_by_us;		/* synbridge set it running */
	uint32_t blocks;	/* RHX's TCPNumberDataBlocksPerWrite */
	double registered_step;	/* the step given to the host */
	int want_run;		/* the population is started */
	struct intan_stim_request queue[INTAN_STIM_QUEUE];
	unsigned qhead, qlen;
	uint64_t stims_failed, syn_dropped, triggers, uploads;

	/* emitting (link thread) vs start/stop (engine thread) */
	pthread_mutex_t em_lock;
	struct sb_emitter *em;
	int64_t clock_offset_us;	/* session - monotonic (atomic) */
	int64_t last_trigger_us;	/* CLOCK_MONOTONIC (atomic) */
	uint64_t causes[INTAN_CAUSES];	/* atomic */
	int spike_up;		/* the spike stream is connected (atomic) */
	int configured_flag;	/* configured, for health (atomic) */
	int last_want;		/* link thread: want_run as last seen */
	int64_t next_run_us;	/* link thread: a refused Run retried then */
};

/* Say something about cause c once, then at 2, 4, 8, ... times (any
 * thread; queued for the engine thread). */
void intan_cause(struct intan *i, enum intan_cause c, enum sb_log_level level,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Format into buf, cutting what does not fit (messages: cut on purpose). */
void intan_format(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* intan-config.c: the load line */
int intan_config_parse(struct intan_config *cfg, struct intan_channels *ch,
    const struct sb_host_api *host, struct sb_plugin *p, char **cause);

/* intan-channels.c: channels= */
int intan_channels_parse(struct intan_channels *ch, const char *spec,
    char **cause);
void intan_channels_free(struct intan_channels *ch);
int intan_channels_name_ok(const char *name);
int intan_channels_unit(const struct intan_channels *ch, const char *name);
void intan_channels_range(const struct intan_channels *ch, uint32_t first,
    uint32_t last, char *buf, size_t len);

/* intan-spike.c: the spike stream */
void intan_spike_reset(struct intan_spike_parser *sp);
uint8_t *intan_spike_space(struct intan_spike_parser *sp, size_t *room);
void intan_spike_parse(struct intan_spike_parser *sp, size_t added,
    intan_spike_fn fn, void *ctx);
void intan_spike_feed(struct intan_spike_parser *sp, const void *data,
    size_t len, intan_spike_fn fn, void *ctx);

/* intan-clock.c: frame timestamps to CLOCK_MONOTONIC */
void intan_clock_reset(struct intan_clock *c, double fs);
int64_t intan_clock_map(struct intan_clock *c, uint32_t timestamp,
    int64_t arrival_us);

/* intan-reply.c: what the command port says */
enum intan_reply {
	INTAN_REPLY_NONE,	/* no answer to the probe yet */
	INTAN_REPLY_VALUE,	/* "Return: NAME VALUE" found */
};
enum intan_reply intan_reply_find(const char *buf, size_t len,
    const char *name, char *value, size_t vlen, char *errors, size_t elen);
int intan_reply_is_error(const char *text);
int intan_reply_number(const char *value, double *out);
int intan_reply_rate(const char *value, double *hz);
int intan_reply_step(const char *value, double *ua);
int intan_reply_bool(const char *value, int *out);
int intan_reply_is_rhs(const char *type);
int intan_reply_is_running(const char *runmode);
size_t intan_reply_printable(const char *in, size_t len, char *out,
    size_t outlen);

/* intan-stim.c: stimulation commands */
int intan_stim_amplitude(double ua, double step, int negative_first,
    struct intan_stim_params *out, char *why, size_t len);
int intan_stim_commands(const char *channel, const struct intan_stim_cache *c,
    const struct intan_stim_params *want, double step, unsigned key,
    char *buf, size_t len);
int intan_stim_off_commands(const char *channel, char *buf, size_t len);

/* intan-net.c: TCP */
int intan_net_connect(const char *host, uint16_t port, uint32_t timeout_ms,
    int wake_fd, char *peer, size_t peerlen, char **cause);

/* intan-rhx.c: the conversation (link thread) */
int intan_rhx_handshake(struct intan *i, char **cause);
int intan_rhx_work(struct intan *i, char **cause);
void intan_rhx_disconnect(struct intan *i);
int intan_rhx_connect(struct intan *i, char **cause);

#endif
