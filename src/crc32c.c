/* crc32c.c: CRC-32C, slicing-by-8 with an SSE4.2 fast path. */
#include "config.h"

#include <pthread.h>
#include <stdint.h>

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

#ifdef CRC32C_HAVE_SSE42
/* The SSE4.2 crc32 instruction, eight bytes at a time. */
__attribute__((target("sse4.2"))) static uint32_t
crc32c_sse42(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t c = ~crc;

	while (len >= 8) {
		c = _mm_crc32_u64(c, crc32c_load64(p));
		p += 8;
		len -= 8;
	}
	while (len-- > 0)
		c = _mm_crc32_u8((uint32_t)c, *p++);
	return ~(uint32_t)c;
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
