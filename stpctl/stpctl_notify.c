/* stpctl notify: sends the notification digests that are due (docs/architecture.md). Each digest goes
 * through a sendmail-compatible command and is recorded as sent only once the command has
 * succeeded, one transaction per digest: a run killed between two digests and started again sends
 * each digest exactly once. Run it from cron; a second run in the same window sends nothing. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_getopt.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <apr_time.h>

#include "stp_catalog.h"
#include "stp_dbd.h"
#include "stp_date.h"
#include "stp_digest.h"
#include "stp_http.h"
#include "stp_library.h"
#include "stp_notify.h"
#include "stp_mail.h"
#include "stpctl.h"
#include "stp_layout.h"

typedef struct {
    stp_catalog_t *cat;
    stp_view_t *view; /* the build's page templates, for the digests' HTML part */
    stp_state_t *st;
    const char *default_locale, *locales, *base_url, *host, *from, *envelope, *sendmail;
    int dry_run, quiet;
    apr_time_t now;
    const char *run_id;        /* this run's name in digest claims (the PostgreSQL store) */
    apr_interval_time_t lease; /* how long a claim holds */
    unsigned users, sent, failed, skipped, elsewhere;
} run_t;

static const stp_doc_t *series_current(void *baton, const char *series, apr_pool_t *pool)
{
    run_t *run = baton;
    stp_doc_t *doc;
    /* at the run's moment: a version still embargoed is not mailed, and is once it is live */
    return stp_catalog_get_current(&doc, run->cat, series, run->now, pool) == APR_SUCCESS ? doc : NULL;
}

static const char *msg(void *baton, const char *lang, const char *key, apr_pool_t *pool)
{
    run_t *run = baton;
    const char *v = stp_catalog_get_string(run->cat, lang, key, pool);
    if (!v)
        v = stp_catalog_get_string(run->cat, run->default_locale, key, pool);
    return v ? v : key;
}

