/* mod_stp_preview: `StpPreview On`, the content editor's preview that `sitegen serve` runs. The
 * reader's identity comes from the preview bar (the stp_preview cookie) instead of the identity
 * provider's claims, and then goes through the same code as real claims (mod_stp_request.c). A
 * bar on every HTML page chooses the identity, the NDA and the language, shows the build's errors,
 * and a small script reloads the page when sitegen publishes a new build.
 *
 * Development only, and unusable otherwise: the module refuses to start with StpPreview On when a
 * listener is not a loopback address or mod_auth_openidc is loaded, and answers 403 to every
 * client whose TCP peer address is not loopback (the connection's, which no header and no
 * mod_remoteip can change) and to every request whose Host is not a loopback name. */
#include <httpd.h>
#include <stdlib.h>
#include <string.h>

#include <ap_listen.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <util_filter.h>

#include <apr_escape.h>
#include <apr_file_info.h>
#include <apr_strings.h>

#include "mod_stp.h"
#include "stp_csrf.h"
#include "stp_http.h"
#include "stp_layout.h"
#include "stp_paths.h"
#include "stp_preview.h"

#define PREVIEW_COOKIE "stp_preview"
#define FILTER_NAME "STP_PREVIEW_BAR"
#define FORM_LIMIT 4096
/* No page of the portal comes near this; a larger answer is refused rather than held in memory. */
#define BAR_PAGE_MAX ((apr_size_t)16 << 20)

static int preview_on(const stp_conf_t *c)
{
    return c && c->site_dir && c->preview == 1;
}

const stp_preview_t *mod_stp_preview_of(request_rec *r, const stp_conf_t *conf)
{
    if (!preview_on(conf))
        return NULL;
    stp_preview_t *p = apr_pcalloc(r->pool, sizeof *p);
    const char *v = stp_http_cookie_get(apr_table_get(r->headers_in, "Cookie"), PREVIEW_COOKIE, r->pool);
    if (!v || stp_preview_parse(p, v, r->pool) != APR_SUCCESS)
        stp_preview_parse(p, "anonymous", r->pool);
    return p;
}

/* --- startup ------------------------------------------------------------------------------------ */

int mod_stp_preview_check(server_rec *s, apr_pool_t *ptemp)
{
    int on = 0, failed = 0;
    for (server_rec *v = s; v; v = v->next)
        on |= preview_on(ap_get_module_config(v->module_config, &stp_module));
    if (!on)
        return 0;
    for (ap_listen_rec *lr = ap_listeners; lr; lr = lr->next) {
        if (stp_preview_loopback(lr->bind_addr))
            continue;
        char *ip = NULL;
        if (lr->bind_addr)
            apr_sockaddr_ip_get(&ip, lr->bind_addr);
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, NULL,
                     "mod_stp: StpPreview On with Listen %s:%d, which is not a loopback address: the preview "
                     "takes the reader's identity from a cookie and is for the editor's own machine only; listen "
                     "on 127.0.0.1 (sitegen serve does) or remove StpPreview",
                     ip ? ip : "*", lr->bind_addr ? lr->bind_addr->port : 0);
        failed = 1;
    }
    if (ap_find_linked_module("mod_auth_openidc.c")) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, 0, NULL,
                     "mod_stp: StpPreview On in a server that loads mod_auth_openidc: a production setup must not "
                     "take identities from the preview bar; remove StpPreview");
        failed = 1;
    }
    if (!failed)
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, NULL,
                     "mod_stp: StpPreview On: a development preview; identities come from the preview bar, and "
                     "only loopback clients are served");
    (void)ptemp;
    return failed;
}

/* --- every request ------------------------------------------------------------------------------ */

