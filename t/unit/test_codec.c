/*
 * SyncML decoding and re-encoding through the C ABI
 * (omadm_syncml_describe / omadm_syncml_reencode): the protocol digest's
 * example messages, hostile and broken input, limits, and round trips.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "omadm.h"

static const omadm_limits_t  limits = { 32, 20000, 1024 * 1024 };

#define HDR12(sid, msgid)                                                    \
    "<SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>"              \
    "<SessionID>" sid "</SessionID><MsgID>" msgid "</MsgID>"                \
    "<Target><LocURI>https://dm.example.com/omadm</LocURI></Target>"        \
    "<Source><LocURI>IMEI:490154203237518</LocURI></Source></SyncHdr>"

#define MSG12(body)                                                          \
    "<SyncML xmlns=\"SYNCML:SYNCML1.2\">" HDR12("42", "1")                  \
    "<SyncBody>" body "<Final/></SyncBody></SyncML>"


/* protocol digest §8 ①: package 1, no credentials */
static const char  pkg1[] =
"<SyncML xmlns=\"SYNCML:SYNCML1.2\">\n"
" <SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>42</SessionID><MsgID>1</MsgID>\n"
"  <Target><LocURI>https://dm.example.com/omadm</LocURI></Target>\n"
"  <Source><LocURI>IMEI:490154203237518</LocURI><LocName>dev1</LocName></Source>\n"
"  <Meta><MaxMsgSize xmlns=\"syncml:metinf\">20000</MaxMsgSize><MaxObjSize xmlns=\"syncml:metinf\">100000</MaxObjSize></Meta>\n"
" </SyncHdr>\n"
" <SyncBody>\n"
"  <Alert><CmdID>1</CmdID><Data>1201</Data></Alert>\n"
"  <Replace><CmdID>2</CmdID>\n"
"   <Item><Source><LocURI>./DevInfo/DevId</LocURI></Source><Data>IMEI:490154203237518</Data></Item>\n"
"   <Item><Source><LocURI>./DevInfo/Man</LocURI></Source><Data>Example Corp</Data></Item>\n"
"   <Item><Source><LocURI>./DevInfo/Mod</LocURI></Source><Data>X100</Data></Item>\n"
"   <Item><Source><LocURI>./DevInfo/DmV</LocURI></Source><Data>1.2</Data></Item>\n"
"   <Item><Source><LocURI>./DevInfo/Lang</LocURI></Source><Data>en-US</Data></Item>\n"
"  </Replace>\n"
"  <Final/>\n"
" </SyncBody>\n"
"</SyncML>\n";

/* §8 ②: server challenge */
static const char  pkg2_chal[] =
"<SyncML xmlns=\"SYNCML:SYNCML1.2\">\n"
" <SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>42</SessionID><MsgID>1</MsgID>\n"
"  <Target><LocURI>IMEI:490154203237518</LocURI></Target>\n"
"  <Source><LocURI>https://dm.example.com/omadm</LocURI></Source>\n"
"  <RespURI>https://dm.example.com/omadm?s=7f3a9c</RespURI>\n"
" </SyncHdr>\n"
" <SyncBody>\n"
"  <Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd>\n"
"   <TargetRef>https://dm.example.com/omadm</TargetRef><SourceRef>IMEI:490154203237518</SourceRef>\n"
"   <Chal><Meta><Type xmlns=\"syncml:metinf\">syncml:auth-md5</Type><Format xmlns=\"syncml:metinf\">b64</Format>\n"
"    <NextNonce xmlns=\"syncml:metinf\">00qRAH8Q7kJbLIgZwP8zpw==</NextNonce></Meta></Chal>\n"
"   <Data>407</Data></Status>\n"
"  <Status><CmdID>2</CmdID><MsgRef>1</MsgRef><CmdRef>1</CmdRef><Cmd>Alert</Cmd><Data>407</Data></Status>\n"
"  <Status><CmdID>3</CmdID><MsgRef>1</MsgRef><CmdRef>2</CmdRef><Cmd>Replace</Cmd><Data>407</Data></Status>\n"
"  <Final/>\n"
" </SyncBody>\n"
"</SyncML>\n";

/* §8 ③: with Cred, in SYNCML 1.1 and with a prefixed metinf namespace */
static const char  pkg1_cred_11[] =
"<SyncML xmlns=\"SYNCML:SYNCML1.1\" xmlns:mi=\"syncml:metinf\">\n"
" <SyncHdr><VerDTD>1.1</VerDTD><VerProto>DM/1.1</VerProto><SessionID>42</SessionID><MsgID>2</MsgID>\n"
"  <Target><LocURI>https://dm.example.com/omadm?s=7f3a9c</LocURI></Target>\n"
"  <Source><LocURI>IMEI:490154203237518</LocURI><LocName>dev1</LocName></Source>\n"
"  <Cred><Meta><mi:Type>syncml:auth-md5</mi:Type><mi:Format>b64</mi:Format></Meta>\n"
"   <Data>TQMT1Y62qXyh7tF3TZ5l7Q==</Data></Cred>\n"
"  <Meta><mi:MaxMsgSize>20000</mi:MaxMsgSize></Meta>\n"
" </SyncHdr>\n"
" <SyncBody>\n"
"  <Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd>\n"
"   <TargetRef>IMEI:490154203237518</TargetRef><SourceRef>https://dm.example.com/omadm</SourceRef><Data>200</Data></Status>\n"
"  <Alert><CmdID>2</CmdID><Data>1201</Data></Alert>\n"
"  <Replace><CmdID>3</CmdID>\n"
"   <Item><Source><LocURI>./DevInfo/DevId</LocURI></Source><Data>IMEI:490154203237518</Data></Item>\n"
"  </Replace>\n"
"  <Final/>\n"
" </SyncBody>\n"
"</SyncML>\n";

