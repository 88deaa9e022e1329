/* sg_docload: loading the document folders of a site: doc.xml, bodies, files and fingerprints. */
#include "sg_docload.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <libxml/parser.h>

#include "sg_media.h"
#include "sg_validate.h"
#include "sg_validity.h"
#include "sg_xml.h"
#include "stp_paths.h"

/* --- doc.xml --------------------------------------------------------------------------------- */

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
        if (!sg_xml_is_elem(c, item))
            continue;
        const char *ref = sg_xml_token_attr(c, "ref", pool);
        if (index && !apr_hash_get(index, ref, APR_HASH_KEY_STRING))
            sg_error(errs, path, xmlGetLineNo(c), "unknown %s '%s'", kind, ref);
        else
            APR_ARRAY_PUSH(*out, const char *) = ref;
    }
}

/* Reading one schema-valid doc.xml into the model: what passes from element to element. */
typedef struct {
    const sg_site_t *site;
    sg_doc_t *d;
    const char *path;
    const char *published; /* the <published> text, the version when none is given */
    int has_default_file;
    sg_errors_t *errs;
    apr_pool_t *pool;
} doc_reader_t;

/* A document with the root's attributes and empty lists. */
static sg_doc_t *doc_make(xmlNodePtr root, const char *path, apr_pool_t *pool)
{
    sg_doc_t *d = apr_pcalloc(pool, sizeof *d);
    stp_doc_t *c = &d->cat;
    d->xml_path = path;
    c->id = sg_xml_token_attr(root, "id", pool);
    c->series = sg_xml_token_attr(root, "series", pool);
    c->version = sg_xml_token_attr(root, "version", pool);
    c->titles = apr_array_make(pool, 5, sizeof(stp_text_t));
    c->summaries = apr_array_make(pool, 5, sizeof(stp_text_t));
    c->changes = apr_array_make(pool, 5, sizeof(stp_text_t));
    c->tenants = apr_array_make(pool, 2, sizeof(const char *));
    c->requires = apr_array_make(pool, 1, sizeof(stp_require_t));
    c->files = apr_array_make(pool, 2, sizeof(stp_file_t));
    d->srcfiles = apr_array_make(pool, 2, sizeof(sg_srcfile_t));
    d->images = apr_array_make(pool, 1, sizeof(sg_image_t));
    d->bodies = apr_hash_make(pool);
    return d;
}

/* <published>: a day (live from its midnight, UTC) or a moment with its zone (live from then). */
static void read_published(doc_reader_t *r, xmlNodePtr n)
{
    char *text = apr_pstrdup(r->pool, sg_xml_node_text(n, r->pool));
    apr_collapse_spaces(text, text);
    r->published = text;
    if (stp_date_parse_moment(&r->d->cat.published, &r->d->cat.live, text) != APR_SUCCESS)
        sg_error(r->errs, r->path, xmlGetLineNo(n), "published date '%s' is not a valid date", text);
    else if (strlen(text) > 10)
        r->published = apr_pstrmemdup(r->pool, text, 10); /* the default version: the day */
    r->d->goes_live = r->d->cat.live;
}

static void read_tile(doc_reader_t *r, xmlNodePtr n)
{
    const sg_site_t *site = r->site;
    sg_doc_t *d = r->d;
    const char *ref = sg_xml_token_attr(n, "ref", r->pool);
    d->tile = site->tile_index ? apr_hash_get(site->tile_index, ref, APR_HASH_KEY_STRING) : NULL;
    if (site->tile_index && !d->tile)
        sg_error(r->errs, r->path, xmlGetLineNo(n), "unknown tile '%s'", ref);
    d->cat.tile = ref;
    d->cat.section = d->tile ? d->tile->section->id : "";
}

/* What is wrong with a claim name or value of a <require>, or NULL. Names are what an identity
 * provider's claims are called (the module reads OIDC_CLAIM_<name>); a value is one whole item of
 * the claim's comma-separated list, so it cannot hold a comma or start or end with a space. */
