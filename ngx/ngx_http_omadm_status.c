
/*
 * ngx_omadm: omadm_status, the node's counters (ngx_http_omadm_counters.c)
 * and its session zones' gauges in Prometheus' text exposition format
 * 0.0.4, as stub_status answers its own: a content handler for GET and
 * HEAD.  Every sample carries zone="<omadm_session_zone>", and
 * node="<omadm_node_id>" where that is set.  What it shows (traffic,
 * refusals, backend health, how full the zones are) is for the operator:
 * the location is to be restricted (allow/deny), see README.md.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_omadm_zone.h"
#include "ngx_http_omadm_counters.h"


/* room for the samples of one zone: lines, and bytes besides the labels */
#define NGX_HTTP_OMADM_STATUS_LINES       160
#define NGX_HTTP_OMADM_STATUS_LINE        128
#define NGX_HTTP_OMADM_STATUS_HEADERS     4096


/* a session zone as one scrape sees it */
typedef struct {
    ngx_http_omadm_stats_t           *st;
    ngx_str_t                         labels;    /* node="..",zone=".." */
    ngx_uint_t                        sessions;
    size_t                            used;
    size_t                            free;
} ngx_http_omadm_scrape_zone_t;


typedef struct {
    u_char                           *pos;
    u_char                           *last;
    ngx_http_omadm_scrape_zone_t     *zones;
    ngx_uint_t                        nzones;
} ngx_http_omadm_scrape_t;


static ngx_int_t ngx_http_omadm_status_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_omadm_scrape_zones(ngx_http_request_t *r,
    ngx_http_omadm_scrape_t *s);
static u_char *ngx_http_omadm_labels(u_char *p, ngx_str_t *node,
    ngx_str_t *zone);
static void ngx_http_omadm_family(ngx_http_omadm_scrape_t *s, char *name,
    char *type, char *help);
static void ngx_http_omadm_sample(ngx_http_omadm_scrape_t *s, char *name,
    ngx_str_t *labels, char *label, ngx_atomic_uint_t n);
static void ngx_http_omadm_write_counters(ngx_http_omadm_scrape_t *s);
static void ngx_http_omadm_write_latency(ngx_http_omadm_scrape_t *s);
static void ngx_http_omadm_write_zones(ngx_http_omadm_scrape_t *s);


/* the label values, in the order of their enums */

static char  *ngx_http_omadm_outcomes[NGX_HTTP_OMADM_MSG_N] = {
    "answered", "resent", "challenged", "refused", "bad_request",
    "too_large", "unsupported_media", "bad_method", "shed", "unavailable",
    "error", "aborted", "other"
};

/* OMADM_VERDICT_*: those that are an authentication (not "none", not a
   message of a session already authenticated) */
static char  *ngx_http_omadm_auth_results[NGX_HTTP_OMADM_VERDICTS] = {
    NULL, "accepted", NULL, "challenged", "refused", "stale", "throttled",
    "undecided"
};

static char  *ngx_http_omadm_schemes[NGX_HTTP_OMADM_SCHEMES] = {
    "none", "basic", "md5", "hmac"
};

static char  *ngx_http_omadm_call_names[NGX_HTTP_OMADM_CALL_N] = {
    "nonce", "auth", "exchange", "object", "other"
};

/* ngx_http_omadm_buckets in seconds, as Prometheus' clients write them */
static char  *ngx_http_omadm_le[NGX_HTTP_OMADM_BUCKETS + 1] = {
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5",
    "10", "+Inf"
};

static char  *ngx_http_omadm_call_results[NGX_HTTP_OMADM_CALL_RESULTS] = {
    "ok", "http_error", "failed"
};


/* omadm_status: the location answers the counters */

