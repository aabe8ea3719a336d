/*
 * tcp-proxy.c: a fault-injecting TCP proxy for loopback tests.
 *
 *   tcp-proxy LISTEN_ADDR:PORT TARGET_ADDR:PORT [RULE]...
 *
 * Connections are numbered from 1 in accept order. A RULE is CONNS:ACTION
 * with CONNS one of `*`, `N` or `N-M`, and ACTION one of
 *   delay=MS         hold every chunk MS milliseconds before passing it on
 *   reset=BYTES      after BYTES (both directions) reset both sides (RST)
 *   stall=MS@BYTES   after BYTES pass nothing either way for MS ms
 * Several rules may apply to one connection. Port 0 picks a free port; the
 * proxy prints "listening on ADDR:PORT" once it accepts. SIGTERM ends it.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct proxy_rule {
	unsigned	 lo, hi;	/* connections lo..hi */
	int		 delay_ms;
	long		 reset_after;	/* -1: never */
	int		 stall_ms;
	long		 stall_after;
};

struct proxy_conn {
	int		 client, server;
	unsigned	 number;
	int		 delay_ms;
	long		 reset_after, stall_after;
	int		 stall_ms;
};

static struct proxy_rule *rules;
static size_t nrules;
static struct sockaddr_in target;

/* Parse ADDR:PORT. */
static int
proxy_addr(const char *s, struct sockaddr_in *sin)
{
	char		 host[64];
	const char	*colon = strrchr(s, ':');

	if (colon == NULL || (size_t)(colon - s) >= sizeof host)
		return (-1);
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)atoi(colon + 1));
	return (inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -1);
}

/* Parse one CONNS:ACTION rule. */
static int
proxy_rule_parse(const char *s, struct proxy_rule *r)
{
	const char	*colon = strchr(s, ':');
	char		*end;
	long		 a, b;

	memset(r, 0, sizeof *r);
	r->reset_after = r->stall_after = -1;
	if (colon == NULL)
		return (-1);
	if (s[0] == '*') {
		r->lo = 1;
		r->hi = UINT32_MAX;
	} else {
		r->lo = (unsigned)strtoul(s, &end, 10);
		r->hi = r->lo;
		if (*end == '-')
			r->hi = (unsigned)strtoul(end + 1, &end, 10);
		if (end != colon || r->lo == 0 || r->hi < r->lo)
			return (-1);
	}
	s = colon + 1;
	if (sscanf(s, "delay=%ld", &a) == 1)
		r->delay_ms = (int)a;
	else if (sscanf(s, "reset=%ld", &a) == 1)
		r->reset_after = a;
	else if (sscanf(s, "stall=%ld@%ld", &a, &b) == 2) {
		r->stall_ms = (int)a;
		r->stall_after = b;
	} else
		return (-1);
	return (0);
}

/* Sleep ms milliseconds. */
static void
proxy_sleep(int ms)
{
	struct timespec	ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Close with an RST rather than a FIN. */
static void
proxy_reset(int fd)
{
	struct linger	l = { 1, 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
	close(fd);
}

/* Write all of buf. */
static int
proxy_write(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) < 0) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		buf += n;
		len -= (size_t)n;
	}
	return (0);
}