/* §8 ⑤: Statuses and Results, Item Meta written before Target/Source */
static const char  pkg3[] =
"<SyncML xmlns=\"SYNCML:SYNCML1.2\">\n"
" <SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>42</SessionID><MsgID>3</MsgID>\n"
"  <Target><LocURI>https://dm.example.com/omadm?s=7f3a9c</LocURI></Target>\n"
"  <Source><LocURI>IMEI:490154203237518</LocURI></Source>\n"
" </SyncHdr>\n"
" <SyncBody>\n"
"  <Status><CmdID>1</CmdID><MsgRef>2</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd>\n"
"   <TargetRef>IMEI:490154203237518</TargetRef><SourceRef>https://dm.example.com/omadm</SourceRef><Data>200</Data></Status>\n"
"  <Status><CmdID>2</CmdID><MsgRef>2</MsgRef><CmdRef>4</CmdRef><Cmd>Get</Cmd>\n"
"   <TargetRef>./DevDetail/SwV</TargetRef><Data>200</Data></Status>\n"
"  <Status><CmdID>3</CmdID><MsgRef>2</MsgRef><CmdRef>5</CmdRef><Cmd>Get</Cmd>\n"
"   <TargetRef>./DevDetail/Ext/Unknown</TargetRef><Data>404</Data></Status>\n"
"  <Results><CmdID>4</CmdID><MsgRef>2</MsgRef><CmdRef>4</CmdRef>\n"
"   <Item><Meta><Format xmlns=\"syncml:metinf\">chr</Format><Type xmlns=\"syncml:metinf\">text/plain</Type></Meta>\n"
"    <Data>4.2.1</Data><Source><LocURI>./DevDetail/SwV</LocURI></Source></Item></Results>\n"
"  <Alert><CmdID>5</CmdID><Data>1226</Data><Correlator>job-42</Correlator>\n"
"   <Item><Meta><Type xmlns=\"syncml:metinf\">org.openmobilealliance.dm.firmwareupdate.downloadandupdate</Type>\n"
"    <Format xmlns=\"syncml:metinf\">int</Format><Mark xmlns=\"syncml:metinf\">critical</Mark></Meta>\n"
"    <Source><LocURI>./FwUpdate/Pkg1/DownloadAndUpdate</LocURI></Source><Data>200</Data></Item></Alert>\n"
"  <Final/>\n"
" </SyncBody>\n"
"</SyncML>\n";

/* Windows-shaped package 1: CmdIDs from 2, a 1224 alert, msft namespace */
static const char  windows_pkg1[] =
"<SyncML xmlns=\"SYNCML:SYNCML1.2\">"
"<SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1D</SessionID><MsgID>1</MsgID>"
"<Target><LocURI>https://dm.contoso.com/omadm/Windows.ashx</LocURI></Target>"
"<Source><LocURI>{7A3C1D2E-0000-4000-8000-00000000ABCD}</LocURI></Source></SyncHdr>"
"<SyncBody xmlns:msft=\"http://schemas.microsoft.com/MobileDevice/MDM\">"
"<Alert><CmdID>2</CmdID><Data>1201</Data></Alert>"
"<Alert><CmdID>3</CmdID><Data>1224</Data><Item><Meta>"
"<Type xmlns=\"syncml:metinf\">com.microsoft/MDM/LoginStatus</Type></Meta><Data>user</Data></Item></Alert>"
"<msft:Extension><msft:Thing>ignored<Alert><CmdID>99</CmdID></Alert></msft:Thing></msft:Extension>"
"<Replace><CmdID>4</CmdID>"
"<Item><Source><LocURI>./DevInfo/DevId</LocURI></Source><Data>{7A3C1D2E-0000-4000-8000-00000000ABCD}</Data></Item>"
"<Item><Source><LocURI>./DevInfo/Man</LocURI></Source><Data>Dell Inc.</Data></Item>"
"<Item><Source><LocURI>./Vendor/MSFT/DMClient/HWDevID</LocURI></Source><Data>hw-1</Data></Item>"
"</Replace><Final/></SyncBody></SyncML>";

/* /work/shared/vectors/small.xml, verbatim: carries a DOCTYPE */
static const char  vector_small[] =
"<?xml version=\"1.0\"?>\n"
"<!DOCTYPE SyncML PUBLIC \"-//SYNCML//DTD SyncML 1.2//EN\" \"http://www.openmobilealliance.org/tech/DTD/OMA-TS-SyncML_RepPro_DTD-V1_2.dtd\">\n"
"<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>https://dm.example.com/omadm</LocURI></Target><Source><LocURI>IMEI:490154203237518</LocURI></Source><Meta><MaxMsgSize xmlns=\"syncml:metinf\">10000</MaxMsgSize></Meta></SyncHdr><SyncBody><Alert><CmdID>1</CmdID><Data>1201</Data></Alert><Final/></SyncBody></SyncML>\n";

