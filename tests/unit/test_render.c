/* Rendering: escaping, Markdown safe mode, template security, locale markup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <apr_strings.h>

#include "content_fixture.h"
#include "sg_i18n.h"
#include "sg_pages.h"
#include "tests.h"

static apr_pool_t *pool;
static const char *dir;

static void setup(void)
{
    apr_pool_create(&pool, NULL);
}

static void teardown(void)
{
    if (dir)
        fixture_remove(dir);
    dir = NULL;
    apr_pool_destroy(pool);
}

/* Loads the fixture and renders one page of document `id`; NULL when rendering fails. */
static const char *render_doc(const char *xslt, const char *id, const char *lang)
{
    sg_errors_t *errs = sg_errors_make(pool);
    sg_site_t *site = fixture_load(dir, errs, pool);
    sg_i18n_t *i18n;
    sg_render_t *r;
    char *out;
    apr_size_t len;
    ck_assert_int_eq(sg_errors_count(errs), 0);
    sg_content_resolve(site, stp_date_from_ymd(2026, 11, 22));
    ck_assert_int_eq(sg_i18n_load(&i18n, site, TEST_SRCDIR "/xslt", errs, pool), APR_SUCCESS);
    ck_assert_int_eq(sg_render_open(&r, site, i18n, xslt, errs, pool), APR_SUCCESS);
    sg_doc_t *d = apr_hash_get(site->doc_index, id, APR_HASH_KEY_STRING);
    ck_assert_ptr_nonnull(d);
    sg_page_t page = {.kind = SG_PAGE_DOC, .lang = lang, .doc = d, .out = "x", .url = "/x/"};
    apr_status_t rv = sg_render_page(&out, &len, r, &page, pool);
    sg_render_close(r);
    return rv == APR_SUCCESS ? out : NULL;
}

/* 1 when every script element in the page is the site's own stp.js: nothing from content. */
static int only_own_scripts(const char *html)
{
    static const char own[] = "<script src=\"/assets/stp.js\"";
    for (const char *at = strstr(html, "<script"); at; at = strstr(at + 1, "<script"))
        if (strncmp(at, own, sizeof own - 1))
            return 0;
    return 1;
}

START_TEST(test_metadata_is_escaped)
{
    dir = fixture_make(pool, NULL);
    fixture_add_doc(dir, "a", NULL, NULL, "2025-01-02", "<access level='public'/>",
                    "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;", "Body\n", pool);
    const char *html = render_doc(TEST_SRCDIR "/xslt", "a", "en");
    ck_assert_ptr_nonnull(html);
    ck_assert(only_own_scripts(html));
    ck_assert_ptr_nonnull(strstr(html, "<h1>&lt;script&gt;alert(1)&lt;/script&gt; &amp; \"quotes\"</h1>"));
}
END_TEST

START_TEST(test_markdown_safe_mode)
{
    dir = fixture_make(pool, NULL);
    fixture_add_doc(dir, "a", NULL, NULL, "2025-01-02", "<access level='public'/>", "A",
                    "Hello <script>alert(1)</script> <b onclick='x()'>bold</b>\n\n"
                    "[click](javascript:alert(1)) [ok](https://example.test/x?a=1&b=2)\n\n"
                    "<iframe src='https://evil.test'></iframe>\n",
                    pool);
    const char *html = render_doc(TEST_SRCDIR "/xslt", "a", "en");
    ck_assert_ptr_nonnull(html);
    ck_assert(only_own_scripts(html));
    ck_assert_ptr_null(strstr(html, "onclick"));
    ck_assert_ptr_null(strstr(html, "<iframe"));
    ck_assert_ptr_null(strstr(html, "javascript:"));
    ck_assert_ptr_nonnull(strstr(html, "href=\"https://example.test/x?a=1&amp;b=2\""));
}
END_TEST

START_TEST(test_markdown_unsafe_opt_in)
{
    dir = fixture_make(pool, "<markdown unsafe-html='true'/>");
    fixture_add_doc(dir, "a", NULL, NULL, "2025-01-02", "<access level='public'/>", "A",
                    "Some <abbr title='System and Organization Controls'>SOC</abbr> text\n", pool);
    const char *html = render_doc(TEST_SRCDIR "/xslt", "a", "en");
    ck_assert_ptr_nonnull(html);
    ck_assert_ptr_nonnull(strstr(html, "<abbr title=\"System and Organization Controls\">SOC</abbr>"));
}
END_TEST

