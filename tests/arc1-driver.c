/* arc1-driver.c: start and steer the ArC ONE emulator (arc1-driver.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arc1-driver.h"

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t
arc1_emu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read stdout until a line starting with prefix; copy it. */
int
arc1_emu_wait_line(struct arc1_emu *e, const char *prefix, char *line,
    size_t len)
{
	int64_t deadline = arc1_emu_now_ms() + ARC1_EMU_DEADLINE_MS;
	struct pollfd pfd = { .fd = e->out, .events = POLLIN };
	char *nl, *start;
	ssize_t n;

	for (;;) {
		start = e->buf;
		while ((nl = memchr(start, '\n', e->len - (size_t)(start -
		    e->buf))) != NULL) {
			*nl = '\0';
			if (strncmp(start, prefix, strlen(prefix)) == 0) {
				if (line != NULL)
					snprintf(line, len, "%.*s",
					    (int)len - 1, start);
				e->len -= (size_t)(nl + 1 - e->buf);
				memmove(e->buf, nl + 1, e->len);
				return 0;
			}
			start = nl + 1;
		}
		/* drop the lines that did not match */
		e->len -= (size_t)(start - e->buf);
		memmove(e->buf, start, e->len);
		if (arc1_emu_now_ms() > deadline || e->len == sizeof e->buf)
			return -1;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = read(e->out, e->buf + e->len, sizeof e->buf - e->len);
		if (n <= 0)
			return -1;
		e->len += (size_t)n;
	}
}

/* Start the emulator with extra arguments (NULL-terminated). */
int
arc1_emu_start(struct arc1_emu *e, ...)
{
	const char *top = getenv("top_builddir"), *argv[32], *a;
	char prog[256];
	int pipefd[2], argc = 0;
	va_list ap;

	memset(e, 0, sizeof *e);
	e->out = -1;
	snprintf(e->dir, sizeof e->dir, "/tmp/sb-arc1-XXXXXX");
	if (mkdtemp(e->dir) == NULL)
		return -1;
	snprintf(e->port, sizeof e->port, "%s/ttyARC", e->dir);
	snprintf(e->fifo, sizeof e->fifo, "%s/control", e->dir);
	snprintf(prog, sizeof prog, "%s/tests/arc1-emu", top ? top : ".");
	argv[argc++] = prog;
	argv[argc++] = "--link";
	argv[argc++] = e->port;
	argv[argc++] = "--control";
	argv[argc++] = e->fifo;
	va_start(ap, e);
	while ((a = va_arg(ap, const char *)) != NULL && argc < 30)
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
		close(pipefd[0]);
		close(pipefd[1]);
		execv(prog, (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	e->out = pipefd[0];
	return arc1_emu_wait_line(e, "ready", NULL, 0);
}

/* Send a control command. */
int
arc1_emu_control(struct arc1_emu *e, const char *cmd)
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

/* A counter from the emulator's stats line. */
long
arc1_emu_stat(struct arc1_emu *e, const char *key)
{
	char line[512], want[64], *at;

	if (arc1_emu_control(e, "stats") != 0 ||
	    arc1_emu_wait_line(e, "stats", line, sizeof line) != 0)
		return -1;
	snprintf(want, sizeof want, " %s=", key);
	at = strstr(line, want);
	if (at == NULL)
		return -1;
	return strtol(at + strlen(want), NULL, 10);
}

/* The emulator's noise-free resistance of a device (1-based lines). */
double
arc1_emu_ohms(struct arc1_emu *e, unsigned w, unsigned b)
{
	char cmd[32], line[128];
	double r;

	snprintf(cmd, sizeof cmd, "ohms %u %u", w, b);
	if (arc1_emu_control(e, cmd) != 0 ||
	    arc1_emu_wait_line(e, "ohms", line, sizeof line) != 0 ||
	    sscanf(line, "ohms %*u %*u %lf", &r) != 1)
		return NAN;
	return r;
}

/* Stop the emulator and remove its files. */
void
arc1_emu_stop(struct arc1_emu *e)
{
	int status;

	if (e->pid > 0) {
		kill(e->pid, SIGTERM);
		waitpid(e->pid, &status, 0);
	}
	if (e->out >= 0)
		close(e->out);
	unlink(e->port);
	unlink(e->fifo);
	rmdir(e->dir);
}
