/*
 * bench-arc1.c: the arc1 plugin against the ArC ONE emulator on a pty.
 * Prints, from one run, operations per second through the plugin (its
 * queue, its thread, completions handed back as the engine polls) beside
 * a bare client doing the same jobs on the same emulator with the same
 * pacing, and the ratio; then how long the plugin takes to be back in
 * step after each fault the emulator can play.
 *
 * Usage: bench-arc1 [OPS]   (top_builddir from the environment, else .)
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "arc1-driver.h"
#include "fake-host.h"

int synbridge_plugin_init(struct sb_plugin *, const struct sb_host_api *);
void synbridge_plugin_end(struct sb_plugin *);

/* Completions seen by poll(). */
struct bench_done {
	uint64_t tag;
	int status;
};

/* sb_complete_fn: remember the last tag and status. */
static void
bench_collect(void *ctx, const struct sb_completion *c)
{
	struct bench_done *d = ctx;

	d->tag = c->tag;
	d->status = c->status;
}

/* Seconds of CLOCK_MONOTONIC. */
static double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Poll the plugin until tag completes; its status (-2: gave up). */
static int
bench_wait(struct sb_plugin *p, uint64_t tag)
{
	struct bench_done d = { 0, 0 };
	int64_t deadline = arc1_emu_now_ms() + ARC1_EMU_DEADLINE_MS;
	struct timespec ts = { 0, 1000L };

	while (arc1_emu_now_ms() < deadline) {
		p->synapses.poll(p->synapses_data, 0, bench_collect, &d);
		p->link.poll(p->link_data);
		if (d.tag == tag)
			return d.status;
		nanosleep(&ts, NULL);
	}
	return -2;
}

/* Load the plugin on port with a pacing and the reset and settle waits;
 * NULL on failure. */
static struct sb_plugin *
bench_load_with(const char *port, const char *pace_us, const char *reset_ms,
    const char *settle_ms)
{
	struct sb_plugin *p = fake_plugin_new("southampton", 1);
	struct sb_link_health h;
	int64_t deadline;

	p->fast = 0;
	p->quiet = 1;
	if (fake_plugin_load(p, synbridge_plugin_init, "port", port,
	    "reset_ms", reset_ms, "settle_ms", settle_ms, "timeout_ms", "300",
	    "init_timeout_ms", "600", "version_timeout_ms", "200", "pace_us",
	    pace_us, "backoff_max_ms", "200", NULL) != 0)
		return NULL;
	deadline = arc1_emu_now_ms() + ARC1_EMU_DEADLINE_MS;
	do {
		p->link.health(p->link_data, &h, 1);
	} while (h.state != SB_LINK_UP && arc1_emu_now_ms() < deadline);
	return p;
}

/* Load with the tests' quick waits. */
static struct sb_plugin *
bench_load(const char *port, const char *pace_us)
{
	return bench_load_with(port, pace_us, "30", "0");
}

/* Operations per second through the plugin: reads, pulses or a batch. */
static double
bench_plugin(struct sb_plugin *p, const char *what, int ops)
{
	uint64_t tag = 1000;
	double t0 = bench_now();
	char *cause = NULL;
	int i, rc = 0;

	for (i = 0; i < ops && rc == 0; i++) {
		if (strcmp(what, "pulse") == 0)
			rc = p->synapses.pulse(p->synapses_data, (uint32_t)i %
			    1024, i % 2 ? -4.0 : 4.0, 100, 1, ++tag, &cause);
		else
			rc = p->synapses.read(p->synapses_data, (uint32_t)i %
			    1024, ++tag, &cause);
		if (rc != 0)
			break;
		/* "batch": queue 64 side by side, then wait for the last */
		if (strcmp(what, "batch") != 0 || i % 64 == 63 || i == ops - 1)
			rc = bench_wait(p, tag) == 0 ? 0 : -1;
	}
	free(cause);
	if (rc != 0) {
		printf("arc1 %s: failed after %d operations\n", what, i);
		return NAN;
	}
	return ops / (bench_now() - t0);
}

