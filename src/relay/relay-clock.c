/*
 * relay-clock.c: session time that cannot lie. Session time is
 * microseconds since the session's epoch; it follows CLOCK_MONOTONIC while
 * the relay runs, so stepping the wall clock does not move it, and it never
 * goes back, across restarts on the same spool either:
 *
 *   DIR/SESSION/clock   a bound on every session time served so far
 *                       (written 250 ms ahead, and exact at a clean stop)
 *
 * At start the session continues from the later of the wall clock since
 * the epoch (the time that passed while the relay was down, as far as the
 * wall clock knows) and that bound. A wall clock set back therefore stalls
 * nothing and rewinds nothing; a wall clock set forward while the relay was
 * down does move session time forward (the relay cannot tell it from a long
 * outage), and the relay says how far.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relay.h"
#include "xmalloc.h"

/*
 * The bound written is this far ahead of the session time then, and
 * rewritten when session time comes within RENEW of it (the timer ticks
 * every 100 ms): a relay killed outright comes back at most this far
 * ahead of the last time it served (a clean stop writes the exact time).
 */
#define RELAY_CLOCK_AHEAD_US 250000
#define RELAY_CLOCK_RENEW_US 150000
/* A restart that starts this far from the wall clock says so. */
#define RELAY_CLOCK_SAY_US 1000000
#define RELAY_CLOCK_WIDTH 21		/* "%020" PRId64 "\n" */

/* Session time now (us since the session's epoch); never goes back. */
int64_t
relay_store_time(const struct relay_session *s)
{
	int64_t base = s != NULL ? s->time_base_us : 0;

	return base + relay_now_mono() - relay.start_mono_us;
}

/* Write bound into the clock file (fixed width, in place); 0 or -1. */
static int
relay_clock_write(struct relay_session *s, int64_t bound)
{
	char buf[RELAY_CLOCK_WIDTH + 1];

	snprintf(buf, sizeof buf, "%020" PRId64 "\n", bound);
	if (pwrite(s->clock_fd, buf, RELAY_CLOCK_WIDTH, 0) !=
	    RELAY_CLOCK_WIDTH || fdatasync(s->clock_fd) != 0)
		return -1;
	s->clock_bound_us = bound;
	return 0;
}

/*
 * A session with a spool: continue its clock from DIR/SESSION/clock and
 * the wall clock since its epoch. 0, or -1 with *cause.
 */
int
relay_clock_load(struct relay_session *s, char **cause)
{
	char *path, buf[64], *end;
	int64_t wall = relay.start_us - s->epoch_us, saved = -1;
	ssize_t n;

	xasprintf(&path, "%s/clock", s->dir);
	s->clock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->clock_fd == -1) {
		xasprintf(cause, "cannot open %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	n = pread(s->clock_fd, buf, sizeof buf - 1, 0);
	if (n > 0) {
		buf[n] = '\0';
		errno = 0;
		saved = strtoll(buf, &end, 10);
		if (errno != 0 || end == buf || saved < 0 ||
		    (*end != '\n' && *end != '\0')) {
			xasprintf(cause, "%s: not a number of microseconds: "
			    "remove the file (the session clock then follows "
			    "the wall clock since the epoch) or fix it", path);
			free(path);
			return -1;
		}
	}
	s->time_base_us = wall > saved ? wall : saved;
	if (s->time_base_us < 0)
		s->time_base_us = 0;
	if (saved >= 0 && saved - wall > RELAY_CLOCK_SAY_US)
		fprintf(stderr, "synbridge-relay: session %s: the wall clock "
		    "is %.1f s behind the session clock (set back while the "
		    "relay was down?); session time goes on from %.3f s\n",
		    s->name, (saved - wall) / 1e6, s->time_base_us / 1e6);
	if (relay_clock_write(s, s->time_base_us + RELAY_CLOCK_AHEAD_US) !=
	    0) {
		xasprintf(cause, "cannot write %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	free(path);
	return 0;
}

/*
 * Keep every session's bound ahead of its time (timer thread, without
 * the relay lock: sessions and their clock files live until cleanup).
 */
void
relay_clock_renew(void)
{
	struct relay_session *s;
	int64_t now;
	size_t i;

	for (i = 0; i < relay.nsessions; i++) {
		s = relay.sessions[i];
		if (s->clock_fd == -1)
			continue;
		now = relay_store_time(s);
		if (now + RELAY_CLOCK_RENEW_US < s->clock_bound_us)
			continue;
		if (relay_clock_write(s, now + RELAY_CLOCK_AHEAD_US) != 0 &&
		    !s->clock_failed) {
			s->clock_failed = 1;
			fprintf(stderr, "synbridge-relay: session %s: cannot "
			    "write its clock file: %s (a restart may start "
			    "from the wall clock)\n", s->name,
			    strerror(errno));
		}
	}
}

/* At a clean stop: the exact time, then close. */
void
relay_clock_close(struct relay_session *s)
{
	if (s->clock_fd == -1)
		return;
	(void)relay_clock_write(s, relay_store_time(s));
	close(s->clock_fd);
	s->clock_fd = -1;
}
