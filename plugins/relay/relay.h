/*
 * relay.h: the relay transport (plugins/relay), a client of synbridge-relay
 * (protocol v1, RELAY-API.md).
 *
 * The engine thread calls send() and poll(); one network thread runs a
 * libcurl multi loop (its socket API over epoll) that publishes, reads,
 * long-polls control messages and probes the relay clock. The pure parts (arguments, the outgoing
 * queue and its acknowledgement bookkeeping, the incremental batch parser,
 * the clock filter and the link health) have no libcurl in them and are
 * unit-tested on their own.
 */
#ifndef SB_RELAY_H
#define SB_RELAY_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "synbridge-plugin.h"
#include "wire.h"

/* Batch flags the relay writes on read streams (see RELAY-API.md). */
#ifndef WIRE_FLAG_GAP
#define WIRE_FLAG_GAP 0x01
#endif
/* A streaming read that brings nothing this long has stalled (the relay
 * sends a keep-alive batch after 2 s of silence by default). */
#define RELAY_STALL_S 7

/*
 * Timeouts that follow the link's round trip (RTT: the clock probes' p99
 * over RELAY_RTT_WINDOW_US, or before any probe, the last TCP
 * handshake). Connecting (TCP, then TLS: 2-3 round trips) gets
 * RELAY_CONNECT_MS, or 3 round trips and 1 s on a longer link. A clock
 * probe gets RELAY_PROBE_MS; on a new connection it takes its handshakes
 * and its request, so on a long link (a satellite hop, 500 ms each way)
 * it gets 4 round trips and 1 s. Before any round
 * trip is known it gets RELAY_PROBE_FIRST_MS. Each is at most
 * RELAY_TIMEOUT_MAX_MS.
 */
#define RELAY_CONNECT_MS 3000
#define RELAY_PROBE_MS 2000
#define RELAY_PROBE_FIRST_MS 10000
#define RELAY_TIMEOUT_MAX_MS 15000
long	relay_timeout_ms(long floor_ms, int round_trips, double rtt_ms);

#ifndef WIRE_FLAG_KEEPALIVE
#define WIRE_FLAG_KEEPALIVE 0x02
#endif

/*
 * GET /v1/streams names the session's epoch in this header: which life of
 * the session (a relay restarted without its spool starts a new one and
 * numbers every stream from 1 again) the seqs belong to.
 */
#define RELAY_EPOCH_HEADER "Synbridge-Epoch"
/*
 * ... and the version of its stream list in this one: a relay that sends
 * it holds GET /v1/streams?known=V&hold=S until the list changes from V
 * (or S seconds pass), so the next list is asked for as soon as one
 * answers and a new stream is read from the moment it is listed. A relay
 * without it is asked every RELAY_LIST_EVERY_US (RELAY_LIST_EARLY_US in a
 * link's first seconds).
 */
#define RELAY_STREAMS_HEADER "Synbridge-Streams-Version"

/* Limits. */
/*
 * Batch bytes per publish request: under the relay's default --max-body
 * (16 MB), and large, because a stream waits for each body's answer
 * before its next body starts (at 8 MB that wait cost bench-relay about a
 * sixth of its rate at 8192 events per batch).
 */
#define RELAY_BODY_MAX (15U << 20)
#define RELAY_BODY_MIN 4096U		/* bytes: floor after a 413 */
#define RELAY_FOLLOW_RTT_MS 5.0		/* smallest round trip of the last
					 * 30 s for bodies to follow early */
#define RELAY_PUBLISH_SLOTS 2		/* publish requests in flight */
#define RELAY_NET_THREAD "relay net"	/* the network thread's name */
/*
 * Read requests: the one that reads, and the one that takes over from it
 * when what is read changes (a stream declared later, a new life), so
 * that the streams already read are never cut off while the new request
 * connects (two round trips and more over a long link).
 */
#define RELAY_READ_SLOTS 2
#define RELAY_BACKOFF_MIN_US 50000
#define RELAY_BACKOFF_MAX_US 2000000
/*
 * The link as a whole: after a failure of any kind (no connection, TLS,
 * a stalled or cut exchange, 5xx, 429, 401) nothing new starts for 100 ms,
 * doubling to 10 s, +/- 25 %, and then one clock probe alone tries until
 * an exchange succeeds: a relay that is away sees one handshake per
 * period from each site, not one per kind of request.
 */
