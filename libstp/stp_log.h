/* stp_log: logging for the core through a callback that the caller installs
 * (httpd's error log in the module, stderr in the tools). */
#ifndef STP_LOG_H
#define STP_LOG_H

#include <apr_errno.h>

typedef enum { STP_LOG_ERR = 0, STP_LOG_WARN, STP_LOG_NOTICE, STP_LOG_INFO, STP_LOG_DEBUG } stp_log_level_t;

typedef void stp_log_fn(void *baton, stp_log_level_t level, apr_status_t rv, const char *msg);

/* Installs the sink; NULL restores the default (stderr for warnings and errors). Configuration:
 * set once at startup, before threads start. */
void stp_log_set(stp_log_fn *fn, void *baton);

void stp_log(stp_log_level_t level, apr_status_t rv, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
