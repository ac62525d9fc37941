#!/usr/bin/perl
# OMA DM in WBXML (application/vnd.syncml.dm+wbxml) against real nginx and
# omadm-backend, with the tests' own WBXML codec (OmadmTest::WBXML, written
# from the protocol digest, independent of the module's): a full MD5
# session from a captured-style package 1 (string table, OPAQUE Data),
# answers in WBXML, a repeated MsgID answered byte for byte, DM 1.1, the
# content types, and truncated or hostile WBXML refused with a reason.
# Every WBXML answer is decoded once more at the end by libwbxml2, a codec
# written by neither (OmadmTest::Libwbxml; t/wbxml_libwbxml2.t has the rest
# of the interoperability checks).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use OmadmTest;
use OmadmTest::Device;
use OmadmTest::WBXML qw(xml_to_wbxml wbxml_to_xml mb_u_int32 $SAMPLE_XML);
use OmadmTest::Libwbxml;

my $WB = 'application/vnd.syncml.dm+wbxml';

# the harness codec reproduces the protocol digest's verified sample
my $sample_xml = $SAMPLE_XML;
is(unpack('H*', substr(xml_to_wbxml($sample_xml), 0, 16)),
   '02a4016a006d6c7103312e3200017203', 'harness: encodes §7\'s sample');

my $t = OmadmTest->new->start;

my @answers;    # every WBXML answer the module sent, for libwbxml2 below

# a device that talks WBXML through the harness codec
sub wbxml_device {
    my ($id, %o) = @_;
    my %codec = map { $_ => delete $o{$_} } grep { exists $o{$_} }
                qw(strtbl opaque wbxml_type);
    my $d = $t->device(id => $id, user => 'dev1', pass => 'secret', %o);
    $d->{http} = OmadmTest::WBXML::http($d->{http}, %codec,
                                        received => \@answers);
    return $d;
}

my $id = 'IMEI:490154203237518';
my $d = wbxml_device($id, session => '42', strtbl => 1, opaque => 1,
                     devinfo => { Man => "Exampl\xc3\xa9 & Co <x>",
                                  Mod => 'X100', Lang => 'en-US' });

my $get_swv = $t->queue_command($id, { verb => 'Get', target => './DevDetail/SwV' });
my $get_unknown = $t->queue_command($id,
    { verb => 'Get', target => './DevDetail/Ext/Unknown' });
my $replace = $t->queue_command($id, { verb => 'Replace',
    target => './Device/Vendor/MSFT/Policy/Config/X/Y', data => "6 \x{e9}<&>",
    format => 'chr', type => 'text/plain' });

# package 1 without Cred (string table, OPAQUE Data) -> 407 in WBXML
my $res = $d->post($d->package1(cred => undef));
is($res->{status}, 200, 'WBXML package 1 without Cred: HTTP 200');
like($res->{headers}{'content-type'}, qr{^application/vnd\.syncml\.dm\+wbxml$},
     'response Content-Type is WBXML');
is(unpack('H*', substr($res->{raw_content}, 0, 5)), '02a4016a00',
   'WBXML 1.2, SyncML 1.2 public id, UTF-8, empty string table');
is($res->{headers}{'cache-control'}, 'no-store', 'Cache-Control: no-store');
my $r = $res->{syncml};
my $hs = OmadmTest::Device::hdr_status($r);
is($hs->{Data}, '407', 'SyncHdr Status 407');
is($hs->{chal}{Type}, 'syncml:auth-md5', 'Chal md5 (metinf code page)');
ok($hs->{chal}{NextNonce}, 'with a NextNonce');
is($r->{hdr}{SessionID}, '42', 'SessionID echoed');
is($r->{hdr}{Target}, $id, 'server Target is the device');
is_deeply([ map { "$_->{Cmd}:$_->{Data}" } OmadmTest::Device::statuses($r) ],
          [ 'SyncHdr:407', 'Alert:407', 'Replace:407' ],
          'every command answered 407');

