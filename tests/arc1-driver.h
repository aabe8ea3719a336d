/*
 * arc1-driver.h: start and steer tests/arc1-emu (an ArC ONE emulator on a
 * pseudo-terminal) from a test or a benchmark: its port, its control FIFO
 * and its stdout, read with deadlines. Functions return -1 (or NaN) on
 * failure; nothing here asserts.
 */
#ifndef ARC1_DRIVER_H
#define ARC1_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "emu-proc.h"

#define ARC1_EMU_DEADLINE_MS 15000	/* generous: a loaded CI machine */

/* The emulator process and its channels. */
struct arc1_emu {
	struct emu_proc p;
	char port[96];		/* the "serial port": a symlink to the pty */
};

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t arc1_emu_now_ms(void);
/* Start top_builddir/tests/arc1-emu with extra arguments (NULL ends). */
int arc1_emu_start(struct arc1_emu *e, ...);
/* Read stdout until a line starting with prefix (copied into line). */
int arc1_emu_wait_line(struct arc1_emu *e, const char *prefix, char *line,
    size_t len);
/* Send one control command ("silent", "junk 3", "unplug", ...). */
int arc1_emu_control(struct arc1_emu *e, const char *cmd);
/* A counter of the stats line ("reads", "pulses", ...), or -1. */
long arc1_emu_stat(struct arc1_emu *e, const char *key);
/* A device's noise-free resistance (lines from 1), or NaN. */
double arc1_emu_ohms(struct arc1_emu *e, unsigned w, unsigned b);
/* Stop it and remove its files. */
void arc1_emu_stop(struct arc1_emu *e);

#endif
