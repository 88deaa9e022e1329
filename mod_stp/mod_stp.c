/* mod_stp: httpd glue over the stp_* core. One config struct, a merge function, the directives
 * table and one place that registers hooks; the handlers have their own files and the decisions
 * live in the core. docs/directives.md documents every directive. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ap_mpm.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <unixd.h>

#include <apr_lib.h>
#include <libxml/parser.h>
#include <libxslt/xslt.h>
#include <apr_strings.h>

#define STP_MODULE_MAIN
#include "mod_stp.h"
#include "stp_http.h"
#include "stp_log.h"
#include "stp_paths.h"
#include "stp_layout.h"

#define DEFAULT_MAP_SIZE ((apr_size_t)1 << 30)
#define MIN_MAP_SIZE ((apr_size_t)1 << 20)
#define DEFAULT_SITE_CHECK apr_time_from_sec(1)
/* Anonymous feedback per client address: 20 answers in 10 minutes. */
#define DEFAULT_FEEDBACK_LIMIT 20
#define DEFAULT_FEEDBACK_WINDOW apr_time_from_sec(600)

/* --- configuration ---------------------------------------------------------------------------- */

static void *create_server_conf(apr_pool_t *p, server_rec *s)
{
    stp_conf_t *c = apr_pcalloc(p, sizeof *c);
    c->tenant_mode = -1;
    c->retention_months = -1;
    c->site_check = -1;
    c->feedback_limit = -1;
    c->feedback_window = -1;
    c->store_dbd = -1;
    c->preview = -1;
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
    MERGE(claims.staff_claim);
    MERGE(claims.staff_value);
    MERGE(claims.consumer_tenants);
    MERGE(base_url);
    MERGE(oidc_redirect_uri);
    MERGE(clock_file);
    c->tenant_mode = add->tenant_mode >= 0 ? add->tenant_mode : base->tenant_mode;
    c->retention_months = add->retention_months >= 0 ? add->retention_months : base->retention_months;
    c->site_check = add->site_check >= 0 ? add->site_check : base->site_check;
    c->store_dbd = add->store_dbd >= 0 ? add->store_dbd : base->store_dbd;
    c->preview = add->preview >= 0 ? add->preview : base->preview;
    if (add->feedback_limit >= 0) { /* the two numbers of one directive go together */
        c->feedback_limit = add->feedback_limit;
        c->feedback_window = add->feedback_window;
    } else {
        c->feedback_limit = base->feedback_limit;
        c->feedback_window = base->feedback_window;
    }
    return c;
}
#undef MERGE

