/*
 * conout.c: the headless console's output lines, written by a thread of
 * their own (see conout.h).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "conout.h"
#include "xmalloc.h"

/* One queued line, its newline included. */
struct conout_line {
	struct conout_line	*next;
	int			 fd;
	size_t			 len;
	char			 text[];
};

static pthread_mutex_t conout_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t conout_cond = PTHREAD_COND_INITIALIZER;
static pthread_t conout_thread;
static int conout_running;	/* the thread writes; conout_put queues */
static int conout_stopping;
static struct conout_line *conout_head, *conout_tail;
static size_t conout_bytes;	/* queued or being written */
static size_t conout_lines;	/* the same, in lines */
static size_t conout_bound;
static uint64_t conout_dropped[2];	/* stdout, stderr: in all */
static uint64_t conout_untold;	/* dropped, not yet said on stderr */
static int conout_out_errno;	/* stdout failed with this */
static int conout_block;	/* full: wait for room (--fast), not drop */
static volatile sig_atomic_t *conout_quit;	/* ...unless this is set */
static int conout_writing;	/* the writer is in a write, unlocked */
static int conout_gave_up;	/* stopped waiting: lines are dropped */

/*
 * Write all of buf to fd, waiting for it as long as it takes (a
 * descriptor someone made non-blocking is waited on with poll). 0, or an
 * errno.
 */
static int
conout_write_all(int fd, const char *buf, size_t len)
{
	struct pollfd pfd;
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			(void)poll(&pfd, 1, -1);
			continue;
		}
		return (n < 0 ? errno : EIO);
	}
	return 0;
}

/* Write one line; a failed stdout is remembered (called unlocked). */
static void
conout_write_line(int fd, const char *text, size_t len)
{
	int error, failed;

	pthread_mutex_lock(&conout_lock);
	failed = fd == STDOUT_FILENO && conout_out_errno != 0;
	pthread_mutex_unlock(&conout_lock);
	if (failed)
		return;
	error = conout_write_all(fd, text, len);
	if (error != 0 && fd == STDOUT_FILENO) {
		pthread_mutex_lock(&conout_lock);
		conout_out_errno = error;
		pthread_mutex_unlock(&conout_lock);
	}
}

/* Say on stderr how many lines were dropped since it was last said. */
static void
conout_tell_dropped(uint64_t n)
{
	char buf[256];
	int len;

	len = snprintf(buf, sizeof buf, "synbridge: %llu line%s of output "
	    "dropped: its reader did not keep up (more than %zu KiB waited); "
	    "the session and its recording went on\n", (unsigned long long)n,
	    n == 1 ? "" : "s", conout_bound >> 10);
	if (len > 0)
		(void)conout_write_all(STDERR_FILENO, buf, (size_t)len);
}

/* The writer: takes the queue as it is and writes it, in order. */
static void *
conout_main(void *arg)
{
	struct conout_line *list, *l;
	uint64_t untold;

	(void)arg;
	pthread_mutex_lock(&conout_lock);
	for (;;) {
		while (conout_head == NULL && conout_untold == 0 &&
		    !conout_stopping)
			pthread_cond_wait(&conout_cond, &conout_lock);
		if (conout_head == NULL && conout_untold == 0)
			break;	/* stopping, and all is written */
		list = conout_head;
		conout_head = conout_tail = NULL;
		/* caught up (nothing else waits): say what was dropped */
		untold = list == NULL ? conout_untold : 0;
		if (list == NULL)
			conout_untold = 0;
		conout_writing = 1;
		pthread_mutex_unlock(&conout_lock);
		if (untold > 0)
			conout_tell_dropped(untold);
		while ((l = list) != NULL) {
			list = l->next;
			conout_write_line(l->fd, l->text, l->len);
			pthread_mutex_lock(&conout_lock);
			conout_bytes -= l->len;
			conout_lines--;
			pthread_cond_broadcast(&conout_cond);
			pthread_mutex_unlock(&conout_lock);
			free(l);
		}
		pthread_mutex_lock(&conout_lock);
		conout_writing = 0;
		pthread_cond_broadcast(&conout_cond);
	}
	pthread_mutex_unlock(&conout_lock);
	return NULL;
}

