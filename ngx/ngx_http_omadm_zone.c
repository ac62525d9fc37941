
/*
 * ngx_omadm: omadm_session_zone, a shared-memory zone for the core's
 * omadm_store_t (its entries: ngx_http_omadm_store.c).  A reload with the
 * same zone keeps its contents.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_omadm_zone.h"
#include "ngx_http_omadm_counters.h"


#define NGX_HTTP_OMADM_DEFAULT_TTL        300


static ngx_int_t ngx_http_omadm_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);


/* omadm_session_zone zone=name:size [ttl=time] */

char *
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

        if (ngx_http_omadm_conf_param(&value[i], "zone=", &name) == NGX_OK) {

            p = ngx_strlchr(name.data, name.data + name.len, ':');
            if (p == NULL) {
                return ngx_http_omadm_conf_invalid(cf, "zone size in",
                                                   &value[i]);
            }

            s.data = p + 1;
            s.len = name.data + name.len - s.data;
            name.len = p - name.data;

            size = ngx_parse_size(&s);
            if (size == NGX_ERROR) {
                return ngx_http_omadm_conf_invalid(cf, "zone size", &s);
            }

            if (size < (ssize_t) (8 * ngx_pagesize)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"omadm_session_zone\" zone \"%V\" is "
                                   "too small", &name);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_http_omadm_conf_param(&value[i], "ttl=", &s) == NGX_OK) {

            ttl = ngx_parse_time(&s, 1);
            if (ttl == NGX_ERROR || ttl == 0) {
                return ngx_http_omadm_conf_invalid(cf, "ttl", &s);
            }

            continue;
        }

        return ngx_http_omadm_conf_invalid(cf, "parameter", &value[i]);
    }

    if (name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"omadm_session_zone\" must have \"zone\" "
                           "parameter");
        return NGX_CONF_ERROR;
    }

    /* the name labels the zone's counters, kept in a block of their own */

    if (name.len > NGX_HTTP_OMADM_ZONE_NAME_MAX
        || (name.len == sizeof(NGX_HTTP_OMADM_STATUS_ZONE_NAME) - 1
            && ngx_strncmp(name.data, NGX_HTTP_OMADM_STATUS_ZONE_NAME,
                           name.len) == 0))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"omadm_session_zone\" zone name \"%V\" is "
                           "reserved or longer than %d bytes", &name,
                           NGX_HTTP_OMADM_ZONE_NAME_MAX);
        return NGX_CONF_ERROR;
    }

    zone = ngx_pcalloc(cf->pool, sizeof(ngx_http_omadm_zone_t));
    if (zone == NULL) {
        return NGX_CONF_ERROR;
    }

    zone->ttl = ttl;

    /* the counters' zone first: it is initialized before this one */

    zone->status = ngx_http_omadm_status_zone(cf);
    if (zone->status == NULL) {
        return NGX_CONF_ERROR;
    }

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


/* equal hashes are ordered by key, as ngx_http_omadm_lookup() walks them */

void
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

    if (ngx_http_omadm_stats_attach(zone) != NGX_OK) {
        return NGX_ERROR;
    }

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
    zone->sh->sessions = 0;
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
