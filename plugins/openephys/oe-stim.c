/*
 * oe-stim.c: stimulation through the GUI.
 *
 * The engine thread checks a request (path, mode, unit, amplitude, width,
 * the line still high) and queues it; it never waits. The link thread
 * sends it:
 *
 * stim=network_events  "TTL Line=L State=1" on the REQ socket, and when
 *     the GUI has taken it ("TTLHandled: Line=L State=1"), "TTL Line=L
 *     State=0" width_us later. One request is in flight at a time (REQ);
 *     a reply that does not come within timeout_ms drops the socket and
 *     opens a new one (ZMQ's REQ is stuck otherwise), and a line that may
 *     be high is switched off again (up to OE_NE_RETRIES times).
 * stim=broadcast  PUT /api/message {"text":"ACQBOARD TRIGGER L MS"}: the
 *     Acquisition Board times the pulse itself (10-5000 ms).
 * rhs=STREAM  once per acquisition, "RHS STIM_SHAPE S C P SHAPE" and
 *     "RHS STIM_TRIGGER S C D" for every stimulated unit C, with D its
 *     line - 1. INFERRED reading of these messages: STIM_TRIGGER makes RHS
 *     channel C fire on digital input D, so the TTL of line D + 1 must be
 *     wired to that input; the amplitude is the RHS settings' own.
 *
 * Neither path carries an amplitude: the stimulator's is its own, and
 * the plugin takes only stim_amplitude= (what it is set to), so that the
 * records say what was delivered.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "openephys.h"
#include "sb-args.h"

/* A line stays busy this long after its pulse should have ended. */
#define OE_STIM_SLACK_US 20000

/* How a path is named in messages. */
static const char *
oe_stim_path_text(enum oe_stim_path path)
{
	return path == OE_STIM_NETWORK_EVENTS ? "a TTL through Network Events" :
	    "ACQBOARD TRIGGER";
}

/* May unit be stimulated now, with this? The line it goes out on. */
int
oe_stim_check(struct openephys *oe, uint32_t unit, double amplitude,
    uint32_t width_us, uint32_t *line, char **cause)
{
	const struct oe_config *c = &oe->cfg;
	const char *flag = c->rhs ? "-i" : "-a", *u = c->rhs ? "uA" : "V";
	char why[SB_DEVLINK_TEXT];
	enum oe_stim_path path;
	enum oe_mode mode;
	int64_t now;

	if (unit >= c->units) {
		sb_cause(cause, "%s has units 0-%u", c->name, c->units - 1);
		return -1;
	}
	if (c->stim == OE_STIM_NONE) {
		sb_cause(cause, "%s: stimulation is off (stim=none on the load "
		    "line)", c->name);
		return -1;
	}
	if (!sb_devlink_is_up(&oe->dl)) {
		sb_devlink_why(&oe->dl, why, sizeof why);
		sb_cause(cause, "%s is offline: %s", c->name, why);
		return -1;
	}
	pthread_mutex_lock(&oe->lock);
	path = oe->path;
	mode = oe->mode;
	pthread_mutex_unlock(&oe->lock);
	if (path != OE_STIM_NETWORK_EVENTS && path != OE_STIM_BROADCAST) {
		sb_cause(cause, "%s: no stimulation path: the GUI's signal chain "
		    "has neither Network Events (TTL lines) nor an Acquisition "
		    "Board (ACQBOARD TRIGGER); add Network Events and set its "
		    "port (network_events_port=), or give stim=network_events "
		    "or stim=broadcast", c->name);
		return -1;
	}
	if (mode != OE_MODE_ACQUIRE && mode != OE_MODE_RECORD) {
		sb_cause(cause, "%s: the GUI is not acquiring (%s) and takes %s "
		    "only while it acquires: press play in the GUI", c->name,
		    oe_mode_name(mode), path == OE_STIM_NETWORK_EVENTS ?
		    "TTLs" : "broadcast messages");
		return -1;
	}
	*line = c->unit_line[unit];
	if (*line == 0) {
		sb_cause(cause, "%s:%u has no TTL line (ttl_lines= on the load "
		    "line lists the units that can be stimulated)", c->name,
		    unit);
		return -1;
	}
	if (fabs(amplitude - c->stim_amplitude) > 1e-9 * fmax(1.0,
	    c->stim_amplitude)) {
		sb_cause(cause, "%s: %s carries no amplitude: the stimulator on "
		    "TTL line %u delivers its own (%g %s, as stim_amplitude= "
		    "says); give %s %g, or set stim_amplitude= to what it is "
		    "set to", c->name, oe_stim_path_text(path), *line,
		    c->stim_amplitude, u, flag, c->stim_amplitude);
		return -1;
	}
	if (width_us < c->min_width_us) {
		sb_cause(cause, "%s: %u us is shorter than a pulse through the "
		    "GUI can be (it stamps TTLs at its block boundaries): give "
		    "-w from %u to %u (min_width_us= and max_width_us= on the "
		    "load line)", c->name, width_us, c->min_width_us,
		    c->max_width_us);
		return -1;
	}
	if (width_us > c->max_width_us) {
		sb_cause(cause, "%s: %u us is longer than max_width_us=%u: give "
		    "-w up to %u", c->name, width_us, c->max_width_us,
		    c->max_width_us);
		return -1;
	}
	if (path == OE_STIM_BROADCAST && (width_us % 1000 != 0 || width_us <
	    OE_ACQBOARD_MIN_MS * 1000 || width_us > OE_ACQBOARD_MAX_MS * 1000 ||
	    *line > OE_ACQBOARD_LINES)) {
		sb_cause(cause, "%s: ACQBOARD TRIGGER pulses lines 1-%d for "
		    "whole milliseconds from %d to %d: give -w as a multiple of "
		    "1000 us from %d to %d (line %u, %u us asked)", c->name,
		    OE_ACQBOARD_LINES, OE_ACQBOARD_MIN_MS, OE_ACQBOARD_MAX_MS,
		    OE_ACQBOARD_MIN_MS * 1000, OE_ACQBOARD_MAX_MS * 1000, *line,
		    width_us);
		return -1;
	}
	now = sb_devlink_mono_us();
	if (oe->line_busy_until[*line] > now) {
		sb_cause(cause, "%s:%u: TTL line %u is still high from the "
		    "previous stimulation: try again in %.0f ms", c->name, unit,
		    *line, (oe->line_busy_until[*line] - now) / 1e3);
		return -1;
	}
	return 0;
}

