/* relay-main.c: synbridge-relay's command line, start and shutdown. */
#include "config.h"

#include <sys/resource.h>

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "relay.h"
#include "sched-hint.h"
#include "xmalloc.h"

struct relay relay = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.conn_lock = PTHREAD_MUTEX_INITIALIZER,
	.retry_cond = PTHREAD_COND_INITIALIZER,
};

/* Print the usage. */
static void
relay_usage(FILE *f)
{
	fprintf(f,
"Usage: synbridge-relay --listen ADDR:PORT --tokens FILE\n"
"         (--cert FILE --key FILE | --self-signed DIR) [OPTION]...\n"
"Relay synbridge event batches, clock and commands between sites over HTTPS.\n"
"\n"
"  --listen ADDR:PORT     address to listen on (port 0 picks a free one)\n"
"  --cert FILE            PEM certificate (chain) of the relay\n"
"  --key FILE             PEM private key of the certificate\n"
"  --self-signed DIR      use DIR/cert.pem and DIR/key.pem, made if missing\n"
"  --tokens FILE          access list (TOKEN SITE SESSION PUBLISH READ\n"
"                         COMMAND lines)\n"
"  --spool DIR            keep every batch on disk (durable before the ack)\n"
"  --max-memory MB        batches kept in memory per session (default 256)\n"
"  --max-body MB|KBk      largest publish body (default 16 MB)\n"
"  --max-buffers MB       request bodies and answers in memory, all\n"
"                         connections together (default 256)\n"
"  --max-streams N        streams per session (default 1024)\n"
"  --max-streams-per-site N  streams per site of a session (default 256)\n"
"  --max-streams-total N  streams in all sessions (default 4096)\n"
"  --rate EVENTS_PER_S    events per second per token (default 0: no limit)\n"
"  --keepalive S          keep-alive batch after S s of silence (default 2)\n"
"  --max-connections N    open connections in all (default 1024)\n"
"  --max-unauthenticated N  connections without a valid token yet\n"
"                         (default 256)\n"
"  --max-per-ip N         open connections per client address (default 256)\n"
"  --max-per-token N      open connections that showed one token (default 40)\n"
"  --handshake-timeout S  close a connection that shows no valid token\n"
"                         within S s (default 10)\n"
"  --timeout S            close idle connections after S s (default 60)\n"
"  --threads N            HTTP worker threads (default 1)\n"
"  --realtime[=PRIO]      run the relay's threads under SCHED_FIFO at PRIO\n"
"                         (1-%d, default %d); needs an rtprio limit or\n"
"                         CAP_SYS_NICE; also keeps idle cores quick to\n"
"                         wake (/dev/cpu_dma_latency: root by default)\n"
"  --help                 show this help and exit\n"
"  --version              show the version and exit\n"
"\n"
"On start it prints 'pin sha256//BASE64' (the certificate's public key pin)\n"
"and 'listening on ADDR:PORT'. See synbridge-relay(1).\n", SB_SCHED_RT_MAX,
	    SB_SCHED_RT_DEFAULT);
}

/* Parse an unsigned option value in [lo, hi]; exits 2 if bad. */
static uint64_t
relay_number(const char *opt, const char *s, uint64_t lo, uint64_t hi)
{
	uint64_t v;

	if (relay_args_u64(s, &v) != 0 || v < lo || v > hi) {
		fprintf(stderr, "synbridge-relay: --%s %s: want a whole number "
		    "from %llu to %llu\n", opt, s, (unsigned long long)lo,
		    (unsigned long long)hi);
		exit(2);
	}
	return v;
}

/* A size in MB, or in KB with a k suffix ("64k"); exits when bad. */
static uint64_t
relay_size(const char *opt, const char *s)
{
	char	 num[24];
	size_t	 len = strlen(s);
	uint64_t v;

	if (len > 1 && len < sizeof num && (s[len - 1] == 'k' ||
	    s[len - 1] == 'K')) {
		memcpy(num, s, len - 1);
		num[len - 1] = '\0';
		if (relay_args_u64(num, &v) == 0 && v >= 4 &&
		    v <= 1024 * 1024)
			return v << 10;
	} else if (relay_args_u64(s, &v) == 0 && v >= 1 && v <= 1024)
		return v << 20;
	fprintf(stderr, "synbridge-relay: --%s %s: want MB from 1 to 1024, or "
	    "KB from 4k to 1048576k\n", opt, s);
	exit(2);
}

