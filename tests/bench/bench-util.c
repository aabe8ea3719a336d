/* bench-util.c: figures, their lines and the machine's AES-GCM limit. */
#include "config.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <glob.h>

#include <pthread.h>
#include <sched.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench-util.h"

static void	bench_first_line(const char *, char *, size_t);

/* Order doubles. */
static int
bench_cmp(const void *x, const void *y)
{
	double	a = *(const double *)x, b = *(const double *)y;

	return ((a > b) - (a < b));
}

/* Sort v[0..n) (microseconds) and take p50, p99 and max. */
void
bench_lat_from(struct bench_lat *l, double *v, size_t n)
{
	memset(l, 0, sizeof *l);
	if (n == 0)
		return;
	qsort(v, n, sizeof *v, bench_cmp);
	l->n = n;
	l->p50_ms = v[n / 2] / 1000;
	l->p99_ms = v[(size_t)(0.99 * (double)(n - 1))] / 1000;
	l->max_ms = v[n - 1] / 1000;
}

/* One throughput line; note follows in the parentheses. */
void
bench_print_tp(const char *prefix, uint32_t batch, const struct bench_tp *t,
    const char *note)
{
	char	arrived[64], cpu[96];

	if (t->got == t->n)
		snprintf(arrived, sizeof arrived, "all arrived");
	else
		snprintf(arrived, sizeof arrived, "INCOMPLETE: %llu arrived",
		    (unsigned long long)t->got);
	cpu[0] = '\0';
	if (t->cpu_ns > 0)
		snprintf(cpu, sizeof cpu, ", CPU %.1f ns/event: server %.0f "
		    "%%, clients %.0f %% of one core", t->cpu_ns,
		    100 * t->server_cpu, 100 * t->clients_cpu);
	printf("%sthroughput, %5u events/batch: %10.0f events/s  (%llu events "
	    "in %.3f s, %s, in order: %s, harness thread %.0f %%%s%s%s)\n",
	    prefix, batch, t->per_s, (unsigned long long)t->n, t->secs,
	    arrived, t->in_order ? "yes" : "NO", 100 * t->harness, cpu,
	    note != NULL ? ", " : "", note != NULL ? note : "");
	fflush(stdout);
}

/* One latency line. */
void
bench_print_lat(const char *prefix, const struct bench_lat *l,
    const char *note)
{
	struct bench_pace	steady = BENCH_PACE_STEADY;

	bench_print_lat_paced(prefix, &steady, l, note);
}

void
bench_print_lat_paced(const char *prefix, const struct bench_pace *pace,
    const struct bench_lat *l, const char *note)
{
	printf("%slatency %s: p50 %.3f ms, p99 %.3f ms, max %.3f ms over %zu "
	    "events%s%s%s\n", prefix, pace->what, l->p50_ms, l->p99_ms,
	    l->max_ms, l->n, note != NULL ? " (" : "", note != NULL ? note :
	    "", note != NULL ? ")" : "");
	fflush(stdout);
}

int64_t
bench_pace_next(struct bench_pace *p)
{
	uint64_t	x = p->seed;

	if (p->max_us <= p->min_us)
		return (p->min_us);
	/* xorshift64 */
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	p->seed = x;
	return (p->min_us + (int64_t)(x % (uint64_t)(p->max_us - p->min_us +
	    1)));
}

/*
 * openssl speed -elapsed -seconds S -bytes 16384 -evp aes-128-gcm: its
 * last line is "AES-128-GCM  NNNN.NNk" in 1000s of bytes per second, one
 * core (no -multi).
 */
double
bench_openssl_gcm(int seconds, char **why)
{
	char	 cmd[160], line[512], *p;
	double	 v = -1, k;
	FILE	*f;

	snprintf(cmd, sizeof cmd, "openssl speed -elapsed -seconds %d -bytes "
	    "16384 -evp aes-128-gcm 2>/dev/null", seconds);
	if ((f = popen(cmd, "r")) == NULL) {
		*why = strdup("cannot run openssl (install openssl)");
		return (-1);
	}
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "AES-128-GCM", 11) != 0)
			continue;
		if ((p = strrchr(line, ' ')) != NULL &&
		    sscanf(p + 1, "%lfk", &k) == 1)
			v = k * 1000;
	}
	if (pclose(f) != 0 || v <= 0) {
		*why = strdup("openssl speed gave no AES-128-GCM figure "
		    "(install openssl)");
		return (-1);
	}
	return (v);
}

