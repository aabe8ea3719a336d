/*
 * fuzz-commands.c: drive a real session (test plugins, synapses, rules,
 * recording, export) with thousands of seeded random command lines built
 * from the console's own vocabulary plus hostile bytes. Nothing may crash
 * or hang, every line must finish (ok or error), and the session must
 * still answer a plain command correctly at the end. Run it under valgrind
 * to see it is also free of memory errors.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "engine.h"
#include "history.h"
#include "xmalloc.h"

static const char *const fuzz_words[] = {
	"help", "quit-not", "site", "sites", "load", "unload", "plugins",
	"synapse", "synapses", "potentiate", "depress", "read", "stim", "rule",
	"record", "export", "mark", "source", "wait", "at", "remote", "link",
	"p", "po", "re", "s", "test_neurons", "test_synapses", "test_nosym",
	"sim_nothing", "lab", "other", "s0", "s1", "s0-3", "s0-s9", "s3-1",
	"all", "s0,s1", "n:0", "n:3", "n:99", "lab/n:1", "nosite/n:1",
	"lab/none:1", "d:0", "d:w1b1", "d:7", "d:999", "rate", "stdp", "off",
	"window=0.5", "ltp_above=3", "ltd_below=1", "ltd_below=50",
	"window=-1", "ltp_v=2", "ltd_v=3", "width_us=10", "x=y", "=", "==",
	"-n", "-n", "3", "-a", "-a", "4", "-4", "0", "1e309", "nan", "-w",
	"100", "1000000000", "-r", "-z", "--since", "--until", "--bogus",
	"--since=1", "spikes", "synapses", "links", "commands", "nothing",
	"start", "stop", "/nonexistent/dir/x.csv", "\"quoted word\"",
	"'single'", "\"unterminated", "\\", "${HOME}", "${NOPE_UNSET}", "#",
	"a#b", "units=3", "period_ms=1", "fire=all", "latency_us=0",
	"name=n", "name=d", "seed=abc", "seed=5", "-", "--", "\t", "\xff\xfe",
	"\xe2\x82\xac", "s999999999999", "", "remote", "lab/x", "other/p",
	"2", "1.5", "0.001",
};

/* Number of vocabulary words. */
static size_t
fuzz_words_n(void)
{
	return sizeof fuzz_words / sizeof fuzz_words[0];
}

/* A tiny seeded generator. */
static uint64_t fuzz_state = 0x2545f4914f6cdd1dULL;

static uint64_t
fuzz_next(void)
{
	fuzz_state ^= fuzz_state << 13;
	fuzz_state ^= fuzz_state >> 7;
	fuzz_state ^= fuzz_state << 17;
	return fuzz_state;
}

static unsigned fuzz_outputs, fuzz_errors, fuzz_done;

static void
fuzz_out(void *ctx, const char *line)
{
	(void)ctx;
	(void)line;
	fuzz_outputs++;
}

static void
fuzz_err(void *ctx, const char *line)
{
	(void)ctx;
	/* every error is one readable line */
	if (strchr(line, '\n') != NULL && strncmp(line, "mark", 4) != 0)
		fail_msg("error spans lines: %s", line);
	fuzz_errors++;
}

static void
fuzz_done_fn(void *ctx, int failed, const char *message)
{
	(void)ctx;
	(void)failed;
	(void)message;
	fuzz_done++;
}

static const struct cmd_client fuzz_client = {
	.out = fuzz_out,
	.err = fuzz_err,
	.done = fuzz_done_fn,
};

/* One random line: vocabulary words and, now and then, random bytes. */
static void
fuzz_line(char *buf, size_t cap)
{
	size_t nwords = fuzz_words_n(), len = 0, i, k;
	unsigned n = 1 + (unsigned)(fuzz_next() % 7);

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		const char *w;
		char raw[16];

		if (fuzz_next() % 11 == 0) {
			for (k = 0; k < sizeof raw - 1; k++)
				raw[k] = (char)(1 + fuzz_next() % 255);
			raw[fuzz_next() % (sizeof raw - 1)] = '\0';
			w = raw;
		} else
			w = fuzz_words[fuzz_next() % nwords];
		if (len + strlen(w) + 2 >= cap)
			break;
		if (i > 0)
			buf[len++] = ' ';
		memcpy(buf + len, w, strlen(w) + 1);
		len += strlen(w);
	}
}