/* Pass bytes both ways, injecting this connection's faults. */
static void *
proxy_conn_main(void *arg)
{
	struct proxy_conn	*c = arg;
	struct pollfd		 pfd[2];
	char			 buf[16384];
	long			 total = 0;
	ssize_t			 n;
	size_t			 want;
	int			 i, stalled = 0, one = 1;

	c->server = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(c->server, (struct sockaddr *)&target,
	    sizeof target) != 0) {
		proxy_reset(c->client);
		close(c->server);
		free(c);
		return (NULL);
	}
	setsockopt(c->server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(c->client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	pfd[0].fd = c->client;
	pfd[1].fd = c->server;
	pfd[0].events = pfd[1].events = POLLIN;
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < 2; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			want = sizeof buf;
			if (c->reset_after >= 0 &&
			    (long)want > c->reset_after - total)
				want = (size_t)(c->reset_after - total);
			n = want == 0 ? 0 : read(pfd[i].fd, buf, want);
			if (n <= 0 && want != 0)
				goto done;
			if (c->delay_ms > 0)
				proxy_sleep(c->delay_ms);
			if (n > 0 && proxy_write(pfd[1 - i].fd, buf,
			    (size_t)n) != 0)
				goto done;
			total += n;
			if (c->reset_after >= 0 && total >= c->reset_after) {
				fprintf(stderr, "tcp-proxy: connection %u: "
				    "reset after %ld bytes\n", c->number,
				    total);
				proxy_reset(c->client);
				proxy_reset(c->server);
				free(c);
				return (NULL);
			}
			if (!stalled && c->stall_after >= 0 &&
			    total >= c->stall_after) {
				stalled = 1;
				fprintf(stderr, "tcp-proxy: connection %u: "
				    "stall %d ms after %ld bytes\n", c->number,
				    c->stall_ms, total);
				proxy_sleep(c->stall_ms);
			}
		}
	}
done:
	close(c->client);
	close(c->server);
	free(c);
	return (NULL);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;
	struct proxy_conn	*c;
	pthread_t		 t;
	unsigned		 number = 0;
	size_t			 i;
	int			 s, fd, one = 1;
	char			 addr[INET_ADDRSTRLEN];

	if (argc < 3 || proxy_addr(argv[1], &sin) != 0 ||
	    proxy_addr(argv[2], &target) != 0) {
		fprintf(stderr, "usage: tcp-proxy LISTEN_ADDR:PORT "
		    "TARGET_ADDR:PORT [CONNS:delay=MS|reset=BYTES|"
		    "stall=MS@BYTES]...\n");
		return (2);
	}
	rules = calloc((size_t)argc, sizeof *rules);
	for (i = 3; i < (size_t)argc; i++) {
		if (proxy_rule_parse(argv[i], &rules[nrules++]) != 0) {
			fprintf(stderr, "tcp-proxy: bad rule '%s' (want "
			    "CONNS:delay=MS, CONNS:reset=BYTES or "
			    "CONNS:stall=MS@BYTES; CONNS is *, N or N-M)\n",
			    argv[i]);
			return (2);
		}
	}
	signal(SIGPIPE, SIG_IGN);
	s = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(s, (struct sockaddr *)&sin, sizeof sin) != 0 ||
	    listen(s, 64) != 0 ||
	    getsockname(s, (struct sockaddr *)&sin, &len) != 0) {
		fprintf(stderr, "tcp-proxy: %s: %s\n", argv[1],
		    strerror(errno));
		return (1);
	}
	inet_ntop(AF_INET, &sin.sin_addr, addr, sizeof addr);
	printf("listening on %s:%d\n", addr, ntohs(sin.sin_port));
	fflush(stdout);
	for (;;) {
		if ((fd = accept(s, NULL, NULL)) < 0) {
			if (errno == EINTR)
				continue;
			return (1);
		}
		c = calloc(1, sizeof *c);
		c->client = fd;
		c->number = ++number;
		c->reset_after = c->stall_after = -1;
		for (i = 0; i < nrules; i++) {
			if (number < rules[i].lo || number > rules[i].hi)
				continue;
			if (rules[i].delay_ms > 0)
				c->delay_ms = rules[i].delay_ms;
			if (rules[i].reset_after >= 0)
				c->reset_after = rules[i].reset_after;
			if (rules[i].stall_after >= 0) {
				c->stall_after = rules[i].stall_after;
				c->stall_ms = rules[i].stall_ms;
			}
		}
		if (pthread_create(&t, NULL, proxy_conn_main, c) != 0) {
			close(fd);
			free(c);
			continue;
		}
		pthread_detach(t);
	}
}
