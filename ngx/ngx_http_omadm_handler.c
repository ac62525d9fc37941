
/*
 * ngx_omadm: the device-facing content handler.
 *
 * A device message is read whole into memory, handed to the core's
 * exchange, and the exchange is run step by step: each backend call it
 * asks for is an in-memory subrequest to the omadm_backend location, as
 * auth_request does it, and the last step is the response.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_omadm_module.h"


static ngx_int_t ngx_http_omadm_check_content_type(ngx_http_request_t *r);
static void ngx_http_omadm_body_handler(ngx_http_request_t *r);
static ngx_http_omadm_ctx_t *ngx_http_omadm_create_ctx(ngx_http_request_t *r);
static ngx_int_t ngx_http_omadm_read_body(ngx_http_request_t *r,
    ngx_str_t *body);
static ngx_int_t ngx_http_omadm_server_id(ngx_http_request_t *r,
    ngx_http_omadm_loc_conf_t *olcf, ngx_str_t *id);
static void ngx_http_omadm_run(ngx_http_request_t *r,
    ngx_http_omadm_ctx_t *ctx);
static ngx_int_t ngx_http_omadm_backend(ngx_http_request_t *r,
    ngx_http_omadm_ctx_t *ctx, omadm_action_t *act);
static ngx_int_t ngx_http_omadm_backend_done(ngx_http_request_t *r,
    void *data, ngx_int_t rc);
static void ngx_http_omadm_resume(ngx_http_request_t *r);
static ngx_int_t ngx_http_omadm_send(ngx_http_request_t *r, u_char *body,
    size_t len);
static ngx_int_t ngx_http_omadm_respond(ngx_http_request_t *r,
    ngx_http_omadm_ctx_t *ctx, omadm_action_t *act);
static ngx_int_t ngx_http_omadm_set_hmac(ngx_http_request_t *r,
    omadm_exchange_t *ex);
static ngx_int_t ngx_http_omadm_add_header(ngx_http_request_t *r,
    const char *key, ngx_str_t *value);
static void ngx_http_omadm_log_refusal(ngx_http_request_t *r,
    ngx_http_omadm_ctx_t *ctx, ngx_int_t status);
static void ngx_http_omadm_cleanup(void *data);
static ngx_uint_t ngx_http_omadm_busy(ngx_http_request_t *r);
static ngx_int_t ngx_http_omadm_shed(ngx_http_request_t *r);
static void ngx_http_omadm_release(ngx_http_omadm_ctx_t *ctx);
static ngx_int_t ngx_http_omadm_add_retry_after(ngx_http_request_t *r);


/* the media types accepted, each with the encoding it means (OMADM_ENC_*) */
static ngx_str_t  ngx_http_omadm_content_types[] = {
    ngx_string("application/vnd.syncml.dm+xml"),
    ngx_string("application/vnd.syncml+xml"),
    ngx_string("application/vnd.syncml.dm+wbxml"),
    ngx_string("application/vnd.syncml+wbxml"),
    ngx_null_string
};

static int  ngx_http_omadm_content_encodings[] = {
    OMADM_ENC_XML, OMADM_ENC_XML, OMADM_ENC_WBXML, OMADM_ENC_WBXML
};


