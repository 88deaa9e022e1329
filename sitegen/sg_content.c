/* sg_content: loading the site (site.xml, its vocabularies, the NDA texts) and the entry points
 * that load a whole content tree: the site, then its documents (sg_docload), then its series
 * (sg_series). */
#include "sg_content.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <apr_file_info.h>
#include <apr_strings.h>
#include <libxml/parser.h>

#include "sg_cache.h"
#include "sg_docload.h"
#include "sg_markdown.h"
#include "stp_view.h"
#include "sg_series.h"
#include "sg_validate.h"
#include "sg_xml.h"

const char *sg_text(const apr_array_header_t *texts, const char *lang, const char *fallback)
{
    const stp_text_t *t = stp_catalog_text_pick(texts, lang, fallback);
    return t ? t->text : "";
}

const sg_locale_t *sg_site_locale(const sg_site_t *site, const char *id)
{
    return id ? apr_hash_get(site->locale_index, id, APR_HASH_KEY_STRING) : NULL;
}

/* --- site.xml -------------------------------------------------------------------------------- */

static sg_term_t *load_term(xmlNodePtr n, sg_site_t *site, apr_hash_t *index, const char *kind, sg_errors_t *errs,
                            apr_pool_t *pool)
{
    sg_term_t *t = apr_pcalloc(pool, sizeof *t);
    t->id = sg_xml_token_attr(n, "id", pool);
    t->labels = apr_array_make(pool, 5, sizeof(stp_text_t));
    t->descriptions = apr_array_make(pool, 5, sizeof(stp_text_t));
    t->tiles = apr_array_make(pool, 8, sizeof(sg_term_t *));
    t->domains = apr_array_make(pool, 1, sizeof(const char *));
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (sg_xml_is_elem(c, "domain")) /* the schema checked its form */
            APR_ARRAY_PUSH(t->domains, const char *) = sg_xml_node_text(c, pool);
        else if (sg_xml_is_elem(c, "label"))
            sg_xml_add_text(t->labels, c, site, site->site_path, errs, pool);
        else if (sg_xml_is_elem(c, "description"))
            sg_xml_add_text(t->descriptions, c, site, site->site_path, errs, pool);
    }
    sg_xml_need_default(t->labels, "label", n, site, site->site_path, errs);
    if (apr_hash_get(index, t->id, APR_HASH_KEY_STRING))
        sg_error(errs, site->site_path, xmlGetLineNo(n), "duplicate %s id '%s'", kind, t->id);
    else
        apr_hash_set(index, t->id, APR_HASH_KEY_STRING, t);
    return t;
}

static void load_vocabulary(xmlNodePtr list, const char *item, apr_array_header_t *terms, apr_hash_t *index,
                            sg_site_t *site, sg_errors_t *errs, apr_pool_t *pool)
{
    for (xmlNodePtr c = list->children; c; c = c->next)
        if (sg_xml_is_elem(c, item))
            APR_ARRAY_PUSH(terms, sg_term_t *) = load_term(c, site, index, item, errs, pool);
}

/* Locales first: everything else refers to them. */
static void load_locales(sg_site_t *site, xmlNodePtr root, sg_errors_t *errs, apr_pool_t *pool)
{
    for (xmlNodePtr c = root->children; c; c = c->next) {
        if (!sg_xml_is_elem(c, "locales"))
            continue;
        for (xmlNodePtr l = c->children; l; l = l->next) {
            if (!sg_xml_is_elem(l, "locale"))
                continue;
            sg_locale_t *loc = &APR_ARRAY_PUSH(site->locales, sg_locale_t);
            loc->id = sg_xml_token_attr(l, "id", pool);
            loc->name = sg_xml_node_text(l, pool);
            loc->name = sg_xml_attr(l, "name", pool);
            sg_xml_check_bidi(loc->name, "locale name", l, site->site_path, errs);
            const char *dir = sg_xml_token_attr(l, "dir", pool);
            loc->rtl = dir && !strcmp(dir, "rtl");
            if (apr_hash_get(site->locale_index, loc->id, APR_HASH_KEY_STRING))
                sg_error(errs, site->site_path, xmlGetLineNo(l), "duplicate locale '%s'", loc->id);
            else
                apr_hash_set(site->locale_index, loc->id, APR_HASH_KEY_STRING, loc);
        }
    }
}

