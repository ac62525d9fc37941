/*
 * The exchange engine through the C ABI only: authentication, sessions,
 * throttling, repeats and backend failures (harness: exchange_harness.h).
 */

#include "exchange_harness.h"

/* the failure counter of DEV from an unknown address */
#define FAILURES  "f:" DEV "\n"


/* ---- tests --------------------------------------------------------------- */

/* protocol digest §8, then the next session with the rotated nonce */
static void
test_md5_session(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o, again;
    char        token[33], token2[33], nonce1[64], nonce2[64], msg[16384];

    /* ① no Cred -> 407 with the nonce the device holds (a device that
       never had one gets ours, stored through "nonce") */
    f->be.nonce[0] = '\0';
    drive(f, device_msg("42", 1, NULL, PKG1("1", "2")), NULL, &o);
    assert_int_equal(o.http_status, 200);
    assert_string_equal(o.ops, "nonce");
    assert_string_equal(o.auth, "missing");
    assert_int_equal(strlen(f->be.nonce), 24);
    strcpy(nonce1, f->be.nonce);
    expect_field(&o, "Version", "1.2");
    expect_field(&o, "SyncHdr/SessionID", "42");
    expect_field(&o, "SyncHdr/MsgID", "1");
    expect_field(&o, "SyncHdr/Target", DEV);
    expect_field(&o, "SyncHdr/Source", SERVER);
    expect_no_token(&o);     /* nothing is kept before authentication */
    assert_null(session_entry(&f->mem, "42"));
    expect_field(&o, "SyncBody/Status[1]/CmdID", "1");
    expect_field(&o, "SyncBody/Status[1]/MsgRef", "1");
    expect_field(&o, "SyncBody/Status[1]/CmdRef", "0");
    expect_field(&o, "SyncBody/Status[1]/Cmd", "SyncHdr");
    expect_field(&o, "SyncBody/Status[1]/TargetRef[1]", SERVER);
    expect_field(&o, "SyncBody/Status[1]/SourceRef[1]", DEV);
    expect_field(&o, "SyncBody/Status[1]/Chal/Meta/Type", "syncml:auth-md5");
    expect_field(&o, "SyncBody/Status[1]/Chal/Meta/Format", "b64");
    expect_field(&o, "SyncBody/Status[1]/Chal/Meta/NextNonce", nonce1);
    expect_field(&o, "SyncBody/Status[1]/Data", "407");
    expect_field(&o, "SyncBody/Status[2]/CmdID", "2");
    expect_field(&o, "SyncBody/Status[2]/CmdRef", "1");
    expect_field(&o, "SyncBody/Status[2]/Cmd", "Alert");
    expect_field(&o, "SyncBody/Status[2]/Data", "407");
    expect_field(&o, "SyncBody/Status[3]/CmdRef", "2");
    expect_field(&o, "SyncBody/Status[3]/Cmd", "Replace");
    expect_field(&o, "SyncBody/Status[3]/Data", "407");
    expect_no_field(&o, "SyncBody/Status[4]/CmdID");
    expect_field(&o, "SyncBody/Final", "1");
    outcome_free(&o);

    /* a challenge anyone can provoke hands out the same nonce again */
    drive(f, device_msg("42", 1, NULL, PKG1("1", "2")), NULL, &o);
    expect_field(&o, "SyncBody/Status[1]/Chal/Meta/NextNonce", nonce1);
    assert_string_equal(f->be.nonce, nonce1);
    outcome_free(&o);

    /* ③ package 1 again with the MD5 Cred, to the RespURI */
    snprintf(msg, sizeof(msg), "%s", device_msg("42", 2,
             md5_cred("dev1", "secret", nonce1), HDR_STATUS("1")
             PKG1("2", "3")));
    f->be.commands =
        "[{\"id\":\"c17\",\"verb\":\"Get\",\"target\":\"./DevDetail/SwV\"},"
        "{\"id\":\"c18\",\"verb\":\"Get\","
        "\"target\":\"./DevDetail/Ext/Unknown\"}]";
    drive(f, msg, NULL, &o);
    assert_int_equal(o.http_status, 200);
    assert_string_equal(o.ops, "auth,exchange");
    assert_string_equal(o.auth, "ok");
    assert_string_equal(o.error, "");
    assert_non_null(strstr(f->be.last_auth,
                    "{\"device_id\":\"" DEV "\",\"username\":\"dev1\"}"));
    assert_non_null(strstr(f->be.last_exchange, "\"session_start\":true"));
    assert_non_null(strstr(f->be.last_exchange, "\"msg_id\":\"2\""));
    assert_non_null(strstr(f->be.last_exchange, "\"session_id\":\"42\""));
    assert_non_null(strstr(f->be.last_exchange, "\"used_nonce\":\""));
    assert_non_null(strstr(f->be.last_exchange,
                    "\"./DevInfo/Man\":\"Example Corp\""));
    assert_non_null(strstr(f->be.last_exchange, "\"max_commands\":50"));
    assert_non_null(strstr(f->be.last_exchange, "\"alerts\":[]"));
    assert_non_null(strstr(f->be.last_exchange, "\"statuses\":[]"));
    strcpy(nonce2, f->be.nonce);
    assert_string_not_equal(nonce2, nonce1);
    expect_field(&o, "SyncHdr/MsgID", "2");
    resp_token(&o, token, sizeof(token));   /* minted here */
    expect_field(&o, "SyncBody/Status[1]/MsgRef", "2");
    expect_field(&o, "SyncBody/Status[1]/Data", "212");
    expect_field(&o, "SyncBody/Status[1]/Chal/Meta/Type", "syncml:auth-md5");
    expect_field(&o, "SyncBody/Status[1]/Chal/Meta/NextNonce", nonce2);
    /* no Status for the device's Status */
    expect_field(&o, "SyncBody/Status[2]/CmdRef", "2");
    expect_field(&o, "SyncBody/Status[2]/Cmd", "Alert");
    expect_field(&o, "SyncBody/Status[2]/Data", "200");
    expect_field(&o, "SyncBody/Status[3]/CmdRef", "3");
    expect_field(&o, "SyncBody/Status[3]/Cmd", "Replace");
    expect_field(&o, "SyncBody/Status[3]/Data", "200");
    expect_field(&o, "SyncBody/Get[4]/CmdID", "4");
    expect_field(&o, "SyncBody/Get[4]/Item[1]/Target", "./DevDetail/SwV");
    expect_no_field(&o, "SyncBody/Get[4]/Item[1]/Meta/Format");
    expect_field(&o, "SyncBody/Get[5]/CmdID", "5");
    expect_field(&o, "SyncBody/Get[5]/Item[1]/Target",
                 "./DevDetail/Ext/Unknown");
    expect_field(&o, "SyncBody/Final", "1");
    assert_non_null(strstr(session_blob(&f->mem, "42"), "\"2:4\":\"c17\""));
    outcome_free(&o);

    /* ⑤ Statuses and Results, mapped back to the backend's ids */
    snprintf(msg, sizeof(msg), "%s", device_msg("42", 3, NULL,
        HDR_STATUS("2")
        "<Status><CmdID>2</CmdID><MsgRef>2</MsgRef><CmdRef>4</CmdRef>"
        "<Cmd>Get</Cmd><TargetRef>./DevDetail/SwV</TargetRef>"
        "<Data>200</Data></Status>"
        "<Status><CmdID>3</CmdID><MsgRef>2</MsgRef><CmdRef>5</CmdRef>"
        "<Cmd>Get</Cmd><Data>404</Data></Status>"
        "<Results><CmdID>4</CmdID><MsgRef>2</MsgRef><CmdRef>4</CmdRef>"
        "<Item><Source><LocURI>./DevDetail/SwV</LocURI></Source>"
        "<Meta><Format xmlns=\"syncml:metinf\">chr</Format>"
        "<Type xmlns=\"syncml:metinf\">text/plain</Type></Meta>"
        "<Data>4.2.1</Data></Item></Results>"));
    drive(f, msg, token, &o);
    assert_int_equal(o.http_status, 200);
    assert_string_equal(o.ops, "exchange");
    assert_string_equal(o.auth, "session");
    assert_non_null(strstr(f->be.last_exchange, "\"session_start\":false"));
    assert_null(strstr(f->be.last_exchange, "nonce"));
    assert_null(strstr(f->be.last_exchange, "devinfo"));
    assert_non_null(strstr(f->be.last_exchange,
        "\"statuses\":[{\"command_id\":\"c17\",\"status\":200},"
        "{\"command_id\":\"c18\",\"status\":404}]"));
    assert_non_null(strstr(f->be.last_exchange,
        "\"results\":[{\"command_id\":\"c17\",\"data\":\"4.2.1\","
        "\"format\":\"chr\",\"source\":\"./DevDetail/SwV\","
        "\"type\":\"text/plain\"}]"));
    /* ⑥ nothing more: only the SyncHdr Status, the session is over */
    expect_field(&o, "SyncHdr/MsgID", "3");
    expect_field(&o, "SyncBody/Status[1]/MsgRef", "3");
    expect_field(&o, "SyncBody/Status[1]/Data", "200");
    expect_no_field(&o, "SyncBody/Status[1]/Chal");
    expect_no_field(&o, "SyncBody/Status[2]/CmdID");
    expect_field(&o, "SyncBody/Final", "1");
    assert_non_null(strstr(session_blob(&f->mem, "42"), "\"ended\":true"));
    assert_non_null(strstr(session_blob(&f->mem, "42"),
                           "\"outstanding\":{}"));

    /* the answer got lost: the same MsgID gets the same bytes, no backend */
    drive(f, msg, token, &again);
    assert_string_equal(again.ops, "");
    assert_int_equal(again.len, o.len);
    assert_memory_equal(again.body, o.body, o.len);
    outcome_free(&again);
    outcome_free(&o);

    /* next session: Cred with the nonce from the 212 works at once */
    snprintf(msg, sizeof(msg), "%s", device_msg("43", 1,
             md5_cred("dev1", "secret", nonce2), PKG1("1", "2")));
    drive(f, msg, NULL, &o);
    assert_string_equal(o.ops, "auth,exchange");
    expect_field(&o, "SyncHdr/MsgID", "1");
    expect_field(&o, "SyncBody/Status[1]/Data", "212");
    resp_token(&o, token2, sizeof(token2));
    assert_string_not_equal(token2, token);
    outcome_free(&o);

    /* the old nonce is spent: 401 with the unused one the device holds */
    strcpy(nonce2, f->be.nonce);
    drive(f, device_msg("44", 1, md5_cred("dev1", "secret", nonce1),
                        PKG1("1", "2")), NULL, &o);
    assert_string_equal(o.ops, "auth,nonce");
    assert_string_equal(o.auth, "failed");
    assert_string_equal(o.error, "invalid credentials");
    assert_string_equal(f->be.nonce, nonce2);
    expect_field(&o, "SyncBody/Status[1]/Data", "401");
    expect_field(&o, "SyncBody/Status[1]/Chal/Meta/NextNonce", f->be.nonce);
    expect_field(&o, "SyncBody/Status[2]/Data", "401");
    expect_field(&o, "SyncBody/Status[3]/Data", "401");
    outcome_free(&o);
}

