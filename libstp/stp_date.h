/* stp_date: calendar days as day numbers (days since 1970-01-01, proleptic Gregorian), which is
 * all the content model needs: publication dates, retention windows, digest windows. */
#ifndef STP_DATE_H
#define STP_DATE_H

#include <apr_time.h>
#include <stdint.h>

typedef int32_t stp_day_t;

/* Parses a strict "YYYY-MM-DD" (a real calendar date). */
apr_status_t stp_date_parse(stp_day_t *day, const char *s);
stp_day_t stp_date_from_ymd(int y, int m, int d);
void stp_date_to_ymd(int *y, int *m, int *d, stp_day_t day);
/* Writes "YYYY-MM-DD" into out (at least 11 bytes). */
void stp_date_format_iso(char *out, stp_day_t day);
/* The same day `months` later; the last day of the month where it is shorter (Jan 31 + 1 = Feb 28/29). */
stp_day_t stp_date_add_months(stp_day_t day, int months);
/* The UTC calendar day of an APR time. */
stp_day_t stp_date_from_time(apr_time_t t);
apr_time_t stp_date_to_time(stp_day_t day);

/* Parses a moment as doc.xml's <published> has it: "YYYY-MM-DD" (that day's midnight, UTC) or
 * "YYYY-MM-DDTHH:MM[:SS]" with a zone, "Z" or "+HH:MM"/"-HH:MM". *day is the date as written,
 * *at the moment in UTC. APR_EINVAL for anything else (a time without a zone included). */
apr_status_t stp_date_parse_moment(stp_day_t *day, apr_time_t *at, const char *s);
/* Writes an APR time as "YYYY-MM-DDTHH:MM:SSZ" into out (at least 21 bytes). */
void stp_date_format_moment(char *out, apr_time_t t);

#endif
