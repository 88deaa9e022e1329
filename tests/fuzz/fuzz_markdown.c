/* Fuzz target: the Markdown-to-page pipeline (cmark, HTML to nodes, the document page template). */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static sg_render_t *render;
static sg_doc_t *doc;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_load_site();
    sg_errors_t *errs = sg_errors_make(fuzz_pool);
    if (sg_render_open(&render, fuzz_site, fuzz_i18n, FUZZ_SRCDIR "/xslt", errs, fuzz_pool) != APR_SUCCESS)
        abort();
    doc = APR_ARRAY_IDX(fuzz_site->docs, 0, sg_doc_t *);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *pool;
    char *out;
    apr_size_t len;
    apr_pool_create(&pool, fuzz_pool);
    char *md = apr_pstrmemdup(pool, (const char *)data, size);
    apr_hash_set(doc->bodies, fuzz_site->default_locale, APR_HASH_KEY_STRING, md);
    sg_page_t page = {.kind = SG_PAGE_DOC, .lang = fuzz_site->default_locale, .doc = doc, .out = "x", .url = "/x"};
    if (sg_render_page(&out, &len, render, &page, pool) != APR_SUCCESS)
        abort(); /* any Markdown must make a page */
    /* Safe mode: no input may put a script element into the page; the only one is the site's. */
    static const char own[] = "<script src=\"/assets/stp.js\"";
    for (const char *at = strstr(out, "<script"); at; at = strstr(at + 1, "<script"))
        if (strncmp(at, own, sizeof own - 1))
            abort();
    apr_pool_destroy(pool);
    return 0;
}
