
/*
 * ngx_omadm: the session store on an omadm_session_zone.
 *
 * The core keeps sessions, auth-failure counters and cached responses in
 * an omadm_store_t; this file implements it on shared memory, so that all
 * workers see one device's state: a red-black tree by key for lookups, a
 * queue by last use for eviction when the zone is full, and lazy expiry.
 *
 * Failed-authentication counters sit in a queue of their own that no put
 * evicts: were they evictable, session churn (or an outsider's) would
 * erase them and give guesses back.  They may take up to a quarter of the
 * zone, evicting sessions for room; past that a counter is refused, and
 * the core refuses the login it was for.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_omadm_module.h"


#define NGX_HTTP_OMADM_EVICT_MAX          64
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
};


static int ngx_http_omadm_store_get(void *data, const char *key,
    size_t key_len, omadm_sink_pt sink, void *sink_ctx);
static int ngx_http_omadm_store_put(void *data, const char *key,
    size_t key_len, const char *val, size_t val_len, unsigned ttl);
static int ngx_http_omadm_object_put(void *data, const char *key,
    size_t key_len, const char *val, size_t val_len, unsigned ttl);
static int ngx_http_omadm_counter_put(void *data, const char *key,
    size_t key_len, const char *val, size_t val_len, unsigned ttl);
static int ngx_http_omadm_put(ngx_http_omadm_zone_t *zone, const char *key,
    size_t key_len, const char *val, size_t val_len, unsigned ttl,
    ngx_http_omadm_put_e how);
static ngx_queue_t *ngx_http_omadm_queue(ngx_http_omadm_zone_t *zone,
    ngx_http_omadm_node_t *node);
static void ngx_http_omadm_expire_queue(ngx_http_omadm_zone_t *zone,
    ngx_queue_t *queue, time_t now);
static int ngx_http_omadm_store_remove(void *data, const char *key,
    size_t key_len);
static int ngx_http_omadm_store_touch(void *data, const char *key,
    size_t key_len, unsigned ttl);
static ngx_http_omadm_node_t *ngx_http_omadm_lookup(
    ngx_http_omadm_zone_t *zone, u_char *key, size_t len, uint32_t hash);
static ngx_http_omadm_node_t *ngx_http_omadm_find_live(
    ngx_http_omadm_zone_t *zone, const char *key, size_t key_len,
    time_t now);
static ngx_uint_t ngx_http_omadm_remove_locked(ngx_http_omadm_zone_t *zone,
    u_char *key, size_t len, uint32_t hash);
static void ngx_http_omadm_delete(ngx_http_omadm_zone_t *zone,
    ngx_http_omadm_node_t *node);
static void ngx_http_omadm_expire(ngx_http_omadm_zone_t *zone, time_t now);
static void ngx_http_omadm_rbtree_insert_value(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);


void
ngx_http_omadm_store_init(omadm_store_t *store, ngx_http_omadm_zone_t *zone)
{
    store->ctx = zone;
    store->get = ngx_http_omadm_store_get;
    store->put = ngx_http_omadm_store_put;
    store->remove = ngx_http_omadm_store_remove;
    store->touch = ngx_http_omadm_store_touch;
}


/*
 * The store for the chunks of large objects: the same entries, but a put
 * never evicts.  Chunks of one device must not push other devices'
 * sessions out; when the zone is full the chunk is refused (Status 420).
 */

void
ngx_http_omadm_object_store_init(omadm_store_t *store,
    ngx_http_omadm_zone_t *zone)
{
    ngx_http_omadm_store_init(store, zone);
    store->put = ngx_http_omadm_object_put;
}


/* the store for failed-authentication counters, see the top of the file */

void
ngx_http_omadm_counter_store_init(omadm_store_t *store,
    ngx_http_omadm_zone_t *zone)
{
    ngx_http_omadm_store_init(store, zone);
    store->put = ngx_http_omadm_counter_put;
}


/* get() calls sink while locked: the value is only valid there */

