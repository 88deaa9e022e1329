/* sitegen: validates content and publishes the static catalog. See --help. */
#include <getopt.h>
#include <libxml/parser.h>
#include <libxslt/xslt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_file_info.h>
#include <apr_general.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "sg_build.h"
#include "sg_serve.h"
#include "stp_layout.h"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: sitegen [options] -o SITE CONTENT_DIR\n"
            "       sitegen --check CONTENT_DIR\n"
            "       sitegen serve [options] CONTENT_DIR   preview on 127.0.0.1 (sitegen serve --help)\n"
            "       sitegen --report [--days N] CONTENT_DIR\n"
            "\n"
            "Validates the content in CONTENT_DIR (site.xml, docs/*/doc.xml, Markdown bodies, files)\n"
            "and publishes the localized static catalog to SITE/current, a symlink to the newest\n"
            "complete build. A failed run leaves the published site as it was.\n"
            "\n"
            "Options:\n"
            "  -o, --output SITE     publish to SITE (created when missing)\n"
            "  -c, --check           validate only; write nothing\n"
            "  -j, --jobs N          render with N threads (default: the number of CPUs)\n"
            "  -t, --templates DIR   templates, UI strings and schemas (default: %s, or the\n"
            "                        checkout's when sitegen runs from its build tree)\n"
            "  -r, --report          validate, then list the current documents whose validity\n"
            "                        (<valid until>) ends within N days or has ended, soonest first\n"
            "      --days N          with --report: N days ahead (default 60)\n"
            "      --today DATE      judge retention and validity on DATE (YYYY-MM-DD) instead of today,\n"
            "                        and embargoes at its midnight (UTC) instead of now\n"
            "      --preview         a preview build: drafts and embargoed documents as if published,\n"
            "                        with a banner; never publishes over a site that is not a preview\n"
            "      --full            render every page, ignoring the previous build\n"
            "  -q, --quiet           print errors only\n"
            "  -v, --verbose         say which templates are used, and time each phase\n"
            "  -h, --help            show this help\n"
            "  -V, --version         show the version\n"
            "\n"
            "Exit status: 0 success, 1 content errors (each printed as path:line: message),\n"
            "2 usage or system error, 3 with --report: some validity ends within N days.\n",
            SG_TEMPLATE_DIR);
}

static int has_templates(const char *dir, apr_pool_t *pool)
{
    apr_finfo_t fi;
    return apr_stat(&fi, apr_pstrcat(pool, dir, "/page.xsl", NULL), APR_FINFO_TYPE, pool) == APR_SUCCESS &&
           fi.filetype == APR_REG;
}

/* Whether this binary is the one of the build tree SG_BUILD_DIR (empty in packages: never). */
static int in_build_tree(void)
{
    char *exe = realpath("/proc/self/exe", NULL), *build = *SG_BUILD_DIR ? realpath(SG_BUILD_DIR, NULL) : NULL;
    size_t n = build ? strlen(build) : 0;
    int in = exe && build && !strncmp(exe, build, n) && exe[n] == '/';
    free(exe);
    free(build);
    return in;
}

/* The templates to use without -t: the checkout's when sitegen runs from the build tree of that
 * checkout (so that a build never mixes its binary with an older install's templates), else the
 * installed ones; *why says which, for -v. */
