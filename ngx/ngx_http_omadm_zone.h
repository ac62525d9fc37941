
/*
 * ngx_omadm: the entries of an omadm_session_zone, shared by the zone's
 * two files (ngx_http_omadm_zone.c makes the zone, ngx_http_omadm_store.c
 * keeps entries in it).
 */


#ifndef _NGX_HTTP_OMADM_ZONE_H_INCLUDED_
#define _NGX_HTTP_OMADM_ZONE_H_INCLUDED_


#include "ngx_http_omadm_module.h"


#define NGX_HTTP_OMADM_EVICT_MAX          64
/*
 * Every entry takes at least one chunk of this size, that of a session's
 * record: entries of one slab class, so that evicting the least recently
 * used session frees room for any small put.  Of mixed classes, a full
 * zone could not place a failure counter (a 256-byte chunk) after evicting
 * 64 sessions of 512 bytes: a page changes class only once all of it is
 * free, and logins were refused with 503.
 */
#define NGX_HTTP_OMADM_MIN_CHUNK          512
#define NGX_HTTP_OMADM_EXPIRE_MAX         8
#define NGX_HTTP_OMADM_COUNTERS_SHARE     4     /* at most 1/4 of the zone */


typedef enum {
    NGX_HTTP_OMADM_EVICTS_SESSIONS = 0,   /* a session: may evict others */
    NGX_HTTP_OMADM_EVICTS_NOTHING,        /* a chunk of a large object */
    NGX_HTTP_OMADM_KEPT                   /* a counter: evicts sessions,
                                             is never evicted */
} ngx_http_omadm_put_e;


typedef struct {
    ngx_rbtree_node_t                 node;    /* node.key: crc32 of key */
    ngx_queue_t                       queue;   /* LRU, most recent first */
    time_t                            expires; /* last second alive: time
                                                   is whole seconds, so an
                                                   entry lives at least ttl */
    ngx_uint_t                        kept;    /* in the counters' queue */
    size_t                            key_len;
    size_t                            val_len;
    u_char                            data[1]; /* key, then value */
} ngx_http_omadm_node_t;


struct ngx_http_omadm_shctx_s {
    ngx_rbtree_t                      rbtree;
    ngx_rbtree_node_t                 sentinel;
    ngx_queue_t                       queue;       /* evictable entries */
    ngx_queue_t                       kept;        /* counters */
    size_t                            kept_size;   /* ... their bytes */
    size_t                            kept_max;
    ngx_uint_t                        sessions;    /* session records */
};


void ngx_http_omadm_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);


#endif /* _NGX_HTTP_OMADM_ZONE_H_INCLUDED_ */
