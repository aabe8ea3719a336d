/*
 * sync-gate.c: an LD_PRELOAD shim for tests that makes a relay's spool
 * syncs wait for the test. While the file named by SB_TEST_SYNC_GATE
 * exists, fdatasync() and fsync() first create GATE.entered (so the test
 * knows a sync is being held) and then wait until the test removes GATE
 * (at most 60 s, a bound against a test that died), before the real
 * call. Without SB_TEST_SYNC_GATE, or with no such file, they go through.
 * With SB_TEST_SYNC_DELAY_MS=N each call also takes N ms more (a slow
 * disk); with SB_TEST_SYNC_COUNT=FILE each call adds a byte to FILE;
 * with SB_TEST_SYNC_LOGS=FILE, FILE holds the most syncs of stream logs
 * (files named *.log) seen in progress at once. With
 * SB_TEST_WRITE_GATE_NAME=NAME, write() to a file named NAME waits at the
 * same gate (a disk that takes no writes).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SYNC_GATE_MAX_MS 60000

/* Count, slow down and hold the caller, as the environment asks. */
static void
sync_gate_wait(void)
{
	const char *gate = getenv("SB_TEST_SYNC_GATE");
	const char *delay = getenv("SB_TEST_SYNC_DELAY_MS");
	const char *count = getenv("SB_TEST_SYNC_COUNT");
	char entered[1024];
	ssize_t w;
	int fd, ms;

	if (count != NULL &&
	    (fd = open(count, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0600)) != -1) {
		w = write(fd, "s", 1);	/* counted or not, the sync goes on */
		(void)w;
		close(fd);
	}
	if (delay != NULL && atoi(delay) > 0)
		usleep((useconds_t)atoi(delay) * 1000);
	if (gate == NULL || access(gate, F_OK) != 0)
		return;
	snprintf(entered, sizeof entered, "%s.entered", gate);
	if ((fd = open(entered, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) != -1)
		close(fd);
	for (ms = 0; ms < SYNC_GATE_MAX_MS && access(gate, F_OK) == 0; ms++)
		usleep(1000);
}

/* Is fd a stream log (a file named *.log)? */
static int
sync_gate_is_log(int fd)
{
	char link[64], path[1024];
	ssize_t n;

	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	if ((n = readlink(link, path, sizeof path - 1)) < 4)
		return 0;
	path[n] = '\0';
	return strcmp(path + n - 4, ".log") == 0;
}

/* Syncs of stream logs in progress, and the most seen at once. */
static pthread_mutex_t sync_gate_lock = PTHREAD_MUTEX_INITIALIZER;
static int sync_gate_logs, sync_gate_logs_max;

/* Note one more log sync in progress (delta 1) or one fewer (-1). */
static void
sync_gate_logs_add(int fd, int delta)
{
	const char *file = getenv("SB_TEST_SYNC_LOGS");
	char buf[16];
	ssize_t w;
	int out;

	if (file == NULL || !sync_gate_is_log(fd))
		return;
	pthread_mutex_lock(&sync_gate_lock);
	sync_gate_logs += delta;
	if (sync_gate_logs > sync_gate_logs_max) {
		sync_gate_logs_max = sync_gate_logs;
		snprintf(buf, sizeof buf, "%d\n", sync_gate_logs_max);
		if ((out = open(file, O_WRONLY | O_CREAT | O_TRUNC |
		    O_CLOEXEC, 0600)) != -1) {
			w = write(out, buf, strlen(buf));
			(void)w;
			close(out);
		}
	}
	pthread_mutex_unlock(&sync_gate_lock);
}

/* Wait at the gate, then make the real call (looked up once). */
static int
sync_gate_call(const char *name, int (**real)(int), int fd)
{
	int rc;

	if (*real == NULL)
		*(void **)real = dlsym(RTLD_NEXT, name);
	sync_gate_logs_add(fd, 1);
	sync_gate_wait();
	rc = (*real)(fd);
	sync_gate_logs_add(fd, -1);
	return rc;
}

__attribute__((visibility("default"))) int
fdatasync(int fd)
{
	static int (*real)(int);

	return sync_gate_call("fdatasync", &real, fd);
}

__attribute__((visibility("default"))) int
fsync(int fd)
{
	static int (*real)(int);

	return sync_gate_call("fsync", &real, fd);
}

/* Is fd open on a file named name (the last part of its path)? */
static int
sync_gate_is_named(int fd, const char *name)
{
	char link[64], path[1024];
	size_t len = strlen(name);
	ssize_t n;

	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	if ((n = readlink(link, path, sizeof path - 1)) <= (ssize_t)len)
		return 0;
	path[n] = '\0';
	return path[n - len - 1] == '/' && strcmp(path + n - len, name) == 0;
}

__attribute__((visibility("default"))) ssize_t
write(int fd, const void *buf, size_t len)
{
	static ssize_t (*real)(int, const void *, size_t);
	const char *name = getenv("SB_TEST_WRITE_GATE_NAME");

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "write");
	if (name != NULL && *name != '\0' && sync_gate_is_named(fd, name))
		sync_gate_wait();
	return real(fd, buf, len);
}
