/*
 * oe-http.c: the HTTP client of the GUI's REST API on libcurl's multi
 * interface, so that the link thread never waits on a request while it
 * also reads spikes: at most one request of each kind is in flight, the
 * thread polls curl's sockets beside its ZMQ sockets and collects what
 * finished. oe_http_run() waits for one request (connect, handshake,
 * stop), still interruptible.
 */
#include "config.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

#include <curl/curl.h>

#include "openephys.h"

static pthread_mutex_t oe_http_global_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned oe_http_global_users;

/* curl's write callback: keep the reply, up to OE_HTTP_BODY_MAX. */
static size_t
oe_http_write(char *data, size_t size, size_t n, void *ctx)
{
	struct oe_http_req *r = ctx;
	size_t len = size * n;
	char *grown;

	if (r->overflow || r->len + len > OE_HTTP_BODY_MAX) {
		r->overflow = 1;
		return len;	/* swallowed: refused when done */
	}
	grown = realloc(r->body, r->len + len + 1);
	if (grown == NULL) {
		r->overflow = 1;
		return len;
	}
	r->body = grown;
	memcpy(r->body + r->len, data, len);
	r->len += len;
	r->body[r->len] = '\0';
	return len;
}

/* Set up the client for http://host:port (not connected). */
int
oe_http_init(struct oe_http *h, const char *host, uint32_t port,
    char **cause)
{
	int i;

	memset(h, 0, sizeof *h);
	pthread_mutex_lock(&oe_http_global_lock);
	if (oe_http_global_users++ == 0)
		curl_global_init(CURL_GLOBAL_DEFAULT);
	pthread_mutex_unlock(&oe_http_global_lock);
	snprintf(h->base, sizeof h->base, "http://%s:%u", host, port);
	h->multi = curl_multi_init();
	for (i = 0; i < OE_NREQ; i++)
		h->req[i].easy = curl_easy_init();
	for (i = 0; i < OE_NREQ; i++)
		if (h->req[i].easy == NULL)
			break;
	if (h->multi == NULL || i < OE_NREQ) {
		oe_http_free(h);
		if (cause != NULL && asprintf(cause, "openephys: cannot set up "
		    "libcurl") == -1)
			*cause = NULL;
		return -1;
	}
	return 0;
}

/* Abandon one request. */
static void
oe_http_abandon(struct oe_http *h, struct oe_http_req *r)
{
	if (r->busy && h->multi != NULL && r->easy != NULL)
		curl_multi_remove_handle(h->multi, r->easy);
	r->busy = r->done = 0;
	free(r->put);
	r->put = NULL;
	curl_slist_free_all(r->hdrs);
	r->hdrs = NULL;
}

/* Abandon every request in flight (the link went down). */
void
oe_http_cancel(struct oe_http *h)
{
	int i;

	for (i = 0; i < OE_NREQ; i++)
		oe_http_abandon(h, &h->req[i]);
}

/* Free the client. */
void
oe_http_free(struct oe_http *h)
{
	int i;

	oe_http_cancel(h);
	for (i = 0; i < OE_NREQ; i++) {
		if (h->req[i].easy != NULL)
			curl_easy_cleanup(h->req[i].easy);
		free(h->req[i].body);
	}
	if (h->multi != NULL)
		curl_multi_cleanup(h->multi);
	memset(h, 0, sizeof *h);
	pthread_mutex_lock(&oe_http_global_lock);
	if (oe_http_global_users > 0 && --oe_http_global_users == 0)
		curl_global_cleanup();
	pthread_mutex_unlock(&oe_http_global_lock);
}

/* Is a request of this kind in flight? */
int
oe_http_busy(struct oe_http *h, enum oe_req_kind kind)
{
	return h->req[kind].busy && !h->req[kind].done;
}

/*
 * Start a request: GET path, or PUT put_json to path. -1 if one of this
 * kind is still in flight (or curl refuses).
 */
int
oe_http_start(struct oe_http *h, enum oe_req_kind kind, const char *path,
    const char *put_json, uint32_t timeout_ms)
{
	struct oe_http_req *r = &h->req[kind];
	CURL *e = r->easy;
	char url[sizeof h->base + 128];

	if (r->busy && !r->done)
		return -1;
	oe_http_abandon(h, r);
	free(r->body);
	r->body = NULL;
	r->len = 0;
	r->overflow = 0;
	r->code = 0;
	r->result = CURLE_OK;
	r->error[0] = '\0';
	r->timeout_ms = timeout_ms;
	snprintf(url, sizeof url, "%s%s", h->base, path);
	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, oe_http_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->error);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	if (put_json != NULL) {
		r->put = strdup(put_json);
		r->hdrs = curl_slist_append(NULL,
		    "Content-Type: application/json");
		if (r->put == NULL || r->hdrs == NULL) {
			oe_http_abandon(h, r);
			return -1;
		}
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT");
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->put);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(r->put));
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->hdrs);
	}
	if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
		oe_http_abandon(h, r);
		return -1;
	}
	r->busy = 1;
	r->done = 0;
	return 0;
}