/* omadm_node_id: a RespURI that carries a session token names the node
   after it; one without a token (a challenge) names none */
static void
test_node_in_resp_uri(void **state)
{
    fixture_t   *f = *state;
    outcome_t    o;
    const char  *uri, *tail;
    char         msg[16384];

    f->cf.auth_accept = OMADM_AUTH_BASIC;
    f->cf.auth_challenge = OMADM_AUTH_BASIC;
    f->cf.node_id = "dm-7";
    f->cf.node_id_len = 4;

    drive(f, device_msg("8", 1, NULL, PKG1("1", "2")), NULL, &o);
    expect_field(&o, "SyncBody/Status[1]/Data", "407");
    expect_no_token(&o);
    uri = field(&o, "SyncHdr/RespURI");
    assert_true(uri == NULL || strstr(uri, "n=") == NULL);
    outcome_free(&o);

    snprintf(msg, sizeof(msg), "%s", device_msg("8", 2,
             basic_cred("dev1", "secret"), HDR_STATUS("1") PKG1("2", "3")));
    drive(f, msg, NULL, &o);
    expect_field(&o, "SyncBody/Status[1]/Data", "212");
    uri = field(&o, "SyncHdr/RespURI");
    assert_non_null(uri);
    assert_int_equal(strncmp(uri, SERVER "?s=", strlen(SERVER) + 3), 0);
    tail = uri + strlen(SERVER) + 3;
    assert_int_equal(strspn(tail, "0123456789abcdef"), 32);
    assert_string_equal(tail + 32, "&n=dm-7");
    outcome_free(&o);
}

