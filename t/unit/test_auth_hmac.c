/*
 * syncml:auth-MAC and the server's own Cred through the C ABI: a session
 * signed with x-syncml-hmac (exact body bytes, the nonce of the 212 for
 * the rest of the session), a tampered body and a missing header refused
 * with 401 + auth-MAC Chal, the server's response MAC, and the server Cred
 * of omadm_server_auth md5.  The backend is played by the test.
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
#define INNER   "5JCaBwg5UOKeo+yimuXGew=="      /* dev1:secret */
#define SINNER  "wDGTSxGnVP/fNkcMNfd+3A=="      /* dm.example.com:srvsecret */
#define SNONCE  "AQIDBAUGBwgJCgsMDQ4PEA=="
#define T0      1700000000


#include "mem_store.h"


/* ---- fixture ------------------------------------------------------------ */

typedef struct {
    mem_store_t     mem;
    omadm_store_t   store;
    omadm_config_t  cf;
    char            token[64];
    char            nonce[64];      /* the NextNonce of the last answer */
    char           *body;           /* last answer, described */
    char            hmac[512];      /* last answer's x-syncml-hmac */
    char            resp[65536];    /* last answer, raw */
    size_t          resp_len;
} fx_t;

static int
setup(void **state)
{
    fx_t  *f = calloc(1, sizeof(fx_t));

    f->store = mem_store(&f->mem);
    f->cf.auth_accept = OMADM_AUTH_HMAC | OMADM_AUTH_MD5;
    f->cf.auth_challenge = OMADM_AUTH_HMAC;
    f->cf.session_ttl = 300;
    f->cf.max_auth_failures = 5;
    f->cf.auth_failure_window = 60;
    f->cf.max_commands = 10;
    f->cf.server_id = SERVER;
    f->cf.server_id_len = strlen(SERVER);
    f->cf.resp_uri = SERVER;
    f->cf.resp_uri_len = strlen(SERVER);
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    fx_t  *f = *state;

    store_clear(&f->mem);
    free(f->body);
    free(f);
    return 0;
}

static char *
message(int msg_id, const char *cred, const char *extra)
{
    char  *m = malloc(4096);

    snprintf(m, 4096,
        "<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr><VerDTD>1.2</VerDTD>"
        "<VerProto>DM/1.2</VerProto><SessionID>7</SessionID>"
        "<MsgID>%d</MsgID><Target><LocURI>" SERVER "</LocURI></Target>"
        "<Source><LocURI>" DEV "</LocURI><LocName>dev1</LocName></Source>"
        "%s</SyncHdr><SyncBody><Alert><CmdID>1</CmdID><Data>1201</Data>"
        "</Alert>%s<Final/></SyncBody></SyncML>",
        msg_id, cred ? cred : "", extra ? extra : "");
    return m;
}

static void
sign(const char *inner, const char *nonce, const char *body, size_t len,
    char *out, size_t size)
{
    char    mac[64];
    size_t  n;

    assert_int_equal(omadm_auth_hmac_mac(inner, strlen(inner), nonce,
                     strlen(nonce), body, len, mac, sizeof(mac), &n),
                     OMADM_OK);
    snprintf(out, size, "algorithm=MD5, username=\"dev1\", mac=%s", mac);
}

/* The backend: auth answers with the device's and server's credentials,
   nonce/exchange are logged in ops ("auth,exchange,") and answered. */
typedef struct {
    const char  *nonce;             /* the device's stored nonce */
    const char  *commands;          /* JSON array for exchange */
    char         ops[256];
    char         last_exchange[4096];
} backend_t;

static const char *
var(omadm_exchange_t *ex, int which)
{
    static char  buf[512];
    size_t       len = 0;
    const char  *v = omadm_exchange_var(ex, which, &len);

    if (v == NULL) {
        return "";
    }
    snprintf(buf, sizeof(buf), "%.*s", (int) len, v);
    return buf;
}

