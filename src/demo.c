/*
 * demo.c: the embedded demo. In real time the three sites of the hybrid
 * experiment talk through a real relay on loopback over HTTPS, each with a
 * token of its own; with --fast they run in lock-step in this process.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "demo.h"
#include "sched-hint.h"
#include "xmalloc.h"

#define DEMO_START_US 15000000

static const char *const demo_sites[] = { "padova", "southampton", "zurich" };

/*
 * The relay runs under a keeper: a child of the console that holds the
 * read end of a pipe whose write end only the console holds. When the
 * console ends, however it ends (quit, a crash, kill -9), the pipe reads
 * end-of-file, and the keeper stops the relay and removes the demo's
 * directory (its tokens and the relay's private key). The keeper ends by
 * itself when the relay does, which the console sees at start.
 */
#define DEMO_STOP_US 10000000	/* SIGTERM, then this long before SIGKILL */
#define DEMO_ENDED "relay.ended"	/* the keeper saw the relay end */

static pid_t demo_keeper_pid = -1;
static int demo_keeper_fd = -1;	/* the console's end of the pipe */
static char *demo_dir;

/* A random token (hex). */
static void
demo_token(char *out, size_t len)
{
	unsigned char raw[24];
	size_t i;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd < 0 || read(fd, raw, sizeof raw) != (ssize_t)sizeof raw) {
		uint64_t x = (uint64_t)clock_mono_us() * 0x9e3779b97f4a7c15ULL ^
		    (uint64_t)getpid();

		for (i = 0; i < sizeof raw; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			raw[i] = (unsigned char)x;
		}
	}
	if (fd >= 0)
		close(fd);
	for (i = 0; i < sizeof raw && 2 * i + 2 < len; i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
}

/* The last line of a log, for an error message. */
static const char *
demo_last_line(const char *log)
{
	static char last[512];
	char line[512];
	FILE *f = fopen(log, "r");

	strcpy(last, "(no message)");
	while (f != NULL && fgets(line, sizeof line, f) != NULL)
		if (line[0] != '\n') {
			line[strcspn(line, "\n")] = '\0';
			strcpy(last, line);
		}
	if (f != NULL)
		fclose(f);
	return last;
}

/* Did the keeper say the relay ended? */
static int
demo_ended_at_start(void)
{
	char *path;
	int ended;

	xasprintf(&path, "%s/%s", demo_dir, DEMO_ENDED);
	ended = access(path, F_OK) == 0;
	free(path);
	return ended;
}

/* Wait for the relay's first lines in its log: key pin and address. */
static int
demo_read_relay(const char *log, char **pin, char **listen,
    volatile sig_atomic_t *stop, char **cause)
{
	int64_t deadline = clock_mono_us() + DEMO_START_US;
	struct timespec ts = { 0, 10000000 };
	char line[1024];
	int status;
	FILE *f;

	while (*listen == NULL) {
		f = fopen(log, "r");
		while (f != NULL && fgets(line, sizeof line, f) != NULL) {
			line[strcspn(line, "\r\n")] = '\0';
			if (strncmp(line, "pin ", 4) == 0 && *pin == NULL)
				*pin = xstrdup(line + 4);
			else if (strncmp(line, "listening on ", 13) == 0 &&
			    *listen == NULL)
				*listen = xstrdup(line + 13);
		}
		if (f != NULL)
			fclose(f);
		if (*listen != NULL)
			break;
		if (waitpid(demo_keeper_pid, &status, WNOHANG) ==
		    demo_keeper_pid)
			demo_keeper_pid = -1;	/* (ended with it) */
		if (demo_keeper_pid == -1 || demo_ended_at_start()) {
			xasprintf(cause, "the relay stopped at start: %s",
			    demo_last_line(log));
			return -1;
		}
		if (clock_mono_us() > deadline) {
			xasprintf(cause, "the relay did not start within %d s",
			    DEMO_START_US / 1000000);
			return -1;
		}
		if (stop != NULL && *stop) {
			xasprintf(cause, "stopped by a signal while its relay "
			    "started");
			return -1;
		}
		nanosleep(&ts, NULL);
	}
	if (*pin == NULL) {
		xasprintf(cause, "the relay printed no key pin");
		return -1;
	}
	return 0;
}

static void demo_remove(const char *);

