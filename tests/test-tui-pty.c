/*
 * test-tui-pty.c: a pseudo-terminal harness for the console tests: forkpty
 * the real binary, feed its output to libvterm, read the screen back.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vterm.h>

#include "test-tui-pty.h"

/* Milliseconds on the monotonic clock. */
static long long
term_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Answers the terminal gives (cursor reports and the like). */
static void
term_output(const char *s, size_t len, void *user)
{
	struct term *t = user;
	ssize_t n = write(t->fd, s, len);

	(void)n;
}

/* The binary: $top_builddir/src/synbridge, else ../src/synbridge. */
const char *
term_binary(void)
{
	static char path[4096];
	const char *top = getenv("top_builddir");

	snprintf(path, sizeof path, "%s/src/synbridge", top != NULL ? top :
	    ABS_TOP_BUILDDIR);
	return path;
}

/* Start the program. */
void
term_start(struct term *t, int rows, int cols, const char *const *args,
    const char *const *env)
{
	struct winsize ws = { (unsigned short)rows, (unsigned short)cols, 0,
	    0 };
	const char *argv[32];
	size_t i, n = 0;

	memset(t, 0, sizeof *t);
	t->rows = rows;
	t->cols = cols;
	snprintf(t->state_dir, sizeof t->state_dir, "/tmp/sb-tui-XXXXXX");
	if (mkdtemp(t->state_dir) == NULL)
		abort();
	argv[n++] = term_binary();
	for (i = 0; args != NULL && args[i] != NULL && n < 30; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	t->pid = forkpty(&t->fd, NULL, NULL, &ws);
	if (t->pid < 0)
		abort();
	if (t->pid == 0) {
		setenv("TERM", "xterm-256color", 1);
		setenv("LANG", "C.UTF-8", 1);
		setenv("LC_ALL", "C.UTF-8", 1);
		setenv("INPUTRC", "/dev/null", 1);
		setenv("XDG_STATE_HOME", t->state_dir, 1);
		setenv("HOME", t->state_dir, 1);
		unsetenv("NO_COLOR");
		unsetenv("SYNBRIDGE_PLUGIN_PATH");
		for (i = 0; env != NULL && env[i] != NULL; i++)
			putenv((char *)env[i]);
		if (getenv("TUI_TEST_WRAPPER") != NULL) {
			/* e.g. TUI_TEST_WRAPPER="valgrind --log-file=vg.%p" */
			const char *wrapped[40];
			char *copy = strdup(getenv("TUI_TEST_WRAPPER")), *w;
			size_t k = 0;

			for (w = strtok(copy, " "); w != NULL && k < 20;
			    w = strtok(NULL, " "))
				wrapped[k++] = w;
			for (i = 0; argv[i] != NULL; i++)
				wrapped[k++] = argv[i];
			wrapped[k] = NULL;
			execvp(wrapped[0], (char *const *)wrapped);
			_exit(127);
		}
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	fcntl(t->fd, F_SETFL, O_NONBLOCK);
	t->vt = vterm_new(rows, cols);
	vterm_set_utf8(t->vt, 1);
	vterm_output_set_callback(t->vt, term_output, t);
	t->screen = vterm_obtain_screen(t->vt);
	vterm_screen_enable_altscreen(t->screen, 1);
	vterm_screen_reset(t->screen, 1);
}

/* Has the child exited? */
static void
term_reap(struct term *t)
{
	int st;

	if (!t->exited && t->pid > 0 && waitpid(t->pid, &st, WNOHANG) ==
	    t->pid) {
		t->exited = 1;
		t->status = st;
	}
}

/* Read output for up to ms. */
void
term_pump(struct term *t, int ms)
{
	struct pollfd p = { t->fd, POLLIN, 0 };
	char buf[65536];
	ssize_t n;

	if (poll(&p, 1, ms) <= 0) {
		term_reap(t);
		return;
	}
	while ((n = read(t->fd, buf, sizeof buf)) > 0) {
		if (t->rawlen + (size_t)n > t->rawcap) {
			t->rawcap = (t->rawlen + (size_t)n) * 2;
			t->raw = realloc(t->raw, t->rawcap);
		}
		memcpy(t->raw + t->rawlen, buf, (size_t)n);
		t->rawlen += (size_t)n;
		vterm_input_write(t->vt, buf, (size_t)n);
	}
	term_reap(t);
}

/* Poll a condition with a deadline. */
int
term_wait(struct term *t, int (*cond)(struct term *, const void *),
    const void *arg, int timeout_ms)
{
	long long end = term_ms() + timeout_ms;

	for (;;) {
		if (cond(t, arg))
			return 1;
		if (term_ms() >= end)
			return 0;
		term_pump(t, 20);
	}
}

/* Text on screen? */
static int
term_has_text(struct term *t, const void *text)
{
	return term_find(t, text) >= 0;
}

/* Wait for text; its row. */
int
term_wait_text(struct term *t, const char *text, int timeout_ms)
{
	if (!term_wait(t, term_has_text, text, timeout_ms))
		return -1;
	return term_find(t, text);
}

/* Print the screen (for a failing test). */
void
term_dump(struct term *t)
{
	int r;

	for (r = 0; r < t->rows; r++)
		fprintf(stderr, "|%s\n", term_row(t, r));
}

/* Text nowhere on screen? */
static int
term_lacks_text(struct term *t, const void *text)
{
	return term_find(t, text) < 0;
}

/* Wait until text is gone. */
int
term_wait_gone(struct term *t, const char *text, int timeout_ms)
{
	return term_wait(t, term_lacks_text, text, timeout_ms);
}

/* Encode one code point as UTF-8. */
static size_t
term_utf8(uint32_t c, char *out)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | (c >> 6));
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | (c >> 12));
		out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (c >> 18));
	out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* One row as UTF-8. */
