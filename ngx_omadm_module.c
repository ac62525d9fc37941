
/*
 * ngx_omadm: an OMA DM server inside nginx.
 *
 * This file is the nginx side only: directives, the device-facing content
 * handler, the session store on a shared memory zone and the subrequests
 * to the backend.  Everything that is OMA DM lives in the C++ core behind
 * include/omadm.h.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "omadm.h"


#define NGX_HTTP_OMADM_DEFAULT_TTL        300
#define NGX_HTTP_OMADM_EVICT_MAX          64
#define NGX_HTTP_OMADM_EXPIRE_MAX         8


/* shared memory: sessions, auth-failure counters, cached responses */

typedef struct {
    ngx_rbtree_node_t                 node;    /* node.key: crc32 of key */
    ngx_queue_t                       queue;   /* LRU, most recent first */
    time_t                            expires;
    size_t                            key_len;
    size_t                            val_len;
    u_char                            data[1]; /* key, then value */
} ngx_http_omadm_node_t;


typedef struct {
    ngx_rbtree_t                      rbtree;
    ngx_rbtree_node_t                 sentinel;
    ngx_queue_t                       queue;
} ngx_http_omadm_shctx_t;


typedef struct {
    ngx_http_omadm_shctx_t           *sh;
    ngx_slab_pool_t                  *shpool;
    time_t                            ttl;
    ngx_shm_zone_t                   *shm_zone;
    time_t                            full_logged;  /* per worker */
} ngx_http_omadm_zone_t;


typedef struct {
    ngx_shm_zone_t                   *zone;          /* omadm */
    ngx_str_t                         backend;       /* omadm_backend */
    ngx_uint_t                        auth;          /* OMADM_AUTH_* set */
    ngx_uint_t                        challenge;
    size_t                            max_message_size;
    ngx_uint_t                        max_commands;
    ngx_uint_t                        auth_failures;
    time_t                            auth_failure_window;
    time_t                            retry_after;
    ngx_uint_t                        xml_depth;
    ngx_uint_t                        xml_elements;
    size_t                            xml_text;
    ngx_str_t                         server_id;
} ngx_http_omadm_loc_conf_t;


typedef struct {
    omadm_exchange_t                 *ex;
    omadm_config_t                    conf;    /* must outlive ex */
    omadm_store_t                     store;   /* must outlive ex */
    ngx_str_t                         uri;     /* of the pending backend
                                                  subrequest, for logs */
    unsigned                          waiting:1;
    unsigned                          backend_done:1;
} ngx_http_omadm_ctx_t;


typedef struct {
    ngx_str_t                         name;
    ngx_uint_t                        value;
} ngx_http_omadm_scheme_t;


static ngx_int_t ngx_http_omadm_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_omadm_check_content_type(ngx_http_request_t *r);
static void ngx_http_omadm_body_handler(ngx_http_request_t *r);
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
static ngx_int_t ngx_http_omadm_respond(ngx_http_request_t *r,
    ngx_http_omadm_ctx_t *ctx, omadm_action_t *act);
static ngx_int_t ngx_http_omadm_add_header(ngx_http_request_t *r,
    const char *key, ngx_str_t *value);
static void ngx_http_omadm_log_refusal(ngx_http_request_t *r,
    ngx_http_omadm_ctx_t *ctx, ngx_int_t status);
static void ngx_http_omadm_cleanup(void *data);

static int ngx_http_omadm_store_get(void *data, const char *key,
    size_t key_len, omadm_sink_pt sink, void *sink_ctx);
static int ngx_http_omadm_store_put(void *data, const char *key,
    size_t key_len, const char *val, size_t val_len, unsigned ttl);
static int ngx_http_omadm_store_remove(void *data, const char *key,
    size_t key_len);
static ngx_http_omadm_node_t *ngx_http_omadm_lookup(
    ngx_http_omadm_zone_t *zone, u_char *key, size_t len, uint32_t hash);
