/* stp_csrf: tokens that prove a state-changing POST came from a form we rendered for this user in
 * this browser session (docs/architecture.md). A token is bound to the user's key, to the session
 * (a random value kept in the stp_sid cookie, renewed at sign-in and sign-out) and to the form's
 * purpose, and it expires: a token copied out of a page is worthless after sign-out, in another
 * browser, for another form, or after STP_CSRF_LIFETIME. */
#ifndef STP_CSRF_H
#define STP_CSRF_H

#include <apr_pools.h>
#include <apr_time.h>

/* How long a form may stay open before it must be shown again. */
#define STP_CSRF_LIFETIME apr_time_from_sec(12 * 3600)
/* The hex digits of a session value (128 random bits). */
#define STP_CSRF_SESSION_HEX 32

/* A token: 16 hex digits of its issue time (seconds) and 64 hex digits of
 * HMAC-SHA256(secret, "stp-csrf-2" NUL user NUL session NUL purpose NUL time). */
const char *stp_csrf_token(const unsigned char *secret, apr_size_t slen, const char *user_key, const char *session,
                           const char *purpose, apr_time_t now, apr_pool_t *pool);
/* 1 when `token` was issued for exactly these user, session and purpose no longer than
 * STP_CSRF_LIFETIME before `now` (and not more than a minute after it: clocks of several nodes);
 * 0 otherwise. The comparison takes the same time whatever the token holds. */
int stp_csrf_check(const unsigned char *secret, apr_size_t slen, const char *user_key, const char *session,
                   const char *purpose, const char *token, apr_time_t now, apr_pool_t *pool);
/* A new random session value (STP_CSRF_SESSION_HEX lowercase hex digits). */
apr_status_t stp_csrf_session_new(const char **session, apr_pool_t *pool);
/* 1 when `value` has the form of a session value (so a cookie cannot inject anything). */
int stp_csrf_session_ok(const char *value);

#endif
