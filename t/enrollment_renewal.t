#!/usr/bin/perl
# Renewal (MS-MDE2 3.5): a device presenting its current enrollment
# certificate in TLS renews it with a PKCS#7 signed by that certificate
# (or a bare PKCS#10), keeps its OMA DM account, and the old certificate
# stops renewing; without the certificate, with a stale one, with a token
# another key signed, or with the certificate forged into the header
# nginx sets, renewal is refused.  Re-enrollment of a DeviceID replaces
# its OMA DM account (the old credentials stop working), also after an
# unenrollment.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use HTTP::Tiny;
use OmadmTest;
use OmadmTest::Device;
use OmadmTest::Enrollment;
use OmadmTest::WindowsDevice;

my $t = OmadmTest::Enrollment::server();
my $e = OmadmTest::Enrollment->new($t);
my ($USER, $PASSWORD) = ('erin@example.com', 'erins-password');
$t->api(POST => '/enrollment-users', { username => $USER, password => $PASSWORD });
my $DEVICE = '0123456789ABCDEF0123456789ABCDEF';
my $fault = \&OmadmTest::Enrollment::fault_of;

# Enrolls $DEVICE with a new key: (key file, client cert file, APPSRV parms)
sub enroll {
    my $key = $e->rsa_key(2048);
    my $r = $e->enroll(user => $USER, password => $PASSWORD,
                       csr => $e->csr(key => $key, device_id => $DEVICE),
                       context => { DeviceID => $DEVICE });
    die 'enrollment failed: ' . $fault->($r) . "\n" unless $r->{res}{status} == 200;
    my $p = $e->provisioning($r);
    my ($c) = OmadmTest::Enrollment::store_certs($p, 'My', 'User');
    (my $name = "$key") =~ s{.*/|\.pem$}{}g;
    return ($key, $e->write_cert("$name-cert", $c->[1]),
            OmadmTest::Enrollment::appauth($p, 'APPSRV'),
            OmadmTest::Enrollment::parm($p, 'APPLICATION', 'ADDR'));
}

# A Windows session's first message with an account: (SyncHdr code, the
# device, which keeps the nonce it was given).
sub session {
    my ($appsrv, $addr, $cert, $key, $sid) = @_;
    my $w = OmadmTest::WindowsDevice->new(addr => $addr, ca => $t->ca_file,
        id => $DEVICE, user => $appsrv->{AAUTHNAME}, pass => $appsrv->{AAUTHSECRET},
        nonce => $appsrv->{AAUTHDATA}, cert => $cert, key => $key, session => $sid);
    my $res = $w->post($w->package1);
    my $hs = $res->{syncml} && OmadmTest::Device::hdr_status($res->{syncml});
    return ($hs ? $hs->{Data} : "HTTP $res->{status}", $w);
}
sub login { return (session(@_))[0] }

my $tokens = 0;

# The renewal token: a PKCS#7 SignedData over a new CSR, signed with the
# current certificate.
sub renewal_token {
    my ($csr, $cert, $key) = @_;
    my $in = $e->file('renew-' . ++$tokens . '.csr');
    OmadmTest::_write($in, $csr);
    $e->openssl('cms', '-sign', '-binary', '-nodetach', '-outform', 'DER',
                '-in', $in, '-signer', $cert, '-inkey', $key, '-out', "$in.p7");
    return OmadmTest::_slurp("$in.p7");
}

# The Body of a renewal RequestSecurityToken with a bare PKCS#10.
sub renewal_body {
    my ($csr) = @_;
    return '<wst:RequestSecurityToken>'
        . "<wst:TokenType>$OmadmTest::Enrollment::TOKEN_TYPE</wst:TokenType>"
        . "<wst:RequestType>$OmadmTest::Enrollment::RENEW</wst:RequestType>"
        . qq{<wsse:BinarySecurityToken ValueType="$OmadmTest::Enrollment::PKCS10">}
        . MIME::Base64::encode_base64($csr, '') . '</wsse:BinarySecurityToken>'
        . '</wst:RequestSecurityToken>';
}

