/*
 * syncml:auth-MAC through the C ABI: the MAC of vector G (protocol digest
 * §5.5/§5.6) and the x-syncml-hmac header parser, accepted forms and the
 * refusals with their reasons.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "omadm.h"

#define S(lit)  lit, sizeof(lit) - 1

#define INNER   "5JCaBwg5UOKeo+yimuXGew=="          /* dev1:secret */
#define NONCE_B "00qRAH8Q7kJbLIgZwP8zpw=="          /* vector B bytes */
#define MAC_G   "eOkDEra8CqnJta/glTxUAw=="

/* vector G body: 364 bytes, no newline, no XML declaration */
static const char body_g[] =
    "<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr><VerDTD>1.2</VerDTD>"
    "<VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID>"
    "<Target><LocURI>https://dm.example.com/omadm</LocURI></Target>"
    "<Source><LocURI>IMEI:490154203237518</LocURI><LocName>dev1</LocName>"
    "</Source></SyncHdr><SyncBody><Alert><CmdID>1</CmdID><Data>1201</Data>"
    "</Alert><Final/></SyncBody></SyncML>";


static void
test_vector_g_mac(void **state)
{
    char    out[64];
    size_t  len = 0;

    (void) state;
    assert_int_equal(sizeof(body_g) - 1, 364);
    assert_int_equal(omadm_auth_hmac_mac(S(INNER), S(NONCE_B),
                         body_g, sizeof(body_g) - 1, out, sizeof(out), &len),
                     OMADM_OK);
    assert_string_equal(out, MAC_G);
    assert_int_equal(len, 24);

    /* not the RFC 2104 variant, and the nonce bytes, not its text */
    assert_string_not_equal(out, "Dz7Vlug4vTJlFl1p94bitw==");

    /* one body byte more changes the MAC */
    assert_int_equal(omadm_auth_hmac_mac(S(INNER), S(NONCE_B),
                         body_g, sizeof(body_g) - 2, out, sizeof(out), &len),
                     OMADM_OK);
    assert_string_not_equal(out, MAC_G);
}

static void
test_mac_bad_arguments(void **state)
{
    char    out[64];
    size_t  len = 0;

    (void) state;
    /* a nonce that is not base64 */
    assert_int_equal(omadm_auth_hmac_mac(S(INNER), S("00qRAH8Q7kJ"),
                         S("x"), out, sizeof(out), &len), OMADM_EINVAL);
    /* output one byte too small for 24 chars + NUL */
    assert_int_equal(omadm_auth_hmac_mac(S(INNER), S(NONCE_B),
                         body_g, sizeof(body_g) - 1, out, 24, &len),
                     OMADM_EINVAL);
    assert_int_equal(omadm_auth_hmac_mac(S(INNER), S(NONCE_B),
                         NULL, 5, out, sizeof(out), &len), OMADM_EINVAL);
    /* empty body and empty nonce are legal inputs */
    assert_int_equal(omadm_auth_hmac_mac(S(INNER), NULL, 0, NULL, 0,
                         out, sizeof(out), &len), OMADM_OK);
    assert_int_equal(len, 24);
}


static void
expect_header(const char *value, size_t len, const char *want)
{
    char    out[512];
    size_t  out_len = 0;
    int     rc;

    rc = omadm_hmac_header_parse(value, len, out, sizeof(out), &out_len);
    if (rc != OMADM_OK) {
        fail_msg("refused \"%.*s\": %s", (int) len, value, out);
    }
    assert_string_equal(out, want);
    assert_int_equal(out_len, strlen(want));
}

static void
expect_refused(const char *value, size_t len, const char *reason)
{
    char    out[512];
    size_t  out_len = 0;

    if (omadm_hmac_header_parse(value, len, out, sizeof(out), &out_len)
        != OMADM_EINVAL)
    {
        fail_msg("accepted \"%.*s\": %s", (int) len, value, out);
    }
    assert_string_equal(out, reason);
}

#define GOOD_G  "algorithm=MD5\nusername=dev1\nmac=" MAC_G "\n"

static void
test_header_accepted_forms(void **state)
{
    (void) state;
    /* the spec's form */
    expect_header(S("algorithm=MD5, username=\"dev1\", mac=" MAC_G), GOOD_G);
    /* any order, no spaces, unquoted, algorithm omitted or lower case */
    expect_header(S("mac=" MAC_G ",username=dev1"), GOOD_G);
    expect_header(S("username=dev1,mac=" MAC_G ",algorithm=md5"), GOOD_G);
    /* white space around '=' and ',', tabs, quoted mac and algorithm */
    expect_header(S("  Algorithm = \"MD5\" ,\tUserName =\t\"dev1\" , "
                    "MAC = \"" MAC_G "\"  "), GOOD_G);
    /* empty list elements, unknown parameters ignored */
    expect_header(S(",, username=dev1 ,, realm=\"x, y\", mac=" MAC_G ","),
                  GOOD_G);
    /* quoted user name with a space, an escaped quote and backslash */
    expect_header(S("username=\"Jo \\\"D\\\\\", mac=" MAC_G),
                  "algorithm=MD5\nusername=Jo \"D\\\nmac=" MAC_G "\n");
    /* UTF-8 user names pass through */
    expect_header(S("username=\"d\xc3\xa9v\", mac=" MAC_G),
                  "algorithm=MD5\nusername=d\xc3\xa9v\nmac=" MAC_G "\n");
}