/* /work/shared/vectors/hmac_body.xml, verbatim (364 bytes, vector G) */
static const char  vector_hmac_body[] =
"<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>https://dm.example.com/omadm</LocURI></Target><Source><LocURI>IMEI:490154203237518</LocURI><LocName>dev1</LocName></Source></SyncHdr><SyncBody><Alert><CmdID>1</CmdID><Data>1201</Data></Alert><Final/></SyncBody></SyncML>";


/* helpers */

static char *
describe_ok(const char *xml)
{
    char    *out = NULL, *err = NULL;
    size_t   len = 0;
    int      rc;

    rc = omadm_syncml_describe(xml, strlen(xml), &limits, &out, &len, &err);
    if (rc != OMADM_OK) {
        print_error("describe failed (%d): %s\n", rc, err ? err : "?");
        omadm_free(err);
        fail();
    }
    assert_null(err);
    assert_non_null(out);
    assert_int_equal(strlen(out), len);
    return out;
}

/* decoding must fail with rc; returns the malloc()ed reason */
static char *
describe_fails(const char *xml, size_t len, const omadm_limits_t *lim, int rc)
{
    char  *out = NULL, *err = NULL;

    assert_int_equal(omadm_syncml_describe(xml, len, lim, &out, NULL, &err),
                     rc);
    assert_null(out);
    assert_non_null(err);
    return err;
}

static void
expect_reason(const char *xml, size_t len, const omadm_limits_t *lim, int rc,
    const char *reason_part)
{
    char  *err = describe_fails(xml, len, lim, rc);

    if (strstr(err, reason_part) == NULL) {
        print_error("reason \"%s\" lacks \"%s\"\n", err, reason_part);
        omadm_free(err);
        fail();
    }
    omadm_free(err);
}

static void
assert_line(const char *desc, const char *line)
{
    size_t       n = strlen(line);
    const char  *p = desc;

    while ((p = strstr(p, line)) != NULL) {
        if ((p == desc || p[-1] == '\n') && p[n] == '\n') {
            return;
        }
        p++;
    }
    print_error("line \"%s\" not in:\n%s", line, desc);
    fail();
}

static void
assert_no_text(const char *s, const char *part)
{
    if (strstr(s, part) != NULL) {
        print_error("unexpected \"%s\" in:\n%s", part, s);
        fail();
    }
}

static char *
reencode_ok(const char *xml)
{
    char    *out = NULL, *err = NULL;
    size_t   len = 0;

    assert_int_equal(omadm_syncml_reencode(xml, strlen(xml), &limits, &out,
                         &len, &err), OMADM_OK);
    assert_null(err);
    assert_int_equal(strlen(out), len);
    return out;
}

/* describe(reencode(x)) == describe(x), and re-encoding is a fixed point */
static void
assert_round_trip(const char *xml)
{
    char  *d1, *enc, *d2, *enc2;

    d1 = describe_ok(xml);
    enc = reencode_ok(xml);
    d2 = describe_ok(enc);
    if (strcmp(d1, d2) != 0) {
        print_error("round trip differs\n--- before\n%s--- after\n%s"
                    "--- encoded\n%s\n", d1, d2, enc);
        fail();
    }
    enc2 = reencode_ok(enc);
    assert_string_equal(enc, enc2);
    omadm_free(d1);
    omadm_free(d2);
    omadm_free(enc);
    omadm_free(enc2);
}


/* decoding the protocol examples */

static void
test_package1(void **state)
{
    char  *d;

    (void) state;
    d = describe_ok(pkg1);
    assert_line(d, "Version=1.2");
    assert_line(d, "SyncHdr/VerDTD=1.2");
    assert_line(d, "SyncHdr/VerProto=DM/1.2");
    assert_line(d, "SyncHdr/SessionID=42");
    assert_line(d, "SyncHdr/MsgID=1");
    assert_line(d, "SyncHdr/Target=https://dm.example.com/omadm");
    assert_line(d, "SyncHdr/Source=IMEI:490154203237518");
    assert_line(d, "SyncHdr/Source/LocName=dev1");
    assert_line(d, "SyncHdr/Meta/MaxMsgSize=20000");
    assert_line(d, "SyncHdr/Meta/MaxObjSize=100000");
    assert_line(d, "SyncBody/Alert[1]/CmdID=1");
    assert_line(d, "SyncBody/Alert[1]/Data=1201");
    assert_line(d, "SyncBody/Replace[2]/CmdID=2");
    assert_line(d, "SyncBody/Replace[2]/Item[1]/Source=./DevInfo/DevId");
    assert_line(d, "SyncBody/Replace[2]/Item[1]/Data=IMEI:490154203237518");
    assert_line(d, "SyncBody/Replace[2]/Item[2]/Data=Example Corp");
    assert_line(d, "SyncBody/Replace[2]/Item[5]/Source=./DevInfo/Lang");
    assert_line(d, "SyncBody/Replace[2]/Item[5]/Data=en-US");
    assert_line(d, "SyncBody/Final=1");
    assert_no_text(d, "Item[6]");
    assert_no_text(d, "Cred");
    omadm_free(d);
}

