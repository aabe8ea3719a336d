/* relay-http.c: the HTTPS daemon, routing, authentication and limits. */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <strings.h>

#include <microhttpd.h>

#include "relay.h"
#include "xmalloc.h"

/* Oversized bodies up to this are read and dropped before the 413. */
#define RELAY_DISCARD_MAX (64ULL << 20)

#define RELAY_TEXT "text/plain; charset=utf-8"

/* Answers this short (error lines) are not charged to --max-buffers. */
#define RELAY_ANSWER_FREE 1024

/* MHD's memory per connection: headers, read and write buffers. */
#define RELAY_CONN_MEMORY (128 << 10)

enum relay_route {
	RELAY_METRICS,
	RELAY_TIME,
	RELAY_HEALTH,
	RELAY_STREAMS_GET,
	RELAY_STREAMS_POST,
	RELAY_PUBLISH,
	RELAY_READ,
	RELAY_COMMAND,
	RELAY_RESULT,
	RELAY_CONTROL,
};

/* The routes: path, method, needs a token, body limit (0: no body). */
static const struct relay_http_route {
	const char *path;
	const char *method;
	enum relay_route route;
	int auth;
	int body;
} relay_http_routes[] = {
	{ "/metrics", "GET", RELAY_METRICS, 0, 0 },
	{ "/v1/time", "GET", RELAY_TIME, 0, 0 },
	{ "/v1/health", "GET", RELAY_HEALTH, 1, 0 },
	{ "/v1/streams", "GET", RELAY_STREAMS_GET, 1, 0 },
	{ "/v1/streams", "POST", RELAY_STREAMS_POST, 1, 1 },
	{ "/v1/publish", "POST", RELAY_PUBLISH, 1, 2 },
	{ "/v1/read", "GET", RELAY_READ, 1, 0 },
	{ "/v1/command", "POST", RELAY_COMMAND, 1, 1 },
	{ "/v1/result", "POST", RELAY_RESULT, 1, 1 },
	{ "/v1/control", "GET", RELAY_CONTROL, 1, 0 },
};
#define RELAY_NROUTES (sizeof relay_http_routes / sizeof relay_http_routes[0])

/* A GET (query) argument, or NULL. */
const char *
relay_http_arg(struct MHD_Connection *conn, const char *key)
{
	return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, key);
}

/* MHD is done with an answer's body: free it and give its bytes back. */
static void
relay_http_free_answer(void *body)
{
	relay_buffers_give(malloc_usable_size(body));
	free(body);
}

static int relay_http_answer2(struct MHD_Connection *, unsigned,
    const char *, char *, size_t, const char *, const char *, const char *,
    const char *);

/*
 * Queue an answer (body malloc'd or NULL) with an optional header. The
 * body is charged to --max-buffers until MHD has sent it; over the budget
 * the answer becomes a 503 (short error answers are not charged).
 */
static int
relay_http_answer(struct MHD_Connection *conn, unsigned code,
    const char *type, char *body, size_t len, const char *hname,
    const char *hvalue)
{
	return relay_http_answer2(conn, code, type, body, len, hname, hvalue,
	    NULL, NULL);
}

/* The same with a second header (h2name NULL: none). */
static int
relay_http_answer2(struct MHD_Connection *conn, unsigned code,
    const char *type, char *body, size_t len, const char *hname,
    const char *hvalue, const char *h2name, const char *h2value)
{
	struct MHD_Response *resp;
	int rc;

	if (body != NULL && len > RELAY_ANSWER_FREE &&
	    relay_buffers_take(malloc_usable_size(body)) != 0) {
		free(body);
		return relay_http_busy(conn);
	}
	if (body == NULL)
		resp = MHD_create_response_from_buffer(0, (void *)"",
		    MHD_RESPMEM_PERSISTENT);
	else if (len > RELAY_ANSWER_FREE)
		resp = MHD_create_response_from_buffer_with_free_callback(len,
		    body, relay_http_free_answer);
	else
		resp = MHD_create_response_from_buffer(len, body,
		    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		if (body != NULL && len > RELAY_ANSWER_FREE)
			relay_buffers_give(malloc_usable_size(body));
		free(body);
		return MHD_NO;
	}
	if (body != NULL && type != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		    type);
	if (hname != NULL)
		MHD_add_response_header(resp, hname, hvalue);
	if (h2name != NULL)
		MHD_add_response_header(resp, h2name, h2value);
	rc = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	if (code < 600)
		__atomic_add_fetch(&relay.m.requests[code], 1,
		    __ATOMIC_RELAXED);
	return rc;
}

/* Queue an answer whose body (malloc'd, or NULL) MHD frees. */
int
relay_http_respond(struct MHD_Connection *conn, unsigned code,
    const char *type, char *body, size_t len)
{
	return relay_http_answer(conn, code, type, body, len, NULL, NULL);
}

/* Queue an error: the code and one line saying what to fix. */
int
relay_http_error(struct MHD_Connection *conn, unsigned code,
    const char *fmt, ...)
{
	va_list ap;
	char *msg, *line;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	xasprintf(&line, "%s\n", msg);
	free(msg);
	if (code == 401) {
		return relay_http_answer(conn, code, RELAY_TEXT, line,
		    strlen(line), MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	}
	return relay_http_respond(conn, code, RELAY_TEXT, line,
	    strlen(line));
}

/* Answer 503: the relay's buffers are taken; retry in a second. */
int
relay_http_busy(struct MHD_Connection *conn)
{
	char *line;

	__atomic_add_fetch(&relay.m.refused_busy, 1, __ATOMIC_RELAXED);
	xasprintf(&line, "the relay is busy: request bodies and answers in "
	    "memory are at its --max-buffers of %llu MB; retry in a "
	    "second\n", (unsigned long long)(relay.opt.max_buffers >> 20));
	return relay_http_answer(conn, 503, RELAY_TEXT, line, strlen(line),
	    MHD_HTTP_HEADER_RETRY_AFTER, "1");
}

/* Find the route of a request; -1 unknown path, -2 wrong method. */
static int
relay_http_find(const char *method, const char *url)
{
	size_t i;
	int path = 0;

	for (i = 0; i < RELAY_NROUTES; i++) {
		if (strcmp(url, relay_http_routes[i].path) != 0)
			continue;
		path = 1;
		if (strcmp(method, relay_http_routes[i].method) == 0)
			return (int)i;
	}
	return path ? -2 : -1;
}

/* The token of the Authorization header: 0 none, 1 found, -1 bad. */
static int
relay_http_auth(struct MHD_Connection *conn, struct relay_token **t)
{
	const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);

	*t = NULL;
	if (h == NULL)
		return 0;
	if (strncasecmp(h, "Bearer ", 7) != 0)
		return -1;
	for (h += 7; *h == ' '; h++)
		;
	*t = relay_tokens_find(h);
	return *t != NULL ? 1 : -1;
}

