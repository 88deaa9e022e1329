#include "stp_mail.h"

#include <string.h>

#include <apr_base64.h>
#include <apr_strings.h>
#include <libxml/tree.h>

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

const char *stp_mail_doc_url(const char *base_url, const char *lang, const stp_doc_t *doc, apr_pool_t *pool)
{
    return apr_pstrcat(pool, base_url, "/", lang, doc->access == STP_ACCESS_TENANT ? "/org/docs/" : "/docs/",
                       stp_http_url_escape(doc->id, pool), "/", NULL);
}

typedef struct {
    const stp_mail_t *m;
    apr_pool_t *pool;
} mail_msg_t;

/* stp:msg() for the digest's HTML part: the caller's strings in the digest's language. */
static const char *mail_msg(void *baton, const char *key)
{
    mail_msg_t *mm = baton;
    return mm->m->msg(mm->m->baton, mm->m->lang, key, mm->pool);
}

static xmlNodePtr el(xmlNodePtr parent, const char *name, const char *text)
{
    return xmlNewTextChild(parent, NULL, (const xmlChar *)name, (const xmlChar *)text);
}

static void at(xmlNodePtr node, const char *name, const char *value)
{
    xmlSetProp(node, (const xmlChar *)name, (const xmlChar *)value);
}

/* The HTML part through the build's page templates (no HTML is written here): NULL without
 * templates, and the message is then text only. */
static const char *digest_html(const stp_digest_t *dg, const stp_mail_t *m, const char *settings, apr_pool_t *pool)
{
    if (!m->view)
        return NULL;
    xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
    xmlNodePtr page = xmlNewNode(NULL, (const xmlChar *)"page");
    xmlDocSetRootElement(doc, page);
    at(page, "kind", "digest");
    at(page, "lang", m->lang);
    at(page, "dir", m->dir ? m->dir : "ltr");
    mail_msg_t mm = {m, pool};
    el(page, "site-title", mail_msg(&mm, "site.title"));
    el(page, "title", mail_msg(&mm, "digest.subject"));
    xmlNodePtr d = el(page, "digest", NULL);
    at(d, "settings", settings);
    for (int i = 0; i < dg->items->nelts; i++) {
        const stp_digest_item_t *it = &APR_ARRAY_IDX(dg->items, i, stp_digest_item_t);
        const stp_text_t *title = stp_catalog_text_pick(it->doc->titles, m->lang, NULL);
        const stp_text_t *note = stp_catalog_text_pick(it->doc->changes, m->lang, NULL);
        xmlNodePtr item = el(d, "item", title ? title->text : it->doc->id);
        at(item, "href", stp_mail_doc_url(m->base_url, m->lang, it->doc, pool));
        at(item, "version", it->doc->version);
        if (note)
            at(item, "change", note->text);
    }
    char *html = NULL;
    apr_size_t len;
    apr_status_t rv = stp_view_render(&html, &len, m->view, doc, 1, mail_msg, &mm, pool);
    xmlFreeDoc(doc);
    return rv == APR_SUCCESS ? html : NULL;
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
    for (int i = 0; i < dg->items->nelts; i++) {
        const stp_digest_item_t *it = &APR_ARRAY_IDX(dg->items, i, stp_digest_item_t);
        const stp_text_t *title = stp_catalog_text_pick(it->doc->titles, lang, NULL);
        const stp_text_t *note = stp_catalog_text_pick(it->doc->changes, lang, NULL);
        const char *url = stp_mail_doc_url(m->base_url, lang, it->doc, pool);
        const char *t = title ? title->text : it->doc->id;
        text = apr_pstrcat(pool, text, "* ", t, " (", version, ": ", it->doc->version, ")\n",
                           note ? apr_pstrcat(pool, "  ", change, ": ", note->text, "\n", NULL) : "", "  ", url, "\n\n",
                           NULL);
    }
    text = apr_pstrcat(pool, text, "-- \n", site, "\n", settings_text, ": ", settings, "\n", NULL);
    const char *html = digest_html(dg, m, settings, pool);

    char date[APR_RFC822_DATE_LEN];
    apr_rfc822_date(date, m->date);
    /* The boundary comes from the Message-ID: deterministic, and never inside base64 text. */
    const char *boundary = apr_pstrcat(pool, "=_stp_", apr_pstrmemdup(pool, dg->message_id + 1, 32), NULL);
    const char *head =
        apr_pstrcat(pool, "From: ", stp_mail_display_name(site, pool), " <", m->from, ">\r\nTo: <", dg->address,
                    ">\r\nSubject: ", header_text(subject, pool), "\r\nDate: ", date,
                    "\r\nMessage-ID: ", dg->message_id, "\r\nMIME-Version: 1.0\r\nContent-Language: ", lang,
                    "\r\nAuto-Submitted: auto-generated\r\nList-Unsubscribe: <", settings, ">\r\n", NULL);
    const char *plain = "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
    if (!html)
        return apr_pstrcat(pool, head, plain, base64_lines(crlf(text, pool), pool), NULL);
    return apr_pstrcat(pool, head, "Content-Type: multipart/alternative; boundary=\"", boundary, "\"\r\n\r\n--",
                       boundary, "\r\n", plain, base64_lines(crlf(text, pool), pool), "\r\n--", boundary,
                       "\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n",
                       base64_lines(html, pool), "\r\n--", boundary, "--\r\n", NULL);
}

const char *stp_mail_text(const char *site, const char *from, const char *to, const char *subject, const char *text,
                          const char *message_id, apr_time_t date, apr_pool_t *pool)
{
    char when[APR_RFC822_DATE_LEN];
    apr_rfc822_date(when, date);
    return apr_pstrcat(pool, "From: ", stp_mail_display_name(site, pool), " <", no_controls(from, pool), ">\r\nTo: <",
                       no_controls(to, pool), ">\r\nSubject: ", header_text(subject, pool), "\r\nDate: ", when,
                       "\r\nMessage-ID: ", no_controls(message_id, pool),
                       "\r\nMIME-Version: 1.0\r\nAuto-Submitted: auto-generated\r\n"
                       "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n",
                       base64_lines(crlf(text, pool), pool), NULL);
}