static void
test_server_challenge(void **state)
{
    char  *d;

    (void) state;
    d = describe_ok(pkg2_chal);
    assert_line(d, "SyncHdr/RespURI=https://dm.example.com/omadm?s=7f3a9c");
    assert_line(d, "SyncBody/Status[1]/MsgRef=1");
    assert_line(d, "SyncBody/Status[1]/CmdRef=0");
    assert_line(d, "SyncBody/Status[1]/Cmd=SyncHdr");
    assert_line(d, "SyncBody/Status[1]/TargetRef[1]=https://dm.example.com/omadm");
    assert_line(d, "SyncBody/Status[1]/SourceRef[1]=IMEI:490154203237518");
    assert_line(d, "SyncBody/Status[1]/Chal=1");
    assert_line(d, "SyncBody/Status[1]/Chal/Meta/Type=syncml:auth-md5");
    assert_line(d, "SyncBody/Status[1]/Chal/Meta/Format=b64");
    assert_line(d, "SyncBody/Status[1]/Chal/Meta/NextNonce=00qRAH8Q7kJbLIgZwP8zpw==");
    assert_line(d, "SyncBody/Status[1]/Data=407");
    assert_line(d, "SyncBody/Status[3]/Cmd=Replace");
    assert_no_text(d, "Status[2]/Chal");
    omadm_free(d);
}

static void
test_cred_version_11_prefixed_metinf(void **state)
{
    char  *d;

    (void) state;
    d = describe_ok(pkg1_cred_11);
    assert_line(d, "Version=1.1");
    assert_line(d, "SyncHdr/VerProto=DM/1.1");
    assert_line(d, "SyncHdr/Cred=1");
    assert_line(d, "SyncHdr/Cred/Meta/Type=syncml:auth-md5");
    assert_line(d, "SyncHdr/Cred/Meta/Format=b64");
    assert_line(d, "SyncHdr/Cred/Data=TQMT1Y62qXyh7tF3TZ5l7Q==");
    assert_line(d, "SyncHdr/Meta/MaxMsgSize=20000");
    assert_line(d, "SyncBody/Status[1]/Data=200");
    assert_line(d, "SyncBody/Alert[2]/Data=1201");
    assert_line(d, "SyncBody/Replace[3]/Item[1]/Source=./DevInfo/DevId");
    omadm_free(d);
}

static void
test_results_meta_before_target(void **state)
{
    char  *d;

    (void) state;
    d = describe_ok(pkg3);
    assert_line(d, "SyncBody/Status[3]/TargetRef[1]=./DevDetail/Ext/Unknown");
    assert_line(d, "SyncBody/Status[3]/Data=404");
    assert_line(d, "SyncBody/Results[4]/CmdRef=4");
    assert_line(d, "SyncBody/Results[4]/Item[1]/Source=./DevDetail/SwV");
    assert_line(d, "SyncBody/Results[4]/Item[1]/Meta/Format=chr");
    assert_line(d, "SyncBody/Results[4]/Item[1]/Meta/Type=text/plain");
    assert_line(d, "SyncBody/Results[4]/Item[1]/Data=4.2.1");
    assert_line(d, "SyncBody/Alert[5]/Data=1226");
    assert_line(d, "SyncBody/Alert[5]/Correlator=job-42");
    assert_line(d, "SyncBody/Alert[5]/Item[1]/Source=./FwUpdate/Pkg1/DownloadAndUpdate");
    assert_line(d, "SyncBody/Alert[5]/Item[1]/Meta/Type="
                   "org.openmobilealliance.dm.firmwareupdate.downloadandupdate");
    assert_line(d, "SyncBody/Alert[5]/Item[1]/Meta/Format=int");
    assert_line(d, "SyncBody/Alert[5]/Item[1]/Meta/Mark=critical");
    assert_line(d, "SyncBody/Alert[5]/Item[1]/Data=200");
    omadm_free(d);
}

static void
test_windows_package1(void **state)
{
    char  *d;

    (void) state;
    d = describe_ok(windows_pkg1);
    assert_line(d, "SyncHdr/SessionID=1D");
    assert_line(d, "SyncBody/Alert[1]/CmdID=2");
    assert_line(d, "SyncBody/Alert[2]/CmdID=3");
    assert_line(d, "SyncBody/Alert[2]/Data=1224");
    assert_line(d, "SyncBody/Alert[2]/Item[1]/Meta/Type="
                   "com.microsoft/MDM/LoginStatus");
    assert_line(d, "SyncBody/Alert[2]/Item[1]/Data=user");
    /* the msft element and everything inside it are skipped */
    assert_line(d, "SyncBody/Replace[3]/CmdID=4");
    assert_line(d, "SyncBody/Replace[3]/Item[3]/Source="
                   "./Vendor/MSFT/DMClient/HWDevID");
    assert_no_text(d, "99");
    assert_no_text(d, "ignored");
    omadm_free(d);
}

