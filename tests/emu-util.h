/*
 * emu-util.h: what every instrument emulator in tests/ prints and times
 * with: diagnostics on stderr prefixed with the emulator's name, event
 * lines on stdout (flushed at once, for the driver reading them), and
 * CLOCK_MONOTONIC in nanoseconds. Nothing here knows an instrument.
 */
#ifndef EMU_UTIL_H
#define EMU_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* The prefix of emu_log lines ("arc1-emu"); set once at the start. */
void emu_util_name(const char *name);
/* "NAME: TEXT\n" on stderr. */
void emu_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "TEXT\n" on stdout, flushed. */
void emu_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t emu_now_ns(void);

/*
 * A control FIFO (tests drive a fault mode with  printf 'slow 50\n' >FIFO):
 * created with mkfifo (a FIFO already at the path is replaced; any other
 * file is an error), opened read-write and non-blocking so that a writer
 * closing it is never an EOF, and read line by line; a line longer than
 * EMU_CONTROL_LINE_MAX - 1 bytes is logged and discarded.
 */
#define EMU_CONTROL_LINE_MAX 256
struct emu_control {
	int	 fd;		/* -1: none */
	char	 line[EMU_CONTROL_LINE_MAX];
	size_t	 len;
	int	 skip;
	/* One control line, NUL-terminated, without its newline. */
	void	(*apply)(void *arg, char *line);
	void	*arg;
};

/* Create and open PATH; 0, or -1 (logged) with c->fd = -1. */
int emu_control_open(struct emu_control *c, const char *path,
    void (*apply)(void *, char *), void *arg);
/*
 * Apply every whole line written so far. Call it after every wake-up and
 * before reading any request, whether or not poll() reported the FIFO:
 * poll looks at its descriptors one after another, so a wake-up for a
 * request can miss a control line written just before that request, and
 * the fault it sets would then apply one request late.
 */
void emu_control_drain(struct emu_control *c);
/* Close the FIFO and remove PATH (nothing if none is open). */
void emu_control_close(struct emu_control *c, const char *path);

#endif
