/* memristor-rng.c: seeded random streams (splitmix64), one per device. */
#include "config.h"

#include <math.h>
#include <stdint.h>

#include "memristor.h"

/*
 * splitmix64 (Steele, Lea, Flood 2014): 64 bits of state, passes BigCrush,
 * and any state is a valid one, so every device can carry its own stream in
 * eight bytes and stay independent of the others' activity.
 */
uint64_t
memristor_rng_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A starting state for stream index of seed, decorrelated from its peers. */
uint64_t
memristor_rng_stream(uint64_t seed, uint64_t index)
{
	uint64_t s = seed ^ (index * 0xd1342543de82ef95ULL);

	memristor_rng_next(&s);
	return memristor_rng_next(&s);
}

/* Uniform in (0, 1], 53 bits. */
double
memristor_rng_uniform(uint64_t *state)
{
	return ((memristor_rng_next(state) >> 11) + 1) * 0x1.0p-53;
}

/* Standard normal deviate (Box-Muller, one of the pair). */
double
memristor_rng_gauss(uint64_t *state)
{
	double u1 = memristor_rng_uniform(state);
	double u2 = memristor_rng_uniform(state);

	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}
