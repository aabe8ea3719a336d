/* cursor.c: transports' stream cursors, written after the rows they cover. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cursor.h"
#include "sched-hint.h"
#include "xmalloc.h"

/* An empty table. */
void
cursor_init(struct cursor_table *t)
{
	memset(t, 0, sizeof *t);
	/* shared by the engine (maybe SCHED_FIFO) and the recorder's writer */
	sb_mutex_init_pi(&t->lock);
}

/* Free everything. */
void
cursor_free(struct cursor_table *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->entries[i].key);
	free(t->entries);
	free(t->path);
	pthread_mutex_destroy(&t->lock);
}

/* The entry of key, or NULL (under the lock). */
static struct cursor_entry *
cursor_find(struct cursor_table *t, const char *key)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->entries[i].key, key) == 0)
			return &t->entries[i];
	return NULL;
}

/* Set key to value (under the lock). */
static void
cursor_put(struct cursor_table *t, const char *key, uint64_t value)
{
	struct cursor_entry *e = cursor_find(t, key);

	if (e == NULL) {
		if (t->n == t->cap) {
			t->cap = t->cap * 2 + 8;
			t->entries = xreallocarray(t->entries, t->cap,
			    sizeof *t->entries);
		}
		e = &t->entries[t->n++];
		e->key = xstrdup(key);
	}
	e->value = value;
}

/* Use dir/cursors from now on, reading what it holds. */
int
cursor_attach(struct cursor_table *t, const char *dir, char **cause)
{
	char *path, *line = NULL, *end;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	uint64_t value;
	FILE *f;

	xasprintf(&path, "%s/cursors", dir);
	pthread_mutex_lock(&t->lock);
	if ((f = fopen(path, "r")) != NULL) {
		while ((len = getline(&line, &cap, f)) > 0) {
			lineno++;
			if (line[len - 1] == '\n')
				line[--len] = '\0';
			errno = 0;
			value = strtoull(line, &end, 10);
			if (errno != 0 || end == line || *end != ' ' ||
			    end[1] == '\0') {
				xasprintf(cause, "%s:%zu: not \"VALUE SITE "
				    "PLUGIN KEY\": remove the file (readers "
				    "then join live) or fix the line", path,
				    lineno);
				fclose(f);
				free(line);
				pthread_mutex_unlock(&t->lock);
				free(path);
				return -1;
			}
			cursor_put(t, end + 1, value);
		}
		fclose(f);
		free(line);
	} else if (errno != ENOENT) {
		xasprintf(cause, "cannot read %s: %s", path, strerror(errno));
		pthread_mutex_unlock(&t->lock);
		free(path);
		return -1;
	}
	free(t->path);
	t->path = path;
	t->dirty = t->n > 0;
	pthread_mutex_unlock(&t->lock);
	return 0;
}

/* Stop writing the table to a file (recording stopped). */
void
cursor_detach(struct cursor_table *t)
{
	pthread_mutex_lock(&t->lock);
	free(t->path);
	t->path = NULL;
	pthread_mutex_unlock(&t->lock);
}

/* The value of key, or 0. */
uint64_t
cursor_get(struct cursor_table *t, const char *key)
{
	struct cursor_entry *e;
	uint64_t v;

	pthread_mutex_lock(&t->lock);
	e = cursor_find(t, key);
	v = e != NULL ? e->value : 0;
	pthread_mutex_unlock(&t->lock);
	return v;
}

/* Set key to value; written at the next save. */
void
cursor_set(struct cursor_table *t, const char *key, uint64_t value)
{
	pthread_mutex_lock(&t->lock);
	cursor_put(t, key, value);
	t->dirty = 1;
	pthread_mutex_unlock(&t->lock);
}

/*
 * The table as its file holds it, if it changed since the last snapshot
 * (NULL otherwise, or without a file): a buffer of *len bytes and, in
 * *path, where it goes (both the caller's to free). Taken by the thread
 * that hands rows to the recorder, right after them: the snapshot covers
 * exactly the rows handed over.
 */
char *
cursor_snapshot(struct cursor_table *t, size_t *len, char **path)
{
	char *buf = NULL;
	size_t i;
	FILE *m;

	*len = 0;
	*path = NULL;
	pthread_mutex_lock(&t->lock);
	if (!t->dirty || t->path == NULL) {
		pthread_mutex_unlock(&t->lock);
		return NULL;
	}
	if ((m = open_memstream(&buf, len)) == NULL)
		fatal("open_memstream failed");
	for (i = 0; i < t->n; i++)
		fprintf(m, "%" PRIu64 " %s\n", t->entries[i].value,
		    t->entries[i].key);
	fclose(m);
	*path = xstrdup(t->path);
	t->dirty = 0;
	pthread_mutex_unlock(&t->lock);
	return buf;
}

/* A snapshot was not written: the next one is taken whatever changes. */
void
cursor_unsaved(struct cursor_table *t)
{
	pthread_mutex_lock(&t->lock);
	t->dirty = 1;
	pthread_mutex_unlock(&t->lock);
}

/*
 * Write a snapshot to path (through path.tmp and a rename, so the file is
 * whole or the old one); 0, or -1 with *cause the first time in a run of
 * failures (the table stays dirty: the next flush tries again).
 */
/* The file of cursor_write, without the table: 0, or an errno. */
int
cursor_write_file(const char *path, const char *buf, size_t len)
{
	char *tmp = NULL;
	int fd, rc = 0, error = 0;

	xasprintf(&tmp, "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd != -1 && write(fd, buf, len) != (ssize_t)len) {
		error = errno;
		rc = -1;
	}
	if (fd == -1 || close(fd) != 0 || rc != 0 || rename(tmp, path) != 0) {
		if (error == 0)
			error = errno != 0 ? errno : EIO;
		(void)unlink(tmp);
	}
	free(tmp);
	return error;
}

int
cursor_write(struct cursor_table *t, const char *path, const char *buf,
    size_t len, char **cause)
{
	int rc, error;

	error = cursor_write_file(path, buf, len);
	rc = error != 0 ? -1 : 0;
	pthread_mutex_lock(&t->lock);
	if (rc != 0) {
		/* said once per run of failures, not at every flush */
		if (!t->failed)
			xasprintf(cause, "cannot write %s: %s (a restart "
			    "may read some events again)", path,
			    strerror(error));
		t->failed = 1;
		t->dirty = 1;
	} else
		t->failed = 0;
	pthread_mutex_unlock(&t->lock);
	return rc;
}

/* Write the table if it changed; 0, or -1 with *cause. */
int
cursor_save(struct cursor_table *t, char **cause)
{
	char *buf, *path;
	size_t len;
	int rc;

	if ((buf = cursor_snapshot(t, &len, &path)) == NULL)
		return 0;
	rc = cursor_write(t, path, buf, len, cause);
	free(buf);
	free(path);
	return rc;
}
