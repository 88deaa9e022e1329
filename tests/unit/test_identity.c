/* Identity from claims, CSRF tokens, return targets. */
#include <string.h>

#include <apr_strings.h>

#include "stp_csrf.h"
#include "stp_identity.h"
#include "stp_preview.h"
#include "tests.h"

static const char *table_claim(void *baton, const char *name)
{
    return apr_table_get(baton, name);
}

START_TEST(test_claims)
{
    apr_pool_t *pool;
    apr_pool_create(&pool, NULL);
    apr_array_header_t *consumer = apr_array_make(pool, 1, sizeof(const char *));
    APR_ARRAY_PUSH(consumer, const char *) = "9188040d-6c67-4c5b-b112-36a304b66dad";
    stp_claims_map_t map = {"sub",         "iss",    "tid", "email", "roles",
                            "GlobalAdmin", consumer, NULL,  "roles", "PortalStaff"};
    apr_table_t *c = apr_table_make(pool, 8);
    stp_user_t u;
    const char *email;

    stp_identity_from_claims(&u, &email, &map, table_claim, c, pool);
    ck_assert_ptr_null(u.key); /* anonymous */

    apr_table_set(c, "sub", "alice");
    apr_table_set(c, "iss", "https://idp.test");
    apr_table_set(c, "email", "alice@contoso.test");
    stp_identity_from_claims(&u, &email, &map, table_claim, c, pool);
    ck_assert_str_eq(u.key, "https://idp.test|alice");
    ck_assert_ptr_null(u.tenant); /* personal: no tenant */
    ck_assert_str_eq(email, "alice@contoso.test");

    apr_table_set(c, "tid", "9188040d-6c67-4c5b-b112-36a304b66dad");
    stp_identity_from_claims(&u, NULL, &map, table_claim, c, pool);
    ck_assert_ptr_null(u.tenant); /* personal: the consumer tenant */

    apr_table_set(c, "tid", "contoso");
    apr_table_set(c, "roles", "Reader, GlobalAdministrator");
    stp_identity_from_claims(&u, NULL, &map, table_claim, c, pool);
    ck_assert_str_eq(u.tenant, "contoso");
    ck_assert_int_eq(u.tenant_admin, 0); /* whole items only */
    apr_table_set(c, "roles", "Reader,GlobalAdmin");
    stp_identity_from_claims(&u, NULL, &map, table_claim, c, pool);
    ck_assert_int_eq(u.tenant_admin, 1);
    ck_assert_int_eq(u.staff, 0);
    apr_table_set(c, "roles", "PortalStaff");
    stp_identity_from_claims(&u, NULL, &map, table_claim, c, pool);
    ck_assert_int_eq(u.tenant_admin, 0);
    ck_assert_int_eq(u.staff, 1); /* staff of any organisation, or none */
    apr_table_unset(c, "tid");
    stp_identity_from_claims(&u, NULL, &map, table_claim, c, pool);
    ck_assert_int_eq(u.staff, 1);
    apr_pool_destroy(pool);
}
END_TEST

