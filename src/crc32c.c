/* crc32c.c: CRC-32C, slicing-by-8 with a three-lane SSE4.2 fast path. */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>
#define CRC32C_HAVE_SSE42 1
#endif

#include "crc32c.h"

#define CRC32C_POLY 0x82f63b78U	/* 0x1edc6f41, bit-reflected */

static uint32_t crc32c_table[8][256];
static uint32_t (*crc32c_impl)(uint32_t, const void *, size_t);
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;

/* Little-endian 64-bit load from any alignment on any host. */
static inline uint64_t
crc32c_load64(const uint8_t *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	    (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
	    (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
	    (uint64_t)p[7] << 56;
}

/* Slicing-by-8 over the built tables. */
static uint32_t
crc32c_slice8(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t w;

	crc = ~crc;
	while (len >= 8) {
		w = crc32c_load64(p) ^ crc;
		crc = crc32c_table[7][w & 0xff] ^
		    crc32c_table[6][(w >> 8) & 0xff] ^
		    crc32c_table[5][(w >> 16) & 0xff] ^
		    crc32c_table[4][(w >> 24) & 0xff] ^
		    crc32c_table[3][(w >> 32) & 0xff] ^
		    crc32c_table[2][(w >> 40) & 0xff] ^
		    crc32c_table[1][(w >> 48) & 0xff] ^
		    crc32c_table[0][w >> 56];
		p += 8;
		len -= 8;
	}
	while (len-- > 0)
		crc = crc32c_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/*
 * Shifting a CRC register over zeros: the register after A || B, from any
 * start, is shift(register after A, len B) ^ (register over B from 0), as
 * the CRC is linear over GF(2). crc32c_zeros_op builds the 32x32 matrix
 * that appends 2^k zero bytes; crc32c_zeros turns it into four byte
 * tables. After Mark Adler's crc32c.c (zlib licence), rewritten here.
 */
#define CRC32C_LONG 8192	/* bytes per lane of a long 3-lane block */
#define CRC32C_SHORT 256	/* bytes per lane of a short 3-lane block */

static uint32_t crc32c_long[4][256], crc32c_short[4][256];

/* The GF(2) matrix mat (one word per column) times the vector vec. */
static uint32_t
crc32c_gf2_times(const uint32_t *mat, uint32_t vec)
{
	uint32_t sum = 0;

	for (; vec != 0; vec >>= 1, mat++) {
		if (vec & 1)
			sum ^= *mat;
	}
	return sum;
}

/* square = mat * mat over GF(2), both 32 x 32. */
static void
crc32c_gf2_square(uint32_t *square, const uint32_t *mat)
{
	int n;

	for (n = 0; n < 32; n++)
		square[n] = crc32c_gf2_times(mat, mat[n]);
}

/* op = the operator that appends len zero bytes (len a power of two). */
static void
crc32c_zeros_op(uint32_t *op, size_t len)
{
	uint32_t a[32], b[32], row = 1;
	int n;

	a[0] = CRC32C_POLY;		/* one zero bit */
	for (n = 1; n < 32; n++, row <<= 1)
		a[n] = row;
	crc32c_gf2_square(b, a);	/* two zero bits */
	crc32c_gf2_square(a, b);	/* four */
	crc32c_gf2_square(b, a);	/* one zero byte */
	for (; len > 1; len >>= 1) {
		crc32c_gf2_square(a, b);
		memcpy(b, a, sizeof a);
	}
	memcpy(op, b, sizeof b);
}

/* Byte tables applying the operator for len zero bytes. */
static void
crc32c_zeros(uint32_t zeros[4][256], size_t len)
{
	uint32_t op[32], n;

	crc32c_zeros_op(op, len);
	for (n = 0; n < 256; n++) {
		zeros[0][n] = crc32c_gf2_times(op, n);
		zeros[1][n] = crc32c_gf2_times(op, n << 8);
		zeros[2][n] = crc32c_gf2_times(op, n << 16);
		zeros[3][n] = crc32c_gf2_times(op, n << 24);
	}
}

/* The register crc moved on over the zero bytes zeros was built for. */
static inline uint32_t
crc32c_shift(uint32_t zeros[4][256], uint32_t crc)
{
	return zeros[0][crc & 0xff] ^ zeros[1][(crc >> 8) & 0xff] ^
	    zeros[2][(crc >> 16) & 0xff] ^ zeros[3][crc >> 24];
}

#ifdef CRC32C_HAVE_SSE42
/*
 * One block of three lanes of lane bytes each from p: the register c0
 * moved on over all three (zeros shifts a register over lane bytes).
 */
__attribute__((target("sse4.2"), always_inline)) static inline uint64_t
crc32c_lanes(uint64_t c0, const uint8_t *p, size_t lane,
    uint32_t zeros[4][256])
{
	const uint8_t	*end = p + lane;
	uint64_t	 c1 = 0, c2 = 0;

	for (; p < end; p += 8) {
		c0 = _mm_crc32_u64(c0, crc32c_load64(p));
		c1 = _mm_crc32_u64(c1, crc32c_load64(p + lane));
		c2 = _mm_crc32_u64(c2, crc32c_load64(p + 2 * lane));
	}
	c0 = crc32c_shift(zeros, (uint32_t)c0) ^ (uint32_t)c1;
	return (crc32c_shift(zeros, (uint32_t)c0) ^ (uint32_t)c2);
}

/*
 * The SSE4.2 crc32 instruction, eight bytes at a time. It takes three
 * cycles and can start every cycle, so long buffers run as three
 * independent lanes, joined by crc32c_shift: about three times the
 * speed of one chain.
 */
__attribute__((target("sse4.2"))) static uint32_t
crc32c_sse42(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t c0 = ~crc;

	for (; len >= 3 * CRC32C_LONG; p += 3 * CRC32C_LONG,
	    len -= 3 * CRC32C_LONG)
		c0 = crc32c_lanes(c0, p, CRC32C_LONG, crc32c_long);
	for (; len >= 3 * CRC32C_SHORT; p += 3 * CRC32C_SHORT,
	    len -= 3 * CRC32C_SHORT)
		c0 = crc32c_lanes(c0, p, CRC32C_SHORT, crc32c_short);
	for (; len >= 8; p += 8, len -= 8)
		c0 = _mm_crc32_u64(c0, crc32c_load64(p));
	while (len-- > 0)
		c0 = _mm_crc32_u8((uint32_t)c0, *p++);
	return ~(uint32_t)c0;
}
#endif

/* Build the tables and pick the implementation, once. */
static void
crc32c_init(void)
{
	uint32_t c;
	int i, j, k;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = (c >> 1) ^ (CRC32C_POLY & (0U - (c & 1)));
		crc32c_table[0][i] = c;
	}
	for (i = 0; i < 256; i++) {
		c = crc32c_table[0][i];
		for (k = 1; k < 8; k++) {
			c = crc32c_table[0][c & 0xff] ^ (c >> 8);
			crc32c_table[k][i] = c;
		}
	}

	crc32c_zeros(crc32c_long, CRC32C_LONG);
	crc32c_zeros(crc32c_short, CRC32C_SHORT);
	crc32c_impl = crc32c_slice8;
#ifdef CRC32C_HAVE_SSE42
	__builtin_cpu_init();
	if (__builtin_cpu_supports("sse4.2"))
		crc32c_impl = crc32c_sse42;
#endif
}

/* CRC-32C of len bytes, continuing from crc (0 to start). */
uint32_t
crc32c(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&crc32c_once, crc32c_init);
	return crc32c_impl(crc, buf, len);
}

/* The portable slicing-by-8 implementation, for tests and comparison. */
uint32_t
crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	pthread_once(&crc32c_once, crc32c_init);
	return crc32c_slice8(crc, buf, len);
}

/* Does crc32c() use the SSE4.2 crc32 instruction on this machine? */
int
crc32c_hw_available(void)
{
	pthread_once(&crc32c_once, crc32c_init);
	return crc32c_impl != crc32c_slice8;
}
