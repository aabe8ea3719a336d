/*
 * intan-rhx.c: the conversation with RHX, in the link's thread.
 *
 * Connect: TCP to the command port. Handshake: what RHX is (`get Type`,
 * SampleRateHertz, StimStepSizeMicroAmps on an RHS, RunMode), then its
 * outputs: TCPNumberDataBlocksPerWrite, the spike port, `execute
 * ClearAllDataOutputs` and TCPDataOutputEnabledSpike on each channel of
 * channels=, `execute ConnectTCPSpikeDataOutput` and a TCP connection to
 * the spike port. Work: RunMode Run while the population is started (Stop
 * when it stops, if synbridge started it), stimulation, a RunMode probe
 * every status_ms when idle; and whenever it waits, the spike stream.
 *
 * Only a dead command connection (closed, or no answer within timeout_ms
 * twice running) brings the link down: RHX 3.4.0 does not listen again
 * after its client leaves, so closing the connection over a refused
 * setting would need a click in RHX to recover. A refusal leaves the link
 * up and degraded, says what to do in RHX, and is tried again after
 * retry_ms.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "intan.h"
#include "sb-args.h"

/* Say something about cause c once, then at 2, 4, 8, ... times. */
void
intan_cause(struct intan *i, enum intan_cause c, enum sb_log_level level,
    const char *fmt, ...)
{
	char text[SB_DEVLINK_TEXT];
	uint64_t n = __atomic_add_fetch(&i->causes[c], 1, __ATOMIC_RELAXED);
	va_list ap;

	if (!sb_worth_logging(n))
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (n == 1)
		sb_devlink_log(&i->dl, level, "%s: %s", i->name, text);
	else
		sb_devlink_log(&i->dl, level, "%s: %s (%llu times so far)",
		    i->name, text, (unsigned long long)n);
}

/* The short name of the controller ("RHS", "RHD"). */
static const char *
intan_rhx_kind(const struct intan *i)
{
	return i->rhs ? "RHS" : "RHD";
}

/* RunMode as the link shows it. */
static const char *
intan_rhx_mode_word(const char *runmode)
{
	if (strcasecmp(runmode, "Run") == 0)
		return "running";
	if (strcasecmp(runmode, "Record") == 0)
		return "recording";
	if (strcasecmp(runmode, "Trigger") == 0)
		return "waiting for a trigger";
	if (strcasecmp(runmode, "Stop") == 0)
		return "stopped";
	return runmode[0] != '\0' ? runmode : "state unknown";
}

/* The link's detail: RHX's own state, or why it is not set up. */
static void
intan_rhx_detail(struct intan *i)
{
	double floor_ms;

	pthread_mutex_lock(&i->lock);
	floor_ms = i->fs > 0 ? i->blocks * INTAN_FRAMES_PER_BLOCK * 1000.0 /
	    i->fs : NAN;
	if (i->problem[0] != '\0')
		sb_devlink_detail(&i->dl, "%s", i->problem);
	else if (!i->known)
		sb_devlink_detail(&i->dl, "asking RHX what it is");
	else
		sb_devlink_detail(&i->dl, "%s %g kHz, %s, %u block%s/write = "
		    "%.1f ms%s", intan_rhx_kind(i), i->fs / 1000,
		    intan_rhx_mode_word(i->runmode), i->blocks, i->blocks == 1 ?
		    "" : "s", floor_ms, i->spike_fd >= 0 ? "" :
		    ", spike stream down");
	pthread_mutex_unlock(&i->lock);
}

/* A refusal: the link stays up, degraded with why; tried again later. */
static int __attribute__((format(printf, 2, 3)))
intan_rhx_problem(struct intan *i, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&i->lock);
	va_start(ap, fmt);
	vsnprintf(i->problem, sizeof i->problem, fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&i->lock);
	sb_devlink_log_once(&i->dl, SB_LOG_ERROR, "%s: %s (trying again "
	    "every %.1f s)", i->name, i->problem, i->cfg.retry_ms / 1000.0);
	i->next_config_us = sb_devlink_mono_us() + (int64_t)i->cfg.retry_ms *
	    1000;
	return 1;
}

/* One spike record from the stream. */
struct intan_rx {
	struct intan *i;
	int64_t arrival_us;	/* CLOCK_MONOTONIC of the read */
	int64_t offset_us;	/* session - monotonic */
	int64_t trigger_us;	/* the last pulse, CLOCK_MONOTONIC */
};

/* A record: map its channel and time, and emit it (or count why not). */
static void
intan_rhx_record(void *ctx, const struct intan_spike_record *r)
{
	struct intan_rx *rx = ctx;
	struct intan *i = rx->i;
	struct sb_event ev;
	int unit = intan_channels_unit(&i->ch, r->name), rc = -2;
	int64_t mono;

	if (unit < 0) {
		sb_devlink_count_out_of_range(&i->dl, 1);
		intan_cause(i, INTAN_CAUSE_UNKNOWN_CHANNEL, SB_LOG_WARNING,
		    "a spike on %s, which is not in channels= (counted as out "
		    "of range; RHX outputs spikes of channels synbridge did "
		    "not enable: check TCP outputs in RHX)", r->name);
		return;
	}
	if (r->id == 0) {
		sb_devlink_count_malformed(&i->dl, 1);
		intan_cause(i, INTAN_CAUSE_BAD_ID, SB_LOG_WARNING, "a spike "
		    "record on %s with id 0, which RHX never sends (counted as "
		    "malformed)", r->name);
		return;
	}
	/* the time first: artifacts are part of the latency cloud too */
	mono = intan_clock_map(&i->clock, r->timestamp, rx->arrival_us);
	if ((r->id & INTAN_SPIKE_ARTIFACT) && !i->cfg.keep_artifacts) {
		sb_devlink_count_dropped(&i->dl, 1);
		intan_cause(i, INTAN_CAUSE_ARTIFACT, SB_LOG_INFO, "records RHX "
		    "flags as likely artifacts are left out and counted as "
		    "dropped (artifacts=keep keeps them)");
		return;
	}
	memset(&ev, 0, sizeof ev);
	ev.t_us = mono + rx->offset_us;
	ev.kind = SB_EV_SPIKE;
	ev.index = (uint32_t)unit;
	ev.aux = i->cfg.evoked_ms > 0 && rx->trigger_us != 0 &&
	    mono >= rx->trigger_us &&
	    mono - rx->trigger_us <= (int64_t)i->cfg.evoked_ms * 1000 ?
	    SB_SPIKE_STIMULATED : SB_SPIKE_SPONTANEOUS;
	pthread_mutex_lock(&i->em_lock);
	if (i->em != NULL)
		rc = i->host->emit(i->em, &ev);
	pthread_mutex_unlock(&i->em_lock);
	if (rc == 0)
		return;
	sb_devlink_count_dropped(&i->dl, 1);
	if (rc == -2)
		intan_cause(i, INTAN_CAUSE_NOT_STARTED, SB_LOG_INFO, "spikes "
		    "came while the population was not started (counted as "
		    "dropped)");
	else
		intan_cause(i, INTAN_CAUSE_RING_FULL, SB_LOG_WARNING, "the "
		    "event ring is full: spikes dropped (the engine fell "
		    "behind)");
}

