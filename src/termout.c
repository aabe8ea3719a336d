/*
 * termout.c: the full-screen console's output through a pty of its own,
 * copied to the terminal by a thread that never blocks on it (see
 * termout.h).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "termout.h"
#include "xmalloc.h"

#define TERMOUT_READ 16384	/* bytes read from the master at a time */

struct termout {
	int		 master;	/* curses' output comes out here */
	int		 term;		/* the user's terminal, our own fd */
	int		 term_nonblock;	/* term is O_NONBLOCK (else: fallback) */
	int		 wake[2];	/* termout_stop wakes the thread */
	pthread_t	 thread;
	pthread_mutex_t	 lock;
	pthread_cond_t	 done_cond;
	int		 done;		/* the thread has ended */
	int64_t		 deadline_us;	/* set by termout_stop: give up then */
	size_t		 backlog;	/* bytes not yet taken by term */
	int64_t		 writing_since;	/* a blocking write began (0: none) */

	/* the thread's own */
	unsigned char	*buf;
	size_t		 off, len, alloc;
	int		 eof;		/* the slave side is closed: all read */
	int		 term_gone;	/* term failed: discard from now */
};

/* Make room for TERMOUT_READ more bytes; 0, or -1 at the cap. */
static int
termout_room(struct termout *to)
{
	size_t want;

	if (to->off > 0 && (to->off == to->len || to->alloc - to->len <
	    TERMOUT_READ)) {
		memmove(to->buf, to->buf + to->off, to->len - to->off);
		to->len -= to->off;
		to->off = 0;
	}
	if (to->alloc - to->len >= TERMOUT_READ)
		return 0;
	if (to->len >= TERMOUT_CAP)
		return -1;
	want = to->alloc == 0 ? 4 * TERMOUT_READ : 2 * to->alloc;
	if (want > TERMOUT_CAP + TERMOUT_READ)
		want = TERMOUT_CAP + TERMOUT_READ;
	to->buf = xrealloc(to->buf, want);
	to->alloc = want;
	return 0;
}

static void
termout_set_backlog(struct termout *to)
{
	pthread_mutex_lock(&to->lock);
	to->backlog = to->len - to->off;
	pthread_mutex_unlock(&to->lock);
}

/* Copy master to term until the slave is closed and all is written. */
static void *
termout_main(void *arg)
{
	struct termout *to = arg;
	struct pollfd pfd[3];
	int64_t deadline, now;
	int timeout;
	ssize_t n;
	char drain[64];

	for (;;) {
		pthread_mutex_lock(&to->lock);
		deadline = to->deadline_us;
		pthread_mutex_unlock(&to->lock);
		if (to->eof && to->off == to->len)
			break;
		timeout = -1;
		if (deadline != 0) {
			now = clock_mono_us();
			if (now >= deadline)
				break;	/* termout_stop gave up */
			timeout = (int)((deadline - now + 999) / 1000);
		}
		memset(pfd, 0, sizeof pfd);
		pfd[0].fd = -1;
		if (!to->eof && termout_room(to) == 0) {
			pfd[0].fd = to->master;
			pfd[0].events = POLLIN;
		}
		pfd[1].fd = to->off < to->len ? to->term : -1;
		pfd[1].events = POLLOUT;
		pfd[2].fd = to->wake[0];
		pfd[2].events = POLLIN;
		if (poll(pfd, 3, timeout) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[2].revents != 0)
			while (read(to->wake[0], drain, sizeof drain) > 0)
				;
		if (pfd[0].revents != 0) {
			n = read(to->master, to->buf + to->len,
			    to->alloc - to->len);
			if (n > 0 && !to->term_gone)
				to->len += (size_t)n;
			else if (n == 0 || (n < 0 && errno != EINTR &&
			    errno != EAGAIN))
				to->eof = 1;	/* EIO: the slave is closed */
		}
		if (pfd[1].revents != 0 && to->off < to->len) {
			size_t want = to->len - to->off;

			/*
			 * A blocking fd (the fallback): a little at a time,
			 * and the console sees a write that does not end
			 * (termout_held) as it sees a backlog.
			 */
			if (!to->term_nonblock) {
				if (want > 256)
					want = 256;
				pthread_mutex_lock(&to->lock);
				to->writing_since = clock_mono_us();
				pthread_mutex_unlock(&to->lock);
			}
			n = write(to->term, to->buf + to->off, want);
			if (!to->term_nonblock) {
				pthread_mutex_lock(&to->lock);
				to->writing_since = 0;
				pthread_mutex_unlock(&to->lock);
			}
			if (n > 0)
				to->off += (size_t)n;
			else if (n < 0 && errno != EAGAIN && errno != EINTR) {
				/* the terminal is gone (EIO): keep curses going */
				to->term_gone = 1;
				to->off = to->len = 0;
			}
		}
		termout_set_backlog(to);
	}
	pthread_mutex_lock(&to->lock);
	to->backlog = to->len - to->off;
	to->done = 1;
	pthread_cond_signal(&to->done_cond);
	pthread_mutex_unlock(&to->lock);
	return NULL;
}

