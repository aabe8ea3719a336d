/*
 * test-remote.c: what other sites send is bounded by what this site
 * declared: a unit beyond a population's declared units (or beyond the
 * most a population may have) is dropped as a gap and never grows the
 * population; a field that wraps is not believed either. A command from
 * another site runs once its note is on disk, written by a thread while
 * the engine goes on (fsync(2) is replaced here by one that waits at a
 * gate), at most once, and not after its lifetime.
 */
#include "config.h"

#include <sys/syscall.h>

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "cmd.h"
#include "engine.h"
#include "remote.h"
#include "session.h"
#include "test-gate.h"
#include "xmalloc.h"

#define DEADLINE_US 30000000

static unsigned gate_entered;	/* fsync calls that reached the gate */

/* fsync(2), held while the gate is shut (a disk slow to sync). */
int
fsync(int fd)
{
	pthread_mutex_lock(&gate_lock);
	gate_entered++;
	pthread_cond_broadcast(&gate_cond);
	while (gate_shut)
		pthread_cond_wait(&gate_cond, &gate_lock);
	pthread_mutex_unlock(&gate_lock);
	return (int)syscall(SYS_fsync, fd);
}

static unsigned
gate_count(void)
{
	unsigned n;

	pthread_mutex_lock(&gate_lock);
	n = gate_entered;
	pthread_mutex_unlock(&gate_lock);
	return n;
}

/* The session's warnings, kept for the checks. */
static char said[4096];

static void
keep_log(void *ctx, enum sb_log_level level, const char *msg)
{
	(void)ctx;
	if (level <= SB_LOG_WARNING && strlen(said) + strlen(msg) + 2 <
	    sizeof said) {
		strcat(said, msg);
		strcat(said, "\n");
	}
}