/* The defaults, filled in after merging so that every vhost has a complete configuration. */
static void apply_defaults(stp_conf_t *c)
{
    if (c->store_dbd < 0)
        c->store_dbd = 0;
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
        c->tenant_mode = STP_ORG_MODE_OPEN;
    if (c->retention_months < 0)
        c->retention_months = 0;
    if (!c->oidc_redirect_uri)
        c->oidc_redirect_uri = "/stp/oidc-callback";
    if (c->feedback_limit < 0) {
        c->feedback_limit = DEFAULT_FEEDBACK_LIMIT;
        c->feedback_window = DEFAULT_FEEDBACK_WINDOW;
    }
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

static const char *set_staff_claim(cmd_parms *cmd, void *dconf, const char *claim, const char *value)
{
    stp_conf_t *c = cmd_conf(cmd);
    const char *err = set_claim(cmd, dconf, claim);
    if (err)
        return err;
    if (!*value)
        return "StpStaffClaim: the value must not be empty";
    c->claims.staff_value = value;
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
        cmd_conf(cmd)->tenant_mode = STP_ORG_MODE_OPEN;
    else if (!strcasecmp(arg, "assigned"))
        cmd_conf(cmd)->tenant_mode = STP_ORG_MODE_ASSIGNED;
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
    if (!stp_identity_return_ok(arg) || strchr(arg, '?'))
        return apr_pstrcat(cmd->pool, "StpOIDCRedirectURI: '", arg,
                           "' must be the local path of OIDCRedirectURI, e.g. /stp/oidc-callback", NULL);
    cmd_conf(cmd)->oidc_redirect_uri = arg;
    return NULL;
}

static const char *set_feedback_rate(cmd_parms *cmd, void *dconf, const char *limit, const char *seconds)
{
    char *end1, *end2 = NULL;
    apr_int64_t n = apr_strtoi64(limit, &end1, 10);
    apr_int64_t w = seconds ? apr_strtoi64(seconds, &end2, 10) : 600;
    if (*end1 || end1 == limit || !apr_isdigit(*limit) || n < 0 || n > 100000 ||
        (seconds && (*end2 || end2 == seconds || !apr_isdigit(*seconds))) || w < 1 || w > 86400)
        return apr_pstrcat(cmd->pool, "StpFeedbackRate: '", limit, seconds ? " " : "", seconds ? seconds : "",
                           "' is not a number of answers (0: no anonymous feedback) and of seconds from 1 to 86400",
                           NULL);
    cmd_conf(cmd)->feedback_limit = (int)n;
    cmd_conf(cmd)->feedback_window = apr_time_from_sec(w);
    return NULL;
}

static const char *set_preview(cmd_parms *cmd, void *dconf, int on)
{
    cmd_conf(cmd)->preview = on ? 1 : 0;
    return NULL;
}

#define FIELD(f) ((void *)APR_OFFSETOF(stp_conf_t, f))
static const command_rec stp_cmds[] = {
    AP_INIT_TAKE1("StpSite", set_path, FIELD(site_dir), RSRC_CONF,
                  "the directory sitegen publishes to (the one holding 'current')"),
    AP_INIT_TAKE1("StpTestClockFile", set_path, FIELD(clock_file), RSRC_CONF,
                  "tests only: a file holding the moment (YYYY-MM-DDTHH:MM:SSZ) the module judges embargoes at"),
    AP_INIT_TAKE1("StpSiteCheckInterval", set_site_check, NULL, RSRC_CONF,
                  "how long a look at the published site's 'current' link holds, default 1 (second); 0: every request"),
    AP_INIT_TAKE1("StpStateDir", set_path, FIELD(state_dir), RSRC_CONF,
                  "the directory of state.mdb, the users' state (writable by the httpd user)"),
    AP_INIT_TAKE1("StpStateMapSize", set_map_size, NULL, RSRC_CONF, "the most state.mdb may grow to, e.g. 1G"),
    AP_INIT_TAKE1(
        "StpStateStore", mod_stp_set_store, NULL, RSRC_CONF,
        "lmdb (state.mdb in StpStateDir, the default) or dbd (PostgreSQL through mod_dbd, for several nodes)"),
    AP_INIT_TAKE1("StpClaimPrefix", set_claim, FIELD(claim_prefix), RSRC_CONF,
                  "the prefix of the claim variables (OIDCClaimPrefix), default OIDC_CLAIM_"),
    AP_INIT_TAKE1("StpUserClaim", set_claim, FIELD(claims.user_claim), RSRC_CONF, "the subject claim, default sub"),
    AP_INIT_TAKE1("StpIssuerClaim", set_claim, FIELD(claims.issuer_claim), RSRC_CONF, "the issuer claim, default iss"),
    AP_INIT_TAKE1("StpTenantClaim", set_claim, FIELD(claims.tenant_claim), RSRC_CONF, "the tenant claim, default tid"),
    AP_INIT_TAKE1("StpEmailClaim", set_claim, FIELD(claims.email_claim), RSRC_CONF, "the e-mail claim, default email"),
    AP_INIT_TAKE2("StpAdminClaim", set_admin_claim, FIELD(claims.admin_claim), RSRC_CONF,
                  "the claim and value that make a tenant administrator, default roles GlobalAdmin"),
    AP_INIT_TAKE2("StpStaffClaim", set_staff_claim, FIELD(claims.staff_claim), RSRC_CONF,
                  "the claim and value of the portal's own staff, who may open any organisation's settings; "
                  "default none"),
    AP_INIT_ITERATE("StpConsumerTenants", add_consumer_tenant, NULL, RSRC_CONF,
                    "tenant ids that mean a personal account"),
    AP_INIT_TAKE1("StpTenantAccessDefault", set_tenant_mode, NULL, RSRC_CONF,
                  "open (every member may use the portal) or assigned (members need a role), for organisations "
                  "that have not chosen; default open"),
    AP_INIT_TAKE1("StpRetentionMonths", set_retention, NULL, RSRC_CONF,
                  "months a superseded version stays available; 0 keeps the catalog's"),
    AP_INIT_TAKE1("StpBaseURL", set_base_url, NULL, RSRC_CONF, "the public URL of the portal, for links in e-mail"),
    AP_INIT_TAKE1("StpOIDCRedirectURI", set_redirect_uri, NULL, RSRC_CONF,
                  "the local path of OIDCRedirectURI, where /stp/logout ends the session"),
    AP_INIT_TAKE12("StpFeedbackRate", set_feedback_rate, NULL, RSRC_CONF,
                   "anonymous feedback answers per client address and per how many seconds, default 20 600"),
    AP_INIT_FLAG("StpPreview", set_preview, NULL, RSRC_CONF,
                 "development only (sitegen serve): identities from the preview bar instead of claims, loopback "
                 "clients only; default Off"),
    {NULL}};
#undef FIELD

/* --- startup ---------------------------------------------------------------------------------- */

static void log_to_httpd(void *baton, stp_log_level_t level, apr_status_t rv, const char *msg)
{
    static const int levels[] = {APLOG_ERR, APLOG_WARNING, APLOG_NOTICE, APLOG_INFO, APLOG_DEBUG};
    ap_log_error(APLOG_MARK, levels[level], rv, baton, "%s", msg);
}

/* The state directory belongs to the children's user, who could plant a symbolic link there:
 * root opens nothing in it that follows one (O_NOFOLLOW), and changes modes and owners through
 * the descriptor it opened. */
static apr_status_t give_fd(int fd, mode_t mode)
{
    if (fchmod(fd, mode))
        return APR_FROM_OS_ERROR(errno);
    if (geteuid() == 0 && fchown(fd, ap_unixd_config.user_id, ap_unixd_config.group_id))
        return APR_FROM_OS_ERROR(errno);
    return APR_SUCCESS;
}

/* The children run as the User of the configuration: the state is theirs, and theirs only,
 * whatever the umask was or a restore left behind. A missing file is fine. */
static apr_status_t give_to_children(const char *path, int is_dir)
{
    struct stat sb;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? APR_SUCCESS : APR_FROM_OS_ERROR(errno);
    apr_status_t rv = fstat(fd, &sb) ? APR_FROM_OS_ERROR(errno)
                      : is_dir       ? (S_ISDIR(sb.st_mode) ? give_fd(fd, 0700) : APR_ENOTDIR)
                                     : (S_ISREG(sb.st_mode) ? give_fd(fd, 0600) : APR_EINVAL);
    close(fd);
    return rv;
}

/* The CSRF key survives restarts, so that a form shown before one still works after it. */
static apr_status_t load_secret(stp_conf_t *c, apr_pool_t *p)
{
    const char *path = apr_pstrcat(p, c->state_dir, "/" STP_STATE_CSRF_KEY, NULL);
    ssize_t n;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        n = read(fd, c->secret, sizeof c->secret);
        close(fd);
        return n == (ssize_t)sizeof c->secret ? APR_SUCCESS : APR_EGENERAL;
    }
    if (errno != ENOENT)
        return APR_FROM_OS_ERROR(errno);
    apr_status_t rv = apr_generate_random_bytes(c->secret, sizeof c->secret);
    if (rv != APR_SUCCESS)
        return rv;
    const char *tmp = apr_pstrcat(p, path, ".tmp", NULL);
    unlink(tmp); /* a leftover, or a link someone put there: O_EXCL below creates a fresh file */
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
        return APR_FROM_OS_ERROR(errno);
    rv = give_fd(fd, 0600);
    if (rv == APR_SUCCESS)
        rv = write(fd, c->secret, sizeof c->secret) == (ssize_t)sizeof c->secret && !fsync(fd)
                 ? APR_SUCCESS
                 : APR_FROM_OS_ERROR(errno ? errno : EIO);
    close(fd);
    if (rv == APR_SUCCESS && rename(tmp, path))
        rv = APR_FROM_OS_ERROR(errno);
    return rv;
}