/* First of all hooks: nothing of the portal answers a client that is not on this machine. */
int mod_stp_preview_gate(request_rec *r)
{
    const stp_conf_t *c = mod_stp_conf(r);
    if (!preview_on(c))
        return DECLINED;
    if (!stp_preview_loopback(r->connection->client_addr)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "stp: StpPreview refuses %s: not a loopback client (the preview is for this machine only)",
                      r->connection->client_ip ? r->connection->client_ip : "an unknown address");
        return HTTP_FORBIDDEN;
    }
    /* A loopback peer may still be another site's page in the editor's browser (DNS rebinding). */
    if (!stp_preview_host_ok(r->hostname)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "stp: StpPreview refuses Host %s: not a loopback name (open the preview as 127.0.0.1 or "
                      "localhost)",
                      r->hostname);
        return HTTP_FORBIDDEN;
    }
    /* A proxy on this machine makes every client a loopback one; the usual proxies say they are. */
    static const char *const proxied[] = {"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Real-IP", "Via", NULL};
    for (int i = 0; proxied[i]; i++)
        if (apr_table_get(r->headers_in, proxied[i])) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                          "stp: StpPreview refuses a request with %s: it came through a proxy (the preview is for "
                          "this machine's browser only)",
                          proxied[i]);
            return HTTP_FORBIDDEN;
        }
    /* Every answer is fresh: a 304 would bring back a page with an old bar. */
    apr_table_unset(r->headers_in, "If-None-Match");
    apr_table_unset(r->headers_in, "If-Modified-Since");
    return DECLINED;
}

/* An editor who picked "NDA accepted" has accepted the current version, recorded in the preview's
 * own state as the NDA page would, so that the access decisions read it as they do for anyone. */
void mod_stp_preview_nda(stp_req_t *q, const stp_preview_t *p)
{
    if (!p || !p->nda || !q->user.key || !q->user.tenant || !q->build || !q->build->nda_version[0] || !mod_stp_state(q))
        return;
    if (stp_state_nda_accepted(mod_stp_state(q), q->user.key, q->user.tenant, q->build->nda_version) == 0) {
        apr_status_t rv =
            stp_state_nda_accept(mod_stp_state(q), q->user.key, q->user.tenant, q->build->nda_version, apr_time_now());
        if (rv != APR_SUCCESS)
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, q->r, "stp: preview: cannot record the NDA for %s", q->user.key);
    }
}

/* The bar's CSRF token. It is also for anonymous readers, whom the module's own forms never ask
 * for a token: bound to this browser session, to the identity shown, and to the purpose. */
static const char *bar_key(const stp_req_t *q)
{
    return q->user.key ? q->user.key : "preview|anonymous";
}

static const char *bar_token(stp_req_t *q)
{
    (void)mod_stp_csrf_form_token(q, "preview"); /* gives the browser a session when it has none */
    if (!q->session)
        return "";
    return stp_csrf_token(q->conf->secret, sizeof q->conf->secret, bar_key(q), q->session, "preview", apr_time_now(),
                          q->r->pool);
}

static int bar_token_valid(request_rec *r, stp_req_t *q, apr_table_t *form)
{
    if (stp_csrf_check(q->conf->secret, sizeof q->conf->secret, bar_key(q), q->session, "preview",
                       apr_table_get(form, "csrf"), apr_time_now(), r->pool))
        return 1;
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, "stp: preview choice refused: bad CSRF token%s",
                  q->session ? "" : " (no stp_sid cookie)");
    return 0;
}

/* --- the bar ------------------------------------------------------------------------------------ */

static const char *status_path(const stp_conf_t *c, apr_pool_t *p)
{
    return apr_pstrcat(p, c->site_dir, "/" STP_PREVIEW_STATUS, NULL);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The organisations of the build: its tenants/ directories (one per tenant of site.xml). */
static apr_array_header_t *tenants_of(const stp_build_t *b, apr_pool_t *p)
{
    apr_array_header_t *out = apr_array_make(p, 4, sizeof(const char *));
    apr_dir_t *dir;
    apr_finfo_t fi;
    if (!b || apr_dir_open(&dir, apr_pstrcat(p, b->root, "/" STP_BUILD_TENANTS, NULL), p) != APR_SUCCESS)
        return out;
    while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, dir) == APR_SUCCESS)
        if (fi.filetype == APR_DIR && stp_paths_tenant_len(fi.name) == strlen(fi.name))
            APR_ARRAY_PUSH(out, const char *) = apr_pstrdup(p, fi.name);
    apr_dir_close(dir);
    qsort(out->elts, (size_t)out->nelts, sizeof(const char *), by_name);
    return out;
}

