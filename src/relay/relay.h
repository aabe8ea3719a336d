/*
 * relay.h: synbridge-relay, the HTTPS relay between sites (protocol v1,
 * see man/synbridge-relay.1).
 *
 * One mutex (relay.lock) guards every session, stream, batch, reader and
 * counter; MHD's worker threads and the timer thread take it around short
 * critical sections. A publish body is read into one buffer (charged to
 * --max-buffers), checked, and each accepted batch is copied out into its
 * own allocation (charged with its overhead to the session's --max-memory);
 * the body is freed with the request. Reads are streamed in blocks of
 * RELAY_READ_BLOCK from memory or the spool, never built whole.
 */
#ifndef SB_RELAY_H
#define SB_RELAY_H

#include <sys/queue.h>
#include <sys/types.h>

#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define RELAY_NAME_MAX 64		/* site, session and stream names */
#define RELAY_CONTROL_MAX 4096		/* control messages per session */
#define RELAY_CONTROL_BYTES (16U << 20)	/* their bytes per session */
#define RELAY_CONTROL_ANSWER (64U << 10) /* lines per /v1/control answer */
#define RELAY_CONTROL_HOLD 25		/* long-poll hold, seconds */
#define RELAY_TEXT_BODY_MAX (64 << 10)	/* streams, command, result */
#define RELAY_READ_ONCE_MAX (64U << 20)	/* wait=0 answer bound */
#define RELAY_READ_BLOCK (64 << 10)	/* streaming response block */
/* how often idle reads are looked at for a client that has gone */
#define RELAY_READ_GONE_US 500000
#define RELAY_SPOOL_FILES 64		/* stream logs open at once */
#define RELAY_SPOOL_HELD 32		/* of them held by publishes */
#define RELAY_SPOOL_STRIDE 256		/* spool index: an offset per N */
#define RELAY_FD_RESERVE 32		/* descriptors beside connections */
#define RELAY_CONN_SLACK 16		/* accepted over the limit, to evict */
#define RELAY_MALLOC_OVERHEAD 16	/* bytes malloc keeps per block */

struct MHD_Daemon;
struct MHD_Connection;

/* Options from the command line. */
struct relay_options {
	const char *listen;
	const char *cert;
	const char *key;
	const char *tokens;
	const char *spool;
	const char *self_signed;
	uint64_t max_memory;		/* bytes per session */
	uint64_t max_body;		/* bytes per publish body */
	uint64_t max_buffers;		/* bytes of bodies and answers */
	double rate;			/* events/s per token, 0 no limit */
	unsigned keepalive_s;
	unsigned max_connections;
	unsigned max_unauth;		/* connections without a token yet */
	unsigned max_per_ip;
	unsigned max_per_token;		/* connections showing one token */
	unsigned max_streams_site;	/* streams per site of a session */
	unsigned max_streams;		/* per session */
	unsigned max_streams_total;	/* all sessions */
	unsigned handshake_s;		/* to show a valid token */
	unsigned threads;
	int realtime;		/* --realtime priority, 0: not asked */
	unsigned timeout_s;
	int connections_given;		/* --max-connections on the line */
};

/* One line of the tokens file. */
struct relay_token {
	char *token;
	char *site;
	char *session;
	char *publish;			/* comma-separated patterns */
	char *read;			/* SITE/STREAM patterns or "-" */
	char *command;			/* sites, "*" or "-" */
	unsigned nconns;		/* connections that showed it */
	size_t site_idx;		/* its site in its session's sites */
	/*
	 * Publish requests of this token open now, and of them those held
	 * (relay-http.c): a part that leaves a hole waits for an earlier
	 * body still arriving on another connection, while one that is not
	 * held is open to bring it. Under relay.lock.
	 */
	unsigned publishing, held;
	/*
	 * When a publish request of this token last ended refused (mono
	 * us): a hole that came before it gets no grace, as the body that
	 * would fill it may be the one refused (relay_http_may_hold).
	 */
	int64_t refused_at;
	double bucket;			/* rate limit: events left */
	int64_t bucket_t;		/* monotonic us of the last refill */
};

