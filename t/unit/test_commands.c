/*
 * Command trees through the C ABI: Copy, Atomic and Sequence (nested, each
 * command with its own CmdID and outstanding entry), user-interaction
 * alerts and their answers, the server's session abort (Alert 1223), and
 * backend answers the engine must refuse.
 */

#include "exchange_harness.h"


/* Copy, an Atomic holding a Replace and a Sequence with a Get, a single
   choice alert */
#define TREE                                                                \
    "[{\"id\":\"1\",\"verb\":\"Copy\",\"target\":\"./A/new\","              \
    "\"source\":\"./A/old\"},"                                              \
    "{\"id\":\"2\",\"verb\":\"Atomic\",\"commands\":["                      \
    "{\"id\":\"3\",\"verb\":\"Replace\",\"target\":\"./B\",\"data\":\"1\","  \
    "\"format\":\"int\"},"                                                  \
    "{\"id\":\"4\",\"verb\":\"Sequence\",\"commands\":["                    \
    "{\"id\":\"5\",\"verb\":\"Get\",\"target\":\"./C\"}]}]},"               \
    "{\"id\":\"6\",\"verb\":\"Alert\",\"data\":\"1103\","                   \
    "\"options\":\"MINDT=10&DR=1\",\"text\":\"Pick\","                      \
    "\"choices\":[\"Red\",\"Blue\"]}]"

/* needle in the last exchange request, or fail showing it */
#define STATUS(id, ref, cmd, code, extra)                                   \
    "<Status><CmdID>" id "</CmdID><MsgRef>1</MsgRef><CmdRef>" ref           \
    "</CmdRef><Cmd>" cmd "</Cmd><Data>" code "</Data>" extra "</Status>"


static void
test_tree_encoding(void **state)
{
    fixture_t   *f = *state;
    outcome_t    o;
    char         token[33];
    const char  *blob;

    f->be.commands = TREE;
    login(f, "1", &o, token);

    expect_field(&o, "SyncBody/Copy[4]/CmdID", "4");
    expect_field(&o, "SyncBody/Copy[4]/Item[1]/Target", "./A/new");
    expect_field(&o, "SyncBody/Copy[4]/Item[1]/Source", "./A/old");
    expect_no_field(&o, "SyncBody/Copy[4]/Item[1]/Data");

    expect_field(&o, "SyncBody/Atomic[5]/CmdID", "5");
    expect_no_field(&o, "SyncBody/Atomic[5]/Item[1]/Target");
    expect_field(&o, "SyncBody/Atomic[5]/Replace[1]/CmdID", "6");
    expect_field(&o, "SyncBody/Atomic[5]/Replace[1]/Item[1]/Target", "./B");
    expect_field(&o, "SyncBody/Atomic[5]/Replace[1]/Item[1]/Meta/Format",
                 "int");
    expect_field(&o, "SyncBody/Atomic[5]/Replace[1]/Item[1]/Data", "1");
    expect_field(&o, "SyncBody/Atomic[5]/Sequence[2]/CmdID", "7");
    expect_field(&o, "SyncBody/Atomic[5]/Sequence[2]/Get[1]/CmdID", "8");
    expect_field(&o, "SyncBody/Atomic[5]/Sequence[2]/Get[1]/Item[1]/Target",
                 "./C");

    expect_field(&o, "SyncBody/Alert[6]/CmdID", "9");
    expect_field(&o, "SyncBody/Alert[6]/Data", "1103");
    expect_field(&o, "SyncBody/Alert[6]/Item[1]/Data", "MINDT=10&DR=1");
    expect_field(&o, "SyncBody/Alert[6]/Item[2]/Data", "Pick");
    expect_field(&o, "SyncBody/Alert[6]/Item[3]/Data", "Red");
    expect_field(&o, "SyncBody/Alert[6]/Item[4]/Data", "Blue");
    expect_no_field(&o, "SyncBody/Alert[6]/Item[5]/Data");
    expect_field(&o, "SyncBody/Final", "1");

    /* every command, nested or not, is outstanding under its own id */
    blob = session_blob(&f->mem, "1");
    assert_non_null(blob);
    assert_non_null(strstr(blob, "\"1:4\":\"1\""));
    assert_non_null(strstr(blob, "\"1:5\":\"2\""));
    assert_non_null(strstr(blob, "\"1:6\":\"3\""));
    assert_non_null(strstr(blob, "\"1:7\":\"4\""));
    assert_non_null(strstr(blob, "\"1:8\":\"5\""));
    assert_non_null(strstr(blob, "\"1:9\":\"6\""));
    assert_null(strstr(blob, "\"ended\":true"));
    outcome_free(&o);
}

