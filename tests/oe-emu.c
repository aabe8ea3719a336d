/*
 * oe-emu.c: the Open Ephys GUI as a client sees it over the network, on
 * loopback, with a simulated culture behind it, for testing without the
 * GUI or an acquisition system.
 *
 *   oe-emu [--http-port P] [--events-port P] [--network-events-port P]
 *       [--electrodes N] [--sample-rate HZ] [--spike-rate HZ] [--seed N]
 *       [--block-samples N] [--stream NAME] [--electrode-index]
 *       [--control FIFO] [--no-network-events]
 *
 * Ports default to the GUI's (HTTP 37497, Event Broadcaster 5557, Network
 * Events 5556); 0 picks a free one. Everything binds to 127.0.0.1 only.
 * stdout gets one line per event, flushed:
 *   ready HTTP EVENTS NETWORK_EVENTS   listening (again after a restart);
 *                                      NETWORK_EVENTS is 0 without them
 *   mode IDLE|ACQUIRE|RECORD T_US      the mode changed; T_US (CLOCK_MONOTONIC
 *                                      microseconds) is, for ACQUIRE and
 *                                      RECORD, when sample 0 of the running
 *                                      acquisition was taken, for IDLE now
 *   triggered SOURCE DETAIL T_US       a trigger reached the emulated
 *                                      hardware: SOURCE is http or
 *                                      network-events, DETAIL one word:
 *                                      ttl:line=L,sample=S,electrodes=E or
 *                                      acqboard:line=L,ms=M,sample=S,
 *                                      electrodes=E (E: 0-based electrodes
 *                                      joined by '+', or none); T_US is
 *                                      when the command was received
 *   stimconfig chan=C din=D pulses=P shape=S   an RHS message was applied
 *   stats http=N events=N spikes=N ttl=N triggers=N bad=N mode=M
 *                                      on "stats", and once at exit
 * stderr gets one line per broadcast message, per refused request and per
 * fault. SIGTERM, SIGINT, "quit" or the death of the parent end it cleanly
 * (sockets closed, FIFO removed, exit status 0).
 *
 * Control channel: FIFO is created (mkfifo) and read line by line:
 *   restart [MS]  close every socket (clients see the connections drop),
 *                 stop acquiring, and after MS ms (default 0) listen again
 *                 on the same ports, idle, and print "ready" again
 *   badjson       the next event message carries a JSON frame that is not
 *                 JSON (the real one cut in half)
 *   badframe [N]  the next event message has N frames (default 1: the type
 *                 frame alone; N >= 3: the JSON frame repeated)
 *   stall MS      the HTTP API answers nothing for MS ms (connections are
 *                 accepted by the kernel and wait); ZMQ goes on
 *   lag MS        the signal chain runs MS ms behind: no block is
 *                 processed (published) for MS ms, then every block due
 *                 at once; a TTL meanwhile is stamped with the first
 *                 sample of the next block, i.e. up to MS ms in the past
 *   stats         print the stats line
 *   quit          end as on SIGTERM
 * Counters: http = requests answered, events = messages published, spikes
 * and ttl = well-formed ones of each type, bad = malformed ones (events =
 * spikes + ttl + bad), triggers = "triggered" lines. They survive restarts.
 *
 * What is reproduced, from the GUI's protocol as documented (a
 * reimplementation; no upstream code):
 * - HTTP, JSON in and out: GET/PUT /api/status {"mode": ...}, GET
 *   /api/processors[/ID], PUT /api/message {"text": ...}, GET/PUT
 *   /api/recording[/106], GET /api/latency, PUT /api/window
 *   {"command":"quit"}. A body that is not the JSON expected gets 400, an
 *   unknown path 404, a wrong method 405, a body over 64 KiB 413, endpoints
 *   of the real API not emulated here 501; errors are {"error": "..."}.
 * - Event Broadcaster: a PUB; each message is two frames, a uint16 in host
 *   order (0 TTL, 1 spike) and a JSON object:
 *     spike: event_type "spike", stream, source_node, electrode,
 *            num_channels (1), sample_rate, sample_number, sorted_id (0),
 *            amp1
 *     ttl:   event_type "ttl", stream, source_node, sample_rate,
 *            channel_name, sample_number, line, state
 *   If the port is taken at start the next free one is used, as the plugin
 *   does.
 * - Network Events: a REP with the plain-text commands and replies of the
 *   plugin; every request is also broadcast to the processors, so
 *   "ACQBOARD TRIGGER 1 10" works there too (it is answered NotHandled).
 * - Broadcast messages (only while acquiring): ACQBOARD TRIGGER LINE MS,
 *   RHS STIM_TRIGGER STREAM CHAN DIN, RHS STIM_SHAPE STREAM CHAN PULSES
 *   SHAPE.
 * - A signal chain: Acquisition Board (100) -> Bandpass Filter (101) ->
 *   Spike Detector (102) -> Network Events (103) -> Acq Board Output (104)
 *   -> Event Broadcaster (105) -> Record Node (106).
 * - Data moves in blocks of --block-samples (default 1024): the events of
 *   block k (samples k*B .. k*B+B-1 since the acquisition started, which
 *   resets them to 0) are published when its last sample is due in real
 *   time; within a block TTL events come first, then spikes, each in
 *   sample order.
 * - The culture: every electrode fires as a Poisson process at
 *   --spike-rate (default 5 Hz), amp1 40-100 uV. A stimulation of an
 *   electrode evokes one spike on it 2-10 ms later (amp1 80-160 uV) and,
 *   with probability 1/2 each, one on its grid neighbours (electrodes laid
 *   out row by row, ceil(sqrt(N)) to a row; up, down, left, right).
 *
 * Not known from the documentation, so decided here (check against a real
 * GUI):
 * - electrode is the name "SE<n>" (n from 1); --electrode-index makes it
 *   the 0-based index as a number. sample_rate is a JSON real, line is
 *   0-based (Network Events' Line=1 is line 0), state is true/false.
 * - Wiring: TTL line L (from Network Events, through Acq Board Output) and
 *   board output L (ACQBOARD TRIGGER) both drive the stimulator's digital
 *   input L-1. A rising edge on it stimulates the RHS channels bound to
 *   that input by STIM_TRIGGER (channel C is electrode C) that have
 *   pulses > 0; if no channel is bound to it, electrode L-1. STIM_TRIGGER
 *   and STIM_SHAPE only configure: they stimulate nothing themselves.
 *   STREAM is 0 or the stream's name; CHAN 0..15 and below --electrodes.
 * - ACQBOARD TRIGGER's pulse also comes back on the board's TTL input
 *   (channel_name "Acquisition Board TTL", source_node 100): line L-1 high
 *   at the sample the message arrived, low MS ms later. Network Events'
 *   TTLs are published with channel_name "Network Events TTL",
 *   source_node 103, stamped with the first sample of the next block to be
 *   processed; a State=1 on a line already high is no edge and stimulates
 *   nothing.
 * - A TTL command whose Line or State is missing or not a number, or whose
 *   State is not 0 or 1, gets NotHandled; Line outside 1..256 gets
 *   InvalidChannel. Requests are case-sensitive; trailing spaces and line
 *   ends are ignored.
 * - Junk bytes on the Network Events port are libzmq's business, as in
 *   the plugin: a legacy-ZMTP peer's garbage can make the REP socket send
 *   the next reply to that peer, so a client must time out and ask again.
 * - PUT /api/message while not acquiring answers 200 with
 *   {"info": "not acquiring: message ignored"}; a message no processor
 *   understands, or with bad arguments, is logged and answered 200.
 * - /api/processors lists {"id", "name", "predecessor", "streams":
 *   [{"name", "source_id", "sample_rate", "channel_count"}],
 *   "parameters": [{"name", "type", "value"}]}; parameter names are
 *   invented. GetRecordingPath answers the parent directory; experiment
 *   and recording numbers are 0 until the first recording, then count from
 *   1 (a new experiment per acquisition that records).
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>
#include <zmq.h>

#include "sb-rng.h"
#include "emu-util.h"

#define OE_EMU_BODY_MAX 65536		/* longest HTTP body accepted */
#define OE_EMU_DISCARD_MAX (16U << 20)	/* longer ones are read away */
#define OE_EMU_TEXT_MAX 1024		/* longest request or message */
#define OE_EMU_PENDING_MAX 1000000	/* events waiting for their block */
#define OE_EMU_PORT_SEARCH 100		/* Event Broadcaster: ports tried */
#define OE_EMU_REOPEN_NS 5000000000ULL	/* a restart retries so long */
#define OE_EMU_TTL_LINES 256
#define OE_EMU_DINS 8
#define OE_EMU_RHS_CHANNELS 16
#define OE_EMU_POLL_MAX (FD_SETSIZE + 4)

/* The processors' node ids. */
#define OE_EMU_NODE_BOARD 100
#define OE_EMU_NODE_FILTER 101
#define OE_EMU_NODE_DETECTOR 102
#define OE_EMU_NODE_NETWORK 103
#define OE_EMU_NODE_OUTPUT 104
#define OE_EMU_NODE_BROADCASTER 105
#define OE_EMU_NODE_RECORD 106

enum oe_emu_mode {
	OE_EMU_IDLE,
	OE_EMU_ACQUIRE,
	OE_EMU_RECORD,
};

