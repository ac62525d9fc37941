
/*
 * ngx_omadm: what the module's own C files share.  The C++ core never sees
 * this header; it knows only include/omadm.h.
 */


#ifndef _NGX_HTTP_OMADM_MODULE_H_INCLUDED_
#define _NGX_HTTP_OMADM_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "omadm.h"


/* the tree and LRU queue in shared memory, private to the zone's file */
typedef struct ngx_http_omadm_shctx_s  ngx_http_omadm_shctx_t;


/* one omadm_session_zone, as each worker sees it (shm_zone->data) */
typedef struct {
    ngx_http_omadm_shctx_t           *sh;
    ngx_slab_pool_t                  *shpool;
    time_t                            ttl;
    ngx_shm_zone_t                   *shm_zone;
    time_t                            full_logged;  /* per worker */
} ngx_http_omadm_zone_t;


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
    ngx_int_t                         max_commands;
    ngx_uint_t                        auth_failures;
    time_t                            auth_failure_window;
    time_t                            retry_after;
    omadm_limits_t                    xml_limits;
    ngx_str_t                         server_id;
    ngx_uint_t                        backend_limit; /* 0: off */
    ngx_uint_t                        backend_busy;  /* per worker: each
                                                        process has its own
                                                        copy of the conf */
} ngx_http_omadm_loc_conf_t;


/* per device message; also read by the $omadm_* variables */
typedef struct {
    omadm_exchange_t                 *ex;
    omadm_config_t                    conf;    /* must outlive ex */
    omadm_store_t                     store;   /* must outlive ex */
    omadm_store_t                     objects; /* must outlive ex */
    omadm_store_t                     counters; /* must outlive ex */
    ngx_str_t                         uri;     /* of the pending backend
                                                  subrequest, for logs */
    ngx_http_request_t               *sr;      /* that subrequest */
    off_t                             sr_body_len;
    ngx_uint_t                       *busy;    /* the omadm_backend_limit
                                                  slot held, or NULL */
    unsigned                          waiting:1;
    unsigned                          backend_done:1;
    unsigned                          shed:1;  /* refused by
                                                  omadm_backend_limit */
} ngx_http_omadm_ctx_t;


/* ngx_http_omadm_handler.c */
ngx_int_t ngx_http_omadm_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_omadm_backend_length(ngx_http_request_t *r);

/* ngx_http_omadm_zone.c */
ngx_int_t ngx_http_omadm_init_zone(ngx_shm_zone_t *shm_zone, void *data);
void ngx_http_omadm_store_init(omadm_store_t *store,
    ngx_http_omadm_zone_t *zone);
void ngx_http_omadm_object_store_init(omadm_store_t *store,
    ngx_http_omadm_zone_t *zone);
void ngx_http_omadm_counter_store_init(omadm_store_t *store,
    ngx_http_omadm_zone_t *zone);

/* ngx_http_omadm_variables.c */
ngx_int_t ngx_http_omadm_add_variables(ngx_conf_t *cf);


extern ngx_module_t  ngx_http_omadm_module;


#endif /* _NGX_HTTP_OMADM_MODULE_H_INCLUDED_ */
