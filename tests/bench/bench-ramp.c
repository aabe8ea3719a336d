/*
 * bench-ramp.c: the RAMP UDP link in node role, over loopback, three ways
 * in one run, with the same measurements:
 *
 *   console  the real console (src/synbridge --headless, built tree's
 *            plugins): load ramp role=node with a simulated crossbar
 *            (sim_memristor) and one synapse padova:0 -> zurich:0, CSV
 *            recording on; a 'D' datagram in becomes a spike, the engine
 *            routes it through the synapse (a crossbar read) and the
 *            plugin sends the weight out as 'S';
 *   plugin   the plugin alone, compiled in and driven by the fake host
 *            with an "engine" thread that spins on emitted spikes and
 *            calls synaptic_input() at once (no engine tick);
 *   echo     a bare recvfrom/sendto loop on the same loopback: the peer.
 *
 * Figures: the added latency from a datagram in to its 'S' out (one at a
 * time: p50, p99), and datagrams per second taken in and sent out while a
 * sender offers as many as it can for a few seconds. Prints figures;
 * never fails on a slow machine.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fake-host.h"
#include "ramp.h"

#define PINGS 1000		/* latency samples */
#define GAP_US 10000		/* pings are 0 to this far apart, at random */
#define BLAST_S 2.0		/* seconds of offered load */
#define QUIET_MS 500		/* the replies are over after this */

