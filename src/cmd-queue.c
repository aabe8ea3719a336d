/*
 * cmd-queue.c: the command queue. Commands run in order; one that waits
 * (for time, or for device operations) holds the queue until it is done,
 * so a script's results come out in order. Every finished command is
 * written to the audit log with its outcome.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "clock.h"
#include "cmd.h"
#include "engine.h"
#include "xmalloc.h"

struct cmdq_item {
	TAILQ_ENTRY(cmdq_item) entry;
	struct cmdq *queue;
	char *line;
	char *source;
	struct cmd_client client;
	int group, strict;
	int started, failed;
	const struct cmd_entry *cmd;
	struct args args;
	unsigned holds;
	int64_t wait_until;
	char *message;		/* first result or error line, for the audit */
	char *site;		/* site current when it ran */
	struct site *at;	/* run with this site current */
	int depth;		/* nesting of source commands */
	char *user;		/* who asked (a remote site), or NULL */
	int has_expires;	/* not started after session time expires_us */
	int64_t expires_us;
	/*
	 * Lines a command with a done callback inserts (ifenv, at, source, a
	 * plugin's queued lines) are part of its result: the owner is told
	 * once, when the last of them is done, with their outcome and text.
	 */
	struct cmdq_item *owner;	/* whose result this line is part of */
	unsigned pending;	/* owner: lines of its result still queued */
	int finished;		/* owner: left the queue, waits for them */
};

struct cmdq {
	struct session *session;
	TAILQ_HEAD(cmdq_items, cmdq_item) items;
	unsigned failures;
	int next_group;
	int depth;
};

struct cmdq *cmdq_session;

/* Create an empty queue. */
struct cmdq *
cmdq_create(struct session *s)
{
	struct cmdq *q = xcalloc(1, sizeof *q);

	q->session = s;
	TAILQ_INIT(&q->items);
	q->next_group = 1;
	return q;
}

/* Free one item. */
static void
cmdq_item_free(struct cmdq_item *item)
{
	args_free(&item->args);
	free(item->line);
	free(item->source);
	free(item->message);
	free(item->site);
	free(item->user);
	free(item);
}

/* Make line part of the result of parent's owner, if it has one. */
static void
cmdq_adopt(struct cmdq_item *parent, struct cmdq_item *item)
{
	struct cmdq_item *owner = parent->owner;

	if (owner == NULL && parent->client.done != NULL)
		owner = parent;
	if (owner == NULL)
		return;
	item->owner = owner;
	item->client.done = NULL;
	owner->pending++;
}

/* Keep a line of text in an item's message. */
static void
cmdq_item_keep(struct cmdq_item *item, const char *text)
{
	char *next;

	if (item->message == NULL)
		item->message = xstrdup(text);
	else {
		xasprintf(&next, "%s\n%s", item->message, text);
		free(item->message);
		item->message = next;
	}
}

/*
 * A line of an owner's result is done (ran, or dropped unrun with why):
 * its outcome joins the owner's, which is told when it was the last.
 */
static void
cmdq_owner_join(struct cmdq_item *item, const char *why)
{
	struct cmdq_item *owner = item->owner;

	if (owner == NULL)
		return;
	item->owner = NULL;
	if (why != NULL) {
		if (owner->message == NULL)
			owner->message = xstrdup(why);
		owner->failed = 1;
	} else {
		if (item->message != NULL)
			cmdq_item_keep(owner, item->message);
		if (item->failed)
			owner->failed = 1;
	}
	if (--owner->pending == 0 && owner->finished) {
		owner->client.done(owner->client.ctx, owner->failed,
		    owner->message);
		cmdq_item_free(owner);
	}
}

/* Free an item taken off the queue without running (why it did not). */
static void
cmdq_item_drop(struct cmdq_item *item, const char *why)
{
	cmdq_owner_join(item, why);
	cmdq_item_free(item);
}

/*
 * Free the queue and what is still in it. Another site's request is
 * answered first (it did not run, or its outcome is unknown), so that
 * site hears it now and what carries the answer is freed.
 */
