/* stp_http: download URLs, forms, UTF-8, escaping, Content-Disposition, language negotiation and
 * cookies, each against the contract in stp_http.h. */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>

#include "stp_http.h"
#include "tests.h"

static apr_pool_t *pool;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    apr_pool_destroy(pool);
}

/* n copies of c */
static const char *rep(char c, int n)
{
    char *s = apr_palloc(pool, (apr_size_t)n + 1);
    memset(s, c, (size_t)n);
    s[n] = '\0';
    return s;
}

/* ---- stp_http_download_parse ---- */

START_TEST(test_download_valid)
{
    const char *id = NULL, *version = "sentinel";
    ck_assert_int_eq(stp_http_download_parse(&id, &version, "/download/soc2-2025", pool), APR_SUCCESS);
    ck_assert_str_eq(id, "soc2-2025");
    ck_assert_ptr_null(version);

    ck_assert_int_eq(stp_http_download_parse(&id, &version, "/download/soc2-2025/2025.1", pool), APR_SUCCESS);
    ck_assert_str_eq(id, "soc2-2025");
    ck_assert_str_eq(version, "2025.1");

    ck_assert_int_eq(stp_http_download_parse(&id, &version, "/download/a/v1_2-rc.3", pool), APR_SUCCESS);
    ck_assert_str_eq(id, "a");
    ck_assert_str_eq(version, "v1_2-rc.3");

    /* the limits themselves: a 64-character id, a 32-character version */
    const char *id64 = rep('a', 64), *v32 = rep('9', 32);
    ck_assert_int_eq(stp_http_download_parse(&id, &version, apr_pstrcat(pool, "/download/", id64, NULL), pool),
                     APR_SUCCESS);
    ck_assert_str_eq(id, id64);
    ck_assert_int_eq(
        stp_http_download_parse(&id, &version, apr_pstrcat(pool, "/download/", id64, "/", v32, NULL), pool),
        APR_SUCCESS);
    ck_assert_str_eq(id, id64);
    ck_assert_str_eq(version, v32);

    /* a C string ends at its NUL: nothing after it is read */
    ck_assert_int_eq(stp_http_download_parse(&id, &version, "/download/a\0/../../etc", pool), APR_SUCCESS);
    ck_assert_str_eq(id, "a");
    ck_assert_ptr_null(version);
}
END_TEST

START_TEST(test_download_invalid)
{
    static const char *const bad[] = {
        "",
        "/",
        "/download",
        "/download/",
        "/download//",
        "/download/a/", /* no trailing slash */
        "/download/a//",
        "/download/a/1.0/",  /* nor after a version */
        "/download/a/1.0/x", /* extra segments */
        "/download/a/b/c",
        "/download/a//1.0",
        "/download/..",
        "/download/../etc/passwd",
        "/download/a/..",
        "/download/a/../b",
        "/download/a/.hidden",
        "/download/a/.",
        "/download/./a",
        "/download/a%2fb",
        "/download/a%2F..%2Fb",
        "/download/%61",
        "/download/a/%2e%2e",
        "/download/a/1%2e0",
        "/download/a%00",
        "/download/a/1%00",
        "/download/A",
        "/download/Soc2",
        "/download/-a",
        "/download/a-",
        "/download/a_b",
        "/download/a.b",
        "/download/a b",
        "/download/a/1 0",
        "/download/a?x=1",
        "/download/a/1.0?x=1",
        "/download/a;v=1",
        "/download/a\\b",
        "/download/caf\xc3\xa9",
        "/download/a/\xc3\xa9",
        "/Download/a",
        "/downloads/a",
        "/downloada",
        "download/a",
        "//download/a",
        "/x/download/a",
    };
    const char *id, *version;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(stp_http_download_parse(&id, &version, bad[i], pool) == APR_NOTFOUND, "accepted \"%s\"", bad[i]);
    ck_assert_int_eq(stp_http_download_parse(&id, &version, NULL, pool), APR_NOTFOUND);
    /* one past each limit */
    ck_assert_int_eq(stp_http_download_parse(&id, &version, apr_pstrcat(pool, "/download/", rep('a', 65), NULL), pool),
                     APR_NOTFOUND);
    ck_assert_int_eq(
        stp_http_download_parse(&id, &version, apr_pstrcat(pool, "/download/", rep('a', 65), "/1", NULL), pool),
        APR_NOTFOUND);
    ck_assert_int_eq(
        stp_http_download_parse(&id, &version, apr_pstrcat(pool, "/download/", rep('a', 1000), NULL), pool),
        APR_NOTFOUND);
    ck_assert_int_eq(
        stp_http_download_parse(&id, &version, apr_pstrcat(pool, "/download/a/", rep('1', 33), NULL), pool),
        APR_NOTFOUND);
    ck_assert_int_eq(
        stp_http_download_parse(&id, &version, apr_pstrcat(pool, "/download/a/", rep('1', 1000), NULL), pool),
        APR_NOTFOUND);
}
END_TEST

