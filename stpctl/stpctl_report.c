/* stpctl report: the validity report of the published catalog, the same lines as sitegen --report
 * (libstp/stp_validity.h), printed, or mailed to the editors through the sendmail command that
 * notify uses. Run it from cron or CI beside the nightly publish. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_getopt.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "stp_catalog.h"
#include "stp_date.h"
#include "stp_layout.h"
#include "stp_mail.h"
#include "stp_validity.h"
#include "stpctl.h"

typedef struct {
    stp_day_t today;
    int days;
    apr_array_header_t *due; /* stp_doc_t * */
    apr_pool_t *pool;
} collect_t;

static int collect(void *baton, const stp_doc_t *doc)
{
    collect_t *c = baton;
    stp_doc_t *copy;
    if (!stp_validity_due(doc, c->today, c->days))
        return 0;
    /* The record's strings live in the read transaction: keep a copy. */
    apr_size_t len;
    const char *rec = stp_catalog_doc_encode(&len, doc, c->pool);
    if (stp_catalog_doc_decode(&copy, rec, len, c->pool) != APR_SUCCESS)
        return 1;
    APR_ARRAY_PUSH(c->due, stp_doc_t *) = copy;
    return 0;
}

/* A plain address: what sendmail takes as one recipient, and a header cannot be made of. */
static int plain_address(const char *a)
{
    const char *at = strchr(a, '@');
    if (!at || at == a || !at[1] || strchr(at + 1, '@') || *a == '-')
        return 0;
    for (const unsigned char *c = (const unsigned char *)a; *c; c++)
        if (*c <= 0x20 || *c >= 0x7f || strchr("<>\"(),;:\\[]", *c))
            return 0;
    return 1;
}

static void report_usage(FILE *f)
{
    fprintf(f, "Usage: stpctl report --site SITE [options]\n"
               "Lists the current documents of the published catalog whose validity (<valid until> in\n"
               "doc.xml) ends within N days or has ended, soonest first: the lines of sitegen --report.\n"
               "  --site SITE       the module's StpSite (the published catalog)\n"
               "  --days N          how far ahead (default 60)\n"
               "  --today DATE      judge on DATE (YYYY-MM-DD) instead of today (UTC)\n"
               "  --mail            mail the report to the editors' address of site.xml (<editors>)\n"
               "  --to ADDR         mail it to ADDR instead\n"
               "  --sendmail CMD    the sendmail-compatible command; the recipient is appended and the\n"
               "                    message given on stdin (default: /usr/sbin/sendmail -i)\n"
               "  --from ADDR       the sender (default: noreply@ the host of the base URL)\n"
               "  -q                no summary line\n"
               "Nothing is mailed when nothing expires.\n"
               "Exit status: printing, 0 nothing expires, 3 some documents are listed; mailing, 0 sent\n"
               "(or nothing to send), 1 the mail could not be sent; 2 usage or system error.\n");
}

/* The mail: the report's lines with a sentence around them. */
static const char *report_text(const apr_array_header_t *due, const char *site_title, const char *base_url,
                               const char *lang, stp_day_t today, int days, apr_pool_t *pool)
{
    char iso[11];
    stp_date_format_iso(iso, today);
    const char *text = apr_psprintf(pool,
                                    "These current documents of %s have a validity that ends within %d days of %s, "
                                    "or has ended:\n\n",
                                    site_title, days, iso);
    for (int i = 0; i < due->nelts; i++)
        text = apr_pstrcat(pool, text,
                           stp_validity_report_line(APR_ARRAY_IDX(due, i, const stp_doc_t *), lang, today, pool), "\n",
                           NULL);
    return apr_pstrcat(pool, text,
                       "\nRenew them: publish a new version with its new <valid until>, or correct the date in "
                       "doc.xml.\n\n-- \nstpctl report, ",
                       base_url ? base_url : "", "\n", NULL);
}

