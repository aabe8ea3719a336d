/*
 * ramp-peer.c: emulated peers of the 2020 RAMP UDP spike link (the
 * Zurich-Padova-Southampton experiment, arc1_pyqt UDPmod), for loopback
 * tests. Written from the protocol facts in the hardware notes only.
 *
 *   ramp-peer node --listen ADDR:PORT --pre-partner ADDR:PORT
 *       --post-partner ADDR:PORT --connectivity FILE [--rmin OHMS]
 *       [--rmax OHMS] [--duration S] [--log FILE]
 *   ramp-peer partner --sender A|D --node ADDR:PORT [--listen ADDR:PORT]
 *       --ids LIST --rate HZ [--aux N] [--count N] [--duration S]
 *       [--linger S] [--seed N] [--log FILE]
 *   ramp-peer junk --to ADDR:PORT [--log FILE]
 *   ramp-peer echo [--listen ADDR:PORT] [--count N] [--duration S]
 *       [--log FILE]
 *
 * A datagram is 8 bytes, two big-endian 32-bit words: [sender:8 | id:24]
 * and [aux:8 | time:24], time in 50 us ticks. Addresses must be IPv4
 * loopback (127.0.0.0/8). Port 0 in --listen picks a free port. An address
 * given as `-` is read from standard input (one ADDR:PORT line each, in
 * the order of the options above) after the `ready` line, so that two
 * peers that each need the other's port can be started in turn.
 *
 * Every mode prints `ready` (or `ready PORT` when the port was 0) once its
 * socket is bound, and a single summary line of key=value pairs at exit
 * (deadline, count, SIGTERM or SIGINT). --log writes one line per datagram:
 * `T_US DIR SENDER ID AUX TIME`, DIR tx or rx, T_US from CLOCK_MONOTONIC,
 * SENDER a letter ('A'..'Z') or a decimal byte; a datagram that is not 8
 * bytes is `T_US DIR ? - - - len=N`.
 */
#include "config.h"

#include <arpa/inet.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RAMP_PEER_LEN		8
#define RAMP_PEER_TICK_US	50		/* "tstep = 0.00005" */
#define RAMP_PEER_NEURONS	4097		/* histories for ids 0..4096 */
#define RAMP_PEER_HISTORY	100		/* entries kept per neuron */
#define RAMP_PEER_SENTINEL	(-2001)		/* first entry of a history */
#define RAMP_PEER_WINDOW	20000		/* rate window, ticks (1 s) */
#define RAMP_PEER_LTP_ABOVE	20		/* count > 20: LTP ("20 Hz") */
#define RAMP_PEER_LTD_BELOW	5		/* count < 5: LTD ("5 Hz") */
#define RAMP_PEER_WRAP		1000000000000LL	/* t_abs wraps above 1e12 */
#define RAMP_PEER_MASK20	0x0FFFFFu	/* the send-side quirk */
#define RAMP_PEER_MASK24	0xFFFFFFu
#define RAMP_PEER_DEVICES	32		/* word and bit lines, 1..32 */
#define RAMP_PEER_STEP		0.05		/* stand-in pulse: 5 % window */
#define RAMP_PEER_RXBUF		2048
#define RAMP_PEER_DRAIN		65536		/* datagrams read at stop */
#define RAMP_PEER_MAXIDS	4096

struct ramp_peer_pkt {
	unsigned	 sender;
	uint32_t	 id;
	unsigned	 aux;
	uint32_t	 time;
};

/* A synapse of the connectivity file, with what the rule did to it. */
struct ramp_peer_syn {
	uint32_t	 pre, post;
	int		 w, b;
	uint64_t	 ltp, ltd;
};

/* The last RAMP_PEER_HISTORY spike times of one neuron (a ring). */
struct ramp_peer_hist {
	int64_t		 e[RAMP_PEER_HISTORY];
	int		 n;
	int		 next;
};

/* Synapses of one neuron, as indexes into the synapse array. */
struct ramp_peer_list {
	size_t		*v;
	size_t		 n;
};

struct ramp_peer_node {
	int			 fd;
	struct sockaddr_in	 pre_partner, post_partner;
	struct ramp_peer_syn	*syn;
	size_t			 nsyn;
	struct ramp_peer_list	 by_pre[RAMP_PEER_NEURONS];
	struct ramp_peer_list	 by_post[RAMP_PEER_NEURONS];
	struct ramp_peer_hist	 hist[RAMP_PEER_NEURONS];
	/* Resistance of each device, [w][b], 1-based (0 unused). */
	double			 r[RAMP_PEER_DEVICES + 1]
				    [RAMP_PEER_DEVICES + 1];
	double			 rmin, rmax;
	int64_t			 t_abs;
	uint64_t		 received, a, d, malformed, unknown_sender;
	uint64_t		 out_of_range, s_to_pre, s_to_post, ltp, ltd;
	uint64_t		 evals, send_errors, d_aux[4];
};

struct ramp_peer_partner {
	int			 fd;
	struct sockaddr_in	 node;
	unsigned		 sender, aux;
	uint32_t		 ids[RAMP_PEER_MAXIDS];
	size_t			 nids;
	double			 rate;
	double			 next_us[RAMP_PEER_MAXIDS];
	int64_t			 prev_tick[RAMP_PEER_MAXIDS];
	uint64_t		 sent_id[RAMP_PEER_MAXIDS];
	int64_t			 last_tick;
	uint64_t		 rng;
	uint64_t		 sent, received, bad_size, bad_sender;
	uint64_t		 high_bits, foreign, send_errors;
	uint32_t		*rx_ids;
	size_t			 rx_nids, rx_cap;
	int			 wmin, wmax;
	int64_t			 first_tx_us, first_rx_us, last_rx_us;
};

static volatile sig_atomic_t	 ramp_peer_stop;
static sigset_t			 ramp_peer_waitmask;
static FILE			*ramp_peer_logf;

/* Microseconds on the monotonic clock. */
static int64_t
ramp_peer_now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

/* Print the usage and exit. */
static void
ramp_peer_usage(void)
{
	fprintf(stderr,
	    "usage: ramp-peer node --listen ADDR:PORT --pre-partner ADDR:PORT "
	    "--post-partner ADDR:PORT\n"
	    "           --connectivity FILE [--rmin OHMS] [--rmax OHMS] "
	    "[--duration S] [--log FILE]\n"
	    "       ramp-peer partner --sender A|D --node ADDR:PORT "
	    "[--listen ADDR:PORT] --ids LIST\n"
	    "           --rate HZ [--aux N] [--count N] [--duration S] "
	    "[--linger S] [--seed N]\n"
	    "           [--log FILE]\n"
	    "       ramp-peer junk --to ADDR:PORT [--log FILE]\n"
	    "       ramp-peer echo [--listen ADDR:PORT] [--count N] "
	    "[--duration S] [--log FILE]\n");
	exit(2);
}

