/*
 * commands.c: fuzz target for the console's command language and session
 * files (src/cmd*.c, the session file loader in src/cmd-queue.c and every
 * command behind it), on a fresh session per input.
 *
 * Each input is a session file. A session is built as tests/test-cmd.c
 * builds one, with the test plugins of tests/plugins: site "lab" with
 * test_neurons (n), test_synapses (d), a synapse with the rate rule and a
 * test_loopback transport (loaded as in real time: fast mode refuses
 * transports), so that `at far ...` goes round a transport
 * and comes back as a remote command with its result; a remote population
 * far/mea; site "other". Then the input is loaded as a session file (as
 * -c FILE: it stops at its first error when it starts with '#', else
 * every line runs, as typed lines do) and run in fast mode for at most
 * half a second of session time. The simulators of the build (sim_culture,
 * sim_memristor, sim_silicon, replay) can be loaded too: their load lines
 * are session-file input as well. `source include.conf` (three lines) and
 * `source input.conf` (the input itself) are there to be found.
 *
 * Every command must finish (ok or error, each error on one line) and
 * the session must answer a plain command afterwards.
 *
 * The session runs in a directory of its own, and inputs that could reach
 * outside it (an absolute path, "..", a ${NAME} other than SB_FUZZ_*)
 * are skipped: recording and export write files.
 */
#include "config.h"

#include <sys/stat.h>

#include <ctype.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "engine.h"
#include "fuzz.h"
#include "history.h"

#define FUZZ_CMD_SESSION_US 500000	/* session time per input */
#define FUZZ_CMD_STEP_US 20000
#define FUZZ_CMD_PASSES 200

static char fuzz_cmd_dir[64];
static char fuzz_cmd_plugins[96];	/* the simulators of the build */
static int fuzz_cmd_back = -1;		/* the directory to go back to */
static unsigned fuzz_cmd_done, fuzz_cmd_lines;

/* Results: counted. */
static void
fuzz_cmd_out(void *ctx, const char *line)
{
	FUZZ_CHECK(line != NULL);
}

/* Errors: one line each, whatever the words they name hold. */
static void
fuzz_cmd_err(void *ctx, const char *line)
{
	FUZZ_CHECK(line != NULL);
	if (getenv("SB_FUZZ_VERBOSE") != NULL)
		fprintf(stderr, "fuzz: error: %s\n", line);
	FUZZ_CHECK(strchr(line, '\n') == NULL && strchr(line, '\r') == NULL);
}

/* A command finished. */
static void
fuzz_cmd_finished(void *ctx, int failed, const char *message)
{
	fuzz_cmd_done++;
}

static const struct cmd_client fuzz_cmd_client = {
	.out = fuzz_cmd_out,
	.err = fuzz_cmd_err,
	.done = fuzz_cmd_finished,
};

/* Write a file in the session's directory. */
static void
fuzz_cmd_write(const char *name, const void *data, size_t size)
{
	int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, data, size) == (ssize_t)size);
	close(fd);
}

/* nftw: remove everything (the directory at exit). */
static int
fuzz_cmd_remove_all(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	remove(path);
	return 0;
}

/* At exit: the session's directory goes. */
static void
fuzz_cmd_cleanup(void)
{
	nftw(fuzz_cmd_dir, fuzz_cmd_remove_all, 16, FTW_DEPTH | FTW_PHYS);
}

/* The session's own directory, files to source, the environment. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char include[] = "site lab\nmark \"from include\"\n"
	    "synapses\n";
	static const char *const sims[] = { "sim_culture", "sim_memristor",
	    "sim_silicon", "replay" };
	char state[sizeof fuzz_cmd_dir + 16], from[4096], to[256];
	size_t i;

	/* in memory if the system has it: a remote command fsyncs a file */
	snprintf(fuzz_cmd_dir, sizeof fuzz_cmd_dir, "%s/sb-fuzz-commands-XXXXXX",
	    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (mkdtemp(fuzz_cmd_dir) == NULL) {
		perror("fuzz: mkdtemp");
		abort();
	}
	atexit(fuzz_cmd_cleanup);
	snprintf(state, sizeof state, "%s/state", fuzz_cmd_dir);
	/* remote commands remember what ran under XDG_STATE_HOME */
	setenv("XDG_STATE_HOME", state, 1);
	setenv("HOME", fuzz_cmd_dir, 1);
	setenv("SB_FUZZ_SITE", "lab", 1);
	setenv("SB_FUZZ_EMPTY", "", 1);
	setenv("SB_FUZZ_WORDS", "a b", 1);
	fuzz_cmd_back = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	FUZZ_CHECK(fuzz_cmd_back >= 0 && chdir(fuzz_cmd_dir) == 0);
	fuzz_cmd_write("include.conf", include, sizeof include - 1);
	/* the simulators, if built; not the plugins that reach the network
	 * or devices */
	FUZZ_CHECK(mkdir("plugins", 0700) == 0);
	for (i = 0; i < sizeof sims / sizeof sims[0]; i++) {
		snprintf(from, sizeof from, "%s/plugins/%s/.libs/%s.so",
		    ABS_TOP_BUILDDIR, sims[i], sims[i]);
		snprintf(to, sizeof to, "plugins/%s.so", sims[i]);
		if (access(from, R_OK) == 0)
			FUZZ_CHECK(symlink(from, to) == 0);
	}
	FUZZ_CHECK(fchdir(fuzz_cmd_back) == 0);
	snprintf(fuzz_cmd_plugins, sizeof fuzz_cmd_plugins, "%s/plugins",
	    fuzz_cmd_dir);
	return 0;
}

