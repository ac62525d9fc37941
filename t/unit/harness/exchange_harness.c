/* The exchange harness of the unit tests (exchange_harness.h). */

#include "exchange_harness.h"

entry_t *
session_entry(mem_store_t *s, const char *session_id)
{
    char  key[128];
    int   n = snprintf(key, sizeof(key), "s:%s\n%s", DEV, session_id);

    return store_find(s, key, (size_t) n);
}

const char *
session_blob(mem_store_t *s, const char *session_id)
{
    static char  *text;
    entry_t      *e = session_entry(s, session_id);

    /* the record is binary: what it says, as the core describes it */
    omadm_free(text);
    text = NULL;
    if (e == NULL) {
        return NULL;
    }
    if (omadm_session_describe(e->val, e->val_len, &text, NULL) != OMADM_OK) {
        fail_msg("the session record of %s does not read back", session_id);
    }
    return text;
}

void
json_str(const char *json, const char *key, char *out, size_t size)
{
    char        pat[64];
    const char *p, *end;

    snprintf(pat, sizeof(pat), "\"%s\":\"", key);
    out[0] = '\0';
    p = strstr(json, pat);
    if (p == NULL) {
        return;
    }
    p += strlen(pat);
    end = strchr(p, '"');
    assert_non_null(end);
    assert_true((size_t) (end - p) < size);
    memcpy(out, p, (size_t) (end - p));
    out[end - p] = '\0';
}

unsigned long long
json_num(const char *json, const char *key)
{
    char        pat[64];
    const char *p;

    snprintf(pat, sizeof(pat), "\"%s\":", key);
    p = strstr(json, pat);
    if (p == NULL) {
        fail_msg("no %s in %s", key, json);
    }
    return strtoull(p + strlen(pat), NULL, 10);
}

const char *
object_piece(backend_t *b, int *status)
{
    char                id[64];
    unsigned long long  off = json_num(b->req, "offset");
    unsigned long long  len = json_num(b->req, "length");
    size_t              size, end, i;
    char               *p;

    json_str(b->req, "command_id", id, sizeof(id));
    p = b->object_log + strlen(b->object_log);
    snprintf(p, sizeof(b->object_log) - (size_t) (p - b->object_log),
             "%s@%llu+%llu;", id, off, len);
    if (b->object_value == NULL) {
        *status = 404;
        return "{\"error\":\"no such command\"}";
    }
    size = strlen(b->object_value);
    assert_true(off <= size);
    end = off + len < size ? (size_t) (off + len) : size;
    while (end > off && end < size
           && ((unsigned char) b->object_value[end] & 0xC0) == 0x80)
    {
        end--;
    }
    p = b->answer;
    p += sprintf(p, "{\"data\":\"");
    for (i = (size_t) off; i < end; i++) {
        assert_true((size_t) (p - b->answer) < sizeof(b->answer) - 64);
        if (b->object_value[i] == '"' || b->object_value[i] == '\\') {
            *p++ = '\\';
        }
        *p++ = b->object_value[i];
    }
    sprintf(p, "\",\"size\":%zu}", size);
    return b->answer;
}