static int notify_user(void *baton, const char *user_key, const stp_notify_t *n)
{
    run_t *run = baton;
    apr_pool_t *pool;
    apr_array_header_t *entries;
    stp_user_record_t who;
    char err[256] = "";
    const char *why;
    run->users++;
    if (!run->quiet && run->users % 1000 == 0)
        fprintf(stderr, "stpctl notify: %u users checked, %u digests sent\n", run->users, run->sent);
    if (n->freq == STP_FREQ_OFF || !*n->address || run->now < stp_digest_due(n->freq, n->last_digest))
        return 0; /* nothing due, whoever they are now */
    apr_pool_create(&pool, NULL);
    apr_status_t rv = stp_state_user_get(&who, run->st, user_key, pool);
    if (rv != APR_SUCCESS && !APR_STATUS_IS_NOTFOUND(rv)) {
        fprintf(stderr, "stpctl notify: %s: cannot read the user record: %s\n", user_key,
                apr_strerror(rv, err, sizeof err));
        run->failed++;
        apr_pool_destroy(pool);
        return 0;
    }
    if ((why = stp_digest_unmailable(APR_STATUS_IS_NOTFOUND(rv) ? NULL : &who, n->address, pool)) != NULL) {
        run->skipped++;
        if (!run->quiet)
            printf("skipped %s: not sent to %s: %s\n", user_key, n->address, why);
        apr_pool_destroy(pool);
        return 0;
    }
    /* Several nodes may run at once: the digest is this run's to send only once it holds it. */
    int mine = 1;
    if (!run->dry_run && (rv = stp_digest_claim(&mine, run->st, user_key, n->last_digest, run->run_id, run->now,
                                                run->lease)) != APR_SUCCESS) {
        fprintf(stderr, "stpctl notify: %s: cannot claim the digest: %s\n", user_key,
                stp_state_error(run->st) ? stp_state_error(run->st) : apr_strerror(rv, err, sizeof err));
        run->failed++;
        apr_pool_destroy(pool);
        return 0;
    }
    if (!mine) {
        run->elsewhere++;
        apr_pool_destroy(pool);
        return 0;
    }
    rv = stp_library_list(&entries, run->st, user_key, pool);
    /* The documents are checked against what the user had when they last signed in. */
    stp_digest_t *dg = rv == APR_SUCCESS
                           ? stp_digest_plan(user_key, n, &who, entries, series_current, run, run->now, run->host, pool)
                           : NULL;
    /* Nothing to send after all (nothing changed, or the library unreadable): the claim goes back
     * at once, or this user's next digest would wait out the lease. */
    if (!dg && !run->dry_run)
        stp_digest_release(run->st, user_key, run->run_id);
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "stpctl notify: %s: cannot read the library: %s\n", user_key,
                apr_strerror(rv, err, sizeof err));
        run->failed++;
    } else if (dg) {
        const char *lang = stp_http_locale_listed(run->locales, dg->locale) ? dg->locale : run->default_locale;
        const char *dir = strcmp(msg(run, lang, "locale.dir", pool), "rtl") ? "ltr" : "rtl";
        stp_mail_t mail = {run->base_url, run->from, lang, msg, run, run->now, run->view, dir};
        const char *message = stp_mail_digest(dg, &mail, pool);
        if (run->dry_run) {
            printf("would send %s to %s (%d documents, %s)\n", dg->message_id, dg->address, dg->items->nelts,
                   mail.lang);
            run->sent++;
        } else if ((rv = stpctl_sendmail(run->sendmail, run->envelope, dg->address, message, err, sizeof err, pool)) !=
                   APR_SUCCESS) {
            fprintf(stderr, "stpctl notify: %s: not sent to %s: %s; it is tried again on the next run\n", user_key,
                    dg->address, err);
            run->failed++;
            stp_digest_release(run->st, user_key, run->run_id);
        } else {
            apr_array_header_t *seen = apr_array_make(pool, dg->items->nelts, sizeof(stp_saved_t));
            for (int i = 0; i < dg->items->nelts; i++) {
                const stp_digest_item_t *it = &APR_ARRAY_IDX(dg->items, i, stp_digest_item_t);
                stp_saved_t *s = apr_array_push(seen);
                memset(s, 0, sizeof *s);
                s->series = it->series;
                s->seen = it->seen;
            }
            if ((rv = stp_digest_record(run->st, user_key, run->now, seen)) != APR_SUCCESS) {
                /* Sent but not recorded: the next run sends it again, with the same Message-ID. */
                fprintf(stderr, "stpctl notify: %s: sent %s but could not record it: %s\n", user_key, dg->message_id,
                        apr_strerror(rv, err, sizeof err));
                run->failed++;
            } else {
                run->sent++;
                if (!run->quiet)
                    printf("sent %s to %s (%d documents)\n", dg->message_id, dg->address, dg->items->nelts);
            }
        }
    }
    apr_pool_destroy(pool);
    return 0;
}

/* Where the sendmail command's program is, or NULL: a name without a slash is looked up in PATH,
 * as apr_proc_create does. Checked before any digest, since a missing MTA fails every one of them. */
static const char *mail_program(const char *cmd, apr_pool_t *pool)
{
    char **args;
    apr_tokenize_to_argv(cmd, &args, pool);
    if (!args[0] || !*args[0])
        return NULL;
    if (strchr(args[0], '/'))
        return access(args[0], X_OK) ? NULL : args[0];
    const char *path = getenv("PATH");
    char *copy = apr_pstrdup(pool, path ? path : "/usr/bin:/bin"), *last;
    for (char *dir = apr_strtok(copy, ":", &last); dir; dir = apr_strtok(NULL, ":", &last)) {
        const char *full = apr_pstrcat(pool, dir, "/", args[0], NULL);
        if (!access(full, X_OK))
            return full;
    }
    return NULL;
}

