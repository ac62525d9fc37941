/*
 * Credential arithmetic through the C ABI: the vectors of the protocol
 * digest §5.6 (A-F), bad nonces and short output buffers.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "omadm.h"

#define S(lit)  lit, sizeof(lit) - 1

static void
expect_digest(const char *inner, const char *nonce_b64, const char *want)
{
    char    out[64];
    size_t  len = 0;

    assert_int_equal(omadm_auth_md5_digest(inner, strlen(inner), nonce_b64,
                         strlen(nonce_b64), out, sizeof(out), &len),
                     OMADM_OK);
    assert_string_equal(out, want);
    assert_int_equal(len, strlen(want));
}

static void
expect_inner(const char *user, const char *pass, const char *want)
{
    char    out[64];
    size_t  len = 0;

    assert_int_equal(omadm_auth_md5_inner(user, strlen(user), pass,
                         strlen(pass), out, sizeof(out), &len),
                     OMADM_OK);
    assert_string_equal(out, want);
    assert_int_equal(len, 24);
}

/* A: basic */
static void
test_vector_a_basic(void **state)
{
    char    out[64];
    size_t  len = 0;

    (void) state;
    assert_int_equal(omadm_auth_basic(S("dev1"), S("secret"), out,
                         sizeof(out), &len), OMADM_OK);
    assert_string_equal(out, "ZGV2MTpzZWNyZXQ=");
    assert_int_equal(len, 16);
}

/* B: md5 with a binary nonce; hashing the base64 text is the classic bug */
static void
test_vector_b_md5_binary_nonce(void **state)
{
    (void) state;
    expect_inner("dev1", "secret", "5JCaBwg5UOKeo+yimuXGew==");
    expect_digest("5JCaBwg5UOKeo+yimuXGew==", "00qRAH8Q7kJbLIgZwP8zpw==",
                  "TQMT1Y62qXyh7tF3TZ5l7Q==");

    /* the nonce whose bytes are the text "00qRAH8Q7kJbLIgZwP8zpw==" */
    expect_digest("5JCaBwg5UOKeo+yimuXGew==",
                  "MDBxUkFIOFE3a0piTElnWndQOHpwdz09",
                  "GToQIbyDUq5/teIK2Gm/uw==");
}

/* C: the OMA specification's own example */
static void
test_vector_c_oma_example(void **state)
{
    char    inner[64];

    (void) state;
    assert_int_equal(omadm_auth_md5_inner(S("Bruce2"), S("OhBehave"), inner,
                         sizeof(inner), NULL), OMADM_OK);
    expect_digest(inner, "Tm9uY2U=", "Zz6EivR3yeaaENcRN6lpAQ==");
}

/* D: all-zero nonce */
static void
test_vector_d_zero_nonce(void **state)
{
    (void) state;
    expect_digest("5JCaBwg5UOKeo+yimuXGew==", "AAAAAAAAAAAAAAAAAAAAAA==",
                  "kNIrAXVrz2UMv6fMEErT4g==");
}

/* E: server credential toward the device */
static void
test_vector_e_server_cred(void **state)
{
    (void) state;
    expect_inner("dm.example.com", "srvsecret", "wDGTSxGnVP/fNkcMNfd+3A==");
    expect_digest("wDGTSxGnVP/fNkcMNfd+3A==", "AQIDBAUGBwgJCgsMDQ4PEA==",
                  "X+Fastf1g83O2s2+RSKSVg==");
}

/* F: next-session nonce of the §8 example */
static void
test_vector_f_next_nonce(void **state)
{
    (void) state;
    expect_digest("5JCaBwg5UOKeo+yimuXGew==", "jx4tPEtaaXiHlqW0w9Lh8A==",
                  "pxbAyEsbHiKuaauurZlVsA==");
}

/* surrounding whitespace in a wire nonce is tolerated */
static void
test_nonce_whitespace(void **state)
{
    (void) state;
    expect_digest("5JCaBwg5UOKeo+yimuXGew==",
                  "\r\n 00qRAH8Q7kJbLIgZwP8zpw== \n",
                  "TQMT1Y62qXyh7tF3TZ5l7Q==");
}

static void
test_bad_nonce_refused(void **state)
{
    static const char *bad[] = {
        "00qRAH8Q7kJbLIgZwP8zpw=",     /* length not a multiple of 4 */
        "00qRAH8Q7kJbLIgZwP8zpw",      /* padding missing */
        "00qRAH8Q7kJb LIgZwP8zpw==",   /* space inside */
        "00qRAH8Q7kJbLIgZwP8zp===",    /* too much padding */
        "00qRAH8Q7kJbLIgZwP8z-w==",    /* URL-safe alphabet */
        "00qR=H8Q7kJbLIgZwP8zpw==",    /* padding in the middle */
        "AB==AAAA",                    /* padding before the end */
        "AB==",                        /* non-zero trailing bits */
        "!!!!",
    };
    char    out[64];
    size_t  i;

    (void) state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(omadm_auth_md5_digest(S("5JCaBwg5UOKeo+yimuXGew=="),
                             bad[i], strlen(bad[i]), out, sizeof(out), NULL),
                         OMADM_EINVAL);
    }
}

static void
test_short_buffer_refused(void **state)
{
    char    out[25];
    size_t  len = 0;

    (void) state;
    /* a 24-character result needs 25 bytes with its NUL */
    assert_int_equal(omadm_auth_md5_inner(S("dev1"), S("secret"), out, 24,
                         &len), OMADM_EINVAL);
    assert_int_equal(omadm_auth_md5_digest(S("5JCaBwg5UOKeo+yimuXGew=="),
                         S("00qRAH8Q7kJbLIgZwP8zpw=="), out, 24, &len),
                     OMADM_EINVAL);
    assert_int_equal(omadm_auth_basic(S("dev1"), S("secret"), out, 16, &len),
                     OMADM_EINVAL);
    assert_int_equal(omadm_auth_basic(S("dev1"), S("secret"), NULL, 0, &len),
                     OMADM_EINVAL);
    assert_int_equal(omadm_auth_md5_inner(S("dev1"), S("secret"), out, 25,
                         &len), OMADM_OK);
    assert_string_equal(out, "5JCaBwg5UOKeo+yimuXGew==");
}

static void
test_null_input_refused(void **state)
{
    char    out[64];

    (void) state;
    assert_int_equal(omadm_auth_basic(NULL, 3, S("x"), out, sizeof(out),
                         NULL), OMADM_EINVAL);
    /* NULL with length 0 is an empty string */
    assert_int_equal(omadm_auth_basic(NULL, 0, NULL, 0, out, sizeof(out),
                         NULL), OMADM_OK);
    assert_string_equal(out, "Og==");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector_a_basic),
        cmocka_unit_test(test_vector_b_md5_binary_nonce),
        cmocka_unit_test(test_vector_c_oma_example),
        cmocka_unit_test(test_vector_d_zero_nonce),
        cmocka_unit_test(test_vector_e_server_cred),
        cmocka_unit_test(test_vector_f_next_nonce),
        cmocka_unit_test(test_nonce_whitespace),
        cmocka_unit_test(test_bad_nonce_refused),
        cmocka_unit_test(test_short_buffer_refused),
        cmocka_unit_test(test_null_input_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
