/*
 * oe-link.c: the sb-devlink steps that keep an Open Ephys GUI in reach.
 *
 * connect   GET /api/status: the GUI answers, and in which mode;
 * handshake GET /api/processors (where the Event Broadcaster and Network
 *           Events listen, whether there is an Acquisition Board), then
 *           a SUB to the Event Broadcaster (with a monitor to know when
 *           it is connected) and, for TTLs, a REQ to Network Events;
 * work      wait on the SUB, the monitor, the REQ, curl's sockets and the
 *           wake pipe; read spikes and emit them; a status poll every
 *           heartbeat_ms is the heartbeat (ZMQ alone goes quiet when the
 *           GUI is gone); start or stop acquisition; send stimulation;
 * disconnect close the sockets, abandon the requests.
 *
 * The GUI is gone (closed, restarted, its HTTP server turned off) when
 * nothing listens on its HTTP port, when two status polls in a row get no
 * answer, or when it is IDLE after its Event Broadcaster dropped our
 * connection (a restart between two polls): the link goes down and
 * reconnects with backoff, reading the processor list again (a restarted
 * GUI may have moved the Event Broadcaster to another port) and starting
 * acquisition again if the population is running.
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

#include <zmq.h>

#include "openephys.h"
#include "sb-args.h"

#define OE_POLL_ITEMS 24	/* sockets, wake pipe and curl's descriptors */
#define OE_MONITOR_WAIT_MS 1000	/* for the SUB to connect at handshake */

/* Session time now: CLOCK_MONOTONIC plus the engine's latest offset. */
int64_t
oe_session_now(struct openephys *oe)
{
	return sb_devlink_mono_us() + __atomic_load_n(&oe->clock_offset_us,
	    __ATOMIC_RELAXED);
}

/* Log a line the first time this cause happens (any thread). */
void
oe_cause_once(struct openephys *oe, enum oe_cause cause,
    enum sb_log_level level, const char *fmt, ...)
{
	uint64_t bit = 1ULL << cause;
	char text[SB_DEVLINK_TEXT];
	va_list ap;

	if (__atomic_fetch_or(&oe->causes_seen, bit, __ATOMIC_RELAXED) & bit)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	sb_devlink_log(&oe->dl, level, "%s", text);
}

/* The GUI's state for the link pane: "ACQUIRE, Event Broadcaster :5557, ...". */
void
oe_detail(struct openephys *oe, char *buf, size_t len)
{
	char stim[48];

	pthread_mutex_lock(&oe->lock);
	switch (oe->path) {
	case OE_STIM_NETWORK_EVENTS:
		snprintf(stim, sizeof stim, "Network Events :%u", oe->ne_port);
		break;
	case OE_STIM_BROADCAST:
		snprintf(stim, sizeof stim, "ACQBOARD TRIGGER");
		break;
	default:
		snprintf(stim, sizeof stim, "no stimulation");
	}
	snprintf(buf, len, "%s, Event Broadcaster :%u%s, %s",
	    oe_mode_name(oe->mode), oe->eb_port, oe->eb_connected ? "" :
	    " not connected", stim);
	pthread_mutex_unlock(&oe->lock);
}

/* The GUI's mode as read: say changes, start time mapping over. */
static void
oe_set_mode(struct openephys *oe, enum oe_mode mode)
{
	enum oe_mode old;
	int was, is;

	pthread_mutex_lock(&oe->lock);
	old = oe->mode;
	oe->mode = mode;
	pthread_mutex_unlock(&oe->lock);
	if (old == mode)
		return;
	was = old == OE_MODE_ACQUIRE || old == OE_MODE_RECORD;
	is = mode == OE_MODE_ACQUIRE || mode == OE_MODE_RECORD;
	if (is && !was) {
		/* a new acquisition: sample numbers start over */
		oe_clock_reset(&oe->clock);
		oe->rhs_sent = 0;
		sb_devlink_log(&oe->dl, SB_LOG_INFO, "%s: the GUI is %s",
		    oe->cfg.name, mode == OE_MODE_RECORD ? "acquiring and "
		    "recording" : "acquiring");
	} else if (!is && was) {
		oe->we_started = 0;
		sb_devlink_log(&oe->dl, SB_LOG_WARNING, "%s: the GUI stopped "
		    "acquiring (IDLE): no spikes and no stimulation until it "
		    "acquires again (press play in the GUI)", oe->cfg.name);
	} else if (mode == OE_MODE_IDLE && old == OE_MODE_UNKNOWN &&
	    !oe->cfg.control)
		sb_devlink_log(&oe->dl, SB_LOG_WARNING, "%s: the GUI is IDLE "
		    "and acquisition=follow leaves it so: press play in the "
		    "GUI to get spikes", oe->cfg.name);
	else if (is && was)
		sb_devlink_log(&oe->dl, SB_LOG_INFO, "%s: the GUI is %s",
		    oe->cfg.name, oe_mode_name(mode));
}