/* The spike stream is gone: close it; it is armed again later. */
static void
intan_rhx_spike_lost(struct intan *i, const char *why)
{
	close(i->spike_fd);
	i->spike_fd = -1;
	__atomic_store_n(&i->spike_up, 0, __ATOMIC_RELAXED);
	i->spike_losses++;
	intan_cause(i, INTAN_CAUSE_SPIKE_LOST, SB_LOG_WARNING, "the spike "
	    "stream from RHX ended (%s): connecting it again", why);
	i->next_config_us = sb_devlink_mono_us();
	intan_rhx_detail(i);
}

/* Read what the spike stream has (a few reads at most, then go on). */
static void
intan_rhx_read_spikes(struct intan *i)
{
	struct intan_rx rx = { .i = i };
	uint64_t records, resyncs, skipped;
	size_t room;
	uint8_t *at;
	ssize_t n;
	int k;

	for (k = 0; k < 8 && i->spike_fd >= 0; k++) {
		at = intan_spike_space(&i->parser, &room);
		n = read(i->spike_fd, at, room);
		if (n == 0) {
			intan_rhx_spike_lost(i, "RHX closed it");
			return;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				intan_rhx_spike_lost(i, strerror(errno));
			return;
		}
		rx.arrival_us = sb_devlink_mono_us();
		rx.offset_us = __atomic_load_n(&i->clock_offset_us,
		    __ATOMIC_RELAXED);
		rx.trigger_us = __atomic_load_n(&i->last_trigger_us,
		    __ATOMIC_RELAXED);
		records = i->parser.records;
		resyncs = i->parser.resyncs;
		skipped = i->parser.skipped;
		intan_spike_parse(&i->parser, (size_t)n, intan_rhx_record, &rx);
		if (i->parser.records > records)
			sb_devlink_count_rx(&i->dl, i->parser.records -
			    records);
		if (i->parser.resyncs > resyncs) {
			sb_devlink_count_malformed(&i->dl, i->parser.resyncs -
			    resyncs);
			intan_cause(i, INTAN_CAUSE_OUT_OF_STEP, SB_LOG_WARNING,
			    "the spike stream is out of step (no record magic "
			    "where one belongs): skipping to the next record, "
			    "counted as malformed (%llu bytes skipped in all)",
			    (unsigned long long)(skipped + (i->parser.skipped -
			    skipped)));
		}
		if ((size_t)n < room)
			return;
	}
}

/*
 * Wait up to ms for the command port or the spike stream and read both;
 * 0, or -2 when the command connection is gone.
 */
static int
intan_rhx_pump(struct intan *i, int ms, char **cause)
{
	struct pollfd pfd[3] = {
		{ .fd = i->cmd_fd, .events = POLLIN },
		{ .fd = i->dl.wake_fd[0], .events = POLLIN },
		{ .fd = i->spike_fd, .events = POLLIN },
	};
	size_t room;
	ssize_t n;

	if (poll(pfd, i->spike_fd >= 0 ? 3 : 2, ms < 0 ? 0 : ms) <= 0)
		return 0;
	if (pfd[1].revents & POLLIN)
		sb_devlink_drain_wake(&i->dl);
	if (i->spike_fd >= 0 && (pfd[2].revents & (POLLIN | POLLHUP |
	    POLLERR)))
		intan_rhx_read_spikes(i);
	if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)))
		return 0;
	if (i->reply_len == INTAN_REPLY_MAX) {
		/* a flood nobody asked for: keep the newest half */
		memmove(i->reply, i->reply + INTAN_REPLY_MAX / 2,
		    INTAN_REPLY_MAX / 2);
		i->reply_len = INTAN_REPLY_MAX / 2;
	}
	room = INTAN_REPLY_MAX - i->reply_len;
	n = read(i->cmd_fd, i->reply + i->reply_len, room);
	if (n > 0) {
		i->reply_len += (size_t)n;
		i->reply[i->reply_len] = '\0';
		i->reply_last_us = sb_devlink_mono_us();
		return 0;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	sb_cause(cause, "RHX closed the command connection (%s): RHX quit, "
	    "or Remote TCP Control was disconnected; in RHX choose Network > "
	    "Remote TCP Control > Connect (status Pending)", n == 0 ?
	    "end of stream" : strerror(errno));
	return -2;
}

/* Write all of buf to the command port; 0, -1 (stuck) or -2 (gone). */
static int
intan_rhx_write(struct intan *i, const char *buf, size_t len, char **cause)
{
	int64_t deadline = sb_devlink_mono_us() + (int64_t)i->cfg.timeout_ms *
	    1000;
	struct pollfd pfd;
	ssize_t n;

	while (len > 0) {
		n = send(i->cmd_fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			sb_cause(cause, "RHX's command connection broke (%s): "
			    "in RHX choose Network > Remote TCP Control > "
			    "Connect (status Pending)", strerror(errno));
			return -2;
		}
		if (sb_devlink_mono_us() > deadline) {
			sb_cause(cause, "RHX takes no commands (%u ms "
			    "without room to write): RHX is stuck",
			    i->cfg.timeout_ms);
			return -1;
		}
		pfd.fd = i->cmd_fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, 10) == 0 && i->spike_fd >= 0)
			intan_rhx_read_spikes(i);
	}
	return 0;
}

/*
 * Send cmds (each ended by ';'; may be empty), then "get probe;", and
 * wait for the probe's answer. 0: answered, value set, errors = what the
 * commands said (empty: all taken); 1: RHX answered with text only (the
 * probe refused too: errors); -1: no answer in time; -2: gone.
 */