static const char *const oe_emu_modes[] = { "IDLE", "ACQUIRE", "RECORD" };

static const char *const oe_emu_shapes[] = {
	"BIPHASIC", "BIPHASIC_WITH_DELAY", "TRIPHASIC", "MONOPHASIC",
};
#define OE_EMU_NSHAPES (sizeof oe_emu_shapes / sizeof oe_emu_shapes[0])

/* A TTL event or a spike waiting for its block to be processed. */
struct oe_emu_event {
	int64_t		 sample;
	int		 ttl;		/* 1: TTL, 0: spike */
	int		 index;		/* TTL line or electrode, 0-based */
	int		 state;
	int		 node;
	double		 amp;
};

/* An RHS channel's stimulation settings. */
struct oe_emu_rhs {
	int		 din;		/* -1: not bound */
	int		 pulses;
	int		 shape;
};

/* An HTTP request being read. */
struct oe_emu_req {
	char		*body;
	size_t		 len;
	size_t		 too_big;
};

struct oe_emu {
	/* Options. */
	int		 http_port, events_port, network_port;
	int		 network_events, electrode_index;
	int		 electrodes, block;
	double		 sample_rate, spike_rate;
	uint64_t	 seed;
	const char	*stream, *control;

	/* The sockets; down while a restart waits. */
	void		*zctx, *pub, *rep;
	struct MHD_Daemon *mhd;
	int		 up, first_open;
	uint64_t	 reopen_ns, reopen_give_up_ns;
	uint64_t	 stall_until_ns;
	uint64_t	 lag_until_ns;	/* no block processed before */

	/* Control FIFO and the signal pipe. */
	struct emu_control ctl;
	int		 sigpipe[2];

	/* Acquisition. */
	enum oe_emu_mode mode;
	uint64_t	 start_ns;
	int64_t		 published;	/* first sample of the next block */
	int64_t		*next_spike;	/* per electrode */
	struct oe_emu_event *pending;
	size_t		 npending, cap_pending;
	int		 overflow_logged;
	int		 line_high[OE_EMU_TTL_LINES];
	struct oe_emu_rhs rhs[OE_EMU_RHS_CHANNELS];
	struct sb_rng	 rng;

	/* Recording. */
	json_t		*recording;
	int		 experiment, recording_number, recorded_this_run;

	/* Faults to play on the next event message. */
	int		 bad_json, bad_frames;

	/* Counters. */
	uint64_t	 http, events, spikes, ttls, triggers, bad;
};

/* Set by SIGTERM/SIGINT, "quit" or /api/window; -1 on a fatal error. */
static volatile sig_atomic_t oe_emu_stop;
static int oe_emu_sigwrite = -1;

/* Signal handler: ask the loop to end, and wake it. */
static void
oe_emu_signal(int sig)
{
	int	saved = errno;
	char	c = 1;

	oe_emu_stop = sig;
	if (oe_emu_sigwrite != -1 && write(oe_emu_sigwrite, &c, 1) == -1) {
		/* The pipe is full: the loop wakes anyway. */
	}
	errno = saved;
}

/* Parse a whole string as an integer in lo..hi; 0 or -1. */
static int
oe_emu_int(const char *s, long lo, long hi, long *out)
{
	char	*end;
	long	 v;

	if (s == NULL || *s == '\0')
		return (-1);
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return (-1);
	*out = v;
	return (0);
}

/* Is the string the mode's name? The mode or -1. */
static int
oe_emu_mode_parse(const char *s)
{
	size_t	i;

	for (i = 0; i < sizeof oe_emu_modes / sizeof oe_emu_modes[0]; i++) {
		if (strcmp(s, oe_emu_modes[i]) == 0)
			return ((int)i);
	}
	return (-1);
}

/* Samples acquired since the acquisition started, at time now. */
static int64_t
oe_emu_acquired(const struct oe_emu *e, uint64_t now)
{
	if (e->mode == OE_EMU_IDLE || now < e->start_ns)
		return (0);
	return ((int64_t)((double)(now - e->start_ns) * 1e-9 *
	    e->sample_rate));
}

/* Queue an event for its block; dropped (logged once) past the limit. */
static void
oe_emu_queue(struct oe_emu *e, const struct oe_emu_event *ev)
{
	struct oe_emu_event	*p;
	size_t			 cap;

	if (e->npending >= OE_EMU_PENDING_MAX) {
		if (!e->overflow_logged)
			emu_log("%d events wait for their block: more are "
			    "dropped (lower --spike-rate)", OE_EMU_PENDING_MAX);
		e->overflow_logged = 1;
		return;
	}
	if (e->npending == e->cap_pending) {
		cap = e->cap_pending == 0 ? 256 : e->cap_pending * 2;
		if ((p = realloc(e->pending, cap * sizeof *p)) == NULL) {
			emu_log("out of memory: event dropped");
			return;
		}
		e->pending = p;
		e->cap_pending = cap;
	}
	e->pending[e->npending++] = *ev;
}

/* Queue a spike on an electrode. */
static void
oe_emu_queue_spike(struct oe_emu *e, int electrode, int64_t sample,
    double amp)
{
	struct oe_emu_event	ev;

	memset(&ev, 0, sizeof ev);
	ev.sample = sample;
	ev.index = electrode;
	ev.node = OE_EMU_NODE_DETECTOR;
	ev.amp = amp;
	oe_emu_queue(e, &ev);
}

/* Queue a TTL event on a 0-based line from a node. */
static void
oe_emu_queue_ttl(struct oe_emu *e, int line, int state, int node,
    int64_t sample)
{
	struct oe_emu_event	ev;

	memset(&ev, 0, sizeof ev);
	ev.sample = sample;
	ev.ttl = 1;
	ev.index = line;
	ev.state = state;
	ev.node = node;
	oe_emu_queue(e, &ev);
}

/* Samples until an electrode's next spontaneous spike. */
static int64_t
oe_emu_interval(struct oe_emu *e)
{
	double	gap;

	if (e->spike_rate <= 0)
		return (INT64_MAX / 2);
	gap = ceil(sb_rng_exp(&e->rng) * e->sample_rate / e->spike_rate);
	if (!(gap >= 1))
		gap = 1;
	if (gap > (double)(INT64_MAX / 4))
		gap = (double)(INT64_MAX / 4);
	return ((int64_t)gap);
}

/* An evoked spike on an electrode 2-10 ms after sample. */
static void
oe_emu_evoked_spike(struct oe_emu *e, int electrode, int64_t sample)
{
	int64_t	lo, hi;

	lo = (int64_t)ceil(0.002 * e->sample_rate);
	hi = (int64_t)floor(0.010 * e->sample_rate);
	if (hi < lo)
		hi = lo;
	oe_emu_queue_spike(e, electrode, sample + lo +
	    (int64_t)sb_rng_below(&e->rng, (uint32_t)(hi - lo + 1)),
	    80.0 + 80.0 * sb_rng_uniform(&e->rng));
}

/* The culture's answer to a stimulation of an electrode at sample. */
static void
oe_emu_evoke(struct oe_emu *e, int electrode, int64_t sample)
{
	int	cols, row, col, n, i;
	int	nb[4];

	cols = (int)ceil(sqrt((double)e->electrodes));
	row = electrode / cols;
	col = electrode % cols;
	n = 0;
	if (row > 0)
		nb[n++] = electrode - cols;
	if (electrode + cols < e->electrodes)
		nb[n++] = electrode + cols;
	if (col > 0)
		nb[n++] = electrode - 1;
	if (col < cols - 1 && electrode + 1 < e->electrodes)
		nb[n++] = electrode + 1;
	oe_emu_evoked_spike(e, electrode, sample);
	for (i = 0; i < n; i++) {
		if (sb_rng_uniform(&e->rng) < 0.5)
			oe_emu_evoked_spike(e, nb[i], sample);
	}
}

/* Append an electrode to a '+'-joined list. */
static void
oe_emu_list_add(char *list, size_t len, int electrode)
{
	size_t	used = strlen(list);

	if (used < len)
		snprintf(list + used, len - used, "%s%d", used > 0 ? "+" : "",
		    electrode);
}

/*
 * A rising edge on the stimulator's input wired to line (1-based) at
 * sample: stimulate what is bound to it; the electrodes into list.
 */
static void
oe_emu_stimulate(struct oe_emu *e, int line, int64_t sample, char *list,
    size_t len)
{
	int	c, bound = 0;

	list[0] = '\0';
	if (line >= 1 && line <= OE_EMU_DINS) {
		for (c = 0; c < OE_EMU_RHS_CHANNELS; c++) {
			if (e->rhs[c].din != line - 1)
				continue;
			bound = 1;
			if (e->rhs[c].pulses == 0 || c >= e->electrodes)
				continue;
			oe_emu_evoke(e, c, sample);
			oe_emu_list_add(list, len, c);
		}
	}
	if (!bound && line - 1 < e->electrodes) {
		oe_emu_evoke(e, line - 1, sample);
		oe_emu_list_add(list, len, line - 1);
	}
	if (list[0] == '\0')
		snprintf(list, len, "none");
}

/* Print a "triggered" line and count it. */
static void
oe_emu_triggered(struct oe_emu *e, const char *source, const char *detail,
    uint64_t t_ns)
{
	e->triggers++;
	emu_say("triggered %s %s %" PRIu64, source, detail, t_ns / 1000);
}

