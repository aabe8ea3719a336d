/*
 * sync-gate.c: an LD_PRELOAD shim for tests that makes a relay's spool
 * syncs wait for the test. While the file named by SB_TEST_SYNC_GATE
 * exists, fdatasync() and fsync() first create GATE.entered (so the test
 * knows a sync is being held) and then wait until the test removes GATE
 * (at most 60 s, a bound against a test that died), before the real
 * call. Without SB_TEST_SYNC_GATE, or with no such file, they go through.
 * With SB_TEST_SYNC_DELAY_MS=N each call also takes N ms more (a slow
 * disk); with SB_TEST_SYNC_COUNT=FILE each call adds a byte to FILE.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Wait at the gate, then make the real call (looked up once). */
static int
sync_gate_call(const char *name, int (**real)(int), int fd)
{
	if (*real == NULL)
		*(void **)real = dlsym(RTLD_NEXT, name);
	sync_gate_wait();
	return (*real)(fd);
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
