#include "stp_log.h"

#include <stdarg.h>
#include <stdio.h>

#include <apr_strings.h>

static void log_stderr(void *baton, stp_log_level_t level, apr_status_t rv, const char *msg)
{
    static const char *const names[] = {"error", "warning", "notice", "info", "debug"};
    char err[256];
    (void)baton;
    if (level > STP_LOG_WARN)
        return;
    if (rv != APR_SUCCESS)
        fprintf(stderr, "stp: %s: %s (%s)\n", names[level], msg, apr_strerror(rv, err, sizeof err));
    else
        fprintf(stderr, "stp: %s: %s\n", names[level], msg);
}

/* The sink is configuration, installed once before any thread starts. */
static stp_log_fn *log_fn = log_stderr;
static void *log_baton;

void stp_log_set(stp_log_fn *fn, void *baton)
{
    log_fn = fn ? fn : log_stderr;
    log_baton = baton;
}

void stp_log(stp_log_level_t level, apr_status_t rv, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    apr_vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    log_fn(log_baton, level, rv, buf);
}
