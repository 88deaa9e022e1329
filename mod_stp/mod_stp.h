/* mod_stp: declarations shared by the module's glue files. The configuration lives in
 * mod_stp.c; each request handler has its own file; the decisions are the core's (stp_*.h). */
#ifndef MOD_STP_H
#define MOD_STP_H

#include <httpd.h>
#include <http_config.h>
#include <libxml/tree.h>

#include "stp_identity.h"
#include "stp_org.h"
#include "stp_preview.h"
#include "stp_site.h"
#include "stp_state.h"

extern module AP_MODULE_DECLARE_DATA stp_module;
#ifndef STP_MODULE_MAIN
APLOG_USE_MODULE(stp); /* log lines name the module: [stp:notice]; mod_stp.c gets it from AP_DECLARE_MODULE */
#endif

/* One configuration per virtual host. Unset values are NULL / 0 / -1 so that merging can tell
 * them from explicit ones. */
typedef struct {
    const char *site_dir;           /* StpSite: where sitegen publishes (holds `current`) */
    apr_interval_time_t site_check; /* StpSiteCheckInterval: -1 unset */
    const char *state_dir;          /* StpStateDir: state.mdb and the CSRF key */
    apr_size_t map_size;            /* StpStateMapSize */
    const char *claim_prefix;
    stp_claims_map_t claims;
    int tenant_mode;                     /* StpTenantAccessDefault: stp_org_mode_t (open, assigned), -1 unset */
    int retention_months;                /* StpRetentionMonths: -1 unset, 0: the catalog's */
    const char *base_url;                /* StpBaseURL */
    const char *oidc_redirect_uri;       /* StpOIDCRedirectURI: where /stp/logout sends the user */
    int feedback_limit;                  /* StpFeedbackRate: anonymous answers per address, -1 unset */
    apr_interval_time_t feedback_window; /* ... per this time, -1 unset */
    int preview;                         /* StpPreview: 1 on (development only), -1 unset */
    const char *clock_file;              /* StpTestClockFile: tests' clock (embargoes, retention), NULL: real */

    /* Set up at startup. */
    unsigned char secret[32]; /* the CSRF key, from STATE/csrf.key */
    int have_secret;
    stp_site_t *site;          /* per process, created in child_init */
    int store_dbd;             /* StpStateStore dbd: the state is in PostgreSQL, through mod_dbd */
    stp_state_t *state;        /* per process, opened in child_init (state.mdb only) */
    const char *state_problem; /* per process: why state is NULL, for the log line of every refused change */
} stp_conf_t;

/* What the module answers, chosen in translate_name. */
typedef enum {
    STP_ROUTE_NONE = 0,
    STP_ROUTE_ROOT, /* "/": to the user's language */
    STP_ROUTE_DOWNLOAD,
    STP_ROUTE_ORG,
    STP_ROUTE_LOGIN,
    STP_ROUTE_LOGOUT,
    STP_ROUTE_NDA,
    STP_ROUTE_WHOAMI,
    STP_ROUTE_LIBRARY,
    STP_ROUTE_NOTIFICATIONS,
    STP_ROUTE_ACCOUNT,
    STP_ROUTE_SEARCH,
    STP_ROUTE_ADMIN,
    STP_ROUTE_HOME, /* a member's home page with the organisation's recommendations (set in fixups) */
    STP_ROUTE_FEEDBACK,
    STP_ROUTE_PREVIEW, /* /stp/preview*: the preview bar's (404 unless StpPreview On) */
    STP_ROUTE_ERROR,   /* the ErrorDocument of every status the portal answers */
    STP_ROUTE_UNKNOWN  /* under /stp/ but nothing of ours: 404 */
} stp_route_t;

