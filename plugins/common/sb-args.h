/*
 * sb-args.h: checks of key=value argument values and of the messages a
 * plugin hands back through char **cause, header-only (a plugin never links
 * against host symbols). The messages themselves stay with each plugin.
 */
#ifndef SB_ARGS_H
#define SB_ARGS_H

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "synbridge-plugin.h"

/* Parse all of s as a number (inf and nan included); 0, or -1. */
static inline int
sb_args_strtod(const char *s, double *out)
{
	char	*end;

	errno = 0;
	*out = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0)
		return (-1);
	return (0);
}

/* Parse all of s as a finite number; 0, or -1. */
static inline int
sb_args_number(const char *s, double *out)
{
	if (sb_args_strtod(s, out) != 0 || !isfinite(*out))
		return (-1);
	return (0);
}

/* Parse all of s as decimal digits worth at most UINT32_MAX; 0, or -1. */
static inline int
sb_args_uint32(const char *s, uint32_t *out)
{
	uint64_t	v = 0;

	if (*s == '\0')
		return (-1);
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return (-1);
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return (-1);
	}
	*out = (uint32_t)v;
	return (0);
}

/* Set *cause (if cause is not NULL) to a formatted, malloc'd message. */
static inline void __attribute__((format(printf, 2, 3)))
sb_cause(char **cause, const char *fmt, ...)
{
	va_list	ap;

	if (cause == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) == -1)
		*cause = NULL;
	va_end(ap);
}

/*
 * The load argument key as a whole number in [lo, hi]: *out is left as it
 * is (the default) when the argument is absent. 0, or -1 with *cause
 * "WHO: bad KEY=VALUE: give a whole number from LO to HI".
 */
static inline int
sb_args_get_uint32(const struct sb_host_api *host, struct sb_plugin *p,
    const char *who, const char *key, uint32_t lo, uint32_t hi,
    uint32_t *out, char **cause)
{
	const char	*s = host->arg(p, key);
	uint32_t	 v;

	if (s == NULL)
		return (0);
	if (sb_args_uint32(s, &v) != 0 || v < lo || v > hi) {
		sb_cause(cause, "%s: bad %s=%s: give a whole number from %u to "
		    "%u", who, key, s, lo, hi);
		return (-1);
	}
	*out = v;
	return (0);
}

/* The load argument key as a finite number in [lo, hi]; as above. */
static inline int
sb_args_get_number(const struct sb_host_api *host, struct sb_plugin *p,
    const char *who, const char *key, double lo, double hi, double *out,
    char **cause)
{
	const char	*s = host->arg(p, key);
	double		 v;

	if (s == NULL)
		return (0);
	if (sb_args_number(s, &v) != 0 || v < lo || v > hi) {
		sb_cause(cause, "%s: bad %s=%s: give a number from %g to %g",
		    who, key, s, lo, hi);
		return (-1);
	}
	*out = v;
	return (0);
}

/* Is a counter at 1, 2, 4, 8, ...? Logging then is visible, never a flood. */
static inline int
sb_worth_logging(uint64_t n)
{
	return (n != 0 && (n & (n - 1)) == 0);
}

#endif
