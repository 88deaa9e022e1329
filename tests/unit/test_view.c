/* The one page system (libstp/stp_view.h): every kind of page the module renders, built as XML
 * the way mod_stp_page.c builds it, through xslt/page.xsl. Each page must parse as HTML without
 * an error, keep its title text-only, carry no script but the site's own, and escape what it is
 * given: a title and texts holding markup, quotes and a CSRF-looking value. */
#include <string.h>

#include <apr_strings.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <libxslt/transform.h>
#include <libxslt/xsltutils.h>

#include "stp_view.h"
#include "test_util.h"
#include "tests.h"

#define HOSTILE "<script>alert(\"x\")</script>&\"'<!--stp:main-->"

static xmlNodePtr el(xmlNodePtr parent, const char *name, const char *text)
{
    return xmlNewTextChild(parent, NULL, (const xmlChar *)name, (const xmlChar *)text);
}

static void at(xmlNodePtr n, const char *name, const char *value)
{
    xmlSetProp(n, (const xmlChar *)name, (const xmlChar *)value);
}

/* The UI strings: the key itself, except one that tries markup of its own. */
static const char *msg(void *baton, const char *key)
{
    (void)baton;
    return !strcmp(key, "site.title") ? HOSTILE : NULL;
}

static xmlDocPtr page_of(const char *kind, int signed_in, const char *dir)
{
    xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
    xmlNodePtr page = xmlNewNode(NULL, (const xmlChar *)"page");
    xmlDocSetRootElement(doc, page);
    at(page, "kind", kind);
    at(page, "lang", "ar");
    at(page, "dir", dir);
    at(page, "url", "/stp/x?a=\"b\"");
    at(page, "return", "%2Fstp%2Fx");
    at(page, "base-url", "");
    el(page, "site-title", HOSTILE);
    el(page, "title", HOSTILE);
    xmlNodePtr l = el(el(page, "locales", NULL), "locale", HOSTILE);
    at(l, "id", "ar");
    at(l, "dir", "rtl");
    at(l, "href", "/stp/x?lang=ar&\"");
    at(l, "current", "yes");
    if (signed_in) {
        xmlNodePtr u = el(page, "user", NULL);
        at(u, "kind", "member");
        at(u, "name", HOSTILE);
        at(u, "org", HOSTILE);
        at(u, "csrf", "\"><script>alert(1)</script>");
    }
    return doc;
}

/* Adds what a page of `kind` shows, each value hostile. */
static void body_of(xmlDocPtr doc, const char *kind)
{
    xmlNodePtr page = xmlDocGetRootElement(doc);
    if (!strcmp(kind, "error")) {
        xmlNodePtr e = el(page, "error", NULL);
        at(e, "status", "410");
        at(e, "body", "error.gone.body");
        xmlNodePtr link = el(e, "link", NULL);
        at(link, "href", "/en/docs/\"x\"/");
        at(link, "key", "doc.current");
    } else if (!strcmp(kind, "nda")) {
        xmlNodePtr n = el(page, "nda", NULL);
        at(n, "version", HOSTILE);
        at(n, "csrf", HOSTILE);
        at(n, "return", HOSTILE);
        at(n, "accepted", "no");
        at(el(n, "document", HOSTILE), "href", HOSTILE);
        el(el(n, "text", NULL), "p", HOSTILE);
    } else if (!strcmp(kind, "library")) {
        xmlNodePtr lib = el(page, "library", NULL);
        at(lib, "csrf", HOSTILE);
        at(lib, "return", HOSTILE);
        xmlNodePtr e = el(lib, "entry", HOSTILE);
        const char *attrs[] = {"id", "series", "href", "version", "published", "download"};
        for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++)
            at(e, attrs[i], HOSTILE);
        at(e, "changed", "yes");
    } else if (!strcmp(kind, "confirm")) {
        xmlNodePtr c = el(page, "confirm", HOSTILE);
        at(c, "csrf", HOSTILE);
        at(c, "doc", HOSTILE);
        at(c, "return", HOSTILE);
    } else if (!strcmp(kind, "notifications")) {
        xmlNodePtr f = el(page, "notifications", NULL);
        at(f, "csrf", HOSTILE);
        at(el(f, "frequency", NULL), "value", "daily");
        xmlNodePtr a = el(f, "address", HOSTILE);
        at(a, "error", "notifications.address.invalid");
        at(a, "domains", HOSTILE);
        at(el(f, "locale", HOSTILE), "id", "ar");
    } else if (!strcmp(kind, "account")) {
        xmlNodePtr a = el(page, "account", NULL);
        at(a, "email", HOSTILE);
        at(a, "nda-version", HOSTILE);
        at(a, "nda-accepted", "no");
    }
}

