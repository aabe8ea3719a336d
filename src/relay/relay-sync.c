/*
 * relay-sync.c: the spool syncs that acknowledge publish bodies, off the
 * HTTP thread. A body's parts are appended to the spool as they arrive;
 * before its answer acknowledges them they must be durable (fdatasync).
 * That can take milliseconds to seconds on a busy disk, and the HTTP
 * thread serves every other connection: so the publishing connection is
 * suspended, this thread syncs, and the connection is resumed to answer.
 *
 * One thread, a FIFO of requests, taken a round at a time: everything
 * queued when a round begins was written before, so one sync of a file
 * in the round makes all of them durable (group commit): a slow disk
 * costs the requests that wait together one sync per file, not one each.
 * Before the thread starts and after it stops (while the daemon closes)
 * a body is synced in place instead.
 *
 * A command or result message (relay-control.c) is handled the same way:
 * written to the session's control file in number order, synced here,
 * and only then made visible to its site's long-polls and answered.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "relay.h"
#include "xmalloc.h"

/* Stream logs of a round synced at once (relay_sync_ahead). */
#define RELAY_SYNC_PARALLEL 8

TAILQ_HEAD(relay_reqs, relay_req);

static struct {
	pthread_mutex_t lock;
	pthread_cond_t	cond;
	struct relay_reqs queue;
	pthread_t	thread;
	int		running, stop;
	unsigned	waiting;	/* suspended on a sync, for /metrics */
	uint64_t	round;		/* rounds begun (0: in place) */
} relay_sync = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
	.queue = TAILQ_HEAD_INITIALIZER(relay_sync.queue),
};

/*
 * Make the parts a body stored durable, now (any thread). A failure
 * becomes the answer unless the body was already refused.
 */
static void
relay_sync_body(struct relay_req *req, uint64_t round)
{
	char *why = NULL;

	if (relay_store_pub_sync(relay_store_session(req->token->session),
	    &req->pub, round, &why) != 0 && req->pub_code == 0) {
		req->pub_code = 500;
		xasprintf(&req->pub_answer, "spool: %s\n", why);
	}
	free(why);
}

/* The same, in place (any thread). */
void
relay_sync_now(struct relay_req *req)
{
	relay_sync_body(req, 0);
}

/*
 * Make a queued command or result durable, then visible (in number
 * order: the queue is in the order they were written), or keep why not.
 */
static void
relay_sync_control(struct relay_req *req, uint64_t round)
{
	struct relay_session *s = req->ctl_session;
	struct relay_msg *m = req->ctl_msg;
	char *why = NULL;

	req->ctl_msg = NULL;
	if (s->control_synced_round != round) {
		if (relay_spool_control_sync(s, &why) != 0) {
			relay_log("%s", why);
			req->ctl_error = why;
			relay_control_free_msg(m);
			return;
		}
		s->control_synced_round = round;
	}
	pthread_mutex_lock(&relay.lock);
	req->ctl_n = m->n;
	relay_control_commit(s, m);
	pthread_mutex_unlock(&relay.lock);
}

/*
 * Make the streams registered so far in a session durable, then visible
 * (its request is answered with their ids), or keep why not. Once per
 * round: the streams of every registration queued in it were written
 * before the round began.
 */
static void
relay_sync_streams(struct relay_req *req, uint64_t round)
{
	struct relay_session *s = req->reg_session;
	char *why = NULL;
	uint32_t n;

	if (s->streams_synced_round == round)
		return;
	pthread_mutex_lock(&relay.lock);
	n = s->nstreams;	/* their lines are written: synced below */
	pthread_mutex_unlock(&relay.lock);
	if (relay_spool_streams_sync(s, &why) != 0) {
		relay_log("%s", why);
		req->reg_error = why;
		return;
	}
	s->streams_synced_round = round;
	pthread_mutex_lock(&relay.lock);
	relay_store_streams_durable(s, n);
	pthread_mutex_unlock(&relay.lock);
}

/* One stream log synced by relay_sync_ahead. */
struct relay_sync_job {
	struct relay_stream *st;
	int fd;
	int ok;
};

