/* stp_lmdb: what the catalog and the state store share about LMDB. */
#ifndef STP_LMDB_H
#define STP_LMDB_H

#include <apr_errno.h>

/* An LMDB return code as an APR status: MDB_NOTFOUND is APR_NOTFOUND, MDB_MAP_FULL is APR_ENOSPC
 * (the module answers 503 to it), system errors keep their errno. */
apr_status_t stp_lmdb_status(int rc);

#endif