int stpctl_report(int argc, const char *const *argv, apr_pool_t *pool)
{
    static const apr_getopt_option_t opts[] = {{"site", 'S', 1, ""}, {"days", 'd', 1, ""},  {"today", 't', 1, ""},
                                               {"mail", 'M', 0, ""}, {"to", 'T', 1, ""},    {"sendmail", 'm', 1, ""},
                                               {"from", 'f', 1, ""}, {"quiet", 'q', 0, ""}, {"help", 'h', 0, ""},
                                               {NULL, 0, 0, NULL}};
    apr_getopt_t *os;
    int opt, mail = 0, quiet = 0;
    const char *arg, *site = NULL, *to = NULL, *from = NULL, *sendmail = "/usr/sbin/sendmail -i";
    char err[256];
    collect_t c = {stp_date_from_time(apr_time_now()), 60, NULL, pool};
    apr_status_t rv;
    apr_getopt_init(&os, pool, argc, argv);
    while ((rv = apr_getopt_long(os, opts, &opt, &arg)) == APR_SUCCESS) {
        switch (opt) {
        case 'S':
            site = arg;
            break;
        case 'd': {
            char *end;
            long n = strtol(arg, &end, 10);
            if (!*arg || *end || n < 0 || n > 36500) {
                fprintf(stderr, "stpctl report: --days takes a number of days from 0 to 36500\n");
                return 2;
            }
            c.days = (int)n;
            break;
        }
        case 't':
            if (stp_date_parse(&c.today, arg) != APR_SUCCESS) {
                fprintf(stderr, "stpctl report: --today takes a date as YYYY-MM-DD\n");
                return 2;
            }
            break;
        case 'M':
            mail = 1;
            break;
        case 'T':
            to = arg;
            mail = 1;
            break;
        case 'm':
            sendmail = arg;
            break;
        case 'f':
            from = arg;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            report_usage(stdout);
            return 0;
        }
    }
    if (rv != APR_EOF || os->ind != argc || !site) {
        report_usage(stderr);
        return 2;
    }
    stp_catalog_t *cat;
    const char *path = apr_pstrcat(pool, site, "/" STP_SITE_CURRENT "/" STP_BUILD_CATALOG, NULL);
    if ((rv = stp_catalog_open(&cat, path, pool)) != APR_SUCCESS) {
        fprintf(stderr, "stpctl report: cannot open %s: %s\n", path, apr_strerror(rv, err, sizeof err));
        return 2;
    }
    const char *lang = stp_catalog_get_meta(cat, "default-locale", pool);
    const char *base_url = stp_catalog_get_meta(cat, "base-url", pool);
    if (!lang)
        lang = "en";
    if (mail && !to) {
        to = stp_catalog_get_meta(cat, "editors", pool);
        if (!to || !*to) {
            fprintf(stderr, "stpctl report: site.xml names no <editors> address: give --to ADDR\n");
            return 2;
        }
    }
    if (to && !plain_address(to)) {
        fprintf(stderr, "stpctl report: %s is not a plain e-mail address\n", to);
        return 2;
    }
    const char *host = base_url ? strstr(base_url, "://") : NULL;
    host = host && host[3] ? apr_pstrndup(pool, host + 3, strcspn(host + 3, "/:")) : "localhost";
    if (!from)
        from = apr_pstrcat(pool, "noreply@", host, NULL);
    if (!plain_address(from)) {
        fprintf(stderr, "stpctl report: --from %s is not a plain address\n", from);
        return 2;
    }

    c.due = apr_array_make(pool, 8, sizeof(stp_doc_t *));
    if (stp_catalog_foreach_doc(cat, collect, &c, pool) != APR_SUCCESS) {
        fprintf(stderr, "stpctl report: the catalog %s is corrupt\n", path);
        return 2;
    }
    stp_validity_sort(c.due);
    int n = c.due->nelts;
    if (!mail) {
        for (int i = 0; i < n; i++)
            printf("%s\n", stp_validity_report_line(APR_ARRAY_IDX(c.due, i, const stp_doc_t *), lang, c.today, pool));
        if (!quiet)
            fprintf(stderr, "stpctl report: %d document%s expire%s within %d days or %s expired\n", n,
                    n == 1 ? "" : "s", n == 1 ? "s" : "", c.days, n == 1 ? "has" : "have");
        return n ? 3 : 0;
    }
    if (!n) {
        if (!quiet)
            printf("stpctl report: nothing expires within %d days; nothing sent\n", c.days);
        return 0;
    }
    const char *title = stp_catalog_get_string(cat, lang, "site.title", pool);
    if (!title)
        title = host;
    char iso[11];
    stp_date_format_iso(iso, c.today);
    const char *subject = apr_psprintf(pool, "%s: %d document%s expire%s within %d days or %s expired", title, n,
                                       n == 1 ? "" : "s", n == 1 ? "s" : "", c.days, n == 1 ? "has" : "have");
    /* The same report on the same day has the same Message-ID: a second run is recognisable. */
    const char *message_id = apr_psprintf(pool, "<validity-report.%s.%d@%s>", iso, c.days, host);
    const char *message =
        stp_mail_text(title, from, to, subject, report_text(c.due, title, base_url, lang, c.today, c.days, pool),
                      message_id, apr_time_now(), pool);
    if ((rv = stpctl_sendmail(sendmail, NULL, to, message, err, sizeof err, pool)) != APR_SUCCESS) {
        fprintf(stderr, "stpctl report: not sent to %s: %s\n", to, err);
        return 1;
    }
    if (!quiet)
        printf("stpctl report: sent %s to %s (%d document%s)\n", message_id, to, n, n == 1 ? "" : "s");
    return 0;
}
