/*
 * test-remote.c: what other sites send is bounded by what this site
 * declared: a unit beyond a population's declared units (or beyond the
 * most a population may have) is dropped as a gap and never grows the
 * population; a field that wraps is not believed either.
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

#include "cmd.h"
#include "engine.h"
#include "remote.h"
#include "session.h"

/* A session with a site "here" and a plugin record standing for its relay. */
static struct session *
make_session(struct sb_plugin *p)
{
	struct session *s = session_create(1, 1);
	char *cause = NULL;

	assert_non_null(s);
	memset(p, 0, sizeof *p);
	p->name = "relay";
	p->site = site_create(s, "here", &cause);
	assert_non_null(p->site);
	s->current = p->site;
	return s;
}

/* One spike of unit index from site "there", stream "mea". */
static void
spike(struct sb_plugin *p, uint32_t index)
{
	struct sb_event ev;

	memset(&ev, 0, sizeof ev);
	ev.kind = SB_EV_SPIKE;
	ev.index = index;
	ev.t_us = 1000;
	remote_deliver(p, "there", "mea", &ev, 1);
}

/* A declared population: units beyond it are dropped, not grown. */
static void
test_declared_bound(void **state)
{
	struct sb_plugin p;
	struct session *s = make_session(&p);
	struct population *pop;
	struct site *there;
	char *cause = NULL;

	(void)state;
	there = site_create(s, "there", &cause);
	assert_non_null(there);
	there->remote = 1;
	pop = session_remote_population(s, there, "mea", 4);
	pop->declared_units = 4;
	spike(&p, 3);
	assert_int_equal(pop->spikes, 1);
	spike(&p, 100000000);
	spike(&p, 0xffffffffu);
	spike(&p, 4);
	assert_int_equal(pop->ops.units, 4);
	assert_int_equal(pop->spikes, 1);
	assert_int_equal(pop->dropped_fields, 3);
	engine_shutdown(s);
}

/* A population seen only in the stream grows, up to a bound. */
static void
test_undeclared_bound(void **state)
{
	struct sb_plugin p;
	struct session *s = make_session(&p);
	struct population *pop;

	(void)state;
	spike(&p, 9);
	pop = site_find_population(site_find(s, "there"), "mea");
	assert_non_null(pop);
	assert_int_equal(pop->ops.units, 10);
	spike(&p, 100000000);
	assert_true(pop->ops.units <= 1048576);
	assert_int_equal(pop->dropped_fields, 1);
	spike(&p, 0xffffffffu);	/* index + 1 would wrap to 0 */
	assert_int_equal(pop->dropped_fields, 2);
	assert_int_equal(pop->ops.units, 10);
	engine_shutdown(s);
}

/* What a remote command's client was told when it finished. */
struct answered {
	int calls, failed;
	char message[128];
};

/* cmd_client.done of a remote command. */
static void
answered_done(void *ctx, int failed, const char *message)
{
	struct answered *a = ctx;

	a->calls++;
	a->failed = failed;
	snprintf(a->message, sizeof a->message, "%s", message);
}

/* Another site's command still queued when the console quits is
 * answered (not run), not dropped without a word. */
static void
test_queued_at_quit(void **state)
{
	struct sb_plugin p;
	struct session *s = make_session(&p);
	struct cmdq *q = cmdq_create(s);
	struct answered a = { 0, 0, "" };
	struct cmd_client client = { NULL, NULL, &a, answered_done };

	(void)state;
	cmdq_append_at(q, "synapses", "there", &client, p.site, "@there");
	cmdq_free(q);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.failed, 1);
	assert_string_equal(a.message, "not run: the console quit first");
	engine_shutdown(s);
}

/*
 * Lines another site's command queues (ifenv, at, source, a plugin's) are
 * part of its one result: the asking site is answered once, when the last
 * of them is done, with their text and whether any failed.
 */
static void
test_queued_lines_one_result(void **state)
{
	struct sb_plugin p;
	struct session *s = make_session(&p);
	struct cmdq *q = cmdq_create(s);
	struct answered a = { 0, 0, "" };
	struct cmd_client client = { NULL, NULL, &a, answered_done };

	(void)state;
	setenv("SB_TEST_IFENV", "1", 1);
	cmdq_session = q;
	cmdq_append_at(q, "ifenv SB_TEST_IFENV site", "there", &client,
	    p.site, "@there");
	cmdq_run(q);
	assert_true(cmdq_empty(q));
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.failed, 0);
	assert_non_null(strstr(a.message, "here"));

	memset(&a, 0, sizeof a);
	cmdq_append_at(q, "ifenv SB_TEST_IFENV ifenv SB_TEST_IFENV bogus",
	    "there", &client, p.site, "@there");
	cmdq_run(q);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.failed, 1);
	assert_non_null(strstr(a.message, "bogus"));
	cmdq_session = NULL;
	cmdq_free(q);
	engine_shutdown(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_declared_bound),
		cmocka_unit_test(test_undeclared_bound),
		cmocka_unit_test(test_queued_at_quit),
		cmocka_unit_test(test_queued_lines_one_result),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
