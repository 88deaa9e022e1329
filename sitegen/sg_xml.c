/* sg_xml: small helpers that read elements, attributes and localized texts of content XML. */
#include "sg_xml.h"

#include <string.h>

#include <apr_strings.h>

int sg_xml_is_elem(xmlNodePtr n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

const char *sg_xml_attr(xmlNodePtr n, const char *name, apr_pool_t *pool)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    if (!v)
        return NULL;
    char *s = apr_pstrdup(pool, (const char *)v);
    xmlFree(v);
    return apr_collapse_spaces(s, s) ? s : s;
}

const char *sg_xml_token_attr(xmlNodePtr n, const char *name, apr_pool_t *pool)
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

const char *sg_xml_node_lang(xmlNodePtr n, apr_pool_t *pool)
{
    xmlChar *v = xmlNodeGetLang(n);
    if (!v)
        return NULL;
    char *s = apr_pstrdup(pool, (const char *)v);
    xmlFree(v);
    return s;
}

const char *sg_xml_node_text(xmlNodePtr n, apr_pool_t *pool)
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

int sg_xml_check_bidi(const char *text, const char *what, xmlNodePtr n, const char *path, sg_errors_t *errs)
{
    const char *c = bidi_control(text);
    if (c)
        sg_error(errs, path, xmlGetLineNo(n), "%s contains %s; bidirectional control characters are not allowed", what,
                 c);
    return c != NULL;
}

void sg_xml_add_text(apr_array_header_t *texts, xmlNodePtr n, const sg_site_t *site, const char *path,
                     sg_errors_t *errs, apr_pool_t *pool)
{
    const char *lang = sg_xml_node_lang(n, pool);
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
    t->text = sg_xml_node_text(n, pool);
    sg_xml_check_bidi(t->text, (const char *)n->name, n, path, errs);
}

void sg_xml_need_default(const apr_array_header_t *texts, const char *what, xmlNodePtr n, const sg_site_t *site,
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
