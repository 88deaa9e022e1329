#include "sg_explain.h"

#include <ctype.h>
#include <string.h>

#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <libxml/parser.h>
#include <libxml/schemasInternals.h>
#include <libxml/xmlregexp.h>
#include <libxml/xmlschemastypes.h>

#define RNG_NS "http://relaxng.org/ns/structure/1.0"

/* What a value (an attribute's, or an element's text) must look like. */
typedef struct {
    const char *define;         /* the <define> it comes from: the rule's name in the editor's words */
    const char *type;           /* XML Schema datatype, or NULL */
    xmlRegexpPtr re;            /* the pattern facet, or NULL */
    apr_array_header_t *values; /* const char *: a choice of <value>s, or NULL */
} value_rule_t;

typedef struct {
    const char *name; /* qualified: "xml:lang" */
    int required;
    value_rule_t *value;
} attr_rule_t;

/* One element name's rules, merged over every place the schema defines it: the children and
 * attributes of any definition are allowed, those of every definition are required. */
typedef struct {
    const char *name;
    apr_array_header_t *children;   /* const char * */
    apr_array_header_t *required;   /* const char * */
    apr_array_header_t *repeatable; /* const char *: under <oneOrMore> or <zeroOrMore> */
    apr_array_header_t *attrs;      /* attr_rule_t * */
    value_rule_t *text;
} elem_rule_t;

struct sg_explainer_t {
    apr_hash_t *elems;         /* name -> elem_rule_t * */
    apr_array_header_t *roots; /* const char * */
    apr_hash_t *defines;       /* name -> xmlNodePtr (only while loading) */
    apr_pool_t *pool;
};

static int is_rng(xmlNodePtr n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && n->ns && !strcmp((const char *)n->ns->href, RNG_NS) &&
           (!name || !strcmp((const char *)n->name, name));
}

static const char *attr_of(xmlNodePtr n, const char *name, apr_pool_t *pool)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    const char *s = v ? apr_pstrdup(pool, (const char *)v) : NULL;
    xmlFree(v);
    if (s) {
        while (isspace((unsigned char)*s))
            s++;
        char *e = (char *)s + strlen(s);
        while (e > s && isspace((unsigned char)e[-1]))
            *--e = '\0';
    }
    return s;
}

static int has_name(const apr_array_header_t *a, const char *name)
{
    for (int i = 0; i < a->nelts; i++)
        if (!strcmp(APR_ARRAY_IDX(a, i, const char *), name))
            return 1;
    return 0;
}

static void add_name(apr_array_header_t *a, const char *name)
{
    if (!has_name(a, name))
        APR_ARRAY_PUSH(a, const char *) = name;
}

static apr_status_t regexp_cleanup(void *re)
{
    xmlRegFreeRegexp(re);
    return APR_SUCCESS;
}

/* The value rule in the children of `n` (data, value, choice, ref); `rule` collects it. */
static void value_walk(sg_explainer_t *ex, xmlNodePtr n, value_rule_t *rule, int depth)
{
    for (xmlNodePtr c = n->children; c && depth < 16; c = c->next) {
        if (is_rng(c, "ref")) {
            const char *name = attr_of(c, "name", ex->pool);
            xmlNodePtr def = name ? apr_hash_get(ex->defines, name, APR_HASH_KEY_STRING) : NULL;
            if (def) {
                if (!rule->define)
                    rule->define = name;
                value_walk(ex, def, rule, depth + 1);
            }
        } else if (is_rng(c, "choice")) {
            value_walk(ex, c, rule, depth + 1);
        } else if (is_rng(c, "value")) {
            if (!rule->values)
                rule->values = apr_array_make(ex->pool, 4, sizeof(const char *));
            xmlChar *v = xmlNodeGetContent(c);
            add_name(rule->values, apr_pstrdup(ex->pool, v ? (const char *)v : ""));
            xmlFree(v);
        } else if (is_rng(c, "data")) {
            rule->type = attr_of(c, "type", ex->pool);
            for (xmlNodePtr p = c->children; p; p = p->next) {
                const char *pname = is_rng(p, "param") ? attr_of(p, "name", ex->pool) : NULL;
                if (pname && !strcmp(pname, "pattern") && !rule->re) {
                    xmlChar *pat = xmlNodeGetContent(p);
                    rule->re = pat ? xmlRegexpCompile(pat) : NULL;
                    xmlFree(pat);
                    if (rule->re)
                        apr_pool_cleanup_register(ex->pool, rule->re, regexp_cleanup, apr_pool_cleanup_null);
                }
            }
        }
    }
}

