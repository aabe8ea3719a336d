/* relay-http.c: the HTTPS daemon, routing, authentication and limits. */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
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

/* Queue an answer (body malloc'd or NULL) with an optional header. */
static int
relay_http_answer(struct MHD_Connection *conn, unsigned code,
    const char *type, char *body, size_t len, const char *hname,
    const char *hvalue)
{
	struct MHD_Response *resp;
	int rc;

	if (body == NULL)
		resp = MHD_create_response_from_buffer(0, (void *)"",
		    MHD_RESPMEM_PERSISTENT);
	else
		resp = MHD_create_response_from_buffer(len, body,
		    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	if (body != NULL && type != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		    type);
	if (hname != NULL)
		MHD_add_response_header(resp, hname, hvalue);
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

/* GET /v1/streams: the streams the token may read, and its own. */
static int
relay_http_streams_get(struct MHD_Connection *conn, struct relay_req *req)
{
	struct relay_session *s = relay_store_session(req->token->session);
	struct relay_stream *st;
	FILE *f;
	char *out = NULL, epoch[24];
	size_t len;
	uint32_t i;

	if ((f = open_memstream(&out, &len)) == NULL)
		fatal("open_memstream failed");
	pthread_mutex_lock(&relay.lock);
	for (i = 0; i < s->nstreams; i++) {
		st = s->streams[i];
		if (!relay_tokens_may_read(req->token, st->site, st->name))
			continue;
		fprintf(f, "%" PRIu32 " %s %s %" PRIu32 " %" PRIu64 "\n",
		    st->id, st->site, st->name, st->units, st->highest);
	}
	pthread_mutex_unlock(&relay.lock);
	fclose(f);
	/* which life of the session these seqs belong to */
	snprintf(epoch, sizeof epoch, "%" PRId64, s->epoch_us);
	return relay_http_answer(conn, 200, RELAY_TEXT, out, len,
	    RELAY_EPOCH_HEADER, epoch);
}

/* POST /v1/streams: register NAME UNITS lines, answer ID NAME NEXT_SEQ. */
static int
relay_http_streams_post(struct MHD_Connection *conn, struct relay_req *req)
{
	struct relay_session *s = relay_store_session(req->token->session);
	struct relay_stream *st;
	const char *p, *end, *nl;
	char name[RELAY_NAME_MAX + 1], *why = NULL, *out = NULL;
	uint32_t units;
	size_t len, pass;
	FILE *f;
	int rc;

	if (req->body == NULL || req->body->size == 0) {
		return relay_http_error(conn, 400, "empty body: send lines "
		    "NAME UNITS");
	}
	if ((f = open_memstream(&out, &len)) == NULL)
		fatal("open_memstream failed");
	/* Check every line first, then register: all or nothing. */
	for (pass = 0; pass < 2; pass++) {
		p = (const char *)req->body->data;
		end = p + req->body->size;
		for (; p < end; p = nl + 1) {
			if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
				nl = end;
			if (nl == p || (nl == p + 1 && *p == '\r'))
				continue;
			if (relay_args_stream_line(p, (size_t)(nl - p), name,
			    &units, &why) != 0) {
				rc = relay_http_error(conn, 400, "%s", why);
				goto out;
			}
			if (pass == 0) {
				if (relay_tokens_may_publish(req->token, name))
					continue;
				rc = relay_http_error(conn, 403, "site %s may "
				    "not publish stream '%s' (see its PUBLISH "
				    "field in the tokens file)",
				    req->token->site, name);
				goto out;
			}
			pthread_mutex_lock(&relay.lock);
			st = relay_store_register(s, req->token->site, name,
			    units, &why);
			if (st != NULL) {
				fprintf(f, "%" PRIu32 " %s %" PRIu64 "\n",
				    st->id, st->name, st->highest + 1);
			}
			pthread_mutex_unlock(&relay.lock);
			if (st == NULL) {
				fprintf(stderr, "synbridge-relay: %s\n", why);
				rc = relay_http_error(conn, 500, "spool: %s",
				    why);
				goto out;
			}
		}
	}
	fclose(f);
	return relay_http_respond(conn, 200, RELAY_TEXT, out,
	    len);
out:
	fclose(f);
	free(out);
	free(why);
	return rc;
}

/* POST /v1/publish. */
static int
relay_http_publish(struct MHD_Connection *conn, struct relay_req *req)
{
	struct relay_session *s = relay_store_session(req->token->session);
	char *answer = NULL, retry[16];
	unsigned code, retry_after = 1;

	code = relay_store_publish(s, req->token, req->body, &answer,
	    &retry_after);
	if (code == 429) {
		snprintf(retry, sizeof retry, "%u", retry_after);
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
		    "streams"), wait == NULL || strcmp(wait, "1") == 0);
	case RELAY_COMMAND:
		return relay_control_post(conn, req, 0);
	case RELAY_RESULT:
		return relay_control_post(conn, req, 1);
	case RELAY_CONTROL:
		return relay_control_poll(conn, req);
	}
	return MHD_NO;
}

