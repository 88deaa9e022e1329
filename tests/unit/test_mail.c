/* The digest message's headers: the site label as an RFC 5322 display name. */
#include <string.h>

#include <apr_base64.h>
#include <apr_strings.h>

#include "stp_mail.h"
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

START_TEST(display_name_plain_and_quoted)
{
    ck_assert_str_eq(stp_mail_display_name("Contoso Trust Center", pool), "Contoso Trust Center");
    /* A comma would split the From header into two addresses. */
    ck_assert_str_eq(stp_mail_display_name("Contoso, Inc.", pool), "\"Contoso, Inc.\"");
    ck_assert_str_eq(stp_mail_display_name("Say \"hi\" \\ bye", pool), "\"Say \\\"hi\\\" \\\\ bye\"");
    ck_assert_str_eq(stp_mail_display_name("a <b@evil.example>", pool), "\"a <b@evil.example>\"");
    ck_assert_str_eq(stp_mail_display_name("", pool), "\"\"");
    ck_assert_str_eq(stp_mail_display_name(" lead", pool), "\" lead\"");
    /* CR and LF never reach the header: no header of the label's choosing. */
    ck_assert_str_eq(stp_mail_display_name("Trust\r\nBcc: x@evil.example", pool), "\"Trust  Bcc: x@evil.example\"");
}
END_TEST

/* Decodes "=?UTF-8?B?...?=" words separated by folding whitespace. */
static const char *decode_words(const char *s)
{
    const char *out = "";
    while (*s) {
        while (*s == '\r' || *s == '\n' || *s == ' ')
            s++;
        ck_assert_msg(!strncmp(s, "=?UTF-8?B?", 10), "not an encoded word: %s", s);
        const char *end = strstr(s + 10, "?=");
        ck_assert_ptr_nonnull(end);
        ck_assert_int_le(end + 2 - s, 75); /* RFC 2047: at most 75 characters a word */
        char *b64 = apr_pstrmemdup(pool, s + 10, (apr_size_t)(end - s - 10));
        char *plain = apr_palloc(pool, (apr_size_t)apr_base64_decode_len(b64) + 1);
        int n = apr_base64_decode(plain, b64);
        plain[n] = '\0';
        /* each word holds whole UTF-8 characters: it does not start with a continuation byte */
        ck_assert((plain[0] & 0xc0) != 0x80);
        out = apr_pstrcat(pool, out, plain, NULL);
        s = end + 2;
    }
    return out;
}

START_TEST(display_name_non_ascii)
{
    const char *label = "Contoso Vertrauensstelle, Ümlaut \"GmbH\"";
    const char *got = stp_mail_display_name(label, pool);
    ck_assert(!strncmp(got, "=?UTF-8?B?", 10));
    ck_assert_ptr_null(strchr(got, '"'));
    ck_assert_ptr_null(strchr(got, ','));
    ck_assert_str_eq(decode_words(got), label);
    /* Long: several words, folded, each cut between characters (3-byte Japanese characters). */
    const char *long_label = "信頼センター信頼センター信頼センター信頼センター信頼センター信頼センター";
    got = stp_mail_display_name(long_label, pool);
    ck_assert_ptr_nonnull(strstr(got, "?=\r\n =?UTF-8?B?"));
    ck_assert_str_eq(decode_words(got), long_label);
    /* Control characters are gone from the encoded text too. */
    ck_assert_str_eq(decode_words(stp_mail_display_name("Ü\r\nBcc: x", pool)), "Ü  Bcc: x");
}
END_TEST

static const char *label_msg(void *baton, const char *lang, const char *key, apr_pool_t *p)
{
    (void)lang;
    (void)p;
    return !strcmp(key, "site.title") ? baton : key;
}

