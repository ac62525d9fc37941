/*
 * The session record in the store: compact (the kept answer deflated),
 * read back whole, and anything else in its place (the JSON blob of the
 * module before it, a damaged or cut record) is no session at all: the
 * device authenticates again, nothing crashes.
 */

#include "exchange_harness.h"


/* a session that goes on: its 212 carries a Get */
static void
open_session(fixture_t *f, const char *session, char *token)
{
    outcome_t  o;

    f->be.commands = "[{\"id\":\"c1\",\"verb\":\"Get\","
                     "\"target\":\"./DevDetail/SwV\"}]";
    login(f, session, &o, token);
    expect_field(&o, "SyncBody/Get[4]/Item[1]/Target", "./DevDetail/SwV");
    outcome_free(&o);
}

/* the device's next message in the session: its verdict */
static void
next_message(fixture_t *f, const char *session, const char *token,
    const char *verdict)
{
    outcome_t  o;

    drive(f, device_msg(session, 2, NULL, HDR_STATUS("1")), token, &o);
    assert_int_equal(o.http_status, 200);
    assert_string_equal(o.auth, verdict);
    outcome_free(&o);
}

static void
test_record_is_compact(void **state)
{
    fixture_t  *f = *state;
    entry_t    *e;
    char        token[33];
    const char *text, *answer;

    open_session(f, "1", token);
    e = session_entry(&f->mem, "1");
    assert_non_null(e);
    assert_true(e->val[0] != '{');

    /* what it says: the bookkeeping, and the whole answer after a NUL */
    text = session_blob(&f->mem, "1");
    assert_non_null(strstr(text, "\"token\":\""));
    assert_non_null(strstr(text, token));
    answer = text + strlen(text) + 1;
    assert_non_null(strstr(answer, "<Get><CmdID>4</CmdID>"));
    assert_non_null(strstr(answer, "</SyncML>"));

    /* the answer is most of what is kept, and it is kept deflated */
    assert_true(strlen(answer) > 800);
    assert_true(e->val_len < 400);
    next_message(f, "1", token, "session");
}

/* a record written by the module before this one (the bookkeeping as
   JSON, a NUL, the answer) is no session: authenticate again */
static void
test_old_record_is_absent(void **state)
{
    fixture_t  *f = *state;
    entry_t    *e;
    outcome_t   o;
    char        token[33], *old = NULL, *msg;
    size_t      old_len = 0;

    open_session(f, "2", token);
    e = session_entry(&f->mem, "2");
    assert_int_equal(omadm_session_describe(e->val, e->val_len, &old,
                     &old_len), OMADM_OK);
    store_put(&f->mem, e->key, e->key_len, old, old_len, 300);
    omadm_free(old);
    assert_int_equal(omadm_session_describe(e->val, e->val_len, &old, NULL),
                     OMADM_EINVAL);

    next_message(f, "2", token, "missing");

    /* nor is its kept answer resent: package 1 again is a new login */
    msg = device_msg("2", 1, md5_cred("dev1", "secret", f->be.nonce),
                     PKG1("1", "2"));
    drive(f, msg, NULL, &o);
    assert_string_equal(o.ops, "auth,exchange");
    assert_string_equal(o.auth, "ok");
    outcome_free(&o);
}

/* every cut of a record, and every flipped byte, reads as a whole
   record or as none */
static void
test_damaged_record(void **state)
{
    fixture_t  *f = *state;
    entry_t    *e;
    char        token[33], *good, *text;
    size_t      len, cut, i;

    open_session(f, "3", token);
    e = session_entry(&f->mem, "3");
    len = e->val_len;
    good = malloc(len);
    memcpy(good, e->val, len);

    for (cut = 0; cut < len; cut++) {
        text = NULL;
        assert_int_equal(omadm_session_describe(good, cut, &text, NULL),
                         OMADM_EINVAL);
    }
    for (i = 0; i < len; i++) {
        good[i] ^= 0x5a;
        text = NULL;
        if (omadm_session_describe(good, len, &text, NULL) == OMADM_OK) {
            omadm_free(text);
        }
        good[i] ^= 0x5a;
    }

    /* a cut record in the store: the device authenticates again */
    store_put(&f->mem, e->key, e->key_len, good, len - 1, 300);
    free(good);
    next_message(f, "3", token, "missing");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        EXCHANGE_TEST(test_record_is_compact),
        EXCHANGE_TEST(test_old_record_is_absent),
        EXCHANGE_TEST(test_damaged_record),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