/* Why the GUI does not answer, with what to do. */
static void
oe_unreachable(struct openephys *oe, const char *err, char **cause)
{
	sb_cause(cause, "no answer from the Open Ephys GUI at %s (%s): is it "
	    "running, with its HTTP server on (File menu)?", oe->http.base,
	    err);
}

/* sb-devlink connect: the GUI answers /api/status. */
static int
oe_link_connect(void *ctx, char **cause)
{
	struct openephys *oe = ctx;
	char err[256], why[160];
	const char *body;
	enum oe_mode mode;
	long code;

	if (oe_http_run(&oe->http, OE_REQ_STATUS, "/api/status", NULL,
	    oe->cfg.timeout_ms, &oe->dl.stopping, &code, &body, err,
	    sizeof err) != 0) {
		oe_unreachable(oe, err, cause);
		__atomic_add_fetch(&oe->attempts, 1, __ATOMIC_RELEASE);
		return -1;
	}
	if (code != 200) {
		sb_cause(cause, "%s/api/status answered HTTP %ld: is this the "
		    "Open Ephys GUI's HTTP server (http_port=)?", oe->http.base,
		    code);
		__atomic_add_fetch(&oe->attempts, 1, __ATOMIC_RELEASE);
		return -1;
	}
	if (oe_api_mode(body, &mode, why, sizeof why) != 0) {
		sb_cause(cause, "%s: %s", oe->http.base, why);
		__atomic_add_fetch(&oe->attempts, 1, __ATOMIC_RELEASE);
		return -1;
	}
	oe_set_mode(oe, mode);
	oe->status_misses = 0;
	return 0;
}

/* Read the processor list; what it lacks is said once. */
static void
oe_link_processors(struct openephys *oe, struct oe_processors *pr,
    int *listed)
{
	char err[256], why[160];
	const char *body;
	long code;

	*listed = 0;
	memset(pr, 0, sizeof *pr);
	if (oe_http_run(&oe->http, OE_REQ_PROCESSORS, "/api/processors", NULL,
	    oe->cfg.timeout_ms, &oe->dl.stopping, &code, &body, err,
	    sizeof err) != 0 || code != 200) {
		if (code != 0)
			snprintf(err, sizeof err, "HTTP %ld", code);
		oe_cause_once(oe, OE_PROCESSORS_BAD, SB_LOG_WARNING, "%s: cannot "
		    "read the GUI's signal chain (GET /api/processors: %s): "
		    "using the ports given or the defaults", oe->cfg.name, err);
		return;
	}
	if (oe_api_processors(body, pr, why, sizeof why) != 0) {
		sb_devlink_count_malformed(&oe->dl, 1);
		oe_cause_once(oe, OE_PROCESSORS_BAD, SB_LOG_WARNING, "%s: %s: "
		    "using the ports given or the defaults", oe->cfg.name, why);
		return;
	}
	*listed = 1;
}

/* Pick a port: given, else listed, else the default; say mismatches. */
static uint32_t
oe_link_port(struct openephys *oe, int given, uint32_t cfg_port,
    uint32_t listed_port, enum oe_cause cause, const char *what)
{
	if (given) {
		if (listed_port != 0 && listed_port != cfg_port)
			oe_cause_once(oe, cause, SB_LOG_WARNING, "%s: the GUI's "
			    "%s listens on %u but the load line says %u: "
			    "using %u (drop the port argument to follow the "
			    "GUI)", oe->cfg.name, what, listed_port, cfg_port,
			    cfg_port);
		return cfg_port;
	}
	return listed_port != 0 ? listed_port : cfg_port;
}

/* Resolve stim=auto from the processor list. */
static enum oe_stim_path
oe_link_path(struct openephys *oe, const struct oe_processors *pr, int listed)
{
	const struct oe_config *c = &oe->cfg;
	uint32_t u;

	if (c->stim != OE_STIM_AUTO)
		return c->stim;
	if (pr->network_events || c->network_events_port_given)
		return OE_STIM_NETWORK_EVENTS;
	if (pr->acq_board) {
		for (u = 0; u < c->units; u++)
			if (c->unit_line[u] > OE_ACQBOARD_LINES) {
				oe_cause_once(oe, OE_NO_NETWORK_EVENTS,
				    SB_LOG_WARNING, "%s: no Network Events in the "
				    "signal chain, and TTL line %u is beyond the "
				    "Acquisition Board's outputs 1-%d: no "
				    "stimulation", c->name, c->unit_line[u],
				    OE_ACQBOARD_LINES);
				return OE_STIM_NONE;
			}
		return OE_STIM_BROADCAST;
	}
	if (listed)
		oe_cause_once(oe, OE_NO_NETWORK_EVENTS, SB_LOG_WARNING, "%s: the "
		    "GUI's signal chain has no Network Events and no "
		    "Acquisition Board: no stimulation (add Network Events and "
		    "set its port to %u, or give stim=)", c->name,
		    OE_NETWORK_EVENTS_PORT);
	return OE_STIM_NONE;
}