static void
test_basic(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        token[33], msg[16384];

    f->cf.auth_accept = OMADM_AUTH_BASIC | OMADM_AUTH_MD5;
    f->cf.auth_challenge = OMADM_AUTH_BASIC;

    /* basic challenge: no nonce, no backend call */
    drive(f, device_msg("7", 1, NULL, PKG1("1", "2")), NULL, &o);
    assert_string_equal(o.ops, "");
    assert_string_equal(o.auth, "missing");
    expect_field(&o, "SyncBody/Status[1]/Data", "407");
    expect_field(&o, "SyncBody/Status[1]/Chal/Meta/Type",
                 "syncml:auth-basic");
    expect_field(&o, "SyncBody/Status[1]/Chal/Meta/Format", "b64");
    expect_no_field(&o, "SyncBody/Status[1]/Chal/Meta/NextNonce");
    expect_no_token(&o);
    outcome_free(&o);

    snprintf(msg, sizeof(msg), "%s", device_msg("7", 2,
             basic_cred("dev1", "secret"), HDR_STATUS("1") PKG1("2", "3")));
    drive(f, msg, NULL, &o);
    resp_token(&o, token, sizeof(token));
    assert_string_equal(o.ops, "auth,exchange");
    assert_string_equal(o.auth, "ok");
    assert_null(strstr(f->be.last_exchange, "used_nonce"));
    assert_non_null(strstr(f->be.last_exchange, "\"next_nonce\":\""));
    expect_field(&o, "SyncBody/Status[1]/Data", "212");
    /* md5 is accepted too: the next session's nonce comes with the 212 */
    expect_field(&o, "SyncBody/Status[1]/Chal/Meta/NextNonce", f->be.nonce);
    outcome_free(&o);

    /* basic only: 212 without Chal; a wrong password is refused */
    f->cf.auth_accept = OMADM_AUTH_BASIC;
    drive(f, device_msg("8", 1, basic_cred("dev1", "secret"),
                        PKG1("1", "2")), NULL, &o);
    assert_string_equal(o.ops, "auth,exchange");
    assert_null(strstr(f->be.last_exchange, "nonce"));
    expect_field(&o, "SyncBody/Status[1]/Data", "212");
    expect_no_field(&o, "SyncBody/Status[1]/Chal");
    outcome_free(&o);

    drive(f, device_msg("9", 1, basic_cred("dev1", "wrong"),
                        PKG1("1", "2")), NULL, &o);
    assert_string_equal(o.ops, "auth");
    assert_string_equal(o.auth, "failed");
    expect_field(&o, "SyncBody/Status[1]/Data", "401");
    expect_field(&o, "SyncBody/Status[1]/Chal/Meta/Type",
                 "syncml:auth-basic");
    outcome_free(&o);

    /* an md5 Cred when only basic is accepted fails without a lookup */
    drive(f, device_msg("10", 1, md5_cred("dev1", "secret", f->be.nonce),
                        PKG1("1", "2")), NULL, &o);
    assert_string_equal(o.ops, "");
    assert_string_equal(o.auth, "failed");
    expect_field(&o, "SyncBody/Status[1]/Data", "401");
    outcome_free(&o);
}