/* Runs fn in a process of its own with the children's User and Group (when httpd runs as root,
 * as it must to switch users), and copies back the `size` bytes fn leaves in `out`: what the
 * children will be able to do, found out before any of them exists. */
static apr_status_t as_child_user(void (*fn)(void *baton, void *out), void *baton, void *out, apr_size_t size)
{
    int fds[2], status;
    apr_status_t rv = APR_SUCCESS;
    if (pipe(fds))
        return APR_FROM_OS_ERROR(errno);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        int dropped =
            geteuid() != 0 ||
            (!setgid(ap_unixd_config.group_id) &&
             (!ap_unixd_config.user_name || !initgroups(ap_unixd_config.user_name, ap_unixd_config.group_id)) &&
             !setuid(ap_unixd_config.user_id));
        int err = dropped ? 0 : errno;
        if (dropped)
            fn(baton, out);
        _exit(write(fds[1], &err, sizeof err) == (ssize_t)sizeof err &&
                      (err || write(fds[1], out, size) == (ssize_t)size)
                  ? 0
                  : 1);
    }
    close(fds[1]);
    if (pid < 0)
        rv = APR_FROM_OS_ERROR(errno);
    int err = 0;
    char *buf = out;
    apr_size_t got = 0, want = sizeof err + size;
    while (pid > 0 && got < want) {
        ssize_t r = got < sizeof err ? read(fds[0], (char *)&err + got, sizeof err - got)
                                     : read(fds[0], buf + got - sizeof err, want - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (apr_size_t)r;
        if (got == sizeof err && err)
            break;
    }
    close(fds[0]);
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (rv == APR_SUCCESS && err)
        rv = APR_FROM_OS_ERROR(err);
    else if (rv == APR_SUCCESS && got != want)
        rv = APR_EGENERAL;
    return rv;
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
    return !strncmp(inner, outer, n) && (inner[n] == '\0' || inner[n] == '/' || (n == 1 && outer[0] == '/'));
}

/* The path with its symbolic links resolved as far as it exists; the rest as written. A link
 * would otherwise let a DocumentRoot or Alias reach the site while naming another directory. */
static const char *resolve_path(const char *path, apr_pool_t *p)
{
    char buf[PATH_MAX];
    char *copy = apr_pstrdup(p, path);
    apr_size_t n = strlen(copy);
    while (n > 1 && copy[n - 1] == '/')
        copy[--n] = '\0';
    if (realpath(copy, buf))
        return apr_pstrdup(p, buf);
    char *slash = strrchr(copy, '/');
    if (errno != ENOENT || !slash || slash == copy)
        return copy;
    *slash = '\0';
    const char *parent = resolve_path(copy, p);
    return apr_pstrcat(p, strcmp(parent, "/") ? parent : "", "/", slash + 1, NULL);
}

/* Where one StpSite puts what only the module may serve, resolved. */
typedef struct {
    const stp_conf_t *conf;
    const server_rec *server;
    const char *site, *pub, *state;
} guarded_t;

/* Why serving `target` as files would bypass the module, or NULL. The published public tree
 * (current/public) is the one part of StpSite that httpd may serve by itself. */
static const char *exposes(const char *what, const char *target, const guarded_t *g, apr_pool_t *p)
{
    const char *real = resolve_path(target, p);
    const char *via = strcmp(real, target) ? apr_pstrcat(p, " (", real, " after resolving links)", NULL) : "";
    if (path_within(g->site, real) || (path_within(real, g->site) && !path_within(real, g->pub)))
        return apr_psprintf(p,
                            "%s %s%s would serve the gated files and tenant pages of StpSite %s directly; "
                            "set DocumentRoot to %s/" STP_SITE_CURRENT "/" STP_BUILD_PUBLIC
                            " and point no Alias into %s",
                            what, target, via, g->conf->site_dir, g->conf->site_dir, g->conf->site_dir);
    if (path_within(g->state, real) || path_within(real, g->state))
        return apr_psprintf(p,
                            "StpStateDir %s is under %s %s%s, which would serve the users' state; move it "
                            "(for example to /var/lib/stp)",
                            g->conf->state_dir, what, target, via);
    return NULL;
}

/* A startup check failed: to stderr under configtest and at start, to the main error log on a
 * reload (where the vhost's log would hide it behind "Configuration Failed"). */
static void refuse(apr_status_t rv, const char *msg)
{
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_CRIT, rv, NULL, "mod_stp: %s", msg);
}

