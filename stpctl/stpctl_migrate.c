/* stpctl state-export / state-import: a state moved between the two stores (LMDB, PostgreSQL)
 * through the portable dump of stp_state_dump. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_strings.h>

#include "stp_dbd.h"
#include "stp_layout.h"
#include "stp_state_dump.h"
#include "stpctl.h"

static void usage(FILE *f, const char *cmd)
{
    if (!strcmp(cmd, "state-export"))
        fprintf(f, "Usage: stpctl state-export (--state DIR | --dbd PARAMS | --dbd-file FILE) [-o FILE]\n"
                   "\n"
                   "Writes the whole state of one store as a dump (JSON lines: a header, one record per\n"
                   "line, a trailer with the count of each kind), read from one consistent snapshot; safe\n"
                   "while httpd runs. Feedback rate-limit windows and digest leases are transient and are\n"
                   "not in it.\n"
                   "\n"
                   "  --state DIR      the LMDB state directory (StpStateDir)\n"
                   "  --dbd PARAMS     a PostgreSQL state, connection parameters as in httpd's DBDParams\n"
                   "  --dbd-file FILE  the parameters from the first line of FILE\n"
                   "  --driver NAME    the apr_dbd driver (default pgsql)\n"
                   "  -o FILE          write the dump to FILE (replaced only once it is complete) instead\n"
                   "                   of standard output\n"
                   "\n"
                   "The counts go to standard error. Exit status: 0 written, 2 error (no FILE written).\n");
    else
        fprintf(f, "Usage: stpctl state-import (--state DIR | --dbd PARAMS | --dbd-file FILE) [FILE]\n"
                   "\n"
                   "Reads a dump written by stpctl state-export (from FILE, else standard input) into an\n"
                   "empty state, in one transaction: it commits only when the dump is whole (header to\n"
                   "trailer), every line is a record of a known kind, and the counts of each kind in the\n"
                   "target, in the lines read and in the trailer agree; else nothing is written. A target\n"
                   "that holds any record is refused. Prints the counts.\n"
                   "\n"
                   "  --state DIR      the LMDB state directory; created, with state.mdb of this build's\n"
                   "                   format, when missing (then run stpctl check DIR --fix for httpd's\n"
                   "                   user). httpd must not serve from it during the import\n"
                   "  --dbd PARAMS     a PostgreSQL state; its schema must exist (stpctl state-init)\n"
                   "  --dbd-file FILE  the parameters from the first line of FILE\n"
                   "  --driver NAME    the apr_dbd driver (default pgsql)\n"
                   "\n"
                   "Exit status: 0 imported, 1 refused (the target is not empty, has no current schema,\n"
                   "the dump is bad or truncated, the counts do not agree; nothing written), 2 error.\n");
}

typedef struct {
    const char *cmd, *state_dir, *params, *driver, *file;
} options_t;

/* 0 with the options, 1 after --help, 2 after a usage error. */
static int parse(options_t *o, int argc, const char *const *argv, apr_pool_t *pool)
{
    int export = !strcmp(argv[0], "state-export"), stores = 0;
    memset(o, 0, sizeof *o);
    o->cmd = argv[0];
    o->driver = "pgsql";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout, o->cmd);
            return 1;
        } else if (!strcmp(a, "--state") && i + 1 < argc) {
            o->state_dir = argv[++i];
            stores++;
        } else if ((!strcmp(a, "--dbd") || !strcmp(a, "--dbd-file")) && i + 1 < argc) {
            if (!(o->params = stpctl_dbd_params(a, argv[i + 1], pool))) {
                fprintf(stderr, "stpctl: cannot read the connection parameters from %s\n", argv[i + 1]);
                return 2;
            }
            i++;
            stores++;
        } else if (!strcmp(a, "--driver") && i + 1 < argc) {
            o->driver = argv[++i];
        } else if (export && !strcmp(a, "-o") && i + 1 < argc && !o->file) {
            o->file = argv[++i];
        } else if (!export && a[0] != '-' && !o->file) {
            o->file = a;
        } else {
            usage(stderr, o->cmd);
            return 2;
        }
    }
    if (stores != 1) {
        usage(stderr, o->cmd);
        return 2;
    }
    return 0;
}

/* The PostgreSQL state, or NULL with the exit status in *rc. */
static stp_state_t *open_dbd(const options_t *o, int *rc, apr_pool_t *pool)
{
    stp_dbd_conn_t *c = apr_pcalloc(pool, sizeof *c); /* closed with the pool */
    const char *err = NULL, *problem;
    *rc = 2;
    if (stp_dbd_connect(c, o->driver, o->params, 0, &err, pool) != APR_SUCCESS) {
        fprintf(stderr, "stpctl %s: %s\n", o->cmd, err);
        return NULL;
    }
    if ((problem = stp_dbd_schema_problem(c, pool)) != NULL) {
        fprintf(stderr, "stpctl %s: %s\n", o->cmd, problem);
        *rc = 1;
        return NULL;
    }
    if (stp_dbd_prepare_all(c, &err, pool) != APR_SUCCESS) {
        fprintf(stderr, "stpctl %s: %s\n", o->cmd, err);
        return NULL;
    }
    return stp_state_over_dbd(c, pool);
}

