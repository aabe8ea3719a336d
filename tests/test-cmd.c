/*
 * test-cmd.c: the command language (splitting, lookup, flags), synapse
 * selectors, plasticity rule thresholds and device limits, on a session
 * built with the deterministic test plugins.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <math.h>

#include "cmd.h"
#include "engine.h"
#include "plugin.h"
#include "rule.h"
#include "synapse.h"
#include "test-plugins.h"

/* Split line, expecting success; returns argc. */
static int
split_ok(const char *line, char ***argv)
{
	char *cause = NULL;
	int argc = -1;

	assert_int_equal(cmd_split(line, &argc, argv, &cause), 0);
	assert_null(cause);
	return argc;
}

/* Words, quotes and comments split as a shell does. */
static void
test_split_words(void **state)
{
	char **argv;
	int argc;

	argc = split_ok("  potentiate\ts0   -n 10  ", &argv);
	assert_int_equal(argc, 4);
	assert_string_equal(argv[0], "potentiate");
	assert_string_equal(argv[1], "s0");
	assert_string_equal(argv[2], "-n");
	assert_string_equal(argv[3], "10");
	assert_null(argv[4]);
	cmd_free_argv(argc, argv);

	argc = split_ok("mark 'a b  c' \"d 'e'\" f'g h'i", &argv);
	assert_int_equal(argc, 4);
	assert_string_equal(argv[1], "a b  c");
	assert_string_equal(argv[2], "d 'e'");
	assert_string_equal(argv[3], "fg hi");
	cmd_free_argv(argc, argv);

	argc = split_ok("mark \"x\\\"y\\\\z\\n\" a\\ b 'no\\escape' \"\"", &argv);
	assert_int_equal(argc, 5);
	assert_string_equal(argv[1], "x\"y\\z\n");
	assert_string_equal(argv[2], "a b");
	assert_string_equal(argv[3], "no\\escape");
	assert_string_equal(argv[4], "");
	cmd_free_argv(argc, argv);

	argc = split_ok("site zurich # a comment 'unterminated", &argv);
	assert_int_equal(argc, 2);
	assert_string_equal(argv[1], "zurich");
	cmd_free_argv(argc, argv);

	argc = split_ok("mark a#b '#c'", &argv);
	assert_int_equal(argc, 3);
	assert_string_equal(argv[1], "a#b");
	assert_string_equal(argv[2], "#c");
	cmd_free_argv(argc, argv);

	argc = split_ok("   # only a comment", &argv);
	assert_int_equal(argc, 0);
	cmd_free_argv(argc, argv);
	argc = split_ok("", &argv);
	assert_int_equal(argc, 0);
	cmd_free_argv(argc, argv);
}

/* Bad quoting is an error that says what is wrong. */
/* ${NAME} comes from the environment, except inside single quotes. */
static void
test_split_variables(void **state)
{
	char **argv = NULL, *cause = NULL;
	int argc = 0;

	setenv("SB_TEST_URL", "https://127.0.0.1:8443", 1);
	setenv("SB_TEST_SPACE", "a b", 1);
	assert_int_equal(cmd_split("load relay url=${SB_TEST_URL} "
	    "\"x=${SB_TEST_SPACE}\" '${SB_TEST_URL}' ${SB_TEST_SPACE}",
	    &argc, &argv, &cause), 0);
	assert_int_equal(argc, 6);
	assert_string_equal(argv[2], "url=https://127.0.0.1:8443");
	assert_string_equal(argv[3], "x=a b");
	assert_string_equal(argv[4], "${SB_TEST_URL}");
	/* an expansion is one word, even with blanks in it */
	assert_string_equal(argv[5], "a b");
	cmd_free_argv(argc, argv);

	unsetenv("SB_TEST_UNSET");
	assert_int_equal(cmd_split("load relay token=${SB_TEST_UNSET}", &argc,
	    &argv, &cause), -1);
	assert_string_equal(cause, "${SB_TEST_UNSET} is not set (export "
	    "SB_TEST_UNSET=... before starting synbridge)");
	free(cause);
	cause = NULL;
	assert_int_equal(cmd_split("x ${SB_TEST_URL", &argc, &argv, &cause),
	    -1);
	assert_string_equal(cause, "unterminated ${ (write ${NAME})");
	free(cause);
	cause = NULL;
	assert_int_equal(cmd_split("x ${A-B}", &argc, &argv, &cause), -1);
	assert_string_equal(cause, "bad variable name in ${A-B} (use letters, "
	    "digits and _; ${NAME:-DEFAULT} for a default)");
	free(cause);
	cause = NULL;
	assert_int_equal(cmd_split("x ${}", &argc, &argv, &cause), -1);
	assert_string_equal(cause, "empty variable name ${}");
	free(cause);
	cause = NULL;
	assert_int_equal(cmd_split("x ${:-a}", &argc, &argv, &cause), -1);
	assert_string_equal(cause, "empty variable name ${:-a}");
	free(cause);
	/* a lone $ is just a character */
	assert_int_equal(cmd_split("mark cost $5", &argc, &argv, &cause), 0);
	assert_string_equal(argv[2], "$5");
	cmd_free_argv(argc, argv);
}

