/* stp_sha256 internals, for the tests: the two ways of compressing blocks. */
#ifndef STP_SHA256_INT_H
#define STP_SHA256_INT_H

#include <stddef.h>
#include <stdint.h>

/* Compresses n 64-byte blocks into h with the portable rounds. */
void stp_sha256_blocks_portable(uint32_t h[8], const unsigned char *p, size_t n);
/* The same with the CPU's SHA instructions; 0 (and nothing done) when it has none. */
int stp_sha256_blocks_accel(uint32_t h[8], const unsigned char *p, size_t n);

#endif
