/*
 * relay-conn.c: connection limits, and connections that have not shown a
 * valid token yet.
 *
 * A stranger needs no token to open a TCP connection, so connections are
 * in two classes. One is pending from its accept until a request on it
 * carries a valid token: it must get there within --handshake-timeout
 * (TLS handshake and request headers included), and pending connections
 * together hold at most --max-unauthenticated of the --max-connections.
 * When a new connection would pass --max-unauthenticated,
 * --max-connections or --max-per-ip (connections from its client
 * address), the oldest pending one (from that address, for the last) is
 * closed to make room: idle or slow connections from strangers can never
 * lock out a site, whose handshake takes milliseconds, not even strangers
 * behind the site's own NAT. Only when every other connection that counts
 * has shown a valid token is the new one refused.
 *
 * Connections with a valid token are closed here only past
 * --max-per-token: when one more connection shows a token that already
 * has that many, the token's oldest connection is closed (a console
 * keeps up to 8, and 9 for a moment while it changes what it reads; more
 * are connections it gave up on, half-open after a
 * network fault, or a client in a loop), so one site cannot take the
 * relay's connections from the others.
 *
 * A connection is closed with shutdown(2), which makes MHD's worker see
 * the end of the connection and close it itself; it leaves the counts at
 * once. MHD tells us (MHD_CONNECTION_NOTIFY_CLOSED) before it closes the
 * descriptor, and the entry leaves the lists under conn_lock then, so a
 * descriptor shut down here is always still the connection's own.
 */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "relay.h"
#include "xmalloc.h"

#define RELAY_CONN_REPORT_S 10		/* at most one line per ... */

/* Why a connection was closed to make room (its counter). */
enum relay_conn_why {
	RELAY_CONN_UNAUTH,
	RELAY_CONN_TOTAL,
	RELAY_CONN_IP,
	RELAY_CONN_TOKEN,
};

/* The count of sa's address (a new one at 0 if not there). Lock held. */
static struct relay_addr *
relay_conn_addr(const struct sockaddr *sa)
{
	unsigned char key[sizeof ((struct relay_addr *)0)->key];
	const unsigned char *a;
	struct relay_addr *e;
	size_t len, i;
	uint32_t h = 2166136261u;	/* FNV-1a */

	switch (sa->sa_family) {
	case AF_INET:
		a = (const unsigned char *)
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
		len = 4;
		break;
	case AF_INET6:
		a = (const unsigned char *)
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		len = 16;
		break;
	default:
		return NULL;
	}
	key[0] = (unsigned char)sa->sa_family;
	memcpy(key + 1, a, len);
	len++;
	for (i = 0; i < len; i++)
		h = (h ^ key[i]) * 16777619u;
	h %= RELAY_ADDR_BUCKETS;
	for (e = relay.addrs[h]; e != NULL; e = e->next) {
		if (e->len == len && memcmp(e->key, key, len) == 0)
			return e;
	}
	e = xcalloc(1, sizeof *e);
	memcpy(e->key, key, len);
	e->len = (unsigned char)len;
	e->next = relay.addrs[h];
	relay.addrs[h] = e;
	return e;
}

/* One connection less from e's address; forget it at 0. Lock held. */
static void
relay_conn_addr_put(struct relay_addr *e)
{
	struct relay_addr **pp;
	uint32_t h = 2166136261u;
	size_t i;

	if (--e->n > 0)
		return;
	for (i = 0; i < e->len; i++)
		h = (h ^ e->key[i]) * 16777619u;
	for (pp = &relay.addrs[h % RELAY_ADDR_BUCKETS]; *pp != NULL;
	    pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			free(e);
			return;
		}
	}
	fatal("relay: a client address is missing from its table");
}

/* Note e's address as the last one past --max-per-ip. Lock held. */
static void
relay_conn_note_ip(const struct relay_addr *e)
{
	int family = e->key[0] == AF_INET6 ? AF_INET6 : AF_INET;

	if (inet_ntop(family, e->key + 1, relay.crowded_ip,
	    sizeof relay.crowded_ip) == NULL)
		snprintf(relay.crowded_ip, sizeof relay.crowded_ip, "?");
}

