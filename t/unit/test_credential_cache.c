/*
 * The credential cache (contract version 2) through the C ABI: a record
 * with a credential_version is kept in the store, a later login verified
 * against it makes no "auth" call and its exchange carries the version,
 * and a "409 credentials changed" sends the message to "auth" again.
 */

#include "exchange_harness.h"


static void
keep_copies(fixture_t *f)
{
    f->cf.credential_store = &f->store;
    f->be.auth_extra = ",\"credential_version\":\"cv-1\"";
}


/* package 1 with an MD5 Cred made with pass over the device's nonce */
static void
md5_login(fixture_t *f, const char *session, const char *pass, outcome_t *o)
{
    char  nonce[64];

    strcpy(nonce, f->be.nonce);
    drive(f, package_msg(session, 1, md5_cred("dev1", pass, nonce),
                         PKG1("1", "2"), 1), NULL, o);
    assert_int_equal(o->http_status, 200);
}


static void
test_later_login_needs_no_auth(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        token[33];

    keep_copies(f);
    login(f, "1", &o, token);
    expect_exchange(f, "\"credential_version\":\"cv-1\"");
    outcome_free(&o);

    /* the nonce the first login handed out is in the copy too */
    md5_login(f, "2", "secret", &o);
    expect_field(&o, "SyncBody/Status[1]/Data", "212");
    assert_string_equal(o.ops, "exchange");
    expect_exchange(f, "\"credential_version\":\"cv-1\"");
    outcome_free(&o);
}


static void
test_without_a_version_nothing_is_kept(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        token[33];

    f->cf.credential_store = &f->store;     /* an older backend */
    login(f, "1", &o, token);
    expect_no_exchange(f, "credential_version");
    outcome_free(&o);
    login(f, "2", &o, token);               /* asserts "auth,exchange" */
    outcome_free(&o);
}


static void
test_credentials_changed_asks_auth_again(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        token[33];

    keep_copies(f);
    login(f, "1", &o, token);
    outcome_free(&o);

    /* the operator set a new password: the backend refuses the copy's
       version once, and auth answers the new record */
    assert_int_equal(omadm_auth_md5_inner("dev1", 4, "changed", 7,
                     f->be.inner, sizeof(f->be.inner), NULL), OMADM_OK);
    f->be.auth_extra = ",\"credential_version\":\"cv-2\"";
    strcpy(f->be.fail_op, "exchange");
    f->be.fail_status = 409;
    f->be.fail_body = "{\"error\":\"credentials changed\"}";
    md5_login(f, "2", "secret", &o);
    assert_string_equal(o.ops, "exchange,auth,nonce");
    expect_field(&o, "SyncBody/Status[1]/Data", "401");
    assert_string_equal(o.auth, "failed");
    outcome_free(&o);

    /* the new password logs in, against the new record that auth
       answered (kept in its turn) and its version */
    md5_login(f, "3", "changed", &o);
    expect_field(&o, "SyncBody/Status[1]/Data", "212");
    assert_string_equal(o.ops, "exchange");
    expect_exchange(f, "\"credential_version\":\"cv-2\"");
    outcome_free(&o);
}


static void
test_a_copy_that_does_not_verify_decides_nothing(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        token[33];

    keep_copies(f);
    login(f, "1", &o, token);
    outcome_free(&o);

    /* a wrong password: the backend's own record decides, and counts it */
    md5_login(f, "2", "guess", &o);
    expect_field(&o, "SyncBody/Status[1]/Data", "401");
    assert_string_equal(o.ops, "auth,nonce");
    assert_string_equal(o.auth, "failed");
    outcome_free(&o);
}


/* the zone's view for copies when it is full of sessions: the same
   entries, no free room for a new one */
static int
no_room_put(void *ctx, const char *key, size_t key_len, const char *val,
    size_t val_len, unsigned ttl)
{
    (void) ctx; (void) key; (void) key_len; (void) val; (void) val_len;
    (void) ttl;
    return OMADM_ERROR;
}


/* A copy from "auth" finds no free room, the copy the successful login
   leaves may evict, and is what the next login verifies against. */
static void
test_a_full_zone_keeps_the_logins_copy(void **state)
{
    fixture_t      *f = *state;
    outcome_t       o;
    char            token[33];
    omadm_store_t   no_room;

    no_room = f->store;
    no_room.put = no_room_put;
    keep_copies(f);
    f->cf.credential_store = &no_room;
    f->cf.login_credential_store = &f->store;

    login(f, "1", &o, token);               /* asserts "auth,exchange" */
    outcome_free(&o);

    md5_login(f, "2", "secret", &o);
    expect_field(&o, "SyncBody/Status[1]/Data", "212");
    assert_string_equal(o.ops, "exchange");
    outcome_free(&o);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        EXCHANGE_TEST(test_later_login_needs_no_auth),
        EXCHANGE_TEST(test_without_a_version_nothing_is_kept),
        EXCHANGE_TEST(test_credentials_changed_asks_auth_again),
        EXCHANGE_TEST(test_a_copy_that_does_not_verify_decides_nothing),
        EXCHANGE_TEST(test_a_full_zone_keeps_the_logins_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
