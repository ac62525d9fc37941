/*
 * Logins as real clients and outsiders make them, through the C ABI
 * (harness: exchange_harness.h): no LocName, a first Cred over the empty
 * nonce, the challenge in the scheme the device tried, failures counted
 * per client address, and the session token minted only by the message
 * that authenticates.
 */

#include "exchange_harness.h"


/* the message with its SyncHdr/Source/LocName taken out */
static char *
without_locname(char *msg)
{
    static const char  loc[] = "<LocName>dev1</LocName>";
    char              *p = strstr(msg, loc);

    assert_non_null(p);
    memmove(p, p + sizeof(loc) - 1, strlen(p + sizeof(loc) - 1) + 1);
    return msg;
}

static char *
with_locname(char *msg, const char *name)
{
    static char  buf[16384];
    char        *p = strstr(msg, "<LocName>dev1</LocName>");

    assert_non_null(p);
    snprintf(buf, sizeof(buf), "%.*s<LocName>%s</LocName>%s",
             (int) (p - msg), msg, name, p + strlen("<LocName>dev1</LocName>"));
    return buf;
}

/* MD5 without LocName: the device named by LocURI, under the name the
   backend holds; the next session with the 212's nonce; in both encodings */
static void
test_md5_without_locname(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        msg[16384];
    int         enc;

    for (enc = OMADM_ENC_XML; enc <= OMADM_ENC_WBXML; enc++) {
        snprintf(msg, sizeof(msg), "%s", without_locname(device_msg(
                 enc ? "w1" : "x1", 1, md5_cred("dev1", "secret",
                 f->be.nonce), PKG1("1", "2"))));
        drive_enc(f, enc, msg, NULL, &o);
        assert_string_equal(o.ops, "auth,exchange");
        assert_string_equal(o.auth, "ok");
        assert_non_null(strstr(f->be.last_auth, "\"username\":\"\""));
        expect_field(&o, "SyncBody/Status[1]/Data", "212");
        outcome_free(&o);
    }

    /* a LocName, when there is one, must be the registered name */
    snprintf(msg, sizeof(msg), "%s", with_locname(device_msg("x2", 1,
             md5_cred("dev1", "secret", f->be.nonce), PKG1("1", "2")),
             "intruder"));
    drive(f, msg, NULL, &o);
    assert_string_equal(o.auth, "failed");
    expect_field(&o, "SyncBody/Status[1]/Data", "401");
    outcome_free(&o);
}

/* a client without a nonce signs with the empty one: stale, a fresh
   challenge, never counted towards the throttle (3 here) */
static void
test_empty_nonce_is_stale(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        sid[16], nonce[64];
    int         i;

    f->be.nonce[0] = '\0';          /* registered, never challenged */
    for (i = 0; i < 5; i++) {
        snprintf(sid, sizeof(sid), "e%d", i);
        drive(f, without_locname(device_msg(sid, 1,
              md5_cred("dev1", "secret", ""), PKG1("1", "2"))), NULL, &o);
        assert_string_equal(o.auth, "stale");
        expect_field(&o, "SyncBody/Status[1]/Data", "401");
        expect_field(&o, "SyncBody/Status[1]/Chal/Meta/Type",
                     "syncml:auth-md5");
        expect_field(&o, "SyncBody/Status[1]/Chal/Meta/NextNonce",
                     f->be.nonce);
        assert_int_equal(strlen(f->be.nonce), 24);
        outcome_free(&o);
    }
    /* the nonce stayed the one handed out first, and it lets it in */
    strcpy(nonce, f->be.nonce);
    drive(f, without_locname(device_msg("e9", 1,
          md5_cred("dev1", "secret", nonce), PKG1("1", "2"))), NULL, &o);
    assert_string_equal(o.auth, "ok");
    outcome_free(&o);

    /* the empty nonce never authenticates, even once one was issued */
    drive(f, device_msg("e10", 1, md5_cred("dev1", "secret", ""),
                        PKG1("1", "2")), NULL, &o);
    assert_string_equal(o.auth, "stale");
    outcome_free(&o);
}

