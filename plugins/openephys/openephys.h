/*
 * openephys.h: the Open Ephys GUI as a neurons plugin: spikes from its
 * Event Broadcaster, acquisition control and status through its HTTP
 * server, stimulation through its Network Events plugin (TTL lines) or
 * broadcast messages (ACQBOARD TRIGGER, RHS STIM_*).
 *
 * Written from the protocol facts in hardware/acquisition-systems.md
 * section 2 (the GUI, its HTTP API and plugins are GPL-3: no upstream code
 * is used). Facts the notes mark unconfirmed, and readings of our own, are
 * marked INFERRED where they are used; each is a named constant or one
 * small function so that it changes in one place.
 *
 * What is confirmed by the notes:
 * - HTTP on 37497: GET/PUT /api/status {"mode":"IDLE"|"ACQUIRE"|"RECORD"}
 *   (PUT blocks until applied), GET /api/processors (the signal chain),
 *   PUT /api/message {"text":...} broadcast to every processor while
 *   acquiring; a bad body gets HTTP 400;
 * - Event Broadcaster: a ZMQ PUB (default port 5557, moved to the next
 *   free port if taken); two frames per message, a uint16 in host order
 *   (0 TTL, 1 spike; little-endian on x86) and JSON with event_type,
 *   stream, source_node, sample_rate, sample_number and, for spikes,
 *   electrode, num_channels, sorted_id, amp1..ampN, for TTLs
 *   channel_name, line, state;
 * - Network Events: a ZMQ REP (default 5556) taking plain text,
 *   "TTL Line=<1..256> State=<0|1>" answered "TTLHandled: Line=n State=s"
 *   (queued only while acquiring; "InvalidChannel" out of range,
 *   "NotHandled" for what it does not know), every string also broadcast
 *   to the processors; a TTL is stamped at the next processed block;
 * - broadcasts "ACQBOARD TRIGGER <line 1..8> <ms 10..5000>",
 *   "RHS STIM_TRIGGER <stream> <chan 0..15> <din 0..7>" and
 *   "RHS STIM_SHAPE <stream> <chan> <pulses 0..10> <shape>".
 *
 * Threads: one sb-devlink thread per instance owns the HTTP client (curl
 * multi, never blocking while up), the SUB and REQ sockets and emits the
 * spikes; the engine thread only queues (stimulate, synaptic_input) and
 * reads counters (health, poll). Log lines from the link thread go through
 * sb-devlink's queue.
 */
#ifndef OPENEPHYS_H
#define OPENEPHYS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "synbridge-plugin.h"
#include "sb-devlink.h"

#define OE_NAME "openephys"

/* Defaults the notes confirm. */
#define OE_HTTP_PORT 37497
#define OE_EVENTS_PORT 5557		/* Event Broadcaster */
#define OE_NETWORK_EVENTS_PORT 5556	/* Network Events */
#define OE_FRAME_TTL 0
#define OE_FRAME_SPIKE 1
#define OE_NE_LINES 256			/* TTL Line=1..256 */
#define OE_ACQBOARD_LINES 8		/* ACQBOARD TRIGGER 1..8 */
#define OE_ACQBOARD_MIN_MS 10
#define OE_ACQBOARD_MAX_MS 5000
#define OE_RHS_CHANNELS 16		/* RHS STIM_* chan 0..15 */
#define OE_RHS_DINS 8			/* din 0..7 */
#define OE_RHS_MAX_PULSES 10

/*
 * INFERRED: how the JSON of GET /api/processors names things. The notes
 * say only "signal chain, streams, parameters". The plugin walks the
 * whole document for objects whose "name" contains these words (case
 * does not matter), takes their "id" if any, and their port from a
 * "port"/"data_port" member or from a parameter of that name (a
 * "parameters" array or object, value as a number or digits). Not
 * finding them is a warning, never fatal: the ports given (or the
 * defaults) are tried anyway.
 */
