/*
 * relay.h: synbridge-relay, the HTTPS relay between sites (protocol v1,
 * see man/synbridge-relay.1).
 *
 * One mutex (relay.lock) guards every session, stream, batch, reader and
 * counter; MHD's worker threads and the timer thread take it around short
 * critical sections. Batch bytes are stored as received (one copy, from
 * MHD's buffer into the request body) and copied once more into a read
 * response.
 */
#ifndef SB_RELAY_H
#define SB_RELAY_H

#include <sys/queue.h>

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define RELAY_NAME_MAX 64		/* site, session and stream names */
#define RELAY_CONTROL_MAX 4096		/* control messages per session */
#define RELAY_CONTROL_HOLD 25		/* long-poll hold, seconds */
#define RELAY_TEXT_BODY_MAX (64 << 10)	/* streams, command, result */
#define RELAY_READ_ONCE_MAX (64U << 20)	/* wait=0 answer bound */
#define RELAY_READ_BLOCK (64 << 10)	/* streaming response block */

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
	double rate;			/* events/s per token, 0 no limit */
	unsigned keepalive_s;
	unsigned max_connections;
	unsigned max_per_ip;
	unsigned threads;
	unsigned timeout_s;
};

/* One line of the tokens file. */
struct relay_token {
	char *token;
	char *site;
	char *session;
	char *publish;			/* comma-separated patterns */
	char *read;			/* SITE/STREAM patterns or "-" */
	char *command;			/* sites, "*" or "-" */
	double bucket;			/* rate limit: events left */
	int64_t bucket_t;		/* monotonic us of the last refill */
};

/* The bytes of one request body; batches point into it. */
struct relay_chunk {
	unsigned refs;
	size_t size;
	uint8_t *data;
};

/* One stored batch, or a temporary one (from the spool, gap, keep-alive). */
struct relay_batch {
	struct relay_chunk *chunk;
	const uint8_t *data;
	uint32_t size;
	uint32_t events;
	uint64_t seq;
	unsigned refs;
	struct relay_stream *stream;
	TAILQ_ENTRY(relay_batch) entry;	/* session eviction order */
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

	int fd;				/* spool log or -1 */
	uint64_t *off;			/* spool offset of seq i+1 */
	size_t off_cap;
	uint64_t spool_size;

	uint64_t batches, events, bytes, gaps;
};

/* One site of a session, for /v1/health. */
struct relay_site {
	char *name;
	int64_t last_seen;		/* monotonic us, 0 never */
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
	int clock_failed;
	char *dir;			/* spool directory or NULL */

	struct relay_stream **streams;	/* by id - 1 */
	uint32_t nstreams;
	int streams_fd;

	struct relay_site *sites;
	size_t nsites;

	struct relay_batches fifo;
	uint64_t mem_bytes;

	struct relay_msgs msgs;
	size_t nmsgs;
	uint64_t next_msg;
	int control_fd;

	TAILQ_HEAD(, relay_reader) readers;
	TAILQ_HEAD(, relay_req) polls;
};

/* Where a reader is in one stream. */
struct relay_cursor {
	struct relay_stream *stream;
	uint64_t next;			/* next seq to send */
};

/* A read (streaming or wait=0). */
struct relay_reader {
	struct relay_session *session;
	struct MHD_Connection *conn;
	struct relay_cursor *cursors;
	size_t ncursors, rr;
	struct relay_batch *cur;	/* being sent */
	size_t cur_off;
	int suspended;
	int streaming;
	int64_t last_write;		/* monotonic us */
	TAILQ_ENTRY(relay_reader) entry;
};

/* State of one HTTP request. */
struct relay_req {
	int route;
	struct relay_token *token;
	int64_t t1;			/* session time at receipt */
	struct relay_chunk *body;
	size_t body_max, body_cap;
	uint64_t too_big;		/* announced length over body_max */
	int responded;

	struct MHD_Connection *conn;	/* long-poll */
	struct relay_session *poll_session;
	int polling, suspended, poll_expired;
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
};

/* The relay. */
struct relay {
	pthread_mutex_t lock;
	struct relay_options opt;

	struct relay_token *tokens;
	size_t ntokens;

	struct relay_session **sessions;
	size_t nsessions;
	int64_t start_us;		/* CLOCK_REALTIME at start */
	int64_t start_mono_us;		/* CLOCK_MONOTONIC at start */

	char *cert_pem, *key_pem, *pin;
	struct MHD_Daemon *daemon;
	int stopping;

	pthread_t timer;
	pthread_cond_t timer_cond;
	int timer_running;

	struct relay_metrics m;
};

extern struct relay relay;

/* relay-main.c */
int64_t relay_now_mono(void);
int64_t relay_now_real(void);

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
struct relay_stream *relay_store_register(struct relay_session *s,
    const char *site, const char *name, uint32_t units, char **cause);
struct relay_site *relay_store_site(struct relay_session *s,
    const char *name);
unsigned relay_store_publish(struct relay_session *s, struct relay_token *t,
    struct relay_chunk *body, char **answer, unsigned *retry_after);
void relay_store_unref(struct relay_batch *b);
void relay_chunk_unref(struct relay_chunk *c);
int64_t relay_store_time(const struct relay_session *s);

/*
 * GET /v1/streams names the session's epoch in this header: a reader that
 * kept a cursor knows whether its seqs still mean the same batches.
 */
#define RELAY_EPOCH_HEADER "Synbridge-Epoch"

/* relay-clock.c */
int relay_clock_load(struct relay_session *s, char **cause);
void relay_clock_renew(void);
void relay_clock_close(struct relay_session *s);

/* relay-spool.c */
int relay_spool_lock(char **cause);
int relay_spool_session(struct relay_session *s, char **cause);
int relay_spool_stream_open(struct relay_session *s,
    struct relay_stream *st, int create, char **cause);
int relay_spool_add_stream(struct relay_session *s,
    const struct relay_stream *st, char **cause);
int relay_spool_append(struct relay_stream *st, struct relay_batch **b,
    size_t n, char **cause);
int relay_spool_sync(struct relay_stream *st, char **cause);
struct relay_batch *relay_spool_read(struct relay_stream *st, uint64_t seq);
int relay_spool_control(struct relay_session *s, const struct relay_msg *m,
    char **cause);

/* relay-read.c */
int relay_read_start(struct MHD_Connection *conn, struct relay_req *req,
    const char *streams, int wait);
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
void relay_control_free(struct relay_session *s);
void relay_control_add(struct relay_session *s, struct relay_msg *m);

/* relay-metrics.c */
char *relay_metrics_text(size_t *len);
char *relay_metrics_health(struct relay_session *s, size_t *len);

/* relay-http.c */
int relay_http_start(char **cause);
void relay_http_stop(void);
int relay_http_port(void);
int relay_http_respond(struct MHD_Connection *conn, unsigned code,
    const char *type, char *body, size_t len);
int relay_http_error(struct MHD_Connection *conn, unsigned code,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const char *relay_http_arg(struct MHD_Connection *conn, const char *key);

/* relay-timer.c */
int relay_timer_start(char **cause);
void relay_timer_stop(void);

/* relay-tls.c */
int relay_tls_self_signed(const char *dir, char **cert, char **key,
    char **cause);
int relay_tls_load(const char *cert, const char *key, char **cause);

#endif
