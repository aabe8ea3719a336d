/*
 * test-arc1.c: the arc1 plugin against an ArC ONE emulator on a
 * pseudo-terminal (tests/arc1-emu, written from the protocol notes, not
 * from the plugin): handshake, reads, pulses that move R the way the
 * device model says, batched reads, and every fault the emulator can
 * play (slow replies, silence until reset, junk bytes, a refused init,
 * the port unplugged and back), each recovered with nothing else
 * disturbed. Every wait is a condition with a deadline.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fake-host.h"
#include "arc1-driver.h"
#include "sb-devlink.h"

int synbridge_plugin_init(struct sb_plugin *, const struct sb_host_api *);
void synbridge_plugin_end(struct sb_plugin *);

#define DEADLINE_MS ARC1_EMU_DEADLINE_MS

/* A test's world: the emulator and a loaded plugin. */
struct world {
	struct arc1_emu emu;
	struct sb_plugin *p;
	struct sb_completion done[512];
	size_t ndone;
	size_t unasked;		/* readings handed over without a request */
	uint64_t tag;
};

/* Start the emulator with the tests' options and extra ones. */
#define emu_start(e, ...) \
	assert_int_equal(arc1_emu_start((e), "--reset-ms", "20", "--seed", \
	    "7", __VA_ARGS__), 0)

/* Send a control command. */
static void
emu_control(struct arc1_emu *e, const char *cmd)
{
	assert_int_equal(arc1_emu_control(e, cmd), 0);
}

/* Wait for a line of the emulator's. */
static int
emu_wait_line(struct arc1_emu *e, const char *prefix, char *line, size_t len)
{
	return arc1_emu_wait_line(e, prefix, line, len);
}

/* A counter from the emulator's stats line. */
static long
emu_stat(struct arc1_emu *e, const char *key)
{
	long n = arc1_emu_stat(e, key);

	assert_true(n >= 0);
	return n;
}

/* The emulator's noise-free resistance of a device (1-based lines). */
static double
emu_ohms(struct arc1_emu *e, unsigned w, unsigned b)
{
	double r = arc1_emu_ohms(e, w, b);

	assert_true(isfinite(r));
	return r;
}

#define emu_stop arc1_emu_stop

/* sb_complete_fn: keep every completion. */
static void
collect(void *ctx, const struct sb_completion *c)
{
	struct world *w = ctx;

	if (c->tag == SB_TAG_UNASKED) {
		w->unasked++;	/* the array read at (re)connect */
		return;
	}
	if (w->ndone < sizeof w->done / sizeof w->done[0])
		w->done[w->ndone++] = *c;
}

/* Poll the plugin (as the engine does) until tag completes; its entry. */
static const struct sb_completion *
wait_done(struct world *w, uint64_t tag)
{
	int64_t deadline = arc1_emu_now_ms() + DEADLINE_MS;
	struct timespec ts = { 0, 2000000L };
	size_t i;

	while (arc1_emu_now_ms() < deadline) {
		w->p->synapses.poll(w->p->synapses_data, w->p->now, collect, w);
		w->p->link.poll(w->p->link_data);
		for (i = 0; i < w->ndone; i++)
			if (w->done[i].tag == tag)
				return &w->done[i];
		nanosleep(&ts, NULL);
	}
	fail_msg("operation %llu did not complete within %d ms",
	    (unsigned long long)tag, DEADLINE_MS);
	return NULL;
}

/* Wait until the link is up (or down, with up = 0). */
static void
wait_link(struct world *w, int up)
{
	int64_t deadline = arc1_emu_now_ms() + DEADLINE_MS;
	struct timespec ts = { 0, 5000000L };
	struct sb_link_health h;

	while (arc1_emu_now_ms() < deadline) {
		w->p->link.health(w->p->link_data, &h, 1);
		w->p->link.poll(w->p->link_data);
		if ((h.state == SB_LINK_UP) == up)
			return;
		nanosleep(&ts, NULL);
	}
	fail_msg("the link did not go %s within %d ms", up ? "up" : "down",
	    DEADLINE_MS);
}