/* Queue a checked pulse for the link thread (engine thread). */
int
oe_stim_queue(struct openephys *oe, const struct oe_pulse *pulse,
    char **cause)
{
	pthread_mutex_lock(&oe->lock);
	if (oe->qlen == OE_STIM_QUEUE) {
		pthread_mutex_unlock(&oe->lock);
		sb_cause(cause, "%s: %d stimulations are waiting for the GUI: "
		    "try again when they are done", oe->cfg.name, OE_STIM_QUEUE);
		return -1;
	}
	oe->queue[(oe->qhead + oe->qlen) % OE_STIM_QUEUE] = *pulse;
	oe->qlen++;
	pthread_mutex_unlock(&oe->lock);
	oe->line_busy_until[pulse->line] = sb_devlink_mono_us() +
	    pulse->width_us + OE_STIM_SLACK_US;
	sb_devlink_wake(&oe->dl);
	return 0;
}

/*
 * The width of the pulse a synaptic event of this weight becomes:
 * syn_width_us x weight / 255 within [min_width_us, max_width_us], in
 * whole milliseconds (10-5000) for ACQBOARD TRIGGER.
 */
uint32_t
oe_stim_synaptic_width(const struct oe_config *c, enum oe_stim_path path,
    unsigned weight)
{
	uint64_t w = (uint64_t)c->syn_width_us * (weight > 255 ? 255 : weight) /
	    255;

	if (w < c->min_width_us)
		w = c->min_width_us;
	if (w > c->max_width_us)
		w = c->max_width_us;
	if (path == OE_STIM_BROADCAST) {
		w = (w + 500) / 1000 * 1000;
		if (w < OE_ACQBOARD_MIN_MS * 1000)
			w = OE_ACQBOARD_MIN_MS * 1000;
		if (w > OE_ACQBOARD_MAX_MS * 1000)
			w = OE_ACQBOARD_MAX_MS * 1000;
	}
	return (uint32_t)w;
}

/* Open the REQ socket to Network Events (link thread). */
int
oe_stim_ne_open(struct openephys *oe)
{
	char endpoint[OE_HOST_LEN + 32];
	int zero = 0;

	oe_stim_ne_close(oe);
	oe->req = zmq_socket(oe->zctx, ZMQ_REQ);
	if (oe->req == NULL)
		return -1;
	zmq_setsockopt(oe->req, ZMQ_LINGER, &zero, sizeof zero);
	snprintf(endpoint, sizeof endpoint, "tcp://%s:%u", oe->cfg.host,
	    oe->ne_port);
	if (zmq_connect(oe->req, endpoint) != 0) {
		zmq_close(oe->req);
		oe->req = NULL;
		return -1;
	}
	return 0;
}