/* What the server on 127.0.0.1:port negotiates with openssl s_client. */
int
bench_tls_suite(int port, char *out, size_t cap)
{
	char	 cmd[160], line[256], version[256] = "", suite[256] = "";
	FILE	*f;

	snprintf(cmd, sizeof cmd, "openssl s_client -connect 127.0.0.1:%d "
	    "-brief </dev/null 2>&1", port);
	if ((f = popen(cmd, "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (strncmp(line, "Protocol version: ", 18) == 0)
			snprintf(version, sizeof version, "%s", line + 18);
		else if (strncmp(line, "Ciphersuite: ", 13) == 0)
			snprintf(suite, sizeof suite, "%s", line + 13);
	}
	pclose(f);	/* (its status: no verified certificate) */
	if (*version == '\0' || *suite == '\0')
		return (-1);
	snprintf(out, cap, "%s %s", version, suite);
	return (0);
}

/* CLOCK_MONOTONIC in microseconds. */
int64_t
bench_mono_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

/* CPU seconds of the calling thread. */
double
bench_thread_cpu(void)
{
	struct rusage	ru;

	getrusage(RUSAGE_THREAD, &ru);
	return ((double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6);
}

/* VmHWM and VmRSS of pid from /proc (kB); 0, or -1 if unreadable. */
int
bench_rss_kb(int pid, long *peak, long *now)
{
	char	 path[64], line[256];
	FILE	*f;

	*peak = *now = -1;
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "VmHWM:", 6) == 0)
			*peak = strtol(line + 6, NULL, 10);
		else if (strncmp(line, "VmRSS:", 6) == 0)
			*now = strtol(line + 6, NULL, 10);
	}
	fclose(f);
	return (*peak >= 0 && *now >= 0 ? 0 : -1);
}

/* CPU seconds of pid from /proc/PID/stat (utime + stime), or -1. */
double
bench_proc_cpu(int pid)
{
	char			 path[64], line[1024], *p;
	unsigned long long	 ut, st;
	FILE			*f;
	int			 ok;

	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	ok = fgets(line, sizeof line, f) != NULL;
	fclose(f);
	/* after the command name in parentheses: fields 3.. */
	if (!ok || (p = strrchr(line, ')')) == NULL || sscanf(p + 2,
	    "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
	    &st) != 2)
		return (-1);
	return ((double)(ut + st) / (double)sysconf(_SC_CLK_TCK));
}

void
bench_tp_cpu_start(struct bench_cpu0 *c, int server)
{
	c->server = bench_proc_cpu(server);
	c->self = bench_proc_cpu(getpid());
}

void
bench_tp_cpu_end(const struct bench_cpu0 *c, int server, struct bench_tp *t)
{
	double	srv = bench_proc_cpu(server), self = bench_proc_cpu(getpid());

	t->cpu_ns = t->server_cpu = t->clients_cpu = 0;
	if (c->server < 0 || c->self < 0 || srv < 0 || self < 0 ||
	    t->got == 0 || t->secs <= 0)
		return;
	t->server_cpu = (srv - c->server) / t->secs;
	t->clients_cpu = (self - c->self) / t->secs;
	t->cpu_ns = (srv - c->server + self - c->self) * 1e9 /
	    (double)t->got;
}

/* Raise the soft open-files limit to the hard one; the new soft limit. */
long
bench_raise_nofile(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return (-1);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return (-1);
	return ((long)rl.rlim_cur);
}

#define BENCH_STALL_US 1000	/* a spinning thread's gap counted a stall */

/* One spinning thread's gaps between clock readings. */
struct bench_spin {
	int		 windows, fifo;
	unsigned	 stalls;
	int64_t		 longest_us, stalled_us;
};

static void *
bench_spin(void *arg)
{
	struct bench_spin	*sp = arg;
	struct sched_param	 param = { .sched_priority = 20 };
	int64_t			 last, now, gap, end;
	int			 w;

	/* FIFO spinning without a pause would be throttled by the kernel:
	 * 0.5 s windows with 0.5 s pauses keep it well under 95 % */
	sp->fifo = pthread_setschedparam(pthread_self(), SCHED_FIFO,
	    &param) == 0;
	for (w = 0; w < sp->windows; w++) {
		end = bench_mono_us() + 500000;
		last = bench_mono_us();
		while ((now = bench_mono_us()) < end) {
			gap = now - last;
			if (gap > BENCH_STALL_US) {
				sp->stalls++;
				sp->stalled_us += gap;
			}
			if (gap > sp->longest_us)
				sp->longest_us = gap;
			last = now;
		}
		usleep(500000);
	}
	return (NULL);
}

