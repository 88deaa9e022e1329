/* state_fill: a rich state through libstp's own functions, for the migration tests
 * (tests/integration/statemigrate.py): users, NDA acceptances with their log, libraries, digest
 * records, notification settings, organisations with people and their change log, and feedback
 * with awkward text (quotes, backslashes, line breaks, tabs, non-ASCII).
 *
 *   state_fill DIR   fills DIR/state.mdb (created when missing)
 */
#include <stdio.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "stp_digest.h"
#include "stp_feedback.h"
#include "stp_library.h"
#include "stp_notify.h"
#include "stp_org.h"
#include "stp_state.h"

#define T0 ((apr_time_t)1700000000 * APR_USEC_PER_SEC)

static int failed;

static void check(apr_status_t rv, const char *what)
{
    if (rv != APR_SUCCESS) {
        char buf[256];
        fprintf(stderr, "state_fill: %s: %s\n", what, apr_strerror(rv, buf, sizeof buf));
        failed = 1;
    }
}

static apr_array_header_t *tags(apr_pool_t *pool, const char *a, const char *b)
{
    apr_array_header_t *t = apr_array_make(pool, 2, sizeof(const char *));
    if (a)
        APR_ARRAY_PUSH(t, const char *) = a;
    if (b)
        APR_ARRAY_PUSH(t, const char *) = b;
    return t;
}