/* The device's Statuses for containers and children, a Result inside the
   Sequence, and the choice the user made, each on its backend id. */
static void
test_statuses_matched(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        token[33], msg[16384];

    f->be.commands = TREE;
    login(f, "2", &o, token);
    outcome_free(&o);

    snprintf(msg, sizeof(msg), "%s", device_msg("2", 2, NULL,
        HDR_STATUS("1")
        STATUS("2", "4", "Copy", "200", "")
        STATUS("3", "5", "Atomic", "507", "")
        STATUS("4", "6", "Replace", "216", "")
        STATUS("5", "7", "Sequence", "500", "")
        STATUS("6", "8", "Get", "200", "")
        STATUS("7", "9", "Alert", "200", "<Item><Data>2</Data></Item>")
        "<Results><CmdID>8</CmdID><MsgRef>1</MsgRef><CmdRef>8</CmdRef>"
        "<Item><Source><LocURI>./C</LocURI></Source><Data>v</Data></Item>"
        "</Results>"));
    drive(f, msg, token, &o);
    assert_int_equal(o.http_status, 200);
    assert_string_equal(o.ops, "exchange");
    expect_exchange(f,
        "\"statuses\":[{\"command_id\":\"1\",\"status\":200},"
        "{\"command_id\":\"2\",\"status\":507},"
        "{\"command_id\":\"3\",\"status\":216},"
        "{\"command_id\":\"4\",\"status\":500},"
        "{\"command_id\":\"5\",\"status\":200},"
        "{\"command_id\":\"6\",\"items\":[{\"data\":\"2\",\"source\":\"\","
        "\"target\":\"\"}],\"status\":200}]");
    expect_exchange(f,
        "\"results\":[{\"command_id\":\"5\",\"data\":\"v\","
        "\"format\":\"\",\"source\":\"./C\"");
    /* answered: nothing outstanding, the session is over */
    expect_no_field(&o, "SyncBody/Status[2]/CmdID");
    assert_null(strstr(session_blob(&f->mem, "2"), "\"1:"));
    assert_non_null(strstr(session_blob(&f->mem, "2"), "\"ended\":true"));
    outcome_free(&o);
}

/* Alerts without options or choices keep their Item positions: Item 1 is
   there (empty), Item 2 is the text. */
static void
test_alert_items(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        token[33], msg[16384];

    f->be.commands =
        "[{\"id\":\"a\",\"verb\":\"Alert\",\"data\":\"1101\","
        "\"text\":\"Install?\"},"
        "{\"id\":\"b\",\"verb\":\"Alert\",\"data\":\"1104\","
        "\"text\":\"Which?\",\"choices\":[\"x\",\"y\",\"z\"]}]";
    login(f, "3", &o, token);
    expect_field(&o, "SyncBody/Alert[4]/Data", "1101");
    expect_field(&o, "SyncBody/Alert[4]/Item[1]", "");
    expect_no_field(&o, "SyncBody/Alert[4]/Item[1]/Data");
    expect_field(&o, "SyncBody/Alert[4]/Item[2]/Data", "Install?");
    expect_no_field(&o, "SyncBody/Alert[4]/Item[3]/Data");
    expect_field(&o, "SyncBody/Alert[5]/Item[5]/Data", "z");
    outcome_free(&o);

    /* No, and two choices */
    snprintf(msg, sizeof(msg), "%s", device_msg("3", 2, NULL,
        HDR_STATUS("1")
        STATUS("2", "4", "Alert", "304", "")
        STATUS("3", "5", "Alert", "200",
               "<Item><Data>1</Data></Item><Item><Data>3</Data></Item>")));
    drive(f, msg, token, &o);
    expect_exchange(f,
        "{\"command_id\":\"a\",\"status\":304},"
        "{\"command_id\":\"b\",\"items\":["
        "{\"data\":\"1\",\"source\":\"\",\"target\":\"\"},"
        "{\"data\":\"3\",\"source\":\"\",\"target\":\"\"}],"
        "\"status\":200}");
    outcome_free(&o);
}

