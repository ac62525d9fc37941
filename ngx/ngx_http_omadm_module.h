
/*
 * ngx_omadm: what the module's own C files share.  The C++ core never sees
 * this header; it knows only include/omadm.h.
 *
 *   ngx_omadm_module.c           the module, its directives, configuration
 *   ngx/ngx_http_omadm_handler.c the content handler: admission, the run
 *                                loop over the core's actions, the answer
 *   ngx/ngx_http_omadm_request.c what the request brings: encoding, body,
 *                                the URL used, x-syncml-hmac
 *   ngx/ngx_http_omadm_backend.c backend calls as subrequests
 *   ngx/ngx_http_omadm_shed.c    omadm_backend_limit: load shedding
 *   ngx/ngx_http_omadm_zone.c    omadm_session_zone: the shared store
 *   ngx/ngx_http_omadm_variables.c  $omadm_*
 *   ngx/ngx_http_omadm_counters.c   the node's counters, in shared memory
 *   ngx/ngx_http_omadm_status.c  omadm_status: the counters for Prometheus
 */


#ifndef _NGX_HTTP_OMADM_MODULE_H_INCLUDED_
#define _NGX_HTTP_OMADM_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "omadm.h"


/* the tree and LRU queue in shared memory, private to the zone's file */
typedef struct ngx_http_omadm_shctx_s  ngx_http_omadm_shctx_t;


typedef struct ngx_http_omadm_zone_s  ngx_http_omadm_zone_t;


/* one session zone's counters in the status zone (counters.c) */
typedef struct ngx_http_omadm_stats_s  ngx_http_omadm_stats_t;


/* the http{} level: what names this nginx */
typedef struct {
    ngx_str_t                         node_id;       /* omadm_node_id */
} ngx_http_omadm_main_conf_t;


/* an omadm_store_t's context: the zone, and how its puts make room */
typedef struct {
    ngx_http_omadm_zone_t            *zone;
    ngx_uint_t                        how;     /* ngx_http_omadm_put_e */
} ngx_http_omadm_view_t;


/* one omadm_session_zone, as each worker sees it (shm_zone->data) */
struct ngx_http_omadm_zone_s {
    ngx_http_omadm_shctx_t           *sh;
    ngx_slab_pool_t                  *shpool;
    time_t                            ttl;
    ngx_shm_zone_t                   *shm_zone;
    time_t                            full_logged;  /* per worker */
    ngx_shm_zone_t                   *status;       /* the counters' zone */
    ngx_http_omadm_stats_t           *stats;        /* this zone's there,
                                                       NULL: none */
    ngx_http_omadm_view_t             views[3];     /* sessions, objects,
                                                       counters */
};


/* omadm_backend_limit's count of device messages in progress, see shed.c */
typedef struct {
    ngx_uint_t                        limit;
    ngx_uint_t                        busy;
} ngx_http_omadm_slots_t;


typedef struct {
    ngx_shm_zone_t                   *zone;          /* omadm */
    ngx_shm_zone_t                   *object_zone;   /* omadm_object_zone,
                                                        NULL: zone */
    ngx_str_t                         backend;       /* omadm_backend */
    ngx_uint_t                        auth;          /* OMADM_AUTH_* set */
    ngx_uint_t                        challenge;
    ngx_uint_t                        server_auth;   /* omadm_server_auth */
    size_t                            max_message_size;
    size_t                            max_object_size;
    ngx_uint_t                        max_commands;
    ngx_uint_t                        auth_failures;
    time_t                            auth_failure_window;
    time_t                            retry_after;
    omadm_limits_t                    xml_limits;
    ngx_str_t                         server_id;
    ngx_uint_t                        backend_limit; /* 0: off */

    /* built once by merge_loc_conf where "omadm" is set */
    omadm_config_t                    core;
    omadm_store_t                     sessions;
    omadm_store_t                     objects;
    omadm_store_t                     counters;
    omadm_store_t                     credentials;   /* in zone, evicting
                                                        nothing */
    omadm_store_t                     login_credentials; /* in zone,
                                                        evicting sessions */
    ngx_http_omadm_slots_t           *slots;         /* NULL: no limit */
} ngx_http_omadm_loc_conf_t;