static void option(xmlNodePtr bar, const char *el, const char *value, const char *label, int selected)
{
    xmlNodePtr o = mod_stp_el(bar, el, NULL);
    mod_stp_attr(o, "value", value);
    mod_stp_attr(o, "label", label);
    if (selected)
        mod_stp_attr(o, "selected", "yes");
}

/* The organisation's name as the pages show it (the catalog's string), else its id. */
static const char *org_name(stp_req_t *q, const char *tenant)
{
    const char *key = apr_pstrcat(q->r->pool, "org.name.", tenant, NULL);
    const char *name = mod_stp_msg(q, key);
    return strcmp(name, key) ? name : tenant;
}

/* The bar: a form that works without JavaScript (Apply), the build and its errors, rendered by the
 * templates (`preview-bar` in page.xsl) like every page. It is the editor's tool, in English
 * (lang/dir say so, so an Arabic page lays it out left to right). NULL when it cannot be rendered. */
static const char *bar_html(request_rec *r)
{
    apr_pool_t *p = r->pool;
    stp_req_t *q = mod_stp_req_get(r);
    const stp_preview_t *me = mod_stp_preview_of(r, q->conf);
    stp_preview_status_t st;
    if (stp_preview_status_read(&st, status_path(q->conf, p), p) != APR_SUCCESS)
        st.id = "?", st.failed = 0, st.errors = "";
    const char *current = me ? stp_preview_format(&(stp_preview_t){me->kind, me->tenant, 0, NULL, NULL}, p) : "";
    xmlNodePtr page = mod_stp_items_start(q), bar = mod_stp_el(page, "preview-bar", NULL);
    option(bar, "as", "anonymous", "Anonymous", !strcmp(current, "anonymous"));
    option(bar, "as", "personal", "Personal account", !strcmp(current, "personal"));
    apr_array_header_t *tenants = tenants_of(q->build, p);
    for (int i = 0; i < tenants->nelts; i++) {
        const char *t = APR_ARRAY_IDX(tenants, i, const char *), *name = org_name(q, t);
        const char *member = apr_pstrcat(p, "member.", t, NULL), *admin = apr_pstrcat(p, "admin.", t, NULL);
        option(bar, "as", member, apr_pstrcat(p, "Member of ", name, NULL), !strcmp(current, member));
        option(bar, "as", admin, apr_pstrcat(p, "Administrator of ", name, NULL), !strcmp(current, admin));
    }
    const char *here = r->unparsed_uri ? r->unparsed_uri : "/";
    if (r->prev && r->prev->unparsed_uri) /* an error page: the URL that failed */
        here = r->prev->unparsed_uri;
    /* The language selected is the page's: a published page's path says it (/ar/...), not the cookie. */
    const char *shown = q->lang;
    apr_size_t n = here[0] == '/' ? stp_paths_lang_len(here + 1) : 0;
    if (n && q->build) {
        const char *in_path = apr_pstrmemdup(p, here + 1, n);
        if (stp_http_locale_listed(q->build->locales, in_path))
            shown = in_path;
    }
    char *copy = apr_pstrdup(p, q->build ? q->build->locales : ""), *last;
    for (const char *l = apr_strtok(copy, ",", &last); l; l = apr_strtok(NULL, ",", &last))
        option(bar, "lang", l, l, shown && !strcmp(l, shown));
    mod_stp_attr(bar, "build", st.id);
    mod_stp_attr(bar, "here", here);
    mod_stp_attr(bar, "csrf", bar_token(q));
    if (me && me->nda)
        mod_stp_attr(bar, "nda", "yes");
    if (st.failed) {
        mod_stp_attr(bar, "failed", "yes");
        mod_stp_el(bar, "errors", st.errors);
    }
    apr_array_header_t *items;
    if (mod_stp_items_render(&items, q, page) != APR_SUCCESS || items->nelts != 1) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "stp: the preview bar could not be rendered (no templates?)");
        return NULL;
    }
    const stp_view_item_t *it = &APR_ARRAY_IDX(items, 0, stp_view_item_t);
    return apr_pstrmemdup(p, it->html, it->len);
}

