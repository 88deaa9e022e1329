/* stp_retention: series and retention rules, shared by sitegen (what to list and link) and the
 * module (what to serve, and 410 for what is gone). Pure functions. */
#ifndef STP_RETENTION_H
#define STP_RETENTION_H

#include "stp_date.h"

#define STP_RETENTION_DEFAULT_MONTHS 12

typedef enum {
    STP_VERSION_CURRENT = 0, /* the newest version of its series: listed and served */
    STP_VERSION_SUPERSEDED,  /* older, within retention: served and linked, not listed */
    STP_VERSION_RETIRED      /* older, past retention: gone */
} stp_version_state_t;

const char *stp_retention_version_state_name(stp_version_state_t state);

/* Orders two versions of one series: negative when a is newer than b. Newer means a later
 * publication date; on the same date, the higher version string (digit runs compared as numbers). */
int stp_retention_version_newer_cmp(stp_day_t a_published, const char *a_version, stp_day_t b_published,
                                    const char *b_version);

/* Compares version strings naturally ("2025.10" > "2025.9"); returns <0, 0, >0 like strcmp. */
int stp_retention_version_cmp(const char *a, const char *b);

/* The first day a superseded version is gone: `months` after its own publication date. */
stp_day_t stp_retention_end(stp_day_t published, int months);

/* The state of a version on `today`. */
stp_version_state_t stp_retention_state(int is_current, stp_day_t published, int months, stp_day_t today);

/* The retention the decision applies: StpRetentionMonths when set (> 0), else 0, which means the
 * catalog's own per-version end dates. */
int stp_retention_months_in_force(int configured);

#endif