void
cmdq_free(struct cmdq *q)
{
	static const char why[] = "not run: the console quit first";
	struct cmdq_item *item;

	while ((item = TAILQ_FIRST(&q->items)) != NULL) {
		TAILQ_REMOVE(&q->items, item, entry);
		if (item->owner == NULL && item->at != NULL &&
		    item->client.done != NULL) {
			free(item->message);
			item->message = xstrdup(item->started ? "the console "
			    "quit before it finished (outcome unknown)" : why);
			item->failed = 1;
			if (item->pending > 0) {
				/* its lines follow: the last one tells it */
				item->finished = 1;
				continue;
			}
			item->client.done(item->client.ctx, 1, item->message);
		}
		cmdq_item_drop(item, why);
	}
	free(q);
}

/* A fresh group id (one per script or source). */
int
cmdq_new_group(struct cmdq *q)
{
	return q->next_group++;
}

/* Make an item. */
static struct cmdq_item *
cmdq_item_new(struct cmdq *q, const char *line, const char *source,
    const struct cmd_client *client, int group, int strict)
{
	struct cmdq_item *item = xcalloc(1, sizeof *item);

	item->queue = q;
	item->line = xstrdup(line);
	item->source = xstrdup(source);
	item->client = *client;
	item->group = group;
	item->strict = strict;
	item->wait_until = INT64_MIN;
	return item;
}

/* Append a command line. */
void
cmdq_append(struct cmdq *q, const char *line, const char *source,
    const struct cmd_client *client, int group, int strict)
{
	struct cmdq_item *item;

	/* not inside the macro: it evaluates its arguments more than once */
	item = cmdq_item_new(q, line, source, client, group, strict);
	TAILQ_INSERT_TAIL(&q->items, item, entry);
}

/* Append a command to run at a given site (a remote site's request). */
void
cmdq_append_at(struct cmdq *q, const char *line, const char *source,
    const struct cmd_client *client, struct site *site, const char *user)
{
	cmdq_append_at_until(q, line, source, client, site, user, 0, 0);
}

void
cmdq_append_at_until(struct cmdq *q, const char *line, const char *source,
    const struct cmd_client *client, struct site *site, const char *user,
    int has_expires, int64_t expires_us)
{
	struct cmdq_item *item, *it;

	item = cmdq_item_new(q, line, source, client, cmdq_new_group(q), 0);
	item->at = site;
	item->user = user != NULL ? xstrdup(user) : NULL;
	item->has_expires = has_expires;
	item->expires_us = expires_us;
	/*
	 * Another site's request goes before local commands (after earlier
	 * requests): a local command waiting for that site's answer must not
	 * hold it up.
	 */
	TAILQ_FOREACH(it, &q->items, entry)
		if (it->at == NULL)
			break;
	if (it != NULL)
		TAILQ_INSERT_BEFORE(it, item, entry);
	else
		TAILQ_INSERT_TAIL(&q->items, item, entry);
}

/* Insert one line right after item, in its group. */
struct cmdq_item *
cmdq_insert_line(struct cmdq *q, struct cmdq_item *after, const char *line)
{
	struct cmdq_item *item;

	item = cmdq_item_new(q, line, after->source, &after->client,
	    after->group, after->strict);
	cmdq_adopt(after, item);
	TAILQ_INSERT_AFTER(&q->items, after, item, entry);
	return item;
}

/* Name where an item came from (e.g. a connectivity file's FILE:LINE). */
void
cmdq_item_set_source(struct cmdq_item *item, const char *source)
{
	free(item->source);
	item->source = xstrdup(source);
}

/* Drop the items after `after` up to and including `last`. */
void
cmdq_remove_after(struct cmdq *q, struct cmdq_item *after,
    struct cmdq_item *last)
{
	struct cmdq_item *item, *next;

	if (after == last)
		return;
	for (item = TAILQ_NEXT(after, entry); item != NULL; item = next) {
		next = TAILQ_NEXT(item, entry);
		TAILQ_REMOVE(&q->items, item, entry);
		cmdq_item_drop(item, "not run: taken back");
		if (item == last)
			break;
	}
}

/*
 * Read a file's lines as items, after `after` (or at the end); with a
 * parent (source), they are part of its result.
 */
static int
cmdq_load_file(struct cmdq *q, struct cmdq_item *after, const char *path,
    const struct cmd_client *client, int group, int strict, int depth,
    struct cmdq_item *parent, char **cause)
{
	struct cmdq_item *item, *last = after;
	FILE *f;
	char *line = NULL, *source;
	size_t cap = 0, lineno = 0;
	ssize_t len;

