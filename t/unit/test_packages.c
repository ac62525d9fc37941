/*
 * Multi-message packages through the C ABI (§3.3): the device's own
 * packages (a message without Final is answered with Alert 1222 and no
 * command), the server's messages kept within the device's MaxMsgSize
 * (commands that do not fit wait in the session for its next message), a
 * command too large for any message failing to the backend, and the
 * server's own MaxMsgSize in its SyncHdr.
 */

#include "exchange_harness.h"


/* n Replace commands "r1".."rn", each with `size` bytes of data */
static char *
replaces(int n, size_t size)
{
    static char  buf[16000];
    char        *p = buf;
    char         data[2048];
    int          i;

    assert_true(size < sizeof(data));
    memset(data, 'x', size);
    data[size] = '\0';
    p += sprintf(p, "[");
    for (i = 1; i <= n; i++) {
        p += sprintf(p, "%s{\"id\":\"r%d\",\"verb\":\"Replace\","
                     "\"target\":\"./A/%d\",\"data\":\"%s\"}",
                     i > 1 ? "," : "", i, i, data);
        assert_true((size_t) (p - buf) < sizeof(buf) - 64);
    }
    sprintf(p, "]");
    return buf;
}


/* A device package of three messages: the first two get Status + 1222,
   no command, no Final, their content reaches the backend asked for no
   command (but a Get's Status, held until the package's end: its Results
   may still come); the last one gets the commands. */
static void
test_device_package(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        token[33];

    f->be.commands = "[{\"id\":\"g\",\"verb\":\"Get\",\"target\":\"./A\"}]";
    login_with(f, OMADM_ENC_XML, "1", "", &o, token);
    expect_field(&o, "SyncBody/Get[4]/CmdID", "4");
    outcome_free(&o);

    /* message 2: the Get's Status and a first Result, no Final */
    drive(f, package_msg("1", 2, NULL, HDR_STATUS("1")
        "<Status><CmdID>2</CmdID><MsgRef>1</MsgRef><CmdRef>4</CmdRef>"
        "<Cmd>Get</Cmd><Data>200</Data></Status>"
        "<Results><CmdID>3</CmdID><MsgRef>1</MsgRef><CmdRef>4</CmdRef>"
        "<Item><Source><LocURI>./A/1</LocURI></Source><Data>one</Data>"
        "</Item></Results>", 0), token, &o);
    assert_int_equal(o.http_status, 200);
    assert_string_equal(o.ops, "exchange");
    expect_exchange(f, "\"max_commands\":0");
    expect_exchange(f, "\"data\":\"one\"");
    /* the Get's Status waits for the package's end: more Results may come */
    expect_exchange(f, "\"statuses\":[]");
    expect_field(&o, "SyncBody/Status[1]/Data", "200");
    expect_field(&o, "SyncBody/Alert[2]/Data", "1222");
    expect_no_field(&o, "SyncBody/Get[3]/CmdID");
    expect_no_field(&o, "SyncBody/Final");
    outcome_free(&o);

    /* message 3: another Result of the same Get (the Status came first),
       no Final either */
    drive(f, package_msg("1", 3, NULL,
        "<Results><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>4</CmdRef>"
        "<Item><Source><LocURI>./A/2</LocURI></Source><Data>two</Data>"
        "</Item></Results>", 0), token, &o);
    assert_int_equal(o.http_status, 200);
    expect_exchange(f, "\"max_commands\":0");
    expect_exchange(f, "\"data\":\"two\"");
    expect_field(&o, "SyncBody/Alert[2]/Data", "1222");
    expect_no_field(&o, "SyncBody/Final");
    outcome_free(&o);

    /* message 4, Final: the Get's Status, the normal answer with commands */
    f->be.commands = "[{\"id\":\"h\",\"verb\":\"Get\",\"target\":\"./B\"}]";
    drive(f, package_msg("1", 4, NULL,
        "<Alert><CmdID>1</CmdID><Data>1222</Data></Alert>", 1), token, &o);
    assert_int_equal(o.http_status, 200);
    expect_exchange(f, "\"max_commands\":50");
    expect_exchange(f, "\"statuses\":[{\"command_id\":\"g\",\"status\":200}]");
    expect_field(&o, "SyncBody/Status[2]/Cmd", "Alert");
    expect_field(&o, "SyncBody/Get[3]/Item[1]/Target", "./B");
    expect_field(&o, "SyncBody/Final", "1");
    outcome_free(&o);
}

/* Ten commands of 300 bytes through a MaxMsgSize of 2048: every message
   within it, the commands in order, each once, Final on the last only;
   the backend is asked for none while some wait. */