ngx_int_t
ngx_http_omadm_handler(ngx_http_request_t *r)
{
    ngx_int_t   rc;
    ngx_str_t   allow = ngx_string("POST");

    if (r != r->main) {
        return NGX_DECLINED;
    }

    if (r->method != NGX_HTTP_POST) {
        if (ngx_http_omadm_add_header(r, "Allow", &allow) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_HTTP_NOT_ALLOWED;
    }

    if (ngx_http_omadm_check_content_type(r) == NGX_DECLINED) {
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

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_omadm_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


/* the OMADM_ENC_* of the request's Content-Type, or NGX_DECLINED */

static ngx_int_t
ngx_http_omadm_check_content_type(ngx_http_request_t *r)
{
    u_char      *p, *last;
    size_t       len;
    ngx_str_t   *type;

    if (r->headers_in.content_type == NULL) {
        return NGX_DECLINED;
    }

    p = r->headers_in.content_type->value.data;
    last = p + r->headers_in.content_type->value.len;

    /* the media type ends where its parameters or blanks begin */

    for (len = 0; p + len < last; len++) {
        if (p[len] == ';' || p[len] == ' ' || p[len] == '\t') {
            break;
        }
    }

    for (type = ngx_http_omadm_content_types; type->len; type++) {
        if (type->len == len && ngx_strncasecmp(p, type->data, len) == 0) {
            return ngx_http_omadm_content_encodings[
                       type - ngx_http_omadm_content_types];
        }
    }

    return NGX_DECLINED;
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
 * The exchange for one device message, on the location's configuration and
 * the zone's store.  The request pool's cleanup destroys it.
 */

static ngx_http_omadm_ctx_t *
ngx_http_omadm_create_ctx(ngx_http_request_t *r)
{
    ngx_str_t                   body, token, id;
    ngx_pool_cleanup_t         *cln;
    ngx_http_omadm_ctx_t       *ctx;
    ngx_http_omadm_zone_t      *zone;
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

    if (olcf->backend_limit) {
        ctx->busy = &olcf->backend_busy;
        (*ctx->busy)++;
    }

    if (ngx_http_omadm_server_id(r, olcf, &id) != NGX_OK) {
        return NULL;
    }

    zone = olcf->zone->data;

    ctx->conf.auth_accept = olcf->auth;
    ctx->conf.auth_challenge = olcf->challenge;
    ctx->conf.server_auth = olcf->server_auth;
    ctx->conf.session_ttl = zone->ttl;
    ctx->conf.max_auth_failures = olcf->auth_failures;
    ctx->conf.auth_failure_window = olcf->auth_failure_window;
    ctx->conf.max_commands = olcf->max_commands;
    ctx->conf.max_message_size = olcf->max_message_size;
    ctx->conf.limits = olcf->xml_limits;
    ctx->conf.server_id = (const char *) id.data;
    ctx->conf.server_id_len = id.len;
    ctx->conf.resp_uri = (const char *) id.data;
    ctx->conf.resp_uri_len = id.len;

    ngx_http_omadm_store_init(&ctx->store, zone);

    ctx->conf.max_object_size = olcf->max_object_size;

    ngx_http_omadm_object_store_init(&ctx->objects,
                                     olcf->object_zone
                                     ? olcf->object_zone->data : zone);
    ctx->conf.object_store = &ctx->objects;

    ngx_http_omadm_counter_store_init(&ctx->counters, zone);
    ctx->conf.counter_store = &ctx->counters;

    if (ngx_http_arg(r, (u_char *) "s", 1, &token) != NGX_OK) {
        ngx_str_null(&token);
    }

    if (omadm_exchange_create(&ctx->conf, &ctx->store,
                              (const char *) body.data, body.len,
                              (int) ngx_http_omadm_check_content_type(r),
                              (const char *) token.data, token.len,
                              ngx_time(), &ctx->ex)
        != OMADM_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "omadm: out of memory creating an exchange");
        return NULL;
    }

    if (ngx_http_omadm_set_hmac(r, ctx->ex) != NGX_OK) {
        return NULL;
    }

    /* failed logins are counted per device and client address */

    if (omadm_exchange_set_peer(ctx->ex,
                                (const char *) r->connection->addr_text.data,
                                r->connection->addr_text.len)
        != OMADM_OK)
    {
        return NULL;
    }

    return ctx;
}


/*
 * The body is kept in memory by the location's client_body_buffer_size
 * (see merge_loc_conf); it normally arrives as one buffer.
 */

static ngx_int_t
ngx_http_omadm_read_body(ngx_http_request_t *r, ngx_str_t *body)
{
    u_char       *p;
    size_t        len;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    ngx_str_null(body);

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file || r->request_body->temp_file) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "omadm: the request body was buffered to a file; "
                          "check client_body_in_file_only");
            return NGX_ERROR;
        }

        len += b->last - b->pos;
    }

    cl = r->request_body->bufs;

    if (cl->next == NULL) {
        body->data = cl->buf->pos;
        body->len = len;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;
    body->len = len;

    for ( /* void */ ; cl; cl = cl->next) {
        p = ngx_cpymem(p, cl->buf->pos, cl->buf->last - cl->buf->pos);
    }

    return NGX_OK;
}


/* scheme://host[:port]/uri unless omadm_server_id says otherwise */

