/*
 * bench-intan.c: the intan plugin against the RHX emulator on loopback.
 * Prints, from one run, at blocks_per_write=1 and at RHX's default 10:
 * - spike latency from the emulator's write of a batch to the plugin's
 *   emit of each of its spikes (p50/p99), beside a bare TCP reader of
 *   the same spike stream (the same emulator, right after: RHX serves one
 *   client per port) from the write to its read, and the ratio; with the
 *   detection-to-read age the bare reader sees (the batching floor,
 *   N x 128 / fs) and the age the plugin gives each spike when it emits
 *   it (emit time minus the event's session time);
 * - stimulation: from stimulate() to the emulator's `triggered` line
 *   (its CLOCK_MONOTONIC time handling the trigger), with the parameters
 *   unchanged (a trigger only) and with a new amplitude each time (set,
 *   upload, confirm, trigger), beside a bare client sending the same
 *   commands, and the ratio.
 *
 * The emulator writes once per N x 128 frames of CLOCK_MONOTONIC time
 * from the moment it starts a run (its `runmode Run ... us=T` line), so a
 * read or an emit at time a follows the write at T + floor((a - T) / P) P,
 * P = N x 128 / fs: valid while latencies stay under P, as they do here.
 *
 * Usage: bench-intan [SECONDS per phase, default 4]
 *   (top_builddir from the environment, else .)
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "fake-host.h"
#include "rhx-driver.h"

int synbridge_plugin_init(struct sb_plugin *, const struct sb_host_api *);
void synbridge_plugin_end(struct sb_plugin *);

#define BENCH_FS 30000.0
#define BENCH_MAX 200000
#define BENCH_STIMS 40

/* CLOCK_MONOTONIC in microseconds. */
static int64_t
bench_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Samples and their percentiles. */
struct series {
	double v[BENCH_MAX];
	size_t n;
};

/* Keep one sample. */
static void
series_add(struct series *s, double v)
{
	if (s->n < BENCH_MAX)
		s->v[s->n++] = v;
}

/* qsort: ascending doubles. */
static int
bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile (0..1); NaN if empty. */
static double
series_q(struct series *s, double q)
{
	size_t k;

	if (s->n == 0)
		return NAN;
	qsort(s->v, s->n, sizeof s->v[0], bench_cmp);
	k = (size_t)(q * (double)(s->n - 1) + 0.5);
	return s->v[k];
}

/* What emits recorded: when, and the event's own time. */
static struct {
	int64_t emit_us[BENCH_MAX], t_us[BENCH_MAX];
	size_t n;
} emitted;

/* host->emit of the benchmark: the time of the emit, nothing else. */
static int
bench_emit(struct sb_emitter *em, const struct sb_event *ev)
{
	size_t n = emitted.n;

	(void)em;
	if (n < BENCH_MAX) {
		emitted.emit_us[n] = bench_us();
		emitted.t_us[n] = ev->t_us;
		__atomic_store_n(&emitted.n, n + 1, __ATOMIC_RELEASE);
	}
	return 0;
}

/* The time after the emulator's last write before a (us). */
static double
bench_since_write(int64_t a, int64_t run_us, double period_us)
{
	double since = (double)(a - run_us);

	return since - floor(since / period_us) * period_us;
}

/* Wait for the emulator's `runmode Run` line; its us=, or -1. */
static int64_t
bench_run_start(struct rhx_emu *e)
{
	char line[256], *at;

	if (rhx_emu_wait_line(e, "runmode Run", line, sizeof line, 0) != 0 ||
	    (at = strstr(line, "us=")) == NULL)
		return -1;
	return strtoll(at + 3, NULL, 10);
}

/* Wait for a `triggered` line; its us=, or -1. */
static int64_t
bench_triggered(struct rhx_emu *e)
{
	char line[512], *at;

	if (rhx_emu_wait_line(e, "triggered", line, sizeof line, 2000) != 0 ||
	    (at = strstr(line, "us=")) == NULL)
		return -1;
	return strtoll(at + 3, NULL, 10);
}

/* One phase's figures. */
struct figures {
	struct series write_lat, age, stim_same, stim_new;
	size_t spikes;
};

/* The plugin on emulator e for seconds, then its stimulation. */
static int
bench_plugin(struct rhx_emu *e, const char *blocks, double seconds,
    struct figures *f)
{
	struct sb_host_api host = fake_host;
	struct sb_plugin *p = fake_plugin_new("padova", 1);
	struct sb_emitter em;
	char cport[16], sport[16], *cause = NULL;
	double period = atoi(blocks) * 128 / BENCH_FS * 1e6;
	int64_t run_us, end, t0, t1;
	size_t k;
	int i;

