/* Rendering: escaping, Markdown safe mode, template security, locale markup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <apr_strings.h>

#include "content_fixture.h"
#include "sg_fingerprint.h"
#include "sg_explain.h"
#include "sg_i18n.h"
#include "sg_markdown.h"
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
    sg_content_resolve(site, stp_date_from_ymd(2026, 11, 22), stp_date_to_time(stp_date_from_ymd(2026, 11, 22)), 0);
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

START_TEST(test_markdown_gfm)
{
    const char *md = "# One\n\n## Two\n\n####### not a heading\n\n###### Six\n\n"
                     "| A | B |\n| :-- | --: |\n| [x](javascript:alert(1)) | ~~old~~ <b>raw</b> |\n\n"
                     "- [x] done\n\nwww.example.test and a note[^n].\n\n[^n]: The note.\n";
    const char *html = sg_markdown_html(md, strlen(md), 0, pool);
    ck_assert_ptr_nonnull(html);
    /* The page's title is the h1: # is h2, ## h3, and ###### stays h6. */
    ck_assert_ptr_nonnull(strstr(html, "<h2>One</h2>"));
    ck_assert_ptr_nonnull(strstr(html, "<h3>Two</h3>"));
    ck_assert_ptr_nonnull(strstr(html, "<h6>Six</h6>"));
    ck_assert_ptr_null(strstr(html, "<h1"));
    ck_assert_ptr_nonnull(strstr(html, "<th align=\"left\">A</th>"));
    ck_assert_ptr_nonnull(strstr(html, "<td align=\"right\">"));
    ck_assert_ptr_nonnull(strstr(html, "<del>old</del>"));
    ck_assert_ptr_nonnull(strstr(html, "type=\"checkbox\" checked"));
    ck_assert_ptr_nonnull(strstr(html, "<a href=\"http://www.example.test\">"));
    ck_assert_ptr_nonnull(strstr(html, "The note."));
    /* Safe mode holds inside the extensions' blocks too. */
    ck_assert_ptr_null(strstr(html, "javascript:"));
    ck_assert_ptr_null(strstr(html, "<b>"));
    /* The search text has the table's cells as words, apart. */
    const char *text = sg_markdown_text(md, strlen(md), pool);
    ck_assert_ptr_nonnull(strstr(text, "old"));
    ck_assert_ptr_nonnull(strstr(text, "A B"));
    ck_assert_ptr_null(strstr(text, "<b>"));
}
END_TEST

START_TEST(test_utf8_text)
{
    char *data = apr_pstrdup(pool, "\xef\xbb\xbf"
                                   "caf\xc3\xa9\n");
    apr_size_t len = strlen(data);
    int line = 0;
    ck_assert_ptr_null(sg_utf8_text(&data, &len, &line, pool));
    ck_assert_str_eq(data, "caf\xc3\xa9\n"); /* the BOM is gone */
    ck_assert_uint_eq(len, 6);
    data = apr_pstrdup(pool, "ok\n\xc3\xa4 fine\nerl\xe4utert f\xfcr\n\xe4 again\n");
    len = strlen(data);
    ck_assert_str_eq(sg_utf8_text(&data, &len, &line, pool), "not UTF-8 (bytes E4 FC): save the file as UTF-8");
    ck_assert_int_eq(line, 3);
    data = apr_pstrdup(pool, "\xc3");
    len = 1;
    ck_assert_str_eq(sg_utf8_text(&data, &len, &line, pool), "not UTF-8 (byte C3): save the file as UTF-8");
    ck_assert_int_eq(line, 1);
}
END_TEST

