/*
 * test-plugin.c: the plugin host. Loading good and broken plugins, argument
 * checking, unloading (run under valgrind to see that everything is freed)
 * and a console that keeps going after every failure.
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

#include "cmd.h"
#include "engine.h"
#include "plugin.h"
#include "synapse.h"
#include "test-plugins.h"

/* Everything the session logged, one message per line. */
static char test_log[8192];

/* Log sink: keep messages for assertions. */
static void
test_log_fn(void *ctx, enum sb_log_level level, const char *msg)
{
	size_t len = strlen(test_log);

	snprintf(test_log + len, sizeof test_log - len, "%s\n", msg);
}

/* A fast session with site "lab" and the test plugins on the path. */
static int
setup(void **state)
{
	struct session *s = session_create(1, 1);
	char *cause = NULL;

	test_log[0] = '\0';
	s->log_fn = test_log_fn;
	session_add_plugin_dir(s, "/nonexistent/first");
	session_add_plugin_dir(s, TEST_PLUGIN_DIR);
	s->current = site_create(s, "lab", &cause);
	assert_non_null(s->current);
	*state = s;
	return 0;
}

/* Free the session and everything loaded. */
static int
teardown(void **state)
{
	engine_shutdown(*state);
	return 0;
}

/* Load expecting failure; returns the cause (caller frees). */
static char *
load_fails(struct session *s, const char *name, int argc, char **argv)
{
	size_t before = s->current->nplugins;
	size_t commands = s->current->ncommands;
	char *cause = NULL;

	assert_null(plugin_load(s->current, name, argc, argv, &cause));
	assert_non_null(cause);
	/* nothing stays behind */
	assert_int_equal(s->current->nplugins, before);
	assert_int_equal(s->current->ncommands, commands);
	return cause;
}

/* Is the site empty of everything a plugin can register? */
static void
assert_site_empty(struct site *site)
{
	size_t i;

	assert_int_equal(site->nplugins, 0);
	for (i = 0; i < site->npops; i++)
		assert_null(site->pops[i]);
	assert_int_equal(site->ndevsets, 0);
	assert_int_equal(site->ntransports, 0);
	assert_int_equal(site->ncommands, 0);
}

/* A good plugin loads, registers its population and commands. */
static void
test_load_good(void **state)
{
	struct session *s = *state;
	char *argv[] = { "units=3", "period_ms=5", "name=cortex" };
	struct sb_plugin *p;
	struct population *pop;
	struct test_neurons *tn;
	char *cause = NULL;

	p = plugin_load(s->current, "test_neurons", 3, argv, &cause);
	if (p == NULL)
		fail_msg("%s", cause);
	assert_string_equal(p->name, "test_neurons");
	assert_string_equal(p->path, TEST_PLUGIN_DIR "/test_neurons.so");
	assert_ptr_equal(plugin_find(s->current, "test_neurons"), p);
	pop = site_find_population(s->current, "cortex");
	assert_non_null(pop);
	assert_int_equal(pop->ops.units, 3);
	assert_int_equal(s->current->ncommands, 2);
	assert_string_equal(s->current->commands[0]->ops.name, "test-hello");
	/* arguments reached the plugin */
	tn = pop->data;
	assert_int_equal(tn->period_us, 5000);
	/* fast mode: the host paces it, 20 ms -> 4 firings of 3 units */
	engine_run_fast(s, 20000);
	assert_int_equal(tn->emitted, 12);
	assert_int_equal(pop->spikes, 12);
}

/* A path with a '/' is loaded as is. */
static void
test_load_by_path(void **state)
{
	struct session *s = *state;
	char *cause = NULL;
	struct sb_plugin *p;

	p = plugin_load(s->current, TEST_PLUGIN_DIR "/test_synapses.so", 0,
	    NULL, &cause);
	if (p == NULL)
		fail_msg("%s", cause);
	assert_non_null(site_find_devset(s->current, "lin"));
	cause = load_fails(s, TEST_PLUGIN_DIR "/nope.so", 0, NULL);
	assert_string_equal(cause, "cannot read plugin file '"
	    TEST_PLUGIN_DIR "/nope.so'");
	free(cause);
}

/* A module built for another API version is refused before init. */
static void
test_load_bad_version(void **state)
{
	struct session *s = *state;
	char *cause = load_fails(s, "test_badversion", 0, NULL);

	assert_string_equal(cause, "plugin '" TEST_PLUGIN_DIR
	    "/test_badversion.so' was built for API 'synbridge-plugin-0', "
	    "this synbridge speaks '" SB_PLUGIN_API_VERSION "' (rebuild the "
	    "plugin against this version)");
	assert_null(strstr(test_log, "init was called"));
	free(cause);
	assert_site_empty(s->current);
}