/* What a page holds that matters for safety. */
struct shape {
    int scripts, handlers, title_markup;
};

static void walk(xmlNodePtr n, struct shape *sh)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (!xmlStrcasecmp(n->name, (const xmlChar *)"script")) {
            xmlChar *src = xmlGetProp(n, (const xmlChar *)"src");
            sh->scripts += src && !xmlStrcmp(src, (const xmlChar *)"/assets/stp.js") ? 1 : 100;
            xmlFree(src);
        }
        for (xmlAttrPtr a = n->properties; a; a = a->next)
            sh->handlers += !xmlStrncasecmp(a->name, (const xmlChar *)"on", 2);
        if (!xmlStrcasecmp(n->name, (const xmlChar *)"title"))
            for (xmlNodePtr c = n->children; c; c = c->next)
                sh->title_markup += c->type != XML_TEXT_NODE;
        walk(n->children, sh);
    }
}

static int parse_errors;
/* libxml2's HTML parser knows HTML 4: HTML5's own elements (header, main, nav, time) are the
 * only thing it may complain about. */
static void count_error(void *ctx, xmlErrorPtr err)
{
    (void)ctx;
    if (err->code != XML_HTML_UNKNOWN_TAG)
        parse_errors++;
}

START_TEST(test_every_kind)
{
    static const char *kinds[] = {"error", "nda", "library", "confirm", "notifications", "account"};
    apr_pool_t *pool;
    apr_pool_create(&pool, NULL);
    stp_view_t *view;
    const char *err = NULL;
    ck_assert_int_eq(stp_view_open(&view, TEST_SRCDIR "/xslt/page.xsl", &err, pool), APR_SUCCESS);
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        for (int signed_in = 0; signed_in < 2; signed_in++) {
            xmlDocPtr in = page_of(kinds[k], signed_in, "rtl");
            body_of(in, kinds[k]);
            char *html;
            apr_size_t len;
            ck_assert_int_eq(stp_view_render(&html, &len, view, in, 1, msg, NULL, pool), APR_SUCCESS);
            xmlFreeDoc(in);
            ck_assert_uint_eq(strlen(html), len);
            ck_assert_msg(strstr(html, "&lt;script&gt;") != NULL, "%s: the hostile text is not shown escaped",
                          kinds[k]);
            ck_assert_ptr_nonnull(strstr(html, "<main id=\"main\">"));
            ck_assert_ptr_nonnull(strstr(html, "<html lang=\"ar\" dir=\"rtl\">"));
            ck_assert_msg(!signed_in || strstr(html, "action=\"/stp/logout\""), "%s: no sign-out", kinds[k]);
            ck_assert_msg(signed_in || strstr(html, "/stp/login?lang=ar&amp;return=%2Fstp%2Fx"),
                          "%s: sign-in does not come back", kinds[k]);
            /* Parses as HTML without a single error. */
            parse_errors = 0;
            xmlSetStructuredErrorFunc(NULL, count_error);
            htmlDocPtr out = htmlReadMemory(html, (int)len, NULL, "UTF-8", HTML_PARSE_NONET);
            xmlSetStructuredErrorFunc(NULL, NULL);
            ck_assert_ptr_nonnull(out);
            ck_assert_msg(parse_errors == 0, "%s: %d HTML errors", kinds[k], parse_errors);
            /* As a browser sees it: one script, the site's own; no event handler; a title of text. */
            struct shape sh = {0, 0, 0};
            walk(xmlDocGetRootElement(out), &sh);
            ck_assert_msg(sh.scripts == 1, "%s: %d scripts", kinds[k], sh.scripts);
            ck_assert_msg(sh.handlers == 0, "%s: an on* attribute", kinds[k]);
            ck_assert_msg(sh.title_markup == 0, "%s: markup in <title>", kinds[k]);
            xmlFreeDoc(out);
        }
    }
    apr_pool_destroy(pool);
}
END_TEST

