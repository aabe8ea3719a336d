/*
 * bench-scale.c: how the relay grows. 3, 30 and 300 sites (relay
 * transports in this process, each with its own token, network thread
 * and connections) publish 1000 events/s each (10 every 10 ms) and each
 * reads the streams of two other sites, all in one session or in
 * sessions of three. Prints, per run: events delivered per second against
 * what was sent, latency from send to delivery over all sites and the
 * worst site's p99, the relay's peak resident memory against its bound
 * for stored batches, and the share of the wall clock the harness thread
 * was busy (it must not be the bottleneck); then whether every site's p99
 * at 30 sites stays under twice the 3-site figure. The 3- and 30-site runs
 * are repeated in SCALE_ROUNDS interleaved rounds, each 30-site run judged
 * against the 3-site run of its own round; before them two spinning
 * threads measure how long this machine takes a running thread's CPU
 * away (a host preempting a virtual CPU), which no program on it can
 * avoid and which lands in every latency tail. Figures only: it never
 * fails on a slow machine.
 */
#include "config.h"

#include <sys/prctl.h>
#include <pthread.h>
#include <sys/resource.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench-util.h"
#include "relay-test-host.h"

#define SCALE_RATE 1000		/* events/s each site publishes */
#define SCALE_TICK_US 10000	/* sent every tick: RATE / 100 */
#define SCALE_SECONDS 5
#define SCALE_MEMORY_MB 4	/* --max-memory: batches per session */
#define SCALE_BUFFERS_MB 64	/* --max-buffers: bodies and answers */
#define SCALE_CONNS(n) (10 * (n) + 64)	/* --max-connections */
#define SCALE_READS 2		/* streams each site reads */
#define SCALE_ROUNDS 3		/* interleaved rounds of 3 and 30 sites */
#define SCALE_LATE_S 60		/* after the wait, for what did not come */

/* One site: its transport and what it received. */
struct scale_site {
	struct sb_plugin p;
	char		 name[16];
	char		 token[32];
	char		 streams[64];
	uint32_t	 next_index;
	uint64_t	 got;		/* events in the measured window */
	uint64_t	 settled;	/* events before it */
	int		 measuring;
	int		 late_phase;	/* after the wait: counted in late */
	uint64_t	 late;
	double		*lat;		/* us */
	size_t		 nlat, caplat;
	double		 p99_ms;
};

/* The figures of one run. */
struct scale_run {
	int		 sites, many;
	double		 sent_per_s, got_per_s;
	struct bench_lat lat;
	double		 worst_p99_ms;
	char		 worst[16];
	long		 rss_start_kb, rss_peak_kb;
	int		 sessions;
	double		 harness_busy;	/* the harness thread's CPU / wall */
	double		 relay_cpu;	/* the relay's CPU / wall */
	double		 clients_cpu;	/* this process (every site) */
	double		 setup_s;	/* loading and settling */
	int		 settled;
	uint64_t	 missing;	/* not delivered within the wait */
	uint64_t	 late;		/* of those, delivered later */
	double		 late_s;	/* when the last of them came */
	uint64_t	 gaps;		/* gaps the sites were told of */
	uint64_t	 unexplained;	/* never came, at sites told of none */
	struct bench_machine machine;	/* the machine meanwhile */
};

/* Latency of each event as it is delivered (now - the send time). */
static void
scale_deliver(struct sb_plugin *p, const char *site, const char *stream,
    const struct sb_event *ev, size_t n)
{
	struct scale_site	*s = p->ctx;
	int64_t			 now = bench_mono_us();
	size_t			 i;

	if (!s->measuring) {
		s->settled += n;
		return;
	}
	if (s->late_phase) {
		s->late += n;
		return;
	}
	for (i = 0; i < n; i++) {
		if (s->nlat < s->caplat)
			s->lat[s->nlat++] = (double)(now - ev[i].t_us);
	}
	s->got += n;
}

/* The site whose stream site i reads as its k-th (next in its session). */
static int
scale_source(int i, int k, int per_session)
{
	int	base = i / per_session * per_session;

	return (base + (i - base + 1 + k) % per_session);
}