/* The filesystem target of an Alias-like directive, or NULL. Regex forms count up to their first
 * substitution, so that `AliasMatch ^/x/(.*) /srv/site/current/$1` is judged by /srv/site/current. */
static const char *alias_target(const ap_directive_t *d, apr_pool_t *p)
{
    const char *args = d->args, *first = ap_getword_conf(p, &args), *second = ap_getword_conf(p, &args);
    const char *target = *second ? second : first; /* the one-argument form inside <Location> */
    if (!*target || (!*second && (!d->parent || strncasecmp(d->parent->directive, "<Location", 9))))
        return NULL;
    if (strstr(d->directive, "atch") || strchr(target, '$')) {
        char *t = apr_pstrdup(p, target), *dollar = strchr(t, '$');
        if (dollar) {
            *dollar = '\0';
            char *slash = strrchr(t, '/');
            if (!slash)
                return NULL;
            slash[1] = '\0';
        }
        target = t;
    }
    return ap_server_root_relative(p, target);
}

/* Values that were never filled in: the example's change-me, a <placeholder>, "secret". */
static const char *placeholder_reason(const char *value, apr_pool_t *p)
{
    static const char *const words[] = {"changeme", "secret", "password", "passphrase", "placeholder", "replaceme"};
    apr_size_t n = strlen(value);
    if (!strncasecmp(value, "exec:", 5))
        return NULL; /* mod_auth_openidc runs it; its output is not ours to see */
    if (n >= 2 && value[0] == '<' && value[n - 1] == '>')
        return "is a <placeholder>";
    char *flat = apr_palloc(p, n + 1), *o = flat;
    for (const char *c = value; *c; c++)
        if (!strchr("-_ .", *c))
            *o++ = (char)apr_tolower(*c);
    *o = '\0';
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (strstr(flat, words[i]))
            return apr_psprintf(p, "contains \"%s\"", words[i]);
    return NULL;
}

typedef struct {
    apr_array_header_t *guarded;
    apr_pool_t *p;
    int failed;
    const ap_directive_t *oidc; /* the first mod_auth_openidc directive, if any */
} tree_check_t;

/* mod_auth_openidc passes claims as headers too unless told otherwise (its default is `both`).
 * mod_stp reads the environment only, but a header OIDC_CLAIM_x would still reach every CGI, proxy
 * and application behind the portal as a claim, where a client's own header collides with it. */
static void check_pass_claims(const ap_directive_t *d, const char *where, tree_check_t *t)
{
    const char *args = d->args, *how = ap_getword_conf(t->p, &args);
    if (strcasecmp(how, "headers") && strcasecmp(how, "both"))
        return;
    refuse(0, apr_psprintf(t->p,
                           "OIDCPassClaimsAs %s at %s passes the claims as request headers, which a client can "
                           "send itself and which collide with its own; mod_stp reads the claims from the "
                           "environment only: write OIDCPassClaimsAs environment",
                           how, where));
    t->failed = 1;
}

/* Whether OIDCPassClaimsAs is set among `first` and its siblings (not inside their sections). */
static int sets_pass_claims(const ap_directive_t *first)
{
    for (const ap_directive_t *d = first; d; d = d->next)
        if (!strcasecmp(d->directive, "OIDCPassClaimsAs"))
            return 1;
    return 0;
}

/* The <VirtualHost> section a server was defined by, or NULL for the main server. */
static const ap_directive_t *vhost_section(const server_rec *v)
{
    for (const ap_directive_t *d = ap_conftree; v->is_virtual && d; d = d->next)
        if (!strcasecmp(d->directive, "<VirtualHost") && (unsigned)d->line_num == v->defn_line_number && d->filename &&
            v->defn_name && !strcmp(d->filename, v->defn_name))
            return d;
    return NULL;
}

/* Walks the whole configuration tree (Include and <IfModule> are already flattened into it):
 * every Alias of every virtual host, and mod_auth_openidc's secrets. */
static void check_tree(const ap_directive_t *d, tree_check_t *t)
{
    static const char *const aliases[] = {"Alias", "AliasMatch", "ScriptAlias", "ScriptAliasMatch"};
    static const char *const secrets[] = {"OIDCClientSecret", "OIDCCryptoPassphrase", "OIDCOAuthClientSecret",
                                          "OIDCRedisCachePassword", "OIDCClientTokenEndpointKeyPassword"};
    for (; d; d = d->next) {
        const char *where = apr_psprintf(t->p, "%s:%d", d->filename ? d->filename : "?", d->line_num);
        if (!t->oidc && !strncasecmp(d->directive, "OIDC", 4))
            t->oidc = d;
        if (!strcasecmp(d->directive, "OIDCPassClaimsAs"))
            check_pass_claims(d, where, t);
        for (size_t i = 0; i < sizeof aliases / sizeof *aliases; i++) {
            const char *target = strcasecmp(d->directive, aliases[i]) ? NULL : alias_target(d, t->p);
            for (int g = 0; target && g < t->guarded->nelts; g++) {
                const char *why = exposes(apr_pstrcat(t->p, d->directive, " (", where, ")", NULL), target,
                                          &APR_ARRAY_IDX(t->guarded, g, guarded_t), t->p);
                if (why) {
                    refuse(0, why);
                    t->failed = 1;
                    break;
                }
            }
        }
        for (size_t i = 0; i < sizeof secrets / sizeof *secrets; i++) {
            if (strcasecmp(d->directive, secrets[i]))
                continue;
            const char *args = d->args, *why = NULL;
            for (const char *w; !why && *(w = ap_getword_conf(t->p, &args));)
                why = placeholder_reason(w, t->p);
            if (why) {
                refuse(0, apr_psprintf(t->p,
                                       "%s at %s %s: it is a placeholder, not a secret; set the value your OpenID "
                                       "provider gave (or a long random one, e.g. openssl rand -base64 32) in a "
                                       "file only root may read",
                                       d->directive, where, why));
                t->failed = 1;
            }
        }
        if (d->first_child)
            check_tree(d->first_child, t);
    }
}

