/*
 * relay-clock.c: session time that cannot lie. Session time is
 * microseconds since the session's epoch; it follows CLOCK_MONOTONIC while
 * the relay runs, so stepping the wall clock does not move it, and it never
 * goes back, across restarts on the same spool either:
 *
 *   DIR/SESSION/clock   "BOUND T BOOT_ID BOOTTIME": a bound on every
 *                       session time served so far (kept up to 1.25 s
 *                       ahead, more on a disk whose syncs are slow; exact
 *                       at a clean stop), the session time T when
 *                       it was written, this boot's id and CLOCK_BOOTTIME
 *                       (us) then
 *
 * A restart on the same boot knows exactly how long passed since T
 * (CLOCK_BOOTTIME counts a suspend too, and no wall clock enters it): the
 * session goes on from T plus that, exactly where it would be had the
 * relay run on (and past everything it served), so an outage is neither
 * lost nor stretched by a wall clock set back or forward meanwhile. After a reboot
 * only the wall clock knows how long passed: the session goes on from the
 * later of the wall clock since the epoch and BOUND (never back; a wall
 * clock set forward across a reboot moves it forward, and the relay says
 * how far when the two disagree).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "relay.h"
#include "xmalloc.h"

/* CLOCK_MONOTONIC in microseconds. */
int64_t
relay_now_mono(void)
{
	return clock_mono_us();
}

/* CLOCK_REALTIME in microseconds. */
int64_t
relay_now_real(void)
{
	return clock_real_us();
}

/*
 * The bound written is this far ahead of the session time then, and
 * rewritten when session time comes within RENEW of it (the timer ticks
 * every 100 ms), so about once a second: a relay killed outright and
 * started after a reboot comes back at most this far ahead of the last
 * time it served (a restart on the same boot, or after a clean stop, is
 * exact). Both grow by the time a write of the file takes to be synced
 * (twice that, and once), so that on a slow disk the bound on disk still
 * stays ahead of the time served while the next one is being synced.
 */
#define RELAY_CLOCK_AHEAD_US 1250000
#define RELAY_CLOCK_RENEW_US 250000
/* A restart that starts this far from the wall clock says so. */
#define RELAY_CLOCK_SAY_US 1000000
/* "%020" PRId64 " %020" PRId64 " %36s %020" PRId64 "\n" */
#define RELAY_CLOCK_WIDTH 100

/* Session time now (us since the session's epoch); never goes back. */
int64_t
relay_store_time(const struct relay_session *s)
{
	int64_t base = s != NULL ? s->time_base_us : 0;

	return base + relay_now_mono() - relay.start_mono_us;
}

/* CLOCK_BOOTTIME in microseconds: it counts a suspend too. */
static int64_t
relay_clock_boottime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* This boot's id (36 characters), or "-" when the kernel does not say. */
static void
relay_clock_boot_id(char out[37])
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");

	if (f == NULL || fscanf(f, "%36s", out) != 1)
		snprintf(out, 37, "-");
	if (f != NULL)
		fclose(f);
}

/*
 * Write the bound, session time now and the boot clock into the clock
 * file (fixed width, in place); 0 or -1.
 */
static int
relay_clock_write(struct relay_session *s, int64_t bound)
{
	char buf[RELAY_CLOCK_WIDTH + 1], boot[37];
	int64_t t0 = relay_now_mono(), took;

	relay_clock_boot_id(boot);
	snprintf(buf, sizeof buf, "%020" PRId64 " %020" PRId64 " %36s %020"
	    PRId64 "\n", bound, relay_store_time(s), boot,
	    relay_clock_boottime());
	if (pwrite(s->clock_fd, buf, RELAY_CLOCK_WIDTH, 0) !=
	    RELAY_CLOCK_WIDTH || fdatasync(s->clock_fd) != 0)
		return -1;
	s->clock_bound_us = bound;
	/* the slowest recent sync, forgotten slowly (an eighth a write) */
	took = relay_now_mono() - t0;
	s->clock_sync_us -= s->clock_sync_us / 8;
	if (took > s->clock_sync_us)
		s->clock_sync_us = took;
	return 0;
}

/* How far ahead of session time the next bound is written. */
static int64_t
relay_clock_ahead(const struct relay_session *s)
{
	return RELAY_CLOCK_AHEAD_US + 2 * s->clock_sync_us;
}

/*
 * A session with a spool: continue its clock from DIR/SESSION/clock (and,
 * after a reboot, the wall clock since its epoch). 0, or -1 with *cause.
 */
int
relay_clock_load(struct relay_session *s, char **cause)
{
	char *path, buf[128], boot[37], saved_boot[37];
	int64_t wall = relay.start_us - s->epoch_us, saved = -1, at = 0;
	int64_t then = 0, away;
	ssize_t n;
	int fields = 0;

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
		fields = sscanf(buf, "%" SCNd64 " %" SCNd64 " %36s %" SCNd64,
		    &saved, &then, saved_boot, &at);
		if (fields < 1 || saved < 0 || (fields > 1 && fields != 4)) {
			xasprintf(cause, "%s: not \"BOUND T BOOT_ID BOOTTIME\": "
			    "remove the file (the session clock then follows "
			    "the wall clock since the epoch) or fix it", path);
			free(path);
			return -1;
		}
	}
	relay_clock_boot_id(boot);
	if (fields == 4 && strcmp(boot, "-") != 0 &&
	    strcmp(boot, saved_boot) == 0 && (away = relay_clock_boottime() -
	    at) >= 0) {
		/*
		 * The same boot: exactly how long passed since then. It is
		 * past everything served (nothing was served after the
		 * relay stopped), so the bound is not needed here.
		 */
		s->time_base_us = then + away;
		if (llabs(s->time_base_us - wall) > RELAY_CLOCK_SAY_US)
			fprintf(stderr, "synbridge-relay: session %s: the wall "
			    "clock is %.1f s %s the session clock (set %s?); "
			    "session time goes on from %.3f s, by the boot "
			    "clock (%.1f s since it was last written)\n", s->name,
			    fabs((double)(s->time_base_us - wall)) / 1e6,
			    s->time_base_us > wall ? "behind" : "ahead of",
			    s->time_base_us > wall ? "back" : "forward",
			    s->time_base_us / 1e6, (double)away / 1e6);
	} else {
		/* a reboot (or an old file): only the wall clock knows */
		s->time_base_us = wall > saved ? wall : saved;
		if (saved >= 0 && saved - wall > RELAY_CLOCK_SAY_US)
			fprintf(stderr, "synbridge-relay: session %s: the wall "
			    "clock is %.1f s behind the session clock (set back "
			    "while the relay was down?); session time goes on "
			    "from %.3f s\n", s->name, (saved - wall) / 1e6,
			    s->time_base_us / 1e6);
	}
	if (s->time_base_us < 0)
		s->time_base_us = 0;
	if (relay_clock_write(s, s->time_base_us + relay_clock_ahead(s)) !=
	    0 ||
	    /*
	     * A slow disk: that bound may be passed before the next one is
	     * on disk. Write it again, as far ahead as this disk needs,
	     * before any time of the session is served.
	     */
	    (s->clock_sync_us > RELAY_CLOCK_RENEW_US / 2 &&
	    relay_clock_write(s, relay_store_time(s) + relay_clock_ahead(s))
	    != 0)) {
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
		if (now + RELAY_CLOCK_RENEW_US + s->clock_sync_us <
		    s->clock_bound_us)
			continue;
		if (relay_clock_write(s, now + relay_clock_ahead(s)) != 0 &&
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
