/*
 * ramp-net.c: the UDP socket of a RAMP link and the sb-devlink steps that
 * keep it: connect = socket + bind, work = wait on the socket and the wake
 * pipe and read what arrived, disconnect = close. There is no handshake:
 * the final original version built a ready datagram but never sent one.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sb-args.h"
#include "ramp.h"

/*
 * The original node set SO_REUSEADDR on its socket, and so does synbridge.
 * On Linux that lets a second socket with the same option share a UDP
 * port and silently take datagrams, so before binding synbridge first
 * tries the port without it: a port someone holds is a clear "address in
 * use" at load. 0 binds straight away, as the original did.
 */
#define RAMP_EXCLUSIVE_PROBE 1

#define RAMP_RX_BUF 64		/* bytes kept of a datagram (8 are used) */

/* "1.2.3.4:5005" */
const char *
ramp_addr_text(const struct sockaddr_in *sa, char *buf, size_t len)
{
	char ip[INET_ADDRSTRLEN];

	if (inet_ntop(AF_INET, &sa->sin_addr, ip, sizeof ip) == NULL)
		snprintf(ip, sizeof ip, "?");
	snprintf(buf, len, "%s:%u", ip, ntohs(sa->sin_port));
	return buf;
}

/*
 * Parse key's value HOST:PORT (IPv4 address or name) into *sa and a text
 * for messages; PORT 1-65535, or 0 too when zero_ok. 0, or -1 with *cause.
 */
int
ramp_addr_parse(const char *key, const char *value, int zero_ok,
    struct sockaddr_in *sa, char *text, size_t len, char **cause)
{
	struct addrinfo hints, *res = NULL;
	const char *colon = strrchr(value, ':');
	uint32_t port;
	char *host;
	int rc;

	if (colon == NULL || colon == value || sb_args_uint32(colon + 1,
	    &port) != 0 || port > 65535 || (port == 0 && !zero_ok)) {
		sb_cause(cause, "ramp: %s='%s' is not HOST:PORT with a port "
		    "from %d to 65535 (e.g. %s=%s)", key, value, zero_ok ? 0 :
		    1, key, zero_ok ? "0.0.0.0:5005" : "192.168.10.1:10000");
		return -1;
	}
	if ((host = strndup(value, (size_t)(colon - value))) == NULL) {
		sb_cause(cause, "ramp: out of memory");
		return -1;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_DGRAM;
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0 || res == NULL) {
		sb_cause(cause, "ramp: %s='%s': cannot resolve '%s' to an IPv4 "
		    "address: %s", key, value, host, rc != 0 ?
		    gai_strerror(rc) : "no address");
		free(host);
		return -1;
	}
	free(host);
	memcpy(sa, res->ai_addr, sizeof *sa);
	sa->sin_port = htons((uint16_t)port);
	freeaddrinfo(res);
	ramp_addr_text(sa, text, len);
	return 0;
}

/* Session time now: CLOCK_MONOTONIC plus the engine's latest offset. */
int64_t
ramp_session_now(struct ramp *r)
{
	return sb_devlink_mono_us() + __atomic_load_n(&r->clock_offset_us,
	    __ATOMIC_RELAXED);
}

/* Log a line the first time this cause happens (any thread). */
void
ramp_cause_once(struct ramp *r, enum ramp_cause cause,
    enum sb_log_level level, const char *fmt, ...)
{
	uint64_t bit = 1ULL << cause;
	char text[SB_DEVLINK_TEXT];
	va_list ap;

	if (__atomic_fetch_or(&r->causes_seen, bit, __ATOMIC_RELAXED) & bit)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	sb_devlink_log(&r->link, level, "%s", text);
}

/* Why a bind failed, with what to do about it. */
static void
ramp_bind_error(struct ramp *r, int err, char **cause)
{
	const char *what;

	switch (err) {
	case EADDRINUSE:
		what = r->role == RAMP_ROLE_NODE ? "address in use (another "
		    "node running? choose listen=)" : "address in use (another "
		    "program on this port? choose listen=)";
		break;
	case EACCES:
		what = "permission denied (ports below 1024 need privileges; "
		    "choose listen=)";
		break;
	case EADDRNOTAVAIL:
		what = "address not available (not an address of this "
		    "machine? choose listen=)";
		break;
	default:
		what = strerror(err);
	}
	sb_cause(cause, "cannot listen on %s: %s", r->listen_text, what);
}