int
termout_reopen(int term)
{
	char path[256];

	if (ttyname_r(term, path, sizeof path) != 0)
		return -1;
	return open(path, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
}

/* Our own file description of the terminal, for non-blocking writes. */
static int
termout_open_term(int term, int *nonblock)
{
	int fd;

	*nonblock = 0;
	if ((fd = termout_reopen(term)) >= 0) {
		*nonblock = 1;
		return fd;
	}
	/*
	 * Not to be had (no name for it in this mount namespace): write on a
	 * copy of the descriptor, blocking. O_NONBLOCK is not set on it: it
	 * would be set for the shell that shares it too.
	 */
	return fcntl(term, F_DUPFD_CLOEXEC, 3);
}

int
termout_start(struct termout **top, int term, FILE **draw, char **cause)
{
	struct termout *to;
	struct winsize ws;
	pthread_condattr_t ca;
	sigset_t all, old;
	char name[128];
	int slave = -1, flags;

	*top = NULL;
	*draw = NULL;
	to = xcalloc(1, sizeof *to);
	to->master = to->term = to->wake[0] = to->wake[1] = -1;
	if ((to->master = posix_openpt(O_RDWR | O_NOCTTY)) < 0 ||
	    grantpt(to->master) != 0 || unlockpt(to->master) != 0 ||
	    ptsname_r(to->master, name, sizeof name) != 0 ||
	    (slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		xasprintf(cause, "no pseudo-terminal to draw on: %s",
		    strerror(errno));
		goto fail;
	}
	(void)fcntl(to->master, F_SETFD, FD_CLOEXEC);
	if ((flags = fcntl(to->master, F_GETFL)) >= 0)
		(void)fcntl(to->master, F_SETFL, flags | O_NONBLOCK);
	if (ioctl(term, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
	    ws.ws_col > 0)
		(void)ioctl(slave, TIOCSWINSZ, &ws);
	if ((to->term = termout_open_term(term, &to->term_nonblock)) < 0 ||
	    pipe(to->wake) != 0) {
		xasprintf(cause, "cannot write to the terminal: %s",
		    strerror(errno));
		goto fail;
	}
	(void)fcntl(to->wake[0], F_SETFD, FD_CLOEXEC);
	(void)fcntl(to->wake[1], F_SETFD, FD_CLOEXEC);
	(void)fcntl(to->wake[0], F_SETFL, O_NONBLOCK);
	(void)fcntl(to->wake[1], F_SETFL, O_NONBLOCK);
	if ((*draw = fdopen(slave, "w")) == NULL) {
		xasprintf(cause, "cannot draw on the pseudo-terminal: %s",
		    strerror(errno));
		goto fail;
	}
	slave = -1;	/* *draw owns it */
	pthread_mutex_init(&to->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&to->done_cond, &ca);
	pthread_condattr_destroy(&ca);
	/* the thread takes no signal: the console's handlers are not for it */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	flags = termout_room(to) != 0 ||
	    pthread_create(&to->thread, NULL, termout_main, to) != 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (flags) {
		xasprintf(cause, "cannot start the terminal's writer thread");
		pthread_cond_destroy(&to->done_cond);
		pthread_mutex_destroy(&to->lock);
		goto fail;
	}
	*top = to;
	return 0;

fail:
	if (*draw != NULL)
		fclose(*draw);
	*draw = NULL;
	if (slave >= 0)
		close(slave);
	if (to->master >= 0)
		close(to->master);
	if (to->term >= 0)
		close(to->term);
	if (to->wake[0] >= 0)
		close(to->wake[0]);
	if (to->wake[1] >= 0)
		close(to->wake[1]);
	free(to->buf);
	free(to);
	return -1;
}

size_t
termout_backlog(struct termout *to)
{
	size_t n;

	pthread_mutex_lock(&to->lock);
	n = to->backlog;
	pthread_mutex_unlock(&to->lock);
	return n;
}

int
termout_held(struct termout *to)
{
	int64_t since;
	size_t n;

	pthread_mutex_lock(&to->lock);
	n = to->backlog;
	since = to->writing_since;
	pthread_mutex_unlock(&to->lock);
	return n > TERMOUT_HOLD || (since != 0 &&
	    clock_mono_us() - since > TERMOUT_WRITE_HELD_US);
}

int
termout_drain(struct termout *to, int timeout_ms)
{
	struct timespec nap = { 0, 5000000 };
	int64_t deadline = clock_mono_us() + (int64_t)timeout_ms * 1000;
	int unread;

	for (;;) {
		/* what curses wrote that the thread has not read yet counts */
		if (ioctl(to->master, FIONREAD, &unread) != 0)
			unread = 0;
		if (unread == 0 && termout_backlog(to) == 0)
			return 0;
		if (clock_mono_us() >= deadline)
			return -1;
		nanosleep(&nap, NULL);
	}
}

int
termout_blocking(struct termout *to)
{
	return !to->term_nonblock;
}

int
termout_term_fd(struct termout *to)
{
	return to->term_nonblock ? to->term : -1;
}

void
termout_resize(struct termout *to, int rows, int cols)
{
	struct winsize ws;

	memset(&ws, 0, sizeof ws);
	ws.ws_row = (unsigned short)rows;
	ws.ws_col = (unsigned short)cols;
	/* set on the master, it is the slave's size (Linux, the BSDs) */
	(void)ioctl(to->master, TIOCSWINSZ, &ws);
}

size_t
termout_stop(struct termout *to, FILE *draw, int timeout_ms)
{
	struct timespec ts;
	int64_t deadline = clock_mono_us() + (int64_t)timeout_ms * 1000;
	size_t left;
	int done;
	ssize_t n;

	/* the master reads what is left, then end of file */
	if (draw != NULL)
		fclose(draw);
	pthread_mutex_lock(&to->lock);
	to->deadline_us = deadline;
	pthread_mutex_unlock(&to->lock);
	n = write(to->wake[1], "x", 1);
	(void)n;
	/* a blocked write (the fallback) may outlast the deadline: wait 1 s more */
	deadline += 1000000;
	ts.tv_sec = (time_t)(deadline / 1000000);
	ts.tv_nsec = (long)(deadline % 1000000) * 1000;
	pthread_mutex_lock(&to->lock);
	while (!to->done)
		if (pthread_cond_timedwait(&to->done_cond, &to->lock, &ts) ==
		    ETIMEDOUT)
			break;
	done = to->done;
	left = to->backlog;
	pthread_mutex_unlock(&to->lock);
	if (!done) {
		/* stuck in a blocking write: leave it (and to) behind */
		pthread_detach(to->thread);
		return left;
	}
	pthread_join(to->thread, NULL);
	if (left > 0 && to->term_nonblock) {
		/*
		 * Given up on: what the terminal's own queue holds may end
		 * inside an escape sequence. Drop it, and leave the terminal
		 * in a known state for whenever it reads again: cancel (CAN),
		 * plain text, the cursor shown, off the alternate screen.
		 */
		(void)tcflush(to->term, TCOFLUSH);
		n = write(to->term, TERMOUT_RESET, sizeof TERMOUT_RESET - 1);
		(void)n;
	}
	close(to->master);
	close(to->term);
	close(to->wake[0]);
	close(to->wake[1]);
	pthread_cond_destroy(&to->done_cond);
	pthread_mutex_destroy(&to->lock);
	free(to->buf);
	free(to);
	return left;
}
