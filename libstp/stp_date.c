#include "stp_date.h"

#include <string.h>

/* Days from civil and back: the standard era-based algorithm for the proleptic Gregorian calendar. */
stp_day_t stp_date_from_ymd(int y, int m, int d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (stp_day_t)(era * 146097 + doe - 719468);
}

void stp_date_to_ymd(int *y, int *m, int *d, stp_day_t day)
{
    int z = day + 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    int doe = z - era * 146097;
    int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int y, int m)
{
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 ? 28 + leap : dim[m - 1];
}

apr_status_t stp_date_parse(stp_day_t *day, const char *s)
{
    int y = 0, m = 0, d = 0;
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return APR_EINVAL;
    for (int i = 0; i < 10; i++) {
        if (i == 4 || i == 7)
            continue;
        if (s[i] < '0' || s[i] > '9')
            return APR_EINVAL;
    }
    y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    m = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');
    if (y < 1900 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return APR_EINVAL;
    *day = stp_date_from_ymd(y, m, d);
    return APR_SUCCESS;
}

void stp_date_format_iso(char *out, stp_day_t day)
{
    int y, m, d;
    stp_date_to_ymd(&y, &m, &d, day);
    unsigned uy = (unsigned)y % 10000u, um = (unsigned)m % 100u, ud = (unsigned)d % 100u;
    out[0] = (char)('0' + uy / 1000), out[1] = (char)('0' + uy / 100 % 10), out[2] = (char)('0' + uy / 10 % 10);
    out[3] = (char)('0' + uy % 10), out[4] = '-', out[5] = (char)('0' + um / 10), out[6] = (char)('0' + um % 10);
    out[7] = '-', out[8] = (char)('0' + ud / 10), out[9] = (char)('0' + ud % 10), out[10] = '\0';
}

stp_day_t stp_date_add_months(stp_day_t day, int months)
{
    int y, m, d;
    stp_date_to_ymd(&y, &m, &d, day);
    int total = y * 12 + (m - 1) + months;
    y = total / 12;
    m = total % 12 + 1;
    if (d > days_in_month(y, m))
        d = days_in_month(y, m);
    return stp_date_from_ymd(y, m, d);
}

stp_day_t stp_date_from_time(apr_time_t t)
{
    apr_time_t secs = apr_time_sec(t);
    return (stp_day_t)(secs >= 0 ? secs / 86400 : (secs - 86399) / 86400);
}

apr_time_t stp_date_to_time(stp_day_t day)
{
    return apr_time_from_sec((apr_time_t)day * 86400);
}

/* Two digits at s, or -1. */
static int two_digits(const char *s)
{
    return s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' ? (s[0] - '0') * 10 + (s[1] - '0') : -1;
}

apr_status_t stp_date_parse_moment(stp_day_t *day, apr_time_t *at, const char *s)
{
    char date[11];
    stp_day_t d;
    if (!s || strlen(s) < 10)
        return APR_EINVAL;
    memcpy(date, s, 10);
    date[10] = '\0';
    if (stp_date_parse(&d, date) != APR_SUCCESS)
        return APR_EINVAL;
    const char *p = s + 10;
    long secs = 0, zone = 0;
    if (*p) {
        int hh, mm, ss = 0;
        if (*p != 'T' || (hh = two_digits(p + 1)) < 0 || p[3] != ':' || (mm = two_digits(p + 4)) < 0)
            return APR_EINVAL;
        p += 6;
        if (*p == ':') {
            if ((ss = two_digits(p + 1)) < 0)
                return APR_EINVAL;
            p += 3;
        }
        if (hh > 23 || mm > 59 || ss > 59)
            return APR_EINVAL;
        secs = hh * 3600L + mm * 60L + ss;
        if (*p == 'Z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int zh = two_digits(p + 1), zm = p[3] == ':' ? two_digits(p + 4) : -1;
            if (zh < 0 || zh > 14 || zm < 0 || zm > 59)
                return APR_EINVAL;
            zone = (*p == '+' ? 1 : -1) * (zh * 3600L + zm * 60L);
            p += 6;
        } else {
            return APR_EINVAL; /* a time needs its zone: whose nine o'clock? */
        }
        if (*p)
            return APR_EINVAL;
    }
    *day = d;
    *at = stp_date_to_time(d) + apr_time_from_sec(secs - zone);
    return APR_SUCCESS;
}

void stp_date_format_moment(char *out, apr_time_t t)
{
    apr_time_exp_t tm;
    apr_time_exp_gmt(&tm, t);
    stp_date_format_iso(out, stp_date_from_time(t));
    unsigned h = (unsigned)tm.tm_hour % 100u, m = (unsigned)tm.tm_min % 100u, s = (unsigned)tm.tm_sec % 100u;
    out[10] = 'T';
    out[11] = (char)('0' + h / 10);
    out[12] = (char)('0' + h % 10);
    out[13] = ':';
    out[14] = (char)('0' + m / 10);
    out[15] = (char)('0' + m % 10);
    out[16] = ':';
    out[17] = (char)('0' + s / 10);
    out[18] = (char)('0' + s % 10);
    out[19] = 'Z';
    out[20] = '\0';
}