sub renew {
    my ($client, $token, $type) = @_;
    return $client->enroll(csr => $token, context => { DeviceID => $DEVICE },
        request_type => $OmadmTest::Enrollment::RENEW,
        value_type => $type // $OmadmTest::Enrollment::PKCS7);
}

my ($key1, $cert1, $appsrv, $addr) = enroll();
my ($code1, $w1) = session($appsrv, $addr, $cert1, $key1, 1);
is($code1, '212', 'enrolled: the device logs in');
my $thumb1 = $t->get_device($DEVICE)->{enrollment}{certificate}{thumbprint};

# --- renewal ------------------------------------------------------------------------

my $dev1 = OmadmTest::Enrollment->new($t, cert => $cert1, key => $key1);
is($dev1->get_policies->{res}{status}, 200,
   'GetPolicies over TLS with the enrollment certificate, no UsernameToken: 200');
my $key2 = $e->rsa_key(2048);
my $csr2 = $e->csr(key => $key2, device_id => $DEVICE);
my $r = renew($dev1, renewal_token($csr2, $cert1, $key1));
is($r->{res}{status}, 200, 'Renew with a PKCS#7 signed by the current certificate: 200')
    or diag($fault->($r));
my $p = $e->provisioning($r);
my @c = OmadmTest::Enrollment::store_certs($p, 'My', 'User');
is(scalar @c, 1, '... the new certificate in My/User');
ok(!$p->{xpc}->exists("//characteristic[\@type='APPLICATION' or \@type='Root']"),
   '... and nothing else (MS-MDE2 3.5.4.1.1.2)');
my $cert2 = $e->write_cert('renewed', $c[0][1]);
ok($e->public_key_of($cert2, 1) eq $e->public_key_of($key2), '... for the new key');
like(`openssl x509 -in $cert2 -noout -subject`, qr/CN\s*=\s*$DEVICE$/m, '... and the same DeviceID');
my $en = $t->get_device($DEVICE)->{enrollment};
is($en->{certificate}{thumbprint}, $c[0][0], 'the enrollment records the new certificate');
isnt($en->{certificate}{thumbprint}, $thumb1, '... in place of the old one');
$w1->present($cert2, $key2)->new_session(2);
my $hs = OmadmTest::Device::hdr_status($w1->post($w1->package1)->{syncml} || {});
is($hs && $hs->{Data}, '212',
   'the OMA DM account is unchanged, the new certificate presented in TLS');

my $key3 = $e->rsa_key(2048);
my $csr3 = $e->csr(key => $key3, device_id => $DEVICE);
like($fault->(renew($dev1, renewal_token($csr3, $cert1, $key1))),
     qr/^s:Sender s:Authorization: this certificate is not the current one/,
     'the old certificate renews no more');
like($fault->(renew($e, renewal_token($csr3, $cert2, $key2))),
     qr/^s:Sender s:Authentication: renewal needs the device's current enrollment certificate/,
     'without a TLS client certificate: refused');
my $dev2 = OmadmTest::Enrollment->new($t, cert => $cert2, key => $key2);
like($fault->(renew($dev2, renewal_token($csr3, $cert1, $key1))),
     qr/s:CertificateRequest: the renewal token is not signed by the certificate the device presented/,
     'a token signed by another certificate than the one presented: refused');
my $r5 = renew($dev2, $csr3, $OmadmTest::Enrollment::PKCS10);
is($fault->($r5), '', 'a bare PKCS#10 with the current certificate presented: renewed');

# The current certificate as nginx would pass it, sent by someone else
# straight to the backend: without the contract key it is not believed.
my $current = $e->write_cert('current',
    (OmadmTest::Enrollment::store_certs($e->provisioning($r5), 'My', 'User'))[0][1]);
my $direct = 'http://127.0.0.1:' . $t->api_port . '/EnrollmentServer/Enrollment.svc';
my $forged = OmadmTest::Enrollment::read_answer(HTTP::Tiny->new->post($direct, {
    headers => { 'Content-Type' => 'application/soap+xml; charset=utf-8',
                 'X-Client-Cert' => OmadmTest::uri_escape(OmadmTest::_slurp($current)),
                 'X-Client-Verify' => 'SUCCESS' },
    content => $e->envelope(action => $OmadmTest::Enrollment::ACTION{enroll},
        to => $direct, body => renewal_body($csr3)) }));
like($fault->($forged), qr/s:Authentication: renewal needs/,
     'a forged client-certificate header is not believed');

# --- re-enrollment -----------------------------------------------------------------

my ($key4, $cert4, $appsrv4) = enroll();
isnt($appsrv4->{AAUTHSECRET}, $appsrv->{AAUTHSECRET}, 're-enrollment: a new OMA DM secret');
is(login($appsrv, $addr, $cert4, $key4, 3), '401', '... the old credentials are refused');
my ($code, $w) = session($appsrv4, $addr, $cert4, $key4, 4);
is($code, '212', '... the new ones log in');
is($t->get_device($DEVICE)->{enrollment}{state}, 'enrolled', '... enrolled');

$w->new_session(5);
my $res = $w->post($w->package1(alerts => [ OmadmTest::WindowsDevice::unenrollment_alert() ]));
is($t->get_device($DEVICE)->{enrollment}{state}, 'unenrolled', 'the user unenrolls');
my ($key6, $cert6, $appsrv6) = enroll();
is($t->get_device($DEVICE)->{enrollment}{state}, 'enrolled', 'and enrolls again');
is(login($appsrv6, $addr, $cert6, $key6, 6), '212', '... with a new account that logs in');
is(login($appsrv4, $addr, $cert6, $key6, 7), '401', '... while the one before is refused');

$t->check_error_log;
done_testing;