/* Set an int option on a ZMQ socket. */
static void
oe_zmq_int(void *s, int option, int value)
{
	zmq_setsockopt(s, option, &value, sizeof value);
}

/* Open the SUB to the Event Broadcaster, with its monitor. */
static int
oe_link_open_sub(struct openephys *oe, char **cause)
{
	static unsigned serial;
	int64_t maxsize = OE_JSON_MAX;
	char endpoint[OE_HOST_LEN + 32];

	oe->sub = zmq_socket(oe->zctx, ZMQ_SUB);
	if (oe->sub == NULL) {
		sb_cause(cause, "cannot make a ZMQ socket: %s",
		    zmq_strerror(zmq_errno()));
		return -1;
	}
	oe_zmq_int(oe->sub, ZMQ_LINGER, 0);
	oe_zmq_int(oe->sub, ZMQ_RCVHWM, OE_RECV_HWM);
	oe_zmq_int(oe->sub, ZMQ_RECONNECT_IVL, 100);
	oe_zmq_int(oe->sub, ZMQ_RECONNECT_IVL_MAX, 2000);
	oe_zmq_int(oe->sub, ZMQ_TCP_KEEPALIVE, 1);
	zmq_setsockopt(oe->sub, ZMQ_MAXMSGSIZE, &maxsize, sizeof maxsize);
	/* everything: other event types are then seen and counted */
	zmq_setsockopt(oe->sub, ZMQ_SUBSCRIBE, "", 0);
	snprintf(oe->mon_endpoint, sizeof oe->mon_endpoint,
	    "inproc://openephys-monitor-%p-%u", (void *)oe,
	    __atomic_add_fetch(&serial, 1, __ATOMIC_RELAXED));
	if (zmq_socket_monitor(oe->sub, oe->mon_endpoint,
	    ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED) == 0) {
		oe->mon = zmq_socket(oe->zctx, ZMQ_PAIR);
		if (oe->mon != NULL) {
			oe_zmq_int(oe->mon, ZMQ_LINGER, 0);
			if (zmq_connect(oe->mon, oe->mon_endpoint) != 0) {
				zmq_close(oe->mon);
				oe->mon = NULL;
			}
		}
	}
	snprintf(endpoint, sizeof endpoint, "tcp://%s:%u", oe->cfg.host,
	    oe->eb_port);
	if (zmq_connect(oe->sub, endpoint) != 0) {
		sb_cause(cause, "cannot connect to the Event Broadcaster at %s: "
		    "%s", endpoint, zmq_strerror(zmq_errno()));
		return -1;
	}
	return 0;
}

/* Read the monitor's events: is the SUB connected? */
static void
oe_link_monitor(struct openephys *oe)
{
	uint8_t ev[6];
	char addr[256];
	int n, more;
	size_t len = sizeof more;
	uint16_t id;

	if (oe->mon == NULL)
		return;
	for (;;) {
		n = zmq_recv(oe->mon, ev, sizeof ev, ZMQ_DONTWAIT);
		if (n < 0)
			return;
		more = 0;
		zmq_getsockopt(oe->mon, ZMQ_RCVMORE, &more, &len);
		while (more) {
			if (zmq_recv(oe->mon, addr, sizeof addr, 0) < 0)
				break;
			zmq_getsockopt(oe->mon, ZMQ_RCVMORE, &more, &len);
		}
		if (n < 2)
			continue;
		memcpy(&id, ev, sizeof id);
		pthread_mutex_lock(&oe->lock);
		if (id == ZMQ_EVENT_CONNECTED)
			oe->eb_connected = 1;
		else if (id == ZMQ_EVENT_DISCONNECTED) {
			oe->eb_connected = 0;
			oe->eb_dropped = 1;
		}
		pthread_mutex_unlock(&oe->lock);
	}
}