/* Parse the command line into relay.opt; exits on errors and --help. */
static void
relay_options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "cert", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },
		{ "tokens", required_argument, NULL, 't' },
		{ "spool", required_argument, NULL, 's' },
		{ "self-signed", required_argument, NULL, 'S' },
		{ "max-memory", required_argument, NULL, 'm' },
		{ "max-body", required_argument, NULL, 'b' },
		{ "max-buffers", required_argument, NULL, 'B' },
		{ "max-streams", required_argument, NULL, 'n' },
		{ "max-streams-total", required_argument, NULL, 'N' },
		{ "max-unauthenticated", required_argument, NULL, 'U' },
		{ "handshake-timeout", required_argument, NULL, 'H' },
		{ "rate", required_argument, NULL, 'r' },
		{ "keepalive", required_argument, NULL, 'K' },
		{ "max-connections", required_argument, NULL, 'C' },
		{ "max-per-ip", required_argument, NULL, 'P' },
		{ "max-per-token", required_argument, NULL, 'o' },
		{ "max-streams-per-site", required_argument, NULL, 'e' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "threads", required_argument, NULL, 'j' },
		{ "realtime", optional_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct relay_options *o = &relay.opt;
	int c;

	o->max_memory = 256ULL << 20;
	o->max_body = 16ULL << 20;
	o->keepalive_s = 2;	/* readers call a read stalled after 7 s */
	o->max_buffers = 256ULL << 20;
	o->max_streams = 1024;
	o->max_streams_total = 4096;
	o->max_streams_site = 256;
	/*
	 * Sized for a consortium: a console keeps up to 8 connections (9
	 * for a moment while it changes what it reads), and
	 * a lab's NAT puts all its consoles behind one address (32 behind
	 * one address, 128 in all).
	 */
	o->max_connections = 1024;
	o->max_unauth = 256;
	o->max_per_ip = 256;
	o->max_per_token = 40;	/* 4 consoles' worth on one token */
	o->handshake_s = 10;
	o->timeout_s = 60;
	o->threads = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'l': o->listen = optarg; break;
		case 'c': o->cert = optarg; break;
		case 'k': o->key = optarg; break;
		case 't': o->tokens = optarg; break;
		case 's': o->spool = optarg; break;
		case 'S': o->self_signed = optarg; break;
		case 'm':
			o->max_memory = relay_number("max-memory", optarg, 1,
			    1 << 20) << 20;
			break;
		case 'b':
			o->max_body = relay_size("max-body", optarg);
			break;
		case 'B':
			o->max_buffers = relay_number("max-buffers", optarg, 1,
			    1 << 20) << 20;
			break;
		case 'n':
			o->max_streams = (unsigned)relay_number("max-streams",
			    optarg, 1, 1000000);
			break;
		case 'N':
			o->max_streams_total = (unsigned)relay_number(
			    "max-streams-total", optarg, 1, 1000000);
			break;
		case 'U':
			o->max_unauth = (unsigned)relay_number(
			    "max-unauthenticated", optarg, 1, 100000);
			break;
		case 'H':
			o->handshake_s = (unsigned)relay_number(
			    "handshake-timeout", optarg, 1, 3600);
			break;
		case 'r':
			o->rate = (double)relay_number("rate", optarg, 0,
			    1000000000);
			break;
		case 'K':
			o->keepalive_s = (unsigned)relay_number("keepalive",
			    optarg, 1, 3600);
			break;
		case 'C':
			o->max_connections = (unsigned)relay_number(
			    "max-connections", optarg, 1, 100000);
			o->connections_given = 1;
			break;
		case 'P':
			o->max_per_ip = (unsigned)relay_number("max-per-ip",
			    optarg, 1, 100000);
			break;
		case 'o':
			o->max_per_token = (unsigned)relay_number(
			    "max-per-token", optarg, 1, 100000);
			break;
		case 'e':
			o->max_streams_site = (unsigned)relay_number(
			    "max-streams-per-site", optarg, 1, 1000000);
			break;
		case 'T':
			o->timeout_s = (unsigned)relay_number("timeout", optarg,
			    1, 86400);
			break;
		case 'j':
			o->threads = (unsigned)relay_number("threads",
			    optarg, 1, 64);
			break;
		case 'R':
			if (sb_sched_realtime_parse(optarg, &o->realtime) !=
			    0) {
				sb_sched_realtime_bad("synbridge-relay", optarg);
				exit(2);
			}
			break;
		case 'h':
			relay_usage(stdout);
			exit(0);
		case 'V':
			printf("synbridge-relay (%s) %s\n", PACKAGE_NAME,
			    PACKAGE_VERSION);
			exit(0);
		default:
			if (strncmp(argv[optind - 1], "--", 2) != 0)
				fprintf(stderr, "synbridge-relay: unknown "
				    "option %s (options are long: --NAME)\n",
				    argv[optind - 1]);
			else if (optopt != 0)
				fprintf(stderr, "synbridge-relay: option --%s: "
				    "missing or unexpected value\n",
				    argv[optind - 1] + 2);
			else
				fprintf(stderr, "synbridge-relay: unknown "
				    "option %s\n", argv[optind - 1]);
			fprintf(stderr, "Try 'synbridge-relay --help'.\n");
			exit(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "synbridge-relay: unexpected argument '%s'%s\n"
		    "Try 'synbridge-relay --help'.\n", argv[optind],
		    sb_sched_realtime_hint(argc, argv, argv[optind]));
		exit(2);
	}
	if (o->listen == NULL || o->tokens == NULL) {
		fprintf(stderr, "synbridge-relay: --listen and --tokens are "
		    "needed\nTry 'synbridge-relay --help'.\n");
		exit(2);
	}
	if (o->self_signed != NULL && (o->cert != NULL || o->key != NULL)) {
		fprintf(stderr, "synbridge-relay: give either --self-signed or "
		    "--cert and --key, not both\n");
		exit(2);
	}
	if (o->self_signed == NULL && (o->cert == NULL || o->key == NULL)) {
		fprintf(stderr, "synbridge-relay: give --cert and --key (or "
		    "--self-signed DIR for a test certificate)\n");
		exit(2);
	}
}

