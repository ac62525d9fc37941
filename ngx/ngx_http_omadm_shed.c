
/*
 * ngx_omadm: omadm_backend_limit, load shedding.
 *
 * A device message holds a slot from just before it is parsed until its
 * answer is ready, which covers every backend subrequest it makes (one at
 * a time), so the slots bound the backend requests in flight.  A message
 * that finds every slot taken gets 503 + Retry-After at once, before any
 * parsing or backend call: nothing in it is acknowledged, so the device
 * sends it again and nothing is lost.  The body is read before the slot
 * is taken, so a slow sender never holds one (client_body_timeout bounds
 * it); a message arriving while the limit is already reached is shed
 * without even reading its body.
 *
 * The count lives in its own ngx_http_omadm_slots_t, made by merge_loc_conf
 * for each location with a limit, not in the location's configuration
 * proper.  It is per worker process, not in shared memory: a worker that
 * dies (SIGKILL, crash) takes its count with it, where a shared count
 * would keep the dead worker's slots taken forever.  The price is that the
 * limit is per worker, and that during a reload old and new workers each
 * have theirs.  Every path gives the slot back: the answer, and the
 * request pool's cleanup for errors and client aborts.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_omadm_module.h"


ngx_uint_t
ngx_http_omadm_busy(ngx_http_request_t *r)
{
    ngx_http_omadm_loc_conf_t  *olcf;

    olcf = ngx_http_get_module_loc_conf(r, ngx_http_omadm_module);

    return olcf->slots && olcf->slots->busy >= olcf->slots->limit;
}


void
ngx_http_omadm_take_slot(ngx_http_request_t *r, ngx_http_omadm_ctx_t *ctx)
{
    ngx_http_omadm_loc_conf_t  *olcf;

    olcf = ngx_http_get_module_loc_conf(r, ngx_http_omadm_module);

    if (olcf->slots == NULL) {
        return;
    }

    ctx->slot = olcf->slots;
    ctx->slot->busy++;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "omadm: backend slot taken, %ui of %ui busy",
                   ctx->slot->busy, ctx->slot->limit);
}


void
ngx_http_omadm_release(ngx_http_omadm_ctx_t *ctx)
{
    if (ctx->slot) {
        ctx->slot->busy--;
        ctx->slot = NULL;
    }
}


ngx_int_t
ngx_http_omadm_shed(ngx_http_request_t *r)
{
    ngx_str_t                   value;
    ngx_http_omadm_ctx_t       *ctx;
    ngx_http_omadm_loc_conf_t  *olcf;

    static time_t     logged;    /* per worker: one line a second at most */
    static ngx_str_t  reason = ngx_string("omadm_backend_limit reached\n");

    olcf = ngx_http_get_module_loc_conf(r, ngx_http_omadm_module);

    if (logged != ngx_time()) {
        logged = ngx_time();
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "omadm: omadm_backend_limit %ui reached, shedding "
                      "device messages with 503", olcf->backend_limit);
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "omadm: message shed by omadm_backend_limit");

    /* a ctx without an exchange: $omadm_error and $omadm_auth say why */

    ctx = ngx_http_get_module_ctx(r, ngx_http_omadm_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_omadm_ctx_t));
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_http_set_ctx(r, ctx, ngx_http_omadm_module);
    }

    ctx->shed = 1;

    if (ngx_http_discard_request_body(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    value.data = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (value.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    value.len = ngx_sprintf(value.data, "%T", olcf->retry_after) - value.data;

    if (ngx_http_omadm_add_header(r, "Retry-After", sizeof("Retry-After") - 1,
                                  &value)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = NGX_HTTP_SERVICE_UNAVAILABLE;
    ngx_str_set(&r->headers_out.content_type, "text/plain");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    return ngx_http_omadm_send(r, reason.data, reason.len);
}
