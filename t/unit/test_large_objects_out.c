
/*
 * Large objects to the device, through the C ABI (§3.3): a backend
 * Add/Replace too large for the device's MaxMsgSize sent a chunk per
 * message, inline or fetched through the "object" call, each after the
 * device's 213; refused chunks, retries, aborts and two objects in turn.
 */

#include "outgoing_objects.h"

/* A Replace with 5000 bytes of data inline to a device taking small
   messages (2048 bytes in XML, 1024 in WBXML): chunk by chunk, each
   one's 213 taking the next; the last one's 200 reaches the backend as
   the command's Status. */
static void
outgoing_inline(void **state, int enc, size_t limit)
{
    fixture_t   *f = *state;
    outcome_t    o;
    follow_t     fl;
    char         value[5001];
    static char  cmds[8192];

    make_value(value, 5000, 1);
    snprintf(cmds, sizeof(cmds),
             "[{\"id\":\"big\",\"verb\":\"Replace\",\"target\":\"./Big\","
             "\"format\":\"chr\",\"data\":\"%s\"}]", value);
    f->be.commands = cmds;
    follow_start_as(f, &fl, enc, limit, NULL, &o);
    assert_string_equal(o.ops, "auth,exchange");
    fl.size = 5000;
    deliver_whole(f, &fl, value, &o);
    assert_true(fl.chunks >= 5);
    assert_int_equal(o.http_status, 200);
    assert_true(o.len <= limit);
    expect_exchange(f, "\"max_commands\":50");
    assert_int_equal(command_index(&o, "Replace"), 0);
    expect_field(&o, "SyncBody/Final", "1");
    outcome_free(&o);
}

static void
test_outgoing_inline(void **state)
{
    outgoing_inline(state, OMADM_ENC_XML, XML_LIMIT);
}

static void
test_outgoing_inline_wbxml(void **state)
{
    outgoing_inline(state, OMADM_ENC_WBXML, 1024);
}

/* The same with data_size: each chunk fetched through "object" from the
   bytes sent so far, at most a message's worth. */
static void
test_outgoing_fetched(void **state)
{
    fixture_t   *f = *state;
    outcome_t    o;
    follow_t     fl;
    static char  value[5001];

    make_value(value, 5000, 1);
    f->be.object_value = value;
    f->be.commands = "[{\"id\":\"big\",\"verb\":\"Replace\","
                     "\"target\":\"./Big\",\"format\":\"chr\","
                     "\"data_size\":5000}]";
    follow_start(f, &fl, 5000, FETCHED, &o);
    assert_string_equal(o.ops, "auth,exchange,object");
    deliver_whole(f, &fl, value, &o);
    assert_true(fl.chunks >= 5);
    assert_string_equal(o.ops, "exchange");
    expect_field(&o, "SyncBody/Final", "1");
    outcome_free(&o);
}

/* A value larger than the device's MaxObjSize fails to the backend, with
   a reason naming it, inline or by data_size; the other commands go. */
static void
test_outgoing_over_max_obj_size(void **state)
{
    fixture_t   *f = *state;
    outcome_t    o;
    follow_t     fl;
    char         value[3001];

    make_value(value, 3000, 1);
    queue_with_big(f, "", value, INLINE,
                   ",{\"id\":\"fetched\",\"verb\":\"Add\","
                   "\"target\":\"./Big2\",\"data_size\":2001},"
                   "{\"id\":\"small\",\"verb\":\"Get\",\"target\":\"./S\"}");
    follow_start_as(f, &fl, OMADM_ENC_XML, XML_LIMIT, "2000", &o);
    assert_string_equal(o.ops, "auth,exchange,exchange");
    expect_exchange(f, "{\"command_id\":\"big\",\"reason\":\"data of 3000 "
                       "bytes is larger than the device's MaxObjSize "
                       "(2000 bytes)\"}");
    expect_exchange(f, "{\"command_id\":\"fetched\",\"reason\":\"data of "
                       "2001 bytes is larger than the device's MaxObjSize");
    expect_exchange(f, "\"max_commands\":49");
    assert_string_equal(f->be.object_log, "");
    assert_int_equal(command_index(&o, "Replace"), 0);
    assert_int_equal(command_index(&o, "Add"), 0);
    expect_get_of(&o, "./S");
    expect_field(&o, "SyncBody/Final", "1");
    assert_true(o.len <= XML_LIMIT);
    outcome_free(&o);
}

/* The device refuses a chunk (500): that is the command's Status, and
   no more chunks go. */