static int
intan_rhx_request(struct intan *i, const char *cmds, const char *probe,
    char *value, size_t vlen, char *errors, size_t elen, char **cause)
{
	char text[INTAN_WRITE_MAX + 128], unasked[INTAN_TEXT];
	int64_t deadline, now, quiet;
	enum intan_reply r;
	size_t len, k, ncmd = 0;
	int rc, wait;

	if (i->reply_len > 0 && !i->late) {
		intan_reply_printable(i->reply, i->reply_len, unasked,
		    sizeof unasked);
		sb_devlink_count_malformed(&i->dl, 1);
		intan_cause(i, INTAN_CAUSE_UNASKED, SB_LOG_WARNING, "RHX said, "
		    "unasked: \"%s\" (ignored)", unasked);
	}
	i->reply_len = 0;
	len = (size_t)snprintf(text, sizeof text, "%sget %s;", cmds, probe);
	if (len >= sizeof text) {
		sb_cause(cause, "a command too long for one write");
		return -1;
	}
	for (k = 0; k < len; k++)
		ncmd += text[k] == ';';
	rc = intan_rhx_write(i, text, len, cause);
	if (rc != 0)
		return rc;
	sb_devlink_count_tx(&i->dl, ncmd);
	deadline = sb_devlink_mono_us() + (int64_t)i->cfg.timeout_ms * 1000;
	for (;;) {
		r = intan_reply_find(i->reply, i->reply_len, probe, value, vlen,
		    errors, elen);
		now = sb_devlink_mono_us();
		quiet = now - i->reply_last_us;
		if (r == INTAN_REPLY_VALUE && quiet >= INTAN_REPLY_QUIET_MS *
		    1000) {
			i->reply_len = 0;
			i->late = 0;
			return 0;
		}
		if (r == INTAN_REPLY_NONE && i->reply_len > 0 && quiet >=
		    INTAN_ERROR_QUIET_MS * 1000) {
			intan_reply_printable(i->reply, i->reply_len, errors,
			    elen);
			i->reply_len = 0;
			return 1;
		}
		if (now >= deadline) {
			sb_cause(cause, "RHX did not answer `get %s` within %u "
			    "ms", probe, i->cfg.timeout_ms);
			return -1;
		}
		if (r == INTAN_REPLY_VALUE)
			wait = INTAN_REPLY_QUIET_MS - (int)(quiet / 1000);
		else if (i->reply_len > 0)
			wait = INTAN_ERROR_QUIET_MS - (int)(quiet / 1000);
		else
			wait = (int)((deadline - now + 999) / 1000);
		if (wait < 1)
			wait = 1;
		if ((rc = intan_rhx_pump(i, wait, cause)) != 0)
			return rc;
	}
}

/* `get name` into value; 0, 1 refused (errors), <0 as request. */
static int
intan_rhx_get(struct intan *i, const char *name, char *value, size_t vlen,
    char *errors, size_t elen, char **cause)
{
	int rc = intan_rhx_request(i, "", name, value, vlen, errors, elen,
	    cause);

	if (rc == 0 && intan_reply_is_error(errors))
		rc = 1;
	return rc;
}

/* Do two values say the same (numbers as numbers, words in any case)? */
static int
intan_rhx_same(const char *a, const char *b)
{
	double x, y;
	char *end;

	if (strcasecmp(a, b) == 0)
		return 1;
	x = strtod(a, &end);
	if (end == a || *end != '\0')
		return 0;
	y = strtod(b, &end);
	if (end == b || *end != '\0')
		return 0;
	return fabs(x - y) <= 1e-9 * (fabs(x) + fabs(y));
}

/*
 * `set name value`, confirmed by reading name back: 0 taken, 1 refused
 * (errors says what RHX said, or what it still reads), <0 as request.
 */
static int
intan_rhx_set(struct intan *i, const char *name, const char *value,
    char *errors, size_t elen, char **cause)
{
	char cmd[256], got[128];
	int rc;

	snprintf(cmd, sizeof cmd, "set %s %s;", name, value);
	rc = intan_rhx_request(i, cmd, name, got, sizeof got, errors, elen,
	    cause);
	if (rc != 0)
		return rc;
	if (intan_reply_is_error(errors))
		return 1;
	if (!intan_rhx_same(got, value)) {
		snprintf(errors, elen, "it still reads %s", got);
		return 1;
	}
	return 0;
}

/*
 * Set RunMode (mode NULL: only ask) and keep what RHX says it is: 0 it
 * is mode, 1 refused (errors), <0 as request. "Run" while running is an
 * error to RHX, but the state is what was wanted: taken as done.
 */
static int
intan_rhx_runmode(struct intan *i, const char *mode, char *errors,
    size_t elen, char **cause)
{
	char cmd[64], got[32];
	int rc;

	if (mode != NULL)
		snprintf(cmd, sizeof cmd, "set RunMode %s;", mode);
	else
		cmd[0] = '\0';
	rc = intan_rhx_request(i, cmd, "RunMode", got, sizeof got, errors,
	    elen, cause);
	if (rc != 0)
		return rc;
	pthread_mutex_lock(&i->lock);
	intan_format(i->runmode, sizeof i->runmode, "%s", got);
	i->running = intan_reply_is_running(got);
	pthread_mutex_unlock(&i->lock);
	if (mode != NULL && !intan_rhx_same(got, mode)) {
		if (!intan_reply_is_error(errors))
			snprintf(errors, elen, "RunMode is still %s", got);
		return 1;
	}
	return 0;
}

/*
 * Set a TCP output setting that RHX may take only while stopped: if it
 * refuses while running a plain Run (not Record or Trigger), stop, set,
 * and leave the run logic to start it again. 0, 1 refused, <0.
 */
static int
intan_rhx_set_stopped(struct intan *i, const char *name, const char *value,
    char *errors, size_t elen, char **cause)
{
	char why[INTAN_TEXT];
	int rc = intan_rhx_set(i, name, value, errors, elen, cause), running;
	char mode[16];

	if (rc != 1)
		return rc;
	pthread_mutex_lock(&i->lock);
	running = i->running;
	snprintf(mode, sizeof mode, "%s", i->runmode);
	pthread_mutex_unlock(&i->lock);
	if (!running || strcasecmp(mode, "Run") != 0)
		return 1;
	sb_devlink_log(&i->dl, SB_LOG_WARNING, "%s: RHX takes %s only while "
	    "stopped: stopping acquisition to set it (it runs again while the "
	    "population is started)", i->name, name);
	rc = intan_rhx_runmode(i, "Stop", why, sizeof why, cause);
	if (rc != 0) {
		if (rc == 1)
			intan_format(errors, elen, "RunMode Stop refused: %s",
			    why);
		return rc;
	}
	return intan_rhx_set(i, name, value, errors, elen, cause);
}

