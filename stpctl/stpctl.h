/* stpctl: the operator's tool; each larger command has its own file. */
#ifndef STPCTL_H
#define STPCTL_H

#include <apr_pools.h>

/* stpctl notify [options]: argv[0] is "notify". Returns the exit status. */
int stpctl_notify(int argc, const char *const *argv, apr_pool_t *pool);

/* stpctl state-check DIR [--fix] [--user NAME] | backup DIR FILE: argv[0] is the command.
 * Returns the exit status, or -1 for a usage error. */
int stpctl_state(int argc, const char *const *argv, apr_pool_t *pool);

/* stpctl feedback [--format csv|jsonl] [--counts] DIR: argv[0] is "feedback". Returns the exit status. */
int stpctl_feedback(int argc, const char *const *argv, apr_pool_t *pool);

#endif