/* ${NAME:-DEFAULT}: the default when NAME is unset or empty, as in sh. */
static void
test_split_defaults(void **state)
{
	char **argv = NULL, *cause = NULL;
	int argc = 0;

	unsetenv("SB_TEST_UNSET");
	setenv("SB_TEST_EMPTY", "", 1);
	setenv("SB_TEST_URL", "https://127.0.0.1:8443", 1);
	assert_int_equal(cmd_split("load ramp listen=${SB_TEST_UNSET:-0.0.0.0:"
	    "5005} \"x=${SB_TEST_EMPTY:-a b}\" ${SB_TEST_URL:-unused} "
	    "'${SB_TEST_UNSET:-kept}' ${SB_TEST_UNSET:-} \"${SB_TEST_EMPTY}\" "
	    "${SB_TEST_EMPTY} k=${SB_TEST_EMPTY} end", &argc, &argv,
	    &cause), 0);
	assert_int_equal(argc, 9);
	assert_string_equal(argv[2], "listen=0.0.0.0:5005");
	assert_string_equal(argv[3], "x=a b");
	assert_string_equal(argv[4], "https://127.0.0.1:8443");
	assert_string_equal(argv[5], "${SB_TEST_UNSET:-kept}");
	/*
	 * an empty expansion alone is no word, as in sh (an optional
	 * argument from the environment); quoted it is an empty word
	 */
	assert_string_equal(argv[6], "");
	assert_string_equal(argv[7], "k=");
	assert_string_equal(argv[8], "end");
	cmd_free_argv(argc, argv);
	/* the default ends at the first } */
	assert_int_equal(cmd_split("x ${SB_TEST_UNSET:-a}b}", &argc, &argv,
	    &cause), 0);
	assert_int_equal(argc, 2);
	assert_string_equal(argv[1], "ab}");
	cmd_free_argv(argc, argv);
	assert_int_equal(cmd_split("x ${SB_TEST_UNSET:-abc", &argc, &argv,
	    &cause), -1);
	assert_string_equal(cause, "unterminated ${ (write ${NAME})");
	free(cause);
	unsetenv("SB_TEST_EMPTY");
}

/* Secrets never reach the audit log. */
static void
test_mask_secrets(void **state)
{
	char *m;

	m = cmdq_mask_secrets("load relay url=https://r:1 token=abcdef0123 "
	    "pin=sha256//x");
	assert_string_equal(m, "load relay url=https://r:1 token=*** "
	    "pin=sha256//x");
	free(m);
	m = cmdq_mask_secrets("load x token=a password=\"p w\" secret=");
	assert_string_equal(m, "load x token=*** password=\"***\" "
	    "secret=***");
	free(m);
	/* only whole arguments: mytoken= is not a secret argument */
	m = cmdq_mask_secrets("mark mytoken=visible token_file=/etc/t");
	assert_string_equal(m, "mark mytoken=visible token_file=/etc/t");
	free(m);
}

static void
test_split_errors(void **state)
{
	char **argv = (char **)1, *cause = NULL;
	int argc = 7;

	assert_int_equal(cmd_split("mark 'abc", &argc, &argv, &cause), -1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "unterminated single quote"));
	assert_int_equal(argc, 0);
	assert_null(argv);
	free(cause);
	cause = NULL;

	assert_int_equal(cmd_split("mark \"abc\\\"", &argc, &argv, &cause),
	    -1);
	assert_non_null(strstr(cause, "unterminated double quote"));
	free(cause);
	cause = NULL;

	assert_int_equal(cmd_split("mark abc\\", &argc, &argv, &cause), -1);
	assert_non_null(strstr(cause, "trailing backslash"));
	free(cause);
}

/* Exact names, aliases and unique prefixes; ambiguity lists candidates. */
static void
test_find(void **state)
{
	const struct cmd_entry *e;
	char *cause = NULL;

	e = cmd_find("synapse", &cause);
	assert_non_null(e);
	assert_string_equal(e->name, "synapse");	/* exact beats prefix */
	e = cmd_find("ltp", &cause);
	assert_non_null(e);
	assert_string_equal(e->name, "potentiate");
	e = cmd_find("?", &cause);
	assert_string_equal(e->name, "help");
	e = cmd_find("pot", &cause);
	assert_non_null(e);
	assert_string_equal(e->name, "potentiate");
	e = cmd_find("rec", &cause);
	assert_string_equal(e->name, "record");
	assert_null(cause);

	e = cmd_find("s", &cause);
	assert_null(e);
	assert_non_null(cause);
	assert_string_equal(cause, "ambiguous command: s, could be: site, "
	    "sites, synapse, synapses, stim, source, stop");
	free(cause);
	cause = NULL;

	e = cmd_find("re", &cause);
	assert_null(e);
	assert_string_equal(cause, "ambiguous command: re, could be: read, "
	    "record, remote, resume");
	free(cause);
	cause = NULL;

	e = cmd_find("frobnicate", &cause);
	assert_null(e);
	assert_string_equal(cause, "unknown command: frobnicate (try 'help')");
	free(cause);
	cause = NULL;

	e = cmd_find("", &cause);
	assert_null(e);
	assert_non_null(cause);
	free(cause);
}