static value_rule_t *value_rule(sg_explainer_t *ex, xmlNodePtr n)
{
    value_rule_t *rule = apr_pcalloc(ex->pool, sizeof *rule);
    value_walk(ex, n, rule, 0);
    return rule->type || rule->values ? rule : NULL;
}

/* Collects what the content pattern `n` of an element allows into `r`. `optional`: nothing found
 * below is required (<optional>, <zeroOrMore>, and <choice>, whose branches are alternatives). */
static void collect(sg_explainer_t *ex, elem_rule_t *r, xmlNodePtr n, int optional, int repeat, int depth,
                    int *has_data)
{
    for (xmlNodePtr c = n->children; c && depth < 16; c = c->next) {
        if (!is_rng(c, NULL))
            continue;
        const char *kind = (const char *)c->name;
        if (!strcmp(kind, "element")) {
            const char *name = attr_of(c, "name", ex->pool);
            if (name) {
                add_name(r->children, name);
                if (!optional)
                    add_name(r->required, name);
                if (repeat)
                    add_name(r->repeatable, name);
            }
        } else if (!strcmp(kind, "attribute")) {
            attr_rule_t *a = apr_pcalloc(ex->pool, sizeof *a);
            a->name = attr_of(c, "name", ex->pool);
            a->required = !optional;
            a->value = value_rule(ex, c);
            if (a->name)
                APR_ARRAY_PUSH(r->attrs, attr_rule_t *) = a;
        } else if (!strcmp(kind, "optional") || !strcmp(kind, "choice")) {
            collect(ex, r, c, 1, repeat, depth + 1, has_data);
        } else if (!strcmp(kind, "zeroOrMore")) {
            collect(ex, r, c, 1, 1, depth + 1, has_data);
        } else if (!strcmp(kind, "oneOrMore")) {
            collect(ex, r, c, optional, 1, depth + 1, has_data);
        } else if (!strcmp(kind, "group") || !strcmp(kind, "interleave") || !strcmp(kind, "mixed")) {
            collect(ex, r, c, optional, repeat, depth + 1, has_data);
        } else if (!strcmp(kind, "ref")) {
            const char *name = attr_of(c, "name", ex->pool);
            xmlNodePtr def = name ? apr_hash_get(ex->defines, name, APR_HASH_KEY_STRING) : NULL;
            if (def)
                collect(ex, r, def, optional, repeat, depth + 1, has_data);
        } else if (!strcmp(kind, "data") || !strcmp(kind, "value")) {
            *has_data = 1;
        }
    }
}

static attr_rule_t *find_attr(const elem_rule_t *r, const char *name)
{
    for (int i = 0; i < r->attrs->nelts; i++) {
        attr_rule_t *a = APR_ARRAY_IDX(r->attrs, i, attr_rule_t *);
        if (!strcmp(a->name, name))
            return a;
    }
    return NULL;
}

/* Adds the rule of one more definition of the same element name. */
static void merge(elem_rule_t *into, const elem_rule_t *r, apr_pool_t *pool)
{
    for (int i = 0; i < r->children->nelts; i++)
        add_name(into->children, APR_ARRAY_IDX(r->children, i, const char *));
    for (int i = 0; i < r->repeatable->nelts; i++)
        add_name(into->repeatable, APR_ARRAY_IDX(r->repeatable, i, const char *));
    apr_array_header_t *req = apr_array_make(pool, 4, sizeof(const char *));
    for (int i = 0; i < into->required->nelts; i++) {
        const char *name = APR_ARRAY_IDX(into->required, i, const char *);
        if (has_name(r->required, name))
            add_name(req, name);
    }
    into->required = req;
    for (int i = 0; i < into->attrs->nelts; i++) {
        attr_rule_t *a = APR_ARRAY_IDX(into->attrs, i, attr_rule_t *);
        attr_rule_t *b = find_attr(r, a->name);
        a->required = a->required && b && b->required;
    }
    for (int i = 0; i < r->attrs->nelts; i++) {
        attr_rule_t *b = APR_ARRAY_IDX(r->attrs, i, attr_rule_t *);
        attr_rule_t *a = find_attr(into, b->name);
        if (!a) {
            a = apr_pmemdup(pool, b, sizeof *b);
            a->required = 0;
            APR_ARRAY_PUSH(into->attrs, attr_rule_t *) = a;
        } else if (a->value && b->value && a->value->values && b->value->values && !a->value->type && !b->value->type) {
            /* <access level="public|signin|nda"> or <access level="tenant">: any of them. */
            value_rule_t *v = apr_pmemdup(pool, a->value, sizeof *v);
            v->values = apr_array_copy(pool, a->value->values);
            for (int j = 0; j < b->value->values->nelts; j++)
                add_name(v->values, APR_ARRAY_IDX(b->value->values, j, const char *));
            a->value = v;
        }
    }
    if (!r->text)
        into->text = NULL;
}

