/*
 * bench-tui.c: how long the console takes to draw a full frame with 4096
 * units and 1000 synapses (model update and drawing, output to /dev/null),
 * and how much CPU the real console uses in the demo compared with the
 * same demo headless.
 */
#include "config.h"

#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tui.h"
#include "xmalloc.h"

#define UNITS_PER_POP 1024
#define NPOPS 4
#define NSYN 1000
#define FRAMES 300
#define RATE_HZ 10.0

/* Microseconds of the monotonic clock. */
static double
bench_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Microseconds of CPU this thread used (immune to a loaded machine). */
static double
bench_cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* A session with 4 x 1024 units and 1000 synapses, no plugins. */
static struct session *
bench_session(void)
{
	struct session *s = session_create(1, 1);
	struct site *site;
	char *cause = NULL, name[32];
	size_t i;

	site = site_create(s, "bench", &cause);
	if (site == NULL) {
		fprintf(stderr, "bench-tui: %s\n", cause);
		exit(1);
	}
	s->current = site;
	site->pops = xcalloc(NPOPS, sizeof *site->pops);
	for (i = 0; i < NPOPS; i++) {
		struct population *p = xcalloc(1, sizeof *p);

		snprintf(name, sizeof name, "pop%zu", i);
		p->name = xstrdup(name);
		p->id = (uint16_t)i;
		p->site = site;
		p->ops.units = UNITS_PER_POP;
		site->pops[i] = p;
	}
	site->npops = NPOPS;
	s->synapses = xcalloc(NSYN, sizeof *s->synapses);
	for (i = 0; i < NSYN; i++) {
		struct synapse *syn = xcalloc(1, sizeof *syn);

		xasprintf(&syn->name, "s%zu", i);
		xasprintf(&syn->pre_name, "bench/pop0:%zu", i);
		xasprintf(&syn->post_name, "bench/pop1:%zu", i);
		syn->id = (uint32_t)i;
		syn->limits.g_min_us = 100;
		syn->limits.g_max_us = 250;
		syn->g_us = 100 + (double)(i % 150);
		strcpy(syn->last_decision, "ltp (25 pre)");
		s->synapses[i] = syn;
	}
	s->nsynapses = NSYN;
	return s;
}

/* Spikes of every unit at RATE_HZ (Poisson-ish) in [t0, t1). */
static size_t
bench_spikes(struct tui *t, int64_t t0, int64_t t1, unsigned *seed)
{
	double p = RATE_HZ * (double)(t1 - t0) / 1e6;
	size_t n = 0;
	uint16_t pop;
	uint32_t u;

	for (pop = 0; pop < NPOPS; pop++)
		for (u = 0; u < UNITS_PER_POP; u++)
			if ((double)rand_r(seed) / RAND_MAX < p) {
				tui_raster_spike(&t->raster, 0, pop, u, t0 +
				    (int64_t)rand_r(seed) % (t1 - t0));
				n++;
			}
	return n;
}

/* Sort doubles. */
static int
bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Frame time at a size. */
static void
bench_frames(int rows, int cols)
{
	struct session *s = bench_session();
	struct tui *t = xcalloc(1, sizeof *t);
	FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
	WINDOW *wr, *ws, *wl, *wg, *wst;
	double times[FRAMES], model = 0, sum = 0, cpu = 0, c1;
	unsigned seed = 1;
	char num[16];
	int64_t now = 5000000;
	size_t spikes = 0, spikes_frames = 0;
	SCREEN *scr;
	int i;

	snprintf(num, sizeof num, "%d", rows);
	setenv("LINES", num, 1);
	snprintf(num, sizeof num, "%d", cols);
	setenv("COLUMNS", num, 1);
	setenv("TERM", "xterm-256color", 1);
	scr = newterm(NULL, out, in);
	t->s = s;
	t->gl.utf8 = 1;
	t->gl.colour = 1;
	start_color();
	use_default_colors();
	t->title = "bench";
	t->window_us = 5000000;
	t->spark_step_us = 500000;
	t->rows = rows;
	t->cols = cols;
	tui_raster_init(&t->raster);
	for (i = 0; i < 40; i++)
		tui_log(t, TUI_LOG_RESULT, "s%d: potentiate 1 x +4.00 V 100 us: "
		    "G 150.000 -> 151.000 uS", i);
	tui_layout(&t->lay, rows, cols, s->nsynapses, 0);
	wr = newwin(t->lay.raster_h, t->lay.raster_w, t->lay.raster_y,
	    t->lay.raster_x);
	ws = newwin(t->lay.syn_h, t->lay.syn_w, t->lay.syn_y, t->lay.syn_x);
	wl = newwin(t->lay.link_h, t->lay.link_w, t->lay.link_y, 0);
	wg = newwin(t->lay.log_h, t->lay.log_w, t->lay.log_y, 0);
	wst = newwin(1, cols, rows - 2, 0);
	clock_advance(&s->clock, now);
	/* first frame sizes the raster; then fill the 5 s window */
	tui_draw_raster(t, wr, t->lay.raster_h, t->lay.raster_w);
	spikes = bench_spikes(t, 0, now, &seed);
	(void)spikes;
	for (i = 0; i < FRAMES; i++) {
		double t0 = bench_us(), t1;

		spikes_frames += bench_spikes(t, now, now + 33333, &seed);
		now += 33333;
		clock_advance(&s->clock, now);
		tui_sample_synapses(t, now);
		t1 = bench_us();
		model += t1 - t0;
		c1 = bench_cpu_us();
		tui_draw_raster(t, wr, t->lay.raster_h, t->lay.raster_w);
		tui_draw_synapses(t, ws, t->lay.syn_h, t->lay.syn_w);
		tui_draw_links(t, wl, t->lay.link_h, t->lay.link_w);
		tui_draw_log(t, wg, t->lay.log_h, t->lay.log_w);
		tui_draw_status(t, wst, cols);
		wnoutrefresh(wr);
		wnoutrefresh(ws);
		wnoutrefresh(wl);
		wnoutrefresh(wg);
		wnoutrefresh(wst);
		doupdate();
		times[i] = bench_us() - t1;
		cpu += bench_cpu_us() - c1;
		sum += times[i];
	}
	qsort(times, FRAMES, sizeof *times, bench_cmp);
	printf("frame %dx%d, %d units at %.0f spikes/s each, %d synapses: "
	    "draw CPU %.3f ms/frame; wall mean %.3f ms, median %.3f ms, p99 "
	    "%.3f ms; model update %.3f ms/frame (%.0f spikes/frame)\n",
	    cols, rows, NPOPS * UNITS_PER_POP, RATE_HZ, NSYN,
	    cpu / FRAMES / 1e3, sum / FRAMES / 1e3,
	    times[FRAMES / 2] / 1e3, times[FRAMES * 99 / 100] / 1e3,
	    model / FRAMES / 1e3, (double)spikes_frames / FRAMES);
	delwin(wr);
	delwin(ws);
	delwin(wl);
	delwin(wg);
	delwin(wst);
	endwin();
	delscreen(scr);
	fclose(out);
	fclose(in);
}