static const struct cmd_long_option test_longs[] = {
	{ "since", 's' },
	{ "verbose", 'v' },
	{ NULL, 0 }
};

static const struct cmd_entry test_entry = {
	.name = "frob",
	.template = "n:a:vq",
	.longs = test_longs,
	.lower = 1,
	.upper = 3,
	.usage = "THING... [-n COUNT] [-a VOLTS] [-v] [-q]",
	.help = "test",
};

/* Parse a line against test_entry. */
static int
parse(const char *line, struct args *a, char **cause)
{
	char **argv;
	int argc, rc;

	argc = split_ok(line, &argv);
	rc = args_parse(&test_entry, argc, argv, a, cause);
	cmd_free_argv(argc, argv);
	return rc;
}

/* Flags with and without values, attached or not, and long options. */
static void
test_args_flags(void **state)
{
	struct args a;
	char *cause = NULL;

	assert_int_equal(parse("frob x -n 10 -a2.5 -vq y", &a, &cause), 0);
	assert_int_equal(a.argc, 2);
	assert_string_equal(a.argv[0], "x");
	assert_string_equal(a.argv[1], "y");
	assert_string_equal(args_get(&a, 'n'), "10");
	assert_string_equal(args_get(&a, 'a'), "2.5");
	assert_true(args_has(&a, 'v'));
	assert_true(args_has(&a, 'q'));
	assert_null(args_get(&a, 'v'));
	assert_false(args_has(&a, 's'));
	args_free(&a);

	/* a value may itself start with '-'; -vn5 groups flags */
	assert_int_equal(parse("frob -a -3 -vn5 x", &a, &cause), 0);
	assert_string_equal(args_get(&a, 'a'), "-3");
	assert_string_equal(args_get(&a, 'n'), "5");
	assert_true(args_has(&a, 'v'));
	assert_int_equal(a.argc, 1);
	args_free(&a);

	/* negative numbers are positionals; "--" ends the flags */
	assert_int_equal(parse("frob -4 -.5 -- -n", &a, &cause), 0);
	assert_int_equal(a.argc, 3);
	assert_string_equal(a.argv[0], "-4");
	assert_string_equal(a.argv[1], "-.5");
	assert_string_equal(a.argv[2], "-n");
	assert_false(args_has(&a, 'n'));
	args_free(&a);

	/* the last of a repeated flag wins */
	assert_int_equal(parse("frob x -n 1 -n 2", &a, &cause), 0);
	assert_string_equal(args_get(&a, 'n'), "2");
	assert_int_equal(a.nflags, 1);
	args_free(&a);

	/* --long=value, --long value, and a long flag without value */
	assert_int_equal(parse("frob x --since=1.5 --verbose", &a, &cause), 0);
	assert_null(cause);
	args_free(&a);
}

/* Long options map to their flags (only those the template has values). */
static void
test_args_long(void **state)
{
	static const struct cmd_long_option longs[] = {
		{ "since", 's' }, { "until", 'u' }, { NULL, 0 }
	};
	static const struct cmd_entry e = {
		.name = "export",
		.template = "s:u:",
		.longs = longs,
		.lower = 2,
		.upper = 2,
		.usage = "KIND FILE [--since S] [--until S]",
	};
	char **argv, *cause = NULL;
	struct args a;
	int argc;

	argc = split_ok("export spikes f.csv --since=1.5 --until 3", &argv);
	assert_int_equal(args_parse(&e, argc, argv, &a, &cause), 0);
	cmd_free_argv(argc, argv);
	assert_string_equal(args_get(&a, 's'), "1.5");
	assert_string_equal(args_get(&a, 'u'), "3");
	assert_int_equal(a.argc, 2);
	args_free(&a);

	argc = split_ok("export spikes f.csv --until", &argv);
	assert_int_equal(args_parse(&e, argc, argv, &a, &cause), -1);
	cmd_free_argv(argc, argv);
	assert_string_equal(cause, "option --until needs a value (usage: "
	    "export KIND FILE [--since S] [--until S])");
	free(cause);
	cause = NULL;

	argc = split_ok("export spikes f.csv --from=2", &argv);
	assert_int_equal(args_parse(&e, argc, argv, &a, &cause), -1);
	cmd_free_argv(argc, argv);
	assert_string_equal(cause, "unknown option --from=2 (usage: "
	    "export KIND FILE [--since S] [--until S])");
	free(cause);
}