static void
test_header_refused(void **state)
{
    char  big[1100];

    (void) state;
    expect_refused(S(""), "x-syncml-hmac: username missing");
    expect_refused(S("username=dev1, username=dev2, mac=" MAC_G),
                   "x-syncml-hmac: duplicate username");
    expect_refused(S("algorithm=MD5, username=dev1, ALGORITHM=MD5, mac="
                     MAC_G), "x-syncml-hmac: duplicate algorithm");
    expect_refused(S("username=dev1, mac=" MAC_G ", mac=" MAC_G),
                   "x-syncml-hmac: duplicate mac");
    expect_refused(S("algorithm=SHA1, username=dev1, mac=" MAC_G),
                   "x-syncml-hmac: unsupported algorithm");
    expect_refused(S("algorithm=, username=dev1, mac=" MAC_G),
                   "x-syncml-hmac: unsupported algorithm");
    expect_refused(S("username=\"\", mac=" MAC_G),
                   "x-syncml-hmac: username missing");
    expect_refused(S("username=dev1"), "x-syncml-hmac: mac missing");
    expect_refused(S("username=dev1, mac="), "x-syncml-hmac: mac missing");
    expect_refused(S("username=dev1, mac=eOkDEra8CqnJta/glTxUAw"),
                   "x-syncml-hmac: mac is not base64 of 16 bytes");
    expect_refused(S("username=dev1, mac=eOkDEra8CqnJ*a/glTxUAw=="),
                   "x-syncml-hmac: mac is not base64 of 16 bytes");
    expect_refused(S("username=dev1, mac=\" " MAC_G "\""),
                   "x-syncml-hmac: mac is not base64 of 16 bytes");
    expect_refused(S("username=dev1, mac=" MAC_G MAC_G MAC_G),
                   "x-syncml-hmac: mac too long");
    /* control characters, a NUL included */
    expect_refused(S("username=dev1,\r\nX-Evil: 1, mac=" MAC_G),
                   "x-syncml-hmac: control character");
    expect_refused(S("username=de\0v1, mac=" MAC_G),
                   "x-syncml-hmac: control character");
    expect_refused(S("username=de\x7fv1, mac=" MAC_G),
                   "x-syncml-hmac: control character");
    /* syntax */
    expect_refused(S("username=\"dev1, mac=" MAC_G),
                   "x-syncml-hmac: unterminated quoted value");
    expect_refused(S("username=\"dev1\\"),
                   "x-syncml-hmac: unterminated quoted value");
    expect_refused(S("username dev1, mac=" MAC_G),
                   "x-syncml-hmac: '=' expected after a parameter name");
    expect_refused(S("username=dev 1, mac=" MAC_G),
                   "x-syncml-hmac: ',' expected between parameters");
    expect_refused(S("username=\"dev1\"x, mac=" MAC_G),
                   "x-syncml-hmac: ',' expected between parameters");
    expect_refused(S("username=de\"v1, mac=" MAC_G),
                   "x-syncml-hmac: stray quote in a value");
    expect_refused(S("=dev1, mac=" MAC_G),
                   "x-syncml-hmac: parameter name expected");
    expect_refused(S("user;name=dev1, mac=" MAC_G),
                   "x-syncml-hmac: '=' expected after a parameter name");

    /* bounds: a 256-byte user name passes, 257 does not; 1 KiB in all */
    memset(big, 'u', sizeof(big));
    memcpy(big, "username=", 9);
    memcpy(big + 9 + 256, ",mac=" MAC_G, 29);
    assert_int_equal(omadm_hmac_header_parse(big, 9 + 256 + 29, NULL, 0,
                         NULL), OMADM_EINVAL);   /* no room for the echo */
    {
        char    out[512];
        size_t  n = 0;

        assert_int_equal(omadm_hmac_header_parse(big, 9 + 256 + 29, out,
                             sizeof(out), &n), OMADM_OK);
        assert_int_equal(n, strlen("algorithm=MD5\nusername=\nmac=" MAC_G
                                   "\n") + 256);
    }
    memset(big + 9, 'u', 257);
    memcpy(big + 9 + 257, ",mac=" MAC_G, 29);
    expect_refused(big, 9 + 257 + 29, "x-syncml-hmac: username too long");
    memset(big, ' ', sizeof(big));
    memcpy(big, "username=dev1,mac=" MAC_G, 42);
    expect_header(big, 1024, GOOD_G);
    expect_refused(big, 1025, "x-syncml-hmac: header too long");
}

static void
test_header_bad_arguments(void **state)
{
    char  out[8];

    (void) state;
    assert_int_equal(omadm_hmac_header_parse(NULL, 3, out, sizeof(out),
                         NULL), OMADM_EINVAL);
    /* valid header, output too small */
    assert_int_equal(omadm_hmac_header_parse(S("username=dev1, mac=" MAC_G),
                         out, sizeof(out), NULL), OMADM_EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector_g_mac),
        cmocka_unit_test(test_mac_bad_arguments),
        cmocka_unit_test(test_header_accepted_forms),
        cmocka_unit_test(test_header_refused),
        cmocka_unit_test(test_header_bad_arguments),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
