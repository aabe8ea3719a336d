/*
 * test-ramp.c: the RAMP UDP link (plugins/ramp) in both roles, driven
 * through the fake host over loopback UDP sockets of its own. Every wait
 * is a condition with a deadline.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "fake-host.h"
#include "ramp.h"

#define DEADLINE_MS 5000
#define QUIET_MS 150		/* how long "nothing arrives" is watched */
#define EVENTS_CAP 4096		/* preallocated: the link thread emits */

/* Milliseconds of CLOCK_MONOTONIC. */
static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A UDP socket on 127.0.0.1 with a port of the kernel's choice. */
static int
udp_socket(uint16_t *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	int fd;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Send len raw bytes to 127.0.0.1:port. */
static void
send_raw(int fd, uint16_t port, const void *buf, size_t len)
{
	struct sockaddr_in sa;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(port);
	assert_int_equal(sendto(fd, buf, len, 0, (struct sockaddr *)&sa,
	    sizeof sa), (ssize_t)len);
}

/* Send one datagram, written byte by byte (not through the plugin). */
static void
send_pkt(int fd, uint16_t port, uint8_t sender, uint32_t id, uint8_t aux,
    uint32_t time)
{
	uint8_t b[8] = { sender, (uint8_t)(id >> 16), (uint8_t)(id >> 8),
	    (uint8_t)id, aux, (uint8_t)(time >> 16), (uint8_t)(time >> 8),
	    (uint8_t)time };

	send_raw(fd, port, b, sizeof b);
}

/* Receive one datagram within ms; its length, or -1 if none came. */
static ssize_t
recv_raw(int fd, int ms, uint8_t *buf, size_t len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	if (poll(&pfd, 1, ms) <= 0)
		return -1;
	return recv(fd, buf, len, 0);
}

/* Receive one 8-byte datagram within ms, decoded by hand; 0 or -1. */
static int
recv_pkt(int fd, int ms, struct ramp_packet *pkt)
{
	uint8_t b[64];

	if (recv_raw(fd, ms, b, sizeof b) != 8)
		return -1;
	pkt->sender = b[0];
	pkt->id = (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	pkt->aux = b[4];
	pkt->time = (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 | b[7];
	return 0;
}

/* Wait until the plugin has emitted n events (or the deadline). */
static int
wait_events(struct sb_plugin *p, size_t n)
{
	int64_t deadline = now_ms() + DEADLINE_MS;

	while (__atomic_load_n(&p->nevents, __ATOMIC_ACQUIRE) < n) {
		if (now_ms() > deadline)
			return -1;
		poll(NULL, 0, 2);
	}
	return 0;
}

/* The link's health row (the engine would call it). */
static struct sb_link_health
health(struct sb_plugin *p)
{
	struct sb_link_health h;

	assert_int_equal(p->link.health(p->link_data, &h, 1), 1);
	return h;
}

/* Wait until a counter of the health row reaches n. */
static int
wait_health(struct sb_plugin *p, size_t offset, uint64_t n)
{
	int64_t deadline = now_ms() + DEADLINE_MS;
	struct sb_link_health h;

	for (;;) {
		h = health(p);
		if (*(uint64_t *)((char *)&h + offset) >= n)
			return 0;
		if (now_ms() > deadline)
			return -1;
		poll(NULL, 0, 2);
	}
}

/* The port a plugin instance bound, read from its load message. */
static uint16_t
bound_port(struct sb_plugin *p, const char *after)
{
	const char *s;
	int i;

	for (i = 0; i < p->nlogs; i++) {
		if ((s = strstr(p->logs[i], after)) != NULL)
			return (uint16_t)atoi(s + strlen(after));
	}
	fail_msg("no '%s' in the plugin's log", after);
	return 0;
}

/* A fresh instance at site, real time, with room for emitted events. */
static struct sb_plugin *
new_plugin(const char *site)
{
	struct sb_plugin *p = fake_plugin_new(site, 7);

	assert_non_null(p);
	p->fast = 0;
	p->now = 5000000;
	p->echo = getenv("RAMP_TEST_ECHO") != NULL;
	p->events = calloc(EVENTS_CAP, sizeof *p->events);
	assert_non_null(p->events);
	p->eventsalloc = EVENTS_CAP;
	return p;
}

/* A node: partners on two test sockets, listening on a free port. */
struct node {
	struct sb_plugin *p;
	int a, d, src;			/* partner sockets, a sender */
	uint16_t a_port, d_port, src_port, port;
	char a_addr[32], d_addr[32];
	struct sb_emitter em[2];
};

/* Load a node with extra key, value, ... arguments (NULL-terminated). */
static int
node_load(struct node *n, ...)
{
	const char *key;
	va_list ap;
	int rc;

	memset(n, 0, sizeof *n);
	n->p = new_plugin("southampton");
	n->a = udp_socket(&n->a_port);
	n->d = udp_socket(&n->d_port);
	n->src = udp_socket(&n->src_port);
	snprintf(n->a_addr, sizeof n->a_addr, "127.0.0.1:%u", n->a_port);
	snprintf(n->d_addr, sizeof n->d_addr, "127.0.0.1:%u", n->d_port);
	fake_plugin_arg(n->p, "role", "node");
	fake_plugin_arg(n->p, "listen", "127.0.0.1:0");
	fake_plugin_arg(n->p, "a_partner", n->a_addr);
	fake_plugin_arg(n->p, "d_partner", n->d_addr);
	va_start(ap, n);
	while ((key = va_arg(ap, const char *)) != NULL)
		fake_plugin_arg(n->p, key, va_arg(ap, const char *));
	va_end(ap);
	rc = synbridge_plugin_init(n->p, &fake_host);
	if (rc == 0)
		n->port = bound_port(n->p, "node on 127.0.0.1:");
	return rc;
}

/* Start both populations (the host would, right after init). */
static void
node_start(struct node *n)
{
	char *cause = NULL;
	int i;

	assert_int_equal(n->p->npops, 2);
	for (i = 0; i < 2; i++) {
		n->em[i].p = n->p;
		n->em[i].limit = EVENTS_CAP;
		assert_int_equal(n->p->pops[i].start(n->p->pops_data[i],
		    &n->em[i], &cause), 0);
	}
}

/* Stop, unload and close everything. */
static void
node_free(struct node *n)
{
	int i;

	for (i = 0; i < n->p->npops && n->p->pops[i].stop != NULL; i++)
		n->p->pops[i].stop(n->p->pops_data[i]);
	fake_plugin_free(n->p, synbridge_plugin_end);
	close(n->a);
	close(n->d);
	close(n->src);
}

/* Bytes on the wire: big-endian words, [sender|id] [aux|time]. */
static void
test_packet_layout(void **state)
{
	struct ramp_packet p = { 'S', 0x123456, 200, 0xabcdef }, q;
	uint8_t b[8];

	ramp_packet_encode(&p, RAMP_FIELD_MASK, b);
	assert_memory_equal(b, "S\x12\x34\x56\xc8\xab\xcd\xef", 8);
	assert_int_equal(ramp_packet_decode(b, 8, &q), 0);
	assert_int_equal(q.sender, 'S');
	assert_int_equal(q.id, 0x123456);
	assert_int_equal(q.aux, 200);
	assert_int_equal(q.time, 0xabcdef);
	/* the node's quirk: 20 bits of id and time on the wire */
	ramp_packet_encode(&p, RAMP_NODE_SEND_MASK, b);
	assert_memory_equal(b, "S\x02\x34\x56\xc8\x0b\xcd\xef", 8);
	/* ids wider than 24 bits never leak into the sender byte */
	p.id = 0xff000001;
	ramp_packet_encode(&p, RAMP_FIELD_MASK, b);
	assert_int_equal(b[0], 'S');
	assert_int_equal(b[3], 1);
	/* anything but 8 bytes is refused; "RDY" is a ready datagram */
	assert_int_equal(ramp_packet_decode(b, 7, &q), -1);
	assert_int_equal(ramp_packet_decode(b, 9, &q), -1);
	assert_true(ramp_packet_is_ready((const uint8_t *)"RDY", 3));
	assert_false(ramp_packet_is_ready((const uint8_t *)"RDZ", 3));
	assert_false(ramp_packet_is_ready((const uint8_t *)"RDY\n", 4));
}

/* 50 us ticks on a grid: intervals add up, wrap at 2^24, never negative. */
static void
test_ticks(void **state)
{
	int64_t t, prev = 0;
	uint64_t sum = 0;

	assert_int_equal(ramp_ticks_between(0, 49), 0);
	assert_int_equal(ramp_ticks_between(0, 50), 1);
	assert_int_equal(ramp_ticks_between(49, 50), 1);
	assert_int_equal(ramp_ticks_between(1000, 1000), 0);
	assert_int_equal(ramp_ticks_between(2000, 1000), 0);
	assert_int_equal(ramp_ticks_between(-60, 0), 2);
	/* intervals of 37 us: the sum is the elapsed ticks, no drift */
	for (t = 37; t <= 37 * 1000; t += 37) {
		sum += ramp_ticks_between(prev, t);
		prev = t;
	}
	assert_int_equal(sum, 37 * 1000 / 50);
	/* 24 bits: 2^24 + 3 ticks go out as 3 */
	assert_int_equal(ramp_ticks_between(0, (int64_t)((1 << 24) + 3) * 50),
	    3);
	assert_int_equal(ramp_ticks_between(0, (int64_t)((1 << 24) - 1) * 50),
	    0xffffff);
	/* the node's clock wraps as the original's did */
	assert_int_equal(ramp_tabs_advance(10, 5), 15);
	assert_int_equal(ramp_tabs_advance(RAMP_TABS_WRAP - 1, 3), 2);
}

/* Lines, comments, BOM, CRLF and CR, a fifth field. */
static void
test_conn_parse(void **state)
{
	static const char text[] = "\xef\xbb\xbf# connectivity\r\n"
	    "12, 0, 1, 1\r\n"
	    "\r\n"
	    "  23,0,1,2   # trailing comment\r"
	    "0, 16, 2, 1, a\n"
	    "0, 41, 2, 2, D\n";
	struct ramp_synapse *syn;
	char *cause = NULL;
	size_t n;

	assert_int_equal(ramp_conn_parse("c.txt", text, sizeof text - 1, &syn,
	    &n, &cause), 0);
	assert_int_equal(n, 4);
	assert_int_equal(syn[0].pre, 12);
	assert_int_equal(syn[0].post, 0);
	assert_int_equal(syn[0].w, 1);
	assert_int_equal(syn[0].b, 1);
	assert_int_equal(syn[0].line, 2);
	assert_int_equal(syn[0].dir, RAMP_DIR_BOTH);
	assert_int_equal(syn[1].pre, 23);
	assert_int_equal(syn[1].line, 4);
	assert_int_equal(syn[2].line, 5);
	assert_int_equal(syn[2].dir, RAMP_DIR_A_TO_D);
	assert_int_equal(syn[3].dir, RAMP_DIR_D_TO_A);
	free(syn);
	/* an empty file is no synapses, not an error */
	assert_int_equal(ramp_conn_parse("e.txt", "", 0, &syn, &n, &cause),
	    0);
	assert_int_equal(n, 0);
	free(syn);
}

/* Parse text expecting an error message equal to want. */
static void
conn_error(const char *text, const char *want)
{
	struct ramp_synapse *syn = NULL;
	char *cause = NULL;
	size_t n = 0;

	assert_int_equal(ramp_conn_parse("c.txt", text, strlen(text), &syn,
	    &n, &cause), -1);
	assert_null(syn);
	assert_non_null(cause);
	assert_string_equal(cause, want);
	free(cause);
}

/* Errors name FILE:LINE and what to fix. */
static void
test_conn_errors(void **state)
{
	conn_error("1, 2, 3, 4\r\n1, 2, 3\r\n", "c.txt:2: '1, 2, 3' is not "
	    "'pre, post, w, b' (four whole numbers separated by commas, "
	    "optionally a fifth field d or a)");
	conn_error("# x\n1 2 3 4\n", "c.txt:2: '1 2 3 4' is not 'pre, post, "
	    "w, b' (four whole numbers separated by commas, optionally a "
	    "fifth field d or a)");
	conn_error("1, 2, 3, 4, d, 5\n", "c.txt:1: '1, 2, 3, 4, d, 5' is not "
	    "'pre, post, w, b' (four whole numbers separated by commas, "
	    "optionally a fifth field d or a)");
	conn_error("1, x, 3, 4\n", "c.txt:1: post 'x' is not a whole number "
	    "from 0 to 16777215");
	conn_error("1, -2, 3, 4\n", "c.txt:1: post '-2' is not a whole number "
	    "from 0 to 16777215");
	conn_error("16777216, 2, 3, 4\n", "c.txt:1: pre '16777216' is not a "
	    "whole number from 0 to 16777215");
	conn_error("\n\n1, 2, 0, 4\n", "c.txt:3: w is 0, but wordlines and "
	    "bitlines count from 1 as the ArC ONE numbers them (w1b1 is the "
	    "first device)");
	conn_error("1, 2, 3, 4, x\n", "c.txt:1: fifth field 'x' is not d or a "
	    "(d: pre is a 'D' unit, post an 'A' unit; a: the other way "
	    "round)");
	conn_error("1, 2, 3, 4\n5, 6, 3, 4\n", "c.txt:2: device w3b4 is on "
	    "line 1 too (a device carries one synapse)");
	conn_error("1, 2, 3, 4\r\n1, 2, 3, 5\r\n", "c.txt:2: pre 1, post 2 "
	    "repeats line 1 (the original kept only the last; write each pair "
	    "once)");
	/* d and a do not overlap; a line for both senders overlaps each */
	conn_error("1, 2, 3, 4, d\n1, 2, 5, 6, a\n9, 9, 5, 6\n1, 2, 7, 8\n",
	    "c.txt:3: device w5b6 is on line 2 too (a device carries one "
	    "synapse)");
	conn_error("1, 2, 3, 4, a\n1, 2, 5, 6, d\n1, 2, 7, 8\n",
	    "c.txt:3: pre 1, post 2 repeats line 1 (the original kept only the "
	    "last; write each pair once)");
}

/*
 * A file of a million lines (within the 16 MiB a file may have) is checked
 * for repeats in moments, not hours: the console does not stall at load.
 * SIGALRM ends the test if it takes a minute (comparing every two lines,
 * as the first version did, takes hours).
 */
static void
test_conn_large(void **state)
{
	const size_t lines = 1000000;
	struct ramp_synapse *syn = NULL;
	char *text, *cause = NULL;
	size_t i, len = 0, n = 0;

	text = malloc(lines * 40 + 64);
	assert_non_null(text);
	for (i = 0; i < lines; i++)
		len += (size_t)sprintf(text + len, "%zu, %zu, %zu, %zu\n", i, i,
		    i / 4096 + 1, i % 4096 + 1);
	alarm(60);
	assert_int_equal(ramp_conn_parse("c.txt", text, len, &syn, &n,
	    &cause), 0);
	assert_int_equal(n, lines);
	free(syn);
	/* one more line, on the device of line 2 */
	len += (size_t)sprintf(text + len, "7, 8, 1, 2\n");
	assert_int_equal(ramp_conn_parse("c.txt", text, len, &syn, &n,
	    &cause), -1);
	alarm(0);
	assert_string_equal(cause, "c.txt:1000001: device w1b2 is on line 2 "
	    "too (a device carries one synapse)");
	free(cause);
	free(text);
}

/* The NUL case above is cut by strlen: check it with its real length. */
static void
test_conn_nul(void **state)
{
	static const char text[] = "1, 2, 3, 4\n\0\n";
	static const char both[] = "1, 2, 3, 4, d\n1, 2, 3, 5, a\n";
	struct ramp_synapse *syn = NULL;
	char *cause = NULL;
	size_t n;

	assert_int_equal(ramp_conn_parse("c.txt", text, sizeof text - 1, &syn,
	    &n, &cause), -1);
	assert_string_equal(cause, "c.txt: has NUL bytes: not a text file "
	    "(one 'pre, post, w, b' a line)");
	free(cause);
	/* one pair may go both ways when the lines say which is which */
	assert_int_equal(ramp_conn_parse("c.txt", both, strlen(both), &syn,
	    &n, &cause), 0);
	assert_int_equal(n, 2);
	free(syn);
}

/* 'A' and 'D' datagrams become spikes of the two populations. */
static void
test_node_spikes(void **state)
{
	struct node n;
	struct sb_link_health h;

	assert_int_equal(node_load(&n, NULL), 0);
	assert_int_equal(n.p->npops, 2);
	assert_string_equal(n.p->pops[0].name, "zurich");
	assert_int_equal(n.p->pops[0].units, 256);
	assert_string_equal(n.p->pops[1].name, "padova");
	assert_int_equal(n.p->pops[1].units, 60);
	assert_int_equal(n.p->nlinks, 1);
	assert_string_equal(n.p->link.name, "ramp");
	assert_int_equal(n.p->nqueued, 0);
	node_start(&n);

	send_pkt(n.src, n.port, 'A', 3, 0, 100);
	assert_int_equal(wait_events(n.p, 1), 0);
	send_pkt(n.src, n.port, 'D', 5, 1, 7);
	assert_int_equal(wait_events(n.p, 2), 0);
	send_pkt(n.src, n.port, 'D', 59, 2, 7);
	assert_int_equal(wait_events(n.p, 3), 0);
	/* 24-bit ids are read in full: 0x100003 is beyond zurich's units */
	send_pkt(n.src, n.port, 'D', 6, 0, 7);	/* a PSP: no spike */
	send_pkt(n.src, n.port, 'A', 0x100003, 0, 1);
	assert_int_equal(wait_health(n.p, offsetof(struct sb_link_health,
	    out_of_range), 1), 0);
	send_pkt(n.src, n.port, 'A', 255, 0, 1);
	assert_int_equal(wait_events(n.p, 4), 0);

	assert_int_equal(n.p->events[0].kind, SB_EV_SPIKE);
	assert_int_equal(n.p->events[0].index, 3);
	assert_int_equal(n.p->events[0].aux, SB_SPIKE_SPONTANEOUS);
	/* stamped with the session clock at arrival */
	assert_true(n.p->events[0].t_us >= n.p->now);
	assert_true(n.p->events[0].t_us < n.p->now + 60000000);
	assert_int_equal(n.p->events[1].index, 5);
	assert_int_equal(n.p->events[1].aux, SB_SPIKE_STIMULATED);
	assert_int_equal(n.p->events[2].index, 59);
	assert_int_equal(n.p->events[2].aux, SB_SPIKE_SPONTANEOUS);
	assert_int_equal(n.p->events[3].index, 255);
	assert_int_equal(n.p->nevents, 4);

	h = health(n.p);
	assert_int_equal(h.state, SB_LINK_UP);
	assert_true(isnan(h.loss_pct));	/* unknown, never 0 */
	assert_int_equal(h.out_of_range, 1);
	assert_int_equal(h.malformed, 0);
	assert_true(h.last_batch_age_s >= 0 && h.last_batch_age_s < 5);
	assert_non_null(strstr(h.detail, "node role on 127.0.0.1:"));
	assert_non_null(strstr(h.detail, "2 partners, last from 127.0.0.1:"));
	assert_non_null(strstr(h.detail, ", 1 PSPs"));
	n.p->link.poll(n.p->link_data);
	assert_true(fake_plugin_logged(n.p, "ramp: 'A' id 1048579 from "
	    "127.0.0.1:"));
	assert_true(fake_plugin_logged(n.p, "is beyond zurich's units 0-255 "
	    "(ignored and counted; raise a_units=)"));
	node_free(&n);
}

/* synaptic_input sends 'S' to the partner that owns the post unit. */
static void
test_node_routes_weights(void **state)
{
	struct ramp_packet pkt;
	struct node n;
	int64_t t;

	assert_int_equal(node_load(&n, "a_units", "2000000", NULL), 0);
	node_start(&n);
	/* the clock: 'A' intervals add up; 'D' times do not move it */
	send_pkt(n.src, n.port, 'A', 1, 0, 100);
	send_pkt(n.src, n.port, 'D', 1, 2, 5000);
	send_pkt(n.src, n.port, 'A', 2, 0, 0xf00000);
	assert_int_equal(wait_events(n.p, 3), 0);
	t = n.p->events[2].t_us;

	/* a synapse onto padova unit 7 fired: padova's lab gets the weight */
	n.p->pops[1].synaptic_input(n.p->pops_data[1], 7, 200, 150.0, t);
	assert_int_equal(recv_pkt(n.d, DEADLINE_MS, &pkt), 0);
	assert_int_equal(pkt.sender, 'S');
	assert_int_equal(pkt.id, 7);
	assert_int_equal(pkt.aux, 200);
	/* t_abs = 100 + 0xf00000, sent with 20 bits as the original did */
	assert_int_equal(pkt.time, (100 + 0xf00000) & 0x0fffff);
	assert_int_equal(recv_pkt(n.a, QUIET_MS, &pkt), -1);

	/* onto zurich unit 0x100005: zurich's lab, the id masked to 20 bits */
	n.p->pops[0].synaptic_input(n.p->pops_data[0], 0x100005, 300, 150.0,
	    t);
	assert_int_equal(recv_pkt(n.a, DEADLINE_MS, &pkt), 0);
	assert_int_equal(pkt.sender, 'S');
	assert_int_equal(pkt.id, 5);
	assert_int_equal(pkt.aux, 255);		/* weights top out at 255 */
	assert_int_equal(recv_pkt(n.d, QUIET_MS, &pkt), -1);

	/* a spike that arrived before the last 'A' carries the clock then */
	n.p->pops[1].synaptic_input(n.p->pops_data[1], 1, 9, 150.0,
	    n.p->events[1].t_us);
	assert_int_equal(recv_pkt(n.d, DEADLINE_MS, &pkt), 0);
	if (n.p->events[1].t_us < t)
		assert_int_equal(pkt.time, 100);
	assert_int_equal(health(n.p).malformed, 0);
	node_free(&n);
}

/* Bad datagrams are counted, said once per cause, and change nothing. */
static void
test_node_malformed(void **state)
{
	static const uint8_t seven[7] = "ABCDEFG", nine[9] = "ABCDEFGHI";
	struct sb_link_health h;
	struct node n;
	int i, lines;

	assert_int_equal(node_load(&n, "name", "udp", NULL), 0);
	assert_string_equal(n.p->link.name, "udp");
	/* before start: counted as dropped, not emitted */
	send_pkt(n.src, n.port, 'A', 1, 0, 1);
	assert_int_equal(wait_health(n.p, offsetof(struct sb_link_health,
	    gaps), 1), 0);
	node_start(&n);
	for (i = 0; i < 2; i++) {
		send_raw(n.src, n.port, seven, sizeof seven);
		send_raw(n.src, n.port, nine, sizeof nine);
		send_pkt(n.src, n.port, 'Z', 1, 0, 1);
		send_pkt(n.src, n.port, 'S', 1, 100, 1);
		send_pkt(n.src, n.port, 'D', 1, 9, 1);
		send_pkt(n.src, n.port, 'D', 60, 2, 1);
		send_pkt(n.src, n.port, 'R', 0, 255, 0);
		send_raw(n.src, n.port, "RDY", 3);
		send_raw(n.src, n.port, "", 0);
	}
	assert_int_equal(wait_health(n.p, offsetof(struct sb_link_health,
	    malformed), 12), 0);
	assert_int_equal(wait_health(n.p, offsetof(struct sb_link_health,
	    out_of_range), 2), 0);
	/* the link still works */
	send_pkt(n.src, n.port, 'D', 3, 2, 1);
	assert_int_equal(wait_events(n.p, 1), 0);
	assert_int_equal(n.p->events[0].index, 3);
	assert_int_equal(n.p->nevents, 1);
	h = health(n.p);
	assert_int_equal(h.malformed, 12);
	assert_int_equal(h.out_of_range, 2);
	assert_int_equal(h.state, SB_LINK_UP);

	n.p->link.poll(n.p->link_data);
	assert_true(fake_plugin_logged(n.p, "ramp: spikes of zurich arrived "
	    "before it started"));
	assert_true(fake_plugin_logged(n.p, "ramp: datagram of 7 bytes from "
	    "127.0.0.1:"));
	assert_true(fake_plugin_logged(n.p, "with unknown sender 'Z' "
	    "ignored"));
	assert_true(fake_plugin_logged(n.p, "ramp: 'S' datagram from "
	    "127.0.0.1:"));
	assert_true(fake_plugin_logged(n.p, "with aux 9 ignored"));
	assert_true(fake_plugin_logged(n.p, "ramp: 'D' id 60 from"));
	assert_true(fake_plugin_logged(n.p, "ramp: ready datagram from"));
	/* once per cause: 9 or 0 bytes say nothing new, nor repeats */
	for (i = lines = 0; i < n.p->nlogs; i++)
		if (strstr(n.p->logs[i], "bytes from") != NULL)
			lines++;
	assert_int_equal(lines, 1);
	assert_false(fake_plugin_logged(n.p, "datagram of 9 bytes"));
	node_free(&n);
}

/* Write a file in a temporary directory; returns its path (static). */
static const char *
write_file(const char *name, const char *text, size_t len)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof path, "%s/ramp-test-%ld-%s", getenv("TMPDIR") ?
	    getenv("TMPDIR") : "/tmp", (long)getpid(), name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
	return path;
}

/* connectivity= queues one synapse command per line, in file order. */
static void
test_node_connectivity(void **state)
{
	static const char text[] = "\xef\xbb\xbf# the demo\r\n"
	    "12, 0, 1, 1\r\n23, 0, 1, 2\r\n0, 16, 2, 1, a\r\n";
	static const char range[] = "1, 2, 1, 1, d\n70, 0, 1, 2, d\n";
	static const char rule[] = "3, 4, 5, 6, a\n";
	const char *path = write_file("conn.txt", text, sizeof text - 1);
	struct node n;

	assert_int_equal(node_load(&n, "connectivity", path, "device", "xbar",
	    "connectivity_direction", "d_to_a", NULL), 0);
	assert_int_equal(n.p->nqueued, 3);
	assert_string_equal(n.p->queued[0], "synapse d12_a0 "
	    "southampton/padova:12 southampton/zurich:0 xbar:w1b1 -r rate");
	assert_string_equal(n.p->queued[1], "synapse d23_a0 "
	    "southampton/padova:23 southampton/zurich:0 xbar:w1b2 -r rate");
	assert_string_equal(n.p->queued[2], "synapse a0_d16 "
	    "southampton/zurich:0 southampton/padova:16 xbar:w2b1 -r rate");
	node_free(&n);

	/* both (the default): a line without d or a is refused, with why */
	assert_int_equal(node_load(&n, "connectivity", path, "device", "xbar",
	    "rule", "stdp", NULL), -1);
	assert_int_equal(n.p->nqueued, 0);
	assert_true(fake_plugin_logged(n.p, ":2: with connectivity_direction="
	    "both this line is two synapses (padova:12 -> zurich:0 and "
	    "zurich:12 -> padova:0) on one device w1b1, and a device carries "
	    "one synapse: end the line with ', d' or ', a', or load with "
	    "connectivity_direction=d_to_a or a_to_d"));
	node_free(&n);

	/* an id beyond the population: FILE:LINE, nothing queued */
	path = write_file("range.txt", range, strlen(range));
	assert_int_equal(node_load(&n, "connectivity", path, "device", "xbar",
	    NULL), -1);
	assert_int_equal(n.p->nqueued, 0);
	assert_true(fake_plugin_logged(n.p, "range.txt:2: pre 70 is beyond "
	    "padova's units 0-59 (fix the line, or raise d_units=)"));
	node_free(&n);

	/* the rule and the device set go into the commands */
	path = write_file("rule.txt", rule, strlen(rule));
	assert_int_equal(node_load(&n, "connectivity", path, "device", "arc",
	    "rule", "stdp", NULL), 0);
	assert_string_equal(n.p->queued[0], "synapse a3_d4 "
	    "southampton/zurich:3 southampton/padova:4 arc:w5b6 -r stdp");
	node_free(&n);

	/* a file that is not there */
	assert_int_equal(node_load(&n, "connectivity", "/nonexistent/c.txt",
	    "device", "xbar", NULL), -1);
	assert_true(fake_plugin_logged(n.p, "ramp: cannot read connectivity "
	    "file /nonexistent/c.txt: No such file or directory (check "
	    "connectivity=)"));
	node_free(&n);
	assert_int_equal(node_load(&n, "connectivity", path, NULL), -1);
	assert_true(fake_plugin_logged(n.p, "ramp: connectivity= needs "
	    "device=DEVSET"));
	node_free(&n);
}

/* Arguments are checked with messages that say what to do. */
static void
test_args(void **state)
{
	struct sb_plugin *p;
	int fd;
	uint16_t port;
	char addr[32];

	p = new_plugin("s");
	assert_int_equal(fake_plugin_load(p, synbridge_plugin_init, NULL), -1);
	assert_true(fake_plugin_logged(p, "ramp: role=(missing): give "
	    "role=node"));
	fake_plugin_free(p, synbridge_plugin_end);

	p = new_plugin("s");
	p->fast = 1;
	assert_int_equal(fake_plugin_load(p, synbridge_plugin_init, "role",
	    "node", NULL), -1);
	assert_true(fake_plugin_logged(p, "ramp: --fast runs on virtual "
	    "time; the RAMP link needs real time"));
	fake_plugin_free(p, synbridge_plugin_end);

	p = new_plugin("s");
	assert_int_equal(fake_plugin_load(p, synbridge_plugin_init, "role",
	    "node", "a_partner", "127.0.0.1", "a_units", "0", NULL), -1);
	assert_true(fake_plugin_logged(p, "ramp: a_partner='127.0.0.1' is not "
	    "HOST:PORT with a port from 1 to 65535 (e.g. "
	    "a_partner=192.168.10.1:10000)"));
	assert_true(fake_plugin_logged(p, "ramp: d_partner=HOST:PORT is "
	    "required in role=node"));
	assert_true(fake_plugin_logged(p, "ramp: a_units='0' is not a whole "
	    "number from 1 to 16777216"));
	fake_plugin_free(p, synbridge_plugin_end);

	p = new_plugin("s");
	assert_int_equal(fake_plugin_load(p, synbridge_plugin_init, "role",
	    "neurons", "population", "mea", "sender", "Z", NULL), -1);
	assert_true(fake_plugin_logged(p, "ramp: sender=Z: give sender=D"));
	fake_plugin_free(p, synbridge_plugin_end);

	/* a port someone holds: a clear error at load */
	fd = udp_socket(&port);
	snprintf(addr, sizeof addr, "127.0.0.1:%u", port);
	p = new_plugin("s");
	assert_int_equal(fake_plugin_load(p, synbridge_plugin_init, "role",
	    "node", "listen", addr, "a_partner", "127.0.0.1:9", "d_partner",
	    "127.0.0.1:9", NULL), -1);
	assert_non_null(strstr(p->error, "ramp: cannot listen on "));
	assert_non_null(strstr(p->error, ": address in use (another node "
	    "running? choose listen=)"));
	assert_int_equal(p->npops, 0);
	fake_plugin_free(p, synbridge_plugin_end);
	close(fd);
}

/* Captured deliveries of a neuron site. */
struct captured {
	char site[64], stream[64];
	struct sb_event ev[64];
	size_t n;
};

/* host->deliver for the neuron tests. */
static void
capture(struct sb_plugin *p, const char *site, const char *stream,
    const struct sb_event *ev, size_t n)
{
	struct captured *c = p->ctx;
	size_t i;

	snprintf(c->site, sizeof c->site, "%s", site);
	snprintf(c->stream, sizeof c->stream, "%s", stream);
	for (i = 0; i < n && c->n < 64; i++)
		c->ev[c->n++] = ev[i];
}

/* A spike event for the tap. */
static struct sb_event
spike(uint32_t unit, int64_t t_us, uint8_t aux)
{
	struct sb_event ev;

	memset(&ev, 0, sizeof ev);
	ev.kind = SB_EV_SPIKE;
	ev.index = unit;
	ev.t_us = t_us;
	ev.aux = aux;
	return ev;
}

/* A neuron site ('D'): spikes out with per-unit intervals, 'S' back in. */
static void
test_neurons_d(void **state)
{
	struct sb_plugin *p = new_plugin("padova");
	struct sb_event ev[6];
	struct ramp_packet pkt;
	struct captured c;
	char addr[32];
	uint16_t node_port, port;
	int node;
	int64_t t0 = 5000000;

	node = udp_socket(&node_port);
	snprintf(addr, sizeof addr, "127.0.0.1:%u", node_port);
	memset(&c, 0, sizeof c);
	p->ctx = &c;
	p->on_deliver = capture;
	assert_int_equal(fake_plugin_load(p, synbridge_plugin_init, "role",
	    "neurons", "population", "mea", "sender", "D", "node", addr,
	    "listen", "127.0.0.1:0", "id_offset", "100", "units", "60", NULL),
	    0);
	port = bound_port(p, "listening on 127.0.0.1:");
	assert_string_equal(p->tap_population, "mea");
	assert_int_equal(p->npops, 0);
	assert_int_equal(p->nlinks, 1);

	ev[0] = spike(3, t0 + 1000, SB_SPIKE_STIMULATED);
	ev[1] = spike(3, t0 + 2000, SB_SPIKE_SPONTANEOUS);
	ev[2] = spike(4, t0 + 2050, SB_SPIKE_SPONTANEOUS);
	ev[3] = ev[2];
	ev[3].kind = SB_EV_STIM;		/* not a spike: not sent */
	ev[4] = spike(5, t0 + ((int64_t)1 << 24) * 50 + 100,
	    SB_SPIKE_SPONTANEOUS);
	p->tap_fn(p->tap_data, ev, 5);
	assert_int_equal(recv_pkt(node, DEADLINE_MS, &pkt), 0);
	assert_int_equal(pkt.sender, 'D');
	assert_int_equal(pkt.id, 103);
	assert_int_equal(pkt.aux, 1);
	assert_int_equal(pkt.time, 20);
	assert_int_equal(recv_pkt(node, DEADLINE_MS, &pkt), 0);
	assert_int_equal(pkt.id, 103);
	assert_int_equal(pkt.aux, 2);
	assert_int_equal(pkt.time, 20);	/* since unit 3's own last spike */
	assert_int_equal(recv_pkt(node, DEADLINE_MS, &pkt), 0);
	assert_int_equal(pkt.id, 104);
	assert_int_equal(pkt.time, 41);	/* since the link started */
	assert_int_equal(recv_pkt(node, DEADLINE_MS, &pkt), 0);
	assert_int_equal(pkt.id, 105);
	assert_int_equal(pkt.time, 2);	/* 2^24 + 2 ticks, 24 bits */
	assert_int_equal(recv_pkt(node, QUIET_MS, &pkt), -1);

	/* 'S' from the node: synaptic input of unit id - id_offset */
	send_pkt(node, port, 'S', 107, 77, 12345);
	send_pkt(node, port, 'S', 99, 1, 0);		/* below the offset */
	send_pkt(node, port, 'S', 160, 1, 0);		/* unit 60 of 60 */
	send_pkt(node, port, 'A', 101, 0, 0);		/* not for us */
	assert_int_equal(wait_health(p, offsetof(struct sb_link_health,
	    out_of_range), 2), 0);
	assert_int_equal(wait_health(p, offsetof(struct sb_link_health,
	    malformed), 1), 0);
	p->link.poll(p->link_data);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.site, "ramp");
	assert_string_equal(c.stream, "syn:padova/mea");
	assert_int_equal(c.ev[0].kind, SB_EV_SYNAPTIC);
	assert_int_equal(c.ev[0].index, 7);
	assert_int_equal(c.ev[0].aux, 77);
	assert_true(c.ev[0].t_us >= p->now);
	assert_true(fake_plugin_logged(p, "ramp: 'S' id 99 from 127.0.0.1:"));
	assert_true(fake_plugin_logged(p, "with sender 'A' ignored: a neuron "
	    "site takes only the node's 'S'"));
	assert_non_null(strstr(health(p).detail, "neurons role ('D' mea) to "
	    "127.0.0.1:"));
	fake_plugin_free(p, synbridge_plugin_end);
	close(node);
}

/* A neuron site ('A'): intervals since the sender's previous datagram. */
static void
test_neurons_a(void **state)
{
	struct sb_plugin *p = new_plugin("zurich");
	struct sb_event ev[3];
	struct ramp_packet pkt;
	char addr[32];
	uint16_t node_port;
	int node;
	int64_t t0 = 5000000;

	node = udp_socket(&node_port);
	snprintf(addr, sizeof addr, "127.0.0.1:%u", node_port);
	assert_int_equal(fake_plugin_load(p, synbridge_plugin_init, "role",
	    "neurons", "population", "silicon", "sender", "A", "node", addr,
	    "listen", "127.0.0.1:0", NULL), 0);
	ev[0] = spike(0, t0 + 500, SB_SPIKE_SPONTANEOUS);
	ev[1] = spike(9, t0 + 800, SB_SPIKE_STIMULATED);
	ev[2] = spike(0, t0 + 800, SB_SPIKE_SPONTANEOUS);
	p->tap_fn(p->tap_data, ev, 3);
	assert_int_equal(recv_pkt(node, DEADLINE_MS, &pkt), 0);
	assert_int_equal(pkt.sender, 'A');
	assert_int_equal(pkt.id, 0);
	assert_int_equal(pkt.aux, 0);
	assert_int_equal(pkt.time, 10);
	assert_int_equal(recv_pkt(node, DEADLINE_MS, &pkt), 0);
	assert_int_equal(pkt.id, 9);
	assert_int_equal(pkt.time, 6);
	assert_int_equal(recv_pkt(node, DEADLINE_MS, &pkt), 0);
	assert_int_equal(pkt.time, 0);	/* same instant */
	fake_plugin_free(p, synbridge_plugin_end);
	close(node);
}

/* What the kernel refuses is counted as dropped and said once. */
static void
test_neurons_dropped(void **state)
{
	struct sb_plugin *p = new_plugin("zurich");
	struct sb_event ev[2];

	/* a broadcast address without SO_BROADCAST: sendto fails */
	assert_int_equal(fake_plugin_load(p, synbridge_plugin_init, "role",
	    "neurons", "population", "silicon", "sender", "A", "node",
	    "255.255.255.255:9", "listen", "127.0.0.1:0", NULL), 0);
	ev[0] = spike(0, p->now + 500, SB_SPIKE_SPONTANEOUS);
	ev[1] = spike(1, p->now + 600, SB_SPIKE_SPONTANEOUS);
	p->tap_fn(p->tap_data, ev, 2);
	assert_int_equal(health(p).gaps, 2);
	p->link.poll(p->link_data);
	assert_true(fake_plugin_logged(p, "ramp: cannot send to "
	    "255.255.255.255:9: "));
	fake_plugin_free(p, synbridge_plugin_end);
}

/* The module exports the ABI and nothing else, and loads. */
static void
test_module(void **state)
{
	sb_plugin_init_fn init;
	sb_plugin_end_fn end;
	char *cause = NULL;
	void *h;

	h = fake_module_open("plugins/ramp/.libs/ramp.so", "ramp", &init,
	    &end, &cause);
	if (h == NULL)
		fail_msg("%s", cause);
	dlclose(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_packet_layout),
		cmocka_unit_test(test_ticks),
		cmocka_unit_test(test_conn_parse),
		cmocka_unit_test(test_conn_errors),
		cmocka_unit_test(test_conn_large),
		cmocka_unit_test(test_conn_nul),
		cmocka_unit_test(test_node_spikes),
		cmocka_unit_test(test_node_routes_weights),
		cmocka_unit_test(test_node_malformed),
		cmocka_unit_test(test_node_connectivity),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_neurons_d),
		cmocka_unit_test(test_neurons_a),
		cmocka_unit_test(test_neurons_dropped),
		cmocka_unit_test(test_module),
	};
	return cmocka_run_group_tests_name("ramp", tests, NULL, NULL);
}