#define OE_PROC_EVENT_BROADCASTER "event broadcaster"
#define OE_PROC_NETWORK_EVENTS "network events"
#define OE_PROC_ACQ_BOARD_1 "acquisition board"	/* for ACQBOARD */
#define OE_PROC_ACQ_BOARD_2 "rhythm"	/* older GUIs: "Rhythm FPGA" */

/*
 * INFERRED: what "electrode" holds. The notes name the field, not its
 * type: a number is taken as an index counting from 0, a name (the GUI
 * names electrodes like "Electrode 1") by its last digits, counting from
 * 1. electrode_base= on the load line overrides both.
 */
#define OE_ELECTRODE_BASE_NUMBER 0
#define OE_ELECTRODE_BASE_NAME 1

/*
 * INFERRED: the Network Events reply to a TTL sent while the GUI is not
 * acquiring is not in the notes; the plugin refuses stimulation while
 * the GUI is IDLE rather than find out.
 */

/* Limits. */
#define OE_NAME_LEN 64
#define OE_HOST_LEN 256
#define OE_STREAM_LEN 64
#define OE_JSON_MAX (64 << 10)		/* bytes of one message (ZMQ cap) */
#define OE_RECV_HWM 10000		/* messages queued in the SUB */
#define OE_HTTP_BODY_MAX (4 << 20)	/* bytes of one HTTP reply */
#define OE_RECV_BATCH 512		/* messages read per wake-up */
#define OE_WORK_WAIT_MS 200		/* longest wait in the link thread */
#define OE_STIM_QUEUE 64		/* stimulations waiting */
#define OE_MESSAGES 64			/* broadcast messages waiting */
#define OE_MESSAGE_LEN 96
#define OE_CLOCK_STREAMS 8		/* streams mapped at once */
#define OE_CLOCK_BUCKETS 32		/* 1 s windows kept for the fit */
#define OE_CLOCK_BUCKET_US 1000000
#define OE_CLOCK_MAX_PPM 1000.0		/* beyond: not a clock, clamp */
#define OE_STATUS_MISSES 2		/* status polls lost before down */
#define OE_NE_RETRIES 3			/* a TTL off re-sent at most */

/* Where stimulation goes. */
enum oe_stim_path {
	OE_STIM_AUTO,		/* what the processor list shows */
	OE_STIM_NETWORK_EVENTS,	/* TTL Line= State= on the REQ socket */
	OE_STIM_BROADCAST,	/* PUT /api/message ACQBOARD TRIGGER */
	OE_STIM_NONE,
};

/* The GUI's mode. */
enum oe_mode { OE_MODE_UNKNOWN, OE_MODE_IDLE, OE_MODE_ACQUIRE, OE_MODE_RECORD };

/* What a load line configures (oe-config.c). */
struct oe_config {
	char name[OE_NAME_LEN];
	char host[OE_HOST_LEN];
	uint32_t http_port;
	uint32_t events_port, network_events_port;
	int events_port_given, network_events_port_given;
	uint32_t electrodes;
	uint32_t sorted;	/* units per electrode; 1: sorted ids merged */
	int electrode_base;	/* -1: by type (see above) */
	char stream[OE_STREAM_LEN];	/* "": every stream */
	uint32_t units;		/* electrodes * sorted */
	enum oe_stim_path stim;
	uint32_t ttl_line;	/* every unit's line, or 0 with ttl_lines= */
	uint32_t *unit_line;	/* units entries: line, 0 = not stimulable */
	double stim_amplitude;	/* what the stimulator delivers */
	uint32_t min_width_us, max_width_us;
	uint32_t syn_width_us;	/* width at weight 255; 0: no synaptic input */
	uint32_t syn_min_weight;
	uint32_t evoked_ms;	/* spikes this soon after a stim: evoked */
	int control;		/* start and stop acquisition */
	int rhs;		/* send RHS STIM_* set-up */
	uint32_t rhs_stream, rhs_pulses;
	char rhs_shape[32];
	uint32_t timeout_ms, heartbeat_ms, start_timeout_ms;
	uint32_t backoff_max_ms;
};