/* What RHX is: Type, sample rate, stimulation step, RunMode, batching. */
static int
intan_rhx_query(struct intan *i, char **cause)
{
	char value[128], errors[INTAN_TEXT], type[48];
	double fs, step = 0, blocks, registered;
	int rc, rhs;

	rc = intan_rhx_get(i, "Type", value, sizeof value, errors,
	    sizeof errors, cause);
	if (rc == -1) {
		free(*cause);
		*cause = NULL;
		sb_cause(cause, "RHX at %s:%u took the connection but does not "
		    "answer `get Type` within %u ms: if RHX's Remote TCP "
		    "Control window shows another client connected, close that "
		    "program; otherwise close any dialog box open in RHX",
		    i->cfg.host, i->cfg.command_port, i->cfg.timeout_ms);
	}
	if (rc < 0)
		return rc;
	if (rc == 1)
		return intan_rhx_problem(i, "RHX does not answer `get Type` "
		    "(RHX said: %s): synbridge needs RHX 3.x", errors);
	intan_format(type, sizeof type, "%s", value);
	rhs = intan_reply_is_rhs(type);
	rc = intan_rhx_get(i, "SampleRateHertz", value, sizeof value, errors,
	    sizeof errors, cause);
	if (rc < 0)
		return rc;
	if (rc == 1 || intan_reply_rate(value, &fs) != 0)
		return intan_rhx_problem(i, "RHX's SampleRateHertz is not a "
		    "rate (RHX said: %s)", rc == 1 ? errors : value);
	if (rhs) {
		rc = intan_rhx_get(i, "StimStepSizeMicroAmps", value,
		    sizeof value, errors, sizeof errors, cause);
		if (rc < 0)
			return rc;
		if (rc == 1 || intan_reply_step(value, &step) != 0)
			return intan_rhx_problem(i, "RHX's "
			    "StimStepSizeMicroAmps is not a step in uA (RHX "
			    "said: %s)", rc == 1 ? errors : value);
	}
	rc = intan_rhx_get(i, "TCPNumberDataBlocksPerWrite", value,
	    sizeof value, errors, sizeof errors, cause);
	if (rc < 0)
		return rc;
	if (rc == 1 || intan_reply_number(value, &blocks) != 0 || blocks < 1)
		blocks = 0;	/* not known: set below */
	pthread_mutex_lock(&i->lock);
	snprintf(i->type, sizeof i->type, "%s", type);
	i->rhs = rhs;
	i->fs = fs;
	i->step_ua = step;
	i->blocks = (uint32_t)blocks;
	i->known = 1;
	registered = i->registered_step;
	pthread_mutex_unlock(&i->lock);
	if (rhs && registered > 0 && fabs(step - registered) > 1e-9)
		intan_cause(i, INTAN_CAUSE_STEP_CHANGED, SB_LOG_WARNING,
		    "RHX's stimulation step is now %g uA (it was %g uA at "
		    "load): amplitudes are rounded to it; load the plugin "
		    "again for the console to check them", step, registered);
	rc = intan_rhx_runmode(i, NULL, errors, sizeof errors, cause);
	if (rc < 0)
		return rc;
	if (rc == 1)
		return intan_rhx_problem(i, "RHX does not answer `get RunMode` "
		    "(RHX said: %s)", errors);
	if (i->clock.fs != fs)
		intan_clock_reset(&i->clock, fs);
	return 0;
}

/* TCPNumberDataBlocksPerWrite = blocks_per_write, if RHX takes it. */
static int
intan_rhx_setup_blocks(struct intan *i, char **cause)
{
	char value[16], errors[INTAN_TEXT];
	int rc;

	if (i->blocks == i->cfg.blocks_per_write)
		return 0;
	snprintf(value, sizeof value, "%u", i->cfg.blocks_per_write);
	rc = intan_rhx_set_stopped(i, "TCPNumberDataBlocksPerWrite", value,
	    errors, sizeof errors, cause);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		pthread_mutex_lock(&i->lock);
		i->blocks = i->cfg.blocks_per_write;
		pthread_mutex_unlock(&i->lock);
		return 0;
	}
	/* not worth going without spikes: RHX's own batching is shown */
	intan_cause(i, INTAN_CAUSE_BLOCKS, SB_LOG_WARNING, "RHX refused "
	    "TCPNumberDataBlocksPerWrite %u (RHX said: %s): spikes come %u "
	    "blocks at a time; stop a recording in RHX to change it",
	    i->cfg.blocks_per_write, errors, i->blocks);
	return 0;
}

/* The spike output's port = spike_port (RHX takes it while stopped). */
static int
intan_rhx_setup_port(struct intan *i, char **cause)
{
	char value[64], errors[INTAN_TEXT];
	double port;
	int rc;

	rc = intan_rhx_get(i, "TCPSpikeDataOutputPort", value, sizeof value,
	    errors, sizeof errors, cause);
	if (rc < 0)
		return rc;
	if (rc == 1 || intan_reply_number(value, &port) != 0 ||
	    port == i->cfg.spike_port)
		return 0;	/* [U] not readable: assume it is right */
	snprintf(value, sizeof value, "%u", i->cfg.spike_port);
	rc = intan_rhx_set_stopped(i, "TCPSpikeDataOutputPort", value, errors,
	    sizeof errors, cause);
	if (rc != 1)
		return rc;
	return intan_rhx_problem(i, "RHX serves spikes on port %g, not "
	    "spike_port=%u, and refused the change (RHX said: %s): stop the "
	    "recording in RHX, or give spike_port=%g", port,
	    i->cfg.spike_port, errors, port);
}

