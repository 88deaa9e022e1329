#include "sg_markdown.h"

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm.h>
#include <cmark-gfm_version.h>
#include <libxml/HTMLparser.h>
#include <libxml/HTMLtree.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>

/* GitHub's flavour: these extensions plus CMARK_OPT_FOOTNOTES. tagfilter only acts on raw HTML,
 * which safe mode drops anyway; with unsafe-html it still keeps <script>, <iframe> and the like out. */
static const char *const gfm_extensions[] = {"table", "strikethrough", "autolink", "tasklist", "tagfilter"};
static pthread_once_t gfm_once = PTHREAD_ONCE_INIT;

/* cmark-gfm's registration is not thread-safe, and sitegen renders on several threads. */
static void gfm_register(void)
{
    cmark_gfm_core_extensions_ensure_registered();
}

/* A parser with the GitHub extensions attached; NULL when one is missing. */
static cmark_parser *gfm_parser(int opts)
{
    pthread_once(&gfm_once, gfm_register);
    cmark_parser *p = cmark_parser_new(opts | CMARK_OPT_FOOTNOTES | CMARK_OPT_VALIDATE_UTF8);
    for (size_t i = 0; p && i < sizeof gfm_extensions / sizeof *gfm_extensions; i++) {
        cmark_syntax_extension *e = cmark_find_syntax_extension(gfm_extensions[i]);
        if (!e || !cmark_parser_attach_syntax_extension(p, e)) {
            cmark_parser_free(p);
            p = NULL;
        }
    }
    return p;
}

/* The page has its h1 (the title): a body's `#` is h2, `##` h3 and so on, h6 at most. */
static void shift_headings(cmark_node *doc)
{
    cmark_iter *it = cmark_iter_new(doc);
    cmark_event_type ev;
    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *n = cmark_iter_get_node(it);
        if (ev == CMARK_EVENT_ENTER && cmark_node_get_type(n) == CMARK_NODE_HEADING) {
            int level = cmark_node_get_heading_level(n);
            cmark_node_set_heading_level(n, level < 6 ? level + 1 : 6);
        }
    }
    cmark_iter_free(it);
}

const char *sg_markdown_flavour(void)
{
    return "cmark-gfm " CMARK_GFM_VERSION_STRING "; table strikethrough autolink tasklist tagfilter footnotes; "
           "headings+1; utf-8 required; folder images and files";
}

/* Gives each link's and image's address to the caller's rewrite, which may replace it. */
static void rewrite_urls(cmark_node *doc, const sg_markdown_links_t *links)
{
    cmark_iter *it = cmark_iter_new(doc);
    cmark_event_type ev;
    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *n = cmark_iter_get_node(it);
        cmark_node_type t = cmark_node_get_type(n);
        if (ev != CMARK_EVENT_ENTER || (t != CMARK_NODE_LINK && t != CMARK_NODE_IMAGE))
            continue;
        const char *url = cmark_node_get_url(n);
        const char *to = url ? links->rewrite(links->baton, url, t == CMARK_NODE_IMAGE) : NULL;
        if (to)
            cmark_node_set_url(n, to);
    }
    cmark_iter_free(it);
}

void sg_markdown_refs(const char *markdown, size_t len, sg_markdown_ref_fn fn, void *baton)
{
    cmark_parser *p = gfm_parser(CMARK_OPT_DEFAULT);
    cmark_node *doc = NULL;
    if (p) {
        cmark_parser_feed(p, markdown, len);
        doc = cmark_parser_finish(p);
        cmark_parser_free(p);
    }
    if (!doc)
        return;
    cmark_iter *it = cmark_iter_new(doc);
    cmark_event_type ev;
    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *n = cmark_iter_get_node(it);
        cmark_node_type t = cmark_node_get_type(n);
        const char *url = cmark_node_get_url(n);
        if (ev == CMARK_EVENT_ENTER && (t == CMARK_NODE_LINK || t == CMARK_NODE_IMAGE) && url)
            fn(baton, url, t == CMARK_NODE_IMAGE, cmark_node_get_start_line(n));
    }
    cmark_iter_free(it);
    cmark_node_free(doc);
}

/* The body as HTML (malloc'd), or NULL. */
static char *gfm_html(const char *markdown, size_t len, int unsafe_html, const sg_markdown_links_t *links)
{
    int opts = CMARK_OPT_SMART | (unsafe_html ? CMARK_OPT_UNSAFE : CMARK_OPT_SAFE);
    cmark_parser *p = gfm_parser(opts);
    char *html = NULL;
    if (!p)
        return NULL;
    cmark_parser_feed(p, markdown, len);
    cmark_node *doc = cmark_parser_finish(p);
    if (doc) {
        shift_headings(doc);
        if (links && links->rewrite)
            rewrite_urls(doc, links);
        html = cmark_render_html(doc, opts, cmark_parser_get_syntax_extensions(p));
        cmark_node_free(doc);
    }
    cmark_parser_free(p);
    return html;
}

