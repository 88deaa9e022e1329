/* stp_notify: a user's notification settings (how often, where, in which language) and the record
 * of the digests sent, in state.mdb; stp_digest plans what is due. */
#ifndef STP_NOTIFY_H
#define STP_NOTIFY_H

#include "stp_library.h"

typedef enum { STP_FREQ_OFF = 0, STP_FREQ_DAILY, STP_FREQ_WEEKLY, STP_FREQ_MONTHLY } stp_freq_t;
const char *stp_notify_freq_name(stp_freq_t freq);
apr_status_t stp_notify_freq_parse(stp_freq_t *freq, const char *name);

typedef struct {
    stp_freq_t freq;
    const char *address;    /* where digests go; "" until chosen */
    const char *locale;     /* the digest's language; "" for the site's default */
    const char *tenant;     /* the organisation when the settings were saved: for the record only;
                               access goes by the user record (stp_state_user_get) */
    apr_time_t last_digest; /* when the last digest was sent (0: never) */
} stp_notify_t;

/* The user's settings; APR_NOTFOUND (and *n zeroed to defaults: off) when there are none. */
apr_status_t stp_notify_get(stp_notify_t *n, stp_state_t *st, const char *user_key, apr_pool_t *pool);
apr_status_t stp_notify_put(stp_state_t *st, const char *user_key, const stp_notify_t *n);

/* Every user with settings, in key order; a non-zero return of fn stops. */
typedef int stp_notify_fn(void *baton, const char *user_key, const stp_notify_t *n);
apr_status_t stp_notify_each(stp_state_t *st, stp_notify_fn *fn, void *baton, apr_pool_t *pool);

#endif