/* RFC 4231 test case 2 */
/* email_verified as mod_auth_openidc passes a JSON boolean ("1"/"0" or "true"/"false"). */
START_TEST(test_email_verified)
{
    apr_pool_t *pool;
    apr_pool_create(&pool, NULL);
    stp_claims_map_t map = {"sub", "iss", "tid", "email", NULL, NULL, NULL, NULL, NULL, NULL};
    apr_table_t *c = apr_table_make(pool, 4);
    ck_assert_int_eq(stp_identity_email_verified(&map, table_claim, c), 1); /* absent: the provider's own */
    static const struct {
        const char *value;
        int verified;
    } cases[] = {{"1", 1},     {"true", 1}, {"True", 1}, {"0", 0},  {"false", 0},
                 {"FALSE", 0}, {"no", 0},   {"yes", 0},  {"10", 0}, {"", 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        apr_table_set(c, "email_verified", cases[i].value);
        ck_assert_msg(stp_identity_email_verified(&map, table_claim, c) == cases[i].verified, "%s", cases[i].value);
    }
    /* Another claim name when configured. */
    map.email_verified_claim = "xms_edov";
    apr_table_set(c, "email_verified", "true");
    apr_table_set(c, "xms_edov", "false");
    ck_assert_int_eq(stp_identity_email_verified(&map, table_claim, c), 0);
    apr_pool_destroy(pool);
}
END_TEST

/* A pinned token (Python's hmac agrees): the SHA-256 and HMAC underneath may change, the tokens
 * may not, or those issued by one build fail on the next. */
START_TEST(test_csrf_pinned)
{
    apr_pool_t *pool;
    apr_pool_create(&pool, NULL);
    const unsigned char secret[] = "0123456789abcdef0123456789abcdef";
    const char *s1 = "00112233445566778899aabbccddeeff";
    apr_time_t now = apr_time_from_sec(1790000000);
    const char *want = "000000006ab13b80c50889bf97f7586c67e3e0e96a539cf8200035503b8a7742c9174027f45874d9";
    ck_assert_str_eq(stp_csrf_token(secret, 32, "https://idp.test|alice", s1, "nda", now, pool), want);
    ck_assert_int_eq(stp_csrf_check(secret, 32, "https://idp.test|alice", s1, "nda", want, now, pool), 1);
    apr_pool_destroy(pool);
}
END_TEST

START_TEST(test_csrf)
{
    apr_pool_t *pool;
    apr_pool_create(&pool, NULL);
    const unsigned char secret[] = "0123456789abcdef0123456789abcdef";
    const char *s1 = "00112233445566778899aabbccddeeff", *s2 = "ffeeddccbbaa99887766554433221100";
    apr_time_t now = apr_time_from_sec(1790000000);
    const char *t = stp_csrf_token(secret, 32, "iss|alice", s1, "nda", now, pool);
    ck_assert_int_eq(strlen(t), 80);
    ck_assert_int_eq(stp_csrf_check(secret, 32, "iss|alice", s1, "nda", t, now, pool), 1);
    ck_assert_int_eq(stp_csrf_check(secret, 32, "iss|bob", s1, "nda", t, now, pool), 0);       /* another user */
    ck_assert_int_eq(stp_csrf_check(secret, 32, "iss|alice", s1, "library", t, now, pool), 0); /* another form */
    ck_assert_int_eq(stp_csrf_check(secret, 32, "iss|alice", s2, "nda", t, now, pool), 0);     /* another session */
    ck_assert_int_eq(stp_csrf_check(secret, 32, "iss|alice", NULL, "nda", t, now, pool), 0);   /* no session */
    ck_assert_int_eq(stp_csrf_check((const unsigned char *)"other secret", 12, "iss|alice", s1, "nda", t, now, pool),
                     0);
    ck_assert_int_eq(stp_csrf_check(secret, 32, "iss|alice", s1, "nda", NULL, now, pool), 0);
    ck_assert_int_eq(stp_csrf_check(secret, 32, "iss|alice", s1, "nda", "", now, pool), 0);
    char *wrong = apr_pstrdup(pool, t);
    wrong[79] = wrong[79] == '0' ? '1' : '0';
    ck_assert_int_eq(stp_csrf_check(secret, 32, "iss|alice", s1, "nda", wrong, now, pool), 0);
    ck_assert_int_eq(stp_csrf_check(secret, 32, "iss|alice", s1, "nda", apr_pstrcat(pool, t, "0", NULL), now, pool), 0);
    /* The issue time is under the MAC: moving it forward does not extend a token's life. */
    char *later = apr_pstrdup(pool, t);
    later[15] = later[15] == 'f' ? 'e' : (char)(later[15] + 1);
    ck_assert_int_eq(stp_csrf_check(secret, 32, "iss|alice", s1, "nda", later, now, pool), 0);
    /* Expiry: valid through its lifetime, refused a second after; refused when issued in the future. */
    ck_assert_int_eq(stp_csrf_check(secret, 32, "iss|alice", s1, "nda", t, now + STP_CSRF_LIFETIME, pool), 1);
    ck_assert_int_eq(
        stp_csrf_check(secret, 32, "iss|alice", s1, "nda", t, now + STP_CSRF_LIFETIME + apr_time_from_sec(1), pool), 0);
    ck_assert_int_eq(stp_csrf_check(secret, 32, "iss|alice", s1, "nda", t, now - apr_time_from_sec(3600), pool), 0);
    /* Session values: 32 lowercase hex digits, fresh each time. */
    const char *a, *b;
    ck_assert_int_eq(stp_csrf_session_new(&a, pool), APR_SUCCESS);
    ck_assert_int_eq(stp_csrf_session_new(&b, pool), APR_SUCCESS);
    ck_assert_int_eq(stp_csrf_session_ok(a), 1);
    ck_assert_str_ne(a, b);
    ck_assert_int_eq(stp_csrf_session_ok("00112233445566778899AABBCCDDEEFF"), 0);
    ck_assert_int_eq(stp_csrf_session_ok("0011; Path=/"), 0);
    ck_assert_int_eq(stp_csrf_session_ok(NULL), 0);
    apr_pool_destroy(pool);
}
END_TEST

START_TEST(test_return_targets)
{
    ck_assert_int_eq(stp_identity_return_ok("/download/soc2-2025?lang=de"), 1);
    ck_assert_int_eq(stp_identity_return_ok("/"), 1);
    static const char *const bad[] = {
        "//evil.test/",       "/\\evil.test", "https://evil.test/", "evil.test", "/a\r\nSet-Cookie: x=y", "/a\\b", "",
        "javascript:alert(1)"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!stp_identity_return_ok(bad[i]), "accepted %s", bad[i]);
    ck_assert_int_eq(stp_identity_return_ok(NULL), 0);
}
END_TEST

typedef struct {
    const stp_preview_t *p;
    const stp_claims_map_t *map;
} preview_baton_t;

/* As mod_stp_request.c's claim reader does under StpPreview On. */
static const char *preview_claim(void *baton, const char *name)
{
    preview_baton_t *b = baton;
    return stp_preview_claim(b->p, b->map, name);
}

/* The preview bar's choices: what parses, and the claims they become under a claims map. */
START_TEST(test_preview_identity)
{
    apr_pool_t *pool;
    apr_pool_create(&pool, NULL);
    stp_claims_map_t map = {"sub", "iss", "tid", "email", "roles", "GlobalAdmin", NULL, NULL, NULL, NULL};
    static const char *const bad[] = {
        "",          "member",       "member.",  "member.t1.",       "member.t1.ndax", "admin.t 1", "member.t1/../x",
        "Anonymous", "personal.nda", "staff.t1", "member.t1.nda.nda"};
    stp_preview_t p;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(stp_preview_parse(&p, bad[i], pool) == APR_EINVAL, "accepted %s", bad[i]);
        ck_assert_int_eq(p.kind, STP_PREVIEW_ANONYMOUS);
        ck_assert_ptr_null(p.sub);
    }
    ck_assert_int_eq(stp_preview_parse(&p, NULL, pool), APR_EINVAL);

    ck_assert_int_eq(stp_preview_parse(&p, "anonymous", pool), APR_SUCCESS);
    ck_assert_ptr_null(stp_preview_claim(&p, &map, "sub"));
    ck_assert_ptr_null(stp_preview_claim(&p, &map, "iss"));

    ck_assert_int_eq(stp_preview_parse(&p, "admin.contoso.nda", pool), APR_SUCCESS);
    ck_assert_str_eq(stp_preview_format(&p, pool), "admin.contoso.nda");
    ck_assert_str_eq(stp_preview_claim(&p, &map, "sub"), "preview-admin-contoso-nda");
    ck_assert_str_eq(stp_preview_claim(&p, &map, "iss"), STP_PREVIEW_ISSUER);
    ck_assert_str_eq(stp_preview_claim(&p, &map, "tid"), "contoso");
    ck_assert_str_eq(stp_preview_claim(&p, &map, "roles"), "GlobalAdmin");
    ck_assert_str_eq(stp_preview_claim(&p, &map, "email_verified"), "true");
    ck_assert_ptr_null(stp_preview_claim(&p, &map, "licence"));

    /* Through the identity code, as the module does: a member, no admin. */
    stp_user_t u;
    const char *email;
    ck_assert_int_eq(stp_preview_parse(&p, "member.contoso", pool), APR_SUCCESS);
    stp_identity_from_claims(&u, &email, &map, preview_claim, &(preview_baton_t){&p, &map}, pool);
    ck_assert_str_eq(u.key, STP_PREVIEW_ISSUER "|preview-member-contoso");
    ck_assert_str_eq(u.tenant, "contoso");
    ck_assert_int_eq(u.tenant_admin, 0);
    ck_assert_str_eq(email, "preview-member-contoso@preview.invalid");
    ck_assert_int_eq(stp_preview_parse(&p, "personal", pool), APR_SUCCESS);
    stp_identity_from_claims(&u, &email, &map, preview_claim, &(preview_baton_t){&p, &map}, pool);
    ck_assert_ptr_nonnull(u.key);
    ck_assert_ptr_null(u.tenant);
    apr_pool_destroy(pool);
}
END_TEST

