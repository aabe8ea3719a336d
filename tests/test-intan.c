/*
 * test-intan.c: the intan plugin through the fake host against an RHX
 * emulator on loopback (tests/rhx-emu, written from the protocol notes
 * apart from the plugin): the handshake and the link's detail, spikes as
 * events with session times, records split across reads, a bad magic and
 * garbage recovered, artifacts dropped or kept, stimulation in microamps
 * (the emulator's log shows amplitude and width, evoked spikes come back,
 * an unchanged pulse needs no upload), refusals (volts, a recording-only
 * controller, a stopped RHX), RHX stalling and restarting, and one client
 * per port. Every wait is a condition with a deadline.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake-host.h"
#include "rhx-driver.h"

int synbridge_plugin_init(struct sb_plugin *, const struct sb_host_api *);
void synbridge_plugin_end(struct sb_plugin *);

#define DEADLINE_MS RHX_EMU_DEADLINE_MS
#define EVENTS_CAP (1u << 20)

/* A test's world: the emulator and a loaded plugin. */
struct world {
	struct rhx_emu emu;
	struct sb_plugin *p;
	struct sb_emitter em;
	int started;
};

/* CLOCK_MONOTONIC in microseconds (the session clock here). */
static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* What the engine does on each pass: the clock, then the link's poll. */
static void
engine_pass(struct sb_plugin *p)
{
	p->now = now_us();
	if (p->link.poll != NULL)
		p->link.poll(p->link_data);
}

/* Sleep a little, as the engine loop does. */
static void
nap(void)
{
	poll(NULL, 0, 5);
}

/* The link's health row. */
static struct sb_link_health
health(struct sb_plugin *p)
{
	struct sb_link_health h;

	engine_pass(p);
	assert_int_equal(p->link.health(p->link_data, &h, 1), 1);
	return h;
}

/* Events emitted so far. */
static size_t
nevents(struct sb_plugin *p)
{
	return __atomic_load_n(&p->nevents, __ATOMIC_ACQUIRE);
}

/* Wait until the plugin has emitted n events. */
static void
wait_events(struct sb_plugin *p, size_t n)
{
	int64_t deadline = rhx_emu_now_ms() + DEADLINE_MS;

	while (nevents(p) < n) {
		if (rhx_emu_now_ms() > deadline)
			fail_msg("%zu events, not %zu, within %d ms",
			    nevents(p), n, DEADLINE_MS);
		engine_pass(p);
		nap();
	}
}

/* Wait until the link is in state (or, want_up 0, anything but up). */
static struct sb_link_health
wait_state(struct sb_plugin *p, enum sb_link_state state)
{
	int64_t deadline = rhx_emu_now_ms() + DEADLINE_MS;
	struct sb_link_health h;

	for (;;) {
		h = health(p);
		if (h.state == state)
			return h;
		if (rhx_emu_now_ms() > deadline)
			fail_msg("the link is %d (%s), not %d, after %d ms",
			    h.state, h.detail, state, DEADLINE_MS);
		nap();
	}
}

/* Wait until a counter of the health row (at offset) reaches n. */
static struct sb_link_health
wait_counter(struct sb_plugin *p, size_t offset, uint64_t n)
{
	int64_t deadline = rhx_emu_now_ms() + DEADLINE_MS;
	struct sb_link_health h;

	for (;;) {
		h = health(p);
		if (*(uint64_t *)((char *)&h + offset) >= n)
			return h;
		if (rhx_emu_now_ms() > deadline)
			fail_msg("counter at %zu is %llu, not %llu, after %d "
			    "ms", offset, (unsigned long long)*(uint64_t *)
			    ((char *)&h + offset), (unsigned long long)n,
			    DEADLINE_MS);
		nap();
	}
}

/* Wait until a log line holds text. */
static void
wait_logged(struct sb_plugin *p, const char *text)
{
	int64_t deadline = rhx_emu_now_ms() + DEADLINE_MS;

	while (!fake_plugin_logged(p, text)) {
		if (rhx_emu_now_ms() > deadline)
			fail_msg("no log line with '%s' within %d ms", text,
			    DEADLINE_MS);
		engine_pass(p);
		nap();
	}
}