/* The bare client: open the port raw. */
static int
bench_bare_open(const char *port)
{
	struct termios tio;
	int fd = open(port, O_RDWR | O_NOCTTY);

	if (fd < 0)
		return -1;
	tcgetattr(fd, &tio);
	cfmakeraw(&tio);
	tcsetattr(fd, TCSANOW, &tio);
	return fd;
}

/* The bare client: write lines with the same pacing as the plugin. */
static void
bench_bare_write(int fd, const char *const *lines, int n, long pace_us)
{
	struct timespec ts = { 0, pace_us * 1000L };
	char buf[64];
	int i, len;

	for (i = 0; i < n; i++) {
		if (pace_us > 0)
			nanosleep(&ts, NULL);
		len = snprintf(buf, sizeof buf, "%s\n", lines[i]);
		if (write(fd, buf, (size_t)len) != len)
			return;
	}
}

/* The bare client: read n bytes (blocking, with a deadline). */
static int
bench_bare_read(int fd, void *buf, size_t n)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		if (poll(&pfd, 1, 2000) <= 0)
			return -1;
		r = read(fd, (char *)buf + got, n - got);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* Operations per second of the bare client: reads or pulse-and-reads. */
static double
bench_bare(const char *port, const char *what, int ops, long pace_us)
{
	const char *init[] = { "0", "50", "32", "32", "2", "0", "1", "0.5" };
	const char *reset[] = { "00" };
	char w[16], b[16], line[8];
	struct timespec boot = { 0, 100000000L };
	unsigned char f[4];
	double t0;
	int fd, i;

	if ((fd = bench_bare_open(port)) < 0)
		return NAN;
	bench_bare_write(fd, reset, 1, pace_us);
	nanosleep(&boot, NULL);
	tcflush(fd, TCIFLUSH);
	bench_bare_write(fd, init, 8, pace_us);
	if (bench_bare_read(fd, line, 2) != 0 || line[0] != '1') {
		close(fd);
		return NAN;
	}
	t0 = bench_now();
	for (i = 0; i < ops; i++) {
		snprintf(w, sizeof w, "%d", i % 1024 / 32 + 1);
		snprintf(b, sizeof b, "%d", i % 32 + 1);
		if (strcmp(what, "pulse") == 0) {
			const char *job[] = { "3", w, b, i % 2 ? "-4" : "4",
			    "0.0001" };

			bench_bare_write(fd, job, 5, pace_us);
		} else {
			const char *job[] = { "1", w, b };

			bench_bare_write(fd, job, 3, pace_us);
		}
		if (bench_bare_read(fd, f, 4) != 0) {
			close(fd);
			return NAN;
		}
	}
	close(fd);
	return ops / (bench_now() - t0);
}

/* Time from a fault to the plugin's next good read, in ms. */
static double
bench_recovery(struct arc1_emu *e, struct sb_plugin *p, const char *fault,
    const char *after)
{
	uint64_t tag = 90000;
	char *cause = NULL;
	double t0;
	int64_t deadline = arc1_emu_now_ms() + ARC1_EMU_DEADLINE_MS;
	struct timespec ts = { 0, 1000000L };

	arc1_emu_control(e, fault);
	if (strcmp(fault, "unplug") == 0) {
		/* wait for the plugin to notice, then bring it back */
		struct sb_link_health h;

		do {
			p->link.health(p->link_data, &h, 1);
			nanosleep(&ts, NULL);
		} while (h.state == SB_LINK_UP &&
		    arc1_emu_now_ms() < deadline);
		t0 = bench_now();
		arc1_emu_control(e, after);
	} else {
		/* the operation that meets the fault fails (a pulse: a read
		 * would be tried again after the resync) */
		if (p->synapses.pulse(p->synapses_data, 1, 4.0, 100, 1, ++tag,
		    &cause) != 0 || bench_wait(p, tag) != -1) {
			free(cause);
			return NAN;
		}
		t0 = bench_now();
		if (after != NULL)
			arc1_emu_control(e, after);
	}
	while (arc1_emu_now_ms() < deadline) {
		if (p->synapses.read(p->synapses_data, 2, ++tag, &cause) == 0 &&
		    bench_wait(p, tag) == 0)
			return (bench_now() - t0) * 1e3;
		free(cause);
		cause = NULL;
		nanosleep(&ts, NULL);
	}
	return NAN;
}

