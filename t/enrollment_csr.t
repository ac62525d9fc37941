#!/usr/bin/perl
# Certificate requests as Windows makes them are accepted: SHA-1 signed
# (under the old OID 1.3.14.3.2.29 too), a subject with '!' and a trailing
# NUL, the DeviceID extension; the certificate is signed with SHA-256 and
# named after the DeviceID.  A request whose signature does not verify and
# a 1024-bit key are refused with s:CertificateRequest and create no
# device.  EnrollmentType Device puts the certificate in My/System.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use OmadmTest;
use OmadmTest::Enrollment;

my $t = OmadmTest::Enrollment::server();
my $e = OmadmTest::Enrollment->new($t);
my ($USER, $PASSWORD) = ('bob@example.com', 'bob-secret');
$t->api(POST => '/enrollment-users', { username => $USER, password => $PASSWORD });

my $key = $e->rsa_key(2048);

# enroll($device_id, %csr) -> the answer
sub enroll {
    my ($id, %o) = @_;
    my $type = delete $o{type};
    my $csr = $e->csr(key => $key, device_id => $id,
                      subject => "0A1B2C3D-0000-4000-8000-00000000000A!$id\0", %o);
    return $e->enroll(user => $USER, password => $PASSWORD, csr => $csr,
                      context => { DeviceID => $id,
                                   ($type ? (EnrollmentType => $type) : ()) });
}

sub client_cert {
    my ($r, $store) = @_;
    my $p = $e->provisioning($r);
    my @c = OmadmTest::Enrollment::store_certs($p, 'My', $store);
    return @c ? $e->write_cert("cert-$c[0][0]", $c[0][1]) : undef;
}

my %shapes = (
    sha1_oiw => 'SHA-1 under 1.3.14.3.2.29 (Windows without a hash policy)',
    sha1     => 'sha1WithRSAEncryption',
    sha256   => 'sha256WithRSAEncryption',
);
my $n = 0;
for my $sig (qw(sha1_oiw sha1 sha256)) {
    my $id = sprintf '%032X', ++$n;
    my $r = enroll($id, sig => $sig);
    is($r->{res}{status}, 200, "$shapes{$sig}, subject with '!' and NUL, DeviceID extension: enrolled")
        or diag(OmadmTest::Enrollment::fault_of($r));
    my $crt = client_cert($r, 'User');
    my $text = $crt ? `openssl x509 -in $crt -noout -text` : '';
    like($text, qr/Signature Algorithm: sha256WithRSAEncryption/, '... the certificate is signed with SHA-256');
    like($text, qr/Subject: CN\s*=\s*$id\n/, '... for CN=DeviceID');
    like($text, qr/TLS Web Client Authentication/, '... for TLS client authentication');
}

my $bad_id = 'BADSIG0000000000000000000000000A';
my $r = enroll($bad_id, tamper => 1);
is($r->{res}{status}, 400, 'a request whose signature does not verify: 400');
like(OmadmTest::Enrollment::fault_of($r), qr/^s:Sender s:CertificateRequest: .*signature does not verify/,
     '... s:CertificateRequest, saying so');
my ($st) = $t->api(GET => '/devices/' . $bad_id);
is($st, 404, '... and no device was created');

my $weak = $e->rsa_key(1024);
my $csr = $e->csr(key => $weak, device_id => 'WEAK');
$r = $e->enroll(user => $USER, password => $PASSWORD, csr => $csr,
                context => { DeviceID => 'WEAK0000000000000000000000000000' });
like(OmadmTest::Enrollment::fault_of($r), qr/^s:Sender s:CertificateRequest: .*RSA 1024 bits.*at least 2048/,
     'a 1024-bit key: s:CertificateRequest, asking for 2048 bits');
($st) = $t->api(GET => '/devices/WEAK0000000000000000000000000000');
is($st, 404, '... and no device was created');

my $dev_id = 'DEVICE00000000000000000000000001';
$r = enroll($dev_id, type => 'Device');
is($r->{res}{status}, 200, 'EnrollmentType Device: enrolled');
my $p = $e->provisioning($r);
is(scalar(OmadmTest::Enrollment::store_certs($p, 'My', 'System')), 1,
   '... the certificate goes to My/System');
is(scalar(OmadmTest::Enrollment::store_certs($p, 'My', 'User')), 0, '... not to My/User');
like(OmadmTest::Enrollment::parm($p, 'APPLICATION', 'SSLCLIENTCERTSEARCHCRITERIA'),
     qr/Stores=My%5CSystem$/, '... and the device presents it from there');
is($t->get_device($dev_id)->{enrollment}{enrollment_type}, 'Device', '... enrollment_type Device');

$r = enroll('TYPE0000000000000000000000000000', type => 'Mixed');
like(OmadmTest::Enrollment::fault_of($r), qr/s:MessageFormat: EnrollmentType must be Full or Device/,
     'an unknown EnrollmentType: s:MessageFormat');

$t->check_error_log;
done_testing;
