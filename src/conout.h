/*
 * conout.h: the headless console's output lines, written by a thread of
 * their own.
 *
 * Results go to stdout and errors and messages to stderr, one line each.
 * A reader that does not keep up (a pager scrolled back or stopped with
 * ^Z, a full pipe, a stalled terminal or network file system) would make a
 * plain write block; here it blocks only the writer thread, so the engine
 * and the plugins' threads, which put the lines, go on taking events.
 *
 * The lines wait in one queue, in the order they were put (so results and
 * errors keep their order on a terminal), up to CONOUT_BOUND bytes. A line
 * that finds the queue full is dropped and counted; once the writer has
 * caught up it says on stderr how many were dropped, and conout_stop gives
 * the totals. Recorded data never goes through here: only what is shown.
 *
 * Before conout_start and after conout_stop, conout_put writes the line
 * itself, as the console always did. Thread-safe.
 */
#ifndef SB_CONOUT_H
#define SB_CONOUT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#define CONOUT_BOUND (8U << 20)	/* bytes of lines waiting at most */

/* What conout_stop tells. */
struct conout_report {
	uint64_t dropped_out;	/* stdout lines dropped (queue full) */
	uint64_t dropped_err;	/* stderr lines dropped */
	uint64_t unwritten;	/* lines still queued when it gave up */
};

/*
 * Start the writer thread with a queue of bound bytes (0: CONOUT_BOUND).
 * With block (an offline --fast run, which has no loop to keep), a full
 * queue makes conout_put wait for room instead of dropping the line, as
 * long as *quit (if given) is 0. 0, or -1 if the thread cannot start (the
 * lines are then written directly).
 */
int conout_start(size_t bound, int block, volatile sig_atomic_t *quit);

/* Put one line (without its newline) for fd 1 or 2. Never blocks on fd. */
void conout_put(int fd, const char *line);

/*
 * Standard output failed (its reader quit: EPIPE, or a write error such
 * as ENOSPC): the errno, or 0. Lines put for stdout after that are
 * discarded.
 */
int conout_stdout_error(void);

/*
 * Write what is queued, then end the thread. Waits as long as the reader
 * needs (a script's results are all written), unless *give_up becomes
 * non-zero (a second signal): the lines not written are then counted in
 * r->unwritten and the thread is left blocked in its write. r may be NULL.
 */
void conout_stop(volatile sig_atomic_t *give_up, struct conout_report *r);

/*
 * One last line on stderr after conout_stop. If the wait was given up
 * (the reader is stalled), it is written only if stderr takes it at once;
 * from then on conout_put drops and counts (plugins' messages as the
 * session shuts down), never blocking.
 */
void conout_say_last(const char *line);

#endif
