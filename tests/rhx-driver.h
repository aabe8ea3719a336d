/*
 * rhx-driver.h: start and steer tests/rhx-emu (an Intan RHX emulator on
 * loopback, written from the protocol notes apart from the plugin) from a
 * test or a benchmark: its ports (picked free), its control FIFO and its
 * stdout, read with deadlines. Functions return -1 on failure; nothing
 * here asserts.
 */
#ifndef RHX_DRIVER_H
#define RHX_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "emu-proc.h"

#define RHX_EMU_DEADLINE_MS 10000	/* generous: a loaded CI machine */

/* The emulator process and its channels. */
struct rhx_emu {
	struct emu_proc p;
	unsigned command_port, spike_port;
};

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t rhx_emu_now_ms(void);
/* Start top_builddir/tests/rhx-emu on free ports with extra arguments
 * (NULL ends); waits for its ready line. */
int rhx_emu_start(struct rhx_emu *e, ...);
/* Read stdout until a line starting with prefix (copied into line),
 * dropping the lines before it; within ms (0: RHX_EMU_DEADLINE_MS). */
int rhx_emu_wait_line(struct rhx_emu *e, const char *prefix, char *line,
    size_t len, int ms);
/* Send one control command ("split", "badmagic", "restart", ...). */
int rhx_emu_control(struct rhx_emu *e, const char *cmd);
/* A counter of the stats line ("records", "sets", ...), or -1. */
long rhx_emu_stat(struct rhx_emu *e, const char *key);
/* Stop it and remove its files. */
void rhx_emu_stop(struct rhx_emu *e);

#endif
