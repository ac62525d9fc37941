#!/usr/bin/env python3
"""Writes the seed corpus fuzz/corpus/<target>/ (except wbxml) from the
protocol digest's vectors and messages shaped like the integration tests'
(t/lib/OmadmTest/Device.pm) and real devices'.  Rerun after changing it;
the files are small and committed."""
import base64, hashlib, os, shutil, sys

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = '/work/shared/vectors'
DEV = 'IMEI:490154203237518'
SERVER = 'https://dm.example.com/omadm'
MD5_CRED = 'TQMT1Y62qXyh7tF3TZ5l7Q=='       # dev1/secret, vector B nonce
BASIC_CRED = 'ZGV2MTpzZWNyZXQ='
META = '<Meta><MaxMsgSize xmlns="syncml:metinf">20000</MaxMsgSize></Meta>'


def hdr(msg_id, cred=None, session='1', ver='1.2', target=SERVER,
        user='dev1', dev=DEV, meta=META):
    x = (f'<SyncHdr><VerDTD>{ver}</VerDTD><VerProto>DM/{ver}</VerProto>'
         f'<SessionID>{session}</SessionID><MsgID>{msg_id}</MsgID>'
         f'<Target><LocURI>{target}</LocURI></Target>'
         f'<Source><LocURI>{dev}</LocURI><LocName>{user}</LocName></Source>')
    if cred == 'md5':
        x += ('<Cred><Meta><Type xmlns="syncml:metinf">syncml:auth-md5</Type>'
              '<Format xmlns="syncml:metinf">b64</Format></Meta>'
              f'<Data>{MD5_CRED}</Data></Cred>')
    elif cred == 'basic':
        x += ('<Cred><Meta><Type xmlns="syncml:metinf">syncml:auth-basic'
              '</Type><Format xmlns="syncml:metinf">b64</Format></Meta>'
              f'<Data>{BASIC_CRED}</Data></Cred>')
    return x + meta + '</SyncHdr>'


def wrap(h, body, ver='1.2', decl=True, final=True):
    d = '<?xml version="1.0" encoding="UTF-8"?>\n' if decl else ''
    return (f'{d}<SyncML xmlns="SYNCML:SYNCML{ver}">{h}<SyncBody>{body}'
            + ('<Final/>' if final else '') + '</SyncBody></SyncML>')


def devinfo(n):
    items = ''.join(
        f'<Item><Source><LocURI>./DevInfo/{k}</LocURI></Source>'
        f'<Data>{v}</Data></Item>'
        for k, v in [('DevId', DEV), ('Man', 'Example Corp'), ('Mod', 'X100'),
                     ('DmV', '1.2'), ('Lang', 'en-US')])
    return f'<Replace><CmdID>{n}</CmdID>{items}</Replace>'


def package1(msg_id=1, cred='md5', prev=None, **kw):
    body = ''
    n = 1
    if prev:
        body += hdr_status(n, prev, 212 if cred else 200)
        n += 1
    body += f'<Alert><CmdID>{n}</CmdID><Data>1201</Data></Alert>'
    body += devinfo(n + 1)
    return wrap(hdr(msg_id, cred, **kw), body)


def hdr_status(n, msg_ref, code=200):
    return (f'<Status><CmdID>{n}</CmdID><MsgRef>{msg_ref}</MsgRef>'
            f'<CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd>'
            f'<TargetRef>{DEV}</TargetRef><SourceRef>{SERVER}</SourceRef>'
            f'<Data>{code}</Data></Status>')


def answer(msg_id, msg_ref, cmds, get_value='4.2.1', extra=''):
    """Package 3: statuses for server commands [(cmd_id, name, target)]."""
    body = hdr_status(1, msg_ref)
    n = 2
    results = ''
    for cmd_id, name, target, code in cmds:
        body += (f'<Status><CmdID>{n}</CmdID><MsgRef>{msg_ref}</MsgRef>'
                 f'<CmdRef>{cmd_id}</CmdRef><Cmd>{name}</Cmd>'
                 f'<TargetRef>{target}</TargetRef><Data>{code}</Data></Status>')
        n += 1
        if name == 'Get' and code == 200:
            results += (f'<Results><CmdID>{n}</CmdID><MsgRef>{msg_ref}</MsgRef>'
                        f'<CmdRef>{cmd_id}</CmdRef><Item><Source><LocURI>'
                        f'{target}</LocURI></Source><Meta><Format '
                        'xmlns="syncml:metinf">chr</Format><Type '
                        'xmlns="syncml:metinf">text/plain</Type></Meta>'
                        f'<Data>{get_value}</Data></Item></Results>')
            n += 1
    return wrap(hdr(msg_id), body + results + extra)


