/* httpd_stub: see httpd_stub.h. Each stand-in follows what httpd 2.4 does to the request_rec,
 * without the parts the module never sees (filters, connections, the config tree). */
#include "httpd_stub.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ap_expr.h>
#include <ap_listen.h>
#include <ap_mpm.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <unixd.h>

#include <apr_buckets.h>
#include <apr_date.h>
#include <apr_lib.h>
#include <apr_strings.h>

stub_hooks_t stub_hooks;
char stub_server_log[1024];
/* mod_stp.c chowns state.mdb to the children's user when it runs as root: make that us. */
unixd_config_rec ap_unixd_config;

#define MAX_PROVIDERS 8
static struct {
    const char *group, *name, *version;
    const void *provider;
} providers[MAX_PROVIDERS];
static int nproviders;

/* --- fabrication ------------------------------------------------------------------------------- */

static struct ap_conf_vector_t *conf_vector(apr_pool_t *pool)
{
    return apr_pcalloc(pool, STUB_NSLOTS * sizeof(void *));
}

server_rec *stub_server(apr_pool_t *pool)
{
    server_rec *s = apr_pcalloc(pool, sizeof *s);
    s->server_hostname = "portal.test";
    s->port = 80;
    s->defn_name = "stub";
    s->log.level = APLOG_TRACE8; /* every line reaches ap_log_*_, where the tests see it */
    s->module_config = conf_vector(pool);
    s->lookup_defaults = conf_vector(pool);
    s->timeout = apr_time_from_sec(60);
    s->limit_req_line = DEFAULT_LIMIT_REQUEST_LINE;
    s->limit_req_fieldsize = DEFAULT_LIMIT_REQUEST_FIELDSIZE;
    s->limit_req_fields = DEFAULT_LIMIT_REQUEST_FIELDS;
    ap_unixd_config.user_id = geteuid();
    ap_unixd_config.group_id = getegid();
    stub_server_log[0] = '\0';
    return s;
}

void stub_load_module(module *m, server_rec *s, apr_pool_t *pool)
{
    m->module_index = STUB_MODULE_INDEX;
    memset(&stub_hooks, 0, sizeof stub_hooks);
    nproviders = 0;
    if (m->register_hooks)
        m->register_hooks(pool);
    if (m->create_server_config)
        ap_set_module_config(s->module_config, m, m->create_server_config(pool, s));
}

const char *stub_directive(module *m, server_rec *s, apr_pool_t *pool, const char *name, const char *arg1,
                           const char *arg2)
{
    for (const command_rec *c = m->cmds; c && c->name; c++) {
        if (strcasecmp(c->name, name))
            continue;
        cmd_parms cmd;
        memset(&cmd, 0, sizeof cmd);
        cmd.info = (void *)c->cmd_data;
        cmd.override = c->req_override;
        cmd.pool = pool;
        cmd.temp_pool = pool;
        cmd.server = s;
        cmd.cmd = c;
        switch (c->args_how) {
        case TAKE1:
            return arg2 ? apr_pstrcat(pool, name, " takes one argument", NULL) : c->AP_TAKE1(&cmd, NULL, arg1);
        case FLAG:
            if (arg2 || (strcasecmp(arg1, "on") && strcasecmp(arg1, "off")))
                return apr_pstrcat(pool, name, " must be On or Off", NULL);
            return c->AP_FLAG(&cmd, NULL, !strcasecmp(arg1, "on"));
        case TAKE2:
            return !arg2 ? apr_pstrcat(pool, name, " takes two arguments", NULL) : c->AP_TAKE2(&cmd, NULL, arg1, arg2);
        case TAKE12:
            return c->AP_TAKE2(&cmd, NULL, arg1, arg2);
        case ITERATE: {
            /* The words of the argument, one call each. */
            const char *line = arg1, *w, *err;
            while (*(w = ap_getword_conf(pool, &line)))
                if ((err = c->AP_TAKE1(&cmd, NULL, w)))
                    return err;
            return NULL;
        }
        default:
            return "stub_directive: this argument style is not stubbed";
        }
    }
    return apr_pstrcat(pool, "Invalid command '", name, "'", NULL);
}

