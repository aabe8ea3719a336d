/*
 * recorder.c: the CSV files of a recording directory, written by a thread
 * of their own.
 *
 * The engine adds rows to memory and, twice a second, hands them to the
 * writer thread (recorder_flush), which write()s them and then the stream
 * cursors that they cover. A disk that takes seconds to accept a write
 * (another program writing, a network file system, a dying disk) then
 * holds up only the writer: spikes go on being routed, links served and
 * commands run, while rows wait in memory (bounded per file: csvlog.h's
 * CSV_MAX_PENDING; beyond it rows are counted and reported as not
 * recorded, never dropped silently). When the engine wrote them itself, a
 * disk under a heavy writer stalled three consoles' loops here for 80 s.
 * Under --fast the engine waits for the writer instead (recorder_sync):
 * an offline run has no loop to keep and must not outrun the disk.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "clock.h"
#include "recorder.h"
#include "sched-hint.h"
#include "xmalloc.h"

/* A write in progress this long is said (the rows wait in memory). */
#define RECORDER_SLOW_US 2000000

struct recorder {
	char *dir;
	char *real;		/* its realpath when opened, or NULL */
	struct csv_file *files[CSV_KINDS];
	struct cursor_table *cursors;	/* written after the rows, or NULL */

	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work, done;
	int busy;		/* the writer holds the handed-over rows */
	int stop;
	int slow;		/* busy for RECORDER_SLOW_US, not caught up */
	int hold_cursors;	/* recorder_hold_cursors */
	int64_t busy_since;	/* monotonic us */
	int64_t last_write_us;	/* how long the last handing-over took */
	char *cursor_buf, *cursor_path;	/* the snapshot handed over */
	size_t cursor_len;
	char *error;		/* the last write's failure, or NULL */
	char *cursor_error;	/* said once by recorder_cursor_error */

	/* recorder_release: the writer ends by itself */
	int closing;		/* takes no rows: write the rest, then end */
	int ended;		/* the thread is done (recorder_ended) */
	int orphaned;		/* given up: the thread frees r at its end */
	int close_passes;	/* handings-over of the rest so far */
	char *final_buf, *final_path;	/* the cursors at the release */
	size_t final_len;
	uint64_t lost;		/* rows refused, at the end (files closed) */
	volatile sig_atomic_t *give_up;	/* recorder_give_up_on */
};

/*
 * A released recording's cursors: the session's table is no longer its
 * own (another recording may use it, or the session be gone), so the file
 * is written alone.
 */
static void
recorder_cursors_alone(const char *path, const char *buf, size_t len,
    char **cursor_error)
{
	int error;

	if ((error = cursor_write_file(path, buf, len)) != 0)
		xasprintf(cursor_error, "cannot write %s: %s (a restart may "
		    "read some events again)", path, strerror(error));
}

/* Write what was handed over, then the cursors it covers. */
static void
recorder_write(struct recorder *r, char **error, char **cursor_error)
{
	struct cursor_table *t;
	char *cause = NULL, *buf, *path;
	size_t len;
	int k, failed = 0;

	for (k = 0; k < CSV_KINDS; k++) {
		if (csv_file_write_out(r->files[k], &cause) != 0) {
			failed = 1;
			if (*error == NULL)
				*error = cause;
			else
				free(cause);
			cause = NULL;
		}
	}
	pthread_mutex_lock(&r->lock);
	t = r->cursors;
	buf = r->cursor_buf;
	path = r->cursor_path;
	len = r->cursor_len;
	r->cursor_buf = r->cursor_path = NULL;
	pthread_mutex_unlock(&r->lock);
	/* the file never claims an event the CSV files do not hold */
	if (buf != NULL && failed && t != NULL)
		cursor_unsaved(t);
	else if (buf != NULL && !failed && t != NULL)
		(void)cursor_write(t, path, buf, len, cursor_error);
	else if (buf != NULL && !failed)
		recorder_cursors_alone(path, buf, len, cursor_error);
	free(buf);
	free(path);
}