static void
test_nested_and_flags(void **state)
{
    static const char  xml[] = MSG12(
        "<Atomic><CmdID>7</CmdID><NoResp/>"
        "<Add><CmdID>8</CmdID><Item><Target><LocURI>./A</LocURI></Target>"
        "<Meta><Format xmlns=\"syncml:metinf\">node</Format></Meta></Item></Add>"
        "<Sequence><CmdID>9</CmdID>"
        "<Replace><CmdID>10</CmdID><Item><Target><LocURI>./A/b</LocURI>"
        "</Target><Data>x</Data><MoreData/></Item></Replace>"
        "</Sequence></Atomic>"
        "<Exec><CmdID>11</CmdID><Correlator>c1</Correlator><Item><Target>"
        "<LocURI>./Reboot</LocURI></Target></Item></Exec>"
        "<Alert><CmdID>12</CmdID><Data>1101</Data><Item></Item><Item/>"
        "<Item><Data>Sure?</Data></Item></Alert>"
        "<Get/>");
    char  *d;

    (void) state;
    d = describe_ok(xml);
    assert_line(d, "SyncBody/Atomic[1]/CmdID=7");
    assert_line(d, "SyncBody/Atomic[1]/NoResp=1");
    assert_line(d, "SyncBody/Atomic[1]/Add[1]/Item[1]/Target=./A");
    assert_line(d, "SyncBody/Atomic[1]/Add[1]/Item[1]/Meta/Format=node");
    assert_line(d, "SyncBody/Atomic[1]/Sequence[2]/Replace[1]/Item[1]/Data=x");
    assert_line(d, "SyncBody/Atomic[1]/Sequence[2]/Replace[1]/Item[1]/MoreData=1");
    assert_line(d, "SyncBody/Exec[2]/Correlator=c1");
    assert_line(d, "SyncBody/Alert[3]/Item[1]=");
    assert_line(d, "SyncBody/Alert[3]/Item[2]=");
    assert_line(d, "SyncBody/Alert[3]/Item[3]/Data=Sure?");
    assert_line(d, "SyncBody/Get[4]=");
    omadm_free(d);

    assert_round_trip(xml);
}

static void
test_hmac_vector_parses(void **state)
{
    char  *d;

    (void) state;
    assert_int_equal(strlen(vector_hmac_body), 364);
    d = describe_ok(vector_hmac_body);
    assert_line(d, "SyncHdr/SessionID=1");
    assert_line(d, "SyncHdr/Source/LocName=dev1");
    assert_line(d, "SyncBody/Alert[1]/Data=1201");
    omadm_free(d);
}


/* Correlator is DM 1.2 only: a 1.1 message is written without it */
static void
test_correlator_only_in_12(void **state)
{
    static const char  fmt[] =
        "<SyncML xmlns=\"SYNCML:SYNCML1.%c\"><SyncHdr><VerDTD>1.%c</VerDTD>"
        "<VerProto>DM/1.%c</VerProto><SessionID>1</SessionID><MsgID>1</MsgID>"
        "<Target><LocURI>IMEI:1</LocURI></Target>"
        "<Source><LocURI>https://s/</LocURI></Source></SyncHdr><SyncBody>"
        "<Exec><CmdID>2</CmdID><Correlator>job-42</Correlator><Item><Target>"
        "<LocURI>./Reboot</LocURI></Target></Item></Exec></SyncBody></SyncML>";
    char   xml[1024], *out;

    (void) state;
    snprintf(xml, sizeof(xml), fmt, '2', '2', '2');
    out = reencode_ok(xml);
    assert_non_null(strstr(out, "<Correlator>job-42</Correlator>"));
    omadm_free(out);
    snprintf(xml, sizeof(xml), fmt, '1', '1', '1');
    out = reencode_ok(xml);
    assert_null(strstr(out, "Correlator"));
    omadm_free(out);
}


/* versions */

static void
test_unsupported_versions(void **state)
{
    static const char  ns20[] =
        "<SyncML xmlns=\"SYNCML:SYNCML2.0\"><SyncHdr><VerDTD>2.0</VerDTD>"
        "<VerProto>DM/2.0</VerProto><SessionID>5</SessionID><MsgID>1</MsgID>"
        "<Target><LocURI>s</LocURI></Target><Source><LocURI>d</LocURI>"
        "</Source></SyncHdr><SyncBody><Final/></SyncBody></SyncML>";
    static const char  mismatch[] =
        "<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr><VerDTD>1.1</VerDTD>"
        "<VerProto>DM/1.1</VerProto><SessionID>5</SessionID><MsgID>1</MsgID>"
        "<Target><LocURI>s</LocURI></Target><Source><LocURI>d</LocURI>"
        "</Source></SyncHdr><SyncBody><Final/></SyncBody></SyncML>";
    static const char  no_ns[] =
        "<SyncML><SyncHdr><VerDTD>1.1</VerDTD>"
        "<VerProto>DM/1.1</VerProto><SessionID>5</SessionID><MsgID>1</MsgID>"
        "<Target><LocURI>s</LocURI></Target><Source><LocURI>d</LocURI>"
        "</Source></SyncHdr><SyncBody><Final/></SyncBody></SyncML>";
    char  *d, *enc;

    (void) state;
    d = describe_ok(ns20);
    assert_line(d, "Version=unsupported");
    assert_line(d, "SyncHdr/VerDTD=2.0");
    assert_line(d, "SyncHdr/SessionID=5");
    omadm_free(d);

    d = describe_ok(mismatch);
    assert_line(d, "Version=unsupported");
    omadm_free(d);

    /* no namespace at all: VerDTD/VerProto decide */
    d = describe_ok(no_ns);
    assert_line(d, "Version=1.1");
    omadm_free(d);

    /* an unsupported version is answered in 1.2 */
    enc = reencode_ok(ns20);
    assert_non_null(strstr(enc, "<SyncML xmlns=\"SYNCML:SYNCML1.2\">"));
    assert_non_null(strstr(enc, "<VerProto>DM/1.2</VerProto>"));
    omadm_free(enc);
}


/* refused input */