/* What a child will meet at the state directory. Running as root, httpd creates what is
 * missing below the nearest existing directory and gives the state directory to the children's
 * user; what lies above must already let that user through. */
typedef struct {
    const char *dir;
    int as_root;
} probe_in_t;

typedef struct {
    int err;
    char what[32];
    char path[PATH_MAX];
} probe_t;

static void probe_state_dir(void *baton, void *result)
{
    const probe_in_t *in = baton;
    probe_t *out = result;
    struct stat sb;
    int exists = 1;
    snprintf(out->what, sizeof out->what, "%s", "reach it");
    snprintf(out->path, sizeof out->path, "%s", in->dir);
    while (stat(out->path, &sb)) {
        char *slash = strrchr(out->path, '/');
        if (errno != ENOENT || !slash || !strcmp(out->path, "/")) {
            out->err = errno;
            return;
        }
        exists = 0;
        slash[slash == out->path] = '\0';
    }
    if (!S_ISDIR(sb.st_mode)) {
        out->err = ENOTDIR;
        snprintf(out->what, sizeof out->what, "%s", exists ? "use it" : "create it under");
    } else if (exists && !in->as_root && access(out->path, R_OK | W_OK | X_OK)) {
        out->err = errno;
        snprintf(out->what, sizeof out->what, "%s", "write it");
    } else if (!exists && access(out->path, in->as_root ? X_OK : W_OK | X_OK)) {
        out->err = errno;
        snprintf(out->what, sizeof out->what, "%s", in->as_root ? "enter" : "create it in");
    }
}

static const char *child_user(apr_pool_t *p)
{
    return ap_unixd_config.user_name ? ap_unixd_config.user_name
                                     : apr_psprintf(p, "%ld", (long)ap_unixd_config.user_id);
}

static const char *unreachable_state_dir(const char *dir, apr_pool_t *p)
{
    probe_in_t in = {dir, geteuid() == 0};
    probe_t probe;
    char err[128];
    memset(&probe, 0, sizeof probe);
    apr_status_t rv = as_child_user(probe_state_dir, &in, &probe, sizeof probe);
    if (rv != APR_SUCCESS)
        return apr_psprintf(p, "StpStateDir %s: cannot check it as user %s (%s)", dir, child_user(p),
                            apr_strerror(rv, err, sizeof err));
    if (!probe.err)
        return NULL;
    probe.path[sizeof probe.path - 1] = '\0';
    const char *at = strcmp(probe.path, dir) ? apr_pstrcat(p, " ", probe.path, NULL) : "";
    if (probe.err == ENOTDIR)
        return apr_psprintf(p, "StpStateDir %s: cannot %s%s: not a directory", dir, probe.what, at);
    return apr_psprintf(p,
                        "StpStateDir %s: user %s cannot %s%s (%s); the httpd children run as that user (User, "
                        "Group): choose a directory they can reach, such as /var/lib/stp, or give them search "
                        "permission on every parent directory",
                        dir, child_user(p), probe.what, at, strerror(probe.err));
}

/* Every startup check, before anything is created: check_config runs under `apachectl
 * configtest` too, so a configuration that would not start never passes the test, and a reload
 * never takes a running server down for a reason configtest could have told. */
static int check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    tree_check_t t = {apr_array_make(ptemp, 2, sizeof(guarded_t)), ptemp, 0, NULL};
    for (server_rec *v = s; v; v = v->next) {
        stp_conf_t *c = ap_get_module_config(v->module_config, &stp_module);
        if (!c->site_dir)
            continue;
        if (!c->state_dir) {
            refuse(0, apr_psprintf(ptemp,
                                   "StpSite %s is set but StpStateDir is not: add StpStateDir with a directory "
                                   "the httpd user may write (it holds state.mdb)",
                                   c->site_dir));
            t.failed = 1;
            continue;
        }
        guarded_t g = {
            c, v, resolve_path(c->site_dir, ptemp),
            resolve_path(apr_pstrcat(ptemp, c->site_dir, "/" STP_SITE_CURRENT "/" STP_BUILD_PUBLIC, NULL), ptemp),
            resolve_path(c->state_dir, ptemp)};
        APR_ARRAY_PUSH(t.guarded, guarded_t) = g;
    }
    if (!t.guarded->nelts)
        return t.failed ? HTTP_INTERNAL_SERVER_ERROR : OK;

    /* Every virtual host, whether it runs the portal or not: one without StpSite that inherits
     * the main server's DocumentRoot would serve the files without asking the module. */
    for (server_rec *v = s; v; v = v->next) {
        core_server_config *core = ap_get_core_module_config(v->module_config);
        const char *root = core ? core->ap_document_root : NULL;
        const char *name = v->is_virtual ? apr_psprintf(ptemp, "DocumentRoot of the virtual host at %s:%d",
                                                        v->defn_name ? v->defn_name : "?", v->defn_line_number)
                                         : "DocumentRoot";
        for (int g = 0; root && g < t.guarded->nelts; g++) {
            const char *why = exposes(name, root, &APR_ARRAY_IDX(t.guarded, g, guarded_t), ptemp);
            if (why) {
                refuse(0, why);
                t.failed = 1;
                break;
            }
        }
    }
    check_tree(ap_conftree, &t);
    if (mod_stp_preview_check(s, ptemp))
        t.failed = 1;
    /* Without OIDCPassClaimsAs where the portal's server is defined, mod_auth_openidc's default
     * (both) applies there; one inside a <Location> leaves the rest of the portal at that default. */
    for (int g = 0; t.oidc && g < t.guarded->nelts; g++) {
        const guarded_t *gd = &APR_ARRAY_IDX(t.guarded, g, guarded_t);
        const ap_directive_t *vh = vhost_section(gd->server);
        if (sets_pass_claims(ap_conftree) || (vh && sets_pass_claims(vh->first_child)))
            continue;
        refuse(0, apr_psprintf(ptemp,
                               "mod_auth_openidc is configured (%s at %s:%d) but the server of StpSite %s does not "
                               "set OIDCPassClaimsAs, so mod_auth_openidc passes the claims as request headers "
                               "too (its default is both), which a client can send itself; mod_stp reads the "
                               "claims from the environment only: write OIDCPassClaimsAs environment in %s",
                               t.oidc->directive, t.oidc->filename ? t.oidc->filename : "?", t.oidc->line_num,
                               gd->conf->site_dir, vh ? "its <VirtualHost>" : "the server configuration"));
        t.failed = 1;
    }

    apr_hash_t *seen = apr_hash_make(ptemp);
    for (int g = 0; g < t.guarded->nelts; g++) {
        const char *dir = APR_ARRAY_IDX(t.guarded, g, guarded_t).conf->state_dir;
        if (apr_hash_get(seen, dir, APR_HASH_KEY_STRING))
            continue;
        apr_hash_set(seen, dir, APR_HASH_KEY_STRING, dir);
        const char *why = unreachable_state_dir(dir, ptemp);
        if (why) {
            refuse(0, why);
            t.failed = 1;
        }
    }
    return t.failed ? HTTP_INTERNAL_SERVER_ERROR : OK;
}