/*
 * GET /v1/streams[?known=V[&hold=S]]: the streams the token may read, and
 * its own. With known=V (the version a list answered before) and hold=S,
 * the answer waits while the session's list is still at version V, up to
 * S seconds: a site learns of a stream as soon as it is listed.
 */
static int
relay_http_streams_get(struct MHD_Connection *conn, struct relay_req *req)
{
	struct relay_session *s = relay_store_session(req->token->session);
	const char *known = relay_http_arg(conn, "known");
	const char *hold = relay_http_arg(conn, "hold");
	struct relay_stream *st;
	FILE *f;
	char *out = NULL, epoch[24], version[24];
	uint64_t k = 0;
	size_t len;
	uint32_t i;
	int rc;

	if (!req->polling) {
		if (known != NULL && relay_args_u64(known, &k) != 0) {
			return relay_http_error(conn, 400, "give known=V, the "
			    "%s header of the last list", RELAY_STREAMS_HEADER);
		}
		if (relay_control_hold(conn, req, hold, 0, RELAY_LIST_HOLD,
		    &rc) != 0)
			return rc;
		req->poll_after = k;
	}
	pthread_mutex_lock(&relay.lock);
	if (known != NULL && s->streams_version == req->poll_after &&
	    !relay.stopping && !req->poll_expired &&
	    relay_now_mono() < req->poll_deadline) {
		if (!req->polling) {
			req->polling = req->poll_list = 1;
			req->poll_session = s;
			req->conn = conn;
			TAILQ_INSERT_TAIL(&s->polls, req, entry);
		}
		req->suspended = 1;
		MHD_suspend_connection(conn);
		pthread_mutex_unlock(&relay.lock);
		return MHD_YES;
	}
	if (req->polling) {
		TAILQ_REMOVE(&s->polls, req, entry);
		req->polling = 0;
	}
	if ((f = open_memstream(&out, &len)) == NULL)
		fatal("open_memstream failed");
	for (i = 0; i < s->nstreams; i++) {
		st = s->streams[i];
		if (st->registering ||
		    !relay_tokens_may_read(req->token, st->site, st->name))
			continue;
		fprintf(f, "%" PRIu32 " %s %s %" PRIu32 " %" PRIu64 "\n",
		    st->id, st->site, st->name, st->units, st->highest);
	}
	snprintf(version, sizeof version, "%" PRIu64, s->streams_version);
	pthread_mutex_unlock(&relay.lock);
	fclose(f);
	/* which life of the session these seqs belong to */
	snprintf(epoch, sizeof epoch, "%" PRId64, s->epoch_us);
	return relay_http_answer2(conn, 200, RELAY_TEXT, out, len,
	    RELAY_EPOCH_HEADER, epoch, RELAY_STREAMS_HEADER, version);
}

/* One NAME UNITS line of a POST /v1/streams body. */
struct relay_http_stream_line {
	char name[RELAY_NAME_MAX + 1];
	uint32_t units;
};

/* qsort: lines by name, then by their place in the body. */
static int
relay_http_line_cmp(const void *a, const void *b)
{
	const struct relay_http_stream_line *x =
	    *(const struct relay_http_stream_line *const *)a;
	const struct relay_http_stream_line *y =
	    *(const struct relay_http_stream_line *const *)b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : (x > y) - (x < y);
}

/*
 * Would registering the n lines pass --max-streams,
 * --max-streams-per-site or --max-streams-total? Answers 507 if so (and
 * returns 1). Lock held.
 */