/* the challenge follows the scheme the device tried, among those the
   location accepts; omadm_challenge is for a device that tried none */
static void
test_challenge_follows_the_device(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;

    f->cf.auth_accept = OMADM_AUTH_MD5 | OMADM_AUTH_BASIC;
    f->cf.auth_challenge = OMADM_AUTH_MD5;
    drive(f, device_msg("c1", 1, basic_cred("dev1", "wrong"),
                        PKG1("1", "2")), NULL, &o);
    assert_string_equal(o.auth, "failed");
    expect_field(&o, "SyncBody/Status[1]/Chal/Meta/Type",
                 "syncml:auth-basic");
    outcome_free(&o);

    f->cf.auth_challenge = OMADM_AUTH_BASIC;
    drive(f, device_msg("c2", 1, md5_cred("dev1", "wrong", f->be.nonce),
                        PKG1("1", "2")), NULL, &o);
    expect_field(&o, "SyncBody/Status[1]/Chal/Meta/Type", "syncml:auth-md5");
    expect_field(&o, "SyncBody/Status[1]/Chal/Meta/NextNonce", f->be.nonce);
    outcome_free(&o);

    drive(f, device_msg("c3", 1, NULL, PKG1("1", "2")), NULL, &o);
    expect_field(&o, "SyncBody/Status[1]/Chal/Meta/Type",
                 "syncml:auth-basic");
    outcome_free(&o);
}

/* an outsider's wrong guesses throttle its own address, not the device */
static void
test_failures_per_address(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        sid[16];
    int         i;

    f->peer = "192.0.2.66";
    for (i = 0; i < 4; i++) {
        snprintf(sid, sizeof(sid), "a%d", i);
        drive(f, device_msg(sid, 1, md5_cred("dev1", "guess", f->be.nonce),
                            PKG1("1", "2")), NULL, &o);
        outcome_free(&o);
    }
    drive(f, device_msg("a9", 1, md5_cred("dev1", "secret", f->be.nonce),
                        PKG1("1", "2")), NULL, &o);
    assert_string_equal(o.auth, "throttled");
    outcome_free(&o);

    f->peer = "192.0.2.10";
    drive(f, device_msg("d1", 1, md5_cred("dev1", "secret", f->be.nonce),
                        PKG1("1", "2")), NULL, &o);
    assert_string_equal(o.auth, "ok");
    expect_field(&o, "SyncBody/Status[1]/Data", "212");
    outcome_free(&o);

    /* IPv6 counts by /64: another host of the same /64 is throttled too,
       a host of another /64 is not */
    for (i = 0; i < 3; i++) {
        f->peer = "2001:db8:1:2::66";
        snprintf(sid, sizeof(sid), "v%d", i);
        drive(f, device_msg(sid, 1, md5_cred("dev1", "guess", f->be.nonce),
                            PKG1("1", "2")), NULL, &o);
        outcome_free(&o);
    }
    f->peer = "2001:db8:1:2:aaaa:bbbb:cccc:dddd";
    drive(f, device_msg("v8", 1, md5_cred("dev1", "secret", f->be.nonce),
                        PKG1("1", "2")), NULL, &o);
    assert_string_equal(o.auth, "throttled");
    outcome_free(&o);
    f->peer = "2001:db8:1:3::66";
    drive(f, device_msg("v9", 1, md5_cred("dev1", "secret", f->be.nonce),
                        PKG1("1", "2")), NULL, &o);
    assert_string_equal(o.auth, "ok");
    outcome_free(&o);
}

/* a wrong guess stays counted when the challenge that answers it fails
   (the nonce call): an attacker who slows the backend gets no free guess */
static void
test_failure_counted_when_the_challenge_fails(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        sid[16];
    int         i;

    for (i = 0; i < 3; i++) {
        snprintf(sid, sizeof(sid), "n%d", i);
        strcpy(f->be.fail_op, "nonce");
        f->be.fail_status = 502;
        f->be.fail_body = "";
        drive(f, device_msg(sid, 1, md5_cred("dev1", "guess", f->be.nonce),
                            PKG1("1", "2")), NULL, &o);
        assert_string_equal(o.ops, "auth,nonce");
        assert_int_equal(o.http_status, 503);
        outcome_free(&o);
    }
    drive(f, device_msg("n9", 1, md5_cred("dev1", "secret", f->be.nonce),
                        PKG1("1", "2")), NULL, &o);
    assert_string_equal(o.auth, "throttled");
    outcome_free(&o);
}

