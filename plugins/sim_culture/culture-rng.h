/*
 * culture-rng.h: xoshiro256** (Blackman and Vigna, 2018), seeded through
 * splitmix64, so a culture is the same for a seed on every platform.
 */
#ifndef SB_CULTURE_RNG_H
#define SB_CULTURE_RNG_H

#include <math.h>
#include <stdint.h>

struct culture_rng {
	uint64_t s[4];
};

/* One splitmix64 step (for seeding). */
static inline uint64_t
culture_rng_splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31));
}

/* Seed a generator; stream picks an independent sequence for one seed. */
static inline void
culture_rng_seed(struct culture_rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL);
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = culture_rng_splitmix(&x);
}

/* Rotate left. */
static inline uint64_t
culture_rng_rotl(uint64_t x, int k)
{
	return ((x << k) | (x >> (64 - k)));
}

/* Next 64 random bits. */
static inline uint64_t
culture_rng_next(struct culture_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = culture_rng_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = culture_rng_rotl(s[3], 45);
	return (result);
}

/* Uniform double in [0, 1). */
static inline double
culture_rng_uniform(struct culture_rng *r)
{
	return ((double)(culture_rng_next(r) >> 11) * 0x1.0p-53);
}

/* Uniform integer in [0, n) (n > 0), without modulo bias worth noting. */
static inline uint32_t
culture_rng_below(struct culture_rng *r, uint32_t n)
{
	return ((uint32_t)(((culture_rng_next(r) >> 32) * (uint64_t)n) >> 32));
}

/* Exponential deviate with mean 1. */
static inline double
culture_rng_exp(struct culture_rng *r)
{
	return (-log1p(-culture_rng_uniform(r)));
}

#endif