START_TEST(test_did_you_mean)
{
    const char *const names[] = {"published", "title", "summary", "change", "files"};
    ck_assert_str_eq(sg_did_you_mean("titel", names, 5), "title");
    ck_assert_str_eq(sg_did_you_mean("chnage", names, 5), "change");
    ck_assert_str_eq(sg_did_you_mean("publised", names, 5), "published");
    ck_assert_str_eq(sg_did_you_mean("Title", names, 5), "title");
    ck_assert_ptr_null(sg_did_you_mean("colour", names, 5));
    ck_assert_ptr_null(sg_did_you_mean("x", names, 5));
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

/* --- What's new -------------------------------------------------------------------------------- */

/* A document with a change note in English (fixture_add_doc's, with <change> after the summary). */
static void add_doc_with_change(const char *id, const char *published, const char *access, const char *change)
{
    fixture_add_doc(dir, id, NULL, NULL, published, access, id, "Body\n", pool);
    fixture_write(apr_pstrcat(pool, dir, "/docs/", id, "/doc.xml", NULL),
                  apr_psprintf(pool,
                               "<document id='%s'><published>%s</published><tile ref='soc'/>%s"
                               "<title xml:lang='en'>Title of %s</title><summary xml:lang='en'>Summary of %s</summary>"
                               "<change xml:lang='en'>%s</change><files><file href='report.pdf'/></files></document>\n",
                               id, published, access, id, id, change));
}

/* Three public months and a tenant document in a fourth, newer one. */
static sg_site_t *whatsnew_site(void)
{
    sg_errors_t *errs = sg_errors_make(pool);
    dir = fixture_make(pool, NULL);
    fixture_add_doc(dir, "mar-a", NULL, NULL, "2026-03-05", "<access level='public'/>", "March A", "x\n", pool);
    add_doc_with_change("mar-b", "2026-03-20", "<access level='signin'/>", "Adds the March controls.");
    fixture_add_doc(dir, "jan", NULL, NULL, "2026-01-31", "<access level='nda'/>", "January", "x\n", pool);
    fixture_add_doc(dir, "dec", NULL, NULL, "2025-12-01", "<access level='public'/>", "December", "x\n", pool);
    add_doc_with_change("t-apr", "2026-04-02", "<access level='tenant'><tenant ref='t1'/></access>",
                        "Tenant-only changes.");
    sg_site_t *site = fixture_load(dir, errs, pool);
    ck_assert_int_eq(sg_errors_count(errs), 0);
    sg_content_resolve(site, stp_date_from_ymd(2026, 11, 22), stp_date_to_time(stp_date_from_ymd(2026, 11, 22)), 0);
    return site;
}

static const char *render_page(const sg_site_t *site, sg_page_t *page)
{
    sg_errors_t *errs = sg_errors_make(pool);
    sg_i18n_t *i18n;
    sg_render_t *r;
    char *out;
    apr_size_t len;
    ck_assert_int_eq(sg_i18n_load(&i18n, site, TEST_SRCDIR "/xslt", errs, pool), APR_SUCCESS);
    ck_assert_int_eq(sg_render_open(&r, site, i18n, TEST_SRCDIR "/xslt", errs, pool), APR_SUCCESS);
    page->out = "x";
    page->url = page->kind == SG_PAGE_WHATSNEW ? sg_page_url_of(page, page->lang, pool) : "/x/";
    apr_status_t rv = sg_render_page(&out, &len, r, page, pool);
    sg_render_close(r);
    ck_assert_int_eq(rv, APR_SUCCESS);
    return out;
}

static const sg_month_t *month_at(const sg_site_t *site, int i)
{
    return APR_ARRAY_IDX(site->months, i, sg_month_t *);
}

/* The position of `needle` in `html`, failing the test when it is not there. */
static apr_size_t pos(const char *html, const char *needle)
{
    const char *at = strstr(html, needle);
    ck_assert_msg(at != NULL, "missing: %s", needle);
    return (apr_size_t)(at - html);
}

START_TEST(test_whatsnew_months)
{
    sg_site_t *site = whatsnew_site();
    /* Listed documents by month, newest first; the tenant's April is not one of them. */
    ck_assert_int_eq(site->months->nelts, 3);
    ck_assert_str_eq(month_at(site, 0)->id, "2026-03");
    ck_assert_str_eq(month_at(site, 1)->id, "2026-01");
    ck_assert_str_eq(month_at(site, 2)->id, "2025-12");
    ck_assert_int_eq(month_at(site, 2)->index, 2);
    ck_assert_int_eq(month_at(site, 0)->docs->nelts, 2);
    ck_assert_str_eq(APR_ARRAY_IDX(month_at(site, 0)->docs, 0, sg_doc_t *)->cat.id, "mar-b");

    /* The newest month is What's new itself: the older one is "next", there is no "prev". */
    sg_page_t page = {.kind = SG_PAGE_WHATSNEW, .lang = "en", .month = month_at(site, 0)};
    const char *html = render_page(site, &page);
    ck_assert_str_eq(page.url, "/en/whats-new/");
    ck_assert_ptr_nonnull(strstr(html, "<h1>What's new: March 2026</h1>"));
    ck_assert(pos(html, "href=\"/en/docs/mar-b/\"") < pos(html, "href=\"/en/docs/mar-a/\""));
    ck_assert_ptr_nonnull(strstr(html, "<time datetime=\"2026-03-20\">March 20, 2026</time>"));
    ck_assert_ptr_nonnull(
        strstr(html, "<span class=\"label\">What's new in this version:</span> <span>Adds the March controls.</span>"));
    ck_assert_ptr_nonnull(strstr(html, "<p class=\"summary\">Summary of mar-a</p>"));
    ck_assert_ptr_nonnull(strstr(html, "<span class=\"badge badge-signin\">"));
    ck_assert_ptr_nonnull(strstr(html, "<a href=\"/en/certs/soc/\">SOC</a>"));
    ck_assert_ptr_nonnull(strstr(html, "<a rel=\"next\" href=\"/en/whats-new/2026-01/\">"));
    ck_assert_ptr_nonnull(strstr(html, "<link rel=\"next\" href=\"/en/whats-new/2026-01/\">"));
    ck_assert_ptr_null(strstr(html, "rel=\"prev\""));
    ck_assert_ptr_null(strstr(html, "/docs/jan/"));
    ck_assert_ptr_null(strstr(html, "t-apr"));
    ck_assert_ptr_nonnull(
        strstr(html, "<link rel=\"alternate\" hreflang=\"ar\" href=\"https://trust.test/ar/whats-new/\">"));

    /* An older month, in Arabic: its own address, both neighbours, every month by year. */
    page = (sg_page_t){.kind = SG_PAGE_WHATSNEW, .lang = "ar", .month = month_at(site, 1)};
    html = render_page(site, &page);
    ck_assert_str_eq(page.url, "/ar/whats-new/2026-01/");
    ck_assert_ptr_nonnull(strstr(html, "<html lang=\"ar\" dir=\"rtl\">"));
    ck_assert_ptr_nonnull(strstr(html, "<a rel=\"prev\" href=\"/ar/whats-new/\">"));
    ck_assert_ptr_nonnull(strstr(html, "<a rel=\"next\" href=\"/ar/whats-new/2025-12/\">"));
    ck_assert_ptr_nonnull(strstr(html, "href=\"/ar/docs/jan/\""));
    ck_assert_ptr_null(strstr(html, "/docs/mar-a/"));
    ck_assert_ptr_nonnull(
        strstr(html, "<a href=\"/ar/whats-new/2026-01/\" aria-label=\"يناير 2026\" aria-current=\"page\">"));
    ck_assert(pos(html, "<span class=\"year\">2026</span>") < pos(html, "<span class=\"year\">2025</span>"));
    /* the language picker keeps the month */
    ck_assert_ptr_nonnull(strstr(html, "<a href=\"/de/whats-new/2026-01/\" hreflang=\"de\""));
    ck_assert_ptr_null(strstr(html, "t-apr"));
}
END_TEST

START_TEST(test_whatsnew_empty)
{
    sg_errors_t *errs = sg_errors_make(pool);
    dir = fixture_make(pool, NULL);
    fixture_add_doc(dir, "t-only", NULL, NULL, "2026-04-02", "<access level='tenant'><tenant ref='t1'/></access>",
                    "Tenant only", "x\n", pool);
    sg_site_t *site = fixture_load(dir, errs, pool);
    sg_content_resolve(site, stp_date_from_ymd(2026, 11, 22), stp_date_to_time(stp_date_from_ymd(2026, 11, 22)), 0);
    ck_assert_int_eq(site->months->nelts, 0);
    sg_page_t page = {.kind = SG_PAGE_WHATSNEW, .lang = "en"};
    const char *html = render_page(site, &page);
    ck_assert_str_eq(page.url, "/en/whats-new/");
    ck_assert_ptr_nonnull(strstr(html, "<h1>What's new</h1>"));
    ck_assert_ptr_nonnull(strstr(html, "Nothing has been published yet."));
    ck_assert_ptr_null(strstr(html, "t-only"));
}
END_TEST

/* An organisation's page: its own documents, as What's new by month, with their change notes. */
START_TEST(test_org_whatsnew)
{
    sg_site_t *site = whatsnew_site();
    sg_page_t page = {.kind = SG_PAGE_ORG_HOME, .lang = "en", .tenant = "t1"};
    const char *html = render_page(site, &page);
    ck_assert_ptr_nonnull(strstr(html, "<h2>What's new for your organization</h2>"));
    ck_assert_ptr_nonnull(strstr(html, "<h3 id=\"m-2026-04\">April 2026</h3>"));
    ck_assert_ptr_nonnull(strstr(html, "href=\"/en/org/docs/t-apr/\""));
    ck_assert_ptr_nonnull(strstr(html, "Tenant-only changes."));
    ck_assert_ptr_null(strstr(html, "mar-a"));
}
END_TEST

static void fingerprint(sg_page_t *page, const sg_site_t *site)
{
    sg_fingerprint_page(page, sg_fingerprint_summaries(site, 1, pool), site);
}

/* A month's page changes with what it shows: its documents' dates, and the months around it. */
START_TEST(test_whatsnew_fingerprint)
{
    sg_site_t *site = whatsnew_site();
    sg_page_t jan = {.kind = SG_PAGE_WHATSNEW, .lang = "en", .out = "public/en/whats-new/2026-01/index.html"};
    jan.month = month_at(site, 1);
    fingerprint(&jan, site);
    char before[65];
    memcpy(before, jan.fp, sizeof before);
    fingerprint(&jan, site);
    ck_assert_str_eq(jan.fp, before);

    /* the document moves within its month */
    sg_doc_t *d = apr_hash_get(site->doc_index, "jan", APR_HASH_KEY_STRING);
    d->cat.published = stp_date_from_ymd(2026, 1, 2);
    sg_content_resolve(site, stp_date_from_ymd(2026, 11, 22), stp_date_to_time(stp_date_from_ymd(2026, 11, 22)), 0);
    jan.month = month_at(site, 1);
    fingerprint(&jan, site);
    ck_assert_str_ne(jan.fp, before);
    memcpy(before, jan.fp, sizeof before);

    /* a newer month appears (the page's own documents are the same): its navigation changes */
    d = apr_hash_get(site->doc_index, "mar-a", APR_HASH_KEY_STRING);
    d->cat.published = stp_date_from_ymd(2026, 2, 14);
    sg_content_resolve(site, stp_date_from_ymd(2026, 11, 22), stp_date_to_time(stp_date_from_ymd(2026, 11, 22)), 0);
    ck_assert_int_eq(site->months->nelts, 4);
    jan.month = month_at(site, 2);
    ck_assert_str_eq(jan.month->id, "2026-01");
    fingerprint(&jan, site);
    ck_assert_str_ne(jan.fp, before);
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
    tcase_add_test(tc, test_markdown_gfm);
    tcase_add_test(tc, test_utf8_text);
    tcase_add_test(tc, test_did_you_mean);
    tcase_add_test(tc, test_locale_markup_and_fallback);
    tcase_add_test(tc, test_templates_cannot_read_files);
    tcase_add_test(tc, test_templates_cannot_write_files);
    tcase_add_test(tc, test_whatsnew_months);
    tcase_add_test(tc, test_whatsnew_empty);
    tcase_add_test(tc, test_org_whatsnew);
    tcase_add_test(tc, test_whatsnew_fingerprint);
    suite_add_tcase(s, tc);
    return s;
}