	host.emit = bench_emit;
	p->fast = 0;
	snprintf(cport, sizeof cport, "%u", e->command_port);
	snprintf(sport, sizeof sport, "%u", e->spike_port);
	fake_plugin_arg(p, "name", "mea");
	fake_plugin_arg(p, "command_port", cport);
	fake_plugin_arg(p, "spike_port", sport);
	fake_plugin_arg(p, "blocks_per_write", blocks);
	p->now = bench_us();
	if (synbridge_plugin_init(p, &host) != 0 || p->npops != 1) {
		printf("bench-intan: the plugin did not load (%s)\n", p->error);
		fake_plugin_free(p, synbridge_plugin_end);
		return -1;
	}
	emitted.n = 0;
	em.p = p;
	em.limit = BENCH_MAX;
	p->pops[0].start(p->pops_data[0], &em, &cause);
	run_us = bench_run_start(e);
	end = bench_us() + (int64_t)(seconds * 1e6);
	while (bench_us() < end) {
		p->now = bench_us();
		p->link.poll(p->link_data);
		poll(NULL, 0, 5);
	}
	for (k = 0; k < emitted.n; k++) {
		series_add(&f->write_lat, bench_since_write(emitted.emit_us[k],
		    run_us, period) / 1000);
		series_add(&f->age, (emitted.emit_us[k] - emitted.t_us[k]) /
		    1000.0);
	}
	f->spikes = emitted.n;
	for (i = 0; i < 2 * BENCH_STIMS; i++) {
		double ua = i < BENCH_STIMS ? 50 : 50 + i % 2;

		p->now = bench_us();
		p->link.poll(p->link_data);
		t0 = bench_us();
		if (p->pops[0].stimulate(p->pops_data[0], 3, ua, 200, p->now,
		    &cause) != 0) {
			printf("bench-intan: stim refused: %s\n", cause);
			free(cause);
			cause = NULL;
			continue;
		}
		t1 = bench_triggered(e);
		if (t1 > 0 && i > 0)	/* the first sets the channel up */
			series_add(i < BENCH_STIMS ? &f->stim_same :
			    &f->stim_new, (t1 - t0) / 1000.0);
		poll(NULL, 0, 30);
	}
	p->pops[0].stop(p->pops_data[0]);
	fake_plugin_free(p, synbridge_plugin_end);
	return 0;
}

/* A bare client's connection, blocking, no delay. */
static int
bench_connect(unsigned port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, k;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	for (k = 0; k < 100; k++) {
		if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
			return fd;
		poll(NULL, 0, 20);	/* not listening yet */
	}
	close(fd);
	return -1;
}

/* Send commands ending with a get and read until its answer settles. */
static int
bench_request(int fd, const char *text)
{
	char buf[4096];
	size_t len = 0;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (send(fd, text, strlen(text), MSG_NOSIGNAL) < 0)
		return -1;
	for (;;) {
		if (poll(&pfd, 1, len > 0 && strstr(buf, "Return:") ? 2 :
		    2000) <= 0)
			return len > 0 ? 0 : -1;
		n = read(fd, buf + len, sizeof buf - 1 - len);
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
	}
}

/* A bare client on the same emulator: the spike stream, then triggers. */
static int
bench_bare(struct rhx_emu *e, const char *blocks, double seconds,
    struct figures *f)
{
	double period = atoi(blocks) * 128 / BENCH_FS * 1e6;
	uint8_t buf[65536 + 14];
	char cmd[4096];
	size_t len = 0, at, off;
	int cfd, sfd, i;
	int64_t run_us, end, now, t0, t1;
	uint32_t frame;
	ssize_t n;

