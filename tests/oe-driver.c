/* oe-driver.c: start and steer the Open Ephys GUI emulator (oe-driver.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fake-host.h"
#include "oe-driver.h"

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t
oe_emu_now_ms(void)
{
	return oe_emu_now_us() / 1000;
}

/* Microseconds of CLOCK_MONOTONIC. */
int64_t
oe_emu_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Split what is buffered into lines. */
static void
oe_emu_split(struct oe_emu *e)
{
	char *start = e->buf, *nl;
	int64_t now = oe_emu_now_us();

	while ((nl = memchr(start, '\n', e->len - (size_t)(start - e->buf))) !=
	    NULL) {
		*nl = '\0';
		if (e->nlines < OE_EMU_LINES) {
			snprintf(e->lines[e->nlines], OE_EMU_LINE, "%.*s",
			    OE_EMU_LINE - 1, start);
			e->line_mono_us[e->nlines++] = now;
		}
		start = nl + 1;
	}
	e->len -= (size_t)(start - e->buf);
	memmove(e->buf, start, e->len);
	if (e->len == sizeof e->buf)
		e->len = 0;	/* a line longer than the buffer: dropped */
}

/* Read what is waiting on the pipe, for at most ms. 0, or -1 at EOF. */
static int
oe_emu_pump(struct oe_emu *e, int ms)
{
	struct pollfd pfd = { .fd = e->out, .events = POLLIN };
	ssize_t n;

	if (e->out < 0)
		return -1;
	while (poll(&pfd, 1, ms) > 0) {
		n = read(e->out, e->buf + e->len, sizeof e->buf - e->len);
		if (n <= 0)
			return -1;
		e->len += (size_t)n;
		oe_emu_split(e);
		ms = 0;
	}
	return 0;
}

/* Read what it printed so far. */
void
oe_emu_read(struct oe_emu *e)
{
	oe_emu_pump(e, 0);
}

/* Wait for a line starting with prefix at or after *cursor. */
int
oe_emu_wait(struct oe_emu *e, const char *prefix, size_t *cursor, char *line,
    size_t len, int ms)
{
	int64_t deadline = oe_emu_now_ms() + ms;
	size_t i;

	for (;;) {
		for (i = *cursor; i < e->nlines; i++)
			if (strncmp(e->lines[i], prefix, strlen(prefix)) == 0) {
				if (line != NULL)
					snprintf(line, len, "%s", e->lines[i]);
				*cursor = i + 1;
				return 0;
			}
		if (oe_emu_now_ms() >= deadline)
			return -1;
		if (oe_emu_pump(e, 20) != 0)
			return -1;
	}
}

