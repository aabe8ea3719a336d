/*
 * relay-control.c: remote commands and results between sites, delivered
 * by long-poll (GET /v1/control?after=N holds the connection suspended
 * until a message arrives or the hold ends).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "relay.h"
#include "xmalloc.h"

/* Free one message. */
void
relay_control_free_msg(struct relay_msg *m)
{
	free(m->to);
	free(m->from);
	free(m->status);
	free(m->text);
	free(m);
}

/* What a message costs in memory: five blocks and their bytes. */
static size_t
relay_control_cost(const struct relay_msg *m)
{
	return sizeof *m + strlen(m->to) + strlen(m->from) +
	    strlen(m->status) + strlen(m->text) + 4 +
	    5 * RELAY_MALLOC_OVERHEAD;
}

/*
 * Add a message to a session, dropping the oldest past RELAY_CONTROL_MAX
 * messages or RELAY_CONTROL_BYTES.
 */
void
relay_control_add(struct relay_session *s, struct relay_msg *m)
{
	struct relay_msg *old;

	m->cost = relay_control_cost(m);
	TAILQ_INSERT_TAIL(&s->msgs, m, entry);
	s->nmsgs++;
	s->msg_bytes += m->cost;
	if (m->n >= s->next_msg)
		s->next_msg = m->n + 1;
	while (s->nmsgs > RELAY_CONTROL_MAX ||
	    (s->msg_bytes > RELAY_CONTROL_BYTES && s->nmsgs > 1)) {
		old = TAILQ_FIRST(&s->msgs);
		TAILQ_REMOVE(&s->msgs, old, entry);
		s->nmsgs--;
		s->msg_bytes -= old->cost;
		relay_control_free_msg(old);
	}
}

/* Free a session's messages. */
void
relay_control_free(struct relay_session *s)
{
	struct relay_msg *m;

	while ((m = TAILQ_FIRST(&s->msgs)) != NULL) {
		TAILQ_REMOVE(&s->msgs, m, entry);
		s->nmsgs--;
		s->msg_bytes -= m->cost;
		relay_control_free_msg(m);
	}
}

/* Resume the long-polls of site in session s. Lock held. */
static void
relay_control_wake(struct relay_session *s, const char *site)
{
	struct relay_req *req;

	TAILQ_FOREACH(req, &s->polls, entry) {
		if (req->suspended && !req->poll_list &&
		    strcmp(req->token->site, site) == 0) {
			req->suspended = 0;
			MHD_resume_connection(req->conn);
		}
	}
}

/*
 * A message the spool now holds: make it visible and wake its site's
 * long-polls. Lock held.
 */
void
relay_control_commit(struct relay_session *s, struct relay_msg *m)
{
	char *to = xstrdup(m->to);	/* m may be dropped by the bound */

	relay_control_add(s, m);
	relay_control_wake(s, to);
	free(to);
}

/* The answer of a message that waited for the spool's sync. */
static int
relay_control_synced(struct MHD_Connection *conn, struct relay_req *req)
{
	char *line;
	int rc;

	relay_sync_settled();
	if (req->ctl_error != NULL) {
		rc = relay_http_error(conn, 500, "spool: %s", req->ctl_error);
		free(req->ctl_error);
		req->ctl_error = NULL;
		return rc;
	}
	xasprintf(&line, "%" PRIu64 "\n", req->ctl_n);
	return relay_http_respond(conn, 202, "text/plain; charset=utf-8",
	    line, strlen(line));
}