request_rec *stub_request(server_rec *s, apr_pool_t *parent, const char *method, const char *uri)
{
    apr_pool_t *pool;
    apr_pool_create(&pool, parent);
    request_rec *r = apr_pcalloc(pool, sizeof *r);
    conn_rec *c = apr_pcalloc(pool, sizeof *c);
    c->pool = pool;
    c->base_server = s;
    c->bucket_alloc = apr_bucket_alloc_create(pool);
    c->local_ip = c->client_ip = "127.0.0.1";
    apr_sockaddr_info_get(&c->client_addr, c->client_ip, APR_INET, 50000, 0, pool);
    c->notes = apr_table_make(pool, 4);
    r->pool = pool;
    r->connection = c;
    r->server = s;
    r->request_time = apr_time_now();
    r->the_request = apr_pstrcat(pool, method, " ", uri, " HTTP/1.1", NULL);
    r->protocol = "HTTP/1.1";
    r->proto_num = HTTP_VERSION(1, 1);
    r->hostname = s->server_hostname;
    r->status = HTTP_OK;
    r->method = method;
    r->header_only = !strcmp(method, "HEAD");
    r->method_number = !strcmp(method, "GET") || r->header_only ? M_GET
                       : !strcmp(method, "POST")                ? M_POST
                       : !strcmp(method, "PUT")                 ? M_PUT
                       : !strcmp(method, "DELETE")              ? M_DELETE
                                                                : M_INVALID;
    r->unparsed_uri = apr_pstrdup(pool, uri);
    const char *q = strchr(uri, '?');
    r->uri = q ? apr_pstrmemdup(pool, uri, (apr_size_t)(q - uri)) : r->unparsed_uri;
    r->args = q ? apr_pstrdup(pool, q + 1) : NULL;
    r->parsed_uri.path = (char *)r->uri;
    r->parsed_uri.query = r->args;
    r->headers_in = apr_table_make(pool, 8);
    r->headers_out = apr_table_make(pool, 8);
    r->err_headers_out = apr_table_make(pool, 4);
    r->subprocess_env = apr_table_make(pool, 8);
    r->notes = apr_table_make(pool, 4);
    r->trailers_in = apr_table_make(pool, 1);
    r->trailers_out = apr_table_make(pool, 1);
    r->request_config = conf_vector(pool);
    r->per_dir_config = s->lookup_defaults;
    r->sent_bodyct = 0;
    r->read_length = 0;
    r->remaining = 0;
    r->clength = 0;
    r->mtime = 0;
    apr_table_setn(r->headers_in, "Host", s->server_hostname);
    ((void **)r->request_config)[STUB_IO_INDEX] = apr_pcalloc(pool, sizeof(stub_io_t));
    return r;
}

stub_io_t *stub_io(const request_rec *r)
{
    return ((void **)r->request_config)[STUB_IO_INDEX];
}

void stub_set_body(request_rec *r, const char *content_type, const char *body, int chunked)
{
    stub_io_t *io = stub_io(r);
    io->body = body;
    io->body_len = strlen(body);
    if (content_type)
        apr_table_setn(r->headers_in, "Content-Type", content_type);
    if (chunked)
        apr_table_setn(r->headers_in, "Transfer-Encoding", "chunked");
    else
        apr_table_setn(r->headers_in, "Content-Length", apr_psprintf(r->pool, "%" APR_SIZE_T_FMT, io->body_len));
}

static void out_append(stub_io_t *io, apr_pool_t *pool, const char *data, apr_size_t len)
{
    if (io->out_len + len + 1 > io->out_cap) {
        apr_size_t cap = (io->out_len + len + 1) * 2;
        char *grown = apr_palloc(pool, cap);
        if (io->out_len)
            memcpy(grown, io->out, io->out_len);
        io->out = grown;
        io->out_cap = cap;
    }
    memcpy(io->out + io->out_len, data, len);
    io->out_len += len;
    io->out[io->out_len] = '\0';
}

const char *stub_out(const request_rec *r)
{
    stub_io_t *io = stub_io(r);
    return io->out ? io->out : "";
}

int stub_run(request_rec *r)
{
    int rc;
    if (stub_hooks.post_read_request && (rc = stub_hooks.post_read_request(r)) != OK && rc != DECLINED)
        return rc;
    if (stub_hooks.translate_name && (rc = stub_hooks.translate_name(r)) != OK && rc != DECLINED)
        return rc;
    if (stub_hooks.map_to_storage && (rc = stub_hooks.map_to_storage(r)) != OK && rc != DECLINED)
        return rc;
    if (stub_hooks.fixups && (rc = stub_hooks.fixups(r)) != OK && rc != DECLINED)
        return rc;
    return stub_hooks.handler ? stub_hooks.handler(r) : DECLINED;
}