START_TEST(test_locale_markup_and_fallback)
{
    dir = fixture_make(pool, NULL);
    fixture_add_doc(dir, "a", NULL, NULL, "2025-03-04", "<access level='nda'/>", "A", "English body\n", pool);
    const char *html = render_doc(TEST_SRCDIR "/xslt", "a", "ar");
    ck_assert_ptr_nonnull(html);
    ck_assert_ptr_nonnull(strstr(html, "<html lang=\"ar\" dir=\"rtl\">"));
    /* the English body is marked as English inside the Arabic page, with the note */
    ck_assert_ptr_nonnull(strstr(html, "<div class=\"body\" lang=\"en\" dir=\"auto\">"));
    ck_assert_ptr_nonnull(strstr(html, "class=\"notice\""));
    ck_assert_ptr_nonnull(strstr(html, "<time datetime=\"2025-03-04\">"));
    html = render_doc(TEST_SRCDIR "/xslt", "a", "en");
    ck_assert_ptr_nonnull(strstr(html, "<time datetime=\"2025-03-04\">March 4, 2025</time>"));
    ck_assert_ptr_nonnull(strstr(html, "href=\"/download/a?lang=en\""));
}
END_TEST

/* A template that tries to read a local file: libxslt's security preferences refuse it. */
START_TEST(test_templates_cannot_read_files)
{
    dir = fixture_make(pool, NULL);
    fixture_add_doc(dir, "a", NULL, NULL, "2025-01-02", "<access level='public'/>", "A", "x\n", pool);
    const char *xslt = apr_pstrcat(pool, dir, "/xslt", NULL);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "cp -r '%s/xslt' '%s' && sed -i 's#<xsl:comment>stp:main</xsl:comment>#&#; "
             "s#<h1>#<h1><xsl:value-of select=\"document('\\''/etc/passwd'\\'')\"/>#' '%s/page.xsl'",
             TEST_SRCDIR, xslt, xslt);
    ck_assert_int_eq(system(cmd), 0);
    const char *html = render_doc(xslt, "a", "en");
    ck_assert_msg(html == NULL || strstr(html, "root:") == NULL, "a template read /etc/passwd");
}
END_TEST

START_TEST(test_templates_cannot_write_files)
{
    dir = fixture_make(pool, NULL);
    fixture_add_doc(dir, "a", NULL, NULL, "2025-01-02", "<access level='public'/>", "A", "x\n", pool);
    const char *xslt = apr_pstrcat(pool, dir, "/xslt", NULL);
    const char *target = apr_pstrcat(pool, dir, "/written.txt", NULL);
    char cmd[768];
    /* xsl:document (XSLT 1.1, which libxslt implements) writes a second output file. */
    snprintf(cmd, sizeof cmd,
             "cp -r '%s/xslt' '%s' && sed -i 's#<xsl:stylesheet version=\"1.0\"#<xsl:stylesheet version=\"1.1\"#; "
             "s#<h1>#<h1><xsl:document href=\"%s\" method=\"text\">x</xsl:document>#' '%s/page.xsl'",
             TEST_SRCDIR, xslt, target, xslt);
    ck_assert_int_eq(system(cmd), 0);
    render_doc(xslt, "a", "en");
    struct stat st;
    ck_assert_msg(stat(target, &st) != 0, "a template wrote %s", target);
}
END_TEST

Suite *render_suite(void)
{
    Suite *s = suite_create("render");
    TCase *tc = tcase_create("render");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_metadata_is_escaped);
    tcase_add_test(tc, test_markdown_safe_mode);
    tcase_add_test(tc, test_markdown_unsafe_opt_in);
    tcase_add_test(tc, test_locale_markup_and_fallback);
    tcase_add_test(tc, test_templates_cannot_read_files);
    tcase_add_test(tc, test_templates_cannot_write_files);
    suite_add_tcase(s, tc);
    return s;
}