/* stp_view_render() writes HTML results itself: byte for byte what libxslt's own
 * xsltSaveResultToString() writes (libxml2's HTML serializer), on everything that serializer
 * treats apart: URI attributes, boolean attributes, quotes of both kinds, elements without end
 * tags, script and style, control characters, server-side includes, &{...}, comments, processing
 * instructions, disable-output-escaping, namespaces. */
static const char IDENTITY_XSL[] =
    "<xsl:stylesheet version='1.0' xmlns:xsl='http://www.w3.org/1999/XSL/Transform'>"
    "<xsl:output method='html' encoding='UTF-8' indent='no'/>"
    "<xsl:template match='@*|node()'><xsl:copy><xsl:apply-templates select='@*|node()'/></xsl:copy></xsl:template>"
    "<xsl:template match='raw'><xsl:value-of select='.' disable-output-escaping='yes'/></xsl:template>"
    "<xsl:template match='ns'><x:el xmlns:x='urn:x' x:at='1'><xsl:value-of select='.'/></x:el></xsl:template>"
    "</xsl:stylesheet>";

static const char *const TRICKY[] = {
    "plain",
    "",
    "  lead and trail  ",
    "<b>&amp; \"double\" 'single' & > <",
    "both \" and ' quotes",
    "only 'single'",
    "only \"double\"",
    "ctl \x01\x02\x1f tab\t nl\n cr\r del\x7f end",
    "utf-8 \xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xd8\xb9 \xf0\x9f\x98\x80",
    "ssi <!--#include virtual=\"/x\"--> after",
    "ssi unclosed <!-- no end",
    "script &{alert(\"x\")}; and &{ unclosed",
    "uri /a b/?q=1&r=\"2\"#f [x] {y} |z| ^`\\ %41 +,;=@:",
    "\t\n /leading-blanks",
};

static xmlNodePtr el_in(xmlNodePtr parent, const char *name, const char *text)
{
    return xmlNewTextChild(parent, NULL, (const xmlChar *)name, (const xmlChar *)text);
}