/* <sections>: each section with its tiles. */
static void load_sections(xmlNodePtr list, sg_site_t *site, apr_hash_t *section_index, sg_errors_t *errs,
                          apr_pool_t *pool)
{
    for (xmlNodePtr s = list->children; s; s = s->next) {
        if (!sg_xml_is_elem(s, "section"))
            continue;
        sg_term_t *sec = load_term(s, site, section_index, "section", errs, pool);
        APR_ARRAY_PUSH(site->sections, sg_term_t *) = sec;
        for (xmlNodePtr t = s->children; t; t = t->next) {
            if (!sg_xml_is_elem(t, "tile"))
                continue;
            sg_term_t *tile = load_term(t, site, site->tile_index, "tile", errs, pool);
            tile->section = sec;
            APR_ARRAY_PUSH(sec->tiles, sg_term_t *) = tile;
        }
    }
}

/* A footer link: its text like a label's, its href kept beside it under the same locale. Only
 * web and mail addresses: a javascript: or data: address would run in the portal's pages. */
static void load_portal_link(sg_site_t *site, int k, xmlNodePtr c, sg_errors_t *errs, apr_pool_t *pool)
{
    xmlChar *raw = xmlGetProp(c, (const xmlChar *)"href"); /* as written: sg_xml_attr drops spaces */
    const char *href = raw ? apr_pstrdup(pool, (const char *)raw) : NULL, *name = (const char *)c->name;
    xmlFree(raw);
    int n = site->link_texts[k]->nelts;
    sg_xml_add_text(site->link_texts[k], c, site, site->site_path, errs, pool);
    if (site->link_texts[k]->nelts == n)
        return; /* refused, and said why */
    const char *p = href ? href : "";
    int ok = (!strncasecmp(p, "https://", 8) && p[8]) || (!strncasecmp(p, "http://", 7) && p[7]) ||
             (!strncasecmp(p, "mailto:", 7) && p[7]);
    for (; *p && ok; p++)
        ok = (unsigned char)*p > 0x20 && *p != 0x7f;
    if (!ok)
        sg_error(errs, site->site_path, xmlGetLineNo(c),
                 "%s href '%s' must be a web or mail address starting with https://, http:// or mailto: (and no "
                 "spaces)",
                 name, href ? href : "");
    sg_xml_check_bidi(href, "href", c, site->site_path, errs);
    stp_text_t *t = &APR_ARRAY_PUSH(site->link_hrefs[k], stp_text_t);
    t->lang = APR_ARRAY_IDX(site->link_texts[k], n, stp_text_t).lang;
    t->text = href ? href : "";
}

const char *sg_site_portal(const sg_site_t *site, const char *lang, const char *key, apr_pool_t *pool)
{
    const apr_array_header_t *texts = NULL;
    if (!strcmp(key, "portal.tagline"))
        texts = site->tagline;
    else if (!strcmp(key, "portal.footer"))
        texts = site->footer;
    for (int k = 0; !texts && stp_view_portal_links[k]; k++) {
        const char *name = stp_view_portal_links[k];
        if (!strcmp(key, apr_pstrcat(pool, "portal.", name, ".text", NULL)))
            texts = site->link_texts[k];
        else if (!strcmp(key, apr_pstrcat(pool, "portal.", name, ".href", NULL))) {
            /* the href of the link whose text is shown */
            const stp_text_t *t = stp_catalog_text_pick(site->link_texts[k], lang, site->default_locale);
            return t ? sg_text(site->link_hrefs[k], t->lang, t->lang) : NULL;
        }
    }
    const stp_text_t *t = texts ? stp_catalog_text_pick(texts, lang, site->default_locale) : NULL;
    return t ? t->text : NULL;
}

