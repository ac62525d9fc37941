/*
 * WBXML through the C ABI: the protocol digest's verified sample against
 * its XML twin, every WBXML token the decoder knows, public ids by number
 * and by string table, XML <-> WBXML round trips of complex messages,
 * truncation at every byte, hostile input, and an exchange answering in
 * the request's encoding (also for a repeated MsgID).
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


/* /work/shared/vectors/small.wbxml (xml2wbxml -v 1.2 -n), verbatim */
static const unsigned char  small_wbxml[] = {
    0x02, 0xa4, 0x01, 0x6a, 0x00, 0x6d, 0x6c, 0x71, 0x03, '1', '.', '2', 0x00,
    0x01, 0x72, 0x03, 'D', 'M', '/', '1', '.', '2', 0x00, 0x01, 0x65, 0x03,
    '1', 0x00, 0x01, 0x5b, 0x03, '1', 0x00, 0x01, 0x6e, 0x57, 0x03,
    'h', 't', 't', 'p', 's', ':', '/', '/', 'd', 'm', '.', 'e', 'x', 'a',
    'm', 'p', 'l', 'e', '.', 'c', 'o', 'm', '/', 'o', 'm', 'a', 'd', 'm',
    0x00, 0x01, 0x01, 0x67, 0x57, 0x03,
    'I', 'M', 'E', 'I', ':', '4', '9', '0', '1', '5', '4', '2', '0', '3',
    '2', '3', '7', '5', '1', '8', 0x00, 0x01, 0x01, 0x5a, 0x00, 0x01, 0x4c,
    0x03, '1', '0', '0', '0', '0', 0x00, 0x01, 0x01, 0x01, 0x00, 0x00, 0x6b,
    0x46, 0x4b, 0x03, '1', 0x00, 0x01, 0x4f, 0x03, '1', '2', '0', '1', 0x00,
    0x01, 0x01, 0x12, 0x01, 0x01
};

/* small.xml without its DOCTYPE (which the XML decoder refuses) */
static const char  small_xml[] =
"<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>https://dm.example.com/omadm</LocURI></Target><Source><LocURI>IMEI:490154203237518</LocURI></Source><Meta><MaxMsgSize xmlns=\"syncml:metinf\">10000</MaxMsgSize></Meta></SyncHdr><SyncBody><Alert><CmdID>1</CmdID><Data>1201</Data></Alert><Final/></SyncBody></SyncML>";

/* a server message and a device answer with most of the model */
static const char  complex_xml[] =
"<SyncML xmlns=\"SYNCML:SYNCML1.2\"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>"
"<SessionID>7F</SessionID><MsgID>3</MsgID>"
"<Target><LocURI>https://dm.example.com/omadm?s=ab&amp;x=1</LocURI><LocName>srv</LocName></Target>"
"<Source><LocURI>IMEI:490154203237518</LocURI><LocName>dev1</LocName></Source>"
"<RespURI>https://dm.example.com/omadm?s=1</RespURI>"
"<Cred><Meta><Type xmlns=\"syncml:metinf\">syncml:auth-md5</Type><Format xmlns=\"syncml:metinf\">b64</Format></Meta>"
"<Data>TQMT1Y62qXyh7tF3TZ5l7Q==</Data></Cred>"
"<Meta><MaxMsgSize xmlns=\"syncml:metinf\">20000</MaxMsgSize><MaxObjSize xmlns=\"syncml:metinf\">100000</MaxObjSize></Meta></SyncHdr>"
"<SyncBody>"
"<Status><CmdID>1</CmdID><MsgRef>2</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd>"
"<TargetRef>IMEI:1</TargetRef><SourceRef>https://x/</SourceRef>"
"<Chal><Meta><Type xmlns=\"syncml:metinf\">syncml:auth-md5</Type><Format xmlns=\"syncml:metinf\">b64</Format>"
"<NextNonce xmlns=\"syncml:metinf\">00qRAH8Q7kJbLIgZwP8zpw==</NextNonce></Meta></Chal><Data>212</Data></Status>"
"<Results><CmdID>2</CmdID><MsgRef>2</MsgRef><CmdRef>5</CmdRef>"
"<Item><Source><LocURI>./DevDetail/SwV</LocURI></Source><Meta><Format xmlns=\"syncml:metinf\">chr</Format>"
"<Type xmlns=\"syncml:metinf\">text/plain</Type><Size xmlns=\"syncml:metinf\">12</Size></Meta>"
"<Data>  caf\xc3\xa9 &lt;4.2&gt;\r\n  </Data><MoreData/></Item></Results>"
"<Alert><CmdID>poc-10989</CmdID><Data>1226</Data><Correlator>c-1</Correlator>"
"<Item><Source><LocURI>./Vendor/x</LocURI></Source><Meta><Type xmlns=\"syncml:metinf\">org.example.alert</Type>"
"<Mark xmlns=\"syncml:metinf\">critical</Mark></Meta><Data>&lt;a&gt;b&lt;/a&gt;</Data></Item><Item/></Alert>"
"<Atomic><CmdID>4</CmdID><NoResp/><Add><CmdID>5</CmdID><Item><Target><LocURI>./A</LocURI></Target><Data>1</Data></Item></Add>"
"<Sequence><CmdID>6</CmdID><Exec><CmdID>7</CmdID><Correlator>abc</Correlator><Item><Target><LocURI>./B</LocURI></Target></Item></Exec>"
"<Delete><CmdID>8</CmdID><Item><Target><LocURI>./C</LocURI></Target></Item></Delete></Sequence></Atomic>"
"<Replace><CmdID>9</CmdID><Meta><Format xmlns=\"syncml:metinf\">int</Format></Meta>"
"<Item><Target><LocURI>./D</LocURI></Target><Data>6</Data></Item></Replace>"
"<Get><CmdID>10</CmdID><Item><Target><LocURI>./E</LocURI></Target></Item></Get>"
"<Copy><CmdID>11</CmdID><Item><Target><LocURI>./F</LocURI></Target><Source><LocURI>./G</LocURI></Source></Item></Copy>"
"<Final/></SyncBody></SyncML>";


