/* Helpers of the outgoing large-object tests (outgoing_objects.h). */

#include "outgoing_objects.h"

/* The device's MaxMsgSize in the XML cases: the answer to package 1 alone
   (SyncHdr Status with Chal, two Statuses) is some 950 bytes in XML. */

/* what the backend is told when command "big" fails: its reason (or the
   start of it) */





/* Replace "big" of ./Big as a backend command: value inline, or fetched
   through "object" (data_size) */
const char *
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
void
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
void
queue_big(fixture_t *f, const char *value, int fetched)
{
    queue_with_big(f, "", value, fetched, "");
}

const char *
item_field(const outcome_t *o, const char *verb, int k, const char *leaf)
{
    char  path[96];

    snprintf(path, sizeof(path), "SyncBody/%s[%d]/%s", verb, k, leaf);
    return field(o, path);
}

/* the index of our Get in answer o, which must hold one; of target
   unless that is NULL */
int
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
void
expect_object_dropped(fixture_t *f, outcome_t *o)
{
    assert_int_equal(command_index(o, "Replace"), 0);
    expect_field(o, "SyncBody/Final", "1");
    assert_null(strstr(session_blob(&f->mem, "1"), "\"outgoing\""));
}

/* answer o, after the backend calls ops: the Replace failed to the
   backend (`failed`: what it is told), no chunk, the package ends */
void
expect_big_failed(fixture_t *f, outcome_t *o, const char *ops,
    const char *failed)
{
    assert_int_equal(o->http_status, 200);
    assert_string_equal(o->ops, ops);
    expect_exchange(f, failed);
    expect_object_dropped(f, o);
}


/*
 * Checks the chunk of the Replace (target ./Big) in answer o and keeps
 * its data; true when it was not the last.
 */
int
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
void
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
void
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
void
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
void
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
void
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
const char *
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
void
big_fails_after_213(fixture_t *f, follow_t *fl, const char *ops,
    const char *failed)
{
    outcome_t  o;

    answer_chunk(f, fl, "213", &o);
    expect_big_failed(f, &o, ops, failed);
    outcome_free(&o);
}
