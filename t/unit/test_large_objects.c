/*
 * Large objects through the C ABI (§3.3): a device's Results arriving in
 * chunks (MoreData, Status 213, Meta/Size, 424/416/413, the Get's Status
 * held until the object ends, a retried message appending its chunk once,
 * one chunk a message, an object cut short by Final or an abort), and a
 * backend Add/Replace too large for the device's MaxMsgSize sent a chunk
 * per message, inline or fetched through the "object" call; the stored
 * segments of both kept alive (touch) while the session goes on.
 */

#include "exchange_harness.h"


/* ---- messages and values ----------------------------------------------- */

/*
 * n bytes of text (n >= 8): ASCII words, 2-, 3- and 4-byte UTF-8
 * characters and, with markup, characters XML escapes and something that
 * looks like an escape; ending in ASCII.  Nothing JSON escapes, so it can
 * be searched for as is in the backend's requests.
 */
static void
make_value(char *out, size_t n, int markup)
{
    static const char *const  parts[] = {
        "alpha ", "<b&c> ", "\xc3\xa9t\xc3\xa9 ", "\xe2\x82\xac",
        "\xf0\x9d\x84\x9e", "x&amp;y ", "]]> ", "0123456789 ",
    };
    static const char *const  plain[] = {
        "alpha ", "bravo ", "\xc3\xa9t\xc3\xa9 ", "\xe2\x82\xac",
        "\xf0\x9d\x84\x9e", "x-ray ", "yankee ", "0123456789 ",
    };
    const char *const  *from = markup ? parts : plain;
    size_t              len = 0, pl;
    int                 i = 0;

    for (;;) {
        const char  *p = from[i++ % 8];

        pl = strlen(p);
        if (len + pl > n - 3) {
            break;
        }
        memcpy(out + len, p, pl);
        len += pl;
    }
    while (len < n) {
        out[len++] = 'E';
    }
    out[n] = '\0';
}

/* n bytes of nothing but characters XML escapes: "<&><&>..." */
static void
make_markup_only(char *out, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        out[i] = "<&>"[i % 3];
    }
    out[n] = '\0';
}

/* the largest cut <= at that does not split a UTF-8 character */
static size_t
char_boundary(const char *s, size_t at)
{
    while (at > 0 && ((unsigned char) s[at] & 0xC0) == 0x80) {
        at--;
    }
    return at;
}

/* s[0..n) as XML character data */
static char *
xml_text(const char *s, size_t n)
{
    static char  buf[8192];
    char        *p = buf;
    size_t       i;

    for (i = 0; i < n; i++) {
        assert_true((size_t) (p - buf) < sizeof(buf) - 8);
        switch (s[i]) {
        case '<': p += sprintf(p, "&lt;"); break;
        case '>': p += sprintf(p, "&gt;"); break;
        case '&': p += sprintf(p, "&amp;"); break;
        default: *p++ = s[i];
        }
    }
    *p = '\0';
    return buf;
}

/*
 * A device Results answering our Get (CmdID 4 of our message 1) with one
 * chunk of value: bytes from..to, both moved back to a character boundary;
 * Meta/Size when size is not NULL, MoreData when more.
 */
static char *
chunk_results(int cmd_id, const char *value, size_t from, size_t to,
    const char *size, int more)
{
    static char  buf[12288];
    char         meta[256] = "";
    int          len;

    if (size != NULL) {
        snprintf(meta, sizeof(meta),
                 "<Meta><Format xmlns=\"syncml:metinf\">chr</Format>"
                 "<Size xmlns=\"syncml:metinf\">%s</Size></Meta>", size);
    }
    len = snprintf(buf, sizeof(buf),
        "<Results><CmdID>%d</CmdID><MsgRef>1</MsgRef><CmdRef>4</CmdRef>"
        "<Item><Source><LocURI>./A</LocURI></Source>%s<Data>%s</Data>%s"
        "</Item></Results>",
        cmd_id, meta,
        xml_text(value + char_boundary(value, from),
                 char_boundary(value, to) - char_boundary(value, from)),
        more ? "<MoreData/>" : "");
    assert_true((size_t) len < sizeof(buf));
    return buf;
}