/* Close it; a request in flight is forgotten. */
void
oe_stim_ne_close(struct openephys *oe)
{
	if (oe->req != NULL)
		zmq_close(oe->req);
	oe->req = NULL;
	oe->ne.active = 0;
}

/*
 * A pulse went out: note when, for spikes it evokes. t_us is the session
 * time taken just before it was handed on (zmq_send, the HTTP request):
 * the instrument cannot have fired before that, and a time taken after
 * could be later than the evoked spike itself when this thread is
 * descheduled right after the send (a loaded machine), which then would
 * not count as evoked.
 */
static void
oe_stim_sent(struct openephys *oe, const struct oe_pulse *p, int64_t t_us)
{
	__atomic_store_n(&oe->unit_stim_us[p->unit], t_us, __ATOMIC_RELAXED);
}

/* A pulse was delivered (the GUI took it). */
static void
oe_stim_delivered(struct openephys *oe, int synaptic)
{
	sb_devlink_count_tx(&oe->dl, 1);
	__atomic_add_fetch(synaptic ? &oe->syn_stims : &oe->stims, 1,
	    __ATOMIC_RELAXED);
}

/* Send "TTL Line=line State=state"; 0, or -1 (then dropped). */
static int
oe_stim_ne_send(struct openephys *oe, uint32_t line, int state,
    const struct oe_pulse *p)
{
	char text[48];
	int n = snprintf(text, sizeof text, "TTL Line=%u State=%d", line, state);
	int64_t before = oe_session_now(oe);

	if (zmq_send(oe->req, text, (size_t)n, ZMQ_DONTWAIT) != n) {
		oe_cause_once(oe, OE_NE_TIMEOUT, SB_LOG_WARNING, "%s: cannot send "
		    "'%s' to Network Events at %s:%u: %s", oe->cfg.name, text,
		    oe->cfg.host, oe->ne_port, zmq_strerror(zmq_errno()));
		oe_stim_ne_open(oe);
		return -1;
	}
	memset(&oe->ne, 0, sizeof oe->ne);
	oe->ne.active = 1;
	oe->ne.line = line;
	oe->ne.state = state;
	if (p != NULL) {
		oe->ne.unit = p->unit;
		oe->ne.width_us = p->width_us;
		oe->ne.synaptic = p->synaptic;
		oe_stim_sent(oe, p, before);
	}
	oe->ne.deadline_us = sb_devlink_mono_us() + (int64_t)oe->cfg.timeout_ms *
	    1000;
	return 0;
}

/* The next pulse, unless its line is still high (it waits its turn). */
static int
oe_stim_pop(struct openephys *oe, struct oe_pulse *p, int check_line)
{
	int got = 0;

	pthread_mutex_lock(&oe->lock);
	if (oe->qlen > 0 && (!check_line ||
	    !oe->lines[oe->queue[oe->qhead].line].high)) {
		*p = oe->queue[oe->qhead];
		oe->qhead = (oe->qhead + 1) % OE_STIM_QUEUE;
		oe->qlen--;
		got = 1;
	}
	pthread_mutex_unlock(&oe->lock);
	return got;
}

/* Drop every pulse waiting, with why (the path is gone). */
static void
oe_stim_drop_queue(struct openephys *oe, const char *why)
{
	unsigned n;

	pthread_mutex_lock(&oe->lock);
	n = oe->qlen;
	oe->qlen = 0;
	pthread_mutex_unlock(&oe->lock);
	if (n == 0)
		return;
	sb_devlink_count_dropped(&oe->dl, n);
	sb_devlink_log(&oe->dl, SB_LOG_WARNING, "%s: %u stimulation%s not "
	    "delivered: %s", oe->cfg.name, n, n == 1 ? "" : "s", why);
}

/* The line switched off longest ago that is due, or 0. */
static uint32_t
oe_stim_off_due(struct openephys *oe, int64_t now)
{
	uint32_t l, best = 0;

	for (l = 1; l <= OE_NE_LINES; l++)
		if (oe->lines[l].high && oe->lines[l].off_due_us <= now &&
		    (best == 0 || oe->lines[l].off_due_us <
		    oe->lines[best].off_due_us))
			best = l;
	return best;
}

