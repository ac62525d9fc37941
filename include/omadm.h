/*
 * ngx_omadm core: the only door between the nginx glue (plain C) and the
 * C++17 protocol core.  Nothing here includes nginx headers; everything is
 * plain C types.  No exception crosses this boundary: every function is
 * noexcept and reports failure as an integer code.
 *
 * Shape of one device message (one HTTP POST):
 *
 *   omadm_exchange_create()   parse the body, nothing else
 *   loop:
 *     omadm_exchange_run()    -> OMADM_ACT_BACKEND: the glue sends the JSON
 *                                body to <omadm_backend><op> as a subrequest
 *                                and hands the answer back with
 *                                omadm_exchange_backend_done();
 *                             -> OMADM_ACT_RESPOND: the glue sends the
 *                                response and stops.
 *   omadm_exchange_destroy()  (from a pool cleanup)
 *
 * Session state, auth-failure counters and cached responses live behind
 * omadm_store_t, which the glue implements on an nginx shared-memory zone
 * and the unit tests implement in memory.  A message that does not
 * authenticate makes the store hold nothing but its sender's failure
 * counter (per device and client address, and only for a device the
 * backend knows) and a copy of the backend's credential record of a device
 * it named (cf.credential_store): sessions, their RespURI token and their
 * kept answers exist only from the message that authenticated on.  A throttled sender
 * (too many failed authentications from its address) gets a 401 with no
 * NextNonce and costs no backend call.
 */