static void print_counts(FILE *f, const char *what, const stp_dump_counts_t *c)
{
    apr_uint64_t total = 0;
    fprintf(f, "%s:", what);
    for (int k = 0; k < STP_DUMP_KINDS; k++) {
        fprintf(f, " %s %" APR_UINT64_T_FMT, stp_dump_kind_name((stp_dump_kind_t)k), c->n[k]);
        total += c->n[k];
    }
    fprintf(f, " (%" APR_UINT64_T_FMT " records)\n", total);
}

static int cmd_export(const options_t *o, apr_pool_t *pool)
{
    int rc = 2;
    char buf[256];
    const char *err = NULL, *tmp = NULL;
    stp_state_t *st =
        o->state_dir ? stpctl_state_open_existing("stpctl state-export", o->state_dir, pool) : open_dbd(o, &rc, pool);
    if (!st)
        return rc == 1 ? 1 : 2;
    FILE *out = stdout;
    if (o->file) { /* a complete dump or none: written beside FILE, renamed over it at the end */
        tmp = apr_pstrcat(pool, o->file, ".tmp", NULL);
        if (!(out = fopen(tmp, "w"))) {
            fprintf(stderr, "stpctl state-export: cannot write %s: %s\n", tmp, strerror(errno));
            return 2;
        }
    }
    stp_dump_counts_t counts;
    apr_status_t rv = stp_state_export(st, out, &counts, &err, pool);
    if (o->file && fclose(out) != 0 && rv == APR_SUCCESS) {
        rv = APR_EGENERAL;
        err = "cannot write the dump";
    }
    if (rv == APR_SUCCESS && tmp && rename(tmp, o->file) != 0) {
        rv = APR_EGENERAL;
        err = apr_psprintf(pool, "cannot rename %s to %s: %s", tmp, o->file, strerror(errno));
    }
    if (rv != APR_SUCCESS) {
        if (tmp)
            unlink(tmp);
        fprintf(stderr, "stpctl state-export: %s\n", err ? err : apr_strerror(rv, buf, sizeof buf));
        return 2;
    }
    print_counts(stderr, "exported", &counts);
    stp_state_close(st);
    return 0;
}

static int cmd_import(const options_t *o, apr_pool_t *pool)
{
    int rc = 2, created = 0;
    char buf[256];
    const char *err = NULL;
    stp_state_t *st = NULL;
    FILE *in = stdin;
    if (o->file && !(in = fopen(o->file, "r"))) {
        fprintf(stderr, "stpctl state-import: cannot read %s: %s\n", o->file, strerror(errno));
        return 2;
    }
    if (o->state_dir) { /* as the module does: the directory (0700) and state.mdb at this build's format */
        stp_state_options_t opts = {.upgrade_alone = 1};
        apr_finfo_t fi;
        apr_status_t rv = APR_SUCCESS;
        if (apr_stat(&fi, o->state_dir, APR_FINFO_TYPE, pool) != APR_SUCCESS) {
            created = 1;
            rv = apr_dir_make_recursive(o->state_dir, APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_UEXECUTE, pool);
        }
        if (rv == APR_SUCCESS)
            rv = stp_state_open(&st, o->state_dir, &opts, pool);
        if (rv != APR_SUCCESS)
            fprintf(stderr, "stpctl state-import: cannot open %s/%s: %s\n", o->state_dir, STP_STATE_DB,
                    stp_state_strerror(rv, buf, sizeof buf));
    } else {
        st = open_dbd(o, &rc, pool);
    }
    if (!st) {
        if (in != stdin)
            fclose(in);
        return rc;
    }
    stp_dump_counts_t counts;
    apr_status_t rv = stp_state_import(st, in, &counts, &err, pool);
    if (in != stdin)
        fclose(in);
    stp_state_close(st);
    if (rv != APR_SUCCESS) {
        int refused = rv == STP_DUMP_ENOTEMPTY || rv == STP_DUMP_EBAD || rv == STP_DUMP_ECOUNT;
        fprintf(stderr, "stpctl state-import: %s; nothing was imported\n",
                err ? err : apr_strerror(rv, buf, sizeof buf));
        return refused ? 1 : 2;
    }
    print_counts(stdout, "imported", &counts);
    if (created)
        printf("created %s: run stpctl check %s --fix to give it to httpd's User\n", o->state_dir, o->state_dir);
    return 0;
}

int stpctl_migrate(int argc, const char *const *argv, apr_pool_t *pool)
{
    options_t o;
    int rc = parse(&o, argc, argv, pool);
    if (rc)
        return rc == 1 ? 0 : rc;
    return !strcmp(o.cmd, "state-export") ? cmd_export(&o, pool) : cmd_import(&o, pool);
}