/* One child element of <site> other than <locales>. */
static void load_site_element(sg_site_t *site, xmlNodePtr c, apr_hash_t *section_index, sg_errors_t *errs,
                              apr_pool_t *pool)
{
    if (sg_xml_is_elem(c, "label"))
        sg_xml_add_text(site->labels, c, site, site->site_path, errs, pool);
    else if (sg_xml_is_elem(c, "base-url")) {
        char *url = apr_pstrdup(pool, sg_xml_node_text(c, pool));
        apr_size_t n = strlen(url);
        while (n && url[n - 1] == '/')
            url[--n] = '\0';
        site->base_url = url;
    } else if (sg_xml_is_elem(c, "editors")) {
        site->editors = sg_xml_node_text(c, pool);
    } else if (sg_xml_is_elem(c, "nda")) {
        site->nda_version = sg_xml_token_attr(c, "version", pool);
        site->nda_line = xmlGetLineNo(c);
    } else if (sg_xml_is_elem(c, "retention"))
        site->retention_months = atoi(sg_xml_token_attr(c, "months", pool));
    else if (sg_xml_is_elem(c, "markdown")) {
        const char *v = sg_xml_token_attr(c, "unsafe-html", pool);
        site->unsafe_html = v && (!strcmp(v, "true") || !strcmp(v, "1"));
    } else if (sg_xml_is_elem(c, "tenants"))
        load_vocabulary(c, "tenant", site->tenants, site->tenant_index, site, errs, pool);
    else if (sg_xml_is_elem(c, "services"))
        load_vocabulary(c, "service", site->services, site->service_index, site, errs, pool);
    else if (sg_xml_is_elem(c, "regions"))
        load_vocabulary(c, "region", site->regions, site->region_index, site, errs, pool);
    else if (sg_xml_is_elem(c, "industries"))
        load_vocabulary(c, "industry", site->industries, site->industry_index, site, errs, pool);
    else if (sg_xml_is_elem(c, "sections"))
        load_sections(c, site, section_index, errs, pool);
    else if (sg_xml_is_elem(c, "tagline"))
        sg_xml_add_text(site->tagline, c, site, site->site_path, errs, pool);
    else if (sg_xml_is_elem(c, "footer"))
        sg_xml_add_text(site->footer, c, site, site->site_path, errs, pool);
    for (int k = 0; stp_view_portal_links[k]; k++)
        if (sg_xml_is_elem(c, stp_view_portal_links[k]))
            load_portal_link(site, k, c, errs, pool);
}

static void load_site(sg_site_t *site, xmlDocPtr xml, sg_errors_t *errs, apr_pool_t *pool)
{
    xmlNodePtr root = xmlDocGetRootElement(xml);
    apr_hash_t *section_index = apr_hash_make(pool);

    load_locales(site, root, errs, pool);
    site->default_locale = APR_ARRAY_IDX(site->locales, 0, sg_locale_t).id;
    for (xmlNodePtr c = root->children; c; c = c->next)
        load_site_element(site, c, section_index, errs, pool);
    sg_xml_need_default(site->labels, "label", root, site, site->site_path, errs);
    /* Each of the portal's own words, when given, exists in the default locale: the others fall back to it. */
    const apr_array_header_t *own[] = {site->tagline, site->footer, site->link_texts[0], site->link_texts[1],
                                       site->link_texts[2]};
    const char *names[] = {"tagline", "footer", "privacy", "contact", "imprint"};
    for (size_t i = 0; i < sizeof own / sizeof *own; i++)
        if (own[i]->nelts)
            sg_xml_need_default(own[i], names[i], root, site, site->site_path, errs);
}