static const char *default_templates(const char **why, apr_pool_t *pool)
{
    if (in_build_tree() && has_templates(SG_SOURCE_TEMPLATE_DIR, pool)) {
        *why = "the checkout's, as sitegen runs from its build tree";
        return SG_SOURCE_TEMPLATE_DIR;
    }
    if (has_templates(SG_TEMPLATE_DIR, pool)) {
        *why = "installed";
        return SG_TEMPLATE_DIR;
    }
    *why = "the source tree's, as none are installed";
    return SG_SOURCE_TEMPLATE_DIR;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"check", no_argument, NULL, 'c'},
        {"report", no_argument, NULL, 'r'},       {"days", required_argument, NULL, 'D'},
        {"jobs", required_argument, NULL, 'j'},   {"templates", required_argument, NULL, 't'},
        {"today", required_argument, NULL, 'T'},  {"full", no_argument, NULL, 'F'},
        {"preview", no_argument, NULL, 'P'},      {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},      {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0}};
    sg_options_t opt;
    sg_stats_t stats;
    apr_pool_t *pool;
    int c, quiet = 0, report = 0, days = 60, days_given = 0;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);

    apr_app_initialize(&argc, (const char *const **)&argv, NULL);
    atexit(apr_terminate);
    apr_pool_create(&pool, NULL);
    if (argc > 1 && !strcmp(argv[1], "serve")) {
        return sg_serve_main(argc - 1, argv + 1);
    }
    memset(&opt, 0, sizeof opt);
    opt.jobs = cpus > 0 ? (int)cpus : 1;
    opt.now = apr_time_now();
    opt.today = stp_date_from_time(opt.now);

    while ((c = getopt_long(argc, argv, "o:crj:t:qvhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            opt.site_dir = optarg;
            break;
        case 'c':
            opt.check_only = 1;
            break;
        case 'r':
            report = 1;
            break;
        case 'D': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (!*optarg || *end || n < 0 || n > 36500) {
                fprintf(stderr, "sitegen: --days takes a number of days from 0 to 36500\n");
                return 2;
            }
            days = (int)n;
            days_given = 1;
            break;
        }
        case 'j': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > 256) {
                fprintf(stderr, "sitegen: -j takes a number from 1 to 256\n");
                return 2;
            }
            opt.jobs = (int)n;
            break;
        }
        case 't':
            opt.xslt_dir = optarg;
            break;
        case 'T':
            if (stp_date_parse(&opt.today, optarg) != APR_SUCCESS) {
                fprintf(stderr, "sitegen: --today takes a date as YYYY-MM-DD\n");
                return 2;
            }
            opt.now = stp_date_to_time(opt.today);
            break;
        case 'P':
            opt.preview = 1;
            break;
        case 'F':
            opt.full = 1;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'v':
            opt.verbose = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("sitegen %s\n", PACKAGE_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (days_given && !report) {
        fprintf(stderr, "sitegen: --days goes with --report\n");
        return 2;
    }
    if (report && opt.site_dir) {
        fprintf(stderr, "sitegen: --report publishes nothing: give it without -o\n");
        return 2;
    }
    if (report)
        opt.check_only = 1;
    opt.report = report;
    opt.report_days = days;
    if (optind != argc - 1 || (!opt.check_only && !opt.site_dir)) {
        fprintf(stderr, "sitegen: %s\n",
                optind != argc - 1 ? "give exactly one CONTENT_DIR" : "give -o SITE or --check");
        usage(stderr);
        return 2;
    }
    opt.content_dir = argv[optind];
    const char *why = "given with -t";
    if (!opt.xslt_dir)
        opt.xslt_dir = default_templates(&why, pool);
    opt.progress = !quiet;
    if (opt.verbose)
        fprintf(stderr, "sitegen: templates %s (%s)\n", opt.xslt_dir, why);

    xmlInitParser();
    xsltInit();
    apr_time_t start = apr_time_now();
    sg_errors_t *errs = sg_errors_make(pool);
    int status = sg_build_run(&opt, &stats, errs, pool);
    double secs = (double)(apr_time_now() - start) / APR_USEC_PER_SEC;
    for (int i = 0; i < errs->list->nelts; i++)
        fprintf(stderr, "%s\n", APR_ARRAY_IDX(errs->list, i, const char *));
    if (status == 1)
        fprintf(stderr, "sitegen: %d error%s in %s; nothing was published\n", stats.errors,
                stats.errors == 1 ? "" : "s", opt.content_dir);
    if (report && (status == 0 || status == 3) && !quiet)
        fprintf(stderr, "sitegen: %d document%s of %s expire%s within %d days or %s expired\n", stats.expiring,
                stats.expiring == 1 ? "" : "s", opt.content_dir, stats.expiring == 1 ? "s" : "", days,
                stats.expiring == 1 ? "has" : "have");
    else if (status == 0 && !quiet) {
        for (int i = 0; opt.check_only && stats.held && i < stats.held->nelts; i++)
            printf("%s\n", APR_ARRAY_IDX(stats.held, i, const char *));
        if (opt.check_only)
            fprintf(stderr, "sitegen: %s is valid (%d documents)\n", opt.content_dir, stats.docs);
        else
            fprintf(stderr,
                    "sitegen: published %s%s/" STP_SITE_CURRENT
                    ": %d documents, %d files (%d written, %d unchanged), %d search entries indexed in %.2f s\n",
                    opt.preview ? "a preview build to " : "", opt.site_dir, stats.docs, stats.pages,
                    stats.pages - stats.reused, stats.reused, stats.indexed, secs);
    }
    /* Everything is written and synced (or was never started). Tearing down a build's memory,
     * pool by pool, takes longer than the process exit that frees it at once: on large sites that
     * is a tenth of an incremental build. Sanitizer builds still tear down, so that they check it. */
    fflush(NULL);
#if !defined(__SANITIZE_ADDRESS__)
    _exit(status);
#endif
    xsltCleanupGlobals();
    xmlCleanupParser();
    apr_pool_destroy(pool);
    return status;
}