/* The request as the handlers need it; built once per request (mod_stp_request.c). */
typedef struct {
    request_rec *r;
    stp_conf_t *conf;
    const stp_build_t *build; /* NULL when nothing is published */
    stp_user_t user;
    const char *email;
    int email_verified;      /* 0: the provider says the address is not verified */
    const char *name;        /* the name claim, for the header; NULL when absent */
    const char *lang;        /* the response language; on a download NULL until mod_stp_req_lang() */
    const char *lang_cookie; /* the stp_lang cookie's value, NULL when none */
    int download;            /* a /download/ URL: its ?lang= is the file's language, not the reader's */
    apr_table_t *query;
    const char *query_error; /* why the query string was refused (then `query` is empty), else NULL */
    const char *session;     /* the stp_sid cookie's value when well-formed, else NULL (stp_csrf.h) */
    stp_role_t org_role;     /* the member's role in their organisation (stp_org.h), NONE when not listed */
    stp_state_t *state;      /* StpStateStore dbd: this request's connection, taken when first needed */
    int state_failed;        /* ... and none could be had */
    int org_unknown;         /* the organisation's settings could not be read: treated as unlisted */
    /* The reader's values in the page as placeholders (mod_stp_attr_slot), so that the page may
     * be written from a kept frame (mod_stp_page_framed, stp_view_render_framed). */
    struct {
        xmlNodePtr node;
        const char *name, *value;
    } slot[STP_VIEW_SLOTS];
    int nslots;
    int framed;
} stp_req_t;

stp_conf_t *mod_stp_conf(const request_rec *r);

/* The most fields a search URL may carry (the query, the sort, the page and its filter values). */
#define MOD_STP_SEARCH_MAX_FIELDS 64

/* mod_stp_request.c: from request_rec to the core's inputs, and back to HTTP. */
stp_route_t mod_stp_route_of(const char *uri);
void mod_stp_user_of(stp_user_t *user, const char **email, const stp_conf_t *conf, request_rec *r);
/* The request as the core sees it, computed once and cached. Only after authentication has run
 * (fixups, handlers, or an authz provider once r->user is set): earlier, the claims are not there. */
stp_req_t *mod_stp_req_get(request_rec *r);
/* How the header names a signed-in user. */
const char *mod_stp_display_name(const stp_req_t *q);
/* The reader's language (q->lang), worked out on first use: a download needs it only for a file
 * with variants in several languages or for a page, and most downloads are neither. */
const char *mod_stp_req_lang(stp_req_t *q);
int mod_stp_redirect(request_rec *r, int status, const char *local_target);
int mod_stp_signin_redirect(request_rec *r);
/* The URL this request asked for (path and query), to come back to after a detour. */
const char *mod_stp_this_url(request_rec *r);
/* Error pages in the site layout: an HTTP status, a title key and a body key. */
int mod_stp_error_page(request_rec *r, stp_req_t *q, int status, const char *title_key, const char *body_key);
/* mod_stp_page.c: a page of `kind` with its title and the common header (site, language picker
 * that keeps this page, who is signed in); the handler adds its data below the returned <page>. */
xmlNodePtr mod_stp_page_start(stp_req_t *q, const char *kind, const char *title);
/* Who is signed in, for the header of a page (with the sign-out form's token when `signout`). */
void mod_stp_page_user(stp_req_t *q, xmlNodePtr page, int signout);
/* An element with escaped text (NULL: none), an attribute (NULL value: none). */
xmlNodePtr mod_stp_el(xmlNodePtr parent, const char *name, const char *text);
void mod_stp_attr(xmlNodePtr node, const char *name, const char *value);
/* As mod_stp_attr, for a value of this reader's alone (a name, a CSRF token): a placeholder in the
 * page's input, the value written into the result (stp_view_render_framed). */
void mod_stp_attr_slot(stp_req_t *q, xmlNodePtr node, const char *name, const char *value);
/* The handler's page is worth keeping as a frame: one of the pages many readers ask for again and
 * again (My Library, the NDA page, error pages), whose input is otherwise the same for many. */
void mod_stp_page_framed(stp_req_t *q);
/* HTML that sitegen rendered from Markdown (the NDA text), added as nodes. */
void mod_stp_page_html(stp_req_t *q, xmlNodePtr parent, const char *html);
/* Renders the page through the build's templates and sends it with `status`, no-store. */
int mod_stp_page_send(request_rec *r, stp_req_t *q, int status, xmlNodePtr page);
/* As mod_stp_page_send, with `items` (HTML the templates rendered, from mod_stp_items_render)
 * where the page's stp-items instruction stands: My Library's entries. */
