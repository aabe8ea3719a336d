/*
 * test_loopback.c: a transport for tests that loops remote commands back
 * to the site that loaded it, as if another site had sent them.
 *
 * load test_loopback [from=far]
 *
 * command() queues the line; the next poll() hands it to the host as a
 * command from site `from` (so `at far CMD` runs CMD here, with every step
 * of a remote command: the lifetime stamp, the record of commands run,
 * the result sent back). command_result() queues the result; the next
 * poll() hands it back as the result of that id. Events sent are counted
 * and dropped; the link is always up.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synbridge-plugin.h"

SB_PLUGIN("test_loopback");

int synbridge_plugin_init(struct sb_plugin *, const struct sb_host_api *)
    __attribute__((visibility("default")));
void synbridge_plugin_end(struct sb_plugin *)
    __attribute__((visibility("default")));

#define TEST_LOOPBACK_QUEUE 64

/* A command or a result on its way round. */
struct test_loopback_msg {
	int is_result;
	uint64_t id;
	int status;
	char *text;
};

struct test_loopback {
	const struct sb_host_api *host;
	struct sb_plugin *p;
	char from[64];
	struct test_loopback_msg q[TEST_LOOPBACK_QUEUE];
	size_t n;
	uint64_t sent;
};

/* Queue one message; -1 when the queue is full. */
static int
test_loopback_queue(struct test_loopback *l, int is_result, uint64_t id,
    int status, const char *text)
{
	struct test_loopback_msg *m;

	if (l->n == TEST_LOOPBACK_QUEUE)
		return -1;
	m = &l->q[l->n];
	if ((m->text = strdup(text)) == NULL)
		return -1;
	m->is_result = is_result;
	m->id = id;
	m->status = status;
	l->n++;
	return 0;
}

/* transport.send: counted and dropped. */
static int
test_loopback_send(void *data, const char *stream, const struct sb_event *ev,
    size_t n)
{
	struct test_loopback *l = data;

	l->sent += n;
	return 0;
}

/* transport.poll: hand every queued message to the host. */
static void
test_loopback_poll(void *data)
{
	struct test_loopback *l = data;
	struct test_loopback_msg q[TEST_LOOPBACK_QUEUE];
	size_t n = l->n, i;

	/* what the host queues while it handles these waits for next time */
	memcpy(q, l->q, n * sizeof *q);
	l->n = 0;
	for (i = 0; i < n; i++) {
		if (q[i].is_result)
			l->host->remote_result(l->p, q[i].id, q[i].status,
			    q[i].text);
		else
			l->host->remote_command(l->p, l->from, q[i].id,
			    q[i].text);
		free(q[i].text);
	}
}

/* transport.health: one link, always up. */
static size_t
test_loopback_health(void *data, struct sb_link_health *out, size_t max)
{
	if (max == 0)
		return 0;
	memset(out, 0, sizeof *out);
	snprintf(out->name, sizeof out->name, "loopback");
	out->state = SB_LINK_UP;
	return 1;
}

/* transport.command: loops back as a command from `from`. */
static int
test_loopback_command(void *data, const char *target, uint64_t id,
    const char *line, char **cause)
{
	struct test_loopback *l = data;

	if (test_loopback_queue(l, 0, id, 0, line) != 0) {
		if (cause != NULL && asprintf(cause, "test_loopback: %d "
		    "commands queued already", TEST_LOOPBACK_QUEUE) == -1)
			*cause = NULL;
		return -1;
	}
	return 0;
}

/* transport.command_result: loops back as the result of id. */
static int
test_loopback_result(void *data, const char *to, uint64_t id, int status,
    const char *text)
{
	return test_loopback_queue(data, 1, id, status, text);
}

static const struct sb_transport test_loopback_ops = {
	.name = "loopback",
	.send = test_loopback_send,
	.poll = test_loopback_poll,
	.health = test_loopback_health,
	/* no clock_offset: it has no clock, and holds no session for one */
	.command = test_loopback_command,
	.command_result = test_loopback_result,
};

/* Free what is still queued. */
static void
test_loopback_free(void *data)
{
	struct test_loopback *l = data;
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->q[i].text);
	free(l);
}

/* Register the transport. */
int
synbridge_plugin_init(struct sb_plugin *p, const struct sb_host_api *host)
{
	struct test_loopback *l = calloc(1, sizeof *l);
	const char *from = host->arg(p, "from");

	if (l == NULL)
		return -1;
	l->host = host;
	l->p = p;
	snprintf(l->from, sizeof l->from, "%s", from != NULL ? from : "far");
	return host->register_transport(p, &test_loopback_ops, l,
	    test_loopback_free);
}

/* The host frees what was registered. */
void
synbridge_plugin_end(struct sb_plugin *p)
{
}