/* our message `msg`'s SyncHdr acknowledged, then `rest` */
static char *
with_hdr_status(int msg, const char *rest)
{
    static char  buf[16384];
    int          n;

    n = snprintf(buf, sizeof(buf),
        "<Status><CmdID>1</CmdID><MsgRef>%d</MsgRef><CmdRef>0</CmdRef>"
        "<Cmd>SyncHdr</Cmd><TargetRef>" DEV "</TargetRef>"
        "<SourceRef>" SERVER "</SourceRef><Data>200</Data></Status>%s",
        msg, rest);
    assert_true((size_t) n < sizeof(buf));
    return buf;
}

/* the device's message msg of session "1" in encoding enc, answering our
   message msg - 1: its SyncHdr Status, then body; Final or not */
static void
reply_as(fixture_t *f, int enc, const char *token, int msg, const char *body,
    int final, outcome_t *o)
{
    drive_enc(f, enc, package_msg("1", msg, NULL,
              with_hdr_status(msg - 1, body), final), token, o);
}

/* the same in XML */
static void
reply(fixture_t *f, const char *token, int msg, const char *body, int final,
    outcome_t *o)
{
    reply_as(f, OMADM_ENC_XML, token, msg, body, final, o);
}

/* the backend's next call of op fails, once, with status and body */
static void
backend_fails_once(fixture_t *f, const char *op, int status,
    const char *body)
{
    snprintf(f->be.fail_op, sizeof(f->be.fail_op), "%s", op);
    f->be.fail_status = status;
    f->be.fail_body = body;
}

/* what the backend is told of its command id: Status code, nothing else */
static const char *
told_status(const char *id, const char *code)
{
    static char  buf[128];

    snprintf(buf, sizeof(buf),
             "\"statuses\":[{\"command_id\":\"%s\",\"status\":%s}]", id, code);
    return buf;
}

/* an object store of its own (omadm_object_zone), in memory */
typedef struct {
    mem_store_t    mem;
    omadm_store_t  store;
} object_zone_t;

/* a new one, made the fixture's object store */
static object_zone_t *
object_zone(fixture_t *f)
{
    object_zone_t  *z = calloc(1, sizeof(object_zone_t));

    assert_non_null(z);
    z->store = mem_store(&z->mem);
    f->cf.object_store = &z->store;
    return z;
}

static void
object_zone_free(object_zone_t *z)
{
    store_clear(&z->mem);
    free(z);
}

/* our Get g of ./A, as a backend command */
#define GET_G_A  "{\"id\":\"g\",\"verb\":\"Get\",\"target\":\"./A\"}"

#define GET_STATUS                                                          \
    "<Status><CmdID>2</CmdID><MsgRef>1</MsgRef><CmdRef>4</CmdRef>"          \
    "<Cmd>Get</Cmd><Data>200</Data></Status>"

/* the store key of segment n of the session's first object from the
   device (way 'i') or to it ('o') */
static int
segment_key_of(char *key, size_t size, const char *session_id, char way,
    int n)
{
    int  len = snprintf(key, size, "o:%s\n%s\n%c1:%d", DEV, session_id, way,
                        n);

    assert_true((size_t) len < size);
    return len;
}

/* the same for the object from the device */
static int
segment_key(char *key, size_t size, const char *session_id, int n)
{
    return segment_key_of(key, size, session_id, 'i', n);
}

/* the stored chunks (segment n) of a session's object, or NULL */
static entry_t *
object_segment(mem_store_t *s, const char *session_id, int n)
{
    char  key[128];
    int   len = segment_key(key, sizeof(key), session_id, n);

    return store_find(s, key, (size_t) len);
}

/* segment n of the stored value of our first object to the device of a
   session, or NULL */
static entry_t *
our_segment(mem_store_t *s, const char *session_id, int n)
{
    char  key[128];
    int   len = segment_key_of(key, sizeof(key), session_id, 'o', n);

    return store_find(s, key, (size_t) len);
}

/* removes segment n of the session's first object from store s, as a
   full zone evicting it would */
static void
evict_segment(mem_store_t *s, const char *session_id, int n)
{
    char  key[128];
    int   len = segment_key(key, sizeof(key), session_id, n);

    if (store_remove(s, key, (size_t) len) != OMADM_OK) {
        fail_msg("no segment %d of session %s in the store", n, session_id);
    }
}

/* whether store s holds a key starting "o:" (an object's bytes) */
static int
holds_object(mem_store_t *s)
{
    int  i;

    for (i = 0; i < s->n; i++) {
        if (s->e[i].key_len > 2 && memcmp(s->e[i].key, "o:", 2) == 0) {
            return 1;
        }
    }
    return 0;
}

