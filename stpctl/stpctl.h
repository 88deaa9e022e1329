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
 * with "-f envelope" (when not NULL), "--" and the recipient `to` as its last arguments and
 * `message` on stdin; on failure `err` says why. notify and report both. */
apr_status_t stpctl_sendmail(const char *sendmail, const char *envelope, const char *to, const char *message, char *err,
                             apr_size_t errlen, apr_pool_t *pool);

/* stpctl check (state-check) DIR [--fix] [--user NAME] | backup DIR OUT | restore BACKUP DIR:
 * argv[0] is the command. Returns the exit status (2 for a usage error, with the command's help). */
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

/* stpctl_dbd.c: stpctl state-init | state-upgrade (--dbd PARAMS | --dbd-file FILE): argv[0] is the
 * command. Returns the exit status. */
int stpctl_dbd(int argc, const char *const *argv, apr_pool_t *pool);
/* The connection parameters of --dbd (the value) or --dbd-file (its first line); NULL when the
 * file cannot be read. */
const char *stpctl_dbd_params(const char *opt, const char *value, apr_pool_t *pool);
/* stpctl_migrate.c: stpctl state-export | state-import (--state DIR | --dbd PARAMS | --dbd-file FILE):
 * argv[0] is the command. Returns the exit status. */
int stpctl_migrate(int argc, const char *const *argv, apr_pool_t *pool);
/* stpctl_manifest.c: the content manifest of the build directory `build` (its entries with their
 * SHA-256, then the store shards it links); `entries` (may be NULL) gets their number. */
apr_status_t stpctl_manifest_make(char **text, apr_size_t *len, long *entries, const char *build, char *err,
                                  apr_size_t errlen, apr_pool_t *pool);
/* NULL when two manifests are equal, else the first line where they part. */
const char *stpctl_manifest_diff(const char *want, apr_size_t wlen, const char *have, apr_size_t hlen,
                                 apr_pool_t *pool);

/* stpctl_activate.c: the node's side of a rollout. Switches SITE/current to the build `name`
 * staged in SITE/.rollout-NAME once it matches the manifest. Returns 0 (served), 1 (the copy does
 * not match; nothing switched) or 2 (error), with one line for the operator in msg. */
int stpctl_activate(const char *site, const char *name, const char *manifest, apr_size_t mlen, char *msg,
                    apr_size_t msglen, apr_pool_t *pool);
/* build-N */
int stpctl_build_name_ok(const char *name);
apr_status_t stpctl_rm_rf(const char *path);
/* stpctl rollout-activate [--manifest FILE] SITE BUILD | build-manifest BUILD_DIR [--check FILE]:
 * argv[0] is the command. Return the exit status. */
int stpctl_rollout_activate(int argc, const char *const *argv, apr_pool_t *pool);
int stpctl_build_manifest(int argc, const char *const *argv, apr_pool_t *pool);
/* stpctl rollout [options] BUILD_DIR NODE...: argv[0] is "rollout". Returns the exit status. */
int stpctl_rollout(int argc, const char *const *argv, apr_pool_t *pool);

#endif
