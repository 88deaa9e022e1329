#include "stp_http.h"

#include <stdlib.h>
#include <string.h>

#include <apr_lib.h>
#include <apr_strings.h>

#include "stp_paths.h"

/* A version as the content format writes it: [A-Za-z0-9._-], 1..32, not starting with a dot. */
static apr_size_t version_len(const char *s)
{
    apr_size_t n = 0;
    while (apr_isalnum(s[n]) || s[n] == '-' || s[n] == '_' || (s[n] == '.' && n > 0))
        n++;
    return n <= 32 ? n : 0;
}

apr_status_t stp_http_download_parse(const char **id, const char **version, const char *uri, apr_pool_t *pool)
{
    static const char prefix[] = "/download/";
    if (!uri || strncmp(uri, prefix, sizeof prefix - 1))
        return APR_NOTFOUND;
    const char *p = uri + sizeof prefix - 1;
    apr_size_t il = stp_paths_ident_len(p);
    if (!il)
        return APR_NOTFOUND;
    *id = apr_pstrmemdup(pool, p, il);
    *version = NULL;
    p += il;
    if (!*p)
        return APR_SUCCESS;
    if (*p++ != '/')
        return APR_NOTFOUND;
    apr_size_t vl = version_len(p);
    if (!vl || p[vl])
        return APR_NOTFOUND;
    *version = apr_pstrmemdup(pool, p, vl);
    return APR_SUCCESS;
}