/* Change the mode; a new acquisition starts at sample 0, now. */
static void
oe_emu_set_mode(struct oe_emu *e, enum oe_emu_mode mode)
{
	int	i;

	if (mode == e->mode)
		return;
	if (e->mode == OE_EMU_IDLE) {
		e->start_ns = emu_now_ns();
		e->published = 0;
		e->npending = 0;
		e->recorded_this_run = 0;
		memset(e->line_high, 0, sizeof e->line_high);
		for (i = 0; i < e->electrodes; i++)
			e->next_spike[i] = oe_emu_interval(e);
	}
	if (mode == OE_EMU_IDLE)
		e->npending = 0;
	if (mode == OE_EMU_RECORD) {
		if (!e->recorded_this_run) {
			e->experiment++;
			e->recording_number = 0;
			e->recorded_this_run = 1;
		}
		e->recording_number++;
	}
	e->mode = mode;
	emu_say("mode %s %" PRIu64, oe_emu_modes[mode],
	    (mode != OE_EMU_IDLE ? e->start_ns : emu_now_ns()) / 1000);
}

/* The JSON frame of an event (malloc'd), or NULL. */
static char *
oe_emu_event_json(struct oe_emu *e, const struct oe_emu_event *ev)
{
	json_t	*o;
	char	 name[32], *s;

	if ((o = json_object()) == NULL)
		return (NULL);
	json_object_set_new(o, "event_type", json_string(ev->ttl ? "ttl" :
	    "spike"));
	json_object_set_new(o, "stream", json_string(e->stream));
	json_object_set_new(o, "source_node", json_integer(ev->node));
	if (ev->ttl) {
		json_object_set_new(o, "sample_rate",
		    json_real(e->sample_rate));
		json_object_set_new(o, "channel_name", json_string(
		    ev->node == OE_EMU_NODE_BOARD ? "Acquisition Board TTL" :
		    "Network Events TTL"));
		json_object_set_new(o, "sample_number",
		    json_integer(ev->sample));
		json_object_set_new(o, "line", json_integer(ev->index));
		json_object_set_new(o, "state", json_boolean(ev->state));
	} else {
		if (e->electrode_index)
			json_object_set_new(o, "electrode",
			    json_integer(ev->index));
		else {
			snprintf(name, sizeof name, "SE%d", ev->index + 1);
			json_object_set_new(o, "electrode", json_string(name));
		}
		json_object_set_new(o, "num_channels", json_integer(1));
		json_object_set_new(o, "sample_rate",
		    json_real(e->sample_rate));
		json_object_set_new(o, "sample_number",
		    json_integer(ev->sample));
		json_object_set_new(o, "sorted_id", json_integer(0));
		json_object_set_new(o, "amp1", json_real(round(ev->amp * 100) /
		    100));
	}
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(9));
	json_decref(o);
	return (s);
}

/* Send one frame; more: another follows. */
static void
oe_emu_frame(struct oe_emu *e, const void *buf, size_t len, int more)
{
	if (zmq_send(e->pub, buf, len, ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE :
	    0)) == -1 && errno != EAGAIN)
		emu_log("event broadcaster: send: %s", zmq_strerror(errno));
}

/* Publish one event, or the fault waiting for the next one. */
static void
oe_emu_publish(struct oe_emu *e, const struct oe_emu_event *ev)
{
	uint16_t	 type = ev->ttl ? 0 : 1;
	char		*json;
	size_t		 len;
	int		 i;

	if (e->pub == NULL)
		return;
	if ((json = oe_emu_event_json(e, ev)) == NULL) {
		emu_log("out of memory: event dropped");
		return;
	}
	len = strlen(json);
	e->events++;
	if (e->bad_frames > 0) {
		oe_emu_frame(e, &type, sizeof type, e->bad_frames > 1);
		for (i = 1; i < e->bad_frames; i++)
			oe_emu_frame(e, json, len, i < e->bad_frames - 1);
		emu_log("badframe: a %s message of %d frame(s) sent",
		    ev->ttl ? "TTL" : "spike", e->bad_frames);
		e->bad_frames = 0;
		e->bad++;
	} else if (e->bad_json) {
		oe_emu_frame(e, &type, sizeof type, 1);
		oe_emu_frame(e, json, len / 2, 0);
		emu_log("badjson: a %s message cut to '%.*s' sent",
		    ev->ttl ? "TTL" : "spike", (int)(len / 2), json);
		e->bad_json = 0;
		e->bad++;
	} else {
		oe_emu_frame(e, &type, sizeof type, 1);
		oe_emu_frame(e, json, len, 0);
		if (ev->ttl)
			e->ttls++;
		else
			e->spikes++;
	}
	free(json);
}

/* qsort: events by sample. */
static int
oe_emu_event_cmp(const void *a, const void *b)
{
	const struct oe_emu_event *x = a, *y = b;

	if (x->sample != y->sample)
		return (x->sample < y->sample ? -1 : 1);
	return (x->index - y->index);
}

/* Process one block ending before sample end: publish its events. */
static void
oe_emu_block(struct oe_emu *e, int64_t end)
{
	size_t	i, kept;
	int	el, pass;

	/* The culture's spontaneous spikes of this block. */
	for (el = 0; el < e->electrodes; el++) {
		while (e->next_spike[el] < end) {
			oe_emu_queue_spike(e, el, e->next_spike[el],
			    40.0 + 60.0 * sb_rng_uniform(&e->rng));
			e->next_spike[el] += oe_emu_interval(e);
		}
	}
	if (e->npending > 1)	/* pending is NULL before the first event */
		qsort(e->pending, e->npending, sizeof *e->pending,
		    oe_emu_event_cmp);
	for (pass = 1; pass >= 0; pass--) {
		for (i = 0; i < e->npending; i++) {
			if (e->pending[i].sample >= end)
				break;
			if (e->pending[i].ttl == pass)
				oe_emu_publish(e, &e->pending[i]);
		}
	}
	kept = 0;
	for (i = 0; i < e->npending; i++) {
		if (e->pending[i].sample >= end)
			e->pending[kept++] = e->pending[i];
	}
	e->npending = kept;
	e->published = end;
}

/* Process every block acquired by now. */
static void
oe_emu_process(struct oe_emu *e, uint64_t now)
{
	int64_t	acquired;

	if (e->mode == OE_EMU_IDLE || now < e->lag_until_ns)
		return;
	acquired = oe_emu_acquired(e, now);
	while (e->published + e->block <= acquired &&
	    e->mode != OE_EMU_IDLE)
		oe_emu_block(e, e->published + e->block);
}

/* Nanoseconds from now until the next block is due, if acquiring. */
static uint64_t
oe_emu_next_block_ns(const struct oe_emu *e, uint64_t now)
{
	uint64_t	due;

	due = e->start_ns + (uint64_t)ceil((double)(e->published + e->block) /
	    e->sample_rate * 1e9);
	if (due < e->lag_until_ns)
		due = e->lag_until_ns;
	return (due > now ? due - now : 0);
}

/* Split text into at most max words (in place); their count. */
static int
oe_emu_words(char *text, char **w, int max)
{
	char	*save = NULL, *t;
	int	 n = 0;

	for (t = strtok_r(text, " \t\r\n", &save); t != NULL && n < max;
	    t = strtok_r(NULL, " \t\r\n", &save))
		w[n++] = t;
	return (t != NULL ? max + 1 : n);
}

/* ACQBOARD TRIGGER LINE MS. */
static void
oe_emu_acqboard_trigger(struct oe_emu *e, char **w, int n,
    const char *source, uint64_t t_ns)
{
	char		 list[256], detail[400];
	long		 line, ms;
	int64_t		 sample;

	if (n != 4 || oe_emu_int(w[2], 1, OE_EMU_DINS, &line) != 0 ||
	    oe_emu_int(w[3], 10, 5000, &ms) != 0) {
		emu_log("ACQBOARD TRIGGER: need a line 1..%d and a "
		    "duration of 10..5000 ms: ignored", OE_EMU_DINS);
		return;
	}
	sample = oe_emu_acquired(e, t_ns);
	if (sample < e->published)
		sample = e->published;
	oe_emu_queue_ttl(e, (int)line - 1, 1, OE_EMU_NODE_BOARD, sample);
	oe_emu_queue_ttl(e, (int)line - 1, 0, OE_EMU_NODE_BOARD, sample +
	    (int64_t)llround((double)ms * e->sample_rate / 1000.0));
	oe_emu_stimulate(e, (int)line, sample, list, sizeof list);
	snprintf(detail, sizeof detail, "acqboard:line=%ld,ms=%ld,"
	    "sample=%" PRId64 ",electrodes=%s", line, ms, sample, list);
	oe_emu_triggered(e, source, detail, t_ns);
}

/* The RHS channel of STREAM CHAN, or -1 (logged). */
static int
oe_emu_rhs_channel(struct oe_emu *e, const char *what, const char *stream,
    const char *chan)
{
	long	c, max;

	if (strcmp(stream, "0") != 0 && strcmp(stream, e->stream) != 0) {
		emu_log("RHS %s: no stream '%s' (have 0, '%s'): ignored",
		    what, stream, e->stream);
		return (-1);
	}
	max = e->electrodes < OE_EMU_RHS_CHANNELS ? e->electrodes - 1 :
	    OE_EMU_RHS_CHANNELS - 1;
	if (oe_emu_int(chan, 0, max, &c) != 0) {
		emu_log("RHS %s: no channel '%s' (have 0..%ld): ignored",
		    what, chan, max);
		return (-1);
	}
	return ((int)c);
}

