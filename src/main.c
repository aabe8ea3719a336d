/* main.c: the synbridge console: options, session set-up, signals. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "demo.h"
#include "engine.h"
#include "headless.h"
#include "history.h"
#include "sched-hint.h"
#include "tui.h"
#include "xmalloc.h"

static struct session *main_session;

/* SIGINT, SIGTERM, SIGHUP: stop cleanly (logs are flushed on the way out). */
static volatile sig_atomic_t main_stop;	/* a signal came, at any time */

static void
main_signal(int sig)
{
	(void)sig;
	main_stop = 1;
	/* at quit, a signal ends the waits for the disk (engine_shutdown's
	 * too, when main_session is gone) */
	if (engine_give_up_armed)
		engine_gave_up = 1;
	if (main_session != NULL)
		main_session->quit = 1;
}

/* --help */
static void
main_usage(FILE *f)
{
	fprintf(f,
"Usage: synbridge [OPTION]...\n"
"The console of a distributed hybrid neural experiment: live spikes,\n"
"synapse conductances and links, typed commands, CSV logs.\n"
"\n"
"  -c, --session FILE     run the commands of a session file first\n"
"  -x, --script FILE      run a script of commands, then exit (headless)\n"
"      --headless         no screen: commands from stdin or -x, results on\n"
"                         stdout, errors on stderr\n"
"      --demo             the three-site hybrid experiment, simulated here and\n"
"                         linked through a relay on loopback (no relay with\n"
"                         --fast: the sites run in lock-step)\n"
"      --duration SECONDS stop after running this long (--fast: of\n"
"                         simulated time)\n"
"      --fast             run simulators faster than real time\n"
"      --realtime[=PRIO]  run the console's threads under SCHED_FIFO at\n"
"                         PRIO (1-%d, default %d), ahead of other work;\n"
"                         needs an rtprio limit or CAP_SYS_NICE; also\n"
"                         keeps idle cores quick to wake (writes\n"
"                         /dev/cpu_dma_latency: root by default)\n"
"      --seed N           seed of every simulator (default 1)\n"
"      --log-dir DIR      record spikes, synapses, links, commands as CSV\n"
"      --plugin-dir DIR   look for plugins in DIR first (repeatable)\n"
"      --history EVENTS   events kept in memory for export (default 1000000)\n"
"  -v, --verbose          print informational messages on stderr\n"
"      --help             show this help and exit\n"
"      --version          show the version and exit\n"
"\n"
"Plugins are searched in --plugin-dir, $SYNBRIDGE_PLUGIN_PATH, then\n"
"%s.\n"
"Type 'help' at the console for its commands; see synbridge(1) and\n"
"synbridge.conf(5).\n", SB_SCHED_RT_MAX, SB_SCHED_RT_DEFAULT, PKGLIBDIR);
}

/* Are we running from the build tree (uninstalled)? */
static int
main_uninstalled(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);

	if (n <= 0)
		return 0;
	exe[n] = '\0';
	return strcmp(exe, ABS_TOP_BUILDDIR "/src/synbridge") == 0;
}

/* Add each directory of a colon-separated list. */
static void
main_add_path(struct session *s, const char *list)
{
	char *copy = xstrdup(list), *dir, *save;

	for (dir = strtok_r(copy, ":", &save); dir != NULL;
	    dir = strtok_r(NULL, ":", &save))
		session_add_plugin_dir(s, dir);
	free(copy);
}

/*
 * -v: the time slice this console's threads run with (sched-hint.h), and
 * why, for whoever rules the console in or out under load. rc is what
 * sb_sched_prefer_latency returned (0 with --fast: not asked).
 */
