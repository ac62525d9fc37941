/*
 * A resend recognised by its bytes before any decode (session/repeat.hpp,
 * exchange::find_resend()): only the very bytes with the very token get
 * the kept answer that way; anything else is decoded and handled as it
 * would be without the shortcut, a text that misleads the scan included.
 */

#include "exchange_harness.h"


/* a session that goes on, and its second message answered: into msg2 */
static void
second_message(fixture_t *f, char *token, char *msg2, size_t size,
    outcome_t *o2)
{
    outcome_t  o;

    f->be.commands = "[{\"id\":\"c1\",\"verb\":\"Get\","
                     "\"target\":\"./A\"}]";
    login(f, "1", &o, token);
    outcome_free(&o);
    f->be.commands = "[{\"id\":\"c2\",\"verb\":\"Get\","
                     "\"target\":\"./B\"}]";
    snprintf(msg2, size, "%s", device_msg("1", 2, NULL, HDR_STATUS("1")));
    drive(f, msg2, token, o2);
    assert_string_equal(o2->ops, "exchange");
    assert_string_equal(o2->auth, "session");
}

static void
test_same_bytes_resent(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o2, again;
    char        token[33], msg2[16384], *before;

    second_message(f, token, msg2, sizeof(msg2), &o2);
    before = store_snapshot(&f->mem);

    drive(f, msg2, token, &again);
    assert_string_equal(again.ops, "");
    assert_string_equal(again.auth, "session");
    assert_int_equal(again.len, o2.len);
    assert_memory_equal(again.body, o2.body, o2.len);
    outcome_free(&again);

    /* the same bytes without the token, or with another one: not the
       session's message (the answer would hand out its token) */
    drive(f, msg2, NULL, &again);
    assert_string_equal(again.ops, "nonce");
    expect_field(&again, "SyncBody/Status[1]/Data", "407");
    expect_no_token(&again);
    outcome_free(&again);
    drive(f, msg2, "0123456789abcdef0123456789abcdef", &again);
    assert_string_equal(again.ops, "nonce");
    expect_no_token(&again);
    outcome_free(&again);

    /* none of that touched the session */
    {
        char *after = store_snapshot(&f->mem);
        assert_string_equal(after, before);
        free(after);
    }
    free(before);
    outcome_free(&o2);
}

/* other bytes, the same message: the decoded check still resends */
static void
test_other_bytes_same_message(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o2, again;
    char        token[33], msg2[16384], spaced[16400];

    second_message(f, token, msg2, sizeof(msg2), &o2);
    snprintf(spaced, sizeof(spaced), "%s\n", msg2);
    drive(f, spaced, token, &again);
    assert_string_equal(again.ops, "");
    assert_string_equal(again.auth, "session");
    assert_memory_equal(again.body, o2.body, o2.len);
    outcome_free(&again);

    /* another message with its MsgID is a new attempt */
    snprintf(spaced, sizeof(spaced), "%s",
             device_msg("1", 2, NULL, HDR_STATUS("1")
                        "<Alert><CmdID>2</CmdID><Data>1224</Data></Alert>"));
    drive(f, spaced, token, &again);
    assert_string_equal(again.ops, "exchange");
    outcome_free(&again);
    outcome_free(&o2);
}

/* a comment that holds the session's SyncHdr leads the scan to its
   record; the bytes are not the session's message, so they are decoded:
   a message of another session without credentials, challenged */
static void
test_scan_misled(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o2, o;
    char        token[33], msg2[16384], forged[20000];

    second_message(f, token, msg2, sizeof(msg2), &o2);
    snprintf(forged, sizeof(forged),
             "<!-- <SyncHdr><SessionID>1</SessionID><MsgID>2</MsgID>"
             "<Source><LocURI>" DEV "</LocURI></Source></SyncHdr> -->%s",
             device_msg("9", 2, NULL, HDR_STATUS("1")));
    drive(f, forged, token, &o);
    assert_int_equal(o.http_status, 200);
    assert_string_equal(o.ops, "nonce");
    expect_field(&o, "SyncHdr/SessionID", "9");
    expect_field(&o, "SyncBody/Status[1]/Data", "407");
    assert_null(strstr(o.body, token));
    outcome_free(&o);

    /* nor does the forged text before the real bytes of the session's
       message make them its repeat: decoded, it is that message, and the
       decoded check answers as it always did */
    snprintf(forged, sizeof(forged), "<!-- x -->%s", msg2);
    drive(f, forged, NULL, &o);
    assert_string_equal(o.ops, "nonce");
    expect_no_token(&o);
    outcome_free(&o);
    outcome_free(&o2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        EXCHANGE_TEST(test_same_bytes_resent),
        EXCHANGE_TEST(test_other_bytes_same_message),
        EXCHANGE_TEST(test_scan_misled),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