/* Wait a little for the SUB to connect (the PUB drops until it has). */
static void
oe_link_wait_sub(struct openephys *oe)
{
	int64_t deadline = sb_devlink_mono_us() + (int64_t)(oe->cfg.timeout_ms <
	    OE_MONITOR_WAIT_MS ? oe->cfg.timeout_ms : OE_MONITOR_WAIT_MS) * 1000;
	zmq_pollitem_t item = { NULL, 0, ZMQ_POLLIN, 0 };
	int connected = 0;

	if (oe->mon == NULL)
		return;
	item.socket = oe->mon;
	while (!oe->dl.stopping && sb_devlink_mono_us() < deadline) {
		if (zmq_poll(&item, 1, 50) > 0)
			oe_link_monitor(oe);
		pthread_mutex_lock(&oe->lock);
		connected = oe->eb_connected;
		pthread_mutex_unlock(&oe->lock);
		if (connected)
			return;
	}
	oe_cause_once(oe, OE_EB_NOT_CONNECTED, SB_LOG_WARNING, "%s: nothing "
	    "answers on %s:%u for the Event Broadcaster: add an Event "
	    "Broadcaster to the signal chain (after the Spike Detector) and "
	    "set its port to %u, or give events_port= (still trying)",
	    oe->cfg.name, oe->cfg.host, oe->eb_port, oe->eb_port);
}

/* Close the SUB, its monitor and the REQ. */
static void
oe_link_close_sockets(struct openephys *oe)
{
	oe_stim_ne_close(oe);
	if (oe->sub != NULL) {
		zmq_socket_monitor(oe->sub, NULL, 0);
		zmq_close(oe->sub);
		oe->sub = NULL;
	}
	if (oe->mon != NULL) {
		zmq_close(oe->mon);
		oe->mon = NULL;
	}
}

/* sb-devlink handshake: the signal chain, then the sockets. */
static int
oe_link_handshake(void *ctx, char **cause)
{
	struct openephys *oe = ctx;
	struct oe_config *c = &oe->cfg;
	struct oe_processors pr;
	enum oe_stim_path path;
	uint32_t eb, ne;
	int listed;

	oe_link_close_sockets(oe);
	oe_link_processors(oe, &pr, &listed);
	if (listed && !pr.broadcaster)
		oe_cause_once(oe, OE_NO_BROADCASTER, SB_LOG_WARNING, "%s: the "
		    "GUI's signal chain shows no Event Broadcaster: add one "
		    "after the Spike Detector and set its port to %u (trying "
		    "%s:%u anyway)", c->name, c->events_port, c->host,
		    c->events_port);
	eb = oe_link_port(oe, c->events_port_given, c->events_port,
	    pr.broadcaster_port, OE_BROADCASTER_PORT, "Event Broadcaster");
	ne = oe_link_port(oe, c->network_events_port_given,
	    c->network_events_port, pr.network_events_port, OE_NE_PORT,
	    "Network Events");
	path = oe_link_path(oe, &pr, listed);
	if (path == OE_STIM_NETWORK_EVENTS && listed && !pr.network_events)
		oe_cause_once(oe, OE_NO_NETWORK_EVENTS, SB_LOG_WARNING, "%s: the "
		    "GUI's signal chain shows no Network Events: add one, with "
		    "an output plugin after it for the TTL to reach hardware, "
		    "and set its port to %u (trying %s:%u anyway)", c->name, ne,
		    c->host, ne);
	pthread_mutex_lock(&oe->lock);
	oe->eb_port = eb;
	oe->ne_port = ne;
	oe->path = path;
	oe->eb_found = pr.broadcaster;
	oe->ne_found = pr.network_events;
	oe->eb_connected = 0;
	pthread_mutex_unlock(&oe->lock);
	if (oe_link_open_sub(oe, cause) != 0) {
		__atomic_add_fetch(&oe->attempts, 1, __ATOMIC_RELEASE);
		return -1;
	}
	if (path == OE_STIM_NETWORK_EVENTS && oe_stim_ne_open(oe) != 0) {
		sb_cause(cause, "cannot make the Network Events socket: %s",
		    zmq_strerror(zmq_errno()));
		__atomic_add_fetch(&oe->attempts, 1, __ATOMIC_RELEASE);
		return -1;
	}
	oe_link_wait_sub(oe);
	oe->eb_dropped = 0;
	oe->acquire_gen = 0;	/* ask again on this connection */
	oe->next_status_us = sb_devlink_mono_us() + (int64_t)c->heartbeat_ms *
	    1000;
	return 0;
}

/* sb-devlink disconnect: close everything; the mode is unknown. */
static void
oe_link_disconnect(void *ctx)
{
	struct openephys *oe = ctx;

	oe_http_cancel(&oe->http);
	oe_stim_reset(oe);
	oe_link_close_sockets(oe);
	pthread_mutex_lock(&oe->lock);
	oe->mode = OE_MODE_UNKNOWN;
	oe->eb_connected = 0;
	pthread_mutex_unlock(&oe->lock);
	/* stop() waits for nothing that cannot come now */
	pthread_mutex_lock(&oe->stop_lock);
	if (oe->idle_wanted) {
		oe->idle_wanted = 0;
		oe->idle_done = 1;
		pthread_cond_broadcast(&oe->stop_cond);
	}
	pthread_mutex_unlock(&oe->stop_lock);
}