/* StpBaseURL as the module recorded it in the state directory at its last start, or NULL. */
static const char *recorded_base_url(const char *state, apr_pool_t *pool)
{
    char buf[1024];
    FILE *f = fopen(apr_pstrcat(pool, state, "/" STP_STATE_BASE_URL, NULL), "r");
    if (!f)
        return NULL;
    const char *line = fgets(buf, sizeof buf, f);
    fclose(f);
    if (!line)
        return NULL;
    buf[strcspn(buf, "\r\n")] = '\0';
    return strncmp(buf, "http://", 7) && strncmp(buf, "https://", 8) ? NULL : apr_pstrdup(pool, buf);
}

/* "2026-11-23", "2026-11-23T08:00:00Z" (UTC). */
static apr_status_t parse_time(apr_time_t *t, const char *s)
{
    stp_day_t day;
    char ymd[11];
    int h = 0, m = 0, sec = 0, n = 0;
    if (strlen(s) < 10)
        return APR_EINVAL;
    memcpy(ymd, s, 10);
    ymd[10] = '\0';
    if (stp_date_parse(&day, ymd) != APR_SUCCESS)
        return APR_EINVAL;
    if (s[10] &&
        (sscanf(s + 10, "T%2d:%2d:%2dZ%n", &h, &m, &sec, &n) != 3 || s[10 + n] || h > 23 || m > 59 || sec > 60))
        return APR_EINVAL;
    *t = stp_date_to_time(day) + apr_time_from_sec((apr_int64_t)h * 3600 + m * 60 + sec);
    return APR_SUCCESS;
}

static void notify_usage(FILE *f)
{
    fprintf(f, "Usage: stpctl notify (--state DIR | --dbd PARAMS | --dbd-file FILE) --site SITE [options]\n"
               "Sends each user whose window has passed one digest of the documents in their library that\n"
               "changed since they last heard of them.\n"
               "  --state DIR       the module's StpStateDir (state.mdb; with --dbd: where StpBaseURL is recorded)\n"
               "  --dbd PARAMS      the state in PostgreSQL (StpStateStore dbd): DBDParams' connection parameters\n"
               "  --dbd-file FILE   ... read from the first line of FILE (keeps a password out of the process list)\n"
               "  --lease SECONDS   with --dbd: how long a run's claim on a digest holds (default 600); runs on\n"
               "                    several nodes at once send each digest once, and a digest whose run died\n"
               "                    between claiming and recording it goes out with the first run after that\n"
               "  --site SITE       the module's StpSite (the published catalog)\n"
               "  --sendmail CMD    the sendmail-compatible command; the recipient is appended and the\n"
               "                    message given on stdin (default: /usr/sbin/sendmail -i)\n"
               "  --from ADDR       the sender (default: noreply@ the host of the base URL)\n"
               "  --envelope-from ADDR\n"
               "                    the envelope sender, where bounces go, given to the command as -f ADDR\n"
               "                    (default: the --from address)\n"
               "  --base-url URL    for the links (default: StpBaseURL, which the module records in the state\n"
               "                    directory when it starts; else the base-url of site.xml)\n"
               "  --now TIME        judge windows at TIME (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ) instead of now\n"
               "  --dry-run         list the digests that are due; send and record nothing\n"
               "  -q                only errors and the summary\n"
               "A due digest is skipped (and named) when the user's e-mail address, as last signed in with,\n"
               "is not verified, or the notification address is not in its domain; documents are checked\n"
               "against the organisation the user last signed in with.\n"
               "Exit status: 0 all due digests sent, 1 some could not be sent (tried again next run),\n"
               "2 usage or system error.\n");
}

