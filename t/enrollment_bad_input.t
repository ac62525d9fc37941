#!/usr/bin/perl
# Bad input to each enrollment service gets a SOAP fault with the right
# subcode and a reason a person can act on (or nginx's 413 for a huge
# body), is logged without secrets, and leaves the backend serving: not
# XML, a DOCTYPE, SOAP 1.1, the wrong Action, no MessageID, no
# UsernameToken, a wrong password, an unknown user, sign-ins throttled
# per user and address, tokens that are not base64 or not a CSR, a
# missing DeviceID, a device id the operator registered.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use HTTP::Tiny;
use OmadmTest;
use OmadmTest::Enrollment;

my $t = OmadmTest::Enrollment::server();
my $e = OmadmTest::Enrollment->new($t);
my ($USER, $PASSWORD) = ('carol@example.com', 'carols-password');
$t->api(POST => '/enrollment-users', { username => $USER, password => $PASSWORD });
my %A = %OmadmTest::Enrollment::ACTION;
my %SVC = (discover => 'Discovery.svc', policies => 'Policy.svc', enroll => 'Enrollment.svc');
my $fault = \&OmadmTest::Enrollment::fault_of;

sub refused {
    my ($r, $status, $re, $name) = @_;
    is($r->{res}{status}, $status, "$name: HTTP $status");
    like($fault->($r), $re, "$name: " . "fault") or diag($r->{res}{content});
}

my $csr = $e->csr(key => $e->rsa_key(2048), device_id => 'X');
my %good = (
    discover => sub { $e->discover(@_) },
    policies => sub { $e->get_policies(user => $USER, password => $PASSWORD, @_) },
    enroll   => sub { $e->enroll(user => $USER, password => $PASSWORD, csr => $csr,
                                 context => { DeviceID => 'BADINPUT000000000000000000000001' }, @_) },
);