/* Emit one spike (or count why not). */
static void
oe_link_emit(struct openephys *oe, uint32_t unit, int64_t t_us)
{
	struct sb_event ev;
	int64_t stim;
	int rc = -2;

	memset(&ev, 0, sizeof ev);
	ev.t_us = t_us;
	ev.kind = SB_EV_SPIKE;
	ev.index = unit;
	ev.aux = SB_SPIKE_SPONTANEOUS;
	stim = __atomic_load_n(&oe->unit_stim_us[unit], __ATOMIC_RELAXED);
	if (oe->cfg.evoked_ms > 0 && stim != 0 && t_us >= stim && t_us -
	    stim <= (int64_t)oe->cfg.evoked_ms * 1000)
		ev.aux = SB_SPIKE_STIMULATED;
	pthread_mutex_lock(&oe->em_lock);
	if (oe->em != NULL)
		rc = oe->host->emit(oe->em, &ev);
	pthread_mutex_unlock(&oe->em_lock);
	if (rc == 0) {
		sb_devlink_count_rx(&oe->dl, 1);
		return;
	}
	sb_devlink_count_dropped(&oe->dl, 1);
	if (rc == -2)
		oe_cause_once(oe, OE_NOT_STARTED, SB_LOG_WARNING, "%s: spikes "
		    "arrived while the population was stopped (counted as "
		    "dropped)", oe->cfg.name);
	else
		oe_cause_once(oe, OE_EMIT_FULL, SB_LOG_WARNING, "%s: the "
		    "console's event ring is full: spikes are dropped "
		    "(counted in the link pane)", oe->cfg.name);
}

/*
 * A TTL event's line (0-based, as the Event Broadcaster sends it) is the
 * Network Events / ACQBOARD TRIGGER line (1-based) minus this. Inferred
 * from the GUI's 0-based TTL lines and 1-based "TTL Line=1..256" [U]:
 * check against a real GUI.
 */
#define OE_TTL_ECHO_LINE_BASE 1
/* A rising edge this long after a pulse was sent is not its echo. */
#define OE_TTL_ECHO_MAX_US 1000000

/*
 * A TTL line went high (the GUI's own record of a pulse). A pulse sent on
 * that line shortly before is anchored at the TTL's sample time, mapped
 * as the spikes are, if that is earlier than when it was sent: the GUI
 * stamps a TTL with the first sample of the next block it processes, and
 * a GUI (or this machine) running behind stamps it, and the spikes it
 * evokes, with samples that map to before the send. Spikes are then
 * evoked from the TTL on, in the spikes' own time base.
 */
static void
oe_link_ttl_echo(struct openephys *oe, const struct oe_event *ev,
    int64_t arrival_us)
{
	uint32_t u, line = ev->line + OE_TTL_ECHO_LINE_BASE;
	int64_t t, sent;
	int reset;

	if (ev->state != 1 || oe->unit_stim_us == NULL)
		return;
	t = oe_clock_map(&oe->clock, ev->stream, ev->sample_rate,
	    ev->sample_number, arrival_us, &reset);
	for (u = 0; u < oe->cfg.units; u++) {
		if (oe->cfg.unit_line[u] != line)
			continue;
		sent = __atomic_load_n(&oe->unit_stim_us[u], __ATOMIC_RELAXED);
		if (sent != 0 && t < sent && arrival_us - sent <
		    OE_TTL_ECHO_MAX_US && sent - t < OE_TTL_ECHO_MAX_US)
			__atomic_store_n(&oe->unit_stim_us[u], t,
			    __ATOMIC_RELAXED);
	}
}

