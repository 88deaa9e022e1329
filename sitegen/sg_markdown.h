/* sg_markdown: Markdown bodies into HTML nodes for the page templates. cmark-gfm renders GitHub's
 * flavour (tables, strikethrough, autolinks, task lists, footnotes) in safe mode unless the site
 * opts in to raw HTML, with headings one level down (the page's title is the h1); libxml2's HTML
 * parser turns the result into nodes, so that the templates copy a tree rather than paste
 * unchecked text. */
#ifndef SG_MARKDOWN_H
#define SG_MARKDOWN_H

#include <apr_pools.h>
#include <libxml/tree.h>

/* What a page makes of the addresses of a body's links and images: rewrite returns the address
 * to use instead (a document's image or file as published), or NULL to keep it. */
typedef struct {
    const char *(*rewrite)(void *baton, const char *url, int image);
    void *baton;
} sg_markdown_links_t;

/* Appends the rendered body as children of `parent`, the addresses of links and images passed
 * through `links` (NULL: kept). Returns 0, or -1 when it could not. */
int sg_markdown_append(xmlNodePtr parent, const char *markdown, size_t len, int unsafe_html,
                       const sg_markdown_links_t *links);

/* Calls fn for every link and image of a body, in order, with its address as written (entities
 * and backslash escapes resolved, percent escapes kept) and its line. */
typedef void (*sg_markdown_ref_fn)(void *baton, const char *url, int image, int line);
void sg_markdown_refs(const char *markdown, size_t len, sg_markdown_ref_fn fn, void *baton);

/* The same rendering as an HTML string, for the module's pages (the NDA text): the nodes that
 * sg_markdown_append makes, serialized by libxml2's HTML writer, so that nothing reaches the
 * string that did not go through cmark and the parser. NULL when it could not render. */
const char *sg_markdown_html(const char *markdown, size_t len, int unsafe_html, apr_pool_t *pool);

/* The words of a body as plain text for the search index: text, code and link texts, a space
 * between blocks; raw HTML is left out (as safe mode leaves it out of pages) and control
 * characters become spaces. */
const char *sg_markdown_text(const char *markdown, size_t len, apr_pool_t *pool);

/* Names the rendering (library, its version, the rules added here), for the fingerprints of
 * pages and cached documents: another renderer makes other pages from the same Markdown. */
const char *sg_markdown_flavour(void);

#endif