int
conout_start(size_t bound, int block, volatile sig_atomic_t *quit)
{
	sigset_t all, old;
	int error;

	pthread_mutex_lock(&conout_lock);
	if (conout_running) {
		pthread_mutex_unlock(&conout_lock);
		return 0;
	}
	conout_bound = bound != 0 ? bound : CONOUT_BOUND;
	conout_block = block;
	conout_quit = quit;
	conout_stopping = conout_gave_up = 0;
	conout_dropped[0] = conout_dropped[1] = conout_untold = 0;
	/* signals stay with the engine's thread, which waits for them */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	error = pthread_create(&conout_thread, NULL, conout_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (error != 0) {
		pthread_mutex_unlock(&conout_lock);
		return -1;
	}
	conout_running = 1;
	pthread_mutex_unlock(&conout_lock);
	return 0;
}

void
conout_put(int fd, const char *line)
{
	size_t len = strlen(line);
	struct conout_line *l;
	struct timespec ts;

	if (fd != STDOUT_FILENO)
		fd = STDERR_FILENO;
	pthread_mutex_lock(&conout_lock);
	if (fd == STDOUT_FILENO && conout_out_errno != 0) {
		pthread_mutex_unlock(&conout_lock);
		return;		/* its reader is gone: the session stops */
	}
	if (conout_gave_up) {
		/* its reader is stalled and the session ends: not waited for */
		conout_dropped[fd == STDOUT_FILENO ? 0 : 1]++;
		pthread_mutex_unlock(&conout_lock);
		return;
	}
	if (!conout_running) {
		pthread_mutex_unlock(&conout_lock);
		l = xmalloc(sizeof *l + len + 1);
		memcpy(l->text, line, len);
		l->text[len] = '\n';
		conout_write_line(fd, l->text, len + 1);
		free(l);
		return;
	}
	/*
	 * An offline run (--fast) has no loop to keep: it waits for room,
	 * until it is asked to quit.
	 */
	while (conout_block && conout_running && conout_bytes > 0 &&
	    conout_bytes + len + 1 > conout_bound &&
	    (fd != STDOUT_FILENO || conout_out_errno == 0) &&
	    (conout_quit == NULL || !*conout_quit)) {
		clock_real_in(&ts, 100000);
		pthread_cond_timedwait(&conout_cond, &conout_lock, &ts);
	}
	if (conout_bytes + len + 1 > conout_bound &&
	    !(conout_block && conout_bytes == 0)) {
		conout_dropped[fd == STDOUT_FILENO ? 0 : 1]++;
		conout_untold++;
		pthread_mutex_unlock(&conout_lock);
		return;
	}
	l = xmalloc(sizeof *l + len + 1);
	l->next = NULL;
	l->fd = fd;
	l->len = len + 1;
	memcpy(l->text, line, len);
	l->text[len] = '\n';
	if (conout_tail != NULL)
		conout_tail->next = l;
	else
		conout_head = l;
	conout_tail = l;
	conout_bytes += l->len;
	conout_lines++;
	pthread_cond_broadcast(&conout_cond);
	pthread_mutex_unlock(&conout_lock);
}

void
conout_say_last(const char *line)
{
	struct pollfd pfd = { .fd = STDERR_FILENO, .events = POLLOUT };
	char buf[1024];
	int len, gave_up;

	pthread_mutex_lock(&conout_lock);
	gave_up = conout_gave_up;
	pthread_mutex_unlock(&conout_lock);
	len = snprintf(buf, sizeof buf, "%s\n", line);
	if (len <= 0)
		return;
	if ((size_t)len >= sizeof buf)
		len = sizeof buf - 1;
	/* a stalled reader: only if it takes the line now (PIPE_BUF) */
	if (gave_up && (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLOUT)))
		return;
	(void)conout_write_all(STDERR_FILENO, buf, (size_t)len);
}

int
conout_stdout_error(void)
{
	int error;

	pthread_mutex_lock(&conout_lock);
	error = conout_out_errno;
	pthread_mutex_unlock(&conout_lock);
	return error;
}

void
conout_stop(volatile sig_atomic_t *give_up, struct conout_report *r)
{
	struct timespec ts;
	int done;

	pthread_mutex_lock(&conout_lock);
	if (r != NULL)
		memset(r, 0, sizeof *r);
	if (!conout_running) {
		pthread_mutex_unlock(&conout_lock);
		return;
	}
	conout_stopping = 1;
	pthread_cond_broadcast(&conout_cond);
	/* wait for the queue to drain, a tenth of a second at a time */
	while (!(done = conout_lines == 0 && conout_untold == 0 &&
	    !conout_writing) && (give_up == NULL || !*give_up)) {
		clock_real_in(&ts, 100000);
		pthread_cond_timedwait(&conout_cond, &conout_lock, &ts);
	}
	/* (lines dropped while it drained count too) */
	if (r != NULL) {
		r->dropped_out = conout_dropped[0];
		r->dropped_err = conout_dropped[1];
		r->unwritten = conout_lines;
	}
	conout_running = 0;
	conout_gave_up = !done;
	pthread_mutex_unlock(&conout_lock);
	if (done)
		pthread_join(conout_thread, NULL);
	else
		pthread_detach(conout_thread);	/* still in its write */
}
