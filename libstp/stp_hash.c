#include "stp_hash.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

/* The digest, fetched from the default provider once: EVP_sha256() would make every
 * EVP_DigestInit_ex2 look it up again (OpenSSL 3), a lock and a hash lookup per fingerprint. It is
 * kept for the life of the process. */
static _Atomic(EVP_MD *) sha256_md;

static void fail(const char *what)
{
    fprintf(stderr, "stp_hash: libcrypto failed in %s (out of memory?)\n", what);
    abort();
}

static const EVP_MD *sha256(void)
{
    EVP_MD *md = atomic_load_explicit(&sha256_md, memory_order_acquire);
    if (md)
        return md;
    EVP_MD *fresh = EVP_MD_fetch(NULL, "SHA2-256", NULL);
    if (!fresh)
        fail("EVP_MD_fetch");
    /* Two threads may race here: one fetch wins, the other is given back. */
    if (!atomic_compare_exchange_strong_explicit(&sha256_md, &md, fresh, memory_order_acq_rel, memory_order_acquire)) {
        EVP_MD_free(fresh);
        return md;
    }
    return fresh;
}

stp_hash_t *stp_hash_new(void)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || !EVP_DigestInit_ex2(ctx, sha256(), NULL))
        fail("EVP_DigestInit_ex2");
    return (stp_hash_t *)ctx;
}

void stp_hash_update(stp_hash_t *h, const void *data, size_t len)
{
    if (!EVP_DigestUpdate((EVP_MD_CTX *)h, data, len))
        fail("EVP_DigestUpdate");
}

void stp_hash_final(unsigned char out[STP_HASH_LEN], stp_hash_t *h)
{
    EVP_MD_CTX *ctx = (EVP_MD_CTX *)h;
    /* Starting over on the same context saves allocating another (libcrypto 3.0 still makes new
     * digest state at each init). */
    if (!EVP_DigestFinal_ex(ctx, out, NULL) || !EVP_DigestInit_ex2(ctx, NULL, NULL))
        fail("EVP_DigestFinal_ex");
}

void stp_hash_free(stp_hash_t *h)
{
    EVP_MD_CTX_free((EVP_MD_CTX *)h);
}

void stp_hash_sha256(unsigned char out[STP_HASH_LEN], const void *data, size_t len)
{
    if (!EVP_Digest(data, len, out, NULL, sha256(), NULL))
        fail("EVP_Digest");
}

void stp_hash_sha256_hex(char out[STP_HASH_HEX_LEN + 1], const void *data, size_t len)
{
    unsigned char md[STP_HASH_LEN];
    stp_hash_sha256(md, data, len);
    stp_hash_hex(out, md, sizeof md);
}

void stp_hash_hmac_sha256(unsigned char out[STP_HASH_LEN], const void *key, size_t klen, const void *msg, size_t mlen)
{
    static const unsigned char none[1];
    unsigned int n = 0;
    /* HMAC() takes the key length as an int; a key that long is a caller's bug, not a key. */
    if (klen > 1u << 30 || !HMAC(sha256(), klen ? key : none, (int)klen, mlen ? msg : none, mlen, out, &n) ||
        n != STP_HASH_LEN)
        fail("HMAC");
}

void stp_hash_hex(char *out, const unsigned char *in, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}
