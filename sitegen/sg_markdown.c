#include "sg_markdown.h"

#include <cmark.h>
#include <libxml/HTMLparser.h>
#include <libxml/HTMLtree.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_tables.h>

int sg_markdown_append(xmlNodePtr parent, const char *markdown, size_t len, int unsafe_html)
{
    int opts = CMARK_OPT_SMART | CMARK_OPT_VALIDATE_UTF8 | (unsafe_html ? CMARK_OPT_UNSAFE : CMARK_OPT_SAFE);
    char *html = cmark_markdown_to_html(markdown, len, opts);
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
        if (sg_markdown_append(div, markdown, len, unsafe_html) == 0) {
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
    cmark_node *doc = cmark_parse_document(markdown, len, CMARK_OPT_VALIDATE_UTF8);
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
                 (ev == CMARK_EVENT_EXIT && t != CMARK_NODE_TEXT && cmark_node_first_child(n) &&
                  t < CMARK_NODE_FIRST_INLINE))
            text = " ";
        for (const char *c = text; c && *c; c++)
            APR_ARRAY_PUSH(buf, char) = ((unsigned char)*c < 0x20 || *c == 0x7f) ? ' ' : *c;
    }
    cmark_iter_free(it);
    cmark_node_free(doc);
    APR_ARRAY_PUSH(buf, char) = '\0';
    return buf->elts;
}