/* Load the plugin on the emulator's port with quick test timings. */
/*
 * A time in ms as a load-line value: 4 times as long under a sanitizer
 * (which makes the plugin and the emulator several times slower), so
 * that the timeouts keep their relations to each other and to the
 * emulator's faults and still hold on a loaded machine.
 */
static const char *
ms(unsigned v)
{
	static char buf[8][16];
	static unsigned next;
	const char *san = getenv("SB_SANITIZE");
	char *b = buf[next++ % 8];

	snprintf(b, sizeof buf[0], "%u", san != NULL && strcmp(san, "yes") ==
	    0 ? 4 * v : v);
	return b;
}

static void
world_load(struct world *w, unsigned timeout_ms)
{
	w->p = fake_plugin_new("southampton", 1);
	assert_non_null(w->p);
	w->p->echo = getenv("ARC1_TEST_ECHO") != NULL;
	w->p->fast = 0;		/* an instrument runs in real time */
	assert_int_equal(fake_plugin_load(w->p, synbridge_plugin_init,
	    "name", "arc", "port", w->emu.port, "reset_ms", "30",
	    "settle_ms", "0", "timeout_ms", ms(timeout_ms), "init_timeout_ms",
	    ms(600), "version_timeout_ms", ms(200), "pace_us", "500",
	    "backoff_max_ms", "200", NULL), 0);
}

/* Queue a read of device; returns its tag. */
static uint64_t
start_read(struct world *w, uint32_t device)
{
	char *cause = NULL;

	assert_int_equal(w->p->synapses.read(w->p->synapses_data, device,
	    ++w->tag, &cause), 0);
	assert_null(cause);
	return w->tag;
}

/* Read device until it works (the link may be down meanwhile); its G. */
static double
read_eventually(struct world *w, uint32_t device)
{
	int64_t deadline = arc1_emu_now_ms() + DEADLINE_MS;
	struct timespec ts = { 0, 10000000L };
	const struct sb_completion *c;
	char *cause = NULL;

	while (arc1_emu_now_ms() < deadline) {
		if (w->p->synapses.read(w->p->synapses_data, device,
		    ++w->tag, &cause) != 0) {
			free(cause);	/* offline while it reconnects */
			cause = NULL;
			w->p->link.poll(w->p->link_data);
			nanosleep(&ts, NULL);
			continue;
		}
		c = wait_done(w, w->tag);
		if (c->status == 0)
			return c->g_after_us;
	}
	fail_msg("device %u could not be read within %d ms", device,
	    DEADLINE_MS);
	return NAN;
}

/* Read device and return its conductance (uS); the read must succeed. */
static double
read_ok(struct world *w, uint32_t device)
{
	const struct sb_completion *c = wait_done(w, start_read(w, device));

	assert_int_equal(c->status, 0);
	assert_true(isfinite(c->g_after_us));
	return c->g_after_us;
}

/* Pulse device once; the completion. */
static const struct sb_completion *
pulse(struct world *w, uint32_t device, double v, uint32_t width_us)
{
	char *cause = NULL;

	assert_int_equal(w->p->synapses.pulse(w->p->synapses_data, device, v,
	    width_us, 1, ++w->tag, &cause), 0);
	assert_null(cause);
	return wait_done(w, w->tag);
}

/* Set up a world (state for cmocka). */
static int
setup(void **state)
{
	struct world *w = calloc(1, sizeof *w);

	emu_start(&w->emu, NULL);
	world_load(w, 300);
	wait_link(w, 1);
	*state = w;
	return 0;
}

/* Tear a world down. */
static int
teardown(void **state)
{
	struct world *w = *state;

	fake_plugin_free(w->p, synbridge_plugin_end);
	emu_stop(&w->emu);
	free(w);
	return 0;
}