/* The texts of site.xml's NDA version, one per locale (the default locale's is required), added to fp. */
static void load_ndas(sg_site_t *site, sg_errors_t *errs, sg_fp_t *fp, apr_pool_t *pool)
{
    if (!site->nda_version)
        return;
    for (int i = 0; i < site->locales->nelts; i++) {
        const char *lang = APR_ARRAY_IDX(site->locales, i, sg_locale_t).id;
        const char *rel = apr_pstrcat(pool, "nda/", site->nda_version, ".", lang, ".md", NULL);
        const char *path = apr_pstrcat(pool, site->content_dir, "/", rel, NULL);
        char *md;
        apr_size_t len, bad = 0;
        int fd = sg_open_beneath(site->content_dir, rel, 0, &bad);
        if (fd < 0 && errno == ELOOP) {
            sg_error(errs, apr_pstrcat(pool, site->content_dir, "/", apr_pstrmemdup(pool, rel, bad), NULL), 1, "%s",
                     SG_LINK_REFUSED);
            continue;
        }
        if (fd >= 0 && sg_fd_read(&md, &len, fd, pool) == APR_SUCCESS) {
            int line;
            const char *not_utf8 = sg_utf8_text(&md, &len, &line, pool);
            if (not_utf8) {
                sg_error(errs, path, line, "%s", not_utf8);
                continue;
            }
            apr_hash_set(site->nda_texts, lang, APR_HASH_KEY_STRING, md);
            sg_fp_str(fp, lang);
            sg_fp_add(fp, md, len);
        } else if (i == 0)
            sg_error(errs, site->site_path, site->nda_line,
                     "missing NDA text %s for version '%s' in the default locale", path, site->nda_version);
    }
}

static sg_site_t *site_make(const char *content_dir, apr_pool_t *pool)
{
    sg_site_t *site = apr_pcalloc(pool, sizeof *site);
    site->content_dir = content_dir;
    site->site_path = apr_pstrcat(pool, content_dir, "/site.xml", NULL);
    site->labels = apr_array_make(pool, 5, sizeof(stp_text_t));
    site->tagline = apr_array_make(pool, 5, sizeof(stp_text_t));
    site->footer = apr_array_make(pool, 5, sizeof(stp_text_t));
    for (int k = 0; k < 3; k++) {
        site->link_texts[k] = apr_array_make(pool, 5, sizeof(stp_text_t));
        site->link_hrefs[k] = apr_array_make(pool, 5, sizeof(stp_text_t));
    }
    site->locales = apr_array_make(pool, 5, sizeof(sg_locale_t));
    site->retention_months = STP_RETENTION_DEFAULT_MONTHS;
    site->nda_texts = apr_hash_make(pool);
    site->tenants = apr_array_make(pool, 4, sizeof(sg_term_t *));
    site->sections = apr_array_make(pool, 4, sizeof(sg_term_t *));
    site->services = apr_array_make(pool, 8, sizeof(sg_term_t *));
    site->regions = apr_array_make(pool, 8, sizeof(sg_term_t *));
    site->industries = apr_array_make(pool, 8, sizeof(sg_term_t *));
    site->tenant_index = apr_hash_make(pool);
    site->tile_index = apr_hash_make(pool);
    site->service_index = apr_hash_make(pool);
    site->region_index = apr_hash_make(pool);
    site->industry_index = apr_hash_make(pool);
    site->locale_index = apr_hash_make(pool);
    site->docs = apr_array_make(pool, 256, sizeof(sg_doc_t *));
    site->doc_index = apr_hash_make(pool);
    site->series = apr_hash_make(pool);
    return site;
}

/* --- a content tree -------------------------------------------------------------------------- */