void
bench_machine_stalls(const char *prefix, int s)
{
	struct bench_spin	sp[2];
	pthread_t		t[2];
	int			i, n = 0;

	memset(sp, 0, sizeof sp);
	for (i = 0; i < 2; i++) {
		sp[i].windows = s;
		if (pthread_create(&t[i], NULL, bench_spin, &sp[i]) == 0)
			n++;
	}
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	printf("%smachine: %d threads spinning %.1f s each under %s were "
	    "stopped over %.1f ms %u and %u times (%.1f and %.1f ms in all, "
	    "longest %.1f and %.1f ms): time %s took a running thread's CPU "
	    "away; every latency tail includes such stalls\n", prefix, n,
	    s * 0.5, n > 0 && sp[0].fifo ? "SCHED_FIFO" : "the normal policy",
	    BENCH_STALL_US / 1000.0, sp[0].stalls, sp[1].stalls,
	    (double)sp[0].stalled_us / 1000, (double)sp[1].stalled_us / 1000,
	    (double)sp[0].longest_us / 1000, (double)sp[1].longest_us / 1000,
	    n > 0 && sp[0].fifo ? "this machine's host (or the kernel)" :
	    "this machine (its host, or other programs)");
	fflush(stdout);
}

#define BENCH_WAKE_US 1000	/* the probe's sleep */
#define BENCH_WAKE_THREADS 2

/* One probe thread: how late each of its wake-ups came (us). */
struct bench_wake_thread {
	pthread_t	 t;
	int		 fifo;
	double		*late;
	size_t		 n, cap;
	struct bench_wake *w;
};

struct bench_wake {
	struct bench_wake_thread th[BENCH_WAKE_THREADS];
	int		 started, stop;
	double		 kdamond0;	/* ns, or -1 */
};

/*
 * CPU time (ns) of the kernel's kdamond threads so far, from the first
 * field of /proc/PID/schedstat; -1 if none runs.
 */
static double
bench_kdamond_ns(void)
{
	glob_t			 g;
	char			 comm[32], path[64];
	unsigned long long	 ns;
	double			 sum = -1;
	size_t			 i;
	FILE			*f;

	if (glob("/proc/[0-9]*/comm", 0, NULL, &g) != 0)
		return (-1);
	for (i = 0; i < g.gl_pathc; i++) {
		bench_first_line(g.gl_pathv[i], comm, sizeof comm);
		if (strncmp(comm, "kdamond", 7) != 0)
			continue;
		snprintf(path, sizeof path, "%.*s/schedstat",
		    (int)(strlen(g.gl_pathv[i]) - strlen("/comm")),
		    g.gl_pathv[i]);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		if (fscanf(f, "%llu", &ns) == 1)
			sum = (sum < 0 ? 0 : sum) + (double)ns;
		fclose(f);
	}
	globfree(&g);
	return (sum);
}

static void *
bench_wake_run(void *arg)
{
	struct bench_wake_thread *t = arg;
	struct sched_param	 param = { .sched_priority = 20 };
	struct timespec		 next, now;
	double			*grown;
	int64_t			 late;

	t->fifo = pthread_setschedparam(pthread_self(), SCHED_FIFO,
	    &param) == 0;
	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!__atomic_load_n(&t->w->stop, __ATOMIC_ACQUIRE)) {
		next.tv_nsec += BENCH_WAKE_US * 1000L;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		if (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next,
		    NULL) != 0)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &now);
		late = ((int64_t)now.tv_sec - next.tv_sec) * 1000000 +
		    (now.tv_nsec - next.tv_nsec) / 1000;
		if (t->n == t->cap) {
			t->cap = t->cap ? 2 * t->cap : 65536;
			if ((grown = realloc(t->late, t->cap *
			    sizeof *grown)) == NULL)
				break;
			t->late = grown;
		}
		t->late[t->n++] = late > 0 ? (double)late : 0;
		/* a wake-up later than a period: the next deadline from now */
		if (late > BENCH_WAKE_US)
			next = now;
	}
	return (NULL);
}

struct bench_wake *
bench_wake_start(void)
{
	struct bench_wake	*w;
	int			 i;

	if ((w = calloc(1, sizeof *w)) == NULL)
		return (NULL);
	w->kdamond0 = bench_kdamond_ns();
	for (i = 0; i < BENCH_WAKE_THREADS; i++) {
		w->th[i].w = w;
		if (pthread_create(&w->th[i].t, NULL, bench_wake_run,
		    &w->th[i]) != 0)
			break;
		w->started++;
	}
	if (w->started == 0) {
		free(w);
		return (NULL);
	}
	return (w);
}