/* A plugin without synbridge_plugin_init is refused. */
static void
test_load_missing_symbol(void **state)
{
	struct session *s = *state;
	char *cause = load_fails(s, "test_nosym", 0, NULL);

	assert_string_equal(cause, "plugin 'test_nosym' (" TEST_PLUGIN_DIR
	    "/test_nosym.so) lacks synbridge_plugin_init");
	free(cause);
	assert_site_empty(s->current);
}

/* A second plugin with a loaded plugin's name is refused. */
static void
test_load_duplicate(void **state)
{
	struct session *s = *state;
	char *argv[] = { "period_ms=0" };
	char *cause = NULL;

	assert_non_null(plugin_load(s->current, "test_neurons", 1, argv,
	    &cause));
	cause = load_fails(s, "test_dupname", 0, NULL);
	assert_string_equal(cause, "plugin 'test_neurons' is already loaded "
	    "at site 'lab' (from " TEST_PLUGIN_DIR "/test_neurons.so)");
	free(cause);
	cause = load_fails(s, "test_neurons", 0, NULL);
	assert_non_null(strstr(cause, "already loaded at site 'lab'"));
	free(cause);
	assert_int_equal(s->current->nplugins, 1);
	/* at another site the same plugin is fine */
	s->current = site_create(s, "other", &cause);
	assert_non_null(plugin_load(s->current, "test_neurons", 1, argv,
	    &cause));
}

/* A failing init: its message is logged, what it registered is freed. */
static void
test_load_failing_init(void **state)
{
	struct session *s = *state;
	char *cause = load_fails(s, "test_failinit", 0, NULL);

	assert_string_equal(cause, "plugin 'test_failinit' failed to start "
	    "(see the messages above)");
	free(cause);
	/* logged once, with the plugin's name once */
	assert_string_equal(test_log, "test_failinit: the instrument does not "
	    "answer (check its cable)\n");
	assert_site_empty(s->current);
	assert_null(site_find_population(s->current, "failing"));
}

/* A shared object that is not a plugin, and a file that is not one. */
static void
test_load_not_plugin(void **state)
{
	struct session *s = *state;
	char *cause = load_fails(s, "test_notplugin", 0, NULL);

	assert_string_equal(cause, "'" TEST_PLUGIN_DIR "/test_notplugin.so' "
	    "is not a synbridge plugin (it exports no "
	    "synbridge_plugin_name)");
	free(cause);
	/* a text file: dlopen's reason is passed on */
	cause = load_fails(s, TEST_PLUGIN_DIR "/../test_neurons.la", 0, NULL);
	assert_non_null(strstr(cause, "cannot load plugin '"));
	free(cause);
	assert_site_empty(s->current);
}

/* An unknown name says where it looked and how to add a directory. */
static void
test_load_not_found(void **state)
{
	struct session *s = *state;
	char *cause = load_fails(s, "sim_nothing", 0, NULL);

	assert_string_equal(cause, "plugin 'sim_nothing' not found (looked "
	    "for sim_nothing.so in /nonexistent/first:" TEST_PLUGIN_DIR
	    "; use --plugin-dir or SYNBRIDGE_PLUGIN_PATH)");
	free(cause);
}

/* Arguments: key=value only, unknown keys refused, seed checked. */
static void
test_load_arguments(void **state)
{
	struct session *s = *state;
	char *unknown1[] = { "units=2", "colour=red" };
	char *unknown2[] = { "colour=red", "period_ms=0", "size=3" };
	char *noeq[] = { "units" };
	char *twice[] = { "units=2", "period_ms=5", "units=3" };
	char *badseed[] = { "seed=12x" };
	char *badval[] = { "units=0" };
	char *cause;

	cause = load_fails(s, "test_neurons", 2, unknown1);
	assert_string_equal(cause, "test_neurons: unknown argument colour= "
	    "(synbridge(1), PLUGINS, lists the ones it takes)");
	free(cause);
	cause = load_fails(s, "test_neurons", 3, unknown2);
	assert_string_equal(cause, "test_neurons: unknown arguments colour=, "
	    "size= (synbridge(1), PLUGINS, lists the ones it takes)");
	free(cause);
	cause = load_fails(s, "test_neurons", 1, noeq);
	assert_string_equal(cause, "bad plugin argument 'units' (write "
	    "key=value)");
	free(cause);
	cause = load_fails(s, "test_neurons", 3, twice);
	assert_string_equal(cause, "test_neurons: units= is given twice "
	    "(units=2, then units=3): give it once");
	free(cause);
	cause = load_fails(s, "test_neurons", 1, badseed);
	assert_string_equal(cause, "test_neurons: seed=12x: expected an "
	    "integer");
	free(cause);
	test_log[0] = '\0';
	cause = load_fails(s, "test_neurons", 1, badval);
	assert_non_null(strstr(test_log, "test_neurons: units=0: expected an "
	    "integer 1-100000"));
	free(cause);

	assert_site_empty(s->current);
}

