/*
 * The core's cost per device message, through the C ABI only, against
 * expat's bare parse of the same bytes (XML_ParserCreateNS, XML_Parse with
 * no handlers at all, XML_ParserFree: the floor of any XML decode), and
 * the heap allocations it makes (malloc, calloc, realloc, aligned
 * allocations; libstdc++'s operator new goes through malloc).  Four cases:
 *
 *   decode     omadm_exchange_create + destroy of package 1 (884 bytes)
 *   repeat     package 1 of an authenticated session sent again with its
 *              token: the kept answer resent, no backend call
 *   challenge  package 1 without Cred: nonce call, 407
 *   basic212   package 1 with a Basic Cred: auth, exchange, 212
 *
 * The store is in memory, fixed buffers (no allocation of its own, like
 * the shared-memory zone); the backend is played here, answering like
 * docs/backend-api.md says.  Each figure is the best of BENCH_RUNS runs
 * (default 7) of BENCH_ITERS messages (default 2000), the core's and
 * expat's runs taken in turns.  The last line of
 * the repeat case says how many bytes its stored session record takes.
 *
 *   core_bench [label]
 */

#define _GNU_SOURCE

#include <dlfcn.h>
#include <execinfo.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <expat.h>

#include "omadm.h"


/* ---- allocation counting -------------------------------------------------
 * The program's own malloc family interposes glibc's for every library
 * (the executable comes first in symbol lookup) and forwards to glibc's
 * internal entry points. */

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void  __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);

static unsigned long long  allocs;

/* BENCH_TRACE=<case>: where one message of that case allocates (call
   sites as offsets into this program, for addr2line -f -C -e) */
#define TRACE_MAX    1024
#define TRACE_DEPTH  8
static int     tracing, in_trace;
static void   *trace[TRACE_MAX][TRACE_DEPTH];
static int     traced;

static void
note_alloc(void)
{
    allocs++;
    if (tracing && !in_trace && traced < TRACE_MAX) {
        in_trace = 1;
        backtrace(trace[traced++], TRACE_DEPTH);
        in_trace = 0;
    }
}

static void
print_trace(void)
{
    Dl_info  self;

    dladdr((void *) print_trace, &self);
    for (int i = 0; i < traced; i++) {
        printf("alloc %d:", i);
        for (int d = 2; d < TRACE_DEPTH && trace[i][d]; d++) {
            printf(" 0x%lx", (unsigned long) ((char *) trace[i][d]
                                              - (char *) self.dli_fbase));
        }
        printf("\n");
    }
}

void *malloc(size_t n) { note_alloc(); return __libc_malloc(n); }
void *calloc(size_t n, size_t m)
{
    if (in_trace) return __libc_calloc(n, m);   /* backtrace()'s own */
    note_alloc();
    return __libc_calloc(n, m);
}
void *realloc(void *p, size_t n) { note_alloc(); return __libc_realloc(p, n); }
void free(void *p) { __libc_free(p); }

void *
aligned_alloc(size_t a, size_t n)
{
    allocs++;
    return __libc_memalign(a, n);
}

void *
memalign(size_t a, size_t n)
{
    allocs++;
    return __libc_memalign(a, n);
}

int
posix_memalign(void **p, size_t a, size_t n)
{
    allocs++;
    *p = __libc_memalign(a, n);
    return *p ? 0 : 12;
}


/* ---- store: fixed slots, no allocation --------------------------------- */

#define SLOTS      16
#define SLOT_KEY   256
#define SLOT_VAL   32768

typedef struct {
    int       used;
    size_t    key_len, val_len;
    char      key[SLOT_KEY];
    char      val[SLOT_VAL];
} slot_t;

static slot_t  slots[SLOTS];

static slot_t *
slot_find(const char *key, size_t len)
{
    for (int i = 0; i < SLOTS; i++) {
        if (slots[i].used && slots[i].key_len == len
            && memcmp(slots[i].key, key, len) == 0)
        {
            return &slots[i];
        }
    }
    return NULL;
}

static int
st_get(void *ctx, const char *key, size_t len, omadm_sink_pt sink, void *sc)
{
    slot_t *s = slot_find(key, len);

    (void) ctx;
    if (s == NULL) return OMADM_NOT_FOUND;
    sink(sc, s->val, s->val_len);
    return OMADM_OK;
}

