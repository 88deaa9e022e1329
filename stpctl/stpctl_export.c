/* stpctl_export: records as CSV (RFC 4180, with a formula guard) or as JSON lines, for the audit
 * and feedback exports. */
#include <stdio.h>
#include <string.h>

#include <apr_strings.h>

#include <apr_file_info.h>

#include "stp_http.h"
#include "stp_layout.h"
#include "stp_state.h"
#include "stpctl.h"

apr_status_t stpctl_export_format(stpctl_format_t *f, const char *name)
{
    if (!strcmp(name, "csv"))
        *f = STPCTL_CSV;
    else if (!strcmp(name, "jsonl"))
        *f = STPCTL_JSONL;
    else
        return APR_EINVAL;
    return APR_SUCCESS;
}

/* One CSV field. A field a spreadsheet would run as a formula gets a leading apostrophe: these
 * records hold identity-provider claims and text users typed. */
static void csv_field(FILE *out, const char *v, int last)
{
    if (!v)
        v = "";
    int quote = strpbrk(v, ",\"\r\n") != NULL, formula = v[0] && strchr("=+-@\t\r", v[0]);
    if (quote)
        fputc('"', out);
    if (formula)
        fputc('\'', out);
    for (const char *c = v; *c; c++) {
        if (*c == '"')
            fputc('"', out);
        fputc(*c, out);
    }
    if (quote)
        fputc('"', out);
    fputc(last ? '\n' : ',', out);
}

void stpctl_export_header(FILE *out, stpctl_format_t f, int n, const char *const *names)
{
    if (f != STPCTL_CSV)
        return;
    for (int i = 0; i < n; i++)
        csv_field(out, names[i], i == n - 1);
}

void stpctl_export_row(FILE *out, stpctl_format_t f, int n, const char *const *names, const char *const *values,
                       apr_pool_t *pool)
{
    if (f == STPCTL_CSV) {
        for (int i = 0; i < n; i++)
            csv_field(out, values[i], i == n - 1);
        return;
    }
    fputc('{', out);
    for (int i = 0; i < n; i++)
        fprintf(out, "%s%s:%s", i ? "," : "", stp_http_json_string(names[i], pool),
                stp_http_json_string(values[i] ? values[i] : "", pool));
    fputs("}\n", out);
}

const char *stpctl_export_time(apr_time_t t, apr_pool_t *pool)
{
    apr_time_exp_t tm;
    apr_time_exp_gmt(&tm, t);
    return apr_psprintf(pool, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                        tm.tm_hour, tm.tm_min, tm.tm_sec);
}

stp_state_t *stpctl_state_open_existing(const char *who, const char *state_dir, apr_pool_t *pool)
{
    stp_state_t *st = NULL;
    apr_finfo_t fi;
    char err[256];
    const char *path = apr_pstrcat(pool, state_dir, "/" STP_STATE_DB, NULL);
    apr_status_t rv = apr_stat(&fi, path, APR_FINFO_TYPE, pool);
    stp_state_options_t opts = {.upgrade_alone = 1}; /* httpd may still be the previous version */
    if (rv == APR_SUCCESS)
        rv = stp_state_open(&st, state_dir, &opts, pool);
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "%s: cannot open %s: %s\n", who, path, stp_state_strerror(rv, err, sizeof err));
        return NULL;
    }
    return st;
}
