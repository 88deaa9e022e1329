#include "stp_view.h"

#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <libxml/HTMLparser.h>
#include <libxml/HTMLtree.h>
#include <libxml/parserInternals.h>
#include <libxml/xpathInternals.h>
#include <libxslt/extensions.h>
#include <libxslt/imports.h>
#include <libxslt/security.h>
#include <libxslt/transform.h>
#include <libxslt/xsltInternals.h>
#include <libxslt/xsltutils.h>

struct stp_view_t {
    xsltStylesheetPtr style;
    xsltSecurityPrefsPtr sec;
    int html; /* output method html, UTF-8, not indented: serialized by html_dump() */
    /* HTML fragments parsed once (stp_view_add_html), read-only once here; never evicted, so that
     * a document stays while the view does. */
    apr_thread_mutex_t *lock;
    struct {
        char *html; /* malloc'd: the view's pool is not for other threads */
        xmlDocPtr doc;
    } frags[8];
    int nfrags;
    /* Items kept (stp_view_keep): key -> stp_view_item_t, both in `kept_pool`, which only ever
     * allocates under the lock (the view's own pool is not for other threads). */
    apr_pool_t *kept_pool;
    apr_hash_t *kept;
    apr_size_t kept_bytes;
    /* Frames (stp_view_render_framed): key -> frame_t, in `kept_pool` too, with a budget of their
     * own. The placeholders carry a random mark of this view, which no input can guess. */
    apr_hash_t *frames;
    apr_size_t frames_bytes;
    char mark[17];
    char slots[STP_VIEW_SLOTS + 1][3 + 16 + 1 + 3 + 1]; /* the last one: where the items go */
};

/* A placeholder: U+E000, the view's mark, the slot ('0'.. or 'I' for the items), U+E001. */
#define SLOT_LEAD "\xEE\x80\x80"
#define SLOT_END "\xEE\x80\x81"
#define SLOT_LEN (3 + 16 + 1 + 3)

typedef struct {
    const char *html;
    apr_size_t len;
} frame_t;

typedef struct {
    stp_view_msg_fn *msg;
    void *baton;
} msg_ctx_t;

static apr_status_t view_cleanup(void *data)
{
    stp_view_t *v = data;
    for (int i = 0; i < v->nfrags; i++) {
        free(v->frags[i].html);
        xmlFreeDoc(v->frags[i].doc);
    }
    v->nfrags = 0;
    if (v->kept_pool)
        apr_pool_destroy(v->kept_pool);
    v->kept_pool = NULL;
    v->kept = NULL;
    if (v->style)
        xsltFreeStylesheet(v->style);
    if (v->sec)
        xsltFreeSecurityPrefs(v->sec);
    v->style = NULL;
    v->sec = NULL;
    return APR_SUCCESS;
}

apr_status_t stp_view_open(stp_view_t **view, const char *path, const char **err, apr_pool_t *pool)
{
    stp_view_t *v = apr_pcalloc(pool, sizeof *v);
    apr_pool_cleanup_register(pool, v, view_cleanup, apr_pool_cleanup_null);
    v->style = xsltParseStylesheetFile((const xmlChar *)path);
    if (!v->style || v->style->errors) {
        *err = apr_pstrcat(pool, path, ": the stylesheet does not compile", NULL);
        return APR_EGENERAL;
    }
    /* Templates transform; they never write files or reach the network, nor read files at run time. */
    v->sec = xsltNewSecurityPrefs();
    if (!v->sec) {
        *err = "out of memory";
        return APR_ENOMEM;
    }
    xsltSetSecurityPrefs(v->sec, XSLT_SECPREF_WRITE_FILE, xsltSecurityForbid);
    xsltSetSecurityPrefs(v->sec, XSLT_SECPREF_CREATE_DIRECTORY, xsltSecurityForbid);
    xsltSetSecurityPrefs(v->sec, XSLT_SECPREF_WRITE_NETWORK, xsltSecurityForbid);
    xsltSetSecurityPrefs(v->sec, XSLT_SECPREF_READ_NETWORK, xsltSecurityForbid);
    xsltSetSecurityPrefs(v->sec, XSLT_SECPREF_READ_FILE, xsltSecurityForbid);
    if (apr_thread_mutex_create(&v->lock, APR_THREAD_MUTEX_DEFAULT, pool) != APR_SUCCESS) {
        *err = "cannot create a lock";
        return APR_EGENERAL;
    }
    if (apr_pool_create_unmanaged_ex(&v->kept_pool, NULL, NULL) != APR_SUCCESS) {
        *err = "out of memory";
        return APR_ENOMEM;
    }
    v->kept = apr_hash_make(v->kept_pool);
    v->frames = apr_hash_make(v->kept_pool);
    unsigned char rnd[8];
    if (apr_generate_random_bytes(rnd, sizeof rnd) != APR_SUCCESS) {
        *err = "no random bytes";
        return APR_EGENERAL;
    }
    for (int i = 0; i < 8; i++)
        apr_snprintf(v->mark + 2 * i, 3, "%02x", rnd[i]);
    for (int i = 0; i <= STP_VIEW_SLOTS; i++)
        apr_snprintf(v->slots[i], sizeof v->slots[i], SLOT_LEAD "%s%c" SLOT_END, v->mark,
                     i < STP_VIEW_SLOTS ? '0' + i : 'I');
    /* What xsltSaveResultTo() would do with the result: html_dump() takes over only its HTML
     * method without indentation (and its default encoding, UTF-8). */
    const xmlChar *method, *encoding;
    int indent;
    XSLT_GET_IMPORT_PTR(method, v->style, method)
    XSLT_GET_IMPORT_PTR(encoding, v->style, encoding)
    XSLT_GET_IMPORT_INT(indent, v->style, indent)
    v->html = !v->style->methodURI && method && !strcmp((const char *)method, "html") && indent == 0 &&
              (!encoding || !xmlStrcasecmp(encoding, (const xmlChar *)"UTF-8"));
    *view = v;
    return APR_SUCCESS;
}

