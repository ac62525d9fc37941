#!/usr/bin/perl
# The device endpoint's certificate verifies against the generated CA
# (scripts/gen-certs.sh), for 127.0.0.1 and localhost, and not without it.
#
# With an enterprise PKI nothing in the module changes, only nginx's TLS
# directives in the server block:
#     ssl_certificate     /etc/ssl/omadm/fullchain.pem;  # server cert, then
#                                                        # the intermediates
#     ssl_certificate_key /etc/ssl/omadm/server.key;
# Devices then trust the enterprise root CA they already hold (Windows:
# the machine's Trusted Root store; OMA devices: the DMAcc/bootstrap CA).
# To require TLS client certificates issued by that CA as well:
#     ssl_client_certificate /etc/ssl/omadm/enterprise-root.pem;
#     ssl_verify_client on;   # or optional, with $ssl_client_verify checks
#
# The second half checks exactly that with a small enterprise PKI made here
# by the openssl CLI: a root, an issuing intermediate for the server
# certificate (fullchain.pem = server + intermediate), device certificates
# from the root, and a foreign CA with a device certificate of its own.  A
# second server (own backend, own nginx) runs with the directives above:
# a device with the root's certificate completes package 1; one without a
# certificate or with the foreign one gets nginx's 400 and the backend
# never sees a contract call; a client trusting only the root verifies the
# server chain.
#
# Last, the key types of gen-certs.sh: ECDSA P-256 by default (ECDHE-ECDSA
# suites only), RSA-2048 with OMADM_SERVER_KEY=rsa, served by a third
# server to a device session.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use HTTP::Tiny;
use IO::Socket::SSL;
use POSIX ();
use Time::HiRes qw(sleep);
use OmadmTest;
use OmadmTest::Device;

my $t = OmadmTest->new->start;

sub handshake {
    my (%o) = @_;
    my $s = IO::Socket::SSL->new(PeerAddr => '127.0.0.1',
        PeerPort => $t->https_port, Timeout => 5,
        SSL_verify_mode => SSL_VERIFY_PEER, %o);
    return $s ? 'ok' : "failed: $SSL_ERROR";
}

is(handshake(SSL_ca_file => $t->ca_file, SSL_verifycn_scheme => 'http',
             SSL_verifycn_name => '127.0.0.1'),
   'ok', 'handshake verified with the CA file (IP 127.0.0.1)');
is(handshake(SSL_ca_file => $t->ca_file, SSL_verifycn_scheme => 'http',
             SSL_verifycn_name => 'localhost', SSL_hostname => 'localhost'),
   'ok', 'and for the name localhost');
like(handshake(SSL_ca_path => '/etc/ssl/certs'), qr/^failed/,
     'without the CA file the handshake fails');
like(handshake(SSL_ca_file => $t->ca_file, SSL_verifycn_scheme => 'http',
               SSL_verifycn_name => 'dm.example.com'), qr/^failed/,
     'a name not in the certificate fails');

my $res = $t->https->post($t->device_url, {
    headers => { 'Content-Type' => 'application/vnd.syncml.dm+xml' },
    content => 'x' });
is($res->{status}, 400, 'HTTP::Tiny with verify_SSL reaches the endpoint');

# --- an enterprise PKI and TLS client authentication -----------------------

my $pki = $t->dir . '/enterprise';
mkdir $pki or die "$pki: $!\n";

sub openssl { $t->openssl(@_) }

OmadmTest::_write("$pki/ext.cnf", <<'EXT');
[issuing_ca]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[server]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
authorityKeyIdentifier = keyid:always
[client]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid:always
EXT

my @EC = ('-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
          '-nodes', '-sha256');
my $serial = 1;

# a self-signed root CA
sub root_ca {
    my ($name, $cn) = @_;
    openssl('req', '-x509', '-new', @EC, '-days', 2, '-subj', "/CN=$cn",
        '-addext', 'basicConstraints=critical,CA:TRUE',
        '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
        '-keyout', "$pki/$name.key", '-out', "$pki/$name.crt");
}