/* Signal handler: ask the main loop to stop. */
static void
ramp_peer_on_signal(int sig)
{
	(void)sig;
	ramp_peer_stop = 1;
}

/* Catch SIGTERM and SIGINT, blocked except inside ramp_peer_wait. */
static void
ramp_peer_signals(void)
{
	struct sigaction	 sa;
	sigset_t		 block;

	/* Unblocked only by ppoll: none slips between flag check and wait. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = ramp_peer_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &ramp_peer_waitmask);
	sigdelset(&ramp_peer_waitmask, SIGTERM);
	sigdelset(&ramp_peer_waitmask, SIGINT);
}

/* Wait for fd or a deadline (us, -1 none): 1 readable, 0 late, -1 stop. */
static int
ramp_peer_wait(int fd, int64_t deadline)
{
	struct pollfd	 pfd;
	struct timespec	 ts, *tsp = NULL;
	int64_t		 left;
	int		 n;

	for (;;) {
		if (ramp_peer_stop)
			return (-1);
		if (deadline >= 0) {
			left = deadline - ramp_peer_now_us();
			if (left < 0)
				left = 0;
			ts.tv_sec = left / 1000000;
			ts.tv_nsec = (left % 1000000) * 1000;
			tsp = &ts;
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		n = ppoll(&pfd, 1, tsp, &ramp_peer_waitmask);
		if (n > 0)
			return (1);
		if (n == 0)
			return (deadline >= 0 &&
			    ramp_peer_now_us() >= deadline ? 0 : 1);
		if (errno != EINTR)
			err(1, "ppoll");
	}
}

/* Parse a number of seconds into microseconds. */
static int64_t
ramp_peer_seconds(const char *s)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0) || v > 1e6)
		errx(2, "bad number of seconds: %s", s);
	return ((int64_t)(v * 1e6));
}

/* Parse an unsigned decimal integer no larger than max. */
static uint64_t
ramp_peer_uint(const char *s, uint64_t max, const char *what)
{
	char			*end;
	unsigned long long	 v;

	errno = 0;
	if (*s == '-' || *s == '\0')
		errx(2, "bad %s: %s", what, s);
	v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0' || v > max)
		errx(2, "bad %s: %s", what, s);
	return (v);
}

/* Parse ADDR:PORT, an IPv4 loopback address. */
static void
ramp_peer_addr(const char *s, struct sockaddr_in *sin)
{
	char		 host[64];
	const char	*colon = strrchr(s, ':');
	uint64_t	 port;

	if (colon == NULL || (size_t)(colon - s) >= sizeof host)
		errx(2, "bad address (ADDR:PORT): %s", s);
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	port = ramp_peer_uint(colon + 1, 65535, "port");
	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		errx(2, "bad IPv4 address: %s", s);
	if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127)
		errx(2, "not a loopback address (127.0.0.0/8): %s", s);
}