static xmlDocPtr tricky_doc(const char *v, int ns)
{
    static const char *const attrs[] = {"href",  "HREF",    "src",      "action", "name",  "title",
                                        "value", "checked", "SELECTED", "defer",  "data-x"};
    static const char *const elems[] = {"a",       "A",      "img",   "form", "p",     "li",       "LI",
                                        "td",      "main",   "br",    "BR",   "input", "meta",     "link",
                                        "hr",      "col",    "param", "area", "base",  "basefont", "frame",
                                        "isindex", "option", "span",  "html", "body"};
    xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
    xmlNodePtr root = xmlNewNode(NULL, (const xmlChar *)"html");
    xmlDocSetRootElement(doc, root);
    xmlNodePtr head = el_in(root, "head", NULL), body = el_in(root, "body", v);
    el_in(head, "title", v);
    el_in(head, "script", v);
    el_in(head, "STYLE", v);
    for (size_t e = 0; e < sizeof elems / sizeof *elems; e++) {
        xmlNodePtr empty = el_in(body, elems[e], NULL), full = el_in(body, elems[e], v);
        for (size_t a = 0; a < sizeof attrs / sizeof *attrs; a++) {
            xmlSetProp(empty, (const xmlChar *)attrs[a], (const xmlChar *)v);
            xmlSetProp(full, (const xmlChar *)attrs[a], (const xmlChar *)v);
        }
    }
    xmlNodePtr p = el_in(body, "p", NULL);
    xmlNodeSetLang(p, (const xmlChar *)"de"); /* xml:lang: an attribute with a prefix */
    xmlAddChild(p, xmlNewDocComment(doc, (const xmlChar *)" a comment "));
    xmlAddChild(p, xmlNewDocPI(doc, (const xmlChar *)"pi", (const xmlChar *)"data"));
    xmlAddChild(p, xmlNewDocPI(doc, (const xmlChar *)"bare", NULL));
    xmlAddChild(p, xmlNewCDataBlock(doc, (const xmlChar *)"cdata <&>", 9));
    el_in(body, "raw", "<i>raw & unescaped</i>");
    if (ns) /* a result libxml2 is left to write */
        el_in(body, "ns", v);
    return doc;
}

static const char *no_msg(void *baton, const char *key)
{
    (void)baton;
    (void)key;
    return NULL;
}

START_TEST(test_serializer_is_libxml2s)
{
    apr_pool_t *pool;
    apr_pool_create(&pool, NULL);
    const char *dir = test_tmpdir("view", pool), *path = apr_pstrcat(pool, dir, "/identity.xsl", NULL);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(IDENTITY_XSL, f);
    fclose(f);
    stp_view_t *view;
    const char *err = NULL;
    ck_assert_int_eq(stp_view_open(&view, path, &err, pool), APR_SUCCESS);
    xsltStylesheetPtr style = xsltParseStylesheetFile((const xmlChar *)path);
    ck_assert_ptr_nonnull(style);
    for (size_t i = 0; i <= sizeof TRICKY / sizeof *TRICKY; i++) {
        xmlDocPtr in = i < sizeof TRICKY / sizeof *TRICKY ? tricky_doc(TRICKY[i], 0) : tricky_doc(TRICKY[3], 1);
        char *html;
        apr_size_t len;
        ck_assert_int_eq(stp_view_render(&html, &len, view, in, 1, no_msg, NULL, pool), APR_SUCCESS);
        xmlDocPtr res = xsltApplyStylesheet(style, in, NULL);
        ck_assert_ptr_nonnull(res);
        xmlChar *ref = NULL;
        int n = 0;
        ck_assert_int_eq(xsltSaveResultToString(&ref, &n, res, style), 0);
        const char *want = apr_pstrcat(pool, "<!DOCTYPE html>\n", (const char *)ref, NULL);
        ck_assert_uint_eq(len, strlen(want));
        ck_assert_msg(!strcmp(html, want), "value %zu:\n%s\nlibxml2:\n%s", i, html, want);
        xmlFree(ref);
        xmlFreeDoc(res);
        xmlFreeDoc(in);
    }
    xsltFreeStylesheet(style);
    test_rmtree(dir);
    apr_pool_destroy(pool);
}
END_TEST

/* stp_view_add_html(): each text's own nodes, the same on every call, whether the view kept the
 * parsed text (the first few) or had no room left (parsed per call), and without a view. */