/* Handshake: up, the firmware named, every device read at connect. */
static void
test_handshake(void **state)
{
	struct world *w = *state;
	struct sb_link_health h;
	struct sb_device_limits l;
	uint32_t dev;
	char *cause = NULL;
	int64_t deadline;
	double g;

	w->p->link.health(w->p->link_data, &h, 1);
	assert_int_equal(h.state, SB_LINK_UP);
	assert_string_equal(h.name, "arc");
	assert_non_null(strstr(h.detail, "firmware"));
	assert_true(isnan(h.rtt_ms));
	assert_true(emu_stat(&w->emu, "inits") >= 1);
	assert_true(emu_stat(&w->emu, "readalls") >= 1);
	/* the whole array read at connect reaches the host as readings */
	deadline = arc1_emu_now_ms() + DEADLINE_MS;
	while (w->unasked < 1024 && arc1_emu_now_ms() < deadline)
		w->p->synapses.poll(w->p->synapses_data, 0, collect, w);
	assert_int_equal(w->unasked, 1024);
	/* every device known after the read of the whole array */
	for (dev = 0; dev < 1024; dev += 37) {
		g = w->p->synapses.conductance(w->p->synapses_data, dev);
		assert_true(isfinite(g) && g > 1 && g < 1e6);
	}
	/* addresses as the instrument numbers them */
	assert_int_equal(w->p->synapses.address(w->p->synapses_data, "w1b1",
	    &dev, &cause), 0);
	assert_int_equal(dev, 0);
	assert_int_equal(w->p->synapses.address(w->p->synapses_data, "w32b32",
	    &dev, &cause), 0);
	assert_int_equal(dev, 1023);
	assert_int_equal(w->p->synapses.address(w->p->synapses_data, "w0b1",
	    &dev, &cause), -1);
	assert_non_null(strstr(cause, "count from 1"));
	free(cause);
	/* the paper's defaults; weight grows with R */
	w->p->synapses.limits(w->p->synapses_data, 0, &l);
	assert_true(l.ltp_v == 4.0 && l.ltd_v == -4.0 && l.width_us == 100);
	assert_int_equal(l.weight_from, SB_WEIGHT_FROM_R);
	assert_true(fabs(l.g_min_us - 1e6 / 9000) < 1e-9);
}

/* A read agrees with the emulator's device; a pulse moves R its way. */
static void
test_read_and_pulse(void **state)
{
	struct world *w = *state;
	const struct sb_completion *c;
	char dir[64];
	double r_true, r_read, r_before, r_after;
	int i, raises;

	r_true = emu_ohms(&w->emu, 3, 5);
	r_read = 1e6 / read_ok(w, 2 * 32 + 4);
	assert_true(fabs(r_read - r_true) / r_true < 0.05);

	emu_control(&w->emu, "direction");
	assert_int_equal(emu_wait_line(&w->emu, "direction", dir, sizeof dir),
	    0);
	raises = strstr(dir, "raises") != NULL;
	assert_true(raises || strstr(dir, "lowers") != NULL);
	r_before = emu_ohms(&w->emu, 3, 5);
	for (i = 0; i < 5; i++) {
		c = pulse(w, 2 * 32 + 4, 4.0, 100);
		assert_int_equal(c->status, 0);
		assert_true(isfinite(c->g_before_us) &&
		    isfinite(c->g_after_us));
	}
	r_after = emu_ohms(&w->emu, 3, 5);
	if (raises)
		assert_true(r_after > r_before);
	else
		assert_true(r_after < r_before);
	/* what the plugin read back is the device's state */
	assert_true(fabs(1e6 / c->g_after_us - r_after) / r_after < 0.05);
	assert_true(emu_stat(&w->emu, "pulses") >= 5);
}

/* Several pulses in one request: select and pulse, then one read. */
static void
test_pulse_train(void **state)
{
	struct world *w = *state;
	const struct sb_completion *c;
	long before = emu_stat(&w->emu, "pulses");
	char *cause = NULL;

	assert_int_equal(w->p->synapses.pulse(w->p->synapses_data, 7, -4.0,
	    100, 10, ++w->tag, &cause), 0);
	c = wait_done(w, w->tag);
	assert_int_equal(c->status, 0);
	assert_int_equal(emu_stat(&w->emu, "pulses") - before, 10);
}

