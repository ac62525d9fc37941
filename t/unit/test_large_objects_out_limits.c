
/*
 * Large objects to the device at their limits (§3.3): no room for a chunk
 * within the device's MaxMsgSize, markup that escaping makes larger, the
 * device refusing the server's credentials on a chunk, the object zone
 * full or evicting, and "object" answers that do not fit the command.
 */

#include "outgoing_objects.h"

/* A device whose MaxMsgSize leaves no room for a chunk beside what its
   messages need (XML, 1024 bytes): the Replace fails to the backend with
   a reason at once, rather than waiting for room that never comes. */
static void
test_outgoing_no_room(void **state)
{
    fixture_t   *f = *state;
    outcome_t    o;
    follow_t     fl;
    char         value[3001];

    memset(value, 'v', 3000);
    value[3000] = '\0';
    queue_big(f, value, INLINE);
    follow_start_as(f, &fl, OMADM_ENC_XML, 1024, NULL, &o);
    assert_true(o.len <= 1024);
    assert_string_equal(o.ops, "auth,exchange,exchange");
    expect_exchange(f, BIG_FAILED("command too large for the device's "
                                  "MaxMsgSize (1024 bytes)\"}]"));
    assert_int_equal(command_index(&o, "Replace"), 0);
    outcome_free(&o);
}

/* package 1 with a Basic Cred (the answer without Chal) and MaxMsgSize
   limit; f->cf.auth_accept must take Basic */
static void
basic_start(fixture_t *f, int enc, size_t limit, outcome_t *o, char *token)
{
    char  hdr[1024];

    snprintf(hdr, sizeof(hdr),
             "%s<Meta><MaxMsgSize xmlns=\"syncml:metinf\">%zu</MaxMsgSize>"
             "</Meta>", basic_cred("dev1", "secret"), limit);
    drive_enc(f, enc, package_msg("1", 1, hdr, PKG1("1", "2"), 1), NULL, o);
    assert_int_equal(o->http_status, 200);
    expect_field(o, "SyncBody/Status[1]/Data", "212");
    resp_token(o, token, 33);
}

/* how a session with a fetched Replace of NO_ROOM_SIZE bytes ended */
enum { ROOM_SENT, ROOM_REFUSED, ROOM_GAVE_UP };

#define NO_ROOM_SIZE  3000

/*
 * One session (Basic login) with a device of MaxMsgSize limit: each chunk
 * answered 213 (no Final: our package is open) or 200 with Final for the
 * last; an answer without a chunk answered with our SyncHdr's Status
 * alone, or with Alert 1222 too when ask_more.  Every answer with a chunk
 * within limit (one of Statuses alone may not be, at the smallest), never
 * more than two in a row without a chunk; how it ended.
 */