const char *
backend_handle(backend_t *b, const char *op, const char *body, size_t len,
    int *status)
{
    char  used[64], next[64], offered[64];

    assert_true(len < sizeof(b->req));
    memcpy(b->req, body, len);
    b->req[len] = '\0';

    if (b->fail_op[0] && strcmp(op, b->fail_op) == 0) {
        b->fail_op[0] = '\0';
        *status = b->fail_status;
        return b->fail_body;
    }

    if (!b->registered) {
        *status = 404;
        return "{\"error\":\"unknown device\"}";
    }

    *status = 200;

    if (strcmp(op, "nonce") == 0) {
        assert_non_null(strstr(b->req, "\"device_id\":\"" DEV "\""));
        json_str(b->req, "nonce", offered, sizeof(offered));
        assert_int_equal(strlen(offered), 24);
        if (b->stores_every_nonce) {        /* a backend before "keep" */
            strcpy(b->previous, b->nonce);
            strcpy(b->nonce, offered);
            return "{}";
        }
        if (b->nonce[0] == '\0') {           /* only where there is none */
            strcpy(b->nonce, offered);
        }
        snprintf(b->answer, sizeof(b->answer), "{\"nonce\":\"%s\"}",
                 b->nonce);
        return b->answer;
    }

    if (strcmp(op, "auth") == 0) {
        strcpy(b->last_auth, b->req);
        snprintf(b->answer, sizeof(b->answer),
                 "{\"device_id\":\"" DEV "\",\"username\":\"%s\","
                 "\"inner\":\"%s\",\"nonce\":\"%s\","
                 "\"previous_nonces\":[\"%s\"]%s}",
                 b->username, b->inner, b->nonce, b->previous,
                 b->auth_extra ? b->auth_extra : "");
        return b->answer;
    }

    if (strcmp(op, "object") == 0) {
        return object_piece(b, status);
    }

    assert_string_equal(op, "exchange");
    strcpy(b->last_exchange, b->req);
    if (strstr(b->req, "\"session_start\":true")) {
        json_str(b->req, "used_nonce", used, sizeof(used));
        json_str(b->req, "next_nonce", next, sizeof(next));
        if (used[0] && strcmp(used, b->nonce) != 0) {
            *status = 409;
            return "{\"error\":\"nonce\"}";
        }
        if (next[0]) {
            strcpy(b->previous, b->nonce);
            strcpy(b->nonce, next);
        }
    }
    snprintf(b->answer, sizeof(b->answer), "{\"commands\":%s}",
             b->commands ? b->commands : "[]");
    if (!b->commands_stick) {
        b->commands = NULL;
    }
    return b->answer;
}

int
setup(void **state)
{
    fixture_t  *f = calloc(1, sizeof(fixture_t));

    f->cf.auth_accept = OMADM_AUTH_MD5;
    f->cf.auth_challenge = OMADM_AUTH_MD5;
    f->cf.session_ttl = 300;
    f->cf.max_auth_failures = 3;
    f->cf.auth_failure_window = 60;
    f->cf.max_commands = 50;
    f->cf.limits.max_depth = 32;
    f->cf.limits.max_elements = 20000;
    f->cf.limits.max_text = 1024 * 1024;
    f->cf.server_id = SERVER;
    f->cf.server_id_len = strlen(SERVER);
    f->cf.resp_uri = SERVER;
    f->cf.resp_uri_len = strlen(SERVER);

    f->store = mem_store(&f->mem);

    f->be.registered = 1;
    strcpy(f->be.username, "dev1");
    assert_int_equal(omadm_auth_md5_inner("dev1", 4, "secret", 6,
                     f->be.inner, sizeof(f->be.inner), NULL), OMADM_OK);
    strcpy(f->be.nonce, NONCE0);

    f->now = T0;
    *state = f;
    return 0;
}

int
teardown(void **state)
{
    fixture_t  *f = *state;

    store_clear(&f->mem);
    free(f);
    return 0;
}

void
outcome_free(outcome_t *o)
{
    free(o->body);
    omadm_free(o->desc);
    memset(o, 0, sizeof(*o));
}

void
copy_var(omadm_exchange_t *ex, int var, char *out, size_t size)
{
    size_t       len = 0;
    const char  *v = omadm_exchange_var(ex, var, &len);

    out[0] = '\0';
    if (v != NULL) {
        assert_true(len < size);
        memcpy(out, v, len);
        out[len] = '\0';
    }
}

