/*
 * termout.h: the full-screen console's output, through a pseudo-terminal
 * of its own, so that a terminal that stops reading never holds up the
 * session.
 *
 * curses draws on the slave side of a pty that the console opens for
 * itself (a real terminal: its modes and its size are what curses sets
 * and asks for). A thread reads the master side as fast as curses writes
 * and passes the bytes on to the user's terminal, unchanged, with
 * non-blocking writes on a file description of its own. A terminal that
 * takes nothing (an SSH link that stalls, a terminal window that is
 * scrolled back with the flow stopped) then stops only that thread; the
 * bytes wait in its memory, and the console asks termout_held before it
 * draws a frame: while more than TERMOUT_HOLD bytes wait it draws none,
 * and the engine, the recording and the links go on. When the terminal
 * takes the bytes again the next frame brings the screen up to date (curses
 * sends what changed since the last frame it drew). Nothing is dropped.
 *
 * The user's terminal carries the bytes as they are: the console puts it
 * in a raw mode itself (no echo, no line editing, no signals, no output
 * processing), since curses sets the modes of the slave side only.
 *
 * Thread-safe where said; one termout per process.
 */
#ifndef SB_TERMOUT_H
#define SB_TERMOUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Bytes waiting for the terminal past which no frame is drawn. */
#define TERMOUT_HOLD (16U << 10)
/*
 * A blocking write (the fallback, when the terminal cannot be opened
 * afresh) that has not ended after this long holds frames as a backlog
 * does.
 */
#define TERMOUT_WRITE_HELD_US 50000
/*
 * Bytes waiting at most: past this the thread stops reading curses'
 * output, so a write of curses blocks as it would on the terminal itself
 * (a backstop: the hold keeps the backlog far below it).
 */
#define TERMOUT_CAP (4U << 20)

/*
 * What puts a terminal left in any state back for text: cancel a sequence
 * cut short (CAN), plain text, the cursor shown, off the alternate screen.
 */
#define TERMOUT_RESET "\030\033[0m\033[?25h\033[?1049l\r\n"

struct termout;

/*
 * A file description of the terminal on fd term of its own, for writes
 * that never block (O_NONBLOCK set on it is not set for the shell that
 * shares term's), close-on-exec; -1 if the terminal has no name here or
 * cannot be opened (another user's).
 */
int termout_reopen(int term);

/*
 * Open the pty, give its slave the size of the terminal on fd term (a
 * terminal: the console's standard output), and start the thread that
 * copies to term. *draw is the slave side, opened for curses' newterm
 * (the caller passes it to newterm and closes it in termout_stop, not
 * before). 0, or -1 with *cause (the caller frees it) if no pty or thread
 * could be had: the caller then draws on the terminal directly.
 */
int termout_start(struct termout **to, int term, FILE **draw, char **cause);

/* Bytes curses wrote that the terminal has not taken yet. Thread-safe. */
size_t termout_backlog(struct termout *to);

/* 1 if the terminal is behind (more than TERMOUT_HOLD bytes wait, or a
 * blocking write has not ended for TERMOUT_WRITE_HELD_US): draw no frame
 * now. Thread-safe. */
int termout_held(struct termout *to);

/*
 * Wait up to timeout_ms until the terminal has taken everything curses
 * wrote (what the pty holds unread too): before the process stops. 0, or
 * -1 if it has not.
 */
int termout_drain(struct termout *to, int timeout_ms);

/*
 * 1 if the terminal could not be opened afresh (no name for it, or no
 * permission: another user's terminal under sudo -u) and is written with
 * blocking writes: a stalled terminal then still holds up a frame that is
 * being drawn once the pty's buffer is full.
 */
int termout_blocking(struct termout *to);

/* The terminal's non-blocking descriptor (for a crash handler's last
 * words), or -1 in the blocking fallback. Valid until termout_stop. */
int termout_term_fd(struct termout *to);

/* The terminal's new size, for the slave side too (after a SIGWINCH). */
void termout_resize(struct termout *to, int rows, int cols);

/*
 * After curses has ended (endwin, delscreen): close the slave side, write
 * what waits to the terminal for up to timeout_ms, end the thread and free
 * to. Returns the bytes that could not be written (0: the terminal has
 * everything, including curses' last words that put it back). Given up on,
 * the terminal's output queue is flushed (it may end inside an escape
 * sequence) and a reset is queued for when it reads again: plain text, the
 * cursor shown, the normal screen.
 */
size_t termout_stop(struct termout *to, FILE *draw, int timeout_ms);

#endif
