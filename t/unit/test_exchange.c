/*
 * The exchange engine through the C ABI only: an in-memory store, a backend
 * played by the test (it reads op + JSON and answers like docs/backend-api.md
 * says), device messages written by hand, answers checked by decoding them
 * back with omadm_syncml_describe().
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "omadm.h"


#define DEV     "IMEI:490154203237518"
#define SERVER  "https://dm.example.com/omadm"
#define NONCE0  "00qRAH8Q7kJbLIgZwP8zpw=="
#define T0      1700000000


/* ---- in-memory store --------------------------------------------------- */

#define STORE_MAX  32

typedef struct {
    char      *key;
    size_t     key_len;
    char      *val;
    size_t     val_len;
    unsigned   ttl;
} entry_t;

typedef struct {
    entry_t    e[STORE_MAX];
    int        n;
    int        fail_put;
} mem_store_t;

static entry_t *
store_find(mem_store_t *s, const char *key, size_t key_len)
{
    int  i;

    for (i = 0; i < s->n; i++) {
        if (s->e[i].key_len == key_len
            && memcmp(s->e[i].key, key, key_len) == 0)
        {
            return &s->e[i];
        }
    }
    return NULL;
}

static int
store_get(void *ctx, const char *key, size_t key_len, omadm_sink_pt sink,
    void *sink_ctx)
{
    entry_t  *e = store_find(ctx, key, key_len);

    if (e == NULL) {
        return OMADM_NOT_FOUND;
    }
    sink(sink_ctx, e->val, e->val_len);
    return OMADM_OK;
}

static int
store_put(void *ctx, const char *key, size_t key_len, const char *val,
    size_t val_len, unsigned ttl)
{
    mem_store_t  *s = ctx;
    entry_t      *e;

    if (s->fail_put) {
        return OMADM_ERROR;
    }
    e = store_find(s, key, key_len);
    if (e == NULL) {
        assert_true(s->n < STORE_MAX);
        e = &s->e[s->n++];
        e->key = malloc(key_len);
        memcpy(e->key, key, key_len);
        e->key_len = key_len;
    } else {
        free(e->val);
    }
    e->val = malloc(val_len + 1);
    memcpy(e->val, val, val_len);
    e->val[val_len] = '\0';
    e->val_len = val_len;
    e->ttl = ttl;
    return OMADM_OK;
}

static int
store_remove(void *ctx, const char *key, size_t key_len)
{
    mem_store_t  *s = ctx;
    entry_t      *e = store_find(s, key, key_len);

    if (e == NULL) {
        return OMADM_NOT_FOUND;
    }
    free(e->key);
    free(e->val);
    *e = s->e[--s->n];
    return OMADM_OK;
}

/* every key and value, for "the store did not change" */
static char *
store_snapshot(mem_store_t *s)
{
    size_t  len = 1;
    char   *out, *p;
    int     i;

    for (i = 0; i < s->n; i++) {
        len += s->e[i].key_len + s->e[i].val_len + 16;
    }
    p = out = malloc(len);
    for (i = 0; i < s->n; i++) {
        memcpy(p, s->e[i].key, s->e[i].key_len);
        p += s->e[i].key_len;
        p += sprintf(p, "=%u=", s->e[i].ttl);
        memcpy(p, s->e[i].val, s->e[i].val_len);
        p += s->e[i].val_len;
        *p++ = '\n';
    }
    *p = '\0';
    return out;
}

static entry_t *
session_entry(mem_store_t *s, const char *session_id)
{
    char  key[128];
    int   n = snprintf(key, sizeof(key), "s:%s\n%s", DEV, session_id);

    return store_find(s, key, (size_t) n);
}

/* the bookkeeping part of a stored session (it ends at a NUL) */
static const char *
session_blob(mem_store_t *s, const char *session_id)
{
    entry_t  *e = session_entry(s, session_id);

    return e ? e->val : NULL;
}


/* ---- the backend, played by the test ----------------------------------- */

typedef struct {
    int         registered;
    char        username[32];
    char        inner[64];
    char        nonce[64];          /* the device's next-session nonce */
    char        previous[64];       /* the nonce it replaced */
    const char *commands;           /* next exchange answer's array */
    char        fail_op[16];        /* one-shot failure injection */
    int         fail_status;
    const char *fail_body;
    char        req[8192];
    char        last_auth[512];
    char        last_exchange[8192];
    char        answer[4096];
} backend_t;

/* the string value of "key" in a compact JSON object, or "" */
static void
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

static const char *
backend_handle(backend_t *b, const char *op, const char *body, size_t len,
    int *status)
{
    char  used[64], next[64];

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
        strcpy(b->previous, b->nonce);
        json_str(b->req, "nonce", b->nonce, sizeof(b->nonce));
        assert_int_equal(strlen(b->nonce), 24);
        return "{}";
    }

    if (strcmp(op, "auth") == 0) {
        strcpy(b->last_auth, b->req);
        snprintf(b->answer, sizeof(b->answer),
                 "{\"device_id\":\"" DEV "\",\"username\":\"%s\","
                 "\"inner\":\"%s\",\"nonce\":\"%s\","
                 "\"previous_nonces\":[\"%s\"]}",
                 b->username, b->inner, b->nonce, b->previous);
        return b->answer;
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
    b->commands = NULL;
    return b->answer;
}


/* ---- fixture and driver ------------------------------------------------ */

typedef struct {
    omadm_config_t  cf;
    mem_store_t     mem;
    omadm_store_t   store;
    backend_t       be;
    time_t          now;
} fixture_t;

typedef struct {
    int     http_status;
    char    content_type[64];
    char   *body;
    size_t  len;
    char   *desc;                   /* describe() of a SyncML answer */
    char    ops[128];               /* "nonce,auth,..." */
    char    auth[16];
    char    error[256];
} outcome_t;

