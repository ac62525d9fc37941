
/*
 * ngx_omadm: the node's counters (ngx_http_omadm_counters.h), kept in the
 * "omadm_status" zone: one block per omadm_session_zone, found by the
 * session zone's name, so that a reload (which keeps the zone) keeps the
 * counts.  Each worker adds to them atomically: device messages by
 * outcome and their authentication (a log-phase handler, which sees every
 * request of an omadm location, those nginx itself refuses included),
 * backend subrequests with their latency, and sessions leaving the zone.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_omadm_counters.h"


static ngx_int_t ngx_http_omadm_init_status_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_uint_t ngx_http_omadm_outcome(ngx_uint_t status,
    ngx_http_omadm_ctx_t *ctx, omadm_outcome_t *oc);
static ngx_uint_t ngx_http_omadm_scheme_index(unsigned scheme);


ngx_msec_t  ngx_http_omadm_buckets[NGX_HTTP_OMADM_BUCKETS] = {
    5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000
};


/* the contract calls by name, in ngx_http_omadm_call_e order */
static ngx_str_t  ngx_http_omadm_calls[] = {
    ngx_string("nonce"),
    ngx_string("auth"),
    ngx_string("exchange"),
    ngx_string("object"),
    ngx_null_string
};


/*
 * Added with the first omadm_session_zone, before it: zones are
 * initialized in the order they were added, so the session zones find
 * their blocks (ngx_http_omadm_stats_attach()) in an initialized zone.
 * Its size follows the blocks' layout: a module whose layout changed gets
 * a new zone, never one it would misread.
 */

ngx_shm_zone_t *
ngx_http_omadm_status_zone(ngx_conf_t *cf)
{
    size_t           size;
    ngx_str_t        name = ngx_string(NGX_HTTP_OMADM_STATUS_ZONE_NAME);
    ngx_shm_zone_t  *shm_zone;

    size = ngx_align(sizeof(ngx_http_omadm_status_sh_t), ngx_pagesize)
           + 8 * ngx_pagesize;

    shm_zone = ngx_shared_memory_add(cf, &name, size, &ngx_http_omadm_module);
    if (shm_zone == NULL) {
        return NULL;
    }

    shm_zone->init = ngx_http_omadm_init_status_zone;

    return shm_zone;
}


static ngx_int_t
ngx_http_omadm_init_status_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_slab_pool_t             *shpool;
    ngx_http_omadm_status_sh_t  *sh;

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (data) {
        /* a reload: nginx kept the zone, and the counts with it */
        sh = data;

    } else if (shm_zone->shm.exists) {
        sh = shpool->data;

    } else {
        sh = ngx_slab_alloc(shpool, sizeof(ngx_http_omadm_status_sh_t));
        if (sh == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(sh, sizeof(ngx_http_omadm_status_sh_t));
        sh->magic = NGX_HTTP_OMADM_STATUS_MAGIC;
        shpool->data = sh;
    }

    if (sh->magic != NGX_HTTP_OMADM_STATUS_MAGIC) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "omadm: shared memory zone \"%V\" is not omadm's "
                      "counters", &shm_zone->shm.name);
        return NGX_ERROR;
    }

    sh->generation++;
    shm_zone->data = sh;

    return NGX_OK;
}


/*
 * A session zone's block: the one of its name, else a free one, else one
 * no session zone of this configuration uses (a zone removed by a reload;
 * its counts start over).  Runs in the master, at the zone's init.
 */