/* ---- stp_http_form_parse ---- */

static apr_table_t *parse_ok(const char *data)
{
    apr_table_t *t = NULL;
    const char *err = "untouched";
    apr_status_t rv = stp_http_form_parse(&t, &err, data, strlen(data), pool);
    ck_assert_msg(rv == APR_SUCCESS, "refused \"%s\": %s", data, err ? err : "(no message)");
    ck_assert_ptr_nonnull(t);
    return t;
}

static void parse_bad(const char *data, apr_size_t len)
{
    static char marker_byte; /* any non-NULL marker: a refused input must not replace *fields */
    apr_table_t *const marker = (apr_table_t *)&marker_byte, *t = marker;
    const char *err = NULL;
    ck_assert_msg(stp_http_form_parse(&t, &err, data, len, pool) == APR_EINVAL, "accepted \"%.*s\"", (int)len, data);
    ck_assert_msg(err && *err, "no message for \"%.*s\"", (int)len, data);
    ck_assert_ptr_eq(t, marker);
}

START_TEST(test_form_good)
{
    apr_table_t *t = parse_ok("a=1&b=hello+world&c=%C3%A9t%C3%A9&d=&e&f=%2B%26%3D%25&g=x=y&h+i=j%20k");
    ck_assert_int_eq(apr_table_elts(t)->nelts, 8);
    ck_assert_str_eq(apr_table_get(t, "a"), "1");
    ck_assert_str_eq(apr_table_get(t, "b"), "hello world");
    ck_assert_str_eq(apr_table_get(t, "c"), "\xc3\xa9t\xc3\xa9");
    ck_assert_str_eq(apr_table_get(t, "d"), "");
    ck_assert_str_eq(apr_table_get(t, "e"), "");     /* a key without '=' has an empty value */
    ck_assert_str_eq(apr_table_get(t, "f"), "+&=%"); /* escapes decode once, never to separators */
    ck_assert_str_eq(apr_table_get(t, "g"), "x=y");  /* only the first '=' separates */
    ck_assert_str_eq(apr_table_get(t, "h i"), "j k");
    ck_assert_ptr_null(apr_table_get(t, "x"));

    /* lowercase hex, raw UTF-8, empty segments */
    t = parse_ok("&&q=%c3%bc&&r=\xe2\x82\xac&");
    ck_assert_int_eq(apr_table_elts(t)->nelts, 2);
    ck_assert_str_eq(apr_table_get(t, "q"), "\xc3\xbc");
    ck_assert_str_eq(apr_table_get(t, "r"), "\xe2\x82\xac");

    /* only len bytes are read */
    apr_table_t *u = NULL;
    const char *err;
    ck_assert_int_eq(stp_http_form_parse(&u, &err, "a=1&b=2", 3, pool), APR_SUCCESS);
    ck_assert_int_eq(apr_table_elts(u)->nelts, 1);
    ck_assert_str_eq(apr_table_get(u, "a"), "1");
    /* the bad escape lies past len: not seen */
    ck_assert_int_eq(stp_http_form_parse(&u, &err, "a=1%", 3, pool), APR_SUCCESS);
    ck_assert_str_eq(apr_table_get(u, "a"), "1");
}
END_TEST

START_TEST(test_form_empty)
{
    apr_table_t *t = NULL;
    const char *err = "untouched";
    ck_assert_int_eq(stp_http_form_parse(&t, &err, "", 0, pool), APR_SUCCESS);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(apr_table_elts(t)->nelts, 0);
    ck_assert_ptr_null(err);
    t = parse_ok("&&&");
    ck_assert_int_eq(apr_table_elts(t)->nelts, 0);
}
END_TEST