static int
st_put(void *ctx, const char *key, size_t len, const char *val,
    size_t val_len, unsigned ttl)
{
    slot_t *s = slot_find(key, len);

    (void) ctx; (void) ttl;
    for (int i = 0; s == NULL && i < SLOTS; i++) {
        if (!slots[i].used) s = &slots[i];
    }
    if (s == NULL || len > SLOT_KEY || val_len > SLOT_VAL) return OMADM_ERROR;
    s->used = 1;
    s->key_len = len;
    memcpy(s->key, key, len);
    s->val_len = val_len;
    memcpy(s->val, val, val_len);
    return OMADM_OK;
}

static int
st_remove(void *ctx, const char *key, size_t len)
{
    slot_t *s = slot_find(key, len);

    (void) ctx;
    if (s == NULL) return OMADM_NOT_FOUND;
    s->used = 0;
    return OMADM_OK;
}

static int
st_touch(void *ctx, const char *key, size_t len, unsigned ttl)
{
    (void) ctx; (void) ttl;
    return slot_find(key, len) ? OMADM_OK : OMADM_NOT_FOUND;
}

static const omadm_store_t  store = { NULL, st_get, st_put, st_remove,
                                      st_touch };


/* ---- the backend -------------------------------------------------------- */

#define DEV     "IMEI:490154203237518"
#define SERVER  "https://dm.example.com/omadm"
#define NONCE0  "00qRAH8Q7kJbLIgZwP8zpw=="

static char  inner[64], answer[1024];
static int   backend_calls;
static int   hand_out_get;      /* the next exchange hands out a Get */

static const char *
backend(const char *op, int *status)
{
    backend_calls++;
    *status = 200;
    if (strcmp(op, "nonce") == 0) return "{\"nonce\":\"" NONCE0 "\"}";
    if (strcmp(op, "auth") == 0) {
        snprintf(answer, sizeof(answer),
                 "{\"device_id\":\"" DEV "\",\"username\":\"dev1\","
                 "\"inner\":\"%s\",\"nonce\":\"" NONCE0 "\","
                 "\"previous_nonces\":[]}", inner);
        return answer;
    }
    if (hand_out_get) {
        hand_out_get = 0;
        return "{\"commands\":[{\"id\":\"c1\",\"verb\":\"Get\","
               "\"target\":\"./DevDetail/SwV\"}]}";
    }
    return "{\"commands\":[]}";
}


/* ---- messages ----------------------------------------------------------- */

