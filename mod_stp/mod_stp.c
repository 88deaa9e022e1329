/* mod_stp: httpd glue over the stp_* core. One config struct, a merge function, the directives
 * table and one place that registers hooks; the handlers have their own files and the decisions
 * live in the core. docs/directives.md documents every directive. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ap_mpm.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <unixd.h>

#include <apr_lib.h>
#include <apr_strings.h>

#define STP_MODULE_MAIN
#include "mod_stp.h"
#include "stp_http.h"
#include "stp_log.h"
#include "stp_paths.h"

#define DEFAULT_MAP_SIZE ((apr_size_t)1 << 30)
#define MIN_MAP_SIZE ((apr_size_t)1 << 20)
#define DEFAULT_SITE_CHECK apr_time_from_sec(1)

/* --- configuration ---------------------------------------------------------------------------- */

static void *create_server_conf(apr_pool_t *p, server_rec *s)
{
    stp_conf_t *c = apr_pcalloc(p, sizeof *c);
    c->tenant_mode = -1;
    c->retention_months = -1;
    c->site_check = -1;
    return c;
}

#define MERGE(f) c->f = add->f ? add->f : base->f
static void *merge_server_conf(apr_pool_t *p, void *basev, void *addv)
{
    stp_conf_t *base = basev, *add = addv, *c = apr_pcalloc(p, sizeof *c);
    MERGE(site_dir);
    MERGE(state_dir);
    MERGE(map_size);
    MERGE(claim_prefix);
    MERGE(claims.user_claim);
    MERGE(claims.issuer_claim);
    MERGE(claims.tenant_claim);
    MERGE(claims.email_claim);
    MERGE(claims.admin_claim);
    MERGE(claims.admin_value);
    MERGE(claims.consumer_tenants);
    MERGE(base_url);
    MERGE(oidc_redirect_uri);
    c->tenant_mode = add->tenant_mode >= 0 ? add->tenant_mode : base->tenant_mode;
    c->retention_months = add->retention_months >= 0 ? add->retention_months : base->retention_months;
    c->site_check = add->site_check >= 0 ? add->site_check : base->site_check;
    return c;
}
#undef MERGE

/* The defaults, filled in after merging so that every vhost has a complete configuration. */
static void apply_defaults(stp_conf_t *c)
{
    if (!c->map_size)
        c->map_size = DEFAULT_MAP_SIZE;
    if (!c->claim_prefix)
        c->claim_prefix = "OIDC_CLAIM_";
    if (!c->claims.user_claim)
        c->claims.user_claim = "sub";
    if (!c->claims.issuer_claim)
        c->claims.issuer_claim = "iss";
    if (!c->claims.tenant_claim)
        c->claims.tenant_claim = "tid";
    if (!c->claims.email_claim)
        c->claims.email_claim = "email";
    if (!c->claims.admin_claim) {
        c->claims.admin_claim = "roles";
        c->claims.admin_value = "GlobalAdmin";
    }
    if (c->site_check < 0)
        c->site_check = DEFAULT_SITE_CHECK;
    if (c->tenant_mode < 0)
        c->tenant_mode = STP_MODE_OPEN;
    if (c->retention_months < 0)
        c->retention_months = 0;
    if (!c->oidc_redirect_uri)
        c->oidc_redirect_uri = "/stp/oidc-callback";
}

static stp_conf_t *cmd_conf(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config, &stp_module);
}

static const char *set_path(cmd_parms *cmd, void *dconf, const char *arg)
{
    const char **field = (const char **)((char *)cmd_conf(cmd) + (apr_size_t)cmd->info);
    *field = ap_server_root_relative(cmd->pool, arg);
    return *field ? NULL : apr_pstrcat(cmd->pool, cmd->cmd->name, ": invalid path ", arg, NULL);
}

static const char *set_claim(cmd_parms *cmd, void *dconf, const char *arg)
{
    const char **field = (const char **)((char *)cmd_conf(cmd) + (apr_size_t)cmd->info);
    if (!*arg || strpbrk(arg, " \t=,"))
        return apr_pstrcat(cmd->pool, cmd->cmd->name, ": '", arg, "' is not a claim name", NULL);
    *field = arg;
    return NULL;
}