/* Read one line of standard input before the deadline (-1: none). */
static void
ramp_peer_read_line(char *buf, size_t size, int64_t deadline)
{
	size_t	 len = 0;
	ssize_t	 n;
	char	 c;

	for (;;) {
		if (ramp_peer_wait(STDIN_FILENO, deadline) != 1)
			errx(1, "no address on standard input");
		n = read(STDIN_FILENO, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			err(1, "standard input");
		if (n == 0)
			errx(1, "standard input ended before an address");
		if (c == '\n')
			break;
		if (len + 1 < size)
			buf[len++] = c;
	}
	buf[len] = '\0';
}

/* Fill an address given as `-` from standard input, others as given. */
static void
ramp_peer_addr_late(const char *arg, struct sockaddr_in *sin,
    int64_t deadline)
{
	char	 line[128];

	if (strcmp(arg, "-") != 0)
		return;
	ramp_peer_read_line(line, sizeof line, deadline);
	ramp_peer_addr(line, sin);
}

/* Open the log file. */
static void
ramp_peer_log_open(const char *path)
{
	if (path == NULL)
		return;
	if ((ramp_peer_logf = fopen(path, "w")) == NULL)
		err(1, "%s", path);
}

/* Log one datagram sent or received. */
static void
ramp_peer_log(const char *dir, const uint8_t *buf, size_t len)
{
	uint32_t	 w0, w1;
	int64_t		 t;

	if (ramp_peer_logf == NULL)
		return;
	t = ramp_peer_now_us();
	if (len != RAMP_PEER_LEN) {
		fprintf(ramp_peer_logf, "%lld %s ? - - - len=%zu\n",
		    (long long)t, dir, len);
		return;
	}
	w0 = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 |
	    (uint32_t)buf[2] << 8 | buf[3];
	w1 = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 |
	    (uint32_t)buf[6] << 8 | buf[7];
	if (buf[0] >= 'A' && buf[0] <= 'Z')
		fprintf(ramp_peer_logf, "%lld %s %c", (long long)t, dir,
		    buf[0]);
	else
		fprintf(ramp_peer_logf, "%lld %s %u", (long long)t, dir,
		    buf[0]);
	fprintf(ramp_peer_logf, " %u %u %u\n", w0 & RAMP_PEER_MASK24,
	    w1 >> 24, w1 & RAMP_PEER_MASK24);
}

/* Flush the log, before a wait. */
static void
ramp_peer_log_flush(void)
{
	if (ramp_peer_logf != NULL)
		fflush(ramp_peer_logf);
}

/* Close the log. */
static void
ramp_peer_log_close(void)
{
	if (ramp_peer_logf != NULL && fclose(ramp_peer_logf) != 0)
		warn("log");
	ramp_peer_logf = NULL;
}

/* Encode a packet: big-endian, 24-bit id and time fields. */
static void
ramp_peer_encode(const struct ramp_peer_pkt *p, uint8_t *buf)
{
	buf[0] = (uint8_t)p->sender;
	buf[1] = (uint8_t)(p->id >> 16);
	buf[2] = (uint8_t)(p->id >> 8);
	buf[3] = (uint8_t)p->id;
	buf[4] = (uint8_t)p->aux;
	buf[5] = (uint8_t)(p->time >> 16);
	buf[6] = (uint8_t)(p->time >> 8);
	buf[7] = (uint8_t)p->time;
}

/* Decode an 8-byte datagram. */
static void
ramp_peer_decode(const uint8_t *buf, struct ramp_peer_pkt *p)
{
	p->sender = buf[0];
	p->id = (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
	p->aux = buf[4];
	p->time = (uint32_t)buf[5] << 16 | (uint32_t)buf[6] << 8 | buf[7];
}

/* Open the UDP socket, bind it and say `ready` (with the port if 0). */
static int
ramp_peer_socket(const char *listen)
{
	struct sockaddr_in	 sin;
	socklen_t		 slen = sizeof sin;
	int			 fd, one = 1, pick;

	if (listen == NULL)
		listen = "127.0.0.1:0";
	ramp_peer_addr(listen, &sin);
	pick = (sin.sin_port == 0);
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		err(1, "socket");
	/* Like the original node: SO_REUSEADDR, one socket for both ways. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0)
		err(1, "bind %s", listen);
	if (getsockname(fd, (struct sockaddr *)&sin, &slen) != 0)
		err(1, "getsockname");
	if (pick)
		printf("ready %u\n", ntohs(sin.sin_port));
	else
		printf("ready\n");
	fflush(stdout);
	return (fd);
}

/* Send one datagram; returns 0 or -1 (the error is only counted). */
static int
ramp_peer_sendto(int fd, const struct sockaddr_in *to, const uint8_t *buf,
    size_t len)
{
	ssize_t	 n;

	n = sendto(fd, buf, len, 0, (const struct sockaddr *)to, sizeof *to);
	ramp_peer_log("tx", buf, len);
	return (n == (ssize_t)len ? 0 : -1);
}

/* Receive one datagram if queued: its real length (MSG_TRUNC), or -1. */
static ssize_t
ramp_peer_recv(int fd, uint8_t *buf, size_t size, struct sockaddr_in *from)
{
	socklen_t	 flen = sizeof *from;
	ssize_t		 n;

	for (;;) {
		n = recvfrom(fd, buf, size, MSG_DONTWAIT | MSG_TRUNC,
		    (struct sockaddr *)from, &flen);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == ECONNREFUSED)
			return (-1);
		err(1, "recvfrom");
	}
	ramp_peer_log("rx", buf, (size_t)n);
	return (n);
}

/* Append a spike time to a neuron's history. */
static void
ramp_peer_hist_push(struct ramp_peer_hist *h, int64_t t)
{
	h->e[h->next] = t;
	h->next = (h->next + 1) % RAMP_PEER_HISTORY;
	if (h->n < RAMP_PEER_HISTORY)
		h->n++;
}

/* The latest entry of a history (the sentinel if nothing else). */
static int64_t
ramp_peer_hist_last(const struct ramp_peer_hist *h)
{
	return (h->e[(h->next + RAMP_PEER_HISTORY - 1) % RAMP_PEER_HISTORY]);
}

/* How many entries e of a history have 0 <= t - e <= the window. */
static int
ramp_peer_hist_count(const struct ramp_peer_hist *h, int64_t t)
{
	int	 i, count = 0;

	for (i = 0; i < h->n; i++) {
		if (t - h->e[i] >= 0 && t - h->e[i] <= RAMP_PEER_WINDOW)
			count++;
	}
	return (count);
}

/* Add a synapse index to a neuron's list. */
static void
ramp_peer_list_add(struct ramp_peer_list *l, size_t i)
{
	l->v = realloc(l->v, (l->n + 1) * sizeof *l->v);
	if (l->v == NULL)
		err(1, "realloc");
	l->v[l->n++] = i;
}

/* Read the connectivity file: `pre, post, w, b` lines, `#` comments. */
static void
ramp_peer_connectivity(struct ramp_peer_node *nd, const char *path)
{
	FILE		*f;
	char		 line[512], *p, *end;
	long		 v[4];
	int		 lineno = 0, i;
	size_t		 k;

	if ((f = fopen(path, "r")) == NULL)
		err(2, "%s", path);
	while (fgets(line, sizeof line, f) != NULL) {
		lineno++;
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		p = line;
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p == '\0')
			continue;
		for (i = 0; i < 4; i++) {
			errno = 0;
			v[i] = strtol(p, &end, 10);
			if (end == p || errno != 0)
				errx(2, "%s:%d: expected pre, post, w, b",
				    path, lineno);
			p = end;
			while (*p == ' ' || *p == '\t')
				p++;
			if (i < 3 && *p++ != ',')
				errx(2, "%s:%d: expected pre, post, w, b",
				    path, lineno);
		}
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p != '\0')
			errx(2, "%s:%d: trailing text", path, lineno);
		if (v[0] < 0 || v[0] >= RAMP_PEER_NEURONS || v[1] < 0 ||
		    v[1] >= RAMP_PEER_NEURONS)
			errx(2, "%s:%d: neuron ids are 0..%d", path, lineno,
			    RAMP_PEER_NEURONS - 1);
		if (v[2] < 1 || v[2] > RAMP_PEER_DEVICES || v[3] < 1 ||
		    v[3] > RAMP_PEER_DEVICES)
			errx(2, "%s:%d: w and b are 1..%d", path, lineno,
			    RAMP_PEER_DEVICES);
		/* The original kept a [pre, post] matrix: last line wins. */
		for (k = 0; k < nd->nsyn; k++) {
			if (nd->syn[k].pre == (uint32_t)v[0] &&
			    nd->syn[k].post == (uint32_t)v[1])
				break;
		}
		if (k == nd->nsyn) {
			nd->syn = realloc(nd->syn,
			    (nd->nsyn + 1) * sizeof *nd->syn);
			if (nd->syn == NULL)
				err(1, "realloc");
			nd->nsyn++;
			ramp_peer_list_add(&nd->by_pre[v[0]], k);
			ramp_peer_list_add(&nd->by_post[v[1]], k);
		}
		memset(&nd->syn[k], 0, sizeof nd->syn[k]);
		nd->syn[k].pre = (uint32_t)v[0];
		nd->syn[k].post = (uint32_t)v[1];
		nd->syn[k].w = (int)v[2];
		nd->syn[k].b = (int)v[3];
	}
	if (ferror(f))
		err(2, "%s", path);
	fclose(f);
}