/* Take c out of every count. Lock held. */
static void
relay_conn_uncount(struct relay_conn *c)
{
	if (!c->counted)
		return;
	c->counted = 0;
	if (c->pending) {
		TAILQ_REMOVE(&relay.pending, c, entry);
		c->pending = 0;
		relay.npending--;
	}
	TAILQ_REMOVE(&relay.conns, c, all);
	relay.nconns--;
	if (c->addr != NULL) {
		relay_conn_addr_put(c->addr);
		c->addr = NULL;
	}
	if (c->token != NULL)
		c->token->nconns--;
}

/* Close a connection (shut its socket down), uncounted. Lock held. */
static void
relay_conn_close(struct relay_conn *c)
{
	relay_conn_uncount(c);
	shutdown(c->fd, SHUT_RDWR);
}

/* Close c to make room for a newer connection. Lock held. */
static void
relay_conn_crowd(struct relay_conn *c, enum relay_conn_why why)
{
	static uint64_t *const counter[] = {
		[RELAY_CONN_UNAUTH] = &relay.m.closed_unauth,
		[RELAY_CONN_TOTAL] = &relay.m.closed_total,
		[RELAY_CONN_IP] = &relay.m.closed_ip,
		[RELAY_CONN_TOKEN] = &relay.m.closed_token,
	};

	relay_conn_close(c);
	__atomic_add_fetch(&relay.m.closed_crowded, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(counter[why], 1, __ATOMIC_RELAXED);
}

/* The oldest pending connection from addr other than self, or NULL. */
static struct relay_conn *
relay_conn_oldest_from(const struct relay_addr *addr,
    const struct relay_conn *self)
{
	struct relay_conn *c;

	TAILQ_FOREACH(c, &relay.pending, entry) {
		if (c->addr == addr && c != self)
			return c;
	}
	return NULL;
}

/* Make room for the new pending connection self. Lock held. */
static void
relay_conn_make_room(struct relay_conn *self)
{
	struct relay_conn *oldest;

	uint64_t *refused;

	while (self->addr != NULL && self->addr->n > relay.opt.max_per_ip) {
		relay_conn_note_ip(self->addr);
		oldest = relay_conn_oldest_from(self->addr, self);
		if (oldest == NULL) {
			/* the rest from this address showed a token */
			refused = &relay.m.refused_ip;
			goto refuse;
		}
		relay_conn_crowd(oldest, RELAY_CONN_IP);
	}
	while (relay.npending > relay.opt.max_unauth ||
	    relay.nconns > relay.opt.max_connections) {
		int unauth = relay.npending > relay.opt.max_unauth;

		oldest = TAILQ_FIRST(&relay.pending);
		if (oldest == NULL || oldest == self) {
			/* every other one showed a token */
			refused = unauth ? &relay.m.refused_unauth :
			    &relay.m.refused_total;
			goto refuse;
		}
		relay_conn_crowd(oldest, unauth ? RELAY_CONN_UNAUTH :
		    RELAY_CONN_TOTAL);
	}
	return;
refuse:
	relay_conn_close(self);
	__atomic_add_fetch(refused, 1, __ATOMIC_RELAXED);
}

/* A connection was accepted (MHD_CONNECTION_NOTIFY_STARTED). */
void
relay_conn_started(struct MHD_Connection *conn, void **ctx)
{
	const union MHD_ConnectionInfo *ci, *ai;
	struct relay_conn *c;
	int one = 1;

	__atomic_add_fetch(&relay.m.connections, 1, __ATOMIC_RELAXED);
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci == NULL)
		return;
	ai = MHD_get_connection_info(conn,
	    MHD_CONNECTION_INFO_CLIENT_ADDRESS);
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
	c->counted = 1;
	*ctx = c;
	pthread_mutex_lock(&relay.conn_lock);
	TAILQ_INSERT_TAIL(&relay.pending, c, entry);
	TAILQ_INSERT_TAIL(&relay.conns, c, all);
	relay.npending++;
	relay.nconns++;
	if (ai != NULL && ai->client_addr != NULL &&
	    (c->addr = relay_conn_addr(ai->client_addr)) != NULL)
		c->addr->n++;
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
	relay_conn_uncount(c);
	pthread_mutex_unlock(&relay.conn_lock);
	free(c);
	*ctx = NULL;
}

/*
 * A request on conn carried the valid token t: the connection is trusted,
 * and counts against t's --max-per-token from now on.
 */