/* One stored batch: its own copy of the bytes as received. */
struct relay_batch {
	uint32_t size;
	uint32_t events;
	uint64_t seq;
	size_t cost;			/* bytes charged to the session */
	struct relay_stream *stream;
	TAILQ_ENTRY(relay_batch) entry;	/* session eviction order */
	uint8_t data[];
};
TAILQ_HEAD(relay_batches, relay_batch);

/* A stream: (site, name) with its id, stored batches and spool file. */
struct relay_stream {
	uint32_t id;
	char *site;
	char *name;
	uint32_t units;
	uint64_t highest;		/* highest contiguous stored seq */

	struct relay_batch **ring;	/* in memory: mem_first..highest */
	size_t ring_cap, ring_head, ring_len;
	uint64_t mem_first;

	int fd;				/* spool log when open, or -1 */
	unsigned fd_busy;		/* users that keep it open */
	TAILQ_ENTRY(relay_stream) lru;	/* open logs, least recent first */
	uint64_t *idx;			/* spool offset of seq k*STRIDE+1 */
	size_t idx_len, idx_cap;
	uint64_t spool_size;
	uint64_t synced_round;		/* relay-sync.c's round it synced in */
	int registering;		/* its spool line is not synced yet:
					 * not listed, not found by id */

	uint64_t batches, events, bytes, gaps;
};
TAILQ_HEAD(relay_streams, relay_stream);

/* One site of a session, for /v1/health. */
struct relay_site {
	char *name;
	int64_t last_seen;		/* monotonic us, 0 never */
	int64_t last_heard;		/* any request of its token, 0 never */
	unsigned reads;			/* its streaming reads open */
	uint64_t batches, gaps;
	int64_t rate_t0;
	uint64_t rate_events;
	double rate;
};

/* A control message (command or result). */
struct relay_msg {
	uint64_t n;
	int is_result;
	char *to, *from, *status, *text;
	uint64_t id;
	size_t cost;			/* bytes charged to the session */
	TAILQ_ENTRY(relay_msg) entry;
};
TAILQ_HEAD(relay_msgs, relay_msg);

struct relay_reader;
struct relay_req;

/* A session: its streams, memory, readers and control messages. */
struct relay_session {
	char *name;
	uint64_t session_id;		/* FNV-1a 64 of the name */
	int64_t epoch_us;		/* CLOCK_REALTIME of the first start */
	int64_t time_base_us;		/* session time at the relay's start */
	int clock_fd;			/* DIR/SESSION/clock or -1 */
	int64_t clock_bound_us;		/* written there */
	int64_t clock_sync_us;		/* its slowest recent sync (us) */
	int clock_failed;
	char *dir;			/* spool directory or NULL */

	struct relay_stream **streams;	/* by id - 1 */
	uint32_t nstreams;
	/*
	 * Changes each time a stream becomes listed (GET /v1/streams'
	 * RELAY_STREAMS_HEADER); from the relay's start time in us, so that
	 * a version seen by a client of an earlier relay process is not
	 * taken for the current one.
	 */
	uint64_t streams_version;
	int streams_fd;
	uint64_t streams_size;		/* bytes of the streams file */

	struct relay_site *sites;
	size_t nsites;

	struct relay_batches fifo;
	uint64_t mem_bytes;		/* batches, their overhead, rings */

	struct relay_msgs msgs;
	size_t nmsgs;
	uint64_t msg_bytes;
	uint64_t next_msg;
	int control_fd;
	uint64_t control_synced_round;	/* relay-sync.c's, as above */
	uint64_t streams_synced_round;	/* the same, of its streams file */

	TAILQ_HEAD(, relay_reader) readers;
	TAILQ_HEAD(, relay_req) polls;
	TAILQ_HEAD(, relay_req) held;	/* publish parts waiting (above) */
	uint64_t parts_stored;		/* publish parts committed so far */
};