/* Start the emulator on free ports. */
int
oe_emu_start(struct oe_emu *e, ...)
{
	const char *top = getenv("top_builddir"), *argv[48], *a;
	char prog[256], line[OE_EMU_LINE];
	int pipefd[2], argc = 0, fd;
	size_t cursor = 0;
	va_list ap;

	memset(e, 0, sizeof *e);
	e->out = -1;
	e->lines = calloc(OE_EMU_LINES, sizeof *e->lines);
	e->line_mono_us = calloc(OE_EMU_LINES, sizeof *e->line_mono_us);
	if (e->lines == NULL || e->line_mono_us == NULL)
		return -1;
	snprintf(e->dir, sizeof e->dir, "/tmp/sb-oe-XXXXXX");
	if (mkdtemp(e->dir) == NULL)
		return -1;
	snprintf(e->fifo, sizeof e->fifo, "%s/control", e->dir);
	snprintf(e->errpath, sizeof e->errpath, "%s/stderr", e->dir);
	snprintf(prog, sizeof prog, "%s/tests/oe-emu", top ? top : ".");
	argv[argc++] = prog;
	argv[argc++] = "--http-port";
	argv[argc++] = "0";
	argv[argc++] = "--events-port";
	argv[argc++] = "0";
	argv[argc++] = "--network-events-port";
	argv[argc++] = "0";
	argv[argc++] = "--control";
	argv[argc++] = e->fifo;
	va_start(ap, e);
	while ((a = va_arg(ap, const char *)) != NULL && argc < 46)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	if (pipe(pipefd) != 0)
		return -1;
	e->pid = fork();
	if (e->pid < 0)
		return -1;
	if (e->pid == 0) {
		dup2(pipefd[1], 1);
		fd = open(e->errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0)
			dup2(fd, 2);
		close(pipefd[0]);
		close(pipefd[1]);
		execv(prog, (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	e->out = pipefd[0];
	fcntl(e->out, F_SETFD, FD_CLOEXEC);
	if (oe_emu_wait(e, "ready ", &cursor, line, sizeof line,
	    OE_EMU_DEADLINE_MS) != 0 || sscanf(line, "ready %u %u %u",
	    &e->http_port, &e->events_port, &e->ne_port) != 3)
		return -1;
	return 0;
}

/* Send a control command. */
int
oe_emu_control(struct oe_emu *e, const char *cmd)
{
	int fd = open(e->fifo, O_WRONLY);
	char line[128];
	ssize_t n;

	if (fd < 0)
		return -1;
	snprintf(line, sizeof line, "%s\n", cmd);
	n = write(fd, line, strlen(line));
	close(fd);
	return n == (ssize_t)strlen(line) ? 0 : -1;
}

/* A key=value number in a line. */
long long
oe_emu_field(const char *line, const char *key)
{
	char want[64];
	const char *at;
	size_t n;

	snprintf(want, sizeof want, "%s=", key);
	n = strlen(want);
	for (at = line; (at = strstr(at, want)) != NULL; at += n)
		if (at == line || at[-1] == ' ' || at[-1] == ',' || at[-1] ==
		    ':')
			return strtoll(at + n, NULL, 10);
	return -1;
}

/* A counter from the emulator's stats line. */
long
oe_emu_stat(struct oe_emu *e, const char *key)
{
	char line[OE_EMU_LINE];
	size_t cursor;

	oe_emu_read(e);
	cursor = e->nlines;
	if (oe_emu_control(e, "stats") != 0 || oe_emu_wait(e, "stats ",
	    &cursor, line, sizeof line, OE_EMU_DEADLINE_MS) != 0)
		return -1;
	return (long)oe_emu_field(line, key);
}

/* Stop the emulator and remove its files. */
void
oe_emu_stop(struct oe_emu *e)
{
	int status;

	if (e->pid > 0) {
		kill(e->pid, SIGTERM);
		waitpid(e->pid, &status, 0);
		e->pid = 0;
	}
	if (e->out >= 0)
		close(e->out);
	e->out = -1;
	if (getenv("OE_EMU_KEEP") == NULL) {
		unlink(e->errpath);
		unlink(e->fifo);
		rmdir(e->dir);
	}
	free(e->lines);
	free(e->line_mono_us);
	e->lines = NULL;
	e->line_mono_us = NULL;
}

/* What the host saw emitted, under a lock (the plugin's thread emits). */
static pthread_mutex_t oe_seen_lock = PTHREAD_MUTEX_INITIALIZER;
static struct oe_seen *oe_seen;
static size_t oe_nseen, oe_aseen;

struct sb_host_api oe_test_host;

/* host->emit: keep the event and when; -1 from the emitter's limit on. */
static int
oe_test_emit(struct sb_emitter *em, const struct sb_event *ev)
{
	struct oe_seen *grown;
	int64_t now = oe_emu_now_us();
	size_t n;
	int rc = 0;

	pthread_mutex_lock(&oe_seen_lock);
	if (oe_nseen >= em->limit)
		rc = -1;
	else if (oe_nseen == oe_aseen) {
		n = oe_aseen == 0 ? 4096 : oe_aseen * 2;
		if ((grown = realloc(oe_seen, n * sizeof *grown)) == NULL)
			rc = -1;
		else {
			oe_seen = grown;
			oe_aseen = n;
		}
	}
	if (rc == 0) {
		oe_seen[oe_nseen].ev = *ev;
		oe_seen[oe_nseen++].mono_us = now;
	}
	pthread_mutex_unlock(&oe_seen_lock);
	return rc;
}

/* The fake host with the stamping emit. */
void
oe_test_host_init(void)
{
	oe_test_host = fake_host;
	oe_test_host.emit = oe_test_emit;
}

/* How many events were emitted. */
size_t
oe_seen_count(void)
{
	size_t n;

	pthread_mutex_lock(&oe_seen_lock);
	n = oe_nseen;
	pthread_mutex_unlock(&oe_seen_lock);
	return n;
}

/* One of them. */
int
oe_seen_get(size_t i, struct oe_seen *out)
{
	int rc = -1;

	pthread_mutex_lock(&oe_seen_lock);
	if (i < oe_nseen) {
		*out = oe_seen[i];
		rc = 0;
	}
	pthread_mutex_unlock(&oe_seen_lock);
	return rc;
}

/* Forget them. */
void
oe_seen_clear(void)
{
	pthread_mutex_lock(&oe_seen_lock);
	free(oe_seen);
	oe_seen = NULL;
	oe_nseen = oe_aseen = 0;
	pthread_mutex_unlock(&oe_seen_lock);
}