/* No reply in time: a new socket; make sure the line ends low. */
static void
oe_stim_ne_timeout(struct openephys *oe, int64_t now)
{
	struct oe_ttl_line *L = &oe->lines[oe->ne.line];

	oe_cause_once(oe, OE_NE_TIMEOUT, SB_LOG_WARNING, "%s: Network Events "
	    "at %s:%u did not answer 'TTL Line=%u State=%d' within %u ms: is "
	    "it in the signal chain, with that port? (pulses lost are counted "
	    "as dropped)", oe->cfg.name, oe->cfg.host, oe->ne_port,
	    oe->ne.line, oe->ne.state, oe->cfg.timeout_ms);
	oe_stim_ne_open(oe);	/* a REQ without its reply is stuck */
	if (oe->ne.state == 1) {
		sb_devlink_count_dropped(&oe->dl, 1);
		L->high = 1;	/* it may have gone through: switch it off */
		L->off_due_us = now;
		L->off_tries = 0;
	} else if (++L->off_tries < OE_NE_RETRIES)
		L->off_due_us = now;
	else {
		L->high = 0;
		sb_devlink_log(&oe->dl, SB_LOG_ERROR, "%s: TTL line %u could not "
		    "be switched off (Network Events does not answer): check "
		    "it in the GUI", oe->cfg.name, oe->ne.line);
	}
	oe->ne.active = 0;
}

/* A reply on the REQ socket (link thread). */
void
oe_stim_ne_receive(struct openephys *oe)
{
	char buf[128], why[SB_DEVLINK_TEXT];
	struct oe_ttl_line *L;
	int n, rc;
	int64_t now = sb_devlink_mono_us();

	n = zmq_recv(oe->req, buf, sizeof buf - 1, ZMQ_DONTWAIT);
	if (n < 0 || !oe->ne.active)
		return;
	if (n > (int)sizeof buf - 1)
		n = (int)sizeof buf - 1;	/* truncated: will not match */
	buf[n] = '\0';
	if ((int)strlen(buf) != n)
		memset(buf + strlen(buf), '?', (size_t)n - strlen(buf));
	L = &oe->lines[oe->ne.line];
	rc = oe_api_ne_reply(buf, oe->ne.line, oe->ne.state, why, sizeof why);
	oe->ne.active = 0;
	if (rc == 0) {
		if (oe->ne.state == 1) {
			L->high = 1;
			L->off_due_us = now + oe->ne.width_us;
			L->off_tries = 0;
			oe_stim_delivered(oe, oe->ne.synaptic);
		} else
			L->high = 0;
		return;
	}
	oe_cause_once(oe, (enum oe_cause)rc, rc == OE_NE_REPLY ?
	    SB_LOG_WARNING : SB_LOG_ERROR, "%s: %s", oe->cfg.name, why);
	if (rc == OE_NE_REPLY)
		sb_devlink_count_malformed(&oe->dl, 1);
	if (oe->ne.state == 1) {
		sb_devlink_count_dropped(&oe->dl, 1);
		if (rc == OE_NE_REPLY) {
			L->high = 1;	/* not known: switch it off */
			L->off_due_us = now;
			L->off_tries = 0;
		}
	} else if (rc != OE_NE_REPLY || ++L->off_tries >= OE_NE_RETRIES)
		L->high = 0;
	else
		L->off_due_us = now;
}

/* Queue a message to broadcast; 0, or -1 when the queue is full. */
static int
oe_stim_message(struct openephys *oe, const char *text,
    const struct oe_pulse *p)
{
	struct oe_message *m;

	if (oe->mlen == OE_MESSAGES)
		return -1;
	m = &oe->messages[(oe->mhead + oe->mlen) % OE_MESSAGES];
	snprintf(m->text, sizeof m->text, "%s", text);
	m->is_pulse = p != NULL;
	if (p != NULL)
		m->pulse = *p;
	oe->mlen++;
	return 0;
}

/* Start the next broadcast (PUT /api/message). */
static void
oe_stim_next_message(struct openephys *oe)
{
	int64_t before;
	char *json;

	if (oe->message_in_flight || oe->mlen == 0)
		return;
	oe->message_current = oe->messages[oe->mhead];
	oe->mhead = (oe->mhead + 1) % OE_MESSAGES;
	oe->mlen--;
	json = oe_api_json_text("text", oe->message_current.text);
	before = oe_session_now(oe);
	if (json == NULL || oe_http_start(&oe->http, OE_REQ_MESSAGE,
	    "/api/message", json, oe->cfg.timeout_ms) != 0) {
		free(json);
		if (oe->message_current.is_pulse)
			sb_devlink_count_dropped(&oe->dl, 1);
		return;
	}
	free(json);
	oe->message_in_flight = 1;
	if (oe->message_current.is_pulse)
		oe_stim_sent(oe, &oe->message_current.pulse, before);
}