/* A fresh plugin instance at padova, real time, room for events. */
static struct sb_plugin *
new_plugin(void)
{
	struct sb_plugin *p = fake_plugin_new("padova", 7);

	assert_non_null(p);
	p->fast = 0;
	p->now = now_us();
	p->echo = getenv("INTAN_TEST_ECHO") != NULL;
	p->events = calloc(EVENTS_CAP, sizeof *p->events);
	assert_non_null(p->events);
	p->eventsalloc = EVENTS_CAP;
	return p;
}

/* Load the plugin on the emulator's ports with quick test timings and
 * extra key, value, ... arguments (NULL-terminated); init's status. */
static int
load_on(struct sb_plugin *p, const struct rhx_emu *e, va_list ap)
{
	static char cport[16], sport[16];
	const char *key;

	snprintf(cport, sizeof cport, "%u", e->command_port);
	snprintf(sport, sizeof sport, "%u", e->spike_port);
	fake_plugin_arg(p, "name", "mea");
	fake_plugin_arg(p, "command_port", cport);
	fake_plugin_arg(p, "spike_port", sport);
	fake_plugin_arg(p, "timeout_ms", "400");
	fake_plugin_arg(p, "backoff_max_ms", "200");
	fake_plugin_arg(p, "retry_ms", "300");
	fake_plugin_arg(p, "status_ms", "200");
	while ((key = va_arg(ap, const char *)) != NULL)
		fake_plugin_arg(p, key, va_arg(ap, const char *));
	return synbridge_plugin_init(p, &fake_host);
}

/* Load into w (extra arguments, NULL-terminated); must succeed. */
static void
load(struct world *w, ...)
{
	va_list ap;
	int rc;

	w->p = new_plugin();
	va_start(ap, w);
	rc = load_on(w->p, &w->emu, ap);
	va_end(ap);
	assert_int_equal(rc, 0);
	assert_int_equal(w->p->npops, 1);
	assert_int_equal(w->p->nlinks, 1);
}

/* Start the population (the host would, right after load). */
static void
start(struct world *w)
{
	char *cause = NULL;

	w->em.p = w->p;
	w->em.limit = EVENTS_CAP;
	assert_int_equal(w->p->pops[0].start(w->p->pops_data[0], &w->em,
	    &cause), 0);
	assert_null(cause);
	w->started = 1;
}

/* Stop, unload, stop the emulator. */
static void
world_end(struct world *w)
{
	if (w->p != NULL) {
		if (w->started)
			w->p->pops[0].stop(w->p->pops_data[0]);
		fake_plugin_free(w->p, synbridge_plugin_end);
	}
	w->p = NULL;
	w->started = 0;
	rhx_emu_stop(&w->emu);
}

/* Stimulate through the population as the engine does; 0 or -1 (why). */
static int
stim(struct world *w, uint32_t unit, double ua, uint32_t width_us,
    char **why)
{
	return w->p->pops[0].stimulate(w->p->pops_data[0], unit, ua, width_us,
	    now_us(), why);
}

/* Wait for an emulator line, pumping the engine meanwhile. */
static void
emu_line(struct world *w, const char *prefix, char *line, size_t len)
{
	int64_t deadline = rhx_emu_now_ms() + DEADLINE_MS;

	while (rhx_emu_wait_line(&w->emu, prefix, line, len, 50) != 0) {
		if (rhx_emu_now_ms() > deadline)
			fail_msg("no '%s' line from the emulator within %d ms",
			    prefix, DEADLINE_MS);
		engine_pass(w->p);
	}
}

/*
 * Ask the emulator for its pulse log until a line starts with prefix
 * (pulses are delivered as the emulator generates their frames).
 */