static void recorder_free(struct recorder *);

/*
 * Released (recorder_release): the engine adds no rows any more, so the
 * writer hands the rest over itself, with the cursors as they were at the
 * release once every row is handed over. A failed write ends it (its rows
 * stay unwritten: the error says so), as do three passes; one that failed
 * before the release is tried again first. Lock held; whether anything
 * was handed over.
 */
static int
recorder_take_rest(struct recorder *r)
{
	int k, any = 0, all = 1;

	/* a write that failed before the release is tried again once */
	if (r->close_passes >= 3 || (r->error != NULL && r->close_passes > 0))
		return 0;
	r->close_passes++;
	for (k = 0; k < CSV_KINDS; k++) {
		if (csv_file_handoff(r->files[k]))
			any = 1;
		if (csv_file_buffered(r->files[k]))
			all = 0;
	}
	if (all && r->final_buf != NULL && r->cursor_buf == NULL) {
		r->cursor_buf = r->final_buf;
		r->cursor_path = r->final_path;
		r->cursor_len = r->final_len;
		r->final_buf = r->final_path = NULL;
	}
	if (!any && r->cursor_buf == NULL)
		return 0;
	r->busy = 1;
	r->busy_since = clock_mono_us();
	return 1;
}

/*
 * A released recording's end, in its writer: what is left is written (a
 * last try after a failed pass), then the cursors if they were not, and
 * the files are closed here, so that nothing is written on the engine's
 * thread. Lock held on entry and on return.
 */
static void
recorder_close_files(struct recorder *r)
{
	char *error = NULL, *cause = NULL, *buf, *path;
	uint64_t lost = 0;
	size_t len;
	int k;

	buf = r->final_buf;
	path = r->final_path;
	len = r->final_len;
	r->final_buf = r->final_path = NULL;
	pthread_mutex_unlock(&r->lock);
	for (k = 0; k < CSV_KINDS; k++) {
		if (csv_file_flush(r->files[k], &cause) != 0) {
			if (error == NULL)
				error = cause;
			else
				free(cause);
			cause = NULL;
		}
		lost += csv_file_lost(r->files[k]);
		csv_file_close(r->files[k]);
		r->files[k] = NULL;
	}
	if (buf != NULL && error == NULL)
		recorder_cursors_alone(path, buf, len, &cause);
	free(buf);
	free(path);
	pthread_mutex_lock(&r->lock);
	free(r->error);		/* the last try's word is the last */
	r->error = error;
	r->lost = lost;
	if (cause != NULL) {
		free(r->cursor_error);
		r->cursor_error = cause;
	}
}

/*
 * The writer thread: writes each handing-over, until told to stop or,
 * released, until the rest is written.
 */
static void *
recorder_thread(void *arg)
{
	struct recorder *r = arg;
	char *error, *cursor_error;
	int orphaned;

	/* a thread that waits on the disk: never above the loop */
	(void)sb_sched_normal();
	pthread_mutex_lock(&r->lock);
	for (;;) {
		while (!r->busy && !r->stop && !r->closing)
			pthread_cond_wait(&r->work, &r->lock);
		if (!r->busy && r->closing)
			(void)recorder_take_rest(r);
		if (!r->busy)
			break;
		pthread_mutex_unlock(&r->lock);
		error = cursor_error = NULL;
		recorder_write(r, &error, &cursor_error);
		pthread_mutex_lock(&r->lock);
		r->last_write_us = clock_mono_us() - r->busy_since;
		free(r->error);
		r->error = error;
		if (cursor_error != NULL) {
			free(r->cursor_error);
			r->cursor_error = cursor_error;
		}
		r->busy = 0;
		pthread_cond_broadcast(&r->done);
	}
	if (r->closing)
		recorder_close_files(r);	/* unlocks, then locks again */
	r->ended = 1;
	pthread_cond_broadcast(&r->done);
	orphaned = r->orphaned;
	pthread_mutex_unlock(&r->lock);
	/* recorder_finish stopped waiting for it: it is this thread's now */
	if (orphaned) {
		pthread_cond_destroy(&r->done);
		pthread_cond_destroy(&r->work);
		pthread_mutex_destroy(&r->lock);
		recorder_free(r);
	}
	return NULL;
}

