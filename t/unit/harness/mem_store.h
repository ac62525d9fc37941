/*
 * An in-memory omadm_store_t for the unit tests (TTLs are recorded, not
 * enforced), shared by every test file that drives the exchange.
 */

#ifndef MEM_STORE_H
#define MEM_STORE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "omadm.h"


#define STORE_MAX  32

typedef struct {
    char      *key;
    size_t     key_len;
    char      *val;
    size_t     val_len;
    unsigned   ttl;
    unsigned   touched;     /* touch() calls since the last put */
} entry_t;

typedef struct {
    entry_t    e[STORE_MAX];
    int        n;
    int        fail_put;
} mem_store_t;

entry_t *
store_find(mem_store_t *s, const char *key, size_t key_len);

int
store_get(void *ctx, const char *key, size_t key_len, omadm_sink_pt sink,
    void *sink_ctx);

int
store_put(void *ctx, const char *key, size_t key_len, const char *val,
    size_t val_len, unsigned ttl);

int
store_remove(void *ctx, const char *key, size_t key_len);

int
store_touch(void *ctx, const char *key, size_t key_len, unsigned ttl);

/* every key and value, for "the store did not change" */
char *
store_snapshot(mem_store_t *s);

/* removes every entry */
void
store_clear(mem_store_t *s);

/* the omadm_store_t over s */
omadm_store_t
mem_store(mem_store_t *s);

#endif /* MEM_STORE_H */
