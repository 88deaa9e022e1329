/* Stand-ins for the httpd functions the module's glue calls, so that its C files link into a
 * test program and run on request_recs built by hand (the approach of mod_auth_openidc's
 * test/stub.c). The stubs do what httpd does with the request_rec, in small: they set the same
 * fields and headers, and keep what would go to the client where a test can read it. */
#ifndef STP_HTTPD_STUB_H
#define STP_HTTPD_STUB_H

#include <httpd.h>
#include <http_config.h>
#include <mod_auth.h>
#include <util_filter.h>

/* Slots of the configuration vectors: 0 is core's (httpd's macros index it directly), then the
 * module under test, then the stubs' own per-request record. */
#define STUB_CORE_INDEX 0
#define STUB_MODULE_INDEX 1
#define STUB_IO_INDEX 2
#define STUB_NSLOTS 3

/* What one request exchanged with its fabricated client. */
typedef struct {
    /* The request body that the client-block functions hand out. */
    const char *body;
    apr_size_t body_len, body_pos;
    int body_fail; /* ap_get_client_block fails (-1) as on a broken connection */
    /* The response body, from ap_rwrite and ap_pass_brigade_fchk alike. */
    char *out;
    apr_size_t out_len, out_cap;
    int rwrites, brigades, conditions;
    /* The last ap_log_rerror line, and how many there were. */
    int log_count, log_level;
    const char *log_msg;
} stub_io_t;

/* The hook functions register_hooks handed over. */
typedef struct {
    int (*post_read_request)(request_rec *);
    void (*insert_filter)(request_rec *);
    int (*check_config)(apr_pool_t *, apr_pool_t *, apr_pool_t *, server_rec *);
    int (*post_config)(apr_pool_t *, apr_pool_t *, apr_pool_t *, server_rec *);
    void (*child_init)(apr_pool_t *, server_rec *);
    int (*translate_name)(request_rec *);
    int (*map_to_storage)(request_rec *);
    int (*fixups)(request_rec *);
    int (*handler)(request_rec *);
} stub_hooks_t;
extern stub_hooks_t stub_hooks;

/* The output filter the module registered (one is enough for it), and the last
 * ap_find_linked_module that should find something. */
extern ap_out_filter_func stub_output_filter;
extern const char *stub_linked_module;
/* Whether insert_filter added the module's filter to this request. */
int stub_filter_added(const request_rec *r);
/* Runs the registered output filter over `body` (type `content_type`) as the response of r, then
 * EOS; what it passes on is the response body (stub_out). */
apr_status_t stub_filter_run(request_rec *r, const char *content_type, const char *body);

/* The last server-level log line (ap_log_error). */
extern char stub_server_log[1024];

/* A main server whose log level lets every line through, with empty config vectors. */
server_rec *stub_server(apr_pool_t *pool);
/* What ap_add_module does for a module: gives it an index, runs its register_hooks and creates
 * its server configuration. */
void stub_load_module(module *m, server_rec *s, apr_pool_t *pool);
/* Runs one directive of m's command table as httpd's config reader would (TAKE1, TAKE2, ITERATE);
 * returns the directive's error or NULL. */
const char *stub_directive(module *m, server_rec *s, apr_pool_t *pool, const char *name, const char *arg1,
                           const char *arg2);

/* A request for "METHOD URI[?ARGS]" on s, in a subpool of pool. HEAD is M_GET with header_only,
 * as httpd's protocol layer sets it. */
request_rec *stub_request(server_rec *s, apr_pool_t *pool, const char *method, const char *uri);
stub_io_t *stub_io(const request_rec *r);
/* The request body with Content-Length (chunked: Transfer-Encoding chunked instead) and its type. */
void stub_set_body(request_rec *r, const char *content_type, const char *body, int chunked);
/* The response body so far, NUL-terminated. */
const char *stub_out(const request_rec *r);

/* httpd's request processing from reading the request to the handler, as far as the module takes
 * part: post_read_request, translate_name, map_to_storage, fixups, handler. The first status other than OK/DECLINED
 * ends it (as ap_process_request_internal does); else the handler's. */
int stub_run(request_rec *r);

/* A registered auth provider; NULL when none has that group and name. */
const void *stub_provider(const char *group, const char *name, const char *version);

#endif
