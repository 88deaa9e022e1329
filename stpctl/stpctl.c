/* stpctl: the operator's tool over the same core as the module. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_file_info.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "stp_catalog.h"
#include "stp_retention.h"
#include "stp_state.h"
#include "stpctl.h"
#include "stp_layout.h"

static void usage(FILE *f)
{
    fprintf(f, "Usage: stpctl COMMAND [ARGS]\n"
               "\n"
               "Commands:\n"
               "  catalog SITE      summarize the published catalog in SITE/current\n"
               "  doc SITE ID       show one document as the module sees it\n"
               "  string SITE LANG KEY  print one localized UI string\n"
               "  nda-audit STATE_DIR  the NDA acceptance log as CSV (time,user,tenant,version,seq)\n"
               "  audit [--format csv|jsonl] STATE_DIR  every change of organisation settings and roles,\n"
               "                    with the NDA acceptances (stpctl audit --help)\n"
               "  feedback [--format csv|jsonl] [--counts] STATE_DIR  the readers' feedback, then per-page\n"
               "                    helpful/not-helpful counts (stpctl feedback --help)\n"
               "  check STATE_DIR [--fix] [--user NAME]  check (and fix) the owners and modes of the state\n"
               "                    files for httpd's User (default www-data), that state.mdb opens and its\n"
               "                    format, and stale readers (stpctl check --help)\n"
               "  state-check STATE_DIR [--fix] [--user NAME]  the same as check (its earlier name)\n"
               "  backup STATE_DIR OUT  a consistent copy of the state (state.mdb compacted, csrf.key) into\n"
               "                    the new directory OUT, safe while httpd runs (stpctl backup --help)\n"
               "  restore BACKUP STATE_DIR  put a backup in place; refused while the state is in use\n"
               "                    (stpctl restore --help)\n"
               "  state-init --dbd PARAMS  create the STP schema in a PostgreSQL database (StpStateStore dbd)\n"
               "  state-upgrade --dbd PARAMS  upgrade the STP schema in place (stpctl state-init --help)\n"
               "  state-export (--state DIR | --dbd PARAMS) [-o FILE]  the whole state of either store as a\n"
               "                    portable dump, from one snapshot (stpctl state-export --help)\n"
               "  state-import (--state DIR | --dbd PARAMS) [FILE]  a dump into an empty state of either\n"
               "                    store, in one transaction, counts checked (stpctl state-import --help)\n"
               "  notify --state DIR --site SITE [options]  send the notification digests that are due\n"
               "                    (stpctl notify --help for the options)\n"
               "  rollout BUILD_DIR NODE...  copy a published build to each node (a local site directory or\n"
               "                    [user@]host:/site over ssh) and switch each to it once the copy matches\n"
               "                    the build's content manifest (stpctl rollout --help)\n"
               "  rollout-activate SITE BUILD  the node's side of a rollout (manifest on standard input)\n"
               "  build-manifest BUILD_DIR [--check FILE]  print a build's content manifest (SHA-256 of every\n"
               "                    file, the store shards it links), or check a build against one\n"
               "  report --site SITE [--days N] [--mail | --to ADDR]  the documents whose validity ends\n"
               "                    within N days (default 60) or has ended; mailed to the editors\n"
               "                    (stpctl report --help for the options)\n"
               "  help              show this help\n"
               "  version           show the version\n"
               "\n"
               "Exit status: 0 success, 1 not found (rollout: a node did not switch), 2 usage or system error.\n");
}

typedef struct {
    int docs, by_access[4];
} summary_t;

static int count_doc(void *baton, const stp_doc_t *doc)
{
    summary_t *s = baton;
    s->docs++;
    s->by_access[doc->access]++;
    return 0;
}

static int open_catalog(stp_catalog_t **cat, const char *site, apr_pool_t *pool)
{
    const char *path = apr_pstrcat(pool, site, "/" STP_SITE_CURRENT "/" STP_BUILD_CATALOG, NULL);
    char err[256];
    apr_status_t rv = stp_catalog_open(cat, path, pool);
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "stpctl: cannot open %s: %s\n", path, apr_strerror(rv, err, sizeof err));
        return 2;
    }
    return 0;
}

static int cmd_catalog(const char *site, apr_pool_t *pool)
{
    stp_catalog_t *cat;
    summary_t s = {0, {0}};
    int rc = open_catalog(&cat, site, pool);
    if (rc)
        return rc;
    if (stp_catalog_foreach_doc(cat, count_doc, &s, pool) != APR_SUCCESS) {
        fprintf(stderr, "stpctl: the catalog is corrupt\n");
        return 2;
    }
    printf("generation %" APR_UINT64_T_FMT "\nlocales %s\ndocuments %d\n", stp_catalog_generation(cat),
           stp_catalog_get_meta(cat, "locales", pool), s.docs);
    for (int i = 0; i < 4; i++)
        printf("access %s %d\n", stp_catalog_access_name((stp_access_t)i), s.by_access[i]);
    return 0;
}

static int cmd_doc(const char *site, const char *id, apr_pool_t *pool)
{
    stp_catalog_t *cat;
    stp_doc_t *d;
    char iso[11];
    int rc = open_catalog(&cat, site, pool);
    if (rc)
        return rc;
    if (stp_catalog_get_doc(&d, cat, id, pool) != APR_SUCCESS) {
        fprintf(stderr, "stpctl: no document '%s'\n", id);
        return 1;
    }
    stp_date_format_iso(iso, d->published);
    printf("id %s\nseries %s\nversion %s\ncurrent %s\naccess %s%s\npublished %s\n", d->id, d->series, d->version,
           d->current, stp_catalog_access_name(d->access), d->nda ? "+nda" : "", iso);
    char live[21];
    stp_date_format_moment(live, d->live);
    printf("live %s%s\n", live, stp_catalog_live(d, apr_time_now()) ? "" : " (embargoed until then)");
    const struct {
        const char *name;
        stp_day_t day;
    } days[] = {{"valid-from", d->valid_from}, {"valid-until", d->valid_until}, {"reviewed", d->reviewed}};
    for (size_t i = 0; i < sizeof days / sizeof days[0]; i++) {
        if (!days[i].day)
            continue;
        stp_date_format_iso(iso, days[i].day);
        printf("%s %s\n", days[i].name, iso);
    }
    for (int i = 0; i < d->tenants->nelts; i++)
        printf("tenant %s\n", APR_ARRAY_IDX(d->tenants, i, const char *));
    for (int i = 0; i < d->requires->nelts; i++) {
        const stp_require_t *q = &APR_ARRAY_IDX(d->requires, i, stp_require_t);
        if (q->kind == STP_REQUIRE_ROLE)
            printf("require role %s\n", q->name);
        else
            printf("require claim %s %s\n", q->name, q->value);
    }
    for (int i = 0; i < d->files->nelts; i++) {
        const stp_file_t *f = &APR_ARRAY_IDX(d->files, i, stp_file_t);
        printf("file %s %s %" APR_UINT64_T_FMT " %s %s\n", f->lang, f->path, f->size, f->sha256, f->media_type);
    }
    return 0;
}

static int cmd_string(const char *site, const char *lang, const char *key, apr_pool_t *pool)
{
    stp_catalog_t *cat;
    int rc = open_catalog(&cat, site, pool);
    if (rc)
        return rc;
    const char *text = stp_catalog_get_string(cat, lang, key, pool);
    if (!text) {
        fprintf(stderr, "stpctl: no %s for locale '%s'\n", key, lang);
        return 1;
    }
    puts(text);
    return 0;
}

static int print_nda_record(void *baton, const stp_nda_record_t *rec)
{
    static const char *const names[] = {"time", "user", "tenant", "version", "seq"};
    apr_pool_t *pool = baton;
    const char *v[] = {stpctl_export_time(rec->when, pool), rec->user_key, rec->tenant, rec->version,
                       apr_psprintf(pool, "%" APR_UINT64_T_FMT, rec->seq)};
    stpctl_export_row(stdout, STPCTL_CSV, 5, names, v, pool);
    return 0;
}

/* Reads the state that httpd writes; safe while httpd runs (LMDB readers never block writers). */
static int cmd_nda_audit(const char *state_dir, apr_pool_t *pool)
{
    char err[256];
    const char *path = apr_pstrcat(pool, state_dir, "/" STP_STATE_DB, NULL);
    stp_state_t *st = stpctl_state_open_existing("stpctl", state_dir, pool);
    if (!st)
        return 2;
    apr_status_t rv;
    printf("time,user,tenant,version,seq\n");
    rv = stp_state_nda_log(st, print_nda_record, pool, pool);
    stp_state_close(st);
    if (rv != APR_SUCCESS || fflush(stdout) != 0) {
        fprintf(stderr, "stpctl: reading the NDA log of %s failed: %s\n", path, apr_strerror(rv, err, sizeof err));
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    apr_pool_t *pool;
    int rc = 2;
    apr_app_initialize(&argc, (const char *const **)&argv, NULL);
    atexit(apr_terminate);
    apr_pool_create(&pool, NULL);
    const char *cmd = argc > 1 ? argv[1] : "";
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        rc = 0;
    } else if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("stpctl %s\n", PACKAGE_VERSION);
        rc = 0;
    } else if (!strcmp(cmd, "catalog") && argc == 3) {
        rc = cmd_catalog(argv[2], pool);
    } else if (!strcmp(cmd, "doc") && argc == 4) {
        rc = cmd_doc(argv[2], argv[3], pool);
    } else if (!strcmp(cmd, "report")) {
        rc = stpctl_report(argc - 1, (const char *const *)argv + 1, pool);
    } else if (!strcmp(cmd, "notify")) {
        rc = stpctl_notify(argc - 1, (const char *const *)argv + 1, pool);
    } else if (!strcmp(cmd, "audit")) {
        rc = stpctl_audit(argc - 1, (const char *const *)argv + 1, pool);
    } else if (!strcmp(cmd, "feedback")) {
        rc = stpctl_feedback(argc - 1, (const char *const *)argv + 1, pool);
    } else if (!strcmp(cmd, "state-init") || !strcmp(cmd, "state-upgrade")) {
        rc = stpctl_dbd(argc - 1, (const char *const *)argv + 1, pool);
    } else if (!strcmp(cmd, "state-export") || !strcmp(cmd, "state-import")) {
        rc = stpctl_migrate(argc - 1, (const char *const *)argv + 1, pool);
    } else if (!strcmp(cmd, "rollout")) {
        rc = stpctl_rollout(argc - 1, (const char *const *)argv + 1, pool);
    } else if (!strcmp(cmd, "rollout-activate")) {
        rc = stpctl_rollout_activate(argc - 1, (const char *const *)argv + 1, pool);
    } else if (!strcmp(cmd, "build-manifest")) {
        rc = stpctl_build_manifest(argc - 1, (const char *const *)argv + 1, pool);
    } else if (!strcmp(cmd, "nda-audit") && argc == 3) {
        rc = cmd_nda_audit(argv[2], pool);
    } else if (!strcmp(cmd, "check") || !strcmp(cmd, "state-check") || !strcmp(cmd, "backup") ||
               !strcmp(cmd, "restore")) {
        rc = stpctl_state(argc - 1, (const char *const *)argv + 1, pool);
    } else if (!strcmp(cmd, "string") && argc == 5) {
        rc = cmd_string(argv[2], argv[3], argv[4], pool);
    } else {
        usage(stderr);
        rc = 2;
    }
    apr_pool_destroy(pool);
    return rc;
}