	if (rhx_emu_control(e, "rearm") != 0 ||
	    (cfd = bench_connect(e->command_port)) < 0)
		return -1;
	off = (size_t)snprintf(cmd, sizeof cmd, "set "
	    "TCPNumberDataBlocksPerWrite %s;execute ClearAllDataOutputs;",
	    blocks);
	for (i = 0; i < 32; i++)
		off += (size_t)snprintf(cmd + off, sizeof cmd - off,
		    "set A-%03d.TCPDataOutputEnabledSpike true;", i);
	snprintf(cmd + off, sizeof cmd - off, "execute "
	    "ConnectTCPSpikeDataOutput;get RunMode;");
	if (bench_request(cfd, cmd) != 0 ||
	    (sfd = bench_connect(e->spike_port)) < 0 ||
	    bench_request(cfd, "set RunMode Run;get RunMode;") != 0) {
		close(cfd);
		return -1;
	}
	run_us = bench_run_start(e);
	end = bench_us() + (int64_t)(seconds * 1e6);
	while ((now = bench_us()) < end) {
		struct pollfd pfd = { .fd = sfd, .events = POLLIN };

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		n = read(sfd, buf + len, sizeof buf - len);
		if (n <= 0)
			break;
		now = bench_us();
		len += (size_t)n;
		for (at = 0; at + 14 <= len; at += 14) {
			/* little-endian, as this machine */
			memcpy(&frame, buf + at + 9, 4);
			series_add(&f->write_lat, bench_since_write(now,
			    run_us, period) / 1000);
			series_add(&f->age, (now - run_us - frame * 1e6 /
			    BENCH_FS) / 1000);
			f->spikes++;
		}
		memmove(buf, buf + at, len - at);
		len -= at;
	}
	bench_request(cfd, "set A-003.StimEnabled true;set A-003.Source "
	    "KeyPressF1;set A-003.FirstPhaseAmplitudeMicroAmps 50;set "
	    "A-003.SecondPhaseAmplitudeMicroAmps 50;set "
	    "A-003.FirstPhaseDurationMicroseconds 200;set "
	    "A-003.SecondPhaseDurationMicroseconds 200;execute "
	    "UploadStimParameters A-003;get A-003.StimEnabled;");
	for (i = 0; i < 2 * BENCH_STIMS; i++) {
		t0 = bench_us();
		if (i >= BENCH_STIMS) {
			snprintf(cmd, sizeof cmd, "set "
			    "A-003.FirstPhaseAmplitudeMicroAmps %d;set "
			    "A-003.SecondPhaseAmplitudeMicroAmps %d;execute "
			    "UploadStimParameters A-003;get "
			    "A-003.FirstPhaseAmplitudeMicroAmps;", 50 + i % 2,
			    50 + i % 2);
			bench_request(cfd, cmd);
		}
		bench_request(cfd, "execute ManualStimTriggerPulse F1;"
		    "get RunMode;");
		t1 = bench_triggered(e);
		if (t1 > 0 && i > 0)
			series_add(i < BENCH_STIMS ? &f->stim_same :
			    &f->stim_new, (t1 - t0) / 1000.0);
		/* drain spikes meanwhile: RHX blocks on a full socket */
		while ((n = recv(sfd, buf, sizeof buf, MSG_DONTWAIT)) > 0)
			;
		poll(NULL, 0, 30);
	}
	bench_request(cfd, "set RunMode Stop;get RunMode;");
	close(sfd);
	close(cfd);
	return 0;
}

/* One line: the plugin's figure beside the bare client's, and the ratio. */
static void
bench_line(const char *what, struct series *plugin, struct series *bare)
{
	double p50 = series_q(plugin, 0.5), p99 = series_q(plugin, 0.99);
	double b50 = series_q(bare, 0.5), b99 = series_q(bare, 0.99);

	printf("intan %-42s p50 %7.3f ms p99 %7.3f ms   bare %7.3f / %7.3f "
	    "ms   ratio p50 %.2f\n", what, p50, p99, b50, b99, p50 / b50);
}

int
main(int argc, char **argv)
{
	static struct figures plugin, bare;
	static const char *blocks[] = { "1", "10" };
	double seconds = argc > 1 ? atof(argv[1]) : 4;
	struct rhx_emu e;
	char label[96];
	unsigned k;

	signal(SIGPIPE, SIG_IGN);
	if (!(seconds > 0))
		seconds = 4;
	for (k = 0; k < 2; k++) {
		memset(&plugin, 0, sizeof plugin);
		memset(&bare, 0, sizeof bare);
		if (rhx_emu_start(&e, "--seed", "11", "--spike-rate", "20",
		    NULL) != 0) {
			printf("bench-intan: the emulator did not start (build "
			    "tests/rhx-emu first)\n");
			return 1;
		}
		if (bench_plugin(&e, blocks[k], seconds, &plugin) != 0 ||
		    bench_bare(&e, blocks[k], seconds, &bare) != 0) {
			printf("bench-intan: blocks_per_write=%s failed\n",
			    blocks[k]);
			rhx_emu_stop(&e);
			return 1;
		}
		rhx_emu_stop(&e);
		printf("intan blocks_per_write=%s (floor %.1f ms): %zu spikes "
		    "through the plugin, %zu through the bare reader in %.0f s "
		    "each\n", blocks[k], atoi(blocks[k]) * 128 / BENCH_FS * 1e3,
		    plugin.spikes, bare.spikes, seconds);
		snprintf(label, sizeof label, "N=%s spike, write -> emit/read:",
		    blocks[k]);
		bench_line(label, &plugin.write_lat, &bare.write_lat);
		snprintf(label, sizeof label, "N=%s spike age at emit/read:",
		    blocks[k]);
		bench_line(label, &plugin.age, &bare.age);
		snprintf(label, sizeof label, "N=%s stim, same pulse -> "
		    "trigger:", blocks[k]);
		bench_line(label, &plugin.stim_same, &bare.stim_same);
		snprintf(label, sizeof label, "N=%s stim, new amplitude -> "
		    "trigger:", blocks[k]);
		bench_line(label, &plugin.stim_new, &bare.stim_new);
	}
	return 0;
}
