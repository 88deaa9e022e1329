#include "stp_codec.h"

#include <string.h>

#include <apr_strings.h>

void stp_codec_enc_init(stp_enc_t *enc, apr_pool_t *pool)
{
    enc->pool = pool;
    enc->cap = 256;
    enc->len = 0;
    enc->buf = apr_palloc(pool, enc->cap);
}

static void enc_reserve(stp_enc_t *enc, apr_size_t more)
{
    if (enc->len + more <= enc->cap)
        return;
    apr_size_t cap = enc->cap * 2;
    while (cap < enc->len + more)
        cap *= 2;
    char *buf = apr_palloc(enc->pool, cap);
    memcpy(buf, enc->buf, enc->len);
    enc->buf = buf;
    enc->cap = cap;
}

void stp_codec_enc_uint(stp_enc_t *enc, uint64_t v)
{
    enc_reserve(enc, 10);
    do {
        unsigned char b = v & 0x7f;
        v >>= 7;
        enc->buf[enc->len++] = (char)(b | (v ? 0x80 : 0));
    } while (v);
}

void stp_codec_enc_int(stp_enc_t *enc, int64_t v)
{
    /* zigzag, so that small negative numbers stay short */
    stp_codec_enc_uint(enc, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void stp_codec_enc_bytes(stp_enc_t *enc, const void *data, apr_size_t len)
{
    stp_codec_enc_uint(enc, len);
    enc_reserve(enc, len);
    if (len)
        memcpy(enc->buf + enc->len, data, len);
    enc->len += len;
}

void stp_codec_enc_str(stp_enc_t *enc, const char *s)
{
    stp_codec_enc_bytes(enc, s ? s : "", s ? strlen(s) : 0);
}

void stp_codec_enc_cstr(stp_enc_t *enc, const char *s)
{
    apr_size_t len = s ? strlen(s) : 0;
    stp_codec_enc_uint(enc, len);
    enc_reserve(enc, len + 1);
    if (len)
        memcpy(enc->buf + enc->len, s, len);
    enc->buf[enc->len + len] = '\0';
    enc->len += len + 1;
}

void stp_codec_dec_init(stp_dec_t *dec, const void *data, apr_size_t len)
{
    dec->p = data;
    dec->end = dec->p + len;
    dec->failed = 0;
}

uint64_t stp_codec_dec_uint(stp_dec_t *dec)
{
    uint64_t v = 0;
    for (unsigned shift = 0; !dec->failed; shift += 7) {
        if (dec->p >= dec->end || shift > 63)
            break;
        unsigned char b = *dec->p++;
        if (shift == 63 && b > 1)
            break; /* more than 64 bits */
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            /* One encoding per value: a trailing zero byte would be a second spelling. */
            if (b == 0 && shift > 0)
                break;
            return v;
        }
    }
    dec->failed = 1;
    return 0;
}

int64_t stp_codec_dec_int(stp_dec_t *dec)
{
    uint64_t u = stp_codec_dec_uint(dec);
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

const char *stp_codec_dec_str(stp_dec_t *dec, apr_pool_t *pool)
{
    uint64_t len = stp_codec_dec_uint(dec);
    if (dec->failed || len > (uint64_t)(dec->end - dec->p) || memchr(dec->p, 0, (size_t)len)) {
        dec->failed = 1;
        return "";
    }
    const char *s = apr_pstrmemdup(pool, (const char *)dec->p, (apr_size_t)len);
    dec->p += len;
    return s;
}

const char *stp_codec_dec_cstr(stp_dec_t *dec)
{
    uint64_t len = stp_codec_dec_uint(dec);
    if (dec->failed || len >= (uint64_t)(dec->end - dec->p) || dec->p[len] != '\0' || memchr(dec->p, 0, (size_t)len)) {
        dec->failed = 1;
        return "";
    }
    const char *s = (const char *)dec->p;
    dec->p += len + 1;
    return s;
}

uint64_t stp_codec_dec_count(stp_dec_t *dec, apr_size_t min_item)
{
    uint64_t n = stp_codec_dec_uint(dec);
    if (!dec->failed && min_item && n > (uint64_t)(dec->end - dec->p) / min_item)
        dec->failed = 1;
    return dec->failed ? 0 : n;
}

apr_status_t stp_codec_dec_finish(const stp_dec_t *dec)
{
    return dec->failed || dec->p != dec->end ? APR_EGENERAL : APR_SUCCESS;
}