/* ClearAllDataOutputs, then spike output on every channel of channels=. */
static int
intan_rhx_setup_channels(struct intan *i, char **cause)
{
	char cmds[INTAN_WRITE_MAX], probe[64], value[32], errors[INTAN_TEXT];
	char range[32];
	size_t at = 0;
	uint32_t u, first = 0;
	int rc, on;

	rc = intan_rhx_request(i, "execute ClearAllDataOutputs;", "RunMode",
	    value, sizeof value, errors, sizeof errors, cause);
	if (rc < 0)
		return rc;
	if (rc == 1 || intan_reply_is_error(errors))
		return intan_rhx_problem(i, "RHX refused ClearAllDataOutputs "
		    "(RHX said: %s)", errors);
	for (u = 0; u < i->ch.n; u++) {
		at += (size_t)snprintf(cmds + at, sizeof cmds - at,
		    "set %s.TCPDataOutputEnabledSpike true;", i->ch.names[u]);
		if (u + 1 < i->ch.n && at + 64 < sizeof cmds - 64)
			continue;
		snprintf(probe, sizeof probe, "%s.TCPDataOutputEnabledSpike",
		    i->ch.names[u]);
		rc = intan_rhx_request(i, cmds, probe, value, sizeof value,
		    errors, sizeof errors, cause);
		if (rc < 0)
			return rc;
		intan_channels_range(&i->ch, first, u, range, sizeof range);
		if (rc == 1 || intan_reply_is_error(errors) ||
		    intan_reply_bool(value, &on) != 0 || !on)
			return intan_rhx_problem(i, "RHX refused spike output "
			    "on %s (RHX said: %s): channels= must name "
			    "channels RHX shows (a 32-channel headstage on "
			    "port A is A-000..A-031)", range, errors[0] !=
			    '\0' ? errors : value);
		at = 0;
		first = u + 1;
	}
	return 0;
}

/* Connect to the spike port, trying for up to timeout_ms. */
static int
intan_rhx_connect_spikes(struct intan *i)
{
	int64_t deadline = sb_devlink_mono_us() + (int64_t)i->cfg.timeout_ms *
	    1000;
	struct timespec ts = { 0, 20000000L };
	int64_t left;
	int fd;

	for (;;) {
		left = (deadline - sb_devlink_mono_us()) / 1000;
		fd = intan_net_connect(i->peer, i->cfg.spike_port,
		    (uint32_t)(left > 0 ? left : 1), i->dl.wake_fd[0], NULL, 0,
		    NULL);
		if (fd >= 0 || i->dl.stopping || sb_devlink_mono_us() >=
		    deadline)
			return fd;
		nanosleep(&ts, NULL);	/* RHX may take a moment to listen */
	}
}

/* ConnectTCPSpikeDataOutput and a connection to it. */
static int
intan_rhx_arm_spikes(struct intan *i, char **cause)
{
	char value[64], errors[INTAN_TEXT], host[64], port[16];
	int rc, fd;

	if (i->spike_fd >= 0)
		return 0;
	rc = intan_rhx_request(i, "execute ConnectTCPSpikeDataOutput;",
	    "RunMode", value, sizeof value, errors, sizeof errors, cause);
	if (rc < 0)
		return rc;
	if (rc == 1 || intan_reply_is_error(errors))
		return intan_rhx_problem(i, "RHX refused "
		    "ConnectTCPSpikeDataOutput (RHX said: %s)", errors);
	fd = intan_rhx_connect_spikes(i);
	if (fd < 0 && !i->dl.stopping) {
		/* a client RHX still serves (ours, from before?) holds it */
		sb_devlink_log_once(&i->dl, SB_LOG_WARNING, "%s: RHX's spike "
		    "output on %s:%u takes no connection: asking RHX to drop "
		    "its client and listen again", i->name, i->peer,
		    i->cfg.spike_port);
		rc = intan_rhx_request(i, "execute "
		    "DisconnectTCPSpikeDataOutput;execute "
		    "ConnectTCPSpikeDataOutput;", "RunMode", value,
		    sizeof value, errors, sizeof errors, cause);
		if (rc < 0)
			return rc;
		fd = intan_rhx_connect_spikes(i);
	}
	if (fd < 0) {
		if (i->dl.stopping)
			return 1;
		rc = intan_rhx_get(i, "TCPSpikeDataOutputHost", host,
		    sizeof host, errors, sizeof errors, cause);
		if (rc < 0)
			return rc;
		if (rc == 1)
			snprintf(host, sizeof host, "?");
		rc = intan_rhx_get(i, "TCPSpikeDataOutputPort", port,
		    sizeof port, errors, sizeof errors, cause);
		if (rc < 0)
			return rc;
		if (rc == 1)
			snprintf(port, sizeof port, "?");
		return intan_rhx_problem(i, "RHX's spike output takes no "
		    "connection on %s:%u (RHX says it serves %s:%s): in RHX's "
		    "Remote TCP Control window set the spike output to %s:%u, "
		    "or give spike_port=", i->peer, i->cfg.spike_port, host,
		    port, i->peer, i->cfg.spike_port);
	}
	i->spike_fd = fd;
	intan_spike_reset(&i->parser);
	__atomic_store_n(&i->spike_up, 1, __ATOMIC_RELAXED);
	return 0;
}

/* What RHX is, then its outputs; 0 set up, 1 refused (said), <0 gone. */
static int
intan_rhx_configure(struct intan *i, char **cause)
{
	int rc, was = i->configured;

	i->configured = 0;
	__atomic_store_n(&i->configured_flag, 0, __ATOMIC_RELAXED);
	if ((rc = intan_rhx_query(i, cause)) == 0 &&
	    (rc = intan_rhx_setup_blocks(i, cause)) == 0 &&
	    (rc = intan_rhx_setup_port(i, cause)) == 0 &&
	    (rc = intan_rhx_setup_channels(i, cause)) == 0)
		rc = intan_rhx_arm_spikes(i, cause);
	if (rc == 0) {
		pthread_mutex_lock(&i->lock);
		i->problem[0] = '\0';
		pthread_mutex_unlock(&i->lock);
		i->configured = 1;
		__atomic_store_n(&i->configured_flag, 1, __ATOMIC_RELAXED);
		if (!was)
			sb_devlink_log(&i->dl, SB_LOG_INFO, "%s: RHX %s (%s) "
			    "at %g Hz%s%g uA steps%s, spikes of %u channels at "
			    "%u block%s/write (latency floor %.1f ms)", i->name,
			    intan_rhx_kind(i), i->type, i->fs, i->rhs ?
			    ", stimulation in " : "", i->rhs ? i->step_ua : 0,
			    i->rhs ? "" : " (recording only)", i->ch.n,
			    i->blocks, i->blocks == 1 ? "" : "s", i->blocks *
			    INTAN_FRAMES_PER_BLOCK * 1000.0 / i->fs);
	}
	intan_rhx_detail(i);
	return rc;
}