/* ---- a little WBXML writer for hand-made messages ---------------------- */

typedef struct {
    unsigned char  b[8192];
    size_t         n;
} wb_t;

static void
wb_bytes(wb_t *w, const void *p, size_t n)
{
    assert_true(w->n + n <= sizeof(w->b));
    memcpy(w->b + w->n, p, n);
    w->n += n;
}

static void
wb_byte(wb_t *w, unsigned v)
{
    unsigned char  c = (unsigned char) v;

    wb_bytes(w, &c, 1);
}

static void
wb_str(wb_t *w, const char *s)           /* STR_I */
{
    wb_byte(w, 0x03);
    wb_bytes(w, s, strlen(s) + 1);
}

static void
wb_leaf(wb_t *w, unsigned tag, const char *s)
{
    wb_byte(w, tag | 0x40);
    wb_str(w, s);
    wb_byte(w, 0x01);
}

/* header for SyncML 1.2 by number, then SyncML, SyncHdr (1.2, SessionID 1,
   MsgID 1, Target, Source) and SyncBody opened */
static void
wb_start(wb_t *w)
{
    static const unsigned char  hdr[] = { 0x02, 0xa4, 0x01, 0x6a, 0x00 };

    w->n = 0;
    wb_bytes(w, hdr, sizeof(hdr));
    wb_byte(w, 0x6d);
    wb_byte(w, 0x6c);
    wb_leaf(w, 0x31, "1.2");
    wb_leaf(w, 0x32, "DM/1.2");
    wb_leaf(w, 0x25, "1");
    wb_leaf(w, 0x1b, "1");
    wb_byte(w, 0x6e); wb_leaf(w, 0x17, "https://dm.example.com/omadm");
    wb_byte(w, 0x01);
    wb_byte(w, 0x67); wb_leaf(w, 0x17, "IMEI:1"); wb_byte(w, 0x01);
    wb_byte(w, 0x01);
    wb_byte(w, 0x6b);
}

static void
wb_finish(wb_t *w)                       /* Final, end SyncBody, SyncML */
{
    wb_byte(w, 0x12);
    wb_byte(w, 0x01);
    wb_byte(w, 0x01);
}


/* ---- helpers ------------------------------------------------------------ */

static char *
describe_as(int enc, const void *body, size_t len)
{
    char  *out = NULL, *err = NULL;
    int    rc;

    rc = omadm_syncml_describe_as(enc, body, len, &limits, &out, NULL, &err);
    if (rc != OMADM_OK) {
        print_error("describe failed (%d): %s\n", rc, err ? err : "?");
        omadm_free(err);
        fail();
    }
    return out;
}

static char *
transcode(int from, int to, const void *body, size_t len, size_t *out_len)
{
    char  *out = NULL, *err = NULL;
    int    rc;

    rc = omadm_syncml_transcode(from, to, body, len, &limits, &out, out_len,
                                &err);
    if (rc != OMADM_OK) {
        print_error("transcode failed (%d): %s\n", rc, err ? err : "?");
        omadm_free(err);
        fail();
    }
    return out;
}

