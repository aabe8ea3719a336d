/*
 * relay-log.c: the relay's log on standard error, one line per message
 * starting "synbridge-relay: ", at most RELAY_LOG_BURST lines a second: a
 * trouble that repeats (a full descriptor table, a client that keeps
 * failing its handshake) is counted instead of flooding the disk, and the
 * count is logged once the second is over.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "relay.h"

#define RELAY_LOG_BURST 10		/* lines per second */

static pthread_mutex_t relay_log_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t relay_log_window;	/* monotonic us of this second */
static unsigned relay_log_lines;	/* lines written in it */
static uint64_t relay_log_dropped;	/* lines held back since */
static char relay_log_mhd_last[256];

/* Say how many lines were held back, if any. Log lock held. */
static void
relay_log_summary(void)
{
	if (relay_log_dropped == 0)
		return;
	fprintf(stderr, "synbridge-relay: %llu more log lines held back "
	    "(over %d a second)\n", (unsigned long long)relay_log_dropped,
	    RELAY_LOG_BURST);
	relay_log_dropped = 0;
}

/* May a line be written now? Log lock held. */
static int
relay_log_allowed(void)
{
	int64_t now = relay_now_mono();

	if (now - relay_log_window >= 1000000) {
		relay_log_window = now;
		relay_log_lines = 0;
		relay_log_summary();
	}
	if (relay_log_lines >= RELAY_LOG_BURST) {
		relay_log_dropped++;
		return 0;
	}
	relay_log_lines++;
	return 1;
}

/* Write one line (without its newline in fmt) if the rate allows. */
static void
relay_log_line(const char *fmt, va_list ap)
{
	pthread_mutex_lock(&relay_log_lock);
	if (relay_log_allowed()) {
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
	pthread_mutex_lock(&relay_log_lock);
	memcpy(relay_log_mhd_last, line, len + 1);
	if (relay_log_allowed())
		fprintf(stderr, "synbridge-relay: %s\n", line);
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
	pthread_mutex_lock(&relay_log_lock);
	if (relay_log_dropped != 0 &&
	    relay_now_mono() - relay_log_window >= 1000000) {
		relay_log_window = relay_now_mono();
		relay_log_lines = 1;
		relay_log_summary();
	}
	pthread_mutex_unlock(&relay_log_lock);
}