#define RELAY_LINK_BACKOFF_MIN_US 100000
#define RELAY_LINK_BACKOFF_MAX_US 10000000
#define RELAY_DOWN_AFTER_US 3000000	/* no exchange this long: down */
#define RELAY_RECENT_US 10000000	/* loss and gap window: 10 s */
#define RELAY_RTT_SAMPLES 128
/* RTT statistics cover the samples of the last 30 s (a hiccup passes). */
#define RELAY_RTT_WINDOW_US 30000000

/* Parsed arguments. */
struct relay_config {
	char		*url;		/* https://HOST:PORT, no slash after */
	char		*token;
	char		*ca;		/* CA file, or NULL */
	char		*pin;		/* sha256//BASE64, or NULL */
	uint64_t	 window_us;
	uint32_t	 batch_events;
	char		**streams;	/* SITE/STREAM patterns; NULL: all */
	size_t		 nstreams;
	uint64_t	 max_queue;
	int		 from_start;	/* from=start: read what is stored */
	int		 no_sites;	/* sites=no: the other sites not asked */
	/*
	 * publish=stream (default): one long POST per publish slot carries
	 * batches as they are cut, each at once; publish=bodies: one POST
	 * per body of what is waiting (for a proxy that holds a request's
	 * body until it ends).
	 */
	int		 publish_bodies;
	/*
	 * proxy=URL or none; NULL: the standard variables (https_proxy,
	 * no_proxy) decide, as libcurl reads them. A relay on loopback is
	 * never reached through a proxy.
	 */
	char		*proxy;
	int		 loopback;	/* the relay's host is this machine */
};

/* The proxy an exchange goes through, for messages, or NULL. */
const char *relay_config_proxy_used(const struct relay_config *);

/* Look up one key=value argument (the host's arg(), or a test table). */
typedef const char *(*relay_arg_fn)(void *ctx, const char *key);

int	relay_config_parse(struct relay_config *, relay_arg_fn, void *,
	    char **);
void	relay_config_free(struct relay_config *);
int	relay_pattern_match(const char *, const char *);
int	relay_config_wants(const struct relay_config *, const char *,
	    const char *);

/*
 * Outgoing queue. The engine encodes the events of each stream into wire
 * records as it queues them (under a mutex), in batches of up to
 * batch_events; the network thread takes the closed batches, numbers them
 * with consecutive sequence numbers, seals them (header and CRC) and keeps
 * every batch until the relay acknowledges it.
 */
struct relay_batch {
	uint64_t	 seq;
	uint32_t	 events;
	uint32_t	 sends;		/* times put in a request */
	size_t		 len;		/* header and records */
	uint8_t		*buf;
	int64_t		 base_us;	/* the times of its records count from */
	size_t		 cap;		/* bytes at buf (while it is filled) */
	/*
	 * Bytes of records dropped by max_queue at the start of a waiting
	 * batch: moved out when it is taken, off the engine's path.
	 */
	size_t		 skip;
};

struct relay_ostream {
	char		*name;
	/*
	 * Engine side, under the queue lock: closed batches not yet taken,
	 * wait[whead..nwait), then the open one being filled (buf NULL when
	 * none); records follow room for the header.
	 */
	struct relay_batch *wait;
	size_t		 whead, nwait, capwait;
	struct relay_batch open;
	int64_t		 open_max;	/* latest event time in open */
	size_t		 open_size;	/* bytes to give the next open batch */
	uint64_t	 waiting;	/* events in wait and open */
	int64_t		 pend_since;	/* mono us of the oldest */
	/* Network side. */
	uint32_t	 id;		/* relay stream id */
	int		 registered;	/* this connection epoch */
	int		 refused;	/* the relay refused it (403) */
	int		 busy;		/* requests carrying it now: 0-2 */
	/*
	 * The publish slot of the request that takes more of it, or NULL
	 * once that one is ending: then a new request may follow at once
	 * (relay_outq_overlap), without waiting a round trip for the answer.
	 */
	const void	*carrier;
	int		 broken;	/* one failed while another carries it */
	uint64_t	 second_from;	/* the later request's first seq */
	uint64_t	 acked_early;	/* the later answered first: to here */
	/*
	 * What waits until no request carries it (relay_outq_idle): a drop
	 * of everything (a 400), and the split of batch split_seq, refused
	 * alone as too large, into pieces of split_bytes (a 413).
	 */
	int		 drop_pending;
	uint64_t	 split_seq;
	size_t		 split_bytes;
	uint64_t	 next_seq;	/* seq of the next new batch */
	struct relay_batch *unacked;	/* by seq */
	size_t		 nunacked, capunacked;
	size_t		 inflight;	/* leading unacked in requests */
	uint64_t	 unacked_events;
	size_t		 unacked_bytes;
};