/* Can the listen address be bound without SO_REUSEADDR? 0, or an errno. */
static int
ramp_probe(struct ramp *r)
{
	int fd, err = 0;

	if (!RAMP_EXCLUSIVE_PROBE || r->listen.sin_port == 0)
		return 0;
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return errno;
	if (bind(fd, (const struct sockaddr *)&r->listen, sizeof r->listen) !=
	    0)
		err = errno;
	close(fd);
	return err;
}

/* Open and bind the socket (connect step; also at load). */
int
ramp_open(struct ramp *r, char **cause)
{
	struct sockaddr_in bound;
	socklen_t len = sizeof bound;
	int fd, one = 1, size = RAMP_SOCKET_BUFFER, err;

	if (r->fd >= 0)
		return 0;	/* opened at load */
	if ((err = ramp_probe(r)) != 0) {
		ramp_bind_error(r, err, cause);
		return -1;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		sb_cause(cause, "cannot make a UDP socket: %s",
		    strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	/* room for bursts; the kernel may give less */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
	if (bind(fd, (const struct sockaddr *)&r->listen, sizeof r->listen) !=
	    0) {
		err = errno;
		close(fd);
		ramp_bind_error(r, err, cause);
		return -1;
	}
	pthread_mutex_lock(&r->fd_lock);
	if (r->listen.sin_port == 0 && getsockname(fd,
	    (struct sockaddr *)&bound, &len) == 0) {
		/* port 0: the kernel chose; show which (rebinds keep it) */
		r->listen.sin_port = bound.sin_port;
		ramp_addr_text(&r->listen, r->listen_text,
		    sizeof r->listen_text);
	}
	r->fd = fd;
	pthread_mutex_unlock(&r->fd_lock);
	return 0;
}

/* Close the socket (disconnect step). */
static void
ramp_close(void *ctx)
{
	struct ramp *r = ctx;

	pthread_mutex_lock(&r->fd_lock);
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	pthread_mutex_unlock(&r->fd_lock);
}

/* devlink connect step. */
static int
ramp_connect(void *ctx, char **cause)
{
	return ramp_open(ctx, cause);
}

/*
 * Send one datagram without blocking (engine thread); what the kernel
 * refuses is counted as dropped and said once. 0, or -1.
 */
int
ramp_send(struct ramp *r, const struct sockaddr_in *to,
    const struct ramp_packet *pkt, uint32_t mask)
{
	uint8_t buf[RAMP_DATAGRAM];
	char addr[64];
	ssize_t n = -1;
	int err = 0, open;

	ramp_packet_encode(pkt, mask, buf);
	pthread_mutex_lock(&r->fd_lock);
	if ((open = r->fd >= 0)) {
		n = sendto(r->fd, buf, sizeof buf, MSG_DONTWAIT | MSG_NOSIGNAL,
		    (const struct sockaddr *)to, sizeof *to);
		err = errno;
	}
	pthread_mutex_unlock(&r->fd_lock);
	if (n == (ssize_t)sizeof buf) {
		sb_devlink_count_tx(&r->link, 1);
		return 0;
	}
	sb_devlink_count_dropped(&r->link, 1);
	ramp_cause_once(r, RAMP_SEND_FAILED, SB_LOG_WARNING, "ramp: cannot "
	    "send to %s: %s (datagrams the kernel refuses are counted as "
	    "dropped in the link pane)", ramp_addr_text(to, addr, sizeof addr),
	    open ? (n < 0 ? strerror(err) : "short write") :
	    "the socket is closed (the link is down)");
	return -1;
}

/* One datagram arrived at t_us: check it, then hand it to the role. */
void
ramp_datagram(struct ramp *r, const uint8_t *buf, size_t len, int64_t t_us,
    const struct sockaddr_in *from)
{
	struct ramp_packet pkt;
	char addr[64];

	sb_devlink_count_rx(&r->link, 1);
	__atomic_store_n(&r->last_from, (uint64_t)ntohl(from->sin_addr.s_addr)
	    << 16 | ntohs(from->sin_port), __ATOMIC_RELAXED);
	if (ramp_packet_decode(buf, len, &pkt) != 0) {
		if (ramp_packet_is_ready(buf, len)) {
			__atomic_add_fetch(&r->ready, 1, __ATOMIC_RELAXED);
			ramp_cause_once(r, RAMP_READY, SB_LOG_INFO, "ramp: "
			    "ready (\"RDY\") from %s", ramp_addr_text(from,
			    addr, sizeof addr));
			return;
		}
		sb_devlink_count_malformed(&r->link, 1);
		ramp_cause_once(r, RAMP_BAD_LENGTH, SB_LOG_WARNING, "ramp: "
		    "datagram of %zu bytes from %s ignored (RAMP datagrams are "
		    "8 bytes; further ones are counted as malformed)", len,
		    ramp_addr_text(from, addr, sizeof addr));
		return;
	}
	if (pkt.sender == RAMP_SENDER_R) {
		__atomic_add_fetch(&r->ready, 1, __ATOMIC_RELAXED);
		ramp_cause_once(r, RAMP_READY, SB_LOG_INFO, "ramp: ready "
		    "datagram from %s", ramp_addr_text(from, addr,
		    sizeof addr));
		return;
	}
	if (r->role == RAMP_ROLE_NODE)
		ramp_node_datagram(r, &pkt, t_us, from);
	else
		ramp_neurons_datagram(r, &pkt, t_us, from);
}

/* Read what is waiting (at most a batch); 0, or -2 with *cause. */
static int
ramp_receive(struct ramp *r, char **cause)
{
	struct mmsghdr msgs[RAMP_RECV_BATCH];
	struct sockaddr_in from[RAMP_RECV_BATCH];
	uint8_t buf[RAMP_RECV_BATCH][RAMP_RX_BUF];
	struct iovec iov[RAMP_RECV_BATCH];
	int64_t t_us;
	int i, n;

	memset(msgs, 0, sizeof msgs);
	for (i = 0; i < RAMP_RECV_BATCH; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = sizeof buf[i];
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &from[i];
		msgs[i].msg_hdr.msg_namelen = sizeof from[i];
	}
	n = recvmmsg(r->fd, msgs, RAMP_RECV_BATCH, MSG_DONTWAIT | MSG_TRUNC,
	    NULL);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
		    errno == ECONNREFUSED)
			return 0;
		sb_cause(cause, "cannot receive on %s: %s", r->listen_text,
		    strerror(errno));
		return -2;
	}
	/* one stamp for the batch: they were all waiting by now */
	t_us = ramp_session_now(r);
	for (i = 0; i < n; i++)
		ramp_datagram(r, buf[i], msgs[i].msg_len, t_us, &from[i]);
	return 0;
}

/* devlink work step: wait for datagrams (or a wake-up) and read them. */
static int
ramp_work(void *ctx, char **cause)
{
	struct ramp *r = ctx;
	struct pollfd pfd[2];
	int n;

	pfd[0].fd = r->fd;
	pfd[0].events = POLLIN;
	pfd[1].fd = r->link.wake_fd[0];
	pfd[1].events = POLLIN;
	pfd[0].revents = pfd[1].revents = 0;
	n = poll(pfd, 2, RAMP_WORK_TIMEOUT_MS);
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		sb_cause(cause, "poll: %s", strerror(errno));
		return -2;
	}
	if (pfd[1].revents != 0)
		sb_devlink_drain_wake(&r->link);
	if (pfd[0].revents & POLLNVAL) {
		sb_cause(cause, "the socket on %s was closed", r->listen_text);
		return -2;
	}
	if (pfd[0].revents != 0)
		return ramp_receive(r, cause);
	return 0;
}

const struct sb_devlink_ops ramp_link_ops = {
	.connect = ramp_connect,
	.handshake = NULL,	/* the final original sent none */
	.work = ramp_work,
	.disconnect = ramp_close,
};
