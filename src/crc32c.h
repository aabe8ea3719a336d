/*
 * crc32c.h: CRC-32C (Castagnoli, reflected polynomial 0x82f63b78), as used
 * by iSCSI, SCTP, ext4 and the relay wire format.
 *
 * crc32c(0, "123456789", 9) == 0xe3069283. Pass the previous result as
 * crc to continue over more data: crc32c(crc32c(0, a, n), b, m) equals the
 * CRC of a followed by b.
 */
#ifndef SB_CRC32C_H
#define SB_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* CRC-32C of len bytes, continuing from crc (0 to start). */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

/* The portable slicing-by-8 implementation, for tests and comparison. */
uint32_t crc32c_sw(uint32_t crc, const void *buf, size_t len);

/* Does crc32c() use the SSE4.2 crc32 instruction on this machine? */
int crc32c_hw_available(void);

#endif