static const char *require_problem(const char *text, int is_name)
{
    apr_size_t n = strlen(text);
    if (!n)
        return "is empty";
    if (n > (is_name ? 64u : 128u))
        return is_name ? "is longer than 64 characters" : "is longer than 128 bytes";
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
            return "contains a control character";
        if (is_name && !(apr_isalnum(*p) || *p == '_' || *p == '-' || *p == '.' || *p == ':'))
            return "may use only letters, digits, '_', '-', '.' and ':'";
    }
    if (!is_name && strchr(text, ','))
        return "contains a comma (a claim's values are separated by commas: require each one separately)";
    if (!is_name && (text[0] == ' ' || text[n - 1] == ' '))
        return "starts or ends with a space";
    return NULL;
}

/* An attribute exactly as written (sg_xml_attr drops white space, which would turn a wrong name
 * into a right one). */
static const char *raw_attr(xmlNodePtr n, const char *name, apr_pool_t *pool)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    const char *s = v ? apr_pstrdup(pool, (const char *)v) : NULL;
    xmlFree(v);
    return s;
}

/* One <require role="..."/> or <require claim="..." value="..."/>: known roles only, no repeats. */
static void read_require(doc_reader_t *r, xmlNodePtr q)
{
    stp_doc_t *c = &r->d->cat;
    int line = xmlGetLineNo(q);
    const char *role = raw_attr(q, "role", r->pool), *claim = raw_attr(q, "claim", r->pool),
               *value = raw_attr(q, "value", r->pool), *problem;
    stp_require_t req = {role ? STP_REQUIRE_ROLE : STP_REQUIRE_CLAIM, role ? role : claim, role ? "" : value};
    if (!req.name || !req.value) {
        sg_error(r->errs, r->path, line, "<require> needs role=\"tenant-admin\", or claim and value");
        return;
    }
    if (role && strcmp(role, "tenant-admin")) {
        sg_error(r->errs, r->path, line, "unknown role '%s' in <require>; the only role is tenant-admin", role);
        return;
    }
    if (!role && (problem = require_problem(claim, 1))) {
        sg_error(r->errs, r->path, line, "claim name '%s' in <require> %s", claim, problem);
        return;
    }
    if (!role && (problem = require_problem(value, 0))) {
        sg_error(r->errs, r->path, line, "value of claim '%s' in <require> %s", claim, problem);
        return;
    }
    if (!role && sg_xml_check_bidi(value, "claim value", q, r->path, r->errs))
        return;
    for (int i = 0; i < c->requires->nelts; i++) {
        const stp_require_t *o = &APR_ARRAY_IDX(c->requires, i, stp_require_t);
        if (o->kind == req.kind && !strcmp(o->name, req.name) && !strcmp(o->value, req.value)) {
            sg_error(r->errs, r->path, line, "the same <require> twice");
            return;
        }
    }
    APR_ARRAY_PUSH(c->requires, stp_require_t) = req;
}

static void read_access(doc_reader_t *r, xmlNodePtr n)
{
    stp_doc_t *c = &r->d->cat;
    const char *nda = sg_xml_token_attr(n, "nda", r->pool);
    if (stp_catalog_access_parse(&c->access, sg_xml_token_attr(n, "level", r->pool)) != APR_SUCCESS)
        sg_error(r->errs, r->path, xmlGetLineNo(n), "unknown access level");
    c->nda = nda && (!strcmp(nda, "true") || !strcmp(nda, "1"));
    ref_list(&c->tenants, n, "tenant", r->site->tenant_index, "tenant", r->path, r->errs, r->pool);
    for (xmlNodePtr q = n->children; q; q = q->next) {
        if (!sg_xml_is_elem(q, "require"))
            continue;
        /* Anyone downloads a public document without signing in: there is nobody to check. */
        if (c->access == STP_ACCESS_PUBLIC) {
            sg_error(r->errs, r->path, xmlGetLineNo(q),
                     "a public document cannot have <require>: requirements need a signed-in reader; use "
                     "level=\"signin\" (or nda, tenant) or remove the <require>");
            return;
        }
        read_require(r, q);
    }
}