static int
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

    f->store.ctx = &f->mem;
    f->store.get = store_get;
    f->store.put = store_put;
    f->store.remove = store_remove;

    f->be.registered = 1;
    strcpy(f->be.username, "dev1");
    assert_int_equal(omadm_auth_md5_inner("dev1", 4, "secret", 6,
                     f->be.inner, sizeof(f->be.inner), NULL), OMADM_OK);
    strcpy(f->be.nonce, NONCE0);

    f->now = T0;
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fixture_t  *f = *state;

    while (f->mem.n > 0) {
        store_remove(&f->mem, f->mem.e[0].key, f->mem.e[0].key_len);
    }
    free(f);
    return 0;
}

static void
outcome_free(outcome_t *o)
{
    free(o->body);
    omadm_free(o->desc);
    memset(o, 0, sizeof(*o));
}

static void
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

/* one device message, start to answer */
static void
drive(fixture_t *f, const char *msg, const char *token, outcome_t *o)
{
    omadm_exchange_t  *ex;
    omadm_action_t     act;
    const char        *answer;
    int                i, status, rc;
    char              *err = NULL;
    char               op[16];

    memset(o, 0, sizeof(*o));
    assert_int_equal(omadm_exchange_create(&f->cf, &f->store, msg,
                     strlen(msg), OMADM_ENC_XML, token,
                     token ? strlen(token) : 0, f->now,
                     &ex), OMADM_OK);

    for (i = 0; ; i++) {
        assert_true(i < 8);
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
                            "application/vnd.syncml.dm+xml");
        rc = omadm_syncml_describe(o->body, o->len, NULL, &o->desc, NULL,
                                   &err);
        if (rc != OMADM_OK) {
            fail_msg("answer does not decode: %s\n%s", err, o->body);
        }
    }
}

