/*
 * sb-crossbar.h: device addresses of a crossbar of rows x cols memristors,
 * numbered as the ArC ONE instrument numbers them, header-only (a plugin
 * never links against host symbols). Shared by the simulated crossbar and
 * the instrument's plugin, so a session file moves between them unchanged.
 *
 * Wordlines and bitlines count from 1: "w3b5" or "3,5" is wordline 3,
 * bitline 5 (w1b1 to w32b32 on a 32x32 array). A bare number is the 0-based
 * device index, (w - 1) cols + (b - 1).
 */
#ifndef SB_CROSSBAR_H
#define SB_CROSSBAR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sb-args.h"

/* Read decimal digits at *sp into *out; 0, or -1 (no digits, overflow). */
static inline int
sb_crossbar_number(const char **sp, uint32_t *out)
{
	const char	*s = *sp;
	uint64_t	 v = 0;

	if (*s < '0' || *s > '9')
		return (-1);
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return (-1);
		s++;
	}
	*sp = s;
	*out = (uint32_t)v;
	return (0);
}

/* Skip spaces and tabs. */
static inline const char *
sb_crossbar_space(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return (s);
}

/*
 * Parse spec ("w3b5", "3,5" or "29") into the device index of a rows x
 * cols crossbar; 0, or -1 with *cause (if cause is not NULL), a message
 * starting with who (the plugin's name).
 */
static inline int
sb_crossbar_parse(const char *who, uint32_t rows, uint32_t cols,
    const char *spec, uint32_t *device, char **cause)
{
	const char		*s = sb_crossbar_space(spec != NULL ? spec : "");
	unsigned long long	 devices = (unsigned long long)rows * cols;
	uint32_t		 w, b;
	int			 pair;

	if (*s == 'w' || *s == 'W') {
		s++;
		if (sb_crossbar_number(&s, &w) != 0 ||
		    (*s != 'b' && *s != 'B'))
			goto bad;
		s++;
		if (sb_crossbar_number(&s, &b) != 0)
			goto bad;
		pair = 1;
	} else {
		if (sb_crossbar_number(&s, &w) != 0)
			goto bad;
		s = sb_crossbar_space(s);
		pair = (*s == ',');
		if (pair) {
			s = sb_crossbar_space(s + 1);
			if (sb_crossbar_number(&s, &b) != 0)
				goto bad;
		}
	}
	if (*sb_crossbar_space(s) != '\0')
		goto bad;

	if (!pair) {
		if (w >= devices) {
			sb_cause(cause, "%s: no device %u (crossbar has %llu "
			    "devices: 0-%llu)", who, w, devices, devices - 1);
			return (-1);
		}
		*device = w;
		return (0);
	}
	if (w < 1 || w > rows || b < 1 || b > cols) {
		sb_cause(cause, "%s: no device w%ub%u (crossbar is %ux%u: "
		    "w1-w%u, b1-b%u%s)", who, w, b, rows, cols, rows, cols,
		    w == 0 || b == 0 ? "; lines count from 1" : "");
		return (-1);
	}
	*device = (w - 1) * cols + (b - 1);
	return (0);

bad:
	sb_cause(cause, "%s: bad device address '%s': use w<wordline>"
	    "b<bitline> (w3b5) or <wordline>,<bitline> (3,5), counting from "
	    "1, or a device index (0-%llu)", who, spec != NULL ? spec : "",
	    devices - 1);
	return (-1);
}

/* Write device (an index of a crossbar with cols bitlines) as "w3b5". */
static inline void
sb_crossbar_format(uint32_t cols, uint32_t device, char *buf, size_t len)
{
	snprintf(buf, len, "w%ub%u", device / cols + 1, device % cols + 1);
}

#endif