static int
no_room_session(fixture_t *f, int enc, size_t limit, int ask_more)
{
    outcome_t    o;
    char         token[33], body[1024], path[64];
    static char  value[NO_ROOM_SIZE + 1], got[NO_ROOM_SIZE + 1];
    size_t       have = 0;
    int          msgs, idle = 0, k, last, server_msg, dev = 1;
    const char  *what = enc == OMADM_ENC_WBXML
                        ? (ask_more ? "WBXML, Alert 1222" : "WBXML")
                        : (ask_more ? "XML, Alert 1222" : "XML");

    store_clear(&f->mem);
    f->be.object_log[0] = '\0';
    make_value(value, NO_ROOM_SIZE, 0);
    got[0] = '\0';
    f->be.object_value = value;
    f->be.commands = "[{\"id\":\"big\",\"verb\":\"Replace\","
                     "\"target\":\"./Big\",\"format\":\"chr\","
                     "\"data_size\":3000}]";
    basic_start(f, enc, limit, &o, token);

    for (msgs = 1; ; msgs++) {
        /* a chunk holds 100 bytes or more on average, not a few */
        if (msgs > NO_ROOM_SIZE / 100) {
            fail_msg("%s MaxMsgSize %zu: no end", what, limit);
        }
        assert_int_equal(o.http_status, 200);
        server_msg = atoi(field(&o, "SyncHdr/MsgID"));
        k = command_index(&o, "Replace");
        if (k > 0 && o.len > limit) {
            fail_msg("%s MaxMsgSize %zu: a chunk in %zu bytes", what, limit,
                     o.len);
        }
        if (k == 0) {
            if (field(&o, "SyncBody/Final") != NULL) {
                break;
            }
            if (++idle > 2) {
                fail_msg("%s MaxMsgSize %zu: %d answers in a row without "
                         "a chunk", what, limit, idle);
            }
            snprintf(body, sizeof(body), "%s", ask_more
                     ? "<Alert><CmdID>2</CmdID><Data>1222</Data></Alert>"
                     : "");
            last = 0;
        } else {
            idle = 0;
            snprintf(path, sizeof(path), "SyncBody/Replace[%d]/Item[1]/Data",
                     k);
            assert_true(field_copy(&o, path, got + have,
                                   sizeof(got) - have));
            have = strlen(got);
            last = item_field(&o, "Replace", k, "Item[1]/MoreData") == NULL;
            snprintf(body, sizeof(body),
                     "<Status><CmdID>2</CmdID><MsgRef>%d</MsgRef>"
                     "<CmdRef>%s</CmdRef><Cmd>Replace</Cmd>"
                     "<Data>%s</Data></Status>", server_msg,
                     item_field(&o, "Replace", k, "CmdID"),
                     last ? "200" : "213");
        }
        outcome_free(&o);
        drive_enc(f, enc, package_msg("1", ++dev, NULL,
                  with_hdr_status(server_msg, body), last), token, &o);
        if (last) {
            outcome_free(&o);
            assert_string_equal(got, value);
            expect_exchange(f, told_status("big", "200"));
            return ROOM_SENT;
        }
    }
    outcome_free(&o);
    if (msgs == 1) {
        expect_exchange(f, BIG_FAILED("command too large for the device's "
                                      "MaxMsgSize"));
        return ROOM_REFUSED;
    }
    expect_exchange(f, NO_ROOM_FAILED);
    return ROOM_GAVE_UP;
}

/*
 * Every MaxMsgSize about the least a large object can go with, in XML and
 * WBXML, the device asking for more with Alert 1222 or not: the object
 * goes, or fails to the backend with a reason, at once or after at most
 * two answers without a chunk; never an endless run of them.
 */
static void
test_outgoing_no_room_sweep(void **state)
{
    /* from well below the least MaxMsgSize that takes the object to well
       above it (some 1050 bytes in XML, 610 in WBXML) */
    static const size_t  from[2] = { 700, 400 }, to[2] = { 1200, 900 };
    fixture_t           *f = *state;
    size_t               limit;
    int                  enc, ask_more, n[2][3];

    /* Basic: no Chal in the first answer, so that a MaxMsgSize with room
       for a chunk beside its Statuses, but not beside the Status of the
       device's Alert 1222, is in the sweep */
    f->cf.auth_accept = OMADM_AUTH_BASIC;
    memset(n, 0, sizeof(n));
    for (enc = 0; enc < 2; enc++) {
        for (ask_more = 0; ask_more < 2; ask_more++) {
            for (limit = from[enc]; limit <= to[enc]; limit++) {
                n[enc][no_room_session(f, enc ? OMADM_ENC_WBXML
                                              : OMADM_ENC_XML,
                                       limit, ask_more)]++;
            }
        }
        /* the boundary is within the sweep */
        assert_true(n[enc][ROOM_SENT] > 0);
        assert_true(n[enc][ROOM_REFUSED] + n[enc][ROOM_GAVE_UP] > 0);
    }
}

/* n Generic Alerts (1226), CmdIDs from first on */
static const char *
generic_alerts(int first, int n)
{
    static char  buf[2048];
    char        *p = buf;
    int          i;

    for (i = 0; i < n; i++) {
        p += snprintf(p, sizeof(buf) - (size_t) (p - buf),
            "<Alert><CmdID>%d</CmdID><Data>1226</Data><Item>"
            "<Source><LocURI>./Event/%d</LocURI></Source>"
            "<Meta><Type xmlns=\"syncml:metinf\">x-oma-test</Type>"
            "<Format xmlns=\"syncml:metinf\">chr</Format></Meta>"
            "<Data>event</Data></Item></Alert>", first + i, i);
        assert_true((size_t) (p - buf) < sizeof(buf));
    }
    return buf;
}