/* the index k of "SyncBody/<verb>[k]" in an answer, or 0 */
static int
command_index(const outcome_t *o, const char *verb)
{
    char  path[64];
    int   k;

    for (k = 1; k < 32; k++) {
        snprintf(path, sizeof(path), "SyncBody/%s[%d]/CmdID", verb, k);
        if (field(o, path) != NULL) {
            return k;
        }
    }
    return 0;
}


/* ---- from the device --------------------------------------------------- */

/* the session started with our Get g of ./A as command 4 of message 1 */
static void
start_get(fixture_t *f, int enc, const char *session, outcome_t *o,
    char *token)
{
    f->be.commands = "[" GET_G_A "]";
    login_with(f, enc, session, "", o, token);
    expect_field(o, "SyncBody/Get[4]/CmdID", "4");
    outcome_free(o);
}

/* the device's first message after our Get: the Get's Status, then the
   first chunk of value (up to `to`) with Meta/Size size (NULL: none) */
static const char *
first_chunk(const char *value, size_t to, const char *size)
{
    static char  buf[12288];

    snprintf(buf, sizeof(buf), "%s%s", GET_STATUS,
             chunk_results(3, value, 0, to, size, 1));
    return buf;
}

/* our Status for the device's Results, CmdID cmd_ref of its message */
static void
expect_results_status(outcome_t *o, const char *msg_ref, const char *cmd_ref,
    const char *code)
{
    expect_field(o, "SyncBody/Status[2]/Cmd", "Results");
    expect_field(o, "SyncBody/Status[2]/MsgRef", msg_ref);
    expect_field(o, "SyncBody/Status[2]/CmdRef", cmd_ref);
    expect_field(o, "SyncBody/Status[2]/SourceRef[1]", "./A");
    expect_field(o, "SyncBody/Status[2]/Data", code);
}

/* our Get sent (in XML), and the device's first chunk of value (up to
   `to`, Meta/Size size) answered 213 */
static void
first_chunk_taken(fixture_t *f, char *token, const char *value, size_t to,
    const char *size)
{
    outcome_t  o;

    start_get(f, OMADM_ENC_XML, "1", &o, token);
    reply(f, token, 2, first_chunk(value, to, size), 0, &o);
    expect_results_status(&o, "2", "3", "213");
    outcome_free(&o);
}

/* "next message" answer: Statuses, Alert 1222, no Final */
static void
expect_next_message(fixture_t *f, outcome_t *o)
{
    assert_int_equal(o->http_status, 200);
    expect_field(o, "SyncBody/Alert[3]/Data", "1222");
    expect_no_field(o, "SyncBody/Final");
    expect_exchange(f, "\"max_commands\":0");
}

/* a chunk (Results CmdID cmd_ref of message msg_ref) kept with 213, the
   next message asked for, nothing of the Get told to the backend yet */
static void
expect_chunk_held(fixture_t *f, outcome_t *o, const char *msg_ref,
    const char *cmd_ref)
{
    expect_results_status(o, msg_ref, cmd_ref, "213");
    expect_next_message(f, o);
    expect_exchange(f, "\"statuses\":[]");
    expect_exchange(f, "\"results\":[]");
}

/* the Get g failed with code, told to the backend without a result */
static void
expect_get_failed(fixture_t *f, const char *code)
{
    expect_exchange(f, told_status("g", code));
    expect_exchange(f, "\"results\":[]");
}

/* the device's object refused with code at its chunk (Results CmdID
   cmd_ref of message msg_ref): the Get failed, nothing kept */
static void
expect_object_refused(fixture_t *f, outcome_t *o, const char *msg_ref,
    const char *cmd_ref, const char *code)
{
    expect_results_status(o, msg_ref, cmd_ref, code);
    expect_get_failed(f, code);
    assert_null(object_segment(&f->mem, "1", 0));
}

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
#define DEVICE_ABORT  "<Alert><CmdID>2</CmdID><Data>1223</Data></Alert>"

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


/* ---- to the device ----------------------------------------------------- */

/* The device's MaxMsgSize in the XML cases: the answer to package 1 alone
   (SyncHdr Status with Chal, two Statuses) is some 950 bytes in XML. */
#define XML_LIMIT  2048

/* what the backend is told when command "big" fails: its reason (or the
   start of it) */
#define BIG_FAILED(reason)                                                  \
    "\"failed\":[{\"command_id\":\"big\",\"reason\":\"" reason

