/* stp_hash: SHA-256 and HMAC-SHA256 from OpenSSL's libcrypto (which picks the CPU's SHA
 * instructions itself), and the hex form of digests. For file digests, ETags, fingerprints and
 * token MACs.
 *
 * libcrypto fails on SHA-256 only when memory runs out (or its configuration is broken). Like an
 * APR pool, these functions then abort: a digest or MAC that is not one must never leave here. */
#ifndef STP_HASH_H
#define STP_HASH_H

#include <stddef.h>

#define STP_HASH_LEN 32
#define STP_HASH_HEX_LEN 64

/* A SHA-256 fed in pieces (libcrypto's digest context). Not shared between threads. */
typedef struct stp_hash_t stp_hash_t;

stp_hash_t *stp_hash_new(void);
void stp_hash_update(stp_hash_t *h, const void *data, size_t len);
/* Writes the digest and starts over, so that one context serves many digests. */
void stp_hash_final(unsigned char out[STP_HASH_LEN], stp_hash_t *h);
void stp_hash_free(stp_hash_t *h);

/* One-shot digests. */
void stp_hash_sha256(unsigned char out[STP_HASH_LEN], const void *data, size_t len);
void stp_hash_sha256_hex(char out[STP_HASH_HEX_LEN + 1], const void *data, size_t len);
/* HMAC-SHA256 (RFC 2104). */
void stp_hash_hmac_sha256(unsigned char out[STP_HASH_LEN], const void *key, size_t klen, const void *msg, size_t mlen);

/* len bytes as 2 * len lowercase hex digits and a NUL. */
void stp_hash_hex(char *out, const unsigned char *in, size_t len);

#endif