for my $op (qw(discover policies enroll)) {
    my $svc = $SVC{$op};
    refused($e->post($svc, 'this is not XML'), 400,
            qr/^s:Sender s:MessageFormat: the request is not a SOAP 1\.2 message: malformed XML/,
            "$svc, not XML");
    my $doctype = $e->envelope(action => $A{$op}, to => $e->url($svc),
                               body => '<x>&boom;</x>');
    refused($e->post($svc, qq{<!DOCTYPE s:Envelope [<!ENTITY boom "boom">]>$doctype}), 400,
            qr/s:MessageFormat: .*DOCTYPE not allowed/, "$svc, a DOCTYPE");
    (my $soap11 = $doctype) =~ s{http://www\.w3\.org/2003/05/soap-envelope}{http://schemas.xmlsoap.org/soap/envelope/};
    $soap11 =~ s/&boom;//;
    refused($e->post($svc, $soap11), 400, qr/s:MessageFormat: .*not a SOAP 1\.2 Envelope/,
            "$svc, SOAP 1.1");
    my $other = $op eq 'discover' ? 'policies' : 'discover';
    refused($good{$op}->(action => $A{$other}), 400,
            qr/^s:Sender a:ActionNotSupported: this service answers the action \Q$A{$op}\E/,
            "$svc, the wrong Action");
    refused($good{$op}->(message_id => undef), 400,
            qr/s:MessageFormat: the request has no a:MessageID/, "$svc, no MessageID");
    my $huge = $e->envelope(action => $A{$op}, to => $e->url($svc),
                            body => '<x>' . ('A' x (100 * 1024)) . '</x>');
    is($e->post($svc, $huge)->{res}{status}, 413, "$svc, a 100 KiB body: nginx's 413");
    # straight to the backend, which has its own limit
    my $direct = OmadmTest::Enrollment::read_answer(HTTP::Tiny->new->post(
        'http://127.0.0.1:' . $t->api_port . "/EnrollmentServer/$svc",
        { headers => { 'Content-Type' => 'application/soap+xml' }, content => $huge }));
    refused($direct, 413, qr/s:MessageFormat: the request is larger than 64 KiB/,
            "$svc, a 100 KiB body straight to the backend");
}

# --- signing in ------------------------------------------------------------------

for my $op (qw(policies enroll)) {
    my $svc = $SVC{$op};
    refused($good{$op}->(user => undef), 400,
            qr/^s:Sender a:InvalidSecurity: sign in with an enrollment user/, "$svc, no UsernameToken");
    refused($good{$op}->(password => 'not-carols-password'), 400,
            qr/^s:Sender s:Authentication: wrong user name or password$/, "$svc, a wrong password");
    refused($good{$op}->(user => 'mallory@example.com'), 400,
            qr/^s:Sender s:Authentication: wrong user name or password$/,
            "$svc, an unknown user (the same answer)");
}
is($good{policies}->(user => uc $USER)->{res}{status}, 200,
   'the user name in another case signs in (e-mail addresses)');

my $dave = 'dave@example.com';
$t->api(POST => '/enrollment-users', { username => $dave, password => 'daves-password' });
for (1 .. 5) { $good{policies}->(user => $dave, password => "guess $_") }
refused($good{policies}->(user => $dave, password => 'daves-password'), 400,
        qr/s:Authentication: too many failed sign-ins for this user; try again in \d+ seconds/,
        'after five wrong passwords even the right one is throttled');
my $other = OmadmTest::Enrollment->new($t);
$other->{http} = HTTP::Tiny->new(timeout => 20, verify_SSL => 1, local_address => '127.0.0.2',
                                 SSL_options => { SSL_ca_file => $t->ca_file });
is($other->get_policies(user => $dave, password => 'daves-password')->{res}{status}, 200,
   '... from that address only: the user signs in from another');

# --- the enrollment request -------------------------------------------------------

my $not_csr = $e->enroll(user => $USER, password => $PASSWORD, csr => 'x',
                         context => { DeviceID => 'A1' });
my $env = $e->envelope(action => $A{enroll}, to => $e->url('Enrollment.svc'),
    security => OmadmTest::Enrollment::username_token($USER, $PASSWORD),
    body => '<wst:RequestSecurityToken><wst:TokenType>' . $OmadmTest::Enrollment::TOKEN_TYPE
        . "</wst:TokenType><wst:RequestType>$OmadmTest::Enrollment::ISSUE</wst:RequestType>"
        . qq{<wsse:BinarySecurityToken ValueType="$OmadmTest::Enrollment::PKCS10">not*base64!</wsse:BinarySecurityToken>}
        . '</wst:RequestSecurityToken>');
refused($e->post('Enrollment.svc', $env), 400,
        qr/s:MessageFormat: the BinarySecurityToken is not base64/, 'a token that is not base64');
refused($not_csr, 400, qr/s:CertificateRequest: the BinarySecurityToken is not a DER PKCS#10/,
        'a token that is not a certificate request');
refused($good{enroll}->(context => { DeviceID => undef }), 400,
        qr/s:MessageFormat: the DeviceID context item must be/, 'no DeviceID');
refused($good{enroll}->(context => { DeviceID => 'has space' }), 400,
        qr/s:MessageFormat: the DeviceID context item must be/, 'a DeviceID that cannot be a LocURI');
$t->register_device('OPERATOR00000000000000000000001', 'op', 'op-secret');
refused($good{enroll}->(context => { DeviceID => 'OPERATOR00000000000000000000001' }), 400,
        qr/s:Authorization: the device id OPERATOR00000000000000000000001 is registered through the operator API/,
        "a device the operator registered is not taken over");
is($t->get_device('OPERATOR00000000000000000000001')->{username}, 'op', '... it keeps its account');
refused($e->discover(auth_policies => ['Federated']), 400,
        qr/s:Authentication: this server signs users in with OnPremise authentication only/,
        'Discover without OnPremise');

# --- still serving, nothing secret in the log ----------------------------------------

is($e->discover->{res}{status}, 200, 'the backend still serves discovery');
is($good{enroll}->()->{res}{status}, 200, '... and enrollment');
my $log = $t->backend_log;
like($log, qr/enrollment: \S+ refused \(s:Authentication\) for 127\.0\.0\.1: wrong user name or password/,
     'refusals are logged with the client address and the reason');
ok(index($log, 'guess 3') < 0 && index($log, 'not-carols-password') < 0
   && index($log, $PASSWORD) < 0, '... never with a password');

$t->check_error_log;
done_testing;
