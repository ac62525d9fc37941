/*
 * What the large-object tests of both directions share
 * (test_large_objects_in.c, test_large_objects_out.c): values with and
 * without markup, the messages that carry them, and the store's segments.
 */

#ifndef LARGE_OBJECTS_H
#define LARGE_OBJECTS_H

#include "exchange_harness.h"

typedef struct {
    mem_store_t    mem;
    omadm_store_t  store;
} object_zone_t;

#define GET_G_A  "{\"id\":\"g\",\"verb\":\"Get\",\"target\":\"./A\"}"

#define GET_STATUS                                                          \
    "<Status><CmdID>2</CmdID><MsgRef>1</MsgRef><CmdRef>4</CmdRef>"          \
    "<Cmd>Get</Cmd><Data>200</Data></Status>"

void
make_value(char *out, size_t n, int markup);

void
make_markup_only(char *out, size_t n);

size_t
char_boundary(const char *s, size_t at);

char *
xml_text(const char *s, size_t n);

char *
chunk_results(int cmd_id, const char *value, size_t from, size_t to,
    const char *size, int more);

char *
with_hdr_status(int msg, const char *rest);

void
reply_as(fixture_t *f, int enc, const char *token, int msg, const char *body,
    int final, outcome_t *o);

void
reply(fixture_t *f, const char *token, int msg, const char *body, int final,
    outcome_t *o);

void
backend_fails_once(fixture_t *f, const char *op, int status,
    const char *body);

const char *
told_status(const char *id, const char *code);

object_zone_t *
object_zone(fixture_t *f);

void
object_zone_free(object_zone_t *z);

int
segment_key_of(char *key, size_t size, const char *session_id, char way,
    int n);

int
segment_key(char *key, size_t size, const char *session_id, int n);

entry_t *
object_segment(mem_store_t *s, const char *session_id, int n);

entry_t *
our_segment(mem_store_t *s, const char *session_id, int n);

void
evict_segment(mem_store_t *s, const char *session_id, int n);

int
holds_object(mem_store_t *s);

int
command_index(const outcome_t *o, const char *verb);

/* the device aborts the session */
#define DEVICE_ABORT  "<Alert><CmdID>2</CmdID><Data>1223</Data></Alert>"

/* the device's first message after our Get: the Get's Status, then the
   first chunk of value (up to `to`) with Meta/Size size (NULL: none) */
const char *
first_chunk(const char *value, size_t to, const char *size);

/* our Status for the device's Results, CmdID cmd_ref of its message */
void
expect_results_status(outcome_t *o, const char *msg_ref, const char *cmd_ref,
    const char *code);

/* "next message" answer: Statuses, Alert 1222, no Final */
void
expect_next_message(fixture_t *f, outcome_t *o);

/* ---- from the device */

/* the session started with our Get g of ./A as command 4 of message 1 */
void
start_get(fixture_t *f, int enc, const char *session, outcome_t *o,
    char *token);

/* our Get sent (in XML), and the device's first chunk of value (up to
   `to`, Meta/Size size) answered 213 */
void
first_chunk_taken(fixture_t *f, char *token, const char *value, size_t to,
    const char *size);

/* a chunk (Results CmdID cmd_ref of message msg_ref) kept with 213, the
   next message asked for, nothing of the Get told to the backend yet */
void
expect_chunk_held(fixture_t *f, outcome_t *o, const char *msg_ref,
    const char *cmd_ref);

/* the Get g failed with code, told to the backend without a result */
void
expect_get_failed(fixture_t *f, const char *code);

/* the device's object refused with code at its chunk (Results CmdID
   cmd_ref of message msg_ref): the Get failed, nothing kept */
void
expect_object_refused(fixture_t *f, outcome_t *o, const char *msg_ref,
    const char *cmd_ref, const char *code);

#endif /* LARGE_OBJECTS_H */