GENERIC_ALERT = (
    '<Alert><CmdID>9</CmdID><Data>1226</Data><Correlator>job-1</Correlator>'
    '<Item><Source><LocURI>./FwUpdate/Pkg1/Update</LocURI></Source><Meta>'
    '<Type xmlns="syncml:metinf">org.openmobilealliance.dm.firmwareupdate.'
    'update</Type><Format xmlns="syncml:metinf">int</Format>'
    '<Mark xmlns="syncml:metinf">critical</Mark></Meta><Data>200</Data>'
    '</Item></Alert>')

# the commands the fuzz harness's backend hands out on session start
# (after the server's Statuses for the SyncHdr, Alert and Replace)
FIRST = [('4', 'Get', './DevDetail/SwV', 200), ('5', 'Replace', './Vendor/X',
         200), ('6', 'Exec', './FwUpdate/Pkg1/Update', 202)]


def xml_seeds():
    s = {}
    for f in ('small.xml', 'hmac_body.xml'):
        p = os.path.join(VECTORS, f)
        if os.path.exists(p):
            s['vector_' + f] = open(p, 'rb').read().decode()
    s['package1_md5.xml'] = package1()
    s['package1_basic.xml'] = package1(cred='basic')
    s['package1_nocred.xml'] = package1(cred=None)
    s['package1_v11.xml'] = package1(ver='1.1')
    s['package3.xml'] = answer(2, 1, FIRST)
    s['package3_404.xml'] = answer(2, 1, [('1', 'Get', './X', 404)])
    s['generic_alert.xml'] = wrap(hdr(3), hdr_status(1, 2) + GENERIC_ALERT)
    s['multi_1222.xml'] = wrap(hdr(2), hdr_status(1, 1)
                               + '<Alert><CmdID>2</CmdID><Data>1222</Data>'
                               '</Alert>', final=False)
    s['atomic_sequence.xml'] = wrap(hdr(4), (
        '<Atomic><CmdID>2</CmdID><Add><CmdID>3</CmdID><Item><Target><LocURI>'
        './A</LocURI></Target><Data>1</Data></Item></Add></Atomic>'
        '<Sequence><CmdID>4</CmdID><Get><CmdID>5</CmdID><Item><Target>'
        '<LocURI>./B</LocURI></Target></Item></Get></Sequence>'))
    s['data_xml_cdata.xml'] = wrap(hdr(5), (
        '<Results><CmdID>2</CmdID><MsgRef>1</MsgRef><CmdRef>1</CmdRef><Item>'
        '<Source><LocURI>./Vendor/MSFT/DeviceStatus</LocURI></Source><Meta>'
        '<Format xmlns="syncml:metinf">xml</Format></Meta><Data><MgmtTree>'
        '<Node><NodeName>x</NodeName></Node></MgmtTree></Data></Item>'
        '</Results><Status><CmdID>3</CmdID><MsgRef>1</MsgRef><CmdRef>2'
        '</CmdRef><Cmd>Get</Cmd><Data>200</Data></Status><Replace><CmdID>4'
        '</CmdID><Item><Source><LocURI>./DevInfo/Man</LocURI></Source><Data>'
        '<![CDATA[a<b>&c]]> &amp; &#x41;&#66; \u00e9</Data><MoreData/>'
        '</Item></Replace>'))
    s['prefixed_ns.xml'] = (
        '<s:SyncML xmlns:s="SYNCML:SYNCML1.2" xmlns:m="syncml:metinf">'
        '<s:SyncHdr><s:VerDTD>1.2</s:VerDTD><s:VerProto>DM/1.2</s:VerProto>'
        '<s:SessionID>A1</s:SessionID><s:MsgID>1</s:MsgID><s:Target><s:LocURI>'
        f'{SERVER}</s:LocURI></s:Target><s:Source><s:LocURI>{DEV}</s:LocURI>'
        '</s:Source><s:Cred><s:Meta><m:Type>syncml:auth-md5</m:Type>'
        '<m:Format>b64</m:Format></s:Meta><s:Data>abc=</s:Data></s:Cred>'
        '</s:SyncHdr><s:SyncBody><s:Alert><s:CmdID>1</s:CmdID><s:Data>1201'
        '</s:Data></s:Alert><x:Unknown xmlns:x="urn:x"><a/></x:Unknown>'
        '<s:Final/></s:SyncBody></s:SyncML>')
    s['unsupported_version.xml'] = package1(ver='1.3')
    s['windows_style.xml'] = wrap(
        hdr(1, None, session='1F', dev='urn:uuid:0a1b2c3d-1111-2222-3333-'
            '444455556666', user='', target=SERVER + '?mode=full'),
        '<Alert><CmdID>1</CmdID><Data>1201</Data></Alert><Alert><CmdID>2'
        '</CmdID><Data>1224</Data><Item><Meta><Type xmlns="syncml:metinf">'
        'com.microsoft/MDM/LoginStatus</Type></Meta><Data>user</Data></Item>'
        '</Alert>' + devinfo(3).replace('./DevInfo/DmV', './DevInfo/DmV'),
        decl=False)
    s['status_chal.xml'] = wrap(hdr(2), (
        '<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>'
        'SyncHdr</Cmd><TargetRef>x</TargetRef><SourceRef>y</SourceRef><Chal>'
        '<Meta><Type xmlns="syncml:metinf">syncml:auth-md5</Type><Format '
        'xmlns="syncml:metinf">b64</Format><NextNonce xmlns="syncml:metinf">'
        'AQIDBAUGBwgJCgsMDQ4PEA==</NextNonce></Meta></Chal><Data>401</Data>'
        '</Status>'))
    s['doctype.xml'] = ('<?xml version="1.0"?><!DOCTYPE SyncML [<!ENTITY a '
                        '"aaaa">]><SyncML xmlns="SYNCML:SYNCML1.2">&a;'
                        '</SyncML>')
    s['truncated.xml'] = package1()[:180]
    return {k: v.encode() for k, v in s.items()}