/* The keeper says the relay ended: a file the console looks for. */
static void
demo_relay_ended(void)
{
	char *path;
	int fd;

	xasprintf(&path, "%s/%s", demo_dir, DEMO_ENDED);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) >= 0)
		close(fd);
	free(path);
}

/*
 * The keeper (in the child of a fork): start the relay with its output in
 * logfd, then wait for the console to close its end of the pipe (keep
 * reads end-of-file) or for the relay to end. Never returns.
 */
static void __attribute__((noreturn))
demo_keeper(int keep, int logfd, const char *relay_path, const char *certdir,
    const char *tokfile)
{
	struct pollfd pfd = { .fd = keep, .events = POLLIN };
	int64_t deadline;
	pid_t relay, keeper;
	int status, null;

	/* out of the console's process group: a ^C is the console's to
	 * handle, and the relay ends with the keeper, however it ends */
	setpgid(0, 0);
	prctl(PR_SET_NAME, "synbridge-demo");
	/* --realtime's hold on idle cores is the console's, not the keeper's */
	sb_cpu_wake_forget();
	/* nor does it hold the console's terminal or pipes open */
	dup2(logfd, STDOUT_FILENO);
	dup2(logfd, STDERR_FILENO);
	if ((null = open("/dev/null", O_RDONLY)) >= 0 && null != STDIN_FILENO) {
		dup2(null, STDIN_FILENO);
		close(null);
	}
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGTERM, SIG_DFL);	/* not the console's handler */
	keeper = getpid();
	relay = fork();
	if (relay < 0)
		_exit(127);
	if (relay == 0) {
		/* its output goes to the log, as the keeper's does */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != keeper)
			_exit(0);	/* the keeper is gone already */
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		execl(relay_path, "synbridge-relay", "--listen",
		    "127.0.0.1:0", "--self-signed", certdir, "--tokens",
		    tokfile, (char *)NULL);
		fprintf(stderr, "cannot run %s: %s\n", relay_path,
		    strerror(errno));
		_exit(127);
	}
	close(logfd);
	for (;;) {
		if (poll(&pfd, 1, 200) > 0)
			break;	/* the console closed its end, or ended */
		if (relay > 0 && waitpid(relay, &status, WNOHANG) == relay) {
			/* said to the console; the directory goes with it */
			demo_relay_ended();
			relay = -1;
		}
	}
	if (relay < 0)
		goto out;
	kill(relay, SIGTERM);
	deadline = clock_mono_us() + DEMO_STOP_US;
	while (waitpid(relay, &status, WNOHANG) == 0) {
		if (clock_mono_us() > deadline) {
			kill(relay, SIGKILL);
			waitpid(relay, &status, 0);
			break;
		}
		poll(NULL, 0, 20);
	}
out:
	if (demo_dir != NULL)
		demo_remove(demo_dir);
	_exit(0);
}

/* Start the relay for the demo; fills the tokens. */
static int
demo_start_relay(const char *relay_path, char tokens[][64], char **pin,
    char **listen, volatile sig_atomic_t *stop, char **cause)
{
	char *tokfile, *certdir, *log;
	FILE *f;
	int fd, keep[2];
	size_t i;

	xasprintf(&tokfile, "%s/tokens", demo_dir);
	xasprintf(&certdir, "%s/tls", demo_dir);
	xasprintf(&log, "%s/relay.log", demo_dir);
	f = fopen(tokfile, "w");
	if (f == NULL) {
		xasprintf(cause, "cannot write %s: %s", tokfile,
		    strerror(errno));
		goto fail;
	}
	fprintf(f, "# TOKEN SITE SESSION PUBLISH READ COMMAND\n");
	for (i = 0; i < 3; i++) {
		demo_token(tokens[i], 64);
		fprintf(f, "%s %s demo * */* *\n", tokens[i], demo_sites[i]);
	}
	fclose(f);
	chmod(tokfile, 0600);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		xasprintf(cause, "cannot write %s: %s", log, strerror(errno));
		goto fail;
	}
	if (pipe2(keep, O_CLOEXEC) != 0) {
		xasprintf(cause, "pipe: %s", strerror(errno));
		close(fd);
		goto fail;
	}
	demo_keeper_pid = fork();
	if (demo_keeper_pid < 0) {
		xasprintf(cause, "fork: %s", strerror(errno));
		close(keep[0]);
		close(keep[1]);
		close(fd);
		goto fail;
	}
	if (demo_keeper_pid == 0) {
		close(keep[1]);
		demo_keeper(keep[0], fd, relay_path, certdir, tokfile);
	}
	close(keep[0]);
	demo_keeper_fd = keep[1];
	close(fd);
	if (demo_read_relay(log, pin, listen, stop, cause) != 0)
		goto fail;
	free(tokfile);
	free(certdir);
	free(log);
	return 0;
