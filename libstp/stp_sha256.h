/* stp_sha256: SHA-256 (FIPS 180-4), for file digests, ETags and token MACs. */
#ifndef STP_SHA256_H
#define STP_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define STP_SHA256_LEN 32
#define STP_SHA256_HEX_LEN 64

typedef struct {
    uint32_t h[8];
    uint64_t total;
    unsigned char block[64];
    size_t used;
} stp_sha256_t;

void stp_sha256_init(stp_sha256_t *ctx);
void stp_sha256_update(stp_sha256_t *ctx, const void *data, size_t len);
void stp_sha256_final(unsigned char out[STP_SHA256_LEN], stp_sha256_t *ctx);

/* One-shot digest of a buffer, as 64 lowercase hex digits plus NUL. */
void stp_sha256_hex(char out[STP_SHA256_HEX_LEN + 1], const void *data, size_t len);
void stp_hex_encode(char *out, const unsigned char *in, size_t len);

#endif