static ngx_int_t
ngx_http_omadm_server_id(ngx_http_request_t *r,
    ngx_http_omadm_loc_conf_t *olcf, ngx_str_t *id)
{
    u_char                    *p;
    ngx_str_t                  scheme, host;
    ngx_uint_t                 port, default_port;
    ngx_http_core_srv_conf_t  *cscf;

    if (olcf->server_id.len) {
        *id = olcf->server_id;
        return NGX_OK;
    }

    ngx_str_set(&scheme, "http");
    default_port = 80;

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        ngx_str_set(&scheme, "https");
        default_port = 443;
    }
#endif

    host = r->headers_in.server;

    if (host.len == 0) {
        cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);
        host = cscf->server_name;
    }

    if (ngx_connection_local_sockaddr(r->connection, NULL, 0) != NGX_OK) {
        return NGX_ERROR;
    }

    port = ngx_inet_get_port(r->connection->local_sockaddr);

    p = ngx_pnalloc(r->pool, scheme.len + sizeof("://:65535") - 1
                             + host.len + r->uri.len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    id->data = p;

    p = ngx_sprintf(p, "%V://%V", &scheme, &host);

    if (port != default_port) {
        p = ngx_sprintf(p, ":%ui", port);
    }

    p = ngx_cpymem(p, r->uri.data, r->uri.len);
    *p = '\0';

    id->len = p - id->data;

    return NGX_OK;
}


/*
 * One step of the exchange: either a backend call (the request waits for
 * its subrequest) or the response (the request ends).
 */

static void
ngx_http_omadm_run(ngx_http_request_t *r, ngx_http_omadm_ctx_t *ctx)
{
    omadm_action_t  act;

    ngx_memzero(&act, sizeof(omadm_action_t));

    if (omadm_exchange_run(ctx->ex, &act) != OMADM_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "omadm: exchange failed internally");
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (act.kind == OMADM_ACT_BACKEND) {
        if (ngx_http_omadm_backend(r, ctx, &act) != NGX_OK) {
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


/*
 * POST the action's JSON to <omadm_backend><op> as an in-memory
 * subrequest.  The subrequest gets its own request body; its method is
 * POST and its Content-Length is the JSON's, which the proxy module sends
 * ($proxy_internal_body_length).  The subrequest holds a reference on the
 * main request (r->main->count) until it is finalized; the parent is then
 * posted and resumes in ngx_http_omadm_resume().
 */

static ngx_int_t
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
    ctx->waiting = 1;
    ctx->backend_done = 0;

    r->write_event_handler = ngx_http_omadm_resume;

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

    size_t      len;
    ngx_int_t   status;
    const char *body;

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


    if (status == 0) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "omadm: backend \"%V\" gave no answer (%i)",
                      &ctx->uri, rc);

    } else if (status != NGX_HTTP_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "omadm: backend \"%V\" answered %i", &ctx->uri, status);
    }

    if (omadm_exchange_backend_done(ctx->ex, (int) status, body, len)
        != OMADM_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "omadm: handing the backend answer to the exchange "
                      "failed");
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

    ctx->waiting = 0;
    r->write_event_handler = ngx_http_request_empty_handler;

    ngx_http_omadm_run(r, ctx);
}