#define NO_ROOM_FAILED                                                      \
    BIG_FAILED("no room for a chunk of the large object within the "        \
               "device's MaxMsgSize\"}]")

/* Replace "big" of ./Big, its data_size bytes fetched through "object" */
#define BIG_FETCHED(size)                                                   \
    "{\"id\":\"big\",\"verb\":\"Replace\",\"target\":\"./Big\","            \
    "\"data_size\":" size "}"

/* our Get of ./After, behind the large object */
#define GET_AFTER                                                           \
    ",{\"id\":\"after\",\"verb\":\"Get\",\"target\":\"./After\"}"

/* how a test value is made (make_value) and how the backend gives it */
enum { PLAIN = 0, MARKUP = 1 };
enum { INLINE = 0, FETCHED = 1 };

/* Replace "big" of ./Big as a backend command: value inline, or fetched
   through "object" (data_size) */
static const char *
big_command(const char *value, int fetched)
{
    static char  buf[16384];
    int          n;

    if (fetched) {
        n = snprintf(buf, sizeof(buf), "{\"id\":\"big\",\"verb\":\"Replace\","
                     "\"target\":\"./Big\",\"data_size\":%zu}", strlen(value));
    } else {
        n = snprintf(buf, sizeof(buf), "{\"id\":\"big\",\"verb\":\"Replace\","
                     "\"target\":\"./Big\",\"data\":\"%s\"}", value);
    }
    assert_true((size_t) n < sizeof(buf));
    return buf;
}

/* the backend's next commands: `before` (commands and a comma, or ""),
   Replace "big" with value (big_command), then `after` (a comma and
   commands, or ""); a fetched value served by "object" */
static void
queue_with_big(fixture_t *f, const char *before, const char *value,
    int fetched, const char *after)
{
    static char  cmds[16384];
    int          n;

    n = snprintf(cmds, sizeof(cmds), "[%s%s%s]", before,
                 big_command(value, fetched), after);
    assert_true((size_t) n < sizeof(cmds));
    f->be.commands = cmds;
    if (fetched) {
        f->be.object_value = value;
    }
}

/* Replace "big" with value as the backend's only next command */
static void
queue_big(fixture_t *f, const char *value, int fetched)
{
    queue_with_big(f, "", value, fetched, "");
}

static const char *
item_field(const outcome_t *o, const char *verb, int k, const char *leaf)
{
    char  path[96];

    snprintf(path, sizeof(path), "SyncBody/%s[%d]/%s", verb, k, leaf);
    return field(o, path);
}

/* the index of our Get in answer o, which must hold one; of target
   unless that is NULL */
static int
expect_get_of(const outcome_t *o, const char *target)
{
    int  k = command_index(o, "Get");

    if (k == 0) {
        fail_msg("no Get in\n%s", o->desc);
    }
    if (target != NULL) {
        assert_string_equal(item_field(o, "Get", k, "Item[1]/Target"),
                            target);
    }
    return k;
}

/* answer o holds no chunk and ends our package, and the session keeps no
   outgoing object */
static void
expect_object_dropped(fixture_t *f, outcome_t *o)
{
    assert_int_equal(command_index(o, "Replace"), 0);
    expect_field(o, "SyncBody/Final", "1");
    assert_null(strstr(session_blob(&f->mem, "1"), "\"outgoing\""));
}

/* answer o, after the backend calls ops: the Replace failed to the
   backend (`failed`: what it is told), no chunk, the package ends */
static void
expect_big_failed(fixture_t *f, outcome_t *o, const char *ops,
    const char *failed)
{
    assert_int_equal(o->http_status, 200);
    assert_string_equal(o->ops, ops);
    expect_exchange(f, failed);
    expect_object_dropped(f, o);
}

typedef struct {
    int          enc;
    const char  *session;
    char         token[33];
    size_t       limit;         /* the device's MaxMsgSize */
    const char  *id;            /* the backend's command id */
    size_t       size;          /* bytes of the value */
    int          fetched;       /* through "object" (data_size) */
    int          queued;        /* a command waits behind the object */
    int          dev_msg;       /* the device's last MsgID */
    size_t       log_seen;      /* of be.object_log */
    char         got[8192];     /* the chunks so far */
    char         cmd_id[16];    /* of the last chunk */
    int          server_msg;    /* of the last chunk */
    int          chunks;
    int          open_answers;  /* 213s sent as the spec has them: with
                                   Alert 1222, without Final */
} follow_t;

