/* stp_library: each user's My Library and notification settings in state.mdb (docs/architecture.md).
 * Saving a document subscribes to its series: an entry is keyed by series and remembers
 * which version the user saved and which one they last heard of. Every write is one short,
 * fully durable transaction. */
#ifndef STP_LIBRARY_H
#define STP_LIBRARY_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#include "stp_catalog.h"
#include "stp_state.h"

typedef struct {
    const char *series; /* the key within a user's library */
    const char *doc_id; /* the version the user saved */
    const char *seen;   /* stp_library_fingerprint() of the version the user was last told of */
    const char *kept;   /* stp_library_fingerprint() of the series' current version when saved */
    apr_time_t saved;
} stp_saved_t;

/* The longest key parts the store accepts (ids are at most 64, user keys are claims). */
#define STP_LIBRARY_MAX_USER 512
#define STP_LIBRARY_MAX_ENTRIES 1000

/* Adds or replaces the user's entry for entry->series. APR_EINVAL for empty or oversized fields,
 * APR_ENOSPC when the user already has STP_LIBRARY_MAX_ENTRIES entries or the map is full. */
apr_status_t stp_library_save(stp_state_t *st, const char *user_key, const stp_saved_t *entry);
/* Removes the entry; APR_SUCCESS also when there was none. */
apr_status_t stp_library_remove(stp_state_t *st, const char *user_key, const char *series);
/* The user's entries (stp_saved_t), in series order. */
apr_status_t stp_library_list(apr_array_header_t **entries, stp_state_t *st, const char *user_key, apr_pool_t *pool);

/* A short, stable digest of what a user would notice about a version: its id, version and files. */
const char *stp_library_fingerprint(const stp_doc_t *doc, apr_pool_t *pool);

#endif
