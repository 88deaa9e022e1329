/* stp_codec: the compact, bounds-checked binary encoding of catalog and state records.
 * A record is a sequence of fields: unsigned varints and length-prefixed byte strings (the
 * "cstr" kind also NUL-terminated, so that decoding needs no copy).
 * Decoding never reads past the buffer and reports truncation as an error. */
#ifndef STP_CODEC_H
#define STP_CODEC_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <stdint.h>

typedef struct {
    apr_pool_t *pool;
    char *buf;
    apr_size_t len, cap;
} stp_enc_t;

typedef struct {
    const unsigned char *p, *end;
    int failed;
} stp_dec_t;

void stp_codec_enc_init(stp_enc_t *enc, apr_pool_t *pool);
void stp_codec_enc_uint(stp_enc_t *enc, uint64_t v);
void stp_codec_enc_int(stp_enc_t *enc, int64_t v);
/* NULL is encoded like "" */
void stp_codec_enc_str(stp_enc_t *enc, const char *s);
void stp_codec_enc_bytes(stp_enc_t *enc, const void *data, apr_size_t len);
/* A string that decodes in place (stp_codec_dec_cstr): its length, its bytes and a NUL. */
void stp_codec_enc_cstr(stp_enc_t *enc, const char *s);

void stp_codec_dec_init(stp_dec_t *dec, const void *data, apr_size_t len);
uint64_t stp_codec_dec_uint(stp_dec_t *dec);
int64_t stp_codec_dec_int(stp_dec_t *dec);
/* A pool copy, NUL-terminated; "" after a failure. Strings with embedded NUL fail. */
const char *stp_codec_dec_str(stp_dec_t *dec, apr_pool_t *pool);
/* A string written by stp_codec_enc_cstr, pointing into the buffer being decoded: no copy, valid as
 * long as that buffer. "" after a failure; a missing NUL or an embedded one fails. */
const char *stp_codec_dec_cstr(stp_dec_t *dec);
/* A count that must be plausible for the bytes left (each item takes at least min_item bytes). */
uint64_t stp_codec_dec_count(stp_dec_t *dec, apr_size_t min_item);
/* APR_SUCCESS when every field decoded and nothing is left over. */
apr_status_t stp_codec_dec_finish(const stp_dec_t *dec);

#endif
