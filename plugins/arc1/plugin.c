/*
 * plugin.c: arc1, the ArC ONE memristor instrument as a synapses plugin
 * (arguments in arc1-config.c, protocol in arc1.h).
 *
 * Operations queue here and run one at a time in the link's thread; reads
 * waiting side by side go to the instrument as one job. A reply that times
 * out or does not parse fails the operation in flight with what happened,
 * and the link resets and re-initialises the board (sb-devlink resync); an
 * unplugged board marks every device offline (operations are refused with
 * that reason, queued ones fail) until the port is back.
 */
#include "config.h"

#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "synbridge-plugin.h"
#include "arc1.h"
#include "sb-args.h"
#include "sb-crossbar.h"

SB_PLUGIN(ARC1_NAME);

int synbridge_plugin_init(struct sb_plugin *, const struct sb_host_api *)
    __attribute__((visibility("default")));
void synbridge_plugin_end(struct sb_plugin *)
    __attribute__((visibility("default")));

/* Queue a completion for poll() (under lock). */
static void
arc1_complete(struct arc1 *a, const struct arc1_op *op, int status,
    double g_before, double g_after, const char *message)
{
	struct arc1_done *d;

	if (a->ndone == a->adone) {
		size_t n = a->adone ? a->adone * 2 : 16;
		struct arc1_done *nd = realloc(a->done, n * sizeof *nd);

		if (nd == NULL)
			return;	/* the host times the operation out */
		a->done = nd;
		a->adone = n;
	}
	d = &a->done[a->ndone++];
	memset(d, 0, sizeof *d);
	d->c.tag = op->tag;
	d->c.device = op->device;
	d->c.status = status;
	d->c.g_before_us = g_before;
	d->c.g_after_us = g_after;
	snprintf(d->c.message, sizeof d->c.message, "%s", message);
	d->mono_us = sb_devlink_mono_us();
	a->ops++;
	if (status != 0)
		a->failures++;
}

/* Fail every queued operation (the link went down), under lock. */
static void
arc1_fail_queue(struct arc1 *a, const char *why)
{
	char msg[160], addr[16];

	while (a->qlen > 0) {
		struct arc1_op *op = &a->queue[a->qhead];

		sb_crossbar_format(a->cfg.bits, op->device, addr, sizeof addr);
		snprintf(msg, sizeof msg, "%s %s: the instrument went offline "
		    "(%s)", a->name, addr, why);
		arc1_complete(a, op, -1, a->g_us[op->device], NAN, msg);
		a->qhead = (a->qhead + 1) % ARC1_QUEUE_MAX;
		a->qlen--;
	}
}

/* sb-devlink: open the port. */
static int
arc1_link_connect(void *ctx, char **cause)
{
	return arc1_serial_open(ctx, cause);
}

/* sb-devlink: reset, init, and read the whole array. */
static int
arc1_link_handshake(void *ctx, char **cause)
{
	struct arc1 *a = ctx;
	unsigned i, n = a->cfg.words * a->cfg.bits;
	double *ohms;
	int rc;

	if (arc1_proto_handshake(a, cause) != 0)
		return -1;
	ohms = calloc(n, sizeof *ohms);
	if (ohms == NULL) {
		sb_cause(cause, "%s: out of memory", a->name);
		return -1;
	}
	rc = arc1_proto_read_all(a, ohms, cause);
	if (rc == 0) {
		pthread_mutex_lock(&a->lock);
		for (i = 0; i < n; i++)
			a->g_us[i] = 1e6 / ohms[i];
		a->fresh = 1;	/* poll() hands the readings to the host */
		pthread_mutex_unlock(&a->lock);
	}
	free(ohms);
	return rc == 0 ? 0 : -1;
}

/* sb-devlink: close the port. */
static void
arc1_link_disconnect(void *ctx)
{
	arc1_serial_close(ctx);
}

/* sb-devlink: down means offline: queued operations fail with why. */
static void
arc1_link_state(void *ctx, enum sb_devlink_state state, const char *why)
{
	struct arc1 *a = ctx;

	if (state == SB_DEVLINK_CONNECTING)
		return;
	pthread_mutex_lock(&a->lock);
	a->first_done = 1;
	if (state == SB_DEVLINK_DOWN)
		arc1_fail_queue(a, why);
	pthread_mutex_unlock(&a->lock);
}

/*
 * Take the next work: one pulse, or up to ARC1_READALL_MAX reads of
 * distinct devices that wait side by side. Under lock.
 */