static ngx_int_t
ngx_http_omadm_respond(ngx_http_request_t *r, ngx_http_omadm_ctx_t *ctx,
    omadm_action_t *act)
{
    size_t                      len;
    ngx_str_t                   value;

    /* no backend call after the answer: a slow reader holds no slot */
    ngx_http_omadm_release(ctx);

    if (act->http_status < NGX_HTTP_OK || act->http_status > 599) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "omadm: exchange answered invalid status %d",
                      act->http_status);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_omadm_log_refusal(r, ctx, act->http_status);

    r->headers_out.status = act->http_status;

    if (act->http_status == NGX_HTTP_SERVICE_UNAVAILABLE
        && ngx_http_omadm_add_retry_after(r) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (act->http_status == NGX_HTTP_OK) {
        ngx_str_set(&value, "no-store");

        if (ngx_http_omadm_add_header(r, "Cache-Control", &value) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    /* syncml:auth-MAC: the core signed its answer (valid until destroy) */

    value.data = (u_char *) omadm_exchange_var(ctx->ex,
                                               OMADM_VAR_RESPONSE_HMAC,
                                               &value.len);
    if (value.data
        && ngx_http_omadm_add_header(r, "x-syncml-hmac", &value) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (act->content_type && act->content_type[0]) {
        len = ngx_strlen(act->content_type);

        r->headers_out.content_type.data = ngx_pnalloc(r->pool, len);
        if (r->headers_out.content_type.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memcpy(r->headers_out.content_type.data, act->content_type, len);
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

static ngx_int_t
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
    size_t       len;
    ngx_uint_t   level;
    const char  *why;

    if (status < NGX_HTTP_BAD_REQUEST) {
        return;
    }

    level = (status < NGX_HTTP_INTERNAL_SERVER_ERROR) ? NGX_LOG_INFO
                                                       : NGX_LOG_ERR;

    len = 0;
    why = omadm_exchange_var(ctx->ex, OMADM_VAR_ERROR, &len);

    if (why == NULL) {
        why = "";
        len = 0;
    }

    ngx_log_error(level, r->connection->log, 0,
                  "omadm: answered %i: %*s", status, len, why);
}


/*
 * syncml:auth-MAC: hands the request's x-syncml-hmac header to the core,
 * which checks it over the body.  A repeated header is a bad header: the
 * core is given both, joined, and refuses them.
 */

static ngx_int_t
ngx_http_omadm_set_hmac(ngx_http_request_t *r, omadm_exchange_t *ex)
{
    ngx_str_t         found;
    ngx_uint_t        i, n;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    static ngx_str_t  name = ngx_string("x-syncml-hmac");

    ngx_str_null(&found);
    n = 0;
    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len != name.len
            || ngx_strncasecmp(h[i].key.data, name.data, name.len) != 0)
        {
            continue;
        }

        found = h[i].value;
        n++;
    }

    if (n == 0) {
        return NGX_OK;
    }

    if (n > 1) {
        ngx_str_set(&found, "duplicate=x-syncml-hmac");
    }

    if (omadm_exchange_set_hmac(ex, (const char *) found.data, found.len)
        != OMADM_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "omadm: out of memory keeping x-syncml-hmac");
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_omadm_add_header(ngx_http_request_t *r, const char *key,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) key;
    h->key.len = ngx_strlen(key);
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


/*
 * omadm_backend_limit: load shedding.
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
 * The counter is per worker process (in this process's own copy of the
 * location configuration), not in shared memory: a worker that dies
 * (SIGKILL, crash) takes its counter with it, where a shared counter would
 * keep the dead worker's slots taken forever.  The price is that the limit
 * is per worker, and that during a reload old and new workers each have
 * theirs.  Every path gives the slot back: the answer (respond), and the
 * request pool's cleanup for errors and client aborts.
 */

static ngx_uint_t
ngx_http_omadm_busy(ngx_http_request_t *r)
{
    ngx_http_omadm_loc_conf_t  *olcf;

    olcf = ngx_http_get_module_loc_conf(r, ngx_http_omadm_module);

    return olcf->backend_limit
           && olcf->backend_busy >= olcf->backend_limit;
}


static ngx_int_t
ngx_http_omadm_shed(ngx_http_request_t *r)
{
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

    if (ngx_http_omadm_add_retry_after(r) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = NGX_HTTP_SERVICE_UNAVAILABLE;
    ngx_str_set(&r->headers_out.content_type, "text/plain");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    return ngx_http_omadm_send(r, reason.data, reason.len);
}


static void
ngx_http_omadm_release(ngx_http_omadm_ctx_t *ctx)
{
    if (ctx->busy) {
        (*ctx->busy)--;
        ctx->busy = NULL;
    }
}


static ngx_int_t
ngx_http_omadm_add_retry_after(ngx_http_request_t *r)
{
    ngx_str_t                   value;
    ngx_http_omadm_loc_conf_t  *olcf;

    olcf = ngx_http_get_module_loc_conf(r, ngx_http_omadm_module);

    value.data = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (value.data == NULL) {
        return NGX_ERROR;
    }

    value.len = ngx_sprintf(value.data, "%T", olcf->retry_after) - value.data;

    return ngx_http_omadm_add_header(r, "Retry-After", &value);
}
