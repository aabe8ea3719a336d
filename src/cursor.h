/*
 * cursor.h: where each transport is in each stream it reads, kept beside
 * the recording so that a restarted console resumes after the last event
 * it recorded (neither skipping what was published while it was down nor
 * recording it twice).
 *
 * A transport says, after handing events to the host, "everything I gave
 * you up to here is covered by VALUE under KEY" (sb_host_api.cursor_set).
 * The recorder's writer thread writes the table to LOGDIR/cursors only
 * after the rows of those events were written to their CSV files, from a
 * snapshot taken when those rows were handed over, so the file never
 * claims an event the CSV files do not hold. A console killed between the
 * two writes reads at most one flush (0.5 s, or what a slow disk held
 * back) again. Without a
 * recording the table lives in memory, across reloads of the plugin.
 *
 * LOGDIR/cursors: lines "VALUE SITE PLUGIN KEY" (KEY may hold spaces),
 * replaced whole by rename. Thread-safe: transports read it from their
 * network threads.
 */
#ifndef SB_CURSOR_H
#define SB_CURSOR_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct cursor_entry {
	char *key;		/* "SITE PLUGIN KEY" */
	uint64_t value;
};

struct cursor_table {
	pthread_mutex_t lock;
	struct cursor_entry *entries;
	size_t n, cap;
	char *path;		/* LOGDIR/cursors, or NULL */
	int dirty;		/* changed since written */
	int failed;		/* the last write failed (said once) */
};

void cursor_init(struct cursor_table *t);
void cursor_free(struct cursor_table *t);
/* Use DIR/cursors: read what it holds (merged over what is in memory). */
int cursor_attach(struct cursor_table *t, const char *dir, char **cause);
void cursor_detach(struct cursor_table *t);
uint64_t cursor_get(struct cursor_table *t, const char *key);
void cursor_set(struct cursor_table *t, const char *key, uint64_t value);
/* Write the table if it changed; 0, or -1 with *cause. */
int cursor_save(struct cursor_table *t, char **cause);
/*
 * cursor_save in two steps, for a writer thread: the snapshot (NULL if
 * unchanged; the buffer and *path are the caller's), taken where the rows
 * it covers are handed over, then its write once they are written, or
 * cursor_unsaved if they could not be.
 */
char *cursor_snapshot(struct cursor_table *t, size_t *len, char **path);
int cursor_write(struct cursor_table *t, const char *path, const char *buf,
    size_t len, char **cause);
void cursor_unsaved(struct cursor_table *t);
/* cursor_write's file alone (no table): 0, or an errno. */
int cursor_write_file(const char *path, const char *buf, size_t len);

#endif
