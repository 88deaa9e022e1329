/* mod_stp_library: My Library (GET/POST /stp/library) and notification settings
 * (GET/POST /stp/notifications). Static pages carry a plain "Save to library" form without a
 * token: a signed-in user confirms on a page that has one (stp.js adds the token instead), and an
 * anonymous user signs in first and comes back with the save done, through
 * /stp/library/resume, which only acts on an intent bound to a cookie set by the original POST,
 * and only when that POST came from one of our own pages (so the GET completes a same-origin POST
 * and cannot be started cross-site). */
#include <httpd.h>
#include <stdlib.h>
#include <string.h>

#include <http_log.h>
#include <http_protocol.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "mod_stp.h"
#include "stp_csrf.h"
#include "stp_validity.h"
#include "stp_http.h"
#include "stp_library.h"
#include "stp_notify.h"
#include "stp_paths.h"
#include "stp_hash.h"

#define FORM_LIMIT 4096
#define PENDING_COOKIE "stp_pending"

static const char *token(stp_req_t *q, const char *purpose)
{
    return mod_stp_csrf_form_token(q, purpose);
}

static int wants_json(request_rec *r)
{
    const char *accept = apr_table_get(r->headers_in, "Accept");
    return accept && strstr(accept, "application/json") != NULL;
}

static const char *doc_title(stp_req_t *q, const stp_doc_t *doc)
{
    const stp_text_t *t = stp_catalog_text_pick(doc->titles, q->lang, q->build->default_locale);
    return t ? t->text : doc->id;
}

/* The page of a document for this user: tenant documents live under the organisation's pages. */
static const char *doc_url(stp_req_t *q, const stp_doc_t *doc)
{
    return apr_pstrcat(q->r->pool, "/", q->lang, doc->access == STP_ACCESS_TENANT ? "/org/docs/" : "/docs/",
                       stp_http_url_escape(doc->id, q->r->pool), "/", NULL);
}

/* The document named by a form, if this user may know of it; its series' current version too. */
static stp_doc_t *visible_doc(stp_req_t *q, const char *id, stp_doc_t **current)
{
    stp_doc_t *doc;
    if (!id || !q->build || stp_paths_ident_len(id) != strlen(id) || !(doc = mod_stp_doc_get(q, id)) ||
        !stp_access_visible(&q->user, doc))
        return NULL; /* unknown, embargoed or another's */
    if (stp_catalog_get_current(current, q->build->cat, doc->series, mod_stp_now(q->r), q->r->pool) != APR_SUCCESS)
        *current = doc;
    return doc;
}

static apr_status_t save(stp_req_t *q, const stp_doc_t *doc, const stp_doc_t *current)
{
    const char *fp = stp_library_fingerprint(current, q->r->pool);
    stp_saved_t e = {doc->series, doc->id, fp, fp, apr_time_now()};
    return stp_library_save(mod_stp_state(q), q->user.key, &e);
}

/* --- GET /stp/library ---------------------------------------------------------------------------- */

typedef struct {
    const stp_doc_t *current;
    const stp_saved_t *entry;
    int changed;
    int expired; /* its validity has ended, judged at the request (static pages: at their publication) */
} row_t;

static int newest_first(const row_t *x, const row_t *y)
{
    if (x->current->published != y->current->published)
        return x->current->published < y->current->published ? 1 : -1;
    return strcmp(x->current->id, y->current->id);
}

/* A merge sort with its scratch space from the request pool. Not qsort: glibc's takes its scratch
 * space from malloc above 1 KiB (43 rows), and that malloc consolidated the heap libxml2 had just
 * freed into: 12 % of the library page's time with 50 documents. */