static void
main_report_slice(int fast, int rc, int realtime)
{
	int		 err = errno;	/* of sb_sched_prefer_latency */
	const char	*env = getenv(SB_SCHED_ENV);
	uint64_t	 ns = 0;
	int		 known = sb_sched_slice_ns(&ns) == 0 && ns > 0;
	char		 kernel[48] = "";

	if (known)
		snprintf(kernel, sizeof kernel, " (%.3f ms)", (double)ns / 1e6);
	if (env != NULL && strcmp(env, "0") == 0)
		fprintf(stderr, "synbridge: %s=0: threads keep the kernel's "
		    "time slice%s\n", SB_SCHED_ENV, kernel);
	else if (fast)
		fprintf(stderr, "synbridge: --fast: the console keeps the "
		    "kernel's time slice%s (link threads of plugins that run "
		    "under --fast ask for %.1f ms)\n", kernel,
		    SB_SCHED_SLICE_US / 1000.0);
	else if (rc != 0)
		fprintf(stderr, "synbridge: the kernel refused a %.1f ms time "
		    "slice (%s): threads keep its own%s\n",
		    SB_SCHED_SLICE_US / 1000.0, strerror(err), kernel);
	else if (sched_getscheduler(0) == SCHED_FIFO ||
	    sched_getscheduler(0) == SCHED_RR) {
		struct sched_param sp;
		int fifo = sched_getscheduler(0) == SCHED_FIFO;

		(void)sched_getparam(0, &sp);
		fprintf(stderr, "synbridge: threads run under %s priority %d "
		    "(%s)%s\n", fifo ? "SCHED_FIFO" : "SCHED_RR",
		    sp.sched_priority, realtime ? "--realtime" :
		    "as started, e.g. by chrt", !fifo ? "" :
		    sp.sched_priority > 1 ? "; simulated populations one "
		    "priority lower" : "; simulated populations under "
		    "SCHED_OTHER");
	} else if (sched_getscheduler(0) != SCHED_OTHER)
		fprintf(stderr, "synbridge: the console runs under a policy "
		    "other than SCHED_OTHER (set with chrt?): its time slice "
		    "is left as it is\n");
	else if (known && ns == (uint64_t)SB_SCHED_SLICE_US * 1000)
		fprintf(stderr, "synbridge: threads run with a %.1f ms time "
		    "slice (%s=0 turns it off)\n", SB_SCHED_SLICE_US / 1000.0,
		    SB_SCHED_ENV);
	else
		fprintf(stderr, "synbridge: asked for a %.1f ms time slice; "
		    "this kernel keeps%s its own (per-thread slices need "
		    "Linux 6.12 or later)\n", SB_SCHED_SLICE_US / 1000.0,
		    known ? kernel : "");
}

/* Parse a non-negative number of seconds. */
static int
main_seconds(const char *text, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(text, &end);
	return *text != '\0' && *end == '\0' && errno == 0 &&
	    isfinite(*out) && *out >= 0 && *out < 1e9;
}

