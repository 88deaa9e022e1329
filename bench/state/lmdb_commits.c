/* The baseline of bench/state: how many durable single-key LMDB transactions this disk commits
 * a second, with the same environment flags as state.mdb, one writer, no httpd.
 * Usage: lmdb_commits DIR SECONDS   prints "commits/s N". */
#define _POSIX_C_SOURCE 200809L
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    MDB_env *env;
    MDB_dbi dbi;
    MDB_txn *txn;
    char path[4096];
    if (argc != 3) {
        fprintf(stderr, "usage: lmdb_commits DIR SECONDS\n");
        return 2;
    }
    snprintf(path, sizeof path, "%s/bench.mdb", argv[1]);
    double seconds = atof(argv[2]);
    if (mdb_env_create(&env) || mdb_env_set_mapsize(env, (size_t)1 << 32) ||
        mdb_env_open(env, path, MDB_NOSUBDIR | MDB_NOTLS, 0600) || mdb_txn_begin(env, NULL, 0, &txn) ||
        mdb_dbi_open(txn, NULL, 0, &dbi) || mdb_txn_commit(txn)) {
        fprintf(stderr, "lmdb_commits: cannot open %s\n", path);
        return 2;
    }
    unsigned long n = 0;
    double start = now(), end = start + seconds;
    while (now() < end) {
        char key[32], val[64];
        int kl = snprintf(key, sizeof key, "user-%lu", n % 1000);
        int vl = snprintf(val, sizeof val, "saved %lu", n);
        MDB_val k = {(size_t)kl, key}, v = {(size_t)vl, val};
        if (mdb_txn_begin(env, NULL, 0, &txn) || mdb_put(txn, dbi, &k, &v, 0) || mdb_txn_commit(txn)) {
            fprintf(stderr, "lmdb_commits: a commit failed\n");
            return 1;
        }
        n++;
    }
    printf("commits/s %.0f\n", (double)n / (now() - start));
    mdb_env_close(env);
    return 0;
}
