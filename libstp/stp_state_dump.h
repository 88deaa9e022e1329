/* stp_state_dump: a whole state, either store, as a portable dump (docs/operations.md, "Moving a
 * state between stores"): JSON lines, a header, one record per line, a trailer with the count of
 * each kind. The export reads one consistent snapshot; the import writes into an empty state in
 * one transaction and checks the counts before it commits. Feedback rate-limit windows and
 * PostgreSQL's digest leases are transient and stay out. */
#ifndef STP_STATE_DUMP_H
#define STP_STATE_DUMP_H

#include <stdio.h>

#include <apr_pools.h>

#include "stp_feedback.h"
#include "stp_notify.h"
#include "stp_org.h"
#include "stp_state.h"

/* The dump's layout; an import refuses any other. */
#define STP_DUMP_FORMAT 1

/* The kinds of record, in the order a dump holds them. */
typedef enum {
    STP_DUMP_USER = 0,   /* what the module last saw of a signed-in user */
    STP_DUMP_NDA,        /* an NDA acceptance */
    STP_DUMP_NDA_LOG,    /* the acceptance log */
    STP_DUMP_LIBRARY,    /* a My Library entry (with the digest's "seen") */
    STP_DUMP_NOTIFY,     /* notification settings (with the last digest's time) */
    STP_DUMP_ORG,        /* an organisation's settings */
    STP_DUMP_ORG_PERSON, /* a person an organisation listed */
    STP_DUMP_ORG_LOG,    /* the organisations' change log */
    STP_DUMP_FEEDBACK,   /* the feedback log */
    STP_DUMP_KINDS
} stp_dump_kind_t;

/* The name of a kind in the dump ("user", "nda", ...). */
const char *stp_dump_kind_name(stp_dump_kind_t kind);

/* One record: `kind` says which of the members holds it. */
typedef struct {
    stp_dump_kind_t kind;
    const char *key;         /* the user key (user, nda, library, notify) or tenant (org, org_person) */
    stp_user_record_t user;  /* user */
    stp_nda_record_t nda;    /* nda (its `when` is the acceptance's time, seq 0) and nda_log */
    stp_saved_t library;     /* library */
    stp_notify_t notify;     /* notify */
    stp_org_settings_t org;  /* org */
    stp_org_person_t person; /* org_person */
    stp_org_change_t change; /* org_log */
    stp_feedback_t feedback; /* feedback */
} stp_dump_record_t;

/* The counts of a dump or a state, by kind. */
typedef struct {
    apr_uint64_t n[STP_DUMP_KINDS];
} stp_dump_counts_t;

/* Writes st's dump to out from one snapshot (an LMDB read transaction; a read-only REPEATABLE READ
 * transaction on PostgreSQL); *counts (may be NULL) gets what it wrote. On failure *err says why
 * and what was written must not be used. */
apr_status_t stp_state_export(stp_state_t *st, FILE *out, stp_dump_counts_t *counts, const char **err,
                              apr_pool_t *pool);

/* Why an import failed: the target is not empty, the dump is bad (err names the line), the counts
 * do not match; or APR_* for a failure of the store or of reading. */
#define STP_DUMP_ENOTEMPTY (APR_OS_START_USERERR + 3200)
#define STP_DUMP_EBAD (APR_OS_START_USERERR + 3201)
#define STP_DUMP_ECOUNT (APR_OS_START_USERERR + 3202)

/* Reads a dump from in into st, which must hold no record of any kind, in one transaction that
 * commits only when the dump is whole (header to trailer), every line is a known record, and the
 * counts of the target, of the lines read and of the trailer agree; *counts gets them. On failure
 * nothing was written and *err says why. A PostgreSQL target needs the current schema
 * (stpctl state-init). */
apr_status_t stp_state_import(stp_state_t *st, FILE *in, stp_dump_counts_t *counts, const char **err, apr_pool_t *pool);

#endif