const void *stub_provider(const char *group, const char *name, const char *version)
{
    for (int i = 0; i < nproviders; i++)
        if (!strcmp(providers[i].group, group) && !strcmp(providers[i].name, name) &&
            !strcmp(providers[i].version, version))
            return providers[i].provider;
    return NULL;
}

/* --- hooks and registration --------------------------------------------------------------------- */

/* The listeners check_config looks at: none unless a test sets some. */
ap_listen_rec *ap_listeners;
ap_out_filter_func stub_output_filter;
const char *stub_linked_module;

void ap_hook_post_read_request(ap_HOOK_post_read_request_t *pf, const char *const *pre, const char *const *succ,
                               int order)
{
    stub_hooks.post_read_request = pf;
}

void ap_hook_insert_filter(ap_HOOK_insert_filter_t *pf, const char *const *pre, const char *const *succ, int order)
{
    stub_hooks.insert_filter = pf;
}

ap_filter_rec_t *ap_register_output_filter(const char *name, ap_out_filter_func filter_func,
                                           ap_init_filter_func filter_init, ap_filter_type ftype)
{
    stub_output_filter = filter_func;
    return NULL;
}

ap_filter_t *ap_add_output_filter(const char *name, void *ctx, request_rec *r, conn_rec *c)
{
    apr_table_setn(r->notes, "stub-filter", name);
    return NULL;
}

int stub_filter_added(const request_rec *r)
{
    return apr_table_get(r->notes, "stub-filter") != NULL;
}

void ap_remove_output_filter(ap_filter_t *f)
{
    f->ctx = NULL;
}

/* The end of the filter chain: the body goes where ap_rwrite's goes. */
apr_status_t ap_pass_brigade(ap_filter_t *next, apr_bucket_brigade *bb)
{
    return ap_pass_brigade_fchk(next->r, bb, NULL) == OK ? APR_SUCCESS : APR_EGENERAL;
}

apr_status_t stub_filter_run(request_rec *r, const char *content_type, const char *body)
{
    ap_filter_t *end = apr_pcalloc(r->pool, sizeof *end), *f = apr_pcalloc(r->pool, sizeof *f);
    end->r = f->r = r;
    end->c = f->c = r->connection;
    f->next = end;
    r->content_type = content_type;
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_immortal_create(body, strlen(body), r->connection->bucket_alloc));
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(r->connection->bucket_alloc));
    return stub_output_filter(f, bb);
}

module *ap_find_linked_module(const char *name)
{
    static module found;
    return stub_linked_module && !strcmp(name, stub_linked_module) ? &found : NULL;
}

/* The configuration tree that check_config walks: none here, the glue is configured by hand. */
ap_directive_t *ap_conftree;

void ap_hook_check_config(ap_HOOK_check_config_t *pf, const char *const *pre, const char *const *succ, int order)
{
    stub_hooks.check_config = pf;
}

void ap_hook_post_config(ap_HOOK_post_config_t *pf, const char *const *pre, const char *const *succ, int order)
{
    stub_hooks.post_config = pf;
}

void ap_hook_child_init(ap_HOOK_child_init_t *pf, const char *const *pre, const char *const *succ, int order)
{
    stub_hooks.child_init = pf;
}

void ap_hook_translate_name(ap_HOOK_translate_name_t *pf, const char *const *pre, const char *const *succ, int order)
{
    stub_hooks.translate_name = pf;
}

void ap_hook_map_to_storage(ap_HOOK_map_to_storage_t *pf, const char *const *pre, const char *const *succ, int order)
{
    stub_hooks.map_to_storage = pf;
}

void ap_hook_fixups(ap_HOOK_fixups_t *pf, const char *const *pre, const char *const *succ, int order)
{
    stub_hooks.fixups = pf;
}

void ap_hook_handler(ap_HOOK_handler_t *pf, const char *const *pre, const char *const *succ, int order)
{
    stub_hooks.handler = pf;
}

apr_status_t ap_register_auth_provider(apr_pool_t *pool, const char *provider_group, const char *provider_name,
                                       const char *provider_version, const void *provider, int type)
{
    if (nproviders == MAX_PROVIDERS)
        return APR_ENOMEM;
    providers[nproviders].group = provider_group;
    providers[nproviders].name = provider_name;
    providers[nproviders].version = provider_version;
    providers[nproviders].provider = provider;
    nproviders++;
    return APR_SUCCESS;
}