/* A broadcast came back (link thread). */
void
oe_stim_message_done(struct openephys *oe, long code, const char *err)
{
	struct oe_message *m = &oe->message_current;

	oe->message_in_flight = 0;
	if (code == 200) {
		if (m->is_pulse)
			oe_stim_delivered(oe, m->pulse.synaptic);
		return;
	}
	if (m->is_pulse)
		sb_devlink_count_dropped(&oe->dl, 1);
	if (code != 0)
		oe_cause_once(oe, OE_MESSAGE_FAILED, SB_LOG_ERROR, "%s: the GUI "
		    "refused the broadcast '%s' (HTTP %ld): is it acquiring?",
		    oe->cfg.name, m->text, code);
	else
		oe_cause_once(oe, OE_MESSAGE_FAILED, SB_LOG_ERROR, "%s: the "
		    "broadcast '%s' got no answer (%s)", oe->cfg.name, m->text,
		    err);
}

/* Queue the RHS set-up of every stimulated unit (once per acquisition). */
void
oe_stim_rhs_setup(struct openephys *oe)
{
	const struct oe_config *c = &oe->cfg;
	char text[OE_MESSAGE_LEN];
	uint32_t u;
	unsigned n = 0;

	for (u = 0; u < c->units && u < OE_RHS_CHANNELS; u++) {
		if (c->unit_line[u] == 0)
			continue;
		snprintf(text, sizeof text, "RHS STIM_SHAPE %u %u %u %s",
		    c->rhs_stream, u, c->rhs_pulses, c->rhs_shape);
		if (oe_stim_message(oe, text, NULL) != 0)
			break;
		snprintf(text, sizeof text, "RHS STIM_TRIGGER %u %u %u",
		    c->rhs_stream, u, c->unit_line[u] - 1);
		if (oe_stim_message(oe, text, NULL) != 0)
			break;
		n++;
	}
	sb_devlink_log(&oe->dl, SB_LOG_INFO, "%s: RHS stream %u: %u channel%s "
	    "set to fire on their digital inputs (%u pulse%s, %s)", c->name,
	    c->rhs_stream, n, n == 1 ? "" : "s", c->rhs_pulses,
	    c->rhs_pulses == 1 ? "" : "s", c->rhs_shape);
}

/* Send what is due (link thread, every pass). */
void
oe_stim_work(struct openephys *oe, int64_t now)
{
	struct oe_pulse p;
	char text[OE_MESSAGE_LEN];
	uint32_t line;

	if (oe->path == OE_STIM_NETWORK_EVENTS && oe->req != NULL) {
		if (oe->ne.active && now >= oe->ne.deadline_us)
			oe_stim_ne_timeout(oe, now);
		if (!oe->ne.active) {
			if ((line = oe_stim_off_due(oe, now)) != 0)
				oe_stim_ne_send(oe, line, 0, NULL);
			else if (oe_stim_pop(oe, &p, 1) &&
			    oe_stim_ne_send(oe, p.line, 1, &p) != 0)
				sb_devlink_count_dropped(&oe->dl, 1);
		}
	} else if (oe->path == OE_STIM_BROADCAST) {
		while (oe->mlen < OE_MESSAGES && oe_stim_pop(oe, &p, 0)) {
			snprintf(text, sizeof text, "ACQBOARD TRIGGER %u %u",
			    p.line, p.width_us / 1000);
			oe_stim_message(oe, text, &p);
		}
	} else
		oe_stim_drop_queue(oe, "no stimulation path");
	oe_stim_next_message(oe);
}

/* When oe_stim_work() must run again (mono), or 0. */
int64_t
oe_stim_next_due(struct openephys *oe)
{
	int64_t due = 0;
	uint32_t l;

	if (oe->path != OE_STIM_NETWORK_EVENTS)
		return 0;
	if (oe->ne.active)
		return oe->ne.deadline_us;
	for (l = 1; l <= OE_NE_LINES; l++)
		if (oe->lines[l].high && (due == 0 || oe->lines[l].off_due_us <
		    due))
			due = oe->lines[l].off_due_us;
	return due;
}

/* The link went down: pulses waiting are lost; lines stay to switch off. */
void
oe_stim_reset(struct openephys *oe)
{
	unsigned pulses = 0, i;

	oe->ne.active = 0;
	for (i = 0; i < oe->mlen; i++)
		pulses += oe->messages[(oe->mhead + i) % OE_MESSAGES].is_pulse;
	if (oe->message_in_flight && oe->message_current.is_pulse)
		pulses++;
	oe->mlen = 0;
	oe->message_in_flight = 0;
	if (pulses > 0)
		sb_devlink_count_dropped(&oe->dl, pulses);
	oe_stim_drop_queue(oe, "the link to the GUI went down");
}
