/*
 * rhx-driver.c: start and steer the Intan RHX emulator (rhx-driver.h), on
 * the shared emulator process code (emu-proc.c).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rhx-driver.h"

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t
rhx_emu_now_ms(void)
{
	return emu_proc_now_ms();
}

/* Read stdout until a line starting with prefix; copy it. */
int
rhx_emu_wait_line(struct rhx_emu *e, const char *prefix, char *line,
    size_t len, int ms)
{
	return emu_proc_wait_line(&e->p, prefix, line, len, ms > 0 ? ms :
	    RHX_EMU_DEADLINE_MS);
}

/* Start the emulator on free ports with extra arguments (NULL ends). */
int
rhx_emu_start(struct rhx_emu *e, ...)
{
	const char *top = getenv("top_builddir"), *argv[40], *a;
	char prog[256], line[128];
	int argc = 0;
	va_list ap;

	memset(e, 0, sizeof *e);
	if (emu_proc_dir(&e->p, "sb-rhx") != 0)
		return -1;
	snprintf(prog, sizeof prog, "%s/tests/rhx-emu", top ? top : ".");
	argv[argc++] = prog;
	argv[argc++] = "--command-port";
	argv[argc++] = "0";
	argv[argc++] = "--spike-port";
	argv[argc++] = "0";
	argv[argc++] = "--control";
	argv[argc++] = e->p.fifo;
	va_start(ap, e);
	while ((a = va_arg(ap, const char *)) != NULL && argc < 38)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	if (emu_proc_spawn(&e->p, argv) != 0)
		return -1;
	if (rhx_emu_wait_line(e, "ready ", line, sizeof line, 0) != 0 ||
	    sscanf(line, "ready %u %u", &e->command_port, &e->spike_port) != 2)
		return -1;
	return 0;
}

/* Send a control command. */
int
rhx_emu_control(struct rhx_emu *e, const char *cmd)
{
	return emu_proc_control(&e->p, cmd);
}

/* A counter from the emulator's stats line. */
long
rhx_emu_stat(struct rhx_emu *e, const char *key)
{
	return emu_proc_stat(&e->p, key, RHX_EMU_DEADLINE_MS);
}

/* Stop the emulator and remove its files. */
void
rhx_emu_stop(struct rhx_emu *e)
{
	emu_proc_stop(&e->p, NULL);
}