static void
test_outgoing_chunk_refused(void **state)
{
    fixture_t   *f = *state;
    outcome_t    o;
    follow_t     fl;

    first_chunk_sent(f, &fl, PLAIN, INLINE);
    answer_chunk(f, &fl, "213", &o);
    assert_true(take_chunk(f, &fl, &o));
    outcome_free(&o);

    answer_chunk(f, &fl, "500", &o);
    assert_int_equal(o.http_status, 200);
    expect_exchange(f, told_status("big", "500"));
    expect_object_dropped(f, &o);
    outcome_free(&o);
}

/* A command after the large one waits for it, then goes. */
static void
test_outgoing_then_queued(void **state)
{
    fixture_t   *f = *state;
    outcome_t    o;
    follow_t     fl;
    char         value[3001];

    make_value(value, 3000, 0);
    queue_with_big(f, "", value, INLINE, GET_AFTER);
    follow_start(f, &fl, 3000, INLINE, &o);
    fl.queued = 1;
    deliver_whole(f, &fl, value, &o);
    expect_get_of(&o, "./After");
    expect_field(&o, "SyncBody/Final", "1");
    outcome_free(&o);
}

/* A device answering each chunk as §3.3 has it, Status 213 and Alert 1222
   without Final (its package stays open while ours is): the next chunk
   all the same. */
static void
test_outgoing_open_answers(void **state)
{
    fixture_t   *f = *state;
    outcome_t    o;
    follow_t     fl;
    char         value[4001];

    make_value(value, 4000, 1);
    queue_big(f, value, INLINE);
    follow_start(f, &fl, 4000, INLINE, &o);
    fl.open_answers = 1;
    deliver_whole(f, &fl, value, &o);
    assert_true(fl.chunks >= 3);
    expect_field(&o, "SyncBody/Final", "1");
    outcome_free(&o);
}

/* The "object" call fails (503) mid-object: the device sends its message
   again and the chunks go on from where they were. */
static void
test_outgoing_fetch_retry(void **state)
{
    fixture_t   *f = *state;
    outcome_t    o;
    follow_t     fl;
    const char  *value;

    value = first_chunk_sent(f, &fl, MARKUP, FETCHED);
    backend_fails_once(f, "object", 503, "{\"error\":\"busy\"}");
    answer_chunk(f, &fl, "213", &o);
    assert_int_equal(o.http_status, 503);
    assert_string_equal(o.ops, "exchange,object");
    outcome_free(&o);

    /* the failed call is logged: the retry asks the same piece again */
    fl.dev_msg--;
    fl.log_seen = strlen(f->be.object_log);
    answer_chunk(f, &fl, "213", &o);
    follow_object(f, &fl, &o);
    assert_string_equal(fl.got, value);
    outcome_free(&o);
}

/* The command deleted while it goes ("object" answers 404): no more
   chunks, it fails to the backend with the reason, the session ends. */
static void
test_outgoing_fetch_gone(void **state)
{
    fixture_t   *f = *state;
    follow_t     fl;

    first_chunk_sent(f, &fl, MARKUP, FETCHED);

    f->be.object_value = NULL;
    big_fails_after_213(f, &fl, "exchange,object,exchange",
                        BIG_FAILED("backend object answered 404"));
}

/* The device ends its package without answering a chunk: the command
   fails to the backend, and others may go. */
static void
test_outgoing_chunk_unanswered(void **state)
{
    fixture_t   *f = *state;
    outcome_t    o;
    follow_t     fl;

    first_chunk_sent(f, &fl, PLAIN, INLINE);

    f->be.commands = "[{\"id\":\"next\",\"verb\":\"Get\","
                     "\"target\":\"./Next\"}]";
    drive(f, package_msg("1", 2, NULL, with_hdr_status(fl.server_msg, ""), 1),
          fl.token, &o);
    assert_int_equal(o.http_status, 200);
    expect_exchange(f, BIG_FAILED("the device did not answer a chunk"));
    expect_exchange(f, "\"max_commands\":50");
    assert_int_equal(command_index(&o, "Replace"), 0);
    assert_true(command_index(&o, "Get") > 0);
    outcome_free(&o);
}


/* The device aborts the session (Alert 1223) while an inline object goes:
   its stored value leaves the store with the session. */
static void
test_outgoing_device_abort(void **state)
{
    fixture_t   *f = *state;
    outcome_t    o;
    follow_t     fl;

    first_chunk_sent(f, &fl, PLAIN, INLINE);
    assert_non_null(our_segment(&f->mem, "1", 0));

    drive(f, package_msg("1", 2, NULL,
                         with_hdr_status(fl.server_msg, DEVICE_ABORT), 1),
          fl.token, &o);
    assert_int_equal(o.http_status, 200);
    assert_false(holds_object(&f->mem));
    outcome_free(&o);
}

/* Two large objects in a row: the second starts in the answer that takes
   the first one's last Status. */