START_TEST(test_add_html)
{
    apr_pool_t *pool;
    apr_pool_create(&pool, NULL);
    stp_view_t *view;
    const char *err = NULL;
    ck_assert_int_eq(stp_view_open(&view, TEST_SRCDIR "/xslt/page.xsl", &err, pool), APR_SUCCESS);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 12; i++) {
            const char *html = apr_psprintf(pool, "<h2 id=\"s%d\">Part %d</h2><p>One &amp; <em>two</em></p>", i, i);
            const char *want =
                apr_psprintf(pool, "<t><h2 id=\"s%d\">Part %d</h2><p>One &amp; <em>two</em></p></t>", i, i);
            for (int with_view = 0; with_view < 2; with_view++) {
                xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
                xmlNodePtr t = xmlNewNode(NULL, (const xmlChar *)"t");
                xmlDocSetRootElement(doc, t);
                stp_view_add_html(with_view ? view : NULL, t, html);
                xmlBufferPtr b = xmlBufferCreate();
                xmlNodeDump(b, doc, t, 0, 0);
                ck_assert_str_eq((const char *)xmlBufferContent(b), want);
                xmlBufferFree(b);
                xmlFreeDoc(doc);
            }
        }
    }
    apr_pool_destroy(pool);
}
END_TEST

/* My Library's entries rendered alone (page kind "items") and spliced into the page where the
 * templates put the stp-items instruction: byte for byte the page with the entries in it, for
 * hostile and plain entries, changed or not. Input text that spells the instruction stays text. */
static void library_entries(xmlNodePtr lib, int n)
{
    for (int i = 0; i < n; i++) {
        const char *v = i % 3 == 0 ? HOSTILE : i % 3 == 1 ? "<?stp-items?> plain & \"quoted\"" : "Report \xc3\xa9";
        xmlNodePtr e = el(lib, "entry", v);
        const char *attrs[] = {"id", "series", "href", "version", "published", "download"};
        for (size_t a = 0; a < sizeof attrs / sizeof attrs[0]; a++)
            at(e, attrs[a], v);
        if (i % 2)
            at(e, "changed", "yes");
    }
}

START_TEST(test_items_spliced)
{
    apr_pool_t *pool;
    apr_pool_create(&pool, NULL);
    stp_view_t *view;
    const char *err = NULL;
    ck_assert_int_eq(stp_view_open(&view, TEST_SRCDIR "/xslt/page.xsl", &err, pool), APR_SUCCESS);
    for (int n = 1; n <= 7; n += 3) {
        /* The whole page, entries in it. */
        xmlDocPtr whole = page_of("library", 1, "ltr");
        xmlNodePtr lib = el(xmlDocGetRootElement(whole), "library", NULL);
        at(lib, "csrf", "00ff");
        at(lib, "return", "/stp/library?lang=ar");
        library_entries(lib, n);
        char *want, *html;
        apr_size_t want_len, len;
        ck_assert_int_eq(stp_view_render(&want, &want_len, view, whole, 1, msg, NULL, pool), APR_SUCCESS);
        xmlFreeDoc(whole);

        /* The entries alone: one item each. */
        xmlDocPtr in = xmlNewDoc((const xmlChar *)"1.0");
        xmlNodePtr page = xmlNewNode(NULL, (const xmlChar *)"page");
        xmlDocSetRootElement(in, page);
        at(page, "kind", "items");
        at(page, "lang", "ar");
        library_entries(el(page, "library", NULL), n);
        apr_array_header_t *items;
        ck_assert_int_eq(stp_view_render_items(&items, view, in, msg, NULL, pool), APR_SUCCESS);
        xmlFreeDoc(in);
        ck_assert_int_eq(items->nelts, n);
        const char *joined = "";
        for (int i = 0; i < n; i++) {
            const stp_view_item_t *it = &APR_ARRAY_IDX(items, i, stp_view_item_t);
            ck_assert_int_eq(strncmp(it->html, "<li class=\"doc\">", 16), 0);
            joined = apr_pstrcat(pool, joined, apr_pstrmemdup(pool, it->html, it->len), NULL);
        }
        ck_assert_msg(n == 1 || strstr(joined, "&lt;?stp-items?&gt; plain"), "the instruction in a text");

        /* The page without them, and the items where its instruction stands. */
        xmlDocPtr skel = page_of("library", 1, "ltr");
        lib = el(xmlDocGetRootElement(skel), "library", NULL);
        at(lib, "csrf", "00ff");
        at(lib, "return", "/stp/library?lang=ar");
        at(lib, "entries", apr_itoa(pool, n));
        ck_assert_int_eq(stp_view_render_spliced(&html, &len, view, skel, msg, NULL, joined, strlen(joined), pool),
                         APR_SUCCESS);
        xmlFreeDoc(skel);
        ck_assert_uint_eq(len, strlen(html));
        ck_assert_uint_eq(len, want_len);
        ck_assert_msg(!strcmp(html, want), "spliced:\n%s\nwhole:\n%s", html, want);
        ck_assert_ptr_null(strstr(html, "<?stp-items"));
    }
    apr_pool_destroy(pool);
}
END_TEST