/* Creates the state directory (0700) with its missing parents (0755, so that the children can
 * pass through them whatever root's umask), the key and state.mdb, and gives them all to the
 * children's user, 0600: the users' state is nobody else's to read. */
static apr_status_t make_state_dir(const char *dir, apr_pool_t *p)
{
    char *path = apr_pstrdup(p, dir);
    for (char *slash = strchr(path + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        if (mkdir(path, 0755) == 0 ? chmod(path, 0755) != 0 : errno != EEXIST) {
            *slash = '/';
            return APR_FROM_OS_ERROR(errno);
        }
        *slash = '/';
    }
    if (mkdir(dir, 0700) && errno != EEXIST)
        return APR_FROM_OS_ERROR(errno);
    return give_to_children(dir, 1);
}

/* What opening the state at start found. */
typedef struct {
    apr_status_t rv;
    int upgraded_from; /* stp_state_upgraded_from */
} state_opened_t;

/* Creates or opens state.mdb as the children will: as their user, so that root never opens an
 * LMDB file (which writes its lock file) in a directory that user controls. An older file is
 * upgraded here, once, before any child serves from it. */
static void open_state(void *baton, void *result)
{
    stp_conf_t *c = baton;
    apr_pool_t *p;
    stp_state_t *st;
    stp_state_options_t opts = {.map_size = c->map_size, .max_readers = max_readers()};
    state_opened_t o = {APR_SUCCESS, 0};
    apr_pool_create(&p, NULL);
    o.rv = stp_state_open(&st, c->state_dir, &opts, p);
    if (o.rv == APR_SUCCESS) {
        o.upgraded_from = stp_state_upgraded_from(st);
        stp_state_close(st);
    }
    memcpy(result, &o, sizeof o);
}

/* Records StpBaseURL in the state directory for stpctl notify, whose links must match the
 * module's; removes the record when StpBaseURL is not set. As the children's user (the directory
 * is theirs), through a new file renamed into place. */
static void record_base_url(void *baton, void *result)
{
    const stp_conf_t *c = baton;
    char path[PATH_MAX], tmp[PATH_MAX + 8];
    int err = 0;
    snprintf(path, sizeof path, "%s/" STP_STATE_BASE_URL, c->state_dir);
    snprintf(tmp, sizeof tmp, "%s.new", path);
    if (!c->base_url) {
        err = unlink(path) && errno != ENOENT ? errno : 0;
    } else {
        unlink(tmp); /* a leftover, or a link: O_EXCL below creates a fresh file */
        errno = 0;
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        apr_size_t n = strlen(c->base_url);
        if (fd < 0 || write(fd, c->base_url, n) != (ssize_t)n || write(fd, "\n", 1) != 1)
            err = errno ? errno : EIO;
        if (fd >= 0 && close(fd) && !err)
            err = errno;
        if (!err && rename(tmp, path))
            err = errno;
    }
    apr_status_t rv = err ? APR_FROM_OS_ERROR(err) : APR_SUCCESS;
    memcpy(result, &rv, sizeof rv);
}

static int setup_vhost(server_rec *v, stp_conf_t *c, apr_pool_t *ptemp)
{
    state_opened_t opened = {APR_SUCCESS, 0};
    apr_status_t rv = make_state_dir(c->state_dir, ptemp);
    const char *files[] = {"/" STP_STATE_CSRF_KEY, "/" STP_STATE_DB, "/" STP_STATE_DB_LOCK};
    /* A restored state.mdb may be root's and world-readable: the children's, 0600, first. With
     * the state in PostgreSQL the directory holds the key only. */
    for (size_t i = 0; i < (c->store_dbd ? 1 : 3) && rv == APR_SUCCESS; i++)
        rv = give_to_children(apr_pstrcat(ptemp, c->state_dir, files[i], NULL), 0);
    if (rv == APR_SUCCESS)
        rv = load_secret(c, ptemp);
    if (rv == APR_SUCCESS && !c->store_dbd)
        rv = as_child_user(open_state, c, &opened, sizeof opened);
    if (rv == APR_SUCCESS)
        rv = opened.rv;
    /* A state of a newer format (the module was downgraded): httpd does not start, rather than
     * serve pages whose every change would fail. */
    if (rv == STP_STATE_ENEWER) {
        char buf[300];
        refuse(0, apr_psprintf(ptemp, "StpStateDir %s: %s", c->state_dir, stp_state_strerror(rv, buf, sizeof buf)));
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (rv == APR_SUCCESS && opened.upgraded_from)
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, v, "StpStateDir %s: state.mdb upgraded from format %d to %d",
                     c->state_dir, opened.upgraded_from, STP_STATE_FORMAT);
    if (rv == APR_SUCCESS) {
        apr_status_t recorded = APR_SUCCESS;
        rv = as_child_user(record_base_url, c, &recorded, sizeof recorded);
        if (rv == APR_SUCCESS)
            rv = recorded;
    }
    if (rv != APR_SUCCESS) {
        refuse(rv,
               apr_psprintf(ptemp,
                            "StpStateDir %s: cannot set up the state (directory, csrf.key, state.mdb, base-url); check "
                            "that it is a directory on a local file system that root may write",
                            c->state_dir));
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    c->have_secret = 1;
    stp_catalog_t *cat;
    const char *path = apr_pstrcat(ptemp, c->site_dir, "/" STP_SITE_CURRENT "/" STP_BUILD_CATALOG, NULL);
    if ((rv = stp_catalog_open(&cat, path, ptemp)) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, v,
                     "StpSite %s: no published catalog at %s yet; everything answers 404 until sitegen -o %s "
                     "CONTENT_DIR publishes one",
                     c->site_dir, path, c->site_dir);
    } else if (ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_PRE_CONFIG) { /* not httpd's trial pass */
        /* Which module serves which publication, at every start and graceful restart: what an
         * operator compares first after an upgrade or a publication. */
        char build[PATH_MAX];
        ssize_t n = readlink(apr_pstrcat(ptemp, c->site_dir, "/" STP_SITE_CURRENT, NULL), build, sizeof build - 1);
        build[n > 0 ? n : 0] = '\0';
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, v,
                     "mod_stp " STP_VERSION ": StpSite %s serves %s (catalog generation %" APR_UINT64_T_FMT
                     "), state in %s",
                     c->site_dir, n > 0 ? build : STP_SITE_CURRENT, stp_catalog_generation(cat), c->state_dir);
    }
    if (rv == APR_SUCCESS)
        stp_catalog_close(cat);
    return OK;
}