int oe_config_parse(struct oe_config *c, const struct sb_host_api *host,
    struct sb_plugin *p, char **cause);
void oe_config_free(struct oe_config *c);
const char *oe_stim_path_name(enum oe_stim_path path);

/*
 * One Event Broadcaster message, checked (oe-event.c). Causes of refusal
 * are numbered so that each is logged once.
 */
enum oe_cause {
	OE_BAD_FRAMES,		/* not two frames */
	OE_BAD_TYPE_FRAME,	/* the first frame is not 2 bytes */
	OE_BAD_TYPE,		/* neither 0 nor 1 */
	OE_BAD_JSON,		/* does not parse */
	OE_BAD_OBJECT,		/* not a JSON object */
	OE_BAD_EVENT_TYPE,	/* event_type missing or not the frame's */
	OE_BAD_FIELD,		/* + enum oe_field: missing or wrong type */
	OE_RANGE_ELECTRODE = OE_BAD_FIELD + 16,
	OE_RANGE_SORTED,
	OE_OTHER_STREAM,
	OE_NOT_STARTED,
	OE_EMIT_FULL,
	OE_STATUS_BAD,		/* /api/status reply */
	OE_PROCESSORS_BAD,	/* /api/processors reply */
	OE_NO_BROADCASTER,
	OE_NO_NETWORK_EVENTS,
	OE_BROADCASTER_PORT,
	OE_NE_PORT,
	OE_NE_REPLY,		/* a reply that is no answer */
	OE_NE_INVALID,
	OE_NE_NOT_HANDLED,
	OE_NE_TIMEOUT,
	OE_MESSAGE_FAILED,
	OE_STIM_QUEUE_FULL,
	OE_SYN_BUSY,
	OE_SYN_REFUSED,
	OE_SYN_QUEUE,
	OE_EB_NOT_CONNECTED,
	OE_CLOCK_RESET,
	OE_NCAUSES
};

enum oe_field {
	OE_F_STREAM, OE_F_SOURCE_NODE, OE_F_SAMPLE_RATE, OE_F_SAMPLE_NUMBER,
	OE_F_ELECTRODE, OE_F_NUM_CHANNELS, OE_F_SORTED_ID, OE_F_AMP,
	OE_F_CHANNEL_NAME, OE_F_LINE, OE_F_STATE, OE_NFIELDS
};

enum oe_event_kind { OE_EV_TTL = OE_FRAME_TTL, OE_EV_SPIKE = OE_FRAME_SPIKE };

struct oe_event {
	enum oe_event_kind kind;
	char stream[OE_STREAM_LEN];
	int64_t source_node;
	double sample_rate;
	int64_t sample_number;
	/* spikes */
	uint32_t electrode;	/* as the GUI numbers it */
	int electrode_named;	/* it came as a name, not a number */
	uint32_t num_channels;
	uint32_t sorted_id;
	/* TTLs */
	uint32_t line;
	int state;
};

const char *oe_field_name(enum oe_field f);
int oe_event_parse(const void *type_frame, size_t type_len, const char *json,
    size_t json_len, struct oe_event *ev, char *why, size_t why_len);
int oe_event_unit(const struct oe_config *c, const struct oe_event *ev,
    uint32_t *unit, char *why, size_t why_len);

/*
 * Sample numbers to session time (oe-clock.c), per stream. The offset is
 * the lower envelope of (arrival - sample / rate): an event cannot arrive
 * before it happened, so the least delayed arrivals tell the offset (as
 * NTP's minimum filter). Minima of 1 s windows over the last 32 s are fit
 * with a line, whose slope is the drift between the GUI's sample clock
 * and ours (clamped to +-1000 ppm); until 3 windows span 2 s the offset
 * is their minimum and the drift 0. A stream whose sample numbers go back
 * by more than a second, or whose rate changes, starts over, as does
 * every stream when the GUI starts acquiring again.
 */
struct oe_clock_bucket {
	int64_t index;		/* window number since the stream's start */
	double x_us;		/* sample time of the least delayed event */
	double d_us;		/* its arrival - sample time */
};

