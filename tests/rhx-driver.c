/* rhx-driver.c: start and steer the RHX emulator (rhx-driver.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rhx-driver.h"

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t
rhx_emu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read stdout until a line starting with prefix; copy it. */
int
rhx_emu_wait_line(struct rhx_emu *e, const char *prefix, char *line,
    size_t len, int ms)
{
	int64_t deadline = rhx_emu_now_ms() + (ms > 0 ? ms :
	    RHX_EMU_DEADLINE_MS);
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
		if (e->len == sizeof e->buf)
			e->len = 0;	/* a line too long to keep */
		if (rhx_emu_now_ms() > deadline)
			return -1;
		if (poll(&pfd, 1, 20) <= 0)
			continue;
		n = read(e->out, e->buf + e->len, sizeof e->buf - e->len);
		if (n <= 0)
			return -1;
		e->len += (size_t)n;
	}
}

/* Start the emulator with extra arguments (NULL-terminated). */
int
rhx_emu_start(struct rhx_emu *e, ...)
{
	const char *top = getenv("top_builddir"), *argv[40], *a;
	char prog[256], line[128];
	int pipefd[2], argc = 0;
	va_list ap;

	memset(e, 0, sizeof *e);
	e->out = -1;
	snprintf(e->dir, sizeof e->dir, "/tmp/sb-rhx-XXXXXX");
	if (mkdtemp(e->dir) == NULL)
		return -1;
	snprintf(e->fifo, sizeof e->fifo, "%s/control", e->dir);
	snprintf(prog, sizeof prog, "%s/tests/rhx-emu", top ? top : ".");
	argv[argc++] = prog;
	argv[argc++] = "--command-port";
	argv[argc++] = "0";
	argv[argc++] = "--spike-port";
	argv[argc++] = "0";
	argv[argc++] = "--control";
	argv[argc++] = e->fifo;
	va_start(ap, e);
	while ((a = va_arg(ap, const char *)) != NULL && argc < 38)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	if (pipe(pipefd) != 0)
		return -1;
	e->pid = fork();
	if (e->pid < 0)
		return -1;
	if (e->pid == 0) {
		/* the emulator ends with the test that started it */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		close(pipefd[1]);
		execv(prog, (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	e->out = pipefd[0];
	if (rhx_emu_wait_line(e, "ready ", line, sizeof line, 0) != 0 ||
	    sscanf(line, "ready %u %u", &e->command_port, &e->spike_port) != 2)
		return -1;
	return 0;
}

/* Send a control command. */
int
rhx_emu_control(struct rhx_emu *e, const char *cmd)
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
rhx_emu_stat(struct rhx_emu *e, const char *key)
{
	char line[512], want[64], *at;

	if (rhx_emu_control(e, "stats") != 0 ||
	    rhx_emu_wait_line(e, "stats ", line, sizeof line, 0) != 0)
		return -1;
	snprintf(want, sizeof want, " %s=", key);
	at = strstr(line, want);
	if (at == NULL)
		return -1;
	return strtol(at + strlen(want), NULL, 10);
}

/* Stop the emulator and remove its files. */
void
rhx_emu_stop(struct rhx_emu *e)
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
	unlink(e->fifo);
	rmdir(e->dir);
}
