#!/usr/bin/perl
# WBXML interoperability with libwbxml2 (Debian's libwbxml 0.11.8, the
# codec of many SyncML clients; OmadmTest::Libwbxml) through real nginx and
# omadm-backend:
#  * what libwbxml2 does with SyncML DM, pinned where it differs from the
#    protocol digest (§7) or from the module (the list is in
#    OmadmTest::Libwbxml);
#  * libwbxml2 decodes every WBXML answer of a session as the same document
#    the module's own decoder sees (a repeated message sent as XML gets the
#    kept WBXML answer decoded and re-encoded by the module);
#  * WBXML that libwbxml2 encodes from the harness's device messages, and
#    from the XML fixtures of fuzz/corpus/xml, is answered as the same XML
#    message is, and what reaches the backend is what libwbxml2 sent.
# Two gaps of the module are TODO tests (reported, src/ is not changed
# here): a DOCTYPE (which wbxml2xml and the digest's own vector write) is
# refused in XML, and Data with child elements is refused in WBXML.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use OmadmTest;
use OmadmTest::Device;
use OmadmTest::WBXML qw(xml_to_wbxml wbxml_to_xml $SAMPLE_XML);
use OmadmTest::Libwbxml qw(wbxml2xml xml2wbxml canonical);

if (my $why = OmadmTest::Libwbxml::missing()) { plan skip_all => $why }

my $XML = 'application/vnd.syncml.dm+xml';
my $WB = 'application/vnd.syncml.dm+wbxml';

sub hexs { unpack 'H*', $_[0] }
sub doc { join "\n", @{ canonical($_[0]) } }

# ---- libwbxml2 on its own ---------------------------------------------------

# The digest's verified sample (§7): `xml2wbxml -v 1.2 -n` and the harness
# encoder give the same bytes, and both decode back to the document.
my $sample = $SAMPLE_XML;
my $lib12 = xml2wbxml($sample, '-v', '1.2', '-n');
is(hexs($lib12), hexs(xml_to_wbxml($sample)),
   'libwbxml2 -v 1.2 -n: the same bytes as the harness encoder (§7 sample)');
is(doc(wbxml2xml($lib12)), doc($sample), 'libwbxml2 decodes it back');
my $lib = xml2wbxml($sample);
is(hexs(substr($lib, 0, 3)), '03a401',
   'libwbxml2 by default: WBXML 1.3 (the module answers in 1.2), public id 0x1201');
(my $sample11 = $sample) =~ s/1\.2/1.1/g;
is(hexs(substr(xml2wbxml($sample11), 0, 3)), '039f53',
   'SyncML 1.1 from the root xmlns: public id 0x0FD3');

# Data: OPAQUE in an Add/Replace Item, with LF turned into CRLF (libwbxml2
# takes every such Data for a vCard); STR_I elsewhere, blanks stripped
# unless -k.  §7 says OPAQUE is for binary data; the module sends STR_I
# for any valid UTF-8 and reads both.
my $data = '<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD>'
    . '</SyncHdr><SyncBody><Replace><Item><Data>a' . "\n" . 'b</Data></Item>'
    . '</Replace><Results><Item><Data>  c  </Data></Item></Results>'
    . '</SyncBody></SyncML>';
my $w = xml2wbxml($data, '-n');
like(hexs($w), qr/4fc304610d0a6201/, 'Replace Item Data: OPAQUE "a\r\nb" (LF -> CRLF)');
like(hexs($w), qr/4f03630001/, 'Results Item Data: STR_I "c", blanks stripped');
like(hexs(xml2wbxml($data, '-n', '-k')), qr/4f0320206320200001/,
     '... kept with -k');

# wbxml2xml: every Add/Replace Item Data as an unescaped CDATA section, so
# a "]]>" in it (legal data, which the module sends as it is) gives XML
# that no reader accepts: a libwbxml2 bug, not the module's.
my $cdata = xml_to_wbxml('<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr>'
    . '<VerDTD>1.2</VerDTD></SyncHdr><SyncBody><Replace><Item><Data>x]]&gt;y'
    . '</Data></Item></Replace></SyncBody></SyncML>');
like(wbxml2xml($cdata), qr/<Data><!\[CDATA\[x\]\]>y\]\]><\/Data>/,
     'wbxml2xml: Replace Data as CDATA, "]]>" not escaped');
ok(!eval { canonical(wbxml2xml($cdata)); 1 }, '... which is not well-formed XML');

