/* memristor-cause.c: error messages handed back through char **cause. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "memristor.h"

/* Set *cause to a malloc'd "sim_memristor: ..." message (if cause given). */
void
memristor_cause(char **cause, const char *fmt, ...)
{
	va_list ap;
	char *msg, *out;

	if (cause == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	if (msg == NULL || asprintf(&out, MEMRISTOR_NAME ": %s", msg) == -1)
		out = NULL;
	free(msg);
	*cause = out;
}