/* Move every request along; mark the finished ones done. */
void
oe_http_perform(struct oe_http *h)
{
	CURLMsg *m;
	int running, left, i;

	curl_multi_perform(h->multi, &running);
	while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		for (i = 0; i < OE_NREQ; i++) {
			struct oe_http_req *r = &h->req[i];

			if (r->easy != m->easy_handle || !r->busy)
				continue;
			r->result = m->data.result;
			curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE,
			    &r->code);
			curl_multi_remove_handle(h->multi, r->easy);
			r->done = 1;
		}
	}
}

/*
 * The descriptors curl waits on (at most max), and how long it may wait
 * before it must be called again (never more than *timeout_ms).
 */
int
oe_http_wait_fds(struct oe_http *h, int *fds, short *events, int max,
    long *timeout_ms)
{
	fd_set rd, wr, ex;
	int maxfd = -1, fd, n = 0;
	long t = -1;

	FD_ZERO(&rd);
	FD_ZERO(&wr);
	FD_ZERO(&ex);
	if (curl_multi_fdset(h->multi, &rd, &wr, &ex, &maxfd) != CURLM_OK)
		maxfd = -1;
	for (fd = 0; fd <= maxfd && n < max; fd++) {
		short ev = 0;

		if (FD_ISSET(fd, &rd))
			ev |= POLLIN;
		if (FD_ISSET(fd, &wr))
			ev |= POLLOUT;
		if (FD_ISSET(fd, &ex))
			ev |= POLLPRI;
		if (ev == 0)
			continue;
		fds[n] = fd;
		events[n++] = ev;
	}
	curl_multi_timeout(h->multi, &t);
	if (t >= 0 && t < *timeout_ms)
		*timeout_ms = t;
	/* curl is busy but says nothing to wait on: look again soon */
	if (maxfd < 0 && t < 0) {
		int i;

		for (i = 0; i < OE_NREQ; i++)
			if (oe_http_busy(h, (enum oe_req_kind)i) &&
			    *timeout_ms > 10)
				*timeout_ms = 10;
	}
	return n;
}

/*
 * The result of a finished request: 1 with the HTTP code and the body
 * (NULL-safe, valid until the next start of this kind) or 1 with code 0
 * and err when the request failed; 0 while in flight or never started.
 * Collecting it makes the kind free again.
 */
int
oe_http_result(struct oe_http *h, enum oe_req_kind kind, long *code,
    const char **body, char *err, size_t err_len)
{
	struct oe_http_req *r = &h->req[kind];

	if (!r->busy || !r->done)
		return 0;
	r->busy = r->done = 0;
	free(r->put);
	r->put = NULL;
	curl_slist_free_all(r->hdrs);
	r->hdrs = NULL;
	*body = r->body != NULL ? r->body : "";
	*code = 0;
	if (err_len > 0)
		err[0] = '\0';
	if (r->result != CURLE_OK) {
		snprintf(err, err_len, "%s", r->error[0] != '\0' ? r->error :
		    curl_easy_strerror((CURLcode)r->result));
		return 1;
	}
	if (r->overflow) {
		snprintf(err, err_len, "a reply of more than %d bytes",
		    OE_HTTP_BODY_MAX);
		return 1;
	}
	*code = r->code;
	return 1;
}

/* Did the last request of this kind find nobody listening? */
int
oe_http_refused(struct oe_http *h, enum oe_req_kind kind)
{
	return h->req[kind].result == CURLE_COULDNT_CONNECT;
}

/*
 * Run one request to the end (at most its timeout, or until *stopping):
 * 0 with the code and body, or -1 with err.
 */
int
oe_http_run(struct oe_http *h, enum oe_req_kind kind, const char *path,
    const char *put_json, uint32_t timeout_ms, volatile int *stopping,
    long *code, const char **body, char *err, size_t err_len)
{
	int numfds;

	if (oe_http_busy(h, kind))
		oe_http_abandon(h, &h->req[kind]);
	if (oe_http_start(h, kind, path, put_json, timeout_ms) != 0) {
		snprintf(err, err_len, "libcurl refused the request");
		return -1;
	}
	for (;;) {
		oe_http_perform(h);
		if (oe_http_result(h, kind, code, body, err, err_len))
			return *code != 0 ? 0 : -1;
		if (stopping != NULL && *stopping) {
			oe_http_abandon(h, &h->req[kind]);
			snprintf(err, err_len, "stopped");
			return -1;
		}
		curl_multi_poll(h->multi, NULL, 0, 50, &numfds);
	}
}
