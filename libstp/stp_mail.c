#include "stp_mail.h"

#include <string.h>

#include <apr_base64.h>
#include <apr_strings.h>

#include "stp_http.h"

/* Control characters (CR and LF above all, which would start a header of the label's choosing)
 * become spaces. */
static char *no_controls(const char *s, apr_pool_t *pool)
{
    char *out = apr_pstrdup(pool, s);
    for (unsigned char *c = (unsigned char *)out; *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            *c = ' ';
    return out;
}

static int ascii_only(const char *s)
{
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if (*c > 0x7e)
            return 0;
    return 1;
}

/* RFC 2047 encoded words, B encoding, each at most 75 characters (45 bytes of text) and cut only
 * between UTF-8 characters, folded onto continuation lines. */
static const char *encoded_words(const char *s, apr_pool_t *pool)
{
    const char *out = "";
    apr_size_t len = strlen(s);
    for (apr_size_t i = 0; i < len;) {
        apr_size_t n = len - i < 45 ? len - i : 45;
        while (n > 1 && i + n < len && ((unsigned char)s[i + n] & 0xc0) == 0x80)
            n--; /* not inside a character */
        char *b64 = apr_palloc(pool, (apr_size_t)apr_base64_encode_len((int)n));
        apr_base64_encode(b64, s + i, (int)n);
        out = apr_pstrcat(pool, out, *out ? "\r\n " : "", "=?UTF-8?B?", b64, "?=", NULL);
        i += n;
    }
    return out;
}

/* An unstructured header value (Subject): as is when it is printable ASCII, else encoded words. */
static const char *header_text(const char *s, apr_pool_t *pool)
{
    char *clean = no_controls(s, pool);
    return ascii_only(clean) ? clean : encoded_words(clean, pool);
}

/* RFC 5322 atext: what a display name may hold without quotes (besides spaces between words). */
static int atext(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

const char *stp_mail_display_name(const char *name, apr_pool_t *pool)
{
    char *clean = no_controls(name, pool);
    if (!ascii_only(clean))
        return encoded_words(clean, pool); /* never inside quotes (RFC 2047 section 5) */
    int plain = *clean && *clean != ' ';
    apr_size_t specials = 0;
    for (const unsigned char *c = (const unsigned char *)clean; *c; c++) {
        if (!atext(*c) && !(*c == ' ' && c[1] && c[1] != ' '))
            plain = 0;
        specials += *c == '"' || *c == '\\';
    }
    if (plain)
        return clean;
    /* A quoted string: quote and backslash escaped with a backslash. */
    char *out = apr_palloc(pool, strlen(clean) + specials + 3), *o = out;
    *o++ = '"';
    for (const char *c = clean; *c; c++) {
        if (*c == '"' || *c == '\\')
            *o++ = '\\';
        *o++ = *c;
    }
    *o++ = '"';
    *o = '\0';
    return out;
}

/* A body part in base64, 76 characters a line: safe for any MTA, whatever the text holds. */
static const char *base64_lines(const char *s, apr_pool_t *pool)
{
    int len = (int)strlen(s);
    char *b64 = apr_palloc(pool, (apr_size_t)apr_base64_encode_len(len));
    apr_size_t n = (apr_size_t)apr_base64_encode(b64, s, len);
    while (n > 0 && b64[n - 1] == '\0')
        n--;
    char *out = apr_palloc(pool, n + 2 * (n / 76 + 1) + 1), *o = out;
    for (apr_size_t i = 0; i < n; i += 76) {
        apr_size_t k = n - i < 76 ? n - i : 76;
        memcpy(o, b64 + i, k);
        o += k;
        *o++ = '\r';
        *o++ = '\n';
    }
    *o = '\0';
    return out;
}

/* Text parts use CRLF line ends, as MIME's canonical form wants. */
static const char *crlf(const char *s, apr_pool_t *pool)
{
    apr_size_t n = 0;
    for (const char *c = s; *c; c++)
        n += *c == '\n' ? 2 : 1;
    char *out = apr_palloc(pool, n + 1), *o = out;
    for (const char *c = s; *c; c++) {
        if (*c == '\n')
            *o++ = '\r';
        *o++ = *c;
    }
    *o = '\0';
    return out;
}

static int is_rtl(const char *lang)
{
    static const char *const rtl[] = {"ar", "he", "fa", "ur"};
    for (size_t i = 0; i < sizeof rtl / sizeof rtl[0]; i++)
        if (!strncmp(lang, rtl[i], 2) && (lang[2] == '\0' || lang[2] == '-'))
            return 1;
    return 0;
}

const char *stp_mail_doc_url(const char *base_url, const char *lang, const stp_doc_t *doc, apr_pool_t *pool)
{
    return apr_pstrcat(pool, base_url, "/", lang, doc->access == STP_ACCESS_TENANT ? "/org/docs/" : "/docs/",
                       stp_http_url_escape(doc->id, pool), "/", NULL);
}

const char *stp_mail_digest(const stp_digest_t *dg, const stp_mail_t *m, apr_pool_t *pool)
{
    const char *lang = m->lang;
#define MSG(key) m->msg(m->baton, lang, key, pool)
    const char *site = MSG("site.title"), *subject = MSG("digest.subject"), *intro = MSG("digest.intro");
    const char *change = MSG("digest.change"), *version = MSG("library.version");
    const char *settings_text = MSG("digest.settings");
#undef MSG
    const char *settings = apr_pstrcat(pool, m->base_url, "/stp/notifications?lang=", lang, NULL);
    const char *text = apr_pstrcat(pool, intro, "\n\n", NULL);
    const char *html = apr_pstrcat(pool, "<!DOCTYPE html>\n<html lang=\"", stp_http_html_escape(lang, pool),
                                   "\" dir=\"", is_rtl(lang) ? "rtl" : "ltr",
                                   "\"><head><meta charset=\"utf-8\"><title>", stp_http_html_escape(subject, pool),
                                   "</title></head><body><p>", stp_http_html_escape(intro, pool), "</p><ul>", NULL);
    for (int i = 0; i < dg->items->nelts; i++) {
        const stp_digest_item_t *it = &APR_ARRAY_IDX(dg->items, i, stp_digest_item_t);
        const stp_text_t *title = stp_catalog_text_pick(it->doc->titles, lang, NULL);
        const stp_text_t *note = stp_catalog_text_pick(it->doc->changes, lang, NULL);
        const char *url = stp_mail_doc_url(m->base_url, lang, it->doc, pool);
        const char *t = title ? title->text : it->doc->id;
        text = apr_pstrcat(pool, text, "* ", t, " (", version, ": ", it->doc->version, ")\n",
                           note ? apr_pstrcat(pool, "  ", change, ": ", note->text, "\n", NULL) : "", "  ", url, "\n\n",
                           NULL);
        html = apr_pstrcat(pool, html, "<li><a href=\"", stp_http_html_escape(url, pool), "\">",
                           stp_http_html_escape(t, pool), "</a> (", stp_http_html_escape(version, pool), ": ",
                           stp_http_html_escape(it->doc->version, pool), ")",
                           note ? apr_pstrcat(pool, "<br>", stp_http_html_escape(change, pool), ": ",
                                              stp_http_html_escape(note->text, pool), NULL)
                                : "",
                           "</li>", NULL);
    }
    text = apr_pstrcat(pool, text, "-- \n", site, "\n", settings_text, ": ", settings, "\n", NULL);
    html = apr_pstrcat(pool, html, "</ul><hr><p>", stp_http_html_escape(site, pool), "<br><a href=\"",
                       stp_http_html_escape(settings, pool), "\">", stp_http_html_escape(settings_text, pool),
                       "</a></p></body></html>\n", NULL);

    char date[APR_RFC822_DATE_LEN];
    apr_rfc822_date(date, m->date);
    /* The boundary comes from the Message-ID: deterministic, and never inside base64 text. */
    const char *boundary = apr_pstrcat(pool, "=_stp_", apr_pstrmemdup(pool, dg->message_id + 1, 32), NULL);
    return apr_pstrcat(pool, "From: ", stp_mail_display_name(site, pool), " <", m->from, ">\r\nTo: <", dg->address,
                       ">\r\nSubject: ", header_text(subject, pool), "\r\nDate: ", date,
                       "\r\nMessage-ID: ", dg->message_id, "\r\nMIME-Version: 1.0\r\nContent-Language: ", lang,
                       "\r\nAuto-Submitted: auto-generated\r\nList-Unsubscribe: <", settings,
                       ">\r\nContent-Type: multipart/alternative; boundary=\"", boundary, "\"\r\n\r\n--", boundary,
                       "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n",
                       base64_lines(crlf(text, pool), pool), "\r\n--", boundary,
                       "\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n",
                       base64_lines(html, pool), "\r\n--", boundary, "--\r\n", NULL);
}