char *
ngx_http_omadm_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler) {
        return "conflicts with another content handler in the location";
    }

    clcf->handler = ngx_http_omadm_status_handler;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_omadm_status_handler(ngx_http_request_t *r)
{
    size_t                    size;
    ngx_int_t                 rc;
    ngx_uint_t                i;
    ngx_buf_t                *b;
    ngx_chain_t               out;
    ngx_http_omadm_scrape_t   s;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    ngx_memzero(&s, sizeof(ngx_http_omadm_scrape_t));

    if (ngx_http_omadm_scrape_zones(r, &s) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    size = NGX_HTTP_OMADM_STATUS_HEADERS;

    for (i = 0; i < s.nzones; i++) {
        size += NGX_HTTP_OMADM_STATUS_LINES
                * (NGX_HTTP_OMADM_STATUS_LINE + s.zones[i].labels.len);
    }

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    s.pos = b->last;
    s.last = b->end;

    ngx_http_omadm_write_counters(&s);
    ngx_http_omadm_write_latency(&s);
    ngx_http_omadm_write_zones(&s);

    b->last = s.pos;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    ngx_str_set(&r->headers_out.content_type, "text/plain; version=0.0.4");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/*
 * The session zones of this configuration that are counted, with their
 * labels and a snapshot of their gauges (taken under the zone's lock).
 */

static ngx_int_t
ngx_http_omadm_scrape_zones(ngx_http_request_t *r, ngx_http_omadm_scrape_t *s)
{
    u_char                        *p;
    ngx_str_t                      status_name;
    ngx_uint_t                     i, pages;
    ngx_list_part_t               *part;
    ngx_shm_zone_t                *shm;
    ngx_slab_pool_t               *shpool;
    ngx_http_omadm_zone_t         *zone;
    ngx_http_omadm_main_conf_t    *omcf;
    ngx_http_omadm_scrape_zone_t  *z;

    ngx_str_set(&status_name, NGX_HTTP_OMADM_STATUS_ZONE_NAME);

    omcf = ngx_http_get_module_main_conf(r, ngx_http_omadm_module);

    /* a zone without a block is not counted: there are that many at most */

    s->zones = ngx_pcalloc(r->pool, NGX_HTTP_OMADM_STATUS_ZONES
                                    * sizeof(ngx_http_omadm_scrape_zone_t));
    if (s->zones == NULL) {
        return NGX_ERROR;
    }

    part = (ngx_list_part_t *) &ngx_cycle->shared_memory.part;
    shm = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            shm = part->elts;
            i = 0;
        }

        /* every other zone of this module is an omadm_session_zone */

        if (shm[i].tag != &ngx_http_omadm_module
            || shm[i].data == NULL
            || (shm[i].shm.name.len == status_name.len
                && ngx_strncmp(shm[i].shm.name.data, status_name.data,
                               status_name.len) == 0))
        {
            continue;
        }

        zone = shm[i].data;

        if (zone->stats == NULL || zone->sh == NULL
            || s->nzones == NGX_HTTP_OMADM_STATUS_ZONES)
        {
            continue;
        }

        z = &s->zones[s->nzones++];
        z->st = zone->stats;

        /* each byte of the name may take two once escaped */

        p = ngx_pnalloc(r->pool, sizeof("node=\"\",zone=\"\"") - 1
                                 + omcf->node_id.len
                                 + 2 * shm[i].shm.name.len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        z->labels.data = p;
        z->labels.len = ngx_http_omadm_labels(p, &omcf->node_id,
                                              &shm[i].shm.name) - p;

        shpool = zone->shpool;
        pages = (shpool->end - shpool->start) / ngx_pagesize;

        ngx_shmtx_lock(&shpool->mutex);

        z->sessions = zone->sh->sessions;
        z->free = shpool->pfree * ngx_pagesize;
        z->used = (pages - shpool->pfree) * ngx_pagesize;

        ngx_shmtx_unlock(&shpool->mutex);
    }

    return NGX_OK;
}


/* node="<id>",zone="<name>": the node only where it is set; the zone's
   name escaped as the format asks (an id is [A-Za-z0-9_-] already) */

static u_char *
ngx_http_omadm_labels(u_char *p, ngx_str_t *node, ngx_str_t *zone)
{
    size_t  i;

    if (node->len) {
        p = ngx_sprintf(p, "node=\"%V\",", node);
    }

    p = ngx_cpymem(p, "zone=\"", sizeof("zone=\"") - 1);

    for (i = 0; i < zone->len; i++) {
        switch (zone->data[i]) {
        case '\\':
        case '"':
            *p++ = '\\';
            *p++ = zone->data[i];
            break;
        case '\n':
            *p++ = '\\';
            *p++ = 'n';
            break;
        default:
            *p++ = zone->data[i];
        }
    }

    *p++ = '"';

    return p;
}


static void
ngx_http_omadm_family(ngx_http_omadm_scrape_t *s, char *name, char *type,
    char *help)
{
    s->pos = ngx_slprintf(s->pos, s->last, "# HELP %s %s\n# TYPE %s %s\n",
                          name, help, name, type);
}


/* name{labels[,label="value"]} n */

static void
ngx_http_omadm_sample(ngx_http_omadm_scrape_t *s, char *name,
    ngx_str_t *labels, char *label, ngx_atomic_uint_t n)
{
    if (label) {
        s->pos = ngx_slprintf(s->pos, s->last, "%s{%V,%s} %uA\n", name,
                              labels, label, n);
        return;
    }

    s->pos = ngx_slprintf(s->pos, s->last, "%s{%V} %uA\n", name, labels, n);
}


static void
ngx_http_omadm_write_counters(ngx_http_omadm_scrape_t *s)
{
    u_char                   label[128];
    ngx_uint_t               i, j, k;
    ngx_http_omadm_stats_t  *st;

    ngx_http_omadm_family(s, "omadm_messages_total", "counter",
        "Device messages handled, by what they came to.");

    for (k = 0; k < s->nzones; k++) {
        st = s->zones[k].st;

        for (i = 0; i < NGX_HTTP_OMADM_MSG_N; i++) {
            ngx_sprintf(label, "outcome=\"%s\"%Z", ngx_http_omadm_outcomes[i]);
            ngx_http_omadm_sample(s, "omadm_messages_total",
                                  &s->zones[k].labels, (char *) label,
                                  st->messages[i]);
        }
    }

    ngx_http_omadm_family(s, "omadm_auth_total", "counter",
        "Authentication decisions on device messages, by result and the "
        "scheme of the credentials tried.");

    for (k = 0; k < s->nzones; k++) {
        st = s->zones[k].st;

        for (i = 0; i < NGX_HTTP_OMADM_VERDICTS; i++) {
            if (ngx_http_omadm_auth_results[i] == NULL) {
                continue;
            }

            for (j = 0; j < NGX_HTTP_OMADM_SCHEMES; j++) {
                ngx_sprintf(label, "result=\"%s\",scheme=\"%s\"%Z",
                            ngx_http_omadm_auth_results[i],
                            ngx_http_omadm_schemes[j]);
                ngx_http_omadm_sample(s, "omadm_auth_total",
                                      &s->zones[k].labels, (char *) label,
                                      st->auth[i][j]);
            }
        }
    }

    ngx_http_omadm_family(s, "omadm_backend_requests_total", "counter",
        "Backend subrequests, by contract call and result (failed: no "
        "answer, e.g. unreachable or timed out).");

    for (k = 0; k < s->nzones; k++) {
        st = s->zones[k].st;

        for (i = 0; i < NGX_HTTP_OMADM_CALL_N; i++) {
            for (j = 0; j < NGX_HTTP_OMADM_CALL_RESULTS; j++) {
                ngx_sprintf(label, "call=\"%s\",result=\"%s\"%Z",
                            ngx_http_omadm_call_names[i],
                            ngx_http_omadm_call_results[j]);
                ngx_http_omadm_sample(s, "omadm_backend_requests_total",
                                      &s->zones[k].labels, (char *) label,
                                      st->calls[i][j]);
            }
        }
    }

    ngx_http_omadm_family(s, "omadm_sessions_started_total", "counter",
        "Sessions started: logins that authenticated and were answered.");

    for (k = 0; k < s->nzones; k++) {
        ngx_http_omadm_sample(s, "omadm_sessions_started_total",
                              &s->zones[k].labels, NULL,
                              s->zones[k].st->sessions_started);
    }

    ngx_http_omadm_family(s, "omadm_sessions_evicted_total", "counter",
        "Session records evicted from the zone for room (their devices "
        "authenticate again).");

    for (k = 0; k < s->nzones; k++) {
        ngx_http_omadm_sample(s, "omadm_sessions_evicted_total",
                              &s->zones[k].labels, NULL,
                              s->zones[k].st->sessions_evicted);
    }

    ngx_http_omadm_family(s, "omadm_sessions_expired_total", "counter",
        "Session records dropped once idle past the zone's ttl.");

    for (k = 0; k < s->nzones; k++) {
        ngx_http_omadm_sample(s, "omadm_sessions_expired_total",
                              &s->zones[k].labels, NULL,
                              s->zones[k].st->sessions_expired);
    }
}


/* the histogram's buckets are kept apart; its samples are cumulative */

static void
ngx_http_omadm_write_latency(ngx_http_omadm_scrape_t *s)
{
    u_char                   label[128];
    ngx_str_t               *labels;
    ngx_uint_t               i, b, k;
    ngx_atomic_uint_t        total, ms;
    ngx_http_omadm_stats_t  *st;

    static char  *name = "omadm_backend_request_duration_seconds";

    ngx_http_omadm_family(s, name, "histogram",
        "Backend subrequests' duration, by contract call.");

    for (k = 0; k < s->nzones; k++) {
        st = s->zones[k].st;
        labels = &s->zones[k].labels;

        for (i = 0; i < NGX_HTTP_OMADM_CALL_N; i++) {
            total = 0;

            for (b = 0; b <= NGX_HTTP_OMADM_BUCKETS; b++) {
                total += st->latency[i][b];

                ngx_sprintf(label, "call=\"%s\",le=\"%s\"%Z",
                            ngx_http_omadm_call_names[i],
                            ngx_http_omadm_le[b]);

                s->pos = ngx_slprintf(s->pos, s->last, "%s_bucket{%V,%s} %uA\n",
                                      name, labels, label, total);
            }

            ms = st->latency_ms[i];

            s->pos = ngx_slprintf(s->pos, s->last,
                                  "%s_sum{%V,call=\"%s\"} %uA.%03uA\n"
                                  "%s_count{%V,call=\"%s\"} %uA\n",
                                  name, labels, ngx_http_omadm_call_names[i],
                                  ms / 1000, ms % 1000,
                                  name, labels, ngx_http_omadm_call_names[i],
                                  total);
        }
    }
}


static void
ngx_http_omadm_write_zones(ngx_http_omadm_scrape_t *s)
{
    ngx_uint_t  k;

    ngx_http_omadm_family(s, "omadm_sessions", "gauge",
        "Session records in the zone: live sessions, and ended ones kept "
        "for a resend until they expire.");

    for (k = 0; k < s->nzones; k++) {
        ngx_http_omadm_sample(s, "omadm_sessions", &s->zones[k].labels,
                              NULL, s->zones[k].sessions);
    }

    ngx_http_omadm_family(s, "omadm_zone_used_bytes", "gauge",
        "Bytes of the session zone's pages in use.");

    for (k = 0; k < s->nzones; k++) {
        ngx_http_omadm_sample(s, "omadm_zone_used_bytes", &s->zones[k].labels,
                              NULL, s->zones[k].used);
    }

    ngx_http_omadm_family(s, "omadm_zone_free_bytes", "gauge",
        "Bytes of the session zone's pages entirely free.");

    for (k = 0; k < s->nzones; k++) {
        ngx_http_omadm_sample(s, "omadm_zone_free_bytes", &s->zones[k].labels,
                              NULL, s->zones[k].free);
    }
}