/* Print an RHS channel's settings. */
static void
oe_emu_rhs_say(struct oe_emu *e, int c)
{
	emu_say("stimconfig chan=%d din=%d pulses=%d shape=%s", c,
	    e->rhs[c].din, e->rhs[c].pulses, oe_emu_shapes[e->rhs[c].shape]);
}

/* RHS STIM_TRIGGER STREAM CHAN DIN, RHS STIM_SHAPE STREAM CHAN PULSES SHAPE. */
static void
oe_emu_rhs(struct oe_emu *e, char **w, int n)
{
	long	v;
	size_t	s;
	int	c;

	if (strcmp(w[1], "STIM_TRIGGER") == 0) {
		if (n != 5) {
			emu_log("RHS STIM_TRIGGER: need STREAM CHAN DIN: "
			    "ignored");
			return;
		}
		if ((c = oe_emu_rhs_channel(e, w[1], w[2], w[3])) == -1)
			return;
		if (oe_emu_int(w[4], 0, OE_EMU_DINS - 1, &v) != 0) {
			emu_log("RHS STIM_TRIGGER: digital input '%s' not "
			    "in 0..%d: ignored", w[4], OE_EMU_DINS - 1);
			return;
		}
		e->rhs[c].din = (int)v;
		oe_emu_rhs_say(e, c);
	} else if (strcmp(w[1], "STIM_SHAPE") == 0) {
		if (n != 6) {
			emu_log("RHS STIM_SHAPE: need STREAM CHAN PULSES "
			    "SHAPE: ignored");
			return;
		}
		if ((c = oe_emu_rhs_channel(e, w[1], w[2], w[3])) == -1)
			return;
		if (oe_emu_int(w[4], 0, 10, &v) != 0) {
			emu_log("RHS STIM_SHAPE: pulses '%s' not in 0..10: "
			    "ignored", w[4]);
			return;
		}
		for (s = 0; s < OE_EMU_NSHAPES; s++) {
			if (strcmp(w[5], oe_emu_shapes[s]) == 0)
				break;
		}
		if (s == OE_EMU_NSHAPES) {
			emu_log("RHS STIM_SHAPE: shape '%s' is none of "
			    "BIPHASIC, BIPHASIC_WITH_DELAY, TRIPHASIC, "
			    "MONOPHASIC: ignored", w[5]);
			return;
		}
		e->rhs[c].pulses = (int)v;
		e->rhs[c].shape = (int)s;
		oe_emu_rhs_say(e, c);
	} else
		emu_log("RHS %s: not a command of the RHS plugin "
		    "(STIM_TRIGGER, STIM_SHAPE): ignored", w[1]);
}

/*
 * A message broadcast to every processor. quiet: say nothing about
 * messages no processor acts on (Network Events broadcasts everything).
 * 0, or -1 if dropped because not acquiring.
 */
static int
oe_emu_broadcast(struct oe_emu *e, const char *text, const char *source,
    uint64_t t_ns, int quiet)
{
	char	 buf[OE_EMU_TEXT_MAX + 1], *w[8];
	int	 n;

	if (strlen(text) > OE_EMU_TEXT_MAX) {
		emu_log("message from %s: %zu bytes, over %d: ignored",
		    source, strlen(text), OE_EMU_TEXT_MAX);
		return (0);
	}
	snprintf(buf, sizeof buf, "%s", text);
	n = oe_emu_words(buf, w, 7);
	if (n >= 2 && (strcmp(w[0], "ACQBOARD") == 0 ||
	    strcmp(w[0], "RHS") == 0))
		quiet = 0;
	if (!quiet)
		emu_log("message from %s: '%s'", source, text);
	if (e->mode == OE_EMU_IDLE) {
		if (!quiet)
			emu_log("not acquiring: the message reaches no "
			    "processor");
		return (-1);
	}
	if (n >= 2 && strcmp(w[0], "ACQBOARD") == 0 &&
	    strcmp(w[1], "TRIGGER") == 0)
		oe_emu_acqboard_trigger(e, w, n, source, t_ns);
	else if (n >= 2 && strcmp(w[0], "RHS") == 0)
		oe_emu_rhs(e, w, n);
	else if (!quiet)
		emu_log("no processor acts on this message");
	return (0);
}

/* TTL Line=L State=S from Network Events; the reply into reply. */
static void
oe_emu_network_ttl(struct oe_emu *e, char **w, int n, uint64_t t_ns,
    char *reply, size_t len)
{
	char		 list[256], detail[400];
	const char	*sline = NULL, *sstate = NULL;
	long		 line, state;
	int64_t		 sample;
	int		 i;

	for (i = 1; i < n && n <= 7; i++) {
		if (strncmp(w[i], "Line=", 5) == 0)
			sline = w[i] + 5;
		else if (strncmp(w[i], "State=", 6) == 0)
			sstate = w[i] + 6;
	}
	if (sline == NULL || sstate == NULL ||
	    oe_emu_int(sline, LONG_MIN, LONG_MAX, &line) != 0 ||
	    oe_emu_int(sstate, 0, 1, &state) != 0) {
		snprintf(reply, len, "NotHandled");
		return;
	}
	if (line < 1 || line > OE_EMU_TTL_LINES) {
		snprintf(reply, len, "InvalidChannel");
		return;
	}
	snprintf(reply, len, "TTLHandled: Line=%ld State=%ld", line, state);
	if (e->mode == OE_EMU_IDLE) {
		emu_log("network events: TTL line %ld while not acquiring: "
		    "not queued", line);
		return;
	}
	sample = e->published;
	oe_emu_queue_ttl(e, (int)line - 1, (int)state, OE_EMU_NODE_NETWORK,
	    sample);
	if (state == 1 && e->line_high[line - 1]) {
		emu_log("network events: TTL line %ld is already high: no "
		    "edge, no stimulation", line);
		return;
	}
	e->line_high[line - 1] = (int)state;
	if (state == 0)
		return;
	oe_emu_stimulate(e, (int)line, sample, list, sizeof list);
	snprintf(detail, sizeof detail, "ttl:line=%ld,sample=%" PRId64
	    ",electrodes=%s", line, sample, list);
	oe_emu_triggered(e, "network-events", detail, t_ns);
}

/* StartRecord's options (RecDir=, PrependText=, AppendText=, ...). */
static void
oe_emu_record_options(struct oe_emu *e, char **w, int n)
{
	int	i;

	for (i = 1; i < n; i++) {
		if (strncmp(w[i], "RecDir=", 7) == 0)
			json_object_set_new(e->recording, "parent_directory",
			    json_string(w[i] + 7));
		else if (strncmp(w[i], "PrependText=", 12) == 0)
			json_object_set_new(e->recording, "prepend_text",
			    json_string(w[i] + 12));
		else if (strncmp(w[i], "AppendText=", 11) == 0)
			json_object_set_new(e->recording, "append_text",
			    json_string(w[i] + 11));
		else if (strncmp(w[i], "RecordNode=", 11) == 0 &&
		    strtol(w[i] + 11, NULL, 10) != OE_EMU_NODE_RECORD)
			emu_log("network events: StartRecord: no record "
			    "node %s (have %d): recording with %d", w[i] + 11,
			    OE_EMU_NODE_RECORD, OE_EMU_NODE_RECORD);
	}
}

/* A string field of the recording settings. */
static const char *
oe_emu_recording_get(struct oe_emu *e, const char *key)
{
	const char	*s = json_string_value(json_object_get(e->recording,
			    key));

	return (s != NULL ? s : "");
}

/* One Network Events request; the reply into reply. */
static void
oe_emu_network_command(struct oe_emu *e, const char *text, uint64_t t_ns,
    char *reply, size_t len)
{
	char	 buf[OE_EMU_TEXT_MAX + 1], *w[16];
	int	 n;

	snprintf(buf, sizeof buf, "%s", text);
	n = oe_emu_words(buf, w, 15);
	snprintf(reply, len, "NotHandled");
	if (n < 1)
		return;
	if (n == 1 && strcmp(w[0], "StartAcquisition") == 0) {
		if (e->mode == OE_EMU_IDLE)
			oe_emu_set_mode(e, OE_EMU_ACQUIRE);
		snprintf(reply, len, "StartedAcquisition");
	} else if (n == 1 && strcmp(w[0], "StopAcquisition") == 0) {
		oe_emu_set_mode(e, OE_EMU_IDLE);
		snprintf(reply, len, "StoppedAcquisition");
	} else if (strcmp(w[0], "StartRecord") == 0 && n <= 15) {
		oe_emu_record_options(e, w, n);
		oe_emu_set_mode(e, OE_EMU_RECORD);
		snprintf(reply, len, "StartedRecording");
	} else if (n == 1 && strcmp(w[0], "StopRecord") == 0) {
		if (e->mode == OE_EMU_RECORD)
			oe_emu_set_mode(e, OE_EMU_ACQUIRE);
		snprintf(reply, len, "StoppedRecording");
	} else if (n == 1 && strcmp(w[0], "IsAcquiring") == 0)
		snprintf(reply, len, "%d", e->mode != OE_EMU_IDLE);
	else if (n == 1 && strcmp(w[0], "IsRecording") == 0)
		snprintf(reply, len, "%d", e->mode == OE_EMU_RECORD);
	else if (n == 1 && strcmp(w[0], "GetRecordingPath") == 0)
		snprintf(reply, len, "%s", oe_emu_recording_get(e,
		    "parent_directory"));
	else if (n == 1 && strcmp(w[0], "GetRecordingNumber") == 0)
		snprintf(reply, len, "%d", e->recording_number);
	else if (n == 1 && strcmp(w[0], "GetExperimentNumber") == 0)
		snprintf(reply, len, "%d", e->experiment);
	else if (strcmp(w[0], "TTL") == 0)
		oe_emu_network_ttl(e, w, n, t_ns, reply, len);
}

