/* stpctl_sendmail: handing a message to the local mail system, as notify and report do. */
#include <string.h>

#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "stpctl.h"

apr_status_t stpctl_sendmail(const char *sendmail, const char *envelope, const char *to, const char *message, char *err,
                             apr_size_t errlen, apr_pool_t *pool)
{
    char **args;
    apr_procattr_t *attr;
    apr_proc_t proc;
    apr_status_t rv;
    apr_tokenize_to_argv(sendmail, &args, pool);
    int argc = 0;
    while (args[argc])
        argc++;
    if (!argc) {
        apr_snprintf(err, errlen, "no sendmail command");
        return APR_EINVAL;
    }
    const char **argv = apr_pcalloc(pool, sizeof(char *) * (apr_size_t)(argc + 5));
    for (int i = 0; i < argc; i++)
        argv[i] = args[i];
    if (envelope && *envelope) { /* bounces go to the envelope sender, not to whoever runs the timer */
        argv[argc++] = "-f";
        argv[argc++] = envelope;
    }
    argv[argc] = "--"; /* an address never passes for an option */
    argv[argc + 1] = to;
    if ((rv = apr_procattr_create(&attr, pool)) != APR_SUCCESS ||
        (rv = apr_procattr_io_set(attr, APR_FULL_BLOCK, APR_NO_PIPE, APR_NO_PIPE)) != APR_SUCCESS ||
        (rv = apr_procattr_cmdtype_set(attr, APR_PROGRAM_PATH)) != APR_SUCCESS ||
        (rv = apr_proc_create(&proc, argv[0], argv, NULL, attr, pool)) != APR_SUCCESS) {
        apr_snprintf(err, errlen, "cannot run %s", argv[0]);
        return rv;
    }
    apr_size_t len = strlen(message);
    rv = apr_file_write_full(proc.in, message, len, NULL);
    apr_file_close(proc.in);
    int code;
    apr_exit_why_e why;
    apr_status_t wrv = apr_proc_wait(&proc, &code, &why, APR_WAIT);
    if (wrv != APR_CHILD_DONE) {
        apr_snprintf(err, errlen, "waiting for %s failed", argv[0]);
        return wrv;
    }
    if (!APR_PROC_CHECK_EXIT(why) || code != 0) {
        apr_snprintf(err, errlen, "%s %s %d", argv[0], APR_PROC_CHECK_EXIT(why) ? "exited with" : "died of signal",
                     code);
        return APR_EGENERAL;
    }
    if (rv != APR_SUCCESS)
        apr_snprintf(err, errlen, "%s did not read the whole message", argv[0]);
    return rv;
}