/* Room for a chunk at first, then none: the device's every message holds
   six Generic Alerts, whose Statuses take it all.  Two answers without a
   chunk, then the Replace fails to the backend with the reason, and the
   package ends. */
static void
test_outgoing_no_room_later(void **state)
{
    fixture_t    *f = *state;
    outcome_t     o;
    char          token[33], body[4096], st[512];
    static char   value[3001];
    int           msg, k, server_msg;

    f->cf.auth_accept = OMADM_AUTH_BASIC;
    make_value(value, 3000, 0);
    queue_big(f, value, FETCHED);
    basic_start(f, OMADM_ENC_XML, 1100, &o, token);
    k = command_index(&o, "Replace");
    assert_true(k > 0);
    assert_non_null(item_field(&o, "Replace", k, "Item[1]/MoreData"));
    server_msg = atoi(field(&o, "SyncHdr/MsgID"));
    snprintf(st, sizeof(st),
             "<Status><CmdID>2</CmdID><MsgRef>%d</MsgRef><CmdRef>%s</CmdRef>"
             "<Cmd>Replace</Cmd><Data>213</Data></Status>", server_msg,
             item_field(&o, "Replace", k, "CmdID"));
    outcome_free(&o);

    for (msg = 2; ; msg++) {
        snprintf(body, sizeof(body), "%s%s", st, generic_alerts(3, 6));
        st[0] = '\0';
        drive(f, package_msg("1", msg, NULL,
                             with_hdr_status(server_msg, body), 0),
              token, &o);
        assert_int_equal(o.http_status, 200);
        assert_int_equal(command_index(&o, "Replace"), 0);
        expect_field(&o, "SyncBody/Status[7]/Cmd", "Alert");
        if (msg == 4) {
            break;
        }
        expect_no_field(&o, "SyncBody/Final");
        expect_no_exchange(f, "\"failed\"");
        server_msg = atoi(field(&o, "SyncHdr/MsgID"));
        outcome_free(&o);
    }
    expect_exchange(f, NO_ROOM_FAILED);
    expect_object_dropped(f, &o);
    outcome_free(&o);
}

/* A value of markup only grows five times when escaped in XML: chunks
   still go, each within MaxMsgSize; inline or fetched through "object". */
static void
markup_heavy(void **state, int fetched)
{
    fixture_t   *f = *state;
    outcome_t    o;
    follow_t     fl;
    static char  value[3001];

    make_markup_only(value, 3000);
    queue_big(f, value, fetched);
    follow_start(f, &fl, 3000, fetched, &o);
    follow_object(f, &fl, &o);
    assert_string_equal(fl.got, value);
    outcome_free(&o);
}

static void
test_outgoing_markup_heavy(void **state)
{
    markup_heavy(state, INLINE);
}

static void
test_outgoing_markup_heavy_fetched(void **state)
{
    markup_heavy(state, FETCHED);
}

/* An inline value too large for a message goes to the object store to be
   sent from; the store full, the command fails to the backend with the
   reason, and the answer goes on without it. */
static void
test_outgoing_zone_full(void **state)
{
    fixture_t      *f = *state;
    object_zone_t  *zone = object_zone(f);
    outcome_t       o;
    follow_t        fl;
    char            value[3001];

    zone->mem.fail_put = 1;
    make_value(value, 3000, 0);
    queue_with_big(f, "", value, INLINE, GET_AFTER);
    follow_start(f, &fl, 3000, INLINE, &o);
    expect_big_failed(f, &o, "auth,exchange,exchange",
                      BIG_FAILED("the object zone has no room for the large "
                                 "object\"}]"));
    expect_get_of(&o, NULL);
    outcome_free(&o);
    object_zone_free(zone);
}

/* The stored value of an inline object evicted after its first chunk:
   the command fails to the backend with the reason, no more chunks. */
static void
test_outgoing_evicted(void **state)
{
    fixture_t   *f = *state;
    follow_t     fl;
    char         key[128];
    int          n;

    first_chunk_sent(f, &fl, PLAIN, INLINE);

    n = segment_key_of(key, sizeof(key), "1", 'o', 0);
    assert_int_equal(store_remove(&f->mem, key, (size_t) n), OMADM_OK);
    big_fails_after_213(f, &fl, "exchange,exchange",
                        BIG_FAILED("the large object was evicted from the "
                                   "object zone\"}]"));
}