def chunk(n, msg_ref, cmd_ref, data, size=None, more=True):
    """A Results Item carrying one chunk of a large object."""
    meta = (f'<Meta><Size xmlns="syncml:metinf">{size}</Size></Meta>'
            if size is not None else '')
    return (f'<Results><CmdID>{n}</CmdID><MsgRef>{msg_ref}</MsgRef>'
            f'<CmdRef>{cmd_ref}</CmdRef><Item><Source><LocURI>./DevDetail/SwV'
            f'</LocURI></Source>{meta}<Data>{data}</Data>'
            + ('<MoreData/>' if more else '') + '</Item></Results>')


def chunk_status(n, msg_ref, cmd_ref, code=213):
    return (f'<Status><CmdID>{n}</CmdID><MsgRef>{msg_ref}</MsgRef>'
            f'<CmdRef>{cmd_ref}</CmdRef><Cmd>Replace</Cmd><Data>{code}</Data>'
            '</Status>')


def exchange_seeds():
    """NUL-separated sequences; see fuzz/fuzz_exchange.cpp."""
    p1 = package1()
    small = '<Meta><MaxMsgSize xmlns="syncml:metinf">1024</MaxMsgSize></Meta>'
    get_ok = ('<Status><CmdID>2</CmdID><MsgRef>1</MsgRef><CmdRef>4</CmdRef>'
              '<Cmd>Get</Cmd><Data>200</Data></Status>')
    seq = {
        # challenge, then MD5, then answer every command, then done
        'session_md5.bin': [package1(cred=None), '#S',
                            package1(msg_id=2, prev=1),
                            answer(3, 2, FIRST),
                            answer(4, 3, [('2', 'Delete', './Vendor/Y', 200)])],
        'session_direct.bin': [p1, answer(2, 1, FIRST)],
        'session_basic.bin': ['#Cc', package1(cred='basic'),
                              answer(2, 1, FIRST)],
        'repeat.bin': [p1, p1, answer(2, 1, FIRST), answer(2, 1, FIRST)],
        'backend_fail.bin': ['#B503', p1, '#B000', p1,
                             '#Be409{"error":"nonce"}', package1(session='2'),
                             '#Be404{"error":"unknown device"}',
                             package1(session='3'), '#Bn404{}',
                             package1(session='4', cred=None)],
        'backend_bad_json.bin': [
            '#Be200{"commands":[{"id":"9","verb":"Get","target":"./Z",'
            '"data":null}]}', p1,
            '#Ba200{"username":"dev1","inner":"x"}', package1(session='2'),
            '#Be200[1,2', package1(session='3')],
        'throttle.bin': sum([['#Ba200{"username":"dev1","inner":"AAAA",'
                              '"nonce":""}', package1(session=str(i))]
                             for i in range(1, 4)], [])
                        + [package1(session='5'), '#T61',
                           package1(session='6')],
        'empty_md5.bin': [package1().replace(MD5_CRED, '')],
        'wbxml_session.bin': ['#Cw', package1(cred=None),
                              package1(msg_id=2, prev=1),
                              answer(3, 2, FIRST), '#Cx',
                              answer(3, 2, FIRST)],
        'wbxml_direct.bin': ['#Cw', p1, answer(2, 1, FIRST)],
        'hmac_direct.bin': ['#Ch', '#H', package1(cred=None),
                            '#H', answer(2, 1, FIRST)],
        'hmac_challenge.bin': ['#CH', package1(cred=None), '#H',
                               package1(msg_id=2, prev=1, cred=None)],
        'hmac_bad.bin': ['#Ch', '#Halgorithm=MD5, username="dev1", '
                         'mac=AAAAAAAAAAAAAAAAAAAAAA==', package1(cred=None),
                         '#Halgorithm=SHA1, username=dev1, mac=x',
                         package1(session='2', cred=None),
                         '#Hmac=' + 'A' * 24, package1(session='3')],
        'expiry.bin': [p1, '#T301', answer(2, 1, FIRST)],
        'small_store.bin': ['#Cs1', p1, answer(2, 1, FIRST[:1]),
                            package1(session='9')],
        # session fixation: the login follows an unauthenticated message's
        # answer (and its RespURI), the next message carries what it got
        'fixation.bin': [package1(cred=None), package1(msg_id=2, prev=1),
                         answer(3, 2, FIRST), answer(3, 2, FIRST[:1])],
        'fixation_hmac.bin': ['#Ch', package1(cred=None), '#H',
                              package1(msg_id=2, prev=1, cred=None),
                              answer(3, 2, FIRST), '#H', answer(3, 2, FIRST)],
        'wrong_token.bin': [p1, '#S', answer(2, 1, FIRST),
                            '#Cb', package1(session='4', cred='basic')],
        'alerts.bin': [p1, wrap(hdr(2), hdr_status(1, 1) + GENERIC_ALERT
                                + answer(0, 1, FIRST)[0:0])],
        'garbage.bin': ['', '<SyncML/>', '#T5', 'not xml at all'],
        # a Result in three chunks, then one whose Size is wrong
        'large_results.bin': [
            p1,
            wrap(hdr(2), hdr_status(1, 1) + get_ok
                 + chunk(3, 1, 4, 'a&amp;b' * 20, size=300), final=False),
            wrap(hdr(3), hdr_status(1, 2) + chunk(2, 1, 4, 'c' * 100),
                 final=False),
            wrap(hdr(4), hdr_status(1, 3) + chunk(2, 1, 4, 'd' * 60,
                                                 more=False))],
        # the backend's large Replaces (third exchange) to a device with a
        # MaxMsgSize of 1024: chunks, each answered 213, one refused
        'large_replace.bin': [
            package1(meta=small), answer(2, 1, FIRST),
            answer(3, 2, [('2', 'Delete', './Vendor/Y', 200)]),
            wrap(hdr(4), hdr_status(1, 3) + chunk_status(2, 3, 2)),
            wrap(hdr(5), hdr_status(1, 4) + chunk_status(2, 4, 2)),
            wrap(hdr(6), hdr_status(1, 5) + chunk_status(2, 5, 2, 500)),
            '#Bo404{}',
            wrap(hdr(7), hdr_status(1, 6) + chunk_status(2, 6, 2))],
    }
    return {k: b'\0'.join(x.encode() for x in v) for k, v in seq.items()}