struct oe_clock_stream {
	char name[OE_STREAM_LEN];
	int used;
	double rate;
	double base_x_us;	/* sample time of the first event */
	int64_t last_sample;
	struct oe_clock_bucket b[OE_CLOCK_BUCKETS];
	unsigned nb, next;
	double offset_us, drift;	/* the fit: d = offset + drift (x - base) */
	int64_t last_use;
};

struct oe_clock {
	struct oe_clock_stream s[OE_CLOCK_STREAMS];
	int64_t uses;
	uint64_t resets;
};

void oe_clock_reset(struct oe_clock *c);
int64_t oe_clock_map(struct oe_clock *c, const char *stream, double rate,
    int64_t sample, int64_t arrival_us, int *reset);
double oe_clock_drift_ppm(const struct oe_clock *c);

/* The HTTP client (oe-http.c): at most one request of each kind. */
enum oe_req_kind {
	OE_REQ_STATUS,		/* GET /api/status (heartbeat) */
	OE_REQ_PROCESSORS,	/* GET /api/processors */
	OE_REQ_MODE,		/* PUT /api/status */
	OE_REQ_MESSAGE,		/* PUT /api/message */
	OE_NREQ
};

struct oe_http_req {
	void *easy;		/* CURL * */
	int busy, done;
	char *body;		/* the reply, NUL-terminated */
	size_t len;
	int overflow;
	char *put;		/* the request body */
	void *hdrs;		/* struct curl_slist * */
	long code;
	int result;		/* CURLcode */
	char error[256];
	uint32_t timeout_ms;
};

struct oe_http {
	void *multi;		/* CURLM * */
	char base[OE_HOST_LEN + 32];	/* http://host:port */
	struct oe_http_req req[OE_NREQ];
};

int oe_http_init(struct oe_http *h, const char *host, uint32_t port,
    char **cause);
void oe_http_free(struct oe_http *h);
void oe_http_cancel(struct oe_http *h);
int oe_http_start(struct oe_http *h, enum oe_req_kind kind, const char *path,
    const char *put_json, uint32_t timeout_ms);
int oe_http_busy(struct oe_http *h, enum oe_req_kind kind);
void oe_http_perform(struct oe_http *h);
int oe_http_wait_fds(struct oe_http *h, int *fds, short *events, int max,
    long *timeout_ms);
int oe_http_result(struct oe_http *h, enum oe_req_kind kind, long *code,
    const char **body, char *err, size_t err_len);
int oe_http_refused(struct oe_http *h, enum oe_req_kind kind);
int oe_http_run(struct oe_http *h, enum oe_req_kind kind, const char *path,
    const char *put_json, uint32_t timeout_ms, volatile int *stopping,
    long *code, const char **body, char *err, size_t err_len);

/* The GUI's replies (oe-api.c), pure. */
struct oe_processors {
	int broadcaster, network_events, acq_board;	/* found */
	int64_t broadcaster_id, network_events_id;
	uint32_t broadcaster_port, network_events_port;	/* 0: not said */
	unsigned count;
};

int oe_api_mode(const char *body, enum oe_mode *mode, char *why, size_t len);
const char *oe_mode_name(enum oe_mode mode);
int oe_api_processors(const char *body, struct oe_processors *pr, char *why,
    size_t len);
int oe_api_ne_reply(const char *reply, uint32_t line, int state, char *why,
    size_t len);
char *oe_api_json_text(const char *key, const char *value);

/* One stimulation waiting for the link thread. */
struct oe_pulse {
	uint32_t unit, line, width_us;
	int synaptic;
};

/* One TTL line as the link thread drove it. */
struct oe_ttl_line {
	int high;		/* switched on, not yet off */
	int64_t off_due_us;	/* mono: when to switch it off */
	unsigned off_tries;
};

/* One broadcast message waiting (ACQBOARD TRIGGER, RHS set-up). */
struct oe_message {
	char text[OE_MESSAGE_LEN];
	int is_pulse;
	struct oe_pulse pulse;
};