/* Where a reader is in one stream. */
struct relay_cursor {
	struct relay_stream *stream;
	uint64_t next;			/* next seq to send */
	uint64_t end;			/* last seq to send (wait=0) */
	uint64_t hint_seq, hint_off;	/* a known spool record offset */
};

/* What a reader is in the middle of sending. */
enum relay_source {
	RELAY_SOURCE_NONE,
	RELAY_SOURCE_MEMORY,		/* a batch in the stream's ring */
	RELAY_SOURCE_SPOOL,		/* a record of the stream's log */
	RELAY_SOURCE_FLAG,		/* a gap or keep-alive in flag[] */
};

/* A read (streaming or wait=0). */
struct relay_reader {
	struct relay_session *session;
	struct MHD_Connection *conn;
	struct relay_cursor *cursors;
	size_t ncursors, rr;

	enum relay_source src;		/* the batch being sent */
	struct relay_stream *cur_stream;
	uint64_t cur_seq;
	uint64_t cur_spool;		/* spool offset of its bytes */
	uint32_t cur_size, cur_off;
	uint8_t flag[WIRE_HEADER_SIZE];

	uint64_t sent;			/* bytes so far (wait=0 cap) */
	size_t charged;			/* --max-buffers bytes taken */
	int once;			/* wait=0 */
	int suspended;
	int gone;			/* its client closed its end */
	int streaming;
	size_t site;			/* its site's index in session->sites */
	int64_t last_write;		/* monotonic us */
	TAILQ_ENTRY(relay_reader) entry;
};

/* Open connections from one client address (relay-conn.c). */
struct relay_addr {
	unsigned char key[17];		/* family, then the address */
	unsigned char len;
	unsigned n;
	struct relay_addr *next;	/* in its hash bucket */
};
#define RELAY_ADDR_BUCKETS 1024

/* One TCP connection, for the handshake deadline and limits. */
struct relay_conn {
	int fd;
	int64_t accepted;		/* monotonic us */
	int pending;			/* no valid token seen yet */
	int counted;			/* in the counts (not shut down here) */
	struct relay_addr *addr;	/* its client address, or NULL */
	struct relay_token *token;	/* the valid token it showed first */
	TAILQ_ENTRY(relay_conn) entry;	/* relay.pending, oldest first */
	TAILQ_ENTRY(relay_conn) all;	/* relay.conns, oldest first */
};
TAILQ_HEAD(relay_conns, relay_conn);

/* State of one HTTP request. */
/* The streams the stored parts of one publish body touched. */
struct relay_pub {
	struct relay_stream **streams;
	size_t n;
};

struct relay_req {
	int route;
	struct relay_token *token;
	int64_t t1;			/* session time at receipt */
	uint8_t *body;
	size_t body_len, body_cap, body_max;
	uint64_t body_seen;		/* bytes received (stored or not) */
	struct relay_pub pub;		/* publish: parts stored so far */
	unsigned pub_code;		/* publish: a part refused (status) */
	unsigned pub_retry;
	char *pub_answer;
	size_t charged;			/* --max-buffers bytes taken */
	uint64_t too_big;		/* announced length over body_max */
	int reading_away;		/* a chunked body past body_max */
	int busy;			/* over --max-buffers: 503 */
	int responded;
	int pub_ended;			/* last part stored, sync asked */
	int pub_counted;		/* in its token's publishing */
	int pub_held;			/* in its session's held (or tried) */
	int hold_suspended;		/* its connection suspended for it */
	int64_t hole_since;		/* mono us its part first left a hole */
	size_t held_len;		/* the held part: body[0..held_len) */
	TAILQ_ENTRY(relay_req) held_entry;
	/* command or result: waiting for the spool (relay-sync.c) */
	struct relay_msg *ctl_msg;	/* the session's once synced */
	struct relay_session *ctl_session;	/* set: it waited */
	uint64_t ctl_n;			/* its number, once visible */
	char *ctl_error;		/* or why it could not be kept */
	/* stream registration: waiting for the spool (relay-sync.c) */
	struct relay_session *reg_session;	/* set: it waited */
	char *reg_error;		/* why its streams are not kept */
	TAILQ_ENTRY(relay_req) sync_entry;	/* relay-sync.c's queue */

