
/*
 * ngx_omadm: the $omadm_* variables, for access logs and the like.  Each
 * one is a value the core's exchange keeps for the device message, but
 * $omadm_node_id, the node's omadm_node_id.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_omadm_module.h"


static ngx_int_t ngx_http_omadm_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_omadm_node_id_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


/* not cacheable: the values change as the exchange runs */

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

    { ngx_string("omadm_node_id"), NULL, ngx_http_omadm_node_id_variable,
      0, 0, 0 },

      ngx_http_null_variable
};


ngx_int_t
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


/* the exchange lives on the main request; subrequests read it there */

static ngx_int_t
ngx_http_omadm_variable(ngx_http_request_t *r, ngx_http_variable_value_t *v,
    uintptr_t data)
{
    size_t                 len;
    const char            *p;
    ngx_http_omadm_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_omadm_module);

    len = 0;

    if (ctx != NULL && ctx->shed) {
        /* shed by omadm_backend_limit before any exchange existed */
        if (data == OMADM_VAR_AUTH) {
            p = omadm_verdict_name(OMADM_VERDICT_UNDECIDED, &len);

        } else if (data == OMADM_VAR_ERROR) {
            p = "omadm_backend_limit reached";
            len = sizeof("omadm_backend_limit reached") - 1;

        } else {
            p = NULL;
        }

    } else if (ctx != NULL && ctx->ex != NULL) {
        p = omadm_exchange_var(ctx->ex, (int) data, &len);

    } else {
        p = NULL;
    }

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


/* the same for every request of the configuration */

static ngx_int_t
ngx_http_omadm_node_id_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_omadm_main_conf_t  *omcf;

    omcf = ngx_http_get_module_main_conf(r, ngx_http_omadm_module);

    if (omcf->node_id.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = omcf->node_id.data;
    v->len = omcf->node_id.len;
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;

    return NGX_OK;
}