/* The Network Events conversation (one request at a time). */
struct oe_ne_request {
	int active;
	uint32_t line;
	int state;
	uint32_t unit, width_us;
	int synaptic;
	unsigned tries;
	int64_t deadline_us;	/* mono */
};

/* One loaded instance. */
struct openephys {
	struct sb_neurons neurons;
	struct sb_link link;
	const struct sb_host_api *host;
	struct sb_plugin *p;
	struct oe_config cfg;
	struct sb_devlink dl;
	int dl_ready;

	/* session time = CLOCK_MONOTONIC + offset (set by the engine) */
	int64_t clock_offset_us;

	/* the emitter, while started */
	pthread_mutex_t em_lock;
	struct sb_emitter *em;

	/* acquisition control (engine writes, link reads) */
	int want_acquire;	/* the population is started */
	uint64_t start_gen;	/* bumped by every start() */
	int idle_wanted;	/* stop(): return the GUI to IDLE */
	pthread_mutex_t stop_lock;
	pthread_cond_t stop_cond;
	int idle_done;

	/* the link thread's own (no lock) */
	struct oe_http http;
	void *zctx, *sub, *req, *mon;	/* ZMQ */
	char mon_endpoint[64];
	struct oe_clock clock;
	uint64_t acquire_gen;	/* start_gen acquisition was asked for */
	int we_started;		/* this link put the GUI in ACQUIRE */
	enum oe_mode mode_asked;	/* by the PUT /api/status in flight */
	int64_t next_status_us;
	unsigned status_misses;
	int eb_dropped;		/* the SUB lost its connection since the last
				   status poll (the GUI may have restarted) */
	struct oe_ne_request ne;
	struct oe_ttl_line *lines;	/* TTL lines 1..256 (link thread) */
	struct oe_message messages[OE_MESSAGES];	/* to broadcast */
	unsigned mhead, mlen;
	int message_in_flight;
	struct oe_message message_current;
	int rhs_sent;		/* set-up sent in this acquisition */

	/* shared between the threads */
	pthread_mutex_t lock;
	struct oe_pulse queue[OE_STIM_QUEUE];
	unsigned qhead, qlen;
	int64_t *line_busy_until;	/* mono, per line (engine thread) */
	int64_t *unit_stim_us;	/* session time of each unit's last stim */
	enum oe_mode mode;	/* the GUI's, as last read */
	enum oe_stim_path path;	/* resolved */
	uint32_t eb_port, ne_port;	/* in use */
	int eb_connected;
	int eb_found, ne_found;
	uint64_t causes_seen;	/* bit per enum oe_cause */
	uint64_t ttl_in, stims, syn_stims;
	int64_t drift_ppb;	/* of the stream used last (atomic) */
	unsigned attempts;	/* connections that failed (atomic) */
};

/* oe-link.c: the link's steps. */
extern const struct sb_devlink_ops oe_link_ops;
int64_t oe_session_now(struct openephys *oe);
void oe_cause_once(struct openephys *oe, enum oe_cause cause,
    enum sb_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void oe_detail(struct openephys *oe, char *buf, size_t len);

/* oe-stim.c: stimulation (engine thread queues, link thread sends). */
int oe_stim_check(struct openephys *oe, uint32_t unit, double amplitude,
    uint32_t width_us, uint32_t *line, char **cause);
int oe_stim_queue(struct openephys *oe, const struct oe_pulse *pulse,
    char **cause);
uint32_t oe_stim_synaptic_width(const struct oe_config *c,
    enum oe_stim_path path, unsigned weight);
void oe_stim_work(struct openephys *oe, int64_t now_us);
int64_t oe_stim_next_due(struct openephys *oe);
void oe_stim_ne_receive(struct openephys *oe);
void oe_stim_message_done(struct openephys *oe, long code, const char *err);
void oe_stim_rhs_setup(struct openephys *oe);
void oe_stim_reset(struct openephys *oe);
int oe_stim_ne_open(struct openephys *oe);
void oe_stim_ne_close(struct openephys *oe);

#endif
