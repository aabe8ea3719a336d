/* recorder.h: continuous recording to spikes/synapses/links/commands.csv. */
#ifndef SB_RECORDER_H
#define SB_RECORDER_H

#include <signal.h>

#include "csvlog.h"
#include "cursor.h"

struct recorder;

/*
 * Open (or append to) the CSV files in dir (created with its parents) and
 * start the thread that writes them; cursors (or NULL) is written to
 * dir/cursors after the rows it covers. NULL with *cause on failure.
 */
struct recorder *recorder_open(const char *dir, struct cursor_table *cursors,
    char **cause);
/* Buffer one row (the calling thread only: the engine's). */
void recorder_row(struct recorder *r, const struct csv_row *row);
/*
 * Hand the buffered rows to the writer thread without waiting for the
 * disk (rows buffer on while it still writes the last ones). 0, or -1
 * with *cause: the writer's last write failed, or it has been writing for
 * 2 s or more (a slow disk; rows wait in memory, bounded).
 */
int recorder_flush(struct recorder *r, char **cause);
/* Write every buffered row now, waiting for the disk; as recorder_flush. */
int recorder_sync(struct recorder *r, char **cause);
/*
 * While hold is set, the cursors are not written (they may cover what is
 * not on disk elsewhere yet: a remote command whose note is being synced,
 * remote.c); they are written at a handing-over after it is cleared.
 */
void recorder_hold_cursors(struct recorder *r, int hold);
/* Is the writer still writing what it was handed? */
int recorder_busy(struct recorder *r);
/*
 * Rows refused for want of room (a disk that took nothing for long) and
 * reported so far, over all files: a recording with any is incomplete.
 */
uint64_t recorder_lost(struct recorder *r);
/* The cursors file's last write failure (the caller's), or NULL. */
char *recorder_cursor_error(struct recorder *r);
/* Write what is left (waiting for the disk), stop the writer, close. */
void recorder_close(struct recorder *r);

/*
 * Closing without waiting for the disk (record stop in real time): after
 * recorder_release the engine adds no rows; the writer writes what is
 * left, then the cursors as they were at the release, and ends (a failed
 * write ends it too). recorder_ended says whether it has; recorder_finish
 * waits for that (as long as it takes, unless recorder_give_up_on's flag
 * becomes non-zero), frees r and returns 0; 1 with *cause: every row is
 * written but the cursors file could not be; -1 with *cause: a write
 * failed, or rows were refused for want of room; or -2 with *cause: the
 * wait was given up (r is then left to its writer, which no longer
 * touches the session's cursor table). The writer writes and closes the
 * files itself: nothing of it is written on the caller's thread.
 */
void recorder_release(struct recorder *r);
int recorder_ended(struct recorder *r);
int recorder_finish(struct recorder *r, char **cause);

/*
 * From now on recorder_sync and recorder_finish stop waiting for the disk
 * once *flag is non-zero (a second signal at quit).
 */
void recorder_give_up_on(struct recorder *r, volatile sig_atomic_t *flag);
const char *recorder_dir(const struct recorder *r);
/* The directory's realpath when it was opened (or as given). */
const char *recorder_real(const struct recorder *r);
uint64_t recorder_rows(const struct recorder *r);

#endif
