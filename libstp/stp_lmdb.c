#include "stp_lmdb.h"

#include <lmdb.h>

apr_status_t stp_lmdb_status(int rc)
{
    switch (rc) {
    case MDB_SUCCESS:
        return APR_SUCCESS;
    case MDB_NOTFOUND:
        return APR_NOTFOUND;
    case MDB_MAP_FULL:
        return APR_ENOSPC;
    default:
        return rc > 0 ? APR_FROM_OS_ERROR(rc) : APR_EGENERAL;
    }
}
