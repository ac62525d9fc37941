/*
 * What the tests of large objects sent to the device share
 * (test_large_objects_out*.c): the backend's large command, and a device
 * that follows the object chunk by chunk.
 */

#ifndef OUTGOING_OBJECTS_H
#define OUTGOING_OBJECTS_H

#include "large_objects.h"

/* how a test value is made (make_value) and how the backend gives it */
enum { PLAIN = 0, MARKUP = 1 };
enum { INLINE = 0, FETCHED = 1 };

#define XML_LIMIT  2048

#define BIG_FAILED(reason)                                                  \
    "\"failed\":[{\"command_id\":\"big\",\"reason\":\"" reason

#define NO_ROOM_FAILED                                                      \
    BIG_FAILED("no room for a chunk of the large object within the "        \
               "device's MaxMsgSize\"}]")

/* Replace "big" of ./Big, its data_size bytes fetched through "object" */
#define BIG_FETCHED(size)                                                   \
    "{\"id\":\"big\",\"verb\":\"Replace\",\"target\":\"./Big\","            \
    "\"data_size\":" size "}"

/* our Get of ./After, behind the large object */
#define GET_AFTER                                                           \
    ",{\"id\":\"after\",\"verb\":\"Get\",\"target\":\"./After\"}"

typedef struct {
    int          enc;
    const char  *session;
    char         token[33];
    size_t       limit;         /* the device's MaxMsgSize */
    const char  *id;            /* the backend's command id */
    size_t       size;          /* bytes of the value */
    int          fetched;       /* through "object" (data_size) */
    int          queued;        /* a command waits behind the object */
    int          dev_msg;       /* the device's last MsgID */
    size_t       log_seen;      /* of be.object_log */
    char         got[8192];     /* the chunks so far */
    char         cmd_id[16];    /* of the last chunk */
    int          server_msg;    /* of the last chunk */
    int          chunks;
    int          open_answers;  /* 213s sent as the spec has them: with
                                   Alert 1222, without Final */
} follow_t;

/* Replace "big" of ./Big as a backend command: value inline, or fetched
   through "object" (data_size) */
const char *
big_command(const char *value, int fetched);

/* the backend's next commands: `before` (commands and a comma, or ""),
   Replace "big" with value (big_command), then `after` (a comma and
   commands, or ""); a fetched value served by "object" */
void
queue_with_big(fixture_t *f, const char *before, const char *value,
    int fetched, const char *after);

/* Replace "big" with value as the backend's only next command */
void
queue_big(fixture_t *f, const char *value, int fetched);

const char *
item_field(const outcome_t *o, const char *verb, int k, const char *leaf);

/* the index of our Get in answer o, which must hold one; of target
   unless that is NULL */
int
expect_get_of(const outcome_t *o, const char *target);

/* answer o holds no chunk and ends our package, and the session keeps no
   outgoing object */
void
expect_object_dropped(fixture_t *f, outcome_t *o);

/* answer o, after the backend calls ops: the Replace failed to the
   backend (`failed`: what it is told), no chunk, the package ends */
void
expect_big_failed(fixture_t *f, outcome_t *o, const char *ops,
    const char *failed);

/*
 * Checks the chunk of the Replace (target ./Big) in answer o and keeps
 * its data; true when it was not the last.
 */
int
take_chunk(fixture_t *f, follow_t *fl, outcome_t *o);

/* the device's answer to the last chunk: its Status `code` (and Final) */
void
answer_chunk(fixture_t *f, follow_t *fl, const char *code, outcome_t *o);

/*
 * From the answer o holding the first chunk, 213 to each chunk until the
 * last (o is then the answer holding it): every answer within the
 * device's MaxMsgSize, the backend asked for no command meanwhile and told
 * nothing of the object.
 */
void
follow_object(fixture_t *f, follow_t *fl, outcome_t *o);

/*
 * follow_object, then: the device got value whole, and its 200 for the
 * last chunk reached the backend as the command's Status (o is our
 * answer to that one).
 */
void
deliver_whole(fixture_t *f, follow_t *fl, const char *value, outcome_t *o);

/* package 1 from a device with MaxMsgSize limit (and MaxObjSize maxobj
   unless NULL), in encoding enc */
void
follow_start_as(fixture_t *f, follow_t *fl, int enc, size_t limit,
    const char *maxobj, outcome_t *o);

/* package 1 in XML from a device with MaxMsgSize XML_LIMIT, to follow
   command "big" of size bytes, fetched through "object" or inline */
void
follow_start(fixture_t *f, follow_t *fl, size_t size, int fetched,
    outcome_t *o);

/* Replace "big" of 5000 bytes (make_value, with markup or not), inline
   or fetched, as the backend's only command; its first chunk sent in the
   answer to package 1, not its last.  Returns the value. */
const char *
first_chunk_sent(fixture_t *f, follow_t *fl, int markup, int fetched);

/* the device's 213 for the chunk sent, after which the Replace fails:
   see expect_big_failed */
void
big_fails_after_213(fixture_t *f, follow_t *fl, const char *ops,
    const char *failed);

#endif /* OUTGOING_OBJECTS_H */