/* Serve the Network Events requests waiting on the REP socket. */
static void
oe_emu_network(struct oe_emu *e)
{
	char		 text[OE_EMU_TEXT_MAX + 1], reply[OE_EMU_TEXT_MAX + 64];
	zmq_msg_t	 msg;
	uint64_t	 t_ns;
	size_t		 len;
	int		 more, frames, ok;

	text[0] = '\0';
	while (e->rep != NULL) {
		zmq_msg_init(&msg);
		if (zmq_msg_recv(&msg, e->rep, ZMQ_DONTWAIT) == -1) {
			zmq_msg_close(&msg);
			if (errno != EAGAIN && errno != EINTR)
				emu_log("network events: receive: %s",
				    zmq_strerror(errno));
			return;
		}
		t_ns = emu_now_ns();
		len = zmq_msg_size(&msg);
		ok = len <= OE_EMU_TEXT_MAX &&
		    memchr(zmq_msg_data(&msg), '\0', len) == NULL;
		if (ok) {
			memcpy(text, zmq_msg_data(&msg), len);
			text[len] = '\0';
			while (len > 0 && strchr(" \t\r\n", text[len - 1]))
				text[--len] = '\0';
		}
		more = zmq_msg_more(&msg);
		zmq_msg_close(&msg);
		for (frames = 1; more; frames++) {
			zmq_msg_init(&msg);
			if (zmq_msg_recv(&msg, e->rep, 0) == -1)
				more = 0;
			else
				more = zmq_msg_more(&msg);
			zmq_msg_close(&msg);
		}
		if (!ok) {
			emu_log("network events: a request of %zu bytes "
			    "with NUL bytes or over %d: NotHandled", len,
			    OE_EMU_TEXT_MAX);
			snprintf(reply, sizeof reply, "NotHandled");
		} else {
			if (frames > 1)
				emu_log("network events: %d frames: only "
				    "the first read", frames);
			oe_emu_network_command(e, text, t_ns, reply,
			    sizeof reply);
		}
		if (zmq_send(e->rep, reply, strlen(reply), 0) == -1)
			emu_log("network events: reply: %s",
			    zmq_strerror(errno));
		if (ok)
			oe_emu_broadcast(e, text, "network-events", t_ns, 1);
	}
}

/* Queue a JSON answer (the value is consumed). */
static enum MHD_Result
oe_emu_answer(struct MHD_Connection *conn, unsigned code, json_t *v)
{
	struct MHD_Response	*resp;
	enum MHD_Result		 rc;
	char			*s = NULL;

	if (v != NULL)
		s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
		    JSON_REAL_PRECISION(9));
	json_decref(v);
	if (s == NULL)
		return (MHD_NO);
	resp = MHD_create_response_from_buffer(strlen(s), s,
	    MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(s);
		return (MHD_NO);
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "application/json");
	rc = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return (rc);
}

/* Answer {"error": ...} with an HTTP error code. */
static enum MHD_Result __attribute__((format(printf, 3, 4)))
oe_emu_error(struct MHD_Connection *conn, unsigned code, const char *fmt,
    ...)
{
	char	buf[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	emu_log("http: %u %s", code, buf);
	return (oe_emu_answer(conn, code, json_pack("{s:s}", "error", buf)));
}

/* The request body as a JSON object, or NULL with the reason in why. */
static json_t *
oe_emu_body(struct oe_emu_req *req, char *why, size_t len)
{
	json_error_t	 err;
	json_t		*v;

	if (req->len == 0) {
		snprintf(why, len, "no body: send a JSON object");
		return (NULL);
	}
	v = json_loadb(req->body, req->len, JSON_REJECT_DUPLICATES, &err);
	if (v == NULL) {
		snprintf(why, len, "body is not JSON (%s at %d:%d)", err.text,
		    err.line, err.column);
		return (NULL);
	}
	if (!json_is_object(v)) {
		json_decref(v);
		snprintf(why, len, "body is not a JSON object");
		return (NULL);
	}
	return (v);
}

/* A processor parameter. */
static json_t *
oe_emu_param(const char *name, const char *type, json_t *value)
{
	return (json_pack("{s:s, s:s, s:o}", "name", name, "type", type,
	    "value", value));
}

/* One processor of the signal chain. */
static json_t *
oe_emu_processor(struct oe_emu *e, int id, const char *name, int pred)
{
	json_t	*p, *streams, *params;

	streams = json_pack("[{s:s, s:i, s:f, s:i}]", "name", e->stream,
	    "source_id", OE_EMU_NODE_BOARD, "sample_rate", e->sample_rate,
	    "channel_count", e->electrodes);
	params = json_array();
	switch (id) {
	case OE_EMU_NODE_BOARD:
		json_array_append_new(params, oe_emu_param("sample_rate",
		    "float", json_real(e->sample_rate)));
		json_array_append_new(params, oe_emu_param("block_size", "int",
		    json_integer(e->block)));
		break;
	case OE_EMU_NODE_FILTER:
		json_array_append_new(params, oe_emu_param("low_cut", "float",
		    json_real(300)));
		json_array_append_new(params, oe_emu_param("high_cut",
		    "float", json_real(6000)));
		break;
	case OE_EMU_NODE_NETWORK:
		json_array_append_new(params, oe_emu_param("port", "int",
		    json_integer(e->network_port)));
		break;
	case OE_EMU_NODE_BROADCASTER:
		json_array_append_new(params, oe_emu_param("data_port", "int",
		    json_integer(e->events_port)));
		json_array_append_new(params, oe_emu_param("output_format",
		    "categorical", json_string("JSON")));
		break;
	case OE_EMU_NODE_RECORD:
		json_array_append_new(params, oe_emu_param("directory", "path",
		    json_string(oe_emu_recording_get(e,
		    "parent_directory"))));
		break;
	}
	p = json_pack("{s:i, s:s, s:o, s:o, s:o}", "id", id, "name", name,
	    "predecessor", pred == 0 ? json_null() : json_integer(pred),
	    "streams", streams, "parameters", params);
	return (p);
}

/* The signal chain, in order. */
static json_t *
oe_emu_chain(struct oe_emu *e)
{
	static const struct {
		int		 id;
		const char	*name;
	} chain[] = {
		{ OE_EMU_NODE_BOARD, "Acquisition Board" },
		{ OE_EMU_NODE_FILTER, "Bandpass Filter" },
		{ OE_EMU_NODE_DETECTOR, "Spike Detector" },
		{ OE_EMU_NODE_NETWORK, "Network Events" },
		{ OE_EMU_NODE_OUTPUT, "Acq Board Output" },
		{ OE_EMU_NODE_BROADCASTER, "Event Broadcaster" },
		{ OE_EMU_NODE_RECORD, "Record Node" },
	};
	json_t	*a = json_array();
	size_t	 i;
	int	 pred = 0;

	for (i = 0; i < sizeof chain / sizeof chain[0]; i++) {
		if (chain[i].id == OE_EMU_NODE_NETWORK && !e->network_events)
			continue;
		json_array_append_new(a, oe_emu_processor(e, chain[i].id,
		    chain[i].name, pred));
		pred = chain[i].id;
	}
	return (a);
}

/* GET /api/processors[/ID]. */
static enum MHD_Result
oe_emu_http_processors(struct oe_emu *e, struct MHD_Connection *conn,
    const char *rest)
{
	json_t	*chain, *p;
	size_t	 i;
	long	 id;

	chain = oe_emu_chain(e);
	if (*rest == '\0')
		return (oe_emu_answer(conn, 200, json_pack("{s:o}",
		    "processors", chain)));
	if (oe_emu_int(rest + 1, 0, INT_MAX, &id) != 0) {
		json_decref(chain);
		if (strchr(rest + 1, '/') != NULL)
			return (oe_emu_error(conn, 501, "%.100s: not emulated "
			    "by oe-emu", rest));
		return (oe_emu_error(conn, 400, "processor id '%.64s' is not "
		    "a number", rest + 1));
	}
	json_array_foreach(chain, i, p) {
		if (json_integer_value(json_object_get(p, "id")) == id) {
			json_incref(p);
			json_decref(chain);
			return (oe_emu_answer(conn, 200, p));
		}
	}
	json_decref(chain);
	return (oe_emu_error(conn, 404, "no processor %ld (GET "
	    "/api/processors lists them)", id));
}

/* GET/PUT /api/status. */
static enum MHD_Result
oe_emu_http_status(struct oe_emu *e, struct MHD_Connection *conn,
    const char *method, struct oe_emu_req *req)
{
	char		 why[256];
	json_t		*body;
	const char	*s;
	int		 mode;

	if (strcmp(method, "PUT") == 0) {
		if ((body = oe_emu_body(req, why, sizeof why)) == NULL)
			return (oe_emu_error(conn, 400, "%s", why));
		s = json_string_value(json_object_get(body, "mode"));
		mode = s != NULL ? oe_emu_mode_parse(s) : -1;
		json_decref(body);
		if (mode == -1)
			return (oe_emu_error(conn, 400, "need {\"mode\": "
			    "\"IDLE\"|\"ACQUIRE\"|\"RECORD\"}"));
		oe_emu_set_mode(e, (enum oe_emu_mode)mode);
	}
	return (oe_emu_answer(conn, 200, json_pack("{s:s}", "mode",
	    oe_emu_modes[e->mode])));
}

/* PUT /api/message. */
static enum MHD_Result
oe_emu_http_message(struct oe_emu *e, struct MHD_Connection *conn,
    struct oe_emu_req *req)
{
	char		 why[256];
	json_t		*body;
	const char	*text;
	int		 rc;

	if ((body = oe_emu_body(req, why, sizeof why)) == NULL)
		return (oe_emu_error(conn, 400, "%s", why));
	if ((text = json_string_value(json_object_get(body, "text"))) ==
	    NULL) {
		json_decref(body);
		return (oe_emu_error(conn, 400, "need {\"text\": "
		    "\"MESSAGE\"}"));
	}
	rc = oe_emu_broadcast(e, text, "http", emu_now_ns(), 0);
	json_decref(body);
	return (oe_emu_answer(conn, 200, json_pack("{s:s}", "info", rc == 0 ?
	    "message broadcast" : "not acquiring: message ignored")));
}

/* GET/PUT /api/recording[/106]. */
static enum MHD_Result
oe_emu_http_recording(struct oe_emu *e, struct MHD_Connection *conn,
    const char *method, const char *rest, struct oe_emu_req *req)
{
	static const char *const keys[] = {
		"parent_directory", "base_text", "prepend_text", "append_text",
	};
	char		 why[256];
	json_t		*body, *v, *out;
	const char	*k;
	size_t		 i;
	long		 node;

	if (*rest != '\0' && (oe_emu_int(rest + 1, 0, INT_MAX, &node) != 0 ||
	    node != OE_EMU_NODE_RECORD))
		return (oe_emu_error(conn, 404, "no record node '%.64s' (have "
		    "%d)", rest + 1, OE_EMU_NODE_RECORD));
	if (strcmp(method, "PUT") == 0) {
		if ((body = oe_emu_body(req, why, sizeof why)) == NULL)
			return (oe_emu_error(conn, 400, "%s", why));
		json_object_foreach(body, k, v) {
			for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
				if (strcmp(k, keys[i]) == 0)
					break;
			}
			if (i == sizeof keys / sizeof keys[0] ||
			    !json_is_string(v)) {
				json_decref(body);
				return (oe_emu_error(conn, 400, "'%.64s': "
				    "need string fields among parent_directory,"
				    " base_text, prepend_text, append_text",
				    k));
			}
		}
		json_object_update(e->recording, body);
		json_decref(body);
	}
	out = json_deep_copy(e->recording);
	json_object_set_new(out, "record_nodes", json_pack("[{s:i, s:s}]",
	    "node_id", OE_EMU_NODE_RECORD, "parent_directory",
	    oe_emu_recording_get(e, "parent_directory")));
	return (oe_emu_answer(conn, 200, out));
}

