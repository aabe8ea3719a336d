/*
 * tcp-proxy.c: a fault-injecting TCP proxy for loopback tests.
 *
 *   tcp-proxy LISTEN_ADDR:PORT TARGET_ADDR:PORT [RULE]...
 *
 * Connections are numbered from 1 in accept order. A RULE is CONNS:ACTION
 * with CONNS one of `*`, `N` or `N-M`, and ACTION one of
 *   delay=MS         hold every chunk MS milliseconds before passing it on
 *                    (one at a time: later chunks wait behind it)
 *   latency=MS       a long link: every chunk arrives MS milliseconds after
 *                    it was sent, each way, while later ones travel on
 *   reset=BYTES      after BYTES (both directions) reset both sides (RST)
 *   stall=MS@BYTES   after BYTES pass nothing either way for MS ms
 *   from=ADDR        connect to the target from ADDR (a loopback address
 *                    such as 127.0.0.2: the target sees another client)
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
	int		 latency_ms;
	long		 reset_after;	/* -1: never */
	int		 stall_ms;
	long		 stall_after;
	struct in_addr	 from;		/* from=, INADDR_ANY: not given */
};

struct proxy_conn {
	int		 client, server;
	unsigned	 number;
	int		 delay_ms, latency_ms;
	long		 reset_after, stall_after;
	long		 total;		/* bytes read, both ways (latency=) */
	int		 stall_ms;
	struct in_addr	 from;
};

/* A chunk on its way, for latency=MS. */
struct proxy_chunk {
	struct proxy_chunk	*next;
	int64_t			 due_us;
	size_t			 len;
	char			 data[];
};

/* The chunks in flight one way. */
struct proxy_pipe {
	struct proxy_chunk	*head, **tail;
	size_t			 bytes;
};