/* sb-devlink connect: TCP to the command port. */
int
intan_rhx_connect(struct intan *i, char **cause)
{
	char *why = NULL;
	int fd, e;

	fd = intan_net_connect(i->cfg.host, i->cfg.command_port,
	    i->cfg.timeout_ms, i->dl.wake_fd[0], i->peer, sizeof i->peer, &why);
	if (fd < 0) {
		e = errno;
		if (e == ECONNREFUSED)
			sb_cause(cause, "RHX does not accept connections on "
			    "%s:%u: in RHX choose Network > Remote TCP Control "
			    "> Connect (status Pending), or close the program "
			    "already connected to it", i->cfg.host,
			    i->cfg.command_port);
		else
			sb_cause(cause, "cannot reach RHX at %s:%u (%s): check "
			    "host= and command_port=, that RHX's computer is "
			    "on the network and lets TCP port %u in",
			    i->cfg.host, i->cfg.command_port, why != NULL ?
			    why : strerror(e), i->cfg.command_port);
		free(why);
		return -1;
	}
	free(why);
	i->cmd_fd = fd;
	i->reply_len = 0;
	return 0;
}

/* sb-devlink disconnect: both sockets. */
void
intan_rhx_disconnect(struct intan *i)
{
	if (i->cmd_fd >= 0)
		close(i->cmd_fd);
	if (i->spike_fd >= 0)
		close(i->spike_fd);
	i->cmd_fd = i->spike_fd = -1;
	i->configured = 0;
	__atomic_store_n(&i->configured_flag, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&i->spike_up, 0, __ATOMIC_RELAXED);
}

/*
 * RHX did not answer in time. The connection is kept (closing it would
 * make RHX 3.4.0 stop listening): the link is degraded with why, answers
 * that come late are dropped unseen, and everything is asked again after
 * retry_ms. Only a closed or broken connection (or TCP keepalive giving
 * up on a dead peer) brings the link down.
 */
static int
intan_rhx_stalled(struct intan *i, char **cause)
{
	char why[INTAN_TEXT];

	intan_format(why, sizeof why, "%s", *cause != NULL ? *cause :
	    "no answer");
	free(*cause);
	*cause = NULL;
	i->late = 1;
	i->configured = 0;
	__atomic_store_n(&i->configured_flag, 0, __ATOMIC_RELAXED);
	intan_rhx_problem(i, "%s: RHX is busy or hung; the connection is "
	    "kept and RHX asked again", why);
	intan_rhx_detail(i);
	return 0;
}

/* sb-devlink handshake: after connect and after a resync. */
int
intan_rhx_handshake(struct intan *i, char **cause)
{
	uint32_t u;
	int rc;

	/* what RHX was told about stimulation is not known any more */
	for (u = 0; u < i->ch.n; u++) {
		i->stim[u].state = INTAN_STIM_UNKNOWN;
		i->stim[u].set_up = 0;
	}
	i->user_stopped = 0;
	i->next_run_us = 0;
	rc = intan_rhx_configure(i, cause);
	i->next_status_us = sb_devlink_mono_us() + (int64_t)i->cfg.status_ms *
	    1000;
	if (rc == -1)
		return intan_rhx_stalled(i, cause);
	return rc < 0 ? -1 : 0;
}

/* Run while the population is started; stop when it stops. */
static int
intan_rhx_run_state(struct intan *i, char **cause)
{
	char errors[INTAN_TEXT];
	int want, running, ours, rc;
	int64_t now = sb_devlink_mono_us();

	pthread_mutex_lock(&i->lock);
	want = i->want_run;
	running = i->running;
	ours = i->ran_by_us;
	pthread_mutex_unlock(&i->lock);
	if (want && !i->last_want)
		i->user_stopped = 0;	/* started again: run again */
	i->last_want = want;
	if (want && !running && i->configured && !i->user_stopped &&
	    now >= i->next_run_us) {
		rc = intan_rhx_runmode(i, "Run", errors, sizeof errors, cause);
		if (rc < 0)
			return rc;
		pthread_mutex_lock(&i->lock);
		running = i->running;
		if (rc == 0)
			i->ran_by_us = 1;
		pthread_mutex_unlock(&i->lock);
		if (rc == 0) {
			intan_clock_reset(&i->clock, i->fs);
			i->runs_seen++;
			sb_devlink_log(&i->dl, SB_LOG_INFO, "%s: RHX acquiring "
			    "(RunMode Run)", i->name);
		} else if (!running) {
			i->next_run_us = now + (int64_t)i->cfg.retry_ms * 1000;
			sb_devlink_log_once(&i->dl, SB_LOG_ERROR, "%s: RHX "
			    "refused RunMode Run (RHX said: %s): check in RHX "
			    "that the controller and headstages are connected "
			    "and no dialog box is open (trying again every "
			    "%.1f s)", i->name, errors, i->cfg.retry_ms /
			    1000.0);
		}
		intan_rhx_detail(i);
	} else if (!want && running && ours) {
		rc = intan_rhx_runmode(i, "Stop", errors, sizeof errors, cause);
		if (rc < 0)
			return rc;
		pthread_mutex_lock(&i->lock);
		if (!i->running)
			i->ran_by_us = 0;
		pthread_mutex_unlock(&i->lock);
		if (rc == 1)
			sb_devlink_log_once(&i->dl, SB_LOG_WARNING, "%s: RHX "
			    "refused RunMode Stop (RHX said: %s)", i->name,
			    errors);
		intan_rhx_detail(i);
	}
	return 0;
}

/* Ask RunMode (idle): who else started or stopped RHX; is it alive. */
static int
intan_rhx_status(struct intan *i, char **cause)
{
	char errors[INTAN_TEXT];
	int was, now, want, rc;

	pthread_mutex_lock(&i->lock);
	was = i->running;
	pthread_mutex_unlock(&i->lock);
	rc = intan_rhx_runmode(i, NULL, errors, sizeof errors, cause);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	pthread_mutex_lock(&i->lock);
	now = i->running;
	want = i->want_run;
	if (!now)
		i->ran_by_us = 0;
	pthread_mutex_unlock(&i->lock);
	if (was && !now && want) {
		i->user_stopped = 1;
		sb_devlink_log(&i->dl, SB_LOG_WARNING, "%s: RHX stopped "
		    "acquiring (Stop clicked in RHX?): no spikes until it runs "
		    "again; synbridge leaves it stopped until RHX reconnects "
		    "or the population starts again (or click Run in RHX)",
		    i->name);
	} else if (!was && now) {
		intan_clock_reset(&i->clock, i->fs);
		i->runs_seen++;
		sb_devlink_log(&i->dl, SB_LOG_INFO, "%s: RHX acquiring "
		    "(RunMode %s, started in RHX)", i->name, i->runmode);
	}
	if (was != now)
		intan_rhx_detail(i);
	return 0;
}