static int
run(fx_t *f, backend_t *b, const char *body, const char *hmac)
{
    omadm_exchange_t  *ex;
    omadm_action_t     act;
    char               answer[2048], *err = NULL;
    const char        *chal;
    size_t             len;

    assert_int_equal(omadm_exchange_create(&f->cf, &f->store, body,
                     strlen(body), OMADM_ENC_XML, f->token, strlen(f->token),
                     T0, &ex), OMADM_OK);
    if (hmac) {
        assert_int_equal(omadm_exchange_set_hmac(ex, hmac, strlen(hmac)),
                         OMADM_OK);
    }
    b->ops[0] = '\0';
    for ( ;; ) {
        assert_int_equal(omadm_exchange_run(ex, &act), OMADM_OK);
        if (act.kind == OMADM_ACT_RESPOND) {
            break;
        }
        strncat(b->ops, act.op, act.op_len);
        strcat(b->ops, ",");
        if (strncmp(act.op, "auth", act.op_len) == 0) {
            snprintf(answer, sizeof(answer),
                "{\"username\":\"dev1\",\"inner\":\"" INNER "\","
                "\"nonce\":\"%s\",\"server_username\":\"dm.example.com\","
                "\"server_inner\":\"" SINNER "\",\"server_nonce\":\""
                SNONCE "\"}", b->nonce);
        } else if (strncmp(act.op, "exchange", act.op_len) == 0) {
            snprintf(b->last_exchange, sizeof(b->last_exchange), "%.*s",
                     (int) act.body_len, act.body);
            snprintf(answer, sizeof(answer), "{\"commands\":%s}",
                     b->commands ? b->commands : "[]");
        } else {
            strcpy(answer, "{}");
        }
        assert_int_equal(omadm_exchange_backend_done(ex, 200, answer,
                         strlen(answer)), OMADM_OK);
    }

    /* a second set_hmac is refused once the exchange ran */
    assert_int_equal(omadm_exchange_set_hmac(ex, "x", 1), OMADM_EINVAL);

    assert_true(act.body_len < sizeof(f->resp));
    memcpy(f->resp, act.body, act.body_len);
    f->resp_len = act.body_len;
    snprintf(f->hmac, sizeof(f->hmac), "%s",
             var(ex, OMADM_VAR_RESPONSE_HMAC));

    free(f->body);
    f->body = NULL;
    if (act.http_status == 200) {
        assert_int_equal(omadm_syncml_describe(act.body, act.body_len, NULL,
                         &f->body, &len, &err), OMADM_OK);
        chal = strstr(f->body, "NextNonce=");
        f->nonce[0] = '\0';
        if (chal) {
            sscanf(chal + strlen("NextNonce="), "%63[^\n]", f->nonce);
        }
        chal = strstr(f->body, "RespURI=");
        if (chal && strstr(chal, "?s=")) {
            sscanf(strstr(chal, "?s=") + 3, "%63[^\n]", f->token);
        }
    }
    omadm_exchange_destroy(ex);
    return act.http_status;
}

static int
has(fx_t *f, const char *what)
{
    if (f->body && strstr(f->body, what)) {
        return 1;
    }
    print_message("no \"%s\" in:\n%s\n", what, f->body ? f->body : "(none)");
    return 0;
}


/* ---- tests --------------------------------------------------------------- */

static void
hmac_session(void **state)
{
    fx_t       *f = *state;
    backend_t   b = { NONCE0, "[{\"id\":\"9\",\"verb\":\"Get\","
                      "\"target\":\"./DevDetail/SwV\"}]", "", "" };
    char        h[256], expect[256], mac[64];
    char       *m;
    size_t      n;

    m = message(1, NULL, NULL);
    sign(INNER, NONCE0, m, strlen(m), h, sizeof(h));
    assert_int_equal(run(f, &b, m, h), 200);
    free(m);
    assert_string_equal(b.ops, "auth,exchange,");
    assert_true(has(f, "Data=212"));
    assert_true(has(f, "syncml:auth-MAC"));
    assert_non_null(strstr(b.last_exchange, "\"used_nonce\":\"" NONCE0));
    assert_non_null(strstr(b.last_exchange, "\"next_nonce\""));
    assert_true(f->nonce[0] != '\0');

    /* our answer is signed with the server's secret and nonce */
    assert_int_equal(omadm_auth_hmac_mac(SINNER, strlen(SINNER), SNONCE,
                     strlen(SNONCE), f->resp, f->resp_len, mac, sizeof(mac),
                     &n), OMADM_OK);
    snprintf(expect, sizeof(expect),
             "algorithm=MD5, username=\"dm.example.com\", mac=%s", mac);
    assert_string_equal(f->hmac, expect);

    /* the next message is signed with the 212's nonce: accepted */
    m = message(2, NULL, NULL);
    sign(INNER, f->nonce, m, strlen(m), h, sizeof(h));
    b.commands = "[{\"id\":\"10\",\"verb\":\"Get\",\"target\":\"./x\"}]";
    assert_int_equal(run(f, &b, m, h), 200);
    assert_string_equal(b.ops, "auth,exchange,");
    assert_true(has(f, "Data=200"));

    /* ... signed with the old nonce: refused, the session falls */
    free(m);
    m = message(3, NULL, NULL);
    sign(INNER, NONCE0, m, strlen(m), h, sizeof(h));
    assert_int_equal(run(f, &b, m, h), 200);
    assert_string_equal(b.ops, "auth,nonce,");
    assert_true(has(f, "Data=401"));
    assert_true(has(f, "syncml:auth-MAC"));

    /* and a message without any header is not let in either */
    free(m);
    m = message(4, NULL, NULL);
    assert_int_equal(run(f, &b, m, NULL), 200);
    assert_true(has(f, "Data=407"));
    free(m);
}

