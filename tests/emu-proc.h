/*
 * emu-proc.h: an instrument emulator as a child process, for tests and
 * benchmarks: started in a temporary directory with a control FIFO, ended
 * with its parent (PR_SET_PDEATHSIG), its stdout read line by line with
 * deadlines, its `stats` line parsed. The drivers of each emulator
 * (arc1-driver.c, rhx-driver.c) add what is theirs. Nothing here asserts.
 */
#ifndef EMU_PROC_H
#define EMU_PROC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One emulator process and its channels. */
struct emu_proc {
	pid_t pid;
	int out;		/* its stdout, or -1 */
	char dir[64];		/* its temporary directory */
	char fifo[96];		/* dir/control */
	char buf[65536];	/* stdout not read as lines yet */
	size_t len;
};

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t emu_proc_now_ms(void);
/* A fresh temporary directory /tmp/NAME-XXXXXX with its FIFO's path. */
int emu_proc_dir(struct emu_proc *e, const char *name);
/* Start argv[0] (NULL-terminated argv) with its stdout on a pipe. */
int emu_proc_spawn(struct emu_proc *e, const char *const *argv);
/* Read stdout until a line starting with prefix (copied into line),
 * dropping the lines before it; -1 after ms milliseconds. */
int emu_proc_wait_line(struct emu_proc *e, const char *prefix, char *line,
    size_t len, int ms);
/* Send one line to its control FIFO. */
int emu_proc_control(struct emu_proc *e, const char *cmd);
/* KEY's value in the answer to `stats` ("stats a=1 b=2"), or -1. */
long emu_proc_stat(struct emu_proc *e, const char *key, int ms);
/* End it (SIGTERM, wait) and remove its directory. */
void emu_proc_stop(struct emu_proc *e, const char *extra_file);

#endif
