/*
 * intan-net.c: a TCP connection to RHX with a deadline, interruptible by
 * the link's wake pipe (so unloading never waits on a slow network).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "intan.h"

/* Try one address; the socket, or -1 with errno. */
static int
intan_net_try(const struct addrinfo *ai, uint32_t timeout_ms, int wake_fd)
{
	struct pollfd pfd[2] = {
		{ .events = POLLOUT },
		{ .fd = wake_fd, .events = POLLIN },
	};
	int fd, err = 0, one = 1, n, idle = 5, interval = 2, count = 3;
	socklen_t elen = sizeof err;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return -1;
	/* commands and trigger pulses are small: send them at once */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	/*
	 * Timeouts never close the command connection (RHX would stop
	 * listening), so a peer that vanished (power, cable) is found by
	 * keepalive: about 11 s of silence and three unanswered probes.
	 */
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	pfd[0].fd = fd;
	n = poll(pfd, wake_fd >= 0 ? 2 : 1, (int)timeout_ms);
	if (n <= 0 || !(pfd[0].revents & (POLLOUT | POLLERR | POLLHUP))) {
		close(fd);
		errno = n < 0 ? errno : n == 0 ? ETIMEDOUT : EINTR;
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 ||
	    err != 0) {
		close(fd);
		errno = err != 0 ? err : ECONNREFUSED;
		return -1;
	}
	return fd;
}

/*
 * Connect to host:port within timeout_ms; the socket (non-blocking), with
 * the peer's numeric address in peer, or -1 with errno set and *cause.
 */
int
intan_net_connect(const char *host, uint16_t port, uint32_t timeout_ms,
    int wake_fd, char *peer, size_t peerlen, char **cause)
{
	struct addrinfo hints, *res, *ai;
	char service[8];
	int fd = -1, rc, err = ECONNREFUSED;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(service, sizeof service, "%u", port);
	rc = getaddrinfo(host, service, &hints, &res);
	if (rc != 0) {
		if (cause != NULL && asprintf(cause, "host=%s: %s (check the "
		    "name, or give RHX's IP address)", host,
		    gai_strerror(rc)) == -1)
			*cause = NULL;
		errno = EHOSTUNREACH;
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = intan_net_try(ai, timeout_ms, wake_fd);
		if (fd >= 0) {
			if (peer != NULL && getnameinfo(ai->ai_addr,
			    ai->ai_addrlen, peer, (socklen_t)peerlen, NULL, 0,
			    NI_NUMERICHOST) != 0)
				snprintf(peer, peerlen, "%s", host);
			break;
		}
		err = errno;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		if (cause != NULL && asprintf(cause, "%s:%u: %s", host, port,
		    strerror(err)) == -1)
			*cause = NULL;
		errno = err;
	}
	return fd;
}