void
drive_as(fixture_t *f, int enc, const char *msg, size_t len,
    const char *token, outcome_t *o)
{
    omadm_exchange_t  *ex;
    omadm_action_t     act;
    const char        *answer;
    int                i, status, rc;
    char              *err = NULL;
    char               op[16];

    memset(o, 0, sizeof(*o));
    assert_int_equal(omadm_exchange_create(&f->cf, &f->store, msg,
                     len, enc, token,
                     token ? strlen(token) : 0, f->now,
                     &ex), OMADM_OK);
    if (f->peer) {
        assert_int_equal(omadm_exchange_set_peer(ex, f->peer,
                         strlen(f->peer)), OMADM_OK);
    }

    for (i = 0; ; i++) {
        assert_true(i < 16);
        assert_int_equal(omadm_exchange_run(ex, &act), OMADM_OK);
        if (act.kind == OMADM_ACT_RESPOND) {
            break;
        }
        assert_int_equal(act.kind, OMADM_ACT_BACKEND);
        /* a second run() without an answer is a caller error */
        assert_int_equal(omadm_exchange_run(ex, &act), OMADM_EINVAL);
        assert_int_equal(omadm_exchange_run(ex, &act), OMADM_EINVAL);
        assert_true(act.op_len < sizeof(op));
        memcpy(op, act.op, act.op_len);
        op[act.op_len] = '\0';
        strcat(o->ops, op);
        strcat(o->ops, ",");
        answer = backend_handle(&f->be, op, act.body, act.body_len, &status);
        assert_int_equal(omadm_exchange_backend_done(ex, status, answer,
                         answer ? strlen(answer) : 0), OMADM_OK);
    }
    if (o->ops[0]) {
        o->ops[strlen(o->ops) - 1] = '\0';
    }

    o->http_status = act.http_status;
    snprintf(o->content_type, sizeof(o->content_type), "%s",
             act.content_type);
    o->body = malloc(act.body_len + 1);
    memcpy(o->body, act.body, act.body_len);
    o->body[act.body_len] = '\0';
    o->len = act.body_len;

    copy_var(ex, OMADM_VAR_AUTH, o->auth, sizeof(o->auth));
    copy_var(ex, OMADM_VAR_ERROR, o->error, sizeof(o->error));
    omadm_exchange_destroy(ex);

    if (o->http_status == 200) {
        assert_string_equal(o->content_type,
                            enc == OMADM_ENC_WBXML
                                ? "application/vnd.syncml.dm+wbxml"
                                : "application/vnd.syncml.dm+xml");
        rc = omadm_syncml_describe_as(enc, o->body, o->len, NULL, &o->desc,
                                      NULL, &err);
        if (rc != OMADM_OK) {
            fail_msg("answer does not decode: %s\n%s", err, o->body);
        }
    }
}

void
drive(fixture_t *f, const char *msg, const char *token, outcome_t *o)
{
    drive_as(f, OMADM_ENC_XML, msg, strlen(msg), token, o);
}

void
drive_wbxml(fixture_t *f, const char *xml, const char *token, outcome_t *o)
{
    char    *w = NULL, *err = NULL;
    size_t   wlen = 0;

    if (omadm_syncml_transcode(OMADM_ENC_XML, OMADM_ENC_WBXML, xml,
                               strlen(xml), NULL, &w, &wlen, &err)
        != OMADM_OK)
    {
        fail_msg("cannot transcode to WBXML: %s\n%s", err, xml);
    }
    drive_as(f, OMADM_ENC_WBXML, w, wlen, token, o);
    omadm_free(w);
}

void
drive_enc(fixture_t *f, int enc, const char *xml, const char *token,
    outcome_t *o)
{
    if (enc == OMADM_ENC_WBXML) {
        drive_wbxml(f, xml, token, o);
    } else {
        drive(f, xml, token, o);
    }
}