ngx_int_t
ngx_http_omadm_stats_attach(ngx_http_omadm_zone_t *zone)
{
    ngx_str_t                   *name;
    ngx_uint_t                   i;
    ngx_http_omadm_stats_t      *st, *free, *stale;
    ngx_http_omadm_status_sh_t  *sh;

    zone->stats = NULL;
    sh = zone->status ? zone->status->data : NULL;

    if (sh == NULL) {
        return NGX_OK;
    }

    name = &zone->shm_zone->shm.name;
    free = NULL;
    stale = NULL;

    for (i = 0; i < NGX_HTTP_OMADM_STATUS_ZONES; i++) {
        st = &sh->zones[i];

        if (st->name_len == name->len
            && ngx_memcmp(st->name, name->data, name->len) == 0)
        {
            st->generation = sh->generation;
            zone->stats = st;
            return NGX_OK;
        }

        if (st->name_len == 0) {
            if (free == NULL) {
                free = st;
            }

        } else if (st->generation != sh->generation && stale == NULL) {
            stale = st;
        }
    }

    st = free ? free : stale;

    if (st == NULL) {
        ngx_log_error(NGX_LOG_WARN, zone->shm_zone->shm.log, 0,
                      "omadm: omadm_session_zone \"%V\" is not counted: "
                      "omadm_status counts %d zones at most",
                      name, NGX_HTTP_OMADM_STATUS_ZONES);
        return NGX_OK;
    }

    ngx_memzero(st, sizeof(ngx_http_omadm_stats_t));
    ngx_memcpy(st->name, name->data, name->len);
    st->name_len = name->len;
    st->generation = sh->generation;
    zone->stats = st;

    return NGX_OK;
}


/*
 * A log-phase handler: every request of an omadm location, once answered
 * (a 413 nginx gave before the content handler ran included), counted by
 * what it came to.
 */

ngx_int_t
ngx_http_omadm_count_message(ngx_http_request_t *r)
{
    ngx_uint_t                  status;
    omadm_outcome_t             oc;
    ngx_http_omadm_ctx_t       *ctx;
    ngx_http_omadm_zone_t      *zone;
    ngx_http_omadm_stats_t     *st;
    ngx_http_omadm_loc_conf_t  *olcf;

    if (r != r->main) {
        return NGX_OK;
    }

    olcf = ngx_http_get_module_loc_conf(r, ngx_http_omadm_module);

    if (olcf->zone == NULL) {
        return NGX_OK;
    }

    zone = olcf->zone->data;
    st = zone->stats;

    if (st == NULL) {
        return NGX_OK;
    }

    status = r->err_status ? r->err_status : r->headers_out.status;

    ngx_memzero(&oc, sizeof(omadm_outcome_t));

    ctx = ngx_http_get_module_ctx(r, ngx_http_omadm_module);

    if (ctx && ctx->ex) {
        (void) omadm_exchange_outcome(ctx->ex, &oc);
    }

    (void) ngx_atomic_fetch_add(&st->messages[
                                    ngx_http_omadm_outcome(status, ctx, &oc)],
                                1);

    if (oc.verdict > OMADM_VERDICT_NONE
        && oc.verdict < NGX_HTTP_OMADM_VERDICTS)
    {
        (void) ngx_atomic_fetch_add(
                   &st->auth[oc.verdict]
                            [ngx_http_omadm_scheme_index(oc.scheme)], 1);
    }

    /* a login that authenticated and was answered: a session began */

    if (oc.verdict == OMADM_VERDICT_OK && status == NGX_HTTP_OK) {
        (void) ngx_atomic_fetch_add(&st->sessions_started, 1);
    }

    return NGX_OK;
}