static void
test_wrong_password_and_throttle(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        nonce[64], token[33], sid[16];
    int         i;

    for (i = 0; i < 3; i++) {
        /* a new session each time: the same MsgID would be a repeat */
        snprintf(sid, sizeof(sid), "5%d", i);
        strcpy(nonce, f->be.nonce);
        drive(f, device_msg(sid, 1, md5_cred("dev1", "wrong", nonce),
                            HDR_STATUS("1") PKG1("2", "3")), NULL, &o);
        assert_int_equal(o.http_status, 200);
        assert_string_equal(o.ops, "auth,nonce");
        assert_string_equal(o.auth, "failed");
        assert_string_equal(o.error, "invalid credentials");
        assert_string_equal(f->be.nonce, nonce);    /* nothing used up */
        expect_field(&o, "SyncBody/Status[1]/Data", "401");
        expect_field(&o, "SyncBody/Status[1]/Chal/Meta/NextNonce",
                     f->be.nonce);
        /* only Statuses, none for the device's own Status */
        expect_field(&o, "SyncBody/Status[2]/Cmd", "Alert");
        expect_field(&o, "SyncBody/Status[2]/CmdRef", "2");
        expect_field(&o, "SyncBody/Status[2]/Data", "401");
        expect_field(&o, "SyncBody/Status[3]/Cmd", "Replace");
        expect_no_field(&o, "SyncBody/Status[4]/CmdID");
        outcome_free(&o);
        f->now += 5;
    }

    /* over the limit: even the right password gets 401, without a backend
       call and without a NextNonce: the stored nonce stays valid */
    strcpy(nonce, f->be.nonce);
    drive(f, device_msg("6", 1, md5_cred("dev1", "secret", nonce),
                        PKG1("1", "2")), NULL, &o);
    assert_string_equal(o.ops, "");
    assert_string_equal(o.auth, "throttled");
    assert_string_equal(f->be.nonce, nonce);
    expect_field(&o, "SyncBody/Status[1]/Data", "401");
    expect_field(&o, "SyncBody/Status[1]/Chal/Meta/Type", "syncml:auth-md5");
    expect_no_field(&o, "SyncBody/Status[1]/Chal/Meta/NextNonce");
    outcome_free(&o);

    /* after the window the device gets in, and the count is reset */
    f->now += 60;
    login(f, "7", &o, token);
    outcome_free(&o);
    drive(f, device_msg("8", 1, md5_cred("dev1", "wrong", f->be.nonce),
                        PKG1("1", "2")), NULL, &o);
    assert_string_equal(o.auth, "failed");
    outcome_free(&o);
    strcpy(nonce, f->be.nonce);
    drive(f, device_msg("9", 1, md5_cred("dev1", "secret", nonce),
                        PKG1("1", "2")), NULL, &o);
    assert_string_equal(o.auth, "ok");
    outcome_free(&o);
}

/* the right password with a nonce the device was issued before (its 212
   was lost after the backend rotated the nonce) is stale, not wrong:
   401 with a new challenge, never counted towards the throttle */
