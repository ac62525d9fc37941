
/*
 * Large objects from the device, through the C ABI (§3.3): a device's
 * Results arriving in chunks (MoreData, Status 213, Meta/Size,
 * 424/416/413, the Get's Status held until the object ends, a retried
 * message appending its chunk once, one chunk a message, an object cut
 * short by Final or an abort); its stored segments kept alive (touch)
 * while the session goes on.
 */

#include "large_objects.h"

/* Three chunks: 213 for the first two (the Get's Status held back, no
   result yet), 200 for the last, which delivers the whole value and then
   the Get's Status. */
static void
incoming_chunks(void **state, int enc)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        token[33], value[3001], results[4096];

    f->cf.max_object_size = 4096;
    make_value(value, 3000, 1);
    start_get(f, enc, "1", &o, token);

    reply_as(f, enc, token, 2, first_chunk(value, 1000, "3000"), 0, &o);
    assert_string_equal(o.ops, "exchange");
    expect_field(&o, "SyncBody/Status[1]/Data", "200");
    expect_chunk_held(f, &o, "2", "3");
    assert_non_null(object_segment(&f->mem, "1", 0));
    outcome_free(&o);

    reply_as(f, enc, token, 3, chunk_results(2, value, 1000, 2000, NULL, 1),
             0, &o);
    expect_chunk_held(f, &o, "3", "2");
    outcome_free(&o);

    reply_as(f, enc, token, 4, chunk_results(2, value, 2000, 3000, NULL, 0),
             1, &o);
    assert_int_equal(o.http_status, 200);
    expect_results_status(&o, "4", "2", "200");
    expect_no_field(&o, "SyncBody/Alert[3]/Data");
    expect_field(&o, "SyncBody/Final", "1");
    expect_exchange(f, told_status("g", "200"));
    snprintf(results, sizeof(results),
             "\"results\":[{\"command_id\":\"g\",\"data\":\"%s\","
             "\"format\":\"chr\",\"source\":\"./A\",\"type\":\"\"}]", value);
    expect_exchange(f, results);
    expect_exchange(f, "\"max_commands\":50");
    assert_null(object_segment(&f->mem, "1", 0));
    outcome_free(&o);
}

static void
test_incoming_chunks(void **state)
{
    incoming_chunks(state, OMADM_ENC_XML);
}

static void
test_incoming_chunks_wbxml(void **state)
{
    incoming_chunks(state, OMADM_ENC_WBXML);
}

/* the device's message msg (reply) while the backend is down: 503 */
static void
reply_backend_down(fixture_t *f, const char *token, int msg,
    const char *body, int final)
{
    outcome_t  o;

    backend_fails_once(f, "exchange", 503, "{\"error\":\"busy\"}");
    reply(f, token, msg, body, final, &o);
    assert_int_equal(o.http_status, 503);
    outcome_free(&o);
}

/* The backend fails (503) on the second chunk's message: the device sends
   it again and the chunk is kept once; a repeat of an answered message
   gets the same answer and appends nothing; the same for the last. */
static void
test_incoming_retry(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o, again;
    char        token[33], value[2401], chunk[12288], results[4096];
    entry_t    *e;

    f->cf.max_object_size = 4096;
    make_value(value, 2400, 1);
    first_chunk_taken(f, token, value, 800, "2400");

    /* the second chunk: the backend is down once */
    snprintf(chunk, sizeof(chunk), "%s",
             chunk_results(2, value, 800, 1600, NULL, 1));
    reply_backend_down(f, token, 3, chunk, 0);

    reply(f, token, 3, chunk, 0, &o);
    expect_results_status(&o, "3", "2", "213");
    e = object_segment(&f->mem, "1", 0);
    assert_non_null(e);
    assert_int_equal(e->val_len, char_boundary(value, 1600));
    assert_memory_equal(e->val, value, e->val_len);

    /* our answer lost: the same message again, the same answer */
    reply(f, token, 3, chunk, 0, &again);
    assert_string_equal(again.ops, "");
    assert_int_equal(again.len, o.len);
    assert_memory_equal(again.body, o.body, o.len);
    outcome_free(&again);
    outcome_free(&o);
    e = object_segment(&f->mem, "1", 0);
    assert_int_equal(e->val_len, char_boundary(value, 1600));

    /* the last one, the backend down once again: delivered once */
    snprintf(chunk, sizeof(chunk), "%s",
             chunk_results(2, value, 1600, 2400, NULL, 0));
    reply_backend_down(f, token, 4, chunk, 1);
    assert_non_null(object_segment(&f->mem, "1", 0));

    reply(f, token, 4, chunk, 1, &o);
    expect_results_status(&o, "4", "2", "200");
    snprintf(results, sizeof(results),
             "\"results\":[{\"command_id\":\"g\",\"data\":\"%s\",", value);
    expect_exchange(f, results);
    outcome_free(&o);
}