int stp_http_utf8_valid(const char *str, apr_size_t len)
{
    const unsigned char *s = (const unsigned char *)str, *end = s + len;
    while (s < end) {
        unsigned c = *s;
        apr_size_t n;
        unsigned cp, min;
        if (c < 0x80) {
            s++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        if ((apr_size_t)(end - s) <= n)
            return 0;
        for (apr_size_t i = 1; i <= n; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        s += n + 1;
    }
    return 1;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes one form component in place semantics ('+' is a space); NULL on a bad escape or NUL. */
static char *form_decode(const char *s, apr_size_t len, apr_size_t *outlen, apr_pool_t *pool)
{
    char *out = apr_palloc(pool, len + 1), *o = out;
    for (apr_size_t i = 0; i < len; i++) {
        int c = (unsigned char)s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (i + 2 >= len)
                return NULL;
            int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0)
                return NULL;
            c = hi * 16 + lo;
            i += 2;
        }
        if (c == 0)
            return NULL;
        *o++ = (char)c;
    }
    *o = '\0';
    *outlen = (apr_size_t)(o - out);
    return out;
}

static apr_status_t form_parse(apr_table_t **fields, const char **err, const char *data, apr_size_t len, int repeats,
                               int max_fields, apr_pool_t *pool)
{
    apr_table_t *t = apr_table_make(pool, 8);
    int count = 0;
    *err = NULL;
    for (apr_size_t i = 0; i < len;) {
        apr_size_t j = i;
        while (j < len && data[j] != '&')
            j++;
        if (j > i) {
            const char *eq = memchr(data + i, '=', j - i);
            apr_size_t kl = eq ? (apr_size_t)(eq - (data + i)) : j - i, klen, vlen = 0;
            char *k = form_decode(data + i, kl, &klen, pool);
            char *v = eq ? form_decode(eq + 1, (apr_size_t)(data + j - eq - 1), &vlen, pool) : apr_pstrdup(pool, "");
            if (!k || !v) {
                *err = "malformed percent-encoding";
                return APR_EINVAL;
            }
            if (!stp_http_utf8_valid(k, klen) || !stp_http_utf8_valid(v, vlen)) {
                *err = "invalid UTF-8";
                return APR_EINVAL;
            }
            if (!*k) {
                *err = "empty field name";
                return APR_EINVAL;
            }
            if (!repeats && apr_table_get(t, k)) {
                *err = apr_psprintf(pool, "repeated field '%s'", k);
                return APR_EINVAL;
            }
            if (++count > max_fields) {
                *err = "too many fields";
                return APR_EINVAL;
            }
            apr_table_addn(t, k, v);
        }
        i = j + 1;
    }
    *fields = t;
    return APR_SUCCESS;
}

apr_status_t stp_http_form_parse(apr_table_t **fields, const char **err, const char *data, apr_size_t len,
                                 apr_pool_t *pool)
{
    return form_parse(fields, err, data, len, 0, STP_FORM_MAX_FIELDS, pool);
}

apr_status_t stp_http_form_parse_multi(apr_table_t **fields, const char **err, const char *data, apr_size_t len,
                                       int max_fields, apr_pool_t *pool)
{
    return form_parse(fields, err, data, len, 1, max_fields, pool);
}

const char *stp_http_url_escape(const char *s, apr_pool_t *pool)
{
    static const char hex[] = "0123456789ABCDEF";
    apr_size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        n += apr_isalnum(*p) || strchr("-._~", *p) ? 1 : 3;
    char *out = apr_palloc(pool, n + 1), *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (apr_isalnum(*p) || strchr("-._~", *p)) {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return out;
}

const char *stp_http_json_string(const char *s, apr_pool_t *pool)
{
    if (!s)
        return "null";
    static const char hex[] = "0123456789abcdef";
    char *out = apr_palloc(pool, strlen(s) * 6 + 3), *o = out;
    *o++ = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            *o++ = '\\';
            *o++ = (char)*p;
        } else if (*p < 0x20 || *p == 0x7f || *p == '<' || *p == '>' || *p == '&') {
            /* also <, > and &: the JSON stays inert if someone serves it as HTML */
            memcpy(o, "\\u00", 4);
            o += 4;
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        } else {
            *o++ = (char)*p;
        }
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

/* Bytes that may stand in a quoted-string as they are, and that no browser will decode further. */
static int disposition_plain(unsigned char c)
{
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '%';
}

const char *stp_http_content_disposition(const char *name, apr_pool_t *pool)
{
    const unsigned char *p;
    for (p = (const unsigned char *)name; *p && disposition_plain(*p); p++)
        ;
    if (!*p)
        return apr_psprintf(pool, "attachment; filename=\"%s\"", name);
    /* The fallback for old clients: one '_' per character that cannot stay. */
    char *fallback = apr_palloc(pool, strlen(name) + 1), *w = fallback;
    for (p = (const unsigned char *)name; *p; p++) {
        if ((*p & 0xc0) == 0x80)
            continue; /* a UTF-8 continuation byte: its lead byte already gave one '_' */
        *w++ = disposition_plain(*p) ? (char)*p : '_';
    }
    *w = '\0';
    return apr_psprintf(pool, "attachment; filename=\"%s\"; filename*=UTF-8''%s", fallback,
                        stp_http_url_escape(name, pool));
}

/* Whether `lang` is one of the comma-separated `locales`; returns the matching entry. */
static const char *locale_match(const char *lang, apr_size_t len, const char *locales, apr_pool_t *pool)
{
    for (const char *p = locales; p && *p;) {
        const char *end = strchr(p, ',');
        apr_size_t n = end ? (apr_size_t)(end - p) : strlen(p);
        if (n == len && !strncasecmp(p, lang, n))
            return apr_pstrmemdup(pool, p, n);
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

typedef struct {
    const char *tag;
    apr_size_t len;
    int q; /* quality x 1000 */
    int order;
} lang_range_t;

static int range_cmp(const void *a, const void *b)
{
    const lang_range_t *x = a, *y = b;
    return x->q != y->q ? y->q - x->q : x->order - y->order;
}

const char *stp_http_lang_pick(const char *asked, const char *cookie, const char *accept_language, const char *locales,
                               const char *fallback, apr_pool_t *pool)
{
    const char *m;
    if (asked && (m = locale_match(asked, strlen(asked), locales, pool)))
        return m;
    if (cookie && (m = locale_match(cookie, strlen(cookie), locales, pool)))
        return m;
    if (accept_language) {
        lang_range_t ranges[16];
        int n = 0;
        for (const char *p = accept_language; *p && n < 16;) {
            while (*p == ' ' || *p == ',')
                p++;
            const char *start = p;
            while (*p && *p != ',' && *p != ';' && *p != ' ')
                p++;
            lang_range_t r = {start, (apr_size_t)(p - start), 1000, n};
            while (*p && *p != ',') {
                if (!strncmp(p, ";q=", 3) || !strncmp(p, "; q=", 4)) {
                    p = strchr(p, '=') + 1;
                    /* RFC 9110 qvalues are 0..1 with three decimals; anything else counts as 0 or 1. */
                    double q = strtod(p, NULL);
                    r.q = q > 0 && q <= 1 ? (int)(q * 1000) : q > 1 ? 1000 : 0;
                }
                if (*p && *p != ',')
                    p++;
            }
            if (r.len && r.q > 0)
                ranges[n++] = r;
        }
        qsort(ranges, (size_t)n, sizeof ranges[0], range_cmp);
        for (int i = 0; i < n; i++) {
            if ((m = locale_match(ranges[i].tag, ranges[i].len, locales, pool)))
                return m;
            /* "de-CH" falls back to "de" */
            const char *dash = memchr(ranges[i].tag, '-', ranges[i].len);
            if (dash && (m = locale_match(ranges[i].tag, (apr_size_t)(dash - ranges[i].tag), locales, pool)))
                return m;
        }
    }
    return fallback;
}

const char *stp_http_cookie_get(const char *header, const char *name, apr_pool_t *pool)
{
    apr_size_t nl = strlen(name);
    for (const char *p = header; p && *p;) {
        while (*p == ' ' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        apr_size_t n = end ? (apr_size_t)(end - p) : strlen(p);
        if (n > nl && !strncmp(p, name, nl) && p[nl] == '=')
            return apr_pstrmemdup(pool, p + nl + 1, n - nl - 1);
        p = end;
    }
    return NULL;
}

int stp_http_locale_listed(const char *locales, const char *lang)
{
    apr_size_t n = lang ? strlen(lang) : 0;
    for (const char *s = locales; n && s && *s;) {
        const char *end = strchr(s, ',');
        apr_size_t len = end ? (apr_size_t)(end - s) : strlen(s);
        if (len == n && !strncmp(s, lang, n))
            return 1;
        s += len + (end ? 1 : 0);
    }
    return 0;
}

const char *stp_http_lang_reader(const char *asked, const char *from_path, const char *cookie,
                                 const char *accept_language, const char *locales, const char *fallback,
                                 apr_pool_t *pool)
{
    const char *m;
    if (asked && (m = locale_match(asked, strlen(asked), locales, pool)))
        return m;
    if (from_path && from_path[0] == '/') {
        apr_size_t n = strcspn(from_path + 1, "/?#");
        if (from_path[1 + n] == '/' && (m = locale_match(from_path + 1, n, locales, pool)))
            return m;
    }
    return stp_http_lang_pick(NULL, cookie, accept_language, locales, fallback, pool);
}