/* Reads, validates and loads site.xml, adding it to fp. Returns whether the site loaded. */
static int read_site_xml(sg_site_t *site, sg_schema_t *schema, sg_fp_t *fp, sg_errors_t *errs, apr_pool_t *pool)
{
    char *data;
    apr_size_t len;
    int ok = 0;
    int fd = sg_open_beneath(site->content_dir, "site.xml", 0, NULL);
    if (fd < 0 || sg_fd_read(&data, &len, fd, pool) != APR_SUCCESS) {
        sg_error(errs, site->site_path, 0, "%s", fd < 0 && errno == ELOOP ? SG_LINK_REFUSED : "cannot read site.xml");
        return 0;
    }
    sg_fp_add(fp, data, len);
    xmlDocPtr xml = sg_xml_parse(data, len, site->site_path, errs);
    if (xml && sg_schema_validate(schema, xml, site->site_path, errs) == 0) {
        load_site(site, xml, errs, pool);
        ok = 1;
    }
    if (xml)
        xmlFreeDoc(xml);
    return ok;
}

/* Without a valid site.xml the documents are still read, for their own checks, so that one run
 * reports everything it can: references to the site go unjudged. */
static void forget_site(sg_site_t *site)
{
    site->tile_index = site->service_index = site->region_index = site->industry_index = NULL;
    site->tenant_index = NULL;
    site->locale_index = NULL;
    site->default_locale = "";
}

/* What every cached document depends on: this generator, this site and these schemas. */
static void cache_salt(char salt[65], const sg_site_t *site, const char *schema_dir, apr_pool_t *pool)
{
    char *data;
    apr_size_t len;
    sg_fp_t fp;
    sg_fp_init(&fp);
    sg_fp_str(&fp, PACKAGE_VERSION);
    sg_fp_str(&fp, apr_itoa(pool, STP_CATALOG_FORMAT)); /* cached records are catalog records */
    sg_fp_str(&fp, sg_markdown_flavour());              /* bodies are checked (UTF-8) when they enter the cache */
    sg_fp_str(&fp, site->site_fp);
    for (int i = 0; i < 2; i++)
        if (sg_file_read(&data, &len, apr_pstrcat(pool, schema_dir, i ? "/doc.rng" : "/site.rng", NULL), pool) ==
            APR_SUCCESS)
            sg_fp_add(&fp, data, len);
    sg_fp_hex(salt, &fp);
}

apr_status_t sg_content_load(sg_site_t **out, sg_errors_t *errs, const char *content_dir, const char *schema_dir,
                             int jobs, apr_pool_t *pool)
{
    return sg_content_load_cached(out, NULL, errs, content_dir, schema_dir, jobs, NULL, pool);
}

apr_status_t sg_content_load_cached(sg_site_t **out, sg_cache_notes_t **notes_out, sg_errors_t *errs,
                                    const char *content_dir, const char *schema_dir, int jobs, const char *cache_path,
                                    apr_pool_t *pool)
{
    sg_site_t *site = site_make(content_dir, pool);
    apr_finfo_t fi;
    sg_fp_t fp;
    char salt[65];

    if (apr_stat(&fi, content_dir, APR_FINFO_TYPE, pool) != APR_SUCCESS || fi.filetype != APR_DIR)
        return APR_ENOENT;
    sg_schema_t *site_schema = sg_schema_load(apr_pstrcat(pool, schema_dir, "/site.rng", NULL), errs, pool);
    sg_schema_t *doc_schema = sg_schema_load(apr_pstrcat(pool, schema_dir, "/doc.rng", NULL), errs, pool);
    if (!site_schema || !doc_schema)
        return APR_EGENERAL;
    site->doc_schema = doc_schema;

    sg_fp_init(&fp);
    int site_ok = read_site_xml(site, site_schema, &fp, errs, pool);
    if (site_ok)
        load_ndas(site, errs, &fp, pool);
    else
        forget_site(site);
    sg_fp_hex(site->site_fp, &fp);
    /* Cached documents were checked against this site, these schemas and this generator. */
    cache_salt(salt, site, schema_dir, pool);

    sg_cache_notes_t *notes = sg_cache_notes_make(pool);
    if (notes_out)
        *notes_out = notes;
    sg_docload_all(site, notes, jobs, site_ok ? sg_cache_read(cache_path, pool) : NULL, site_ok ? salt : NULL, errs,
                   pool);
    sg_series_group(site, errs, pool);
    *out = site;
    return APR_SUCCESS;
}