/* The stored value of an inline object lives as long as its session: a
   message that does not rewrite it gives it the session's lifetime again
   (touch). */
static void
test_outgoing_segments_kept_alive(void **state)
{
    fixture_t   *f = *state;
    outcome_t    o;
    follow_t     fl;
    entry_t     *e;

    first_chunk_sent(f, &fl, PLAIN, INLINE);
    answer_chunk(f, &fl, "213", &o);
    assert_true(take_chunk(f, &fl, &o));
    outcome_free(&o);

    e = our_segment(&f->mem, "1", 0);
    assert_non_null(e);
    assert_true(e->touched > 0);
    assert_int_equal(e->ttl, f->cf.session_ttl);
}

/* data_size 0: an empty value, sent inline (no Meta/Size, no MoreData)
   without an "object" call, which would be refused (400: "length" must
   be at least 1); the device's Status reaches the backend. */
static void
test_outgoing_fetched_empty(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    follow_t    fl;
    char        st[512];
    int         k;

    backend_fails_once(f, "object", 400,
                       "{\"error\":\"\\\"length\\\" must be at least 1\"}");
    f->be.commands = "[" BIG_FETCHED("0") "]";
    follow_start(f, &fl, 0, FETCHED, &o);
    assert_string_equal(o.ops, "auth,exchange");
    k = command_index(&o, "Replace");
    assert_true(k > 0);
    assert_null(item_field(&o, "Replace", k, "Item[1]/Meta/Size"));
    assert_null(item_field(&o, "Replace", k, "Item[1]/MoreData"));
    expect_field(&o, "SyncBody/Final", "1");
    snprintf(st, sizeof(st),
             "<Status><CmdID>2</CmdID><MsgRef>1</MsgRef><CmdRef>%s</CmdRef>"
             "<Cmd>Replace</Cmd><Data>200</Data></Status>",
             item_field(&o, "Replace", k, "CmdID"));
    outcome_free(&o);

    reply(f, fl.token, 2, st, 1, &o);
    assert_int_equal(o.http_status, 200);
    assert_string_equal(o.ops, "exchange");
    expect_exchange(f, told_status("big", "200"));
    outcome_free(&o);
}

/* The "object" call refused (400) for the first piece: asking again would
   get the same, so the Replace fails to the backend with the reason, and
   the answer goes on without it (here: the Get behind it). */
static void
test_outgoing_fetch_refused(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    follow_t    fl;

    f->be.object_value = "unused";
    backend_fails_once(f, "object", 400, "{\"error\":\"bad request\"}");
    f->be.commands = "[" BIG_FETCHED("5000") GET_AFTER "]";
    follow_start(f, &fl, 5000, FETCHED, &o);
    expect_big_failed(f, &o, "auth,exchange,object,exchange",
                      BIG_FAILED("backend object answered 400\"}]"));
    expect_get_of(&o, "./After");
    outcome_free(&o);
}

/* The "object" answer's size is not the command's data_size (the value
   changed meanwhile), on the second piece: the Replace fails to the
   backend with the reason, no more chunks go, the session ends. */
static void
test_outgoing_fetch_size_changed(void **state)
{
    fixture_t    *f = *state;
    follow_t      fl;
    static char   shorter[4001];

    make_value(shorter, 4000, 1);
    first_chunk_sent(f, &fl, MARKUP, FETCHED);

    f->be.object_value = shorter;
    big_fails_after_213(f, &fl, "exchange,object,exchange",
                        BIG_FAILED("backend object answer does not match "
                                   "the command's data_size\"}]"));
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        EXCHANGE_TEST(test_outgoing_no_room),
        EXCHANGE_TEST(test_outgoing_no_room_sweep),
        EXCHANGE_TEST(test_outgoing_no_room_later),
        EXCHANGE_TEST(test_outgoing_markup_heavy),
        EXCHANGE_TEST(test_outgoing_markup_heavy_fetched),
        EXCHANGE_TEST(test_outgoing_zone_full),
        EXCHANGE_TEST(test_outgoing_evicted),
        EXCHANGE_TEST(test_outgoing_segments_kept_alive),
        EXCHANGE_TEST(test_outgoing_fetched_empty),
        EXCHANGE_TEST(test_outgoing_fetch_refused),
        EXCHANGE_TEST(test_outgoing_fetch_size_changed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
