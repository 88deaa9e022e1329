#include "sg_content.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_file_info.h>
#include <apr_strings.h>
#include <libxml/parser.h>

#include "sg_cache.h"
#include "sg_validate.h"
#include "stp_paths.h"

/* --- small XML helpers ----------------------------------------------------------------------- */

static int is_elem(xmlNodePtr n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

static const char *attr(xmlNodePtr n, const char *name, apr_pool_t *pool)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    if (!v)
        return NULL;
    char *s = apr_pstrdup(pool, (const char *)v);
    xmlFree(v);
    return apr_collapse_spaces(s, s) ? s : s;
}

/* Attribute values of token type: the schema allows surrounding white space, the model does not. */
static const char *token_attr(xmlNodePtr n, const char *name, apr_pool_t *pool)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    if (!v)
        return NULL;
    const char *s = (const char *)v;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    apr_size_t len = strlen(s);
    while (len && strchr(" \t\r\n", s[len - 1]))
        len--;
    char *out = apr_pstrmemdup(pool, s, len);
    xmlFree(v);
    return out;
}

static const char *node_lang(xmlNodePtr n, apr_pool_t *pool)
{
    xmlChar *v = xmlNodeGetLang(n);
    if (!v)
        return NULL;
    char *s = apr_pstrdup(pool, (const char *)v);
    xmlFree(v);
    return s;
}

/* Element text with runs of white space folded to one space, trimmed. */
static const char *node_text(xmlNodePtr n, apr_pool_t *pool)
{
    xmlChar *v = xmlNodeGetContent(n);
    const char *s = v ? (const char *)v : "";
    char *out = apr_palloc(pool, strlen(s) + 1), *o = out;
    int space = 0;
    for (; *s; s++) {
        if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
            space = o != out;
            continue;
        }
        if (space)
            *o++ = ' ';
        space = 0;
        *o++ = *s;
    }
    *o = '\0';
    if (v)
        xmlFree(v);
    return out;
}

const char *sg_text(const apr_array_header_t *texts, const char *lang, const char *fallback)
{
    const stp_text_t *t = stp_catalog_text_pick(texts, lang, fallback);
    return t ? t->text : "";
}

const sg_locale_t *sg_site_locale(const sg_site_t *site, const char *id)
{
    return id ? apr_hash_get(site->locale_index, id, APR_HASH_KEY_STRING) : NULL;
}

/* The bidirectional embedding, override and isolate controls reorder what a reader sees (a file
 * "report\u202Efdp.exe" shows as "reportexe.pdf"), so names and texts must not hold them. The
 * plain marks U+200E, U+200F and U+061C only nudge neutral characters and stay allowed. Returns
 * the code point and name of the first control in s, NULL when there is none. */
static const char *bidi_control(const char *s)
{
    static const char *const embed[] = {"U+202A LEFT-TO-RIGHT EMBEDDING", "U+202B RIGHT-TO-LEFT EMBEDDING",
                                        "U+202C POP DIRECTIONAL FORMATTING", "U+202D LEFT-TO-RIGHT OVERRIDE",
                                        "U+202E RIGHT-TO-LEFT OVERRIDE"};
    static const char *const isolate[] = {"U+2066 LEFT-TO-RIGHT ISOLATE", "U+2067 RIGHT-TO-LEFT ISOLATE",
                                          "U+2068 FIRST STRONG ISOLATE", "U+2069 POP DIRECTIONAL ISOLATE"};
    /* In UTF-8: U+202A..U+202E are E2 80 AA..AE, U+2066..U+2069 are E2 81 A6..A9. */
    for (const unsigned char *p = (const unsigned char *)s;
         p && (p = (const unsigned char *)strchr((const char *)p, 0xE2)); p++) {
        if (p[1] == 0x80 && p[2] >= 0xAA && p[2] <= 0xAE)
            return embed[p[2] - 0xAA];
        if (p[1] == 0x81 && p[2] >= 0xA6 && p[2] <= 0xA9)
            return isolate[p[2] - 0xA6];
    }
    return NULL;
}

static void check_bidi(const char *text, const char *what, xmlNodePtr n, const char *path, sg_errors_t *errs)
{
    const char *c = bidi_control(text);
    if (c)
        sg_error(errs, path, xmlGetLineNo(n), "%s contains %s; bidirectional control characters are not allowed", what,
                 c);
}

/* Adds a localized text, checking its locale is declared and not given twice. */
static void add_text(apr_array_header_t *texts, xmlNodePtr n, const sg_site_t *site, const char *path,
                     sg_errors_t *errs, apr_pool_t *pool)
{
    const char *lang = node_lang(n, pool);
    if (!lang)
        lang = site->default_locale ? site->default_locale : "";
    if (site->locale_index && !sg_site_locale(site, lang)) {
        sg_error(errs, path, xmlGetLineNo(n), "%s in undeclared locale '%s'", (const char *)n->name, lang);
        return;
    }
    for (int i = 0; i < texts->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(texts, i, stp_text_t).lang, lang)) {
            sg_error(errs, path, xmlGetLineNo(n), "%s given twice for locale '%s'", (const char *)n->name, lang);
            return;
        }
    }
    stp_text_t *t = &APR_ARRAY_PUSH(texts, stp_text_t);
    t->lang = lang;
    t->text = node_text(n, pool);
    check_bidi(t->text, (const char *)n->name, n, path, errs);
}