/*
 * A 2000-byte object declared as `size` bytes: its second chunk (with
 * MoreData when more, else the last) gets 424, and the Get fails with 424,
 * no result.
 */
static void
size_mismatch(void **state, const char *size, int more)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        token[33], value[2001];

    f->cf.max_object_size = 4096;
    make_value(value, 2000, 1);
    first_chunk_taken(f, token, value, 1000, size);

    reply(f, token, 3, chunk_results(2, value, 1000, 2000, NULL, more), !more,
          &o);
    expect_object_refused(f, &o, "3", "2", "424");
    if (!more) {
        expect_field(&o, "SyncBody/Final", "1");
    }
    outcome_free(&o);
}

/* The chunks add up to less than the declared Size: 424 for the last. */
static void
test_incoming_size_short(void **state)
{
    size_mismatch(state, "2001", 0);
}

/* The chunks go past the declared Size: 424 at once. */
static void
test_incoming_size_over(void **state)
{
    size_mismatch(state, "1500", 1);
}

/* The object fails (424: the first chunk is over its declared Size) in
   the message with the Get's Status, held for the end of the device's
   package: the backend is told 424 once, and not the held 200 at the
   package's end. */
static void
test_incoming_failed_with_held_status(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        token[33], value[2001];

    f->cf.max_object_size = 4096;
    make_value(value, 2000, 1);
    start_get(f, OMADM_ENC_XML, "1", &o, token);

    reply(f, token, 2, first_chunk(value, 2000, "1000"), 0, &o);
    expect_object_refused(f, &o, "2", "3", "424");
    outcome_free(&o);

    reply(f, token, 3, "", 1, &o);
    assert_int_equal(o.http_status, 200);
    expect_exchange(f, "\"statuses\":[]");
    outcome_free(&o);
}

/* A declared Size over our max_object_size: 416 on the first chunk,
   nothing kept, the Get fails with 416. */
static void
test_incoming_declared_too_large(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        token[33], value[1001];

    f->cf.max_object_size = 4096;
    make_value(value, 1000, 1);
    start_get(f, OMADM_ENC_XML, "1", &o, token);

    reply(f, token, 2, first_chunk(value, 1000, "100000"), 0, &o);
    expect_object_refused(f, &o, "2", "3", "416");
    outcome_free(&o);
}

/* No Size, and the chunks grow past max_object_size: 413. */
static void
test_incoming_undeclared_too_large(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        token[33], value[3001];

    f->cf.max_object_size = 2500;
    make_value(value, 3000, 1);
    first_chunk_taken(f, token, value, 1000, NULL);

    reply(f, token, 3, chunk_results(2, value, 1000, 2000, NULL, 1), 0, &o);
    expect_results_status(&o, "3", "2", "213");
    outcome_free(&o);

    reply(f, token, 4, chunk_results(2, value, 2000, 3000, NULL, 1), 0, &o);
    expect_object_refused(f, &o, "4", "2", "413");
    outcome_free(&o);
}

/* Two chunks in one message, a Results each or two Items of one: the
   second one gets 400 (each would rewrite the object's last segment in
   the store), and the Get fails with 400. */
static void
two_chunks_one_message(void **state, int one_results)
{
    fixture_t   *f = *state;
    outcome_t    o;
    char         token[33], value[3001], body[8192];
    const char  *second;
    size_t       n;

    f->cf.max_object_size = 4096;
    make_value(value, 3000, 1);
    first_chunk_taken(f, token, value, 1000, NULL);

    n = (size_t) snprintf(body, sizeof(body), "%s",
                          chunk_results(2, value, 1000, 2000, NULL, 1));
    second = chunk_results(3, value, 2000, 2500, NULL, 1);
    if (one_results) {
        n -= strlen("</Results>");
        second = strstr(second, "<Item>");
    }
    snprintf(body + n, sizeof(body) - n, "%s", second);
    reply(f, token, 3, body, 0, &o);
    assert_int_equal(o.http_status, 200);
    if (one_results) {
        expect_results_status(&o, "3", "2", "400");
        expect_no_field(&o, "SyncBody/Status[3]/Cmd");
    } else {
        expect_results_status(&o, "3", "2", "213");
        expect_field(&o, "SyncBody/Status[3]/Cmd", "Results");
        expect_field(&o, "SyncBody/Status[3]/CmdRef", "3");
        expect_field(&o, "SyncBody/Status[3]/Data", "400");
    }
    expect_get_failed(f, "400");
    assert_false(holds_object(&f->mem));
    outcome_free(&o);
}

static void
test_incoming_two_chunks_one_message(void **state)
{
    two_chunks_one_message(state, 0);
}

static void
test_incoming_two_chunks_one_results(void **state)
{
    two_chunks_one_message(state, 1);
}

