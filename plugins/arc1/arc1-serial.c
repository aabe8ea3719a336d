/*
 * arc1-serial.c: the ArC ONE's serial port through termios: 921600 baud,
 * 8 data bits, even parity, 1 stop bit, raw, no flow control; paced writes
 * and reads with deadlines.
 *
 * termios rather than libserialport: the port is a plain tty device on
 * every system synbridge runs on, and libserialport refuses pseudo-
 * terminals (its open asks for modem lines), which the tests' emulator is.
 *
 * Return codes: 0 done; -1 out of step (a timeout: resync); -2 the port
 * is gone (unplugged: reconnect). *cause says which and why.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <termios.h>
#include <unistd.h>

#include "arc1.h"
#include "sb-args.h"

/* Open and configure the port. */
int
arc1_serial_open(struct arc1 *a, char **cause)
{
	struct termios tio;
	int fd;

	fd = open(a->cfg.port, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		sb_cause(cause, "%s: cannot open %s: %s%s", a->name,
		    a->cfg.port, strerror(e), e == ENOENT ? " (is the board "
		    "plugged in? ls /dev/ttyACM*)" : e == EACCES ? " (add "
		    "yourself to the dialout group, then log in again)" : "");
		return -1;
	}
	/* one program per instrument: a second one would interleave jobs */
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		sb_cause(cause, "%s: %s is in use by another program (close "
		    "the ArC ONE control software)", a->name, a->cfg.port);
		close(fd);
		return -1;
	}
	if (tcgetattr(fd, &tio) != 0) {
		sb_cause(cause, "%s: %s is not a serial port: %s", a->name,
		    a->cfg.port, strerror(errno));
		close(fd);
		return -1;
	}
	cfmakeraw(&tio);
	tio.c_cflag &= ~(tcflag_t)(CSIZE | CSTOPB | PARODD | CRTSCTS);
	tio.c_cflag |= CS8 | PARENB | CLOCAL | CREAD;
	tio.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY | INPCK);
	tio.c_cc[VMIN] = 0;
	tio.c_cc[VTIME] = 0;
	cfsetispeed(&tio, B921600);
	cfsetospeed(&tio, B921600);
	if (tcsetattr(fd, TCSANOW, &tio) != 0 && errno == EINVAL) {
		/*
		 * Linux pseudo-terminals refuse even parity when they are
		 * opened a second time (seen on the tests' emulator); a
		 * real USB serial port takes it. Parity only matters on a
		 * real line, so go on without it and say so once.
		 */
		tio.c_cflag &= ~(tcflag_t)PARENB;
		if (tcsetattr(fd, TCSANOW, &tio) == 0 && !a->said_parity) {
			a->said_parity = 1;
			sb_devlink_log(&a->dl, SB_LOG_WARNING, "%s: %s takes "
			    "no even parity: using 921600 8N1 (fine on a "
			    "pseudo-terminal; a real ArC ONE wants 8E1)",
			    a->name, a->cfg.port);
		}
	}
	if (tcgetattr(fd, &tio) != 0 || cfgetospeed(&tio) != B921600) {
		sb_cause(cause, "%s: cannot set %s to 921600 8E1: %s", a->name,
		    a->cfg.port, strerror(errno));
		close(fd);
		return -1;
	}
	tcflush(fd, TCIOFLUSH);
	a->fd = fd;
	a->last_write_us = 0;
	return 0;
}

/* Close the port. */
void
arc1_serial_close(struct arc1 *a)
{
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
}

/* Is the port gone after this errno? */
static int
arc1_serial_gone(int e)
{
	return e == EIO || e == ENXIO || e == ENODEV || e == EBADF ||
	    e == ENOENT;
}

/* Discard whatever is waiting to be read. */
void
arc1_serial_flush(struct arc1 *a)
{
	char buf[256];

	if (a->fd < 0)
		return;
	tcflush(a->fd, TCIFLUSH);
	while (read(a->fd, buf, sizeof buf) > 0)
		;
}

/*
 * Bytes waiting within wait_ms? 1 yes, 0 no, -2 the port is gone. A
 * board that talks when nobody asked is out of step.
 */
