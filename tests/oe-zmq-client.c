/*
 * oe-zmq-client.c: the ZMQ side of an Open Ephys client, for tests: a SUB
 * to the Event Broadcaster that prints every message it gets, and a REQ to
 * Network Events that sends commands and prints the replies.
 *
 *   oe-zmq-client sub [--filter all|spikes|ttl] [--count N] [--timeout MS]
 *       PORT
 *   oe-zmq-client req [--timeout MS] PORT COMMAND...
 *
 * sub connects to tcp://127.0.0.1:PORT, subscribes to every message, to
 * the prefix 01 00 (spikes) or 00 00 (TTL), and prints one line per event,
 * flushed (T: CLOCK_MONOTONIC microseconds at receipt):
 *   connected T | disconnected T     the connection came up or went down
 *   spike t_us=T KEY=VALUE...         a two-frame message of type 1 whose
 *   ttl t_us=T KEY=VALUE...           JSON frame is an object (type 0);
 *   type=N t_us=T KEY=VALUE...        another type; values are printed as
 *                                     compact JSON ("SE1", 30000.0, true)
 *   badframe t_us=T frames=N          not two frames
 *   badtype t_us=T size=N             a first frame that is not 2 bytes
 *   badjson t_us=T type=N             a second frame that is no JSON object
 *   end received=N                    at exit (N: messages received)
 * It ends after --count messages, after --timeout ms (default 10000), or
 * on SIGTERM/SIGINT, and when its parent dies.
 *
 * req sends each COMMAND in turn, waits --timeout ms (default 2000) for
 * the reply and prints "SENT_US REPLY_US REPLY"; on a timeout it prints
 * "SENT_US - timeout" and exits 1.
 */
#include "config.h"

#include <sys/prctl.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <zmq.h>

#define OE_ZMQ_CLIENT_MONITOR "inproc://oe-zmq-client-monitor"

static volatile sig_atomic_t oe_zmq_client_stop;

/* Signal handler: end at the next wake-up. */
static void
oe_zmq_client_signal(int sig)
{
	oe_zmq_client_stop = sig;
}

/* Monotonic time in microseconds. */
static uint64_t
oe_zmq_client_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000ULL +
	    (uint64_t)ts.tv_nsec / 1000;
}

/* Print the usage and exit. */
static void __attribute__((noreturn))
oe_zmq_client_usage(void)
{
	fprintf(stderr, "usage: oe-zmq-client sub [--filter all|spikes|ttl] "
	    "[--count N] [--timeout MS] PORT\n"
	    "       oe-zmq-client req [--timeout MS] PORT COMMAND...\n");
	exit(2);
}

/* A whole string as a number in lo..hi, or exit. */
static long
oe_zmq_client_num(const char *what, const char *s, long lo, long hi)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "oe-zmq-client: %s '%s': need %ld..%ld\n", what,
		    s, lo, hi);
		exit(2);
	}
	return (v);
}

/* Print one event message (its frames) as a line. */
static void
oe_zmq_client_print(zmq_msg_t *frames, int n, uint64_t t)
{
	json_error_t	 err;
	json_t		*o, *v;
	const char	*key;
	char		*s;
	uint16_t	 type;

	if (n != 2) {
		printf("badframe t_us=%" PRIu64 " frames=%d\n", t, n);
		return;
	}
	if (zmq_msg_size(&frames[0]) != sizeof type) {
		printf("badtype t_us=%" PRIu64 " size=%zu\n", t,
		    zmq_msg_size(&frames[0]));
		return;
	}
	memcpy(&type, zmq_msg_data(&frames[0]), sizeof type);
	o = json_loadb(zmq_msg_data(&frames[1]), zmq_msg_size(&frames[1]), 0,
	    &err);
	if (o == NULL || !json_is_object(o)) {
		printf("badjson t_us=%" PRIu64 " type=%u\n", t, type);
		json_decref(o);
		return;
	}
	if (type == 0)
		printf("ttl");
	else if (type == 1)
		printf("spike");
	else
		printf("type=%u", type);
	printf(" t_us=%" PRIu64, t);
	json_object_foreach(o, key, v) {
		s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		printf(" %s=%s", key, s != NULL ? s : "?");
		free(s);
	}
	putchar('\n');
	json_decref(o);
}