def hmac_seeds():
    mac = 'eOkDEra8CqnJta/glTxUAw=='
    s = [f'algorithm=MD5, username="dev1", mac={mac}',
         f'mac={mac},username=dev1',
         f'  Algorithm = "md5" ,\tUserName =\t"dev1" , MAC = "{mac}"  ',
         f',, username="Jo \\"D\\\\", realm="x, y", mac={mac},',
         f'algorithm=SHA1, username=dev1, mac={mac}',
         f'username=dev1, username=dev2, mac={mac}',
         'username="dev1, mac=', 'username=dev1,\r\nmac=x',
         f'username={"u" * 257}, mac={mac}',
         f'username="d\u00e9v", mac={mac}']
    return {f'h{i:02d}.txt': v.encode() for i, v in enumerate(s)}


def json_seeds():
    s = {
        'auth.json': '{"device_id":"IMEI:1","username":"dev1","inner":'
                     '"5JCaBwg5UOKeo+yimuXGew==","nonce":"00qRAH8Q7kJbLIgZ'
                     'wP8zpw=="}',
        'auth_nonce_null.json': '{"username":"dev1","inner":"x","nonce":null}',
        'auth_bad.json': '{"username":1,"inner":"x"}',
        'exchange.json': '{"commands":[{"id":"17","verb":"Replace","target":'
                         '"./Device/Vendor/MSFT/Policy/Config/X/Y","data":"6",'
                         '"format":"int","type":"text/plain"},{"id":"18","verb"'
                         ':"Exec","target":"./FwUpdate/Pkg1/Update",'
                         '"correlator":"job-42"},{"id":"19","verb":"Get",'
                         '"target":"./DevDetail/SwV"}]}',
        'exchange_empty.json': '{"commands":[]}',
        'exchange_badverb.json': '{"commands":[{"id":"1","verb":"Copy",'
                                 '"target":"./A"}]}',
        'exchange_unicode.json': '{"commands":[{"id":"\\u00e9\\ud83d\\ude00",'
                                 '"verb":"Add","target":"./\\"A\\\\","data":'
                                 '"<x>&amp;</x>\\n"}]}',
        'error.json': '{"error":"unknown device"}',
        'nested.json': '[' * 40 + ']' * 40,
        'numbers.json': '{"commands":[{"id":1e999,"verb":"Get","target":"x"}]}',
        'writers.bin': 'IMEI:1\0dev\xff\xfe1',
    }
    return {k: v.encode('utf-8', 'surrogatepass') if k != 'writers.bin'
            else v.encode('latin-1') for k, v in s.items()}


