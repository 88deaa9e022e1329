/* stp_access: who may have which document. One pure function decides every download and
 * document page; the module turns its answer into HTTP. docs/architecture.md is the specification. */
#ifndef STP_ACCESS_H
#define STP_ACCESS_H

#include "stp_catalog.h"
#include "stp_date.h"

/* Reads a claim by name; NULL when absent. The module reads them from the environment that
 * mod_auth_openidc sets, never from request headers. */
typedef const char *stp_claim_fn(void *baton, const char *name);

/* The user as the module sees them, from the identity provider's claims and the organisation's
 * settings in state.mdb. */
typedef struct {
    const char *key;     /* issuer + subject; NULL: anonymous */
    const char *tenant;  /* the organisation; NULL for anonymous and personal accounts */
    int tenant_admin;    /* an administrator of that tenant: from the admin claim, or a portal admin it appointed */
    int unlisted;        /* a member of an organisation in `assigned` mode whom nobody listed: none of the
                            tenant's documents and no NDA documents, as for outsiders */
    int staff;           /* portal-wide staff (StpStaffClaim): may open any organisation's settings */
    stp_claim_fn *claim; /* the user's other claims, for documents that require one; NULL: none */
    void *claim_baton;
} stp_user_t;

typedef enum {
    STP_DECIDE_SERVE = 0,
    STP_DECIDE_SIGNIN,     /* anonymous on a document that needs an account */
    STP_DECIDE_ACCEPT_NDA, /* an organisation account that has not accepted the current NDA */
    STP_DECIDE_PERSONAL,   /* a personal account on a document for organisation accounts */
    STP_DECIDE_GONE,       /* a retired version: 410, pointing at the current one */
    STP_DECIDE_NOT_FOUND   /* unknown, or not for this user's eyes: indistinguishable */
} stp_decision_t;

const char *stp_access_decision_name(stp_decision_t decision);

/* Decides for one version of a document (NULL: no such document). `nda_accepted` says whether the
 * user has accepted the current NDA version. `retention_months` > 0 overrides the retention the
 * catalog was built with (the operator's StpRetentionMonths). */
stp_decision_t stp_access_decide(const stp_user_t *user, const stp_doc_t *doc, stp_day_t today, int nda_accepted,
                                 int retention_months);

/* Whether the user may know the document exists at all: the tenant rule alone. */
int stp_access_visible(const stp_user_t *user, const stp_doc_t *doc);
/* The one rule of tenant membership, for documents and for `Require stp-tenant`: a signed-in
 * organisation member whose tenant is one of `tenants` (any tenant when there is no list). */
int stp_access_member(const stp_user_t *user, const apr_array_header_t *tenants);
/* Whether downloading `doc` needs the current NDA accepted: NDA documents, and tenant documents
 * that ask for it as well. */
int stp_access_needs_nda(const stp_doc_t *doc);
/* "anonymous", "personal", "member" or "tenant-admin". */
const char *stp_access_user_kind(const stp_user_t *user);

#endif
