/* stp_view: the one page system (docs/architecture.md). Every HTML page, the static ones sitegen
 * writes and the dynamic ones mod_stp answers, is one XML document built with libxml2's tree API
 * (so every text is escaped by construction) through one compiled XSLT stylesheet, xslt/page.xsl.
 * UI strings reach the stylesheet through the extension function stp:msg(key [, name, value]...),
 * answered by the caller: sitegen from its i18n catalogs, the module from catalog.mdb. */
#ifndef STP_VIEW_H
#define STP_VIEW_H

#include <apr_pools.h>

#include "stp_catalog.h"
#include "stp_date.h"
#include <libxml/tree.h>

#define STP_VIEW_NS "urn:stp:xslt"

typedef struct stp_view_t stp_view_t;

/* The UI string `key` in the page's language; NULL when there is none (the key is shown). */
typedef const char *stp_view_msg_fn(void *baton, const char *key);

/* Compiles the stylesheet at `path` with libxslt's security preferences applied to every
 * transformation (no file or network access at run time). On failure *err says why. The view is
 * freed with `pool`; once compiled it is read-only and may render on many threads at once. */
apr_status_t stp_view_open(stp_view_t **view, const char *path, const char **err, apr_pool_t *pool);

/* Transforms `in` (not freed) into *out (NUL-terminated, *len bytes, in `pool`). `doctype`
 * prefixes "<!DOCTYPE html>" for HTML pages. */
apr_status_t stp_view_render(char **out, apr_size_t *len, const stp_view_t *view, xmlDocPtr in, int doctype,
                             stp_view_msg_fn *msg, void *baton, apr_pool_t *pool);

/* A piece of HTML: `len` bytes at `html` (not NUL-terminated). */
typedef struct {
    const char *html;
    apr_size_t len;
} stp_view_item_t;

/* As stp_view_render (with the doctype), with the bytes `items` written where the result holds a
 * processing instruction stp-items (which only the stylesheet can make: input text is text). */
apr_status_t stp_view_render_spliced(char **out, apr_size_t *len, const stp_view_t *view, xmlDocPtr in,
                                     stp_view_msg_fn *msg, void *baton, const char *items, apr_size_t items_len,
                                     apr_pool_t *pool);

/* Transforms `in` and writes each top-level node of the result on its own: *items holds one
 * stp_view_item_t per node, in order, written as in a whole page (the template for page kind
 * "items" makes them). Fails when the view does not write HTML itself. */
apr_status_t stp_view_render_items(apr_array_header_t **items, const stp_view_t *view, xmlDocPtr in,
                                   stp_view_msg_fn *msg, void *baton, apr_pool_t *pool);

/* Rendered items kept with the view, so for its build and this process, shared by all threads
 * and users: each under a key that names everything its bytes depend on. Lookup fills found[i]
 * for each key found (len 0 when not) and returns how many; the bytes stay as long as the view.
 * Keeping stops silently at STP_VIEW_KEEP_MAX bytes of items (callers render the rest each time). */
#define STP_VIEW_KEEP_MAX (16 * 1024 * 1024)
int stp_view_kept_get(const stp_view_t *view, const char *const *keys, int n, stp_view_item_t *found);
void stp_view_keep(const stp_view_t *view, const char *key, const stp_view_item_t *item);

/* Frames: a page whose input differs from reader to reader only in a few values (a name, CSRF
 * tokens) is transformed once per distinct rest of its input and kept with the view; each request
 * then writes the kept result with its own values. The caller puts stp_view_slot(view, i) where
 * value i goes (an attribute or text of `in`) and passes the values; everything else of `in` is
 * the key, so what the page shows can only come from its own input. A value is written escaped
 * (& < > " ' as references), valid in text and in a quoted attribute alike. APR_EAGAIN: the
 * templates did not copy every placeholder whole into text or a non-URI attribute (they cut it,
 * compared it, or escaped it as a URI); the caller then puts the values in and renders as usual.
 * `items`, when not NULL, goes where stp_view_render_spliced puts it. Keeping stops silently at
 * STP_VIEW_FRAMES_MAX bytes (keys and results); frames are then rendered each time. */
#define STP_VIEW_SLOTS 8
#define STP_VIEW_FRAMES_MAX (8 * 1024 * 1024)
const char *stp_view_slot(const stp_view_t *view, int i);
apr_status_t stp_view_render_framed(char **out, apr_size_t *len, const stp_view_t *view, xmlDocPtr in,
                                    const char *const *values, int nvalues, const stp_view_item_t *items,
                                    stp_view_msg_fn *msg, void *baton, apr_pool_t *pool);

/* Adds to `parent` the nodes of the HTML fragment `html` (what sitegen rendered from Markdown under
 * the content rules, such as the NDA text): the children of its <body>, copied. The view parses
 * each text once and keeps it read-only (a few texts per build; NULL view: parsed per call). */
void stp_view_add_html(const stp_view_t *view, xmlNodePtr parent, const char *html);

/* A message with each {name} replaced by its value: stp:msg's filling, for C callers too. */
/* A date as pages show it: `format` (the UI string date.format, with {d}, {month} and {y}) filled
 * with the day, `month` (the name of its month) and the year. sitegen and the module both. */
const char *stp_view_date(const char *format, const char *month, stp_day_t day, apr_pool_t *pool);
const char *stp_view_fill(const char *msg, const char *name, const char *value, apr_pool_t *pool);

/* A document's requirements as page input: <requires> with <role name> and <claim name value>
 * children, under `parent` (nothing when there are none). Static and module pages alike. */
void stp_view_requires_el(xmlNodePtr parent, const apr_array_header_t *requires);

/* The portal's own words from site.xml, in the page's locale, as page input: <portal> with
 * <tagline>, <footer> and a <link kind href> per footer link, in the order of
 * stp_view_portal_links (only what the site has; the templates fall back to their UI strings).
 * `get` returns the catalog string of a key (portal.tagline, portal.footer, portal.<kind>.text,
 * portal.<kind>.href) or NULL. Static and module pages alike. */
extern const char *const stp_view_portal_links[]; /* privacy, contact, imprint; NULL-terminated */
void stp_view_portal_el(xmlNodePtr page, const char *(*get)(void *baton, const char *key), void *baton,
                        apr_pool_t *pool);

#endif
