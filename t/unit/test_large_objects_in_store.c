
/*
 * A device's large object in the object store (§3.3): the store full at
 * once or later, segments evicted or kept alive while the session goes on,
 * an object cut short by Final or an abort, and the server's MaxObjSize.
 */

#include "large_objects.h"

/* max_object_size is declared as the server's MaxObjSize. */
static void
test_server_max_obj_size(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        token[33];

    login_with(f, OMADM_ENC_XML, "1", "", &o, token);
    expect_no_field(&o, "SyncHdr/Meta/MaxObjSize");
    outcome_free(&o);

    f->cf.max_object_size = 4096;
    login_with(f, OMADM_ENC_XML, "2", "", &o, token);
    expect_field(&o, "SyncHdr/Meta/MaxObjSize", "4096");
    outcome_free(&o);

    /* the challenge too */
    drive(f, device_msg("3", 1, NULL, PKG1("1", "2")), NULL, &o);
    expect_field(&o, "SyncBody/Status[1]/Data", "407");
    expect_field(&o, "SyncHdr/Meta/MaxObjSize", "4096");
    outcome_free(&o);
}


/* Chunks go to the object store when one is configured, with the session's
   lifetime, and leave it when the object is complete. */
static void
test_object_store(void **state)
{
    fixture_t      *f = *state;
    object_zone_t  *zone = object_zone(f);
    outcome_t       o;
    char            token[33], value[1201];
    entry_t        *e;

    f->cf.max_object_size = 4096;
    make_value(value, 1200, 1);
    first_chunk_taken(f, token, value, 600, "1200");
    assert_null(object_segment(&f->mem, "1", 0));
    e = object_segment(&zone->mem, "1", 0);
    assert_non_null(e);
    assert_int_equal(e->val_len, char_boundary(value, 600));
    assert_int_equal(e->ttl, f->cf.session_ttl);

    reply(f, token, 3, chunk_results(2, value, 600, 1200, NULL, 0), 1, &o);
    expect_results_status(&o, "3", "2", "200");
    expect_exchange(f, value);
    assert_null(object_segment(&zone->mem, "1", 0));
    outcome_free(&o);
    object_zone_free(zone);
}

/* The object store full: 420 for the chunk, the Get fails with 420. */
static void
test_object_store_full(void **state)
{
    fixture_t      *f = *state;
    object_zone_t  *zone = object_zone(f);
    outcome_t       o;
    char            token[33];

    f->cf.max_object_size = 4096;
    zone->mem.fail_put = 1;
    start_get(f, OMADM_ENC_XML, "1", &o, token);

    reply(f, token, 2, first_chunk("abcdef", 6, "12"), 0, &o);
    expect_results_status(&o, "2", "3", "420");
    expect_exchange(f, told_status("g", "420"));
    outcome_free(&o);
    object_zone_free(zone);
}

/* The stored bytes of the object lost between two chunks (evicted, or the
   store turning full): the next chunk (Results CmdID 2, with MoreData) of
   message 3 gets `code` and the Get fails with
   it; nothing of the object is left in `store`, the session goes on. */
static void
expect_object_lost(fixture_t *f, const char *token, const char *chunk,
    mem_store_t *store, const char *code)
{
    outcome_t  o;

    reply(f, token, 3, chunk, 0, &o);
    assert_int_equal(o.http_status, 200);
    expect_results_status(&o, "3", "2", code);
    expect_get_failed(f, code);
    assert_false(holds_object(store));
    outcome_free(&o);
}

/* The stored bytes of the object evicted between two chunks: the next
   chunk gets 500 and the Get fails with 500; the session goes on. */
static void
test_incoming_segment_evicted(void **state)
{
    fixture_t  *f = *state;
    char        token[33], value[3001];

    f->cf.max_object_size = 4096;
    make_value(value, 3000, 1);
    first_chunk_taken(f, token, value, 1000, "3000");

    evict_segment(&f->mem, "1", 0);
    expect_object_lost(f, token, chunk_results(2, value, 1000, 2000, NULL, 1),
                       &f->mem, "500");
}

/* an object of two segments (64 KiB each at most) */
#define TWO_SEGMENTS  78000

/* value (TWO_SEGMENTS bytes) taken in chunks of 6000 bytes but the last,
   each one answered 213, the second segment started; returns where the
   last chunk starts, *msg is the device's last MsgID */