int
arc1_serial_pending(struct arc1 *a, int wait_ms)
{
	struct pollfd pfd = { .fd = a->fd, .events = POLLIN };
	int n;

	n = poll(&pfd, 1, wait_ms);
	if (n <= 0)
		return 0;
	if (pfd.revents & (POLLHUP | POLLERR | POLLNVAL))
		return -2;
	return 1;
}

/* Write all of buf before deadline (monotonic us). */
static int
arc1_serial_write_all(struct arc1 *a, const char *buf, size_t len,
    int64_t deadline, char **cause)
{
	struct pollfd pfd = { .fd = a->fd, .events = POLLOUT };
	ssize_t n;
	int64_t left;

	while (len > 0) {
		n = write(a->fd, buf, len);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			sb_cause(cause, "%s: writing to %s: %s", a->name,
			    a->cfg.port, strerror(errno));
			return arc1_serial_gone(errno) ? -2 : -1;
		}
		left = (deadline - sb_devlink_mono_us()) / 1000;
		if (left <= 0) {
			sb_cause(cause, "%s: %s takes no more bytes (flow "
			    "stopped)", a->name, a->cfg.port);
			return -1;
		}
		if (poll(&pfd, 1, (int)left) > 0 &&
		    (pfd.revents & (POLLHUP | POLLERR | POLLNVAL))) {
			sb_cause(cause, "%s: %s hung up", a->name,
			    a->cfg.port);
			return -2;
		}
	}
	return 0;
}

/* Sleep until us (monotonic). */
static void
arc1_serial_sleep_until(int64_t us)
{
	int64_t left = us - sb_devlink_mono_us();
	struct timespec ts;

	if (left <= 0)
		return;
	ts.tv_sec = left / 1000000;
	ts.tv_nsec = (left % 1000000) * 1000;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * Write lines, each followed by '\n', keeping pace_us between writes (the
 * mbed drops bytes that come faster: libarc1 warns below 0.5 ms).
 */
int
arc1_serial_write_lines(struct arc1 *a, const char *const *lines,
    unsigned n, char **cause)
{
	char buf[64];
	unsigned i;
	int len, rc;

	for (i = 0; i < n; i++) {
		len = snprintf(buf, sizeof buf, "%s\n", lines[i]);
		if (len < 0 || (size_t)len >= sizeof buf) {
			sb_cause(cause, "%s: a command line too long", a->name);
			return -1;
		}
		arc1_serial_sleep_until(a->last_write_us + a->cfg.pace_us);
		rc = arc1_serial_write_all(a, buf, (size_t)len,
		    sb_devlink_mono_us() + (int64_t)a->cfg.timeout_ms * 1000,
		    cause);
		a->last_write_us = sb_devlink_mono_us();
		if (rc != 0)
			return rc;
	}
	sb_devlink_count_tx(&a->dl, 1);
	return 0;
}

/* Read exactly len bytes within timeout_ms. */
int
arc1_serial_read(struct arc1 *a, void *buf, size_t len, int timeout_ms,
    char **cause)
{
	struct pollfd pfd = { .fd = a->fd, .events = POLLIN };
	int64_t deadline = sb_devlink_mono_us() + (int64_t)timeout_ms * 1000;
	int64_t left;
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(a->fd, (char *)buf + got, len - got);
		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		/* with VMIN = VTIME = 0 a tty says 0 for "nothing yet";
		 * a port that is gone shows as POLLHUP or an error */
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			int e = errno;

			sb_cause(cause, "%s: reading %s: %s (unplugged?)",
			    a->name, a->cfg.port, strerror(e));
			return arc1_serial_gone(e) ? -2 : -1;
		}
		left = (deadline - sb_devlink_mono_us()) / 1000;
		if (left <= 0) {
			sb_cause(cause, "no reply within %d ms (%zu of %zu "
			    "bytes)", timeout_ms, got, len);
			return -1;
		}
		if (poll(&pfd, 1, (int)left) > 0 &&
		    (pfd.revents & (POLLHUP | POLLERR | POLLNVAL)) &&
		    !(pfd.revents & POLLIN)) {
			sb_cause(cause, "%s: %s hung up (unplugged?)",
			    a->name, a->cfg.port);
			return -2;
		}
	}
	return 0;
}