# --- SOAP requests of the Windows enrollment services (fuzz_soap) ---------

SOAP_NS = ('xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
           'xmlns:a="http://www.w3.org/2005/08/addressing"')
WSSE = ('http://docs.oasis-open.org/wss/2004/01/'
        'oasis-200401-wss-wssecurity-secext-1.0.xsd')
ENROLL = 'http://schemas.microsoft.com/windows/pki/2009/01/enrollment'


def soap(action, body, security=''):
    return (f'<s:Envelope {SOAP_NS}><s:Header>'
            f'<a:Action s:mustUnderstand="1">{action}</a:Action>'
            '<a:MessageID>urn:uuid:748132ec-a575-4329-b01b-6171a9cf8478'
            '</a:MessageID><a:ReplyTo><a:Address>'
            'http://www.w3.org/2005/08/addressing/anonymous</a:Address>'
            f'</a:ReplyTo>{security}</s:Header><s:Body>{body}</s:Body>'
            '</s:Envelope>')


def username_token(user='user@example.com', password='secret'):
    return (f'<wsse:Security xmlns:wsse="{WSSE}" s:mustUnderstand="1">'
            f'<wsse:UsernameToken><wsse:Username>{user}</wsse:Username>'
            f'<wsse:Password wsse:Type="PasswordText">{password}'
            '</wsse:Password></wsse:UsernameToken></wsse:Security>')