/* Errors name the problem and show the usage. */
static void
test_args_errors(void **state)
{
	struct args a;
	char *cause = NULL;

	assert_int_equal(parse("frob x -z", &a, &cause), -1);
	assert_string_equal(cause, "unknown flag -z (usage: frob THING... "
	    "[-n COUNT] [-a VOLTS] [-v] [-q])");
	free(cause);
	cause = NULL;

	assert_int_equal(parse("frob x -n", &a, &cause), -1);
	assert_string_equal(cause, "flag -n needs a value (usage: frob "
	    "THING... [-n COUNT] [-a VOLTS] [-v] [-q])");
	free(cause);
	cause = NULL;

	assert_int_equal(parse("frob -v", &a, &cause), -1);
	assert_string_equal(cause, "too few arguments (usage: frob THING... "
	    "[-n COUNT] [-a VOLTS] [-v] [-q])");
	free(cause);
	cause = NULL;

	assert_int_equal(parse("frob a b c d", &a, &cause), -1);
	assert_string_equal(cause, "too many arguments (usage: frob THING... "
	    "[-n COUNT] [-a VOLTS] [-v] [-q])");
	free(cause);
	cause = NULL;

	/* ':' is not a flag even though the template holds it */
	assert_int_equal(parse("frob x -:", &a, &cause), -1);
	assert_non_null(strstr(cause, "unknown flag -:"));
	free(cause);
	cause = NULL;

	assert_int_equal(parse("frob x --nope", &a, &cause), -1);
	assert_non_null(strstr(cause, "unknown option --nope"));
	free(cause);
}

/* A session: site "lab" with test_neurons (8 units) and test_synapses. */
static struct session *
session_with_plugins(unsigned nsynapses)
{
	struct session *s = session_create(1, 1);
	char *argv_n[] = { "units=8", "period_ms=0" };
	char *argv_s[] = { "devices=16" };
	char *cause = NULL, name[16], pre[32], post[32], dev[16];
	struct site *site;
	unsigned i;

	session_add_plugin_dir(s, TEST_PLUGIN_DIR);
	site = site_create(s, "lab", &cause);
	assert_non_null(site);
	s->current = site;
	if (plugin_load(site, "test_neurons", 2, argv_n, &cause) == NULL)
		fail_msg("%s", cause);
	if (plugin_load(site, "test_synapses", 1, argv_s, &cause) == NULL)
		fail_msg("%s", cause);
	for (i = 0; i < nsynapses; i++) {
		snprintf(name, sizeof name, "s%u", i);
		snprintf(pre, sizeof pre, "lab/neurons:%u", i % 8);
		snprintf(post, sizeof post, "neurons:%u", (i + 1) % 8);
		snprintf(dev, sizeof dev, "lin:%u", i);
		if (synapse_define(s, name, pre, post, dev, &cause) == NULL)
			fail_msg("%s", cause);
	}
	return s;
}

/* Select with a line of selectors; expect n ids. */
static void
select_expect(struct session *s, const char *line, const char *expect)
{
	char **argv, *cause = NULL, got[256] = "";
	uint32_t *ids = NULL;
	int argc, n, i;

	argc = split_ok(line, &argv);
	n = synapse_select(s, argc, argv, &ids, &cause);
	cmd_free_argv(argc, argv);
	if (n < 0)
		fail_msg("'%s': %s", line, cause);
	for (i = 0; i < n; i++)
		snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s",
		    i ? " " : "", s->synapses[ids[i]]->name);
	free(ids);
	assert_string_equal(got, expect);
}

/* Select expecting an error with this exact message. */
static void
select_error(struct session *s, const char *line, const char *expect)
{
	char **argv, *cause = NULL;
	uint32_t *ids = (uint32_t *)1;
	int argc, n;

	argc = split_ok(line, &argv);
	n = synapse_select(s, argc, argv, &ids, &cause);
	cmd_free_argv(argc, argv);
	assert_int_equal(n, -1);
	assert_null(ids);
	assert_non_null(cause);
	assert_string_equal(cause, expect);
	free(cause);
}

/* Single names, ranges, all, comma lists; duplicates removed. */
static void
test_selectors(void **state)
{
	struct session *s = session_with_plugins(8);
	char *cause = NULL;

	select_expect(s, "s3", "s3");
	select_expect(s, "s0-7", "s0 s1 s2 s3 s4 s5 s6 s7");
	select_expect(s, "s2-s4", "s2 s3 s4");
	select_expect(s, "all", "s0 s1 s2 s3 s4 s5 s6 s7");
	select_expect(s, "s5 s1", "s5 s1");
	select_expect(s, "s1,s3,s5", "s1 s3 s5");
	select_expect(s, "s1,s1 s0-2 s1", "s1 s0 s2");
	select_expect(s, "s6-7,all", "s6 s7 s0 s1 s2 s3 s4 s5");
	select_expect(s, "s4-4", "s4");

	select_error(s, "s99", "unknown synapse 's99' (have s0-s7)");
	select_error(s, "s1 s99", "unknown synapse 's99' (have s0-s7)");
	select_error(s, "s6-9", "unknown synapse 's8' in 's6-9' (have s0-s7)");
	select_error(s, "s5-3", "unknown synapse 's5-3' (have s0-s7)");
	select_error(s, "x0-3", "unknown synapse 'x0' in 'x0-3' (have "
	    "s0-s7)");
	select_error(s, ",", "no synapse selected");

	/* a named synapse joins the summary */
	assert_non_null(synapse_define(s, "in1", "neurons:0", "neurons:1",
	    "lin:9", &cause));
	select_expect(s, "in1 s0", "in1 s0");
	select_error(s, "nope", "unknown synapse 'nope' (have s0-s7, in1)");
	engine_shutdown(s);
}