static void
test_stale_nonce_is_not_a_failure(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        nonce[64], sid[16], msg[16384];
    int         i;

    strcpy(nonce, f->be.nonce);
    for (i = 0; i < 5; i++) {    /* more than max_auth_failures (3) */
        /* the session start reaches the backend, its answer is lost */
        snprintf(sid, sizeof(sid), "s%d", i);
        snprintf(msg, sizeof(msg), "%s", device_msg(sid, 1,
                 md5_cred("dev1", "secret", nonce), PKG1("1", "2")));
        drive(f, msg, NULL, &o);
        assert_string_equal(o.auth, "ok");
        assert_string_not_equal(f->be.nonce, nonce);
        outcome_free(&o);

        /* the device retries as a new session with the nonce it has */
        snprintf(sid, sizeof(sid), "r%d", i);
        drive(f, device_msg(sid, 1, md5_cred("dev1", "secret", nonce),
                            PKG1("1", "2")), NULL, &o);
        assert_string_equal(o.ops, "auth,nonce");
        assert_string_equal(o.auth, "stale");
        assert_string_equal(o.error, "stale nonce");
        expect_field(&o, "SyncBody/Status[1]/Data", "401");
        expect_field(&o, "SyncBody/Status[1]/Chal/Meta/NextNonce",
                     f->be.nonce);
        strcpy(nonce, f->be.nonce);
        outcome_free(&o);
    }

    /* another message took the nonce between auth and exchange (409):
       the digest was right, so this is stale too */
    strcpy(f->be.fail_op, "exchange");
    f->be.fail_status = 409;
    f->be.fail_body = "{\"error\":\"nonce\"}";
    drive(f, device_msg("race", 1, md5_cred("dev1", "secret", nonce),
                        PKG1("1", "2")), NULL, &o);
    assert_string_equal(o.ops, "auth,exchange,nonce");
    assert_string_equal(o.auth, "stale");
    expect_field(&o, "SyncBody/Status[1]/Data", "401");
    outcome_free(&o);

    /* never throttled: the current nonce lets it in */
    strcpy(nonce, f->be.nonce);
    drive(f, device_msg("in", 1, md5_cred("dev1", "secret", nonce),
                        PKG1("1", "2")), NULL, &o);
    assert_string_equal(o.auth, "ok");
    outcome_free(&o);

    /* a wrong password is still a failure, with the old nonce too */
    drive(f, device_msg("bad", 1, md5_cred("dev1", "wrong", nonce),
                        PKG1("1", "2")), NULL, &o);
    assert_string_equal(o.auth, "failed");
    outcome_free(&o);
}

static void
test_token_and_repeat(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o, again;
    char        token[33], msg[16384];

    /* a repeated package 1 that got a 407 is answered afresh, with the
       same answer: nothing was kept for it */
    snprintf(msg, sizeof(msg), "%s", device_msg("3", 1, NULL,
             PKG1("1", "2")));
    drive(f, msg, NULL, &o);
    assert_string_equal(o.ops, "nonce");
    drive(f, msg, NULL, &again);
    assert_string_equal(again.ops, "nonce");
    assert_string_equal(again.body, o.body);
    assert_null(session_entry(&f->mem, "3"));
    outcome_free(&again);
    outcome_free(&o);

    f->be.commands = "[{\"id\":\"1\",\"verb\":\"Get\",\"target\":\"./A\"}]";
    login(f, "4", &o, token);
    outcome_free(&o);

    /* without the token an authenticated session is not continued: the
       message starts a new, unauthenticated one */
    snprintf(msg, sizeof(msg), "%s", device_msg("4", 2, NULL,
             HDR_STATUS("1")));
    drive(f, msg, NULL, &o);
    assert_string_equal(o.ops, "nonce");
    expect_field(&o, "SyncBody/Status[1]/Data", "407");
    expect_field(&o, "SyncHdr/MsgID", "2");     /* the device's, mirrored */
    expect_no_token(&o);
    outcome_free(&o);
    drive(f, msg, "0123456789abcdef0123456789abcdef", &o);
    expect_field(&o, "SyncBody/Status[1]/Data", "407");
    outcome_free(&o);

    /* ... and those challenges did not disturb it: with its token the
       device carries on, still authenticated */
    snprintf(msg, sizeof(msg), "%s", device_msg("4", 2, NULL,
             HDR_STATUS("2")));
    drive(f, msg, token, &o);
    assert_string_equal(o.ops, "exchange");
    assert_string_equal(o.auth, "session");
    expect_field(&o, "SyncBody/Status[1]/Data", "200");
    outcome_free(&o);
}

/* the failed-attempt count is taken before the backend is asked, so
   parallel attempts cannot all pass the throttle during the round trip */
static void
test_attempt_reserved(void **state)
{
    fixture_t         *f = *state;
    omadm_exchange_t  *ex;
    omadm_action_t     act;
    const char        *msg, *answer;
    int                status;

    msg = device_msg("20", 1, md5_cred("dev1", "wrong", f->be.nonce),
                     PKG1("1", "2"));
    assert_int_equal(omadm_exchange_create(&f->cf, &f->store, msg,
                     strlen(msg), OMADM_ENC_XML, NULL, 0, f->now, &ex),
                     OMADM_OK);
    assert_int_equal(omadm_exchange_run(ex, &act), OMADM_OK);
    assert_int_equal(act.kind, OMADM_ACT_BACKEND);
    assert_non_null(store_find(&f->mem, FAILURES, strlen(FAILURES)));

    /* a backend failure gives the attempt back: the store is as before */
    assert_int_equal(omadm_exchange_backend_done(ex, 0, NULL, 0), OMADM_OK);
    assert_int_equal(omadm_exchange_run(ex, &act), OMADM_OK);
    assert_int_equal(act.http_status, 503);
    omadm_exchange_destroy(ex);
    assert_null(store_find(&f->mem, FAILURES, strlen(FAILURES)));

    /* a wrong password counts once, not twice */
    assert_int_equal(omadm_exchange_create(&f->cf, &f->store, msg,
                     strlen(msg), OMADM_ENC_XML, NULL, 0, f->now, &ex),
                     OMADM_OK);
    assert_int_equal(omadm_exchange_run(ex, &act), OMADM_OK);
    answer = backend_handle(&f->be, "auth", act.body, act.body_len, &status);
    assert_int_equal(omadm_exchange_backend_done(ex, status, answer,
                     strlen(answer)), OMADM_OK);
    assert_int_equal(omadm_exchange_run(ex, &act), OMADM_OK);
    assert_int_equal(act.kind, OMADM_ACT_BACKEND);    /* the nonce */
    answer = backend_handle(&f->be, "nonce", act.body, act.body_len, &status);
    assert_int_equal(omadm_exchange_backend_done(ex, status, answer,
                     strlen(answer)), OMADM_OK);
    assert_int_equal(omadm_exchange_run(ex, &act), OMADM_OK);
    assert_int_equal(act.http_status, 200);
    omadm_exchange_destroy(ex);
    assert_non_null(strstr(store_find(&f->mem, FAILURES,
                                      strlen(FAILURES))->val,
                           "\"count\":1"));
}

