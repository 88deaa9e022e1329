#include "sg_i18n.h"

#include <string.h>

#include <apr_strings.h>
#include <libxml/parser.h>

#include "sg_validate.h"
#include "stp_view.h"

struct sg_i18n_t {
    const char *default_locale;
    apr_hash_t *catalogs; /* lang -> apr_hash_t key -> text */
    apr_array_header_t *keys;
};

static apr_hash_t *load_catalog(const char *path, apr_array_header_t *keys, sg_errors_t *errs, apr_pool_t *pool)
{
    char *data;
    apr_size_t len;
    if (sg_file_read(&data, &len, path, pool) != APR_SUCCESS)
        return NULL;
    xmlDocPtr xml = sg_xml_parse(data, len, path, errs);
    if (!xml)
        return NULL;
    apr_hash_t *h = apr_hash_make(pool);
    xmlNodePtr root = xmlDocGetRootElement(xml);
    for (xmlNodePtr n = root ? root->children : NULL; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || strcmp((const char *)n->name, "msg"))
            continue;
        xmlChar *key = xmlGetProp(n, (const xmlChar *)"key");
        xmlChar *text = xmlNodeGetContent(n);
        if (key && text) {
            const char *k = apr_pstrdup(pool, (const char *)key);
            if (apr_hash_get(h, k, APR_HASH_KEY_STRING))
                sg_error(errs, path, xmlGetLineNo(n), "duplicate message key '%s'", k);
            apr_hash_set(h, k, APR_HASH_KEY_STRING, apr_pstrdup(pool, (const char *)text));
            if (keys)
                APR_ARRAY_PUSH(keys, const char *) = k;
        }
        xmlFree(key);
        xmlFree(text);
    }
    xmlFreeDoc(xml);
    return h;
}

apr_status_t sg_i18n_load(sg_i18n_t **out, const sg_site_t *site, const char *dir, sg_errors_t *errs, apr_pool_t *pool)
{
    sg_i18n_t *i18n = apr_pcalloc(pool, sizeof *i18n);
    i18n->default_locale = site->default_locale;
    i18n->catalogs = apr_hash_make(pool);
    i18n->keys = apr_array_make(pool, 128, sizeof(const char *));
    for (int i = 0; i < site->locales->nelts; i++) {
        const char *lang = APR_ARRAY_IDX(site->locales, i, sg_locale_t).id;
        const char *path = apr_pstrcat(pool, dir, "/i18n/", lang, ".xml", NULL);
        apr_hash_t *h = load_catalog(path, i == 0 ? i18n->keys : NULL, errs, pool);
        if (!h) {
            if (i == 0) {
                sg_error(errs, path, 0, "no UI strings for the default locale '%s'", lang);
                return APR_EGENERAL;
            }
            /* A locale without UI strings still works, in the default locale's words. */
            fprintf(stderr, "sitegen: warning: no UI strings for locale '%s' (%s); using '%s'\n", lang, path,
                    site->default_locale);
            continue;
        }
        apr_hash_set(i18n->catalogs, lang, APR_HASH_KEY_STRING, h);
    }
    *out = i18n;
    return APR_SUCCESS;
}

const char *sg_msg(const sg_i18n_t *i18n, const char *lang, const char *key)
{
    apr_hash_t *h = apr_hash_get(i18n->catalogs, lang, APR_HASH_KEY_STRING);
    const char *v = h ? apr_hash_get(h, key, APR_HASH_KEY_STRING) : NULL;
    if (!v) {
        h = apr_hash_get(i18n->catalogs, i18n->default_locale, APR_HASH_KEY_STRING);
        v = h ? apr_hash_get(h, key, APR_HASH_KEY_STRING) : NULL;
    }
    return v ? v : key;
}

const char *sg_date_format(const sg_i18n_t *i18n, const char *lang, stp_day_t day, apr_pool_t *pool)
{
    int y, m, d;
    char key[16];
    stp_date_to_ymd(&y, &m, &d, day);
    snprintf(key, sizeof key, "date.month.%d", m);
    return stp_view_date(sg_msg(i18n, lang, "date.format"), sg_msg(i18n, lang, key), day, pool);
}

const char *sg_month_format(const sg_i18n_t *i18n, const char *lang, int year, int month, apr_pool_t *pool)
{
    char key[16];
    snprintf(key, sizeof key, "date.month.%d", month);
    const char *s = sg_msg(i18n, lang, "date.month.format");
    s = stp_view_fill(s, "month", sg_msg(i18n, lang, key), pool);
    return stp_view_fill(s, "y", apr_itoa(pool, year), pool);
}

const char *sg_size_format(const sg_i18n_t *i18n, const char *lang, apr_uint64_t size, apr_pool_t *pool)
{
    if (size < 1024)
        return stp_view_fill(sg_msg(i18n, lang, "size.bytes"), "n", apr_psprintf(pool, "%" APR_UINT64_T_FMT, size),
                             pool);
    if (size < 1024 * 1024)
        return stp_view_fill(sg_msg(i18n, lang, "size.kb"), "n",
                             apr_psprintf(pool, "%" APR_UINT64_T_FMT, (size + 1023) / 1024), pool);
    return stp_view_fill(sg_msg(i18n, lang, "size.mb"), "n", apr_psprintf(pool, "%.1f", (double)size / 1048576.0),
                         pool);
}

const apr_array_header_t *sg_i18n_keys(const sg_i18n_t *i18n)
{
    return i18n->keys;
}
