#!/usr/bin/perl
# The complete MD5 session of omadm-protocol.md §8 against real nginx and
# omadm-backend: 407 challenge, 212 with commands, the device's Statuses
# and Results recorded by the backend, nonce rotation across sessions and
# a replayed old nonce refused.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use OmadmTest;
use OmadmTest::Device;

# the harness computes MD5 Creds as the protocol digest's vector B says
is(OmadmTest::Device::md5_cred('dev1', 'secret', '00qRAH8Q7kJbLIgZwP8zpw=='),
   'TQMT1Y62qXyh7tF3TZ5l7Q==', 'harness: md5 Cred over decoded nonce bytes');

my $t = OmadmTest->new->start;
my $id = 'IMEI:490154203237518';
my $d = $t->device(id => $id, user => 'dev1', pass => 'secret',
                   session => '42');

my $get_swv = $t->queue_command($id, { verb => 'Get', target => './DevDetail/SwV' });
my $get_unknown = $t->queue_command($id,
    { verb => 'Get', target => './DevDetail/Ext/Unknown' });
my $replace = $t->queue_command($id, { verb => 'Replace',
    target => './Device/Vendor/MSFT/Policy/Config/X/Y', data => '6',
    format => 'int', type => 'text/plain' });

# ① package 1 without Cred -> ② 407 + MD5 challenge, Statuses only
my $res = $d->post($d->package1(cred => undef));
is($res->{status}, 200, 'package 1 without Cred: HTTP 200');
my $r = $res->{syncml};
my $hs = OmadmTest::Device::hdr_status($r);
is($hs->{Data}, '407', 'SyncHdr Status 407 (credentials missing)');
is($r->{hdr}{MsgID}, '1', 'server MsgID 1');
is($r->{hdr}{SessionID}, '42', 'SessionID echoed');
is($r->{hdr}{Target}, $id, 'server Target is the device');
is($hs->{chal}{Type}, 'syncml:auth-md5', 'Chal type md5');
is($hs->{chal}{Format}, 'b64', 'Chal format b64');
my $nonce1 = $hs->{chal}{NextNonce};
ok($nonce1 && length(MIME::Base64::decode_base64($nonce1)) >= 16,
   'NextNonce is >= 16 bytes of base64');
# the session, and its token, start only with the message that authenticates
like($r->{hdr}{RespURI} // '', qr{^https://127\.0\.0\.1:\d+/omadm$},
     'RespURI of a 407 carries no session token');
is_deeply([ map { "$_->{Cmd}:$_->{Data}" } OmadmTest::Device::statuses($r) ],
          [ 'SyncHdr:407', 'Alert:407', 'Replace:407' ],
          'every command answered 407, SyncHdr first');
is(scalar(OmadmTest::Device::commands($r)), 0, 'no management commands');
ok($r->{final}, 'Final');

# ③ package 1 again with Cred, to the RespURI -> ④ 212 + next nonce + commands
my $resp_uri = $d->url;
$res = $d->post($d->package1(cred => 'md5'));
is($res->{status}, 200, 'package 1 with Cred: HTTP 200');
$r = $res->{syncml};
$hs = OmadmTest::Device::hdr_status($r);
is($hs->{Data}, '212', 'SyncHdr Status 212 (authenticated)');
is($hs->{MsgRef}, '2', 'Status refers to device MsgID 2');
is($r->{hdr}{MsgID}, '2', 'server MsgID 2');
my $nonce2 = $hs->{chal} && $hs->{chal}{NextNonce};
ok($nonce2, '212 carries a NextNonce for the next session');
isnt($nonce2, $nonce1, 'the next nonce differs from the challenge nonce');
my @st = OmadmTest::Device::statuses($r);
is_deeply([ map { "$_->{Cmd}:$_->{CmdRef}:$_->{Data}" } @st ],
          [ 'SyncHdr:0:212', 'Alert:2:200', 'Replace:3:200' ],
          'Statuses for SyncHdr, Alert and DevInfo Replace');
my @cmds = OmadmTest::Device::commands($r);
is_deeply([ map { "$_->{name} $_->{items}[0]{target}" } @cmds ],
          [ 'Get ./DevDetail/SwV', 'Get ./DevDetail/Ext/Unknown',
            'Replace ./Device/Vendor/MSFT/Policy/Config/X/Y' ],
          'queued commands in order');
my $max_status = (sort { $b <=> $a } map { $_->{CmdID} } @st)[0];
my @ids = map { $_->{CmdID} } @cmds;
ok(!grep({ $_ !~ /^\d+$/ || $_ <= $max_status } @ids),
   "command CmdIDs (@ids) follow the Status CmdIDs");
is($cmds[2]{items}[0]{data}, '6', 'Replace carries the data');
is($cmds[2]{items}[0]{format}, 'int', 'Replace carries Meta/Format');
is($r->{order}[-1], 'Final', 'Final closes the message');

# ⑤ Statuses + Results -> ⑥ only the SyncHdr Status and Final
$res = $d->post($d->answer($r, tree => { './DevDetail/SwV' => '4.2.1' }));
is($res->{status}, 200, 'package 3: HTTP 200');
$r = $res->{syncml};
is_deeply([ map { "$_->{name}:" . ($_->{Cmd} // '') . ':' . ($_->{Data} // '') }
            @{ $r->{cmds} } ], [ 'Status:SyncHdr:200' ],
          'closing message has only the SyncHdr Status');
ok($r->{final}, 'closing message has Final');
is($r->{hdr}{MsgID}, '3', 'server MsgID 3');

# the operator sees the device's exact answers
my $c = $t->get_command($id, $get_swv);
is($c->{state}, 'done', 'Get SwV done');
is($c->{status}, 200, 'Get SwV status 200');
is_deeply([ map { [ @$_{qw(source format type data)} ] } @{ $c->{results} } ],
          [ [ './DevDetail/SwV', 'chr', 'text/plain', '4.2.1' ] ],
          'Get SwV result recorded once, as sent');
$c = $t->get_command($id, $get_unknown);
is($c->{state}, 'failed', 'Get of a missing node failed');
is($c->{status}, 404, 'with the device status 404');
$c = $t->get_command($id, $replace);
is($c->{state}, 'done', 'Replace done');
is($c->{status}, 200, 'Replace status 200');
my $dev = $t->get_device($id);
is($dev->{devinfo}{'./DevInfo/Man'}, 'Example Corp', 'devinfo recorded');
is($dev->{devinfo}{'./DevInfo/DevId'}, $id, 'devinfo DevId recorded');
ok($dev->{last_seen}, 'last_seen set');

# next session authenticates at once with the nonce received with the 212
$d->new_session('43');
$res = $d->post($d->package1(cred => 'md5', nonce => $nonce2));
$hs = OmadmTest::Device::hdr_status($res->{syncml});
is($hs->{Data}, '212', 'next session: Cred with the received NextNonce -> 212');
my $nonce3 = $hs->{chal} && $hs->{chal}{NextNonce};
ok($nonce3 && $nonce3 ne $nonce2, 'and a new nonce for the session after');

# a third session replaying the old (used) nonce is refused
$d->new_session('44');
$res = $d->post($d->package1(cred => 'md5', nonce => $nonce2));
$r = $res->{syncml};
$hs = OmadmTest::Device::hdr_status($r);
is($hs->{Data}, '401', 'replayed nonce -> 401');
my $nonce4 = $hs->{chal} && $hs->{chal}{NextNonce};
is($nonce4, $nonce3, '401 carries the unused nonce the device holds');
is(scalar(OmadmTest::Device::commands($r)), 0, 'no commands after 401');

$t->check_error_log;
done_testing;
