
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

#include "ngx_http_omadm_zone.h"


/* the core's session records: keys "s:<device>\n<session>" (kv_store.hpp) */
#define ngx_http_omadm_is_session(node)                                      \
    ((node)->key_len > 2 && (node)->data[0] == 's' && (node)->data[1] == ':')


static int ngx_http_omadm_store_get(void *data, const char *key,
    size_t key_len, omadm_sink_pt sink, void *sink_ctx);
static int ngx_http_omadm_store_put(void *data, const char *key,
    size_t key_len, const char *val, size_t val_len, unsigned ttl);
static void ngx_http_omadm_view_init(omadm_store_t *store,
    ngx_http_omadm_zone_t *zone, ngx_http_omadm_put_e how);
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


/*
 * The three stores on a zone differ only in what a put may evict: a
 * session may evict others; a chunk of a large object evicts nothing (one
 * device's chunks must not push other devices' sessions out: a chunk that
 * does not fit is refused, Status 420); a failed-authentication counter
 * evicts sessions and is never evicted (see the top of the file).
 */

static void
ngx_http_omadm_view_init(omadm_store_t *store, ngx_http_omadm_zone_t *zone,
    ngx_http_omadm_put_e how)
{
    ngx_http_omadm_view_t  *view;

    view = &zone->views[how];
    view->zone = zone;
    view->how = how;

    store->ctx = view;
    store->get = ngx_http_omadm_store_get;
    store->put = ngx_http_omadm_store_put;
    store->remove = ngx_http_omadm_store_remove;
    store->touch = ngx_http_omadm_store_touch;
}


void
ngx_http_omadm_store_init(omadm_store_t *store, ngx_http_omadm_zone_t *zone)
{
    ngx_http_omadm_view_init(store, zone, NGX_HTTP_OMADM_EVICTS_SESSIONS);
}


void
ngx_http_omadm_object_store_init(omadm_store_t *store,
    ngx_http_omadm_zone_t *zone)
{
    ngx_http_omadm_view_init(store, zone, NGX_HTTP_OMADM_EVICTS_NOTHING);
}


void
ngx_http_omadm_counter_store_init(omadm_store_t *store,
    ngx_http_omadm_zone_t *zone)
{
    ngx_http_omadm_view_init(store, zone, NGX_HTTP_OMADM_KEPT);
}


/* get() calls sink while locked: the value is only valid there */

static int
ngx_http_omadm_store_get(void *data, const char *key, size_t key_len,
    omadm_sink_pt sink, void *sink_ctx)
{
    ngx_http_omadm_zone_t *zone = ((ngx_http_omadm_view_t *) data)->zone;

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
    ngx_http_omadm_view_t *view = data;

    return ngx_http_omadm_put(view->zone, key, key_len, val, val_len, ttl,
                              view->how);
}


/* the bytes a node of that key and value takes: counted in kept_size as
   they are allocated, so that the counters' quarter is of real memory */

static size_t
ngx_http_omadm_chunk(size_t key_val_len)
{
    return ngx_max(offsetof(ngx_http_omadm_node_t, data) + key_val_len,
                   NGX_HTTP_OMADM_MIN_CHUNK);
}


static int
ngx_http_omadm_put(ngx_http_omadm_zone_t *zone, const char *key,
    size_t key_len, const char *val, size_t val_len, unsigned ttl,
    ngx_http_omadm_put_e how)
{
    size_t                  size, replaced;
    time_t                  now;
    uint32_t                hash;
    ngx_uint_t              evicted, evict_max, level;
    ngx_queue_t            *q;
    ngx_http_omadm_node_t  *node, *old;

    now = ngx_time();
    hash = ngx_crc32_short((u_char *) key, key_len);
    size = ngx_http_omadm_chunk(key_len + val_len);
    evicted = 0;
    evict_max = (how == NGX_HTTP_OMADM_EVICTS_NOTHING)
                ? 0 : NGX_HTTP_OMADM_EVICT_MAX;

    ngx_shmtx_lock(&zone->shpool->mutex);

    ngx_http_omadm_expire(zone, now);

    /* a counter refused keeps its old value: the count never starts over */

    old = ngx_http_omadm_lookup(zone, (u_char *) key, key_len, hash);
    replaced = (old && old->kept)
               ? ngx_http_omadm_chunk(old->key_len + old->val_len) : 0;

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

            /* a put that may evict nothing takes free room or fails, as
               its caller expects (a credential copy is best effort); only
               a put that evicted all it could is the zone's trouble */

            level = evict_max ? NGX_LOG_ERR : NGX_LOG_INFO;
            ngx_log_error(level, ngx_cycle->log, 0,
                          "omadm: could not store %uz bytes in "
                          "omadm_session_zone \"%V\"",
                          val_len, &zone->shm_zone->shm.name);
            return OMADM_ERROR;
        }

        q = ngx_queue_last(&zone->sh->queue);
        old = ngx_queue_data(q, ngx_http_omadm_node_t, queue);

        if (ngx_http_omadm_is_session(old)) {
            ngx_http_omadm_count_session_gone(zone, 1);
        }

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

    if (ngx_http_omadm_is_session(node)) {
        zone->sh->sessions++;
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
    ngx_http_omadm_zone_t *zone = ((ngx_http_omadm_view_t *) data)->zone;

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
    ngx_http_omadm_zone_t *zone = ((ngx_http_omadm_view_t *) data)->zone;

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
        if (ngx_http_omadm_is_session(node)) {
            ngx_http_omadm_count_session_gone(zone, 0);
        }

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
        zone->sh->kept_size -= ngx_http_omadm_chunk(node->key_len
                                                    + node->val_len);
    }

    if (ngx_http_omadm_is_session(node)) {
        zone->sh->sessions--;
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
            if (ngx_http_omadm_is_session(node)) {
                ngx_http_omadm_count_session_gone(zone, 0);
            }

            ngx_http_omadm_delete(zone, node);
        }

        n++;
        q = prev;
    }
}