static void
emu_stim_logged(struct world *w, const char *prefix, char *line, size_t len)
{
	int64_t deadline = rhx_emu_now_ms() + DEADLINE_MS;
	char got[256];

	for (;;) {
		line[0] = '\0';
		assert_int_equal(rhx_emu_control(&w->emu, "stim_log"), 0);
		for (;;) {
			emu_line(w, "stim", got, sizeof got);
			if (strncmp(got, "stim_log end", 12) == 0)
				break;
			if (strncmp(got, prefix, strlen(prefix)) == 0)
				snprintf(line, len, "%s", got);	/* the last */
		}
		if (line[0] != '\0')
			return;
		if (rhx_emu_now_ms() > deadline)
			fail_msg("no '%s' in the emulator's pulse log within "
			    "%d ms", prefix, DEADLINE_MS);
		engine_pass(w->p);
		poll(NULL, 0, 20);
	}
}

#define H_MALFORMED offsetof(struct sb_link_health, malformed)
#define H_DROPPED offsetof(struct sb_link_health, gaps)
#define H_RANGE offsetof(struct sb_link_health, out_of_range)

/*
 * The handshake sets RHX up (the link says what it is and the latency
 * floor); spikes come as events of the channels' units, with session
 * times just before they arrived; stop stops RHX and the events.
 */
static void
test_handshake_spikes(void **state)
{
	struct world *w = *state;
	struct sb_link_health h;
	struct sb_neurons *n;
	int64_t t0, t1;
	size_t k, got;
	char line[128];

	assert_int_equal(rhx_emu_start(&w->emu, "--seed", "1", "--spike-rate",
	    "20", NULL), 0);
	load(w, NULL);
	n = &w->p->pops[0];
	assert_string_equal(n->name, "mea");
	assert_int_equal(n->units, 32);
	assert_int_equal(n->stim_unit, SB_STIM_MICROAMPS);
	assert_true(n->stim_step > 0);
	assert_true(fabs(n->stim_max - 255 * n->stim_step) < 1e-9);
	assert_int_equal(n->stim_max_width_us, 5000);
	h = health(w->p);
	assert_string_equal(h.name, "mea");
	assert_int_equal(h.state, SB_LINK_UP);
	assert_non_null(strstr(h.detail, "RHS 30 kHz, stopped, 1 block/write "
	    "= 4.3 ms"));
	assert_int_equal(nevents(w->p), 0);

	t0 = now_us();
	start(w);
	emu_line(w, "runmode Run", line, sizeof line);
	h = wait_state(w->p, SB_LINK_UP);
	assert_non_null(strstr(h.detail, "RHS 30 kHz, running"));
	wait_events(w->p, 200);
	t1 = now_us();
	got = nevents(w->p);
	for (k = 0; k < got; k++) {
		assert_int_equal(w->p->events[k].kind, SB_EV_SPIKE);
		assert_true(w->p->events[k].index < 32);
		assert_true(w->p->events[k].t_us >= t0);
		assert_true(w->p->events[k].t_us <= t1);
	}
	h = health(w->p);
	assert_int_equal(h.malformed, 0);
	assert_int_equal(h.out_of_range, 0);
	assert_true(h.last_batch_age_s < 1);
	assert_true(isnan(h.loss_pct));

	w->p->pops[0].stop(w->p->pops_data[0]);
	w->started = 0;
	emu_line(w, "runmode Stop", line, sizeof line);
	got = nevents(w->p);
	poll(NULL, 0, 100);
	engine_pass(w->p);
	assert_int_equal(nevents(w->p), got);	/* nothing after stop */
}

/* The latency floor at RHX's default batching. */
static void
test_blocks_per_write(void **state)
{
	struct world *w = *state;
	struct sb_link_health h;

	assert_int_equal(rhx_emu_start(&w->emu, "--seed", "2", NULL), 0);
	load(w, "blocks_per_write", "10", NULL);
	h = health(w->p);
	assert_non_null(strstr(h.detail, "10 blocks/write = 42.7 ms"));
}