/* The server's Alert 1223 goes alone after the Statuses, with Final, and
   ends the session; other commands of that answer are not sent. */
static void
test_server_abort(void **state)
{
    fixture_t   *f = *state;
    outcome_t    o;
    char         token[33];
    const char  *blob;

    f->be.commands =
        "[{\"id\":\"g\",\"verb\":\"Get\",\"target\":\"./A\"},"
        "{\"id\":\"x\",\"verb\":\"Alert\",\"data\":\"1223\"}]";
    login(f, "4", &o, token);
    expect_field(&o, "SyncBody/Status[3]/Cmd", "Replace");
    expect_field(&o, "SyncBody/Alert[4]/CmdID", "4");
    expect_field(&o, "SyncBody/Alert[4]/Data", "1223");
    expect_no_field(&o, "SyncBody/Alert[4]/Item[1]");
    expect_no_field(&o, "SyncBody/Get[4]/CmdID");
    expect_no_field(&o, "SyncBody/Get[5]/CmdID");
    expect_field(&o, "SyncBody/Final", "1");
    blob = session_blob(&f->mem, "4");
    assert_non_null(strstr(blob, "\"ended\":true"));
    assert_null(strstr(blob, "\"1:4\""));
    outcome_free(&o);
}

/* The device's Alert 1223 (§3.2): its Statuses still reach the backend,
   no command is taken, the answer is Statuses only and the session ends. */
static void
test_device_abort(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        token[33], msg[16384];

    f->be.commands = TREE;
    login(f, "5", &o, token);
    outcome_free(&o);
    f->be.commands = "[{\"id\":\"9\",\"verb\":\"Get\",\"target\":\"./Z\"}]";
    snprintf(msg, sizeof(msg), "%s", device_msg("5", 2, NULL,
        HDR_STATUS("1")
        STATUS("2", "4", "Copy", "200", "")
        "<Alert><CmdID>3</CmdID><Data>1223</Data></Alert>"));
    drive(f, msg, token, &o);
    expect_exchange(f,
        "\"statuses\":[{\"command_id\":\"1\",\"status\":200}]");
    expect_exchange(f, "\"code\":\"1223\"");
    expect_exchange(f, "\"max_commands\":0");
    expect_field(&o, "SyncBody/Status[1]/Data", "200");
    expect_field(&o, "SyncBody/Status[2]/Cmd", "Alert");
    expect_field(&o, "SyncBody/Status[2]/Data", "200");
    expect_no_field(&o, "SyncBody/Status[3]/CmdID");
    expect_no_field(&o, "SyncBody/Get[3]/CmdID");
    expect_field(&o, "SyncBody/Final", "1");
    assert_non_null(strstr(session_blob(&f->mem, "5"), "\"ended\":true"));
    outcome_free(&o);
}

/* Answers the engine cannot deliver are refused whole (503, nothing
   acknowledged), with a reason. */
