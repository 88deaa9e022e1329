/* stp_digest: which notification digests are due (docs/architecture.md), as a pure function of a
 * user's settings, library and the published catalog at a given time. stpctl notify sends what
 * this plans and records it with stp_digest_record only once the mail command has succeeded. */
#ifndef STP_DIGEST_H
#define STP_DIGEST_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "stp_catalog.h"
#include "stp_library.h"
#include "stp_notify.h"

typedef struct {
    const char *series;
    const stp_doc_t *doc; /* the series' current version: what the digest lists */
    const char *seen;     /* its fingerprint, recorded as seen once the digest is sent */
} stp_digest_item_t;

typedef struct {
    const char *user_key;
    const char *address;
    const char *locale;
    const char *message_id;    /* "<hex@host>": the same for the same user, window and items */
    apr_array_header_t *items; /* stp_digest_item_t, in series order */
} stp_digest_t;

/* The series' current version (NULL when the series is gone). */
typedef const stp_doc_t *stp_series_current_fn(void *baton, const char *series, apr_pool_t *pool);

/* When the next digest may go: last + one day, seven days or one calendar month (in UTC); 0 for
 * a user who never had one (due at once). */
apr_time_t stp_digest_due(stp_freq_t freq, apr_time_t last);

/* The digest due for one user at `now`, or NULL: notifications off, no address, the window has not
 * passed, or nothing they saved changed since they last saw it. Series whose current version the
 * user may no longer have are left out (stp_access_offered): judged by `who`, the module's record
 * of the user's last signed-in request (stp_state_user_get; NULL when there is none): its
 * organisation (never the one stored with their settings, which a user who moved would keep), its
 * roles and the claims that documents require. `host` names the Message-ID's right-hand side. */
stp_digest_t *stp_digest_plan(const char *user_key, const stp_notify_t *n, const stp_user_record_t *who,
                              const apr_array_header_t *entries, stp_series_current_fn *current, void *baton,
                              apr_time_t now, const char *host, apr_pool_t *pool);

/* Why a digest may not go to `address`, or NULL when it may. `who` is the module's record of the
 * user (stp_state_user_get; NULL when there is none, as in state written before records were
 * kept): its e-mail address must be verified by the provider, and `address` must be in that
 * address's domain, as the settings page demands when the address is saved. */
const char *stp_digest_unmailable(const stp_user_record_t *who, const char *address, apr_pool_t *pool);

/* Claims the digest due for user_key for this run (`run`: a name unique to it) until now + lease,
 * so that notify runs on several nodes at once send each digest once: *mine is 1 when this run
 * may send it, 0 when another run holds it or sent it since `last_digest` was read. Recording the
 * digest (stp_digest_record) ends the claim; stp_digest_release gives it back after a failed
 * send. state.mdb has one machine's notify runs only: there every claim is granted. */
apr_status_t stp_digest_claim(int *mine, stp_state_t *st, const char *user_key, apr_time_t last_digest, const char *run,
                              apr_time_t now, apr_interval_time_t lease);
apr_status_t stp_digest_release(stp_state_t *st, const char *user_key, const char *run);

/* Records a sent digest in one transaction: last_digest = sent, and each delivered entry's
 * `seen` (matched by series; entries removed meanwhile stay removed). */
apr_status_t stp_digest_record(stp_state_t *st, const char *user_key, apr_time_t sent,
                               const apr_array_header_t *delivered);

#endif
