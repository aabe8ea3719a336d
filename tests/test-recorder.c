/*
 * test-recorder.c: a recording whose disk stops taking writes holds up
 * nobody but the recorder's writer thread.
 *
 * write(2) is replaced in this program by one that, while the gate is
 * shut, blocks every write to a file named spikes.csv: a disk that takes
 * no writes (a heavy writer beside the console, a hung network file
 * system). recorder_flush must still return at once, say that the disk is
 * slow once it has been for 2 s, never write the cursors file ahead of
 * the rows it covers, and, once the gate opens, every row must be on disk
 * whole and in order. A recorder that wrote from the calling thread
 * blocks in recorder_flush here; the alarm then fails the test. The same
 * write(2) can also fail once (a full disk), for the cursors' order.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/syscall.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "clock.h"
#include "cursor.h"
#include "recorder.h"
#include "test-gate.h"
#include "xmalloc.h"

#define DEADLINE_US 30000000	/* for each condition waited on */

static unsigned gate_waiting;	/* writes blocked at the gate now */
static int fail_next;		/* the next write to spikes.csv: ENOSPC */
static long write_delay_us;	/* each write to spikes.csv takes this */

/* Is fd open on a file named spikes.csv? */
static int
gated_fd(int fd)
{
	char link[64], path[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	if ((n = readlink(link, path, sizeof path - 1)) <= 0)
		return 0;
	path[n] = '\0';
	n = (ssize_t)strlen(path);
	return n >= 11 && strcmp(path + n - 11, "/spikes.csv") == 0;
}

/* write(2), held while the gate is shut for spikes.csv. */
ssize_t
write(int fd, const void *buf, size_t len)
{
	long delay;

	if (gated_fd(fd)) {
		pthread_mutex_lock(&gate_lock);
		if (fail_next) {
			fail_next = 0;
			pthread_mutex_unlock(&gate_lock);
			errno = ENOSPC;
			return -1;
		}
		gate_waiting++;
		pthread_cond_broadcast(&gate_cond);
		while (gate_shut)
			pthread_cond_wait(&gate_cond, &gate_lock);
		gate_waiting--;
		delay = write_delay_us;
		pthread_mutex_unlock(&gate_lock);
		if (delay > 0) {
			/* a disk that takes this long for each write */
			struct timespec ts = { delay / 1000000,
			    (delay % 1000000) * 1000 };

			nanosleep(&ts, NULL);
		}
	}
	return syscall(SYS_write, fd, buf, len);
}

/* Wait (with the deadline) until a write is held at the gate. */
static int
gate_wait_held(void)
{
	struct timespec ts;
	int rc = 0, held;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += DEADLINE_US / 1000000;
	pthread_mutex_lock(&gate_lock);
	while (gate_waiting == 0 && rc == 0)
		rc = pthread_cond_timedwait(&gate_cond, &gate_lock, &ts);
	held = gate_waiting > 0;
	pthread_mutex_unlock(&gate_lock);
	return held ? 0 : -1;
}

static void
pause_ms(int ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

/* recorder_flush, which must return at once (well within 1 s). */
static int
flush_now(struct recorder *r, char **cause)
{
	int64_t t0 = clock_mono_us();
	int rc = recorder_flush(r, cause);

	assert_true(clock_mono_us() - t0 < 1000000);
	return rc;
}

/* Remove the test's directory (only its own). */
static void
remove_dir(const char *dir)
{
	char *cmd;

	xasprintf(&cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static void
add_spikes(struct recorder *r, unsigned from, unsigned n)
{
	struct csv_row row;
	unsigned i;

	memset(&row, 0, sizeof row);
	row.kind = CSV_SPIKES;
	row.u.spike.site = "a";
	row.u.spike.population = "mea";
	for (i = from; i < from + n; i++) {
		row.u.spike.t_us = (int64_t)i * 100;
		row.u.spike.unit = i;
		recorder_row(r, &row);
	}
}

struct readback {
	unsigned n, bad;
};

static int
count_row(void *ctx, const struct csv_row *row)
{
	struct readback *rb = ctx;

	if (row->u.spike.unit != rb->n ||
	    row->u.spike.t_us != (int64_t)rb->n * 100)
		rb->bad++;
	rb->n++;
	return 0;
}

static char *
file_text(const char *path)
{
	char *text = NULL;
	size_t cap = 0;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	if (getdelim(&text, &cap, '\0', f) < 0) {
		free(text);
		text = xstrdup("");
	}
	fclose(f);
	return text;
}

/* spikes.csv holds exactly units 0..n-1, in order. */
static void
assert_spikes(const char *path, unsigned n)
{
	struct readback rb = { 0, 0 };
	char *cause = NULL;

	assert_int_equal(csv_read_file(path, CSV_SPIKES, count_row, &rb,
	    &cause), 0);
	assert_int_equal(rb.n, n);
	assert_int_equal(rb.bad, 0);
}

/* The cursors file says value for the test's one key. */
static void
assert_cursors(const char *path, unsigned value)
{
	char *text = file_text(path), want[64];

	snprintf(want, sizeof want, "%u b relay 7 a/mea\n", value);
	assert_non_null(text);
	assert_string_equal(text, want);
	free(text);
}

/*
 * A recorder on a new directory, with a cursor table attached to it; the
 * paths of its spikes.csv and cursors files.
 */
static struct recorder *
open_recording(char *dir, struct cursor_table *t, char **spikes,
    char **cursors)
{
	struct recorder *r;
	char *cause = NULL;

	assert_non_null(mkdtemp(dir));
	xasprintf(spikes, "%s/spikes.csv", dir);
	xasprintf(cursors, "%s/cursors", dir);
	cursor_init(t);
	r = recorder_open(dir, t, &cause);
	assert_non_null(r);
	assert_int_equal(cursor_attach(t, dir, &cause), 0);
	return r;
}

static void
test_slow_disk(void **state)
{
	char dir[] = "/tmp/sb-test-recorder-XXXXXX", *cause = NULL;
	char *spikes, *cursors, *tmp;
	struct cursor_table t;
	struct recorder *r;
	struct stat st;
	int64_t t0, start;
	int rc;

	(void)state;
	assert_non_null(mkdtemp(dir));
	xasprintf(&spikes, "%s/spikes.csv", dir);
	xasprintf(&cursors, "%s/cursors", dir);
	xasprintf(&tmp, "%s/cursors.tmp", dir);
	cursor_init(&t);
	r = recorder_open(dir, &t, &cause);
	assert_non_null(r);
	assert_int_equal(cursor_attach(&t, dir, &cause), 0);

	/* the disk stops taking writes; the engine goes on */
	gate_set(1);
	alarm(60);	/* a flush that waits for the disk never returns */
	add_spikes(r, 0, 1000);
	cursor_set(&t, "b relay 7 a/mea", 1000);
	t0 = clock_mono_us();
	assert_int_equal(flush_now(r, &cause), 0);
	assert_int_equal(gate_wait_held(), 0);
	add_spikes(r, 1000, 1000);
	cursor_set(&t, "b relay 7 a/mea", 2000);
	/* said once the disk has been slow for a while, never before 2 s */
	start = clock_mono_us();
	while ((rc = flush_now(r, &cause)) == 0 &&
	    clock_mono_us() - start < DEADLINE_US)
		pause_ms(20);
	assert_int_equal(rc, -1);
	assert_true(clock_mono_us() - t0 >= 2000000);
	assert_non_null(strstr(cause, "the disk has taken no rows"));
	assert_non_null(strstr(cause, dir));
	free(cause);
	cause = NULL;
	/* the cursors never claim rows the files do not hold */
	assert_int_not_equal(stat(cursors, &st), 0);
	assert_int_not_equal(stat(tmp, &st), 0);
	alarm(0);

	/* the disk comes back: the flushes say so, every row is there */
	gate_set(0);
	start = clock_mono_us();
	while ((rc = recorder_flush(r, &cause)) != 0 &&
	    clock_mono_us() - start < DEADLINE_US) {
		free(cause);
		cause = NULL;
		pause_ms(20);
	}
	assert_int_equal(rc, 0);
	add_spikes(r, 2000, 500);	/* buffered only: close writes them */
	cursor_set(&t, "b relay 7 a/mea", 2500);
	recorder_close(r);
	assert_spikes(spikes, 2500);
	assert_cursors(cursors, 2500);

	cursor_free(&t);
	free(spikes);
	free(cursors);
	free(tmp);
	remove_dir(dir);
}

/*
 * Flushes that follow each other faster than the writer writes lose no
 * row and mix none up; recorder_sync returns once all are on disk.
 */
static void
test_sync_writes_everything(void **state)
{
	char dir[] = "/tmp/sb-test-recorder-XXXXXX", *cause = NULL, *path;
	struct cursor_table t;
	struct recorder *r;
	int i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	cursor_init(&t);
	r = recorder_open(dir, &t, &cause);
	assert_non_null(r);
	/* many handings-over in a row, each while the last may be written */
	for (i = 0; i < 200; i++) {
		add_spikes(r, (unsigned)i * 50, 50);
		assert_int_equal(flush_now(r, &cause), 0);
	}
	assert_int_equal(recorder_sync(r, &cause), 0);
	xasprintf(&path, "%s/spikes.csv", dir);
	/* written by the time recorder_sync returned, before close */
	assert_spikes(path, 200 * 50);
	assert_int_equal(recorder_rows(r), 200 * 50);
	recorder_close(r);
	cursor_free(&t);
	free(path);
	remove_dir(dir);
}

/*
 * A write that fails (a full disk) keeps its rows for the next; the
 * cursors, which cover the rows added after, wait until those are written
 * too, never claiming rows that are not on disk.
 */
static void
test_failed_write_keeps_order(void **state)
{
	char dir[] = "/tmp/sb-test-recorder-XXXXXX", *cause = NULL;
	char *spikes, *cursors, *text;
	struct cursor_table t;
	struct recorder *r;
	int64_t start;

	(void)state;
	r = open_recording(dir, &t, &spikes, &cursors);

	add_spikes(r, 0, 100);
	cursor_set(&t, "b relay 7 a/mea", 100);
	pthread_mutex_lock(&gate_lock);
	fail_next = 1;
	pthread_mutex_unlock(&gate_lock);
	assert_int_equal(flush_now(r, &cause), 0);
	start = clock_mono_us();
	while (recorder_busy(r) && clock_mono_us() - start < DEADLINE_US)
		pause_ms(5);
	assert_false(recorder_busy(r));
	/* the failure is the next flush's answer; rows 0-99 wait in memory */
	add_spikes(r, 100, 100);
	cursor_set(&t, "b relay 7 a/mea", 200);
	assert_int_equal(flush_now(r, &cause), -1);
	assert_non_null(strstr(cause, "No space left on device"));
	free(cause);
	cause = NULL;
	/* that flush wrote rows 0-99 only: no cursors yet, or not past 100 */
	start = clock_mono_us();
	while (recorder_busy(r) && clock_mono_us() - start < DEADLINE_US)
		pause_ms(5);
	assert_false(recorder_busy(r));
	assert_spikes(spikes, 100);
	text = file_text(cursors);
	assert_true(text == NULL || strcmp(text, "100 b relay 7 a/mea\n") == 0);
	free(text);
	/* then the rest, and the cursors that cover it */
	assert_int_equal(recorder_sync(r, &cause), 0);
	assert_spikes(spikes, 200);
	assert_cursors(cursors, 200);
	assert_int_equal(recorder_lost(r), 0);
	recorder_close(r);
	cursor_free(&t);
	free(spikes);
	free(cursors);
	remove_dir(dir);
}

/*
 * A disk just slower than the 2 s the slow-disk message waits for: said
 * once, and not unsaid at each write while it stays that slow; unsaid
 * once it is quick again.
 */
static void
test_slow_disk_said_once(void **state)
{
	char dir[] = "/tmp/sb-test-recorder-XXXXXX", *cause = NULL;
	struct recorder *r;
	int64_t start;
	unsigned i = 0;
	int rc, said = 0, unsaid = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	r = recorder_open(dir, NULL, &cause);
	assert_non_null(r);
	pthread_mutex_lock(&gate_lock);
	write_delay_us = 2300000;
	pthread_mutex_unlock(&gate_lock);
	/* rows every 100 ms, a flush every 500 ms, for 3 slow writes */
	start = clock_mono_us();
	while (clock_mono_us() - start < 7500000) {
		add_spikes(r, i, 10);
		i += 10;
		if (i % 50 == 0) {
			rc = flush_now(r, &cause);
			if (rc != 0) {
				assert_non_null(strstr(cause,
				    "the disk has taken no rows"));
				free(cause);
				cause = NULL;
				said = 1;
			} else if (said)
				unsaid++;
		}
		pause_ms(100);
	}
	assert_true(said);
	assert_int_equal(unsaid, 0);
	/* quick again: unsaid once the writer has caught up */
	pthread_mutex_lock(&gate_lock);
	write_delay_us = 0;
	pthread_mutex_unlock(&gate_lock);
	start = clock_mono_us();
	while ((rc = flush_now(r, &cause)) != 0 &&
	    clock_mono_us() - start < DEADLINE_US) {
		free(cause);
		cause = NULL;
		pause_ms(50);
	}
	assert_int_equal(rc, 0);
	recorder_close(r);
	remove_dir(dir);
}

/* Threads of this process (the test's own and any writer left). */
static int
thread_count(void)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	assert_non_null(d = opendir("/proc/self/task"));
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Wait (with the deadline) until the released recorder's writer ends. */
static int
wait_ended(struct recorder *r)
{
	int64_t start = clock_mono_us();

	while (!recorder_ended(r)) {
		if (clock_mono_us() - start > DEADLINE_US)
			return -1;
		pause_ms(10);
	}
	return 0;
}

/*
 * Released while the disk takes nothing (record stop in real time): the
 * release returns at once; the writer writes the rest once the disk is
 * back, then the cursors as they were at the release (not as they are
 * after it), and ends.
 */
static void
test_release_on_slow_disk(void **state)
{
	char dir[] = "/tmp/sb-test-recorder-XXXXXX", *cause = NULL;
	char *spikes, *cursors;
	struct cursor_table t;
	struct recorder *r;
	int64_t t0;

	(void)state;
	r = open_recording(dir, &t, &spikes, &cursors);
	gate_set(1);
	add_spikes(r, 0, 1000);
	cursor_set(&t, "b relay 7 a/mea", 1000);
	assert_int_equal(flush_now(r, &cause), 0);
	assert_int_equal(gate_wait_held(), 0);
	add_spikes(r, 1000, 500);	/* buffered, not handed over */
	cursor_set(&t, "b relay 7 a/mea", 1500);
	t0 = clock_mono_us();
	recorder_release(r);
	assert_true(clock_mono_us() - t0 < 1000000);
	/* the engine goes on: its cursors move, the stopped files not */
	cursor_detach(&t);
	cursor_set(&t, "b relay 7 a/mea", 9999);
	pause_ms(50);
	assert_int_equal(recorder_ended(r), 0);
	gate_set(0);
	assert_int_equal(wait_ended(r), 0);
	assert_int_equal(recorder_finish(r, &cause), 0);
	assert_null(cause);
	assert_spikes(spikes, 1500);
	assert_cursors(cursors, 1500);
	cursor_free(&t);
	free(spikes);
	free(cursors);
	remove_dir(dir);
}

/*
 * At quit, a wait for a disk that takes nothing is given up once the
 * flag is set: recorder_finish says so (-2) and leaves the recorder to
 * its writer, which frees it if the disk comes back.
 */
static void
test_release_give_up(void **state)
{
	char dir[] = "/tmp/sb-test-recorder-XXXXXX", *cause = NULL;
	volatile sig_atomic_t give_up = 0;
	struct recorder *r;
	int64_t t0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	r = recorder_open(dir, NULL, &cause);
	assert_non_null(r);
	gate_set(1);
	add_spikes(r, 0, 100);
	assert_int_equal(flush_now(r, &cause), 0);
	assert_int_equal(gate_wait_held(), 0);
	recorder_give_up_on(r, &give_up);
	recorder_release(r);
	give_up = 1;
	t0 = clock_mono_us();
	assert_int_equal(recorder_finish(r, &cause), -2);
	assert_true(clock_mono_us() - t0 < 2000000);
	assert_non_null(strstr(cause, "stopped waiting for the disk"));
	assert_non_null(strstr(cause, dir));
	free(cause);
	/* the disk comes back: the writer ends and frees it (no leak) */
	gate_set(0);
	t0 = clock_mono_us();
	while (thread_count() > 1 && clock_mono_us() - t0 < DEADLINE_US)
		pause_ms(10);
	assert_int_equal(thread_count(), 1);
	remove_dir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slow_disk),
		cmocka_unit_test(test_sync_writes_everything),
		cmocka_unit_test(test_failed_write_keeps_order),
		cmocka_unit_test(test_slow_disk_said_once),
		cmocka_unit_test(test_release_on_slow_disk),
		cmocka_unit_test(test_release_give_up),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