static void walk_elements(sg_explainer_t *ex, xmlNodePtr n)
{
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (!is_rng(c, NULL))
            continue;
        if (is_rng(c, "element")) {
            const char *name = attr_of(c, "name", ex->pool);
            if (name) {
                elem_rule_t *r = apr_pcalloc(ex->pool, sizeof *r);
                int has_data = 0;
                r->name = name;
                r->children = apr_array_make(ex->pool, 8, sizeof(const char *));
                r->required = apr_array_make(ex->pool, 8, sizeof(const char *));
                r->attrs = apr_array_make(ex->pool, 4, sizeof(attr_rule_t *));
                r->repeatable = apr_array_make(ex->pool, 8, sizeof(const char *));
                collect(ex, r, c, 0, 0, 0, &has_data);
                r->text = has_data || r->children->nelts == 0 ? value_rule(ex, c) : NULL;
                elem_rule_t *old = apr_hash_get(ex->elems, name, APR_HASH_KEY_STRING);
                if (old)
                    merge(old, r, ex->pool);
                else
                    apr_hash_set(ex->elems, name, APR_HASH_KEY_STRING, r);
            }
        }
        walk_elements(ex, c);
    }
}

static void find_defines(sg_explainer_t *ex, xmlNodePtr n)
{
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (is_rng(c, "define")) {
            const char *name = attr_of(c, "name", ex->pool);
            if (name)
                apr_hash_set(ex->defines, name, APR_HASH_KEY_STRING, c);
        } else if (is_rng(c, "start")) {
            for (xmlNodePtr e = c->children; e; e = e->next)
                if (is_rng(e, "element"))
                    add_name(ex->roots, attr_of(e, "name", ex->pool));
        }
        if (is_rng(c, "grammar") || is_rng(c, "div"))
            find_defines(ex, c);
    }
}

sg_explainer_t *sg_explainer_load(const char *rng_path, apr_pool_t *pool)
{
    xmlDocPtr rng = xmlReadFile(rng_path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlNodePtr root = rng ? xmlDocGetRootElement(rng) : NULL;
    if (!root || !is_rng(root, "grammar")) {
        xmlFreeDoc(rng);
        return NULL;
    }
    xmlSchemaInitTypes();
    sg_explainer_t *ex = apr_pcalloc(pool, sizeof *ex);
    ex->pool = pool;
    ex->elems = apr_hash_make(pool);
    ex->defines = apr_hash_make(pool);
    ex->roots = apr_array_make(pool, 2, sizeof(const char *));
    find_defines(ex, root);
    walk_elements(ex, root);
    ex->defines = NULL; /* their nodes go with the schema document */
    xmlFreeDoc(rng);
    return ex;
}

/* Optimal string alignment distance (a swapped pair of letters is one edit), case-insensitive. */
static int distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 40 || m > 40)
        return 99;
    int d[41][41];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            int v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v)
                v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    return d[n][m];
}

const char *sg_did_you_mean(const char *word, const char *const *candidates, int n)
{
    const char *best = NULL;
    int best_d = 99, len = (int)strlen(word);
    /* One edit in a short name, two in a longer one: further than that is another word. */
    int limit = len <= 4 ? 1 : len <= 8 ? 2 : 3;
    for (int i = 0; i < n; i++) {
        int d = distance(word, candidates[i]);
        if (d <= limit && d < best_d) {
            best = candidates[i];
            best_d = d;
        }
    }
    return best;
}

/* The rule for a value in the editor's words: what it "must be". */
static const char *rule_words(const value_rule_t *v, apr_pool_t *pool)
{
    static const char *const by_define[][2] = {
        {"ident", "lowercase letters, digits and hyphens"},
        {"tenant-id", "letters, digits and hyphens"},
        {"version", "letters, digits, dots and hyphens (such as 2 or 2026.1)"},
        {"lang-tag", "a language tag such as en, de or pt-BR"},
        {"relpath", "a path inside the document folder, such as report.pdf or de/report.pdf"},
        {"media-type", "a media type such as application/pdf"},
        {"domain-name", "a lowercase domain name such as trust.example.com"},
        {"nonempty", "some text, not empty"},
        {"moment", "a date written YYYY-MM-DD (or a time with its zone, such as 2026-12-01T09:00+01:00)"},
    };
    for (size_t i = 0; v->define && i < sizeof by_define / sizeof *by_define; i++)
        if (!strcmp(v->define, by_define[i][0]))
            return by_define[i][1];
    if (v->values && !v->type) {
        const char *s = "one of ";
        for (int i = 0; i < v->values->nelts; i++)
            s = apr_pstrcat(pool, s, i ? ", " : "", APR_ARRAY_IDX(v->values, i, const char *), NULL);
        return s;
    }
    if (v->type && !strcmp(v->type, "date"))
        return "a date written YYYY-MM-DD";
    if (v->type && !strcmp(v->type, "boolean"))
        return "true or false";
    if (v->type && !strcmp(v->type, "positiveInteger"))
        return "a whole number above 0";
    if (v->type && !strcmp(v->type, "anyURI"))
        return "an address starting with https:// (or http://)";
    return apr_pstrcat(pool, "a valid ", v->type ? v->type : "value", NULL);
}