static int
relay_http_streams_room(struct MHD_Connection *conn, struct relay_req *req,
    struct relay_session *s, const struct relay_http_stream_line *line,
    size_t n, int *rc)
{
	const struct relay_http_stream_line **fresh, *first = NULL;
	const struct relay_http_stream_line *last = NULL;
	const char *site = req->token->site;
	uint32_t nsite = 0, i32;
	uint64_t room_session, room_total, room_site;
	size_t nfresh = 0, i, k = 0;
	char names[2 * RELAY_NAME_MAX + 32];

	for (i32 = 0; i32 < s->nstreams; i32++)
		nsite += strcmp(s->streams[i32]->site, site) == 0;
	/*
	 * The new names, each once, sorted (a body may hold 16 k lines);
	 * first and last in the order they first appear.
	 */
	fresh = xreallocarray(NULL, n ? n : 1, sizeof *fresh);
	for (i = 0; i < n; i++) {
		if (relay_store_find(s, site, line[i].name) == NULL)
			fresh[k++] = &line[i];
	}
	qsort(fresh, k, sizeof *fresh, relay_http_line_cmp);
	for (i = 0; i < k; i++) {
		if (i > 0 && strcmp(fresh[i - 1]->name, fresh[i]->name) == 0)
			continue;
		nfresh++;
		if (first == NULL || fresh[i] < first)
			first = fresh[i];
		if (last == NULL || fresh[i] > last)
			last = fresh[i];
	}
	free(fresh);
	room_session = s->nstreams >= relay.opt.max_streams ? 0 :
	    relay.opt.max_streams - s->nstreams;
	room_site = nsite >= relay.opt.max_streams_site ? 0 :
	    relay.opt.max_streams_site - nsite;
	room_total = relay.nstreams >= relay.opt.max_streams_total ? 0 :
	    relay.opt.max_streams_total - relay.nstreams;
	if (nfresh <= room_session && nfresh <= room_site &&
	    nfresh <= room_total)
		return 0;
	/* the request names nfresh new streams, from first to last */
	if (nfresh == 1)
		snprintf(names, sizeof names, "'%s'", first->name);
	else
		snprintf(names, sizeof names, "first '%s', last '%s'",
		    first->name, last->name);
	if (nfresh > room_site) {
		*rc = relay_http_error(conn, 507, "site %s has %" PRIu32
		    " stream%s in session %s and the relay takes at most %u "
		    "per site (--max-streams-per-site): this request would "
		    "add %zu (%s) and none is registered; reuse stream names "
		    "or ask the relay's operator to raise "
		    "--max-streams-per-site", site, nsite, nsite == 1 ? "" :
		    "s", s->name, relay.opt.max_streams_site, nfresh, names);
	} else if (nfresh > room_session) {
		*rc = relay_http_error(conn, 507, "session %s has %" PRIu32
		    " stream%s and the relay takes at most %u per session "
		    "(--max-streams): this request would add %zu (%s) and "
		    "none is registered; reuse stream names or ask the "
		    "relay's operator to raise --max-streams", s->name,
		    s->nstreams, s->nstreams == 1 ? "" : "s",
		    relay.opt.max_streams, nfresh, names);
	} else {
		*rc = relay_http_error(conn, 507, "the relay holds %" PRIu64
		    " streams in all its sessions and takes at most %u "
		    "(--max-streams-total): this request would add %zu (%s) "
		    "and none is registered; ask the relay's operator to "
		    "raise --max-streams-total", relay.nstreams,
		    relay.opt.max_streams_total, nfresh, names);
	}
	return 1;
}

/* POST /v1/streams: register NAME UNITS lines, answer ID NAME NEXT_SEQ. */
static int
relay_http_streams_post(struct MHD_Connection *conn, struct relay_req *req)
{
	struct relay_session *s = relay_store_session(req->token->session);
	struct relay_http_stream_line *line = NULL;
	struct relay_stream *st;
	const char *p, *end, *nl;
	char *why = NULL, *out = NULL;
	size_t len, n = 0, i;
	FILE *f;
	int rc, waits = 0;

	if (req->reg_session != NULL) {
		/* back from relay-sync.c: its streams are kept, or why not */
		relay_sync_settled();
		req->reg_session = NULL;
		if (req->reg_error != NULL) {
			rc = relay_http_error(conn, 500, "spool: %s",
			    req->reg_error);
			free(req->reg_error);
			req->reg_error = NULL;
			return rc;
		}
	}
	if (req->body == NULL || req->body_len == 0) {
		return relay_http_error(conn, 400, "empty body: send lines "
		    "NAME UNITS");
	}
	/* Check every line first, then register: all or nothing. */
	p = (const char *)req->body;
	end = p + req->body_len;
	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (nl == p || (nl == p + 1 && *p == '\r'))
			continue;
		line = xreallocarray(line, n + 1, sizeof *line);
		if (relay_args_stream_line(p, (size_t)(nl - p), line[n].name,
		    &line[n].units, &why) != 0) {
			rc = relay_http_error(conn, 400, "%s", why);
			free(why);
			free(line);
			return rc;
		}
		if (!relay_tokens_may_publish(req->token, line[n].name)) {
			rc = relay_http_error(conn, 403, "site %s may not "
			    "publish stream '%s' (see its PUBLISH field in the "
			    "tokens file)", req->token->site, line[n].name);
			free(line);
			return rc;
		}
		n++;
	}
	if ((f = open_memstream(&out, &len)) == NULL)
		fatal("open_memstream failed");
	pthread_mutex_lock(&relay.lock);
	if (relay_http_streams_room(conn, req, s, line, n, &rc))
		goto out;
	for (i = 0; i < n; i++) {
		st = relay_store_register(s, req->token->site, line[i].name,
		    line[i].units, &why);
		if (st == NULL)
			goto spool_error;
		waits |= st->registering;
		fprintf(f, "%" PRIu32 " %s %" PRIu64 "\n", st->id, st->name,
		    st->highest + 1);
	}
	/*
	 * A new stream is answered (its id given) only once its spool line
	 * is durable, or a restart could give its id to another: synced by
	 * relay-sync.c's thread while conn waits (this is called again
	 * then), so that a slow disk holds up no other request, or here.
	 */
	if (waits && relay_sync_streams_later(conn, req, s)) {
		rc = MHD_YES;
		goto out;
	}
	if (waits && relay_spool_streams_sync(s, &why) != 0)
		goto spool_error;
	if (waits)
		relay_store_streams_durable(s, s->nstreams);
	pthread_mutex_unlock(&relay.lock);
	fclose(f);
	free(line);
	return relay_http_respond(conn, 200, RELAY_TEXT, out, len);

spool_error:
	pthread_mutex_unlock(&relay.lock);
	relay_log("%s", why);
	rc = relay_http_error(conn, 500, "spool: %s", why);
	free(why);
	goto done;
out:
	pthread_mutex_unlock(&relay.lock);
done:
	fclose(f);
	free(out);
	free(line);
	return rc;
}

/*
 * POST /v1/publish is stored as it arrives, in parts: the whole batches
 * received so far. Readers get a long body's (or a streaming body's)
 * first batches while the rest is still on the wire, and the relay holds
 * about one batch per publisher instead of the whole body. With a spool
 * the parts are appended as they come and synced once, at the body's end,
 * before the answer acknowledges them.
 */

/* What a publish body is given at first (it grows to one batch). */
#define RELAY_PUBLISH_FIRST ((size_t)64 << 10)