/*
 * A request body being built by relay_outq_fill: batches copied into buf,
 * or (by_ref) spans of the kept batches themselves, which stay where they
 * are until the request that carries them has ended (they are freed only
 * when acknowledged, dropped or resynced, and never while a publish
 * request is in flight). len counts the body's bytes either way.
 */
struct relay_span {
	const uint8_t	*p;
	size_t		 len;
};

struct relay_body {
	uint8_t		*buf;
	size_t		 len, cap;
	int		 by_ref;
	struct relay_span *span;
	size_t		 nspan, capspan;
};

struct relay_outq {
	pthread_mutex_t	 lock;
	struct relay_ostream **streams;
	size_t		 nstreams;
	uint64_t	 session_id;
	uint32_t	 batch_events;
	size_t		 batch_bytes;	/* most bytes a batch takes, header
					 * and all (under the lock) */
	uint64_t	 window_us;
	uint64_t	 max_queue;
	/*
	 * Network thread: may a stream's next body follow an ending one
	 * before its answer (relay_outq_overlap)? Only over a link whose
	 * round trip is RELAY_FOLLOW_RTT_MS or more: there waiting for the
	 * answer costs the events a round trip; on a LAN or loopback it costs
	 * little, and two requests in flight cost each site CPU (at 300 sites
	 * on one 2-core machine, p50 0.7 s became 1.5 s).
	 */
	int		 follow;
	/* Under the lock. */
	uint64_t	 pending;	/* events encoded, not yet taken */
	uint64_t	 unacked;	/* events in unacked batches */
	uint64_t	 dropped;	/* total dropped by max_queue */
	uint64_t	 dropped_unreported;
	uint64_t	 bad_unreported;	/* of a kind no batch can carry */
	int		 new_streams;	/* a stream needs registering */
	unsigned	 streams_added;	/* atomic: bumped as one is added */
};

void	relay_outq_init(struct relay_outq *, uint32_t, uint64_t, uint64_t);
void	relay_outq_free(struct relay_outq *);
int	relay_outq_append(struct relay_outq *, const char *,
	    const struct sb_event *, size_t, int64_t);
uint64_t relay_outq_depth(struct relay_outq *);
int	relay_outq_ready(struct relay_outq *, struct relay_ostream *, int,
	    int64_t, int64_t *);
size_t	relay_outq_fill(struct relay_outq *, struct relay_ostream *,
	    struct relay_body *, size_t, uint64_t *);
int	relay_outq_unsent(struct relay_outq *, struct relay_ostream *);
uint64_t relay_outq_waiting(struct relay_outq *, struct relay_ostream *);
int	relay_outq_overlap(const struct relay_ostream *);
uint64_t relay_outq_last_inflight(const struct relay_ostream *);
void	relay_outq_ack(struct relay_outq *, struct relay_ostream *,
	    uint64_t, uint64_t);
void	relay_outq_failed(struct relay_outq *, struct relay_ostream *);
void	relay_outq_resync(struct relay_outq *, struct relay_ostream *,
	    uint64_t);
void	relay_outq_drop_all(struct relay_outq *, struct relay_ostream *);
void	relay_outq_batch_bytes(struct relay_outq *, size_t);
size_t	relay_outq_split(struct relay_outq *, struct relay_ostream *, size_t);
size_t	relay_outq_split_later(struct relay_outq *, struct relay_ostream *,
	    uint64_t, size_t);
void	relay_batch_reseq(struct relay_batch *, uint64_t);

/*
 * Incremental parser of a read stream: bytes go in as they arrive (split
 * anywhere), whole batches come out through a callback.
 */
enum relay_item_type {
	RELAY_ITEM_EVENTS,
	RELAY_ITEM_GAP,
	RELAY_ITEM_KEEPALIVE,
	RELAY_ITEM_COMMAND,
	RELAY_ITEM_RESULT,
	/*
	 * A whole gap or keep-alive batch whose fields break the wire
	 * specification: text says why; stream_id is the stream a rejected
	 * gap names (0 for a keep-alive). The read goes on after it.
	 */
	RELAY_ITEM_REJECTED,
};

