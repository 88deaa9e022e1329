/* stpctl state-init / state-upgrade: the PostgreSQL state store's schema (stp_dbd). */
#include <stdio.h>
#include <string.h>

#include <apr_file_io.h>
#include <apr_strings.h>

#include "stp_dbd.h"
#include "stpctl.h"

static void usage(FILE *f, const char *cmd)
{
    fprintf(f,
            "Usage: stpctl %s (--dbd PARAMS | --dbd-file FILE) [--driver NAME]\n"
            "\n"
            "  state-init     create the STP schema in an empty PostgreSQL database\n"
            "  state-upgrade  upgrade an older STP schema to this build's version (%d), in one transaction\n"
            "\n"
            "  --dbd PARAMS     connection parameters as in httpd's DBDParams, such as\n"
            "                   'host=db.example port=5432 dbname=stp user=stp' (visible to other local\n"
            "                   users in the process list: put a password in --dbd-file or ~/.pgpass)\n"
            "  --dbd-file FILE  the parameters from the first line of FILE\n"
            "  --driver NAME    the apr_dbd driver (default pgsql, Debian: libaprutil1-dbd-pgsql)\n"
            "\n"
            "Both may run while httpd serves and on several machines at once: schema changes take a lock.\n"
            "Exit status: 0 done (or nothing to do), 1 the schema is not in the expected state, 2 error.\n",
            cmd, STP_DBD_SCHEMA_VERSION);
}

const char *stpctl_dbd_params(const char *opt, const char *value, apr_pool_t *pool)
{
    if (!strcmp(opt, "--dbd"))
        return value;
    char line[4096];
    FILE *f = fopen(value, "r");
    if (!f)
        return NULL;
    char *got = fgets(line, sizeof line, f);
    fclose(f);
    if (!got)
        return NULL;
    line[strcspn(line, "\r\n")] = '\0';
    return apr_pstrdup(pool, line);
}

int stpctl_dbd(int argc, const char *const *argv, apr_pool_t *pool)
{
    const char *cmd = argv[0], *params = NULL, *driver = "pgsql", *err = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout, cmd);
            return 0;
        } else if ((!strcmp(argv[i], "--dbd") || !strcmp(argv[i], "--dbd-file")) && i + 1 < argc) {
            params = stpctl_dbd_params(argv[i], argv[i + 1], pool);
            if (!params) {
                fprintf(stderr, "stpctl: cannot read the connection parameters from %s\n", argv[i + 1]);
                return 2;
            }
            i++;
        } else if (!strcmp(argv[i], "--driver") && i + 1 < argc) {
            driver = argv[++i];
        } else {
            usage(stderr, cmd);
            return 2;
        }
    }
    if (!params) {
        usage(stderr, cmd);
        return 2;
    }
    stp_dbd_conn_t *c = apr_pcalloc(pool, sizeof *c); /* closed with the pool */
    int from = 0;
    if (stp_dbd_connect(c, driver, params, 0, &err, pool) != APR_SUCCESS) {
        fprintf(stderr, "stpctl: %s\n", err);
        return 2;
    }
    if (stp_dbd_schema_version(&from, c, &err, pool) != APR_SUCCESS) {
        fprintf(stderr, "stpctl: %s\n", err);
        return 2;
    }
    if (!strcmp(cmd, "state-init") && from != 0) {
        if (from == STP_DBD_SCHEMA_VERSION) {
            printf("the STP schema is already there (version %d): nothing to do\n", from);
            return 0;
        }
        fprintf(stderr, "stpctl: the database already holds STP schema version %d: %s\n", from,
                from < STP_DBD_SCHEMA_VERSION ? "use stpctl state-upgrade" : "install the newer STP");
        return 1;
    }
    if (!strcmp(cmd, "state-upgrade") && from == 0) {
        fprintf(stderr, "stpctl: the database has no STP schema: use stpctl state-init\n");
        return 1;
    }
    if (stp_dbd_schema_upgrade(&from, c, &err, pool) != APR_SUCCESS) {
        fprintf(stderr, "stpctl: %s; nothing was changed\n", err);
        return from > STP_DBD_SCHEMA_VERSION ? 1 : 2;
    }
    if (stp_dbd_prepare_all(c, &err, pool) != APR_SUCCESS) {
        fprintf(stderr, "stpctl: the schema was written but its statements do not prepare: %s\n", err);
        return 2;
    }
    if (from == STP_DBD_SCHEMA_VERSION)
        printf("the STP schema is already version %d: nothing to do\n", from);
    else if (from == 0)
        printf("created the STP schema, version %d\n", STP_DBD_SCHEMA_VERSION);
    else
        printf("upgraded the STP schema from version %d to %d\n", from, STP_DBD_SCHEMA_VERSION);
    return 0;
}