static void
pause_ms(int ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

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
 * Another site's command whose lifetime ends while commands ahead of it
 * hold the queue is answered expired, not run.
 */
static void
test_expires_in_queue(void **state)
{
	struct sb_plugin p;
	struct session *s = make_session(&p);
	struct cmdq *q = cmdq_create(s);
	struct answered a = { 0, 0, "" }, b = { 0, 0, "" };
	struct cmd_client ca = { NULL, NULL, &a, answered_done };
	struct cmd_client cb = { NULL, NULL, &b, answered_done };
	int64_t now = clock_now(&s->clock);

	(void)state;
	cmdq_session = q;
	cmdq_append_at_until(q, "site", "there", &ca, p.site, "@there", 1,
	    now - 1);
	cmdq_append_at_until(q, "site", "there", &cb, p.site, "@there", 1,
	    now + 60000000);
	cmdq_run(q);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.failed, 1);
	assert_non_null(strstr(a.message, "expired: not run"));
	assert_int_equal(b.calls, 1);
	assert_int_equal(b.failed, 0);
	cmdq_session = NULL;
	cmdq_free(q);
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

/* Run what has its note on disk until cond holds (with a deadline). */
static int
run_until(struct session *s, struct cmdq *q, int want_queued,
    const char *want_said)
{
	int64_t start = clock_mono_us();

	for (;;) {
		remote_run_recorded(s);
		if (want_queued && !cmdq_empty(q))
			return 0;
		if (want_said != NULL && strstr(said, want_said) != NULL)
			return 0;
		if (clock_mono_us() - start > DEADLINE_US)
			return -1;
		pause_ms(5);
	}
}

static void
test_command_waits_for_its_note(void **state)
{
	char dir[] = "/tmp/sb-test-remote-XXXXXX", *path, *line, *text;
	struct sb_plugin p;
	struct session *s = make_session(&p);
	struct cmdq *q = cmdq_create(s);
	unsigned entered;
	size_t cap = 0;
	int64_t start;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	setenv("XDG_STATE_HOME", dir, 1);
	xasprintf(&path, "%s/synbridge/commands-here", dir);
	/* the plugin counts as loaded at its site */
	s->current->plugins = xcalloc(1, sizeof *s->current->plugins);
	s->current->plugins[0] = &p;
	s->current->nplugins = 1;
	s->log_fn = keep_log;
	said[0] = '\0';
	cmdq_session = q;

	/* the disk holds the note: remote_command returns, nothing runs */
	gate_set(1);
	entered = gate_count();
	alarm(60);	/* an engine that waits for the disk never returns */
	xasprintf(&line, "+expires=%lld mark one",
	    (long long)(clock_now(&s->clock) + 60000000));
	remote_command(&p, "there", 42, line);
	free(line);
	alarm(0);
	start = clock_mono_us();
	while (gate_count() == entered && clock_mono_us() - start < DEADLINE_US)
		pause_ms(5);
	assert_true(gate_count() > entered);	/* the note waits at the gate */
	remote_run_recorded(s);
	assert_true(cmdq_empty(q));
	/* the same command again while the first waits: a duplicate */
	xasprintf(&line, "+expires=%lld mark one",
	    (long long)(clock_now(&s->clock) + 60000000));
	remote_command(&p, "there", 42, line);
	free(line);
	assert_non_null(strstr(said, "it arrived twice"));
	/* one whose lifetime ends while its note waits is not run */
	xasprintf(&line, "+expires=%lld mark two",
	    (long long)(clock_now(&s->clock) + 100000));
	remote_command(&p, "there", 43, line);
	free(line);
	/* (the session's clock is virtual here: it is moved on by hand) */
	clock_advance(&s->clock, clock_now(&s->clock) + 200000);
	gate_set(0);
	assert_int_equal(run_until(s, q, 0, "lifetime ended"), 0);
	assert_int_equal(run_until(s, q, 1, NULL), 0);
	cmdq_run(q);
	assert_true(cmdq_empty(q));
	/* the note is on disk: the first ran, the second is noted as seen */
	f = fopen(path, "r");
	assert_non_null(f);
	text = NULL;
	assert_true(getdelim(&text, &cap, '\0', f) > 0);
	fclose(f);
	assert_non_null(strstr(text, "there 42\n"));
	free(text);
	/* sent again after a restart: refused from the file */
	said[0] = '\0';
	xasprintf(&line, "+expires=%lld mark one",
	    (long long)(clock_now(&s->clock) + 60000000));
	remote_command(&p, "there", 42, line);
	free(line);
	assert_int_equal(run_until(s, q, 0, "already (a console restarted)"),
	    0);
	assert_true(cmdq_empty(q));

	/* at quit, commands not run yet are answered, noted or not */
	said[0] = '\0';
	gate_set(1);
	entered = gate_count();
	xasprintf(&line, "+expires=%lld mark three",
	    (long long)(clock_now(&s->clock) + 60000000));
	remote_command(&p, "there", 44, line);
	free(line);
	xasprintf(&line, "+expires=%lld mark four",
	    (long long)(clock_now(&s->clock) + 60000000));
	remote_command(&p, "there", 45, line);
	free(line);
	start = clock_mono_us();
	while (gate_count() == entered && clock_mono_us() - start < DEADLINE_US)
		pause_ms(5);
	gate_set(0);	/* the note in hand is finished; the other is not */
	remote_quit(s);
	assert_true(cmdq_empty(q));
	assert_non_null(strstr(said, "mark three: quit: not run"));
	assert_non_null(strstr(said, "mark four: quit: not run"));
	/* and one arriving after is answered so at once */
	xasprintf(&line, "+expires=%lld mark five",
	    (long long)(clock_now(&s->clock) + 60000000));
	remote_command(&p, "there", 46, line);
	free(line);
	assert_non_null(strstr(said, "mark five: quit: not run"));

	cmdq_session = NULL;
	cmdq_free(q);
	s->current->nplugins = 0;
	engine_shutdown(s);
	free(path);
	xasprintf(&line, "rm -rf '%s'", dir);
	assert_int_equal(system(line), 0);
	free(line);
	unsetenv("XDG_STATE_HOME");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_declared_bound),
		cmocka_unit_test(test_undeclared_bound),
		cmocka_unit_test(test_queued_at_quit),
		cmocka_unit_test(test_queued_lines_one_result),
		cmocka_unit_test(test_command_waits_for_its_note),
		cmocka_unit_test(test_expires_in_queue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
