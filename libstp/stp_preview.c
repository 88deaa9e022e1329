#include "stp_preview.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <apr_file_io.h>
#include <apr_strings.h>

#include "stp_paths.h"

#define STATUS_MAX (64 * 1024)

static const char *const kinds[] = {"anonymous", "personal", "member", "admin"};

apr_status_t stp_preview_parse(stp_preview_t *p, const char *text, apr_pool_t *pool)
{
    memset(p, 0, sizeof *p);
    if (!text)
        return APR_EINVAL;
    stp_preview_t v = {0};
    if (!strcmp(text, "anonymous"))
        v.kind = STP_PREVIEW_ANONYMOUS;
    else if (!strcmp(text, "personal"))
        v.kind = STP_PREVIEW_PERSONAL;
    else {
        const char *rest = !strncmp(text, "member.", 7) ? text + 7 : !strncmp(text, "admin.", 6) ? text + 6 : NULL;
        apr_size_t n = rest ? stp_paths_tenant_len(rest) : 0;
        if (!n || (rest[n] && strcmp(rest + n, ".nda")))
            return APR_EINVAL;
        v.kind = text[0] == 'm' ? STP_PREVIEW_MEMBER : STP_PREVIEW_ADMIN;
        v.tenant = apr_pstrmemdup(pool, rest, n);
        v.nda = rest[n] != '\0';
    }
    if (v.kind != STP_PREVIEW_ANONYMOUS) {
        v.sub = apr_pstrcat(pool, "preview-", kinds[v.kind], v.tenant ? "-" : "", v.tenant ? v.tenant : "",
                            v.nda ? "-nda" : "", NULL);
        v.email = apr_pstrcat(pool, v.sub, "@preview.invalid", NULL);
    }
    *p = v;
    return APR_SUCCESS;
}

const char *stp_preview_format(const stp_preview_t *p, apr_pool_t *pool)
{
    if (p->kind == STP_PREVIEW_ANONYMOUS || p->kind == STP_PREVIEW_PERSONAL || !p->tenant)
        return p->kind == STP_PREVIEW_PERSONAL ? "personal" : "anonymous";
    return apr_pstrcat(pool, kinds[p->kind], ".", p->tenant, p->nda ? ".nda" : "", NULL);
}

static int is(const char *name, const char *claim)
{
    return claim && !strcmp(name, claim);
}

const char *stp_preview_claim(const stp_preview_t *p, const stp_claims_map_t *map, const char *name)
{
    if (!name || !p->sub)
        return NULL;
    if (is(name, map->user_claim))
        return p->sub;
    if (is(name, map->issuer_claim))
        return STP_PREVIEW_ISSUER;
    if (is(name, map->tenant_claim))
        return p->tenant;
    if (is(name, map->email_claim))
        return p->email;
    if (is(name, map->admin_claim))
        return p->kind == STP_PREVIEW_ADMIN ? map->admin_value : NULL;
    if (is(name, map->email_verified_claim ? map->email_verified_claim : "email_verified"))
        return "true";
    return NULL;
}

int stp_preview_loopback(const apr_sockaddr_t *sa)
{
    if (!sa)
        return 0;
    if (sa->family == AF_INET)
        return (ntohl(sa->sa.sin.sin_addr.s_addr) >> 24) == 127;
#if APR_HAVE_IPV6
    if (sa->family == AF_INET6) {
        const struct in6_addr *a = &sa->sa.sin6.sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a))
            return 1;
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
#endif
    return 0;
}

int stp_preview_host_ok(const char *hostname)
{
    if (!hostname)
        return 1;
    char buf[64];
    apr_size_t n = strlen(hostname);
    if (n && hostname[0] == '[' && hostname[n - 1] == ']') /* an IPv6 literal as the Host header has it */
        hostname++, n -= 2;
    if (n && hostname[n - 1] == '.') /* the root's dot: "localhost." */
        n--;
    if (!n || n >= sizeof buf)
        return 0;
    memcpy(buf, hostname, n);
    buf[n] = '\0';
    if (!strcasecmp(buf, "localhost"))
        return 1;
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, buf, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, buf, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
    return 0;
}

apr_status_t stp_preview_status_read(stp_preview_status_t *st, const char *path, apr_pool_t *pool)
{
    apr_file_t *f;
    st->id = "0";
    st->failed = 0;
    st->errors = "";
    apr_status_t rv = apr_file_open(&f, path, APR_FOPEN_READ, 0, pool);
    if (APR_STATUS_IS_ENOENT(rv))
        return APR_SUCCESS;
    if (rv != APR_SUCCESS)
        return rv;
    char *buf = apr_palloc(pool, STATUS_MAX + 1);
    apr_size_t n = STATUS_MAX;
    rv = apr_file_read_full(f, buf, n, &n);
    apr_file_close(f);
    if (rv != APR_SUCCESS && !APR_STATUS_IS_EOF(rv))
        return rv;
    buf[n] = '\0';
    /* "ID ok\n" or "ID failed\nERRORS" */
    char *nl = strchr(buf, '\n'), *space = strchr(buf, ' ');
    if (!nl || !space || space > nl)
        return APR_EINVAL;
    *nl = *space = '\0';
    st->id = buf;
    st->failed = !strcmp(space + 1, "failed");
    st->errors = st->failed ? nl + 1 : "";
    return APR_SUCCESS;
}

apr_status_t stp_preview_status_write(const char *path, const char *id, int failed, const char *errors,
                                      apr_pool_t *pool)
{
    apr_file_t *f;
    const char *tmp = apr_pstrcat(pool, path, ".tmp", NULL);
    const char *text = apr_pstrcat(pool, id, failed ? " failed\n" : " ok\n", failed && errors ? errors : "", NULL);
    apr_size_t len = strlen(text);
    if (len > STATUS_MAX) /* the first errors are the ones to fix first */
        len = STATUS_MAX;
    apr_status_t rv = apr_file_open(&f, tmp, APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_TRUNCATE,
                                    APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_GREAD | APR_FPROT_WREAD, pool);
    if (rv != APR_SUCCESS)
        return rv;
    rv = apr_file_write_full(f, text, len, NULL);
    apr_status_t rc = apr_file_close(f);
    if (rv == APR_SUCCESS)
        rv = rc;
    if (rv == APR_SUCCESS)
        rv = apr_file_perms_set(tmp, APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_GREAD | APR_FPROT_WREAD);
    if (rv == APR_SUCCESS || APR_STATUS_IS_ENOTIMPL(rv))
        rv = apr_file_rename(tmp, path, pool);
    return rv;
}