#ifndef OMADM_H
#define OMADM_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
#define OMADM_NOEXCEPT noexcept
extern "C" {
#else
#define OMADM_NOEXCEPT
#endif

#if defined(__GNUC__)
#define OMADM_API __attribute__((visibility("default")))
#else
#define OMADM_API
#endif


/* result codes */
#define OMADM_OK            0
#define OMADM_NOT_FOUND     1
#define OMADM_ERROR        -1   /* internal failure (includes out of memory) */
#define OMADM_EINVAL       -2   /* bad argument or bad input */
#define OMADM_ETOOBIG      -3   /* input over a configured limit */


/*
 * Message encodings: the request's Content-Type, application/vnd.syncml.dm+xml
 * (or +xml alias) or application/vnd.syncml.dm+wbxml (WBXML 1.x, SyncML
 * code pages 0 and 1).  The response is in the request's encoding.
 */
#define OMADM_ENC_XML       0
#define OMADM_ENC_WBXML     1


/* authentication schemes, as a bit set */
#define OMADM_AUTH_BASIC    0x01
#define OMADM_AUTH_MD5      0x02
#define OMADM_AUTH_HMAC     0x04   /* syncml:auth-MAC: the x-syncml-hmac
                                      header, see omadm_exchange_set_hmac() */


/*
 * Limits applied while decoding a device message; 0 in any field means
 * its default below.
 */
#define OMADM_DEFAULT_MAX_DEPTH     32
#define OMADM_DEFAULT_MAX_ELEMENTS  20000
#define OMADM_DEFAULT_MAX_TEXT      (1024 * 1024)

typedef struct {
    size_t          max_depth;       /* element nesting */
    size_t          max_elements;    /* elements in one message */
    size_t          max_text;        /* bytes of text in one element, and
                                        of one attribute value */
} omadm_limits_t;


typedef struct omadm_store_s  omadm_store_t;

/* per-location configuration, filled by the glue from its directives */
typedef struct {
    unsigned        auth_accept;       /* OMADM_AUTH_* accepted */
    unsigned        auth_challenge;    /* one OMADM_AUTH_* sent in Chal */
    unsigned        session_ttl;       /* seconds an idle session lives */
    unsigned        max_auth_failures; /* per device within the window */
    unsigned        auth_failure_window; /* seconds */
    unsigned        max_commands;      /* commands asked per message */
    omadm_limits_t  limits;
    const char     *server_id;         /* Source LocURI of server messages */
    size_t          server_id_len;
    const char     *resp_uri;          /* where devices POST, without
                                          the "?s=token" part */
    size_t          resp_uri_len;
    const char     *node_id;           /* the nginx node (omadm_node_id):
                                          a RespURI with a token carries
                                          it as "&n=<node>" after it, for
                                          a front proxy to route on; only
                                          [A-Za-z0-9_-].  NULL: none */
    size_t          node_id_len;
    unsigned        server_auth;       /* 0, OMADM_AUTH_MD5 or _BASIC: the
                                          server's own Cred toward devices
                                          (credentials from the backend) */
    size_t          max_message_size;  /* declared as the server's own
                                          SyncHdr Meta/MaxMsgSize; 0: not
                                          declared */
    size_t          max_object_size;   /* declared as Meta/MaxObjSize: the
                                          largest object reassembled from a
                                          device's chunks; 0: none taken */
    const omadm_store_t *object_store; /* holds those chunks meanwhile;
                                          NULL: the exchange's store */
    unsigned        retry_after;       /* seconds: the Retry-After of a 503 */
    const omadm_store_t *counter_store; /* failed-authentication counters:
                                          a store whose entries session
                                          churn cannot evict; a counter it
                                          cannot keep refuses the attempt
                                          (503).  NULL: the exchange's */
    const omadm_store_t *credential_store; /* copies of the backend's
                                          credential records (contract
                                          version 2), so that a login needs
                                          no "auth" call; best effort, a put
                                          may fail.  Secret: never logged.
                                          NULL: none kept */
    const omadm_store_t *login_credential_store; /* where a copy goes once
                                          a login succeeded (its exchange
                                          answered 200): another view of
                                          credential_store's entries, one
                                          that may evict sessions for room,
                                          as the login's own session does,
                                          so that copies are kept in a full
                                          zone.  NULL: credential_store */
} omadm_config_t;


/*
 * Key/value store with expiry.  Keys and values are opaque bytes.  get()
 * hands the value to sink() while the store is locked; sink copies it.
 * get/put/remove return OMADM_OK, OMADM_NOT_FOUND (get, remove) or
 * OMADM_ERROR (put when the store is full even after eviction).  touch()
 * gives an entry a new ttl from now without copying it (OMADM_OK or
 * OMADM_NOT_FOUND); it may be NULL, and entries then live ttl from their
 * last put (the chunks of a slow large object may expire before the end).
 */
typedef void (*omadm_sink_pt)(void *sink_ctx, const char *val, size_t len);

struct omadm_store_s {
    void   *ctx;
    int   (*get)(void *ctx, const char *key, size_t key_len,
                 omadm_sink_pt sink, void *sink_ctx);
    int   (*put)(void *ctx, const char *key, size_t key_len,
                 const char *val, size_t val_len, unsigned ttl);
    int   (*remove)(void *ctx, const char *key, size_t key_len);
    int   (*touch)(void *ctx, const char *key, size_t key_len,
                   unsigned ttl);
};


/* a header of the answer: name and value, not NUL-terminated */
typedef struct {
    const char     *name;
    size_t          name_len;
    const char     *value;
    size_t          value_len;
} omadm_header_t;


/* what the glue must do next */
#define OMADM_ACT_BACKEND   1
#define OMADM_ACT_RESPOND   2

typedef struct {
    int             kind;            /* OMADM_ACT_* */

    /* OMADM_ACT_BACKEND: POST body (JSON) to the backend prefix + op */
    const char     *op;              /* "auth", "nonce", "exchange",
                                        "object" */
    size_t          op_len;

    /* OMADM_ACT_RESPOND: HTTP status, content type and body, and the
       headers to add: Retry-After (cf.retry_after) with a 503,
       x-syncml-hmac with an answer signed for a device that used it */
    int             http_status;
    const char     *content_type;    /* static, NUL-terminated */
    const omadm_header_t *headers;
    size_t          nheaders;

    /* body of either action; valid until the next call on the exchange */
    const char     *body;
    size_t          body_len;
} omadm_action_t;


/* values the glue exposes as nginx variables ($omadm_*) */
#define OMADM_VAR_DEVICE_ID   0
#define OMADM_VAR_SESSION_ID  1
#define OMADM_VAR_AUTH        2     /* the OMADM_VERDICT_* name below */
#define OMADM_VAR_MSG_ID      3
#define OMADM_VAR_ERROR       4     /* why a message was refused, for the
                                       error log; never a secret */
#define OMADM_VAR_RESPONSE_HMAC 5   /* after RESPOND: the value of the
                                       x-syncml-hmac header of the action,
                                       or NULL for none */


/*
 * What authenticating a device message came to ($omadm_auth).  One table
 * names them for the core and the glue: omadm_verdict_name().
 */
#define OMADM_VERDICT_NONE       0  /* not decided (yet) */
#define OMADM_VERDICT_OK         1  /* authenticated by this message */
#define OMADM_VERDICT_SESSION    2  /* already authenticated */
#define OMADM_VERDICT_MISSING    3  /* no credentials: 407 */
#define OMADM_VERDICT_FAILED     4  /* wrong credentials: 401 */
#define OMADM_VERDICT_STALE      5  /* the right password with an old or
                                       the empty nonce: 401, not counted */
#define OMADM_VERDICT_THROTTLED  6  /* too many failures: 401 */
#define OMADM_VERDICT_UNDECIDED  7  /* the backend could not be asked, or
                                       a failure count could not be kept */

/* "none", "ok", ...: static, NUL-terminated; NULL for another value */
OMADM_API const char *omadm_verdict_name(int verdict, size_t *len)
    OMADM_NOEXCEPT;


typedef struct omadm_exchange_s  omadm_exchange_t;


/*
 * Parses one device message.  Always returns OMADM_OK with *ex set unless
 * memory runs out (OMADM_ERROR, *ex NULL).  A body that is not usable
 * SyncML makes the first run() answer with the reason (text/plain): 400
 * when it is malformed, lacks a header field the server needs, or has an
 * identifier over its bound (SessionID, MsgID, CmdID, MsgRef, CmdRef: 64
 * bytes; Source LocURI and LocName: 256; Target LocURI: 2048), 413 when it
 * is over an omadm_limits_t limit (the same for XML and WBXML).
 * encoding: OMADM_ENC_XML or OMADM_ENC_WBXML, from the request's
 * Content-Type (another value: OMADM_EINVAL); every SyncML answer of the
 * exchange, a resent one included, is in that encoding.
 * token: the "s" query argument of the request (may be empty): the RespURI
 * token minted when the session authenticated.  A message whose token is
 * not that of a live authenticated session is one that has yet to
 * authenticate, whatever its SessionID.
 * cf and store must outlive the exchange; body is copied.
 */
OMADM_API int omadm_exchange_create(const omadm_config_t *cf,
    const omadm_store_t *store, const char *body, size_t len, int encoding,
    const char *token, size_t token_len, time_t now,
    omadm_exchange_t **ex) OMADM_NOEXCEPT;

/*
 * syncml:auth-MAC: the request's x-syncml-hmac header value (NULL, 0 when
 * the request has none).  Call it after create() and before the first
 * run(); the MAC is checked over the body given to create(), byte for byte.
 */
OMADM_API int omadm_exchange_set_hmac(omadm_exchange_t *ex,
    const char *value, size_t len) OMADM_NOEXCEPT;

/*
 * The client's address, as text (NULL, 0: unknown).  Failed
 * authentications are counted per device and address, so that an outsider
 * who sends wrong credentials for a device throttles itself, not the
 * device.  Call it after create() and before the first run().
 */
OMADM_API int omadm_exchange_set_peer(omadm_exchange_t *ex,
    const char *addr, size_t len) OMADM_NOEXCEPT;

/*
 * The server's Source/LocURI and the base of its RespURI for this message,
 * where cf leaves them to the request (cf->server_id and cf->resp_uri are
 * then NULL): the URL the device used.  Before the first run().
 */
OMADM_API int omadm_exchange_set_server_id(omadm_exchange_t *ex,
    const char *id, size_t len) OMADM_NOEXCEPT;

/*
 * OMADM_ERROR: an internal failure; OMADM_VAR_ERROR then says what it was
 * (out of memory, a digest that failed, ...), for the error log.
 */
OMADM_API int omadm_exchange_run(omadm_exchange_t *ex, omadm_action_t *act)
    OMADM_NOEXCEPT;

/* http_status 0 means the backend could not be reached at all */
OMADM_API int omadm_exchange_backend_done(omadm_exchange_t *ex,
    int http_status, const char *body, size_t len) OMADM_NOEXCEPT;

/* returns a pointer into the exchange (valid until destroy), or NULL */
OMADM_API const char *omadm_exchange_var(omadm_exchange_t *ex, int var,
    size_t *len) OMADM_NOEXCEPT;

OMADM_API void omadm_exchange_destroy(omadm_exchange_t *ex) OMADM_NOEXCEPT;


/* what a device message came to, for the glue's counters (omadm_status) */
typedef struct {
    int             verdict;         /* OMADM_VERDICT_* */
    unsigned        scheme;          /* the OMADM_AUTH_* of the credentials
                                        the message tried, 0: none */
    unsigned        resent;          /* 1: the answer was the session's
                                        kept one, sent again */
} omadm_outcome_t;

/* after RESPOND (before: what is decided so far) */
OMADM_API int omadm_exchange_outcome(omadm_exchange_t *ex,
    omadm_outcome_t *out) OMADM_NOEXCEPT;


/*
 * Building blocks, exposed for unit tests and tools.  Output strings are
 * written to out (NUL-terminated); *out_len gets the length.  Each
 * returns OMADM_EINVAL if out is too small or input is bad.
 */

/* B64("user:pass") */
OMADM_API int omadm_auth_basic(const char *user, size_t user_len,
    const char *pass, size_t pass_len, char *out, size_t out_size,
    size_t *out_len) OMADM_NOEXCEPT;

/* B64(MD5(user ":" pass)), the "inner" value a backend stores */
OMADM_API int omadm_auth_md5_inner(const char *user, size_t user_len,
    const char *pass, size_t pass_len, char *out, size_t out_size,
    size_t *out_len) OMADM_NOEXCEPT;

/* B64(MD5(inner ":" nonce_bytes)); nonce_b64 is decoded first */
OMADM_API int omadm_auth_md5_digest(const char *inner, size_t inner_len,
    const char *nonce_b64, size_t nonce_b64_len, char *out,
    size_t out_size, size_t *out_len) OMADM_NOEXCEPT;

/* syncml:auth-MAC: B64(MD5(inner ":" nonce_bytes ":" B64(MD5(body)))) */
OMADM_API int omadm_auth_hmac_mac(const char *inner, size_t inner_len,
    const char *nonce_b64, size_t nonce_b64_len, const char *body,
    size_t body_len, char *out, size_t out_size, size_t *out_len)
    OMADM_NOEXCEPT;

/*
 * Parses an x-syncml-hmac header value.  OMADM_OK: out gets
 * "algorithm=MD5\nusername=<name>\nmac=<b64>\n"; OMADM_EINVAL: out gets the
 * reason (when it fits).
 */
OMADM_API int omadm_hmac_header_parse(const char *value, size_t len,
    char *out, size_t out_size, size_t *out_len) OMADM_NOEXCEPT;

/*
 * Decodes a SyncML message and writes a canonical, line-oriented
 * description of it (one "path=value" line per leaf, in document order)
 * to a malloc()ed string the caller frees with omadm_free().  On bad input
 * returns OMADM_EINVAL / OMADM_ETOOBIG and, if err is not NULL, a
 * malloc()ed reason in *err.
 */
OMADM_API int omadm_syncml_describe(const char *body, size_t len,
    const omadm_limits_t *limits, char **out, size_t *out_len, char **err)
    OMADM_NOEXCEPT;

/* Decodes and re-encodes a message (DTD order, escaped); malloc()ed. */
OMADM_API int omadm_syncml_reencode(const char *body, size_t len,
    const omadm_limits_t *limits, char **out, size_t *out_len, char **err)
    OMADM_NOEXCEPT;

/* describe for a body in either encoding (OMADM_ENC_*) */
OMADM_API int omadm_syncml_describe_as(int encoding, const char *body,
    size_t len, const omadm_limits_t *limits, char **out, size_t *out_len,
    char **err) OMADM_NOEXCEPT;

/* Decodes a message in one encoding and encodes it in another (or the
   same); malloc()ed. */
OMADM_API int omadm_syncml_transcode(int from, int to, const char *body,
    size_t len, const omadm_limits_t *limits, char **out, size_t *out_len,
    char **err) OMADM_NOEXCEPT;

/*
 * What a session record the exchange stored says (the value of a session
 * key in the store), as JSON text, then a NUL, then the kept answer:
 * malloc()ed, for tests and tools.  OMADM_EINVAL when it is not a record
 * (an old module's JSON blob included: the exchange treats it as absent).
 */
OMADM_API int omadm_session_describe(const char *record, size_t len,
    char **out, size_t *out_len) OMADM_NOEXCEPT;

OMADM_API void omadm_free(void *p) OMADM_NOEXCEPT;

#ifdef __cplusplus
}
#endif

#endif /* OMADM_H */