/*
 * Checks the chunk of the Replace (target ./Big) in answer o and keeps
 * its data; true when it was not the last.
 */
static int
take_chunk(fixture_t *f, follow_t *fl, outcome_t *o)
{
    const char  *v;
    char         path[96];
    int          k, more;
    size_t       before = strlen(fl->got);

    assert_int_equal(o->http_status, 200);
    if (o->len > fl->limit) {
        fail_msg("answer of %zu bytes over MaxMsgSize %zu", o->len,
                 fl->limit);
    }
    k = command_index(o, "Replace");
    if (k == 0) {
        fail_msg("no chunk in\n%s", o->desc);
    }
    /* a chunk goes alone */
    assert_int_equal(command_index(o, "Get"), 0);
    fl->chunks++;
    fl->server_msg = atoi(field(o, "SyncHdr/MsgID"));
    snprintf(fl->cmd_id, sizeof(fl->cmd_id), "%s",
             item_field(o, "Replace", k, "CmdID"));
    assert_string_equal(item_field(o, "Replace", k, "Item[1]/Target"),
                        "./Big");

    v = item_field(o, "Replace", k, "Item[1]/Meta/Size");
    if (before == 0) {
        char  size[32];

        snprintf(size, sizeof(size), "%zu", fl->size);
        if (v == NULL) fail_msg("no Meta/Size on the first chunk");
        assert_string_equal(v, size);
    } else if (v != NULL) {
        fail_msg("Meta/Size on a later chunk\n%s", o->desc);
    }

    if (fl->fetched) {
        /* asked from what was sent, at most a message's worth */
        char    entry[64];
        size_t  left = fl->size - before;

        snprintf(entry, sizeof(entry), "%s@%zu+%zu;", fl->id, before,
                 left < fl->limit ? left : fl->limit);
        assert_string_equal(f->be.object_log + fl->log_seen, entry);
        fl->log_seen = strlen(f->be.object_log);
    }

    snprintf(path, sizeof(path), "SyncBody/Replace[%d]/Item[1]/Data", k);
    assert_true(field_copy(o, path, fl->got + before,
                           sizeof(fl->got) - before));
    assert_true(strlen(fl->got) > before);

    more = item_field(o, "Replace", k, "Item[1]/MoreData") != NULL;
    if (more || fl->queued) {
        expect_no_field(o, "SyncBody/Final");
    } else {
        expect_field(o, "SyncBody/Final", "1");
    }
    return more;
}

/* the device's answer to the last chunk: its Status `code` (and Final) */
static void
answer_chunk(fixture_t *f, follow_t *fl, const char *code, outcome_t *o)
{
    char  st[512];
    int   open = fl->open_answers && strcmp(code, "213") == 0;

    snprintf(st, sizeof(st),
             "<Status><CmdID>2</CmdID><MsgRef>%d</MsgRef><CmdRef>%s</CmdRef>"
             "<Cmd>Replace</Cmd><TargetRef>./Big</TargetRef>"
             "<Data>%s</Data></Status>%s", fl->server_msg, fl->cmd_id, code,
             open ? "<Alert><CmdID>3</CmdID><Data>1222</Data></Alert>" : "");
    fl->dev_msg++;
    drive_enc(f, fl->enc, package_msg(fl->session, fl->dev_msg, NULL,
              with_hdr_status(fl->server_msg, st), !open), fl->token, o);
}

/*
 * From the answer o holding the first chunk, 213 to each chunk until the
 * last (o is then the answer holding it): every answer within the
 * device's MaxMsgSize, the backend asked for no command meanwhile and told
 * nothing of the object.
 */
static void
follow_object(fixture_t *f, follow_t *fl, outcome_t *o)
{
    while (take_chunk(f, fl, o)) {
        outcome_free(o);
        answer_chunk(f, fl, "213", o);
        assert_string_equal(o->ops, fl->fetched ? "exchange,object"
                                                : "exchange");
        expect_exchange(f, "\"max_commands\":0");
        expect_exchange(f, "\"statuses\":[]");
        assert_true(fl->chunks < 64);
    }
}

/*
 * follow_object, then: the device got value whole, and its 200 for the
 * last chunk reached the backend as the command's Status (o is our
 * answer to that one).
 */
