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

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::SSL;
use OmadmTest;

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

$t->check_error_log;
done_testing;