/* Read one message (up to 16 frames kept) from a socket and print it. */
static void
oe_zmq_client_receive(void *sub)
{
	zmq_msg_t	 frames[16], extra;
	uint64_t	 t;
	int		 n = 0, more = 1, i;

	while (more) {
		zmq_msg_t *m = n < 16 ? &frames[n] : &extra;

		zmq_msg_init(m);
		if (zmq_msg_recv(m, sub, 0) == -1) {
			zmq_msg_close(m);
			break;
		}
		more = zmq_msg_more(m);
		if (n >= 16)
			zmq_msg_close(m);
		n++;
	}
	t = oe_zmq_client_now();
	if (n > 0)
		oe_zmq_client_print(frames, n, t);
	for (i = 0; i < n && i < 16; i++)
		zmq_msg_close(&frames[i]);
	fflush(stdout);
}

/* A monitor event: print connects and disconnects. */
static void
oe_zmq_client_monitor(void *mon)
{
	zmq_msg_t	msg;
	uint16_t	event = 0;
	int		more;

	zmq_msg_init(&msg);
	if (zmq_msg_recv(&msg, mon, 0) == -1) {
		zmq_msg_close(&msg);
		return;
	}
	if (zmq_msg_size(&msg) >= sizeof event)
		memcpy(&event, zmq_msg_data(&msg), sizeof event);
	more = zmq_msg_more(&msg);
	zmq_msg_close(&msg);
	while (more) {
		zmq_msg_init(&msg);
		if (zmq_msg_recv(&msg, mon, 0) == -1)
			more = 0;
		else
			more = zmq_msg_more(&msg);
		zmq_msg_close(&msg);
	}
	if (event == ZMQ_EVENT_CONNECTED)
		printf("connected %" PRIu64 "\n", oe_zmq_client_now());
	else if (event == ZMQ_EVENT_DISCONNECTED)
		printf("disconnected %" PRIu64 "\n", oe_zmq_client_now());
	fflush(stdout);
}

