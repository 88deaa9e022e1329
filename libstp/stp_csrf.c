#include "stp_csrf.h"

#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <openssl/crypto.h>

#include "stp_hash.h"

#define TIME_HEX 16
#define MAC_HEX 64
#define TOKEN_LEN (TIME_HEX + MAC_HEX)
/* Tokens issued this far in the future still count: another node's clock may run ahead. */
#define CLOCK_SKEW apr_time_from_sec(60)

/* The MAC over the fields, NUL-separated so that ("a", "bc") and ("ab", "c") differ. */
static void mac_hex(char out[MAC_HEX + 1], const unsigned char *secret, apr_size_t slen, const char *user_key,
                    const char *session, const char *purpose, const char *when, apr_pool_t *pool)
{
    static const char tag[] = "stp-csrf-2";
    const char *parts[] = {tag, user_key, session, purpose, when};
    apr_size_t len = 0, at = 0;
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        len += strlen(parts[i]) + 1;
    char *msg = apr_palloc(pool, len);
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        apr_size_t n = strlen(parts[i]) + 1;
        memcpy(msg + at, parts[i], n);
        at += n;
    }
    unsigned char mac[STP_HASH_LEN];
    stp_hash_hmac_sha256(mac, secret, slen, msg, len);
    stp_hash_hex(out, mac, sizeof mac);
}

const char *stp_csrf_token(const unsigned char *secret, apr_size_t slen, const char *user_key, const char *session,
                           const char *purpose, apr_time_t now, apr_pool_t *pool)
{
    char *token = apr_palloc(pool, TOKEN_LEN + 1);
    apr_snprintf(token, TIME_HEX + 1, "%016" APR_UINT64_T_HEX_FMT, (apr_uint64_t)apr_time_sec(now));
    mac_hex(token + TIME_HEX, secret, slen, user_key ? user_key : "", session ? session : "", purpose,
            apr_pstrmemdup(pool, token, TIME_HEX), pool);
    return token;
}

int stp_csrf_check(const unsigned char *secret, apr_size_t slen, const char *user_key, const char *session,
                   const char *purpose, const char *token, apr_time_t now, apr_pool_t *pool)
{
    if (!token || !user_key || !session || strlen(token) != TOKEN_LEN)
        return 0;
    apr_uint64_t issued = 0;
    for (int i = 0; i < TIME_HEX; i++) {
        char c = token[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return 0;
        issued = issued << 4 | (apr_uint64_t)d;
    }
    if (issued > (apr_uint64_t)apr_time_sec(now + CLOCK_SKEW) ||
        (apr_uint64_t)apr_time_sec(now) - issued > (apr_uint64_t)apr_time_sec(STP_CSRF_LIFETIME))
        return 0;
    char want[MAC_HEX + 1];
    mac_hex(want, secret, slen, user_key, session, purpose, apr_pstrmemdup(pool, token, TIME_HEX), pool);
    /* Constant time: how much of a forged MAC matched must not show in the answer's timing. */
    return CRYPTO_memcmp(want, token + TIME_HEX, MAC_HEX) == 0;
}

apr_status_t stp_csrf_session_new(const char **session, apr_pool_t *pool)
{
    unsigned char raw[STP_CSRF_SESSION_HEX / 2];
    char *hex = apr_palloc(pool, STP_CSRF_SESSION_HEX + 1);
    apr_status_t rv = apr_generate_random_bytes(raw, sizeof raw);
    if (rv != APR_SUCCESS)
        return rv;
    stp_hash_hex(hex, raw, sizeof raw);
    *session = hex;
    return APR_SUCCESS;
}

int stp_csrf_session_ok(const char *value)
{
    if (!value || strlen(value) != STP_CSRF_SESSION_HEX)
        return 0;
    for (const char *c = value; *c; c++)
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
            return 0;
    return 1;
}