/* Items kept with the view: found by their exact key, never replaced, and not kept past the cap. */
START_TEST(test_kept)
{
    apr_pool_t *pool;
    apr_pool_create(&pool, NULL);
    stp_view_t *view;
    const char *err = NULL;
    ck_assert_int_eq(stp_view_open(&view, TEST_SRCDIR "/xslt/page.xsl", &err, pool), APR_SUCCESS);
    const char *keys[] = {"library\nen\n\nx", "library\nen\nchanged\nx", "library\nde\n\nx"};
    stp_view_item_t found[3];
    ck_assert_int_eq(stp_view_kept_get(view, keys, 3, found), 0);
    ck_assert_ptr_null(found[0].html);
    stp_view_item_t a = {"<li>a", 5}, b = {"<li>b", 5};
    stp_view_keep(view, keys[1], &a);
    stp_view_keep(view, keys[1], &b); /* already kept: stays a */
    ck_assert_int_eq(stp_view_kept_get(view, keys, 3, found), 1);
    ck_assert_ptr_null(found[0].html);
    ck_assert_uint_eq(found[1].len, 5);
    ck_assert_int_eq(memcmp(found[1].html, "<li>a", 5), 0);
    ck_assert_ptr_null(found[2].html);
    /* Past the cap nothing more is kept; what is kept stays. */
    apr_size_t big = STP_VIEW_KEEP_MAX / 2 + 1;
    char *bytes = apr_pcalloc(pool, big);
    stp_view_item_t huge = {bytes, big};
    stp_view_keep(view, "huge-1", &huge);
    stp_view_keep(view, "huge-2", &huge);
    const char *hk[] = {"huge-1", "huge-2", keys[1]};
    ck_assert_int_eq(stp_view_kept_get(view, hk, 3, found), 2);
    ck_assert_ptr_nonnull(found[0].html);
    ck_assert_ptr_null(found[1].html);
    apr_pool_destroy(pool);
}
END_TEST

/* Frames (stp_view_render_framed). The library page with the reader's name and tokens as
 * placeholders: the same page as the whole render, each value escaped; the second reader's page
 * comes from the kept frame (no transformation: no UI string asked for); another input is another
 * frame; a template that cuts a placeholder is refused, as is a placeholder in a URI. */
static const char *counting_msg(void *baton, const char *key)
{
    (*(int *)baton)++;
    return msg(NULL, key);
}

static xmlDocPtr framed_page(const stp_view_t *view, int entries, const char **values, const char *name,
                             const char *token, const char *logout)
{
    xmlDocPtr doc = page_of("library", 1, "ltr");
    xmlNodePtr page = xmlDocGetRootElement(doc), u = NULL;
    for (xmlNodePtr c = page->children; c; c = c->next)
        if (!strcmp((const char *)c->name, "user"))
            u = c;
    xmlNodePtr lib = el(page, "library", NULL);
    at(lib, "return", "/stp/library?lang=ar");
    char n[8];
    snprintf(n, sizeof n, "%d", entries);
    at(lib, "entries", n);
    if (values) {
        at(u, "name", stp_view_slot(view, 0));
        at(u, "csrf", stp_view_slot(view, 1));
        at(lib, "csrf", stp_view_slot(view, 2));
        values[0] = name;
        values[1] = logout;
        values[2] = token;
    } else {
        at(u, "name", name);
        at(u, "csrf", logout);
        at(lib, "csrf", token);
    }
    return doc;
}

