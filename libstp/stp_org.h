/* stp_org: an organisation's settings in state.mdb: the industries and regions it chose, its access
 * mode, the people it listed with their roles, and the log of every change. The rules of who may
 * change what are here too (stp_org_may), so that the module only asks. docs/architecture.md has
 * the role table. */
#ifndef STP_ORG_H
#define STP_ORG_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "stp_access.h"
#include "stp_state.h"

typedef enum { STP_ORG_MODE_DEFAULT = 0, STP_ORG_MODE_OPEN, STP_ORG_MODE_ASSIGNED } stp_org_mode_t;

typedef enum {
    STP_ROLE_NONE = 0,
    STP_ROLE_USER,         /* portal user: the portal's features and the tenant's documents */
    STP_ROLE_ADMIN,        /* portal admin: also the settings and the portal users */
    STP_ROLE_ADMINISTRATOR /* the organisation's administrator (the admin claim): also the portal admins */
} stp_role_t;

const char *stp_org_mode_name(stp_org_mode_t mode);
apr_status_t stp_org_mode_parse(stp_org_mode_t *mode, const char *name);
/* "portal-user", "portal-admin", "administrator". */
const char *stp_org_role_name(stp_role_t role);
/* Only the roles a form may grant: portal-user and portal-admin. */
apr_status_t stp_org_role_parse(stp_role_t *role, const char *name);

/* Limits of what an organisation may store. */
#define STP_ORG_MAX_PEOPLE 1000
#define STP_ORG_MAX_TAGS 64
#define STP_ORG_MAX_EMAIL 254

typedef struct {
    stp_org_mode_t mode;            /* DEFAULT: the operator's StpTenantAccessDefault */
    apr_array_header_t *industries; /* const char *: vocabulary ids */
    apr_array_header_t *regions;
} stp_org_settings_t;

typedef struct {
    const char *email; /* lowercase */
    stp_role_t role;
    apr_time_t since;
    const char *by; /* who listed them (an e-mail address or "identity provider") */
} stp_org_person_t;

/* The settings (empty ones when never saved). */
apr_status_t stp_org_settings_get(stp_org_settings_t *s, stp_state_t *st, const char *tenant, apr_pool_t *pool);
/* The role of `email` in `tenant` (STP_ROLE_NONE when not listed), read without allocating: this
 * runs on every request of an organisation member. */
apr_status_t stp_org_role_get(stp_role_t *role, stp_state_t *st, const char *tenant, const char *email);
/* Everyone listed, administrators first, then by address. */
apr_status_t stp_org_people(apr_array_header_t **people, stp_state_t *st, const char *tenant, apr_pool_t *pool);
/* The domains an address of the organisation may have: those of its members' verified e-mail
 * addresses in the user records, sorted, without duplicates. */
apr_status_t stp_org_seen_domains(apr_array_header_t **domains, stp_state_t *st, const char *tenant, apr_pool_t *pool);

/* Whether the portal has seen a member of `tenant` sign in (a user record names it): 1, 0, or <0 on
 * a read error. Staff may open the settings of such organisations and of those in site.xml. */
int stp_org_tenant_seen(stp_state_t *st, const char *tenant);

/* Who makes a change, for the rules and the log. */
typedef struct {
    const char *user_key;
    const char *email; /* may be NULL */
    stp_role_t role;   /* in the organisation changed; NONE for staff from elsewhere */
    int staff;
} stp_org_actor_t;

typedef enum {
    STP_ORG_VIEW = 0,    /* open the settings */
    STP_ORG_SETTINGS,    /* industries, regions, mode */
    STP_ORG_MANAGE_USER, /* add, change or revoke a portal user */
    STP_ORG_MANAGE_ADMIN /* add, change or revoke a portal admin */
} stp_org_act_t;

/* Whether actor may do act. Nobody may change an administrator's role: that comes from the claim. */
int stp_org_may(const stp_org_actor_t *actor, stp_org_act_t act);

/* The changes. Each is one durable transaction together with its log entry, and logs nothing
 * when nothing changes. APR_EINVAL for input outside the limits. */
apr_status_t stp_org_settings_put(stp_state_t *st, const char *tenant, const stp_org_settings_t *s,
                                  const stp_org_actor_t *actor, apr_time_t when);
/* Lists email with role, or changes its role; APR_EACCES when email is an administrator's,
 * APR_ENOSPC past STP_ORG_MAX_PEOPLE. */
apr_status_t stp_org_person_put(stp_state_t *st, const char *tenant, const char *email, stp_role_t role,
                                const stp_org_actor_t *actor, apr_time_t when);
/* APR_NOTFOUND when not listed; APR_EACCES for an administrator. */
apr_status_t stp_org_person_revoke(stp_state_t *st, const char *tenant, const char *email, const stp_org_actor_t *actor,
                                   apr_time_t when);
/* Keeps the administrator listing true to the claim: lists email as administrator when `is_admin`
 * and it is not yet, or as portal admin when it is listed as administrator but the claim no longer
 * says so. A read that allocates nothing when there is nothing to change. *changed (may be NULL). */
apr_status_t stp_org_administrator_note(stp_state_t *st, const char *tenant, const char *email, int is_admin,
                                        apr_time_t when, int *changed);

/* One change in the log. */
typedef struct {
    apr_uint64_t seq;
    apr_time_t when;
    const char *tenant;
    const char *actor;       /* user key */
    const char *actor_email; /* "" when none */
    const char *action;      /* "settings" (industries, regions), "mode" (the access mode alone), "add", "role",
                                "revoke", "administrator" (the claim listed or unlisted someone) */
    const char *subject;     /* the address concerned, "" for settings */
    const char *before, *after;
} stp_org_change_t;
typedef int stp_org_change_fn(void *baton, const stp_org_change_t *c);
/* Every change in order (tenant NULL), or one organisation's newest first, at most `limit` (0:
 * all). fn's non-zero return stops. */
apr_status_t stp_org_log(stp_state_t *st, const char *tenant, int limit, stp_org_change_fn *fn, void *baton,
                         apr_pool_t *pool);

/* Lowercases an address and checks it: one @, a local part and a domain of sane characters and
 * lengths. NULL when it is no address. */
const char *stp_org_email_normal(const char *email, apr_pool_t *pool);
/* The domain part of a normal address. */
const char *stp_org_email_domain(const char *email);

/* The organisation's own view of a member, for stp_user_t: whether they are listed (or need not
 * be) and whether they administer it. `email` must be the verified address, NULL otherwise. */
typedef struct {
    stp_org_mode_t mode; /* in force: never DEFAULT */
    stp_role_t role;
} stp_org_member_t;
apr_status_t stp_org_member(stp_org_member_t *m, stp_state_t *st, const char *tenant, const char *email,
                            int claim_admin, stp_org_mode_t default_mode);

#endif