# the same message again (the answer was lost): the same bytes
my $first = $res->{raw_content};
$res = $d->resend;
is($res->{status}, 200, 'repeated MsgID: 200');
ok($res->{raw_content} eq $first, 'repeated MsgID answered byte for byte');

# with Cred -> 212 and the queued commands, in WBXML
$res = $d->post($d->package1(cred => 'md5'));
$r = $res->{syncml};
$hs = OmadmTest::Device::hdr_status($r);
is($hs->{Data}, '212', 'WBXML Cred accepted: 212');
my @cmds = OmadmTest::Device::commands($r);
is_deeply([ map { "$_->{name} $_->{items}[0]{target}" } @cmds ],
          [ 'Get ./DevDetail/SwV', 'Get ./DevDetail/Ext/Unknown',
            'Replace ./Device/Vendor/MSFT/Policy/Config/X/Y' ],
          'queued commands in order');
is($cmds[2]{items}[0]{data}, "6 \xc3\xa9<&>", 'Replace data intact in WBXML');
is($cmds[2]{items}[0]{format}, 'chr', 'Replace Meta/Format (code page 1)');
my $second = $res->{raw_content};
$res = $d->resend;
ok($res->{raw_content} eq $second,
   'authenticated repeated MsgID answered byte for byte');

# Statuses and Results (OPAQUE Data) -> closing message
my $swv = "4.2.1 \xc3\xa9 <beta> & \"x\"";
$res = $d->post($d->answer($r, tree => { './DevDetail/SwV' => $swv }));
is($res->{status}, 200, 'package 3: 200');
$r = $res->{syncml};
is_deeply([ map { "$_->{name}:" . ($_->{Cmd} // '') . ':' . ($_->{Data} // '') }
            @{ $r->{cmds} } ], [ 'Status:SyncHdr:200' ],
          'closing message: only the SyncHdr Status');
ok($r->{final}, 'Final');

# the operator API sees exactly what the device sent
my $c = $t->get_command($id, $get_swv);
is($c->{state}, 'done', 'Get SwV done');
is_deeply([ map { [ @$_{qw(source format type data)} ] } @{ $c->{results} } ],
          [ [ './DevDetail/SwV', 'chr', 'text/plain',
              do { my $s = $swv; utf8::decode($s); $s } ] ],
          'Result reached the operator API exactly');
$c = $t->get_command($id, $get_unknown);
is("$c->{state}:$c->{status}", 'failed:404', 'Get of a missing node: 404');
$c = $t->get_command($id, $replace);
is("$c->{state}:$c->{status}", 'done:200', 'Replace done');
my $dev = $t->get_device($id);
is($dev->{devinfo}{'./DevInfo/Man'}, do { my $s = "Exampl\xc3\xa9 & Co <x>";
                                          utf8::decode($s); $s },
   'DevInfo from OPAQUE Data recorded exactly');

# DM 1.1 in WBXML (public id 0x0FD3), the +wbxml alias with parameters
my $d11 = wbxml_device('IMEI:11', version => '1.1',
                       wbxml_type => 'Application/VND.SyncML+WBXML; charset=utf-8');
$res = $d11->post($d11->package1(cred => undef));
is($res->{status}, 200, 'alias type with parameters accepted');
like($res->{headers}{'content-type'}, qr{^application/vnd\.syncml\.dm\+wbxml$},
     'answered in WBXML');
is(unpack('H*', substr($res->{raw_content}, 0, 3)), '029f53',
   'DM 1.1 answered with the SyncML 1.1 public id');
is($res->{syncml}{hdr}{VerDTD}, '1.1', 'VerDTD 1.1');
$res = $d11->post($d11->package1(cred => 'md5'));
is(OmadmTest::Device::hdr_status($res->{syncml})->{Data}, '212',
   'DM 1.1 WBXML session authenticated');

# broken and hostile WBXML: 400 (413 past a limit) with a reason
my $ua = $t->https;
my $url = $t->device_url;
sub post_wb {
    my ($body, $type) = @_;
    my $res = $ua->post($url, { headers => { 'Content-Type' => $type // $WB },
                                content => $body });
    push @answers, $res->{content} if $res->{status} == 200
        && ($res->{headers}{'content-type'} // '') =~ /wbxml/;
    return $res;
}
my $good = xml_to_wbxml(OmadmTest::Device->new(id => 'IMEI:h', user => 'h',
    pass => 'h', url => $url)->package1(cred => undef));
my $bad = 0;
for my $len (grep { $_ % 7 == 0 || $_ < 12 } 0 .. length($good) - 1) {
    my $res = post_wb(substr($good, 0, $len));
    $bad++ unless $res->{status} == 400
                  && ($res->{headers}{'content-type'} // '') =~ m{^text/plain}
                  && length $res->{content};
}
is($bad, 0, 'truncated WBXML at many offsets: 400 text/plain with a reason');
$res = post_wb(substr($good, 0, 60));
like($res->{content}, qr/truncated/, 'the reason says truncated');

my %hostile = (
    'mb_u_int32 overflow' => "\x02\x8f\xff\xff\xff\xff\x7f\x6a\x00\x6d\x01",
    'string table reference' => "\x02\x00\x09\x6a\x02a\x00\x6d\x01",
    'charset 4 not supported' => "\x02\xa4\x01\x04\x00\x6d\x01",
    'truncated' => "\x02\xa4\x01\x6a\x8f\xff\xff\xff\x7f",
    'attributes not supported' => "\x02\xa4\x01\x6a\x00\xed\x01",
    'unbalanced WBXML END' => "\x02\xa4\x01\x6a\x00\x6d\x01\x01",
    'unsupported WBXML version' => $sample_xml,
);
for my $why (sort keys %hostile) {
    $res = post_wb($hostile{$why});
    is($res->{status}, 400, "hostile WBXML ($why): 400");
    like($res->{content}, qr/\Q$why\E/, "... with the reason");
}
my $deep = "\x02\xa4\x01\x6a\x00\x6d\x6b" . ("\x54" x 100);
$res = post_wb($deep);
is($res->{status}, 413, 'WBXML nested past omadm_xml_limits depth: 413');
my $amp = "\x02\xa4\x01\x6a" . mb_u_int32(20001) . ('a' x 20000) . "\x00"
    . "\x6d\x6b" . ("\x00\x02\x45\x83\x00\x01" x 1000);
$res = post_wb($amp);
is($res->{status}, 413, 'string-table amplification: 413');
like($res->{content}, qr/decoded WBXML text larger/, '... with the reason');

is(post_wb($good, 'application/vnd.syncml.dm+wbxml-x')->{status}, 415,
   'unknown +wbxml-x type: 415');
is(post_wb($good)->{status}, 200, 'the server still serves WBXML after all that');

# libwbxml2 (wbxml2xml) reads every WBXML answer above as the same document
# as the harness decoder: same elements, namespaces (code page 1 as
# syncml:metinf) and text.  It writes a DOCTYPE and puts Add/Replace Item
# Data in CDATA; canonical() reads both the way any XML reader does.
SKIP: {
    my $why = OmadmTest::Libwbxml::missing();
    skip $why, 2 if $why;
    my @differ;
    for my $i (0 .. $#answers) {
        my $lib = OmadmTest::Libwbxml::canonical(
            OmadmTest::Libwbxml::wbxml2xml($answers[$i]));
        my $ours = OmadmTest::Libwbxml::canonical(wbxml_to_xml($answers[$i]));
        next if join("\n", @$lib) eq join("\n", @$ours);
        push @differ, "answer $i";
        is_deeply($lib, $ours, "answer $i: libwbxml2 and the harness agree");
    }
    cmp_ok(scalar @answers, '>=', 8, 'libwbxml2: every WBXML answer collected');
    is_deeply(\@differ, [], 'libwbxml2 decodes every one as the harness does');
}

$t->check_error_log;
done_testing;