START_TEST(test_framed)
{
    apr_pool_t *pool;
    apr_pool_create(&pool, NULL);
    stp_view_t *view;
    const char *err = NULL;
    ck_assert_int_eq(stp_view_open(&view, TEST_SRCDIR "/xslt/page.xsl", &err, pool), APR_SUCCESS);
    ck_assert_ptr_null(stp_view_slot(view, STP_VIEW_SLOTS));
    ck_assert_str_ne(stp_view_slot(view, 0), stp_view_slot(view, 1));
    stp_view_item_t items = {"<li class=\"doc\">one</li>", 24};
    const char *values[3];
    int asked = 0;
    char *want, *html;
    apr_size_t want_len, len;

    /* alice: the frame is made, and her page is the whole render's. */
    xmlDocPtr whole = framed_page(view, 1, NULL, "Alice Example", "0a1b", "9f8e");
    ck_assert_int_eq(stp_view_render_spliced(&want, &want_len, view, whole, msg, NULL, items.html, items.len, pool),
                     APR_SUCCESS);
    xmlFreeDoc(whole);
    xmlDocPtr in = framed_page(view, 1, values, "Alice Example", "0a1b", "9f8e");
    ck_assert_int_eq(stp_view_render_framed(&html, &len, view, in, values, 3, &items, counting_msg, &asked, pool),
                     APR_SUCCESS);
    ck_assert_int_gt(asked, 0);
    ck_assert_uint_eq(len, strlen(html));
    ck_assert_msg(len == want_len && !strcmp(html, want), "framed:\n%s\nwhole:\n%s", html, want);
    ck_assert_ptr_null(strstr(html, "\xEE\x80"));

    /* bob, a hostile name: from the kept frame, his values escaped where alice's stood. */
    asked = 0;
    const char *hostile = "<b>\"Bob\" & 'co'</b>";
    ck_assert_int_eq(stp_view_render_framed(&html, &len, view, in, values, 3, &items, counting_msg, &asked, pool),
                     APR_SUCCESS);
    xmlFreeDoc(in);
    in = framed_page(view, 1, values, hostile, "\"><script>x</script>", "77");
    ck_assert_int_eq(stp_view_render_framed(&html, &len, view, in, values, 3, &items, counting_msg, &asked, pool),
                     APR_SUCCESS);
    ck_assert_int_eq(asked, 0);
    ck_assert_ptr_null(strstr(html, "Alice"));
    ck_assert_ptr_nonnull(strstr(html, "&lt;b&gt;&quot;Bob&quot; &amp; &#39;co&#39;&lt;/b&gt;"));
    ck_assert_ptr_nonnull(strstr(html, "value=\"&quot;&gt;&lt;script&gt;x&lt;/script&gt;\""));
    ck_assert_ptr_null(strstr(html, "<script>x"));
    ck_assert_ptr_nonnull(strstr(html, "<li class=\"doc\">one</li>"));
    htmlDocPtr parsed = htmlReadMemory(html, (int)len, NULL, "UTF-8", HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);
    ck_assert_ptr_nonnull(parsed);
    xmlFreeDoc(parsed);
    xmlFreeDoc(in);

    /* Another input (two entries) is another frame: transformed again. */
    asked = 0;
    in = framed_page(view, 2, values, "Alice Example", "0a1b", "9f8e");
    ck_assert_int_eq(stp_view_render_framed(&html, &len, view, in, values, 3, &items, counting_msg, &asked, pool),
                     APR_SUCCESS);
    ck_assert_int_gt(asked, 0);
    xmlFreeDoc(in);

    /* A slot the page has but the caller gives no value for: refused, not written as a hole,
     * whether its frame is kept already (one entry) or not yet (three). */
    in = framed_page(view, 1, values, "Alice Example", "0a1b", "9f8e");
    ck_assert_int_eq(stp_view_render_framed(&html, &len, view, in, values, 2, &items, counting_msg, &asked, pool),
                     APR_EAGAIN);
    xmlFreeDoc(in);
    in = framed_page(view, 3, values, "Alice Example", "0a1b", "9f8e");
    ck_assert_int_eq(stp_view_render_framed(&html, &len, view, in, values, 2, &items, counting_msg, &asked, pool),
                     APR_EAGAIN);
    xmlFreeDoc(in);
    apr_pool_destroy(pool);
}
END_TEST