/* --- server and configuration ------------------------------------------------------------------ */

apr_status_t ap_mpm_query(int query_code, int *result)
{
    /* One process of one thread: the smallest server there is. */
    switch (query_code) {
    case AP_MPMQ_HARD_LIMIT_DAEMONS:
    case AP_MPMQ_HARD_LIMIT_THREADS:
        *result = 1;
        return APR_SUCCESS;
    default:
        return APR_ENOTIMPL;
    }
}

char *ap_server_root_relative(apr_pool_t *p, const char *fname)
{
    char *path;
    /* Relative to a ServerRoot, as httpd does; NULL for a path it cannot merge. */
    if (apr_filepath_merge(&path, "/etc/apache2", fname, APR_FILEPATH_TRUENAME, p) != APR_SUCCESS)
        return NULL;
    return path;
}

/* A word of a config line: quoted with " or ' (backslash escapes the quote and itself), else up
 * to white space; the line moves past it and the space after. "" at the end. */
char *ap_getword_conf(apr_pool_t *p, const char **line)
{
    const char *s = *line;
    while (apr_isspace(*s))
        s++;
    char quote = (*s == '"' || *s == '\'') ? *s++ : '\0';
    char *word = apr_palloc(p, strlen(s) + 1), *w = word;
    while (*s && (quote ? *s != quote : !apr_isspace(*s))) {
        if (*s == '\\' && (s[1] == '\\' || (quote && s[1] == quote)))
            s++;
        *w++ = *s++;
    }
    *w = '\0';
    if (quote && *s == quote)
        s++;
    while (apr_isspace(*s))
        s++;
    *line = s;
    return word;
}

/* --- logging ---------------------------------------------------------------------------------- */

void ap_log_error_(const char *file, int line, int module_index, int level, apr_status_t status, const server_rec *s,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(stub_server_log, sizeof stub_server_log, fmt, ap);
    va_end(ap);
}

void ap_log_rerror_(const char *file, int line, int module_index, int level, apr_status_t status, const request_rec *r,
                    const char *fmt, ...)
{
    stub_io_t *io = stub_io(r);
    va_list ap;
    va_start(ap, fmt);
    io->log_msg = apr_pvsprintf(r->pool, fmt, ap);
    va_end(ap);
    io->log_level = level & APLOG_LEVELMASK;
    io->log_count++;
}

/* --- the response ------------------------------------------------------------------------------ */

void ap_set_content_type(request_rec *r, const char *ct)
{
    r->content_type = ct;
}

void ap_set_content_length(request_rec *r, apr_off_t length)
{
    r->clength = length;
    apr_table_setn(r->headers_out, "Content-Length", apr_off_t_toa(r->pool, length));
}

void ap_update_mtime(request_rec *r, apr_time_t dependency_mtime)
{
    if (r->mtime < dependency_mtime)
        r->mtime = dependency_mtime;
}

void ap_set_last_modified(request_rec *r)
{
    /* Never in the future, as ap_rationalize_mtime has it. */
    apr_time_t mtime = r->mtime > r->request_time ? r->request_time : r->mtime;
    char *date = apr_palloc(r->pool, APR_RFC822_DATE_LEN);
    apr_rfc822_date(date, mtime);
    apr_table_setn(r->headers_out, "Last-Modified", date);
}

/* Whether the If-None-Match list names etag (or is "*"). Weak comparison, as for GET. */
static int etag_listed(const char *list, const char *etag, apr_pool_t *pool)
{
    char *copy = apr_pstrdup(pool, list), *state, *t;
    for (t = apr_strtok(copy, ", \t", &state); t; t = apr_strtok(NULL, ", \t", &state)) {
        if (!strncmp(t, "W/", 2))
            t += 2;
        if (!strcmp(t, "*") || (etag && !strcmp(t, etag)))
            return 1;
    }
    return 0;
}

/* The two preconditions a GET for a file uses; If-None-Match wins over If-Modified-Since
 * (RFC 7232 section 6). 412s and If-Match are not modelled. */
int ap_meets_conditions(request_rec *r)
{
    stub_io_t *io = stub_io(r);
    const char *inm = apr_table_get(r->headers_in, "If-None-Match");
    const char *ims = apr_table_get(r->headers_in, "If-Modified-Since");
    io->conditions++;
    if (r->method_number != M_GET)
        return OK;
    if (inm)
        return etag_listed(inm, apr_table_get(r->headers_out, "ETag"), r->pool) ? HTTP_NOT_MODIFIED : OK;
    if (ims) {
        apr_time_t since = apr_date_parse_http(ims);
        if (since != APR_DATE_BAD && apr_time_sec(r->mtime) <= apr_time_sec(since))
            return HTTP_NOT_MODIFIED;
    }
    return OK;
}

