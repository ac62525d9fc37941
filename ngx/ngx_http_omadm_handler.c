
/*
 * ngx_omadm: the device-facing content handler.
 *
 * A device message is admitted (POST, a SyncML Content-Type, a slot under
 * omadm_backend_limit), read whole into memory, handed to the core's
 * exchange with what the request brings (ngx_http_omadm_request.c), and
 * the exchange is run step by step: each backend call it asks for is a
 * subrequest (ngx_http_omadm_backend.c), and the last step is the answer,
 * whose status, headers and body the core gives.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_omadm_module.h"


static void ngx_http_omadm_body_handler(ngx_http_request_t *r);
static ngx_http_omadm_ctx_t *ngx_http_omadm_create_ctx(ngx_http_request_t *r);
static ngx_int_t ngx_http_omadm_respond(ngx_http_request_t *r,
    ngx_http_omadm_ctx_t *ctx, omadm_action_t *act);
static void ngx_http_omadm_log_refusal(ngx_http_request_t *r,
    ngx_http_omadm_ctx_t *ctx, ngx_int_t status);
static ngx_str_t ngx_http_omadm_var(ngx_http_omadm_ctx_t *ctx, int var);
static void ngx_http_omadm_cleanup(void *data);


ngx_int_t
ngx_http_omadm_handler(ngx_http_request_t *r)
{
    ngx_int_t   rc;
    ngx_str_t   allow = ngx_string("POST");

    if (r != r->main) {
        return NGX_DECLINED;
    }

    if (r->method != NGX_HTTP_POST) {
        if (ngx_http_omadm_add_header(r, "Allow", sizeof("Allow") - 1, &allow)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_HTTP_NOT_ALLOWED;
    }

    if (ngx_http_omadm_encoding(r) == NGX_DECLINED) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "omadm: refused a message that is not SyncML");
        return NGX_HTTP_UNSUPPORTED_MEDIA_TYPE;
    }

    /*
     * No size check here: merge_loc_conf made client_max_body_size the
     * omadm_max_message_size, which nginx enforces (413) before this
     * handler runs, for Content-Length and chunked bodies alike.
     */

    /* at omadm_backend_limit already: shed before reading the body */

    if (ngx_http_omadm_busy(r)) {
        return ngx_http_omadm_shed(r);
    }

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "omadm: reading a device message of %O bytes",
                   r->headers_in.content_length_n);

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_omadm_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_omadm_body_handler(ngx_http_request_t *r)
{
    ngx_http_omadm_ctx_t  *ctx;

    /* again: other messages may have taken the slots while this one read */

    if (ngx_http_omadm_busy(r)) {
        ngx_http_finalize_request(r, ngx_http_omadm_shed(r));
        return;
    }

    ctx = ngx_http_omadm_create_ctx(r);
    if (ctx == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_set_ctx(r, ctx, ngx_http_omadm_module);

    ngx_http_omadm_run(r, ctx);
}


/*
 * The exchange for one device message, on the configuration merge_loc_conf
 * built for the core.  The request pool's cleanup destroys it.
 */

static ngx_http_omadm_ctx_t *
ngx_http_omadm_create_ctx(ngx_http_request_t *r)
{
    int                         enc;
    ngx_str_t                   body, token;
    ngx_pool_cleanup_t         *cln;
    ngx_http_omadm_ctx_t       *ctx;
    ngx_http_omadm_loc_conf_t  *olcf;

    olcf = ngx_http_get_module_loc_conf(r, ngx_http_omadm_module);

    if (ngx_http_omadm_read_body(r, &body) != NGX_OK) {
        return NULL;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_omadm_ctx_t));
    if (ctx == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_omadm_cleanup;
    cln->data = ctx;

    /* the slot is taken before parsing; the cleanup gives it back */

    ngx_http_omadm_take_slot(r, ctx);

    if (ngx_http_arg(r, (u_char *) "s", 1, &token) != NGX_OK) {
        ngx_str_null(&token);
    }

    enc = (int) ngx_http_omadm_encoding(r);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "omadm: decoding %uz bytes of %s", body.len,
                   enc == OMADM_ENC_WBXML ? "WBXML" : "XML");

    if (omadm_exchange_create(&olcf->core, &olcf->sessions,
                              (const char *) body.data, body.len, enc,
                              (const char *) token.data, token.len,
                              ngx_time(), &ctx->ex)
        != OMADM_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "omadm: out of memory creating an exchange");
        return NULL;
    }

    if (ngx_http_omadm_describe_request(r, ctx->ex) != NGX_OK) {
        return NULL;
    }

    return ctx;
}


/*
 * One step of the exchange: either a backend call (the request waits for
 * its subrequest) or the answer (the request ends).
 */