static void
missing_mid_session(void **state)
{
    fx_t       *f = *state;
    backend_t   b = { NONCE0, "[{\"id\":\"9\",\"verb\":\"Get\","
                      "\"target\":\"./a\"}]", "", "" };
    char        h[256];
    char       *m;

    m = message(1, NULL, NULL);
    sign(INNER, NONCE0, m, strlen(m), h, sizeof(h));
    assert_int_equal(run(f, &b, m, h), 200);
    free(m);
    m = message(2, NULL, NULL);
    assert_int_equal(run(f, &b, m, NULL), 200);
    assert_string_equal(b.ops, "nonce,");      /* no auth, no exchange */
    assert_true(has(f, "Data=401"));
    assert_true(has(f, "syncml:auth-MAC"));
    free(m);
}

static void
tampered(void **state)
{
    fx_t       *f = *state;
    backend_t   b = { NONCE0, NULL, "", "" };
    char        h[256];
    char       *m = message(1, NULL, NULL);

    sign(INNER, NONCE0, m, strlen(m), h, sizeof(h));
    strstr(m, "1201")[3] = '2';                 /* after signing */
    assert_int_equal(run(f, &b, m, h), 200);
    assert_string_equal(b.ops, "auth,nonce,");
    assert_true(has(f, "Data=401"));
    assert_true(has(f, "syncml:auth-MAC"));
    free(m);

    /* a header that does not parse is a failure too, without a lookup */
    m = message(2, NULL, NULL);
    assert_int_equal(run(f, &b, m, "algorithm=SHA1, username=\"dev1\""), 200);
    assert_string_equal(b.ops, "nonce,");
    assert_true(has(f, "Data=401"));
    free(m);
}

static void
server_cred_md5(void **state)
{
    fx_t       *f = *state;
    backend_t   b = { NONCE0, NULL, "", "" };
    char        cred[512], digest[64], expect[128];
    char       *m;
    size_t      n;

    f->cf.server_auth = OMADM_AUTH_MD5;
    assert_int_equal(omadm_auth_md5_digest(INNER, strlen(INNER), NONCE0,
                     strlen(NONCE0), digest, sizeof(digest), &n), OMADM_OK);
    snprintf(cred, sizeof(cred),
        "<Cred><Meta><Type xmlns=\"syncml:metinf\">syncml:auth-md5</Type>"
        "<Format xmlns=\"syncml:metinf\">b64</Format></Meta>"
        "<Data>%s</Data></Cred>", digest);
    m = message(1, cred, NULL);
    assert_int_equal(run(f, &b, m, NULL), 200);
    assert_true(has(f, "Data=212"));
    assert_string_equal(f->hmac, "");           /* no MAC: md5 device */

    /* vector E: dm.example.com / srvsecret with the device's nonce */
    snprintf(expect, sizeof(expect), "Cred/Data=%s",
             "X+Fastf1g83O2s2+RSKSVg==");
    assert_true(has(f, expect));
    assert_true(has(f, "LocName=dm.example.com"));
    free(m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(hmac_session, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_mid_session, setup, teardown),
        cmocka_unit_test_setup_teardown(tampered, setup, teardown),
        cmocka_unit_test_setup_teardown(server_cred_md5, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