static void ngx_http_omadm_delete(ngx_http_omadm_zone_t *zone,
    ngx_http_omadm_node_t *node);
static void ngx_http_omadm_expire(ngx_http_omadm_zone_t *zone, time_t now);
static void ngx_http_omadm_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_int_t ngx_http_omadm_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);

static ngx_int_t ngx_http_omadm_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);

static ngx_int_t ngx_http_omadm_add_variables(ngx_conf_t *cf);
static void *ngx_http_omadm_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_omadm_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_omadm_session_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_omadm(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_http_omadm_set_backend(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_omadm_set_auth(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_omadm_set_challenge(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_omadm_set_max_commands(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_omadm_set_auth_failures(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_omadm_set_xml_limits(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_omadm_set_server_id(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_omadm_scheme(ngx_str_t *name);


static ngx_command_t  ngx_http_omadm_commands[] = {

    { ngx_string("omadm_session_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_omadm_session_zone,
      0,
      0,
      NULL },

    { ngx_string("omadm"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_omadm,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("omadm_backend"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_omadm_set_backend,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_omadm_loc_conf_t, backend),
      NULL },

    { ngx_string("omadm_auth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_omadm_set_auth,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("omadm_challenge"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_omadm_set_challenge,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("omadm_max_message_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_omadm_loc_conf_t, max_message_size),
      NULL },

    { ngx_string("omadm_max_commands"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_omadm_set_max_commands,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("omadm_auth_failures"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_omadm_set_auth_failures,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("omadm_retry_after"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_omadm_loc_conf_t, retry_after),
      NULL },

    { ngx_string("omadm_xml_limits"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_omadm_set_xml_limits,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("omadm_server_id"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_omadm_set_server_id,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_omadm_loc_conf_t, server_id),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_omadm_module_ctx = {
    ngx_http_omadm_add_variables,          /* preconfiguration */
    NULL,                                  /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_omadm_create_loc_conf,        /* create location configuration */
    ngx_http_omadm_merge_loc_conf          /* merge location configuration */
};


ngx_module_t  ngx_http_omadm_module = {
    NGX_MODULE_V1,
    &ngx_http_omadm_module_ctx,            /* module context */
    ngx_http_omadm_commands,               /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_variable_t  ngx_http_omadm_vars[] = {

    { ngx_string("omadm_device_id"), NULL, ngx_http_omadm_variable,
      OMADM_VAR_DEVICE_ID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("omadm_session_id"), NULL, ngx_http_omadm_variable,
      OMADM_VAR_SESSION_ID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("omadm_msg_id"), NULL, ngx_http_omadm_variable,
      OMADM_VAR_MSG_ID, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("omadm_auth"), NULL, ngx_http_omadm_variable,
      OMADM_VAR_AUTH, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("omadm_error"), NULL, ngx_http_omadm_variable,
      OMADM_VAR_ERROR, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_http_omadm_scheme_t  ngx_http_omadm_schemes[] = {
    { ngx_string("basic"), OMADM_AUTH_BASIC },
    { ngx_string("md5"), OMADM_AUTH_MD5 },
    { ngx_null_string, 0 }
};


static ngx_str_t  ngx_http_omadm_content_types[] = {
    ngx_string("application/vnd.syncml.dm+xml"),
    ngx_string("application/vnd.syncml+xml"),
    ngx_null_string
};


/* the device-facing handler */

static ngx_int_t
ngx_http_omadm_handler(ngx_http_request_t *r)
{
    ngx_int_t                   rc;
    ngx_str_t                   allow = ngx_string("POST");
    ngx_http_omadm_loc_conf_t  *olcf;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    olcf = ngx_http_get_module_loc_conf(r, ngx_http_omadm_module);

    if (r->method != NGX_HTTP_POST) {
        if (ngx_http_omadm_add_header(r, "Allow", &allow) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return NGX_HTTP_NOT_ALLOWED;
    }

    if (ngx_http_omadm_check_content_type(r) != NGX_OK) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "omadm: refused a message that is not SyncML XML");
        return NGX_HTTP_UNSUPPORTED_MEDIA_TYPE;
    }

    /* nginx checks client_max_body_size too; this keeps the rule local */

    if (r->headers_in.content_length_n > (off_t) olcf->max_message_size) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "omadm: message of %O bytes is over "
                      "omadm_max_message_size %uz",
                      r->headers_in.content_length_n,
                      olcf->max_message_size);
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_omadm_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


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
            return NGX_OK;
        }
    }

    return NGX_DECLINED;
}


static void
ngx_http_omadm_body_handler(ngx_http_request_t *r)
{
    ngx_str_t                   body, token, id;
    ngx_pool_cleanup_t         *cln;
    ngx_http_omadm_ctx_t       *ctx;
    ngx_http_omadm_zone_t      *zone;
    ngx_http_omadm_loc_conf_t  *olcf;

    olcf = ngx_http_get_module_loc_conf(r, ngx_http_omadm_module);

    if (ngx_http_omadm_read_body(r, &body) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_omadm_ctx_t));
    if (ctx == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    cln->handler = ngx_http_omadm_cleanup;
    cln->data = ctx;

    if (ngx_http_omadm_server_id(r, olcf, &id) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    zone = olcf->zone->data;

    ctx->conf.auth_accept = olcf->auth;
    ctx->conf.auth_challenge = olcf->challenge;
    ctx->conf.session_ttl = zone->ttl;
    ctx->conf.max_auth_failures = olcf->auth_failures;
    ctx->conf.auth_failure_window = olcf->auth_failure_window;
    ctx->conf.max_commands = olcf->max_commands;
    ctx->conf.limits.max_depth = olcf->xml_depth;
    ctx->conf.limits.max_elements = olcf->xml_elements;
    ctx->conf.limits.max_text = olcf->xml_text;
    ctx->conf.server_id = (const char *) id.data;
    ctx->conf.server_id_len = id.len;
    ctx->conf.resp_uri = (const char *) id.data;
    ctx->conf.resp_uri_len = id.len;

    ctx->store.ctx = zone;
    ctx->store.get = ngx_http_omadm_store_get;
    ctx->store.put = ngx_http_omadm_store_put;
    ctx->store.remove = ngx_http_omadm_store_remove;

    if (ngx_http_arg(r, (u_char *) "s", 1, &token) != NGX_OK) {
        ngx_str_null(&token);
    }

    if (omadm_exchange_create(&ctx->conf, &ctx->store,
                              (const char *) body.data, body.len,
                              (const char *) token.data, token.len,
                              ngx_time(), &ctx->ex)
        != OMADM_OK)
    {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "omadm: out of memory creating an exchange");
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    ngx_http_set_ctx(r, ctx, ngx_http_omadm_module);

    ngx_http_omadm_run(r, ctx);
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
    sr->headers_in.content_length_n = act->body_len;
    sr->headers_in.content_length = NULL;
    sr->headers_in.transfer_encoding = NULL;
    sr->headers_in.chunked = 0;

    ctx->waiting = 1;
    ctx->backend_done = 0;

    r->write_event_handler = ngx_http_omadm_resume;

    return NGX_OK;
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
    ngx_int_t                   rc;
    ngx_buf_t                  *b;
    ngx_str_t                   value;
    ngx_chain_t                 out;
    ngx_http_omadm_loc_conf_t  *olcf;

    olcf = ngx_http_get_module_loc_conf(r, ngx_http_omadm_module);

    if (act->http_status < NGX_HTTP_OK || act->http_status > 599) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "omadm: exchange answered invalid status %d",
                      act->http_status);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_omadm_log_refusal(r, ctx, act->http_status);

    r->headers_out.status = act->http_status;

    if (act->http_status == NGX_HTTP_SERVICE_UNAVAILABLE) {
        value.data = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
        if (value.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        value.len = ngx_sprintf(value.data, "%T", olcf->retry_after)
                    - value.data;

        if (ngx_http_omadm_add_header(r, "Retry-After", &value) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    if (act->http_status == NGX_HTTP_OK) {
        ngx_str_set(&value, "no-store");

        if (ngx_http_omadm_add_header(r, "Cache-Control", &value) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
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

    r->headers_out.content_length_n = act->body_len;

    /* the body lives in the exchange until the pool cleanup; copy anyway,
       the output chain may outlast any later call on the exchange */

    b = ngx_create_temp_buf(r->pool, act->body_len ? act->body_len : 1);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    b->last = ngx_cpymem(b->pos, act->body, act->body_len);
    b->last_buf = 1;
    b->last_in_chain = 1;

    if (act->body_len == 0) {
        r->header_only = 1;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

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

    if (ctx->ex) {
        omadm_exchange_destroy(ctx->ex);
        ctx->ex = NULL;
    }
}


static ngx_int_t
ngx_http_omadm_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    size_t                 len;
    const char            *p;
    ngx_http_omadm_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_omadm_module);

    if (ctx == NULL || ctx->ex == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    len = 0;
    p = omadm_exchange_var(ctx->ex, (int) data, &len);

    if (p == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = (u_char *) p;
    v->len = len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


/* the store on the shared zone; get() calls sink while locked */

static int
ngx_http_omadm_store_get(void *data, const char *key, size_t key_len,
    omadm_sink_pt sink, void *sink_ctx)
{
    ngx_http_omadm_zone_t *zone = data;

    time_t                  now;
    uint32_t                hash;
    ngx_http_omadm_node_t  *node;

    now = ngx_time();
    hash = ngx_crc32_short((u_char *) key, key_len);

    ngx_shmtx_lock(&zone->shpool->mutex);

    node = ngx_http_omadm_lookup(zone, (u_char *) key, key_len, hash);

    if (node && node->expires <= now) {
        ngx_http_omadm_delete(zone, node);
        node = NULL;
    }

    if (node == NULL) {
        ngx_shmtx_unlock(&zone->shpool->mutex);
        return OMADM_NOT_FOUND;
    }

    ngx_queue_remove(&node->queue);
    ngx_queue_insert_head(&zone->sh->queue, &node->queue);

    sink(sink_ctx, (const char *) node->data + node->key_len, node->val_len);

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return OMADM_OK;
}


static int
ngx_http_omadm_store_put(void *data, const char *key, size_t key_len,
    const char *val, size_t val_len, unsigned ttl)
{
    ngx_http_omadm_zone_t *zone = data;

    size_t                  size;
    time_t                  now;
    uint32_t                hash;
    ngx_uint_t              evicted;
    ngx_queue_t            *q;
    ngx_http_omadm_node_t  *node, *old;

    now = ngx_time();
    hash = ngx_crc32_short((u_char *) key, key_len);
    size = offsetof(ngx_http_omadm_node_t, data) + key_len + val_len;
    evicted = 0;

    ngx_shmtx_lock(&zone->shpool->mutex);

    node = ngx_http_omadm_lookup(zone, (u_char *) key, key_len, hash);
    if (node) {
        ngx_http_omadm_delete(zone, node);
    }

    ngx_http_omadm_expire(zone, now);

    for ( ;; ) {
        node = ngx_slab_alloc_locked(zone->shpool, size);
        if (node) {
            break;
        }

        /* full: evict the least recently used entries, as limit_req does */

        if (evicted == NGX_HTTP_OMADM_EVICT_MAX
            || ngx_queue_empty(&zone->sh->queue))
        {
            ngx_shmtx_unlock(&zone->shpool->mutex);

            ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                          "omadm: could not store %uz bytes in "
                          "omadm_session_zone \"%V\"",
                          val_len, &zone->shm_zone->shm.name);
            return OMADM_ERROR;
        }

        q = ngx_queue_last(&zone->sh->queue);
        old = ngx_queue_data(q, ngx_http_omadm_node_t, queue);
        ngx_http_omadm_delete(zone, old);
        evicted++;
    }

    node->node.key = hash;
    node->expires = now + ttl;
    node->key_len = key_len;
    node->val_len = val_len;
    ngx_memcpy(node->data, key, key_len);
    ngx_memcpy(node->data + key_len, val, val_len);

    ngx_rbtree_insert(&zone->sh->rbtree, &node->node);
    ngx_queue_insert_head(&zone->sh->queue, &node->queue);

    ngx_shmtx_unlock(&zone->shpool->mutex);

    /* an undersized zone costs devices re-authentication: say so, once a
       minute per worker */

    if (evicted && now - zone->full_logged >= 60) {
        zone->full_logged = now;

        ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                      "omadm: omadm_session_zone \"%V\" is full, evicting "
                      "least recently used sessions",
                      &zone->shm_zone->shm.name);
    }

    return OMADM_OK;
}


static int
ngx_http_omadm_store_remove(void *data, const char *key, size_t key_len)
{
    ngx_http_omadm_zone_t *zone = data;

    uint32_t                hash;
    ngx_http_omadm_node_t  *node;

    hash = ngx_crc32_short((u_char *) key, key_len);

    ngx_shmtx_lock(&zone->shpool->mutex);

    node = ngx_http_omadm_lookup(zone, (u_char *) key, key_len, hash);
    if (node) {
        ngx_http_omadm_delete(zone, node);
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return node ? OMADM_OK : OMADM_NOT_FOUND;
}


static ngx_http_omadm_node_t *
ngx_http_omadm_lookup(ngx_http_omadm_zone_t *zone, u_char *key, size_t len,
    uint32_t hash)
{
    ngx_int_t               rc;
    ngx_rbtree_node_t      *node, *sentinel;
    ngx_http_omadm_node_t  *n;

    node = zone->sh->rbtree.root;
    sentinel = zone->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        /* hash == node->key */

        n = (ngx_http_omadm_node_t *) node;

        rc = ngx_memn2cmp(key, n->data, len, n->key_len);

        if (rc == 0) {
            return n;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


static void
ngx_http_omadm_delete(ngx_http_omadm_zone_t *zone,
    ngx_http_omadm_node_t *node)
{
    ngx_queue_remove(&node->queue);
    ngx_rbtree_delete(&zone->sh->rbtree, &node->node);
    ngx_slab_free_locked(zone->shpool, node);
}


/* lazily drop a few expired entries, oldest first */

static void
ngx_http_omadm_expire(ngx_http_omadm_zone_t *zone, time_t now)
{
    ngx_uint_t              n;
    ngx_queue_t            *q, *prev;
    ngx_http_omadm_node_t  *node;

    n = 0;
    q = ngx_queue_last(&zone->sh->queue);

    while (q != ngx_queue_sentinel(&zone->sh->queue)
           && n < NGX_HTTP_OMADM_EXPIRE_MAX)
    {
        prev = ngx_queue_prev(q);
        node = ngx_queue_data(q, ngx_http_omadm_node_t, queue);

        /* the queue is ordered by use, not by expiry: look a little */

        if (node->expires <= now) {
            ngx_http_omadm_delete(zone, node);
        }

        n++;
        q = prev;
    }
}


static void
ngx_http_omadm_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t      **p;
    ngx_http_omadm_node_t   *n, *t;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else { /* node->key == temp->key */

            n = (ngx_http_omadm_node_t *) node;
            t = (ngx_http_omadm_node_t *) temp;

            p = (ngx_memn2cmp(n->data, t->data, n->key_len, t->key_len) < 0)
                ? &temp->left : &temp->right;
        }

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


/* a reload with the same zone keeps its contents: take the old tree */

static ngx_int_t
ngx_http_omadm_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_omadm_zone_t *ozone = data;

    size_t                  len;
    ngx_http_omadm_zone_t  *zone;

    zone = shm_zone->data;

    if (ozone) {
        zone->sh = ozone->sh;
        zone->shpool = ozone->shpool;
        return NGX_OK;
    }

    zone->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        zone->sh = zone->shpool->data;
        return NGX_OK;
    }

    zone->sh = ngx_slab_alloc(zone->shpool, sizeof(ngx_http_omadm_shctx_t));
    if (zone->sh == NULL) {
        return NGX_ERROR;
    }

    zone->shpool->data = zone->sh;

    ngx_rbtree_init(&zone->sh->rbtree, &zone->sh->sentinel,
                    ngx_http_omadm_rbtree_insert_value);

    ngx_queue_init(&zone->sh->queue);

    len = sizeof(" in omadm_session_zone \"\"") + shm_zone->shm.name.len;

    zone->shpool->log_ctx = ngx_slab_alloc(zone->shpool, len);
    if (zone->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(zone->shpool->log_ctx, " in omadm_session_zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* running out of memory is handled by eviction, not worth a crit */
    zone->shpool->log_nomem = 0;

    return NGX_OK;
}


/* configuration */

static ngx_int_t
ngx_http_omadm_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_omadm_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static void *
ngx_http_omadm_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_omadm_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_omadm_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->zone = NULL;
     *     conf->backend = { 0, NULL };
     *     conf->server_id = { 0, NULL };
     */

    conf->auth = NGX_CONF_UNSET_UINT;
    conf->challenge = NGX_CONF_UNSET_UINT;
    conf->max_message_size = NGX_CONF_UNSET_SIZE;
    conf->max_commands = NGX_CONF_UNSET_UINT;
    conf->auth_failures = NGX_CONF_UNSET_UINT;
    conf->auth_failure_window = NGX_CONF_UNSET;
    conf->retry_after = NGX_CONF_UNSET;
    conf->xml_depth = NGX_CONF_UNSET_UINT;
    conf->xml_elements = NGX_CONF_UNSET_UINT;
    conf->xml_text = NGX_CONF_UNSET_SIZE;

    return conf;
}


static char *
ngx_http_omadm_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_omadm_loc_conf_t *prev = parent;
    ngx_http_omadm_loc_conf_t *conf = child;

    ngx_http_core_loc_conf_t  *clcf;

    ngx_conf_merge_str_value(conf->backend, prev->backend, "");
    ngx_conf_merge_uint_value(conf->auth, prev->auth, OMADM_AUTH_MD5);
    ngx_conf_merge_uint_value(conf->challenge, prev->challenge,
                              OMADM_AUTH_MD5);
    ngx_conf_merge_size_value(conf->max_message_size,
                              prev->max_message_size, 1024 * 1024);
    ngx_conf_merge_uint_value(conf->max_commands, prev->max_commands, 50);
    ngx_conf_merge_uint_value(conf->auth_failures, prev->auth_failures, 5);
    ngx_conf_merge_value(conf->auth_failure_window,
                         prev->auth_failure_window, 60);
    ngx_conf_merge_value(conf->retry_after, prev->retry_after, 30);
    ngx_conf_merge_uint_value(conf->xml_depth, prev->xml_depth, 32);
    ngx_conf_merge_uint_value(conf->xml_elements, prev->xml_elements, 20000);
    ngx_conf_merge_size_value(conf->xml_text, prev->xml_text, 1024 * 1024);
    ngx_conf_merge_str_value(conf->server_id, prev->server_id, "");

    if (conf->zone == NULL) {
        return NGX_CONF_OK;
    }

    /* checks that only matter where the endpoint is enabled */

    if (conf->zone->data == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"omadm\" uses unknown omadm_session_zone \"%V\"",
                           &conf->zone->shm.name);
        return NGX_CONF_ERROR;
    }

    if (conf->backend.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"omadm\" requires \"omadm_backend\"");
        return NGX_CONF_ERROR;
    }

    if ((conf->challenge & conf->auth) == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"omadm_challenge\" \"%s\" is not among the "
                           "schemes accepted by \"omadm_auth\"",
                           conf->challenge == OMADM_AUTH_BASIC ? "basic"
                                                               : "md5");
        return NGX_CONF_ERROR;
    }

    /*
     * Device messages are read into memory, whole and bounded: the body
     * buffer of this location is raised to omadm_max_message_size and
     * client_max_body_size is set to it, so nginx itself answers 413 to a
     * larger body, chunked ones included.  The core module's merge has
     * already run for this location, so these values stay.
     */

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->client_body_buffer_size < conf->max_message_size) {
        clcf->client_body_buffer_size = conf->max_message_size;
    }

    clcf->client_max_body_size = conf->max_message_size;

    return NGX_CONF_OK;
}


static char *
ngx_http_omadm_session_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    u_char                 *p;
    ssize_t                 size;
    ngx_int_t               ttl;
    ngx_str_t              *value, name, s;
    ngx_uint_t              i;
    ngx_shm_zone_t         *shm_zone;
    ngx_http_omadm_zone_t  *zone;

    value = cf->args->elts;

    size = 0;
    ttl = NGX_HTTP_OMADM_DEFAULT_TTL;
    ngx_str_null(&name);

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {

            name.data = value[i].data + 5;

            p = (u_char *) ngx_strchr(name.data, ':');

            if (p == NULL) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"omadm_session_zone\" has invalid zone "
                                   "size in \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            name.len = p - name.data;

            s.data = p + 1;
            s.len = value[i].data + value[i].len - s.data;

            size = ngx_parse_size(&s);

            if (size == NGX_ERROR) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"omadm_session_zone\" has invalid zone "
                                   "size \"%V\"", &s);
                return NGX_CONF_ERROR;
            }

            if (size < (ssize_t) (8 * ngx_pagesize)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"omadm_session_zone\" zone \"%V\" is "
                                   "too small", &name);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "ttl=", 4) == 0) {

            s.data = value[i].data + 4;
            s.len = value[i].len - 4;

            ttl = ngx_parse_time(&s, 1);

            if (ttl == NGX_ERROR || ttl == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"omadm_session_zone\" has invalid ttl "
                                   "\"%V\"", &s);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"omadm_session_zone\" has invalid parameter "
                           "\"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"omadm_session_zone\" must have \"zone\" "
                           "parameter");
        return NGX_CONF_ERROR;
    }

    zone = ngx_pcalloc(cf->pool, sizeof(ngx_http_omadm_zone_t));
    if (zone == NULL) {
        return NGX_CONF_ERROR;
    }

    zone->ttl = ttl;

    shm_zone = ngx_shared_memory_add(cf, &name, size, &ngx_http_omadm_module);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate omadm_session_zone \"%V\"", &name);
        return NGX_CONF_ERROR;
    }

    zone->shm_zone = shm_zone;

    shm_zone->init = ngx_http_omadm_init_zone;
    shm_zone->data = zone;

    return NGX_CONF_OK;
}


static char *
ngx_http_omadm(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_omadm_loc_conf_t *olcf = conf;

    ngx_str_t                 *value;
    ngx_http_core_loc_conf_t  *clcf;

    if (olcf->zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    olcf->zone = ngx_shared_memory_add(cf, &value[1], 0,
                                       &ngx_http_omadm_module);
    if (olcf->zone == NULL) {
        return NGX_CONF_ERROR;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_omadm_handler;

    return NGX_CONF_OK;
}


static char *
ngx_http_omadm_set_backend(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_omadm_loc_conf_t *olcf = conf;

    ngx_str_t  *value;

    if (olcf->backend.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0 || value[1].data[0] != '/') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"omadm_backend\" has invalid value \"%V\", "
                           "it must be a URI prefix starting with \"/\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    olcf->backend = value[1];

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_omadm_scheme(ngx_str_t *name)
{
    ngx_http_omadm_scheme_t  *s;

    for (s = ngx_http_omadm_schemes; s->name.len; s++) {
        if (s->name.len == name->len
            && ngx_strncasecmp(s->name.data, name->data, name->len) == 0)
        {
            return s->value;
        }
    }

    return NGX_ERROR;
}


static char *
ngx_http_omadm_set_auth(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_omadm_loc_conf_t *olcf = conf;

    ngx_int_t    scheme;
    ngx_str_t   *value;
    ngx_uint_t   i;

    if (olcf->auth != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    olcf->auth = 0;

    for (i = 1; i < cf->args->nelts; i++) {
        scheme = ngx_http_omadm_scheme(&value[i]);

        if (scheme == NGX_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"omadm_auth\" has invalid value \"%V\"",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        olcf->auth |= scheme;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_omadm_set_challenge(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_omadm_loc_conf_t *olcf = conf;

    ngx_int_t   scheme;
    ngx_str_t  *value;

    if (olcf->challenge != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    scheme = ngx_http_omadm_scheme(&value[1]);

    if (scheme == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"omadm_challenge\" has invalid value \"%V\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    olcf->challenge = scheme;

    return NGX_CONF_OK;
}


static char *
ngx_http_omadm_set_max_commands(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_omadm_loc_conf_t *olcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (olcf->max_commands != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = ngx_atoi(value[1].data, value[1].len);

    if (n == NGX_ERROR || n == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"omadm_max_commands\" has invalid value \"%V\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    olcf->max_commands = n;

    return NGX_CONF_OK;
}


static char *
ngx_http_omadm_set_auth_failures(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_omadm_loc_conf_t *olcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (olcf->auth_failures != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    n = ngx_atoi(value[1].data, value[1].len);

    if (n == NGX_ERROR || n == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"omadm_auth_failures\" has invalid value \"%V\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    olcf->auth_failures = n;

    n = ngx_parse_time(&value[2], 1);

    if (n == NGX_ERROR || n == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"omadm_auth_failures\" has invalid window \"%V\"",
                           &value[2]);
        return NGX_CONF_ERROR;
    }

    olcf->auth_failure_window = n;

    return NGX_CONF_OK;
}


static char *
ngx_http_omadm_set_xml_limits(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_omadm_loc_conf_t *olcf = conf;

    ssize_t      size;
    ngx_int_t    n;
    ngx_str_t   *value, s;
    ngx_uint_t   i;

    if (olcf->xml_depth != NGX_CONF_UNSET_UINT
        || olcf->xml_elements != NGX_CONF_UNSET_UINT
        || olcf->xml_text != NGX_CONF_UNSET_SIZE)
    {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "depth=", 6) == 0) {
            n = ngx_atoi(value[i].data + 6, value[i].len - 6);

            if (n == NGX_ERROR || n == 0) {
                goto invalid;
            }

            olcf->xml_depth = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "elements=", 9) == 0) {
            n = ngx_atoi(value[i].data + 9, value[i].len - 9);

            if (n == NGX_ERROR || n == 0) {
                goto invalid;
            }

            olcf->xml_elements = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "text=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            size = ngx_parse_size(&s);

            if (size == NGX_ERROR || size == 0) {
                goto invalid;
            }

            olcf->xml_text = size;
            continue;
        }

        goto invalid;
    }

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"omadm_xml_limits\" has invalid value \"%V\"",
                       &value[i]);
    return NGX_CONF_ERROR;
}


static char *
ngx_http_omadm_set_server_id(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_omadm_loc_conf_t *olcf = conf;

    u_char     *p;
    ngx_str_t  *value;

    if (olcf->server_id.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0
        || ngx_strlchr(value[1].data, value[1].data + value[1].len, '?'))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"omadm_server_id\" has invalid value \"%V\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    /* NUL-terminated for the core's convenience */

    p = ngx_pnalloc(cf->pool, value[1].len + 1);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(p, value[1].data, value[1].len);
    p[value[1].len] = '\0';

    olcf->server_id.data = p;
    olcf->server_id.len = value[1].len;

    return NGX_CONF_OK;
}