int
field_copy(const outcome_t *o, const char *path, char *out, size_t size)
{
    size_t       plen = strlen(path);
    const char  *p = o->desc, *end;

    assert_non_null(p);
    while (p && *p) {
        if (strncmp(p, path, plen) == 0 && p[plen] == '=') {
            p += plen + 1;
            end = strchr(p, '\n');
            end = end ? end : p + strlen(p);
            assert_true((size_t) (end - p) < size);
            memcpy(out, p, (size_t) (end - p));
            out[end - p] = '\0';
            return 1;
        }
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    return 0;
}

const char *
field(const outcome_t *o, const char *path)
{
    static char  buf[512];

    return field_copy(o, path, buf, sizeof(buf)) ? buf : NULL;
}

void
resp_token(const outcome_t *o, char *out, size_t size)
{
    const char  *uri = field(o, "SyncHdr/RespURI");
    const char  *s;

    assert_non_null(uri);
    s = strstr(uri, "?s=");
    assert_non_null(s);
    assert_int_equal(strncmp(uri, SERVER "?s=", strlen(SERVER) + 3), 0);
    snprintf(out, size, "%s", s + 3);
    assert_int_equal(strlen(out), 32);
}

char *
package_msg(const char *session, int msg_id, const char *hdr,
    const char *body, int final)
{
    static char  buf[16384];
    int          n;

    n = snprintf(buf, sizeof(buf),
        "<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr>"
        "<VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>"
        "<SessionID>%s</SessionID><MsgID>%d</MsgID>"
        "<Target><LocURI>" SERVER "</LocURI></Target>"
        "<Source><LocURI>" DEV "</LocURI><LocName>dev1</LocName></Source>"
        "%s</SyncHdr><SyncBody>%s%s</SyncBody></SyncML>",
        session, msg_id, hdr ? hdr : "", body, final ? "<Final/>" : "");
    assert_true((size_t) n < sizeof(buf));
    return buf;
}

char *
device_msg(const char *session, int msg_id, const char *cred,
    const char *body)
{
    return package_msg(session, msg_id, cred, body, 1);
}

char *
md5_cred(const char *user, const char *pass, const char *nonce)
{
    static char  buf[512];
    char         inner[64], digest[64];

    assert_int_equal(omadm_auth_md5_inner(user, strlen(user), pass,
                     strlen(pass), inner, sizeof(inner), NULL), OMADM_OK);
    assert_int_equal(omadm_auth_md5_digest(inner, strlen(inner), nonce,
                     strlen(nonce), digest, sizeof(digest), NULL), OMADM_OK);
    snprintf(buf, sizeof(buf),
        "<Cred><Meta><Type xmlns=\"syncml:metinf\">syncml:auth-md5</Type>"
        "<Format xmlns=\"syncml:metinf\">b64</Format></Meta>"
        "<Data>%s</Data></Cred>", digest);
    return buf;
}

char *
basic_cred(const char *user, const char *pass)
{
    static char  buf[512];
    char         b64[128];

    assert_int_equal(omadm_auth_basic(user, strlen(user), pass, strlen(pass),
                     b64, sizeof(b64), NULL), OMADM_OK);
    snprintf(buf, sizeof(buf),
        "<Cred><Meta><Type xmlns=\"syncml:metinf\">syncml:auth-basic</Type>"
        "<Format xmlns=\"syncml:metinf\">b64</Format></Meta>"
        "<Data>%s</Data></Cred>", b64);
    return buf;
}

void
login_with(fixture_t *f, int enc, const char *session, const char *extras,
    outcome_t *o, char *token)
{
    char  hdr[1024], nonce[64];

    strcpy(nonce, f->be.nonce);
    snprintf(hdr, sizeof(hdr), "%s%s", md5_cred("dev1", "secret", nonce),
             extras);
    drive_enc(f, enc, package_msg(session, 1, hdr, PKG1("1", "2"), 1), NULL,
              o);
    assert_int_equal(o->http_status, 200);
    expect_field(o, "SyncBody/Status[1]/Data", "212");
    resp_token(o, token, 33);
}

void
login(fixture_t *f, const char *session, outcome_t *o, char *token)
{
    login_with(f, OMADM_ENC_XML, session, "", o, token);
    assert_string_equal(o->ops, "auth,exchange");
}