void
ngx_http_omadm_run(ngx_http_request_t *r, ngx_http_omadm_ctx_t *ctx)
{
    ngx_str_t       why;
    omadm_action_t  act;

    ngx_memzero(&act, sizeof(omadm_action_t));

    if (omadm_exchange_run(ctx->ex, &act) != OMADM_OK) {
        why = ngx_http_omadm_var(ctx, OMADM_VAR_ERROR);
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "omadm: exchange failed internally: %V",
                      &why);
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (act.kind == OMADM_ACT_BACKEND) {
        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "omadm: step: backend call \"%*s\" with %uz bytes",
                       act.op_len, act.op, act.body_len);

        if (ngx_http_omadm_backend(r, ctx, &act) != NGX_OK) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "omadm: cannot start the backend subrequest "
                          "\"%*s\"", act.op_len, act.op);
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        }

        return;
    }

    if (act.kind != OMADM_ACT_RESPOND) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "omadm: exchange returned unknown action %d",
                      act.kind);
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_finalize_request(r, ngx_http_omadm_respond(r, ctx, &act));
}


/* the answer as the core gave it: status, headers, content type, body */

static ngx_int_t
ngx_http_omadm_respond(ngx_http_request_t *r, ngx_http_omadm_ctx_t *ctx,
    omadm_action_t *act)
{
    size_t      i, len;
    ngx_str_t   value, auth;

    /* no backend call after the answer: a slow reader holds no slot */
    ngx_http_omadm_release(ctx);

    if (act->http_status < NGX_HTTP_OK || act->http_status > 599) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "omadm: exchange answered invalid status %d",
                      act->http_status);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    auth = ngx_http_omadm_var(ctx, OMADM_VAR_AUTH);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "omadm: step: answer %d with %uz bytes, auth %V",
                   act->http_status, act->body_len, &auth);

    ngx_http_omadm_log_refusal(r, ctx, act->http_status);

    r->headers_out.status = act->http_status;

    if (act->http_status == NGX_HTTP_OK) {
        ngx_str_set(&value, "no-store");

        if (ngx_http_omadm_add_header(r, "Cache-Control",
                                      sizeof("Cache-Control") - 1, &value)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    /* Retry-After, x-syncml-hmac: valid until the exchange is destroyed */

    for (i = 0; i < act->nheaders; i++) {
        value.data = (u_char *) act->headers[i].value;
        value.len = act->headers[i].value_len;

        if (ngx_http_omadm_add_header(r, act->headers[i].name,
                                      act->headers[i].name_len, &value)
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (act->content_type && act->content_type[0]) {
        len = ngx_strlen(act->content_type);

        r->headers_out.content_type.data = (u_char *) act->content_type;
        r->headers_out.content_type.len = len;
        r->headers_out.content_type_len = len;
    }

    /*
     * No copy: nothing calls the exchange after RESPOND, and it is freed
     * by the request pool's cleanup, after the last byte has been sent.
     */

    return ngx_http_omadm_send(r, (u_char *) act->body, act->body_len);
}


/* sends the header and the body (not copied: it must outlive the send) */

ngx_int_t
ngx_http_omadm_send(ngx_http_request_t *r, u_char *body, size_t len)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_chain_t   out;

    r->headers_out.content_length_n = len;

    if (len == 0) {
        r->header_only = 1;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->start = body;
    b->pos = body;
    b->last = body + len;
    b->end = b->last;
    b->memory = 1;
    b->last_buf = 1;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static void
ngx_http_omadm_log_refusal(ngx_http_request_t *r, ngx_http_omadm_ctx_t *ctx,
    ngx_int_t status)
{
    ngx_str_t   why;
    ngx_uint_t  level;

    if (status < NGX_HTTP_BAD_REQUEST) {
        return;
    }

    level = (status < NGX_HTTP_INTERNAL_SERVER_ERROR) ? NGX_LOG_INFO
                                                       : NGX_LOG_ERR;

    why = ngx_http_omadm_var(ctx, OMADM_VAR_ERROR);

    ngx_log_error(level, r->connection->log, 0,
                  "omadm: answered %i: %V", status, &why);
}


/* a value of the exchange, "" when it has none */

static ngx_str_t
ngx_http_omadm_var(ngx_http_omadm_ctx_t *ctx, int var)
{
    ngx_str_t  s;

    s.len = 0;
    s.data = (u_char *) omadm_exchange_var(ctx->ex, var, &s.len);

    if (s.data == NULL) {
        ngx_str_set(&s, "");
    }

    return s;
}


ngx_int_t
ngx_http_omadm_add_header(ngx_http_request_t *r, const char *key,
    size_t key_len, ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) key;
    h->key.len = key_len;
    h->value = *value;
    h->lowcase_key = NULL;

    return NGX_OK;
}


static void
ngx_http_omadm_cleanup(void *data)
{
    ngx_http_omadm_ctx_t *ctx = data;

    ngx_http_omadm_release(ctx);

    if (ctx->ex) {
        omadm_exchange_destroy(ctx->ex);
        ctx->ex = NULL;
    }
}