/* With no synapse at all, the message says so. */
static void
test_selectors_none(void **state)
{
	struct session *s = session_with_plugins(0);

	select_error(s, "s0", "unknown synapse 's0' (have none defined)");
	engine_shutdown(s);
}

/* Pre spikes at 1 ms intervals ending at t_end, then a post spike at post. */
static struct synapse *
rate_case(struct session *s, unsigned idx, unsigned npre, int64_t post_us)
{
	struct synapse *syn = s->synapses[idx];
	unsigned i;

	assert_int_equal(rule_defaults(&syn->rule, "rate", &syn->limits,
	    NULL), 0);
	for (i = 0; i < npre; i++)
		rule_on_pre(s, syn, post_us - 900000 + (int64_t)i * 1000);
	rule_on_post(s, syn, post_us);
	return syn;
}

/* Last pending operation's event. */
static int
pending_event(struct session *s, struct synapse *syn, double *amp)
{
	size_t i;

	for (i = 0; i < s->npending; i++) {
		if (s->pending[i].synapse == syn->id) {
			*amp = s->pending[i].amplitude_v;
			return s->pending[i].event;
		}
	}
	return 0;
}

/* The paper's rate rule: >20 pre -> LTP, <5 -> LTD, else nothing. */
static void
test_rate_thresholds(void **state)
{
	struct session *s = session_with_plugins(8);
	struct synapse *syn;
	double amp = 0;

	syn = rate_case(s, 0, 21, 2000000);
	assert_int_equal(syn->ltp, 1);
	assert_int_equal(syn->ltd, 0);
	assert_int_equal(pending_event(s, syn, &amp), COND_RULE_LTP);
	assert_true(amp == 2.0);	/* the device's default ltp_v */
	assert_int_equal(syn->in_flight, 1);

	syn = rate_case(s, 1, 20, 2000000);
	assert_int_equal(syn->ltp + syn->ltd, 0);
	assert_int_equal(pending_event(s, syn, &amp), 0);
	assert_string_equal(syn->last_decision, "none (20 pre)");

	syn = rate_case(s, 2, 4, 2000000);
	assert_int_equal(syn->ltd, 1);
	assert_int_equal(syn->ltp, 0);
	assert_int_equal(pending_event(s, syn, &amp), COND_RULE_LTD);
	assert_true(amp == -2.0);

	syn = rate_case(s, 3, 5, 2000000);
	assert_int_equal(syn->ltp + syn->ltd, 0);
	assert_string_equal(syn->last_decision, "none (5 pre)");

	syn = rate_case(s, 4, 0, 2000000);
	assert_int_equal(syn->ltd, 1);

	/* a busy device: the next decision is skipped, not queued */
	syn = s->synapses[0];
	rule_on_post(s, syn, 2000100);
	assert_int_equal(syn->ltp, 1);
	assert_string_equal(syn->last_decision, "ltp skipped (busy)");
	engine_shutdown(s);
}

/* The window is (t - 1 s, t]: a pre spike exactly 1 s old is out. */
static void
test_rate_window_edges(void **state)
{
	struct session *s = session_with_plugins(2);
	struct synapse *syn = s->synapses[0];
	int64_t t = 5000000;
	unsigned i;

	rule_defaults(&syn->rule, "rate", &syn->limits, NULL);
	rule_on_pre(s, syn, t - 1000000);		/* out */
	for (i = 0; i < 20; i++)
		rule_on_pre(s, syn, t - 999999 + i);	/* in */
	assert_int_equal(rule_count_pre(syn, t, 1000000), 20);
	rule_on_post(s, syn, t);
	assert_int_equal(syn->ltp, 0);
	/* one more, at the post spike's own time, is in */
	syn = s->synapses[1];
	rule_defaults(&syn->rule, "rate", &syn->limits, NULL);
	for (i = 0; i < 20; i++)
		rule_on_pre(s, syn, t - 999999 + i);
	rule_on_pre(s, syn, t);
	assert_int_equal(rule_count_pre(syn, t, 1000000), 21);
	rule_on_post(s, syn, t);
	assert_int_equal(syn->ltp, 1);
	engine_shutdown(s);
}