static void *
relay_sync_job_main(void *arg)
{
	struct relay_sync_job *j = arg;

	j->ok = relay_spool_datasync(j->fd) == 0;
	return NULL;
}

/*
 * Before a round is answered in order: sync the distinct stream logs its
 * publish bodies wrote, up to RELAY_SYNC_PARALLEL at once (a disk serves
 * them together, and a journal commits them together), and mark each
 * done in the round. Only a head start: a log that could not be held, or
 * whose sync failed, is synced again in order, where a failure is
 * answered.
 */
static void
relay_sync_ahead(struct relay_reqs *round, uint64_t n)
{
	struct relay_sync_job job[RELAY_SYNC_PARALLEL];
	pthread_t t[RELAY_SYNC_PARALLEL];
	int started[RELAY_SYNC_PARALLEL];
	struct relay_session *s;
	struct relay_stream *st;
	struct relay_req *req;
	size_t nj = 0, i, k;
	char *why = NULL;

	pthread_mutex_lock(&relay.lock);
	TAILQ_FOREACH(req, round, sync_entry) {
		if (req->ctl_session != NULL || req->reg_session != NULL)
			continue;
		s = relay_store_session(req->token->session);
		for (i = 0; s->dir != NULL && i < req->pub.n &&
		    nj < RELAY_SYNC_PARALLEL; i++) {
			st = req->pub.streams[i];
			for (k = 0; k < nj && job[k].st != st; k++)
				;
			if (k < nj || relay.spool_held >= RELAY_SPOOL_HELD)
				continue;
			if (relay_spool_hold(s, st, &why) != 0) {
				free(why);	/* said again in order */
				why = NULL;
				continue;
			}
			job[nj].st = st;
			job[nj].fd = st->fd;
			job[nj].ok = 0;
			nj++;
		}
	}
	pthread_mutex_unlock(&relay.lock);
	if (nj >= 2) {
		for (k = 1; k < nj; k++)
			started[k] = pthread_create(&t[k], NULL,
			    relay_sync_job_main, &job[k]) == 0;
		relay_sync_job_main(&job[0]);
		for (k = 1; k < nj; k++) {
			if (started[k])
				pthread_join(t[k], NULL);
			else
				relay_sync_job_main(&job[k]);
		}
	}
	/* one alone gains nothing: the in-order pass syncs it */
	pthread_mutex_lock(&relay.lock);
	for (k = 0; k < nj; k++) {
		if (nj >= 2 && job[k].ok)
			job[k].st->synced_round = n;
		relay_spool_release(job[k].st);
	}
	pthread_mutex_unlock(&relay.lock);
}

/*
 * The thread: take what is queued as a round, sync each (a file once in
 * the round, several logs at once) and resume its connection, in queue
 * order.
 */
static void *
relay_sync_main(void *arg)
{
	struct relay_reqs round = TAILQ_HEAD_INITIALIZER(round);
	struct relay_req *req;
	uint64_t n;

	(void)arg;
	pthread_mutex_lock(&relay_sync.lock);
	for (;;) {
		while (TAILQ_EMPTY(&relay_sync.queue) && !relay_sync.stop)
			pthread_cond_wait(&relay_sync.cond, &relay_sync.lock);
		if (TAILQ_EMPTY(&relay_sync.queue))
			break;		/* stopping, and all are done */
		TAILQ_CONCAT(&round, &relay_sync.queue, sync_entry);
		n = ++relay_sync.round;
		pthread_mutex_unlock(&relay_sync.lock);
		/* suspended: MHD leaves them alone until resumed */
		relay_sync_ahead(&round, n);
		pthread_mutex_lock(&relay_sync.lock);
		while ((req = TAILQ_FIRST(&round)) != NULL) {
			TAILQ_REMOVE(&round, req, sync_entry);
			pthread_mutex_unlock(&relay_sync.lock);
			/* suspended: MHD leaves req alone until resumed */
			if (req->ctl_session != NULL)
				relay_sync_control(req, n);
			else if (req->reg_session != NULL)
				relay_sync_streams(req, n);
			else
				relay_sync_body(req, n);
			pthread_mutex_lock(&relay_sync.lock);
			relay_sync.waiting--;
			MHD_resume_connection(req->conn);
		}
	}
	relay_sync.running = 0;
	pthread_mutex_unlock(&relay_sync.lock);
	return NULL;
}