/* The tokens file: one line per site, its session by per_session. */
static char *
scale_tokens(struct scale_site *s, int n, int per_session)
{
	char	*text, *p;
	size_t	 len = (size_t)n * 96 + 1;
	int	 i;

	p = text = calloc(1, len);
	for (i = 0; i < n; i++) {
		p += snprintf(p, len - (size_t)(p - text), "%s %s scale%d * "
		    "*/* -\n", s[i].token, s[i].name, i / per_session);
	}
	return (text);
}

/* Load site i's transport. */
static int
scale_load(struct scale_site *s, const struct test_proc *relay)
{
	static char	 url[64];
	const char	*kv[20];
	int		 i = 0;

	snprintf(url, sizeof url, "https://127.0.0.1:%d", relay->port);
	kv[i++] = "url";
	kv[i++] = url;
	kv[i++] = "token";
	kv[i++] = s->token;
	kv[i++] = "pin";
	kv[i++] = relay->pin;
	kv[i++] = "from";
	kv[i++] = "start";
	kv[i++] = "streams";
	kv[i++] = s->streams;
	kv[i] = NULL;
	if (test_relay_load(&s->p, s->name, kv) != 0)
		return (-1);
	s->p.quiet = 1;
	s->p.on_deliver = scale_deliver;
	s->p.ctx = s;
	return (0);
}

/* Poll the sites that asked for it. */
static void
scale_poll(struct scale_site *s, int n)
{
	int	i;

	for (i = 0; i < n; i++) {
		if (__atomic_exchange_n(&s[i].p.woken, 0, __ATOMIC_ACQ_REL))
			s[i].p.t.poll(s[i].p.data);
	}
}

/* Send one site's events of one tick. */
static void
scale_send_one(struct scale_site *s, int events)
{
	struct sb_event	ev[SCALE_RATE / 100];
	int		j;

	memset(ev, 0, sizeof ev);
	for (j = 0; j < events; j++) {
		ev[j].t_us = bench_mono_us();
		ev[j].kind = SB_EV_SPIKE;
		ev[j].index = s->next_index++;
	}
	s->p.t.send(s->p.data, "out", ev, (size_t)events);
}

/* Send each site's events of one tick, all at once. */
static void
scale_send(struct scale_site *s, int n, int events)
{
	int	i;

	for (i = 0; i < n; i++)
		scale_send_one(&s[i], events);
}

/* Every site read something of both its streams? */
static int
scale_all_settled(struct scale_site *s, int n)
{
	int	i;

	for (i = 0; i < n; i++) {
		if (s[i].settled < SCALE_READS)
			return (0);
	}
	return (1);
}