/* our Get g of ./A and Get h of ./B, commands 4 and 5 of message 1 */
#define GETS_AB                                                             \
    "[" GET_G_A ",{\"id\":\"h\",\"verb\":\"Get\",\"target\":\"./B\"}]"

/* a Results for our command ref (4: ./A, 5: ./B) with one chunk */
static char *
chunk_of(char *buf, size_t size, int cmd_id, int ref, const char *data,
    int more)
{
    snprintf(buf, size,
        "<Results><CmdID>%d</CmdID><MsgRef>1</MsgRef><CmdRef>%d</CmdRef>"
        "<Item><Source><LocURI>./%c</LocURI></Source><Data>%s</Data>%s"
        "</Item></Results>", cmd_id, ref, ref == 4 ? 'A' : 'B', data,
        more ? "<MoreData/>" : "");
    return buf;
}

#define GET_STATUS_REF(id, ref)                                             \
    "<Status><CmdID>" id "</CmdID><MsgRef>1</MsgRef><CmdRef>" ref           \
    "</CmdRef><Cmd>Get</Cmd><Data>200</Data></Status>"

/* One object ends and the next one starts in the same message: both are
   delivered whole. */
static void
test_incoming_next_object_same_message(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        token[33], body[4096], a[512], b[512];

    f->cf.max_object_size = 4096;
    f->be.commands = GETS_AB;
    login_with(f, OMADM_ENC_XML, "1", "", &o, token);
    expect_field(&o, "SyncBody/Get[5]/CmdID", "5");
    outcome_free(&o);

    snprintf(body, sizeof(body), "%s%s", GET_STATUS_REF("2", "4"),
             chunk_of(a, sizeof(a), 3, 4, "a-one ", 1));
    reply(f, token, 2, body, 0, &o);
    expect_results_status(&o, "2", "3", "213");
    outcome_free(&o);

    /* ./A ends, ./B starts */
    snprintf(body, sizeof(body), "%s%s%s",
             chunk_of(a, sizeof(a), 2, 4, "a-two", 0),
             GET_STATUS_REF("3", "5"),
             chunk_of(b, sizeof(b), 4, 5, "b-one ", 1));
    reply(f, token, 3, body, 0, &o);
    expect_results_status(&o, "3", "2", "200");
    expect_field(&o, "SyncBody/Status[3]/CmdRef", "4");
    expect_field(&o, "SyncBody/Status[3]/Data", "213");
    expect_exchange(f, "\"data\":\"a-one a-two\"");
    /* the Gets' Statuses wait for the end of the device's package */
    expect_exchange(f, "\"statuses\":[]");
    outcome_free(&o);

    reply(f, token, 4, chunk_of(b, sizeof(b), 2, 5, "b-two", 0), 1, &o);
    expect_field(&o, "SyncBody/Status[2]/Cmd", "Results");
    expect_field(&o, "SyncBody/Status[2]/Data", "200");
    expect_exchange(f, "\"statuses\":[{\"command_id\":\"g\",\"status\":200},"
                       "{\"command_id\":\"h\",\"status\":200}]");
    expect_exchange(f, "\"data\":\"b-one b-two\"");
    outcome_free(&o);
}

/* The device sends its Statuses first: both Gets' in one message, the
   second object's chunks only after the first object, in later messages.
   The second object is still taken and delivered. */
static void
test_incoming_object_after_its_get_status(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        token[33], body[4096], a[512];

    f->cf.max_object_size = 4096;
    f->be.commands = GETS_AB;
    login_with(f, OMADM_ENC_XML, "1", "", &o, token);
    outcome_free(&o);

    snprintf(body, sizeof(body), "%s%s%s", GET_STATUS_REF("2", "4"),
             GET_STATUS_REF("3", "5"),
             chunk_of(a, sizeof(a), 4, 4, "a-one ", 1));
    reply(f, token, 2, body, 0, &o);
    outcome_free(&o);

    reply(f, token, 3, chunk_of(a, sizeof(a), 2, 4, "a-two", 0), 0, &o);
    expect_exchange(f, "\"data\":\"a-one a-two\"");
    outcome_free(&o);

    reply(f, token, 4, chunk_of(a, sizeof(a), 2, 5, "b-one ", 1), 0, &o);
    expect_field(&o, "SyncBody/Status[2]/Cmd", "Results");
    expect_field(&o, "SyncBody/Status[2]/Data", "213");
    outcome_free(&o);

    reply(f, token, 5, chunk_of(a, sizeof(a), 2, 5, "b-two", 0), 1, &o);
    expect_field(&o, "SyncBody/Status[2]/Data", "200");
    expect_exchange(f, "\"command_id\":\"h\",\"data\":\"b-one b-two\"");
    outcome_free(&o);
}

