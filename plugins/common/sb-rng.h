/*
 * sb-rng.h: seeded random numbers for the simulated plugins, header-only
 * (a plugin never links against host symbols): splitmix64 (Steele, Lea and
 * Flood, 2014) for seeding and for eight-byte streams, xoshiro256**
 * (Blackman and Vigna, 2018) for long ones, and the draws built on them.
 * A seed gives the same numbers on every platform.
 */
#ifndef SB_RNG_H
#define SB_RNG_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* A xoshiro256** generator. */
struct sb_rng {
	uint64_t s[4];
};

/* One splitmix64 step: the next 64 bits of the stream in *x. */
static inline uint64_t
sb_rng_splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31));
}

/* Seed a generator; stream picks an independent sequence for one seed. */
static inline void
sb_rng_seed(struct sb_rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL);
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = sb_rng_splitmix(&x);
}

/* Rotate left. */
static inline uint64_t
sb_rng_rotl(uint64_t x, int k)
{
	return ((x << k) | (x >> (64 - k)));
}

/* Next 64 random bits. */
static inline uint64_t
sb_rng_next(struct sb_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = sb_rng_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = sb_rng_rotl(s[3], 45);
	return (result);
}

/* 64 random bits as a double in [0, 1) (53 bits). */
static inline double
sb_rng_unit(uint64_t bits)
{
	return ((double)(bits >> 11) * 0x1.0p-53);
}

/* 64 random bits as a double in (0, 1): never 0, never 1. */
static inline double
sb_rng_unit_open(uint64_t bits)
{
	return (((bits >> 11) + 0.5) * 0x1.0p-53);
}

/* 64 random bits as a double in (0, 1]: never 0, so log() is safe. */
static inline double
sb_rng_unit_positive(uint64_t bits)
{
	return (((bits >> 11) + 1) * 0x1.0p-53);
}

/* Uniform double in [0, 1). */
static inline double
sb_rng_uniform(struct sb_rng *r)
{
	return (sb_rng_unit(sb_rng_next(r)));
}

/* Uniform integer in [0, n) (n > 0), without modulo bias worth noting. */
static inline uint32_t
sb_rng_below(struct sb_rng *r, uint32_t n)
{
	return ((uint32_t)(((sb_rng_next(r) >> 32) * (uint64_t)n) >> 32));
}

/* Exponential deviate with mean 1. */
static inline double
sb_rng_exp(struct sb_rng *r)
{
	return (-log1p(-sb_rng_uniform(r)));
}

/*
 * Box-Muller: two standard normal deviates from u1 in (0, 1] and u2 in
 * [0, 1]; returns the cosine one and, if other is not NULL, stores the
 * sine one there.
 */
static inline double
sb_rng_box_muller(double u1, double u2, double *other)
{
	double r = sqrt(-2.0 * log(u1)), th = 2.0 * M_PI * u2;

	if (other != NULL)
		*other = r * sin(th);
	return (r * cos(th));
}

#endif
