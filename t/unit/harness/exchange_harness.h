/*
 * A harness for driving the exchange engine through the C ABI only: an
 * in-memory store, a backend played by the test (it reads op + JSON and
 * answers like docs/backend-api.md says), device messages written by hand,
 * answers checked by decoding them back with omadm_syncml_describe().
 * Shared by the engine's test files (test_exchange.c, test_commands.c,
 * test_packages.c, test_login.c, test_large_objects_*.c), compiled once
 * into build/unit-harness/libharness.a with mem_store.c.
 */

#ifndef EXCHANGE_HARNESS_H
#define EXCHANGE_HARNESS_H

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


#include "mem_store.h"


entry_t *
session_entry(mem_store_t *s, const char *session_id);

/* what a stored session record says: its bookkeeping as JSON (it ends at
   a NUL, the kept answer follows); valid until the next call */
const char *
session_blob(mem_store_t *s, const char *session_id);


/* ---- the backend, played by the test ----------------------------------- */

typedef struct {
    int         registered;
    char        username[32];
    char        inner[64];
    char        nonce[64];          /* the device's next-session nonce */
    char        previous[64];       /* the nonce it replaced */
    const char *commands;           /* next exchange answer's array */
    int         commands_stick;     /* ... handed out on every exchange */
    char        fail_op[16];        /* one-shot failure injection */
    int         fail_status;
    const char *fail_body;
    char        req[16384];
    char        last_auth[512];
    char        last_exchange[16384];
    char        answer[16384];
    /* "object": the value it serves pieces of (NULL: 404), and each
       call as "<command_id>@<offset>+<length>;" */
    const char *object_value;
    char        object_log[2048];
    /* more members of the "auth" answer (",\"server_inner\":...") */
    const char *auth_extra;
    /* "nonce" as the contract had it first: every challenge's nonce
       replaces the device's, and the answer is {} */
    int         stores_every_nonce;
} backend_t;

/* the string value of "key" in a compact JSON object, or "" */
void
json_str(const char *json, const char *key, char *out, size_t size);

/* the unsigned number value of "key" in a compact JSON object */
unsigned long long
json_num(const char *json, const char *key);

/* "object": at most length bytes of the value from offset, cut back to a
   UTF-8 character boundary, JSON-escaped ('"' and '\' only: test values
   have no control characters) */
const char *
object_piece(backend_t *b, int *status);

const char *
backend_handle(backend_t *b, const char *op, const char *body, size_t len,
    int *status);


/* ---- fixture and driver ------------------------------------------------ */

typedef struct {
    omadm_config_t  cf;
    mem_store_t     mem;
    omadm_store_t   store;
    backend_t       be;
    time_t          now;
    const char     *peer;           /* the client's address, or NULL */
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

int
setup(void **state);

int
teardown(void **state);

void
outcome_free(outcome_t *o);

void
copy_var(omadm_exchange_t *ex, int var, char *out, size_t size);

/* one device message in an encoding (OMADM_ENC_*), start to answer */
void
drive_as(fixture_t *f, int enc, const char *msg, size_t len,
    const char *token, outcome_t *o);

/* one device message (XML), start to answer */
void
drive(fixture_t *f, const char *msg, const char *token, outcome_t *o);

/* a device message written in XML, sent as WBXML */
void
drive_wbxml(fixture_t *f, const char *xml, const char *token, outcome_t *o);

/* a device message written in XML, sent in encoding enc (OMADM_ENC_*) */
void
drive_enc(fixture_t *f, int enc, const char *xml, const char *token,
    outcome_t *o);

/* the value of one describe() line into out (of size bytes); false
   when there is no such line */
int
field_copy(const outcome_t *o, const char *path, char *out, size_t size);

/* the value of one describe() line, or NULL */
const char *
field(const outcome_t *o, const char *path);

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

/* needle in the last exchange request, or fail showing it */
#define expect_exchange(f, needle)                                          \
    do {                                                                    \
        if (strstr((f)->be.last_exchange, needle) == NULL)                  \
            fail_msg("no %s in\n%s", needle, (f)->be.last_exchange);        \
    } while (0)

#define expect_no_exchange(f, needle)                                       \
    do {                                                                    \
        if (strstr((f)->be.last_exchange, needle) != NULL)                  \
            fail_msg("unexpected %s in\n%s", needle, (f)->be.last_exchange);\
    } while (0)

/* an answer before the session exists: RespURI without a token */
#define expect_no_token(o)  expect_field(o, "SyncHdr/RespURI", SERVER)

/* the "s" token of the answer's RespURI */
void
resp_token(const outcome_t *o, char *out, size_t size);


/* a test of the engine on the fixture of setup() and teardown() */
#define EXCHANGE_TEST(f)  cmocka_unit_test_setup_teardown(f, setup, teardown)


/* ---- device messages --------------------------------------------------- */

#define PKG1(a, r)                                                          \
    "<Alert><CmdID>" a "</CmdID><Data>1201</Data></Alert>"                  \
    "<Replace><CmdID>" r "</CmdID>"                                         \
    "<Item><Source><LocURI>./DevInfo/DevId</LocURI></Source>"               \
    "<Data>" DEV "</Data></Item>"                                           \
    "<Item><Source><LocURI>./DevInfo/Man</LocURI></Source>"                 \
    "<Data>Example Corp</Data></Item></Replace>"

/* the device's MaxMsgSize, as SyncHdr extras */
#define MAXMSG(n)                                                           \
    "<Meta><MaxMsgSize xmlns=\"syncml:metinf\">" n "</MaxMsgSize></Meta>"

#define HDR_STATUS(msgref)                                                  \
    "<Status><CmdID>1</CmdID><MsgRef>" msgref "</MsgRef><CmdRef>0</CmdRef>" \
    "<Cmd>SyncHdr</Cmd><TargetRef>" DEV "</TargetRef>"                      \
    "<SourceRef>" SERVER "</SourceRef><Data>200</Data></Status>"

/* one message of a device package: SyncHdr extras (Cred, Meta) after its
   Source, Final only on the package's last message */
char *
package_msg(const char *session, int msg_id, const char *hdr,
    const char *body, int final);

/* a whole package in one message */
char *
device_msg(const char *session, int msg_id, const char *cred,
    const char *body);

char *
md5_cred(const char *user, const char *pass, const char *nonce);

char *
basic_cred(const char *user, const char *pass);

/* package 1 with a correct MD5 Cred and SyncHdr extras after it (a Meta),
   in encoding enc: a session authenticated in one go */
void
login_with(fixture_t *f, int enc, const char *session, const char *extras,
    outcome_t *o, char *token);

/* package 1 with a correct MD5 Cred: a session authenticated in one go */
void
login(fixture_t *f, const char *session, outcome_t *o, char *token);

#endif /* EXCHANGE_HARNESS_H */
