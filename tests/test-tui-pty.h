/*
 * test-tui-pty.h: drive the real synbridge console in a pseudo-terminal
 * and read its screen through libvterm. Every wait polls a condition on
 * the screen until a deadline; nothing sleeps a fixed time.
 */
#ifndef TEST_TUI_PTY_H
#define TEST_TUI_PTY_H

#include <stddef.h>
#include <sys/types.h>

struct term {
	pid_t pid;
	int fd;			/* pty master */
	int rows, cols;
	void *vt;		/* VTerm */
	void *screen;		/* VTermScreen */
	char *raw;		/* everything the program wrote */
	size_t rawlen, rawcap;
	int exited, status;
	char state_dir[64];	/* XDG_STATE_HOME and HOME of the child */
};

/* Start synbridge with args (NULL-terminated) in a rows x cols pty;
 * env holds extra NAME=VALUE strings (NULL-terminated, may be NULL). */
void term_start(struct term *t, int rows, int cols, const char *const *args,
    const char *const *env);
/* Read what the program wrote for up to ms milliseconds. */
void term_pump(struct term *t, int ms);
/* Poll until cond holds or timeout_ms passes; 1 if it held. */
int term_wait(struct term *t, int (*cond)(struct term *, const void *),
    const void *arg, int timeout_ms);
/* Wait for text anywhere on the screen; its row or -1. */
int term_wait_text(struct term *t, const char *text, int timeout_ms);
/* Print the screen on stderr. */
void term_dump(struct term *t);
/* Wait until text is nowhere on the screen; 1 if so. */
int term_wait_gone(struct term *t, const char *text, int timeout_ms);
/* Row r of the screen as UTF-8 (static buffer). */
const char *term_row(struct term *t, int r);
/* First row holding text, or -1. */
int term_find(struct term *t, const char *text);
/* Type bytes. */
void term_type(struct term *t, const char *s);
/* Change the window size (the program gets SIGWINCH). */
void term_resize(struct term *t, int rows, int cols);
/* Wait for the program to exit; 1 if it did. */
int term_wait_exit(struct term *t, int timeout_ms);
/* Does the screen show any cell with a non-default colour? */
int term_has_colour(struct term *t);
/* Kill (if running) and free; removes the state directory. */
void term_free(struct term *t);
/* Path of the synbridge binary under test. */
const char *term_binary(void);

#endif