/* the token an unauthenticated message could see never reaches a
   session: the victim's 212 mints a new one, and the outsider's message
   for the victim's session gets a challenge and no command */
static void
test_no_fixation(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        token[33], msg[16384];

    drive(f, device_msg("5", 1, NULL, PKG1("1", "2")), NULL, &o);
    expect_no_token(&o);
    outcome_free(&o);

    f->be.commands = "[{\"id\":\"c1\",\"verb\":\"Get\",\"target\":\"./A\"},"
                     "{\"id\":\"c2\",\"verb\":\"Replace\",\"target\":\"./B\","
                     "\"data\":\"secret-value\"}]";
    drive(f, device_msg("5", 2, md5_cred("dev1", "secret", f->be.nonce),
                        HDR_STATUS("1") PKG1("2", "3")), NULL, &o);
    expect_field(&o, "SyncBody/Status[1]/Data", "212");
    resp_token(&o, token, sizeof(token));
    outcome_free(&o);

    /* forged Results for the victim's Get, without its token */
    snprintf(msg, sizeof(msg), "%s", device_msg("5", 3, NULL,
        HDR_STATUS("2")
        "<Status><CmdID>2</CmdID><MsgRef>2</MsgRef><CmdRef>4</CmdRef>"
        "<Cmd>Get</Cmd><Data>200</Data></Status>"
        "<Results><CmdID>3</CmdID><MsgRef>2</MsgRef><CmdRef>4</CmdRef>"
        "<Item><Source><LocURI>./A</LocURI></Source>"
        "<Data>FORGED</Data></Item></Results>"));
    drive(f, msg, NULL, &o);
    expect_field(&o, "SyncBody/Status[1]/Data", "407");
    assert_null(strstr(o.body, "secret-value"));
    assert_null(strstr(o.ops, "exchange"));
    outcome_free(&o);

    /* the victim's own message with that MsgID is processed */
    drive(f, msg, token, &o);
    assert_string_equal(o.ops, "exchange");
    assert_non_null(strstr(f->be.last_exchange, "FORGED"));  /* its own */
    expect_field(&o, "SyncBody/Status[1]/Data", "200");
    outcome_free(&o);
}


/* a Basic device that starts every session with the same SessionID sends
   the same package 1 again: once its session ended, that is a new session
   (the backend is asked), not a repeat answered from the cache */
static void
test_basic_reused_session_id(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        msg[16384];

    f->cf.auth_accept = OMADM_AUTH_BASIC;
    snprintf(msg, sizeof(msg), "%s", device_msg("1", 1,
             basic_cred("dev1", "secret"), PKG1("1", "2")));
    drive(f, msg, NULL, &o);
    assert_string_equal(o.ops, "auth,exchange");
    assert_non_null(strstr(session_blob(&f->mem, "1"), "\"ended\":true"));
    outcome_free(&o);

    f->be.commands = "[{\"id\":\"c9\",\"verb\":\"Get\",\"target\":\"./A\"}]";
    drive(f, msg, NULL, &o);
    assert_string_equal(o.ops, "auth,exchange");
    expect_field(&o, "SyncBody/Get[4]/Item[1]/Target", "./A");
    outcome_free(&o);

    /* while that session goes on, the same message is a repeat */
    drive(f, msg, NULL, &o);
    assert_string_equal(o.ops, "");
    expect_field(&o, "SyncBody/Get[4]/Item[1]/Target", "./A");
    outcome_free(&o);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_md5_without_locname, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_empty_nonce_is_stale, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_challenge_follows_the_device,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_failures_per_address, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_failure_counted_when_the_challenge_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_fixation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_basic_reused_session_id, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