struct relay_item {
	enum relay_item_type type;
	struct relay_item *next;
	uint32_t	 stream_id;
	const char	*site;		/* names: live as long as the client */
	const char	*stream;
	uint64_t	 seq;		/* events: batch seq; gap: first */
	uint64_t	 last_seq;	/* gap: last missing seq */
	uint64_t	 epoch;		/* events, gap: the session's life */
	/*
	 * events: the batch's header (hdr) and its checked records (raw,
	 * hdr.payload_len bytes), decoded by relay_item_events where they
	 * are delivered (the engine thread), into an array that stays in
	 * that core's cache.
	 */
	struct wire_header hdr;
	uint8_t		*raw;
	size_t		 n;		/* events */
	struct relay_pool *pool;	/* raw goes back there, or is freed */
	size_t		 rawcap;
	char		*from;		/* command: asking site */
	uint64_t	 id;
	int		 status;
	char		*text;		/* command line, result text, gap why */
};

typedef void (*relay_parse_cb)(void *ctx, struct relay_item *item);

/* Inbound events waiting for poll before the read stream is paused. */
#define RELAY_IN_PAUSE 4000000

/*
 * Record buffers kept for reuse between the network thread and the engine
 * (relay-pool.c): at most RELAY_POOL_BUFFERS, RELAY_POOL_BYTES in all.
 */
#define RELAY_POOL_BUFFERS 16
#define RELAY_POOL_BYTES (4U << 20)
struct relay_pool {
	pthread_mutex_t	 lock;
	uint8_t		*buf[RELAY_POOL_BUFFERS];
	size_t		 cap[RELAY_POOL_BUFFERS];
	size_t		 n, bytes;
};

void	relay_pool_init(struct relay_pool *);
void	relay_pool_free(struct relay_pool *);
uint8_t	*relay_pool_get(struct relay_pool *, size_t, size_t *);
void	relay_pool_put(struct relay_pool *, uint8_t *, size_t);

struct relay_parser {
	uint8_t		*buf;
	size_t		 len, cap;
	uint64_t	 batches, bytes;
	uint64_t	 rejected;	/* RELAY_ITEM_REJECTED batches */
	struct relay_pool *pool;	/* record buffers from here, or NULL */
};

void	relay_parser_init(struct relay_parser *);
void	relay_parser_free(struct relay_parser *);
void	relay_parser_reset(struct relay_parser *);
int	relay_parser_feed(struct relay_parser *, const void *, size_t,
	    relay_parse_cb, void *, char **);
void	relay_item_free(struct relay_item *);
void	relay_item_events(const struct relay_item *, struct sb_event *);

/* Text answers of the relay. */
struct relay_listed {
	uint32_t	 id;
	char		 site[64];
	char		 name[128];
	uint32_t	 units;
	uint64_t	 seq;		/* NEXT_SEQ or HIGHEST_SEQ */
};

/*
 * A site of the session as GET /v1/health says it: "SITE SEEN_AGO_S
 * EVENTS_PER_S BATCHES GAPS HEARD_AGO_S READS" (ages "-" before the
 * first: NaN; a relay without the last two columns: heard NaN, reads 0).
 */
struct relay_presence {
	char		 site[64];
	double		 seen_ago_s;	/* its last publish */
	double		 events_per_s;
	uint64_t	 batches, gaps;
	double		 heard_ago_s;	/* any request of its token */
	unsigned	 reads;		/* its streaming reads open */
	int		 was_reading;	/* (client) reads > 0 once */
	unsigned	 idle_polls;	/* (client) polls in a row with no
					   read, after reading */
};

/*
 * A site that was reading shows as having stopped after this many polls
 * in a row with no read open: one alone is its console changing what it
 * reads (it closes one read and opens the next).
 */
#define RELAY_PRESENCE_IDLE_POLLS 2

/* Sites of the session kept from GET /v1/health (the first ones). */
#define RELAY_PRESENCE_MAX 32
/*
 * A site's console not heard (no request of its token) for this long is
 * degraded, then down: a live one asks for the time every second and for
 * the sites every 2 s. A relay's word older than STALE is not shown.
 */
#define RELAY_PRESENCE_DEGRADED_S 5.0
#define RELAY_PRESENCE_DOWN_S 15.0
#define RELAY_PRESENCE_STALE_US 10000000