/* GET /api/latency: one block per processor. */
static enum MHD_Result
oe_emu_http_latency(struct oe_emu *e, struct MHD_Connection *conn)
{
	json_t	*chain, *p, *out;
	size_t	 i;

	chain = oe_emu_chain(e);
	out = json_array();
	json_array_foreach(chain, i, p) {
		json_array_append_new(out, json_pack("{s:O, s:O, s:f}", "id",
		    json_object_get(p, "id"), "name", json_object_get(p,
		    "name"), "latency", 1000.0 * e->block / e->sample_rate));
	}
	json_decref(chain);
	return (oe_emu_answer(conn, 200, json_pack("{s:o}", "processors",
	    out)));
}

/* PUT /api/window {"command": "quit"}. */
static enum MHD_Result
oe_emu_http_window(struct MHD_Connection *conn, struct oe_emu_req *req)
{
	char		 why[256];
	json_t		*body;
	const char	*cmd;
	int		 quit;

	if ((body = oe_emu_body(req, why, sizeof why)) == NULL)
		return (oe_emu_error(conn, 400, "%s", why));
	cmd = json_string_value(json_object_get(body, "command"));
	quit = cmd != NULL && strcmp(cmd, "quit") == 0;
	json_decref(body);
	if (!quit)
		return (oe_emu_error(conn, 400, "need {\"command\": "
		    "\"quit\"}"));
	emu_log("http: quit requested");
	oe_emu_stop = SIGTERM;
	return (oe_emu_answer(conn, 200, json_pack("{s:s}", "info",
	    "quitting")));
}

/* Does url start with the path, followed by nothing or '/'? */
static const char *
oe_emu_route(const char *url, const char *path)
{
	size_t	n = strlen(path);

	if (strncmp(url, path, n) != 0 || (url[n] != '\0' && url[n] != '/'))
		return (NULL);
	return (url + n);
}

/* Route a complete request. */
static enum MHD_Result
oe_emu_dispatch(struct oe_emu *e, struct MHD_Connection *conn,
    const char *url, const char *method, struct oe_emu_req *req)
{
	static const char *const unemulated[] = {
		"/api/cpu", "/api/audio", "/api/load", "/api/save",
		"/api/quit",
	};
	char		 path[256];
	const char	*rest;
	size_t		 n, i;
	int		 get, put;

	e->http++;
	if (req->too_big)
		return (oe_emu_error(conn, 413, "body of %zu bytes is over "
		    "%d: send less", req->too_big, OE_EMU_BODY_MAX));
	n = strlen(url);
	if (n >= sizeof path)
		return (oe_emu_error(conn, 404, "no such endpoint (%zu bytes)",
		    n));
	memcpy(path, url, n + 1);
	if (n > 1 && path[n - 1] == '/')
		path[n - 1] = '\0';
	get = strcmp(method, "GET") == 0;
	put = strcmp(method, "PUT") == 0;
	if ((rest = oe_emu_route(path, "/api/status")) != NULL &&
	    *rest == '\0') {
		if (get || put)
			return (oe_emu_http_status(e, conn, method, req));
	} else if ((rest = oe_emu_route(path, "/api/processors")) != NULL) {
		if (get)
			return (oe_emu_http_processors(e, conn, rest));
		if (put && strchr(rest, '/') != NULL && rest[1] != '\0')
			return (oe_emu_error(conn, 501, "%.100s: not emulated "
			    "by oe-emu", path));
	} else if ((rest = oe_emu_route(path, "/api/message")) != NULL &&
	    *rest == '\0') {
		if (put)
			return (oe_emu_http_message(e, conn, req));
	} else if ((rest = oe_emu_route(path, "/api/recording")) != NULL &&
	    strchr(rest + (*rest != '\0'), '/') == NULL) {
		if (get || put)
			return (oe_emu_http_recording(e, conn, method, rest,
			    req));
	} else if ((rest = oe_emu_route(path, "/api/latency")) != NULL &&
	    *rest == '\0') {
		if (get)
			return (oe_emu_http_latency(e, conn));
	} else if ((rest = oe_emu_route(path, "/api/window")) != NULL &&
	    *rest == '\0') {
		if (put)
			return (oe_emu_http_window(conn, req));
	} else {
		for (i = 0; i < sizeof unemulated / sizeof unemulated[0];
		    i++) {
			if (oe_emu_route(path, unemulated[i]) != NULL)
				return (oe_emu_error(conn, 501, "%.100s: not "
				    "emulated by oe-emu", path));
		}
		return (oe_emu_error(conn, 404, "no such endpoint %.100s "
		    "(have /api/status, /api/processors, /api/message, "
		    "/api/recording, /api/latency, /api/window)", path));
	}
	return (oe_emu_error(conn, 405, "method %.16s not allowed on %.100s",
	    method, path));
}

/* MHD's access handler: collect the body, then dispatch. */
static enum MHD_Result
oe_emu_http(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct oe_emu		*e = cls;
	struct oe_emu_req	*req = *con_cls;
	char			*p;

	(void)version;
	if (req == NULL) {
		if ((req = calloc(1, sizeof *req)) == NULL)
			return (MHD_NO);
		*con_cls = req;
		return (MHD_YES);
	}
	if (*upload_size > 0) {
		if (req->too_big || req->len + *upload_size >
		    OE_EMU_BODY_MAX) {
			if (req->too_big == 0)
				req->too_big = req->len;
			req->too_big += *upload_size;
			*upload_size = 0;
			return (req->too_big > OE_EMU_DISCARD_MAX ? MHD_NO :
			    MHD_YES);
		}
		if ((p = realloc(req->body, req->len + *upload_size)) == NULL)
			return (MHD_NO);
		memcpy(p + req->len, upload, *upload_size);
		req->body = p;
		req->len += *upload_size;
		*upload_size = 0;
		return (MHD_YES);
	}
	return (oe_emu_dispatch(e, conn, url, method, req));
}

