/* Fuzz target: every parser of request input in the module's core. The input is split at the
 * first NUL into a "URL" and a "body"; each parser must accept or refuse without a crash, and what
 * it accepts must hold its contract. */
#include <apr_general.h>
#include <apr_strings.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stp_feedback.h"
#include "stp_http.h"
#include "stp_paths.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int ident_ok(const char *s)
{
    return stp_paths_ident_len(s) == strlen(s) && *s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static apr_pool_t *root;
    apr_pool_t *pool;
    const char *id, *version, *rel, *err;
    apr_table_t *form;
    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
    }
    apr_pool_create(&pool, root);
    const char *nul = memchr(data, 0, size);
    apr_size_t ulen = nul ? (apr_size_t)(nul - (const char *)data) : size;
    const char *url = apr_pstrmemdup(pool, (const char *)data, ulen);
    apr_size_t blen = nul ? size - ulen - 1 : 0;
    const char *body = apr_pstrmemdup(pool, nul ? (const char *)data + ulen + 1 : "", blen);

    if (stp_http_download_parse(&id, &version, url, pool) == APR_SUCCESS) {
        if (!ident_ok(id) || (version && (!*version || strlen(version) > 32)))
            abort(); /* an accepted download path names a plain id and a short version */
    }
    if (stp_paths_from_url(&rel, url, pool) == APR_SUCCESS && (strstr(rel, "..") || rel[0] == '/'))
        abort(); /* a mapped page never leaves the build */
    if (stp_paths_from_org_url(&rel, "t1", url, pool) == APR_SUCCESS && (strstr(rel, "..") || rel[0] == '/'))
        abort();
    if (stp_http_form_parse(&form, &err, body, blen, pool) == APR_SUCCESS) {
        const apr_array_header_t *fields = apr_table_elts(form);
        for (int i = 0; i < fields->nelts; i++) {
            const apr_table_entry_t *e = &APR_ARRAY_IDX(fields, i, apr_table_entry_t);
            if (!stp_http_utf8_valid(e->key, strlen(e->key)) || !stp_http_utf8_valid(e->val, strlen(e->val)))
                abort(); /* accepted fields are valid UTF-8 */
        }
        /* The feedback form's fields: what the core accepts is a local page and text. */
        stp_feedback_t fb = {0,
                             0,
                             apr_table_get(form, "page"),
                             apr_table_get(form, "lang"),
                             apr_table_get(form, "answer"),
                             apr_table_get(form, "comment"),
                             "",
                             0};
        if (!stp_feedback_check(&fb, "en,de,ja,ar")) {
            const char *c = fb.comment ? fb.comment : "";
            apr_size_t chars = 0;
            for (const unsigned char *p = (const unsigned char *)c; *p; p++) {
                if ((*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') || *p == 0x7f)
                    abort(); /* no control characters but tab and line breaks */
                chars += (*p & 0xc0) != 0x80 && !(*p == '\r' && p[1] == '\n');
            }
            if (fb.page[0] != '/' || fb.page[1] == '/' || fb.page[1] == '\\' || strpbrk(fb.page, "\r\n") ||
                strlen(fb.page) > STP_FEEDBACK_PAGE_MAX || chars > STP_FEEDBACK_COMMENT_MAX ||
                !stp_http_utf8_valid(c, strlen(c)))
                abort(); /* a page of this site; at most 2,000 characters of UTF-8 */
        }
    }
    const char *lang = stp_http_lang_pick(url, body[0] ? "de" : NULL, url, "en,de,ja,ar", "en", pool);
    if (!lang || (strcmp(lang, "en") && strcmp(lang, "de") && strcmp(lang, "ja") && strcmp(lang, "ar")))
        abort(); /* the language is always one of the site's */
    const char *j = stp_http_json_string(url, pool);
    if (strpbrk(j, "<>\n\r"))
        abort();
    const char *cd = stp_http_content_disposition(url, pool);
    if (strpbrk(cd, "\r\n"))
        abort(); /* no header splitting through a file name */
    stp_http_cookie_get(url, "stp_lang", pool);
    apr_pool_destroy(pool);
    return 0;
}