static int
ngx_http_omadm_store_get(void *data, const char *key, size_t key_len,
    omadm_sink_pt sink, void *sink_ctx)
{
    ngx_http_omadm_zone_t *zone = data;

    ngx_http_omadm_node_t  *node;

    ngx_shmtx_lock(&zone->shpool->mutex);

    node = ngx_http_omadm_find_live(zone, key, key_len, ngx_time());

    if (node == NULL) {
        ngx_shmtx_unlock(&zone->shpool->mutex);
        return OMADM_NOT_FOUND;
    }

    sink(sink_ctx, (const char *) node->data + node->key_len, node->val_len);

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return OMADM_OK;
}


static int
ngx_http_omadm_store_put(void *data, const char *key, size_t key_len,
    const char *val, size_t val_len, unsigned ttl)
{
    return ngx_http_omadm_put(data, key, key_len, val, val_len, ttl,
                              NGX_HTTP_OMADM_EVICTS_SESSIONS);
}


static int
ngx_http_omadm_object_put(void *data, const char *key, size_t key_len,
    const char *val, size_t val_len, unsigned ttl)
{
    return ngx_http_omadm_put(data, key, key_len, val, val_len, ttl,
                              NGX_HTTP_OMADM_EVICTS_NOTHING);
}


static int
ngx_http_omadm_counter_put(void *data, const char *key, size_t key_len,
    const char *val, size_t val_len, unsigned ttl)
{
    return ngx_http_omadm_put(data, key, key_len, val, val_len, ttl,
                              NGX_HTTP_OMADM_KEPT);
}