/* MHD's completion callback: free the request. */
static void
oe_emu_http_done(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct oe_emu_req	*req = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (req != NULL) {
		free(req->body);
		free(req);
		*con_cls = NULL;
	}
}

/* MHD's error log, prefixed like ours. */
static void __attribute__((format(printf, 2, 0)))
oe_emu_mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	fputs("oe-emu: http: ", stderr);
	vfprintf(stderr, fmt, ap);
	if (*fmt != '\0' && fmt[strlen(fmt) - 1] != '\n')
		fputc('\n', stderr);
}

/* Bind a ZMQ socket to 127.0.0.1:port (0: any free); the port or -1. */
static int
oe_emu_zbind(void *s, int port)
{
	char	ep[64];
	size_t	len = sizeof ep;
	char	*colon;
	long	p;

	if (port == 0)
		snprintf(ep, sizeof ep, "tcp://127.0.0.1:*");
	else
		snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
	if (zmq_bind(s, ep) != 0)
		return (-1);
	if (zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, ep, &len) != 0 ||
	    (colon = strrchr(ep, ':')) == NULL ||
	    oe_emu_int(colon + 1, 1, 65535, &p) != 0) {
		errno = EINVAL;
		return (-1);
	}
	return ((int)p);
}

/* A ZMQ socket of a type that drops its messages at close. */
static void *
oe_emu_zsocket(struct oe_emu *e, int type)
{
	void	*s;
	int	 zero = 0;

	if ((s = zmq_socket(e->zctx, type)) == NULL)
		return (NULL);
	zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
	return (s);
}

/* Close every socket (HTTP, Event Broadcaster, Network Events). */
static void
oe_emu_close(struct oe_emu *e)
{
	if (e->mhd != NULL)
		MHD_stop_daemon(e->mhd);
	e->mhd = NULL;
	if (e->pub != NULL)
		zmq_close(e->pub);
	e->pub = NULL;
	if (e->rep != NULL)
		zmq_close(e->rep);
	e->rep = NULL;
	e->up = 0;
}

/* Open every socket; 0, or -1 (cause logged, nothing left open). */
static int
oe_emu_open(struct oe_emu *e, int quiet)
{
	struct sockaddr_in		 sin;
	const union MHD_DaemonInfo	*info;
	int				 port, i;

	if ((e->pub = oe_emu_zsocket(e, ZMQ_PUB)) == NULL)
		goto fail_zmq;
	port = -1;
	for (i = 0; port == -1 && i < (e->first_open && e->events_port != 0 ?
	    OE_EMU_PORT_SEARCH : 1); i++) {
		port = oe_emu_zbind(e->pub, e->events_port == 0 ? 0 :
		    e->events_port + i);
		if (port == -1 && errno != EADDRINUSE)
			break;
		if (port == -1 && e->events_port + i + 1 > 65535)
			break;
	}
	if (port == -1) {
		if (!quiet)
			emu_log("event broadcaster: port %d: %s",
			    e->events_port, zmq_strerror(errno));
		goto fail;
	}
	if (port != e->events_port && e->events_port != 0)
		emu_log("event broadcaster: port %d taken, using %d",
		    e->events_port, port);
	e->events_port = port;

	if (e->network_events) {
		if ((e->rep = oe_emu_zsocket(e, ZMQ_REP)) == NULL)
			goto fail_zmq;
		if ((port = oe_emu_zbind(e->rep, e->network_port)) == -1) {
			if (!quiet)
				emu_log("network events: port %d: %s",
				    e->network_port, zmq_strerror(errno));
			goto fail;
		}
		e->network_port = port;
	}

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)e->http_port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	e->mhd = MHD_start_daemon(MHD_USE_ERROR_LOG, (uint16_t)e->http_port,
	    NULL, NULL, oe_emu_http, e,
	    MHD_OPTION_EXTERNAL_LOGGER, oe_emu_mhd_log, e,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
	    MHD_OPTION_NOTIFY_COMPLETED, oe_emu_http_done, e,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
	    MHD_OPTION_END);
	if (e->mhd == NULL) {
		if (!quiet)
			emu_log("http: cannot listen on 127.0.0.1:%d",
			    e->http_port);
		goto fail;
	}
	info = MHD_get_daemon_info(e->mhd, MHD_DAEMON_INFO_BIND_PORT);
	if (info == NULL || info->port == 0) {
		emu_log("http: the bound port is unknown");
		goto fail;
	}
	e->http_port = info->port;
	e->up = 1;
	e->first_open = 0;
	emu_say("ready %d %d %d", e->http_port, e->events_port,
	    e->network_events ? e->network_port : 0);
	return (0);

fail_zmq:
	emu_log("zmq: %s", zmq_strerror(errno));
fail:
	oe_emu_close(e);
	return (-1);
}

/* restart [MS]: everything closed, back idle on the same ports later. */
static void
oe_emu_restart(struct oe_emu *e, long ms)
{
	oe_emu_set_mode(e, OE_EMU_IDLE);
	oe_emu_close(e);
	e->stall_until_ns = 0;
	e->lag_until_ns = 0;
	e->reopen_ns = emu_now_ns() + (uint64_t)ms * 1000000ULL;
	e->reopen_give_up_ns = e->reopen_ns + OE_EMU_REOPEN_NS;
	emu_log("restart: every socket closed, back in %ld ms", ms);
}

/* Print the stats line. */
static void
oe_emu_stats(struct oe_emu *e)
{
	emu_say("stats http=%" PRIu64 " events=%" PRIu64 " spikes=%"
	    PRIu64 " ttl=%" PRIu64 " triggers=%" PRIu64 " bad=%" PRIu64
	    " mode=%s", e->http, e->events, e->spikes, e->ttls, e->triggers,
	    e->bad, oe_emu_modes[e->mode]);
}

/* One control command. */
static void
oe_emu_control(struct oe_emu *e, char *s)
{
	char	*w[4];
	long	 v = 0;
	int	 n;

	n = oe_emu_words(s, w, 3);
	if (n < 1)
		return;
	if (strcmp(w[0], "restart") == 0 && (n == 1 || (n == 2 &&
	    oe_emu_int(w[1], 0, 600000, &v) == 0)))
		oe_emu_restart(e, v);
	else if (strcmp(w[0], "badjson") == 0 && n == 1)
		e->bad_json = 1;
	else if (strcmp(w[0], "badframe") == 0 && (n == 1 || (n == 2 &&
	    oe_emu_int(w[1], 1, 16, &v) == 0 && v != 2)))
		e->bad_frames = n == 1 ? 1 : (int)v;
	else if (strcmp(w[0], "stall") == 0 && n == 2 &&
	    oe_emu_int(w[1], 0, 600000, &v) == 0)
		e->stall_until_ns = emu_now_ns() + (uint64_t)v * 1000000ULL;
	else if (strcmp(w[0], "lag") == 0 && n == 2 &&
	    oe_emu_int(w[1], 0, 600000, &v) == 0)
		e->lag_until_ns = emu_now_ns() + (uint64_t)v * 1000000ULL;
	else if (strcmp(w[0], "stats") == 0 && n == 1)
		oe_emu_stats(e);
	else if (strcmp(w[0], "quit") == 0 && n == 1)
		oe_emu_stop = SIGTERM;
	else
		emu_log("control: '%s' not understood (have restart [MS], "
		    "badjson, badframe [N], stall MS, lag MS, stats, quit)",
		    w[0]);
}

/* One control line (emu_control's callback). */
static void
oe_emu_control_line(void *arg, char *line)
{
	oe_emu_control(arg, line);
}

/* Milliseconds (rounded up) until a time, at most cap. */
static long
oe_emu_ms_until(uint64_t when, uint64_t now, long cap)
{
	uint64_t	ms;

	if (when <= now)
		return (0);
	ms = (when - now + 999999) / 1000000;
	return (ms < (uint64_t)cap ? (long)ms : cap);
}

/* Add MHD's sockets to the poll set; their count. */
static int
oe_emu_mhd_items(struct oe_emu *e, zmq_pollitem_t *items, int max)
{
	fd_set	rs, ws, es;
	int	maxfd = -1, fd, n = 0;

	FD_ZERO(&rs);
	FD_ZERO(&ws);
	FD_ZERO(&es);
	if (MHD_get_fdset2(e->mhd, &rs, &ws, &es, &maxfd, FD_SETSIZE) !=
	    MHD_YES)
		return (0);
	for (fd = 0; fd <= maxfd && n < max; fd++) {
		if (!FD_ISSET(fd, &rs) && !FD_ISSET(fd, &ws))
			continue;
		memset(&items[n], 0, sizeof items[n]);
		items[n].fd = fd;
		items[n].events = (short)((FD_ISSET(fd, &rs) ? ZMQ_POLLIN :
		    0) | (FD_ISSET(fd, &ws) ? ZMQ_POLLOUT : 0));
		n++;
	}
	return (n);
}

