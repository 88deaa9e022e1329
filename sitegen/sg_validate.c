#include "sg_validate.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <libxml/parser.h>

#include "sg_explain.h"

struct sg_schema_t {
    xmlRelaxNGPtr rng;
    sg_explainer_t *explainer; /* NULL: only the validator's messages, translated */
    apr_pool_t *pool;
};

typedef struct {
    sg_errors_t *errs;
    const char *path;
    int count;
    int parsing; /* a content file (else the schema) */
} err_sink_t;

/* A libxml2 message without its newline: content editors get one line each. */
static const char *one_line(apr_pool_t *pool, const char *message)
{
    char *msg = apr_pstrdup(pool, message ? message : "invalid XML");
    apr_size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    return msg;
}

/* The parser's message in the editor's words. */
static const char *parse_words(const xmlError *e, apr_pool_t *pool)
{
    const char *msg = one_line(pool, e->message);
    switch (e->code) {
    case XML_ERR_NAME_REQUIRED:
    case XML_ERR_ENTITYREF_SEMICOL_MISSING:
        if (strstr(msg, "EntityRef"))
            return "a bare & is not allowed in XML: write &amp; (as in R&amp;D)";
        if (strstr(msg, "StartTag"))
            return "a bare < is not allowed in XML: write &lt;";
        return msg;
    case XML_ERR_UNDECLARED_ENTITY:
    case XML_WAR_UNDECLARED_ENTITY:
        return apr_psprintf(pool,
                            "unknown entity &%s;: XML knows only &amp; &lt; &gt; &quot; &apos; (write the character "
                            "itself, such as a non-breaking space, or &amp; for a bare &)",
                            e->str1 ? e->str1 : "...");
    case XML_ERR_TAG_NAME_MISMATCH:
        return e->str1 && e->str2
                   ? apr_psprintf(pool, "<%s> opened on line %d is closed by </%s>; the names must be the same",
                                  e->str1, e->int1, e->str2)
                   : msg;
    case XML_ERR_LT_IN_ATTRIBUTE:
        return "a < is not allowed in an attribute value: write &lt;";
    case XML_ERR_ATTRIBUTE_WITHOUT_VALUE:
    case XML_ERR_ATTRIBUTE_NOT_STARTED:
        return "an attribute value must be in quotes, as in id=\"x\"";
    case XML_ERR_DOCUMENT_EMPTY:
        return "the file is empty";
    default:
        return msg;
    }
}

/* A schema that does not load is the installation's problem: its messages go out as they are. */
static void on_error(void *data, xmlErrorPtr e)
{
    err_sink_t *sink = data;
    /* After the first mistake the parser's view of the file is off: what follows is noise. */
    if (sink->count && sink->parsing)
        return;
    sg_error(sink->errs, sink->path, e->line, "%s",
             sink->parsing ? parse_words(e, sink->errs->pool) : one_line(sink->errs->pool, e->message));
    sink->count++;
}

static apr_status_t schema_cleanup(void *data)
{
    xmlRelaxNGFree(data);
    return APR_SUCCESS;
}

sg_schema_t *sg_schema_load(const char *path, sg_errors_t *errs, apr_pool_t *pool)
{
    err_sink_t sink = {errs, path, 0, 0};
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
    schema->explainer = sg_explainer_load(path, pool);
    schema->pool = pool;
    apr_pool_cleanup_register(pool, rng, schema_cleanup, apr_pool_cleanup_null);
    return schema;
}

/* One message of the validator, kept until it is known whether the explainer has better words. */
typedef struct {
    int code, line;
    const char *str1, *str2, *msg;
} rng_msg_t;

typedef struct {
    apr_array_header_t *msgs; /* rng_msg_t */
    apr_pool_t *pool;
} rng_sink_t;

static const char *dup_or_null(apr_pool_t *pool, const char *s)
{
    return s ? apr_pstrdup(pool, s) : NULL;
}

static void on_rng_error(void *data, xmlErrorPtr e)
{
    rng_sink_t *sink = data;
    rng_msg_t *m = &APR_ARRAY_PUSH(sink->msgs, rng_msg_t);
    const char *msg = one_line(sink->pool, e->message ? e->message : "does not match its schema");
    m->code = e->code;
    m->line = e->line;
    m->str1 = dup_or_null(sink->pool, e->str1);
    m->str2 = dup_or_null(sink->pool, e->str2);
    m->msg = msg;
}