/* sub: print the Event Broadcaster's messages. */
static int
oe_zmq_client_sub(void *ctx, const char *port, const char *filter,
    long count, long timeout)
{
	zmq_pollitem_t	 items[2];
	char		 ep[64];
	uint64_t	 deadline;
	long		 received = 0, left;
	uint16_t	 prefix;
	void		*sub, *mon;

	sub = zmq_socket(ctx, ZMQ_SUB);
	mon = zmq_socket(ctx, ZMQ_PAIR);
	if (sub == NULL || mon == NULL ||
	    zmq_socket_monitor(sub, OE_ZMQ_CLIENT_MONITOR,
	    ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED) != 0 ||
	    zmq_connect(mon, OE_ZMQ_CLIENT_MONITOR) != 0) {
		fprintf(stderr, "oe-zmq-client: %s\n", zmq_strerror(errno));
		return (1);
	}
	if (strcmp(filter, "all") == 0)
		zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
	else {
		prefix = strcmp(filter, "spikes") == 0 ? 1 : 0;
		zmq_setsockopt(sub, ZMQ_SUBSCRIBE, &prefix, sizeof prefix);
	}
	snprintf(ep, sizeof ep, "tcp://127.0.0.1:%s", port);
	if (zmq_connect(sub, ep) != 0) {
		fprintf(stderr, "oe-zmq-client: %s: %s\n", ep,
		    zmq_strerror(errno));
		return (1);
	}
	deadline = oe_zmq_client_now() + (uint64_t)timeout * 1000;
	while (!oe_zmq_client_stop && (count == 0 || received < count)) {
		if (oe_zmq_client_now() >= deadline)
			break;
		left = (long)((deadline - oe_zmq_client_now()) / 1000);
		items[0].socket = sub;
		items[0].events = ZMQ_POLLIN;
		items[1].socket = mon;
		items[1].events = ZMQ_POLLIN;
		if (zmq_poll(items, 2, left < 100 ? left : 100) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (items[1].revents & ZMQ_POLLIN)
			oe_zmq_client_monitor(mon);
		if (items[0].revents & ZMQ_POLLIN) {
			oe_zmq_client_receive(sub);
			received++;
		}
	}
	printf("end received=%ld\n", received);
	fflush(stdout);
	zmq_socket_monitor(sub, NULL, 0);
	zmq_close(mon);
	zmq_close(sub);
	return (0);
}

/* req: send commands to Network Events, print the replies. */
static int
oe_zmq_client_req(void *ctx, const char *port, char **cmds, int n,
    long timeout)
{
	zmq_pollitem_t	 item;
	char		 ep[64], reply[4096];
	uint64_t	 sent;
	void		*req;
	int		 i, len, rc;

	if ((req = zmq_socket(ctx, ZMQ_REQ)) == NULL) {
		fprintf(stderr, "oe-zmq-client: %s\n", zmq_strerror(errno));
		return (1);
	}
	snprintf(ep, sizeof ep, "tcp://127.0.0.1:%s", port);
	if (zmq_connect(req, ep) != 0) {
		fprintf(stderr, "oe-zmq-client: %s: %s\n", ep,
		    zmq_strerror(errno));
		zmq_close(req);
		return (1);
	}
	for (i = 0; i < n; i++) {
		sent = oe_zmq_client_now();
		if (zmq_send(req, cmds[i], strlen(cmds[i]), 0) == -1) {
			fprintf(stderr, "oe-zmq-client: send: %s\n",
			    zmq_strerror(errno));
			zmq_close(req);
			return (1);
		}
		item.socket = req;
		item.events = ZMQ_POLLIN;
		do
			rc = zmq_poll(&item, 1, timeout);
		while (rc == -1 && errno == EINTR && !oe_zmq_client_stop);
		if (rc != 1 || (len = zmq_recv(req, reply, sizeof reply - 1,
		    0)) == -1) {
			printf("%" PRIu64 " - timeout\n", sent);
			fflush(stdout);
			zmq_close(req);
			return (1);
		}
		if ((size_t)len > sizeof reply - 1)
			len = sizeof reply - 1;
		reply[len] = '\0';
		printf("%" PRIu64 " %" PRIu64 " %s\n", sent,
		    oe_zmq_client_now(), reply);
		fflush(stdout);
	}
	zmq_close(req);
	return (0);
}

static const struct option oe_zmq_client_options[] = {
	{ "filter", required_argument, NULL, 'f' },
	{ "count", required_argument, NULL, 'c' },
	{ "timeout", required_argument, NULL, 't' },
	{ NULL, 0, NULL, 0 }
};

/* Parse the arguments, run sub or req. */
int
main(int argc, char **argv)
{
	struct sigaction	 sa;
	const char		*filter = "all", *mode;
	long			 count = 0, timeout = -1;
	void			*ctx;
	int			 ch, rc, zero = 0;

	if (argc < 2)
		oe_zmq_client_usage();
	mode = argv[1];
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", oe_zmq_client_options,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
			filter = optarg;
			if (strcmp(filter, "all") != 0 &&
			    strcmp(filter, "spikes") != 0 &&
			    strcmp(filter, "ttl") != 0)
				oe_zmq_client_usage();
			break;
		case 'c':
			count = oe_zmq_client_num("--count", optarg, 0,
			    100000000);
			break;
		case 't':
			timeout = oe_zmq_client_num("--timeout", optarg, 1,
			    3600000);
			break;
		default:
			oe_zmq_client_usage();
		}
	}
	if (optind >= argc)
		oe_zmq_client_usage();
	oe_zmq_client_num("PORT", argv[optind], 1, 65535);

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = oe_zmq_client_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);

	if ((ctx = zmq_ctx_new()) == NULL) {
		fprintf(stderr, "oe-zmq-client: %s\n", zmq_strerror(errno));
		return (1);
	}
	zmq_ctx_set(ctx, ZMQ_BLOCKY, zero);
	if (strcmp(mode, "sub") == 0 && optind + 1 == argc)
		rc = oe_zmq_client_sub(ctx, argv[optind], filter, count,
		    timeout == -1 ? 10000 : timeout);
	else if (strcmp(mode, "req") == 0 && optind + 1 < argc)
		rc = oe_zmq_client_req(ctx, argv[optind], argv + optind + 1,
		    argc - optind - 1, timeout == -1 ? 2000 : timeout);
	else
		oe_zmq_client_usage();
	zmq_ctx_term(ctx);
	return (rc);
}