/* The weight 0..255 sent for a resistance. */
static unsigned
ramp_peer_weight(const struct ramp_peer_node *nd, double r)
{
	double	 x;

	/*
	 * rint(clip(255/(Rmax-Rmin)*(R-Rmin), 0, 255)) in the original's
	 * order of operations and rounding (half to even): the middle of
	 * 4-9 kohm gives 127.49999999999999, so 127, not 128.
	 */
	x = (255.0 / (nd->rmax - nd->rmin)) * (r - nd->rmin);
	if (x < 0)
		x = 0;
	if (x > 255)
		x = 255;
	return ((unsigned)rint(x));
}

/* Stand-in pulse: +4 V raises R by 5 % of the window, -4 V lowers it. */
static void
ramp_peer_pulse(struct ramp_peer_node *nd, int w, int b, int up)
{
	double	 step = RAMP_PEER_STEP * (nd->rmax - nd->rmin);
	double	*r = &nd->r[w][b];

	/* Not a device model: just deterministic and clamped. */
	*r += up ? step : -step;
	if (*r > nd->rmax)
		*r = nd->rmax;
	if (*r < nd->rmin)
		*r = nd->rmin;
}

/* The rate rule for one synapse on a POST event at time t. */
static void
ramp_peer_rule(struct ramp_peer_node *nd, struct ramp_peer_syn *s, int64_t t)
{
	int	 count;

	nd->evals++;
	count = ramp_peer_hist_count(&nd->hist[s->pre], t);
	if (count > RAMP_PEER_LTP_ABOVE) {
		ramp_peer_pulse(nd, s->w, s->b, 1);
		s->ltp++;
		nd->ltp++;
	} else if (count < RAMP_PEER_LTD_BELOW) {
		ramp_peer_pulse(nd, s->w, s->b, 0);
		s->ltd++;
		nd->ltd++;
	}
}

/* Send 'S' for a synapse: its post neuron, weight and t_abs. */
static void
ramp_peer_node_reply(struct ramp_peer_node *nd, const struct ramp_peer_syn *s,
    const struct sockaddr_in *to)
{
	struct ramp_peer_pkt	 p;
	uint8_t			 buf[RAMP_PEER_LEN];

	/*
	 * The weight is read now, before any pulse of this event. Id and
	 * time are masked to 20 bits as the original did (quirk kept: bits
	 * 20-23 always 0, the time wraps every 2^20 ticks on the wire).
	 */
	p.sender = 'S';
	p.id = s->post & RAMP_PEER_MASK20;
	p.aux = ramp_peer_weight(nd, nd->r[s->w][s->b]);
	p.time = (uint32_t)(nd->t_abs & RAMP_PEER_MASK20);
	ramp_peer_encode(&p, buf);
	if (ramp_peer_sendto(nd->fd, to, buf, sizeof buf) != 0)
		nd->send_errors++;
}

/* An 'A' packet (Zurich): advance the clock, reply as PRE, learn as POST. */
static void
ramp_peer_node_a(struct ramp_peer_node *nd, const struct ramp_peer_pkt *p)
{
	const struct ramp_peer_list	*l;
	size_t				 i;

	/*
	 * Only 'A' moves the clock: t_abs += its relative time, the spike
	 * is stamped t_abs. As PRE, each post neuron's weight goes to the
	 * postsynaptic partner; as POST, the rule runs for each pre neuron
	 * at t_abs.
	 */
	nd->a++;
	nd->t_abs += p->time;
	if (nd->t_abs > RAMP_PEER_WRAP)
		nd->t_abs -= RAMP_PEER_WRAP;
	ramp_peer_hist_push(&nd->hist[p->id], nd->t_abs);
	l = &nd->by_pre[p->id];
	for (i = 0; i < l->n; i++) {
		ramp_peer_node_reply(nd, &nd->syn[l->v[i]], &nd->post_partner);
		nd->s_to_post++;
	}
	l = &nd->by_post[p->id];
	for (i = 0; i < l->n; i++)
		ramp_peer_rule(nd, &nd->syn[l->v[i]], nd->t_abs);
}

/* A 'D' packet (Padova): stamp it t_event, reply as PRE, learn as POST. */
static void
ramp_peer_node_d(struct ramp_peer_node *nd, const struct ramp_peer_pkt *p)
{
	const struct ramp_peer_list	*l;
	int64_t				 base, last, t_event;
	size_t				 i;
	int				 ap, plastic;

	/*
	 * t_event = the latest last spike among the neuron's presynaptic
	 * neurons (its own last spike if it has none) + the relative time;
	 * the clock does not move. Only APs (aux 1, 2) enter the history and
	 * send weights (to the presynaptic partner, stamped t_abs); only
	 * PSPs and spontaneous APs (aux 0, 2) run the rule. That the rule
	 * runs at t_event (not t_abs) is inferred: the facts give the time
	 * of the rule only for 'A'.
	 */
	nd->d++;
	nd->d_aux[p->aux < 3 ? p->aux : 3]++;
	ap = (p->aux == 1 || p->aux == 2);
	plastic = (p->aux == 0 || p->aux == 2);
	l = &nd->by_post[p->id];
	if (l->n > 0) {
		base = ramp_peer_hist_last(&nd->hist[nd->syn[l->v[0]].pre]);
		for (i = 1; i < l->n; i++) {
			last = ramp_peer_hist_last(
			    &nd->hist[nd->syn[l->v[i]].pre]);
			if (last > base)
				base = last;
		}
	} else
		base = ramp_peer_hist_last(&nd->hist[p->id]);
	t_event = base + p->time;
	if (ap)
		ramp_peer_hist_push(&nd->hist[p->id], t_event);
	l = &nd->by_pre[p->id];
	for (i = 0; ap && i < l->n; i++) {
		ramp_peer_node_reply(nd, &nd->syn[l->v[i]], &nd->pre_partner);
		nd->s_to_pre++;
	}
	l = &nd->by_post[p->id];
	for (i = 0; plastic && i < l->n; i++)
		ramp_peer_rule(nd, &nd->syn[l->v[i]], t_event);
}

/* One datagram at the node. */
static void
ramp_peer_node_packet(struct ramp_peer_node *nd, const uint8_t *buf,
    ssize_t len)
{
	struct ramp_peer_pkt	 p;

	/*
	 * Deliberate fix: the original's receive thread died on a datagram
	 * that was not 8 bytes and on an id outside its histories (0..4096).
	 * Here they are counted and dropped; an out-of-range packet changes
	 * nothing, not even t_abs. Senders other than 'A' and 'D' (also 'S'
	 * and 'R') are counted and ignored, as the original did.
	 */
	nd->received++;
	if (len != RAMP_PEER_LEN) {
		nd->malformed++;
		return;
	}
	ramp_peer_decode(buf, &p);
	if (p.sender != 'A' && p.sender != 'D') {
		nd->unknown_sender++;
		return;
	}
	if (p.id >= RAMP_PEER_NEURONS) {
		nd->out_of_range++;
		return;
	}
	if (p.sender == 'A')
		ramp_peer_node_a(nd, &p);
	else
		ramp_peer_node_d(nd, &p);
}