	f = fopen(path, "r");
	if (f == NULL) {
		xasprintf(cause, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &cap, f)) != -1) {
		char *seg = line, *cr;

		if (memchr(line, '\0', (size_t)len) != NULL) {
			xasprintf(cause, "%s:%zu: the file holds a NUL byte "
			    "(is it a text file?)", path, lineno + 1);
			free(line);
			fclose(f);
			return -1;
		}
		/* an editor's UTF-8 byte-order mark (U+FEFF) is not text */
		if (lineno == 0 && len >= 3 && memcmp(line, "\xef\xbb\xbf",
		    3) == 0)
			seg += 3;
		while (len > 0 && (line[len - 1] == '\n' ||
		    line[len - 1] == '\r'))
			line[--len] = '\0';
		/* CR alone ends a line too (old Mac editors) */
		for (;;) {
			cr = strchr(seg, '\r');
			if (cr != NULL)
				*cr = '\0';
			lineno++;
			xasprintf(&source, "%s:%zu", path, lineno);
			item = cmdq_item_new(q, seg, source, client, group,
			    strict);
			item->depth = depth;
			if (parent != NULL)
				cmdq_adopt(parent, item);
			free(source);
			if (last != NULL)
				TAILQ_INSERT_AFTER(&q->items, last, item,
				    entry);
			else
				TAILQ_INSERT_TAIL(&q->items, item, entry);
			last = item;
			if (cr == NULL)
				break;
			seg = cr + 1;
		}
	}
	free(line);
	if (ferror(f)) {
		xasprintf(cause, "cannot read %s: %s", path, strerror(errno));
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

/* Insert a file's commands right after item. */
int
cmdq_insert_file(struct cmdq *q, struct cmdq_item *after, const char *path,
    const struct cmd_client *client, int group, int strict, char **cause)
{
	return cmdq_load_file(q, after, path, client, group, strict,
	    after->depth + 1, after, cause);
}

/* Append a file's commands at the end. */
int
cmdq_append_file(struct cmdq *q, const char *path,
    const struct cmd_client *client, int group, int strict, char **cause)
{
	return cmdq_load_file(q, TAILQ_LAST(&q->items, cmdq_items), path,
	    client, group, strict, 0, NULL, cause);
}

/* The queue an item belongs to. */
struct cmdq *
cmdq_of(struct cmdq_item *item)
{
	return item->queue;
}

/* Is the queue empty? */
int
cmdq_empty(const struct cmdq *q)
{
	return TAILQ_EMPTY(&q->items);
}

/* When the head may go on (session time), or -1 if it is not waiting. */
int64_t
cmdq_wait_until(const struct cmdq *q)
{
	const struct cmdq_item *item = TAILQ_FIRST(&q->items);

	if (item == NULL || !item->started)
		return -1;
	return item->wait_until;
}

/* Is the head waiting for device operations? */
int
cmdq_waiting_ops(const struct cmdq *q)
{
	const struct cmdq_item *item = TAILQ_FIRST(&q->items);

	return item != NULL && item->started && item->holds > 0;
}

/* How many commands failed. */
unsigned
cmdq_failures(const struct cmdq *q)
{
	return q->failures;
}

/* Where the item came from. */
const char *
cmdq_item_source(const struct cmdq_item *item)
{
	return item->source;
}

/* Where the item's results go. */
const struct cmd_client *
cmdq_item_client(const struct cmdq_item *item)
{
	return &item->client;
}

/* The item's group. */
int
cmdq_item_group(const struct cmdq_item *item)
{
	return item->group;
}

/* Does a failure stop the item's group? */
int
cmdq_item_strict(const struct cmdq_item *item)
{
	return item->strict;
}

/* Nesting of source commands. */
int
cmdq_item_depth(const struct cmdq_item *item)
{
	return item->depth;
}

/* The command's name. */
const char *
cmdq_item_name(const struct cmdq_item *item)
{
	return item->cmd != NULL ? item->cmd->name : "";
}

/* One result line. */
void
cmdq_item_vreply(struct cmdq_item *item, const char *fmt, va_list ap)
{
	char *line;

	xvasprintf(&line, fmt, ap);
	cmdq_item_keep(item, line);
	if (item->client.out != NULL)
		item->client.out(item->client.ctx, line);
	free(line);
}

/* One result line (printf style). */
void
cmdq_item_reply(struct cmdq_item *item, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cmdq_item_vreply(item, fmt, ap);
	va_end(ap);
}

/*
 * An error is one line: a line end that came in a word it names (a quoted
 * \n in "a\nb") is shown as \n or \r.
 */
static char *
cmdq_one_line(char *msg)
{
	char *out, *o;
	const char *p;

	if (strpbrk(msg, "\n\r") == NULL)
		return msg;
	out = o = xmalloc(2 * strlen(msg) + 1);
	for (p = msg; *p != '\0'; p++) {
		if (*p == '\n' || *p == '\r') {
			*o++ = '\\';
			*o++ = *p == '\n' ? 'n' : 'r';
		} else
			*o++ = *p;
	}
	*o = '\0';
	free(msg);
	return out;
}

/* An error: the command fails. */
void
cmdq_item_error(struct cmdq_item *item, const char *fmt, ...)
{
	va_list ap;
	char *msg, *line;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	msg = cmdq_one_line(msg);
	if (strcmp(item->source, "stdin") == 0 ||
	    strcmp(item->source, "tui") == 0)
		line = xstrdup(msg);
	else
		xasprintf(&line, "%s: %s", item->source, msg);
	line = cmdq_one_line(line);	/* a file name may hold one too */
	if (item->client.err != NULL)
		item->client.err(item->client.ctx, line);
	free(line);
	if (!item->failed || item->message == NULL) {
		free(item->message);
		item->message = msg;
	} else
		free(msg);
	item->failed = 1;
}

/* Hold the item until released. */
void
cmdq_item_hold(struct cmdq_item *item)
{
	item->holds++;
}

/* Release one hold. */
void
cmdq_item_release(struct cmdq_item *item)
{
	if (item->holds > 0)
		item->holds--;
}

/* Wait until session time t_us. */
void
cmdq_item_wait_until(struct cmdq_item *item, int64_t t_us)
{
	item->wait_until = t_us;
}

/* Run a plugin command registered at some site (exact name). */
static int
cmdq_run_plugin_command(struct cmdq *q, struct cmdq_item *item, int argc,
    char **argv)
{
	struct session *s = q->session;
	size_t i, j;

	for (i = 0; i < s->nsites; i++) {
		struct site *site = s->sites[i];

		if (s->current != NULL && site != s->current)
			continue;
		for (j = 0; j < site->ncommands; j++) {
			struct plugin_command *pc = site->commands[j];

			if (strcmp(pc->ops.name, argv[0]) != 0)
				continue;
			if (pc->ops.exec(pc->data, argc, argv,
			    (struct sb_reply *)item) != 0 && !item->failed)
				cmdq_item_error(item, "%s failed", argv[0]);
			return 1;
		}
	}
	return 0;
}

/* Start the head item: split, find, parse, execute. */
static void
cmdq_start_item(struct cmdq *q, struct cmdq_item *item)
{
	struct session *s = q->session;
	char *cause = NULL;
	char **argv;
	int argc;
	enum cmd_retval rv;

	item->started = 1;
	if (item->at != NULL)
		s->current = item->at;
	item->site = xstrdup(s->current ? s->current->name : "");
	/* another site's command whose lifetime ended while it queued here */
	if (item->has_expires && clock_now(&s->clock) > item->expires_us) {
		cmdq_item_error(item, "expired: not run: its lifetime ended "
		    "%.1f s before it could start at %s (commands ahead of it "
		    "held it; give more time with at -t SECONDS)",
		    (clock_now(&s->clock) - item->expires_us) / 1e6,
		    item->site);
		return;
	}
	if (cmd_split(item->line, &argc, &argv, &cause) != 0) {
		cmdq_item_error(item, "%s", cause);
		free(cause);
		return;
	}
	if (argc == 0) {
		cmd_free_argv(argc, argv);
		return;
	}
	if (cmdq_run_plugin_command(q, item, argc, argv)) {
		cmd_free_argv(argc, argv);
		return;
	}
	item->cmd = cmd_find(argv[0], &cause);
	if (item->cmd == NULL) {
		cmdq_item_error(item, "%s", cause);
		free(cause);
		cmd_free_argv(argc, argv);
		return;
	}
	if (args_parse(item->cmd, argc, argv, &item->args, &cause) != 0) {
		cmdq_item_error(item, "%s: %s", item->cmd->name, cause);
		free(cause);
		cmd_free_argv(argc, argv);
		return;
	}
	cmd_free_argv(argc, argv);
	rv = item->cmd->exec(s, &item->args, item);
	if (rv == CMD_ERROR && !item->failed)
		cmdq_item_error(item, "%s failed", item->cmd->name);
}

/* Start an item; another site's request leaves the current site alone. */
static void
cmdq_start(struct cmdq *q, struct cmdq_item *item)
{
	struct session *s = q->session;
	struct site *current = s->current;

	cmdq_start_item(q, item);
	if (item->at != NULL)
		s->current = current;
}

/* Is this line only blank or a comment? */
static int
cmdq_blank(const char *line)
{
	line += strspn(line, " \t\r\n");
	return *line == '\0' || *line == '#';
}

/*
 * The line as the audit log keeps it: values of token=, password= and
 * secret= arguments are replaced by *** (a token file is the better way).
 */
char *
cmdq_mask_secrets(const char *line)
{
	static const char *const keys[] = { "token=", "password=", "secret=" };
	/* each masked value grows by at most 3 bytes: room for all of them */
	char *out = xmalloc(2 * strlen(line) + 16), *p, *end, *v;
	size_t i, klen;

	strcpy(out, line);
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		klen = strlen(keys[i]);
		for (p = strstr(out, keys[i]); p != NULL;
		    p = strstr(p + klen, keys[i])) {
			if (p != out && p[-1] != ' ' && p[-1] != '\t' &&
			    p[-1] != '"' && p[-1] != '\'')
				continue;	/* part of another word */
			v = p + klen;
			if (*v == '"' || *v == '\'') {
				/* a quoted value: mask what is inside */
				end = strchr(v + 1, *v);
				if (end == NULL)
					end = v + strlen(v);
				v++;
			} else
				end = v + strcspn(v, " \t");
			memmove(v + 3, end, strlen(end) + 1);
			memcpy(v, "***", 3);
		}
	}
	return out;
}