static int
ngx_http_omadm_put(ngx_http_omadm_zone_t *zone, const char *key,
    size_t key_len, const char *val, size_t val_len, unsigned ttl,
    ngx_http_omadm_put_e how)
{
    size_t                  size, replaced;
    time_t                  now;
    uint32_t                hash;
    ngx_uint_t              evicted, evict_max;
    ngx_queue_t            *q;
    ngx_http_omadm_node_t  *node, *old;

    now = ngx_time();
    hash = ngx_crc32_short((u_char *) key, key_len);
    size = offsetof(ngx_http_omadm_node_t, data) + key_len + val_len;
    evicted = 0;
    evict_max = (how == NGX_HTTP_OMADM_EVICTS_NOTHING)
                ? 0 : NGX_HTTP_OMADM_EVICT_MAX;

    ngx_shmtx_lock(&zone->shpool->mutex);

    ngx_http_omadm_expire(zone, now);

    /* a counter refused keeps its old value: the count never starts over */

    old = ngx_http_omadm_lookup(zone, (u_char *) key, key_len, hash);
    replaced = (old && old->kept) ? offsetof(ngx_http_omadm_node_t, data)
                                    + old->key_len + old->val_len
                                  : 0;

    if (how == NGX_HTTP_OMADM_KEPT
        && zone->sh->kept_size - replaced + size > zone->sh->kept_max)
    {
        ngx_shmtx_unlock(&zone->shpool->mutex);

        ngx_log_error(NGX_LOG_ERR, ngx_cycle->log, 0,
                      "omadm: failed-authentication counters fill their "
                      "quarter of omadm_session_zone \"%V\"; logins are "
                      "refused until some expire (omadm_auth_failures "
                      "window), or make the zone larger",
                      &zone->shm_zone->shm.name);
        return OMADM_ERROR;
    }

    if (old) {
        ngx_http_omadm_delete(zone, old);
    }

    for ( ;; ) {
        node = ngx_slab_alloc_locked(zone->shpool, size);
        if (node) {
            break;
        }

        /* full: evict the least recently used sessions, as limit_req does */

        if (evicted == evict_max
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
    node->kept = (how == NGX_HTTP_OMADM_KEPT);
    node->key_len = key_len;
    node->val_len = val_len;
    ngx_memcpy(node->data, key, key_len);
    ngx_memcpy(node->data + key_len, val, val_len);

    if (node->kept) {
        zone->sh->kept_size += size;
    }

    ngx_rbtree_insert(&zone->sh->rbtree, &node->node);
    ngx_queue_insert_head(ngx_http_omadm_queue(zone, node), &node->queue);

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


/* the chunks of a large object live as long as its session goes on */

static int
ngx_http_omadm_store_touch(void *data, const char *key, size_t key_len,
    unsigned ttl)
{
    ngx_http_omadm_zone_t *zone = data;

    time_t                  now;
    ngx_http_omadm_node_t  *node;

    now = ngx_time();

    ngx_shmtx_lock(&zone->shpool->mutex);

    node = ngx_http_omadm_find_live(zone, key, key_len, now);

    if (node == NULL) {
        ngx_shmtx_unlock(&zone->shpool->mutex);
        return OMADM_NOT_FOUND;
    }

    node->expires = now + ttl;

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return OMADM_OK;
}


static int
ngx_http_omadm_store_remove(void *data, const char *key, size_t key_len)
{
    ngx_http_omadm_zone_t *zone = data;

    uint32_t    hash;
    ngx_uint_t  found;

    hash = ngx_crc32_short((u_char *) key, key_len);

    ngx_shmtx_lock(&zone->shpool->mutex);
    found = ngx_http_omadm_remove_locked(zone, (u_char *) key, key_len, hash);
    ngx_shmtx_unlock(&zone->shpool->mutex);

    return found ? OMADM_OK : OMADM_NOT_FOUND;
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


/*
 * The entry for key if it has not expired (an expired one is deleted),
 * made the most recently used.  Called with the zone locked.
 */

static ngx_http_omadm_node_t *
ngx_http_omadm_find_live(ngx_http_omadm_zone_t *zone, const char *key,
    size_t key_len, time_t now)
{
    uint32_t                hash;
    ngx_http_omadm_node_t  *node;

    hash = ngx_crc32_short((u_char *) key, key_len);

    node = ngx_http_omadm_lookup(zone, (u_char *) key, key_len, hash);

    if (node && node->expires < now) {
        ngx_http_omadm_delete(zone, node);
        return NULL;
    }

    if (node) {
        ngx_queue_remove(&node->queue);
        ngx_queue_insert_head(ngx_http_omadm_queue(zone, node), &node->queue);
    }

    return node;
}


static ngx_queue_t *
ngx_http_omadm_queue(ngx_http_omadm_zone_t *zone, ngx_http_omadm_node_t *node)
{
    return node->kept ? &zone->sh->kept : &zone->sh->queue;
}


static ngx_uint_t
ngx_http_omadm_remove_locked(ngx_http_omadm_zone_t *zone, u_char *key,
    size_t len, uint32_t hash)
{
    ngx_http_omadm_node_t  *node;

    node = ngx_http_omadm_lookup(zone, key, len, hash);

    if (node == NULL) {
        return 0;
    }

    ngx_http_omadm_delete(zone, node);

    return 1;
}


static void
ngx_http_omadm_delete(ngx_http_omadm_zone_t *zone,
    ngx_http_omadm_node_t *node)
{
    if (node->kept) {
        zone->sh->kept_size -= offsetof(ngx_http_omadm_node_t, data)
                               + node->key_len + node->val_len;
    }

    ngx_queue_remove(&node->queue);
    ngx_rbtree_delete(&zone->sh->rbtree, &node->node);
    ngx_slab_free_locked(zone->shpool, node);
}


/* lazily drop a few expired entries, oldest first */

static void
ngx_http_omadm_expire(ngx_http_omadm_zone_t *zone, time_t now)
{
    ngx_http_omadm_expire_queue(zone, &zone->sh->queue, now);
    ngx_http_omadm_expire_queue(zone, &zone->sh->kept, now);
}


static void
ngx_http_omadm_expire_queue(ngx_http_omadm_zone_t *zone, ngx_queue_t *queue,
    time_t now)
{
    ngx_uint_t              n;
    ngx_queue_t            *q, *prev;
    ngx_http_omadm_node_t  *node;

    n = 0;
    q = ngx_queue_last(queue);

    while (q != ngx_queue_sentinel(queue)
           && n < NGX_HTTP_OMADM_EXPIRE_MAX)
    {
        prev = ngx_queue_prev(q);
        node = ngx_queue_data(q, ngx_http_omadm_node_t, queue);

        /* the queue is ordered by use, not by expiry: look a little */

        if (node->expires < now) {
            ngx_http_omadm_delete(zone, node);
        }

        n++;
        q = prev;
    }
}


/* equal hashes are ordered by key, as ngx_http_omadm_lookup() walks them */

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

ngx_int_t
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
    ngx_queue_init(&zone->sh->kept);
    zone->sh->kept_size = 0;
    zone->sh->kept_max = shm_zone->shm.size / NGX_HTTP_OMADM_COUNTERS_SHARE;

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
