/* memristor-rng.c: seeded random streams (splitmix64), one per device. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "memristor.h"
#include "sb-rng.h"

/*
 * Every device carries its own splitmix64 stream: 64 bits of state, and any
 * state is a valid one, so a device's numbers stay independent of the
 * others' activity.
 */

/* A starting state for stream index of seed, decorrelated from its peers. */
uint64_t
memristor_rng_stream(uint64_t seed, uint64_t index)
{
	uint64_t s = seed ^ (index * 0xd1342543de82ef95ULL);

	sb_rng_splitmix(&s);
	return sb_rng_splitmix(&s);
}

/* Uniform in (0, 1], 53 bits. */
double
memristor_rng_uniform(uint64_t *state)
{
	return sb_rng_unit_positive(sb_rng_splitmix(state));
}

/* Standard normal deviate (Box-Muller, one of the pair). */
double
memristor_rng_gauss(uint64_t *state)
{
	double u1 = memristor_rng_uniform(state);

	return sb_rng_box_muller(u1, memristor_rng_uniform(state), NULL);
}