static const char *set_map_size(cmd_parms *cmd, void *dconf, const char *arg)
{
    char *end;
    apr_int64_t n = apr_strtoi64(arg, &end, 10);
    apr_int64_t unit = !strcasecmp(end, "K")   ? 1 << 10
                       : !strcasecmp(end, "M") ? 1 << 20
                       : !strcasecmp(end, "G") ? 1 << 30
                       : !*end                 ? 1
                                               : 0;
    if (n <= 0 || !unit || end == arg || (apr_uint64_t)(n * unit) < MIN_MAP_SIZE || n > ((apr_int64_t)1 << 40) / unit)
        return apr_pstrcat(cmd->pool, "StpStateMapSize: '", arg,
                           "' is not a size between 1M and 1024G (a number with an optional K, M or G)", NULL);
    cmd_conf(cmd)->map_size = (apr_size_t)(n * unit);
    return NULL;
}

static const char *set_admin_claim(cmd_parms *cmd, void *dconf, const char *claim, const char *value)
{
    stp_conf_t *c = cmd_conf(cmd);
    const char *err = set_claim(cmd, dconf, claim);
    if (err)
        return err;
    c->claims.admin_value = value;
    return NULL;
}

static const char *add_consumer_tenant(cmd_parms *cmd, void *dconf, const char *arg)
{
    stp_conf_t *c = cmd_conf(cmd);
    if (!c->claims.consumer_tenants)
        c->claims.consumer_tenants = apr_array_make(cmd->pool, 2, sizeof(const char *));
    APR_ARRAY_PUSH(c->claims.consumer_tenants, const char *) = arg;
    return NULL;
}

static const char *set_tenant_mode(cmd_parms *cmd, void *dconf, const char *arg)
{
    if (!strcasecmp(arg, "open"))
        cmd_conf(cmd)->tenant_mode = STP_MODE_OPEN;
    else if (!strcasecmp(arg, "assigned"))
        cmd_conf(cmd)->tenant_mode = STP_MODE_ASSIGNED;
    else
        return apr_pstrcat(cmd->pool, "StpTenantAccessDefault: '", arg, "' is neither open nor assigned", NULL);
    return NULL;
}

static const char *set_retention(cmd_parms *cmd, void *dconf, const char *arg)
{
    char *end;
    apr_int64_t n = apr_strtoi64(arg, &end, 10);
    if (*end || end == arg || n < 0 || n > 1200)
        return apr_pstrcat(cmd->pool, "StpRetentionMonths: '", arg,
                           "' is not a number of months from 0 (the catalog's own) to 1200", NULL);
    cmd_conf(cmd)->retention_months = (int)n;
    return NULL;
}

static const char *set_site_check(cmd_parms *cmd, void *dconf, const char *arg)
{
    char *end;
    apr_int64_t n = apr_strtoi64(arg, &end, 10);
    apr_interval_time_t t = !strcmp(end, "ms") ? n * 1000 : (!*end || !strcmp(end, "s")) ? apr_time_from_sec(n) : -1;
    if (end == arg || !apr_isdigit(*arg) || n > 3600 * 1000 || t < 0 || t > apr_time_from_sec(3600))
        return apr_pstrcat(cmd->pool, "StpSiteCheckInterval: '", arg,
                           "' is not a time from 0 to 3600 seconds (e.g. 1, 250ms)", NULL);
    cmd_conf(cmd)->site_check = t;
    return NULL;
}

static const char *set_base_url(cmd_parms *cmd, void *dconf, const char *arg)
{
    apr_size_t n = strlen(arg);
    const char *host = !strncmp(arg, "https://", 8) ? arg + 8 : !strncmp(arg, "http://", 7) ? arg + 7 : NULL;
    if (!host || !*host || *host == '/' || strpbrk(arg, " \t\"<>?#\\") || arg[n - 1] == '/')
        return apr_pstrcat(cmd->pool, "StpBaseURL: '", arg,
                           "' is not an absolute http(s) URL without a trailing slash, query or fragment", NULL);
    cmd_conf(cmd)->base_url = arg;
    return NULL;
}