/* Reads side by side go out as one job; each gets its own answer. */
static void
test_read_batch(void **state)
{
	struct world *w = *state;
	uint64_t tags[6];
	long before = emu_stat(&w->emu, "readalls");
	const struct sb_completion *c;
	int i;

	for (i = 0; i < 6; i++)
		tags[i] = start_read(w, (uint32_t)(100 + i * 33));
	for (i = 0; i < 6; i++) {
		c = wait_done(w, tags[i]);
		assert_int_equal(c->status, 0);
		assert_int_equal(c->device, 100 + i * 33);
		assert_true(fabs(1e6 / c->g_after_us - emu_ohms(&w->emu,
		    (100 + i * 33) / 32 + 1, (100 + i * 33) % 32 + 1)) <
		    0.05 * 1e6 / c->g_after_us);
	}
	/* at least one list read carried more than one device */
	assert_true(emu_stat(&w->emu, "readalls") > before);
}

/* The safety limits are enforced in the plugin itself. */
static void
test_limits(void **state)
{
	struct world *w = *state;
	char *cause = NULL;

	assert_int_equal(w->p->synapses.pulse(w->p->synapses_data, 0, 4.5,
	    100, 1, ++w->tag, &cause), -1);
	assert_non_null(strstr(cause, "|V| <= 4.00 V"));
	free(cause);
	cause = NULL;
	assert_int_equal(w->p->synapses.pulse(w->p->synapses_data, 0, 4.0,
	    5000, 1, ++w->tag, &cause), -1);
	assert_non_null(strstr(cause, "max_width_us"));
	free(cause);
}

/*
 * A fault: the operation in flight fails with what happened, the board is
 * reset and re-initialised, and the next operation works; the device
 * state is undisturbed. Returns the recovery time in ms.
 */
static double
fault_recovers(struct world *w, const char *fault, const char *expect,
    const char *after)
{
	const struct sb_completion *c;
	double g_other = read_ok(w, 500), g, t0, t1;
	long inits = emu_stat(&w->emu, "inits");

	emu_control(&w->emu, fault);
	/* a pulse meets the fault (a read would be tried again) */
	c = pulse(w, 1, 4.0, 100);
	t0 = arc1_emu_now_ms();
	assert_int_equal(c->status, -1);
	if (strstr(c->message, expect) == NULL)
		fail_msg("%s: '%s' does not say '%s'", fault, c->message,
		    expect);
	if (after != NULL)
		emu_control(&w->emu, after);
	/* the next read works once the board is back in step */
	g = read_eventually(w, 500);
	t1 = arc1_emu_now_ms();
	/* a read of the other device gives what it gave before */
	assert_true(fabs(g - g_other) / g_other < 0.05);
	assert_true(emu_stat(&w->emu, "inits") > inits);
	print_message("# %s: recovered in %.0f ms\n", fault, t1 - t0);
	return t1 - t0;
}

/* A read that meets a fault is tried again after the resync. */
static void
test_read_retried(void **state)
{
	struct world *w = *state;
	long inits = emu_stat(&w->emu, "inits");

	emu_control(&w->emu, "silent");
	(void)read_ok(w, 77);
	assert_true(emu_stat(&w->emu, "inits") > inits);
	assert_true(fake_plugin_logged(w->p, "out of step"));
}

/* Silence until reset (a hung board). */
static void
test_fault_silent(void **state)
{
	fault_recovers(*state, "silent", "no reply", NULL);
}

/* Junk in front of a reply (line noise). */
static void
test_fault_junk(void **state)
{
	struct world *w = *state;

	/* junk shorter or longer than a float: both are caught */
	fault_recovers(w, "junk 3", "arc", NULL);
	fault_recovers(w, "junk 9", "arc", NULL);
	/* and the link logged the resync once, naming the cause */
	(void)read_eventually(w, 2);
	assert_true(fake_plugin_logged(w->p, "out of step"));
}

/* Replies slower than the timeout fail; slow but in time is fine. */
static void
test_fault_slow(void **state)
{
	struct world *w = *state;
	char slow[32], slower[32];

	snprintf(slow, sizeof slow, "slow %s", ms(50));
	snprintf(slower, sizeof slower, "slow %s", ms(1000));
	emu_control(&w->emu, slow);
	(void)read_ok(w, 3);	/* 50 ms < 300 ms timeout: fine */
	fault_recovers(w, slower, "no reply", "slow 0");
}

/* A refused init: the link retries until the board confirms. */
static void
test_fault_garble(void **state)
{
	struct world *w = *state;

	/* the next init says "0": the resync after silence meets it */
	emu_control(&w->emu, "garble");
	fault_recovers(w, "silent", "no reply", NULL);
	assert_true(fake_plugin_logged(w->p, "refused init"));
}