START_TEST(test_preview_loopback)
{
    apr_pool_t *pool;
    apr_pool_create(&pool, NULL);
    static const char *const yes[] = {"127.0.0.1", "127.255.0.9", "::1", "::ffff:127.0.0.1"};
    static const char *const no[] = {"128.0.0.1", "126.255.255.255", "0.0.0.0",          "10.0.0.1",    "192.0.2.2",
                                     "::",        "fd00::2",         "::ffff:192.0.2.2", "::127.0.0.1", "fe80::1"};
    apr_sockaddr_t *sa;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        ck_assert_int_eq(apr_sockaddr_info_get(&sa, yes[i], APR_UNSPEC, 80, 0, pool), APR_SUCCESS);
        ck_assert_msg(stp_preview_loopback(sa), "%s is loopback", yes[i]);
    }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        ck_assert_int_eq(apr_sockaddr_info_get(&sa, no[i], APR_UNSPEC, 80, 0, pool), APR_SUCCESS);
        ck_assert_msg(!stp_preview_loopback(sa), "%s is not loopback", no[i]);
    }
    ck_assert_int_eq(stp_preview_loopback(NULL), 0);
    apr_pool_destroy(pool);
}
END_TEST

Suite *identity_suite(void)
{
    Suite *s = suite_create("identity");
    TCase *tc = tcase_create("identity");
    tcase_add_test(tc, test_claims);
    tcase_add_test(tc, test_email_verified);
    tcase_add_test(tc, test_csrf_pinned);
    tcase_add_test(tc, test_csrf);
    tcase_add_test(tc, test_return_targets);
    tcase_add_test(tc, test_preview_identity);
    tcase_add_test(tc, test_preview_loopback);
    suite_add_tcase(s, tc);
    return s;
}