static const char *set_redirect_uri(cmd_parms *cmd, void *dconf, const char *arg)
{
    if (!stp_return_target_ok(arg) || strchr(arg, '?'))
        return apr_pstrcat(cmd->pool, "StpOIDCRedirectURI: '", arg,
                           "' must be the local path of OIDCRedirectURI, e.g. /stp/oidc-callback", NULL);
    cmd_conf(cmd)->oidc_redirect_uri = arg;
    return NULL;
}

#define FIELD(f) ((void *)APR_OFFSETOF(stp_conf_t, f))
static const command_rec stp_cmds[] = {
    AP_INIT_TAKE1("StpSite", set_path, FIELD(site_dir), RSRC_CONF,
                  "the directory sitegen publishes to (the one holding 'current')"),
    AP_INIT_TAKE1("StpSiteCheckInterval", set_site_check, NULL, RSRC_CONF,
                  "how long a look at the published site's 'current' link holds, default 1 (second); 0: every request"),
    AP_INIT_TAKE1("StpStateDir", set_path, FIELD(state_dir), RSRC_CONF,
                  "the directory of state.mdb, the users' state (writable by the httpd user)"),
    AP_INIT_TAKE1("StpStateMapSize", set_map_size, NULL, RSRC_CONF, "the most state.mdb may grow to, e.g. 1G"),
    AP_INIT_TAKE1("StpClaimPrefix", set_claim, FIELD(claim_prefix), RSRC_CONF,
                  "the prefix of the claim variables (OIDCClaimPrefix), default OIDC_CLAIM_"),
    AP_INIT_TAKE1("StpUserClaim", set_claim, FIELD(claims.user_claim), RSRC_CONF, "the subject claim, default sub"),
    AP_INIT_TAKE1("StpIssuerClaim", set_claim, FIELD(claims.issuer_claim), RSRC_CONF, "the issuer claim, default iss"),
    AP_INIT_TAKE1("StpTenantClaim", set_claim, FIELD(claims.tenant_claim), RSRC_CONF, "the tenant claim, default tid"),
    AP_INIT_TAKE1("StpEmailClaim", set_claim, FIELD(claims.email_claim), RSRC_CONF, "the e-mail claim, default email"),
    AP_INIT_TAKE2("StpAdminClaim", set_admin_claim, FIELD(claims.admin_claim), RSRC_CONF,
                  "the claim and value that make a tenant administrator, default roles GlobalAdmin"),
    AP_INIT_ITERATE("StpConsumerTenants", add_consumer_tenant, NULL, RSRC_CONF,
                    "tenant ids that mean a personal account"),
    AP_INIT_TAKE1("StpTenantAccessDefault", set_tenant_mode, NULL, RSRC_CONF,
                  "open (every member may use the portal) or assigned (members need a role), default open"),
    AP_INIT_TAKE1("StpRetentionMonths", set_retention, NULL, RSRC_CONF,
                  "months a superseded version stays available; 0 keeps the catalog's"),
    AP_INIT_TAKE1("StpBaseURL", set_base_url, NULL, RSRC_CONF, "the public URL of the portal, for links in e-mail"),
    AP_INIT_TAKE1("StpOIDCRedirectURI", set_redirect_uri, NULL, RSRC_CONF,
                  "the local path of OIDCRedirectURI, where /stp/logout ends the session"),
    {NULL}};
#undef FIELD

/* --- startup ---------------------------------------------------------------------------------- */

static void log_to_httpd(void *baton, stp_log_level_t level, apr_status_t rv, const char *msg)
{
    static const int levels[] = {APLOG_ERR, APLOG_WARNING, APLOG_INFO, APLOG_DEBUG};
    ap_log_error(APLOG_MARK, levels[level], rv, baton, "%s", msg);
}

