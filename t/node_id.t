#!/usr/bin/perl
# omadm_node_id with two nginx nodes on one backend: node A's RespURI
# carries its name after the session token (?s=<token>&n=dm-a, read with
# an XML parser), $omadm_node_id is the node's name, a lost answer is
# resent as it was, and a follow-up that reaches node B (A died, or a
# front proxy sent it there), whose zone does not know the token, starts
# over cleanly: a 407 challenge, then one login and a new session on B.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use XML::LibXML;
use OmadmTest;
use OmadmTest::Device;

my $node_header = "        add_header X-Omadm-Node \$omadm_node_id always;\n";
my $a = OmadmTest->new(http_conf => "    omadm_node_id dm-a;\n",
                       server_conf => $node_header)->start;

# node B: its own nginx and zone, node A's backend and certificate
my $b = OmadmTest->new(http_conf => "    omadm_node_id dm-b;\n",
                       server_conf => $node_header,
                       ssl_certificate => $a->dir . '/server.crt',
                       ssl_certificate_key => $a->dir . '/server.key');
$b->{api_port} = $a->api_port;
$b->{key} = $a->{key};
$b->start_nginx;

# the RespURI of an answer, as an XML parser reads it
sub resp_uri {
    my ($res) = @_;
    my $doc = XML::LibXML->load_xml(string => $res->{content});
    my $xpc = XML::LibXML::XPathContext->new($doc);
    $xpc->registerNs(s => 'SYNCML:SYNCML1.2');
    return $xpc->findvalue('/s:SyncML/s:SyncHdr/s:RespURI');
}

my $id = 'IMEI:490154203237520';
my $d = $a->device(id => $id, user => 'dev-n', pass => 'secret-n', session => '7');
my $get = $a->queue_command($id, { verb => 'Get', target => './DevDetail/SwV' });
my $a_url = $a->device_url;
my $b_url = $b->device_url;

my $res = $d->post($d->package1(cred => undef));
is(OmadmTest::Device::hdr_status($res->{syncml})->{Data}, '407', 'A: 407 without Cred');
is(resp_uri($res), $a_url, 'A: a RespURI without a session names no node');
is($res->{headers}{'x-omadm-node'}, 'dm-a', 'A: $omadm_node_id is dm-a');

$res = $d->post($d->package1(cred => 'md5'));
is(OmadmTest::Device::hdr_status($res->{syncml})->{Data}, '212', 'A: 212 with the MD5 Cred');
my $uri = resp_uri($res);
like($uri, qr{^\Q$a_url\E\?s=[0-9a-f]{32}&n=dm-a$}, "A: RespURI $uri: token, then the node");
like($res->{content}, qr{\?s=[0-9a-f]{32}&amp;n=dm-a</RespURI>}, 'A: its & escaped in the XML');
my ($token) = $uri =~ /\?s=(\w+)/;
my @cmds = OmadmTest::Device::commands($res->{syncml});
is(scalar @cmds, 1, 'A: the queued Get goes out');

# the answer lost: the same bytes again get the same answer, node and all
my $again = $d->resend;
is($again->{status}, 200, 'A: a resend: 200');
is($again->{content}, $res->{content}, 'A: the kept answer, byte for byte');

# node A is gone: the device's follow-up reaches node B with A's RespURI
my $follow = $d->answer($res->{syncml}, tree => { './DevDetail/SwV' => '4.2.1' });
(my $to_b = $uri) =~ s{^\Q$a_url\E}{$b_url};
$res = $d->post($follow, url => $to_b);
is($res->{status}, 200, 'B: the follow-up with an unknown token: HTTP 200, no 5xx');
my $hs = OmadmTest::Device::hdr_status($res->{syncml});
is($hs->{Data}, '407', 'B: SyncHdr Status 407, credentials asked again');
ok($hs->{chal} && $hs->{chal}{NextNonce}, 'B: with a Chal and a nonce');
is(resp_uri($res), $b_url, 'B: no session yet, so no token and no node');
is($res->{headers}{'x-omadm-node'}, 'dm-b', 'B: $omadm_node_id is dm-b');

# one login on B starts a new session there
$res = $d->post($d->package1(cred => 'md5'));
is(OmadmTest::Device::hdr_status($res->{syncml})->{Data}, '212', 'B: 212: logged in again');
my $b_uri = resp_uri($res);
like($b_uri, qr{^\Q$b_url\E\?s=[0-9a-f]{32}&n=dm-b$}, "B: RespURI $b_uri names node B");
my ($b_token) = $b_uri =~ /\?s=(\w+)/;
isnt($b_token, $token, 'B: a new token');
is_deeply([ map { "$_->{name} $_->{items}[0]{target}" } OmadmTest::Device::commands($res->{syncml}) ],
          [ 'Get ./DevDetail/SwV' ], 'B: the Get A sent, whose answer was lost, goes out again');
$res = $d->post($d->answer($res->{syncml}, tree => { './DevDetail/SwV' => '4.2.1' }));
is($res->{status}, 200, 'B: the session goes on on B');
is(OmadmTest::Device::hdr_status($res->{syncml})->{Data}, '200', 'B: SyncHdr 200');
my $c = $a->get_command($id, $get);
is($c->{state}, 'done', 'the Get is done, answered once through B');
is(scalar @{ $c->{results} || [] }, 1, 'with one result');

$a->check_error_log;
$b->check_error_log;

done_testing;
