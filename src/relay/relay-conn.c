/*
 * relay-conn.c: connections that have not shown a valid token yet.
 *
 * A stranger needs no token to open a TCP connection, so connections are
 * in two classes. One is pending from its accept until a request on it
 * carries a valid token: it must get there within --handshake-timeout
 * (TLS handshake and request headers included), and pending connections
 * together hold at most --max-unauthenticated of the --max-connections.
 * When a new connection would pass either limit, the oldest pending one
 * is closed to make room: idle or slow connections from strangers can
 * never lock out a site, whose handshake takes milliseconds. Connections
 * with a valid token are never closed here.
 *
 * A connection is closed with shutdown(2), which makes MHD's worker see
 * the end of the connection and close it itself. MHD tells us
 * (MHD_CONNECTION_NOTIFY_CLOSED) before it closes the descriptor, and the
 * entry leaves the list under conn_lock then, so a descriptor shut down
 * here is always still the connection's own.
 */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>

#include <microhttpd.h>

#include "relay.h"
#include "xmalloc.h"

#define RELAY_CONN_REPORT_S 10		/* at most one line per ... */

/* Close a pending connection (shut its socket down). conn_lock held. */
static void
relay_conn_close(struct relay_conn *c)
{
	if (c->pending) {
		TAILQ_REMOVE(&relay.pending, c, entry);
		c->pending = 0;
		relay.npending--;
	}
	c->closing = 1;
	shutdown(c->fd, SHUT_RDWR);
}

/* Make room for one more connection if a limit is passed. Lock held. */
static void
relay_conn_make_room(struct relay_conn *self)
{
	struct relay_conn *oldest;

	while (relay.npending > relay.opt.max_unauth ||
	    relay.nconns > relay.opt.max_connections) {
		oldest = TAILQ_FIRST(&relay.pending);
		if (oldest == NULL || oldest == self) {
			/* Every other connection has a token: refuse. */
			relay_conn_close(self);
			relay.nconns--;
			self->closing = 2;	/* not counted any more */
			return;
		}
		relay_conn_close(oldest);
		relay.nconns--;
		oldest->closing = 2;
		__atomic_add_fetch(&relay.m.closed_crowded, 1,
		    __ATOMIC_RELAXED);
	}
}

/* A connection was accepted (MHD_CONNECTION_NOTIFY_STARTED). */
void
relay_conn_started(struct MHD_Connection *conn, void **ctx)
{
	const union MHD_ConnectionInfo *ci;
	struct relay_conn *c;
	int one = 1;

	__atomic_add_fetch(&relay.m.connections, 1, __ATOMIC_RELAXED);
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci == NULL)
		return;
	/*
	 * TLS writes several small records per handshake flight and per
	 * answer; with Nagle on, each waits for the peer's delayed ACK (tens
	 * of ms).
	 */
	setsockopt(ci->connect_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c = xcalloc(1, sizeof *c);
	c->fd = ci->connect_fd;
	c->accepted = relay_now_mono();
	c->pending = 1;
	*ctx = c;
	pthread_mutex_lock(&relay.conn_lock);
	TAILQ_INSERT_TAIL(&relay.pending, c, entry);
	relay.npending++;
	relay.nconns++;
	relay_conn_make_room(c);
	pthread_mutex_unlock(&relay.conn_lock);
}

/* A connection is closing (MHD_CONNECTION_NOTIFY_CLOSED). */
void
relay_conn_closed(void **ctx)
{
	struct relay_conn *c = *ctx;

	__atomic_sub_fetch(&relay.m.connections, 1, __ATOMIC_RELAXED);
	if (c == NULL)
		return;
	pthread_mutex_lock(&relay.conn_lock);
	if (c->pending) {
		TAILQ_REMOVE(&relay.pending, c, entry);
		relay.npending--;
	}
	if (c->closing != 2)
		relay.nconns--;
	pthread_mutex_unlock(&relay.conn_lock);
	free(c);
	*ctx = NULL;
}

/* A request on conn carried a valid token: the connection is trusted. */
void
relay_conn_authenticated(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;
	struct relay_conn *c;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci == NULL || (c = ci->socket_context) == NULL)
		return;
	pthread_mutex_lock(&relay.conn_lock);
	if (c->pending) {
		TAILQ_REMOVE(&relay.pending, c, entry);
		c->pending = 0;
		relay.npending--;
	}
	pthread_mutex_unlock(&relay.conn_lock);
}

/* Close pending connections past the handshake deadline (timer). */
void
relay_conn_expire(int64_t now)
{
	struct relay_conn *c;
	int64_t deadline = (int64_t)relay.opt.handshake_s * 1000000;

	pthread_mutex_lock(&relay.conn_lock);
	while ((c = TAILQ_FIRST(&relay.pending)) != NULL &&
	    now - c->accepted >= deadline) {
		relay_conn_close(c);
		__atomic_add_fetch(&relay.m.closed_handshake, 1,
		    __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&relay.conn_lock);
}

/*
 * Say how many connections without a token were closed, at most once in
 * RELAY_CONN_REPORT_S (timer): MHD logs each one as a failed handshake.
 */
void
relay_conn_report(int64_t now)
{
	static uint64_t said_handshake, said_crowded;
	static int64_t said_at;
	uint64_t handshake, crowded;

	if (now - said_at < (int64_t)RELAY_CONN_REPORT_S * 1000000)
		return;
	handshake = __atomic_load_n(&relay.m.closed_handshake,
	    __ATOMIC_RELAXED);
	crowded = __atomic_load_n(&relay.m.closed_crowded, __ATOMIC_RELAXED);
	if (handshake == said_handshake && crowded == said_crowded)
		return;
	relay_log("closed connections that showed no valid token: %llu "
	    "after --handshake-timeout %u s, %llu to make room for newer ones "
	    "(--max-unauthenticated %u)",
	    (unsigned long long)(handshake - said_handshake),
	    relay.opt.handshake_s, (unsigned long long)(crowded - said_crowded),
	    relay.opt.max_unauth);
	said_handshake = handshake;
	said_crowded = crowded;
	said_at = now;
}