/* Read every datagram queued at the node. */
static void
ramp_peer_node_drain(struct ramp_peer_node *nd, int limit)
{
	struct sockaddr_in	 from;
	uint8_t			 buf[RAMP_PEER_RXBUF];
	ssize_t			 n;

	while (limit-- > 0 &&
	    (n = ramp_peer_recv(nd->fd, buf, sizeof buf, &from)) >= 0)
		ramp_peer_node_packet(nd, buf, n);
}

/* Print the node's summary line. */
static void
ramp_peer_node_summary(const struct ramp_peer_node *nd)
{
	const struct ramp_peer_syn	*s;
	size_t				 i;

	printf("node received=%llu A=%llu D=%llu malformed=%llu "
	    "unknown_sender=%llu out_of_range=%llu s_to_pre=%llu "
	    "s_to_post=%llu ltp=%llu ltd=%llu evals=%llu d_psp=%llu "
	    "d_stim=%llu d_spont=%llu d_other=%llu send_errors=%llu "
	    "t_abs=%lld synapses=%zu",
	    (unsigned long long)nd->received, (unsigned long long)nd->a,
	    (unsigned long long)nd->d, (unsigned long long)nd->malformed,
	    (unsigned long long)nd->unknown_sender,
	    (unsigned long long)nd->out_of_range,
	    (unsigned long long)nd->s_to_pre,
	    (unsigned long long)nd->s_to_post, (unsigned long long)nd->ltp,
	    (unsigned long long)nd->ltd, (unsigned long long)nd->evals,
	    (unsigned long long)nd->d_aux[0], (unsigned long long)nd->d_aux[1],
	    (unsigned long long)nd->d_aux[2], (unsigned long long)nd->d_aux[3],
	    (unsigned long long)nd->send_errors, (long long)nd->t_abs,
	    nd->nsyn);
	for (i = 0; i < nd->nsyn; i++) {
		s = &nd->syn[i];
		printf(" ltp_%u_%u=%llu ltd_%u_%u=%llu w_%u_%u=%u", s->pre,
		    s->post, (unsigned long long)s->ltp, s->pre, s->post,
		    (unsigned long long)s->ltd, s->pre, s->post,
		    ramp_peer_weight(nd, nd->r[s->w][s->b]));
	}
	printf("\n");
	fflush(stdout);
}

/* Mode `node`: the original memristor node (Southampton). */
static int
ramp_peer_node(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "pre-partner", required_argument, NULL, 'p' },
		{ "post-partner", required_argument, NULL, 'q' },
		{ "connectivity", required_argument, NULL, 'c' },
		{ "rmin", required_argument, NULL, 'm' },
		{ "rmax", required_argument, NULL, 'M' },
		{ "duration", required_argument, NULL, 'd' },
		{ "log", required_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 }
	};
	static struct ramp_peer_node	 nd;
	const char			*listen = NULL, *pre = NULL;
	const char			*post = NULL, *conn = NULL;
	const char			*logpath = NULL;
	int64_t				 deadline = -1;
	int				 c, i, w, b;

	nd.rmin = 4000;
	nd.rmax = 9000;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			listen = optarg;
			break;
		case 'p':
			pre = optarg;
			break;
		case 'q':
			post = optarg;
			break;
		case 'c':
			conn = optarg;
			break;
		case 'm':
			nd.rmin = (double)ramp_peer_uint(optarg, 100000000,
			    "rmin");
			break;
		case 'M':
			nd.rmax = (double)ramp_peer_uint(optarg, 100000000,
			    "rmax");
			break;
		case 'd':
			deadline = ramp_peer_seconds(optarg);
			break;
		case 'L':
			logpath = optarg;
			break;
		default:
			ramp_peer_usage();
		}
	}
	if (optind != argc || listen == NULL || pre == NULL || post == NULL ||
	    conn == NULL)
		ramp_peer_usage();
	if (nd.rmax <= nd.rmin)
		errx(2, "rmax must be above rmin");
	if (strcmp(pre, "-") != 0)
		ramp_peer_addr(pre, &nd.pre_partner);
	if (strcmp(post, "-") != 0)
		ramp_peer_addr(post, &nd.post_partner);
	ramp_peer_connectivity(&nd, conn);
	for (i = 0; i < RAMP_PEER_NEURONS; i++)
		ramp_peer_hist_push(&nd.hist[i], RAMP_PEER_SENTINEL);
	for (w = 0; w <= RAMP_PEER_DEVICES; w++) {
		for (b = 0; b <= RAMP_PEER_DEVICES; b++)
			nd.r[w][b] = (nd.rmin + nd.rmax) / 2;
	}
	ramp_peer_log_open(logpath);
	ramp_peer_signals();
	if (deadline >= 0)
		deadline += ramp_peer_now_us();
	nd.fd = ramp_peer_socket(listen);
	ramp_peer_addr_late(pre, &nd.pre_partner, deadline);
	ramp_peer_addr_late(post, &nd.post_partner, deadline);
	for (;;) {
		ramp_peer_log_flush();
		if (ramp_peer_wait(nd.fd, deadline) != 1)
			break;
		ramp_peer_node_drain(&nd, 256);
	}
	/* What already arrived is still processed. */
	ramp_peer_node_drain(&nd, RAMP_PEER_DRAIN);
	ramp_peer_log_close();
	ramp_peer_node_summary(&nd);
	return (0);
}

/* The next pseudo-random number (xorshift64*), deterministic per seed. */
static uint64_t
ramp_peer_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (*s * 0x2545F4914F6CDD1DULL);
}

/* An exponential interval in microseconds for a rate in Hz. */
static double
ramp_peer_expo_us(uint64_t *s, double rate)
{
	double	 u;

	u = ((double)(ramp_peer_rand(s) >> 11) + 1.0) / 9007199254740992.0;
	return (-log(u) / rate * 1e6);
}