static xmlDocPtr parse_html(const char *html)
{
    return htmlReadMemory(html, (int)strlen(html), NULL, "UTF-8",
                          HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING);
}

void stp_view_add_html(const stp_view_t *view, xmlNodePtr parent, const char *html)
{
    stp_view_t *v = (stp_view_t *)view; /* only its fragment cache changes, under its lock */
    xmlDocPtr frag = NULL;
    int cached = 0;
    if (v) {
        apr_thread_mutex_lock(v->lock);
        for (int i = 0; i < v->nfrags && !frag; i++)
            if (!strcmp(v->frags[i].html, html))
                frag = v->frags[i].doc;
        apr_thread_mutex_unlock(v->lock);
        cached = frag != NULL;
    }
    if (!frag && (frag = parse_html(html)) != NULL && v) {
        /* Kept when there is room (another thread may have kept the same text meanwhile). */
        char *copy = strdup(html);
        apr_thread_mutex_lock(v->lock);
        if (copy && v->nfrags < (int)(sizeof v->frags / sizeof *v->frags)) {
            v->frags[v->nfrags].html = copy;
            v->frags[v->nfrags].doc = frag;
            v->nfrags++;
            cached = 1;
            copy = NULL;
        }
        apr_thread_mutex_unlock(v->lock);
        free(copy);
    }
    /* The children of its <body>, copied: the fragment itself is only read. */
    xmlNodePtr root = frag ? xmlDocGetRootElement(frag) : NULL;
    xmlNodePtr body = root ? root->children : NULL;
    while (body && (body->type != XML_ELEMENT_NODE || strcmp((const char *)body->name, "body")))
        body = body->next;
    for (xmlNodePtr n = body ? body->children : NULL; n; n = n->next)
        xmlAddChild(parent, xmlDocCopyNode(n, parent->doc, 1));
    if (frag && !cached)
        xmlFreeDoc(frag);
}

int stp_view_kept_get(const stp_view_t *view, const char *const *keys, int n, stp_view_item_t *found)
{
    stp_view_t *v = (stp_view_t *)view; /* only its kept items change, under its lock */
    int hits = 0;
    apr_thread_mutex_lock(v->lock);
    for (int i = 0; i < n; i++) {
        const stp_view_item_t *it = apr_hash_get(v->kept, keys[i], APR_HASH_KEY_STRING);
        found[i].html = it ? it->html : NULL;
        found[i].len = it ? it->len : 0;
        hits += it != NULL;
    }
    apr_thread_mutex_unlock(v->lock);
    return hits;
}

void stp_view_keep(const stp_view_t *view, const char *key, const stp_view_item_t *item)
{
    stp_view_t *v = (stp_view_t *)view;
    apr_size_t kl = strlen(key);
    apr_thread_mutex_lock(v->lock);
    if (!apr_hash_get(v->kept, key, (apr_ssize_t)kl) && v->kept_bytes + kl + item->len <= STP_VIEW_KEEP_MAX) {
        stp_view_item_t *it = apr_palloc(v->kept_pool, sizeof *it);
        it->html = apr_pmemdup(v->kept_pool, item->html, item->len);
        it->len = item->len;
        apr_hash_set(v->kept, apr_pstrmemdup(v->kept_pool, key, kl), (apr_ssize_t)kl, it);
        v->kept_bytes += kl + item->len;
    }
    apr_thread_mutex_unlock(v->lock);
}

const char *stp_view_fill(const char *msg, const char *name, const char *value, apr_pool_t *pool)
{
    const char *tag = apr_pstrcat(pool, "{", name, "}", NULL);
    const char *at = strstr(msg, tag);
    if (!at)
        return msg;
    /* Every occurrence; the value itself is never searched, so it cannot bring in a {name}. */
    apr_size_t tl = strlen(tag);
    const char *out = "";
    for (; at; msg = at + tl, at = strstr(msg, tag))
        out = apr_pstrcat(pool, out, apr_pstrmemdup(pool, msg, (apr_size_t)(at - msg)), value, NULL);
    return apr_pstrcat(pool, out, msg, NULL);
}

