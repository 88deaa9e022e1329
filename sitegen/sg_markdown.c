#include "sg_markdown.h"

#include <cmark.h>
#include <libxml/HTMLparser.h>
#include <libxml/HTMLtree.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

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