char	*relay_text_line(char **);
int	relay_text_presence(char *, struct relay_presence *);
/*
 * Carry what the last poll knew (old[0..nold)) into this one's got[0..n):
 * was_reading (reads > 0 at any poll) and idle_polls (polls in a row with
 * no read since it read).
 */
void	relay_presence_merge(struct relay_presence *got, size_t n,
	    const struct relay_presence *old, size_t nold);
int	relay_text_registered(char *, struct relay_listed *);
int	relay_text_listed(char *, struct relay_listed *);
int	relay_text_acked(char *, uint32_t *, uint64_t *);
struct relay_item *relay_text_control(char *, uint64_t *);
char	*relay_text_unescape(const char *);

/*
 * Clock filter: NTP-style samples, the minimum-delay sample per burst over
 * a window, and a least-squares drift fit over those minima.
 */
struct relay_clock_sample {
	int64_t		 t_us;		/* local mono, middle of t0..t3 */
	int64_t		 theta_us;	/* session - mono */
	int64_t		 delta_us;	/* round-trip delay */
	uint32_t	 burst;
};

#define RELAY_CLOCK_SAMPLES 512
#define RELAY_CLOCK_WINDOW_US 60000000	/* minima kept over a minute */

struct relay_clock {
	struct relay_clock_sample s[RELAY_CLOCK_SAMPLES];
	size_t		 n, head;
	uint32_t	 burst;
	/* Result of the last estimate. */
	int		 valid;
	int64_t		 ref_us;	/* local time the fit is centred on */
	double		 offset_us;	/* at ref_us */
	double		 drift;		/* d(offset)/dt, dimensionless */
	double		 uncertainty_us;
	size_t		 minima;
	/* Step detection. */
	int		 stepping;	/* one contradicting sample seen */
	struct relay_clock_sample step_sample;
	uint64_t	 steps;		/* steps detected */
};

void	relay_clock_init(struct relay_clock *);
void	relay_clock_burst(struct relay_clock *);
void	relay_clock_add(struct relay_clock *, int64_t, int64_t, int64_t,
	    int64_t);
int	relay_clock_estimate(struct relay_clock *, int64_t);
int64_t	relay_clock_offset_at(const struct relay_clock *, int64_t);

/* Link health. */
struct relay_health {
	double		 rtt_ms[RELAY_RTT_SAMPLES];
	int64_t		 rtt_at[RELAY_RTT_SAMPLES];	/* when taken */
	size_t		 nrtt, rtt_head;
	int64_t		 last_ok_us;	/* last successful exchange */
	int		 connected;
	/* Recent failures and gaps (timestamps, 10 s window). */
	int64_t		 fail_at[64];
	size_t		 nfail, fail_head;
	uint64_t	 tries_recent;	/* exchanges started, decayed */
	int64_t		 last_gap_us;
	uint64_t	 gaps, retransmits;
	uint64_t	 in_events, out_events;
	uint64_t	 followed;	/* bodies begun before the answer to
					 * the one they follow */
	int64_t		 rate_at_us;
	uint64_t	 rate_in, rate_out;
	double		 in_per_s, out_per_s;
	int64_t		 last_batch_us;	/* last batch in or out */
};

struct relay_rtt_stats {
	double		 min, p50, p99, jitter;
};

void	relay_health_init(struct relay_health *);
void	relay_health_rtt(struct relay_health *, double);
void	relay_health_ok(struct relay_health *, int64_t);
void	relay_health_fail(struct relay_health *, int64_t);
void	relay_health_rates(struct relay_health *, int64_t);
void	relay_health_rtt_stats(const struct relay_health *,
	    struct relay_rtt_stats *);
double	relay_health_loss(const struct relay_health *, int64_t, uint64_t);
enum sb_link_state relay_link_state(int, int64_t, double, double, double,
	    int, uint64_t, uint64_t);
void	relay_link_reason(char *, size_t, int, int64_t, double, double,
	    double, int, uint64_t, uint64_t, const char *);

/* The client: one per loaded plugin instance. */
struct relay_istream;
struct relay_xfer;
struct relay_msg;

struct relay_client {
	const struct sb_host_api *host;
	struct sb_plugin *plugin;
	struct relay_config cfg;
	char		 link_name[64];

	struct relay_outq out;
	size_t		 body_max;	/* bytes per publish body; lowered
					 * after a 413 (network thread) */

