/* stp_http: the parts of request handling that need no httpd: the module's URLs, query strings
 * and forms, language negotiation, and the escaping of everything that goes back out. The glue
 * hands these plain strings from the request_rec; fuzz and unit tests call them directly. */
#ifndef STP_HTTP_H
#define STP_HTTP_H

#include <apr_pools.h>
#include <apr_tables.h>

/* The most fields a form or query string may carry; more is a client error. */
#define STP_FORM_MAX_FIELDS 32

/* "/download/<id>" or "/download/<id>/<version>" (an optional trailing slash is not accepted).
 * Sets *version to NULL without one. APR_NOTFOUND for anything else, so that no malformed or
 * overlong id reaches the catalog. */
apr_status_t stp_http_download_parse(const char **id, const char **version, const char *uri, apr_pool_t *pool);

/* Parses application/x-www-form-urlencoded data (a form body or a query string) into *fields.
 * APR_EINVAL with *err set on malformed escapes, NUL, invalid UTF-8, a repeated key or too many
 * fields: input that no browser sends, refused as a whole rather than half-understood. */
apr_status_t stp_http_form_parse(apr_table_t **fields, const char **err, const char *data, apr_size_t len,
                                 apr_pool_t *pool);

/* The same for a query whose keys may repeat (checkboxes: service=a&service=b), at most
 * `max_fields` fields. */
apr_status_t stp_http_form_parse_multi(apr_table_t **fields, const char **err, const char *data, apr_size_t len,
                                       int max_fields, apr_pool_t *pool);

/* 1 when s[0..len) is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
int stp_http_utf8_valid(const char *s, apr_size_t len);

/* Percent-encodes everything but RFC 3986 unreserved characters (for a query value or "/"-free
 * path segment). */
const char *stp_http_url_escape(const char *s, apr_pool_t *pool);
/* A JSON string literal, quotes included; NULL gives null. */
const char *stp_http_json_string(const char *s, apr_pool_t *pool);

/* The Content-Disposition value for a download (RFC 6266): an ASCII fallback filename, and
 * filename* in UTF-8 when the name is not plain ASCII. */
const char *stp_http_content_disposition(const char *name, apr_pool_t *pool);

/* The reader's language, one rule for every page (docs/architecture.md): the language of the page
 * the reader came from, named by `asked` (a module page's ?lang=) or else by the first segment of
 * `from_path` (the path of a same-site Referer, or of the URL that failed for an error page),
 * then the `cookie` the language picker sets, then Accept-Language, then `fallback`. A
 * download's ?lang= picks the file's language and is never `asked`. */
const char *stp_http_lang_reader(const char *asked, const char *from_path, const char *cookie,
                                 const char *accept_language, const char *locales, const char *fallback,
                                 apr_pool_t *pool);
/* The response language: the first of `asked` (a ?lang= value), `cookie`, the Accept-Language
 * ranges in quality order, that is one of `locales` (comma-separated); else `fallback`. */
const char *stp_http_lang_pick(const char *asked, const char *cookie, const char *accept_language, const char *locales,
                               const char *fallback, apr_pool_t *pool);

/* The value of one cookie from a Cookie header; NULL when absent. */
const char *stp_http_cookie_get(const char *header, const char *name, apr_pool_t *pool);

/* 1 when lang is one of the comma-separated locales (the catalog's "locales" meta). */
int stp_http_locale_listed(const char *locales, const char *lang);

#endif
