/* stp_mail: a notification digest as an RFC 5322 message, multipart text and HTML, in the
 * user's language, with absolute links. A pure function of the digest and its context, so that
 * the same digest always makes the same message (but for the Date header). */
#ifndef STP_MAIL_H
#define STP_MAIL_H

#include <apr_pools.h>
#include <apr_time.h>

#include "stp_digest.h"
#include "stp_view.h"

/* A localized UI string for a key in a language (with the caller's fallbacks); never NULL. */
typedef const char *stp_msg_fn(void *baton, const char *lang, const char *key, apr_pool_t *pool);

typedef struct {
    const char *base_url; /* e.g. https://trust.example.com (no trailing slash) */
    const char *from;     /* the envelope and From address, e.g. noreply@trust.example.com */
    const char *lang;     /* the digest's language */
    stp_msg_fn *msg;      /* strings: site.title, digest.*, library.version, doc.download */
    void *baton;
    apr_time_t date;        /* the Date header */
    const stp_view_t *view; /* the build's page templates, for the HTML part; NULL: text only */
    const char *dir;        /* the language's direction, "ltr" or "rtl" */
} stp_mail_t;

/* The whole message with CRLF line ends, ready for a sendmail-compatible command's stdin. */
const char *stp_mail_digest(const stp_digest_t *digest, const stp_mail_t *mail, apr_pool_t *pool);

/* A plain-text message (the validity report to the editors): From the site's name at `from`, to
 * `to`, with `subject` and `text` (UTF-8, LF line ends), `message_id` in angle brackets. The
 * same encoding rules as the digests: headers safe whatever the texts hold, the body base64. */
const char *stp_mail_text(const char *site, const char *from, const char *to, const char *subject, const char *text,
                          const char *message_id, apr_time_t date, apr_pool_t *pool);

/* The display name of a From header for any label: as is when it is atoms and single spaces, a
 * quoted string (RFC 5322) when it holds specials such as a comma, quote or backslash, RFC 2047
 * encoded words when it is not ASCII; control characters become spaces. */
const char *stp_mail_display_name(const char *name, apr_pool_t *pool);

/* The link to a document's page for its readers: tenant documents live under /<lang>/org/. */
const char *stp_mail_doc_url(const char *base_url, const char *lang, const stp_doc_t *doc, apr_pool_t *pool);

#endif