void
bench_wake_stop(struct bench_wake *w, struct bench_machine *out)
{
	double	*all, kd;
	size_t	 n = 0;
	int	 i;

	memset(out, 0, sizeof *out);
	out->kdamond_ms = -1;
	if (w == NULL)
		return;
	__atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < w->started; i++) {
		pthread_join(w->th[i].t, NULL);
		n += w->th[i].n;
	}
	kd = bench_kdamond_ns();
	if (w->kdamond0 >= 0 && kd >= w->kdamond0)
		out->kdamond_ms = (kd - w->kdamond0) / 1e6;
	out->fifo = w->started > 0 && w->th[0].fifo;
	if (n > 0 && (all = malloc(n * sizeof *all)) != NULL) {
		for (n = 0, i = 0; i < w->started; i++) {
			if (w->th[i].n > 0)
				memcpy(all + n, w->th[i].late,
				    w->th[i].n * sizeof *all);
			n += w->th[i].n;
		}
		bench_lat_from(&out->wake, all, n);
		free(all);
	}
	for (i = 0; i < w->started; i++)
		free(w->th[i].late);
	free(w);
}

void
bench_wake_print(const char *prefix, const char *what,
    const struct bench_machine *m)
{
	const struct bench_lat	*l = &m->wake;
	char			 kd[96] = "";

	if (l->n == 0)
		return;
	if (m->kdamond_ms >= 0)
		snprintf(kd, sizeof kd, "; the kernel's DAMON (kdamond) ran "
		    "%.0f ms of it", m->kdamond_ms);
	printf("%smachine during %s: %d threads sleeping %.0f ms at a time "
	    "under %s woke late by p50 %.3f ms, p99 %.3f ms, max %.3f ms (n "
	    "%zu): what %s added to a wake-up in the same window%s\n",
	    prefix, what, BENCH_WAKE_THREADS, BENCH_WAKE_US / 1000.0,
	    m->fifo ? "SCHED_FIFO" : "the normal policy", l->p50_ms,
	    l->p99_ms, l->max_ms, l->n, m->fifo ? "this machine's host and "
	    "kernel alone" : "this machine (its host, the kernel and other "
	    "programs)", kd);
	fflush(stdout);
}

/* The first line of a file, without its newline, or "" (nothing read). */
static void
bench_first_line(const char *path, char *buf, size_t len)
{
	FILE	*f;

	buf[0] = '\0';
	if ((f = fopen(path, "r")) == NULL)
		return;
	if (fgets(buf, (int)len, f) == NULL)
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

void
bench_machine_memory(const char *prefix)
{
	const char	*base = "/sys/kernel/mm/damon/admin/kdamonds";
	char		 path[512], state[32], ops[32], act[32], thp[128];
	char		 on[1024] = "";
	glob_t		 g;
	size_t		 i, j;
	int		 n = 0;

	snprintf(path, sizeof path, "%s/*/state", base);
	if (glob(path, 0, NULL, &g) == 0) {
		for (i = 0; i < g.gl_pathc; i++) {
			bench_first_line(g.gl_pathv[i], state, sizeof state);
			if (strcmp(state, "on") != 0)
				continue;
			/* .../kdamonds/K/state -> .../kdamonds/K */
			j = strlen(g.gl_pathv[i]) - strlen("/state");
			snprintf(path, sizeof path,
			    "%.*s/contexts/0/operations", (int)j,
			    g.gl_pathv[i]);
			bench_first_line(path, ops, sizeof ops);
			snprintf(path, sizeof path,
			    "%.*s/contexts/0/schemes/0/action", (int)j,
			    g.gl_pathv[i]);
			bench_first_line(path, act, sizeof act);
			snprintf(on + strlen(on), sizeof on - strlen(on),
			    "%s%s%s%s", n++ ? "; " : "",
			    ops[0] ? ops : "?", act[0] ? ", scheme " : "",
			    act);
		}
		globfree(&g);
	}
	bench_first_line("/sys/kernel/mm/transparent_hugepage/enabled", thp,
	    sizeof thp);
	printf("%smachine memory: the kernel's DAMON %s%s%s; transparent "
	    "huge pages %s\n", prefix, n > 0 ? "is on (" : "is off or absent",
	    on, n > 0 ? "): it samples and ages pages of running processes "
	    "in the background" : "", thp[0] ? thp : "unknown");
	fflush(stdout);
}
