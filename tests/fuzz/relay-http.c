/*
 * relay-http.c: fuzz target for synbridge-relay's HTTP request handling
 * (src/relay: routing, authentication, body limits, streams, publish,
 * reads, control messages, metrics, health), in process: the relay's own
 * handler on a libmicrohttpd daemon without TLS or a listening socket
 * (relay_http_start_unlistened), one connection per input over a socket
 * pair.
 *
 * The relay has four tokens in two sessions (tokens below), 4 KiB of
 * memory per session (so stored batches are evicted and readers get
 * gaps), an 8 KiB publish limit, a rate limit and no spool. Input: the
 * bytes a client sends on one connection (any number of requests, kept
 * alive, pipelined). The harness reads every answer, then ends the session
 * as the relay does at shutdown (readers and long-polls resumed and told
 * to stop) and closes the connection: every connection must then be gone,
 * with its readers, and every answer must be HTTP.
 */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "fuzz.h"
#include "relay/relay.h"

#define FUZZ_HTTP_IDLE_ROUNDS 3		/* rounds without progress: done */
#define FUZZ_HTTP_MAX_ROUNDS 4096
#define FUZZ_HTTP_CLOSE_ROUNDS 256

struct relay relay = { .lock = PTHREAD_MUTEX_INITIALIZER,
    .retry_cond = PTHREAD_COND_INITIALIZER };
static struct MHD_Daemon *fuzz_http_daemon;

/* The relay's tokens, options and daemon. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char tokens[] =
	    "tok-padova-0001 padova demo mea,syn:* */* southampton,zurich\n"
	    "tok-soton-00001 southampton demo synapses,syn:* */* *\n"
	    "tok-zurich-0001 zurich demo silicon padova/mea -\n"
	    "tok-other-00001 other lab2 * - -\n";
	char *cause = NULL;

	if (relay_tokens_load(fuzz_memfile_slot(3, (const uint8_t *)tokens,
	    sizeof tokens - 1), &relay.tokens, &relay.ntokens, &cause) != 0) {
		fprintf(stderr, "fuzz: relay-http: tokens: %s\n", cause);
		abort();
	}
	/* what relay-main.c's main() sets up before the store and daemon */
	relay.start_us = relay_now_real();
	relay.start_mono_us = relay_now_mono();
	TAILQ_INIT(&relay.pending);
	TAILQ_INIT(&relay.spool_open);
	relay.opt.max_memory = 4 << 10;
	relay.opt.max_body = 8 << 10;
	relay.opt.rate = 100000;
	relay.opt.keepalive_s = 2;
	relay.opt.max_connections = 16;
	relay.opt.max_per_ip = 16;
	relay.opt.timeout_s = 60;
	relay.opt.max_buffers = 1 << 20;
	relay.opt.max_unauth = 16;
	relay.opt.max_streams = 64;
	relay.opt.max_streams_site = 32;	/* 0 refused every stream */
	relay.opt.max_streams_total = 256;
	relay.opt.handshake_s = 10;
	relay.opt.threads = 1;
	signal(SIGPIPE, SIG_IGN);
	fuzz_http_daemon = relay_http_start_unlistened();
	if (fuzz_http_daemon == NULL) {
		fprintf(stderr, "fuzz: relay-http: MHD_start_daemon failed\n");
		abort();
	}
	return 0;
}

/* Connections the daemon holds. */
static unsigned
fuzz_http_connections(void)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(
	    fuzz_http_daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

	FUZZ_CHECK(info != NULL);
	return info->num_connections;
}

/* Read what the relay answered so far; bytes read, -1 at its EOF. */
static ssize_t
fuzz_http_read(int fd, size_t *total)
{
	static char buf[65536];
	ssize_t n, got = 0;

	for (;;) {
		n = read(fd, buf, sizeof buf);
		if (n == 0)
			return got > 0 ? got : -1;
		if (n < 0) {
			FUZZ_CHECK(errno == EAGAIN || errno == EINTR);
			return got;
		}
		if (getenv("SB_FUZZ_VERBOSE") != NULL)
			fwrite(buf, 1, (size_t)n, stderr);
		/* an answer starts with HTTP's status line */
		if (*total == 0)
			FUZZ_CHECK(n < 5 || memcmp(buf, "HTTP/", 5) == 0);
		*total += (size_t)n;
		got += n;
	}
}

/* One client connection sends the input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in peer;
	size_t sent = 0, total = 0, i;
	char *cause = NULL;
	int sv[2], idle = 0, rounds, pending, eof = 0;
	ssize_t n;

	relay.start_us = relay_now_real();
	relay.stopping = 0;
	memset(&relay.m, 0, sizeof relay.m);
	for (i = 0; i < relay.ntokens; i++)
		relay.tokens[i].bucket_t = 0;
	FUZZ_CHECK(relay_store_init(&cause) == 0);

	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv) == 0);
	FUZZ_CHECK(fcntl(sv[0], F_SETFL, O_NONBLOCK) == 0);
	memset(&peer, 0, sizeof peer);
	peer.sin_family = AF_INET;
	peer.sin_port = htons(40000);
	peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	FUZZ_CHECK(MHD_add_connection(fuzz_http_daemon, sv[1],
	    (const struct sockaddr *)&peer, sizeof peer) == MHD_YES);

	/* send everything, reading answers as they come */
	for (rounds = 0; rounds < FUZZ_HTTP_MAX_ROUNDS && !eof; rounds++) {
		if (sent < size) {
			n = write(sv[0], data + sent, size - sent);
			if (n > 0)
				sent += (size_t)n;
			else
				FUZZ_CHECK(errno == EAGAIN || errno == EPIPE ||
				    errno == ECONNRESET);
			if (n < 0 && errno != EAGAIN)
				sent = size;	/* the relay hung up */
		}
		FUZZ_CHECK(MHD_run(fuzz_http_daemon) == MHD_YES);
		n = fuzz_http_read(sv[0], &total);
		if (n < 0)
			eof = 1;
		pending = 0;
		if (ioctl(sv[0], SIOCOUTQ, &pending) != 0)
			pending = 0;
		/* done when the relay took everything and says nothing more */
		if (sent == size && pending == 0 && n == 0)
			idle++;
		else
			idle = 0;
		if (idle >= FUZZ_HTTP_IDLE_ROUNDS)
			break;
	}

	/* the relay shuts down: readers and long-polls end; the client goes */
	pthread_mutex_lock(&relay.lock);
	relay.stopping = 1;
	relay_read_wake_all();
	relay_control_wake_all();
	pthread_mutex_unlock(&relay.lock);
	/* publish parts held for a hole: stopping, each is refused now */
	relay_http_held_expire(INT64_MAX);
	shutdown(sv[0], SHUT_WR);
	for (rounds = 0; rounds < FUZZ_HTTP_CLOSE_ROUNDS &&
	    fuzz_http_connections() > 0; rounds++) {
		FUZZ_CHECK(MHD_run(fuzz_http_daemon) == MHD_YES);
		(void)fuzz_http_read(sv[0], &total);
	}
	/* no connection outlives its client and the relay's stop */
	FUZZ_CHECK(fuzz_http_connections() == 0);
	FUZZ_CHECK(relay.m.read_clients == 0);
	close(sv[0]);
	relay_store_free();
	return 0;
}