static void need_default(const apr_array_header_t *texts, const char *what, xmlNodePtr n, const sg_site_t *site,
                         const char *path, sg_errors_t *errs)
{
    if (!site->locale_index)
        return; /* site.xml is broken: that error was reported */
    for (int i = 0; i < texts->nelts; i++)
        if (!strcmp(APR_ARRAY_IDX(texts, i, stp_text_t).lang, site->default_locale))
            return;
    sg_error(errs, path, xmlGetLineNo(n), "%s has no %s in the default locale '%s'", (const char *)n->name, what,
             site->default_locale);
}

/* --- site.xml -------------------------------------------------------------------------------- */

static sg_term_t *load_term(xmlNodePtr n, sg_site_t *site, apr_hash_t *index, const char *kind, sg_errors_t *errs,
                            apr_pool_t *pool)
{
    sg_term_t *t = apr_pcalloc(pool, sizeof *t);
    t->id = token_attr(n, "id", pool);
    t->labels = apr_array_make(pool, 5, sizeof(stp_text_t));
    t->descriptions = apr_array_make(pool, 5, sizeof(stp_text_t));
    t->tiles = apr_array_make(pool, 8, sizeof(sg_term_t *));
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (is_elem(c, "label"))
            add_text(t->labels, c, site, site->site_path, errs, pool);
        else if (is_elem(c, "description"))
            add_text(t->descriptions, c, site, site->site_path, errs, pool);
    }
    need_default(t->labels, "label", n, site, site->site_path, errs);
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
        if (is_elem(c, item))
            APR_ARRAY_PUSH(terms, sg_term_t *) = load_term(c, site, index, item, errs, pool);
}

static void load_site(sg_site_t *site, xmlDocPtr xml, sg_errors_t *errs, apr_pool_t *pool)
{
    xmlNodePtr root = xmlDocGetRootElement(xml);
    apr_hash_t *section_index = apr_hash_make(pool);

    /* Locales first: everything else refers to them. */
    for (xmlNodePtr c = root->children; c; c = c->next) {
        if (!is_elem(c, "locales"))
            continue;
        for (xmlNodePtr l = c->children; l; l = l->next) {
            if (!is_elem(l, "locale"))
                continue;
            sg_locale_t *loc = &APR_ARRAY_PUSH(site->locales, sg_locale_t);
            loc->id = token_attr(l, "id", pool);
            loc->name = node_text(l, pool);
            loc->name = attr(l, "name", pool);
            check_bidi(loc->name, "locale name", l, site->site_path, errs);
            const char *dir = token_attr(l, "dir", pool);
            loc->rtl = dir && !strcmp(dir, "rtl");
            if (apr_hash_get(site->locale_index, loc->id, APR_HASH_KEY_STRING))
                sg_error(errs, site->site_path, xmlGetLineNo(l), "duplicate locale '%s'", loc->id);
            else
                apr_hash_set(site->locale_index, loc->id, APR_HASH_KEY_STRING, loc);
        }
    }
    site->default_locale = APR_ARRAY_IDX(site->locales, 0, sg_locale_t).id;

    for (xmlNodePtr c = root->children; c; c = c->next) {
        if (is_elem(c, "label"))
            add_text(site->labels, c, site, site->site_path, errs, pool);
        else if (is_elem(c, "base-url")) {
            char *url = apr_pstrdup(pool, node_text(c, pool));
            apr_size_t n = strlen(url);
            while (n && url[n - 1] == '/')
                url[--n] = '\0';
            site->base_url = url;
        } else if (is_elem(c, "nda")) {
            site->nda_version = token_attr(c, "version", pool);
            site->nda_line = xmlGetLineNo(c);
        } else if (is_elem(c, "retention"))
            site->retention_months = atoi(token_attr(c, "months", pool));
        else if (is_elem(c, "markdown")) {
            const char *v = token_attr(c, "unsafe-html", pool);
            site->unsafe_html = v && (!strcmp(v, "true") || !strcmp(v, "1"));
        } else if (is_elem(c, "tenants"))
            load_vocabulary(c, "tenant", site->tenants, site->tenant_index, site, errs, pool);
        else if (is_elem(c, "services"))
            load_vocabulary(c, "service", site->services, site->service_index, site, errs, pool);
        else if (is_elem(c, "regions"))
            load_vocabulary(c, "region", site->regions, site->region_index, site, errs, pool);
        else if (is_elem(c, "industries"))
            load_vocabulary(c, "industry", site->industries, site->industry_index, site, errs, pool);
        else if (is_elem(c, "sections")) {
            for (xmlNodePtr s = c->children; s; s = s->next) {
                if (!is_elem(s, "section"))
                    continue;
                sg_term_t *sec = load_term(s, site, section_index, "section", errs, pool);
                APR_ARRAY_PUSH(site->sections, sg_term_t *) = sec;
                for (xmlNodePtr t = s->children; t; t = t->next) {
                    if (!is_elem(t, "tile"))
                        continue;
                    sg_term_t *tile = load_term(t, site, site->tile_index, "tile", errs, pool);
                    tile->section = sec;
                    APR_ARRAY_PUSH(sec->tiles, sg_term_t *) = tile;
                }
            }
        }
    }
    need_default(site->labels, "label", root, site, site->site_path, errs);
}