static void sort_rows(row_t *rows, int n, apr_pool_t *p)
{
    row_t *tmp = apr_palloc(p, sizeof(row_t) * (size_t)(n > 0 ? n : 1)), *src = rows, *dst = tmp;
    for (int width = 1; width < n; width *= 2) {
        for (int lo = 0; lo < n; lo += 2 * width) {
            int mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            int i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                dst[k++] = newest_first(&src[j], &src[i]) < 0 ? src[j++] : src[i++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        row_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != rows)
        memcpy(rows, src, sizeof(row_t) * (size_t)n);
}

/* The fingerprints of the rows' current versions (stp_library_fingerprint), kept with the build's
 * view like the entries' HTML: a hash per entry was a sixth of the page's time. */
static void fingerprints(stp_req_t *q, row_t *rows, int n, const char **fps)
{
    apr_pool_t *p = q->r->pool;
    const stp_view_t *view = q->build->view;
    const char **keys = apr_palloc(p, sizeof(char *) * (size_t)(n + 1));
    stp_view_item_t *kept = apr_palloc(p, sizeof(stp_view_item_t) * (size_t)(n + 1));
    for (int i = 0; i < n; i++)
        keys[i] = apr_pstrcat(p, "fingerprint\n", rows[i].current->id, NULL);
    if (!view || stp_view_kept_get(view, keys, n, kept) < n)
        for (int i = 0; i < n; i++)
            if (!view || !kept[i].html) {
                kept[i].html = stp_library_fingerprint(rows[i].current, p);
                kept[i].len = strlen(kept[i].html);
                if (view)
                    stp_view_keep(view, keys[i], &kept[i]);
            }
    for (int i = 0; i < n; i++)
        fps[i] = apr_pstrmemdup(p, kept[i].html, kept[i].len);
}

/* The entries the user may still see, newest update first. */
static apr_array_header_t *rows_of(stp_req_t *q, const apr_array_header_t *entries)
{
    apr_array_header_t *rows = apr_array_make(q->r->pool, entries->nelts + 1, sizeof(row_t));
    for (int i = 0; i < entries->nelts; i++) {
        const stp_saved_t *e = &APR_ARRAY_IDX(entries, i, stp_saved_t);
        const stp_doc_t *cur;
        if (stp_catalog_current_kept(&cur, q->build->cat, e->series, mod_stp_now(q->r), q->r->pool) != APR_SUCCESS ||
            !stp_access_offered(&q->user, cur))
            continue; /* access lost (tenant, requirements), or the series is gone: not shown */
        row_t *row = apr_array_push(rows);
        row->current = cur;
        row->entry = e;
    }
    const char **fps = apr_palloc(q->r->pool, sizeof(char *) * (size_t)(rows->nelts + 1));
    fingerprints(q, (row_t *)rows->elts, rows->nelts, fps);
    for (int i = 0; i < rows->nelts; i++) {
        row_t *row = &APR_ARRAY_IDX(rows, i, row_t);
        row->changed = strcmp(fps[i], row->entry->kept) != 0;
        row->expired = stp_validity_on(row->current, stp_date_from_time(q->r->request_time)) == STP_VALIDITY_EXPIRED;
    }
    sort_rows((row_t *)rows->elts, rows->nelts, q->r->pool);
    return rows;
}

/* A library entry as page input, under `parent`. */
static void entry_el(stp_req_t *q, xmlNodePtr parent, const row_t *row)
{
    apr_pool_t *p = q->r->pool;
    const stp_doc_t *d = row->current;
    char iso[11];
    stp_date_format_iso(iso, d->published);
    xmlNodePtr e = mod_stp_el(parent, "entry", doc_title(q, d));
    mod_stp_attr(e, "id", d->id);
    mod_stp_attr(e, "series", d->series);
    mod_stp_attr(e, "href", doc_url(q, d));
    mod_stp_attr(e, "version", d->version);
    mod_stp_attr(e, "published", iso);
    mod_stp_attr(e, "download", apr_pstrcat(p, "/download/", stp_http_url_escape(d->id, p), "?lang=", q->lang, NULL));
    if (row->changed)
        mod_stp_attr(e, "changed", "yes");
    if (row->expired)
        mod_stp_attr(e, "expired", "yes");
}

/* The entries' HTML, one after the other. An entry's HTML depends only on the document, the page's
 * language, whether it changed and whether it expired (nothing of the user's: the token is in the form around them),
 * so each is rendered through the templates once per build, language and variant in this process
 * and kept with the build's view (docs/architecture.md, "Library entries"); what is not kept yet
 * is rendered now, in one transformation. */
static apr_status_t entries_html(stp_view_item_t *out, stp_req_t *q, const apr_array_header_t *rows)
{
    apr_pool_t *p = q->r->pool;
    int n = rows->nelts, misses = 0;
    const char **keys = apr_palloc(p, sizeof(char *) * (size_t)n);
    stp_view_item_t *items = apr_palloc(p, sizeof(stp_view_item_t) * (size_t)n);
    for (int i = 0; i < n; i++) {
        const row_t *row = &APR_ARRAY_IDX(rows, i, row_t);
        keys[i] = apr_pstrcat(p, "library\n", q->lang, row->changed ? "\nchanged" : "\n",
                              row->expired ? "\nexpired\n" : "\n\n", row->current->id, NULL);
    }
    if (stp_view_kept_get(q->build->view, keys, n, items) < n) {
        xmlNodePtr page = mod_stp_items_start(q), lib = mod_stp_el(page, "library", NULL);
        apr_array_header_t *made;
        for (int i = 0; i < n; i++)
            if (!items[i].html) {
                entry_el(q, lib, &APR_ARRAY_IDX(rows, i, row_t));
                misses++;
            }
        apr_status_t rv = mod_stp_items_render(&made, q, page);
        if (rv != APR_SUCCESS)
            return rv;
        if (made->nelts != misses)
            return APR_EGENERAL; /* the templates do not make one item per entry */
        for (int i = 0, m = 0; i < n; i++)
            if (!items[i].html) {
                items[i] = APR_ARRAY_IDX(made, m++, stp_view_item_t);
                stp_view_keep(q->build->view, keys[i], &items[i]);
            }
    }
    apr_size_t len = 0;
    for (int i = 0; i < n; i++)
        len += items[i].len;
    char *html = apr_palloc(p, len + 1), *at = html;
    for (int i = 0; i < n; i++) {
        memcpy(at, items[i].html, items[i].len);
        at += items[i].len;
    }
    out->html = html;
    out->len = len;
    return APR_SUCCESS;
}

static int library_get(request_rec *r, stp_req_t *q)
{
    apr_pool_t *p = r->pool;
    apr_array_header_t *entries;
    apr_status_t rv = q->user.key && mod_stp_state(q)
                          ? stp_library_list(&entries, mod_stp_state(q), q->user.key, p)
                          : (entries = apr_array_make(p, 1, sizeof(stp_saved_t)), APR_SUCCESS);
    if (rv == APR_SUCCESS && q->org_unknown) /* which entries the member may see is not known */
        rv = APR_EGENERAL;
    if (rv != APR_SUCCESS)
        return mod_stp_state_error(r, q, rv, "reading the library");
    apr_array_header_t *rows = rows_of(q, entries);
    if (wants_json(r)) { /* for stp.js: the token and which series are saved */
        const char *list = "";
        for (int i = 0; i < rows->nelts; i++)
            list = apr_pstrcat(p, list, i ? "," : "",
                               stp_http_json_string(APR_ARRAY_IDX(rows, i, row_t).current->series, p), NULL);
        return mod_stp_json_send(
            r, apr_pstrcat(p, "{\"token\":", stp_http_json_string(q->user.key ? token(q, "library") : NULL, p),
                           ",\"series\":[", list, "]}\n", NULL));
    }
    if (!q->user.key)
        return mod_stp_signin_redirect(r);
    xmlNodePtr page = mod_stp_page_start(q, "library", mod_stp_msg(q, "library.title"));
    xmlNodePtr lib = mod_stp_el(page, "library", NULL);
    mod_stp_attr_slot(q, lib, "csrf", token(q, "library"));
    mod_stp_page_framed(q);
    mod_stp_attr(lib, "return", apr_pstrcat(p, "/stp/library?lang=", q->lang, NULL));
    stp_view_item_t items;
    if (rows->nelts && q->build->view && entries_html(&items, q, rows) == APR_SUCCESS) {
        mod_stp_attr(lib, "entries", apr_itoa(p, rows->nelts));
        return mod_stp_page_send_spliced(r, q, HTTP_OK, page, &items);
    }
    for (int i = 0; i < rows->nelts; i++) /* none, or no view to render them alone: the page has them */
        entry_el(q, lib, &APR_ARRAY_IDX(rows, i, row_t));
    return mod_stp_page_send(r, q, HTTP_OK, page);
}

/* --- POST /stp/library -------------------------------------------------------------------------- */

static const char *back_to(stp_req_t *q, const char *asked)
{
    return asked && stp_identity_return_ok(asked) ? asked
                                                  : apr_pstrcat(q->r->pool, "/stp/library?lang=", q->lang, NULL);
}

/* Whether a browser sent this POST from one of our own pages. A cross-site form could otherwise
 * start a pending save that a signed-in victim completes on the way back from sign-in. A POST
 * must say where it comes from: without Sec-Fetch-Site or Origin it is not remembered. */
static int same_origin(request_rec *r, stp_req_t *q)
{
    const char *site = apr_table_get(r->headers_in, "Sec-Fetch-Site");
    return (site ? !strcmp(site, "same-origin") : apr_table_get(r->headers_in, "Origin") != NULL) &&
           mod_stp_same_origin(r, q->conf);
}

/* An anonymous user's "save": remember the intent in a cookie only this browser has, then sign in. */
static int pending_save(request_rec *r, stp_req_t *q, const stp_doc_t *doc, const char *back)
{
    apr_pool_t *p = r->pool;
    unsigned char raw[16];
    char nonce[33];
    if (!same_origin(r, q)) { /* sign in, then press Save again */
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "stp: anonymous library save from another origin not remembered");
        return mod_stp_redirect(r, HTTP_SEE_OTHER,
                                apr_pstrcat(p, "/stp/login?return=", stp_http_url_escape(back, p), NULL));
    }
    if (apr_generate_random_bytes(raw, sizeof raw) != APR_SUCCESS)
        return HTTP_INTERNAL_SERVER_ERROR;
    stp_hash_hex(nonce, raw, sizeof raw);
    const char *intent = stp_csrf_token(q->conf->secret, sizeof q->conf->secret, nonce, "",
                                        apr_pstrcat(p, "pending-save\n", doc->id, "\n", back, NULL), apr_time_now(), p);
    apr_table_addn(
        r->err_headers_out, "Set-Cookie",
        apr_pstrcat(p, PENDING_COOKIE "=", nonce, "; Path=/stp/library; Max-Age=1800; HttpOnly; SameSite=Lax", NULL));
    const char *resume = apr_pstrcat(p, "/stp/library/resume?doc=", stp_http_url_escape(doc->id, p),
                                     "&return=", stp_http_url_escape(back, p), "&intent=", intent, NULL);
    return mod_stp_redirect(r, HTTP_SEE_OTHER,
                            apr_pstrcat(p, "/stp/login?return=", stp_http_url_escape(resume, p), NULL));
}

/* A signed-in user whose form had no token (a static page without JavaScript): ask once more. */
static int confirm_page(request_rec *r, stp_req_t *q, const stp_doc_t *doc, const char *back)
{
    xmlNodePtr page = mod_stp_page_start(q, "confirm", mod_stp_msg(q, "library.save"));
    xmlNodePtr c = mod_stp_el(page, "confirm", doc_title(q, doc));
    mod_stp_attr_slot(q, c, "csrf", token(q, "library"));
    mod_stp_attr(c, "doc", doc->id);
    mod_stp_attr(c, "return", back);
    return mod_stp_page_send(r, q, HTTP_OK, page);
}

static int library_post(request_rec *r, stp_req_t *q)
{
    apr_table_t *form;
    int rc = mod_stp_form_read(&form, r, FORM_LIMIT);
    if (rc != OK)
        return rc;
    const char *action = apr_table_get(form, "action"), *csrf = apr_table_get(form, "csrf");
    const char *back = back_to(q, apr_table_get(form, "return"));
    int add = action && !strcmp(action, "add");
    if (!add && !(action && !strcmp(action, "remove")))
        return HTTP_BAD_REQUEST;
    stp_doc_t *current, *doc = visible_doc(q, apr_table_get(form, "doc"), &current);
    if (!doc)
        return HTTP_NOT_FOUND; /* unknown, or another tenant's: the same answer */
    if (!q->user.key)
        return add ? pending_save(r, q, doc, back) : mod_stp_signin_redirect(r);
    /* The library offers only what the user can have; removing is always allowed. */
    if (add && !stp_access_requirements_met(&q->user, doc->requires))
        return mod_stp_requirement_page(r, q, doc);
    if (!csrf && add && !wants_json(r))
        return confirm_page(r, q, doc, back);
    if (!mod_stp_csrf_valid(r, q, form, "library"))
        return mod_stp_forbidden(r, q);
    if (!mod_stp_state(q))
        return mod_stp_state_error(r, q, APR_EGENERAL, "the library");
    apr_status_t rv = add ? save(q, doc, current) : stp_library_remove(mod_stp_state(q), q->user.key, doc->series);
    if (rv != APR_SUCCESS)
        return mod_stp_state_error(r, q, rv, add ? "saving to the library" : "removing from the library");
    if (wants_json(r))
        return mod_stp_json_send(r, apr_pstrcat(r->pool, "{\"series\":", stp_http_json_string(doc->series, r->pool),
                                                ",\"saved\":", add ? "true" : "false", "}\n", NULL));
    return mod_stp_redirect(r, HTTP_SEE_OTHER, back);
}

/* GET /stp/library/resume: after sign-in, the save an anonymous user asked for. */
static int library_resume(request_rec *r, stp_req_t *q)
{
    apr_pool_t *p = r->pool;
    if (!q->user.key)
        return mod_stp_signin_redirect(r);
    const char *id = apr_table_get(q->query, "doc"), *asked = apr_table_get(q->query, "return");
    const char *intent = apr_table_get(q->query, "intent");
    const char *nonce = stp_http_cookie_get(apr_table_get(r->headers_in, "Cookie"), PENDING_COOKIE, p);
    const char *back = back_to(q, asked);
    stp_doc_t *current, *doc = visible_doc(q, id, &current);
    if (!nonce || !asked || strcmp(back, asked) || !id ||
        !stp_csrf_check(q->conf->secret, sizeof q->conf->secret, nonce, "",
                        apr_pstrcat(p, "pending-save\n", id, "\n", asked, NULL), intent, apr_time_now(), p)) {
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, "stp: pending library save for %s refused: no matching intent",
                      q->user.key);
        return mod_stp_forbidden(r, q);
    }
    apr_table_addn(r->err_headers_out, "Set-Cookie",
                   PENDING_COOKIE "=; Path=/stp/library; Max-Age=0; HttpOnly; SameSite=Lax");
    if (!doc) /* the user signed in as someone who may not see it */
        return HTTP_NOT_FOUND;
    if (!stp_access_requirements_met(&q->user, doc->requires))
        return mod_stp_requirement_page(r, q, doc);
    apr_status_t rv = mod_stp_state(q) ? save(q, doc, current) : APR_EGENERAL;
    if (rv != APR_SUCCESS)
        return mod_stp_state_error(r, q, rv, "saving to the library");
    return mod_stp_redirect(r, HTTP_SEE_OTHER, back);
}