	/* Network thread. */
	pthread_t	 thread;
	int		 started;
	int		 stop;		/* atomic */
	int		 wake_pending;	/* atomic */
	void		*multi;		/* CURLM, driven by its socket API */
	int		 epfd;		/* epoll: the sockets libcurl watches */
	int		 wakefd;	/* eventfd: the engine wakes the loop */
	int64_t		 curl_due;	/* libcurl's timer (mono us), -1 none */
	char		*auth_header;
	struct relay_xfer *xfers;
	size_t		 nxfers;
	unsigned	 link_failures;	/* in a row, link-wide */
	unsigned	 pin_epoch;	/* bumped by repin (network side) */
	char		*repin;		/* a new pin from repin, under msg_lock */
	int64_t		 link_failed_at;	/* mono us of the last counted */
	int64_t		 link_not_before;	/* nothing new starts before */

	/* Readable streams (network side; names stay until the end). */
	struct relay_istream **in;
	size_t		 nin;
	int		 listed;	/* first GET /v1/streams done */
	uint64_t	 epoch;		/* the session's epoch, 0 unknown */
	int		 read_changed;	/* a new read request is due */
	int		 read_in_place;	/* ... without a successor */
	unsigned	 read_failures;	/* the reads' backoff, both slots */
	int64_t		 read_not_before;
	struct relay_parser parsers[RELAY_READ_SLOTS];	/* one a request */
	struct relay_pool pool;		/* the parser's record buffers */
	struct sb_event	*dec;		/* engine: events being delivered */
	size_t		 deccap;
	uint64_t	 control_after;

	/* Outgoing control messages (engine -> network, under msg_lock). */
	pthread_mutex_t	 msg_lock;
	struct relay_msg *msgs, **msgs_tail;

	/* Inbound queue (network -> engine, under in_lock). */
	pthread_mutex_t	 in_lock;
	struct relay_item *items, **items_tail;
	size_t		 in_events_queued;
	int		 in_paused;	/* a read waits for poll to catch up */

	/* Clock and health (network writes, engine reads, under stat_lock). */
	pthread_mutex_t	 stat_lock;
	pthread_cond_t	 clock_cond;	/* signalled at the first estimate */
	int		 curl_ref;	/* holds libcurl's global state */
	struct relay_clock clock;
	struct relay_health health;
	int		 clock_changed;
	int64_t		 clock_offset_us, clock_unc_us;
	int		 clock_known;
	/* (network thread) the link's round trip, for timeouts: ms, 0 unknown */
	double		 probe_rtt_ms;	/* clock probes' p99, last 30 s */
	double		 connect_rtt_ms;	/* the last TCP handshake */
	uint64_t	 dropped_logged;
	int		 auth_logged;
	char		*last_error;	/* to log from the engine thread */
	int		 error_changed;
	/* the session's sites, from GET /v1/health (relay-net.c) */
	struct relay_presence presence[RELAY_PRESENCE_MAX];
	size_t		 npresence;
	int64_t		 presence_us;	/* when it last answered, 0 never */

	/* Engine thread: the epoch the host's cursors were last set in. */
	uint64_t	 epoch_said;
};

/* repin PIN: the relay's new key, checked by its operator (engine). */
int	relay_client_repin(void *, int, char **, struct sb_reply *);

/* relay-net.c */
int	relay_net_start(struct relay_client *, char **);
void	relay_net_stop(struct relay_client *);
void	relay_net_wake(struct relay_client *);
void	relay_net_post_msg(struct relay_client *, const char *,
	    const char *, char *);

/* relay-client.c */
struct relay_client *relay_client_create(const struct sb_host_api *,
	    struct sb_plugin *, char **);
void	relay_client_free(void *);
void	relay_client_push(struct relay_client *, struct relay_item *);
void	relay_client_wake_host(struct relay_client *);
int	relay_client_send(void *, const char *, const struct sb_event *,
	    size_t);
void	relay_client_poll(void *);
size_t	relay_client_health(void *, struct sb_link_health *, size_t);
int	relay_client_clock_offset(void *, int64_t *, int64_t *);
int	relay_client_command(void *, const char *, uint64_t, const char *,
	    char **);
int	relay_client_command_result(void *, const char *, uint64_t, int,
	    const char *);
void	relay_client_error(struct relay_client *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

int64_t	relay_mono_us(void);

#endif