int main(int argc, char **argv)
{
    apr_pool_t *pool;
    stp_state_t *st;
    if (argc != 2) {
        fprintf(stderr, "usage: state_fill DIR\n");
        return 2;
    }
    apr_app_initialize(&argc, (const char *const **)&argv, NULL);
    apr_pool_create(&pool, NULL);
    stp_state_options_t opts = {0};
    check(stp_state_open(&st, argv[1], &opts, pool), "open");
    if (failed)
        return 1;

    /* users: a personal account, members of two organisations, a key with non-ASCII and a quote */
    const char *users[] = {"alice@idp", "bob@idp", "carol \"c\" \xc3\xa9\xe6\x97\xa5@idp", "dave\\d@idp"};
    const char *tenants[] = {"", "acme", "acme", "globex"};
    for (int i = 0; i < 4; i++) {
        stp_user_record_t u = {tenants[i],
                               apr_psprintf(pool, "user%d@%s.example", i, *tenants[i] ? tenants[i] : "home"),
                               i != 1,
                               T0 + i,
                               i == 2,
                               i == 3,
                               i == 2 ? "clearance\tsecret\nregion\t\xc3\x9c"
                                        "ber \"all\"\n"
                                      : ""};
        check(stp_state_user_note(st, users[i], &u, NULL), "user");
    }

    /* NDA acceptances (and so the log), one accepted twice: the log has it once */
    check(stp_state_nda_accept(st, users[1], "acme", "v1", T0 + 10), "nda");
    check(stp_state_nda_accept(st, users[2], "acme", "v1", T0 + 11), "nda");
    check(stp_state_nda_accept(st, users[2], "acme", "v2 \xe2\x80\x94 2026", T0 + 12), "nda");
    check(stp_state_nda_accept(st, users[3], "globex", "v1", T0 + 13), "nda");
    check(stp_state_nda_accept(st, users[1], "acme", "v1", T0 + 14), "nda again");

    /* libraries, then a digest that records what it told (seen) and when (last_digest) */
    const char *series[] = {"soc", "iso27001", "pentest"};
    for (int u = 0; u < 4; u++)
        for (int s = 0; s <= u && s < 3; s++) {
            stp_saved_t e = {series[s], apr_psprintf(pool, "%s-2025", series[s]), "",
                             "fp0000000000000"
                             "0",
                             T0 + 100 + s};
            check(stp_library_save(st, users[u], &e), "library");
        }
    for (int u = 0; u < 3; u++) {
        stp_notify_t n = {(stp_freq_t)(u + 1), apr_psprintf(pool, "digest%d@example.test", u), u == 1 ? "de" : "",
                          tenants[u], 0};
        check(stp_notify_put(st, users[u], &n), "notify");
    }
    apr_array_header_t *told = apr_array_make(pool, 1, sizeof(stp_saved_t));
    *(stp_saved_t *)apr_array_push(told) = (stp_saved_t){"soc", "soc-2025",
                                                         "fp1111111111111"
                                                         "1",
                                                         "", 0};
    check(stp_digest_record(st, users[1], T0 + 500, told), "digest");

    /* organisations: settings (then the mode alone), people added, changed, revoked, an administrator */
    stp_org_actor_t admin = {users[2], "user2@acme.example", STP_ROLE_ADMINISTRATOR, 0};
    stp_org_actor_t staff = {"staff@idp", NULL, STP_ROLE_NONE, 1};
    stp_org_settings_t s1 = {STP_ORG_MODE_DEFAULT, tags(pool, "finance", "health"), tags(pool, "eu", NULL)};
    check(stp_org_settings_put(st, "acme", &s1, &admin, T0 + 200), "settings");
    stp_org_settings_t s2 = {STP_ORG_MODE_ASSIGNED, s1.industries, s1.regions};
    check(stp_org_settings_put(st, "acme", &s2, &admin, T0 + 201), "mode");
    stp_org_settings_t s3 = {STP_ORG_MODE_OPEN, tags(pool, NULL, NULL), tags(pool, "apac", "us")};
    check(stp_org_settings_put(st, "globex", &s3, &staff, T0 + 202), "settings");
    check(stp_org_administrator_note(st, "acme", "user2@acme.example", 1, T0 + 203, NULL), "administrator");
    check(stp_org_person_put(st, "acme", "user1@acme.example", STP_ROLE_USER, &admin, T0 + 204), "add");
    check(stp_org_person_put(st, "acme", "user1@acme.example", STP_ROLE_ADMIN, &admin, T0 + 205), "role");
    check(stp_org_person_put(st, "acme", "gone@acme.example", STP_ROLE_USER, &admin, T0 + 206), "add");
    check(stp_org_person_revoke(st, "acme", "gone@acme.example", &admin, T0 + 207), "revoke");
    check(stp_org_person_put(st, "globex", "user3@globex.example", STP_ROLE_USER, &staff, T0 + 208), "add");

    /* feedback: answers, a comment that follows one, awkward comments, anonymous and signed-in */
    apr_uint64_t seq, first = 0;
    const char *comments[] = {
        "",
        "Quotes \"double\" and 'single', a backslash \\ and a slash /",
        "Lines:\nsecond line\r\nthird\twith a tab",
        "Non-ASCII: \xc3\xa9\xc3\xa8 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x8e\x89 \xe2\x80\xa8 end",
        "{\"kind\":\"trailer\"} looks like JSON\n",
    };
    for (int i = 0; i < 5; i++) {
        stp_feedback_t e = {0,
                            T0 + 300 + i,
                            i % 2 ? "/en/docs/soc/" : "/de/docs/iso27001/",
                            i % 2 ? "en" : "de",
                            i == 0   ? "yes"
                            : i == 4 ? "no"
                                     : "",
                            comments[i],
                            i == 3 ? "" : users[i % 4],
                            0};
        stp_feedback_rate_t rate = {"192.0.2.7", 100, 3600 * APR_USEC_PER_SEC};
        check(stp_feedback_add(&seq, st, &e, NULL, i == 3 ? &rate : NULL), "feedback");
        if (i == 0)
            first = seq;
    }
    stp_feedback_t follow = {0, T0 + 400, "/de/docs/iso27001/", "de", "", "after my \"yes\"", users[0], first};
    check(stp_feedback_add(&seq, st, &follow, NULL, NULL), "feedback ref");

    stp_state_close(st);
    apr_pool_destroy(pool);
    apr_terminate();
    return failed;
}