/* per device message; also read by the $omadm_* variables */
typedef struct {
    omadm_exchange_t                 *ex;
    ngx_str_t                         uri;     /* of the pending backend
                                                  subrequest, for logs */
    ngx_http_request_t               *sr;      /* that subrequest */
    off_t                             sr_body_len;
    ngx_http_omadm_slots_t           *slot;    /* the omadm_backend_limit
                                                  slot held, or NULL */
    ngx_msec_t                        sr_start;  /* when it was started */
    ngx_uint_t                        sr_call;   /* its contract call, an
                                                  ngx_http_omadm_call_e */
    unsigned                          waiting:1;
    unsigned                          backend_done:1;
    unsigned                          shed:1;  /* refused by
                                                  omadm_backend_limit */
} ngx_http_omadm_ctx_t;


/* ngx_omadm_module.c: directive helpers shared with the zone's */
ngx_int_t ngx_http_omadm_conf_param(ngx_str_t *arg, char *name,
    ngx_str_t *value);
char *ngx_http_omadm_conf_invalid(ngx_conf_t *cf, char *what,
    ngx_str_t *value);

/* ngx_http_omadm_handler.c */
ngx_int_t ngx_http_omadm_handler(ngx_http_request_t *r);
void ngx_http_omadm_run(ngx_http_request_t *r, ngx_http_omadm_ctx_t *ctx);
ngx_int_t ngx_http_omadm_send(ngx_http_request_t *r, u_char *body,
    size_t len);
ngx_int_t ngx_http_omadm_add_header(ngx_http_request_t *r, const char *key,
    size_t key_len, ngx_str_t *value);

/* ngx_http_omadm_request.c */
ngx_int_t ngx_http_omadm_encoding(ngx_http_request_t *r);
ngx_int_t ngx_http_omadm_read_body(ngx_http_request_t *r, ngx_str_t *body);
ngx_int_t ngx_http_omadm_describe_request(ngx_http_request_t *r,
    omadm_exchange_t *ex);

/* ngx_http_omadm_backend.c */
ngx_int_t ngx_http_omadm_backend(ngx_http_request_t *r,
    ngx_http_omadm_ctx_t *ctx, omadm_action_t *act);
ngx_int_t ngx_http_omadm_backend_length(ngx_http_request_t *r);

/* ngx_http_omadm_shed.c */
ngx_uint_t ngx_http_omadm_busy(ngx_http_request_t *r);
ngx_int_t ngx_http_omadm_shed(ngx_http_request_t *r);
void ngx_http_omadm_take_slot(ngx_http_request_t *r,
    ngx_http_omadm_ctx_t *ctx);
void ngx_http_omadm_release(ngx_http_omadm_ctx_t *ctx);

/* ngx_http_omadm_zone.c */
char *ngx_http_omadm_session_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
void ngx_http_omadm_store_init(omadm_store_t *store,
    ngx_http_omadm_zone_t *zone);
void ngx_http_omadm_object_store_init(omadm_store_t *store,
    ngx_http_omadm_zone_t *zone);
void ngx_http_omadm_counter_store_init(omadm_store_t *store,
    ngx_http_omadm_zone_t *zone);

/* ngx_http_omadm_variables.c */
ngx_int_t ngx_http_omadm_add_variables(ngx_conf_t *cf);

/* ngx_http_omadm_counters.c */
ngx_shm_zone_t *ngx_http_omadm_status_zone(ngx_conf_t *cf);
ngx_int_t ngx_http_omadm_stats_attach(ngx_http_omadm_zone_t *zone);
ngx_int_t ngx_http_omadm_count_message(ngx_http_request_t *r);
ngx_uint_t ngx_http_omadm_call_of(u_char *op, size_t len);
void ngx_http_omadm_count_backend(ngx_http_omadm_zone_t *zone,
    ngx_uint_t call, ngx_int_t status, ngx_msec_t elapsed);
void ngx_http_omadm_count_session_gone(ngx_http_omadm_zone_t *zone,
    ngx_uint_t evicted);

/* ngx_http_omadm_status.c */
char *ngx_http_omadm_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);


extern ngx_module_t  ngx_http_omadm_module;


#endif /* _NGX_HTTP_OMADM_MODULE_H_INCLUDED_ */