/*
 * Make sure the descriptors the bounds need are there: connections, the
 * open stream logs and a reserve. Raises the soft limit (up to the hard
 * one) if needed; else a default --max-connections is fitted to what
 * there is, and one given on the command line is refused (exit 2).
 * Returns the descriptors the bounds need (at most 2^20, a table of 8 MiB),
 * for sb_fd_table_reserve.
 */
static int
relay_descriptors(void)
{
	struct relay_options *o = &relay.opt;
	struct rlimit rl;
	uint64_t fixed, need, have;
	int ret;

	fixed = RELAY_FD_RESERVE + RELAY_CONN_SLACK + 2 * (uint64_t)o->threads;
	if (o->spool != NULL)
		fixed += RELAY_SPOOL_FILES + 2 * (uint64_t)relay.nsessions;
	need = fixed + o->max_connections;
	ret = need > 1U << 20 ? 1 << 20 : (int)need;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return ret;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ||
		    rl.rlim_max >= need ? need : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	have = rl.rlim_cur == RLIM_INFINITY ? need : rl.rlim_cur;
	if (have >= need)
		return ret;
	if (o->connections_given || have < fixed + 16) {
		fprintf(stderr, "synbridge-relay: --max-connections %u needs "
		    "%llu file descriptors with the relay's own %llu, but "
		    "only %llu are allowed (ulimit -n): raise the limit "
		    "(ulimit -n, or LimitNOFILE= for a service) or lower "
		    "--max-connections\n", o->max_connections,
		    (unsigned long long)need, (unsigned long long)fixed,
		    (unsigned long long)have);
		exit(2);
	}
	o->max_connections = (unsigned)(have - fixed);
	fprintf(stderr, "synbridge-relay: only %llu file descriptors allowed "
	    "(ulimit -n): serving at most %u connections instead of the "
	    "default 1024; raise the limit for more\n",
	    (unsigned long long)have, o->max_connections);
	return ret;
}

/* Print the ready lines: the pin and the real address. */
static void
relay_ready(void)
{
	const char *colon = strrchr(relay.opt.listen, ':');

	printf("pin %s\n", relay.pin);
	printf("listening on %.*s:%d\n", (int)(colon - relay.opt.listen),
	    relay.opt.listen, relay_http_port());
	fflush(stdout);
}