const char *stp_view_date(const char *format, const char *month, stp_day_t day, apr_pool_t *pool)
{
    int y, m, d;
    stp_date_to_ymd(&y, &m, &d, day);
    const char *s = stp_view_fill(format, "d", apr_itoa(pool, d), pool);
    s = stp_view_fill(s, "month", month, pool);
    return stp_view_fill(s, "y", apr_itoa(pool, y), pool);
}

/* stp_view_fill on a string of libxml2's: msg (consumed) with the first {name} replaced by value.
 * No APR pool: one made per call (unmanaged, with its own allocator) cost a page with a few
 * dozen filled strings as many mmap/munmap pairs. */
static xmlChar *fill_xml(xmlChar *msg, const char *name, const char *value)
{
    size_t nl = strlen(name);
    for (const char *at = strchr((const char *)msg, '{'); at; at = strchr(at + 1, '{')) {
        if (strncmp(at + 1, name, nl) || at[1 + nl] != '}')
            continue;
        size_t pre = (size_t)(at - (const char *)msg), vl = strlen(value), rest = strlen(at + 2 + nl);
        xmlChar *out = xmlMalloc(pre + vl + rest + 1);
        if (out) {
            memcpy(out, msg, pre);
            memcpy(out + pre, value, vl);
            memcpy(out + pre + vl, at + 2 + nl, rest + 1);
        }
        xmlFree(msg);
        return out;
    }
    return msg;
}

/* stp:msg(key [, name, value]...): the caller's string with its {name}s filled in. */
static void fn_msg(xmlXPathParserContextPtr ctxt, int nargs)
{
    xsltTransformContextPtr tctxt = xsltXPathGetTransformContext(ctxt);
    msg_ctx_t *mc = tctxt ? tctxt->_private : NULL;
    if (nargs < 1 || nargs % 2 == 0 || !mc) {
        xmlXPathSetArityError(ctxt);
        return;
    }
    /* Arguments come off the stack last first; a key with up to seven names and values needs no
     * allocation for the list. */
    xmlChar *few[15], **args = nargs <= 15 ? few : xmlMalloc(sizeof(xmlChar *) * (size_t)nargs);
    if (!args) {
        xmlXPathSetError(ctxt, XPATH_MEMORY_ERROR);
        return;
    }
    for (int i = nargs - 1; i >= 0; i--)
        args[i] = xmlXPathPopString(ctxt);
    const char *msg = mc->msg(mc->baton, (const char *)args[0]);
    xmlChar *out = xmlStrdup((const xmlChar *)(msg ? msg : (const char *)args[0]));
    for (int i = 1; out && i + 1 < nargs; i += 2)
        out = fill_xml(out, (const char *)args[i], (const char *)args[i + 1]);
    xmlXPathReturnString(ctxt, out);
    for (int i = 0; i < nargs; i++)
        xmlFree(args[i]);
    if (args != few)
        xmlFree(args);
}

/* --- The HTML serializer ----------------------------------------------------------------------
 * xsltSaveResultTo() for the HTML method without indentation, byte for byte: libxml2's
 * htmlDocContentDumpFormatOutput() (HTMLtree.c) with its escaping (xmlEncodeEntitiesReentrant and
 * xmlEncodeAttributeEntities on an HTML document, xmlURIEscapeStr on URI attributes,
 * xmlBufWriteQuotedString). That one looks up every element and attribute name in lists, with a
 * case-insensitive comparison each, and allocates a string per text and attribute value: a
 * quarter of a 50-entry library page's time. This one writes straight into the request's pool.
 * A result it does not know how to write (namespaces, a DTD, other node types) is left to
 * libxml2. tests/unit/test_view.c compares both on every construct. */

typedef struct {
    char *s;
    apr_size_t len, cap;
    apr_pool_t *pool;
} out_t;

static void out_grow(out_t *o, apr_size_t n)
{
    apr_size_t cap = o->cap * 2;
    while (cap - o->len < n)
        cap *= 2;
    char *s = apr_palloc(o->pool, cap);
    memcpy(s, o->s, o->len);
    o->s = s;
    o->cap = cap;
}

static inline void out_mem(out_t *o, const char *s, apr_size_t n)
{
    if (o->cap - o->len < n)
        out_grow(o, n);
    memcpy(o->s + o->len, s, n);
    o->len += n;
}

#define OUT_LIT(o, lit) out_mem(o, lit, sizeof lit - 1)

static inline void out_str(out_t *o, const xmlChar *s)
{
    out_mem(o, (const char *)s, strlen((const char *)s));
}

/* How an escaped value is written: as it is, with " as &quot; (an attribute value that holds
 * both kinds of quote), or URI-escaped (a URI attribute, leading blanks dropped). */
enum { SINK_PLAIN, SINK_QUOT, SINK_URI };