static void
deliver_whole(fixture_t *f, follow_t *fl, const char *value, outcome_t *o)
{
    follow_object(f, fl, o);
    assert_string_equal(fl->got, value);
    outcome_free(o);
    answer_chunk(f, fl, "200", o);
    expect_exchange(f, told_status(fl->id, "200"));
}

/* package 1 from a device with MaxMsgSize limit (and MaxObjSize maxobj
   unless NULL), in encoding enc */
static void
follow_start_as(fixture_t *f, follow_t *fl, int enc, size_t limit,
    const char *maxobj, outcome_t *o)
{
    char  meta[256];

    snprintf(meta, sizeof(meta),
             "<Meta><MaxMsgSize xmlns=\"syncml:metinf\">%zu</MaxMsgSize>"
             "%s%s%s</Meta>", limit,
             maxobj ? "<MaxObjSize xmlns=\"syncml:metinf\">" : "",
             maxobj ? maxobj : "", maxobj ? "</MaxObjSize>" : "");
    memset(fl, 0, sizeof(*fl));
    fl->enc = enc;
    fl->session = "1";
    fl->limit = limit;
    fl->id = "big";
    fl->dev_msg = 1;
    login_with(f, enc, fl->session, meta, o, fl->token);
}

/* package 1 in XML from a device with MaxMsgSize XML_LIMIT, to follow
   command "big" of size bytes, fetched through "object" or inline */
static void
follow_start(fixture_t *f, follow_t *fl, size_t size, int fetched,
    outcome_t *o)
{
    follow_start_as(f, fl, OMADM_ENC_XML, XML_LIMIT, NULL, o);
    fl->size = size;
    fl->fetched = fetched;
}

/* Replace "big" of 5000 bytes (make_value, with markup or not), inline
   or fetched, as the backend's only command; its first chunk sent in the
   answer to package 1, not its last.  Returns the value. */
static const char *
first_chunk_sent(fixture_t *f, follow_t *fl, int markup, int fetched)
{
    static char  value[5001];
    outcome_t    o;

    make_value(value, 5000, markup);
    queue_big(f, value, fetched);
    follow_start(f, fl, 5000, fetched, &o);
    assert_true(take_chunk(f, fl, &o));
    outcome_free(&o);
    return value;
}

/* the device's 213 for the chunk sent, after which the Replace fails:
   see expect_big_failed */
static void
big_fails_after_213(fixture_t *f, follow_t *fl, const char *ops,
    const char *failed)
{
    outcome_t  o;

    answer_chunk(f, fl, "213", &o);
    expect_big_failed(f, &o, ops, failed);
    outcome_free(&o);
}

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
        cmocka_unit_test_setup_teardown(test_incoming_chunks, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_incoming_chunks_wbxml, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_incoming_retry, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_incoming_size_short, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_incoming_size_over, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_incoming_failed_with_held_status,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_incoming_declared_too_large,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_incoming_undeclared_too_large,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_incoming_two_chunks_one_message,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_incoming_two_chunks_one_results,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_incoming_none_taken, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_incoming_next_object_same_message, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_incoming_object_after_its_get_status, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_incoming_results_after_held_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_generic_alert_chunk, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_object_store, setup, teardown),
        cmocka_unit_test_setup_teardown(test_object_store_full, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_incoming_segment_evicted,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_incoming_first_segment_evicted,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_incoming_segments_kept_alive,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_object_store_full_later, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_incoming_unfinished_at_final,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_incoming_device_abort, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_server_max_obj_size, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_outgoing_inline, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_outgoing_inline_wbxml, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_outgoing_fetched, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_outgoing_over_max_obj_size,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_outgoing_chunk_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_outgoing_then_queued, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_outgoing_no_room, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_outgoing_no_room_sweep, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_outgoing_no_room_later, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_outgoing_markup_heavy, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_outgoing_markup_heavy_fetched,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_outgoing_open_answers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_outgoing_fetch_retry, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_outgoing_fetch_gone, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_outgoing_chunk_unanswered,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_outgoing_device_abort, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_outgoing_two_objects, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_outgoing_after_chunked_results,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_outgoing_after_chunked_results_fetched, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outgoing_chunk_server_refused,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_outgoing_chunk_server_refused_inline, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_outgoing_chunk_server_refused_unanswered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outgoing_zone_full, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_outgoing_evicted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_outgoing_segments_kept_alive,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_outgoing_fetched_empty, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_outgoing_fetch_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_outgoing_fetch_size_changed,
                                        setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
