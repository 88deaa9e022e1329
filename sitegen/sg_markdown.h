/* sg_markdown: Markdown bodies into HTML nodes for the page templates. cmark renders (safe mode
 * unless the site opts in to raw HTML); libxml2's HTML parser turns the result into nodes, so that
 * the templates copy a tree rather than paste unchecked text. */
#ifndef SG_MARKDOWN_H
#define SG_MARKDOWN_H

#include <apr_pools.h>
#include <libxml/tree.h>

/* Appends the rendered body as children of `parent`. Returns 0, or -1 when it could not. */
int sg_markdown_append(xmlNodePtr parent, const char *markdown, size_t len, int unsafe_html);

#endif