/* Start the thread (with a spool); 0, or -1 with *cause. */
int
relay_sync_start(char **cause)
{
	int error;

	pthread_mutex_lock(&relay_sync.lock);
	relay_sync.stop = 0;
	error = pthread_create(&relay_sync.thread, NULL, relay_sync_main,
	    NULL);
	relay_sync.running = error == 0;
	pthread_mutex_unlock(&relay_sync.lock);
	if (error != 0) {
		xasprintf(cause, "cannot start the spool sync thread: %s",
		    strerror(error));
		return -1;
	}
	return 0;
}

/*
 * Stop the thread once every queued body is synced and its connection
 * resumed (before the daemon stops: it must not hold suspended ones).
 */
void
relay_sync_stop(void)
{
	int running;

	pthread_mutex_lock(&relay_sync.lock);
	running = relay_sync.running;
	relay_sync.stop = 1;
	pthread_cond_signal(&relay_sync.cond);
	pthread_mutex_unlock(&relay_sync.lock);
	if (running)
		pthread_join(relay_sync.thread, NULL);
}

/*
 * Called by the HTTP thread when a resumed body is answered: what the
 * sync thread wrote into it (an error answer) is seen through this lock,
 * which the thread held when it resumed the connection.
 */
void
relay_sync_settled(void)
{
	pthread_mutex_lock(&relay_sync.lock);
	pthread_mutex_unlock(&relay_sync.lock);
}

/* Requests suspended on a sync now (queued or in the round). */
unsigned
relay_sync_waiting(void)
{
	unsigned n;

	pthread_mutex_lock(&relay_sync.lock);
	n = relay_sync.waiting;
	pthread_mutex_unlock(&relay_sync.lock);
	return n;
}

/*
 * Queue req for the thread and suspend conn, with what it waits for set
 * first (under the thread's lock): a message m of session s, new streams
 * of session reg, or else a publish body. 1, or 0 if the thread is not
 * running (the caller syncs in place). The access handler is called
 * again once the thread resumes conn.
 */
static int
relay_sync_enqueue(struct MHD_Connection *conn, struct relay_req *req,
    struct relay_session *s, struct relay_msg *m, struct relay_session *reg)
{
	pthread_mutex_lock(&relay_sync.lock);
	if (!relay_sync.running || relay_sync.stop) {
		pthread_mutex_unlock(&relay_sync.lock);
		return 0;
	}
	req->conn = conn;
	req->ctl_msg = m;
	req->ctl_session = m != NULL ? s : NULL;
	req->reg_session = reg;
	MHD_suspend_connection(conn);
	TAILQ_INSERT_TAIL(&relay_sync.queue, req, sync_entry);
	relay_sync.waiting++;
	pthread_cond_signal(&relay_sync.cond);
	pthread_mutex_unlock(&relay_sync.lock);
	return 1;
}

/*
 * A command or result message m of session s, written to its spool (lock
 * held, in number order): hand its sync to the thread (1), or 0 (the
 * caller syncs in place).
 */
int
relay_sync_control_later(struct MHD_Connection *conn, struct relay_req *req,
    struct relay_session *s, struct relay_msg *m)
{
	return relay_sync_enqueue(conn, req, s, m, NULL);
}

/*
 * A registration of new streams in session s (written to its spool, lock
 * held): hand their sync to the thread (1), or 0 (the caller syncs in
 * place).
 */
int
relay_sync_streams_later(struct MHD_Connection *conn, struct relay_req *req,
    struct relay_session *s)
{
	return relay_sync_enqueue(conn, req, NULL, NULL, s);
}

/*
 * A body that stored parts in a spooled session has ended: hand its sync
 * to the thread (1), or sync it here if the thread is not running (0:
 * answer now).
 */
int
relay_sync_later(struct MHD_Connection *conn, struct relay_req *req)
{
	if (relay_sync_enqueue(conn, req, NULL, NULL, NULL))
		return 1;
	relay_sync_now(req);
	return 0;
}