/* what an unauthenticated message can make the server keep is small */
static void
test_unauthenticated_storage_bounded(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char       *msg, *body, sid[80];
    size_t      i, len = 0;

    /* a big package 1: nothing of it is kept */
    body = malloc(120 * 64);
    body[0] = '\0';
    for (i = 0; i < 120; i++) {
        len += (size_t) sprintf(body + len, "<Alert><CmdID>%zu</CmdID>"
                                "<Data>1224</Data></Alert>", i + 1);
    }
    msg = malloc(len + 1024);
    strcpy(msg, device_msg("30", 1, NULL, body));
    drive(f, msg, NULL, &o);
    assert_string_equal(o.ops, "nonce");
    expect_field(&o, "SyncBody/Status[121]/Data", "407");
    outcome_free(&o);
    drive(f, msg, NULL, &o);
    assert_string_equal(o.ops, "nonce");            /* answered afresh */
    outcome_free(&o);
    assert_null(session_entry(&f->mem, "30"));
    /* ... nor of many: an outsider cannot fill the store */
    for (i = 0; i < 200; i++) {
        snprintf(sid, sizeof(sid), "flood%zu", i);
        drive(f, device_msg(sid, 1, NULL, PKG1("1", "2")), NULL, &o);
        expect_field(&o, "SyncBody/Status[1]/Data", "407");
        outcome_free(&o);
    }
    assert_int_equal(f->mem.n, 0);
    free(msg);
    free(body);

    /* identifiers are bounded: a 65-byte SessionID is refused */
    memset(sid, '7', 65);
    sid[65] = '\0';
    drive(f, device_msg(sid, 1, NULL, PKG1("1", "2")), NULL, &o);
    assert_int_equal(o.http_status, 400);
    assert_string_equal(o.ops, "");
    assert_non_null(strstr(o.body, "SyncHdr/SessionID longer than 64"));
    outcome_free(&o);
}