/* Serve until a signal, "quit" or a restart that cannot listen again. */
static void
oe_emu_loop(struct oe_emu *e)
{
	static zmq_pollitem_t	 items[OE_EMU_POLL_MAX];
	MHD_UNSIGNED_LONG_LONG	 mhd_ms;
	char			 buf[4096];
	uint64_t		 now;
	long			 timeout;
	int			 n, i_sig, i_rep = -1, http;

	while (!oe_emu_stop) {
		now = emu_now_ns();
		if (!e->up && now >= e->reopen_ns) {
			if (oe_emu_open(e, now < e->reopen_give_up_ns) != 0) {
				if (now >= e->reopen_give_up_ns) {
					emu_log("restart: cannot listen "
					    "again: giving up");
					oe_emu_stop = -1;
					return;
				}
				e->reopen_ns = now + 50000000ULL;
			}
		}
		oe_emu_process(e, now);
		http = e->up && now >= e->stall_until_ns;

		/* Wake for the next block, the stall's end, a reopen. */
		timeout = 250;
		if (e->mode != OE_EMU_IDLE)
			timeout = oe_emu_ms_until(now +
			    oe_emu_next_block_ns(e, now), now, timeout);
		if (e->up && !http)
			timeout = oe_emu_ms_until(e->stall_until_ns, now,
			    timeout);
		if (!e->up)
			timeout = oe_emu_ms_until(e->reopen_ns, now, timeout);
		if (http && MHD_get_timeout(e->mhd, &mhd_ms) == MHD_YES &&
		    (MHD_UNSIGNED_LONG_LONG)timeout > mhd_ms)
			timeout = (long)mhd_ms;

		n = 0;
		memset(&items[n], 0, sizeof items[n]);
		items[n].fd = e->sigpipe[0];
		items[n].events = ZMQ_POLLIN;
		i_sig = n++;
		if (e->ctl.fd != -1) {
			memset(&items[n], 0, sizeof items[n]);
			items[n].fd = e->ctl.fd;
			items[n].events = ZMQ_POLLIN;
			n++;
		}
		if (e->rep != NULL) {
			memset(&items[n], 0, sizeof items[n]);
			items[n].socket = e->rep;
			items[n].events = ZMQ_POLLIN;
			i_rep = n++;
		} else
			i_rep = -1;
		if (http)
			n += oe_emu_mhd_items(e, items + n,
			    OE_EMU_POLL_MAX - n);

		if (zmq_poll(items, n, timeout) == -1) {
			if (errno == EINTR)
				continue;
			emu_log("zmq_poll: %s", zmq_strerror(errno));
			oe_emu_stop = -1;
			return;
		}
		if (items[i_sig].revents & ZMQ_POLLIN) {
			while (read(e->sigpipe[0], buf, sizeof buf) > 0)
				continue;
		}
		if (oe_emu_stop)
			return;
		/* Control first: a fault set before a request applies to it. */
		emu_control_drain(&e->ctl);
		now = emu_now_ns();
		oe_emu_process(e, now);
		if (i_rep != -1 && e->rep != NULL &&
		    (items[i_rep].revents & ZMQ_POLLIN))
			oe_emu_network(e);
		if (e->mhd != NULL && now >= e->stall_until_ns)
			MHD_run(e->mhd);
	}
}

/* Parse an option's number in lo..hi or exit. */
static double
oe_emu_optnum(const char *name, const char *s, double lo, double hi)
{
	char	*end;
	double	 v;

	v = strtod(s, &end);
	if (end == s || *end != '\0' || !(v >= lo && v <= hi)) {
		emu_log("--%s %s: need a number %g-%g", name, s, lo, hi);
		exit(2);
	}
	return (v);
}

/* Print the usage and exit. */
static void __attribute__((noreturn))
oe_emu_usage(void)
{
	fprintf(stderr, "usage: oe-emu [--http-port P] [--events-port P] "
	    "[--network-events-port P]\n"
	    "    [--electrodes N] [--sample-rate HZ] [--spike-rate HZ] "
	    "[--seed N]\n"
	    "    [--block-samples N] [--stream NAME] [--electrode-index]\n"
	    "    [--control FIFO] [--no-network-events]\n");
	exit(2);
}

/* The signal pipe and handlers: SIGTERM and SIGINT end the loop. */
static int
oe_emu_signals(struct oe_emu *e)
{
	struct sigaction	sa;
	int			i;

	if (pipe(e->sigpipe) != 0) {
		emu_log("pipe: %s", strerror(errno));
		return (-1);
	}
	for (i = 0; i < 2; i++) {
		fcntl(e->sigpipe[i], F_SETFL, O_NONBLOCK);
		fcntl(e->sigpipe[i], F_SETFD, FD_CLOEXEC);
	}
	oe_emu_sigwrite = e->sigpipe[1];
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = oe_emu_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return (0);
}

static const struct option oe_emu_options[] = {
	{ "http-port", required_argument, NULL, 'h' },
	{ "events-port", required_argument, NULL, 'e' },
	{ "network-events-port", required_argument, NULL, 'n' },
	{ "electrodes", required_argument, NULL, 'E' },
	{ "sample-rate", required_argument, NULL, 'r' },
	{ "spike-rate", required_argument, NULL, 'R' },
	{ "seed", required_argument, NULL, 's' },
	{ "block-samples", required_argument, NULL, 'b' },
	{ "stream", required_argument, NULL, 'S' },
	{ "electrode-index", no_argument, NULL, 'i' },
	{ "control", required_argument, NULL, 'c' },
	{ "no-network-events", no_argument, NULL, 'N' },
	{ NULL, 0, NULL, 0 }
};

/* Parse the options, listen, serve until told to stop. */
int
main(int argc, char **argv)
{
	struct oe_emu	 e;
	pid_t		 ppid;
	int		 ch, c;
	size_t		 i;

	emu_util_name("oe-emu");
	memset(&e, 0, sizeof e);
	e.http_port = 37497;
	e.events_port = 5557;
	e.network_port = 5556;
	e.network_events = 1;
	e.electrodes = 32;
	e.sample_rate = 30000;
	e.spike_rate = 5;
	e.seed = 1;
	e.block = 1024;
	e.stream = "MEA";
	e.ctl.fd = -1;
	e.sigpipe[0] = e.sigpipe[1] = -1;
	e.first_open = 1;

	while ((ch = getopt_long(argc, argv, "", oe_emu_options, NULL)) !=
	    -1) {
		switch (ch) {
		case 'h':
			e.http_port = (int)oe_emu_optnum("http-port", optarg,
			    0, 65535);
			break;
		case 'e':
			e.events_port = (int)oe_emu_optnum("events-port",
			    optarg, 0, 65535);
			break;
		case 'n':
			e.network_port = (int)oe_emu_optnum(
			    "network-events-port", optarg, 0, 65535);
			break;
		case 'E':
			e.electrodes = (int)oe_emu_optnum("electrodes", optarg,
			    1, 1024);
			break;
		case 'r':
			e.sample_rate = oe_emu_optnum("sample-rate", optarg,
			    1000, 200000);
			break;
		case 'R':
			e.spike_rate = oe_emu_optnum("spike-rate", optarg, 0,
			    1000);
			break;
		case 's':
			e.seed = (uint64_t)oe_emu_optnum("seed", optarg, 0,
			    9007199254740992.0);
			break;
		case 'b':
			e.block = (int)oe_emu_optnum("block-samples", optarg,
			    1, 65536);
			break;
		case 'S':
			e.stream = optarg;
			for (i = 0; optarg[i] != '\0'; i++) {
				if (optarg[i] == ' ' || optarg[i] == '\t' ||
				    (unsigned char)optarg[i] < 0x20)
					break;
			}
			if (i == 0 || i > 63 || optarg[i] != '\0') {
				emu_log("--stream '%s': need 1-63 "
				    "characters without spaces", optarg);
				exit(2);
			}
			break;
		case 'i':
			e.electrode_index = 1;
			break;
		case 'c':
			e.control = optarg;
			break;
		case 'N':
			e.network_events = 0;
			break;
		default:
			oe_emu_usage();
		}
	}
	if (optind != argc)
		oe_emu_usage();

	sb_rng_seed(&e.rng, e.seed, 0);
	for (c = 0; c < OE_EMU_RHS_CHANNELS; c++) {
		e.rhs[c].din = -1;
		e.rhs[c].pulses = 1;
	}
	e.next_spike = calloc((size_t)e.electrodes, sizeof *e.next_spike);
	e.recording = json_pack("{s:s, s:s, s:s, s:s}", "parent_directory",
	    "/tmp", "base_text", "", "prepend_text", "", "append_text", "");
	if (e.next_spike == NULL || e.recording == NULL) {
		emu_log("out of memory");
		exit(1);
	}
	if (oe_emu_signals(&e) != 0)
		exit(1);

	/* A test that dies without stopping us does not leave us behind. */
	ppid = getppid();
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0)
		emu_log("prctl: %s", strerror(errno));
	else if (getppid() != ppid)
		oe_emu_stop = SIGTERM;

	if (e.control != NULL && emu_control_open(&e.ctl, e.control,
	    oe_emu_control_line, &e) != 0)
		exit(1);
	if ((e.zctx = zmq_ctx_new()) == NULL || oe_emu_open(&e, 0) != 0) {
		if (e.zctx == NULL)
			emu_log("zmq: %s", zmq_strerror(errno));
		emu_control_close(&e.ctl, e.control);
		exit(1);
	}
	oe_emu_loop(&e);

	oe_emu_stats(&e);
	oe_emu_close(&e);
	zmq_ctx_term(e.zctx);
	emu_control_close(&e.ctl, e.control);
	json_decref(e.recording);
	free(e.pending);
	free(e.next_spike);
	return (oe_emu_stop == -1 ? 1 : 0);
}
