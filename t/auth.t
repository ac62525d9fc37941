#!/usr/bin/perl
# Client authentication: Basic, MD5 with a wrong password or a stale nonce,
# unknown devices, per-device throttling of failed attempts, and a
# Basic-only location's challenge.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use MIME::Base64 qw(encode_base64);
use OmadmTest;
use OmadmTest::Device;

my $t = OmadmTest->new(locations => {
    '/omadm'       => { omadm_auth_failures => '3 60s' },
    '/omadm-basic' => { omadm_auth => 'basic', omadm_challenge => 'basic' },
})->start;

sub hdr { OmadmTest::Device::hdr_status($_[0]{syncml}) // {} }
sub code { hdr($_[0])->{Data} // "HTTP $_[0]{status}" }
sub chal_nonce { my $c = hdr($_[0])->{chal}; $c ? $c->{NextNonce} : undef }
sub random_nonce { encode_base64(join('', map { chr rand 256 } 1 .. 16), '') }

# Basic
my $basic = $t->device(id => 'dev-basic', user => 'ub', pass => 'pb',
                       auth => 'basic');
is(code($basic->post($basic->package1)), '212', 'Basic Cred -> 212');

# stale nonce: 401 with a new one, then success with it in the same session
my $stale = $t->device(id => 'dev-stale', user => 'us', pass => 'ps',
                       nonce => random_nonce());
my $old = $stale->nonce;
my $res = $stale->post($stale->package1);
is(code($res), '401', 'stale nonce -> 401');
my $fresh = chal_nonce($res);
ok($fresh && $fresh ne $old, '401 carries a new nonce');
is(code($stale->post($stale->package1)), '212',
   'retry with the new nonce in the same session -> 212');

# unknown device
my $ghost = $t->device(id => 'dev-ghost', user => 'ug', pass => 'pg',
                       register => 0, nonce => random_nonce());
$res = $ghost->post($ghost->package1);
is(code($res), '401', 'unknown device, MD5 -> 401');
ok(chal_nonce($res), 'with a challenge');
$ghost->new_session;
is(code($ghost->post($ghost->package1(cred => 'basic'))), '401',
   'unknown device, Basic -> 401');

# wrong password: 401 with the nonce the device holds (a failed login uses
# nothing up, and an outsider's must not change what the device knows);
# after 3 failures in the window even the right password is refused from
# that address, other devices unaffected
my $w = $t->device(id => 'dev-wrong', user => 'uw', pass => 'pw');
$res = $w->post($w->package1(cred => undef));
is(code($res), '407', 'no Cred -> 407');
my @nonces = (chal_nonce($res));
for my $n (1 .. 3) {
    $w->new_session;
    $res = $w->post($w->package1(password => 'wrong'));
    is(code($res), '401', "wrong password, attempt $n -> 401");
    push @nonces, chal_nonce($res);
}
ok(defined $nonces[0] && !grep({ !defined $_ || $_ ne $nonces[0] } @nonces),
   'every challenge carries the one unused nonce');
$w->new_session;
is(code($w->post($w->package1)), '401',
   'right password refused while throttled');
$t->access_log_like(qr/dev=dev-wrong .*auth=throttled/,
     'access log shows auth=throttled');

my $other = $t->device(id => 'dev-other', user => 'uo', pass => 'po');
$res = $other->post($other->package1(cred => undef));
is(code($res), '407', 'another device: challenged');
is(code($other->post($other->package1)), '212', 'another device: not throttled');

# Basic-only location
my $b = $t->device(id => 'dev-b', user => 'u2', pass => 'p2', auth => 'basic',
                   path => '/omadm-basic');
$res = $b->post($b->package1(cred => undef));
is(code($res), '407', 'Basic-only location: no Cred -> 407');
my $chal = hdr($res)->{chal} || {};
is($chal->{Type}, 'syncml:auth-basic', 'challenge is syncml:auth-basic');
is($chal->{Format}, 'b64', 'challenge format b64');
ok(!defined $chal->{NextNonce}, 'no NextNonce for Basic');
is(code($b->post($b->package1)), '212', 'Basic Cred accepted there');

$t->check_error_log;
done_testing;