static size_t
two_segments_taken(fixture_t *f, char *token, const char *value, int *msg)
{
    outcome_t     o;
    const size_t  piece = 6000;
    size_t        at;

    f->cf.max_object_size = 100000;
    first_chunk_taken(f, token, value, piece, "78000");
    *msg = 2;
    for (at = piece; at + piece < TWO_SEGMENTS; at += piece) {
        reply(f, token, ++*msg,
              chunk_results(2, value, at, at + piece, NULL, 1), 0, &o);
        expect_field(&o, "SyncBody/Status[2]/Data", "213");
        outcome_free(&o);
    }
    assert_non_null(object_segment(&f->mem, "1", 1));
    return at;
}

/* The first segment evicted before the last chunk while the second is
   still there: 500 for that chunk, the Get fails with 500, and nothing of
   the object is delivered or left behind. */
static void
test_incoming_first_segment_evicted(void **state)
{
    fixture_t    *f = *state;
    outcome_t     o;
    char          token[33];
    static char   value[TWO_SEGMENTS + 1];
    size_t        at;
    int           msg;

    make_value(value, TWO_SEGMENTS, 0);
    at = two_segments_taken(f, token, value, &msg);

    evict_segment(&f->mem, "1", 0);
    reply(f, token, ++msg, chunk_results(2, value, at, TWO_SEGMENTS, NULL, 0),
          1, &o);
    assert_int_equal(o.http_status, 200);
    expect_field(&o, "SyncBody/Status[2]/Cmd", "Results");
    expect_field(&o, "SyncBody/Status[2]/Data", "500");
    expect_get_failed(f, "500");
    expect_field(&o, "SyncBody/Final", "1");
    assert_false(holds_object(&f->mem));
    outcome_free(&o);
}

/* The segments of an object coming in live as long as its session: one
   no longer written to is given the session's lifetime again (touch) with
   every message, or a slow device would see it expire before its end. */
static void
test_incoming_segments_kept_alive(void **state)
{
    fixture_t    *f = *state;
    char          token[33];
    static char   value[TWO_SEGMENTS + 1];
    entry_t      *e;
    int           msg;

    make_value(value, TWO_SEGMENTS, 0);
    two_segments_taken(f, token, value, &msg);

    /* the last message wrote the second segment only */
    e = object_segment(&f->mem, "1", 0);
    assert_non_null(e);
    assert_true(e->touched > 0);
    assert_int_equal(e->ttl, f->cf.session_ttl);
}

/* The object store turning full after the first chunk: 420 for the next
   one, the Get fails with 420, and the chunks stored leave the store. */
static void
test_object_store_full_later(void **state)
{
    fixture_t      *f = *state;
    object_zone_t  *zone = object_zone(f);
    char            token[33], value[2001];

    f->cf.max_object_size = 4096;
    make_value(value, 2000, 1);
    first_chunk_taken(f, token, value, 700, "2000");
    assert_true(holds_object(&zone->mem));

    zone->mem.fail_put = 1;
    expect_object_lost(f, token, chunk_results(2, value, 700, 1400, NULL, 1),
                       &zone->mem, "420");
    object_zone_free(zone);
}

/* the device's session abort, as CmdID 2 of its message */

/* The device's message 3 after the first chunk of its object is `body`
   (Final): the object ends there unfinished, so the Get fails with 424,
   nothing of it is left in the store; answered in o. */
static void
object_cut_short(fixture_t *f, const char *body, outcome_t *o)
{
    char  token[33], value[3001];

    f->cf.max_object_size = 4096;
    make_value(value, 3000, 1);
    first_chunk_taken(f, token, value, 1000, "3000");

    reply(f, token, 3, body, 1, o);
    assert_int_equal(o->http_status, 200);
    expect_get_failed(f, "424");
    assert_false(holds_object(&f->mem));
}

/* The device ends its package without the rest of its object: our answer
   ends ours, rather than asking for the rest (Alert 1222) for ever. */
static void
test_incoming_unfinished_at_final(void **state)
{
    outcome_t  o;

    object_cut_short(*state, "", &o);
    assert_int_equal(command_index(&o, "Alert"), 0);
    expect_field(&o, "SyncBody/Final", "1");
    outcome_free(&o);
}

/* The device aborts the session (Alert 1223) while its object comes. */
static void
test_incoming_device_abort(void **state)
{
    outcome_t  o;

    object_cut_short(*state, DEVICE_ABORT, &o);
    outcome_free(&o);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        EXCHANGE_TEST(test_object_store),
        EXCHANGE_TEST(test_object_store_full),
        EXCHANGE_TEST(test_incoming_segment_evicted),
        EXCHANGE_TEST(test_incoming_first_segment_evicted),
        EXCHANGE_TEST(test_incoming_segments_kept_alive),
        EXCHANGE_TEST(test_object_store_full_later),
        EXCHANGE_TEST(test_incoming_unfinished_at_final),
        EXCHANGE_TEST(test_incoming_device_abort),
        EXCHANGE_TEST(test_server_max_obj_size),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