/* Run the queue to completion, simulating while commands wait. */
static void
fuzz_drain(struct session *s, struct cmdq *q)
{
	int guard = 0;

	for (;;) {
		cmdq_run(q);
		if (cmdq_empty(q) || s->quit)
			return;
		/* a waiting head: let session time pass */
		engine_run_fast(s, clock_now(&s->clock) + 1000);
		assert_true(++guard < 2000000);
	}
}

/* Thousands of random lines against a live session. */
static void
test_fuzz_commands(void **state)
{
	struct session *s = session_create(1, 3);
	struct cmdq *q = cmdq_create(s);
	char line[512], dir[] = "/tmp/sb-fuzz-XXXXXX", *setup[] = {
		"site lab",
		"load test_neurons name=n units=8 period_ms=3",
		"load test_synapses name=d latency_us=500",
		"synapse s0 n:0 n:1 d:0 -r rate window=0.05 ltp_above=3 ltd_below=1",
		"synapse s1 n:1 n:2 d:1 -r stdp",
		"synapse s2 n:2 n:0 d:2",
		"site other",
		"site lab",
	};
	unsigned i, lines = 0, iterations = 4000;
	const char *env = getenv("SB_FUZZ_ITERATIONS");

	if (env != NULL)
		iterations = (unsigned)strtoul(env, NULL, 10);
	assert_non_null(mkdtemp(dir));
	session_add_plugin_dir(s, TEST_PLUGIN_DIR);
	s->history = history_create(10000, 1000);
	cmdq_session = q;
	for (i = 0; i < sizeof setup / sizeof setup[0]; i++)
		cmdq_append(q, setup[i], "setup", &fuzz_client, 1, 1);
	fuzz_drain(s, q);
	assert_int_equal(cmdq_failures(q), 0);
	assert_int_equal(s->nsynapses, 3);

	snprintf(line, sizeof line, "record start %s/rec", dir);
	cmdq_append(q, line, "setup", &fuzz_client, 1, 1);
	fuzz_drain(s, q);

	for (i = 0; i < iterations; i++) {
		fuzz_line(line, sizeof line);
		/* keep the fuzzer inside its sandbox */
		if (strstr(line, "quit") != NULL || strstr(line, "source") ||
		    strstr(line, "unload"))
			continue;
		if (strncmp(line, "export", 6) == 0) {
			char safe[600];

			snprintf(safe, sizeof safe, "export spikes %s/e.csv %s",
			    dir, line + 6);
			cmdq_append(q, safe, "fuzz", &fuzz_client, 2, 0);
		} else
			cmdq_append(q, line, "fuzz", &fuzz_client, 2, 0);
		lines++;
		fuzz_drain(s, q);
	}
	fprintf(stderr, "# %u lines, %u results, %u errors, %u done\n", lines,
	    fuzz_outputs, fuzz_errors, fuzz_done);
	/* every line finished, with a result or an error */
	assert_true(fuzz_done >= lines);
	assert_true(fuzz_errors > lines / 4);
	assert_true(fuzz_outputs > 0);

	/* still sane: a plain command answers as it should */
	fuzz_outputs = 0;
	cmdq_append(q, "site", "check", &fuzz_client, 3, 1);
	fuzz_drain(s, q);
	assert_int_equal(fuzz_outputs, 1);

	cmdq_session = NULL;
	cmdq_free(q);
	engine_shutdown(s);
	snprintf(line, sizeof line, "rm -rf '%s'", dir);
	assert_int_equal(system(line), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fuzz_commands),
	};
	return cmocka_run_group_tests_name("fuzz-commands", tests, NULL, NULL);
}