static void
test_outgoing_two_objects(void **state)
{
    fixture_t   *f = *state;
    outcome_t    o;
    follow_t     fl;
    char         one[3001], two[2501], second[4096];

    make_value(one, 3000, 1);
    make_value(two, 2500, 0);
    snprintf(second, sizeof(second), ",{\"id\":\"big2\",\"verb\":\"Replace\","
             "\"target\":\"./Big\",\"data\":\"%s\"}", two);
    queue_with_big(f, "", one, INLINE, second);
    follow_start(f, &fl, 3000, INLINE, &o);
    fl.queued = 1;
    deliver_whole(f, &fl, one, &o);
    expect_exchange(f, "\"max_commands\":0");

    fl.id = "big2";
    fl.got[0] = '\0';
    fl.size = 2500;
    fl.queued = 0;
    deliver_whole(f, &fl, two, &o);
    expect_field(&o, "SyncBody/Final", "1");
    outcome_free(&o);
}

/*
 * Our Get of ./A and a large Replace in one package: the Get goes first,
 * without Final, the Replace waiting.  The device answers with the Get's
 * Status and ./A in two chunks, the last one without Final (its package
 * stays open while ours is, §3.3): our answer to that one carries the
 * Replace's first chunk, not only Alert 1222, the backend gets ./A, the
 * Replace goes to its end, and the Get's Status comes with the device's
 * Final.  Inline or fetched.
 */
static void
after_chunked_results(void **state, int fetched)
{
    fixture_t   *f = *state;
    outcome_t    o;
    follow_t     fl;
    char         a[1201], results[2048];
    static char  value[3001];

    f->cf.max_object_size = 4096;
    make_value(a, 1200, 1);
    make_value(value, 3000, 0);
    queue_with_big(f, GET_G_A ",", value, fetched, "");
    follow_start(f, &fl, 3000, fetched, &o);
    expect_field(&o, "SyncBody/Get[4]/CmdID", "4");
    assert_int_equal(command_index(&o, "Replace"), 0);
    expect_no_field(&o, "SyncBody/Final");
    outcome_free(&o);

    reply(f, fl.token, 2, first_chunk(a, 600, "1200"), 0, &o);
    expect_results_status(&o, "2", "3", "213");
    expect_next_message(f, &o);
    assert_int_equal(command_index(&o, "Replace"), 0);
    outcome_free(&o);

    /* the last chunk of ./A, no Final */
    reply(f, fl.token, 3, chunk_results(2, a, 600, 1200, NULL, 0), 0, &o);
    expect_results_status(&o, "3", "2", "200");
    snprintf(results, sizeof(results),
             "\"results\":[{\"command_id\":\"g\",\"data\":\"%s\",", a);
    expect_exchange(f, results);
    /* the Get's Status waits for the device's Final */
    expect_exchange(f, "\"statuses\":[]");
    fl.dev_msg = 3;
    fl.open_answers = 1;
    follow_object(f, &fl, &o);
    assert_string_equal(fl.got, value);
    outcome_free(&o);
    answer_chunk(f, &fl, "200", &o);
    expect_exchange(f, "\"statuses\":[{\"command_id\":\"g\",\"status\":200},"
                       "{\"command_id\":\"big\",\"status\":200}]");
    assert_int_equal(o.http_status, 200);
    expect_field(&o, "SyncBody/Final", "1");
    outcome_free(&o);
}

static void
test_outgoing_after_chunked_results(void **state)
{
    after_chunked_results(state, INLINE);
}

static void
test_outgoing_after_chunked_results_fetched(void **state)
{
    after_chunked_results(state, FETCHED);
}

/* the server's credentials toward the device (docs/backend-api.md) */
#define SERVER_CREDS                                                        \
    ",\"server_username\":\"dm.example.com\","                              \
    "\"server_inner\":\"wDGTSxGnVP/fNkcMNfd+3A==\","                        \
    "\"server_nonce\":\"AQIDBAUGBwgJCgsMDQ4PEA==\""

/*
 * With our MD5 Cred in every message (omadm_server_auth), the device
 * refuses the message that held a chunk (401 on our SyncHdr, and on the
 * chunk when chunk_answered): it executed none of it, so the
 * command goes back to the backend in "requeue", not as a Status 401 nor
 * as failed, and the object is dropped; handed out again, it starts over
 * from its first byte.  Fetched or inline.
 */