static void
test_backend_failures(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        token[33], msg[16384], *before, *after;
    static const struct {
        const char  *op;
        int          status;
        const char  *body;
        const char  *reason;
    } cases[] = {
        { "exchange", 503, "oops", "backend exchange answered 503\n" },
        { "exchange", 0, NULL, "backend exchange unreachable\n" },
        { "exchange", 200, "{\"commands\":", NULL },
        { "exchange", 200, "{\"commands\":[{\"id\":\"1\"}]}", NULL },
        { "exchange", 200, "{\"commands\":[{\"id\":\"1\",\"verb\":\"Fetch\","
                           "\"target\":\"./A\"}]}",
          "backend sent unknown verb\n" },
        { "exchange", 500, "{}", "backend exchange answered 500\n" },
    };
    size_t      i;

    f->be.commands = "[{\"id\":\"1\",\"verb\":\"Get\",\"target\":\"./A\"}]";
    login(f, "11", &o, token);
    outcome_free(&o);

    snprintf(msg, sizeof(msg), "%s", device_msg("11", 2, NULL,
        HDR_STATUS("1")
        "<Status><CmdID>2</CmdID><MsgRef>1</MsgRef><CmdRef>4</CmdRef>"
        "<Cmd>Get</Cmd><Data>200</Data></Status>"
        "<Alert><CmdID>3</CmdID><Data>1226</Data><Correlator>job</Correlator>"
        "<Item><Source><LocURI>./FwUpdate/X</LocURI></Source>"
        "<Meta><Type xmlns=\"syncml:metinf\">org.example.t</Type>"
        "<Format xmlns=\"syncml:metinf\">int</Format>"
        "<Mark xmlns=\"syncml:metinf\">critical</Mark></Meta>"
        "<Data>200</Data></Item></Alert>"));

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        before = store_snapshot(&f->mem);
        strcpy(f->be.fail_op, cases[i].op);
        f->be.fail_status = cases[i].status;
        f->be.fail_body = cases[i].body;
        drive(f, msg, token, &o);
        assert_int_equal(o.http_status, 503);
        assert_string_equal(o.content_type, "text/plain");
        assert_string_equal(o.auth, "session");
        if (cases[i].reason) {
            assert_string_equal(o.body, cases[i].reason);
        }
        assert_true(o.error[0] != '\0');
        after = store_snapshot(&f->mem);
        assert_string_equal(after, before);
        free(before);
        free(after);
        outcome_free(&o);
    }

    /* the retry goes through, with the Status and the alert */
    drive(f, msg, token, &o);
    assert_int_equal(o.http_status, 200);
    assert_non_null(strstr(f->be.last_exchange,
        "\"statuses\":[{\"command_id\":\"1\",\"status\":200}]"));
    assert_non_null(strstr(f->be.last_exchange,
        "\"alerts\":[{\"code\":\"1226\",\"correlator\":\"job\",\"items\":"
        "[{\"data\":\"200\",\"format\":\"int\",\"mark\":\"critical\","
        "\"source\":\"./FwUpdate/X\",\"target\":\"\","
        "\"type\":\"org.example.t\"}]}]"));
    expect_field(&o, "SyncHdr/MsgID", "2");
    expect_field(&o, "SyncBody/Status[2]/Cmd", "Alert");
    expect_field(&o, "SyncBody/Status[2]/CmdRef", "3");
    expect_field(&o, "SyncBody/Status[2]/Data", "200");
    outcome_free(&o);

    /* failures before authentication: auth and nonce calls */
    strcpy(f->be.fail_op, "auth");
    f->be.fail_status = 502;
    f->be.fail_body = "";
    before = store_snapshot(&f->mem);
    drive(f, device_msg("12", 1, md5_cred("dev1", "secret", f->be.nonce),
                        PKG1("1", "2")), NULL, &o);
    assert_int_equal(o.http_status, 503);
    assert_string_equal(o.auth, "undecided");
    outcome_free(&o);
    strcpy(f->be.fail_op, "auth");
    f->be.fail_status = 200;
    f->be.fail_body = "{\"username\":\"dev1\"}";
    drive(f, device_msg("12", 1, md5_cred("dev1", "secret", f->be.nonce),
                        PKG1("1", "2")), NULL, &o);
    assert_int_equal(o.http_status, 503);
    outcome_free(&o);
    strcpy(f->be.fail_op, "nonce");
    f->be.fail_status = 500;
    f->be.fail_body = "{}";
    drive(f, device_msg("12", 1, NULL, PKG1("1", "2")), NULL, &o);
    assert_int_equal(o.http_status, 503);
    assert_string_equal(o.auth, "missing");
    outcome_free(&o);
    after = store_snapshot(&f->mem);
    assert_string_equal(after, before);
    free(before);
    free(after);
    /* a nonce raced away (409): test_stale_nonce_is_not_a_failure */
}

static void
test_unknown_device_and_store_full(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;

    mem_store_t    counters_mem = { 0 };
    omadm_store_t  counters = mem_store(&counters_mem);
    int            i;

    /* an unknown device: challenged like any other, and nothing kept,
       not even a failure counter */
    f->be.registered = 0;
    for (i = 0; i < 5; i++) {   /* more than max_auth_failures (3) */
        drive(f, device_msg("1", 1, md5_cred("dev1", "secret", NONCE0),
                            PKG1("1", "2")), NULL, &o);
        assert_string_equal(o.ops, "auth,nonce");
        assert_string_equal(o.auth, "failed");
        assert_string_equal(o.error, "unknown device");
        expect_field(&o, "SyncBody/Status[1]/Data", "401");
        expect_field(&o, "SyncBody/Status[1]/Chal/Meta/Type",
                     "syncml:auth-md5");
        outcome_free(&o);
    }
    assert_int_equal(f->mem.n, 0);

    /* a failure counter that cannot be kept refuses the attempt rather
       than evaluate it: no guess goes uncounted */
    f->be.registered = 1;
    f->mem.fail_put = 1;
    drive(f, device_msg("2", 1, md5_cred("dev1", "secret", f->be.nonce),
                        PKG1("1", "2")), NULL, &o);
    assert_int_equal(o.http_status, 503);
    assert_string_equal(o.ops, "");
    assert_non_null(strstr(o.error, "cannot be counted"));
    outcome_free(&o);

    /* counters kept apart (omadm_config_t.counter_store): a full session
       store costs the session, not the login */
    f->cf.counter_store = &counters;
    drive(f, device_msg("3", 1, md5_cred("dev1", "secret", f->be.nonce),
                        PKG1("1", "2")), NULL, &o);
    assert_int_equal(o.http_status, 200);
    assert_string_equal(o.auth, "ok");
    assert_non_null(strstr(o.error, "session store full"));
    outcome_free(&o);
    f->cf.counter_store = NULL;
    store_clear(&counters_mem);
}

/* a device abort (1223) is reported and asks for no more commands; a
   device the backend forgot (exchange 404) gets 403 and its session ends */