/* CLOCK_MONOTONIC in microseconds. */
static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A UDP socket on 127.0.0.1 (port 0: the kernel's choice), big buffers. */
static int
udp_socket(uint16_t *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	int fd, size = 4 << 20;

	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0) {
		perror("socket");
		exit(1);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		perror("bind");
		exit(1);
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* 127.0.0.1:port */
static struct sockaddr_in
loopback(uint16_t port)
{
	struct sockaddr_in sa;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(port);
	return sa;
}

/* A 'D' datagram: Padova's unit 0, spontaneous, interval 1 tick. */
static const uint8_t d_spike[8] = { 'D', 0, 0, 0, 2, 0, 0, 1 };

/* Receive everything waiting; how many datagrams. */
static size_t
drain(int fd)
{
	uint8_t buf[64];
	size_t n = 0;

	while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
		n++;
	return n;
}

/* Compare doubles for qsort. */
static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Latency of one datagram in to its reply out, PINGS times, p50 and p99 in
 * ms; pings leave at random moments (up to GAP_US apart), as a partner's
 * spikes do, not in step with any loop on the other side.
 */
static int
latency(int src, uint16_t to, int reply, double *p50, double *p99)
{
	struct sockaddr_in sa = loopback(to);
	struct pollfd pfd = { .fd = reply, .events = POLLIN };
	static double v[PINGS];
	uint8_t buf[64];
	struct timespec gap = { 0, 0 };
	size_t n = 0, lost = 0, i;
	int64_t t0;

	drain(reply);
	srand(1);
	for (i = 0; i < PINGS; i++) {
		gap.tv_nsec = (long)(rand() % GAP_US) * 1000;
		nanosleep(&gap, NULL);
		t0 = mono_us();
		sendto(src, d_spike, sizeof d_spike, 0, (struct sockaddr *)&sa,
		    sizeof sa);
		if (poll(&pfd, 1, 1000) <= 0 || recv(reply, buf, sizeof buf,
		    0) != 8) {
			lost++;
			continue;
		}
		v[n++] = (mono_us() - t0) / 1000.0;
	}
	if (n == 0)
		return -1;
	qsort(v, n, sizeof *v, cmp_double);
	*p50 = v[n / 2];
	*p99 = v[n * 99 / 100];
	if (lost > 0)
		printf("  (%zu of %d pings had no reply within 1 s)\n", lost,
		    PINGS);
	return 0;
}

/* What a blast did. */
struct blast {
	int src, reply;
	uint16_t to;
	uint64_t sent, replies;
	double seconds;
	volatile int sending;
};

/* Sender thread: as many 'D' datagrams as the kernel takes, BLAST_S s. */
static void *
blast_send(void *arg)
{
	struct blast *b = arg;
	struct sockaddr_in sa = loopback(b->to);
	int64_t t0 = mono_us(), end = t0 + (int64_t)(BLAST_S * 1e6);

	while (mono_us() < end) {
		if (sendto(b->src, d_spike, sizeof d_spike, 0,
		    (struct sockaddr *)&sa, sizeof sa) == sizeof d_spike)
			b->sent++;
	}
	b->seconds = (mono_us() - t0) / 1e6;
	__atomic_store_n(&b->sending, 0, __ATOMIC_RELEASE);
	return NULL;
}

/* Offer load for BLAST_S s and count the replies until they stop. */
static void
blast(struct blast *b)
{
	struct pollfd pfd = { .fd = b->reply, .events = POLLIN };
	pthread_t t;

	drain(b->reply);
	b->sent = b->replies = 0;
	b->sending = 1;
	pthread_create(&t, NULL, blast_send, b);
	for (;;) {
		if (poll(&pfd, 1, __atomic_load_n(&b->sending,
		    __ATOMIC_ACQUIRE) ? 50 : QUIET_MS) <= 0) {
			if (!__atomic_load_n(&b->sending, __ATOMIC_ACQUIRE))
				break;
			continue;
		}
		b->replies += drain(b->reply);
	}
	pthread_join(t, NULL);
}

/* Figures of one run, for the ratios at the end. */
struct figures {
	double p50, p99, taken_per_s;
};

/* Print one row of figures and keep them. */
static void
report(const char *who, double p50, double p99, const struct blast *b,
    double taken, struct figures *f)
{
	f->p50 = p50;
	f->p99 = p99;
	f->taken_per_s = taken / b->seconds;
	printf("%-8s latency p50 %7.3f ms  p99 %7.3f ms | offered %8.0f/s  "
	    "taken in %8.0f/s  'S' out %8.0f/s (%.1f %% of offered)\n", who,
	    p50, p99, b->sent / b->seconds, taken / b->seconds,
	    b->replies / b->seconds, b->sent > 0 ? 100.0 * b->replies /
	    b->sent : 0);
}

/* The peer: a bare echo loop from one socket to the reply socket. */
struct echo {
	int fd;
	uint16_t port, reply_port;
	volatile int stop;
	uint64_t in;
};

/* Echo thread: every datagram in goes out to the reply port. */
static void *
echo_run(void *arg)
{
	struct echo *e = arg;
	struct sockaddr_in sa = loopback(e->reply_port);
	struct pollfd pfd = { .fd = e->fd, .events = POLLIN };
	uint8_t buf[64];
	ssize_t n;

	while (!e->stop) {
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		while ((n = recv(e->fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
			e->in++;
			buf[0] = 'S';
			sendto(e->fd, buf, (size_t)n, 0, (struct sockaddr *)&sa,
			    sizeof sa);
		}
	}
	return NULL;
}

/* The echo peer over the same loopback. */
static void
bench_echo(int src, int reply, uint16_t reply_port, struct figures *f)
{
	struct echo e = { 0 };
	struct blast b = { 0 };
	double p50 = NAN, p99 = NAN;
	pthread_t t;

	e.fd = udp_socket(&e.port);
	e.reply_port = reply_port;
	pthread_create(&t, NULL, echo_run, &e);
	latency(src, e.port, reply, &p50, &p99);
	b.src = src;
	b.reply = reply;
	b.to = e.port;
	e.in = 0;
	blast(&b);
	e.stop = 1;
	pthread_join(t, NULL);
	close(e.fd);
	report("echo", p50, p99, &b, (double)e.in, f);
}

/*
 * The "engine" of the plugin run: the host's emit() puts each spike's
 * time into a single-producer ring; a thread spins on it and fires the
 * synapse (synaptic_input of zurich unit 0, weight 128) at once.
 */
#define RING 65536
static struct {
	int64_t t[RING];
	uint64_t head, tail;	/* head: written by emit; tail: engine */
	uint64_t dropped;
	volatile int stop;
	struct sb_plugin *p;
} engine;

/* host->emit of the plugin run (link thread). */
static int
engine_emit(struct sb_emitter *em, const struct sb_event *ev)
{
	uint64_t head = engine.head;

	if (head - __atomic_load_n(&engine.tail, __ATOMIC_ACQUIRE) == RING) {
		engine.dropped++;
		return -1;
	}
	engine.t[head % RING] = ev->t_us;
	__atomic_store_n(&engine.head, head + 1, __ATOMIC_RELEASE);
	return 0;
}

/* Engine thread: spin on the ring, answer each spike at once. */
static void *
engine_run(void *arg)
{
	struct sb_plugin *p = engine.p;
	uint64_t tail = engine.tail, head;

	while (!engine.stop) {
		head = __atomic_load_n(&engine.head, __ATOMIC_ACQUIRE);
		if (head == tail) {
			sched_yield();	/* two cores are shared with the rest */
			continue;
		}
		for (; tail < head; tail++)
			p->pops[0].synaptic_input(p->pops_data[0], 0, 128,
			    150.0, engine.t[tail % RING]);
		__atomic_store_n(&engine.tail, tail, __ATOMIC_RELEASE);
	}
	return NULL;
}

/* The plugin alone, driven by the fake host with its own emit(). */
static void
bench_plugin(int src, int reply, uint16_t reply_port, struct figures *f)
{
	struct sb_plugin *p = fake_plugin_new("southampton", 1);
	struct sb_host_api host = fake_host;
	struct sb_emitter em[2];
	struct blast b = { 0 };
	struct ramp *r;
	double p50 = NAN, p99 = NAN;
	char partner[32], *cause = NULL;
	uint64_t in0;
	pthread_t t;
	int i;

	host.emit = engine_emit;
	p->fast = 0;
	snprintf(partner, sizeof partner, "127.0.0.1:%u", reply_port);
	fake_plugin_arg(p, "role", "node");
	fake_plugin_arg(p, "listen", "127.0.0.1:0");
	fake_plugin_arg(p, "a_partner", partner);
	fake_plugin_arg(p, "d_partner", "127.0.0.1:9");
	if (synbridge_plugin_init(p, &host) != 0) {
		printf("plugin   cannot load: %s\n", p->error);
		fake_plugin_free(p, synbridge_plugin_end);
		return;
	}
	r = p->link_data;
	for (i = 0; i < 2; i++) {
		em[i].p = p;
		em[i].limit = SIZE_MAX;
		p->pops[i].start(p->pops_data[i], &em[i], &cause);
	}
	engine.p = p;
	pthread_create(&t, NULL, engine_run, NULL);
	b.to = ntohs(r->listen.sin_port);
	latency(src, b.to, reply, &p50, &p99);
	b.src = src;
	b.reply = reply;
	in0 = __atomic_load_n(&r->link.rx, __ATOMIC_RELAXED);
	blast(&b);
	engine.stop = 1;
	pthread_join(t, NULL);
	report("plugin", p50, p99, &b, (double)(__atomic_load_n(&r->link.rx,
	    __ATOMIC_RELAXED) - in0 - engine.dropped), f);
	for (i = 0; i < 2; i++)
		p->pops[i].stop(p->pops_data[i]);
	fake_plugin_free(p, synbridge_plugin_end);
}

/* Wait for a line holding key in a file; the text after key, or NULL. */
static char *
wait_line(const char *path, const char *key, int seconds)
{
	int64_t end = mono_us() + (int64_t)seconds * 1000000;
	static char line[512];
	char *s;
	FILE *f;

	while (mono_us() < end) {
		if ((f = fopen(path, "r")) != NULL) {
			while (fgets(line, sizeof line, f) != NULL) {
				if ((s = strstr(line, key)) != NULL) {
					fclose(f);
					return s + strlen(key);
				}
			}
			fclose(f);
		}
		poll(NULL, 0, 20);
	}
	return NULL;
}

/* Rows of a CSV file after the header whose third column is pop. */
static uint64_t
csv_rows(const char *path, const char *pop)
{
	char line[256], *c;
	uint64_t n = 0;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL) {
		if ((c = strchr(line, ',')) != NULL &&
		    (c = strchr(c + 1, ',')) != NULL &&
		    strncmp(c + 1, pop, strlen(pop)) == 0)
			n++;
	}
	fclose(f);
	return n;
}

/* The real console, headless, with the plugin and a simulated crossbar. */
static void
bench_console(int src, int reply, uint16_t reply_port, struct figures *f)
{
	const char *top = getenv("top_builddir");
	char dir[] = "/tmp/bench-ramp.XXXXXX", conf[256], err[256],
	    bin[512], logdir[256], spikes[300], *port;
	struct blast b = { 0 };
	double p50 = NAN, p99 = NAN;
	pid_t pid;
	FILE *fp;
	int fd, status;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return;
	}
	snprintf(bin, sizeof bin, "%s/src/synbridge", top ? top : ".");
	snprintf(conf, sizeof conf, "%s/node.conf", dir);
	snprintf(err, sizeof err, "%s/err", dir);
	snprintf(logdir, sizeof logdir, "%s/log", dir);
	snprintf(spikes, sizeof spikes, "%s/spikes.csv", logdir);
	if ((fp = fopen(conf, "w")) == NULL) {
		perror(conf);
		return;
	}
	fprintf(fp, "site southampton\n"
	    "load sim_memristor name=xbar rows=32 cols=32 rmin=4000 "
	    "rmax=9000\n"
	    "load ramp role=node listen=127.0.0.1:0 a_partner=127.0.0.1:%u "
	    "d_partner=127.0.0.1:9\n"
	    "synapse s0 padova:0 zurich:0 xbar:w1b1 -r rate\n", reply_port);
	fclose(fp);
	if ((pid = fork()) == 0) {
		fd = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 2);
		fd = open("/dev/null", O_RDWR);
		dup2(fd, 0);
		dup2(fd, 1);
		execl(bin, bin, "--headless", "-v", "-c", conf, "--log-dir",
		    logdir, "--duration", "600", (char *)NULL);
		_exit(127);
	}
	if ((port = wait_line(err, "ramp: node on 127.0.0.1:", 20)) == NULL) {
		printf("console  did not start (%s; see %s)\n", bin, err);
		kill(pid, SIGTERM);
		waitpid(pid, &status, 0);
		return;
	}
	b.to = (uint16_t)atoi(port);
	latency(src, b.to, reply, &p50, &p99);
	b.src = src;
	b.reply = reply;
	blast(&b);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	/* the spikes recorded are the datagrams taken in (pings and blast) */
	report("console", p50, p99, &b, (double)(csv_rows(spikes, "padova") -
	    PINGS), f);
	if (getenv("BENCH_KEEP") == NULL) {
		char cmd[300];

		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", dir);
	}
}

int
main(void)
{
	struct figures echo = { NAN, NAN, NAN }, plugin = echo, console = echo;
	uint16_t src_port, reply_port;
	int src, reply;

	signal(SIGPIPE, SIG_IGN);
	src = udp_socket(&src_port);
	reply = udp_socket(&reply_port);
	printf("RAMP node over loopback: a 'D' datagram in, its 'S' out; %d "
	    "pings one at a time, then %.0f s of as many as the sender can "
	    "offer\n", PINGS, BLAST_S);
	bench_echo(src, reply, reply_port, &echo);
	bench_plugin(src, reply, reply_port, &plugin);
	bench_console(src, reply, reply_port, &console);
	printf("ratio to echo: plugin latency p50 x%.2f, p99 x%.2f, taken in "
	    "x%.2f; console latency p50 x%.1f, p99 x%.1f, taken in x%.2f\n",
	    plugin.p50 / echo.p50, plugin.p99 / echo.p99, plugin.taken_per_s /
	    echo.taken_per_s, console.p50 / echo.p50, console.p99 / echo.p99,
	    console.taken_per_s / echo.taken_per_s);
	printf("(echo: a bare recvfrom/sendto loop, the peer; plugin: the "
	    "plugin alone, fake host, spikes answered as soon as emitted; "
	    "console: src/synbridge --headless with sim_memristor, CSV "
	    "recording, one synapse)\n");
	close(src);
	close(reply);
	return 0;
}
