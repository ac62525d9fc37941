#!/usr/bin/perl
# POST /api/v1/devices:batch end to end through real omadm-backend (and
# nginx, for a device registered by a batch logging in):
#
# * one result per item, in order: "created", "exists" (stored before, or
#   earlier in the same batch) or "error" with the very message a single
#   POST /api/v1/devices gives for that object;
# * what it stores is what a single POST stores (GET shows it, the device
#   logs in with MD5 and Basic); a re-sent batch answers "exists";
# * 10,000 devices are accepted in one request, 10,001 refused with 400 and
#   nothing stored; a body that is not a JSON array is a 400;
# * the operator token is required: none or a wrong one is 401, a viewer's
#   403, and nothing is stored.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use OmadmTest;
use OmadmTest::Device;

my $t = OmadmTest->new;
my $dir = $t->dir;
my $viewer = OmadmTest::_random_hex();
OmadmTest::_write("$dir/viewer.token", $viewer, 0600);
$t->{backend_args} = ['--viewer-token-file', "$dir/viewer.token"];
$t->start;

sub esc { OmadmTest::uri_escape($_[0]) }
sub hdr_code { OmadmTest::Device::hdr_status($_[0]{syncml})->{Data} }
sub batch { $t->api(POST => '/devices:batch', $_[0]) }

