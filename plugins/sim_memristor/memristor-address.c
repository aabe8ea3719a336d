/* memristor-address.c: crossbar device addresses ("w3b5", "3,5", "29"). */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "memristor.h"

/* Read decimal digits at *sp into *out; 0 or -1 (no digits, overflow). */
static int
memristor_address_number(const char **sp, uint32_t *out)
{
	const char *s = *sp;
	uint64_t v = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	while (isdigit((unsigned char)*s)) {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return -1;
		s++;
	}
	*sp = s;
	*out = (uint32_t)v;
	return 0;
}

/* Skip spaces and tabs. */
static const char *
memristor_address_space(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* Parse spec into a device index for a rows x cols crossbar. */
int
memristor_address_parse(uint32_t rows, uint32_t cols, const char *spec,
    uint32_t *device, char **cause)
{
	const char *s = memristor_address_space(spec != NULL ? spec : "");
	uint32_t w, b, index;
	uint64_t devices = (uint64_t)rows * cols;
	int pair;

	if (*s == 'w' || *s == 'W') {
		s++;
		if (memristor_address_number(&s, &w) != 0 ||
		    (*s != 'b' && *s != 'B'))
			goto bad;
		s++;
		if (memristor_address_number(&s, &b) != 0)
			goto bad;
		pair = 1;
	} else {
		if (memristor_address_number(&s, &w) != 0)
			goto bad;
		s = memristor_address_space(s);
		pair = (*s == ',');
		if (pair) {
			s = memristor_address_space(s + 1);
			if (memristor_address_number(&s, &b) != 0)
				goto bad;
		}
	}
	if (*memristor_address_space(s) != '\0')
		goto bad;

	if (!pair) {
		index = w;
		if (index >= devices) {
			memristor_cause(cause, "no device %u (crossbar has "
			    "%llu devices: 0-%llu)", index,
			    (unsigned long long)devices,
			    (unsigned long long)devices - 1);
			return -1;
		}
		*device = index;
		return 0;
	}
	if (w >= rows || b >= cols) {
		memristor_cause(cause, "no device w%ub%u (crossbar is %ux%u: "
		    "w0-%u, b0-%u)", w, b, rows, cols, rows - 1, cols - 1);
		return -1;
	}
	*device = w * cols + b;
	return 0;

bad:
	memristor_cause(cause, "bad device address '%s': use w<wordline>"
	    "b<bitline> (w3b5), <wordline>,<bitline> (3,5) or an index "
	    "(0-%llu)", spec != NULL ? spec : "",
	    (unsigned long long)devices - 1);
	return -1;
}

/* Write device as "w3b5" into buf. */
void
memristor_address_format(uint32_t cols, uint32_t device, char *buf,
    size_t len)
{
	snprintf(buf, len, "w%ub%u", device / cols, device % cols);
}