static void
test_abort_and_gone(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        token[33], msg[16384];

    f->be.commands = "[{\"id\":\"1\",\"verb\":\"Get\",\"target\":\"./A\"}]";
    login(f, "20", &o, token);
    outcome_free(&o);
    snprintf(msg, sizeof(msg), "%s", device_msg("20", 2, NULL,
             HDR_STATUS("1") "<Alert><CmdID>2</CmdID><Data>1223</Data>"
             "</Alert>"));
    drive(f, msg, token, &o);
    assert_string_equal(o.ops, "exchange");
    assert_non_null(strstr(f->be.last_exchange, "\"code\":\"1223\""));
    assert_non_null(strstr(f->be.last_exchange, "\"max_commands\":0"));
    expect_field(&o, "SyncBody/Status[2]/Cmd", "Alert");
    expect_field(&o, "SyncBody/Status[2]/Data", "200");
    expect_no_field(&o, "SyncBody/Status[3]/CmdID");
    outcome_free(&o);

    f->be.commands = "[{\"id\":\"1\",\"verb\":\"Get\",\"target\":\"./A\"}]";
    login(f, "21", &o, token);
    outcome_free(&o);
    f->be.registered = 0;
    snprintf(msg, sizeof(msg), "%s", device_msg("21", 2, NULL,
             HDR_STATUS("1")));
    drive(f, msg, token, &o);
    assert_int_equal(o.http_status, 200);
    assert_string_equal(o.auth, "session");
    expect_field(&o, "SyncBody/Status[1]/Data", "403");
    assert_non_null(strstr(session_blob(&f->mem, "21"), "\"ended\":true"));
    outcome_free(&o);
}

static void
test_versions_and_garbage(void **state)
{
    fixture_t   *f = *state;
    outcome_t    o;
    const char  *msg;

    msg = "<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr>"
          "<VerDTD>1.2</VerDTD><VerProto>DM/1.3</VerProto>"
          "<SessionID>1</SessionID><MsgID>1</MsgID>"
          "<Target><LocURI>" SERVER "</LocURI></Target>"
          "<Source><LocURI>" DEV "</LocURI></Source></SyncHdr>"
          "<SyncBody>" PKG1("1", "2") "<Final/></SyncBody></SyncML>";
    drive(f, msg, NULL, &o);
    assert_int_equal(o.http_status, 200);
    assert_string_equal(o.ops, "");
    expect_field(&o, "SyncBody/Status[1]/Data", "513");
    expect_field(&o, "SyncBody/Status[1]/Cmd", "SyncHdr");
    expect_no_field(&o, "SyncBody/Status[2]/CmdID");
    expect_field(&o, "SyncBody/Final", "1");
    outcome_free(&o);

    msg = "<SyncML xmlns=\"SYNCML:SYNCML2.0\"><SyncHdr>"
          "<VerDTD>2.0</VerDTD><VerProto>DM/2.0</VerProto>"
          "<SessionID>1</SessionID><MsgID>1</MsgID>"
          "<Target><LocURI>" SERVER "</LocURI></Target>"
          "<Source><LocURI>" DEV "</LocURI></Source></SyncHdr>"
          "<SyncBody>" PKG1("1", "2") "<Final/></SyncBody></SyncML>";
    drive(f, msg, NULL, &o);
    assert_int_equal(o.http_status, 200);
    assert_string_equal(o.ops, "");
    expect_field(&o, "SyncBody/Status[1]/Data", "505");
    outcome_free(&o);
    assert_int_equal(f->mem.n, 0);

    drive(f, "this is not SyncML", NULL, &o);
    assert_int_equal(o.http_status, 400);
    assert_string_equal(o.content_type, "text/plain");
    assert_true(o.len > 1);
    assert_string_not_equal(o.error, "");
    outcome_free(&o);

    f->cf.limits.max_elements = 5;
    drive(f, device_msg("1", 1, NULL, PKG1("1", "2")), NULL, &o);
    assert_int_equal(o.http_status, 413);
    outcome_free(&o);
    assert_int_equal(f->mem.n, 0);
}

static void
test_bad_calls(void **state)
{
    fixture_t         *f = *state;
    omadm_exchange_t  *ex;
    omadm_action_t     act;

    assert_int_equal(omadm_exchange_create(NULL, &f->store, "", 0,
                     OMADM_ENC_XML, NULL, 0, 0, &ex), OMADM_EINVAL);
    assert_null(ex);
    assert_int_equal(omadm_exchange_create(&f->cf, &f->store, NULL, 0,
                     OMADM_ENC_XML, NULL, 0, 0, &ex), OMADM_OK);
    /* no backend call outstanding */
    assert_int_equal(omadm_exchange_backend_done(ex, 200, "{}", 2),
                     OMADM_EINVAL);
    assert_int_equal(omadm_exchange_run(ex, &act), OMADM_OK);
    assert_int_equal(act.kind, OMADM_ACT_RESPOND);
    assert_int_equal(act.http_status, 400);
    assert_null(omadm_exchange_var(ex, 99, NULL));
    omadm_exchange_destroy(ex);
    omadm_exchange_destroy(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_md5_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_basic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_in_resp_uri, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_attempt_reserved, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unauthenticated_storage_bounded,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_nonce_is_not_a_failure,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_password_and_throttle,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_and_repeat, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_backend_failures, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unknown_device_and_store_full,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_and_gone, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_versions_and_garbage, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_calls, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