/* The CSRF key survives restarts, so that a form shown before one still works after it. */
static apr_status_t load_secret(stp_conf_t *c, apr_pool_t *p)
{
    const char *path = apr_pstrcat(p, c->state_dir, "/csrf.key", NULL);
    apr_file_t *f;
    apr_size_t n = sizeof c->secret;
    apr_status_t rv = apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY, 0, p);
    if (rv == APR_SUCCESS) {
        rv = apr_file_read_full(f, c->secret, sizeof c->secret, &n);
        apr_file_close(f);
        return rv == APR_SUCCESS && n == sizeof c->secret ? APR_SUCCESS : APR_EGENERAL;
    }
    if (!APR_STATUS_IS_ENOENT(rv))
        return rv;
    if ((rv = apr_generate_random_bytes(c->secret, sizeof c->secret)) != APR_SUCCESS)
        return rv;
    const char *tmp = apr_pstrcat(p, path, ".tmp", NULL);
    rv = apr_file_open(&f, tmp, APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_TRUNCATE | APR_FOPEN_BINARY,
                       APR_FPROT_UREAD | APR_FPROT_UWRITE, p);
    if (rv == APR_SUCCESS) {
        rv = apr_file_write_full(f, c->secret, sizeof c->secret, NULL);
        if (rv == APR_SUCCESS)
            rv = apr_file_sync(f);
        apr_file_close(f);
    }
    return rv == APR_SUCCESS ? apr_file_rename(tmp, path, p) : rv;
}

/* The children run as the User of the configuration: state.mdb must be theirs. */
static apr_status_t give_to_children(const char *path)
{
    if (geteuid() != 0)
        return APR_SUCCESS;
    if (chown(path, ap_unixd_config.user_id, ap_unixd_config.group_id) && errno != ENOENT)
        return APR_FROM_OS_ERROR(errno);
    return APR_SUCCESS;
}

/* The readers LMDB must make room for: every thread of every process that may run at once. */
static unsigned max_readers(void)
{
    int daemons = 0, threads = 0;
    ap_mpm_query(AP_MPMQ_HARD_LIMIT_DAEMONS, &daemons);
    ap_mpm_query(AP_MPMQ_HARD_LIMIT_THREADS, &threads);
    if (daemons < 1)
        daemons = 1;
    if (threads < 1)
        threads = 1;
    return (unsigned)(daemons * threads) + 16; /* and stpctl */
}

/* 1 when `inner` is `outer` or a path below it. */
static int path_within(const char *inner, const char *outer)
{
    apr_size_t n = strlen(outer);
    while (n > 1 && outer[n - 1] == '/')
        n--;
    return !strncmp(inner, outer, n) && (inner[n] == '\0' || inner[n] == '/');
}

/* The DocumentRoot may be the published public tree, nothing more: under it, httpd would serve
 * the gated files, the tenants' pages, the catalog or the users' state without asking us. */
static const char *unsafe_document_root(server_rec *v, stp_conf_t *c, apr_pool_t *p)
{
    core_server_config *core = ap_get_core_module_config(v->module_config);
    const char *root = core ? core->ap_document_root : NULL;
    if (!root)
        return NULL;
    const char *pub = apr_pstrcat(p, c->site_dir, "/current/public", NULL);
    if (path_within(c->site_dir, root) || (path_within(root, c->site_dir) && !path_within(root, pub)))
        return apr_psprintf(p,
                            "DocumentRoot %s would serve the gated files and tenant pages of StpSite %s directly; "
                            "set DocumentRoot to %s",
                            root, c->site_dir, pub);
    if (path_within(c->state_dir, root))
        return apr_psprintf(p, "StpStateDir %s is under DocumentRoot %s, which would serve the users' state; move it",
                            c->state_dir, root);
    return NULL;
}

