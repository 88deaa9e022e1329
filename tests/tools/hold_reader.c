/* hold_reader DIR: opens DIR/state.mdb, begins a read transaction, says "reading" on stdout and
 * waits to be killed. SIGKILLed, it leaves a stale slot in the reader table, as a crashed process
 * would (tests/integration/stateops.py). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

int main(int argc, char **argv)
{
    MDB_env *env;
    MDB_txn *txn;
    char path[4096];
    if (argc != 2 || snprintf(path, sizeof path, "%s/state.mdb", argv[1]) >= (int)sizeof path) {
        fprintf(stderr, "usage: hold_reader STATE_DIR\n");
        return 2;
    }
    int rc = mdb_env_create(&env);
    if (!rc) {
        mdb_env_set_maxdbs(env, 16);
        rc = mdb_env_open(env, path, MDB_NOSUBDIR | MDB_RDONLY, 0600);
    }
    if (!rc)
        rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
    if (rc) {
        fprintf(stderr, "hold_reader: %s\n", mdb_strerror(rc));
        return 1;
    }
    printf("reading\n");
    fflush(stdout);
    for (;;)
        pause();
}