# Code pages and languages.  libwbxml2's SyncML 1.1 table has page 0 only
# up to MoreData (0x34) and SourceParent: Correlator (0x3C, DM 1.2) decodes
# to <unknown> in a 1.1 document (the module sends none in DM 1.1).
# -l names the language whatever the public id says.
my $corr11 = "\x02\x9f\x53\x6a\x00\x6d\x6b\x46\x7c\x03x\x00\x01\x01\x01\x01";
like(wbxml2xml($corr11), qr{<Alert><unknown>x</unknown></Alert>},
     'SyncML 1.1 public id: Correlator unknown to libwbxml2');
like(wbxml2xml($corr11, '-l', 'SYNCML12'),
     qr{<SyncML xmlns="SYNCML:SYNCML1\.2"><SyncBody><Alert><Correlator>x},
     '-l SYNCML12: read as 1.2, root namespace included');
like(wbxml2xml($lib12), qr{<!DOCTYPE SyncML PUBLIC "-//SYNCML//DTD SyncML 1\.2//EN"},
     'wbxml2xml writes a DOCTYPE with the FPI');
like(wbxml2xml($lib12), qr{<MaxMsgSize xmlns="syncml:metinf">10000<},
     'code page 1 as elements in syncml:metinf');

# WBXML 1.0 has no charset in its header; libwbxml2 -v 1.0 writes one
# (0x6A) anyway, and its own decoder, which follows 1.0, misreads it.
my $lib10 = xml2wbxml($sample, '-v', '1.0', '-n');
is(hexs(substr($lib10, 0, 5)), '00a4016a00',
   'libwbxml2 -v 1.0: a charset byte WBXML 1.0 does not have');

# ---- the server -------------------------------------------------------------

my $t = OmadmTest->new->start;
my $url = $t->device_url;
my $ua = $t->https;

sub post_as {
    my ($type, $body, $to) = @_;
    return $ua->post($to // $url, { headers => { 'Content-Type' => $type },
                                    content => $body });
}

# The module follows WBXML 1.0 as libwbxml2's decoder does: its -v 1.0
# output is refused, the same bytes without the charset byte are read.
my $p1 = OmadmTest::Device->new(id => 'IMEI:10', user => 'x', pass => 'x',
                                url => $url)->package1(cred => undef);
my $res = post_as($WB, xml2wbxml($p1, '-v', '1.0', '-n'));
is($res->{status}, 400, 'libwbxml2 WBXML 1.0 (with a charset): 400');
(my $as10 = xml2wbxml($p1, '-v', '1.0', '-n')) =~ s/^(\x00\xa4\x01)\x6a/$1/;
is(post_as($WB, $as10)->{status}, 200, '... a real WBXML 1.0 header: 200');

# ---- (a) libwbxml2 reads the module's WBXML as the module does --------------
#
# Each WBXML answer is decoded by wbxml2xml and compared with the module's
# own reading of it: the device's message sent again, in XML, gets the
# kept answer decoded and re-encoded as XML by the module.

# A message that authenticated a new session before it had a RespURI is
# not answered from the kept answer when repeated (without the session's
# token it could be anyone's): there the harness decoder is the reference.
my (@checked, @differ);
sub check_answer {
    my ($d, $res, $what, %o) = @_;
    return unless $res->{status} == 200 && defined $res->{raw_content};
    my $l = $d->{last_request};
    push @checked, $what;
    my $lib = canonical(wbxml2xml($res->{raw_content}));
    my $mod = canonical($o{no_token} ? wbxml_to_xml($res->{raw_content})
                        : post_as($XML, $l->{xml}, $l->{url})->{content});
    return if join("\n", @$lib) eq join("\n", @$mod);
    push @differ, $what;
    is_deeply($lib, $mod, "$what: libwbxml2 reads what the module wrote");
}

# A device sending like captured handsets (string table, OPAQUE Data),
# a MaxMsgSize that splits the package, every verb and awkward data.
my $id = 'IMEI:490154203237600';
my $d = $t->device(id => $id, user => 'liba', pass => 'secret',
                   max_msg_size => 2000);
