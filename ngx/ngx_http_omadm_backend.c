
/*
 * ngx_omadm: the backend calls of the core's exchange, as auth_request
 * makes its own: an in-memory subrequest to <omadm_backend><op> carrying
 * the core's JSON, whose answer is handed back to the exchange before the
 * main request resumes its run loop (ngx_http_omadm_run()).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_omadm_module.h"


static ngx_int_t ngx_http_omadm_backend_done(ngx_http_request_t *r,
    void *data, ngx_int_t rc);
static void ngx_http_omadm_resume(ngx_http_request_t *r);


/*
 * POST the action's JSON to <omadm_backend><op> as an in-memory
 * subrequest.  The subrequest gets its own request body; its method is
 * POST and its Content-Length is the JSON's, which the proxy module sends
 * ($proxy_internal_body_length).  The subrequest holds a reference on the
 * main request (r->main->count) until it is finalized; the parent is then
 * posted and resumes in ngx_http_omadm_resume().
 */

ngx_int_t
ngx_http_omadm_backend(ngx_http_request_t *r, ngx_http_omadm_ctx_t *ctx,
    omadm_action_t *act)
{
    u_char                      *p;
    ngx_buf_t                   *b;
    ngx_chain_t                 *cl;
    ngx_http_request_t          *sr;
    ngx_http_request_body_t     *rb;
    ngx_http_omadm_loc_conf_t   *olcf;
    ngx_http_post_subrequest_t  *ps;

    olcf = ngx_http_get_module_loc_conf(r, ngx_http_omadm_module);

    ctx->uri.len = olcf->backend.len + act->op_len;
    ctx->uri.data = ngx_pnalloc(r->pool, ctx->uri.len);
    if (ctx->uri.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(ctx->uri.data, olcf->backend.data, olcf->backend.len);
    ngx_memcpy(p, act->op, act->op_len);

    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    if (ps == NULL) {
        return NGX_ERROR;
    }

    ps->handler = ngx_http_omadm_backend_done;
    ps->data = ctx;

    rb = ngx_pcalloc(r->pool, sizeof(ngx_http_request_body_t));
    if (rb == NULL) {
        return NGX_ERROR;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    if (act->body_len) {
        b->start = ngx_pnalloc(r->pool, act->body_len);
        if (b->start == NULL) {
            return NGX_ERROR;
        }

        b->pos = b->start;
        b->last = ngx_cpymem(b->start, act->body, act->body_len);
        b->end = b->last;
        b->temporary = 1;
    }

    b->last_buf = 1;
    b->last_in_chain = 1;

    cl = ngx_alloc_chain_link(r->pool);
    if (cl == NULL) {
        return NGX_ERROR;
    }

    cl->buf = b;
    cl->next = NULL;

    rb->bufs = cl;
    rb->buf = b;

    if (ngx_http_subrequest(r, &ctx->uri, NULL, &sr, ps,
                            NGX_HTTP_SUBREQUEST_IN_MEMORY
                            |NGX_HTTP_SUBREQUEST_WAITED)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    sr->method = NGX_HTTP_POST;
    ngx_str_set(&sr->method_name, "POST");

    sr->request_body = rb;
    sr->headers_in.content_length_n = 0;    /* see ..._backend_length() */
    sr->headers_in.content_length = NULL;
    sr->headers_in.transfer_encoding = NULL;
    sr->headers_in.chunked = 0;

    ctx->sr = sr;
    ctx->sr_body_len = act->body_len;
    ctx->sr_start = ngx_current_msec;
    ctx->sr_call = ngx_http_omadm_call_of((u_char *) act->op, act->op_len);
    ctx->waiting = 1;
    ctx->backend_done = 0;

    r->write_event_handler = ngx_http_omadm_resume;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "omadm: subrequest \"%V\" started", &ctx->uri);

    return NGX_OK;
}


/*
 * A precontent phase handler.  A backend subrequest carries the module's
 * JSON, not a client's body, and with a device's large object reassembled
 * it is larger than the 1m default of client_max_body_size.  Its length is
 * therefore set only here, after nginx checked that directive (meant for
 * clients) when it chose the backend location, so that location needs
 * none.
 */

ngx_int_t
ngx_http_omadm_backend_length(ngx_http_request_t *r)
{
    ngx_http_omadm_ctx_t  *ctx;

    if (r == r->main) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_get_module_ctx(r->parent, ngx_http_omadm_module);

    if (ctx && ctx->sr == r) {
        r->headers_in.content_length_n = ctx->sr_body_len;
    }

    return NGX_DECLINED;
}


/*
 * Called from ngx_http_finalize_request() of the subrequest, possibly more
 * than once (e.g. with 502 and then with the error page's result): only
 * the first call counts.
 */

static ngx_int_t
ngx_http_omadm_backend_done(ngx_http_request_t *r, void *data, ngx_int_t rc)
{
    ngx_http_omadm_ctx_t *ctx = data;

    size_t                      len;
    ngx_int_t                   status;
    const char                 *body, *why;
    ngx_http_omadm_loc_conf_t  *olcf;

    if (!ctx->waiting || ctx->backend_done || rc == NGX_AGAIN) {
        return rc;
    }

    ctx->backend_done = 1;

    /*
     * Any other rc is nginx's own verdict on the subrequest (502 when the
     * upstream could not be reached, 504 on a timeout, ...): the backend
     * gave no answer, which the core calls status 0.
     */

    status = (rc == NGX_OK) ? (ngx_int_t) r->headers_out.status : 0;

    body = NULL;
    len = 0;

    if (status != 0 && r->out && r->out->buf) {
        body = (const char *) r->out->buf->pos;
        len = r->out->buf->last - r->out->buf->pos;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "omadm: backend \"%V\" answered %i with %uz bytes",
                   &ctx->uri, status, len);

    if (status == 0) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "omadm: backend \"%V\" gave no answer (%i)",
                      &ctx->uri, rc);

    } else if (status != NGX_HTTP_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "omadm: backend \"%V\" answered %i", &ctx->uri, status);
    }

    olcf = ngx_http_get_module_loc_conf(r->main, ngx_http_omadm_module);

    ngx_http_omadm_count_backend(olcf->zone->data, ctx->sr_call, status,
                                 ngx_current_msec - ctx->sr_start);

    if (omadm_exchange_backend_done(ctx->ex, (int) status, body, len)
        != OMADM_OK)
    {
        why = omadm_exchange_var(ctx->ex, OMADM_VAR_ERROR, &len);
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "omadm: handing the backend answer to the exchange "
                      "failed: %*s", why ? len : 0, why ? why : "");
    }

    return rc;
}


static void
ngx_http_omadm_resume(ngx_http_request_t *r)
{
    ngx_http_omadm_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_omadm_module);

    if (ctx == NULL || !ctx->waiting || !ctx->backend_done) {
        return;
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "omadm: resuming after backend \"%V\"", &ctx->uri);

    ctx->waiting = 0;
    r->write_event_handler = ngx_http_request_empty_handler;

    ngx_http_omadm_run(r, ctx);
}