int stpctl_notify(int argc, const char *const *argv, apr_pool_t *pool)
{
    static const apr_getopt_option_t opts[] = {
        {"state", 's', 1, ""},         {"site", 'S', 1, ""},     {"sendmail", 'm', 1, ""},
        {"from", 'f', 1, ""},          {"base-url", 'b', 1, ""}, {"now", 'n', 1, ""},
        {"dry-run", 'd', 0, ""},       {"quiet", 'q', 0, ""},    {"help", 'h', 0, ""},
        {"envelope-from", 'e', 1, ""}, {"dbd", 'D', 1, ""},      {"dbd-file", 'F', 1, ""},
        {"lease", 'l', 1, ""},         {NULL, 0, 0, NULL}};
    apr_getopt_t *os;
    int opt;
    const char *arg, *state = NULL, *site = NULL, *dbd = NULL;
    char err[256];
    run_t run = {0};
    run.sendmail = "/usr/sbin/sendmail -i";
    run.lease = apr_time_from_sec(600);
    run.now = apr_time_now();
    apr_getopt_init(&os, pool, argc, argv);
    apr_status_t rv;
    while ((rv = apr_getopt_long(os, opts, &opt, &arg)) == APR_SUCCESS) {
        switch (opt) {
        case 's':
            state = arg;
            break;
        case 'S':
            site = arg;
            break;
        case 'm':
            run.sendmail = arg;
            break;
        case 'f':
            run.from = arg;
            break;
        case 'e':
            run.envelope = arg;
            break;
        case 'D':
        case 'F':
            if (!(dbd = stpctl_dbd_params(opt == 'D' ? "--dbd" : "--dbd-file", arg, pool))) {
                fprintf(stderr, "stpctl notify: cannot read the connection parameters from %s\n", arg);
                return 2;
            }
            break;
        case 'l': {
            char *end;
            apr_int64_t secs = apr_strtoi64(arg, &end, 10);
            if (*end || secs < 1 || secs > 86400) {
                fprintf(stderr, "stpctl notify: --lease %s: give seconds from 1 to 86400\n", arg);
                return 2;
            }
            run.lease = apr_time_from_sec(secs);
            break;
        }
        case 'b':
            run.base_url = arg;
            break;
        case 'd':
            run.dry_run = 1;
            break;
        case 'q':
            run.quiet = 1;
            break;
        case 'h':
            notify_usage(stdout);
            return 0;
        case 'n':
            if (parse_time(&run.now, arg) != APR_SUCCESS) {
                fprintf(stderr, "stpctl notify: --now %s: not YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ\n", arg);
                return 2;
            }
            break;
        }
    }
    if (rv != APR_EOF || os->ind != argc || (!state && !dbd) || !site) {
        notify_usage(stderr);
        return 2;
    }
    /* One build for the catalog and the templates, whatever sitegen publishes meanwhile. */
    char build[PATH_MAX];
    const char *current = apr_pstrcat(pool, site, "/" STP_SITE_CURRENT, NULL);
    if (!realpath(current, build)) {
        fprintf(stderr, "stpctl notify: cannot resolve %s: %s\n", current, strerror(errno));
        return 2;
    }
    const char *path = apr_pstrcat(pool, build, "/" STP_BUILD_CATALOG, NULL);
    if ((rv = stp_catalog_open(&run.cat, path, pool)) != APR_SUCCESS) {
        fprintf(stderr, "stpctl notify: cannot open %s: %s\n", path, apr_strerror(rv, err, sizeof err));
        return 2;
    }
    const char *xsl = apr_pstrcat(pool, build, "/" STP_BUILD_PAGE_XSL, NULL), *xerr;
    if (stp_view_open(&run.view, xsl, &xerr, pool) != APR_SUCCESS) {
        fprintf(stderr, "stpctl notify: %s; digests go out as plain text (publish again with this sitegen)\n", xerr);
        run.view = NULL;
    }
    if (dbd) {
        stp_dbd_conn_t *c = apr_pcalloc(pool, sizeof *c); /* closed with the pool */
        const char *why = NULL, *problem;
        if (stp_dbd_connect(c, "pgsql", dbd, 0, &why, pool) != APR_SUCCESS) {
            fprintf(stderr, "stpctl notify: %s\n", why);
            return 2;
        }
        if ((problem = stp_dbd_schema_problem(c, pool)) || stp_dbd_prepare_all(c, &why, pool) != APR_SUCCESS) {
            fprintf(stderr, "stpctl notify: %s\n", problem ? problem : why);
            return 2;
        }
        run.st = stp_state_over_dbd(c, pool);
        char host[256] = "";
        gethostname(host, sizeof host - 1);
        unsigned char rnd[6];
        char hex[13];
        apr_generate_random_bytes(rnd, sizeof rnd);
        for (int i = 0; i < 6; i++)
            snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
        run.run_id = apr_psprintf(pool, "%s:%ld:%s", host, (long)getpid(), hex);
    } else {
        apr_finfo_t fi;
        const char *mdb = apr_pstrcat(pool, state, "/" STP_STATE_DB, NULL);
        if ((rv = apr_stat(&fi, mdb, APR_FINFO_TYPE, pool)) != APR_SUCCESS ||
            (rv = stp_state_open(&run.st, state, &(stp_state_options_t){.upgrade_alone = 1}, pool)) != APR_SUCCESS) {
            fprintf(stderr, "stpctl notify: cannot open %s: %s\n", mdb, stp_state_strerror(rv, err, sizeof err));
            return 2;
        }
        run.run_id = "local";
    }
    run.default_locale = stp_catalog_get_meta(run.cat, "default-locale", pool);
    run.locales = stp_catalog_get_meta(run.cat, "locales", pool);
    if (!run.default_locale)
        run.default_locale = "en";
    if (!run.base_url && state)
        run.base_url = recorded_base_url(state, pool);
    if (!run.base_url)
        run.base_url = stp_catalog_get_meta(run.cat, "base-url", pool);
    const char *host = run.base_url ? strstr(run.base_url, "://") : NULL;
    if (!host || !host[3]) {
        fprintf(stderr, "stpctl notify: no base URL: give --base-url https://your.portal\n");
        return 2;
    }
    apr_size_t bl = strlen(run.base_url);
    if (run.base_url[bl - 1] == '/')
        run.base_url = apr_pstrndup(pool, run.base_url, bl - 1);
    run.host = apr_pstrndup(pool, host + 3, strcspn(host + 3, "/:"));
    if (!run.from)
        run.from = apr_pstrcat(pool, "noreply@", run.host, NULL);
    if (strpbrk(run.from, " <>\"\r\n,;") || !strchr(run.from, '@')) {
        fprintf(stderr, "stpctl notify: --from %s is not a plain address\n", run.from);
        return 2;
    }
    if (!run.envelope)
        run.envelope = run.from;
    if (strpbrk(run.envelope, " <>\"\r\n,;") || !strchr(run.envelope, '@') || run.envelope[0] == '-') {
        fprintf(stderr, "stpctl notify: --envelope-from %s is not a plain address\n", run.envelope);
        return 2;
    }
    if (!run.dry_run && !mail_program(run.sendmail, pool)) {
        char **words;
        apr_tokenize_to_argv(run.sendmail, &words, pool);
        fprintf(stderr, "stpctl notify: no mail command at %s: install an MTA or pass --sendmail\n",
                words[0] ? words[0] : run.sendmail);
        return 2;
    }
    rv = stp_notify_each(run.st, notify_user, &run, pool);
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "stpctl notify: reading the settings failed: %s\n", apr_strerror(rv, err, sizeof err));
        return 2;
    }
    printf("stpctl notify: %u users, %u digests %s, %u failed, %u skipped", run.users, run.sent,
           run.dry_run ? "due (dry run: nothing sent)" : "sent", run.failed, run.skipped);
    if (run.elsewhere)
        printf(", %u claimed by another run", run.elsewhere);
    printf("\n");
    return run.failed ? 1 : 0;
}
