
/*
 * ngx_omadm: the node's counters, in a small shared-memory zone of their
 * own ("omadm_status"), one block per omadm_session_zone, shared by the
 * workers and kept across reloads (nginx reuses a zone of the same name,
 * size and tag).  Written by ngx_http_omadm_counters.c with atomic adds,
 * read by ngx_http_omadm_status.c.
 */


#ifndef _NGX_HTTP_OMADM_COUNTERS_H_INCLUDED_
#define _NGX_HTTP_OMADM_COUNTERS_H_INCLUDED_


#include "ngx_http_omadm_module.h"


#define NGX_HTTP_OMADM_STATUS_ZONE_NAME   "omadm_status"
#define NGX_HTTP_OMADM_STATUS_MAGIC       0x6f6d61646d537431   /* omadmSt1 */
#define NGX_HTTP_OMADM_STATUS_ZONES       16    /* session zones counted */
#define NGX_HTTP_OMADM_ZONE_NAME_MAX      64


/* what became of a device message (omadm_messages_total{outcome}) */
typedef enum {
    NGX_HTTP_OMADM_MSG_ANSWERED = 0,     /* 200, authenticated */
    NGX_HTTP_OMADM_MSG_RESENT,           /* 200, the kept answer again */
    NGX_HTTP_OMADM_MSG_CHALLENGED,       /* 200, a 407 or stale-nonce 401 */
    NGX_HTTP_OMADM_MSG_REFUSED,          /* 200, a 401 or other refusal */
    NGX_HTTP_OMADM_MSG_BAD_REQUEST,      /* 400: not usable SyncML */
    NGX_HTTP_OMADM_MSG_TOO_LARGE,        /* 413 */
    NGX_HTTP_OMADM_MSG_UNSUPPORTED_MEDIA, /* 415 */
    NGX_HTTP_OMADM_MSG_BAD_METHOD,       /* 405 */
    NGX_HTTP_OMADM_MSG_SHED,             /* 503 of omadm_backend_limit */
    NGX_HTTP_OMADM_MSG_UNAVAILABLE,      /* 503: the backend failed */
    NGX_HTTP_OMADM_MSG_ERROR,            /* another 5xx */
    NGX_HTTP_OMADM_MSG_ABORTED,          /* the client left (499, 408) */
    NGX_HTTP_OMADM_MSG_OTHER,
    NGX_HTTP_OMADM_MSG_N
} ngx_http_omadm_outcome_e;


/* omadm_auth_total{result}: the OMADM_VERDICT_* values 0..7 */
#define NGX_HTTP_OMADM_VERDICTS           8
/* omadm_auth_total{scheme}: none, basic, md5, hmac */
#define NGX_HTTP_OMADM_SCHEMES            4


/* the contract calls (omadm_backend_requests_total{call}) */
typedef enum {
    NGX_HTTP_OMADM_CALL_NONCE = 0,
    NGX_HTTP_OMADM_CALL_AUTH,
    NGX_HTTP_OMADM_CALL_EXCHANGE,
    NGX_HTTP_OMADM_CALL_OBJECT,
    NGX_HTTP_OMADM_CALL_OTHER,
    NGX_HTTP_OMADM_CALL_N
} ngx_http_omadm_call_e;


typedef enum {
    NGX_HTTP_OMADM_CALL_OK = 0,          /* 200 */
    NGX_HTTP_OMADM_CALL_HTTP_ERROR,      /* another status */
    NGX_HTTP_OMADM_CALL_FAILED,          /* no answer: unreachable, timeout */
    NGX_HTTP_OMADM_CALL_RESULTS
} ngx_http_omadm_call_result_e;


/* the latency histogram's upper bounds, in milliseconds; then +Inf */
#define NGX_HTTP_OMADM_BUCKETS            11

extern ngx_msec_t  ngx_http_omadm_buckets[NGX_HTTP_OMADM_BUCKETS];


struct ngx_http_omadm_stats_s {
    u_char                name[NGX_HTTP_OMADM_ZONE_NAME_MAX];
    size_t                name_len;          /* 0: a free block */
    ngx_uint_t            generation;        /* of the last configuration
                                                that counted in it */

    ngx_atomic_t          messages[NGX_HTTP_OMADM_MSG_N];
    ngx_atomic_t          auth[NGX_HTTP_OMADM_VERDICTS]
                              [NGX_HTTP_OMADM_SCHEMES];
    ngx_atomic_t          calls[NGX_HTTP_OMADM_CALL_N]
                               [NGX_HTTP_OMADM_CALL_RESULTS];
    ngx_atomic_t          latency[NGX_HTTP_OMADM_CALL_N]
                                 [NGX_HTTP_OMADM_BUCKETS + 1];
    ngx_atomic_t          latency_ms[NGX_HTTP_OMADM_CALL_N];   /* sums */

    ngx_atomic_t          sessions_started;
    ngx_atomic_t          sessions_evicted;
    ngx_atomic_t          sessions_expired;
};


typedef struct {
    uint64_t              magic;
    ngx_uint_t            generation;        /* one more each reload */
    ngx_http_omadm_stats_t  zones[NGX_HTTP_OMADM_STATUS_ZONES];
} ngx_http_omadm_status_sh_t;


#endif /* _NGX_HTTP_OMADM_COUNTERS_H_INCLUDED_ */