int mod_stp_library_handler(request_rec *r)
{
    stp_req_t *q = mod_stp_req_get(r);
    r->allowed |= (AP_METHOD_BIT << M_GET) | (AP_METHOD_BIT << M_POST);
    if (!q->build)
        return HTTP_NOT_FOUND;
    if (q->user.unlisted) /* the portal's features are for the people their organisation listed */
        return mod_stp_unlisted_page(r, q);
    if (!strcmp(r->uri, "/stp/library/resume"))
        return r->method_number == M_GET ? library_resume(r, q) : HTTP_METHOD_NOT_ALLOWED;
    if (r->method_number == M_POST)
        return library_post(r, q);
    if (r->method_number != M_GET)
        return HTTP_METHOD_NOT_ALLOWED;
    return library_get(r, q);
}

/* --- /stp/notifications ------------------------------------------------------------------------- */

/* The domains the address may use: the e-mail claim's, when the provider verified it (stpctl
 * notify checks the same against the address it last recorded). */
static const char *allowed_domain(stp_req_t *q)
{
    const char *at = q->email && q->email_verified ? strrchr(q->email, '@') : NULL;
    return at && at[1] ? apr_pstrdup(q->r->pool, at + 1) : NULL;
}

/* An address of the form local@domain with the allowed domain (case-insensitive), no spaces,
 * no control characters, at most 254 bytes. */