static unsigned
arc1_take(struct arc1 *a)
{
	unsigned n = 0, i;

	while (a->qlen > 0 && n < ARC1_READALL_MAX) {
		struct arc1_op *op = &a->queue[a->qhead];

		if (n > 0 && (op->kind != ARC1_OP_READ ||
		    a->current[0].kind != ARC1_OP_READ))
			break;
		for (i = 0; i < n; i++)
			if (a->current[i].device == op->device)
				break;
		if (i < n)
			break;	/* the same device twice: next job */
		a->current[n++] = *op;
		a->qhead = (a->qhead + 1) % ARC1_QUEUE_MAX;
		a->qlen--;
		if (a->current[0].kind != ARC1_OP_READ)
			break;
	}
	a->ncurrent = n;
	return n;
}

/* Wait for work, or for the board to say something nobody asked for. */
static int
arc1_link_idle(struct arc1 *a, char **cause)
{
	struct pollfd pfd[2] = {
		{ .fd = a->fd, .events = POLLIN },
		{ .fd = a->dl.wake_fd[0], .events = POLLIN },
	};

	if (poll(pfd, 2, 250) <= 0)
		return 0;
	if (pfd[1].revents & POLLIN)
		sb_devlink_drain_wake(&a->dl);
	if (pfd[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
		sb_cause(cause, "%s: %s hung up (unplugged?)", a->name,
		    a->cfg.port);
		return -2;
	}
	if (pfd[0].revents & POLLIN) {
		sb_devlink_count_malformed(&a->dl, 1);
		sb_cause(cause, "bytes from the instrument nobody asked for");
		return -1;
	}
	return 0;
}

/* sb-devlink: run one job. */
static int
arc1_link_work(void *ctx, char **cause)
{
	struct arc1 *a = ctx;
	uint32_t devices[ARC1_READALL_MAX];
	double ohms[ARC1_READALL_MAX], g_before;
	char addr[16], msg[256];
	struct arc1_op *op = &a->current[0];
	unsigned i, n;
	int rc;

	pthread_mutex_lock(&a->lock);
	n = arc1_take(a);
	pthread_mutex_unlock(&a->lock);
	if (n == 0)
		return arc1_link_idle(a, cause);
	if (op->kind == ARC1_OP_PULSE)
		rc = arc1_proto_pulse(a, op->device, op->amplitude_v,
		    op->width_us, op->count, &ohms[0], cause);
	else {
		for (i = 0; i < n; i++)
			devices[i] = a->current[i].device;
		rc = arc1_proto_read_list(a, devices, n, ohms, cause);
	}
	pthread_mutex_lock(&a->lock);
	for (i = 0; i < n; i++) {
		op = &a->current[i];
		g_before = a->g_us[op->device];
		sb_crossbar_format(a->cfg.bits, op->device, addr, sizeof addr);
		if (rc == 0) {
			a->g_us[op->device] = 1e6 / ohms[i];
			arc1_complete(a, op, 0, g_before, a->g_us[op->device],
			    "");
			continue;
		}
		/* a read is safe to repeat: once, after the resync */
		if (rc == -1 && op->kind == ARC1_OP_READ && !op->retried &&
		    a->qlen < ARC1_QUEUE_MAX) {
			a->qhead = (a->qhead + ARC1_QUEUE_MAX - 1) %
			    ARC1_QUEUE_MAX;
			a->queue[a->qhead] = *op;
			a->queue[a->qhead].retried = 1;
			a->qlen++;
			continue;
		}
		snprintf(msg, sizeof msg, "%s %s: %s failed: %s; %s%s", a->name,
		    addr, op->kind == ARC1_OP_PULSE ? "pulse" : "read",
		    *cause != NULL ? *cause : "no reason given", rc == -2 ?
		    "the instrument is gone (reconnecting)" : "resetting the "
		    "instrument", op->kind == ARC1_OP_PULSE ? " (the pulses "
		    "may or may not have been applied: read it to know)" : "");
		arc1_complete(a, op, -1, g_before, NAN, msg);
	}
	a->ncurrent = 0;
	pthread_mutex_unlock(&a->lock);
	return rc;
}

static const struct sb_devlink_ops arc1_link_ops = {
	.connect = arc1_link_connect,
	.handshake = arc1_link_handshake,
	.work = arc1_link_work,
	.disconnect = arc1_link_disconnect,
	.state_changed = arc1_link_state,
};

/* sb_synapses.address: w1b1 .. w32b32, as the instrument numbers them. */
static int
arc1_address(void *data, const char *spec, uint32_t *device, char **cause)
{
	struct arc1 *a = data;

	return sb_crossbar_parse(a->name, a->cfg.words, a->cfg.bits, spec,
	    device, cause);
}

/* sb_synapses.limits: the same for every device of the instrument. */
static void
arc1_limits(void *data, uint32_t device, struct sb_device_limits *l)
{
	struct arc1 *a = data;
	const struct arc1_config *c = &a->cfg;

	(void)device;
	memset(l, 0, sizeof *l);
	l->max_abs_v = c->max_v;
	l->max_width_us = c->max_width_us;
	l->min_width_us = c->min_width_us;
	l->max_count = c->max_count;
	l->ltp_v = c->ltp_v;
	l->ltd_v = c->ltd_v;
	l->width_us = c->width_us;
	l->g_min_us = 1e6 / c->rmax;
	l->g_max_us = 1e6 / c->rmin;
	/* a pulse and read through the serial line: >= 10 ms (the paper) */
	l->latency_us = 10000;
	l->weight_from = c->weight_from;
}

static int arc1_offline(void *, uint32_t, char *, size_t);

/* Queue one operation; -1 with *cause when it cannot be taken. */
static int
arc1_queue(struct arc1 *a, const struct arc1_op *op, char **cause)
{
	char why[SB_DEVLINK_TEXT];

	if (arc1_offline(a, 0, why, sizeof why) != 0) {
		sb_cause(cause, "%s is %s", a->name, why);
		return -1;
	}
	pthread_mutex_lock(&a->lock);
	if (a->qlen == ARC1_QUEUE_MAX) {
		pthread_mutex_unlock(&a->lock);
		sb_cause(cause, "%s is busy: %u operations wait (try again "
		    "when they are done)", a->name, ARC1_QUEUE_MAX);
		return -1;
	}
	a->queue[(a->qhead + a->qlen) % ARC1_QUEUE_MAX] = *op;
	a->qlen++;
	pthread_mutex_unlock(&a->lock);
	sb_devlink_wake(&a->dl);
	return 0;
}

/* sb_synapses.pulse: checked against the limits here too (the last line
 * of defence before the instrument's +-12 V). */
static int
arc1_pulse(void *data, uint32_t device, double amplitude_v,
    uint32_t width_us, uint32_t count, uint64_t tag, char **cause)
{
	struct arc1 *a = data;
	const struct arc1_config *c = &a->cfg;
	struct arc1_op op = { .kind = ARC1_OP_PULSE, .tag = tag,
	    .device = device, .amplitude_v = amplitude_v, .width_us = width_us,
	    .count = count };

	if (device >= c->words * c->bits) {
		sb_cause(cause, "%s: no device %u", a->name, device);
		return -1;
	}
	if (!isfinite(amplitude_v) || fabs(amplitude_v) > c->max_v ||
	    width_us < c->min_width_us || width_us > c->max_width_us ||
	    count == 0 || count > c->max_count) {
		sb_cause(cause, "%s: %+.2f V, %u us x %u is beyond this "
		    "instrument's limits (|V| <= %.2f V, %u-%u us, 1-%u "
		    "pulses; raise max_v=, max_width_us= on the load line, "
		    "up to 12 V and 10 s)", a->name, amplitude_v, width_us,
		    count, c->max_v, c->min_width_us, c->max_width_us,
		    c->max_count);
		return -1;
	}
	return arc1_queue(a, &op, cause);
}

/* sb_synapses.read */
static int
arc1_read(void *data, uint32_t device, uint64_t tag, char **cause)
{
	struct arc1 *a = data;
	struct arc1_op op = { .kind = ARC1_OP_READ, .tag = tag,
	    .device = device };

	if (device >= a->cfg.words * a->cfg.bits) {
		sb_cause(cause, "%s: no device %u", a->name, device);
		return -1;
	}
	return arc1_queue(a, &op, cause);
}

/* sb_synapses.conductance: the last reading (NaN before the first). */
static double
arc1_conductance(void *data, uint32_t device)
{
	struct arc1 *a = data;
	double g;

	if (device >= a->cfg.words * a->cfg.bits)
		return NAN;
	pthread_mutex_lock(&a->lock);
	g = a->g_us[device];
	pthread_mutex_unlock(&a->lock);
	return g;
}

/* After a (re)connect: every device's reading, as readings nobody asked
 * for, so the host's view and logs follow the instrument. */
static void
arc1_poll_fresh(struct arc1 *a, int64_t now_us, sb_complete_fn fn, void *ctx)
{
	struct sb_completion c;
	uint32_t i, n = a->cfg.words * a->cfg.bits;
	double *g;

	pthread_mutex_lock(&a->lock);
	if (!a->fresh) {
		pthread_mutex_unlock(&a->lock);
		return;
	}
	a->fresh = 0;
	g = malloc(n * sizeof *g);
	if (g != NULL)
		memcpy(g, a->g_us, n * sizeof *g);
	pthread_mutex_unlock(&a->lock);
	if (g == NULL)
		return;
	for (i = 0; i < n; i++) {
		memset(&c, 0, sizeof c);
		c.tag = SB_TAG_UNASKED;
		c.device = i;
		c.g_before_us = NAN;
		c.g_after_us = g[i];
		c.t_us = now_us;
		fn(ctx, &c);
	}
	free(g);
}

/* sb_synapses.poll: hand finished operations to the host. */
static void
arc1_poll(void *data, int64_t now_us, sb_complete_fn fn, void *ctx)
{
	struct arc1 *a = data;
	struct arc1_done *done;
	int64_t mono = sb_devlink_mono_us();
	size_t i, n;

	sb_devlink_poll(&a->dl, a->host, a->p);
	arc1_poll_fresh(a, now_us, fn, ctx);
	pthread_mutex_lock(&a->lock);
	done = a->done;
	n = a->ndone;
	a->done = NULL;
	a->ndone = a->adone = 0;
	pthread_mutex_unlock(&a->lock);
	for (i = 0; i < n; i++) {
		done[i].c.t_us = now_us - (mono - done[i].mono_us);
		fn(ctx, &done[i].c);
	}
	free(done);
}

/* sb_synapses.cancel: the stop button drops the pulses waiting here (the
 * job on the serial line finishes); reads stay. How many. */
static size_t
arc1_cancel(void *data)
{
	struct arc1 *a = data;
	struct arc1_op keep[ARC1_QUEUE_MAX];
	char msg[160], addr[16];
	unsigned i, nkeep = 0, n = 0;

	pthread_mutex_lock(&a->lock);
	for (i = 0; i < a->qlen; i++) {
		struct arc1_op *op = &a->queue[(a->qhead + i) % ARC1_QUEUE_MAX];

		if (op->kind != ARC1_OP_PULSE) {
			keep[nkeep++] = *op;
			continue;
		}
		sb_crossbar_format(a->cfg.bits, op->device, addr, sizeof addr);
		snprintf(msg, sizeof msg, "%s %s: cancelled by stop (not "
		    "applied)", a->name, addr);
		arc1_complete(a, op, -1, a->g_us[op->device], NAN, msg);
		n++;
	}
	for (i = 0; i < nkeep; i++)
		a->queue[(a->qhead + i) % ARC1_QUEUE_MAX] = keep[i];
	a->qlen = nkeep;
	pthread_mutex_unlock(&a->lock);
	return n;
}

/* sb_synapses.offline: every device, while the link is not up. */
static int
arc1_offline(void *data, uint32_t device, char *why, size_t len)
{
	struct arc1 *a = data;
	char text[SB_DEVLINK_TEXT];

	int first_done;

	(void)device;
	pthread_mutex_lock(&a->lock);
	first_done = a->first_done;
	pthread_mutex_unlock(&a->lock);
	/* while the first connection is made, operations wait for it */
	if (!first_done || sb_devlink_is_up(&a->dl))
		return 0;
	sb_devlink_why(&a->dl, text, sizeof text);
	snprintf(why, len, "offline: %s", text);
	return -1;
}

/* sb_link.health */
static size_t
arc1_health(void *data, struct sb_link_health *out, size_t max)
{
	struct arc1 *a = data;

	if (max == 0)
		return 0;
	sb_devlink_health(&a->dl, out);
	return 1;
}

/* sb_link.poll: the link's queued log lines. */
static void
arc1_link_poll(void *data)
{
	struct arc1 *a = data;

	sb_devlink_poll(&a->dl, a->host, a->p);
}

/* free_func of the registration. */
static void
arc1_free(void *data)
{
	struct arc1 *a = data;

	if (a == NULL)
		return;
	sb_devlink_free(&a->dl);
	arc1_serial_close(a);
	pthread_mutex_destroy(&a->lock);
	free(a->queue);
	free(a->done);
	free(a->g_us);
	free(a);
}

/* A port path that can never be a serial port: 0, or -1 with *cause.
 * A path that does not exist yet is fine (the board may come later). */
static int
arc1_port_plausible(const char *port, char **cause)
{
	struct stat st;

	if (stat(port, &st) != 0)
		return 0;
	if (S_ISDIR(st.st_mode)) {
		sb_cause(cause, "arc1: port=%s is a directory: give the serial "
		    "device, e.g. port=/dev/ttyACM0", port);
		return -1;
	}
	if (!S_ISCHR(st.st_mode)) {
		sb_cause(cause, "arc1: port=%s is not a serial device (a "
		    "regular file?): give the board's port, e.g. "
		    "port=/dev/ttyACM0", port);
		return -1;
	}
	return 0;
}

/* Plugin entry point. */
int
synbridge_plugin_init(struct sb_plugin *p, const struct sb_host_api *host)
{
	struct arc1 *a;
	const char *name;
	char *cause = NULL;
	unsigned i, n;

	if (host->size < offsetof(struct sb_host_api, register_link) +
	    sizeof host->register_link || host->register_link == NULL) {
		host->log(p, SB_LOG_ERROR, "arc1: this synbridge is too old "
		    "for device links (rebuild it)");
		return -1;
	}
	if (host->fast(p)) {
		host->log(p, SB_LOG_ERROR, "arc1: --fast runs on virtual time; "
		    "an instrument needs real time (drop --fast)");
		return -1;
	}
	a = calloc(1, sizeof *a);
	if (a == NULL)
		return -1;
	a->fd = -1;
	a->host = host;
	a->p = p;
	pthread_mutex_init(&a->lock, NULL);
	name = host->arg(p, "name");
	snprintf(a->name, sizeof a->name, "%s", name != NULL ? name :
	    ARC1_NAME);
	if (arc1_config_parse(&a->cfg, host, p, &cause) != 0 ||
	    arc1_port_plausible(a->cfg.port, &cause) != 0)
		goto fail_dl;
	n = a->cfg.words * a->cfg.bits;
	a->queue = calloc(ARC1_QUEUE_MAX, sizeof *a->queue);
	a->g_us = calloc(n, sizeof *a->g_us);
	if (a->queue == NULL || a->g_us == NULL) {
		sb_cause(&cause, "arc1: out of memory");
		goto fail_dl;
	}
	for (i = 0; i < n; i++)
		a->g_us[i] = NAN;
	if (sb_devlink_init(&a->dl, a->name, &arc1_link_ops, a,
	    host->seed(p), &cause) != 0)
		goto fail_dl;
	sb_devlink_backoff(&a->dl, 250, a->cfg.backoff_max_ms);

	a->syn.name = a->name;
	a->syn.devices = n;
	a->syn.address = arc1_address;
	a->syn.limits = arc1_limits;
	a->syn.pulse = arc1_pulse;
	a->syn.read = arc1_read;
	a->syn.conductance = arc1_conductance;
	a->syn.poll = arc1_poll;
	a->syn.offline = arc1_offline;
	a->syn.cancel = arc1_cancel;
	a->link.name = a->name;
	a->link.health = arc1_health;
	a->link.poll = arc1_link_poll;
	if (sb_devlink_start(&a->dl, &cause) != 0) {
		sb_devlink_free(&a->dl);
		goto fail_dl;
	}
	if (host->register_synapses(p, &a->syn, a, arc1_free) != 0)
		return -1;	/* the host freed a */
	/* the same data: freed once, with the synapses */
	if (host->register_link(p, &a->link, a, NULL) != 0)
		return -1;
	/* the console goes on: operations wait for the first connection */
	host->log(p, SB_LOG_INFO, "%s: connecting to %s", a->name,
	    a->cfg.port);
	return 0;

fail_dl:
	host->log(p, SB_LOG_ERROR, "%s", cause != NULL ? cause :
	    "arc1: cannot start");
	free(cause);
	pthread_mutex_destroy(&a->lock);
	free(a->queue);
	free(a->g_us);
	free(a);
	return -1;
}

/* Plugin exit point: the host frees what was registered. */
void
synbridge_plugin_end(struct sb_plugin *p)
{
	(void)p;
}