/* Create dir (and parents) if missing. */
static int
recorder_mkdir(const char *dir, char **cause)
{
	char *copy = xstrdup(dir), *p;
	struct stat st;

	for (p = copy + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0777) != 0 && errno != EEXIST) {
			xasprintf(cause, "cannot create %s: %s", copy,
			    strerror(errno));
			free(copy);
			return -1;
		}
		*p = '/';
	}
	free(copy);
	if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
		xasprintf(cause, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		xasprintf(cause, "%s is not a directory", dir);
		return -1;
	}
	return 0;
}

/* Free the files and r (no thread). */
static void
recorder_free(struct recorder *r)
{
	int k;

	for (k = 0; k < CSV_KINDS; k++)
		csv_file_close(r->files[k]);
	free(r->cursor_buf);
	free(r->cursor_path);
	free(r->final_buf);
	free(r->final_path);
	free(r->error);
	free(r->cursor_error);
	free(r->dir);
	free(r->real);
	free(r);
}

/* Open (or append to) the files in dir and start their writer. */
struct recorder *
recorder_open(const char *dir, struct cursor_table *cursors, char **cause)
{
	struct recorder *r;
	char *path;
	int k, error;

	if (recorder_mkdir(dir, cause) != 0)
		return NULL;
	r = xcalloc(1, sizeof *r);
	r->dir = xstrdup(dir);
	/* taken now: once stopped its disk may not answer (recorder_real) */
	r->real = realpath(dir, NULL);
	r->cursors = cursors;
	for (k = 0; k < CSV_KINDS; k++) {
		xasprintf(&path, "%s/%s.csv", dir, csv_kind_names[k]);
		r->files[k] = csv_file_open_buffered(path, (enum csv_kind)k,
		    cause);
		free(path);
		if (r->files[k] == NULL) {
			recorder_free(r);
			return NULL;
		}
	}
	/* the engine may run under SCHED_FIFO: the writer must not hold it */
	sb_mutex_init_pi(&r->lock);
	pthread_cond_init(&r->work, NULL);
	pthread_cond_init(&r->done, NULL);
	if ((error = sb_thread_create_normal(&r->thread, recorder_thread,
	    r)) != 0) {
		xasprintf(cause, "cannot start the thread that writes %s: %s",
		    dir, strerror(error));
		pthread_cond_destroy(&r->done);
		pthread_cond_destroy(&r->work);
		pthread_mutex_destroy(&r->lock);
		recorder_free(r);
		return NULL;
	}
	(void)pthread_setname_np(r->thread, "recorder");
	return r;
}

/* Buffer one row. */
void
recorder_row(struct recorder *r, const struct csv_row *row)
{
	csv_file_row(r->files[row->kind], row);
}

/*
 * Hand the buffered rows (and the cursor snapshot that covers them) to
 * the writer, unless it is still writing the last ones. Lock held.
 */
static void
recorder_handoff(struct recorder *r)
{
	int k, any = 0, all = 1;

	if (r->busy)
		return;
	/* caught up: idle, and its last write was quick */
	if (r->last_write_us < RECORDER_SLOW_US / 4)
		r->slow = 0;
	for (k = 0; k < CSV_KINDS; k++) {
		if (csv_file_handoff(r->files[k]))
			any = 1;
		if (csv_file_buffered(r->files[k]))
			all = 0;	/* rows from a failed write go first */
	}
	/*
	 * The cursors cover every row added so far: only when all of them
	 * are handed over may their snapshot follow them to disk.
	 */
	if (all && !r->hold_cursors && r->cursors != NULL &&
	    r->cursor_buf == NULL)
		r->cursor_buf = cursor_snapshot(r->cursors, &r->cursor_len,
		    &r->cursor_path);
	if (!any && r->cursor_buf == NULL)
		return;
	r->busy = 1;
	r->busy_since = clock_mono_us();
	pthread_cond_signal(&r->work);
}