START_TEST(test_form_bad)
{
    static const char *const bad[] = {
        "%",          "a=%",      "a=%4",          "a=1%",     "a=%zz",       "a=%4g",          "a=%g4",
        "%g1=x",      "a=%%41",   "a=% 41",        "a=%-1",    "a=%00",       "%00=x",          "a=x%00y",
        "a=%C3",      "a=%C3%28", "a=%C0%80",      "a=%C1%BF", "a=%E0%80%AF", "a=%ED%A0%80",    "a=%F4%90%80%80",
        "a=%FF",      "a=%80",    "%FF=x",         "a=\xc3",   "a=\xff",      "a=\xed\xa0\x80", "a=1&a=2",
        "a=1&b=2&a=", "a&a",      "a+b=1&a%20b=2", /* the same key once decoded */
        "=x",         "=",        "&=x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        parse_bad(bad[i], strlen(bad[i]));
    /* a raw NUL byte inside the data */
    parse_bad("a=x\0y", 5);
    parse_bad("a\0=y", 4);
    /* a good prefix does not make a bad tail acceptable: refused as a whole */
    parse_bad("a=1&b=2&c=%zz", 13);
}
END_TEST

START_TEST(test_form_limits)
{
    char *data = "";
    for (int i = 0; i < STP_FORM_MAX_FIELDS; i++)
        data = apr_psprintf(pool, "%s%sk%d=%d", data, i ? "&" : "", i, i);
    apr_table_t *t = parse_ok(data);
    ck_assert_int_eq(apr_table_elts(t)->nelts, STP_FORM_MAX_FIELDS);
    ck_assert_str_eq(apr_table_get(t, "k31"), "31");
    /* empty segments do not count */
    t = parse_ok(apr_pstrcat(pool, "&&", data, "&&", NULL));
    ck_assert_int_eq(apr_table_elts(t)->nelts, STP_FORM_MAX_FIELDS);
    /* one more field is too many */
    char *more = apr_pstrcat(pool, data, "&k32=32", NULL);
    parse_bad(more, strlen(more));
    /* far more, too */
    for (int i = 33; i < 200; i++)
        more = apr_psprintf(pool, "%s&k%d=%d", more, i, i);
    parse_bad(more, strlen(more));
}
END_TEST

/* ---- stp_http_utf8_valid ---- */

/* Checks s against an exactly sized heap copy, so that ASan sees a read past len. */
static int utf8(const char *s, apr_size_t len)
{
    char *copy = calloc(len ? len : 1, 1);
    memcpy(copy, s, len);
    int ok = stp_http_utf8_valid(copy, len);
    free(copy);
    return ok;
}
#define UTF8(lit) utf8(lit, sizeof lit - 1)

START_TEST(test_utf8)
{
    /* well-formed, including every boundary of every length */
    ck_assert_int_eq(UTF8(""), 1);
    ck_assert_int_eq(UTF8("plain ASCII ~\x7f"), 1);
    ck_assert_int_eq(UTF8("a\0b"), 1);             /* NUL is a character; the form parser refuses it separately */
    ck_assert_int_eq(UTF8("\xc2\x80"), 1);         /* U+0080 */
    ck_assert_int_eq(UTF8("\xc3\xa9"), 1);         /* é */
    ck_assert_int_eq(UTF8("\xdf\xbf"), 1);         /* U+07FF */
    ck_assert_int_eq(UTF8("\xe0\xa0\x80"), 1);     /* U+0800 */
    ck_assert_int_eq(UTF8("\xe2\x82\xac"), 1);     /* € */
    ck_assert_int_eq(UTF8("\xed\x9f\xbf"), 1);     /* U+D7FF, just below the surrogates */
    ck_assert_int_eq(UTF8("\xee\x80\x80"), 1);     /* U+E000, just above */
    ck_assert_int_eq(UTF8("\xef\xbf\xbf"), 1);     /* U+FFFF */
    ck_assert_int_eq(UTF8("\xf0\x90\x80\x80"), 1); /* U+10000 */
    ck_assert_int_eq(UTF8("\xf0\x9d\x84\x9e"), 1); /* 𝄞 */
    ck_assert_int_eq(UTF8("\xf4\x8f\xbf\xbf"), 1); /* U+10FFFF */
    ck_assert_int_eq(UTF8("Pr\xc3\xbc"
                          "fung \xe6\x96\xb0\xe3\x81\x97\xe3\x81\x84"),
                     1);

    /* overlong forms */
    ck_assert_int_eq(UTF8("\xc0\x80"), 0);
    ck_assert_int_eq(UTF8("\xc0\xaf"), 0);
    ck_assert_int_eq(UTF8("\xc1\xbf"), 0);
    ck_assert_int_eq(UTF8("\xe0\x80\x80"), 0);
    ck_assert_int_eq(UTF8("\xe0\x80\xaf"), 0);
    ck_assert_int_eq(UTF8("\xe0\x9f\xbf"), 0);
    ck_assert_int_eq(UTF8("\xf0\x80\x80\x80"), 0);
    ck_assert_int_eq(UTF8("\xf0\x8f\xbf\xbf"), 0);
    /* surrogates */
    ck_assert_int_eq(UTF8("\xed\xa0\x80"), 0);             /* U+D800 */
    ck_assert_int_eq(UTF8("\xed\xaf\xbf"), 0);             /* U+DBFF */
    ck_assert_int_eq(UTF8("\xed\xb0\x80"), 0);             /* U+DC00 */
    ck_assert_int_eq(UTF8("\xed\xbf\xbf"), 0);             /* U+DFFF */
    ck_assert_int_eq(UTF8("\xed\xa0\xbd\xed\xb2\xa9"), 0); /* a CESU-8 pair */
    /* past U+10FFFF, and bytes that never occur */
    ck_assert_int_eq(UTF8("\xf4\x90\x80\x80"), 0);
    ck_assert_int_eq(UTF8("\xf5\x80\x80\x80"), 0);
    ck_assert_int_eq(UTF8("\xf7\xbf\xbf\xbf"), 0);
    ck_assert_int_eq(UTF8("\xf8\x88\x80\x80\x80"), 0);
    ck_assert_int_eq(UTF8("\xfc\x84\x80\x80\x80\x80"), 0);
    ck_assert_int_eq(UTF8("\xfe"), 0);
    ck_assert_int_eq(UTF8("\xff"), 0);
    /* stray continuation bytes */
    ck_assert_int_eq(UTF8("\x80"), 0);
    ck_assert_int_eq(UTF8("\xbf"), 0);
    ck_assert_int_eq(UTF8("a\x80z"), 0);
    ck_assert_int_eq(UTF8("\xc3\xa9\xa9"), 0);
    /* truncated sequences, at the end and in the middle */
    ck_assert_int_eq(UTF8("\xc3"), 0);
    ck_assert_int_eq(UTF8("\xe2\x82"), 0);
    ck_assert_int_eq(UTF8("\xf0\x9d\x84"), 0);
    ck_assert_int_eq(UTF8("ab\xf0"), 0);
    ck_assert_int_eq(UTF8("\xc3z"), 0);
    ck_assert_int_eq(UTF8("\xe2\x82z"), 0);
    ck_assert_int_eq(UTF8("\xf0\x9d\x84z"), 0);
    ck_assert_int_eq(UTF8("\xe2\xc3\xa9"), 0);
    /* len, not NUL, ends the input: a complete sequence cut by len is truncated */
    ck_assert_int_eq(utf8("\xc3\xa9", 1), 0);
    ck_assert_int_eq(utf8("\xf0\x9d\x84\x9e", 3), 0);
    ck_assert_int_eq(utf8("ab\xff", 2), 1);
    /* the same in place, where the byte past len would complete the sequence */
    ck_assert_int_eq(stp_http_utf8_valid("\xc3\xa9", 1), 0);
    ck_assert_int_eq(stp_http_utf8_valid("x\xe2\x82\xac", 3), 0);
    ck_assert_int_eq(stp_http_utf8_valid("\xf0\x9d\x84\x9e", 3), 0);
}
END_TEST

/* ---- escaping ---- */

START_TEST(test_url_escape)
{
    ck_assert_str_eq(stp_http_url_escape("", pool), "");
    ck_assert_str_eq(stp_http_url_escape("AZaz09-._~", pool), "AZaz09-._~");
    ck_assert_str_eq(stp_http_url_escape("a b", pool), "a%20b");
    ck_assert_str_eq(stp_http_url_escape("/?#[]@!$&'()*+,;=%", pool),
                     "%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D%25");
    ck_assert_str_eq(stp_http_url_escape("\"<>\\^`{|}", pool), "%22%3C%3E%5C%5E%60%7B%7C%7D");
    ck_assert_str_eq(stp_http_url_escape("\x01\r\n\x7f", pool), "%01%0D%0A%7F");
    ck_assert_str_eq(stp_http_url_escape("Pr\xc3\xbc"
                                         "fung",
                                         pool),
                     "Pr%C3%BCfung");
    ck_assert_str_eq(stp_http_url_escape("\xf0\x9d\x84\x9e\xff", pool), "%F0%9D%84%9E%FF");
    /* the output of one escaping is escaped again, not left alone */
    ck_assert_str_eq(stp_http_url_escape("%41", pool), "%2541");
}
END_TEST

START_TEST(test_json_string)
{
    ck_assert_str_eq(stp_http_json_string(NULL, pool), "null");
    ck_assert_str_eq(stp_http_json_string("", pool), "\"\"");
    ck_assert_str_eq(stp_http_json_string("plain / text", pool), "\"plain / text\"");
    ck_assert_str_eq(stp_http_json_string("a\"b\\c", pool), "\"a\\\"b\\\\c\"");
    ck_assert_str_eq(stp_http_json_string("\x01\b\t\n\f\r\x1f\x7f", pool),
                     "\"\\u0001\\u0008\\u0009\\u000a\\u000c\\u000d\\u001f\\u007f\"");
    /* inert if served as HTML */
    ck_assert_str_eq(stp_http_json_string("</script><!--&", pool), "\"\\u003c/script\\u003e\\u003c!--\\u0026\"");
    /* non-ASCII stays as UTF-8 */
    ck_assert_str_eq(stp_http_json_string("Pr\xc3\xbc"
                                          "fung \xe2\x82\xac \xf0\x9d\x84\x9e",
                                          pool),
                     "\"Pr\xc3\xbc"
                     "fung \xe2\x82\xac \xf0\x9d\x84\x9e\"");
    /* the worst case for the output size: every byte escaped */
    const char *ctl = rep('\x01', 1000);
    const char *out = stp_http_json_string(ctl, pool);
    ck_assert_uint_eq(strlen(out), 6000 + 2);
    ck_assert_int_eq(strncmp(out, "\"\\u0001\\u0001", 13), 0);
    /* no control byte ever reaches the output */
    for (const char *p = stp_http_json_string("\x01\x02\x03\x1e\x7f", pool); *p; p++)
        ck_assert_int_ge((unsigned char)*p, 0x20);
}
END_TEST

/* ---- stp_http_content_disposition ---- */

/* The header value must be printable ASCII (no CR/LF for a response splitting), and filename*'s
 * value only RFC 5987 attr-chars and %XX escapes. */
static void assert_safe_disposition(const char *v)
{
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        ck_assert_msg(*p >= 0x20 && *p < 0x7f, "byte 0x%02x in \"%s\"", *p, v);
    const char *star = strstr(v, "filename*=UTF-8''");
    if (!star)
        return;
    for (const char *p = star + strlen("filename*=UTF-8''"); *p; p++) {
        if (*p == '%') {
            ck_assert_msg(p[1] && p[2] && strchr("0123456789ABCDEF", p[1]) && strchr("0123456789ABCDEF", p[2]),
                          "bad escape in \"%s\"", v);
            p += 2;
        } else {
            ck_assert_msg((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                              strchr("!#$&+-.^_`|~", *p),
                          "'%c' is not an attr-char in \"%s\"", *p, v);
        }
    }
}

static const char *disposition(const char *name)
{
    const char *v = stp_http_content_disposition(name, pool);
    assert_safe_disposition(v);
    return v;
}

START_TEST(test_content_disposition)
{
    ck_assert_str_eq(disposition("report.pdf"), "attachment; filename=\"report.pdf\"");
    ck_assert_str_eq(disposition("SOC 2 report (2025).pdf"), "attachment; filename=\"SOC 2 report (2025).pdf\"");
    /* quotes and backslashes cannot end or escape the quoted-string */
    ck_assert_str_eq(disposition("a\"b\\c.pdf"), "attachment; filename=\"a_b_c.pdf\"; filename*=UTF-8''a%22b%5Cc.pdf");
    ck_assert_str_eq(disposition("\"; filename=evil.exe"),
                     "attachment; filename=\"_; filename=evil.exe\"; filename*=UTF-8''%22%3B%20filename%3Devil.exe");
    /* a '%' in the fallback could be percent-decoded by some browsers */
    ck_assert_str_eq(disposition("100%.pdf"), "attachment; filename=\"100_.pdf\"; filename*=UTF-8''100%25.pdf");
    /* non-ASCII: one '_' per character in the fallback, UTF-8 percent-encoded in filename* */
    ck_assert_str_eq(disposition("Pr\xc3\xbc"
                                 "fbericht.pdf"),
                     "attachment; filename=\"Pr_fbericht.pdf\"; filename*=UTF-8''Pr%C3%BCfbericht.pdf");
    ck_assert_str_eq(disposition("\xe5\xa0\xb1\xe5\x91\x8a.pdf"),
                     "attachment; filename=\"__.pdf\"; filename*=UTF-8''%E5%A0%B1%E5%91%8A.pdf");
    ck_assert_str_eq(disposition("\xf0\x9d\x84\x9e.pdf"),
                     "attachment; filename=\"_.pdf\"; filename*=UTF-8''%F0%9D%84%9E.pdf");
    /* control characters: no header splitting */
    ck_assert_str_eq(disposition("a\r\nSet-Cookie: x=y.pdf"), "attachment; filename=\"a__Set-Cookie: x=y.pdf\"; "
                                                              "filename*=UTF-8''a%0D%0ASet-Cookie%3A%20x%3Dy.pdf");
    ck_assert_str_eq(disposition("tab\there\x7f.pdf"),
                     "attachment; filename=\"tab_here_.pdf\"; filename*=UTF-8''tab%09here%7F.pdf");
}
END_TEST

/* ---- stp_http_lang_pick ---- */

#define LOCALES "en,de,fr,pt-BR"

static const char *pick(const char *asked, const char *cookie, const char *al)
{
    return stp_http_lang_pick(asked, cookie, al, LOCALES, "xx-fallback", pool);
}

START_TEST(test_lang_explicit)
{
    /* ?lang= wins over the cookie and the header, if it is a locale */
    ck_assert_str_eq(pick("de", "fr", "fr, en"), "de");
    ck_assert_str_eq(pick("DE", NULL, NULL), "de"); /* the locale's own spelling */
    ck_assert_str_eq(pick("pt-br", NULL, NULL), "pt-BR");
    /* an unknown ask is ignored: the cookie next */
    ck_assert_str_eq(pick("es", "fr", "de"), "fr");
    ck_assert_str_eq(pick("", "fr", "de"), "fr");
    ck_assert_str_eq(pick("d", "fr", "de"), "fr"); /* not a prefix match */
    ck_assert_str_eq(pick("english", "fr", "de"), "fr");
    ck_assert_str_eq(pick("en,de", "fr", "de"), "fr"); /* not a list */
    ck_assert_str_eq(pick(NULL, "FR", "de"), "fr");
    /* an unknown cookie too: the header next */
    ck_assert_str_eq(pick(NULL, "es", "de"), "de");
    ck_assert_str_eq(pick("es", "", "de"), "de");
    /* nothing at all */
    ck_assert_str_eq(pick(NULL, NULL, NULL), "xx-fallback");
    ck_assert_str_eq(pick("es", "it", NULL), "xx-fallback");
    ck_assert_str_eq(stp_http_lang_pick("de", "de", "de", NULL, "en", pool), "en");
    ck_assert_str_eq(stp_http_lang_pick("de", "de", "de", "", "en", pool), "en");
}
END_TEST

START_TEST(test_lang_accept)
{
    ck_assert_str_eq(pick(NULL, NULL, "de"), "de");
    ck_assert_str_eq(pick(NULL, NULL, "fr, de"), "fr");
    ck_assert_str_eq(pick(NULL, NULL, "de;q=0.5, fr;q=0.5"), "de"); /* equal quality: header order */
    ck_assert_str_eq(pick(NULL, NULL, "fr;q=0.5, de;q=0.9, en;q=0.1"), "de");
    ck_assert_str_eq(pick(NULL, NULL, "fr;q=0.5, de"), "de"); /* no q is q=1 */
    ck_assert_str_eq(pick(NULL, NULL, "es, it;q=0.9, fr;q=0.8, de;q=0.7"), "fr");
    ck_assert_str_eq(pick(NULL, NULL, "de;q=0.001, fr;q=0.002"), "fr");
    ck_assert_str_eq(pick(NULL, NULL, "en;q=0.9,de;q=1.0"), "de");
    ck_assert_str_eq(pick(NULL, NULL, "de ; q=0.3 , fr ; q=0.4"), "fr"); /* whitespace around ';' */
    ck_assert_str_eq(pick(NULL, NULL, "DE-de"), "de");
    /* q=0 means "not this one" */
    ck_assert_str_eq(pick(NULL, NULL, "de;q=0, fr;q=0.1"), "fr");
    ck_assert_str_eq(pick(NULL, NULL, "de;q=0.000"), "xx-fallback");
    /* region subtags fall back to the language, but never ahead of a better range */
    ck_assert_str_eq(pick(NULL, NULL, "de-CH"), "de");
    ck_assert_str_eq(pick(NULL, NULL, "de-CH, fr;q=0.9"), "de");
    ck_assert_str_eq(pick(NULL, NULL, "fr;q=0.9, de-CH"), "de");
    ck_assert_str_eq(pick(NULL, NULL, "de-CH;q=0.5, fr;q=0.9"), "fr");
    ck_assert_str_eq(pick(NULL, NULL, "pt-BR, pt;q=0.9"), "pt-BR");
    ck_assert_str_eq(pick(NULL, NULL, "pt-PT, de;q=0.5"), "de"); /* pt-PT is not pt-BR */
    ck_assert_str_eq(pick(NULL, NULL, "pt"), "xx-fallback");     /* nor is pt */
    ck_assert_str_eq(pick(NULL, NULL, "en-US,en;q=0.9,de;q=0.8"), "en");
    /* unknown languages and the wildcard: the fallback */
    ck_assert_str_eq(pick(NULL, NULL, "es, it;q=0.9, ja"), "xx-fallback");
    ck_assert_str_eq(pick(NULL, NULL, "*"), "xx-fallback");
    ck_assert_str_eq(pick(NULL, NULL, ""), "xx-fallback");
}
END_TEST

START_TEST(test_lang_garbage)
{
    static const char *const garbage[] = {
        ";",        ";;;,,,", ",",        " ",           "q=1",      ";q=1",      ";q=",        "de;q=",
        "de;q",     "de;q=;", "de;q=abc", "de;q=-1",     "de;q=nan", "de;q=-inf", "de;;;q=0.5", "==;,;q=q=",
        "\xff\xfe", "de\xff", "\"de\"",   "de;q=0.5;q=", "de-",      "-de",       "-",          "de-CH-",
    };
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
        const char *got = pick(NULL, NULL, garbage[i]);
        ck_assert_msg(got && (!strcmp(got, "xx-fallback") || !strcmp(got, "de")), "\"%s\" gave %s", garbage[i],
                      got ? got : "NULL");
    }
    /* ranges that mean nothing do not hide the ones that do */
    ck_assert_str_eq(pick(NULL, NULL, ",,;q=1,, ;;, fr"), "fr");
    ck_assert_str_eq(pick(NULL, NULL, "de;q=abc, fr;q=0.5"), "fr");
    ck_assert_str_eq(pick(NULL, NULL, "de;q=nan, fr;q=0.5"), "fr");
    ck_assert_str_eq(pick(NULL, NULL, "de;q=-1, fr;q=0.5"), "fr");
    /* a quality beyond 1 is no better than 1, and no worse: still quality order */
    ck_assert_str_eq(pick(NULL, NULL, "de;q=1e10, fr;q=0.5"), "de");
    ck_assert_str_eq(pick(NULL, NULL, "de;q=inf, fr;q=0.5"), "de");
    ck_assert_str_eq(pick(NULL, NULL, "fr;q=0.5, de;q=3000000"), "de");
    /* a long header of unknown ranges */
    char *al = "";
    for (int i = 0; i < 100; i++)
        al = apr_psprintf(pool, "%sx%d;q=0.9, ", al, i);
    const char *got = pick(NULL, NULL, al);
    ck_assert_str_eq(got, "xx-fallback");
    got = pick(NULL, NULL, rep('a', 10000));
    ck_assert_str_eq(got, "xx-fallback");
}
END_TEST

/* ---- stp_http_cookie_get ---- */

START_TEST(test_cookie_get)
{
    ck_assert_str_eq(stp_http_cookie_get("stp_lang=de", "stp_lang", pool), "de");
    ck_assert_str_eq(stp_http_cookie_get("a=1; stp_lang=fr; b=2", "stp_lang", pool), "fr");
    ck_assert_str_eq(stp_http_cookie_get("a=1;stp_lang=fr", "stp_lang", pool), "fr");
    ck_assert_str_eq(stp_http_cookie_get(";;  stp_lang=ja;", "stp_lang", pool), "ja");
    ck_assert_str_eq(stp_http_cookie_get("stp_lang=", "stp_lang", pool), "");
    ck_assert_str_eq(stp_http_cookie_get("tok=a=b==", "tok", pool), "a=b==");
    /* names are whole names, not prefixes or suffixes of others */
    ck_assert_str_eq(stp_http_cookie_get("xstp_lang=en; stp_lang=de", "stp_lang", pool), "de");
    ck_assert_str_eq(stp_http_cookie_get("stp_lang_x=en; stp_lang=de", "stp_lang", pool), "de");
    ck_assert_ptr_null(stp_http_cookie_get("xstp_lang=en", "stp_lang", pool));
    ck_assert_ptr_null(stp_http_cookie_get("stp_langx=en", "stp_lang", pool));
    ck_assert_ptr_null(stp_http_cookie_get("stp_lan=en", "stp_lang", pool));
    /* nor found inside another cookie's value */
    ck_assert_ptr_null(stp_http_cookie_get("a=stp_lang=fr", "stp_lang", pool));
    /* absent */
    ck_assert_ptr_null(stp_http_cookie_get(NULL, "stp_lang", pool));
    ck_assert_ptr_null(stp_http_cookie_get("", "stp_lang", pool));
    ck_assert_ptr_null(stp_http_cookie_get(";;; ", "stp_lang", pool));
    ck_assert_ptr_null(stp_http_cookie_get("stp_lang", "stp_lang", pool));
    ck_assert_ptr_null(stp_http_cookie_get("a=1; b=2", "stp_lang", pool));
}
END_TEST

START_TEST(test_locale_listed)
{
    ck_assert(stp_http_locale_listed("en,de,ja", "en"));
    ck_assert(stp_http_locale_listed("en,de,ja", "ja"));
    ck_assert(!stp_http_locale_listed("en,de,ja", "d"));
    ck_assert(!stp_http_locale_listed("en,de,ja", "de,ja"));
    ck_assert(!stp_http_locale_listed("en,de,ja", ""));
    ck_assert(!stp_http_locale_listed("en,de,ja", NULL));
    ck_assert(!stp_http_locale_listed(NULL, "en"));
    ck_assert(!stp_http_locale_listed("", "en"));
}
END_TEST

Suite *http_suite(void)
{
    Suite *s = suite_create("http");
    TCase *tc = tcase_create("parse");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_download_valid);
    tcase_add_test(tc, test_download_invalid);
    tcase_add_test(tc, test_form_good);
    tcase_add_test(tc, test_form_empty);
    tcase_add_test(tc, test_form_bad);
    tcase_add_test(tc, test_form_limits);
    tcase_add_test(tc, test_utf8);
    suite_add_tcase(s, tc);
    tc = tcase_create("escape");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_url_escape);
    tcase_add_test(tc, test_json_string);
    tcase_add_test(tc, test_content_disposition);
    suite_add_tcase(s, tc);
    tc = tcase_create("negotiate");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_lang_explicit);
    tcase_add_test(tc, test_lang_accept);
    tcase_add_test(tc, test_lang_garbage);
    tcase_add_test(tc, test_cookie_get);
    tcase_add_test(tc, test_locale_listed);
    suite_add_tcase(s, tc);
    return s;
}