/* --- documents ------------------------------------------------------------------------------- */

static const char *media_type_of(const char *name)
{
    static const char *const types[][2] = {
        {".pdf", "application/pdf"},
        {".csv", "text/csv"},
        {".txt", "text/plain"},
        {".zip", "application/zip"},
        {".json", "application/json"},
        {".xml", "application/xml"},
        {".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
        {".docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (!strcasecmp(dot, types[i][0]))
            return types[i][1];
    return "application/octet-stream";
}

static void ref_list(apr_array_header_t **out, xmlNodePtr list, const char *item, apr_hash_t *index, const char *kind,
                     const char *path, sg_errors_t *errs, apr_pool_t *pool)
{
    if (!*out)
        *out = apr_array_make(pool, 4, sizeof(const char *));
    for (xmlNodePtr c = list->children; c; c = c->next) {
        if (!is_elem(c, item))
            continue;
        const char *ref = token_attr(c, "ref", pool);
        if (index && !apr_hash_get(index, ref, APR_HASH_KEY_STRING))
            sg_error(errs, path, xmlGetLineNo(c), "unknown %s '%s'", kind, ref);
        else
            APR_ARRAY_PUSH(*out, const char *) = ref;
    }
}

/* Builds the document model from a schema-valid doc.xml. */
static sg_doc_t *doc_from_xml(const sg_site_t *site, xmlDocPtr xml, const char *path, sg_errors_t *errs,
                              apr_pool_t *pool)
{
    xmlNodePtr root = xmlDocGetRootElement(xml);
    sg_doc_t *d = apr_pcalloc(pool, sizeof *d);
    stp_doc_t *c = &d->cat;
    const char *published = NULL;
    int has_default_file = 0;

    d->xml_path = path;
    c->id = token_attr(root, "id", pool);
    c->series = token_attr(root, "series", pool);
    c->version = token_attr(root, "version", pool);
    c->titles = apr_array_make(pool, 5, sizeof(stp_text_t));
    c->summaries = apr_array_make(pool, 5, sizeof(stp_text_t));
    c->changes = apr_array_make(pool, 5, sizeof(stp_text_t));
    c->tenants = apr_array_make(pool, 2, sizeof(const char *));
    c->files = apr_array_make(pool, 2, sizeof(stp_file_t));
    d->srcfiles = apr_array_make(pool, 2, sizeof(sg_srcfile_t));
    d->bodies = apr_hash_make(pool);
    for (xmlNodePtr n = root->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (is_elem(n, "published")) {
            published = node_text(n, pool);
            if (stp_date_parse(&c->published, published) != APR_SUCCESS)
                sg_error(errs, path, xmlGetLineNo(n), "published date '%s' is not a valid date", published);
        } else if (is_elem(n, "tile")) {
            const char *ref = token_attr(n, "ref", pool);
            d->tile = site->tile_index ? apr_hash_get(site->tile_index, ref, APR_HASH_KEY_STRING) : NULL;
            if (site->tile_index && !d->tile)
                sg_error(errs, path, xmlGetLineNo(n), "unknown tile '%s'", ref);
            c->tile = ref;
            c->section = d->tile ? d->tile->section->id : "";
        } else if (is_elem(n, "access")) {
            const char *nda = token_attr(n, "nda", pool);
            if (stp_catalog_access_parse(&c->access, token_attr(n, "level", pool)) != APR_SUCCESS)
                sg_error(errs, path, xmlGetLineNo(n), "unknown access level");
            c->nda = nda && (!strcmp(nda, "true") || !strcmp(nda, "1"));
            ref_list(&c->tenants, n, "tenant", site->tenant_index, "tenant", path, errs, pool);
        } else if (is_elem(n, "title"))
            add_text(c->titles, n, site, path, errs, pool);
        else if (is_elem(n, "summary"))
            add_text(c->summaries, n, site, path, errs, pool);
        else if (is_elem(n, "change"))
            add_text(c->changes, n, site, path, errs, pool);
        else if (is_elem(n, "services"))
            ref_list(&c->services, n, "service", site->service_index, "service", path, errs, pool);
        else if (is_elem(n, "regions"))
            ref_list(&c->regions, n, "region", site->region_index, "region", path, errs, pool);
        else if (is_elem(n, "industries"))
            ref_list(&c->industries, n, "industry", site->industry_index, "industry", path, errs, pool);
        else if (is_elem(n, "files")) {
            for (xmlNodePtr f = n->children; f; f = f->next) {
                if (!is_elem(f, "file"))
                    continue;
                const char *lang = node_lang(f, pool);
                const char *href = attr(f, "href", pool);
                const char *type = token_attr(f, "type", pool);
                check_bidi(href, "file name", f, path, errs);
                if (!site->locale_index) {
                    /* site.xml is broken (reported): locales cannot be judged, only read */
                    lang = lang ? lang : "";
                } else if (!lang || !strcmp(lang, site->default_locale)) {
                    lang = site->default_locale;
                    has_default_file = 1;
                }
                if (site->locale_index && !sg_site_locale(site, lang)) {
                    sg_error(errs, path, xmlGetLineNo(f), "file in undeclared locale '%s'", lang);
                    continue;
                }
                int dup = 0;
                for (int i = 0; i < d->srcfiles->nelts; i++)
                    dup |= !strcmp(APR_ARRAY_IDX(d->srcfiles, i, sg_srcfile_t).file.lang, lang);
                if (dup && site->locale_index) {
                    sg_error(errs, path, xmlGetLineNo(f), "two files for locale '%s'", lang);
                    continue;
                }
                sg_srcfile_t *sf = &APR_ARRAY_PUSH(d->srcfiles, sg_srcfile_t);
                const char *base = strrchr(href, '/');
                sf->src = href; /* made absolute once the folder is known */
                sf->line = xmlGetLineNo(f);
                sf->file.lang = lang;
                sf->file.name = base ? base + 1 : href;
                sf->file.path = stp_paths_file(c->id, href, pool);
                sf->file.media_type = type ? type : media_type_of(href);
                APR_ARRAY_PUSH(c->files, stp_file_t) = sf->file;
            }
            if (!has_default_file && site->locale_index)
                sg_error(errs, path, xmlGetLineNo(n), "no file for the default locale '%s' (a <file> without xml:lang)",
                         site->default_locale);
        }
    }
    need_default(c->titles, "title", root, site, path, errs);
    need_default(c->summaries, "summary", root, site, path, errs);
    if (c->access != STP_ACCESS_TENANT)
        c->tenants->nelts = 0;
    if (!c->series)
        c->series = c->id;
    if (!c->version)
        c->version = published ? published : "";
    return d;
}

sg_doc_t *sg_doc_parse(const sg_site_t *site, const char *data, apr_size_t len, const char *path, sg_errors_t *errs,
                       apr_pool_t *pool)
{
    xmlDocPtr xml = sg_xml_parse(data, len, path, errs);
    xmlNodePtr root = xml ? xmlDocGetRootElement(xml) : NULL;
    sg_doc_t *d = NULL;
    if (!xml)
        return NULL;
    if (site->doc_schema) {
        if (sg_schema_validate(site->doc_schema, xml, path, errs) == 0)
            d = doc_from_xml(site, xml, path, errs, pool);
    } else if (root && is_elem(root, "document") && xmlHasProp(root, (const xmlChar *)"id")) {
        d = doc_from_xml(site, xml, path, errs, pool);
    } else {
        sg_error(errs, path, 1, "the root element must be <document id=\"...\">");
    }
    if (d)
        d->line = root ? xmlGetLineNo(root) : 1;
    xmlFreeDoc(xml);
    return d;
}

/* Fingerprints: meta_fp covers doc.xml (what listings show); fp adds bodies and file digests. */
static void doc_fingerprint(sg_doc_t *d, const char *xml, apr_size_t len, apr_pool_t *pool)
{
    sg_fp_t fp;
    sg_fp_init(&fp);
    sg_fp_add(&fp, xml, len);
    sg_fp_hex(d->meta_fp, &fp);
    sg_fp_init(&fp);
    sg_fp_str(&fp, d->meta_fp);
    apr_array_header_t *langs = apr_array_make(pool, 5, sizeof(const char *));
    for (apr_hash_index_t *hi = apr_hash_first(pool, d->bodies); hi; hi = apr_hash_next(hi))
        APR_ARRAY_PUSH(langs, const char *) = apr_hash_this_key(hi);
    /* hash order is not stable: sort the locales */
    for (int i = 1; i < langs->nelts; i++)
        for (int j = i;
             j > 0 && strcmp(APR_ARRAY_IDX(langs, j - 1, const char *), APR_ARRAY_IDX(langs, j, const char *)) > 0;
             j--) {
            const char *t = APR_ARRAY_IDX(langs, j, const char *);
            APR_ARRAY_IDX(langs, j, const char *) = APR_ARRAY_IDX(langs, j - 1, const char *);
            APR_ARRAY_IDX(langs, j - 1, const char *) = t;
        }
    d->body_fps = apr_hash_make(pool);
    for (int i = 0; i < langs->nelts; i++) {
        const char *l = APR_ARRAY_IDX(langs, i, const char *);
        const char *md = apr_hash_get(d->bodies, l, APR_HASH_KEY_STRING);
        sg_fp_t bfp;
        char *hex = apr_palloc(pool, 65);
        sg_fp_init(&bfp);
        sg_fp_str(&bfp, md);
        sg_fp_hex(hex, &bfp);
        apr_hash_set(d->body_fps, l, APR_HASH_KEY_STRING, hex);
        sg_fp_str(&fp, l);
        sg_fp_str(&fp, hex);
    }
    for (int i = 0; i < d->cat.files->nelts; i++) {
        const stp_file_t *f = &APR_ARRAY_IDX(d->cat.files, i, stp_file_t);
        sg_fp_str(&fp, f->sha256);
        sg_fp_str(&fp, apr_ltoa(pool, (long)f->size));
    }
    sg_fp_hex(d->fp, &fp);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A directory's entries (hidden ones left out), sorted so that output and messages are stable:
 * directories, symbolic links and everything else apart. The links are listed to be refused. */
typedef struct {
    apr_array_header_t *dirs, *links, *others; /* const char * */
} listing_t;

static listing_t list_dir(int fd, apr_pool_t *pool)
{
    listing_t l = {apr_array_make(pool, 64, sizeof(const char *)), apr_array_make(pool, 1, sizeof(const char *)),
                   apr_array_make(pool, 8, sizeof(const char *))};
    int dup_fd = fd >= 0 ? dup(fd) : -1;
    DIR *dir = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
    struct dirent *e;
    if (!dir) {
        if (dup_fd >= 0)
            close(dup_fd);
        return l;
    }
    rewinddir(dir); /* the duplicate shares the offset with fd */
    while ((e = readdir(dir)) != NULL) {
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        int type = e->d_type;
        if (type == DT_UNKNOWN)
            type = fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ? DT_UNKNOWN
                   : S_ISDIR(st.st_mode)                                 ? DT_DIR
                   : S_ISLNK(st.st_mode)                                 ? DT_LNK
                                                                         : DT_REG;
        apr_array_header_t *to = type == DT_DIR ? l.dirs : type == DT_LNK ? l.links : l.others;
        APR_ARRAY_PUSH(to, const char *) = apr_pstrdup(pool, e->d_name);
    }
    closedir(dir);
    qsort(l.dirs->elts, (size_t)l.dirs->nelts, sizeof(const char *), cmp_str);
    qsort(l.links->elts, (size_t)l.links->nelts, sizeof(const char *), cmp_str);
    qsort(l.others->elts, (size_t)l.others->nelts, sizeof(const char *), cmp_str);
    return l;
}

static int is_body_name(const char *name)
{
    apr_size_t n = strlen(name);
    return n >= 4 && !strcmp(name + n - 3, ".md");
}

/* Loads one document folder. Runs on several threads at once: it only reads the site and writes
 * to its own pool and error list. */
static sg_doc_t *load_doc(const sg_site_t *site, int docs_fd, const char *folder, sg_errors_t *errs, apr_pool_t *pool)
{
    const char *dir = apr_pstrcat(pool, site->content_dir, "/docs/", folder, NULL);
    const char *path = apr_pstrcat(pool, dir, "/doc.xml", NULL);
    char *data;
    apr_size_t len;
    /* Every file of the folder is opened below the folder's own descriptor, following no link. */
    int dfd = sg_openat_nofollow(docs_fd, folder, 1, NULL);
    if (dfd < 0) {
        sg_error(errs, dir, 1, "%s", errno == ELOOP ? SG_LINK_REFUSED : "cannot open the document folder");
        return NULL;
    }
    int fd = sg_openat_nofollow(dfd, "doc.xml", 0, NULL);
    if (fd < 0 || sg_fd_read(&data, &len, fd, pool) != APR_SUCCESS) {
        sg_error(errs, path, 1, "%s",
                 fd < 0 && errno == ELOOP ? SG_LINK_REFUSED : "document folder has no readable doc.xml");
        close(dfd);
        return NULL;
    }
    sg_doc_t *d = sg_doc_parse(site, data, len, path, errs, pool);
    if (!d) {
        close(dfd);
        return NULL;
    }
    int root_line = d->line;
    d->root = site->content_dir;
    d->dir = dir;

    if (strcmp(d->cat.id, folder))
        sg_error(errs, path, root_line, "document id '%s' does not match its folder name '%s'", d->cat.id, folder);
    /* Bodies: <lang>.md for declared locales; the default locale's is required. */
    listing_t names = list_dir(dfd, pool);
    for (int i = 0; i < names.links->nelts; i++) {
        const char *name = APR_ARRAY_IDX(names.links, i, const char *);
        if (is_body_name(name))
            sg_error(errs, apr_pstrcat(pool, dir, "/", name, NULL), 1, "%s", SG_LINK_REFUSED);
    }
    for (int i = 0; i < names.others->nelts; i++) {
        const char *name = APR_ARRAY_IDX(names.others, i, const char *);
        if (!is_body_name(name))
            continue;
        const char *lang = apr_pstrmemdup(pool, name, strlen(name) - 3);
        const char *body = apr_pstrcat(pool, dir, "/", name, NULL);
        if (site->locale_index && !sg_site_locale(site, lang)) {
            sg_error(errs, body, 1, "body for undeclared locale '%s'", lang);
            continue;
        }
        char *md;
        apr_size_t mdlen;
        if ((fd = sg_openat_nofollow(dfd, name, 0, NULL)) < 0 || sg_fd_read(&md, &mdlen, fd, pool) != APR_SUCCESS) {
            sg_error(errs, body, 1, "%s", fd < 0 && errno == ELOOP ? SG_LINK_REFUSED : "cannot read the body");
            continue;
        }
        apr_hash_set(d->bodies, lang, APR_HASH_KEY_STRING, md);
    }
    if (site->locale_index && !apr_hash_get(d->bodies, site->default_locale, APR_HASH_KEY_STRING))
        sg_error(errs, path, root_line, "missing body %s.md for the default locale", site->default_locale);

    /* Files: inside the folder, present, no links, hashed. */
    for (int i = 0; i < d->srcfiles->nelts; i++) {
        sg_srcfile_t *sf = &APR_ARRAY_IDX(d->srcfiles, i, sg_srcfile_t);
        const char *problem = sg_path_open(&fd, dfd, sf->src, pool);
        if (problem) {
            sg_error(errs, path, sf->line, "%s", problem);
            continue;
        }
        sf->src = apr_pstrcat(pool, dir, "/", sf->src, NULL);
        if (sg_fd_sha256(sf->file.sha256, &sf->file.size, fd) != APR_SUCCESS) {
            sg_error(errs, path, sf->line, "cannot read file '%s'", sf->src);
            continue;
        }
        APR_ARRAY_IDX(d->cat.files, i, stp_file_t) = sf->file;
    }
    close(dfd);
    doc_fingerprint(d, data, len, pool);
    return d;
}

typedef struct {
    const sg_site_t *site;
    apr_hash_t *cache; /* the previous build's documents, or NULL */
    const char *salt;  /* what every cached signature depends on */
    int docs_fd;       /* the docs folder, for signatures */
    const apr_array_header_t *folders;
    sg_doc_t **docs;        /* per folder */
    sg_cache_note_t *notes; /* per folder */
    sg_errors_t **errs;     /* per folder, so that messages keep folder order */
} load_job_t;

static void load_one(void *baton, int i, apr_pool_t *pool)
{
    load_job_t *job = baton;
    const char *folder = APR_ARRAY_IDX(job->folders, i, const char *);
    job->errs[i] = sg_errors_make(pool);
    if (job->cache) {
        const char *dir = apr_pstrcat(pool, job->site->content_dir, "/docs/", folder, NULL);
        job->docs[i] =
            sg_cache_lookup(&job->notes[i], job->cache, job->site, job->docs_fd, folder, dir, job->salt, pool);
        if (job->docs[i])
            return;
    }
    job->docs[i] = load_doc(job->site, job->docs_fd, folder, job->errs[i], pool);
    if (job->docs[i] && job->salt && job->docs_fd >= 0)
        sg_cache_sign(&job->notes[i], job->docs[i], job->docs_fd, job->salt, pool);
}

/* Loads every document folder on `jobs` threads, then adds them in folder order. */
static void load_docs(sg_site_t *site, sg_cache_notes_t *notes, int docs_fd, const apr_array_header_t *folders,
                      int jobs, apr_hash_t *cache, const char *salt, sg_errors_t *errs, apr_pool_t *pool)
{
    load_job_t job = {site,
                      cache,
                      salt,
                      docs_fd,
                      folders,
                      apr_pcalloc(pool, sizeof(sg_doc_t *) * (apr_size_t)(folders->nelts + 1)),
                      apr_pcalloc(pool, sizeof(sg_cache_note_t) * (apr_size_t)(folders->nelts + 1)),
                      apr_pcalloc(pool, sizeof(sg_errors_t *) * (apr_size_t)(folders->nelts + 1))};
    if (job.docs_fd < 0) /* no signatures: every folder is read afresh and nothing is cached */
        job.cache = NULL;
    sg_parallel_for(folders->nelts, jobs, load_one, &job, pool);
    for (int i = 0; i < folders->nelts; i++) {
        for (int e = 0; job.errs[i] && e < job.errs[i]->list->nelts; e++)
            APR_ARRAY_PUSH(errs->list, const char *) = APR_ARRAY_IDX(job.errs[i]->list, e, const char *);
        sg_doc_t *d = job.docs[i];
        if (!d)
            continue;
        sg_doc_t *other = apr_hash_get(site->doc_index, d->cat.id, APR_HASH_KEY_STRING);
        if (other) {
            sg_error(errs, d->xml_path, d->line, "duplicate document id '%s' (also in %s)", d->cat.id, other->xml_path);
            continue;
        }
        apr_hash_set(site->doc_index, d->cat.id, APR_HASH_KEY_STRING, d);
        APR_ARRAY_PUSH(site->docs, sg_doc_t *) = d;
        sg_cache_notes_set(notes, d, &job.notes[i]);
    }
}

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
            apr_hash_set(site->nda_texts, lang, APR_HASH_KEY_STRING, md);
            sg_fp_str(fp, lang);
            sg_fp_add(fp, md, len);
        } else if (i == 0)
            sg_error(errs, site->site_path, site->nda_line,
                     "missing NDA text %s for version '%s' in the default locale", path, site->nda_version);
    }
}

static int cmp_newest(const void *a, const void *b)
{
    const sg_doc_t *x = *(sg_doc_t *const *)a, *y = *(sg_doc_t *const *)b;
    return stp_retention_version_newer_cmp(x->cat.published, x->cat.version, y->cat.published, y->cat.version);
}

static int cmp_listing(const void *a, const void *b)
{
    const sg_doc_t *x = *(sg_doc_t *const *)a, *y = *(sg_doc_t *const *)b;
    if (x->cat.published != y->cat.published)
        return x->cat.published > y->cat.published ? -1 : 1;
    return strcmp(x->cat.id, y->cat.id);
}

/* A document's tenants as a sorted set without repeats, joined with ", " (for comparing and for messages). */
static const char *tenant_set(const stp_doc_t *c, apr_pool_t *pool)
{
    apr_array_header_t *ids = apr_array_copy(pool, c->tenants);
    qsort(ids->elts, (size_t)ids->nelts, sizeof(const char *), cmp_str);
    const char *out = "";
    for (int i = 0; i < ids->nelts; i++) {
        const char *id = APR_ARRAY_IDX(ids, i, const char *);
        if (i && !strcmp(id, APR_ARRAY_IDX(ids, i - 1, const char *)))
            continue;
        out = apr_pstrcat(pool, out, *out ? ", " : "", id, NULL);
    }
    return out;
}

/* Who may see a document, in words: its level, and for tenant documents the tenants and the NDA flag. */
static const char *access_words(const stp_doc_t *c, apr_pool_t *pool)
{
    if (c->access != STP_ACCESS_TENANT)
        return stp_catalog_access_name(c->access);
    return apr_psprintf(pool, "tenant (%s%s)", tenant_set(c, pool), c->nda ? "; NDA required" : "");
}

/* Versions of a series name each other on their pages, 410 answers and downloads: a version that
 * another version's readers may not see would leak through those links. So every version of a
 * series has the same access. */
static void check_series_access(const sg_doc_t *d, const sg_doc_t *first, sg_errors_t *errs, apr_pool_t *pool)
{
    const char *mine = access_words(&d->cat, pool), *theirs = access_words(&first->cat, pool);
    if (!strcmp(mine, theirs))
        return;
    sg_error(errs, d->xml_path, d->line,
             "series '%s': '%s' is %s but '%s' (%s) is %s; every version of a series must have the same "
             "access level, tenants and NDA requirement",
             d->cat.series, d->cat.id, mine, first->cat.id, first->xml_path, theirs);
}

static void group_series(sg_site_t *site, sg_errors_t *errs, apr_pool_t *pool)
{
    for (int i = 0; i < site->docs->nelts; i++) {
        sg_doc_t *d = APR_ARRAY_IDX(site->docs, i, sg_doc_t *);
        apr_array_header_t *list = apr_hash_get(site->series, d->cat.series, APR_HASH_KEY_STRING);
        if (!list) {
            list = apr_array_make(pool, 2, sizeof(sg_doc_t *));
            apr_hash_set(site->series, d->cat.series, APR_HASH_KEY_STRING, list);
        }
        for (int j = 0; j < list->nelts; j++) {
            sg_doc_t *o = APR_ARRAY_IDX(list, j, sg_doc_t *);
            if (!strcmp(o->cat.version, d->cat.version))
                sg_error(errs, d->xml_path, d->line, "series '%s' already has version '%s' (%s)", d->cat.series,
                         d->cat.version, o->xml_path);
        }
        if (list->nelts)
            check_series_access(d, APR_ARRAY_IDX(list, 0, sg_doc_t *), errs, pool);
        APR_ARRAY_PUSH(list, sg_doc_t *) = d;
    }
    for (apr_hash_index_t *hi = apr_hash_first(pool, site->series); hi; hi = apr_hash_next(hi)) {
        apr_array_header_t *list = apr_hash_this_val(hi);
        qsort(list->elts, (size_t)list->nelts, sizeof(sg_doc_t *), cmp_newest);
    }
}

static void push_to(apr_hash_t *h, const char *key, sg_doc_t *d, apr_pool_t *pool)
{
    apr_array_header_t *a = apr_hash_get(h, key, APR_HASH_KEY_STRING);
    if (!a) {
        a = apr_array_make(pool, 8, sizeof(sg_doc_t *));
        apr_hash_set(h, key, APR_HASH_KEY_STRING, a);
    }
    APR_ARRAY_PUSH(a, sg_doc_t *) = d;
}

void sg_content_resolve(sg_site_t *site, stp_day_t today)
{
    apr_pool_t *pool = site->docs->pool;
    apr_array_header_t *by_date = apr_array_copy(pool, site->docs);
    for (apr_hash_index_t *hi = apr_hash_first(pool, site->series); hi; hi = apr_hash_next(hi)) {
        apr_array_header_t *list = apr_hash_this_val(hi);
        sg_doc_t *cur = APR_ARRAY_IDX(list, 0, sg_doc_t *);
        cur->older = apr_array_make(pool, 2, sizeof(sg_doc_t *));
        for (int j = 0; j < list->nelts; j++) {
            sg_doc_t *d = APR_ARRAY_IDX(list, j, sg_doc_t *);
            d->current = cur;
            d->cat.current = cur->cat.id;
            d->state = stp_retention_state(j == 0, d->cat.published, site->retention_months, today);
            d->cat.retired = j == 0 ? 0 : stp_retention_end(d->cat.published, site->retention_months);
            if (d->state == STP_VERSION_SUPERSEDED)
                APR_ARRAY_PUSH(cur->older, sg_doc_t *) = d;
        }
    }
    /* Listings, newest first (ties by id, so that output is stable). */
    qsort(by_date->elts, (size_t)by_date->nelts, sizeof(sg_doc_t *), cmp_listing);
    site->tile_docs = apr_hash_make(pool);
    site->tenant_docs = apr_hash_make(pool);
    site->org_tiles = apr_hash_make(pool);
    site->listed = apr_array_make(pool, by_date->nelts, sizeof(sg_doc_t *));
    for (int i = 0; i < by_date->nelts; i++) {
        sg_doc_t *d = APR_ARRAY_IDX(by_date, i, sg_doc_t *);
        if (d->state != STP_VERSION_CURRENT)
            continue;
        if (d->cat.access == STP_ACCESS_TENANT) {
            for (int t = 0; t < d->cat.tenants->nelts; t++)
                push_to(site->tenant_docs, APR_ARRAY_IDX(d->cat.tenants, t, const char *), d, pool);
            apr_hash_set(site->org_tiles, d->cat.tile, APR_HASH_KEY_STRING, d->cat.tile);
            continue;
        }
        APR_ARRAY_PUSH(site->listed, sg_doc_t *) = d;
        push_to(site->tile_docs, d->cat.tile, d, pool);
    }
}

static sg_site_t *site_make(const char *content_dir, apr_pool_t *pool)
{
    sg_site_t *site = apr_pcalloc(pool, sizeof *site);
    site->content_dir = content_dir;
    site->site_path = apr_pstrcat(pool, content_dir, "/site.xml", NULL);
    site->labels = apr_array_make(pool, 5, sizeof(stp_text_t));
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
    char *data;
    apr_size_t len;
    sg_fp_t fp;
    int site_ok = 0;

    if (apr_stat(&fi, content_dir, APR_FINFO_TYPE, pool) != APR_SUCCESS || fi.filetype != APR_DIR)
        return APR_ENOENT;
    sg_schema_t *site_schema = sg_schema_load(apr_pstrcat(pool, schema_dir, "/site.rng", NULL), errs, pool);
    sg_schema_t *doc_schema = sg_schema_load(apr_pstrcat(pool, schema_dir, "/doc.rng", NULL), errs, pool);
    if (!site_schema || !doc_schema)
        return APR_EGENERAL;
    site->doc_schema = doc_schema;

    sg_fp_init(&fp);
    int fd = sg_open_beneath(content_dir, "site.xml", 0, NULL);
    if (fd < 0 || sg_fd_read(&data, &len, fd, pool) != APR_SUCCESS) {
        sg_error(errs, site->site_path, 0, "%s", fd < 0 && errno == ELOOP ? SG_LINK_REFUSED : "cannot read site.xml");
    } else {
        sg_fp_add(&fp, data, len);
        xmlDocPtr xml = sg_xml_parse(data, len, site->site_path, errs);
        if (xml && sg_schema_validate(site_schema, xml, site->site_path, errs) == 0) {
            load_site(site, xml, errs, pool);
            site_ok = 1;
        }
        if (xml)
            xmlFreeDoc(xml);
    }
    if (!site_ok) {
        /* Go on with the documents' own checks so that one run reports everything it can. */
        site->tile_index = site->service_index = site->region_index = site->industry_index = NULL;
        site->tenant_index = NULL;
        site->locale_index = NULL;
        site->default_locale = "";
    }
    if (site_ok)
        load_ndas(site, errs, &fp, pool);
    sg_fp_hex(site->site_fp, &fp);
    /* Cached documents were checked against this site, these schemas and this generator. */
    char salt[65];
    sg_fp_init(&fp);
    sg_fp_str(&fp, PACKAGE_VERSION);
    sg_fp_str(&fp, site->site_fp);
    for (int i = 0; i < 2; i++)
        if (sg_file_read(&data, &len, apr_pstrcat(pool, schema_dir, i ? "/doc.rng" : "/site.rng", NULL), pool) ==
            APR_SUCCESS)
            sg_fp_add(&fp, data, len);
    sg_fp_hex(salt, &fp);

    /* The docs folder and each document folder must be real folders: a link there would bring in
     * a tree from anywhere. */
    const char *docs_dir = apr_pstrcat(pool, content_dir, "/docs", NULL);
    int docs_fd = sg_open_beneath(content_dir, "docs", 1, NULL);
    if (docs_fd < 0 && errno == ELOOP)
        sg_error(errs, docs_dir, 1, "%s", SG_LINK_REFUSED);
    listing_t entries = list_dir(docs_fd, pool);
    for (int i = 0; i < entries.links->nelts; i++)
        sg_error(errs, apr_pstrcat(pool, docs_dir, "/", APR_ARRAY_IDX(entries.links, i, const char *), NULL), 1, "%s",
                 SG_LINK_REFUSED);
    sg_cache_notes_t *notes = sg_cache_notes_make(pool);
    if (notes_out)
        *notes_out = notes;
    load_docs(site, notes, docs_fd, entries.dirs, jobs, site_ok ? sg_cache_read(cache_path, pool) : NULL,
              site_ok ? salt : NULL, errs, pool);
    if (docs_fd >= 0)
        close(docs_fd);
    group_series(site, errs, pool);
    *out = site;
    return APR_SUCCESS;
}