static void
test_malformed_and_truncated(void **state)
{
    static const char  bad[] =
        "<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr></SyncML>";
    size_t             cut;

    (void) state;
    expect_reason(bad, sizeof(bad) - 1, &limits, OMADM_EINVAL,
                  "malformed XML at line 1");
    for (cut = 1; cut < sizeof(pkg1) - 1; cut += 37) {
        char *err = describe_fails(pkg1, cut, &limits, OMADM_EINVAL);
        omadm_free(err);
    }
    expect_reason(MSG12("<Alert><CmdID>&undefined;</CmdID></Alert>"),
                  strlen(MSG12("<Alert><CmdID>&undefined;</CmdID></Alert>")),
                  &limits, OMADM_EINVAL, "malformed XML");
    expect_reason(MSG12("") "<SyncML/>", strlen(MSG12("") "<SyncML/>"),
                  &limits, OMADM_EINVAL, "malformed XML");
    expect_reason("\xff\xfe<\0S\0", 6, &limits, OMADM_EINVAL, "malformed XML");
}

static void
test_doctype_refused(void **state)
{
    (void) state;
    expect_reason(vector_small, strlen(vector_small), &limits, OMADM_EINVAL,
                  "DOCTYPE not allowed");
}

static void
test_entity_bomb_refused_fast(void **state)
{
    static const char  bomb[] =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE SyncML [\n"
        " <!ENTITY a \"aaaaaaaaaa\">\n"
        " <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n"
        " <!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n"
        " <!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">\n"
        " <!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">\n"
        " <!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">\n"
        " <!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\">\n"
        " <!ENTITY h \"&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;\">\n"
        " <!ENTITY i \"&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;\">\n"
        "]>\n"
        "<SyncML xmlns=\"SYNCML:SYNCML1.2\">" HDR12("&i;", "1")
        "<SyncBody/></SyncML>";
    static const char  external[] =
        "<!DOCTYPE SyncML SYSTEM \"file:///etc/passwd\">"
        "<SyncML xmlns=\"SYNCML:SYNCML1.2\"/>";
    clock_t            start = clock();

    (void) state;
    expect_reason(bomb, strlen(bomb), &limits, OMADM_EINVAL,
                  "DOCTYPE not allowed");
    expect_reason(external, strlen(external), &limits, OMADM_EINVAL,
                  "DOCTYPE not allowed");
    assert_true(clock() - start < CLOCKS_PER_SEC / 2);
}

static void
test_limits(void **state)
{
    omadm_limits_t  lim;
    char           *big, *d;
    size_t          i, n;

    (void) state;

    lim = limits;
    lim.max_depth = 3;     /* SyncML/SyncHdr/Target/LocURI is 4 deep */
    expect_reason(pkg1, strlen(pkg1), &lim, OMADM_ETOOBIG, "nesting deeper");
    lim.max_depth = 5;     /* Replace/Item/Source/LocURI reaches 6 */
    expect_reason(pkg1, strlen(pkg1), &lim, OMADM_ETOOBIG, "nesting deeper");
    lim.max_depth = 6;
    d = describe_ok(pkg1);
    omadm_free(d);
    assert_int_equal(omadm_syncml_describe(pkg1, strlen(pkg1), &lim, &d,
                         NULL, NULL), OMADM_OK);
    omadm_free(d);

    lim = limits;
    lim.max_elements = 20;
    expect_reason(pkg1, strlen(pkg1), &lim, OMADM_ETOOBIG,
                  "more than 20 XML elements");

    lim = limits;
    lim.max_text = 12;     /* "IMEI:490154203237518" is 20 bytes */
    expect_reason(pkg1, strlen(pkg1), &lim, OMADM_ETOOBIG,
                  "longer than 12 bytes");

    /* deep nesting inside a skipped foreign element still counts */
    n = 200;
    big = malloc(n * 40 + 1024);
    assert_non_null(big);
    strcpy(big, "<SyncML xmlns=\"SYNCML:SYNCML1.2\">" HDR12("1", "1")
                "<SyncBody>");
    for (i = 0; i < n; i++) {
        strcat(big, "<x:a xmlns:x=\"urn:x\">");
    }
    expect_reason(big, strlen(big), &limits, OMADM_ETOOBIG, "nesting deeper");

    /* a huge text in Data, and a huge raw inner XML in Data */
    n = 2000;
    lim = limits;
    lim.max_text = 1000;
    strcpy(big, MSG12(""));
    {
        const char *tmpl = "<SyncML xmlns=\"SYNCML:SYNCML1.2\">"
                           HDR12("1", "1")
                           "<SyncBody><Replace><CmdID>1</CmdID><Item><Data>";
        size_t off;

        free(big);
        big = malloc(strlen(tmpl) + n * 8 + 256);
        assert_non_null(big);
        strcpy(big, tmpl);
        off = strlen(big);
        for (i = 0; i < n; i++) {
            big[off++] = 'x';
        }
        strcpy(big + off, "</Data></Item></Replace></SyncBody></SyncML>");
        expect_reason(big, strlen(big), &lim, OMADM_ETOOBIG, "longer than");

        strcpy(big, tmpl);
        off = strlen(big);
        for (i = 0; i < n / 4; i++) {
            memcpy(big + off, "<b/>", 4);
            off += 4;
        }
        strcpy(big + off, "</Data></Item></Replace></SyncBody></SyncML>");
        expect_reason(big, strlen(big), &lim, OMADM_ETOOBIG, "longer than");
    }
    free(big);

    /* long attribute values are limited too */
    lim = limits;
    lim.max_text = 8;
    expect_reason("<SyncML xmlns=\"SYNCML:SYNCML1.2\" a=\"123456789\"/>",
                  strlen("<SyncML xmlns=\"SYNCML:SYNCML1.2\" a=\"123456789\"/>"),
                  &lim, OMADM_ETOOBIG, "attribute longer");
}

static void
test_unusable_messages(void **state)
{
    static const char  no_sid[] =
        "<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr><VerDTD>1.2</VerDTD>"
        "<VerProto>DM/1.2</VerProto><MsgID>1</MsgID>"
        "<Target><LocURI>s</LocURI></Target><Source><LocURI>d</LocURI>"
        "</Source></SyncHdr><SyncBody><Final/></SyncBody></SyncML>";
    static const char  no_msgid[] =
        "<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr><VerDTD>1.2</VerDTD>"
        "<VerProto>DM/1.2</VerProto><SessionID>1</SessionID>"
        "<Target><LocURI>s</LocURI></Target><Source><LocURI>d</LocURI>"
        "</Source></SyncHdr><SyncBody><Final/></SyncBody></SyncML>";
    static const char  no_source[] =
        "<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr><VerDTD>1.2</VerDTD>"
        "<VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID>"
        "<Target><LocURI>s</LocURI></Target><Source><LocName>d</LocName>"
        "</Source></SyncHdr><SyncBody><Final/></SyncBody></SyncML>";
    static const char  no_body[] =
        "<SyncML xmlns=\"SYNCML:SYNCML1.2\">" HDR12("1", "1") "</SyncML>";
    static const char  no_hdr[] =
        "<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncBody/></SyncML>";
    char              *out = NULL, *err = NULL;

    (void) state;
    expect_reason("", 0, &limits, OMADM_EINVAL, "empty body");
    expect_reason(" \r\n\t", 4, &limits, OMADM_EINVAL, "empty body");
    expect_reason("<html><body/></html>", 20, &limits, OMADM_EINVAL,
                  "root element is not SyncML");
    expect_reason("<SyncML xmlns=\"http://example.com/\"/>", 37, &limits,
                  OMADM_EINVAL, "not in a SyncML namespace");
    expect_reason(no_sid, strlen(no_sid), &limits, OMADM_EINVAL,
                  "missing SyncHdr/SessionID");
    expect_reason(no_msgid, strlen(no_msgid), &limits, OMADM_EINVAL,
                  "missing SyncHdr/MsgID");
    expect_reason(no_source, strlen(no_source), &limits, OMADM_EINVAL,
                  "missing SyncHdr/Source/LocURI");
    expect_reason(no_body, strlen(no_body), &limits, OMADM_EINVAL,
                  "missing SyncBody");
    expect_reason(no_hdr, strlen(no_hdr), &limits, OMADM_EINVAL,
                  "missing SyncHdr");

    /* bad arguments; a NULL err is allowed */
    assert_int_equal(omadm_syncml_describe(NULL, 5, &limits, &out, NULL,
                         &err), OMADM_EINVAL);
    assert_null(out);
    assert_null(err);
    assert_int_equal(omadm_syncml_describe(pkg1, strlen(pkg1), &limits, NULL,
                         NULL, NULL), OMADM_EINVAL);
    assert_int_equal(omadm_syncml_reencode("<a/>", 4, &limits, &out, NULL,
                         NULL), OMADM_EINVAL);
    assert_null(out);

    /* NULL limits means the defaults */
    assert_int_equal(omadm_syncml_describe(pkg1, strlen(pkg1), NULL, &out,
                         NULL, NULL), OMADM_OK);
    omadm_free(out);
}


/* text fidelity and re-encoding */

static void
test_data_fidelity(void **state)
{
    static const char  xml[] = MSG12(
        "<Replace><CmdID>1</CmdID>"
        "<Item><Target><LocURI>./Vendor/MSFT/A&amp;B</LocURI></Target>"
        "<Data>&lt;wap-provisioningdoc&gt;&lt;characteristic type=\"x\"/&gt;"
        "&lt;/wap-provisioningdoc&gt;</Data></Item>"
        "<Item><Target><LocURI>./c</LocURI></Target>"
        "<Data><![CDATA[<a b='1'>x & y</a>]]></Data></Item>"
        "<Item><Target><LocURI>./d</LocURI></Target>"
        "<Data><wap-provisioningdoc version=\"1.1\">"
        "<characteristic type=\"VPN\"><parm name=\"a\" value=\"&lt;&amp;\"/>"
        "</characteristic>t&amp;t</wap-provisioningdoc></Data></Item>"
        "<Item><Target><LocURI>./e</LocURI></Target>"
        "<Data>  leading and trailing  \nline2\r\n&#13;tab\there "
        "\xc3\xa9\xe2\x82\xac &quot;q&quot; &apos;</Data></Item>"
        "</Replace>");
    char  *d, *enc;

    (void) state;
    d = describe_ok(xml);
    assert_line(d, "SyncBody/Replace[1]/Item[1]/Target=./Vendor/MSFT/A&B");
    assert_line(d, "SyncBody/Replace[1]/Item[1]/Data=<wap-provisioningdoc>"
                   "<characteristic type=\"x\"/></wap-provisioningdoc>");
    assert_line(d, "SyncBody/Replace[1]/Item[2]/Data=<a b='1'>x & y</a>");
    /* markup inside Data is kept as written */
    assert_line(d, "SyncBody/Replace[1]/Item[3]/Data=<wap-provisioningdoc "
                   "version=\"1.1\"><characteristic type=\"VPN\"><parm "
                   "name=\"a\" value=\"&lt;&amp;\"/></characteristic>t&amp;t"
                   "</wap-provisioningdoc>");
    /* item Data is not trimmed; CR LF becomes LF, &#13; stays CR */
    assert_line(d, "SyncBody/Replace[1]/Item[4]/Data=  leading and trailing"
                   "  \\nline2\\n\\rtab\\there \xc3\xa9\xe2\x82\xac \"q\" '");
    omadm_free(d);

    enc = reencode_ok(xml);
    assert_non_null(strstr(enc, "<Data>&lt;wap-provisioningdoc&gt;"));
    assert_non_null(strstr(enc, "<LocURI>./Vendor/MSFT/A&amp;B</LocURI>"));
    assert_non_null(strstr(enc, "x &amp; y&lt;/a&gt;"));
    assert_non_null(strstr(enc, "&#13;"));
    assert_no_text(enc, "CDATA");
    omadm_free(enc);

    assert_round_trip(xml);
}

static void
test_reencode_dtd_order(void **state)
{
    char  *enc;

    (void) state;
    enc = reencode_ok(pkg3);
    /* Item: Target?, Source?, Meta?, Data? regardless of input order */
    assert_non_null(strstr(enc,
        "<Item><Source><LocURI>./DevDetail/SwV</LocURI></Source>"
        "<Meta><Format xmlns=\"syncml:metinf\">chr</Format>"
        "<Type xmlns=\"syncml:metinf\">text/plain</Type></Meta>"
        "<Data>4.2.1</Data></Item>"));
    assert_non_null(strstr(enc,
        "<Alert><CmdID>5</CmdID><Data>1226</Data>"
        "<Correlator>job-42</Correlator><Item><Source>"));
    assert_non_null(strstr(enc,
        "<Format xmlns=\"syncml:metinf\">int</Format>"
        "<Type xmlns=\"syncml:metinf\">org.openmobilealliance.dm."
        "firmwareupdate.downloadandupdate</Type>"
        "<Mark xmlns=\"syncml:metinf\">critical</Mark>"));
    assert_non_null(strstr(enc, "<Final/></SyncBody></SyncML>"));
    omadm_free(enc);

    enc = reencode_ok(pkg2_chal);
    assert_non_null(strstr(enc,
        "<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef>"
        "<Cmd>SyncHdr</Cmd><TargetRef>https://dm.example.com/omadm"
        "</TargetRef><SourceRef>IMEI:490154203237518</SourceRef><Chal><Meta>"
        "<Format xmlns=\"syncml:metinf\">b64</Format>"
        "<Type xmlns=\"syncml:metinf\">syncml:auth-md5</Type>"
        "<NextNonce xmlns=\"syncml:metinf\">00qRAH8Q7kJbLIgZwP8zpw=="
        "</NextNonce></Meta></Chal><Data>407</Data></Status>"));
    omadm_free(enc);

    enc = reencode_ok(pkg1_cred_11);
    assert_non_null(strstr(enc, "<SyncML xmlns=\"SYNCML:SYNCML1.1\">"
        "<SyncHdr><VerDTD>1.1</VerDTD><VerProto>DM/1.1</VerProto>"
        "<SessionID>42</SessionID><MsgID>2</MsgID>"));
    assert_non_null(strstr(enc, "<LocName>dev1</LocName></Source>"
        "<Cred><Meta><Format xmlns=\"syncml:metinf\">b64</Format>"
        "<Type xmlns=\"syncml:metinf\">syncml:auth-md5</Type></Meta>"
        "<Data>TQMT1Y62qXyh7tF3TZ5l7Q==</Data></Cred><Meta>"
        "<MaxMsgSize xmlns=\"syncml:metinf\">20000</MaxMsgSize></Meta>"
        "</SyncHdr>"));
    assert_no_text(enc, "mi:");
    omadm_free(enc);
}

static void
test_round_trips(void **state)
{
    (void) state;
    assert_round_trip(pkg1);
    assert_round_trip(pkg2_chal);
    assert_round_trip(pkg1_cred_11);
    assert_round_trip(pkg3);
    assert_round_trip(windows_pkg1);
    assert_round_trip(vector_hmac_body);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_package1),
        cmocka_unit_test(test_server_challenge),
        cmocka_unit_test(test_cred_version_11_prefixed_metinf),
        cmocka_unit_test(test_results_meta_before_target),
        cmocka_unit_test(test_windows_package1),
        cmocka_unit_test(test_nested_and_flags),
        cmocka_unit_test(test_hmac_vector_parses),
        cmocka_unit_test(test_unsupported_versions),
        cmocka_unit_test(test_malformed_and_truncated),
        cmocka_unit_test(test_doctype_refused),
        cmocka_unit_test(test_entity_bomb_refused_fast),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_unusable_messages),
        cmocka_unit_test(test_data_fidelity),
        cmocka_unit_test(test_reencode_dtd_order),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_correlator_only_in_12),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