static int address_ok(const char *addr, const char *domain)
{
    const char *at = strrchr(addr, '@');
    if (!at || at == addr || !domain || strlen(addr) > 254 || strcasecmp(at + 1, domain))
        return 0;
    for (const unsigned char *c = (const unsigned char *)addr; *c; c++)
        if (*c <= ' ' || *c == 0x7f || *c == '<' || *c == '>' || *c == '"' || *c == ',' || *c == ';' || *c == '\\')
            return 0;
    return 1;
}

/* error: the UI string key of the address field's error, NULL when none. */
static int notifications_page(request_rec *r, stp_req_t *q, int status, const stp_notify_t *n, const char *error,
                              int saved)
{
    apr_pool_t *p = r->pool;
    xmlNodePtr page = mod_stp_page_start(q, "notifications", mod_stp_msg(q, "notifications.title"));
    xmlNodePtr form = mod_stp_el(page, "notifications", NULL);
    mod_stp_attr_slot(q, form, "csrf", token(q, "notifications"));
    if (saved)
        mod_stp_attr(form, "saved", "yes");
    for (int f = STP_FREQ_OFF; f <= STP_FREQ_MONTHLY; f++) {
        xmlNodePtr o = mod_stp_el(form, "frequency", NULL);
        mod_stp_attr(o, "value", stp_notify_freq_name((stp_freq_t)f));
        if ((int)n->freq == f)
            mod_stp_attr(o, "selected", "yes");
    }
    xmlNodePtr addr = mod_stp_el(form, "address", n->address ? n->address : "");
    if (error) {
        mod_stp_attr(addr, "error", error);
        const char *domain = allowed_domain(q);
        mod_stp_attr(addr, "domains", domain ? domain : "-");
    }
    const char *chosen = n->locale && *n->locale ? n->locale : q->lang;
    char *list = apr_pstrdup(p, q->build->locales), *state;
    for (const char *l = apr_strtok(list, ",", &state); l; l = apr_strtok(NULL, ",", &state)) {
        const char *name = stp_catalog_get_string(q->build->cat, l, "locale.name", p);
        xmlNodePtr o = mod_stp_el(form, "locale", name ? name : l);
        mod_stp_attr(o, "id", l);
        if (!strcmp(l, chosen))
            mod_stp_attr(o, "selected", "yes");
    }
    return mod_stp_page_send(r, q, status, page);
}