/* the value of one describe() line, or NULL */
static const char *
field(const outcome_t *o, const char *path)
{
    static char  buf[512];
    size_t       plen = strlen(path);
    const char  *p = o->desc, *end;

    assert_non_null(p);
    while (p && *p) {
        if (strncmp(p, path, plen) == 0 && p[plen] == '=') {
            p += plen + 1;
            end = strchr(p, '\n');
            end = end ? end : p + strlen(p);
            assert_true((size_t) (end - p) < sizeof(buf));
            memcpy(buf, p, (size_t) (end - p));
            buf[end - p] = '\0';
            return buf;
        }
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    return NULL;
}

#define expect_field(o, path, value)                                        \
    do {                                                                    \
        const char *v_ = field(o, path);                                    \
        if (v_ == NULL) fail_msg("no %s in\n%s", path, (o)->desc);          \
        assert_string_equal(v_, value);                                     \
    } while (0)

#define expect_no_field(o, path)                                            \
    do {                                                                    \
        if (field(o, path) != NULL)                                         \
            fail_msg("unexpected %s in\n%s", path, (o)->desc);              \
    } while (0)

/* the "s" token of the answer's RespURI */
static void
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


/* ---- device messages --------------------------------------------------- */

#define PKG1(a, r)                                                          \
    "<Alert><CmdID>" a "</CmdID><Data>1201</Data></Alert>"                  \
    "<Replace><CmdID>" r "</CmdID>"                                         \
    "<Item><Source><LocURI>./DevInfo/DevId</LocURI></Source>"               \
    "<Data>" DEV "</Data></Item>"                                           \
    "<Item><Source><LocURI>./DevInfo/Man</LocURI></Source>"                 \
    "<Data>Example Corp</Data></Item></Replace>"

#define HDR_STATUS(msgref)                                                  \
    "<Status><CmdID>1</CmdID><MsgRef>" msgref "</MsgRef><CmdRef>0</CmdRef>" \
    "<Cmd>SyncHdr</Cmd><TargetRef>" DEV "</TargetRef>"                      \
    "<SourceRef>" SERVER "</SourceRef><Data>200</Data></Status>"

static char *
device_msg(const char *session, int msg_id, const char *cred,
    const char *body)
{
    static char  buf[8192];

    snprintf(buf, sizeof(buf),
        "<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr>"
        "<VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>"
        "<SessionID>%s</SessionID><MsgID>%d</MsgID>"
        "<Target><LocURI>" SERVER "</LocURI></Target>"
        "<Source><LocURI>" DEV "</LocURI><LocName>dev1</LocName></Source>"
        "%s</SyncHdr><SyncBody>%s<Final/></SyncBody></SyncML>",
        session, msg_id, cred ? cred : "", body);
    return buf;
}

static char *
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

static char *
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

/* package 1 with a correct MD5 Cred: a session authenticated in one go */
static void
login(fixture_t *f, const char *session, outcome_t *o, char *token)
{
    char  nonce[64];

    strcpy(nonce, f->be.nonce);
    drive(f, device_msg(session, 1, md5_cred("dev1", "secret", nonce),
                        PKG1("1", "2")), NULL, o);
    assert_int_equal(o->http_status, 200);
    expect_field(o, "SyncBody/Status[1]/Data", "212");
    assert_string_equal(o->ops, "auth,exchange");
    resp_token(o, token, 33);
}


/* ---- tests --------------------------------------------------------------- */

/* protocol digest §8, then the next session with the rotated nonce */
static void
test_md5_session(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o, again;
    char        token[33], token2[33], nonce1[64], nonce2[64], msg[8192];

    /* ① no Cred -> 407 with a nonce stored through "nonce" */
    drive(f, device_msg("42", 1, NULL, PKG1("1", "2")), NULL, &o);
    assert_int_equal(o.http_status, 200);
    assert_string_equal(o.ops, "nonce");
    assert_string_equal(o.auth, "missing");
    assert_string_not_equal(f->be.nonce, NONCE0);
    strcpy(nonce1, f->be.nonce);
    expect_field(&o, "Version", "1.2");
    expect_field(&o, "SyncHdr/SessionID", "42");
    expect_field(&o, "SyncHdr/MsgID", "1");
    expect_field(&o, "SyncHdr/Target", DEV);
    expect_field(&o, "SyncHdr/Source", SERVER);
    resp_token(&o, token, sizeof(token));
    expect_field(&o, "SyncBody/Status[1]/CmdID", "1");
    expect_field(&o, "SyncBody/Status[1]/MsgRef", "1");
    expect_field(&o, "SyncBody/Status[1]/CmdRef", "0");
    expect_field(&o, "SyncBody/Status[1]/Cmd", "SyncHdr");
    expect_field(&o, "SyncBody/Status[1]/TargetRef[1]", SERVER);
    expect_field(&o, "SyncBody/Status[1]/SourceRef[1]", DEV);
    expect_field(&o, "SyncBody/Status[1]/Chal/Meta/Type", "syncml:auth-md5");
    expect_field(&o, "SyncBody/Status[1]/Chal/Meta/Format", "b64");
    expect_field(&o, "SyncBody/Status[1]/Chal/Meta/NextNonce", nonce1);
    expect_field(&o, "SyncBody/Status[1]/Data", "407");
    expect_field(&o, "SyncBody/Status[2]/CmdID", "2");
    expect_field(&o, "SyncBody/Status[2]/CmdRef", "1");
    expect_field(&o, "SyncBody/Status[2]/Cmd", "Alert");
    expect_field(&o, "SyncBody/Status[2]/Data", "407");
    expect_field(&o, "SyncBody/Status[3]/CmdRef", "2");
    expect_field(&o, "SyncBody/Status[3]/Cmd", "Replace");
    expect_field(&o, "SyncBody/Status[3]/Data", "407");
    expect_no_field(&o, "SyncBody/Status[4]/CmdID");
    expect_field(&o, "SyncBody/Final", "1");
    outcome_free(&o);

    /* ③ package 1 again with the MD5 Cred, to the RespURI */
    snprintf(msg, sizeof(msg), "%s", device_msg("42", 2,
             md5_cred("dev1", "secret", nonce1), HDR_STATUS("1")
             PKG1("2", "3")));
    f->be.commands =
        "[{\"id\":\"c17\",\"verb\":\"Get\",\"target\":\"./DevDetail/SwV\"},"
        "{\"id\":\"c18\",\"verb\":\"Get\","
        "\"target\":\"./DevDetail/Ext/Unknown\"}]";
    drive(f, msg, token, &o);
    assert_int_equal(o.http_status, 200);
    assert_string_equal(o.ops, "auth,exchange");
    assert_string_equal(o.auth, "ok");
    assert_string_equal(o.error, "");
    assert_non_null(strstr(f->be.last_auth,
                    "{\"device_id\":\"" DEV "\",\"username\":\"dev1\"}"));
    assert_non_null(strstr(f->be.last_exchange, "\"session_start\":true"));
    assert_non_null(strstr(f->be.last_exchange, "\"msg_id\":\"2\""));
    assert_non_null(strstr(f->be.last_exchange, "\"session_id\":\"42\""));
    assert_non_null(strstr(f->be.last_exchange, "\"used_nonce\":\""));
    assert_non_null(strstr(f->be.last_exchange,
                    "\"./DevInfo/Man\":\"Example Corp\""));
    assert_non_null(strstr(f->be.last_exchange, "\"max_commands\":50"));
    assert_non_null(strstr(f->be.last_exchange, "\"alerts\":[]"));
    assert_non_null(strstr(f->be.last_exchange, "\"statuses\":[]"));
    strcpy(nonce2, f->be.nonce);
    assert_string_not_equal(nonce2, nonce1);
    expect_field(&o, "SyncHdr/MsgID", "2");
    resp_token(&o, token2, sizeof(token2));
    assert_string_equal(token2, token);
    expect_field(&o, "SyncBody/Status[1]/MsgRef", "2");
    expect_field(&o, "SyncBody/Status[1]/Data", "212");
    expect_field(&o, "SyncBody/Status[1]/Chal/Meta/Type", "syncml:auth-md5");
    expect_field(&o, "SyncBody/Status[1]/Chal/Meta/NextNonce", nonce2);
    /* no Status for the device's Status */
    expect_field(&o, "SyncBody/Status[2]/CmdRef", "2");
    expect_field(&o, "SyncBody/Status[2]/Cmd", "Alert");
    expect_field(&o, "SyncBody/Status[2]/Data", "200");
    expect_field(&o, "SyncBody/Status[3]/CmdRef", "3");
    expect_field(&o, "SyncBody/Status[3]/Cmd", "Replace");
    expect_field(&o, "SyncBody/Status[3]/Data", "200");
    expect_field(&o, "SyncBody/Get[4]/CmdID", "4");
    expect_field(&o, "SyncBody/Get[4]/Item[1]/Target", "./DevDetail/SwV");
    expect_no_field(&o, "SyncBody/Get[4]/Item[1]/Meta/Format");
    expect_field(&o, "SyncBody/Get[5]/CmdID", "5");
    expect_field(&o, "SyncBody/Get[5]/Item[1]/Target",
                 "./DevDetail/Ext/Unknown");
    expect_field(&o, "SyncBody/Final", "1");
    assert_non_null(strstr(session_blob(&f->mem, "42"), "\"2:4\":\"c17\""));
    outcome_free(&o);

    /* ⑤ Statuses and Results, mapped back to the backend's ids */
    snprintf(msg, sizeof(msg), "%s", device_msg("42", 3, NULL,
        HDR_STATUS("2")
        "<Status><CmdID>2</CmdID><MsgRef>2</MsgRef><CmdRef>4</CmdRef>"
        "<Cmd>Get</Cmd><TargetRef>./DevDetail/SwV</TargetRef>"
        "<Data>200</Data></Status>"
        "<Status><CmdID>3</CmdID><MsgRef>2</MsgRef><CmdRef>5</CmdRef>"
        "<Cmd>Get</Cmd><Data>404</Data></Status>"
        "<Results><CmdID>4</CmdID><MsgRef>2</MsgRef><CmdRef>4</CmdRef>"
        "<Item><Source><LocURI>./DevDetail/SwV</LocURI></Source>"
        "<Meta><Format xmlns=\"syncml:metinf\">chr</Format>"
        "<Type xmlns=\"syncml:metinf\">text/plain</Type></Meta>"
        "<Data>4.2.1</Data></Item></Results>"));
    drive(f, msg, token, &o);
    assert_int_equal(o.http_status, 200);
    assert_string_equal(o.ops, "exchange");
    assert_string_equal(o.auth, "session");
    assert_non_null(strstr(f->be.last_exchange, "\"session_start\":false"));
    assert_null(strstr(f->be.last_exchange, "nonce"));
    assert_null(strstr(f->be.last_exchange, "devinfo"));
    assert_non_null(strstr(f->be.last_exchange,
        "\"statuses\":[{\"command_id\":\"c17\",\"status\":200},"
        "{\"command_id\":\"c18\",\"status\":404}]"));
    assert_non_null(strstr(f->be.last_exchange,
        "\"results\":[{\"command_id\":\"c17\",\"data\":\"4.2.1\","
        "\"format\":\"chr\",\"source\":\"./DevDetail/SwV\","
        "\"type\":\"text/plain\"}]"));
    /* ⑥ nothing more: only the SyncHdr Status, the session is over */
    expect_field(&o, "SyncHdr/MsgID", "3");
    expect_field(&o, "SyncBody/Status[1]/MsgRef", "3");
    expect_field(&o, "SyncBody/Status[1]/Data", "200");
    expect_no_field(&o, "SyncBody/Status[1]/Chal");
    expect_no_field(&o, "SyncBody/Status[2]/CmdID");
    expect_field(&o, "SyncBody/Final", "1");
    assert_non_null(strstr(session_blob(&f->mem, "42"), "\"ended\":true"));
    assert_non_null(strstr(session_blob(&f->mem, "42"),
                           "\"outstanding\":{}"));

    /* the answer got lost: the same MsgID gets the same bytes, no backend */
    drive(f, msg, token, &again);
    assert_string_equal(again.ops, "");
    assert_int_equal(again.len, o.len);
    assert_memory_equal(again.body, o.body, o.len);
    outcome_free(&again);
    outcome_free(&o);

    /* next session: Cred with the nonce from the 212 works at once */
    snprintf(msg, sizeof(msg), "%s", device_msg("43", 1,
             md5_cred("dev1", "secret", nonce2), PKG1("1", "2")));
    drive(f, msg, NULL, &o);
    assert_string_equal(o.ops, "auth,exchange");
    expect_field(&o, "SyncHdr/MsgID", "1");
    expect_field(&o, "SyncBody/Status[1]/Data", "212");
    resp_token(&o, token2, sizeof(token2));
    assert_string_not_equal(token2, token);
    outcome_free(&o);

    /* the old nonce is spent: 401 with a fresh, stored nonce */
    strcpy(nonce2, f->be.nonce);
    drive(f, device_msg("44", 1, md5_cred("dev1", "secret", nonce1),
                        PKG1("1", "2")), NULL, &o);
    assert_string_equal(o.ops, "auth,nonce");
    assert_string_equal(o.auth, "failed");
    assert_string_equal(o.error, "invalid credentials");
    assert_string_not_equal(f->be.nonce, nonce2);
    expect_field(&o, "SyncBody/Status[1]/Data", "401");
    expect_field(&o, "SyncBody/Status[1]/Chal/Meta/NextNonce", f->be.nonce);
    expect_field(&o, "SyncBody/Status[2]/Data", "401");
    expect_field(&o, "SyncBody/Status[3]/Data", "401");
    outcome_free(&o);
}

static void
test_basic(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        token[33], msg[8192];

    f->cf.auth_accept = OMADM_AUTH_BASIC | OMADM_AUTH_MD5;
    f->cf.auth_challenge = OMADM_AUTH_BASIC;

    /* basic challenge: no nonce, no backend call */
    drive(f, device_msg("7", 1, NULL, PKG1("1", "2")), NULL, &o);
    assert_string_equal(o.ops, "");
    assert_string_equal(o.auth, "missing");
    expect_field(&o, "SyncBody/Status[1]/Data", "407");
    expect_field(&o, "SyncBody/Status[1]/Chal/Meta/Type",
                 "syncml:auth-basic");
    expect_field(&o, "SyncBody/Status[1]/Chal/Meta/Format", "b64");
    expect_no_field(&o, "SyncBody/Status[1]/Chal/Meta/NextNonce");
    resp_token(&o, token, sizeof(token));
    outcome_free(&o);

    snprintf(msg, sizeof(msg), "%s", device_msg("7", 2,
             basic_cred("dev1", "secret"), HDR_STATUS("1") PKG1("2", "3")));
    drive(f, msg, token, &o);
    assert_string_equal(o.ops, "auth,exchange");
    assert_string_equal(o.auth, "ok");
    assert_null(strstr(f->be.last_exchange, "used_nonce"));
    assert_non_null(strstr(f->be.last_exchange, "\"next_nonce\":\""));
    expect_field(&o, "SyncBody/Status[1]/Data", "212");
    /* md5 is accepted too: the next session's nonce comes with the 212 */
    expect_field(&o, "SyncBody/Status[1]/Chal/Meta/NextNonce", f->be.nonce);
    outcome_free(&o);

    /* basic only: 212 without Chal; a wrong password is refused */
    f->cf.auth_accept = OMADM_AUTH_BASIC;
    drive(f, device_msg("8", 1, basic_cred("dev1", "secret"),
                        PKG1("1", "2")), NULL, &o);
    assert_string_equal(o.ops, "auth,exchange");
    assert_null(strstr(f->be.last_exchange, "nonce"));
    expect_field(&o, "SyncBody/Status[1]/Data", "212");
    expect_no_field(&o, "SyncBody/Status[1]/Chal");
    outcome_free(&o);

    drive(f, device_msg("9", 1, basic_cred("dev1", "wrong"),
                        PKG1("1", "2")), NULL, &o);
    assert_string_equal(o.ops, "auth");
    assert_string_equal(o.auth, "failed");
    expect_field(&o, "SyncBody/Status[1]/Data", "401");
    expect_field(&o, "SyncBody/Status[1]/Chal/Meta/Type",
                 "syncml:auth-basic");
    outcome_free(&o);

    /* an md5 Cred when only basic is accepted fails without a lookup */
    drive(f, device_msg("10", 1, md5_cred("dev1", "secret", f->be.nonce),
                        PKG1("1", "2")), NULL, &o);
    assert_string_equal(o.ops, "");
    assert_string_equal(o.auth, "failed");
    expect_field(&o, "SyncBody/Status[1]/Data", "401");
    outcome_free(&o);
}

static void
test_wrong_password_and_throttle(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        nonce[64], token[33], sid[16];
    int         i;

    for (i = 0; i < 3; i++) {
        /* a new session each time: the same MsgID would be a repeat */
        snprintf(sid, sizeof(sid), "5%d", i);
        strcpy(nonce, f->be.nonce);
        drive(f, device_msg(sid, 1, md5_cred("dev1", "wrong", nonce),
                            HDR_STATUS("1") PKG1("2", "3")), NULL, &o);
        assert_int_equal(o.http_status, 200);
        assert_string_equal(o.ops, "auth,nonce");
        assert_string_equal(o.auth, "failed");
        assert_string_equal(o.error, "invalid credentials");
        assert_string_not_equal(f->be.nonce, nonce);
        expect_field(&o, "SyncBody/Status[1]/Data", "401");
        expect_field(&o, "SyncBody/Status[1]/Chal/Meta/NextNonce",
                     f->be.nonce);
        /* only Statuses, none for the device's own Status */
        expect_field(&o, "SyncBody/Status[2]/Cmd", "Alert");
        expect_field(&o, "SyncBody/Status[2]/CmdRef", "2");
        expect_field(&o, "SyncBody/Status[2]/Data", "401");
        expect_field(&o, "SyncBody/Status[3]/Cmd", "Replace");
        expect_no_field(&o, "SyncBody/Status[4]/CmdID");
        outcome_free(&o);
        f->now += 5;
    }

    /* over the limit: even the right password gets 401, without a backend
       call and without a NextNonce: the stored nonce stays valid */
    strcpy(nonce, f->be.nonce);
    drive(f, device_msg("6", 1, md5_cred("dev1", "secret", nonce),
                        PKG1("1", "2")), NULL, &o);
    assert_string_equal(o.ops, "");
    assert_string_equal(o.auth, "throttled");
    assert_string_equal(f->be.nonce, nonce);
    expect_field(&o, "SyncBody/Status[1]/Data", "401");
    expect_field(&o, "SyncBody/Status[1]/Chal/Meta/Type", "syncml:auth-md5");
    expect_no_field(&o, "SyncBody/Status[1]/Chal/Meta/NextNonce");
    outcome_free(&o);

    /* after the window the device gets in, and the count is reset */
    f->now += 60;
    login(f, "7", &o, token);
    outcome_free(&o);
    drive(f, device_msg("8", 1, md5_cred("dev1", "wrong", f->be.nonce),
                        PKG1("1", "2")), NULL, &o);
    assert_string_equal(o.auth, "failed");
    outcome_free(&o);
    strcpy(nonce, f->be.nonce);
    drive(f, device_msg("9", 1, md5_cred("dev1", "secret", nonce),
                        PKG1("1", "2")), NULL, &o);
    assert_string_equal(o.auth, "ok");
    outcome_free(&o);
}

/* the right password with a nonce the device was issued before (its 212
   was lost after the backend rotated the nonce) is stale, not wrong:
   401 with a new challenge, never counted towards the throttle */
static void
test_stale_nonce_is_not_a_failure(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        nonce[64], sid[16], msg[8192];
    int         i;

    strcpy(nonce, f->be.nonce);
    for (i = 0; i < 5; i++) {    /* more than max_auth_failures (3) */
        /* the session start reaches the backend, its answer is lost */
        snprintf(sid, sizeof(sid), "s%d", i);
        snprintf(msg, sizeof(msg), "%s", device_msg(sid, 1,
                 md5_cred("dev1", "secret", nonce), PKG1("1", "2")));
        drive(f, msg, NULL, &o);
        assert_string_equal(o.auth, "ok");
        assert_string_not_equal(f->be.nonce, nonce);
        outcome_free(&o);

        /* the device retries as a new session with the nonce it has */
        snprintf(sid, sizeof(sid), "r%d", i);
        drive(f, device_msg(sid, 1, md5_cred("dev1", "secret", nonce),
                            PKG1("1", "2")), NULL, &o);
        assert_string_equal(o.ops, "auth,nonce");
        assert_string_equal(o.auth, "stale");
        assert_string_equal(o.error, "stale nonce");
        expect_field(&o, "SyncBody/Status[1]/Data", "401");
        expect_field(&o, "SyncBody/Status[1]/Chal/Meta/NextNonce",
                     f->be.nonce);
        strcpy(nonce, f->be.nonce);
        outcome_free(&o);
    }

    /* another message took the nonce between auth and exchange (409):
       the digest was right, so this is stale too */
    strcpy(f->be.fail_op, "exchange");
    f->be.fail_status = 409;
    f->be.fail_body = "{\"error\":\"nonce\"}";
    drive(f, device_msg("race", 1, md5_cred("dev1", "secret", nonce),
                        PKG1("1", "2")), NULL, &o);
    assert_string_equal(o.ops, "auth,exchange,nonce");
    assert_string_equal(o.auth, "stale");
    expect_field(&o, "SyncBody/Status[1]/Data", "401");
    outcome_free(&o);

    /* never throttled: the current nonce lets it in */
    strcpy(nonce, f->be.nonce);
    drive(f, device_msg("in", 1, md5_cred("dev1", "secret", nonce),
                        PKG1("1", "2")), NULL, &o);
    assert_string_equal(o.auth, "ok");
    outcome_free(&o);

    /* a wrong password is still a failure, with the old nonce too */
    drive(f, device_msg("bad", 1, md5_cred("dev1", "wrong", nonce),
                        PKG1("1", "2")), NULL, &o);
    assert_string_equal(o.auth, "failed");
    outcome_free(&o);
}

static void
test_token_and_repeat(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o, again;
    char        token[33], msg[8192];

    /* a repeated package 1 that got a 407 gets the same 407 */
    snprintf(msg, sizeof(msg), "%s", device_msg("3", 1, NULL,
             PKG1("1", "2")));
    drive(f, msg, NULL, &o);
    assert_string_equal(o.ops, "nonce");
    drive(f, msg, NULL, &again);
    assert_string_equal(again.ops, "");
    assert_string_equal(again.body, o.body);
    outcome_free(&again);
    outcome_free(&o);

    f->be.commands = "[{\"id\":\"1\",\"verb\":\"Get\",\"target\":\"./A\"}]";
    login(f, "4", &o, token);
    outcome_free(&o);

    /* without the token an authenticated session is not continued: the
       message starts a new, unauthenticated one */
    snprintf(msg, sizeof(msg), "%s", device_msg("4", 2, NULL,
             HDR_STATUS("1")));
    drive(f, msg, NULL, &o);
    assert_string_equal(o.ops, "nonce");
    expect_field(&o, "SyncBody/Status[1]/Data", "407");
    expect_field(&o, "SyncHdr/MsgID", "1");
    outcome_free(&o);
    drive(f, msg, "0123456789abcdef0123456789abcdef", &o);
    expect_field(&o, "SyncBody/Status[1]/Data", "407");
    outcome_free(&o);

    /* ... and those challenges did not disturb it: with its token the
       device carries on, still authenticated */
    snprintf(msg, sizeof(msg), "%s", device_msg("4", 2, NULL,
             HDR_STATUS("2")));
    drive(f, msg, token, &o);
    assert_string_equal(o.ops, "exchange");
    assert_string_equal(o.auth, "session");
    expect_field(&o, "SyncBody/Status[1]/Data", "200");
    outcome_free(&o);
}

/* the failed-attempt count is taken before the backend is asked, so
   parallel attempts cannot all pass the throttle during the round trip */
static void
test_attempt_reserved(void **state)
{
    fixture_t         *f = *state;
    omadm_exchange_t  *ex;
    omadm_action_t     act;
    const char        *msg, *answer;
    int                status;

    msg = device_msg("20", 1, md5_cred("dev1", "wrong", f->be.nonce),
                     PKG1("1", "2"));
    assert_int_equal(omadm_exchange_create(&f->cf, &f->store, msg,
                     strlen(msg), OMADM_ENC_XML, NULL, 0, f->now, &ex),
                     OMADM_OK);
    assert_int_equal(omadm_exchange_run(ex, &act), OMADM_OK);
    assert_int_equal(act.kind, OMADM_ACT_BACKEND);
    assert_non_null(store_find(&f->mem, "f:" DEV, strlen("f:" DEV)));

    /* a backend failure gives the attempt back: the store is as before */
    assert_int_equal(omadm_exchange_backend_done(ex, 0, NULL, 0), OMADM_OK);
    assert_int_equal(omadm_exchange_run(ex, &act), OMADM_OK);
    assert_int_equal(act.http_status, 503);
    omadm_exchange_destroy(ex);
    assert_null(store_find(&f->mem, "f:" DEV, strlen("f:" DEV)));

    /* a wrong password counts once, not twice */
    assert_int_equal(omadm_exchange_create(&f->cf, &f->store, msg,
                     strlen(msg), OMADM_ENC_XML, NULL, 0, f->now, &ex),
                     OMADM_OK);
    assert_int_equal(omadm_exchange_run(ex, &act), OMADM_OK);
    answer = backend_handle(&f->be, "auth", act.body, act.body_len, &status);
    assert_int_equal(omadm_exchange_backend_done(ex, status, answer,
                     strlen(answer)), OMADM_OK);
    assert_int_equal(omadm_exchange_run(ex, &act), OMADM_OK);
    assert_int_equal(act.kind, OMADM_ACT_BACKEND);    /* the nonce */
    answer = backend_handle(&f->be, "nonce", act.body, act.body_len, &status);
    assert_int_equal(omadm_exchange_backend_done(ex, status, answer,
                     strlen(answer)), OMADM_OK);
    assert_int_equal(omadm_exchange_run(ex, &act), OMADM_OK);
    assert_int_equal(act.http_status, 200);
    omadm_exchange_destroy(ex);
    assert_non_null(strstr(store_find(&f->mem, "f:" DEV,
                                      strlen("f:" DEV))->val,
                           "\"count\":1"));
}

/* what an unauthenticated message can make the server keep is small */
static void
test_unauthenticated_storage_bounded(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char       *msg, *body, sid[80];
    size_t      i, len = 0;

    /* a big package 1: its 407 answer is not kept for a repeat */
    body = malloc(120 * 64);
    body[0] = '\0';
    for (i = 0; i < 120; i++) {
        len += (size_t) sprintf(body + len, "<Alert><CmdID>%zu</CmdID>"
                                "<Data>1224</Data></Alert>", i + 1);
    }
    msg = malloc(len + 1024);
    strcpy(msg, device_msg("30", 1, NULL, body));
    drive(f, msg, NULL, &o);
    assert_string_equal(o.ops, "nonce");
    expect_field(&o, "SyncBody/Status[121]/Data", "407");
    outcome_free(&o);
    drive(f, msg, NULL, &o);
    assert_string_equal(o.ops, "nonce");            /* answered afresh */
    outcome_free(&o);
    assert_true(session_entry(&f->mem, "30")->val_len < 1024);
    free(msg);
    free(body);

    /* identifiers are bounded: a 65-byte SessionID is refused */
    memset(sid, '7', 65);
    sid[65] = '\0';
    drive(f, device_msg(sid, 1, NULL, PKG1("1", "2")), NULL, &o);
    assert_int_equal(o.http_status, 400);
    assert_string_equal(o.ops, "");
    assert_non_null(strstr(o.body, "SyncHdr/SessionID longer than 64"));
    outcome_free(&o);
}

static void
test_backend_failures(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        token[33], msg[8192], *before, *after;
    static const struct {
        const char  *op;
        int          status;
        const char  *body;
        const char  *reason;
    } cases[] = {
        { "exchange", 503, "oops", "backend exchange answered 503\n" },
        { "exchange", 0, NULL, "backend exchange unreachable\n" },
        { "exchange", 200, "{\"commands\":", NULL },
        { "exchange", 200, "{\"commands\":[{\"id\":\"1\"}]}", NULL },
        { "exchange", 200, "{\"commands\":[{\"id\":\"1\",\"verb\":\"Copy\","
                           "\"target\":\"./A\"}]}",
          "backend sent unknown verb\n" },
        { "exchange", 500, "{}", "backend exchange answered 500\n" },
    };
    size_t      i;

    f->be.commands = "[{\"id\":\"1\",\"verb\":\"Get\",\"target\":\"./A\"}]";
    login(f, "11", &o, token);
    outcome_free(&o);

    snprintf(msg, sizeof(msg), "%s", device_msg("11", 2, NULL,
        HDR_STATUS("1")
        "<Status><CmdID>2</CmdID><MsgRef>1</MsgRef><CmdRef>4</CmdRef>"
        "<Cmd>Get</Cmd><Data>200</Data></Status>"
        "<Alert><CmdID>3</CmdID><Data>1226</Data><Correlator>job</Correlator>"
        "<Item><Source><LocURI>./FwUpdate/X</LocURI></Source>"
        "<Meta><Type xmlns=\"syncml:metinf\">org.example.t</Type>"
        "<Format xmlns=\"syncml:metinf\">int</Format>"
        "<Mark xmlns=\"syncml:metinf\">critical</Mark></Meta>"
        "<Data>200</Data></Item></Alert>"));

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        before = store_snapshot(&f->mem);
        strcpy(f->be.fail_op, cases[i].op);
        f->be.fail_status = cases[i].status;
        f->be.fail_body = cases[i].body;
        drive(f, msg, token, &o);
        assert_int_equal(o.http_status, 503);
        assert_string_equal(o.content_type, "text/plain");
        assert_string_equal(o.auth, "session");
        if (cases[i].reason) {
            assert_string_equal(o.body, cases[i].reason);
        }
        assert_true(o.error[0] != '\0');
        after = store_snapshot(&f->mem);
        assert_string_equal(after, before);
        free(before);
        free(after);
        outcome_free(&o);
    }

    /* the retry goes through, with the Status and the alert */
    drive(f, msg, token, &o);
    assert_int_equal(o.http_status, 200);
    assert_non_null(strstr(f->be.last_exchange,
        "\"statuses\":[{\"command_id\":\"1\",\"status\":200}]"));
    assert_non_null(strstr(f->be.last_exchange,
        "\"alerts\":[{\"code\":\"1226\",\"correlator\":\"job\",\"items\":"
        "[{\"data\":\"200\",\"format\":\"int\",\"mark\":\"critical\","
        "\"source\":\"./FwUpdate/X\",\"target\":\"\","
        "\"type\":\"org.example.t\"}]}]"));
    expect_field(&o, "SyncHdr/MsgID", "2");
    expect_field(&o, "SyncBody/Status[2]/Cmd", "Alert");
    expect_field(&o, "SyncBody/Status[2]/CmdRef", "3");
    expect_field(&o, "SyncBody/Status[2]/Data", "200");
    outcome_free(&o);

    /* failures before authentication: auth and nonce calls */
    strcpy(f->be.fail_op, "auth");
    f->be.fail_status = 502;
    f->be.fail_body = "";
    before = store_snapshot(&f->mem);
    drive(f, device_msg("12", 1, md5_cred("dev1", "secret", f->be.nonce),
                        PKG1("1", "2")), NULL, &o);
    assert_int_equal(o.http_status, 503);
    assert_string_equal(o.auth, "undecided");
    outcome_free(&o);
    strcpy(f->be.fail_op, "auth");
    f->be.fail_status = 200;
    f->be.fail_body = "{\"username\":\"dev1\"}";
    drive(f, device_msg("12", 1, md5_cred("dev1", "secret", f->be.nonce),
                        PKG1("1", "2")), NULL, &o);
    assert_int_equal(o.http_status, 503);
    outcome_free(&o);
    strcpy(f->be.fail_op, "nonce");
    f->be.fail_status = 500;
    f->be.fail_body = "{}";
    drive(f, device_msg("12", 1, NULL, PKG1("1", "2")), NULL, &o);
    assert_int_equal(o.http_status, 503);
    assert_string_equal(o.auth, "missing");
    outcome_free(&o);
    after = store_snapshot(&f->mem);
    assert_string_equal(after, before);
    free(before);
    free(after);
    /* a nonce raced away (409): test_stale_nonce_is_not_a_failure */
}

