#!/usr/bin/perl
# The provisioning document's APPAUTH CLIENT block is what the server
# proves itself with (omadm_server_auth md5): an enrolled Windows PC's
# first session gets a server Cred in the SyncHdr whose digest verifies
# with the CLIENT name and secret and the CLIENT AAUTHDATA nonce, as the
# PC checks it.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Digest::MD5 qw(md5);
use MIME::Base64 qw(decode_base64);
use OmadmTest;
use OmadmTest::Device;
use OmadmTest::Enrollment;
use OmadmTest::SyncML;
use OmadmTest::WindowsDevice;

my $t = OmadmTest::Enrollment::server(
    locations => { '/omadm' => { omadm_server_auth => 'md5' } });
my $e = OmadmTest::Enrollment->new($t);
my $DEVICE = 'FEEDFACE0000000000000000CAFEBABE';
$t->api(POST => '/enrollment-users', { username => 'heidi@example.com', password => 'h-password' });

my $key = $e->rsa_key(2048);
my $r = $e->enroll(user => 'heidi@example.com', password => 'h-password',
                   csr => $e->csr(key => $key, device_id => $DEVICE),
                   context => { DeviceID => $DEVICE });
is($r->{res}{status}, 200, 'enrolled');
my $p = $e->provisioning($r);
my $appsrv = OmadmTest::Enrollment::appauth($p, 'APPSRV');
my $client = OmadmTest::Enrollment::appauth($p, 'CLIENT');
my ($cert) = OmadmTest::Enrollment::store_certs($p, 'My', 'User');

my $w = OmadmTest::WindowsDevice->new(
    addr => OmadmTest::Enrollment::parm($p, 'APPLICATION', 'ADDR'), ca => $t->ca_file,
    id => $DEVICE, user => $appsrv->{AAUTHNAME}, pass => $appsrv->{AAUTHSECRET},
    nonce => $appsrv->{AAUTHDATA}, cert => $e->write_cert('client', $cert->[1]), key => $key);
my $res = $w->post($w->package1);
is(OmadmTest::Device::hdr_status($res->{syncml})->{Data}, '212', 'the first session logs in');

my $hdr = OmadmTest::SyncML::kid(OmadmTest::SyncML::parse_xml($res->{content}), 'SyncHdr');
is(OmadmTest::SyncML::text($hdr, 'Cred/Meta/Type'), 'syncml:auth-md5', 'the server sends an MD5 Cred');
is(OmadmTest::SyncML::text($hdr, 'Source/LocName'), $client->{AAUTHNAME},
   '... under the CLIENT AAUTHNAME');
my $inner = OmadmTest::Device::b64(md5("$client->{AAUTHNAME}:$client->{AAUTHSECRET}"));
is(OmadmTest::SyncML::text($hdr, 'Cred/Data'),
   OmadmTest::Device::b64(md5($inner . ':' . decode_base64($client->{AAUTHDATA}))),
   '... whose digest verifies with the CLIENT secret and AAUTHDATA nonce');

$t->check_error_log;
done_testing;