static void
test_server_package(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        token[33], path[64], body[4096], *p;
    int         next = 1, msg = 1, i, sent, final = 0;

    f->be.commands = replaces(10, 300);
    login_with(f, OMADM_ENC_XML, "2", MAXMSG("2048"), &o, token);

    for (;;) {
        assert_true(o.len <= 2048);
        sent = 0;
        p = body;
        p += sprintf(p, HDR_STATUS("%d"), msg);
        for (i = 3; i < 20; i++) {
            const char  *t;
            char         id[512];

            snprintf(path, sizeof(path), "SyncBody/Replace[%d]/CmdID", i);
            t = field(&o, path);
            if (t == NULL) {
                continue;
            }
            snprintf(id, sizeof(id), "%s", t);
            snprintf(path, sizeof(path),
                     "SyncBody/Replace[%d]/Item[1]/Target", i);
            t = field(&o, path);
            snprintf(path, sizeof(path), "./A/%d", next);
            assert_string_equal(t, path);
            p += sprintf(p, "<Status><CmdID>%d</CmdID><MsgRef>%d</MsgRef>"
                         "<CmdRef>%s</CmdRef><Cmd>Replace</Cmd>"
                         "<Data>200</Data></Status>", i, msg, id);
            next++;
            sent++;
        }
        final = field(&o, "SyncBody/Final") != NULL;
        if (final) {
            break;
        }
        assert_true(sent >= 1 && sent <= 5);
        assert_non_null(strstr(session_blob(&f->mem, "2"), "\"pending\":[{\""));
        p += sprintf(p, "<Alert><CmdID>99</CmdID><Data>1222</Data></Alert>");
        outcome_free(&o);
        msg++;
        drive(f, package_msg("2", msg, NULL, body, 1), token, &o);
        assert_int_equal(o.http_status, 200);
        assert_string_equal(o.ops, "exchange");
        expect_exchange(f, "\"max_commands\":0");
        /* the device's Statuses still reach the backend */
        expect_exchange(f, "\"status\":200");
    }
    assert_int_equal(next, 11);
    assert_true(msg >= 3);
    outcome_free(&o);
}

/* A command too large for any message, and not one a large object can
   carry (an Exec), fails to the backend with a reason (a second
   exchange), the others go. */
/* an exchange answer: Exec "big" with 1500 bytes of data, then more */
static const char *
big_exec_then(const char *more)
{
    static char cmds[4096];
    char        data[1501];

    memset(data, 'y', 1500);
    data[1500] = '\0';
    snprintf(cmds, sizeof(cmds),
        "[{\"id\":\"big\",\"verb\":\"Exec\",\"target\":\"./Big\","
        "\"data\":\"%s\"}%s]", data, more);
    return cmds;
}

static void
test_too_large(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        token[33];

    f->be.commands = big_exec_then(
        ",{\"id\":\"small\",\"verb\":\"Get\",\"target\":\"./S\"}");
    login_with(f, OMADM_ENC_XML, "3", MAXMSG("1400"), &o, token);
    assert_string_equal(o.ops, "auth,exchange,exchange");
    expect_exchange(f, "\"failed\":[{\"command_id\":\"big\",\"reason\":"
                       "\"command too large for the device's MaxMsgSize"
                       " (1400 bytes)\"}]");
    expect_exchange(f, "\"max_commands\":49");
    expect_no_field(&o, "SyncBody/Exec[4]/CmdID");
    expect_field(&o, "SyncBody/Get[4]/Item[1]/Target", "./S");
    expect_field(&o, "SyncBody/Final", "1");
    assert_true(o.len <= 1400);
    outcome_free(&o);
}

/* A backend that hands out again a command reported failed (it should mark
   it failed) gets a few more rounds, then the device a 503, not a loop. */
static void
test_failed_handed_out_again(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        hdr[1024], nonce[64];

    f->be.commands = big_exec_then("");
    f->be.commands_stick = 1;
    strcpy(nonce, f->be.nonce);
    snprintf(hdr, sizeof(hdr), "%s%s", md5_cred("dev1", "secret", nonce),
             MAXMSG("1400"));
    drive(f, package_msg("5", 1, hdr, PKG1("1", "2"), 1), NULL, &o);
    assert_int_equal(o.http_status, 503);
    assert_string_equal(o.ops, "auth,exchange,exchange,exchange,exchange,"
                               "exchange,exchange,exchange,exchange,exchange");
    assert_non_null(strstr(o.body, "commands reported failed"));
    outcome_free(&o);
}

/* The server declares its own MaxMsgSize, after Cred in the SyncHdr. */
static void
test_server_max_msg_size(void **state)
{
    fixture_t  *f = *state;
    outcome_t   o;
    char        token[33];

    f->cf.max_message_size = 65536;
    login_with(f, OMADM_ENC_XML, "4", "", &o, token);
    expect_field(&o, "SyncHdr/Meta/MaxMsgSize", "65536");
    assert_non_null(strstr(o.body, "</RespURI><Meta><MaxMsgSize"));
    outcome_free(&o);

    /* the challenge too */
    drive(f, package_msg("5", 1, NULL, PKG1("1", "2"), 1), NULL, &o);
    expect_field(&o, "SyncBody/Status[1]/Data", "407");
    expect_field(&o, "SyncHdr/Meta/MaxMsgSize", "65536");
    outcome_free(&o);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_device_package, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_server_package, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_handed_out_again, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_server_max_msg_size, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