/* the backend's next commands: our Get g of ./A, then n Replaces of 150
   bytes each, more than a message holds at MaxMsgSize 1500 */
static void
queue_get_then_replaces(fixture_t *f, int n)
{
    static char  cmds[8192];
    char         data[151];
    size_t       len;
    int          i;

    memset(data, 'x', 150);
    data[150] = '\0';
    len = (size_t) snprintf(cmds, sizeof(cmds), "[" GET_G_A);
    for (i = 0; i < n; i++) {
        len += (size_t) snprintf(cmds + len, sizeof(cmds) - len,
                                 ",{\"id\":\"r%d\",\"verb\":\"Replace\","
                                 "\"target\":\"./R/%d\",\"data\":\"%s\"}",
                                 i, i, data);
        assert_true(len < sizeof(cmds) - 1);
    }
    strcpy(cmds + len, "]");
    f->be.commands = cmds;
}

/* Our package still open (commands wait for room in the device's
   MaxMsgSize), the device answers our Get with its Status in one message
   and its Results in the next, neither with Final: the backend gets the
   result, and the Get's Status with the device's Final. */
static void
test_incoming_results_after_held_status(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        token[33];

    queue_get_then_replaces(f, 12);
    login_with(f, OMADM_ENC_XML, "1", MAXMSG("1500"), &o, token);
    expect_field(&o, "SyncBody/Get[4]/CmdID", "4");
    expect_no_field(&o, "SyncBody/Final");
    outcome_free(&o);

    reply(f, token, 2, GET_STATUS, 0, &o);
    assert_int_equal(o.http_status, 200);
    expect_exchange(f, "\"statuses\":[]");
    outcome_free(&o);

    reply(f, token, 3, chunk_results(2, "VALUE", 0, 5, NULL, 0), 0, &o);
    assert_int_equal(o.http_status, 200);
    expect_exchange(f, "\"results\":[{\"command_id\":\"g\","
                       "\"data\":\"VALUE\"");
    expect_exchange(f, "\"statuses\":[]");
    outcome_free(&o);

    reply(f, token, 4, "", 1, &o);
    assert_int_equal(o.http_status, 200);
    expect_exchange(f, "{\"command_id\":\"g\",\"status\":200}");
    outcome_free(&o);
}

/* Without max_object_size no object is taken: a chunk gets 413. */
static void
test_incoming_none_taken(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        token[33];

    start_get(f, OMADM_ENC_XML, "1", &o, token);
    reply(f, token, 2, first_chunk("abc", 3, NULL), 0, &o);
    expect_results_status(&o, "2", "3", "413");
    expect_exchange(f, told_status("g", "413"));
    assert_null(object_segment(&f->mem, "1", 0));
    outcome_free(&o);
}

/* A Generic Alert whose item is a chunk: 406, not delivered. */
static void
test_generic_alert_chunk(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        token[33];

    f->cf.max_object_size = 4096;
    start_get(f, OMADM_ENC_XML, "1", &o, token);
    reply(f, token, 2,
          "<Alert><CmdID>2</CmdID><Data>1226</Data><Item>"
          "<Source><LocURI>./FwUpdate/1</LocURI></Source>"
          "<Meta><Type xmlns=\"syncml:metinf\">x-oma-test</Type>"
          "<Format xmlns=\"syncml:metinf\">chr</Format></Meta>"
          "<Data>first part</Data><MoreData/></Item></Alert>", 1, &o);
    assert_int_equal(o.http_status, 200);
    expect_field(&o, "SyncBody/Status[2]/Cmd", "Alert");
    expect_field(&o, "SyncBody/Status[2]/CmdRef", "2");
    expect_field(&o, "SyncBody/Status[2]/Data", "406");
    expect_exchange(f, "\"alerts\":[]");
    expect_no_exchange(f, "first part");
    outcome_free(&o);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        EXCHANGE_TEST(test_incoming_chunks),
        EXCHANGE_TEST(test_incoming_chunks_wbxml),
        EXCHANGE_TEST(test_incoming_retry),
        EXCHANGE_TEST(test_incoming_size_short),
        EXCHANGE_TEST(test_incoming_size_over),
        EXCHANGE_TEST(test_incoming_failed_with_held_status),
        EXCHANGE_TEST(test_incoming_declared_too_large),
        EXCHANGE_TEST(test_incoming_undeclared_too_large),
        EXCHANGE_TEST(test_incoming_two_chunks_one_message),
        EXCHANGE_TEST(test_incoming_two_chunks_one_results),
        EXCHANGE_TEST(test_incoming_none_taken),
        EXCHANGE_TEST(test_incoming_next_object_same_message),
        EXCHANGE_TEST(test_incoming_object_after_its_get_status),
        EXCHANGE_TEST(test_incoming_results_after_held_status),
        EXCHANGE_TEST(test_generic_alert_chunk),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