/* Templates that do not copy a placeholder whole: refused (the caller renders as usual). */
START_TEST(test_framed_refused)
{
    static const char *const bodies[] = {
        "<p><xsl:value-of select=\"substring(/page/@v, 1, 5)\"/></p>",             /* cut */
        "<p><a href=\"/x?v={/page/@v}\">x</a></p>",                                /* URI-escaped */
        "<p><xsl:value-of select=\"translate(/page/@v, '0123456789', '')\"/></p>", /* changed */
    };
    apr_pool_t *pool;
    apr_pool_create(&pool, NULL);
    const char *dir = test_tmpdir("framed", pool);
    for (size_t i = 0; i <= sizeof bodies / sizeof *bodies; i++) {
        const char *path = apr_psprintf(pool, "%s/t%zu.xsl", dir, i);
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f,
                "<xsl:stylesheet version=\"1.0\" xmlns:xsl=\"http://www.w3.org/1999/XSL/Transform\">"
                "<xsl:output method=\"html\" encoding=\"UTF-8\" indent=\"no\"/>"
                "<xsl:template match=\"/\"><html><body>%s</body></html></xsl:template></xsl:stylesheet>",
                i < sizeof bodies / sizeof *bodies ? bodies[i]
                                                   : "<p title=\"{/page/@v}\"><xsl:value-of select=\"/page/@v\"/></p>");
        fclose(f);
        stp_view_t *view;
        const char *err = NULL;
        ck_assert_int_eq(stp_view_open(&view, path, &err, pool), APR_SUCCESS);
        xmlDocPtr in = xmlNewDoc((const xmlChar *)"1.0");
        xmlNodePtr page = xmlNewNode(NULL, (const xmlChar *)"page");
        xmlDocSetRootElement(in, page);
        at(page, "v", stp_view_slot(view, 0));
        const char *values[] = {"a&b"};
        char *html;
        apr_size_t len;
        apr_status_t rv = stp_view_render_framed(&html, &len, view, in, values, 1, NULL, no_msg, NULL, pool);
        if (i < sizeof bodies / sizeof *bodies) {
            ck_assert_msg(rv == APR_EAGAIN, "template %zu: %d", i, rv);
        } else { /* whole in an attribute and in text: accepted */
            ck_assert_int_eq(rv, APR_SUCCESS);
            ck_assert_ptr_nonnull(strstr(html, "<p title=\"a&amp;b\">a&amp;b</p>"));
        }
        xmlFreeDoc(in);
    }
    test_rmtree(dir);
    apr_pool_destroy(pool);
}
END_TEST

Suite *view_suite(void)
{
    Suite *s = suite_create("view");
    TCase *tc = tcase_create("kinds");
    tcase_add_test(tc, test_every_kind);
    tcase_add_test(tc, test_serializer_is_libxml2s);
    tcase_add_test(tc, test_add_html);
    tcase_add_test(tc, test_items_spliced);
    tcase_add_test(tc, test_kept);
    tcase_add_test(tc, test_framed);
    tcase_add_test(tc, test_framed_refused);
    suite_add_tcase(s, tc);
    return s;
}