/* Unplugged: offline with the reason, refused; back when replugged. */
static void
test_fault_unplug(void **state)
{
	struct world *w = *state;
	char why[160], *cause = NULL;
	double g = read_ok(w, 64), t0;
	size_t unasked;

	emu_control(&w->emu, "unplug");
	wait_link(w, 0);
	assert_int_equal(w->p->synapses.offline(w->p->synapses_data, 64, why,
	    sizeof why), -1);
	assert_non_null(strstr(why, "offline"));
	assert_int_equal(w->p->synapses.read(w->p->synapses_data, 64,
	    ++w->tag, &cause), -1);
	assert_non_null(strstr(cause, "offline"));
	free(cause);
	t0 = arc1_emu_now_ms();
	emu_control(&w->emu, "replug");
	wait_link(w, 1);
	print_message("# unplug: back %.0f ms after replug\n", arc1_emu_now_ms() - t0);
	assert_int_equal(w->p->synapses.offline(w->p->synapses_data, 64, why,
	    sizeof why), 0);
	/* the device kept its state across the unplug, and the array read
	 * again at reconnect reached the host */
	unasked = w->unasked;
	assert_true(fabs(read_eventually(w, 64) - g) / g < 0.05);
	assert_true(w->unasked >= unasked + 1024);
	assert_true(fake_plugin_logged(w->p, "up again"));
}

/* Old firmware (no answer to 999) is tolerated. */
static void
test_old_firmware(void **state)
{
	struct world w;
	struct sb_link_health h;

	(void)state;
	memset(&w, 0, sizeof w);
	emu_start(&w.emu, "--old-firmware", NULL);
	world_load(&w, 300);
	wait_link(&w, 1);
	w.p->link.health(w.p->link_data, &h, 1);
	assert_non_null(strstr(h.detail, "old firmware"));
	(void)read_ok(&w, 9);
	fake_plugin_free(w.p, synbridge_plugin_end);
	emu_stop(&w.emu);
}

/* No port at all: load works, devices offline with a reason to act on. */
static void
test_no_port(void **state)
{
	struct sb_plugin *p = fake_plugin_new("southampton", 1);
	char why[160];

	(void)state;
	p->quiet = 1;
	p->fast = 0;
	int64_t deadline;

	assert_int_equal(fake_plugin_load(p, synbridge_plugin_init, "port",
	    "/nonexistent/ttyACM9", "reset_ms", "10", "init_timeout_ms",
	    "100", "version_timeout_ms", "50", "settle_ms", "0", NULL), 0);
	/* the load does not wait: offline once the first attempt failed */
	deadline = arc1_emu_now_ms() + DEADLINE_MS;
	while (p->synapses.offline(p->synapses_data, 0, why,
	    sizeof why) == 0 && arc1_emu_now_ms() < deadline)
		p->link.poll(p->link_data);
	assert_non_null(strstr(why, "plugged in"));
	fake_plugin_free(p, synbridge_plugin_end);
	/* no port= at all is refused at load */
	p = fake_plugin_new("southampton", 1);
	p->quiet = 1;
	p->fast = 0;
	assert_int_equal(fake_plugin_load(p, synbridge_plugin_init, NULL), -1);
	assert_true(fake_plugin_logged(p, "port=/dev/ttyACM0"));
	fake_plugin_free(p, synbridge_plugin_end);
	/* a path that can never be a serial port is refused at load */
	p = fake_plugin_new("southampton", 1);
	p->quiet = 1;
	p->fast = 0;
	assert_int_equal(fake_plugin_load(p, synbridge_plugin_init, "port",
	    "/tmp", NULL), -1);
	assert_true(fake_plugin_logged(p, "is a directory"));
	fake_plugin_free(p, synbridge_plugin_end);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_handshake, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_read_and_pulse, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pulse_train, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_read_batch, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_retried, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_fault_silent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_fault_junk, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_fault_slow, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_fault_garble, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_fault_unplug, setup,
		    teardown),
		cmocka_unit_test(test_old_firmware),
		cmocka_unit_test(test_no_port),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