/* Whether `value` satisfies the rule, as the validator sees it (tokens with spaces collapsed). */
static int value_ok(const value_rule_t *v, const char *value, apr_pool_t *pool)
{
    const char *s = value;
    if (!v->type || strcmp(v->type, "string")) {
        char *t = apr_palloc(pool, strlen(value) + 1), *o = t;
        int space = 0;
        for (const char *c = value; *c; c++) {
            if (isspace((unsigned char)*c)) {
                space = o > t;
                continue;
            }
            if (space)
                *o++ = ' ';
            space = 0;
            *o++ = *c;
        }
        *o = '\0';
        s = t;
    }
    if (v->values && has_name(v->values, s))
        return 1;
    if (!v->type)
        return 0;
    if (strcmp(v->type, "string") && strcmp(v->type, "token")) {
        xmlSchemaTypePtr t =
            xmlSchemaGetPredefinedType((const xmlChar *)v->type, (const xmlChar *)"http://www.w3.org/2001/XMLSchema");
        if (t && xmlSchemaValPredefTypeNode(t, (const xmlChar *)s, NULL, NULL) != 0)
            return 0;
    }
    return !v->re || xmlRegexpExec(v->re, (const xmlChar *)s) == 1;
}

static const char *qname(xmlNodePtr n, apr_pool_t *pool)
{
    return n->ns && n->ns->prefix ? apr_pstrcat(pool, (const char *)n->ns->prefix, ":", (const char *)n->name, NULL)
                                  : (const char *)n->name;
}

static const char *quoted_list(const apr_array_header_t *a, const char *open, const char *close, apr_pool_t *pool)
{
    const char *s = "";
    for (int i = 0; i < a->nelts; i++)
        s = apr_pstrcat(pool, s, i ? ", " : "", open, APR_ARRAY_IDX(a, i, const char *), close, NULL);
    return s;
}

typedef struct {
    const sg_explainer_t *ex;
    const char *path;
    sg_errors_t *errs;
    apr_pool_t *pool;
    int count;
} walk_t;

static void problem(walk_t *w, xmlNodePtr n, const char *msg)
{
    sg_error(w->errs, w->path, (int)xmlGetLineNo(n), "%s", msg);
    w->count++;
}

static void check_attrs(walk_t *w, xmlNodePtr n, const elem_rule_t *r)
{
    apr_array_header_t *names = apr_array_make(w->pool, 4, sizeof(const char *));
    for (int i = 0; i < r->attrs->nelts; i++)
        APR_ARRAY_PUSH(names, const char *) = APR_ARRAY_IDX(r->attrs, i, attr_rule_t *)->name;
    apr_array_header_t *present = apr_array_make(w->pool, 4, sizeof(const char *));
    for (xmlAttrPtr a = n->properties; a; a = a->next) {
        const char *name = qname((xmlNodePtr)a, w->pool);
        attr_rule_t *rule = find_attr(r, name);
        xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);
        const char *value = apr_pstrdup(w->pool, v ? (const char *)v : "");
        xmlFree(v);
        if (!rule) {
            const char *near = sg_did_you_mean(name, (const char *const *)names->elts, names->nelts);
            if (near)
                add_name(present, near);
            problem(w, n,
                    near ? apr_psprintf(w->pool, "unknown attribute %s on <%s>; did you mean %s?", name, r->name, near)
                    : names->nelts
                        ? apr_psprintf(w->pool, "unknown attribute %s on <%s>; it may have %s", name, r->name,
                                       quoted_list(names, "", "", w->pool))
                        : apr_psprintf(w->pool, "unknown attribute %s on <%s>; it has no attributes", name, r->name));
            continue;
        }
        add_name(present, name);
        if (rule->value && !value_ok(rule->value, value, w->pool))
            problem(w, n, apr_psprintf(w->pool, "%s '%s' must be %s", name, value, rule_words(rule->value, w->pool)));
    }
    for (int i = 0; i < r->attrs->nelts; i++) {
        attr_rule_t *a = APR_ARRAY_IDX(r->attrs, i, attr_rule_t *);
        if (a->required && !has_name(present, a->name))
            problem(w, n, apr_psprintf(w->pool, "<%s> needs the attribute %s", r->name, a->name));
    }
}