/*
 * Records split into 1..13-byte pieces lose nothing; a bad magic and
 * random garbage are each found, counted as malformed, said once, and
 * spikes go on.
 */
static void
test_split_bad_magic(void **state)
{
	struct world *w = *state;
	struct sb_link_health h;
	size_t n;

	assert_int_equal(rhx_emu_start(&w->emu, "--seed", "3", "--spike-rate",
	    "30", NULL), 0);
	load(w, NULL);
	start(w);
	wait_events(w->p, 50);
	assert_int_equal(rhx_emu_control(&w->emu, "split"), 0);
	n = nevents(w->p);
	wait_events(w->p, n + 300);
	h = health(w->p);
	assert_int_equal(h.malformed, 0);

	assert_int_equal(rhx_emu_control(&w->emu, "badmagic"), 0);
	h = wait_counter(w->p, H_MALFORMED, 1);
	wait_logged(w->p, "out of step");
	n = nevents(w->p);
	wait_events(w->p, n + 100);
	assert_int_equal(rhx_emu_control(&w->emu, "split off"), 0);
	assert_int_equal(rhx_emu_control(&w->emu, "garbage 5000"), 0);
	wait_counter(w->p, H_MALFORMED, h.malformed + 1);
	n = nevents(w->p);
	wait_events(w->p, n + 100);
	h = health(w->p);
	assert_int_equal(h.state, SB_LINK_UP);
}

/* Records flagged as artifacts: dropped and counted, or kept. */
static void
test_artifacts(void **state)
{
	struct world *w = *state;
	struct sb_link_health h;

	assert_int_equal(rhx_emu_start(&w->emu, "--seed", "4", "--spike-rate",
	    "30", "--artifact-fraction", "1", NULL), 0);
	load(w, NULL);
	start(w);
	h = wait_counter(w->p, H_DROPPED, 100);
	assert_int_equal(nevents(w->p), 0);
	assert_true(fake_plugin_logged(w->p, "artifacts=keep"));
	world_end(w);
	memset(w, 0, sizeof *w);
	assert_int_equal(rhx_emu_start(&w->emu, "--seed", "4", "--spike-rate",
	    "30", "--artifact-fraction", "1", NULL), 0);
	load(w, "artifacts", "keep", NULL);
	start(w);
	wait_events(w->p, 100);
	h = health(w->p);
	assert_int_equal(h.gaps, 0);
}

/*
 * channels= in any order; the outputs another client enabled before are
 * cleared first (ClearAllDataOutputs), so only the listed channels come.
 */
static void
test_channels(void **state)
{
	struct world *w = *state;
	struct sb_link_health h;
	size_t k, n;

	assert_int_equal(rhx_emu_start(&w->emu, "--seed", "5", "--spike-rate",
	    "30", NULL), 0);
	load(w, "channels", "A-016..A-031", NULL);
	fake_plugin_free(w->p, synbridge_plugin_end);
	assert_int_equal(rhx_emu_control(&w->emu, "rearm"), 0);
	load(w, "channels", "A-003,A-000..A-002", NULL);
	assert_int_equal(w->p->pops[0].units, 4);
	start(w);
	wait_events(w->p, 50);
	n = nevents(w->p);
	for (k = 0; k < n; k++)
		assert_true(w->p->events[k].index < 4);
	h = health(w->p);
	assert_int_equal(h.out_of_range, 0);
}

/* Spikes between t and until (session us), and how many were evoked. */
static size_t
spikes_after(struct sb_plugin *p, int64_t t, int64_t until, size_t *evoked)
{
	size_t k, n = nevents(p), c = 0;

	*evoked = 0;
	for (k = 0; k < n; k++) {
		if (p->events[k].t_us < t || p->events[k].t_us > until)
			continue;
		c++;
		if (p->events[k].aux == SB_SPIKE_STIMULATED)
			(*evoked)++;
	}
	return c;
}

/*
 * stim in microamps: the channel's biphasic parameters, an upload and a
 * trigger; the emulator delivers the amplitude and width asked for, and
 * evoked spikes come back marked so. The same pulse again needs no set.
 */