/* POST /v1/command or /v1/result: queue a message for a site. */
int
relay_control_post(struct MHD_Connection *conn, struct relay_req *req,
    int is_result)
{
	struct relay_session *s = relay_store_session(req->token->session);
	const char *to = relay_http_arg(conn, "to");
	const char *id = relay_http_arg(conn, "id");
	const char *status = relay_http_arg(conn, "status");
	struct relay_msg *m;
	const char *text;
	uint64_t n;
	size_t len;
	char *why = NULL, *line;
	int rc;

	if (req->ctl_session != NULL)
		return relay_control_synced(conn, req);
	if (to == NULL || relay_store_site(s, to) == NULL) {
		return relay_http_error(conn, 404, "no site '%s' in session %s "
		    "(give to=SITE, a site of the tokens file)",
		    to != NULL ? to : "", s->name);
	}
	if (relay_args_u64(id, &n) != 0) {
		return relay_http_error(conn, 400, "give id=N, a decimal "
		    "command id");
	}
	if (is_result && (status == NULL || (strcmp(status, "ok") != 0 &&
	    strcmp(status, "error") != 0))) {
		return relay_http_error(conn, 400, "give status=ok or "
		    "status=error");
	}
	if (!is_result && !relay_tokens_may_command(req->token, to)) {
		return relay_http_error(conn, 403, "site %s may not send "
		    "commands to %s (see its COMMAND field in the tokens "
		    "file)", req->token->site, to);
	}
	len = req->body_len;
	text = req->body != NULL ? (const char *)req->body : "";
	if (len > 0 && text[len - 1] == '\n')
		len--;	/* one trailing newline is not part of the text */
	if (len > 0 && text[len - 1] == '\r')
		len--;
	if (!is_result && len == 0) {
		return relay_http_error(conn, 400, "empty command: the body "
		    "is the command line");
	}
	m = xcalloc(1, sizeof *m);
	m->is_result = is_result;
	m->to = xstrdup(to);
	m->from = xstrdup(req->token->site);
	m->id = n;
	m->status = xstrdup(is_result ? status : "-");
	m->text = relay_args_escape(text, len);
	/*
	 * Written to the spool in number order; visible (and answered)
	 * only once synced: by relay-sync.c's thread while conn waits, so
	 * that a slow disk holds up no other request, or here.
	 */
	pthread_mutex_lock(&relay.lock);
	m->n = s->next_msg;
	if (relay_spool_control(s, m, &why) != 0 ||
	    (s->control_fd != -1 && !relay_sync_control_later(conn, req, s, m) &&
	    relay_spool_control_sync(s, &why) != 0)) {
		pthread_mutex_unlock(&relay.lock);
		relay_log("%s", why);
		rc = relay_http_error(conn, 500, "spool: %s", why);
		free(why);
		relay_control_free_msg(m);
		return rc;
	}
	if (req->ctl_session != NULL) {
		s->next_msg = m->n + 1;	/* taken, visible once synced */
		pthread_mutex_unlock(&relay.lock);
		return MHD_YES;
	}
	relay_control_commit(s, m);
	n = m->n;
	pthread_mutex_unlock(&relay.lock);
	xasprintf(&line, "%" PRIu64 "\n", n);
	return relay_http_respond(conn, 202, "text/plain; charset=utf-8",
	    line, strlen(line));
}

/*
 * The messages for site with n > after, as lines (NULL if none): whole
 * lines up to RELAY_CONTROL_ANSWER bytes (at least one line); the client
 * asks again after the last one it got for the rest.
 */
static char *
relay_control_lines(struct relay_session *s, const char *site,
    uint64_t after, size_t *len)
{
	struct relay_msg *m;
	char *out = NULL;
	size_t cap = 0, l;
	FILE *f;

	*len = 0;
	if ((f = open_memstream(&out, &cap)) == NULL)
		fatal("open_memstream failed");
	TAILQ_FOREACH(m, &s->msgs, entry) {
		if (m->n <= after || strcmp(m->to, site) != 0)
			continue;
		l = strlen(m->from) + strlen(m->status) + strlen(m->text) + 64;
		if (*len > 0 && *len + l > RELAY_CONTROL_ANSWER)
			break;
		if (m->is_result) {
			fprintf(f, "%" PRIu64 " result %s %" PRIu64 " %s %s\n",
			    m->n, m->from, m->id, m->status, m->text);
		} else {
			fprintf(f, "%" PRIu64 " command %s %" PRIu64 " %s\n",
			    m->n, m->from, m->id, m->text);
		}
		fflush(f);
		*len = cap;
	}
	fclose(f);
	if (*len == 0) {
		free(out);
		return NULL;
	}
	return out;
}