/* One message of the Event Broadcaster, arrived at arrival_us. */
static void
oe_link_message(struct openephys *oe, const void *type, size_t type_len,
    const char *json, size_t json_len, int64_t arrival_us)
{
	struct oe_event ev;
	char why[160];
	uint32_t unit;
	int64_t t;
	int rc, reset;

	rc = oe_event_parse(type, type_len, json, json_len, &ev, why,
	    sizeof why);
	if (rc != 0) {
		sb_devlink_count_malformed(&oe->dl, 1);
		oe_cause_once(oe, (enum oe_cause)rc, SB_LOG_WARNING, "%s: the "
		    "Event Broadcaster sent %s (ignored; further ones are "
		    "counted as malformed in the link pane)", oe->cfg.name, why);
		return;
	}
	if (ev.kind == OE_EV_TTL) {
		__atomic_add_fetch(&oe->ttl_in, 1, __ATOMIC_RELAXED);
		oe_link_ttl_echo(oe, &ev, arrival_us);
		return;
	}
	rc = oe_event_unit(&oe->cfg, &ev, &unit, why, sizeof why);
	if (rc == OE_OTHER_STREAM) {
		oe_cause_once(oe, OE_OTHER_STREAM, SB_LOG_INFO, "%s: ignoring "
		    "%s", oe->cfg.name, why);
		return;
	}
	if (rc != 0) {
		sb_devlink_count_out_of_range(&oe->dl, 1);
		oe_cause_once(oe, (enum oe_cause)rc, SB_LOG_WARNING, "%s: a "
		    "spike on %s (ignored; further ones are counted as out of "
		    "range)", oe->cfg.name, why);
		return;
	}
	t = oe_clock_map(&oe->clock, ev.stream, ev.sample_rate,
	    ev.sample_number, arrival_us, &reset);
	__atomic_store_n(&oe->drift_ppb, (int64_t)llround(oe_clock_drift_ppm(
	    &oe->clock) * 1e3), __ATOMIC_RELAXED);
	if (reset && oe->clock.resets > 1)
		oe_cause_once(oe, OE_CLOCK_RESET, SB_LOG_INFO, "%s: stream '%s' "
		    "started its sample numbers over (a new acquisition): its "
		    "clock mapping starts over", oe->cfg.name, ev.stream);
	oe_link_emit(oe, unit, t);
}

/* Discard the rest of a multi-frame message; how many frames it had. */
static unsigned
oe_link_drain_frames(void *s)
{
	zmq_msg_t part;
	unsigned n = 0;
	int more;

	for (;;) {
		zmq_msg_init(&part);
		if (zmq_msg_recv(&part, s, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&part);
			break;
		}
		n++;
		more = zmq_msg_more(&part);
		zmq_msg_close(&part);
		if (!more)
			break;
	}
	return n;
}

/* Read what the SUB has (at most a batch): 0, or -2 with *cause. */
static int
oe_link_receive(struct openephys *oe, char **cause)
{
	zmq_msg_t type, body;
	unsigned i, extra;
	int64_t arrival;
	char why[96];

	for (i = 0; i < OE_RECV_BATCH; i++) {
		zmq_msg_init(&type);
		if (zmq_msg_recv(&type, oe->sub, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&type);
			if (zmq_errno() == EAGAIN || zmq_errno() == EINTR)
				return 0;
			sb_cause(cause, "the Event Broadcaster's socket failed: "
			    "%s", zmq_strerror(zmq_errno()));
			return -2;
		}
		arrival = oe_session_now(oe);
		if (!zmq_msg_more(&type)) {
			sb_devlink_count_malformed(&oe->dl, 1);
			oe_cause_once(oe, OE_BAD_FRAMES, SB_LOG_WARNING, "%s: the "
			    "Event Broadcaster sent a message of 1 frame (2 "
			    "expected: type and JSON; ignored, further ones "
			    "are counted as malformed)", oe->cfg.name);
			zmq_msg_close(&type);
			continue;
		}
		zmq_msg_init(&body);
		if (zmq_msg_recv(&body, oe->sub, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&type);
			zmq_msg_close(&body);
			continue;
		}
		if (zmq_msg_more(&body)) {
			extra = oe_link_drain_frames(oe->sub);
			sb_devlink_count_malformed(&oe->dl, 1);
			snprintf(why, sizeof why, "%u", extra + 2);
			oe_cause_once(oe, OE_BAD_FRAMES, SB_LOG_WARNING, "%s: the "
			    "Event Broadcaster sent a message of %s frames (2 "
			    "expected: type and JSON; ignored, further ones "
			    "are counted as malformed)", oe->cfg.name, why);
		} else
			oe_link_message(oe, zmq_msg_data(&type),
			    zmq_msg_size(&type), zmq_msg_data(&body),
			    zmq_msg_size(&body), arrival);
		zmq_msg_close(&type);
		zmq_msg_close(&body);
	}
	return 0;
}

/*
 * A status poll came back: the mode, or a miss. 0, or -2 when the GUI is
 * gone: nothing listens on its port (closed, or its HTTP server turned
 * off), OE_STATUS_MISSES polls in a row got no answer, or it restarted
 * between two polls (its Event Broadcaster dropped our connection and it
 * is IDLE now while it was acquiring): reconnecting reads the signal
 * chain again and starts acquisition again.
 */