static void
test_stim(void **state)
{
	struct world *w = *state;
	char line[256], *why = NULL;
	long sets, triggers;
	int64_t t_trig;
	size_t evoked, c;
	unsigned frame;
	double step;

	assert_int_equal(rhx_emu_start(&w->emu, "--seed", "6", "--spike-rate",
	    "1", "--step-ua", "0.5", NULL), 0);
	load(w, NULL);
	step = w->p->pops[0].stim_step;
	assert_true(fabs(step - 0.5) < 1e-9);
	assert_true(fabs(w->p->pops[0].stim_max - 127.5) < 1e-9);

	/* stopped: refused with the reason */
	assert_int_equal(stim(w, 3, 100, 150, &why), -1);
	assert_non_null(strstr(why, "not acquiring"));
	free(why);
	why = NULL;

	start(w);
	emu_line(w, "runmode Run", line, sizeof line);
	assert_int_equal(stim(w, 3, 100, 150, &why), 0);
	emu_line(w, "triggered F1", line, sizeof line);
	assert_non_null(strstr(line, " A-003 "));
	assert_int_equal(sscanf(strstr(line, "us="), "us=%" SCNd64, &t_trig),
	    1);
	emu_stim_logged(w, "stim A-003", line, sizeof line);
	assert_int_equal(sscanf(line, "stim A-003 %u", &frame), 1);
	assert_non_null(strstr(line, " 100 150"));

	/* evoked spikes come back within 20 ms, marked as evoked */
	{
		int64_t deadline = rhx_emu_now_ms() + DEADLINE_MS;

		do {
			engine_pass(w->p);
			nap();
			c = spikes_after(w->p, t_trig, t_trig + 20000,
			    &evoked);
		} while (evoked < 3 && rhx_emu_now_ms() < deadline);
		print_message("# %zu spikes within 20 ms of the pulse, %zu "
		    "marked evoked\n", c, evoked);
		assert_true(evoked >= 3);
	}

	/* the same pulse: a trigger only, no parameters sent */
	sets = rhx_emu_stat(&w->emu, "sets");
	triggers = rhx_emu_stat(&w->emu, "triggers");
	poll(NULL, 0, 20);	/* past the settle time of the last pulse */
	assert_int_equal(stim(w, 3, 100, 150, &why), 0);
	emu_line(w, "triggered F1", line, sizeof line);
	assert_int_equal(rhx_emu_stat(&w->emu, "sets"), sets);
	assert_int_equal(rhx_emu_stat(&w->emu, "triggers"), triggers + 1);

	/* another channel: only it fires (the first is taken off F1) */
	assert_int_equal(stim(w, 7, -4, 300, &why), 0);
	emu_line(w, "triggered F1", line, sizeof line);
	assert_non_null(strstr(line, " A-007 "));
	assert_null(strstr(line, "A-003"));
	emu_stim_logged(w, "stim A-007", line, sizeof line);
	assert_non_null(strstr(line, " 4 300"));

	/* refusals: off the step range, too wide, beyond the units */
	assert_int_equal(stim(w, 3, 0.2, 100, &why), -1);
	assert_non_null(strstr(why, "half a step"));
	free(why);
	assert_int_equal(stim(w, 3, 200, 100, &why), -1);
	assert_non_null(strstr(why, "at most 127.5 uA"));
	free(why);
	assert_int_equal(stim(w, 3, 10, 6000, &why), -1);
	free(why);
	assert_int_equal(stim(w, 40, 10, 100, &why), -1);
	free(why);
	why = NULL;

	/* synaptic input: weight 255 of syn_stim_ua (20 uA default) */
	w->p->pops[0].synaptic_input(w->p->pops_data[0], 5, 255, 100.0,
	    now_us());
	emu_line(w, "triggered F1", line, sizeof line);
	assert_non_null(strstr(line, " A-005"));
	emu_stim_logged(w, "stim A-005", line, sizeof line);
	assert_non_null(strstr(line, " 20 200"));
}

