/* stpctl: the operator's tool; each larger command has its own file. */
#ifndef STPCTL_H
#define STPCTL_H

#include <stdio.h>

#include <apr_pools.h>
#include <apr_time.h>

/* stpctl notify [options]: argv[0] is "notify". Returns the exit status. */
int stpctl_notify(int argc, const char *const *argv, apr_pool_t *pool);

/* stpctl report --site SITE [options]: argv[0] is "report". Returns the exit status. */
int stpctl_report(int argc, const char *const *argv, apr_pool_t *pool);

/* Runs the sendmail-compatible command `sendmail` (words split as a shell would, without one)
 * with "--" and the recipient `to` as its last arguments and `message` on stdin; on failure
 * `err` says why. notify and report both. */
apr_status_t stpctl_sendmail(const char *sendmail, const char *to, const char *message, char *err, apr_size_t errlen,
                             apr_pool_t *pool);

/* stpctl state-check DIR [--fix] [--user NAME] | backup DIR FILE: argv[0] is the command.
 * Returns the exit status, or -1 for a usage error. */
int stpctl_state(int argc, const char *const *argv, apr_pool_t *pool);

/* stpctl audit [--format csv|jsonl] STATE_DIR: argv[0] is "audit". Returns the exit status. */
int stpctl_audit(int argc, const char *const *argv, apr_pool_t *pool);

/* Opens the state that httpd writes (safe while it runs), never creating one where the operator
 * mistyped a directory; on failure prints why, prefixed with `who`, and returns NULL. */
struct stp_state_t *stpctl_state_open_existing(const char *who, const char *state_dir, apr_pool_t *pool);

/* stpctl_export.c: records as CSV (RFC 4180, formula guard) or JSON lines. */
typedef enum { STPCTL_CSV, STPCTL_JSONL } stpctl_format_t;
apr_status_t stpctl_export_format(stpctl_format_t *f, const char *name);
/* The header line (CSV only). */
void stpctl_export_header(FILE *out, stpctl_format_t f, int n, const char *const *names);
void stpctl_export_row(FILE *out, stpctl_format_t f, int n, const char *const *names, const char *const *values,
                       apr_pool_t *pool);
/* 2026-11-29T23:42:00Z */
const char *stpctl_export_time(apr_time_t t, apr_pool_t *pool);
/* stpctl feedback [--format csv|jsonl] [--counts] DIR: argv[0] is "feedback". Returns the exit status. */
int stpctl_feedback(int argc, const char *const *argv, apr_pool_t *pool);

#endif