/* Unloading frees everything; the plugin can be loaded again. */
static void
test_unload(void **state)
{
	struct session *s = *state;
	char *argv[] = { "period_ms=1" };
	char *cause = NULL;
	struct sb_plugin *p;

	p = plugin_load(s->current, "test_neurons", 1, argv, &cause);
	assert_non_null(p);
	assert_non_null(plugin_load(s->current, "test_synapses", 0, NULL,
	    &cause));
	engine_run_fast(s, 5000);
	assert_int_equal(plugin_unload(p, &cause), 0);
	assert_null(site_find_population(s->current, "neurons"));
	assert_int_equal(s->current->ncommands, 0);
	assert_int_equal(s->current->nplugins, 1);
	/* the engine runs on with a hole where the population was */
	engine_run_fast(s, 10000);
	p = plugin_find(s->current, "test_synapses");
	assert_int_equal(plugin_unload(p, &cause), 0);
	assert_site_empty(s->current);
	p = plugin_load(s->current, "test_neurons", 1, argv, &cause);
	assert_non_null(p);
	engine_run_fast(s, 20000);
	assert_true(site_find_population(s->current, "neurons")->spikes > 0);
}

/* A plugin in use by a synapse cannot be unloaded. */
static void
test_unload_in_use(void **state)
{
	struct session *s = *state;
	char *argv[] = { "period_ms=0" };
	char *cause = NULL;
	struct sb_plugin *pn, *ps;

	pn = plugin_load(s->current, "test_neurons", 1, argv, &cause);
	ps = plugin_load(s->current, "test_synapses", 0, NULL, &cause);
	assert_non_null(pn);
	assert_non_null(ps);
	assert_non_null(synapse_define(s, "s0", "neurons:0", "neurons:1",
	    "lin:0", &cause));
	assert_non_null(synapse_define(s, "s1", "neurons:1", "neurons:2",
	    "lin:1", &cause));
	assert_int_equal(plugin_unload(ps, &cause), -1);
	assert_string_equal(cause, "plugin 'test_synapses' is in use by "
	    "synapses s0, s1 (remove them first)");
	free(cause);
	cause = NULL;
	assert_int_equal(plugin_unload(pn, &cause), -1);
	assert_non_null(strstr(cause, "in use by synapses s0, s1"));
	free(cause);
	assert_int_equal(s->current->nplugins, 2);
	assert_non_null(site_find_devset(s->current, "lin"));
}

/* Result and error lines of commands run through a queue. */
static char test_out[8192], test_err[8192];

/* Client out: keep lines. */
static void
test_client_out(void *ctx, const char *line)
{
	size_t len = strlen(test_out);

	snprintf(test_out + len, sizeof test_out - len, "%s\n", line);
}

/* Client err: keep lines. */
static void
test_client_err(void *ctx, const char *line)
{
	size_t len = strlen(test_err);

	snprintf(test_err + len, sizeof test_err - len, "%s\n", line);
}

/* The console runs on after every kind of failed load. */
static void
test_console_survives(void **state)
{
	static const struct cmd_client client = {
		.out = test_client_out,
		.err = test_client_err,
	};
	static const char *lines[] = {
		"load test_badversion",
		"load test_nosym",
		"load test_failinit",
		"load test_notplugin",
		"load sim_nothing",
		"load test_neurons bogus=1",
		"load test_neurons period_ms=0",
		"load test_dupname",
		"test-hello a b",
		"unload test_nosym",
		"unload test_neurons",
		"test-hello",
		"sites",
	};
	struct session *s = *state;
	struct cmdq *q = cmdq_create(s);
	int group = cmdq_new_group(q);
	size_t i;

	test_out[0] = test_err[0] = '\0';
	for (i = 0; i < sizeof lines / sizeof lines[0]; i++)
		cmdq_append(q, lines[i], "stdin", &client, group, 0);
	cmdq_run(q);
	assert_true(cmdq_empty(q));
	/* 6 failed loads, the duplicate, unload of nothing, unknown cmd */
	assert_int_equal(cmdq_failures(q), 9);
	assert_non_null(strstr(test_err, "load: plugin '" TEST_PLUGIN_DIR
	    "/test_badversion.so' was built for API"));
	assert_non_null(strstr(test_err, "unload: no plugin 'test_nosym' at "
	    "lab\n"));
	/* gone with its plugin */
	assert_non_null(strstr(test_err, "unknown command: test-hello (try "
	    "'help')\n"));
	assert_string_equal(test_out, "loaded test_neurons at lab ("
	    TEST_PLUGIN_DIR "/test_neurons.so)\n"
	    "hello from test_neurons at lab (2 arguments)\n"
	    "unloaded test_neurons\n"
	    "lab (current): 0 plugins\n");
	cmdq_free(q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_load_good, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_by_path, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_bad_version, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_missing_symbol,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_duplicate, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_failing_init, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_not_plugin, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_not_found, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_arguments, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unload_in_use, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_console_survives, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