static void
test_unknown_device_and_store_full(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;

    f->be.registered = 0;
    drive(f, device_msg("1", 1, md5_cred("dev1", "secret", NONCE0),
                        PKG1("1", "2")), NULL, &o);
    assert_string_equal(o.ops, "auth,nonce");
    assert_string_equal(o.auth, "failed");
    assert_string_equal(o.error, "unknown device");
    expect_field(&o, "SyncBody/Status[1]/Data", "401");
    outcome_free(&o);

    f->be.registered = 1;
    f->mem.fail_put = 1;
    drive(f, device_msg("2", 1, md5_cred("dev1", "secret", f->be.nonce),
                        PKG1("1", "2")), NULL, &o);
    assert_int_equal(o.http_status, 200);
    assert_string_equal(o.auth, "ok");
    assert_non_null(strstr(o.error, "session store"));
    outcome_free(&o);
}

/* a device abort (1223) is reported and asks for no more commands; a
   device the backend forgot (exchange 404) gets 403 and its session ends */
static void
test_abort_and_gone(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        token[33], msg[8192];

    f->be.commands = "[{\"id\":\"1\",\"verb\":\"Get\",\"target\":\"./A\"}]";
    login(f, "20", &o, token);
    outcome_free(&o);
    snprintf(msg, sizeof(msg), "%s", device_msg("20", 2, NULL,
             HDR_STATUS("1") "<Alert><CmdID>2</CmdID><Data>1223</Data>"
             "</Alert>"));
    drive(f, msg, token, &o);
    assert_string_equal(o.ops, "exchange");
    assert_non_null(strstr(f->be.last_exchange, "\"code\":\"1223\""));
    assert_non_null(strstr(f->be.last_exchange, "\"max_commands\":0"));
    expect_field(&o, "SyncBody/Status[2]/Cmd", "Alert");
    expect_field(&o, "SyncBody/Status[2]/Data", "200");
    expect_no_field(&o, "SyncBody/Status[3]/CmdID");
    outcome_free(&o);

    f->be.commands = "[{\"id\":\"1\",\"verb\":\"Get\",\"target\":\"./A\"}]";
    login(f, "21", &o, token);
    outcome_free(&o);
    f->be.registered = 0;
    snprintf(msg, sizeof(msg), "%s", device_msg("21", 2, NULL,
             HDR_STATUS("1")));
    drive(f, msg, token, &o);
    assert_int_equal(o.http_status, 200);
    assert_string_equal(o.auth, "session");
    expect_field(&o, "SyncBody/Status[1]/Data", "403");
    assert_non_null(strstr(session_blob(&f->mem, "21"), "\"ended\":true"));
    outcome_free(&o);
}