/* A stimulation that was not delivered: counted and said. */
static void
intan_rhx_stim_failed(struct intan *i, const struct intan_stim_request *q,
    const char *why)
{
	pthread_mutex_lock(&i->lock);
	i->stims_failed++;
	pthread_mutex_unlock(&i->lock);
	intan_cause(i, INTAN_CAUSE_STIM_FAILED, SB_LOG_ERROR, "stimulation of "
	    "%s (unit %u, %g uA) not delivered: %s", i->ch.names[q->unit],
	    q->unit, q->p.steps * i->step_ua, why);
}

/* Send a batch of commands and check the probe reads expect. */
static int
intan_rhx_batch(struct intan *i, const char *cmds, const char *probe,
    const char *expect, char *why, size_t wlen, char **cause)
{
	char value[64], errors[INTAN_TEXT];
	int rc;

	rc = intan_rhx_request(i, cmds, probe, value, sizeof value, errors,
	    sizeof errors, cause);
	if (rc < 0)
		return rc;
	if (rc == 1 || intan_reply_is_error(errors)) {
		intan_format(why, wlen, "RHX refused the parameters (RHX "
		    "said: %s)", errors);
		return 1;
	}
	if (!intan_rhx_same(value, expect)) {
		int b, e;

		if (intan_reply_bool(value, &b) == 0 &&
		    intan_reply_bool(expect, &e) == 0 && b == e)
			return 0;
		snprintf(why, wlen, "RHX reads %s %s after setting it to %s",
		    probe, value, expect);
		return 1;
	}
	return 0;
}

/* Take every other channel of synbridge's off the key (unknown = maybe on). */
static int
intan_rhx_disarm(struct intan *i, const uint8_t *in_group, char *why,
    size_t wlen, char **cause)
{
	char cmds[INTAN_WRITE_MAX], one[128], probe[64];
	size_t at = 0;
	uint32_t u, first = 0, last = 0;
	int n, rc, any = 0;

	for (u = 0; u <= i->ch.n; u++) {
		if (u < i->ch.n) {
			if (in_group[u] || i->stim[u].state == INTAN_STIM_OFF)
				continue;
			n = intan_stim_off_commands(i->ch.names[u], one,
			    sizeof one);
			if (n < 0)
				continue;
			if (at + (size_t)n < sizeof cmds - 64) {
				memcpy(cmds + at, one, (size_t)n + 1);
				at += (size_t)n;
				if (!any)
					first = u;
				last = u;
				any = 1;
				continue;
			}
		}
		if (!any)
			break;
		snprintf(probe, sizeof probe, "%s.StimEnabled",
		    i->ch.names[last]);
		rc = intan_rhx_batch(i, cmds, probe, "false", why, wlen, cause);
		if (rc != 0)
			return rc;
		for (n = (int)first; n <= (int)last; n++)
			if (!in_group[n])
				i->stim[n].state = INTAN_STIM_OFF;
		pthread_mutex_lock(&i->lock);
		i->uploads += last - first + 1;
		pthread_mutex_unlock(&i->lock);
		at = 0;
		any = 0;
		if (u < i->ch.n)
			u--;	/* the channel that did not fit: again */
	}
	return 0;
}

/*
 * Before changing a channel's parameters, let the last trigger's pulses
 * go out: one write period (N x 128 / fs) and a millisecond after it.
 * [U] RHX runs commands in order, so an upload after a trigger should not
 * reach that trigger's pulse; an emulator that generates a write period
 * at a time shows that it can. The wait costs only a change of parameters
 * within a few ms of the last pulse.
 */
static int
intan_rhx_settle(struct intan *i, char **cause)
{
	int64_t until = __atomic_load_n(&i->last_trigger_us,
	    __ATOMIC_RELAXED), left;
	int rc;

	if (until == 0 || !(i->fs > 0))
		return 0;
	until += (int64_t)(i->blocks * INTAN_FRAMES_PER_BLOCK * 1e6 / i->fs) +
	    1000;
	while ((left = until - sb_devlink_mono_us()) > 0)
		if ((rc = intan_rhx_pump(i, (int)((left + 999) / 1000),
		    cause)) != 0)
			return rc;
	return 0;
}

/* Does firing this group change any channel's parameters in RHX? */
static int
intan_rhx_changes(struct intan *i, const struct intan_stim_request *q,
    unsigned n, const uint8_t *in_group, double step)
{
	char cmds[INTAN_WRITE_MAX];
	unsigned k;
	uint32_t u;

	for (u = 0; u < i->ch.n; u++)
		if (!in_group[u] && i->stim[u].state != INTAN_STIM_OFF)
			return 1;
	for (k = 0; k < n; k++)
		if (intan_stim_commands(i->ch.names[q[k].unit],
		    &i->stim[q[k].unit], &q[k].p, step, i->cfg.stim_key, cmds,
		    sizeof cmds) != 0)
			return 1;
	return 0;
}