/*
 * A long-poll's hold=S (whole seconds, 0 to max; NULL: dflt): sets req's
 * deadline and returns 0, or answers 400 (*rc) and returns -1.
 */
int
relay_control_hold(struct MHD_Connection *conn, struct relay_req *req,
    const char *hold, unsigned dflt, unsigned max, int *rc)
{
	uint64_t h = dflt;

	if (hold != NULL && (relay_args_u64(hold, &h) != 0 || h > max)) {
		*rc = relay_http_error(conn, 400, "give hold=S with S a whole "
		    "number of seconds from 0 to %u", max);
		return -1;
	}
	req->poll_deadline = relay_now_mono() + (int64_t)h * 1000000;
	return 0;
}

/* GET /v1/control?after=N[&hold=S]: answer, or hold the connection. */
int
relay_control_poll(struct MHD_Connection *conn, struct relay_req *req)
{
	struct relay_session *s = relay_store_session(req->token->session);
	const char *after = relay_http_arg(conn, "after");
	const char *hold = relay_http_arg(conn, "hold");
	uint64_t a = 0;
	size_t len;
	char *out;
	int rc;

	if (!req->polling) {
		if (after != NULL && relay_args_u64(after, &a) != 0) {
			return relay_http_error(conn, 400, "give after=N, the "
			    "last control message number seen (0 at first)");
		}
		if (relay_control_hold(conn, req, hold, RELAY_CONTROL_HOLD,
		    RELAY_CONTROL_HOLD, &rc) != 0)
			return rc;
		req->poll_after = a;
	}
	pthread_mutex_lock(&relay.lock);
	out = relay_control_lines(s, req->token->site, req->poll_after, &len);
	if (out != NULL || relay.stopping || req->poll_expired ||
	    relay_now_mono() >= req->poll_deadline) {
		if (req->polling) {
			TAILQ_REMOVE(&s->polls, req, entry);
			req->polling = 0;
		}
		pthread_mutex_unlock(&relay.lock);
		if (out != NULL) {
			return relay_http_respond(conn, 200,
			    "text/plain; charset=utf-8", out, len);
		}
		return relay_http_respond(conn, relay.stopping ? 503 : 204,
		    "text/plain; charset=utf-8", NULL, 0);
	}
	if (!req->polling) {
		req->polling = 1;
		req->poll_session = s;
		req->conn = conn;
		TAILQ_INSERT_TAIL(&s->polls, req, entry);
	}
	req->suspended = 1;
	MHD_suspend_connection(conn);
	pthread_mutex_unlock(&relay.lock);
	return MHD_YES;
}

/* Resume long-polls whose hold is over (timer thread, lock held). */
void
relay_control_wake_expired(int64_t now)
{
	struct relay_req *req;
	size_t i;

	for (i = 0; i < relay.nsessions; i++) {
		TAILQ_FOREACH(req, &relay.sessions[i]->polls, entry) {
			if (req->suspended && now >= req->poll_deadline) {
				req->poll_expired = 1;
				req->suspended = 0;
				MHD_resume_connection(req->conn);
			}
		}
	}
}

/*
 * Resume the held stream lists of session s (a stream became listed;
 * lock held): each answers with the new list.
 */
void
relay_control_wake_lists(struct relay_session *s)
{
	struct relay_req *req;

	TAILQ_FOREACH(req, &s->polls, entry) {
		if (req->suspended && req->poll_list) {
			req->suspended = 0;
			MHD_resume_connection(req->conn);
		}
	}
}

/* Resume every long-poll (shutdown; lock held). */
void
relay_control_wake_all(void)
{
	struct relay_req *req;
	size_t i;

	for (i = 0; i < relay.nsessions; i++) {
		TAILQ_FOREACH(req, &relay.sessions[i]->polls, entry) {
			if (req->suspended) {
				req->suspended = 0;
				MHD_resume_connection(req->conn);
			}
		}
	}
}