	struct MHD_Connection *conn;	/* long-poll */
	struct relay_session *poll_session;
	int polling, suspended, poll_expired;
	int poll_list;			/* a held GET /v1/streams, not control */
	uint64_t poll_after;
	int64_t poll_deadline;		/* monotonic us */
	TAILQ_ENTRY(relay_req) entry;
};

/* Counters for /metrics. */
struct relay_metrics {
	uint64_t requests[600];
	uint64_t connections;
	uint64_t read_clients;
	uint64_t batches, events, bytes, gaps;
	uint64_t closed_handshake;	/* no token within the deadline */
	uint64_t closed_crowded;	/* made room for a newer one */
	uint64_t closed_unauth;		/*  of which past --max-unauthenticated */
	uint64_t closed_total;		/*  past --max-connections */
	uint64_t closed_ip;		/*  past --max-per-ip */
	uint64_t closed_token;		/*  past --max-per-token */
	uint64_t refused_ip;		/* new ones refused: --max-per-ip */
	uint64_t refused_unauth;	/*  --max-unauthenticated */
	uint64_t refused_total;		/*  --max-connections */
	uint64_t refused_busy;		/* 503 over --max-buffers */
	uint64_t spool_syncs;		/* fdatasyncs of logs and control */
	uint64_t held_parts;		/* publish parts held for a hole */
};

/* The relay. */
struct relay {
	pthread_mutex_t lock;
	struct relay_options opt;

	struct relay_token *tokens;
	size_t ntokens;

	struct relay_session **sessions;
	size_t nsessions;
	uint64_t nstreams;		/* in all sessions */
	int64_t start_us;		/* CLOCK_REALTIME at start */
	int64_t start_mono_us;		/* CLOCK_MONOTONIC at start */

	struct relay_streams spool_open; /* open stream logs, LRU */
	unsigned spool_nopen;
	unsigned spool_held;		/* holds on open logs, in all */

	pthread_mutex_t conn_lock;	/* conns, pending, addrs, counts */
	struct relay_conns conns;
	struct relay_conns pending;
	unsigned nconns, npending;
	struct relay_addr *addrs[RELAY_ADDR_BUCKETS];
	char crowded_ip[48];		/* the last address over --max-per-ip */
	const char *crowded_site;	/* the last site over --max-per-token */

	uint64_t buffers;		/* --max-buffers bytes taken */

	char *cert_pem, *key_pem, *pin;
	struct MHD_Daemon *daemon;
	int stopping;
	/*
	 * Held publish parts being tried again off the session's list, by
	 * how many threads (relay_http_retry_held): relay_http_stop waits
	 * for none before it refuses the held ones, or one of them would
	 * stay suspended when the daemon stops (which aborts it).
	 */
	unsigned retrying;
	pthread_cond_t retry_cond;

	pthread_t timer;
	pthread_cond_t timer_cond;
	int timer_running;

	struct relay_metrics m;
};

extern struct relay relay;

/* relay-main.c */
int64_t relay_now_mono(void);
int64_t relay_now_real(void);