static void check_element(walk_t *w, xmlNodePtr n, const elem_rule_t *r)
{
    check_attrs(w, n, r);
    apr_array_header_t *present = apr_array_make(w->pool, 8, sizeof(const char *));
    int has_child = 0, text_said = 0;
    for (xmlNodePtr c = n->children; c; c = c->next) {
        /* Text where only elements belong (once per element: one mistake, one line). */
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && !r->text && !text_said &&
            !xmlIsBlankNode(c)) {
            xmlChar *v = xmlNodeGetContent(c);
            char *t = apr_pstrndup(w->pool, v ? (const char *)v : "", 40), *e;
            xmlFree(v);
            while (isspace((unsigned char)*t))
                t++;
            for (e = t; *e && *e != '\n'; e++)
                ;
            while (e > t && isspace((unsigned char)e[-1]))
                e--;
            *e = '\0';
            /* At the element: a text node's own line is where it ends. */
            problem(w, c->prev ? c->prev : n,
                    r->children->nelts
                        ? apr_psprintf(w->pool, "<%s> holds only elements (%s), not text such as '%s'", r->name,
                                       quoted_list(r->children, "<", ">", w->pool), t)
                        : apr_psprintf(w->pool, "<%s> must be empty, not text such as '%s'", r->name, t));
            text_said = 1;
        }
        if (c->type != XML_ELEMENT_NODE)
            continue;
        has_child = 1;
        const char *name = qname(c, w->pool);
        const elem_rule_t *cr =
            has_name(r->children, name) ? apr_hash_get(w->ex->elems, name, APR_HASH_KEY_STRING) : NULL;
        if (cr && has_name(present, name) && !has_name(r->repeatable, name))
            problem(w, c, apr_psprintf(w->pool, "<%s> may appear only once in <%s>", name, r->name));
        if (cr) {
            add_name(present, name);
            check_element(w, c, cr);
            continue;
        }
        /* Suggest only what may stand here: <titel> in <document> is <title>. */
        const char *near = sg_did_you_mean(name, (const char *const *)r->children->elts, r->children->nelts);
        if (near)
            add_name(present, near); /* not also "missing <title>" */
        if (near)
            problem(w, c, apr_psprintf(w->pool, "unknown element <%s>; did you mean <%s>?", name, near));
        else if (r->children->nelts)
            problem(w, c,
                    apr_psprintf(w->pool, "unknown element <%s>; <%s> may contain %s", name, r->name,
                                 quoted_list(r->children, "<", ">", w->pool)));
        else
            problem(w, c, apr_psprintf(w->pool, "unknown element <%s>; <%s> contains no elements", name, r->name));
    }
    for (int i = 0; i < r->required->nelts; i++) {
        const char *name = APR_ARRAY_IDX(r->required, i, const char *);
        if (!has_name(present, name))
            problem(w, n, apr_psprintf(w->pool, "<%s> is missing <%s>", r->name, name));
    }
    if (r->text && !has_child) {
        xmlChar *v = xmlNodeGetContent(n);
        const char *text = apr_pstrdup(w->pool, v ? (const char *)v : "");
        xmlFree(v);
        if (!value_ok(r->text, text, w->pool))
            problem(w, n, apr_psprintf(w->pool, "<%s> '%s' must be %s", r->name, text, rule_words(r->text, w->pool)));
    }
}

int sg_explain(const sg_explainer_t *ex, xmlDocPtr doc, const char *path, sg_errors_t *errs)
{
    apr_pool_t *pool;
    if (!ex || apr_pool_create(&pool, errs->pool) != APR_SUCCESS)
        return 0;
    walk_t w = {ex, path, errs, pool, 0};
    xmlNodePtr root = xmlDocGetRootElement(doc);
    const elem_rule_t *r = root && has_name(ex->roots, qname(root, pool))
                               ? apr_hash_get(ex->elems, qname(root, pool), APR_HASH_KEY_STRING)
                               : NULL;
    if (root && r)
        check_element(&w, root, r);
    else if (root)
        problem(&w, root,
                apr_psprintf(pool, "the root element must be %s, not <%s>", quoted_list(ex->roots, "<", ">", pool),
                             qname(root, pool)));
    apr_pool_destroy(pool);
    return w.count;
}