/*
 * Wait for the writer (lock held): until it is not busy, or until it has
 * ended (until_ended, a released recording). Each 5 s of it is said on
 * stderr, so that a quit held up by a disk that takes nothing says why it
 * waits. Returns -1 once the wait is given up (recorder_give_up_on), else
 * 0.
 */
static int
recorder_await(struct recorder *r, int until_ended)
{
	struct timespec ts;
	int64_t said = clock_mono_us();

	while (until_ended ? !r->ended : r->busy) {
		if (r->give_up != NULL && *r->give_up)
			return -1;
		clock_real_in(&ts, 200000);
		(void)pthread_cond_timedwait(&r->done, &r->lock, &ts);
		if (r->busy && clock_mono_us() - said >= 5000000) {
			said = clock_mono_us();
			fprintf(stderr, "record: waiting for the disk to take "
			    "the rows of %s (it has taken none for %.0f s)%s\n",
			    r->dir, (said - r->busy_since) / 1e6,
			    r->give_up != NULL ? "; a second signal stops "
			    "waiting" : "");
		}
	}
	return 0;
}

/*
 * The writer's last result as the flush's: 0, or -1 with *cause (a copy).
 * A slow disk is said from RECORDER_SLOW_US into one write until the
 * writer has caught up (idle at a handing-over, after a write that took
 * under a quarter of that), so that a disk just slower than that is not
 * said and unsaid at every write. Lock held.
 */
static int
recorder_result(struct recorder *r, char **cause)
{
	if (r->error != NULL) {
		*cause = xstrdup(r->error);
		return -1;
	}
	if (r->busy && clock_mono_us() - r->busy_since >= RECORDER_SLOW_US)
		r->slow = 1;
	if (r->slow) {
		xasprintf(cause, "%s: the disk has taken no rows for %d s or "
		    "more: rows wait in memory (up to %u MB a file, then they "
		    "are counted as not recorded); if it goes on, record stop "
		    "and record start on a disk that is less busy", r->dir,
		    RECORDER_SLOW_US / 1000000, CSV_MAX_PENDING >> 20);
		return -1;
	}
	return 0;
}

int
recorder_flush(struct recorder *r, char **cause)
{
	int rc;

	pthread_mutex_lock(&r->lock);
	recorder_handoff(r);
	rc = recorder_result(r, cause);
	pthread_mutex_unlock(&r->lock);
	return rc;
}

int
recorder_sync(struct recorder *r, char **cause)
{
	int rc, pass;

	pthread_mutex_lock(&r->lock);
	/*
	 * The writer may be busy with older rows: wait, hand the rest over,
	 * wait again. Rows left from a failed write go again in the second
	 * pass, behind which the newest rows (and the cursors) wait.
	 */
	for (pass = 0; pass < 3; pass++) {
		if (recorder_await(r, 0) != 0)
			goto gave_up;
		if (pass > 0 && r->error != NULL)
			break;
		recorder_handoff(r);
		if (!r->busy)
			break;
	}
	if (recorder_await(r, 0) != 0)
		goto gave_up;
	rc = recorder_result(r, cause);
	pthread_mutex_unlock(&r->lock);
	return rc;
gave_up:
	xasprintf(cause, "%s: stopped waiting for the disk (a second "
	    "signal): the rows of the last %.0f s may not be in it", r->dir,
	    (clock_mono_us() - r->busy_since) / 1e6 + 0.5);
	pthread_mutex_unlock(&r->lock);
	return -1;
}

void
recorder_hold_cursors(struct recorder *r, int hold)
{
	pthread_mutex_lock(&r->lock);
	r->hold_cursors = hold;
	pthread_mutex_unlock(&r->lock);
}

/* One of r's flags, read under its lock. */
static int
recorder_flag(struct recorder *r, const int *flag)
{
	int v;

	pthread_mutex_lock(&r->lock);
	v = *flag;
	pthread_mutex_unlock(&r->lock);
	return v;
}