/* After check_config: creates the state (never under configtest, which stops before this). */
static int post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    stp_log_set(log_to_httpd, s);
    for (server_rec *v = s; v; v = v->next) {
        stp_conf_t *c = ap_get_module_config(v->module_config, &stp_module);
        apply_defaults(c);
        if (c->site_dir && !c->state_dir)
            return HTTP_INTERNAL_SERVER_ERROR; /* check_config said so */
        if (c->site_dir) {
            int rc = setup_vhost(v, c, ptemp);
            if (rc != OK)
                return rc;
            mod_stp_error_documents(v, pconf, ptemp);
        }
        if (c->clock_file)
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, v,
                         "StpTestClockFile %s: the module's clock is read from this file (for tests only): embargoed "
                         "documents go live when it says so",
                         c->clock_file);
    }
    /* Pages are rendered on many threads: libxml2 sets up its globals once, here, before any. */
    xmlInitParser();
    xsltInit();
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
        else if (c->preview == 1)
            stp_site_previewing(c->site);
        if (c->store_dbd) {
            mod_stp_store_child_check(v, c, pchild);
            continue;
        }
        c->state = apr_hash_get(states, c->state_dir, APR_HASH_KEY_STRING);
        if (c->state)
            continue;
        stp_state_options_t opts = {.map_size = c->map_size, .max_readers = max_readers()};
        apr_status_t rv = stp_state_open(&c->state, c->state_dir, &opts, pchild);
        if (rv != APR_SUCCESS) {
            char buf[300];
            c->state_problem = apr_pstrdup(pchild, stp_state_strerror(rv, buf, sizeof buf));
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
    if (stp_http_form_parse(&args, &err, r->args, strlen(r->args), r->pool) != APR_SUCCESS)
        return strstr(r->args, name) || strchr(r->args, '%');
    return apr_table_get(args, name) != NULL;
}

/* mod_auth_openidc ends the session on a plain GET of its redirect URI with `logout`: refuse it
 * here, before it authenticates, unless it comes from our own pages (the /stp/logout POST's
 * redirect) or was typed, so that no other site can sign a user out. */
static int refuse_foreign_logout(request_rec *r, stp_conf_t *c)
{
    if (strcmp(r->uri, c->oidc_redirect_uri) || !query_names(r, "logout") || mod_stp_same_origin(r, c))
        return DECLINED;
    ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r, "stp: sign-out through %s from another site refused (%s)",
                  c->oidc_redirect_uri,
                  apr_table_get(r->headers_in, "Sec-Fetch-Site") ? "Sec-Fetch-Site" : "Origin/Referer");
    mod_stp_headers_personal(r);
    mod_stp_forbidden(r, mod_stp_req_get(r));
    return DONE;
}