/* One figure beside its peer. */
static void
bench_pair(const char *what, double plugin, double bare, const char *unit)
{
	printf("arc1 %-34s %8.0f %s   bare client %8.0f %s   ratio %.2f\n",
	    what, plugin, unit, bare, unit, plugin / bare);
}

int
main(int argc, char **argv)
{
	static const char *paces[] = { "1000", "0" };
	static const struct {
		const char *fault, *after, *what;
	} faults[] = {
		{ "silent", NULL, "silent board (reset clears it)" },
		{ "junk 3", NULL, "3 junk bytes before a reply" },
		{ "junk 9", NULL, "9 junk bytes before a reply" },
		{ "slow 1000", "slow 0", "reply later than the timeout" },
		{ "unplug", "replug", "port unplugged, then back" },
	};
	struct arc1_emu e;
	struct sb_plugin *p;
	int ops = argc > 1 ? atoi(argv[1]) : 300;
	char label[64];
	size_t i, k;

	signal(SIGPIPE, SIG_IGN);
	if (ops < 64)
		ops = 64;
	if (arc1_emu_start(&e, "--reset-ms", "20", NULL) != 0) {
		printf("bench-arc1: the emulator did not start (build "
		    "tests/arc1-emu)\n");
		return 0;
	}
	for (k = 0; k < 2; k++) {
		long pace = atol(paces[k]);
		int n = pace > 0 ? ops : ops * 10;

		p = bench_load(e.port, paces[k]);
		if (p == NULL) {
			printf("bench-arc1: the plugin did not load\n");
			break;
		}
		double rd = bench_plugin(p, "read", n);
		double pl = bench_plugin(p, "pulse", n);
		double bt = bench_plugin(p, "batch", n);
		fake_plugin_free(p, synbridge_plugin_end);
		double brd = bench_bare(e.port, "read", n, pace);
		double bpl = bench_bare(e.port, "pulse", n, pace);

		snprintf(label, sizeof label, "reads, pace %s us:", paces[k]);
		bench_pair(label, rd, brd, "ops/s");
		snprintf(label, sizeof label, "pulse-and-reads, pace %s us:",
		    paces[k]);
		bench_pair(label, pl, bpl, "ops/s");
		snprintf(label, sizeof label, "reads 64 at a time, pace %s us:",
		    paces[k]);
		bench_pair(label, bt, brd, "ops/s");
	}
	p = bench_load(e.port, "1000");
	if (p != NULL) {
		for (i = 0; i < sizeof faults / sizeof faults[0]; i++)
			printf("arc1 recovery, %-34s %7.0f ms (reset_ms=30, "
			    "timeout_ms=300)\n", faults[i].what,
			    bench_recovery(&e, p, faults[i].fault,
			    faults[i].after));
		fake_plugin_free(p, synbridge_plugin_end);
	}
	/* the plugin's own waits, as for a real board */
	p = bench_load_with(e.port, "1000", "1000", "1000");
	if (p != NULL) {
		printf("arc1 recovery, %-34s %7.0f ms (default reset_ms=1000, "
		    "settle_ms=1000)\n", "silent board (reset clears it)",
		    bench_recovery(&e, p, "silent", NULL));
		fake_plugin_free(p, synbridge_plugin_end);
	}
	arc1_emu_stop(&e);
	return 0;
}