def soap_seeds():
    discover = soap(
        'http://schemas.microsoft.com/windows/management/2012/01/enrollment/'
        'IDiscoveryService/Discover',
        '<Discover xmlns="http://schemas.microsoft.com/windows/management/'
        '2012/01/enrollment"><request xmlns:i="http://www.w3.org/2001/'
        'XMLSchema-instance"><EmailAddress>user@example.com</EmailAddress>'
        '<RequestVersion>5.0</RequestVersion><DeviceType>CIMClient_Windows'
        '</DeviceType><AuthPolicies><AuthPolicy>OnPremise</AuthPolicy>'
        '</AuthPolicies></request></Discover>')
    policies = soap(
        'http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy/'
        'IPolicy/GetPolicies',
        '<GetPolicies xmlns="http://schemas.microsoft.com/windows/pki/2009/01/'
        'enrollmentpolicy"><client><lastUpdate xsi:nil="true" xmlns:xsi='
        '"http://www.w3.org/2001/XMLSchema-instance"/></client>'
        '<requestFilter/></GetPolicies>', username_token())
    rst = soap(
        f'{ENROLL}/RST/wstep',
        '<wst:RequestSecurityToken xmlns:wst="http://docs.oasis-open.org/'
        'ws-sx/ws-trust/200512" xmlns:ac="http://schemas.xmlsoap.org/ws/'
        '2006/12/authorization"><wst:TokenType>http://schemas.microsoft.com/'
        '5.0.0.0/ConfigurationManager/Enrollment/DeviceEnrollmentToken'
        '</wst:TokenType><wst:RequestType>http://docs.oasis-open.org/ws-sx/'
        'ws-trust/200512/Issue</wst:RequestType>'
        f'<wsse:BinarySecurityToken xmlns:wsse="{WSSE}" ValueType="{ENROLL}'
        f'#PKCS10" EncodingType="{WSSE}#base64binary">MIIBAAAA'
        '</wsse:BinarySecurityToken><ac:AdditionalContext><ac:ContextItem '
        'Name="DeviceID"><ac:Value>B5B954E81FBCB94EB79BD08BE625F4EE</ac:Value>'
        '</ac:ContextItem><ac:ContextItem Name="EnrollmentType"><ac:Value>Full'
        '</ac:Value></ac:ContextItem></ac:AdditionalContext>'
        '</wst:RequestSecurityToken>', username_token())
    s = {
        'discover.xml': discover,
        'get_policies.xml': policies,
        'rst_issue.xml': rst,
        'indented.xml': discover.replace('><', '>\n   <'),
        'doctype.xml': '<!DOCTYPE s [<!ENTITY x "y">]>' + discover,
        'entities.xml': discover.replace('user@example.com',
                                         '&amp;&lt;&#x41;&#13;'),
        'cdata.xml': rst.replace('MIIBAAAA', '<![CDATA[MIIB\r\nAAAA]]>'),
        'soap11.xml': discover.replace('2003/05/soap-envelope',
                                       'soap/envelope/'),
        'not_xml.txt': 'GET / HTTP/1.1',
    }
    return {k: v.encode('utf-8') for k, v in s.items()}


def session_record_seeds():
    """fuzz_session_record: sessions built from fields, and the JSON blob
    the module before the binary record stored (read as no session)."""
    token = '928d04860594eb37ecd5021a3e151c12'
    pr = hashlib.sha256(b'print').hexdigest()
    answer = wrap(hdr(1, None, session='42'),
                  '<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0'
                  '</CmdRef><Cmd>SyncHdr</Cmd><Data>212</Data></Status>'
                  '<Get><CmdID>4</CmdID><Item><Target><LocURI>./DevDetail/'
                  'SwV</LocURI></Target></Item></Get>', decl=False)
    built = '\0'.join([token, '1', pr, 'dev1', '', answer,
                        '00qRAH8Q7kJbLIgZwP8zpw==', '1:4', 'c1', '1:5', 'c2'])
    old = ('{"token":"%s","authenticated":true,"server_msg_id":1,'
           '"last_device_msg_id":"1","last_request_print":"%s",'
           '"outstanding":{"1:4":"c1"},"ended":false}\0%s'
           % (token, pr, answer))
    s = {
        'md5_session': '\x21' + built + '\x00\x10',
        'basic_ended': '\x03' + built.replace(token, 'x') + '\x01\x00',
        'no_answer': '\x01' + token + '\0' * 5 + '\x00\x05',
        'old_json_blob': 'R' + old,
        'empty_record': 'R',
    }
    return {k: v.encode('latin-1') for k, v in s.items()}


def write(target, files):
    d = os.path.join(HERE, 'corpus', target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for name, data in files.items():
        with open(os.path.join(d, name), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    write('xml', xml_seeds())
    write('exchange', exchange_seeds())
    write('hmac_header', hmac_seeds())
    write('backend_json', json_seeds())
    write('soap', soap_seeds())
    write('session_record', session_record_seeds())
    print('corpus written', file=sys.stderr)