#define PROXY_PIPE_MAX (16U << 20)	/* bytes in flight one way */

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
	char		 host[INET_ADDRSTRLEN];

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
	else if (sscanf(s, "latency=%ld", &a) == 1 && a > 0)
		r->latency_ms = (int)a;
	else if (sscanf(s, "reset=%ld", &a) == 1)
		r->reset_after = a;
	else if (sscanf(s, "stall=%ld@%ld", &a, &b) == 2) {
		r->stall_ms = (int)a;
		r->stall_after = b;
	} else if (sscanf(s, "from=%15s", host) == 1) {
		if (inet_pton(AF_INET, host, &r->from) != 1)
			return (-1);
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

/* Now on the monotonic clock, in microseconds. */
static int64_t
proxy_now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

/*
 * latency=MS: pass bytes both ways, each chunk MS ms after it came,
 * reading on meanwhile (up to PROXY_PIPE_MAX bytes in flight each way).
 * reset=BYTES resets both sides once that many have come in (what is
 * still on its way is lost, as on a link that breaks).
 */
static void
proxy_conn_latency(struct proxy_conn *c)
{
	struct proxy_pipe	 pipe[2];
	struct proxy_chunk	*k;
	struct pollfd		 pfd[2];
	char			 buf[65536];
	int64_t			 now, wait;
	ssize_t			 n;
	int			 i, timeout, fd[2], open[2] = { 1, 1 };

	for (i = 0; i < 2; i++) {
		pipe[i].head = NULL;
		pipe[i].tail = &pipe[i].head;
		pipe[i].bytes = 0;
	}
	fd[0] = c->client;
	fd[1] = c->server;
	for (;;) {
		now = proxy_now_us();
		timeout = -1;
		/* pipe[i] carries what fd i sent to fd 1 - i */
		for (i = 0; i < 2; i++) {
			while ((k = pipe[i].head) != NULL && k->due_us <= now) {
				if (proxy_write(fd[1 - i], k->data, k->len) != 0)
					goto done;
				pipe[i].bytes -= k->len;
				if ((pipe[i].head = k->next) == NULL)
					pipe[i].tail = &pipe[i].head;
				free(k);
			}
			if (k != NULL) {
				wait = (k->due_us - now + 999) / 1000;
				if (timeout < 0 || wait < timeout)
					timeout = (int)wait;
			}
			if (!open[i] && pipe[i].head == NULL) {
				/* its end came through: pass it on */
				shutdown(fd[1 - i], SHUT_WR);
				open[i] = -1;
			}
			/* poll only what may be read now (a closed end would
			 * wake it at once, for ever) */
			pfd[i].fd = open[i] == 1 &&
			    pipe[i].bytes < PROXY_PIPE_MAX ? fd[i] : -1;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		if (open[0] != 1 && open[1] != 1 && pipe[0].head == NULL &&
		    pipe[1].head == NULL)
			break;
		if (poll(pfd, 2, timeout) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < 2; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if ((n = read(fd[i], buf, sizeof buf)) < 0) {
				if (errno == EINTR || errno == EAGAIN)
					continue;
				/* reset: so is the other side, at once */
				proxy_reset(fd[1 - i]);
				close(fd[i]);
				c->client = c->server = -1;
				goto done;
			}
			if (n == 0) {
				open[i] = 0;
				continue;
			}
			c->total += n;
			if (c->reset_after >= 0 && c->total >= c->reset_after) {
				fprintf(stderr, "tcp-proxy: connection %u: "
				    "reset after %ld bytes\n", c->number,
				    c->total);
				proxy_reset(c->client);
				proxy_reset(c->server);
				c->client = c->server = -1;
				goto done;
			}
			k = malloc(sizeof *k + (size_t)n);
			if (k == NULL)
				goto done;
			k->next = NULL;
			k->due_us = proxy_now_us() +
			    (int64_t)c->latency_ms * 1000;
			k->len = (size_t)n;
			memcpy(k->data, buf, (size_t)n);
			*pipe[i].tail = k;
			pipe[i].tail = &k->next;
			pipe[i].bytes += (size_t)n;
		}
	}
done:
	for (i = 0; i < 2; i++) {
		while ((k = pipe[i].head) != NULL) {
			pipe[i].head = k->next;
			free(k);
		}
	}
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
	struct sockaddr_in	 from;

	c->server = socket(AF_INET, SOCK_STREAM, 0);
	memset(&from, 0, sizeof from);
	from.sin_family = AF_INET;
	from.sin_addr = c->from;
	if ((c->from.s_addr != htonl(INADDR_ANY) && bind(c->server,
	    (struct sockaddr *)&from, sizeof from) != 0) ||
	    connect(c->server, (struct sockaddr *)&target,
	    sizeof target) != 0) {
		proxy_reset(c->client);
		close(c->server);
		free(c);
		return (NULL);
	}
	setsockopt(c->server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	setsockopt(c->client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (c->latency_ms > 0) {
		proxy_conn_latency(c);
		goto done;
	}
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
		    "TARGET_ADDR:PORT [CONNS:delay=MS|latency=MS|"
		    "reset=BYTES|stall=MS@BYTES|from=ADDR]...\n");
		return (2);
	}
	rules = calloc((size_t)argc, sizeof *rules);
	for (i = 3; i < (size_t)argc; i++) {
		if (proxy_rule_parse(argv[i], &rules[nrules++]) != 0) {
			fprintf(stderr, "tcp-proxy: bad rule '%s' (want "
			    "CONNS:delay=MS, CONNS:latency=MS, "
			    "CONNS:reset=BYTES, CONNS:stall=MS@BYTES or "
			    "CONNS:from=ADDR; CONNS is *, N or N-M)\n",
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
			if (rules[i].latency_ms > 0)
				c->latency_ms = rules[i].latency_ms;
			if (rules[i].reset_after >= 0)
				c->reset_after = rules[i].reset_after;
			if (rules[i].stall_after >= 0) {
				c->stall_after = rules[i].stall_after;
				c->stall_ms = rules[i].stall_ms;
			}
			if (rules[i].from.s_addr != htonl(INADDR_ANY))
				c->from = rules[i].from;
		}
		if (pthread_create(&t, NULL, proxy_conn_main, c) != 0) {
			close(fd);
			free(c);
			continue;
		}
		pthread_detach(t);
	}
}
