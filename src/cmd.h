/*
 * cmd.h: the console's command language, shared by the TUI, headless
 * stdin, scripts (-x) and session files (-c): one command per line, words
 * split as a shell does (quotes, backslashes, # comments), getopt-style
 * flags. Commands are found by exact name, alias or unique prefix.
 */
#ifndef SB_CMD_H
#define SB_CMD_H

#include <stdarg.h>
#include <stdint.h>

#include "session.h"

struct cmdq_item;

/* Parsed arguments of one command. */
struct args {
	int argc;		/* positional arguments */
	char **argv;
	struct args_flag {
		char flag;
		char *value;	/* NULL for a flag without value */
	} *flags;
	int nflags;
};

enum cmd_retval { CMD_NORMAL, CMD_ERROR, CMD_WAIT };

struct cmd_long_option {
	const char *name;
	char flag;
};

/* One console command. */
struct cmd_entry {
	const char *name;
	const char *alias;
	const char *template;	/* getopt-style, e.g. "n:a:w:" */
	const struct cmd_long_option *longs;
	int lower, upper;	/* positional argument bounds; -1 none */
	const char *usage;
	const char *help;	/* one line */
	enum cmd_retval (*exec)(struct session *s, struct args *a,
	    struct cmdq_item *item);
};

extern const struct cmd_entry *const cmd_table[];

/* Where results go (headless stdout, the TUI's log pane, a remote site). */
struct cmd_client {
	void (*out)(void *ctx, const char *line);
	void (*err)(void *ctx, const char *line);
	void *ctx;
	/* When the command is done (failed or not); message = its result. */
	void (*done)(void *ctx, int failed, const char *message);
};

/* Split a command line into words; -1 with *cause on bad quoting. */
int cmd_split(const char *line, int *argc, char ***argv, char **cause);
/* One word quoted so that cmd_split() gives it back unchanged (malloc'd). */
char *cmd_quote_word(const char *word);
void cmd_free_argv(int argc, char **argv);
/* Find by exact name, alias or unique prefix; NULL with *cause. */
const struct cmd_entry *cmd_find(const char *name, char **cause);
/* Parse flags per the entry's template; -1 with *cause. */
int args_parse(const struct cmd_entry *e, int argc, char **argv,
    struct args *a, char **cause);
void args_free(struct args *a);
int args_has(const struct args *a, char flag);
const char *args_get(const struct args *a, char flag);
/* Numeric flag helpers: 0 if absent (keeps *out), 1 if set, -1 bad. */
int args_double(const struct args *a, char flag, double lo, double hi,
    double *out, struct cmdq_item *item);
int args_uint(const struct args *a, char flag, unsigned long lo,
    unsigned long hi, unsigned long *out, struct cmdq_item *item);

/* The queue of commands waiting to run (one per session). */
struct cmdq;
extern struct cmdq *cmdq_session;
struct cmdq *cmdq_create(struct session *s);
void cmdq_free(struct cmdq *q);
/*
 * Append a command line from source ("stdin", "file:line", "tui") whose
 * results go to client. With strict, a failure drops the rest of the
 * same group (a script stops at its first error).
 */
void cmdq_append(struct cmdq *q, const char *line, const char *source,
    const struct cmd_client *client, int group, int strict);
/* Append a command that runs with site as the current site. */
void cmdq_append_at(struct cmdq *q, const char *line, const char *source,
    const struct cmd_client *client, struct site *site, const char *user);
/* The same, for a command not to start after session time expires_us. */
void cmdq_append_at_until(struct cmdq *q, const char *line,
    const char *source, const struct cmd_client *client, struct site *site,
    const char *user, int has_expires, int64_t expires_us);
/* Insert one command line right after item (same group); the new item. */
struct cmdq_item *cmdq_insert_line(struct cmdq *q, struct cmdq_item *after,
    const char *line);
/* Name where an item came from (its errors say SOURCE: ...). */
void cmdq_item_set_source(struct cmdq_item *item, const char *source);
/* Drop the items after `after` up to and including `last`. */
void cmdq_remove_after(struct cmdq *q, struct cmdq_item *after,
    struct cmdq_item *last);
/* Insert commands of a file after item (source). 0 or -1 with *cause. */
int cmdq_insert_file(struct cmdq *q, struct cmdq_item *after,
    const char *path, const struct cmd_client *client, int group,
    int strict, char **cause);
/* Load a file at the end of the queue. */
int cmdq_append_file(struct cmdq *q, const char *path,
    const struct cmd_client *client, int group, int strict, char **cause);
/* A copy of line with secret argument values masked, for the audit log. */
char *cmdq_mask_secrets(const char *line);
/* Run queued commands until the queue is empty or its head waits. */
void cmdq_run(struct cmdq *q);
int cmdq_empty(const struct cmdq *q);
/* The head is waiting until this session time (or INT64_MAX); -1 if none. */
int64_t cmdq_wait_until(const struct cmdq *q);
/* The head waits for device operations. */
int cmdq_waiting_ops(const struct cmdq *q);
/* Number of commands that failed so far. */
unsigned cmdq_failures(const struct cmdq *q);
int cmdq_new_group(struct cmdq *q);
struct cmdq *cmdq_of(struct cmdq_item *item);

/* Results of a running command. */
void cmdq_item_reply(struct cmdq_item *item, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cmdq_item_vreply(struct cmdq_item *item, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
void cmdq_item_error(struct cmdq_item *item, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Keep the item waiting until released (device operations). */
void cmdq_item_hold(struct cmdq_item *item);
void cmdq_item_release(struct cmdq_item *item);
/* Keep the item waiting until session time t_us. */
void cmdq_item_wait_until(struct cmdq_item *item, int64_t t_us);
const char *cmdq_item_source(const struct cmdq_item *item);
const char *cmdq_item_name(const struct cmdq_item *item);
const struct cmd_client *cmdq_item_client(const struct cmdq_item *item);
int cmdq_item_group(const struct cmdq_item *item);
int cmdq_item_strict(const struct cmdq_item *item);
/* How many source commands led to this item. */
int cmdq_item_depth(const struct cmdq_item *item);
#define CMDQ_MAX_DEPTH 16

#endif