int ap_rwrite(const void *buf, int nbyte, request_rec *r)
{
    stub_io_t *io = stub_io(r);
    io->rwrites++;
    out_append(io, r->pool, buf, (apr_size_t)nbyte);
    r->sent_bodyct = 1;
    return nbyte;
}

/* Reads every bucket, files included, as the core output filter would send them. */
apr_status_t ap_pass_brigade_fchk(request_rec *r, apr_bucket_brigade *bb, const char *fmt, ...)
{
    stub_io_t *io = stub_io(r);
    io->brigades++;
    for (apr_bucket *b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb); b = APR_BUCKET_NEXT(b)) {
        const char *data;
        apr_size_t len;
        if (APR_BUCKET_IS_METADATA(b))
            continue;
        apr_status_t rv = apr_bucket_read(b, &data, &len, APR_BLOCK_READ);
        if (rv != APR_SUCCESS) {
            apr_brigade_cleanup(bb);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        out_append(io, r->pool, data, len);
    }
    r->sent_bodyct = 1;
    apr_brigade_cleanup(bb);
    return OK;
}

/* ErrorDocument's expressions: the module only parses constant strings, which the stub accepts. */
const char *ap_expr_parse(apr_pool_t *pool, apr_pool_t *ptemp, ap_expr_info_t *info, const char *expr,
                          ap_expr_lookup_fn_t *lookup_fn)
{
    (void)pool, (void)ptemp, (void)info, (void)expr, (void)lookup_fn;
    return NULL;
}

int ap_expr_lookup_default(ap_expr_lookup_parms *parms)
{
    (void)parms;
    return DECLINED;
}

/* The index of a status in the ErrorDocument table: any one-to-one mapping will do here. */
int ap_index_of_response(int status)
{
    return status >= 100 && status < 100 + RESPONSE_CODES ? status - 100 : 0;
}

/* ap_http_scheme() is a macro over this hook: the stub serves plain http. */
const char *ap_run_http_scheme(const request_rec *r)
{
    (void)r;
    return "http";
}

char *ap_construct_url(apr_pool_t *p, const char *uri, request_rec *r)
{
    return apr_pstrcat(p, "http://", r->hostname ? r->hostname : r->server->server_hostname, uri, NULL);
}

/* --- the request body --------------------------------------------------------------------------- */

int ap_setup_client_block(request_rec *r, int read_policy)
{
    const char *te = apr_table_get(r->headers_in, "Transfer-Encoding");
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    r->read_body = read_policy;
    r->read_chunked = 0;
    r->remaining = 0;
    if (te) {
        if (strcasecmp(te, "chunked"))
            return HTTP_NOT_IMPLEMENTED;
        if (read_policy == REQUEST_CHUNKED_ERROR)
            return HTTP_LENGTH_REQUIRED;
        r->read_chunked = 1;
    } else if (cl) {
        char *end;
        if (apr_strtoff(&r->remaining, cl, &end, 10) != APR_SUCCESS || *end || r->remaining < 0)
            return HTTP_BAD_REQUEST;
    }
    if (read_policy == REQUEST_NO_BODY && (r->read_chunked || r->remaining > 0))
        return HTTP_REQUEST_ENTITY_TOO_LARGE;
    return OK;
}

int ap_should_client_block(request_rec *r)
{
    /* httpd's own test: nothing read yet, and a body announced. */
    return !r->read_length && (r->read_chunked || r->remaining > 0);
}

long ap_get_client_block(request_rec *r, char *buffer, apr_size_t bufsiz)
{
    stub_io_t *io = stub_io(r);
    if (io->body_fail)
        return -1;
    apr_size_t n = io->body_len - io->body_pos;
    if (!r->read_chunked && (apr_off_t)n > r->remaining)
        n = (apr_size_t)r->remaining;
    if (n > bufsiz)
        n = bufsiz;
    memcpy(buffer, io->body + io->body_pos, n);
    io->body_pos += n;
    if (!r->read_chunked)
        r->remaining -= (apr_off_t)n;
    r->read_length += (apr_off_t)n;
    return (long)n;
}