# a key and a certificate for it, issued by $ca with the $ext profile
sub issue {
    my ($name, $cn, $ca, $ext) = @_;
    openssl('req', '-new', @EC, '-subj', "/CN=$cn",
        '-keyout', "$pki/$name.key", '-out', "$pki/$name.csr");
    openssl('x509', '-req', '-in', "$pki/$name.csr", '-CA', "$pki/$ca.crt",
        '-CAkey', "$pki/$ca.key", '-set_serial', $serial++, '-days', 2,
        '-sha256', '-extfile', "$pki/ext.cnf", '-extensions', $ext,
        '-out', "$pki/$name.crt");
}

root_ca('root', 'Example Enterprise Root CA');
issue('issuing', 'Example Enterprise Issuing CA', 'root', 'issuing_ca');
issue('server', 'localhost', 'issuing', 'server');
issue('device', 'ent-dev-1', 'root', 'client');
root_ca('foreign', 'Some Other CA');
issue('foreign-device', 'ent-dev-3', 'foreign', 'client');
OmadmTest::_write("$pki/fullchain.pem", join '',
    map { OmadmTest::_slurp("$pki/$_.crt") } qw(server issuing));

my $e = OmadmTest->new(
    ssl_certificate => "$pki/fullchain.pem",
    ssl_certificate_key => "$pki/server.key",
    server_conf => "        ssl_client_certificate $pki/root.crt;\n"
                 . "        ssl_verify_client on;\n",
    error_log_level => 'info',    # nginx logs why a client was refused
)->start;

# contract calls (auth, nonce, exchange) the enterprise backend has logged
sub contract_calls {
    sleep 0.2;    # the backend may log just after it answered
    return scalar(() = $e->backend_log =~ m{POST /contract/\w+}g);
}

# A device of the enterprise server that trusts only the enterprise root
# and presents $cert (a name in $pki) as its TLS client certificate.
sub enterprise_device {
    my ($cert, %o) = @_;
    my $d = $e->device(ca => "$pki/root.crt", %o);
    # OmadmTest::Device has no client-certificate option: give it a client
    # like its own, plus the certificate
    $d->{http} = HTTP::Tiny->new(timeout => 5, keep_alive => 0,
        verify_SSL => 1, SSL_options => {
            SSL_ca_file => "$pki/root.crt",
            ($cert ? (SSL_cert_file => "$pki/$cert.crt",
                      SSL_key_file => "$pki/$cert.key") : ()) });
    return $d;
}

sub hdr_code {
    my ($res) = @_;
    my $s = $res->{syncml} && OmadmTest::Device::hdr_status($res->{syncml});
    return $s ? $s->{Data} : "HTTP $res->{status}";
}

# (1) a device certificate from the enterprise root: package 1 reaches the
# module (407 challenge, then 212 with MD5)
my $dev = enterprise_device('device', id => 'ent-dev-1', user => 'e1',
                            pass => 'p1');
my $calls = contract_calls();
is(hdr_code($dev->post($dev->package1(cred => undef))), '407',
   'client certificate from the enterprise root: package 1 -> 407');
is(hdr_code($dev->post($dev->package1)), '212',
   'and with MD5 credentials -> 212');
my $after = contract_calls();
cmp_ok($after, '>', $calls, 'the module asked the backend');

# (2) no client certificate: nginx answers 400 before any location runs
my $bare = enterprise_device(undef, id => 'ent-dev-2', user => 'e2',
                             pass => 'p2');
$res = $bare->post($bare->package1(cred => 'basic'));
is($res->{status}, 400, 'no client certificate -> HTTP 400');
like($res->{content}, qr/No required SSL certificate was sent/,
     'nginx: "No required SSL certificate was sent"');
is(contract_calls(), $after, 'no contract call for it');
like($e->error_log, qr/client sent no required SSL certificate/,
     'error log says why (info)');

# (3) a client certificate from another CA
my $stranger = enterprise_device('foreign-device', id => 'ent-dev-3',
                                 user => 'e3', pass => 'p3');
$res = $stranger->post($stranger->package1(cred => 'basic'));
is($res->{status}, 400, 'client certificate from another CA -> HTTP 400');
like($res->{content}, qr/The SSL certificate error/,
     'nginx: "The SSL certificate error"');
is(contract_calls(), $after, 'no contract call for it');
like($e->error_log, qr/client SSL certificate verify error/,
     'error log says why (info)');

