#include "sg_validate.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <libxml/parser.h>

struct sg_schema_t {
    xmlRelaxNGPtr rng;
    apr_pool_t *pool;
};

typedef struct {
    sg_errors_t *errs;
    const char *path;
    int count;
} err_sink_t;

/* libxml2 messages end with a newline; content editors get one line each. */
static void on_error(void *data, xmlErrorPtr e)
{
    err_sink_t *sink = data;
    char *msg = apr_pstrdup(sink->errs->pool, e->message ? e->message : "invalid XML");
    apr_size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    sg_error(sink->errs, sink->path, e->line, "%s", msg);
    sink->count++;
}

static apr_status_t schema_cleanup(void *data)
{
    xmlRelaxNGFree(data);
    return APR_SUCCESS;
}

sg_schema_t *sg_schema_load(const char *path, sg_errors_t *errs, apr_pool_t *pool)
{
    err_sink_t sink = {errs, path, 0};
    xmlRelaxNGParserCtxtPtr pctxt = xmlRelaxNGNewParserCtxt(path);
    sg_schema_t *schema;
    if (!pctxt)
        return NULL;
    xmlRelaxNGSetParserStructuredErrors(pctxt, (xmlStructuredErrorFunc)on_error, &sink);
    xmlRelaxNGPtr rng = xmlRelaxNGParse(pctxt);
    xmlRelaxNGFreeParserCtxt(pctxt);
    if (!rng) {
        if (!sink.count)
            sg_error(errs, path, 0, "cannot load the schema");
        return NULL;
    }
    schema = apr_pcalloc(pool, sizeof *schema);
    schema->rng = rng;
    schema->pool = pool;
    apr_pool_cleanup_register(pool, rng, schema_cleanup, apr_pool_cleanup_null);
    return schema;
}

int sg_schema_validate(sg_schema_t *schema, xmlDocPtr doc, const char *path, sg_errors_t *errs)
{
    err_sink_t sink = {errs, path, 0};
    xmlRelaxNGValidCtxtPtr v = xmlRelaxNGNewValidCtxt(schema->rng);
    if (!v) {
        sg_error(errs, path, 0, "out of memory while validating");
        return 1;
    }
    xmlRelaxNGSetValidStructuredErrors(v, (xmlStructuredErrorFunc)on_error, &sink);
    int rc = xmlRelaxNGValidateDoc(v, doc);
    xmlRelaxNGFreeValidCtxt(v);
    if (rc != 0 && sink.count == 0) {
        sg_error(errs, path, 0, "does not match its schema");
        sink.count = 1;
    }
    return sink.count;
}

xmlDocPtr sg_xml_parse(const char *data, apr_size_t len, const char *path, sg_errors_t *errs)
{
    err_sink_t sink = {errs, path, 0};
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    xmlDocPtr doc;
    if (!ctxt) {
        sg_error(errs, path, 0, "out of memory while parsing");
        return NULL;
    }
    /* libxml2 2.9 keeps the structured handler per thread. */
    xmlSetStructuredErrorFunc(&sink, on_error);
    if (len > INT_MAX) {
        xmlSetStructuredErrorFunc(NULL, NULL);
        xmlFreeParserCtxt(ctxt);
        sg_error(errs, path, 0, "file too large");
        return NULL;
    }
    doc = xmlCtxtReadMemory(ctxt, data, (int)len, path, NULL, XML_PARSE_NONET | XML_PARSE_NOCDATA);
    xmlSetStructuredErrorFunc(NULL, NULL);
    xmlFreeParserCtxt(ctxt);
    if (doc && sink.count) {
        xmlFreeDoc(doc);
        doc = NULL;
    }
    if (!doc && !sink.count)
        sg_error(errs, path, 0, "not well-formed XML");
    if (doc && doc->intSubset) {
        /* A DTD could smuggle entities in: content files have no business declaring one. */
        const char *at = memmem(data, len, "<!DOCTYPE", 9);
        int line = 1;
        for (const char *c = data; at && c < at; c++)
            line += *c == '\n';
        sg_error(errs, path, line, "a DOCTYPE declaration is not allowed");
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

const char *sg_path_open(int *fd, int dirfd, const char *rel, apr_pool_t *pool)
{
    const char *p;
    apr_size_t bad = 0;

    if (!*rel || rel[0] == '/' || strchr(rel, '\\'))
        return apr_psprintf(pool, "file '%s' must be a relative path inside the document folder", rel);
    for (p = rel; *p;) {
        size_t seg = strcspn(p, "/");
        if ((seg == 2 && !strncmp(p, "..", 2)) || (seg == 1 && *p == '.') || seg == 0)
            return apr_psprintf(pool, "file '%s' leaves the document folder or is not a plain path", rel);
        p += seg;
        if (*p == '/')
            p++;
    }
    if ((*fd = sg_openat_nofollow(dirfd, rel, 0, &bad)) >= 0)
        return NULL;
    if (errno == ELOOP && bad >= strlen(rel))
        return apr_psprintf(pool, "file '%s' is a symbolic link; %s", rel, SG_LINK_REFUSED);
    if (errno == ELOOP)
        return apr_psprintf(pool, "file '%s' goes through the symbolic link '%s'; %s", rel,
                            apr_pstrmemdup(pool, rel, bad), SG_LINK_REFUSED);
    if (errno == EINVAL)
        return apr_psprintf(pool, "file '%s' is not a regular file", rel);
    if (errno == ENOENT || errno == ENOTDIR)
        return apr_psprintf(pool, "file '%s' does not exist", rel);
    return apr_psprintf(pool, "cannot read file '%s': %s", rel, strerror(errno));
}