/* Pair-based STDP: pre->post within 100 ms LTP, post->pre 37.5 ms LTD. */
static void
test_stdp_windows(void **state)
{
	struct session *s = session_with_plugins(8);
	struct synapse *syn;
	double amp;

	syn = s->synapses[0];
	rule_defaults(&syn->rule, "stdp", &syn->limits, NULL);
	rule_on_pre(s, syn, 1000000);
	rule_on_post(s, syn, 1100000);			/* dt = 100 ms */
	assert_int_equal(syn->ltp, 1);
	assert_int_equal(pending_event(s, syn, &amp), COND_RULE_LTP);

	syn = s->synapses[1];
	rule_defaults(&syn->rule, "stdp", &syn->limits, NULL);
	rule_on_pre(s, syn, 1000000);
	rule_on_post(s, syn, 1100001);			/* just outside */
	assert_int_equal(syn->ltp + syn->ltd, 0);

	syn = s->synapses[2];
	rule_defaults(&syn->rule, "stdp", &syn->limits, NULL);
	rule_on_post(s, syn, 1000000);
	rule_on_pre(s, syn, 1037500);			/* dt = 37.5 ms */
	assert_int_equal(syn->ltd, 1);
	assert_int_equal(pending_event(s, syn, &amp), COND_RULE_LTD);
	assert_true(amp < 0);

	syn = s->synapses[3];
	rule_defaults(&syn->rule, "stdp", &syn->limits, NULL);
	rule_on_post(s, syn, 1000000);
	rule_on_pre(s, syn, 1037501);			/* just outside */
	assert_int_equal(syn->ltp + syn->ltd, 0);

	/* a post spike with no pre spike at all does nothing */
	syn = s->synapses[4];
	rule_defaults(&syn->rule, "stdp", &syn->limits, NULL);
	rule_on_post(s, syn, 1000000);
	assert_int_equal(syn->ltp + syn->ltd, 0);

	/* parameters change the windows */
	syn = s->synapses[5];
	{
		char *argv[] = { "ltp_window=0.01" };
		char *cause = NULL;

		rule_defaults(&syn->rule, "stdp", &syn->limits, NULL);
		assert_int_equal(rule_parse_params(&syn->rule, 1, argv,
		    &cause), 0);
	}
	rule_on_pre(s, syn, 1000000);
	rule_on_post(s, syn, 1010001);
	assert_int_equal(syn->ltp, 0);
	rule_on_pre(s, syn, 2000000);
	rule_on_post(s, syn, 2010000);
	assert_int_equal(syn->ltp, 1);
	engine_shutdown(s);
}

/* Rule parameters are checked, with the allowed range in the message. */
/* A rule whose pulses the device would refuse is refused when set. */
static void
test_rule_limits(void **state)
{
	struct sb_device_limits l = { .max_abs_v = 4.0, .max_width_us = 1000,
	    .min_width_us = 10, .ltp_v = 4.0, .ltd_v = -4.0, .width_us = 100 };
	char *hot[] = { "ltp_v=12" }, *short_w[] = { "width_us=5" };
	struct rule r;
	char *cause = NULL;

	(void)state;
	assert_int_equal(rule_defaults(&r, "rate", &l, NULL), 0);
	assert_int_equal(rule_check_limits(&r, &l, &cause), 0);
	assert_int_equal(rule_parse_params(&r, 1, hot, NULL), 0);
	assert_int_equal(rule_check_limits(&r, &l, &cause), -1);
	assert_non_null(strstr(cause, "ltp_v=+12.00"));
	assert_non_null(strstr(cause, "|V| <= 4.00 V, width 10-1000 us"));
	free(cause);
	cause = NULL;
	assert_int_equal(rule_defaults(&r, "stdp", &l, NULL), 0);
	assert_int_equal(rule_parse_params(&r, 1, short_w, NULL), 0);
	assert_int_equal(rule_check_limits(&r, &l, &cause), -1);
	free(cause);
	/* off takes no pulses: nothing to check */
	assert_int_equal(rule_defaults(&r, "off", &l, NULL), 0);
	assert_int_equal(rule_parse_params(&r, 1, hot, NULL), 0);
	assert_int_equal(rule_check_limits(&r, &l, NULL), 0);
}

static void
test_rule_params(void **state)
{
	struct sb_device_limits l = { 0 };
	struct rule r;
	char *cause = NULL;
	char *bad1[] = { "window=0" };
	char *bad2[] = { "bogus=1" };
	char *bad3[] = { "ltd_below=30" };
	char *bad4[] = { "window" };

	assert_int_equal(rule_defaults(&r, "hebb", &l, &cause), -1);
	assert_string_equal(cause, "unknown rule 'hebb' (have rate, stdp, "
	    "off)");
	free(cause);
	cause = NULL;
	assert_int_equal(rule_defaults(&r, "rate", &l, NULL), 0);
	assert_true(r.ltp_v == 4.0 && r.ltd_v == -4.0 && r.width_us == 100);
	assert_int_equal(rule_parse_params(&r, 1, bad1, &cause), -1);
	assert_string_equal(cause, "window=0: expected a number from 0.001 "
	    "to 10");
	free(cause);
	cause = NULL;
	assert_int_equal(rule_parse_params(&r, 1, bad2, &cause), -1);
	assert_non_null(strstr(cause, "unknown rule parameter 'bogus'"));
	free(cause);
	cause = NULL;
	assert_int_equal(rule_parse_params(&r, 1, bad3, &cause), -1);
	assert_string_equal(cause, "ltd_below (30) must not exceed ltp_above "
	    "(20)");
	free(cause);
	cause = NULL;
	assert_int_equal(rule_parse_params(&r, 1, bad4, &cause), -1);
	assert_non_null(strstr(cause, "write key=value"));
	free(cause);
	assert_int_equal(r.window_us, 1000000);	/* unchanged on failure */
}