static const char  pkg1_fmt[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr><VerDTD>1.2</VerDTD>"
    "<VerProto>DM/1.2</VerProto><SessionID>%s</SessionID><MsgID>1</MsgID>"
    "<Target><LocURI>" SERVER "</LocURI></Target><Source><LocURI>" DEV
    "</LocURI><LocName>bench</LocName></Source>%s<Meta><MaxMsgSize "
    "xmlns=\"syncml:metinf\">20000</MaxMsgSize></Meta></SyncHdr><SyncBody>"
    "<Alert><CmdID>1</CmdID><Data>1201</Data></Alert><Replace><CmdID>2"
    "</CmdID><Item><Source><LocURI>./DevInfo/DevId</LocURI></Source><Data>"
    DEV "</Data></Item><Item><Source><LocURI>./DevInfo/Man</LocURI>"
    "</Source><Data>Example Corp</Data></Item><Item><Source><LocURI>"
    "./DevInfo/Mod</LocURI></Source><Data>X100</Data></Item><Item><Source>"
    "<LocURI>./DevInfo/DmV</LocURI></Source><Data>1.2</Data></Item><Item>"
    "<Source><LocURI>./DevInfo/Lang</LocURI></Source><Data>en-US</Data>"
    "</Item></Replace><Final/></SyncBody></SyncML>\n";

static char *
pkg1(const char *session, const char *cred)
{
    static char  buf[8][4096];
    static int   next;
    char        *b = buf[next++ % 8];

    snprintf(b, sizeof(buf[0]), pkg1_fmt, session, cred);
    return b;
}

static char *
basic_cred(void)
{
    static char  buf[512];
    char         b64[128];

    omadm_auth_basic("dev1", 4, "secret", 6, b64, sizeof(b64), NULL);
    snprintf(buf, sizeof(buf),
        "<Cred><Meta><Type xmlns=\"syncml:metinf\">syncml:auth-basic</Type>"
        "<Format xmlns=\"syncml:metinf\">b64</Format></Meta>"
        "<Data>%s</Data></Cred>", b64);
    return buf;
}


/* ---- driving one message ------------------------------------------------ */

static omadm_config_t  cf;
static time_t          now = 1700000000;

typedef struct {
    int     status;
    char    body[16384];
    size_t  len;
} result_t;

/* start to answer; result copied only when r is not NULL */
static int
drive(const char *msg, size_t len, const char *token, result_t *r)
{
    omadm_exchange_t *ex;
    omadm_action_t    act;
    int               status;
    const char       *a;

    if (omadm_exchange_create(&cf, &store, msg, len, OMADM_ENC_XML, token,
                              strlen(token), now, &ex) != OMADM_OK)
    {
        return -1;
    }
    omadm_exchange_set_peer(ex, "127.0.0.1", 9);
    for (;;) {
        if (omadm_exchange_run(ex, &act) != OMADM_OK) {
            omadm_exchange_destroy(ex);
            return -1;
        }
        if (act.kind == OMADM_ACT_RESPOND) break;
        char op[16];
        snprintf(op, sizeof(op), "%.*s", (int) act.op_len, act.op);
        a = backend(op, &status);
        omadm_exchange_backend_done(ex, status, a, strlen(a));
    }
    status = act.http_status;
    if (r) {
        r->status = status;
        r->len = act.body_len < sizeof(r->body) - 1 ? act.body_len
                                                    : sizeof(r->body) - 1;
        memcpy(r->body, act.body, r->len);
        r->body[r->len] = '\0';
    }
    omadm_exchange_destroy(ex);
    return status;
}

static void
decode_only(const char *msg, size_t len)
{
    omadm_exchange_t *ex;

    if (omadm_exchange_create(&cf, &store, msg, len, OMADM_ENC_XML, "", 0,
                              now, &ex) == OMADM_OK)
    {
        omadm_exchange_destroy(ex);
    }
}

static void
expat_parse(const char *msg, size_t len)
{
    XML_Parser p = XML_ParserCreateNS("UTF-8", '\x01');

    if (XML_Parse(p, msg, (int) len, 1) != XML_STATUS_OK) {
        fprintf(stderr, "core_bench: expat refuses the message\n");
        exit(1);
    }
    XML_ParserFree(p);
}


/* ---- timing ------------------------------------------------------------- */

static double
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

typedef enum { C_DECODE, C_REPEAT, C_CHALLENGE, C_BASIC } case_t;

static const char  *msg_of[4];
static const char  *token_of[4];
static int          want_of[4];
static long         iters = 2000;
static int          runs = 7;

static void
once(case_t c)
{
    const char *m = msg_of[c];
    size_t      len = strlen(m);

    if (c == C_DECODE) {
        decode_only(m, len);
    } else if (drive(m, len, token_of[c], NULL) != want_of[c]) {
        fprintf(stderr, "core_bench: case %d answered otherwise\n", c);
        exit(1);
    }
}

/* ns per message of iters messages; allocations per message */
static double
one_run(case_t c, int expat, double *per)
{
    const char         *m = msg_of[c];
    size_t              len = strlen(m);
    unsigned long long  a0 = allocs;
    double              t0 = now_ns();

    for (long i = 0; i < iters; i++) {
        if (expat) expat_parse(m, len); else once(c);
    }
    *per = (double) (allocs - a0) / iters;
    return (now_ns() - t0) / iters;
}

/* the best of runs for the core and for expat, taken in turns so that a
   busy moment of the machine hits both */
static void
measure(case_t c, double *ns, double *per, double *ens, double *eper)
{
    *ns = *ens = 1e300;
    for (int r = 0; r < runs; r++) {
        double t = one_run(c, 1, eper);
        if (t < *ens) *ens = t;
        t = one_run(c, 0, per);
        if (t < *ns) *ns = t;
    }
}

static void
token_of_answer(const result_t *r, char *out)
{
    const char *p = strstr(r->body, "?s=");

    out[0] = '\0';
    if (p) {
        snprintf(out, 33, "%s", p + 3);
    }
}

int
main(int argc, char **argv)
{
    const char *label = argc > 1 ? argv[1] : "core";
    static char token[64];
    result_t    r;

    if (getenv("BENCH_ITERS")) iters = atol(getenv("BENCH_ITERS"));
    if (getenv("BENCH_RUNS")) runs = atoi(getenv("BENCH_RUNS"));

    cf.auth_accept = OMADM_AUTH_MD5 | OMADM_AUTH_BASIC;
    cf.auth_challenge = OMADM_AUTH_MD5;
    cf.session_ttl = 300;
    cf.max_auth_failures = 1000000000;
    cf.auth_failure_window = 60;
    cf.max_commands = 50;
    cf.server_id = SERVER;
    cf.server_id_len = strlen(SERVER);
    cf.resp_uri = SERVER;
    cf.resp_uri_len = strlen(SERVER);
    omadm_auth_md5_inner("dev1", 4, "secret", 6, inner, sizeof(inner), NULL);

    msg_of[C_DECODE] = pkg1("bench-decode", "");
    token_of[C_DECODE] = "";

    /* the repeat: a session authenticated by Basic that goes on (its 212
       carries a Get), its package 1 again (without the token: the device
       did not get the answer that has it) */
    msg_of[C_REPEAT] = pkg1("bench-repeat", basic_cred());
    hand_out_get = 1;
    if (drive(msg_of[C_REPEAT], strlen(msg_of[C_REPEAT]), "", &r) != 200
        || strstr(r.body, "<Data>212</Data>") == NULL)
    {
        fprintf(stderr, "core_bench: no 212 to prime the repeat:\n%s\n",
                r.body);
        return 1;
    }
    if (getenv("BENCH_SHOW")) printf("%s\n", r.body);
    token_of_answer(&r, token);
    if (token[0] == '\0') {
        fprintf(stderr, "core_bench: no token in the 212\n");
        return 1;
    }
    token_of[C_REPEAT] = "";
    want_of[C_REPEAT] = 200;
    result_t again;
    backend_calls = 0;
    drive(msg_of[C_REPEAT], strlen(msg_of[C_REPEAT]), "", &again);
    if (backend_calls != 0 || again.len != r.len
        || memcmp(again.body, r.body, r.len) != 0)
    {
        fprintf(stderr, "core_bench: the repeat is not answered from the "
                "kept answer (%d backend calls)\n", backend_calls);
        return 1;
    }
    slot_t *kept = NULL;
    for (int i = 0; i < SLOTS; i++) {
        if (slots[i].used && memmem(slots[i].key, slots[i].key_len,
                                    "bench-repeat", 12))
        {
            kept = &slots[i];
        }
    }

    msg_of[C_CHALLENGE] = pkg1("bench-chal", "");
    token_of[C_CHALLENGE] = "";
    want_of[C_CHALLENGE] = 407;
    if (drive(msg_of[C_CHALLENGE], strlen(msg_of[C_CHALLENGE]), "", &r) != 200
        || strstr(r.body, "<Data>407</Data>") == NULL)
    {
        fprintf(stderr, "core_bench: no 407:\n%s\n", r.body);
        return 1;
    }
    want_of[C_CHALLENGE] = 200;

    msg_of[C_BASIC] = pkg1("bench-basic", basic_cred());
    token_of[C_BASIC] = "";
    want_of[C_BASIC] = 200;
    backend_calls = 0;
    if (drive(msg_of[C_BASIC], strlen(msg_of[C_BASIC]), "", &r) != 200
        || strstr(r.body, "<Data>212</Data>") == NULL || backend_calls < 2)
    {
        fprintf(stderr, "core_bench: no Basic 212:\n%s\n", r.body);
        return 1;
    }

    if (getenv("BENCH_TRACE")) {
        case_t c = (case_t) atoi(getenv("BENCH_TRACE"));
        void  *warm[4];
        backtrace(warm, 4);                     /* loads libgcc first */
        once(c);
        tracing = 1;
        once(c);
        tracing = 0;
        print_trace();
        return 0;
    }

    static const char *names[] = { "decode", "repeat", "challenge407",
                                   "basic212" };
    printf("%-6s %-13s %9s %9s %7s %10s %12s\n", "build", "case", "ns/op",
           "expat ns", "ratio", "allocs/op", "expat allocs");
    for (case_t c = C_DECODE; c <= C_BASIC; c++) {
        double ns, per, ens, eper;
        for (long i = 0; i < iters / 10; i++) {             /* warm up */
            once(c);
            expat_parse(msg_of[c], strlen(msg_of[c]));
        }
        measure(c, &ns, &per, &ens, &eper);
        printf("%-6s %-13s %9.0f %9.0f %7.2f %10.1f %12.1f\n", label,
               names[c], ns, ens, ns / ens, per, eper);
    }
    if (kept) {
        printf("%-6s session record: %zu bytes (key %zu)\n", label,
               kept->val_len, kept->key_len);
    }
    return 0;
}
