/* mod_stp: httpd glue over the stp_* core. One config struct, a merge function, the directives
 * table and one place that registers hooks. The decisions live in the core. */
#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#include <apr_strings.h>

#include "stp_catalog.h"
#include "stp_log.h"
#include "stp_paths.h"

module AP_MODULE_DECLARE_DATA stp_module;

typedef struct {
    const char *site_dir; /* the directory sitegen publishes to (holds `current`) */
} stp_server_conf_t;

static void *create_server_conf(apr_pool_t *p, server_rec *s)
{
    return apr_pcalloc(p, sizeof(stp_server_conf_t));
}

static void *merge_server_conf(apr_pool_t *p, void *basev, void *addv)
{
    stp_server_conf_t *base = basev, *add = addv, *c = apr_pcalloc(p, sizeof *c);
    c->site_dir = add->site_dir ? add->site_dir : base->site_dir;
    return c;
}

static const char *set_site(cmd_parms *cmd, void *dconf, const char *arg)
{
    stp_server_conf_t *c = ap_get_module_config(cmd->server->module_config, &stp_module);
    c->site_dir = ap_server_root_relative(cmd->pool, arg);
    return c->site_dir ? NULL : apr_pstrcat(cmd->pool, "StpSite: invalid path ", arg, NULL);
}

static const command_rec stp_cmds[] = {AP_INIT_TAKE1("StpSite", set_site, NULL, RSRC_CONF,
                                                     "the directory sitegen publishes to (the one holding 'current')"),
                                       {NULL}};

static void log_to_httpd(void *baton, stp_log_level_t level, apr_status_t rv, const char *msg)
{
    static const int levels[] = {APLOG_ERR, APLOG_WARNING, APLOG_INFO, APLOG_DEBUG};
    ap_log_error(APLOG_MARK, levels[level], rv, baton, "%s", msg);
}

static int post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    stp_log_set(log_to_httpd, s);
    for (server_rec *v = s; v; v = v->next) {
        stp_server_conf_t *c = ap_get_module_config(v->module_config, &stp_module);
        stp_catalog_t *cat;
        if (!c->site_dir)
            continue;
        const char *path = apr_pstrcat(ptemp, c->site_dir, "/current/catalog.mdb", NULL);
        apr_status_t rv = stp_catalog_open(&cat, path, ptemp);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_WARNING, rv, v,
                         "StpSite %s: no published catalog at %s yet; run sitegen -o %s CONTENT_DIR", c->site_dir, path,
                         c->site_dir);
            continue;
        }
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, v, "StpSite %s: catalog generation %" APR_UINT64_T_FMT, c->site_dir,
                     stp_catalog_generation(cat));
        stp_catalog_close(cat);
    }
    return OK;
}

/* Document pages live in shard directories of the published build (stp_paths.h): map their
 * public URLs onto the files. Everything else keeps httpd's own mapping. */
static int translate_name(request_rec *r)
{
    stp_server_conf_t *c = ap_get_module_config(r->server->module_config, &stp_module);
    const char *rel;
    if (!c->site_dir || !r->uri)
        return DECLINED;
    switch (stp_path_from_url(&rel, r->uri, r->pool)) {
    case APR_SUCCESS:
        r->filename = apr_pstrcat(r->pool, c->site_dir, "/current/", rel, NULL);
        r->canonical_filename = r->filename;
        return OK;
    case APR_INCOMPLETE:
        /* A path-only Location: never built from the Host header. */
        apr_table_setn(r->headers_out, "Location",
                       apr_pstrcat(r->pool, r->uri, "/", r->args ? "?" : "", r->args ? r->args : "", NULL));
        return HTTP_MOVED_PERMANENTLY;
    default:
        return DECLINED;
    }
}

static void register_hooks(apr_pool_t *p)
{
    ap_hook_post_config(post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_translate_name(translate_name, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(stp) = {STANDARD20_MODULE_STUFF, NULL,     NULL,           create_server_conf,
                          merge_server_conf,       stp_cmds, register_hooks,
#if defined(AP_MODULE_FLAG_ALWAYS_MERGE)
                          AP_MODULE_FLAG_NONE
#endif
};