int
recorder_busy(struct recorder *r)
{
	return recorder_flag(r, &r->busy);
}

uint64_t
recorder_lost(struct recorder *r)
{
	uint64_t n = 0;
	int k;

	pthread_mutex_lock(&r->lock);
	if (!r->busy)
		for (k = 0; k < CSV_KINDS; k++)
			n += csv_file_lost(r->files[k]);
	pthread_mutex_unlock(&r->lock);
	return n;
}

char *
recorder_cursor_error(struct recorder *r)
{
	char *e;

	pthread_mutex_lock(&r->lock);
	e = r->cursor_error;
	r->cursor_error = NULL;
	pthread_mutex_unlock(&r->lock);
	return e;
}

void
recorder_release(struct recorder *r)
{
	pthread_mutex_lock(&r->lock);
	/* the cursors cover every row added: written after the last one */
	if (!r->hold_cursors && r->cursors != NULL)
		r->final_buf = cursor_snapshot(r->cursors, &r->final_len,
		    &r->final_path);
	/* from here the session's table is not this recording's */
	r->cursors = NULL;
	r->closing = 1;
	pthread_cond_signal(&r->work);
	pthread_mutex_unlock(&r->lock);
}

int
recorder_ended(struct recorder *r)
{
	return recorder_flag(r, &r->ended);
}

void
recorder_give_up_on(struct recorder *r, volatile sig_atomic_t *flag)
{
	pthread_mutex_lock(&r->lock);
	r->give_up = flag;
	pthread_cond_broadcast(&r->done);
	pthread_mutex_unlock(&r->lock);
}

int
recorder_finish(struct recorder *r, char **cause)
{
	int rc = 0;

	pthread_mutex_lock(&r->lock);
	if (recorder_await(r, 1) != 0) {
		xasprintf(cause, "%s: stopped waiting for the disk (a second "
		    "signal): the rows of the last %.0f s may not be in it",
		    r->dir, r->busy ? (clock_mono_us() - r->busy_since) / 1e6 +
		    0.5 : 0.0);
		/* the writer is still in the disk's hands: it frees r if it
		 * ever ends (it no longer touches the session's cursors) */
		r->orphaned = 1;
		pthread_detach(r->thread);
		pthread_mutex_unlock(&r->lock);
		return -2;
	}
	if (r->error != NULL) {
		*cause = r->error;
		r->error = NULL;
		rc = -1;
	} else if (r->lost > 0) {
		xasprintf(cause, "%s: %llu rows were not recorded (see the "
		    "log)", r->dir, (unsigned long long)r->lost);
		rc = -1;
	} else if (r->cursor_error != NULL) {
		*cause = r->cursor_error;	/* the rows are all there */
		r->cursor_error = NULL;
		rc = 1;
	}
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	pthread_cond_destroy(&r->done);
	pthread_cond_destroy(&r->work);
	pthread_mutex_destroy(&r->lock);
	recorder_free(r);
	return rc;
}

/* Write what is left, stop the writer and close. */
void
recorder_close(struct recorder *r)
{
	char *cause = NULL;

	if (r == NULL)
		return;
	(void)recorder_sync(r, &cause);
	free(cause);
	cause = NULL;
	recorder_release(r);
	(void)recorder_finish(r, &cause);
	free(cause);
}

/* The directory recorded to. */
const char *
recorder_dir(const struct recorder *r)
{
	return r->dir;
}

/* Its realpath as it was opened (no lookup on its disk now), or dir. */
const char *
recorder_real(const struct recorder *r)
{
	return r->real != NULL ? r->real : r->dir;
}

/* Rows added so far over all files (written, or still in memory). */
uint64_t
recorder_rows(const struct recorder *r)
{
	uint64_t n = 0;
	int k;

	for (k = 0; k < CSV_KINDS; k++)
		n += csv_file_rows(r->files[k]);
	return n;
}