/* Weights 0-255 from G or from R, clipped and rounded half to even. */
static void
test_weight(void **state)
{
	struct sb_device_limits l = { 0 };

	/* From G over 0-510 uS: the weight is G / 2. */
	l.g_min_us = 0;
	l.g_max_us = 510;
	l.weight_from = SB_WEIGHT_FROM_G;
	assert_int_equal(synapse_weight_of(&l, 0), 0);
	assert_int_equal(synapse_weight_of(&l, 253), 126);	/* 126.5 */
	assert_int_equal(synapse_weight_of(&l, 255), 128);	/* 127.5 */
	assert_int_equal(synapse_weight_of(&l, 510), 255);
	assert_int_equal(synapse_weight_of(&l, 600), 255);
	assert_int_equal(synapse_weight_of(&l, -1), 0);
	assert_int_equal(synapse_weight_of(&l, NAN), -1);

	/* From R over 4-9 kOhm (111.1-250 uS), as the experiment did. */
	l.g_min_us = 1e6 / 9000;
	l.g_max_us = 1e6 / 4000;
	l.weight_from = SB_WEIGHT_FROM_R;
	assert_int_equal(synapse_weight_of(&l, 250), 0);
	assert_int_equal(synapse_weight_of(&l, 1e6 / 9000), 255);
	assert_int_equal(synapse_weight_of(&l, 1e6 / 6500), 128);  /* 127.5 */
	assert_int_equal(synapse_weight_of(&l, 1e6 / 5000), 51);
	assert_int_equal(synapse_weight_of(&l, 1e6 / 20000), 255);
	assert_int_equal(synapse_weight_of(&l, 0), 255);	/* open */
	assert_int_equal(synapse_weight_of(&l, 400), 0);
	/* no window, or no Rmax to compute R against */
	l.g_min_us = 0;
	assert_int_equal(synapse_weight_of(&l, 100), -1);
	l.weight_from = SB_WEIGHT_FROM_G;
	l.g_max_us = 0;
	assert_int_equal(synapse_weight_of(&l, 100), -1);
}

static char cmd_out[4096], cmd_err[4096];

/* cmd_client.out and .err: keep the lines. */
static void
cmd_keep(void *ctx, const char *line)
{
	char *buf = ctx != NULL ? cmd_err : cmd_out;
	size_t len = strlen(buf);

	snprintf(buf + len, sizeof cmd_out - len, "%s\n", line);
}

/* Run one command line; wait for its device operations. */
static void
run_line(struct session *s, const char *line)
{
	struct cmd_client client = { .out = cmd_keep, .err = cmd_keep };
	struct cmdq *q = cmdq_create(s);

	client.ctx = NULL;
	cmd_out[0] = cmd_err[0] = '\0';
	cmdq_append(q, line, "stdin", &client, cmdq_new_group(q), 0);
	cmdq_run(q);
	engine_run_fast(s, clock_now(&s->clock) + 100000);
	cmdq_run(q);
	assert_true(cmdq_empty(q));
	cmdq_free(q);
}

/* cmd_client.err: keep the lines. */
static void
cmd_keep_err(void *ctx, const char *line)
{
	size_t len = strlen(cmd_err);

	snprintf(cmd_err + len, sizeof cmd_err - len, "%s\n", line);
}

/*
 * An error is one line, also when the word it names holds a line end (a
 * quoted \n): shown as \n, it cannot pass for a second line of output.
 */
static void
test_error_one_line(void **state)
{
	struct session *s = session_create(1, 1);
	struct cmd_client client = { .out = cmd_keep, .err = cmd_keep_err };
	struct cmdq *q = cmdq_create(s);

	(void)state;
	cmd_err[0] = '\0';
	cmdq_append(q, "\"bad\\nname\" 1", "x.conf:3", &client,
	    cmdq_new_group(q), 0);
	cmdq_append(q, "site \"a\\rb\"", "stdin", &client,
	    cmdq_new_group(q), 0);
	cmdq_run(q);
	assert_true(cmdq_empty(q));
	assert_string_equal(cmd_err, "x.conf:3: unknown command: bad\\nname "
	    "(try 'help')\nsite: bad site name 'a\\rb' (use letters, digits, "
	    "'_', '-' or '.', at most 63)\n");
	cmdq_free(q);
	engine_shutdown(s);
}

/*
 * A device whose potentiation is negative (ltp_v < 0): potentiate, depress
 * and rules use its signs, and -a and ltp_v= / ltd_v= give magnitudes.
 */