/* One <file>: its locale (the default one without xml:lang), at most one per locale. */
static void read_file(doc_reader_t *r, xmlNodePtr f)
{
    const sg_site_t *site = r->site;
    sg_doc_t *d = r->d;
    const char *lang = sg_xml_node_lang(f, r->pool);
    const char *href = sg_xml_attr(f, "href", r->pool);
    const char *type = sg_xml_token_attr(f, "type", r->pool);
    sg_xml_check_bidi(href, "file name", f, r->path, r->errs);
    if (!site->locale_index) {
        /* site.xml is broken (reported): locales cannot be judged, only read */
        lang = lang ? lang : "";
    } else if (!lang || !strcmp(lang, site->default_locale)) {
        lang = site->default_locale;
        r->has_default_file = 1;
    }
    if (site->locale_index && !sg_site_locale(site, lang)) {
        sg_error(r->errs, r->path, xmlGetLineNo(f), "file in undeclared locale '%s'", lang);
        return;
    }
    int dup = 0;
    for (int i = 0; i < d->srcfiles->nelts; i++)
        dup |= !strcmp(APR_ARRAY_IDX(d->srcfiles, i, sg_srcfile_t).file.lang, lang);
    if (dup && site->locale_index) {
        sg_error(r->errs, r->path, xmlGetLineNo(f), "two files for locale '%s'", lang);
        return;
    }
    sg_srcfile_t *sf = &APR_ARRAY_PUSH(d->srcfiles, sg_srcfile_t);
    const char *base = strrchr(href, '/');
    sf->src = href; /* made absolute once the folder is known */
    sf->line = xmlGetLineNo(f);
    sf->file.lang = lang;
    sf->file.name = base ? base + 1 : href;
    sf->file.path = stp_paths_file(d->cat.id, href, r->pool);
    sf->file.media_type = type ? type : media_type_of(href);
    APR_ARRAY_PUSH(d->cat.files, stp_file_t) = sf->file;
}

static void read_files(doc_reader_t *r, xmlNodePtr n)
{
    for (xmlNodePtr f = n->children; f; f = f->next)
        if (sg_xml_is_elem(f, "file"))
            read_file(r, f);
    if (!r->has_default_file && r->site->locale_index)
        sg_error(r->errs, r->path, xmlGetLineNo(n), "no file for the default locale '%s' (a <file> without xml:lang)",
                 r->site->default_locale);
}

/* One child element of <document>. */
static void read_element(doc_reader_t *r, xmlNodePtr n)
{
    const sg_site_t *site = r->site;
    stp_doc_t *c = &r->d->cat;
    if (sg_xml_is_elem(n, "published"))
        read_published(r, n);
    else if (sg_xml_is_elem(n, "tile"))
        read_tile(r, n);
    else if (sg_xml_is_elem(n, "access"))
        read_access(r, n);
    else if (sg_xml_is_elem(n, "title"))
        sg_xml_add_text(c->titles, n, site, r->path, r->errs, r->pool);
    else if (sg_xml_is_elem(n, "summary"))
        sg_xml_add_text(c->summaries, n, site, r->path, r->errs, r->pool);
    else if (sg_xml_is_elem(n, "change"))
        sg_xml_add_text(c->changes, n, site, r->path, r->errs, r->pool);
    else if (sg_xml_is_elem(n, "services"))
        ref_list(&c->services, n, "service", site->service_index, "service", r->path, r->errs, r->pool);
    else if (sg_xml_is_elem(n, "regions"))
        ref_list(&c->regions, n, "region", site->region_index, "region", r->path, r->errs, r->pool);
    else if (sg_xml_is_elem(n, "industries"))
        ref_list(&c->industries, n, "industry", site->industry_index, "industry", r->path, r->errs, r->pool);
    else if (sg_xml_is_elem(n, "files"))
        read_files(r, n);
    else if (sg_xml_is_elem(n, "draft"))
        r->d->draft = 1;
    else
        sg_validity_read(c, n, r->path, r->errs, r->pool);
}