/*
 * Publish bodies of one stream may overlap: a console starts its next body
 * as soon as the last is all sent, instead of a round trip later when its
 * answer comes. The next body can then reach the relay first, on its own
 * connection. A part of it that leaves a hole in a stream is held (its
 * connection suspended) while another publish request of the same token
 * is open and not held itself, since that one may be the earlier body; it
 * is tried again whenever a part of the token is stored and when one of
 * its publish requests can bring no more. With no such request open it is
 * still held for RELAY_HOLE_GRACE_US from its first try: the earlier body
 * may be on its way on a connection still being opened (over a 300 ms
 * round trip a new connection's request comes about 0.75 s after it was
 * begun, and a refused later body cost the console a re-registration
 * and about 0.6 s of events). Past that it is refused 409 as before, and
 * the console asks where its streams stand.
 */

enum relay_part {
	RELAY_PART_STORED,		/* or it held only duplicates */
	RELAY_PART_REFUSED,		/* pub_code says why */
	RELAY_PART_HELD,		/* waits in the session's held */
};

/* Tries of a part between a hole and its hold (relay_http_publish_part). */
#define RELAY_HOLD_TRIES 8
/*
 * How long a part that leaves a hole waits with no other publish request
 * of its token open (see above): a few round trips of the longest links
 * served. The timer thread refuses it after that (relay_http_held_expire).
 */
#define RELAY_HOLE_GRACE_US 2000000

/* Could another open request of req's token fill a hole? Lock held. */
static int
relay_http_may_hold(const struct relay_req *req)
{
	const struct relay_token *t = req->token;
	long others;

	if (!req->pub_counted || relay.stopping)
		return 0;
	/* open and not held, besides req (counted in held while retried) */
	others = (long)t->publishing - (long)t->held - (req->pub_held ? 0 : 1);
	if (others > 0)
		return 1;
	/*
	 * None: the earlier body may still be on its way (above), unless one
	 * of the token's was refused since the hole came (it may have been
	 * that one, and its console sends it again only after the answer).
	 */
	return req->hole_since != 0 && req->hole_since > t->refused_at &&
	    relay_now_mono() - req->hole_since < RELAY_HOLE_GRACE_US;
}

static void relay_http_pub_done(struct relay_req *);
static void relay_http_retry_held(struct relay_session *,
    struct relay_token *);

/*
 * Store the first len bytes of the body as a part; keep the rest. A part
 * that leaves a hole may be held (above): conn, when not NULL (the
 * request's own handler), is then suspended under the lock, so that no
 * retry can resume it first; a retry passes NULL (it is suspended).
 */
static enum relay_part
relay_http_publish_part(struct MHD_Connection *conn, struct relay_req *req,
    size_t len)
{
	struct relay_session *s = relay_store_session(req->token->session);
	char *answer = NULL;
	unsigned code, retry_after = 1;
	uint64_t gen;
	int tries = 0;

	for (;;) {
		pthread_mutex_lock(&relay.lock);
		gen = s->parts_stored;
		pthread_mutex_unlock(&relay.lock);
		code = relay_store_publish_part(s, req->token, req->body, len,
		    &req->pub, &answer, &retry_after);
		if (code != 409)
			break;
		pthread_mutex_lock(&relay.lock);
		if (s->parts_stored != gen && ++tries < RELAY_HOLD_TRIES) {
			/* a part was stored meanwhile: it may fill the hole */
			pthread_mutex_unlock(&relay.lock);
			free(answer);
			answer = NULL;
			continue;
		}
		if (req->hole_since == 0)
			req->hole_since = relay_now_mono();
		if (relay_http_may_hold(req)) {
			if (!req->pub_held) {
				req->pub_held = 1;
				req->token->held++;
				relay.m.held_parts++;
			}
			req->held_len = len;
			TAILQ_INSERT_TAIL(&s->held, req, held_entry);
			if (conn != NULL) {
				req->conn = conn;
				req->hold_suspended = 1;
				MHD_suspend_connection(conn);
			}
			pthread_mutex_unlock(&relay.lock);
			free(answer);
			return RELAY_PART_HELD;
		}
		pthread_mutex_unlock(&relay.lock);
		break;
	}
	if (req->pub_held) {
		/* held no more: the retry resumes it */
		pthread_mutex_lock(&relay.lock);
		req->pub_held = 0;
		req->token->held--;
		pthread_mutex_unlock(&relay.lock);
	}
	if (code != 200) {
		/* The rest of the body is read away; this is the answer. */
		req->pub_code = code;
		req->pub_answer = answer;
		req->pub_retry = retry_after;
		req->body_len = 0;
		relay_http_pub_done(req);
		return RELAY_PART_REFUSED;
	}
	free(answer);
	req->hole_since = 0;	/* a later hole waits afresh */
	memmove(req->body, req->body + len, req->body_len - len);
	req->body_len -= len;
	relay_http_retry_held(s, req->token);
	return RELAY_PART_STORED;
}

/*
 * The timer thread (no lock held): try again, and so refuse, the held
 * parts that have waited RELAY_HOLE_GRACE_US with no other publish request
 * of their token open to fill their hole.
 */
void
relay_http_held_expire(int64_t now)
{
	struct relay_session *s;
	struct relay_token *t;
	struct relay_req *req;
	size_t i;

	for (i = 0;; i++) {
		pthread_mutex_lock(&relay.lock);
		if (i >= relay.nsessions) {
			pthread_mutex_unlock(&relay.lock);
			return;
		}
		s = relay.sessions[i];
		t = NULL;
		TAILQ_FOREACH(req, &s->held, held_entry) {
			if (req->hole_since != 0 &&
			    now - req->hole_since >= RELAY_HOLE_GRACE_US &&
			    !relay_http_may_hold(req)) {
				t = req->token;
				break;
			}
		}
		pthread_mutex_unlock(&relay.lock);
		if (t != NULL) {
			/* refused (or stored, or held again): look again */
			relay_http_retry_held(s, t);
			i--;
		}
	}
}