$d->{http} = OmadmTest::WBXML::http($d->{http}, strtbl => 1, opaque => 1);
my $text = qq{&<>"' &amp; \x{e9}\x{20ac} <x/> line\nbreak};
my @queued = (
    { verb => 'Get', target => './DevDetail/SwV' },
    { verb => 'Replace', target => './A/Text', format => 'chr',
      type => 'text/plain', data => $text },
    { verb => 'Replace', target => './A/Xml', format => 'xml',
      data => '<wap-provisioningdoc><characteristic type="x"/></wap-provisioningdoc>' },
    { verb => 'Replace', target => './A/Bin', format => 'b64', data => 'AAEC/w==' },
    { verb => 'Add', target => './A/Node', format => 'node' },
    { verb => 'Delete', target => './A/Old' },
    { verb => 'Exec', target => './A/Reboot', correlator => 'job-1', data => 'now' },
    map { { verb => 'Replace', target => "./Many/N$_", data => 'v' x 200 } } 1 .. 20,
);
$t->queue_command($id, $_) for @queued;
$res = $d->post($d->package1(cred => undef));
check_answer($d, $res, '407 challenge');
$res = $d->post($d->package1);
check_answer($d, $res, '212 and commands');
my $r = $res->{syncml};
for my $n (1 .. 20) {
    last if $r->{final} && !OmadmTest::Device::commands($r);
    my @c = OmadmTest::Device::commands($r);
    $res = $d->post(@c && !$r->{final} ? $d->ack($r, next => 1)
                    : $d->answer($r, tree => { './DevDetail/SwV' => "4.2 \xc3\xa9 <b>" }));
    check_answer($d, $res, "package message $n");
    $r = $res->{syncml};
}
ok($r->{final} && !OmadmTest::Device::commands($r), 'the session ended');

# a Generic Alert, then the first message of a device package: answered
# with Alert 1222 and no Final
$t->queue_command($id, { verb => 'Get', target => './Big/Log' });
$d->new_session;
$res = $d->post($d->package1(generic_alert => { correlator => 'c1',
    source => './Fw', type => 'org.openmobilealliance.dm.firmwareupdate.devicerequest',
    format => 'chr', mark => 'critical', data => 'x' }));
check_answer($d, $res, 'generic alert', no_token => 1);
$r = $res->{syncml};
my ($get) = OmadmTest::Device::commands($r);
$res = $d->post($d->ack({ %$r, cmds => [] }, final => 0, extra =>
    "<Results><CmdID>2</CmdID><MsgRef>$r->{hdr}{MsgID}</MsgRef><CmdRef>"
    . "$get->{CmdID}</CmdRef><Item><Source><LocURI>./Big/Log</LocURI></Source>"
    . "<Data>part one</Data></Item></Results>"));
check_answer($d, $res, 'Alert 1222 answer');

# DM 1.1 (public id 0x0FD3)
my $d11 = $t->device(id => 'IMEI:490154203237611', user => 'lib11',
                     pass => 'secret', version => '1.1');
$d11->{http} = OmadmTest::WBXML::http($d11->{http});
$t->queue_command('IMEI:490154203237611',
                  { verb => 'Exec', target => './A/Go', correlator => 'job-2' });
check_answer($d11, $d11->post($d11->package1(cred => undef)), 'DM 1.1 challenge');
check_answer($d11, $d11->post($d11->package1), 'DM 1.1 commands');

cmp_ok(scalar @checked, '>=', 10, scalar(@checked) . ' WBXML answers read back')
    or diag("@checked");
is_deeply(\@differ, [], 'libwbxml2 reads every one as the module does');

# ---- (b) the module reads what libwbxml2 encodes ------------------------------

# canonical() lines without what differs from one session to the next (the
# session token in RespURI, nonces) and with the given strings replaced
sub masked {
    my ($lines, %replace) = @_;
    my @l = @$lines;
    for (@l) {
        s/([?&]s=)[0-9a-f]+/$1*/g;
        s/(NextNonce\{syncml:metinf\} = ).*/$1*/;
        for my $from (keys %replace) { s/\Q$from\E/$replace{$from}/g }
    }
    return \@l;
}
#
# Twins: one device speaks XML, the others the same messages as WBXML from
# xml2wbxml (default: WBXML 1.3 with a string table; -n -v 1.2; -k of
# indented XML, whose whitespace between elements becomes text).  They run
# the same sessions against the same queued commands; every answer must be
# the same document once the device id, session token and nonces are
# masked, and the backend must hold what each one sent.

my @variants = (
    [ xml => undef ],
    [ lib => {} ],
    [ lib_n12 => { options => [ '-n', '-v', '1.2' ] } ],
    [ lib_k_indented => { options => [ '-k' ], indent => 1 } ],
);
my $swv = "  4.2 \xc3\xa9 <b> & \"x\"  ";
my (%answers, %ids);
for my $v (@variants) {
    my ($name, $codec) = @$v;
    my $tid = $ids{$name} = "IMEI:4901542032377-$name";
    my $td = $t->device(id => $tid, user => "twin-$name", pass => 'secret',
                        devinfo => { Man => "Line one\nLine two", Mod => 'X100',
                                     Lang => 'en-US' });
    $td->{http} = OmadmTest::Libwbxml::http($td->{http}, %$codec) if $codec;
    $t->queue_command($tid, $_) for @queued[0 .. 6],
        { verb => 'Get', target => './DevDetail/Ext/Missing' };
    my @a;
    my $post = sub {
        my ($xml) = @_;
        my $res = $td->post($xml);
        push @a, $res->{status} == 200 ? $res->{content} : "HTTP $res->{status}";
        return $res->{syncml};
    };
    $post->($td->package1(cred => undef));
    my $r = $post->($td->package1);
    $r = $post->($td->answer($r, tree => { './DevDetail/SwV' => $swv },
                             codes => { './A/Old' => 404 }));
    # second session: a generic alert, then a device package of two messages
    $t->queue_command($tid, { verb => 'Get', target => './Big/Log' });
    $td->new_session;
    $r = $post->($td->package1(generic_alert => { correlator => 'c9',
        source => './Fw', type => 'x-type', format => 'chr', data => 'alert' }));
    my ($g) = OmadmTest::Device::commands($r);
    my $m = $r->{hdr}{MsgID};
    my $results = sub {
        my ($n, $part) = @_;
        return "<Results><CmdID>$n</CmdID><MsgRef>$m</MsgRef>"
            . "<CmdRef>$g->{CmdID}</CmdRef><Item><Source><LocURI>./Big/Log"
            . "</LocURI></Source><Data>$part</Data></Item></Results>";
    };
    $r = $post->($td->ack({ %$r, cmds => [] }, final => 0,
                          extra => $results->(2, 'part-one')));
    $td->{msg_id}++;
    $post->($td->_wrap($td->header, $td->_hdr_status($r, 1)
        . "<Status><CmdID>2</CmdID><MsgRef>$m</MsgRef>"
        . "<CmdRef>$g->{CmdID}</CmdRef><Cmd>Get</Cmd><Data>200</Data></Status>"
        . $results->(3, 'part-two')));
    $answers{$name} = \@a;
}

sub masked_answer {
    my ($name, $xml) = @_;
    return $xml if $xml =~ /^HTTP /;
    return masked(canonical($xml), $ids{$name} => 'DEVICE');
}
my @x = map { masked_answer(xml => $_) } @{ $answers{xml} };
is(scalar @x, 6, 'xml twin: six answers');
is(scalar(grep { ref } @x), 6, '... all SyncML');
for my $v (@variants[1 .. $#variants]) {
    my $name = $v->[0];
    is_deeply([ map { masked_answer($name => $_) } @{ $answers{$name} } ], \@x,
              "$name: every answer the same document as the XML twin's");
}

# What reached the backend: the values libwbxml2 sent, byte for byte.
# Replace Item Data (package 1's DevInfo) arrives with CRLF from every
# libwbxml2 variant; a Results value loses its outer blanks unless -k.
sub chars { my ($s) = @_; utf8::decode($s); $s }
for my $v (@variants) {
    my $name = $v->[0];
    my $tid = $ids{$name};
    my $dev = $t->get_device($tid);
    is($dev->{devinfo}{'./DevInfo/Man'},
       $name eq 'xml' ? "Line one\nLine two" : "Line one\r\nLine two",
       "$name: DevInfo as sent" . ($name eq 'xml' ? '' : ' (libwbxml2: CRLF)'));
    my ($st, $list) = $t->api(GET => '/devices/' . OmadmTest::uri_escape($tid)
                                     . '/commands');
    my %by = map { $_->{target} => $_ } @$list;
    my $sent = $name =~ /^(xml|lib_k)/ ? $swv : do { (my $s = $swv) =~ s/^\s+|\s+$//g; $s };
    is($by{'./DevDetail/SwV'}{results}[0]{data}, chars($sent),
       "$name: Get result as sent" . ($sent eq $swv ? '' : ' (libwbxml2: blanks stripped)'));
    is_deeply([ map { "$_->{target} $_->{state}:$_->{status}" }
                sort { $a->{target} cmp $b->{target} } @$list ],
              [ map { "$_->{target} $_->{state}:$_->{status}" }
                sort { $a->{target} cmp $b->{target} } @{ ($t->api(GET => '/devices/'
                    . OmadmTest::uri_escape($ids{xml}) . '/commands'))[1] } ],
              "$name: every command ended as the XML twin's");
    is_deeply([ map { $_->{data} } @{ $by{'./Big/Log'}{results} } ],
              [ 'part-one', 'part-two' ], "$name: both Results of the device package");
}

# ---- (b) the XML fixtures of the fuzz corpus, through xml2wbxml --------------
#
# Each fixture is posted as it is (XML) and as libwbxml2's WBXML, each with
# its own SessionID so neither is taken for a repeat of the other; the
# answers must agree (status; for 200 the document, nonces masked).
my %todo = (
    'data_xml_cdata.xml' => 'WBXML Data with child elements refused (XML: kept as text)',
    'vector_small.xml' => 'XML with a DOCTYPE refused',
);
# WBXML has no namespaces for elements without a token: xml2wbxml turns
# the fixture's <x:Unknown xmlns:x="urn:x"> (a foreign element the module
# ignores) into a LITERAL on the SyncML page, i.e. an unknown SyncML
# command, which the module answers.  The XML to compare with is that.
my %as_libwbxml_reads = (
    'prefixed_ns.xml' => sub {
        $_[0] =~ s{<x:Unknown xmlns:x="urn:x"><a/></x:Unknown>}
                  {<s:Unknown><s:a/></s:Unknown>}r },
);
my $fixtures = "$OmadmTest::ROOT/fuzz/corpus/xml";
my $fixture_no = 0;
for my $file (sort glob "$fixtures/*.xml") {
    $fixture_no++;
    (my $name = $file) =~ s{.*/}{};
    my $xml = OmadmTest::_slurp($file);
    my $wbxml = eval { xml2wbxml($xml) };
    if (!defined $wbxml) {    # truncated.xml: libwbxml2 needs well-formed XML
        like($@, qr/Parsing of XML Document Failed/, "$name: not XML, xml2wbxml refuses it");
        next;
    }
    my %got;
    # its own device and session in each encoding: neither a repeat of the
    # other nor counted in the other's failed authentications
    my ($dev) = $xml =~ m{<(?:\w+:)?Source>\s*<(?:\w+:)?LocURI>([^<]+)<};
    $dev //= 'no device';
    for my $enc (qw(xml wbxml)) {
        my $x = $enc eq 'xml' && $as_libwbxml_reads{$name}
              ? $as_libwbxml_reads{$name}->($xml) : $xml;
        my $own = "$dev-$enc$fixture_no";
        $x =~ s{(<(?:\w+:)?SessionID>)}{$1$enc$fixture_no-}g;
        $x =~ s{\Q$dev\E}{$own}g;
        my $res = post_as($enc eq 'xml' ? $XML : $WB,
                          $enc eq 'xml' ? $x : xml2wbxml($x));
        $got{$enc} = $res->{status} != 200 ? "HTTP $res->{status}"
            : masked(canonical($enc eq 'xml' ? $res->{content}
                                             : wbxml2xml($res->{content})),
                     $own => 'DEVICE', "$enc$fixture_no-" => '');
    }
    local $TODO = $todo{$name};
    is_deeply($got{wbxml}, $got{xml}, "$name: libwbxml2's WBXML answered as the XML");
}

# ---- module gaps, found here (TODO until src/ changes) ------------------------
TODO: {
    local $TODO = 'the module refuses any DOCTYPE, even one without internal subset';
    # What wbxml2xml writes and the digest's vectors/small.xml has: an
    # external id only, nothing the parser would load.
    my $doctyped = qq{<?xml version="1.0"?>\n<!DOCTYPE SyncML PUBLIC }
        . qq{"-//SYNCML//DTD SyncML 1.2//EN" "http://www.openmobilealliance.org/}
        . qq{tech/DTD/OMA-TS-SyncML_RepPro_DTD-V1_2.dtd">\n} . $p1;
    $res = post_as($XML, $doctyped);
    is($res->{status}, 200, 'XML with the DOCTYPE libwbxml2 writes: 200')
        or diag("$res->{status} $res->{content}");
}
TODO: {
    local $TODO = 'the WBXML decoder refuses Data with child elements';
    # xml2wbxml encodes markup inside Data as elements (LITERAL tags for
    # names it has no token for); the XML decoder keeps such markup as text.
    my $inner = '<Alert><CmdID>9</CmdID><Data>1224</Data><Item><Data>'
        . '<MgmtTree><Node><NodeName>x</NodeName></Node></MgmtTree></Data></Item></Alert>';
    (my $with = $p1) =~ s{<Replace>}{$inner<Replace>};
    $with =~ s{<SessionID>}{<SessionID>n};
    $res = post_as($WB, xml2wbxml($with));
    is($res->{status}, 200, 'WBXML Data holding elements: 200')
        or diag("$res->{status} $res->{content}");
}

$t->check_error_log;
done_testing;