/* Builds the document model from a schema-valid doc.xml. */
static sg_doc_t *doc_from_xml(const sg_site_t *site, xmlDocPtr xml, const char *path, sg_errors_t *errs,
                              apr_pool_t *pool)
{
    xmlNodePtr root = xmlDocGetRootElement(xml);
    doc_reader_t r = {site, doc_make(root, path, pool), path, NULL, 0, errs, pool};
    stp_doc_t *c = &r.d->cat;
    for (xmlNodePtr n = root->children; n; n = n->next)
        if (n->type == XML_ELEMENT_NODE)
            read_element(&r, n);
    sg_xml_need_default(c->titles, "title", root, site, path, errs);
    sg_xml_need_default(c->summaries, "summary", root, site, path, errs);
    if (c->access != STP_ACCESS_TENANT)
        c->tenants->nelts = 0;
    if (!c->series)
        c->series = c->id;
    if (!c->version)
        c->version = r.published ? r.published : "";
    return r.d;
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
    } else if (root && sg_xml_is_elem(root, "document") && xmlHasProp(root, (const xmlChar *)"id")) {
        d = doc_from_xml(site, xml, path, errs, pool);
    } else {
        sg_error(errs, path, 1, "the root element must be <document id=\"...\">");
    }
    if (d)
        d->line = root ? xmlGetLineNo(root) : 1;
    xmlFreeDoc(xml);
    return d;
}