/*
 * Try again the held parts of token t (a part of it was stored, or one of
 * its publish requests can bring no more). One stored or refused resumes
 * its connection; one that still leaves a hole waits again while it may.
 * While tried, a part still counts as held, so that two held parts never
 * wait for each other.
 */
static void
relay_http_retry_held(struct relay_session *s, struct relay_token *t)
{
	TAILQ_HEAD(, relay_req) todo = TAILQ_HEAD_INITIALIZER(todo);
	struct relay_req *req, *next;

	pthread_mutex_lock(&relay.lock);
	for (req = TAILQ_FIRST(&s->held); req != NULL; req = next) {
		next = TAILQ_NEXT(req, held_entry);
		if (req->token != t)
			continue;
		TAILQ_REMOVE(&s->held, req, held_entry);
		TAILQ_INSERT_TAIL(&todo, req, held_entry);
	}
	relay.retrying++;
	pthread_mutex_unlock(&relay.lock);
	while ((req = TAILQ_FIRST(&todo)) != NULL) {
		TAILQ_REMOVE(&todo, req, held_entry);
		/* (while stopping, none is held again: relay_http_may_hold) */
		if (relay_http_publish_part(NULL, req, req->held_len) ==
		    RELAY_PART_HELD)
			continue;	/* back in s->held, still suspended */
		pthread_mutex_lock(&relay.lock);
		req->hold_suspended = 0;
		MHD_resume_connection(req->conn);
		pthread_mutex_unlock(&relay.lock);
	}
	pthread_mutex_lock(&relay.lock);
	if (--relay.retrying == 0)
		pthread_cond_broadcast(&relay.retry_cond);
	pthread_mutex_unlock(&relay.lock);
}

/*
 * A publish request has ended, or its body has: it fills no hole now, so
 * the parts held for one try again (and are refused if nothing else can
 * fill theirs).
 */
static void
relay_http_pub_done(struct relay_req *req)
{
	int counted;

	if (req->token == NULL)
		return;
	pthread_mutex_lock(&relay.lock);
	if ((counted = req->pub_counted) != 0) {
		req->token->publishing--;
		req->pub_counted = 0;
		if ((req->pub_code != 0 && req->pub_code != 200) ||
		    req->too_big || req->busy)
			req->token->refused_at = relay_now_mono();
	}
	pthread_mutex_unlock(&relay.lock);
	if (counted)
		relay_http_retry_held(relay_store_session(
		    req->token->session), req->token);
}

/* Resume every held part, refused 503 (shutdown; lock held). */
static void
relay_http_release_held(void)
{
	struct relay_session *s;
	struct relay_req *req;
	size_t i;

	for (i = 0; i < relay.nsessions; i++) {
		s = relay.sessions[i];
		while ((req = TAILQ_FIRST(&s->held)) != NULL) {
			TAILQ_REMOVE(&s->held, req, held_entry);
			req->pub_held = 0;
			req->token->held--;
			if (req->pub_counted) {
				req->token->publishing--;
				req->pub_counted = 0;
			}
			req->pub_code = 503;
			req->pub_retry = 1;
			free(req->pub_answer);
			req->pub_answer = xstrdup("the relay is stopping: send "
			    "again when it is back\n");
			req->body_len = 0;
			req->hold_suspended = 0;
			MHD_resume_connection(req->conn);
		}
	}
}

/*
 * Publish data arrived: store the whole batches at the start of the body
 * as a part. A malformed header stores everything held, so that the part
 * is refused with the batch that is wrong.
 */
static void
relay_http_publish_more(struct MHD_Connection *conn, struct relay_req *req)
{
	struct wire_header h;
	size_t size, off = 0;

	while (req->body_len - off >= WIRE_HEADER_SIZE) {
		if (wire_peek(req->body + off, req->body_len - off, &h,
		    NULL) != 0) {
			relay_http_publish_part(conn, req, req->body_len);
			return;
		}
		size = (size_t)h.header_len + h.payload_len;
		if (size > req->body_len - off)
			break;
		off += size;
	}
	if (off > 0)
		relay_http_publish_part(conn, req, off);
}

/*
 * A publish body has ended: store what is left as its last part, then
 * make every part durable before any answer (200, 4xx, 413, 503). With a
 * spool that is relay-sync.c's thread, while conn waits suspended (1);
 * 0 when the answer may go now. Called again after the resume: once.
 */
static int
relay_http_publish_end(struct MHD_Connection *conn, struct relay_req *req)
{
	struct relay_session *s;

	if (req->pub_ended) {
		relay_sync_settled();
		return 0;
	}
	if (!req->too_big && !req->busy && req->pub_code == 0 &&
	    (req->body_len > 0 || req->body_seen == 0) &&
	    relay_http_publish_part(conn, req, req->body_len) ==
	    RELAY_PART_HELD)
		return 1;	/* called again once stored or refused */
	req->pub_ended = 1;
	relay_http_pub_done(req);
	s = relay_store_session(req->token->session);
	if (s->dir == NULL || req->pub.n == 0)
		return 0;
	return relay_sync_later(conn, req);
}

/* POST /v1/publish: the body has ended, stored and synced; answer. */
static int
relay_http_publish(struct MHD_Connection *conn, struct relay_req *req)
{
	char *answer, retry[16];
	unsigned code;

	code = req->pub_code != 0 ? req->pub_code : 200;
	if (code == 200)
		answer = relay_store_pub_acks(&req->pub);
	else {
		answer = req->pub_answer;
		req->pub_answer = NULL;
	}
	if (code == 429 || code == 503) {
		snprintf(retry, sizeof retry, "%u", req->pub_retry);
		return relay_http_answer(conn, code, RELAY_TEXT, answer,
		    strlen(answer), MHD_HTTP_HEADER_RETRY_AFTER, retry);
	}
	return relay_http_respond(conn, code, RELAY_TEXT,
	    answer, strlen(answer));
}