const char *
term_row(struct term *t, int r)
{
	static char buf[8192];
	VTermScreenCell cell;
	VTermPos pos;
	size_t n = 0;
	int c;

	for (c = 0; c < t->cols && n + 8 < sizeof buf; c++) {
		pos.row = r;
		pos.col = c;
		if (!vterm_screen_get_cell(t->screen, pos, &cell))
			continue;
		if (cell.chars[0] == (uint32_t)-1)
			continue;	/* right half of a wide character */
		if (cell.chars[0] == 0)
			buf[n++] = ' ';
		else
			n += term_utf8(cell.chars[0], buf + n);
		if (cell.width == 2)
			c++;
	}
	buf[n] = '\0';
	return buf;
}

/* First row with text. */
int
term_find(struct term *t, const char *text)
{
	int r;

	for (r = 0; r < t->rows; r++)
		if (strstr(term_row(t, r), text) != NULL)
			return r;
	return -1;
}

/* Type bytes. */
void
term_type(struct term *t, const char *s)
{
	size_t len = strlen(s), off = 0;
	ssize_t n;

	while (off < len) {
		n = write(t->fd, s + off, len - off);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return;
		if (n > 0)
			off += (size_t)n;
		else
			term_pump(t, 5);
	}
}

/* New window size. */
void
term_resize(struct term *t, int rows, int cols)
{
	struct winsize ws = { (unsigned short)rows, (unsigned short)cols, 0,
	    0 };

	t->rows = rows;
	t->cols = cols;
	vterm_set_size(t->vt, rows, cols);
	ioctl(t->fd, TIOCSWINSZ, &ws);
}

/* Has it exited? */
static int
term_gone(struct term *t, const void *arg)
{
	(void)arg;
	term_reap(t);
	return t->exited;
}

/* Wait for exit. */
int
term_wait_exit(struct term *t, int timeout_ms)
{
	return term_wait(t, term_gone, NULL, timeout_ms);
}

/* Any coloured cell on screen? */
int
term_has_colour(struct term *t)
{
	VTermScreenCell cell;
	VTermPos pos;

	for (pos.row = 0; pos.row < t->rows; pos.row++)
		for (pos.col = 0; pos.col < t->cols; pos.col++) {
			if (!vterm_screen_get_cell(t->screen, pos, &cell))
				continue;
			if (!VTERM_COLOR_IS_DEFAULT_FG(&cell.fg) ||
			    !VTERM_COLOR_IS_DEFAULT_BG(&cell.bg))
				return 1;
		}
	return 0;
}

/* Remove the state directory (two levels are enough here). */
static void
term_rmdir(const char *dir)
{
	char cmd[256];
	int rc;

	if (strncmp(dir, "/tmp/sb-tui-", 12) != 0)
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	rc = system(cmd);
	(void)rc;
}

/* Stop and free. */
void
term_free(struct term *t)
{
	if (!t->exited && t->pid > 0) {
		/* SIGTERM first: the console cleans up (the demo's relay) */
		struct timespec ts = { 0, 10000000 };
		int i;

		kill(t->pid, SIGTERM);
		for (i = 0; i < 500; i++) {
			char buf[4096];

			/* keep the pty drained so the console can write */
			while (read(t->fd, buf, sizeof buf) > 0)
				;
			if (waitpid(t->pid, NULL, WNOHANG) == t->pid)
				break;
			nanosleep(&ts, NULL);
		}
		if (i == 500) {
			kill(t->pid, SIGKILL);
			waitpid(t->pid, NULL, 0);
		}
	}
	if (t->vt != NULL)
		vterm_free(t->vt);
	if (t->fd > 0)
		close(t->fd);
	free(t->raw);
	term_rmdir(t->state_dir);
	memset(t, 0, sizeof *t);
}