static int translate_name(request_rec *r)
{
    stp_conf_t *c = mod_stp_conf(r);
    const char *rel;
    if (!c->site_dir || !r->uri)
        return DECLINED;
    mod_stp_headers_secure(r);
    if (refuse_foreign_logout(r, c) == DONE)
        return DONE;
    stp_route_t route = mod_stp_route_of(r->uri);
    if (route == STP_ROUTE_NONE) {
        switch (stp_paths_from_org_url(&rel, NULL, r->uri, r->pool)) {
        case APR_NOTFOUND:
            break;
        case APR_INCOMPLETE:
            return mod_stp_redirect(
                r, HTTP_MOVED_PERMANENTLY,
                apr_pstrcat(r->pool, r->uri, "/", r->args ? "?" : "", r->args ? r->args : "", NULL));
        default:
            route = STP_ROUTE_ORG;
        }
    }
    if (route != STP_ROUTE_NONE) {
        /* Ours entirely: no DocumentRoot file stands behind these URLs. Each answer depends on
         * who asks (a 404 too: an outsider's must equal an unknown id's, headers included);
         * public downloads take this back when they send the file. */
        mod_stp_headers_personal(r);
        apr_table_setn(r->notes, "stp-route", apr_itoa(r->pool, route));
        r->filename = apr_pstrcat(r->pool, "stp:", r->uri, NULL);
        if (route != STP_ROUTE_ORG)
            r->handler = "stp";
        return OK;
    }
    /* Document pages live in shard directories of the published build (stp_paths.h). */
    switch (stp_paths_from_url(&rel, r->uri, r->pool)) {
    case APR_SUCCESS: {
        apr_finfo_t fi;
        const stp_build_t *b;
        r->filename = apr_pstrcat(r->pool, c->site_dir, "/" STP_SITE_CURRENT "/", rel, NULL);
        /* Not in public/: a document that went live after the build has its page under embargo/
         * from its moment on (no claims are needed to know that: it is the same for everyone). */
        if (apr_stat(&fi, r->filename, APR_FINFO_TYPE, r->pool) != APR_SUCCESS && c->site &&
            stp_site_acquire(&b, c->site, r->pool) == APR_SUCCESS) {
            const char *page = mod_stp_embargoed_page(b, rel, mod_stp_now(r), r->pool);
            if (page)
                r->filename = apr_pstrdup(r->pool, page);
        }
        r->canonical_filename = r->filename;
        if (stp_paths_image_type(rel)) /* typed in fixups, whatever mod_mime knows */
            apr_table_setn(r->notes, "stp-image", stp_paths_image_type(rel));
        return OK;
    }
    case APR_INCOMPLETE:
        return mod_stp_redirect(r, HTTP_MOVED_PERMANENTLY,
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
    switch (route_get(r)) {
    case STP_ROUTE_ORG: {
        int rc = mod_stp_org_fixup(r);
        if (rc == OK)
            mod_stp_home_fixup(r, 1);
        return rc;
    }
    case STP_ROUTE_NONE: {
        const char *image = apr_table_get(r->notes, "stp-image");
        if (image) {
            ap_set_content_type(r, image);
            return OK;
        }
        return mod_stp_conf(r)->site_dir ? mod_stp_home_fixup(r, 0) : DECLINED;
    }
    default:
        return DECLINED;
    }
}

static int handler(request_rec *r)
{
    if (!r->handler || strcmp(r->handler, "stp"))
        return DECLINED;
    switch (route_get(r)) {
    case STP_ROUTE_NONE: /* a member's home page, claimed in fixups */
    case STP_ROUTE_ORG:
        return mod_stp_home_handler(r);
    case STP_ROUTE_DOWNLOAD:
        return mod_stp_download_handler(r);
    case STP_ROUTE_NDA:
        return mod_stp_nda_handler(r);
    case STP_ROUTE_WHOAMI:
        return mod_stp_whoami_handler(r);
    case STP_ROUTE_LIBRARY:
        return mod_stp_library_handler(r);
    case STP_ROUTE_NOTIFICATIONS:
        return mod_stp_notifications_handler(r);
    case STP_ROUTE_LOGIN:
        return mod_stp_login_handler(r);
    case STP_ROUTE_LOGOUT:
        return mod_stp_logout_handler(r);
    case STP_ROUTE_ROOT:
        return mod_stp_root_handler(r);
    case STP_ROUTE_ACCOUNT:
        return mod_stp_account_handler(r);
    case STP_ROUTE_SEARCH:
        return mod_stp_search_handler(r);
    case STP_ROUTE_ADMIN:
        return mod_stp_admin_handler(r);
    case STP_ROUTE_FEEDBACK:
        return mod_stp_feedback_handler(r);
    case STP_ROUTE_ERROR:
        return mod_stp_error_handler(r);
    case STP_ROUTE_PREVIEW:
        return mod_stp_preview_handler(r);
    case STP_ROUTE_UNKNOWN:
        return HTTP_NOT_FOUND;
    default:
        return DECLINED;
    }
}

static void register_hooks(apr_pool_t *p)
{
    ap_hook_check_config(check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(post_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* After mod_dbd's: it sets up its connection pool there, and the store's check opens one. */
    static const char *const after_dbd[] = {"mod_dbd.c", NULL};
    ap_hook_child_init(child_init, after_dbd, NULL, APR_HOOK_MIDDLE);
    ap_hook_translate_name(translate_name, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_map_to_storage(map_to_storage, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_fixups(fixups, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(handler, NULL, NULL, APR_HOOK_MIDDLE);
    mod_stp_authz_register(p);
    mod_stp_preview_register(p);
}

AP_DECLARE_MODULE(stp) = {STANDARD20_MODULE_STUFF, NULL,     NULL,           create_server_conf,
                          merge_server_conf,       stp_cmds, register_hooks,
#if defined(AP_MODULE_FLAG_ALWAYS_MERGE)
                          AP_MODULE_FLAG_NONE
#endif
};