static void
chunk_server_refused(void **state, int fetched, int chunk_answered)
{
    fixture_t    *f = *state;
    outcome_t     o;
    follow_t      fl;
    char          body[1024];
    static char   value[3001];
    int           k, n;

    f->cf.server_auth = OMADM_AUTH_MD5;
    f->be.auth_extra = SERVER_CREDS;
    make_value(value, 3000, 1);
    queue_with_big(f, "", value, fetched, GET_AFTER);
    follow_start(f, &fl, 3000, fetched, &o);
    assert_non_null(field(&o, "SyncHdr/Cred/Data"));
    fl.queued = 1;
    assert_true(take_chunk(f, &fl, &o));
    outcome_free(&o);

    n = snprintf(body, sizeof(body),
                 "<Status><CmdID>1</CmdID><MsgRef>%d</MsgRef>"
                 "<CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd>"
                 "<TargetRef>" DEV "</TargetRef><SourceRef>" SERVER
                 "</SourceRef><Data>401</Data></Status>", fl.server_msg);
    if (chunk_answered) {
        snprintf(body + n, sizeof(body) - (size_t) n,
                 "<Status><CmdID>2</CmdID><MsgRef>%d</MsgRef>"
                 "<CmdRef>%s</CmdRef><Cmd>Replace</Cmd>"
                 "<TargetRef>./Big</TargetRef><Data>401</Data></Status>",
                 fl.server_msg, fl.cmd_id);
    }
    drive(f, package_msg("1", 2, NULL, body, 0), fl.token, &o);
    assert_int_equal(o.http_status, 200);
    assert_string_equal(o.ops, "auth,exchange");
    expect_exchange(f, "\"requeue\":[\"big\"]");
    expect_exchange(f, "\"statuses\":[]");
    expect_no_exchange(f, "\"failed\"");
    /* our Cred again, the Get that waited behind the object, no chunk */
    assert_non_null(field(&o, "SyncHdr/Cred/Data"));
    assert_int_equal(command_index(&o, "Replace"), 0);
    k = expect_get_of(&o, "./After");
    assert_null(strstr(session_blob(&f->mem, "1"), "\"outgoing\""));
    assert_false(holds_object(&f->mem));
    fl.server_msg = atoi(field(&o, "SyncHdr/MsgID"));
    snprintf(body, sizeof(body),
             "<Status><CmdID>1</CmdID><MsgRef>%d</MsgRef><CmdRef>0</CmdRef>"
             "<Cmd>SyncHdr</Cmd><TargetRef>" DEV "</TargetRef>"
             "<SourceRef>" SERVER "</SourceRef><Data>212</Data></Status>"
             "<Status><CmdID>2</CmdID><MsgRef>%d</MsgRef><CmdRef>%s</CmdRef>"
             "<Cmd>Get</Cmd><Data>404</Data></Status>",
             fl.server_msg, fl.server_msg, item_field(&o, "Get", k, "CmdID"));
    outcome_free(&o);

    /* the backend hands it out again: from the start */
    queue_big(f, value, fetched);
    fl.log_seen = strlen(f->be.object_log);
    drive(f, package_msg("1", 3, NULL, body, 1), fl.token, &o);
    assert_int_equal(o.http_status, 200);
    expect_exchange(f, told_status("after", "404"));
    fl.got[0] = '\0';
    fl.dev_msg = 3;
    fl.queued = 0;
    deliver_whole(f, &fl, value, &o);
    assert_false(holds_object(&f->mem));
    outcome_free(&o);
}

static void
test_outgoing_chunk_server_refused(void **state)
{
    chunk_server_refused(state, FETCHED, 1);
}

static void
test_outgoing_chunk_server_refused_inline(void **state)
{
    chunk_server_refused(state, INLINE, 1);
}

/* the device's 401 on our SyncHdr alone, no Status for the chunk */
static void
test_outgoing_chunk_server_refused_unanswered(void **state)
{
    chunk_server_refused(state, INLINE, 0);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        EXCHANGE_TEST(test_outgoing_inline),
        EXCHANGE_TEST(test_outgoing_inline_wbxml),
        EXCHANGE_TEST(test_outgoing_fetched),
        EXCHANGE_TEST(test_outgoing_over_max_obj_size),
        EXCHANGE_TEST(test_outgoing_chunk_refused),
        EXCHANGE_TEST(test_outgoing_then_queued),
        EXCHANGE_TEST(test_outgoing_open_answers),
        EXCHANGE_TEST(test_outgoing_fetch_retry),
        EXCHANGE_TEST(test_outgoing_fetch_gone),
        EXCHANGE_TEST(test_outgoing_chunk_unanswered),
        EXCHANGE_TEST(test_outgoing_device_abort),
        EXCHANGE_TEST(test_outgoing_two_objects),
        EXCHANGE_TEST(test_outgoing_after_chunked_results),
        EXCHANGE_TEST(test_outgoing_after_chunked_results_fetched),
        EXCHANGE_TEST(test_outgoing_chunk_server_refused),
        EXCHANGE_TEST(test_outgoing_chunk_server_refused_inline),
        EXCHANGE_TEST(test_outgoing_chunk_server_refused_unanswered),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