/* GET /v1/time: T1 T2. */
static int
relay_http_time(struct MHD_Connection *conn, struct relay_req *req)
{
	struct relay_session *s = NULL;
	char *out;
	int64_t t2;

	if (req->token != NULL)
		s = relay_store_session(req->token->session);
	else if (relay.nsessions == 1)
		s = relay.sessions[0];
	t2 = relay_store_time(s);
	xasprintf(&out, "%" PRId64 " %" PRId64 "\n", req->t1, t2);
	return relay_http_respond(conn, 200, RELAY_TEXT, out,
	    strlen(out));
}

/* Run a complete request. */
static int
relay_http_dispatch(struct MHD_Connection *conn, struct relay_req *req)
{
	const char *wait;
	char *out;
	size_t len;

	switch (relay_http_routes[req->route].route) {
	case RELAY_METRICS:
		out = relay_metrics_text(&len);
		return relay_http_respond(conn, 200,
		    "text/plain; version=0.0.4; charset=utf-8", out, len);
	case RELAY_TIME:
		return relay_http_time(conn, req);
	case RELAY_HEALTH:
		out = relay_metrics_health(relay_store_session(
		    req->token->session), &len);
		return relay_http_respond(conn, 200, RELAY_TEXT, out, len);
	case RELAY_STREAMS_GET:
		return relay_http_streams_get(conn, req);
	case RELAY_STREAMS_POST:
		return relay_http_streams_post(conn, req);
	case RELAY_PUBLISH:
		return relay_http_publish(conn, req);
	case RELAY_READ:
		wait = relay_http_arg(conn, "wait");
		if (wait != NULL && strcmp(wait, "0") != 0 &&
		    strcmp(wait, "1") != 0) {
			return relay_http_error(conn, 400, "give wait=0 "
			    "(answer at once) or wait=1 (stream, the "
			    "default)");
		}
		return relay_read_start(conn, req, relay_http_arg(conn,
		    "streams"), relay_http_arg(conn, "epoch"),
		    wait == NULL || strcmp(wait, "1") == 0);
	case RELAY_COMMAND:
		return relay_control_post(conn, req, 0);
	case RELAY_RESULT:
		return relay_control_post(conn, req, 1);
	case RELAY_CONTROL:
		return relay_control_poll(conn, req);
	}
	return MHD_NO;
}

/*
 * A chunked body over its limit is read away up to this many bytes, to
 * answer 413 at its end; past it the connection is closed.
 */
#define RELAY_HTTP_DISCARD_MAX ((uint64_t)64 << 20)

/* Answer 413 for a body over the route's limit. */
static int
relay_http_too_big(struct MHD_Connection *conn, struct relay_req *req,
    const char *url)
{
	return relay_http_error(conn, 413, "body of %" PRIu64 " bytes is over "
	    "the limit of %zu for %s: send smaller bodies", req->too_big,
	    req->body_max, url);
}

/*
 * What a body of len bytes is charged: a publish body also its list of
 * accepted batches (4 bytes per batch of at least 48 bytes).
 */
static size_t
relay_http_body_cost(const struct relay_req *req, size_t len)
{
	if (relay_http_routes[req->route].body == 2)
		return len + len / 12;
	return len;
}

/* Grow the request body to hold cap bytes, charged; 0 or -1 if busy. */
static int
relay_http_body_grow(struct relay_req *req, size_t cap)
{
	size_t cost = relay_http_body_cost(req, cap);

	if (relay_buffers_take(cost - req->charged) != 0)
		return -1;
	req->body = xrealloc(req->body, cap);
	req->body_cap = cap;
	req->charged = cost;
	return 0;
}

/* First call of a request: route, authenticate, check the body size. */
static int
relay_http_begin(struct MHD_Connection *conn, struct relay_req *req,
    const char *method, const char *url)
{
	const struct relay_http_route *r;
	const char *cl;
	uint64_t len;
	int auth;

	req->route = relay_http_find(method, url);
	if (req->route == -1) {
		req->responded = 1;
		return relay_http_error(conn, 404, "no such endpoint %.100s "
		    "(see synbridge-relay(1))", url);
	}
	if (req->route == -2) {
		req->responded = 1;
		return relay_http_error(conn, 405, "method %.16s not allowed "
		    "on %.100s", method, url);
	}
	r = &relay_http_routes[req->route];
	auth = relay_http_auth(conn, &req->token);
	if (auth < 0 || (auth == 0 && r->auth)) {
		req->responded = 1;
		return relay_http_error(conn, 401, "%s: send the header "
		    "'Authorization: Bearer TOKEN' with a token of the relay's "
		    "tokens file", auth < 0 ? "unknown token" :
		    "no token");
	}
	if (auth > 0) {
		relay_conn_authenticated(conn, req->token);
		/* its console is there (/v1/health's HEARD column) */
		pthread_mutex_lock(&relay.lock);
		relay_store_heard(relay_store_session(req->token->session),
		    req->token);
		pthread_mutex_unlock(&relay.lock);
	}
	req->t1 = relay_store_time(req->token != NULL ?
	    relay_store_session(req->token->session) :
	    relay.nsessions == 1 ? relay.sessions[0] : NULL);
	if (r->route == RELAY_PUBLISH && req->token != NULL) {
		/* a filler of holes until it ends (relay_http_publish_part) */
		pthread_mutex_lock(&relay.lock);
		req->token->publishing++;
		req->pub_counted = 1;
		pthread_mutex_unlock(&relay.lock);
	}
	req->body_max = r->body == 2 ? relay.opt.max_body :
	    r->body == 1 ? RELAY_TEXT_BODY_MAX : 0;
	/* A body --max-buffers could never hold is too big, not busy. */
	if (r->body == 2 && req->body_max > relay.opt.max_buffers / 13 * 12)
		req->body_max = relay.opt.max_buffers / 13 * 12;
	cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL && relay_args_u64(cl, &len) == 0 &&
	    len > req->body_max) {
		/*
		 * Answering before the body is read makes the close reset the
		 * connection under a client still sending (no Expect:
		 * 100-continue), and the 413 is lost: read a moderately
		 * oversized body away first.
		 */
		req->too_big = len;
		relay_http_pub_done(req);	/* it stores nothing */
		if (len <= RELAY_DISCARD_MAX)
			return MHD_YES;
		req->responded = 1;
		return relay_http_too_big(conn, req, url);
	}
	if (cl == NULL || relay_args_u64(cl, &len) != 0)
		len = 0;
	/* A publish body is held a part at a time (relay_http_publish). */
	if (r->body == 2 && len > RELAY_PUBLISH_FIRST)
		len = RELAY_PUBLISH_FIRST;
	if (len > 0 && relay_http_body_grow(req, (size_t)len) != 0) {
		/* Over --max-buffers: read the body away, then answer 503. */
		req->busy = 1;
		relay_http_pub_done(req);
	}
	return MHD_YES;
}