# raw body, any token
sub post_raw {
    my ($body, $token) = @_;
    my $r = OmadmTest::NoDelay->new(timeout => 30)->request(POST =>
        $t->api_url('/devices:batch'), {
            headers => { 'Content-Type' => 'application/json',
                         (defined $token ? (Authorization => "Bearer $token")
                                         : ()) },
            content => $body });
    return ($r->{status}, eval { decode_json($r->{content}) } // $r->{content});
}

# the error a single POST gives for this body
sub single_error {
    my ($body) = @_;
    my ($st, $b) = $t->api(POST => '/devices', $body);
    is($st, 400, "single POST refuses it too");
    return ref $b ? $b->{error} : $b;
}

# --- created, exists, per-item errors ------------------------------------------

$t->register_device('IMEI:before', 'ub', 'pb');
my @bad = (
    { device_id => 'IMEI:nouser', password => 'p' },
    { device_id => 'I' x 257, username => 'u', password => 'p' },
    { device_id => "IMEI:ctl\x01", username => 'u', password => 'p' },
    { device_id => 'IMEI:halfserver', username => 'u', password => 'p',
      server_username => 'srv' },
    { device_id => 'IMEI:nopass', username => 'u', password => '' },
);
my @items = (
    { device_id => 'IMEI:b1', username => 'u1', password => 'secret1' },
    { device_id => 'IMEI:before', username => 'other', password => 'x' },
    $bad[0],
    { device_id => 'IMEI:b2', username => 'u2', password => 'secret2',
      server_username => 'srv2', server_password => 'ssecret2' },
    { device_id => 'IMEI:b1', username => 'again', password => 'y' },
    $bad[1], $bad[2], $bad[3], $bad[4],
    'not an object',
    [ 'IMEI:b3' ],
);
my ($st, $res) = batch(\@items);
is($st, 200, 'a mixed batch: 200');
is(ref $res, 'ARRAY', '... an array');
is(scalar @$res, scalar @items, '... one result per item');
is_deeply($res->[0], { device_id => 'IMEI:b1', result => 'created' },
          'new device: created');
is_deeply($res->[1], { device_id => 'IMEI:before', result => 'exists' },
          'registered before: exists');
is_deeply($res->[3], { device_id => 'IMEI:b2', result => 'created' },
          'with server credentials: created');
is_deeply($res->[4], { device_id => 'IMEI:b1', result => 'exists' },
          'earlier in the same batch: exists');
for my $i (0 .. $#bad) {
    my $r = $res->[ (2, 5, 6, 7, 8)[$i] ];
    my $want = single_error($bad[$i]);
    is($r->{result}, 'error', "bad item $i: error");
    is($r->{error}, $want, "... with the single POST's message: $want");
    is($r->{device_id}, $bad[$i]{device_id}, '... naming its device_id');
}
is_deeply($res->[9], { device_id => undef, result => 'error',
                       error => 'body must be a JSON object' },
          'a string item: error');
is($res->[10]{result}, 'error', 'an array item: error');

# --- what was stored ------------------------------------------------------------

my ($gst, $d) = $t->api(GET => '/devices/' . esc('IMEI:b1'));
is($gst, 200, 'GET finds the created device');
is($d->{username}, 'u1', '... with the first item\'s user name, not the'
                         . ' duplicate\'s');
($gst, $d) = $t->api(GET => '/devices/' . esc('IMEI:before'));
is($d->{username}, 'ub', 'the existing device is unchanged');
($gst, $d) = $t->api(GET => '/devices/' . esc('IMEI:b2'));
is($d->{server_username}, 'srv2', 'server_username stored');
for my $b (@bad) {
    ($gst) = $t->api(GET => '/devices/' . esc($b->{device_id}));
    is($gst, 404, "refused item not stored: $b->{device_id}")
        if length $b->{device_id} < 100;
}
($gst) = $t->api(GET => '/devices/' . esc('IMEI:b3'));
is($gst, 404, 'nothing from the array item');

# The stored credentials work: MD5 and Basic logins.
for my $auth (qw(md5 basic)) {
    my $dev = $t->device(id => 'IMEI:b1', user => 'u1', pass => 'secret1',
                         auth => $auth, register => 0);
    # MD5: the first message without Cred fetches the nonce
    $dev->post($dev->package1(cred => undef)) if $auth eq 'md5';
    my $r = $dev->post($dev->package1);
    is(hdr_code($r), '212', "a batch-registered device logs in ($auth)");
}
my $wrong = $t->device(id => 'IMEI:b1', user => 'u1', pass => 'wrong',
                       auth => 'basic', register => 0);
isnt(hdr_code($wrong->post($wrong->package1)), '212',
     '... and not with a wrong password');

# Re-sent: everything that was stored answers exists.
($st, $res) = batch([ @items[0, 3] ]);
is_deeply($res, [ { device_id => 'IMEI:b1', result => 'exists' },
                  { device_id => 'IMEI:b2', result => 'exists' } ],
          're-sent batch: exists');

($st, $res) = batch([]);
is($st, 200, 'an empty batch: 200');
is_deeply($res, [], '... no results');

# --- bodies that are not a batch --------------------------------------------------

for my $case (
    [ 'an object', '{"device_id":"IMEI:o","username":"u","password":"p"}',
      qr/array/ ],
    [ 'a string', '"IMEI:s"', qr/array/ ],
    [ 'not JSON', '[{"device_id":', qr/not valid JSON/ ],
    [ 'empty', '', qr/not valid JSON/ ],
) {
    my ($name, $body, $re) = @$case;
    my ($s, $b) = post_raw($body, $t->{token});
    is($s, 400, "$name: 400");
    like(ref $b ? $b->{error} : $b, $re, '... saying why');
}
($gst) = $t->api(GET => '/devices/' . esc('IMEI:o'));
is($gst, 404, 'the object body stored nothing');

# --- the operator token ------------------------------------------------------------

my $one = encode_json([ { device_id => 'IMEI:tok', username => 'u',
                          password => 'p' } ]);
($st) = post_raw($one, undef);
is($st, 401, 'no token: 401');
($st) = post_raw($one, 'wrong' . $t->{token});
is($st, 401, 'a wrong token: 401');
($st) = post_raw($one, $viewer);
is($st, 403, 'a viewer token: 403');
($gst) = $t->api(GET => '/devices/' . esc('IMEI:tok'));
is($gst, 404, '... nothing stored');

# --- the limit: 10,000 devices ------------------------------------------------------

sub many {
    my ($prefix, $n) = @_;
    return [ map { { device_id => "$prefix-$_", username => "u$_",
                     password => "p$_" } } 0 .. $n - 1 ];
}
($st, $res) = batch(many('over', 10_001));
is($st, 400, '10,001 devices: 400');
like($res->{error}, qr/at most 10000 devices/, '... naming the limit');
($gst) = $t->api(GET => '/devices/over-0');
is($gst, 404, '... and nothing stored');

($st, $res) = batch(many('full', 10_000));
is($st, 200, '10,000 devices: 200');
is(scalar @$res, 10_000, '... 10,000 results');
is((grep { $_->{result} eq 'created' } @$res), 10_000, '... all created');
is($res->[9_999]{device_id}, 'full-9999', '... in order');
($gst, $d) = $t->api(GET => '/devices/full-9999');
is($gst, 200, 'the last one is stored');
is($d->{username}, 'u9999', '... as sent');
my ($sst, $stats) = $t->api(GET => '/stats');
is($stats->{devices}, 10_000 + 3, '/stats counts them all')
    or diag(explain $stats);

$t->check_error_log;
done_testing;
