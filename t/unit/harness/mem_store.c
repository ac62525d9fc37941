/* The in-memory omadm_store_t of the unit tests (mem_store.h). */

#include "mem_store.h"

entry_t *
store_find(mem_store_t *s, const char *key, size_t key_len)
{
    int  i;

    for (i = 0; i < s->n; i++) {
        if (s->e[i].key_len == key_len
            && memcmp(s->e[i].key, key, key_len) == 0)
        {
            return &s->e[i];
        }
    }
    return NULL;
}

int
store_get(void *ctx, const char *key, size_t key_len, omadm_sink_pt sink,
    void *sink_ctx)
{
    entry_t  *e = store_find(ctx, key, key_len);

    if (e == NULL) {
        return OMADM_NOT_FOUND;
    }
    sink(sink_ctx, e->val, e->val_len);
    return OMADM_OK;
}

int
store_put(void *ctx, const char *key, size_t key_len, const char *val,
    size_t val_len, unsigned ttl)
{
    mem_store_t  *s = ctx;
    entry_t      *e;

    if (s->fail_put) {
        return OMADM_ERROR;
    }
    e = store_find(s, key, key_len);
    if (e == NULL) {
        assert_true(s->n < STORE_MAX);
        e = &s->e[s->n++];
        e->key = malloc(key_len);
        memcpy(e->key, key, key_len);
        e->key_len = key_len;
    } else {
        free(e->val);
    }
    e->val = malloc(val_len + 1);
    memcpy(e->val, val, val_len);
    e->val[val_len] = '\0';
    e->val_len = val_len;
    e->ttl = ttl;
    e->touched = 0;
    return OMADM_OK;
}

int
store_remove(void *ctx, const char *key, size_t key_len)
{
    mem_store_t  *s = ctx;
    entry_t      *e = store_find(s, key, key_len);

    if (e == NULL) {
        return OMADM_NOT_FOUND;
    }
    free(e->key);
    free(e->val);
    *e = s->e[--s->n];
    return OMADM_OK;
}

int
store_touch(void *ctx, const char *key, size_t key_len, unsigned ttl)
{
    mem_store_t  *s = ctx;
    entry_t      *e = store_find(s, key, key_len);

    if (e == NULL) {
        return OMADM_NOT_FOUND;
    }
    e->ttl = ttl;
    e->touched++;
    return OMADM_OK;
}

char *
store_snapshot(mem_store_t *s)
{
    size_t  len = 1;
    char   *out, *p;
    int     i;

    for (i = 0; i < s->n; i++) {
        len += s->e[i].key_len + s->e[i].val_len + 16;
    }
    p = out = malloc(len);
    for (i = 0; i < s->n; i++) {
        memcpy(p, s->e[i].key, s->e[i].key_len);
        p += s->e[i].key_len;
        p += sprintf(p, "=%u=", s->e[i].ttl);
        memcpy(p, s->e[i].val, s->e[i].val_len);
        p += s->e[i].val_len;
        *p++ = '\n';
    }
    *p = '\0';
    return out;
}

void
store_clear(mem_store_t *s)
{
    while (s->n > 0) {
        store_remove(s, s->e[0].key, s->e[0].key_len);
    }
}

omadm_store_t
mem_store(mem_store_t *s)
{
    omadm_store_t  st = { s, store_get, store_put, store_remove,
                          store_touch };

    return st;
}