/* CPU seconds used by a child running synbridge args for its duration. */
static double
bench_cpu(const char *const *args, int tty, double *wall, size_t *bytes)
{
	struct winsize ws = { 50, 160, 0, 0 };
	struct rusage ru;
	char buf[65536];
	const char *argv[16];
	double t0 = bench_us(), before;
	size_t n = 0;
	ssize_t got;
	pid_t pid;
	int fd = -1, st, i;

	/* children's times add up over every child waited for: the delta */
	getrusage(RUSAGE_CHILDREN, &ru);
	before = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec /
	    1e6 + (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec /
	    1e6;
	argv[n++] = ABS_TOP_BUILDDIR "/src/synbridge";
	for (i = 0; args[i] != NULL; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	*bytes = 0;
	if (tty)
		pid = forkpty(&fd, NULL, NULL, &ws);
	else
		pid = fork();
	if (pid == 0) {
		setenv("TERM", "xterm-256color", 1);
		setenv("LANG", "C.UTF-8", 1);
		setenv("INPUTRC", "/dev/null", 1);
		setenv("XDG_STATE_HOME", "/tmp", 1);
		if (!tty) {
			int null = open("/dev/null", O_RDWR);

			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
		}
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (tty) {
		struct pollfd p = { fd, POLLIN, 0 };

		for (;;) {
			if (poll(&p, 1, 100) > 0) {
				got = read(fd, buf, sizeof buf);
				if (got <= 0)
					break;
				*bytes += (size_t)got;
			}
			if (waitpid(pid, &st, WNOHANG) == pid)
				goto done;
		}
	}
	waitpid(pid, &st, 0);
done:
	*wall = (bench_us() - t0) / 1e6;
	if (fd >= 0)
		close(fd);
	getrusage(RUSAGE_CHILDREN, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6 -
	    before;
}

#define BENCH_CPU_RUNS 3

/* qsort: doubles, ascending. */
static int
bench_cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return ((x > y) - (x < y));
}

int
main(void)
{
	static const char *const tui[] = { "--demo", "--duration", "8",
	    NULL };
	static const char *const headless[] = { "--headless", "--demo",
	    "--duration", "8", NULL };
	double h[BENCH_CPU_RUNS], t[BENCH_CPU_RUNS], wall_h, wall_t;
	double kib_t = 0;
	size_t bytes_h, bytes_t;
	int k;

	setlocale(LC_ALL, "C.UTF-8");
	bench_frames(50, 160);
	bench_frames(60, 200);
	bench_frames(24, 80);
	fflush(stdout);
	/*
	 * The console's own share is a difference of two runs of about the
	 * same CPU, which move by more than it from run to run: three of
	 * each, in turn, and the medians, with the spread beside them.
	 */
	for (k = 0; k < BENCH_CPU_RUNS; k++) {
		h[k] = bench_cpu(headless, 0, &wall_h, &bytes_h) / wall_h;
		t[k] = bench_cpu(tui, 1, &wall_t, &bytes_t) / wall_t;
		kib_t += (double)bytes_t / 1024 / wall_t / BENCH_CPU_RUNS;
	}
	qsort(h, BENCH_CPU_RUNS, sizeof *h, bench_cmp_double);
	qsort(t, BENCH_CPU_RUNS, sizeof *t, bench_cmp_double);
	printf("demo 8 s headless: %.1f%% of one core (median of %d runs; "
	    "%.1f-%.1f)\n", 100 * h[1], BENCH_CPU_RUNS, 100 * h[0],
	    100 * h[BENCH_CPU_RUNS - 1]);
	printf("demo 8 s console 160x50 at up to 30 frames/s: %.1f%% of one "
	    "core (median of %d runs; %.1f-%.1f), %.1f KiB/s to the terminal; "
	    "the console's own share: %.1f%% of one core (the difference of "
	    "the medians; the runs of each spread over %.1f%%)\n",
	    100 * t[1], BENCH_CPU_RUNS, 100 * t[0],
	    100 * t[BENCH_CPU_RUNS - 1], kib_t, 100 * (t[1] - h[1]),
	    100 * ((h[BENCH_CPU_RUNS - 1] - h[0]) > (t[BENCH_CPU_RUNS - 1] -
	    t[0]) ? h[BENCH_CPU_RUNS - 1] - h[0] : t[BENCH_CPU_RUNS - 1] -
	    t[0]));
	return 0;
}