int sg_markdown_append(xmlNodePtr parent, const char *markdown, size_t len, int unsafe_html,
                       const sg_markdown_links_t *links)
{
    char *html = gfm_html(markdown, len, unsafe_html, links);
    if (!html)
        return -1;
    /* Wrap it so that the fragment has one known container. */
    size_t hlen = strlen(html);
    char *doc = malloc(hlen + 64);
    if (!doc) {
        free(html);
        return -1;
    }
    int n = snprintf(doc, 64, "<html><body><div>");
    memcpy(doc + n, html, hlen);
    memcpy(doc + n + hlen, "</div></body></html>", 21);
    free(html);
    htmlDocPtr h = htmlReadMemory(doc, (int)(n + hlen + 20), NULL, "UTF-8",
                                  HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
    free(doc);
    if (!h)
        return -1;
    xmlNodePtr root = xmlDocGetRootElement(h);
    xmlNodePtr body = root ? root->children : NULL;
    while (body && !(body->type == XML_ELEMENT_NODE && !strcmp((const char *)body->name, "body")))
        body = body->next;
    xmlNodePtr div = body ? body->children : NULL;
    while (div && div->type != XML_ELEMENT_NODE)
        div = div->next;
    for (xmlNodePtr c = div ? div->children : NULL; c; c = c->next) {
        if (c->type == XML_COMMENT_NODE)
            continue; /* cmark's "raw HTML omitted" markers */
        xmlNodePtr copy = xmlDocCopyNode(c, parent->doc, 1);
        if (copy)
            xmlAddChild(parent, copy);
    }
    xmlFreeDoc(h);
    return 0;
}

const char *sg_markdown_html(const char *markdown, size_t len, int unsafe_html, apr_pool_t *pool)
{
    htmlDocPtr doc = htmlNewDocNoDtD(NULL, NULL);
    xmlNodePtr div = doc ? xmlNewDocNode(doc, NULL, (const xmlChar *)"div", NULL) : NULL;
    xmlBufferPtr buf = xmlBufferCreate();
    const char *out = NULL;
    if (div && buf) {
        xmlDocSetRootElement(doc, div);
        if (sg_markdown_append(div, markdown, len, unsafe_html, NULL) == 0) {
            int failed = 0;
            for (xmlNodePtr c = div->children; c && !failed; c = c->next)
                failed = htmlNodeDump(buf, doc, c) < 0;
            if (!failed)
                out = apr_pstrmemdup(pool, (const char *)xmlBufferContent(buf), (apr_size_t)xmlBufferLength(buf));
        }
    }
    if (buf)
        xmlBufferFree(buf);
    if (doc)
        xmlFreeDoc(doc);
    return out;
}

const char *sg_markdown_text(const char *markdown, size_t len, apr_pool_t *pool)
{
    cmark_parser *p = gfm_parser(CMARK_OPT_DEFAULT);
    cmark_node *doc = NULL;
    if (p) {
        cmark_parser_feed(p, markdown, len);
        doc = cmark_parser_finish(p);
        cmark_parser_free(p);
    }
    if (!doc)
        return "";
    apr_array_header_t *buf = apr_array_make(pool, (int)len + 1, 1);
    cmark_iter *it = cmark_iter_new(doc);
    cmark_event_type ev;
    while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
        cmark_node *n = cmark_iter_get_node(it);
        cmark_node_type t = cmark_node_get_type(n);
        const char *text = NULL;
        if (ev == CMARK_EVENT_ENTER && (t == CMARK_NODE_TEXT || t == CMARK_NODE_CODE || t == CMARK_NODE_CODE_BLOCK))
            text = cmark_node_get_literal(n);
        else if (t == CMARK_NODE_SOFTBREAK || t == CMARK_NODE_LINEBREAK ||
                 (ev == CMARK_EVENT_EXIT && cmark_node_first_child(n) &&
                  (t & CMARK_NODE_TYPE_MASK) == CMARK_NODE_TYPE_BLOCK)) /* table cells are blocks too */
            text = " ";
        for (const char *c = text; c && *c; c++)
            APR_ARRAY_PUSH(buf, char) = ((unsigned char)*c < 0x20 || *c == 0x7f) ? ' ' : *c;
    }
    cmark_iter_free(it);
    cmark_node_free(doc);
    APR_ARRAY_PUSH(buf, char) = '\0';
    return buf->elts;
}