static void
expect_wbxml_error(const void *body, size_t len, const omadm_limits_t *lim,
    int rc, const char *reason_part)
{
    char  *out = NULL, *err = NULL;

    assert_int_equal(omadm_syncml_describe_as(OMADM_ENC_WBXML, body, len,
                         lim, &out, NULL, &err), rc);
    assert_null(out);
    assert_non_null(err);
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

static int
contains(const char *hay, size_t n, const char *needle, size_t m)
{
    size_t  i;

    for (i = 0; i + m <= n; i++) {
        if (memcmp(hay + i, needle, m) == 0) {
            return 1;
        }
    }
    return 0;
}

static void
assert_same(const char *a, const char *b)
{
    if (strcmp(a, b) != 0) {
        print_error("descriptions differ\n--- a\n%s--- b\n%s", a, b);
        fail();
    }
}


/* ---- decoding ------------------------------------------------------------ */

static void
test_verified_sample(void **state)
{
    char  *w, *x;

    (void) state;
    w = describe_as(OMADM_ENC_WBXML, small_wbxml, sizeof(small_wbxml));
    x = describe_as(OMADM_ENC_XML, small_xml, strlen(small_xml));
    assert_same(w, x);
    assert_line(w, "Version=1.2");
    assert_line(w, "SyncHdr/Meta/MaxMsgSize=10000");
    assert_line(w, "SyncBody/Alert[1]/Data=1201");
    assert_line(w, "SyncBody/Final=1");
    omadm_free(w);
    omadm_free(x);
}

/* our encoder writes the verified sample byte for byte */
static void
test_encoder_matches_sample(void **state)
{
    char    *w;
    size_t   len;

    (void) state;
    w = transcode(OMADM_ENC_XML, OMADM_ENC_WBXML, small_xml,
                  strlen(small_xml), &len);
    assert_int_equal(len, sizeof(small_wbxml));
    assert_memory_equal(w, small_wbxml, len);
    omadm_free(w);
}

/* STR_T, ENTITY, OPAQUE, LITERAL, SWITCH_PAGE, empty tags, page 2 */
static void
test_every_token(void **state)
{
    static const unsigned char  table[] = "./DevInfo/Man\0Foo\0Data\0";
    static const unsigned char  bin[] = { 'a', 0x00, 0xff, 'b', ' ' };
    wb_t  w;
    char *d;

    (void) state;
    w.n = 0;
    wb_bytes(&w, "\x03\xa4\x01\x6a", 4);            /* WBXML 1.3 */
    wb_byte(&w, sizeof(table) - 1);
    wb_bytes(&w, table, sizeof(table) - 1);
    wb_byte(&w, 0x6d); wb_byte(&w, 0x6c);
    wb_leaf(&w, 0x31, "1.2"); wb_leaf(&w, 0x32, "DM/1.2");
    wb_leaf(&w, 0x25, "1"); wb_leaf(&w, 0x1b, "1");
    wb_byte(&w, 0x6e); wb_leaf(&w, 0x17, "x"); wb_byte(&w, 0x01);
    wb_byte(&w, 0x67); wb_leaf(&w, 0x17, "IMEI:1"); wb_byte(&w, 0x01);
    wb_byte(&w, 0x01);
    wb_byte(&w, 0x6b);
    /* Replace with an item: Source/LocURI by STR_T, Data with ENTITY */
    wb_byte(&w, 0x60); wb_leaf(&w, 0x0b, "2");
    wb_byte(&w, 0x54);
    wb_byte(&w, 0x67); wb_byte(&w, 0x57); wb_byte(&w, 0x83); wb_byte(&w, 0);
    wb_byte(&w, 0x01); wb_byte(&w, 0x01);
    wb_byte(&w, 0x00); wb_byte(&w, 0x01);           /* page 1: Meta fields */
    wb_byte(&w, 0x00); wb_byte(&w, 0x00);
    wb_byte(&w, 0x5a);
    wb_byte(&w, 0x00); wb_byte(&w, 0x01);
    wb_leaf(&w, 0x07, "chr");                       /* Format */
    wb_byte(&w, 0x44); wb_byte(&w, 18);             /* LITERAL "Data" in */
    wb_str(&w, "ignored"); wb_byte(&w, 0x01);       /* metinf: skipped */
    wb_byte(&w, 0x01);
    wb_byte(&w, 0x00); wb_byte(&w, 0x00);
    wb_byte(&w, 0x4f);
    wb_str(&w, "Ex");
    wb_byte(&w, 0x02); wb_byte(&w, 0x81); wb_byte(&w, 0x69);  /* U+00E9 */
    wb_byte(&w, 0x02); wb_byte(&w, 0xc4); wb_byte(&w, 0x2c);  /* U+222C */
    wb_byte(&w, 0x01);
    wb_byte(&w, 0x34);                              /* MoreData, empty */
    wb_byte(&w, 0x01);                              /* end Item */
    /* a second item: opaque binary Data, page-2 element skipped */
    wb_byte(&w, 0x54);
    wb_byte(&w, 0x00); wb_byte(&w, 0x02);
    wb_byte(&w, 0x45); wb_str(&w, "ddf"); wb_byte(&w, 0x05); wb_byte(&w, 0x01);
    wb_byte(&w, 0x00); wb_byte(&w, 0x00);
    wb_byte(&w, 0x4f); wb_byte(&w, 0xc3); wb_byte(&w, sizeof(bin));
    wb_bytes(&w, bin, sizeof(bin)); wb_byte(&w, 0x01);
    wb_byte(&w, 0x01);
    wb_byte(&w, 0x01);                              /* end Replace */
    /* a LITERAL command: unknown, answered by name */
    wb_byte(&w, 0x44); wb_byte(&w, 14); wb_leaf(&w, 0x0b, "3"); wb_byte(&w, 1);
    wb_finish(&w);

    d = describe_as(OMADM_ENC_WBXML, w.b, w.n);
    assert_line(d, "SyncBody/Replace[1]/Item[1]/Source=./DevInfo/Man");
    assert_line(d, "SyncBody/Replace[1]/Item[1]/Meta/Format=chr");
    assert_line(d, "SyncBody/Replace[1]/Item[1]/Data=Ex\xc3\xa9\xe2\x88\xac");
    assert_line(d, "SyncBody/Replace[1]/Item[1]/MoreData=1");
    assert_line(d, "SyncBody/Replace[1]/Item[2]/Data=a\\x00\xff" "b ");
    assert_line(d, "SyncBody/Foo[2]/CmdID=3");
    omadm_free(d);
}

/* public id 0 + string-table index to the FPI; unknown ids */
static void
test_public_id_forms(void **state)
{
    static const char  fpi11[] = "xx\0-//SYNCML//DTD SyncML 1.1//EN";
    wb_t   w;
    char  *d;
    size_t i;

    (void) state;
    /* a 1.1 message whose id is a string-table reference (index 3) */
    w.n = 0;
    wb_bytes(&w, "\x02\x00\x03\x6a", 4);
    wb_byte(&w, sizeof(fpi11));
    wb_bytes(&w, fpi11, sizeof(fpi11));
    wb_byte(&w, 0x6d); wb_byte(&w, 0x6c);
    wb_leaf(&w, 0x31, "1.1"); wb_leaf(&w, 0x32, "DM/1.1");
    wb_leaf(&w, 0x25, "1"); wb_leaf(&w, 0x1b, "1");
    wb_byte(&w, 0x67); wb_leaf(&w, 0x17, "IMEI:1"); wb_byte(&w, 0x01);
    wb_byte(&w, 0x01); wb_byte(&w, 0x6b); wb_finish(&w);
    d = describe_as(OMADM_ENC_WBXML, w.b, w.n);
    assert_line(d, "Version=1.1");
    omadm_free(d);

    /* the same with SyncML 1.2's VerDTD: the id disagrees -> unsupported */
    for (i = 5 + sizeof(fpi11); i + 3 < w.n; i++) {
        if (memcmp(w.b + i, "1.1", 3) == 0) {
            w.b[i + 2] = '2';
        }
    }
    d = describe_as(OMADM_ENC_WBXML, w.b, w.n);
    assert_line(d, "Version=unsupported");
    omadm_free(d);

    /* unknown id (0x01) or MetInf's 0x1202: VerDTD/VerProto decide */
    wb_start(&w);
    wb_finish(&w);
    w.b[1] = 0x01;
    memmove(w.b + 2, w.b + 3, w.n - 3);
    w.n--;
    d = describe_as(OMADM_ENC_WBXML, w.b, w.n);
    assert_line(d, "Version=1.2");
    omadm_free(d);
    wb_start(&w);
    wb_finish(&w);
    w.b[2] = 0x02;
    d = describe_as(OMADM_ENC_WBXML, w.b, w.n);
    assert_line(d, "Version=1.2");
    omadm_free(d);

    /* WBXML 1.0: no charset field */
    wb_start(&w);
    wb_finish(&w);
    w.b[0] = 0x00;
    memmove(w.b + 3, w.b + 4, w.n - 4);
    w.n--;
    d = describe_as(OMADM_ENC_WBXML, w.b, w.n);
    assert_line(d, "SyncHdr/Source=IMEI:1");
    omadm_free(d);
}

/* the XML decoder's semantics: trimming, required fields, bounds */
static void
test_same_semantics(void **state)
{
    wb_t   w;
    char  *d;
    char   big[80];

    (void) state;
    wb_start(&w);
    wb_byte(&w, 0x46); wb_leaf(&w, 0x0b, "  1 "); wb_leaf(&w, 0x0f, " 1201\n");
    wb_byte(&w, 0x54); wb_leaf(&w, 0x0f, "  kept  "); wb_byte(&w, 0x01);
    wb_byte(&w, 0x01);
    wb_finish(&w);
    d = describe_as(OMADM_ENC_WBXML, w.b, w.n);
    assert_line(d, "SyncBody/Alert[1]/CmdID=1");
    assert_line(d, "SyncBody/Alert[1]/Data=1201");
    assert_line(d, "SyncBody/Alert[1]/Item[1]/Data=  kept  ");
    omadm_free(d);

    /* no SyncBody */
    wb_start(&w);
    w.n--;
    wb_byte(&w, 0x01);
    expect_wbxml_error(w.b, w.n, &limits, OMADM_EINVAL, "missing SyncBody");

    /* a CmdID over 64 bytes */
    memset(big, 'x', 65);
    big[65] = '\0';
    wb_start(&w);
    wb_byte(&w, 0x46); wb_leaf(&w, 0x0b, big); wb_byte(&w, 0x01);
    wb_finish(&w);
    expect_wbxml_error(w.b, w.n, &limits, OMADM_EINVAL, "longer than 64");
}


/* ---- round trips ------------------------------------------------------- */

static void
test_round_trip_complex(void **state)
{
    char    *x1, *w, *w2, *x2, *d1, *d2, *d3;
    size_t   wlen, w2len, xlen;

    (void) state;
    d1 = describe_as(OMADM_ENC_XML, complex_xml, strlen(complex_xml));
    w = transcode(OMADM_ENC_XML, OMADM_ENC_WBXML, complex_xml,
                  strlen(complex_xml), &wlen);
    d2 = describe_as(OMADM_ENC_WBXML, w, wlen);
    assert_same(d1, d2);
    /* WBXML -> WBXML is a fixed point, WBXML -> XML -> same model */
    w2 = transcode(OMADM_ENC_WBXML, OMADM_ENC_WBXML, w, wlen, &w2len);
    assert_int_equal(w2len, wlen);
    assert_memory_equal(w2, w, wlen);
    x2 = transcode(OMADM_ENC_WBXML, OMADM_ENC_XML, w, wlen, &xlen);
    d3 = describe_as(OMADM_ENC_XML, x2, xlen);
    assert_same(d1, d3);
    /* WBXML is smaller */
    x1 = transcode(OMADM_ENC_XML, OMADM_ENC_XML, complex_xml,
                   strlen(complex_xml), &xlen);
    assert_true(wlen < xlen / 2);
    omadm_free(x1);
    omadm_free(w);
    omadm_free(w2);
    omadm_free(x2);
    omadm_free(d1);
    omadm_free(d2);
    omadm_free(d3);
}

/* binary Data goes out as OPAQUE and comes back byte for byte */
static void
test_round_trip_binary(void **state)
{
    static const unsigned char  bin[] = { 0x00, 0xff, 0xfe, 0x80, 'x', 0x0d };
    wb_t    w;
    char   *out, *d1, *d2;
    size_t  len;

    (void) state;
    wb_start(&w);
    wb_byte(&w, 0x60); wb_leaf(&w, 0x0b, "2");
    wb_byte(&w, 0x54); wb_byte(&w, 0x4f); wb_byte(&w, 0xc3);
    wb_byte(&w, sizeof(bin)); wb_bytes(&w, bin, sizeof(bin));
    wb_byte(&w, 0x01); wb_byte(&w, 0x01); wb_byte(&w, 0x01);
    wb_finish(&w);
    out = transcode(OMADM_ENC_WBXML, OMADM_ENC_WBXML, w.b, w.n, &len);
    assert_true(contains(out, len, "\xc3\x06\x00\xff\xfe\x80x\x0d", 8));
    d1 = describe_as(OMADM_ENC_WBXML, w.b, w.n);
    d2 = describe_as(OMADM_ENC_WBXML, out, len);
    assert_same(d1, d2);
    omadm_free(out);
    omadm_free(d1);
    omadm_free(d2);
}


/* ---- broken and hostile input ------------------------------------------- */

static void
test_truncation_everywhere(void **state)
{
    char    *w, *out, *err;
    size_t   len, i;
    int      rc;

    (void) state;
    w = transcode(OMADM_ENC_XML, OMADM_ENC_WBXML, complex_xml,
                  strlen(complex_xml), &len);
    for (i = 0; i < len; i++) {
        out = NULL;
        err = NULL;
        rc = omadm_syncml_describe_as(OMADM_ENC_WBXML, w, i, &limits, &out,
                                      NULL, &err);
        if (rc != OMADM_EINVAL || out != NULL || err == NULL) {
            print_error("prefix of %zu bytes: rc %d, err %s\n", i, rc,
                        err ? err : "(none)");
            fail();
        }
        omadm_free(err);
    }
    omadm_free(w);
}

static void
test_hostile(void **state)
{
    static const omadm_limits_t  small = { 8, 100, 64 };
    wb_t   w;
    size_t i;

    (void) state;
    expect_wbxml_error("", 0, &limits, OMADM_EINVAL, "empty body");
    /* public id: six continuation bytes, and a value past 32 bits */
    expect_wbxml_error("\x02\x80\x80\x80\x80\x80\x01\x6a\x00", 9, &limits,
                       OMADM_EINVAL, "mb_u_int32 overflow");
    expect_wbxml_error("\x02\x9f\xff\xff\xff\x7f\x6a\x00", 8, &limits,
                       OMADM_EINVAL, "mb_u_int32 overflow");
    /* a string table of 4 GB - 1, an OPAQUE of 2 GB */
    expect_wbxml_error("\x02\xa4\x01\x6a\x8f\xff\xff\xff\x7f", 9, &limits,
                       OMADM_EINVAL, "truncated");
    wb_start(&w);
    wb_byte(&w, 0x46); wb_byte(&w, 0x4f);
    wb_bytes(&w, "\xc3\x88\x80\x80\x80\x00", 6);
    expect_wbxml_error(w.b, w.n, &limits, OMADM_EINVAL, "truncated");
    /* charset ISO-8859-1, version 2.0 */
    expect_wbxml_error("\x02\xa4\x01\x04\x00\x6d\x01", 7, &limits,
                       OMADM_EINVAL, "charset 4 not supported");
    expect_wbxml_error("\x10\xa4\x01\x6a\x00\x6d\x01", 7, &limits,
                       OMADM_EINVAL, "unsupported WBXML version 2.0");
    /* string-table index past the end: public id, STR_T, LITERAL */
    expect_wbxml_error("\x02\x00\x05\x6a\x02" "a\0" "\x6d\x01", 9, &limits,
                       OMADM_EINVAL, "string table reference 5");
    wb_start(&w);
    wb_byte(&w, 0x46); wb_byte(&w, 0x4f); wb_byte(&w, 0x83); wb_byte(&w, 9);
    expect_wbxml_error(w.b, w.n, &limits, OMADM_EINVAL,
                       "string table reference 9");
    wb_start(&w);
    wb_byte(&w, 0x44); wb_byte(&w, 0);
    expect_wbxml_error(w.b, w.n, &limits, OMADM_EINVAL,
                       "string table reference 0");
    /* table entry without NUL */
    expect_wbxml_error("\x02\x00\x00\x6a\x02" "ab" "\x6d\x01", 9, &limits,
                       OMADM_EINVAL, "not NUL-terminated");
    /* a LITERAL tag name is short (it is copied into every element that
       uses it): 65 bytes is refused without scanning the whole table */
    {
        char  lit[80];

        memcpy(lit, "\x02\xa4\x01\x6a\x42", 5);     /* table of 66 bytes */
        memset(lit + 5, 'n', 65);
        lit[70] = '\0';
        memcpy(lit + 71, "\x6d\x04\x00\x01", 4);    /* SyncML, LITERAL 0 */
        expect_wbxml_error(lit, 75, &limits, OMADM_EINVAL,
                           "longer than 64 bytes");
    }
    /* attributes, PI, EXT, unknown tag, bad ENTITY, bad UTF-8 */
    expect_wbxml_error("\x02\xa4\x01\x6a\x00\xed\x01", 7, &limits,
                       OMADM_EINVAL, "attributes not supported");
    expect_wbxml_error("\x02\xa4\x01\x6a\x00\x43", 6, &limits,
                       OMADM_EINVAL, "processing instructions");
    wb_start(&w); wb_byte(&w, 0xc0);
    expect_wbxml_error(w.b, w.n, &limits, OMADM_EINVAL, "extension token");
    wb_start(&w); wb_byte(&w, 0x70);
    expect_wbxml_error(w.b, w.n, &limits, OMADM_EINVAL,
                       "unknown WBXML tag 0x30");
    wb_start(&w); wb_byte(&w, 0x46); wb_byte(&w, 0x4f);
    wb_bytes(&w, "\x02\x83\xb0\x00", 4);                   /* U+D800 */
    expect_wbxml_error(w.b, w.n, &limits, OMADM_EINVAL, "not a character");
    wb_start(&w); wb_byte(&w, 0x46); wb_leaf(&w, 0x0f, "\xc0\xaf");
    expect_wbxml_error(w.b, w.n, &limits, OMADM_EINVAL, "invalid UTF-8");
    /* unbalanced END, data after the root, not closed, no root, text */
    wb_start(&w); wb_finish(&w); wb_byte(&w, 0x01);
    expect_wbxml_error(w.b, w.n, &limits, OMADM_EINVAL, "unbalanced WBXML END");
    wb_start(&w); wb_finish(&w); wb_byte(&w, 0x6d);
    expect_wbxml_error(w.b, w.n, &limits, OMADM_EINVAL, "data after the end");
    wb_start(&w);
    expect_wbxml_error(w.b, w.n, &limits, OMADM_EINVAL, "not closed");
    expect_wbxml_error("\x02\xa4\x01\x6a\x00", 5, &limits, OMADM_EINVAL,
                       "no root element");
    expect_wbxml_error("\x02\xa4\x01\x6a\x00\x03x\0", 8, &limits,
                       OMADM_EINVAL, "outside the root");
    expect_wbxml_error("\x02\xa4\x01\x6a\x00\x6c\x01", 7, &limits,
                       OMADM_EINVAL, "root element is not SyncML");
    /* Data holding child elements */
    wb_start(&w); wb_byte(&w, 0x46); wb_byte(&w, 0x4f); wb_byte(&w, 0x4b);
    wb_str(&w, "x"); wb_byte(&w, 1); wb_byte(&w, 1); wb_byte(&w, 1);
    wb_finish(&w);
    expect_wbxml_error(w.b, w.n, &limits, OMADM_EINVAL,
                       "Data with child elements");
    /* the limits: depth, elements, text */
    wb_start(&w);
    for (i = 0; i < 10; i++) {
        wb_byte(&w, 0x54);
    }
    expect_wbxml_error(w.b, w.n, &small, OMADM_ETOOBIG,
                       "nesting deeper than 8");
    wb_start(&w);
    for (i = 0; i < 200; i++) {
        wb_byte(&w, 0x12);
    }
    expect_wbxml_error(w.b, w.n, &small, OMADM_ETOOBIG, "more than 100");
    wb_start(&w);
    wb_byte(&w, 0x46);
    wb_leaf(&w, 0x0f, "01234567890123456789012345678901234567890123456789"
                      "0123456789012345");
    expect_wbxml_error(w.b, w.n, &small, OMADM_ETOOBIG, "longer than 64");
}

/* one 4000-byte table string referenced 2000 times: refused, not 8 MB */
static void
test_string_table_amplification(void **state)
{
    static unsigned char  buf[4200 + 2000 * 6];
    size_t                n = 0, i;
    char                 *out = NULL, *err = NULL;

    (void) state;
    memcpy(buf, "\x02\xa4\x01\x6a\x9f\x21", 6);       /* table: 4001 bytes */
    n = 6;
    memset(buf + n, 'a', 4000);
    n += 4000;
    buf[n++] = 0;
    buf[n++] = 0x6d;
    buf[n++] = 0x6b;
    for (i = 0; i < 2000; i++) {        /* each an unknown page-2 element */
        buf[n++] = 0x00; buf[n++] = 0x02;
        buf[n++] = 0x45; buf[n++] = 0x83; buf[n++] = 0x00; buf[n++] = 0x01;
    }
    assert_true(n <= sizeof(buf));
    assert_int_equal(omadm_syncml_describe_as(OMADM_ENC_WBXML, (char *) buf, n,
                         &limits, &out, NULL, &err), OMADM_ETOOBIG);
    assert_non_null(strstr(err, "decoded WBXML text larger than"));
    omadm_free(err);
}

static void
test_bad_arguments(void **state)
{
    char  *out = (char *) 1, *err = NULL;

    (void) state;
    assert_int_equal(omadm_syncml_describe_as(7, small_xml, 10, &limits,
                         &out, NULL, &err), OMADM_EINVAL);
    assert_null(out);
    out = (char *) 1;
    assert_int_equal(omadm_syncml_transcode(OMADM_ENC_XML, 9, small_xml,
                         strlen(small_xml), &limits, &out, NULL, &err),
                     OMADM_EINVAL);
    assert_null(out);
}


/* ---- an exchange in WBXML --------------------------------------------- */

#include "mem_store.h"

static mem_store_t  mem;

/* one message; returns the malloc()ed body, status and type in *act_out */
static char *
exchange_once(int enc, const void *msg, size_t len, omadm_action_t *act_out,
    size_t *out_len)
{
    static const char   sid[] = "https://dm.example.com/omadm";
    omadm_config_t      cf;
    omadm_store_t       st = mem_store(&mem);
    omadm_exchange_t   *ex;
    char               *body;

    memset(&cf, 0, sizeof(cf));
    cf.auth_accept = OMADM_AUTH_BASIC;
    cf.auth_challenge = OMADM_AUTH_BASIC;   /* no backend call for a 407 */
    cf.session_ttl = 60;
    cf.max_commands = 50;
    cf.server_id = sid;
    cf.server_id_len = sizeof(sid) - 1;
    cf.resp_uri = sid;
    cf.resp_uri_len = sizeof(sid) - 1;

    assert_int_equal(omadm_exchange_create(&cf, &st, msg, len, enc, NULL, 0,
                         1000, &ex), OMADM_OK);
    assert_int_equal(omadm_exchange_run(ex, act_out), OMADM_OK);
    assert_int_equal(act_out->kind, OMADM_ACT_RESPOND);
    body = malloc(act_out->body_len + 1);
    assert_non_null(body);
    memcpy(body, act_out->body, act_out->body_len);
    body[act_out->body_len] = '\0';
    *out_len = act_out->body_len;
    act_out->body = NULL;
    omadm_exchange_destroy(ex);
    return body;
}

static void
test_exchange_answers_in_wbxml(void **state)
{
    omadm_action_t  act;
    char           *a, *b, *c, *d, *dx;
    size_t          alen, blen, clen;
    int             status;

    (void) state;
    store_clear(&mem);
    a = exchange_once(OMADM_ENC_WBXML, small_wbxml, sizeof(small_wbxml),
                      &act, &alen);
    status = act.http_status;
    assert_int_equal(status, 200);
    assert_string_equal(act.content_type, "application/vnd.syncml.dm+wbxml");
    assert_int_equal((unsigned char) a[0], 0x02);
    d = describe_as(OMADM_ENC_WBXML, a, alen);
    assert_line(d, "SyncBody/Status[1]/Cmd=SyncHdr");
    assert_line(d, "SyncBody/Status[1]/Data=407");
    assert_line(d, "SyncBody/Status[1]/Chal/Meta/Type=syncml:auth-basic");
    assert_line(d, "SyncHdr/Target=IMEI:490154203237518");

    /* the same MsgID again: the same bytes */
    b = exchange_once(OMADM_ENC_WBXML, small_wbxml, sizeof(small_wbxml),
                      &act, &blen);
    assert_int_equal(blen, alen);
    assert_memory_equal(a, b, alen);

    /* repeated in XML: the kept answer, in XML */
    c = exchange_once(OMADM_ENC_XML, small_xml, strlen(small_xml), &act,
                      &clen);
    assert_string_equal(act.content_type, "application/vnd.syncml.dm+xml");
    assert_int_equal(c[0], '<');
    dx = describe_as(OMADM_ENC_XML, c, clen);
    assert_same(d, dx);

    omadm_free(d);
    omadm_free(dx);
    free(a);
    free(b);
    free(c);

    /* broken WBXML: 400 text/plain with the reason */
    a = exchange_once(OMADM_ENC_WBXML, small_wbxml, 40, &act, &alen);
    assert_int_equal(act.http_status, 400);
    assert_string_equal(act.content_type, "text/plain");
    assert_non_null(strstr(a, "truncated"));
    free(a);
    store_clear(&mem);
}

static void
test_exchange_bad_encoding(void **state)
{
    omadm_config_t     cf;
    omadm_store_t      st = mem_store(&mem);
    omadm_exchange_t  *ex = (omadm_exchange_t *) 1;

    (void) state;
    memset(&cf, 0, sizeof(cf));
    assert_int_equal(omadm_exchange_create(&cf, &st, "", 0, 2, NULL, 0, 0,
                         &ex), OMADM_EINVAL);
    assert_null(ex);
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verified_sample),
        cmocka_unit_test(test_encoder_matches_sample),
        cmocka_unit_test(test_every_token),
        cmocka_unit_test(test_public_id_forms),
        cmocka_unit_test(test_same_semantics),
        cmocka_unit_test(test_round_trip_complex),
        cmocka_unit_test(test_round_trip_binary),
        cmocka_unit_test(test_truncation_everywhere),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_string_table_amplification),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_exchange_answers_in_wbxml),
        cmocka_unit_test(test_exchange_bad_encoding),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
