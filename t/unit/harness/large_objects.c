/* The large-object tests' shared helpers (large_objects.h). */

#include "large_objects.h"
/* ---- messages and values ----------------------------------------------- */

/*
 * n bytes of text (n >= 8): ASCII words, 2-, 3- and 4-byte UTF-8
 * characters and, with markup, characters XML escapes and something that
 * looks like an escape; ending in ASCII.  Nothing JSON escapes, so it can
 * be searched for as is in the backend's requests.
 */
void
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
void
make_markup_only(char *out, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++) {
        out[i] = "<&>"[i % 3];
    }
    out[n] = '\0';
}

/* the largest cut <= at that does not split a UTF-8 character */
size_t
char_boundary(const char *s, size_t at)
{
    while (at > 0 && ((unsigned char) s[at] & 0xC0) == 0x80) {
        at--;
    }
    return at;
}

/* s[0..n) as XML character data */
char *
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
char *
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
char *
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
void
reply_as(fixture_t *f, int enc, const char *token, int msg, const char *body,
    int final, outcome_t *o)
{
    drive_enc(f, enc, package_msg("1", msg, NULL,
              with_hdr_status(msg - 1, body), final), token, o);
}

/* the same in XML */
void
reply(fixture_t *f, const char *token, int msg, const char *body, int final,
    outcome_t *o)
{
    reply_as(f, OMADM_ENC_XML, token, msg, body, final, o);
}

/* the backend's next call of op fails, once, with status and body */
void
backend_fails_once(fixture_t *f, const char *op, int status,
    const char *body)
{
    snprintf(f->be.fail_op, sizeof(f->be.fail_op), "%s", op);
    f->be.fail_status = status;
    f->be.fail_body = body;
}

/* what the backend is told of its command id: Status code, nothing else */
const char *
told_status(const char *id, const char *code)
{
    static char  buf[128];

    snprintf(buf, sizeof(buf),
             "\"statuses\":[{\"command_id\":\"%s\",\"status\":%s}]", id, code);
    return buf;
}

/* an object store of its own (omadm_object_zone), in memory */

/* a new one, made the fixture's object store */
object_zone_t *
object_zone(fixture_t *f)
{
    object_zone_t  *z = calloc(1, sizeof(object_zone_t));

    assert_non_null(z);
    z->store = mem_store(&z->mem);
    f->cf.object_store = &z->store;
    return z;
}

void
object_zone_free(object_zone_t *z)
{
    store_clear(&z->mem);
    free(z);
}

/* our Get g of ./A, as a backend command */


/* the store key of segment n of the session's first object from the
   device (way 'i') or to it ('o') */
int
segment_key_of(char *key, size_t size, const char *session_id, char way,
    int n)
{
    int  len = snprintf(key, size, "o:%s\n%s\n%c1:%d", DEV, session_id, way,
                        n);

    assert_true((size_t) len < size);
    return len;
}

/* the same for the object from the device */
int
segment_key(char *key, size_t size, const char *session_id, int n)
{
    return segment_key_of(key, size, session_id, 'i', n);
}

/* the stored chunks (segment n) of a session's object, or NULL */
entry_t *
object_segment(mem_store_t *s, const char *session_id, int n)
{
    char  key[128];
    int   len = segment_key(key, sizeof(key), session_id, n);

    return store_find(s, key, (size_t) len);
}

/* segment n of the stored value of our first object to the device of a
   session, or NULL */
entry_t *
our_segment(mem_store_t *s, const char *session_id, int n)
{
    char  key[128];
    int   len = segment_key_of(key, sizeof(key), session_id, 'o', n);

    return store_find(s, key, (size_t) len);
}

/* removes segment n of the session's first object from store s, as a
   full zone evicting it would */
void
evict_segment(mem_store_t *s, const char *session_id, int n)
{
    char  key[128];
    int   len = segment_key(key, sizeof(key), session_id, n);

    if (store_remove(s, key, (size_t) len) != OMADM_OK) {
        fail_msg("no segment %d of session %s in the store", n, session_id);
    }
}

/* whether store s holds a key starting "o:" (an object's bytes) */
int
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
int
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

/* the device's first message after our Get: the Get's Status, then the
   first chunk of value (up to `to`) with Meta/Size size (NULL: none) */
const char *
first_chunk(const char *value, size_t to, const char *size)
{
    static char  buf[12288];

    snprintf(buf, sizeof(buf), "%s%s", GET_STATUS,
             chunk_results(3, value, 0, to, size, 1));
    return buf;
}


/* our Status for the device's Results, CmdID cmd_ref of its message */
void
expect_results_status(outcome_t *o, const char *msg_ref, const char *cmd_ref,
    const char *code)
{
    expect_field(o, "SyncBody/Status[2]/Cmd", "Results");
    expect_field(o, "SyncBody/Status[2]/MsgRef", msg_ref);
    expect_field(o, "SyncBody/Status[2]/CmdRef", cmd_ref);
    expect_field(o, "SyncBody/Status[2]/SourceRef[1]", "./A");
    expect_field(o, "SyncBody/Status[2]/Data", code);
}


/* "next message" answer: Statuses, Alert 1222, no Final */
void
expect_next_message(fixture_t *f, outcome_t *o)
{
    assert_int_equal(o->http_status, 200);
    expect_field(o, "SyncBody/Alert[3]/Data", "1222");
    expect_no_field(o, "SyncBody/Final");
    expect_exchange(f, "\"max_commands\":0");
}

/* ---- from the device ---------------------------------------------------- */

/* the session started with our Get g of ./A as command 4 of message 1 */
void
start_get(fixture_t *f, int enc, const char *session, outcome_t *o,
    char *token)
{
    f->be.commands = "[" GET_G_A "]";
    login_with(f, enc, session, "", o, token);
    expect_field(o, "SyncBody/Get[4]/CmdID", "4");
    outcome_free(o);
}

/* our Get sent (in XML), and the device's first chunk of value (up to
   `to`, Meta/Size size) answered 213 */
void
first_chunk_taken(fixture_t *f, char *token, const char *value, size_t to,
    const char *size)
{
    outcome_t  o;

    start_get(f, OMADM_ENC_XML, "1", &o, token);
    reply(f, token, 2, first_chunk(value, to, size), 0, &o);
    expect_results_status(&o, "2", "3", "213");
    outcome_free(&o);
}

/* a chunk (Results CmdID cmd_ref of message msg_ref) kept with 213, the
   next message asked for, nothing of the Get told to the backend yet */
void
expect_chunk_held(fixture_t *f, outcome_t *o, const char *msg_ref,
    const char *cmd_ref)
{
    expect_results_status(o, msg_ref, cmd_ref, "213");
    expect_next_message(f, o);
    expect_exchange(f, "\"statuses\":[]");
    expect_exchange(f, "\"results\":[]");
}

/* the Get g failed with code, told to the backend without a result */
void
expect_get_failed(fixture_t *f, const char *code)
{
    expect_exchange(f, told_status("g", code));
    expect_exchange(f, "\"results\":[]");
}

/* the device's object refused with code at its chunk (Results CmdID
   cmd_ref of message msg_ref): the Get failed, nothing kept */
void
expect_object_refused(fixture_t *f, outcome_t *o, const char *msg_ref,
    const char *cmd_ref, const char *code)
{
    expect_results_status(o, msg_ref, cmd_ref, code);
    expect_get_failed(f, code);
    assert_null(object_segment(&f->mem, "1", 0));
}