static int
oe_link_status_done(struct openephys *oe, long code, const char *body,
    const char *err, char **cause)
{
	enum oe_mode mode, old = oe->mode;
	char why[160];

	if (code == 200 && oe_api_mode(body, &mode, why, sizeof why) == 0) {
		oe->status_misses = 0;
		if (mode == OE_MODE_IDLE && old != OE_MODE_IDLE &&
		    oe->eb_dropped) {
			sb_cause(cause, "the GUI restarted (its Event Broadcaster "
			    "dropped the connection and it is IDLE)");
			return -2;
		}
		oe->eb_dropped = 0;
		oe_set_mode(oe, mode);
		return 0;
	}
	if (code != 0) {
		sb_devlink_count_malformed(&oe->dl, 1);
		if (code == 200)
			oe_cause_once(oe, OE_STATUS_BAD, SB_LOG_WARNING, "%s: %s",
			    oe->cfg.name, why);
		else
			oe_cause_once(oe, OE_STATUS_BAD, SB_LOG_WARNING, "%s: "
			    "/api/status answered HTTP %ld", oe->cfg.name, code);
	}
	if (code == 0 && oe_http_refused(&oe->http, OE_REQ_STATUS)) {
		oe_unreachable(oe, err, cause);
		return -2;
	}
	if (++oe->status_misses < OE_STATUS_MISSES)
		return 0;
	if (code != 0)
		sb_cause(cause, "the GUI's /api/status makes no sense any more "
		    "(HTTP %ld)", code);
	else
		oe_unreachable(oe, err, cause);
	return -2;
}

/* Our PUT /api/status came back. */
static void
oe_link_mode_done(struct openephys *oe, long code, const char *body,
    const char *err, enum oe_mode asked)
{
	if (code == 200) {
		if (asked == OE_MODE_ACQUIRE) {
			oe->we_started = 1;
			sb_devlink_log(&oe->dl, SB_LOG_INFO, "%s: started the "
			    "GUI's acquisition", oe->cfg.name);
		} else
			oe->we_started = 0;
		oe_set_mode(oe, asked);
	} else if (code != 0)
		sb_devlink_log(&oe->dl, SB_LOG_ERROR, "%s: the GUI refused to "
		    "%s (HTTP %ld: %.80s): %s", oe->cfg.name, asked ==
		    OE_MODE_ACQUIRE ? "start acquiring" : "stop acquiring",
		    code, body, asked == OE_MODE_ACQUIRE ? "is there a source "
		    "in its signal chain? press play in the GUI to see why" :
		    "press stop in the GUI");
	else
		sb_devlink_log(&oe->dl, SB_LOG_ERROR, "%s: no answer to %s "
		    "(%s)", oe->cfg.name, asked == OE_MODE_ACQUIRE ?
		    "starting acquisition" : "stopping acquisition", err);
	if (asked == OE_MODE_IDLE) {
		pthread_mutex_lock(&oe->stop_lock);
		oe->idle_wanted = 0;
		oe->idle_done = 1;
		pthread_cond_broadcast(&oe->stop_cond);
		pthread_mutex_unlock(&oe->stop_lock);
	}
}

/* Start or stop acquisition when the population asks. */
static void
oe_link_control(struct openephys *oe)
{
	enum oe_mode mode;
	uint64_t gen = __atomic_load_n(&oe->start_gen, __ATOMIC_ACQUIRE);
	int want = __atomic_load_n(&oe->want_acquire, __ATOMIC_ACQUIRE);
	int idle;

	if (oe_http_busy(&oe->http, OE_REQ_MODE))
		return;
	pthread_mutex_lock(&oe->lock);
	mode = oe->mode;
	pthread_mutex_unlock(&oe->lock);
	pthread_mutex_lock(&oe->stop_lock);
	idle = oe->idle_wanted;
	pthread_mutex_unlock(&oe->stop_lock);
	if (idle) {
		if (oe->we_started && mode == OE_MODE_ACQUIRE &&
		    oe_http_start(&oe->http, OE_REQ_MODE, "/api/status",
		    "{\"mode\":\"IDLE\"}", oe->cfg.start_timeout_ms) == 0) {
			oe->mode_asked = OE_MODE_IDLE;
			return;
		}
		/* not ours to stop (or recording): leave it */
		pthread_mutex_lock(&oe->stop_lock);
		oe->idle_wanted = 0;
		oe->idle_done = 1;
		pthread_cond_broadcast(&oe->stop_cond);
		pthread_mutex_unlock(&oe->stop_lock);
		return;
	}
	if (!oe->cfg.control || !want || oe->acquire_gen == gen ||
	    mode == OE_MODE_UNKNOWN)
		return;
	oe->acquire_gen = gen;
	if (mode != OE_MODE_IDLE)
		return;		/* acquiring already (maybe recording) */
	if (oe_http_start(&oe->http, OE_REQ_MODE, "/api/status",
	    "{\"mode\":\"ACQUIRE\"}", oe->cfg.start_timeout_ms) == 0)
		oe->mode_asked = OE_MODE_ACQUIRE;
}