static int notifications_post(request_rec *r, stp_req_t *q, stp_notify_t *n)
{
    apr_table_t *form;
    stp_freq_t freq;
    int rc = mod_stp_form_read(&form, r, FORM_LIMIT);
    if (rc != OK)
        return rc;
    if (!mod_stp_csrf_valid(r, q, form, "notifications"))
        return mod_stp_forbidden(r, q);
    const char *address = apr_table_get(form, "address"), *locale = apr_table_get(form, "locale");
    if (stp_notify_freq_parse(&freq, apr_table_get(form, "frequency")) != APR_SUCCESS || !locale ||
        !stp_http_locale_listed(q->build->locales, locale))
        return HTTP_BAD_REQUEST; /* not something the form can send */
    stp_notify_t want = *n;
    want.freq = freq;
    want.address = address ? address : "";
    want.locale = locale;
    want.tenant = q->user.tenant ? q->user.tenant : "";
    const char *domain = allowed_domain(q), *error = NULL;
    if (*want.address && !address_ok(want.address, domain))
        error = "notifications.address.invalid";
    else if (!*want.address && freq != STP_FREQ_OFF)
        error = "notifications.address.required";
    if (error) /* shown next to the field, in the page's language; nothing stored */
        return notifications_page(r, q, HTTP_BAD_REQUEST, &want, error, 0);
    apr_status_t rv = mod_stp_state(q) ? stp_notify_put(mod_stp_state(q), q->user.key, &want) : APR_EGENERAL;
    if (rv != APR_SUCCESS)
        return mod_stp_state_error(r, q, rv, "saving notification settings");
    return mod_stp_redirect(r, HTTP_SEE_OTHER, apr_pstrcat(r->pool, "/stp/notifications?saved=1&lang=", q->lang, NULL));
}