/* Add upload data to the request body; 0, or -1 if over --max-buffers. */
static int
relay_http_upload(struct MHD_Connection *conn, struct relay_req *req,
    const char *data, size_t len)
{
	size_t cap;

	if (req->body_len + len > req->body_cap) {
		cap = req->body_cap * 2 + len + 4096;
		if (cap > req->body_max)
			cap = req->body_max;
		if (relay_http_body_grow(req, cap) != 0)
			return -1;
	}
	memcpy(req->body + req->body_len, data, len);
	req->body_len += len;
	if (relay_http_routes[req->route].route == RELAY_PUBLISH)
		relay_http_publish_more(conn, req);
	return 0;
}

/* MHD's access handler. */
static enum MHD_Result
relay_http_handle(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct relay_req *req = *con_cls;
	int held;

	if (req == NULL) {
		req = xcalloc(1, sizeof *req);
		*con_cls = req;
		return (enum MHD_Result)relay_http_begin(conn, req, method,
		    url);
	}
	/*
	 * Held, its connection suspended: libmicrohttpd may still hand over
	 * the rest of what it has read. It stays in libmicrohttpd's buffer
	 * (nothing is taken) until the part is tried again and resumed.
	 */
	pthread_mutex_lock(&relay.lock);
	held = req->hold_suspended;
	pthread_mutex_unlock(&relay.lock);
	if (held)
		return MHD_YES;
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (req->reading_away && !req->responded) {
			/*
			 * A chunked body past the limit: read away (up to a
			 * bound) to answer 413 at its end, as a sender that
			 * gave no Content-Length can only learn it then.
			 */
			req->too_big += n;
			return req->too_big > RELAY_HTTP_DISCARD_MAX ?
			    MHD_NO : MHD_YES;
		}
		if (req->too_big || req->busy || req->responded)
			return MHD_YES;	/* discarded */
		if (req->body_max == 0)
			return MHD_NO;	/* a body where none belongs */
		if (n > req->body_max - req->body_seen) {
			/*
			 * Too long, no Content-Length: 413 once it ends (also
			 * after a refused part: it says what to change).
			 */
			req->too_big = req->body_seen + n;
			req->reading_away = 1;
			relay_http_pub_done(req);
			return MHD_YES;
		}
		req->body_seen += n;
		if (req->pub_code != 0)
			return MHD_YES;	/* a part was refused: read away */
		if (relay_http_upload(conn, req, upload_data, n) != 0) {
			req->busy = 1;	/* read the rest away, then 503 */
			relay_http_pub_done(req);
		}
		return MHD_YES;
	}
	if (req->responded)
		return MHD_YES;
	if (req->route >= 0 && req->token != NULL &&
	    relay_http_routes[req->route].route == RELAY_PUBLISH &&
	    relay_http_publish_end(conn, req) != 0)
		return MHD_YES;	/* answered once the spool has it */
	if (req->too_big) {
		req->responded = 1;
		return relay_http_too_big(conn, req, url);
	}
	if (req->busy) {
		req->responded = 1;
		return relay_http_busy(conn);
	}
	/*
	 * A long-poll (control, or a held stream list), or a message or a
	 * registration waiting for the spool, comes back.
	 */
	if (relay_http_routes[req->route].route != RELAY_CONTROL &&
	    relay_http_routes[req->route].route != RELAY_STREAMS_GET &&
	    relay_http_routes[req->route].route != RELAY_COMMAND &&
	    relay_http_routes[req->route].route != RELAY_RESULT &&
	    relay_http_routes[req->route].route != RELAY_STREAMS_POST)
		req->responded = 1;
	return (enum MHD_Result)relay_http_dispatch(conn, req);
}

/* A request is over: free its state. */
static void
relay_http_completed(void *cls, struct MHD_Connection *conn,
    void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct relay_req *req = *con_cls;

	if (req == NULL)
		return;
	relay_http_pub_done(req);
	pthread_mutex_lock(&relay.lock);
	if (req->polling) {
		TAILQ_REMOVE(&req->poll_session->polls, req, entry);
		req->polling = 0;
	}
	pthread_mutex_unlock(&relay.lock);
	relay_buffers_give(req->charged);
	relay_store_pub_free(&req->pub);
	free(req->pub_answer);
	free(req->ctl_error);
	free(req->reg_error);
	free(req->body);
	free(req);
	*con_cls = NULL;
}

/* Connections opening and closing: limits and the handshake deadline. */
static void
relay_http_connection(void *cls, struct MHD_Connection *conn,
    void **socket_context, enum MHD_ConnectionNotificationCode toe)
{
	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		relay_conn_started(conn, socket_context);
	else
		relay_conn_closed(socket_context);
}