# (4) the server chain (server + intermediate) verifies for a client that
# trusts only the root, so nginx sends the intermediate
my $s = IO::Socket::SSL->new(PeerAddr => '127.0.0.1',
    PeerPort => $e->https_port, Timeout => 5,
    SSL_verify_mode => SSL_VERIFY_PEER, SSL_ca_file => "$pki/root.crt",
    SSL_verifycn_scheme => 'http', SSL_verifycn_name => '127.0.0.1',
    SSL_cert_file => "$pki/device.crt", SSL_key_file => "$pki/device.key");
ok($s, 'enterprise chain verified by a client trusting only the root')
    or diag($SSL_ERROR);
is_deeply([ $s ? map { Net::SSLeay::X509_NAME_oneline(
                           Net::SSLeay::X509_get_subject_name($_)) }
                     $s->peer_certificates : () ],
          [ '/CN=localhost', '/CN=Example Enterprise Issuing CA' ],
          'nginx sends the server certificate and the intermediate');
close $s if $s;
my $other = IO::Socket::SSL->new(PeerAddr => '127.0.0.1',
    PeerPort => $e->https_port, Timeout => 5,
    SSL_verify_mode => SSL_VERIFY_PEER, SSL_ca_file => $t->ca_file);
ok(!$other, 'a client trusting only the gen-certs CA is refused');

# (5) gen-certs.sh makes an ECDSA P-256 server key; OMADM_SERVER_KEY=rsa
# an RSA-2048 one, which nginx serves as well (ECDHE-RSA suites)
sub x509_text {    # certificate file: openssl x509 -text
    my ($file) = @_;
    return scalar qx{openssl x509 -in '$file' -noout -text 2>/dev/null};
}
sub tls12_with {    # port, CA file, cipher suites: "ok <cipher>" or "failed"
    my ($port, $ca, $ciphers) = @_;
    my $c = IO::Socket::SSL->new(PeerAddr => '127.0.0.1', PeerPort => $port,
        Timeout => 5, SSL_verify_mode => SSL_VERIFY_PEER, SSL_ca_file => $ca,
        SSL_verifycn_scheme => 'http', SSL_verifycn_name => '127.0.0.1',
        SSL_version => 'TLSv1_2', SSL_cipher_list => $ciphers);
    return $c ? 'ok ' . $c->get_cipher : 'failed';
}
like(x509_text($t->dir . '/server.crt'),
     qr/Public Key Algorithm: id-ecPublicKey.*NIST CURVE: P-256/s,
     'gen-certs.sh: an ECDSA P-256 server key by default');
is(tls12_with($t->https_port, $t->ca_file, 'ECDHE-ECDSA-AES128-GCM-SHA256'),
   'ok ECDHE-ECDSA-AES128-GCM-SHA256', '... served with ECDHE-ECDSA');
is(tls12_with($t->https_port, $t->ca_file, 'ECDHE-RSA-AES128-GCM-SHA256'),
   'failed', '... and not with an RSA suite');
my $rsa = $t->dir . '/rsa';
{
    local $ENV{OMADM_SERVER_KEY} = 'rsa';
    system("$OmadmTest::ROOT/scripts/gen-certs.sh", $rsa) == 0
        or die "gen-certs.sh failed\n";
}
like(x509_text("$rsa/server.crt"),
     qr/Public Key Algorithm: rsaEncryption.*\(2048 bit\)/s,
     'OMADM_SERVER_KEY=rsa: an RSA-2048 server key');
my $r = OmadmTest->new(ssl_certificate => "$rsa/server.crt",
                       ssl_certificate_key => "$rsa/server.key")->start;
is(tls12_with($r->https_port, "$rsa/ca.crt", 'ECDHE-RSA-AES128-GCM-SHA256'),
   'ok ECDHE-RSA-AES128-GCM-SHA256', '... served with ECDHE-RSA');
my $rd = $r->device(ca => "$rsa/ca.crt", id => 'rsa-dev-1', user => 'r1', pass => 'p1');
is(hdr_code($rd->post($rd->package1(cred => undef))), '407',
   '... and a device session runs over it: 407');
is(hdr_code($rd->post($rd->package1)), '212', '... 212');

$t->check_error_log;
$e->check_error_log;
$r->check_error_log;
done_testing;