static ngx_uint_t
ngx_http_omadm_outcome(ngx_uint_t status, ngx_http_omadm_ctx_t *ctx,
    omadm_outcome_t *oc)
{
    switch (status) {

    case NGX_HTTP_OK:
        if (oc->resent) {
            return NGX_HTTP_OMADM_MSG_RESENT;
        }

        switch (oc->verdict) {
        case OMADM_VERDICT_OK:
        case OMADM_VERDICT_SESSION:
            return NGX_HTTP_OMADM_MSG_ANSWERED;
        case OMADM_VERDICT_MISSING:
        case OMADM_VERDICT_STALE:
            return NGX_HTTP_OMADM_MSG_CHALLENGED;
        default:
            return NGX_HTTP_OMADM_MSG_REFUSED;
        }

    case NGX_HTTP_BAD_REQUEST:
        return NGX_HTTP_OMADM_MSG_BAD_REQUEST;

    case NGX_HTTP_REQUEST_ENTITY_TOO_LARGE:
        return NGX_HTTP_OMADM_MSG_TOO_LARGE;

    case NGX_HTTP_UNSUPPORTED_MEDIA_TYPE:
        return NGX_HTTP_OMADM_MSG_UNSUPPORTED_MEDIA;

    case NGX_HTTP_NOT_ALLOWED:
        return NGX_HTTP_OMADM_MSG_BAD_METHOD;

    case NGX_HTTP_SERVICE_UNAVAILABLE:
        return (ctx && ctx->shed) ? NGX_HTTP_OMADM_MSG_SHED
                                  : NGX_HTTP_OMADM_MSG_UNAVAILABLE;

    case NGX_HTTP_REQUEST_TIME_OUT:
    case NGX_HTTP_CLIENT_CLOSED_REQUEST:
        return NGX_HTTP_OMADM_MSG_ABORTED;

    default:
        return (status >= NGX_HTTP_INTERNAL_SERVER_ERROR)
               ? NGX_HTTP_OMADM_MSG_ERROR : NGX_HTTP_OMADM_MSG_OTHER;
    }
}


/* OMADM_AUTH_* (one bit or none) as omadm_auth_total's scheme index */

static ngx_uint_t
ngx_http_omadm_scheme_index(unsigned scheme)
{
    switch (scheme) {
    case OMADM_AUTH_BASIC:
        return 1;
    case OMADM_AUTH_MD5:
        return 2;
    case OMADM_AUTH_HMAC:
        return 3;
    default:
        return 0;
    }
}


ngx_uint_t
ngx_http_omadm_call_of(u_char *op, size_t len)
{
    ngx_uint_t  i;

    for (i = 0; ngx_http_omadm_calls[i].len; i++) {
        if (ngx_http_omadm_calls[i].len == len
            && ngx_strncmp(ngx_http_omadm_calls[i].data, op, len) == 0)
        {
            return i;
        }
    }

    return NGX_HTTP_OMADM_CALL_OTHER;
}


/* status 0: the backend gave no answer (unreachable, timed out) */

void
ngx_http_omadm_count_backend(ngx_http_omadm_zone_t *zone, ngx_uint_t call,
    ngx_int_t status, ngx_msec_t elapsed)
{
    ngx_uint_t               b, result;
    ngx_http_omadm_stats_t  *st;

    st = zone->stats;

    if (st == NULL || call >= NGX_HTTP_OMADM_CALL_N) {
        return;
    }

    result = (status == NGX_HTTP_OK) ? NGX_HTTP_OMADM_CALL_OK
             : (status == 0) ? NGX_HTTP_OMADM_CALL_FAILED
                             : NGX_HTTP_OMADM_CALL_HTTP_ERROR;

    for (b = 0; b < NGX_HTTP_OMADM_BUCKETS; b++) {
        if (elapsed <= ngx_http_omadm_buckets[b]) {
            break;
        }
    }

    (void) ngx_atomic_fetch_add(&st->calls[call][result], 1);
    (void) ngx_atomic_fetch_add(&st->latency[call][b], 1);
    (void) ngx_atomic_fetch_add(&st->latency_ms[call], elapsed);
}


/* a session record leaving the zone for room, or expired */

void
ngx_http_omadm_count_session_gone(ngx_http_omadm_zone_t *zone,
    ngx_uint_t evicted)
{
    ngx_http_omadm_stats_t  *st;

    st = zone->stats;

    if (st == NULL) {
        return;
    }

    (void) ngx_atomic_fetch_add(evicted ? &st->sessions_evicted
                                        : &st->sessions_expired, 1);
}
