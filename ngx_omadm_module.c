
/*
 * ngx_omadm: an OMA DM server inside nginx.
 *
 * This file defines the module: its directives and their configuration,
 * which merge_loc_conf turns once into the core's omadm_config_t.  The rest
 * of the nginx side is one file per concern under ngx/ (see
 * ngx/ngx_http_omadm_module.h).  Everything that is OMA DM lives in the
 * C++ core behind include/omadm.h.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_omadm_module.h"


#define NGX_HTTP_OMADM_MAX_COUNT          1000000
#define NGX_HTTP_OMADM_NODE_ID_MAX        32


/* a name=value parameter of omadm_xml_limits: where it goes, what it is */
typedef struct {
    ngx_str_t                         name;
    size_t                            offset;   /* in omadm_limits_t */
    ngx_uint_t                        is_size;  /* a size, else a count */
} ngx_http_omadm_param_t;


static ngx_int_t ngx_http_omadm_init(ngx_conf_t *cf);
static void *ngx_http_omadm_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_omadm_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_omadm_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_omadm_build_core(ngx_conf_t *cf,
    ngx_http_omadm_loc_conf_t *conf);
static char *ngx_http_omadm_set_zone_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_omadm_set_schemes(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_omadm_set_count_slot(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_omadm_set_auth_failures(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_omadm_set_xml_limits(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_omadm_endpoint(ngx_conf_t *cf, void *post, void *data);
static char *ngx_http_omadm_check_backend(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_omadm_check_server_id(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_omadm_check_message_size(ngx_conf_t *cf, void *post,
    void *data);
static char *ngx_http_omadm_check_node_id(ngx_conf_t *cf, void *post,
    void *data);
static ngx_int_t ngx_http_omadm_parse_count(ngx_str_t *s);


static ngx_conf_enum_t  ngx_http_omadm_schemes[] = {
    { ngx_string("basic"), OMADM_AUTH_BASIC },
    { ngx_string("md5"), OMADM_AUTH_MD5 },
    { ngx_string("hmac"), OMADM_AUTH_HMAC },
    { ngx_null_string, 0 }
};


/* omadm_server_auth: the server's own Cred toward devices */
static ngx_conf_enum_t  ngx_http_omadm_server_auth[] = {
    { ngx_string("off"), 0 },
    { ngx_string("md5"), OMADM_AUTH_MD5 },
    { ngx_string("basic"), OMADM_AUTH_BASIC },
    { ngx_null_string, 0 }
};


/* omadm_xml_limits depth=N elements=N text=size */
static ngx_http_omadm_param_t  ngx_http_omadm_xml_params[] = {
    { ngx_string("depth="), offsetof(omadm_limits_t, max_depth), 0 },
    { ngx_string("elements="), offsetof(omadm_limits_t, max_elements), 0 },
    { ngx_string("text="), offsetof(omadm_limits_t, max_text), 1 },
    { ngx_null_string, 0, 0 }
};


/* a count directive that also takes "off" (as 0) */
static ngx_uint_t  ngx_http_omadm_count_or_off = 1;


static ngx_conf_post_t  ngx_http_omadm_endpoint_post =
    { ngx_http_omadm_endpoint };

static ngx_conf_post_t  ngx_http_omadm_backend_post =
    { ngx_http_omadm_check_backend };

static ngx_conf_post_t  ngx_http_omadm_server_id_post =
    { ngx_http_omadm_check_server_id };

static ngx_conf_post_handler_pt  ngx_http_omadm_max_message_size_post =
    ngx_http_omadm_check_message_size;

static ngx_conf_post_t  ngx_http_omadm_node_id_post =
    { ngx_http_omadm_check_node_id };


static ngx_command_t  ngx_http_omadm_commands[] = {

    { ngx_string("omadm_session_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_omadm_session_zone,
      0,
      0,
      NULL },

    { ngx_string("omadm"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_omadm_set_zone_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_omadm_loc_conf_t, zone),
      &ngx_http_omadm_endpoint_post },

    { ngx_string("omadm_backend"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_omadm_loc_conf_t, backend),
      &ngx_http_omadm_backend_post },

    { ngx_string("omadm_auth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_omadm_set_schemes,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_omadm_loc_conf_t, auth),
      &ngx_http_omadm_schemes },

    { ngx_string("omadm_challenge"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_omadm_set_schemes,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_omadm_loc_conf_t, challenge),
      &ngx_http_omadm_schemes },

    { ngx_string("omadm_server_auth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_omadm_set_schemes,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_omadm_loc_conf_t, server_auth),
      &ngx_http_omadm_server_auth },

    { ngx_string("omadm_max_message_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_omadm_loc_conf_t, max_message_size),
      &ngx_http_omadm_max_message_size_post },

    { ngx_string("omadm_max_object_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_omadm_loc_conf_t, max_object_size),
      NULL },

    { ngx_string("omadm_object_zone"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_omadm_set_zone_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_omadm_loc_conf_t, object_zone),
      NULL },

    { ngx_string("omadm_max_commands"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_omadm_set_count_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_omadm_loc_conf_t, max_commands),
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

    { ngx_string("omadm_backend_limit"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_omadm_set_count_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_omadm_loc_conf_t, backend_limit),
      &ngx_http_omadm_count_or_off },

    { ngx_string("omadm_xml_limits"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_omadm_set_xml_limits,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_omadm_loc_conf_t, xml_limits),
      &ngx_http_omadm_xml_params },

    { ngx_string("omadm_server_id"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_omadm_loc_conf_t, server_id),
      &ngx_http_omadm_server_id_post },

    { ngx_string("omadm_node_id"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_omadm_main_conf_t, node_id),
      &ngx_http_omadm_node_id_post },

    { ngx_string("omadm_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_omadm_status,
      0,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_omadm_module_ctx = {
    ngx_http_omadm_add_variables,          /* preconfiguration */
    ngx_http_omadm_init,                   /* postconfiguration */

    ngx_http_omadm_create_main_conf,       /* create main configuration */
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


static ngx_int_t
ngx_http_omadm_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PRECONTENT_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_omadm_backend_length;

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_omadm_count_message;

    return NGX_OK;
}


static void *
ngx_http_omadm_create_main_conf(ngx_conf_t *cf)
{
    /* set by ngx_pcalloc(): omcf->node_id = { 0, NULL } */
    return ngx_pcalloc(cf->pool, sizeof(ngx_http_omadm_main_conf_t));
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
     *     conf->backend = { 0, NULL };
     *     conf->server_id = { 0, NULL };
     *     conf->core = { 0 }, conf->sessions = ... = { 0 };
     *     conf->slots = NULL;
     */

    conf->zone = NGX_CONF_UNSET_PTR;
    conf->object_zone = NGX_CONF_UNSET_PTR;
    conf->auth = NGX_CONF_UNSET_UINT;
    conf->challenge = NGX_CONF_UNSET_UINT;
    conf->max_message_size = NGX_CONF_UNSET_SIZE;
    conf->max_object_size = NGX_CONF_UNSET_SIZE;
    conf->max_commands = NGX_CONF_UNSET_UINT;
    conf->auth_failures = NGX_CONF_UNSET_UINT;
    conf->auth_failure_window = NGX_CONF_UNSET;
    conf->retry_after = NGX_CONF_UNSET;
    conf->server_auth = NGX_CONF_UNSET_UINT;
    conf->backend_limit = NGX_CONF_UNSET_UINT;
    conf->xml_limits.max_depth = NGX_CONF_UNSET_SIZE;
    conf->xml_limits.max_elements = NGX_CONF_UNSET_SIZE;
    conf->xml_limits.max_text = NGX_CONF_UNSET_SIZE;

    return conf;
}


static char *
ngx_http_omadm_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_omadm_loc_conf_t *prev = parent;
    ngx_http_omadm_loc_conf_t *conf = child;

    ngx_http_core_loc_conf_t  *clcf;

    /* "omadm" makes this location the endpoint: it is not inherited */
    if (conf->zone == NGX_CONF_UNSET_PTR) {
        conf->zone = NULL;
    }

    ngx_conf_merge_str_value(conf->backend, prev->backend, "");
    ngx_conf_merge_uint_value(conf->auth, prev->auth, OMADM_AUTH_MD5);
    ngx_conf_merge_uint_value(conf->challenge, prev->challenge,
                              OMADM_AUTH_MD5);
    ngx_conf_merge_size_value(conf->max_message_size,
                              prev->max_message_size, 1024 * 1024);
    ngx_conf_merge_size_value(conf->max_object_size,
                              prev->max_object_size, 4 * 1024 * 1024);
    ngx_conf_merge_ptr_value(conf->object_zone, prev->object_zone, NULL);
    ngx_conf_merge_uint_value(conf->max_commands, prev->max_commands, 50);
    ngx_conf_merge_uint_value(conf->auth_failures, prev->auth_failures, 5);
    ngx_conf_merge_value(conf->auth_failure_window,
                         prev->auth_failure_window, 60);
    ngx_conf_merge_value(conf->retry_after, prev->retry_after, 30);
    ngx_conf_merge_uint_value(conf->server_auth, prev->server_auth, 0);
    ngx_conf_merge_uint_value(conf->backend_limit, prev->backend_limit, 0);
    ngx_conf_merge_size_value(conf->xml_limits.max_depth,
                              prev->xml_limits.max_depth,
                              OMADM_DEFAULT_MAX_DEPTH);
    ngx_conf_merge_size_value(conf->xml_limits.max_elements,
                              prev->xml_limits.max_elements,
                              OMADM_DEFAULT_MAX_ELEMENTS);
    ngx_conf_merge_size_value(conf->xml_limits.max_text,
                              prev->xml_limits.max_text,
                              OMADM_DEFAULT_MAX_TEXT);
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

    if (conf->object_zone && conf->object_zone->data == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"omadm_object_zone\" uses unknown "
                           "omadm_session_zone \"%V\"",
                           &conf->object_zone->shm.name);
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
                           : conf->challenge == OMADM_AUTH_HMAC ? "hmac"
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

    return ngx_http_omadm_build_core(cf, conf);
}


/*
 * The core's configuration of an endpoint, made once: every exchange of
 * the location reads it (and its stores) in place.  The server id is the
 * request's where omadm_server_id is not set (ngx_http_omadm_handler.c).
 */

static char *
ngx_http_omadm_build_core(ngx_conf_t *cf, ngx_http_omadm_loc_conf_t *conf)
{
    omadm_config_t              *core;
    ngx_http_omadm_zone_t       *zone;
    ngx_http_omadm_main_conf_t  *omcf;

    zone = conf->zone->data;
    core = &conf->core;
    omcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_omadm_module);

    core->auth_accept = conf->auth;
    core->auth_challenge = conf->challenge;
    core->server_auth = conf->server_auth;
    core->session_ttl = zone->ttl;
    core->max_auth_failures = conf->auth_failures;
    core->auth_failure_window = conf->auth_failure_window;
    core->max_commands = conf->max_commands;
    core->max_message_size = conf->max_message_size;
    core->max_object_size = conf->max_object_size;
    core->limits = conf->xml_limits;
    core->retry_after = conf->retry_after;

    if (conf->server_id.len) {
        core->server_id = (const char *) conf->server_id.data;
        core->server_id_len = conf->server_id.len;
        core->resp_uri = core->server_id;
        core->resp_uri_len = core->server_id_len;
    }

    if (omcf->node_id.len) {
        core->node_id = (const char *) omcf->node_id.data;
        core->node_id_len = omcf->node_id.len;
    }

    ngx_http_omadm_store_init(&conf->sessions, zone);

    ngx_http_omadm_object_store_init(&conf->objects,
                                     conf->object_zone
                                     ? conf->object_zone->data : zone);
    core->object_store = &conf->objects;

    ngx_http_omadm_counter_store_init(&conf->counters, zone);
    core->counter_store = &conf->counters;

    /* credential copies take only free room: no outsider's challenge may
       push a session out; sessions evict them as any.  The copy a
       successful login leaves evicts as that login's session does. */

    ngx_http_omadm_object_store_init(&conf->credentials, zone);
    core->credential_store = &conf->credentials;
    ngx_http_omadm_store_init(&conf->login_credentials, zone);
    core->login_credential_store = &conf->login_credentials;

    if (conf->backend_limit) {
        conf->slots = ngx_pcalloc(cf->pool, sizeof(ngx_http_omadm_slots_t));
        if (conf->slots == NULL) {
            return NGX_CONF_ERROR;
        }

        conf->slots->limit = conf->backend_limit;
    }

    return NGX_CONF_OK;
}


/*
 * omadm and omadm_object_zone: an omadm_session_zone by name, found when
 * the zones are known (merge_loc_conf checks it exists).  A post handler,
 * if any, runs on the zone found.
 */

static char *
ngx_http_omadm_set_zone_slot(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t         *value;
    ngx_shm_zone_t   **zp;
    ngx_conf_post_t   *post;

    zp = (ngx_shm_zone_t **) (p + cmd->offset);

    if (*zp != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    /* the counters' zone before any session zone, whatever the order of
       the directives: zones are initialized in the order they are added */

    if (ngx_http_omadm_status_zone(cf) == NULL) {
        return NGX_CONF_ERROR;
    }

    *zp = ngx_shared_memory_add(cf, &value[1], 0, &ngx_http_omadm_module);
    if (*zp == NULL) {
        return NGX_CONF_ERROR;
    }

    if (cmd->post) {
        post = cmd->post;
        return post->post_handler(cf, post, zp);
    }

    return NGX_CONF_OK;
}


/* "omadm": the location is the device endpoint */

static char *
ngx_http_omadm_endpoint(ngx_conf_t *cf, void *post, void *data)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_omadm_handler;

    return NGX_CONF_OK;
}


/*
 * omadm_auth (a set of schemes), omadm_challenge (one) and
 * omadm_server_auth: an OMADM_AUTH_* bitmask from the enum in cmd->post.
 * Not ngx_conf_set_bitmask_slot(): its message does not name the
 * directive, and a repeated directive would add to the set silently.
 */

static char *
ngx_http_omadm_set_schemes(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t        *value;
    ngx_uint_t       *np, i;
    ngx_conf_enum_t  *e;

    np = (ngx_uint_t *) (p + cmd->offset);

    if (*np != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    *np = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        for (e = cmd->post; e->name.len; e++) {
            if (e->name.len == value[i].len
                && ngx_strcasecmp(e->name.data, value[i].data) == 0)
            {
                break;
            }
        }

        if (e->name.len == 0) {
            return ngx_http_omadm_conf_invalid(cf, "value", &value[i]);
        }

        *np |= e->value;
    }

    return NGX_CONF_OK;
}


/*
 * As ngx_conf_set_num_slot() with a lower bound of 1, but every error names
 * the directive and the value, as the other omadm directives' do (nginx's
 * own say "invalid number" or "value must be equal or more than 1").  With
 * cmd->post, "off" is 0 (omadm_backend_limit: off by default, like nginx's
 * own limit_conn, because the right number is the backend's capacity
 * divided by worker_processes, which only the operator knows).
 */

static char *
ngx_http_omadm_set_count_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    char  *p = conf;

    ngx_int_t    n;
    ngx_str_t   *value;
    ngx_uint_t  *np;

    np = (ngx_uint_t *) (p + cmd->offset);

    if (*np != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cmd->post && ngx_strcmp(value[1].data, "off") == 0) {
        *np = 0;
        return NGX_CONF_OK;
    }

    n = ngx_http_omadm_parse_count(&value[1]);
    if (n == NGX_ERROR) {
        return ngx_http_omadm_conf_invalid(cf, "value", &value[1]);
    }

    *np = n;

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

    n = ngx_http_omadm_parse_count(&value[1]);
    if (n == NGX_ERROR) {
        return ngx_http_omadm_conf_invalid(cf, "value", &value[1]);
    }

    olcf->auth_failures = n;

    n = ngx_parse_time(&value[2], 1);
    if (n == NGX_ERROR || n == 0) {
        return ngx_http_omadm_conf_invalid(cf, "window", &value[2]);
    }

    olcf->auth_failure_window = n;

    return NGX_CONF_OK;
}


/*
 * omadm_xml_limits: name=value parameters from the table in cmd->post,
 * any of them; the others are inherited.
 */

static char *
ngx_http_omadm_set_xml_limits(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ssize_t                  n;
    ngx_str_t               *value, s;
    ngx_uint_t               i;
    omadm_limits_t          *limits;
    ngx_http_omadm_param_t  *param;

    limits = (omadm_limits_t *) (p + cmd->offset);

    if (limits->max_depth != NGX_CONF_UNSET_SIZE
        || limits->max_elements != NGX_CONF_UNSET_SIZE
        || limits->max_text != NGX_CONF_UNSET_SIZE)
    {
        return "is duplicate";
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        for (param = cmd->post; param->name.len; param++) {
            if (ngx_http_omadm_conf_param(&value[i], (char *) param->name.data,
                                          &s)
                == NGX_OK)
            {
                break;
            }
        }

        if (param->name.len == 0) {
            return ngx_http_omadm_conf_invalid(cf, "value", &value[i]);
        }

        n = param->is_size ? ngx_parse_size(&s)
                           : ngx_http_omadm_parse_count(&s);

        if (n == NGX_ERROR || n == 0) {
            return ngx_http_omadm_conf_invalid(cf, "value", &value[i]);
        }

        *(size_t *) ((char *) limits + param->offset) = n;
    }

    return NGX_CONF_OK;
}


/* the prefix of an internal location: subrequest URIs are built on it */

static char *
ngx_http_omadm_check_backend(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *backend = data;

    if (backend->len == 0 || backend->data[0] != '/') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"omadm_backend\" has invalid value \"%V\", "
                           "it must be a URI prefix starting with \"/\"",
                           backend);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* one form of RespURI for every location: <server id>?s=<token> */

static char *
ngx_http_omadm_check_server_id(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *id = data;

    if (id->len == 0 || ngx_strlchr(id->data, id->data + id->len, '?')) {
        return ngx_http_omadm_conf_invalid(cf, "value", id);
    }

    return NGX_CONF_OK;
}


/*
 * omadm_node_id: a RespURI query argument, an nginx variable and a label
 * value as it is, so short and of characters none of them escapes.
 */

static char *
ngx_http_omadm_check_node_id(ngx_conf_t *cf, void *post, void *data)
{
    ngx_str_t  *id = data;

    u_char      c;
    size_t      i;

    for (i = 0; i < id->len; i++) {
        c = id->data[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_' || c == '-'))
        {
            break;
        }
    }

    if (id->len == 0 || i < id->len || id->len > NGX_HTTP_OMADM_NODE_ID_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"omadm_node_id\" has invalid value \"%V\", "
                           "it must be 1 to %d of the characters "
                           "A-Z a-z 0-9 _ -", id, NGX_HTTP_OMADM_NODE_ID_MAX);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* 0 would refuse every message (and mean "unlimited" to nginx's own limit) */

static char *
ngx_http_omadm_check_message_size(ngx_conf_t *cf, void *post, void *data)
{
    size_t  *sp = data;

    ngx_str_t  *value;

    if (*sp == 0) {
        value = cf->args->elts;
        return ngx_http_omadm_conf_invalid(cf, "value", &value[1]);
    }

    return NGX_CONF_OK;
}


/* a count of at least 1; ngx_atoi() already refuses signs and junk */

static ngx_int_t
ngx_http_omadm_parse_count(ngx_str_t *s)
{
    ngx_int_t  n;

    n = ngx_atoi(s->data, s->len);

    /* the core keeps counts in an unsigned int: refuse what would not fit */
    return (n < 1 || n > NGX_HTTP_OMADM_MAX_COUNT) ? NGX_ERROR : n;
}


/* the value of a "name=value" parameter, if arg is one */

ngx_int_t
ngx_http_omadm_conf_param(ngx_str_t *arg, char *name, ngx_str_t *value)
{
    size_t  len;

    len = ngx_strlen(name);

    if (arg->len < len || ngx_strncmp(arg->data, name, len) != 0) {
        return NGX_DECLINED;
    }

    value->data = arg->data + len;
    value->len = arg->len - len;

    return NGX_OK;
}


/* "omadm_x" has invalid <what> "<value>": in the directive's own words */

char *
ngx_http_omadm_conf_invalid(ngx_conf_t *cf, char *what, ngx_str_t *value)
{
    ngx_str_t  *args;

    args = cf->args->elts;

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\" has invalid %s \"%V\"",
                       &args[0], what, value);

    return NGX_CONF_ERROR;
}