/* CPU seconds of this thread. */
static double
scale_thread_cpu(void)
{
	struct rusage	ru;

	getrusage(RUSAGE_THREAD, &ru);
	return ((double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
}

/* Order doubles. */
static int
scale_cmp(const void *x, const void *y)
{
	double	a = *(const double *)x, b = *(const double *)y;

	return ((a > b) - (a < b));
}

/*
 * Point standard error at a new temporary file (its name in path) for a
 * child to inherit: the old one's duplicate, to put back, or -1 (path
 * empty) if that could not be done and it was left as it was.
 */
static int
scale_relay_stderr(char *path, size_t len)
{
	int	fd, saved;

	snprintf(path, len, "/tmp/bench-scale-relay-XXXXXX");
	if ((fd = mkstemp(path)) == -1) {
		path[0] = '\0';
		return (-1);
	}
	fflush(stderr);
	if ((saved = dup(2)) == -1 || dup2(fd, 2) == -1) {
		if (saved != -1)
			close(saved);
		close(fd);
		unlink(path);
		path[0] = '\0';
		return (-1);
	}
	close(fd);
	return (saved);
}

/* A relay line that says a reader's read was cut short (or more such). */
static int
scale_cut_short(const char *line)
{
	return (strstr(line, "a reader closed its connection during a read")
	    != NULL || strstr(line, "log lines held back") != NULL);
}

/*
 * What the relay said on standard error in one run: every line, at most
 * 10, except the reads cut short, which are counted. A site that sets up
 * ends its read to read one more stream (the relay sees it at that read's
 * next keep-alive, up to 2 s later, which can be while the sites are
 * measured), and the sites' unload ends every read.
 */
static void
scale_said(const char *path, int n, int many)
{
	char		 line[1024];
	FILE		*f = fopen(path, "r");
	unsigned	 shown = 0, cut = 0;
	int		 c;

	if (f == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL) {
		if (strchr(line, '\n') == NULL)	/* the rest of a long one */
			while ((c = fgetc(f)) != EOF && c != '\n')
				continue;
		line[strcspn(line, "\n")] = '\0';
		if (scale_cut_short(line))
			cut++;
		else if (shown++ < 10)
			printf("scale, %3d sites, %s: the relay said: %s\n", n,
			    many ? "sessions of 3" : "one session", line);
	}
	fclose(f);
	if (shown > 10)
		printf("scale, %3d sites, %s: the relay said %u more lines\n",
		    n, many ? "sessions of 3" : "one session", shown - 10);
	if (cut > 0)
		printf("scale, %3d sites, %s: the relay said %u times that a "
		    "reader closed its connection during a read (or held such "
		    "lines back): reads the sites ended as they set up, to "
		    "read one more stream, and at their unload; not shown\n",
		    n, many ? "sessions of 3" : "one session", cut);
}

/* One run of n sites in one session, or (many) in sessions of 3. */
static int
scale_run(int n, int many, struct scale_run *r)
{
	int			 per_session = many ? 3 : n;
	struct test_proc	 relay;
	struct scale_site	*s;
	char			*tokens, extra[160];
	double			*all, cpu0, rcpu0, pcpu0;
	int64_t			 start = bench_mono_us();
	struct bench_wake	*probe;
	size_t			 nall = 0, k;
	int64_t			 t0, next, end, deadline, now;
	uint64_t		 sent = 0, got = 0;
	int64_t			 slot;
	int			 i, loaded = 0, saved, rc;
	char			 errfile[64] = "";

	memset(r, 0, sizeof *r);
	r->sites = n;
	r->many = many;
	r->sessions = (n + per_session - 1) / per_session;
	s = calloc((size_t)n, sizeof *s);
	for (i = 0; i < n; i++) {
		snprintf(s[i].name, sizeof s[i].name, "s%03d", i);
		snprintf(s[i].token, sizeof s[i].token, "scale-token-%03d", i);
		snprintf(s[i].streams, sizeof s[i].streams, "s%03d/out,"
		    "s%03d/out", scale_source(i, 0, per_session),
		    scale_source(i, 1, per_session));
		s[i].caplat = (size_t)SCALE_READS * SCALE_RATE *
		    (SCALE_SECONDS + 2);
		s[i].lat = calloc(s[i].caplat, sizeof *s[i].lat);
	}
	tokens = scale_tokens(s, n, per_session);
	snprintf(extra, sizeof extra, "--max-memory %d --max-buffers %d "
	    "--max-connections %d --max-per-ip %d", SCALE_MEMORY_MB,
	    SCALE_BUFFERS_MB, SCALE_CONNS(n), SCALE_CONNS(n));
	/*
	 * The relay's standard error goes to a file, printed after the run
	 * but for the reads cut short, which are counted (scale_said): at
	 * 300 sites the unload alone made it hundreds of lines.
	 */
	saved = scale_relay_stderr(errfile, sizeof errfile);
	rc = test_relay_start(&relay, tokens, extra);
	if (saved != -1) {
		dup2(saved, 2);
		close(saved);
	}
	if (rc != 0) {
		if (errfile[0] != '\0') {
			scale_said(errfile, n, many);	/* why it did not */
			unlink(errfile);
		}
		free(tokens);
		printf("scale: synbridge-relay is not built, or did not start "
		    "with %s; skipped\n", extra);
		return (-1);
	}
	free(tokens);
	bench_rss_kb(relay.pid, &r->rss_start_kb, &r->rss_peak_kb);
	for (i = 0; i < n; i++) {
		if (scale_load(&s[i], &relay) != 0)
			break;
		loaded++;
	}
	if (loaded < n)
		printf("scale: only %d of %d sites could load\n", loaded, n);
	/* settle: until every site reads both of its streams (or 30 s) */
	deadline = bench_mono_us() + 30000000;
	next = bench_mono_us();
	while (!scale_all_settled(s, loaded) && bench_mono_us() < deadline) {
		if (bench_mono_us() >= next) {
			scale_send(s, loaded, 1);
			next += 200000;
		}
		fake_host_wait(10000);
		scale_poll(s, loaded);
	}
	r->settled = scale_all_settled(s, loaded);
	/* a clean start: what settling sent is read before measuring */
	deadline = bench_mono_us() + 2000000;
	while (bench_mono_us() < deadline) {
		fake_host_wait(10000);
		scale_poll(s, loaded);
	}
	for (i = 0; i < loaded; i++)
		s[i].measuring = 1;
	probe = bench_wake_start();
	cpu0 = scale_thread_cpu();
	rcpu0 = bench_proc_cpu(relay.pid);
	pcpu0 = bench_proc_cpu(getpid());
	t0 = next = bench_mono_us();
	r->setup_s = (double)(t0 - start) / 1e6;
	end = t0 + (int64_t)SCALE_SECONDS * 1000000;
	/*
	 * Each site sends every 10 ms at its own offset within the tick, as
	 * independent sites do (not all in the same microsecond, which
	 * would measure a burst of N requests instead of N sites).
	 */
	for (slot = 0; next < end; slot++) {
		while ((now = bench_mono_us()) < next) {
			fake_host_wait(next - now);
			scale_poll(s, loaded);
		}
		scale_send_one(&s[slot % loaded], SCALE_RATE / 100);
		sent += SCALE_RATE / 100;
		next = t0 + (int64_t)(slot + 1) * SCALE_TICK_US / loaded;
	}
	deadline = bench_mono_us() + 5000000;
	for (;;) {
		for (got = 0, i = 0; i < loaded; i++)
			got += s[i].got;
		if (got >= sent * SCALE_READS || bench_mono_us() > deadline)
			break;
		fake_host_wait(10000);
		scale_poll(s, loaded);
	}
	bench_wake_stop(probe, &r->machine);
	r->harness_busy = (scale_thread_cpu() - cpu0) /
	    ((double)(bench_mono_us() - t0) / 1e6);
	r->relay_cpu = (bench_proc_cpu(relay.pid) - rcpu0) /
	    ((double)(bench_mono_us() - t0) / 1e6);
	r->clients_cpu = (bench_proc_cpu(getpid()) - pcpu0) /
	    ((double)(bench_mono_us() - t0) / 1e6);
	r->sent_per_s = (double)sent / SCALE_SECONDS;
	r->got_per_s = (double)got / SCALE_SECONDS;
	bench_rss_kb(relay.pid, &r->rss_peak_kb, &now);
	/*
	 * What did not come within the wait: late, or lost? Every event
	 * either arrives or is reported lost as a gap; wait up to
	 * SCALE_LATE_S more to tell which (none of it enters the figures).
	 */
	if (got < sent * SCALE_READS) {
		int64_t	wait0 = bench_mono_us();
		uint64_t late;

		r->missing = sent * SCALE_READS - got;
		for (i = 0; i < loaded; i++)
			s[i].late_phase = 1;
		deadline = wait0 + (int64_t)SCALE_LATE_S * 1000000;
		for (;;) {
			for (late = 0, i = 0; i < loaded; i++)
				late += s[i].late;
			if (late > r->late) {
				r->late = late;
				r->late_s = (double)(bench_mono_us() - wait0) /
				    1e6 + 5;
			}
			if (late >= r->missing || bench_mono_us() > deadline)
				break;
			fake_host_wait(10000);
			scale_poll(s, loaded);
		}
	}
	/*
	 * Events that never came at sites told of no gap would be lost
	 * silently; at a site told of one they may be those it covers (the
	 * gap names batches, not events).
	 */
	for (i = 0; i < loaded; i++) {
		uint64_t per = sent / (uint64_t)loaded * SCALE_READS;
		uint64_t have = s[i].got + s[i].late;

		r->gaps += s[i].p.gaps;
		if (have < per && s[i].p.gaps == 0)
			r->unexplained += per - have;
	}

	/* per site p99, and all samples together */
	for (i = 0; i < loaded; i++)
		nall += s[i].nlat;
	all = malloc((nall + 1) * sizeof *all);
	for (nall = 0, i = 0; i < loaded; i++) {
		memcpy(all + nall, s[i].lat, s[i].nlat * sizeof *all);
		nall += s[i].nlat;
		if (s[i].nlat == 0)
			continue;
		qsort(s[i].lat, s[i].nlat, sizeof *s[i].lat, scale_cmp);
		k = (size_t)(0.99 * (double)(s[i].nlat - 1));
		s[i].p99_ms = s[i].lat[k] / 1000;
		if (s[i].p99_ms > r->worst_p99_ms) {
			r->worst_p99_ms = s[i].p99_ms;
			snprintf(r->worst, sizeof r->worst, "%s", s[i].name);
		}
	}
	bench_lat_from(&r->lat, all, nall);
	free(all);
	for (i = 0; i < loaded; i++)
		test_relay_unload(&s[i].p);
	test_proc_stop(&relay);
	if (errfile[0] != '\0') {
		scale_said(errfile, n, many);
		unlink(errfile);
	}
	for (i = 0; i < n; i++)
		free(s[i].lat);
	free(s);
	return (0);
}

/*
 * The relay's memory bound as synbridge-relay(1) BOUNDS gives it, MB:
 * sessions x (--max-memory + 16 MiB) + --max-buffers + --max-connections
 * x 150 KiB + 20 MB.
 */
static double
scale_bound_mb(const struct scale_run *r)
{
	return ((double)r->sessions * (SCALE_MEMORY_MB + 16) +
	    SCALE_BUFFERS_MB + SCALE_CONNS(r->sites) * 150.0 / 1024 + 20);
}

/* One run's line; round 0 if the run is not repeated. */
static void
scale_print(const struct scale_run *r, int round)
{
	double	peak = (double)r->rss_peak_kb / 1024, bound = scale_bound_mb(r);
	char	prefix[64];

	printf("scale, %3d sites, %s: %8.0f events/s delivered of %8.0f "
	    "(%.1f %%), latency p50 %.3f ms, p99 %.3f ms, worst site p99 "
	    "%.3f ms (%s); relay RSS %.1f MB peak (%.1f at start), %s its "
	    "bound of %.0f MB (%d session%s x (--max-memory %d + 16) + "
	    "--max-buffers %d + %d connections x 150 KiB + 20); CPU: relay "
	    "%.0f %%, the sites' transports %.0f %%, of which the harness "
	    "thread %.0f %%; set up in %.1f s%s%s\n",  r->sites, r->many ?
	    "sessions of 3" : "one session", r->got_per_s,
	    r->sent_per_s * SCALE_READS, r->sent_per_s > 0 ? 100 *
	    r->got_per_s / (r->sent_per_s * SCALE_READS) : 0, r->lat.p50_ms,
	    r->lat.p99_ms, r->worst_p99_ms, r->worst[0] != '\0' ? r->worst : "-",
	    peak, (double)r->rss_start_kb / 1024, peak <= bound ? "within" :
	    "OVER", bound, r->sessions, r->sessions == 1 ? "" : "s",
	    SCALE_MEMORY_MB, SCALE_BUFFERS_MB, SCALE_CONNS(r->sites),
	    100 * r->relay_cpu, 100 * r->clients_cpu, 100 * r->harness_busy,
	    r->setup_s, r->settled ? "" :
	    " (NOT every site read its streams before the run)",
	    round == 0 ? "" : round == 1 ? " (round 1)" : round == 2 ?
	    " (round 2)" : " (round 3)");
	if (r->missing > 0)
		printf("scale, %3d sites, %s: %llu events had not arrived 5 s "
		    "after the last send; %llu of them arrived later (the last "
		    "%.1f s after it), %llu did not within %d s more; the "
		    "relay told the sites of %llu gaps (batches dropped by its "
		    "--max-memory %d bound as readers fell behind), and %llu "
		    "of the events that never came were at sites told of no "
		    "gap\n", r->sites, r->many ? "sessions of 3" :
		    "one session", (unsigned long long)r->missing,
		    (unsigned long long)r->late, r->late_s,
		    (unsigned long long)(r->late < r->missing ? r->missing -
		    r->late : 0), SCALE_LATE_S,
		    (unsigned long long)r->gaps, SCALE_MEMORY_MB,
		    (unsigned long long)r->unexplained);
	else if (r->gaps > 0)
		printf("scale, %3d sites, %s: gaps reported to the sites: "
		    "%llu\n", r->sites, r->many ? "sessions of 3" :
		    "one session", (unsigned long long)r->gaps);
	snprintf(prefix, sizeof prefix, "scale, %3d sites, %s: ", r->sites,
	    r->many ? "sessions of 3" : "one session");
	bench_wake_print(prefix, "its measured seconds", &r->machine);
	fflush(stdout);
}

/* Is every site's p99 at 30 sites (r30) under twice the 3-site p99? */
static int
scale_check(const struct scale_run *r3, const struct scale_run *r30,
    const char *how, int round)
{
	double	bound_ms = 2 * r3->lat.p99_ms;
	int	met = r30->worst_p99_ms <= bound_ms;

	printf("scale: at 30 sites, %s, every site's p99 (worst %.3f ms) "
	    "under 2x the 3-site p99 (%.3f ms): %s (round %d; the machine "
	    "alone woke a sleeping thread up to %.3f ms late in the 3-site "
	    "run, %.3f ms in the 30-site run)\n", how, r30->worst_p99_ms,
	    bound_ms, met ? "met" : "NOT met", round, r3->machine.wake.max_ms,
	    r30->machine.wake.max_ms);
	return (met);
}

int
main(int argc, char **argv)
{
	static const int	 sizes[3] = { 3, 30, 300 };
	struct scale_run	 one[3], many[3];
	long			 files;
	int			 k, r, rounds, max = argc > 1 ? atoi(argv[1]) : 300;
	int			 min = argc > 2 ? atoi(argv[2]) : 3;
	int			 met_one = 0, met_many = 0, judged = 0;

	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	files = bench_raise_nofile();
	printf("scale: each site publishes %d events/s (%d every %d ms, the "
	    "sites at even offsets within the %d ms) and reads %d other sites' "
	    "streams, for %d s; open files limit %ld\n",
	    SCALE_RATE, SCALE_RATE / 100, SCALE_TICK_US / 1000,
	    SCALE_TICK_US / 1000, SCALE_READS, SCALE_SECONDS, files);
	bench_machine_stalls("scale: ", 2);
	bench_machine_memory("scale: ");
	/* 3 and 30 sites in interleaved rounds (when both run), then 300 */
	rounds = min <= 3 && max >= 30 ? SCALE_ROUNDS : 1;
	for (r = 1; r <= rounds; r++) {
		memset(one, 0, sizeof one);
		memset(many, 0, sizeof many);
		for (k = 0; k < 2 && sizes[k] <= max; k++) {
			if (sizes[k] < min)
				continue;
			if (scale_run(sizes[k], 0, &one[k]) != 0)
				return (0);
			scale_print(&one[k], rounds > 1 ? r : 0);
			if (scale_run(sizes[k], 1, &many[k]) != 0)
				return (0);
			scale_print(&many[k], rounds > 1 ? r : 0);
		}
		if (one[0].sites == 3 && one[1].sites == 30 &&
		    one[0].lat.n > 0 && many[0].lat.n > 0) {
			met_one += scale_check(&one[0], &one[1], "one session",
			    r);
			met_many += scale_check(&many[0], &many[1],
			    "sessions of 3", r);
			judged++;
		}
	}
	if (judged > 0) {
		printf("scale: at 30 sites every site's p99 under 2x the 3-site "
		    "p99: one session met in %d of %d rounds, sessions of 3 in "
		    "%d of %d\n", met_one, judged, met_many, judged);
	}
	if (sizes[2] <= max && sizes[2] >= min) {
		memset(one, 0, sizeof one);
		memset(many, 0, sizeof many);
		if (scale_run(sizes[2], 0, &one[2]) != 0)
			return (0);
		scale_print(&one[2], 0);
		if (scale_run(sizes[2], 1, &many[2]) != 0)
			return (0);
		scale_print(&many[2], 0);
	}
	return (0);
}