/* A recording-only controller: stim is refused with the reason. */
static void
test_recording_only(void **state)
{
	struct world *w = *state;
	struct sb_link_health h;
	char *why = NULL;

	assert_int_equal(rhx_emu_start(&w->emu, "--seed", "7", "--controller",
	    "record", NULL), 0);
	load(w, NULL);
	assert_int_equal(w->p->pops[0].stim_unit, SB_STIM_MICROAMPS);
	assert_true(w->p->pops[0].stim_step == 0);
	start(w);
	h = wait_state(w->p, SB_LINK_UP);
	assert_non_null(strstr(h.detail, "RHD"));
	assert_int_equal(stim(w, 0, 10, 100, &why), -1);
	assert_non_null(strstr(why, "recording controller"));
	free(why);
	wait_events(w->p, 1);
}

/*
 * RHX stalls (reads no command for a while): the link is degraded with
 * why, the connection kept and spikes keep flowing; it is set up again
 * when RHX answers.
 */
static void
test_stall(void **state)
{
	struct world *w = *state;
	struct sb_link_health h;
	char *why = NULL, got[256];
	int64_t deadline;
	int delivered;
	long clients;
	size_t n;

	assert_int_equal(rhx_emu_start(&w->emu, "--seed", "8", "--spike-rate",
	    "30", NULL), 0);
	load(w, NULL);
	start(w);
	wait_state(w->p, SB_LINK_UP);
	clients = rhx_emu_stat(&w->emu, "clients");
	assert_int_equal(rhx_emu_control(&w->emu, "stall 4000"), 0);
	h = wait_state(w->p, SB_LINK_DEGRADED);
	assert_non_null(strstr(h.detail, "answer"));
	/* a stimulation asked for meanwhile is delivered late or said to
	 * have failed: never silently lost */
	assert_int_equal(stim(w, 7, 20, 200, &why), 0);
	n = nevents(w->p);
	wait_events(w->p, n + 100);	/* spikes during the stall */
	wait_state(w->p, SB_LINK_UP);
	assert_int_equal(rhx_emu_stat(&w->emu, "clients"), clients);
	deadline = rhx_emu_now_ms() + DEADLINE_MS;
	for (;;) {
		engine_pass(w->p);
		if (fake_plugin_logged(w->p, "A-007") &&
		    fake_plugin_logged(w->p, "not delivered"))
			break;		/* said */
		assert_int_equal(rhx_emu_control(&w->emu, "stim_log"), 0);
		delivered = 0;
		for (;;) {
			emu_line(w, "stim", got, sizeof got);
			if (strncmp(got, "stim_log end", 12) == 0)
				break;
			if (strncmp(got, "stim A-007 ", 11) == 0)
				delivered = 1;
		}
		if (delivered)
			break;		/* late, but delivered */
		if (rhx_emu_now_ms() > deadline)
			fail_msg("a stimulation asked for during a stall was "
			    "neither delivered nor reported");
		poll(NULL, 0, 50);
	}
}

/*
 * RHX restarted mid-session (stopped, default settings): the plugin
 * reconnects by itself, sets it up again, runs it and spikes flow again;
 * stimulation works again, with the channel set up from scratch (RHX
 * forgot it) on the key stim_key= names.
 */