static void
test_device_polarity(void **state)
{
	struct session *s = session_with_plugins(2);
	struct synapse *syn = s->synapses[0];
	char *cause = NULL;
	char *ltp3[] = { "ltp_v=3" }, *ltd15[] = { "ltd_v=-1.5" };
	char *zero[] = { "ltp_v=0" };
	struct rule r;
	double amp = 0;

	syn->limits.ltp_v = -2.0;
	syn->limits.ltd_v = 2.0;
	run_line(s, "potentiate s0");
	assert_string_equal(cmd_err, "");
	assert_non_null(strstr(cmd_out, "s0: potentiate 1 x -2.00 V 100 us: "
	    "G 50.000 -> 49.500 uS, weight 128 -> 126"));
	run_line(s, "potentiate s0 -a 3");
	assert_non_null(strstr(cmd_out, "potentiate 1 x -3.00 V"));
	run_line(s, "depress s0 -a -1");
	assert_non_null(strstr(cmd_out, "depress 1 x +1.00 V"));
	run_line(s, "depress s0");
	assert_non_null(strstr(cmd_out, "depress 1 x +2.00 V"));

	/* Rules start from the device's signs; values are magnitudes. */
	assert_int_equal(rule_defaults(&r, "rate", &syn->limits, NULL), 0);
	assert_true(r.ltp_v == -2.0 && r.ltd_v == 2.0);
	assert_int_equal(rule_parse_params(&r, 1, ltp3, NULL), 0);
	assert_int_equal(rule_parse_params(&r, 1, ltd15, NULL), 0);
	assert_true(r.ltp_v == -3.0 && r.ltd_v == 1.5);
	assert_int_equal(rule_parse_params(&r, 1, zero, &cause), -1);
	assert_string_equal(cause, "ltp_v=0: expected volts, 0.001-100 (the "
	    "sign is the device's)");
	free(cause);
	/* and so do their pulses */
	s->synapses[1]->limits.ltp_v = -2.0;
	s->synapses[1]->limits.ltd_v = 2.0;
	syn = rate_case(s, 1, 21, clock_now(&s->clock) + 2000000);
	assert_int_equal(pending_event(s, syn, &amp), COND_RULE_LTP);
	assert_true(amp == -2.0);
	engine_shutdown(s);
}

/* Pulses beyond the device's limits are refused, naming the limits. */
static void
test_device_limits(void **state)
{
	struct session *s = session_with_plugins(1);
	struct synapse *syn = s->synapses[0];
	char *cause = NULL;

	assert_int_equal(synapse_operate(s, syn, COND_POTENTIATE, 6.0, 100, 1,
	    NULL, &cause), -1);
	assert_string_equal(cause, "s0: +6.00 V, 100 us, 1 pulse is beyond "
	    "the device's safe limits (|V| <= 5.00 V, width 1-1000 us, "
	    "1-100 pulses)");
	free(cause);
	cause = NULL;
	assert_int_equal(synapse_operate(s, syn, COND_DEPRESS, -2.0, 1001, 1,
	    NULL, &cause), -1);
	assert_non_null(strstr(cause, "width 1-1000 us"));
	free(cause);
	cause = NULL;
	assert_int_equal(synapse_operate(s, syn, COND_DEPRESS, -2.0, 100, 101,
	    NULL, &cause), -1);
	assert_non_null(strstr(cause, "101 pulses"));
	free(cause);
	cause = NULL;
	/* a device with a shortest pulse says so */
	syn->limits.min_width_us = 10;
	assert_int_equal(synapse_operate(s, syn, COND_POTENTIATE, 2.0, 9, 1,
	    NULL, &cause), -1);
	assert_string_equal(cause, "s0: +2.00 V, 9 us, 1 pulse is beyond "
	    "the device's safe limits (|V| <= 5.00 V, width 10-1000 us, "
	    "1-100 pulses)");
	free(cause);
	cause = NULL;
	assert_int_equal(s->npending, 0);
	assert_int_equal(syn->in_flight, 0);
	/* within the limits it is queued */
	assert_int_equal(synapse_operate(s, syn, COND_POTENTIATE, 5.0, 1000,
	    100, NULL, &cause), 0);
	assert_int_equal(s->npending, 1);
	engine_shutdown(s);
}

/* A pulse completes after the device latency with G exactly k*V*count. */
static void
test_device_complete(void **state)
{
	struct session *s = session_with_plugins(1);
	struct synapse *syn = s->synapses[0];
	char *cause = NULL;

	assert_true(syn->g_us == 50.0);
	assert_int_equal(synapse_operate(s, syn, COND_POTENTIATE, 2.0, 100, 3,
	    NULL, &cause), 0);
	engine_run_fast(s, 999);
	assert_int_equal(syn->in_flight, 1);
	assert_true(syn->g_us == 50.0);
	engine_run_fast(s, 1000);
	assert_int_equal(syn->in_flight, 0);
	assert_int_equal(s->npending, 0);
	assert_true(syn->g_us == 51.5);	/* 0.25 uS/V * 2 V * 3 */
	engine_shutdown(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_words),
		cmocka_unit_test(test_split_variables),
		cmocka_unit_test(test_split_defaults),
		cmocka_unit_test(test_mask_secrets),
		cmocka_unit_test(test_split_errors),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_args_flags),
		cmocka_unit_test(test_args_long),
		cmocka_unit_test(test_args_errors),
		cmocka_unit_test(test_selectors),
		cmocka_unit_test(test_selectors_none),
		cmocka_unit_test(test_rate_thresholds),
		cmocka_unit_test(test_rate_window_edges),
		cmocka_unit_test(test_stdp_windows),
		cmocka_unit_test(test_rule_params),
		cmocka_unit_test(test_rule_limits),
		cmocka_unit_test(test_weight),
		cmocka_unit_test(test_device_polarity),
		cmocka_unit_test(test_error_one_line),
		cmocka_unit_test(test_device_limits),
		cmocka_unit_test(test_device_complete),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