/* relay-log.c */
void relay_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void relay_log_mhd(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
const char *relay_log_last_mhd(void);
/* What a reader that closed its connection during a read means (the
 * words before the detail, ending ": "). */
extern const char relay_log_reader_gone[];
/*
 * The calling thread's content reader is about to end a read with an
 * error on purpose, having logged why: libmicrohttpd's "Closing
 * connection (application error generating response)", if it is the next
 * line libmicrohttpd logs in this thread, says nothing more and is not
 * written.
 */
void relay_log_read_ends(void);
void relay_log_flush(void);

/* relay-buffers.c */
int relay_buffers_take(size_t n);
void relay_buffers_give(size_t n);

/* relay-conn.c */
void relay_conn_started(struct MHD_Connection *conn, void **ctx);
void relay_conn_closed(void **ctx);
void relay_conn_authenticated(struct MHD_Connection *conn,
    struct relay_token *t);
void relay_conn_free(void);
void relay_conn_expire(int64_t now);
void relay_conn_report(int64_t now);

/* relay-tokens.c */
int relay_tokens_load(const char *path, struct relay_token **out,
    size_t *n, char **cause);
int relay_tokens_parse_line(char *line, struct relay_token *t,
    char **cause);
void relay_tokens_free(struct relay_token *t, size_t n);
struct relay_token *relay_tokens_find(const char *bearer);
int relay_tokens_may_publish(const struct relay_token *t,
    const char *stream);
int relay_tokens_may_read(const struct relay_token *t, const char *site,
    const char *stream);
int relay_tokens_may_command(const struct relay_token *t,
    const char *site);
int relay_tokens_rate(struct relay_token *t, uint64_t events,
    unsigned *retry_after);
int relay_name_valid(const char *s, size_t len, int stream);

/* relay-args.c */
int relay_args_u64(const char *s, uint64_t *out);
int relay_args_cursors(const char *s, uint32_t **ids, uint64_t **after,
    size_t *n, char **cause);
int relay_args_stream_line(const char *line, size_t len, char *name,
    uint32_t *units, char **cause);
char *relay_args_escape(const char *s, size_t len);

/* relay-store.c */
int relay_store_init(char **cause);
void relay_store_free(void);
struct relay_session *relay_store_session(const char *name);
struct relay_stream *relay_store_stream(struct relay_session *s,
    uint32_t id);
struct relay_stream *relay_store_find(struct relay_session *s,
    const char *site, const char *name);
void relay_store_streams_durable(struct relay_session *s, uint32_t n);
void relay_store_streams_listed(struct relay_session *s);
struct relay_stream *relay_store_register(struct relay_session *s,
    const char *site, const char *name, uint32_t units, char **cause);
/* A request of token t came (for /v1/health); lock held. */
void relay_store_heard(struct relay_session *s, const struct relay_token *t);
struct relay_site *relay_store_site(struct relay_session *s,
    const char *name);
unsigned relay_store_publish_part(struct relay_session *s,
    struct relay_token *t, const uint8_t *body, size_t len,
    struct relay_pub *pub, char **answer, unsigned *retry_after);
int relay_store_pub_sync(struct relay_session *s, struct relay_pub *pub,
    uint64_t round, char **cause);
char *relay_store_pub_acks(const struct relay_pub *pub);
void relay_store_pub_free(struct relay_pub *pub);
struct relay_batch *relay_store_batch(struct relay_stream *st,
    uint64_t seq);
int64_t relay_store_time(const struct relay_session *s);

/*
 * GET /v1/streams names the session's epoch in this header: a reader that
 * kept a cursor knows whether its seqs still mean the same batches.
 */
#define RELAY_EPOCH_HEADER "Synbridge-Epoch"
/*
 * ... and the version of its stream list in this one: GET
 * /v1/streams?known=V&hold=S holds the request while V is still the
 * version (up to S seconds, at most RELAY_LIST_HOLD), so that a site
 * learns of a new stream at once instead of at its next poll.
 */
#define RELAY_STREAMS_HEADER "Synbridge-Streams-Version"
#define RELAY_LIST_HOLD 25

/* relay-clock.c */
int relay_clock_load(struct relay_session *s, char **cause);
void relay_clock_renew(void);
void relay_clock_close(struct relay_session *s);

/* relay-spool.c */
int relay_spool_lock(char **cause);
int relay_spool_session(struct relay_session *s, char **cause);
int relay_spool_stream_create(struct relay_session *s,
    struct relay_stream *st, char **cause);
int relay_spool_add_stream(struct relay_session *s,
    const struct relay_stream *st, char **cause);
int relay_spool_append(struct relay_session *s, struct relay_stream *st,
    const uint8_t *const *data, const uint32_t *size, const uint64_t *seq,
    size_t n, char **cause);
int relay_spool_hold(struct relay_session *s, struct relay_stream *st,
    char **cause);
void relay_spool_release(struct relay_stream *st);
void relay_spool_forget(struct relay_stream *st);
int relay_spool_sync(struct relay_stream *st, char **cause);
int relay_spool_sync_now(struct relay_session *s, struct relay_stream *st,
    char **cause);
int relay_spool_find(struct relay_session *s, struct relay_cursor *c,
    uint64_t seq, uint64_t *off, uint32_t *size);
ssize_t relay_spool_pread(struct relay_session *s, struct relay_stream *st,
    void *buf, size_t len, uint64_t off);
void relay_spool_close_all(void);
int relay_spool_control_sync(struct relay_session *s, char **cause);
int relay_spool_datasync(int fd);
int relay_spool_streams_sync(struct relay_session *s, char **cause);
int relay_spool_control(struct relay_session *s, const struct relay_msg *m,
    char **cause);

/* relay-read.c */
int relay_read_start(struct MHD_Connection *conn, struct relay_req *req,
    const char *streams, const char *epoch, int wait);
void relay_read_wake(struct relay_session *s, struct relay_stream **st,
    size_t n);
void relay_read_wake_idle(int64_t now);
void relay_read_wake_all(void);

/* relay-control.c */
int relay_control_post(struct MHD_Connection *conn, struct relay_req *req,
    int is_result);
int relay_control_poll(struct MHD_Connection *conn, struct relay_req *req);
void relay_control_wake_expired(int64_t now);
void relay_control_wake_all(void);
void relay_control_wake_lists(struct relay_session *s);
int relay_control_hold(struct MHD_Connection *conn, struct relay_req *req,
    const char *hold, unsigned dflt, unsigned max, int *rc);
void relay_control_free(struct relay_session *s);
void relay_control_add(struct relay_session *s, struct relay_msg *m);
void relay_control_commit(struct relay_session *s, struct relay_msg *m);
void relay_control_free_msg(struct relay_msg *m);

/* relay-metrics.c */
char *relay_metrics_text(size_t *len);
char *relay_metrics_health(struct relay_session *s, size_t *len);

/* relay-http.c */
int relay_http_start(char **cause);
struct MHD_Daemon *relay_http_start_unlistened(void);
void relay_http_stop(void);
void relay_http_held_expire(int64_t now);
int relay_http_port(void);
int relay_http_respond(struct MHD_Connection *conn, unsigned code,
    const char *type, char *body, size_t len);
int relay_http_error(struct MHD_Connection *conn, unsigned code,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int relay_http_busy(struct MHD_Connection *conn);
const char *relay_http_arg(struct MHD_Connection *conn, const char *key);

/* relay-sync.c */
int relay_sync_start(char **cause);
void relay_sync_stop(void);
void relay_sync_now(struct relay_req *req);
int relay_sync_later(struct MHD_Connection *conn, struct relay_req *req);
int relay_sync_control_later(struct MHD_Connection *conn,
    struct relay_req *req, struct relay_session *s, struct relay_msg *m);
void relay_sync_settled(void);
unsigned relay_sync_waiting(void);
int relay_sync_streams_later(struct MHD_Connection *conn,
    struct relay_req *req, struct relay_session *s);

/* relay-timer.c */
int relay_timer_start(char **cause);
void relay_timer_stop(void);

/* relay-tls.c */
int relay_tls_self_signed(const char *dir, char **cert, char **key,
    char **cause);
int relay_tls_load(const char *cert, const char *key, char **cause);

#endif