int mod_stp_page_send_spliced(request_rec *r, stp_req_t *q, int status, xmlNodePtr page, const stp_view_item_t *items);
/* A page of kind "items" in this request's language, and its items each written alone
 * (stp_view_render_items). */
xmlNodePtr mod_stp_items_start(stp_req_t *q);
apr_status_t mod_stp_items_render(apr_array_header_t **items, stp_req_t *q, xmlNodePtr page);
/* A day as pages show it, in the response language. */
const char *mod_stp_date_text(stp_req_t *q, stp_day_t day, apr_pool_t *pool);
/* A UI string in the response language (the key itself when the catalog has none). */
const char *mod_stp_msg(stp_req_t *q, const char *key);
/* The moment this request is judged at (embargoes, retention): the request's time, or the one in
 * StpTestClockFile when a test configures it. */
apr_time_t mod_stp_now(request_rec *r);
/* The document `id` when it is published and live now (past its embargo): else NULL, as for an
 * unknown id (which the caller still checks for visibility). */
stp_doc_t *mod_stp_doc_get(stp_req_t *q, const char *id);
/* A document page that sitegen wrote under embargo/ (its document went live after the build), by
 * its path in the build (public/... or tenants/...): the absolute path of the page when its
 * document is live at `now`, else NULL (the page answers 404 as for an unknown id). */
const char *mod_stp_embargoed_page(const stp_build_t *b, const char *rel, apr_time_t now, apr_pool_t *pool);
/* The decision for one document (NULL: unknown id) for this request's user, today; an error
 * when the user's NDA acceptance could not be read (answer 503, not "accept"). */
apr_status_t mod_stp_decide(stp_decision_t *d, stp_req_t *q, const stp_doc_t *doc);
/* Reads an urlencoded POST body of at most `limit` bytes into *form; an HTTP status on failure. */
int mod_stp_form_read(apr_table_t **form, request_rec *r, apr_size_t limit);
/* The same for a form whose keys may repeat (checkboxes), at most `max_fields` fields. */
int mod_stp_form_read_multi(apr_table_t **form, request_rec *r, apr_size_t limit, int max_fields);
void mod_stp_set_env(request_rec *r, stp_req_t *q, const char *doc, const char *version, const char *decision);
/* Sends JSON that must not be cached (the user's own data). */
int mod_stp_json_send(request_rec *r, const char *json);
/* The user's CSRF token for a form's `purpose`, bound to the browser session (the stp_sid cookie,
 * set on this response when the browser has none yet). */
const char *mod_stp_csrf_form_token(stp_req_t *q, const char *purpose);
/* 1 when the form's csrf field is the user's token for `purpose` in this session and has not
 * expired; 0 (and a log line) otherwise. */
int mod_stp_csrf_valid(request_rec *r, stp_req_t *q, apr_table_t *form, const char *purpose);
/* A new session value for the browser (at sign-in), or none (at sign-out, `renew` 0): every token
 * issued before stops working. */
void mod_stp_session_reset(stp_req_t *q, int renew);
/* Security headers on every answer of a portal vhost (CSP without inline script, no framing,
 * same-origin referrers, nosniff), kept on error answers and redirects. */
void mod_stp_headers_secure(request_rec *r);
/* The answer depends on who asks: no cache may keep it, and the Cookie header picks it
 * (on error answers and redirects too). */
void mod_stp_headers_personal(request_rec *r);
/* 1 when a browser sent this request from one of our own pages, or the user typed it (Fetch
 * Metadata; without it, Origin or Referer against the Host header and StpBaseURL). */
int mod_stp_same_origin(request_rec *r, const stp_conf_t *conf);
/* A state operation that failed (or a state that this process could not open): logs `what` for
 * this user with the cause, every time, and answers 503 in the site layout. */
int mod_stp_state_error(request_rec *r, stp_req_t *q, apr_status_t rv, const char *what);

/* mod_stp_store.c: the users' state for this request: the process's state.mdb, or with
 * StpStateStore dbd a PostgreSQL connection from mod_dbd, taken on first use (NULL when none can
 * be had: the caller answers 503 through mod_stp_state_error). */
