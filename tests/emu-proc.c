/* emu-proc.c: an emulator as a child process (emu-proc.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "emu-proc.h"

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t
emu_proc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A fresh temporary directory and its FIFO's path. */
int
emu_proc_dir(struct emu_proc *e, const char *name)
{
	memset(e, 0, sizeof *e);
	e->out = -1;
	snprintf(e->dir, sizeof e->dir, "/tmp/%s-XXXXXX", name);
	if (mkdtemp(e->dir) == NULL)
		return -1;
	snprintf(e->fifo, sizeof e->fifo, "%s/control", e->dir);
	return 0;
}

/* Start the emulator with its stdout on a pipe. */
int
emu_proc_spawn(struct emu_proc *e, const char *const *argv)
{
	int pipefd[2];

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
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	e->out = pipefd[0];
	return 0;
}

/* Read stdout until a line starting with prefix; copy it. */
int
emu_proc_wait_line(struct emu_proc *e, const char *prefix, char *line,
    size_t len, int ms)
{
	int64_t deadline = emu_proc_now_ms() + ms;
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
		if (emu_proc_now_ms() > deadline)
			return -1;
		if (poll(&pfd, 1, 20) <= 0)
			continue;
		n = read(e->out, e->buf + e->len, sizeof e->buf - e->len);
		if (n <= 0)
			return -1;
		e->len += (size_t)n;
	}
}

/* Send a control command. */
int
emu_proc_control(struct emu_proc *e, const char *cmd)
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
emu_proc_stat(struct emu_proc *e, const char *key, int ms)
{
	char line[512], want[64], *at;

	if (emu_proc_control(e, "stats") != 0 ||
	    emu_proc_wait_line(e, "stats ", line, sizeof line, ms) != 0)
		return -1;
	snprintf(want, sizeof want, " %s=", key);
	at = strstr(line, want);
	if (at == NULL)
		return -1;
	return strtol(at + strlen(want), NULL, 10);
}

/* Stop the emulator and remove its files. */
void
emu_proc_stop(struct emu_proc *e, const char *extra_file)
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
	if (extra_file != NULL)
		unlink(extra_file);
	unlink(e->fifo);
	rmdir(e->dir);
}
