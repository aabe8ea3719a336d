/*
 * headless.c: the console without a screen. Commands come from a session
 * file, a script or stdin; results go to stdout one per line, errors to
 * stderr as "error: ...". A failed command makes the exit status non-zero.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "conout.h"
#include "engine.h"
#include "remote.h"
#include "headless.h"
#include "recorder.h"
#include "ring.h"
#include "xmalloc.h"

#define HEADLESS_RINGS 64	/* event rings polled beside stdin */

/*
 * A result line. It is written by conout's thread, so a reader that does
 * not keep up never holds up the engine; a closed stdout ends the session,
 * as for any Unix tool.
 */
static void
headless_out(void *ctx, const char *line)
{
	(void)ctx;
	conout_put(STDOUT_FILENO, line);
}

/* An error line. */
static void
headless_err(void *ctx, const char *line)
{
	char *msg;

	(void)ctx;
	xasprintf(&msg, "error: %s", line);
	conout_put(STDERR_FILENO, msg);
	free(msg);
}

/* A line of its own on stderr, in order with the results. */
static void __attribute__((format(printf, 1, 2)))
headless_say(const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	conout_put(STDERR_FILENO, msg);
	free(msg);
}

/* The session's messages (plugins' and the engine's, from any thread). */
static void
headless_log(void *ctx, enum sb_log_level level, const char *msg)
{
	struct session *s = ctx;

	if (level <= SB_LOG_WARNING || s->verbose)
		conout_put(STDERR_FILENO, msg);
}

static const struct cmd_client headless_client = {
	.out = headless_out,
	.err = headless_err,
};

/* Stdin, read line by line without blocking the engine. */
struct headless_input {
	int open;
	char *buf;
	size_t len, cap;
	int group;
};

/* Read what stdin has; queue complete lines. */
static void
headless_read_stdin(struct headless_input *in, struct cmdq *q)
{
	char *nl, *start;
	ssize_t n;

	if (in->cap - in->len < 4096) {
		in->cap = in->cap ? in->cap * 2 : 8192;
		in->buf = xrealloc(in->buf, in->cap);
	}
	n = read(STDIN_FILENO, in->buf + in->len, in->cap - in->len - 1);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		/* end of input: a last line without newline still counts */
		if (in->len > 0) {
			in->buf[in->len] = '\0';
			cmdq_append(q, in->buf, "stdin", &headless_client,
			    in->group, 0);
			in->len = 0;
		}
		in->open = 0;
		return;
	}
	in->len += (size_t)n;
	in->buf[in->len] = '\0';
	start = in->buf;
	while ((nl = memchr(start, '\n', in->len - (size_t)(start -
	    in->buf))) != NULL) {
		*nl = '\0';
		if (nl > start && nl[-1] == '\r')
			nl[-1] = '\0';
		cmdq_append(q, start, "stdin", &headless_client, in->group, 0);
		start = nl + 1;
	}
	in->len -= (size_t)(start - in->buf);
	memmove(in->buf, start, in->len);
}

/* Fast mode: simulate as needed by the queue's head. */
static int
headless_fast_step(struct session *s, struct cmdq *q, int64_t end_us)
{
	int64_t now = clock_now(&s->clock), until;

	if (cmdq_waiting_ops(q))
		until = now + s->step_us;
	else if (cmdq_wait_until(q) != -1 && cmdq_wait_until(q) > now)
		until = cmdq_wait_until(q);
	else
		return 0;
	if (until > end_us)
		until = end_us;
	if (until <= now)
		return 0;
	engine_run_fast(s, until);
	return 1;
}

/*
 * Say each change of a link's state (the relay's, a device's, another
 * site's console) on stderr, as the full-screen console's log does, with
 * the reason. Until a link has been up (the session starting, a partner
 * not there yet) its changes are said only with -v; after that every
 * change is, a recovery included.
 */
static void
headless_links(struct session *s, struct link_watch *w)
{
	static const char *const names[] = { "down", "degraded", "up" };
	struct session_link_row rows[64];
	char name[sizeof rows[0].h.name + 80];
	size_t i, n;
	int state, old, been_up, starting;

	n = session_links(s, rows, 64);
	for (i = 0; i < n; i++) {
		state = (int)rows[i].h.state;
		snprintf(name, sizeof name, "%s/%s", rows[i].site->name,
		    rows[i].h.name);
		if (state < 0 || state > 2 ||
		    (old = link_watch_swap(w, name, state, &been_up)) ==
		    state || old == -2)
			continue;
		starting = old < 0 || !been_up;
		if (starting && !s->verbose)
			continue;
		session_log(s, starting ? SB_LOG_INFO : SB_LOG_WARNING,
		    "link %s: %s%s%s%s%s", name, old >= 0 ? names[old] : "",
		    old >= 0 ? " -> " : "", names[state], state != SB_LINK_UP &&
		    rows[i].h.detail[0] != '\0' ? ": " : "",
		    state != SB_LINK_UP ? rows[i].h.detail : "");
	}
}

#define HEADLESS_LINKS_US 1000000	/* link states looked at */

