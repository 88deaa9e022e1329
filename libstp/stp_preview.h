/* stp_preview: the content editor's preview (`sitegen serve`). Who the preview bar says the reader
 * is, turned into claims, so that a previewed page goes through the same identity, access and
 * tenant code as a reader signed in through the identity provider; the loopback rule that keeps
 * the preview on the editor's machine; and the status file through which sitegen tells the module
 * which build it serves and what the last failed one said. Development only: the module uses it
 * under `StpPreview On` (docs/directives.md). */
#ifndef STP_PREVIEW_H
#define STP_PREVIEW_H

#include <apr_network_io.h>
#include <apr_pools.h>

#include "stp_identity.h"

/* The issuer of every preview identity: a name that no identity provider can have (.invalid). */
#define STP_PREVIEW_ISSUER "https://preview.stp.invalid"
/* The status file sitegen serve writes into StpSite. */
#define STP_PREVIEW_STATUS "preview.status"

typedef enum {
    STP_PREVIEW_ANONYMOUS = 0,
    STP_PREVIEW_PERSONAL, /* signed in without an organisation */
    STP_PREVIEW_MEMBER,   /* a member of `tenant` */
    STP_PREVIEW_ADMIN     /* an administrator of `tenant` (the admin claim) */
} stp_preview_kind_t;

typedef struct {
    stp_preview_kind_t kind;
    const char *tenant; /* MEMBER and ADMIN only */
    int nda;            /* MEMBER and ADMIN: has accepted the current NDA */
    const char *sub;    /* the subject claim; NULL for anonymous. One per (kind, tenant, nda), so that
                           "without the NDA" is a user who never accepted it */
    const char *email;
} stp_preview_t;

/* Parses the bar's choice and the cookie that keeps it: "anonymous", "personal", "member.TENANT"
 * or "admin.TENANT", the last two optionally followed by ".nda". APR_EINVAL for anything else
 * (then *p is anonymous). TENANT has the syntax of a tenant id; whether site.xml has it is the
 * caller's question. */
apr_status_t stp_preview_parse(stp_preview_t *p, const char *text, apr_pool_t *pool);
/* The text stp_preview_parse reads back. */
const char *stp_preview_format(const stp_preview_t *p, apr_pool_t *pool);
/* The claim `name` of a preview identity under `map`, as the identity provider would send it;
 * NULL when that identity has no such claim. */
const char *stp_preview_claim(const stp_preview_t *p, const stp_claims_map_t *map, const char *name);

/* 1 when the address is a loopback address (127.0.0.0/8, ::1, or 127.x mapped into IPv6); 0 for
 * everything else, NULL included. */
int stp_preview_loopback(const apr_sockaddr_t *sa);
/* 1 when a request's host name (r->hostname, from its Host header) names this machine: localhost,
 * an address of 127.0.0.0/8 or ::1 (NULL, no Host at all, too). A page of another site that
 * points its own name at 127.0.0.1 (DNS rebinding) reaches the preview with that name instead. */
int stp_preview_host_ok(const char *hostname);

/* What sitegen serve says about its builds. */
typedef struct {
    const char *id;     /* changes with every build attempt, failed or not ("0": none yet) */
    int failed;         /* the last attempt failed: the site is the one before it */
    const char *errors; /* what the failed attempt printed ("" when it did not fail) */
} stp_preview_status_t;

/* Reads the status file (at most 64 KiB of it). A missing file reads as build "0", not failed. */
apr_status_t stp_preview_status_read(stp_preview_status_t *st, const char *path, apr_pool_t *pool);
/* Writes it atomically (`id`: letters, digits, hyphens) (a new file renamed over the old one), readable by everyone:
 * the httpd children read it. */
apr_status_t stp_preview_status_write(const char *path, const char *id, int failed, const char *errors,
                                      apr_pool_t *pool);

#endif