/* Fire one group of stimulations (distinct channels) with one trigger. */
static int
intan_rhx_fire(struct intan *i, const struct intan_stim_request *q,
    unsigned n, char **cause)
{
	char cmds[INTAN_WRITE_MAX], probe[96], expect[32], why[INTAN_TEXT];
	char value[32], errors[INTAN_TEXT];
	uint8_t *in_group;
	unsigned k;
	int len, rc, running, rhs;
	double step;

	pthread_mutex_lock(&i->lock);
	running = i->running;
	rhs = i->rhs;
	step = i->step_ua;
	pthread_mutex_unlock(&i->lock);
	if (!rhs || !running || !i->configured) {
		for (k = 0; k < n; k++)
			intan_rhx_stim_failed(i, &q[k], !rhs ? "RHX runs a "
			    "recording controller" : !running ? "RHX is not "
			    "acquiring" : "RHX is not set up");
		return 0;
	}
	in_group = calloc(i->ch.n, 1);
	if (in_group == NULL)
		return 0;
	for (k = 0; k < n; k++)
		in_group[q[k].unit] = 1;
	rc = 0;
	if (intan_rhx_changes(i, q, n, in_group, step))
		rc = intan_rhx_settle(i, cause);
	if (rc == 0)
		rc = intan_rhx_disarm(i, in_group, why, sizeof why, cause);
	for (k = 0; k < n && rc == 0; k++) {
		struct intan_stim_cache *c = &i->stim[q[k].unit];

		len = intan_stim_commands(i->ch.names[q[k].unit], c, &q[k].p,
		    step, i->cfg.stim_key, cmds, sizeof cmds);
		if (len <= 0)
			continue;	/* as RHX has it already */
		snprintf(probe, sizeof probe, "%s.FirstPhaseAmplitudeMicroAmps",
		    i->ch.names[q[k].unit]);
		snprintf(expect, sizeof expect, "%.6g", q[k].p.steps * step);
		c->state = INTAN_STIM_UNKNOWN;	/* until confirmed */
		rc = intan_rhx_batch(i, cmds, probe, expect, why, sizeof why,
		    cause);
		if (rc == 0) {
			c->state = INTAN_STIM_ON;
			c->set_up = 1;
			c->p = q[k].p;
			pthread_mutex_lock(&i->lock);
			i->uploads++;
			pthread_mutex_unlock(&i->lock);
		}
	}
	free(in_group);
	if (rc < 0) {
		/* the link lost RHX: none of these was triggered */
		for (k = 0; k < n; k++)
			intan_rhx_stim_failed(i, &q[k], *cause != NULL ? *cause :
			    "RHX did not answer while it was being set up");
		return rc;
	}
	if (rc == 1) {
		for (k = 0; k < n; k++)
			intan_rhx_stim_failed(i, &q[k], why);
		return 0;
	}
	snprintf(cmds, sizeof cmds, "execute ManualStimTriggerPulse F%u;",
	    i->cfg.stim_key);
	__atomic_store_n(&i->last_trigger_us, sb_devlink_mono_us(),
	    __ATOMIC_RELAXED);
	rc = intan_rhx_request(i, cmds, "RunMode", value, sizeof value, errors,
	    sizeof errors, cause);
	if (rc < 0) {
		/* sent, but not confirmed: it may or may not have fired */
		snprintf(why, sizeof why, "the trigger was sent but RHX did not "
		    "confirm it (%s): it may or may not have fired",
		    *cause != NULL ? *cause : "no answer");
		for (k = 0; k < n; k++)
			intan_rhx_stim_failed(i, &q[k], why);
		return rc;
	}
	if (rc == 1 || intan_reply_is_error(errors)) {
		intan_format(why, sizeof why, "RHX refused the trigger (RHX "
		    "said: %s)", errors);
		for (k = 0; k < n; k++)
			intan_rhx_stim_failed(i, &q[k], why);
		return 0;
	}
	pthread_mutex_lock(&i->lock);
	i->triggers++;
	pthread_mutex_unlock(&i->lock);
	return 0;
}

/*
 * Run the queued stimulations. One trigger fires every channel on the
 * key, so requests waiting side by side for distinct channels go out
 * together (each channel with its own amplitude and width); a second
 * request for a channel already in the group waits for the next trigger.
 */
static int
intan_rhx_stims(struct intan *i, char **cause)
{
	struct intan_stim_request q[INTAN_STIM_QUEUE];
	unsigned n = 0, start, k, j;
	int rc;

	pthread_mutex_lock(&i->lock);
	while (i->qlen > 0) {
		q[n++] = i->queue[i->qhead];
		i->qhead = (i->qhead + 1) % INTAN_STIM_QUEUE;
		i->qlen--;
	}
	pthread_mutex_unlock(&i->lock);
	for (start = 0; start < n; start = k) {
		for (k = start + 1; k < n; k++) {
			for (j = start; j < k; j++)
				if (q[j].unit == q[k].unit)
					break;
			if (j < k)
				break;
		}
		rc = intan_rhx_fire(i, q + start, k - start, cause);
		if (rc < 0) {
			/* what was still waiting is not delivered either */
			for (j = k; j < n; j++)
				intan_rhx_stim_failed(i, &q[j], "RHX stopped "
				    "answering before its turn");
			return rc;
		}
	}
	return 0;
}

/* One pass of work. */
static int
intan_rhx_pass(struct intan *i, char **cause)
{
	int64_t now = sb_devlink_mono_us(), wait_us;
	unsigned queued;
	int rc;

	if ((!i->configured || i->spike_fd < 0) && now >= i->next_config_us) {
		if (!i->configured)
			rc = intan_rhx_configure(i, cause);
		else {
			rc = intan_rhx_arm_spikes(i, cause);
			if (rc == 0) {
				pthread_mutex_lock(&i->lock);
				i->problem[0] = '\0';
				pthread_mutex_unlock(&i->lock);
			}
			intan_rhx_detail(i);
		}
		if (rc < 0)
			return rc;
	}
	if ((rc = intan_rhx_run_state(i, cause)) < 0)
		return rc;
	pthread_mutex_lock(&i->lock);
	queued = i->qlen;
	pthread_mutex_unlock(&i->lock);
	if (queued > 0 && (rc = intan_rhx_stims(i, cause)) < 0)
		return rc;
	now = sb_devlink_mono_us();
	if (now >= i->next_status_us) {
		i->next_status_us = now + (int64_t)i->cfg.status_ms * 1000;
		if ((rc = intan_rhx_status(i, cause)) < 0)
			return rc;
	}
	pthread_mutex_lock(&i->lock);
	queued = i->qlen;
	pthread_mutex_unlock(&i->lock);
	if (queued > 0)
		return 0;
	wait_us = i->next_status_us - sb_devlink_mono_us();
	if ((!i->configured || i->spike_fd < 0) && i->next_config_us -
	    sb_devlink_mono_us() < wait_us)
		wait_us = i->next_config_us - sb_devlink_mono_us();
	if (wait_us > 250000)
		wait_us = 250000;
	rc = intan_rhx_pump(i, (int)((wait_us + 999) / 1000), cause);
	if (rc < 0)
		return rc;
	if (i->reply_len > 0 && i->late)
		i->reply_len = 0;	/* a late answer: nobody waits for it */
	if (i->reply_len > 0 && sb_devlink_mono_us() - i->reply_last_us >=
	    INTAN_ERROR_QUIET_MS * 1000) {
		char unasked[INTAN_TEXT];

		intan_reply_printable(i->reply, i->reply_len, unasked,
		    sizeof unasked);
		sb_devlink_count_malformed(&i->dl, 1);
		intan_cause(i, INTAN_CAUSE_UNASKED, SB_LOG_WARNING, "RHX said, "
		    "unasked: \"%s\" (ignored)", unasked);
		i->reply_len = 0;
	}
	return 0;
}

/* sb-devlink work: one pass; a timeout is not a reason to disconnect. */
int
intan_rhx_work(struct intan *i, char **cause)
{
	int rc = intan_rhx_pass(i, cause);

	if (rc == -1)
		return intan_rhx_stalled(i, cause);
	return rc;
}