typedef struct {
    char *buf;
    apr_size_t len, cap;
} bar_ctx_t;

/* Inserts `what` after the first `<tag ...>` (or before `</tag>` when `closing`) of the page. */
static const char *insert_at(const char *page, const char *tag, int closing, const char *what, apr_pool_t *p)
{
    const char *at = NULL;
    apr_size_t n = strlen(tag);
    for (const char *s = page; (s = strchr(s, '<')); s++) {
        const char *name = s + 1 + (closing ? 1 : 0);
        if (closing && s[1] != '/')
            continue;
        if (!strncasecmp(name, tag, n) && (name[n] == '>' || name[n] == ' ' || name[n] == '\t' || name[n] == '\n')) {
            at = closing ? s : strchr(name, '>');
            if (at && !closing)
                at++;
            break;
        }
    }
    if (!at)
        return NULL;
    return apr_pstrcat(p, apr_pstrmemdup(p, page, (apr_size_t)(at - page)), what, at, NULL);
}

static apr_status_t bar_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    bar_ctx_t *ctx = f->ctx;
    if (!ctx) {
        ctx = f->ctx = apr_pcalloc(r->pool, sizeof *ctx);
        if (!r->content_type || strncasecmp(r->content_type, "text/html", 9) || r->header_only) {
            ap_remove_output_filter(f);
            return ap_pass_brigade(f->next, bb);
        }
    }
    int eos = 0;
    for (apr_bucket *b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb); b = APR_BUCKET_NEXT(b)) {
        if (APR_BUCKET_IS_EOS(b)) {
            eos = 1;
            break;
        }
        if (APR_BUCKET_IS_METADATA(b))
            continue;
        const char *data;
        apr_size_t n;
        apr_status_t rv = apr_bucket_read(b, &data, &n, APR_BLOCK_READ);
        if (rv != APR_SUCCESS)
            return rv;
        if (ctx->len + n > BAR_PAGE_MAX)
            return APR_ENOSPC; /* not a page of this portal */
        if (ctx->len + n + 1 > ctx->cap) {
            apr_size_t cap = (ctx->len + n + 1) * 2;
            char *grown = apr_palloc(r->pool, cap);
            if (ctx->len)
                memcpy(grown, ctx->buf, ctx->len);
            ctx->buf = grown;
            ctx->cap = cap;
        }
        memcpy(ctx->buf + ctx->len, data, n);
        ctx->len += n;
    }
    apr_brigade_cleanup(bb);
    if (!eos)
        return APR_SUCCESS;
    const char *page = ctx->buf ? (ctx->buf[ctx->len] = '\0', ctx->buf) : "";
    if (strlen(page) == ctx->len) { /* text, as every page of ours is */
        const char *with = insert_at(page, "head", 1,
                                     "<link rel=\"stylesheet\" href=\"/stp/preview.css\"><script "
                                     "src=\"/stp/preview.js\" defer></script>",
                                     r->pool);
        if (with)
            page = with;
        const char *bar = bar_html(r);
        with = bar ? insert_at(page, "body", 0, bar, r->pool) : NULL;
        if (with)
            page = with;
    }
    apr_table_unset(r->headers_out, "Content-Length");
    apr_table_unset(r->headers_out, "ETag");
    apr_table_unset(r->headers_out, "Last-Modified");
    mod_stp_headers_personal(r);
    apr_bucket_brigade *out = apr_brigade_create(r->pool, f->c->bucket_alloc);
    apr_size_t len = strlen(page);
    APR_BRIGADE_INSERT_TAIL(out, apr_bucket_pool_create(page, len, r->pool, f->c->bucket_alloc));
    APR_BRIGADE_INSERT_TAIL(out, apr_bucket_eos_create(f->c->bucket_alloc));
    ap_set_content_length(r, (apr_off_t)len);
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, out);
}