/* Collect finished HTTP requests: 0, or -2 with *cause. */
static int
oe_link_http(struct openephys *oe, char **cause)
{
	const char *body;
	char err[256];
	long code;

	oe_http_perform(&oe->http);
	if (oe_http_result(&oe->http, OE_REQ_STATUS, &code, &body, err,
	    sizeof err) && oe_link_status_done(oe, code, body, err,
	    cause) != 0)
		return -2;
	if (oe_http_result(&oe->http, OE_REQ_MODE, &code, &body, err,
	    sizeof err))
		oe_link_mode_done(oe, code, body, err, oe->mode_asked);
	if (oe_http_result(&oe->http, OE_REQ_MESSAGE, &code, &body, err,
	    sizeof err))
		oe_stim_message_done(oe, code, err);
	return 0;
}

/* The heartbeat: a status poll every heartbeat_ms. */
static void
oe_link_heartbeat(struct openephys *oe, int64_t now)
{
	if (now < oe->next_status_us || oe_http_busy(&oe->http, OE_REQ_STATUS))
		return;
	oe->next_status_us = now + (int64_t)oe->cfg.heartbeat_ms * 1000;
	oe_http_start(&oe->http, OE_REQ_STATUS, "/api/status", NULL,
	    oe->cfg.timeout_ms);
}

/* How long work() may wait, in ms. */
static long
oe_link_wait_ms(struct openephys *oe, int64_t now)
{
	int64_t until = now + OE_WORK_WAIT_MS * 1000, due;

	if (oe->next_status_us < until)
		until = oe->next_status_us;
	due = oe_stim_next_due(oe);
	if (due != 0 && due < until)
		until = due;
	return until <= now ? 0 : (long)((until - now + 999) / 1000);
}

/* sb-devlink work: one pass. */
static int
oe_link_work(void *ctx, char **cause)
{
	struct openephys *oe = ctx;
	zmq_pollitem_t items[OE_POLL_ITEMS];
	int fds[OE_POLL_ITEMS];
	short events[OE_POLL_ITEMS];
	int n = 0, nfd, i, isub, imon = -1, ireq = -1, iwake, rc;
	int64_t now = sb_devlink_mono_us();
	long wait_ms = oe_link_wait_ms(oe, now);

	memset(items, 0, sizeof items);
	isub = n;
	items[n].socket = oe->sub;
	items[n++].events = ZMQ_POLLIN;
	if (oe->mon != NULL) {
		imon = n;
		items[n].socket = oe->mon;
		items[n++].events = ZMQ_POLLIN;
	}
	if (oe->req != NULL && oe->ne.active) {
		ireq = n;
		items[n].socket = oe->req;
		items[n++].events = ZMQ_POLLIN;
	}
	iwake = n;
	items[n].fd = oe->dl.wake_fd[0];
	items[n++].events = ZMQ_POLLIN;
	nfd = oe_http_wait_fds(&oe->http, fds, events, OE_POLL_ITEMS - n,
	    &wait_ms);
	for (i = 0; i < nfd; i++) {
		items[n].fd = fds[i];
		items[n].events = (short)((events[i] & POLLIN ? ZMQ_POLLIN :
		    0) | (events[i] & POLLOUT ? ZMQ_POLLOUT : 0) |
		    (events[i] & POLLPRI ? ZMQ_POLLERR : 0));
		n++;
	}
	rc = zmq_poll(items, n, wait_ms);
	if (rc < 0 && zmq_errno() != EINTR) {
		sb_cause(cause, "zmq_poll: %s", zmq_strerror(zmq_errno()));
		return -2;
	}
	if (rc > 0 && (items[iwake].revents & ZMQ_POLLIN)) {
		/* a stimulation queued: out first, spikes can wait 0.1 ms */
		sb_devlink_drain_wake(&oe->dl);
		oe_stim_work(oe, sb_devlink_mono_us());
	}
	if (rc > 0 && (items[isub].revents & ZMQ_POLLIN) &&
	    oe_link_receive(oe, cause) != 0)
		return -2;
	if (imon >= 0 && rc > 0 && (items[imon].revents & ZMQ_POLLIN))
		oe_link_monitor(oe);
	if (ireq >= 0 && rc > 0 && (items[ireq].revents & ZMQ_POLLIN))
		oe_stim_ne_receive(oe);
	if (oe_link_http(oe, cause) != 0)
		return -2;
	now = sb_devlink_mono_us();
	oe_link_heartbeat(oe, now);
	oe_link_control(oe);
	if (oe->cfg.rhs && !oe->rhs_sent && (oe->mode == OE_MODE_ACQUIRE ||
	    oe->mode == OE_MODE_RECORD)) {
		oe_stim_rhs_setup(oe);
		oe->rhs_sent = 1;
	}
	oe_stim_work(oe, now);
	return 0;
}

const struct sb_devlink_ops oe_link_ops = {
	.connect = oe_link_connect,
	.handshake = oe_link_handshake,
	.work = oe_link_work,
	.disconnect = oe_link_disconnect,
};
