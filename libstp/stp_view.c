#include "stp_view.h"

#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <libxml/xpathInternals.h>
#include <libxslt/extensions.h>
#include <libxslt/security.h>
#include <libxslt/transform.h>
#include <libxslt/xsltInternals.h>
#include <libxslt/xsltutils.h>

struct stp_view_t {
    xsltStylesheetPtr style;
    xsltSecurityPrefsPtr sec;
};

typedef struct {
    stp_view_msg_fn *msg;
    void *baton;
} msg_ctx_t;

static apr_status_t view_cleanup(void *data)
{
    stp_view_t *v = data;
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
    *view = v;
    return APR_SUCCESS;
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
    /* Arguments come off the stack last first. */
    xmlChar **args = xmlMalloc(sizeof(xmlChar *) * (size_t)nargs);
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
    xmlFree(args);
}

apr_status_t stp_view_render(char **out, apr_size_t *len, const stp_view_t *view, xmlDocPtr in, int doctype,
                             stp_view_msg_fn *msg, void *baton, apr_pool_t *pool)
{
    msg_ctx_t mc = {msg, baton};
    xsltTransformContextPtr tctxt = xsltNewTransformContext(view->style, in);
    apr_status_t rv = APR_EGENERAL;
    xmlChar *buf = NULL;
    int n = 0;
    if (!tctxt)
        return APR_ENOMEM;
    tctxt->_private = &mc;
    xsltSetCtxtSecurityPrefs(view->sec, tctxt);
    xsltRegisterExtFunction(tctxt, (const xmlChar *)"msg", (const xmlChar *)STP_VIEW_NS, fn_msg);
    xmlDocPtr res = xsltApplyStylesheetUser(view->style, in, NULL, NULL, NULL, tctxt);
    if (res && tctxt->state == XSLT_STATE_OK && xsltSaveResultToString(&buf, &n, res, view->style) == 0) {
        const char *prefix = doctype ? "<!DOCTYPE html>\n" : "";
        apr_size_t pl = strlen(prefix);
        char *s = apr_palloc(pool, pl + (apr_size_t)n + 1);
        memcpy(s, prefix, pl);
        memcpy(s + pl, buf ? (const char *)buf : "", (apr_size_t)n);
        s[pl + (apr_size_t)n] = '\0';
        *out = s;
        *len = pl + (apr_size_t)n;
        rv = APR_SUCCESS;
    }
    if (buf)
        xmlFree(buf);
    if (res)
        xmlFreeDoc(res);
    xsltFreeTransformContext(tctxt);
    return rv;
}
