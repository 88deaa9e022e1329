#include "stp_retention.h"

#include <ctype.h>
#include <string.h>

const char *stp_retention_version_state_name(stp_version_state_t state)
{
    switch (state) {
    case STP_VERSION_CURRENT:
        return "current";
    case STP_VERSION_SUPERSEDED:
        return "superseded";
    default:
        return "retired";
    }
}

int stp_retention_version_cmp(const char *a, const char *b)
{
    while (*a && *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            while (*a == '0')
                a++;
            while (*b == '0')
                b++;
            size_t la = strspn(a, "0123456789"), lb = strspn(b, "0123456789");
            if (la != lb)
                return la < lb ? -1 : 1;
            int c = strncmp(a, b, la);
            if (c)
                return c;
            a += la, b += lb;
        } else {
            if (*a != *b)
                return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
            a++, b++;
        }
    }
    return *a ? 1 : *b ? -1 : 0;
}

int stp_retention_version_newer_cmp(stp_day_t a_published, const char *a_version, stp_day_t b_published,
                                    const char *b_version)
{
    if (a_published != b_published)
        return a_published > b_published ? -1 : 1;
    return -stp_retention_version_cmp(a_version ? a_version : "", b_version ? b_version : "");
}

stp_day_t stp_retention_end(stp_day_t published, int months)
{
    return stp_date_add_months(published, months > 0 ? months : STP_RETENTION_DEFAULT_MONTHS);
}

stp_version_state_t stp_retention_state(int is_current, stp_day_t published, int months, stp_day_t today)
{
    if (is_current)
        return STP_VERSION_CURRENT;
    return today < stp_retention_end(published, months) ? STP_VERSION_SUPERSEDED : STP_VERSION_RETIRED;
}

int stp_retention_months_in_force(int configured)
{
    return configured > 0 ? configured : 0;
}