void
relay_conn_authenticated(struct MHD_Connection *conn, struct relay_token *t)
{
	const union MHD_ConnectionInfo *ci;
	struct relay_conn *c, *o;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci == NULL || (c = ci->socket_context) == NULL)
		return;
	pthread_mutex_lock(&relay.conn_lock);
	if (c->pending && c->counted) {
		TAILQ_REMOVE(&relay.pending, c, entry);
		c->pending = 0;
		relay.npending--;
		c->token = t;
		t->nconns++;
		/* the token's oldest connections make room */
		while (t->nconns > relay.opt.max_per_token) {
			TAILQ_FOREACH(o, &relay.conns, all) {
				if (o->token == t && o != c)
					break;
			}
			if (o == NULL)
				break;	/* cannot be: c alone is 1 */
			relay.crowded_site = t->site;
			relay_conn_crowd(o, RELAY_CONN_TOKEN);
		}
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

/* Forget the address table (at exit, after the daemon stopped). */
void
relay_conn_free(void)
{
	struct relay_addr *e, *next;
	size_t i;

	for (i = 0; i < RELAY_ADDR_BUCKETS; i++) {
		for (e = relay.addrs[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
		relay.addrs[i] = NULL;
	}
}

/*
 * Say how many connections were closed for a limit, and which, at most
 * once in RELAY_CONN_REPORT_S (timer): MHD logs each one as a failed
 * handshake or a closed connection.
 */
void
relay_conn_report(int64_t now)
{
	enum { HANDSHAKE, UNAUTH, TOTAL, IP, TOKEN, R_IP, R_UNAUTH, R_TOTAL,
	    N };
	uint64_t *const counter[N] = {
		&relay.m.closed_handshake, &relay.m.closed_unauth,
		&relay.m.closed_total, &relay.m.closed_ip,
		&relay.m.closed_token, &relay.m.refused_ip,
		&relay.m.refused_unauth, &relay.m.refused_total,
	};
	char ip[sizeof relay.crowded_ip];
	const char *site;
	static uint64_t said[N];
	static int64_t said_at;
	unsigned long long d[N];
	char *line = NULL;
	size_t len, i, any = 0;
	FILE *f;

	if (now - said_at < (int64_t)RELAY_CONN_REPORT_S * 1000000)
		return;
	for (i = 0; i < N; i++) {
		uint64_t n = __atomic_load_n(counter[i], __ATOMIC_RELAXED);

		d[i] = (unsigned long long)(n - said[i]);
		said[i] = n;
		any += d[i] != 0;
	}
	if (any == 0)
		return;
	pthread_mutex_lock(&relay.conn_lock);
	memcpy(ip, relay.crowded_ip, sizeof ip);
	site = relay.crowded_site;
	pthread_mutex_unlock(&relay.conn_lock);
	if ((f = open_memstream(&line, &len)) == NULL)
		fatal("open_memstream failed");
	if (d[HANDSHAKE])
		fprintf(f, "; %llu showed no valid token within "
		    "--handshake-timeout %u s", d[HANDSHAKE],
		    relay.opt.handshake_s);
	if (d[UNAUTH])
		fprintf(f, "; %llu without a token made room for newer ones "
		    "(--max-unauthenticated %u)", d[UNAUTH],
		    relay.opt.max_unauth);
	if (d[TOTAL])
		fprintf(f, "; %llu without a token made room for newer ones "
		    "(--max-connections %u)", d[TOTAL],
		    relay.opt.max_connections);
	if (d[IP])
		fprintf(f, "; %llu without a token made room for newer ones "
		    "from their address (--max-per-ip %u; the last from %s)",
		    d[IP], relay.opt.max_per_ip, ip);
	if (d[TOKEN])
		fprintf(f, "; %llu of a token made room for its newer ones "
		    "(--max-per-token %u; the last of site %s)", d[TOKEN],
		    relay.opt.max_per_token, site != NULL ? site : "?");
	if (d[R_IP])
		fprintf(f, "; %llu new ones refused at --max-per-ip %u, every "
		    "other connection from their address having shown a token "
		    "(the last from %s)", d[R_IP], relay.opt.max_per_ip, ip);
	if (d[R_UNAUTH])
		fprintf(f, "; %llu new ones refused at --max-unauthenticated "
		    "%u", d[R_UNAUTH], relay.opt.max_unauth);
	if (d[R_TOTAL])
		fprintf(f, "; %llu new ones refused at --max-connections %u, "
		    "every other connection having shown a token",
		    d[R_TOTAL], relay.opt.max_connections);
	fclose(f);
	relay_log("closed connections: %s", line + 2);
	free(line);
	said_at = now;
}