stp_state_t *mod_stp_state(stp_req_t *q);
/* What the database said of the last failure, for the log (NULL with state.mdb). */
const char *mod_stp_state_problem(stp_req_t *q);
const char *mod_stp_set_store(cmd_parms *cmd, void *dummy, const char *arg);
/* In each child: logs what the operator must do when the PostgreSQL schema is missing or another version. */
void mod_stp_store_child_check(server_rec *v, stp_conf_t *c, apr_pool_t *pchild);
/* The 403 page of a personal account where an organisation account is needed, offering to sign
 * in with another account. */
int mod_stp_personal_page(request_rec *r, stp_req_t *q);
/* The 403 page of a refused change. */
int mod_stp_forbidden(request_rec *r, stp_req_t *q);
/* mod_stp_unlisted.c: the 403 page of an unlisted member of an `assigned` organisation (the
 * organisation's pages, NDA documents). */
int mod_stp_unlisted_page(request_rec *r, stp_req_t *q);
/* Set in r->notes by whatever refuses an unlisted member with a bare 403 (Require stp-tenant, the
 * org pages' fixup), so that the error page is mod_stp_unlisted_page. */
#define MOD_STP_NOTE_UNLISTED "stp-unlisted"
/* The 403 page of a signed-in user who does not meet the document's requirements: it names them
 * (as the document's page does), so that the user knows what to ask for. */
int mod_stp_requirement_page(request_rec *r, stp_req_t *q, const stp_doc_t *doc);

/* The handlers. */
int mod_stp_download_handler(request_rec *r);
int mod_stp_nda_handler(request_rec *r);
int mod_stp_whoami_handler(request_rec *r);
int mod_stp_login_handler(request_rec *r);
int mod_stp_root_handler(request_rec *r);
int mod_stp_logout_handler(request_rec *r);
int mod_stp_library_handler(request_rec *r);
int mod_stp_notifications_handler(request_rec *r);
int mod_stp_account_handler(request_rec *r);
int mod_stp_search_handler(request_rec *r);
int mod_stp_admin_handler(request_rec *r);
/* mod_stp_home.c: the home and organisation pages of a member whose organisation chose industries
 * or regions, from the build's page models with the recommendations added. The fixup claims the
 * request (returns OK) only then; everyone else gets the static page. */
int mod_stp_home_fixup(request_rec *r, int org);
int mod_stp_home_handler(request_rec *r);
/* mod_stp_admin.c: the organisation's administrators and portal admins as <contact> elements, for
 * the page that sends an unlisted member to them. */
void mod_stp_admin_contacts(stp_req_t *q, xmlNodePtr parent);
int mod_stp_feedback_handler(request_rec *r);
int mod_stp_error_handler(request_rec *r);
/* mod_stp_error.c: /stp/error as the ErrorDocument of every status with a page, in server `s`
 * (where the operator has set none). */
void mod_stp_error_documents(server_rec *s, apr_pool_t *p, apr_pool_t *ptemp);
/* mod_stp_preview.c: StpPreview On. The preview identity of this request (from the bar's cookie;
 * anonymous without one), NULL when the preview is off. */
const stp_preview_t *mod_stp_preview_of(request_rec *r, const stp_conf_t *conf);
/* Records the NDA acceptance of a preview identity that has it, before the decisions read it. */
void mod_stp_preview_nda(stp_req_t *q, const stp_preview_t *p);
/* check_config's part: 1 (and a log line) when StpPreview is on in a server that is not a preview. */
int mod_stp_preview_check(server_rec *s, apr_pool_t *ptemp);
/* The loopback rule, first of all hooks (post_read_request). */
int mod_stp_preview_gate(request_rec *r);
int mod_stp_preview_handler(request_rec *r);
/* /stp/login (in 1) and /stp/logout (in 0) in the preview: the bar's personal account, or
 * anonymous, then *303* to `target` (a local path) or the home page. */
int mod_stp_preview_sign(request_rec *r, stp_req_t *q, int in, const char *target);
void mod_stp_preview_register(apr_pool_t *p);
/* mod_stp_authz.c */
void mod_stp_authz_register(apr_pool_t *p);
int mod_stp_org_fixup(request_rec *r);

#endif