/* Parse the id list (comma separated, 24-bit ids). */
static void
ramp_peer_ids(struct ramp_peer_partner *pt, const char *list)
{
	char	*copy, *tok, *save = NULL;

	if ((copy = strdup(list)) == NULL)
		err(1, "strdup");
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (pt->nids == RAMP_PEER_MAXIDS)
			errx(2, "more than %d ids", RAMP_PEER_MAXIDS);
		pt->ids[pt->nids++] = (uint32_t)ramp_peer_uint(tok,
		    RAMP_PEER_MASK24, "id");
	}
	free(copy);
}

/* Remember an id received in an 'S' packet (the set stays sorted). */
static void
ramp_peer_rx_id(struct ramp_peer_partner *pt, uint32_t id)
{
	size_t	 lo = 0, hi = pt->rx_nids, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (pt->rx_ids[mid] == id)
			return;
		if (pt->rx_ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (pt->rx_nids == 65536)
		return;
	if (pt->rx_nids == pt->rx_cap) {
		pt->rx_cap = pt->rx_cap ? pt->rx_cap * 2 : 16;
		pt->rx_ids = realloc(pt->rx_ids,
		    pt->rx_cap * sizeof *pt->rx_ids);
		if (pt->rx_ids == NULL)
			err(1, "realloc");
	}
	memmove(&pt->rx_ids[lo + 1], &pt->rx_ids[lo],
	    (pt->rx_nids - lo) * sizeof *pt->rx_ids);
	pt->rx_ids[lo] = id;
	pt->rx_nids++;
}

/* Check one datagram at a partner: 8 bytes, sender 'S'. */
static void
ramp_peer_partner_packet(struct ramp_peer_partner *pt, const uint8_t *buf,
    ssize_t len, const struct sockaddr_in *from)
{
	struct ramp_peer_pkt	 p;
	int64_t			 now = ramp_peer_now_us();

	pt->received++;
	if (pt->first_rx_us < 0)
		pt->first_rx_us = now;
	pt->last_rx_us = now;
	if (from->sin_addr.s_addr != pt->node.sin_addr.s_addr ||
	    from->sin_port != pt->node.sin_port)
		pt->foreign++;
	if (len != RAMP_PEER_LEN) {
		pt->bad_size++;
		return;
	}
	ramp_peer_decode(buf, &p);
	if (p.sender != 'S') {
		pt->bad_sender++;
		return;
	}
	/*
	 * Bits 20-23 of id and time are 0 from the original node (the
	 * masking quirk); set, they are counted, not bad: a node may fix it.
	 */
	if ((p.id | p.time) & ~RAMP_PEER_MASK20)
		pt->high_bits++;
	ramp_peer_rx_id(pt, p.id);
	if (pt->wmin < 0 || (int)p.aux < pt->wmin)
		pt->wmin = (int)p.aux;
	if (pt->wmax < 0 || (int)p.aux > pt->wmax)
		pt->wmax = (int)p.aux;
}

/* Read every datagram queued at a partner. */
static void
ramp_peer_partner_drain(struct ramp_peer_partner *pt, int limit)
{
	struct sockaddr_in	 from;
	uint8_t			 buf[RAMP_PEER_RXBUF];
	ssize_t			 n;

	while (limit-- > 0 &&
	    (n = ramp_peer_recv(pt->fd, buf, sizeof buf, &from)) >= 0)
		ramp_peer_partner_packet(pt, buf, n, &from);
}

/* The id whose next spike is due first. */
static size_t
ramp_peer_partner_next(const struct ramp_peer_partner *pt)
{
	size_t	 i, best = 0;

	for (i = 1; i < pt->nids; i++) {
		if (pt->next_us[i] < pt->next_us[best])
			best = i;
	}
	return (best);
}

/* Send the spike of id index i due at next_us[i] (us since the start). */
static void
ramp_peer_partner_send(struct ramp_peer_partner *pt, size_t i)
{
	struct ramp_peer_pkt	 p;
	uint8_t			 buf[RAMP_PEER_LEN];
	int64_t			 tick, dt;

	/*
	 * The time field is a relative interval in 50 us ticks, counted on
	 * the schedule, not on when the send happens: for 'A' since this
	 * sender's previous packet (the facts); for 'D' since that neuron's
	 * own previous spike (inferred: the facts only say how the node uses
	 * it). A first spike counts from the start of sending (inferred).
	 * Intervals saturate at 24 bits.
	 */
	tick = (int64_t)(pt->next_us[i] / RAMP_PEER_TICK_US);
	if (pt->sender == 'A')
		dt = tick - pt->last_tick;
	else
		dt = tick - pt->prev_tick[i];
	if (dt > (int64_t)RAMP_PEER_MASK24)
		dt = RAMP_PEER_MASK24;
	pt->last_tick = tick;
	pt->prev_tick[i] = tick;
	p.sender = pt->sender;
	p.id = pt->ids[i];
	p.aux = pt->aux;
	p.time = (uint32_t)dt;
	ramp_peer_encode(&p, buf);
	if (ramp_peer_sendto(pt->fd, &pt->node, buf, sizeof buf) != 0)
		pt->send_errors++;
	if (pt->first_tx_us < 0)
		pt->first_tx_us = ramp_peer_now_us();
	pt->sent++;
	pt->sent_id[i]++;
	pt->next_us[i] += ramp_peer_expo_us(&pt->rng, pt->rate);
}

/* Print the partner's summary line. */
static void
ramp_peer_partner_summary(const struct ramp_peer_partner *pt)
{
	size_t	 i;

	printf("partner sender=%c sent=%llu received=%llu bad=%llu "
	    "bad_size=%llu bad_sender=%llu high_bits=%llu foreign=%llu "
	    "send_errors=%llu ids=", (int)pt->sender,
	    (unsigned long long)pt->sent, (unsigned long long)pt->received,
	    (unsigned long long)(pt->bad_size + pt->bad_sender),
	    (unsigned long long)pt->bad_size,
	    (unsigned long long)pt->bad_sender,
	    (unsigned long long)pt->high_bits,
	    (unsigned long long)pt->foreign,
	    (unsigned long long)pt->send_errors);
	if (pt->rx_nids == 0)
		printf("-");
	for (i = 0; i < pt->rx_nids; i++)
		printf("%s%u", i ? "," : "", pt->rx_ids[i]);
	printf(" weights_min=%d weights_max=%d first_tx_us=%lld "
	    "first_rx_us=%lld last_rx_us=%lld", pt->wmin, pt->wmax,
	    (long long)pt->first_tx_us, (long long)pt->first_rx_us,
	    (long long)pt->last_rx_us);
	for (i = 0; i < pt->nids; i++)
		printf(" sent_%u=%llu", pt->ids[i],
		    (unsigned long long)pt->sent_id[i]);
	printf("\n");
	fflush(stdout);
}

/* Mode `partner`: a partner lab, Zurich ('A') or Padova ('D'). */
static int
ramp_peer_partner(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "sender", required_argument, NULL, 's' },
		{ "node", required_argument, NULL, 'n' },
		{ "listen", required_argument, NULL, 'l' },
		{ "ids", required_argument, NULL, 'i' },
		{ "rate", required_argument, NULL, 'r' },
		{ "aux", required_argument, NULL, 'a' },
		{ "count", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "linger", required_argument, NULL, 'g' },
		{ "seed", required_argument, NULL, 'S' },
		{ "log", required_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 }
	};
	static struct ramp_peer_partner	 pt;
	const char			*node = NULL, *listen = NULL;
	const char			*ids = NULL, *logpath = NULL;
	char				*end;
	int64_t				 deadline = -1, linger = 500000;
	int64_t				 t0, now, wake, stop_at = -1;
	uint64_t			 count = 0, seed = 1;
	size_t				 i;
	int				 c, aux = -1, burst, sending;

	pt.rate = -1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (strcmp(optarg, "A") != 0 &&
			    strcmp(optarg, "D") != 0)
				errx(2, "--sender is A or D");
			pt.sender = (unsigned char)optarg[0];
			break;
		case 'n':
			node = optarg;
			break;
		case 'l':
			listen = optarg;
			break;
		case 'i':
			ids = optarg;
			break;
		case 'r':
			errno = 0;
			pt.rate = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    !(pt.rate >= 0) || pt.rate > 1e6)
				errx(2, "bad rate: %s", optarg);
			break;
		case 'a':
			aux = (int)ramp_peer_uint(optarg, 255, "aux");
			break;
		case 'c':
			count = ramp_peer_uint(optarg, UINT64_MAX, "count");
			break;
		case 'd':
			deadline = ramp_peer_seconds(optarg);
			break;
		case 'g':
			linger = ramp_peer_seconds(optarg);
			break;
		case 'S':
			seed = ramp_peer_uint(optarg, UINT64_MAX, "seed");
			break;
		case 'L':
			logpath = optarg;
			break;
		default:
			ramp_peer_usage();
		}
	}
	if (optind != argc || pt.sender == 0 || node == NULL ||
	    pt.rate < 0 || (ids == NULL && pt.rate > 0))
		ramp_peer_usage();
	if (ids != NULL)
		ramp_peer_ids(&pt, ids);
	/* aux: the AP kind for 'D' (2, spontaneous, by default); 'A': 0. */
	pt.aux = aux >= 0 ? (unsigned)aux : (pt.sender == 'D' ? 2 : 0);
	if (strcmp(node, "-") != 0)
		ramp_peer_addr(node, &pt.node);
	pt.rng = seed * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL;
	if (pt.rng == 0)
		pt.rng = 1;
	pt.wmin = pt.wmax = -1;
	pt.first_tx_us = pt.first_rx_us = pt.last_rx_us = -1;
	ramp_peer_log_open(logpath);
	ramp_peer_signals();
	if (deadline >= 0)
		deadline += ramp_peer_now_us();
	pt.fd = ramp_peer_socket(listen);
	ramp_peer_addr_late(node, &pt.node, deadline);
	/* Rate 0 (or no ids): only receive, until the deadline or a signal. */
	sending = (pt.rate > 0 && pt.nids > 0);
	for (i = 0; i < pt.nids && sending; i++)
		pt.next_us[i] = ramp_peer_expo_us(&pt.rng, pt.rate);
	t0 = ramp_peer_now_us();
	for (;;) {
		now = ramp_peer_now_us();
		if (deadline >= 0 && now >= deadline)
			break;
		if (stop_at >= 0 && now >= stop_at)
			break;
		/* Every spike due by now, a bounded burst at a time. */
		for (burst = 0; sending && burst < 64; burst++) {
			i = ramp_peer_partner_next(&pt);
			if (t0 + (int64_t)pt.next_us[i] > now)
				break;
			ramp_peer_partner_send(&pt, i);
			if (count != 0 && pt.sent >= count) {
				/* Replies to the last spikes may follow. */
				sending = 0;
				stop_at = ramp_peer_now_us() + linger;
			}
		}
		wake = deadline;
		if (stop_at >= 0 && (wake < 0 || stop_at < wake))
			wake = stop_at;
		if (sending) {
			i = ramp_peer_partner_next(&pt);
			if (wake < 0 || t0 + (int64_t)pt.next_us[i] < wake)
				wake = t0 + (int64_t)pt.next_us[i];
		}
		ramp_peer_log_flush();
		if (ramp_peer_wait(pt.fd, wake) < 0)
			break;
		ramp_peer_partner_drain(&pt, 256);
	}
	ramp_peer_partner_drain(&pt, RAMP_PEER_DRAIN);
	ramp_peer_log_close();
	ramp_peer_partner_summary(&pt);
	return (0);
}

