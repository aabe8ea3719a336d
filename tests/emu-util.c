/* emu-util.c: printing and timing shared by the emulators (emu-util.h). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "emu-util.h"

static const char *emu_util_prefix = "emu";

void
emu_util_name(const char *name)
{
	emu_util_prefix = name;
}

void
emu_log(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "%s: ", emu_util_prefix);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
emu_say(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

uint64_t
emu_now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec);
}