/* Resolve --listen ADDR:PORT ([v6]:PORT, *:PORT); 0 or -1. */
static int
relay_http_address(const char *listen, struct sockaddr_storage *ss,
    socklen_t *sslen, char **cause)
{
	struct addrinfo hints = { 0 }, *ai = NULL;
	char host[256];
	const char *colon = strrchr(listen, ':'), *h = host;
	size_t hlen;
	int e;

	if (colon == NULL || colon[1] == '\0') {
		xasprintf(cause, "--listen %s: want ADDR:PORT (e.g. "
		    "127.0.0.1:8443, [::1]:8443, *:8443)", listen);
		return -1;
	}
	hlen = (size_t)(colon - listen);
	if (hlen >= 2 && listen[0] == '[' && listen[hlen - 1] == ']') {
		listen++;
		hlen -= 2;
	}
	if (hlen >= sizeof host) {
		xasprintf(cause, "--listen: address too long");
		return -1;
	}
	memcpy(host, listen, hlen);
	host[hlen] = '\0';
	if (hlen == 0 || strcmp(host, "*") == 0)
		h = "0.0.0.0";
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((e = getaddrinfo(h, colon + 1, &hints, &ai)) != 0) {
		xasprintf(cause, "--listen %s: %s", listen, gai_strerror(e));
		return -1;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sslen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/*
 * GnuTLS's defaults, but the relay picks the cipher, AES-128-GCM first:
 * clients (libcurl's GnuTLS) ask for AES-256-GCM first, which moved every
 * byte about 8 % slower on the relay's bulk reads for no gain that
 * matters here; both stay allowed, with ChaCha20-Poly1305.
 */
#define RELAY_TLS_PRIORITIES "NORMAL:%SERVER_PRECEDENCE:-CIPHER-ALL:" \
	"+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305"

/* Start the HTTPS daemon; 0 or -1 with *cause. */
int
relay_http_start(char **cause)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	unsigned flags;
	/* one thread: MHD's own, no pool (a pool of 1 or 0 is warned of) */
	struct MHD_OptionItem pool[] = {
		{ MHD_OPTION_THREAD_POOL_SIZE, relay.opt.threads, NULL },
		{ MHD_OPTION_END, 0, NULL }
	};

	if (relay.opt.threads <= 1)
		pool[0].option = MHD_OPTION_END;
	if (relay_http_address(relay.opt.listen, &ss, &sslen, cause) != 0)
		return -1;
	flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_TLS |
	    MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/*
	 * MHD may accept a few connections over --max-connections so that
	 * relay-conn.c can close a pending one to make room (it keeps its
	 * own counts, per client address too: MHD's own per-address limit
	 * would refuse a site behind a NAT that strangers fill).
	 */
	errno = 0;
	relay.daemon = MHD_start_daemon(flags, 0, NULL, NULL,
	    relay_http_handle, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, relay_log_mhd, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_HTTPS_MEM_KEY, relay.key_pem,
	    MHD_OPTION_HTTPS_MEM_CERT, relay.cert_pem,
	    MHD_OPTION_HTTPS_PRIORITIES, RELAY_TLS_PRIORITIES,
	    MHD_OPTION_CONNECTION_LIMIT,
	    relay.opt.max_connections + RELAY_CONN_SLACK,
	    MHD_OPTION_CONNECTION_TIMEOUT, relay.opt.timeout_s,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)RELAY_CONN_MEMORY,
	    MHD_OPTION_ARRAY, pool,
	    MHD_OPTION_NOTIFY_COMPLETED, relay_http_completed, NULL,
	    MHD_OPTION_NOTIFY_CONNECTION, relay_http_connection, NULL,
	    MHD_OPTION_END);
	if (relay.daemon == NULL) {
		if (errno == EADDRINUSE || errno == EACCES ||
		    errno == EADDRNOTAVAIL)
			xasprintf(cause, "cannot listen on %s: %s",
			    relay.opt.listen, strerror(errno));
		else if (*relay_log_last_mhd() != '\0')
			xasprintf(cause, "cannot listen on %s: %s",
			    relay.opt.listen, relay_log_last_mhd());
		else
			xasprintf(cause, "cannot listen on %s",
			    relay.opt.listen);
		return -1;
	}
	if (relay.opt.spool != NULL && relay_sync_start(cause) != 0) {
		MHD_stop_daemon(relay.daemon);
		relay.daemon = NULL;
		return -1;
	}
	return 0;
}

/*
 * A daemon with the same request handling as relay_http_start's, without
 * TLS and without a listening socket: the caller hands it connections
 * with MHD_add_connection and runs it with MHD_run (tests/fuzz/relay-http.c
 * feeds it requests in process). NULL if MHD cannot start one.
 */
struct MHD_Daemon *
relay_http_start_unlistened(void)
{
	return MHD_start_daemon(MHD_USE_NO_LISTEN_SOCKET |
	    MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL, relay_http_handle, NULL,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 << 10),
	    MHD_OPTION_NOTIFY_COMPLETED, relay_http_completed, NULL,
	    MHD_OPTION_END);
}

/* The port the daemon listens on. */
int
relay_http_port(void)
{
	const union MHD_DaemonInfo *info;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	info = MHD_get_daemon_info(relay.daemon, MHD_DAEMON_INFO_LISTEN_FD);
	if (info == NULL || getsockname(info->listen_fd,
	    (struct sockaddr *)&ss, &len) != 0)
		return -1;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* Stop the daemon: end every read and long-poll, then close. */
void
relay_http_stop(void)
{
	if (relay.daemon == NULL)
		return;
	pthread_mutex_lock(&relay.lock);
	relay.stopping = 1;
	relay_read_wake_all();
	relay_control_wake_all();
	/* parts being tried again (another HTTP thread) are back or done */
	while (relay.retrying > 0)
		pthread_cond_wait(&relay.retry_cond, &relay.lock);
	relay_http_release_held();
	pthread_mutex_unlock(&relay.lock);
	relay_sync_stop();	/* resumes what waits on it */
	MHD_stop_daemon(relay.daemon);
	relay.daemon = NULL;
}