/* Send one junk datagram and count it. */
static void
ramp_peer_junk_send(int fd, const struct sockaddr_in *to, const void *buf,
    size_t len, uint64_t *kind, uint64_t *sent)
{
	if (ramp_peer_sendto(fd, to, buf, len) != 0)
		warn("sendto");
	(*kind)++;
	(*sent)++;
}

/* Send one 8-byte junk packet. */
static void
ramp_peer_junk_pkt(int fd, const struct sockaddr_in *to, unsigned sender,
    uint32_t id, unsigned aux, uint32_t time, uint64_t *kind, uint64_t *sent)
{
	struct ramp_peer_pkt	 p;
	uint8_t			 buf[RAMP_PEER_LEN];

	p.sender = sender;
	p.id = id;
	p.aux = aux;
	p.time = time;
	ramp_peer_encode(&p, buf);
	ramp_peer_junk_send(fd, to, buf, sizeof buf, kind, sent);
}

/* Mode `junk`: a fixed catalogue of datagrams a node must survive. */
static int
ramp_peer_junk(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "log", required_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 }
	};
	static const uint8_t		 ready[RAMP_PEER_LEN] = {
		0x52, 0x00, 0x00, 0x00, 0xFF, 0x00, 0x00, 0x00
	};
	static const size_t		 shorts[] = { 1, 7 };
	static const size_t		 longs[] = { 9, 16, 1024 };
	static const unsigned		 unknown[] = { 'Z', 'P', 0, 255 };
	static const uint32_t		 far[] = { 0xFFFFFF, 4097 };
	struct ramp_peer_pkt		 a;
	struct sockaddr_in		 to;
	const char			*dest = NULL, *logpath = NULL;
	uint8_t				 fill[1024];
	uint64_t			 sent = 0, empty = 0, shrt = 0, lng = 0;
	uint64_t			 unk = 0, rdy = 0, rdy3 = 0, oor = 0;
	uint64_t			 spkt = 0;
	size_t				 i;
	int				 c, fd;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			dest = optarg;
			break;
		case 'L':
			logpath = optarg;
			break;
		default:
			ramp_peer_usage();
		}
	}
	if (optind != argc || dest == NULL)
		ramp_peer_usage();
	if (strcmp(dest, "-") != 0)
		ramp_peer_addr(dest, &to);
	ramp_peer_log_open(logpath);
	ramp_peer_signals();
	fd = ramp_peer_socket(NULL);
	ramp_peer_addr_late(dest, &to, -1);
	/*
	 * Wrong sizes are filled with repeated valid 'A' packets (id 0, time
	 * 1000): a node that read the first 8 bytes of anything would move.
	 */
	a.sender = 'A';
	a.id = 0;
	a.aux = 0;
	a.time = 1000;
	for (i = 0; i < sizeof fill; i += RAMP_PEER_LEN)
		ramp_peer_encode(&a, fill + i);
	ramp_peer_junk_send(fd, &to, fill, 0, &empty, &sent);
	for (i = 0; i < sizeof shorts / sizeof shorts[0]; i++)
		ramp_peer_junk_send(fd, &to, fill, shorts[i], &shrt, &sent);
	for (i = 0; i < sizeof longs / sizeof longs[0]; i++)
		ramp_peer_junk_send(fd, &to, fill, longs[i], &lng, &sent);
	for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
		ramp_peer_junk_pkt(fd, &to, unknown[i], 0, 0, 1000, &unk,
		    &sent);
	ramp_peer_junk_send(fd, &to, ready, sizeof ready, &rdy, &sent);
	ramp_peer_junk_send(fd, &to, "RDY", 3, &rdy3, &sent);
	for (i = 0; i < sizeof far / sizeof far[0]; i++) {
		ramp_peer_junk_pkt(fd, &to, 'A', far[i], 0, 1000, &oor, &sent);
		ramp_peer_junk_pkt(fd, &to, 'D', far[i], 2, 1000, &oor, &sent);
	}
	/* A node expects no 'S': only the partners receive weights. */
	ramp_peer_junk_pkt(fd, &to, 'S', 12, 128, 1000, &spkt, &sent);
	ramp_peer_log_close();
	close(fd);
	printf("junk sent=%llu empty=%llu short=%llu long=%llu "
	    "unknown_sender=%llu ready=%llu rdy=%llu out_of_range=%llu "
	    "s_packet=%llu expect_malformed=%llu expect_unknown_sender=%llu "
	    "expect_out_of_range=%llu\n", (unsigned long long)sent,
	    (unsigned long long)empty, (unsigned long long)shrt,
	    (unsigned long long)lng, (unsigned long long)unk,
	    (unsigned long long)rdy, (unsigned long long)rdy3,
	    (unsigned long long)oor, (unsigned long long)spkt,
	    (unsigned long long)(empty + shrt + lng + rdy3),
	    (unsigned long long)(unk + rdy + spkt), (unsigned long long)oor);
	fflush(stdout);
	return (0);
}