static void
test_restart(void **state)
{
	struct world *w = *state;
	char line[256], *why = NULL;
	int64_t deadline;
	size_t n;

	assert_int_equal(rhx_emu_start(&w->emu, "--seed", "9", "--spike-rate",
	    "30", NULL), 0);
	load(w, "stim_key", "F3", NULL);
	start(w);
	emu_line(w, "runmode Run", line, sizeof line);
	wait_events(w->p, 50);
	assert_int_equal(stim(w, 2, 30, 100, &why), 0);
	emu_line(w, "triggered F3", line, sizeof line);
	assert_non_null(strstr(line, " A-002"));

	assert_int_equal(rhx_emu_control(&w->emu, "restart"), 0);
	emu_line(w, "restarted", line, sizeof line);
	emu_line(w, "runmode Run", line, sizeof line);	/* resumed */
	n = nevents(w->p);
	wait_events(w->p, n + 100);
	wait_state(w->p, SB_LINK_UP);
	wait_logged(w->p, "up again");

	/* RHX forgot the channel: it is set up again from scratch */
	deadline = rhx_emu_now_ms() + DEADLINE_MS;
	while (stim(w, 2, 31, 100, &why) != 0) {	/* until it runs */
		free(why);
		why = NULL;
		if (rhx_emu_now_ms() > deadline)
			fail_msg("stim refused after the restart");
		engine_pass(w->p);
		nap();
	}
	emu_line(w, "triggered F3", line, sizeof line);
	assert_non_null(strstr(line, " A-002"));
	/* the pulse log may still end with the first pulse (30 100) */
	deadline = rhx_emu_now_ms() + DEADLINE_MS;
	do
		emu_stim_logged(w, "stim A-002", line, sizeof line);
	while (strstr(line, " 31 100") == NULL &&
	    rhx_emu_now_ms() < deadline);
	assert_non_null(strstr(line, " 31 100"));
}

/*
 * One client per port: a second instance finds the command port taken and
 * says what to do; when the first leaves, RHX does not listen until the
 * GUI's Connect (rearm), and then the second connects by itself.
 */
static void
test_one_client(void **state)
{
	struct world *w = *state;
	struct sb_plugin *second;
	struct sb_link_health h;
	char why[512], cport[16], sport[16];

	assert_int_equal(rhx_emu_start(&w->emu, "--seed", "10", NULL), 0);
	load(w, NULL);
	second = new_plugin();
	snprintf(cport, sizeof cport, "%u", w->emu.command_port);
	snprintf(sport, sizeof sport, "%u", w->emu.spike_port);
	assert_int_equal(fake_plugin_load(second, synbridge_plugin_init,
	    "name", "mea2", "command_port", cport, "spike_port", sport,
	    "timeout_ms", "400", "backoff_max_ms", "200", "wait_ms", "300",
	    NULL), 0);
	h = health(second);
	assert_int_equal(h.state, SB_LINK_DOWN);
	snprintf(why, sizeof why, "%s", h.detail);
	assert_non_null(strstr(why, "RHX does not accept connections"));
	assert_true(fake_plugin_logged(second, "Remote TCP Control > "
	    "Connect"));
	/* the first leaves; the port stays closed until Connect is clicked */
	fake_plugin_free(w->p, synbridge_plugin_end);
	w->p = NULL;
	poll(NULL, 0, 500);
	h = health(second);
	assert_int_equal(h.state, SB_LINK_DOWN);
	assert_int_equal(rhx_emu_control(&w->emu, "rearm"), 0);
	wait_state(second, SB_LINK_UP);
	fake_plugin_free(second, synbridge_plugin_end);
}

/* cmocka setup: an empty world. */
static int
world_setup(void **state)
{
	struct world *w = calloc(1, sizeof *w);

	if (w == NULL)
		return -1;
	w->emu.p.out = -1;
	*state = w;
	return 0;
}

/* cmocka teardown: whatever the test left, even when it failed. */
static int
world_teardown(void **state)
{
	struct world *w = *state;

	world_end(w);
	free(w);
	return 0;
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, world_setup, \
	world_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_handshake_spikes),
		TEST(test_blocks_per_write),
		TEST(test_split_bad_magic),
		TEST(test_artifacts),
		TEST(test_channels),
		TEST(test_stim),
		TEST(test_recording_only),
		TEST(test_stall),
		TEST(test_restart),
		TEST(test_one_client),
	};

	signal(SIGPIPE, SIG_IGN);	/* as the console does */
	if (getenv("INTAN_TEST_ONLY") != NULL)	/* e.g. test_stim */
		cmocka_set_test_filter(getenv("INTAN_TEST_ONLY"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