static void
test_bad_trees(void **state)
{
    fixture_t   *f = *state;
    outcome_t    o;
    char         token[33], msg[16384], deep[2048], many[8192];
    size_t       i;
    int          n;

    struct { const char *commands, *reason; } cases[] = {
        { "[{\"id\":\"1\",\"verb\":\"Copy\",\"target\":\"./A\"}]",
          "backend sent a Copy without target and source\n" },
        { "[{\"id\":\"1\",\"verb\":\"Alert\",\"data\":\"1105\"}]",
          "backend sent an Alert with an unknown code\n" },
        { "[{\"id\":\"1\",\"verb\":\"Alert\",\"data\":\"1103\","
          "\"choices\":[1]}]",
          "backend sent an Alert with bad choices\n" },
        { "[{\"id\":\"1\",\"verb\":\"Sequence\",\"commands\":["
          "{\"id\":\"2\",\"verb\":\"Alert\",\"data\":\"1223\"}]}]",
          "backend nested a session abort (Alert 1223)\n" },
        { "[{\"id\":\"1\",\"verb\":\"Atomic\",\"commands\":[]}]",
          "backend sent a container without commands\n" },
        { "[{\"id\":\"1\",\"verb\":\"Atomic\",\"commands\":["
          "{\"id\":\"\",\"verb\":\"Get\",\"target\":\"./A\"}]}]",
          "backend exchange answer has a malformed command\n" },
        { deep, "backend nested Atomic/Sequence too deep\n" },
        { many, "backend sent a container with too many commands\n" },
    };

    /* five levels of Atomic */
    n = 0;
    for (i = 0; i < 5; i++) {
        n += snprintf(deep + n, sizeof(deep) - n,
                      "[{\"id\":\"a%zu\",\"verb\":\"Atomic\","
                      "\"commands\":", i);
    }
    n += snprintf(deep + n, sizeof(deep) - n,
                  "[{\"id\":\"g\",\"verb\":\"Get\",\"target\":\"./A\"}]");
    for (i = 0; i < 5; i++) {
        n += snprintf(deep + n, sizeof(deep) - n, "}]");
    }
    /* 101 commands in one Sequence */
    n = snprintf(many, sizeof(many),
                 "[{\"id\":\"s\",\"verb\":\"Sequence\",\"commands\":[");
    for (i = 0; i < 101; i++) {
        n += snprintf(many + n, sizeof(many) - n,
                      "%s{\"id\":\"g%zu\",\"verb\":\"Get\",\"target\":\"./A\"}",
                      i ? "," : "", i);
    }
    snprintf(many + n, sizeof(many) - n, "]}]");

    f->be.commands = "[{\"id\":\"0\",\"verb\":\"Get\",\"target\":\"./A\"}]";
    login(f, "6", &o, token);
    outcome_free(&o);
    snprintf(msg, sizeof(msg), "%s", device_msg("6", 2, NULL,
             HDR_STATUS("1") STATUS("2", "4", "Get", "404", "")));

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        f->be.commands = cases[i].commands;
        drive(f, msg, token, &o);
        assert_int_equal(o.http_status, 503);
        assert_string_equal(o.body, cases[i].reason);
        /* nothing acknowledged: the Get is still outstanding */
        assert_non_null(strstr(session_blob(&f->mem, "6"), "\"1:4\":\"0\""));
        outcome_free(&o);
    }

    /* four levels and 100 commands are fine */
    f->be.commands =
        "[{\"id\":\"a\",\"verb\":\"Atomic\",\"commands\":["
        "{\"id\":\"b\",\"verb\":\"Sequence\",\"commands\":["
        "{\"id\":\"c\",\"verb\":\"Atomic\",\"commands\":["
        "{\"id\":\"d\",\"verb\":\"Sequence\",\"commands\":["
        "{\"id\":\"e\",\"verb\":\"Get\",\"target\":\"./A\"}]}]}]}]}]";
    drive(f, msg, token, &o);
    assert_int_equal(o.http_status, 200);
    expect_field(&o, "SyncBody/Atomic[2]/Sequence[1]/Atomic[1]/Sequence[1]"
                     "/Get[1]/Item[1]/Target", "./A");
    outcome_free(&o);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tree_encoding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_statuses_matched, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_alert_items, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_abort, setup, teardown),
        cmocka_unit_test_setup_teardown(test_device_abort, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_trees, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
