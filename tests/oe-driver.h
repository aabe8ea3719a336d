/*
 * oe-driver.h: start and steer tests/oe-emu (an emulator of the Open Ephys
 * GUI, written from the protocol notes by someone else, used through its
 * usage only) from a test or a benchmark, and a host whose emit is safe to
 * read while the plugin's thread emits and stamps each event with
 * CLOCK_MONOTONIC. Functions return -1 on failure; nothing here asserts.
 */
#ifndef OE_DRIVER_H
#define OE_DRIVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "synbridge-plugin.h"

#define OE_EMU_DEADLINE_MS 10000	/* generous: a loaded machine */
#define OE_EMU_LINES 8192		/* stdout lines kept */
#define OE_EMU_LINE 256

/* The emulator process and what it printed. */
struct oe_emu {
	pid_t pid;
	int out;			/* its stdout */
	char dir[64], fifo[96], errpath[96];
	unsigned http_port, events_port, ne_port;
	char buf[8192];
	size_t len;
	char (*lines)[OE_EMU_LINE];	/* every complete line */
	int64_t *line_mono_us;		/* when it was read */
	size_t nlines;
};

/* Milliseconds and microseconds of CLOCK_MONOTONIC. */
int64_t oe_emu_now_ms(void);
int64_t oe_emu_now_us(void);
/* Start top_builddir/tests/oe-emu on free ports, extra arguments after
 * (NULL ends); wait for its "ready" line. */
int oe_emu_start(struct oe_emu *e, ...);
/* Read what it printed so far (no wait). */
void oe_emu_read(struct oe_emu *e);
/* The first line at or after *cursor starting with prefix, within ms;
 * copied into line, *cursor moved past it. */
int oe_emu_wait(struct oe_emu *e, const char *prefix, size_t *cursor,
    char *line, size_t len, int ms);
/* One control command ("restart 500", "badjson", "stats", ...). */
int oe_emu_control(struct oe_emu *e, const char *cmd);
/* A counter of the stats line ("spikes", "triggers", ...), or -1. */
long oe_emu_stat(struct oe_emu *e, const char *key);
/* A key=value number in a line ("sample=123"), or -1. */
long long oe_emu_field(const char *line, const char *key);
/* Stop it and remove its files. */
void oe_emu_stop(struct oe_emu *e);

/* An event as the host saw it, with when it was emitted. */
struct oe_seen {
	struct sb_event ev;
	int64_t mono_us;
};

/* The fake host, with a locked, stamping emit (oe_seen_*). */
extern struct sb_host_api oe_test_host;
void oe_test_host_init(void);
size_t oe_seen_count(void);
int oe_seen_get(size_t i, struct oe_seen *out);
void oe_seen_clear(void);

#endif