int mod_stp_notifications_handler(request_rec *r)
{
    stp_req_t *q = mod_stp_req_get(r);
    stp_notify_t n;
    r->allowed |= (AP_METHOD_BIT << M_GET) | (AP_METHOD_BIT << M_POST);
    if (!q->build)
        return HTTP_NOT_FOUND;
    if (!q->user.key)
        return mod_stp_signin_redirect(r);
    if (r->method_number != M_GET && r->method_number != M_POST)
        return HTTP_METHOD_NOT_ALLOWED;
    if (q->user.unlisted)
        return mod_stp_unlisted_page(r, q);
    apr_status_t rv = mod_stp_state(q) ? stp_notify_get(&n, mod_stp_state(q), q->user.key, r->pool) : APR_EGENERAL;
    if (rv != APR_SUCCESS && !APR_STATUS_IS_NOTFOUND(rv))
        return mod_stp_state_error(r, q, rv, "reading notification settings");
    if (rv != APR_SUCCESS && q->email && q->email_verified)
        n.address = q->email; /* a first visit: suggest the sign-in address */
    if (r->method_number == M_POST)
        return notifications_post(r, q, &n);
    const char *saved = apr_table_get(q->query, "saved");
    return notifications_page(r, q, HTTP_OK, &n, NULL, saved != NULL);
}