/* Run the session. */
int
headless_run(struct session *s, const struct headless_options *o)
{
	struct cmdq *q = cmdq_create(s);
	struct headless_input in = { 0 };
	struct pollfd pfd[1 + HEADLESS_RINGS];
	int64_t end_us = INT64_MAX, end_mono = INT64_MAX, now, wait_us;
	struct timespec ts;
	char *cause = NULL;
	struct conout_report rep;
	int status = 0, group, nfd, quit_asked, out_error = 0;
	struct link_watch *watch;
	int64_t next_links = 0;

	if (o->duration_s >= 0)
		end_us = clock_now(&s->clock) + llround(o->duration_s * 1e6);
	/* in real time --duration is this console's running time, even when
	 * a relay moves the session clock to the session's own time */
	if (o->duration_s >= 0 && !s->fast)
		end_mono = clock_mono_us() + llround(o->duration_s * 1e6);
	/* the session file and the script stop together at a failure */
	group = cmdq_new_group(q);
	if (o->session_file != NULL && cmdq_append_file(q, o->session_file,
	    &headless_client, group, 1, &cause) != 0) {
		fprintf(stderr, "error: %s\n", cause);
		free(cause);
		cmdq_free(q);
		return 1;
	}
	if (o->script != NULL && cmdq_append_file(q, o->script,
	    &headless_client, group, 1, &cause) != 0) {
		fprintf(stderr, "error: %s\n", cause);
		free(cause);
		cmdq_free(q);
		return 1;
	}
	in.open = o->read_stdin;
	cmdq_session = q;
	in.group = cmdq_new_group(q);
	if (conout_start(0, s->fast, &s->quit) != 0)
		fprintf(stderr, "synbridge: cannot start the output thread; "
		    "a reader that does not keep up will hold up the "
		    "session\n");
	s->log_fn = headless_log;
	s->log_ctx = s;
	watch = xcalloc(1, sizeof *watch);

	while (!s->quit) {
		cmdq_run(q);
		if ((out_error = conout_stdout_error()) != 0) {
			xasprintf(&cause, "synbridge: standard output %s: "
			    "stopping", out_error == EPIPE ? "was closed (the "
			    "reader of the pipe quit)" : strerror(out_error));
			conout_put(STDERR_FILENO, cause);
			free(cause);
			cause = NULL;
			status = 1;
			break;
		}
		if (s->quit)
			break;
		if (end_mono != INT64_MAX)
			end_us = clock_from_mono(&s->clock, end_mono);
		now = clock_now(&s->clock);
		if (now >= end_us)
			break;
		if (s->fast) {
			if (headless_fast_step(s, q, end_us))
				continue;
			if (!cmdq_empty(q))
				continue;
			if (in.open) {
				headless_read_stdin(&in, q);
				continue;
			}
			if (end_us != INT64_MAX)
				engine_run_fast(s, end_us);
			break;
		}
		/* real time */
		if (cmdq_empty(q) && !in.open && end_us == INT64_MAX)
			break;
		/* stdin (when its lines are wanted) and every event ring:
		 * a backend's event is handled as soon as it is emitted */
		wait_us = engine_wait_us(s, 10000);
		ts.tv_sec = 0;
		ts.tv_nsec = (long)wait_us * 1000;
		pfd[0].fd = in.open && cmdq_empty(q) ? STDIN_FILENO : -1;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		nfd = 1 + engine_poll_fds(s, pfd + 1, HEADLESS_RINGS);
		if (ppoll(pfd, (nfds_t)nfd, &ts, NULL) > 0 &&
		    (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
			headless_read_stdin(&in, q);
		engine_tick(s);
		if (clock_mono_us() >= next_links) {
			headless_links(s, watch);
			next_links = clock_mono_us() + HEADLESS_LINKS_US;
		}
	}
	free(watch);
	engine_tick(s);
	/* (the flush below clears it, so that a second signal gives up) */
	quit_asked = s->quit;
	/* nothing accepted is dropped silently: the relay gets its queue */
	/* commands of other sites not run yet: answered while links last */
	remote_quit(s);
	if (engine_flush_links(s, NULL, ENGINE_QUIT_FLUSH_US, "quit") != 0)
		status = 1;
	/* and a recording that could not be written says so in the status;
	 * from here a signal stops waiting for a disk that takes nothing */
	engine_give_up_on(s);
	engine_flush(s);
	engine_record_wait(s);	/* recordings stopped earlier */
	if (s->flush_error != NULL && s->recorder != NULL) {
		headless_say("error: the recording in %s is incomplete: %s",
		    recorder_dir(s->recorder), s->flush_error);
		status = 1;
	}
	if (s->record_incomplete != NULL) {
		headless_say("error: an earlier recording of this run is "
		    "incomplete: %s", s->record_incomplete);
		status = 1;
	}
	/* (a closed standard output ended it, not --duration) */
	if (!cmdq_empty(q) && !quit_asked && out_error == 0) {
		headless_say("error: the session ended (--duration) before "
		    "every command ran");
		status = 1;
	}
	if (cmdq_failures(q) > 0)
		status = 1;
	/* every line shown: waits for a slow reader; a signal gives up */
	s->quit = 0;
	conout_stop(&s->quit, &rep);
	/*
	 * (s->log_fn stays: once the wait was given up, the messages of
	 * the shutdown are dropped instead of blocking on the reader)
	 */
	if (rep.dropped_out + rep.dropped_err > 0) {
		xasprintf(&cause, "error: %llu result and %llu error or "
		    "message lines were dropped: the reader of the output did "
		    "not keep up", (unsigned long long)rep.dropped_out,
		    (unsigned long long)rep.dropped_err);
		conout_say_last(cause);
		free(cause);
		status = 1;
	}
	if (rep.unwritten > 0) {
		xasprintf(&cause, "error: %llu lines of output were not "
		    "written: stopped waiting for their reader",
		    (unsigned long long)rep.unwritten);
		conout_say_last(cause);
		free(cause);
		status = 1;
	}
	cmdq_session = NULL;
	cmdq_free(q);
	free(in.buf);
	return status;
}
