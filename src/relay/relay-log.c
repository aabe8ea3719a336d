/*
 * relay-log.c: the relay's log on standard error, one line per message
 * starting "synbridge-relay: ", at most RELAY_LOG_BURST lines a second of
 * the relay's own and as many of libmicrohttpd's: a trouble that repeats
 * (a full descriptor table, clients that keep failing their handshake) is
 * counted instead of flooding the disk, and the count is logged once the
 * second is over. MHD's flood cannot hide the relay's own lines.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "relay.h"

#define RELAY_LOG_BURST 10		/* lines per second */

/* One rate limit: the relay's own lines, or MHD's. */
struct relay_log_rate {
	const char *what;
	int64_t window;			/* monotonic us of this second */
	unsigned lines;			/* lines written in it */
	uint64_t dropped;		/* lines held back since */
};

static pthread_mutex_t relay_log_lock = PTHREAD_MUTEX_INITIALIZER;
static struct relay_log_rate relay_log_own = { .what = "" };
static struct relay_log_rate relay_log_lib = { .what = "libmicrohttpd " };
static char relay_log_mhd_last[256];

const char relay_log_reader_gone[] = "a reader closed its connection "
    "during a read (its console quit or changed what it reads, or the "
    "network dropped; it reads on from its last batch when it comes back): ";

/*
 * What a line of libmicrohttpd's means for an operator, to put before it
 * ("" when it speaks for itself).
 */
static const char *
relay_log_mhd_means(const char *line)
{
	/*
	 * GnuTLS names a handshake cut short, by the client or by the relay
	 * (a connection closed for --handshake-timeout or to make room), or
	 * a client that does not speak TLS, "received handshake message out
	 * of context".
	 */
	if (strstr(line, "handshake") != NULL)
		return "a TLS handshake did not finish (the client or the "
		    "relay closed the connection, or the client does not speak "
		    "TLS): ";
	/*
	 * A console closes its streaming read when it quits or changes what
	 * it reads, and its other requests when it quits or gives up on
	 * one: MHD says so as a failure to send the answer.
	 */
	if (strstr(line, "Failed to send") != NULL &&
	    strstr(line, "/v1/read") != NULL)
		return relay_log_reader_gone;
	if (strstr(line, "Failed to send") != NULL)
		return "a client closed its connection before its answer was "
		    "sent (its console quit or gave up waiting, or the network "
		    "dropped; it asks again when it comes back): ";
	return "";
}

/* Say how many lines were held back, if any. Log lock held. */
static void
relay_log_summary(struct relay_log_rate *r)
{
	if (r->dropped == 0)
		return;
	fprintf(stderr, "synbridge-relay: %llu more %slog lines held back "
	    "(over %d a second)\n", (unsigned long long)r->dropped, r->what,
	    RELAY_LOG_BURST);
	r->dropped = 0;
}

/* May a line be written now? Log lock held. */
static int
relay_log_allowed(struct relay_log_rate *r)
{
	int64_t now = relay_now_mono();

	if (now - r->window >= 1000000) {
		r->window = now;
		r->lines = 0;
		relay_log_summary(r);
	}
	if (r->lines >= RELAY_LOG_BURST) {
		r->dropped++;
		return 0;
	}
	r->lines++;
	return 1;
}

/* Write one line (without its newline in fmt) if the rate allows. */
static void __attribute__((format(printf, 1, 0)))
relay_log_line(const char *fmt, va_list ap)
{
	pthread_mutex_lock(&relay_log_lock);
	if (relay_log_allowed(&relay_log_own)) {
		fprintf(stderr, "synbridge-relay: ");
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	pthread_mutex_unlock(&relay_log_lock);
}

/* Log one line: "synbridge-relay: " and the message. */
void
relay_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	relay_log_line(fmt, ap);
	va_end(ap);
}

/* Set by relay_log_read_ends until MHD's next line in this thread. */
static __thread int relay_log_read_ending;

void
relay_log_read_ends(void)
{
	relay_log_read_ending = 1;
}

/* MHD's error log: rate-limited, and the last line kept for start errors. */
void
relay_log_mhd(void *cls, const char *fmt, va_list ap)
{
	char line[sizeof relay_log_mhd_last];
	size_t len;

	(void)cls;
	vsnprintf(line, sizeof line, fmt, ap);
	len = strlen(line);
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	/* only the line right after: any other ends the wait for it */
	if (relay_log_read_ending) {
		relay_log_read_ending = 0;
		/* the relay said why it ends that read (relay-read.c) */
		if (strstr(line, "application error generating response") !=
		    NULL)
			return;
	}
	pthread_mutex_lock(&relay_log_lock);
	memcpy(relay_log_mhd_last, line, len + 1);
	if (relay_log_allowed(&relay_log_lib))
		fprintf(stderr, "synbridge-relay: %s%s\n",
		    relay_log_mhd_means(line), line);
	pthread_mutex_unlock(&relay_log_lock);
}

/* The last line MHD logged ("" if none). */
const char *
relay_log_last_mhd(void)
{
	return relay_log_mhd_last;
}

/* Log the count of lines held back once their second is over (timer). */
void
relay_log_flush(void)
{
	struct relay_log_rate *rates[] = { &relay_log_own, &relay_log_lib };
	int64_t now = relay_now_mono();
	size_t i;

	pthread_mutex_lock(&relay_log_lock);
	for (i = 0; i < sizeof rates / sizeof rates[0]; i++) {
		if (rates[i]->dropped != 0 &&
		    now - rates[i]->window >= 1000000) {
			rates[i]->window = now;
			rates[i]->lines = 1;
			relay_log_summary(rates[i]);
		}
	}
	pthread_mutex_unlock(&relay_log_lock);
}
