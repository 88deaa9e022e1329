#include <string.h>

#include "stp_sha256.h"
#include "stp_sha256_int.h"
#include "tests.h"

START_TEST(test_vectors)
{
    char hex[65];
    stp_sha256_hex(hex, "", 0);
    ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    stp_sha256_hex(hex, "abc", 3);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    stp_sha256_hex(hex, two, strlen(two));
    ck_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}
END_TEST

/* Feeding in odd-sized pieces must give the one-shot digest (block boundaries). */
START_TEST(test_incremental)
{
    static char buf[1000];
    char one[65], inc[65];
    unsigned char md[32];
    stp_sha256_t ctx;
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (char)(i * 7 + 3);
    stp_sha256_hex(one, buf, sizeof buf);
    stp_sha256_init(&ctx);
    for (size_t off = 0, step = 1; off < sizeof buf; off += step, step = step * 3 % 67 + 1)
        stp_sha256_update(&ctx, buf + off, off + step > sizeof buf ? sizeof buf - off : step);
    stp_sha256_final(md, &ctx);
    stp_hex_encode(inc, md, 32);
    ck_assert_str_eq(one, inc);
}
END_TEST

/* One million 'a': the long-message vector of FIPS 180-2. */
START_TEST(test_million)
{
    static char buf[1000];
    unsigned char md[32];
    char hex[65];
    stp_sha256_t ctx;
    memset(buf, 'a', sizeof buf);
    stp_sha256_init(&ctx);
    for (int i = 0; i < 1000; i++)
        stp_sha256_update(&ctx, buf, sizeof buf);
    stp_sha256_final(md, &ctx);
    stp_hex_encode(hex, md, 32);
    ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
END_TEST

/* The CPU's SHA instructions and the portable rounds agree on every block and chain length. On a
 * CPU without them there is only one implementation, which the vectors above check. */
START_TEST(test_accel_matches_portable)
{
    static unsigned char buf[64 * 40];
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < sizeof buf; i++) { /* xorshift: arbitrary, reproducible bytes */
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        buf[i] = (unsigned char)x;
    }
    for (size_t n = 1; n <= 40; n++) {
        uint32_t a[8], b[8];
        for (int i = 0; i < 8; i++)
            a[i] = b[i] = 0x01020304u * (uint32_t)(i + 1) + (uint32_t)n;
        stp_sha256_blocks_portable(a, buf, n);
        if (!stp_sha256_blocks_accel(b, buf, n))
            return;
        ck_assert_mem_eq(a, b, sizeof a);
    }
}
END_TEST

Suite *sha256_suite(void)
{
    Suite *s = suite_create("sha256");
    TCase *tc = tcase_create("digest");
    tcase_add_test(tc, test_vectors);
    tcase_add_test(tc, test_incremental);
    tcase_add_test(tc, test_accel_matches_portable);
    tcase_add_test(tc, test_million);
    suite_add_tcase(s, tc);
    return s;
}