int
main(int argc, char **argv)
{
	enum { OPT_HEADLESS = 256, OPT_DEMO, OPT_DURATION, OPT_FAST,
	    OPT_SEED, OPT_LOGDIR, OPT_PLUGINDIR, OPT_HISTORY, OPT_HELP,
	    OPT_VERSION, OPT_REALTIME };
	static const struct option longs[] = {
		{ "session", required_argument, NULL, 'c' },
		{ "script", required_argument, NULL, 'x' },
		{ "headless", no_argument, NULL, OPT_HEADLESS },
		{ "demo", no_argument, NULL, OPT_DEMO },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "fast", no_argument, NULL, OPT_FAST },
		{ "realtime", optional_argument, NULL, OPT_REALTIME },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "log-dir", required_argument, NULL, OPT_LOGDIR },
		{ "plugin-dir", required_argument, NULL, OPT_PLUGINDIR },
		{ "history", required_argument, NULL, OPT_HISTORY },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	struct headless_options ho = { NULL, NULL, -1, 1 };
	struct session *s;
	struct sigaction sa;
	const char *log_dir = NULL, *env;
	char **plugin_dirs = NULL, *demo_file = NULL, *cause = NULL, *end;
	size_t nplugin_dirs = 0, i;
	unsigned long long seed = 1, history = 1000000;
	int c, headless = 0, demo = 0, fast = 0, verbose = 0, status;
	int rc_slice, realtime = 0, wake_asked;

	while ((c = getopt_long(argc, argv, "c:x:v", longs, NULL)) != -1) {
		switch (c) {
		case 'c':
			ho.session_file = optarg;
			break;
		case 'x':
			ho.script = optarg;
			break;
		case OPT_HEADLESS:
			headless = 1;
			break;
		case OPT_DEMO:
			demo = 1;
			break;
		case OPT_DURATION:
			if (!main_seconds(optarg, &ho.duration_s)) {
				fprintf(stderr, "synbridge: --duration %s: "
				    "expected seconds\n", optarg);
				return 2;
			}
			break;
		case OPT_FAST:
			fast = 1;
			break;
		case OPT_REALTIME:
			if (sb_sched_realtime_parse(optarg, &realtime) != 0) {
				sb_sched_realtime_bad("synbridge", optarg);
				return 2;
			}
			break;
		case OPT_SEED:
		case OPT_HISTORY:
			errno = 0;
			if (c == OPT_SEED)
				seed = strtoull(optarg, &end, 0);
			else
				history = strtoull(optarg, &end, 0);
			if (*optarg == '\0' || *optarg == '-' || *end != '\0' ||
			    errno != 0 || (c == OPT_HISTORY &&
			    (history < 1000 || history > 1000000000ULL))) {
				fprintf(stderr, "synbridge: --%s %s: expected %s\n",
				    c == OPT_SEED ? "seed" : "history", optarg,
				    c == OPT_SEED ? "a whole number" :
				    "a count from 1000 to 1000000000");
				return 2;
			}
			break;
		case OPT_LOGDIR:
			log_dir = optarg;
			break;
		case OPT_PLUGINDIR:
			plugin_dirs = xreallocarray(plugin_dirs,
			    nplugin_dirs + 1, sizeof *plugin_dirs);
			plugin_dirs[nplugin_dirs++] = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case OPT_HELP:
			main_usage(stdout);
			return 0;
		case OPT_VERSION:
			printf("synbridge %s\n", PACKAGE_VERSION);
			printf("plugin API %s\n", SB_PLUGIN_API_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try 'synbridge --help' for more "
			    "information.\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "synbridge: unexpected argument '%s'%s\n"
		    "Try 'synbridge --help' for more information.\n",
		    argv[optind], sb_sched_realtime_hint(argc, argv,
		    argv[optind]));
		return 2;
	}
	if (realtime && fast) {
		fprintf(stderr, "synbridge: --realtime and --fast cannot be "
		    "used together (under --fast the simulators compute "
		    "without a pause, and real-time threads would hold whole "
		    "cores)\n");
		return 2;
	}
	if (ho.script != NULL)
		ho.read_stdin = 0;
	if (ho.script != NULL)
		headless = 1;	/* -x runs a script, then exits */
	if (!headless && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
		fprintf(stderr, "synbridge: the console needs a terminal (stdin "
		    "and stdout are not both one); use --headless to read "
		    "commands from stdin or -x FILE\n");
		return 2;
	}
	/*
	 * In real time every thread of the console waits for something (the
	 * loop for rings, stdin and timers, a device link for its instrument,
	 * a relay link for the network, a simulated population for the end
	 * of its next step) and must run as soon as it comes, also beside
	 * programs that compute: a short scheduler slice, which the threads
	 * started from here inherit (sched-hint.h). In fast mode they compute.
	 * --realtime asks for SCHED_FIFO instead, inherited the same way
	 * (and by the demo's relay); refused, it falls back to the slice.
	 */
	/*
	 * It also keeps idle cores quick to wake, as long as the console
	 * runs (sched-hint.h), whether or not the policy was granted.
	 */
	wake_asked = realtime != 0;
	if (realtime && sb_sched_realtime(realtime) != 0) {
		sb_sched_realtime_refused("synbridge", realtime, errno);
		realtime = 0;
	}
	rc_slice = fast ? 0 : sb_sched_prefer_latency();
	/* before any thread: growing it later stalls them (sched-hint.h) */
	(void)sb_fd_table_reserve(SB_FD_TABLE_CONSOLE);
	if (verbose)
		main_report_slice(fast, rc_slice, realtime);
	if (wake_asked && sb_cpu_wake_realtime("synbridge", verbose) == -2)
		return 2;
	if (!wake_asked && verbose && getenv(SB_CPU_WAKE_ENV) != NULL)
		fprintf(stderr, "synbridge: %s is read only with --realtime\n",
		    SB_CPU_WAKE_ENV);
	/* from here on a signal stops the console cleanly, even while the
	 * demo's relay starts: nothing is left running */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = main_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (demo) {
		if (ho.session_file != NULL) {
			fprintf(stderr, "synbridge: --demo and -c cannot be "
			    "used together\n");
			return 2;
		}
		demo_file = demo_start(main_uninstalled() ?
		    ABS_TOP_SRCDIR "/share" : PKGDATADIR, main_uninstalled() ?
		    ABS_TOP_BUILDDIR "/src/relay/synbridge-relay" :
		    BINDIR "/synbridge-relay", fast, &main_stop, &cause);
		if (demo_file == NULL) {
			fprintf(stderr, "synbridge: --demo: %s\n", cause);
			free(cause);
			return 1;
		}
		ho.session_file = demo_file;
	}

	s = session_create(fast, seed);
	s->verbose = verbose;
	s->realtime = realtime;		/* 0 if not asked or refused */
	main_session = s;
	/* a signal before the session (or as it was made): it stops */
	if (main_stop)
		s->quit = 1;
	for (i = 0; i < nplugin_dirs; i++)
		session_add_plugin_dir(s, plugin_dirs[i]);
	free(plugin_dirs);
	env = getenv("SYNBRIDGE_PLUGIN_PATH");
	if (env != NULL && *env != '\0')
		main_add_path(s, env);
	if (main_uninstalled())
		session_add_plugin_dir(s, ABS_TOP_BUILDDIR "/plugins");
	session_add_plugin_dir(s, PKGLIBDIR);
	s->history = history_create((size_t)history, 100000);

	if (log_dir != NULL && engine_record_start(s, log_dir, &cause) != 0) {
		fprintf(stderr, "synbridge: --log-dir: %s\n", cause);
		free(cause);
		engine_shutdown(s);
		if (demo)
			demo_stop();
		free(demo_file);
		return 1;
	}
	if (headless)
		status = headless_run(s, &ho);
	else {
		struct tui_options to;

		memset(&to, 0, sizeof to);
		to.session_file = ho.session_file;
		to.title = demo ? "demo" : NULL;
		to.duration_s = ho.duration_s;
		status = tui_run(s, &to);
	}
	main_session = NULL;
	engine_shutdown(s);
	if (demo)
		demo_stop();
	free(demo_file);
	return status;
}