static int setup_vhost(server_rec *v, stp_conf_t *c, apr_pool_t *ptemp)
{
    if (!c->state_dir) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, v,
                     "StpSite %s is set but StpStateDir is not: add StpStateDir with a directory the httpd user "
                     "may write (it holds state.mdb)",
                     c->site_dir);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    const char *unsafe = unsafe_document_root(v, c, ptemp);
    if (unsafe) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, v, "%s", unsafe);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_status_t rv = apr_dir_make_recursive(c->state_dir, APR_FPROT_OS_DEFAULT, ptemp);
    stp_state_t *st;
    stp_state_options_t opts = {c->map_size, max_readers()};
    if (rv == APR_SUCCESS)
        rv = load_secret(c, ptemp);
    if (rv == APR_SUCCESS)
        rv = stp_state_open(&st, c->state_dir, &opts, ptemp);
    if (rv == APR_SUCCESS) {
        stp_state_close(st);
        const char *files[] = {"", "/state.mdb", "/state.mdb-lock"};
        for (size_t i = 0; i < 3 && rv == APR_SUCCESS; i++)
            rv = give_to_children(apr_pstrcat(ptemp, c->state_dir, files[i], NULL));
    }
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, v,
                     "StpStateDir %s: cannot set up the state (directory, csrf.key, state.mdb); check that it is a "
                     "directory on a local file system that root may write",
                     c->state_dir);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    c->have_secret = 1;
    stp_catalog_t *cat;
    const char *path = apr_pstrcat(ptemp, c->site_dir, "/current/catalog.mdb", NULL);
    if ((rv = stp_catalog_open(&cat, path, ptemp)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, v,
                     "StpSite %s: no published catalog at %s yet; everything answers 404 until sitegen -o %s "
                     "CONTENT_DIR publishes one",
                     c->site_dir, path, c->site_dir);
    } else {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, v, "StpSite %s: catalog generation %" APR_UINT64_T_FMT, c->site_dir,
                     stp_catalog_generation(cat));
        stp_catalog_close(cat);
    }
    return OK;
}

static int post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    stp_log_set(log_to_httpd, s);
    for (server_rec *v = s; v; v = v->next) {
        stp_conf_t *c = ap_get_module_config(v->module_config, &stp_module);
        apply_defaults(c);
        if (c->site_dir) {
            int rc = setup_vhost(v, c, ptemp);
            if (rc != OK)
                return rc;
        }
    }
    return OK;
}

/* LMDB environments must not cross a fork: each child opens its own, once per state directory. */
static void child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_hash_t *states = apr_hash_make(pchild);
    for (server_rec *v = s; v; v = v->next) {
        stp_conf_t *c = ap_get_module_config(v->module_config, &stp_module);
        if (!c->site_dir)
            continue;
        if (stp_site_create(&c->site, c->site_dir, c->site_check, pchild) != APR_SUCCESS)
            c->site = NULL;
        c->state = apr_hash_get(states, c->state_dir, APR_HASH_KEY_STRING);
        if (c->state)
            continue;
        stp_state_options_t opts = {c->map_size, max_readers()};
        apr_status_t rv = stp_state_open(&c->state, c->state_dir, &opts, pchild);
        if (rv != APR_SUCCESS) {
            char buf[120];
            c->state_problem = apr_pstrdup(pchild, apr_strerror(rv, buf, sizeof buf));
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, v,
                         "StpStateDir %s: cannot open state.mdb in this child; changes answer 503", c->state_dir);
            c->state = NULL;
            continue;
        }
        if (stp_state_stale_readers(c->state))
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, v, "StpStateDir %s: cleared %d reader slots of dead processes",
                         c->state_dir, stp_state_stale_readers(c->state));
        apr_hash_set(states, c->state_dir, APR_HASH_KEY_STRING, c->state);
    }
}

/* --- request mapping ---------------------------------------------------------------------------- */

static stp_route_t route_get(request_rec *r)
{
    const char *note = apr_table_get(r->notes, "stp-route");
    return note ? (stp_route_t)atoi(note) : STP_ROUTE_NONE;
}

/* Whether the query string names a parameter `name` (as mod_auth_openidc reads it); a query that
 * does not parse counts as naming it when the name or an escape appears in it. */
static int query_names(request_rec *r, const char *name)
{
    apr_table_t *args;
    const char *err;
    if (!r->args)
        return 0;
    if (stp_form_parse(&args, &err, r->args, strlen(r->args), r->pool) != APR_SUCCESS)
        return strstr(r->args, name) || strchr(r->args, '%');
    return apr_table_get(args, name) != NULL;
}

/* mod_auth_openidc ends the session on a plain GET of its redirect URI with `logout`: refuse it
 * here, before it authenticates, unless it comes from our own pages (the /stp/logout POST's
 * redirect) or was typed, so that no other site can sign a user out. */
static int refuse_foreign_logout(request_rec *r, stp_conf_t *c)
{
    if (strcmp(r->uri, c->oidc_redirect_uri) || !query_names(r, "logout") || stp_same_origin(r, c))
        return DECLINED;
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, "stp: sign-out through %s from another site refused (%s)",
                  c->oidc_redirect_uri,
                  apr_table_get(r->headers_in, "Sec-Fetch-Site") ? "Sec-Fetch-Site" : "Origin/Referer");
    stp_headers_personal(r);
    stp_forbidden(r, stp_req_get(r));
    return DONE;
}