typedef struct {
    out_t *o;
    int mode;
    int lead; /* SINK_URI: nothing but blanks written yet */
} sink_t;

/* xmlURIEscapeStr(s, "@/:=?;#%&,+<>"): the bytes that stay as they are. */
static inline int uri_plain(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    switch (c) {
    case '-':
    case '_':
    case '.':
    case '!':
    case '~':
    case '*':
    case '\'':
    case '(':
    case ')':
    case '@':
    case '/':
    case ':':
    case '=':
    case '?':
    case ';':
    case '#':
    case '%':
    case '&':
    case ',':
    case '+':
    case '<':
    case '>':
        return 1;
    default:
        return 0;
    }
}

static void sink(sink_t *k, const char *s, apr_size_t n)
{
    const char *end = s + n;
    if (k->mode == SINK_PLAIN) {
        out_mem(k->o, s, n);
        return;
    }
    while (s < end) {
        const char *run = s;
        if (k->mode == SINK_QUOT) {
            while (s < end && *s != '"')
                s++;
        } else {
            if (k->lead) {
                while (s < end && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
                    s++;
                if (s == end)
                    return;
                k->lead = 0;
                run = s;
            }
            while (s < end && uri_plain((unsigned char)*s))
                s++;
        }
        if (s > run)
            out_mem(k->o, run, (apr_size_t)(s - run));
        if (s == end)
            return;
        if (k->mode == SINK_QUOT) {
            OUT_LIT(k->o, "&quot;");
        } else {
            unsigned char c = (unsigned char)*s;
            char hex[3] = {'%', "0123456789ABCDEF"[c >> 4], "0123456789ABCDEF"[c & 15]};
            out_mem(k->o, hex, 3);
        }
        s++;
    }
}

/* Bytes xmlEncodeEntitiesInternal() copies as they are in an HTML document: all but <, >, & and
 * the control characters other than tab, line feed and carriage return (which it drops). */
static inline int plain(unsigned char c)
{
    return c >= 0x20 ? c != '<' && c != '>' && c != '&' : c == '\t' || c == '\n' || c == '\r';
}

/* xmlEncodeEntitiesInternal(an HTML document, s, attr) into k. */
static void out_escaped(sink_t *k, const xmlChar *s, int attr)
{
    const char *c = (const char *)s;
    while (*c) {
        const char *run = c, *end;
        while (*c && plain((unsigned char)*c))
            c++;
        if (c > run)
            sink(k, run, (apr_size_t)(c - run));
        if (!*c)
            break;
        if (*c == '<' && attr && c[1] == '!' && c[2] == '-' && c[3] == '-' && (end = strstr(c, "-->")) != NULL) {
            sink(k, c, (apr_size_t)(end + 3 - c)); /* a server-side include stays as it is */
            c = end + 3;
            continue;
        }
        if (*c == '&' && attr && c[1] == '{' && (end = strchr(c, '}')) != NULL) {
            sink(k, c, (apr_size_t)(end + 1 - c)); /* HTML 4's &{script}, up to the first } */
            c = end + 1;
            continue;
        }
        if (*c == '<')
            sink(k, "&lt;", 4);
        else if (*c == '>')
            sink(k, "&gt;", 4);
        else if (*c == '&')
            sink(k, "&amp;", 5);
        /* else a control character: dropped */
        c++;
    }
}

/* Whether `name` is `lit` (lower case, `len` bytes) in any case, as xmlStrcasecmp() says. */
static inline int name_is(const xmlChar *name, const char *lit, apr_size_t len)
{
    for (apr_size_t i = 0; i < len; i++)
        if ((name[i] | 0x20) != (unsigned char)lit[i] || !name[i])
            return 0;
    return !name[len];
}

#define NAME_IS(name, lit) name_is(name, lit, sizeof lit - 1)

/* An attribute whose value libxml2 writes URI-escaped. */
static int uri_attr(xmlAttrPtr a)
{
    return !a->ns && a->parent && !a->parent->ns &&
           (NAME_IS(a->name, "href") || NAME_IS(a->name, "action") || NAME_IS(a->name, "src") ||
            (NAME_IS(a->name, "name") && NAME_IS(a->parent->name, "a")));
}

/* htmlIsBooleanAttr(): written without a value. */
static int boolean_attr(const xmlChar *n)
{
    switch (n[0] | 0x20) {
    case 'c':
        return NAME_IS(n, "checked") || NAME_IS(n, "compact");
    case 'd':
        return NAME_IS(n, "declare") || NAME_IS(n, "defer") || NAME_IS(n, "disabled");
    case 'i':
        return NAME_IS(n, "ismap");
    case 'm':
        return NAME_IS(n, "multiple");
    case 'n':
        return NAME_IS(n, "nohref") || NAME_IS(n, "noresize") || NAME_IS(n, "noshade") || NAME_IS(n, "nowrap");
    case 'r':
        return NAME_IS(n, "readonly");
    case 's':
        return NAME_IS(n, "selected");
    default:
        return 0;
    }
}

/* htmlAttrDumpOutput(); 0 when the value is not plain text. */
static int out_attr(out_t *o, xmlAttrPtr a)
{
    OUT_LIT(o, " ");
    if (a->ns && a->ns->prefix) {
        out_str(o, a->ns->prefix);
        OUT_LIT(o, ":");
    }
    out_str(o, a->name);
    if (!a->children || boolean_attr(a->name))
        return 1;
    int dq = 0, sq = 0;
    for (xmlNodePtr t = a->children; t; t = t->next) {
        if ((t->type != XML_TEXT_NODE && t->type != XML_CDATA_SECTION_NODE) || !t->content)
            return 0;
        dq |= strchr((const char *)t->content, '"') != NULL;
        sq |= strchr((const char *)t->content, '\'') != NULL;
    }
    /* Escaping keeps the quotes there are, and the URI escaping of a URI attribute takes its ". */
    sink_t k = {o, SINK_PLAIN, 1};
    const char *q = "=\"";
    if (uri_attr(a))
        k.mode = SINK_URI;
    else if (dq && sq)
        k.mode = SINK_QUOT;
    else if (dq)
        q = "='";
    out_mem(o, q, 2);
    for (xmlNodePtr t = a->children; t; t = t->next)
        out_escaped(&k, t->content, 1);
    out_mem(o, q + 1, 1);
    return 1;
}

/* From libxml2's table of HTML 4 elements, the ones written without an end tag. */
static int elem_empty(const xmlChar *n)
{
    switch (n[0] | 0x20) {
    case 'a':
        return NAME_IS(n, "area");
    case 'b':
        return NAME_IS(n, "base") || NAME_IS(n, "basefont") || NAME_IS(n, "br");
    case 'c':
        return NAME_IS(n, "col");
    case 'f':
        return NAME_IS(n, "frame");
    case 'h':
        return NAME_IS(n, "hr");
    case 'i':
        return NAME_IS(n, "img") || NAME_IS(n, "input") || NAME_IS(n, "isindex");
    case 'l':
        return NAME_IS(n, "link");
    case 'm':
        return NAME_IS(n, "meta");
    case 'p':
        return NAME_IS(n, "param");
    default:
        return 0;
    }
}

/* What stands where a processing instruction stp-items is in the result (stp_view_render_spliced). */
typedef struct {
    const char *s;
    apr_size_t len;
} splice_t;

/* htmlNodeDumpFormatOutput(format 0) of `top` and what it holds, appended to `o`; 0 when it holds
 * what only libxml2 writes (the caller then lets it). */
static int dump_tree(out_t *o, xmlNodePtr top, const splice_t *splice)
{
    xmlNodePtr cur = top, parent = top->parent;
    for (;;) {
        switch (cur->type) {
        case XML_ELEMENT_NODE: {
            if (cur->ns || cur->nsDef || cur->parent != parent)
                return 0;
            OUT_LIT(o, "<");
            out_str(o, cur->name);
            for (xmlAttrPtr a = cur->properties; a; a = a->next)
                if (!out_attr(o, a))
                    return 0;
            if (elem_empty(cur->name)) {
                OUT_LIT(o, ">");
            } else if (!cur->children) {
                if (NAME_IS(cur->name, "li")) { /* its end tag may be left out, and is */
                    OUT_LIT(o, ">");
                } else {
                    OUT_LIT(o, "></");
                    out_str(o, cur->name);
                    OUT_LIT(o, ">");
                }
            } else {
                OUT_LIT(o, ">");
                parent = cur;
                cur = cur->children;
                continue;
            }
            break;
        }
        case XML_TEXT_NODE:
            if (!cur->content)
                break;
            if (cur->name != xmlStringTextNoenc &&
                (!parent->name || (!NAME_IS(parent->name, "script") && !NAME_IS(parent->name, "style")))) {
                sink_t k = {o, SINK_PLAIN, 0};
                out_escaped(&k, cur->content, 0);
            } else
                out_str(o, cur->content);
            break;
        case XML_COMMENT_NODE:
            if (cur->content) {
                OUT_LIT(o, "<!--");
                out_str(o, cur->content);
                OUT_LIT(o, "-->");
            }
            break;
        case XML_PI_NODE:
            if (splice && cur->name && !strcmp((const char *)cur->name, "stp-items")) {
                out_mem(o, splice->s, splice->len); /* only the stylesheet makes one: text cannot */
                break;
            }
            if (cur->name) {
                OUT_LIT(o, "<?");
                out_str(o, cur->name);
                if (cur->content) {
                    OUT_LIT(o, " ");
                    out_str(o, cur->content);
                }
                OUT_LIT(o, ">");
            }
            break;
        case XML_ENTITY_REF_NODE:
            OUT_LIT(o, "&");
            out_str(o, cur->name);
            OUT_LIT(o, ";");
            break;
        case XML_CDATA_SECTION_NODE:
            if (cur->content)
                out_str(o, cur->content);
            break;
        default:
            return 0;
        }
        for (;;) {
            if (cur == top)
                return 1;
            if (cur->next) {
                cur = cur->next;
                break;
            }
            cur = parent;
            parent = cur->parent;
            OUT_LIT(o, "</");
            out_str(o, cur->name);
            OUT_LIT(o, ">");
        }
    }
}

/* htmlDocContentDumpFormatOutput(format 0) of `doc` appended to `o`; 0 when `doc` holds what
 * only libxml2 writes (the caller then lets it). */
static int html_dump(out_t *o, xmlDocPtr doc, const splice_t *splice)
{
    if (doc->type != XML_HTML_DOCUMENT_NODE || doc->intSubset || !doc->children)
        return 0;
    for (xmlNodePtr cur = doc->children; cur; cur = cur->next)
        if (!dump_tree(o, cur, splice))
            return 0;
    OUT_LIT(o, "\n");
    return 1;
}

static xsltTransformContextPtr transform_start(const stp_view_t *view, xmlDocPtr in, msg_ctx_t *mc)
{
    xsltTransformContextPtr tctxt = xsltNewTransformContext(view->style, in);
    if (!tctxt)
        return NULL;
    tctxt->_private = mc;
    xsltSetCtxtSecurityPrefs(view->sec, tctxt);
    xsltRegisterExtFunction(tctxt, (const xmlChar *)"msg", (const xmlChar *)STP_VIEW_NS, fn_msg);
    return tctxt;
}

apr_status_t stp_view_render_items(apr_array_header_t **items, const stp_view_t *view, xmlDocPtr in,
                                   stp_view_msg_fn *msg, void *baton, apr_pool_t *pool)
{
    msg_ctx_t mc = {msg, baton};
    xsltTransformContextPtr tctxt = transform_start(view, in, &mc);
    apr_status_t rv = APR_EGENERAL;
    if (!tctxt)
        return APR_ENOMEM;
    xmlDocPtr res = xsltApplyStylesheetUser(view->style, in, NULL, NULL, NULL, tctxt);
    if (res && tctxt->state == XSLT_STATE_OK && view->html && res->type == XML_HTML_DOCUMENT_NODE && !res->intSubset) {
        apr_array_header_t *a = apr_array_make(pool, 16, sizeof(stp_view_item_t));
        out_t o = {apr_palloc(pool, 16384), 0, 16384, pool};
        xmlNodePtr cur;
        for (cur = res->children; cur; cur = cur->next) {
            apr_size_t start = o.len;
            if (!dump_tree(&o, cur, NULL))
                break;
            stp_view_item_t *it = apr_array_push(a);
            it->len = o.len - start;
            it->html = (const char *)(apr_uintptr_t)start; /* an offset until o.s stops moving */
        }
        if (!cur) {
            for (int i = 0; i < a->nelts; i++) {
                stp_view_item_t *it = &APR_ARRAY_IDX(a, i, stp_view_item_t);
                it->html = o.s + (apr_uintptr_t)it->html;
            }
            *items = a;
            rv = APR_SUCCESS;
        }
    }
    if (res)
        xmlFreeDoc(res);
    xsltFreeTransformContext(tctxt);
    return rv;
}

static apr_status_t render(char **out, apr_size_t *len, const stp_view_t *view, xmlDocPtr in, int doctype,
                           stp_view_msg_fn *msg, void *baton, const splice_t *splice, apr_pool_t *pool)
{
    msg_ctx_t mc = {msg, baton};
    xsltTransformContextPtr tctxt = transform_start(view, in, &mc);
    apr_status_t rv = APR_EGENERAL;
    xmlChar *buf = NULL;
    int n = 0;
    if (!tctxt)
        return APR_ENOMEM;
    xmlDocPtr res = xsltApplyStylesheetUser(view->style, in, NULL, NULL, NULL, tctxt);
    if (res && tctxt->state == XSLT_STATE_OK) {
        const char *prefix = doctype ? "<!DOCTYPE html>\n" : "";
        apr_size_t pl = strlen(prefix);
        out_t o = {NULL, 0, 0, pool};
        if (view->html) {
            htmlSetMetaEncoding(res, (const xmlChar *)"UTF-8"); /* as xsltSaveResultTo() does */
            o.cap = 16384;
            o.s = apr_palloc(pool, o.cap);
            out_mem(&o, prefix, pl);
        }
        if (view->html && html_dump(&o, res, splice)) {
            out_mem(&o, "", 1);
            o.len--;
            *out = o.s;
            *len = o.len;
            rv = APR_SUCCESS;
        } else if (!splice && xsltSaveResultToString(&buf, &n, res, view->style) == 0) {
            char *s = apr_palloc(pool, pl + (apr_size_t)n + 1);
            memcpy(s, prefix, pl);
            memcpy(s + pl, buf ? (const char *)buf : "", (apr_size_t)n);
            s[pl + (apr_size_t)n] = '\0';
            *out = s;
            *len = pl + (apr_size_t)n;
            rv = APR_SUCCESS;
        }
    }
    if (buf)
        xmlFree(buf);
    if (res)
        xmlFreeDoc(res);
    xsltFreeTransformContext(tctxt);
    return rv;
}

apr_status_t stp_view_render(char **out, apr_size_t *len, const stp_view_t *view, xmlDocPtr in, int doctype,
                             stp_view_msg_fn *msg, void *baton, apr_pool_t *pool)
{
    return render(out, len, view, in, doctype, msg, baton, NULL, pool);
}

apr_status_t stp_view_render_spliced(char **out, apr_size_t *len, const stp_view_t *view, xmlDocPtr in,
                                     stp_view_msg_fn *msg, void *baton, const char *items, apr_size_t items_len,
                                     apr_pool_t *pool)
{
    splice_t sp = {items, items_len};
    return render(out, len, view, in, 1, msg, baton, &sp, pool);
}

void stp_view_requires_el(xmlNodePtr parent, const apr_array_header_t *requires)
{
    if (!requires || !requires->nelts)
        return;
    xmlNodePtr list = xmlNewChild(parent, NULL, (const xmlChar *)"requires", NULL);
    for (int i = 0; i < requires->nelts; i++) {
        const stp_require_t *q = &APR_ARRAY_IDX(requires, i, stp_require_t);
        xmlNodePtr e = xmlNewChild(list, NULL, (const xmlChar *)(q->kind == STP_REQUIRE_ROLE ? "role" : "claim"), NULL);
        xmlSetProp(e, (const xmlChar *)"name", (const xmlChar *)q->name);
        if (q->kind == STP_REQUIRE_CLAIM)
            xmlSetProp(e, (const xmlChar *)"value", (const xmlChar *)q->value);
    }
}

const char *const stp_view_portal_links[] = {"privacy", "contact", "imprint", NULL};

void stp_view_portal_el(xmlNodePtr page, const char *(*get)(void *baton, const char *key), void *baton,
                        apr_pool_t *pool)
{
    xmlNodePtr portal = xmlNewChild(page, NULL, (const xmlChar *)"portal", NULL);
    const char *tagline = get(baton, "portal.tagline"), *footer = get(baton, "portal.footer");
    /* xmlNewTextChild escapes; xmlNewChild would take the text as markup */
    if (tagline)
        xmlNewTextChild(portal, NULL, (const xmlChar *)"tagline", (const xmlChar *)tagline);
    if (footer)
        xmlNewTextChild(portal, NULL, (const xmlChar *)"footer", (const xmlChar *)footer);
    for (int k = 0; stp_view_portal_links[k]; k++) {
        const char *kind = stp_view_portal_links[k];
        const char *text = get(baton, apr_pstrcat(pool, "portal.", kind, ".text", NULL));
        const char *href = get(baton, apr_pstrcat(pool, "portal.", kind, ".href", NULL));
        if (!text || !href)
            continue;
        xmlNodePtr l = xmlNewTextChild(portal, NULL, (const xmlChar *)"link", (const xmlChar *)text);
        xmlSetProp(l, (const xmlChar *)"kind", (const xmlChar *)kind);
        xmlSetProp(l, (const xmlChar *)"href", (const xmlChar *)href);
    }
}

/* --- Frames (stp_view_render_framed) ----------------------------------------------------------- */

const char *stp_view_slot(const stp_view_t *view, int i)
{
    return i >= 0 && i < STP_VIEW_SLOTS ? view->slots[i] : NULL;
}

static void key_field(out_t *o, char tag, const xmlChar *s)
{
    apr_uint32_t n = s ? (apr_uint32_t)strlen((const char *)s) : 0;
    out_mem(o, &tag, 1);
    out_mem(o, (const char *)&n, sizeof n); /* lengths, so that no text can pass for structure */
    if (n)
        out_mem(o, (const char *)s, n);
}

/* Everything of the input a transformation can see, unambiguously. */
static void key_nodes(out_t *o, xmlNodePtr n)
{
    for (; n; n = n->next) {
        char type = (char)n->type;
        key_field(o, type, n->name);
        if (n->type == XML_ELEMENT_NODE) {
            for (xmlAttrPtr a = n->properties; a; a = a->next) {
                key_field(o, 'a', a->name);
                for (xmlNodePtr t = a->children; t; t = t->next)
                    key_field(o, 'v', t->content);
            }
            key_nodes(o, n->children);
            key_field(o, '/', NULL);
        } else {
            key_field(o, 'c', n->content);
        }
    }
}

/* Whether the rendered frame holds each placeholder only whole: every U+E000 and U+E001 is one's,
 * and every copy of the mark is inside one with a known slot. */
static int frame_whole(const stp_view_t *v, const char *s, apr_size_t len, int nvalues)
{
    apr_size_t leads = 0, ends = 0, marks = 0;
    for (const char *p = s, *e = s + len; (p = memchr(p, 0xEE, (apr_size_t)(e - p))) != NULL; p++)
        if (e - p >= 3 && (unsigned char)p[1] == 0x80)
            leads += (unsigned char)p[2] == 0x80, ends += (unsigned char)p[2] == 0x81;
    for (const char *p = s, *e = s + len; (p = memchr(p, v->mark[0], (apr_size_t)(e - p))) != NULL; p++) {
        if ((apr_size_t)(e - p) < 16 || memcmp(p, v->mark, 16))
            continue;
        if (p - s < 3 || memcmp(p - 3, SLOT_LEAD, 3) || e - p < 20 || memcmp(p + 17, SLOT_END, 3))
            return 0;
        if (p[16] != 'I' && (p[16] < '0' || p[16] >= '0' + nvalues))
            return 0;
        marks++;
    }
    return leads == marks && ends == marks;
}

/* &, <, >, " and ' as references: right in text and in a quoted attribute. */
static void out_value(out_t *o, const char *s)
{
    for (const char *run = s;; s++) {
        const char *ref = NULL;
        switch (*s) {
        case '&':
            ref = "&amp;";
            break;
        case '<':
            ref = "&lt;";
            break;
        case '>':
            ref = "&gt;";
            break;
        case '"':
            ref = "&quot;";
            break;
        case '\'':
            ref = "&#39;";
            break;
        case '\0':
            out_mem(o, run, (apr_size_t)(s - run));
            return;
        default:
            continue;
        }
        out_mem(o, run, (apr_size_t)(s - run));
        out_mem(o, ref, strlen(ref));
        run = s + 1;
    }
}

apr_status_t stp_view_render_framed(char **out, apr_size_t *len, const stp_view_t *view, xmlDocPtr in,
                                    const char *const *values, int nvalues, const stp_view_item_t *items,
                                    stp_view_msg_fn *msg, void *baton, apr_pool_t *pool)
{
    stp_view_t *v = (stp_view_t *)view; /* only its kept frames change, under its lock */
    if (nvalues < 0 || nvalues > STP_VIEW_SLOTS || !v->html)
        return APR_EAGAIN;
    out_t k = {apr_palloc(pool, 4096), 0, 4096, pool};
    OUT_LIT(&k, "frame");
    out_mem(&k, items ? "I" : "-", 1);
    key_nodes(&k, in->children);
    apr_thread_mutex_lock(v->lock);
    const frame_t *f = apr_hash_get(v->frames, k.s, (apr_ssize_t)k.len);
    apr_thread_mutex_unlock(v->lock);
    if (!f) {
        frame_t *made = apr_palloc(pool, sizeof *made);
        char *html;
        splice_t sp = {v->slots[STP_VIEW_SLOTS], SLOT_LEN};
        apr_status_t rv = render(&html, &made->len, view, in, 1, msg, baton, items ? &sp : NULL, pool);
        if (rv != APR_SUCCESS)
            return rv;
        if (!frame_whole(v, html, made->len, nvalues))
            return APR_EAGAIN;
        made->html = html;
        f = made;
        apr_thread_mutex_lock(v->lock);
        if (!apr_hash_get(v->frames, k.s, (apr_ssize_t)k.len) &&
            v->frames_bytes + k.len + f->len <= STP_VIEW_FRAMES_MAX) {
            frame_t *kept = apr_palloc(v->kept_pool, sizeof *kept);
            kept->html = apr_pmemdup(v->kept_pool, f->html, f->len);
            kept->len = f->len;
            apr_hash_set(v->frames, apr_pmemdup(v->kept_pool, k.s, k.len), (apr_ssize_t)k.len, kept);
            v->frames_bytes += k.len + f->len;
        }
        apr_thread_mutex_unlock(v->lock);
    }
    /* The frame with each placeholder replaced: checked whole when it was made. */
    out_t o = {apr_palloc(pool, f->len + 1024), 0, f->len + 1024, pool};
    const char *p = f->html, *e = f->html + f->len, *m;
    while ((m = memchr(p, 0xEE, (apr_size_t)(e - p))) != NULL) {
        if (e - m < SLOT_LEN || memcmp(m, SLOT_LEAD, 3) || memcmp(m + 3, v->mark, 16)) {
            out_mem(&o, p, (apr_size_t)(m + 1 - p));
            p = m + 1;
            continue;
        }
        out_mem(&o, p, (apr_size_t)(m - p));
        char slot = m[19];
        if (slot == 'I' ? !items : slot - '0' >= nvalues)
            return APR_EAGAIN; /* a caller whose values do not match its input's placeholders */
        if (slot == 'I')
            out_mem(&o, items->html, items->len);
        else
            out_value(&o, values[slot - '0'] ? values[slot - '0'] : "");
        p = m + SLOT_LEN;
    }
    out_mem(&o, p, (apr_size_t)(e - p));
    out_mem(&o, "", 1);
    *out = o.s;
    *len = o.len - 1;
    return APR_SUCCESS;
}