/* The validator's message in the editor's words, or NULL for a follow-up that says nothing new
 * ("failed to validate content" after the reason was given). */
static const char *rng_words(const rng_msg_t *m, int alone, apr_pool_t *pool)
{
    switch (m->code) {
    case XML_RELAXNG_ERR_NOELEM:
        return m->str1 ? apr_psprintf(pool, "missing <%s>", m->str1) : m->msg;
    case XML_RELAXNG_ERR_ELEMNAME:
    case XML_RELAXNG_ERR_ELEMWRONG:
        return m->str1 && m->str2 ? apr_psprintf(pool, "<%s> is not allowed here; expected <%s>", m->str2, m->str1)
                                  : m->msg;
    case XML_RELAXNG_ERR_EXTRACONTENT:
    case XML_RELAXNG_ERR_ELEMEXTRANS:
        return m->str1 ? apr_psprintf(pool, "<%s> has content that is not allowed there", m->str1) : m->msg;
    case XML_RELAXNG_ERR_INVALIDATTR:
        return m->str1 && m->str2
                   ? apr_psprintf(pool, "attribute %s is not allowed on <%s> or its value is wrong", m->str1, m->str2)
                   : m->msg;
    case XML_RELAXNG_ERR_DATATYPE:
    case XML_RELAXNG_ERR_DATAELEM:
    case XML_RELAXNG_ERR_VALUE:
    case XML_RELAXNG_ERR_LIST:
        return m->str1 ? apr_psprintf(pool, "a value is not a valid %s", m->str1) : m->msg;
    case XML_RELAXNG_ERR_CONTENTVALID:
    case XML_RELAXNG_ERR_ATTRVALID:
    case XML_RELAXNG_ERR_INTERSEQ:
    case XML_RELAXNG_ERR_INTEREXTRA:
    case XML_RELAXNG_ERR_INTERNODATA:
        return alone ? "does not match its schema (see docs/content-format.md)" : NULL;
    default:
        return m->msg;
    }
}

int sg_schema_validate(sg_schema_t *schema, xmlDocPtr doc, const char *path, sg_errors_t *errs)
{
    rng_sink_t sink = {apr_array_make(errs->pool, 8, sizeof(rng_msg_t)), errs->pool};
    xmlRelaxNGValidCtxtPtr v = xmlRelaxNGNewValidCtxt(schema->rng);
    if (!v) {
        sg_error(errs, path, 0, "out of memory while validating");
        return 1;
    }
    xmlRelaxNGSetValidStructuredErrors(v, (xmlStructuredErrorFunc)on_rng_error, &sink);
    int rc = xmlRelaxNGValidateDoc(v, doc);
    xmlRelaxNGFreeValidCtxt(v);
    if (rc == 0)
        return 0; /* the validator is the judge: the explainer only words its verdict */
    int count = sg_explain(schema->explainer, doc, path, errs);
    if (count)
        return count;
    /* A problem the explainer cannot name: the validator's own messages, worded as well as may be. */
    int real = 0;
    for (int i = 0; i < sink.msgs->nelts; i++)
        real += rng_words(&APR_ARRAY_IDX(sink.msgs, i, rng_msg_t), 0, errs->pool) != NULL;
    for (int i = 0; i < sink.msgs->nelts; i++) {
        const rng_msg_t *m = &APR_ARRAY_IDX(sink.msgs, i, rng_msg_t);
        const char *words = rng_words(m, real == 0 && count == 0, errs->pool);
        if (words) {
            sg_error(errs, path, m->line, "%s", words);
            count++;
        }
    }
    if (!count) {
        sg_error(errs, path, 0, "does not match its schema (see docs/content-format.md)");
        count = 1;
    }
    return count;
}

xmlDocPtr sg_xml_parse(const char *data, apr_size_t len, const char *path, sg_errors_t *errs)
{
    err_sink_t sink = {errs, path, 0, 1};
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

    /* A path copied from Windows: say what to type instead. */
    if (((rel[0] >= 'A' && rel[0] <= 'Z') || (rel[0] >= 'a' && rel[0] <= 'z')) && rel[1] == ':')
        return apr_psprintf(
            pool,
            "file '%s' is a Windows path: give its path inside the document folder, with / (such as de/report.pdf)",
            rel);
    if (strchr(rel, '\\'))
        return apr_psprintf(pool, "file '%s': use / instead of \\ in paths (such as de/report.pdf)", rel);
    if (!*rel || rel[0] == '/')
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