fail:
	free(tokfile);
	free(certdir);
	free(log);
	return -1;
}

/* Prepare the demo; returns the session file to run. */
char *
demo_start(const char *datadir, const char *relay_path, int fast,
    volatile sig_atomic_t *stop, char **cause)
{
	char tokens[3][64], *pin = NULL, *listen = NULL, *session, *base;
	const char *tmp = getenv("TMPDIR");
	FILE *f;
	size_t i;

	xasprintf(&base, "%s/sessions/hybrid-3site/one-machine.conf", datadir);
	if (access(base, R_OK) != 0) {
		xasprintf(cause, "demo session %s: %s", base, strerror(errno));
		free(base);
		return NULL;
	}
	if (fast)
		return base;	/* lock-step in this process, no relay */
	if (access(relay_path, X_OK) != 0) {
		fprintf(stderr, "synbridge: --demo: %s: %s; the sites run in "
		    "this process without a relay\n", relay_path,
		    strerror(errno));
		return base;
	}

	xasprintf(&demo_dir, "%s/synbridge-demo-XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(demo_dir) == NULL) {
		xasprintf(cause, "cannot create %s: %s", demo_dir,
		    strerror(errno));
		free(base);
		free(demo_dir);
		demo_dir = NULL;
		return NULL;
	}
	signal(SIGPIPE, SIG_IGN);
	if (demo_start_relay(relay_path, tokens, &pin, &listen, stop,
	    cause) != 0) {
		free(base);
		free(pin);
		free(listen);
		demo_stop();
		return NULL;
	}
	xasprintf(&session, "%s/demo.conf", demo_dir);
	f = fopen(session, "w");
	if (f == NULL) {
		xasprintf(cause, "cannot write %s: %s", session,
		    strerror(errno));
		free(session);
		session = NULL;
		goto out;
	}
	fprintf(f, "# The hybrid-3site demo through a relay on %s.\n", listen);
	fprintf(f, "# Each site links to the relay before its backends start "
	    "so that they\n# run on the session clock from the beginning.\n");
	for (i = 0; i < 3; i++) {
		char *tokfile;
		FILE *tf;

		/* a token file, so the token stays out of the audit log */
		xasprintf(&tokfile, "%s/token.%s", demo_dir, demo_sites[i]);
		tf = fopen(tokfile, "w");
		if (tf == NULL) {
			xasprintf(cause, "cannot write %s: %s", tokfile,
			    strerror(errno));
			free(tokfile);
			fclose(f);
			free(session);
			session = NULL;
			goto out;
		}
		fprintf(tf, "%s\n", tokens[i]);
		fclose(tf);
		chmod(tokfile, 0600);
		fprintf(f, "site %s\nload relay url=https://%s token_file=%s "
		    "pin=%s\n", demo_sites[i], listen, tokfile, pin);
		free(tokfile);
	}
	fprintf(f, "source %s\n", base);
	fclose(f);
out:
	free(base);
	free(pin);
	free(listen);
	return session;
}

/* nftw callback: remove one entry. */
static int
demo_remove_entry(const char *path, const struct stat *st, int type,
    struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

/* Remove the demo's directory tree. */
static void
demo_remove(const char *dir)
{
	if (nftw(dir, demo_remove_entry, 8, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "synbridge: could not remove %s: %s\n", dir,
		    strerror(errno));
}

/* Stop the relay and clean up. */
void
demo_stop(void)
{
	int status;

	/* the keeper stops the relay and removes the directory */
	if (demo_keeper_fd >= 0) {
		close(demo_keeper_fd);
		demo_keeper_fd = -1;
	}
	if (demo_keeper_pid > 0) {
		waitpid(demo_keeper_pid, &status, 0);
		demo_keeper_pid = -1;
	}
	/* (or it ended with the relay, before it was asked) */
	if (demo_dir != NULL) {
		if (access(demo_dir, F_OK) == 0)
			demo_remove(demo_dir);
		free(demo_dir);
		demo_dir = NULL;
	}
}