static void insert_bar(request_rec *r)
{
    if (!r->main && preview_on(mod_stp_conf(r)))
        ap_add_output_filter(FILTER_NAME, NULL, r, r->connection);
}

/* --- /stp/preview ------------------------------------------------------------------------------- */

static const char preview_js[] =
    "// The preview bar (StpPreview): applies a choice as soon as it is made, and reloads the page\n"
    "// when sitegen serve publishes a new build or a build fails. Without JavaScript the bar's\n"
    "// Apply button does the first and the editor reloads.\n"
    "(function () {\n"
    "  var bar = document.getElementById('stp-preview');\n"
    "  if (!bar) return;\n"
    "  var form = bar.querySelector('form');\n"
    "  form.addEventListener('change', function () { form.submit(); });\n"
    "  var build = bar.getAttribute('data-build');\n"
    "  function poll(delay) {\n"
    "    setTimeout(function () {\n"
    "      fetch('/stp/preview/status', { cache: 'no-store', credentials: 'same-origin' })\n"
    "        .then(function (r) { return r.json(); })\n"
    "        .then(function (s) { if (s.build !== build) location.reload(); else poll(300); },\n"
    "              function () { poll(2000); });\n"
    "    }, delay);\n"
    "  }\n"
    "  poll(300);\n"
    "})();\n";

static const char preview_css[] =
    ".stp-preview{position:sticky;top:0;z-index:1000;background:#fff3bf;color:#212529;border-bottom:2px solid "
    "#f08c00;padding:.4em .8em;font:14px/1.5 system-ui,sans-serif}\n"
    ".stp-preview form{display:flex;flex-wrap:wrap;gap:.4em 1em;align-items:center;margin:0}\n"
    ".stp-preview select,.stp-preview button{font:inherit}\n"
    ".stp-preview-build{color:#495057}\n"
    ".stp-preview-errors{margin-top:.4em;background:#fff;border:1px solid #c92a2a;padding:.4em;color:#a61e4d}\n"
    ".stp-preview-errors pre{white-space:pre-wrap;margin:.2em 0;max-height:40vh;overflow:auto}\n";

static int send_text(request_rec *r, const char *type, const char *body)
{
    ap_set_content_type(r, type);
    mod_stp_headers_personal(r);
    ap_set_content_length(r, (apr_off_t)strlen(body));
    if (!r->header_only)
        ap_rwrite(body, (int)strlen(body), r);
    return OK;
}

/* The return path in another language: "/en/docs/x/" becomes "/de/docs/x/"; other paths keep
 * theirs and the stp_lang cookie (with ?lang on the module's pages) says the language. */
static const char *in_lang(const char *path, const char *lang, const char *locales, apr_pool_t *p)
{
    apr_size_t n = path[0] == '/' ? stp_paths_lang_len(path + 1) : 0;
    if (n && path[1 + n] == '/' && stp_http_locale_listed(locales, apr_pstrmemdup(p, path + 1, n)))
        return apr_pstrcat(p, "/", lang, path + 1 + n, NULL);
    if (!strncmp(path, "/stp/", 5) && !strchr(path, '?'))
        return apr_pstrcat(p, path, "?lang=", lang, NULL);
    return path;
}