/* Answer 413 for a body over the route's limit. */
static int
relay_http_too_big(struct MHD_Connection *conn, struct relay_req *req,
    const char *url)
{
	return relay_http_error(conn, 413, "body of %" PRIu64 " bytes is over "
	    "the limit of %zu for %s: send smaller bodies", req->too_big,
	    req->body_max, url);
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
	req->t1 = relay_store_time(req->token != NULL ?
	    relay_store_session(req->token->session) :
	    relay.nsessions == 1 ? relay.sessions[0] : NULL);
	req->body_max = r->body == 2 ? relay.opt.max_body :
	    r->body == 1 ? RELAY_TEXT_BODY_MAX : 0;
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
		if (len <= RELAY_DISCARD_MAX)
			return MHD_YES;
		req->responded = 1;
		return relay_http_too_big(conn, req, url);
	}
	if (cl != NULL && relay_args_u64(cl, &len) == 0 && len > 0) {
		req->body = xcalloc(1, sizeof *req->body);
		req->body->refs = 1;
		req->body->data = xmalloc(len);
		req->body_cap = len;
	}
	return MHD_YES;
}

/* Add upload data to the request body; MHD_NO if over the limit. */
static int
relay_http_upload(struct relay_req *req, const char *data, size_t len)
{
	size_t cap;

	if (req->body == NULL) {
		req->body = xcalloc(1, sizeof *req->body);
		req->body->refs = 1;
	}
	if (len > req->body_max - req->body->size)
		return MHD_NO;
	if (req->body->size + len > req->body_cap) {
		cap = req->body_cap * 2 + len + 4096;
		if (cap > req->body_max)
			cap = req->body_max;
		req->body->data = xrealloc(req->body->data, cap);
		req->body_cap = cap;
	}
	memcpy(req->body->data + req->body->size, data, len);
	req->body->size += len;
	return MHD_YES;
}

/* MHD's access handler. */
static enum MHD_Result
relay_http_handle(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct relay_req *req = *con_cls;

	if (req == NULL) {
		req = xcalloc(1, sizeof *req);
		*con_cls = req;
		return (enum MHD_Result)relay_http_begin(conn, req, method,
		    url);
	}
	if (*upload_data_size > 0) {
		if (req->too_big) {
			*upload_data_size = 0;	/* discarded */
			return MHD_YES;
		}
		if (!req->responded && (req->body_max == 0 ||
		    relay_http_upload(req, upload_data, *upload_data_size) !=
		    MHD_YES))
			return MHD_NO;	/* too long, no Content-Length */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (req->responded)
		return MHD_YES;
	if (req->too_big) {
		req->responded = 1;
		return relay_http_too_big(conn, req, url);
	}
	if (relay_http_routes[req->route].route != RELAY_CONTROL)
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
	pthread_mutex_lock(&relay.lock);
	if (req->polling) {
		TAILQ_REMOVE(&req->poll_session->polls, req, entry);
		req->polling = 0;
	}
	relay_chunk_unref(req->body);
	pthread_mutex_unlock(&relay.lock);
	free(req);
	*con_cls = NULL;
}

/* Count connections for /metrics. */
static void
relay_http_connection(void *cls, struct MHD_Connection *conn,
    void **socket_context, enum MHD_ConnectionNotificationCode toe)
{
	const union MHD_ConnectionInfo *ci;
	int one = 1;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		__atomic_add_fetch(&relay.m.connections, 1, __ATOMIC_RELAXED);
		/*
		 * TLS writes several small records per handshake flight and
		 * per answer; with Nagle on, each waits for the peer's delayed
		 * ACK (tens of ms).
		 */
		ci = MHD_get_connection_info(conn,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci != NULL)
			setsockopt(ci->connect_fd, IPPROTO_TCP, TCP_NODELAY,
			    &one, sizeof one);
	} else
		__atomic_sub_fetch(&relay.m.connections, 1, __ATOMIC_RELAXED);
}

/* MHD's error log. */
static void __attribute__((format(printf, 2, 0)))
relay_http_log(void *cls, const char *fmt, va_list ap)
{
	fprintf(stderr, "synbridge-relay: ");
	vfprintf(stderr, fmt, ap);
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

/* Start the HTTPS daemon; 0 or -1 with *cause. */
int
relay_http_start(char **cause)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	unsigned flags;

	if (relay_http_address(relay.opt.listen, &ss, &sslen, cause) != 0)
		return -1;
	flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_TLS |
	    MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	relay.daemon = MHD_start_daemon(flags, 0, NULL, NULL,
	    relay_http_handle, NULL,
	    MHD_OPTION_EXTERNAL_LOGGER, relay_http_log, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_HTTPS_MEM_KEY, relay.key_pem,
	    MHD_OPTION_HTTPS_MEM_CERT, relay.cert_pem,
	    MHD_OPTION_CONNECTION_LIMIT, relay.opt.max_connections,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, relay.opt.max_per_ip,
	    MHD_OPTION_CONNECTION_TIMEOUT, relay.opt.timeout_s,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 << 10),
	    MHD_OPTION_THREAD_POOL_SIZE, relay.opt.threads,
	    MHD_OPTION_NOTIFY_COMPLETED, relay_http_completed, NULL,
	    MHD_OPTION_NOTIFY_CONNECTION, relay_http_connection, NULL,
	    MHD_OPTION_END);
	if (relay.daemon == NULL) {
		xasprintf(cause, "cannot listen on %s (address in use, or a "
		    "bad certificate or key?)", relay.opt.listen);
		return -1;
	}
	return 0;
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
	pthread_mutex_unlock(&relay.lock);
	MHD_stop_daemon(relay.daemon);
	relay.daemon = NULL;
}