/* Could the input reach outside the session's directory? */
static int
fuzz_cmd_confined(const uint8_t *d, size_t n)
{
	size_t i, j;
	unsigned char prev;

	for (i = 0; i < n; i++) {
		if (d[i] == '.' && i + 1 < n && d[i + 1] == '.')
			return 0;
		if (d[i] == '/') {
			/* a path component may only follow a name */
			prev = i > 0 ? d[i - 1] : ' ';
			if (!isalnum(prev) && prev != '_' && prev != '.' &&
			    prev != ':')
				return 0;
		}
		if (d[i] == '$' && i + 1 < n && d[i + 1] == '{') {
			for (j = i + 2; j < n && (isalnum(d[j]) || d[j] == '_');
			    j++)
				;
			if (j > i + 2 && (j - i - 2 < 8 ||
			    memcmp(d + i + 2, "SB_FUZZ_", 8) != 0))
				return 0;
		}
	}
	return 1;
}

/* nftw: remove what a command made (recordings, exports, state). */
static int
fuzz_cmd_remove(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	if (ftw->level == 0)
		return 0;
	if (strcmp(path, "./include.conf") == 0 ||
	    strncmp(path, "./plugins", 9) == 0)
		return 0;
	remove(path);
	return 0;
}

/* Run the queue until it is empty, the session quits or time is up. */
static void
fuzz_cmd_drain(struct session *s, struct cmdq *q, int64_t end)
{
	int64_t now, until;
	int pass;

	for (pass = 0; pass < FUZZ_CMD_PASSES; pass++) {
		cmdq_run(q);
		if (cmdq_empty(q) || s->quit)
			return;
		engine_tick(s);		/* the transport: remote commands */
		now = clock_now(&s->clock);
		if (now >= end)
			return;
		until = now + FUZZ_CMD_STEP_US;
		if (!cmdq_waiting_ops(q) && cmdq_wait_until(q) > now &&
		    cmdq_wait_until(q) < until)
			until = cmdq_wait_until(q);
		engine_run_fast(s, until < end ? until : end);
	}
}

/* A fresh session runs the input as a session file. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const setup[] = {
		"site lab",
		"load test_neurons name=n units=4 period_ms=20",
		"load test_synapses name=d latency_us=500",
		("synapse s0 n:0 n:1 d:0 -r rate window=0.05 ltp_above=3 "
		    "ltd_below=1"),
		"remote far/mea 16",
		"site other",
		"site lab",
	};
	struct session *s;
	struct cmdq *q;
	char *cause = NULL;
	size_t i;
	int strict = size > 0 && data[0] == '#', group;

	if (!fuzz_cmd_confined(data, size))
		return 0;
	FUZZ_CHECK(chdir(fuzz_cmd_dir) == 0);
	fuzz_cmd_write("input.conf", data, size);

	s = session_create(1, 7);
	session_add_plugin_dir(s, TEST_PLUGIN_DIR);
	session_add_plugin_dir(s, fuzz_cmd_plugins);
	s->history = history_create(4096, 256);
	q = cmdq_create(s);
	cmdq_session = q;
	group = cmdq_new_group(q);
	for (i = 0; i < sizeof setup / sizeof setup[0]; i++)
		cmdq_append(q, setup[i], "setup", &fuzz_cmd_client, group, 1);
	fuzz_cmd_drain(s, q, clock_now(&s->clock) + FUZZ_CMD_SESSION_US);
	/* a transport needs real time: loaded as if in real time (it has no
	 * clock of its own, so fast mode does not bother it) */
	s->fast = 0;
	cmdq_append(q, "load test_loopback", "setup", &fuzz_cmd_client, group,
	    1);
	cmdq_run(q);
	s->fast = 1;
	FUZZ_CHECK(cmdq_empty(q) && cmdq_failures(q) == 0);

	fuzz_cmd_done = 0;
	if (cmdq_append_file(q, "input.conf", &fuzz_cmd_client,
	    cmdq_new_group(q), strict, &cause) != 0) {
		/* only a NUL byte (or a read error) refuses the whole file */
		FUZZ_CHECK(cause != NULL && memchr(data, '\0', size) != NULL);
		free(cause);
	} else {
		fuzz_cmd_drain(s, q, clock_now(&s->clock) +
		    FUZZ_CMD_SESSION_US);
		/* still sane: a plain command answers */
		if (!s->quit && cmdq_empty(q)) {
			fuzz_cmd_lines = fuzz_cmd_done;
			cmdq_append(q, "site", "check", &fuzz_cmd_client,
			    cmdq_new_group(q), 1);
			cmdq_run(q);
			FUZZ_CHECK(cmdq_empty(q));
			FUZZ_CHECK(fuzz_cmd_done == fuzz_cmd_lines + 1);
		}
	}
	cmdq_session = NULL;
	cmdq_free(q);
	engine_shutdown(s);

	nftw(".", fuzz_cmd_remove, 16, FTW_DEPTH | FTW_PHYS);
	FUZZ_CHECK(fchdir(fuzz_cmd_back) == 0);
	return 0;
}