/* Free everything. */
static void
relay_cleanup(void)
{
	/*
	 * The timer first: it may be retrying held publish parts, which it
	 * takes off the session's list while it does (relay_http_held_expire);
	 * relay_http_stop releases only those on the list before the daemon
	 * stops, and a part still suspended then aborts libmicrohttpd.
	 */
	relay_timer_stop();
	relay_http_stop();
	relay_store_free();
	relay_tokens_free(relay.tokens, relay.ntokens);
	relay_conn_free();
	free(relay.cert_pem);
	if (relay.key_pem != NULL)
		memset(relay.key_pem, 0, strlen(relay.key_pem));
	free(relay.key_pem);
	free(relay.pin);
}

/* Run the relay until SIGINT or SIGTERM. */
int
main(int argc, char **argv)
{
	char *cause = NULL, *cert = NULL, *key = NULL;
	sigset_t set;
	int sig, code = 2, fdneed;

	relay_options(argc, argv);
	/*
	 * The HTTP thread(s) and the spool's sync thread, started from here,
	 * inherit it: they wake for every batch and answer at once, also
	 * beside programs that compute (sched-hint.h). --realtime asks for
	 * SCHED_FIFO instead; refused, the relay says why and goes on.
	 */
	if (relay.opt.realtime != 0 &&
	    sb_sched_realtime(relay.opt.realtime) != 0)
		sb_sched_realtime_refused("synbridge-relay",
		    relay.opt.realtime, errno);
	else if (relay.opt.realtime != 0)
		fprintf(stderr, "synbridge-relay: threads run under SCHED_FIFO "
		    "priority %d (--realtime)\n", relay.opt.realtime);
	/* and idle cores quick to wake while it runs (sched-hint.h) */
	if (relay.opt.realtime != 0 &&
	    sb_cpu_wake_realtime("synbridge-relay", 1) == -2)
		return (2);
	(void)sb_sched_prefer_latency();
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	relay.start_us = relay_now_real();
	relay.start_mono_us = relay_now_mono();
	TAILQ_INIT(&relay.pending);
	TAILQ_INIT(&relay.conns);
	TAILQ_INIT(&relay.spool_open);
	/*
	 * Blocks of 1 MiB and more (large batches, answers) go back to the
	 * system when freed, so what --max-memory and --max-buffers bound is
	 * what the relay holds; glibc would otherwise raise this threshold
	 * as blocks come and go and keep their memory. Smaller ones (the
	 * usual batch, a publish body's part) are reused from the heap, with
	 * at most 8 MiB of free heap top kept: a fresh page per batch cost
	 * about 4 % of throughput in page faults.
	 */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	mallopt(M_TRIM_THRESHOLD, 8 << 20);

	if (relay_tokens_load(relay.opt.tokens, &relay.tokens,
	    &relay.ntokens, &cause) != 0)
		goto fail;
	if (relay.opt.self_signed != NULL) {
		if (relay_tls_self_signed(relay.opt.self_signed, &cert, &key,
		    &cause) != 0)
			goto fail;
		relay.opt.cert = cert;
		relay.opt.key = key;
	}
	if (relay_tls_load(relay.opt.cert, relay.opt.key, &cause) != 0 ||
	    relay_store_init(&cause) != 0)
		goto fail;
	fdneed = relay_descriptors();
	/*
	 * All the descriptors the bounds allow, in the table now, before the
	 * threads start: grown while they run, it would hold up the HTTP
	 * thread's accept for an RCU grace period (sched-hint.h).
	 */
	(void)sb_fd_table_reserve(fdneed);
	if (relay.opt.max_unauth > relay.opt.max_connections)
		relay.opt.max_unauth = relay.opt.max_connections;
	code = 1;
	if (relay_timer_start(&cause) != 0 || relay_http_start(&cause) != 0)
		goto fail;
	relay_ready();

	while (sigwait(&set, &sig) == 0 && sig == SIGHUP)
		;
	relay_cleanup();
	free(cert);
	free(key);
	return 0;

fail:
	fprintf(stderr, "synbridge-relay: %s\n", cause);
	free(cause);
	relay_cleanup();
	free(cert);
	free(key);
	return code;
}