/* Mode `echo`: record every datagram, answer nothing. */
static int
ramp_peer_echo(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "count", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "log", required_argument, NULL, 'L' },
		{ NULL, 0, NULL, 0 }
	};
	struct sockaddr_in		 from;
	const char			*listen = NULL, *logpath = NULL;
	uint8_t				 buf[RAMP_PEER_RXBUF];
	uint64_t			 count = 0, received = 0, bad = 0;
	uint64_t			 by[5] = { 0, 0, 0, 0, 0 };
	int64_t				 deadline = -1;
	ssize_t				 n;
	int				 c, fd;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			listen = optarg;
			break;
		case 'c':
			count = ramp_peer_uint(optarg, UINT64_MAX, "count");
			break;
		case 'd':
			deadline = ramp_peer_seconds(optarg);
			break;
		case 'L':
			logpath = optarg;
			break;
		default:
			ramp_peer_usage();
		}
	}
	if (optind != argc)
		ramp_peer_usage();
	ramp_peer_log_open(logpath);
	ramp_peer_signals();
	if (deadline >= 0)
		deadline += ramp_peer_now_us();
	fd = ramp_peer_socket(listen);
	while (count == 0 || received < count) {
		ramp_peer_log_flush();
		if (ramp_peer_wait(fd, deadline) != 1)
			break;
		while ((count == 0 || received < count) &&
		    (n = ramp_peer_recv(fd, buf, sizeof buf, &from)) >= 0) {
			received++;
			if (n != RAMP_PEER_LEN)
				bad++;
			else if (buf[0] == 'A')
				by[0]++;
			else if (buf[0] == 'D')
				by[1]++;
			else if (buf[0] == 'S')
				by[2]++;
			else if (buf[0] == 'R')
				by[3]++;
			else
				by[4]++;
		}
	}
	ramp_peer_log_close();
	printf("echo received=%llu bad_size=%llu A=%llu D=%llu S=%llu R=%llu "
	    "other=%llu\n", (unsigned long long)received,
	    (unsigned long long)bad, (unsigned long long)by[0],
	    (unsigned long long)by[1], (unsigned long long)by[2],
	    (unsigned long long)by[3], (unsigned long long)by[4]);
	fflush(stdout);
	return (0);
}

/* Dispatch on the mode. */
int
main(int argc, char **argv)
{
	if (argc < 2)
		ramp_peer_usage();
	if (strcmp(argv[1], "node") == 0)
		return (ramp_peer_node(argc - 1, argv + 1));
	if (strcmp(argv[1], "partner") == 0)
		return (ramp_peer_partner(argc - 1, argv + 1));
	if (strcmp(argv[1], "junk") == 0)
		return (ramp_peer_junk(argc - 1, argv + 1));
	if (strcmp(argv[1], "echo") == 0)
		return (ramp_peer_echo(argc - 1, argv + 1));
	ramp_peer_usage();
	return (2);
}
