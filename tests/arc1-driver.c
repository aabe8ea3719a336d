/*
 * arc1-driver.c: start and steer the ArC ONE emulator (arc1-driver.h), on
 * the shared emulator process code (emu-proc.c).
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc1-driver.h"

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t
arc1_emu_now_ms(void)
{
	return emu_proc_now_ms();
}

/* Read stdout until a line starting with prefix; copy it. */
int
arc1_emu_wait_line(struct arc1_emu *e, const char *prefix, char *line,
    size_t len)
{
	return emu_proc_wait_line(&e->p, prefix, line, len,
	    ARC1_EMU_DEADLINE_MS);
}

/* Start the emulator with extra arguments (NULL-terminated). */
int
arc1_emu_start(struct arc1_emu *e, ...)
{
	const char *top = getenv("top_builddir"), *argv[32], *a;
	char prog[256];
	int argc = 0;
	va_list ap;

	memset(e, 0, sizeof *e);
	if (emu_proc_dir(&e->p, "sb-arc1") != 0)
		return -1;
	snprintf(e->port, sizeof e->port, "%s/ttyARC", e->p.dir);
	snprintf(prog, sizeof prog, "%s/tests/arc1-emu", top ? top : ".");
	argv[argc++] = prog;
	argv[argc++] = "--link";
	argv[argc++] = e->port;
	argv[argc++] = "--control";
	argv[argc++] = e->p.fifo;
	va_start(ap, e);
	while ((a = va_arg(ap, const char *)) != NULL && argc < 30)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	if (emu_proc_spawn(&e->p, argv) != 0)
		return -1;
	return arc1_emu_wait_line(e, "ready", NULL, 0);
}

/* Send a control command. */
int
arc1_emu_control(struct arc1_emu *e, const char *cmd)
{
	return emu_proc_control(&e->p, cmd);
}

/* A counter from the emulator's stats line. */
long
arc1_emu_stat(struct arc1_emu *e, const char *key)
{
	return emu_proc_stat(&e->p, key, ARC1_EMU_DEADLINE_MS);
}

/* The emulator's noise-free resistance of a device (1-based lines). */
double
arc1_emu_ohms(struct arc1_emu *e, unsigned w, unsigned b)
{
	char cmd[32], line[128];
	double r;

	snprintf(cmd, sizeof cmd, "ohms %u %u", w, b);
	if (arc1_emu_control(e, cmd) != 0 ||
	    arc1_emu_wait_line(e, "ohms", line, sizeof line) != 0 ||
	    sscanf(line, "ohms %*u %*u %lf", &r) != 1)
		return NAN;
	return r;
}

/* Stop the emulator and remove its files. */
void
arc1_emu_stop(struct arc1_emu *e)
{
	emu_proc_stop(&e->p, e->port);
}
