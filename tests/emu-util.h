/*
 * emu-util.h: what every instrument emulator in tests/ prints and times
 * with: diagnostics on stderr prefixed with the emulator's name, event
 * lines on stdout (flushed at once, for the driver reading them), and
 * CLOCK_MONOTONIC in nanoseconds. Nothing here knows an instrument.
 */
#ifndef EMU_UTIL_H
#define EMU_UTIL_H

#include <stdint.h>

/* The prefix of emu_log lines ("arc1-emu"); set once at the start. */
void emu_util_name(const char *name);
/* "NAME: TEXT\n" on stderr. */
void emu_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "TEXT\n" on stdout, flushed. */
void emu_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t emu_now_ns(void);

#endif