static void
test_versions_and_garbage(void **state)
{
    fixture_t   *f = *state;
    outcome_t    o;
    const char  *msg;

    msg = "<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr>"
          "<VerDTD>1.2</VerDTD><VerProto>DM/1.3</VerProto>"
          "<SessionID>1</SessionID><MsgID>1</MsgID>"
          "<Target><LocURI>" SERVER "</LocURI></Target>"
          "<Source><LocURI>" DEV "</LocURI></Source></SyncHdr>"
          "<SyncBody>" PKG1("1", "2") "<Final/></SyncBody></SyncML>";
    drive(f, msg, NULL, &o);
    assert_int_equal(o.http_status, 200);
    assert_string_equal(o.ops, "");
    expect_field(&o, "SyncBody/Status[1]/Data", "513");
    expect_field(&o, "SyncBody/Status[1]/Cmd", "SyncHdr");
    expect_no_field(&o, "SyncBody/Status[2]/CmdID");
    expect_field(&o, "SyncBody/Final", "1");
    outcome_free(&o);

    msg = "<SyncML xmlns=\"SYNCML:SYNCML2.0\"><SyncHdr>"
          "<VerDTD>2.0</VerDTD><VerProto>DM/2.0</VerProto>"
          "<SessionID>1</SessionID><MsgID>1</MsgID>"
          "<Target><LocURI>" SERVER "</LocURI></Target>"
          "<Source><LocURI>" DEV "</LocURI></Source></SyncHdr>"
          "<SyncBody>" PKG1("1", "2") "<Final/></SyncBody></SyncML>";
    drive(f, msg, NULL, &o);
    assert_int_equal(o.http_status, 200);
    assert_string_equal(o.ops, "");
    expect_field(&o, "SyncBody/Status[1]/Data", "505");
    outcome_free(&o);
    assert_int_equal(f->mem.n, 0);

    drive(f, "this is not SyncML", NULL, &o);
    assert_int_equal(o.http_status, 400);
    assert_string_equal(o.content_type, "text/plain");
    assert_true(o.len > 1);
    assert_string_not_equal(o.error, "");
    outcome_free(&o);

    f->cf.limits.max_elements = 5;
    drive(f, device_msg("1", 1, NULL, PKG1("1", "2")), NULL, &o);
    assert_int_equal(o.http_status, 413);
    outcome_free(&o);
    assert_int_equal(f->mem.n, 0);
}

