
/*
 * ngx_omadm: what a device message brings besides its SyncML, read from
 * the request for the core: the encoding its Content-Type names, its body
 * (in memory), the URL it used (the server's id unless omadm_server_id
 * says otherwise) and its x-syncml-hmac header.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_omadm_module.h"


static ngx_int_t ngx_http_omadm_request_server_id(ngx_http_request_t *r,
    omadm_exchange_t *ex);
static ngx_int_t ngx_http_omadm_set_hmac(ngx_http_request_t *r,
    omadm_exchange_t *ex);


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


/* the OMADM_ENC_* of the request's Content-Type, or NGX_DECLINED */

ngx_int_t
ngx_http_omadm_encoding(ngx_http_request_t *r)
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


/*
 * The body is kept in memory by the location's client_body_buffer_size
 * (see merge_loc_conf); it normally arrives as one buffer.
 */

ngx_int_t
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


/*
 * Without omadm_server_id, the server's id and RespURI are the URL the
 * device used: scheme://host[:port]/uri.
 */

static ngx_int_t
ngx_http_omadm_request_server_id(ngx_http_request_t *r,
    omadm_exchange_t *ex)
{
    u_char                     *p, *id;
    ngx_str_t                   scheme, host;
    ngx_uint_t                  port, default_port;
    ngx_http_core_srv_conf_t   *cscf;
    ngx_http_omadm_loc_conf_t  *olcf;

    olcf = ngx_http_get_module_loc_conf(r, ngx_http_omadm_module);

    if (olcf->server_id.len) {
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

    id = ngx_pnalloc(r->pool, scheme.len + sizeof("://:65535") - 1
                              + host.len + r->uri.len);
    if (id == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(id, "%V://%V", &scheme, &host);

    if (port != default_port) {
        p = ngx_sprintf(p, ":%ui", port);
    }

    p = ngx_cpymem(p, r->uri.data, r->uri.len);

    return (omadm_exchange_set_server_id(ex, (const char *) id, p - id)
            == OMADM_OK) ? NGX_OK : NGX_ERROR;
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

    return (omadm_exchange_set_hmac(ex, (const char *) found.data, found.len)
            == OMADM_OK) ? NGX_OK : NGX_ERROR;
}


/*
 * What the exchange needs of the request besides its body: x-syncml-hmac,
 * the server id, and the client address that failed logins are counted
 * per (so that an outsider throttles itself, not the device).
 */

ngx_int_t
ngx_http_omadm_describe_request(ngx_http_request_t *r, omadm_exchange_t *ex)
{
    const char  *what;

    if (ngx_http_omadm_set_hmac(r, ex) != NGX_OK) {
        what = "its x-syncml-hmac";

    } else if (ngx_http_omadm_request_server_id(r, ex) != NGX_OK) {
        what = "the URL it used";

    } else if (omadm_exchange_set_peer(ex,
                   (const char *) r->connection->addr_text.data,
                   r->connection->addr_text.len)
               != OMADM_OK)
    {
        what = "its client address";

    } else {
        return NGX_OK;
    }

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "omadm: cannot give the exchange %s (out of memory?)",
                  what);

    return NGX_ERROR;
}
