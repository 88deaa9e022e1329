/* stp_hash: libcrypto's SHA-256 and HMAC-SHA256 behind the helper, on published vectors. */
#include <string.h>

#include "stp_hash.h"
#include "tests.h"

/* The digest of len bytes fed in odd-sized pieces (1, 4, 13, ...: crossing block boundaries). */
static void streamed_hex(char out[STP_HASH_HEX_LEN + 1], stp_hash_t *h, const char *data, size_t len)
{
    unsigned char md[STP_HASH_LEN];
    for (size_t off = 0, step = 1; off < len; off += step, step = step * 3 % 67 + 1)
        stp_hash_update(h, data + off, off + step > len ? len - off : step);
    stp_hash_final(md, h);
    stp_hash_hex(out, md, sizeof md);
}

/* FIPS 180-4 examples (NIST's SHA256.pdf), and the empty message. */
START_TEST(test_vectors)
{
    static const struct {
        const char *msg, *hex;
    } v[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", /* 448 bits */
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    };
    char hex[STP_HASH_HEX_LEN + 1];
    stp_hash_t *h = stp_hash_new();
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        stp_hash_sha256_hex(hex, v[i].msg, strlen(v[i].msg));
        ck_assert_str_eq(hex, v[i].hex);
        /* the same context, reused after each final */
        streamed_hex(hex, h, v[i].msg, strlen(v[i].msg));
        ck_assert_str_eq(hex, v[i].hex);
    }
    stp_hash_free(h);
}
END_TEST

/* One million 'a' (FIPS 180-2's long message), streamed in odd pieces. */
START_TEST(test_million)
{
    static char buf[1000000];
    char hex[STP_HASH_HEX_LEN + 1];
    memset(buf, 'a', sizeof buf);
    stp_hash_t *h = stp_hash_new();
    streamed_hex(hex, h, buf, sizeof buf);
    stp_hash_free(h);
    ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    stp_hash_sha256_hex(hex, buf, sizeof buf);
    ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
END_TEST

/* RFC 4231, HMAC-SHA256 of test cases 1, 2, 6 and 7 (6 and 7: a key longer than the block). */
START_TEST(test_hmac)
{
    unsigned char k20[20], k131[131], mac[STP_HASH_LEN];
    char hex[STP_HASH_HEX_LEN + 1];
    memset(k20, 0x0b, sizeof k20);
    memset(k131, 0xaa, sizeof k131);
    const struct {
        const void *key;
        size_t klen;
        const char *msg, *hex;
    } v[] = {
        {k20, sizeof k20, "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {"Jefe", 4, "what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {k131, sizeof k131, "Test Using Larger Than Block-Size Key - Hash Key First",
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
        {k131, sizeof k131,
         "This is a test using a larger than block-size key and a larger than block-size data. The key needs "
         "to be hashed before being used by the HMAC algorithm.",
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        stp_hash_hmac_sha256(mac, v[i].key, v[i].klen, v[i].msg, strlen(v[i].msg));
        stp_hash_hex(hex, mac, sizeof mac);
        ck_assert_str_eq(hex, v[i].hex);
    }
}
END_TEST

START_TEST(test_hex)
{
    static const unsigned char in[] = {0x00, 0x0f, 0xa5, 0xff};
    char hex[9];
    stp_hash_hex(hex, in, sizeof in);
    ck_assert_str_eq(hex, "000fa5ff");
    stp_hash_hex(hex, in, 0);
    ck_assert_str_eq(hex, "");
}
END_TEST

Suite *hash_suite(void)
{
    Suite *s = suite_create("hash");
    TCase *tc = tcase_create("sha256");
    tcase_add_test(tc, test_vectors);
    tcase_add_test(tc, test_million);
    tcase_add_test(tc, test_hmac);
    tcase_add_test(tc, test_hex);
    suite_add_tcase(s, tc);
    return s;
}