static void
test_bad_calls(void **state)
{
    fixture_t         *f = *state;
    omadm_exchange_t  *ex;
    omadm_action_t     act;

    assert_int_equal(omadm_exchange_create(NULL, &f->store, "", 0,
                     OMADM_ENC_XML, NULL, 0, 0, &ex), OMADM_EINVAL);
    assert_null(ex);
    assert_int_equal(omadm_exchange_create(&f->cf, &f->store, NULL, 0,
                     OMADM_ENC_XML, NULL, 0, 0, &ex), OMADM_OK);
    /* no backend call outstanding */
    assert_int_equal(omadm_exchange_backend_done(ex, 200, "{}", 2),
                     OMADM_EINVAL);
    assert_int_equal(omadm_exchange_run(ex, &act), OMADM_OK);
    assert_int_equal(act.kind, OMADM_ACT_RESPOND);
    assert_int_equal(act.http_status, 400);
    assert_null(omadm_exchange_var(ex, 99, NULL));
    omadm_exchange_destroy(ex);
    omadm_exchange_destroy(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_md5_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_basic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attempt_reserved, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unauthenticated_storage_bounded,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_nonce_is_not_a_failure,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_password_and_throttle,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_and_repeat, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_backend_failures, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unknown_device_and_store_full,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_and_gone, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_versions_and_garbage, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bad_calls, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
