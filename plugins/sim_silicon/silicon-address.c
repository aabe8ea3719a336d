/* silicon-address.c: chip/core/neuron addresses ("c0k1n17"). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "sb-args.h"
#include "silicon.h"

/* Read a decimal number at *sp; -1 if there is none. */
static long
silicon_address_number(const char **sp)
{
	const char *s = *sp;
	char *end;
	long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end - s > 6)
		return -1;
	*sp = end;
	return v;
}

/*
 * Parse "cCkKnN" (chip C, core K, neuron N; case-insensitive) or a plain
 * unit index into *unit, checked against chips x cores.
 */
int
silicon_address_parse(int chips, int cores, const char *spec, uint32_t *unit,
    char **cause)
{
	const char *s = spec;
	long chip, core, neuron, index;

	if (spec == NULL || *spec == '\0') {
		sb_cause(cause, "sim_silicon: empty address (use cCkKnN, "
		    "e.g. c0k1n17, or a unit index)");
		return -1;
	}
	if (isdigit((unsigned char)*s)) {
		index = silicon_address_number(&s);
		if (index < 0 || *s != '\0') {
			sb_cause(cause, "sim_silicon: bad address '%s' "
			    "(use cCkKnN, e.g. c0k1n17, or a unit index)",
			    spec);
			return -1;
		}
		chip = index / SILICON_CHIP_UNITS;
		core = (index % SILICON_CHIP_UNITS) / SILICON_CORE_NEURONS;
		neuron = index % SILICON_CORE_NEURONS;
	} else {
		chip = core = neuron = -1;
		if (tolower((unsigned char)*s) == 'c') {
			s++;
			chip = silicon_address_number(&s);
		}
		if (chip >= 0 && tolower((unsigned char)*s) == 'k') {
			s++;
			core = silicon_address_number(&s);
		}
		if (core >= 0 && tolower((unsigned char)*s) == 'n') {
			s++;
			neuron = silicon_address_number(&s);
		}
		if (neuron < 0 || *s != '\0') {
			sb_cause(cause, "sim_silicon: bad address '%s' "
			    "(use cCkKnN, e.g. c0k1n17, or a unit index)",
			    spec);
			return -1;
		}
	}
	if (chip >= chips) {
		sb_cause(cause, "sim_silicon: address '%s': no chip %ld "
		    "(have c0-c%d)", spec, chip, chips - 1);
		return -1;
	}
	if (core >= cores) {
		sb_cause(cause, "sim_silicon: address '%s': no core %ld "
		    "(have k0-k%d on each chip)", spec, core, cores - 1);
		return -1;
	}
	if (neuron >= SILICON_CORE_NEURONS) {
		sb_cause(cause, "sim_silicon: address '%s': no neuron %ld "
		    "(have n0-n%d on each core)", spec, neuron,
		    SILICON_CORE_NEURONS - 1);
		return -1;
	}
	*unit = (uint32_t)(chip * SILICON_CHIP_UNITS +
	    core * SILICON_CORE_NEURONS + neuron);
	return 0;
}

/* Write a unit index as "cCkKnN". */
void
silicon_address_format(uint32_t unit, char *buf, size_t len)
{
	snprintf(buf, len, "c%uk%un%u", unit / SILICON_CHIP_UNITS,
	    (unit % SILICON_CHIP_UNITS) / SILICON_CORE_NEURONS,
	    unit % SILICON_CORE_NEURONS);
}