static int choose(request_rec *r, stp_req_t *q)
{
    apr_table_t *form;
    int rc = mod_stp_form_read(&form, r, FORM_LIMIT);
    if (rc != OK)
        return rc;
    if (!bar_token_valid(r, q, form))
        return mod_stp_forbidden(r, q);
    const char *as = apr_table_get(form, "as"), *lang = apr_table_get(form, "lang");
    const char *back = apr_table_get(form, "return");
    stp_preview_t p;
    if (!as || stp_preview_parse(&p, as, r->pool) != APR_SUCCESS || p.nda)
        return HTTP_BAD_REQUEST;
    if (p.tenant) {
        apr_array_header_t *tenants = tenants_of(q->build, r->pool);
        int known = 0;
        for (int i = 0; i < tenants->nelts; i++)
            known |= !strcmp(APR_ARRAY_IDX(tenants, i, const char *), p.tenant);
        if (!known)
            return HTTP_BAD_REQUEST;
        p.nda = apr_table_get(form, "nda") != NULL;
    }
    if (!back || !stp_identity_return_ok(back))
        back = "/";
    apr_table_addn(r->err_headers_out, "Set-Cookie",
                   apr_pstrcat(r->pool, PREVIEW_COOKIE "=", stp_preview_format(&p, r->pool),
                               "; Path=/; HttpOnly; SameSite=Lax", NULL));
    if (lang && q->build && stp_http_locale_listed(q->build->locales, lang)) {
        apr_table_addn(r->err_headers_out, "Set-Cookie",
                       apr_pstrcat(r->pool, "stp_lang=", lang, "; Path=/; Max-Age=31536000; SameSite=Lax", NULL));
        back = in_lang(back, lang, q->build->locales, r->pool);
    }
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "stp: preview as %s", stp_preview_format(&p, r->pool));
    return mod_stp_redirect(r, HTTP_SEE_OTHER, back);
}

/* The page's own "Sign in" and "Sign out" in the preview, where no identity provider stands
 * behind /stp/login: they switch the bar to a personal account, and back to anonymous. */
int mod_stp_preview_sign(request_rec *r, stp_req_t *q, int in, const char *target)
{
    apr_table_addn(r->err_headers_out, "Set-Cookie",
                   apr_pstrcat(r->pool, PREVIEW_COOKIE "=", in ? "personal" : "anonymous",
                               "; Path=/; HttpOnly; SameSite=Lax", NULL));
    return mod_stp_redirect(r, HTTP_SEE_OTHER,
                            target && stp_identity_return_ok(target) ? target
                                                                     : apr_pstrcat(r->pool, "/", q->lang, "/", NULL));
}

int mod_stp_preview_handler(request_rec *r)
{
    stp_req_t *q = mod_stp_req_get(r);
    if (!preview_on(q->conf))
        return HTTP_NOT_FOUND; /* no such URL outside the preview */
    const char *what = r->uri + strlen("/stp/preview");
    r->allowed |= AP_METHOD_BIT << M_GET;
    if (!*what) {
        r->allowed |= AP_METHOD_BIT << M_POST;
        return r->method_number == M_POST ? choose(r, q) : HTTP_METHOD_NOT_ALLOWED;
    }
    if (r->method_number != M_GET)
        return HTTP_METHOD_NOT_ALLOWED;
    if (!strcmp(what, ".js"))
        return send_text(r, "text/javascript; charset=utf-8", preview_js);
    if (!strcmp(what, ".css"))
        return send_text(r, "text/css; charset=utf-8", preview_css);
    stp_preview_status_t st;
    apr_status_t rv = stp_preview_status_read(&st, status_path(q->conf, r->pool), r->pool);
    if (rv != APR_SUCCESS)
        return HTTP_SERVICE_UNAVAILABLE;
    return mod_stp_json_send(r, apr_pstrcat(r->pool, "{\"build\":", stp_http_json_string(st.id, r->pool),
                                            ",\"failed\":", st.failed ? "true" : "false",
                                            ",\"errors\":", stp_http_json_string(st.errors, r->pool), "}\n", NULL));
}

void mod_stp_preview_register(apr_pool_t *p)
{
    ap_hook_post_read_request(mod_stp_preview_gate, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_insert_filter(insert_bar, NULL, NULL, APR_HOOK_MIDDLE);
    ap_register_output_filter(FILTER_NAME, bar_filter, NULL, AP_FTYPE_RESOURCE);
    (void)p;
}