START_TEST(digest_from_header)
{
    stp_doc_t doc = {0};
    doc.id = "soc-2026";
    doc.version = "2026";
    stp_digest_t dg = {"u", "u@contoso.example", "en", "<0123456789abcdef0123456789abcdef@trust.example.com>",
                       apr_array_make(pool, 1, sizeof(stp_digest_item_t))};
    stp_digest_item_t *it = apr_array_push(dg.items);
    it->series = "soc";
    it->doc = &doc;
    it->seen = "x";
    stp_mail_t m = {
        "https://trust.example.com", "noreply@trust.example.com", "en", label_msg, "Contoso, Inc.", 0, NULL, "ltr"};
    const char *msg = stp_mail_digest(&dg, &m, pool);
    const char *from = "From: \"Contoso, Inc.\" <noreply@trust.example.com>\r\nTo: <u@contoso.example>\r\n";
    ck_assert(!strncmp(msg, from, strlen(from)));
    m.baton = "Trust\r\nBcc: all@evil.example";
    msg = stp_mail_digest(&dg, &m, pool);
    ck_assert_ptr_null(strstr(msg, "\r\nBcc:"));
    const char *want = "From: \"Trust  Bcc: all@evil.example\" <noreply@trust.example.com>\r\n";
    ck_assert(!strncmp(msg, want, strlen(want)));
}
END_TEST

/* The HTML part comes from the page templates, its texts escaped; without templates, text only. */
START_TEST(digest_html_from_templates)
{
    stp_doc_t doc = {0};
    doc.id = "soc-2026";
    doc.version = "2026";
    doc.titles = apr_array_make(pool, 1, sizeof(stp_text_t));
    stp_text_t *t = apr_array_push(doc.titles);
    t->lang = "ar";
    t->text = "<script>alert(1)</script> & \"report\"";
    stp_digest_t dg = {"u", "u@contoso.example", "ar", "<0123456789abcdef0123456789abcdef@trust.example.com>",
                       apr_array_make(pool, 1, sizeof(stp_digest_item_t))};
    stp_digest_item_t *it = apr_array_push(dg.items);
    it->series = "soc";
    it->doc = &doc;
    it->seen = "x";
    stp_view_t *view;
    const char *err;
    ck_assert_int_eq(stp_view_open(&view, TEST_SRCDIR "/xslt/page.xsl", &err, pool), APR_SUCCESS);
    stp_mail_t m = {
        "https://trust.example.com", "noreply@trust.example.com", "ar", label_msg, "Portal", 0, view, "rtl"};
    const char *msg = stp_mail_digest(&dg, &m, pool);
    ck_assert_ptr_nonnull(strstr(msg, "Content-Type: multipart/alternative"));
    const char *part =
        strstr(msg, "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n");
    ck_assert_ptr_nonnull(part);
    part = strstr(part, "\r\n\r\n") + 4;
    char *b64 = apr_pstrndup(pool, part, strcspn(part, "-"));
    char *clean = apr_palloc(pool, strlen(b64) + 1), *o = clean;
    for (const char *c = b64; *c; c++)
        if (*c != '\r' && *c != '\n')
            *o++ = *c;
    *o = '\0';
    char *html = apr_palloc(pool, (apr_size_t)apr_base64_decode_len(clean) + 1);
    html[apr_base64_decode(html, clean)] = '\0';
    ck_assert_ptr_nonnull(strstr(html, "<html lang=\"ar\" dir=\"rtl\">"));
    ck_assert_ptr_nonnull(strstr(html, "<a href=\"https://trust.example.com/ar/docs/soc-2026/\">"));
    ck_assert_ptr_nonnull(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; \"report\""));
    ck_assert_ptr_null(strstr(html, "<script"));
    /* No templates: one text part. */
    m.view = NULL;
    msg = stp_mail_digest(&dg, &m, pool);
    ck_assert_ptr_null(strstr(msg, "multipart"));
    ck_assert_ptr_null(strstr(msg, "text/html"));
    ck_assert_ptr_nonnull(strstr(msg, "Content-Type: text/plain; charset=utf-8"));
}
END_TEST

Suite *mail_suite(void)
{
    Suite *s = suite_create("mail");
    TCase *tc = tcase_create("headers");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, display_name_plain_and_quoted);
    tcase_add_test(tc, display_name_non_ascii);
    tcase_add_test(tc, digest_from_header);
    tcase_add_test(tc, digest_html_from_templates);
    suite_add_tcase(s, tc);
    return s;
}
