/* emu-util.c: printing and timing shared by the emulators (emu-util.h). */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "emu-util.h"

static const char *emu_util_prefix = "emu";

void
emu_util_name(const char *name)
{
	emu_util_prefix = name;
}

void
emu_log(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "%s: ", emu_util_prefix);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
emu_say(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

uint64_t
emu_now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
}

int
emu_control_open(struct emu_control *c, const char *path,
    void (*apply)(void *, char *), void *arg)
{
	struct stat	sb;

	memset(c, 0, sizeof *c);
	c->apply = apply;
	c->arg = arg;
	c->fd = -1;
	if (lstat(path, &sb) == 0) {
		if (!S_ISFIFO(sb.st_mode)) {
			emu_log("%s exists and is not a FIFO", path);
			return (-1);
		}
		unlink(path);
	}
	if (mkfifo(path, 0600) != 0 ||
	    (c->fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)) == -1) {
		emu_log("%s: %s", path, strerror(errno));
		return (-1);
	}
	return (0);
}

void
emu_control_drain(struct emu_control *c)
{
	char	buf[4096];
	ssize_t	n, i;

	if (c->fd == -1)
		return;
	while ((n = read(c->fd, buf, sizeof buf)) > 0 || (n == -1 &&
	    errno == EINTR)) {
		for (i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				if (c->len < sizeof c->line - 1)
					c->line[c->len++] = buf[i];
				else
					c->skip = 1;
				continue;
			}
			c->line[c->len] = '\0';
			c->len = 0;
			if (c->skip) {
				c->skip = 0;
				emu_log("control: line too long: discarded");
				continue;
			}
			c->apply(c->arg, c->line);
		}
	}
}

void
emu_control_close(struct emu_control *c, const char *path)
{
	if (c->fd == -1)
		return;
	close(c->fd);
	c->fd = -1;
	unlink(path);
}