/* Finish the head item: audit, drop, and stop its group on failure. */
static void
cmdq_finish(struct cmdq *q, struct cmdq_item *item)
{
	struct cmdq_item *next, *it;
	int group = item->group;

	TAILQ_REMOVE(&q->items, item, entry);
	if (!cmdq_blank(item->line)) {
		char *line = cmdq_mask_secrets(item->line);

		engine_audit(q->session, item->site, item->user, line,
		    item->failed ? "error" : "ok", item->message);
		free(line);
	}
	if (item->failed) {
		q->failures++;
		if (item->strict) {
			for (it = TAILQ_FIRST(&q->items); it != NULL;
			    it = next) {
				next = TAILQ_NEXT(it, entry);
				if (it->group != group)
					continue;
				TAILQ_REMOVE(&q->items, it, entry);
				cmdq_item_drop(it, "not run: an earlier line "
				    "failed");
			}
		}
	}
	if (item->owner != NULL) {
		/* a line of another command's result */
		cmdq_owner_join(item, NULL);
		cmdq_item_free(item);
	} else if (item->client.done != NULL && item->pending > 0) {
		/* the lines it queued tell it when they are done */
		item->finished = 1;
	} else {
		if (item->client.done != NULL)
			item->client.done(item->client.ctx, item->failed,
			    item->message);
		cmdq_item_free(item);
	}
}

/* Run until the queue is empty or its head waits. */
void
cmdq_run(struct cmdq *q)
{
	struct session *s = q->session;
	struct cmdq_item *item;

	while ((item = TAILQ_FIRST(&q->items)) != NULL && !s->quit) {
		if (!item->started)
			cmdq_start(q, item);
		if (item->holds > 0)
			return;
		if (item->wait_until != INT64_MIN &&
		    clock_now(&s->clock) < item->wait_until)
			return;
		cmdq_finish(q, item);
	}
}