static int translate_name(request_rec *r)
{
    stp_conf_t *c = stp_conf(r);
    const char *rel;
    if (!c->site_dir || !r->uri)
        return DECLINED;
    stp_headers_secure(r);
    if (refuse_foreign_logout(r, c) == DONE)
        return DONE;
    stp_route_t route = stp_route_of(r->uri);
    if (route == STP_ROUTE_NONE) {
        switch (stp_path_from_org_url(&rel, NULL, r->uri, r->pool)) {
        case APR_NOTFOUND:
            break;
        case APR_INCOMPLETE:
            return stp_redirect(r, HTTP_MOVED_PERMANENTLY,
                                apr_pstrcat(r->pool, r->uri, "/", r->args ? "?" : "", r->args ? r->args : "", NULL));
        default:
            route = STP_ROUTE_ORG;
        }
    }
    if (route != STP_ROUTE_NONE) {
        /* Ours entirely: no DocumentRoot file stands behind these URLs. Each answer depends on
         * who asks (a 404 too: an outsider's must equal an unknown id's, headers included);
         * public downloads take this back when they send the file. */
        stp_headers_personal(r);
        apr_table_setn(r->notes, "stp-route", apr_itoa(r->pool, route));
        r->filename = apr_pstrcat(r->pool, "stp:", r->uri, NULL);
        if (route != STP_ROUTE_ORG)
            r->handler = "stp";
        return OK;
    }
    /* Document pages live in shard directories of the published build (stp_paths.h). */
    switch (stp_path_from_url(&rel, r->uri, r->pool)) {
    case APR_SUCCESS:
        r->filename = apr_pstrcat(r->pool, c->site_dir, "/current/", rel, NULL);
        r->canonical_filename = r->filename;
        return OK;
    case APR_INCOMPLETE:
        return stp_redirect(r, HTTP_MOVED_PERMANENTLY,
                            apr_pstrcat(r->pool, r->uri, "/", r->args ? "?" : "", r->args ? r->args : "", NULL));
    default:
        return DECLINED;
    }
}

static int map_to_storage(request_rec *r)
{
    /* Skip the directory walk for our own URLs, as mod_proxy does for its. */
    return route_get(r) != STP_ROUTE_NONE ? OK : DECLINED;
}

static int fixups(request_rec *r)
{
    return route_get(r) == STP_ROUTE_ORG ? stp_org_fixup(r) : DECLINED;
}

static int handler(request_rec *r)
{
    if (!r->handler || strcmp(r->handler, "stp"))
        return DECLINED;
    switch (route_get(r)) {
    case STP_ROUTE_DOWNLOAD:
        return stp_download_handler(r);
    case STP_ROUTE_NDA:
        return stp_nda_handler(r);
    case STP_ROUTE_WHOAMI:
        return stp_whoami_handler(r);
    case STP_ROUTE_LIBRARY:
        return stp_library_handler(r);
    case STP_ROUTE_NOTIFICATIONS:
        return stp_notifications_handler(r);
    case STP_ROUTE_LOGIN:
        return stp_login_handler(r);
    case STP_ROUTE_LOGOUT:
        return stp_logout_handler(r);
    case STP_ROUTE_ROOT:
        return stp_root_handler(r);
    case STP_ROUTE_UNKNOWN:
        return HTTP_NOT_FOUND;
    default:
        return DECLINED;
    }
}

static void register_hooks(apr_pool_t *p)
{
    ap_hook_post_config(post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_translate_name(translate_name, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_map_to_storage(map_to_storage, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_fixups(fixups, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(handler, NULL, NULL, APR_HOOK_MIDDLE);
    stp_authz_register(p);
}

AP_DECLARE_MODULE(stp) = {STANDARD20_MODULE_STUFF, NULL,     NULL,           create_server_conf,
                          merge_server_conf,       stp_cmds, register_hooks,
#if defined(AP_MODULE_FLAG_ALWAYS_MERGE)
                          AP_MODULE_FLAG_NONE
#endif
};