/* --- a document folder ----------------------------------------------------------------------- */

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
    for (int i = 0; i < d->images->nelts; i++) { /* the pages show them by these names */
        sg_fp_str(&fp, APR_ARRAY_IDX(d->images, i, sg_image_t).rel);
        sg_fp_str(&fp, APR_ARRAY_IDX(d->images, i, sg_image_t).name);
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

/* Reads and parses the doc.xml of the folder open as dfd; NULL after recording errors. */
static sg_doc_t *read_doc_xml(char **data, apr_size_t *len, const sg_site_t *site, int dfd, const char *path,
                              sg_errors_t *errs, apr_pool_t *pool)
{
    int fd = sg_openat_nofollow(dfd, "doc.xml", 0, NULL);
    if (fd < 0 || sg_fd_read(data, len, fd, pool) != APR_SUCCESS) {
        sg_error(errs, path, 1, "%s",
                 fd < 0 && errno == ELOOP ? SG_LINK_REFUSED : "document folder has no readable doc.xml");
        return NULL;
    }
    return sg_doc_parse(site, *data, *len, path, errs, pool);
}

/* Bodies: <lang>.md for declared locales; the default locale's is required. */
static void load_bodies(sg_doc_t *d, const sg_site_t *site, int dfd, sg_errors_t *errs, apr_pool_t *pool)
{
    listing_t names = list_dir(dfd, pool);
    for (int i = 0; i < names.links->nelts; i++) {
        const char *name = APR_ARRAY_IDX(names.links, i, const char *);
        if (is_body_name(name))
            sg_error(errs, apr_pstrcat(pool, d->dir, "/", name, NULL), 1, "%s", SG_LINK_REFUSED);
    }
    for (int i = 0; i < names.others->nelts; i++) {
        const char *name = APR_ARRAY_IDX(names.others, i, const char *);
        if (!is_body_name(name))
            continue;
        const char *lang = apr_pstrmemdup(pool, name, strlen(name) - 3);
        const char *body = apr_pstrcat(pool, d->dir, "/", name, NULL);
        if (site->locale_index && !sg_site_locale(site, lang)) {
            sg_error(errs, body, 1, "body for undeclared locale '%s'", lang);
            continue;
        }
        char *md;
        apr_size_t mdlen;
        int fd;
        if ((fd = sg_openat_nofollow(dfd, name, 0, NULL)) < 0 || sg_fd_read(&md, &mdlen, fd, pool) != APR_SUCCESS) {
            sg_error(errs, body, 1, "%s", fd < 0 && errno == ELOOP ? SG_LINK_REFUSED : "cannot read the body");
            continue;
        }
        int line;
        const char *bad = sg_utf8_text(&md, &mdlen, &line, pool);
        if (bad) /* still kept: "missing body" would only repeat it */
            sg_error(errs, body, line, "%s", bad);
        apr_hash_set(d->bodies, lang, APR_HASH_KEY_STRING, md);
    }
    if (site->locale_index && !apr_hash_get(d->bodies, site->default_locale, APR_HASH_KEY_STRING))
        sg_error(errs, d->xml_path, d->line, "missing body %s.md for the default locale", site->default_locale);
}

/* Files: inside the folder, present, no links, hashed. */
static void hash_files(sg_doc_t *d, int dfd, sg_errors_t *errs, apr_pool_t *pool)
{
    for (int i = 0; i < d->srcfiles->nelts; i++) {
        sg_srcfile_t *sf = &APR_ARRAY_IDX(d->srcfiles, i, sg_srcfile_t);
        int fd;
        const char *problem = sg_path_open(&fd, dfd, sf->src, pool);
        if (problem) {
            sg_error(errs, d->xml_path, sf->line, "%s", problem);
            continue;
        }
        sf->src = apr_pstrcat(pool, d->dir, "/", sf->src, NULL);
        if (sg_fd_sha256(sf->file.sha256, &sf->file.size, fd) != APR_SUCCESS) {
            sg_error(errs, d->xml_path, sf->line, "cannot read file '%s'", sf->src);
            continue;
        }
        APR_ARRAY_IDX(d->cat.files, i, stp_file_t) = sf->file;
    }
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
    sg_doc_t *d = read_doc_xml(&data, &len, site, dfd, path, errs, pool);
    if (!d) {
        close(dfd);
        return NULL;
    }
    d->root = site->content_dir;
    d->dir = dir;
    if (strcmp(d->cat.id, folder))
        sg_error(errs, path, d->line, "document id '%s' does not match its folder name '%s'", d->cat.id, folder);
    load_bodies(d, site, dfd, errs, pool);
    hash_files(d, dfd, errs, pool);
    sg_media_check(d, dfd, errs, pool);
    close(dfd);
    doc_fingerprint(d, data, len, pool);
    return d;
}

/* --- every folder, in parallel --------------------------------------------------------------- */

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

void sg_docload_all(sg_site_t *site, sg_cache_notes_t *notes, int jobs, apr_hash_t *cache, const char *salt,
                    sg_errors_t *errs, apr_pool_t *pool)
{
    /* The docs folder and each document folder must be real folders: a link there would bring in
     * a tree from anywhere. */
    const char *docs_dir = apr_pstrcat(pool, site->content_dir, "/docs", NULL);
    int docs_fd = sg_open_beneath(site->content_dir, "docs", 1, NULL);
    if (docs_fd < 0 && errno == ELOOP)
        sg_error(errs, docs_dir, 1, "%s", SG_LINK_REFUSED);
    listing_t entries = list_dir(docs_fd, pool);
    for (int i = 0; i < entries.links->nelts; i++)
        sg_error(errs, apr_pstrcat(pool, docs_dir, "/", APR_ARRAY_IDX(entries.links, i, const char *), NULL), 1, "%s",
                 SG_LINK_REFUSED);
    load_docs(site, notes, docs_fd, entries.dirs, jobs, cache, salt, errs, pool);
    if (docs_fd >= 0)
        close(docs_fd);
}
